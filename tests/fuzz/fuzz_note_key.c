/*
 * Fuzzes the signed-note key parsers jpl_note_verifier_parse ("<name>+<id>+<base64>") and
 * jpl_note_signer_parse ("PRIVATE+KEY+..."). Checks typed errors, that an accepted key's name is
 * valid and its key id is the one derived from name and public key, and that printing an
 * accepted key and parsing the text again gives the same key (and the same text, but for the
 * case of the key id's hex digits: one key, one spelling). Corpus: tests/fuzz/corpus/note_key/.
 */
#include "fuzz.h"

#include <string.h>
#include <strings.h>

#include "jpl/note.h"

/* Compares an accepted key text with its printed form: equal, hex case of the key id aside. */
static void check_same_text(const char *in, size_t len, const char *printed, size_t id_off)
{
    FUZZ_CHECK(strlen(printed) == len);
    FUZZ_CHECK(memcmp(in, printed, id_off) == 0);
    FUZZ_CHECK(strncasecmp(in + id_off, printed + id_off, 8) == 0);
    FUZZ_CHECK(memcmp(in + id_off + 8, printed + id_off + 8, len - id_off - 8) == 0);
}

static void verifier(const char *text, size_t len)
{
    jpl_note_verifier v, v2;
    jpl_error e = {0};
    jpl_err rc = jpl_note_verifier_parse(text, len, &v, &e);
    FUZZ_CHECK(rc == JPL_OK || rc == JPL_ERR_BAD_INPUT);
    FUZZ_CHECK(rc == JPL_OK || (e.code == rc && e.msg[0] != '\0'));
    if (rc != JPL_OK)
        return;
    size_t nlen = strlen(v.name);
    FUZZ_CHECK(jpl_note_name_valid(v.name, nlen));
    FUZZ_CHECK(jpl_note_key_id(v.name, v.pk) == v.key_id);
    char buf[JPL_NOTE_VKEY_SIZE];
    FUZZ_CHECK(jpl_note_verifier_format(&v, buf, sizeof buf, &e) == JPL_OK);
    check_same_text(text, len, buf, nlen + 1);
    FUZZ_CHECK(jpl_note_verifier_parse(buf, strlen(buf), &v2, &e) == JPL_OK);
    FUZZ_CHECK(strcmp(v.name, v2.name) == 0 && v.key_id == v2.key_id &&
               memcmp(v.pk, v2.pk, sizeof v.pk) == 0);
}

static void signer(const char *text, size_t len)
{
    jpl_note_signer s, s2;
    jpl_note_verifier v;
    jpl_error e = {0};
    jpl_err rc = jpl_note_signer_parse(text, len, &s, &e);
    FUZZ_CHECK(rc == JPL_OK || rc == JPL_ERR_BAD_INPUT);
    FUZZ_CHECK(rc == JPL_OK || (e.code == rc && e.msg[0] != '\0'));
    if (rc != JPL_OK)
        return;
    size_t nlen = strlen(s.name);
    FUZZ_CHECK(jpl_note_name_valid(s.name, nlen));
    FUZZ_CHECK(jpl_note_key_id(s.name, s.pk) == s.key_id);
    /* The secret key is seed || public key, and the public key is the seed's. */
    FUZZ_CHECK(memcmp(s.sk + JPL_ED25519_SEED_LEN, s.pk, JPL_ED25519_PK_LEN) == 0);
    jpl_note_verifier_from_signer(&s, &v);
    FUZZ_CHECK(v.key_id == s.key_id && memcmp(v.pk, s.pk, sizeof v.pk) == 0);
    char buf[JPL_NOTE_SKEY_SIZE];
    FUZZ_CHECK(jpl_note_signer_format(&s, buf, sizeof buf, &e) == JPL_OK);
    check_same_text(text, len, buf, strlen("PRIVATE+KEY+") + nlen + 1);
    FUZZ_CHECK(jpl_note_signer_parse(buf, strlen(buf), &s2, &e) == JPL_OK);
    FUZZ_CHECK(strcmp(s.name, s2.name) == 0 && s.key_id == s2.key_id &&
               memcmp(s.sk, s2.sk, sizeof s.sk) == 0);
    jpl_memzero(buf, sizeof buf);
    jpl_note_signer_wipe(&s);
    jpl_note_signer_wipe(&s2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    verifier((const char *)data, size);
    signer((const char *)data, size);
    return 0;
}
