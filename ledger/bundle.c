/*
 * Export bundles (bundle.h): writing one from a ledger, and verifying one offline with the
 * entry checks of check.h, the same code that verifies a ledger.
 *
 * The format (docs/FORMAT.md "Export bundles" is the reference):
 *
 *   "JPLEXPRT"                      8-byte magic
 *   u32 version = 1                 big-endian, like every integer here
 *   records, each: u8 type, u32 payload length, payload
 *     0x01 origin        the log's origin line (UTF-8, no newline)
 *     0x02 log key       the log's verifier key text (name+keyid+base64)
 *     0x03 checkpoint    the signed checkpoint note of size N, verbatim
 *     0x04 entry         the stored LogEntry bytes of seq 0, 1, ..., N-1, one record each
 *     0x05 end           u64 N
 *   nothing after the end record.
 *
 * For example, the 1053-byte bundle of a 4-entry log (init, one key registered, two events):
 *   offset    0  4a504c4558505254 00000001          "JPLEXPRT", version 1
 *            12  01 00000012 6a706c6564676572...    origin "jpledger.local/log" (18 bytes)
 *            35  02 00000048 6a706c6564676572...    log key "jpledger.local/log+74d32ddb+Ae..."
 *           112  03 000000b7 6a706c6564676572...    checkpoint note "jpledger.local/log\n4\n..."
 *           300  04 000000b8 08 00 10 92eb96...     entry 0 (LogEntry: seq 0, recorded_at, ...)
 *           489  04 000000bd 08 01 10 d1eb96...     entry 1
 *           683  04 ...  862  04 ...                entries 2 and 3
 *          1040  05 00000008 0000000000000004      end: 4 entries
 *
 * Types 0x80-0xff are ancillary: readers skip those they do not know, and nothing in them is
 * trusted (a later version may add, say, an index). Any other unknown type is refused: it may
 * change the meaning of what follows, and needs a reader that knows it. Nothing in a bundle needs
 * its own checksum: the checkpoint is signed, the entries are committed to by its root, the log
 * key must be the one the auditor brings and the checkpoint must name the origin.
 */
#include "jpl/bundle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "jpl/codec.h"
#include "jpl/cosign.h"
#include "jpl/keyfile.h"
#include "jpl/store.h"

enum {
    REC_EOF = -1, /* no record: the end of the file */
    REC_ORIGIN = 0x01,
    REC_LOG_KEY = 0x02,
    REC_CHECKPOINT = 0x03,
    REC_ENTRY = 0x04,
    REC_END = 0x05,
    REC_ANCILLARY = 0x80, /* and above */
};

#define HEADER_LEN (JPL_BUNDLE_MAGIC_LEN + 4)
#define RECORD_HEAD_LEN 5
#define ANCILLARY_MAX (16u << 20)
#define IO_BUFFER (1u << 20)
#define PROGRESS_EVERY 4096

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *record_name(int type)
{
    switch (type) {
    case REC_ORIGIN:
        return "origin";
    case REC_LOG_KEY:
        return "log key";
    case REC_CHECKPOINT:
        return "checkpoint";
    case REC_ENTRY:
        return "entry";
    case REC_END:
        return "end";
    case REC_EOF:
        return "end of file";
    default:
        return type >= REC_ANCILLARY ? "ancillary" : "unknown";
    }
}

/* Largest payload of a record type; 0 for a type this version does not know. */
static size_t record_max(int type)
{
    switch (type) {
    case REC_ORIGIN:
        return JPL_CHECKPOINT_ORIGIN_MAX;
    case REC_LOG_KEY:
        return JPL_NOTE_VKEY_SIZE;
    case REC_CHECKPOINT:
        return JPL_NOTE_MAX_SIZE;
    case REC_ENTRY:
        return JPL_MAX_ENTRY_BYTES;
    case REC_END:
        return 8;
    default:
        return type >= REC_ANCILLARY ? ANCILLARY_MAX : 0;
    }
}

/* ---- writing ---- */

