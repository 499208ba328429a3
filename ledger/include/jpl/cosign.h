/*
 * Auditor cosignatures of the log's checkpoints. An auditor that has checked a checkpoint (signed
 * by the log key, consistent with the last one it cosigned) adds its own Ed25519 signature line
 * to the checkpoint note (jpl_note_cosign) and sends it to the ledger, which keeps the line:
 * from then on the checkpoint is served with the log's signature followed by every auditor's.
 * This is the witness form of the published sum.golang.org checkpoint in the test vectors
 * (plain signed-note lines of type 0x01 over the same text); the timestamped C2SP
 * tlog-cosignature (type 0x04) is not used because no published vectors exist to test it.
 *
 * A cosignature is accepted only from a registered, unrevoked key of role auditor, whose note
 * key name is its registered name, and only over the exact text of one of the ledger's stored
 * checkpoints; the log's signature on the note, if present, must verify too. A key cosigns a
 * checkpoint once: sending the same line again is idempotent (duplicate), another line by the
 * same key for the same checkpoint is a conflict. At most JPL_COSIGS_MAX keys cosign one
 * checkpoint.
 *
 * Storage: the family JPL_COSIG_FAMILY, key tree size u64 BE || auditor public key (32), value
 * the signature line without its newline ("— name base64(key id || signature)"). A ledger gets
 * the family at its first writable open by a version that knows it; older ledgers opened
 * read-only simply have no cosignatures.
 */
#ifndef JPL_COSIGN_H
#define JPL_COSIGN_H

#include <stdbool.h>
#include <stdint.h>

#include "jpl/err.h"
#include "jpl/ledger.h"
#include "jpl/note.h"

#define JPL_COSIG_FAMILY "cosignatures"
#define JPL_COSIGS_MAX 32 /* keys that may cosign one checkpoint */

/* What jpl_ledger_cosign did. */
typedef struct {
    uint64_t size;                        /* the tree size of the cosigned checkpoint */
    char key_name[JPL_NOTE_NAME_MAX + 1]; /* the auditor key's registered name */
    bool duplicate;                       /* the same cosignature was stored before */
} jpl_cosign_result;

/* Stores the cosignature by the key pk found in the checkpoint note note[0..len) (the note as
 * served, with the auditor's line added; other lines are ignored unless they are the log's).
 * Durable (synced) before it returns. Thread-safe; needs a ledger opened for writing.
 * Errors (nothing is stored): UNKNOWN_KEY (pk not registered), KEY_REVOKED, FORBIDDEN (not an
 * auditor key), BAD_INPUT / TOO_LARGE (malformed note or checkpoint, another origin),
 * BAD_SIGNATURE (no line by the key, or its or the log's signature does not verify),
 * NOT_FOUND (no checkpoint of that size), CONFLICT (the text differs from the stored checkpoint
 * of that size, or the key cosigned it with another line), TOO_LARGE (JPL_COSIGS_MAX reached),
 * IO. */
jpl_err jpl_ledger_cosign(jpl_ledger *l, const char *note, size_t len,
                          const uint8_t pk[JPL_ED25519_PK_LEN], jpl_cosign_result *result_out,
                          jpl_error *e);

/* The stored checkpoint of tree size size, followed by its cosignatures in public key order
 * (malloc'd NUL-terminated note, caller frees). NOT_FOUND if there is no checkpoint of that
 * size. */
jpl_err jpl_ledger_checkpoint_at(jpl_ledger *l, uint64_t size, char **note_out, jpl_error *e);

/* One checked cosignature. */
typedef struct {
    uint64_t size;                 /* the checkpoint it cosigns */
    char vkey[JPL_NOTE_VKEY_SIZE]; /* the auditor's verifier key */
    bool revoked;                  /* the key was revoked since */
} jpl_cosig_info;

/* Called for each checked cosignature, in tree size order. */
typedef void (*jpl_cosig_fn)(void *ctx, const jpl_cosig_info *c);

/* Checks every stored cosignature: the checkpoint it cosigns exists and verifies with log_key,
 * the key is registered with role auditor (a later revocation is reported, not an error), and
 * its line verifies over the checkpoint's text. Calls fn (may be NULL) for each; *n_out counts
 * them. Errors: CORRUPT naming the checkpoint and key; IO. */
jpl_err jpl_ledger_cosigs_verify(jpl_ledger *l, const jpl_note_verifier *log_key, jpl_cosig_fn fn,
                                 void *ctx, uint64_t *n_out, jpl_error *e);

#endif
