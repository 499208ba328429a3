/*
 * `jpledger demo`: the main job, end to end, on built-in defaults. Creates a ledger, registers
 * the keys of an HR system, an LMS, a verifier, a supervisor and an auditor, starts the server,
 * starts a subscriber (the real `jpledger subscribe` process) that follows live, appends a
 * generated ministry year (tools/gen.c) phase by phase through the API from concurrent clients,
 * asks the server for the compliance picture, stops everything, verifies the whole log against
 * the signed checkpoint with the log's verifier key, and prints throughput and timings.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "gen.h"
#include "jpl/thread.h"
#include "jpl/client.h"
#include "jpl/cosign.h"
#include "jpl/event_json.h"
#include "jpl/keyfile.h"
#include "jpl/projections.h"
#include "jpl/server.h"
#include "jpl/verify.h"
#include "serve_ext.h"

#define DEMO_CLIENTS 8 /* default: enough requests in flight to keep 2 cores busy */
#define DEMO_MAX_CLIENTS 16
#define DEMO_BATCH 500
#define N_ROLES 5

static const char *const ROLE_NAMES[N_ROLES] = {"hr", "lms", "verifier", "supervisor", "auditor"};
static const int ROLE_IDS[N_ROLES] = {JPL__ROLE__ROLE_HR, JPL__ROLE__ROLE_LMS,
                                      JPL__ROLE__ROLE_VERIFIER, JPL__ROLE__ROLE_SUPERVISOR,
                                      JPL__ROLE__ROLE_AUDITOR};

typedef struct {
    char dir[4096];
    char ledger[4200];
    char rep[4300], pub[4300];
    jpl_note_signer keys[N_ROLES];
    jpl_gen_opts gen;
    int clients;
    bool verify_after; /* --verify-after: no auditor during the append */
    /* server */
    jpl_server_opts so;
    volatile sig_atomic_t stop;
    pthread_t server_tid;
    jpl_attach_fn inner_attach;   /* the projections' attach hook, which demo_attach wraps */
    _Atomic(jpl_ledger *) served; /* the server's ledger, for the auditor */
    /* the auditor: verifies the log at low priority while it grows */
    pthread_t auditor_tid;
    bool auditor_started;
    atomic_bool auditor_stop;
    jpl_note_verifier log_vkey;
    jpl_verifier *vf;
    jpl_verify_report vrep;
    jpl_err auditor_rc;
    jpl_error auditor_err;
    uint64_t checked_live; /* entries the auditor checked while the year was appended */
    /* progress */
    atomic_ullong done;
    unsigned long long total;
    double phase_t0;
    const char *phase_name;
    bool tty;
} demo;

/* ---- progress ---- */

static void progress_line(demo *d, bool final)
{
    unsigned long long done = atomic_load(&d->done);
    double dt = now_s() - d->phase_t0;
    double rate = dt > 0 ? (double)done / dt : 0;
    double pct = d->total ? 100.0 * (double)done / (double)d->total : 100.0;
    double eta = rate > 0 ? (double)(d->total - done) / rate : 0;
    if (d->tty) {
        char bar[31];
        int fill = (int)(pct * 30 / 100);
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r  %-13s [%s] %5.1f%% %llu/%llu  %.0f ev/s  ETA %.0f s   ", d->phase_name,
                bar, pct, done, d->total, rate, eta);
        if (final)
            fputc('\n', stderr);
    } else if (final) {
        fprintf(stderr, "  %-13s %llu events in %.1f s (%.0f events/s)\n", d->phase_name, done, dt,
                rate);
    }
}

