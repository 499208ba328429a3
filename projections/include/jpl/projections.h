/*
 * Projections: the read models derived from the log (docs/PROJECTIONS.md).
 *
 *   balances  per NIP and year: planned, approved, enrolled, completed, recognized, counted
 *             centi-JP and the status under that year's policy (PNS met/short, PPPK within/over)
 *   units     per unit and year: headcount by kind, PNS meeting the floor, recognized JP,
 *             PPPK at or over the cap
 *   trail     per NIP: every event about the employee, with issuer key, role, times, leaf hash
 *
 * Each projection lives in its own RocksDB column family `p.<name>.g<generation>`; the live
 * generation of each is recorded in the family `p.meta` (key = name, value = u64 generation).
 * Live state is written by the ledger's writer in the same batch as the entries it comes from
 * (stage hook), so it is never ahead of or behind the log. `replay` builds a new generation from
 * seq 0 beside the live one and switches the pointer in one synced write.
 *
 * Queries (balance, trail, unit report) take any open ledger (read-only is enough) and return
 * plain structs or jansson objects, so the CLI and the API server share them. Each query reads
 * one RocksDB snapshot: it never sees part of a committed group, and a replay that switches
 * generations meanwhile does not disturb it. Given a snapshot handle (jpl_ledger_snapshot), it
 * reads that handle's snapshot, so several queries, proofs and jpl_ledger_size agree.
 */
#ifndef JPL_PROJECTIONS_H
#define JPL_PROJECTIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jpl/crypto.h"
#include "jpl/err.h"
#include "jpl/ledger.h"

#define JPL_PROJ_COUNT 3
#define JPL_PROJ_NAME_MAX 16
#define JPL_POLICY_MAX_CONVERSIONS 64

/* Names of the projections, in a fixed order ("balances", "units", "trail"). */
extern const char *const jpl_projection_names[JPL_PROJ_COUNT];

/* ---- live maintenance ---- */

typedef struct jpl_projections jpl_projections;

/*
 * Attaches the projections to a writable ledger: creates the families of a ledger that has none,
 * drops families left by a crashed replay, catches every projection up from the seq it has
 * applied to the log size (atomically, in batches that carry the applied seq), then installs a
 * stage hook so every later append updates the projections in its own batch. commit (may be
 * NULL) is installed as the ledger's commit hook with commit_ctx: the ledger has one hook slot,
 * so a server that needs commit notifications passes its hook here. Call before the first append
 * and before other threads append. On success *out is owned by the caller: close the ledger
 * first, then jpl_projections_free. Errors: JPL_ERR_INTERNAL for a read-only ledger, I/O and
 * corrupt errors from the store.
 */
jpl_err jpl_projections_attach(jpl_ledger *l, jpl_commit_hook commit, void *commit_ctx,
                               jpl_projections **out, jpl_error *e);
/* What attach does without installing hooks: builds, cleans up and catches up the projections
 * of a writable ledger, so that a later read sees them current. */
jpl_err jpl_projections_sync(jpl_ledger *l, jpl_error *e);

/* Frees what attach allocated; accepts NULL. The ledger must be closed (or its hooks replaced)
 * before, since its hook points here. */
void jpl_projections_free(jpl_projections *p);

/*
 * The stage hook attach installs (ctx is the jpl_projections). Public so that a caller that
 * installs its own stage hook with jpl_ledger_set_hooks can call it from there; it must then be
 * called for every entry, in order.
 */
jpl_err jpl_projections_stage_hook(void *ctx, jpl_store *store, jpl_batch *batch,
                                   const jpl_entry_view *v, jpl_error *e);

/* ---- replay ---- */

/* Progress of a replay: applied entries of total, elapsed seconds. */
typedef void (*jpl_replay_progress)(void *ctx, uint64_t done, uint64_t total, double seconds);

