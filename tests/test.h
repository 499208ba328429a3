/*
 * A tiny test harness: CHECK macros that record failures with file:line and keep going, and a
 * main() helper that runs a table of tests and exits non-zero if any check failed. Each test
 * executable is one CTest test.
 */
#ifndef JPL_TEST_H
#define JPL_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpl/ledger.h"

extern int jpl_test_failures;
extern int jpl_test_checks;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        jpl_test_checks++;                                                                         \
        if (!(cond)) {                                                                             \
            jpl_test_failures++;                                                                   \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                      \
        jpl_test_checks++;                                                                         \
        if (va_ != vb_) {                                                                          \
            jpl_test_failures++;                                                                   \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n", __FILE__,          \
                    __LINE__, #a, va_, #b, vb_);                                                   \
        }                                                                                          \
    } while (0)

#define CHECK_STREQ(a, b)                                                                          \
    do {                                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                                         \
        jpl_test_checks++;                                                                         \
        if (sa_ == NULL || sb_ == NULL || strcmp(sa_, sb_) != 0) {                                 \
            jpl_test_failures++;                                                                   \
            fprintf(stderr, "%s:%d: CHECK_STREQ failed:\n  %s = \"%s\"\n  %s = \"%s\"\n",          \
                    __FILE__, __LINE__, #a, sa_ ? sa_ : "(null)", #b, sb_ ? sb_ : "(null)");       \
        }                                                                                          \
    } while (0)

#define CHECK_MEMEQ(a, b, n)                                                                       \
    do {                                                                                           \
        jpl_test_checks++;                                                                         \
        if (memcmp((a), (b), (n)) != 0) {                                                          \
            jpl_test_failures++;                                                                   \
            fprintf(stderr, "%s:%d: CHECK_MEMEQ failed: %s vs %s\n", __FILE__, __LINE__, #a, #b);  \
        }                                                                                          \
    } while (0)

/* Stops the current test function when a precondition fails. */
#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        jpl_test_checks++;                                                                         \
        if (!(cond)) {                                                                             \
            jpl_test_failures++;                                                                   \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);             \
            return;                                                                                \
        }                                                                                          \
    } while (0)

typedef struct {
    const char *name;
    void (*fn)(void);
} jpl_test_case;

#define TEST_CASE(fn)                                                                              \
    {                                                                                              \
#fn, fn                                                                                    \
    }

/* Runs every case, prints a summary line, returns the process exit code. */
int jpl_test_run(const char *suite, const jpl_test_case *cases, size_t n);

/* Path of a file in tests/vectors (the published vectors copied from shared/vectors). */
const char *jpl_test_vector_path(const char *file);

/* Creates a fresh empty directory under the build tree's test scratch area; returns its path
 * (static storage, valid until the next call). */
const char *jpl_test_tmpdir(const char *name);

/* A new ledger in a fresh scratch directory (jpl_test_tmpdir(name)/ledger), opened for
 * writing into *l: its directory into dir[0..cap), its first admin key into *admin, what init
 * returned into *res (may be NULL). On failure prints why on stderr and returns false. */
bool jpl_test_ledger_new(const char *name, char *dir, size_t cap, jpl_note_signer *admin,
                         jpl_init_result *res, jpl_ledger **l);

#endif
