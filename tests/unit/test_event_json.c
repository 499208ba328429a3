/*
 * Event JSON <-> Jpl__Event: every example of docs/EVENTS.md round-trips (JSON -> struct -> JSON,
 * and JSON -> struct -> protobuf bytes -> unpacked struct -> JSON); every kind of bad input is
 * refused with a message naming the field; limits hold exactly at their edges; events unpacked
 * from bytes are validated the same way. Packing and unpacking here is test scaffolding only
 * (codec.c owns protobuf-c in the library).
 */
#include "test.h"

#include <jansson.h>

#include "jpl/event_json.h"
#include "jpl/nip.h"

/* 2025-06-15T00:00:00Z: "now" for these tests. */
#define NOW_MS UINT64_C(1749945600000)

static char *read_text(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    while (buf != NULL) {
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (len < cap)
            break;
        cap *= 2;
        char *nb = realloc(buf, cap + 1);
        if (nb == NULL)
            free(buf);
        buf = nb;
    }
    fclose(f);
    if (buf != NULL) {
        buf[len] = '\0';
        *len_out = len;
    }
    return buf;
}

/* Packs ev, unpacks the bytes; the caller frees with jpl__event__free_unpacked. */
static Jpl__Event *pack_unpack(const Jpl__Event *ev, uint8_t **bytes_out, size_t *len_out)
{
    size_t n = jpl__event__get_packed_size(ev);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL)
        return NULL;
    CHECK_EQ(jpl__event__pack(ev, buf), n);
    Jpl__Event *u = jpl__event__unpack(NULL, n, buf);
    if (bytes_out != NULL) {
        *bytes_out = buf;
        *len_out = n;
    } else {
        free(buf);
    }
    return u;
}

static bool same_bytes(const Jpl__Event *a, const Jpl__Event *b)
{
    uint8_t *ba = NULL, *bb = NULL;
    size_t na = 0, nb = 0;
    Jpl__Event *ua = pack_unpack(a, &ba, &na);
    Jpl__Event *ub = pack_unpack(b, &bb, &nb);
    bool same = ua != NULL && ub != NULL && na == nb && memcmp(ba, bb, na) == 0;
    jpl__event__free_unpacked(ua, NULL);
    jpl__event__free_unpacked(ub, NULL);
    free(ba);
    free(bb);
    return same;
}

static void dump_diff(const char *what, const json_t *want, const json_t *got)
{
    char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
    char *g = got ? json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    fprintf(stderr, "  %s:\n    want %s\n    got  %s\n", what, w ? w : "?", g ? g : "(null)");
    free(w);
    free(g);
}

/*
 * The full round trip of one canonical event: from_json, to_json == input, from_json again gives
 * the same bytes, pack/unpack/to_json == input, validate accepts the unpacked event.
 */
static void round_trip(const json_t *input, const char *label)
{
    jpl_error e = {0};
    Jpl__Event *ev = NULL;
    jpl_err rc = jpl_event_from_json(input, NOW_MS, &ev, &e);
    if (rc != JPL_OK)
        fprintf(stderr, "  %s: %s\n", label, e.msg);
    REQUIRE(rc == JPL_OK && ev != NULL);
    CHECK_STREQ(jpl_event_type_name(ev), json_string_value(json_object_get(input, "type")));
    CHECK_EQ(jpl_event_type_from_name(jpl_event_type_name(ev)), ev->body_case);

    json_t *out = jpl_event_to_json(ev);
    CHECK(out != NULL && json_equal(out, input));
    if (out == NULL || !json_equal(out, input))
        dump_diff(label, input, out);

    Jpl__Event *again = NULL;
    CHECK_EQ(jpl_event_from_json(out, NOW_MS, &again, &e), JPL_OK);
    if (again != NULL)
        CHECK(same_bytes(ev, again));

    Jpl__Event *u = pack_unpack(ev, NULL, NULL);
    CHECK(u != NULL);
    if (u != NULL) {
        CHECK_EQ(jpl_event_validate(u, NOW_MS, &e), JPL_OK);
        json_t *uj = jpl_event_to_json(u);
        CHECK(uj != NULL && json_equal(uj, input));
        if (uj == NULL || !json_equal(uj, input))
            dump_diff(label, input, uj);
        json_decref(uj);
        jpl__event__free_unpacked(u, NULL);
    }
    json_decref(out);
    jpl_event_free(again);
    jpl_event_free(ev);
}

/* Every ```json block of docs/EVENTS.md, as JSON values; the caller decrefs. */
static json_t *doc_examples(void)
{
    size_t len = 0;
    char *doc = read_text(JPL_SOURCE_DIR "/docs/EVENTS.md", &len);
    if (doc == NULL)
        return NULL;
    json_t *all = json_array();
    const char *p = doc;
    const char *open;
    while ((open = strstr(p, "```json\n")) != NULL) {
        const char *body = open + strlen("```json\n");
        const char *close = strstr(body, "```");
        if (close == NULL)
            break;
        json_error_t jerr;
        json_t *v = json_loadb(body, (size_t)(close - body), JSON_REJECT_DUPLICATES, &jerr);
        if (v == NULL) {
            fprintf(stderr, "  docs/EVENTS.md example at byte %zu: line %d: %s\n",
                    (size_t)(body - doc), jerr.line, jerr.text);
            v = json_null(); /* counted, and fails round_trip */
        }
        /* the parser must accept the raw text too, exactly as `append` reads a line */
        Jpl__Event *ev = NULL;
        jpl_error e = {0};
        CHECK_EQ(jpl_event_from_json_text(body, (size_t)(close - body), NOW_MS, &ev, &e), JPL_OK);
        jpl_event_free(ev);
        json_array_append_new(all, v);
        p = close + 3;
    }
    free(doc);
    return all;
}

static void test_doc_examples(void)
{
    json_t *all = doc_examples();
    REQUIRE(all != NULL);
    CHECK(json_array_size(all) >= 13);
    bool seen[32] = {false};
    size_t i;
    json_t *v;
    json_array_foreach(all, i, v)
    {
        char label[64];
        snprintf(label, sizeof label, "docs/EVENTS.md example %zu", i + 1);
        round_trip(v, label);
        int c = jpl_event_type_from_name(json_string_value(json_object_get(v, "type")));
        if (c > 0 && c < 32)
            seen[c] = true;
    }
    /* every type has an example */
    for (int c = JPL__EVENT__BODY_KEY_REGISTERED; c <= JPL__EVENT__BODY_REVOKED; c++) {
        if (!seen[c])
            fprintf(stderr, "  docs/EVENTS.md has no example of body case %d\n", c);
        CHECK(seen[c]);
    }
    json_decref(all);
}

/* ---- helpers for negative tests ----------------------------------------------------------- */

static const char COMPLETED[] =
    "{\"type\":\"completed\",\"id\":\"44f38723-af8d-4cb2-8569-0486fed059c9\","
    "\"nip\":\"199005152015031001\",\"issued_at_ms\":1741942800000,"
    "\"enrollment_event_id\":\"0d49e432-3507-48e7-8e0b-a474f7db3d9e\",\"jp_centi\":2400,"
    "\"evidence_sha256\":\"f9849b14bfb9e74837a354ab3a25126c4563b0d30b90a181ad814dc70355e823\","
    "\"completed_at_ms\":1741939200000,\"duration_minutes\":1080}";
