/*
 * Export bundles: export then offline verify passes on a ledger with key registrations, a key
 * revocation, an event revocation and events of every signing role, and finds the root a ledger
 * verify finds. Every damage fails with its code and position: flipped bytes in an entry, its
 * signature, its recorded time, the checkpoint and its signature; truncation; trailing bytes;
 * another log key; unknown records; entries beyond the checkpoint. Bundles forged with the log's
 * own key (a log that signs anything) are caught by the entry checks: a revoked key, an unknown
 * key, a wrong role, a reused id, a wrong seq, a revocation its role may not make. The writer
 * refuses an existing file, and a failed export leaves nothing behind.
 */
#include "test.h"
#include "test_events.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jpl/bundle.h"
#include "jpl/codec.h"
#include "jpl/cosign.h"
#include "jpl/event_json.h"
#include "jpl/keyfile.h"
#include "jpl/ledger.h"
#include "jpl/merkle.h"
#include "jpl/note.h"
#include "jpl/store.h"
#include "jpl/verify.h"

#define NIP "198503122009031001"
#define ID_EMP "00000000-0000-4000-8000-000000000001"
#define ID_PLAN "00000000-0000-4000-8000-000000000002"
#define ID_ENR "00000000-0000-4000-8000-000000000003"
#define ID_COMP "00000000-0000-4000-8000-000000000004"
#define ID_REC "00000000-0000-4000-8000-000000000005"
#define ID_NONE "00000000-0000-4000-8000-000000000099"
#define EVIDENCE "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define REC_ENTRY 0x04
#define HEADER_LEN 12

typedef struct {
    uint8_t *b;
    size_t len;
} buf;

typedef struct {
    int type;
    size_t off; /* of the record header */
    size_t len; /* of the payload */
} rec;

typedef struct {
    char tmp[4096];  /* scratch directory */
    char dir[4200];  /* the ledger */
    char path[4200]; /* its bundle */
    jpl_note_signer admin, hr, lms, verifier, supervisor, log;
    jpl_note_verifier vk;
    uint64_t size;
    uint64_t lms_revoked_at;
    uint8_t root[32];
    bool ok;
} world;

static world W;

static bool add(jpl_ledger *l, const jpl_note_signer *k, const char *json)
{
    return jpl_test_append(l, k, json, NULL) == JPL_OK;
}

static bool add_key(jpl_ledger *l, const jpl_note_signer *k, const char *role)
{
    return jpl_test_register_key(l, &W.admin, k, role) == JPL_OK;
}

static bool revoke_key(jpl_ledger *l, const jpl_note_signer *k)
{
    char json[256], b64[64];
    if (!jpl_base64_encode(b64, sizeof b64, k->pk, 32))
        return false;
    snprintf(json, sizeof json,
             "{\"type\":\"key_revoked\",\"public_key\":\"%s\",\"reason\":\"contract ended\"}", b64);
    return add(l, &W.admin, json);
}

/* Events of every signing role; the verifier revokes its own recognition; the lms key is
 * revoked at the end. */
