/*
 * The ledger's append rules, one test per invariant with its failing case, plus batches,
 * idempotency, concurrency, persistence, proofs against checkpoints and tamper detection.
 */
#include "test.h"

#include <pthread.h>

#include "jpl/codec.h"
#include "jpl/event_json.h"
#include "jpl/keyfile.h"
#include "jpl/ledger.h"
#include "jpl/merkle.h"
#include "jpl/note.h"
#include "jpl/store.h"
#include "jpl/verify.h"

#define NIP_A "198503122009031001"
#define NIP_B "199001012015022003"
#define EVIDENCE "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

typedef struct {
    char dir[4096];
    jpl_ledger *l;
    jpl_note_signer admin, hr, lms, verifier, supervisor;
} fixture;

static int uuid_counter = 0;

/* A fresh, valid, unique UUID text. */
static const char *new_id(char buf[37])
{
    uint8_t id[16];
    jpl_uuid_v4(id);
    jpl_uuid_format(buf, id);
    uuid_counter++;
    return buf;
}

static jpl_err sign_json(const jpl_note_signer *k, const char *json, uint8_t **env, size_t *envlen)
{
    Jpl__Event *ev = NULL;
    jpl_error e = {0};
    uint8_t *evb = NULL;
    size_t evlen = 0;
    jpl_err rc = jpl_event_from_json_text(json, strlen(json), jpl_now_ms(), &ev, &e);
    if (rc == JPL_OK)
        rc = jpl_codec_event_encode(ev, &evb, &evlen, &e);
    if (rc == JPL_OK)
        rc = jpl_envelope_sign(evb, evlen, k->pk, k->sk, env, envlen, &e);
    if (rc != JPL_OK)
        fprintf(stderr, "sign_json: %s: %s\n", json, e.msg);
    jpl_event_free(ev);
    free(evb);
    return rc;
}

/* Signs and appends one JSON event; returns the append's code. */
static jpl_err app(fixture *f, const jpl_note_signer *k, const char *json, jpl_append_result *res)
{
    uint8_t *env = NULL;
    size_t envlen = 0;
    jpl_append_result local;
    jpl_err rc = sign_json(k, json, &env, &envlen);
    if (rc != JPL_OK)
        return rc;
    jpl_bytes raw = {env, envlen};
    jpl_error e = {0};
    rc = jpl_ledger_append(f->l, &raw, 1, res ? res : &local, &e);
    free(env);
    return rc;
}

static jpl_err register_key_by(fixture *f, const jpl_note_signer *by, const jpl_note_signer *k,
                               const char *role)
{
    char json[512], b64[64], id[37];
    if (!jpl_base64_encode(b64, sizeof b64, k->pk, 32))
        return JPL_ERR_INTERNAL;
    snprintf(json, sizeof json,
             "{\"type\":\"key_registered\",\"id\":\"%s\",\"public_key\":\"%s\",\"name\":\"%s\","
             "\"role\":\"%s\"}",
             new_id(id), b64, k->name, role);
    return app(f, by, json, NULL);
}

static jpl_err register_key(fixture *f, const jpl_note_signer *k, const char *role)
{
    return register_key_by(f, &f->admin, k, role);
}

static bool setup(fixture *f, const char *name)
{
    memset(f, 0, sizeof *f);
    if (!jpl_test_ledger_new(name, f->dir, sizeof f->dir, &f->admin, NULL, &f->l))
        return false;
    bool ok = jpl_note_keygen("hr", &f->hr, NULL) == JPL_OK &&
              jpl_note_keygen("lms", &f->lms, NULL) == JPL_OK &&
              jpl_note_keygen("verifier", &f->verifier, NULL) == JPL_OK &&
              jpl_note_keygen("supervisor", &f->supervisor, NULL) == JPL_OK;
    ok = ok && register_key(f, &f->hr, "hr") == JPL_OK &&
         register_key(f, &f->lms, "lms") == JPL_OK &&
         register_key(f, &f->verifier, "verifier") == JPL_OK &&
         register_key(f, &f->supervisor, "supervisor") == JPL_OK;
    return ok;
}

static void teardown(fixture *f)
{
    jpl_ledger_close(f->l);
    f->l = NULL;
}

static jpl_err employee(fixture *f, const char *nip, const char *kind)
{
    char json[256], id[37];
    snprintf(json, sizeof json,
             "{\"type\":\"employee_registered\",\"id\":\"%s\",\"nip\":\"%s\",\"kind\":\"%s\","
             "\"unit\":\"Biro Umum\"}",
             new_id(id), nip, kind);
    return app(f, &f->hr, json, NULL);
}

