/*
 * C2SP signed notes (c2sp.org/signed-note) and transparency-log checkpoints
 * (c2sp.org/tlog-checkpoint), Ed25519 only, text-compatible with Go's golang.org/x/mod/sumdb/note:
 * a verifier key printed here is accepted by Go's note.NewVerifier and a note signed here is opened
 * by Go's note.Open, and the other way round.
 *
 * Key texts:
 *   signer key    PRIVATE+KEY+<name>+<key id, 8 hex>+<base64(0x01 || 32-byte Ed25519 seed)>
 *   verifier key  <name>+<key id, 8 hex>+<base64(0x01 || 32-byte Ed25519 public key)>
 *   key id        first 4 bytes, big-endian, of SHA-256(name || 0x0A || 0x01 || public key)
 * A name is 1..JPL_NOTE_NAME_MAX bytes of valid UTF-8 with no '+', no Unicode space (as Go's
 * unicode.IsSpace) and no ASCII control character (below 0x20, or 0x7F).
 *
 * A signed note:
 *   If you think cryptography is the answer to your problem,\n      <- text (ends in a newline;
 *   then you don't know what your problem is.\n                         may contain blank lines)
 *   \n                                                                  <- the LAST blank line
 *   — PeterNeumann x08go/ZJkuBS9UG/...RyyBwJnAM=\n                       <- signature lines:
 *                                     U+2014 SP name SP base64(key id BE32 || signature)
 * The whole note is valid UTF-8 without ASCII control characters other than newline.
 *
 * Decisions (where Go, C2SP and this code could differ):
 * - Only signature type 0x01 (Ed25519) is supported. A verifier or signer key of any other type
 *   (0x02 ECDSA, 0x04 cosignature, ...) is refused at parse time with JPL_ERR_BAD_INPUT and the
 *   message "unsupported signature type 0x.. ...". Signatures made with such keys are still parsed
 *   in notes and counted as signatures from unknown keys.
 * - Opening: signatures from unknown (name, key id) pairs are ignored (listed, not verified).
 *   Every signature from a known key is verified, repeated ones too (C2SP: "MUST verify"; Go skips
 *   repeats); one that fails makes the whole note fail with JPL_ERR_BAD_SIGNATURE. If no signature
 *   is from a known key the note fails with JPL_ERR_UNKNOWN_KEY (Go: UnverifiedNoteError).
 * - Limits: a note is at most JPL_NOTE_MAX_SIZE bytes and has at most JPL_NOTE_SIGS_MAX signature
 *   lines (as Go; C2SP requires at least 16), each signature at most JPL_NOTE_SIG_B64_MAX base64
 *   characters (enough for ML-DSA-87); beyond a limit: JPL_ERR_TOO_LARGE. Other syntax errors,
 *   including those Go calls "malformed note": JPL_ERR_BAD_INPUT.
 * - Base64 is decoded strictly (padding required, unused bits zero), and key ids parse as exactly
 *   8 hex digits of either case (printed lowercase).
 *
 * Checkpoint text (the note text of a checkpoint):
 *   <origin>\n<tree size, decimal>\n<base64 of the 32-byte SHA-256 root>\n[extension line\n]...
 * Parsing is strict C2SP: non-empty origin, size without sign or leading zeros (except "0") that
 * fits uint64, root hash of exactly 32 bytes, extension lines non-empty. The transparency-dev
 * formats library is more lenient (any root hash length, empty extension lines): its test bodies
 * with non-32-byte "hashes" are rejected here. The origin may contain spaces (Go's checksum
 * database uses "go.sum database tree"); whether the signing key's name matches the origin (a
 * C2SP SHOULD) is left to the caller, who chooses the verifiers.
 *
 * All structs are caller-owned and fixed-size; nothing here allocates. Functions returning jpl_err
 * fill e (may be NULL) with a message naming what was wrong, and assign their _out parameters only
 * on success. Call jpl_crypto_init() once before using any of them.
 */
