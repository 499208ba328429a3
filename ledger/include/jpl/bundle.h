/*
 * Export bundles: one self-contained file holding what an auditor needs to verify a log offline
 * with nothing but the log's verifier key: the origin, the log's verifier key text, the signed
 * checkpoint of size N verbatim and the stored LogEntry bytes 0..N-1 verbatim. The byte format
 * (magic, version, length-prefixed records) is documented in docs/FORMAT.md "Export bundles".
 *
 * A bundle is written to a temporary file beside its path (mode 0600: it holds personal data),
 * fsynced and then renamed, so a failed or interrupted export leaves no partial file at the path.
 * Writing and verifying stream: memory does not grow with the log, except the verifier's table of
 * event ids (about 25 bytes per entry).
 */
#ifndef JPL_BUNDLE_H
#define JPL_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jpl/err.h"
#include "jpl/ledger.h"
#include "jpl/note.h"
#include "jpl/verify.h"

#define JPL_BUNDLE_MAGIC "JPLEXPRT" /* 8 bytes, no NUL */
#define JPL_BUNDLE_MAGIC_LEN 8
#define JPL_BUNDLE_VERSION 1u

typedef struct jpl_bundle_writer jpl_bundle_writer;

/* Starts the bundle that will be at path, for the signed checkpoint note[0..len) of the log
 * called origin whose verifier key text is log_vkey: writes the header and those records to a
 * temporary file. The checkpoint must parse and name origin; its size is the number of entries
 * the bundle must get. Errors: JPL_ERR_EXISTS if path exists and !force; BAD_INPUT for a
 * checkpoint that does not parse; IO. */
jpl_err jpl_bundle_create(const char *path, bool force, const char *origin, const char *log_vkey,
                          const char *note, size_t len, jpl_bundle_writer **out, jpl_error *e);
/* The bundle's checkpoint, parsed: its size is how many entries the bundle takes. Borrowed for
 * w's lifetime. */
const jpl_checkpoint *jpl_bundle_writer_checkpoint(const jpl_bundle_writer *w);
/* Appends the stored bytes of the next entry (seq = entries put so far). BAD_INPUT beyond the
 * checkpoint's size, TOO_LARGE over the entry size limit, IO. */
jpl_err jpl_bundle_put_entry(jpl_bundle_writer *w, const uint8_t *bytes, size_t len, jpl_error *e);
/* Ends the bundle (every entry of the checkpoint must be in), fsyncs it and moves it to path
 * (with force replacing a file there, without it failing with JPL_ERR_EXISTS if one appeared),
 * then fsyncs the directory. *bytes_out: the file's size. Frees w in every case; on failure
 * nothing is left at the temporary name or changed at path. */
jpl_err jpl_bundle_commit(jpl_bundle_writer *w, uint64_t *bytes_out, jpl_error *e);
/* Removes the temporary file and frees w; accepts NULL. */
void jpl_bundle_abort(jpl_bundle_writer *w);

typedef struct {
    uint64_t size;                /* entries exported (the checkpoint's size) */
    uint64_t bytes;               /* size of the bundle file */
    uint8_t root[JPL_SHA256_LEN]; /* the checkpoint's root */
    double seconds;
} jpl_export_report;

/* Exports the entries of l up to the checkpoint of size `size` (0: the latest checkpoint; later
 * entries are left out) to a bundle at path. progress (may be NULL) is called every few
 * thousand entries. Errors: NOT_FOUND (no checkpoint of that size), CORRUPT (an entry is
 * missing), those of the writer. */
jpl_err jpl_ledger_export(jpl_ledger *l, uint64_t size, const char *path, bool force,
                          jpl_verify_progress_fn progress, void *pctx, jpl_export_report *rep,
                          jpl_error *e);

/* Verifies the bundle at path with nothing but log_key, the log's verifier key given out of
 * band: the bundle's key is that key; the checkpoint is signed by it and names the bundle's
 * origin; then every entry with the checks of `jpledger verify` (decodes, holds its seq, signed
 * by a key registered and not revoked at its position whose role may issue it), every event id
 * is unique, exactly the checkpoint's size of entries, and their Merkle root is the
 * checkpoint's. threads <= 0: one per core. Returns JPL_OK or the first failure's code with e
 * naming the position (seq, or the byte offset of a malformed record) and the reason;
 * rep->entry_failed and first_bad_seq say which entry when the failure is about one.
 * Errors: NOT_FOUND (no such file), BAD_INPUT (not a bundle, unsupported version), BAD_SIGNATURE
 * (another log key, a checkpoint or entry signature that does not verify), CORRUPT, the entry
 * checks' codes (UNKNOWN_KEY, KEY_REVOKED, FORBIDDEN), IO. */
jpl_err jpl_bundle_verify(const char *path, const jpl_note_verifier *log_key, int threads,
                          jpl_verify_progress_fn progress, void *pctx, jpl_verify_report *rep,
                          jpl_error *e);

#endif
