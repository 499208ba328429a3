/*
 * RocksDB adapter: the one file that calls the RocksDB C API (see store.h for the families and
 * key layouts). Writes are synced WAL writes of batches staged in an overlay (overlay.c); read-only
 * opens let query commands run beside a serving writer. Bulk loads (projection replay) write
 * sorted table files in DIR/bulk/ and ingest them into a family, bypassing the WAL and the
 * memtables.
 *
 * Families beyond the core ones (the projections' generations) are created and dropped while
 * other threads read and write (an online replay beside queries and appends). cf_mu guards their
 * slots; every use of such a family pins it, so its handle stays valid until the last pin goes,
 * and a dropped family is destroyed only then. Core families live as long as the store. A
 * snapshot (jpl_snapshot) pins every family that exists when it is taken.
 */
#include "jpl/store.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>

#include "jpl/keyfile.h"
#include "overlay.h"
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const CORE_CF_NAMES[JPL_CF__CORE_COUNT] = {
    "default", "log", "ids", "streams", "tree", "checkpoints", "state",
};

struct jpl_store {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_block_based_table_options_t *table_opts;
    rocksdb_cache_t *cache;
    rocksdb_readoptions_t *ropts;
    rocksdb_writeoptions_t *wopts_sync;
    rocksdb_writeoptions_t *wopts_nosync;
    rocksdb_column_family_handle_t *cfs[JPL_STORE_MAX_CF];
    char *cf_names[JPL_STORE_MAX_CF];
    int n_cfs;
    bool read_only;
    char *path;            /* the database directory (sorted files for bulk loads go below it) */
    pthread_mutex_t cf_mu; /* guards the slots below and n_cfs, cfs, cf_names */
    int refs[JPL_STORE_MAX_CF];     /* pins of a non-core family */
    bool dropped[JPL_STORE_MAX_CF]; /* dropped: not found by name, destroyed at its last unpin */
};

struct jpl_batch {
    jpl_overlay *ov;
    jpl_overlay *once;  /* families written once and rarely read: kept only until the commit */
    uint64_t once_mask; /* bit cf: the family goes to once */
    rocksdb_writebatch_t *wb; /* built from the overlays at write time */
    bool failed;              /* a put or delete ran out of memory: the write must fail */
};

struct jpl_iter {
    rocksdb_iterator_t *it; /* NULL: the family does not exist (status says so) */
    jpl_store *s;
    int cf;
    bool pinned; /* the iterator holds a pin on cf, released by jpl_iter_free */
};

struct jpl_snapshot {
    jpl_store *s;
    const rocksdb_snapshot_t *snap; /* NULL on a read-only store: its state does not change */
    rocksdb_readoptions_t *ropts;
    uint64_t pinned; /* bit cf: a non-core family pinned until jpl_snapshot_close */
};

