/*
 * xAPI statements as ledger events (see jpl/xapi.h and docs/IMPORT.md). Statements are untrusted
 * input: every property is type-checked before use, every string copied with a bound, and the
 * checks name the property that failed.
 */
#include "jpl/xapi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpl/crypto.h"
#include "jpl/event_json.h"

#define MINUTE_MS UINT64_C(60000)
#define DAY_MS UINT64_C(86400000)
#define MAX_DURATION_MS (UINT64_C(527040) * MINUTE_MS) /* the ledger's 366-day limit */

/* ---- small parsers ---- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* An absolute IRI: a scheme, ':', then at least one character, no spaces or controls. */
static bool is_iri(const char *s)
{
    if (s == NULL || !is_alpha(s[0]))
        return false;
    size_t i = 1;
    while (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    if (s[i] != ':' || s[i + 1] == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

static bool is_uuid(const char *s, uint8_t out[16])
{
    uint8_t tmp[16];
    return s != NULL && jpl_uuid_parse(s, strlen(s), out ? out : tmp);
}

/* Reads n digits at *p into *v; advances. */
static bool digits(const char **p, int n, uint32_t *v)
{
    uint32_t x = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit((*p)[i]))
            return false;
        x = x * 10 + (uint32_t)((*p)[i] - '0');
    }
    *p += n;
    *v = x;
    return true;
}

static bool leap(uint32_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static uint32_t month_days(uint32_t y, uint32_t m)
{
    static const uint8_t d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool jpl_xapi_parse_time(const char *s, uint64_t *ms_out)
{
    if (s == NULL)
        return false;
    const char *p = s;
    uint32_t y, mo, d, h, mi, sec, ms = 0;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d) || (*p != 'T' && *p != 't'))
        return false;
    p++;
    if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
        !digits(&p, 2, &sec))
        return false;
    if (*p == '.') {
        p++;
        if (!is_digit(*p))
            return false;
        uint32_t scale = 100;
        while (is_digit(*p)) {
            ms += (uint32_t)(*p - '0') * scale;
            scale /= 10;
            p++;
        }
    }
    int64_t off_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        char sign = *p++;
        uint32_t oh, om;
        if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 23 || om > 59)
            return false;
        if (sign == '-' && oh == 0 && om == 0)
            return false; /* RFC 3339 4.3: unknown local offset */
        off_min = (sign == '+' ? 1 : -1) * (int64_t)(oh * 60 + om);
    } else {
        return false;
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 ||
        sec > 60)
        return false;
    if (sec == 60)
        sec = 59; /* a leap second: the ledger's clock has none */
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off_min * 60;
    if (t < 0)
        return false;
    *ms_out = (uint64_t)t * 1000u + ms;
    return true;
}

bool jpl_xapi_parse_duration(const char *s, uint64_t *ms_out, bool *calendar_out)
{
    static const char DATE_UNITS[] = "YMWD", TIME_UNITS[] = "HMS";
    static const uint64_t DATE_MS[] = {365 * DAY_MS, 30 * DAY_MS, 7 * DAY_MS, DAY_MS};
    static const uint64_t TIME_MS[] = {3600000, 60000, 1000};
    if (s == NULL || *s != 'P')
        return false;
    const char *p = s + 1;
    bool in_time = false, any = false, calendar = false, fraction_seen = false;
    int last_unit = -1;
    uint64_t total = 0;
    while (*p) {
        if (*p == 'T') {
            if (in_time)
                return false;
            in_time = true;
            last_unit = -1;
            p++;
            if (*p == '\0')
                return false; /* "T" needs a time element */
            continue;
        }
        if (fraction_seen || !is_digit(*p))
            return false;
        uint64_t whole = 0, frac = 0, scale = 1;
        int nd = 0;
        while (is_digit(*p)) {
            if (++nd > 12)
                return false;
            whole = whole * 10 + (uint64_t)(*p++ - '0');
        }
        if (*p == '.' || *p == ',') {
            p++;
            if (!is_digit(*p))
                return false;
            int nf = 0;
            while (is_digit(*p)) {
                if (nf++ < 9) {
                    frac = frac * 10 + (uint64_t)(*p - '0');
                    scale *= 10;
                }
                p++;
            }
            fraction_seen = true; /* only the last element may have a fraction */
        }
        const char *units = in_time ? TIME_UNITS : DATE_UNITS;
        const char *u = *p ? strchr(units, *p) : NULL;
        if (u == NULL)
            return false;
        int idx = (int)(u - units);
        if (idx <= last_unit)
            return false; /* out of order or repeated */
        last_unit = idx;
        uint64_t unit = in_time ? TIME_MS[idx] : DATE_MS[idx];
        if (!in_time && idx <= 1)
            calendar = true;
        total += whole * unit + frac * unit / scale;
        any = true;
        p++;
    }
    if (!any)
        return false;
    *ms_out = total;
    if (calendar_out)
        *calendar_out = calendar;
    return true;
}

