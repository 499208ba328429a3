/*
 * Writes the seed corpus of the fuzz harnesses (tests/fuzz/corpus/<harness>/seed-*) from data
 * already in the repository: the golden vectors of tests/golden (events; envelopes and log
 * entries made from them, signed with the RFC 8032 TEST 1 key of tests/vectors) and the
 * published vectors of tests/vectors (signed notes, checkpoint bodies, note keys, Merkle proofs
 * and probes), export bundles of those entries under the fuzz log key, plus a few malformed
 * variants of each. Deterministic: running it again rewrites
 * the same files. Not a test; run it by hand when the seeds should change:
 *
 *   build/tests/fuzz_make_seeds tests/fuzz/corpus
 */
#include "test.h"

#include <errno.h>
#include <jansson.h>
#include <sys/stat.h>

#include "fuzz/fuzz.h"
#include "golden/golden_hex.h"
#include "jpl/bundle.h"
#include "jpl/codec.h"
#include "jpl/crypto.h"
#include "jpl/ledger.h"
#include "jpl/merkle.h"
#include "jpl/note.h"

#define GOLDEN_DIR JPL_SOURCE_DIR "/tests/golden"

static const char *out_root;
static int failures;
static size_t written;

static void fail(const char *what)
{
    fprintf(stderr, "make_seeds: %s\n", what);
    failures++;
}

static void put(const char *harness, const char *name, const void *buf, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", out_root, harness);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        fail(path);
        return;
    }
    snprintf(path, sizeof path, "%s/%s/seed-%s", out_root, harness, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || (len > 0 && fwrite(buf, 1, len, f) != len) || fclose(f) != 0) {
        fail(path);
        return;
    }
    written++;
}

/* Writes buf, its first half, and buf with an unknown field 99 (varint 1) appended. */
static void put_with_damage(const char *harness, const char *name, const uint8_t *buf, size_t len)
{
    char n[256];
    put(harness, name, buf, len);
    snprintf(n, sizeof n, "%s-truncated", name);
    put(harness, n, buf, len / 2);
    uint8_t *x = malloc(len + 3);
    if (x == NULL)
        return;
    memcpy(x, buf, len);
    x[len] = 0x98;
    x[len + 1] = 0x06;
    x[len + 2] = 0x01;
    snprintf(n, sizeof n, "%s-unknown-field", name);
    put(harness, n, x, len + 3);
    free(x);
}