#ifndef JPL_NOTE_H
#define JPL_NOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jpl/crypto.h"
#include "jpl/err.h"

#define JPL_NOTE_NAME_MAX 128        /* bytes of a key name, without the NUL */
#define JPL_NOTE_MAX_SIZE (1u << 20) /* bytes of a whole signed note */
#define JPL_NOTE_SIGS_MAX 100        /* signature lines in a note */
#define JPL_NOTE_SIG_B64_MAX 8192    /* base64 chars of one signature (key id included) */
#define JPL_NOTE_ALG_ED25519 0x01    /* signature type byte of Ed25519 */
#define JPL_NOTE_VKEY_SIZE (JPL_NOTE_NAME_MAX + 56)  /* verifier key text + NUL */
#define JPL_NOTE_SKEY_SIZE (JPL_NOTE_VKEY_SIZE + 12) /* signer key text + NUL */
#define JPL_NOTE_NO_VERIFIER SIZE_MAX                /* jpl_note_sig.verifier of an unknown key */

#define JPL_CHECKPOINT_ORIGIN_MAX 255 /* bytes of a checkpoint origin, without the NUL */

/* An Ed25519 note signer. Secret: wipe with jpl_note_signer_wipe() when done. */
typedef struct {
    char name[JPL_NOTE_NAME_MAX + 1]; /* NUL-terminated */
    uint32_t key_id;
    uint8_t pk[JPL_ED25519_PK_LEN];
    uint8_t sk[JPL_ED25519_SK_LEN]; /* seed || pk (libsodium layout) */
} jpl_note_signer;

/* An Ed25519 note verifier (public). */
typedef struct {
    char name[JPL_NOTE_NAME_MAX + 1]; /* NUL-terminated */
    uint32_t key_id;
    uint8_t pk[JPL_ED25519_PK_LEN];
} jpl_note_verifier;

/* One signature line of an opened note. Offsets index the note bytes given to jpl_note_open. */
typedef struct {
    size_t line_off; /* start of the line (the em dash) */
    size_t name_off; /* key name */
    size_t name_len;
    size_t sig_off; /* base64 signature (key id included) */
    size_t sig_len;
    uint32_t key_id;
    size_t verifier; /* index into the verifiers whose key verified it, or JPL_NOTE_NO_VERIFIER */
} jpl_note_sig;

/* What jpl_note_open / jpl_note_parse found. The signed text is note[0 .. text_len). */
typedef struct {
    size_t text_len;
    size_t n_sigs; /* signature lines, in order, in sigs[] */
    jpl_note_sig sigs[JPL_NOTE_SIGS_MAX];
    size_t n_verified;   /* distinct known keys whose signature verified */
    size_t n_unverified; /* signatures from unknown keys; identical lines counted once (as Go) */
} jpl_note_result;

/* A parsed checkpoint text. */
typedef struct {
    char origin[JPL_CHECKPOINT_ORIGIN_MAX + 1]; /* NUL-terminated */
    uint64_t size;
    uint8_t root[JPL_SHA256_LEN];
    size_t ext_off; /* offset of the first extension line in the text (= text length if none) */
    size_t n_ext;   /* number of extension lines */
} jpl_checkpoint;

/* True iff name[0..len) is a valid key name (see the top of this file). */
bool jpl_note_name_valid(const char *name, size_t len);

/* The Ed25519 key id of (name, pk): SHA-256(name || 0x0A || 0x01 || pk)[:4], big-endian.
 * name is NUL-terminated. */
uint32_t jpl_note_key_id(const char *name, const uint8_t pk[JPL_ED25519_PK_LEN]);

/* Makes a fresh random signer called name (NUL-terminated).
 * Errors: BAD_INPUT (invalid name), INTERNAL (key generation failed). */
JPL_MUST_CHECK jpl_err jpl_note_keygen(const char *name, jpl_note_signer *signer_out, jpl_error *e);

/* Makes the signer called name whose Ed25519 seed is seed (the seed is copied; the caller wipes
 * its own copy). Errors: BAD_INPUT (invalid name), INTERNAL. */
