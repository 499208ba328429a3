/* libsodium adapter: the one file that calls libsodium (see crypto.h). */
#include "jpl/crypto.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

bool jpl_crypto_init(void)
{
    return sodium_init() >= 0;
}

void jpl_sha256_parts(uint8_t out[JPL_SHA256_LEN], const jpl_bytes *parts, size_t n)
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    for (size_t i = 0; i < n; i++)
        crypto_hash_sha256_update(&st, parts[i].data, parts[i].len);
    crypto_hash_sha256_final(&st, out);
}

void jpl_sha256(uint8_t out[JPL_SHA256_LEN], const void *data, size_t len)
{
    crypto_hash_sha256(out, data, len);
}

uint64_t jpl_siphash(const uint8_t key[JPL_SIPHASH_KEY_LEN], const void *data, size_t len)
{
    uint8_t out[crypto_shorthash_siphash24_BYTES];
    crypto_shorthash_siphash24(out, data, len, key);
    uint64_t h = 0;
    for (size_t i = 0; i < sizeof out; i++)
        h = h << 8 | out[i];
    return h;
}

bool jpl_ed25519_from_seed(const uint8_t seed[JPL_ED25519_SEED_LEN],
                           uint8_t pk_out[JPL_ED25519_PK_LEN], uint8_t sk_out[JPL_ED25519_SK_LEN])
{
    return crypto_sign_seed_keypair(pk_out, sk_out, seed) == 0;
}

bool jpl_ed25519_keypair(uint8_t pk_out[JPL_ED25519_PK_LEN], uint8_t sk_out[JPL_ED25519_SK_LEN])
{
    return crypto_sign_keypair(pk_out, sk_out) == 0;
}

void jpl_ed25519_sign(uint8_t sig_out[JPL_ED25519_SIG_LEN], const void *msg, size_t len,
                      const uint8_t sk[JPL_ED25519_SK_LEN])
{
    crypto_sign_detached(sig_out, NULL, msg, len, sk);
}

/* Ed25519 (pure) signs the whole message, so prefix || msg must be contiguous. The message is
 * not secret: plain malloc (sodium_malloc maps guard pages per call, a syscall storm at
 * thousands of signatures a second). */
static uint8_t *concat(const void *a, size_t alen, const void *b, size_t blen)
{
    uint8_t *buf = malloc(alen + blen + 1);
    if (buf == NULL)
        return NULL;
    if (alen)
        memcpy(buf, a, alen);
    if (blen)
        memcpy(buf + alen, b, blen);
    return buf;
}

void jpl_ed25519_sign2(uint8_t sig_out[JPL_ED25519_SIG_LEN], const void *prefix, size_t plen,
                       const void *msg, size_t len, const uint8_t sk[JPL_ED25519_SK_LEN])
{
    uint8_t stackbuf[4096];
    uint8_t *buf = plen + len <= sizeof stackbuf ? stackbuf : concat(prefix, plen, msg, len);
    if (buf == NULL) {
        memset(sig_out, 0, JPL_ED25519_SIG_LEN); /* an all-zero signature never verifies */
        return;
    }
    if (buf == stackbuf) {
        memcpy(buf, prefix, plen);
        if (len)
            memcpy(buf + plen, msg, len);
    }
    crypto_sign_detached(sig_out, NULL, buf, plen + len, sk);
    if (buf != stackbuf)
        free(buf);
}

bool jpl_ed25519_verify(const uint8_t sig[JPL_ED25519_SIG_LEN], const void *msg, size_t len,
                        const uint8_t pk[JPL_ED25519_PK_LEN])
{
    return crypto_sign_verify_detached(sig, msg, len, pk) == 0;
}

bool jpl_ed25519_verify2(const uint8_t sig[JPL_ED25519_SIG_LEN], const void *prefix, size_t plen,
                         const void *msg, size_t len, const uint8_t pk[JPL_ED25519_PK_LEN])
{
    uint8_t stackbuf[4096];
    uint8_t *buf = stackbuf;
    if (plen + len > sizeof stackbuf) {
        buf = concat(prefix, plen, msg, len);
        if (buf == NULL)
            return false;
    } else {
        memcpy(buf, prefix, plen);
        if (len)
            memcpy(buf + plen, msg, len);
    }
    bool ok = crypto_sign_verify_detached(sig, buf, plen + len, pk) == 0;
    if (buf != stackbuf)
        free(buf);
    return ok;
}

void jpl_random_bytes(void *buf, size_t len)
{
    randombytes_buf(buf, len);
}

void jpl_memzero(void *p, size_t len)
{
    sodium_memzero(p, len);
}

bool jpl_memeq(const void *a, const void *b, size_t len)
{
    return sodium_memcmp(a, b, len) == 0;
}

size_t jpl_base64_size(size_t len)
{
    return sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
}

bool jpl_base64_encode(char *out, size_t outcap, const void *data, size_t len)
{
    if (outcap < jpl_base64_size(len))
        return false;
    sodium_bin2base64(out, outcap, data, len, sodium_base64_VARIANT_ORIGINAL);
    return true;
}

/* 1 if lo <= c <= hi, without a data-dependent branch (seeds of signer keys pass here). */
static unsigned in_range(unsigned c, unsigned lo, unsigned hi)
{
    return (unsigned)((c - lo) <= (hi - lo));
}

/* libsodium 1.0.18 decodes bytes >= 0x80 as '/', which would let one base64 text have many
 * spellings; only the RFC 4648 alphabet and padding are accepted. */
static bool base64_alphabet_only(const char *s, size_t len)
{
    unsigned bad = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned c = (unsigned char)s[i];
        unsigned ok = in_range(c, 'A', 'Z') | in_range(c, 'a', 'z') | in_range(c, '0', '9') |
                      in_range(c, '+', '+') | in_range(c, '/', '/') | in_range(c, '=', '=');
        bad |= ok ^ 1u;
    }
    return bad == 0;
}

bool jpl_base64_decode(uint8_t *out, size_t outcap, size_t *len_out, const char *s, size_t slen)
{
    size_t n = 0;
    const char *end = NULL;
    if (slen % 4 != 0 || !base64_alphabet_only(s, slen))
        return false;
    if (sodium_base642bin(out, outcap, s, slen, NULL, &n, &end, sodium_base64_VARIANT_ORIGINAL) !=
        0)
        return false;
    if (end != s + slen)
        return false;
    *len_out = n;
    return true;
}

void jpl_hex_encode(char *out, const void *data, size_t len)
{
    sodium_bin2hex(out, 2 * len + 1, data, len);
}

bool jpl_hex_decode(uint8_t *out, size_t outlen, const char *s, size_t slen)
{
    size_t n = 0;
    const char *end = NULL;
    if (slen != 2 * outlen)
        return false;
    if (sodium_hex2bin(out, outlen, s, slen, NULL, &n, &end) != 0)
        return false;
    return n == outlen && end == s + slen;
}
