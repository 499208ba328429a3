/*
 * Auditor cosignatures of checkpoints (see jpl/cosign.h): accepting one from an auditor,
 * serving a checkpoint with its cosignatures, and checking every stored one for `verify`.
 * Storage goes through jpl/store.h, signatures through jpl/note.h.
 */
#include "jpl/cosign.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

#define COSIG_KEY_LEN (8 + JPL_ED25519_PK_LEN)

/* Serialises the check-then-write of a cosignature, so that two requests for the same key and
 * checkpoint cannot both write (the ledger's writer never touches the family). */
static pthread_mutex_t cosign_mu = PTHREAD_MUTEX_INITIALIZER;

/* Gives the error already in e the code code (after jpl_error_prefix added the context). */
static jpl_err recode(jpl_error *e, jpl_err code)
{
    if (e != NULL)
        e->code = code;
    return code;
}

static void cosig_key(uint8_t k[COSIG_KEY_LEN], uint64_t size, const uint8_t *pk)
{
    jpl_put_u64be(k, size);
    memcpy(k + 8, pk, JPL_ED25519_PK_LEN);
}

/* The family's index; false if the ledger has none (an older ledger opened read-only). */
static bool cosig_family(jpl_ledger *l, int *cf)
{
    return jpl_store_cf(jpl_ledger_store(l), JPL_COSIG_FAMILY, false, cf, NULL) == JPL_OK;
}

/* The stored checkpoint note of size: malloc'd, NUL-terminated. */
static jpl_err stored_checkpoint(jpl_ledger *l, uint64_t size, char **note_out, size_t *len_out,
                                 jpl_error *e)
{
    uint8_t k[8];
    jpl_put_u64be(k, size);
    uint8_t *v = NULL;
    size_t vlen = 0;
    jpl_err rc = jpl_store_get(jpl_ledger_store(l), JPL_CF_CHECKPOINTS, k, 8, &v, &vlen, e);
    if (rc == JPL_ERR_NOT_FOUND)
        return jpl_fail(e, JPL_ERR_NOT_FOUND, "the log has no checkpoint of size %llu",
                        (unsigned long long)size);
    if (rc != JPL_OK)
        return rc;
    char *note = realloc(v, vlen + 1);
    if (note == NULL) {
        free(v);
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    }
    note[vlen] = '\0';
    *note_out = note;
    *len_out = vlen;
    return JPL_OK;
}

