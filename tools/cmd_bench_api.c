/*
 * `jpledger bench ingest` and `bench query`: the server running in this process on IPC sockets,
 * driven by client threads of the client library. Each figure is reported against a reference
 * measured in the same run: ingest against single-core raw Ed25519 verification of the same
 * envelopes; proof queries against the same proofs computed in-process (no network).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli.h"
#include "jpl/client.h"
#include "jpl/keyfile.h"
#include "jpl/ledger.h"
#include "jpl/merkle.h"
#include "jpl/server.h"
#include "serve_ext.h"

#define CLIENTS 4
#define INGEST_BATCH 100
#define QUERIES 20000

typedef struct {
    jpl_server_opts o;
    volatile sig_atomic_t stop;
    pthread_t tid;
    jpl_err rc;
    char rep[4200], pub[4200];
} bench_server;

static void *server_main(void *arg)
{
    bench_server *b = arg;
    jpl_error e = {0};
    b->rc = jpl_server_run(&b->o, &e);
    if (b->rc != JPL_OK)
        fprintf(stderr, "bench: server: %s\n", e.msg);
    return NULL;
}

/* Registers an LMS key (for ingest) through the ledger before the server takes it. */
static jpl_err prepare(const char *dir, jpl_note_signer *lms, jpl_error *e)
{
    jpl_init_result ir;
    jpl_err rc = jpl_ledger_init(dir, NULL, &ir, e);
    jpl_note_signer admin;
    if (rc == JPL_OK)
        rc = jpl_keyfile_read_signer(ir.admin_key_path, &admin, e);
    if (rc == JPL_OK)
        rc = jpl_note_keygen("bench.lms", lms, e);
    jpl_ledger *l = NULL;
    if (rc == JPL_OK)
        rc = jpl_ledger_open(dir, true, &l, e);
    if (rc != JPL_OK)
        return rc;
    uint8_t id[16];
    jpl_random_bytes(id, 16);
    id[6] = (uint8_t)((id[6] & 0x0f) | 0x40);
    id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
    Jpl__KeyRegistered kr = JPL__KEY_REGISTERED__INIT;
    kr.public_key = (ProtobufCBinaryData){32, lms->pk};
    kr.name = lms->name;
    kr.role = JPL__ROLE__ROLE_LMS;
    Jpl__Event ev = JPL__EVENT__INIT;
    ev.event_id = (ProtobufCBinaryData){16, id};
    ev.issued_at_ms = jpl_now_ms();
    ev.body_case = JPL__EVENT__BODY_KEY_REGISTERED;
    ev.key_registered = &kr;
    uint8_t *env = NULL;
    size_t len = 0;
    jpl_append_result res;
    rc = jpl_event_seal(&ev, admin.pk, admin.sk, &env, &len, e);
    if (rc == JPL_OK)
        rc = jpl_ledger_append(l, &(jpl_bytes){env, len}, 1, &res, e);
    free(env);
    jpl_note_signer_wipe(&admin);
    jpl_ledger_close(l);
    return rc;
}