/* Loads a vector file; integers become reals (some probe indices do not fit jansson's int64). */
static json_t *load(const char *file)
{
    json_error_t jerr;
    json_t *j = json_load_file(jpl_test_vector_path(file), JSON_DECODE_INT_AS_REAL, &jerr);
    if (j == NULL)
        fail(file);
    return j;
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* A non-negative JSON number as uint64 (2^64 - 1 reads as 2^64 in a double: clamp). */
static uint64_t ju64(json_t *o, const char *k)
{
    double v = json_number_value(json_object_get(o, k));
    if (!(v > 0))
        return 0;
    if (v >= 18446744073709551616.0)
        return UINT64_MAX;
    return (uint64_t)v;
}

/* ---- protobuf messages from the golden events ---- */

static const char *const EVENT_FILES[] = {
    "event_01_key_registered",   "event_02_key_revoked",
    "event_03_policy_set",       "event_04_employee_registered",
    "event_05_employee_updated", "event_06_employee_exited",
    "event_07_activity_defined", "event_08_plan_submitted",
    "event_09_plan_approved",    "event_10_enrolled",
    "event_11_completed",        "event_12_recognized",
    "event_13_revoked",
};

static bool test1_key(uint8_t pk[32], uint8_t sk[64])
{
    json_t *j = load("ed25519_rfc8032.json");
    json_t *v = json_array_get(json_object_get(j, "vectors"), 0);
    const char *hex = jstr(v, "secret_key");
    uint8_t seed[32];
    const char *name = jstr(v, "name");
    bool ok = hex != NULL && name != NULL && strcmp(name, "TEST 1") == 0 &&
              jpl_hex_decode(seed, sizeof seed, hex, strlen(hex)) &&
              jpl_ed25519_from_seed(seed, pk, sk);
    json_decref(j);
    return ok;
}

static void codec_seeds(void)
{
    uint8_t pk[32], sk[64];
    if (!test1_key(pk, sk)) {
        fail("RFC 8032 TEST 1 key");
        return;
    }
    for (size_t k = 0; k < sizeof EVENT_FILES / sizeof EVENT_FILES[0]; k++) {
        char path[1024], why[1200];
        snprintf(path, sizeof path, "%s/%s.hex", GOLDEN_DIR, EVENT_FILES[k]);
        uint8_t *ev = NULL, *env = NULL, *entry = NULL;
        size_t ev_len = 0, env_len = 0, entry_len = 0;
        if (!golden_hex_read(path, &ev, &ev_len, why, sizeof why)) {
            fail(why);
            continue;
        }
        const char *name = EVENT_FILES[k] + strlen("event_");
        if (k == 2 || k == 10)
            put_with_damage("event", name, ev, ev_len);
        else
            put("event", name, ev, ev_len);

        jpl_error e = {0};
        if (jpl_envelope_sign(ev, ev_len, pk, sk, &env, &env_len, &e) != JPL_OK) {
            fail(e.msg);
            free(ev);
            continue;
        }
        if (k == 0 || k == 7)
            put_with_damage("envelope", name, env, env_len);
        else
            put("envelope", name, env, env_len);

        Jpl__SignedEnvelope *d = NULL;
        if (jpl_codec_envelope_decode(env, env_len, &d, &e) == JPL_OK) {
            Jpl__LogEntry le = JPL__LOG_ENTRY__INIT;
            le.seq = k;
            le.recorded_at_ms = UINT64_C(1735689600000) + 1000 * k;
            le.envelope = d;
            if (jpl_codec_entry_encode(&le, &entry, &entry_len, &e) == JPL_OK) {
                if (k == 0 || k == 12)
                    put_with_damage("entry", name, entry, entry_len);
                else
                    put("entry", name, entry, entry_len);
            }
            if (k == 1) {
                /* Decodes, but the signature does not verify. */
                d->signature.data[0] ^= 0x01;
                uint8_t *bad = NULL;
                size_t bad_len = 0;
                if (jpl_codec_envelope_encode(d, &bad, &bad_len, &e) == JPL_OK)
                    put("envelope", "bad-signature", bad, bad_len);
                free(bad);
                /* A 31-byte public key: the codec refuses it. */
                d->public_key.len = 31;
                if (jpl_codec_envelope_encode(d, &bad, &bad_len, &e) == JPL_OK)
                    put("envelope", "short-public-key", bad, bad_len);
                free(bad);
            }
        }
        jpl_codec_envelope_free(d);
        free(entry);
        free(env);
        free(ev);
    }
    put("event", "empty", "", 0);
    put("envelope", "empty", "", 0);
    put("entry", "empty", "", 0);
}

/* ---- signed notes, checkpoints, keys ---- */

static char *note_bytes(json_t *ex, size_t *len)
{
    const char *b64 = jstr(ex, "note_b64");
    if (b64 == NULL)
        return NULL;
    size_t blen = strlen(b64);
    char *buf = malloc(blen + 1);
    if (buf == NULL || !jpl_base64_decode((uint8_t *)buf, blen, len, b64, blen)) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Length of the text of a note: up to and including the newline before the last blank line. */
static size_t note_text_len(const char *note, size_t len)
{
    for (size_t i = len; i >= 2; i--)
        if (note[i - 1] == '\n' && note[i - 2] == '\n')
            return i - 1;
    return 0;
}

static void note_seeds(void)
{
    json_t *j = load("signed_note_examples.json");
    size_t i;
    json_t *ex;
    json_array_foreach(json_object_get(j, "examples"), i, ex)
    {
        const char *id = jstr(ex, "id");
        size_t len = 0;
        char *note = note_bytes(ex, &len);
        if (id == NULL || note == NULL) {
            fail("signed note example");
            free(note);
            continue;
        }
        put("note", id, note, len);
        if (json_object_get(ex, "checkpoint") != NULL) {
            char n[256];
            put("checkpoint", id, note, len);
            snprintf(n, sizeof n, "%s-text", id);
            put("checkpoint", n, note, note_text_len(note, len));
        }
        free(note);
        json_t *keys[] = {json_object_get(ex, "verifier_keys"), json_object_get(ex, "signer_keys")};
        for (size_t t = 0; t < 2; t++) {
            size_t kix;
            json_t *key;
            json_array_foreach(keys[t], kix, key)
            {
                const char *s = json_string_value(key);
                char n[256];
                snprintf(n, sizeof n, "%s-%s%zu", id, t ? "skey" : "vkey", kix);
                if (s != NULL)
                    put("note_key", n, s, strlen(s));
            }
        }
    }
    json_array_foreach(json_object_get(json_object_get(j, "checkpoint_body_parse"), "cases"), i, ex)
    {
        const char *body = jstr(ex, "body");
        char n[64];
        snprintf(n, sizeof n, "body-parse-%02zu", i);
        if (body != NULL)
            put("checkpoint", n, body, strlen(body));
    }
    json_decref(j);

    /* A checkpoint of the RFC 6962 8-leaf tree, with and without an extension line, signed. */
    json_t *m = load("merkle_rfc6962.json");
    const char *roothex = jstr(json_object_get(m, "roots"), "8");
    uint8_t root[32];
    char text[512], signed_note[1024];
    size_t tlen = 0, slen = 0;
    jpl_note_signer signer;
    static const char skey[] =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    if (roothex != NULL && jpl_hex_decode(root, 32, roothex, strlen(roothex)) &&
        jpl_checkpoint_format("jpledger.example/log", 8, root, text, sizeof text, &tlen, NULL) ==
            JPL_OK &&
        jpl_note_signer_parse(skey, strlen(skey), &signer, NULL) == JPL_OK) {
        put("checkpoint", "jpledger-8", text, tlen);
        if (jpl_note_sign(text, tlen, &signer, signed_note, sizeof signed_note, &slen, NULL) ==
            JPL_OK) {
            put("checkpoint", "jpledger-8-signed", signed_note, slen);
            put("note", "jpledger-checkpoint-8-signed", signed_note, slen);
        }
        static const char ext[] = "timestamp 1735689600\n";
        memcpy(text + tlen, ext, sizeof ext);
        put("checkpoint", "jpledger-8-extension", text, tlen + sizeof ext - 1);
        jpl_note_signer_wipe(&signer);
    } else {
        fail("jpledger checkpoint seed");
    }
    json_decref(m);

    static const char *const bad_keys[] = {
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz=",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    };
    for (size_t b = 0; b < sizeof bad_keys / sizeof bad_keys[0]; b++) {
        char n[32];
        snprintf(n, sizeof n, "malformed-%zu", b);
        put("note_key", n, bad_keys[b], strlen(bad_keys[b]));
    }
}

/* ---- Merkle proofs ---- */

static bool hex32(uint8_t out[32], const char *hex)
{
    memset(out, 0, 32);
    if (hex == NULL)
        return false;
    size_t n = strlen(hex) / 2;
    uint8_t tmp[64];
    if (n > sizeof tmp || !jpl_hex_decode(tmp, n, hex, 2 * n))
        return false;
    memcpy(out, tmp, n < 32 ? n : 32);
    return true;
}

/* Writes one input in fuzz_merkle's layout (see fuzz_merkle.c). */
static void put_proof(const char *name, uint8_t mode, uint64_t a, uint64_t b, const char *h1hex,
                      const char *h2hex, json_t *proof)
{
    uint8_t buf[81 + 80 * 256];
    size_t len = 81;
    buf[0] = mode;
    for (int i = 0; i < 8; i++) {
        buf[1 + i] = (uint8_t)(a >> (8 * i));
        buf[9 + i] = (uint8_t)(b >> (8 * i));
    }
    hex32(buf + 17, h1hex);
    hex32(buf + 49, h2hex);
    size_t i;
    json_t *el;
    json_array_foreach(proof, i, el)
    {
        const char *hex = json_string_value(el);
        size_t n = hex ? strlen(hex) / 2 : 0;
        if (i >= 80 || n > 255 || (n > 0 && !jpl_hex_decode(buf + len + 1, n, hex, 2 * n)))
            break;
        buf[len] = (uint8_t)n;
        len += 1 + n;
    }
    put("merkle", name, buf, len);
}

static void merkle_seeds(void)
{
    static const char *const files[] = {"merkle_rfc6962.json", "merkle_rfc6962_probes.json",
                                        "merkle_rfc6962_derived_all_pairs.json"};
    static const char *const tags[] = {"rfc6962", "probe", "derived"};
    for (size_t f = 0; f < 3; f++) {
        json_t *j = load(files[f]);
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(j, "inclusion"), i, c)
        {
            char n[64];
            snprintf(n, sizeof n, "%s-inclusion-%03zu", tags[f], i);
            json_t *proof = json_object_get(c, "proof");
            put_proof(n, 0, ju64(c, "leaf_index"), ju64(c, "tree_size"), jstr(c, "leaf_hash"),
                      jstr(c, "root"), proof ? proof : json_object_get(c, "path"));
        }
        json_array_foreach(json_object_get(j, "consistency"), i, c)
        {
            char n[64];
            snprintf(n, sizeof n, "%s-consistency-%03zu", tags[f], i);
            put_proof(n, 1, ju64(c, "size1"), ju64(c, "size2"), jstr(c, "root1"), jstr(c, "root2"),
                      json_object_get(c, "proof"));
        }
        json_decref(j);
    }
    /* Generated mode: trees of 1, 8, 77 and 200 leaves. */
    static const uint64_t sizes[] = {0, 7, 76, 199};
    for (size_t s = 0; s < 4; s++) {
        char n[64];
        snprintf(n, sizeof n, "generated-%03llu", (unsigned long long)(sizes[s] + 1));
        put_proof(n, 2, sizes[s] / 2 + 1, sizes[s], NULL, NULL, NULL);
    }
}

/* ---- export bundles ---- */

/* Entry seq holding golden event `file`, signed with the TEST 1 key (the admin of entry 0). */
static bool golden_entry(const char *file, uint64_t seq, const uint8_t pk[32], const uint8_t sk[64],
                         uint8_t **out, size_t *len)
{
    char path[1024], why[1200];
    snprintf(path, sizeof path, "%s/%s.hex", GOLDEN_DIR, file);
    uint8_t *ev = NULL, *env = NULL;
    size_t ev_len = 0, env_len = 0;
    Jpl__SignedEnvelope *d = NULL;
    bool ok = golden_hex_read(path, &ev, &ev_len, why, sizeof why) &&
              jpl_envelope_sign(ev, ev_len, pk, sk, &env, &env_len, NULL) == JPL_OK &&
              jpl_codec_envelope_decode(env, env_len, &d, NULL) == JPL_OK;
    if (ok) {
        Jpl__LogEntry le = JPL__LOG_ENTRY__INIT;
        le.seq = seq;
        le.recorded_at_ms = UINT64_C(1735689600000) + 1000 * seq;
        le.envelope = d;
        ok = jpl_codec_entry_encode(&le, out, len, NULL) == JPL_OK;
    }
    jpl_codec_envelope_free(d);
    free(env);
    free(ev);
    return ok;
}

/* A bundle of entries[0..n) under a checkpoint of size n signed by the fuzz log key; written
 * as seed `name`, and also cut in half and with a trailing byte. */
static void put_bundle(const char *name, uint8_t *const *entries, const size_t *lens, size_t n,
                       const jpl_note_signer *log)
{
    jpl_merkle_frontier front;
    jpl_merkle_frontier_init(&front);
    uint8_t leaf[32], root[32];
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        jpl_merkle_hash_leaf(leaf, entries[i], lens[i]);
        ok = ok && jpl_merkle_frontier_append(&front, leaf, NULL, NULL, NULL) == JPL_OK;
    }
    jpl_merkle_frontier_root(&front, root);
    char text[512], note[1024], tmp[4096];
    size_t tlen = 0, nlen = 0;
    jpl_bundle_writer *w = NULL;
    snprintf(tmp, sizeof tmp, "%s/bundle-seed.tmp", out_root);
    ok = ok &&
         jpl_checkpoint_format(log->name, n, root, text, sizeof text, &tlen, NULL) == JPL_OK &&
         jpl_note_sign(text, tlen, log, note, sizeof note, &nlen, NULL) == JPL_OK &&
         jpl_bundle_create(tmp, true, log->name, FUZZ_BUNDLE_LOG_VKEY, note, nlen, &w, NULL) ==
             JPL_OK;
    for (size_t i = 0; ok && i < n; i++)
        ok = jpl_bundle_put_entry(w, entries[i], lens[i], NULL) == JPL_OK;
    uint64_t bytes = 0;
    if (ok)
        ok = jpl_bundle_commit(w, &bytes, NULL) == JPL_OK;
    else
        jpl_bundle_abort(w);
    FILE *f = ok ? fopen(tmp, "rb") : NULL;
    uint8_t *b = malloc(bytes + 1);
    ok = f != NULL && b != NULL && fread(b, 1, bytes, f) == bytes;
    if (f != NULL)
        fclose(f);
    remove(tmp);
    if (!ok) {
        fail(name);
        free(b);
        return;
    }
    char n2[128];
    put("bundle", name, b, bytes);
    snprintf(n2, sizeof n2, "%s-truncated", name);
    put("bundle", n2, b, bytes / 2);
    b[bytes] = 0x0a;
    snprintf(n2, sizeof n2, "%s-trailing", name);
    put("bundle", n2, b, bytes + 1);
    free(b);
}

static void bundle_seeds(void)
{
    uint8_t pk[32], sk[64];
    jpl_note_signer log;
    if (!test1_key(pk, sk) ||
        jpl_note_signer_parse(FUZZ_BUNDLE_LOG_SKEY, strlen(FUZZ_BUNDLE_LOG_SKEY), &log, NULL) !=
            JPL_OK) {
        fail("bundle keys");
        return;
    }
    /* entry 0 registers the TEST 1 key as admin; an admin may set a policy (entry 1) but not
     * register an employee (entry 2) */
    static const char *const files[] = {"event_01_key_registered", "event_03_policy_set",
                                        "event_04_employee_registered"};
    uint8_t *entries[3] = {0};
    size_t lens[3] = {0};
    bool ok = true;
    for (size_t i = 0; ok && i < 3; i++)
        ok = golden_entry(files[i], i, pk, sk, &entries[i], &lens[i]);
    if (ok) {
        put_bundle("one-entry", entries, lens, 1, &log);
        put_bundle("two-entries", entries, lens, 2, &log);
        put_bundle("forbidden", entries, lens, 3, &log);
    } else {
        fail("bundle entries");
    }
    for (size_t i = 0; i < 3; i++)
        free(entries[i]);
    jpl_note_signer_wipe(&log);
    put("bundle", "empty", "", 0);
    put("bundle", "magic-only", JPL_BUNDLE_MAGIC, JPL_BUNDLE_MAGIC_LEN);
}

int main(int argc, char **argv)
{
    out_root = argc > 1 ? argv[1] : JPL_SOURCE_DIR "/tests/fuzz/corpus";
    if (!jpl_crypto_init()) {
        fprintf(stderr, "make_seeds: crypto init failed\n");
        return 1;
    }
    if (mkdir(out_root, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "make_seeds: %s: %s\n", out_root, strerror(errno));
        return 1;
    }
    codec_seeds();
    note_seeds();
    merkle_seeds();
    bundle_seeds();
    printf("make_seeds: wrote %zu files under %s\n", written, out_root);
    return failures ? 1 : 0;
}
