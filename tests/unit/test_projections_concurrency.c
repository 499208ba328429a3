/*
 * Projections under concurrency, as the server runs them: query threads (balance, trail, unit
 * report, applied positions) beside an appender and online replays that switch column families.
 *
 *   - replays beside queries and appends: no query fails or crashes (a query used to read a
 *     family a replay had just dropped; two replays at once used to create the same family),
 *     and the live state ends as a replay from the log builds it;
 *   - torn reads: every batch enrolls one employee in 2024 and 2025, so a balance whose two
 *     years differ saw half a group; through a snapshot handle, the projections' positions, the
 *     log size, the checkpoint and trail proofs all agree;
 *   - a snapshot handle taken before a replay keeps reading the generation it started with.
 *
 * The first two failed before queries read snapshots and families were held while read.
 */
#include "test.h"
#include "test_events.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "jpl/event_json.h"
#include "jpl/keyfile.h"
#include "jpl/ledger.h"
#include "jpl/merkle.h"
#include "jpl/note.h"
#include "jpl/projections.h"
#include "jpl/store.h"

#define N_EMPLOYEES 8
#define QUERIERS 3
#define T2024 1710039600000ULL /* 2024-03-10T03:00Z */
#define T2025 1741575600000ULL /* 2025-03-10T03:00Z */

typedef struct {
    jpl_ledger *l;
    jpl_projections *p;
    jpl_note_signer admin, hr, lms;
    char nips[N_EMPLOYEES][19];
    atomic_bool stop;
    atomic_int errors;
    atomic_int torn;
    atomic_long queries;
    atomic_long batches;
    pthread_mutex_t mu;
    char first_error[600];
} fixture;

static void record_error(fixture *f, const char *what, const jpl_error *e)
{
    if (atomic_fetch_add(&f->errors, 1) == 0) {
        pthread_mutex_lock(&f->mu);
        snprintf(f->first_error, sizeof f->first_error, "%s: %s", what, e ? e->msg : "");
        pthread_mutex_unlock(&f->mu);
    }
}

static jpl_err app(fixture *f, const jpl_note_signer *k, const char *json)
{
    return jpl_test_append(f->l, k, json, NULL);
}

static bool setup(fixture *f, const char *name)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    const char *tmp = jpl_test_tmpdir(name);
    char dir[4200];
    jpl_error e = {0};
    jpl_init_result ir;
    if (tmp == NULL)
        return false;
    snprintf(dir, sizeof dir, "%s/ledger", tmp);
    if (jpl_ledger_init(dir, NULL, &ir, &e) != JPL_OK ||
        jpl_keyfile_read_signer(ir.admin_key_path, &f->admin, &e) != JPL_OK ||
        jpl_ledger_open(dir, true, &f->l, &e) != JPL_OK ||
        jpl_projections_attach(f->l, NULL, NULL, &f->p, &e) != JPL_OK ||
        jpl_note_keygen("hr.setjen", &f->hr, &e) != JPL_OK ||
        jpl_note_keygen("lms.pusdiklat", &f->lms, &e) != JPL_OK) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return false;
    }
    if (jpl_test_register_key(f->l, &f->admin, &f->hr, "hr") != JPL_OK ||
        jpl_test_register_key(f->l, &f->admin, &f->lms, "lms") != JPL_OK ||
        app(f, &f->lms,
            "{\"type\":\"activity_defined\",\"activity_id\":\"K1\",\"title\":\"Pelatihan\","
            "\"mode\":\"classical\",\"jp_centi\":1200}") != JPL_OK)
        return false;
    for (int i = 0; i < N_EMPLOYEES; i++) {
        char json[512];
        snprintf(f->nips[i], sizeof f->nips[i], "1985031220090310%02d", i + 1);
        snprintf(json, sizeof json,
                 "{\"type\":\"employee_registered\",\"nip\":\"%s\",\"kind\":\"pns\","
                 "\"unit\":\"Biro %d\",\"issued_at_ms\":%llu}",
                 f->nips[i], i % 3, T2024);
        if (app(f, &f->hr, json) != JPL_OK)
            return false;
    }
    return true;
}

static void teardown(fixture *f)
{
    jpl_ledger_close(f->l);
    jpl_projections_free(f->p);
    pthread_mutex_destroy(&f->mu);
}

