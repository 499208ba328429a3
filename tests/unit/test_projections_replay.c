/*
 * Replay over a damaged log: an entry truncated, with a broken field tag, replaced by junk,
 * stored under the wrong seq or missing (at the first, a middle and the last position) makes
 * replay and replay --check fail with JPL_ERR_CORRUPT naming the entry, and leaves the live state
 * exactly as it was (same generations, same digests, no new family, no table file left over). With
 * the log repaired, replay succeeds and the digest it computed while writing each new family is the
 * digest of that family read back from the database. A table file left by a crashed bulk load
 * is removed by the next replay.
 */
#include "test.h"
#include "test_events.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "jpl/event_json.h"
#include "jpl/ledger.h"
#include "jpl/note.h"
#include "jpl/projections.h"
#include "jpl/store.h"

#define T2025 1741575600000ULL /* 2025-03-10T03:00Z */
#define EVIDENCE "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

typedef struct {
    char dir[4096];
    jpl_ledger *l;
    jpl_note_signer admin, hr, lms, verifier;
} fixture;

static jpl_err app(fixture *f, const jpl_note_signer *k, const char *json)
{
    return jpl_test_append(f->l, k, json, NULL);
}

static const char *new_id(char buf[37])
{
    uint8_t id[16];
    jpl_uuid_v4(id);
    jpl_uuid_format(buf, id);
    return buf;
}

static jpl_err register_key(fixture *f, const jpl_note_signer *k, const char *role)
{
    return jpl_test_register_key(f->l, &f->admin, k, role);
}

/* One employee's year: registration, enrollment, completion, recognition. */
static bool employee_year(fixture *f, const char *nip, const char *unit)
{
    char json[768], enr[37], comp[37], id[37];
    snprintf(json, sizeof json,
             "{\"type\":\"employee_registered\",\"nip\":\"%s\",\"kind\":\"pns\",\"unit\":\"%s\","
             "\"issued_at_ms\":%llu}",
             nip, unit, T2025);
    if (app(f, &f->hr, json) != JPL_OK)
        return false;
    snprintf(json, sizeof json,
             "{\"type\":\"enrolled\",\"id\":\"%s\",\"nip\":\"%s\",\"activity_id\":\"K1\","
             "\"issued_at_ms\":%llu}",
             new_id(enr), nip, T2025);
    if (app(f, &f->lms, json) != JPL_OK)
        return false;
    snprintf(json, sizeof json,
             "{\"type\":\"completed\",\"id\":\"%s\",\"nip\":\"%s\",\"enrollment_event_id\":\"%s\","
             "\"jp_centi\":1200,\"evidence_sha256\":\"" EVIDENCE "\",\"completed_at_ms\":%llu}",
             new_id(comp), nip, enr, T2025);
    if (app(f, &f->lms, json) != JPL_OK)
        return false;
    snprintf(json, sizeof json,
             "{\"type\":\"recognized\",\"id\":\"%s\",\"nip\":\"%s\",\"completion_event_id\":\"%s\","
             "\"jp_centi\":1200,\"basis\":\"classical\"}",
             new_id(id), nip, comp);
    return app(f, &f->verifier, json) == JPL_OK;
}

/* A ledger with projections built (live generation 1) from a small history. */
static bool setup(fixture *f, const char *name)
{
    memset(f, 0, sizeof *f);
    jpl_error e = {0};
    if (!jpl_test_ledger_new(name, f->dir, sizeof f->dir, &f->admin, NULL, &f->l) ||
        jpl_note_keygen("hr.setjen", &f->hr, &e) != JPL_OK ||
        jpl_note_keygen("lms.pusdiklat", &f->lms, &e) != JPL_OK ||
        jpl_note_keygen("verifier.pusdiklat", &f->verifier, &e) != JPL_OK) {
        fprintf(stderr, "setup: %s\n", e.msg);
        return false;
    }
    if (register_key(f, &f->hr, "hr") != JPL_OK || register_key(f, &f->lms, "lms") != JPL_OK ||
        register_key(f, &f->verifier, "verifier") != JPL_OK ||
        app(f, &f->lms,
            "{\"type\":\"activity_defined\",\"activity_id\":\"K1\",\"title\":\"Pelatihan\","
            "\"mode\":\"classical\",\"jp_centi\":1200}") != JPL_OK ||
        !employee_year(f, "198503122009031001", "Biro Umum") ||
        !employee_year(f, "199001012015022003", "Pusdatin") ||
        !employee_year(f, "198811302019022003", "Biro Umum"))
        return false;
    return jpl_projections_sync(f->l, &e) == JPL_OK;
}

