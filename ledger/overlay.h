/*
 * The write overlay behind jpl_batch (store.c): an in-memory map of (family, key) to the batch's
 * uncommitted writes, with an undo log for save points, and optionally a cache of committed values
 * and known absences so that the single writer reads its hot state (keys, employees, stream
 * versions, projection rows) from memory instead of RocksDB. Pure C, no RocksDB calls. Not
 * installed.
 */
#ifndef JPL_OVERLAY_H
#define JPL_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct jpl_overlay jpl_overlay;

typedef enum {
    JPL_OV_MISS = 0,    /* not known: read the database */
    JPL_OV_PRESENT = 1, /* *v holds the value (written in the batch or committed) */
    JPL_OV_ABSENT = 2,  /* deleted in the batch, or known not to exist */
} jpl_ov_lookup;

/* keep_bytes: how much committed state to keep between batches (0: none, forget at every
 * commit or discard). NULL when out of memory. */
jpl_overlay *jpl_overlay_new(size_t keep_bytes);
void jpl_overlay_free(jpl_overlay *o);

/* Looks (cf, key) up; on JPL_OV_PRESENT *v is borrowed until the next change of o. */
jpl_ov_lookup jpl_overlay_find(jpl_overlay *o, int cf, const void *key, size_t klen,
                               const uint8_t **v, size_t *vlen);
/* Records what the database holds for (cf, key) (val NULL: absent), when o keeps committed state
 * and the key has no entry yet. False when out of memory. */
bool jpl_overlay_remember(jpl_overlay *o, int cf, const void *key, size_t klen, const void *val,
                          size_t vlen);
/* Records an uncommitted put (val non-NULL) or delete (val NULL). False when out of memory (o is
 * then unchanged). */
bool jpl_overlay_write(jpl_overlay *o, int cf, const void *key, size_t klen, const void *val,
                       size_t vlen);

/* Marks a point that jpl_overlay_rollback returns to (save points nest). */
bool jpl_overlay_savepoint(jpl_overlay *o);
/* Undoes every write since the last save point and pops it; false when there is none. */
bool jpl_overlay_rollback(jpl_overlay *o);

/* Number of keys with an uncommitted write. */
size_t jpl_overlay_dirty_count(const jpl_overlay *o);
/* Orders the keys with uncommitted writes by family, then key bytes (RocksDB inserts sorted
 * keys into its memtables much faster). */
void jpl_overlay_sort_dirty(jpl_overlay *o);
/* Calls fn once per key with an uncommitted write, in first-write order or the order of the last
 * jpl_overlay_sort_dirty (val NULL: delete). */
void jpl_overlay_each_dirty(const jpl_overlay *o,
                            void (*fn)(void *ctx, int cf, const uint8_t *key, size_t klen,
                                       const uint8_t *val, size_t vlen),
                            void *ctx);
/* The writes are durable: they become committed state (kept within the budget). */
void jpl_overlay_committed(jpl_overlay *o);
/* The writes are abandoned: undoes every uncommitted write and save point. */
void jpl_overlay_discard(jpl_overlay *o);
/* Forgets all committed state (someone else may have written the database); keeps uncommitted
 * writes. */
void jpl_overlay_forget(jpl_overlay *o);

#endif
