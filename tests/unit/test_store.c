/*
 * Tests of the write batch (store.c) and the overlay behind it (overlay.c): read-through of
 * uncommitted writes, nested save points, abandoned and failed writes changing nothing, one write
 * per key per commit, and the writer's cache of committed state (kept within its budget,
 * forgotten on request, never hiding a value written by someone else after a forget).
 * Snapshots: reads as of one moment in every family; a family dropped meanwhile stays readable
 * through a snapshot or an iterator that holds it, and a dropped family's index fails cleanly.
 */
#include <stdlib.h>
#include <string.h>

#include "../../ledger/overlay.h"
#include "jpl/store.h"
#include "test.h"

static char last_path[4200]; /* of the last store opened by open_store */

static jpl_store *open_store(const char *name)
{
    snprintf(last_path, sizeof last_path, "%s/db", jpl_test_tmpdir(name));
    jpl_store *s = NULL;
    jpl_error e = {0};
    if (jpl_store_open(last_path, JPL_STORE_CREATE, &s, &e) != JPL_OK)
        fprintf(stderr, "open: %s\n", e.msg);
    return s;
}

/* Value of key in the batch (or the store when b is NULL) as a string; "" when absent. */
static const char *read_str(jpl_store *s, jpl_batch *b, const char *key)
{
    static char out[128];
    uint8_t *v = NULL;
    size_t vlen = 0;
    jpl_err rc = b ? jpl_batch_get(b, s, JPL_CF_STATE, key, strlen(key), &v, &vlen, NULL)
                   : jpl_store_get(s, JPL_CF_STATE, key, strlen(key), &v, &vlen, NULL);
    out[0] = '\0';
    if (rc == JPL_OK) {
        snprintf(out, sizeof out, "%.*s", (int)vlen, (const char *)v);
        free(v);
    } else if (rc != JPL_ERR_NOT_FOUND) {
        snprintf(out, sizeof out, "<error %d>", (int)rc);
    }
    return out;
}

static void put_str(jpl_store *s, jpl_batch *b, const char *key, const char *val)
{
    jpl_batch_put(b, s, JPL_CF_STATE, key, strlen(key), val, strlen(val));
}

static void test_read_through_and_commit(void)
{
    jpl_store *s = open_store("store_rt");
    REQUIRE(s != NULL);
    jpl_batch *b = jpl_batch_new();
    REQUIRE(b != NULL);
    put_str(s, b, "a", "1");
    put_str(s, b, "a", "2"); /* overwritten in the batch: last value wins */
    put_str(s, b, "b", "x");
    jpl_batch_delete(b, s, JPL_CF_STATE, "b", 1);
    CHECK_STREQ(read_str(s, b, "a"), "2");
    CHECK_STREQ(read_str(s, b, "b"), "");
    CHECK_STREQ(read_str(s, NULL, "a"), ""); /* nothing reaches the store before the write */
    REQUIRE(jpl_store_write(s, b, true, NULL) == JPL_OK);
    CHECK_STREQ(read_str(s, NULL, "a"), "2");
    CHECK_STREQ(read_str(s, NULL, "b"), "");
    /* the batch is empty again: a second write changes nothing */
    REQUIRE(jpl_store_write(s, b, true, NULL) == JPL_OK);
    CHECK_STREQ(read_str(s, NULL, "a"), "2");
    /* an empty value is a value, not an absence */
    put_str(s, b, "e", "");
    REQUIRE(jpl_store_write(s, b, false, NULL) == JPL_OK);
    uint8_t *v = NULL;
    size_t vlen = 7;
    CHECK_EQ(jpl_store_get(s, JPL_CF_STATE, "e", 1, &v, &vlen, NULL), JPL_OK);
    CHECK_EQ(vlen, 0);
    free(v);
    jpl_batch_free(b);
    jpl_store_close(s);
}