typedef struct {
    uint8_t digest[JPL_PROJ_COUNT][32];
    uint64_t applied[JPL_PROJ_COUNT];
    int families;
} live_state;

static bool read_live(fixture *f, live_state *s)
{
    char **names = NULL;
    size_t n = 0;
    for (int i = 0; i < JPL_PROJ_COUNT; i++)
        if (jpl_projection_digest(f->l, jpl_projection_names[i], s->digest[i], &s->applied[i],
                                  NULL) != JPL_OK)
            return false;
    if (jpl_store_cf_list(jpl_ledger_store(f->l), "p.", &names, &n, NULL) != JPL_OK)
        return false;
    jpl_store_names_free(names, n);
    s->families = (int)n;
    return true;
}

static bool bulk_dir_empty(const fixture *f)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/db/bulk", f->dir);
    DIR *d = opendir(path);
    if (d == NULL)
        return true;
    struct dirent *de;
    bool empty = true;
    while ((de = readdir(d)) != NULL)
        empty = empty && de->d_name[0] == '.';
    closedir(d);
    return empty;
}

typedef enum { TRUNCATE, GARBLE, JUNK, WRONG_SEQ, MISSING, DAMAGE_COUNT } damage;

static const char *const DAMAGE_NAMES[DAMAGE_COUNT] = {"truncated", "garbled", "junk", "wrong seq",
                                                       "missing"};

/* Damages the entry at seq in the log family (original bytes in orig). */
static bool do_damage(fixture *f, uint64_t seq, damage d, const uint8_t *orig, size_t olen)
{
    jpl_store *s = jpl_ledger_store(f->l);
    uint8_t key[8];
    jpl_put_u64be(key, seq);
    jpl_batch *b = jpl_batch_new();
    uint8_t *v = malloc(olen);
    if (b == NULL || v == NULL) {
        jpl_batch_free(b);
        free(v);
        return false;
    }
    memcpy(v, orig, olen);
    switch (d) {
    case TRUNCATE:
        jpl_batch_put(b, s, JPL_CF_LOG, key, 8, v, olen - 40);
        break;
    case GARBLE:
        /* the first field tag gets wire type 7, which does not exist; changed bytes inside a
         * string or the signature still decode (replay trusts the log it was given; 'verify'
         * checks every signature, RocksDB checks every block) */
        v[0] ^= 0xff;
        jpl_batch_put(b, s, JPL_CF_LOG, key, 8, v, olen);
        break;
    case JUNK:
        jpl_batch_put(b, s, JPL_CF_LOG, key, 8, "\xff\xff\xff\xff\x0f", 5);
        break;
    case WRONG_SEQ: {
        /* the entry of another seq, stored here */
        uint8_t *other = NULL;
        size_t n = 0;
        uint64_t src = seq == 0 ? 1 : seq - 1;
        if (jpl_ledger_entry(f->l, src, &other, &n, NULL) == JPL_OK)
            jpl_batch_put(b, s, JPL_CF_LOG, key, 8, other, n);
        free(other);
        break;
    }
    default:
        jpl_batch_delete(b, s, JPL_CF_LOG, key, 8);
        break;
    }
    bool ok = jpl_store_write(s, b, true, NULL) == JPL_OK;
    jpl_batch_free(b);
    free(v);
    return ok;
}

static bool restore(fixture *f, uint64_t seq, const uint8_t *orig, size_t olen)
{
    jpl_store *s = jpl_ledger_store(f->l);
    uint8_t key[8];
    jpl_put_u64be(key, seq);
    jpl_batch *b = jpl_batch_new();
    if (b == NULL)
        return false;
    jpl_batch_put(b, s, JPL_CF_LOG, key, 8, orig, olen);
    bool ok = jpl_store_write(s, b, true, NULL) == JPL_OK;
    jpl_batch_free(b);
    return ok;
}

