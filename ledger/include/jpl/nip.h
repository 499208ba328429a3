/*
 * NIP (Nomor Induk Pegawai): the 18-digit identifier of an Indonesian civil servant.
 *
 *   YYYYMMDD  birth date (a real calendar date, year >= 1900)
 *   YYYYMM    first appointment (month 01-12; at least 18 years after the birth month; not after
 *             the current month when the caller gives one)
 *   S         sex: 1 male, 2 female
 *   NNN       sequence 001-999
 *
 * e.g. 199005152015031001: born 15 May 1990, appointed March 2015, male, sequence 001.
 * Only the structure and the dates are checked; whether a NIP was ever issued is not knowable here.
 */
#ifndef JPL_NIP_H
#define JPL_NIP_H

#include <stddef.h>
#include <stdint.h>

#include "jpl/err.h"

#define JPL_NIP_LEN 18
#define JPL_NIP_MALE 1
#define JPL_NIP_FEMALE 2

/* The fields of a valid NIP. */
typedef struct {
    uint16_t birth_year; /* >= 1900 */
    uint8_t birth_month; /* 1-12 */
    uint8_t birth_day;   /* 1-31, valid for the month and year */
    uint16_t appoint_year;
    uint8_t appoint_month; /* 1-12 */
    uint8_t sex;           /* JPL_NIP_MALE or JPL_NIP_FEMALE */
    uint16_t seq;          /* 1-999 */
} jpl_nip;

/*
 * Parses and validates the len bytes at nip (not NUL-terminated; len must be 18). now_yyyymm is
 * the current month as YYYYMM (e.g. 202507, see jpl_time_yyyymm()); 0 skips the "appointment is
 * not in the future" check. On success fills *out. On failure returns JPL_ERR_BAD_INPUT with a
 * message naming the NIP and the part that is wrong; *out is untouched.
 */
jpl_err jpl_nip_parse(const char *nip, size_t len, uint32_t now_yyyymm, jpl_nip *out, jpl_error *e);

/* jpl_nip_parse() without the parsed form. */
jpl_err jpl_nip_validate(const char *nip, size_t len, uint32_t now_yyyymm, jpl_error *e);

/* A Gregorian calendar date. */
typedef struct {
    uint16_t year; /* 1900-2100 */
    uint8_t month; /* 1-12 */
    uint8_t day;   /* 1-31, valid for the month and year */
} jpl_date;

/*
 * Parses s as "YYYY-MM-DD" (exactly that form, a real calendar date, year 1900-2100). what names
 * the field in the message. On success fills *out; on failure returns JPL_ERR_BAD_INPUT with a
 * message naming the field, the text and what is wrong; *out is untouched.
 */
jpl_err jpl_date_parse(const char *s, const char *what, jpl_date *out, jpl_error *e);

/* UTC year and month of a Unix time in milliseconds, as YYYYMM (1970-01-01 gives 197001). */
uint32_t jpl_time_yyyymm(uint64_t unix_ms);

#endif
