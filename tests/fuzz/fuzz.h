/*
 * Shared declarations of the libFuzzer harnesses in tests/fuzz: the libFuzzer entry point (each
 * fuzz_<name>.c defines it; libFuzzer or standalone_main.c calls it), an invariant check that
 * aborts (so libFuzzer and the replay tests both report it as a crash), and oracles that look at
 * the raw protobuf wire bytes independently of protobuf-c's view of them.
 */
#ifndef JPL_FUZZ_H
#define JPL_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "jpledger.pb-c.h"

/* The libFuzzer entry point: runs one input; returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with file, line and the condition if cond is false: a harness invariant broke. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond);      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The log key of the export bundles in corpus/bundle (made by make_seeds.c): a test key, public
 * on purpose. */
#define FUZZ_BUNDLE_LOG_SKEY                                                                       \
    "PRIVATE+KEY+jpledger.fuzz/log+93462c46+AbOcDj7wultwF5HRIbWhRPli0iArsGEGCeXVMauY49fE"
#define FUZZ_BUNDLE_LOG_VKEY                                                                       \
    "jpledger.fuzz/log+93462c46+AS0mn5izV8QZxeXdH/edRWZs6SuBH+VBtx1MwLB/fATO"

/* Initialises the crypto library once (aborts if it cannot). */
void fuzz_init(void);

/*
 * Walks the protobuf wire bytes buf[0..len) of a message of type d and returns false if any
 * string field (in any nested message) holds a NUL byte: protobuf-c hands strings to C as
 * NUL-terminated char *, so such a string would mean something else to this ledger than the
 * signed bytes say to any other decoder. Returns true for clean input and for wire bytes it
 * cannot walk (only call it on bytes the codec accepted).
 */
bool fuzz_wire_strings_clean(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len);

/*
 * Decodes buf[0..len) as an event and, if the codec accepts it, checks: a 16-byte id and a body;
 * no NUL inside a string on the wire (see above); and that re-encoding is a fixed point
 * (encode(decode(encode(decode(x)))) == encode(decode(x))); and, accepted or not, that decoding
 * into an arena gives the same verdict, error and encoding. Frees everything.
 */
void fuzz_check_event_bytes(const uint8_t *buf, size_t len);

#endif