struct jpl_bundle_writer {
    FILE *f;
    bool force;
    jpl_checkpoint cp; /* the checkpoint written, parsed */
    uint64_t put;      /* entries written */
    uint64_t bytes;
    char path[4096];
    char tmp[4200];
};

static jpl_err write_bytes(jpl_bundle_writer *w, const void *p, size_t n, jpl_error *e)
{
    if (n > 0 && fwrite(p, 1, n, w->f) != n)
        return jpl_fail(e, JPL_ERR_IO, "writing %s: %s", w->tmp, strerror(errno));
    w->bytes += n;
    return JPL_OK;
}

static jpl_err write_record(jpl_bundle_writer *w, int type, const void *p, size_t n, jpl_error *e)
{
    uint8_t h[RECORD_HEAD_LEN];
    h[0] = (uint8_t)type;
    jpl_put_u32be(h + 1, (uint32_t)n);
    jpl_err rc = write_bytes(w, h, sizeof h, e);
    return rc == JPL_OK ? write_bytes(w, p, n, e) : rc;
}

/* Parses the checkpoint note that will go into the bundle (not verified: the auditor does). */
static jpl_err parse_checkpoint(const char *note, size_t len, const char *origin,
                                jpl_checkpoint *cp, jpl_error *e)
{
    jpl_note_result *nr = malloc(sizeof *nr);
    if (nr == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl_err rc = jpl_note_parse(note, len, nr, e);
    if (rc == JPL_OK)
        rc = jpl_checkpoint_parse(note, nr->text_len, cp, e);
    free(nr);
    if (rc != JPL_OK) {
        jpl_error_prefix(e, "checkpoint");
        return rc;
    }
    if (strcmp(cp->origin, origin) != 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "the checkpoint's origin %s is not the log's %s",
                        cp->origin, origin);
    return JPL_OK;
}

static jpl_err open_temp(jpl_bundle_writer *w, jpl_error *e)
{
    snprintf(w->tmp, sizeof w->tmp, "%s.XXXXXX", w->path);
    int fd = mkstemp(w->tmp); /* mode 0600 */
    if (fd < 0)
        return jpl_fail(e, JPL_ERR_IO, "cannot create %s: %s", w->tmp, strerror(errno));
    w->f = fdopen(fd, "wb");
    if (w->f == NULL) {
        close(fd);
        unlink(w->tmp);
        return jpl_fail(e, JPL_ERR_IO, "%s: %s", w->tmp, strerror(errno));
    }
    setvbuf(w->f, NULL, _IOFBF, IO_BUFFER);
    return JPL_OK;
}

/* FILE may be missing, or (with --force) a regular file or a link to replace; never a
 * directory, device, pipe or socket, which a rename would replace or destroy. */
static jpl_err check_out_path(const char *path, bool force, jpl_error *e)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return JPL_OK;
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
        return jpl_fail(e, JPL_ERR_IO, "%s is %s, not a file: not replaced", path,
                        S_ISDIR(st.st_mode) ? "a directory" : "a device, pipe or socket");
    if (!force)
        return jpl_fail(e, JPL_ERR_EXISTS,
                        "%s already exists: not replaced (export --force replaces it)", path);
    return JPL_OK;
}