JPL_MUST_CHECK jpl_err jpl_note_signer_from_seed(const char *name,
                                                 const uint8_t seed[JPL_ED25519_SEED_LEN],
                                                 jpl_note_signer *signer_out, jpl_error *e);

/* Parses a signer key text[0..len) ("PRIVATE+KEY+..."; no surrounding whitespace). Checks the
 * name, that the key id is 8 hex digits, the base64, the type byte (0x01), the seed length (32)
 * and that the key id matches the name and the derived public key.
 * Errors: BAD_INPUT with a message naming the part that is wrong. */
JPL_MUST_CHECK jpl_err jpl_note_signer_parse(const char *text, size_t len,
                                             jpl_note_signer *signer_out, jpl_error *e);

/* Parses a verifier key text[0..len) ("<name>+<id>+<base64>"; no surrounding whitespace), with
 * the same checks as jpl_note_signer_parse. A key of a type other than Ed25519 is refused with
 * "unsupported signature type 0x..". Errors: BAD_INPUT. */
JPL_MUST_CHECK jpl_err jpl_note_verifier_parse(const char *text, size_t len,
                                               jpl_note_verifier *verifier_out, jpl_error *e);

/* Writes the signer key text of signer, NUL-terminated, into buf[0..cap) (JPL_NOTE_SKEY_SIZE is
 * always enough). The text holds the secret seed: the caller wipes buf when done.
 * Errors: BAD_INPUT (signer's name invalid), TOO_LARGE (cap too small). */
JPL_MUST_CHECK jpl_err jpl_note_signer_format(const jpl_note_signer *signer, char *buf, size_t cap,
                                              jpl_error *e);

/* Writes the verifier key text of verifier, NUL-terminated, into buf[0..cap)
 * (JPL_NOTE_VKEY_SIZE is always enough). Errors: BAD_INPUT (name invalid), TOO_LARGE. */
JPL_MUST_CHECK jpl_err jpl_note_verifier_format(const jpl_note_verifier *verifier, char *buf,
                                                size_t cap, jpl_error *e);

/* The verifier of a signer (name, key id, public key). Cannot fail. */
void jpl_note_verifier_from_signer(const jpl_note_signer *signer, jpl_note_verifier *verifier_out);

/* Makes the verifier called name (NUL-terminated) for the Ed25519 public key pk, computing its
 * key id. Errors: BAD_INPUT (invalid name). */
JPL_MUST_CHECK jpl_err jpl_note_verifier_from_pubkey(const char *name,
                                                     const uint8_t pk[JPL_ED25519_PK_LEN],
                                                     jpl_note_verifier *verifier_out, jpl_error *e);

/* Wipes a signer (secret key included). Accepts NULL. */
void jpl_note_signer_wipe(jpl_note_signer *signer);

/* Signs text[0..text_len) with signer and writes the signed note
 *   text || "\n" || "— " name " " base64(key id BE32 || Ed25519 signature) "\n"
 * plus a NUL terminator (not counted) into out[0..out_cap), setting *out_len. The text must be
 * non-empty, end in a newline, be valid UTF-8 and hold no ASCII control character other than
 * newline (it may contain blank lines: openers split at the last one). out may equal text (the
 * text is then signed in place); other overlaps are not allowed.
 * Errors: BAD_INPUT (bad text; signer name invalid or key id not matching its key), TOO_LARGE
 * (the note would exceed JPL_NOTE_MAX_SIZE, or out_cap is too small). */
JPL_MUST_CHECK jpl_err jpl_note_sign(const char *text, size_t text_len,
                                     const jpl_note_signer *signer, char *out, size_t out_cap,
                                     size_t *out_len, jpl_error *e);

