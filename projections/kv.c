/*
 * The key-value layer the projections' apply code writes through (see internal.h).
 *
 * Live: reads and writes go through the writer's write batch on the projection's family, so
 * they commit (or roll back) with the entries they come from. Replay: readable state sits in an
 * in-memory hash map (no RocksDB read per event) and write-only rows (pkv_emit) are appended to
 * a buffer; at the end both are sorted and walked together in key order (the engine writes that
 * walk into a table file and digests it).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- memory of the replay state ---- */

/* Replay state is only ever added to and freed all at once: bytes come from big blocks. */
#define BLOCK_BYTES (1u << 20)

typedef struct ablock {
    struct ablock *next;
    size_t used, cap;
    uint8_t data[];
} ablock;

typedef struct {
    ablock *head; /* the block being filled; the others follow */
} parena;

static uint8_t *parena_alloc(parena *a, size_t n)
{
    ablock *b = a->head;
    if (b != NULL && b->cap - b->used >= n) {
        uint8_t *p = b->data + b->used;
        b->used += n;
        return p;
    }
    size_t cap = n > BLOCK_BYTES / 4 ? n : BLOCK_BYTES;
    ablock *nb = malloc(sizeof *nb + cap);
    if (nb == NULL)
        return NULL;
    nb->cap = cap;
    nb->used = n;
    if (b != NULL && cap != BLOCK_BYTES) { /* a big one: keep filling the current block */
        nb->next = b->next;
        b->next = nb;
    } else {
        nb->next = b;
        a->head = nb;
    }
    return nb->data;
}

static void parena_free(parena *a)
{
    for (ablock *b = a->head, *n; b != NULL; b = n) {
        n = b->next;
        free(b);
    }
    a->head = NULL;
}

/* ---- the hash map ---- */

typedef struct {
    uint8_t *kv; /* key bytes then value bytes (in the map's arena) */
    uint32_t klen;
    uint32_t vlen;
    uint32_t vcap;
    uint32_t hash;
    bool dead; /* deleted: slot kept for probing */
} slot;

struct pmap {
    slot *slots;
    size_t cap;  /* power of two */
    size_t used; /* occupied slots, dead included */
    size_t live;
    parena mem;
};

#define MAP_MIN_SLOTS 1024
#define MAP_MAX_PRESIZE (1u << 22)

/* A zeroed slot array, written now: a calloc'd one would be mapped to the zero page and
 * copied on the first write of each page, with a TLB shootdown in a threaded process. */
static slot *new_slots(size_t n)
{
    slot *s = malloc(n * sizeof *s);
    if (s != NULL)
        memset(s, 0, n * sizeof *s);
    return s;
}

pmap *pmap_new(size_t expect)
{
    pmap *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    size_t want = expect < MAP_MAX_PRESIZE ? expect : MAP_MAX_PRESIZE;
    m->cap = MAP_MIN_SLOTS;
    while (m->cap * 7 / 10 < want)
        m->cap *= 2;
    m->slots = new_slots(m->cap);
    if (m->slots == NULL) {
        free(m);
        return NULL;
    }
    return m;
}

void pmap_free(pmap *m)
{
    if (m == NULL)
        return;
    parena_free(&m->mem);
    free(m->slots);
    free(m);
}

size_t pmap_count(const pmap *m)
{
    return m->live;
}

static slot *find(pmap *m, const uint8_t *k, size_t klen, uint32_t h, bool *found)
{
    size_t mask = m->cap - 1;
    size_t i = h & mask;
    slot *tomb = NULL;
    for (;;) {
        slot *s = &m->slots[i];
        if (s->kv == NULL) {
            *found = false;
            return tomb ? tomb : s;
        }
        if (s->hash == h && s->klen == klen && memcmp(s->kv, k, klen) == 0) {
            *found = !s->dead;
            return s;
        }
        if (s->dead && tomb == NULL)
            tomb = s;
        i = (i + 1) & mask;
    }
}