static jpl_err activity(fixture *f, const char *act, unsigned jp)
{
    char json[256], id[37];
    snprintf(json, sizeof json,
             "{\"type\":\"activity_defined\",\"id\":\"%s\",\"activity_id\":\"%s\","
             "\"title\":\"Pelatihan\",\"mode\":\"classical\",\"jp_centi\":%u}",
             new_id(id), act, jp);
    return app(f, &f->lms, json, NULL);
}

static jpl_err enroll(fixture *f, const char *nip, const char *act, char id_out[37])
{
    char json[256];
    snprintf(json, sizeof json,
             "{\"type\":\"enrolled\",\"id\":\"%s\",\"nip\":\"%s\",\"activity_id\":\"%s\"}",
             new_id(id_out), nip, act);
    return app(f, &f->lms, json, NULL);
}

static jpl_err complete(fixture *f, const char *nip, const char *enr, unsigned jp, char id_out[37])
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"type\":\"completed\",\"id\":\"%s\",\"nip\":\"%s\",\"enrollment_event_id\":\"%s\","
             "\"jp_centi\":%u,\"evidence_sha256\":\"" EVIDENCE "\",\"completed_at_ms\":%llu}",
             new_id(id_out), nip, enr, jp, (unsigned long long)jpl_now_ms());
    return app(f, &f->lms, json, NULL);
}

static jpl_err recognize(fixture *f, const jpl_note_signer *k, const char *nip, const char *comp,
                         unsigned jp, char id_out[37])
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"type\":\"recognized\",\"id\":\"%s\",\"nip\":\"%s\",\"completion_event_id\":\"%s\","
             "\"jp_centi\":%u,\"basis\":\"classical\"}",
             new_id(id_out), nip, comp, jp);
    return app(f, k, json, NULL);
}

static jpl_err revoke(fixture *f, const jpl_note_signer *k, const char *target)
{
    char json[256], id[37];
    snprintf(json, sizeof json,
             "{\"type\":\"revoked\",\"id\":\"%s\",\"target_event_id\":\"%s\",\"reason\":\"wrong\"}",
             new_id(id), target);
    return app(f, k, json, NULL);
}

/* An employee with one completed activity of jp centi-JP; returns the completion id. */
static bool completed_employee(fixture *f, const char *nip, const char *act, unsigned jp,
                               char comp[37])
{
    char enr[37];
    return employee(f, nip, "pns") == JPL_OK && activity(f, act, jp) == JPL_OK &&
           enroll(f, nip, act, enr) == JPL_OK && complete(f, nip, enr, jp, comp) == JPL_OK;
}

static void test_genesis_and_reopen(void)
{
    fixture f;
    REQUIRE(setup(&f, "genesis"));
    CHECK_EQ(jpl_ledger_size(f.l), 5); /* entry 0 + four key registrations */
    teardown(&f);
    jpl_error e = {0};
    REQUIRE(jpl_ledger_open(f.dir, true, &f.l, &e) == JPL_OK);
    CHECK_EQ(jpl_ledger_size(f.l), 5);
    CHECK_EQ(employee(&f, NIP_A, "pns"), JPL_OK);
    CHECK_EQ(jpl_ledger_size(f.l), 6);
    teardown(&f);
    /* init refuses an existing ledger and changes nothing */
    CHECK_EQ(jpl_ledger_init(f.dir, NULL, NULL, &e), JPL_ERR_EXISTS);
    REQUIRE(jpl_ledger_open(f.dir, false, &f.l, &e) == JPL_OK);
    CHECK_EQ(jpl_ledger_size(f.l), 6);
    teardown(&f);
}

static void test_bad_signature(void)
{
    fixture f;
    REQUIRE(setup(&f, "badsig"));
    char json[256], id[37];
    snprintf(json, sizeof json,
             "{\"type\":\"employee_registered\",\"id\":\"%s\",\"nip\":\"" NIP_A
             "\",\"kind\":\"pns\",\"unit\":\"X\"}",
             new_id(id));
    uint8_t *env = NULL;
    size_t len = 0;
    REQUIRE(sign_json(&f.hr, json, &env, &len) == JPL_OK);
    env[len - 1] ^= 0x01; /* the signature is the last field */
    jpl_bytes raw = {env, len};
    jpl_append_result res;
    jpl_error e = {0};
    CHECK_EQ(jpl_ledger_append(f.l, &raw, 1, &res, &e), JPL_ERR_BAD_SIGNATURE);
    CHECK(strstr(e.msg, "event 0") != NULL);
    CHECK_EQ(jpl_ledger_size(f.l), 5);
    free(env);
    teardown(&f);
}

