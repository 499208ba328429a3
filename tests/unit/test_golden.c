/*
 * Golden vectors: the protobuf bytes of today's messages, pinned in tests/golden (*.hex files) so
 * that a schema or encoder change that alters stored bytes fails here. Entries are kept forever, so
 * every byte written today must still decode to the same meaning tomorrow.
 *
 * Pinned: one fixed Event of each of the 13 event types, a SignedEnvelope of the first one signed
 * with the RFC 8032 TEST 1 key (Ed25519 is deterministic, so the signature is fixed), and the
 * LogEntry that holds it at seq 0 (the self-signed admin key of `init`). Each test encodes the
 * fixed struct and compares with the committed bytes, then decodes the committed bytes and checks
 * every field, and checks the envelope signature over "jpledger/event/v1\n" || event bytes.
 *
 * A missing golden file is a failure, never a silent regeneration. To regenerate on purpose (a
 * deliberate, reviewed format change, which for a kept-forever log should essentially never
 * happen): JPL_GOLDEN_UPDATE=1 ./test_golden writes every file and still FAILS, so no CI run can
 * regenerate by accident; run it again without the variable and commit the diff.
 */
#include "test.h"

#include <jansson.h>

#include "golden/golden_hex.h"
#include "jpl/codec.h"
#include "jpl/crypto.h"
#include "jpl/ledger.h"

#define GOLDEN_DIR JPL_SOURCE_DIR "/tests/golden"
#define N_EVENTS 13
#define T0 UINT64_C(1735689600000) /* 2025-01-01T00:00:00Z in UTC milliseconds */

static const char NIP[] = "198503302010011002";
static const char ACT_LATSAR[] = "https://lms.example.go.id/activity/latsar-2025";
static const char ACT_SEMINAR[] = "https://lms.example.go.id/activity/seminar-sdm-2025";

/* Golden file stem of event k (index k-1) and the body case it must decode to. */
static const struct {
    const char *name;
    Jpl__Event__BodyCase body;
} EVENT_TYPES[N_EVENTS] = {
    {"key_registered", JPL__EVENT__BODY_KEY_REGISTERED},
    {"key_revoked", JPL__EVENT__BODY_KEY_REVOKED},
    {"policy_set", JPL__EVENT__BODY_POLICY_SET},
    {"employee_registered", JPL__EVENT__BODY_EMPLOYEE_REGISTERED},
    {"employee_updated", JPL__EVENT__BODY_EMPLOYEE_UPDATED},
    {"employee_exited", JPL__EVENT__BODY_EMPLOYEE_EXITED},
    {"activity_defined", JPL__EVENT__BODY_ACTIVITY_DEFINED},
    {"plan_submitted", JPL__EVENT__BODY_PLAN_SUBMITTED},
    {"plan_approved", JPL__EVENT__BODY_PLAN_APPROVED},
    {"enrolled", JPL__EVENT__BODY_ENROLLED},
    {"completed", JPL__EVENT__BODY_COMPLETED},
    {"recognized", JPL__EVENT__BODY_RECOGNIZED},
    {"revoked", JPL__EVENT__BODY_REVOKED},
};

/* The fixed messages; built by build_golden(), pointing into itself. */
typedef struct {
    uint8_t pk[JPL_ED25519_PK_LEN]; /* RFC 8032 TEST 1 */
    uint8_t sk[JPL_ED25519_SK_LEN];
    uint8_t ids[N_EVENTS][JPL_EVENT_ID_LEN];
    uint8_t evidence[JPL_SHA256_LEN];
    Jpl__KeyRegistered key_registered;
    Jpl__KeyRevoked key_revoked;
    Jpl__ConversionRule conv[2];
    Jpl__ConversionRule *convp[2];
    Jpl__PolicySet policy_set;
    Jpl__EmployeeRegistered employee_registered;
    Jpl__EmployeeUpdated employee_updated;
    Jpl__EmployeeExited employee_exited;
    Jpl__ActivityDefined activity_defined;
    Jpl__PlannedItem items[2];
    Jpl__PlannedItem *itemsp[2];
    Jpl__PlanSubmitted plan_submitted;
    Jpl__PlanApproved plan_approved;
    Jpl__Enrolled enrolled;
    Jpl__Completed completed;
    Jpl__Recognized recognized;
    Jpl__Revoked revoked;
    Jpl__Event ev[N_EVENTS];
} golden;

