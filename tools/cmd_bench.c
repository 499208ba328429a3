/*
 * `jpledger bench ledger`: measures the ledger's append and verify rates against references
 * measured in the same run on the same data (raw single-core Ed25519 verification, raw RocksDB
 * scan of the log), reporting medians over repeated runs. Figures go to docs/BENCHMARKS.md.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "cli.h"
#include "jpl/codec.h"
#include "jpl/event_json.h"
#include "jpl/keyfile.h"
#include "jpl/ledger.h"
#include "jpl/verify.h"

#define BENCH_BATCH 1000

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double median3(double v[REPEATS])
{
    qsort(v, REPEATS, sizeof v[0], cmp_double);
    return v[REPEATS / 2];
}

/* Signed envelopes of n activity_defined events by signer. */
jpl_bytes *make_events(const jpl_note_signer *s, size_t n, size_t offset)
{
    jpl_bytes *envs = calloc(n, sizeof *envs);
    if (envs == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char act[64];
        snprintf(act, sizeof act, "BENCH-%zu", offset + i);
        uint8_t id[16];
        jpl_uuid_v4(id);
        Jpl__ActivityDefined a = JPL__ACTIVITY_DEFINED__INIT;
        a.activity_id = act;
        a.title = "benchmark course";
        a.mode = JPL__ACTIVITY_MODE__MODE_CLASSICAL;
        a.has_jp_centi = 1;
        a.jp_centi = 2000;
        Jpl__Event ev = JPL__EVENT__INIT;
        ev.event_id = (ProtobufCBinaryData){16, id};
        ev.issued_at_ms = jpl_now_ms();
        ev.body_case = JPL__EVENT__BODY_ACTIVITY_DEFINED;
        ev.activity_defined = &a;
        uint8_t *envb = NULL;
        size_t envlen = 0;
        if (jpl_event_seal(&ev, s->pk, s->sk, &envb, &envlen, NULL) != JPL_OK)
            return NULL;
        envs[i] = (jpl_bytes){envb, envlen};
    }
    return envs;
}

typedef struct {
    jpl_ledger *l;
    jpl_bytes *envs;
    size_t from, to;
    jpl_err rc;
} appender;

static void *append_range(void *p)
{
    appender *a = p;
    jpl_append_result *res = calloc(BENCH_BATCH, sizeof *res);
    for (size_t i = a->from; res && i < a->to && a->rc == JPL_OK; i += BENCH_BATCH) {
        size_t n = a->to - i < BENCH_BATCH ? a->to - i : BENCH_BATCH;
        jpl_error e = {0};
        a->rc = jpl_ledger_append(a->l, a->envs + i, n, res, &e);
        if (a->rc != JPL_OK)
            fprintf(stderr, "bench append: %s\n", e.msg);
    }
    free(res);
    return NULL;
}

/* Appends all envelopes from two client threads; returns events/s or 0 on failure. */
static double bench_append(jpl_ledger *l, jpl_bytes *envs, size_t n)
{
    appender a[2] = {{l, envs, 0, n / 2, JPL_OK}, {l, envs, n / 2, n, JPL_OK}};
    pthread_t t;
    double t0 = now_s();
    if (pthread_create(&t, NULL, append_range, &a[0]) != 0)
        return 0;
    append_range(&a[1]);
    pthread_join(t, NULL);
    double dt = now_s() - t0;
    return (a[0].rc == JPL_OK && a[1].rc == JPL_OK) ? (double)n / dt : 0;
}

/* Raw single-core Ed25519 verification of the same envelopes (the reference for verify). */
double bench_raw_verify(jpl_bytes *envs, size_t n)
{
    double t0 = now_s();
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        Jpl__SignedEnvelope *env = NULL;
        if (jpl_codec_envelope_decode(envs[i].data, envs[i].len, &env, NULL) != JPL_OK)
            continue;
        ok +=
            jpl_ed25519_verify2(env->signature.data, JPL_EVENT_SIG_PREFIX, JPL_EVENT_SIG_PREFIX_LEN,
                                env->event.data, env->event.len, env->public_key.data);
        jpl_codec_envelope_free(env);
    }
    double dt = now_s() - t0;
    return ok == n ? (double)n / dt : 0;
}