static void test_unknown_key_and_wrong_role(void)
{
    fixture f;
    REQUIRE(setup(&f, "keys"));
    jpl_note_signer stranger;
    REQUIRE(jpl_note_keygen("stranger", &stranger, NULL) == JPL_OK);
    char json[256], id[37];
    snprintf(json, sizeof json,
             "{\"type\":\"employee_registered\",\"id\":\"%s\",\"nip\":\"" NIP_A
             "\",\"kind\":\"pns\",\"unit\":\"X\"}",
             new_id(id));
    CHECK_EQ(app(&f, &stranger, json, NULL), JPL_ERR_UNKNOWN_KEY);
    CHECK_EQ(app(&f, &f.lms, json, NULL), JPL_ERR_FORBIDDEN);
    CHECK_EQ(app(&f, &f.admin, json, NULL), JPL_ERR_FORBIDDEN);
    CHECK_EQ(app(&f, &f.hr, json, NULL), JPL_OK);
    /* only an admin registers keys; a key is registered once */
    CHECK_EQ(register_key_by(&f, &f.verifier, &stranger, "hr"), JPL_ERR_FORBIDDEN);
    CHECK_EQ(register_key(&f, &stranger, "hr"), JPL_OK);
    CHECK_EQ(register_key(&f, &stranger, "lms"), JPL_ERR_RULE);
    teardown(&f);
}

static void test_revoked_key(void)
{
    fixture f;
    REQUIRE(setup(&f, "revokedkey"));
    CHECK_EQ(employee(&f, NIP_A, "pns"), JPL_OK);
    char json[256], b64[64], id[37];
    REQUIRE(jpl_base64_encode(b64, sizeof b64, f.hr.pk, 32));
    snprintf(json, sizeof json,
             "{\"type\":\"key_revoked\",\"id\":\"%s\",\"public_key\":\"%s\",\"reason\":\"left\"}",
             new_id(id), b64);
    CHECK_EQ(app(&f, &f.hr, json, NULL), JPL_ERR_FORBIDDEN); /* only admin revokes keys */
    CHECK_EQ(app(&f, &f.admin, json, NULL), JPL_OK);
    CHECK_EQ(employee(&f, NIP_B, "pns"), JPL_ERR_KEY_REVOKED);
    /* revoking again is a rule violation; the last admin key cannot be revoked */
    snprintf(json, sizeof json, "{\"type\":\"key_revoked\",\"id\":\"%s\",\"public_key\":\"%s\"}",
             new_id(id), b64);
    CHECK_EQ(app(&f, &f.admin, json, NULL), JPL_ERR_RULE);
    REQUIRE(jpl_base64_encode(b64, sizeof b64, f.admin.pk, 32));
    snprintf(json, sizeof json, "{\"type\":\"key_revoked\",\"id\":\"%s\",\"public_key\":\"%s\"}",
             new_id(id), b64);
    CHECK_EQ(app(&f, &f.admin, json, NULL), JPL_ERR_RULE);
    teardown(&f);
}

static void test_idempotent_and_conflict(void)
{
    fixture f;
    REQUIRE(setup(&f, "idem"));
    char json[256], id[37];
    new_id(id);
    snprintf(json, sizeof json,
             "{\"type\":\"employee_registered\",\"id\":\"%s\",\"nip\":\"" NIP_A
             "\",\"kind\":\"pns\",\"unit\":\"X\",\"issued_at_ms\":1790000000000}",
             id);
    jpl_append_result r1, r2;
    CHECK_EQ(app(&f, &f.hr, json, &r1), JPL_OK);
    CHECK(!r1.duplicate);
    CHECK_EQ(app(&f, &f.hr, json, &r2), JPL_OK);
    CHECK(r2.duplicate);
    CHECK_EQ(r2.seq, r1.seq);
    CHECK_MEMEQ(r2.leaf_hash, r1.leaf_hash, 32);
    CHECK_EQ(jpl_ledger_size(f.l), r1.seq + 1);
    /* same id, other bytes */
    snprintf(json, sizeof json,
             "{\"type\":\"employee_registered\",\"id\":\"%s\",\"nip\":\"" NIP_B
             "\",\"kind\":\"pns\",\"unit\":\"X\",\"issued_at_ms\":1790000000000}",
             id);
    CHECK_EQ(app(&f, &f.hr, json, NULL), JPL_ERR_CONFLICT);
    CHECK_EQ(jpl_ledger_size(f.l), r1.seq + 1);
    teardown(&f);
}

static void test_expected_version(void)
{
    fixture f;
    REQUIRE(setup(&f, "version"));
    char json[256], id[37];
    snprintf(json, sizeof json,
             "{\"type\":\"employee_registered\",\"id\":\"%s\",\"nip\":\"" NIP_A
             "\",\"kind\":\"pns\",\"unit\":\"X\",\"expected_version\":0}",
             new_id(id));
    CHECK_EQ(app(&f, &f.hr, json, NULL), JPL_OK);
    snprintf(json, sizeof json,
             "{\"type\":\"employee_updated\",\"id\":\"%s\",\"nip\":\"" NIP_A
             "\",\"unit\":\"Y\",\"expected_version\":0}",
             new_id(id));
    CHECK_EQ(app(&f, &f.hr, json, NULL), JPL_ERR_VERSION);
    snprintf(json, sizeof json,
             "{\"type\":\"employee_updated\",\"id\":\"%s\",\"nip\":\"" NIP_A
             "\",\"unit\":\"Y\",\"expected_version\":1}",
             new_id(id));
    CHECK_EQ(app(&f, &f.hr, json, NULL), JPL_OK);
    teardown(&f);
}

