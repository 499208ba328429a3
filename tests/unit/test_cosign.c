/*
 * Auditor cosignatures of checkpoints (jpl/cosign.h) on a real ledger: accepted from auditor
 * keys and served after the log's signature, idempotent, durable; every refusal with its code
 * and nothing stored; stored cosignatures checked by jpl_ledger_cosigs_verify, tampering
 * detected; a ledger without the family (older versions) still reads.
 */
#include "test.h"

#include "jpl/codec.h"
#include "jpl/cosign.h"
#include "jpl/event_json.h"
#include "jpl/ledger.h"
#include "jpl/note.h"

typedef struct {
    char dir[4096];
    jpl_ledger *l;
    jpl_note_signer admin, aud1, aud2, hr, gone, stranger;
    jpl_note_verifier log_key;
} fixture;

/* Appends one key event (registered with role, or revoked when role is 0) signed by admin. */
static jpl_err key_event(fixture *f, const jpl_note_signer *k, Jpl__Role role)
{
    uint8_t id[16];
    jpl_uuid_v4(id);
    Jpl__Event ev = JPL__EVENT__INIT;
    Jpl__KeyRegistered kr = JPL__KEY_REGISTERED__INIT;
    Jpl__KeyRevoked kv = JPL__KEY_REVOKED__INIT;
    ev.event_id = (ProtobufCBinaryData){16, id};
    ev.issued_at_ms = jpl_now_ms();
    if (role != 0) {
        kr.public_key = (ProtobufCBinaryData){32, (uint8_t *)k->pk};
        kr.name = (char *)k->name;
        kr.role = role;
        ev.body_case = JPL__EVENT__BODY_KEY_REGISTERED;
        ev.key_registered = &kr;
    } else {
        kv.public_key = (ProtobufCBinaryData){32, (uint8_t *)k->pk};
        kv.reason = "test";
        ev.body_case = JPL__EVENT__BODY_KEY_REVOKED;
        ev.key_revoked = &kv;
    }
    uint8_t *env = NULL;
    size_t len = 0;
    jpl_error e = {0};
    jpl_err rc = jpl_event_seal(&ev, f->admin.pk, f->admin.sk, &env, &len, &e);
    jpl_append_result res;
    jpl_bytes raw = {env, len};
    if (rc == JPL_OK)
        rc = jpl_ledger_append(f->l, &raw, 1, &res, &e);
    if (rc != JPL_OK)
        fprintf(stderr, "key event: %s\n", e.msg);
    free(env);
    return rc;
}

static bool setup(fixture *f, const char *name)
{
    memset(f, 0, sizeof *f);
    jpl_init_result res;
    if (!jpl_test_ledger_new(name, f->dir, sizeof f->dir, &f->admin, &res, &f->l))
        return false;
    jpl_error e = {0};
    bool ok =
        jpl_note_verifier_parse(res.log_vkey, strlen(res.log_vkey), &f->log_key, &e) == JPL_OK;
    ok = ok && jpl_note_keygen("aud1.example", &f->aud1, NULL) == JPL_OK &&
         jpl_note_keygen("aud2.example", &f->aud2, NULL) == JPL_OK &&
         jpl_note_keygen("hr.example", &f->hr, NULL) == JPL_OK &&
         jpl_note_keygen("gone.example", &f->gone, NULL) == JPL_OK &&
         jpl_note_keygen("stranger.example", &f->stranger, NULL) == JPL_OK;
    ok = ok && key_event(f, &f->aud1, JPL__ROLE__ROLE_AUDITOR) == JPL_OK &&
         key_event(f, &f->aud2, JPL__ROLE__ROLE_AUDITOR) == JPL_OK &&
         key_event(f, &f->hr, JPL__ROLE__ROLE_HR) == JPL_OK &&
         key_event(f, &f->gone, JPL__ROLE__ROLE_AUDITOR) == JPL_OK &&
         key_event(f, &f->gone, 0) == JPL_OK;
    if (!ok)
        fprintf(stderr, "setup: %s\n", e.msg);
    return ok;
}

static void teardown(fixture *f)
{
    jpl_ledger_close(f->l);
    f->l = NULL;
}

