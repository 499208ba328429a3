/*
 * Offline verification of a whole ledger: signatures, key registry at each position, roles,
 * id index, every stored Merkle node, every checkpoint (signature, origin, root). Reports the
 * first bad position.
 */
#ifndef JPL_VERIFY_H
#define JPL_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "jpl/err.h"
#include "jpl/ledger.h"
#include "jpl/note.h"

typedef struct {
    bool ok;
    uint64_t size;          /* entries in the log */
    uint64_t entries;       /* entries checked */
    uint64_t checkpoints;   /* checkpoints checked */
    uint64_t first_bad_seq; /* valid when !ok and the failure is about an entry */
    bool entry_failed;      /* !ok and the failure is about entry first_bad_seq */
    uint8_t root[JPL_SHA256_LEN];
    int threads;
    double seconds;
} jpl_verify_report;

/* Called after each chunk with entries done and total. */
typedef void (*jpl_verify_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/* Verifies l against the log verifier key. threads <= 0: one per core. Returns JPL_OK if every
 * check holds; otherwise the first failure's code, with e naming the seq and the reason and
 * rep->first_bad_seq set. */
jpl_err jpl_ledger_verify(jpl_ledger *l, const jpl_note_verifier *log_key, int threads,
                          jpl_verify_progress_fn progress, void *pctx, jpl_verify_report *rep,
                          jpl_error *e);

/* The same verification in steps, for an auditor that follows a growing log: advance checks the
 * entries up to a size while the log is being written (from a ledger open for writing, in the
 * writer's process), finish checks the rest and the whole (possibly from a later, read-only open
 * of the same ledger). Every entry is checked once, in order, and finish ends exactly where
 * jpl_ledger_verify ends. rep (owned by the caller) accumulates; the first failure is final. */
typedef struct jpl_verifier jpl_verifier;
jpl_err jpl_verifier_new(const jpl_note_verifier *log_key, int threads, jpl_verify_report *rep,
                         jpl_verifier **out, jpl_error *e);
/* Checks entries [checked so far, to) and every checkpoint of a size up to to; to must not
 * exceed the committed size of l. */
jpl_err jpl_verifier_advance(jpl_verifier *vf, jpl_ledger *l, uint64_t to,
                             jpl_verify_progress_fn progress, void *pctx, jpl_error *e);
/* Checks the rest of l up to its size, then everything about the whole: no entry, node or
 * checkpoint beyond it, a checkpoint that covers it, every block checksum. */
jpl_err jpl_verifier_finish(jpl_verifier *vf, jpl_ledger *l, jpl_verify_progress_fn progress,
                            void *pctx, jpl_error *e);
/* Entries checked so far. */
uint64_t jpl_verifier_checked(const jpl_verifier *vf);
void jpl_verifier_free(jpl_verifier *vf);

#endif
