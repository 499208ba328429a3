/*
 * JSON <-> Jpl__Event (see jpl/event_json.h and docs/EVENTS.md for the format).
 *
 * One table row per event type holds its "type" name, its NIP rule, its body field names and
 * three functions: build the body from JSON, validate the body, write the body to JSON. Reading
 * JSON happens in two passes: the first checks JSON types and text formats (UUID, hex, base64,
 * enum words) while building the struct, the second (jpl_event_validate) checks values on the
 * struct, so events unpacked from protobuf bytes get exactly the same value checks.
 *
 * Structs built here are allocated with calloc/malloc member by member and freed by
 * jpl_event_free(); to_json and validate only read, so they work on unpacked events too.
 */
#include "jpl/event_json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jpl/crypto.h"
#include "jpl/nip.h"

/* ---- small helpers ------------------------------------------------------------------------ */

#define SHOWN_MAX 64

/* A printable, bounded copy of untrusted text for messages: control bytes become '?'. */
static const char *shown(char out[SHOWN_MAX + 4], const char *s)
{
    size_t n = strnlen(s, SHOWN_MAX + 1);
    bool cut = n > SHOWN_MAX;
    if (cut) {
        n = SHOWN_MAX;
        /* do not cut a UTF-8 sequence in half */
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (cut) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
    return out;
}

static jpl_err oom(jpl_error *e)
{
    return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
}

static char *dup_text(const char *s, size_t len)
{
    char *p = malloc(len + 1);
    if (p != NULL) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a real number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    default:
        return "an unknown JSON value";
    }
}

/* ---- UUIDs -------------------------------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool jpl_uuid_parse(const char *s, size_t len, uint8_t out[JPL_EVENT_ID_LEN])
{
    uint8_t tmp[JPL_EVENT_ID_LEN];
    size_t n = 0;
    if (s == NULL || len != JPL_UUID_TEXT_LEN)
        return false;
    for (size_t i = 0; i < len;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
            i++;
            continue;
        }
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        tmp[n++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    memcpy(out, tmp, sizeof tmp);
    return true;
}

void jpl_uuid_format(char out[JPL_UUID_TEXT_LEN + 1], const uint8_t id[JPL_EVENT_ID_LEN])
{
    static const char HEX[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < JPL_EVENT_ID_LEN; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = HEX[id[i] >> 4];
        out[o++] = HEX[id[i] & 0x0f];
    }
    out[o] = '\0';
}

void jpl_uuid_v4(uint8_t out[JPL_EVENT_ID_LEN])
{
    jpl_random_bytes(out, JPL_EVENT_ID_LEN);
    out[6] = (uint8_t)((out[6] & 0x0f) | 0x40); /* version 4 */
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80); /* variant 10 */
}

/* ---- enums -------------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    int value;
} enum_name;

static const enum_name ROLES[] = {
    {"admin", JPL__ROLE__ROLE_ADMIN},
    {"hr", JPL__ROLE__ROLE_HR},
    {"supervisor", JPL__ROLE__ROLE_SUPERVISOR},
    {"lms", JPL__ROLE__ROLE_LMS},
    {"verifier", JPL__ROLE__ROLE_VERIFIER},
    {"auditor", JPL__ROLE__ROLE_AUDITOR},
    {NULL, 0},
};
static const enum_name KINDS[] = {
    {"pns", JPL__EMPLOYEE_KIND__KIND_PNS},
    {"pppk", JPL__EMPLOYEE_KIND__KIND_PPPK},
    {NULL, 0},
};
static const enum_name MODES[] = {
    {"classical", JPL__ACTIVITY_MODE__MODE_CLASSICAL},
    {"non_classical", JPL__ACTIVITY_MODE__MODE_NON_CLASSICAL},
    {NULL, 0},
};

static const char *enum_to_name(const enum_name *t, int v)
{
    for (; t->name != NULL; t++)
        if (t->value == v)
            return t->name;
    return NULL;
}

static void enum_list(char *out, size_t cap, const enum_name *t)
{
    size_t n = 0;
    out[0] = '\0';
    for (; t->name != NULL && n < cap; t++) {
        int w = snprintf(out + n, cap - n, "%s%s", n ? ", " : "", t->name);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

/* ---- text checks -------------------------------------------------------------------------- */

typedef enum { TEXT_OK, TEXT_BAD_UTF8, TEXT_CONTROL, TEXT_SPACE, TEXT_PLUS } text_verdict;

/* Unicode White_Space outside ASCII (ASCII ones are controls or ' '). */
static bool is_unicode_space(uint32_t cp)
{
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/*
 * Scans len bytes: strict UTF-8 (no overlong forms, surrogates or code points above U+10FFFF),
 * no C0/C1 control characters or DEL; for key names also no spaces and no '+' (signed-note key
 * names). On a bad character, *at = its byte offset and *cp_out = the code point.
 */
static text_verdict scan_text(const char *s, size_t len, bool key_name, size_t *at,
                              uint32_t *cp_out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n;
        unsigned char c = p[i];
        if (c < 0x80) {
            cp = c;
            n = 1;
        } else if (c >= 0xC2 && c <= 0xDF) {
            cp = c & 0x1Fu;
            n = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            cp = c & 0x0Fu;
            n = 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            cp = c & 0x07u;
            n = 4;
        } else {
            *at = i;
            return TEXT_BAD_UTF8;
        }
        if (len - i < n) {
            *at = i;
            return TEXT_BAD_UTF8;
        }
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xC0) != 0x80) {
                *at = i;
                return TEXT_BAD_UTF8;
            }
            cp = cp << 6 | (p[i + k] & 0x3Fu);
        }
        if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
            *at = i;
            return TEXT_BAD_UTF8;
        }
        *at = i;
        *cp_out = cp;
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
            return TEXT_CONTROL;
        if (key_name && (cp == ' ' || is_unicode_space(cp)))
            return TEXT_SPACE;
        if (key_name && cp == '+')
            return TEXT_PLUS;
        i += n;
    }
    return TEXT_OK;
}

/* A string field: required or not, non-empty, at most max bytes, clean UTF-8. */
static jpl_err check_text(const char *pre, const char *key, const char *s, bool required,
                          size_t max, bool key_name, jpl_error *e)
{
    if (s == NULL) {
        if (required)
            return jpl_fail(e, JPL_ERR_BAD_INPUT, "field '%s%s' is required", pre, key);
        return JPL_OK;
    }
    size_t len = strnlen(s, max + 1);
    if (len == 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "field '%s%s' must not be empty", pre, key);
    if (len > max)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "field '%s%s' is longer than %zu bytes", pre, key,
                        max);
    size_t at = 0;
    uint32_t cp = 0;
    switch (scan_text(s, len, key_name, &at, &cp)) {
    case TEXT_OK:
        return JPL_OK;
    case TEXT_BAD_UTF8:
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "field '%s%s' is not valid UTF-8 (at byte %zu)", pre,
                        key, at);
    case TEXT_CONTROL:
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "field '%s%s' contains control character U+%04" PRIX32 " at byte %zu", pre,
                        key, cp, at);
    case TEXT_SPACE:
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "field '%s%s' contains a space (U+%04" PRIX32
                        ") at byte %zu; key names may not",
                        pre, key, cp, at);
    case TEXT_PLUS:
    default:
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "field '%s%s' contains '+' at byte %zu; key names may not", pre, key, at);
    }
}

static jpl_err check_range(const char *pre, const char *key, uint64_t v, uint64_t min, uint64_t max,
                           const char *note, jpl_error *e)
{
    if (v < min || v > max)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "field '%s%s' must be in %" PRIu64 "..%" PRIu64 "%s, got %" PRIu64, pre,
                        key, min, max, note, v);
    return JPL_OK;
}

#define TIME_NOTE " (2000-01-01..2100-01-01 UTC in ms)"

static jpl_err check_time(const char *key, uint64_t v, jpl_error *e)
{
    return check_range("", key, v, JPL_MIN_TIME_MS, JPL_MAX_TIME_MS, TIME_NOTE, e);
}

static jpl_err check_jp(const char *pre, const char *key, uint64_t v, jpl_error *e)
{
    return check_range(pre, key, v, 0, JPL_MAX_JP_CENTI, " (hundredths of a JP)", e);
}

