/*
 * The write overlay behind jpl_batch (see overlay.h): entries live in one growable array (stable
 * indices) found through an open-addressing table; every change pushes the entry's previous state
 * onto an undo log, so a save point is just a position in that log. Entries touched by the batch
 * are listed in first-write order for building the RocksDB write batch.
 */
#include "overlay.h"

#include "jpl/store.h"

#include <stdlib.h>
#include <string.h>

#define ENTRY_OVERHEAD 64 /* bytes counted per entry beyond its key and value */
#define FIRST_TABLE 1024

enum { ST_NONE = 0, ST_PRESENT = 1, ST_ABSENT = 2 };

typedef struct {
    uint8_t *key;
    uint8_t *val; /* NULL unless ST_PRESENT */
    uint32_t klen, vlen;
    uint32_t hash;
    int cf;
    uint8_t state;
    bool dirty;  /* holds an uncommitted write */
    bool listed; /* in the dirty list */
} entry;

typedef struct {
    uint32_t idx;
    uint8_t state;
    bool dirty;
    uint8_t *val;
    uint32_t vlen;
} undo_rec;

struct jpl_overlay {
    entry *ents;
    size_t n_ents, cap_ents;
    uint32_t *table; /* 0: empty, else entry index + 1 */
    size_t tcap;     /* power of two */
    undo_rec *undo;
    size_t n_undo, cap_undo;
    size_t *saves;
    size_t n_saves, cap_saves;
    uint32_t *dirty;
    size_t n_dirty, cap_dirty;
    size_t keep_bytes, bytes;
};

uint32_t jpl_hash_bytes(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 16777619u;
    }
    h ^= h >> 15;
    h *= 0x2c1b3c6dU;
    h ^= h >> 12;
    return h;
}