static bool grow(pmap *m)
{
    size_t ncap = m->cap * 2;
    slot *ns = new_slots(ncap);
    if (ns == NULL)
        return false;
    size_t used = 0;
    for (size_t i = 0; i < m->cap; i++) {
        slot *s = &m->slots[i];
        if (s->kv == NULL || s->dead)
            continue;
        size_t j = s->hash & (ncap - 1);
        while (ns[j].kv != NULL)
            j = (j + 1) & (ncap - 1);
        ns[j] = *s;
        used++;
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    m->used = used;
    return true;
}

/* Room for key and value in the arena; values that grow get some slack. */
static uint8_t *slot_bytes(pmap *m, slot *s, const uint8_t *k, size_t klen, size_t vcap)
{
    uint8_t *p = parena_alloc(&m->mem, klen + vcap);
    if (p == NULL)
        return NULL;
    memcpy(p, k, klen);
    s->kv = p;
    s->klen = (uint32_t)klen;
    s->vcap = (uint32_t)vcap;
    return p;
}

static bool map_put(pmap *m, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen)
{
    if (klen > UINT32_MAX / 2 || vlen > UINT32_MAX / 2)
        return false;
    if ((m->used + 1) * 10 > m->cap * 7 && !grow(m))
        return false;
    uint32_t h = jpl_hash_bytes(k, klen);
    bool found = false;
    slot *s = find(m, k, klen, h, &found);
    bool same = s->kv != NULL && s->klen == klen && s->hash == h && memcmp(s->kv, k, klen) == 0;
    if (!same) {
        if (s->kv == NULL)
            m->used++; /* else: a tombstone of another key, recycled */
        s->dead = true;
        s->hash = h;
        if (slot_bytes(m, s, k, klen, vlen) == NULL)
            return false;
    } else if (vlen > s->vcap && slot_bytes(m, s, k, klen, vlen + vlen / 2) == NULL) {
        return false; /* the old bytes stay in the arena until the end */
    }
    if (vlen)
        memcpy(s->kv + klen, v, vlen);
    s->vlen = (uint32_t)vlen;
    if (s->dead)
        m->live++;
    s->dead = false;
    return true;
}

/* Key order of RocksDB's bytewise comparator: memcmp, then the shorter key first. */
static int cmp_keys(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c;
    return (alen > blen) - (alen < blen);
}

/* ---- emitted rows (replay) ---- */

/* Rows in an arena, each u32 klen, u32 vlen, key, value; row[i] points at the i-th. */
struct prows {
    parena mem;
    const uint8_t **row;
    size_t n, cap;
};

prows *prows_new(void)
{
    return calloc(1, sizeof(prows));
}

void prows_free(prows *r)
{
    if (r == NULL)
        return;
    parena_free(&r->mem);
    free(r->row);
    free(r);
}

static bool prows_add(prows *r, const void *k, size_t klen, const void *v, size_t vlen)
{
    if (klen > UINT32_MAX / 2 || vlen > UINT32_MAX / 2)
        return false;
    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 4096;
        const uint8_t **n = realloc(r->row, ncap * sizeof *n);
        if (n == NULL)
            return false;
        r->row = n;
        r->cap = ncap;
    }
    uint8_t *p = parena_alloc(&r->mem, 8 + klen + vlen);
    if (p == NULL)
        return false;
    jpl_put_u32be(p, (uint32_t)klen);
    jpl_put_u32be(p + 4, (uint32_t)vlen);
    memcpy(p + 8, k, klen);
    if (vlen)
        memcpy(p + 8 + klen, v, vlen);
    r->row[r->n++] = p;
    return true;
}

/* ---- the walk in key order ---- */

#define PREFIX_WORDS 3

/* One row to sort: the first 24 key bytes as big-endian words (zero-padded), so that most
 * comparisons stay inside the array instead of following pointers to the keys. */
typedef struct {
    uint64_t pfx[PREFIX_WORDS];
    const uint8_t *k, *v;
    uint32_t klen, vlen;
    uint64_t order; /* 0: the map's row; 1 + n: the n-th emitted row */
} row;

static void row_set(row *r, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen,
                    uint64_t order)
{
    uint8_t p[8 * PREFIX_WORDS] = {0};
    memcpy(p, k, klen < sizeof p ? klen : sizeof p);
    for (int i = 0; i < PREFIX_WORDS; i++)
        r->pfx[i] = jpl_get_u64be(p + 8 * i);
    r->k = k;
    r->v = v;
    r->klen = (uint32_t)klen;
    r->vlen = (uint32_t)vlen;
    r->order = order;
}

/* Bytewise key order; equal prefixes compare the rest of the keys, then their lengths. */
static int cmp_key(const row *x, const row *y)
{
    for (int i = 0; i < PREFIX_WORDS; i++)
        if (x->pfx[i] != y->pfx[i])
            return x->pfx[i] < y->pfx[i] ? -1 : 1;
    const size_t skip = 8 * PREFIX_WORDS;
    if (x->klen > skip && y->klen > skip)
        return cmp_keys(x->k + skip, x->klen - skip, y->k + skip, y->klen - skip);
    return (x->klen > y->klen) - (x->klen < y->klen);
}

static int cmp_row(const void *a, const void *b)
{
    const row *x = a, *y = b;
    int c = cmp_key(x, y);
    return c != 0 ? c : (x->order > y->order) - (x->order < y->order);
}

