/*
 * The checks every entry of a log must pass, wherever the entries come from: the RocksDB log
 * (verify.c) or an export bundle (bundle.c). An entry decodes, holds the seq of its position, is
 * signed (Ed25519 over the domain-separated event bytes) by a key that was registered and not
 * revoked at that position and whose role may issue the event (entry 0: the first admin key,
 * self-signed; a revocation: a role that may revoke its target), and is the next leaf of the
 * recomputed RFC 6962 tree; a checkpoint signed by the log key commits to that tree.
 *
 * Decoding and signatures are checked by `threads` threads, chunk by chunk, while the calling
 * thread runs everything that depends on order (the key registry, the tree). The source of the
 * entries supplies them through jpl_check_ops and adds what only it can check (a store its
 * indexes and stored nodes, a bundle that event ids are unique).
 */
#ifndef JPL_CHECK_H
#define JPL_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jpl/codec.h"
#include "jpl/err.h"
#include "jpl/merkle.h"
#include "jpl/note.h"
#include "jpl/verify.h"

typedef struct jpl_check jpl_check;

/* The stored bytes of one entry, as a source reads them; malloc'd, the engine frees them. */
typedef struct {
    uint8_t *bytes;
    size_t len;
} jpl_check_raw;

/* What a source of entries provides; ctx is the source's own state. Callbacks that fail return
 * the code with e set (jpl_check_fail for a failure about the entry being checked). */
typedef struct {
    /* Reads entries seq, seq+1, ... up to max of them and never beyond `to` (fewer only at
     * `to`) into raw[]. *n_out counts the entries read, also on failure: a failure is about
     * entry seq + *n_out. Runs on the calling thread, ahead of the in-order checks. */
    jpl_err (*read)(void *ctx, uint64_t seq, uint64_t to, jpl_check_raw *raw, size_t max,
                    size_t *n_out, jpl_error *e);
    /* The type (a Jpl__Event__BodyCase) of the earlier event with this 16-byte id, for the role
     * check of a revocation not signed by an admin. */
    jpl_err (*target_type)(void *ctx, const uint8_t *id, int *bc_out, jpl_error *e);
    /* After the signer checks of the entry being checked (may be NULL). */
    jpl_err (*entry_done)(void *ctx, const Jpl__Event *ev, jpl_error *e);
    /* Every node of the recomputed tree as the entry's leaf completes it (may be NULL). */
    jpl_merkle_emit_fn node;
    /* After the entry's leaf is in the tree (may be NULL). */
    jpl_err (*grown)(void *ctx, jpl_error *e);
} jpl_check_ops;

typedef struct jpl_check_key jpl_check_key;

struct jpl_check {
    const jpl_check_ops *ops;
    void *ctx;
    const jpl_note_verifier *log_key;
    jpl_verify_report *rep; /* caller-owned; the engine fills ok, entries, checkpoints, ... */
    int threads;
    uint64_t seq; /* the entry being checked: every entry below it passed */
    jpl_merkle_frontier front;
    jpl_check_key *keys; /* the key registry as of seq */
    size_t n_keys, cap_keys;
};

/* Sets up ck to check entries from seq 0 with threads threads (<= 0: one per core) and resets
 * rep. Nothing to free on failure. */
jpl_err jpl_check_init(jpl_check *ck, const jpl_check_ops *ops, void *ctx,
                       const jpl_note_verifier *log_key, int threads, jpl_verify_report *rep,
                       jpl_error *e);
/* Frees what ck holds (not ck itself); accepts a zeroed ck. */
void jpl_check_free(jpl_check *ck);

/* Checks entries [ck->seq, to) in order; stops at the first failure, which rep records. */
jpl_err jpl_check_entries(jpl_check *ck, uint64_t to, jpl_verify_progress_fn progress, void *pctx,
                          jpl_error *e);

/* A failure about the entry being checked: records it in the report and sets e to
 * "seq N: what". Returns code. */
jpl_err jpl_check_fail(jpl_check *ck, jpl_err code, const char *what, jpl_error *e);

/* Checks a signed checkpoint of the tree size reached so far: signed by the log key, of origin
 * origin, of that size, committing to the recomputed root. A failure is about the last entry
 * of that size. Counts it in rep->checkpoints on success. */
jpl_err jpl_check_checkpoint(jpl_check *ck, const char *note, size_t len, const char *origin,
                             jpl_error *e);

#endif