static bool fill(jpl_ledger *l)
{
    const struct {
        const jpl_note_signer *k;
        const char *json;
    } events[] = {
        {&W.admin, "{\"type\":\"policy_set\",\"effective_year\":2025,\"pns_floor_jp_centi\":3000,"
                   "\"pppk_cap_jp_centi\":2400,\"minutes_per_jp\":45}"},
        {&W.hr, "{\"type\":\"employee_registered\",\"id\":\"" ID_EMP "\",\"nip\":\"" NIP
                "\",\"kind\":\"pns\",\"unit\":\"Biro Umum\"}"},
        {&W.lms, "{\"type\":\"activity_defined\",\"activity_id\":\"PKP\",\"title\":\"Pelatihan\","
                 "\"mode\":\"classical\",\"jp_centi\":2400}"},
        {&W.hr, "{\"type\":\"plan_submitted\",\"id\":\"" ID_PLAN "\",\"nip\":\"" NIP
                "\",\"year\":2025,\"items\":[{\"activity_id\":\"PKP\",\"jp_centi\":2400}]}"},
        {&W.supervisor, "{\"type\":\"plan_approved\",\"nip\":\"" NIP
                        "\",\"plan_event_id\":\"" ID_PLAN "\",\"approved_jp_centi\":2400}"},
        {&W.lms, "{\"type\":\"enrolled\",\"id\":\"" ID_ENR "\",\"nip\":\"" NIP
                 "\",\"activity_id\":\"PKP\"}"},
        {&W.lms, "{\"type\":\"completed\",\"id\":\"" ID_COMP "\",\"nip\":\"" NIP
                 "\",\"enrollment_event_id\":\"" ID_ENR
                 "\",\"jp_centi\":2400,\"evidence_sha256\":\"" EVIDENCE
                 "\",\"completed_at_ms\":1750000000000}"},
        {&W.verifier,
         "{\"type\":\"recognized\",\"id\":\"" ID_REC "\",\"nip\":\"" NIP
         "\",\"completion_event_id\":\"" ID_COMP "\",\"jp_centi\":2400,\"basis\":\"classical\"}"},
        {&W.verifier,
         "{\"type\":\"revoked\",\"target_event_id\":\"" ID_REC "\",\"reason\":\"wrong year\"}"},
    };
    bool ok = add_key(l, &W.hr, "hr") && add_key(l, &W.lms, "lms") &&
              add_key(l, &W.verifier, "verifier") && add_key(l, &W.supervisor, "supervisor");
    for (size_t i = 0; ok && i < sizeof events / sizeof events[0]; i++)
        ok = add(l, events[i].k, events[i].json);
    W.lms_revoked_at = jpl_ledger_size(l);
    return ok && revoke_key(l, &W.lms);
}

static bool build_world(void)
{
    jpl_init_result res;
    jpl_error e = {0};
    jpl_ledger *l = NULL;
    if (!jpl_test_ledger_new("bundle", W.dir, sizeof W.dir, &W.admin, &res, &l))
        return false;
    snprintf(W.tmp, sizeof W.tmp, "%.4000s", W.dir);
    *strrchr(W.tmp, '/') = '\0'; /* the scratch directory around the ledger */
    snprintf(W.path, sizeof W.path, "%s/ledger.jplx", W.tmp);
    char p[4300];
    snprintf(p, sizeof p, "%s/log.key", W.dir);
    bool ok = jpl_keyfile_read_signer(p, &W.log, &e) == JPL_OK &&
              jpl_note_verifier_parse(res.log_vkey, strlen(res.log_vkey), &W.vk, &e) == JPL_OK &&
              jpl_note_keygen("hr", &W.hr, NULL) == JPL_OK &&
              jpl_note_keygen("lms", &W.lms, NULL) == JPL_OK &&
              jpl_note_keygen("verifier", &W.verifier, NULL) == JPL_OK &&
              jpl_note_keygen("supervisor", &W.supervisor, NULL) == JPL_OK && fill(l);
    W.size = jpl_ledger_size(l);
    jpl_ledger_close(l);
    jpl_export_report rep;
    ok = ok && jpl_ledger_open(W.dir, false, &l, &e) == JPL_OK &&
         jpl_ledger_export(l, 0, W.path, false, NULL, NULL, &rep, &e) == JPL_OK &&
         rep.size == W.size;
    if (ok)
        memcpy(W.root, rep.root, 32);
    jpl_ledger_close(l);
    if (!ok)
        fprintf(stderr, "build_world: %s\n", e.msg);
    return ok;
}

static bool world_ready(void)
{
    static bool built = false;
    if (!built) {
        built = true;
        W.ok = build_world();
    }
    return W.ok;
}

static buf load(const char *path)
{
    buf b = {0};
    char *text = NULL;
    if (jpl_file_read_all(path, 1u << 24, &text, &b.len, NULL) == JPL_OK)
        b.b = (uint8_t *)text;
    return b;
}

