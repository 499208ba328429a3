/*
 * xAPI statements (ledger/xapi.c): the published vectors (tests/vectors/xapi_statements.json)
 * sort into valid and invalid exactly as their `valid` flag says, every invalid one with a
 * reason; valid ones map once their actor is an account named by a NIP, and their events pass
 * the event JSON checks; durations, timestamps, derived ids, voiding and refusals.
 */
#include "test.h"

#include "jpl/event_json.h"
#include "jpl/ledger.h"
#include "jpl/xapi.h"

#define NIP "198503122009031001"

static json_t *load_vectors(void)
{
    json_error_t je;
    json_t *v = json_load_file(jpl_test_vector_path("xapi_statements.json"), 0, &je);
    if (v == NULL)
        fprintf(stderr, "xapi_statements.json: %s\n", je.text);
    return v;
}

static json_t *nip_actor(void)
{
    return json_pack("{s:s, s:{s:s, s:s}}", "objectType", "Agent", "account", "homePage",
                     "https://simpeg.example.go.id", "name", NIP);
}

/* The events of a mapped statement convert to protobuf events (their shape is right). */
static bool events_valid(const json_t *events)
{
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev)
    {
        Jpl__Event *pe = NULL;
        jpl_error e = {0};
        if (jpl_event_from_json(ev, jpl_now_ms(), &pe, &e) != JPL_OK) {
            fprintf(stderr, "event %zu: %s\n", i, e.msg);
            return false;
        }
        jpl_event_free(pe);
    }
    return true;
}

static void test_vectors_sort_as_flagged(void)
{
    json_t *vs = load_vectors();
    REQUIRE(vs != NULL && json_array_size(vs) == 19);
    size_t i;
    json_t *v;
    int valid = 0, invalid = 0;
    json_array_foreach(vs, i, v)
    {
        const char *name = json_string_value(json_object_get(v, "name"));
        bool want = json_is_true(json_object_get(v, "valid"));
        jpl_error e = {0};
        jpl_err rc = jpl_xapi_check(json_object_get(v, "statement"), &e);
        if ((rc == JPL_OK) != want)
            fprintf(stderr, "vector %s: check says %s (%s)\n", name, rc == JPL_OK ? "ok" : "bad",
                    e.msg);
        CHECK((rc == JPL_OK) == want);
        if (!want) {
            CHECK_EQ(rc, JPL_ERR_BAD_INPUT);
            CHECK(strlen(e.msg) > 10);
            invalid++;
        } else {
            valid++;
        }
    }
    CHECK_EQ(valid, 10);
    CHECK_EQ(invalid, 9);
    json_decref(vs);
}

/* Specific reasons for the invalid vectors, so that each is refused for its own reason. */
static void test_invalid_vectors_reasons(void)
{
    static const struct {
        const char *name, *needle;
    } WANT[] = {
        {"spec-0.9-format-completed-statement", "inProgress"},
        {"cts-missing-actor", "'actor' is required"},
        {"cts-missing-verb", "'verb' is required"},
        {"cts-missing-object", "'object' is required"},
        {"cts-voiding-object-not-statementref", "StatementRef"},
        {"cts-result-duration-invalid-PA1H0M0S", "ISO 8601 duration"},
        {"cts-timestamp-negative-zero-offset", "RFC 3339"},
        {"cts-statementref-missing-id", "StatementRef must be a UUID"},
        {"cts-null-actor-name", "'actor.name' is null"},
    };
    json_t *vs = load_vectors();
    REQUIRE(vs != NULL);
    size_t found = 0;
    for (size_t k = 0; k < sizeof WANT / sizeof WANT[0]; k++) {
        size_t i;
        json_t *v;
        json_array_foreach(vs, i, v)
        {
            if (strcmp(json_string_value(json_object_get(v, "name")), WANT[k].name) != 0)
                continue;
            found++;
            jpl_error e = {0};
            CHECK_EQ(jpl_xapi_check(json_object_get(v, "statement"), &e), JPL_ERR_BAD_INPUT);
            if (strstr(e.msg, WANT[k].needle) == NULL)
                fprintf(stderr, "%s: reason '%s' lacks '%s'\n", WANT[k].name, e.msg,
                        WANT[k].needle);
            CHECK(strstr(e.msg, WANT[k].needle) != NULL);
        }
    }
    CHECK_EQ(found, sizeof WANT / sizeof WANT[0]);
    json_decref(vs);
}

