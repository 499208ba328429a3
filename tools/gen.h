/*
 * The year generator behind `jpledger gen` (docs/IMPORT.md, "gen"): a realistic ministry year as
 * JSON events (docs/EVENTS.md), deterministic for a seed, in bounded memory.
 *
 * The year is cut into phases. Each phase is signed by one role and only depends on earlier
 * phases, so appending the phases in order, each with its role's key, loads the year without a
 * rejection; inside a phase, events of different employees are independent, so a phase can be
 * split into shards (employee index mod N) appended concurrently.
 *
 * Every employee's story comes from its own PRNG (xoshiro256**, seeded by splitmix64 from the
 * seed and the employee's index), so no event is held in memory: each pass regenerates what it
 * needs. The only per-employee memory is a set of the NIPs issued so far (8 bytes each, to keep
 * the NIP sequence numbers unique).
 */
#ifndef JPL_TOOLS_GEN_H
#define JPL_TOOLS_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "jpl/err.h"

#define JPL_GEN_DEFAULT_EMPLOYEES 124000u
#define JPL_GEN_DEFAULT_YEAR 2025u
#define JPL_GEN_MAX_EMPLOYEES 10000000u
#define JPL_GEN_UNITS 150u

/* The phases, in append order. */
typedef enum {
    JPL_GEN_EMPLOYEES = 0, /* hr: employee_registered */
    JPL_GEN_ACTIVITIES,    /* lms: activity_defined (the catalogue) */
    JPL_GEN_PLANS,         /* hr: plan_submitted */
    JPL_GEN_APPROVALS,     /* supervisor: plan_approved */
    JPL_GEN_LEARNING,      /* lms: enrolled, completed, revoked (withdrawn enrollments) */
    JPL_GEN_RECOGNITIONS,  /* verifier: recognized, revoked (wrong recognitions), re-recognized */
    JPL_GEN_TRANSFERS,     /* hr: employee_updated (unit transfers) */
    JPL_GEN_PHASES
} jpl_gen_phase;

typedef struct {
    uint64_t employees; /* 1..JPL_GEN_MAX_EMPLOYEES */
    uint32_t year;      /* 2001..2100; appointments are all before this year */
    uint64_t seed;
    uint32_t shard;  /* only employees (and activities) whose index % shards == shard */
    uint32_t shards; /* 0 or 1: no sharding */
} jpl_gen_opts;

/* Counts of one run (over the employees of the shard and the phases asked for). */
typedef struct {
    uint64_t employees, pns, pppk, pppk_exempt;
    uint64_t pns_short; /* PNS whose recognized JP stay below 20 JP */
    uint64_t pppk_over; /* non-exempt PPPK whose recognized JP exceed 24 JP in the contract
                         * year that began in the year (their learning after the anniversary) */
    uint64_t events;    /* lines emitted */
    uint64_t by_phase[JPL_GEN_PHASES];
    uint64_t plans, approvals, enrollments, dropouts, completions, recognitions;
    uint64_t wrong_recognitions, transfers, activities;
} jpl_gen_stats;

/* Receives one event line (JSON, no newline, len bytes; borrowed for the call). A non-OK return
 * stops the run with that error. */
typedef jpl_err (*jpl_gen_sink)(void *ctx, jpl_gen_phase phase, const char *line, size_t len,
                                jpl_error *e);

/*
 * Generates the year described by o and passes every event of the phases in phase_mask (bit
 * 1u << phase) to sink, employee by employee (activities first when asked for). With several
 * phases asked for, one employee's events of all of them come together (route them by phase);
 * inside a phase they come in the order they must be appended. stats_out (may be NULL) receives the
 * counts. Errors: JPL_ERR_USAGE for options out of range; whatever sink returns; JPL_ERR_INTERNAL
 * when out of memory.
 */
jpl_err jpl_gen_run(const jpl_gen_opts *o, uint32_t phase_mask, jpl_gen_sink sink, void *ctx,
                    jpl_gen_stats *stats_out, jpl_error *e);

/* The latest year that can be generated: the current one, since a generated year's NIPs are
 * appointed before it and the ledger refuses a NIP appointed after the current month. */
uint32_t jpl_gen_max_year(void);
#define JPL_GEN_FUTURE_YEAR                                                                        \
    "--year must not be after the current year (the NIPs' appointments would be in the future)"

/* Short name of a phase ("employees"), or NULL for an unknown value. */
const char *jpl_gen_phase_name(jpl_gen_phase p);

/* The role whose key signs a phase ("hr"), or NULL for an unknown value. */
const char *jpl_gen_phase_role(jpl_gen_phase p);

/* The phase named name, or JPL_GEN_PHASES if there is none. */
jpl_gen_phase jpl_gen_phase_from_name(const char *name);

#endif
