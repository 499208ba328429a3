/*
 * Full verification of a ledger (jpl_ledger_verify): the entry checks of check.h over the
 * RocksDB log, plus what only the store has: the id index points back at every entry, every
 * stored Merkle node equals the recomputed tree, every checkpoint (signature, origin, root of
 * its size), nothing beyond the log, every block checksum.
 */
#include "jpl/thread.h"
#include "jpl/verify.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "jpl/codec.h"
#include "jpl/merkle.h"

#define JPL_MERKLE_MAX_LEVELS JPL_MERKLE_MAX_PATH

struct jpl_verifier {
    jpl_check ck;
    uint64_t last_cp_size; /* size of the last checkpoint checked */
    jpl_ledger *l;
    jpl_store *s;
    jpl_iter *log_it;                          /* the log from ck.seq on */
    jpl_iter *cp_it;                           /* checkpoints, in size order */
    jpl_iter *node_it[JPL_MERKLE_MAX_LEVELS];  /* stored nodes of each level, in index order */
    uint64_t node_next[JPL_MERKLE_MAX_LEVELS]; /* index of each level's next node */
    jpl_ledger *at;                            /* the ledger the iterators belong to */
    double seconds;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The type of an earlier event, through the id index. */
static jpl_err store_target_type(void *ctx, const uint8_t *id, int *bc_out, jpl_error *e)
{
    jpl_verifier *vf = ctx;
    uint8_t *sv = NULL, *ev = NULL;
    size_t slen = 0, elen = 0;
    jpl_err rc = jpl_store_get(vf->s, JPL_CF_IDS, id, 16, &sv, &slen, e);
    if (rc != JPL_OK || slen != 8) {
        free(sv);
        return jpl_check_fail(&vf->ck, JPL_ERR_CORRUPT,
                              "revocation of an event missing from the id index", e);
    }
    uint8_t k[8];
    memcpy(k, sv, 8);
    free(sv);
    if (jpl_get_u64be(k) >= vf->ck.seq)
        return jpl_check_fail(&vf->ck, JPL_ERR_CORRUPT, "revocation of a later event", e);
    rc = jpl_store_get(vf->s, JPL_CF_LOG, k, 8, &ev, &elen, e);
    Jpl__LogEntry *entry = NULL;
    Jpl__Event *target = NULL;
    if (rc == JPL_OK)
        rc = jpl_codec_entry_decode(ev, elen, &entry, e);
    if (rc == JPL_OK)
        rc = jpl_codec_event_decode(entry->envelope->event.data, entry->envelope->event.len,
                                    &target, e);
    free(ev);
    if (rc == JPL_OK)
        *bc_out = (int)target->body_case;
    jpl_codec_event_free(target);
    jpl_codec_entry_free(entry);
    if (rc != JPL_OK)
        return jpl_check_fail(&vf->ck, JPL_ERR_CORRUPT, "the revoked event does not decode", e);
    return JPL_OK;
}

static jpl_err check_id_index(void *ctx, const Jpl__Event *ev, jpl_error *e)
{
    jpl_verifier *vf = ctx;
    uint8_t *val = NULL;
    size_t vlen = 0;
    jpl_err rc = jpl_store_get(vf->s, JPL_CF_IDS, ev->event_id.data, 16, &val, &vlen, e);
    bool ok = rc == JPL_OK && vlen == 8 && jpl_get_u64be(val) == vf->ck.seq;
    free(val);
    if (!ok)
        return jpl_check_fail(&vf->ck, JPL_ERR_CORRUPT, "the id index does not point at this entry",
                              e);
    return JPL_OK;
}

static void node_key(uint8_t k[9], uint32_t level, uint64_t index)
{
    k[0] = (uint8_t)level;
    jpl_put_u64be(k + 1, index);
}

/* Emitted nodes of the recomputed tree must equal the stored ones. The tree emits each level's
 * nodes in index order, so each level is read by one forward iterator: the whole family is read
 * once, in order. */
static jpl_err compare_node(void *ctx, uint32_t level, uint64_t index, const uint8_t hash[32],
                            jpl_error *e)
{
    jpl_verifier *vf = ctx;
    uint8_t k[9];
    node_key(k, level, index);
    if (level >= JPL_MERKLE_MAX_LEVELS)
        return jpl_check_fail(&vf->ck, JPL_ERR_CORRUPT, "the tree is deeper than any log can be",
                              e);
    if (vf->node_it[level] == NULL &&
        (vf->node_it[level] = jpl_store_iter(vf->s, JPL_CF_TREE, k, 9)) == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl_iter *it = vf->node_it[level];
    size_t klen = 0, vlen = 0;
    bool ok = jpl_iter_valid(it);
    if (ok) {
        const uint8_t *sk = jpl_iter_key(it, &klen);
        const uint8_t *sv = jpl_iter_value(it, &vlen);
        ok = klen == 9 && memcmp(sk, k, 9) == 0 && vlen == 32 && memcmp(sv, hash, 32) == 0;
        jpl_iter_next(it);
        vf->node_next[level] = index + 1;
    }
    if (!ok) {
        jpl_err rc = jpl_iter_status(it, e);
        return rc != JPL_OK
                   ? rc
                   : jpl_check_fail(&vf->ck, JPL_ERR_CORRUPT,
                                    "a stored Merkle node differs from the recomputed tree", e);
    }
    return JPL_OK;
}

/* After the last entry: no level holds a node the recomputed tree does not have. */
static jpl_err check_no_extra_nodes(jpl_verifier *vf, jpl_error *e)
{
    for (uint32_t level = 0; level < JPL_MERKLE_MAX_LEVELS; level++) {
        jpl_iter *it = vf->node_it[level];
        if (it == NULL) {
            uint8_t k[9];
            node_key(k, level, vf->node_next[level]);
            it = vf->node_it[level] = jpl_store_iter(vf->s, JPL_CF_TREE, k, 9);
            if (it == NULL)
                return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
        }
        size_t klen = 0;
        if (jpl_iter_valid(it) && jpl_iter_key(it, &klen)[0] == level)
            return jpl_fail(e, JPL_ERR_CORRUPT,
                            "the tree family holds a node at level %u beyond the log", level);
        jpl_err rc = jpl_iter_status(it, e);
        if (rc != JPL_OK)
            return rc;
    }
    return JPL_OK;
}

/* Checks every checkpoint whose size equals the tree size reached so far. */
static jpl_err check_checkpoints(void *ctx, jpl_error *e)
{
    jpl_verifier *vf = ctx;
    while (jpl_iter_valid(vf->cp_it)) {
        size_t klen = 0, nlen = 0;
        const uint8_t *k = jpl_iter_key(vf->cp_it, &klen);
        if (klen != 8)
            return jpl_check_fail(&vf->ck, JPL_ERR_CORRUPT, "malformed checkpoint key", e);
        uint64_t size = jpl_get_u64be(k);
        if (size > vf->ck.front.size)
            return JPL_OK;
        if (size < vf->ck.front.size)
            return jpl_check_fail(&vf->ck, JPL_ERR_CORRUPT, "checkpoint out of order", e);
        const char *note = (const char *)jpl_iter_value(vf->cp_it, &nlen);
        jpl_err rc = jpl_check_checkpoint(&vf->ck, note, nlen, jpl_ledger_origin(vf->l), e);
        if (rc != JPL_OK)
            return rc;
        vf->last_cp_size = size;
        jpl_iter_next(vf->cp_it);
    }
    return jpl_iter_status(vf->cp_it, e);
}

/* Reads entries [seq, seq + max) of the log, or fewer up to to. */
static jpl_err store_read(void *ctx, uint64_t seq, uint64_t to, jpl_check_raw *raw, size_t max,
                          size_t *n_out, jpl_error *e)
{
    jpl_verifier *vf = ctx;
    jpl_iter *it = vf->log_it;
    size_t n = 0;
    *n_out = 0; /* counts what is read, for freeing, even when reading fails */
    while (n < max && seq < to) {
        if (!jpl_iter_valid(it)) {
            jpl_err rc = jpl_iter_status(it, e);
            return rc != JPL_OK ? rc
                                : jpl_fail(e, JPL_ERR_CORRUPT, "seq %llu: entry is missing",
                                           (unsigned long long)seq);
        }
        size_t klen = 0, vlen = 0;
        const uint8_t *k = jpl_iter_key(it, &klen);
        if (klen != 8 || jpl_get_u64be(k) != seq)
            return jpl_fail(e, JPL_ERR_CORRUPT, "seq %llu: entry is missing (gap in the log)",
                            (unsigned long long)seq);
        const uint8_t *val = jpl_iter_value(it, &vlen);
        raw[n].bytes = malloc(vlen ? vlen : 1);
        if (raw[n].bytes == NULL)
            return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
        memcpy(raw[n].bytes, val, vlen);
        raw[n].len = vlen;
        *n_out = ++n;
        seq++;
        jpl_iter_next(it);
    }
    return JPL_OK;
}

static const jpl_check_ops STORE_OPS = {
    .read = store_read,
    .target_type = store_target_type,
    .entry_done = check_id_index,
    .node = compare_node,
    .grown = check_checkpoints,
};

jpl_err jpl_verifier_new(const jpl_note_verifier *log_key, int threads, jpl_verify_report *rep,
                         jpl_verifier **out, jpl_error *e)
{
    jpl_verifier *vf = calloc(1, sizeof *vf);
    if (vf == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl_err rc = jpl_check_init(&vf->ck, &STORE_OPS, vf, log_key, threads, rep, e);
    if (rc != JPL_OK) {
        free(vf);
        return rc;
    }
    *out = vf;
    return JPL_OK;
}

static void drop_iterators(jpl_verifier *vf)
{
    jpl_iter_free(vf->log_it);
    jpl_iter_free(vf->cp_it);
    vf->log_it = vf->cp_it = NULL;
    for (int i = 0; i < JPL_MERKLE_MAX_LEVELS; i++) {
        jpl_iter_free(vf->node_it[i]);
        vf->node_it[i] = NULL; /* compare_node seeks again at the next node */
    }
    vf->at = NULL;
}

void jpl_verifier_free(jpl_verifier *vf)
{
    if (vf == NULL)
        return;
    drop_iterators(vf);
    jpl_check_free(&vf->ck);
    free(vf);
}

uint64_t jpl_verifier_checked(const jpl_verifier *vf)
{
    return vf->ck.seq;
}

/* Iterators over l's store positioned where the verification stands (fresh ones each advance:
 * an iterator sees the store as of its creation). */
static jpl_err open_iterators(jpl_verifier *vf, jpl_ledger *l, jpl_error *e)
{
    drop_iterators(vf);
    vf->l = l;
    vf->s = jpl_ledger_store(l);
    uint8_t k[8];
    jpl_put_u64be(k, vf->ck.seq);
    vf->log_it = jpl_store_iter(vf->s, JPL_CF_LOG, k, 8);
    jpl_put_u64be(k, vf->ck.rep->checkpoints ? vf->last_cp_size + 1 : 0);
    vf->cp_it = jpl_store_iter(vf->s, JPL_CF_CHECKPOINTS, k, 8);
    if (vf->log_it == NULL || vf->cp_it == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    vf->at = l;
    return JPL_OK;
}

/* Checks up to to; keeps the iterators for finish, else lets go of them so that l may be closed
 * before the next step. */
static jpl_err advance(jpl_verifier *vf, jpl_ledger *l, uint64_t to, bool keep,
                       jpl_verify_progress_fn progress, void *pctx, jpl_error *e)
{
    double t0 = now_s();
    jpl_verify_report *rep = vf->ck.rep;
    jpl_err rc = JPL_OK;
    if (!rep->ok)
        rc = jpl_fail(e, JPL_ERR_INTERNAL, "the verification has already failed");
    else if (to > jpl_ledger_size(l))
        rc = jpl_fail(e, JPL_ERR_INTERNAL, "cannot verify up to %llu: the log has %llu entries",
                      (unsigned long long)to, (unsigned long long)jpl_ledger_size(l));
    if (rc == JPL_OK && to > vf->ck.seq) {
        rc = open_iterators(vf, l, e);
        if (rc == JPL_OK)
            rc = jpl_check_entries(&vf->ck, to, progress, pctx, e);
    }
    if (rc != JPL_OK)
        rep->ok = false;
    if (!keep)
        drop_iterators(vf);
    vf->seconds += now_s() - t0;
    rep->seconds = vf->seconds;
    return rc;
}

jpl_err jpl_verifier_advance(jpl_verifier *vf, jpl_ledger *l, uint64_t to,
                             jpl_verify_progress_fn progress, void *pctx, jpl_error *e)
{
    return advance(vf, l, to, false, progress, pctx, e);
}

typedef struct {
    jpl_store *s;
    pthread_t tid;
    jpl_err rc;
    jpl_error err;
} block_check;

static void *check_blocks(void *arg)
{
    block_check *bc = arg;
    jpl_thread_name("jpl-verify-blk");
    bc->rc = jpl_store_check_all(
        bc->s, 1u << JPL_CF_LOG | 1u << JPL_CF_CHECKPOINTS | 1u << JPL_CF_TREE, &bc->err);
    return NULL;
}

jpl_err jpl_verifier_finish(jpl_verifier *vf, jpl_ledger *l, jpl_verify_progress_fn progress,
                            void *pctx, jpl_error *e)
{
    jpl_verify_report *rep = vf->ck.rep;
    uint64_t size = jpl_ledger_size(l);
    rep->size = size;
    double t0 = now_s();
    jpl_err rc = JPL_OK;
    if (size == 0)
        rc = jpl_fail(e, JPL_ERR_CORRUPT, "the log is empty (entry 0 is missing)");
    if (rc == JPL_OK && vf->ck.seq > size)
        rc = jpl_fail(e, JPL_ERR_CORRUPT, "the log has %llu entries, fewer than the %llu verified",
                      (unsigned long long)size, (unsigned long long)vf->ck.seq);
    /* the block checksums of the other families are read beside the entry checks (the log,
     * checkpoints and tree are read in full by those) */
    block_check bc = {.s = jpl_ledger_store(l)};
    bool bc_started = rc == JPL_OK && pthread_create(&bc.tid, NULL, check_blocks, &bc) == 0;
    if (rc == JPL_OK && !bc_started)
        check_blocks(&bc);
    vf->seconds += now_s() - t0;
    if (rc == JPL_OK)
        rc = advance(vf, l, size, true, progress, pctx, e);
    t0 = now_s();
    if (bc_started)
        pthread_join(bc.tid, NULL);
    if (rc == JPL_OK && bc.rc != JPL_OK) {
        rc = bc.rc;
        if (e != NULL)
            *e = bc.err;
    }
    if (rc == JPL_OK && vf->at != l)
        rc = open_iterators(vf, l, e); /* nothing was left to check: still look past the end */
    if (rc == JPL_OK && jpl_iter_valid(vf->log_it)) {
        vf->ck.seq = size;
        rc = jpl_check_fail(&vf->ck, JPL_ERR_CORRUPT,
                            "the log holds entries beyond its recorded size", e);
    }
    /* every commit signs a checkpoint of the new size, so one must cover the whole log */
    if (rc == JPL_OK && (rep->checkpoints == 0 || vf->last_cp_size != size))
        rc = jpl_fail(e, JPL_ERR_CORRUPT,
                      "no checkpoint covers the whole log (size %llu; last checkpoint at %llu)",
                      (unsigned long long)size, (unsigned long long)vf->last_cp_size);
    if (rc == JPL_OK && jpl_iter_valid(vf->cp_it))
        rc = jpl_fail(e, JPL_ERR_CORRUPT, "a checkpoint is beyond the log size");
    if (rc == JPL_OK)
        rc = check_no_extra_nodes(vf, e);
    if (rc == JPL_OK)
        jpl_merkle_frontier_root(&vf->ck.front, rep->root);
    if (rc != JPL_OK)
        rep->ok = false;
    drop_iterators(vf);
    vf->seconds += now_s() - t0;
    rep->seconds = vf->seconds;
    return rc;
}

jpl_err jpl_ledger_verify(jpl_ledger *l, const jpl_note_verifier *log_key, int threads,
                          jpl_verify_progress_fn progress, void *pctx, jpl_verify_report *rep,
                          jpl_error *e)
{
    jpl_verifier *vf = NULL;
    jpl_err rc = jpl_verifier_new(log_key, threads, rep, &vf, e);
    if (rc == JPL_OK)
        rc = jpl_verifier_finish(vf, l, progress, pctx, e);
    jpl_verifier_free(vf);
    return rc;
}
