/*
 * The ledger (see ledger.h): init, open, the group-commit writer, and the read side (entries,
 * roots, proofs, checkpoints).
 *
 * Write path of one group:
 *   callers:  decode envelope + event, verify Ed25519 over prefix || event  (in parallel)
 *   writer:   for each queued batch: save point; jpl_rules_apply + log/ids/streams/tree puts;
 *             on a violation roll back to the save point and restore the in-memory tree
 *   writer:   sign a checkpoint of the new size, one synced RocksDB write, then answer all
 */
#include "jpl/thread.h"
#include "jpl/ledger.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "jpl/codec.h"
#include "jpl/cosign.h"
#include "jpl/event_json.h"
#include "jpl/keyfile.h"
#include "jpl/merkle.h"
#include "jpl/note.h"
#include "rules.h"

#define MAX_GROUP_EVENTS 8192
#define WRITER_KEEP_BYTES ((size_t)256 << 20) /* the writer's hot state kept in memory */
#define META_LOG_SIZE "log_size"
#define META_ORIGIN "origin"

/* One decoded, signature-checked event of a batch. */
typedef struct {
    Jpl__SignedEnvelope *env;
    Jpl__Event *ev;
} checked_event;

typedef struct request {
    checked_event *items;
    size_t n;
    jpl_append_result *results;
    jpl_err rc;
    jpl_error err;
    bool done;
    struct request *next;
} request;

struct jpl_ledger {
    jpl_store *store;
    jpl_snapshot *snap; /* a snapshot handle (jpl_ledger_snapshot) reads through it */
    bool own_snap;      /* ... and releases it at close */
    bool borrowed;      /* the store belongs to the ledger the snapshot was taken of */
    char dir[4096];
    char origin[JPL_CHECKPOINT_ORIGIN_MAX + 1];
    char log_vkey[JPL_NOTE_VKEY_SIZE];
    bool writable;
    jpl_note_signer log_signer;

    /* writer state, owned by the writer thread while it runs */
    uint64_t size;
    uint64_t last_recorded_ms;
    jpl_merkle_frontier frontier;
    jpl_batch *batch;

    pthread_t writer;
    bool writer_started;
    pthread_mutex_t mu;
    pthread_cond_t queue_cv; /* writer waits for work */
    pthread_cond_t done_cv;  /* callers wait for their request */
    request *head, *tail;
    bool stopping;
    int paused;              /* jpl_ledger_pause calls not yet resumed: no group starts */
    bool in_group;           /* the writer is processing a group */
    bool stale_cache;        /* others wrote the store: the batch must forget what it kept */
    pthread_cond_t idle_cv;  /* signalled when a group ends */
    uint64_t committed_size; /* size readers may rely on (guarded by mu) */

    jpl_stage_hook stage_hook;
    jpl_commit_hook commit_hook;
    void *hook_ctx;
    void *commit_ctx;
    char last_checkpoint[1024];
};

void jpl_ledger_set_hooks(jpl_ledger *l, jpl_stage_hook stage, jpl_commit_hook commit, void *ctx)
{
    pthread_mutex_lock(&l->mu);
    l->stale_cache = true; /* the hooks' families may have been rewritten */
    pthread_mutex_unlock(&l->mu);
    l->stage_hook = stage;
    l->commit_hook = commit;
    l->hook_ctx = ctx;
    l->commit_ctx = ctx;
}

void jpl_ledger_set_commit_hook(jpl_ledger *l, jpl_commit_hook commit, void *ctx)
{
    l->commit_hook = commit;
    l->commit_ctx = ctx;
}

uint64_t jpl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- reads: the live store, or the snapshot of a snapshot handle ---- */

static jpl_err read_row(jpl_ledger *l, int cf, const void *key, size_t klen, uint8_t **val_out,
                        size_t *vlen_out, jpl_error *e)
{
    return l->snap != NULL ? jpl_snapshot_get(l->snap, cf, key, klen, val_out, vlen_out, e)
                           : jpl_store_get(l->store, cf, key, klen, val_out, vlen_out, e);
}

static jpl_iter *read_iter(jpl_ledger *l, int cf, const void *start, size_t slen)
{
    return l->snap != NULL ? jpl_snapshot_iter(l->snap, cf, start, slen)
                           : jpl_store_iter(l->store, cf, start, slen);
}

/* ---- Merkle node storage: tree family, key level u8 || index u64 ---- */

static void node_key(uint8_t k[9], uint32_t level, uint64_t index)
{
    k[0] = (uint8_t)level;
    jpl_put_u64be(k + 1, index);
}

static jpl_err store_node_get(void *ctx, uint32_t level, uint64_t index, uint8_t out[32],
                              jpl_error *e)
{
    jpl_ledger *l = ctx;
    uint8_t k[9];
    uint8_t *v = NULL;
    size_t vlen = 0;
    node_key(k, level, index);
    jpl_err rc = read_row(l, JPL_CF_TREE, k, 9, &v, &vlen, e);
    if (rc == JPL_ERR_NOT_FOUND)
        return jpl_fail(e, JPL_ERR_CORRUPT, "Merkle node (%u, %llu) is missing", level,
                        (unsigned long long)index);
    if (rc != JPL_OK)
        return rc;
    if (vlen != 32) {
        free(v);
        return jpl_fail(e, JPL_ERR_CORRUPT, "Merkle node (%u, %llu) has %zu bytes", level,
                        (unsigned long long)index, vlen);
    }
    memcpy(out, v, 32);
    free(v);
    return JPL_OK;
}