/* The latest checkpoint as served, cosigned by k into out (cap bytes); returns its length or 0. */
static size_t cosigned_latest(fixture *f, const jpl_note_signer *k, char *out, size_t cap)
{
    char *note = NULL;
    size_t n = 0;
    jpl_error e = {0};
    if (jpl_ledger_checkpoint(f->l, &note, &e) != JPL_OK ||
        jpl_note_cosign(note, strlen(note), k, out, cap, &n, &e) != JPL_OK) {
        fprintf(stderr, "cosigned_latest: %s\n", e.msg);
        n = 0;
    }
    free(note);
    return n;
}

typedef struct {
    size_t n;
    uint64_t sizes[8];
    char vkeys[8][JPL_NOTE_VKEY_SIZE];
    bool revoked[8];
} seen;

static void record(void *ctx, const jpl_cosig_info *c)
{
    seen *s = ctx;
    if (s->n < 8) {
        s->sizes[s->n] = c->size;
        s->revoked[s->n] = c->revoked;
        snprintf(s->vkeys[s->n], sizeof s->vkeys[0], "%s", c->vkey);
    }
    s->n++;
}

static uint64_t stored_cosigs(fixture *f)
{
    uint64_t n = 0;
    jpl_error e = {0};
    if (jpl_ledger_cosigs_verify(f->l, &f->log_key, NULL, NULL, &n, &e) != JPL_OK)
        fprintf(stderr, "cosigs_verify: %s\n", e.msg);
    return n;
}