static jpl_err check_year(const char *key, uint64_t v, jpl_error *e)
{
    return check_range("", key, v, JPL_MIN_YEAR, JPL_MAX_YEAR, "", e);
}

static jpl_err check_id(const char *key, const ProtobufCBinaryData *b, jpl_error *e)
{
    static const uint8_t NIL[JPL_EVENT_ID_LEN];
    if (b->len != JPL_EVENT_ID_LEN || b->data == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "field '%s' must be a %d-byte event id, got %zu bytes", key,
                        JPL_EVENT_ID_LEN, b->len);
    if (memcmp(b->data, NIL, sizeof NIL) == 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "field '%s' must not be the nil UUID", key);
    return JPL_OK;
}

static jpl_err check_len(const char *key, const ProtobufCBinaryData *b, size_t want,
                         const char *what, jpl_error *e)
{
    if (b->len != want || b->data == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "field '%s' must be %s (%zu bytes), got %zu bytes",
                        key, what, want, b->len);
    return JPL_OK;
}

static jpl_err check_enum(const char *key, const enum_name *t, int v, jpl_error *e)
{
    if (enum_to_name(t, v) != NULL)
        return JPL_OK;
    char list[128];
    enum_list(list, sizeof list, t);
    return jpl_fail(e, JPL_ERR_BAD_INPUT, "field '%s' has value %d, not one of %s", key, v, list);
}

/* Fields an older or newer schema knows but this build does not: refused, never dropped. */
static jpl_err check_known(const ProtobufCMessage *m, const char *what, jpl_error *e)
{
    if (m->n_unknown_fields != 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "%s carries %u field(s) unknown to this schema (first: number %" PRIu32 ")",
                        what, m->n_unknown_fields, m->unknown_fields[0].tag);
    return JPL_OK;
}

#define TRY(x)                                                                                     \
    do {                                                                                           \
        jpl_err rc_ = (x);                                                                         \
        if (rc_ != JPL_OK)                                                                         \
            return rc_;                                                                            \
    } while (0)

#define NEED_BODY(ev, member, name)                                                                \
    do {                                                                                           \
        if ((ev)->member == NULL)                                                                  \
            return jpl_fail(e, JPL_ERR_BAD_INPUT, "event body '%s' is missing", name);             \
        TRY(check_known(&(ev)->member->base, "event body '" name "'", e));                         \
    } while (0)

/* ---- JSON getters (first pass: JSON types and text formats) -------------------------------- */

/* *out = the value of key, or NULL if absent (an error if required). */
static jpl_err field(const json_t *obj, const char *pre, const char *key, bool required,
                     const json_t **out, jpl_error *e)
{
    *out = json_object_get(obj, key);
    if (*out == NULL && required)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "field '%s%s' is required", pre, key);
    return JPL_OK;
}

static jpl_err wrong_type(const char *pre, const char *key, const char *want, const json_t *v,
                          jpl_error *e)
{
    return jpl_fail(e, JPL_ERR_BAD_INPUT, "field '%s%s' must be %s, got %s", pre, key, want,
                    json_kind(v));
}

/* A JSON string as bytes; embedded NULs (possible with JSON_ALLOW_NUL) are refused. */
static jpl_err string_of(const char *pre, const char *key, const json_t *v, const char **s_out,
                         size_t *len_out, jpl_error *e)
{
    if (!json_is_string(v))
        return wrong_type(pre, key, "a string", v, e);
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (strnlen(s, len) != len)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "field '%s%s' contains control character U+0000 at byte %zu", pre, key,
                        strnlen(s, len));
    *s_out = s;
    *len_out = len;
    return JPL_OK;
}

static jpl_err get_str(const json_t *obj, const char *pre, const char *key, bool required,
                       char **out, jpl_error *e)
{
    const json_t *v;
    const char *s = NULL;
    size_t len = 0;
    TRY(field(obj, pre, key, required, &v, e));
    if (v == NULL)
        return JPL_OK;
    TRY(string_of(pre, key, v, &s, &len, e));
    *out = dup_text(s, len);
    return *out == NULL ? oom(e) : JPL_OK;
}

static jpl_err get_uint(const json_t *obj, const char *pre, const char *key, bool required,
                        uint64_t min, uint64_t max, const char *note, bool *has, uint64_t *out,
                        jpl_error *e)
{
    const json_t *v;
    TRY(field(obj, pre, key, required, &v, e));
    *has = v != NULL;
    if (v == NULL)
        return JPL_OK;
    if (!json_is_integer(v))
        return wrong_type(pre, key, "an integer", v, e);
    json_int_t i = json_integer_value(v);
    if (i < 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "field '%s%s' must not be negative, got %lld", pre,
                        key, (long long)i);
    TRY(check_range(pre, key, (uint64_t)i, min, max, note, e));
    *out = (uint64_t)i;
    return JPL_OK;
}

static jpl_err get_u32(const json_t *obj, const char *pre, const char *key, bool required,
                       uint32_t min, uint32_t max, const char *note, protobuf_c_boolean *has,
                       uint32_t *out, jpl_error *e)
{
    bool present = false;
    uint64_t v = 0;
    TRY(get_uint(obj, pre, key, required, min, max, note, &present, &v, e));
    if (present) {
        *out = (uint32_t)v;
        if (has != NULL)
            *has = 1;
    }
    return JPL_OK;
}

static jpl_err get_jp(const json_t *obj, const char *pre, const char *key, bool required,
                      protobuf_c_boolean *has, uint32_t *out, jpl_error *e)
{
    return get_u32(obj, pre, key, required, 0, JPL_MAX_JP_CENTI, " (hundredths of a JP)", has, out,
                   e);
}

static jpl_err get_bool(const json_t *obj, const char *key, protobuf_c_boolean *has,
                        protobuf_c_boolean *out, jpl_error *e)
{
    const json_t *v;
    TRY(field(obj, "", key, false, &v, e));
    if (v == NULL)
        return JPL_OK;
    if (!json_is_boolean(v))
        return wrong_type("", key, "a boolean (true or false)", v, e);
    *has = 1;
    *out = json_is_true(v) ? 1 : 0;
    return JPL_OK;
}

static jpl_err get_enum(const json_t *obj, const char *key, bool required, const enum_name *t,
                        bool any_case, protobuf_c_boolean *has, int *out, jpl_error *e)
{
    const json_t *v;
    const char *s = NULL;
    size_t len = 0;
    TRY(field(obj, "", key, required, &v, e));
    if (v == NULL)
        return JPL_OK;
    TRY(string_of("", key, v, &s, &len, e));
    for (const enum_name *p = t; p->name != NULL; p++) {
        bool same = any_case ? strcasecmp(s, p->name) == 0 : strcmp(s, p->name) == 0;
        if (same) {
            *out = p->value;
            if (has != NULL)
                *has = 1;
            return JPL_OK;
        }
    }
    char list[128], sh[SHOWN_MAX + 4];
    enum_list(list, sizeof list, t);
    return jpl_fail(e, JPL_ERR_BAD_INPUT, "field '%s' must be one of %s, got '%s'", key, list,
                    shown(sh, s));
}

static jpl_err set_bytes(ProtobufCBinaryData *out, const uint8_t *data, size_t len, jpl_error *e)
{
    out->data = malloc(len);
    if (out->data == NULL)
        return oom(e);
    memcpy(out->data, data, len);
    out->len = len;
    return JPL_OK;
}

static jpl_err get_uuid(const json_t *obj, const char *key, bool required, ProtobufCBinaryData *out,
                        jpl_error *e)
{
    const json_t *v;
    const char *s = NULL;
    size_t len = 0;
    uint8_t id[JPL_EVENT_ID_LEN];
    TRY(field(obj, "", key, required, &v, e));
    if (v == NULL)
        return JPL_OK;
    TRY(string_of("", key, v, &s, &len, e));
    if (!jpl_uuid_parse(s, len, id)) {
        char sh[SHOWN_MAX + 4];
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "field '%s' must be a UUID like 0f8fad5b-d9cb-469f-a165-70867728950e, "
                        "got '%s'",
                        key, shown(sh, s));
    }
    return set_bytes(out, id, sizeof id, e);
}