jpl_err jpl_bundle_create(const char *path, bool force, const char *origin, const char *log_vkey,
                          const char *note, size_t len, jpl_bundle_writer **out, jpl_error *e)
{
    if (strlen(path) >= sizeof((jpl_bundle_writer *)0)->path)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "the output path is too long");
    jpl_err rc = check_out_path(path, force, e);
    if (rc != JPL_OK)
        return rc;
    jpl_bundle_writer *w = calloc(1, sizeof *w);
    if (w == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    snprintf(w->path, sizeof w->path, "%s", path);
    w->force = force;
    rc = parse_checkpoint(note, len, origin, &w->cp, e);
    if (rc == JPL_OK)
        rc = open_temp(w, e);
    uint8_t head[HEADER_LEN];
    memcpy(head, JPL_BUNDLE_MAGIC, JPL_BUNDLE_MAGIC_LEN);
    jpl_put_u32be(head + JPL_BUNDLE_MAGIC_LEN, JPL_BUNDLE_VERSION);
    if (rc == JPL_OK)
        rc = write_bytes(w, head, sizeof head, e);
    if (rc == JPL_OK)
        rc = write_record(w, REC_ORIGIN, origin, strlen(origin), e);
    if (rc == JPL_OK)
        rc = write_record(w, REC_LOG_KEY, log_vkey, strlen(log_vkey), e);
    if (rc == JPL_OK)
        rc = write_record(w, REC_CHECKPOINT, note, len, e);
    if (rc != JPL_OK) {
        jpl_bundle_abort(w);
        return rc;
    }
    *out = w;
    return JPL_OK;
}

const jpl_checkpoint *jpl_bundle_writer_checkpoint(const jpl_bundle_writer *w)
{
    return &w->cp;
}

jpl_err jpl_bundle_put_entry(jpl_bundle_writer *w, const uint8_t *bytes, size_t len, jpl_error *e)
{
    if (w->put >= w->cp.size)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "entry %llu is beyond the checkpoint's size %llu",
                        (unsigned long long)w->put, (unsigned long long)w->cp.size);
    if (len > JPL_MAX_ENTRY_BYTES)
        return jpl_fail(e, JPL_ERR_TOO_LARGE, "entry %llu has %zu bytes, over the limit of %u",
                        (unsigned long long)w->put, len, JPL_MAX_ENTRY_BYTES);
    jpl_err rc = write_record(w, REC_ENTRY, bytes, len, e);
    if (rc == JPL_OK)
        w->put++;
    return rc;
}

void jpl_bundle_abort(jpl_bundle_writer *w)
{
    if (w == NULL)
        return;
    if (w->f != NULL) {
        fclose(w->f);
        unlink(w->tmp);
    }
    free(w);
}

/* Moves the finished temporary file to its path: link() refuses an existing path atomically. */
static jpl_err publish(jpl_bundle_writer *w, jpl_error *e)
{
    if (w->force) {
        if (rename(w->tmp, w->path) != 0)
            return jpl_fail(e, JPL_ERR_IO, "cannot rename %s to %s: %s", w->tmp, w->path,
                            strerror(errno));
        return JPL_OK;
    }
    if (link(w->tmp, w->path) != 0)
        return errno == EEXIST
                   ? jpl_fail(e, JPL_ERR_EXISTS,
                              "%s appeared during the export: not replaced (export --force "
                              "replaces it)",
                              w->path)
                   : jpl_fail(e, JPL_ERR_IO, "cannot create %s: %s", w->path, strerror(errno));
    unlink(w->tmp);
    return JPL_OK;
}

jpl_err jpl_bundle_commit(jpl_bundle_writer *w, uint64_t *bytes_out, jpl_error *e)
{
    jpl_err rc = JPL_OK;
    if (w->put != w->cp.size)
        rc = jpl_fail(e, JPL_ERR_BAD_INPUT, "%llu entries for a checkpoint of size %llu",
                      (unsigned long long)w->put, (unsigned long long)w->cp.size);
    uint8_t n[8];
    jpl_put_u64be(n, w->put);
    if (rc == JPL_OK)
        rc = write_record(w, REC_END, n, sizeof n, e);
    if (rc == JPL_OK && (fflush(w->f) != 0 || fsync(fileno(w->f)) != 0))
        rc = jpl_fail(e, JPL_ERR_IO, "writing %s: %s", w->tmp, strerror(errno));
    if (rc != JPL_OK) {
        jpl_bundle_abort(w);
        return rc;
    }
    int closed = fclose(w->f);
    w->f = NULL;
    if (closed != 0)
        rc = jpl_fail(e, JPL_ERR_IO, "writing %s: %s", w->tmp, strerror(errno));
    if (rc == JPL_OK)
        rc = publish(w, e);
    if (rc != JPL_OK)
        unlink(w->tmp);
    if (rc == JPL_OK)
        rc = jpl_fsync_parent(w->path, e);
    if (rc == JPL_OK)
        *bytes_out = w->bytes;
    free(w);
    return rc;
}

