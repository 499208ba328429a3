/*
 * RFC 6962 / RFC 9162 (section 2.1) Merkle tree: hashing, roots, inclusion and consistency proofs
 * and their verification, and the append "frontier" the writer keeps.
 *
 * Pure computation. Storage is abstracted by a reader callback over stored nodes: the hash of every
 * COMPLETE subtree, addressed by (level, index), where level 0 index i is leaf hash i and (L, j)
 * covers leaves [j*2^L, (j+1)*2^L). The writer stores exactly the nodes the frontier emits as it
 * appends, so every node a reader is asked for exists once the tree has reached the asked-for size.
 * Roots and proofs of any size n read O(log n) nodes: at most 64 for a root, and at most
 * 2*ceil(log2 n) for a proof.
 *
 *   leaf hash  = SHA-256(0x00 || entry bytes)
 *   node hash  = SHA-256(0x01 || left || right)
 *   empty root = SHA-256("")
 *
 * Proofs use RFC 9162 order (leaf to root; PATH and PROOF of sections 2.1.3.1 and 2.1.4.1) and are
 * written to caller-owned arrays of JPL_MERKLE_MAX_PATH hashes. Verification follows RFC 9162
 * sections 2.1.3.2 and 2.1.4.2 with the strict semantics of transparency-dev/merkle: an index at or
 * beyond the tree size, a consistency proof from size 0 and a wrong number of proof elements are
 * rejected, and jpl_merkle_proof_parse rejects any received element that is not exactly 32 bytes.
 *
 * Errors: JPL_ERR_BAD_INPUT for impossible parameters (index >= size, size1 > size2, proof of
 * the wrong length, size over JPL_MERKLE_MAX_SIZE); JPL_ERR_CORRUPT when a well-formed proof does
 * not lead to the given root(s); reader errors are passed through with the node named.
 */
#ifndef JPL_MERKLE_H
#define JPL_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "jpl/crypto.h"
#include "jpl/err.h"

#define JPL_MERKLE_HASH_LEN JPL_SHA256_LEN
/* Longest inclusion path or consistency proof for any size up to JPL_MERKLE_MAX_SIZE. */
#define JPL_MERKLE_MAX_PATH 64
/* Largest tree size (and count of leaves) the module accepts: 2^63. */
#define JPL_MERKLE_MAX_SIZE (UINT64_C(1) << 63)

/*
 * Reads the stored hash of the complete subtree (level, index) into out. Returns JPL_OK, or an
 * error (JPL_ERR_NOT_FOUND when the node is not stored, JPL_ERR_IO, ...) with e filled.
 */
typedef jpl_err (*jpl_merkle_get_fn)(void *ctx, uint32_t level, uint64_t index,
                                     uint8_t out[JPL_MERKLE_HASH_LEN], jpl_error *e);

/* A node source: get is called with ctx, which the caller owns. */
typedef struct {
    jpl_merkle_get_fn get;
    void *ctx;
} jpl_merkle_reader;

/*
 * Receives a complete-subtree node that an append has just completed. Returning an error aborts
 * the append (the frontier is left unchanged).
 */
typedef jpl_err (*jpl_merkle_emit_fn)(void *ctx, uint32_t level, uint64_t index,
                                      const uint8_t hash[JPL_MERKLE_HASH_LEN], jpl_error *e);

/*
 * The right edge of a tree ("compact range"): its size and, for every set bit L of size, the hash
 * of the complete subtree at level L that ends the tree (level L, index (size >> L) - 1). Other
 * entries of hashes are unspecified. A plain value: copy it freely; change it only through the
 * functions below. Zero-initialised (or jpl_merkle_frontier_init) it is the empty tree.
 */
typedef struct {
    uint64_t size;
    uint8_t hashes[JPL_MERKLE_MAX_PATH][JPL_MERKLE_HASH_LEN];
} jpl_merkle_frontier;

/* out = SHA-256(0x00 || data): the hash of a leaf with these entry bytes. */
void jpl_merkle_hash_leaf(uint8_t out[JPL_MERKLE_HASH_LEN], const void *data, size_t len);

/* out = SHA-256(0x01 || left || right). out may alias left or right. */
void jpl_merkle_hash_children(uint8_t out[JPL_MERKLE_HASH_LEN],
                              const uint8_t left[JPL_MERKLE_HASH_LEN],
                              const uint8_t right[JPL_MERKLE_HASH_LEN]);

/* out = SHA-256(""): the root of the empty tree. */
void jpl_merkle_hash_empty(uint8_t out[JPL_MERKLE_HASH_LEN]);

/*
 * Root of the first size leaves, from at most popcount(size) node reads (none for size 0).
 * Errors: JPL_ERR_BAD_INPUT if size > JPL_MERKLE_MAX_SIZE; reader errors.
 */
JPL_MUST_CHECK jpl_err jpl_merkle_root(const jpl_merkle_reader *r, uint64_t size,
                                       uint8_t root_out[JPL_MERKLE_HASH_LEN], jpl_error *e);

/*
 * Inclusion proof (RFC 9162 2.1.3.1 PATH) of leaf index in the tree of the first size leaves,
 * ordered leaf to root, into path_out[0 .. *path_len_out). Reads at most 2*ceil(log2 size) nodes.
 * Outputs are written only on success. Errors: JPL_ERR_BAD_INPUT if index >= size or
 * size > JPL_MERKLE_MAX_SIZE; reader errors.
 */
