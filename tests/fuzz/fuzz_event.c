/*
 * Fuzzes jpl_codec_event_decode (the Event bytes a client signs) with the checks of
 * fuzz_check_event_bytes: no crash or leak, typed errors, fixed-length id, a body, no NUL in
 * strings, stable canonical re-encoding. Corpus: tests/fuzz/corpus/event/.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    fuzz_check_event_bytes(data, size);
    return 0;
}
