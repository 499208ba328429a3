/*
 * Full verification of a ledger (jpl_ledger_verify): every entry decodes, sits at its seq, is
 * signed by a key that was registered and not revoked at that position and whose role may issue
 * it; the id index points back at it; the recomputed Merkle tree matches every stored node; every
 * checkpoint is signed by the log key, names the right origin, and commits to the recomputed root
 * of its size. Signatures are checked by all cores, chunk by chunk; everything that depends on
 * order runs in the calling thread.
 */
#include "jpl/thread.h"
#include "jpl/verify.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jpl/codec.h"
#include "jpl/merkle.h"
#include "rules.h"

#define CHUNK 4096
#define MAX_THREADS 16
#define JPL_MERKLE_MAX_LEVELS JPL_MERKLE_MAX_PATH

typedef struct {
    uint8_t *bytes;
    size_t len;
    Jpl__LogEntry *entry;
    Jpl__Event *ev;
    jpl_err rc;
    char msg[JPL_ERRMSG_MAX];
} slot;

typedef struct {
    uint8_t pk[32];
    int role;
    uint64_t revoked_at; /* UINT64_MAX while valid */
} reg_key;

typedef struct {
    uint64_t last_cp_size; /* size of the last checkpoint checked */
    jpl_ledger *l;
    jpl_store *s;
    const jpl_note_verifier *log_key;
    jpl_verify_report *rep;
    reg_key *keys;
    size_t n_keys, cap_keys;
    jpl_merkle_frontier front;
    jpl_iter *cp_it;                           /* checkpoints, in size order */
    jpl_iter *node_it[JPL_MERKLE_MAX_LEVELS];  /* stored nodes of each level, in index order */
    uint64_t node_next[JPL_MERKLE_MAX_LEVELS]; /* index of each level's next node */
    uint64_t seq;                              /* entry being checked */
} vstate;

typedef struct {
    slot *slots;
    size_t from, to;
} work;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check_slot(slot *s)
{
    jpl_error e = {0};
    s->rc = jpl_codec_entry_decode(s->bytes, s->len, &s->entry, &e);
    if (s->rc == JPL_OK)
        s->rc = jpl_codec_event_decode(s->entry->envelope->event.data,
                                       s->entry->envelope->event.len, &s->ev, &e);
    if (s->rc == JPL_OK &&
        !jpl_ed25519_verify2(s->entry->envelope->signature.data, JPL_EVENT_SIG_PREFIX,
                             JPL_EVENT_SIG_PREFIX_LEN, s->entry->envelope->event.data,
                             s->entry->envelope->event.len, s->entry->envelope->public_key.data))
        s->rc = jpl_fail(&e, JPL_ERR_BAD_SIGNATURE, "signature does not verify");
    if (s->rc != JPL_OK)
        snprintf(s->msg, sizeof s->msg, "%s", e.msg);
}

static void *check_range(void *arg)
{
    jpl_thread_name("jpl-verify");
    work *w = arg;
    for (size_t i = w->from; i < w->to; i++)
        check_slot(&w->slots[i]);
    return NULL;
}

/* Signature checks of one chunk running in the background on `threads` threads. */
typedef struct {
    pthread_t tids[MAX_THREADS];
    work works[MAX_THREADS];
    bool started[MAX_THREADS];
    int n;
} checks;

static void start_checks(checks *c, slot *slots, size_t n, int threads)
{
    size_t per = (n + (size_t)threads - 1) / (size_t)threads;
    c->n = 0;
    for (int t = 0; t < threads && (size_t)t * per < n; t++) {
        work *w = &c->works[t];
        *w = (work){slots, (size_t)t * per, (size_t)(t + 1) * per};
        if (w->to > n)
            w->to = n;
        c->started[t] = pthread_create(&c->tids[t], NULL, check_range, w) == 0;
        if (!c->started[t])
            check_range(w); /* no thread: check here */
        c->n = t + 1;
    }
}