/* As published, no valid vector names an employee: each is refused with a reason. With a NIP
 * account as actor, those with an id, a time and a mapped verb map. */
static void test_valid_vectors_map_with_nip_actor(void)
{
    json_t *vs = load_vectors();
    REQUIRE(vs != NULL);
    size_t i;
    json_t *v;
    int mapped = 0, refused_as_published = 0;
    json_array_foreach(vs, i, v)
    {
        if (!json_is_true(json_object_get(v, "valid")))
            continue;
        json_t *st = json_deep_copy(json_object_get(v, "statement"));
        jpl_xapi_statement s;
        jpl_error e = {0};
        if (jpl_xapi_parse(st, jpl_now_ms(), &s, &e) != JPL_OK)
            refused_as_published++;
        CHECK(e.msg[0] != '\0');
        const char *verb = json_string_value(json_object_get(json_object_get(st, "verb"), "id"));
        bool voiding = strstr(verb, "voided") != NULL;
        if (!voiding)
            json_object_set_new(st, "actor", nip_actor());
        bool has_id = json_object_get(st, "id") != NULL;
        bool has_time = json_object_get(st, "timestamp") || json_object_get(st, "stored");
        bool mapped_verb = strstr(verb, "created") == NULL;
        memset(&e, 0, sizeof e);
        jpl_err rc = jpl_xapi_parse(st, jpl_now_ms(), &s, &e);
        if ((rc == JPL_OK) != (has_id && has_time && mapped_verb))
            fprintf(stderr, "%s: parse %d: %s\n", json_string_value(json_object_get(v, "name")), rc,
                    e.msg);
        CHECK((rc == JPL_OK) == (has_id && has_time && mapped_verb));
        if (rc == JPL_OK) {
            mapped++;
            CHECK_STREQ(s.nip, NIP);
            json_t *events = jpl_xapi_events(&s, 100);
            REQUIRE(events != NULL);
            CHECK(json_array_size(events) >= 1);
            CHECK(events_valid(events));
            char idt[37];
            jpl_uuid_format(idt, s.id);
            /* the statement id is the id of the main event */
            size_t main_ix = s.kind == JPL_XAPI_COMPLETED ? 1 : 0;
            CHECK_STREQ(json_string_value(json_object_get(json_array_get(events, main_ix), "id")),
                        idt);
            json_decref(events);
            if (s.has_duration) {
                json_t *def = jpl_xapi_activity_event(&s, 100);
                json_t *one = json_array();
                json_array_append_new(one, def);
                CHECK(events_valid(one));
                json_decref(one);
            }
        }
        json_decref(st);
    }
    /* attempted, attended (long example), completed (1.0.0), cmi5 passed/completed/failed */
    CHECK_EQ(mapped, 6);
    CHECK_EQ(refused_as_published, 10);
    json_decref(vs);
}