static golden G;
static bool g_ready;

/* ---- helpers ---- */

static ProtobufCBinaryData bin(uint8_t *data, size_t len)
{
    ProtobufCBinaryData b = {len, data};
    return b;
}

static bool update_mode(void)
{
    const char *v = getenv("JPL_GOLDEN_UPDATE");
    return v != NULL && strcmp(v, "1") == 0;
}

static void hex_print(const char *label, const uint8_t *buf, size_t len)
{
    fprintf(stderr, "  %s (%zu bytes): ", label, len);
    for (size_t i = 0; i < len; i++)
        fprintf(stderr, "%02x", buf[i]);
    fputc('\n', stderr);
}

/* Loads the RFC 8032 TEST 1 key pair from the published vectors into G.pk / G.sk. */
static bool load_test1_key(void)
{
    json_error_t jerr;
    json_t *root = json_load_file(jpl_test_vector_path("ed25519_rfc8032.json"), 0, &jerr);
    if (root == NULL)
        return false;
    bool ok = false;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(root, "vectors"), i, v)
    {
        const char *name = json_string_value(json_object_get(v, "name"));
        const char *skhex = json_string_value(json_object_get(v, "secret_key"));
        const char *pkhex = json_string_value(json_object_get(v, "public_key"));
        if (name == NULL || strcmp(name, "TEST 1") != 0 || skhex == NULL || pkhex == NULL)
            continue;
        uint8_t seed[JPL_ED25519_SEED_LEN], pk[JPL_ED25519_PK_LEN];
        ok = jpl_hex_decode(seed, sizeof seed, skhex, strlen(skhex)) &&
             jpl_hex_decode(pk, sizeof pk, pkhex, strlen(pkhex)) &&
             jpl_ed25519_from_seed(seed, G.pk, G.sk) && memcmp(pk, G.pk, sizeof pk) == 0;
        jpl_memzero(seed, sizeof seed);
        break;
    }
    json_decref(root);
    return ok;
}