static const char PLAN[] =
    "{\"type\":\"plan_submitted\",\"id\":\"f20d82cc-6c8b-49a1-8e5c-e48c731fa923\","
    "\"nip\":\"199005152015031001\",\"issued_at_ms\":1736478000000,\"year\":2025,"
    "\"items\":[{\"activity_id\":\"PKP-2025-01\",\"jp_centi\":2400}]}";
static const char POLICY[] =
    "{\"type\":\"policy_set\",\"id\":\"c0fab7c6-1bac-4caf-af6a-0c3574dcd2aa\","
    "\"issued_at_ms\":1736128800000,\"effective_year\":2025,\"pns_floor_jp_centi\":2000,"
    "\"pppk_cap_jp_centi\":2400,\"minutes_per_jp\":45,\"conversions\":[{\"form\":\"seminar\","
    "\"national_jp_centi_per_day\":400,\"international_jp_centi_per_day\":600}]}";
static const char KEYREG[] =
    "{\"type\":\"key_registered\",\"id\":\"340d0f22-b42b-4461-85a8-2014b6ad5a76\","
    "\"issued_at_ms\":1736128800000,"
    "\"public_key\":\"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\","
    "\"name\":\"hr.setjen\",\"role\":\"hr\"}";
static const char EMPREG[] =
    "{\"type\":\"employee_registered\",\"id\":\"832cb390-8b34-44c4-b5f9-fe90f4a4967e\","
    "\"nip\":\"199005152015031001\",\"issued_at_ms\":1736128800000,\"kind\":\"pns\","
    "\"unit\":\"Biro SDM\"}";
static const char ACTIVITY[] =
    "{\"type\":\"activity_defined\",\"id\":\"13d730d6-0fe4-4b9f-9dd6-46de7ab63421\","
    "\"issued_at_ms\":1736128800000,\"activity_id\":\"PKP-2025-01\",\"title\":\"PKP\","
    "\"mode\":\"classical\",\"jp_centi\":2400}";

static json_t *load(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (v == NULL)
        fprintf(stderr, "  test JSON does not parse: %s\n", jerr.text);
    return v;
}

/* base with key set to the JSON value_text (or deleted when value_text is NULL). */
static json_t *with(const char *base, const char *key, const char *value_text)
{
    json_t *o = load(base);
    if (o == NULL)
        return NULL;
    if (value_text == NULL) {
        json_object_del(o, key);
    } else {
        json_error_t jerr;
        json_t *v = json_loads(value_text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        if (v == NULL)
            fprintf(stderr, "  test value does not parse: %s\n", value_text);
        json_object_set_new(o, key, v);
    }
    return o;
}

/* from_json(obj) must fail with code and a message containing want; consumes obj. */
static void expect_fail_code(json_t *obj, uint64_t now, jpl_err code, const char *want, int line)
{
    jpl_error e = {0};
    Jpl__Event *ev = (Jpl__Event *)&e; /* must stay untouched */
    Jpl__Event *const sentinel = ev;
    jpl_err rc = jpl_event_from_json(obj, now, &ev, &e);
    jpl_test_checks++;
    if (rc != code || e.code != code || strstr(e.msg, want) == NULL || ev != sentinel) {
        jpl_test_failures++;
        fprintf(stderr, "test_event_json.c:%d: want %s containing \"%s\", got %s \"%s\"\n", line,
                jpl_strerror(code), want, jpl_strerror(rc), e.msg);
        if (rc == JPL_OK && ev != sentinel)
            jpl_event_free(ev);
    }
    json_decref(obj);
}

#define EXPECT_FAIL(obj, want) expect_fail_code((obj), NOW_MS, JPL_ERR_BAD_INPUT, (want), __LINE__)
#define EXPECT_FAIL_NOW(obj, now, want)                                                            \
    expect_fail_code((obj), (now), JPL_ERR_BAD_INPUT, (want), __LINE__)

static void expect_ok(json_t *obj, int line)
{
    jpl_error e = {0};
    Jpl__Event *ev = NULL;
    jpl_test_checks++;
    if (jpl_event_from_json(obj, NOW_MS, &ev, &e) != JPL_OK) {
        jpl_test_failures++;
        fprintf(stderr, "test_event_json.c:%d: want ok, got \"%s\"\n", line, e.msg);
    }
    jpl_event_free(ev);
    json_decref(obj);
}
#define EXPECT_OK(obj) expect_ok((obj), __LINE__)

static void expect_text_fail(const char *text, size_t len, jpl_err code, const char *want, int line)
{
    jpl_error e = {0};
    Jpl__Event *ev = NULL;
    jpl_err rc = jpl_event_from_json_text(text, len, NOW_MS, &ev, &e);
    jpl_test_checks++;
    if (rc != code || strstr(e.msg, want) == NULL || ev != NULL) {
        jpl_test_failures++;
        fprintf(stderr, "test_event_json.c:%d: want %s containing \"%s\", got %s \"%s\"\n", line,
                jpl_strerror(code), want, jpl_strerror(rc), e.msg);
        jpl_event_free(ev);
    }
}
#define EXPECT_TEXT_FAIL(text, want)                                                               \
    expect_text_fail((text), strlen(text), JPL_ERR_BAD_INPUT, (want), __LINE__)

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 3);
    if (s == NULL)
        return NULL;
    s[0] = '"';
    memset(s + 1, c, n);
    s[n + 1] = '"';
    s[n + 2] = '\0';
    return s;
}

/* ---- negative tests, one kind each --------------------------------------------------------- */

static void test_type(void)
{
    EXPECT_FAIL(with(COMPLETED, "type", "\"finished\""), "unknown event type 'finished'");
    EXPECT_FAIL(with(COMPLETED, "type", "\"Completed\""), "unknown event type 'Completed'");
    EXPECT_FAIL(with(COMPLETED, "type", NULL), "field 'type' is required");
    EXPECT_FAIL(with(COMPLETED, "type", "20"), "field 'type' must be a string, got an integer");
    EXPECT_FAIL(with(COMPLETED, "type", "null"), "field 'type' must be a string, got null");
    CHECK_EQ(jpl_event_type_from_name("nope"), 0);
    CHECK_EQ(jpl_event_type_from_name(NULL), 0);
    CHECK_EQ(jpl_event_type_from_name("revoked"), JPL__EVENT__BODY_REVOKED);
    CHECK(jpl_event_type_name(NULL) == NULL);
    Jpl__Event empty = JPL__EVENT__INIT;
    CHECK(jpl_event_type_name(&empty) == NULL);
}

static void test_unknown_field(void)
{
    EXPECT_FAIL(with(COMPLETED, "colour", "\"blue\""), "unknown field 'colour'");
    EXPECT_FAIL(with(COMPLETED, "event_id", "\"x\""), "unknown field 'event_id'");
    /* a field of another type is named as such */
    EXPECT_FAIL(with(COMPLETED, "unit", "\"Biro\""),
                "field 'unit' does not belong in an event of type 'completed'");
    EXPECT_FAIL(with(KEYREG, "reason", "\"x\""),
                "field 'reason' does not belong in an event of type 'key_registered'");
    /* nested */
    EXPECT_FAIL(with(PLAN, "items", "[{\"activity_id\":\"A\",\"jp_centi\":1,\"jp\":1}]"),
                "unknown field 'items[0].jp'");
    EXPECT_FAIL(with(POLICY, "conversions",
                     "[{\"form\":\"a\",\"national_jp_centi_per_day\":1,"
                     "\"international_jp_centi_per_day\":1,\"x\":0}]"),
                "unknown field 'conversions[0].x'");
    /* a control character in an unknown key is not echoed raw */
    EXPECT_FAIL(with(COMPLETED, "a\nb", "1"), "unknown field 'a?b'");
}