uint32_t jpl_xapi_duration_jp(uint64_t duration_ms, uint32_t minutes_per_jp)
{
    if (minutes_per_jp == 0)
        return 0;
    uint64_t centi = duration_ms / 600u / minutes_per_jp; /* ms*100 / (mpj*60000) */
    return centi > JPL_MAX_JP_CENTI ? JPL_MAX_JP_CENTI : (uint32_t)centi;
}

void jpl_xapi_derive_id(uint8_t out[16], const char *tag, const void *data, size_t len)
{
    uint8_t h[JPL_SHA256_LEN];
    jpl_bytes parts[2] = {{(const uint8_t *)tag, strlen(tag)}, {data, len}};
    jpl_sha256_parts(h, parts, 2);
    memcpy(out, h, 16);
    out[6] = (uint8_t)((out[6] & 0x0F) | 0x80);
    out[8] = (uint8_t)((out[8] & 0x3F) | 0x80);
}

/* ---- the validity check ---- */

/* No JSON null anywhere, except inside "extensions" objects (xAPI Data 2.2). */
static jpl_err no_nulls(const json_t *v, char *path, size_t cap, size_t plen, jpl_error *e)
{
    if (json_is_null(v))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "'%s' is null (only extension values may be null)",
                        path);
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c)
        {
            if (strcmp(k, "extensions") == 0)
                continue;
            int n = snprintf(path + plen, cap - plen, "%s%s", plen ? "." : "", k);
            size_t nlen = n < 0 || (size_t)n >= cap - plen ? cap - 1 : plen + (size_t)n;
            jpl_err rc = no_nulls(c, path, cap, nlen, e);
            path[plen] = '\0';
            if (rc != JPL_OK)
                return rc;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c)
        {
            int n = snprintf(path + plen, cap - plen, "[%zu]", i);
            size_t nlen = n < 0 || (size_t)n >= cap - plen ? cap - 1 : plen + (size_t)n;
            jpl_err rc = no_nulls(c, path, cap, nlen, e);
            path[plen] = '\0';
            if (rc != JPL_OK)
                return rc;
        }
    }
    return JPL_OK;
}

static const char *str_of(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* A property that, when present, must be a string. */
static jpl_err opt_string(const json_t *o, const char *key, const char *where, jpl_error *e)
{
    json_t *v = json_object_get(o, key);
    if (v != NULL && !json_is_string(v))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "'%s.%s' must be a string", where, key);
    return JPL_OK;
}