/* Builds the fixed events. Every value is a constant of this file or derived from one. */
static bool build_golden(void)
{
    if (g_ready)
        return true;
    if (!jpl_crypto_init() || !load_test1_key())
        return false;
    golden *g = &G;
    for (size_t k = 0; k < N_EVENTS; k++) {
        for (size_t i = 0; i < JPL_EVENT_ID_LEN; i++)
            g->ids[k][i] = (uint8_t)(0x10 * (k + 1) + i);
        g->ids[k][6] = (uint8_t)(0x40 | (g->ids[k][6] & 0x0f)); /* UUID version 4 */
        g->ids[k][8] = (uint8_t)(0x80 | (g->ids[k][8] & 0x3f)); /* RFC 4122 variant */
    }
    static const char cert[] = "Sertifikat Pelatihan Dasar CPNS 2025 no. 0042";
    jpl_sha256(g->evidence, cert, sizeof cert - 1);

    g->key_registered = (Jpl__KeyRegistered)JPL__KEY_REGISTERED__INIT;
    g->key_registered.public_key = bin(g->pk, sizeof g->pk);
    g->key_registered.name = (char *)"admin.jpledger";
    g->key_registered.role = JPL__ROLE__ROLE_ADMIN;

    g->key_revoked = (Jpl__KeyRevoked)JPL__KEY_REVOKED__INIT;
    g->key_revoked.public_key = bin(g->pk, sizeof g->pk);
    g->key_revoked.reason = (char *)"key rotated";

    g->conv[0] = (Jpl__ConversionRule)JPL__CONVERSION_RULE__INIT;
    g->conv[0].form = (char *)"seminar";
    g->conv[0].national_jp_centi_per_day = 400;
    g->conv[0].international_jp_centi_per_day = 600;
    g->conv[1] = (Jpl__ConversionRule)JPL__CONVERSION_RULE__INIT;
    g->conv[1].form = (char *)"workshop";
    g->conv[1].national_jp_centi_per_day = 500;
    g->conv[1].international_jp_centi_per_day = 700;
    g->convp[0] = &g->conv[0];
    g->convp[1] = &g->conv[1];
    g->policy_set = (Jpl__PolicySet)JPL__POLICY_SET__INIT;
    g->policy_set.effective_year = 2025;
    g->policy_set.pns_floor_jp_centi = 3000;
    g->policy_set.pppk_cap_jp_centi = 2400;
    g->policy_set.minutes_per_jp = 45;
    g->policy_set.n_conversions = 2;
    g->policy_set.conversions = g->convp;
    g->policy_set.has_international_bonus_percent = 1;
    g->policy_set.international_bonus_percent = 20;

    g->employee_registered = (Jpl__EmployeeRegistered)JPL__EMPLOYEE_REGISTERED__INIT;
    g->employee_registered.kind = JPL__EMPLOYEE_KIND__KIND_PNS;
    g->employee_registered.unit = (char *)"Biro Sumber Daya Manusia";
    g->employee_registered.has_cap_exempt = 1; /* pins an explicitly present false */
    g->employee_registered.cap_exempt = 0;

    g->employee_updated = (Jpl__EmployeeUpdated)JPL__EMPLOYEE_UPDATED__INIT;
    g->employee_updated.has_kind = 1;
    g->employee_updated.kind = JPL__EMPLOYEE_KIND__KIND_PPPK;
    g->employee_updated.unit = (char *)"Pusat Pendidikan dan Pelatihan";
    g->employee_updated.has_cap_exempt = 1;
    g->employee_updated.cap_exempt = 1;

    g->employee_exited = (Jpl__EmployeeExited)JPL__EMPLOYEE_EXITED__INIT;
    g->employee_exited.reason = (char *)"pensiun";

    g->activity_defined = (Jpl__ActivityDefined)JPL__ACTIVITY_DEFINED__INIT;
    g->activity_defined.activity_id = (char *)ACT_SEMINAR;
    g->activity_defined.title = (char *)"Seminar Internasional Manajemen SDM Aparatur";
    g->activity_defined.mode = JPL__ACTIVITY_MODE__MODE_NON_CLASSICAL;
    g->activity_defined.form = (char *)"seminar";
    g->activity_defined.has_days = 1;
    g->activity_defined.days = 2;
    g->activity_defined.has_international = 1;
    g->activity_defined.international = 1;

    g->items[0] = (Jpl__PlannedItem)JPL__PLANNED_ITEM__INIT;
    g->items[0].activity_id = (char *)ACT_LATSAR;
    g->items[0].jp_centi = 4500;
    g->items[1] = (Jpl__PlannedItem)JPL__PLANNED_ITEM__INIT;
    g->items[1].activity_id = (char *)ACT_SEMINAR;
    g->items[1].jp_centi = 1200;
    g->itemsp[0] = &g->items[0];
    g->itemsp[1] = &g->items[1];
    g->plan_submitted = (Jpl__PlanSubmitted)JPL__PLAN_SUBMITTED__INIT;
    g->plan_submitted.year = 2025;
    g->plan_submitted.n_items = 2;
    g->plan_submitted.items = g->itemsp;

    g->plan_approved = (Jpl__PlanApproved)JPL__PLAN_APPROVED__INIT;
    g->plan_approved.plan_event_id = bin(g->ids[7], JPL_EVENT_ID_LEN);
    g->plan_approved.has_approved_jp_centi = 1;
    g->plan_approved.approved_jp_centi = 5700;

    g->enrolled = (Jpl__Enrolled)JPL__ENROLLED__INIT;
    g->enrolled.activity_id = (char *)ACT_LATSAR;

    g->completed = (Jpl__Completed)JPL__COMPLETED__INIT;
    g->completed.enrollment_event_id = bin(g->ids[9], JPL_EVENT_ID_LEN);
    g->completed.jp_centi = 4500;
    g->completed.evidence_sha256 = bin(g->evidence, sizeof g->evidence);
    g->completed.completed_at_ms = T0 + UINT64_C(86400000) * 30;
    g->completed.has_duration_minutes = 1;
    g->completed.duration_minutes = 2025;

    g->recognized = (Jpl__Recognized)JPL__RECOGNIZED__INIT;
    g->recognized.completion_event_id = bin(g->ids[10], JPL_EVENT_ID_LEN);
    g->recognized.jp_centi = 4500;
    g->recognized.basis = (char *)"classical";

    g->revoked = (Jpl__Revoked)JPL__REVOKED__INIT;
    g->revoked.target_event_id = bin(g->ids[11], JPL_EVENT_ID_LEN);
    g->revoked.reason = (char *)"recognized twice by mistake";

    for (size_t k = 0; k < N_EVENTS; k++) {
        Jpl__Event *ev = &g->ev[k];
        *ev = (Jpl__Event)JPL__EVENT__INIT;
        ev->event_id = bin(g->ids[k], JPL_EVENT_ID_LEN);
        ev->issued_at_ms = T0 + UINT64_C(60000) * k;
        ev->body_case = EVENT_TYPES[k].body;
        /* Events about an employee carry the NIP and, from the update on, a stream version
         * (employee_registered pins an explicitly present 0). */
        if (k >= 3 && k != 6) {
            ev->nip = (char *)NIP;
            ev->has_expected_version = 1;
            ev->expected_version = k == 3 ? 0 : (uint64_t)(k - 3);
        }
    }
    g->ev[0].key_registered = &g->key_registered;
    g->ev[1].key_revoked = &g->key_revoked;
    g->ev[2].policy_set = &g->policy_set;
    g->ev[3].employee_registered = &g->employee_registered;
    g->ev[4].employee_updated = &g->employee_updated;
    g->ev[5].employee_exited = &g->employee_exited;
    g->ev[6].activity_defined = &g->activity_defined;
    g->ev[7].plan_submitted = &g->plan_submitted;
    g->ev[8].plan_approved = &g->plan_approved;
    g->ev[9].enrolled = &g->enrolled;
    g->ev[10].completed = &g->completed;
    g->ev[11].recognized = &g->recognized;
    g->ev[12].revoked = &g->revoked;
    g_ready = true;
    return true;
}

