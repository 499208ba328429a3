/*
 * Projections: a hand-computed history (PNS short, PNS met, PPPK over the cap, cap-exempt PPPK,
 * a revoked recognition, a transfer in mid-year, a policy change between two years, the WIB year
 * boundary) with every figure checked; trails; catch-up of a ledger appended without projections;
 * replay digests equal to the live ones, a tampered family found by a check, a crashed replay's
 * leftovers dropped; and a property test: a random valid history whose every balance is compared
 * with a naive recomputation from the decoded log.
 */
#include "test.h"
#include "test_events.h"

#include <time.h>

#include "jpl/codec.h"
#include "jpl/event_json.h"
#include "jpl/ledger.h"
#include "jpl/merkle.h"
#include "jpl/note.h"
#include "jpl/projections.h"
#include "jpl/store.h"

/* Times (UTC ms) used by the hand-computed history. */
#define T2024_MAR 1709262000000ULL /* 2024-03-01T03:00Z */
#define T2025_FEB 1738378800000ULL /* 2025-02-01T03:00Z */
#define T2025_MAR 1741575600000ULL /* 2025-03-10T03:00Z */
#define T2025_MAY 1747710000000ULL /* 2025-05-20T03:00Z */
#define T2025_JUL 1751338800000ULL /* 2025-07-01T03:00Z */
#define T2025_AUG 1754017200000ULL /* 2025-08-01T03:00Z */
#define T2025_EVE 1767204000000ULL /* 2025-12-31T18:00Z = 2026-01-01T01:00 WIB */
#define T2026_FEB 1769914800000ULL /* 2026-02-01T03:00Z */
#define T2026_APR 1775012400000ULL /* 2026-04-01T03:00Z */

#define NIP_A "198503122009031001" /* PNS, short in 2025 and (under the new floor) in 2026 */
#define NIP_B "199001012015022003" /* PNS, meets 2025 */
#define NIP_C "198811302019022003" /* PPPK, over the cap */
#define NIP_D "197512252000121001" /* PPPK, cap-exempt */
#define NIP_E "199203042018011002" /* PNS, recognition revoked */
#define NIP_F "198706072012121001" /* PNS, moves from Biro Umum to Inspektorat in 2025 */
#define NIP_UNKNOWN "198706072012121009"
#define EVIDENCE "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

typedef struct {
    char dir[4096];
    jpl_ledger *l;
    jpl_projections *p;
    jpl_note_signer admin, hr, lms, verifier, supervisor;
} fixture;

static const char *new_id(char buf[37])
{
    uint8_t id[16];
    jpl_uuid_v4(id);
    jpl_uuid_format(buf, id);
    return buf;
}

static jpl_err app(fixture *f, const jpl_note_signer *k, const char *json, jpl_append_result *res)
{
    return jpl_test_append(f->l, k, json, res);
}

static jpl_err register_key(fixture *f, const jpl_note_signer *k, const char *role)
{
    return jpl_test_register_key(f->l, &f->admin, k, role);
}

/* A new ledger with hr, lms, verifier and supervisor keys; projections attached if attach. */
static bool setup(fixture *f, const char *name, bool attach)
{
    memset(f, 0, sizeof *f);
    if (!jpl_test_ledger_new(name, f->dir, sizeof f->dir, &f->admin, NULL, &f->l))
        return false;
    jpl_error e = {0};
    if (attach && jpl_projections_attach(f->l, NULL, NULL, &f->p, &e) != JPL_OK) {
        fprintf(stderr, "attach: %s\n", e.msg);
        return false;
    }
    return jpl_note_keygen("hr.setjen", &f->hr, NULL) == JPL_OK &&
           jpl_note_keygen("lms.pusdiklat", &f->lms, NULL) == JPL_OK &&
           jpl_note_keygen("verifier.pusdiklat", &f->verifier, NULL) == JPL_OK &&
           jpl_note_keygen("supervisor.biro", &f->supervisor, NULL) == JPL_OK &&
           register_key(f, &f->hr, "hr") == JPL_OK && register_key(f, &f->lms, "lms") == JPL_OK &&
           register_key(f, &f->verifier, "verifier") == JPL_OK &&
           register_key(f, &f->supervisor, "supervisor") == JPL_OK;
}

static void teardown(fixture *f)
{
    jpl_ledger_close(f->l);
    jpl_projections_free(f->p);
    f->l = NULL;
    f->p = NULL;
}

/* Closes and reopens the ledger read-only (what the query commands do). */
static bool reopen_ro(fixture *f)
{
    teardown(f);
    jpl_error e = {0};
    return jpl_ledger_open(f->dir, false, &f->l, &e) == JPL_OK;
}

static bool reopen_rw(fixture *f, bool attach)
{
    teardown(f);
    jpl_error e = {0};
    if (jpl_ledger_open(f->dir, true, &f->l, &e) != JPL_OK)
        return false;
    return !attach || jpl_projections_attach(f->l, NULL, NULL, &f->p, &e) == JPL_OK;
}

/* ---- event helpers (explicit issuer times) ---- */

static jpl_err employee(fixture *f, const char *nip, const char *kind, const char *unit,
                        bool exempt, uint64_t at)
{
    char json[512], id[37];
    snprintf(json, sizeof json,
             "{\"type\":\"employee_registered\",\"id\":\"%s\",\"nip\":\"%s\",\"kind\":\"%s\","
             "\"unit\":\"%s\",\"cap_exempt\":%s,\"issued_at_ms\":%llu}",
             new_id(id), nip, kind, unit, exempt ? "true" : "false", (unsigned long long)at);
    return app(f, &f->hr, json, NULL);
}

static jpl_err transfer(fixture *f, const char *nip, const char *unit, uint64_t at)
{
    char json[512], id[37];
    snprintf(json, sizeof json,
             "{\"type\":\"employee_updated\",\"id\":\"%s\",\"nip\":\"%s\",\"unit\":\"%s\","
             "\"issued_at_ms\":%llu}",
             new_id(id), nip, unit, (unsigned long long)at);
    return app(f, &f->hr, json, NULL);
}

static jpl_err classical(fixture *f, const char *act, unsigned jp)
{
    char json[512], id[37];
    snprintf(json, sizeof json,
             "{\"type\":\"activity_defined\",\"id\":\"%s\",\"activity_id\":\"%s\","
             "\"title\":\"Pelatihan %s\",\"mode\":\"classical\",\"jp_centi\":%u,"
             "\"issued_at_ms\":%llu}",
             new_id(id), act, act, jp, T2024_MAR);
    return app(f, &f->lms, json, NULL);
}

static jpl_err enroll(fixture *f, const char *nip, const char *act, uint64_t at, char id[37])
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"type\":\"enrolled\",\"id\":\"%s\",\"nip\":\"%s\",\"activity_id\":\"%s\","
             "\"issued_at_ms\":%llu}",
             new_id(id), nip, act, (unsigned long long)at);
    return app(f, &f->lms, json, NULL);
}

static jpl_err complete(fixture *f, const char *nip, const char *enr, unsigned jp, uint64_t at,
                        char id[37])
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"type\":\"completed\",\"id\":\"%s\",\"nip\":\"%s\",\"enrollment_event_id\":\"%s\","
             "\"jp_centi\":%u,\"evidence_sha256\":\"" EVIDENCE "\",\"completed_at_ms\":%llu,"
             "\"issued_at_ms\":%llu}",
             new_id(id), nip, enr, jp, (unsigned long long)at, (unsigned long long)at);
    return app(f, &f->lms, json, NULL);
}

static jpl_err recognize(fixture *f, const char *nip, const char *comp, unsigned jp, uint64_t at,
                         char id[37], jpl_append_result *res)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"type\":\"recognized\",\"id\":\"%s\",\"nip\":\"%s\",\"completion_event_id\":\"%s\","
             "\"jp_centi\":%u,\"basis\":\"classical\",\"issued_at_ms\":%llu}",
             new_id(id), nip, comp, jp, (unsigned long long)at);
    return app(f, &f->verifier, json, res);
}

/* Enrolls, completes (at time at) and recognizes jp of activity act; the recognition id out. */
static bool learn(fixture *f, const char *nip, const char *act, unsigned jp, uint64_t at,
                  char rec[37])
{
    char enr[37], comp[37], local[37];
    return enroll(f, nip, act, at, enr) == JPL_OK &&
           complete(f, nip, enr, jp, at, comp) == JPL_OK &&
           recognize(f, nip, comp, jp, at + 86400000, rec ? rec : local, NULL) == JPL_OK;
}

static jpl_err revoke(fixture *f, const jpl_note_signer *k, const char *target, uint64_t at)
{
    char json[512], id[37];
    snprintf(json, sizeof json,
             "{\"type\":\"revoked\",\"id\":\"%s\",\"target_event_id\":\"%s\",\"reason\":\"salah\","
             "\"issued_at_ms\":%llu}",
             new_id(id), target, (unsigned long long)at);
    return app(f, k, json, NULL);
}

static jpl_err plan(fixture *f, const char *nip, unsigned year, unsigned jp1, unsigned jp2,
                    char id[37])
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"type\":\"plan_submitted\",\"id\":\"%s\",\"nip\":\"%s\",\"year\":%u,\"items\":["
             "{\"activity_id\":\"K12\",\"jp_centi\":%u},{\"activity_id\":\"K24\",\"jp_centi\":%u}"
             "],\"issued_at_ms\":%llu}",
             new_id(id), nip, year, jp1, jp2, T2025_FEB);
    return app(f, &f->hr, json, NULL);
}

static jpl_err approve(fixture *f, const char *plan_id, int amount, char id[37])
{
    char json[512], amt[64] = "";
    if (amount >= 0)
        snprintf(amt, sizeof amt, ",\"approved_jp_centi\":%d", amount);
    snprintf(json, sizeof json,
             "{\"type\":\"plan_approved\",\"id\":\"%s\",\"plan_event_id\":\"%s\"%s,"
             "\"issued_at_ms\":%llu}",
             new_id(id), plan_id, amt, T2025_FEB);
    return app(f, &f->supervisor, json, NULL);
}

/* ---- queries ---- */

static bool balance(fixture *f, const char *nip, uint32_t year, jpl_balance *out)
{
    jpl_balance *b = NULL;
    size_t n = 0;
    jpl_error e = {0};
    jpl_err rc = jpl_balance_query(f->l, nip, year, &b, &n, &e);
    if (rc != JPL_OK || n != 1) {
        fprintf(stderr, "balance %s %u: %s\n", nip, year, e.msg);
        free(b);
        return false;
    }
    *out = b[0];
    free(b);
    return true;
}

static bool unit_row(fixture *f, uint32_t year, const char *unit, jpl_unit_row *out)
{
    jpl_unit_row *rows = NULL;
    size_t n = 0;
    jpl_error e = {0};
    jpl_err rc = jpl_unit_report(f->l, year, unit, &rows, &n, &e);
    if (rc != JPL_OK || n != 1) {
        fprintf(stderr, "report %s %u: %s\n", unit, year, e.msg);
        free(rows);
        return false;
    }
    *out = rows[0];
    free(rows);
    return true;
}

