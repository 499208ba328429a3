/*
 * Decoding into an arena (jpl_codec_entry_decode_in, jpl_codec_event_decode_in, what replay
 * uses) accepts and refuses exactly what the malloc decoders do: the golden log entry and every
 * golden event decode to the same fields; every truncation and every single-byte change of them
 * gets the same verdict and error code from both; an arena is reused across many decodes and
 * resets, including a block bigger than its standard size.
 */
#include "test.h"

#include "golden/golden_hex.h"
#include "jpl/codec.h"

#define GOLDEN_DIR JPL_SOURCE_DIR "/tests/golden"

static const char *const EVENT_FILES[] = {
    "event_01_key_registered.hex",   "event_02_key_revoked.hex",
    "event_03_policy_set.hex",       "event_04_employee_registered.hex",
    "event_05_employee_updated.hex", "event_06_employee_exited.hex",
    "event_07_activity_defined.hex", "event_08_plan_submitted.hex",
    "event_09_plan_approved.hex",    "event_10_enrolled.hex",
    "event_11_completed.hex",        "event_12_recognized.hex",
    "event_13_revoked.hex",
};

static bool read_golden(const char *file, uint8_t **buf, size_t *len)
{
    char path[512], why[1024];
    snprintf(path, sizeof path, "%s/%s", GOLDEN_DIR, file);
    if (!golden_hex_read(path, buf, len, why, sizeof why)) {
        fprintf(stderr, "%s: %s\n", path, why);
        return false;
    }
    return true;
}

/* Both decoders give the same verdict on an entry; if both accept, the same fields. */
static bool same_entry_verdict(jpl_codec_arena *a, const uint8_t *b, size_t n)
{
    Jpl__LogEntry *m = NULL, *x = NULL;
    jpl_error e1 = {0}, e2 = {0};
    jpl_err r1 = jpl_codec_entry_decode(b, n, &m, &e1);
    jpl_err r2 = jpl_codec_entry_decode_in(a, b, n, &x, &e2);
    bool same = r1 == r2 && e1.code == e2.code;
    if (same && r1 == JPL_OK)
        same =
            m->seq == x->seq && m->recorded_at_ms == x->recorded_at_ms &&
            m->envelope->event.len == x->envelope->event.len &&
            memcmp(m->envelope->event.data, x->envelope->event.data, m->envelope->event.len) == 0 &&
            memcmp(m->envelope->signature.data, x->envelope->signature.data, 64) == 0;
    if (same && r1 != JPL_OK)
        same = strcmp(e1.msg, e2.msg) == 0;
    jpl_codec_entry_free(m);
    jpl_codec_arena_reset(a);
    return same;
}

static bool same_event_verdict(jpl_codec_arena *a, const uint8_t *b, size_t n)
{
    Jpl__Event *m = NULL, *x = NULL;
    jpl_error e1 = {0}, e2 = {0};
    jpl_err r1 = jpl_codec_event_decode(b, n, &m, &e1);
    jpl_err r2 = jpl_codec_event_decode_in(a, b, n, &x, &e2);
    bool same = r1 == r2 && e1.code == e2.code;
    if (same && r1 == JPL_OK) {
        /* the same message: both re-encode to the input */
        uint8_t *p1 = NULL, *p2 = NULL;
        size_t n1 = 0, n2 = 0;
        same = jpl_codec_event_encode(m, &p1, &n1, NULL) == JPL_OK &&
               jpl_codec_event_encode(x, &p2, &n2, NULL) == JPL_OK && n1 == n && n2 == n &&
               memcmp(p1, b, n) == 0 && memcmp(p2, b, n) == 0 && x->body_case == m->body_case;
        free(p1);
        free(p2);
    }
    if (same && r1 != JPL_OK)
        same = strcmp(e1.msg, e2.msg) == 0;
    jpl_codec_event_free(m);
    jpl_codec_arena_reset(a);
    return same;
}

/* Every prefix and every single-byte change (three values per position) of b. */
static size_t count_mismatches(jpl_codec_arena *a, const uint8_t *b, size_t n, bool entry,
                               size_t *refused)
{
    size_t bad = 0;
    uint8_t *c = malloc(n ? n : 1);
    if (c == NULL)
        return 1;
    for (size_t cut = 0; cut < n; cut++) {
        bool same = entry ? same_entry_verdict(a, b, cut) : same_event_verdict(a, b, cut);
        bad += same ? 0 : 1;
    }
    static const uint8_t deltas[] = {0x01, 0x80, 0xff};
    for (size_t i = 0; i < n; i++) {
        for (size_t d = 0; d < sizeof deltas; d++) {
            memcpy(c, b, n);
            c[i] ^= deltas[d];
            Jpl__Event *ev = NULL;
            Jpl__LogEntry *en = NULL;
            jpl_err rc = entry ? jpl_codec_entry_decode(c, n, &en, NULL)
                               : jpl_codec_event_decode(c, n, &ev, NULL);
            *refused += rc != JPL_OK ? 1 : 0;
            jpl_codec_entry_free(en);
            jpl_codec_event_free(ev);
            bool same = entry ? same_entry_verdict(a, c, n) : same_event_verdict(a, c, n);
            bad += same ? 0 : 1;
        }
    }
    free(c);
    return bad;
}

