/*
 * The projection engine: generations of column families, the live stage hook, catch-up after
 * open, replay from seq 0 beside the live state, and digests.
 *
 *   p.meta               name -> u64 live generation (written in one synced batch on a switch)
 *   p.<name>.g<N>        the state of projection name, generation N; '#applied' -> u64 entries
 *
 * Live: the stage hook applies each entry to every projection through the writer's batch and
 * sets '#applied' = seq + 1 in the same batch. Replay: builds p.<name>.g<N+1> from the log with
 * in-memory state, flushes it in key order, syncs, then switches p.meta and drops g<N>. Families
 * that p.meta does not name are leftovers of an interrupted replay and are dropped on the next
 * sync or replay.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "jpl/codec.h"
#include "jpl/nip.h"

#define META_CF "p.meta"
#define CATCHUP_CHUNK 1000

const char *const jpl_projection_names[JPL_PROJ_COUNT] = {"balances", "units", "trail"};

static const proj_ops *const OPS[JPL_PROJ_COUNT] = {&jpl_proj_balances_ops, &jpl_proj_units_ops,
                                                    &jpl_proj_trail_ops};

struct jpl_projections {
    jpl_ledger *ledger;
    jpl_store *store;
    int cf[JPL_PROJ_COUNT]; /* the live families; changed only while the writer is paused */
    jpl_commit_hook commit;
    void *commit_ctx;
    pthread_mutex_t replay_mu; /* one online replay at a time */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int proj_index(const char *name)
{
    for (int i = 0; i < JPL_PROJ_COUNT; i++)
        if (strcmp(jpl_projection_names[i], name) == 0)
            return i;
    return -1;
}

static void family_name(char *out, size_t cap, int i, uint64_t gen)
{
    snprintf(out, cap, "p.%s.g%llu", jpl_projection_names[i], (unsigned long long)gen);
}

/* Reads key of family cf: live (snap NULL) or as of snapshot snap. */
static jpl_err get_at(jpl_store *s, const jpl_snapshot *snap, int cf, const void *key, size_t klen,
                      uint8_t **val_out, size_t *vlen_out, jpl_error *e)
{
    return snap != NULL ? jpl_snapshot_get(snap, cf, key, klen, val_out, vlen_out, e)
                        : jpl_store_get(s, cf, key, klen, val_out, vlen_out, e);
}

/* The live generation of projection i (0: none), as of snap (NULL: now). */
static jpl_err generation_at(jpl_store *s, const jpl_snapshot *snap, int meta, int i, uint64_t *gen,
                             jpl_error *e)
{
    uint8_t *v = NULL;
    size_t vlen = 0;
    const char *name = jpl_projection_names[i];
    jpl_err rc = get_at(s, snap, meta, name, strlen(name), &v, &vlen, e);
    *gen = 0;
    if (rc == JPL_ERR_NOT_FOUND)
        return JPL_OK;
    if (rc != JPL_OK)
        return rc;
    if (vlen == 8)
        *gen = jpl_get_u64be(v);
    free(v);
    return vlen == 8 ? JPL_OK : jpl_fail(e, JPL_ERR_CORRUPT, "p.meta %s has bad size", name);
}

static jpl_err live_generation(jpl_store *s, int meta, int i, uint64_t *gen, jpl_error *e)
{
    return generation_at(s, NULL, meta, i, gen, e);
}

/* The number of entries family cf has applied, as of snap (NULL: now). */
static jpl_err applied_at(jpl_store *s, const jpl_snapshot *snap, int cf, uint64_t *out,
                          jpl_error *e)
{
    uint8_t *v = NULL;
    size_t vlen = 0;
    jpl_err rc = get_at(s, snap, cf, PROJ_APPLIED_KEY, strlen(PROJ_APPLIED_KEY), &v, &vlen, e);
    *out = 0;
    if (rc == JPL_ERR_NOT_FOUND)
        return JPL_OK;
    if (rc != JPL_OK)
        return rc;
    if (vlen == 8)
        *out = jpl_get_u64be(v);
    free(v);
    return vlen == 8 ? JPL_OK : jpl_fail(e, JPL_ERR_CORRUPT, "applied seq has bad size");
}

static jpl_err read_applied(jpl_store *s, int cf, uint64_t *out, jpl_error *e)
{
    return applied_at(s, NULL, cf, out, e);
}

static void put_applied(jpl_batch *b, jpl_store *s, int cf, uint64_t applied)
{
    uint8_t v[8];
    jpl_put_u64be(v, applied);
    jpl_batch_put(b, s, cf, PROJ_APPLIED_KEY, strlen(PROJ_APPLIED_KEY), v, 8);
}