/* Every row of the state in key order, one per key (caller frees). */
static jpl_err sorted_rows(const pmap *m, const prows *r, row **out, size_t *n_out, jpl_error *e)
{
    size_t total = m->live + r->n, n = 0;
    row *rows = malloc((total ? total : 1) * sizeof *rows);
    if (rows == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < m->cap; i++) {
        const slot *s = &m->slots[i];
        if (s->kv != NULL && !s->dead)
            row_set(&rows[n++], s->kv, s->klen, s->kv + s->klen, s->vlen, 0);
    }
    for (size_t i = 0; i < r->n; i++) {
        const uint8_t *p = r->row[i];
        uint32_t klen = jpl_get_u32be(p), vlen = jpl_get_u32be(p + 4);
        row_set(&rows[n++], p + 8, klen, p + 8 + klen, vlen, 1 + i);
    }
    qsort(rows, n, sizeof *rows, cmp_row);
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (w > 0 && cmp_key(&rows[w - 1], &rows[i]) == 0) {
            if (rows[w - 1].order == 0) {
                free(rows);
                return jpl_fail(e, JPL_ERR_INTERNAL, "replay: a key was both kept and emitted");
            }
            w--; /* a later emit of the same key replaces the earlier one */
        }
        rows[w++] = rows[i];
    }
    *out = rows;
    *n_out = w;
    return JPL_OK;
}

jpl_err pkv_replay_walk(pkv *kv, pkv_row_fn fn, void *ctx, jpl_error *e)
{
    row *rows = NULL;
    size_t n = 0;
    jpl_err rc = sorted_rows(kv->map, kv->rows, &rows, &n, e);
    for (size_t i = 0; rc == JPL_OK && i < n; i++)
        rc = fn(ctx, rows[i].k, rows[i].klen, rows[i].v, rows[i].vlen, e);
    free(rows);
    return rc;
}

/* ---- pkv ---- */

jpl_err pkv_get(pkv *kv, const void *k, size_t klen, const uint8_t **v, size_t *vlen, jpl_error *e)
{
    if (kv->mode == PKV_REPLAY) {
        bool found = false;
        slot *s = find(kv->map, k, klen, jpl_hash_bytes(k, klen), &found);
        if (!found)
            return JPL_ERR_NOT_FOUND;
        *v = s->kv + s->klen;
        *vlen = s->vlen;
        return JPL_OK;
    }
    free(kv->last);
    kv->last = NULL;
    uint8_t *val = NULL;
    size_t len = 0;
    jpl_err rc =
        kv->mode == PKV_READ
            ? jpl_snapshot_get(jpl_ledger_snapshot_of(kv->at), kv->cf, k, klen, &val, &len, e)
            : jpl_batch_get(kv->batch, kv->store, kv->cf, k, klen, &val, &len, e);
    if (rc != JPL_OK)
        return rc;
    kv->last = val;
    *v = val;
    *vlen = len;
    return JPL_OK;
}

jpl_err pkv_put(pkv *kv, const void *k, size_t klen, const void *v, size_t vlen, jpl_error *e)
{
    if (kv->mode == PKV_READ)
        return jpl_fail(e, JPL_ERR_INTERNAL, "write through a read-only projection view");
    if (kv->mode == PKV_REPLAY) {
        if (!map_put(kv->map, k, klen, v, vlen))
            return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
        return JPL_OK;
    }
    jpl_batch_put(kv->batch, kv->store, kv->cf, k, klen, v, vlen);
    return JPL_OK;
}

jpl_err pkv_del(pkv *kv, const void *k, size_t klen, jpl_error *e)
{
    if (kv->mode == PKV_READ)
        return jpl_fail(e, JPL_ERR_INTERNAL, "write through a read-only projection view");
    if (kv->mode == PKV_REPLAY) {
        bool found = false;
        slot *s = find(kv->map, k, klen, jpl_hash_bytes(k, klen), &found);
        if (found) {
            s->dead = true;
            kv->map->live--;
        }
        return JPL_OK;
    }
    jpl_batch_delete(kv->batch, kv->store, kv->cf, k, klen);
    return JPL_OK;
}

jpl_err pkv_emit(pkv *kv, const void *k, size_t klen, const void *v, size_t vlen, jpl_error *e)
{
    if (kv->mode == PKV_READ)
        return jpl_fail(e, JPL_ERR_INTERNAL, "write through a read-only projection view");
    if (kv->mode == PKV_LIVE) {
        jpl_batch_put(kv->batch, kv->store, kv->cf, k, klen, v, vlen);
        return JPL_OK;
    }
    if (!prows_add(kv->rows, k, klen, v, vlen))
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    return JPL_OK;
}

jpl_iter *pkv_iter(pkv *kv, const void *start, size_t slen)
{
    return jpl_snapshot_iter(jpl_ledger_snapshot_of(kv->at), kv->cf, start, slen);
}

void pkv_release(pkv *kv)
{
    free(kv->last);
    kv->last = NULL;
    jpl_ledger_close(kv->at);
    kv->at = NULL;
}