static void test_savepoints_nest(void)
{
    jpl_store *s = open_store("store_sp");
    REQUIRE(s != NULL);
    jpl_batch *b = jpl_batch_new();
    REQUIRE(b != NULL);
    /* no save point: rollback is an error, nothing changes */
    jpl_error e = {0};
    CHECK_EQ(jpl_batch_rollback(b, &e), JPL_ERR_INTERNAL);
    CHECK(strstr(e.msg, "save point") != NULL);
    put_str(s, b, "k", "base");
    jpl_batch_savepoint(b);
    put_str(s, b, "k", "one");
    put_str(s, b, "new1", "n");
    jpl_batch_savepoint(b);
    put_str(s, b, "k", "two");
    jpl_batch_delete(b, s, JPL_CF_STATE, "new1", 4);
    CHECK_STREQ(read_str(s, b, "k"), "two");
    CHECK_EQ(jpl_batch_rollback(b, NULL), JPL_OK);
    CHECK_STREQ(read_str(s, b, "k"), "one");
    CHECK_STREQ(read_str(s, b, "new1"), "n");
    CHECK_EQ(jpl_batch_rollback(b, NULL), JPL_OK);
    CHECK_STREQ(read_str(s, b, "k"), "base");
    CHECK_STREQ(read_str(s, b, "new1"), "");
    REQUIRE(jpl_store_write(s, b, true, NULL) == JPL_OK);
    CHECK_STREQ(read_str(s, NULL, "k"), "base");
    CHECK_STREQ(read_str(s, NULL, "new1"), ""); /* rolled back keys are not written */
    jpl_batch_free(b);
    jpl_store_close(s);
}

static void test_clear_abandons(void)
{
    jpl_store *s = open_store("store_clear");
    REQUIRE(s != NULL);
    jpl_batch *b = jpl_batch_new_caching(1 << 20, (uint64_t)1 << JPL_CF_LOG);
    REQUIRE(b != NULL);
    put_str(s, b, "k", "committed");
    REQUIRE(jpl_store_write(s, b, true, NULL) == JPL_OK);
    put_str(s, b, "k", "abandoned");
    put_str(s, b, "other", "abandoned");
    jpl_batch_clear(b);
    /* the kept state is the committed one, not the abandoned writes */
    CHECK_STREQ(read_str(s, b, "k"), "committed");
    CHECK_STREQ(read_str(s, b, "other"), "");
    REQUIRE(jpl_store_write(s, b, true, NULL) == JPL_OK);
    CHECK_STREQ(read_str(s, NULL, "other"), "");
    jpl_batch_free(b);
    jpl_store_close(s);
}

static void test_failed_write_changes_nothing(void)
{
    jpl_store *s = open_store("store_fail");
    REQUIRE(s != NULL);
    jpl_batch *b = jpl_batch_new_caching(1 << 20, (uint64_t)1 << JPL_CF_LOG);
    REQUIRE(b != NULL);
    put_str(s, b, "k", "v1");
    REQUIRE(jpl_store_write(s, b, true, NULL) == JPL_OK);
    /* a write to a dropped family fails before anything is written */
    int cf = 0;
    REQUIRE(jpl_store_cf(s, "p.test.g1", true, &cf, NULL) == JPL_OK);
    REQUIRE(jpl_store_cf_drop(s, cf, NULL) == JPL_OK);
    put_str(s, b, "k", "v2");
    jpl_batch_put(b, s, cf, "x", 1, "y", 1);
    jpl_error e = {0};
    CHECK_EQ(jpl_store_write(s, b, true, &e), JPL_ERR_INTERNAL);
    CHECK(strstr(e.msg, "does not exist") != NULL);
    jpl_batch_clear(b); /* what the writer does after any failed write */
    CHECK_STREQ(read_str(s, b, "k"), "v1");
    CHECK_STREQ(read_str(s, NULL, "k"), "v1");
    /* RocksDB itself refuses: a read-only open of the same database */
    jpl_store_close(s);
    jpl_store *ro = NULL;
    REQUIRE(jpl_store_open(last_path, JPL_STORE_READ_ONLY, &ro, NULL) == JPL_OK);
    put_str(ro, b, "k", "v3");
    CHECK(jpl_store_write(ro, b, true, NULL) != JPL_OK);
    jpl_batch_clear(b);
    CHECK_STREQ(read_str(ro, b, "k"), "v1");
    CHECK_STREQ(read_str(ro, NULL, "k"), "v1");
    jpl_batch_free(b);
    jpl_store_close(ro);
}