static void test_entry_same_as_malloc(void)
{
    uint8_t *b = NULL;
    size_t n = 0;
    REQUIRE(read_golden("log_entry_0.hex", &b, &n));
    jpl_codec_arena *a = jpl_codec_arena_new();
    REQUIRE(a != NULL);
    CHECK(same_entry_verdict(a, b, n));
    Jpl__LogEntry *x = NULL;
    REQUIRE(jpl_codec_entry_decode_in(a, b, n, &x, NULL) == JPL_OK);
    CHECK_EQ(x->seq, 0);
    Jpl__Event *ev = NULL;
    CHECK_EQ(
        jpl_codec_event_decode_in(a, x->envelope->event.data, x->envelope->event.len, &ev, NULL),
        JPL_OK);
    CHECK(ev != NULL && ev->body_case == JPL__EVENT__BODY_KEY_REGISTERED);
    jpl_codec_arena_reset(a);
    size_t refused = 0;
    CHECK_EQ(count_mismatches(a, b, n, true, &refused), 0);
    CHECK(refused > 0); /* the changes are real: many are refused */
    /* truncated entries are refused with a typed error by the arena decoder too */
    jpl_error e = {0};
    CHECK_EQ(jpl_codec_entry_decode_in(a, b, n / 2, &x, &e), JPL_ERR_BAD_INPUT);
    CHECK(e.msg[0] != '\0');
    CHECK_EQ(jpl_codec_entry_decode_in(a, b, JPL_MAX_ENTRY_BYTES + 1, &x, &e), JPL_ERR_TOO_LARGE);
    jpl_codec_arena_free(a);
    free(b);
}

static void test_events_same_as_malloc(void)
{
    jpl_codec_arena *a = jpl_codec_arena_new();
    REQUIRE(a != NULL);
    for (size_t f = 0; f < sizeof EVENT_FILES / sizeof EVENT_FILES[0]; f++) {
        uint8_t *b = NULL;
        size_t n = 0;
        REQUIRE(read_golden(EVENT_FILES[f], &b, &n));
        size_t refused = 0;
        size_t bad = count_mismatches(a, b, n, false, &refused);
        if (bad != 0)
            fprintf(stderr, "%s: %zu mismatches\n", EVENT_FILES[f], bad);
        CHECK_EQ(bad, 0);
        CHECK(refused > 0);
        free(b);
    }
    jpl_codec_arena_free(a);
}

/* Many decodes without a reset, a block bigger than the standard one, then reuse. */
static void test_arena_reuse(void)
{
    uint8_t *b = NULL;
    size_t n = 0;
    REQUIRE(read_golden("log_entry_0.hex", &b, &n));
    jpl_codec_arena *a = jpl_codec_arena_new();
    REQUIRE(a != NULL);
    for (int round = 0; round < 3; round++) {
        Jpl__LogEntry *first = NULL, *x = NULL;
        REQUIRE(jpl_codec_entry_decode_in(a, b, n, &first, NULL) == JPL_OK);
        uint8_t *big = calloc(1, 200000);
        REQUIRE(big != NULL);
        big[199999] = 7;
        const uint8_t *copy = jpl_codec_arena_copy(a, big, 200000);
        REQUIRE(copy != NULL);
        CHECK_EQ(copy[199999], 7);
        free(big);
        for (int i = 0; i < 2000; i++)
            REQUIRE(jpl_codec_entry_decode_in(a, b, n, &x, NULL) == JPL_OK);
        /* earlier messages are intact while the arena grows */
        CHECK_EQ(first->seq, x->seq);
        CHECK(memcmp(first->envelope->public_key.data, x->envelope->public_key.data, 32) == 0);
        jpl_codec_arena_reset(a);
    }
    jpl_codec_arena_reset(NULL);
    jpl_codec_arena_free(a);
    jpl_codec_arena_free(NULL);
    free(b);
}

int main(void)
{
    static const jpl_test_case cases[] = {
        TEST_CASE(test_entry_same_as_malloc),
        TEST_CASE(test_events_same_as_malloc),
        TEST_CASE(test_arena_reuse),
    };
    return jpl_test_run("codec_arena", cases, sizeof cases / sizeof cases[0]);
}
