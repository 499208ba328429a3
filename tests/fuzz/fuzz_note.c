/*
 * Fuzzes the C2SP signed-note opener. Each input is used twice:
 *  1. as a signed note, opened with jpl_note_open against fixed known verifier keys (the Ed25519
 *     keys published in tests/vectors/signed_note_examples.json) and parsed with jpl_note_parse:
 *     typed errors only, offsets inside the note, open and parse agreeing, counts consistent,
 *     each signature's base64 the one canonical spelling of its bytes;
 *  2. as note text, signed with the published PeterNeumann test signer key: whenever jpl_note_sign
 *     accepts the text, opening the result must succeed with exactly that text and that key, and
 *     fail once the text is changed;
 *  3. as a note to cosign with that signer: jpl_note_cosign succeeds exactly when the note
 *     parses, has no line by the signer and room for one more, keeps every byte of the note, and
 *     its one added line verifies over the note's text.
 * Corpus: tests/fuzz/corpus/note/.
 */
#include "fuzz.h"

#include <string.h>

#include "jpl/note.h"

/* Public test keys from tests/vectors/signed_note_examples.json (Ed25519 only). */
static const char *const VKEYS[] = {
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop",
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    "localhost.localdev/sumdb+00000c67+AcTrnkbUA+TU4heY3hkjiSES/DSQniBqIeQ/YppAUtK6",
    "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
    "monkeys+db4d9f7e+AULaJMvTtDLHPUcUrjdDad9vDlh/PTfC2VV60JUtCfWT",
    "bananas+cf639f13+AaPjhFnPCQnid/Ql32KWhmh+uk72FVRfK+2DLmO3BI3M",
    "witness+f13a86db+AdYV1Ztajd9BvyjP2HgpwrqYL6TjOwIjGMOq8Bu42xbN",
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
    FUZZ_CHECK(signer.key_id == verifiers[0].key_id);
    done = true;
}

/* A signature's base64 text must be the one spelling of its bytes (strict decoding): otherwise
 * a third party could change a signed note's bytes without the signer. */
static void check_canonical_b64(const char *b64, size_t len)
{
    static uint8_t raw[JPL_NOTE_SIG_B64_MAX];
    static char again[JPL_NOTE_SIG_B64_MAX + 8];
    size_t n = 0;
    FUZZ_CHECK(len <= JPL_NOTE_SIG_B64_MAX);
    FUZZ_CHECK(jpl_base64_decode(raw, sizeof raw, &n, b64, len));
    FUZZ_CHECK(jpl_base64_encode(again, sizeof again, raw, n));
    FUZZ_CHECK(strlen(again) == len && memcmp(again, b64, len) == 0);
}

/* Structural checks of a successful open or parse of note[0..len). */
static void check_result(const char *note, size_t len, const jpl_note_result *r, bool verified)
{
    FUZZ_CHECK(r->text_len >= 1 && r->text_len < len);
    FUZZ_CHECK(note[r->text_len - 1] == '\n' && note[r->text_len] == '\n');
    FUZZ_CHECK(r->n_sigs >= 1 && r->n_sigs <= JPL_NOTE_SIGS_MAX);
    FUZZ_CHECK(note[len - 1] == '\n');
    size_t distinct = 0, unknown = 0;
    for (size_t i = 0; i < r->n_sigs; i++) {
        const jpl_note_sig *s = &r->sigs[i];
        FUZZ_CHECK(s->line_off > r->text_len && s->line_off < len);
        FUZZ_CHECK(s->name_off > s->line_off && s->name_len >= 1);
        FUZZ_CHECK(s->name_off + s->name_len < s->sig_off);
        FUZZ_CHECK(s->sig_off + s->sig_len < len && note[s->sig_off + s->sig_len] == '\n');
        FUZZ_CHECK(jpl_note_name_valid(note + s->name_off, s->name_len));
        check_canonical_b64(note + s->sig_off, s->sig_len);
        if (i > 0)
            FUZZ_CHECK(s->line_off > r->sigs[i - 1].sig_off + r->sigs[i - 1].sig_len);
        if (s->verifier == JPL_NOTE_NO_VERIFIER) {
            unknown++;
            continue;
        }
        FUZZ_CHECK(verified && s->verifier < N_VKEYS);
        const jpl_note_verifier *v = &verifiers[s->verifier];
        FUZZ_CHECK(v->key_id == s->key_id && strlen(v->name) == s->name_len &&
                   memcmp(v->name, note + s->name_off, s->name_len) == 0);
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen = seen || r->sigs[j].verifier == s->verifier;
        if (!seen)
            distinct++;
    }
    FUZZ_CHECK(r->n_verified == distinct);
    FUZZ_CHECK(r->n_unverified <= unknown);
    FUZZ_CHECK(!verified || r->n_verified >= 1);
    for (size_t k = 0; k < N_VKEYS; k++) {
        bool by = false;
        for (size_t i = 0; i < r->n_sigs; i++)
            by = by || r->sigs[i].verifier == k;
        FUZZ_CHECK(jpl_note_result_verified_by(r, k) == by);
    }
}