/* Appends batches of two enrollments of one employee, one in 2024 and one in 2025: every
 * committed state has the same enrolled JP in both years. */
static void *appender(void *arg)
{
    fixture *f = arg;
    for (unsigned i = 0; !atomic_load(&f->stop); i++) {
        uint8_t *env[2] = {NULL, NULL};
        size_t len[2] = {0, 0};
        jpl_bytes envs[2];
        jpl_append_result res[2];
        jpl_error e = {0};
        jpl_err rc = JPL_OK;
        for (int y = 0; rc == JPL_OK && y < 2; y++) {
            char json[512];
            snprintf(json, sizeof json,
                     "{\"type\":\"enrolled\",\"nip\":\"%s\",\"activity_id\":\"K1\","
                     "\"issued_at_ms\":%llu}",
                     f->nips[i % N_EMPLOYEES], y == 0 ? T2024 : T2025);
            rc = jpl_test_seal(&f->lms, json, &env[y], &len[y]);
            envs[y] = (jpl_bytes){env[y], len[y]};
        }
        if (rc == JPL_OK)
            rc = jpl_ledger_append(f->l, envs, 2, res, &e);
        if (rc != JPL_OK)
            record_error(f, "append", &e);
        else
            atomic_fetch_add(&f->batches, 1);
        free(env[0]);
        free(env[1]);
    }
    return NULL;
}

/* One balance query of every year: the two years must agree (one snapshot). */
static void query_balance(fixture *f, const char *nip)
{
    jpl_balance *b = NULL;
    size_t n = 0;
    jpl_error e = {0};
    if (jpl_balance_query(f->l, nip, 0, &b, &n, &e) != JPL_OK) {
        record_error(f, "balance", &e);
        return;
    }
    if (n == 2 && b[0].enrolled != b[1].enrolled)
        atomic_fetch_add(&f->torn, 1);
    free(b);
}

static void query_others(fixture *f, const char *nip)
{
    jpl_error e = {0};
    json_t *rows = NULL;
    if (jpl_trail_query(f->l, nip, &rows, &e) != JPL_OK)
        record_error(f, "trail", &e);
    json_decref(rows);
    jpl_unit_row *ur = NULL;
    size_t n = 0;
    if (jpl_unit_report(f->l, 2025, NULL, &ur, &n, &e) != JPL_OK)
        record_error(f, "report", &e);
    free(ur);
    uint64_t applied = 0;
    if (jpl_projection_applied(f->l, "trail", &applied, &e) != JPL_OK)
        record_error(f, "applied", &e);
}

/* Every trail row of nip in snapshot handle at is below its log size and proven in its tree. */
static bool trail_proven(fixture *f, jpl_ledger *at, const char *nip, uint64_t size,
                         const uint8_t root[32])
{
    json_t *rows = NULL;
    jpl_error e = {0};
    if (jpl_trail_query(at, nip, &rows, &e) != JPL_OK) {
        record_error(f, "trail in a snapshot", &e);
        return true;
    }
    bool ok = true;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        uint64_t seq = (uint64_t)json_integer_value(json_object_get(row, "seq"));
        const char *hex = json_string_value(json_object_get(row, "leaf_hash"));
        uint8_t leaf[32], path[JPL_MERKLE_MAX_PATH][32];
        size_t n = 0;
        ok = ok && seq < size && hex != NULL && jpl_hex_decode(leaf, 32, hex, strlen(hex)) &&
             jpl_ledger_prove_inclusion(at, seq, size, path, &n, NULL) == JPL_OK &&
             jpl_merkle_verify_inclusion(seq, size, leaf, (const uint8_t(*)[32])path, n, root,
                                         NULL) == JPL_OK;
    }
    json_decref(rows);
    return ok;
}

/* Through one snapshot handle: each projection has applied exactly the log size, the checkpoint
 * is the one of that size and root, and every trail row is proven in that tree. */