static bool save(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    bool ok = f != NULL && fwrite(p, 1, n, f) == n;
    return f != NULL && fclose(f) == 0 && ok;
}

/* The records of a bundle (parsed here independently of the library). */
static size_t records(const buf *b, rec *out, size_t max)
{
    size_t n = 0, off = HEADER_LEN;
    while (n < max && off + 5 <= b->len) {
        out[n] = (rec){b->b[off], off, jpl_get_u32be(b->b + off + 1)};
        off += 5 + out[n].len;
        n++;
    }
    return n;
}

/* Record index of entry seq. */
static size_t entry_rec(const rec *r, size_t n, uint64_t seq)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].type == REC_ENTRY && seq-- == 0)
            return i;
    return n;
}

static const char *variant(const char *name)
{
    static char p[4400];
    snprintf(p, sizeof p, "%s/%s.jplx", W.tmp, name);
    return p;
}

/* Verifies path and expects code want, the failure about entry seq (-1: about no entry), and a
 * message containing part. */
static void expect_fail(const char *path, const jpl_note_verifier *vk, jpl_err want, long long seq,
                        const char *part)
{
    jpl_verify_report rep;
    jpl_error e = {0};
    jpl_err rc = jpl_bundle_verify(path, vk, 2, NULL, NULL, &rep, &e);
    CHECK_EQ(rc, want);
    CHECK(!rep.ok);
    if (seq >= 0) {
        CHECK(rep.entry_failed);
        CHECK_EQ(rep.first_bad_seq, seq);
    } else {
        CHECK(!rep.entry_failed);
    }
    if (strstr(e.msg, part) == NULL || rc != want)
        fprintf(stderr, "  %s: got [%s] %s\n", path, jpl_strerror(rc), e.msg);
    CHECK(strstr(e.msg, part) != NULL);
}

static void expect_ok(const char *path)
{
    jpl_verify_report rep;
    jpl_error e = {0};
    jpl_err rc = jpl_bundle_verify(path, &W.vk, 2, NULL, NULL, &rep, &e);
    if (rc != JPL_OK)
        fprintf(stderr, "  %s: %s\n", path, e.msg);
    CHECK_EQ(rc, JPL_OK);
    CHECK(rep.ok);
}

static void test_export_then_verify(void)
{
    REQUIRE(world_ready());
    jpl_verify_report rep;
    jpl_error e = {0};
    CHECK_EQ(jpl_bundle_verify(W.path, &W.vk, 2, NULL, NULL, &rep, &e), JPL_OK);
    CHECK(rep.ok);
    CHECK_EQ(rep.size, W.size);
    CHECK_EQ(rep.entries, W.size);
    CHECK_EQ(rep.checkpoints, 1);
    CHECK_MEMEQ(rep.root, W.root, 32);
    /* the same root as the verification of the ledger itself */
    jpl_ledger *l = NULL;
    jpl_verify_report lrep;
    REQUIRE(jpl_ledger_open(W.dir, false, &l, &e) == JPL_OK);
    CHECK_EQ(jpl_ledger_verify(l, &W.vk, 1, NULL, NULL, &lrep, &e), JPL_OK);
    CHECK_MEMEQ(lrep.root, rep.root, 32);
    jpl_ledger_close(l);
    /* one thread finds the same */
    CHECK_EQ(jpl_bundle_verify(W.path, &W.vk, 1, NULL, NULL, &rep, &e), JPL_OK);
    CHECK_MEMEQ(rep.root, W.root, 32);
    /* the file is private */
    struct stat st;
    REQUIRE(stat(W.path, &st) == 0);
    CHECK_EQ(st.st_mode & 0777, 0600);
}

/* Writes the bundle with one byte XORed with 0x01. */
static const char *flipped(const char *name, size_t at)
{
    buf b = load(W.path);
    const char *p = variant(name);
    if (b.b != NULL && at < b.len) {
        b.b[at] ^= 0x01;
        save(p, b.b, b.len);
    }
    free(b.b);
    return p;
}

