/*
 * Fuzzes RFC 9162 proof verification on untrusted bytes: jpl_merkle_proof_parse, then
 * jpl_merkle_verify_inclusion or jpl_merkle_verify_consistency, with an independent oracle for
 * the one thing a forged proof can play with: its length. Input layout (little-endian; missing
 * bytes read as zero):
 *
 *   byte 0      mode: bit 0 = consistency (else inclusion), bit 1 = generated (below)
 *   bytes 1-8   a: leaf index / size1
 *   bytes 9-16  b: tree size / size2
 *   bytes 17-48 h1: leaf hash / root1
 *   bytes 49-80 h2: root / root2
 *   then        proof elements, each a length byte L and L bytes (the last may be short)
 *
 * Checks: typed errors only; a proof whose length differs from the RFC 9162 PATH / PROOF length
 * for (a, b) is refused as BAD_INPUT, one of the right length is either accepted or CORRUPT; an
 * accepted proof stops verifying when the root (or leaf hash, or root1) changes by one bit.
 *
 * In generated mode the harness builds a tree of 1 + b % 200 leaves (leaf i is the hash of
 * h1 || i) with jpl_merkle_frontier_append into an in-memory node store, proves inclusion of
 * leaf a % size and consistency from 1 + a % size, and checks that the proofs verify, that the
 * roots of jpl_merkle_root and the frontier agree, and that flipping a bit of the proof, chosen
 * by h2, breaks it. Corpus: tests/fuzz/corpus/merkle/.
 */
#include "fuzz.h"

#include <string.h>

#include "jpl/merkle.h"

#define HDR 81
#define MAX_ELEMS 80
#define GEN_MAX_LEAVES 200
#define GEN_LEVELS 9 /* 2^8 > GEN_MAX_LEAVES */

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t largest_pow2_below(uint64_t n) /* n >= 2 */
{
    uint64_t k = 1;
    while (k < n - k)
        k <<= 1;
    return k;
}

/* Length of RFC 9162 PATH(m, D[n]) for m < n. */
static size_t path_len(uint64_t m, uint64_t n)
{
    size_t len = 0;
    while (n > 1) {
        uint64_t k = largest_pow2_below(n);
        if (m < k) {
            n = k;
        } else {
            m -= k;
            n -= k;
        }
        len++;
    }
    return len;
}

/* Length of RFC 9162 PROOF(m, D[n]) for 0 < m <= n (SUBPROOF with b = true). */
static size_t proof_len(uint64_t m, uint64_t n)
{
    size_t len = 0;
    bool b = true;
    while (m != n) {
        uint64_t k = largest_pow2_below(n);
        if (m <= k) {
            n = k;
        } else {
            m -= k;
            n -= k;
            b = false;
        }
        len++;
    }
    return len + (b ? 0 : 1);
}

