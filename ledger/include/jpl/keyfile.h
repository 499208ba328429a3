/*
 * Key files: signed-note key texts on disk. Secret files are created mode 0600 (never
 * overwritten) and refused when group or others may read them. Also small whole-file reads and
 * atomic replacements (state files).
 */
#ifndef JPL_KEYFILE_H
#define JPL_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "jpl/err.h"
#include "jpl/note.h"

/* Writes text plus a newline to a new file at path (fails with JPL_ERR_EXISTS if it exists);
 * secret files get mode 0600, others 0644. The data is fsynced. */
jpl_err jpl_keyfile_write(const char *path, const char *text, bool secret, jpl_error *e);

/* Reads a signer key file; refuses files readable by group/others (JPL_ERR_FORBIDDEN). */
jpl_err jpl_keyfile_read_signer(const char *path, jpl_note_signer *out, jpl_error *e);

/* Reads a verifier key given either as the key text itself or as a path to a file holding it. */
jpl_err jpl_keyfile_read_verifier(const char *text_or_path, jpl_note_verifier *out, jpl_error *e);

/* Reads a whole file of at most max bytes into a malloc'd NUL-terminated buffer. */
jpl_err jpl_file_read_all(const char *path, size_t max, char **out, size_t *len_out, jpl_error *e);

/* Replaces (or creates) the file at path with data[0..len) atomically: a temporary file beside
 * it, fsynced, renamed over path, then the directory fsynced. Mode 0600. Errors: IO. */
jpl_err jpl_file_replace(const char *path, const void *data, size_t len, jpl_error *e);

/* True if dir exists and holds anything besides "." and "..". */
bool jpl_dir_has_entries(const char *dir);

/* fsyncs the directory that holds path (after creating or renaming a file in it). */
jpl_err jpl_fsync_parent(const char *path, jpl_error *e);

#endif