static void query_snapshot(fixture *f, const char *nip)
{
    jpl_ledger *at = NULL;
    jpl_error e = {0};
    if (jpl_ledger_snapshot(f->l, &at, &e) != JPL_OK) {
        record_error(f, "snapshot", &e);
        return;
    }
    uint64_t size = jpl_ledger_size(at);
    uint8_t root[32];
    char *note = NULL, text[512];
    size_t tlen = 0;
    bool ok = jpl_ledger_root(at, size, root, &e) == JPL_OK &&
              jpl_ledger_checkpoint(at, &note, &e) == JPL_OK &&
              jpl_checkpoint_format(jpl_ledger_origin(at), size, root, text, sizeof text, &tlen,
                                    &e) == JPL_OK;
    if (!ok)
        record_error(f, "root or checkpoint in a snapshot", &e);
    bool agree = !ok || strncmp(note, text, tlen) == 0;
    for (int i = 0; ok && i < JPL_PROJ_COUNT; i++) {
        uint64_t applied = 0;
        if (jpl_projection_applied(at, jpl_projection_names[i], &applied, &e) != JPL_OK)
            record_error(f, "applied in a snapshot", &e);
        agree = agree && applied == size;
    }
    if (ok && (!agree || !trail_proven(f, at, nip, size, root)))
        atomic_fetch_add(&f->torn, 1);
    free(note);
    jpl_ledger_close(at);
}

static void *querier(void *arg)
{
    fixture *f = arg;
    for (unsigned i = 0; !atomic_load(&f->stop); i++) {
        const char *nip = f->nips[i % N_EMPLOYEES];
        query_balance(f, nip);
        query_others(f, nip);
        query_snapshot(f, nip);
        atomic_fetch_add(&f->queries, 1);
    }
    return NULL;
}

static jpl_err online_replay(fixture *f, jpl_error *e)
{
    jpl_replay_result res[JPL_PROJ_COUNT];
    size_t n = 0;
    return jpl_projections_replay_attached(f->p, NULL, res, &n, e);
}

/* Stops the QUERIERS query threads q and the appender a, reports the counts and checks that no
 * query failed nor saw a torn state. */
static void stop_and_check(fixture *f, const char *what, const pthread_t *q, pthread_t a)
{
    atomic_store(&f->stop, true);
    pthread_join(a, NULL);
    for (int i = 0; i < QUERIERS; i++)
        pthread_join(q[i], NULL);
    fprintf(stderr, "%s: %ld queries, %ld batches, %d errors, %d torn\n", what,
            atomic_load(&f->queries), atomic_load(&f->batches), atomic_load(&f->errors),
            atomic_load(&f->torn));
    if (atomic_load(&f->errors) != 0)
        fprintf(stderr, "first error: %s\n", f->first_error);
    CHECK_EQ(atomic_load(&f->errors), 0);
    CHECK_EQ(atomic_load(&f->torn), 0);
}

#define REPLAYS 15

static void *replayer(void *arg)
{
    fixture *f = arg;
    for (int i = 0; i < REPLAYS; i++) {
        jpl_error e = {0};
        if (online_replay(f, &e) != JPL_OK)
            record_error(f, "replay", &e);
        usleep(2000); /* let the writer commit between replays */
    }
    return NULL;
}

/* Queries, an appender and two threads replaying at once: no query fails, the replays all
 * switch, and at the end the live state is what a replay builds from the log. */
static void test_replay_beside_queries(void)
{
    fixture f;
    REQUIRE(setup(&f, "concurrency_replay"));
    pthread_t q[QUERIERS], a, r[2];
    for (int i = 0; i < QUERIERS; i++)
        REQUIRE(pthread_create(&q[i], NULL, querier, &f) == 0);
    REQUIRE(pthread_create(&a, NULL, appender, &f) == 0);
    for (int i = 0; i < 2; i++)
        REQUIRE(pthread_create(&r[i], NULL, replayer, &f) == 0);
    for (int i = 0; i < 2; i++)
        pthread_join(r[i], NULL);
    stop_and_check(&f, "replay beside queries", q, a);
    CHECK(atomic_load(&f.batches) > 0);
    jpl_replay_opts o = {.check = true};
    jpl_replay_result res[JPL_PROJ_COUNT];
    size_t n = 0;
    jpl_error e = {0};
    REQUIRE(jpl_projections_replay(f.l, &o, res, &n, &e) == JPL_OK);
    for (size_t i = 0; i < n; i++) {
        CHECK(res[i].match);
        CHECK_EQ(res[i].live_applied, jpl_ledger_size(f.l));
    }
    teardown(&f);
}

