/*
 * Fuzzes the C2SP tlog-checkpoint parser. Each input is used as:
 *  1. a checkpoint text for jpl_checkpoint_parse: typed errors only; on success the text up to
 *     the extensions is exactly what jpl_checkpoint_format prints for the parsed origin, size and
 *     root (strict parsing admits one spelling only), and re-parsing that gives the same values;
 *     a parsed text signed with the published PeterNeumann test key opens with
 *     jpl_checkpoint_open to the same checkpoint, and is refused for another origin;
 *  2. a signed checkpoint for jpl_checkpoint_open with the published test verifier keys: on
 *     success the same checkpoint as parsing its text, and that text in its one spelling.
 * Corpus: tests/fuzz/corpus/checkpoint/.
 */
#include "fuzz.h"

#include <string.h>

#include "jpl/note.h"

static const char *const VKEYS[] = {
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
    "localhost.localdev/sumdb+00000c67+AcTrnkbUA+TU4heY3hkjiSES/DSQniBqIeQ/YppAUtK6",
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
};
#define N_VKEYS (sizeof VKEYS / sizeof VKEYS[0])
static const char SKEY[] =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";

static jpl_note_verifier verifiers[N_VKEYS];
static jpl_note_signer signer;

static void init_keys(void)
{
    static bool done;
    if (done)
        return;
    fuzz_init();
    for (size_t i = 0; i < N_VKEYS; i++)
        FUZZ_CHECK(jpl_note_verifier_parse(VKEYS[i], strlen(VKEYS[i]), &verifiers[i], NULL) ==
                   JPL_OK);
    FUZZ_CHECK(jpl_note_signer_parse(SKEY, strlen(SKEY), &signer, NULL) == JPL_OK);
    done = true;
}

static bool same_checkpoint(const jpl_checkpoint *a, const jpl_checkpoint *b)
{
    return strcmp(a->origin, b->origin) == 0 && a->size == b->size &&
           memcmp(a->root, b->root, JPL_SHA256_LEN) == 0 && a->ext_off == b->ext_off &&
           a->n_ext == b->n_ext;
}

static void sign_and_open(const char *text, size_t len, const jpl_checkpoint *cp)
{
    static jpl_note_result r;
    size_t cap = len + 512, out_len = 0;
    char *out = malloc(cap);
    FUZZ_CHECK(out != NULL);
    jpl_error e = {0};
    FUZZ_CHECK(jpl_note_sign(text, len, &signer, out, cap, &out_len, &e) == JPL_OK);
    jpl_checkpoint got;
    FUZZ_CHECK(jpl_checkpoint_open(out, out_len, cp->origin, verifiers, N_VKEYS, &got, &r, &e) ==
               JPL_OK);
    FUZZ_CHECK(same_checkpoint(&got, cp) && r.text_len == len && r.n_verified == 1);
    char other[JPL_CHECKPOINT_ORIGIN_MAX + 2];
    snprintf(other, sizeof other, "%sx", cp->origin);
    FUZZ_CHECK(jpl_checkpoint_open(out, out_len, other, verifiers, N_VKEYS, &got, NULL, NULL) ==
               JPL_ERR_BAD_INPUT);
    free(out);
}

static void parse_as_text(const char *text, size_t len)
{
    jpl_checkpoint cp, again;
    jpl_error e = {0};
    jpl_err rc = jpl_checkpoint_parse(text, len, &cp, &e);
    FUZZ_CHECK(rc == JPL_OK || rc == JPL_ERR_BAD_INPUT || rc == JPL_ERR_TOO_LARGE);
    FUZZ_CHECK(rc == JPL_OK || (e.code == rc && e.msg[0] != '\0'));
    if (rc != JPL_OK)
        return;
    size_t olen = strlen(cp.origin);
    FUZZ_CHECK(olen >= 1 && olen <= JPL_CHECKPOINT_ORIGIN_MAX);
    FUZZ_CHECK(cp.ext_off <= len && text[cp.ext_off - 1] == '\n' && text[len - 1] == '\n');
    FUZZ_CHECK((cp.n_ext == 0) == (cp.ext_off == len));
    char buf[JPL_CHECKPOINT_ORIGIN_MAX + 128];
    size_t n = 0;
    FUZZ_CHECK(jpl_checkpoint_format(cp.origin, cp.size, cp.root, buf, sizeof buf, &n, &e) ==
               JPL_OK);
    FUZZ_CHECK(n == cp.ext_off && memcmp(buf, text, n) == 0);
    FUZZ_CHECK(jpl_checkpoint_parse(buf, n, &again, &e) == JPL_OK);
    FUZZ_CHECK(strcmp(again.origin, cp.origin) == 0 && again.size == cp.size &&
               memcmp(again.root, cp.root, JPL_SHA256_LEN) == 0 && again.n_ext == 0);
    if (len < JPL_NOTE_MAX_SIZE - 512)
        sign_and_open(text, len, &cp);
}

static void open_as_signed(const char *note, size_t len)
{
    static jpl_note_result r;
    jpl_checkpoint cp, direct;
    jpl_error e = {0};
    jpl_err rc = jpl_checkpoint_open(note, len, NULL, verifiers, N_VKEYS, &cp, &r, &e);
    FUZZ_CHECK(rc == JPL_OK || rc == JPL_ERR_TOO_LARGE || rc == JPL_ERR_BAD_INPUT ||
               rc == JPL_ERR_BAD_SIGNATURE || rc == JPL_ERR_UNKNOWN_KEY);
    if (rc != JPL_OK)
        return;
    FUZZ_CHECK(r.n_verified >= 1 && r.text_len < len);
    FUZZ_CHECK(jpl_checkpoint_parse(note, r.text_len, &direct, &e) == JPL_OK);
    FUZZ_CHECK(same_checkpoint(&cp, &direct));
    char buf[JPL_CHECKPOINT_ORIGIN_MAX + 128];
    size_t n = 0;
    FUZZ_CHECK(jpl_checkpoint_format(cp.origin, cp.size, cp.root, buf, sizeof buf, &n, &e) ==
               JPL_OK);
    FUZZ_CHECK(n == cp.ext_off && memcmp(buf, note, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_keys();
    parse_as_text((const char *)data, size);
    open_as_signed((const char *)data, size);
    return 0;
}