static void check_refused(fixture *f, const live_state *before, uint64_t seq, damage d)
{
    char want[64];
    snprintf(want, sizeof want, "log entry %llu", (unsigned long long)seq);
    for (int check = 0; check < 2; check++) {
        jpl_replay_opts o = {.check = check != 0};
        jpl_replay_result res[JPL_PROJ_COUNT];
        size_t n = 0;
        jpl_error e = {0};
        jpl_err rc = jpl_projections_replay(f->l, &o, res, &n, &e);
        if (rc != JPL_ERR_CORRUPT || strstr(e.msg, want) == NULL)
            fprintf(stderr, "%s entry %llu (check %d): rc %d: %s\n", DAMAGE_NAMES[d],
                    (unsigned long long)seq, check, (int)rc, e.msg);
        CHECK_EQ(rc, JPL_ERR_CORRUPT);
        CHECK(strstr(e.msg, want) != NULL);
        live_state after;
        REQUIRE(read_live(f, &after));
        CHECK_MEMEQ(after.digest, before->digest, sizeof after.digest);
        CHECK_EQ(after.families, before->families);
        CHECK(bulk_dir_empty(f));
    }
}

static void test_damaged_log(void)
{
    fixture f;
    REQUIRE(setup(&f, "replay_damage"));
    live_state before;
    REQUIRE(read_live(&f, &before));
    CHECK_EQ(before.families, 4); /* p.meta and one generation of each */
    uint64_t size = jpl_ledger_size(f.l);
    const uint64_t where[] = {0, size / 2, size - 1};
    for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
        uint8_t *orig = NULL;
        size_t olen = 0;
        REQUIRE(jpl_ledger_entry(f.l, where[w], &orig, &olen, NULL) == JPL_OK);
        REQUIRE(olen > 64);
        for (int d = 0; d < DAMAGE_COUNT; d++) {
            REQUIRE(do_damage(&f, where[w], (damage)d, orig, olen));
            check_refused(&f, &before, where[w], (damage)d);
            REQUIRE(restore(&f, where[w], orig, olen));
        }
        free(orig);
    }
    /* repaired: replay switches, and what it digested while writing is what is stored */
    jpl_replay_result res[JPL_PROJ_COUNT];
    size_t n = 0;
    jpl_error e = {0};
    REQUIRE(jpl_projections_replay(f.l, NULL, res, &n, &e) == JPL_OK);
    REQUIRE(n == JPL_PROJ_COUNT);
    live_state now;
    REQUIRE(read_live(&f, &now));
    for (size_t i = 0; i < n; i++) {
        CHECK(res[i].match);
        CHECK_EQ(res[i].generation, 2);
        CHECK_MEMEQ(res[i].digest, now.digest[i], 32);
        CHECK_EQ(now.applied[i], size);
    }
    CHECK_EQ(now.families, 4);
    CHECK(bulk_dir_empty(&f));
    jpl_ledger_close(f.l);
}

/* A table file left by a crash between writing and ingesting is removed by the next replay;
 * a check writes no family at all. */
static void test_leftover_table_file(void)
{
    fixture f;
    REQUIRE(setup(&f, "replay_leftover"));
    char path[4300];
    snprintf(path, sizeof path, "%s/db/bulk", f.dir);
    CHECK(mkdir(path, 0700) == 0 || errno == EEXIST);
    snprintf(path, sizeof path, "%s/db/bulk/p.units.g2.sst", f.dir);
    FILE *fp = fopen(path, "wb");
    REQUIRE(fp != NULL);
    fputs("half a table", fp);
    fclose(fp);
    CHECK(!bulk_dir_empty(&f));
    jpl_replay_opts o = {.check = true};
    jpl_replay_result res[JPL_PROJ_COUNT];
    size_t n = 0;
    jpl_error e = {0};
    REQUIRE(jpl_projections_replay(f.l, &o, res, &n, &e) == JPL_OK);
    CHECK(bulk_dir_empty(&f));
    for (size_t i = 0; i < n; i++)
        CHECK(res[i].match);
    live_state s;
    REQUIRE(read_live(&f, &s));
    CHECK_EQ(s.families, 4);
    jpl_ledger_close(f.l);
}

int main(void)
{
    if (!jpl_crypto_init())
        return 1;
    static const jpl_test_case cases[] = {
        TEST_CASE(test_damaged_log),
        TEST_CASE(test_leftover_table_file),
    };
    return jpl_test_run("projections_replay", cases, sizeof cases / sizeof cases[0]);
}