static jpl_err get_sha256(const json_t *obj, const char *key, ProtobufCBinaryData *out,
                          jpl_error *e)
{
    const json_t *v;
    const char *s = NULL;
    size_t len = 0;
    uint8_t d[JPL_SHA256_LEN];
    TRY(field(obj, "", key, true, &v, e));
    TRY(string_of("", key, v, &s, &len, e));
    if (len != 2 * JPL_SHA256_LEN)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "field '%s' must be %d hex characters (a SHA-256 digest), got %zu", key,
                        2 * JPL_SHA256_LEN, len);
    if (!jpl_hex_decode(d, sizeof d, s, len))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "field '%s' contains a character that is not hex",
                        key);
    return set_bytes(out, d, sizeof d, e);
}

static jpl_err get_public_key(const json_t *obj, const char *key, ProtobufCBinaryData *out,
                              jpl_error *e)
{
    const json_t *v;
    const char *s = NULL;
    size_t len = 0, n = 0;
    uint8_t pk[JPL_ED25519_PK_LEN];
    char again[64];
    TRY(field(obj, "", key, true, &v, e));
    TRY(string_of("", key, v, &s, &len, e));
    /* decode, then re-encode: only the one canonical spelling of the key is accepted */
    if (!jpl_base64_decode(pk, sizeof pk, &n, s, len) || n != sizeof pk ||
        !jpl_base64_encode(again, sizeof again, pk, n) || strlen(again) != len ||
        memcmp(again, s, len) != 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "field '%s' must be standard padded base64 of a %d-byte Ed25519 public "
                        "key (44 characters)",
                        key, JPL_ED25519_PK_LEN);
    return set_bytes(out, pk, sizeof pk, e);
}

/* ---- JSON writers ------------------------------------------------------------------------- */

static bool put(json_t *o, const char *key, json_t *v)
{
    return json_object_set_new(o, key, v) == 0; /* set_new takes v, NULL included */
}

static bool put_str(json_t *o, const char *key, const char *s)
{
    return s == NULL || put(o, key, json_string(s));
}

static bool put_u64(json_t *o, const char *key, uint64_t v)
{
    return v <= INT64_MAX && put(o, key, json_integer((json_int_t)v));
}

static bool put_bool(json_t *o, const char *key, protobuf_c_boolean has, protobuf_c_boolean v)
{
    return !has || put(o, key, json_boolean(v));
}

static bool put_enum(json_t *o, const char *key, const enum_name *t, int v)
{
    const char *name = enum_to_name(t, v);
    return put(o, key, name != NULL ? json_string(name) : json_integer(v));
}

static bool put_uuid(json_t *o, const char *key, const ProtobufCBinaryData *b)
{
    char text[JPL_UUID_TEXT_LEN + 1];
    if (b->len != JPL_EVENT_ID_LEN || b->data == NULL)
        return false;
    jpl_uuid_format(text, b->data);
    return put(o, key, json_string(text));
}

static bool put_sha256(json_t *o, const char *key, const ProtobufCBinaryData *b)
{
    char text[2 * JPL_SHA256_LEN + 1];
    if (b->len != JPL_SHA256_LEN || b->data == NULL)
        return false;
    jpl_hex_encode(text, b->data, b->len);
    return put(o, key, json_string(text));
}

static bool put_base64(json_t *o, const char *key, const ProtobufCBinaryData *b)
{
    size_t cap = jpl_base64_size(b->len);
    char *text = malloc(cap);
    bool ok = text != NULL && (b->len == 0 || b->data != NULL) &&
              jpl_base64_encode(text, cap, b->data, b->len) && put(o, key, json_string(text));
    free(text);
    return ok;
}

/* ---- per-type bodies ---------------------------------------------------------------------- */

#define NEW_BODY(ev, member, init_fn, bcase)                                                       \
    do {                                                                                           \
        (ev)->member = calloc(1, sizeof *(ev)->member);                                            \
        if ((ev)->member == NULL)                                                                  \
            return oom(e);                                                                         \
        init_fn((ev)->member);                                                                     \
        (ev)->body_case = (bcase);                                                                 \
    } while (0)

/* key_registered */

static jpl_err key_registered_from(const json_t *o, Jpl__Event *ev, jpl_error *e)
{
    NEW_BODY(ev, key_registered, jpl__key_registered__init, JPL__EVENT__BODY_KEY_REGISTERED);
    Jpl__KeyRegistered *b = ev->key_registered;
    int role = 0;
    TRY(get_public_key(o, "public_key", &b->public_key, e));
    TRY(get_str(o, "", "name", true, &b->name, e));
    TRY(get_enum(o, "role", true, ROLES, false, NULL, &role, e));
    b->role = (Jpl__Role)role;
    return JPL_OK;
}

static jpl_err key_registered_check(const Jpl__Event *ev, jpl_error *e)
{
    NEED_BODY(ev, key_registered, "key_registered");
    const Jpl__KeyRegistered *b = ev->key_registered;
    TRY(check_len("public_key", &b->public_key, JPL_ED25519_PK_LEN, "an Ed25519 public key", e));
    TRY(check_text("", "name", b->name, true, JPL_MAX_NAME, true, e));
    return check_enum("role", ROLES, (int)b->role, e);
}

static bool key_registered_to(json_t *o, const Jpl__Event *ev)
{
    const Jpl__KeyRegistered *b = ev->key_registered;
    return put_base64(o, "public_key", &b->public_key) && put_str(o, "name", b->name) &&
           put_enum(o, "role", ROLES, (int)b->role);
}

/* key_revoked */

static jpl_err key_revoked_from(const json_t *o, Jpl__Event *ev, jpl_error *e)
{
    NEW_BODY(ev, key_revoked, jpl__key_revoked__init, JPL__EVENT__BODY_KEY_REVOKED);
    Jpl__KeyRevoked *b = ev->key_revoked;
    TRY(get_public_key(o, "public_key", &b->public_key, e));
    return get_str(o, "", "reason", false, &b->reason, e);
}

static jpl_err key_revoked_check(const Jpl__Event *ev, jpl_error *e)
{
    NEED_BODY(ev, key_revoked, "key_revoked");
    const Jpl__KeyRevoked *b = ev->key_revoked;
    TRY(check_len("public_key", &b->public_key, JPL_ED25519_PK_LEN, "an Ed25519 public key", e));
    return check_text("", "reason", b->reason, false, JPL_MAX_REASON, false, e);
}

static bool key_revoked_to(json_t *o, const Jpl__Event *ev)
{
    const Jpl__KeyRevoked *b = ev->key_revoked;
    return put_base64(o, "public_key", &b->public_key) && put_str(o, "reason", b->reason);
}

/* policy_set */

static const char *const CONVERSION_FIELDS[] = {"form", "national_jp_centi_per_day",
                                                "international_jp_centi_per_day", NULL};
static const char *const ITEM_FIELDS[] = {"activity_id", "jp_centi", NULL};

static bool in_list(const char *const *list, const char *key)
{
    for (; *list != NULL; list++)
        if (strcmp(*list, key) == 0)
            return true;
    return false;
}

/* The value of an array field and the objects in it, with unknown keys refused. */
static jpl_err get_array(const json_t *obj, const char *key, bool required, size_t max,
                         const char *const *item_fields, const json_t **out, jpl_error *e)
{
    TRY(field(obj, "", key, required, out, e));
    if (*out == NULL)
        return JPL_OK;
    if (!json_is_array(*out))
        return wrong_type("", key, "an array", *out, e);
    size_t n = json_array_size(*out);
    if (n > max)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "field '%s' has %zu entries, more than %zu", key, n,
                        max);
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(*out, i);
        if (!json_is_object(item))
            return jpl_fail(e, JPL_ERR_BAD_INPUT, "field '%s[%zu]' must be an object, got %s", key,
                            i, json_kind(item));
        const char *k;
        const json_t *val;
        json_object_foreach((json_t *)item, k, val)
        {
            (void)val;
            if (!in_list(item_fields, k)) {
                char sh[SHOWN_MAX + 4];
                return jpl_fail(e, JPL_ERR_BAD_INPUT, "unknown field '%s[%zu].%s'", key, i,
                                shown(sh, k));
            }
        }
    }
    return JPL_OK;
}