static void test_missing_required(void)
{
    EXPECT_FAIL(with(COMPLETED, "jp_centi", NULL), "field 'jp_centi' is required");
    EXPECT_FAIL(with(COMPLETED, "evidence_sha256", NULL), "field 'evidence_sha256' is required");
    EXPECT_FAIL(with(COMPLETED, "enrollment_event_id", NULL),
                "field 'enrollment_event_id' is required");
    EXPECT_FAIL(with(COMPLETED, "completed_at_ms", NULL), "field 'completed_at_ms' is required");
    EXPECT_FAIL(with(KEYREG, "role", NULL), "field 'role' is required");
    EXPECT_FAIL(with(KEYREG, "public_key", NULL), "field 'public_key' is required");
    EXPECT_FAIL(with(EMPREG, "unit", NULL), "field 'unit' is required");
    EXPECT_FAIL(with(PLAN, "items", NULL), "field 'items' is required");
    EXPECT_FAIL(with(PLAN, "items", "[{\"activity_id\":\"A\"}]"),
                "field 'items[0].jp_centi' is required");
    EXPECT_FAIL(with(POLICY, "conversions",
                     "[{\"national_jp_centi_per_day\":1,\"international_jp_centi_per_day\":1}]"),
                "field 'conversions[0].form' is required");
    EXPECT_FAIL(with(COMPLETED, "nip", NULL),
                "field 'nip' is required for an event of type 'completed'");
    /* optional ones may go */
    EXPECT_OK(with(COMPLETED, "duration_minutes", NULL));
    EXPECT_OK(with(POLICY, "conversions", NULL));
}

/* Every field of every docs example, replaced by a value of the wrong JSON type, is named. */
static void test_wrong_type_every_field(void)
{
    json_t *all = doc_examples();
    REQUIRE(all != NULL);
    size_t i;
    json_t *ex;
    json_array_foreach(all, i, ex)
    {
        const char *key;
        json_t *val;
        json_object_foreach(ex, key, val)
        {
            json_t *bad = json_deep_copy(ex);
            /* an object is the wrong type for every field */
            json_object_set_new(bad, key, json_object());
            char want[128];
            snprintf(want, sizeof want, "field '%s' must be ", key);
            EXPECT_FAIL(bad, want);
            bad = json_deep_copy(ex);
            json_object_set_new(bad, key, json_null());
            snprintf(want, sizeof want, "field '%s' must be ", key);
            EXPECT_FAIL(bad, want);
        }
    }
    json_decref(all);
}

static void test_wrong_type(void)
{
    EXPECT_FAIL(with(COMPLETED, "jp_centi", "\"2400\""),
                "field 'jp_centi' must be an integer, got a string");
    EXPECT_FAIL(with(PLAN, "year", "true"), "field 'year' must be an integer, got a boolean");
    EXPECT_FAIL(with(EMPREG, "cap_exempt", "1"),
                "field 'cap_exempt' must be a boolean (true or false), got an integer");
    EXPECT_FAIL(with(EMPREG, "cap_exempt", "\"true\""), "field 'cap_exempt' must be a boolean");
    EXPECT_FAIL(with(PLAN, "items", "{}"), "field 'items' must be an array, got an object");
    EXPECT_FAIL(with(PLAN, "items", "[\"PKP\"]"),
                "field 'items[0]' must be an object, got a string");
    EXPECT_FAIL(with(PLAN, "items", "[{\"activity_id\":7,\"jp_centi\":1}]"),
                "field 'items[0].activity_id' must be a string, got an integer");
    EXPECT_FAIL(with(COMPLETED, "nip", "199005152015031001"),
                "field 'nip' must be a string, got an integer");
    EXPECT_FAIL(with(COMPLETED, "expected_version", "\"1\""),
                "field 'expected_version' must be an integer");
    jpl_error e = {0};
    Jpl__Event *ev = NULL;
    json_t *arr = json_array();
    CHECK_EQ(jpl_event_from_json(arr, NOW_MS, &ev, &e), JPL_ERR_BAD_INPUT);
    CHECK(strstr(e.msg, "must be a JSON object, got an array") != NULL);
    json_decref(arr);
    CHECK_EQ(jpl_event_from_json(NULL, NOW_MS, &ev, &e), JPL_ERR_BAD_INPUT);
    CHECK(ev == NULL);
}

static void test_bad_uuid(void)
{
    EXPECT_FAIL(with(COMPLETED, "id", "\"44f38723-af8d-4cb2-8569-0486fed059c\""),
                "field 'id' must be a UUID");
    EXPECT_FAIL(with(COMPLETED, "id", "\"44f38723af8d4cb285690486fed059c9\""),
                "field 'id' must be a UUID");
    EXPECT_FAIL(with(COMPLETED, "id", "\"44f38723-af8d-4cb2-8569-0486fed059cg\""),
                "field 'id' must be a UUID");
    EXPECT_FAIL(with(COMPLETED, "id", "\"44f38723-af8d-4cb2-8569_0486fed059c9\""),
                "field 'id' must be a UUID");
    EXPECT_FAIL(with(COMPLETED, "id", "\"{44f38723-af8d-4cb2-8569-0486fed059c9}\""),
                "field 'id' must be a UUID");
    EXPECT_FAIL(with(COMPLETED, "enrollment_event_id", "\"not-a-uuid\""),
                "field 'enrollment_event_id' must be a UUID");
    EXPECT_FAIL(with(COMPLETED, "enrollment_event_id", "\"00000000-0000-0000-0000-000000000000\""),
                "field 'enrollment_event_id' must not be the nil UUID");
    EXPECT_FAIL(with(COMPLETED, "id", "\"00000000-0000-0000-0000-000000000000\""),
                "field 'id' must not be the nil UUID");

    /* either case in, lowercase out; any version accepted */
    json_t *o = with(COMPLETED, "id", "\"44F38723-AF8D-1CB2-8569-0486FED059C9\"");
    Jpl__Event *ev = NULL;
    jpl_error e = {0};
    REQUIRE(jpl_event_from_json(o, NOW_MS, &ev, &e) == JPL_OK);
    json_t *out = jpl_event_to_json(ev);
    CHECK_STREQ(json_string_value(json_object_get(out, "id")),
                "44f38723-af8d-1cb2-8569-0486fed059c9");
    json_decref(out);
    json_decref(o);
    jpl_event_free(ev);

    uint8_t id[16];
    char text[37];
    CHECK(jpl_uuid_parse("00112233-4455-6677-8899-aabbccddeeff", 36, id));
    jpl_uuid_format(text, id);
    CHECK_STREQ(text, "00112233-4455-6677-8899-aabbccddeeff");
    CHECK_EQ(id[0], 0x00);
    CHECK_EQ(id[15], 0xff);
    CHECK(!jpl_uuid_parse("00112233-4455-6677-8899-aabbccddeeff", 35, id));
    CHECK(!jpl_uuid_parse(NULL, 36, id));
}

