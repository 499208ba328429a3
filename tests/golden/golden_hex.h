/*
 * Reading and writing the golden vector files of tests/golden (*.hex): lines starting with '#'
 * are comments, every other line holds lowercase hex digits (whitespace ignored), and the bytes
 * are the concatenation of all hex digits. Used by tests/unit/test_golden.c (which pins the
 * bytes) and tests/fuzz/make_seeds.c (which turns them into fuzz seeds). Header-only: static
 * inline helpers for test programs, not part of any library.
 */
#ifndef JPL_GOLDEN_HEX_H
#define JPL_GOLDEN_HEX_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN_MAX_FILE (1u << 20) /* bytes of one .hex file */
#define GOLDEN_HEX_PER_LINE 64     /* hex digits per written line */

static inline int golden_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/*
 * Reads the golden file at path into a malloc'd buffer (*buf_out, *len_out; the caller frees).
 * Returns false with a message in why[0..whycap) if the file is missing, too large, or holds
 * anything but comments, whitespace and an even number of lowercase hex digits.
 */
static inline bool golden_hex_read(const char *path, uint8_t **buf_out, size_t *len_out, char *why,
                                   size_t whycap)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(why, whycap, "%s: %s", path, strerror(errno));
        return false;
    }
    char *text = malloc(GOLDEN_MAX_FILE + 1);
    uint8_t *out = malloc(GOLDEN_MAX_FILE / 2 + 1);
    if (text == NULL || out == NULL) {
        fclose(f);
        free(text);
        free(out);
        snprintf(why, whycap, "out of memory");
        return false;
    }
    size_t n = fread(text, 1, GOLDEN_MAX_FILE + 1, f);
    bool read_error = ferror(f) != 0;
    fclose(f);
    bool ok = true;
    if (read_error || n > GOLDEN_MAX_FILE) {
        snprintf(why, whycap, "%s: %s", path, read_error ? "read error" : "file too large");
        ok = false;
    }
    size_t len = 0, line = 1;
    int hi = -1;
    bool comment = false, line_start = true;
    for (size_t i = 0; ok && i < n; i++) {
        int c = (unsigned char)text[i];
        if (c == '\n') {
            line++;
            comment = false;
            line_start = true;
            continue;
        }
        if (comment)
            continue;
        if (line_start && c == '#') {
            comment = true;
            continue;
        }
        line_start = false;
        if (c == ' ' || c == '\t' || c == '\r')
            continue;
        int d = golden_hex_digit(c);
        if (d < 0) {
            snprintf(why, whycap, "%s:%zu: unexpected character 0x%02x", path, line, (unsigned)c);
            ok = false;
        } else if (hi < 0) {
            hi = d;
        } else {
            out[len++] = (uint8_t)(hi << 4 | d);
            hi = -1;
        }
    }
    if (ok && hi >= 0) {
        snprintf(why, whycap, "%s: odd number of hex digits", path);
        ok = false;
    }
    free(text);
    if (!ok) {
        free(out);
        return false;
    }
    *buf_out = out;
    *len_out = len;
    return true;
}

/*
 * Writes buf[0..len) to path as a golden file: the comment line "# " comment, then lowercase
 * hex, GOLDEN_HEX_PER_LINE digits a line. Returns false with a message in why on failure.
 */
static inline bool golden_hex_write(const char *path, const char *comment, const uint8_t *buf,
                                    size_t len, char *why, size_t whycap)
{
    static const char digits[] = "0123456789abcdef";
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        snprintf(why, whycap, "%s: %s", path, strerror(errno));
        return false;
    }
    fprintf(f, "# %s\n", comment);
    for (size_t i = 0; i < len; i++) {
        fputc(digits[buf[i] >> 4], f);
        fputc(digits[buf[i] & 15], f);
        if ((2 * (i + 1)) % GOLDEN_HEX_PER_LINE == 0 || i + 1 == len)
            fputc('\n', f);
    }
    bool ok = ferror(f) == 0;
    if (fclose(f) != 0)
        ok = false;
    if (!ok)
        snprintf(why, whycap, "%s: write error", path);
    return ok;
}

#endif