static jpl_err policy_set_from(const json_t *o, Jpl__Event *ev, jpl_error *e)
{
    NEW_BODY(ev, policy_set, jpl__policy_set__init, JPL__EVENT__BODY_POLICY_SET);
    Jpl__PolicySet *b = ev->policy_set;
    const json_t *arr;
    TRY(get_u32(o, "", "effective_year", true, JPL_MIN_YEAR, JPL_MAX_YEAR, "", NULL,
                &b->effective_year, e));
    TRY(get_jp(o, "", "pns_floor_jp_centi", true, NULL, &b->pns_floor_jp_centi, e));
    TRY(get_jp(o, "", "pppk_cap_jp_centi", true, NULL, &b->pppk_cap_jp_centi, e));
    TRY(get_u32(o, "", "minutes_per_jp", true, 1, JPL_MAX_MINUTES_PER_JP, "", NULL,
                &b->minutes_per_jp, e));
    TRY(get_u32(o, "", "international_bonus_percent", false, 0, JPL_MAX_BONUS_PERCENT, "",
                &b->has_international_bonus_percent, &b->international_bonus_percent, e));
    TRY(get_array(o, "conversions", false, JPL_MAX_CONVERSIONS, CONVERSION_FIELDS, &arr, e));
    size_t n = arr != NULL ? json_array_size(arr) : 0;
    if (n == 0)
        return JPL_OK;
    b->conversions = calloc(n, sizeof *b->conversions);
    if (b->conversions == NULL)
        return oom(e);
    b->n_conversions = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(arr, i);
        char pre[48];
        snprintf(pre, sizeof pre, "conversions[%zu].", i);
        Jpl__ConversionRule *r = calloc(1, sizeof *r);
        if (r == NULL)
            return oom(e);
        jpl__conversion_rule__init(r);
        b->conversions[i] = r;
        TRY(get_str(item, pre, "form", true, &r->form, e));
        TRY(get_jp(item, pre, "national_jp_centi_per_day", true, NULL,
                   &r->national_jp_centi_per_day, e));
        TRY(get_jp(item, pre, "international_jp_centi_per_day", true, NULL,
                   &r->international_jp_centi_per_day, e));
    }
    return JPL_OK;
}

static jpl_err policy_set_check(const Jpl__Event *ev, jpl_error *e)
{
    NEED_BODY(ev, policy_set, "policy_set");
    const Jpl__PolicySet *b = ev->policy_set;
    TRY(check_year("effective_year", b->effective_year, e));
    TRY(check_jp("", "pns_floor_jp_centi", b->pns_floor_jp_centi, e));
    TRY(check_jp("", "pppk_cap_jp_centi", b->pppk_cap_jp_centi, e));
    TRY(check_range("", "minutes_per_jp", b->minutes_per_jp, 1, JPL_MAX_MINUTES_PER_JP, "", e));
    if (b->has_international_bonus_percent)
        TRY(check_range("", "international_bonus_percent", b->international_bonus_percent, 0,
                        JPL_MAX_BONUS_PERCENT, "", e));
    if (b->n_conversions > JPL_MAX_CONVERSIONS)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "field 'conversions' has %zu entries, more than %d",
                        b->n_conversions, JPL_MAX_CONVERSIONS);
    for (size_t i = 0; i < b->n_conversions; i++) {
        const Jpl__ConversionRule *r = b->conversions[i];
        char pre[48];
        snprintf(pre, sizeof pre, "conversions[%zu].", i);
        if (r == NULL)
            return jpl_fail(e, JPL_ERR_BAD_INPUT, "field 'conversions[%zu]' is missing", i);
        TRY(check_known(&r->base, "a conversion rule", e));
        TRY(check_text(pre, "form", r->form, true, JPL_MAX_FORM, false, e));
        TRY(check_jp(pre, "national_jp_centi_per_day", r->national_jp_centi_per_day, e));
        TRY(check_jp(pre, "international_jp_centi_per_day", r->international_jp_centi_per_day, e));
        /* the table is looked up by form: two rows for one form would be ambiguous */
        for (size_t j = 0; j < i; j++) {
            if (strcmp(b->conversions[j]->form, r->form) == 0) {
                char sh[SHOWN_MAX + 4];
                return jpl_fail(e, JPL_ERR_BAD_INPUT,
                                "field 'conversions[%zu].form' repeats '%s' of conversions[%zu]", i,
                                shown(sh, r->form), j);
            }
        }
    }
    return JPL_OK;
}

static bool policy_set_to(json_t *o, const Jpl__Event *ev)
{
    const Jpl__PolicySet *b = ev->policy_set;
    if (!put_u64(o, "effective_year", b->effective_year) ||
        !put_u64(o, "pns_floor_jp_centi", b->pns_floor_jp_centi) ||
        !put_u64(o, "pppk_cap_jp_centi", b->pppk_cap_jp_centi) ||
        !put_u64(o, "minutes_per_jp", b->minutes_per_jp))
        return false;
    json_t *arr = json_array();
    if (!put(o, "conversions", arr))
        return false;
    for (size_t i = 0; i < b->n_conversions; i++) {
        const Jpl__ConversionRule *r = b->conversions[i];
        json_t *row = json_object();
        if (r == NULL || json_array_append_new(arr, row) != 0)
            return false;
        if (!put_str(row, "form", r->form) ||
            !put_u64(row, "national_jp_centi_per_day", r->national_jp_centi_per_day) ||
            !put_u64(row, "international_jp_centi_per_day", r->international_jp_centi_per_day))
            return false;
    }
    return !b->has_international_bonus_percent ||
           put_u64(o, "international_bonus_percent", b->international_bonus_percent);
}

/* employee_registered */

/* contract_start: absent, or a calendar date "YYYY-MM-DD" of a PPPK (kind is the kind the event
 * states; has_kind false when it states none, as in an employee_updated that only renews). */
static jpl_err check_contract_start(const char *s, bool has_kind, int kind, jpl_error *e)
{
    if (s == NULL)
        return JPL_OK;
    jpl_date d;
    TRY(jpl_date_parse(s, "field 'contract_start'", &d, e));
    if (has_kind && kind != JPL__EMPLOYEE_KIND__KIND_PPPK)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "field 'contract_start' is for PPPK only, but 'kind' is not pppk");
    return JPL_OK;
}

static jpl_err employee_registered_from(const json_t *o, Jpl__Event *ev, jpl_error *e)
{
    NEW_BODY(ev, employee_registered, jpl__employee_registered__init,
             JPL__EVENT__BODY_EMPLOYEE_REGISTERED);
    Jpl__EmployeeRegistered *b = ev->employee_registered;
    int kind = 0;
    TRY(get_enum(o, "kind", true, KINDS, true, NULL, &kind, e));
    b->kind = (Jpl__EmployeeKind)kind;
    TRY(get_str(o, "", "unit", true, &b->unit, e));
    TRY(get_str(o, "", "contract_start", false, &b->contract_start, e));
    return get_bool(o, "cap_exempt", &b->has_cap_exempt, &b->cap_exempt, e);
}

static jpl_err employee_registered_check(const Jpl__Event *ev, jpl_error *e)
{
    NEED_BODY(ev, employee_registered, "employee_registered");
    const Jpl__EmployeeRegistered *b = ev->employee_registered;
    TRY(check_enum("kind", KINDS, (int)b->kind, e));
    TRY(check_contract_start(b->contract_start, true, (int)b->kind, e));
    return check_text("", "unit", b->unit, true, JPL_MAX_UNIT, false, e);
}

static bool employee_registered_to(json_t *o, const Jpl__Event *ev)
{
    const Jpl__EmployeeRegistered *b = ev->employee_registered;
    return put_enum(o, "kind", KINDS, (int)b->kind) && put_str(o, "unit", b->unit) &&
           put_bool(o, "cap_exempt", b->has_cap_exempt, b->cap_exempt) &&
           put_str(o, "contract_start", b->contract_start);
}

/* employee_updated */

static jpl_err employee_updated_from(const json_t *o, Jpl__Event *ev, jpl_error *e)
{
    NEW_BODY(ev, employee_updated, jpl__employee_updated__init, JPL__EVENT__BODY_EMPLOYEE_UPDATED);
    Jpl__EmployeeUpdated *b = ev->employee_updated;
    int kind = 0;
    TRY(get_enum(o, "kind", false, KINDS, true, &b->has_kind, &kind, e));
    b->kind = (Jpl__EmployeeKind)kind;
    TRY(get_str(o, "", "unit", false, &b->unit, e));
    TRY(get_str(o, "", "contract_start", false, &b->contract_start, e));
    return get_bool(o, "cap_exempt", &b->has_cap_exempt, &b->cap_exempt, e);
}