static void test_cosign_accepted_served_idempotent(void)
{
    fixture f;
    REQUIRE(setup(&f, "cosign_ok"));
    uint64_t size = jpl_ledger_size(f.l);
    char note[4096];
    size_t n = cosigned_latest(&f, &f.aud1, note, sizeof note);
    REQUIRE(n > 0);
    jpl_cosign_result res;
    jpl_error e = {0};
    CHECK_EQ(jpl_ledger_cosign(f.l, note, n, f.aud1.pk, &res, &e), JPL_OK);
    CHECK_EQ(res.size, size);
    CHECK_STREQ(res.key_name, "aud1.example");
    CHECK(!res.duplicate);

    /* served: the log's note followed by the cosignature, exactly what the auditor signed */
    char *served = NULL;
    REQUIRE(jpl_ledger_checkpoint(f.l, &served, &e) == JPL_OK);
    CHECK_STREQ(served, note);
    free(served);

    /* the same again: a duplicate, nothing changes */
    memset(&res, 0, sizeof res);
    CHECK_EQ(jpl_ledger_cosign(f.l, note, n, f.aud1.pk, &res, &e), JPL_OK);
    CHECK(res.duplicate);
    CHECK_EQ(stored_cosigs(&f), 1);

    /* a second auditor cosigns the served note (which carries the first cosignature) */
    char note2[4096];
    size_t n2 = cosigned_latest(&f, &f.aud2, note2, sizeof note2);
    REQUIRE(n2 > n);
    CHECK_EQ(jpl_ledger_cosign(f.l, note2, n2, f.aud2.pk, &res, &e), JPL_OK);
    CHECK(!res.duplicate);
    REQUIRE(jpl_ledger_checkpoint(f.l, &served, &e) == JPL_OK);
    jpl_note_verifier vs[3] = {f.log_key};
    jpl_note_verifier_from_signer(&f.aud1, &vs[1]);
    jpl_note_verifier_from_signer(&f.aud2, &vs[2]);
    jpl_note_result r;
    CHECK_EQ(jpl_note_open(served, strlen(served), vs, 3, &r, &e), JPL_OK);
    CHECK_EQ(r.n_sigs, 3);
    CHECK_EQ(r.n_verified, 3);
    free(served);

    /* a newer checkpoint starts without cosignatures; the old one keeps them */
    jpl_note_signer extra;
    REQUIRE(jpl_note_keygen("extra.example", &extra, NULL) == JPL_OK);
    REQUIRE(key_event(&f, &extra, JPL__ROLE__ROLE_LMS) == JPL_OK);
    REQUIRE(jpl_ledger_checkpoint(f.l, &served, &e) == JPL_OK);
    CHECK_EQ(jpl_note_open(served, strlen(served), vs, 3, &r, &e), JPL_OK);
    CHECK_EQ(r.n_sigs, 1);
    free(served);
    REQUIRE(jpl_ledger_checkpoint_at(f.l, size, &served, &e) == JPL_OK);
    CHECK_EQ(jpl_note_open(served, strlen(served), vs, 3, &r, &e), JPL_OK);
    CHECK_EQ(r.n_verified, 3);
    free(served);
    CHECK_EQ(jpl_ledger_checkpoint_at(f.l, size + 100, &served, &e), JPL_ERR_NOT_FOUND);

    /* durable: a read-only reopen serves and verifies them */
    teardown(&f);
    REQUIRE(jpl_ledger_open(f.dir, false, &f.l, &e) == JPL_OK);
    REQUIRE(jpl_ledger_checkpoint_at(f.l, size, &served, &e) == JPL_OK);
    const char *aud1_line = strrchr(note, '\n');
    while (aud1_line > note && aud1_line[-1] != '\n')
        aud1_line--; /* the start of the last line of note: aud1's cosignature */
    CHECK(strstr(served, aud1_line) != NULL);
    CHECK(strncmp(served, note, (size_t)(aud1_line - note)) == 0); /* the log's note first */
    free(served);
    seen s = {0};
    uint64_t count = 0;
    CHECK_EQ(jpl_ledger_cosigs_verify(f.l, &f.log_key, record, &s, &count, &e), JPL_OK);
    CHECK_EQ(count, 2);
    CHECK_EQ(s.n, 2);
    CHECK_EQ(s.sizes[0], size);
    CHECK_EQ(s.sizes[1], size);
    char v1[JPL_NOTE_VKEY_SIZE], v2[JPL_NOTE_VKEY_SIZE];
    REQUIRE(jpl_note_verifier_format(&vs[1], v1, sizeof v1, NULL) == JPL_OK);
    REQUIRE(jpl_note_verifier_format(&vs[2], v2, sizeof v2, NULL) == JPL_OK);
    CHECK((strcmp(s.vkeys[0], v1) == 0 && strcmp(s.vkeys[1], v2) == 0) ||
          (strcmp(s.vkeys[0], v2) == 0 && strcmp(s.vkeys[1], v1) == 0));
    CHECK(!s.revoked[0] && !s.revoked[1]);
    /* verify with another log key fails */
    jpl_note_verifier other;
    jpl_note_verifier_from_signer(&f.stranger, &other);
    CHECK_EQ(jpl_ledger_cosigs_verify(f.l, &other, NULL, NULL, &count, &e), JPL_ERR_CORRUPT);
    jpl_note_signer_wipe(&extra);
    teardown(&f);
}

/* Expects code from cosigning note[0..n) by pk, with msg in the message and nothing stored. */
static void refused(fixture *f, const char *note, size_t n, const uint8_t *pk, jpl_err code,
                    const char *msg)
{
    uint64_t before = stored_cosigs(f);
    jpl_cosign_result res = {.size = 4242};
    jpl_error e = {0};
    CHECK_EQ(jpl_ledger_cosign(f->l, note, n, pk, &res, &e), code);
    if (strstr(e.msg, msg) == NULL)
        fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", e.msg, msg);
    CHECK(strstr(e.msg, msg) != NULL);
    CHECK_EQ(res.size, 4242);
    CHECK_EQ(stored_cosigs(f), before);
}

/* A checkpoint text of (origin, size, root) signed by k alone. */
static size_t forged(const char *origin, uint64_t size, uint8_t fill, const jpl_note_signer *k,
                     char *out, size_t cap)
{
    uint8_t root[32];
    memset(root, fill, sizeof root);
    char text[512];
    size_t tl = 0, n = 0;
    if (jpl_checkpoint_format(origin, size, root, text, sizeof text, &tl, NULL) != JPL_OK ||
        jpl_note_sign(text, tl, k, out, cap, &n, NULL) != JPL_OK)
        return 0;
    return n;
}