static void test_transitions(void)
{
    fixture f;
    REQUIRE(setup(&f, "transitions"));
    char enr[37], comp[37], fake[37], rec[37];
    /* no employee yet */
    CHECK_EQ(activity(&f, "ACT-1", 2000), JPL_OK);
    CHECK_EQ(enroll(&f, NIP_A, "ACT-1", enr), JPL_ERR_NO_EMPLOYEE);
    CHECK_EQ(employee(&f, NIP_A, "pns"), JPL_OK);
    CHECK_EQ(employee(&f, NIP_A, "pns"), JPL_ERR_RULE); /* registered twice */
    CHECK_EQ(employee(&f, NIP_B, "pppk"), JPL_OK);
    CHECK_EQ(enroll(&f, NIP_A, "ACT-404", enr), JPL_ERR_BAD_REFERENCE); /* unknown activity */
    /* completion without an enrollment */
    CHECK_EQ(complete(&f, NIP_A, new_id(fake), 2000, comp), JPL_ERR_BAD_REFERENCE);
    CHECK_EQ(enroll(&f, NIP_A, "ACT-1", enr), JPL_OK);
    /* completion of another employee's enrollment */
    CHECK_EQ(complete(&f, NIP_B, enr, 2000, comp), JPL_ERR_BAD_REFERENCE);
    CHECK_EQ(complete(&f, NIP_A, enr, 2000, comp), JPL_OK);
    char comp2[37];
    CHECK_EQ(complete(&f, NIP_A, enr, 2000, comp2), JPL_ERR_RULE); /* one per enrollment */
    /* recognition above the completion's JP, by the wrong role, then right */
    CHECK_EQ(recognize(&f, &f.verifier, NIP_A, comp, 2001, rec), JPL_ERR_OVER_JP);
    CHECK_EQ(recognize(&f, &f.lms, NIP_A, comp, 2000, rec), JPL_ERR_FORBIDDEN);
    CHECK_EQ(recognize(&f, &f.verifier, NIP_A, comp, 2000, rec), JPL_OK);
    /* double recognition */
    char rec2[37];
    CHECK_EQ(recognize(&f, &f.verifier, NIP_A, comp, 1000, rec2), JPL_ERR_DOUBLE_COUNT);
    /* a recognition referring to an enrollment instead of a completion */
    CHECK_EQ(recognize(&f, &f.verifier, NIP_A, enr, 1000, rec2), JPL_ERR_BAD_REFERENCE);
    teardown(&f);
}

static void test_revocations(void)
{
    fixture f;
    REQUIRE(setup(&f, "revocations"));
    char comp[37], rec[37], rec2[37], fake[37];
    REQUIRE(completed_employee(&f, NIP_A, "ACT-1", 2400, comp));
    CHECK_EQ(recognize(&f, &f.verifier, NIP_A, comp, 2400, rec), JPL_OK);
    CHECK_EQ(revoke(&f, &f.verifier, new_id(fake)), JPL_ERR_BAD_REFERENCE);
    CHECK_EQ(revoke(&f, &f.hr, rec), JPL_ERR_FORBIDDEN); /* hr does not recognize */
    CHECK_EQ(revoke(&f, &f.lms, comp), JPL_ERR_RULE);    /* recognition still live */
    CHECK_EQ(revoke(&f, &f.verifier, rec), JPL_OK);
    CHECK_EQ(revoke(&f, &f.verifier, rec), JPL_ERR_RULE); /* already revoked */
    /* after the revocation the completion can be recognized again, once */
    CHECK_EQ(recognize(&f, &f.verifier, NIP_A, comp, 2000, rec2), JPL_OK);
    CHECK_EQ(recognize(&f, &f.verifier, NIP_A, rec, 2000, fake), JPL_ERR_BAD_REFERENCE);
    CHECK_EQ(revoke(&f, &f.admin, rec2), JPL_OK); /* admin may revoke anything revocable */
    CHECK_EQ(revoke(&f, &f.lms, comp), JPL_OK);
    CHECK_EQ(recognize(&f, &f.verifier, NIP_A, comp, 100, rec2), JPL_ERR_BAD_REFERENCE);
    teardown(&f);
}