static jpl_err employee_updated_check(const Jpl__Event *ev, jpl_error *e)
{
    NEED_BODY(ev, employee_updated, "employee_updated");
    const Jpl__EmployeeUpdated *b = ev->employee_updated;
    if (!b->has_kind && b->unit == NULL && !b->has_cap_exempt && b->contract_start == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "employee_updated changes nothing: give at least one of 'kind', 'unit', "
                        "'cap_exempt', 'contract_start'");
    if (b->has_kind)
        TRY(check_enum("kind", KINDS, (int)b->kind, e));
    TRY(check_contract_start(b->contract_start, b->has_kind, (int)b->kind, e));
    return check_text("", "unit", b->unit, false, JPL_MAX_UNIT, false, e);
}

static bool employee_updated_to(json_t *o, const Jpl__Event *ev)
{
    const Jpl__EmployeeUpdated *b = ev->employee_updated;
    return (!b->has_kind || put_enum(o, "kind", KINDS, (int)b->kind)) &&
           put_str(o, "unit", b->unit) &&
           put_bool(o, "cap_exempt", b->has_cap_exempt, b->cap_exempt) &&
           put_str(o, "contract_start", b->contract_start);
}

/* employee_exited */

static jpl_err employee_exited_from(const json_t *o, Jpl__Event *ev, jpl_error *e)
{
    NEW_BODY(ev, employee_exited, jpl__employee_exited__init, JPL__EVENT__BODY_EMPLOYEE_EXITED);
    return get_str(o, "", "reason", false, &ev->employee_exited->reason, e);
}

static jpl_err employee_exited_check(const Jpl__Event *ev, jpl_error *e)
{
    NEED_BODY(ev, employee_exited, "employee_exited");
    return check_text("", "reason", ev->employee_exited->reason, false, JPL_MAX_REASON, false, e);
}

static bool employee_exited_to(json_t *o, const Jpl__Event *ev)
{
    return put_str(o, "reason", ev->employee_exited->reason);
}

/* activity_defined */

static jpl_err activity_defined_from(const json_t *o, Jpl__Event *ev, jpl_error *e)
{
    NEW_BODY(ev, activity_defined, jpl__activity_defined__init, JPL__EVENT__BODY_ACTIVITY_DEFINED);
    Jpl__ActivityDefined *b = ev->activity_defined;
    int mode = 0;
    TRY(get_str(o, "", "activity_id", true, &b->activity_id, e));
    TRY(get_str(o, "", "title", true, &b->title, e));
    TRY(get_enum(o, "mode", true, MODES, false, NULL, &mode, e));
    b->mode = (Jpl__ActivityMode)mode;
    TRY(get_jp(o, "", "jp_centi", false, &b->has_jp_centi, &b->jp_centi, e));
    TRY(get_str(o, "", "form", false, &b->form, e));
    TRY(get_u32(o, "", "days", false, 1, JPL_MAX_DAYS, "", &b->has_days, &b->days, e));
    return get_bool(o, "international", &b->has_international, &b->international, e);
}

static jpl_err activity_defined_check(const Jpl__Event *ev, jpl_error *e)
{
    NEED_BODY(ev, activity_defined, "activity_defined");
    const Jpl__ActivityDefined *b = ev->activity_defined;
    TRY(check_text("", "activity_id", b->activity_id, true, JPL_MAX_ACTIVITY_ID, false, e));
    TRY(check_text("", "title", b->title, true, JPL_MAX_TITLE, false, e));
    TRY(check_enum("mode", MODES, (int)b->mode, e));
    TRY(check_text("", "form", b->form, false, JPL_MAX_FORM, false, e));
    if (b->has_jp_centi)
        TRY(check_jp("", "jp_centi", b->jp_centi, e));
    if (b->has_days)
        TRY(check_range("", "days", b->days, 1, JPL_MAX_DAYS, "", e));
    /* classical activities carry their own JP; non-classical ones are converted by form/days */
    if (b->mode == JPL__ACTIVITY_MODE__MODE_CLASSICAL) {
        if (!b->has_jp_centi)
            return jpl_fail(e, JPL_ERR_BAD_INPUT,
                            "field 'jp_centi' is required for a classical activity");
        if (b->form != NULL || b->has_days)
            return jpl_fail(e, JPL_ERR_BAD_INPUT, "field '%s' is only for non_classical activities",
                            b->form != NULL ? "form" : "days");
    } else {
        if (b->form == NULL || !b->has_days)
            return jpl_fail(e, JPL_ERR_BAD_INPUT,
                            "field '%s' is required for a non_classical activity",
                            b->form == NULL ? "form" : "days");
        if (b->has_jp_centi)
            return jpl_fail(e, JPL_ERR_BAD_INPUT,
                            "field 'jp_centi' is only for classical activities (non_classical "
                            "JP come from the policy's conversion table)");
    }
    return JPL_OK;
}

static bool activity_defined_to(json_t *o, const Jpl__Event *ev)
{
    const Jpl__ActivityDefined *b = ev->activity_defined;
    return put_str(o, "activity_id", b->activity_id) && put_str(o, "title", b->title) &&
           put_enum(o, "mode", MODES, (int)b->mode) &&
           (!b->has_jp_centi || put_u64(o, "jp_centi", b->jp_centi)) &&
           put_str(o, "form", b->form) && (!b->has_days || put_u64(o, "days", b->days)) &&
           put_bool(o, "international", b->has_international, b->international);
}

/* plan_submitted */

static jpl_err plan_submitted_from(const json_t *o, Jpl__Event *ev, jpl_error *e)
{
    NEW_BODY(ev, plan_submitted, jpl__plan_submitted__init, JPL__EVENT__BODY_PLAN_SUBMITTED);
    Jpl__PlanSubmitted *b = ev->plan_submitted;
    const json_t *arr;
    TRY(get_u32(o, "", "year", true, JPL_MIN_YEAR, JPL_MAX_YEAR, "", NULL, &b->year, e));
    TRY(get_array(o, "items", true, JPL_MAX_PLAN_ITEMS, ITEM_FIELDS, &arr, e));
    size_t n = json_array_size(arr);
    if (n == 0)
        return JPL_OK; /* validate names the empty plan */
    b->items = calloc(n, sizeof *b->items);
    if (b->items == NULL)
        return oom(e);
    b->n_items = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(arr, i);
        char pre[48];
        snprintf(pre, sizeof pre, "items[%zu].", i);
        Jpl__PlannedItem *it = calloc(1, sizeof *it);
        if (it == NULL)
            return oom(e);
        jpl__planned_item__init(it);
        b->items[i] = it;
        TRY(get_str(item, pre, "activity_id", true, &it->activity_id, e));
        TRY(get_jp(item, pre, "jp_centi", true, NULL, &it->jp_centi, e));
    }
    return JPL_OK;
}

static jpl_err plan_submitted_check(const Jpl__Event *ev, jpl_error *e)
{
    NEED_BODY(ev, plan_submitted, "plan_submitted");
    const Jpl__PlanSubmitted *b = ev->plan_submitted;
    TRY(check_year("year", b->year, e));
    if (b->n_items == 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "field 'items' must list at least one activity");
    if (b->n_items > JPL_MAX_PLAN_ITEMS)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "field 'items' has %zu entries, more than %d",
                        b->n_items, JPL_MAX_PLAN_ITEMS);
    for (size_t i = 0; i < b->n_items; i++) {
        const Jpl__PlannedItem *it = b->items[i];
        char pre[48];
        snprintf(pre, sizeof pre, "items[%zu].", i);
        if (it == NULL)
            return jpl_fail(e, JPL_ERR_BAD_INPUT, "field 'items[%zu]' is missing", i);
        TRY(check_known(&it->base, "a plan item", e));
        TRY(check_text(pre, "activity_id", it->activity_id, true, JPL_MAX_ACTIVITY_ID, false, e));
        TRY(check_jp(pre, "jp_centi", it->jp_centi, e));
    }
    return JPL_OK;
}