static void test_bad_hex(void)
{
    EXPECT_FAIL(with(COMPLETED, "evidence_sha256",
                     "\"f9849b14bfb9e74837a354ab3a25126c4563b0d30b90a181ad814dc70355e82\""),
                "field 'evidence_sha256' must be 64 hex characters (a SHA-256 digest), got 63");
    EXPECT_FAIL(with(COMPLETED, "evidence_sha256",
                     "\"f9849b14bfb9e74837a354ab3a25126c4563b0d30b90a181ad814dc70355e8230\""),
                "got 65");
    EXPECT_FAIL(with(COMPLETED, "evidence_sha256", "\"\""), "got 0");
    EXPECT_FAIL(with(COMPLETED, "evidence_sha256",
                     "\"z9849b14bfb9e74837a354ab3a25126c4563b0d30b90a181ad814dc70355e823\""),
                "field 'evidence_sha256' contains a character that is not hex");
    /* uppercase accepted, written lowercase */
    json_t *o = with(COMPLETED, "evidence_sha256",
                     "\"F9849B14BFB9E74837A354AB3A25126C4563B0D30B90A181AD814DC70355E823\"");
    Jpl__Event *ev = NULL;
    jpl_error e = {0};
    REQUIRE(jpl_event_from_json(o, NOW_MS, &ev, &e) == JPL_OK);
    json_t *out = jpl_event_to_json(ev);
    CHECK_STREQ(json_string_value(json_object_get(out, "evidence_sha256")),
                "f9849b14bfb9e74837a354ab3a25126c4563b0d30b90a181ad814dc70355e823");
    json_decref(out);
    json_decref(o);
    jpl_event_free(ev);
}

static void test_bad_base64(void)
{
    const char *want = "field 'public_key' must be standard padded base64 of a 32-byte";
    EXPECT_FAIL(with(KEYREG, "public_key", "\"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo\""),
                want);
    EXPECT_FAIL(with(KEYREG, "public_key", "\"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHUR==\""),
                want); /* 31 bytes */
    EXPECT_FAIL(with(KEYREG, "public_key", "\"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURoA\""),
                want); /* 33 bytes */
    EXPECT_FAIL(with(KEYREG, "public_key", "\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=\""),
                want); /* URL alphabet */
    EXPECT_FAIL(with(KEYREG, "public_key", "\"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURp=\""),
                want); /* non-zero padding bits: not the canonical spelling */
    EXPECT_FAIL(with(KEYREG, "public_key", "\" 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\""),
                want);
    EXPECT_FAIL(with(KEYREG, "public_key", "\"\""), want);
}

static void test_amounts(void)
{
    EXPECT_FAIL(with(COMPLETED, "jp_centi", "2400.0"),
                "field 'jp_centi' must be an integer, got a real number");
    EXPECT_FAIL(with(COMPLETED, "jp_centi", "24.5"), "must be an integer, got a real number");
    EXPECT_FAIL(with(COMPLETED, "jp_centi", "2e3"), "must be an integer, got a real number");
    EXPECT_FAIL(with(COMPLETED, "jp_centi", "-1"), "field 'jp_centi' must not be negative, got -1");
    EXPECT_FAIL(with(COMPLETED, "jp_centi", "10000001"),
                "field 'jp_centi' must be in 0..10000000 (hundredths of a JP), got 10000001");
    EXPECT_FAIL(with(COMPLETED, "jp_centi", "4294967296"), "got 4294967296");
    EXPECT_OK(with(COMPLETED, "jp_centi", "10000000"));
    EXPECT_OK(with(COMPLETED, "jp_centi", "0"));
    EXPECT_FAIL(with(PLAN, "items", "[{\"activity_id\":\"A\",\"jp_centi\":-5}]"),
                "field 'items[0].jp_centi' must not be negative");
    EXPECT_FAIL(with(PLAN, "items", "[{\"activity_id\":\"A\",\"jp_centi\":1.5}]"),
                "field 'items[0].jp_centi' must be an integer, got a real number");
    EXPECT_FAIL(with(POLICY, "pns_floor_jp_centi", "20000000"), "field 'pns_floor_jp_centi'");
    EXPECT_FAIL(with(COMPLETED, "expected_version", "-1"),
                "field 'expected_version' must not be negative");
}

static void test_ranges(void)
{
    EXPECT_FAIL(with(COMPLETED, "issued_at_ms", "946684799999"),
                "field 'issued_at_ms' must be in 946684800000..4102444800000");
    EXPECT_OK(with(COMPLETED, "issued_at_ms", "946684800000"));
    EXPECT_OK(with(COMPLETED, "issued_at_ms", "4102444800000"));
    EXPECT_FAIL(with(COMPLETED, "issued_at_ms", "4102444800001"), "field 'issued_at_ms'");
    EXPECT_FAIL(with(COMPLETED, "issued_at_ms", "1741942800"), "field 'issued_at_ms'"); /* secs */
    EXPECT_FAIL(with(COMPLETED, "completed_at_ms", "0"), "field 'completed_at_ms' must be in");
    EXPECT_FAIL(with(PLAN, "year", "1999"), "field 'year' must be in 2000..2100, got 1999");
    EXPECT_FAIL(with(PLAN, "year", "2101"), "field 'year' must be in 2000..2100, got 2101");
    EXPECT_OK(with(PLAN, "year", "2000"));
    EXPECT_OK(with(PLAN, "year", "2100"));
    EXPECT_FAIL(with(POLICY, "effective_year", "25"), "field 'effective_year' must be in");
    EXPECT_FAIL(with(POLICY, "minutes_per_jp", "0"), "field 'minutes_per_jp' must be in 1..600");
    EXPECT_FAIL(with(POLICY, "international_bonus_percent", "101"),
                "field 'international_bonus_percent' must be in 0..100");
    EXPECT_FAIL(with(COMPLETED, "duration_minutes", "0"), "field 'duration_minutes'");
}