/* The first occurrence of text in p[0..n), or NULL. */
static const uint8_t *find(const uint8_t *p, size_t n, const char *text)
{
    size_t tl = strlen(text);
    for (size_t i = 0; i + tl <= n; i++)
        if (memcmp(p + i, text, tl) == 0)
            return p + i;
    return NULL;
}

static void test_flipped_bytes(void)
{
    REQUIRE(world_ready());
    buf b = load(W.path);
    rec r[64];
    size_t n = records(&b, r, 64);
    REQUIRE(n == W.size + 4);
    /* entry 9 (the plan approval): a digit of the NIP in the signed event */
    size_t i = entry_rec(r, n, 9);
    REQUIRE(i < n);
    const uint8_t *payload = b.b + r[i].off + 5;
    const uint8_t *nip = find(payload, r[i].len, NIP);
    REQUIRE(nip != NULL);
    expect_fail(flipped("event", (size_t)(nip - b.b) + 17), &W.vk, JPL_ERR_BAD_SIGNATURE, 9,
                "seq 9: signature does not verify");
    /* its signature (the last field of the envelope, the last of the entry) */
    expect_fail(flipped("signature", r[i].off + 5 + r[i].len - 1), &W.vk, JPL_ERR_BAD_SIGNATURE, 9,
                "seq 9: signature does not verify");
    /* its recorded time is not signed: only the root shows it, and cannot say which entry */
    expect_fail(flipped("recorded", r[i].off + 5 + 3), &W.vk, JPL_ERR_CORRUPT, -1,
                "is not the checkpoint's");
    /* the checkpoint's size line, and its signature */
    REQUIRE(r[2].type == 0x03);
    const char *cp = (const char *)b.b + r[2].off + 5;
    const char *size_line = memchr(cp, '\n', r[2].len);
    REQUIRE(size_line != NULL);
    expect_fail(flipped("cp-text", (size_t)((const uint8_t *)size_line + 1 - b.b)), &W.vk,
                JPL_ERR_BAD_SIGNATURE, -1, "the checkpoint does not verify");
    expect_fail(flipped("cp-sig", r[2].off + 5 + r[2].len - 6), &W.vk, JPL_ERR_BAD_SIGNATURE, -1,
                "the checkpoint does not verify");
    /* the log key in the bundle (its base64), the magic */
    expect_fail(flipped("key", r[1].off + 5 + r[1].len - 3), &W.vk, JPL_ERR_CORRUPT, -1,
                "the bundle's log key does not parse");
    expect_fail(flipped("magic", 0), &W.vk, JPL_ERR_BAD_INPUT, -1, "not a jpledger export");
    free(b.b);
}

static const char *cut(const char *name, size_t len, const uint8_t *extra, size_t elen)
{
    buf b = load(W.path);
    const char *p = variant(name);
    if (b.b != NULL && len <= b.len) {
        uint8_t *all = malloc(len + elen + 1);
        memcpy(all, b.b, len);
        if (elen)
            memcpy(all + len, extra, elen);
        save(p, all, len + elen);
        free(all);
    }
    free(b.b);
    return p;
}