static void test_cosign_refusals(void)
{
    fixture f;
    REQUIRE(setup(&f, "cosign_refused"));
    uint64_t size_a = jpl_ledger_size(f.l);
    char a[4096], note[4096];
    size_t na = cosigned_latest(&f, &f.aud1, a, sizeof a);
    REQUIRE(na > 0);

    /* keys: another role, revoked, never registered */
    size_t n = cosigned_latest(&f, &f.hr, note, sizeof note);
    refused(&f, note, n, f.hr.pk, JPL_ERR_FORBIDDEN, "only auditor keys");
    n = cosigned_latest(&f, &f.gone, note, sizeof note);
    refused(&f, note, n, f.gone.pk, JPL_ERR_KEY_REVOKED, "gone.example");
    n = cosigned_latest(&f, &f.stranger, note, sizeof note);
    refused(&f, note, n, f.stranger.pk, JPL_ERR_UNKNOWN_KEY, "not registered");

    /* the note: tampered text, no line by the key, garbage, too large */
    memcpy(note, a, na);
    char *root_line = strchr(strchr(note, '\n') + 1, '\n') + 1;
    root_line[0] = root_line[0] == 'A' ? 'B' : 'A';
    refused(&f, note, na, f.aud1.pk, JPL_ERR_BAD_SIGNATURE, "signature");
    char *plain = NULL;
    jpl_error e = {0};
    REQUIRE(jpl_ledger_checkpoint(f.l, &plain, &e) == JPL_OK);
    refused(&f, plain, strlen(plain), f.aud1.pk, JPL_ERR_BAD_SIGNATURE, "no signature line by");
    refused(&f, "hello\n", 6, f.aud1.pk, JPL_ERR_BAD_INPUT, "blank line");
    refused(&f, a, na - 1, f.aud1.pk, JPL_ERR_BAD_INPUT, "newline");
    refused(&f, a, JPL_NOTE_MAX_SIZE + 1, f.aud1.pk, JPL_ERR_TOO_LARGE, "exceeds");

    /* texts the log never signed: same size, other root (a fork); a size it has no checkpoint
     * of; another log's origin */
    n = forged(jpl_ledger_origin(f.l), size_a, 0x5a, &f.aud1, note, sizeof note);
    refused(&f, note, n, f.aud1.pk, JPL_ERR_CONFLICT, "fork");
    n = forged(jpl_ledger_origin(f.l), size_a + 7, 0x5a, &f.aud1, note, sizeof note);
    refused(&f, note, n, f.aud1.pk, JPL_ERR_NOT_FOUND, "no checkpoint of size");
    n = forged("other.example/log", size_a, 0x5a, &f.aud1, note, sizeof note);
    refused(&f, note, n, f.aud1.pk, JPL_ERR_BAD_INPUT, "origin");

    /* the auditor's signature over another checkpoint, attached to this one */
    jpl_note_signer extra;
    REQUIRE(jpl_note_keygen("extra.example", &extra, NULL) == JPL_OK);
    REQUIRE(key_event(&f, &extra, JPL__ROLE__ROLE_LMS) == JPL_OK);
    free(plain);
    REQUIRE(jpl_ledger_checkpoint(f.l, &plain, &e) == JPL_OK);
    const char *a_line = strstr(a, "\n\n") + 2;
    a_line = strchr(a_line, '\n') + 1; /* after the log's line: the auditor's */
    n = (size_t)snprintf(note, sizeof note, "%s%s", plain, a_line);
    refused(&f, note, n, f.aud1.pk, JPL_ERR_BAD_SIGNATURE, "invalid signature by key aud1");
    free(plain);

    /* a well-formed request then works; another line by the same key for it conflicts */
    jpl_cosign_result res;
    REQUIRE(jpl_ledger_cosign(f.l, a, na, f.aud1.pk, &res, &e) == JPL_OK);
    CHECK_EQ(res.size, size_a);
    int cf = 0;
    jpl_store *s = jpl_ledger_store(f.l);
    REQUIRE(jpl_store_cf(s, JPL_COSIG_FAMILY, false, &cf, &e) == JPL_OK);
    uint8_t k[40];
    jpl_put_u64be(k, size_a);
    memcpy(k + 8, f.aud1.pk, 32);
    jpl_batch *b = jpl_batch_new();
    const char *other_line = strstr(a, "\n\n") + 2; /* the log's own line, not aud1's */
    jpl_batch_put(b, s, cf, k, sizeof k, other_line,
                  (size_t)(strchr(other_line, '\n') - other_line));
    REQUIRE(jpl_store_write(s, b, true, &e) == JPL_OK);
    CHECK_EQ(jpl_ledger_cosign(f.l, a, na, f.aud1.pk, &res, &e), JPL_ERR_CONFLICT);
    CHECK(strstr(e.msg, "another signature") != NULL);
    /* ... and verify finds the stored line wrong */
    uint64_t count = 0;
    CHECK_EQ(jpl_ledger_cosigs_verify(f.l, &f.log_key, NULL, NULL, &count, &e), JPL_ERR_CORRUPT);
    CHECK(strstr(e.msg, "aud1.example") != NULL);
    jpl_batch_delete(b, s, cf, k, sizeof k);
    /* a row by a key nobody registered */
    memcpy(k + 8, f.stranger.pk, 32);
    jpl_batch_put(b, s, cf, k, sizeof k, "x", 1);
    REQUIRE(jpl_store_write(s, b, true, &e) == JPL_OK);
    CHECK_EQ(jpl_ledger_cosigs_verify(f.l, &f.log_key, NULL, NULL, &count, &e), JPL_ERR_CORRUPT);
    CHECK(strstr(e.msg, "unregistered") != NULL);
    jpl_batch_free(b);
    jpl_note_signer_wipe(&extra);
    teardown(&f);
}

