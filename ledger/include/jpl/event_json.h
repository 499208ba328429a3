/*
 * The JSON form of an event (docs/EVENTS.md): one flat JSON object per event, what
 * `jpledger append` reads one per line and what `jpledger read --json` prints. It maps field for
 * field onto the protobuf Jpl__Event (schemas/jpledger.proto): "type" names the body, the body's
 * fields sit beside the common ones under their proto names, event ids are UUID text, digests hex,
 * keys base64 and enums lowercase words.
 *
 * This module builds and reads the generated C structs only; serializing them is codec.c's job.
 * It checks shape and field validity (types, lengths, ranges, formats, NIP structure), never the
 * ledger's state (whether the employee or a referenced event exists).
 */
#ifndef JPL_EVENT_JSON_H
#define JPL_EVENT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "jpl/err.h"
#include "jpledger.pb-c.h"

/* Limits of the JSON text and of the fields (string limits are in bytes of UTF-8). */
#define JPL_EVENT_JSON_MAX (1u << 20) /* one event's JSON text */
#define JPL_EVENT_ID_LEN 16
#define JPL_UUID_TEXT_LEN 36
#define JPL_MAX_UNIT 128
#define JPL_MAX_ACTIVITY_ID 256
#define JPL_MAX_TITLE 512
#define JPL_MAX_NAME 128
#define JPL_MAX_REASON 1024
#define JPL_MAX_BASIS 128
#define JPL_MAX_FORM 64
#define JPL_MAX_PLAN_ITEMS 256
#define JPL_MAX_CONVERSIONS 64
#define JPL_MAX_JP_CENTI 10000000u /* 100 000 JP */
#define JPL_MIN_YEAR 2000u
#define JPL_MAX_YEAR 2100u
#define JPL_MIN_TIME_MS UINT64_C(946684800000)  /* 2000-01-01T00:00:00Z */
#define JPL_MAX_TIME_MS UINT64_C(4102444800000) /* 2100-01-01T00:00:00Z (inclusive) */
#define JPL_MAX_MINUTES_PER_JP 600u             /* the append rule's limit too (rules.c) */
#define JPL_MAX_BONUS_PERCENT 100u
#define JPL_MAX_DAYS 366u
#define JPL_MAX_DURATION_MINUTES 527040u /* 366 days */

/*
 * Builds a Jpl__Event from one JSON object. now_ms is the current time (UTC ms): it is the
 * default for "issued_at_ms" and the "now" of the NIP check (0: no default, no future check).
 * An absent "id" gets a random version-4 UUID. The result passes jpl_event_validate(ev, now_ms).
 * On success *event_out owns a heap event (every nested message, string and byte buffer allocated
 * here): free it with jpl_event_free(). On failure returns JPL_ERR_BAD_INPUT (JPL_ERR_INTERNAL if
 * out of memory) with a message naming the field, and *event_out is untouched.
 */
jpl_err jpl_event_from_json(const json_t *obj, uint64_t now_ms, Jpl__Event **event_out,
                            jpl_error *e);

/*
 * jpl_event_from_json() from JSON text of len bytes (one object; duplicate keys are an error).
 * Syntax errors are JPL_ERR_BAD_INPUT with jansson's line, column and reason; text longer than
 * JPL_EVENT_JSON_MAX is JPL_ERR_TOO_LARGE.
 */
jpl_err jpl_event_from_json_text(const char *text, size_t len, uint64_t now_ms,
                                 Jpl__Event **event_out, jpl_error *e);

/*
 * Frees an event made by jpl_event_from_json*(); accepts NULL. Not for events from protobuf
 * unpack (free those with the codec, which knows their allocator).
 */
void jpl_event_free(Jpl__Event *ev);

/*
 * The JSON object of ev, the exact inverse of jpl_event_from_json(): from_json(to_json(ev)) gives
 * an identical event. Borrows ev (any allocator: from_json or protobuf unpack); the caller owns
 * the result (json_decref). Fields ev does not set are left out; fields unknown to this schema
 * are not shown. Returns NULL when out of memory or when ev cannot be shown: no body, an id or
 * digest of the wrong length, a string that is not UTF-8, an integer above 2^63-1.
 */
json_t *jpl_event_to_json(const Jpl__Event *ev);

/*
 * Checks the shape of an event however it was made (from JSON, or unpacked from bytes a client
 * signed): body present, every required field set, lengths, ranges, UUID/digest/key sizes, UTF-8
 * without control characters, enum values known, the NIP rule of the type, no fields unknown to
 * this schema. now_ms as for jpl_event_from_json() (0: no future check for the NIP). Returns
 * JPL_OK or JPL_ERR_BAD_INPUT naming the field.
 */
jpl_err jpl_event_validate(const Jpl__Event *ev, uint64_t now_ms, jpl_error *e);

/* The checks of a text field of an event, for a value that arrives elsewhere (a query's unit):
 * present, non-empty, at most max bytes, valid UTF-8 without control characters. BAD_INPUT
 * names the field and the byte. */
jpl_err jpl_text_field_check(const char *field, const char *s, size_t max, jpl_error *e);

/* The "type" string of ev's body ("completed"), or NULL if ev is NULL or has no known body. */
const char *jpl_event_type_name(const Jpl__Event *ev);

/* The Jpl__Event__BodyCase of a "type" string, or 0 (JPL__EVENT__BODY__NOT_SET) if unknown. */
int jpl_event_type_from_name(const char *name);

/* Parses UUID text (8-4-4-4-12 hex, either case) of exactly len bytes into out. */
bool jpl_uuid_parse(const char *s, size_t len, uint8_t out[JPL_EVENT_ID_LEN]);

/* Writes the canonical lowercase UUID text of id, NUL-terminated, into out. */
void jpl_uuid_format(char out[JPL_UUID_TEXT_LEN + 1], const uint8_t id[JPL_EVENT_ID_LEN]);

/* A random version-4 UUID (RFC 9562) from jpl_random_bytes(). */
void jpl_uuid_v4(uint8_t out[JPL_EVENT_ID_LEN]);

#endif