static void test_strings(void)
{
    /* limits exactly: 128 bytes ok, 129 not */
    char *s128 = repeat('u', 128), *s129 = repeat('u', 129);
    REQUIRE(s128 != NULL && s129 != NULL);
    EXPECT_OK(with(EMPREG, "unit", s128));
    EXPECT_FAIL(with(EMPREG, "unit", s129), "field 'unit' is longer than 128 bytes");
    free(s128);
    free(s129);
    /* bytes, not characters: 43 three-byte characters = 129 bytes */
    char big[3 * 43 + 3];
    big[0] = '"';
    for (int i = 0; i < 43; i++)
        memcpy(big + 1 + 3 * i, "\xe2\x80\x94", 3); /* U+2014 */
    memcpy(big + 1 + 3 * 43, "\"", 2);
    EXPECT_FAIL(with(EMPREG, "unit", big), "longer than 128 bytes");

    struct {
        const char *base, *key;
        size_t max;
    } limits[] = {
        {ACTIVITY, "activity_id", 256},
        {ACTIVITY, "title", 512},
        {KEYREG, "name", 128},
        {COMPLETED, "nip", 18},
    };
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        char *ok = repeat('a', limits[i].max), *bad = repeat('a', limits[i].max + 1);
        REQUIRE(ok != NULL && bad != NULL);
        char want[64];
        snprintf(want, sizeof want, "field '%s'", limits[i].key);
        if (strcmp(limits[i].key, "nip") != 0)
            EXPECT_OK(with(limits[i].base, limits[i].key, ok));
        EXPECT_FAIL(with(limits[i].base, limits[i].key, bad), want);
        free(ok);
        free(bad);
    }
    char *r = repeat('r', 1025);
    EXPECT_FAIL(with("{\"type\":\"revoked\",\"target_event_id\":"
                     "\"3ae5262c-90d1-407c-80ab-b93f34000e25\",\"reason\":\"x\"}",
                     "reason", r),
                "field 'reason' is longer than 1024 bytes");
    free(r);
    char *b = repeat('b', 129);
    EXPECT_FAIL(with("{\"type\":\"recognized\",\"nip\":\"199005152015031001\","
                     "\"completion_event_id\":\"3ae5262c-90d1-407c-80ab-b93f34000e25\","
                     "\"jp_centi\":1,\"basis\":\"x\"}",
                     "basis", b),
                "field 'basis' is longer than 128 bytes");
    free(b);
    char *f = repeat('f', 65);
    REQUIRE(f != NULL);
    char conv[256];
    snprintf(conv, sizeof conv,
             "[{\"form\":%s,\"national_jp_centi_per_day\":1,"
             "\"international_jp_centi_per_day\":1}]",
             f);
    EXPECT_FAIL(with(POLICY, "conversions", conv),
                "field 'conversions[0].form' is longer than 64 bytes");
    free(f);

    EXPECT_FAIL(with(EMPREG, "unit", "\"\""), "field 'unit' must not be empty");
    EXPECT_OK(with(EMPREG, "unit", "\"Direktorat Jenderal Pajak \\u2014 Kanwil \\u00e9\""));
}