double bench_ed25519_rate(double seconds)
{
    uint8_t pk[JPL_ED25519_PK_LEN], sk[JPL_ED25519_SK_LEN], sig[JPL_ED25519_SIG_LEN];
    uint8_t msg[300];
    jpl_random_bytes(msg, sizeof msg);
    if (!jpl_ed25519_keypair(pk, sk))
        return 0;
    jpl_ed25519_sign(sig, msg, sizeof msg, sk);
    jpl_memzero(sk, sizeof sk);
    size_t n = 0, ok = 0;
    double t0 = now_s(), dt;
    do {
        for (int i = 0; i < 100; i++, n++)
            ok += jpl_ed25519_verify(sig, msg, sizeof msg, pk);
        dt = now_s() - t0;
    } while (dt < seconds);
    return ok == n ? (double)n / dt : 0;
}

/* Raw RocksDB scan of the log family (the reference for anything that reads the whole log). */
static double bench_raw_scan(jpl_ledger *l, uint64_t *count_out)
{
    double t0 = now_s();
    uint64_t n = 0, bytes = 0;
    jpl_iter *it = jpl_store_iter(jpl_ledger_store(l), JPL_CF_LOG, NULL, 0);
    for (; jpl_iter_valid(it); jpl_iter_next(it)) {
        size_t len = 0;
        jpl_iter_value(it, &len);
        bytes += len;
        n++;
    }
    jpl_iter_free(it);
    *count_out = n;
    return (double)n / (now_s() - t0);
}