static jpl_err batch_node_put(void *ctx, uint32_t level, uint64_t index, const uint8_t hash[32],
                              jpl_error *e)
{
    (void)e;
    jpl_ledger *l = ctx;
    uint8_t k[9];
    node_key(k, level, index);
    jpl_batch_put(l->batch, l->store, JPL_CF_TREE, k, 9, hash, 32);
    return JPL_OK;
}

static jpl_merkle_reader tree_reader(jpl_ledger *l)
{
    return (jpl_merkle_reader){.get = store_node_get, .ctx = l};
}

/* ---- meta ---- */

static jpl_err read_meta_u64(jpl_ledger *l, const char *key, uint64_t *out, jpl_error *e)
{
    uint8_t *v = NULL;
    size_t vlen = 0;
    jpl_err rc = read_row(l, JPL_CF_META, key, strlen(key), &v, &vlen, e);
    if (rc == JPL_ERR_NOT_FOUND) {
        *out = 0;
        return JPL_OK;
    }
    if (rc != JPL_OK)
        return rc;
    if (vlen != 8) {
        free(v);
        return jpl_fail(e, JPL_ERR_CORRUPT, "meta %s has bad size", key);
    }
    *out = jpl_get_u64be(v);
    free(v);
    return JPL_OK;
}

static jpl_err read_meta_text(jpl_store *s, const char *key, char *out, size_t cap, jpl_error *e)
{
    uint8_t *v = NULL;
    size_t vlen = 0;
    jpl_err rc = jpl_store_get(s, JPL_CF_META, key, strlen(key), &v, &vlen, e);
    if (rc == JPL_ERR_NOT_FOUND)
        return jpl_fail(e, JPL_ERR_CORRUPT, "meta %s is missing", key);
    if (rc != JPL_OK)
        return rc;
    if (vlen >= cap) {
        free(v);
        return jpl_fail(e, JPL_ERR_CORRUPT, "meta %s is too long", key);
    }
    memcpy(out, v, vlen);
    out[vlen] = '\0';
    free(v);
    return JPL_OK;
}

/* ---- paths ---- */