jpl_err proj_open_read(jpl_ledger *l, const char *name, pkv *out, jpl_error *e)
{
    jpl_store *s = jpl_ledger_store(l);
    int i = proj_index(name), meta = 0, cf = 0;
    uint64_t gen = 0;
    if (i < 0)
        return jpl_fail(e, JPL_ERR_NOT_FOUND, "no projection called %s", name);
    /* the generation p.meta names in the snapshot is a family the snapshot holds, even if a
     * replay has switched and dropped it since */
    jpl_ledger *at = NULL;
    jpl_err rc = jpl_ledger_snapshot(l, &at, e);
    const jpl_snapshot *snap = rc == JPL_OK ? jpl_ledger_snapshot_of(at) : NULL;
    if (rc == JPL_OK)
        rc = jpl_snapshot_cf(snap, META_CF, &meta, e);
    if (rc == JPL_OK)
        rc = generation_at(s, snap, meta, i, &gen, e);
    if (rc == JPL_OK && gen == 0)
        rc = JPL_ERR_NOT_FOUND;
    char fam[64];
    family_name(fam, sizeof fam, i, gen);
    if (rc == JPL_OK)
        rc = jpl_snapshot_cf(snap, fam, &cf, e);
    if (rc != JPL_OK)
        jpl_ledger_close(at);
    if (rc == JPL_ERR_NOT_FOUND)
        return jpl_fail(e, JPL_ERR_NOT_FOUND,
                        "the %s projection has not been built yet (run 'jpledger replay')", name);
    if (rc != JPL_OK)
        return rc;
    memset(out, 0, sizeof *out);
    out->mode = PKV_READ;
    out->store = s;
    out->cf = cf;
    out->at = at;
    return JPL_OK;
}

jpl_err proj_check_query(const char *nip, uint32_t year, bool allow_zero, jpl_error *e)
{
    if (nip == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "a NIP is required");
    jpl_err rc = jpl_nip_validate(nip, strlen(nip), 0, e);
    if (rc != JPL_OK)
        return rc;
    if (year == 0 && allow_zero)
        return JPL_OK;
    if (year < 2000 || year > 2100)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "year %u is outside 2000..2100", year);
    return JPL_OK;
}

/* ---- decoding log entries ---- */

typedef struct {
    Jpl__LogEntry *entry;
    Jpl__Event *ev;
    jpl_entry_view view;
} decoded;

static void decoded_free(decoded *d)
{
    jpl_codec_event_free(d->ev);
    jpl_codec_entry_free(d->entry);
    memset(d, 0, sizeof *d);
}

/* Decodes the entry stored at seq and its event: into arena a, or with malloc if a is NULL
 * (then free with decoded_free). Anything wrong is corrupt: the log was validated at append. */
static jpl_err decode_entry(jpl_codec_arena *a, uint64_t seq, const uint8_t *bytes, size_t len,
                            decoded *d, jpl_error *e)
{
    memset(d, 0, sizeof *d);
    jpl_err rc = a ? jpl_codec_entry_decode_in(a, bytes, len, &d->entry, e)
                   : jpl_codec_entry_decode(bytes, len, &d->entry, e);
    const ProtobufCBinaryData *evb = rc == JPL_OK ? &d->entry->envelope->event : NULL;
    if (rc == JPL_OK)
        rc = a ? jpl_codec_event_decode_in(a, evb->data, evb->len, &d->ev, e)
               : jpl_codec_event_decode(evb->data, evb->len, &d->ev, e);
    if (rc == JPL_OK && d->entry->seq != seq)
        rc = jpl_fail(e, JPL_ERR_CORRUPT, "entry stored at seq %llu says seq %llu",
                      (unsigned long long)seq, (unsigned long long)d->entry->seq);
    if (rc != JPL_OK) {
        if (a == NULL)
            decoded_free(d);
        jpl_error_prefix(e, "log entry %llu", (unsigned long long)seq);
        return rc == JPL_ERR_INTERNAL ? rc : JPL_ERR_CORRUPT;
    }
    d->view = (jpl_entry_view){.seq = seq,
                               .recorded_at_ms = d->entry->recorded_at_ms,
                               .entry = bytes,
                               .entry_len = len,
                               .leaf_hash = NULL,
                               .env = d->entry->envelope,
                               .ev = d->ev,
                               .nip = ""};
    return JPL_OK;
}

/* ---- live ---- */

jpl_err jpl_projections_stage_hook(void *ctx, jpl_store *store, jpl_batch *batch,
                                   const jpl_entry_view *v, jpl_error *e)
{
    jpl_projections *p = ctx;
    for (int i = 0; i < JPL_PROJ_COUNT; i++) {
        pkv kv = {.mode = PKV_LIVE, .store = store, .cf = p->cf[i], .batch = batch};
        jpl_err rc = OPS[i]->apply(&kv, v, e);
        pkv_release(&kv);
        if (rc != JPL_OK) {
            jpl_error_prefix(e, "projection %s at seq %llu", OPS[i]->name,
                             (unsigned long long)v->seq);
            return rc;
        }
        put_applied(batch, store, p->cf[i], v->seq + 1);
    }
    return JPL_OK;
}

static void commit_forward(void *ctx, uint64_t first_seq, uint64_t end_seq, const char *checkpoint)
{
    jpl_projections *p = ctx;
    if (p->commit != NULL)
        p->commit(p->commit_ctx, first_seq, end_seq, checkpoint);
}

/* Applies entries [from, size) to the projections whose applied seq is behind, in synced
 * chunks that carry the applied seq. */
