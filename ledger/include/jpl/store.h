/*
 * Storage adapter: the only code that talks to RocksDB. One database with column families; all
 * writes go through a write batch (jpl_batch, an in-memory overlay: overlay.c) that can be read
 * through before it is committed, with save points so one append batch of a group can be undone
 * on a rule violation.
 *
 * Column families (keys are big-endian so byte order is numeric order):
 *   default      meta: "log_size" -> u64, "origin" -> text, "format" -> u32
 *   log          seq u64 -> LogEntry bytes (the Merkle leaf)
 *   ids          event id (16) -> seq u64
 *   streams      NIP (18) || version u64 -> seq u64
 *   tree         level u8 || index u64 -> SHA-256 of a complete subtree
 *   checkpoints  tree size u64 -> signed checkpoint note
 *   state        validation state of the writer (keys, employees, revocations, recognitions)
 * Further families (projections) are created by name at run time.
 *
 * Threads: every function may be called from several threads at once, except that a batch, an
 * iterator, a table-file load and a snapshot belong to one thread at a time. Non-core families
 * may be created and dropped while other threads use them: a dropped family disappears by name
 * at once, but whoever holds it (an iterator, a write in progress, a snapshot) keeps reading it
 * until it lets go; other uses of a dropped family's index fail with JPL_ERR_INTERNAL.
 */
#ifndef JPL_STORE_H
#define JPL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jpl/err.h"

typedef enum {
    JPL_CF_META = 0,
    JPL_CF_LOG,
    JPL_CF_IDS,
    JPL_CF_STREAMS,
    JPL_CF_TREE,
    JPL_CF_CHECKPOINTS,
    JPL_CF_STATE,
    JPL_CF__CORE_COUNT
} jpl_core_cf;

#define JPL_STORE_MAX_CF 32

typedef struct jpl_store jpl_store;
typedef struct jpl_batch jpl_batch;
typedef struct jpl_iter jpl_iter;

typedef enum {
    JPL_STORE_READ_ONLY = 0, /* concurrent with a writer process; sees the state at open */
    JPL_STORE_WRITE = 1,     /* exclusive (RocksDB LOCK) */
    JPL_STORE_CREATE = 2,    /* create; fails with JPL_ERR_EXISTS if a database is there */
} jpl_store_mode;

/* Opens the database at path. On success *out owns it; close with jpl_store_close. */
jpl_err jpl_store_open(const char *path, jpl_store_mode mode, jpl_store **out, jpl_error *e);
/* Writes every family's memtable to a table file, so that the next open (read-only opens
 * included) has no write-ahead log to replay; a no-op on a read-only store. Best effort: on
 * failure the log is replayed instead. Closing a writable store does it too. */
void jpl_store_flush(jpl_store *s);
/* Closes and frees; accepts NULL. */
void jpl_store_close(jpl_store *s);

/* Index of the column family called name; with create, makes it if missing (write mode only).
 * JPL_ERR_NOT_FOUND if missing and !create. */
jpl_err jpl_store_cf(jpl_store *s, const char *name, bool create, int *cf_out, jpl_error *e);
/* Drops a non-core column family and all its data (its data and handle go when the last
 * iterator or snapshot holding it is freed). */
jpl_err jpl_store_cf_drop(jpl_store *s, int cf, jpl_error *e);
/* Names of all column families on disk whose name starts with prefix; caller frees each and the
 * array with jpl_store_names_free. */
jpl_err jpl_store_cf_list(jpl_store *s, const char *prefix, char ***names_out, size_t *n_out,
                          jpl_error *e);
void jpl_store_names_free(char **names, size_t n);

/* Reads key in cf. *val_out is malloc'd (caller frees). JPL_ERR_NOT_FOUND if absent. */
jpl_err jpl_store_get(jpl_store *s, int cf, const void *key, size_t klen, uint8_t **val_out,
                      size_t *vlen_out, jpl_error *e);

/* Write batch that can be read through before it is committed. Each key is written once per
 * commit, with its last value. */
jpl_batch *jpl_batch_new(void);
/* The same, keeping up to keep_bytes of what it read and committed in memory between writes, so
 * later reads of the same keys need no database read; families whose bit is set in
 * write_once_mask (written once, rarely read back: the log, the tree) are kept only until their
 * write, so that they do not push the hot rows out. Only for a batch through which all writes
 * to the store go (the ledger's single writer); call jpl_batch_forget when something else may
 * have written. */
jpl_batch *jpl_batch_new_caching(size_t keep_bytes, uint64_t write_once_mask);
void jpl_batch_free(jpl_batch *b);
/* Abandons the uncommitted writes (after a failed or skipped write). */
void jpl_batch_clear(jpl_batch *b);
/* Forgets the kept committed state; call between writes. */
void jpl_batch_forget(jpl_batch *b);
void jpl_batch_put(jpl_batch *b, jpl_store *s, int cf, const void *key, size_t klen,
                   const void *val, size_t vlen);
void jpl_batch_delete(jpl_batch *b, jpl_store *s, int cf, const void *key, size_t klen);
/* Reads through the batch (its own writes first, then the database). Same contract as get. */
jpl_err jpl_batch_get(jpl_batch *b, jpl_store *s, int cf, const void *key, size_t klen,
                      uint8_t **val_out, size_t *vlen_out, jpl_error *e);