/* Makes room for one more element in a growable array of elem-sized items. */
static bool reserve(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 64;
    void *p = realloc(*arr, ncap * elem);
    if (p == NULL)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

jpl_overlay *jpl_overlay_new(size_t keep_bytes)
{
    jpl_overlay *o = calloc(1, sizeof *o);
    if (o == NULL)
        return NULL;
    o->tcap = FIRST_TABLE;
    o->table = calloc(o->tcap, sizeof *o->table);
    if (o->table == NULL) {
        free(o);
        return NULL;
    }
    o->keep_bytes = keep_bytes;
    return o;
}

static void drop_entries(jpl_overlay *o)
{
    for (size_t i = 0; i < o->n_ents; i++) {
        free(o->ents[i].key);
        free(o->ents[i].val);
    }
    o->n_ents = 0;
    o->bytes = 0;
    memset(o->table, 0, o->tcap * sizeof *o->table);
}

static void drop_undo(jpl_overlay *o)
{
    for (size_t i = 0; i < o->n_undo; i++) {
        free(o->undo[i].val);
        o->bytes -= o->undo[i].vlen;
    }
    o->n_undo = 0;
    o->n_saves = 0;
}

void jpl_overlay_free(jpl_overlay *o)
{
    if (o == NULL)
        return;
    drop_undo(o);
    drop_entries(o);
    free(o->ents);
    free(o->table);
    free(o->undo);
    free(o->saves);
    free(o->dirty);
    free(o);
}

static size_t probe_start(const jpl_overlay *o, uint32_t h)
{
    return (size_t)h & (o->tcap - 1);
}

static bool same_key(const entry *x, uint32_t h, int cf, const void *key, size_t klen)
{
    return x->hash == h && x->cf == cf && x->klen == klen && memcmp(x->key, key, klen) == 0;
}

/* Index of (cf, key) or -1. */
static long find_index(const jpl_overlay *o, int cf, const void *key, size_t klen, uint32_t h)
{
    for (size_t i = probe_start(o, h);; i = (i + 1) & (o->tcap - 1)) {
        uint32_t t = o->table[i];
        if (t == 0)
            return -1;
        if (same_key(&o->ents[t - 1], h, cf, key, klen))
            return (long)(t - 1);
    }
}

static void table_insert(jpl_overlay *o, uint32_t idx)
{
    size_t i = probe_start(o, o->ents[idx].hash);
    while (o->table[i] != 0)
        i = (i + 1) & (o->tcap - 1);
    o->table[i] = idx + 1;
}

static bool grow_table(jpl_overlay *o)
{
    uint32_t *t = calloc(o->tcap * 2, sizeof *t);
    if (t == NULL)
        return false;
    free(o->table);
    o->table = t;
    o->tcap *= 2;
    for (size_t i = 0; i < o->n_ents; i++)
        table_insert(o, (uint32_t)i);
    return true;
}

/* Index of (cf, key), adding an ST_NONE entry if missing; -1 when out of memory. */
static long entry_for(jpl_overlay *o, int cf, const void *key, size_t klen)
{
    uint32_t h = jpl_hash_bytes(key, klen);
    long idx = find_index(o, cf, key, klen, h);
    if (idx >= 0)
        return idx;
    if ((o->n_ents + 1) * 2 > o->tcap && !grow_table(o)) /* at most half full */
        return -1;
    if (o->n_ents >= UINT32_MAX - 1 ||
        !reserve((void **)&o->ents, &o->cap_ents, o->n_ents, sizeof *o->ents))
        return -1;
    uint8_t *k = malloc(klen ? klen : 1);
    if (k == NULL)
        return -1;
    memcpy(k, key, klen);
    entry *x = &o->ents[o->n_ents];
    *x = (entry){.key = k, .klen = (uint32_t)klen, .hash = h, .cf = cf, .state = ST_NONE};
    table_insert(o, (uint32_t)o->n_ents);
    o->bytes += klen + ENTRY_OVERHEAD;
    return (long)o->n_ents++;
}

static uint8_t *copy_value(jpl_overlay *o, const void *val, size_t vlen)
{
    uint8_t *v = malloc(vlen ? vlen : 1);
    if (v != NULL) {
        memcpy(v, val, vlen);
        o->bytes += vlen;
    }
    return v;
}

jpl_ov_lookup jpl_overlay_find(jpl_overlay *o, int cf, const void *key, size_t klen,
                               const uint8_t **v, size_t *vlen)
{
    long idx = find_index(o, cf, key, klen, jpl_hash_bytes(key, klen));
    if (idx < 0)
        return JPL_OV_MISS;
    const entry *x = &o->ents[idx];
    if (x->state == ST_PRESENT) {
        *v = x->val;
        *vlen = x->vlen;
        return JPL_OV_PRESENT;
    }
    return x->state == ST_ABSENT ? JPL_OV_ABSENT : JPL_OV_MISS;
}

bool jpl_overlay_remember(jpl_overlay *o, int cf, const void *key, size_t klen, const void *val,
                          size_t vlen)
{
    if (o->keep_bytes == 0 || vlen > UINT32_MAX)
        return true;
    long idx = entry_for(o, cf, key, klen);
    if (idx < 0)
        return false;
    entry *x = &o->ents[idx];
    if (x->state != ST_NONE)
        return true; /* the batch or an earlier read already knows better */
    uint8_t *v = val != NULL ? copy_value(o, val, vlen) : NULL;
    if (val != NULL && v == NULL)
        return false;
    x->val = v;
    x->vlen = val != NULL ? (uint32_t)vlen : 0;
    x->state = val != NULL ? ST_PRESENT : ST_ABSENT;
    return true;
}

bool jpl_overlay_write(jpl_overlay *o, int cf, const void *key, size_t klen, const void *val,
                       size_t vlen)
{
    if (vlen > UINT32_MAX)
        return false;
    long idx = entry_for(o, cf, key, klen);
    if (idx < 0 || !reserve((void **)&o->undo, &o->cap_undo, o->n_undo, sizeof *o->undo) ||
        !reserve((void **)&o->dirty, &o->cap_dirty, o->n_dirty, sizeof *o->dirty))
        return false;
    uint8_t *v = val != NULL ? copy_value(o, val, vlen) : NULL;
    if (val != NULL && v == NULL)
        return false;
    entry *x = &o->ents[idx];
    o->undo[o->n_undo++] = (undo_rec){
        .idx = (uint32_t)idx, .state = x->state, .dirty = x->dirty, .val = x->val, .vlen = x->vlen};
    x->val = v;
    x->vlen = val != NULL ? (uint32_t)vlen : 0;
    x->state = val != NULL ? ST_PRESENT : ST_ABSENT;
    x->dirty = true;
    if (!x->listed) {
        x->listed = true;
        o->dirty[o->n_dirty++] = (uint32_t)idx;
    }
    return true;
}

bool jpl_overlay_savepoint(jpl_overlay *o)
{
    if (!reserve((void **)&o->saves, &o->cap_saves, o->n_saves, sizeof *o->saves))
        return false;
    o->saves[o->n_saves++] = o->n_undo;
    return true;
}

static void undo_to(jpl_overlay *o, size_t mark)
{
    while (o->n_undo > mark) {
        undo_rec *u = &o->undo[--o->n_undo];
        entry *x = &o->ents[u->idx];
        free(x->val);
        o->bytes -= x->vlen;
        x->val = u->val;
        x->vlen = u->vlen;
        x->state = u->state;
        x->dirty = u->dirty;
    }
}

bool jpl_overlay_rollback(jpl_overlay *o)
{
    if (o->n_saves == 0)
        return false;
    undo_to(o, o->saves[--o->n_saves]);
    return true;
}

size_t jpl_overlay_dirty_count(const jpl_overlay *o)
{
    size_t n = 0;
    for (size_t i = 0; i < o->n_dirty; i++)
        n += o->ents[o->dirty[i]].dirty;
    return n;
}

/* qsort has no context argument: the entries being sorted (the writer is one thread per
 * overlay, and sorting is only ever done by that thread). */
static _Thread_local const entry *sort_ents;

static int cmp_dirty(const void *a, const void *b)
{
    const entry *x = &sort_ents[*(const uint32_t *)a], *y = &sort_ents[*(const uint32_t *)b];
    if (x->cf != y->cf)
        return x->cf < y->cf ? -1 : 1;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->key, y->key, n);
    if (c != 0)
        return c;
    return x->klen < y->klen ? -1 : x->klen > y->klen;
}