static void check_figures(const jpl_balance *b, uint64_t planned, uint64_t approved,
                          uint64_t enrolled, uint64_t completed, uint64_t recognized,
                          uint64_t counted, jpl_balance_status status, uint64_t gap)
{
    CHECK_EQ(b->planned, planned);
    CHECK_EQ(b->approved, approved);
    CHECK_EQ(b->enrolled, enrolled);
    CHECK_EQ(b->completed, completed);
    CHECK_EQ(b->recognized, recognized);
    CHECK_EQ(b->counted, counted);
    CHECK_EQ(b->status, status);
    CHECK_EQ(status == JPL_STATUS_SHORT ? b->shortfall : b->excess, gap);
    CHECK_EQ(status == JPL_STATUS_SHORT ? b->excess : b->shortfall, 0);
}

/* The hand-computed history of the header comment. Every amount is in centi-JP. */
static bool build_history(fixture *f, char e_rec[37])
{
    char json[1024], id[37], p1[37], p2[37], a1[37], a2[37], enr[37];
    bool ok = true;
    /* 2026 policy: floor 30 JP, cap 24 JP, seminar 4/6 JP a day, +20% international */
    snprintf(json, sizeof json,
             "{\"type\":\"policy_set\",\"id\":\"%s\",\"effective_year\":2026,"
             "\"pns_floor_jp_centi\":3000,\"pppk_cap_jp_centi\":2400,\"minutes_per_jp\":45,"
             "\"conversions\":[{\"form\":\"seminar\",\"national_jp_centi_per_day\":400,"
             "\"international_jp_centi_per_day\":600}],\"international_bonus_percent\":20,"
             "\"issued_at_ms\":%llu}",
             new_id(id), T2025_MAR);
    ok = ok && app(f, &f->admin, json, NULL) == JPL_OK;
    snprintf(json, sizeof json,
             "{\"type\":\"activity_defined\",\"id\":\"%s\",\"activity_id\":\"SEM\","
             "\"title\":\"Seminar internasional\",\"mode\":\"non_classical\",\"form\":\"seminar\","
             "\"days\":2,\"international\":true,\"issued_at_ms\":%llu}",
             new_id(id), T2024_MAR);
    ok = ok && app(f, &f->lms, json, NULL) == JPL_OK;
    ok = ok && classical(f, "K05", 500) == JPL_OK && classical(f, "K10", 1000) == JPL_OK &&
         classical(f, "K12", 1200) == JPL_OK && classical(f, "K15", 1500) == JPL_OK &&
         classical(f, "K20", 2000) == JPL_OK && classical(f, "K24", 2400) == JPL_OK &&
         classical(f, "K30", 3000) == JPL_OK;
    ok = ok && employee(f, NIP_A, "pns", "Biro Umum", false, T2024_MAR) == JPL_OK &&
         employee(f, NIP_B, "pns", "Biro Umum", false, T2024_MAR) == JPL_OK &&
         employee(f, NIP_C, "pppk", "Pusdatin", false, T2024_MAR) == JPL_OK &&
         employee(f, NIP_D, "pppk", "Pusdatin", true, T2024_MAR) == JPL_OK &&
         employee(f, NIP_E, "pns", "Biro Umum", false, T2024_MAR) == JPL_OK &&
         employee(f, NIP_F, "pns", "Biro Umum", false, T2024_MAR) == JPL_OK;
    /* A: plan 2025 of 12 + 20 = 32 JP, 28 approved; 12 JP in 2025; 24 JP + an international
     * seminar enrollment in 2026 */
    ok = ok && plan(f, NIP_A, 2025, 1200, 2000, p1) == JPL_OK && approve(f, p1, 2800, a1) == JPL_OK;
    ok = ok && learn(f, NIP_A, "K12", 1200, T2025_MAY, NULL) &&
         learn(f, NIP_A, "K24", 2400, T2026_FEB, NULL) &&
         enroll(f, NIP_A, "SEM", T2026_APR, enr) == JPL_OK;
    /* B: 15 + 10 JP in 2025; 5 JP completed on 2025-12-31 18:00 UTC, which is 2026 in WIB;
     * a plan approved, then the approval and the plan revoked */
    ok = ok && learn(f, NIP_B, "K15", 1500, T2025_MAY, NULL) &&
         learn(f, NIP_B, "K10", 1000, T2025_AUG, NULL) &&
         learn(f, NIP_B, "K05", 500, T2025_EVE, NULL);
    ok = ok && plan(f, NIP_B, 2025, 1000, 1000, p2) == JPL_OK && approve(f, p2, -1, a2) == JPL_OK &&
         revoke(f, &f->supervisor, a2, T2025_MAR) == JPL_OK &&
         revoke(f, &f->hr, p2, T2025_MAR) == JPL_OK;
    /* C: PPPK, 20 + 10 = 30 JP recognized in 2025 */
    ok = ok && learn(f, NIP_C, "K20", 2000, T2025_MAY, NULL) &&
         learn(f, NIP_C, "K10", 1000, T2025_AUG, NULL);
    /* D: cap-exempt PPPK, 30 JP */
    ok = ok && learn(f, NIP_D, "K30", 3000, T2025_MAY, NULL);
    /* E: 20 JP recognized, then the recognition revoked by the verifier */
    ok = ok && learn(f, NIP_E, "K20", 2000, T2025_MAY, e_rec) &&
         revoke(f, &f->verifier, e_rec, T2025_JUL) == JPL_OK;
    /* F: 10 JP in Biro Umum, moves to Inspektorat in July 2025, 12 JP there */
    ok = ok && learn(f, NIP_F, "K10", 1000, T2025_MAY, NULL) &&
         transfer(f, NIP_F, "Inspektorat", T2025_JUL) == JPL_OK &&
         learn(f, NIP_F, "K12", 1200, T2025_AUG, NULL);
    return ok;
}

static void check_history(fixture *f)
{
    jpl_balance b;
    /* A 2025: floor 20 (national default); 12 JP: short by 8 */
    REQUIRE(balance(f, NIP_A, 2025, &b));
    check_figures(&b, 3200, 2800, 1200, 1200, 1200, 1200, JPL_STATUS_SHORT, 800);
    CHECK_EQ(b.floor_jp_centi, 2000);
    CHECK_EQ(b.policy_year, 0);
    CHECK_STREQ(b.unit, "Biro Umum");
    /* A 2026: floor 30 (policy 2026); 24 JP: short by 6 (met under the old floor).
     * enrolled: 24 JP + seminar 2 days x 6 JP international = 12 JP + 20% = 14.40 JP */
    REQUIRE(balance(f, NIP_A, 2026, &b));
    check_figures(&b, 0, 0, 2400 + 1440, 2400, 2400, 2400, JPL_STATUS_SHORT, 600);
    CHECK_EQ(b.floor_jp_centi, 3000);
    CHECK_EQ(b.policy_year, 2026);
    /* B 2025: 25 JP, met; the revoked plan and approval count nothing */
    REQUIRE(balance(f, NIP_B, 2025, &b));
    check_figures(&b, 0, 0, 2500, 2500, 2500, 2500, JPL_STATUS_MET, 0);
    /* B 2026: the New Year's Eve completion is 2026 in WIB; 5 of 30 JP: short by 25 */
    REQUIRE(balance(f, NIP_B, 2026, &b));
    check_figures(&b, 0, 0, 500, 500, 500, 500, JPL_STATUS_SHORT, 2500);
    /* C 2025: PPPK, 30 JP recognized, 24 counted, 6 over */
    REQUIRE(balance(f, NIP_C, 2025, &b));
    check_figures(&b, 0, 0, 3000, 3000, 3000, 2400, JPL_STATUS_OVER, 600);
    CHECK_EQ(b.kind, JPL__EMPLOYEE_KIND__KIND_PPPK);
    CHECK_EQ(b.cap_jp_centi, 2400);
    /* D 2025: cap-exempt PPPK, 30 JP, all counted */
    REQUIRE(balance(f, NIP_D, 2025, &b));
    check_figures(&b, 0, 0, 3000, 3000, 3000, 3000, JPL_STATUS_WITHIN, 0);
    CHECK(b.cap_exempt);
    /* E 2025: completed 20 JP, recognition revoked: nothing recognized, short by 20 */
    REQUIRE(balance(f, NIP_E, 2025, &b));
    check_figures(&b, 0, 0, 2000, 2000, 0, 0, JPL_STATUS_SHORT, 2000);
    /* F 2025: 10 + 12 = 22 JP across two units, met; the year's unit is the last one */
    REQUIRE(balance(f, NIP_F, 2025, &b));
    check_figures(&b, 0, 0, 2200, 2200, 2200, 2200, JPL_STATUS_MET, 0);
    CHECK_STREQ(b.unit, "Inspektorat");
    /* a year without figures: everything zero, judged under that year's policy */
    REQUIRE(balance(f, NIP_D, 2030, &b));
    check_figures(&b, 0, 0, 0, 0, 0, 0, JPL_STATUS_WITHIN, 0);

    /* all years of A: 2025 and 2026, in order */
    jpl_balance *all = NULL;
    size_t n = 0;
    jpl_error e = {0};
    REQUIRE(jpl_balance_query(f->l, NIP_A, 0, &all, &n, &e) == JPL_OK);
    CHECK_EQ(n, 2);
    if (n == 2) {
        CHECK_EQ(all[0].year, 2025);
        CHECK_EQ(all[1].year, 2026);
    }
    free(all);

    /* units 2025. Biro Umum: A, B, E, F (F moved) - met: B (25), F (22 in total);
     * recognized credited: A 12 + B 25 + E 0 + F 10 = 47 JP; mean 47/4 = 11.75 */
    jpl_unit_row r;
    REQUIRE(unit_row(f, 2025, "Biro Umum", &r));
    CHECK_EQ(r.headcount_pns, 4);
    CHECK_EQ(r.headcount_pppk, 0);
    CHECK_EQ(r.pns_met, 2);
    CHECK_EQ(r.pns_met_permille, 500);
    CHECK_EQ(r.movers, 1);
    CHECK_EQ(r.recognized, 4700);
    CHECK_EQ(r.mean_recognized, 1175);
    /* Inspektorat: F only, 12 JP credited there, F meets the floor on the year's total */
    REQUIRE(unit_row(f, 2025, "Inspektorat", &r));
    CHECK_EQ(r.headcount_pns, 1);
    CHECK_EQ(r.pns_met, 1);
    CHECK_EQ(r.movers, 1);
    CHECK_EQ(r.recognized, 1200);
    CHECK_EQ(r.mean_recognized, 1200);
    /* Pusdatin: C at the cap, D exempt; 30 + 30 JP */
    REQUIRE(unit_row(f, 2025, "Pusdatin", &r));
    CHECK_EQ(r.headcount_pns, 0);
    CHECK_EQ(r.headcount_pppk, 2);
    CHECK_EQ(r.pppk_at_cap, 1);
    CHECK_EQ(r.pppk_exempt, 1);
    CHECK_EQ(r.recognized, 6000);
    CHECK_EQ(r.mean_recognized, 3000);
    /* 2026: F is only in Inspektorat; Biro Umum has A (24), B (5), E (0), none meets 30 */
    REQUIRE(unit_row(f, 2026, "Biro Umum", &r));
    CHECK_EQ(r.headcount_pns, 3);
    CHECK_EQ(r.pns_met, 0);
    CHECK_EQ(r.movers, 0);
    CHECK_EQ(r.recognized, 2900);
    REQUIRE(unit_row(f, 2026, "Inspektorat", &r));
    CHECK_EQ(r.headcount_pns, 1);
    CHECK_EQ(r.recognized, 0);
    /* all units, sorted by name */
    jpl_unit_row *rows = NULL;
    REQUIRE(jpl_unit_report(f->l, 2025, NULL, &rows, &n, &e) == JPL_OK);
    CHECK_EQ(n, 3);
    if (n == 3) {
        CHECK_STREQ(rows[0].unit, "Biro Umum");
        CHECK_STREQ(rows[1].unit, "Inspektorat");
        CHECK_STREQ(rows[2].unit, "Pusdatin");
    }
    free(rows);
    /* 2024: everyone registered, nothing recognized */
    REQUIRE(unit_row(f, 2024, "Biro Umum", &r));
    CHECK_EQ(r.headcount_pns, 4);
    CHECK_EQ(r.pns_met, 0);
    CHECK_EQ(r.movers, 0);
}