static bool plan_submitted_to(json_t *o, const Jpl__Event *ev)
{
    const Jpl__PlanSubmitted *b = ev->plan_submitted;
    if (!put_u64(o, "year", b->year))
        return false;
    json_t *arr = json_array();
    if (!put(o, "items", arr))
        return false;
    for (size_t i = 0; i < b->n_items; i++) {
        const Jpl__PlannedItem *it = b->items[i];
        json_t *row = json_object();
        if (it == NULL || json_array_append_new(arr, row) != 0)
            return false;
        if (!put_str(row, "activity_id", it->activity_id) ||
            !put_u64(row, "jp_centi", it->jp_centi))
            return false;
    }
    return true;
}

/* plan_approved */

static jpl_err plan_approved_from(const json_t *o, Jpl__Event *ev, jpl_error *e)
{
    NEW_BODY(ev, plan_approved, jpl__plan_approved__init, JPL__EVENT__BODY_PLAN_APPROVED);
    Jpl__PlanApproved *b = ev->plan_approved;
    TRY(get_uuid(o, "plan_event_id", true, &b->plan_event_id, e));
    return get_jp(o, "", "approved_jp_centi", false, &b->has_approved_jp_centi,
                  &b->approved_jp_centi, e);
}

static jpl_err plan_approved_check(const Jpl__Event *ev, jpl_error *e)
{
    NEED_BODY(ev, plan_approved, "plan_approved");
    const Jpl__PlanApproved *b = ev->plan_approved;
    TRY(check_id("plan_event_id", &b->plan_event_id, e));
    if (b->has_approved_jp_centi)
        TRY(check_jp("", "approved_jp_centi", b->approved_jp_centi, e));
    return JPL_OK;
}

static bool plan_approved_to(json_t *o, const Jpl__Event *ev)
{
    const Jpl__PlanApproved *b = ev->plan_approved;
    return put_uuid(o, "plan_event_id", &b->plan_event_id) &&
           (!b->has_approved_jp_centi || put_u64(o, "approved_jp_centi", b->approved_jp_centi));
}

/* enrolled */

static jpl_err enrolled_from(const json_t *o, Jpl__Event *ev, jpl_error *e)
{
    NEW_BODY(ev, enrolled, jpl__enrolled__init, JPL__EVENT__BODY_ENROLLED);
    return get_str(o, "", "activity_id", true, &ev->enrolled->activity_id, e);
}

static jpl_err enrolled_check(const Jpl__Event *ev, jpl_error *e)
{
    NEED_BODY(ev, enrolled, "enrolled");
    return check_text("", "activity_id", ev->enrolled->activity_id, true, JPL_MAX_ACTIVITY_ID,
                      false, e);
}

static bool enrolled_to(json_t *o, const Jpl__Event *ev)
{
    return put_str(o, "activity_id", ev->enrolled->activity_id);
}

/* completed */

static jpl_err completed_from(const json_t *o, Jpl__Event *ev, jpl_error *e)
{
    NEW_BODY(ev, completed, jpl__completed__init, JPL__EVENT__BODY_COMPLETED);
    Jpl__Completed *b = ev->completed;
    bool has = false;
    TRY(get_uuid(o, "enrollment_event_id", true, &b->enrollment_event_id, e));
    TRY(get_jp(o, "", "jp_centi", true, NULL, &b->jp_centi, e));
    TRY(get_sha256(o, "evidence_sha256", &b->evidence_sha256, e));
    TRY(get_uint(o, "", "completed_at_ms", true, JPL_MIN_TIME_MS, JPL_MAX_TIME_MS, TIME_NOTE, &has,
                 &b->completed_at_ms, e));
    return get_u32(o, "", "duration_minutes", false, 1, JPL_MAX_DURATION_MINUTES, "",
                   &b->has_duration_minutes, &b->duration_minutes, e);
}

static jpl_err completed_check(const Jpl__Event *ev, jpl_error *e)
{
    NEED_BODY(ev, completed, "completed");
    const Jpl__Completed *b = ev->completed;
    TRY(check_id("enrollment_event_id", &b->enrollment_event_id, e));
    TRY(check_jp("", "jp_centi", b->jp_centi, e));
    TRY(check_len("evidence_sha256", &b->evidence_sha256, JPL_SHA256_LEN, "a SHA-256 digest", e));
    TRY(check_time("completed_at_ms", b->completed_at_ms, e));
    if (b->has_duration_minutes)
        TRY(check_range("", "duration_minutes", b->duration_minutes, 1, JPL_MAX_DURATION_MINUTES,
                        "", e));
    return JPL_OK;
}

static bool completed_to(json_t *o, const Jpl__Event *ev)
{
    const Jpl__Completed *b = ev->completed;
    return put_uuid(o, "enrollment_event_id", &b->enrollment_event_id) &&
           put_u64(o, "jp_centi", b->jp_centi) &&
           put_sha256(o, "evidence_sha256", &b->evidence_sha256) &&
           put_u64(o, "completed_at_ms", b->completed_at_ms) &&
           (!b->has_duration_minutes || put_u64(o, "duration_minutes", b->duration_minutes));
}

/* recognized */

static jpl_err recognized_from(const json_t *o, Jpl__Event *ev, jpl_error *e)
{
    NEW_BODY(ev, recognized, jpl__recognized__init, JPL__EVENT__BODY_RECOGNIZED);
    Jpl__Recognized *b = ev->recognized;
    TRY(get_uuid(o, "completion_event_id", true, &b->completion_event_id, e));
    TRY(get_jp(o, "", "jp_centi", true, NULL, &b->jp_centi, e));
    return get_str(o, "", "basis", true, &b->basis, e);
}

static jpl_err recognized_check(const Jpl__Event *ev, jpl_error *e)
{
    NEED_BODY(ev, recognized, "recognized");
    const Jpl__Recognized *b = ev->recognized;
    TRY(check_id("completion_event_id", &b->completion_event_id, e));
    TRY(check_jp("", "jp_centi", b->jp_centi, e));
    return check_text("", "basis", b->basis, true, JPL_MAX_BASIS, false, e);
}

static bool recognized_to(json_t *o, const Jpl__Event *ev)
{
    const Jpl__Recognized *b = ev->recognized;
    return put_uuid(o, "completion_event_id", &b->completion_event_id) &&
           put_u64(o, "jp_centi", b->jp_centi) && put_str(o, "basis", b->basis);
}

/* revoked */

static jpl_err revoked_from(const json_t *o, Jpl__Event *ev, jpl_error *e)
{
    NEW_BODY(ev, revoked, jpl__revoked__init, JPL__EVENT__BODY_REVOKED);
    Jpl__Revoked *b = ev->revoked;
    TRY(get_uuid(o, "target_event_id", true, &b->target_event_id, e));
    return get_str(o, "", "reason", true, &b->reason, e);
}

static jpl_err revoked_check(const Jpl__Event *ev, jpl_error *e)
{
    NEED_BODY(ev, revoked, "revoked");
    const Jpl__Revoked *b = ev->revoked;
    TRY(check_id("target_event_id", &b->target_event_id, e));
    return check_text("", "reason", b->reason, true, JPL_MAX_REASON, false, e);
}

static bool revoked_to(json_t *o, const Jpl__Event *ev)
{
    const Jpl__Revoked *b = ev->revoked;
    return put_uuid(o, "target_event_id", &b->target_event_id) && put_str(o, "reason", b->reason);
}

/* ---- the type table ----------------------------------------------------------------------- */

typedef enum { NIP_FORBIDDEN, NIP_REQUIRED, NIP_OPTIONAL } nip_rule;

typedef struct {
    const char *name;
    Jpl__Event__BodyCase body_case;
    nip_rule nip;
    const char *const *fields; /* body fields, NULL-terminated */
    jpl_err (*from_json)(const json_t *obj, Jpl__Event *ev, jpl_error *e);
    jpl_err (*check)(const Jpl__Event *ev, jpl_error *e);
    bool (*to_json)(json_t *obj, const Jpl__Event *ev);
} event_type;

#define FIELDS(...) ((const char *const[]){__VA_ARGS__, NULL})