static void test_truncated_and_trailing(void)
{
    REQUIRE(world_ready());
    buf b = load(W.path);
    rec r[64];
    size_t n = records(&b, r, 64);
    size_t i = entry_rec(r, n, 9);
    REQUIRE(i < n);
    expect_fail(cut("mid-entry", r[i].off + 20, NULL, 0), &W.vk, JPL_ERR_CORRUPT, 9, "truncated");
    expect_fail(cut("at-entry", r[i].off, NULL, 0), &W.vk, JPL_ERR_CORRUPT, 9,
                "end of file where the entry belongs");
    expect_fail(cut("no-end", r[n - 1].off, NULL, 0), &W.vk, JPL_ERR_CORRUPT, -1,
                "end of file where the end record belongs");
    expect_fail(cut("header", 5, NULL, 0), &W.vk, JPL_ERR_BAD_INPUT, -1, "not a jpledger export");
    expect_fail(cut("empty", 0, NULL, 0), &W.vk, JPL_ERR_BAD_INPUT, -1, "not a jpledger export");
    const uint8_t junk[] = "garbage\n";
    expect_fail(cut("trailing", b.len, junk, sizeof junk - 1), &W.vk, JPL_ERR_CORRUPT, -1,
                "bytes after the end record");
    /* an end record that counts wrong */
    buf c = load(W.path);
    c.b[c.len - 1] ^= 0x01;
    save(variant("end-count"), c.b, c.len);
    expect_fail(variant("end-count"), &W.vk, JPL_ERR_CORRUPT, -1, "does not count");
    free(c.b);
    free(b.b);
}

/* Inserts one record of type before record index at. */
static const char *insert_record(const char *name, size_t at_off, uint8_t type)
{
    buf b = load(W.path);
    const char *p = variant(name);
    uint8_t rec_bytes[5 + 3] = {type, 0, 0, 0, 3, 'x', 'y', 'z'};
    uint8_t *all = malloc(b.len + sizeof rec_bytes);
    memcpy(all, b.b, at_off);
    memcpy(all + at_off, rec_bytes, sizeof rec_bytes);
    memcpy(all + at_off + sizeof rec_bytes, b.b + at_off, b.len - at_off);
    save(p, all, b.len + sizeof rec_bytes);
    free(all);
    free(b.b);
    return p;
}

static void test_keys_versions_records(void)
{
    REQUIRE(world_ready());
    /* another key of the same name */
    jpl_note_signer other;
    REQUIRE(jpl_note_keygen(W.vk.name, &other, NULL) == JPL_OK);
    jpl_note_verifier wrong;
    jpl_note_verifier_from_signer(&other, &wrong);
    expect_fail(W.path, &wrong, JPL_ERR_BAD_SIGNATURE, -1, "not of the given key");
    /* missing file, not a bundle, a later version */
    expect_fail(variant("missing"), &W.vk, JPL_ERR_NOT_FOUND, -1, "No such file");
    buf b = load(W.path);
    REQUIRE(save(variant("text"), (const uint8_t *)"hello auditor\n", 14));
    expect_fail(variant("text"), &W.vk, JPL_ERR_BAD_INPUT, -1, "not a jpledger export");
    b.b[11] = 2;
    REQUIRE(save(variant("v2"), b.b, b.len));
    expect_fail(variant("v2"), &W.vk, JPL_ERR_BAD_INPUT, -1, "format version 2");
    rec r[64];
    size_t n = records(&b, r, 64);
    size_t i = entry_rec(r, n, 3);
    REQUIRE(i < n);
    /* an ancillary record is skipped; an unknown critical one is refused */
    expect_ok(insert_record("ancillary", r[i].off, 0x80));
    expect_fail(insert_record("critical", r[i].off, 0x06), &W.vk, JPL_ERR_BAD_INPUT, 3,
                "unknown record type 0x06");
    /* the checkpoint where the log key belongs */
    expect_fail(insert_record("order", r[1].off, 0x03), &W.vk, JPL_ERR_CORRUPT, -1,
                "where the log key record belongs");
    free(b.b);
}

/* A bundle from the ledger's checkpoint of size `size`. */
static bool export_size(const char *path, uint64_t size)
{
    jpl_ledger *l = NULL;
    jpl_export_report rep;
    jpl_error e = {0};
    bool ok = jpl_ledger_open(W.dir, false, &l, &e) == JPL_OK &&
              jpl_ledger_export(l, size, path, true, NULL, NULL, &rep, &e) == JPL_OK;
    if (!ok)
        fprintf(stderr, "export_size: %s\n", e.msg);
    jpl_ledger_close(l);
    return ok;
}

