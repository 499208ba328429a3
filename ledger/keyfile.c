/* Key files on disk (see keyfile.h): exclusive creation, 0600 for secrets, permission checks. */
#include "jpl/keyfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jpl/crypto.h"

jpl_err jpl_fsync_parent(const char *path, jpl_error *e)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    const char *dir = dirname(copy);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return jpl_fail(e, JPL_ERR_IO, "%s: %s", dir, strerror(errno));
    int rc = fsync(fd);
    close(fd);
    if (rc != 0)
        return jpl_fail(e, JPL_ERR_IO, "fsync %s: %s", dir, strerror(errno));
    return JPL_OK;
}

bool jpl_dir_has_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return false;
    struct dirent *de;
    bool found = false;
    while (!found && (de = readdir(d)) != NULL)
        found = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return found;
}

jpl_err jpl_keyfile_write(const char *path, const char *text, bool secret, jpl_error *e)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, secret ? 0600 : 0644);
    if (fd < 0) {
        if (errno == EEXIST)
            return jpl_fail(e, JPL_ERR_EXISTS, "%s already exists (not overwritten)", path);
        return jpl_fail(e, JPL_ERR_IO, "%s: %s", path, strerror(errno));
    }
    size_t len = strlen(text);
    bool ok = write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
    ok = ok && fsync(fd) == 0;
    close(fd);
    if (!ok) {
        unlink(path);
        return jpl_fail(e, JPL_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    }
    return jpl_fsync_parent(path, e);
}

jpl_err jpl_file_replace(const char *path, const void *data, size_t len, jpl_error *e)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return jpl_fail(e, JPL_ERR_IO, "%s: %s", tmp, strerror(errno));
    bool ok = write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        jpl_fail(e, JPL_ERR_IO, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return JPL_ERR_IO;
    }
    return jpl_fsync_parent(path, e);
}

jpl_err jpl_file_read_all(const char *path, size_t max, char **out, size_t *len_out, jpl_error *e)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return jpl_fail(e, errno == ENOENT ? JPL_ERR_NOT_FOUND : JPL_ERR_IO, "%s: %s", path,
                        strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return jpl_fail(e, JPL_ERR_IO, "%s is a directory, not a file", path);
    }
    char *buf = malloc(max + 1);
    if (buf == NULL) {
        fclose(f);
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    }
    size_t n = fread(buf, 1, max + 1, f);
    int read_errno = ferror(f) ? errno : 0;
    fclose(f);
    if (read_errno != 0) {
        free(buf);
        return jpl_fail(e, JPL_ERR_IO, "%s: read error: %s", path, strerror(read_errno));
    }
    if (n > max) {
        free(buf);
        return jpl_fail(e, JPL_ERR_TOO_LARGE, "%s is larger than %zu bytes", path, max);
    }
    buf[n] = '\0';
    *out = buf;
    *len_out = n;
    return JPL_OK;
}

/* Key text without trailing whitespace/newlines. */
static size_t trimmed_len(const char *s, size_t len)
{
    while (len > 0 &&
           (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    return len;
}

#define SIGNER_PREFIX "PRIVATE+KEY+"

/* A verifier key where a signer key belongs (or the reverse) is the commonest mix-up. */
static bool looks_like_signer(const char *text)
{
    return strncmp(text, SIGNER_PREFIX, strlen(SIGNER_PREFIX)) == 0;
}

jpl_err jpl_keyfile_read_signer(const char *path, jpl_note_signer *out, jpl_error *e)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return jpl_fail(e, errno == ENOENT ? JPL_ERR_NOT_FOUND : JPL_ERR_IO, "%s: %s", path,
                        strerror(errno));
    if (S_ISDIR(st.st_mode)) /* before the mode check, which would say "chmod 600" */
        return jpl_fail(e, JPL_ERR_IO, "%s is a directory, not a key file", path);
    char head[16] = "";
    FILE *f = fopen(path, "rb");
    if (f != NULL) {
        size_t n = fread(head, 1, sizeof head - 1, f);
        head[n] = '\0';
        fclose(f);
    }
    if (!looks_like_signer(head) && strchr(head, '+') != NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "%s holds a verifier (public) key; a private key file is needed here "
                        "(the one keygen wrote without .pub)",
                        path);
    if (st.st_mode & 077)
        return jpl_fail(e, JPL_ERR_FORBIDDEN,
                        "%s: private key is readable by others (mode %03o); run chmod 600 %s", path,
                        (unsigned)(st.st_mode & 0777), path);
    char *text = NULL;
    size_t len = 0;
    jpl_err rc = jpl_file_read_all(path, 4096, &text, &len, e);
    if (rc != JPL_OK)
        return rc;
    rc = jpl_note_signer_parse(text, trimmed_len(text, len), out, e);
    jpl_memzero(text, len);
    free(text);
    if (rc != JPL_OK)
        jpl_error_prefix(e, "%s", path);
    return rc;
}

jpl_err jpl_keyfile_read_verifier(const char *text_or_path, jpl_note_verifier *out, jpl_error *e)
{
    jpl_error direct = {0};
    if (looks_like_signer(text_or_path))
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "that is a private key; give the verifier key (name+id+base64, or the "
                        ".pub file)");
    size_t tlen = strlen(text_or_path);
    if (strchr(text_or_path, '+') != NULL &&
        jpl_note_verifier_parse(text_or_path, trimmed_len(text_or_path, tlen), out, &direct) ==
            JPL_OK)
        return JPL_OK;
    char *text = NULL;
    size_t len = 0;
    jpl_err rc = jpl_file_read_all(text_or_path, 4096, &text, &len, e);
    if (rc == JPL_ERR_NOT_FOUND && direct.code != JPL_OK)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s", direct.msg);
    if (rc == JPL_ERR_NOT_FOUND && strchr(text_or_path, '/') == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "'%.200s' is neither a verifier key (name+id+base64) nor a file that "
                        "holds one",
                        text_or_path);
    if (rc != JPL_OK)
        return rc;
    if (looks_like_signer(text)) {
        jpl_memzero(text, len);
        free(text);
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "%s holds a private key; give the verifier key (the .pub file)",
                        text_or_path);
    }
    rc = jpl_note_verifier_parse(text, trimmed_len(text, len), out, e);
    free(text);
    if (rc != JPL_OK)
        jpl_error_prefix(e, "%s", text_or_path);
    return rc;
}
