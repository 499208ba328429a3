/*
 * Fuzzes jpl_codec_entry_decode (a stored LogEntry, as read back from the log, an export or a
 * replica): decode, then the envelope's event (with the checks of fuzz_check_event_bytes) and its
 * signature. Checks typed errors, the envelope's fixed lengths, a stable canonical re-encoding
 * that keeps seq, time and the signed bytes, and that decoding into an arena (what replay does)
 * gives the same verdict and fields. Corpus: tests/fuzz/corpus/entry/.
 */
#include "fuzz.h"

#include <string.h>

#include "jpl/codec.h"
#include "jpl/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    Jpl__LogEntry *entry = NULL, *entry2 = NULL;
    jpl_error e = {0};
    jpl_err rc = jpl_codec_entry_decode(data, size, &entry, &e);
    /* the arena decoder (replay's) agrees: verdict, error and fields */
    jpl_codec_arena *a = jpl_codec_arena_new();
    FUZZ_CHECK(a != NULL);
    Jpl__LogEntry *ae = NULL;
    jpl_error ee = {0};
    FUZZ_CHECK(jpl_codec_entry_decode_in(a, data, size, &ae, &ee) == rc);
    FUZZ_CHECK(ee.code == e.code && strcmp(ee.msg, e.msg) == 0);
    if (rc == JPL_OK)
        FUZZ_CHECK(ae->seq == entry->seq && ae->recorded_at_ms == entry->recorded_at_ms &&
                   ae->envelope->event.len == entry->envelope->event.len &&
                   (ae->envelope->event.len == 0 ||
                    memcmp(ae->envelope->event.data, entry->envelope->event.data,
                           ae->envelope->event.len) == 0));
    jpl_codec_arena_free(a);
    if (rc != JPL_OK) {
        FUZZ_CHECK(entry == NULL);
        FUZZ_CHECK(e.code == rc && e.msg[0] != '\0');
        FUZZ_CHECK(rc == JPL_ERR_BAD_INPUT || rc == JPL_ERR_TOO_LARGE);
        return 0;
    }
    const Jpl__SignedEnvelope *env = entry->envelope;
    FUZZ_CHECK(env != NULL);
    FUZZ_CHECK(env->public_key.len == JPL_ED25519_PK_LEN);
    FUZZ_CHECK(env->signature.len == JPL_ED25519_SIG_LEN);
    fuzz_check_event_bytes(env->event.data, env->event.len);
    bool sig_ok =
        jpl_ed25519_verify2(env->signature.data, JPL_EVENT_SIG_PREFIX, JPL_EVENT_SIG_PREFIX_LEN,
                            env->event.data, env->event.len, env->public_key.data);
    uint8_t *b1 = NULL, *b2 = NULL;
    size_t n1 = 0, n2 = 0;
    rc = jpl_codec_entry_encode(entry, &b1, &n1, &e);
    FUZZ_CHECK(rc == JPL_OK || (rc == JPL_ERR_TOO_LARGE && size > JPL_MAX_ENTRY_BYTES - 64));
    if (rc == JPL_OK) {
        FUZZ_CHECK(jpl_codec_entry_decode(b1, n1, &entry2, &e) == JPL_OK);
        FUZZ_CHECK(jpl_codec_entry_encode(entry2, &b2, &n2, &e) == JPL_OK);
        FUZZ_CHECK(n1 == n2 && memcmp(b1, b2, n1) == 0);
        FUZZ_CHECK(entry2->seq == entry->seq && entry2->recorded_at_ms == entry->recorded_at_ms);
        FUZZ_CHECK(entry2->envelope->event.len == env->event.len);
        FUZZ_CHECK(env->event.len == 0 ||
                   memcmp(entry2->envelope->event.data, env->event.data, env->event.len) == 0);
        const Jpl__SignedEnvelope *env2 = entry2->envelope;
        FUZZ_CHECK(sig_ok == jpl_ed25519_verify2(env2->signature.data, JPL_EVENT_SIG_PREFIX,
                                                 JPL_EVENT_SIG_PREFIX_LEN, env2->event.data,
                                                 env2->event.len, env2->public_key.data));
    }
    free(b1);
    free(b2);
    jpl_codec_entry_free(entry2);
    jpl_codec_entry_free(entry);
    return 0;
}