static void path_in(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

/* ---- writer ---- */

static jpl_err put_entry(jpl_ledger *l, const checked_event *it, const char *nip, uint64_t seq,
                         jpl_append_result *res, jpl_error *e)
{
    const Jpl__SignedEnvelope *env = it->env;
    uint64_t now = jpl_now_ms();
    if (now < l->last_recorded_ms)
        now = l->last_recorded_ms; /* recorded times never go backwards */
    Jpl__LogEntry entry = JPL__LOG_ENTRY__INIT;
    entry.seq = seq;
    entry.recorded_at_ms = now;
    entry.envelope = (Jpl__SignedEnvelope *)env;
    uint8_t *bytes = NULL;
    size_t len = 0;
    jpl_err rc = jpl_codec_entry_encode(&entry, &bytes, &len, e);
    if (rc != JPL_OK)
        return rc;
    uint8_t k[8];
    jpl_put_u64be(k, seq);
    jpl_batch_put(l->batch, l->store, JPL_CF_LOG, k, 8, bytes, len);
    jpl_merkle_hash_leaf(res->leaf_hash, bytes, len);
    rc = jpl_merkle_frontier_append(&l->frontier, res->leaf_hash, batch_node_put, l, e);
    if (rc == JPL_OK && l->stage_hook != NULL) {
        jpl_entry_view v = {.seq = seq,
                            .recorded_at_ms = now,
                            .entry = bytes,
                            .entry_len = len,
                            .leaf_hash = res->leaf_hash,
                            .env = env,
                            .ev = it->ev,
                            .nip = nip};
        rc = l->stage_hook(l->hook_ctx, l->store, l->batch, &v, e);
    }
    free(bytes);
    if (rc == JPL_OK)
        l->last_recorded_ms = now;
    return rc;
}

/* Validates and stages one batch; on failure the caller rolls back. */
static jpl_err stage_request(jpl_ledger *l, request *r)
{
    for (size_t i = 0; i < r->n; i++) {
        checked_event *it = &r->items[i];
        jpl_append_result *res = &r->results[i];
        jpl_rules_ctx ctx = {
            .store = l->store, .batch = l->batch, .seq = l->size, .now_ms = jpl_now_ms()};
        jpl_rules_outcome out;
        jpl_err rc = jpl_rules_apply(&ctx, it->env, it->ev, &out, &r->err);
        if (rc == JPL_OK && out.duplicate) {
            res->code = JPL_OK;
            res->duplicate = true;
            res->seq = out.dup_seq;
            uint8_t *bytes = NULL;
            size_t len = 0;
            uint8_t k[8];
            jpl_put_u64be(k, out.dup_seq);
            rc = jpl_batch_get(l->batch, l->store, JPL_CF_LOG, k, 8, &bytes, &len, &r->err);
            if (rc == JPL_OK)
                jpl_merkle_hash_leaf(res->leaf_hash, bytes, len);
            free(bytes);
            if (rc != JPL_OK)
                return res->code = rc;
            continue;
        }
        if (rc == JPL_OK)
            rc = put_entry(l, it, out.nip, l->size, res, &r->err);
        if (rc != JPL_OK) {
            res->code = rc;
            return rc;
        }
        res->code = JPL_OK;
        res->seq = l->size;
        l->size++;
    }
    return JPL_OK;
}

static jpl_err stage_checkpoint(jpl_ledger *l, jpl_error *e)
{
    uint8_t root[32];
    char text[512];
    size_t tlen = 0;
    jpl_merkle_frontier_root(&l->frontier, root);
    jpl_err rc = jpl_checkpoint_format(l->origin, l->size, root, text, sizeof text, &tlen, e);
    if (rc != JPL_OK)
        return rc;
    size_t nlen = 0;
    rc = jpl_note_sign(text, tlen, &l->log_signer, l->last_checkpoint, sizeof l->last_checkpoint,
                       &nlen, e);
    if (rc != JPL_OK)
        return rc;
    uint8_t k[8];
    jpl_put_u64be(k, l->size);
    jpl_batch_put(l->batch, l->store, JPL_CF_CHECKPOINTS, k, 8, l->last_checkpoint, nlen);
    /* the log size goes with the checkpoint of that size: once per group, not per entry */
    jpl_batch_put(l->batch, l->store, JPL_CF_META, META_LOG_SIZE, strlen(META_LOG_SIZE), k, 8);
    return JPL_OK;
}

static void fail_request(request *r, jpl_err rc, const char *msg)
{
    r->rc = rc;
    snprintf(r->err.msg, sizeof r->err.msg, "%s", msg);
    r->err.code = rc;
}

/* Names the failing event in the request's message: "event 3 (id ...): reason". */
static void name_failure(request *r)
{
    for (size_t i = 0; i < r->n; i++) {
        if (r->results[i].code != JPL_OK) {
            char id[JPL_UUID_TEXT_LEN + 1];
            jpl_uuid_format(id, r->items[i].ev->event_id.data);
            jpl_error_prefix(&r->err, "event %zu (id %s, %s)", i, id,
                             jpl_rules_type_name((int)r->items[i].ev->body_case));
            return;
        }
    }
}

static void process_group(jpl_ledger *l, request *group)
{
    uint64_t size0 = l->size;
    uint64_t recorded0 = l->last_recorded_ms;
    jpl_merkle_frontier *front0 = malloc(sizeof *front0);
    jpl_merkle_frontier *frontr = malloc(sizeof *frontr);
    jpl_batch_clear(l->batch);
    if (front0 == NULL || frontr == NULL) {
        for (request *r = group; r; r = r->next)
            fail_request(r, JPL_ERR_INTERNAL, "out of memory");
        goto out;
    }
    *front0 = l->frontier;
    for (request *r = group; r; r = r->next) {
        uint64_t size_r = l->size;
        *frontr = l->frontier;
        jpl_batch_savepoint(l->batch);
        r->rc = stage_request(l, r);
        if (r->rc != JPL_OK) {
            name_failure(r);
            jpl_error rb = {0};
            if (jpl_batch_rollback(l->batch, &rb) != JPL_OK) {
                /* cannot undo part of the group: fail the whole group */
                for (request *q = group; q; q = q->next)
                    if (q->rc == JPL_OK)
                        fail_request(q, JPL_ERR_IO, rb.msg);
                l->size = size0;
                l->frontier = *front0;
                l->last_recorded_ms = recorded0;
                goto out;
            }
            l->size = size_r;
            l->frontier = *frontr;
        }
    }
    if (l->size != size0) {
        jpl_error e = {0};
        jpl_err rc = stage_checkpoint(l, &e);
        if (rc == JPL_OK)
            rc = jpl_store_write(l->store, l->batch, true, &e);
        if (rc != JPL_OK) {
            for (request *r = group; r; r = r->next)
                if (r->rc == JPL_OK)
                    fail_request(r, rc, e.msg);
            l->size = size0;
            l->frontier = *front0;
            l->last_recorded_ms = recorded0;
        } else if (l->commit_hook != NULL) {
            l->commit_hook(l->commit_ctx, size0, l->size, l->last_checkpoint);
        }
    }
out:
    free(front0);
    free(frontr);
    jpl_batch_clear(l->batch);
}

static void *writer_main(void *arg)
{
    jpl_thread_name("jpl-writer");
    jpl_ledger *l = arg;
    for (;;) {
        pthread_mutex_lock(&l->mu);
        while ((l->head == NULL || l->paused > 0) && !l->stopping)
            pthread_cond_wait(&l->queue_cv, &l->mu);
        if (l->head == NULL && l->stopping) {
            pthread_mutex_unlock(&l->mu);
            return NULL;
        }
        /* take a group: whole requests up to MAX_GROUP_EVENTS (at least one) */
        request *group = l->head, *last = l->head;
        size_t events = last->n;
        while (last->next && events + last->next->n <= MAX_GROUP_EVENTS) {
            last = last->next;
            events += last->n;
        }
        l->head = last->next;
        if (l->head == NULL)
            l->tail = NULL;
        last->next = NULL;
        l->in_group = true;
        bool forget = l->stale_cache;
        l->stale_cache = false;
        pthread_mutex_unlock(&l->mu);

        if (forget)
            jpl_batch_forget(l->batch);

        process_group(l, group);

        pthread_mutex_lock(&l->mu);
        l->in_group = false;
        pthread_cond_broadcast(&l->idle_cv);
        l->committed_size = l->size;
        for (request *r = group; r;) {
            request *next = r->next;
            r->done = true;
            r = next;
        }
        pthread_cond_broadcast(&l->done_cv);
        pthread_mutex_unlock(&l->mu);
    }
}

/* ---- open / close ---- */

static jpl_err load_log_key(jpl_ledger *l, jpl_error *e)
{
    char path[4200];
    path_in(path, sizeof path, l->dir, "log.key");
    jpl_err rc = jpl_keyfile_read_signer(path, &l->log_signer, e);
    if (rc != JPL_OK)
        return rc;
    jpl_note_verifier v;
    jpl_note_verifier_from_signer(&l->log_signer, &v);
    char vkey[JPL_NOTE_VKEY_SIZE];
    if ((rc = jpl_note_verifier_format(&v, vkey, sizeof vkey, e)) != JPL_OK)
        return rc;
    if (strcmp(vkey, l->log_vkey) != 0)
        return jpl_fail(e, JPL_ERR_CORRUPT, "%s does not match log.vkey", path);
    return JPL_OK;
}

static jpl_err load_log_vkey(jpl_ledger *l, jpl_error *e)
{
    char path[4200];
    path_in(path, sizeof path, l->dir, "log.vkey");
    jpl_note_verifier v;
    jpl_err rc = jpl_keyfile_read_verifier(path, &v, e);
    if (rc != JPL_OK)
        return rc;
    return jpl_note_verifier_format(&v, l->log_vkey, sizeof l->log_vkey, e);
}

static jpl_err start_writer(jpl_ledger *l, jpl_error *e)
{
    jpl_err rc = load_log_key(l, e);
    if (rc != JPL_OK)
        return rc;
    jpl_merkle_reader r = tree_reader(l);
    if ((rc = jpl_merkle_frontier_load(&r, l->size, &l->frontier, e)) != JPL_OK)
        return rc;
    /* ledgers made before cosignatures get the family here, before any thread uses the store */
    int cosig_cf = 0;
    if ((rc = jpl_store_cf(l->store, JPL_COSIG_FAMILY, true, &cosig_cf, e)) != JPL_OK)
        return rc;
    l->batch = jpl_batch_new_caching(
        WRITER_KEEP_BYTES, (uint64_t)1 << JPL_CF_LOG | (uint64_t)1 << JPL_CF_IDS |
                               (uint64_t)1 << JPL_CF_TREE | (uint64_t)1 << JPL_CF_CHECKPOINTS);
    if (l->batch == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    if (pthread_create(&l->writer, NULL, writer_main, l) != 0)
        return jpl_fail(e, JPL_ERR_INTERNAL, "cannot start the writer thread");
    l->writer_started = true;
    return JPL_OK;
}

/* A zeroed ledger with its lock and conditions (jpl_ledger_close frees it), or NULL. */
static jpl_ledger *ledger_new(void)
{
    jpl_ledger *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->queue_cv, NULL);
    pthread_cond_init(&l->done_cv, NULL);
    pthread_cond_init(&l->idle_cv, NULL);
    return l;
}

jpl_err jpl_ledger_open(const char *dir, bool writable, jpl_ledger **out, jpl_error *e)
{
    jpl_ledger *l = ledger_new();
    if (l == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    snprintf(l->dir, sizeof l->dir, "%s", dir);
    l->writable = writable;
    char dbpath[4200];
    path_in(dbpath, sizeof dbpath, dir, "db");
    jpl_err rc =
        jpl_store_open(dbpath, writable ? JPL_STORE_WRITE : JPL_STORE_READ_ONLY, &l->store, e);
    if (rc == JPL_OK)
        rc = read_meta_u64(l, META_LOG_SIZE, &l->size, e);
    if (rc == JPL_OK)
        rc = read_meta_text(l->store, META_ORIGIN, l->origin, sizeof l->origin, e);
    if (rc == JPL_OK)
        rc = load_log_vkey(l, e);
    l->committed_size = l->size;
    if (rc == JPL_OK && writable)
        rc = start_writer(l, e);
    if (rc != JPL_OK) {
        jpl_ledger_close(l);
        return rc;
    }
    *out = l;
    return JPL_OK;
}

void jpl_ledger_close(jpl_ledger *l)
{
    if (l == NULL)
        return;
    if (l->writer_started) {
        pthread_mutex_lock(&l->mu);
        l->stopping = true;
        pthread_cond_broadcast(&l->queue_cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->writer, NULL);
    }
    jpl_batch_free(l->batch);
    if (l->own_snap)
        jpl_snapshot_close(l->snap);
    if (!l->borrowed)
        jpl_store_close(l->store);
    jpl_note_signer_wipe(&l->log_signer);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->queue_cv);
    pthread_cond_destroy(&l->done_cv);
    pthread_cond_destroy(&l->idle_cv);
    free(l);
}

uint64_t jpl_ledger_size(jpl_ledger *l)
{
    pthread_mutex_lock(&l->mu);
    uint64_t n = l->committed_size;
    pthread_mutex_unlock(&l->mu);
    return n;
}

const char *jpl_ledger_origin(jpl_ledger *l)
{
    return l->origin;
}

const char *jpl_ledger_log_vkey(jpl_ledger *l)
{
    return l->log_vkey;
}

jpl_store *jpl_ledger_store(jpl_ledger *l)
{
    return l->store;
}

jpl_snapshot *jpl_ledger_snapshot_of(jpl_ledger *l)
{
    return l->snap;
}

jpl_err jpl_ledger_snapshot(jpl_ledger *l, jpl_ledger **out, jpl_error *e)
{
    jpl_ledger *v = ledger_new();
    if (v == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    v->store = l->store;
    v->borrowed = true;
    memcpy(v->dir, l->dir, sizeof v->dir);
    memcpy(v->origin, l->origin, sizeof v->origin);
    memcpy(v->log_vkey, l->log_vkey, sizeof v->log_vkey);
    v->snap = l->snap; /* a snapshot of a snapshot handle reads the same moment */
    jpl_err rc = JPL_OK;
    if (v->snap == NULL) {
        rc = jpl_snapshot_open(l->store, &v->snap, e);
        v->own_snap = rc == JPL_OK;
    }
    /* the size stored with the last group the snapshot sees: its entries, tree nodes,
     * checkpoint and projection rows were written in the same batch */
    if (rc == JPL_OK)
        rc = read_meta_u64(v, META_LOG_SIZE, &v->size, e);
    v->committed_size = v->size;
    if (rc != JPL_OK) {
        jpl_ledger_close(v);
        return rc;
    }
    *out = v;
    return JPL_OK;
}

/* ---- append ---- */

static void free_checked(checked_event *items, size_t n)
{
    if (items == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        jpl_codec_event_free(items[i].ev);
        jpl_codec_envelope_free(items[i].env);
    }
    free(items);
}

/* Decodes and verifies the signature of one envelope (runs in the caller's thread). */
static jpl_err check_envelope(const jpl_bytes *raw, checked_event *out, jpl_error *e)
{
    jpl_err rc = jpl_codec_envelope_decode(raw->data, raw->len, &out->env, e);
    if (rc != JPL_OK)
        return rc;
    rc = jpl_codec_event_decode(out->env->event.data, out->env->event.len, &out->ev, e);
    if (rc == JPL_OK)
        rc = jpl_event_validate(out->ev, jpl_now_ms(), e); /* the same shape rules as JSON input */
    if (rc != JPL_OK)
        return rc;
    if (!jpl_ed25519_verify2(out->env->signature.data, JPL_EVENT_SIG_PREFIX,
                             JPL_EVENT_SIG_PREFIX_LEN, out->env->event.data, out->env->event.len,
                             out->env->public_key.data))
        return jpl_fail(e, JPL_ERR_BAD_SIGNATURE, "signature does not verify");
    return JPL_OK;
}

jpl_err jpl_ledger_append(jpl_ledger *l, const jpl_bytes *envelopes, size_t n,
                          jpl_append_result *results, jpl_error *e)
{
    if (!l->writable)
        return jpl_fail(e, JPL_ERR_INTERNAL, "ledger opened read-only");
    if (n == 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "empty batch");
    if (n > MAX_GROUP_EVENTS)
        return jpl_fail(e, JPL_ERR_TOO_LARGE, "batch of %zu events, limit %d", n, MAX_GROUP_EVENTS);
    memset(results, 0, n * sizeof *results);
    checked_event *items = calloc(n, sizeof *items);
    if (items == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        jpl_err rc = check_envelope(&envelopes[i], &items[i], e);
        if (items[i].ev != NULL)
            memcpy(results[i].event_id, items[i].ev->event_id.data, 16);
        if (rc != JPL_OK) {
            results[i].code = rc;
            jpl_error_prefix(e, "event %zu", i);
            free_checked(items, n);
            return rc;
        }
    }
    request r = {.items = items, .n = n, .results = results};
    pthread_mutex_lock(&l->mu);
    if (l->stopping) {
        pthread_mutex_unlock(&l->mu);
        free_checked(items, n);
        return jpl_fail(e, JPL_ERR_IO, "the ledger is shutting down");
    }
    if (l->tail)
        l->tail->next = &r;
    else
        l->head = &r;
    l->tail = &r;
    pthread_cond_signal(&l->queue_cv);
    while (!r.done)
        pthread_cond_wait(&l->done_cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    free_checked(items, n);
    if (r.rc != JPL_OK) {
        if (e != NULL)
            *e = r.err;
        return jpl_fail(e, r.rc, "%s", r.err.msg);
    }
    return JPL_OK;
}

jpl_err jpl_envelope_sign(const uint8_t *event, size_t len, const uint8_t pk[JPL_ED25519_PK_LEN],
                          const uint8_t sk[JPL_ED25519_SK_LEN], uint8_t **env_out,
                          size_t *env_len_out, jpl_error *e)
{
    uint8_t sig[JPL_ED25519_SIG_LEN];
    jpl_ed25519_sign2(sig, JPL_EVENT_SIG_PREFIX, JPL_EVENT_SIG_PREFIX_LEN, event, len, sk);
    Jpl__SignedEnvelope env = JPL__SIGNED_ENVELOPE__INIT;
    env.event.data = (uint8_t *)event;
    env.event.len = len;
    env.public_key.data = (uint8_t *)pk;
    env.public_key.len = JPL_ED25519_PK_LEN;
    env.signature.data = sig;
    env.signature.len = sizeof sig;
    return jpl_codec_envelope_encode(&env, env_out, env_len_out, e);
}

jpl_err jpl_event_seal(const Jpl__Event *ev, const uint8_t pk[JPL_ED25519_PK_LEN],
                       const uint8_t sk[JPL_ED25519_SK_LEN], uint8_t **env_out, size_t *env_len_out,
                       jpl_error *e)
{
    uint8_t *evb = NULL;
    size_t evlen = 0;
    jpl_err rc = jpl_codec_event_encode(ev, &evb, &evlen, e);
    if (rc == JPL_OK)
        rc = jpl_envelope_sign(evb, evlen, pk, sk, env_out, env_len_out, e);
    free(evb);
    return rc;
}

/* ---- init ---- */

static jpl_err refuse_markers(const char *dir, jpl_error *e);

static jpl_err make_dir(const char *path, jpl_error *e)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST)
        return JPL_OK;
    if (errno == ENOENT)
        return jpl_fail(e, JPL_ERR_IO, "cannot create %s: its parent directory does not exist",
                        path);
    return jpl_fail(e, JPL_ERR_IO, "cannot create %s: %s", path, strerror(errno));
}

static jpl_err write_signer_files(const jpl_note_signer *s, const char *key_path,
                                  const char *pub_path, char *vkey_out, size_t vcap, jpl_error *e)
{
    char skey[JPL_NOTE_SKEY_SIZE];
    jpl_note_verifier v;
    jpl_note_verifier_from_signer(s, &v);
    jpl_err rc = jpl_note_verifier_format(&v, vkey_out, vcap, e);
    if (rc == JPL_OK)
        rc = jpl_note_signer_format(s, skey, sizeof skey, e);
    if (rc == JPL_OK)
        rc = jpl_keyfile_write(key_path, skey, true, e);
    if (rc == JPL_OK)
        rc = jpl_keyfile_write(pub_path, vkey_out, false, e);
    jpl_memzero(skey, sizeof skey);
    return rc;
}

static jpl_err write_meta(const char *dbpath, const char *origin, jpl_error *e)
{
    jpl_store *s = NULL;
    jpl_err rc = jpl_store_open(dbpath, JPL_STORE_CREATE, &s, e);
    if (rc != JPL_OK)
        return rc;
    jpl_batch *b = jpl_batch_new();
    uint8_t zero[8] = {0};
    jpl_batch_put(b, s, JPL_CF_META, META_ORIGIN, strlen(META_ORIGIN), origin, strlen(origin));
    jpl_batch_put(b, s, JPL_CF_META, META_LOG_SIZE, strlen(META_LOG_SIZE), zero, 8);
    rc = jpl_store_write(s, b, true, e);
    jpl_batch_free(b);
    jpl_store_close(s);
    return rc;
}

/* Appends entry 0: the first admin key registering itself. */
static jpl_err append_genesis(const char *dir, const jpl_note_signer *admin, jpl_error *e)
{
    jpl_ledger *l = NULL;
    jpl_err rc = jpl_ledger_open(dir, true, &l, e);
    if (rc != JPL_OK)
        return rc;
    uint8_t id[16];
    jpl_random_bytes(id, sizeof id);
    id[6] = (uint8_t)((id[6] & 0x0f) | 0x40); /* UUID version 4 */
    id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
    Jpl__KeyRegistered kr = JPL__KEY_REGISTERED__INIT;
    kr.public_key.data = (uint8_t *)admin->pk;
    kr.public_key.len = 32;
    kr.name = (char *)admin->name;
    kr.role = JPL__ROLE__ROLE_ADMIN;
    Jpl__Event ev = JPL__EVENT__INIT;
    ev.event_id.data = id;
    ev.event_id.len = 16;
    ev.issued_at_ms = jpl_now_ms();
    ev.body_case = JPL__EVENT__BODY_KEY_REGISTERED;
    ev.key_registered = &kr;
    uint8_t *envb = NULL;
    size_t envlen = 0;
    rc = jpl_event_seal(&ev, admin->pk, admin->sk, &envb, &envlen, e);
    if (rc == JPL_OK) {
        jpl_bytes raw = {envb, envlen};
        jpl_append_result res;
        rc = jpl_ledger_append(l, &raw, 1, &res, e);
    }
    free(envb);
    jpl_ledger_close(l);
    return rc;
}

static jpl_err refuse_existing(const char *dir, jpl_error *e)
{
    if (jpl_dir_has_entries(dir) && refuse_markers(dir, e) == JPL_OK)
        return jpl_fail(e, JPL_ERR_EXISTS,
                        "%s exists and is not empty; init needs a new or empty directory", dir);
    return refuse_markers(dir, e);
}

static jpl_err refuse_markers(const char *dir, jpl_error *e)
{
    static const char *const markers[] = {"db", "log.key", "log.vkey"};
    for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++) {
        char p[4200];
        struct stat st;
        path_in(p, sizeof p, dir, markers[i]);
        if (stat(p, &st) == 0)
            return jpl_fail(e, JPL_ERR_EXISTS, "%s already holds a ledger (%s exists)", dir,
                            markers[i]);
    }
    return JPL_OK;
}