static void *progress_main(void *arg)
{
    demo *d = arg;
    while (atomic_load(&d->done) < d->total && !d->stop) {
        progress_line(d, false);
        struct timespec ts = {0, 250 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* ---- setup ---- */

static int setup(demo *d)
{
    jpl_error e = {0};
    jpl_init_opts io = {.origin = "jpledger.demo/log"};
    jpl_init_result ir;
    jpl_err rc = jpl_ledger_init(d->ledger, &io, &ir, &e);
    if (rc != JPL_OK)
        return cli_fail("demo", rc, "%s", e.msg);
    jpl_note_signer admin;
    if ((rc = jpl_keyfile_read_signer(ir.admin_key_path, &admin, &e)) != JPL_OK)
        return cli_fail("demo", rc, "%s", e.msg);
    jpl_ledger *l = NULL;
    jpl_projections *p = NULL;
    if ((rc = cli_open_writable(d->ledger, &l, &p, &e)) != JPL_OK)
        return cli_fail("demo", rc, "%s", e.msg);
    int ret = JPL_OK;
    printf("the admin registers the keys of hr, lms, verifier, supervisor and auditor (written to "
           "%s/keys); their entries:\n",
           d->ledger);
    for (int i = 0; i < N_ROLES && ret == JPL_OK; i++) {
        char name[64], path[4400], skey[JPL_NOTE_SKEY_SIZE];
        snprintf(name, sizeof name, "%s.demo", ROLE_NAMES[i]);
        snprintf(path, sizeof path, "%s/keys/%s.key", d->ledger, ROLE_NAMES[i]);
        rc = jpl_note_keygen(name, &d->keys[i], &e);
        if (rc == JPL_OK)
            rc = jpl_note_signer_format(&d->keys[i], skey, sizeof skey, &e);
        if (rc == JPL_OK)
            rc = jpl_keyfile_write(path, skey, true, &e);
        jpl_memzero(skey, sizeof skey);
        Jpl__KeyRegistered kr = JPL__KEY_REGISTERED__INIT;
        kr.public_key = (ProtobufCBinaryData){32, d->keys[i].pk};
        kr.name = d->keys[i].name;
        kr.role = (Jpl__Role)ROLE_IDS[i];
        Jpl__Event ev = JPL__EVENT__INIT;
        ev.body_case = JPL__EVENT__BODY_KEY_REGISTERED;
        ev.key_registered = &kr;
        if (rc != JPL_OK)
            ret = cli_fail("demo", rc, "%s", e.msg);
        else
            ret = cli_append_event("demo", l, NULL, &admin, &ev, false);
    }
    jpl_ledger_close(l);
    jpl_projections_free(p);
    jpl_note_signer_wipe(&admin);
    return ret;
}

static void *server_main(void *arg)
{
    demo *d = arg;
    jpl_error e = {0};
    if (jpl_server_run(&d->so, &e) != JPL_OK)
        fprintf(stderr, "demo: server: %s\n", e.msg);
    return NULL;
}

/* Attaches the projections, then hands the served ledger to the auditor. */
static jpl_err demo_attach(void *ctx, jpl_ledger *l, jpl_error *e)
{
    demo *d = ctx;
    jpl_err rc = d->inner_attach(NULL, l, e);
    if (rc == JPL_OK)
        atomic_store(&d->served, l);
    return rc;
}

static int start_server(demo *d)
{
    snprintf(d->rep, sizeof d->rep, "ipc://%s/rep.ipc", d->dir);
    snprintf(d->pub, sizeof d->pub, "ipc://%s/pub.ipc", d->dir);
    d->so.data_dir = d->ledger;
    d->so.rep_url = d->rep;
    d->so.pub_url = d->pub;
    d->so.stop = &d->stop;
    d->so.workers = d->clients; /* one worker per client: every request is served at once */
    serve_ext_install(&d->so);
    d->inner_attach = d->so.attach;
    d->so.attach = demo_attach;
    d->so.ext_ctx = d;
    if (pthread_create(&d->server_tid, NULL, server_main, d) != 0)
        return cli_fail("demo", JPL_ERR_INTERNAL, "cannot start the server");
    for (int i = 0; i < 200; i++) {
        jpl_client *c = NULL;
        if (jpl_client_open(d->rep, NULL, 2000, &c, NULL) == JPL_OK) {
            jpl_client_close(c);
            return JPL_OK;
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return cli_fail("demo", JPL_ERR_IO, "the server did not come up");
}

/* The subscriber is the real CLI in its own process, writing DIR/feed.ndjson. */
static pid_t start_subscriber(demo *d)
{
    char self[4096], out[4400], key[4400];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    snprintf(out, sizeof out, "%s/feed.ndjson", d->dir);
    snprintf(key, sizeof key, "%s/keys/auditor.key", d->ledger);
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        execl(self, self, "subscribe", "--url", d->rep, "--pub", d->pub, "--from", "0",
              "--auth-key", key, "--out", out, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* ---- appending a phase from concurrent clients ---- */

typedef struct {
    demo *d;
    int shard;
    const jpl_note_signer *key;
    jpl_gen_phase phase;
    jpl_client *client;
    jpl_bytes envs[DEMO_BATCH];
    size_t n;
    jpl_err rc;
    char msg[JPL_ERRMSG_MAX];
} client_job;

static jpl_err flush(client_job *j, jpl_error *e)
{
    if (j->n == 0)
        return JPL_OK;
    jpl_append_result res[DEMO_BATCH];
    jpl_err rc = cli_remote_append(j->client, j->envs, j->n, res, e);
    for (size_t i = 0; i < j->n; i++)
        free((void *)j->envs[i].data);
    if (rc == JPL_OK)
        atomic_fetch_add(&j->d->done, j->n);
    j->n = 0;
    return rc;
}

static jpl_err sink(void *ctx, jpl_gen_phase phase, const char *line, size_t len, jpl_error *e)
{
    client_job *j = ctx;
    (void)phase;
    Jpl__Event *ev = NULL;
    uint8_t *env = NULL;
    size_t envlen = 0;
    jpl_err rc = jpl_event_from_json_text(line, len, jpl_now_ms(), &ev, e);
    if (rc == JPL_OK)
        rc = jpl_event_seal(ev, j->key->pk, j->key->sk, &env, &envlen, e);
    jpl_event_free(ev);
    if (rc != JPL_OK)
        return rc;
    j->envs[j->n++] = (jpl_bytes){env, envlen};
    return j->n == DEMO_BATCH ? flush(j, e) : JPL_OK;
}

static void *client_main(void *arg)
{
    jpl_thread_name("jpl-client");
    client_job *j = arg;
    jpl_error e = {0};
    j->rc = jpl_client_open(j->d->rep, NULL, 0, &j->client, &e);
    jpl_gen_opts o = j->d->gen;
    o.shard = (uint32_t)j->shard;
    o.shards = (uint32_t)j->d->clients;
    if (j->rc == JPL_OK)
        j->rc = jpl_gen_run(&o, 1u << j->phase, sink, j, NULL, &e);
    if (j->rc == JPL_OK)
        j->rc = flush(j, &e);
    for (size_t i = 0; i < j->n; i++)
        free((void *)j->envs[i].data);
    if (j->rc != JPL_OK)
        snprintf(j->msg, sizeof j->msg, "%s", e.msg);
    jpl_client_close(j->client);
    return NULL;
}

static const jpl_note_signer *role_key(demo *d, const char *role)
{
    for (int i = 0; i < N_ROLES; i++)
        if (strcmp(ROLE_NAMES[i], role) == 0)
            return &d->keys[i];
    return NULL;
}

static int append_phase(demo *d, jpl_gen_phase p, unsigned long long expected)
{
    client_job jobs[DEMO_MAX_CLIENTS];
    pthread_t tids[DEMO_MAX_CLIENTS], prog;
    const jpl_note_signer *key = role_key(d, jpl_gen_phase_role(p));
    atomic_store(&d->done, 0);
    d->total = expected;
    d->phase_t0 = now_s();
    d->phase_name = jpl_gen_phase_name(p);
    pthread_create(&prog, NULL, progress_main, d);
    for (int i = 0; i < d->clients; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i] = (client_job){.d = d, .shard = i, .key = key, .phase = p};
        pthread_create(&tids[i], NULL, client_main, &jobs[i]);
    }
    int ret = JPL_OK;
    for (int i = 0; i < d->clients; i++) {
        pthread_join(tids[i], NULL);
        if (jobs[i].rc != JPL_OK && ret == JPL_OK)
            ret = cli_fail("demo", jobs[i].rc, "%s phase: %s", d->phase_name, jobs[i].msg);
    }
    d->total = atomic_load(&d->done); /* ends the progress thread */
    pthread_join(prog, NULL);
    progress_line(d, true);
    return ret;
}

/* ---- the compliance picture ---- */

typedef struct {
    json_t *row;
    long long short_pns;
} unit_short;

static int by_short(const void *a, const void *b)
{
    const unit_short *x = a, *y = b;
    return (y->short_pns > x->short_pns) - (y->short_pns < x->short_pns);
}

static int picture(demo *d)
{
    jpl_client *c = NULL;
    jpl_error e = {0};
    jpl_err rc = jpl_client_open(d->rep, NULL, 0, &c, &e);
    Jpl__QueryRequest qr = JPL__QUERY_REQUEST__INIT;
    qr.kind = "report";
    qr.has_year = 1;
    qr.year = d->gen.year;
    Jpl__Request req = JPL__REQUEST__INIT;
    req.op_case = JPL__REQUEST__OP_QUERY;
    req.query = &qr;
    Jpl__Response *resp = NULL;
    if (rc == JPL_OK)
        rc = jpl_client_call(c, &req, &resp, &e);
    jpl_client_close(c);
    if (rc != JPL_OK) {
        jpl_codec_response_free(resp);
        return cli_fail("demo", rc, "report: %s", e.msg);
    }
    size_t n = resp->query->n_json;
    unit_short *u = calloc(n ? n : 1, sizeof *u);
    unsigned long long pns = 0, pppk = 0, met = 0, at_cap = 0, rec = 0, movers = 0;
    for (size_t i = 0; u && i < n; i++) {
        u[i].row = json_loads(resp->query->json[i], 0, NULL);
        json_t *r = u[i].row;
        long long hp = json_integer_value(json_object_get(r, "headcount_pns"));
        long long m = json_integer_value(json_object_get(r, "pns_met"));
        u[i].short_pns = hp - m;
        pns += (unsigned long long)hp;
        met += (unsigned long long)m;
        pppk += (unsigned long long)json_integer_value(json_object_get(r, "headcount_pppk"));
        at_cap += (unsigned long long)json_integer_value(json_object_get(r, "pppk_at_cap"));
        rec += (unsigned long long)json_integer_value(json_object_get(r, "recognized_jp_centi"));
        movers += (unsigned long long)json_integer_value(json_object_get(r, "movers"));
    }
    if (u)
        qsort(u, n, sizeof *u, by_short);
    printf(
        "\nCompliance %u (from the server's unit report; units count who belonged in the year)\n",
        d->gen.year);
    printf(
        "  units %zu, PNS %llu, PPPK %llu: headcounts summed over units, %llu employees in all;\n"
        "  who moved units in the year counts in each unit (%llu such unit memberships)\n",
        n, pns, pppk, (unsigned long long)d->gen.employees, movers);
    printf("  PNS meeting the floor: %llu (%.1f%%), short: %llu\n", met,
           pns ? 100.0 * (double)met / (double)pns : 0.0, pns - met);
    printf("  PPPK at or over the cap: %llu\n", at_cap);
    printf("  recognized JP in total: %llu.%02llu\n", rec / 100, rec % 100);
    printf("  units with the most PNS short of the floor:\n");
    for (size_t i = 0; u && i < n && i < 10; i++) {
        json_t *r = u[i].row;
        long long hp = json_integer_value(json_object_get(r, "headcount_pns"));
        printf("    %-48.48s %5lld of %5lld PNS short (%4.1f%%), %lld PPPK at cap\n",
               json_string_value(json_object_get(r, "unit")), u[i].short_pns, hp,
               hp ? 100.0 * (double)u[i].short_pns / (double)hp : 0.0,
               json_integer_value(json_object_get(r, "pppk_at_cap")));
    }
    for (size_t i = 0; u && i < n; i++)
        json_decref(u[i].row);
    free(u);
    jpl_codec_response_free(resp);
    return JPL_OK;
}

/* ---- verification ---- */

#define AUDITOR_STEP 4096      /* entries the auditor waits for before checking more */
#define AUDITOR_MAX_STEP 32768 /* and checks at most at once, so that stopping it is quick */

/* The auditor thread: an auditor following the log while the year is appended. It runs at the
 * lowest priority (its signature threads inherit it), so it only takes CPU time the appends
 * leave idle; every entry it checks is not checked again after the stop. */
static void *auditor_main(void *arg)
{
    demo *d = arg;
    jpl_thread_name("jpl-auditor");
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
    while (!atomic_load(&d->auditor_stop)) {
        jpl_ledger *l = atomic_load(&d->served);
        uint64_t to = l != NULL ? jpl_ledger_size(l) : 0;
        uint64_t checked = jpl_verifier_checked(d->vf);
        if (to > checked + AUDITOR_MAX_STEP)
            to = checked + AUDITOR_MAX_STEP;
        if (l != NULL && to >= checked + AUDITOR_STEP) {
            d->auditor_rc = jpl_verifier_advance(d->vf, l, to, NULL, NULL, &d->auditor_err);
            if (d->auditor_rc != JPL_OK)
                break;
            continue;
        }
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static int start_auditor(demo *d)
{
    char vpath[4400];
    snprintf(vpath, sizeof vpath, "%s/log.vkey", d->ledger);
    jpl_error e = {0};
    jpl_err rc = jpl_keyfile_read_verifier(vpath, &d->log_vkey, &e);
    if (rc == JPL_OK)
        rc = jpl_verifier_new(&d->log_vkey, 0, &d->vrep, &d->vf, &e);
    if (rc != JPL_OK)
        return cli_fail("demo", rc, "auditor: %s", e.msg);
    if (!d->verify_after)
        d->auditor_started = pthread_create(&d->auditor_tid, NULL, auditor_main, d) == 0;
    return JPL_OK;
}

/* Stops the auditor (before the server closes the ledger it reads). */
static void stop_auditor(demo *d)
{
    if (!d->auditor_started)
        return;
    atomic_store(&d->auditor_stop, true);
    pthread_join(d->auditor_tid, NULL);
    d->auditor_started = false;
    d->checked_live = jpl_verifier_checked(d->vf);
}

static void verify_progress(void *ctx, uint64_t done, uint64_t total)
{
    demo *d = ctx;
    atomic_store(&d->done, done);
    d->total = total;
    progress_line(d, false);
}

static int verify_all(demo *d, double *secs_out, uint64_t *size_out)
{
    char vpath[4400];
    jpl_note_verifier *vk = &d->log_vkey;
    jpl_error e = {0};
    jpl_ledger *l = NULL;
    jpl_err rc = d->auditor_rc;
    if (rc != JPL_OK)
        e = d->auditor_err;
    if (rc == JPL_OK)
        rc = jpl_ledger_open(d->ledger, false, &l, &e);
    jpl_verify_report *rep = &d->vrep;
    d->phase_name = "verify";
    d->phase_t0 = now_s();
    atomic_store(&d->done, 0);
    double t0 = now_s();
    if (rc == JPL_OK)
        rc = jpl_verifier_finish(d->vf, l, d->tty ? verify_progress : NULL, d, &e);
    double secs = now_s() - t0;
    if (d->tty)
        fputc('\n', stderr);
    char *note = NULL;
    if (rc == JPL_OK)
        rc = jpl_ledger_checkpoint(l, &note, &e);
    jpl_ledger_close(l);
    if (rc != JPL_OK) {
        free(note);
        return cli_fail("demo", rc, "verify: %s", e.msg);
    }
    char root[65];
    jpl_hex_encode(root, rep->root, 32);
    printf("\nVerified with the log key %s:\n  %llu entries, %llu checkpoints, every signature, "
           "key, Merkle node and checkpoint, each once, in order (%d threads): %llu while the "
           "year was appended (an auditor thread at the lowest priority), the other %llu after "
           "the server stopped, in %.1f s\n  root %s\n  latest checkpoint:\n",
           jpl_note_verifier_format(vk, vpath, sizeof vpath, NULL) == JPL_OK ? vpath : "",
           (unsigned long long)rep->entries, (unsigned long long)rep->checkpoints, rep->threads,
           (unsigned long long)d->checked_live,
           (unsigned long long)(rep->entries - d->checked_live), secs, root);
    for (char *p = note; p && *p;) {
        char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        printf("    %.*s\n", (int)len, p);
        p = nl ? nl + 1 : p + len;
    }
    free(note);
    *secs_out = secs;
    *size_out = rep->entries;
    return JPL_OK;
}

/* The auditor, having checked every entry, cosigns the latest checkpoint (jpl/cosign.h) on the
 * stopped ledger, so `jpledger checkpoint --data DIR` shows both signatures. */
static int auditor_cosign(demo *d)
{
    const jpl_note_signer *auditor = role_key(d, "auditor");
    jpl_ledger *l = NULL;
    char *note = NULL, cosigned[JPL_NOTE_MAX_SIZE + 1];
    size_t len = 0;
    jpl_cosign_result res;
    jpl_error e = {0};
    jpl_err rc = jpl_ledger_open(d->ledger, true, &l, &e);
    if (rc == JPL_OK)
        rc = jpl_ledger_checkpoint(l, &note, &e);
    if (rc == JPL_OK)
        rc = jpl_note_cosign(note, strlen(note), auditor, cosigned, sizeof cosigned, &len, &e);
    if (rc == JPL_OK)
        rc = jpl_ledger_cosign(l, cosigned, len, auditor->pk, &res, &e);
    free(note);
    jpl_ledger_close(l);
    if (rc != JPL_OK)
        return cli_fail("demo", rc, "auditor cosignature: %s", e.msg);
    const char *line = strrchr(cosigned, '\n');
    while (line > cosigned && line[-1] != '\n')
        line--;
    printf("  cosigned by the auditor key %s after checking it: checkpoint %llu now also carries\n"
           "    %s",
           res.key_name, (unsigned long long)res.size, line);
    return JPL_OK;
}

/* ---- the command ---- */

/* Counts the lines of the subscriber's feed as it grows, reading each byte once. */
typedef struct {
    const char *path;
    long offset;
    uint64_t lines;
} feed_counter;

static uint64_t count_feed_lines(feed_counter *fc)
{
    FILE *f = fopen(fc->path, "r");
    if (f == NULL || fseek(f, fc->offset, SEEK_SET) != 0) {
        if (f != NULL)
            fclose(f);
        return fc->lines;
    }
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + n - p))) != NULL; p++)
            fc->lines++;
        fc->offset += (long)n;
    }
    fclose(f);
    return fc->lines;
}

/* The first pass only counts the events of each phase, for the progress bars. */
static jpl_err count_only(void *ctx, jpl_gen_phase phase, const char *line, size_t len,
                          jpl_error *e)
{
    (void)ctx, (void)phase, (void)line, (void)len, (void)e;
    return JPL_OK;
}

/* DIR must be a directory without a ledger in it, or a new directory made here. */
static int prepare_dir(const char *dir)
{
    struct stat st;
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/ledger", dir);
    if (stat(dir, &st) != 0) {
        if (mkdir(dir, 0700) == 0)
            return JPL_OK;
        return cli_fail("demo", JPL_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return cli_fail("demo", JPL_ERR_IO, "%s is not a directory; give another --dir", dir);
    if (stat(probe, &st) == 0)
        return cli_fail("demo", JPL_ERR_EXISTS,
                        "%s already holds a demo ledger; give another --dir or remove it", dir);
    return JPL_OK;
}

/* The machine's own speed next to the total, so runs on other machines compare: a median of
 * three short single-core Ed25519 verification rates, measured after the timed work. */
static void print_reference(double total, uint64_t entries)
{
    double rate[REPEATS];
    for (int i = 0; i < REPEATS; i++)
        rate[i] = bench_ed25519_rate(0.2);
    double r = median3(rate);
    if (r <= 0)
        return;
    double once = (double)entries / r;
    printf("  machine reference: one core checks %.0f Ed25519 signatures/s (median of 3, "
           "measured now);\n  the total is %.2f x the %.1f s one core needs to check each "
           "entry's signature once\n",
           r, total / once, once);
}

static int run(demo *d)
{
    double t0 = now_s(), t_setup, t_append, t_between = 0, t_verify = 0;
    printf("jpledger demo: a ministry year of %llu employees (seed %llu, year %u) in %s\n",
           (unsigned long long)d->gen.employees, (unsigned long long)d->gen.seed, d->gen.year,
           d->dir);
    int ret = setup(d);
    jpl_gen_stats st;
    jpl_error e = {0};
    if (ret == JPL_OK) {
        fprintf(stderr, "  counting the generated year...\n");
        jpl_err rc = jpl_gen_run(&d->gen, (1u << JPL_GEN_PHASES) - 1, count_only, NULL, &st, &e);
        if (rc != JPL_OK)
            ret = cli_fail("demo", rc, "%s", e.msg);
    }
    if (ret == JPL_OK)
        ret = start_server(d);
    if (ret == JPL_OK)
        ret = start_auditor(d);
    t_setup = now_s() - t0;
    pid_t sub = ret == JPL_OK ? start_subscriber(d) : -1;
    if (ret == JPL_OK)
        printf("server on %s (pub %s); subscriber following live into %s/feed.ndjson\n", d->rep,
               d->pub, d->dir);
    double a0 = now_s();
    for (int p = 0; ret == JPL_OK && p < JPL_GEN_PHASES; p++)
        ret = append_phase(d, (jpl_gen_phase)p, st.by_phase[p]);
    t_append = now_s() - a0;
    if (ret == JPL_OK)
        ret = picture(d);
    /* let the subscriber catch up with the end of the log, then stop it */
    char feed[4400];
    snprintf(feed, sizeof feed, "%s/feed.ndjson", d->dir);
    uint64_t want = st.events + 1 + N_ROLES, seen = 0;
    feed_counter fc = {.path = feed};
    for (int i = 0; sub > 0 && ret == JPL_OK && i < 600; i++) { /* a failed run: stop now */
        seen = count_feed_lines(&fc);
        if (seen >= want)
            break;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (sub > 0) {
        kill(sub, SIGTERM);
        waitpid(sub, NULL, 0);
    }
    /* the memtables are written out now, while the auditor still uses the other core, instead
     * of when the server closes the ledger */
    jpl_ledger *served = atomic_load(&d->served);
    if (served != NULL)
        jpl_store_flush(jpl_ledger_store(served));
    stop_auditor(d); /* it reads the served ledger: before the server closes it */
    d->stop = 1;
    pthread_join(d->server_tid, NULL);
    serve_ext_release();
    uint64_t size = 0;
    t_between = now_s() - a0 - t_append;
    if (ret == JPL_OK)
        ret = verify_all(d, &t_verify, &size);
    if (ret == JPL_OK)
        ret = auditor_cosign(d);
    double total = now_s() - t0;
    if (ret == JPL_OK) {
        printf("\nSubscriber: %llu of %llu entries, in order, exactly once\n",
               (unsigned long long)seen, (unsigned long long)size);
        printf("\nTimings (%d concurrent clients through the API, 2 cores):\n", d->clients);
        printf("  setup (ledger, keys, server):  %6.1f s\n", t_setup);
        printf("  append %llu events:        %6.1f s  (%.0f events/s, signed, verified, "
               "durable, projected)\n",
               (unsigned long long)st.events, t_append, (double)st.events / t_append);
        printf("  picture, subscriber catch-up, server stop: %.1f s\n", t_between);
        printf("  verify the whole log:          %6.1f s after the append  (%llu entries "
               "checked during it, %llu after)\n",
               t_verify, (unsigned long long)d->checked_live,
               (unsigned long long)(size - d->checked_live));
        printf("  total:                         %6.1f s\n", total);
        print_reference(total, size);
        char self[4096] = "jpledger";
        ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
        if (sl > 0)
            self[sl] = '\0';
        printf("\nThe ledger stays in %s: try\n  %s report --data %s --year %u\n"
               "  %s verify --data %s\n",
               d->ledger, self, d->ledger, d->gen.year, self, d->ledger);
        if (seen != size)
            ret = cli_fail("demo", JPL_ERR_INTERNAL, "the subscriber saw %llu of %llu entries",
                           (unsigned long long)seen, (unsigned long long)size);
    }
    stop_auditor(d);
    jpl_verifier_free(d->vf);
    for (int i = 0; i < N_ROLES; i++)
        jpl_note_signer_wipe(&d->keys[i]);
    return ret;
}

int cmd_demo(int argc, char **argv);
int cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {{"employees", required_argument, 0, 'n'},
                                         {"dir", required_argument, 0, 'd'},
                                         {"seed", required_argument, 0, 's'},
                                         {"year", required_argument, 0, 'y'},
                                         {"clients", required_argument, 0, 'c'},
                                         {"verify-after", no_argument, 0, 'a'},
                                         {0, 0, 0, 0}};
    static demo d;
    memset(&d, 0, sizeof d);
    d.gen = (jpl_gen_opts){
        .employees = JPL_GEN_DEFAULT_EMPLOYEES, .year = JPL_GEN_DEFAULT_YEAR, .seed = 1};
    d.clients = DEMO_CLIENTS;
    const char *dir = "jpledger-demo";
    uint64_t v = 0;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'n':
            if (!cli_parse_u64(optarg, &v) || v == 0 || v > JPL_GEN_MAX_EMPLOYEES)
                return cli_usage_error("demo", "--employees takes 1..10000000");
            d.gen.employees = v;
            break;
        case 's':
            if (!cli_parse_u64(optarg, &d.gen.seed))
                return cli_usage_error("demo", "--seed takes a number");
            break;
        case 'y':
            if (!cli_parse_u64(optarg, &v) || v < 2001 || v > 2100)
                return cli_usage_error("demo", "--year takes 2001..2100");
            d.gen.year = (uint32_t)v;
            break;
        case 'a':
            d.verify_after = true;
            break;
        case 'c':
            if (!cli_parse_u64(optarg, &v) || v == 0 || v > DEMO_MAX_CLIENTS)
                return cli_usage_error("demo", "--clients takes 1..16");
            d.clients = (int)v;
            break;
        default:
            return cli_bad_option("demo", argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("demo", "unexpected argument");
    if (d.gen.year > jpl_gen_max_year())
        return cli_usage_error("demo", JPL_GEN_FUTURE_YEAR);
    int prep = prepare_dir(dir);
    if (prep != JPL_OK)
        return prep;
    char *real = realpath(dir, NULL);
    snprintf(d.dir, sizeof d.dir, "%s", real ? real : dir);
    free(real);
    snprintf(d.ledger, sizeof d.ledger, "%s/ledger", d.dir);
    d.tty = isatty(STDERR_FILENO);
    signal(SIGPIPE, SIG_IGN);
    return run(&d);
}