static void check_negatives(fixture *f)
{
    jpl_balance *b = NULL;
    size_t n = 0;
    jpl_error e = {0};
    CHECK_EQ(jpl_balance_query(f->l, NIP_UNKNOWN, 2025, &b, &n, &e), JPL_ERR_NOT_FOUND);
    CHECK(strstr(e.msg, NIP_UNKNOWN) != NULL);
    CHECK_EQ(jpl_balance_query(f->l, "19850312200903100", 2025, &b, &n, &e), JPL_ERR_BAD_INPUT);
    CHECK_EQ(jpl_balance_query(f->l, "198513122009031001", 2025, &b, &n, &e), JPL_ERR_BAD_INPUT);
    CHECK_EQ(jpl_balance_query(f->l, NIP_A, 1999, &b, &n, &e), JPL_ERR_BAD_INPUT);
    CHECK_EQ(jpl_balance_query(f->l, NIP_A, 2101, &b, &n, &e), JPL_ERR_BAD_INPUT);
    json_t *t = NULL;
    CHECK_EQ(jpl_trail_query(f->l, NIP_UNKNOWN, &t, &e), JPL_ERR_NOT_FOUND);
    CHECK_EQ(jpl_trail_query(f->l, "x", &t, &e), JPL_ERR_BAD_INPUT);
    jpl_unit_row *rows = NULL;
    CHECK_EQ(jpl_unit_report(f->l, 2025, "Biro Tidak Ada", &rows, &n, &e), JPL_ERR_NOT_FOUND);
    CHECK_EQ(jpl_unit_report(f->l, 1990, NULL, &rows, &n, &e), JPL_ERR_BAD_INPUT);
    uint8_t d[32];
    uint64_t applied = 0;
    CHECK_EQ(jpl_projection_digest(f->l, "ledgers", d, &applied, &e), JPL_ERR_NOT_FOUND);
}

static void test_hand_computed(void)
{
    fixture f;
    char e_rec[37];
    REQUIRE(setup(&f, "proj_hand", true));
    REQUIRE(build_history(&f, e_rec));
    check_history(&f); /* live, through the writer's batch */
    check_negatives(&f);
    /* the same figures from a read-only open (what balance/report do) */
    REQUIRE(reopen_ro(&f));
    check_history(&f);
    /* and from a replay */
    REQUIRE(reopen_rw(&f, false));
    jpl_replay_result res[JPL_PROJ_COUNT];
    size_t n = 0;
    jpl_error e = {0};
    REQUIRE(jpl_projections_replay(f.l, NULL, res, &n, &e) == JPL_OK);
    CHECK_EQ(n, 3);
    for (size_t i = 0; i < n; i++) {
        CHECK(res[i].had_live);
        CHECK(res[i].match);
        CHECK_EQ(res[i].generation, 2);
        CHECK_EQ(res[i].applied, jpl_ledger_size(f.l));
    }
    check_history(&f);
    teardown(&f);
}

static void test_trail(void)
{
    fixture f;
    char e_rec[37];
    REQUIRE(setup(&f, "proj_trail", true));
    REQUIRE(build_history(&f, e_rec));
    /* E: registered, enrolled, completed, recognized, revoked */
    json_t *rows = NULL;
    jpl_error e = {0};
    REQUIRE(jpl_trail_query(f.l, NIP_E, &rows, &e) == JPL_OK);
    REQUIRE(json_array_size(rows) == 5);
    static const char *const types[] = {"employee_registered", "enrolled", "completed",
                                        "recognized", "revoked"};
    static const char *const keys[] = {"hr.setjen", "lms.pusdiklat", "lms.pusdiklat",
                                       "verifier.pusdiklat", "verifier.pusdiklat"};
    static const char *const roles[] = {"hr", "lms", "lms", "verifier", "verifier"};
    int64_t prev = -1;
    for (size_t i = 0; i < 5; i++) {
        json_t *r = json_array_get(rows, i);
        CHECK_STREQ(json_string_value(json_object_get(r, "type")), types[i]);
        CHECK_STREQ(json_string_value(json_object_get(r, "key")), keys[i]);
        CHECK_STREQ(json_string_value(json_object_get(r, "role")), roles[i]);
        int64_t seq = json_integer_value(json_object_get(r, "seq"));
        CHECK(seq > prev);
        prev = seq;
        /* the leaf hash is the Merkle leaf of the stored entry */
        uint8_t *bytes = NULL;
        size_t len = 0;
        REQUIRE(jpl_ledger_entry(f.l, (uint64_t)seq, &bytes, &len, &e) == JPL_OK);
        uint8_t leaf[32];
        char hex[65];
        jpl_merkle_hash_leaf(leaf, bytes, len);
        jpl_hex_encode(hex, leaf, 32);
        free(bytes);
        CHECK_STREQ(json_string_value(json_object_get(r, "leaf_hash")), hex);
    }
    json_t *rec = json_array_get(rows, 3), *rev = json_array_get(rows, 4);
    CHECK_STREQ(json_string_value(json_object_get(rec, "event_id")), e_rec);
    CHECK_EQ(json_integer_value(json_object_get(rec, "revoked_by")),
             json_integer_value(json_object_get(rev, "seq")));
    json_t *what = json_object_get(rev, "revokes");
    CHECK_STREQ(json_string_value(json_object_get(what, "event_id")), e_rec);
    CHECK_STREQ(json_string_value(json_object_get(what, "type")), "recognized");
    CHECK_EQ(json_integer_value(json_object_get(what, "seq")),
             json_integer_value(json_object_get(rec, "seq")));
    CHECK_EQ(json_integer_value(json_object_get(rev, "issued_at_ms")), (json_int_t)T2025_JUL);
    json_decref(rows);
    /* A's plan approval carries no NIP but is about A (from the plan); B's revoked approval and
     * plan are in B's trail as revocations */
    REQUIRE(jpl_trail_query(f.l, NIP_A, &rows, &e) == JPL_OK);
    bool approval = false;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "type")), "plan_approved") == 0) {
            approval = true;
            CHECK_STREQ(json_string_value(json_object_get(r, "role")), "supervisor");
        }
    }
    CHECK(approval);
    json_decref(rows);
    REQUIRE(jpl_trail_query(f.l, NIP_B, &rows, &e) == JPL_OK);
    int revocations = 0;
    json_array_foreach(rows, i, r)
    {
        if (json_object_get(r, "revokes") != NULL)
            revocations++;
    }
    CHECK_EQ(revocations, 2);
    json_decref(rows);
    teardown(&f);
}

/* Events appended without projections attached are caught up on the next attach, and a
 * ledger whose projections were never built gets them built. */
static void test_catch_up(void)
{
    fixture f;
    REQUIRE(setup(&f, "proj_catchup", false));
    REQUIRE(employee(&f, NIP_A, "pns", "Biro Umum", false, T2024_MAR) == JPL_OK);
    REQUIRE(classical(&f, "K12", 1200) == JPL_OK);
    REQUIRE(learn(&f, NIP_A, "K12", 1200, T2025_MAY, NULL));
    /* never built: a read-only query says so */
    REQUIRE(reopen_ro(&f));
    jpl_balance *b = NULL;
    size_t n = 0;
    jpl_error e = {0};
    CHECK_EQ(jpl_balance_query(f.l, NIP_A, 2025, &b, &n, &e), JPL_ERR_NOT_FOUND);
    CHECK(strstr(e.msg, "replay") != NULL);
    /* attach builds them */
    REQUIRE(reopen_rw(&f, true));
    jpl_balance bal;
    REQUIRE(balance(&f, NIP_A, 2025, &bal));
    CHECK_EQ(bal.recognized, 1200);
    /* more events without projections: the live state falls behind, attach catches up */
    REQUIRE(reopen_rw(&f, false));
    REQUIRE(classical(&f, "K10", 1000) == JPL_OK);
    REQUIRE(learn(&f, NIP_A, "K10", 1000, T2025_AUG, NULL));
    REQUIRE(balance(&f, NIP_A, 2025, &bal));
    CHECK_EQ(bal.recognized, 1200); /* stale */
    uint8_t d[32];
    uint64_t applied = 0;
    REQUIRE(jpl_projection_digest(f.l, "balances", d, &applied, &e) == JPL_OK);
    CHECK(applied < jpl_ledger_size(f.l));
    REQUIRE(reopen_rw(&f, true));
    REQUIRE(balance(&f, NIP_A, 2025, &bal));
    CHECK_EQ(bal.recognized, 2200);
    for (int i = 0; i < JPL_PROJ_COUNT; i++) {
        REQUIRE(jpl_projection_digest(f.l, jpl_projection_names[i], d, &applied, &e) == JPL_OK);
        CHECK_EQ(applied, jpl_ledger_size(f.l));
    }
    /* the caught-up state equals a replay */
    REQUIRE(reopen_rw(&f, false));
    jpl_replay_opts o = {.check = true};
    jpl_replay_result res[JPL_PROJ_COUNT];
    REQUIRE(jpl_projections_replay(f.l, &o, res, &n, &e) == JPL_OK);
    for (size_t i = 0; i < n; i++)
        CHECK(res[i].match);
    teardown(&f);
}