jpl_err jpl_ledger_init(const char *dir, const jpl_init_opts *opts, jpl_init_result *res_out,
                        jpl_error *e)
{
    const char *origin = opts && opts->origin ? opts->origin : JPL_DEFAULT_ORIGIN;
    const char *admin_name = opts && opts->admin_name ? opts->admin_name : "admin";
    jpl_init_result res;
    memset(&res, 0, sizeof res);
    jpl_note_signer log_signer, admin;
    memset(&log_signer, 0, sizeof log_signer);
    memset(&admin, 0, sizeof admin);
    char p1[4200], p2[4200];

    jpl_err rc = refuse_existing(dir, e);
    if (rc == JPL_OK && !jpl_note_name_valid(origin, strlen(origin)))
        rc = jpl_fail(e, JPL_ERR_BAD_INPUT,
                      "origin '%s' is not a valid key name (no spaces, no '+', 1..128 bytes)",
                      origin);
    /* the name is also the key's file name in DIR/keys: no '/' */
    if (rc == JPL_OK &&
        (!jpl_note_name_valid(admin_name, strlen(admin_name)) || strchr(admin_name, '/') != NULL))
        rc = jpl_fail(e, JPL_ERR_BAD_INPUT,
                      "admin name '%s' is not a valid key name (no spaces, no '+', no '/')",
                      admin_name);
    if (rc == JPL_OK)
        rc = make_dir(dir, e);
    if (rc == JPL_OK && (rc = jpl_note_keygen(origin, &log_signer, e)) != JPL_OK)
        jpl_error_prefix(e, "origin %s", origin);
    if (rc == JPL_OK && (rc = jpl_note_keygen(admin_name, &admin, e)) != JPL_OK)
        jpl_error_prefix(e, "admin name %s", admin_name);
    if (rc == JPL_OK) {
        path_in(p1, sizeof p1, dir, "log.key");
        path_in(p2, sizeof p2, dir, "log.vkey");
        rc = write_signer_files(&log_signer, p1, p2, res.log_vkey, sizeof res.log_vkey, e);
    }
    if (rc == JPL_OK) {
        path_in(p1, sizeof p1, dir, "keys");
        rc = make_dir(p1, e);
    }
    if (rc == JPL_OK) {
        snprintf(p1, sizeof p1, "%s/keys/%s.key", dir, admin_name);
        snprintf(p2, sizeof p2, "%s/keys/%s.pub", dir, admin_name);
        memcpy(res.admin_key_path, p1, sizeof res.admin_key_path - 1);
        rc = write_signer_files(&admin, p1, p2, res.admin_vkey, sizeof res.admin_vkey, e);
    }
    if (rc == JPL_OK) {
        path_in(p1, sizeof p1, dir, "db");
        rc = write_meta(p1, origin, e);
    }
    if (rc == JPL_OK)
        rc = append_genesis(dir, &admin, e);
    jpl_note_signer_wipe(&log_signer);
    jpl_note_signer_wipe(&admin);
    if (rc == JPL_OK && res_out)
        *res_out = res;
    return rc;
}