/* A ledger without the family (made before cosignatures) reads; a writable open adds it. */
static void test_ledger_without_family(void)
{
    fixture f;
    REQUIRE(setup(&f, "cosign_old"));
    char note[4096];
    size_t n = cosigned_latest(&f, &f.aud1, note, sizeof note);
    jpl_cosign_result res;
    jpl_error e = {0};
    REQUIRE(jpl_ledger_cosign(f.l, note, n, f.aud1.pk, &res, &e) == JPL_OK);
    int cf = 0;
    REQUIRE(jpl_store_cf(jpl_ledger_store(f.l), JPL_COSIG_FAMILY, false, &cf, &e) == JPL_OK);
    REQUIRE(jpl_store_cf_drop(jpl_ledger_store(f.l), cf, &e) == JPL_OK);
    teardown(&f);

    REQUIRE(jpl_ledger_open(f.dir, false, &f.l, &e) == JPL_OK);
    CHECK_EQ(jpl_store_cf(jpl_ledger_store(f.l), JPL_COSIG_FAMILY, false, &cf, &e),
             JPL_ERR_NOT_FOUND);
    char *served = NULL;
    REQUIRE(jpl_ledger_checkpoint(f.l, &served, &e) == JPL_OK);
    jpl_note_result r;
    CHECK_EQ(jpl_note_open(served, strlen(served), &f.log_key, 1, &r, &e), JPL_OK);
    CHECK_EQ(r.n_sigs, 1);
    free(served);
    CHECK_EQ(stored_cosigs(&f), 0);
    CHECK_EQ(jpl_ledger_cosign(f.l, note, n, f.aud1.pk, &res, &e), JPL_ERR_INTERNAL);
    teardown(&f);

    REQUIRE(jpl_ledger_open(f.dir, true, &f.l, &e) == JPL_OK);
    CHECK_EQ(jpl_ledger_cosign(f.l, note, n, f.aud1.pk, &res, &e), JPL_OK);
    CHECK(!res.duplicate);
    CHECK_EQ(stored_cosigs(&f), 1);
    teardown(&f);
}

int main(void)
{
    if (!jpl_crypto_init())
        return 1;
    static const jpl_test_case cases[] = {
        TEST_CASE(test_cosign_accepted_served_idempotent),
        TEST_CASE(test_cosign_refusals),
        TEST_CASE(test_ledger_without_family),
    };
    return jpl_test_run("cosign", cases, sizeof cases / sizeof cases[0]);
}