static void test_actor_refusals(void)
{
    const char *base = "{\"id\":\"7ccd3322-e1a5-411a-a67d-6a735c76f119\",\"timestamp\":"
                       "\"2024-03-01T08:00:00Z\",\"verb\":{\"id\":\"http://adlnet.gov/expapi/"
                       "verbs/completed\"},\"object\":{\"id\":\"https://lms.example.go.id/a/1\"},"
                       "\"result\":{\"duration\":\"PT90M\"},\"actor\":";
    static const struct {
        const char *actor, *needle;
        bool valid;
    } CASES[] = {
        {"{\"mbox\":\"mailto:a@example.go.id\"}", "mbox", true},
        {"{\"mbox_sha1sum\":\"ebd31e95054c018b10727ccffd2ef2ec3a016ee9\"}", "mbox_sha1sum", true},
        {"{\"openid\":\"http://openid.example.org/x\"}", "openid", true},
        {"{\"objectType\":\"Group\",\"member\":[{\"mbox\":\"mailto:a@example.go.id\"}]}", "Group",
         true},
        {"{\"account\":{\"homePage\":\"https://simpeg.example.go.id\",\"name\":"
         "\"199005152099031001\"}}",
         "not a NIP", true},
        {"{\"account\":{\"homePage\":\"https://simpeg.example.go.id\",\"name\":\"12345\"}}",
         "not a NIP", true},
        {"{\"account\":{\"name\":\"" NIP "\"}}", "homePage", false},
        {"{\"mbox\":\"a@example.go.id\"}", "mailto", false},
        {"{\"mbox\":\"mailto:a@example.go.id\",\"openid\":\"http://x.org/\"}", "more than one",
         false},
        {"{\"name\":\"nobody\"}", "no identifier", false},
        {"{\"objectType\":\"Person\",\"mbox\":\"mailto:a@example.go.id\"}", "Agent or Group",
         false},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text, "%s%s}", base, CASES[i].actor);
        json_t *st = json_loads(text, 0, NULL);
        REQUIRE(st != NULL);
        jpl_error e = {0};
        jpl_err rc = jpl_xapi_check(st, &e);
        CHECK((rc == JPL_OK) == CASES[i].valid);
        if (rc == JPL_OK) {
            jpl_xapi_statement s;
            rc = jpl_xapi_parse(st, jpl_now_ms(), &s, &e);
            CHECK_EQ(rc, JPL_ERR_BAD_INPUT);
        }
        if (strstr(e.msg, CASES[i].needle) == NULL)
            fprintf(stderr, "case %zu: '%s' lacks '%s'\n", i, e.msg, CASES[i].needle);
        CHECK(strstr(e.msg, CASES[i].needle) != NULL);
        json_decref(st);
    }
}