static void join_checks(checks *c)
{
    for (int t = 0; t < c->n; t++)
        if (c->started[t])
            pthread_join(c->tids[t], NULL);
    c->n = 0;
}

static jpl_err bad(vstate *v, jpl_err code, const char *what, jpl_error *e)
{
    v->rep->ok = false;
    v->rep->first_bad_seq = v->seq;
    return jpl_fail(e, code, "seq %llu: %s", (unsigned long long)v->seq, what);
}

static reg_key *find_key(vstate *v, const uint8_t pk[32])
{
    for (size_t i = 0; i < v->n_keys; i++)
        if (memcmp(v->keys[i].pk, pk, 32) == 0)
            return &v->keys[i];
    return NULL;
}

static jpl_err add_key(vstate *v, const Jpl__KeyRegistered *k, jpl_error *e)
{
    if (k->public_key.len != 32)
        return bad(v, JPL_ERR_CORRUPT, "key registration with a malformed key", e);
    if (v->n_keys == v->cap_keys) {
        size_t ncap = v->cap_keys ? v->cap_keys * 2 : 16;
        reg_key *nk = realloc(v->keys, ncap * sizeof *nk);
        if (nk == NULL)
            return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
        v->keys = nk;
        v->cap_keys = ncap;
    }
    reg_key *r = &v->keys[v->n_keys++];
    memcpy(r->pk, k->public_key.data, 32);
    r->role = (int)k->role;
    r->revoked_at = UINT64_MAX;
    return JPL_OK;
}

/* Role check of a revocation: the target's issuing role or admin. */
static jpl_err check_revocation_role(vstate *v, const Jpl__Revoked *r, int role, jpl_error *e)
{
    if (role == JPL__ROLE__ROLE_ADMIN)
        return JPL_OK;
    if (r->target_event_id.len != 16)
        return bad(v, JPL_ERR_CORRUPT, "revocation with a malformed target id", e);
    uint8_t *sv = NULL, *ev = NULL;
    size_t slen = 0, elen = 0;
    jpl_err rc = jpl_store_get(v->s, JPL_CF_IDS, r->target_event_id.data, 16, &sv, &slen, e);
    if (rc != JPL_OK || slen != 8) {
        free(sv);
        return bad(v, JPL_ERR_CORRUPT, "revocation of an event missing from the id index", e);
    }
    uint8_t k[8];
    memcpy(k, sv, 8);
    free(sv);
    if (jpl_get_u64be(k) >= v->seq)
        return bad(v, JPL_ERR_CORRUPT, "revocation of a later event", e);
    rc = jpl_store_get(v->s, JPL_CF_LOG, k, 8, &ev, &elen, e);
    Jpl__LogEntry *entry = NULL;
    Jpl__Event *target = NULL;
    if (rc == JPL_OK)
        rc = jpl_codec_entry_decode(ev, elen, &entry, e);
    if (rc == JPL_OK)
        rc = jpl_codec_event_decode(entry->envelope->event.data, entry->envelope->event.len,
                                    &target, e);
    free(ev);
    bool ok = rc == JPL_OK && jpl_rules_role_may_issue(role, (int)target->body_case);
    jpl_codec_event_free(target);
    jpl_codec_entry_free(entry);
    if (!ok)
        return bad(v, JPL_ERR_FORBIDDEN, "revocation by a key whose role may not revoke it", e);
    return JPL_OK;
}

