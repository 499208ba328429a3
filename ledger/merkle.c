/*
 * RFC 6962 / RFC 9162 Merkle tree over stored complete-subtree nodes (see merkle.h).
 *
 * The one idea used throughout: every subtree [a, b) that the RFC's recursive split produces
 * starts at a multiple of the largest power of two not above b - a, so it is the concatenation of
 * the complete subtrees given by the binary representation of b - a (largest first), each of them
 * a stored node. range_hash() reads those popcount(b - a) nodes and folds them right to left. A
 * proof walks the RFC recursion from the root down; only the first sibling that lies on the right
 * edge of the tree can be partial, so a proof costs one read per element plus the decomposition of
 * that one sibling. With c = ceil(log2 n): at most c siblings (plus, for a consistency proof, one
 * complete node), and the partial sibling is smaller than a split point <= 2^(c-1), so it costs at
 * most c - 1 reads beyond its own: at most 2c reads in all.
 */
#include "jpl/merkle.h"

#include <inttypes.h>
#include <string.h>

#define HLEN JPL_MERKLE_HASH_LEN

void jpl_merkle_hash_leaf(uint8_t out[HLEN], const void *data, size_t len)
{
    static const uint8_t prefix = 0x00;
    jpl_bytes parts[2] = {{&prefix, 1}, {data, len}};
    jpl_sha256_parts(out, parts, len ? 2 : 1);
}

void jpl_merkle_hash_children(uint8_t out[HLEN], const uint8_t left[HLEN],
                              const uint8_t right[HLEN])
{
    static const uint8_t prefix = 0x01;
    jpl_bytes parts[3] = {{&prefix, 1}, {left, HLEN}, {right, HLEN}};
    jpl_sha256_parts(out, parts, 3);
}

void jpl_merkle_hash_empty(uint8_t out[HLEN])
{
    jpl_sha256(out, "", 0);
}

/* Largest power of two strictly below n (n >= 2): the RFC's split point k. */
static uint64_t split_point(uint64_t n)
{
    return UINT64_C(1) << (63 - __builtin_clzll(n - 1));
}

static jpl_err read_node(const jpl_merkle_reader *r, uint32_t level, uint64_t index,
                         uint8_t out[HLEN], jpl_error *e)
{
    if (r == NULL || r->get == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "merkle: no node reader");
    jpl_err err = r->get(r->ctx, level, index, out, e);
    if (err != JPL_OK) {
        jpl_error_prefix(e, "merkle node (level %" PRIu32 ", index %" PRIu64 ")", level, index);
        return err;
    }
    return JPL_OK;
}

/*
 * Hash of the RFC subtree [a, b), b > a, a a multiple of the top bit of b - a: fold the complete
 * subtrees of its decomposition from the right (lowest set bit) to the left.
 */
static jpl_err range_hash(const jpl_merkle_reader *r, uint64_t a, uint64_t b, uint8_t out[HLEN],
                          jpl_error *e)
{
    uint64_t n = b - a;
    uint8_t acc[HLEN], node[HLEN];
    int have = 0;
    for (uint32_t level = 0; level < 64; level++) {
        if (!((n >> level) & 1))
            continue;
        /* This chunk starts after all the larger chunks, which are to its left. */
        uint64_t start = a + ((n >> level >> 1) << level << 1);
        jpl_err err = read_node(r, level, start >> level, have ? node : acc, e);
        if (err != JPL_OK)
            return err;
        if (have)
            jpl_merkle_hash_children(acc, node, acc);
        have = 1;
    }
    memcpy(out, acc, HLEN);
    return JPL_OK;
}

jpl_err jpl_merkle_root(const jpl_merkle_reader *r, uint64_t size, uint8_t root_out[HLEN],
                        jpl_error *e)
{
    if (size > JPL_MERKLE_MAX_SIZE)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "merkle root: tree size %" PRIu64 " over 2^63", size);
    if (size == 0) {
        jpl_merkle_hash_empty(root_out);
        return JPL_OK;
    }
    uint8_t root[HLEN];
    jpl_err err = range_hash(r, 0, size, root, e);
    if (err != JPL_OK) {
        jpl_error_prefix(e, "merkle root of size %" PRIu64, size);
        return err;
    }
    memcpy(root_out, root, HLEN);
    return JPL_OK;
}