static void test_malformed_and_oversize(void)
{
    fixture f;
    REQUIRE(setup(&f, "malformed"));
    jpl_append_result res;
    jpl_error e = {0};
    uint8_t junk[40];
    memset(junk, 0xff, sizeof junk);
    jpl_bytes raw = {junk, sizeof junk};
    CHECK_EQ(jpl_ledger_append(f.l, &raw, 1, &res, &e), JPL_ERR_BAD_INPUT);
    size_t big = JPL_MAX_ENVELOPE_BYTES + 1;
    uint8_t *huge = calloc(1, big);
    REQUIRE(huge != NULL);
    raw = (jpl_bytes){huge, big};
    CHECK_EQ(jpl_ledger_append(f.l, &raw, 1, &res, &e), JPL_ERR_TOO_LARGE);
    free(huge);
    /* truncated envelope */
    char json[256], id[37];
    snprintf(json, sizeof json,
             "{\"type\":\"employee_registered\",\"id\":\"%s\",\"nip\":\"" NIP_A
             "\",\"kind\":\"pns\",\"unit\":\"X\"}",
             new_id(id));
    uint8_t *env = NULL;
    size_t len = 0;
    REQUIRE(sign_json(&f.hr, json, &env, &len) == JPL_OK);
    raw = (jpl_bytes){env, len - 10};
    CHECK_EQ(jpl_ledger_append(f.l, &raw, 1, &res, &e), JPL_ERR_BAD_INPUT);
    free(env);
    CHECK_EQ(jpl_ledger_size(f.l), 5);
    teardown(&f);
}

static void test_batch_all_or_nothing(void)
{
    fixture f;
    REQUIRE(setup(&f, "batch"));
    char j1[256], j2[256], id1[37], id2[37];
    snprintf(j1, sizeof j1,
             "{\"type\":\"employee_registered\",\"id\":\"%s\",\"nip\":\"" NIP_A
             "\",\"kind\":\"pns\",\"unit\":\"X\"}",
             new_id(id1));
    snprintf(j2, sizeof j2,
             "{\"type\":\"employee_updated\",\"id\":\"%s\",\"nip\":\"" NIP_B "\",\"unit\":\"Y\"}",
             new_id(id2));
    uint8_t *e1 = NULL, *e2 = NULL;
    size_t l1 = 0, l2 = 0;
    REQUIRE(sign_json(&f.hr, j1, &e1, &l1) == JPL_OK);
    REQUIRE(sign_json(&f.hr, j2, &e2, &l2) == JPL_OK);
    jpl_bytes raw[2] = {{e1, l1}, {e2, l2}};
    jpl_append_result res[2];
    jpl_error e = {0};
    CHECK_EQ(jpl_ledger_append(f.l, raw, 2, res, &e), JPL_ERR_NO_EMPLOYEE);
    CHECK(strstr(e.msg, "event 1") != NULL);
    CHECK_EQ(res[1].code, JPL_ERR_NO_EMPLOYEE);
    CHECK_EQ(jpl_ledger_size(f.l), 5);
    /* the first event was not written: appending it alone gets a new seq, not a duplicate */
    CHECK_EQ(jpl_ledger_append(f.l, raw, 1, res, &e), JPL_OK);
    CHECK(!res[0].duplicate);
    CHECK_EQ(res[0].seq, 5);
    /* a batch where the second event depends on the first works */
    snprintf(j2, sizeof j2,
             "{\"type\":\"employee_registered\",\"id\":\"%s\",\"nip\":\"" NIP_B
             "\",\"kind\":\"pppk\",\"unit\":\"X\"}",
             new_id(id2));
    free(e2);
    REQUIRE(sign_json(&f.hr, j2, &e2, &l2) == JPL_OK);
    char j3[256], id3[37];
    snprintf(j3, sizeof j3, "{\"type\":\"employee_exited\",\"id\":\"%s\",\"nip\":\"" NIP_B "\"}",
             new_id(id3));
    uint8_t *e3 = NULL;
    size_t l3 = 0;
    REQUIRE(sign_json(&f.hr, j3, &e3, &l3) == JPL_OK);
    jpl_bytes raw2[2] = {{e2, l2}, {e3, l3}};
    CHECK_EQ(jpl_ledger_append(f.l, raw2, 2, res, &e), JPL_OK);
    CHECK_EQ(res[1].seq, res[0].seq + 1);
    free(e1);
    free(e2);
    free(e3);
    teardown(&f);
}

typedef struct {
    fixture *f;
    int thread;
    int ok;
} worker_arg;

static void *concurrent_worker(void *p)
{
    worker_arg *w = p;
    for (int i = 0; i < 50; i++) {
        char json[256], id[37], act[64];
        snprintf(act, sizeof act, "T%d-%d", w->thread, i);
        uint8_t raw_id[16];
        jpl_uuid_v4(raw_id);
        jpl_uuid_format(id, raw_id);
        snprintf(json, sizeof json,
                 "{\"type\":\"activity_defined\",\"id\":\"%s\",\"activity_id\":\"%s\","
                 "\"title\":\"t\",\"mode\":\"classical\",\"jp_centi\":100}",
                 id, act);
        if (app(w->f, &w->f->lms, json, NULL) == JPL_OK)
            w->ok++;
    }
    return NULL;
}