/* ---- exporting a ledger ---- */

static jpl_err export_entries(jpl_ledger *l, jpl_bundle_writer *w, jpl_verify_progress_fn progress,
                              void *pctx, jpl_error *e)
{
    uint64_t size = w->cp.size;
    uint8_t k[8];
    jpl_put_u64be(k, 0);
    jpl_iter *it = jpl_store_iter(jpl_ledger_store(l), JPL_CF_LOG, k, 8);
    if (it == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl_err rc = JPL_OK;
    for (uint64_t seq = 0; rc == JPL_OK && seq < size; seq++, jpl_iter_next(it)) {
        size_t klen = 0, vlen = 0;
        const uint8_t *key = jpl_iter_valid(it) ? jpl_iter_key(it, &klen) : NULL;
        if (key == NULL || klen != 8 || jpl_get_u64be(key) != seq) {
            rc = jpl_iter_status(it, e);
            if (rc == JPL_OK)
                rc = jpl_fail(e, JPL_ERR_CORRUPT, "seq %llu: entry is missing from the log",
                              (unsigned long long)seq);
            break;
        }
        const uint8_t *val = jpl_iter_value(it, &vlen);
        rc = jpl_bundle_put_entry(w, val, vlen, e);
        if (progress && (seq + 1) % PROGRESS_EVERY == 0)
            progress(pctx, seq + 1, size);
    }
    jpl_iter_free(it);
    if (rc == JPL_OK && progress)
        progress(pctx, size, size);
    return rc;
}

jpl_err jpl_ledger_export(jpl_ledger *l, uint64_t size, const char *path, bool force,
                          jpl_verify_progress_fn progress, void *pctx, jpl_export_report *rep,
                          jpl_error *e)
{
    double t0 = now_s();
    char *note = NULL;
    jpl_err rc =
        size ? jpl_ledger_checkpoint_at(l, size, &note, e) : jpl_ledger_checkpoint(l, &note, e);
    jpl_bundle_writer *w = NULL;
    if (rc == JPL_OK)
        rc = jpl_bundle_create(path, force, jpl_ledger_origin(l), jpl_ledger_log_vkey(l), note,
                               strlen(note), &w, e);
    free(note);
    if (rc != JPL_OK)
        return rc;
    jpl_export_report r = {.size = w->cp.size};
    memcpy(r.root, w->cp.root, sizeof r.root);
    rc = export_entries(l, w, progress, pctx, e);
    if (rc != JPL_OK) {
        jpl_bundle_abort(w);
        return rc;
    }
    rc = jpl_bundle_commit(w, &r.bytes, e);
    r.seconds = now_s() - t0;
    if (rc == JPL_OK)
        *rep = r;
    return rc;
}

/* ---- verifying ---- */

/* Every event id seen so far with its event type: open addressing under a keyed hash, so a
 * bundle cannot be crafted to make lookups slow. */
typedef struct {
    uint8_t (*ids)[JPL_EVENT_ID_LEN];
    uint32_t *types; /* body case; 0 (never a decoded event's) marks an empty slot */
    size_t cap, n;   /* cap: a power of two */
    uint8_t key[JPL_SIPHASH_KEY_LEN];
} idset;

static size_t idset_slot(const idset *s, const uint8_t *id)
{
    size_t i = (size_t)jpl_siphash(s->key, id, JPL_EVENT_ID_LEN) & (s->cap - 1);
    while (s->types[i] != 0 && memcmp(s->ids[i], id, JPL_EVENT_ID_LEN) != 0)
        i = (i + 1) & (s->cap - 1);
    return i;
}

static bool idset_resize(idset *s, size_t cap)
{
    idset t = {.cap = cap};
    memcpy(t.key, s->key, sizeof t.key);
    t.ids = malloc(cap * sizeof *t.ids);
    t.types = calloc(cap, sizeof *t.types);
    if (t.ids == NULL || t.types == NULL) {
        free(t.ids);
        free(t.types);
        return false;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (s->types[i] == 0)
            continue;
        size_t j = idset_slot(&t, s->ids[i]);
        memcpy(t.ids[j], s->ids[i], JPL_EVENT_ID_LEN);
        t.types[j] = s->types[i];
    }
    t.n = s->n;
    free(s->ids);
    free(s->types);
    *s = t;
    return true;
}

/* Adds id with its type; false if it was there already (*dup set) or memory ran out. */
static bool idset_add(idset *s, const uint8_t *id, uint32_t type, bool *dup)
{
    *dup = false;
    if ((s->n + 1) * 5 > s->cap * 4 && !idset_resize(s, s->cap ? s->cap * 2 : 1u << 16))
        return false;
    size_t i = idset_slot(s, id);
    if (s->types[i] != 0) {
        *dup = true;
        return false;
    }
    memcpy(s->ids[i], id, JPL_EVENT_ID_LEN);
    s->types[i] = type;
    s->n++;
    return true;
}

static void idset_free(idset *s)
{
    free(s->ids);
    free(s->types);
}

typedef struct {
    FILE *f;
    const char *path;
    uint64_t off; /* offset of the next unread byte */
    jpl_check ck;
    idset ids;
} reader;

/* Reads up to n bytes; returns how many were read (short only at the end or on an error). */
static size_t read_bytes(reader *r, void *p, size_t n)
{
    size_t got = n ? fread(p, 1, n, r->f) : 0;
    r->off += got;
    return got;
}

static jpl_err read_failure(reader *r, uint64_t at, const char *what, size_t want, size_t got,
                            jpl_error *e)
{
    if (ferror(r->f))
        return jpl_fail(e, JPL_ERR_IO, "reading %s: %s", r->path, strerror(errno));
    return jpl_fail(e, JPL_ERR_CORRUPT,
                    "byte %llu: the bundle is truncated (%s of %zu bytes, %zu present)",
                    (unsigned long long)at, what, want, got);
}

static jpl_err skip_bytes(reader *r, uint64_t at, size_t n, jpl_error *e)
{
    uint8_t buf[4096];
    size_t done = 0;
    while (done < n) {
        size_t want = n - done < sizeof buf ? n - done : sizeof buf;
        size_t got = read_bytes(r, buf, want);
        done += got;
        if (got < want)
            return read_failure(r, at, "an ancillary record", n, done, e);
    }
    return JPL_OK;
}

/* The next record that is not ancillary: *type_out (REC_EOF at the end of the file) and its
 * payload, malloc'd and NUL-terminated (the caller frees it). */
static jpl_err next_record(reader *r, int *type_out, uint8_t **payload_out, size_t *len_out,
                           jpl_error *e)
{
    for (;;) {
        uint64_t at = r->off;
        uint8_t h[RECORD_HEAD_LEN];
        size_t got = read_bytes(r, h, sizeof h);
        if (got == 0 && !ferror(r->f)) {
            *type_out = REC_EOF;
            *payload_out = NULL;
            *len_out = 0;
            return JPL_OK;
        }
        if (got < sizeof h)
            return read_failure(r, at, "a record header", sizeof h, got, e);
        int type = h[0];
        size_t len = jpl_get_u32be(h + 1), max = record_max(type);
        if (max == 0)
            return jpl_fail(e, JPL_ERR_BAD_INPUT,
                            "byte %llu: unknown record type 0x%02x (from a newer jpledger?)",
                            (unsigned long long)at, (unsigned)type);
        if (len > max)
            return jpl_fail(e, JPL_ERR_CORRUPT, "byte %llu: %s record of %zu bytes (at most %zu)",
                            (unsigned long long)at, record_name(type), len, max);
        if (type >= REC_ANCILLARY) {
            jpl_err rc = skip_bytes(r, at, len, e);
            if (rc != JPL_OK)
                return rc;
            continue;
        }
        uint8_t *p = malloc(len + 1);
        if (p == NULL)
            return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
        got = read_bytes(r, p, len);
        if (got < len) {
            free(p);
            char what[32];
            snprintf(what, sizeof what, "%s record", record_name(type));
            return read_failure(r, at, what, len, got, e);
        }
        p[len] = 0;
        *type_out = type;
        *payload_out = p;
        *len_out = len;
        return JPL_OK;
    }
}

/* The next record, which must be of type want. */
static jpl_err expect_record(reader *r, int want, uint8_t **payload_out, size_t *len_out,
                             jpl_error *e)
{
    uint64_t at = r->off;
    int type = 0;
    jpl_err rc = next_record(r, &type, payload_out, len_out, e);
    if (rc == JPL_OK && type != want) {
        free(*payload_out);
        *payload_out = NULL;
        rc = jpl_fail(e, JPL_ERR_CORRUPT, "byte %llu: %s record where the %s record belongs",
                      (unsigned long long)at, record_name(type), record_name(want));
    }
    return rc;
}

static jpl_err bundle_read(void *ctx, uint64_t seq, uint64_t to, jpl_check_raw *raw, size_t max,
                           size_t *n_out, jpl_error *e)
{
    reader *r = ctx;
    size_t n = 0;
    *n_out = 0;
    while (n < max && seq < to) {
        uint64_t at = r->off;
        int type = 0;
        uint8_t *p = NULL;
        size_t len = 0;
        jpl_err rc = next_record(r, &type, &p, &len, e);
        if (rc != JPL_OK) {
            jpl_error_prefix(e, "seq %llu", (unsigned long long)seq);
            return rc;
        }
        if (type != REC_ENTRY) {
            free(p);
            if (type == REC_END)
                return jpl_fail(e, JPL_ERR_CORRUPT,
                                "seq %llu: the bundle ends after %llu entries, but its "
                                "checkpoint is of size %llu",
                                (unsigned long long)seq, (unsigned long long)seq,
                                (unsigned long long)to);
            return jpl_fail(e, JPL_ERR_CORRUPT, "seq %llu: byte %llu: %s where the entry belongs",
                            (unsigned long long)seq, (unsigned long long)at, record_name(type));
        }
        raw[n] = (jpl_check_raw){p, len};
        *n_out = ++n;
        seq++;
    }
    return JPL_OK;
}

static jpl_err bundle_target_type(void *ctx, const uint8_t *id, int *bc_out, jpl_error *e)
{
    reader *r = ctx;
    size_t i = r->ids.cap ? idset_slot(&r->ids, id) : 0;
    if (r->ids.cap == 0 || r->ids.types[i] == 0)
        return jpl_check_fail(&r->ck, JPL_ERR_CORRUPT,
                              "revocation of an event that no earlier entry holds", e);
    *bc_out = (int)r->ids.types[i];
    return JPL_OK;
}

static jpl_err bundle_entry_done(void *ctx, const Jpl__Event *ev, jpl_error *e)
{
    reader *r = ctx;
    bool dup = false;
    if (idset_add(&r->ids, ev->event_id.data, (uint32_t)ev->body_case, &dup))
        return JPL_OK;
    if (dup)
        return jpl_check_fail(&r->ck, JPL_ERR_CORRUPT,
                              "the event id is an earlier entry's (event ids are unique)", e);
    return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
}

static const jpl_check_ops BUNDLE_OPS = {
    .read = bundle_read,
    .target_type = bundle_target_type,
    .entry_done = bundle_entry_done,
};

static jpl_err open_bundle(reader *r, const char *path, jpl_error *e)
{
    r->path = path;
    r->f = fopen(path, "rb");
    if (r->f == NULL)
        return jpl_fail(e, errno == ENOENT ? JPL_ERR_NOT_FOUND : JPL_ERR_IO, "%s: %s", path,
                        strerror(errno));
    struct stat st;
    if (fstat(fileno(r->f), &st) == 0 && S_ISDIR(st.st_mode))
        return jpl_fail(e, JPL_ERR_IO, "%s is a directory, not a file", path);
    setvbuf(r->f, NULL, _IOFBF, IO_BUFFER);
    uint8_t h[HEADER_LEN];
    size_t got = read_bytes(r, h, sizeof h);
    if (got < sizeof h || memcmp(h, JPL_BUNDLE_MAGIC, JPL_BUNDLE_MAGIC_LEN) != 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s is not a jpledger export bundle (no %s header)",
                        path, JPL_BUNDLE_MAGIC);
    uint32_t version = jpl_get_u32be(h + JPL_BUNDLE_MAGIC_LEN);
    if (version != JPL_BUNDLE_VERSION)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "%s is an export of format version %u; this jpledger reads version %u",
                        path, version, JPL_BUNDLE_VERSION);
    return JPL_OK;
}