void jpl_put_u64be(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

uint64_t jpl_get_u64be(const uint8_t in[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | in[i];
    return v;
}

void jpl_put_u32be(uint8_t out[4], uint32_t v)
{
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
}

uint32_t jpl_get_u32be(const uint8_t in[4])
{
    return ((uint32_t)in[0] << 24) | ((uint32_t)in[1] << 16) | ((uint32_t)in[2] << 8) | in[3];
}

/* Maps a RocksDB error text to a code: damaged data is corrupt, a held lock gets a message a
 * user can act on, anything else is I/O. */
static jpl_err rocks_fail(jpl_error *e, char *err, const char *what)
{
    const char *msg = err ? err : "unknown RocksDB error";
    jpl_err code = JPL_ERR_IO;
    if (strncmp(msg, "Corruption", 10) == 0)
        code = JPL_ERR_CORRUPT;
    if (strstr(msg, "lock file") != NULL && strstr(msg, "unavailable") != NULL)
        jpl_fail(e, code,
                 "%s: the ledger is in use by another process (a running 'jpledger serve' or "
                 "another writing command); read-only commands work meanwhile",
                 what);
    else
        jpl_fail(e, code, "%s: %s", what, msg);
    free(err);
    return code;
}

/* ---- family slots ---- */

static bool is_core(int cf)
{
    return cf >= 0 && cf < JPL_CF__CORE_COUNT;
}

/* The handle of family cf, pinned unless core (release with unpin); NULL if there is no such
 * family or it was dropped. */
static rocksdb_column_family_handle_t *pin(jpl_store *s, int cf)
{
    if (is_core(cf))
        return s->cfs[cf];
    rocksdb_column_family_handle_t *h = NULL;
    pthread_mutex_lock(&s->cf_mu);
    if (cf >= 0 && cf < s->n_cfs && s->cfs[cf] != NULL && !s->dropped[cf]) {
        s->refs[cf]++;
        h = s->cfs[cf];
    }
    pthread_mutex_unlock(&s->cf_mu);
    return h;
}

/* Destroys the handle of a dropped family nobody holds any more, freeing its slot; cf_mu held. */
static void reap(jpl_store *s, int cf)
{
    if (!s->dropped[cf] || s->refs[cf] > 0)
        return;
    rocksdb_column_family_handle_destroy(s->cfs[cf]);
    s->cfs[cf] = NULL;
    s->dropped[cf] = false;
    free(s->cf_names[cf]);
    s->cf_names[cf] = NULL;
}

/* Releases one pin of every family whose bit is set in mask. */
static void unpin_mask(jpl_store *s, uint64_t mask)
{
    if (mask == 0)
        return;
    pthread_mutex_lock(&s->cf_mu);
    for (int cf = JPL_CF__CORE_COUNT; cf < JPL_STORE_MAX_CF; cf++) {
        if ((mask >> cf & 1) == 0)
            continue;
        s->refs[cf]--;
        reap(s, cf);
    }
    pthread_mutex_unlock(&s->cf_mu);
}

static void unpin(jpl_store *s, int cf)
{
    if (!is_core(cf))
        unpin_mask(s, 1ull << cf);
}

static jpl_err missing_cf(jpl_error *e, int cf)
{
    return jpl_fail(e, JPL_ERR_INTERNAL, "column family %d does not exist (dropped?)", cf);
}

static rocksdb_options_t *make_options(rocksdb_block_based_table_options_t **table_out,
                                       rocksdb_cache_t **cache_out)
{
    rocksdb_options_t *o = rocksdb_options_create();
    rocksdb_options_increase_parallelism(o, 2);
    rocksdb_options_set_max_open_files(o, 512);
    /* level 0 holds what was just flushed and is read soon (verify, replay): not compressed */
    int per_level[7] = {rocksdb_no_compression,  rocksdb_lz4_compression, rocksdb_lz4_compression,
                        rocksdb_lz4_compression, rocksdb_lz4_compression, rocksdb_lz4_compression,
                        rocksdb_lz4_compression};
    rocksdb_options_set_compression_per_level(o, per_level, 7);
    rocksdb_options_set_paranoid_checks(o, 1);
    /* a bloom filter per memtable: the writer's many lookups of keys that do not exist yet
     * (new event ids, first rows) skip the skip list */
    rocksdb_options_set_memtable_prefix_bloom_size_ratio(o, 0.05);
    rocksdb_options_set_memtable_whole_key_filtering(o, 1);
    /* the log, the tree and most projection rows are written once and read rarely: let level 0
     * collect more files before compacting (fewer rewrites; point reads pass bloom filters) */
    rocksdb_options_set_level0_file_num_compaction_trigger(o, 12);
    rocksdb_options_set_level0_slowdown_writes_trigger(o, 24);
    rocksdb_options_set_level0_stop_writes_trigger(o, 36);
    /* bounds the log a crashed writer replays: families with few writes get flushed too */
    rocksdb_options_set_max_total_wal_size(o, (uint64_t)256 << 20);
    /* RocksDB's own info log: one per open otherwise, kept forever */
    rocksdb_options_set_keep_log_file_num(o, 2);
    rocksdb_options_set_max_log_file_size(o, 1u << 20);
    rocksdb_block_based_table_options_t *t = rocksdb_block_based_options_create();
    rocksdb_block_based_options_set_filter_policy(t, rocksdb_filterpolicy_create_bloom(10));
    rocksdb_cache_t *cache = rocksdb_cache_create_lru(256u << 20);
    rocksdb_block_based_options_set_block_cache(t, cache);
    rocksdb_options_set_block_based_table_factory(o, t);
    *table_out = t;
    *cache_out = cache;
    return o;
}

/* Names of the families on disk plus any core ones not yet there (new database). */
static jpl_err collect_cf_names(jpl_store *s, const char *path, jpl_error *e)
{
    size_t n = 0;
    char *err = NULL;
    char **names = rocksdb_list_column_families(s->opts, path, &n, &err);
    if (err != NULL) {
        free(err); /* no database yet: only the core families */
        free(names);
        n = 0;
        names = NULL;
    }
    for (int i = 0; i < JPL_CF__CORE_COUNT; i++)
        s->cf_names[s->n_cfs++] = strdup(CORE_CF_NAMES[i]);
    for (size_t i = 0; i < n; i++) {
        bool core = false;
        for (int c = 0; c < JPL_CF__CORE_COUNT; c++)
            core = core || strcmp(names[i], CORE_CF_NAMES[c]) == 0;
        if (core)
            continue;
        if (s->n_cfs >= JPL_STORE_MAX_CF) {
            rocksdb_list_column_families_destroy(names, n);
            return jpl_fail(e, JPL_ERR_CORRUPT, "%s: too many column families", path);
        }
        s->cf_names[s->n_cfs++] = strdup(names[i]);
    }
    if (names)
        rocksdb_list_column_families_destroy(names, n);
    for (int i = 0; i < s->n_cfs; i++)
        if (s->cf_names[i] == NULL)
            return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    return JPL_OK;
}

/* Whether path holds a database RocksDB can list; if not, *err_out (free it) says why. */
static bool database_exists(rocksdb_options_t *opts, const char *path, char **err_out)
{
    size_t n = 0;
    char *err = NULL;
    char **names = rocksdb_list_column_families(opts, path, &n, &err);
    if (err != NULL) {
        *err_out = err;
        free(names); /* RocksDB returns an empty allocation even on failure */
        return false;
    }
    rocksdb_list_column_families_destroy(names, n);
    return true;
}

jpl_err jpl_store_open(const char *path, jpl_store_mode mode, jpl_store **out, jpl_error *e)
{
    jpl_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    pthread_mutex_init(&s->cf_mu, NULL);
    jpl_err rc = JPL_OK;
    s->opts = make_options(&s->table_opts, &s->cache);
    s->ropts = rocksdb_readoptions_create();
    s->wopts_sync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(s->wopts_sync, 1);
    s->wopts_nosync = rocksdb_writeoptions_create();
    s->read_only = mode == JPL_STORE_READ_ONLY;
    if ((s->path = strdup(path)) == NULL) {
        rc = jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
        goto out;
    }

    char *list_err = NULL;
    bool exists = database_exists(s->opts, path, &list_err);
    if (mode == JPL_STORE_CREATE && exists)
        rc = jpl_fail(e, JPL_ERR_EXISTS, "%s: a ledger database already exists", path);
    else if (mode != JPL_STORE_CREATE && !exists && access(path, R_OK | X_OK) != 0 &&
             errno == EACCES)
        rc = jpl_fail(e, JPL_ERR_IO, "%s: %s", path, strerror(EACCES));
    else if (mode != JPL_STORE_CREATE && !exists && jpl_dir_has_entries(path))
        /* files, but no database RocksDB can read (CURRENT lost or damaged): not a new place */
        rc = jpl_fail(e, JPL_ERR_CORRUPT, "%s holds files but no readable database: %s", path,
                      list_err);
    else if (mode != JPL_STORE_CREATE && !exists)
        rc = jpl_fail(e, JPL_ERR_NOT_FOUND, "%s: no ledger database (run 'jpledger init')", path);
    free(list_err);
    if (rc != JPL_OK)
        goto out;
    rocksdb_options_set_create_if_missing(s->opts, mode == JPL_STORE_CREATE);
    rocksdb_options_set_create_missing_column_families(s->opts, mode == JPL_STORE_CREATE);
    if ((rc = collect_cf_names(s, path, e)) != JPL_OK)
        goto out;

    const rocksdb_options_t *cf_opts[JPL_STORE_MAX_CF];
    for (int i = 0; i < s->n_cfs; i++)
        cf_opts[i] = s->opts;
    char *err = NULL;
    if (s->read_only)
        s->db = rocksdb_open_for_read_only_column_families(
            s->opts, path, s->n_cfs, (const char *const *)s->cf_names, cf_opts, s->cfs, 0, &err);
    else
        s->db = rocksdb_open_column_families(
            s->opts, path, s->n_cfs, (const char *const *)s->cf_names, cf_opts, s->cfs, &err);
    if (err != NULL) {
        rc = rocks_fail(e, err, path);
        goto out;
    }
out:
    if (rc != JPL_OK) {
        jpl_store_close(s);
        return rc;
    }
    *out = s;
    return JPL_OK;
}

void jpl_store_flush(jpl_store *s)
{
    if (s->read_only)
        return;
    rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
    rocksdb_flushoptions_set_wait(fo, 1);
    for (int i = 0; i < JPL_STORE_MAX_CF; i++) {
        char *err = NULL;
        rocksdb_column_family_handle_t *h = pin(s, i);
        if (h != NULL) {
            rocksdb_flush_cf(s->db, fo, h, &err);
            unpin(s, i);
        }
        free(err);
    }
    rocksdb_flushoptions_destroy(fo);
}

void jpl_store_close(jpl_store *s)
{
    if (s == NULL)
        return;
    if (s->db != NULL)
        jpl_store_flush(s);
    for (int i = 0; i < s->n_cfs; i++) {
        if (s->cfs[i])
            rocksdb_column_family_handle_destroy(s->cfs[i]);
        free(s->cf_names[i]);
    }
    if (s->db)
        rocksdb_close(s->db);
    if (s->ropts)
        rocksdb_readoptions_destroy(s->ropts);
    if (s->wopts_sync)
        rocksdb_writeoptions_destroy(s->wopts_sync);
    if (s->wopts_nosync)
        rocksdb_writeoptions_destroy(s->wopts_nosync);
    if (s->opts)
        rocksdb_options_destroy(s->opts);
    if (s->table_opts)
        rocksdb_block_based_options_destroy(s->table_opts);
    if (s->cache)
        rocksdb_cache_destroy(s->cache);
    pthread_mutex_destroy(&s->cf_mu);
    free(s->path);
    free(s);
}

/* The live (not dropped) family called name, or -1; cf_mu held. */
static int find_cf(const jpl_store *s, const char *name)
{
    for (int i = 0; i < s->n_cfs; i++)
        if (s->cfs[i] != NULL && !s->dropped[i] && strcmp(s->cf_names[i], name) == 0)
            return i;
    return -1;
}

/* Creates family name in a free slot; cf_mu held. */
static jpl_err create_cf(jpl_store *s, const char *name, int *cf_out, jpl_error *e)
{
    if (s->read_only)
        return jpl_fail(e, JPL_ERR_INTERNAL, "cannot create %s in a read-only store", name);
    int slot = -1;
    for (int i = 0; i < s->n_cfs && slot < 0; i++)
        if (s->cfs[i] == NULL)
            slot = i;
    if (slot < 0 && s->n_cfs >= JPL_STORE_MAX_CF)
        return jpl_fail(e, JPL_ERR_INTERNAL, "too many column families");
    char *copy = strdup(name);
    if (copy == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    char *err = NULL;
    rocksdb_column_family_handle_t *h = rocksdb_create_column_family(s->db, s->opts, name, &err);
    if (err != NULL) {
        free(copy);
        return rocks_fail(e, err, name);
    }
    if (slot < 0)
        slot = s->n_cfs++;
    free(s->cf_names[slot]);
    s->cf_names[slot] = copy;
    s->cfs[slot] = h;
    s->refs[slot] = 0;
    *cf_out = slot;
    return JPL_OK;
}

jpl_err jpl_store_cf(jpl_store *s, const char *name, bool create, int *cf_out, jpl_error *e)
{
    pthread_mutex_lock(&s->cf_mu);
    int cf = find_cf(s, name);
    jpl_err rc = JPL_OK;
    if (cf < 0 && !create)
        rc = jpl_fail(e, JPL_ERR_NOT_FOUND, "column family %s does not exist", name);
    else if (cf < 0)
        rc = create_cf(s, name, &cf, e);
    pthread_mutex_unlock(&s->cf_mu);
    if (rc == JPL_OK)
        *cf_out = cf;
    return rc;
}

jpl_err jpl_store_cf_drop(jpl_store *s, int cf, jpl_error *e)
{
    /* hidden by name at once; readers that pinned it keep reading it until they let go */
    pthread_mutex_lock(&s->cf_mu);
    rocksdb_column_family_handle_t *h = NULL;
    if (!is_core(cf) && cf >= 0 && cf < s->n_cfs && s->cfs[cf] != NULL && !s->dropped[cf]) {
        h = s->cfs[cf];
        s->dropped[cf] = true;
        s->refs[cf]++;
    }
    pthread_mutex_unlock(&s->cf_mu);
    if (h == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "cannot drop column family %d", cf);
    char *err = NULL;
    rocksdb_drop_column_family(s->db, h, &err);
    pthread_mutex_lock(&s->cf_mu);
    jpl_err rc = JPL_OK;
    if (err != NULL) {
        s->dropped[cf] = false; /* still there */
        rc = rocks_fail(e, err, s->cf_names[cf]);
    }
    s->refs[cf]--;
    reap(s, cf);
    pthread_mutex_unlock(&s->cf_mu);
    return rc;
}

jpl_err jpl_store_cf_list(jpl_store *s, const char *prefix, char ***names_out, size_t *n_out,
                          jpl_error *e)
{
    char **names = calloc(JPL_STORE_MAX_CF, sizeof *names);
    if (names == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    size_t n = 0;
    pthread_mutex_lock(&s->cf_mu);
    for (int i = 0; i < s->n_cfs; i++)
        if (s->cfs[i] != NULL && !s->dropped[i] &&
            strncmp(s->cf_names[i], prefix, strlen(prefix)) == 0)
            names[n++] = strdup(s->cf_names[i]);
    pthread_mutex_unlock(&s->cf_mu);
    *names_out = names;
    *n_out = n;
    return JPL_OK;
}

void jpl_store_names_free(char **names, size_t n)
{
    if (names == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static jpl_err take_value(char *val, size_t vlen, char *err, uint8_t **val_out, size_t *vlen_out,
                          jpl_error *e)
{
    if (err != NULL)
        return rocks_fail(e, err, "read");
    if (val == NULL)
        return JPL_ERR_NOT_FOUND; /* callers decide whether absence is an error worth a message */
    *val_out = (uint8_t *)val;
    *vlen_out = vlen;
    return JPL_OK;
}

jpl_err jpl_store_get(jpl_store *s, int cf, const void *key, size_t klen, uint8_t **val_out,
                      size_t *vlen_out, jpl_error *e)
{
    rocksdb_column_family_handle_t *h = pin(s, cf);
    if (h == NULL)
        return missing_cf(e, cf);
    size_t vlen = 0;
    char *err = NULL;
    char *val = rocksdb_get_cf(s->db, s->ropts, h, key, klen, &vlen, &err);
    unpin(s, cf);
    return take_value(val, vlen, err, val_out, vlen_out, e);
}

jpl_batch *jpl_batch_new(void)
{
    return jpl_batch_new_caching(0, 0);
}

/* The overlay that holds family cf. */
static jpl_overlay *overlay_of(jpl_batch *b, int cf)
{
    return b->once != NULL && cf >= 0 && cf < 64 && (b->once_mask >> cf & 1) ? b->once : b->ov;
}

jpl_batch *jpl_batch_new_caching(size_t keep_bytes, uint64_t write_once_mask)
{
    jpl_batch *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->ov = jpl_overlay_new(keep_bytes);
    b->once_mask = write_once_mask;
    b->once = keep_bytes > 0 && write_once_mask != 0 ? jpl_overlay_new(0) : NULL;
    b->wb = rocksdb_writebatch_create();
    if (b->ov == NULL || (keep_bytes > 0 && write_once_mask != 0 && b->once == NULL)) {
        jpl_batch_free(b);
        return NULL;
    }
    return b;
}

void jpl_batch_free(jpl_batch *b)
{
    if (b == NULL)
        return;
    jpl_overlay_free(b->ov);
    jpl_overlay_free(b->once);
    rocksdb_writebatch_destroy(b->wb);
    free(b);
}

void jpl_batch_clear(jpl_batch *b)
{
    jpl_overlay_discard(b->ov);
    if (b->once != NULL)
        jpl_overlay_discard(b->once);
    b->failed = false;
}

void jpl_batch_forget(jpl_batch *b)
{
    jpl_overlay_forget(b->ov);
    if (b->once != NULL)
        jpl_overlay_forget(b->once);
}

void jpl_batch_put(jpl_batch *b, jpl_store *s, int cf, const void *key, size_t klen,
                   const void *val, size_t vlen)
{
    (void)s;
    if (!jpl_overlay_write(overlay_of(b, cf), cf, key, klen, val != NULL ? val : "", vlen))
        b->failed = true;
}

void jpl_batch_delete(jpl_batch *b, jpl_store *s, int cf, const void *key, size_t klen)
{
    (void)s;
    if (!jpl_overlay_write(overlay_of(b, cf), cf, key, klen, NULL, 0))
        b->failed = true;
}

static jpl_err copy_out(const uint8_t *v, size_t vlen, uint8_t **val_out, size_t *vlen_out,
                        jpl_error *e)
{
    uint8_t *c = malloc(vlen ? vlen : 1);
    if (c == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    memcpy(c, v, vlen);
    *val_out = c;
    *vlen_out = vlen;
    return JPL_OK;
}

jpl_err jpl_batch_get(jpl_batch *b, jpl_store *s, int cf, const void *key, size_t klen,
                      uint8_t **val_out, size_t *vlen_out, jpl_error *e)
{
    const uint8_t *v = NULL;
    size_t vlen = 0;
    switch (jpl_overlay_find(overlay_of(b, cf), cf, key, klen, &v, &vlen)) {
    case JPL_OV_PRESENT:
        return copy_out(v, vlen, val_out, vlen_out, e);
    case JPL_OV_ABSENT:
        return JPL_ERR_NOT_FOUND;
    case JPL_OV_MISS:
        break;
    }
    uint8_t *val = NULL;
    jpl_err rc = jpl_store_get(s, cf, key, klen, &val, &vlen, e);
    if (rc == JPL_OK || rc == JPL_ERR_NOT_FOUND)
        (void)jpl_overlay_remember(overlay_of(b, cf), cf, key, klen, rc == JPL_OK ? val : NULL,
                                   vlen);
    if (rc == JPL_OK) {
        *val_out = val;
        *vlen_out = vlen;
    }
    return rc;
}

void jpl_batch_savepoint(jpl_batch *b)
{
    if (!jpl_overlay_savepoint(b->ov) || (b->once != NULL && !jpl_overlay_savepoint(b->once)))
        b->failed = true;
}

jpl_err jpl_batch_rollback(jpl_batch *b, jpl_error *e)
{
    if (b->failed)
        return jpl_fail(e, JPL_ERR_INTERNAL, "rollback: out of memory while staging");
    if (!jpl_overlay_rollback(b->ov) || (b->once != NULL && !jpl_overlay_rollback(b->once)))
        return jpl_fail(e, JPL_ERR_INTERNAL, "rollback: no save point");
    return JPL_OK;
}

typedef struct {
    jpl_store *s;
    rocksdb_writebatch_t *wb;
    int bad_cf;      /* a write to a family that does not exist (dropped), or -1 */
    uint64_t pinned; /* bit cf: pinned until the batch is written */
    rocksdb_column_family_handle_t *h[JPL_STORE_MAX_CF];
} fill_ctx;

/* The handle of cf for the batch being built: pinned at its first write, NULL if missing. */
static rocksdb_column_family_handle_t *fill_handle(fill_ctx *f, int cf)
{
    if (cf < 0 || cf >= JPL_STORE_MAX_CF)
        return NULL;
    if (is_core(cf))
        return f->s->cfs[cf];
    if ((f->pinned >> cf & 1) == 0 && (f->h[cf] = pin(f->s, cf)) != NULL)
        f->pinned |= 1ull << cf;
    return f->h[cf];
}

static void fill_one(void *ctx, int cf, const uint8_t *key, size_t klen, const uint8_t *val,
                     size_t vlen)
{
    fill_ctx *f = ctx;
    rocksdb_column_family_handle_t *h = fill_handle(f, cf);
    if (h == NULL) {
        f->bad_cf = cf;
        return;
    }
    if (val != NULL)
        rocksdb_writebatch_put_cf(f->wb, h, (const char *)key, klen, (const char *)val, vlen);
    else
        rocksdb_writebatch_delete_cf(f->wb, h, (const char *)key, klen);
}

jpl_err jpl_store_write(jpl_store *s, jpl_batch *b, bool sync, jpl_error *e)
{
    if (b->failed)
        return jpl_fail(e, JPL_ERR_INTERNAL, "write: out of memory while staging the batch");
    rocksdb_writebatch_clear(b->wb);
    fill_ctx f = {.s = s, .wb = b->wb, .bad_cf = -1};
    jpl_overlay_sort_dirty(b->ov);
    jpl_overlay_each_dirty(b->ov, fill_one, &f);
    if (b->once != NULL) {
        jpl_overlay_sort_dirty(b->once);
        jpl_overlay_each_dirty(b->once, fill_one, &f);
    }
    if (f.bad_cf != -1) {
        rocksdb_writebatch_clear(b->wb);
        unpin_mask(s, f.pinned);
        return jpl_fail(e, JPL_ERR_INTERNAL, "write: column family %d does not exist", f.bad_cf);
    }
    char *err = NULL;
    rocksdb_write(s->db, sync ? s->wopts_sync : s->wopts_nosync, b->wb, &err);
    rocksdb_writebatch_clear(b->wb);
    unpin_mask(s, f.pinned);
    if (err != NULL)
        return rocks_fail(e, err, "write");
    jpl_overlay_committed(b->ov);
    if (b->once != NULL)
        jpl_overlay_committed(b->once);
    return JPL_OK;
}

/* An iterator over family h (NULL: a missing family cf, which the status reports) read with
 * ropts; pinned: it holds a pin of cf that jpl_iter_free releases. */
static jpl_iter *make_iter(jpl_store *s, int cf, rocksdb_column_family_handle_t *h,
                           rocksdb_readoptions_t *ropts, bool pinned, const void *start,
                           size_t slen)
{
    jpl_iter *it = calloc(1, sizeof *it);
    if (it == NULL) {
        if (pinned)
            unpin(s, cf);
        return NULL;
    }
    it->s = s;
    it->cf = cf;
    it->pinned = pinned;
    if (h == NULL)
        return it;
    it->it = rocksdb_create_iterator_cf(s->db, ropts, h);
    if (start != NULL)
        rocksdb_iter_seek(it->it, start, slen);
    else
        rocksdb_iter_seek_to_first(it->it);
    return it;
}

jpl_iter *jpl_store_iter(jpl_store *s, int cf, const void *start, size_t slen)
{
    rocksdb_column_family_handle_t *h = pin(s, cf);
    return make_iter(s, cf, h, s->ropts, h != NULL && !is_core(cf), start, slen);
}

bool jpl_iter_valid(const jpl_iter *it)
{
    return it != NULL && it->it != NULL && rocksdb_iter_valid(it->it);
}

void jpl_iter_next(jpl_iter *it)
{
    if (it->it != NULL)
        rocksdb_iter_next(it->it);
}

void jpl_iter_last(jpl_iter *it)
{
    if (it->it != NULL)
        rocksdb_iter_seek_to_last(it->it);
}

const uint8_t *jpl_iter_key(const jpl_iter *it, size_t *len_out)
{
    return (const uint8_t *)rocksdb_iter_key(it->it, len_out);
}

const uint8_t *jpl_iter_value(const jpl_iter *it, size_t *len_out)
{
    return (const uint8_t *)rocksdb_iter_value(it->it, len_out);
}

jpl_err jpl_iter_status(const jpl_iter *it, jpl_error *e)
{
    if (it == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    if (it->it == NULL)
        return missing_cf(e, it->cf);
    char *err = NULL;
    rocksdb_iter_get_error(it->it, &err);
    if (err != NULL)
        return rocks_fail(e, err, "iterate");
    return JPL_OK;
}

void jpl_iter_free(jpl_iter *it)
{
    if (it == NULL)
        return;
    if (it->it != NULL)
        rocksdb_iter_destroy(it->it);
    if (it->pinned)
        unpin(it->s, it->cf);
    free(it);
}

/* ---- snapshots ---- */

jpl_err jpl_snapshot_open(jpl_store *s, jpl_snapshot **out, jpl_error *e)
{
    jpl_snapshot *v = calloc(1, sizeof *v);
    rocksdb_readoptions_t *ro = v != NULL ? rocksdb_readoptions_create() : NULL;
    if (ro == NULL) {
        free(v);
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    }
    v->s = s;
    v->ropts = ro;
    /* the sequence number and the pins are taken together: a family is created before any row
     * names it and dropped only after no row does, so every family the snapshot's rows can name
     * is pinned */
    pthread_mutex_lock(&s->cf_mu);
    if (!s->read_only) {
        v->snap = rocksdb_create_snapshot(s->db);
        rocksdb_readoptions_set_snapshot(ro, v->snap);
    }
    for (int cf = JPL_CF__CORE_COUNT; cf < s->n_cfs; cf++) {
        if (s->cfs[cf] != NULL && !s->dropped[cf]) {
            s->refs[cf]++;
            v->pinned |= 1ull << cf;
        }
    }
    pthread_mutex_unlock(&s->cf_mu);
    *out = v;
    return JPL_OK;
}

void jpl_snapshot_close(jpl_snapshot *v)
{
    if (v == NULL)
        return;
    if (v->snap != NULL)
        rocksdb_release_snapshot(v->s->db, v->snap);
    rocksdb_readoptions_destroy(v->ropts);
    unpin_mask(v->s, v->pinned);
    free(v);
}

/* The handle of cf if it is a core family or one the snapshot pinned, else NULL. */
static rocksdb_column_family_handle_t *snap_handle(const jpl_snapshot *v, int cf)
{
    if (is_core(cf))
        return v->s->cfs[cf];
    return cf >= 0 && cf < JPL_STORE_MAX_CF && (v->pinned >> cf & 1) ? v->s->cfs[cf] : NULL;
}

jpl_err jpl_snapshot_cf(const jpl_snapshot *v, const char *name, int *cf_out, jpl_error *e)
{
    for (int cf = 0; cf < JPL_STORE_MAX_CF; cf++) {
        /* the names of pinned families do not change while pinned */
        if (snap_handle(v, cf) != NULL && strcmp(v->s->cf_names[cf], name) == 0) {
            *cf_out = cf;
            return JPL_OK;
        }
    }
    return jpl_fail(e, JPL_ERR_NOT_FOUND, "column family %s does not exist", name);
}

jpl_err jpl_snapshot_get(const jpl_snapshot *v, int cf, const void *key, size_t klen,
                         uint8_t **val_out, size_t *vlen_out, jpl_error *e)
{
    rocksdb_column_family_handle_t *h = snap_handle(v, cf);
    if (h == NULL)
        return missing_cf(e, cf);
    size_t vlen = 0;
    char *err = NULL;
    char *val = rocksdb_get_cf(v->s->db, v->ropts, h, key, klen, &vlen, &err);
    return take_value(val, vlen, err, val_out, vlen_out, e);
}

jpl_iter *jpl_snapshot_iter(const jpl_snapshot *v, int cf, const void *start, size_t slen)
{
    return make_iter(v->s, cf, snap_handle(v, cf), v->ropts, false, start, slen);
}

jpl_err jpl_store_check_all(jpl_store *s, uint64_t skip_mask, jpl_error *e)
{
    for (int cf = 0; cf < JPL_STORE_MAX_CF; cf++) {
        if ((skip_mask >> cf & 1) != 0)
            continue;
        jpl_iter *it = jpl_store_iter(s, cf, NULL, 0);
        if (it != NULL && it->it == NULL) {
            jpl_iter_free(it); /* no such family */
            continue;
        }
        while (jpl_iter_valid(it))
            jpl_iter_next(it);
        jpl_err rc = jpl_iter_status(it, e);
        if (rc != JPL_OK && it != NULL)
            jpl_error_prefix(e, "column family %s", s->cf_names[cf]); /* pinned by it */
        jpl_iter_free(it);
        if (rc != JPL_OK)
            return rc;
    }
    return JPL_OK;
}

/* ---- sorted table files for bulk loads ---- */

#define BULK_DIR "bulk"

struct jpl_sst {
    jpl_store *s;
    int cf;
    rocksdb_column_family_handle_t *h; /* pinned until jpl_sst_free */
    rocksdb_envoptions_t *env;
    rocksdb_sstfilewriter_t *w;
    char file[4096];
    bool ingested;
};

static jpl_err bulk_path(const jpl_store *s, const char *name, char *out, size_t cap, jpl_error *e)
{
    int n = name ? snprintf(out, cap, "%s/%s/%s", s->path, BULK_DIR, name)
                 : snprintf(out, cap, "%s/%s", s->path, BULK_DIR);
    if (n < 0 || (size_t)n >= cap)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s: path too long", s->path);
    return JPL_OK;
}

jpl_err jpl_store_bulk_clean(jpl_store *s, jpl_error *e)
{
    char dir[4096], file[4096];
    jpl_err rc = bulk_path(s, NULL, dir, sizeof dir, e);
    DIR *d = rc == JPL_OK ? opendir(dir) : NULL;
    if (d == NULL)
        return rc; /* no directory: nothing left over */
    struct dirent *de;
    while (rc == JPL_OK && (de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 4, ".sst") != 0)
            continue;
        rc = bulk_path(s, de->d_name, file, sizeof file, e);
        if (rc == JPL_OK && unlink(file) != 0 && errno != ENOENT)
            rc = jpl_fail(e, JPL_ERR_IO, "%s: %s", file, strerror(errno));
    }
    closedir(d);
    return rc;
}

jpl_err jpl_sst_new(jpl_store *s, int cf, jpl_sst **out, jpl_error *e)
{
    if (s->read_only)
        return jpl_fail(e, JPL_ERR_INTERNAL, "bulk load into a read-only store");
    if (is_core(cf))
        return jpl_fail(e, JPL_ERR_INTERNAL, "bulk load into a core column family");
    char dir[4096];
    jpl_err rc = bulk_path(s, NULL, dir, sizeof dir, e);
    if (rc != JPL_OK)
        return rc;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return jpl_fail(e, JPL_ERR_IO, "%s: %s", dir, strerror(errno));
    jpl_sst *t = calloc(1, sizeof *t);
    if (t == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    t->s = s;
    t->cf = cf;
    if ((t->h = pin(s, cf)) == NULL) {
        free(t);
        return jpl_fail(e, JPL_ERR_INTERNAL, "bulk load into a missing column family");
    }
    char name[300];
    snprintf(name, sizeof name, "%s.sst", s->cf_names[cf]);
    rc = bulk_path(s, name, t->file, sizeof t->file, e);
    if (rc != JPL_OK) {
        unpin(s, cf);
        free(t);
        return rc;
    }
    t->env = rocksdb_envoptions_create();
    t->w = rocksdb_sstfilewriter_create(t->env, s->opts);
    char *err = NULL;
    rocksdb_sstfilewriter_open(t->w, t->file, &err);
    if (err != NULL) {
        jpl_sst_free(t);
        return rocks_fail(e, err, "bulk load");
    }
    *out = t;
    return JPL_OK;
}

jpl_err jpl_sst_put(jpl_sst *t, const void *key, size_t klen, const void *val, size_t vlen,
                    jpl_error *e)
{
    char *err = NULL;
    rocksdb_sstfilewriter_put(t->w, key, klen, val, vlen, &err);
    if (err == NULL)
        return JPL_OK;
    /* keys out of order are the caller's bug, not the disk's */
    jpl_err rc = strstr(err, "order") != NULL ? JPL_ERR_INTERNAL : JPL_ERR_IO;
    jpl_fail(e, rc, "bulk load of %s: %s", t->s->cf_names[t->cf], err);
    free(err);
    return rc;
}

jpl_err jpl_sst_ingest(jpl_sst *t, jpl_error *e)
{
    char *err = NULL;
    rocksdb_sstfilewriter_finish(t->w, &err);
    if (err != NULL)
        return rocks_fail(e, err, "bulk load");
    rocksdb_ingestexternalfileoptions_t *io = rocksdb_ingestexternalfileoptions_create();
    rocksdb_ingestexternalfileoptions_set_move_files(io, 1);
    const char *files[1] = {t->file};
    rocksdb_ingest_external_file_cf(t->s->db, t->h, files, 1, io, &err);
    rocksdb_ingestexternalfileoptions_destroy(io);
    if (err != NULL)
        return rocks_fail(e, err, "bulk load");
    t->ingested = true;
    return JPL_OK;
}

void jpl_sst_free(jpl_sst *t)
{
    if (t == NULL)
        return;
    if (t->w != NULL)
        rocksdb_sstfilewriter_destroy(t->w);
    if (t->env != NULL)
        rocksdb_envoptions_destroy(t->env);
    /* an ingested file was moved into the database; anything else is abandoned */
    if (!t->ingested)
        unlink(t->file);
    unpin(t->s, t->cf);
    free(t);
}