static void test_concurrent_appends_and_verify(void)
{
    fixture f;
    REQUIRE(setup(&f, "concurrent"));
    pthread_t t[4];
    worker_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (worker_arg){&f, i, 0};
        REQUIRE(pthread_create(&t[i], NULL, concurrent_worker, &args[i]) == 0);
    }
    int ok = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ok += args[i].ok;
    }
    CHECK_EQ(ok, 200);
    CHECK_EQ(jpl_ledger_size(f.l), 205);
    teardown(&f);
    jpl_error e = {0};
    REQUIRE(jpl_ledger_open(f.dir, false, &f.l, &e) == JPL_OK);
    jpl_note_verifier vk;
    char path[4200];
    snprintf(path, sizeof path, "%s/log.vkey", f.dir);
    REQUIRE(jpl_keyfile_read_verifier(path, &vk, &e) == JPL_OK);
    jpl_verify_report rep;
    CHECK_EQ(jpl_ledger_verify(f.l, &vk, 0, NULL, NULL, &rep, &e), JPL_OK);
    CHECK_EQ(rep.entries, 205);
    CHECK(rep.checkpoints >= 2);
    /* the latest checkpoint commits to the root the tree gives, and proofs verify against it */
    char *note = NULL;
    REQUIRE(jpl_ledger_checkpoint(f.l, &note, &e) == JPL_OK);
    jpl_checkpoint cp;
    CHECK_EQ(jpl_checkpoint_open(note, strlen(note), jpl_ledger_origin(f.l), &vk, 1, &cp, NULL, &e),
             JPL_OK);
    CHECK_EQ(cp.size, 205);
    uint8_t root[32], path_h[JPL_MERKLE_MAX_PATH][32], leaf[32];
    size_t n = 0;
    CHECK_EQ(jpl_ledger_root(f.l, 205, root, &e), JPL_OK);
    CHECK_MEMEQ(root, cp.root, 32);
    for (uint64_t seq = 0; seq < 205; seq += 17) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        REQUIRE(jpl_ledger_entry(f.l, seq, &bytes, &len, &e) == JPL_OK);
        jpl_merkle_hash_leaf(leaf, bytes, len);
        free(bytes);
        CHECK_EQ(jpl_ledger_prove_inclusion(f.l, seq, 205, path_h, &n, &e), JPL_OK);
        CHECK_EQ(jpl_merkle_verify_inclusion(seq, 205, leaf, (const uint8_t(*)[32])path_h, n,
                                             cp.root, &e),
                 JPL_OK);
    }
    uint8_t r7[32];
    CHECK_EQ(jpl_ledger_root(f.l, 7, r7, &e), JPL_OK);
    CHECK_EQ(jpl_ledger_prove_consistency(f.l, 7, 205, path_h, &n, &e), JPL_OK);
    CHECK_EQ(
        jpl_merkle_verify_consistency(7, 205, r7, cp.root, (const uint8_t(*)[32])path_h, n, &e),
        JPL_OK);
    CHECK_EQ(jpl_ledger_prove_inclusion(f.l, 205, 205, path_h, &n, &e), JPL_ERR_BAD_INPUT);
    CHECK_EQ(jpl_ledger_root(f.l, 206, r7, &e), JPL_ERR_NOT_FOUND);
    free(note);
    teardown(&f);
}

/* Flips one byte of the stored entry at seq, behind the ledger's back. */
static bool tamper(const char *dir, uint64_t seq, size_t offset)
{
    char db[4200];
    snprintf(db, sizeof db, "%s/db", dir);
    jpl_store *s = NULL;
    if (jpl_store_open(db, JPL_STORE_WRITE, &s, NULL) != JPL_OK)
        return false;
    uint8_t k[8];
    jpl_put_u64be(k, seq);
    uint8_t *v = NULL;
    size_t len = 0;
    bool ok = jpl_store_get(s, JPL_CF_LOG, k, 8, &v, &len, NULL) == JPL_OK && offset < len;
    if (ok) {
        v[len - 1 - offset] ^= 0x20;
        jpl_batch *b = jpl_batch_new();
        jpl_batch_put(b, s, JPL_CF_LOG, k, 8, v, len);
        ok = jpl_store_write(s, b, true, NULL) == JPL_OK;
        jpl_batch_free(b);
    }
    free(v);
    jpl_store_close(s);
    return ok;
}

/* The log's verifier key from f's directory. */
static bool read_log_vkey(const fixture *f, jpl_note_verifier *vk)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/log.vkey", f->dir);
    return jpl_keyfile_read_verifier(path, vk, NULL) == JPL_OK;
}