static int family_named(jpl_store *s, const char *prefix)
{
    char **names = NULL;
    size_t n = 0;
    if (jpl_store_cf_list(s, prefix, &names, &n, NULL) != JPL_OK)
        return -1;
    jpl_store_names_free(names, n);
    return (int)n;
}

/* A changed byte in a live family is found by replay --check; a replay repairs it; a crashed
 * replay's half-built family is dropped and never read. */
static void test_replay_check_and_leftovers(void)
{
    fixture f;
    char e_rec[37];
    REQUIRE(setup(&f, "proj_tamper", true));
    REQUIRE(build_history(&f, e_rec));
    REQUIRE(reopen_rw(&f, false));
    jpl_store *s = jpl_ledger_store(f.l);
    /* tamper: C's 2025 recognized figure becomes 20 JP */
    int cf = 0;
    jpl_error e = {0};
    REQUIRE(jpl_store_cf(s, "p.balances.g1", false, &cf, &e) == JPL_OK);
    uint8_t k[21] = {'B'};
    memcpy(k + 1, NIP_C, 18);
    k[19] = 2025 >> 8;
    k[20] = 2025 & 0xff;
    uint8_t *v = NULL;
    size_t vlen = 0;
    REQUIRE(jpl_store_get(s, cf, k, sizeof k, &v, &vlen, &e) == JPL_OK);
    REQUIRE(vlen == 40);
    jpl_put_u64be(v + 32, 2000);
    jpl_batch *b = jpl_batch_new();
    jpl_batch_put(b, s, cf, k, sizeof k, v, vlen);
    REQUIRE(jpl_store_write(s, b, true, &e) == JPL_OK);
    jpl_batch_free(b);
    free(v);
    jpl_balance bal;
    REQUIRE(balance(&f, NIP_C, 2025, &bal));
    CHECK_EQ(bal.recognized, 2000);
    CHECK_EQ(bal.status, JPL_STATUS_WITHIN);
    /* check: balances differs, units and trail do not; nothing switched */
    jpl_replay_opts o = {.check = true};
    jpl_replay_result res[JPL_PROJ_COUNT];
    size_t n = 0;
    REQUIRE(jpl_projections_replay(f.l, &o, res, &n, &e) == JPL_OK);
    REQUIRE(n == 3);
    CHECK(!res[0].match);
    CHECK(memcmp(res[0].digest, res[0].live_digest, 32) != 0);
    CHECK(res[1].match);
    CHECK(res[2].match);
    CHECK_EQ(family_named(s, "p.balances.g2"), 0);
    REQUIRE(balance(&f, NIP_C, 2025, &bal));
    CHECK_EQ(bal.recognized, 2000);
    /* replay of one projection repairs it and drops the old generation */
    o = (jpl_replay_opts){.only = "balances"};
    REQUIRE(jpl_projections_replay(f.l, &o, res, &n, &e) == JPL_OK);
    CHECK_EQ(n, 1);
    CHECK_STREQ(res[0].name, "balances");
    CHECK(!res[0].match);
    CHECK_EQ(family_named(s, "p.balances.g1"), 0);
    CHECK_EQ(family_named(s, "p.balances.g2"), 1);
    REQUIRE(balance(&f, NIP_C, 2025, &bal));
    CHECK_EQ(bal.recognized, 3000);
    CHECK_EQ(bal.status, JPL_STATUS_OVER);
    uint8_t live[32];
    uint64_t applied = 0;
    REQUIRE(jpl_projection_digest(f.l, "balances", live, &applied, &e) == JPL_OK);
    CHECK_MEMEQ(live, res[0].digest, 32);
    o = (jpl_replay_opts){.check = true};
    REQUIRE(jpl_projections_replay(f.l, &o, res, &n, &e) == JPL_OK);
    for (size_t i = 0; i < n; i++)
        CHECK(res[i].match);
    /* unknown projection name */
    o = (jpl_replay_opts){.only = "ledgers"};
    CHECK_EQ(jpl_projections_replay(f.l, &o, res, &n, &e), JPL_ERR_NOT_FOUND);

    /* a projection that claims more entries than the log has is refused, and replay repairs it */
    REQUIRE(jpl_store_cf(s, "p.trail.g1", false, &cf, &e) == JPL_OK);
    uint8_t ahead[8];
    jpl_put_u64be(ahead, jpl_ledger_size(f.l) + 5);
    b = jpl_batch_new();
    jpl_batch_put(b, s, cf, "#applied", 8, ahead, 8);
    REQUIRE(jpl_store_write(s, b, true, &e) == JPL_OK);
    jpl_batch_free(b);
    CHECK_EQ(jpl_projections_sync(f.l, &e), JPL_ERR_CORRUPT);
    CHECK(strstr(e.msg, "trail") != NULL);
    o = (jpl_replay_opts){.only = "trail"};
    REQUIRE(jpl_projections_replay(f.l, &o, res, &n, &e) == JPL_OK);
    CHECK(!res[0].match);
    CHECK_EQ(res[0].live_applied, jpl_ledger_size(f.l) + 5);
    CHECK_EQ(jpl_projections_sync(f.l, &e), JPL_OK);

    /* a crashed replay: a half-built next generation with garbage; queries ignore it, the next
     * attach drops it */
    REQUIRE(jpl_store_cf(s, "p.units.g2", true, &cf, &e) == JPL_OK);
    b = jpl_batch_new();
    jpl_batch_put(b, s, cf, "garbage", 7, "x", 1);
    REQUIRE(jpl_store_write(s, b, true, &e) == JPL_OK);
    jpl_batch_free(b);
    REQUIRE(reopen_ro(&f));
    jpl_unit_row r;
    REQUIRE(unit_row(&f, 2025, "Pusdatin", &r));
    CHECK_EQ(r.recognized, 6000);
    CHECK_EQ(family_named(jpl_ledger_store(f.l), "p.units.g2"), 1);
    REQUIRE(reopen_rw(&f, true));
    CHECK_EQ(family_named(jpl_ledger_store(f.l), "p.units.g2"), 0);
    CHECK_EQ(family_named(jpl_ledger_store(f.l), "p.units.g1"), 1);
    teardown(&f);
}

typedef struct {
    int calls;
    uint64_t first, end;
} commit_log;

static void on_commit(void *ctx, uint64_t first_seq, uint64_t end_seq, const char *checkpoint)
{
    commit_log *c = ctx;
    c->calls++;
    c->first = first_seq;
    c->end = end_seq;
    (void)checkpoint;
}

/* A change of kind counts from its year; an exited employee leaves the unit reports after the
 * year of the exit but keeps the balances; attach forwards the commit hook; attach needs a
 * writable ledger. */
static void test_kind_change_exit_and_hooks(void)
{
    fixture f;
    REQUIRE(setup(&f, "proj_exit", false));
    commit_log cl = {0};
    jpl_error e = {0};
    REQUIRE(jpl_projections_attach(f.l, on_commit, &cl, &f.p, &e) == JPL_OK);
    uint64_t before = jpl_ledger_size(f.l);
    REQUIRE(employee(&f, NIP_C, "pppk", "Pusdatin", false, T2024_MAR) == JPL_OK);
    CHECK_EQ(cl.calls, 1);
    CHECK_EQ(cl.first, before);
    CHECK_EQ(cl.end, before + 1);
    REQUIRE(classical(&f, "K30", 3000) == JPL_OK);
    char json[512], id[37];
    /* appointed PNS in 2025 */
    snprintf(json, sizeof json,
             "{\"type\":\"employee_updated\",\"id\":\"%s\",\"nip\":\"" NIP_C
             "\",\"kind\":\"pns\",\"issued_at_ms\":%llu}",
             new_id(id), T2025_FEB);
    REQUIRE(app(&f, &f.hr, json, NULL) == JPL_OK);
    REQUIRE(learn(&f, NIP_C, "K30", 3000, T2024_MAR + 86400000ULL * 30, NULL));
    REQUIRE(learn(&f, NIP_C, "K30", 3000, T2025_MAY, NULL)); /* again, as a PNS */
    snprintf(json, sizeof json,
             "{\"type\":\"employee_exited\",\"id\":\"%s\",\"nip\":\"" NIP_C
             "\",\"reason\":\"pensiun\",\"issued_at_ms\":%llu}",
             new_id(id), T2025_AUG);
    REQUIRE(app(&f, &f.hr, json, NULL) == JPL_OK);
    CHECK(cl.calls >= 6);
    jpl_balance b;
    /* 2024: PPPK, 30 JP recognized, counted 24, over by 6 */
    REQUIRE(balance(&f, NIP_C, 2024, &b));
    CHECK_EQ(b.kind, JPL__EMPLOYEE_KIND__KIND_PPPK);
    check_figures(&b, 0, 0, 3000, 3000, 3000, 2400, JPL_STATUS_OVER, 600);
    /* 2025: PNS, 30 JP, met */
    REQUIRE(balance(&f, NIP_C, 2025, &b));
    CHECK_EQ(b.kind, JPL__EMPLOYEE_KIND__KIND_PNS);
    check_figures(&b, 0, 0, 3000, 3000, 3000, 3000, JPL_STATUS_MET, 0);
    jpl_unit_row r;
    REQUIRE(unit_row(&f, 2024, "Pusdatin", &r));
    CHECK_EQ(r.headcount_pppk, 1);
    CHECK_EQ(r.pppk_at_cap, 1);
    CHECK_EQ(r.recognized, 3000);
    REQUIRE(unit_row(&f, 2025, "Pusdatin", &r));
    CHECK_EQ(r.headcount_pns, 1);
    CHECK_EQ(r.headcount_pppk, 0);
    CHECK_EQ(r.pns_met, 1);
    CHECK_EQ(r.recognized, 3000);
    jpl_unit_row *rows = NULL;
    size_t n = 0;
    CHECK_EQ(jpl_unit_report(f.l, 2026, "Pusdatin", &rows, &n, &e), JPL_ERR_NOT_FOUND);
    REQUIRE(jpl_unit_report(f.l, 2026, NULL, &rows, &n, &e) == JPL_OK);
    CHECK_EQ(n, 0);
    free(rows);
    /* attach needs a writable ledger */
    REQUIRE(reopen_ro(&f));
    jpl_projections *p = NULL;
    CHECK(jpl_projections_attach(f.l, NULL, NULL, &p, &e) != JPL_OK);
    CHECK(p == NULL);
    REQUIRE(balance(&f, NIP_C, 2024, &b)); /* exited employees keep their balances */
    CHECK_EQ(b.recognized, 3000);
    teardown(&f);
}

/* ---- property test ---- */

#define P_EMP 30
#define P_EVENTS 400
#define P_MAX_REFS 2048

typedef struct {
    char nip[19];
    bool exited;
} p_emp;