static jpl_err catch_up(jpl_store *s, const int cf[JPL_PROJ_COUNT],
                        const uint64_t applied[JPL_PROJ_COUNT], uint64_t size, jpl_error *e)
{
    uint64_t from = size;
    for (int i = 0; i < JPL_PROJ_COUNT; i++)
        if (applied[i] < from)
            from = applied[i];
    if (from >= size)
        return JPL_OK;
    jpl_batch *b = jpl_batch_new();
    if (b == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    uint8_t k[8];
    jpl_put_u64be(k, from);
    jpl_iter *it = jpl_store_iter(s, JPL_CF_LOG, k, 8);
    jpl_err rc = JPL_OK;
    uint64_t seq = from;
    for (; rc == JPL_OK && seq < size && jpl_iter_valid(it); jpl_iter_next(it), seq++) {
        size_t klen = 0, vlen = 0;
        const uint8_t *key = jpl_iter_key(it, &klen);
        if (klen != 8 || jpl_get_u64be(key) != seq) {
            rc = jpl_fail(e, JPL_ERR_CORRUPT, "log entry %llu is missing", (unsigned long long)seq);
            break;
        }
        const uint8_t *val = jpl_iter_value(it, &vlen);
        decoded d;
        if ((rc = decode_entry(NULL, seq, val, vlen, &d, e)) != JPL_OK)
            break;
        for (int i = 0; rc == JPL_OK && i < JPL_PROJ_COUNT; i++) {
            if (seq < applied[i])
                continue;
            pkv kv = {.mode = PKV_LIVE, .store = s, .cf = cf[i], .batch = b};
            rc = OPS[i]->apply(&kv, &d.view, e);
            pkv_release(&kv);
            if (rc == JPL_OK)
                put_applied(b, s, cf[i], seq + 1);
        }
        decoded_free(&d);
        if (rc == JPL_OK && ((seq + 1 - from) % CATCHUP_CHUNK == 0 || seq + 1 == size)) {
            rc = jpl_store_write(s, b, true, e);
            jpl_batch_clear(b);
        }
    }
    if (rc == JPL_OK)
        rc = jpl_iter_status(it, e);
    if (rc == JPL_OK && seq < size)
        rc = jpl_fail(e, JPL_ERR_CORRUPT, "log ends at %llu before its size %llu",
                      (unsigned long long)seq, (unsigned long long)size);
    jpl_iter_free(it);
    jpl_batch_free(b);
    return rc;
}

/* Drops projection families that p.meta does not name (an interrupted replay's). */
static jpl_err drop_leftovers(jpl_store *s, int meta, jpl_error *e)
{
    char **names = NULL;
    size_t n = 0;
    jpl_err rc = jpl_store_cf_list(s, "p.", &names, &n, e);
    for (size_t j = 0; rc == JPL_OK && j < n; j++) {
        if (strcmp(names[j], META_CF) == 0)
            continue;
        bool live = false;
        for (int i = 0; rc == JPL_OK && i < JPL_PROJ_COUNT; i++) {
            uint64_t gen = 0;
            rc = live_generation(s, meta, i, &gen, e);
            char fam[64];
            family_name(fam, sizeof fam, i, gen);
            live = live || (gen != 0 && strcmp(fam, names[j]) == 0);
        }
        int cf = 0;
        if (rc == JPL_OK && !live && (rc = jpl_store_cf(s, names[j], false, &cf, e)) == JPL_OK)
            rc = jpl_store_cf_drop(s, cf, e);
    }
    jpl_store_names_free(names, n);
    return rc;
}

static jpl_err sync_all(jpl_ledger *l, int cf_out[JPL_PROJ_COUNT], jpl_error *e)
{
    jpl_store *s = jpl_ledger_store(l);
    int meta = 0;
    /* an empty write fails on a read-only open: projections are kept by the writer only */
    jpl_batch *probe = jpl_batch_new();
    jpl_error pe = {0};
    jpl_err rc = probe ? jpl_store_write(s, probe, false, &pe) : JPL_ERR_INTERNAL;
    jpl_batch_free(probe);
    if (rc != JPL_OK)
        return jpl_fail(e, JPL_ERR_INTERNAL, "projections need a ledger opened for writing");
    rc = jpl_store_cf(s, META_CF, true, &meta, e);
    if (rc == JPL_OK)
        rc = drop_leftovers(s, meta, e);
    if (rc == JPL_OK)
        rc = jpl_store_bulk_clean(s, e);
    /* projections never built: build them by replay (fast path, no per-event reads), all in
     * one pass over the log when none is built */
    bool missing[JPL_PROJ_COUNT];
    int n_missing = 0;
    for (int i = 0; rc == JPL_OK && i < JPL_PROJ_COUNT; i++) {
        uint64_t gen = 0;
        rc = live_generation(s, meta, i, &gen, e);
        missing[i] = gen == 0;
        n_missing += missing[i] ? 1 : 0;
    }
    for (int i = 0; rc == JPL_OK && n_missing > 0 && i < JPL_PROJ_COUNT; i++) {
        if (!missing[i] || (n_missing == JPL_PROJ_COUNT && i > 0))
            continue;
        jpl_replay_opts o = {.only = n_missing == JPL_PROJ_COUNT ? NULL : jpl_projection_names[i]};
        jpl_replay_result res[JPL_PROJ_COUNT];
        size_t n = 0;
        rc = jpl_projections_replay(l, &o, res, &n, e);
    }
    uint64_t applied[JPL_PROJ_COUNT];
    for (int i = 0; rc == JPL_OK && i < JPL_PROJ_COUNT; i++) {
        uint64_t gen = 0;
        char fam[64];
        rc = live_generation(s, meta, i, &gen, e);
        family_name(fam, sizeof fam, i, gen);
        if (rc == JPL_OK)
            rc = jpl_store_cf(s, fam, false, &cf_out[i], e);
        if (rc == JPL_OK)
            rc = read_applied(s, cf_out[i], &applied[i], e);
        if (rc == JPL_OK && applied[i] > jpl_ledger_size(l))
            rc = jpl_fail(e, JPL_ERR_CORRUPT,
                          "the %s projection has applied %llu entries but the log has %llu "
                          "(run 'jpledger replay')",
                          jpl_projection_names[i], (unsigned long long)applied[i],
                          (unsigned long long)jpl_ledger_size(l));
    }
    if (rc == JPL_OK)
        rc = catch_up(s, cf_out, applied, jpl_ledger_size(l), e);
    return rc;
}

jpl_err jpl_projections_sync(jpl_ledger *l, jpl_error *e)
{
    int cf[JPL_PROJ_COUNT];
    return sync_all(l, cf, e);
}

jpl_err jpl_projections_attach(jpl_ledger *l, jpl_commit_hook commit, void *commit_ctx,
                               jpl_projections **out, jpl_error *e)
{
    jpl_projections *p = calloc(1, sizeof *p);
    if (p == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    p->ledger = l;
    p->store = jpl_ledger_store(l);
    p->commit = commit;
    p->commit_ctx = commit_ctx;
    jpl_err rc = sync_all(l, p->cf, e);
    if (rc != JPL_OK) {
        jpl_error_prefix(e, "projections");
        free(p);
        return rc;
    }
    pthread_mutex_init(&p->replay_mu, NULL);
    jpl_ledger_set_hooks(l, jpl_projections_stage_hook, commit_forward, p);
    *out = p;
    return JPL_OK;
}

void jpl_projections_free(jpl_projections *p)
{
    if (p == NULL)
        return;
    pthread_mutex_destroy(&p->replay_mu);
    free(p);
}

jpl_err jpl_projections_replay_attached(jpl_projections *p, const jpl_replay_opts *opts,
                                        jpl_replay_result *results, size_t *n_out, jpl_error *e)
{
    bool check = opts != NULL && opts->check;
    pthread_mutex_lock(&p->replay_mu);
    jpl_ledger_pause(p->ledger);
    jpl_err rc = jpl_projections_replay(p->ledger, opts, results, n_out, e);
    /* a switch dropped the families the stage hook writes to: point it at the live ones before
     * the writer goes on (also after a failure, which may come after the switch) */
    int cf[JPL_PROJ_COUNT];
    jpl_error se = {0};
    jpl_err src = check ? JPL_OK : sync_all(p->ledger, cf, rc == JPL_OK ? e : &se);
    if (!check && src == JPL_OK)
        memcpy(p->cf, cf, sizeof cf);
    if (rc == JPL_OK)
        rc = src;
    jpl_ledger_resume(p->ledger);
    pthread_mutex_unlock(&p->replay_mu);
    return rc;
}

/* ---- digest ---- */

#define DIGEST_CHUNK 65536

/* The digest (docs/PROJECTIONS.md): the records u32 klen || key || u32 vlen || value of the
 * family in key order are cut into chunks of whole records below DIGEST_CHUNK bytes (a longer
 * record is a chunk of its own), and H = SHA-256(H || chunk) from H = 32 zero bytes. */
typedef struct {
    uint8_t h[JPL_SHA256_LEN];
    uint8_t *buf;
    size_t len;
} digester;

static void digest_flush(digester *d)
{
    if (d->len == 0)
        return;
    jpl_bytes parts[2] = {{d->h, sizeof d->h}, {d->buf, d->len}};
    jpl_sha256_parts(d->h, parts, 2);
    d->len = 0;
}

static void digest_record(digester *d, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen)
{
    uint8_t kl[4], vl[4];
    size_t rlen = 8 + klen + vlen;
    jpl_put_u32be(kl, (uint32_t)klen);
    jpl_put_u32be(vl, (uint32_t)vlen);
    if (d->len + rlen >= DIGEST_CHUNK)
        digest_flush(d);
    if (rlen >= DIGEST_CHUNK) {
        jpl_bytes parts[5] = {{d->h, sizeof d->h}, {kl, 4}, {k, klen}, {vl, 4}, {v, vlen}};
        jpl_sha256_parts(d->h, parts, 5);
        return;
    }
    memcpy(d->buf + d->len, kl, 4);
    memcpy(d->buf + d->len + 4, k, klen);
    memcpy(d->buf + d->len + 4 + klen, vl, 4);
    memcpy(d->buf + d->len + 8 + klen, v, vlen);
    d->len += rlen;
}

/* Digests every row of it (taken from the first key; freed here). */
static jpl_err digest_rows(jpl_iter *it, uint8_t out[JPL_SHA256_LEN], jpl_error *e)
{
    digester d = {.buf = malloc(DIGEST_CHUNK)};
    if (d.buf == NULL) {
        jpl_iter_free(it);
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    }
    memset(d.h, 0, sizeof d.h);
    for (; jpl_iter_valid(it); jpl_iter_next(it)) {
        size_t klen = 0, vlen = 0;
        const uint8_t *k = jpl_iter_key(it, &klen);
        const uint8_t *v = jpl_iter_value(it, &vlen);
        digest_record(&d, k, klen, v, vlen);
    }
    digest_flush(&d);
    jpl_err rc = jpl_iter_status(it, e);
    jpl_iter_free(it);
    free(d.buf);
    if (rc == JPL_OK)
        memcpy(out, d.h, sizeof d.h);
    return rc;
}

static jpl_err digest_cf(jpl_store *s, int cf, uint8_t out[JPL_SHA256_LEN], jpl_error *e)
{
    return digest_rows(jpl_store_iter(s, cf, NULL, 0), out, e);
}

jpl_err jpl_projection_digest(jpl_ledger *l, const char *name, uint8_t digest_out[JPL_SHA256_LEN],
                              uint64_t *applied_out, jpl_error *e)
{
    pkv kv;
    jpl_err rc = proj_open_read(l, name, &kv, e);
    if (rc != JPL_OK)
        return rc;
    uint64_t applied = 0;
    uint8_t digest[JPL_SHA256_LEN];
    rc = applied_at(kv.store, jpl_ledger_snapshot_of(kv.at), kv.cf, &applied, e);
    if (rc == JPL_OK)
        rc = digest_rows(pkv_iter(&kv, NULL, 0), digest, e);
    pkv_release(&kv);
    if (rc == JPL_OK) {
        memcpy(digest_out, digest, sizeof digest);
        *applied_out = applied;
    }
    return rc;
}

/* ---- replay ----
 *
 * One thread scans the log and decodes each entry once, into the arena of a chunk; the calling
 * thread takes the chunks in log order and applies every entry to each projection rebuilt; a
 * third thread digests the live generations meanwhile. Then each new state is walked in key
 * order, digested and written into a table file in the same pass, and the file is ingested
 * into the new family (two threads share the projections). */

#define CHUNK_ENTRIES 512
#define FEED_SLOTS 4

typedef struct {
    int idx;
    uint64_t old_gen, new_gen;
    int old_cf, new_cf; /* new_cf -1: a check, nothing is written */
    pkv kv;
    jpl_replay_result res;
    jpl_err rc, live_rc;
    jpl_error err, live_err;
} build;

typedef struct {
    jpl_codec_arena *arena;
    jpl_entry_view v[CHUNK_ENTRIES];
    size_t n;
} chunk;

/* The decoded log, handed from the decoding thread to the applying one in FEED_SLOTS chunks. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    chunk slot[FEED_SLOTS];
    uint64_t produced, consumed; /* chunks */
    bool done;                   /* the producer has stopped; rc says why */
    bool stop;                   /* the consumer failed: stop producing */
    jpl_store *store;
    uint64_t size;
    jpl_err rc;
    jpl_error err;
} feed;

/* Decodes entries into c until it is full, the log has size entries or the iterator ends. */
static jpl_err fill_chunk(jpl_iter *it, uint64_t *seq, uint64_t size, chunk *c, jpl_error *e)
{
    jpl_codec_arena_reset(c->arena);
    c->n = 0;
    for (; c->n < CHUNK_ENTRIES && *seq < size && jpl_iter_valid(it); jpl_iter_next(it)) {
        size_t klen = 0, vlen = 0;
        const uint8_t *key = jpl_iter_key(it, &klen);
        if (klen != 8 || jpl_get_u64be(key) != *seq)
            return jpl_fail(e, JPL_ERR_CORRUPT, "log entry %llu is missing",
                            (unsigned long long)*seq);
        const uint8_t *val = jpl_iter_value(it, &vlen);
        decoded d;
        jpl_err rc = decode_entry(c->arena, *seq, val, vlen, &d, e);
        if (rc != JPL_OK)
            return rc;
        /* the iterator's bytes move on: keep the view's own copy */
        d.view.entry = jpl_codec_arena_copy(c->arena, val, vlen);
        if (d.view.entry == NULL)
            return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
        c->v[c->n++] = d.view;
        (*seq)++;
    }
    return JPL_OK;
}

/* Waits for a free slot; false if the consumer has stopped. */
static bool feed_wait_slot(feed *f)
{
    pthread_mutex_lock(&f->mu);
    while (!f->stop && f->produced - f->consumed == FEED_SLOTS)
        pthread_cond_wait(&f->cv, &f->mu);
    bool go = !f->stop;
    pthread_mutex_unlock(&f->mu);
    return go;
}

static void *produce(void *arg)
{
    feed *f = arg;
    jpl_iter *it = jpl_store_iter(f->store, JPL_CF_LOG, NULL, 0);
    jpl_err rc = it ? JPL_OK : jpl_fail(&f->err, JPL_ERR_INTERNAL, "out of memory");
    uint64_t seq = 0;
    bool stopped = false;
    while (rc == JPL_OK && seq < f->size && jpl_iter_valid(it)) {
        if (!feed_wait_slot(f)) {
            stopped = true;
            break;
        }
        rc = fill_chunk(it, &seq, f->size, &f->slot[f->produced % FEED_SLOTS], &f->err);
        pthread_mutex_lock(&f->mu);
        if (rc == JPL_OK)
            f->produced++;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
    }
    if (rc == JPL_OK && it != NULL)
        rc = jpl_iter_status(it, &f->err);
    if (rc == JPL_OK && !stopped && seq < f->size)
        rc = jpl_fail(&f->err, JPL_ERR_CORRUPT,
                      "log entry %llu is missing: the log ends before its size %llu",
                      (unsigned long long)seq, (unsigned long long)f->size);
    jpl_iter_free(it);
    pthread_mutex_lock(&f->mu);
    f->rc = rc;
    f->done = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

/* The next chunk in log order, or NULL once the producer is done with nothing left. */
static const chunk *feed_next(feed *f)
{
    pthread_mutex_lock(&f->mu);
    while (f->consumed == f->produced && !f->done)
        pthread_cond_wait(&f->cv, &f->mu);
    const chunk *c = f->consumed < f->produced ? &f->slot[f->consumed % FEED_SLOTS] : NULL;
    pthread_mutex_unlock(&f->mu);
    return c;
}

static void feed_release(feed *f)
{
    pthread_mutex_lock(&f->mu);
    f->consumed++;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* Tells the producer to stop (after a failure or at the end). */
static void feed_stop(feed *f)
{
    pthread_mutex_lock(&f->mu);
    f->stop = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static jpl_err apply_chunk(build *b, size_t nb, const chunk *c, jpl_error *e)
{
    for (size_t k = 0; k < c->n; k++) {
        for (size_t j = 0; j < nb; j++) {
            jpl_err rc = OPS[b[j].idx]->apply(&b[j].kv, &c->v[k], e);
            if (rc != JPL_OK) {
                jpl_error_prefix(e, "projection %s at seq %llu", OPS[b[j].idx]->name,
                                 (unsigned long long)c->v[k].seq);
                return rc;
            }
        }
    }
    return JPL_OK;
}

/* Applies the whole log, as the producer decodes it, to every build; reports progress. */
static jpl_err apply_log(feed *f, build *b, size_t nb, const jpl_replay_opts *o, jpl_error *e)
{
    jpl_err rc = JPL_OK;
    uint64_t done = 0;
    double t0 = now_s(), last = t0;
    const chunk *c;
    while (rc == JPL_OK && (c = feed_next(f)) != NULL) {
        rc = apply_chunk(b, nb, c, e);
        done += c->n;
        feed_release(f);
        double t = now_s();
        if (rc == JPL_OK && o->progress != NULL && t - last >= 0.25) {
            o->progress(o->progress_ctx, done, f->size, t - t0);
            last = t;
        }
    }
    if (rc == JPL_OK && o->progress != NULL && done == f->size)
        o->progress(o->progress_ctx, done, f->size, now_s() - t0);
    return rc;
}

static jpl_err feed_init(feed *f, jpl_store *s, uint64_t size, jpl_error *e)
{
    memset(f, 0, sizeof *f);
    f->store = s;
    f->size = size;
    for (int i = 0; i < FEED_SLOTS; i++)
        if ((f->slot[i].arena = jpl_codec_arena_new()) == NULL)
            return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    return JPL_OK;
}

static void feed_destroy(feed *f)
{
    for (int i = 0; i < FEED_SLOTS; i++)
        jpl_codec_arena_free(f->slot[i].arena);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
}

/* Decodes the log in a second thread and applies it, in this one, to every build. */
static jpl_err build_states(jpl_store *s, build *b, size_t nb, const jpl_replay_opts *o,
                            uint64_t size, jpl_error *e)
{
    feed *f = malloc(sizeof *f);
    if (f == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl_err rc = feed_init(f, s, size, e);
    pthread_t th;
    bool started = rc == JPL_OK && pthread_create(&th, NULL, produce, f) == 0;
    if (rc == JPL_OK && !started)
        rc = jpl_fail(e, JPL_ERR_INTERNAL, "cannot start the decoding thread");
    if (rc == JPL_OK)
        rc = apply_log(f, b, nb, o, e);
    if (started) {
        feed_stop(f); /* a producer waiting for a slot after a failure gives up */
        pthread_join(th, NULL);
    }
    if (rc == JPL_OK && f->rc != JPL_OK) {
        rc = f->rc;
        if (e != NULL)
            *e = f->err;
    }
    feed_destroy(f);
    free(f);
    return rc;
}

/* Digests the live generations (a thread of its own: it needs no replay result). */
typedef struct {
    jpl_store *store;
    build *b;
    size_t nb;
} live_job;

static void *digest_live(void *arg)
{
    live_job *j = arg;
    for (size_t i = 0; i < j->nb; i++) {
        build *x = &j->b[i];
        jpl_replay_result *r = &x->res;
        x->live_rc = JPL_OK;
        if (x->old_cf < 0)
            continue;
        x->live_rc = read_applied(j->store, x->old_cf, &r->live_applied, &x->live_err);
        if (x->live_rc == JPL_OK)
            x->live_rc = digest_cf(j->store, x->old_cf, r->live_digest, &x->live_err);
    }
    return NULL;
}

/* Where the walk of a new state goes: the digest, and the table file unless checking. */
typedef struct {
    digester d;
    jpl_sst *sst;
} sink;

static jpl_err sink_row(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
                        jpl_error *e)
{
    sink *sk = ctx;
    digest_record(&sk->d, k, klen, v, vlen);
    return sk->sst != NULL ? jpl_sst_put(sk->sst, k, klen, v, vlen, e) : JPL_OK;
}

/* Writes build x's state (with '#applied' = size) into its new family and digests it; the
 * digest of the rows in key order is the digest of the family (digest_cf). */
static jpl_err finish_one(jpl_store *s, build *x, uint64_t size, jpl_error *e)
{
    uint8_t v[8];
    jpl_put_u64be(v, size);
    jpl_err rc = pkv_put(&x->kv, PROJ_APPLIED_KEY, strlen(PROJ_APPLIED_KEY), v, 8, e);
    sink sk = {.d = {.buf = malloc(DIGEST_CHUNK)}};
    if (rc == JPL_OK && sk.d.buf == NULL)
        rc = jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    if (rc == JPL_OK && x->new_cf >= 0)
        rc = jpl_sst_new(s, x->new_cf, &sk.sst, e);
    if (rc == JPL_OK)
        rc = pkv_replay_walk(&x->kv, sink_row, &sk, e);
    digest_flush(&sk.d);
    memcpy(x->res.digest, sk.d.h, sizeof sk.d.h);
    if (rc == JPL_OK && sk.sst != NULL)
        rc = jpl_sst_ingest(sk.sst, e);
    jpl_sst_free(sk.sst);
    free(sk.d.buf);
    pmap_free(x->kv.map);
    prows_free(x->kv.rows);
    x->kv.map = NULL;
    x->kv.rows = NULL;
    return rc;
}

typedef struct {
    pthread_mutex_t mu;
    jpl_store *store;
    build *b;
    size_t nb, next;
    uint64_t size;
} finish_job;

static void *finish_some(void *arg)
{
    finish_job *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->mu);
        /* from the last (trail, the largest state) so that the two threads end together */
        build *x = j->next < j->nb ? &j->b[j->nb - 1 - j->next++] : NULL;
        pthread_mutex_unlock(&j->mu);
        if (x == NULL)
            return NULL;
        x->rc = finish_one(j->store, x, j->size, &x->err);
    }
}

/* Finishes every build, two at a time. */
static void finish_all(jpl_store *s, build *b, size_t nb, uint64_t size)
{
    finish_job j = {.store = s, .b = b, .nb = nb, .size = size};
    pthread_mutex_init(&j.mu, NULL);
    pthread_t th;
    bool started = nb > 1 && pthread_create(&th, NULL, finish_some, &j) == 0;
    finish_some(&j);
    if (started)
        pthread_join(th, NULL);
    pthread_mutex_destroy(&j.mu);
}

static jpl_err run_replay(jpl_store *s, build *b, size_t nb, const jpl_replay_opts *o,
                          uint64_t size, jpl_error *e)
{
    jpl_err rc = JPL_OK;
    for (size_t j = 0; rc == JPL_OK && j < nb; j++) {
        /* each projection keeps about one readable key per log entry */
        b[j].kv = (pkv){.mode = PKV_REPLAY, .store = s, .map = pmap_new(size), .rows = prows_new()};
        if (b[j].kv.map == NULL || b[j].kv.rows == NULL)
            rc = jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    }
    live_job lj = {.store = s, .b = b, .nb = nb};
    pthread_t th;
    bool started = rc == JPL_OK && pthread_create(&th, NULL, digest_live, &lj) == 0;
    if (rc == JPL_OK)
        rc = build_states(s, b, nb, o, size, e);
    if (rc == JPL_OK)
        finish_all(s, b, nb, size);
    if (started)
        pthread_join(th, NULL);
    else if (rc == JPL_OK)
        digest_live(&lj); /* no thread: digest here */
    for (size_t j = 0; j < nb; j++) {
        pmap_free(b[j].kv.map);
        prows_free(b[j].kv.rows);
        b[j].kv.map = NULL;
        b[j].kv.rows = NULL;
    }
    for (size_t j = 0; rc == JPL_OK && j < nb; j++) {
        jpl_err brc = b[j].rc != JPL_OK ? b[j].rc : b[j].live_rc;
        if (brc != JPL_OK && e != NULL)
            *e = b[j].rc != JPL_OK ? b[j].err : b[j].live_err;
        rc = brc;
    }
    for (size_t j = 0; rc == JPL_OK && j < nb; j++) {
        jpl_replay_result *r = &b[j].res;
        snprintf(r->name, sizeof r->name, "%s", jpl_projection_names[b[j].idx]);
        r->applied = size;
        r->generation = b[j].new_gen;
        r->had_live = b[j].old_cf >= 0;
        r->match = r->had_live && r->live_applied == r->applied &&
                   memcmp(r->digest, r->live_digest, JPL_SHA256_LEN) == 0;
    }
    return rc;
}

/* Sets up build x for projection i: its live family if any, and (unless checking) a new one. */
static jpl_err prepare_build(jpl_store *s, int meta, int i, bool check, build *x, jpl_error *e)
{
    char fam[64];
    x->idx = i;
    x->old_cf = -1;
    x->new_cf = -1;
    jpl_err rc = live_generation(s, meta, i, &x->old_gen, e);
    if (rc == JPL_OK && x->old_gen != 0) {
        family_name(fam, sizeof fam, i, x->old_gen);
        rc = jpl_store_cf(s, fam, false, &x->old_cf, e);
    }
    x->new_gen = x->old_gen + 1;
    family_name(fam, sizeof fam, i, x->new_gen);
    if (rc == JPL_OK && !check)
        rc = jpl_store_cf(s, fam, true, &x->new_cf, e);
    return rc;
}

/* Points p.meta at every new generation in one synced write (the switch). */
static jpl_err switch_live(jpl_store *s, int meta, const build *b, size_t nb, jpl_error *e)
{
    jpl_batch *sb = jpl_batch_new();
    if (sb == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    for (size_t j = 0; j < nb; j++) {
        uint8_t v[8];
        const char *name = jpl_projection_names[b[j].idx];
        jpl_put_u64be(v, b[j].new_gen);
        jpl_batch_put(sb, s, meta, name, strlen(name), v, 8);
    }
    jpl_err rc = jpl_store_write(s, sb, true, e);
    jpl_batch_free(sb);
    return rc;
}

jpl_err jpl_projections_replay(jpl_ledger *l, const jpl_replay_opts *opts,
                               jpl_replay_result *results, size_t *n_out, jpl_error *e)
{
    jpl_replay_opts o = opts ? *opts : (jpl_replay_opts){0};
    jpl_store *s = jpl_ledger_store(l);
    if (o.only != NULL && proj_index(o.only) < 0)
        return jpl_fail(e, JPL_ERR_NOT_FOUND, "no projection called '%s' (balances, units, trail)",
                        o.only);
    build *b = calloc(JPL_PROJ_COUNT, sizeof *b);
    size_t nb = 0;
    if (b == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    int meta = 0;
    jpl_err rc = jpl_store_cf(s, META_CF, true, &meta, e);
    if (rc == JPL_OK)
        rc = drop_leftovers(s, meta, e);
    if (rc == JPL_OK)
        rc = jpl_store_bulk_clean(s, e);
    uint64_t size = jpl_ledger_size(l);
    for (int i = 0; rc == JPL_OK && i < JPL_PROJ_COUNT; i++)
        if (o.only == NULL || strcmp(o.only, jpl_projection_names[i]) == 0)
            rc = prepare_build(s, meta, i, o.check, &b[nb++], e);
    if (rc == JPL_OK)
        rc = run_replay(s, b, nb, &o, size, e);
    for (size_t j = 0; rc == JPL_OK && j < nb; j++)
        results[j] = b[j].res;
    if (rc == JPL_OK && !o.check)
        rc = switch_live(s, meta, b, nb, e);
    /* drop what is no longer live: the old generation after a switch, the new one after a
     * failure (a check builds none) */
    for (size_t j = 0; j < nb; j++) {
        int cf = rc != JPL_OK ? b[j].new_cf : b[j].old_cf;
        jpl_error de = {0};
        if (o.check && rc == JPL_OK)
            continue;
        if (cf >= JPL_CF__CORE_COUNT && jpl_store_cf_drop(s, cf, &de) != JPL_OK && rc == JPL_OK)
            rc = jpl_fail(e, de.code, "%s", de.msg);
    }
    free(b);
    if (rc == JPL_OK)
        *n_out = nb;
    return rc;
}

jpl_err jpl_projection_applied(jpl_ledger *l, const char *name, uint64_t *applied_out, jpl_error *e)
{
    pkv kv;
    jpl_err rc = proj_open_read(l, name, &kv, e);
    if (rc != JPL_OK)
        return rc;
    uint64_t applied = 0;
    rc = applied_at(kv.store, jpl_ledger_snapshot_of(kv.at), kv.cf, &applied, e);
    pkv_release(&kv);
    if (rc == JPL_OK)
        *applied_out = applied;
    return rc;
}