typedef struct {
    const char *only;             /* one projection name, or NULL for all */
    bool check;                   /* build and compare digests; do not switch; drop the build */
    jpl_replay_progress progress; /* may be NULL; called about every 0.25 s */
    void *progress_ctx;
} jpl_replay_opts;

typedef struct {
    char name[JPL_PROJ_NAME_MAX];
    uint64_t applied;                    /* entries applied (the log size) */
    uint64_t generation;                 /* the new generation (check: the one built) */
    uint8_t digest[JPL_SHA256_LEN];      /* of the replayed state */
    uint8_t live_digest[JPL_SHA256_LEN]; /* of the live state before the switch */
    uint64_t live_applied;               /* entries the live state had applied */
    bool had_live;                       /* a live generation existed */
    bool match;                          /* live digest == replay digest (and same applied) */
} jpl_replay_result;

/*
 * Rebuilds the projections (all, or opts->only) from seq 0 of the log of a writable ledger that
 * has no projections attached, into new families beside the live ones. Without check, switches
 * the live pointers to the new generation in one synced write and drops the old families; a
 * crash before that leaves the live state untouched (the half-built families are dropped at the
 * next attach or replay). results (JPL_PROJ_COUNT, caller-owned) get one entry per projection
 * replayed; *n_out says how many. Errors: JPL_ERR_NOT_FOUND for an unknown name, store errors,
 * JPL_ERR_CORRUPT for an entry that does not decode or is missing. A digest mismatch is not an
 * error here (see result.match). The log is scanned and decoded once, in a thread of its own,
 * and the new states are written as table files ingested whole (check: nothing is written); the
 * ledger must not be appended to meanwhile (the CLI holds the database lock). After a switch, a
 * jpl_projections attached to this ledger before the call is stale: attach again (or replay
 * with jpl_projections_replay_attached, which does all this for a served ledger).
 */
jpl_err jpl_projections_replay(jpl_ledger *l, const jpl_replay_opts *opts,
                               jpl_replay_result *results, size_t *n_out, jpl_error *e);

/*
 * Online replay of projections attached to a serving ledger: pauses the writer (appenders wait),
 * replays as jpl_projections_replay, points p's stage hook at the new generations and lets the
 * writer go on. Queries may run in other threads meanwhile: each reads one snapshot, which holds
 * the families it started with until it ends, so none fails or sees a mix of generations. Calls
 * on the same p run one at a time. Results and errors as for jpl_projections_replay.
 */
jpl_err jpl_projections_replay_attached(jpl_projections *p, const jpl_replay_opts *opts,
                                        jpl_replay_result *results, size_t *n_out, jpl_error *e);

/*
 * Digest of the live state of projection name: SHA-256 chained over every key and value of its
 * family in key order (docs/PROJECTIONS.md gives the exact construction), and the number of log
 * entries it has applied. JPL_ERR_NOT_FOUND if the projection has no live state yet.
 */
jpl_err jpl_projection_digest(jpl_ledger *l, const char *name, uint8_t digest_out[JPL_SHA256_LEN],
                              uint64_t *applied_out, jpl_error *e);

/* Number of log entries projection name has applied (cheap: one read).
 * JPL_ERR_NOT_FOUND if it has no live state yet. */
jpl_err jpl_projection_applied(jpl_ledger *l, const char *name, uint64_t *applied_out,
                               jpl_error *e);

/* ---- queries ---- */

/* The policy in force for a year. */
typedef struct {
    uint32_t effective_year; /* 0: the national defaults */
    uint32_t pns_floor_jp_centi;
    uint32_t pppk_cap_jp_centi;
    uint32_t minutes_per_jp;
    uint32_t international_bonus_percent;
    size_t n_conversions;
    struct {
        char form[65];
        uint32_t national_jp_centi_per_day;
        uint32_t international_jp_centi_per_day;
    } conversions[JPL_POLICY_MAX_CONVERSIONS];
} jpl_policy;