static void test_entries_beyond_checkpoint(void)
{
    REQUIRE(world_ready());
    /* an older checkpoint exports and verifies on its own */
    REQUIRE(export_size(variant("size3"), 3));
    expect_ok(variant("size3"));
    /* its head (checkpoint of size 3) with all the entries of the latest */
    buf old = load(variant("size3")), full = load(W.path);
    rec ro[16], rf[64];
    size_t no = records(&old, ro, 16), nf = records(&full, rf, 64);
    REQUIRE(no == 3 + 4 && nf == W.size + 4);
    size_t head = ro[3].off, body = rf[3].off;
    uint8_t *all = malloc(head + full.len - body);
    memcpy(all, old.b, head);
    memcpy(all + head, full.b + body, full.len - body);
    REQUIRE(save(variant("beyond"), all, head + full.len - body));
    expect_fail(variant("beyond"), &W.vk, JPL_ERR_CORRUPT, 3, "beyond the checkpoint's size");
    free(all);
    free(old.b);
    free(full.b);
    /* no kept checkpoint of that size */
    jpl_ledger *l = NULL;
    jpl_export_report rep;
    jpl_error e = {0};
    REQUIRE(jpl_ledger_open(W.dir, false, &l, &e) == JPL_OK);
    CHECK_EQ(jpl_ledger_export(l, W.size + 5, variant("nosize"), false, NULL, NULL, &rep, &e),
             JPL_ERR_NOT_FOUND);
    jpl_ledger_close(l);
    CHECK(access(variant("nosize"), F_OK) != 0);
}

/* The stored bytes of an entry at seq holding json signed by k. */
static buf craft_entry(uint64_t seq, const jpl_note_signer *k, const char *json)
{
    buf out = {0};
    uint8_t *env = NULL;
    size_t elen = 0;
    Jpl__SignedEnvelope *m = NULL;
    if (jpl_test_seal(k, json, &env, &elen) == JPL_OK &&
        jpl_codec_envelope_decode(env, elen, &m, NULL) == JPL_OK) {
        Jpl__LogEntry le = JPL__LOG_ENTRY__INIT;
        le.seq = seq;
        le.recorded_at_ms = jpl_now_ms();
        le.envelope = m;
        if (jpl_codec_entry_encode(&le, &out.b, &out.len, NULL) != JPL_OK)
            out.b = NULL;
    }
    jpl_codec_envelope_free(m);
    free(env);
    return out;
}

/* What a log that signs anything could publish: the real entries plus extra, under a checkpoint
 * of the new size signed with the log's own key. */
static const char *forge(const char *name, const buf *extra)
{
    buf b = load(W.path);
    rec r[64];
    size_t n = records(&b, r, 64);
    jpl_merkle_frontier front;
    jpl_merkle_frontier_init(&front);
    uint8_t leaf[32];
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        if (r[i].type != REC_ENTRY)
            continue;
        jpl_merkle_hash_leaf(leaf, b.b + r[i].off + 5, r[i].len);
        ok = ok && jpl_merkle_frontier_append(&front, leaf, NULL, NULL, NULL) == JPL_OK;
    }
    jpl_merkle_hash_leaf(leaf, extra->b, extra->len);
    ok = ok && jpl_merkle_frontier_append(&front, leaf, NULL, NULL, NULL) == JPL_OK;
    uint8_t root[32];
    jpl_merkle_frontier_root(&front, root);
    char text[512], note[2048];
    size_t tlen = 0, nlen = 0;
    const char *p = variant(name);
    jpl_bundle_writer *w = NULL;
    ok = ok &&
         jpl_checkpoint_format(W.vk.name, front.size, root, text, sizeof text, &tlen, NULL) ==
             JPL_OK &&
         jpl_note_sign(text, tlen, &W.log, note, sizeof note, &nlen, NULL) == JPL_OK;
    char vkey[JPL_NOTE_VKEY_SIZE];
    ok = ok && jpl_note_verifier_format(&W.vk, vkey, sizeof vkey, NULL) == JPL_OK &&
         jpl_bundle_create(p, true, W.vk.name, vkey, note, nlen, &w, NULL) == JPL_OK;
    for (size_t i = 0; ok && i < n; i++)
        if (r[i].type == REC_ENTRY)
            ok = jpl_bundle_put_entry(w, b.b + r[i].off + 5, r[i].len, NULL) == JPL_OK;
    ok = ok && jpl_bundle_put_entry(w, extra->b, extra->len, NULL) == JPL_OK;
    uint64_t bytes = 0;
    if (ok)
        ok = jpl_bundle_commit(w, &bytes, NULL) == JPL_OK;
    else
        jpl_bundle_abort(w);
    if (!ok)
        fprintf(stderr, "forge %s failed\n", name);
    free(b.b);
    return p;
}

