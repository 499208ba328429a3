/*
 * The year generator (tools/gen.c, compiled into this test since unit tests link only the
 * ledger library): same seed, same bytes; another seed, other bytes; every line is a valid event
 * with a valid, unique NIP of a plausible age; the shape of the year (PPPK share, units, short
 * PNS, PPPK over the cap, revocations, transfers); shards partition the year; and a generated
 * year appended phase by phase, each with its role's key, into a fresh ledger has no rejection.
 */
#define _GNU_SOURCE /* memmem */
#include "test.h"

#include "../../tools/gen.c"

#include "jpl/keyfile.h"
#include "jpl/ledger.h"
#include "jpl/note.h"

typedef struct {
    char *buf;
    size_t len, cap;
    size_t lines;
} collector;

static jpl_err collect(void *ctx, jpl_gen_phase phase, const char *line, size_t len, jpl_error *e)
{
    (void)phase;
    collector *c = ctx;
    if (c->len + len + 2 > c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 1 << 20;
        while (ncap < c->len + len + 2)
            ncap *= 2;
        char *nb = realloc(c->buf, ncap);
        if (nb == NULL)
            return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
        c->buf = nb;
        c->cap = ncap;
    }
    memcpy(c->buf + c->len, line, len);
    c->buf[c->len + len] = '\n';
    c->len += len + 1;
    c->buf[c->len] = '\0'; /* the tests read it as one string */
    c->lines++;
    return JPL_OK;
}

static bool run(uint64_t employees, uint64_t seed, uint32_t mask, collector *c, jpl_gen_stats *st)
{
    jpl_gen_opts o = {.employees = employees, .year = 2025, .seed = seed};
    jpl_error e = {0};
    memset(c, 0, sizeof *c);
    jpl_err rc = jpl_gen_run(&o, mask, collect, c, st, &e);
    if (rc != JPL_OK)
        fprintf(stderr, "gen: %s\n", e.msg);
    return rc == JPL_OK;
}

#define ALL ((1u << JPL_GEN_PHASES) - 1)

static void test_deterministic(void)
{
    collector a, b, c;
    jpl_gen_stats sa, sb, sc;
    REQUIRE(run(400, 42, ALL, &a, &sa));
    REQUIRE(run(400, 42, ALL, &b, &sb));
    REQUIRE(run(400, 43, ALL, &c, &sc));
    CHECK(a.len > 0);
    CHECK_EQ(a.len, b.len);
    CHECK(a.len == b.len && memcmp(a.buf, b.buf, a.len) == 0);
    CHECK(a.len != c.len || memcmp(a.buf, c.buf, a.len) != 0);
    CHECK_EQ(sa.events, a.lines);
    CHECK_EQ(sa.events, sb.events);
    free(a.buf);
    free(b.buf);
    free(c.buf);
}