/* An Agent or Group (xAPI Data 2.4.2). */
static jpl_err check_actor(const json_t *a, const char *where, jpl_error *e)
{
    if (!json_is_object(a))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "'%s' must be an object", where);
    json_t *ot = json_object_get(a, "objectType");
    const char *type = "Agent";
    if (ot != NULL) {
        type = json_string_value(ot);
        if (type == NULL || (strcmp(type, "Agent") != 0 && strcmp(type, "Group") != 0))
            return jpl_fail(e, JPL_ERR_BAD_INPUT, "'%s.objectType' must be Agent or Group", where);
    }
    jpl_err rc = opt_string(a, "name", where, e);
    if (rc != JPL_OK)
        return rc;
    static const char *const IFIS[] = {"mbox", "mbox_sha1sum", "openid", "account"};
    int n = 0;
    for (size_t i = 0; i < 4; i++)
        n += json_object_get(a, IFIS[i]) != NULL;
    bool group = strcmp(type, "Group") == 0;
    if (n > 1)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "'%s' has more than one identifier", where);
    if (n == 0 && !(group && json_object_get(a, "member") != NULL))
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "'%s' has no identifier (mbox, mbox_sha1sum, openid or account)", where);
    json_t *mbox = json_object_get(a, "mbox");
    if (mbox && (!json_is_string(mbox) || strncmp(json_string_value(mbox), "mailto:", 7) != 0))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "'%s.mbox' must be a mailto: IRI", where);
    json_t *sha = json_object_get(a, "mbox_sha1sum");
    if (sha && (!json_is_string(sha) || strlen(json_string_value(sha)) != 40))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "'%s.mbox_sha1sum' must be 40 hex digits", where);
    json_t *oid = json_object_get(a, "openid");
    if (oid && !is_iri(json_string_value(oid)))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "'%s.openid' must be an IRI", where);
    json_t *acc = json_object_get(a, "account");
    if (acc && (!json_is_object(acc) || !is_iri(str_of(acc, "homePage")) ||
                !json_is_string(json_object_get(acc, "name"))))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "'%s.account' needs a homePage IRI and a name string",
                        where);
    json_t *members = json_object_get(a, "member");
    if (members != NULL) {
        if (!group || !json_is_array(members))
            return jpl_fail(e, JPL_ERR_BAD_INPUT, "'%s.member' must be an array of a Group", where);
        size_t i;
        json_t *m;
        json_array_foreach(members, i, m)
        {
            char sub[96];
            snprintf(sub, sizeof sub, "%s.member[%zu]", where, i);
            if (json_is_object(m) && str_of(m, "objectType") &&
                strcmp(str_of(m, "objectType"), "Agent") != 0)
                return jpl_fail(e, JPL_ERR_BAD_INPUT, "'%s' must be an Agent", sub);
            if ((rc = check_actor(m, sub, e)) != JPL_OK)
                return rc;
        }
    }
    return JPL_OK;
}

static jpl_err check_object(const json_t *o, jpl_error *e)
{
    if (!json_is_object(o))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "'object' must be an object");
    const char *type = "Activity";
    json_t *ot = json_object_get(o, "objectType");
    if (ot != NULL && (type = json_string_value(ot)) == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "'object.objectType' must be a string");
    if (strcmp(type, "Activity") == 0) {
        if (!is_iri(str_of(o, "id")))
            return jpl_fail(e, JPL_ERR_BAD_INPUT, "'object.id' of an Activity must be an IRI");
        json_t *def = json_object_get(o, "definition");
        if (def != NULL && !json_is_object(def))
            return jpl_fail(e, JPL_ERR_BAD_INPUT, "'object.definition' must be an object");
        return JPL_OK;
    }
    if (strcmp(type, "StatementRef") == 0) {
        if (!is_uuid(str_of(o, "id"), NULL))
            return jpl_fail(e, JPL_ERR_BAD_INPUT, "'object.id' of a StatementRef must be a UUID");
        return JPL_OK;
    }
    if (strcmp(type, "Agent") == 0 || strcmp(type, "Group") == 0)
        return check_actor(o, "object", e);
    if (strcmp(type, "SubStatement") == 0) {
        if (!json_is_object(json_object_get(o, "actor")) ||
            !json_is_object(json_object_get(o, "verb")) ||
            !json_is_object(json_object_get(o, "object")))
            return jpl_fail(e, JPL_ERR_BAD_INPUT, "a SubStatement needs actor, verb and object");
        return JPL_OK;
    }
    return jpl_fail(e, JPL_ERR_BAD_INPUT, "'object.objectType' %s is not an xAPI object type",
                    type);
}