static jpl_err start_server(bench_server *b, const char *dir, jpl_error *e)
{
    snprintf(b->rep, sizeof b->rep, "ipc://%.4000s/rep.ipc", dir);
    snprintf(b->pub, sizeof b->pub, "ipc://%.4000s/pub.ipc", dir);
    b->o.data_dir = dir;
    b->o.rep_url = b->rep;
    b->o.pub_url = b->pub;
    b->o.anonymous_local = true;
    b->o.stop = &b->stop;
    serve_ext_install(&b->o);
    if (pthread_create(&b->tid, NULL, server_main, b) != 0)
        return jpl_fail(e, JPL_ERR_INTERNAL, "cannot start the server thread");
    for (int i = 0; i < 100; i++) { /* wait until it answers */
        jpl_client *c = NULL;
        if (jpl_client_open(b->rep, NULL, 1000, &c, NULL) == JPL_OK) {
            jpl_client_close(c);
            return JPL_OK;
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return jpl_fail(e, JPL_ERR_IO, "the server did not come up");
}

static void stop_server(bench_server *b)
{
    b->stop = 1;
    pthread_join(b->tid, NULL);
    serve_ext_release();
}

typedef struct {
    const char *url;
    jpl_bytes *envs;
    size_t from, to;
    uint64_t *seqs; /* query: which leaves to prove */
    jpl_err rc;
} client_job;

static void *ingest_client(void *arg)
{
    client_job *j = arg;
    jpl_client *c = NULL;
    jpl_error e = {0};
    j->rc = jpl_client_open(j->url, NULL, 0, &c, &e);
    ProtobufCBinaryData items[INGEST_BATCH];
    for (size_t i = j->from; j->rc == JPL_OK && i < j->to; i += INGEST_BATCH) {
        size_t n = j->to - i < INGEST_BATCH ? j->to - i : INGEST_BATCH;
        for (size_t k = 0; k < n; k++)
            items[k] = (ProtobufCBinaryData){j->envs[i + k].len, (uint8_t *)j->envs[i + k].data};
        Jpl__AppendRequest ar = JPL__APPEND_REQUEST__INIT;
        ar.envelopes = items;
        ar.n_envelopes = n;
        Jpl__Request req = JPL__REQUEST__INIT;
        req.op_case = JPL__REQUEST__OP_APPEND;
        req.append = &ar;
        Jpl__Response *resp = NULL;
        j->rc = jpl_client_call(c, &req, &resp, &e);
        jpl_codec_response_free(resp);
    }
    if (j->rc != JPL_OK)
        fprintf(stderr, "bench: client: %s\n", e.msg);
    jpl_client_close(c);
    return NULL;
}

static void *query_client(void *arg)
{
    client_job *j = arg;
    jpl_client *c = NULL;
    jpl_error e = {0};
    j->rc = jpl_client_open(j->url, NULL, 0, &c, &e);
    for (size_t i = j->from; j->rc == JPL_OK && i < j->to; i++) {
        Jpl__InclusionRequest ir = JPL__INCLUSION_REQUEST__INIT;
        ir.seq = j->seqs[i];
        Jpl__Request req = JPL__REQUEST__INIT;
        req.op_case = JPL__REQUEST__OP_INCLUSION;
        req.inclusion = &ir;
        Jpl__Response *resp = NULL;
        j->rc = jpl_client_call(c, &req, &resp, &e);
        jpl_codec_response_free(resp);
    }
    jpl_client_close(c);
    return NULL;
}

/* Runs CLIENTS threads of fn over [0, n); returns the seconds taken, or -1 on failure. */
static double run_clients(void *(*fn)(void *), const char *url, jpl_bytes *envs, uint64_t *seqs,
                          size_t n)
{
    client_job jobs[CLIENTS];
    pthread_t tids[CLIENTS];
    double t0 = now_s();
    for (int i = 0; i < CLIENTS; i++) {
        jobs[i] = (client_job){url,  envs,  n * (size_t)i / CLIENTS, n * (size_t)(i + 1) / CLIENTS,
                               seqs, JPL_OK};
        if (pthread_create(&tids[i], NULL, fn, &jobs[i]) != 0)
            return -1;
    }
    bool ok = true;
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(tids[i], NULL);
        ok = ok && jobs[i].rc == JPL_OK;
    }
    return ok ? now_s() - t0 : -1;
}

/* The same inclusion proofs computed in-process on a read-only open (the reference). */
static double direct_proofs(const char *dir, uint64_t *seqs, size_t n)
{
    jpl_ledger *l = NULL;
    if (jpl_ledger_open(dir, false, &l, NULL) != JPL_OK)
        return 0;
    uint8_t path[JPL_MERKLE_MAX_PATH][32], root[32];
    size_t np = 0;
    uint64_t size = jpl_ledger_size(l);
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (jpl_ledger_prove_inclusion(l, seqs[i], size, path, &np, NULL) != JPL_OK ||
            jpl_ledger_root(l, size, root, NULL) != JPL_OK ||
            jpl_ledger_entry(l, seqs[i], &bytes, &len, NULL) != JPL_OK) {
            jpl_ledger_close(l);
            return 0;
        }
        free(bytes);
    }
    double dt = now_s() - t0;
    jpl_ledger_close(l);
    return (double)n / dt;
}