static void test_cache_and_forget(void)
{
    jpl_store *s = open_store("store_cache");
    REQUIRE(s != NULL);
    jpl_batch *w = jpl_batch_new_caching(1 << 20, (uint64_t)1 << JPL_CF_LOG); /* the writer */
    jpl_batch *other = jpl_batch_new();
    REQUIRE(w != NULL && other != NULL);
    put_str(s, w, "k", "w1");
    REQUIRE(jpl_store_write(s, w, true, NULL) == JPL_OK);
    CHECK_STREQ(read_str(s, w, "absent"), ""); /* remembered as absent */
    /* someone else writes while the writer is paused */
    put_str(s, other, "k", "o1");
    put_str(s, other, "absent", "now here");
    REQUIRE(jpl_store_write(s, other, true, NULL) == JPL_OK);
    /* without a forget the writer still sees what it kept: that is why writers must forget */
    CHECK_STREQ(read_str(s, w, "k"), "w1");
    jpl_batch_forget(w);
    CHECK_STREQ(read_str(s, w, "k"), "o1");
    CHECK_STREQ(read_str(s, w, "absent"), "now here");
    /* forget keeps uncommitted writes */
    put_str(s, w, "k", "w2");
    jpl_batch_forget(w);
    CHECK_STREQ(read_str(s, w, "k"), "w2");
    REQUIRE(jpl_store_write(s, w, true, NULL) == JPL_OK);
    CHECK_STREQ(read_str(s, NULL, "k"), "w2");
    jpl_batch_free(w);
    jpl_batch_free(other);
    jpl_store_close(s);
}

/* Families written once go to their own overlay: read-through, save points and commits work
 * across both, and nothing of them is kept after the write. */
static void test_write_once_families(void)
{
    jpl_store *s = open_store("store_once");
    REQUIRE(s != NULL);
    jpl_batch *b = jpl_batch_new_caching(1 << 20, (uint64_t)1 << JPL_CF_LOG);
    REQUIRE(b != NULL);
    put_str(s, b, "k", "state");
    jpl_batch_put(b, s, JPL_CF_LOG, "e", 1, "entry", 5);
    jpl_batch_savepoint(b);
    put_str(s, b, "k", "later");
    jpl_batch_put(b, s, JPL_CF_LOG, "f", 1, "gone", 4);
    CHECK_EQ(jpl_batch_rollback(b, NULL), JPL_OK); /* undoes both families */
    uint8_t *v = NULL;
    size_t vlen = 0;
    CHECK_EQ(jpl_batch_get(b, s, JPL_CF_LOG, "f", 1, &v, &vlen, NULL), JPL_ERR_NOT_FOUND);
    CHECK_EQ(jpl_batch_get(b, s, JPL_CF_LOG, "e", 1, &v, &vlen, NULL), JPL_OK);
    CHECK(vlen == 5 && memcmp(v, "entry", 5) == 0);
    free(v);
    CHECK_STREQ(read_str(s, b, "k"), "state");
    REQUIRE(jpl_store_write(s, b, true, NULL) == JPL_OK);
    v = NULL;
    CHECK_EQ(jpl_store_get(s, JPL_CF_LOG, "e", 1, &v, &vlen, NULL), JPL_OK); /* written */
    free(v);
    CHECK_EQ(jpl_store_get(s, JPL_CF_LOG, "f", 1, &v, &vlen, NULL), JPL_ERR_NOT_FOUND);
    CHECK_STREQ(read_str(s, NULL, "k"), "state");
    /* after the write the entry is read from the database, the state row from memory */
    v = NULL;
    CHECK_EQ(jpl_batch_get(b, s, JPL_CF_LOG, "e", 1, &v, &vlen, NULL), JPL_OK);
    free(v);
    jpl_batch_free(b);
    jpl_store_close(s);
}

/* The overlay on its own: budget, dirty listing in first-write order, many keys. */
typedef struct {
    char seen[64][16];
    int n;
} dirty_seen;

static void note_dirty(void *ctx, int cf, const uint8_t *key, size_t klen, const uint8_t *val,
                       size_t vlen)
{
    dirty_seen *d = ctx;
    (void)cf;
    (void)val;
    (void)vlen;
    if (d->n < 64)
        snprintf(d->seen[d->n++], 16, "%.*s", (int)klen, (const char *)key);
}