/*
 * Compares fresh with the golden file tests/golden/<file> and returns the committed bytes
 * (malloc'd; NULL if missing or unreadable, which is a failure). In update mode writes fresh
 * into the file first and records a failure, so an update run never passes.
 */
static uint8_t *golden_check(const char *file, const char *comment, const uint8_t *fresh,
                             size_t fresh_len, size_t *len_out)
{
    char path[1024], why[1200], header[512];
    snprintf(path, sizeof path, "%s/%s", GOLDEN_DIR, file);
    if (update_mode()) {
        snprintf(header, sizeof header,
                 "%s\n# jpledger golden vector (protobuf bytes, hex). Never edit by hand; see "
                 "tests/golden/README.md.",
                 comment);
        if (!golden_hex_write(path, header, fresh, fresh_len, why, sizeof why))
            fprintf(stderr, "golden: %s\n", why);
        jpl_test_failures++;
        fprintf(stderr,
                "golden: JPL_GOLDEN_UPDATE=1: wrote %s; this run fails on purpose, rerun "
                "without the variable\n",
                path);
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    jpl_test_checks++;
    if (!golden_hex_read(path, &buf, &len, why, sizeof why)) {
        jpl_test_failures++;
        fprintf(stderr,
                "golden: cannot read %s (%s). Golden files are never regenerated "
                "silently; see tests/golden/README.md (JPL_GOLDEN_UPDATE=1)\n",
                file, why);
        return NULL;
    }
    jpl_test_checks++;
    if (len != fresh_len || memcmp(buf, fresh, len) != 0) {
        jpl_test_failures++;
        fprintf(stderr, "golden: %s: today's encoding differs from the pinned bytes\n", file);
        hex_print("pinned", buf, len);
        hex_print("today ", fresh, fresh_len);
    }
    *len_out = len;
    return buf;
}

/* ---- field checks of decoded messages ---- */

static void check_bin(ProtobufCBinaryData got, ProtobufCBinaryData want)
{
    CHECK_EQ(got.len, want.len);
    if (got.len == want.len && want.len > 0)
        CHECK_MEMEQ(got.data, want.data, want.len);
}

static void check_opt_str(const char *got, const char *want)
{
    if (want == NULL)
        CHECK(got == NULL || got[0] == '\0');
    else
        CHECK_STREQ(got, want);
}

static void check_body(const Jpl__Event *got, const Jpl__Event *want)
{
    switch (want->body_case) {
    case JPL__EVENT__BODY_KEY_REGISTERED:
        check_bin(got->key_registered->public_key, want->key_registered->public_key);
        CHECK_STREQ(got->key_registered->name, want->key_registered->name);
        CHECK_EQ(got->key_registered->role, want->key_registered->role);
        break;
    case JPL__EVENT__BODY_KEY_REVOKED:
        check_bin(got->key_revoked->public_key, want->key_revoked->public_key);
        check_opt_str(got->key_revoked->reason, want->key_revoked->reason);
        break;
    case JPL__EVENT__BODY_POLICY_SET: {
        const Jpl__PolicySet *a = got->policy_set, *b = want->policy_set;
        CHECK_EQ(a->effective_year, b->effective_year);
        CHECK_EQ(a->pns_floor_jp_centi, b->pns_floor_jp_centi);
        CHECK_EQ(a->pppk_cap_jp_centi, b->pppk_cap_jp_centi);
        CHECK_EQ(a->minutes_per_jp, b->minutes_per_jp);
        CHECK_EQ(a->has_international_bonus_percent, b->has_international_bonus_percent);
        CHECK_EQ(a->international_bonus_percent, b->international_bonus_percent);
        REQUIRE(a->n_conversions == b->n_conversions);
        for (size_t i = 0; i < b->n_conversions; i++) {
            CHECK_STREQ(a->conversions[i]->form, b->conversions[i]->form);
            CHECK_EQ(a->conversions[i]->national_jp_centi_per_day,
                     b->conversions[i]->national_jp_centi_per_day);
            CHECK_EQ(a->conversions[i]->international_jp_centi_per_day,
                     b->conversions[i]->international_jp_centi_per_day);
        }
        break;
    }
    case JPL__EVENT__BODY_EMPLOYEE_REGISTERED:
        CHECK_EQ(got->employee_registered->kind, want->employee_registered->kind);
        CHECK_STREQ(got->employee_registered->unit, want->employee_registered->unit);
        CHECK_EQ(got->employee_registered->has_cap_exempt,
                 want->employee_registered->has_cap_exempt);
        CHECK_EQ(got->employee_registered->cap_exempt, want->employee_registered->cap_exempt);
        break;
    case JPL__EVENT__BODY_EMPLOYEE_UPDATED:
        CHECK_EQ(got->employee_updated->has_kind, want->employee_updated->has_kind);
        CHECK_EQ(got->employee_updated->kind, want->employee_updated->kind);
        check_opt_str(got->employee_updated->unit, want->employee_updated->unit);
        CHECK_EQ(got->employee_updated->has_cap_exempt, want->employee_updated->has_cap_exempt);
        CHECK_EQ(got->employee_updated->cap_exempt, want->employee_updated->cap_exempt);
        break;
    case JPL__EVENT__BODY_EMPLOYEE_EXITED:
        check_opt_str(got->employee_exited->reason, want->employee_exited->reason);
        break;
    case JPL__EVENT__BODY_ACTIVITY_DEFINED: {
        const Jpl__ActivityDefined *a = got->activity_defined, *b = want->activity_defined;
        CHECK_STREQ(a->activity_id, b->activity_id);
        CHECK_STREQ(a->title, b->title);
        CHECK_EQ(a->mode, b->mode);
        CHECK_EQ(a->has_jp_centi, b->has_jp_centi);
        CHECK_EQ(a->jp_centi, b->jp_centi);
        check_opt_str(a->form, b->form);
        CHECK_EQ(a->has_days, b->has_days);
        CHECK_EQ(a->days, b->days);
        CHECK_EQ(a->has_international, b->has_international);
        CHECK_EQ(a->international, b->international);
        break;
    }
    case JPL__EVENT__BODY_PLAN_SUBMITTED: {
        const Jpl__PlanSubmitted *a = got->plan_submitted, *b = want->plan_submitted;
        CHECK_EQ(a->year, b->year);
        REQUIRE(a->n_items == b->n_items);
        for (size_t i = 0; i < b->n_items; i++) {
            CHECK_STREQ(a->items[i]->activity_id, b->items[i]->activity_id);
            CHECK_EQ(a->items[i]->jp_centi, b->items[i]->jp_centi);
        }
        break;
    }
    case JPL__EVENT__BODY_PLAN_APPROVED:
        check_bin(got->plan_approved->plan_event_id, want->plan_approved->plan_event_id);
        CHECK_EQ(got->plan_approved->has_approved_jp_centi,
                 want->plan_approved->has_approved_jp_centi);
        CHECK_EQ(got->plan_approved->approved_jp_centi, want->plan_approved->approved_jp_centi);
        break;
    case JPL__EVENT__BODY_ENROLLED:
        CHECK_STREQ(got->enrolled->activity_id, want->enrolled->activity_id);
        break;
    case JPL__EVENT__BODY_COMPLETED: {
        const Jpl__Completed *a = got->completed, *b = want->completed;
        check_bin(a->enrollment_event_id, b->enrollment_event_id);
        CHECK_EQ(a->jp_centi, b->jp_centi);
        check_bin(a->evidence_sha256, b->evidence_sha256);
        CHECK_EQ(a->completed_at_ms, b->completed_at_ms);
        CHECK_EQ(a->has_duration_minutes, b->has_duration_minutes);
        CHECK_EQ(a->duration_minutes, b->duration_minutes);
        break;
    }
    case JPL__EVENT__BODY_RECOGNIZED:
        check_bin(got->recognized->completion_event_id, want->recognized->completion_event_id);
        CHECK_EQ(got->recognized->jp_centi, want->recognized->jp_centi);
        CHECK_STREQ(got->recognized->basis, want->recognized->basis);
        break;
    case JPL__EVENT__BODY_REVOKED:
        check_bin(got->revoked->target_event_id, want->revoked->target_event_id);
        CHECK_STREQ(got->revoked->reason, want->revoked->reason);
        break;
    default:
        CHECK(!"unexpected body case");
    }
}

/* Checks every field of a decoded event against the fixed one. */
static void check_event(const Jpl__Event *got, const Jpl__Event *want)
{
    check_bin(got->event_id, want->event_id);
    check_opt_str(got->nip, want->nip);
    CHECK_EQ(got->issued_at_ms, want->issued_at_ms);
    CHECK_EQ(got->has_expected_version, want->has_expected_version);
    CHECK_EQ(got->expected_version, want->expected_version);
    REQUIRE(got->body_case == want->body_case);
    check_body(got, want);
}

/* Encodes fixed event k (0-based) into a malloc'd buffer; NULL on failure. */
static uint8_t *encode_event(size_t k, size_t *len_out)
{
    uint8_t *buf = NULL;
    jpl_error e = {0};
    if (jpl_codec_event_encode(&G.ev[k], &buf, len_out, &e) != JPL_OK) {
        fprintf(stderr, "encode event %zu: %s\n", k, e.msg);
        return NULL;
    }
    return buf;
}

static bool sig_ok(const Jpl__SignedEnvelope *env)
{
    return env->public_key.len == JPL_ED25519_PK_LEN && env->signature.len == JPL_ED25519_SIG_LEN &&
           jpl_ed25519_verify2(env->signature.data, JPL_EVENT_SIG_PREFIX, JPL_EVENT_SIG_PREFIX_LEN,
                               env->event.data, env->event.len, env->public_key.data);
}

/* ---- tests ---- */

static void test_golden_events(void)
{
    REQUIRE(build_golden());
    for (size_t k = 0; k < N_EVENTS; k++) {
        int before = jpl_test_failures;
        char file[128], comment[160];
        snprintf(file, sizeof file, "event_%02zu_%s.hex", k + 1, EVENT_TYPES[k].name);
        snprintf(comment, sizeof comment, "Event %s (type %zu of %d), fixed values of %s",
                 EVENT_TYPES[k].name, k + 1, N_EVENTS, "tests/unit/test_golden.c");
        size_t fresh_len = 0, len = 0;
        uint8_t *fresh = encode_event(k, &fresh_len);
        CHECK(fresh != NULL);
        if (fresh == NULL)
            continue;
        uint8_t *pinned = golden_check(file, comment, fresh, fresh_len, &len);
        free(fresh);
        if (pinned == NULL)
            continue;
        Jpl__Event *ev = NULL;
        jpl_error e = {0};
        CHECK_EQ(jpl_codec_event_decode(pinned, len, &ev, &e), JPL_OK);
        if (ev != NULL) {
            check_event(ev, &G.ev[k]);
            jpl_codec_event_free(ev);
        }
        free(pinned);
        if (jpl_test_failures != before)
            fprintf(stderr, "  (in %s: %s)\n", file, e.msg);
    }
}

/* The envelope of event 1 (key_registered) signed with the RFC 8032 TEST 1 key. */
static void test_golden_envelope(void)
{
    REQUIRE(build_golden());
    size_t ev_len = 0, env_len = 0, len = 0;
    uint8_t *ev_bytes = encode_event(0, &ev_len);
    REQUIRE(ev_bytes != NULL);
    uint8_t *env_bytes = NULL;
    jpl_error e = {0};
    CHECK_EQ(jpl_envelope_sign(ev_bytes, ev_len, G.pk, G.sk, &env_bytes, &env_len, &e), JPL_OK);
    uint8_t *pinned = NULL;
    if (env_bytes != NULL)
        pinned = golden_check("envelope_key_registered.hex",
                              "SignedEnvelope of event_01_key_registered, signed with the RFC "
                              "8032 TEST 1 key over \"jpledger/event/v1\\n\" || event",
                              env_bytes, env_len, &len);
    free(env_bytes);
    if (pinned == NULL) {
        free(ev_bytes);
        CHECK(pinned != NULL);
        return;
    }
    Jpl__SignedEnvelope *env = NULL;
    CHECK_EQ(jpl_codec_envelope_decode(pinned, len, &env, &e), JPL_OK);
    if (env != NULL) {
        check_bin(env->event, bin(ev_bytes, ev_len));
        check_bin(env->public_key, bin(G.pk, sizeof G.pk));
        /* The pinned signature is the one signing the pinned bytes computes today. */
        uint8_t sig[JPL_ED25519_SIG_LEN];
        jpl_ed25519_sign2(sig, JPL_EVENT_SIG_PREFIX, JPL_EVENT_SIG_PREFIX_LEN, env->event.data,
                          env->event.len, G.sk);
        check_bin(env->signature, bin(sig, sizeof sig));
        CHECK(sig_ok(env));
        /* Domain separation: the signature does not verify over the bare event bytes. */
        CHECK(!jpl_ed25519_verify(env->signature.data, env->event.data, env->event.len,
                                  env->public_key.data));
        /* Tampering with the signature or the event bytes breaks it. */
        env->signature.data[5] ^= 0x01;
        CHECK(!sig_ok(env));
        env->signature.data[5] ^= 0x01;
        env->event.data[env->event.len - 1] ^= 0x80;
        CHECK(!sig_ok(env));
        env->event.data[env->event.len - 1] ^= 0x80;
        CHECK(sig_ok(env));
        Jpl__Event *ev = NULL;
        CHECK_EQ(jpl_codec_event_decode(env->event.data, env->event.len, &ev, &e), JPL_OK);
        if (ev != NULL)
            check_event(ev, &G.ev[0]);
        jpl_codec_event_free(ev);
        jpl_codec_envelope_free(env);
    }
    free(pinned);
    free(ev_bytes);
}

/* Entry seq 0: the self-signed registration of the first admin key, as `init` writes it. */
static void test_golden_log_entry(void)
{
    REQUIRE(build_golden());
    size_t ev_len = 0, len = 0;
    uint8_t *ev_bytes = encode_event(0, &ev_len);
    REQUIRE(ev_bytes != NULL);
    uint8_t sig[JPL_ED25519_SIG_LEN];
    jpl_ed25519_sign2(sig, JPL_EVENT_SIG_PREFIX, JPL_EVENT_SIG_PREFIX_LEN, ev_bytes, ev_len, G.sk);
    Jpl__SignedEnvelope env = JPL__SIGNED_ENVELOPE__INIT;
    env.event = bin(ev_bytes, ev_len);
    env.public_key = bin(G.pk, sizeof G.pk);
    env.signature = bin(sig, sizeof sig);
    Jpl__LogEntry entry = JPL__LOG_ENTRY__INIT;
    entry.seq = 0;
    entry.recorded_at_ms = T0 + 123;
    entry.envelope = &env;
    uint8_t *fresh = NULL;
    size_t fresh_len = 0;
    jpl_error e = {0};
    CHECK_EQ(jpl_codec_entry_encode(&entry, &fresh, &fresh_len, &e), JPL_OK);
    uint8_t *pinned = NULL;
    if (fresh != NULL)
        pinned = golden_check("log_entry_0.hex",
                              "LogEntry seq 0 holding envelope_key_registered (the self-signed "
                              "first admin key)",
                              fresh, fresh_len, &len);
    free(fresh);
    if (pinned != NULL) {
        Jpl__LogEntry *got = NULL;
        CHECK_EQ(jpl_codec_entry_decode(pinned, len, &got, &e), JPL_OK);
        if (got != NULL) {
            CHECK_EQ(got->seq, 0);
            CHECK_EQ(got->recorded_at_ms, T0 + 123);
            check_bin(got->envelope->event, env.event);
            check_bin(got->envelope->public_key, env.public_key);
            check_bin(got->envelope->signature, env.signature);
            CHECK(sig_ok(got->envelope));
            jpl_codec_entry_free(got);
        }
        /* The pinned entry embeds exactly the pinned envelope's fields. */
        uint8_t *penv = NULL;
        size_t penv_len = 0;
        char why[1200];
        CHECK(golden_hex_read(GOLDEN_DIR "/envelope_key_registered.hex", &penv, &penv_len, why,
                              sizeof why));
        if (penv != NULL) {
            Jpl__SignedEnvelope *d = NULL;
            CHECK_EQ(jpl_codec_envelope_decode(penv, penv_len, &d, &e), JPL_OK);
            if (d != NULL) {
                check_bin(d->event, env.event);
                check_bin(d->signature, env.signature);
            }
            jpl_codec_envelope_free(d);
            free(penv);
        }
    }
    free(pinned);
    free(ev_bytes);
    CHECK(pinned != NULL);
}

/* Damaged golden bytes: every proper prefix and an appended unknown field are rejected. */
static void test_golden_damaged(void)
{
    REQUIRE(build_golden());
    static const char *const files[] = {"event_03_policy_set.hex", "event_11_completed.hex",
                                        "envelope_key_registered.hex", "log_entry_0.hex"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char path[1024], why[1200];
        snprintf(path, sizeof path, "%s/%s", GOLDEN_DIR, files[f]);
        uint8_t *buf = NULL;
        size_t len = 0;
        CHECK(golden_hex_read(path, &buf, &len, why, sizeof why));
        if (buf == NULL)
            continue;
        int kind = f < 2 ? 0 : f == 2 ? 1 : 2;
        size_t accepted = 0;
        /* +3: room for an unknown field 99 (varint tag 0x98 0x06, value 0x01). */
        uint8_t *copy = malloc(len + 3);
        REQUIRE(copy != NULL);
        for (size_t cut = 0; cut <= len + 3; cut++) {
            size_t n = cut;
            memcpy(copy, buf, len);
            if (cut == len + 3) {
                copy[len] = 0x98;
                copy[len + 1] = 0x06;
                copy[len + 2] = 0x01;
            } else if (cut >= len) {
                continue;
            }
            jpl_error e = {0};
            jpl_err rc;
            if (kind == 0) {
                Jpl__Event *m = NULL;
                rc = jpl_codec_event_decode(copy, n, &m, &e);
                jpl_codec_event_free(m);
            } else if (kind == 1) {
                Jpl__SignedEnvelope *m = NULL;
                rc = jpl_codec_envelope_decode(copy, n, &m, &e);
                jpl_codec_envelope_free(m);
            } else {
                Jpl__LogEntry *m = NULL;
                rc = jpl_codec_entry_decode(copy, n, &m, &e);
                jpl_codec_entry_free(m);
            }
            if (rc != JPL_ERR_BAD_INPUT) {
                accepted++;
                fprintf(stderr, "  %s: %zu of %zu bytes gave %s\n", files[f], n, len,
                        jpl_strerror(rc));
            }
        }
        CHECK_EQ(accepted, 0);
        free(copy);
        free(buf);
    }
}

/* A missing golden file is a failure of the reader (and so of the test), never an update. */
static void test_golden_missing_file_fails(void)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    char why[1200];
    CHECK(!golden_hex_read(GOLDEN_DIR "/no_such_vector.hex", &buf, &len, why, sizeof why));
    CHECK(buf == NULL);
    CHECK(strstr(why, "no_such_vector.hex") != NULL);
}

int main(void)
{
    static const jpl_test_case cases[] = {
        TEST_CASE(test_golden_events),
        TEST_CASE(test_golden_envelope),
        TEST_CASE(test_golden_log_entry),
        TEST_CASE(test_golden_damaged),
        TEST_CASE(test_golden_missing_file_fails),
    };
    return jpl_test_run("golden", cases, sizeof cases / sizeof cases[0]);
}