/* ---- read side ---- */

jpl_err jpl_ledger_entry(jpl_ledger *l, uint64_t seq, uint8_t **bytes_out, size_t *len_out,
                         jpl_error *e)
{
    uint8_t k[8];
    jpl_put_u64be(k, seq);
    jpl_err rc = read_row(l, JPL_CF_LOG, k, 8, bytes_out, len_out, e);
    if (rc == JPL_ERR_NOT_FOUND)
        return jpl_fail(e, JPL_ERR_NOT_FOUND, "no entry at seq %llu (log size %llu)",
                        (unsigned long long)seq, (unsigned long long)jpl_ledger_size(l));
    return rc;
}

static jpl_err check_size(jpl_ledger *l, uint64_t size, jpl_error *e)
{
    uint64_t have = jpl_ledger_size(l);
    if (size > have)
        return jpl_fail(e, JPL_ERR_NOT_FOUND, "tree size %llu is beyond the log size %llu",
                        (unsigned long long)size, (unsigned long long)have);
    return JPL_OK;
}

jpl_err jpl_ledger_root(jpl_ledger *l, uint64_t size, uint8_t root_out[JPL_SHA256_LEN],
                        jpl_error *e)
{
    jpl_err rc = check_size(l, size, e);
    if (rc != JPL_OK)
        return rc;
    jpl_merkle_reader r = tree_reader(l);
    return jpl_merkle_root(&r, size, root_out, e);
}

