/* Shared pieces of the benchmarks (tools/cmd_bench*.c). */
#ifndef JPL_TOOLS_BENCH_H
#define JPL_TOOLS_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "jpl/crypto.h"
#include "jpl/note.h"

#define REPEATS 3

/* Monotonic seconds. */
double now_s(void);
/* Median of REPEATS values (sorts v). */
double median3(double v[REPEATS]);
/* n signed activity_defined envelopes by s (malloc'd; free each .data and the array). */
jpl_bytes *make_events(const jpl_note_signer *s, size_t n, size_t offset);
/* Single-core decode + Ed25519 verification rate of the envelopes (the reference rate). */
double bench_raw_verify(jpl_bytes *envs, size_t n);
/* Single-core Ed25519 verifications per second of one 300-byte message, measured for about
 * `seconds` (a machine reference for figures whose work is mostly signature checks). */
double bench_ed25519_rate(double seconds);
/* `bench ingest` / `bench query` through a server running in this process. */
int bench_api(const char *which, const char *dir, uint64_t events);

#endif