void jpl_batch_savepoint(jpl_batch *b);
jpl_err jpl_batch_rollback(jpl_batch *b, jpl_error *e);
/* Commits the batch atomically (with sync the WAL is fsynced before return) and empties it. */
jpl_err jpl_store_write(jpl_store *s, jpl_batch *b, bool sync, jpl_error *e);

/* Forward iterator over cf starting at the first key >= start (NULL: first key). A family
 * that does not exist gives an iterator with no rows whose status is JPL_ERR_INTERNAL. NULL only
 * when out of memory (jpl_iter_valid and jpl_iter_status accept NULL). */
jpl_iter *jpl_store_iter(jpl_store *s, int cf, const void *start, size_t slen);
bool jpl_iter_valid(const jpl_iter *it);
void jpl_iter_next(jpl_iter *it);
/* Positions at the last key of the family. */
void jpl_iter_last(jpl_iter *it);
/* Borrowed until the next move or free. */
const uint8_t *jpl_iter_key(const jpl_iter *it, size_t *len_out);
const uint8_t *jpl_iter_value(const jpl_iter *it, size_t *len_out);
/* JPL_OK or the iterator's I/O error. */
jpl_err jpl_iter_status(const jpl_iter *it, jpl_error *e);
void jpl_iter_free(jpl_iter *it);

/* ---- snapshots ----
 * A consistent read of the whole database as of one moment (a RocksDB snapshot): reads through
 * it see exactly the writes committed before it was taken, in every family, whatever the writer
 * commits meanwhile. It holds every family that existed when it was taken, so a family dropped
 * since (an old projection generation) stays readable through it. On a read-only store, whose
 * state is fixed at open, it reads that state. */
typedef struct jpl_snapshot jpl_snapshot;
/* Takes a snapshot of s; close it with jpl_snapshot_close before closing s. */
jpl_err jpl_snapshot_open(jpl_store *s, jpl_snapshot **out, jpl_error *e);
/* Releases the snapshot and the families it held; accepts NULL. Free its iterators first. */
void jpl_snapshot_close(jpl_snapshot *v);
/* Index of family name as the snapshot holds it (a family dropped since included).
 * JPL_ERR_NOT_FOUND if it did not exist when the snapshot was taken. */
jpl_err jpl_snapshot_cf(const jpl_snapshot *v, const char *name, int *cf_out, jpl_error *e);
/* jpl_store_get and jpl_store_iter as of the snapshot; cf must be a core family or one the
 * snapshot holds (JPL_ERR_INTERNAL otherwise). */
jpl_err jpl_snapshot_get(const jpl_snapshot *v, int cf, const void *key, size_t klen,
                         uint8_t **val_out, size_t *vlen_out, jpl_error *e);
jpl_iter *jpl_snapshot_iter(const jpl_snapshot *v, int cf, const void *start, size_t slen);

/* Reads every key and value of every column family except those whose bit is set in skip_mask
 * (bit cf: callers that read those families in full themselves), so that RocksDB checks every
 * block's checksum; JPL_ERR_CORRUPT names the family that fails. */
jpl_err jpl_store_check_all(jpl_store *s, uint64_t skip_mask, jpl_error *e);

/* FNV-1a with a final mix: a 32-bit hash of n bytes, for in-memory tables of keys. */
uint32_t jpl_hash_bytes(const void *p, size_t n);

/* Big-endian helpers for keys and values. */
void jpl_put_u64be(uint8_t out[8], uint64_t v);
uint64_t jpl_get_u64be(const uint8_t in[8]);
void jpl_put_u32be(uint8_t out[4], uint32_t v);
uint32_t jpl_get_u32be(const uint8_t in[4]);

/* Bulk load of a family from keys in strictly increasing order: a sorted table file written
 * beside the database (DIR/bulk/) and ingested whole, without WAL or memtable. Nothing of it is
 * visible in the family before jpl_sst_ingest succeeds, and ingestion is atomic; a crash
 * leaves at most a stray file, which jpl_store_bulk_clean removes. One load per family at a
 * time. */
typedef struct jpl_sst jpl_sst;
/* Starts a load into cf (write mode only). *out is freed with jpl_sst_free. */
jpl_err jpl_sst_new(jpl_store *s, int cf, jpl_sst **out, jpl_error *e);
/* Adds a row; its key must be greater than the previous one (JPL_ERR_INTERNAL otherwise). */
jpl_err jpl_sst_put(jpl_sst *t, const void *key, size_t klen, const void *val, size_t vlen,
                    jpl_error *e);
/* Finishes the file (synced) and ingests it into the family; at least one row is needed. */
jpl_err jpl_sst_ingest(jpl_sst *t, jpl_error *e);
/* Frees t, removing its file unless it was ingested; accepts NULL. */
void jpl_sst_free(jpl_sst *t);
/* Removes the files of loads that were interrupted (a crash); call when no load runs. */
jpl_err jpl_store_bulk_clean(jpl_store *s, jpl_error *e);

#endif
