/*
 * Fuzzes the export bundle reader: each input is a bundle file verified with
 * jpl_bundle_verify against the fixed log key of the corpus (FUZZ_BUNDLE_LOG_VKEY). Checks: only
 * the typed errors of a damaged or forged bundle (never I/O, internal or not found), with a
 * message; the report agrees with the result (ok, every entry checked, one checkpoint; a named
 * bad entry lies within the checkpoint's size, or right after it); and the verdict is the same
 * with one thread and with two. Corpus: tests/fuzz/corpus/bundle/ (seeds from make_seeds.c).
 */
#include "fuzz.h"

#include <string.h>
#include <unistd.h>

#include "jpl/bundle.h"

static jpl_note_verifier log_key;
static char path[64];

static void init_once(void)
{
    static bool done;
    if (done)
        return;
    fuzz_init();
    FUZZ_CHECK(jpl_note_verifier_parse(FUZZ_BUNDLE_LOG_VKEY, strlen(FUZZ_BUNDLE_LOG_VKEY), &log_key,
                                       NULL) == JPL_OK);
    snprintf(path, sizeof path, "/tmp/jpl-fuzz-bundle-%ld", (long)getpid());
    done = true;
}

static bool typed(jpl_err rc)
{
    switch (rc) {
    case JPL_OK:
    case JPL_ERR_BAD_INPUT:
    case JPL_ERR_TOO_LARGE:
    case JPL_ERR_BAD_SIGNATURE:
    case JPL_ERR_UNKNOWN_KEY:
    case JPL_ERR_KEY_REVOKED:
    case JPL_ERR_FORBIDDEN:
    case JPL_ERR_CORRUPT:
        return true;
    default:
        return false;
    }
}

static jpl_err verify(int threads, jpl_verify_report *rep)
{
    jpl_error e = {0};
    jpl_err rc = jpl_bundle_verify(path, &log_key, threads, NULL, NULL, rep, &e);
    FUZZ_CHECK(typed(rc));
    FUZZ_CHECK(rep->ok == (rc == JPL_OK));
    if (rc != JPL_OK) {
        FUZZ_CHECK(e.code == rc && e.msg[0] != '\0');
        FUZZ_CHECK(!rep->entry_failed || rep->first_bad_seq <= rep->size);
    } else {
        FUZZ_CHECK(rep->size > 0 && rep->entries == rep->size && rep->checkpoints == 1);
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(size == 0 || fwrite(data, 1, size, f) == size);
    FUZZ_CHECK(fclose(f) == 0);
    jpl_verify_report one, two;
    jpl_err rc1 = verify(1, &one);
    jpl_err rc2 = verify(2, &two);
    FUZZ_CHECK(rc1 == rc2 && one.entry_failed == two.entry_failed &&
               (!one.entry_failed || one.first_bad_seq == two.first_bad_seq));
    FUZZ_CHECK(rc1 != JPL_OK || memcmp(one.root, two.root, sizeof one.root) == 0);
    unlink(path);
    return 0;
}
