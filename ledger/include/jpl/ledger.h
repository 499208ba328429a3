/*
 * The ledger: an append-only log of signed events in RocksDB, committed to an RFC 6962 Merkle
 * tree, with a signed C2SP checkpoint after every committed group.
 *
 * Appends go through one writer thread. Callers verify signatures in their own threads (so API
 * workers verify in parallel), then queue the batch; the writer validates batches in order
 * against the state as of all earlier batches (a write batch it reads through: ledger/overlay.c),
 * commits a whole group of batches in one synced RocksDB write, and only then answers. A batch is
 * all-or-nothing; a failed batch does not affect the others of its group.
 *
 * Files in a ledger directory:
 *   db/        the RocksDB database
 *   log.key    the log's checkpoint signer key (mode 0600)
 *   log.vkey   the log's verifier key (name+hash+base64), for auditors
 *   keys/      the first admin key pair written by init (move it offline)
 */
#ifndef JPL_LEDGER_H
#define JPL_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include "jpl/crypto.h"
#include "jpl/err.h"
#include "jpl/note.h"
#include "jpl/store.h"
#include "jpledger.pb-c.h"

#define JPL_DEFAULT_ORIGIN "jpledger.local/log"

typedef struct jpl_ledger jpl_ledger;

typedef struct {
    const char *origin;     /* checkpoint origin and log key name; NULL: JPL_DEFAULT_ORIGIN */
    const char *admin_name; /* name of the first admin key; NULL: "admin" */
} jpl_init_opts;

typedef struct {
    char log_vkey[512];        /* the log's verifier key text */
    char admin_key_path[4200]; /* where the first admin signer key was written */
    char admin_vkey[512];      /* its verifier key text */
} jpl_init_result;

/* Creates a ledger in dir (made if missing): database, log key, first admin key, entry 0 and the
 * first checkpoint. JPL_ERR_EXISTS if dir already holds a ledger; nothing is changed then. */
jpl_err jpl_ledger_init(const char *dir, const jpl_init_opts *opts, jpl_init_result *res_out,
                        jpl_error *e);

/* Opens a ledger. writable: takes the database lock, loads the log key, starts the writer.
 * Read-only opens may run beside a writer and see the log as of the open. */
jpl_err jpl_ledger_open(const char *dir, bool writable, jpl_ledger **out, jpl_error *e);
/* Stops the writer (finishing the group in progress) and closes everything; accepts NULL. */
void jpl_ledger_close(jpl_ledger *l);

/* Number of entries (the tree size). */
uint64_t jpl_ledger_size(jpl_ledger *l);
/* Checkpoint origin line. Borrowed for the ledger's lifetime. */
const char *jpl_ledger_origin(jpl_ledger *l);
/* The underlying store (for projections and tools). Borrowed. Reads through it see the live
 * state, also on a snapshot handle. */
jpl_store *jpl_ledger_store(jpl_ledger *l);

/*
 * A read-only handle on l as of now: every read through it (jpl_ledger_size, entries, roots,
 * proofs, the checkpoint, keys, employees, and the projection queries of jpl/projections.h) sees
 * one RocksDB snapshot, so answers made of several reads agree with each other and with the log
 * size it reports, while l's writer goes on committing. A handle taken of a snapshot handle reads
 * the same snapshot. It must not outlive l (nor, taken of a snapshot handle, that handle); close
 * it with jpl_ledger_close. Appending through it fails. Thread-safe to take; one thread at a
 * time may use it.
 */
jpl_err jpl_ledger_snapshot(jpl_ledger *l, jpl_ledger **out, jpl_error *e);
/* The snapshot a snapshot handle reads (borrowed), or NULL for an opened ledger. */
jpl_snapshot *jpl_ledger_snapshot_of(jpl_ledger *l);

/* Result of one event of an append batch. */
typedef struct {
    jpl_err code; /* JPL_OK, or why this event failed */
    uint64_t seq; /* its position (the original one when duplicate) */
    uint8_t event_id[16];
    uint8_t leaf_hash[JPL_SHA256_LEN];
    bool duplicate; /* same id and bytes as an earlier entry: nothing written */
} jpl_append_result;

/* Appends a batch of serialized SignedEnvelopes, all or nothing. results (n of them, caller
 * owned) are filled for every event; on failure the return value and e name the first failing
 * event (index and id) and the reason, and nothing of the batch is written. Returns only after
 * the batch is durable. Thread-safe. */
jpl_err jpl_ledger_append(jpl_ledger *l, const jpl_bytes *envelopes, size_t n,
                          jpl_append_result *results, jpl_error *e);

/* One entry as the writer stages it, for hooks. All pointers are borrowed for the call. */
typedef struct {
    uint64_t seq;
    uint64_t recorded_at_ms;
    const uint8_t *entry; /* the stored LogEntry bytes */
    size_t entry_len;
    const uint8_t *leaf_hash;
    const Jpl__SignedEnvelope *env;
    const Jpl__Event *ev;
    const char *nip; /* the employee the event is about ("" if none) */
} jpl_entry_view;