/* A phase alone gives exactly the lines of that phase in the full run, in the same order. */
static void test_phases_partition(void)
{
    collector all;
    jpl_gen_stats st;
    REQUIRE(run(300, 5, ALL, &all, &st));
    size_t total = 0;
    for (int p = 0; p < JPL_GEN_PHASES; p++) {
        collector one;
        jpl_gen_stats s1;
        REQUIRE(run(300, 5, 1u << p, &one, &s1));
        CHECK_EQ(one.lines, st.by_phase[p]);
        CHECK_EQ(s1.employees, st.employees); /* the counts do not depend on the phases */
        CHECK_EQ(s1.pns_short, st.pns_short);
        /* every line of the phase appears in the full output */
        char *save = NULL;
        size_t missing = 0;
        for (char *l = strtok_r(one.buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
            missing += memmem(all.buf, all.len, l, strlen(l)) == NULL;
        CHECK_EQ(missing, 0);
        total += one.lines;
        free(one.buf);
    }
    CHECK_EQ(total, all.lines);
    free(all.buf);
}

/* Shards of a phase together are the phase. */
static void test_shards_partition(void)
{
    collector whole;
    jpl_gen_stats st;
    REQUIRE(run(301, 9, 1u << JPL_GEN_LEARNING, &whole, &st));
    size_t lines = 0;
    for (uint32_t k = 0; k < 3; k++) {
        jpl_gen_opts o = {.employees = 301, .year = 2025, .seed = 9, .shard = k, .shards = 3};
        collector c;
        memset(&c, 0, sizeof c);
        jpl_gen_stats s;
        CHECK_EQ(jpl_gen_run(&o, 1u << JPL_GEN_LEARNING, collect, &c, &s, NULL), JPL_OK);
        char *save = NULL;
        size_t missing = 0;
        for (char *l = strtok_r(c.buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
            missing += memmem(whole.buf, whole.len, l, strlen(l)) == NULL;
        CHECK_EQ(missing, 0);
        lines += c.lines;
        free(c.buf);
    }
    CHECK_EQ(lines, whole.lines);
    free(whole.buf);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every line is an event; every NIP valid, unique, aged 19..58 and appointed before the year. */
static void test_events_and_nips_valid(void)
{
    const uint64_t n = 3000;
    collector c;
    jpl_gen_stats st;
    REQUIRE(run(n, 1, ALL, &c, &st));
    char **nips = calloc(n, sizeof *nips);
    REQUIRE(nips != NULL);
    size_t nn = 0, bad_events = 0, bad_nips = 0, bad_age = 0, types[64] = {0};
    char units[JPL_GEN_UNITS][160];
    size_t unit_count[JPL_GEN_UNITS] = {0}, nunits = 0;
    uint32_t now = jpl_time_yyyymm(jpl_now_ms());
    char *save = NULL;
    for (char *l = strtok_r(c.buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        Jpl__Event *ev = NULL;
        jpl_error e = {0};
        if (jpl_event_from_json_text(l, strlen(l), jpl_now_ms(), &ev, &e) != JPL_OK) {
            if (bad_events++ < 3)
                fprintf(stderr, "bad event: %s\n  %s\n", e.msg, l);
            continue;
        }
        types[ev->body_case < 64 ? ev->body_case : 0]++;
        if (ev->body_case == JPL__EVENT__BODY_EMPLOYEE_REGISTERED) {
            jpl_nip nip;
            if (jpl_nip_parse(ev->nip, strlen(ev->nip), now, &nip, &e) != JPL_OK) {
                bad_nips++;
                fprintf(stderr, "bad NIP: %s\n", e.msg);
            } else {
                uint32_t age = 2025u - nip.birth_year;
                bad_age += age < 19 || age > 58 || nip.appoint_year >= 2025;
            }
            if (nn < n)
                nips[nn++] = strdup(ev->nip);
            const char *u = ev->employee_registered->unit;
            size_t k = 0;
            while (k < nunits && strcmp(units[k], u) != 0)
                k++;
            if (k == nunits && nunits < JPL_GEN_UNITS)
                snprintf(units[nunits++], sizeof units[0], "%s", u);
            if (k < JPL_GEN_UNITS)
                unit_count[k]++;
        }
        jpl_event_free(ev);
    }
    CHECK_EQ(bad_events, 0);
    CHECK_EQ(bad_nips, 0);
    CHECK_EQ(bad_age, 0);
    CHECK_EQ(nn, n);
    qsort(nips, nn, sizeof *nips, cmp_str);
    size_t dups = 0;
    for (size_t i = 1; i < nn; i++)
        dups += strcmp(nips[i - 1], nips[i]) == 0;
    CHECK_EQ(dups, 0);
    for (size_t i = 0; i < nn; i++)
        free(nips[i]);
    free(nips);
    /* every kind of event of a year is there */
    CHECK(types[JPL__EVENT__BODY_ACTIVITY_DEFINED] > 100);
    CHECK(types[JPL__EVENT__BODY_PLAN_SUBMITTED] > n * 8 / 10);
    CHECK(types[JPL__EVENT__BODY_PLAN_APPROVED] > n * 7 / 10);
    CHECK(types[JPL__EVENT__BODY_ENROLLED] > n);
    CHECK(types[JPL__EVENT__BODY_COMPLETED] > n);
    CHECK(types[JPL__EVENT__BODY_RECOGNIZED] > n);
    CHECK(types[JPL__EVENT__BODY_REVOKED] > 0);
    CHECK(types[JPL__EVENT__BODY_EMPLOYEE_UPDATED] > 0);
    /* about one in five PPPK; short PNS and PPPK over the cap exist */
    CHECK(st.pppk * 100 > st.employees * 15 && st.pppk * 100 < st.employees * 25);
    CHECK(st.pns_short * 100 > st.pns * 5 && st.pns_short * 100 < st.pns * 30);
    CHECK(st.pppk_over > 0);
    CHECK(st.wrong_recognitions > 0);
    CHECK(st.dropouts > 0);
    CHECK(st.transfers > 0);
    /* units of very unequal size */
    size_t biggest = 0, smallest = SIZE_MAX;
    for (size_t k = 0; k < nunits; k++) {
        biggest = unit_count[k] > biggest ? unit_count[k] : biggest;
        smallest = unit_count[k] < smallest ? unit_count[k] : smallest;
    }
    CHECK(nunits > 100);
    CHECK(biggest > 20 * smallest);
    free(c.buf);
}

static void test_bad_options(void)
{
    jpl_gen_opts o = {.employees = 0, .year = 2025};
    collector c;
    memset(&c, 0, sizeof c);
    CHECK_EQ(jpl_gen_run(&o, ALL, collect, &c, NULL, NULL), JPL_ERR_USAGE);
    o.employees = JPL_GEN_MAX_EMPLOYEES + 1;
    CHECK_EQ(jpl_gen_run(&o, ALL, collect, &c, NULL, NULL), JPL_ERR_USAGE);
    o.employees = 10;
    o.year = 2000;
    CHECK_EQ(jpl_gen_run(&o, ALL, collect, &c, NULL, NULL), JPL_ERR_USAGE);
    o.year = 2025;
    o.shards = 2;
    o.shard = 2;
    CHECK_EQ(jpl_gen_run(&o, ALL, collect, &c, NULL, NULL), JPL_ERR_USAGE);
    CHECK_EQ(c.lines, 0);
    CHECK_EQ(jpl_gen_phase_from_name("learning"), JPL_GEN_LEARNING);
    CHECK_EQ(jpl_gen_phase_from_name("nope"), JPL_GEN_PHASES);
    CHECK_STREQ(jpl_gen_phase_role(JPL_GEN_APPROVALS), "supervisor");
    CHECK(jpl_gen_phase_name(JPL_GEN_PHASES) == NULL);
}

/* A sink's error stops the run and comes back. */
static jpl_err failing_sink(void *ctx, jpl_gen_phase phase, const char *line, size_t len,
                            jpl_error *e)
{
    (void)phase, (void)line, (void)len;
    size_t *n = ctx;
    if (++*n == 5)
        return jpl_fail(e, JPL_ERR_IO, "disk full");
    return JPL_OK;
}

static void test_sink_error_stops(void)
{
    jpl_gen_opts o = {.employees = 100, .year = 2025, .seed = 1};
    size_t n = 0;
    jpl_error e = {0};
    CHECK_EQ(jpl_gen_run(&o, ALL, failing_sink, &n, NULL, &e), JPL_ERR_IO);
    CHECK_EQ(n, 5);
    CHECK_STREQ(e.msg, "disk full");
}

/* ---- appending a generated year ---- */

typedef struct {
    jpl_ledger *l;
    jpl_note_signer *signer;
    jpl_bytes *envs;
    size_t n;
    size_t rejected, appended;
} appender;

static jpl_err flush_envs(appender *a)
{
    if (a->n == 0)
        return JPL_OK;
    jpl_append_result *res = calloc(a->n, sizeof *res);
    jpl_error e = {0};
    jpl_err rc = jpl_ledger_append(a->l, a->envs, a->n, res, &e);
    if (rc != JPL_OK) {
        fprintf(stderr, "append: %s\n", e.msg);
        a->rejected++;
    } else {
        a->appended += a->n;
    }
    for (size_t i = 0; i < a->n; i++)
        free((void *)a->envs[i].data);
    a->n = 0;
    free(res);
    return rc;
}

static jpl_err append_sink(void *ctx, jpl_gen_phase phase, const char *line, size_t len,
                           jpl_error *e)
{
    (void)phase;
    appender *a = ctx;
    Jpl__Event *ev = NULL;
    uint8_t *env = NULL;
    size_t envlen = 0;
    jpl_err rc = jpl_event_from_json_text(line, len, jpl_now_ms(), &ev, e);
    if (rc == JPL_OK)
        rc = jpl_event_seal(ev, a->signer->pk, a->signer->sk, &env, &envlen, e);
    jpl_event_free(ev);
    if (rc != JPL_OK)
        return rc;
    a->envs[a->n++] = (jpl_bytes){env, envlen};
    return a->n == 1000 ? flush_envs(a) : JPL_OK;
}

static void test_year_appends_without_rejection(void)
{
    const char *tmp = jpl_test_tmpdir("gen_append");
    REQUIRE(tmp != NULL);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/ledger", tmp);
    jpl_error e = {0};
    jpl_init_result ir;
    REQUIRE(jpl_ledger_init(dir, NULL, &ir, &e) == JPL_OK);
    jpl_note_signer admin, keys[4];
    static const char *const ROLES[4] = {"hr", "lms", "supervisor", "verifier"};
    REQUIRE(jpl_keyfile_read_signer(ir.admin_key_path, &admin, &e) == JPL_OK);
    jpl_ledger *l = NULL;
    REQUIRE(jpl_ledger_open(dir, true, &l, &e) == JPL_OK);
    appender a = {.l = l, .signer = &admin};
    a.envs = calloc(1000, sizeof *a.envs);
    REQUIRE(a.envs != NULL);
    for (int r = 0; r < 4; r++) {
        REQUIRE(jpl_note_keygen(ROLES[r], &keys[r], &e) == JPL_OK);
        char b64[64], json[512];
        REQUIRE(jpl_base64_encode(b64, sizeof b64, keys[r].pk, 32));
        int len = snprintf(json, sizeof json,
                           "{\"type\":\"key_registered\",\"public_key\":\"%s\",\"name\":\"%s\","
                           "\"role\":\"%s\"}",
                           b64, ROLES[r], ROLES[r]);
        CHECK_EQ(append_sink(&a, JPL_GEN_PHASES, json, (size_t)len, &e), JPL_OK);
    }
    CHECK_EQ(flush_envs(&a), JPL_OK);
    jpl_gen_opts o = {.employees = 400, .year = 2025, .seed = 2024};
    jpl_gen_stats st;
    uint64_t events = 0;
    for (int p = 0; p < JPL_GEN_PHASES; p++) {
        const char *role = jpl_gen_phase_role((jpl_gen_phase)p);
        for (int r = 0; r < 4; r++)
            if (strcmp(role, ROLES[r]) == 0)
                a.signer = &keys[r];
        jpl_err rc = jpl_gen_run(&o, 1u << p, append_sink, &a, &st, &e);
        if (rc != JPL_OK)
            fprintf(stderr, "phase %s: %s\n", jpl_gen_phase_name((jpl_gen_phase)p), e.msg);
        CHECK_EQ(rc, JPL_OK);
        CHECK_EQ(flush_envs(&a), JPL_OK);
        events += st.events;
    }
    CHECK_EQ(a.rejected, 0);
    CHECK(events > 400 * 8);
    CHECK_EQ(jpl_ledger_size(l), 1 + 4 + events);
    /* appending a phase again is idempotent (fixed ids and times): duplicates, no rejection */
    a.signer = &keys[1];
    CHECK_EQ(jpl_gen_run(&o, 1u << JPL_GEN_LEARNING, append_sink, &a, &st, &e), JPL_OK);
    CHECK_EQ(flush_envs(&a), JPL_OK);
    CHECK_EQ(jpl_ledger_size(l), 1 + 4 + events);
    CHECK_EQ(a.rejected, 0);
    jpl_ledger_close(l);
    free(a.envs);
    jpl_note_signer_wipe(&admin);
    for (int r = 0; r < 4; r++)
        jpl_note_signer_wipe(&keys[r]);
}

int main(void)
{
    static const jpl_test_case cases[] = {
        TEST_CASE(test_deterministic),
        TEST_CASE(test_phases_partition),
        TEST_CASE(test_shards_partition),
        TEST_CASE(test_events_and_nips_valid),
        TEST_CASE(test_bad_options),
        TEST_CASE(test_sink_error_stops),
        TEST_CASE(test_year_appends_without_rejection),
    };
    if (!jpl_crypto_init())
        return 1;
    return jpl_test_run("gen", cases, sizeof cases / sizeof cases[0]);
}
