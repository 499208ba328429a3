/*
 * A main() for the fuzz harnesses when they are built without libFuzzer: runs
 * LLVMFuzzerTestOneInput once on every file named on the command line and on every regular file
 * (not starting with '.') in every directory named, in name order, so the normal and sanitizer
 * test runs replay the committed corpus as regression tests. Each input is copied into a
 * malloc'd buffer of exactly its size, so AddressSanitizer catches reads past its end.
 *
 *   fuzz_<name>_replay DIR_OR_FILE...
 *
 * Exits 0 after running every input, 1 if an input cannot be read or no input was found, 2 on
 * usage errors. A harness that finds a bug aborts (or the sanitizer stops the process); the name
 * of the input being run is printed first so the failure points at it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define MAX_INPUT_BYTES (16u << 20) /* bytes of one input file */

/* Runs the harness on the file at path; false if it cannot be read. */
static bool run_file(const char *path, size_t *count)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return false;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > MAX_INPUT_BYTES) {
        fprintf(stderr, "%s: cannot stat, or larger than %u bytes\n", path, MAX_INPUT_BYTES);
        fclose(f);
        return false;
    }
    size_t size = (size_t)st.st_size;
    uint8_t *buf = malloc(size ? size : 1);
    if (buf == NULL || fread(buf, 1, size, f) != size) {
        fprintf(stderr, "%s: read error\n", path);
        free(buf);
        fclose(f);
        return false;
    }
    fclose(f);
    printf("%s (%zu bytes)\n", path, size);
    fflush(stdout);
    LLVMFuzzerTestOneInput(buf, size);
    free(buf);
    (*count)++;
    return true;
}

static int not_hidden(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* Runs every regular file of the directory at path, in name order. */
static bool run_dir(const char *path, size_t *count)
{
    struct dirent **names = NULL;
    int n = scandir(path, &names, not_hidden, alphasort);
    if (n < 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return false;
    }
    bool ok = true;
    for (int i = 0; i < n; i++) {
        char file[4096];
        int w = snprintf(file, sizeof file, "%s/%s", path, names[i]->d_name);
        struct stat st;
        if (w < 0 || (size_t)w >= sizeof file) {
            fprintf(stderr, "%s/%s: path too long\n", path, names[i]->d_name);
            ok = false;
        } else if (stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
            ok = run_file(file, count) && ok;
        }
        free(names[i]);
    }
    free(names);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    size_t count = 0;
    bool ok = true;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            ok = false;
        } else if (S_ISDIR(st.st_mode)) {
            ok = run_dir(argv[i], &count) && ok;
        } else {
            ok = run_file(argv[i], &count) && ok;
        }
    }
    printf("%s: replayed %zu inputs\n", argv[0], count);
    if (count == 0) {
        fprintf(stderr, "%s: no inputs found\n", argv[0]);
        return 1;
    }
    return ok ? 0 : 1;
}