jpl_err jpl_ledger_prove_inclusion(jpl_ledger *l, uint64_t seq, uint64_t size,
                                   uint8_t (*path_out)[JPL_SHA256_LEN], size_t *n_out, jpl_error *e)
{
    jpl_err rc = check_size(l, size, e);
    if (rc != JPL_OK)
        return rc;
    if (seq >= size)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "seq %llu is not below tree size %llu",
                        (unsigned long long)seq, (unsigned long long)size);
    jpl_merkle_reader r = tree_reader(l);
    return jpl_merkle_prove_inclusion(&r, seq, size, path_out, n_out, e);
}

jpl_err jpl_ledger_prove_consistency(jpl_ledger *l, uint64_t m, uint64_t n,
                                     uint8_t (*path_out)[JPL_SHA256_LEN], size_t *n_out,
                                     jpl_error *e)
{
    jpl_err rc = check_size(l, n, e);
    if (rc != JPL_OK)
        return rc;
    if (m == 0 || m > n)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "need 0 < from <= to, got from %llu to %llu",
                        (unsigned long long)m, (unsigned long long)n);
    jpl_merkle_reader r = tree_reader(l);
    return jpl_merkle_prove_consistency(&r, m, n, path_out, n_out, e);
}

jpl_err jpl_ledger_checkpoint(jpl_ledger *l, char **note_out, jpl_error *e)
{
    jpl_iter *it = read_iter(l, JPL_CF_CHECKPOINTS, NULL, 0);
    if (it == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl_iter_last(it);
    jpl_err rc = JPL_OK;
    uint64_t size = 0;
    if (!jpl_iter_valid(it)) {
        rc = jpl_iter_status(it, e);
        if (rc == JPL_OK)
            rc = jpl_fail(e, JPL_ERR_NOT_FOUND, "the ledger has no checkpoint yet");
    } else {
        size_t klen = 0;
        const uint8_t *k = jpl_iter_key(it, &klen);
        if (klen != 8)
            rc = jpl_fail(e, JPL_ERR_CORRUPT, "malformed checkpoint key");
        else
            size = jpl_get_u64be(k);
    }
    jpl_iter_free(it);
    return rc == JPL_OK ? jpl_ledger_checkpoint_at(l, size, note_out, e) : rc;
}

jpl_err jpl_ledger_employee_unit(jpl_ledger *l, const char *nip, char *unit_out, size_t cap,
                                 jpl_error *e)
{
    uint8_t k[1 + JPL_NIP_LEN];
    size_t nlen = strlen(nip);
    if (nlen != JPL_NIP_LEN)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "NIP must have 18 digits");
    k[0] = 'E';
    memcpy(k + 1, nip, JPL_NIP_LEN);
    uint8_t *v = NULL;
    size_t vlen = 0;
    jpl_err rc = read_row(l, JPL_CF_STATE, k, sizeof k, &v, &vlen, e);
    if (rc == JPL_ERR_NOT_FOUND)
        return jpl_fail(e, JPL_ERR_NOT_FOUND, "employee %s is not registered", nip);
    if (rc != JPL_OK)
        return rc;
    size_t ulen = vlen > 3 ? vlen - 3 : 0;
    if (ulen >= cap)
        ulen = cap - 1;
    memcpy(unit_out, v + 3, ulen);
    unit_out[ulen] = '\0';
    free(v);
    return JPL_OK;
}