static void test_overlay_budget_and_order(void)
{
    jpl_overlay *o = jpl_overlay_new(4096);
    REQUIRE(o != NULL);
    CHECK(jpl_overlay_write(o, 1, "b", 1, "1", 1));
    CHECK(jpl_overlay_write(o, 1, "a", 1, "2", 1));
    CHECK(jpl_overlay_write(o, 1, "b", 1, "3", 1));
    CHECK(jpl_overlay_write(o, 2, "b", 1, NULL, 0)); /* same key, other family */
    CHECK_EQ(jpl_overlay_dirty_count(o), 3);
    dirty_seen d = {.n = 0};
    jpl_overlay_each_dirty(o, note_dirty, &d);
    REQUIRE(d.n == 3);
    CHECK_STREQ(d.seen[0], "b");
    CHECK_STREQ(d.seen[1], "a");
    jpl_overlay_committed(o);
    CHECK_EQ(jpl_overlay_dirty_count(o), 0);
    const uint8_t *v = NULL;
    size_t vlen = 0;
    CHECK_EQ(jpl_overlay_find(o, 1, "b", 1, &v, &vlen), JPL_OV_PRESENT);
    CHECK(vlen == 1 && v[0] == '3');
    CHECK_EQ(jpl_overlay_find(o, 2, "b", 1, &v, &vlen), JPL_OV_ABSENT);
    CHECK_EQ(jpl_overlay_find(o, 3, "b", 1, &v, &vlen), JPL_OV_MISS);
    /* many keys: the table grows; over the budget everything committed is forgotten */
    char key[32], val[64];
    memset(val, 'v', sizeof val);
    for (int i = 0; i < 5000; i++) {
        int kl = snprintf(key, sizeof key, "key-%d", i);
        REQUIRE(jpl_overlay_write(o, 1, key, (size_t)kl, val, sizeof val));
    }
    CHECK_EQ(jpl_overlay_find(o, 1, "key-4321", 8, &v, &vlen), JPL_OV_PRESENT);
    CHECK_EQ(jpl_overlay_dirty_count(o), 5000);
    jpl_overlay_committed(o);
    CHECK_EQ(jpl_overlay_find(o, 1, "key-4321", 8, &v, &vlen), JPL_OV_MISS);
    CHECK_EQ(jpl_overlay_find(o, 1, "b", 1, &v, &vlen), JPL_OV_MISS);
    /* without a budget nothing is remembered */
    jpl_overlay *none = jpl_overlay_new(0);
    REQUIRE(none != NULL);
    CHECK(jpl_overlay_remember(none, 1, "x", 1, "y", 1));
    CHECK_EQ(jpl_overlay_find(none, 1, "x", 1, &v, &vlen), JPL_OV_MISS);
    CHECK(!jpl_overlay_rollback(none));
    jpl_overlay_free(none);
    jpl_overlay_free(o);
}

/* Reads key of cf through snapshot v as a string; "" when absent, "<error N>" on a failure. */
static const char *snap_str(const jpl_snapshot *v, int cf, const char *key)
{
    static char out[128];
    uint8_t *val = NULL;
    size_t vlen = 0;
    jpl_err rc = jpl_snapshot_get(v, cf, key, strlen(key), &val, &vlen, NULL);
    out[0] = '\0';
    if (rc == JPL_OK) {
        snprintf(out, sizeof out, "%.*s", (int)vlen, (const char *)val);
        free(val);
    } else if (rc != JPL_ERR_NOT_FOUND) {
        snprintf(out, sizeof out, "<error %d>", (int)rc);
    }
    return out;
}

static bool write_kv(jpl_store *s, int cf, const char *key, const char *val)
{
    jpl_batch *b = jpl_batch_new();
    if (b == NULL)
        return false;
    jpl_batch_put(b, s, cf, key, strlen(key), val, strlen(val));
    bool ok = jpl_store_write(s, b, true, NULL) == JPL_OK;
    jpl_batch_free(b);
    return ok;
}

/* A snapshot sees the writes committed before it in every family and none after: one write of
 * two families is seen whole or not at all. */
static void test_snapshot_isolation(void)
{
    jpl_store *s = open_store("store_snap");
    REQUIRE(s != NULL);
    int p = 0;
    REQUIRE(jpl_store_cf(s, "p.x.g1", true, &p, NULL) == JPL_OK);
    jpl_batch *b = jpl_batch_new();
    REQUIRE(b != NULL);
    put_str(s, b, "a", "1");
    jpl_batch_put(b, s, p, "a", 1, "1", 1);
    REQUIRE(jpl_store_write(s, b, true, NULL) == JPL_OK);
    jpl_snapshot *v = NULL;
    REQUIRE(jpl_snapshot_open(s, &v, NULL) == JPL_OK);
    put_str(s, b, "a", "2");
    put_str(s, b, "b", "2");
    jpl_batch_put(b, s, p, "a", 1, "2", 1);
    REQUIRE(jpl_store_write(s, b, true, NULL) == JPL_OK);
    CHECK_STREQ(read_str(s, NULL, "a"), "2");
    CHECK_STREQ(snap_str(v, JPL_CF_STATE, "a"), "1");
    CHECK_STREQ(snap_str(v, JPL_CF_STATE, "b"), "");
    CHECK_STREQ(snap_str(v, p, "a"), "1");
    /* iterators of the snapshot: the old rows only */
    jpl_iter *it = jpl_snapshot_iter(v, JPL_CF_STATE, NULL, 0);
    int rows = 0;
    for (; jpl_iter_valid(it); jpl_iter_next(it))
        rows++;
    CHECK_EQ(jpl_iter_status(it, NULL), JPL_OK);
    jpl_iter_free(it);
    CHECK_EQ(rows, 1);
    int found = -1;
    CHECK_EQ(jpl_snapshot_cf(v, "p.x.g1", &found, NULL), JPL_OK);
    CHECK_EQ(found, p);
    CHECK_EQ(jpl_snapshot_cf(v, "p.x.g2", &found, NULL), JPL_ERR_NOT_FOUND);
    jpl_snapshot_close(v);
    jpl_snapshot_close(NULL);
    jpl_batch_free(b);
    jpl_store_close(s);
}

