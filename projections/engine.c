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
#define PROGRESS_EVERY 4096

const char *const jpl_projection_names[JPL_PROJ_COUNT] = {"balances", "units", "trail"};

static const proj_ops *const OPS[JPL_PROJ_COUNT] = {&jpl_proj_balances_ops, &jpl_proj_units_ops,
                                                    &jpl_proj_trail_ops};

struct jpl_projections {
    jpl_ledger *ledger;
    jpl_store *store;
    int cf[JPL_PROJ_COUNT];
    jpl_commit_hook commit;
    void *commit_ctx;
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

/* The live generation of projection i (0: none). */
static jpl_err live_generation(jpl_store *s, int meta, int i, uint64_t *gen, jpl_error *e)
{
    uint8_t *v = NULL;
    size_t vlen = 0;
    const char *name = jpl_projection_names[i];
    jpl_err rc = jpl_store_get(s, meta, name, strlen(name), &v, &vlen, e);
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

static jpl_err read_applied(jpl_store *s, int cf, uint64_t *out, jpl_error *e)
{
    uint8_t *v = NULL;
    size_t vlen = 0;
    jpl_err rc = jpl_store_get(s, cf, PROJ_APPLIED_KEY, strlen(PROJ_APPLIED_KEY), &v, &vlen, e);
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
    jpl_err rc = jpl_store_cf(s, META_CF, false, &meta, e);
    if (rc == JPL_OK)
        rc = live_generation(s, meta, i, &gen, e);
    if (rc == JPL_OK && gen == 0)
        rc = JPL_ERR_NOT_FOUND;
    char fam[64];
    family_name(fam, sizeof fam, i, gen);
    if (rc == JPL_OK)
        rc = jpl_store_cf(s, fam, false, &cf, e);
    if (rc == JPL_ERR_NOT_FOUND)
        return jpl_fail(e, JPL_ERR_NOT_FOUND,
                        "the %s projection has not been built yet (run 'jpledger replay')", name);
    if (rc != JPL_OK)
        return rc;
    memset(out, 0, sizeof *out);
    out->mode = PKV_READ;
    out->store = s;
    out->cf = cf;
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

static jpl_err decode_entry(uint64_t seq, const uint8_t *bytes, size_t len, decoded *d,
                            jpl_error *e)
{
    memset(d, 0, sizeof *d);
    jpl_err rc = jpl_codec_entry_decode(bytes, len, &d->entry, e);
    if (rc == JPL_OK)
        rc = jpl_codec_event_decode(d->entry->envelope->event.data, d->entry->envelope->event.len,
                                    &d->ev, e);
    if (rc == JPL_OK && d->entry->seq != seq)
        rc = jpl_fail(e, JPL_ERR_CORRUPT, "entry stored at seq %llu says seq %llu",
                      (unsigned long long)seq, (unsigned long long)d->entry->seq);
    if (rc != JPL_OK) {
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
        if ((rc = decode_entry(seq, val, vlen, &d, e)) != JPL_OK)
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
    /* projections never built: build them by replay (fast path, no per-event reads) */
    for (int i = 0; rc == JPL_OK && i < JPL_PROJ_COUNT; i++) {
        uint64_t gen = 0;
        rc = live_generation(s, meta, i, &gen, e);
        if (rc == JPL_OK && gen == 0) {
            jpl_replay_opts o = {.only = jpl_projection_names[i]};
            jpl_replay_result res[JPL_PROJ_COUNT];
            size_t n = 0;
            rc = jpl_projections_replay(l, &o, res, &n, e);
        }
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
    jpl_ledger_set_hooks(l, jpl_projections_stage_hook, commit_forward, p);
    *out = p;
    return JPL_OK;
}

void jpl_projections_free(jpl_projections *p)
{
    free(p);
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

static jpl_err digest_cf(jpl_store *s, int cf, uint8_t out[JPL_SHA256_LEN], jpl_error *e)
{
    digester d = {.buf = malloc(DIGEST_CHUNK)};
    if (d.buf == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    memset(d.h, 0, sizeof d.h);
    jpl_iter *it = jpl_store_iter(s, cf, NULL, 0);
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

jpl_err jpl_projection_digest(jpl_ledger *l, const char *name, uint8_t digest_out[JPL_SHA256_LEN],
                              uint64_t *applied_out, jpl_error *e)
{
    pkv kv;
    jpl_err rc = proj_open_read(l, name, &kv, e);
    if (rc == JPL_OK)
        rc = read_applied(kv.store, kv.cf, applied_out, e);
    if (rc == JPL_OK)
        rc = digest_cf(kv.store, kv.cf, digest_out, e);
    return rc;
}

/* ---- replay ---- */

typedef struct {
    int idx;
    uint64_t old_gen, new_gen;
    int old_cf, new_cf;
    pkv kv;
    /* inputs and outputs of the build thread */
    jpl_store *store;
    uint64_t size;
    const jpl_replay_opts *opts; /* progress is reported by the first build only */
    jpl_replay_result res;
    jpl_err rc;
    jpl_error err;
} build;

/* Builds one projection's new generation from the whole log, then digests it and the live
 * generation. Each projection is independent, so each build runs in its own thread with its own
 * log iterator (replay uses every core). */
static void *build_one(void *arg)
{
    build *x = arg;
    jpl_store *s = x->store;
    jpl_error *e = &x->err;
    const jpl_replay_opts *o = x->opts;
    jpl_err rc = JPL_OK;
    x->kv.map = pmap_new();
    x->kv.plain = jpl_plain_batch_new();
    if (x->kv.map == NULL || x->kv.plain == NULL)
        rc = jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl_iter *it = rc == JPL_OK ? jpl_store_iter(s, JPL_CF_LOG, NULL, 0) : NULL;
    uint64_t seq = 0;
    double t0 = now_s(), last = t0;
    for (; rc == JPL_OK && seq < x->size && jpl_iter_valid(it); jpl_iter_next(it), seq++) {
        size_t klen = 0, vlen = 0;
        const uint8_t *key = jpl_iter_key(it, &klen);
        if (klen != 8 || jpl_get_u64be(key) != seq) {
            rc = jpl_fail(e, JPL_ERR_CORRUPT, "log entry %llu is missing", (unsigned long long)seq);
            break;
        }
        const uint8_t *val = jpl_iter_value(it, &vlen);
        decoded d;
        if ((rc = decode_entry(seq, val, vlen, &d, e)) != JPL_OK)
            break;
        rc = OPS[x->idx]->apply(&x->kv, &d.view, e);
        if (rc != JPL_OK)
            jpl_error_prefix(e, "projection %s at seq %llu", OPS[x->idx]->name,
                             (unsigned long long)seq);
        decoded_free(&d);
        if (o != NULL && o->progress != NULL && (seq + 1) % PROGRESS_EVERY == 0) {
            double t = now_s();
            if (t - last >= 0.25) {
                o->progress(o->progress_ctx, seq + 1, x->size, t - t0);
                last = t;
            }
        }
    }
    if (rc == JPL_OK && it != NULL)
        rc = jpl_iter_status(it, e);
    if (rc == JPL_OK && seq < x->size)
        rc = jpl_fail(e, JPL_ERR_CORRUPT, "log ends at %llu before its size %llu",
                      (unsigned long long)seq, (unsigned long long)x->size);
    jpl_iter_free(it);
    if (rc == JPL_OK && o != NULL && o->progress != NULL)
        o->progress(o->progress_ctx, seq, x->size, now_s() - t0);
    if (rc == JPL_OK) {
        uint8_t v[8];
        jpl_put_u64be(v, x->size);
        jpl_plain_batch_put(x->kv.plain, s, x->new_cf, PROJ_APPLIED_KEY, strlen(PROJ_APPLIED_KEY),
                            v, 8);
        rc = jpl_store_write_plain(s, x->kv.plain, false, e);
    }
    if (rc == JPL_OK)
        rc = pmap_flush_sorted(x->kv.map, s, x->new_cf, e);
    pmap_free(x->kv.map);
    jpl_plain_batch_free(x->kv.plain);
    x->kv.map = NULL;
    x->kv.plain = NULL;
    jpl_replay_result *r = &x->res;
    snprintf(r->name, sizeof r->name, "%s", jpl_projection_names[x->idx]);
    r->applied = x->size;
    r->generation = x->new_gen;
    r->had_live = x->old_cf >= 0;
    if (rc == JPL_OK)
        rc = digest_cf(s, x->new_cf, r->digest, e);
    if (rc == JPL_OK && r->had_live)
        rc = read_applied(s, x->old_cf, &r->live_applied, e);
    if (rc == JPL_OK && r->had_live)
        rc = digest_cf(s, x->old_cf, r->live_digest, e);
    r->match = r->had_live && r->live_applied == r->applied &&
               memcmp(r->digest, r->live_digest, JPL_SHA256_LEN) == 0;
    x->rc = rc;
    return NULL;
}

static jpl_err build_all(jpl_store *s, build *b, size_t nb, const jpl_replay_opts *o, uint64_t size,
                         jpl_error *e)
{
    pthread_t th[JPL_PROJ_COUNT];
    bool started[JPL_PROJ_COUNT] = {false};
    for (size_t j = 0; j < nb; j++) {
        b[j].store = s;
        b[j].size = size;
        b[j].opts = j == 0 ? o : NULL;
        b[j].rc = JPL_OK;
    }
    for (size_t j = 1; j < nb; j++)
        started[j] = pthread_create(&th[j], NULL, build_one, &b[j]) == 0;
    build_one(&b[0]);
    for (size_t j = 1; j < nb; j++) {
        if (started[j])
            pthread_join(th[j], NULL);
        else
            build_one(&b[j]); /* no thread: build here */
    }
    for (size_t j = 0; j < nb; j++) {
        if (b[j].rc != JPL_OK) {
            if (e != NULL)
                *e = b[j].err;
            return b[j].rc;
        }
    }
    /* a synced write makes everything written before it durable (one WAL) */
    jpl_batch *sb = jpl_batch_new();
    if (sb == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    put_applied(sb, s, b[0].new_cf, size);
    jpl_err rc = jpl_store_write(s, sb, true, e);
    jpl_batch_free(sb);
    return rc;
}

jpl_err jpl_projections_replay(jpl_ledger *l, const jpl_replay_opts *opts,
                               jpl_replay_result *results, size_t *n_out, jpl_error *e)
{
    jpl_replay_opts o = opts ? *opts : (jpl_replay_opts){0};
    jpl_store *s = jpl_ledger_store(l);
    build *b = calloc(JPL_PROJ_COUNT, sizeof *b);
    size_t nb = 0;
    if (b == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    if (o.only != NULL && proj_index(o.only) < 0) {
        free(b);
        return jpl_fail(e, JPL_ERR_NOT_FOUND, "no projection called '%s' (balances, units, trail)",
                        o.only);
    }
    int meta = 0;
    jpl_err rc = jpl_store_cf(s, META_CF, true, &meta, e);
    if (rc == JPL_OK)
        rc = drop_leftovers(s, meta, e);
    uint64_t size = jpl_ledger_size(l);
    for (int i = 0; rc == JPL_OK && i < JPL_PROJ_COUNT; i++) {
        if (o.only != NULL && strcmp(o.only, jpl_projection_names[i]) != 0)
            continue;
        build *x = &b[nb++];
        x->idx = i;
        x->old_cf = -1;
        rc = live_generation(s, meta, i, &x->old_gen, e);
        char fam[64];
        if (rc == JPL_OK && x->old_gen != 0) {
            family_name(fam, sizeof fam, i, x->old_gen);
            rc = jpl_store_cf(s, fam, false, &x->old_cf, e);
        }
        x->new_gen = x->old_gen + 1;
        family_name(fam, sizeof fam, i, x->new_gen);
        if (rc == JPL_OK)
            rc = jpl_store_cf(s, fam, true, &x->new_cf, e);
        x->kv = (pkv){.mode = PKV_REPLAY, .store = s, .cf = x->new_cf};
    }
    if (rc == JPL_OK)
        rc = build_all(s, b, nb, &o, size, e);
    for (size_t j = 0; rc == JPL_OK && j < nb; j++)
        results[j] = b[j].res;
    if (rc == JPL_OK && !o.check) {
        /* the switch: one synced write of every pointer */
        jpl_batch *sb = jpl_batch_new();
        if (sb == NULL)
            rc = jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
        for (size_t j = 0; sb != NULL && j < nb; j++) {
            uint8_t v[8];
            const char *name = jpl_projection_names[b[j].idx];
            jpl_put_u64be(v, b[j].new_gen);
            jpl_batch_put(sb, s, meta, name, strlen(name), v, 8);
        }
        if (sb != NULL)
            rc = jpl_store_write(s, sb, true, e);
        jpl_batch_free(sb);
    }
    /* drop what is no longer live: the old generation after a switch, the new one after a
     * check or a failure */
    for (size_t j = 0; j < nb; j++) {
        bool drop_new = rc != JPL_OK || o.check;
        int cf = drop_new ? b[j].new_cf : b[j].old_cf;
        jpl_error de = {0};
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
    if (rc == JPL_OK)
        rc = read_applied(kv.store, kv.cf, applied_out, e);
    return rc;
}