/* The bundle's log key must be the key the auditor brings. */
static jpl_err check_log_key(const char *text, size_t len, const jpl_note_verifier *given,
                             jpl_error *e)
{
    jpl_note_verifier vk;
    jpl_error pe = {0};
    if (jpl_note_verifier_parse(text, len, &vk, &pe) != JPL_OK)
        return jpl_fail(e, JPL_ERR_CORRUPT, "the bundle's log key does not parse: %s", pe.msg);
    if (strcmp(vk.name, given->name) == 0 && vk.key_id == given->key_id &&
        memcmp(vk.pk, given->pk, sizeof vk.pk) == 0)
        return JPL_OK;
    char want[JPL_NOTE_VKEY_SIZE];
    if (jpl_note_verifier_format(given, want, sizeof want, NULL) != JPL_OK)
        snprintf(want, sizeof want, "%s", given->name);
    return jpl_fail(e, JPL_ERR_BAD_SIGNATURE,
                    "the bundle is of log key %s, not of the given key %s", text, want);
}

/* Reads and checks the records before the entries; the checkpoint's signature is checked here,
 * before hours of entry checks, and its root after them. */
static jpl_err read_head(reader *r, const jpl_note_verifier *log_key, char **origin_out,
                         char **note_out, size_t *note_len, jpl_checkpoint *cp, jpl_error *e)
{
    uint8_t *origin = NULL, *key = NULL, *note = NULL;
    size_t olen = 0, klen = 0;
    jpl_err rc = expect_record(r, REC_ORIGIN, &origin, &olen, e);
    if (rc == JPL_OK)
        rc = expect_record(r, REC_LOG_KEY, &key, &klen, e);
    if (rc == JPL_OK)
        rc = check_log_key((const char *)key, klen, log_key, e);
    if (rc == JPL_OK)
        rc = expect_record(r, REC_CHECKPOINT, &note, note_len, e);
    if (rc == JPL_OK && strlen((const char *)origin) != olen)
        rc = jpl_fail(e, JPL_ERR_CORRUPT, "the origin record holds a NUL byte");
    if (rc == JPL_OK && strcmp((const char *)origin, log_key->name) != 0)
        rc = jpl_fail(e, JPL_ERR_CORRUPT,
                      "the origin record \"%s\" is not the log key's name \"%s\"",
                      (const char *)origin, log_key->name);
    jpl_error ce = {0};
    if (rc == JPL_OK && jpl_checkpoint_open((const char *)note, *note_len, (const char *)origin,
                                            log_key, 1, cp, NULL, &ce) != JPL_OK)
        rc = jpl_fail(e, JPL_ERR_BAD_SIGNATURE, "the checkpoint does not verify: %s", ce.msg);
    if (rc == JPL_OK && cp->size == 0)
        rc = jpl_fail(e, JPL_ERR_CORRUPT, "the checkpoint is of an empty log (entry 0 is missing)");
    free(key);
    if (rc != JPL_OK) {
        free(origin);
        free(note);
        return rc;
    }
    *origin_out = (char *)origin;
    *note_out = (char *)note;
    return JPL_OK;
}

