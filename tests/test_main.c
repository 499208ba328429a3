/* Runner and helpers for the tiny test harness in test.h. */
#include "test.h"

#include "jpl/keyfile.h"

#include <sys/stat.h>
#include <unistd.h>

int jpl_test_failures = 0;
int jpl_test_checks = 0;

int jpl_test_run(const char *suite, const jpl_test_case *cases, size_t n)
{
    int failed_cases = 0;
    for (size_t i = 0; i < n; i++) {
        int before = jpl_test_failures;
        cases[i].fn();
        int bad = jpl_test_failures - before;
        printf("%-4s %s.%s\n", bad ? "FAIL" : "ok", suite, cases[i].name);
        if (bad)
            failed_cases++;
    }
    printf("%s: %zu passed, %d failed (%d checks)\n", suite, n - (size_t)failed_cases, failed_cases,
           jpl_test_checks);
    return failed_cases ? 1 : 0;
}

const char *jpl_test_vector_path(const char *file)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", JPL_TEST_VECTORS_DIR, file);
    return path;
}

const char *jpl_test_tmpdir(const char *name)
{
    static char path[4096];
    char cmd[4200];
    snprintf(path, sizeof path, "%s/%s.%ld", JPL_TEST_SCRATCH_DIR, name, (long)getpid());
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        return NULL;
    mkdir(JPL_TEST_SCRATCH_DIR, 0700);
    if (mkdir(path, 0700) != 0)
        return NULL;
    return path;
}

bool jpl_test_ledger_new(const char *name, char *dir, size_t cap, jpl_note_signer *admin,
                         jpl_init_result *res, jpl_ledger **l)
{
    const char *tmp = jpl_test_tmpdir(name);
    if (tmp == NULL)
        return false;
    snprintf(dir, cap, "%s/ledger", tmp);
    jpl_error e = {0};
    jpl_init_result ir;
    if (jpl_ledger_init(dir, NULL, &ir, &e) != JPL_OK ||
        jpl_keyfile_read_signer(ir.admin_key_path, admin, &e) != JPL_OK ||
        jpl_ledger_open(dir, true, l, &e) != JPL_OK) {
        fprintf(stderr, "new ledger %s: %s\n", dir, e.msg);
        return false;
    }
    if (res != NULL)
        *res = ir;
    return true;
}