static void open_as_note(const char *note, size_t len)
{
    static jpl_note_result r, p;
    jpl_error e = {0}, pe = {0};
    jpl_err rc = jpl_note_open(note, len, verifiers, N_VKEYS, &r, &e);
    FUZZ_CHECK(rc == JPL_OK || rc == JPL_ERR_TOO_LARGE || rc == JPL_ERR_BAD_INPUT ||
               rc == JPL_ERR_BAD_SIGNATURE || rc == JPL_ERR_UNKNOWN_KEY);
    FUZZ_CHECK(rc == JPL_OK || (e.code == rc && e.msg[0] != '\0'));
    if (rc == JPL_OK)
        check_result(note, len, &r, true);
    jpl_err prc = jpl_note_parse(note, len, &p, &pe);
    FUZZ_CHECK(prc == JPL_OK || prc == JPL_ERR_TOO_LARGE || prc == JPL_ERR_BAD_INPUT);
    /* Opening adds verification to parsing; it never changes what is well-formed. */
    bool well_formed = rc == JPL_OK || rc == JPL_ERR_BAD_SIGNATURE || rc == JPL_ERR_UNKNOWN_KEY;
    FUZZ_CHECK(well_formed == (prc == JPL_OK));
    if (prc == JPL_OK) {
        check_result(note, len, &p, false);
        FUZZ_CHECK(p.n_verified == 0);
        if (rc == JPL_OK)
            FUZZ_CHECK(p.text_len == r.text_len && p.n_sigs == r.n_sigs);
    }
}

static void sign_as_text(const char *text, size_t len)
{
    static jpl_note_result r;
    size_t cap = len + 512, out_len = 0;
    char *out = malloc(cap);
    FUZZ_CHECK(out != NULL);
    jpl_error e = {0};
    jpl_err rc = jpl_note_sign(text, len, &signer, out, cap, &out_len, &e);
    FUZZ_CHECK(rc == JPL_OK || rc == JPL_ERR_BAD_INPUT || rc == JPL_ERR_TOO_LARGE);
    if (rc == JPL_OK) {
        FUZZ_CHECK(out_len > len && out_len < cap && out[out_len] == '\0');
        FUZZ_CHECK(memcmp(out, text, len) == 0);
        rc = jpl_note_open(out, out_len, verifiers, N_VKEYS, &r, &e);
        FUZZ_CHECK(rc == JPL_OK);
        FUZZ_CHECK(r.text_len == len && r.n_verified == 1);
        FUZZ_CHECK(r.sigs[r.n_sigs - 1].verifier == 0);
        out[0] ^= 0x01;
        FUZZ_CHECK(jpl_note_open(out, out_len, verifiers, N_VKEYS, &r, NULL) != JPL_OK);
    }
    free(out);
}

static void cosign_as_note(const char *note, size_t len)
{
    static jpl_note_result p, r;
    size_t cap = len + 512, out_len = 0;
    char *out = malloc(cap);
    FUZZ_CHECK(out != NULL);
    jpl_error e = {0};
    jpl_err rc = jpl_note_cosign(note, len, &signer, out, cap, &out_len, &e);
    FUZZ_CHECK(rc == JPL_OK || rc == JPL_ERR_BAD_INPUT || rc == JPL_ERR_TOO_LARGE ||
               rc == JPL_ERR_EXISTS);
    bool parsed = jpl_note_parse(note, len, &p, NULL) == JPL_OK;
    FUZZ_CHECK(rc != JPL_OK || parsed);
    if (rc == JPL_OK) {
        FUZZ_CHECK(out_len > len && out_len < cap && out[out_len] == '\0');
        FUZZ_CHECK(memcmp(out, note, len) == 0);
        FUZZ_CHECK(jpl_note_open(out, out_len, &verifiers[0], 1, &r, &e) == JPL_OK);
        FUZZ_CHECK(r.text_len == p.text_len && r.n_sigs == p.n_sigs + 1);
        FUZZ_CHECK(r.n_verified == 1 && r.sigs[r.n_sigs - 1].verifier == 0);
    } else if (rc == JPL_ERR_EXISTS) {
        FUZZ_CHECK(parsed);
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_keys();
    open_as_note((const char *)data, size);
    sign_as_text((const char *)data, size);
    cosign_as_note((const char *)data, size);
    return 0;
}