/* Cosigns the signed note note[0..len): appends signer's signature over the note's text as one
 * more signature line, after the existing ones, which are kept verbatim and NOT verified (open
 * the note with the keys you trust first). This is how witnesses cosign checkpoints with plain
 * Ed25519 keys (the sum.golang.org example of the vectors). Writes the cosigned note plus a NUL
 * (not counted) into out[0..out_cap), setting *out_len; out must not overlap note.
 * Errors: those of jpl_note_parse; BAD_INPUT (signer invalid, text not signable); EXISTS (the
 * note already has a signature line with the signer's name and key id); TOO_LARGE
 * (JPL_NOTE_SIGS_MAX lines already, the note would exceed JPL_NOTE_MAX_SIZE, out_cap too
 * small). */
JPL_MUST_CHECK jpl_err jpl_note_cosign(const char *note, size_t len, const jpl_note_signer *signer,
                                       char *out, size_t out_cap, size_t *out_len, jpl_error *e);

/* Opens the signed note note[0..len) against the known verifiers[0..n_verifiers) (borrowed for
 * the call): splits text and signatures at the last blank line, parses every signature line,
 * verifies every signature whose (name, key id) is known and ignores the others.
 * On success fills *result_out (offsets into note; the caller keeps note alive to use them).
 * Errors: TOO_LARGE (len > JPL_NOTE_MAX_SIZE, more than JPL_NOTE_SIGS_MAX signatures, a
 * signature longer than JPL_NOTE_SIG_B64_MAX); BAD_INPUT (malformed note, or two verifiers with
 * the same name and key id both matching a signature); BAD_SIGNATURE (a known key's signature
 * does not verify); UNKNOWN_KEY (well-formed, but no signature is from a known key). */
JPL_MUST_CHECK jpl_err jpl_note_open(const char *note, size_t len,
                                     const jpl_note_verifier *verifiers, size_t n_verifiers,
                                     jpl_note_result *result_out, jpl_error *e);

/* Parses note[0..len) like jpl_note_open without verifying anything: every signature is listed
 * as unknown. For inspection only: the text of an unverified note MUST NOT be trusted.
 * Errors: TOO_LARGE, BAD_INPUT as jpl_note_open. */
JPL_MUST_CHECK jpl_err jpl_note_parse(const char *note, size_t len, jpl_note_result *result_out,
                                      jpl_error *e);

/* True iff verifier number verifier_index verified a signature in result. */
bool jpl_note_result_verified_by(const jpl_note_result *result, size_t verifier_index);

/* Writes the checkpoint text "origin\n<size>\n<base64 root>\n", NUL-terminated, into
 * buf[0..cap), setting *len_out (NUL not counted). origin (NUL-terminated) must be non-empty,
 * at most JPL_CHECKPOINT_ORIGIN_MAX bytes of valid UTF-8 without control characters.
 * Errors: BAD_INPUT (origin), TOO_LARGE (cap too small). */
JPL_MUST_CHECK jpl_err jpl_checkpoint_format(const char *origin, uint64_t size,
                                             const uint8_t root[JPL_SHA256_LEN], char *buf,
                                             size_t cap, size_t *len_out, jpl_error *e);

/* Parses the checkpoint text text[0..len) (the note text, ending in a newline) into
 * *checkpoint_out. Errors: BAD_INPUT naming the bad line; TOO_LARGE (origin longer than
 * JPL_CHECKPOINT_ORIGIN_MAX, or len > JPL_NOTE_MAX_SIZE). */
JPL_MUST_CHECK jpl_err jpl_checkpoint_parse(const char *text, size_t len,
                                            jpl_checkpoint *checkpoint_out, jpl_error *e);

/* Opens a signed checkpoint: jpl_note_open, then jpl_checkpoint_parse of its text, then, if
 * expected_origin is not NULL, checks the origin equals it. result_out may be NULL.
 * Errors: those of jpl_note_open and jpl_checkpoint_parse; BAD_INPUT if the origin differs. */
JPL_MUST_CHECK jpl_err jpl_checkpoint_open(const char *note, size_t len,
                                           const char *expected_origin,
                                           const jpl_note_verifier *verifiers, size_t n_verifiers,
                                           jpl_checkpoint *checkpoint_out,
                                           jpl_note_result *result_out, jpl_error *e);

#endif
