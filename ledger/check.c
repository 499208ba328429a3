/*
 * The entry checks shared by the verification of a ledger and of an export bundle (check.h):
 * decoding and signatures on all cores, chunk by chunk, the key registry, roles and the
 * recomputed Merkle tree in order on the calling thread.
 */
#include "check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jpl/thread.h"
#include "rules.h"

#define CHUNK 4096
#define MAX_THREADS 16

struct jpl_check_key {
    uint8_t pk[32];
    int role;
    uint64_t revoked_at; /* UINT64_MAX while valid */
};

typedef struct {
    uint8_t *bytes;
    size_t len;
    Jpl__LogEntry *entry;
    Jpl__Event *ev;
    jpl_err rc;
    char msg[JPL_ERRMSG_MAX];
} slot;

typedef struct {
    slot *slots;
    size_t from, to;
} work;

static void check_slot(slot *s)
{
    jpl_error e = {0};
    s->rc = jpl_codec_entry_decode(s->bytes, s->len, &s->entry, &e);
    if (s->rc == JPL_OK)
        s->rc = jpl_codec_event_decode(s->entry->envelope->event.data,
                                       s->entry->envelope->event.len, &s->ev, &e);
    if (s->rc == JPL_ERR_BAD_INPUT || s->rc == JPL_ERR_TOO_LARGE)
        s->rc = JPL_ERR_CORRUPT; /* stored or exported bytes that do not decode are damaged */
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

static jpl_err fail_at(jpl_check *ck, uint64_t seq, jpl_err code, const char *what, jpl_error *e)
{
    ck->rep->ok = false;
    ck->rep->entry_failed = true;
    ck->rep->first_bad_seq = seq;
    return jpl_fail(e, code, "seq %llu: %s", (unsigned long long)seq, what);
}

jpl_err jpl_check_fail(jpl_check *ck, jpl_err code, const char *what, jpl_error *e)
{
    return fail_at(ck, ck->seq, code, what, e);
}

jpl_err jpl_check_init(jpl_check *ck, const jpl_check_ops *ops, void *ctx,
                       const jpl_note_verifier *log_key, int threads, jpl_verify_report *rep,
                       jpl_error *e)
{
    (void)e;
    memset(ck, 0, sizeof *ck);
    memset(rep, 0, sizeof *rep);
    rep->ok = true;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    ck->threads = threads > MAX_THREADS ? MAX_THREADS : threads;
    rep->threads = ck->threads;
    ck->ops = ops;
    ck->ctx = ctx;
    ck->log_key = log_key;
    ck->rep = rep;
    jpl_merkle_frontier_init(&ck->front);
    return JPL_OK;
}

void jpl_check_free(jpl_check *ck)
{
    free(ck->keys);
    ck->keys = NULL;
    ck->n_keys = ck->cap_keys = 0;
}

static jpl_check_key *find_key(jpl_check *ck, const uint8_t pk[32])
{
    for (size_t i = 0; i < ck->n_keys; i++)
        if (memcmp(ck->keys[i].pk, pk, 32) == 0)
            return &ck->keys[i];
    return NULL;
}

static jpl_err add_key(jpl_check *ck, const Jpl__KeyRegistered *k, jpl_error *e)
{
    if (k->public_key.len != 32)
        return jpl_check_fail(ck, JPL_ERR_CORRUPT, "key registration with a malformed key", e);
    if (ck->n_keys == ck->cap_keys) {
        size_t ncap = ck->cap_keys ? ck->cap_keys * 2 : 16;
        jpl_check_key *nk = realloc(ck->keys, ncap * sizeof *nk);
        if (nk == NULL)
            return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
        ck->keys = nk;
        ck->cap_keys = ncap;
    }
    jpl_check_key *r = &ck->keys[ck->n_keys++];
    memcpy(r->pk, k->public_key.data, 32);
    r->role = (int)k->role;
    r->revoked_at = UINT64_MAX;
    return JPL_OK;
}

/* Role check of a revocation: the target's issuing role or admin. */
static jpl_err check_revocation_role(jpl_check *ck, const Jpl__Revoked *r, int role, jpl_error *e)
{
    if (role == JPL__ROLE__ROLE_ADMIN)
        return JPL_OK;
    if (r->target_event_id.len != 16)
        return jpl_check_fail(ck, JPL_ERR_CORRUPT, "revocation with a malformed target id", e);
    int bc = 0;
    jpl_err rc = ck->ops->target_type(ck->ctx, r->target_event_id.data, &bc, e);
    if (rc != JPL_OK)
        return rc;
    if (!jpl_rules_role_may_issue(role, bc))
        return jpl_check_fail(ck, JPL_ERR_FORBIDDEN,
                              "revocation by a key whose role may not revoke it", e);
    return JPL_OK;
}

static jpl_err check_signer(jpl_check *ck, const slot *s, jpl_error *e)
{
    const uint8_t *pk = s->entry->envelope->public_key.data;
    int bc = (int)s->ev->body_case;
    if (ck->seq == 0) {
        const Jpl__KeyRegistered *k = s->ev->key_registered;
        if (bc != JPL__EVENT__BODY_KEY_REGISTERED || k->role != JPL__ROLE__ROLE_ADMIN ||
            k->public_key.len != 32 || memcmp(k->public_key.data, pk, 32) != 0)
            return jpl_check_fail(ck, JPL_ERR_CORRUPT,
                                  "entry 0 is not a self-signed admin registration", e);
        return add_key(ck, k, e);
    }
    jpl_check_key *k = find_key(ck, pk);
    if (k == NULL)
        return jpl_check_fail(ck, JPL_ERR_UNKNOWN_KEY,
                              "signed by a key not registered at this position", e);
    if (k->revoked_at < ck->seq)
        return jpl_check_fail(ck, JPL_ERR_KEY_REVOKED,
                              "signed by a key revoked before this position", e);
    if (!jpl_rules_role_may_issue(k->role, bc))
        return jpl_check_fail(ck, JPL_ERR_FORBIDDEN,
                              "signed by a key whose role may not issue this event", e);
    jpl_err rc = JPL_OK;
    if (bc == JPL__EVENT__BODY_REVOKED)
        rc = check_revocation_role(ck, s->ev->revoked, k->role, e);
    if (rc == JPL_OK && bc == JPL__EVENT__BODY_KEY_REGISTERED) {
        if (find_key(ck, s->ev->key_registered->public_key.data) != NULL)
            return jpl_check_fail(ck, JPL_ERR_CORRUPT, "key registered twice", e);
        rc = add_key(ck, s->ev->key_registered, e);
    }
    if (rc == JPL_OK && bc == JPL__EVENT__BODY_KEY_REVOKED) {
        jpl_check_key *t = s->ev->key_revoked->public_key.len == 32
                               ? find_key(ck, s->ev->key_revoked->public_key.data)
                               : NULL;
        if (t == NULL || t->revoked_at != UINT64_MAX)
            return jpl_check_fail(ck, JPL_ERR_CORRUPT, "revocation of an unknown or revoked key",
                                  e);
        t->revoked_at = ck->seq;
    }
    return rc;
}

jpl_err jpl_check_checkpoint(jpl_check *ck, const char *note, size_t len, const char *origin,
                             jpl_error *e)
{
    uint64_t size = ck->front.size;
    uint64_t last = size ? size - 1 : 0;
    jpl_checkpoint cp;
    jpl_error ce = {0};
    jpl_err rc = jpl_checkpoint_open(note, len, origin, ck->log_key, 1, &cp, NULL, &ce);
    uint8_t root[32];
    jpl_merkle_frontier_root(&ck->front, root);
    char what[JPL_ERRMSG_MAX];
    if (rc != JPL_OK) {
        snprintf(what, sizeof what, "checkpoint of size %llu does not verify: %.300s",
                 (unsigned long long)size, ce.msg);
        return fail_at(ck, last, JPL_ERR_BAD_SIGNATURE, what, e);
    }
    if (cp.size != size || memcmp(cp.root, root, 32) != 0) {
        snprintf(what, sizeof what, "checkpoint of size %llu commits to another root",
                 (unsigned long long)size);
        return fail_at(ck, last, JPL_ERR_CORRUPT, what, e);
    }
    ck->rep->checkpoints++;
    return JPL_OK;
}

static jpl_err check_in_order(jpl_check *ck, slot *s, jpl_error *e)
{
    if (s->rc != JPL_OK)
        return jpl_check_fail(ck, s->rc, s->msg, e);
    if (s->entry->seq != ck->seq) {
        char what[96];
        snprintf(what, sizeof what, "the entry holds seq %llu, not its position's",
                 (unsigned long long)s->entry->seq);
        return jpl_check_fail(ck, JPL_ERR_CORRUPT, what, e);
    }
    const jpl_check_ops *ops = ck->ops;
    jpl_err rc = check_signer(ck, s, e);
    if (rc == JPL_OK && ops->entry_done)
        rc = ops->entry_done(ck->ctx, s->ev, e);
    if (rc != JPL_OK)
        return rc;
    uint8_t leaf[32];
    jpl_merkle_hash_leaf(leaf, s->bytes, s->len);
    rc = jpl_merkle_frontier_append(&ck->front, leaf, ops->node, ck->ctx, e);
    if (rc == JPL_OK && ops->grown)
        rc = ops->grown(ck->ctx, e);
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

/* One chunk of entries: those read, and the failure that stopped the reading, if any. */
typedef struct {
    slot *slots;
    size_t n;
    jpl_err rc;
    jpl_error err;
} chunk;

/* Reads up to CHUNK entries from seq through the source into c and starts checking their
 * signatures in the background. */
static void load_chunk(jpl_check *ck, jpl_check_raw *raw, chunk *c, uint64_t seq, uint64_t to,
                       checks *bg)
{
    size_t n = 0;
    c->rc = ck->ops->read(ck->ctx, seq, to, raw, CHUNK, &n, &c->err);
    if (c->rc == JPL_OK && n == 0) /* a source must make progress */
        c->rc = jpl_fail(&c->err, JPL_ERR_INTERNAL, "seq %llu: the source read nothing",
                         (unsigned long long)seq);
    for (size_t i = 0; i < n; i++) {
        c->slots[i].bytes = raw[i].bytes;
        c->slots[i].len = raw[i].len;
    }
    c->n = n;
    start_checks(bg, c->slots, n, ck->threads);
}

/* Checks entries [ck->seq, to) chunk by chunk: the signatures of the next chunk are checked in
 * the background while this thread runs the in-order checks of the current one. The entries
 * read before a read failure are checked before it is reported, so the first bad seq is the one
 * named. */
jpl_err jpl_check_entries(jpl_check *ck, uint64_t to, jpl_verify_progress_fn progress, void *pctx,
                          jpl_error *e)
{
    chunk a = {.slots = calloc(CHUNK, sizeof(slot))}, b = {.slots = calloc(CHUNK, sizeof(slot))};
    chunk *cur = &a, *next = &b;
    jpl_check_raw *raw = calloc(CHUNK, sizeof *raw);
    jpl_err rc =
        (a.slots && b.slots && raw) ? JPL_OK : jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    checks bg = {.n = 0};
    uint64_t read_seq = ck->seq; /* next seq to read */
    if (rc == JPL_OK && read_seq < to) {
        load_chunk(ck, raw, cur, read_seq, to, &bg);
        read_seq += cur->n;
    }
    while (rc == JPL_OK && ck->seq < to) {
        join_checks(&bg);
        if (cur->rc == JPL_OK && read_seq < to) {
            load_chunk(ck, raw, next, read_seq, to, &bg);
            read_seq += next->n;
        }
        for (size_t i = 0; rc == JPL_OK && i < cur->n; i++, ck->seq++)
            rc = check_in_order(ck, &cur->slots[i], e);
        if (rc == JPL_OK && cur->rc != JPL_OK) {
            rc = fail_at(ck, ck->seq, cur->rc, "", NULL);
            if (e != NULL)
                *e = cur->err;
        }
        free_slots(cur->slots, cur->n);
        cur->n = 0;
        chunk *t = cur;
        cur = next;
        next = t;
        ck->rep->entries = ck->seq;
        if (progress)
            progress(pctx, ck->seq, to);
    }
    join_checks(&bg);
    free_slots(a.slots, a.n);
    free_slots(b.slots, b.n);
    free(a.slots);
    free(b.slots);
    free(raw);
    return rc;
}