jpl_err jpl_xapi_check(const json_t *st, jpl_error *e)
{
    static const char *const TOP[] = {"id",        "actor",   "verb",       "object",
                                      "result",    "context", "timestamp",  "stored",
                                      "authority", "version", "attachments"};
    if (!json_is_object(st))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "a statement must be a JSON object");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)st, k, v)
    {
        bool known = false;
        for (size_t i = 0; i < sizeof TOP / sizeof TOP[0]; i++)
            known = known || strcmp(k, TOP[i]) == 0;
        if (!known)
            return jpl_fail(e, JPL_ERR_BAD_INPUT, "unknown statement property '%.64s'", k);
    }
    char path[256] = "";
    jpl_err rc = no_nulls(st, path, sizeof path, 0, e);
    if (rc != JPL_OK)
        return rc;
    json_t *id = json_object_get(st, "id");
    if (id != NULL && !is_uuid(json_string_value(id), NULL))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "'id' must be a UUID");
    json_t *actor = json_object_get(st, "actor"), *verb = json_object_get(st, "verb");
    json_t *object = json_object_get(st, "object");
    if (actor == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "'actor' is required");
    if (verb == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "'verb' is required");
    if (object == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "'object' is required");
    if ((rc = check_actor(actor, "actor", e)) != JPL_OK)
        return rc;
    if (!json_is_object(verb) || !is_iri(str_of(verb, "id")))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "'verb' must be an object whose 'id' is an IRI");
    json_t *display = json_object_get(verb, "display");
    if (display != NULL && !json_is_object(display))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "'verb.display' must be a language map");
    if ((rc = check_object(object, e)) != JPL_OK)
        return rc;
    const char *type = str_of(object, "objectType");
    if (strcmp(str_of(verb, "id"), JPL_XAPI_VERBS "voided") == 0 &&
        (type == NULL || strcmp(type, "StatementRef") != 0))
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "a 'voided' statement's object must be a "
                        "StatementRef");
    static const char *const TIMES[] = {"timestamp", "stored"};
    for (size_t i = 0; i < 2; i++) {
        json_t *t = json_object_get(st, TIMES[i]);
        uint64_t ms;
        if (t != NULL && !jpl_xapi_parse_time(json_string_value(t), &ms))
            return jpl_fail(e, JPL_ERR_BAD_INPUT,
                            "'%s' %.40s is not an RFC 3339 date-time with a known offset", TIMES[i],
                            json_string_value(t) ? json_string_value(t) : "(not text)");
    }
    json_t *result = json_object_get(st, "result");
    if (result != NULL && !json_is_object(result))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "'result' must be an object");
    json_t *dur = json_object_get(result, "duration");
    uint64_t dms;
    if (dur != NULL && !jpl_xapi_parse_duration(json_string_value(dur), &dms, NULL))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "'result.duration' %.40s is not an ISO 8601 duration",
                        json_string_value(dur) ? json_string_value(dur) : "(not text)");
    json_t *context = json_object_get(st, "context");
    if (context != NULL && !json_is_object(context))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "'context' must be an object");
    json_t *reg = json_object_get(context, "registration");
    if (reg != NULL && !is_uuid(json_string_value(reg), NULL))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "'context.registration' must be a UUID");
    json_t *version = json_object_get(st, "version");
    if (version != NULL &&
        (!json_is_string(version) || strncmp(json_string_value(version), "1.0", 3) != 0))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "'version' must be a 1.0.x version");
    return JPL_OK;
}

/* ---- mapping ---- */

static bool verb_kind(const char *iri, jpl_xapi_kind *kind)
{
    static const struct {
        const char *verb;
        jpl_xapi_kind kind;
    } VERBS[] = {
        {"completed", JPL_XAPI_COMPLETED}, {"passed", JPL_XAPI_COMPLETED},
        {"attended", JPL_XAPI_COMPLETED},  {"attempted", JPL_XAPI_ENROLLED},
        {"registered", JPL_XAPI_ENROLLED}, {"launched", JPL_XAPI_ENROLLED},
        {"failed", JPL_XAPI_FAILED},       {"voided", JPL_XAPI_VOIDED},
    };
    size_t plen = strlen(JPL_XAPI_VERBS);
    if (strncmp(iri, JPL_XAPI_VERBS, plen) != 0)
        return false;
    for (size_t i = 0; i < sizeof VERBS / sizeof VERBS[0]; i++)
        if (strcmp(iri + plen, VERBS[i].verb) == 0) {
            *kind = VERBS[i].kind;
            return true;
        }
    return false;
}

/* Copies s into out (cap bytes), controls turned into spaces, cut at a UTF-8 boundary. */
static void copy_text(char *out, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n > cap - 1) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    out[n] = '\0';
    /* C1 controls (U+0080..U+009F, UTF-8 C2 80..C2 9F) become two spaces */
    for (size_t i = 0; i + 1 < n; i++)
        if ((unsigned char)out[i] == 0xC2 && (unsigned char)out[i + 1] >= 0x80 &&
            (unsigned char)out[i + 1] <= 0x9F)
            out[i] = out[i + 1] = ' ';
}

static const char *activity_title(const json_t *object)
{
    static const char *const LANGS[] = {"id-ID", "id", "en-US", "en-GB", "en", "und"};
    json_t *name = json_object_get(json_object_get(object, "definition"), "name");
    if (!json_is_object(name))
        return NULL;
    for (size_t i = 0; i < sizeof LANGS / sizeof LANGS[0]; i++) {
        const char *t = str_of(name, LANGS[i]);
        if (t != NULL && t[0] != '\0')
            return t;
    }
    const char *k;
    json_t *v;
    json_object_foreach(name, k, v)
    {
        if (json_is_string(v) && json_string_value(v)[0] != '\0')
            return json_string_value(v);
    }
    return NULL;
}

