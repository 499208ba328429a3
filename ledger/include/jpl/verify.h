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

#endif