static const event_type TYPES[] = {
    {"key_registered", JPL__EVENT__BODY_KEY_REGISTERED, NIP_FORBIDDEN,
     FIELDS("public_key", "name", "role"), key_registered_from, key_registered_check,
     key_registered_to},
    {"key_revoked", JPL__EVENT__BODY_KEY_REVOKED, NIP_FORBIDDEN, FIELDS("public_key", "reason"),
     key_revoked_from, key_revoked_check, key_revoked_to},
    {"policy_set", JPL__EVENT__BODY_POLICY_SET, NIP_FORBIDDEN,
     FIELDS("effective_year", "pns_floor_jp_centi", "pppk_cap_jp_centi", "minutes_per_jp",
            "conversions", "international_bonus_percent"),
     policy_set_from, policy_set_check, policy_set_to},
    {"employee_registered", JPL__EVENT__BODY_EMPLOYEE_REGISTERED, NIP_REQUIRED,
     FIELDS("kind", "unit", "cap_exempt", "contract_start"), employee_registered_from,
     employee_registered_check, employee_registered_to},
    {"employee_updated", JPL__EVENT__BODY_EMPLOYEE_UPDATED, NIP_REQUIRED,
     FIELDS("kind", "unit", "cap_exempt", "contract_start"), employee_updated_from,
     employee_updated_check, employee_updated_to},
    {"employee_exited", JPL__EVENT__BODY_EMPLOYEE_EXITED, NIP_REQUIRED, FIELDS("reason"),
     employee_exited_from, employee_exited_check, employee_exited_to},
    {"activity_defined", JPL__EVENT__BODY_ACTIVITY_DEFINED, NIP_FORBIDDEN,
     FIELDS("activity_id", "title", "mode", "jp_centi", "form", "days", "international"),
     activity_defined_from, activity_defined_check, activity_defined_to},
    {"plan_submitted", JPL__EVENT__BODY_PLAN_SUBMITTED, NIP_REQUIRED, FIELDS("year", "items"),
     plan_submitted_from, plan_submitted_check, plan_submitted_to},
    {"plan_approved", JPL__EVENT__BODY_PLAN_APPROVED, NIP_OPTIONAL,
     FIELDS("plan_event_id", "approved_jp_centi"), plan_approved_from, plan_approved_check,
     plan_approved_to},
    {"enrolled", JPL__EVENT__BODY_ENROLLED, NIP_REQUIRED, FIELDS("activity_id"), enrolled_from,
     enrolled_check, enrolled_to},
    {"completed", JPL__EVENT__BODY_COMPLETED, NIP_REQUIRED,
     FIELDS("enrollment_event_id", "jp_centi", "evidence_sha256", "completed_at_ms",
            "duration_minutes"),
     completed_from, completed_check, completed_to},
    {"recognized", JPL__EVENT__BODY_RECOGNIZED, NIP_REQUIRED,
     FIELDS("completion_event_id", "jp_centi", "basis"), recognized_from, recognized_check,
     recognized_to},
    {"revoked", JPL__EVENT__BODY_REVOKED, NIP_OPTIONAL, FIELDS("target_event_id", "reason"),
     revoked_from, revoked_check, revoked_to},
};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])

static const char *const COMMON_FIELDS[] = {"type", "id", "nip", "issued_at_ms", "expected_version",
                                            NULL};

static const event_type *type_by_case(int body_case)
{
    for (size_t i = 0; i < N_TYPES; i++)
        if ((int)TYPES[i].body_case == body_case)
            return &TYPES[i];
    return NULL;
}

static const event_type *type_by_name(const char *name)
{
    for (size_t i = 0; name != NULL && i < N_TYPES; i++)
        if (strcmp(TYPES[i].name, name) == 0)
            return &TYPES[i];
    return NULL;
}

const char *jpl_event_type_name(const Jpl__Event *ev)
{
    const event_type *t = ev != NULL ? type_by_case((int)ev->body_case) : NULL;
    return t != NULL ? t->name : NULL;
}

int jpl_event_type_from_name(const char *name)
{
    const event_type *t = type_by_name(name);
    return t != NULL ? (int)t->body_case : 0;
}

/* ---- free --------------------------------------------------------------------------------- */

void jpl_event_free(Jpl__Event *ev)
{
    if (ev == NULL)
        return;
    free(ev->event_id.data);
    free(ev->nip);
    switch (ev->body_case) {
    case JPL__EVENT__BODY_KEY_REGISTERED:
        if (ev->key_registered != NULL) {
            free(ev->key_registered->public_key.data);
            free(ev->key_registered->name);
        }
        free(ev->key_registered);
        break;
    case JPL__EVENT__BODY_KEY_REVOKED:
        if (ev->key_revoked != NULL) {
            free(ev->key_revoked->public_key.data);
            free(ev->key_revoked->reason);
        }
        free(ev->key_revoked);
        break;
    case JPL__EVENT__BODY_POLICY_SET:
        if (ev->policy_set != NULL) {
            for (size_t i = 0; i < ev->policy_set->n_conversions; i++) {
                if (ev->policy_set->conversions[i] != NULL)
                    free(ev->policy_set->conversions[i]->form);
                free(ev->policy_set->conversions[i]);
            }
            free(ev->policy_set->conversions);
        }
        free(ev->policy_set);
        break;
    case JPL__EVENT__BODY_EMPLOYEE_REGISTERED:
        if (ev->employee_registered != NULL) {
            free(ev->employee_registered->unit);
            free(ev->employee_registered->contract_start);
        }
        free(ev->employee_registered);
        break;
    case JPL__EVENT__BODY_EMPLOYEE_UPDATED:
        if (ev->employee_updated != NULL) {
            free(ev->employee_updated->unit);
            free(ev->employee_updated->contract_start);
        }
        free(ev->employee_updated);
        break;
    case JPL__EVENT__BODY_EMPLOYEE_EXITED:
        if (ev->employee_exited != NULL)
            free(ev->employee_exited->reason);
        free(ev->employee_exited);
        break;
    case JPL__EVENT__BODY_ACTIVITY_DEFINED:
        if (ev->activity_defined != NULL) {
            free(ev->activity_defined->activity_id);
            free(ev->activity_defined->title);
            free(ev->activity_defined->form);
        }
        free(ev->activity_defined);
        break;
    case JPL__EVENT__BODY_PLAN_SUBMITTED:
        if (ev->plan_submitted != NULL) {
            for (size_t i = 0; i < ev->plan_submitted->n_items; i++) {
                if (ev->plan_submitted->items[i] != NULL)
                    free(ev->plan_submitted->items[i]->activity_id);
                free(ev->plan_submitted->items[i]);
            }
            free(ev->plan_submitted->items);
        }
        free(ev->plan_submitted);
        break;
    case JPL__EVENT__BODY_PLAN_APPROVED:
        if (ev->plan_approved != NULL)
            free(ev->plan_approved->plan_event_id.data);
        free(ev->plan_approved);
        break;
    case JPL__EVENT__BODY_ENROLLED:
        if (ev->enrolled != NULL)
            free(ev->enrolled->activity_id);
        free(ev->enrolled);
        break;
    case JPL__EVENT__BODY_COMPLETED:
        if (ev->completed != NULL) {
            free(ev->completed->enrollment_event_id.data);
            free(ev->completed->evidence_sha256.data);
        }
        free(ev->completed);
        break;
    case JPL__EVENT__BODY_RECOGNIZED:
        if (ev->recognized != NULL) {
            free(ev->recognized->completion_event_id.data);
            free(ev->recognized->basis);
        }
        free(ev->recognized);
        break;
    case JPL__EVENT__BODY_REVOKED:
        if (ev->revoked != NULL) {
            free(ev->revoked->target_event_id.data);
            free(ev->revoked->reason);
        }
        free(ev->revoked);
        break;
    case JPL__EVENT__BODY__NOT_SET:
    default:
        break;
    }
    free(ev);
}

/* ---- validate ----------------------------------------------------------------------------- */

jpl_err jpl_text_field_check(const char *field, const char *s, size_t max, jpl_error *e)
{
    return check_text("", field, s, true, max, false, e);
}