static int bench_ledger(const char *dir, uint64_t events)
{
    jpl_error e = {0};
    jpl_init_result ir;
    jpl_err rc = jpl_ledger_init(dir, NULL, &ir, &e);
    if (rc != JPL_OK)
        return cli_fail("bench", rc, "%s", e.msg);
    jpl_note_signer admin, lms;
    jpl_ledger *l = NULL;
    rc = jpl_keyfile_read_signer(ir.admin_key_path, &admin, &e);
    if (rc == JPL_OK)
        rc = jpl_note_keygen("bench.lms", &lms, &e);
    if (rc == JPL_OK)
        rc = jpl_ledger_open(dir, true, &l, &e);
    if (rc != JPL_OK)
        return cli_fail("bench", rc, "%s", e.msg);
    /* register the LMS key through the normal path */
    Jpl__KeyRegistered kr = JPL__KEY_REGISTERED__INIT;
    kr.public_key = (ProtobufCBinaryData){32, lms.pk};
    kr.name = lms.name;
    kr.role = JPL__ROLE__ROLE_LMS;
    uint8_t id[16];
    jpl_uuid_v4(id);
    Jpl__Event ev = JPL__EVENT__INIT;
    ev.event_id = (ProtobufCBinaryData){16, id};
    ev.issued_at_ms = jpl_now_ms();
    ev.body_case = JPL__EVENT__BODY_KEY_REGISTERED;
    ev.key_registered = &kr;
    uint8_t *envb = NULL;
    size_t envlen = 0;
    jpl_append_result res;
    rc = jpl_event_seal(&ev, admin.pk, admin.sk, &envb, &envlen, &e);
    if (rc == JPL_OK)
        rc = jpl_ledger_append(l, &(jpl_bytes){envb, envlen}, 1, &res, &e);
    free(envb);
    if (rc != JPL_OK)
        return cli_fail("bench", rc, "%s", e.msg);

    fprintf(stderr, "bench: signing %llu events...\n", (unsigned long long)events);
    jpl_bytes *envs = make_events(&lms, (size_t)events, 0);
    if (envs == NULL)
        return cli_fail("bench", JPL_ERR_INTERNAL, "could not build events");
    double raw_verify[REPEATS], append_rate, verify_rate[REPEATS], scan_rate[REPEATS];
    for (int r = 0; r < REPEATS; r++)
        raw_verify[r] = bench_raw_verify(envs, (size_t)events);
    fprintf(stderr, "bench: appending...\n");
    append_rate = bench_append(l, envs, (size_t)events);
    for (size_t i = 0; i < events; i++)
        free((void *)envs[i].data);
    free(envs);
    jpl_ledger_close(l);

    char vpath[4300];
    snprintf(vpath, sizeof vpath, "%.4200s/log.vkey", dir);
    jpl_note_verifier vk;
    rc = jpl_keyfile_read_verifier(vpath, &vk, &e);
    if (rc == JPL_OK)
        rc = jpl_ledger_open(dir, false, &l, &e);
    if (rc != JPL_OK || append_rate == 0)
        return cli_fail("bench", rc ? rc : JPL_ERR_INTERNAL, "%s", e.msg);
    jpl_verify_report rep;
    uint64_t scanned = 0;
    for (int r = 0; r < REPEATS && rc == JPL_OK; r++) {
        scan_rate[r] = bench_raw_scan(l, &scanned);
        rc = jpl_ledger_verify(l, &vk, 0, NULL, NULL, &rep, &e);
        verify_rate[r] = (double)rep.entries / rep.seconds;
    }
    jpl_ledger_close(l);
    jpl_note_signer_wipe(&admin);
    jpl_note_signer_wipe(&lms);
    if (rc != JPL_OK)
        return cli_fail("bench", rc, "verify: %s", e.msg);
    double rv = median3(raw_verify), vr = median3(verify_rate), sr = median3(scan_rate);
    json_t *o = json_object();
    json_object_set_new(o, "bench", json_string("ledger"));
    json_object_set_new(o, "events", json_integer((json_int_t)events));
    json_object_set_new(o, "log_entries", json_integer((json_int_t)scanned));
    json_object_set_new(o, "append_events_per_s", json_real(append_rate));
    json_object_set_new(o, "raw_ed25519_verify_per_s_1core", json_real(rv));
    json_object_set_new(o, "append_vs_raw_verify_1core", json_real(append_rate / rv));
    json_object_set_new(o, "verify_entries_per_s", json_real(vr));
    json_object_set_new(o, "verify_threads", json_integer(rep.threads));
    json_object_set_new(o, "verify_vs_raw_verify_1core", json_real(vr / rv));
    json_object_set_new(o, "raw_rocksdb_scan_per_s", json_real(sr));
    json_object_set_new(o, "verify_vs_raw_scan", json_real(vr / sr));
    cli_print_json(o);
    return JPL_OK;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int bench_replay(const char *dir, uint64_t events); /* cmd_query.c */

int cmd_bench(int argc, char **argv);
int cmd_bench(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "ledger") != 0 && strcmp(argv[1], "ingest") != 0 &&
                     strcmp(argv[1], "query") != 0 && strcmp(argv[1], "replay") != 0))
        return cli_usage_error("bench", "say 'bench ledger', 'bench replay', 'bench ingest' or "
                                        "'bench query'");
    static const struct option opts[] = {
        {"events", required_argument, 0, 'n'}, {"dir", required_argument, 0, 'd'}, {0, 0, 0, 0}};
    uint64_t events = 0; /* 0: the default of the benchmark */
    const char *dir = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "+", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (!cli_parse_u64(optarg, &events) || events < 100 || events > 10000000)
                return cli_usage_error("bench", "--events takes 100..10000000");
            break;
        case 'd':
            dir = optarg;
            break;
        default:
            return cli_bad_option("bench", argv + 1);
        }
    }
    if (optind < argc - 1)
        return cli_usage_error("bench", "unexpected argument");
    bool replay = strcmp(argv[1], "replay") == 0;
    if (replay && events > 2000000)
        return cli_usage_error("bench", "bench replay takes --events 100..2000000");
    /* replay's fixed costs (families, syncs) would dominate a small log */
    if (events == 0)
        events = replay ? 200000 : 50000;
    char tmpl[] = "/tmp/jpledger-bench-XXXXXX";
    char path[64];
    if (dir == NULL) {
        if (mkdtemp(tmpl) == NULL)
            return cli_fail("bench", JPL_ERR_IO, "cannot create a temporary directory");
        snprintf(path, sizeof path, "%s/ledger", tmpl);
        dir = path;
    }
    fprintf(stderr, "bench: ledger in %s\n", dir);
    int rc = strcmp(argv[1], "ledger") == 0   ? bench_ledger(dir, events)
             : strcmp(argv[1], "replay") == 0 ? bench_replay(dir, events)
                                              : bench_api(argv[1], dir, events);
    if (dir == path)
        nftw(tmpl, remove_entry, 16, FTW_DEPTH | FTW_PHYS); /* our own temporary directory */
    return rc;
}