/* Queries beside the appender: a balance never shows one year of a batch without the other. */
static void test_no_torn_reads(void)
{
    fixture f;
    REQUIRE(setup(&f, "concurrency_torn"));
    pthread_t q[QUERIERS], a;
    for (int i = 0; i < QUERIERS; i++)
        REQUIRE(pthread_create(&q[i], NULL, querier, &f) == 0);
    REQUIRE(pthread_create(&a, NULL, appender, &f) == 0);
    while (atomic_load(&f.batches) < 400 && atomic_load(&f.errors) == 0)
        usleep(10000);
    stop_and_check(&f, "torn reads", q, a);
    teardown(&f);
}

/* A snapshot handle taken before a replay reads the generation it started with (dropped by the
 * switch), before and after; a new handle reads the new one, with the same digest. Appending
 * through a snapshot handle fails. */
static void test_snapshot_across_switch(void)
{
    fixture f;
    REQUIRE(setup(&f, "concurrency_switch"));
    jpl_ledger *at = NULL;
    jpl_error e = {0};
    REQUIRE(jpl_ledger_snapshot(f.l, &at, &e) == JPL_OK);
    uint8_t before[32], after[32], fresh[32];
    uint64_t applied = 0, applied2 = 0;
    REQUIRE(jpl_projection_digest(at, "units", before, &applied, &e) == JPL_OK);
    CHECK_EQ(applied, jpl_ledger_size(at));
    uint64_t size0 = jpl_ledger_size(at);
    char enroll[256];
    snprintf(enroll, sizeof enroll,
             "{\"type\":\"enrolled\",\"nip\":\"%s\",\"activity_id\":\"K1\","
             "\"issued_at_ms\":%llu}",
             f.nips[0], T2025);
    /* a batch after the snapshot, then a replay that switches and drops the old generation */
    REQUIRE(app(&f, &f.lms, enroll) == JPL_OK);
    jpl_replay_result res[JPL_PROJ_COUNT];
    size_t n = 0;
    REQUIRE(jpl_projections_replay_attached(f.p, NULL, res, &n, &e) == JPL_OK);
    REQUIRE(n == JPL_PROJ_COUNT);
    CHECK_EQ(res[1].generation, 2);
    CHECK(res[1].match);
    REQUIRE(jpl_projection_digest(at, "units", after, &applied2, &e) == JPL_OK);
    CHECK_MEMEQ(after, before, 32);
    CHECK_EQ(applied2, size0);
    CHECK_EQ(jpl_ledger_size(at), size0);
    jpl_balance *b = NULL;
    size_t nb = 0;
    REQUIRE(jpl_balance_query(at, f.nips[0], 2025, &b, &nb, &e) == JPL_OK);
    CHECK_EQ(nb, 1);
    CHECK_EQ(b[0].enrolled, 0); /* the enrollment came after the snapshot */
    free(b);
    jpl_ledger *now = NULL;
    REQUIRE(jpl_ledger_snapshot(f.l, &now, &e) == JPL_OK);
    REQUIRE(jpl_projection_digest(now, "units", fresh, &applied2, &e) == JPL_OK);
    CHECK_MEMEQ(fresh, res[1].digest, 32);
    CHECK_EQ(applied2, size0 + 1);
    REQUIRE(jpl_balance_query(now, f.nips[0], 2025, &b, &nb, &e) == JPL_OK);
    CHECK_EQ(b[0].enrolled, 1200);
    free(b);
    /* the live writer goes on into the new generation */
    REQUIRE(app(&f, &f.lms, enroll) == JPL_OK);
    REQUIRE(jpl_balance_query(f.l, f.nips[0], 2025, &b, &nb, &e) == JPL_OK);
    CHECK_EQ(b[0].enrolled, 2400);
    free(b);
    /* a snapshot handle is read-only */
    jpl_append_result ar;
    CHECK_EQ(jpl_ledger_append(now, &(jpl_bytes){(const uint8_t *)"x", 1}, 1, &ar, &e),
             JPL_ERR_INTERNAL);
    jpl_ledger_close(now);
    jpl_ledger_close(at);
    teardown(&f);
}

int main(void)
{
    if (!jpl_crypto_init())
        return 1;
    static const jpl_test_case cases[] = {
        TEST_CASE(test_no_torn_reads),
        TEST_CASE(test_replay_beside_queries),
        TEST_CASE(test_snapshot_across_switch),
    };
    return jpl_test_run("projections_concurrency", cases, sizeof cases / sizeof cases[0]);
}