jpl_err jpl_event_validate(const Jpl__Event *ev, uint64_t now_ms, jpl_error *e)
{
    if (ev == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "no event");
    TRY(check_known(&ev->base, "the event", e));
    TRY(check_id("id", &ev->event_id, e));
    const event_type *t = type_by_case((int)ev->body_case);
    if (t == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "the event has no known body (body case %d)",
                        (int)ev->body_case);
    if (ev->nip != NULL && t->nip == NIP_FORBIDDEN)
        return jpl_fail(
            e, JPL_ERR_BAD_INPUT,
            "field 'nip' is not allowed in an event of type '%s' (it is about no employee)",
            t->name);
    if (ev->nip == NULL && t->nip == NIP_REQUIRED)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "field 'nip' is required for an event of type '%s'",
                        t->name);
    if (ev->nip != NULL) {
        uint32_t now = now_ms != 0 ? jpl_time_yyyymm(now_ms) : 0;
        jpl_err rc = jpl_nip_validate(ev->nip, strnlen(ev->nip, 1024), now, e);
        if (rc != JPL_OK) {
            jpl_error_prefix(e, "field 'nip'");
            return rc;
        }
    }
    TRY(check_time("issued_at_ms", ev->issued_at_ms, e));
    if (ev->has_expected_version) {
        if (ev->nip == NULL)
            return jpl_fail(e, JPL_ERR_BAD_INPUT,
                            "field 'expected_version' needs a 'nip': it is the version of that "
                            "employee's stream");
        TRY(check_range("", "expected_version", ev->expected_version, 0, INT64_MAX, "", e));
    }
    return t->check(ev, e);
}

/* ---- from JSON ---------------------------------------------------------------------------- */

/* Every key of obj must be a common field or a body field of type t. */
static jpl_err check_keys(const json_t *obj, const event_type *t, jpl_error *e)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        (void)v;
        if (in_list(COMMON_FIELDS, key) || in_list(t->fields, key))
            continue;
        char sh[SHOWN_MAX + 4];
        for (size_t i = 0; i < N_TYPES; i++)
            if (in_list(TYPES[i].fields, key))
                return jpl_fail(e, JPL_ERR_BAD_INPUT,
                                "field '%s' does not belong in an event of type '%s'",
                                shown(sh, key), t->name);
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "unknown field '%s'", shown(sh, key));
    }
    return JPL_OK;
}

static jpl_err common_from(const json_t *obj, const event_type *t, uint64_t now_ms, Jpl__Event *ev,
                           jpl_error *e)
{
    const json_t *v;
    bool has = false;
    TRY(get_uuid(obj, "id", false, &ev->event_id, e));
    if (ev->event_id.data == NULL) {
        uint8_t id[JPL_EVENT_ID_LEN];
        jpl_uuid_v4(id);
        TRY(set_bytes(&ev->event_id, id, sizeof id, e));
    }
    TRY(field(obj, "", "nip", false, &v, e));
    if (v != NULL && t->nip == NIP_FORBIDDEN)
        return jpl_fail(
            e, JPL_ERR_BAD_INPUT,
            "field 'nip' is not allowed in an event of type '%s' (it is about no employee)",
            t->name);
    if (v == NULL && t->nip == NIP_REQUIRED)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "field 'nip' is required for an event of type '%s'",
                        t->name);
    TRY(get_str(obj, "", "nip", false, &ev->nip, e));
    TRY(get_uint(obj, "", "issued_at_ms", false, JPL_MIN_TIME_MS, JPL_MAX_TIME_MS, TIME_NOTE, &has,
                 &ev->issued_at_ms, e));
    if (!has) {
        if (now_ms == 0)
            return jpl_fail(e, JPL_ERR_BAD_INPUT,
                            "field 'issued_at_ms' is required (no current time to default to)");
        ev->issued_at_ms = now_ms;
    }
    TRY(get_uint(obj, "", "expected_version", false, 0, INT64_MAX, "", &has, &ev->expected_version,
                 e));
    ev->has_expected_version = has ? 1 : 0;
    return JPL_OK;
}

jpl_err jpl_event_from_json(const json_t *obj, uint64_t now_ms, Jpl__Event **event_out,
                            jpl_error *e)
{
    const json_t *tv;
    const char *tname;
    size_t tlen;
    if (obj == NULL || !json_is_object(obj))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "an event must be a JSON object, got %s",
                        obj != NULL ? json_kind(obj) : "nothing");
    TRY(field(obj, "", "type", true, &tv, e));
    TRY(string_of("", "type", tv, &tname, &tlen, e));
    const event_type *t = type_by_name(tname);
    if (t == NULL) {
        char sh[SHOWN_MAX + 4];
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "unknown event type '%s' (one of key_registered, key_revoked, "
                        "policy_set, employee_registered, employee_updated, employee_exited, "
                        "activity_defined, plan_submitted, plan_approved, enrolled, completed, "
                        "recognized, revoked)",
                        shown(sh, tname));
    }
    TRY(check_keys(obj, t, e));

    Jpl__Event *ev = calloc(1, sizeof *ev);
    if (ev == NULL)
        return oom(e);
    jpl__event__init(ev);
    jpl_err rc = common_from(obj, t, now_ms, ev, e);
    if (rc == JPL_OK)
        rc = t->from_json(obj, ev, e);
    if (rc == JPL_OK)
        rc = jpl_event_validate(ev, now_ms, e);
    if (rc != JPL_OK) {
        jpl_event_free(ev);
        return rc;
    }
    *event_out = ev;
    return JPL_OK;
}

/* jansson's syntax error, with its position as a reader counts it (the column alone for a
 * one-line text) and its words where they name a jansson flag. */
static jpl_err json_syntax_error(const json_error_t *jerr, jpl_error *e)
{
    const char *why = strstr(jerr->text, "JSON_ALLOW_NUL") != NULL
                          ? "\\u0000 (a NUL character) is not allowed in a string"
                          : jerr->text;
    if (jerr->line <= 1)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "not JSON at column %d: %s", jerr->column, why);
    return jpl_fail(e, JPL_ERR_BAD_INPUT, "not JSON at line %d, column %d: %s", jerr->line,
                    jerr->column, why);
}

jpl_err jpl_event_from_json_text(const char *text, size_t len, uint64_t now_ms,
                                 Jpl__Event **event_out, jpl_error *e)
{
    if (text == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "no JSON text");
    if (len > JPL_EVENT_JSON_MAX)
        return jpl_fail(e, JPL_ERR_TOO_LARGE, "event JSON is %zu bytes, more than %u", len,
                        JPL_EVENT_JSON_MAX);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--; /* a line's own end: positions then read as on the line */
    json_error_t jerr;
    json_t *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (obj == NULL)
        return json_syntax_error(&jerr, e);
    jpl_err rc = jpl_event_from_json(obj, now_ms, event_out, e);
    json_decref(obj);
    return rc;
}

/* ---- to JSON ------------------------------------------------------------------------------ */

/* The body message of ev, read through the union member its body_case names. */
static const void *body_of(const Jpl__Event *ev)
{
    switch (ev->body_case) {
    case JPL__EVENT__BODY_KEY_REGISTERED:
        return ev->key_registered;
    case JPL__EVENT__BODY_KEY_REVOKED:
        return ev->key_revoked;
    case JPL__EVENT__BODY_POLICY_SET:
        return ev->policy_set;
    case JPL__EVENT__BODY_EMPLOYEE_REGISTERED:
        return ev->employee_registered;
    case JPL__EVENT__BODY_EMPLOYEE_UPDATED:
        return ev->employee_updated;
    case JPL__EVENT__BODY_EMPLOYEE_EXITED:
        return ev->employee_exited;
    case JPL__EVENT__BODY_ACTIVITY_DEFINED:
        return ev->activity_defined;
    case JPL__EVENT__BODY_PLAN_SUBMITTED:
        return ev->plan_submitted;
    case JPL__EVENT__BODY_PLAN_APPROVED:
        return ev->plan_approved;
    case JPL__EVENT__BODY_ENROLLED:
        return ev->enrolled;
    case JPL__EVENT__BODY_COMPLETED:
        return ev->completed;
    case JPL__EVENT__BODY_RECOGNIZED:
        return ev->recognized;
    case JPL__EVENT__BODY_REVOKED:
        return ev->revoked;
    case JPL__EVENT__BODY__NOT_SET:
    default:
        return NULL;
    }
}

json_t *jpl_event_to_json(const Jpl__Event *ev)
{
    const event_type *t = ev != NULL ? type_by_case((int)ev->body_case) : NULL;
    if (t == NULL || body_of(ev) == NULL)
        return NULL;
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    bool ok = put(o, "type", json_string(t->name)) && put_uuid(o, "id", &ev->event_id) &&
              put_str(o, "nip", ev->nip) && put_u64(o, "issued_at_ms", ev->issued_at_ms) &&
              (!ev->has_expected_version || put_u64(o, "expected_version", ev->expected_version)) &&
              t->to_json(o, ev);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}
