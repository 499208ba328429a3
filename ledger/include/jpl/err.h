/*
 * jpledger error codes. One enum for the whole project: the same numbers travel on the wire
 * (response envelopes) and are the `jpledger` exit codes, so they never change meaning.
 * A jpl_error carries the code plus a human-readable detail naming what was wrong and where.
 */
#ifndef JPL_ERR_H
#define JPL_ERR_H

#include <stddef.h>

typedef enum {
    JPL_OK = 0,
    /* 1 is left to the shell for "failed in some unforeseen way". */
    JPL_ERR_USAGE = 2,          /* bad command line */
    JPL_ERR_BAD_INPUT = 3,      /* malformed input: does not decode, bad field, bad NIP */
    JPL_ERR_TOO_LARGE = 4,      /* over a size limit */
    JPL_ERR_BAD_SIGNATURE = 5,  /* Ed25519 signature does not verify */
    JPL_ERR_UNKNOWN_KEY = 6,    /* signer key is not registered */
    JPL_ERR_KEY_REVOKED = 7,    /* signer key was revoked before this position */
    JPL_ERR_FORBIDDEN = 8,      /* signer's role may not issue this event / read this */
    JPL_ERR_CONFLICT = 9,       /* same event id, other bytes */
    JPL_ERR_VERSION = 10,       /* expected_version does not match the stream */
    JPL_ERR_NO_EMPLOYEE = 11,   /* event about a NIP that is not registered (or exited) */
    JPL_ERR_BAD_REFERENCE = 12, /* referenced event missing, wrong type, other employee, revoked */
    JPL_ERR_DOUBLE_COUNT = 13,  /* completion already recognized */
    JPL_ERR_OVER_JP = 14,       /* recognition above the completion's JP */
    JPL_ERR_RULE = 15,          /* any other transition rule */
    JPL_ERR_NOT_FOUND = 16,     /* asked-for thing does not exist */
    JPL_ERR_EXISTS = 17,        /* creating something that already exists */
    JPL_ERR_CORRUPT = 18,       /* stored data fails a check */
    JPL_ERR_IO = 19,            /* file, database or network failure */
    JPL_ERR_INTERNAL = 20,      /* a bug */
    JPL_ERR_UNAUTHORIZED = 21,  /* read needs a proven key */
    JPL_ERR__COUNT
} jpl_err;

#define JPL_ERRMSG_MAX 512

/* A code plus detail. Zero-initialise; jpl_fail() fills it. */
typedef struct {
    jpl_err code;
    char msg[JPL_ERRMSG_MAX];
} jpl_error;

/* Short stable name of a code ("bad_signature"); never NULL. */
const char *jpl_strerror(jpl_err code);

/* Sets *e (if not NULL) to code and a printf-style message; returns code for `return
 * jpl_fail(...)`. */
jpl_err jpl_fail(jpl_error *e, jpl_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the existing message of e with printf-style context; keeps the code; returns it. */
jpl_err jpl_error_prefix(jpl_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