static void check_untrusted(const uint8_t *hdr, const uint8_t *rest, size_t rest_len)
{
    jpl_bytes elems[MAX_ELEMS];
    size_t n = 0, pos = 0;
    while (pos < rest_len && n < MAX_ELEMS) {
        size_t l = rest[pos++];
        if (l > rest_len - pos)
            l = rest_len - pos;
        elems[n].data = rest + pos;
        elems[n].len = l;
        n++;
        pos += l;
    }
    static uint8_t path[JPL_MERKLE_MAX_PATH][JPL_MERKLE_HASH_LEN];
    size_t plen = 0;
    jpl_error e = {0};
    jpl_err rc = jpl_merkle_proof_parse(elems, n, path, &plen, &e);
    if (rc != JPL_OK) {
        FUZZ_CHECK(e.code == rc && e.msg[0] != '\0');
        bool short_elem = false;
        for (size_t i = 0; i < n; i++)
            short_elem = short_elem || elems[i].len != JPL_MERKLE_HASH_LEN;
        FUZZ_CHECK(rc == (n > JPL_MERKLE_MAX_PATH ? JPL_ERR_TOO_LARGE : JPL_ERR_BAD_INPUT));
        FUZZ_CHECK(n > JPL_MERKLE_MAX_PATH || short_elem);
        return;
    }
    FUZZ_CHECK(plen == n);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(elems[i].len == JPL_MERKLE_HASH_LEN &&
                   memcmp(path[i], elems[i].data, JPL_MERKLE_HASH_LEN) == 0);
    bool consistency = hdr[0] & 1;
    uint64_t a = le64(hdr + 1), b = le64(hdr + 9);
    uint8_t h1[JPL_MERKLE_HASH_LEN], h2[JPL_MERKLE_HASH_LEN];
    memcpy(h1, hdr + 17, sizeof h1);
    memcpy(h2, hdr + 49, sizeof h2);
    const uint8_t(*p)[JPL_MERKLE_HASH_LEN] = (const uint8_t(*)[JPL_MERKLE_HASH_LEN])path;
    if (!consistency) {
        rc = jpl_merkle_verify_inclusion(a, b, h1, p, plen, h2, &e);
        FUZZ_CHECK(rc == JPL_OK || rc == JPL_ERR_BAD_INPUT || rc == JPL_ERR_CORRUPT);
        bool shape_ok = a < b && plen == path_len(a, b);
        FUZZ_CHECK(shape_ok == (rc != JPL_ERR_BAD_INPUT));
        if (rc == JPL_OK) {
            h2[0] ^= 1;
            FUZZ_CHECK(jpl_merkle_verify_inclusion(a, b, h1, p, plen, h2, NULL) == JPL_ERR_CORRUPT);
            h2[0] ^= 1;
            h1[31] ^= 0x80;
            FUZZ_CHECK(jpl_merkle_verify_inclusion(a, b, h1, p, plen, h2, NULL) == JPL_ERR_CORRUPT);
        }
    } else {
        rc = jpl_merkle_verify_consistency(a, b, h1, h2, p, plen, &e);
        FUZZ_CHECK(rc == JPL_OK || rc == JPL_ERR_BAD_INPUT || rc == JPL_ERR_CORRUPT);
        bool shape_ok = a >= 1 && a <= b && plen == proof_len(a, b);
        FUZZ_CHECK(shape_ok == (rc != JPL_ERR_BAD_INPUT));
        if (rc == JPL_OK) {
            h2[0] ^= 1;
            FUZZ_CHECK(jpl_merkle_verify_consistency(a, b, h1, h2, p, plen, NULL) ==
                       JPL_ERR_CORRUPT);
            h2[0] ^= 1;
            h1[31] ^= 0x80;
            FUZZ_CHECK(jpl_merkle_verify_consistency(a, b, h1, h2, p, plen, NULL) ==
                       JPL_ERR_CORRUPT);
        }
    }
}

/* ---- generated mode: an in-memory node store ---- */

static uint8_t nodes[GEN_LEVELS][GEN_MAX_LEAVES][JPL_MERKLE_HASH_LEN];
static bool have[GEN_LEVELS][GEN_MAX_LEAVES];

static jpl_err emit(void *ctx, uint32_t level, uint64_t index,
                    const uint8_t hash[JPL_MERKLE_HASH_LEN], jpl_error *e)
{
    (void)ctx;
    if (level >= GEN_LEVELS || index >= GEN_MAX_LEAVES)
        return jpl_fail(e, JPL_ERR_INTERNAL, "node (%u, %llu) out of range", level,
                        (unsigned long long)index);
    memcpy(nodes[level][index], hash, JPL_MERKLE_HASH_LEN);
    have[level][index] = true;
    return JPL_OK;
}

static jpl_err get(void *ctx, uint32_t level, uint64_t index, uint8_t out[JPL_MERKLE_HASH_LEN],
                   jpl_error *e)
{
    (void)ctx;
    if (level >= GEN_LEVELS || index >= GEN_MAX_LEAVES || !have[level][index])
        return jpl_fail(e, JPL_ERR_NOT_FOUND, "node (%u, %llu) not stored", level,
                        (unsigned long long)index);
    memcpy(out, nodes[level][index], JPL_MERKLE_HASH_LEN);
    return JPL_OK;
}