jpl_err jpl_merkle_prove_inclusion(const jpl_merkle_reader *r, uint64_t index, uint64_t size,
                                   uint8_t path_out[JPL_MERKLE_MAX_PATH][HLEN],
                                   size_t *path_len_out, jpl_error *e)
{
    if (size > JPL_MERKLE_MAX_SIZE)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "inclusion proof: tree size %" PRIu64 " over 2^63",
                        size);
    if (index >= size)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "inclusion proof: leaf index %" PRIu64 " not below tree size %" PRIu64,
                        index, size);
    /* Siblings from the root down; the RFC path lists them from the leaf up. */
    uint8_t sib[JPL_MERKLE_MAX_PATH][HLEN];
    size_t count = 0;
    uint64_t a = 0, b = size;
    while (b - a > 1) {
        if (count == JPL_MERKLE_MAX_PATH)
            return jpl_fail(e, JPL_ERR_INTERNAL, "inclusion proof: path over 64 elements");
        uint64_t k = split_point(b - a);
        uint64_t sa, sb;
        if (index < a + k) {
            sa = a + k;
            sb = b;
            b = a + k;
        } else {
            sa = a;
            sb = a + k;
            a = a + k;
        }
        jpl_err err = range_hash(r, sa, sb, sib[count], e);
        if (err != JPL_OK) {
            jpl_error_prefix(e, "inclusion proof of %" PRIu64 " in size %" PRIu64, index, size);
            return err;
        }
        count++;
    }
    for (size_t i = 0; i < count; i++)
        memcpy(path_out[i], sib[count - 1 - i], HLEN);
    *path_len_out = count;
    return JPL_OK;
}

jpl_err jpl_merkle_prove_consistency(const jpl_merkle_reader *r, uint64_t size1, uint64_t size2,
                                     uint8_t proof_out[JPL_MERKLE_MAX_PATH][HLEN],
                                     size_t *proof_len_out, jpl_error *e)
{
    if (size2 > JPL_MERKLE_MAX_SIZE)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "consistency proof: tree size %" PRIu64 " over 2^63",
                        size2);
    if (size1 == 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "consistency proof: from size 0 is not defined");
    if (size1 > size2)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "consistency proof: size %" PRIu64 " is larger than size %" PRIu64, size1,
                        size2);
    /* RFC 9162 SUBPROOF(m, D[a:b], whole) unrolled: m counts old leaves from a. */
    uint8_t sib[JPL_MERKLE_MAX_PATH][HLEN];
    uint8_t node[HLEN];
    size_t count = 0;
    uint64_t a = 0, b = size2, m = size1;
    int whole = 1; /* still the subtree the old tree's root names: no need to send it */
    jpl_err err = JPL_OK;
    while (m != b - a) {
        if (count == JPL_MERKLE_MAX_PATH - 1)
            return jpl_fail(e, JPL_ERR_INTERNAL, "consistency proof: over 64 elements");
        uint64_t k = split_point(b - a);
        uint64_t sa, sb;
        if (m <= k) {
            sa = a + k;
            sb = b;
            b = a + k;
        } else {
            sa = a;
            sb = a + k;
            a = a + k;
            m -= k;
            whole = 0;
        }
        err = range_hash(r, sa, sb, sib[count], e);
        if (err != JPL_OK)
            goto fail;
        count++;
    }
    size_t n = 0;
    if (!whole) {
        err = range_hash(r, a, b, node, e);
        if (err != JPL_OK)
            goto fail;
        memcpy(proof_out[n++], node, HLEN);
    }
    for (size_t i = 0; i < count; i++)
        memcpy(proof_out[n++], sib[count - 1 - i], HLEN);
    *proof_len_out = n;
    return JPL_OK;
fail:
    jpl_error_prefix(e, "consistency proof from %" PRIu64 " to %" PRIu64, size1, size2);
    return err;
}