static void forged(const char *name, uint64_t seq, const jpl_note_signer *k, const char *json,
                   jpl_err want, const char *part)
{
    buf x = craft_entry(seq, k, json);
    if (x.b == NULL) {
        CHECK(x.b != NULL);
        return;
    }
    const char *p = forge(name, &x);
    if (want == JPL_OK)
        expect_ok(p);
    else
        expect_fail(p, &W.vk, want, (long long)W.size, part);
    free(x.b);
}

static void test_forged_by_the_log(void)
{
    REQUIRE(world_ready());
    uint64_t n = W.size;
    /* the forging itself makes valid bundles: a good extra entry passes */
    forged("good", n, &W.hr,
           "{\"type\":\"employee_registered\",\"nip\":\"199001012015022003\",\"kind\":\"pppk\","
           "\"unit\":\"Biro SDM\"}",
           JPL_OK, "");
    forged("revoked-key", n, &W.lms,
           "{\"type\":\"enrolled\",\"nip\":\"" NIP "\",\"activity_id\":\"PKP\"}",
           JPL_ERR_KEY_REVOKED, "signed by a key revoked before this position");
    jpl_note_signer stranger;
    REQUIRE(jpl_note_keygen("stranger", &stranger, NULL) == JPL_OK);
    forged("unknown-key", n, &stranger, "{\"type\":\"employee_exited\",\"nip\":\"" NIP "\"}",
           JPL_ERR_UNKNOWN_KEY, "not registered at this position");
    forged("wrong-role", n, &W.hr,
           "{\"type\":\"activity_defined\",\"activity_id\":\"X\",\"title\":\"X\",\"mode\":"
           "\"classical\",\"jp_centi\":100}",
           JPL_ERR_FORBIDDEN, "may not issue this event");
    forged("reused-id", n, &W.hr,
           "{\"type\":\"employee_updated\",\"id\":\"" ID_EMP "\",\"nip\":\"" NIP
           "\",\"unit\":\"Biro SDM\"}",
           JPL_ERR_CORRUPT, "the event id is an earlier entry's");
    forged("wrong-seq", n + 1, &W.hr, "{\"type\":\"employee_exited\",\"nip\":\"" NIP "\"}",
           JPL_ERR_CORRUPT, "holds seq");
    /* a verifier revokes an enrollment (the lms's to revoke), and an event that is not there */
    forged("revocation-role", n, &W.verifier,
           "{\"type\":\"revoked\",\"target_event_id\":\"" ID_ENR "\",\"reason\":\"x\"}",
           JPL_ERR_FORBIDDEN, "may not revoke it");
    forged("revocation-target", n, &W.verifier,
           "{\"type\":\"revoked\",\"target_event_id\":\"" ID_NONE "\",\"reason\":\"x\"}",
           JPL_ERR_CORRUPT, "no earlier entry holds");
    /* the ledger itself never let the revoked lms key in after its revocation */
    CHECK(W.lms_revoked_at + 1 == W.size);
}