/* Opens f's ledger read-only, expects verify to fail with want and a message containing part. */
static void check_verify_fails(fixture *f, const jpl_note_verifier *vk, jpl_err want,
                               const char *part)
{
    jpl_error e = {0};
    jpl_verify_report rep;
    REQUIRE(jpl_ledger_open(f->dir, false, &f->l, &e) == JPL_OK);
    CHECK_EQ(jpl_ledger_verify(f->l, vk, 1, NULL, NULL, &rep, &e), want);
    CHECK(strstr(e.msg, part) != NULL);
    teardown(f);
}

static void test_verify_detects_flipped_byte(void)
{
    fixture f;
    REQUIRE(setup(&f, "tamper"));
    CHECK_EQ(employee(&f, NIP_A, "pns"), JPL_OK);
    CHECK_EQ(employee(&f, NIP_B, "pppk"), JPL_OK);
    teardown(&f);
    jpl_error e = {0};
    jpl_note_verifier vk;
    REQUIRE(read_log_vkey(&f, &vk));
    jpl_verify_report rep;
    REQUIRE(jpl_ledger_open(f.dir, false, &f.l, &e) == JPL_OK);
    CHECK_EQ(jpl_ledger_verify(f.l, &vk, 2, NULL, NULL, &rep, &e), JPL_OK);
    teardown(&f);
    /* a byte inside the signed event */
    REQUIRE(tamper(f.dir, 5, 80));
    REQUIRE(jpl_ledger_open(f.dir, false, &f.l, &e) == JPL_OK);
    CHECK(jpl_ledger_verify(f.l, &vk, 2, NULL, NULL, &rep, &e) != JPL_OK);
    CHECK(!rep.ok);
    CHECK_EQ(rep.first_bad_seq, 5);
    CHECK(strstr(e.msg, "seq 5") != NULL);
    teardown(&f);
    /* restore it: verify passes again; then flip a byte of the recorded time (unsigned, but
     * part of the Merkle leaf): the tree no longer matches */
    REQUIRE(tamper(f.dir, 5, 80));
    REQUIRE(jpl_ledger_open(f.dir, false, &f.l, &e) == JPL_OK);
    CHECK_EQ(jpl_ledger_verify(f.l, &vk, 1, NULL, NULL, &rep, &e), JPL_OK);
    teardown(&f);
    char db[4200];
    snprintf(db, sizeof db, "%s/db", f.dir);
    jpl_store *s = NULL;
    REQUIRE(jpl_store_open(db, JPL_STORE_WRITE, &s, NULL) == JPL_OK);
    uint8_t k[8], *v = NULL;
    size_t len = 0;
    jpl_put_u64be(k, 6);
    REQUIRE(jpl_store_get(s, JPL_CF_LOG, k, 8, &v, &len, NULL) == JPL_OK);
    v[4] ^= 0x01; /* inside recorded_at_ms (field 2 follows the 1-byte seq field) */
    jpl_batch *b = jpl_batch_new();
    jpl_batch_put(b, s, JPL_CF_LOG, k, 8, v, len);
    CHECK_EQ(jpl_store_write(s, b, true, NULL), JPL_OK);
    jpl_batch_free(b);
    free(v);
    jpl_store_close(s);
    REQUIRE(jpl_ledger_open(f.dir, false, &f.l, &e) == JPL_OK);
    CHECK(jpl_ledger_verify(f.l, &vk, 1, NULL, NULL, &rep, &e) != JPL_OK);
    CHECK_EQ(rep.first_bad_seq, 6);
    teardown(&f);
    /* undo that flip; then a log whose latest checkpoint is gone (every commit writes one)
     * fails */
    REQUIRE(jpl_store_open(db, JPL_STORE_WRITE, &s, NULL) == JPL_OK);
    jpl_put_u64be(k, 6);
    REQUIRE(jpl_store_get(s, JPL_CF_LOG, k, 8, &v, &len, NULL) == JPL_OK);
    v[4] ^= 0x01;
    b = jpl_batch_new();
    jpl_batch_put(b, s, JPL_CF_LOG, k, 8, v, len);
    free(v);
    jpl_put_u64be(k, 7);
    jpl_batch_delete(b, s, JPL_CF_CHECKPOINTS, k, 8);
    CHECK_EQ(jpl_store_write(s, b, true, NULL), JPL_OK);
    jpl_batch_free(b);
    jpl_store_close(s);
    check_verify_fails(&f, &vk, JPL_ERR_CORRUPT, "no checkpoint covers the whole log");
    /* the wrong log key fails the checkpoints */
    jpl_note_signer other;
    REQUIRE(jpl_note_keygen(vk.name, &other, NULL) == JPL_OK);
    jpl_note_verifier wrong;
    jpl_note_verifier_from_signer(&other, &wrong);
    REQUIRE(jpl_ledger_open(f.dir, false, &f.l, &e) == JPL_OK);
    CHECK(jpl_ledger_verify(f.l, &wrong, 1, NULL, NULL, &rep, &e) != JPL_OK);
    teardown(&f);
}