jpl_err jpl_merkle_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf_hash[HLEN],
                                    const uint8_t (*path)[HLEN], size_t path_len,
                                    const uint8_t root[HLEN], jpl_error *e)
{
    if (index >= size)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "inclusion: leaf index %" PRIu64 " not below tree size %" PRIu64, index,
                        size);
    if (path_len > JPL_MERKLE_MAX_PATH)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "inclusion: path of %zu elements is over 64",
                        path_len);
    /* RFC 9162 2.1.3.2: fn walks the leaf's position up, sn the last leaf's. */
    uint64_t fn = index, sn = size - 1;
    uint8_t h[HLEN];
    memcpy(h, leaf_hash, HLEN);
    for (size_t i = 0; i < path_len; i++) {
        if (sn == 0)
            return jpl_fail(e, JPL_ERR_BAD_INPUT,
                            "inclusion: path has %zu elements, more than index %" PRIu64
                            " in size %" PRIu64 " needs",
                            path_len, index, size);
        if ((fn & 1) || fn == sn) {
            jpl_merkle_hash_children(h, path[i], h);
            /* A right-edge node with no right sibling: skip the levels it is lifted through. */
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            jpl_merkle_hash_children(h, h, path[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "inclusion: path has %zu elements, fewer than index %" PRIu64
                        " in size %" PRIu64 " needs",
                        path_len, index, size);
    if (!jpl_memeq(h, root, HLEN))
        return jpl_fail(e, JPL_ERR_CORRUPT,
                        "inclusion: leaf %" PRIu64
                        " and path do not give the root of size %" PRIu64,
                        index, size);
    return JPL_OK;
}

jpl_err jpl_merkle_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[HLEN],
                                      const uint8_t root2[HLEN], const uint8_t (*proof)[HLEN],
                                      size_t proof_len, jpl_error *e)
{
    if (size1 == 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "consistency: from size 0 is not accepted");
    if (size1 > size2)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "consistency: size %" PRIu64 " is larger than size %" PRIu64, size1, size2);
    if (size1 == size2) {
        if (proof_len != 0)
            return jpl_fail(e, JPL_ERR_BAD_INPUT,
                            "consistency: equal sizes need an empty proof, got %zu elements",
                            proof_len);
        if (!jpl_memeq(root1, root2, HLEN))
            return jpl_fail(e, JPL_ERR_CORRUPT,
                            "consistency: different roots for the same size %" PRIu64, size1);
        return JPL_OK;
    }
    if (proof_len == 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "consistency: empty proof from %" PRIu64 " to %" PRIu64, size1, size2);
    if (proof_len > JPL_MERKLE_MAX_PATH)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "consistency: proof of %zu elements is over 64",
                        proof_len);
    /* RFC 9162 2.1.4.2. A power-of-two old tree is itself a node of the new one: its root is the
     * (implicit) first element of the proof. */
    const uint8_t *first = root1;
    size_t next = 0;
    if ((size1 & (size1 - 1)) != 0)
        first = proof[next++];
    uint64_t fn = size1 - 1, sn = size2 - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    uint8_t fr[HLEN], sr[HLEN];
    memcpy(fr, first, HLEN);
    memcpy(sr, first, HLEN);
    for (size_t i = next; i < proof_len; i++) {
        if (sn == 0)
            return jpl_fail(e, JPL_ERR_BAD_INPUT,
                            "consistency: proof has %zu elements, more than %" PRIu64 " to %" PRIu64
                            " needs",
                            proof_len, size1, size2);
        if ((fn & 1) || fn == sn) {
            jpl_merkle_hash_children(fr, proof[i], fr);
            jpl_merkle_hash_children(sr, proof[i], sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            jpl_merkle_hash_children(sr, sr, proof[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "consistency: proof has %zu elements, fewer than %" PRIu64 " to %" PRIu64
                        " needs",
                        proof_len, size1, size2);
    if (!jpl_memeq(fr, root1, HLEN))
        return jpl_fail(e, JPL_ERR_CORRUPT,
                        "consistency: proof does not give the root of size %" PRIu64, size1);
    if (!jpl_memeq(sr, root2, HLEN))
        return jpl_fail(e, JPL_ERR_CORRUPT,
                        "consistency: proof does not give the root of size %" PRIu64, size2);
    return JPL_OK;
}

jpl_err jpl_merkle_proof_parse(const jpl_bytes *elems, size_t n,
                               uint8_t path_out[JPL_MERKLE_MAX_PATH][HLEN], size_t *path_len_out,
                               jpl_error *e)
{
    if (n > JPL_MERKLE_MAX_PATH)
        return jpl_fail(e, JPL_ERR_TOO_LARGE, "merkle proof: %zu elements, at most 64", n);
    for (size_t i = 0; i < n; i++) {
        if (elems[i].len != HLEN)
            return jpl_fail(e, JPL_ERR_BAD_INPUT, "merkle proof: element %zu is %zu bytes, not 32",
                            i, elems[i].len);
        if (elems[i].data == NULL)
            return jpl_fail(e, JPL_ERR_BAD_INPUT, "merkle proof: element %zu has no data", i);
    }
    for (size_t i = 0; i < n; i++)
        memcpy(path_out[i], elems[i].data, HLEN);
    *path_len_out = n;
    return JPL_OK;
}

void jpl_merkle_frontier_init(jpl_merkle_frontier *f)
{
    memset(f, 0, sizeof *f);
}

jpl_err jpl_merkle_frontier_append(jpl_merkle_frontier *f, const uint8_t leaf_hash[HLEN],
                                   jpl_merkle_emit_fn emit, void *emit_ctx, jpl_error *e)
{
    if (f->size >= JPL_MERKLE_MAX_SIZE)
        return jpl_fail(e, JPL_ERR_TOO_LARGE, "merkle append: tree already has 2^63 leaves");
    uint64_t i = f->size;
    uint8_t h[HLEN];
    memcpy(h, leaf_hash, HLEN);
    uint32_t level = 0;
    for (;;) {
        if (emit != NULL) {
            jpl_err err = emit(emit_ctx, level, i >> level, h, e);
            if (err != JPL_OK) {
                jpl_error_prefix(e, "merkle append of leaf %" PRIu64, i);
                return err;
            }
        }
        /* A set bit means a complete left sibling waits on the frontier at this level. */
        if (!((i >> level) & 1))
            break;
        jpl_merkle_hash_children(h, f->hashes[level], h);
        level++;
    }
    /* level < 64: i < 2^63 has a clear bit at or below 63. */
    memcpy(f->hashes[level], h, HLEN);
    f->size = i + 1;
    return JPL_OK;
}

void jpl_merkle_frontier_root(const jpl_merkle_frontier *f, uint8_t root_out[HLEN])
{
    uint8_t acc[HLEN];
    int have = 0;
    for (uint32_t level = 0; level < JPL_MERKLE_MAX_PATH; level++) {
        if (!((f->size >> level) & 1))
            continue;
        if (have)
            jpl_merkle_hash_children(acc, f->hashes[level], acc);
        else
            memcpy(acc, f->hashes[level], HLEN);
        have = 1;
    }
    if (have)
        memcpy(root_out, acc, HLEN);
    else
        jpl_merkle_hash_empty(root_out);
}

jpl_err jpl_merkle_frontier_load(const jpl_merkle_reader *r, uint64_t size,
                                 jpl_merkle_frontier *frontier_out, jpl_error *e)
{
    if (size > JPL_MERKLE_MAX_SIZE)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "merkle frontier: tree size %" PRIu64 " over 2^63",
                        size);
    jpl_merkle_frontier f;
    jpl_merkle_frontier_init(&f);
    for (uint32_t level = 0; level < JPL_MERKLE_MAX_PATH; level++) {
        if (!((size >> level) & 1))
            continue;
        jpl_err err = read_node(r, level, (size >> level) - 1, f.hashes[level], e);
        if (err != JPL_OK) {
            jpl_error_prefix(e, "merkle frontier of size %" PRIu64, size);
            return err;
        }
    }
    f.size = size;
    *frontier_out = f;
    return JPL_OK;
}