typedef struct {
    int type; /* body case */
    int emp;
    char id[37];
    bool live;
    bool linked; /* plan approved / enrollment completed / completion recognized */
    int parent;  /* index of the referenced event, -1 */
    unsigned jp;
} p_ref;

typedef struct {
    fixture *f;
    p_emp emp[P_EMP];
    p_ref refs[P_MAX_REFS];
    int n_refs;
    jpl_bytes envs[64];
    size_t n_envs;
    uint64_t rng;
    bool ok;
} p_state;

static uint32_t rnd(p_state *s, uint32_t n)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return (uint32_t)(s->rng % n);
}

static uint64_t rnd_time(p_state *s)
{
    /* 2024-01-01 .. 2026-12-31, at any hour (so WIB year boundaries happen) */
    return 1704067200000ULL + (uint64_t)rnd(s, 1095) * 86400000ULL +
           (uint64_t)rnd(s, 24) * 3600000ULL;
}

static void p_flush(p_state *s)
{
    if (s->n_envs == 0)
        return;
    jpl_append_result res[64];
    jpl_error e = {0};
    if (jpl_ledger_append(s->f->l, s->envs, s->n_envs, res, &e) != JPL_OK) {
        fprintf(stderr, "property append: %s\n", e.msg);
        s->ok = false;
    }
    for (size_t i = 0; i < s->n_envs; i++)
        free((void *)s->envs[i].data);
    s->n_envs = 0;
}

static void p_add(p_state *s, const jpl_note_signer *k, const char *json)
{
    uint8_t *env = NULL;
    size_t len = 0;
    if (jpl_test_seal(k, json, &env, &len) != JPL_OK) {
        s->ok = false;
        return;
    }
    s->envs[s->n_envs++] = (jpl_bytes){env, len};
    if (s->n_envs == 64)
        p_flush(s);
}

static int p_pick(p_state *s, int type, bool want_linked)
{
    int cand[P_MAX_REFS], n = 0;
    for (int i = 0; i < s->n_refs; i++)
        if (s->refs[i].type == type && s->refs[i].live && s->refs[i].linked == want_linked &&
            !s->emp[s->refs[i].emp].exited)
            cand[n++] = i;
    return n ? cand[rnd(s, (uint32_t)n)] : -1;
}

static p_ref *p_new_ref(p_state *s, int type, int emp, int parent, unsigned jp, char *id_out)
{
    p_ref *r = &s->refs[s->n_refs++];
    r->type = type;
    r->emp = emp;
    r->parent = parent;
    r->jp = jp;
    r->live = true;
    r->linked = false;
    new_id(r->id);
    memcpy(id_out, r->id, 37);
    return r;
}

static const char *const P_UNITS[] = {"Biro Umum", "Biro SDM", "Inspektorat", "Pusdatin"};
static const char *const P_ACTS[] = {"C10", "C15", "C24", "SEMN", "SEMI", "WS"};

static void p_step(p_state *s)
{
    fixture *f = s->f;
    char json[1024], id[37];
    int e = (int)rnd(s, P_EMP);
    const char *nip = s->emp[e].nip;
    uint64_t at = rnd_time(s);
    uint32_t what = rnd(s, 100);
    if (s->n_refs >= P_MAX_REFS - 4)
        what = 0;
    if (what < 3) { /* policy change */
        snprintf(json, sizeof json,
                 "{\"type\":\"policy_set\",\"id\":\"%s\",\"effective_year\":%u,"
                 "\"pns_floor_jp_centi\":%u,\"pppk_cap_jp_centi\":%u,\"minutes_per_jp\":45,"
                 "\"conversions\":[{\"form\":\"seminar\",\"national_jp_centi_per_day\":%u,"
                 "\"international_jp_centi_per_day\":%u}],\"international_bonus_percent\":%u,"
                 "\"issued_at_ms\":%llu}",
                 new_id(id), 2024 + rnd(s, 3), 1500 + rnd(s, 20) * 100, 2000 + rnd(s, 10) * 100,
                 300 + rnd(s, 3) * 100, 500 + rnd(s, 3) * 100, rnd(s, 3) * 10,
                 (unsigned long long)at);
        p_add(s, &f->admin, json);
        return;
    }
    if (s->emp[e].exited)
        return;
    if (what < 8) { /* transfer, sometimes a change of kind or exemption */
        const char *extra = rnd(s, 4) == 0
                                ? (rnd(s, 2) ? ",\"kind\":\"pppk\"" : ",\"kind\":\"pns\"")
                            : rnd(s, 4) == 0 ? ",\"cap_exempt\":true"
                                             : "";
        snprintf(json, sizeof json,
                 "{\"type\":\"employee_updated\",\"id\":\"%s\",\"nip\":\"%s\",\"unit\":\"%s\"%s,"
                 "\"issued_at_ms\":%llu}",
                 new_id(id), nip, P_UNITS[rnd(s, 4)], extra, (unsigned long long)at);
        p_add(s, &f->hr, json);
    } else if (what < 9) { /* exit */
        snprintf(
            json, sizeof json,
            "{\"type\":\"employee_exited\",\"id\":\"%s\",\"nip\":\"%s\",\"issued_at_ms\":%llu}",
            new_id(id), nip, (unsigned long long)at);
        p_add(s, &f->hr, json);
        s->emp[e].exited = true;
    } else if (what < 15) { /* plan */
        unsigned j1 = 100 * (1 + rnd(s, 30)), j2 = 100 * (1 + rnd(s, 30));
        p_new_ref(s, JPL__EVENT__BODY_PLAN_SUBMITTED, e, -1, j1 + j2, id);
        snprintf(json, sizeof json,
                 "{\"type\":\"plan_submitted\",\"id\":\"%s\",\"nip\":\"%s\",\"year\":%u,\"items\":"
                 "[{\"activity_id\":\"C10\",\"jp_centi\":%u},{\"activity_id\":\"WS\","
                 "\"jp_centi\":%u}],\"issued_at_ms\":%llu}",
                 id, nip, 2024 + rnd(s, 3), j1, j2, (unsigned long long)at);
        p_add(s, &f->hr, json);
    } else if (what < 20) { /* approval */
        int p = p_pick(s, JPL__EVENT__BODY_PLAN_SUBMITTED, false);
        if (p < 0)
            return;
        bool partial = rnd(s, 2) == 0;
        unsigned amount = partial ? s->refs[p].jp / 2 : s->refs[p].jp;
        char pid[37], amt[48] = "";
        memcpy(pid, s->refs[p].id, 37);
        if (partial)
            snprintf(amt, sizeof amt, ",\"approved_jp_centi\":%u", amount);
        s->refs[p].linked = true;
        p_new_ref(s, JPL__EVENT__BODY_PLAN_APPROVED, s->refs[p].emp, p, amount, id);
        snprintf(json, sizeof json,
                 "{\"type\":\"plan_approved\",\"id\":\"%s\",\"plan_event_id\":\"%s\"%s,"
                 "\"issued_at_ms\":%llu}",
                 id, pid, amt, (unsigned long long)at);
        p_add(s, &f->supervisor, json);
    } else if (what < 45) { /* enrollment */
        p_new_ref(s, JPL__EVENT__BODY_ENROLLED, e, -1, 0, id);
        snprintf(json, sizeof json,
                 "{\"type\":\"enrolled\",\"id\":\"%s\",\"nip\":\"%s\",\"activity_id\":\"%s\","
                 "\"issued_at_ms\":%llu}",
                 id, nip, P_ACTS[rnd(s, 6)], (unsigned long long)at);
        p_add(s, &f->lms, json);
    } else if (what < 65) { /* completion */
        int en = p_pick(s, JPL__EVENT__BODY_ENROLLED, false);
        if (en < 0)
            return;
        unsigned jp = 100 * (1 + rnd(s, 20));
        char eid[37];
        memcpy(eid, s->refs[en].id, 37);
        s->refs[en].linked = true;
        p_new_ref(s, JPL__EVENT__BODY_COMPLETED, s->refs[en].emp, en, jp, id);
        snprintf(json, sizeof json,
                 "{\"type\":\"completed\",\"id\":\"%s\",\"nip\":\"%s\","
                 "\"enrollment_event_id\":\"%s\",\"jp_centi\":%u,\"evidence_sha256\":\"" EVIDENCE
                 "\",\"completed_at_ms\":%llu,\"issued_at_ms\":%llu}",
                 id, s->emp[s->refs[en].emp].nip, eid, jp, (unsigned long long)at,
                 (unsigned long long)at);
        p_add(s, &f->lms, json);
    } else if (what < 85) { /* recognition */
        int c = p_pick(s, JPL__EVENT__BODY_COMPLETED, false);
        if (c < 0)
            return;
        unsigned jp = s->refs[c].jp - (rnd(s, 3) == 0 ? s->refs[c].jp / 2 : 0);
        char cid[37];
        memcpy(cid, s->refs[c].id, 37);
        s->refs[c].linked = true;
        p_new_ref(s, JPL__EVENT__BODY_RECOGNIZED, s->refs[c].emp, c, jp, id);
        snprintf(json, sizeof json,
                 "{\"type\":\"recognized\",\"id\":\"%s\",\"nip\":\"%s\","
                 "\"completion_event_id\":\"%s\",\"jp_centi\":%u,\"basis\":\"classical\","
                 "\"issued_at_ms\":%llu}",
                 id, s->emp[s->refs[c].emp].nip, cid, jp, (unsigned long long)at);
        p_add(s, &f->verifier, json);
    } else { /* a revocation of something revocable now (no live dependent) */
        static const int types[] = {JPL__EVENT__BODY_RECOGNIZED, JPL__EVENT__BODY_COMPLETED,
                                    JPL__EVENT__BODY_ENROLLED, JPL__EVENT__BODY_PLAN_APPROVED,
                                    JPL__EVENT__BODY_PLAN_SUBMITTED};
        int t = types[rnd(s, 5)];
        int r = p_pick(s, t, false);
        if (r < 0)
            return;
        s->refs[r].live = false;
        if (s->refs[r].parent >= 0)
            s->refs[s->refs[r].parent].linked = false;
        snprintf(json, sizeof json,
                 "{\"type\":\"revoked\",\"id\":\"%s\",\"target_event_id\":\"%s\","
                 "\"reason\":\"koreksi\",\"issued_at_ms\":%llu}",
                 new_id(id), s->refs[r].id, (unsigned long long)at);
        /* the admin may revoke anything; otherwise the role that issues the type */
        const jpl_note_signer *k =
            t == JPL__EVENT__BODY_RECOGNIZED                                    ? &f->verifier
            : t == JPL__EVENT__BODY_COMPLETED || t == JPL__EVENT__BODY_ENROLLED ? &f->lms
            : t == JPL__EVENT__BODY_PLAN_APPROVED                               ? &f->supervisor
                                                                                : &f->hr;
        p_add(s, rnd(s, 4) == 0 ? &f->admin : k, json);
    }
}

/* ---- the naive recomputation: straight from the decoded log, with its own calendar ---- */