jpl_err jpl_ledger_key_info(jpl_ledger *l, const uint8_t pk[JPL_ED25519_PK_LEN],
                            jpl_key_info *info_out, jpl_error *e)
{
    uint8_t k[33];
    k[0] = 'K';
    memcpy(k + 1, pk, 32);
    uint8_t *v = NULL;
    size_t vlen = 0;
    jpl_err rc = read_row(l, JPL_CF_STATE, k, sizeof k, &v, &vlen, e);
    if (rc == JPL_ERR_NOT_FOUND)
        return jpl_fail(e, JPL_ERR_UNKNOWN_KEY, "the key is not registered");
    if (rc != JPL_OK)
        return rc;
    if (vlen < 18) {
        free(v);
        return jpl_fail(e, JPL_ERR_CORRUPT, "key record has bad size");
    }
    jpl_key_info info;
    memset(&info, 0, sizeof info);
    info.role = v[0];
    info.revoked = v[1] != 0;
    size_t nlen = vlen - 18 < sizeof info.name - 1 ? vlen - 18 : sizeof info.name - 1;
    memcpy(info.name, v + 18, nlen);
    free(v);
    *info_out = info;
    return JPL_OK;
}

jpl_err jpl_ledger_key_role(jpl_ledger *l, const uint8_t pk[JPL_ED25519_PK_LEN], int *role_out,
                            char *name_out, size_t cap, jpl_error *e)
{
    jpl_key_info info;
    jpl_err rc = jpl_ledger_key_info(l, pk, &info, e);
    if (rc != JPL_OK)
        return rc;
    snprintf(name_out, cap, "%s", info.name);
    if (info.revoked)
        return jpl_fail(e, JPL_ERR_KEY_REVOKED, "the key %s was revoked", info.name);
    *role_out = info.role;
    return JPL_OK;
}

void jpl_ledger_pause(jpl_ledger *l)
{
    pthread_mutex_lock(&l->mu);
    l->paused++;
    while (l->in_group)
        pthread_cond_wait(&l->idle_cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
}

void jpl_ledger_resume(jpl_ledger *l)
{
    pthread_mutex_lock(&l->mu);
    if (l->paused > 0)
        l->paused--;
    l->stale_cache = true; /* whoever paused the writer may have written the store */
    pthread_cond_broadcast(&l->queue_cv);
    pthread_mutex_unlock(&l->mu);
}