/* Files in the scratch directory whose name starts with prefix. */
static int count_prefixed(const char *prefix)
{
    DIR *d = opendir(W.tmp);
    int n = 0;
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL)
        if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
            n++;
    if (d != NULL)
        closedir(d);
    return n;
}

static void test_writer(void)
{
    REQUIRE(world_ready());
    jpl_ledger *l = NULL;
    jpl_export_report rep;
    jpl_error e = {0};
    buf before = load(W.path);
    REQUIRE(jpl_ledger_open(W.dir, false, &l, &e) == JPL_OK);
    /* an existing file is refused and left alone; --force replaces it */
    CHECK_EQ(jpl_ledger_export(l, 0, W.path, false, NULL, NULL, &rep, &e), JPL_ERR_EXISTS);
    CHECK(strstr(e.msg, "already exists") != NULL);
    buf after = load(W.path);
    CHECK(after.len == before.len && memcmp(after.b, before.b, before.len) == 0);
    free(after.b);
    CHECK_EQ(jpl_ledger_export(l, 0, W.path, true, NULL, NULL, &rep, &e), JPL_OK);
    after = load(W.path);
    CHECK(after.len == before.len && memcmp(after.b, before.b, before.len) == 0);
    free(after.b);
    /* the checkpoint fixes the number of entries: no more, no fewer */
    char *note = NULL;
    REQUIRE(jpl_ledger_checkpoint_at(l, 2, &note, &e) == JPL_OK);
    jpl_bundle_writer *w = NULL;
    const char *p = variant("short");
    REQUIRE(jpl_bundle_create(p, false, jpl_ledger_origin(l), jpl_ledger_log_vkey(l), note,
                              strlen(note), &w, &e) == JPL_OK);
    CHECK_EQ(jpl_bundle_writer_checkpoint(w)->size, 2);
    uint8_t *entry = NULL;
    size_t elen = 0;
    REQUIRE(jpl_ledger_entry(l, 0, &entry, &elen, &e) == JPL_OK);
    CHECK_EQ(jpl_bundle_put_entry(w, entry, elen, &e), JPL_OK);
    uint64_t bytes = 0;
    CHECK_EQ(jpl_bundle_commit(w, &bytes, &e), JPL_ERR_BAD_INPUT);
    CHECK(strstr(e.msg, "1 entries for a checkpoint of size 2") != NULL);
    CHECK_EQ(count_prefixed("short.jplx"), 0); /* neither the file nor its temporary */
    REQUIRE(jpl_bundle_create(p, false, jpl_ledger_origin(l), jpl_ledger_log_vkey(l), note,
                              strlen(note), &w, &e) == JPL_OK);
    CHECK_EQ(jpl_bundle_put_entry(w, entry, elen, &e), JPL_OK);
    CHECK_EQ(jpl_bundle_put_entry(w, entry, elen, &e), JPL_OK);
    CHECK_EQ(jpl_bundle_put_entry(w, entry, elen, &e), JPL_ERR_BAD_INPUT);
    jpl_bundle_abort(w);
    CHECK_EQ(count_prefixed("short.jplx"), 0);
    /* a checkpoint of another origin */
    CHECK_EQ(jpl_bundle_create(p, false, "other.example/log", jpl_ledger_log_vkey(l), note,
                               strlen(note), &w, &e),
             JPL_ERR_BAD_INPUT);
    free(entry);
    free(note);
    free(before.b);
    jpl_ledger_close(l);
}

int main(void)
{
    if (!jpl_crypto_init())
        return 1;
    static const jpl_test_case cases[] = {
        TEST_CASE(test_export_then_verify),
        TEST_CASE(test_flipped_bytes),
        TEST_CASE(test_truncated_and_trailing),
        TEST_CASE(test_keys_versions_records),
        TEST_CASE(test_entries_beyond_checkpoint),
        TEST_CASE(test_forged_by_the_log),
        TEST_CASE(test_writer),
    };
    return jpl_test_run("bundle", cases, sizeof cases / sizeof cases[0]);
}