/* Appends line[0..n) and a newline to the malloc'd note *note of *len bytes. */
static jpl_err append_line(char **note, size_t *len, const void *line, size_t n, jpl_error *e)
{
    char *grown = realloc(*note, *len + n + 2);
    if (grown == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    memcpy(grown + *len, line, n);
    grown[*len + n] = '\n';
    grown[*len + n + 1] = '\0';
    *note = grown;
    *len += n + 1;
    return JPL_OK;
}

/* Calls visit (may be NULL) for each cosignature row whose key starts with prefix[0..plen)
 * (plen 0: every row), in key order, and sets *n_out to their number. */
typedef jpl_err (*row_fn)(void *ctx, const uint8_t *key, const uint8_t *line, size_t n,
                          jpl_error *e);
static jpl_err each_cosig(jpl_ledger *l, const uint8_t *prefix, size_t plen, row_fn visit,
                          void *ctx, uint64_t *n_out, jpl_error *e)
{
    int cf = 0;
    uint64_t n = 0;
    if (!cosig_family(l, &cf)) {
        *n_out = 0;
        return JPL_OK;
    }
    jpl_iter *it = jpl_store_iter(jpl_ledger_store(l), cf, prefix, plen);
    if (it == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl_err rc = JPL_OK;
    for (; rc == JPL_OK && jpl_iter_valid(it); jpl_iter_next(it)) {
        size_t klen = 0, vlen = 0;
        const uint8_t *k = jpl_iter_key(it, &klen);
        if (plen > 0 && (klen < plen || memcmp(k, prefix, plen) != 0))
            break;
        const uint8_t *v = jpl_iter_value(it, &vlen);
        if (klen != COSIG_KEY_LEN)
            rc = jpl_fail(e, JPL_ERR_CORRUPT, "malformed cosignature key (%zu bytes)", klen);
        else if (visit != NULL)
            rc = visit(ctx, k, v, vlen, e);
        n++;
    }
    if (rc == JPL_OK)
        rc = jpl_iter_status(it, e);
    jpl_iter_free(it);
    if (rc == JPL_OK)
        *n_out = n;
    return rc;
}

/* Calls visit for each cosignature of the checkpoint of size. */
static jpl_err each_cosig_of(jpl_ledger *l, uint64_t size, row_fn visit, void *ctx, uint64_t *n_out,
                             jpl_error *e)
{
    uint8_t prefix[8];
    jpl_put_u64be(prefix, size);
    return each_cosig(l, prefix, sizeof prefix, visit, ctx, n_out, e);
}

typedef struct {
    char **note;
    size_t *len;
} attach_ctx;

static jpl_err attach_row(void *ctx, const uint8_t *key, const uint8_t *line, size_t n,
                          jpl_error *e)
{
    (void)key;
    attach_ctx *a = ctx;
    return append_line(a->note, a->len, line, n, e);
}

jpl_err jpl_ledger_checkpoint_at(jpl_ledger *l, uint64_t size, char **note_out, jpl_error *e)
{
    char *note = NULL;
    size_t len = 0;
    uint64_t n = 0;
    jpl_err rc = stored_checkpoint(l, size, &note, &len, e);
    attach_ctx a = {&note, &len};
    if (rc == JPL_OK)
        rc = each_cosig_of(l, size, attach_row, &a, &n, e);
    if (rc != JPL_OK) {
        free(note);
        return rc;
    }
    *note_out = note;
    return JPL_OK;
}

/* ---- accepting a cosignature ---- */

/* The note verifier of the cosigning key pk: registered, unrevoked, role auditor. */
static jpl_err auditor_verifier(jpl_ledger *l, const uint8_t *pk, jpl_note_verifier *v_out,
                                jpl_error *e)
{
    jpl_key_info info;
    jpl_err rc = jpl_ledger_key_info(l, pk, &info, e);
    if (rc == JPL_ERR_UNKNOWN_KEY)
        return jpl_fail(e, rc,
                        "the cosigning key is not registered (an admin registers it with role "
                        "auditor)");
    if (rc != JPL_OK)
        return rc;
    if (info.revoked)
        return jpl_fail(e, JPL_ERR_KEY_REVOKED, "the cosigning key %s was revoked", info.name);
    if (info.role != JPL__ROLE__ROLE_AUDITOR)
        return jpl_fail(e, JPL_ERR_FORBIDDEN,
                        "key %s has role %s; only auditor keys cosign checkpoints", info.name,
                        jpl_rules_role_name(info.role));
    return jpl_note_verifier_from_pubkey(info.name, pk, v_out, e);
}

/* Opens the cosigned note with the log key and the auditor's (vs[0], vs[1]); the auditor's
 * line must be there and verify. Fills *cp and *r. */
static jpl_err open_cosigned(jpl_ledger *l, const char *note, size_t len,
                             const jpl_note_verifier vs[2], jpl_checkpoint *cp, jpl_note_result *r,
                             jpl_error *e)
{
    jpl_err rc = jpl_checkpoint_open(note, len, jpl_ledger_origin(l), vs, 2, cp, r, e);
    if (rc == JPL_ERR_UNKNOWN_KEY || (rc == JPL_OK && !jpl_note_result_verified_by(r, 1)))
        return jpl_fail(e, JPL_ERR_BAD_SIGNATURE, "the note has no signature line by %s+%08x",
                        vs[1].name, vs[1].key_id);
    if (rc != JPL_OK)
        jpl_error_prefix(e, "cosigned note");
    return rc;
}

/* The note's text must be the stored checkpoint's text of the same size, byte for byte. */
static jpl_err same_as_stored(jpl_ledger *l, const char *note, size_t text_len, uint64_t size,
                              jpl_error *e)
{
    char *stored = NULL;
    size_t slen = 0;
    jpl_err rc = stored_checkpoint(l, size, &stored, &slen, e);
    if (rc != JPL_OK)
        return rc;
    static const jpl_note_result zero;
    jpl_note_result sr = zero;
    rc = jpl_note_parse(stored, slen, &sr, e);
    if (rc != JPL_OK) {
        jpl_error_prefix(e, "stored checkpoint %llu", (unsigned long long)size);
        rc = recode(e, JPL_ERR_CORRUPT);
    } else if (sr.text_len != text_len || memcmp(stored, note, text_len) != 0)
        rc = jpl_fail(e, JPL_ERR_CONFLICT,
                      "the note's text is not this log's checkpoint of size %llu (another root: "
                      "a fork?)",
                      (unsigned long long)size);
    free(stored);
    return rc;
}

/* Writes the line unless the key cosigned the checkpoint before; call with cosign_mu held. */
static jpl_err store_cosig(jpl_ledger *l, uint64_t size, const uint8_t *pk, const char *name,
                           const char *line, size_t n, bool *dup_out, jpl_error *e)
{
    int cf = 0;
    if (!cosig_family(l, &cf))
        return jpl_fail(e, JPL_ERR_INTERNAL, "the ledger has no %s family (open it for writing)",
                        JPL_COSIG_FAMILY);
    jpl_store *s = jpl_ledger_store(l);
    uint8_t k[COSIG_KEY_LEN];
    cosig_key(k, size, pk);
    uint8_t *v = NULL;
    size_t vlen = 0;
    jpl_err rc = jpl_store_get(s, cf, k, sizeof k, &v, &vlen, e);
    if (rc == JPL_OK) {
        bool same = vlen == n && memcmp(v, line, n) == 0;
        free(v);
        if (!same)
            return jpl_fail(e, JPL_ERR_CONFLICT,
                            "key %s already cosigned checkpoint %llu with another signature", name,
                            (unsigned long long)size);
        *dup_out = true;
        return JPL_OK;
    }
    if (rc != JPL_ERR_NOT_FOUND)
        return rc;
    uint64_t have = 0;
    if ((rc = each_cosig_of(l, size, NULL, NULL, &have, e)) != JPL_OK)
        return rc;
    if (have >= JPL_COSIGS_MAX)
        return jpl_fail(e, JPL_ERR_TOO_LARGE, "checkpoint %llu already has %d cosignatures",
                        (unsigned long long)size, JPL_COSIGS_MAX);
    jpl_batch *b = jpl_batch_new();
    if (b == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl_batch_put(b, s, cf, k, sizeof k, line, n);
    rc = jpl_store_write(s, b, true, e);
    jpl_batch_free(b);
    if (rc == JPL_OK)
        *dup_out = false;
    return rc;
}

jpl_err jpl_ledger_cosign(jpl_ledger *l, const char *note, size_t len,
                          const uint8_t pk[JPL_ED25519_PK_LEN], jpl_cosign_result *result_out,
                          jpl_error *e)
{
    if (l == NULL || note == NULL || pk == NULL || result_out == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "cosign: missing argument");
    const char *log_vkey = jpl_ledger_log_vkey(l);
    jpl_note_verifier vs[2];
    jpl_err rc = jpl_note_verifier_parse(log_vkey, strlen(log_vkey), &vs[0], e);
    if (rc == JPL_OK)
        rc = auditor_verifier(l, pk, &vs[1], e);
    jpl_checkpoint cp;
    static const jpl_note_result zero;
    jpl_note_result r = zero;
    if (rc == JPL_OK)
        rc = open_cosigned(l, note, len, vs, &cp, &r, e);
    if (rc == JPL_OK)
        rc = same_as_stored(l, note, r.text_len, cp.size, e);
    if (rc != JPL_OK)
        return rc;
    const jpl_note_sig *sig = NULL;
    for (size_t i = 0; i < r.n_sigs && sig == NULL; i++)
        if (r.sigs[i].verifier == 1)
            sig = &r.sigs[i];
    jpl_cosign_result res;
    memset(&res, 0, sizeof res);
    res.size = cp.size;
    memcpy(res.key_name, vs[1].name, sizeof res.key_name);
    pthread_mutex_lock(&cosign_mu);
    rc = store_cosig(l, cp.size, pk, res.key_name, note + sig->line_off,
                     sig->sig_off + sig->sig_len - sig->line_off, &res.duplicate, e);
    pthread_mutex_unlock(&cosign_mu);
    if (rc == JPL_OK)
        *result_out = res;
    return rc;
}

/* ---- checking every stored cosignature ---- */

/* Checks the cosignature stored under key k (tree size || public key) with line v[0..vlen). */
static jpl_err check_cosig(jpl_ledger *l, const jpl_note_verifier *log_key, const uint8_t *k,
                           const uint8_t *v, size_t vlen, jpl_cosig_info *info, jpl_error *e)
{
    uint64_t size = jpl_get_u64be(k);
    const uint8_t *pk = k + 8;
    jpl_key_info ki;
    jpl_err rc = jpl_ledger_key_info(l, pk, &ki, e);
    if (rc == JPL_ERR_UNKNOWN_KEY)
        return jpl_fail(e, JPL_ERR_CORRUPT, "cosignature of checkpoint %llu by an unregistered key",
                        (unsigned long long)size);
    if (rc != JPL_OK)
        return rc;
    if (ki.role != JPL__ROLE__ROLE_AUDITOR)
        return jpl_fail(e, JPL_ERR_CORRUPT,
                        "cosignature of checkpoint %llu by %s, a key of role %s",
                        (unsigned long long)size, ki.name, jpl_rules_role_name(ki.role));
    jpl_note_verifier vs[2] = {*log_key};
    char *note = NULL;
    size_t len = 0;
    rc = jpl_note_verifier_from_pubkey(ki.name, pk, &vs[1], e);
    if (rc == JPL_OK)
        rc = stored_checkpoint(l, size, &note, &len, e);
    if (rc == JPL_OK)
        rc = append_line(&note, &len, v, vlen, e);
    static const jpl_note_result zero;
    jpl_note_result r = zero;
    if (rc == JPL_OK)
        rc = jpl_note_open(note, len, vs, 2, &r, e);
    if (rc == JPL_OK && !jpl_note_result_verified_by(&r, 0))
        rc = jpl_fail(e, JPL_ERR_BAD_SIGNATURE, "the checkpoint is not signed by the log key");
    if (rc == JPL_OK && !jpl_note_result_verified_by(&r, 1))
        rc = jpl_fail(e, JPL_ERR_BAD_SIGNATURE, "the line is not a signature by %s+%08x",
                      vs[1].name, vs[1].key_id);
    free(note);
    if (rc != JPL_OK && rc != JPL_ERR_INTERNAL && rc != JPL_ERR_IO) {
        jpl_error_prefix(e, "cosignature of checkpoint %llu by %s", (unsigned long long)size,
                         ki.name);
        return recode(e, JPL_ERR_CORRUPT);
    }
    if (rc != JPL_OK)
        return rc;
    info->size = size;
    info->revoked = ki.revoked;
    return jpl_note_verifier_format(&vs[1], info->vkey, sizeof info->vkey, e);
}

typedef struct {
    jpl_ledger *l;
    const jpl_note_verifier *log_key;
    jpl_cosig_fn fn;
    void *ctx;
} verify_ctx;

static jpl_err verify_row(void *ctx, const uint8_t *key, const uint8_t *line, size_t n,
                          jpl_error *e)
{
    verify_ctx *vc = ctx;
    jpl_cosig_info info;
    memset(&info, 0, sizeof info);
    jpl_err rc = check_cosig(vc->l, vc->log_key, key, line, n, &info, e);
    if (rc == JPL_OK && vc->fn != NULL)
        vc->fn(vc->ctx, &info);
    return rc;
}

jpl_err jpl_ledger_cosigs_verify(jpl_ledger *l, const jpl_note_verifier *log_key, jpl_cosig_fn fn,
                                 void *ctx, uint64_t *n_out, jpl_error *e)
{
    verify_ctx vc = {l, log_key, fn, ctx};
    return each_cosig(l, NULL, 0, verify_row, &vc, n_out, e);
}