/* Called by the writer for every new entry, inside the entry's batch and before it commits:
 * whatever the hook puts into batch commits atomically with the entry (or is rolled back with
 * its append batch). An error fails the append batch. Runs on the writer thread. */
typedef jpl_err (*jpl_stage_hook)(void *ctx, jpl_store *store, jpl_batch *batch,
                                  const jpl_entry_view *v, jpl_error *e);
/* Called by the writer after a group is durable, before the appenders are answered: entries
 * [first_seq, end_seq) are committed, checkpoint is the note signed for end_seq. */
typedef void (*jpl_commit_hook)(void *ctx, uint64_t first_seq, uint64_t end_seq,
                                const char *checkpoint);

/* Installs hooks (either may be NULL); call before the first append. */
void jpl_ledger_set_hooks(jpl_ledger *l, jpl_stage_hook stage, jpl_commit_hook commit, void *ctx);
/* Installs only the commit hook (e.g. the server's publisher), keeping the stage hook. */
void jpl_ledger_set_commit_hook(jpl_ledger *l, jpl_commit_hook commit, void *ctx);

/* Stops the writer between groups (waits for the group in progress) so that maintenance, e.g.
 * an online replay of the projections, sees no appends; appenders wait meanwhile. Pauses nest:
 * the writer goes on after as many resumes as pauses. Every pause needs its resume. */
void jpl_ledger_pause(jpl_ledger *l);
void jpl_ledger_resume(jpl_ledger *l);

/* Signs event bytes into a serialized SignedEnvelope (malloc'd, caller frees). */
jpl_err jpl_envelope_sign(const uint8_t *event, size_t len, const uint8_t pk[JPL_ED25519_PK_LEN],
                          const uint8_t sk[JPL_ED25519_SK_LEN], uint8_t **env_out,
                          size_t *env_len_out, jpl_error *e);

/* Serializes ev and signs it into a SignedEnvelope (malloc'd, caller frees): what a client
 * submits. Nothing of ev is kept. */
jpl_err jpl_event_seal(const Jpl__Event *ev, const uint8_t pk[JPL_ED25519_PK_LEN],
                       const uint8_t sk[JPL_ED25519_SK_LEN], uint8_t **env_out, size_t *env_len_out,
                       jpl_error *e);

/* The stored bytes of entry seq (malloc'd, caller frees). JPL_ERR_NOT_FOUND past the end. */
jpl_err jpl_ledger_entry(jpl_ledger *l, uint64_t seq, uint8_t **bytes_out, size_t *len_out,
                         jpl_error *e);
/* Merkle root of the first size entries (size <= jpl_ledger_size). */
jpl_err jpl_ledger_root(jpl_ledger *l, uint64_t size, uint8_t root_out[JPL_SHA256_LEN],
                        jpl_error *e);
/* Inclusion proof of leaf seq in the tree of size entries; path_out holds 64 hashes. */
jpl_err jpl_ledger_prove_inclusion(jpl_ledger *l, uint64_t seq, uint64_t size,
                                   uint8_t (*path_out)[JPL_SHA256_LEN], size_t *n_out,
                                   jpl_error *e);
/* Consistency proof between sizes m and n (0 < m <= n <= size). */
jpl_err jpl_ledger_prove_consistency(jpl_ledger *l, uint64_t m, uint64_t n,
                                     uint8_t (*path_out)[JPL_SHA256_LEN], size_t *n_out,
                                     jpl_error *e);
/* The latest signed checkpoint note with every auditor cosignature stored for it (jpl/cosign.h)
 * after the log's signature (malloc'd NUL-terminated text, caller frees). */
jpl_err jpl_ledger_checkpoint(jpl_ledger *l, char **note_out, jpl_error *e);
/* The log's verifier key text (from log.vkey). Borrowed. */
const char *jpl_ledger_log_vkey(jpl_ledger *l);

/* The current unit of employee nip as the writer's state knows it (committed state).
 * JPL_ERR_NOT_FOUND if the NIP is not registered. */
jpl_err jpl_ledger_employee_unit(jpl_ledger *l, const char *nip, char *unit_out, size_t cap,
                                 jpl_error *e);

/* A registered key as the committed state knows it. */
typedef struct {
    int role;     /* a Jpl__Role value */
    bool revoked; /* revoked since (the key stays in the registry) */
    char name[JPL_NOTE_NAME_MAX + 1];
} jpl_key_info;

/* Role, revocation and name of a key ever registered; JPL_ERR_UNKNOWN_KEY if it never was.
 * Reads committed state. */
jpl_err jpl_ledger_key_info(jpl_ledger *l, const uint8_t pk[JPL_ED25519_PK_LEN],
                            jpl_key_info *info_out, jpl_error *e);

/* Role (a Jpl__Role value) and name of a registered, unrevoked key; JPL_ERR_UNKNOWN_KEY or
 * JPL_ERR_KEY_REVOKED otherwise. Reads committed state. */
jpl_err jpl_ledger_key_role(jpl_ledger *l, const uint8_t pk[JPL_ED25519_PK_LEN], int *role_out,
                            char *name_out, size_t cap, jpl_error *e);

/* Milliseconds since the epoch (UTC). */
uint64_t jpl_now_ms(void);

#endif