JPL_MUST_CHECK jpl_err jpl_merkle_prove_inclusion(
    const jpl_merkle_reader *r, uint64_t index, uint64_t size,
    uint8_t path_out[JPL_MERKLE_MAX_PATH][JPL_MERKLE_HASH_LEN], size_t *path_len_out, jpl_error *e);

/*
 * Consistency proof (RFC 9162 2.1.4.1 PROOF(size1, D[size2])) into proof_out[0 .. *proof_len_out);
 * empty when size1 == size2. Reads at most 2*ceil(log2 size2) nodes. Outputs are written only on
 * success. Errors: JPL_ERR_BAD_INPUT if size1 == 0, size1 > size2 or size2 > JPL_MERKLE_MAX_SIZE;
 * reader errors.
 */
JPL_MUST_CHECK jpl_err
jpl_merkle_prove_consistency(const jpl_merkle_reader *r, uint64_t size1, uint64_t size2,
                             uint8_t proof_out[JPL_MERKLE_MAX_PATH][JPL_MERKLE_HASH_LEN],
                             size_t *proof_len_out, jpl_error *e);

/*
 * Checks that leaf_hash is leaf index of the tree of size leaves whose root is root, given the
 * inclusion path (RFC 9162 2.1.3.2). Returns JPL_OK if it is. Errors: JPL_ERR_BAD_INPUT for
 * index >= size or a path of the wrong length for (index, size); JPL_ERR_CORRUPT if the path does
 * not lead to root.
 */
JPL_MUST_CHECK jpl_err jpl_merkle_verify_inclusion(uint64_t index, uint64_t size,
                                                   const uint8_t leaf_hash[JPL_MERKLE_HASH_LEN],
                                                   const uint8_t (*path)[JPL_MERKLE_HASH_LEN],
                                                   size_t path_len,
                                                   const uint8_t root[JPL_MERKLE_HASH_LEN],
                                                   jpl_error *e);

/*
 * Checks that the tree of size2 leaves with root root2 extends the tree of size1 leaves with root
 * root1, given the consistency proof (RFC 9162 2.1.4.2). size1 == size2 needs an empty proof and
 * equal roots. Returns JPL_OK if consistent. Errors: JPL_ERR_BAD_INPUT for size1 == 0,
 * size1 > size2 or a proof of the wrong length; JPL_ERR_CORRUPT if the proof does not lead to both
 * roots.
 */
JPL_MUST_CHECK jpl_err jpl_merkle_verify_consistency(uint64_t size1, uint64_t size2,
                                                     const uint8_t root1[JPL_MERKLE_HASH_LEN],
                                                     const uint8_t root2[JPL_MERKLE_HASH_LEN],
                                                     const uint8_t (*proof)[JPL_MERKLE_HASH_LEN],
                                                     size_t proof_len, jpl_error *e);

/*
 * Copies n untrusted proof elements (for example the repeated bytes of a request) into
 * path_out[0 .. n) after checking each is exactly 32 bytes and n <= JPL_MERKLE_MAX_PATH. Outputs
 * are written only on success. Errors: JPL_ERR_BAD_INPUT naming the bad element;
 * JPL_ERR_TOO_LARGE for too many elements.
 */
JPL_MUST_CHECK jpl_err jpl_merkle_proof_parse(
    const jpl_bytes *elems, size_t n, uint8_t path_out[JPL_MERKLE_MAX_PATH][JPL_MERKLE_HASH_LEN],
    size_t *path_len_out, jpl_error *e);

/* Sets f to the empty tree. */
void jpl_merkle_frontier_init(jpl_merkle_frontier *f);

/*
 * Appends the leaf with hash leaf_hash: calls emit (if not NULL) with (0, old size, leaf_hash) and
 * then once per parent node the append completes, lowest level first; then updates f. If emit
 * fails, f is unchanged and its error is returned (nodes emitted before the failure must be
 * discarded by the caller). Errors: JPL_ERR_TOO_LARGE when f already holds JPL_MERKLE_MAX_SIZE
 * leaves; emit's errors.
 */
JPL_MUST_CHECK jpl_err jpl_merkle_frontier_append(jpl_merkle_frontier *f,
                                                  const uint8_t leaf_hash[JPL_MERKLE_HASH_LEN],
                                                  jpl_merkle_emit_fn emit, void *emit_ctx,
                                                  jpl_error *e);

/* Root of the tree f describes, without reads (SHA-256("") for the empty tree). */
void jpl_merkle_frontier_root(const jpl_merkle_frontier *f, uint8_t root_out[JPL_MERKLE_HASH_LEN]);

/*
 * Rebuilds the frontier of the tree of size leaves from stored nodes (popcount(size) reads), for
 * the writer at startup. frontier_out is written only on success. Errors: JPL_ERR_BAD_INPUT if
 * size > JPL_MERKLE_MAX_SIZE; reader errors.
 */
JPL_MUST_CHECK jpl_err jpl_merkle_frontier_load(const jpl_merkle_reader *r, uint64_t size,
                                                jpl_merkle_frontier *frontier_out, jpl_error *e);

#endif
