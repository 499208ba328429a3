/*
 * xAPI (Experience API 1.0.3) statements from an LMS, as ledger events (docs/IMPORT.md).
 *
 * Three steps, so that the importer can look things up in between:
 *   jpl_xapi_check()  is the statement valid xAPI? (the rules listed in docs/IMPORT.md: required
 *                     actor, verb and object, IRIs, UUIDs, no nulls outside extensions, ISO 8601
 *                     durations, RFC 3339 timestamps, ...). A consistency check, not a full LRS.
 *   jpl_xapi_parse()  can it be mapped? The actor must be an Agent whose account name is a NIP,
 *                     the verb one of those below, the statement must carry an id and a time.
 *   jpl_xapi_events() the events (EVENTS.md JSON objects) of a parsed statement.
 *
 * Verbs (http://adlnet.gov/expapi/verbs/...): completed, passed, attended -> an enrollment and
 * its completion; attempted, registered, launched -> an enrollment; failed -> an enrollment
 * only; voided -> revocation of the voided statement's events. The statement id is the id of
 * its main event (the completion, the enrollment or the revocation); the other events get ids
 * derived from it (jpl_xapi_derive_id), so importing the same statements again changes nothing.
 */
#ifndef JPL_XAPI_H
#define JPL_XAPI_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "jpl/err.h"
#include "jpl/nip.h"

#define JPL_XAPI_VERBS "http://adlnet.gov/expapi/verbs/"
#define JPL_XAPI_MAX_ACTIVITY_ID 256
#define JPL_XAPI_MAX_TITLE 512

typedef enum {
    JPL_XAPI_ENROLLED = 1, /* attempted, registered, launched */
    JPL_XAPI_COMPLETED,    /* completed, passed, attended */
    JPL_XAPI_FAILED,       /* failed: the enrollment only */
    JPL_XAPI_VOIDED        /* voided */
} jpl_xapi_kind;

/* What a mappable statement says, in ledger terms. */
typedef struct {
    jpl_xapi_kind kind;
    char verb[32];                                  /* the verb's last path segment, for messages */
    uint8_t id[16];                                 /* the statement id */
    uint64_t time_ms;                               /* timestamp (else stored), UTC ms */
    char nip[JPL_NIP_LEN + 1];                      /* not for VOIDED */
    char activity_id[JPL_XAPI_MAX_ACTIVITY_ID + 1]; /* object.id; not for VOIDED */
    char title[JPL_XAPI_MAX_TITLE + 1];             /* from object.definition.name, else the id */
    bool has_duration;
    uint64_t duration_ms; /* result.duration */
    uint8_t target[16];   /* VOIDED: the voided statement's id */
    uint8_t evidence[32]; /* SHA-256 of the statement (compact JSON, keys sorted) */
} jpl_xapi_statement;

/*
 * Checks st against the xAPI rules this module knows. Returns JPL_OK, or JPL_ERR_BAD_INPUT with
 * a message naming the property and what is wrong ("'result.duration' PA1H0M0S is not an ISO
 * 8601 duration"). Borrows st.
 */
jpl_err jpl_xapi_check(const json_t *st, jpl_error *e);

/*
 * Maps a statement that passed jpl_xapi_check() onto *out. now_ms is the current time (the NIP
 * check refuses appointments after it; 0 skips that). Returns JPL_OK, or JPL_ERR_BAD_INPUT
 * naming why the statement cannot be mapped (actor not a NIP account, verb not mapped, no id,
 * no timestamp, activity id too long, ...); *out is then unspecified.
 */
jpl_err jpl_xapi_parse(const json_t *st, uint64_t now_ms, jpl_xapi_statement *out, jpl_error *e);

/*
 * JP in hundredths for a duration, at minutes_per_jp (> 0) minutes a JP, rounded down;
 * saturates at 10 000 000.
 */
uint32_t jpl_xapi_duration_jp(uint64_t duration_ms, uint32_t minutes_per_jp);

/*
 * The events of s, as a new JSON array of EVENTS.md objects in append order (caller owns it):
 *   ENROLLED, FAILED: enrolled (id = statement id)
 *   COMPLETED: enrolled (derived id), completed (id = statement id, jp_centi, evidence,
 *              completed_at_ms = the statement's time, duration_minutes when known)
 *   VOIDED:    revoked of the target (id = statement id), then revoked of the enrollment that
 *              a completion statement with the target's id would have made (derived ids; the
 *              importer drops it when there is no such enrollment)
 * Returns NULL when out of memory.
 */
json_t *jpl_xapi_events(const jpl_xapi_statement *s, uint32_t jp_centi);

/* The activity_defined event that introduces s's activity: classical, jp_centi as given,
 * title from the statement, id derived from the activity id. New reference, NULL if OOM. */
json_t *jpl_xapi_activity_event(const jpl_xapi_statement *s, uint32_t jp_centi);

/*
 * A name-based event id: the first 16 bytes of SHA-256(tag || data), with the RFC 9562 version
 * 8 (custom) and variant bits set.
 */
void jpl_xapi_derive_id(uint8_t out[16], const char *tag, const void *data, size_t len);

/* Parses an RFC 3339 date-time (offset "-00:00" refused) into UTC ms; false if malformed. */
bool jpl_xapi_parse_time(const char *s, uint64_t *ms_out);

/* Parses an ISO 8601 duration (PnYnMnWnDTnHnMnS, fractions allowed on the last part) into
 * milliseconds, counting a year as 365 days and a month as 30; false if malformed. */
bool jpl_xapi_parse_duration(const char *s, uint64_t *ms_out, bool *calendar_out);

#endif