static void test_structure_refusals(void)
{
    static const struct {
        const char *json, *needle;
    } CASES[] = {
        {"[]", "JSON object"},
        {"{\"actor\":{\"mbox\":\"mailto:a@x.org\"},\"verb\":{\"id\":\"completed\"},\"object\":{"
         "\"id\":\"http://x.org/a\"}}",
         "IRI"},
        {"{\"id\":\"not-a-uuid\",\"actor\":{\"mbox\":\"mailto:a@x.org\"},\"verb\":{\"id\":"
         "\"http://x.org/v\"},\"object\":{\"id\":\"http://x.org/a\"}}",
         "'id' must be a UUID"},
        {"{\"actor\":{\"mbox\":\"mailto:a@x.org\"},\"verb\":{\"id\":\"http://x.org/v\"},"
         "\"object\":{\"objectType\":\"Thing\",\"id\":\"http://x.org/a\"}}",
         "not an xAPI object type"},
        {"{\"actor\":{\"mbox\":\"mailto:a@x.org\"},\"verb\":{\"id\":\"http://x.org/v\"},"
         "\"object\":{\"id\":\"http://x.org/a\"},\"context\":{\"platform\":null}}",
         "'context.platform' is null"},
        {"{\"actor\":{\"mbox\":\"mailto:a@x.org\"},\"verb\":{\"id\":\"http://x.org/v\"},"
         "\"object\":{\"id\":\"http://x.org/a\"},\"context\":{\"registration\":\"x\"}}",
         "registration"},
        {"{\"actor\":{\"mbox\":\"mailto:a@x.org\"},\"verb\":{\"id\":\"http://x.org/v\"},"
         "\"object\":{\"id\":\"http://x.org/a\"},\"version\":\"0.95\"}",
         "version"},
        {"{\"actor\":{\"mbox\":\"mailto:a@x.org\"},\"verb\":{\"id\":\"http://x.org/v\"},"
         "\"object\":{\"id\":\"http://x.org/a\"},\"timestamp\":\"2024-02-30T00:00:00Z\"}",
         "RFC 3339"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        json_t *st = json_loads(CASES[i].json, 0, NULL);
        REQUIRE(st != NULL);
        jpl_error e = {0};
        CHECK_EQ(jpl_xapi_check(st, &e), JPL_ERR_BAD_INPUT);
        if (strstr(e.msg, CASES[i].needle) == NULL)
            fprintf(stderr, "case %zu: '%s' lacks '%s'\n", i, e.msg, CASES[i].needle);
        CHECK(strstr(e.msg, CASES[i].needle) != NULL);
        json_decref(st);
    }
    /* nulls inside extensions are allowed */
    json_t *ok = json_loads("{\"actor\":{\"mbox\":\"mailto:a@x.org\"},\"verb\":{\"id\":"
                            "\"http://x.org/v\"},\"object\":{\"id\":\"http://x.org/a\"},"
                            "\"result\":{\"extensions\":{\"http://x.org/e\":null}}}",
                            0, NULL);
    CHECK_EQ(jpl_xapi_check(ok, NULL), JPL_OK);
    json_decref(ok);
}

static void test_durations(void)
{
    static const struct {
        const char *text;
        bool ok;
        uint64_t ms;
    } CASES[] = {
        {"PT1234S", true, 1234000},
        {"PT4H35M59.14S", true, 16559140},
        {"PT1H0M0S", true, 3600000},
        {"PT10.7S", true, 10700},
        {"PT14.14S", true, 14140},
        {"P1DT2H", true, 93600000},
        {"P2W", true, 1209600000},
        {"PT0.5H", true, 1800000},
        {"PT90M", true, 5400000},
        {"PA1H0M0S", false, 0},
        {"P", false, 0},
        {"PT", false, 0},
        {"P1DT", false, 0},
        {"PT1H30", false, 0},
        {"PT1S2M", false, 0},
        {"PT1.5H2M", false, 0},
        {"1H", false, 0},
        {"PT-1H", false, 0},
        {"PT1H1H", false, 0},
        {"P1H", false, 0},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        uint64_t ms = 0;
        bool cal = true;
        bool ok = jpl_xapi_parse_duration(CASES[i].text, &ms, &cal);
        if (ok != CASES[i].ok || (ok && ms != CASES[i].ms))
            fprintf(stderr, "duration %s: ok %d ms %llu\n", CASES[i].text, ok,
                    (unsigned long long)ms);
        CHECK(ok == CASES[i].ok);
        if (ok) {
            CHECK_EQ(ms, CASES[i].ms);
            CHECK(!cal);
        }
    }
    uint64_t ms = 0;
    bool cal = false;
    CHECK(jpl_xapi_parse_duration("P1Y2M", &ms, &cal) && cal);
    /* 45 minutes a JP: 45 min = 1 JP, 1 h = 1.33 JP, 90 min = 2 JP; rounding down */
    CHECK_EQ(jpl_xapi_duration_jp(45 * 60000, 45), 100);
    CHECK_EQ(jpl_xapi_duration_jp(3600000, 45), 133);
    CHECK_EQ(jpl_xapi_duration_jp(5400000, 45), 200);
    CHECK_EQ(jpl_xapi_duration_jp(5400000, 60), 150);
    CHECK_EQ(jpl_xapi_duration_jp(0, 45), 0);
    CHECK_EQ(jpl_xapi_duration_jp(UINT64_MAX / 2, 1), JPL_MAX_JP_CENTI);
}

static void test_timestamps(void)
{
    uint64_t a = 0, b = 0;
    CHECK(jpl_xapi_parse_time("1970-01-01T00:00:00Z", &a) && a == 0);
    CHECK(jpl_xapi_parse_time("2000-01-01T00:00:00Z", &a) && a == JPL_MIN_TIME_MS);
    CHECK(jpl_xapi_parse_time("2100-01-01T00:00:00Z", &a) && a == JPL_MAX_TIME_MS);
    CHECK(jpl_xapi_parse_time("2015-12-18T12:17:00+00:00", &a));
    CHECK(jpl_xapi_parse_time("2015-12-18T12:17:00Z", &b) && a == b);
    CHECK(jpl_xapi_parse_time("2016-06-09T18:47:49.542+07:00", &a));
    CHECK(jpl_xapi_parse_time("2016-06-09T11:47:49.542Z", &b) && a == b);
    CHECK(jpl_xapi_parse_time("2013-05-18T05:32:34.804+00:00", &a) && a % 1000 == 804);
    CHECK(jpl_xapi_parse_time("2016-02-29T00:00:00Z", &a));
    CHECK(jpl_xapi_parse_time("2016-03-01T00:00:00Z", &b) && b - a == 86400000);
    CHECK(!jpl_xapi_parse_time("2015-02-29T00:00:00Z", &a));
    CHECK(!jpl_xapi_parse_time("2008-09-15T15:53:00.601-00:00", &a));
    CHECK(!jpl_xapi_parse_time("2015-12-18T12:17:00", &a));
    CHECK(!jpl_xapi_parse_time("2015-12-18 12:17:00Z", &a));
    CHECK(!jpl_xapi_parse_time("2015-12-18T24:00:00Z", &a));
    CHECK(!jpl_xapi_parse_time("2015-12-18T12:17:00Zjunk", &a));
    CHECK(!jpl_xapi_parse_time("2015-12-18T12:17:00.Z", &a));
    CHECK(!jpl_xapi_parse_time("", &a));
    CHECK(!jpl_xapi_parse_time(NULL, &a));
}

static void test_derived_ids(void)
{
    uint8_t a[16], b[16], c[16];
    jpl_xapi_derive_id(a, "tag:", "x", 1);
    jpl_xapi_derive_id(b, "tag:", "x", 1);
    jpl_xapi_derive_id(c, "tag2:", "x", 1);
    CHECK_MEMEQ(a, b, 16);
    CHECK(memcmp(a, c, 16) != 0);
    CHECK_EQ(a[6] >> 4, 8);      /* RFC 9562 version 8 */
    CHECK_EQ(a[8] & 0xC0, 0x80); /* RFC 9562 variant */
}

static json_t *statement(const char *verb, const char *id, const char *object_json)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"id\":\"%s\",\"timestamp\":\"2024-03-01T08:00:00+07:00\",\"actor\":{\"account\":"
             "{\"homePage\":\"https://simpeg.example.go.id\",\"name\":\"" NIP "\"}},\"verb\":"
             "{\"id\":\"http://adlnet.gov/expapi/verbs/%s\"},\"object\":%s,\"result\":"
             "{\"duration\":\"PT3H\"}}",
             id, verb, object_json);
    return json_loads(text, 0, NULL);
}