static void check_generated(const uint8_t *hdr)
{
    uint64_t size = 1 + le64(hdr + 9) % GEN_MAX_LEAVES;
    uint64_t index = le64(hdr + 1) % size, size1 = 1 + le64(hdr + 1) % size;
    memset(have, 0, sizeof have);
    jpl_merkle_frontier f, f1;
    jpl_merkle_frontier_init(&f);
    uint8_t leaf[JPL_MERKLE_HASH_LEN], root[JPL_MERKLE_HASH_LEN], root1[JPL_MERKLE_HASH_LEN];
    uint8_t leaf_at_index[JPL_MERKLE_HASH_LEN] = {0};
    for (uint64_t i = 0; i < size; i++) {
        uint8_t data[JPL_MERKLE_HASH_LEN + 8];
        memcpy(data, hdr + 17, JPL_MERKLE_HASH_LEN);
        for (int j = 0; j < 8; j++)
            data[JPL_MERKLE_HASH_LEN + j] = (uint8_t)(i >> (8 * j));
        jpl_merkle_hash_leaf(leaf, data, sizeof data);
        if (i == index)
            memcpy(leaf_at_index, leaf, sizeof leaf);
        FUZZ_CHECK(jpl_merkle_frontier_append(&f, leaf, emit, NULL, NULL) == JPL_OK);
        if (i + 1 == size1)
            f1 = f;
    }
    FUZZ_CHECK(f.size == size);
    jpl_merkle_reader r = {get, NULL};
    jpl_merkle_frontier_root(&f, root);
    uint8_t stored_root[JPL_MERKLE_HASH_LEN];
    FUZZ_CHECK(jpl_merkle_root(&r, size, stored_root, NULL) == JPL_OK);
    FUZZ_CHECK(memcmp(root, stored_root, sizeof root) == 0);
    jpl_merkle_frontier_root(&f1, root1);
    FUZZ_CHECK(jpl_merkle_root(&r, size1, stored_root, NULL) == JPL_OK);
    FUZZ_CHECK(memcmp(root1, stored_root, sizeof root1) == 0);
    jpl_merkle_frontier loaded;
    FUZZ_CHECK(jpl_merkle_frontier_load(&r, size, &loaded, NULL) == JPL_OK);
    FUZZ_CHECK(loaded.size == size);
    jpl_merkle_frontier_root(&loaded, stored_root);
    FUZZ_CHECK(memcmp(root, stored_root, sizeof root) == 0);

    static uint8_t path[JPL_MERKLE_MAX_PATH][JPL_MERKLE_HASH_LEN];
    size_t plen = 0;
    const uint8_t(*p)[JPL_MERKLE_HASH_LEN] = (const uint8_t(*)[JPL_MERKLE_HASH_LEN])path;
    FUZZ_CHECK(jpl_merkle_prove_inclusion(&r, index, size, path, &plen, NULL) == JPL_OK);
    FUZZ_CHECK(plen == path_len(index, size));
    FUZZ_CHECK(jpl_merkle_verify_inclusion(index, size, leaf_at_index, p, plen, root, NULL) ==
               JPL_OK);
    if (plen > 0) {
        size_t bit = hdr[49] % (plen * JPL_MERKLE_HASH_LEN * 8);
        path[bit / 256][(bit / 8) % 32] ^= (uint8_t)(1u << (bit % 8));
        FUZZ_CHECK(jpl_merkle_verify_inclusion(index, size, leaf_at_index, p, plen, root, NULL) ==
                   JPL_ERR_CORRUPT);
    }

    FUZZ_CHECK(jpl_merkle_prove_consistency(&r, size1, size, path, &plen, NULL) == JPL_OK);
    FUZZ_CHECK(plen == proof_len(size1, size));
    FUZZ_CHECK(jpl_merkle_verify_consistency(size1, size, root1, root, p, plen, NULL) == JPL_OK);
    if (plen > 0) {
        size_t bit = (size_t)(hdr[50] | hdr[51] << 8) % (plen * JPL_MERKLE_HASH_LEN * 8);
        path[bit / 256][(bit / 8) % 32] ^= (uint8_t)(1u << (bit % 8));
        FUZZ_CHECK(jpl_merkle_verify_consistency(size1, size, root1, root, p, plen, NULL) ==
                   JPL_ERR_CORRUPT);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    uint8_t hdr[HDR] = {0};
    memcpy(hdr, data, size < HDR ? size : HDR);
    if (hdr[0] & 2)
        check_generated(hdr);
    else
        check_untrusted(hdr, size > HDR ? data + HDR : NULL, size > HDR ? size - HDR : 0);
    return 0;
}