int bench_api(const char *which, const char *dir, uint64_t events)
{
    jpl_error e = {0};
    jpl_note_signer lms;
    jpl_err rc = prepare(dir, &lms, &e);
    if (rc != JPL_OK)
        return cli_fail("bench", rc, "%s", e.msg);
    fprintf(stderr, "bench: signing %llu events...\n", (unsigned long long)events);
    jpl_bytes *envs = make_events(&lms, (size_t)events, 0);
    jpl_note_signer_wipe(&lms);
    if (envs == NULL)
        return cli_fail("bench", JPL_ERR_INTERNAL, "could not build events");
    double raw[REPEATS];
    for (int r = 0; r < REPEATS; r++)
        raw[r] = bench_raw_verify(envs, (size_t)events);
    bench_server b;
    memset(&b, 0, sizeof b);
    rc = start_server(&b, dir, &e);
    double ingest_s = -1;
    if (rc == JPL_OK) {
        fprintf(stderr, "bench: %d clients appending through the server...\n", CLIENTS);
        ingest_s = run_clients(ingest_client, b.rep, envs, NULL, (size_t)events);
    }
    json_t *o = json_object();
    json_object_set_new(o, "bench", json_string(which));
    json_object_set_new(o, "events", json_integer((json_int_t)events));
    json_object_set_new(o, "clients", json_integer(CLIENTS));
    double rv = median3(raw);
    json_object_set_new(o, "raw_ed25519_verify_per_s_1core", json_real(rv));
    if (ingest_s > 0 && strcmp(which, "ingest") == 0) {
        double rate = (double)events / ingest_s;
        json_object_set_new(o, "batch", json_integer(INGEST_BATCH));
        json_object_set_new(o, "ingest_events_per_s", json_real(rate));
        json_object_set_new(o, "ingest_vs_raw_verify_1core", json_real(rate / rv));
    }
    if (ingest_s > 0 && strcmp(which, "query") == 0) {
        uint64_t *seqs = malloc(QUERIES * sizeof *seqs);
        for (size_t i = 0; seqs && i < QUERIES; i++) {
            uint64_t x = 0;
            jpl_random_bytes(&x, sizeof x);
            seqs[i] = x % (events + 2);
        }
        double remote[REPEATS], direct[REPEATS];
        for (int r = 0; seqs && r < REPEATS; r++) {
            double dt = run_clients(query_client, b.rep, NULL, seqs, QUERIES);
            remote[r] = dt > 0 ? QUERIES / dt : 0;
            direct[r] = direct_proofs(dir, seqs, QUERIES);
        }
        double qr = median3(remote), dr = median3(direct);
        json_object_set_new(o, "inclusion_queries_per_s", json_real(qr));
        json_object_set_new(o, "direct_inclusion_proofs_per_s_1core", json_real(dr));
        json_object_set_new(o, "queries_vs_direct", json_real(dr > 0 ? qr / dr : 0));
        free(seqs);
    }
    stop_server(&b);
    for (size_t i = 0; i < events; i++)
        free((void *)envs[i].data);
    free(envs);
    if (rc != JPL_OK || ingest_s <= 0) {
        json_decref(o);
        return cli_fail("bench", rc ? rc : JPL_ERR_IO, "%s", e.msg[0] ? e.msg : "clients failed");
    }
    cli_print_json(o);
    return JPL_OK;
}