void jpl_overlay_sort_dirty(jpl_overlay *o)
{
    if (o->n_dirty < 2)
        return;
    sort_ents = o->ents;
    qsort(o->dirty, o->n_dirty, sizeof *o->dirty, cmp_dirty);
    sort_ents = NULL;
}

void jpl_overlay_each_dirty(const jpl_overlay *o,
                            void (*fn)(void *ctx, int cf, const uint8_t *key, size_t klen,
                                       const uint8_t *val, size_t vlen),
                            void *ctx)
{
    for (size_t i = 0; i < o->n_dirty; i++) {
        const entry *x = &o->ents[o->dirty[i]];
        if (x->dirty)
            fn(ctx, x->cf, x->key, x->klen, x->state == ST_PRESENT ? x->val : NULL, x->vlen);
    }
}

/* Ends a batch: clears the dirty list, then forgets everything if the budget says so. */
static void end_batch(jpl_overlay *o)
{
    for (size_t i = 0; i < o->n_dirty; i++) {
        entry *x = &o->ents[o->dirty[i]];
        x->dirty = false;
        x->listed = false;
    }
    o->n_dirty = 0;
    if (o->keep_bytes == 0 || o->bytes > o->keep_bytes)
        drop_entries(o);
}

void jpl_overlay_committed(jpl_overlay *o)
{
    drop_undo(o);
    end_batch(o);
}

void jpl_overlay_discard(jpl_overlay *o)
{
    undo_to(o, 0);
    o->n_saves = 0;
    end_batch(o);
}

void jpl_overlay_forget(jpl_overlay *o)
{
    if (o->n_undo == 0 && o->n_dirty == 0)
        drop_entries(o);
}
