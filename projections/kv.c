/*
 * The key-value layer the projections' apply code writes through (see internal.h).
 *
 * Live: reads and writes go through the writer's indexed batch on the projection's family, so
 * they commit (or roll back) with the entries they come from. Replay: readable state sits in an
 * in-memory hash map (no RocksDB read per event) that is written to the new family in key order
 * at the end; write-only rows (pkv_emit) stream straight into unsynced batches.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define EMIT_FLUSH_ROWS 4096
#define FLUSH_ROWS 4096

/* ---- the hash map ---- */

typedef struct {
    uint8_t *kv; /* key bytes then value bytes, one allocation */
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
};

static uint32_t hash_bytes(const uint8_t *p, size_t n)
{
    /* FNV-1a, 32 bit, then a final mix so low bits depend on every byte */
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    h ^= h >> 15;
    h *= 0x2c1b3c6dU;
    h ^= h >> 12;
    return h;
}

pmap *pmap_new(void)
{
    pmap *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->cap = 1024;
    m->slots = calloc(m->cap, sizeof *m->slots);
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
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].kv);
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
    slot *ns = calloc(ncap, sizeof *ns);
    if (ns == NULL)
        return false;
    size_t used = 0;
    for (size_t i = 0; i < m->cap; i++) {
        slot *s = &m->slots[i];
        if (s->kv == NULL)
            continue;
        if (s->dead) {
            free(s->kv);
            continue;
        }
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

static bool map_put(pmap *m, const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen)
{
    if ((m->used + 1) * 10 > m->cap * 7 && !grow(m))
        return false;
    uint32_t h = hash_bytes(k, klen);
    bool found = false;
    slot *s = find(m, k, klen, h, &found);
    if (s->kv != NULL && s->klen == klen && s->hash == h && memcmp(s->kv, k, klen) == 0) {
        /* same key (live or dead): reuse the allocation if it fits */
        if (vlen > s->vcap) {
            uint8_t *n = realloc(s->kv, klen + vlen);
            if (n == NULL)
                return false;
            s->kv = n;
            s->vcap = (uint32_t)vlen;
        }
        memcpy(s->kv + klen, v, vlen);
        s->vlen = (uint32_t)vlen;
        if (s->dead)
            m->live++;
        s->dead = false;
        return true;
    }
    if (s->kv != NULL) { /* a tombstone of another key: recycle */
        free(s->kv);
        s->kv = NULL;
        m->used--;
    }
    uint8_t *buf = malloc(klen + vlen + 1);
    if (buf == NULL)
        return false;
    memcpy(buf, k, klen);
    memcpy(buf + klen, v, vlen);
    *s = (slot){.kv = buf,
                .klen = (uint32_t)klen,
                .vlen = (uint32_t)vlen,
                .vcap = (uint32_t)vlen,
                .hash = h};
    m->used++;
    m->live++;
    return true;
}

static int cmp_slot(const void *a, const void *b)
{
    const slot *x = *(const slot *const *)a, *y = *(const slot *const *)b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->kv, y->kv, n);
    if (c != 0)
        return c;
    return (x->klen > y->klen) - (x->klen < y->klen);
}

jpl_err pmap_flush_sorted(pmap *m, jpl_store *s, int cf, jpl_error *e)
{
    slot **order = malloc((m->live ? m->live : 1) * sizeof *order);
    if (order == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].kv != NULL && !m->slots[i].dead)
            order[n++] = &m->slots[i];
    qsort(order, n, sizeof *order, cmp_slot);
    jpl_plain_batch *b = jpl_plain_batch_new();
    jpl_err rc = b ? JPL_OK : jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; rc == JPL_OK && i < n; i++) {
        jpl_plain_batch_put(b, s, cf, order[i]->kv, order[i]->klen, order[i]->kv + order[i]->klen,
                            order[i]->vlen);
        if ((i + 1) % FLUSH_ROWS == 0 || i + 1 == n)
            rc = jpl_store_write_plain(s, b, false, e);
    }
    jpl_plain_batch_free(b);
    free(order);
    return rc;
}

/* ---- pkv ---- */

jpl_err pkv_get(pkv *kv, const void *k, size_t klen, const uint8_t **v, size_t *vlen, jpl_error *e)
{
    if (kv->mode == PKV_REPLAY) {
        bool found = false;
        slot *s = find(kv->map, k, klen, hash_bytes(k, klen), &found);
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
    jpl_err rc = kv->mode == PKV_READ
                     ? jpl_store_get(kv->store, kv->cf, k, klen, &val, &len, e)
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
        slot *s = find(kv->map, k, klen, hash_bytes(k, klen), &found);
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
    jpl_plain_batch_put(kv->plain, kv->store, kv->cf, k, klen, v, vlen);
    if (++kv->emitted >= EMIT_FLUSH_ROWS) {
        kv->emitted = 0;
        return jpl_store_write_plain(kv->store, kv->plain, false, e);
    }
    return JPL_OK;
}

void pkv_release(pkv *kv)
{
    free(kv->last);
    kv->last = NULL;
}
