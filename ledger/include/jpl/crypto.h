/*
 * Cryptography adapter: the only code that talks to libsodium. SHA-256, Ed25519, randomness,
 * base64 (RFC 4648 standard alphabet, padded) and hex. Outputs go to caller-owned fixed-size
 * buffers; fallible calls are marked warn_unused_result.
 */
#ifndef JPL_CRYPTO_H
#define JPL_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JPL_SHA256_LEN 32
#define JPL_ED25519_PK_LEN 32
#define JPL_ED25519_SEED_LEN 32
#define JPL_ED25519_SK_LEN 64 /* seed || public key, libsodium layout */
#define JPL_ED25519_SIG_LEN 64

#define JPL_MUST_CHECK __attribute__((warn_unused_result))

/* Initialises libsodium; safe to call many times and from many threads. Returns false on failure.
 */
JPL_MUST_CHECK bool jpl_crypto_init(void);

/* A borrowed byte range. */
typedef struct {
    const uint8_t *data;
    size_t len;
} jpl_bytes;

/* out = SHA-256(parts[0] || ... || parts[n-1]). */
void jpl_sha256_parts(uint8_t out[JPL_SHA256_LEN], const jpl_bytes *parts, size_t n);
/* out = SHA-256(data). */
void jpl_sha256(uint8_t out[JPL_SHA256_LEN], const void *data, size_t len);

/* Derives a key pair from a 32-byte seed. */
JPL_MUST_CHECK bool jpl_ed25519_from_seed(const uint8_t seed[JPL_ED25519_SEED_LEN],
                                          uint8_t pk_out[JPL_ED25519_PK_LEN],
                                          uint8_t sk_out[JPL_ED25519_SK_LEN]);
/* Fresh random key pair. */
JPL_MUST_CHECK bool jpl_ed25519_keypair(uint8_t pk_out[JPL_ED25519_PK_LEN],
                                        uint8_t sk_out[JPL_ED25519_SK_LEN]);
/* Detached signature over msg. */
void jpl_ed25519_sign(uint8_t sig_out[JPL_ED25519_SIG_LEN], const void *msg, size_t len,
                      const uint8_t sk[JPL_ED25519_SK_LEN]);
/* Signature over prefix || msg (domain separation without copying msg). */
void jpl_ed25519_sign2(uint8_t sig_out[JPL_ED25519_SIG_LEN], const void *prefix, size_t plen,
                       const void *msg, size_t len, const uint8_t sk[JPL_ED25519_SK_LEN]);
/* True iff sig is a valid signature of msg by pk (strict RFC 8032 checks of libsodium). */
JPL_MUST_CHECK bool jpl_ed25519_verify(const uint8_t sig[JPL_ED25519_SIG_LEN], const void *msg,
                                       size_t len, const uint8_t pk[JPL_ED25519_PK_LEN]);
/* Verifies a signature over prefix || msg. */
JPL_MUST_CHECK bool jpl_ed25519_verify2(const uint8_t sig[JPL_ED25519_SIG_LEN], const void *prefix,
                                        size_t plen, const void *msg, size_t len,
                                        const uint8_t pk[JPL_ED25519_PK_LEN]);

#define JPL_SIPHASH_KEY_LEN 16
/* SipHash-2-4 of data under key: a keyed 64-bit hash for in-memory tables of untrusted keys
 * (whoever does not know the key cannot make them collide). */
uint64_t jpl_siphash(const uint8_t key[JPL_SIPHASH_KEY_LEN], const void *data, size_t len);

/* Fills buf with cryptographically secure random bytes. */
void jpl_random_bytes(void *buf, size_t len);
/* Wipes len bytes at p (never optimised away). */
void jpl_memzero(void *p, size_t len);
/* Constant-time equality. */
bool jpl_memeq(const void *a, const void *b, size_t len);

/* Bytes needed for base64 of len bytes, including the NUL. */
size_t jpl_base64_size(size_t len);
/* Writes NUL-terminated padded base64 into out (outcap >= jpl_base64_size(len)). */
JPL_MUST_CHECK bool jpl_base64_encode(char *out, size_t outcap, const void *data, size_t len);
/* Strictly decodes padded standard base64 of exactly slen chars. On success *len_out = bytes. */
JPL_MUST_CHECK bool jpl_base64_decode(uint8_t *out, size_t outcap, size_t *len_out, const char *s,
                                      size_t slen);
/* Lowercase hex; out needs 2*len+1. */
void jpl_hex_encode(char *out, const void *data, size_t len);
/* Decodes exactly 2*outlen hex chars (either case) from s of slen chars. */
JPL_MUST_CHECK bool jpl_hex_decode(uint8_t *out, size_t outlen, const char *s, size_t slen);

#endif