/* After the checkpoint's entries: the end record with their count, then nothing. */
static jpl_err read_tail(reader *r, uint64_t size, jpl_error *e)
{
    uint64_t at = r->off;
    int type = 0;
    uint8_t *p = NULL;
    size_t len = 0;
    jpl_err rc = next_record(r, &type, &p, &len, e);
    if (rc == JPL_OK && type == REC_ENTRY) {
        r->ck.seq = size;
        rc = jpl_check_fail(&r->ck, JPL_ERR_CORRUPT,
                            "an entry beyond the checkpoint's size (bundles end at the checkpoint)",
                            e);
    } else if (rc == JPL_OK && type != REC_END) {
        rc = jpl_fail(e, JPL_ERR_CORRUPT, "byte %llu: %s where the end record belongs",
                      (unsigned long long)at, record_name(type));
    } else if (rc == JPL_OK && (len != 8 || jpl_get_u64be(p) != size)) {
        rc = jpl_fail(e, JPL_ERR_CORRUPT, "byte %llu: the end record does not count %llu entries",
                      (unsigned long long)at, (unsigned long long)size);
    }
    free(p);
    uint8_t extra;
    if (rc == JPL_OK && read_bytes(r, &extra, 1) != 0)
        rc = jpl_fail(e, JPL_ERR_CORRUPT, "byte %llu: bytes after the end record",
                      (unsigned long long)(r->off - 1));
    if (rc == JPL_OK && ferror(r->f))
        rc = jpl_fail(e, JPL_ERR_IO, "reading %s: %s", r->path, strerror(errno));
    return rc;
}