/* An auditor following the log: checks while appends go on, finishes after a reopen, and ends
 * exactly where a one-shot verify ends; extra tree nodes and advancing past the log fail. */
static void test_live_verifier(void)
{
    fixture f;
    REQUIRE(setup(&f, "live_verify"));
    jpl_error e = {0};
    jpl_note_verifier vk;
    REQUIRE(read_log_vkey(&f, &vk));
    jpl_verify_report rep;
    jpl_verifier *vf = NULL;
    REQUIRE(jpl_verifier_new(&vk, 2, &rep, &vf, &e) == JPL_OK);
    CHECK_EQ(employee(&f, NIP_A, "pns"), JPL_OK);
    uint64_t first = jpl_ledger_size(f.l);
    CHECK_EQ(jpl_verifier_advance(vf, f.l, first, NULL, NULL, &e), JPL_OK);
    CHECK_EQ(jpl_verifier_checked(vf), first);
    /* past the committed size: refused, and the verification is over */
    CHECK_EQ(jpl_verifier_advance(vf, f.l, first + 1, NULL, NULL, &e), JPL_ERR_INTERNAL);
    CHECK(strstr(e.msg, "cannot verify up to") != NULL);
    jpl_verifier_free(vf);
    REQUIRE(jpl_verifier_new(&vk, 2, &rep, &vf, &e) == JPL_OK);
    CHECK_EQ(jpl_verifier_advance(vf, f.l, first - 3, NULL, NULL, &e), JPL_OK);
    CHECK_EQ(employee(&f, NIP_B, "pppk"), JPL_OK);
    CHECK_EQ(activity(&f, "ACT-L", 8), JPL_OK);
    CHECK_EQ(jpl_verifier_advance(vf, f.l, jpl_ledger_size(f.l) - 1, NULL, NULL, &e), JPL_OK);
    char enr[37];
    CHECK_EQ(enroll(&f, NIP_A, "ACT-L", enr), JPL_OK);
    teardown(&f);
    REQUIRE(jpl_ledger_open(f.dir, false, &f.l, &e) == JPL_OK);
    CHECK_EQ(jpl_verifier_finish(vf, f.l, NULL, NULL, &e), JPL_OK);
    CHECK(rep.ok);
    CHECK_EQ(rep.entries, jpl_ledger_size(f.l));
    uint8_t live_root[32];
    memcpy(live_root, rep.root, 32);
    uint64_t live_cps = rep.checkpoints;
    jpl_verifier_free(vf);
    CHECK_EQ(jpl_ledger_verify(f.l, &vk, 1, NULL, NULL, &rep, &e), JPL_OK);
    CHECK_MEMEQ(live_root, rep.root, 32);
    CHECK_EQ(live_cps, rep.checkpoints);
    teardown(&f);
    /* a stored node the tree does not have (level 5 is beyond a 12-entry log) */
    char db[4200];
    snprintf(db, sizeof db, "%s/db", f.dir);
    jpl_store *s = NULL;
    REQUIRE(jpl_store_open(db, JPL_STORE_WRITE, &s, NULL) == JPL_OK);
    uint8_t k[9] = {5, 0, 0, 0, 0, 0, 0, 0, 0}, h[32] = {0};
    jpl_batch *b = jpl_batch_new();
    jpl_batch_put(b, s, JPL_CF_TREE, k, 9, h, 32);
    CHECK_EQ(jpl_store_write(s, b, true, NULL), JPL_OK);
    jpl_batch_free(b);
    jpl_store_close(s);
    check_verify_fails(&f, &vk, JPL_ERR_CORRUPT, "node at level 5");
}

int main(void)
{
    if (!jpl_crypto_init())
        return 1;
    static const jpl_test_case cases[] = {
        TEST_CASE(test_genesis_and_reopen),
        TEST_CASE(test_bad_signature),
        TEST_CASE(test_unknown_key_and_wrong_role),
        TEST_CASE(test_revoked_key),
        TEST_CASE(test_idempotent_and_conflict),
        TEST_CASE(test_expected_version),
        TEST_CASE(test_transitions),
        TEST_CASE(test_revocations),
        TEST_CASE(test_malformed_and_oversize),
        TEST_CASE(test_batch_all_or_nothing),
        TEST_CASE(test_concurrent_appends_and_verify),
        TEST_CASE(test_verify_detects_flipped_byte),
        TEST_CASE(test_live_verifier),
    };
    return jpl_test_run("ledger", cases, sizeof cases / sizeof cases[0]);
}