#define unmappable(e, ...) jpl_fail(e, JPL_ERR_BAD_INPUT, __VA_ARGS__)

static jpl_err parse_actor(const json_t *actor, uint64_t now_ms, char nip[JPL_NIP_LEN + 1],
                           jpl_error *e)
{
    const char *type = str_of(actor, "objectType");
    if (type != NULL && strcmp(type, "Group") == 0)
        return unmappable(e, "the actor is a Group; only an Agent whose account name is a NIP "
                             "maps to an employee");
    static const char *const OTHER[] = {"mbox", "mbox_sha1sum", "openid"};
    for (size_t i = 0; i < 3; i++)
        if (json_object_get(actor, OTHER[i]) != NULL)
            return unmappable(e,
                              "the actor is identified by %s; only an account whose name is the "
                              "NIP maps to an employee",
                              OTHER[i]);
    const char *name = str_of(json_object_get(actor, "account"), "name");
    if (name == NULL)
        return unmappable(e, "the actor has no account");
    jpl_error ne = {0};
    if (jpl_nip_validate(name, strlen(name), now_ms ? jpl_time_yyyymm(now_ms) : 0, &ne) != JPL_OK)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "the actor's account name is not a NIP: %s", ne.msg);
    memcpy(nip, name, JPL_NIP_LEN);
    nip[JPL_NIP_LEN] = '\0';
    return JPL_OK;
}

jpl_err jpl_xapi_parse(const json_t *st, uint64_t now_ms, jpl_xapi_statement *out, jpl_error *e)
{
    memset(out, 0, sizeof *out);
    const char *verb = str_of(json_object_get(st, "verb"), "id");
    if (verb == NULL || !verb_kind(verb, &out->kind))
        return unmappable(e,
                          "verb %.200s is not mapped (completed, passed, attended, attempted, "
                          "registered, launched, failed, voided)",
                          verb ? verb : "(none)");
    snprintf(out->verb, sizeof out->verb, "%s", verb + strlen(JPL_XAPI_VERBS));
    const char *id = str_of(st, "id");
    if (id == NULL || !is_uuid(id, out->id))
        return unmappable(e, "the statement has no id (the id becomes the event id: export "
                             "statements from the LRS, which assigns them)");
    const char *t = str_of(st, "timestamp");
    if (t == NULL)
        t = str_of(st, "stored");
    if (t == NULL || !jpl_xapi_parse_time(t, &out->time_ms))
        return unmappable(e, "the statement has no timestamp or stored time");
    if (out->time_ms < JPL_MIN_TIME_MS || out->time_ms > JPL_MAX_TIME_MS)
        return unmappable(e, "the statement's time %.40s is outside 2000..2100", t);
    const json_t *object = json_object_get(st, "object");
    char *evtext = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
    if (evtext == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl_sha256(out->evidence, evtext, strlen(evtext));
    free(evtext);
    if (out->kind == JPL_XAPI_VOIDED) {
        if (!is_uuid(str_of(object, "id"), out->target))
            return unmappable(e, "the voided statement's id is not a UUID");
        return JPL_OK;
    }
    jpl_err rc = parse_actor(json_object_get(st, "actor"), now_ms, out->nip, e);
    if (rc != JPL_OK)
        return rc;
    const char *otype = str_of(object, "objectType");
    if (otype != NULL && strcmp(otype, "Activity") != 0)
        return unmappable(e, "the object is a %.40s, not an Activity", otype);
    const char *aid = str_of(object, "id");
    if (aid == NULL || strlen(aid) > JPL_XAPI_MAX_ACTIVITY_ID)
        return unmappable(e, "the activity id is longer than 256 bytes");
    copy_text(out->activity_id, sizeof out->activity_id, aid);
    if (strcmp(out->activity_id, aid) != 0)
        return unmappable(e, "the activity id contains control characters");
    const char *title = activity_title(object);
    copy_text(out->title, sizeof out->title, title ? title : aid);
    if (out->title[strspn(out->title, " ")] == '\0')
        copy_text(out->title, sizeof out->title, aid);
    const char *dur = str_of(json_object_get(st, "result"), "duration");
    if (dur != NULL) {
        bool calendar = false;
        if (!jpl_xapi_parse_duration(dur, &out->duration_ms, &calendar))
            return unmappable(e, "result.duration %.40s is not an ISO 8601 duration", dur);
        if (calendar)
            return unmappable(e,
                              "result.duration %.40s counts years or months, which have no "
                              "fixed length",
                              dur);
        if (out->duration_ms > MAX_DURATION_MS)
            return unmappable(e, "result.duration %.40s is longer than 366 days", dur);
        out->has_duration = true;
    }
    return JPL_OK;
}

/* ---- events ---- */

static json_t *uuid_json(const uint8_t id[16])
{
    char t[JPL_UUID_TEXT_LEN + 1];
    jpl_uuid_format(t, id);
    return json_string(t);
}

static json_t *base_event(const char *type, const uint8_t id[16], const char *nip, uint64_t time_ms)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "id", uuid_json(id));
    if (nip != NULL)
        json_object_set_new(o, "nip", json_string(nip));
    json_object_set_new(o, "issued_at_ms", json_integer((json_int_t)time_ms));
    return o;
}