#define N_YEARS 200 /* 2000..2199 */

typedef struct {
    uint8_t id[16];
    int type;
    int emp;
    int year;
    uint64_t amount;
    bool revoked;
    char unit[64]; /* completions: the unit at the time; recognitions: their completion's */
} n_event;

typedef struct {
    int year; /* WIB */
    int kind;
    bool exempt;
    bool exited;
    char unit[64];
} n_step;

typedef struct {
    unsigned year, floor, cap, bonus;
    unsigned n_conv;
    char form[4][65];
    unsigned nat[4], intl[4];
} n_policy;

typedef struct {
    n_event *ev;
    size_t n_ev;
    n_step steps[P_EMP][256];
    size_t n_steps[P_EMP];
    n_policy pol[64];
    size_t n_pol;
    char act_id[16][64];
    int act_mode[16];
    unsigned act_jp[16], act_days[16];
    bool act_intl[16];
    char act_form[16][65];
    size_t n_act;
} naive;

static int wib_year_naive(uint64_t ms)
{
    time_t t = (time_t)(ms / 1000) + 7 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    return tm.tm_year + 1900;
}

static const n_policy *naive_policy(const naive *nv, unsigned year)
{
    /* the latest policy (log order) among those with the greatest effective year <= year */
    const n_policy *best = NULL;
    for (size_t i = 0; i < nv->n_pol; i++)
        if (nv->pol[i].year <= year && (best == NULL || nv->pol[i].year >= best->year))
            best = &nv->pol[i];
    return best;
}

static n_event *naive_find(naive *nv, const uint8_t id[16])
{
    for (size_t i = 0; i < nv->n_ev; i++)
        if (memcmp(nv->ev[i].id, id, 16) == 0)
            return &nv->ev[i];
    return NULL;
}

static int emp_index(const p_state *s, const char *nip)
{
    for (int i = 0; i < P_EMP; i++)
        if (nip != NULL && strcmp(s->emp[i].nip, nip) == 0)
            return i;
    return -1;
}

static void naive_add(naive *nv, const Jpl__Event *ev, int type, int emp, int year, uint64_t amount)
{
    n_event *x = &nv->ev[nv->n_ev++];
    memcpy(x->id, ev->event_id.data, 16);
    x->type = type;
    x->emp = emp;
    x->year = year;
    x->amount = amount;
    x->revoked = false;
}

static void naive_apply(naive *nv, const p_state *s, const Jpl__Event *ev)
{
    int emp = emp_index(s, ev->nip);
    switch (ev->body_case) {
    case JPL__EVENT__BODY_POLICY_SET: {
        const Jpl__PolicySet *p = ev->policy_set;
        n_policy *np = &nv->pol[nv->n_pol++];
        memset(np, 0, sizeof *np);
        np->year = p->effective_year;
        np->floor = p->pns_floor_jp_centi;
        np->cap = p->pppk_cap_jp_centi;
        np->bonus = p->has_international_bonus_percent ? p->international_bonus_percent : 0;
        for (size_t i = 0; i < p->n_conversions && i < 4; i++) {
            snprintf(np->form[i], sizeof np->form[i], "%s", p->conversions[i]->form);
            np->nat[i] = p->conversions[i]->national_jp_centi_per_day;
            np->intl[i] = p->conversions[i]->international_jp_centi_per_day;
            np->n_conv = (unsigned)i + 1;
        }
        break;
    }
    case JPL__EVENT__BODY_EMPLOYEE_REGISTERED:
    case JPL__EVENT__BODY_EMPLOYEE_UPDATED: {
        n_step st = nv->n_steps[emp] ? nv->steps[emp][nv->n_steps[emp] - 1] : (n_step){0};
        st.year = wib_year_naive(ev->issued_at_ms);
        if (ev->employee_registered && ev->body_case == JPL__EVENT__BODY_EMPLOYEE_REGISTERED) {
            st.kind = ev->employee_registered->kind;
            st.exempt =
                ev->employee_registered->has_cap_exempt && ev->employee_registered->cap_exempt;
            snprintf(st.unit, sizeof st.unit, "%s", ev->employee_registered->unit);
        } else {
            if (ev->employee_updated->unit != NULL)
                snprintf(st.unit, sizeof st.unit, "%s", ev->employee_updated->unit);
            if (ev->employee_updated->has_kind)
                st.kind = ev->employee_updated->kind;
            if (ev->employee_updated->has_cap_exempt)
                st.exempt = ev->employee_updated->cap_exempt;
        }
        nv->steps[emp][nv->n_steps[emp]++] = st;
        break;
    }
    case JPL__EVENT__BODY_EMPLOYEE_EXITED: {
        n_step st = nv->steps[emp][nv->n_steps[emp] - 1];
        st.year = wib_year_naive(ev->issued_at_ms);
        st.exited = true;
        nv->steps[emp][nv->n_steps[emp]++] = st;
        break;
    }
    case JPL__EVENT__BODY_ACTIVITY_DEFINED: {
        const Jpl__ActivityDefined *a = ev->activity_defined;
        size_t i = nv->n_act++;
        snprintf(nv->act_id[i], sizeof nv->act_id[i], "%s", a->activity_id);
        nv->act_mode[i] = a->mode;
        nv->act_jp[i] = a->jp_centi;
        nv->act_days[i] = a->days;
        nv->act_intl[i] = a->has_international && a->international;
        snprintf(nv->act_form[i], sizeof nv->act_form[i], "%s", a->form ? a->form : "");
        break;
    }
    case JPL__EVENT__BODY_PLAN_SUBMITTED: {
        uint64_t t = 0;
        for (size_t i = 0; i < ev->plan_submitted->n_items; i++)
            t += ev->plan_submitted->items[i]->jp_centi;
        naive_add(nv, ev, ev->body_case, emp, (int)ev->plan_submitted->year, t);
        break;
    }
    case JPL__EVENT__BODY_PLAN_APPROVED: {
        const n_event *p = naive_find(nv, ev->plan_approved->plan_event_id.data);
        uint64_t amt = ev->plan_approved->has_approved_jp_centi
                           ? ev->plan_approved->approved_jp_centi
                           : p->amount;
        naive_add(nv, ev, ev->body_case, p->emp, p->year, amt);
        break;
    }
    case JPL__EVENT__BODY_ENROLLED: {
        int year = wib_year_naive(ev->issued_at_ms);
        size_t a = 0;
        while (strcmp(nv->act_id[a], ev->enrolled->activity_id) != 0)
            a++;
        uint64_t value = nv->act_jp[a];
        if (nv->act_mode[a] == JPL__ACTIVITY_MODE__MODE_NON_CLASSICAL) {
            value = 0;
            const n_policy *p = naive_policy(nv, (unsigned)year);
            for (unsigned i = 0; p != NULL && i < p->n_conv; i++) {
                if (strcmp(p->form[i], nv->act_form[a]) != 0)
                    continue;
                value = (uint64_t)(nv->act_intl[a] ? p->intl[i] : p->nat[i]) * nv->act_days[a];
                if (nv->act_intl[a])
                    value = value * (100 + p->bonus) / 100;
            }
        }
        naive_add(nv, ev, ev->body_case, emp, year, value);
        break;
    }
    case JPL__EVENT__BODY_COMPLETED:
        naive_add(nv, ev, ev->body_case, emp, wib_year_naive(ev->completed->completed_at_ms),
                  ev->completed->jp_centi);
        snprintf(nv->ev[nv->n_ev - 1].unit, sizeof nv->ev[0].unit, "%s",
                 nv->steps[emp][nv->n_steps[emp] - 1].unit);
        break;
    case JPL__EVENT__BODY_RECOGNIZED: {
        const n_event *c = naive_find(nv, ev->recognized->completion_event_id.data);
        naive_add(nv, ev, ev->body_case, emp, c->year, ev->recognized->jp_centi);
        snprintf(nv->ev[nv->n_ev - 1].unit, sizeof nv->ev[0].unit, "%s", c->unit);
        break;
    }
    case JPL__EVENT__BODY_REVOKED:
        naive_find(nv, ev->revoked->target_event_id.data)->revoked = true;
        break;
    default:
        break;
    }
}

/* The unit reports of 2023..2027, recomputed from the naive model: membership by the HR events'
 * years, credits where the employee was when the completion was appended. */
static void naive_units_check(fixture *f, const p_state *s, const naive *nv)
{
    for (int year = 2023; year <= 2027; year++) {
        jpl_unit_row want[4];
        memset(want, 0, sizeof want);
        const n_policy *p = naive_policy(nv, (unsigned)year);
        uint64_t floor = p ? p->floor : 2000, cap = p ? p->cap : 2400;
        for (int emp = 0; emp < P_EMP; emp++) {
            const n_step *st = nv->steps[emp];
            size_t ns = nv->n_steps[emp];
            bool in[4] = {false};
            uint64_t credit[4] = {0}, total = 0;
            bool gone = false;
            for (size_t i = 0; i < ns; i++)
                gone = gone || (st[i].exited && st[i].year < year);
            if (st[0].year <= year && !gone) {
                const n_step *carried = NULL;
                for (size_t i = 0; i < ns; i++) {
                    if (st[i].year < year)
                        carried = &st[i];
                    for (int u = 0; u < 4; u++)
                        if (st[i].year == year && strcmp(st[i].unit, P_UNITS[u]) == 0)
                            in[u] = true;
                }
                for (int u = 0; carried != NULL && u < 4; u++)
                    if (strcmp(carried->unit, P_UNITS[u]) == 0)
                        in[u] = true;
            }
            for (size_t i = 0; i < nv->n_ev; i++) {
                const n_event *x = &nv->ev[i];
                if (x->emp != emp || x->year != year || x->revoked ||
                    x->type != JPL__EVENT__BODY_RECOGNIZED)
                    continue;
                total += x->amount;
                for (int u = 0; u < 4; u++)
                    if (strcmp(x->unit, P_UNITS[u]) == 0)
                        credit[u] += x->amount;
            }
            int n_in = 0;
            for (int u = 0; u < 4; u++) {
                in[u] = in[u] || credit[u] > 0;
                n_in += in[u];
            }
            const n_step *k = &st[0];
            for (size_t i = 0; i < ns; i++)
                if (st[i].year <= year)
                    k = &st[i];
            for (int u = 0; u < 4; u++) {
                if (!in[u])
                    continue;
                if (k->kind == JPL__EMPLOYEE_KIND__KIND_PPPK) {
                    want[u].headcount_pppk++;
                    want[u].pppk_exempt += k->exempt;
                    want[u].pppk_at_cap += !k->exempt && total >= cap;
                } else {
                    want[u].headcount_pns++;
                    want[u].pns_met += total >= floor;
                }
                want[u].movers += n_in > 1;
                want[u].recognized += credit[u];
            }
        }
        jpl_unit_row *rows = NULL;
        size_t n = 0;
        jpl_error e = {0};
        REQUIRE(jpl_unit_report(f->l, (uint32_t)year, NULL, &rows, &n, &e) == JPL_OK);
        size_t expected_rows = 0;
        for (int u = 0; u < 4; u++) {
            if (want[u].headcount_pns + want[u].headcount_pppk == 0)
                continue;
            expected_rows++;
            const jpl_unit_row *got = NULL;
            for (size_t i = 0; i < n; i++)
                if (strcmp(rows[i].unit, P_UNITS[u]) == 0)
                    got = &rows[i];
            CHECK(got != NULL);
            if (got == NULL)
                continue;
            int before = jpl_test_failures;
            CHECK_EQ(got->headcount_pns, want[u].headcount_pns);
            CHECK_EQ(got->headcount_pppk, want[u].headcount_pppk);
            CHECK_EQ(got->pns_met, want[u].pns_met);
            CHECK_EQ(got->pppk_at_cap, want[u].pppk_at_cap);
            CHECK_EQ(got->pppk_exempt, want[u].pppk_exempt);
            CHECK_EQ(got->movers, want[u].movers);
            CHECK_EQ(got->recognized, want[u].recognized);
            if (jpl_test_failures != before)
                fprintf(stderr, "  unit %s year %d\n", P_UNITS[u], year);
        }
        CHECK_EQ(n, expected_rows);
        free(rows);
    }
    (void)s;
}

