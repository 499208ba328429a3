/*
 * Fuzzes jpl_codec_envelope_decode the way an append handles untrusted bytes: decode the
 * SignedEnvelope, decode the event inside it (with the checks of fuzz_check_event_bytes) and
 * verify the Ed25519 signature over "jpledger/event/v1\n" || event. Checks typed errors, the
 * fixed key and signature lengths, and a stable canonical re-encoding. Corpus:
 * tests/fuzz/corpus/envelope/.
 */
#include "fuzz.h"

#include <string.h>

#include "jpl/codec.h"
#include "jpl/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    Jpl__SignedEnvelope *env = NULL, *env2 = NULL;
    jpl_error e = {0};
    jpl_err rc = jpl_codec_envelope_decode(data, size, &env, &e);
    if (rc != JPL_OK) {
        FUZZ_CHECK(env == NULL);
        FUZZ_CHECK(e.code == rc && e.msg[0] != '\0');
        FUZZ_CHECK(rc == JPL_ERR_BAD_INPUT || rc == JPL_ERR_TOO_LARGE);
        return 0;
    }
    FUZZ_CHECK(env->public_key.len == JPL_ED25519_PK_LEN);
    FUZZ_CHECK(env->signature.len == JPL_ED25519_SIG_LEN);
    fuzz_check_event_bytes(env->event.data, env->event.len);
    bool sig_ok =
        jpl_ed25519_verify2(env->signature.data, JPL_EVENT_SIG_PREFIX, JPL_EVENT_SIG_PREFIX_LEN,
                            env->event.data, env->event.len, env->public_key.data);
    uint8_t *b1 = NULL, *b2 = NULL;
    size_t n1 = 0, n2 = 0;
    rc = jpl_codec_envelope_encode(env, &b1, &n1, &e);
    FUZZ_CHECK(rc == JPL_OK || (rc == JPL_ERR_TOO_LARGE && size > JPL_MAX_ENVELOPE_BYTES - 64));
    if (rc == JPL_OK) {
        FUZZ_CHECK(jpl_codec_envelope_decode(b1, n1, &env2, &e) == JPL_OK);
        FUZZ_CHECK(jpl_codec_envelope_encode(env2, &b2, &n2, &e) == JPL_OK);
        FUZZ_CHECK(n1 == n2 && memcmp(b1, b2, n1) == 0);
        /* Re-encoding never changes what is signed. */
        FUZZ_CHECK(env2->event.len == env->event.len);
        FUZZ_CHECK(env->event.len == 0 ||
                   memcmp(env2->event.data, env->event.data, env->event.len) == 0);
        FUZZ_CHECK(sig_ok == jpl_ed25519_verify2(env2->signature.data, JPL_EVENT_SIG_PREFIX,
                                                 JPL_EVENT_SIG_PREFIX_LEN, env2->event.data,
                                                 env2->event.len, env2->public_key.data));
    }
    free(b1);
    free(b2);
    jpl_codec_envelope_free(env2);
    jpl_codec_envelope_free(env);
    return 0;
}