/* A completion makes an enrollment and a completion; voiding it revokes both, in that order. */
static void test_completion_and_voiding(void)
{
    const char *sid = "0b9b7a34-5b7e-4c41-9a53-6f1f0f3e0a01";
    json_t *st = statement("passed", sid,
                           "{\"id\":\"https://lms.example.go.id/a/1\","
                           "\"definition\":{\"name\":{\"en-US\":\"English\","
                           "\"id-ID\":\"Kursus\\nSatu\"}}}");
    REQUIRE(st != NULL);
    jpl_xapi_statement s;
    jpl_error e = {0};
    REQUIRE(jpl_xapi_check(st, &e) == JPL_OK);
    REQUIRE(jpl_xapi_parse(st, jpl_now_ms(), &s, &e) == JPL_OK);
    CHECK_EQ(s.kind, JPL_XAPI_COMPLETED);
    CHECK_STREQ(s.title, "Kursus Satu"); /* id-ID first, control characters become spaces */
    CHECK(s.has_duration && s.duration_ms == 3 * 3600000);
    uint64_t want_ms = 0;
    CHECK(jpl_xapi_parse_time("2024-03-01T01:00:00Z", &want_ms) && s.time_ms == want_ms);
    json_t *ev = jpl_xapi_events(&s, jpl_xapi_duration_jp(s.duration_ms, 45));
    REQUIRE(ev != NULL && json_array_size(ev) == 2);
    json_t *enr = json_array_get(ev, 0), *cmp = json_array_get(ev, 1);
    CHECK_STREQ(json_string_value(json_object_get(enr, "type")), "enrolled");
    CHECK_STREQ(json_string_value(json_object_get(cmp, "type")), "completed");
    CHECK_STREQ(json_string_value(json_object_get(cmp, "id")), sid);
    CHECK_STREQ(json_string_value(json_object_get(cmp, "enrollment_event_id")),
                json_string_value(json_object_get(enr, "id")));
    CHECK_EQ(json_integer_value(json_object_get(cmp, "jp_centi")), 400);
    CHECK_EQ(json_integer_value(json_object_get(cmp, "duration_minutes")), 180);
    CHECK(events_valid(ev));
    /* the same statement maps to the same events (re-import is idempotent) */
    jpl_xapi_statement s2;
    REQUIRE(jpl_xapi_parse(st, jpl_now_ms(), &s2, &e) == JPL_OK);
    json_t *ev2 = jpl_xapi_events(&s2, 400);
    CHECK(json_equal(ev, ev2));
    json_decref(ev2);

    char obj[128];
    snprintf(obj, sizeof obj, "{\"objectType\":\"StatementRef\",\"id\":\"%s\"}", sid);
    json_t *vst = statement("voided", "9ff30472-bd33-4c70-9d6b-ea4bea25021f", obj);
    json_object_set_new(vst, "actor", json_pack("{s:s}", "mbox", "mailto:admin@example.go.id"));
    REQUIRE(jpl_xapi_check(vst, &e) == JPL_OK);
    jpl_xapi_statement v;
    REQUIRE(jpl_xapi_parse(vst, jpl_now_ms(), &v, &e) == JPL_OK); /* any actor may void */
    CHECK_EQ(v.kind, JPL_XAPI_VOIDED);
    json_t *rev = jpl_xapi_events(&v, 0);
    REQUIRE(rev != NULL && json_array_size(rev) == 2);
    CHECK_STREQ(json_string_value(json_object_get(json_array_get(rev, 0), "target_event_id")), sid);
    CHECK_STREQ(json_string_value(json_object_get(json_array_get(rev, 1), "target_event_id")),
                json_string_value(json_object_get(enr, "id")));
    CHECK(events_valid(rev));
    json_decref(rev);
    json_decref(vst);
    json_decref(ev);
    json_decref(st);
}