static void test_property_random_history(void)
{
    fixture f;
    REQUIRE(setup(&f, "proj_property", true));
    p_state *s = calloc(1, sizeof *s);
    naive *nv = calloc(1, sizeof *nv);
    REQUIRE(s != NULL && nv != NULL);
    nv->ev = calloc(P_EVENTS + P_EMP + 64, sizeof *nv->ev);
    REQUIRE(nv->ev != NULL);
    s->f = &f;
    s->ok = true;
    /* a new history each run; JPL_TEST_SEED=N replays the one a failure printed */
    const char *seed = getenv("JPL_TEST_SEED");
    s->rng = seed != NULL ? strtoull(seed, NULL, 10) : 0x9e3779b97f4a7c15ULL ^ (uint64_t)time(NULL);
    if (s->rng == 0)
        s->rng = 1;
    fprintf(stderr, "property seed %llu (JPL_TEST_SEED)\n", (unsigned long long)s->rng);
    char json[1024], id[37];
    static const char *const acts[][2] = {
        {"C10", "\"mode\":\"classical\",\"jp_centi\":1000"},
        {"C15", "\"mode\":\"classical\",\"jp_centi\":1500"},
        {"C24", "\"mode\":\"classical\",\"jp_centi\":2400"},
        {"SEMN", "\"mode\":\"non_classical\",\"form\":\"seminar\",\"days\":2"},
        {"SEMI", "\"mode\":\"non_classical\",\"form\":\"seminar\",\"days\":3,"
                 "\"international\":true"},
        {"WS", "\"mode\":\"non_classical\",\"form\":\"workshop\",\"days\":1"}};
    for (size_t i = 0; i < 6; i++) {
        snprintf(json, sizeof json,
                 "{\"type\":\"activity_defined\",\"id\":\"%s\",\"activity_id\":\"%s\","
                 "\"title\":\"t\",%s}",
                 new_id(id), acts[i][0], acts[i][1]);
        p_add(s, &f.lms, json);
    }
    for (int i = 0; i < P_EMP; i++) {
        snprintf(s->emp[i].nip, sizeof s->emp[i].nip, "1980010120050110%02d", i + 1);
        snprintf(json, sizeof json,
                 "{\"type\":\"employee_registered\",\"id\":\"%s\",\"nip\":\"%s\",\"kind\":\"%s\","
                 "\"unit\":\"%s\",\"cap_exempt\":%s,\"issued_at_ms\":%llu}",
                 new_id(id), s->emp[i].nip, rnd(s, 3) == 0 ? "pppk" : "pns", P_UNITS[rnd(s, 4)],
                 rnd(s, 8) == 0 ? "true" : "false", (unsigned long long)rnd_time(s));
        p_add(s, &f.hr, json);
    }
    uint64_t start = jpl_ledger_size(f.l);
    for (int i = 0; i < P_EVENTS && s->ok; i++)
        p_step(s);
    p_flush(s);
    REQUIRE(s->ok);
    uint64_t size = jpl_ledger_size(f.l);
    CHECK(size > start + P_EVENTS / 2);

    /* the naive model reads the log back */
    for (uint64_t seq = 0; seq < size; seq++) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        Jpl__LogEntry *entry = NULL;
        Jpl__Event *ev = NULL;
        jpl_error e = {0};
        REQUIRE(jpl_ledger_entry(f.l, seq, &bytes, &len, &e) == JPL_OK);
        REQUIRE(jpl_codec_entry_decode(bytes, len, &entry, &e) == JPL_OK);
        REQUIRE(jpl_codec_event_decode(entry->envelope->event.data, entry->envelope->event.len, &ev,
                                       &e) == JPL_OK);
        naive_apply(nv, s, ev);
        jpl_codec_event_free(ev);
        jpl_codec_entry_free(entry);
        free(bytes);
    }

    /* every (employee, year) the naive model has figures for, plus a year without */
    int compared = 0;
    for (int emp = 0; emp < P_EMP; emp++) {
        for (int year = 2023; year <= 2027; year++) {
            uint64_t fig[5] = {0};
            static const int types[5] = {JPL__EVENT__BODY_PLAN_SUBMITTED,
                                         JPL__EVENT__BODY_PLAN_APPROVED, JPL__EVENT__BODY_ENROLLED,
                                         JPL__EVENT__BODY_COMPLETED, JPL__EVENT__BODY_RECOGNIZED};
            for (size_t i = 0; i < nv->n_ev; i++) {
                const n_event *x = &nv->ev[i];
                if (x->emp != emp || x->year != year || x->revoked)
                    continue;
                for (int t = 0; t < 5; t++)
                    if (x->type == types[t])
                        fig[t] += x->amount;
            }
            /* kind: the last HR step with WIB year <= year, else the first */
            const n_step *st = &nv->steps[emp][0];
            for (size_t i = 0; i < nv->n_steps[emp]; i++)
                if (nv->steps[emp][i].year <= year)
                    st = &nv->steps[emp][i];
            const n_policy *p = naive_policy(nv, (unsigned)year);
            uint64_t floor = p ? p->floor : 2000, cap = p ? p->cap : 2400;
            uint64_t counted = fig[4];
            jpl_balance_status status;
            uint64_t gap = 0;
            if (st->kind == JPL__EMPLOYEE_KIND__KIND_PPPK) {
                status = JPL_STATUS_WITHIN;
                if (!st->exempt && fig[4] > cap) {
                    status = JPL_STATUS_OVER;
                    gap = fig[4] - cap;
                    counted = cap;
                }
            } else {
                status = fig[4] >= floor ? JPL_STATUS_MET : JPL_STATUS_SHORT;
                gap = fig[4] >= floor ? 0 : floor - fig[4];
            }
            jpl_balance b;
            REQUIRE(balance(&f, s->emp[emp].nip, (uint32_t)year, &b));
            int before = jpl_test_failures;
            check_figures(&b, fig[0], fig[1], fig[2], fig[3], fig[4], counted, status, gap);
            if (jpl_test_failures != before)
                fprintf(stderr, "  employee %s year %d\n", s->emp[emp].nip, year);
            compared++;
        }
    }
    CHECK_EQ(compared, P_EMP * 5);
    naive_units_check(&f, s, nv);

    /* replay gives the live digests, and the same balances */
    jpl_replay_result res[JPL_PROJ_COUNT];
    size_t n = 0;
    jpl_error e = {0};
    REQUIRE(reopen_rw(&f, false));
    REQUIRE(jpl_projections_replay(f.l, NULL, res, &n, &e) == JPL_OK);
    for (size_t i = 0; i < n; i++) {
        CHECK(res[i].match);
        CHECK_EQ(res[i].live_applied, size);
    }
    free(nv->ev);
    free(nv);
    free(s);
    teardown(&f);
}

/* ---- PPPK contract years ---- */

#define T2025_MAR31_WIB 1743444000000ULL /* 2025-03-31T18:00Z = 2025-04-01T01:00 WIB */
#define T2024_FEB29 1709175600000ULL     /* 2024-02-29T03:00Z */
#define T2025_FEB28 1740711600000ULL     /* 2025-02-28T03:00Z */
#define T2025_MAR01 1740798000000ULL     /* 2025-03-01T03:00Z */
#define T2028_FEB28 1835319600000ULL     /* 2028-02-28T03:00Z */
#define T2028_FEB29 1835406000000ULL     /* 2028-02-29T03:00Z */

/* employee_registered (kind pppk unless pns) or, with update, employee_updated: contract_start
 * start (NULL: none). */
static jpl_err contract(fixture *f, const char *nip, bool update, const char *kind,
                        const char *start, uint64_t at)
{
    char json[512], id[37], cs[64] = "";
    if (start != NULL)
        snprintf(cs, sizeof cs, ",\"contract_start\":\"%s\"", start);
    snprintf(json, sizeof json,
             "{\"type\":\"employee_%s\",\"id\":\"%s\",\"nip\":\"%s\",\"kind\":\"%s\"%s%s"
             "%s,\"issued_at_ms\":%llu}",
             update ? "updated" : "registered", new_id(id), nip, kind,
             update ? "" : ",\"unit\":\"Pusdatin\"", update ? "" : ",\"cap_exempt\":false", cs,
             (unsigned long long)at);
    return app(f, &f->hr, json, NULL);
}

/* The recognized figure and status of nip in year (-1 figure if the query fails). */
static void check_year(fixture *f, const char *nip, uint32_t year, uint64_t recognized,
                       jpl_balance_status status, const char *from)
{
    jpl_balance b;
    CHECK(balance(f, nip, year, &b));
    CHECK_EQ(b.recognized, recognized);
    CHECK_EQ(b.completed, recognized);
    CHECK_EQ(b.status, status);
    json_t *j = jpl_balance_to_json(&b);
    const char *got = json_string_value(json_object_get(j, "contract_year_from"));
    if (from == NULL)
        CHECK(got == NULL);
    else
        CHECK(got != NULL && strcmp(got, from) == 0);
    json_decref(j);
}

static bool replay_matches(fixture *f)
{
    jpl_replay_opts o = {.check = true};
    jpl_replay_result res[JPL_PROJ_COUNT];
    size_t n = 0;
    jpl_error e = {0};
    if (jpl_projections_replay(f->l, &o, res, &n, &e) != JPL_OK || n != JPL_PROJ_COUNT)
        return false;
    bool all = true;
    for (size_t i = 0; i < n; i++)
        all = all && res[i].match;
    return all;
}