static jpl_err check_signer(vstate *v, const slot *s, jpl_error *e)
{
    const uint8_t *pk = s->entry->envelope->public_key.data;
    int bc = (int)s->ev->body_case;
    if (v->seq == 0) {
        const Jpl__KeyRegistered *k = s->ev->key_registered;
        if (bc != JPL__EVENT__BODY_KEY_REGISTERED || k->role != JPL__ROLE__ROLE_ADMIN ||
            k->public_key.len != 32 || memcmp(k->public_key.data, pk, 32) != 0)
            return bad(v, JPL_ERR_CORRUPT, "entry 0 is not a self-signed admin registration", e);
        return add_key(v, k, e);
    }
    reg_key *k = find_key(v, pk);
    if (k == NULL)
        return bad(v, JPL_ERR_UNKNOWN_KEY, "signed by a key not registered at this position", e);
    if (k->revoked_at < v->seq)
        return bad(v, JPL_ERR_KEY_REVOKED, "signed by a key revoked before this position", e);
    if (!jpl_rules_role_may_issue(k->role, bc))
        return bad(v, JPL_ERR_FORBIDDEN, "signed by a key whose role may not issue this event", e);
    jpl_err rc = JPL_OK;
    if (bc == JPL__EVENT__BODY_REVOKED)
        rc = check_revocation_role(v, s->ev->revoked, k->role, e);
    if (rc == JPL_OK && bc == JPL__EVENT__BODY_KEY_REGISTERED) {
        if (find_key(v, s->ev->key_registered->public_key.data) != NULL)
            return bad(v, JPL_ERR_CORRUPT, "key registered twice", e);
        rc = add_key(v, s->ev->key_registered, e);
    }
    if (rc == JPL_OK && bc == JPL__EVENT__BODY_KEY_REVOKED) {
        reg_key *t = s->ev->key_revoked->public_key.len == 32
                         ? find_key(v, s->ev->key_revoked->public_key.data)
                         : NULL;
        if (t == NULL || t->revoked_at != UINT64_MAX)
            return bad(v, JPL_ERR_CORRUPT, "revocation of an unknown or revoked key", e);
        t->revoked_at = v->seq;
    }
    return rc;
}