static void test_unmapped_verbs_and_objects(void)
{
    jpl_xapi_statement s;
    jpl_error e = {0};
    json_t *st = statement("experienced", "0b9b7a34-5b7e-4c41-9a53-6f1f0f3e0a02",
                           "{\"id\":\"https://lms.example.go.id/a/1\"}");
    CHECK_EQ(jpl_xapi_check(st, NULL), JPL_OK);
    CHECK_EQ(jpl_xapi_parse(st, jpl_now_ms(), &s, &e), JPL_ERR_BAD_INPUT);
    CHECK(strstr(e.msg, "not mapped") != NULL);
    json_decref(st);
    st = statement("completed", "0b9b7a34-5b7e-4c41-9a53-6f1f0f3e0a03",
                   "{\"objectType\":\"Agent\",\"mbox\":\"mailto:a@example.go.id\"}");
    CHECK_EQ(jpl_xapi_check(st, NULL), JPL_OK);
    CHECK_EQ(jpl_xapi_parse(st, jpl_now_ms(), &s, &e), JPL_ERR_BAD_INPUT);
    CHECK(strstr(e.msg, "not an Activity") != NULL);
    json_decref(st);
    char longid[400] = "https://lms.example.go.id/";
    memset(longid + strlen(longid), 'a', 300);
    char obj[512];
    snprintf(obj, sizeof obj, "{\"id\":\"%s\"}", longid);
    st = statement("completed", "0b9b7a34-5b7e-4c41-9a53-6f1f0f3e0a04", obj);
    CHECK_EQ(jpl_xapi_check(st, NULL), JPL_OK);
    CHECK_EQ(jpl_xapi_parse(st, jpl_now_ms(), &s, &e), JPL_ERR_BAD_INPUT);
    CHECK(strstr(e.msg, "256") != NULL);
    json_decref(st);
    /* a statement before 2000 cannot be an event */
    st = statement("completed", "0b9b7a34-5b7e-4c41-9a53-6f1f0f3e0a05",
                   "{\"id\":\"https://lms.example.go.id/a/1\"}");
    json_object_set_new(st, "timestamp", json_string("1999-12-31T23:59:59Z"));
    CHECK_EQ(jpl_xapi_parse(st, jpl_now_ms(), &s, &e), JPL_ERR_BAD_INPUT);
    CHECK(strstr(e.msg, "2000..2100") != NULL);
    json_decref(st);
}

int main(void)
{
    static const jpl_test_case cases[] = {
        TEST_CASE(test_vectors_sort_as_flagged),
        TEST_CASE(test_invalid_vectors_reasons),
        TEST_CASE(test_valid_vectors_map_with_nip_actor),
        TEST_CASE(test_actor_refusals),
        TEST_CASE(test_structure_refusals),
        TEST_CASE(test_durations),
        TEST_CASE(test_timestamps),
        TEST_CASE(test_derived_ids),
        TEST_CASE(test_completion_and_voiding),
        TEST_CASE(test_unmapped_verbs_and_objects),
    };
    if (!jpl_crypto_init())
        return 1;
    return jpl_test_run("xapi", cases, sizeof cases / sizeof cases[0]);
}