static void test_contract_years(void)
{
    fixture f;
    REQUIRE(setup(&f, "proj_contract", true));
    REQUIRE(classical(&f, "K16", 1600) == JPL_OK);
    REQUIRE(classical(&f, "K08", 800) == JPL_OK);
    /* C: PPPK, contract from 1 April; B: PPPK on calendar years; A: PNS */
    REQUIRE(contract(&f, NIP_C, false, "pppk", "2025-04-01", T2024_MAR) == JPL_OK);
    REQUIRE(contract(&f, NIP_B, false, "pppk", NULL, T2024_MAR) == JPL_OK);
    REQUIRE(employee(&f, NIP_A, "pns", "Pusdatin", false, T2024_MAR) == JPL_OK);
    const char *nips[] = {NIP_C, NIP_B, NIP_A};
    for (size_t i = 0; i < 3; i++) {
        REQUIRE(learn(&f, nips[i], "K16", 1600, T2025_MAR, NULL));
        REQUIRE(learn(&f, nips[i], "K16", 1600, T2025_MAY, NULL));
    }
    /* C: 16 JP in contract year 2024 (to 31 March 2025), 16 in 2025: within the cap in both */
    check_year(&f, NIP_C, 2024, 1600, JPL_STATUS_WITHIN, "2024-04-01");
    check_year(&f, NIP_C, 2025, 1600, JPL_STATUS_WITHIN, "2025-04-01");
    jpl_balance b;
    REQUIRE(balance(&f, NIP_C, 2024, &b));
    CHECK_EQ(b.enrolled, 1600);
    CHECK_EQ(b.counted, 1600);
    /* B on calendar years: 32 JP in 2025, over by 8; A (PNS) unaffected: 32 in 2025, met */
    check_year(&f, NIP_B, 2025, 3200, JPL_STATUS_OVER, NULL);
    REQUIRE(balance(&f, NIP_B, 2025, &b));
    CHECK_EQ(b.excess, 800);
    check_year(&f, NIP_B, 2024, 0, JPL_STATUS_WITHIN, NULL);
    check_year(&f, NIP_A, 2025, 3200, JPL_STATUS_MET, NULL);
    check_year(&f, NIP_A, 2024, 0, JPL_STATUS_SHORT, NULL);
    /* the units report follows the same years: C is at no cap, B is */
    jpl_unit_row r;
    REQUIRE(unit_row(&f, 2025, "Pusdatin", &r));
    CHECK_EQ(r.pppk_at_cap, 1);
    CHECK_EQ(r.headcount_pppk, 2);
    CHECK_EQ(r.recognized, 1600 + 3200 + 3200);
    REQUIRE(unit_row(&f, 2024, "Pusdatin", &r));
    CHECK_EQ(r.recognized, 1600);
    CHECK_EQ(r.pppk_at_cap, 0);
    /* the anniversary is a WIB date: 2025-03-31 18:00 UTC is 1 April in Jakarta */
    REQUIRE(learn(&f, NIP_C, "K08", 800, T2025_MAR31_WIB, NULL));
    check_year(&f, NIP_C, 2025, 2400, JPL_STATUS_WITHIN, "2025-04-01");
    check_year(&f, NIP_C, 2024, 1600, JPL_STATUS_WITHIN, "2024-04-01");

    /* a renewal moves the anniversary to 1 July: 1 April 2026 now falls in contract year 2025 */
    REQUIRE(contract(&f, NIP_C, true, "pppk", "2025-07-01", T2025_JUL) == JPL_OK);
    REQUIRE(learn(&f, NIP_C, "K08", 800, T2026_APR, NULL));
    check_year(&f, NIP_C, 2025, 3200, JPL_STATUS_OVER, "2025-07-01");
    check_year(&f, NIP_C, 2026, 0, JPL_STATUS_WITHIN, "2026-07-01");
    /* appointed PNS (in 2026): 2026 is judged on the calendar year, as PNS */
    REQUIRE(contract(&f, NIP_C, true, "pns", NULL, T2026_FEB) == JPL_OK);
    REQUIRE(learn(&f, NIP_C, "K08", 800, T2026_APR + 86400000, NULL));
    check_year(&f, NIP_C, 2026, 800, JPL_STATUS_SHORT, NULL);

    /* bad dates are refused whole: nothing is appended */
    uint64_t size = jpl_ledger_size(f.l);
    CHECK_EQ(contract(&f, NIP_B, true, "pppk", "2025-02-29", T2025_JUL), JPL_ERR_BAD_INPUT);
    CHECK_EQ(contract(&f, NIP_A, true, "pns", "2025-04-01", T2025_JUL), JPL_ERR_BAD_INPUT);
    /* the same as signed protobuf bytes, past the JSON reader */
    Jpl__Event *ev = NULL;
    jpl_error e = {0};
    const char *json = "{\"type\":\"employee_updated\",\"nip\":\"" NIP_B "\","
                       "\"contract_start\":\"2025-04-01\"}";
    REQUIRE(jpl_event_from_json_text(json, strlen(json), jpl_now_ms(), &ev, &e) == JPL_OK);
    free(ev->employee_updated->contract_start);
    ev->employee_updated->contract_start = strdup("2025-04-31");
    uint8_t *env = NULL;
    size_t len = 0;
    REQUIRE(jpl_event_seal(ev, f.hr.pk, f.hr.sk, &env, &len, &e) == JPL_OK);
    jpl_append_result res;
    CHECK_EQ(jpl_ledger_append(f.l, &(jpl_bytes){env, len}, 1, &res, &e), JPL_ERR_BAD_INPUT);
    CHECK(strstr(e.msg, "contract_start") != NULL);
    free(env);
    jpl_event_free(ev);
    CHECK_EQ(jpl_ledger_size(f.l), size);

    /* live and replayed state agree */
    CHECK(replay_matches(&f));
    teardown(&f);
}

static void test_contract_feb29(void)
{
    fixture f;
    REQUIRE(setup(&f, "proj_feb29", true));
    REQUIRE(classical(&f, "K04", 400) == JPL_OK);
    REQUIRE(contract(&f, NIP_D, false, "pppk", "2024-02-29", T2024_FEB29) == JPL_OK);
    REQUIRE(learn(&f, NIP_D, "K04", 400, T2024_FEB29, NULL));
    REQUIRE(learn(&f, NIP_D, "K04", 400, T2025_FEB28, NULL)); /* -> 2024 */
    REQUIRE(learn(&f, NIP_D, "K04", 400, T2025_MAR01, NULL)); /* -> 2025 */
    REQUIRE(learn(&f, NIP_D, "K04", 400, T2028_FEB28, NULL)); /* -> 2027 */
    REQUIRE(learn(&f, NIP_D, "K04", 400, T2028_FEB29, NULL)); /* -> 2028 */
    check_year(&f, NIP_D, 2024, 800, JPL_STATUS_WITHIN, "2024-02-29");
    check_year(&f, NIP_D, 2025, 400, JPL_STATUS_WITHIN, "2025-03-01");
    check_year(&f, NIP_D, 2027, 400, JPL_STATUS_WITHIN, "2027-03-01");
    check_year(&f, NIP_D, 2028, 400, JPL_STATUS_WITHIN, "2028-02-29");
    CHECK(replay_matches(&f));
    teardown(&f);
}

/* The stored employee history: a step without a contract start keeps the layout it had before
 * contract years (so such records decode and digests do not change); one with a start sets flag 4
 * and appends u16 month*100+day; a flag without its u16 is corrupt. */
static void test_contract_history_format(void)
{
    fixture f;
    REQUIRE(setup(&f, "proj_hist_fmt", true));
    REQUIRE(contract(&f, NIP_B, false, "pppk", NULL, T2025_FEB) == JPL_OK);
    REQUIRE(contract(&f, NIP_C, false, "pppk", "2024-04-01", T2025_FEB) == JPL_OK);
    REQUIRE(reopen_rw(&f, false));
    jpl_store *s = jpl_ledger_store(f.l);
    int cf = 0;
    jpl_error e = {0};
    REQUIRE(jpl_store_cf(s, "p.balances.g1", false, &cf, &e) == JPL_OK);
    static const uint8_t OLD[] = {0,   1,   2025 >> 8, 2025 & 0xff, 2,   0,   8,  'P',
                                  'u', 's', 'd',       'a',         't', 'i', 'n'};
    static const uint8_t NEW[] = {0,   1,   2025 >> 8, 2025 & 0xff, 2,         4,
                                  8,   'P', 'u',       's',         'd',       'a',
                                  't', 'i', 'n',       401 >> 8,    401 & 0xff};
    uint8_t k[19] = {'E'};
    uint8_t *v = NULL;
    size_t vlen = 0;
    memcpy(k + 1, NIP_B, 18);
    REQUIRE(jpl_store_get(s, cf, k, sizeof k, &v, &vlen, &e) == JPL_OK);
    CHECK(vlen == sizeof OLD && memcmp(v, OLD, vlen) == 0);
    free(v);
    memcpy(k + 1, NIP_C, 18);
    REQUIRE(jpl_store_get(s, cf, k, sizeof k, &v, &vlen, &e) == JPL_OK);
    CHECK(vlen == sizeof NEW && memcmp(v, NEW, vlen) == 0);
    free(v);
    /* an old-format record written by hand decodes; a truncated new one is corrupt */
    memcpy(k + 1, NIP_B, 18);
    jpl_batch *b = jpl_batch_new();
    jpl_batch_put(b, s, cf, k, sizeof k, OLD, sizeof OLD);
    memcpy(k + 1, NIP_C, 18);
    jpl_batch_put(b, s, cf, k, sizeof k, NEW, sizeof NEW - 1);
    REQUIRE(jpl_store_write(s, b, true, &e) == JPL_OK);
    jpl_batch_free(b);
    jpl_balance bal;
    CHECK(balance(&f, NIP_B, 2025, &bal));
    CHECK_EQ(bal.kind, JPL__EMPLOYEE_KIND__KIND_PPPK);
    CHECK_EQ(bal.contract_md, 0);
    jpl_balance *all = NULL;
    size_t n = 0;
    CHECK_EQ(jpl_balance_query(f.l, NIP_C, 2025, &all, &n, &e), JPL_ERR_CORRUPT);
    CHECK(strstr(e.msg, "employee history record is malformed") != NULL);
    teardown(&f);
}

int main(void)
{
    if (!jpl_crypto_init())
        return 1;
    static const jpl_test_case cases[] = {
        TEST_CASE(test_hand_computed),
        TEST_CASE(test_trail),
        TEST_CASE(test_catch_up),
        TEST_CASE(test_replay_check_and_leftovers),
        TEST_CASE(test_kind_change_exit_and_hooks),
        TEST_CASE(test_contract_years),
        TEST_CASE(test_contract_feb29),
        TEST_CASE(test_contract_history_format),
        TEST_CASE(test_property_random_history),
    };
    return jpl_test_run("projections", cases, sizeof cases / sizeof cases[0]);
}