/* A family dropped while a snapshot and an iterator hold it: both keep reading it, it is gone by
 * name and for new readers at once, and its slot is reused only after both let go. */
static void test_drop_while_held(void)
{
    jpl_store *s = open_store("store_drop");
    REQUIRE(s != NULL);
    int p = 0;
    REQUIRE(jpl_store_cf(s, "p.x.g1", true, &p, NULL) == JPL_OK);
    REQUIRE(write_kv(s, p, "k", "old"));
    jpl_snapshot *v = NULL;
    REQUIRE(jpl_snapshot_open(s, &v, NULL) == JPL_OK);
    jpl_iter *it = jpl_store_iter(s, p, NULL, 0);
    REQUIRE(jpl_iter_valid(it));
    REQUIRE(jpl_store_cf_drop(s, p, NULL) == JPL_OK);
    /* gone for everyone else */
    int cf = -1;
    jpl_error e = {0};
    CHECK_EQ(jpl_store_cf(s, "p.x.g1", false, &cf, NULL), JPL_ERR_NOT_FOUND);
    CHECK_EQ(jpl_store_cf_drop(s, p, NULL), JPL_ERR_INTERNAL);
    uint8_t *val = NULL;
    size_t vlen = 0;
    CHECK_EQ(jpl_store_get(s, p, "k", 1, &val, &vlen, &e), JPL_ERR_INTERNAL);
    CHECK(strstr(e.msg, "does not exist") != NULL);
    CHECK(!write_kv(s, p, "k", "new"));
    jpl_iter *late = jpl_store_iter(s, p, NULL, 0);
    CHECK(!jpl_iter_valid(late));
    CHECK_EQ(jpl_iter_status(late, NULL), JPL_ERR_INTERNAL);
    jpl_iter_free(late);
    char **names = NULL;
    size_t n = 9;
    REQUIRE(jpl_store_cf_list(s, "p.", &names, &n, NULL) == JPL_OK);
    CHECK_EQ(n, 0);
    jpl_store_names_free(names, n);
    /* a new family of the same name while the old one is held: another slot */
    int p2 = 0;
    REQUIRE(jpl_store_cf(s, "p.x.g1", true, &p2, NULL) == JPL_OK);
    CHECK(p2 != p);
    REQUIRE(write_kv(s, p2, "k", "fresh"));
    /* the holders still read the dropped family */
    size_t klen = 0, vl = 0;
    CHECK_EQ(jpl_iter_key(it, &klen)[0], 'k');
    CHECK_EQ(memcmp(jpl_iter_value(it, &vl), "old", 3), 0);
    jpl_iter_free(it);
    CHECK_STREQ(snap_str(v, p, "k"), "old");
    CHECK_EQ(jpl_snapshot_cf(v, "p.x.g1", &cf, NULL), JPL_OK);
    CHECK_EQ(cf, p);
    char want[32];
    snprintf(want, sizeof want, "<error %d>", (int)JPL_ERR_INTERNAL);
    CHECK_STREQ(snap_str(v, p2, "k"), want); /* not held by the snapshot */
    jpl_snapshot_close(v);
    /* let go: the slot is free for the next family */
    int p3 = 0;
    REQUIRE(jpl_store_cf(s, "p.y.g1", true, &p3, NULL) == JPL_OK);
    CHECK_EQ(p3, p);
    jpl_store_close(s);
}

int main(void)
{
    static const jpl_test_case cases[] = {
        TEST_CASE(test_read_through_and_commit),  TEST_CASE(test_savepoints_nest),
        TEST_CASE(test_clear_abandons),           TEST_CASE(test_failed_write_changes_nothing),
        TEST_CASE(test_cache_and_forget),         TEST_CASE(test_write_once_families),
        TEST_CASE(test_overlay_budget_and_order), TEST_CASE(test_snapshot_isolation),
        TEST_CASE(test_drop_while_held),
    };
    return jpl_test_run("store", cases, sizeof cases / sizeof cases[0]);
}