#define TAG_ENROLLMENT "jpledger/xapi/enrollment:"
#define TAG_VOID_ENROLLMENT "jpledger/xapi/void-enrollment:"
#define TAG_ACTIVITY "jpledger/xapi/activity:"

json_t *jpl_xapi_activity_event(const jpl_xapi_statement *s, uint32_t jp_centi)
{
    uint8_t id[16];
    jpl_xapi_derive_id(id, TAG_ACTIVITY, s->activity_id, strlen(s->activity_id));
    json_t *o = base_event("activity_defined", id, NULL, s->time_ms);
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "activity_id", json_string(s->activity_id));
    json_object_set_new(o, "title", json_string(s->title));
    json_object_set_new(o, "mode", json_string("classical"));
    json_object_set_new(o, "jp_centi", json_integer(jp_centi));
    return o;
}

json_t *jpl_xapi_events(const jpl_xapi_statement *s, uint32_t jp_centi)
{
    json_t *a = json_array();
    if (a == NULL)
        return NULL;
    char idt[JPL_UUID_TEXT_LEN + 1], reason[128];
    uint8_t derived[16];
    json_t *o;
    switch (s->kind) {
    case JPL_XAPI_ENROLLED:
    case JPL_XAPI_FAILED:
        o = base_event("enrolled", s->id, s->nip, s->time_ms);
        json_object_set_new(o, "activity_id", json_string(s->activity_id));
        json_array_append_new(a, o);
        break;
    case JPL_XAPI_COMPLETED: {
        jpl_xapi_derive_id(derived, TAG_ENROLLMENT, s->id, 16);
        o = base_event("enrolled", derived, s->nip, s->time_ms);
        json_object_set_new(o, "activity_id", json_string(s->activity_id));
        json_array_append_new(a, o);
        o = base_event("completed", s->id, s->nip, s->time_ms);
        json_object_set_new(o, "enrollment_event_id", uuid_json(derived));
        json_object_set_new(o, "jp_centi", json_integer(jp_centi));
        char hex[65];
        jpl_hex_encode(hex, s->evidence, 32);
        json_object_set_new(o, "evidence_sha256", json_string(hex));
        json_object_set_new(o, "completed_at_ms", json_integer((json_int_t)s->time_ms));
        uint64_t minutes = s->duration_ms / MINUTE_MS;
        if (s->has_duration && minutes >= 1)
            json_object_set_new(o, "duration_minutes", json_integer((json_int_t)minutes));
        json_array_append_new(a, o);
        break;
    }
    case JPL_XAPI_VOIDED:
        jpl_uuid_format(idt, s->id);
        snprintf(reason, sizeof reason, "xAPI statement voided by statement %s", idt);
        o = base_event("revoked", s->id, NULL, s->time_ms);
        json_object_set_new(o, "target_event_id", uuid_json(s->target));
        json_object_set_new(o, "reason", json_string(reason));
        json_array_append_new(a, o);
        jpl_xapi_derive_id(derived, TAG_VOID_ENROLLMENT, s->id, 16);
        o = base_event("revoked", derived, NULL, s->time_ms);
        jpl_xapi_derive_id(derived, TAG_ENROLLMENT, s->target, 16);
        json_object_set_new(o, "target_event_id", uuid_json(derived));
        json_object_set_new(o, "reason", json_string(reason));
        json_array_append_new(a, o);
        break;
    }
    return a;
}