static void test_control_chars(void)
{
    EXPECT_FAIL(with(EMPREG, "unit", "\"Biro\\nSDM\""),
                "field 'unit' contains control character U+000A at byte 4");
    EXPECT_FAIL(with(EMPREG, "unit", "\"\\tBiro\""), "control character U+0009 at byte 0");
    EXPECT_FAIL(with(EMPREG, "unit", "\"Biro\\u007f\""), "control character U+007F");
    EXPECT_FAIL(with(EMPREG, "unit", "\"Biro\\u0085\""), "control character U+0085");
    EXPECT_FAIL(with(EMPREG, "unit", "\"Biro\\u0000SDM\""), "control character U+0000 at byte 4");
    EXPECT_FAIL(with(PLAN, "items", "[{\"activity_id\":\"A\\u001b\",\"jp_centi\":1}]"),
                "field 'items[0].activity_id' contains control character U+001B");
    /* key names: no spaces, no '+' */
    EXPECT_FAIL(with(KEYREG, "name", "\"hr setjen\""), "field 'name' contains a space");
    EXPECT_FAIL(with(KEYREG, "name", "\"hr\\u00a0setjen\""), "contains a space (U+00A0)");
    EXPECT_FAIL(with(KEYREG, "name", "\"hr+setjen\""), "field 'name' contains '+'");
    /* invalid UTF-8 can only reach us through a hand-made json_t */
    json_t *o = load(EMPREG);
    REQUIRE(o != NULL);
    json_object_set_new(o, "unit", json_stringn_nocheck("Biro\xc3(", 6));
    EXPECT_FAIL(o, "field 'unit' is not valid UTF-8 (at byte 4)");
    static const char *const BAD_UTF8[] = {"\xc0\xaf",     "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                           "\xe0\x80\xaf", "\xff",         "\xe2\x80"};
    for (size_t i = 0; i < sizeof BAD_UTF8 / sizeof BAD_UTF8[0]; i++) {
        o = load(EMPREG);
        json_object_set_new(o, "unit", json_string_nocheck(BAD_UTF8[i]));
        EXPECT_FAIL(o, "is not valid UTF-8");
    }
}

static void test_nip(void)
{
    EXPECT_FAIL(with(COMPLETED, "nip", "\"199013322015031001\""),
                "field 'nip': NIP 199013322015031001: birth date 19901332 is not a calendar date");
    EXPECT_FAIL(with(COMPLETED, "nip", "\"19900515201503100\""), "must be 18 digits");
    EXPECT_FAIL(with(COMPLETED, "nip", "\"1990051520150310O1\""), "is not a digit");
    EXPECT_FAIL(with(COMPLETED, "nip", "\"\""), "field 'nip'");
    /* the NIP check uses now: appointed December 2025 is in the future on 2025-06-15 */
    EXPECT_FAIL(with(COMPLETED, "nip", "\"199005152025121001\""),
                "appointment 202512 is after the current month 202506");
    EXPECT_FAIL_NOW(with(COMPLETED, "nip", "\"199005152025121001\""), NOW_MS,
                    "after the current month");
    json_t *o = with(COMPLETED, "nip", "\"199005152025121001\"");
    Jpl__Event *ev = NULL;
    jpl_error e = {0};
    CHECK_EQ(jpl_event_from_json(o, 0, &ev, &e), JPL_OK); /* now 0: no future check */
    jpl_event_free(ev);
    json_decref(o);
}

static void test_nip_rules(void)
{
    EXPECT_FAIL(with(POLICY, "nip", "\"199005152015031001\""),
                "field 'nip' is not allowed in an event of type 'policy_set'");
    EXPECT_FAIL(with(KEYREG, "nip", "\"199005152015031001\""),
                "field 'nip' is not allowed in an event of type 'key_registered'");
    EXPECT_FAIL(with(ACTIVITY, "nip", "\"199005152015031001\""), "is not allowed");
    EXPECT_FAIL(with(EMPREG, "nip", NULL),
                "field 'nip' is required for an event of type 'employee_registered'");
    EXPECT_FAIL(with(PLAN, "nip", NULL), "field 'nip' is required");
    /* optional for plan_approved and revoked */
    EXPECT_OK(load("{\"type\":\"revoked\",\"issued_at_ms\":1742457600000,\"target_event_id\":"
                   "\"3ae5262c-90d1-407c-80ab-b93f34000e25\",\"reason\":\"wrong key\"}"));
    EXPECT_OK(load("{\"type\":\"plan_approved\",\"plan_event_id\":"
                   "\"f20d82cc-6c8b-49a1-8e5c-e48c731fa923\"}"));
    EXPECT_FAIL(load("{\"type\":\"plan_approved\",\"nip\":\"1990\",\"plan_event_id\":"
                     "\"f20d82cc-6c8b-49a1-8e5c-e48c731fa923\"}"),
                "field 'nip': NIP 1990: must be 18 digits");
    /* expected_version needs a stream, i.e. a nip */
    EXPECT_FAIL(with(POLICY, "expected_version", "0"), "field 'expected_version' needs a 'nip'");
    EXPECT_OK(with(COMPLETED, "expected_version", "0"));
}

static void test_too_many(void)
{
    /* 256 items are fine, 257 are not */
    json_t *items = json_array();
    for (int i = 0; i < 257; i++) {
        json_t *it = json_object();
        char id[32];
        snprintf(id, sizeof id, "ACT-%d", i);
        json_object_set_new(it, "activity_id", json_string(id));
        json_object_set_new(it, "jp_centi", json_integer(100));
        json_array_append_new(items, it);
    }
    json_t *o = load(PLAN);
    json_array_remove(items, 256);
    json_object_set(o, "items", items);
    EXPECT_OK(json_deep_copy(o));
    json_t *extra = json_object();
    json_object_set_new(extra, "activity_id", json_string("ACT-256"));
    json_object_set_new(extra, "jp_centi", json_integer(100));
    json_array_append_new(items, extra);
    EXPECT_FAIL(o, "field 'items' has 257 entries, more than 256");
    json_decref(items);
    EXPECT_FAIL(with(PLAN, "items", "[]"), "field 'items' must list at least one activity");

    json_t *rows = json_array();
    for (int i = 0; i < 65; i++) {
        json_t *r = json_object();
        char form[16];
        snprintf(form, sizeof form, "form%d", i);
        json_object_set_new(r, "form", json_string(form));
        json_object_set_new(r, "national_jp_centi_per_day", json_integer(400));
        json_object_set_new(r, "international_jp_centi_per_day", json_integer(600));
        json_array_append_new(rows, r);
    }
    o = load(POLICY);
    json_object_set_new(o, "conversions", rows);
    EXPECT_FAIL(json_deep_copy(o), "field 'conversions' has 65 entries, more than 64");
    json_array_remove(rows, 64);
    EXPECT_OK(o);
}

static void test_rules_within_event(void)
{
    /* classical activities carry jp_centi; non-classical ones form and days */
    EXPECT_FAIL(with(ACTIVITY, "jp_centi", NULL),
                "field 'jp_centi' is required for a classical activity");
    EXPECT_FAIL(with(ACTIVITY, "days", "2"), "field 'days' is only for non_classical activities");
    EXPECT_FAIL(with(ACTIVITY, "form", "\"seminar\""), "field 'form' is only for non_classical");
    const char *nc = "{\"type\":\"activity_defined\",\"activity_id\":\"S1\",\"title\":\"Seminar\","
                     "\"mode\":\"non_classical\",\"form\":\"seminar\",\"days\":2}";
    EXPECT_OK(load(nc));
    EXPECT_FAIL(with(nc, "days", NULL), "field 'days' is required for a non_classical activity");
    EXPECT_FAIL(with(nc, "form", NULL), "field 'form' is required for a non_classical activity");
    EXPECT_FAIL(with(nc, "jp_centi", "400"), "field 'jp_centi' is only for classical activities");
    EXPECT_FAIL(with(nc, "days", "0"), "field 'days' must be in 1..366");
    EXPECT_FAIL(with(nc, "mode", "\"Classical\""),
                "field 'mode' must be one of classical, non_classical, got 'Classical'");
    /* employee_updated must change something */
    EXPECT_FAIL(load("{\"type\":\"employee_updated\",\"nip\":\"199005152015031001\"}"),
                "employee_updated changes nothing");
    EXPECT_OK(load("{\"type\":\"employee_updated\",\"nip\":\"199005152015031001\","
                   "\"cap_exempt\":false}"));
    /* one conversion row per form */
    EXPECT_FAIL(with(POLICY, "conversions",
                     "[{\"form\":\"seminar\",\"national_jp_centi_per_day\":1,"
                     "\"international_jp_centi_per_day\":1},{\"form\":\"seminar\","
                     "\"national_jp_centi_per_day\":2,\"international_jp_centi_per_day\":2}]"),
                "field 'conversions[1].form' repeats 'seminar' of conversions[0]");
}

static void test_enums(void)
{
    EXPECT_FAIL(with(KEYREG, "role", "\"boss\""),
                "field 'role' must be one of admin, hr, supervisor, lms, verifier, auditor, got "
                "'boss'");
    EXPECT_FAIL(with(KEYREG, "role", "\"HR\""), "field 'role' must be one of");
    EXPECT_FAIL(with(KEYREG, "role", "2"), "field 'role' must be a string, got an integer");
    EXPECT_FAIL(with(EMPREG, "kind", "\"asn\""), "field 'kind' must be one of pns, pppk");
    /* kind: uppercase accepted, written lowercase */
    json_t *o = with(EMPREG, "kind", "\"PPPK\"");
    Jpl__Event *ev = NULL;
    jpl_error e = {0};
    REQUIRE(jpl_event_from_json(o, NOW_MS, &ev, &e) == JPL_OK);
    CHECK_EQ(ev->employee_registered->kind, JPL__EMPLOYEE_KIND__KIND_PPPK);
    json_t *out = jpl_event_to_json(ev);
    CHECK_STREQ(json_string_value(json_object_get(out, "kind")), "pppk");
    json_decref(out);
    json_decref(o);
    jpl_event_free(ev);
    static const char *const ROLES[] = {"admin", "hr", "supervisor", "lms", "verifier", "auditor"};
    for (int i = 0; i < 6; i++) {
        char v[32];
        snprintf(v, sizeof v, "\"%s\"", ROLES[i]);
        o = with(KEYREG, "role", v);
        ev = NULL;
        REQUIRE(jpl_event_from_json(o, NOW_MS, &ev, &e) == JPL_OK);
        CHECK_EQ(ev->key_registered->role, i + 1);
        jpl_event_free(ev);
        json_decref(o);
    }
}

static void test_text_input(void)
{
    /* syntax errors carry jansson's position: the column alone on one line, whose own end does
     * not count as a second line */
    EXPECT_TEXT_FAIL("{\"type\":\"enrolled\",", "not JSON at column");
    EXPECT_TEXT_FAIL("{\"type\":\"enrolled\",\n", "not JSON at column");
    EXPECT_TEXT_FAIL("{\"type\":\"enrolled\"}\n{}", "not JSON at line 2, column");
    EXPECT_TEXT_FAIL("", "not JSON");
    EXPECT_TEXT_FAIL("[1,2]", "must be a JSON object, got an array");
    EXPECT_TEXT_FAIL("{\"type\":\"enrolled\",\"type\":\"enrolled\"}", "duplicate");
    EXPECT_TEXT_FAIL("{\"type\":\"enrolled\",\"nip\":\"199005152015031001\","
                     "\"activity_id\":\"PKP\",\"jp_centi\":1}",
                     "field 'jp_centi' does not belong in an event of type 'enrolled'");
    EXPECT_TEXT_FAIL("{\"type\":\"enrolled\",\"activity_id\":\"A\\u0000\"}",
                     "\\u0000 (a NUL character) is not allowed in a string");
    /* too large */
    size_t big = JPL_EVENT_JSON_MAX + 1;
    char *text = malloc(big);
    REQUIRE(text != NULL);
    memset(text, ' ', big);
    text[0] = '{';
    text[big - 1] = '}';
    expect_text_fail(text, big, JPL_ERR_TOO_LARGE, "more than", __LINE__);
    free(text);
    jpl_error e = {0};
    Jpl__Event *ev = NULL;
    CHECK_EQ(jpl_event_from_json_text(NULL, 0, NOW_MS, &ev, &e), JPL_ERR_BAD_INPUT);
    /* text need not be NUL-terminated: only len bytes are read */
    const char line[] = "{\"type\":\"enrolled\",\"nip\":\"199005152015031001\","
                        "\"activity_id\":\"PKP\"}GARBAGE";
    REQUIRE(jpl_event_from_json_text(line, sizeof line - 1 - 7, NOW_MS, &ev, &e) == JPL_OK);
    CHECK_STREQ(ev->enrolled->activity_id, "PKP");
    jpl_event_free(ev);
    /* e may be NULL */
    CHECK_EQ(jpl_event_from_json_text("{", 1, NOW_MS, &ev, NULL), JPL_ERR_BAD_INPUT);
}

static void test_defaults(void)
{
    const char *text = "{\"type\":\"enrolled\",\"nip\":\"199005152015031001\","
                       "\"activity_id\":\"PKP-2025-01\"}";
    Jpl__Event *a = NULL, *b = NULL;
    jpl_error e = {0};
    REQUIRE(jpl_event_from_json_text(text, strlen(text), NOW_MS, &a, &e) == JPL_OK);
    REQUIRE(jpl_event_from_json_text(text, strlen(text), NOW_MS, &b, &e) == JPL_OK);
    CHECK_EQ(a->issued_at_ms, NOW_MS);
    CHECK(!a->has_expected_version);
    REQUIRE(a->event_id.len == 16 && b->event_id.len == 16);
    CHECK_EQ(a->event_id.data[6] >> 4, 4);      /* version 4 */
    CHECK_EQ(a->event_id.data[8] & 0xc0, 0x80); /* RFC 9562 variant */
    CHECK(memcmp(a->event_id.data, b->event_id.data, 16) != 0);
    /* the generated id shows as canonical text and reads back */
    json_t *j = jpl_event_to_json(a);
    const char *id = json_string_value(json_object_get(j, "id"));
    REQUIRE(id != NULL);
    CHECK_EQ(strlen(id), 36);
    uint8_t back[16];
    CHECK(jpl_uuid_parse(id, strlen(id), back));
    CHECK_MEMEQ(back, a->event_id.data, 16);
    json_decref(j);
    jpl_event_free(a);
    jpl_event_free(b);
    /* without a clock, issued_at_ms is required */
    CHECK_EQ(jpl_event_from_json_text(text, strlen(text), 0, &a, &e), JPL_ERR_BAD_INPUT);
    CHECK(strstr(e.msg, "field 'issued_at_ms' is required") != NULL);
    jpl_event_free(NULL);
}

/* ---- events that come from bytes ---------------------------------------------------------- */

static Jpl__Event *from_text(const char *text)
{
    Jpl__Event *ev = NULL;
    jpl_error e = {0};
    if (jpl_event_from_json_text(text, strlen(text), NOW_MS, &ev, &e) != JPL_OK)
        fprintf(stderr, "  from_text: %s\n", e.msg);
    return ev;
}

static void test_validate_unpacked(void)
{
    Jpl__Event *ev = from_text(COMPLETED);
    REQUIRE(ev != NULL);
    uint8_t *bytes = NULL;
    size_t n = 0;
    Jpl__Event *u = pack_unpack(ev, &bytes, &n);
    REQUIRE(u != NULL && bytes != NULL);
    jpl__event__free_unpacked(u, NULL);

    /* an extra field 99 (varint 1) that this schema does not know */
    uint8_t *more = malloc(n + 3);
    REQUIRE(more != NULL);
    memcpy(more, bytes, n);
    more[n] = 0x98; /* (99 << 3) | 0 = 792 = 0x98 0x06 */
    more[n + 1] = 0x06;
    more[n + 2] = 0x01;
    u = jpl__event__unpack(NULL, n + 3, more);
    REQUIRE(u != NULL);
    jpl_error e = {0};
    CHECK_EQ(jpl_event_validate(u, NOW_MS, &e), JPL_ERR_BAD_INPUT);
    CHECK(strstr(e.msg, "unknown to this schema (first: number 99)") != NULL);
    /* still shown, without the unknown field */
    json_t *j = jpl_event_to_json(u);
    json_t *want = load(COMPLETED);
    CHECK(j != NULL && json_equal(j, want));
    json_decref(j);
    json_decref(want);
    jpl__event__free_unpacked(u, NULL);
    free(more);
    free(bytes);

    /* structs with values JSON cannot produce */
    CHECK_EQ(jpl_event_validate(ev, NOW_MS, &e), JPL_OK);
    ev->completed->evidence_sha256.len = 31;
    CHECK_EQ(jpl_event_validate(ev, NOW_MS, &e), JPL_ERR_BAD_INPUT);
    CHECK(strstr(e.msg, "field 'evidence_sha256' must be a SHA-256 digest (32 bytes), got 31") !=
          NULL);
    CHECK(jpl_event_to_json(ev) == NULL);
    ev->completed->evidence_sha256.len = 32;
    ev->event_id.len = 15;
    CHECK_EQ(jpl_event_validate(ev, NOW_MS, &e), JPL_ERR_BAD_INPUT);
    CHECK(strstr(e.msg, "field 'id' must be a 16-byte event id, got 15 bytes") != NULL);
    CHECK(jpl_event_to_json(ev) == NULL);
    ev->event_id.len = 16;
    ev->has_expected_version = 1;
    ev->expected_version = UINT64_MAX;
    CHECK_EQ(jpl_event_validate(ev, NOW_MS, &e), JPL_ERR_BAD_INPUT);
    CHECK(jpl_event_to_json(ev) == NULL);
    ev->has_expected_version = 0;
    ev->issued_at_ms = 1;
    CHECK_EQ(jpl_event_validate(ev, NOW_MS, &e), JPL_ERR_BAD_INPUT);
    CHECK(strstr(e.msg, "field 'issued_at_ms'") != NULL);
    ev->issued_at_ms = 1741942800000;
    char *nip = ev->nip;
    ev->nip = NULL;
    CHECK_EQ(jpl_event_validate(ev, NOW_MS, &e), JPL_ERR_BAD_INPUT);
    CHECK(strstr(e.msg, "field 'nip' is required") != NULL);
    ev->nip = nip;
    Jpl__Event__BodyCase bc = ev->body_case;
    ev->body_case = JPL__EVENT__BODY__NOT_SET;
    CHECK_EQ(jpl_event_validate(ev, NOW_MS, &e), JPL_ERR_BAD_INPUT);
    CHECK(strstr(e.msg, "no known body") != NULL);
    CHECK(jpl_event_to_json(ev) == NULL);
    ev->body_case = bc;
    CHECK_EQ(jpl_event_validate(ev, NOW_MS, &e), JPL_OK);
    CHECK_EQ(jpl_event_validate(NULL, NOW_MS, &e), JPL_ERR_BAD_INPUT);
    jpl_event_free(ev);

    /* an unknown enum value shows as its number and fails validation */
    ev = from_text(KEYREG);
    REQUIRE(ev != NULL);
    ev->key_registered->role = (Jpl__Role)99;
    CHECK_EQ(jpl_event_validate(ev, NOW_MS, &e), JPL_ERR_BAD_INPUT);
    CHECK(strstr(e.msg, "field 'role' has value 99") != NULL);
    j = jpl_event_to_json(ev);
    CHECK(j != NULL && json_integer_value(json_object_get(j, "role")) == 99);
    Jpl__Event *back = NULL;
    CHECK_EQ(jpl_event_from_json(j, NOW_MS, &back, &e), JPL_ERR_BAD_INPUT);
    json_decref(j);
    /* a body pointer of NULL (hand-made struct) */
    Jpl__KeyRegistered *kr = ev->key_registered;
    ev->key_registered = NULL;
    CHECK_EQ(jpl_event_validate(ev, NOW_MS, &e), JPL_ERR_BAD_INPUT);
    CHECK(strstr(e.msg, "event body 'key_registered' is missing") != NULL);
    CHECK(jpl_event_to_json(ev) == NULL);
    ev->key_registered = kr;
    jpl_event_free(ev);

    /* a NIP forbidden for the type, set on a struct */
    ev = from_text(POLICY);
    REQUIRE(ev != NULL);
    ev->nip = strdup("199005152015031001");
    CHECK_EQ(jpl_event_validate(ev, NOW_MS, &e), JPL_ERR_BAD_INPUT);
    CHECK(strstr(e.msg, "field 'nip' is not allowed in an event of type 'policy_set'") != NULL);
    jpl_event_free(ev);
}

/* contract_start: a real calendar date "YYYY-MM-DD", PPPK only (as far as the event says). */
static void test_contract_start(void)
{
    const char *pppk =
        "{\"type\":\"employee_registered\",\"nip\":\"199005152015031001\",\"kind\":\"pppk\","
        "\"unit\":\"Biro SDM\"}";
    const char *renew = "{\"type\":\"employee_updated\",\"nip\":\"199005152015031001\"}";
    EXPECT_OK(with(pppk, "contract_start", "\"2025-04-01\""));
    EXPECT_OK(with(pppk, "contract_start", "\"2024-02-29\""));
    /* a renewal alone is a change */
    EXPECT_OK(with(renew, "contract_start", "\"2026-04-01\""));
    static const char *const BAD_FORM[] = {
        "\"2025-4-01\"",        "\"20250401\"",    "\"2025/04/01\"", "\"\"",
        "\"2025-04-01T00:00\"", "\" 2025-04-01\"", "\"2025-04-0a\""};
    for (size_t i = 0; i < sizeof BAD_FORM / sizeof BAD_FORM[0]; i++)
        EXPECT_FAIL(with(pppk, "contract_start", BAD_FORM[i]), "is not a date YYYY-MM-DD");
    EXPECT_FAIL(with(pppk, "contract_start", "\"2025-02-29\""), "is not a calendar date");
    EXPECT_FAIL(with(pppk, "contract_start", "\"2025-13-01\""), "is not a calendar date");
    EXPECT_FAIL(with(pppk, "contract_start", "\"2025-04-31\""), "is not a calendar date");
    EXPECT_FAIL(with(pppk, "contract_start", "\"2025-00-10\""), "is not a calendar date");
    EXPECT_FAIL(with(renew, "contract_start", "\"1899-12-31\""), "year 1899 is outside 1900-2100");
    EXPECT_FAIL(with(pppk, "contract_start", "20250401"), "field 'contract_start' must be ");
    /* PNS have no contract */
    EXPECT_FAIL(with(EMPREG, "contract_start", "\"2025-04-01\""),
                "field 'contract_start' is for PPPK only");
    json_t *to_pns = with(renew, "kind", "\"pns\"");
    json_object_set_new(to_pns, "contract_start", json_string("2025-04-01"));
    EXPECT_FAIL(to_pns, "field 'contract_start' is for PPPK only");
    json_t *to_pppk = with(renew, "kind", "\"pppk\"");
    json_object_set_new(to_pppk, "contract_start", json_string("2025-04-01"));
    EXPECT_OK(to_pppk);

    /* the same checks on a struct unpacked from protobuf bytes */
    Jpl__Event *ev = from_text("{\"type\":\"employee_registered\",\"nip\":\"199005152015031001\","
                               "\"issued_at_ms\":1736128800000,\"kind\":\"pppk\","
                               "\"unit\":\"Biro SDM\",\"contract_start\":\"2025-04-01\"}");
    REQUIRE(ev != NULL);
    jpl_error e = {0};
    CHECK_EQ(jpl_event_validate(ev, NOW_MS, &e), JPL_OK);
    free(ev->employee_registered->contract_start);
    ev->employee_registered->contract_start = strdup("2025-02-30");
    Jpl__Event *u = pack_unpack(ev, NULL, NULL);
    REQUIRE(u != NULL);
    CHECK_EQ(jpl_event_validate(u, NOW_MS, &e), JPL_ERR_BAD_INPUT);
    CHECK(strstr(e.msg, "field 'contract_start' '2025-02-30' is not a calendar date") != NULL);
    jpl__event__free_unpacked(u, NULL);
    ev->employee_registered->kind = JPL__EMPLOYEE_KIND__KIND_PNS;
    free(ev->employee_registered->contract_start);
    ev->employee_registered->contract_start = strdup("2025-03-01");
    u = pack_unpack(ev, NULL, NULL);
    REQUIRE(u != NULL);
    CHECK_EQ(jpl_event_validate(u, NOW_MS, &e), JPL_ERR_BAD_INPUT);
    CHECK(strstr(e.msg, "is for PPPK only") != NULL);
    jpl__event__free_unpacked(u, NULL);
    jpl_event_free(ev);
}

/* Packs a doc example, unpacks it and prints it: the JSON of the unpacked event is the original. */
static void test_unpacked_equals_original(void)
{
    json_t *all = doc_examples();
    REQUIRE(all != NULL);
    size_t i;
    json_t *v;
    size_t checked = 0;
    json_array_foreach(all, i, v)
    {
        Jpl__Event *ev = NULL;
        jpl_error e = {0};
        if (jpl_event_from_json(v, NOW_MS, &ev, &e) != JPL_OK)
            continue; /* reported by test_doc_examples */
        Jpl__Event *u = pack_unpack(ev, NULL, NULL);
        json_t *j = u != NULL ? jpl_event_to_json(u) : NULL;
        CHECK(j != NULL && json_equal(j, v));
        /* and the canonical text is field-for-field the docs example, in order */
        char *got = j ? json_dumps(j, JSON_COMPACT) : NULL;
        char *want = json_dumps(v, JSON_COMPACT);
        CHECK(got != NULL && want != NULL && strcmp(got, want) == 0);
        if (got == NULL || want == NULL || strcmp(got, want) != 0)
            fprintf(stderr, "  want %s\n  got  %s\n", want ? want : "?", got ? got : "(null)");
        free(got);
        free(want);
        json_decref(j);
        jpl__event__free_unpacked(u, NULL);
        jpl_event_free(ev);
        checked++;
    }
    CHECK(checked >= 13);
    json_decref(all);
}

int main(void)
{
    static const jpl_test_case CASES[] = {
        TEST_CASE(test_doc_examples),
        TEST_CASE(test_unpacked_equals_original),
        TEST_CASE(test_type),
        TEST_CASE(test_unknown_field),
        TEST_CASE(test_missing_required),
        TEST_CASE(test_wrong_type),
        TEST_CASE(test_wrong_type_every_field),
        TEST_CASE(test_bad_uuid),
        TEST_CASE(test_bad_hex),
        TEST_CASE(test_bad_base64),
        TEST_CASE(test_amounts),
        TEST_CASE(test_ranges),
        TEST_CASE(test_strings),
        TEST_CASE(test_control_chars),
        TEST_CASE(test_nip),
        TEST_CASE(test_nip_rules),
        TEST_CASE(test_too_many),
        TEST_CASE(test_rules_within_event),
        TEST_CASE(test_enums),
        TEST_CASE(test_text_input),
        TEST_CASE(test_defaults),
        TEST_CASE(test_validate_unpacked),
        TEST_CASE(test_contract_start),
    };
    return jpl_test_run("event_json", CASES, sizeof CASES / sizeof CASES[0]);
}