static jpl_err check_id_index(vstate *v, const slot *s, jpl_error *e)
{
    uint8_t *val = NULL;
    size_t vlen = 0;
    jpl_err rc = jpl_store_get(v->s, JPL_CF_IDS, s->ev->event_id.data, 16, &val, &vlen, e);
    bool ok = rc == JPL_OK && vlen == 8 && jpl_get_u64be(val) == v->seq;
    free(val);
    if (!ok)
        return bad(v, JPL_ERR_CORRUPT, "the id index does not point at this entry", e);
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
    vstate *v = ctx;
    uint8_t k[9];
    node_key(k, level, index);
    if (level >= JPL_MERKLE_MAX_LEVELS)
        return bad(v, JPL_ERR_CORRUPT, "the tree is deeper than any log can be", e);
    if (v->node_it[level] == NULL &&
        (v->node_it[level] = jpl_store_iter(v->s, JPL_CF_TREE, k, 9)) == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl_iter *it = v->node_it[level];
    size_t klen = 0, vlen = 0;
    bool ok = jpl_iter_valid(it);
    if (ok) {
        const uint8_t *sk = jpl_iter_key(it, &klen);
        const uint8_t *sv = jpl_iter_value(it, &vlen);
        ok = klen == 9 && memcmp(sk, k, 9) == 0 && vlen == 32 && memcmp(sv, hash, 32) == 0;
        jpl_iter_next(it);
        v->node_next[level] = index + 1;
    }
    if (!ok) {
        jpl_err rc = jpl_iter_status(it, e);
        return rc != JPL_OK ? rc
                            : bad(v, JPL_ERR_CORRUPT,
                                  "a stored Merkle node differs from the recomputed tree", e);
    }
    return JPL_OK;
}

/* After the last entry: no level holds a node the recomputed tree does not have. */
static jpl_err check_no_extra_nodes(vstate *v, jpl_error *e)
{
    for (uint32_t level = 0; level < JPL_MERKLE_MAX_LEVELS; level++) {
        jpl_iter *it = v->node_it[level];
        if (it == NULL) {
            uint8_t k[9];
            node_key(k, level, v->node_next[level]);
            it = v->node_it[level] = jpl_store_iter(v->s, JPL_CF_TREE, k, 9);
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
static jpl_err check_checkpoints(vstate *v, jpl_error *e)
{
    while (jpl_iter_valid(v->cp_it)) {
        size_t klen = 0, nlen = 0;
        const uint8_t *k = jpl_iter_key(v->cp_it, &klen);
        if (klen != 8)
            return bad(v, JPL_ERR_CORRUPT, "malformed checkpoint key", e);
        uint64_t size = jpl_get_u64be(k);
        if (size > v->front.size)
            return JPL_OK;
        if (size < v->front.size)
            return bad(v, JPL_ERR_CORRUPT, "checkpoint out of order", e);
        const char *note = (const char *)jpl_iter_value(v->cp_it, &nlen);
        jpl_checkpoint cp;
        jpl_error ce = {0};
        jpl_err rc =
            jpl_checkpoint_open(note, nlen, jpl_ledger_origin(v->l), v->log_key, 1, &cp, NULL, &ce);
        uint8_t root[32];
        jpl_merkle_frontier_root(&v->front, root);
        char what[JPL_ERRMSG_MAX];
        if (rc != JPL_OK) {
            snprintf(what, sizeof what, "checkpoint of size %llu does not verify: %.300s",
                     (unsigned long long)size, ce.msg);
            v->seq = size ? size - 1 : 0;
            return bad(v, JPL_ERR_BAD_SIGNATURE, what, e);
        }
        if (cp.size != size || memcmp(cp.root, root, 32) != 0) {
            snprintf(what, sizeof what, "checkpoint of size %llu commits to another root",
                     (unsigned long long)size);
            v->seq = size ? size - 1 : 0;
            return bad(v, JPL_ERR_CORRUPT, what, e);
        }
        v->rep->checkpoints++;
        v->last_cp_size = size;
        jpl_iter_next(v->cp_it);
    }
    return jpl_iter_status(v->cp_it, e);
}

static jpl_err check_in_order(vstate *v, slot *s, jpl_error *e)
{
    if (s->rc != JPL_OK) {
        char what[JPL_ERRMSG_MAX];
        snprintf(what, sizeof what, "%s", s->msg);
        return bad(v, s->rc, what, e);
    }
    if (s->entry->seq != v->seq)
        return bad(v, JPL_ERR_CORRUPT, "entry is stored under another seq", e);
    jpl_err rc = check_signer(v, s, e);
    if (rc == JPL_OK)
        rc = check_id_index(v, s, e);
    if (rc != JPL_OK)
        return rc;
    uint8_t leaf[32];
    jpl_merkle_hash_leaf(leaf, s->bytes, s->len);
    rc = jpl_merkle_frontier_append(&v->front, leaf, compare_node, v, e);
    if (rc == JPL_OK)
        rc = check_checkpoints(v, e);
    return rc;
}

static void free_slots(slot *slots, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(slots[i].bytes);
        jpl_codec_event_free(slots[i].ev);
        jpl_codec_entry_free(slots[i].entry);
        memset(&slots[i], 0, sizeof slots[i]);
    }
}

/* Reads up to CHUNK raw entries starting at v->seq; *n_out may be short at the end (and counts
 * the entries read before a failure). */
static jpl_err read_chunk(vstate *v, jpl_iter *it, uint64_t size, slot *slots, size_t *n_out,
                          jpl_error *e)
{
    size_t n = 0;
    uint64_t seq = v->seq;
    *n_out = 0; /* counts what is read, for freeing, even when reading fails */
    while (n < CHUNK && seq < size) {
        if (!jpl_iter_valid(it)) {
            jpl_err rc = jpl_iter_status(it, e);
            v->seq = seq;
            return rc != JPL_OK ? rc : bad(v, JPL_ERR_CORRUPT, "entry is missing", e);
        }
        size_t klen = 0, vlen = 0;
        const uint8_t *k = jpl_iter_key(it, &klen);
        if (klen != 8 || jpl_get_u64be(k) != seq) {
            v->seq = seq;
            return bad(v, JPL_ERR_CORRUPT, "entry is missing (gap in the log)", e);
        }
        const uint8_t *val = jpl_iter_value(it, &vlen);
        slots[n].bytes = malloc(vlen ? vlen : 1);
        if (slots[n].bytes == NULL)
            return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
        memcpy(slots[n].bytes, val, vlen);
        slots[n].len = vlen;
        *n_out = ++n;
        seq++;
        jpl_iter_next(it);
    }
    *n_out = n;
    return JPL_OK;
}

struct jpl_verifier {
    vstate v;
    int threads;
    jpl_iter *log_it; /* the log from v.seq on, of the store of the last advance */
    jpl_ledger *at;   /* the ledger the iterators belong to */
    double seconds;
};

jpl_err jpl_verifier_new(const jpl_note_verifier *log_key, int threads, jpl_verify_report *rep,
                         jpl_verifier **out, jpl_error *e)
{
    jpl_verifier *vf = calloc(1, sizeof *vf);
    if (vf == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    memset(rep, 0, sizeof *rep);
    rep->ok = true;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    vf->threads = threads > MAX_THREADS ? MAX_THREADS : threads;
    rep->threads = vf->threads;
    vf->v.log_key = log_key;
    vf->v.rep = rep;
    jpl_merkle_frontier_init(&vf->v.front);
    *out = vf;
    return JPL_OK;
}

static void drop_iterators(jpl_verifier *vf)
{
    jpl_iter_free(vf->log_it);
    jpl_iter_free(vf->v.cp_it);
    vf->log_it = vf->v.cp_it = NULL;
    for (int i = 0; i < JPL_MERKLE_MAX_LEVELS; i++) {
        jpl_iter_free(vf->v.node_it[i]);
        vf->v.node_it[i] = NULL; /* compare_node seeks again at the next node */
    }
    vf->at = NULL;
}

void jpl_verifier_free(jpl_verifier *vf)
{
    if (vf == NULL)
        return;
    drop_iterators(vf);
    free(vf->v.keys);
    free(vf);
}

uint64_t jpl_verifier_checked(const jpl_verifier *vf)
{
    return vf->v.seq;
}

/* Iterators over l's store positioned where the verification stands (fresh ones each advance:
 * an iterator sees the store as of its creation). */
static jpl_err open_iterators(jpl_verifier *vf, jpl_ledger *l, jpl_error *e)
{
    drop_iterators(vf);
    vstate *v = &vf->v;
    v->l = l;
    v->s = jpl_ledger_store(l);
    uint8_t k[8];
    jpl_put_u64be(k, v->seq);
    vf->log_it = jpl_store_iter(v->s, JPL_CF_LOG, k, 8);
    jpl_put_u64be(k, v->rep->checkpoints ? v->last_cp_size + 1 : 0);
    v->cp_it = jpl_store_iter(v->s, JPL_CF_CHECKPOINTS, k, 8);
    if (vf->log_it == NULL || v->cp_it == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    vf->at = l;
    return JPL_OK;
}

/* Checks entries [v->seq, to) chunk by chunk: the signatures of the next chunk are checked in
 * the background while this thread runs the in-order checks of the current one. */
static jpl_err check_entries(jpl_verifier *vf, uint64_t to, jpl_verify_progress_fn progress,
                             void *pctx, jpl_error *e)
{
    vstate *v = &vf->v;
    jpl_verify_report *rep = v->rep;
    slot *cur = calloc(CHUNK, sizeof *cur), *next = calloc(CHUNK, sizeof *next);
    jpl_err rc = (cur && next) ? JPL_OK : jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    checks bg = {.n = 0};
    size_t n_cur = 0, n_next = 0;
    uint64_t read_seq = v->seq; /* next seq read_chunk reads */
    if (rc == JPL_OK && read_seq < to) {
        rc = read_chunk(v, vf->log_it, to, cur, &n_cur, e);
        if (rc == JPL_OK)
            start_checks(&bg, cur, n_cur, vf->threads);
        read_seq += n_cur;
    }
    while (rc == JPL_OK && v->seq < to) {
        join_checks(&bg);
        /* a read failure of the next chunk is reported after the current one is checked, so
         * the first bad seq is still the one named */
        uint64_t in_order_seq = v->seq, read_bad = 0;
        jpl_error read_err = {0};
        jpl_err read_rc = JPL_OK;
        if (read_seq < to) {
            v->seq = read_seq;
            read_rc = read_chunk(v, vf->log_it, to, next, &n_next, &read_err);
            read_bad = v->seq;
            read_seq += n_next;
            v->seq = in_order_seq;
        }
        if (read_rc == JPL_OK)
            start_checks(&bg, next, n_next, vf->threads);
        for (size_t i = 0; rc == JPL_OK && i < n_cur; i++, v->seq++)
            rc = check_in_order(v, &cur[i], e);
        if (rc == JPL_OK && read_rc != JPL_OK) {
            rc = read_rc;
            v->seq = read_bad;
            rep->ok = false;
            rep->first_bad_seq = read_bad;
            if (e != NULL)
                *e = read_err;
        }
        free_slots(cur, n_cur);
        slot *t = cur;
        cur = next;
        next = t;
        n_cur = n_next;
        n_next = 0;
        rep->entries = v->seq;
        if (progress)
            progress(pctx, v->seq, to);
    }
    join_checks(&bg);
    free_slots(cur, n_cur);
    free_slots(next, n_next);
    free(cur);
    free(next);
    return rc;
}

/* Checks up to to; keeps the iterators for finish, else lets go of them so that l may be closed
 * before the next step. */
static jpl_err advance(jpl_verifier *vf, jpl_ledger *l, uint64_t to, bool keep,
                       jpl_verify_progress_fn progress, void *pctx, jpl_error *e)
{
    double t0 = now_s();
    jpl_err rc = JPL_OK;
    if (!vf->v.rep->ok)
        rc = jpl_fail(e, JPL_ERR_INTERNAL, "the verification has already failed");
    else if (to > jpl_ledger_size(l))
        rc = jpl_fail(e, JPL_ERR_INTERNAL, "cannot verify up to %llu: the log has %llu entries",
                      (unsigned long long)to, (unsigned long long)jpl_ledger_size(l));
    if (rc == JPL_OK && to > vf->v.seq) {
        rc = open_iterators(vf, l, e);
        if (rc == JPL_OK)
            rc = check_entries(vf, to, progress, pctx, e);
    }
    if (rc != JPL_OK)
        vf->v.rep->ok = false;
    if (!keep)
        drop_iterators(vf);
    vf->seconds += now_s() - t0;
    vf->v.rep->seconds = vf->seconds;
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
    vstate *v = &vf->v;
    jpl_verify_report *rep = v->rep;
    uint64_t size = jpl_ledger_size(l);
    rep->size = size;
    double t0 = now_s();
    jpl_err rc = JPL_OK;
    if (size == 0)
        rc = jpl_fail(e, JPL_ERR_CORRUPT, "the log is empty (entry 0 is missing)");
    if (rc == JPL_OK && v->seq > size)
        rc = jpl_fail(e, JPL_ERR_CORRUPT, "the log has %llu entries, fewer than the %llu verified",
                      (unsigned long long)size, (unsigned long long)v->seq);
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
        v->seq = size;
        rc = bad(v, JPL_ERR_CORRUPT, "the log holds entries beyond its recorded size", e);
    }
    /* every commit signs a checkpoint of the new size, so one must cover the whole log */
    if (rc == JPL_OK && (rep->checkpoints == 0 || v->last_cp_size != size))
        rc = jpl_fail(e, JPL_ERR_CORRUPT,
                      "no checkpoint covers the whole log (size %llu; last checkpoint at %llu)",
                      (unsigned long long)size, (unsigned long long)v->last_cp_size);
    if (rc == JPL_OK && jpl_iter_valid(v->cp_it))
        rc = jpl_fail(e, JPL_ERR_CORRUPT, "a checkpoint is beyond the log size");
    if (rc == JPL_OK)
        rc = check_no_extra_nodes(v, e);
    if (rc == JPL_OK)
        jpl_merkle_frontier_root(&v->front, rep->root);
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