typedef enum {
    JPL_STATUS_MET = 1,    /* PNS: counted >= floor */
    JPL_STATUS_SHORT = 2,  /* PNS: counted < floor; shortfall = floor - counted */
    JPL_STATUS_WITHIN = 3, /* PPPK: recognized <= cap, or cap-exempt */
    JPL_STATUS_OVER = 4,   /* PPPK: recognized > cap; excess = recognized - cap */
} jpl_balance_status;

typedef struct {
    char nip[19];
    uint32_t year;
    int kind; /* Jpl__EmployeeKind in force for the year */
    bool cap_exempt;
    char unit[129]; /* unit in force for the year */
    uint64_t planned, approved, enrolled, completed, recognized, counted; /* centi-JP */
    jpl_balance_status status;
    uint64_t shortfall;                    /* PNS short */
    uint64_t excess;                       /* PPPK over */
    uint32_t floor_jp_centi, cap_jp_centi; /* of the policy in force */
    uint32_t policy_year;                  /* its effective year, 0 = national defaults */
    /* PPPK with a contract start: year is the contract year that began on this date (month*100
     * + day, in year; 229 falls on 301 in other years); 0: year is the WIB calendar year */
    uint16_t contract_md;
} jpl_balance;

/*
 * Balances of nip: for one year (year != 0; 2000..2100), or (year == 0) every year with figures,
 * or the current WIB year if there are none. *balances_out (malloc'd array, caller frees) gets
 * *n_out entries in year order. Errors: JPL_ERR_BAD_INPUT for a malformed NIP or a year outside
 * 2000..2100, JPL_ERR_NOT_FOUND for an employee never registered in the ledger, store errors.
 */
jpl_err jpl_balance_query(jpl_ledger *l, const char *nip, uint32_t year, jpl_balance **balances_out,
                          size_t *n_out, jpl_error *e);
/* JSON form of a balance (caller owns it). */
json_t *jpl_balance_to_json(const jpl_balance *b);
/* "met", "short", "within", "over". */
const char *jpl_balance_status_name(jpl_balance_status s);

typedef struct {
    char unit[129];
    uint32_t year;
    uint64_t headcount_pns, headcount_pppk;
    uint64_t pns_met;          /* PNS whose year's counted JP reach the floor */
    uint64_t pppk_at_cap;      /* non-exempt PPPK whose recognized JP reach the cap */
    uint64_t pppk_exempt;      /* cap-exempt PPPK */
    uint64_t movers;           /* employees who belonged to this and another unit in the year */
    uint64_t recognized;       /* centi-JP credited to this unit */
    uint64_t mean_recognized;  /* recognized / headcount (centi-JP, rounded down) */
    uint32_t pns_met_permille; /* pns_met * 1000 / headcount_pns (0 if none) */
} jpl_unit_row;

/*
 * Unit compliance report for year (2000..2100): one row for unit, or (unit NULL) one row per unit
 * that has anyone in the year, sorted by unit name. *rows_out (malloc'd, caller frees) gets *n_out
 * rows. Errors: JPL_ERR_BAD_INPUT for a bad year, JPL_ERR_NOT_FOUND for a unit with nobody in the
 * year, store errors.
 */
jpl_err jpl_unit_report(jpl_ledger *l, uint32_t year, const char *unit, jpl_unit_row **rows_out,
                        size_t *n_out, jpl_error *e);
/* JSON form of a report row (caller owns it). */
json_t *jpl_unit_row_to_json(const jpl_unit_row *r);

/*
 * Audit trail of nip: a JSON array of every event about the employee in log order, each
 * {"seq","type","event_id","key","role","issued_at_ms","recorded_at_ms","leaf_hash"} plus
 * "revokes":{"seq","type","event_id"} on revocations and "revoked_by":seq on revoked events.
 * *rows_out is owned by the caller. Errors as for jpl_balance_query.
 */
jpl_err jpl_trail_query(jpl_ledger *l, const char *nip, json_t **rows_out, jpl_error *e);

#endif