/* The recomputed root against the checkpoint: a difference here, with every entry's signature
 * verified, is a change outside the signed events, which the bundle cannot place. */
static jpl_err check_root(reader *r, const char *origin, const char *note, size_t len,
                          const jpl_checkpoint *cp, jpl_error *e)
{
    uint8_t root[JPL_SHA256_LEN];
    jpl_merkle_frontier_root(&r->ck.front, root);
    if (memcmp(root, cp->root, sizeof root) != 0)
        return jpl_fail(e, JPL_ERR_CORRUPT,
                        "the Merkle root of the %llu entries is not the checkpoint's: an entry "
                        "was changed outside its signed event (recorded time or encoding)",
                        (unsigned long long)cp->size);
    jpl_err rc = jpl_check_checkpoint(&r->ck, note, len, origin, e);
    if (rc == JPL_OK)
        memcpy(r->ck.rep->root, root, sizeof root);
    return rc;
}

jpl_err jpl_bundle_verify(const char *path, const jpl_note_verifier *log_key, int threads,
                          jpl_verify_progress_fn progress, void *pctx, jpl_verify_report *rep,
                          jpl_error *e)
{
    double t0 = now_s();
    reader r = {0};
    jpl_random_bytes(r.ids.key, sizeof r.ids.key);
    jpl_err rc = jpl_check_init(&r.ck, &BUNDLE_OPS, &r, log_key, threads, rep, e);
    char *origin = NULL, *note = NULL;
    size_t note_len = 0;
    jpl_checkpoint cp = {0};
    if (rc == JPL_OK)
        rc = open_bundle(&r, path, e);
    if (rc == JPL_OK)
        rc = read_head(&r, log_key, &origin, &note, &note_len, &cp, e);
    if (rc == JPL_OK) {
        rep->size = cp.size;
        rc = jpl_check_entries(&r.ck, cp.size, progress, pctx, e);
    }
    if (rc == JPL_OK)
        rc = read_tail(&r, cp.size, e);
    if (rc == JPL_OK)
        rc = check_root(&r, origin, note, note_len, &cp, e);
    if (rc != JPL_OK)
        rep->ok = false;
    rep->seconds = now_s() - t0;
    free(origin);
    free(note);
    idset_free(&r.ids);
    jpl_check_free(&r.ck);
    if (r.f != NULL)
        fclose(r.f);
    return rc;
}
