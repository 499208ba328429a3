/*
 * Commands that talk to a running server: the --url forms of read, checkpoint and prove,
 * `status`, and `subscribe`, which catches up with read-log, then follows the PUB socket,
 * detecting gaps by seq and filling them, so every entry is printed exactly once and in order.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "jpl/client.h"
#include "jpl/event_json.h"
#include "jpl/merkle.h"
#include "jpl/server.h"

int cli_call(const char *cmd, jpl_client *c, const Jpl__Request *req, Jpl__Response **resp)
{
    jpl_error e = {0};
    jpl_err rc = jpl_client_call(c, req, resp, &e);
    if (rc != JPL_OK) {
        jpl_codec_response_free(*resp); /* an error answer: the callers keep only successes */
        *resp = NULL;
        return cli_fail(cmd, rc, "%s", e.msg);
    }
    return JPL_OK;
}

/* Fetches one page of the log from seq; *resp holds it (caller frees). */
static int read_page(const char *cmd, jpl_client *c, uint64_t from, uint32_t max,
                     Jpl__Response **resp)
{
    Jpl__ReadLogRequest rl = JPL__READ_LOG_REQUEST__INIT;
    rl.from_seq = from;
    rl.has_max_entries = 1;
    rl.max_entries = max;
    Jpl__Request req = JPL__REQUEST__INIT;
    req.op_case = JPL__REQUEST__OP_READ_LOG;
    req.read_log = &rl;
    int rc = cli_call(cmd, c, &req, resp);
    if (rc == JPL_OK && (*resp)->result_case != JPL__RESPONSE__RESULT_READ_LOG)
        rc = cli_fail(cmd, JPL_ERR_BAD_INPUT, "the server sent no log entries");
    return rc;
}

int remote_read(const cli_remote *r, uint64_t from, uint64_t count, bool json)
{
    jpl_client *c = NULL;
    int ret = cli_connect("read", r, &c);
    while (ret == JPL_OK && count > 0) {
        Jpl__Response *resp = NULL;
        uint32_t max = count < 1000 ? (uint32_t)count : 1000;
        ret = read_page("read", c, from, max, &resp);
        size_t n = ret == JPL_OK ? resp->read_log->n_entries : 0;
        for (size_t i = 0; i < n && ret == JPL_OK; i++) {
            jpl_error e = {0};
            jpl_err rc = print_entry(resp->read_log->entries[i].data,
                                     resp->read_log->entries[i].len, json, &e);
            if (rc != JPL_OK)
                ret = cli_fail("read", rc, "seq %llu: %s", (unsigned long long)(from + i), e.msg);
        }
        jpl_codec_response_free(resp);
        if (n == 0)
            break;
        from += n;
        count -= n;
    }
    jpl_client_close(c);
    return ret;
}

int cli_get_checkpoint(const char *cmd, jpl_client *c, uint64_t size, Jpl__Response **resp)
{
    Jpl__CheckpointRequest cr = JPL__CHECKPOINT_REQUEST__INIT;
    cr.has_tree_size = size > 0;
    cr.tree_size = size;
    Jpl__Request req = JPL__REQUEST__INIT;
    req.op_case = JPL__REQUEST__OP_CHECKPOINT;
    req.checkpoint = &cr;
    int rc = cli_call(cmd, c, &req, resp);
    if (rc == JPL_OK && (*resp)->result_case != JPL__RESPONSE__RESULT_CHECKPOINT)
        rc = cli_fail(cmd, JPL_ERR_BAD_INPUT, "the server sent no checkpoint");
    return rc;
}

int remote_checkpoint(const cli_remote *r, uint64_t size)
{
    jpl_client *c = NULL;
    int ret = cli_connect("checkpoint", r, &c);
    Jpl__Response *resp = NULL;
    if (ret == JPL_OK)
        ret = cli_get_checkpoint("checkpoint", c, size, &resp);
    if (ret == JPL_OK)
        fputs(resp->checkpoint->note, stdout);
    jpl_codec_response_free(resp);
    jpl_client_close(c);
    return ret;
}

/* Entries [0, size) of the server's log, page by page, into w. */
static int export_pages(jpl_client *c, jpl_bundle_writer *w, uint64_t size)
{
    int ret = JPL_OK;
    for (uint64_t from = 0; ret == JPL_OK && from < size;) {
        Jpl__Response *resp = NULL;
        uint64_t want = size - from < 1000 ? size - from : 1000;
        ret = read_page("export", c, from, (uint32_t)want, &resp);
        size_t n = ret == JPL_OK ? resp->read_log->n_entries : 0;
        if (ret == JPL_OK && n == 0)
            ret = cli_fail("export", JPL_ERR_BAD_INPUT,
                           "the server's log ends at %llu, before the checkpoint's size %llu",
                           (unsigned long long)from, (unsigned long long)size);
        for (size_t i = 0; ret == JPL_OK && i < n && from < size; i++, from++) {
            jpl_error e = {0};
            jpl_err rc = jpl_bundle_put_entry(w, resp->read_log->entries[i].data,
                                              resp->read_log->entries[i].len, &e);
            if (rc != JPL_OK)
                ret = cli_fail("export", rc, "%s", e.msg);
        }
        jpl_codec_response_free(resp);
        cli_progress("export", from, size);
    }
    return ret;
}

int remote_export(const cli_remote *r, uint64_t size, const char *path, bool force,
                  jpl_export_report *rep)
{
    jpl_client *c = NULL;
    Jpl__Response *st = NULL, *cp = NULL;
    jpl_bundle_writer *w = NULL;
    jpl_export_report out = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int ret = cli_connect("export", r, &c);
    if (ret == JPL_OK)
        ret = cli_get_status("export", c, &st);
    if (ret == JPL_OK)
        ret = cli_get_checkpoint("export", c, size, &cp);
    if (ret == JPL_OK) {
        jpl_error e = {0};
        const char *note = cp->checkpoint->note;
        jpl_err rc = jpl_bundle_create(path, force, st->status->origin, st->status->log_vkey, note,
                                       strlen(note), &w, &e);
        if (rc != JPL_OK)
            ret = cli_fail("export", rc, "%s", e.msg);
    }
    if (ret == JPL_OK) {
        const jpl_checkpoint *k = jpl_bundle_writer_checkpoint(w);
        out.size = k->size;
        memcpy(out.root, k->root, sizeof out.root);
        ret = export_pages(c, w, k->size);
        cli_progress_end();
    }
    if (ret == JPL_OK) {
        jpl_error e = {0};
        jpl_err rc = jpl_bundle_commit(w, &out.bytes, &e);
        w = NULL;
        if (rc != JPL_OK)
            ret = cli_fail("export", rc, "%s", e.msg);
    }
    jpl_bundle_abort(w);
    jpl_codec_response_free(st);
    jpl_codec_response_free(cp);
    jpl_client_close(c);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    out.seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (ret == JPL_OK)
        *rep = out;
    return ret;
}

/* A proof from the wire: every element must be 32 bytes (checked by the Merkle module). */
bool cli_wire_path(ProtobufCBinaryData *elems, size_t n, uint8_t path[JPL_MERKLE_MAX_PATH][32],
                   size_t *n_out)
{
    jpl_bytes tmp[JPL_MERKLE_MAX_PATH];
    if (n > JPL_MERKLE_MAX_PATH)
        return false;
    for (size_t i = 0; i < n; i++)
        tmp[i] = (jpl_bytes){elems[i].data, elems[i].len};
    return jpl_merkle_proof_parse(tmp, n, path, n_out, NULL) == JPL_OK;
}

static bool is_hash(const ProtobufCBinaryData *b)
{
    return b->len == 32;
}

int remote_prove_inclusion(const cli_remote *r, uint64_t seq, bool has_size, uint64_t size,
                           bool json)
{
    jpl_client *c = NULL;
    int ret = cli_connect("prove", r, &c);
    Jpl__InclusionRequest ir = JPL__INCLUSION_REQUEST__INIT;
    ir.seq = seq;
    ir.has_tree_size = has_size;
    ir.tree_size = size;
    Jpl__Request req = JPL__REQUEST__INIT;
    req.op_case = JPL__REQUEST__OP_INCLUSION;
    req.inclusion = &ir;
    Jpl__Response *resp = NULL;
    if (ret == JPL_OK)
        ret = cli_call("prove", c, &req, &resp);
    if (ret == JPL_OK && resp->result_case == JPL__RESPONSE__RESULT_INCLUSION) {
        const Jpl__InclusionResponse *p = resp->inclusion;
        uint8_t path[JPL_MERKLE_MAX_PATH][32];
        size_t n = 0;
        if (!is_hash(&p->leaf_hash) || !is_hash(&p->root) ||
            !cli_wire_path(p->path, p->n_path, path, &n))
            ret = cli_fail("prove", JPL_ERR_BAD_INPUT, "the server sent a malformed proof");
        else
            print_proof(inclusion_json(p->seq, p->tree_size, p->leaf_hash.data, p->root.data,
                                       (const uint8_t(*)[32])path, n),
                        json);
    }
    jpl_codec_response_free(resp);
    jpl_client_close(c);
    return ret;
}

int cli_get_consistency(const char *cmd, jpl_client *c, uint64_t m, uint64_t n,
                        Jpl__Response **resp)
{
    Jpl__ConsistencyRequest cr = JPL__CONSISTENCY_REQUEST__INIT;
    cr.from_size = m;
    cr.to_size = n;
    Jpl__Request req = JPL__REQUEST__INIT;
    req.op_case = JPL__REQUEST__OP_CONSISTENCY;
    req.consistency = &cr;
    int rc = cli_call(cmd, c, &req, resp);
    if (rc == JPL_OK && (*resp)->result_case != JPL__RESPONSE__RESULT_CONSISTENCY)
        rc = cli_fail(cmd, JPL_ERR_BAD_INPUT, "the server sent no consistency proof");
    return rc;
}

int remote_prove_consistency(const cli_remote *r, uint64_t m, uint64_t n, bool json)
{
    jpl_client *c = NULL;
    int ret = cli_connect("prove", r, &c);
    Jpl__Response *resp = NULL;
    if (ret == JPL_OK)
        ret = cli_get_consistency("prove", c, m, n, &resp);
    if (ret == JPL_OK) {
        const Jpl__ConsistencyResponse *p = resp->consistency;
        uint8_t path[JPL_MERKLE_MAX_PATH][32];
        size_t np = 0;
        if (!is_hash(&p->root_from) || !is_hash(&p->root_to) ||
            !cli_wire_path(p->path, p->n_path, path, &np))
            ret = cli_fail("prove", JPL_ERR_BAD_INPUT, "the server sent a malformed proof");
        else
            print_proof(consistency_json(p->from_size, p->to_size, p->root_from.data,
                                         p->root_to.data, (const uint8_t(*)[32])path, np),
                        json);
    }
    jpl_codec_response_free(resp);
    jpl_client_close(c);
    return ret;
}

/* ---- status ---- */

int cli_get_status(const char *cmd, jpl_client *c, Jpl__Response **resp)
{
    Jpl__StatusRequest sr = JPL__STATUS_REQUEST__INIT;
    Jpl__Request req = JPL__REQUEST__INIT;
    req.op_case = JPL__REQUEST__OP_STATUS;
    req.status = &sr;
    int rc = cli_call(cmd, c, &req, resp);
    if (rc == JPL_OK && (*resp)->result_case != JPL__RESPONSE__RESULT_STATUS)
        rc = cli_fail(cmd, JPL_ERR_BAD_INPUT, "the server sent no status");
    return rc;
}

int cmd_status(int argc, char **argv);
int cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {{"url", required_argument, 0, 'u'},
                                         {"auth-key", required_argument, 0, 'a'},
                                         {"tls-ca", required_argument, 0, 'c'},
                                         {"json", no_argument, 0, 'j'},
                                         {0, 0, 0, 0}};
    cli_remote r = {.url = JPL_DEFAULT_REP_URL};
    bool json = false;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            r.url = optarg;
            break;
        case 'a':
            r.auth_key = optarg;
            break;
        case 'c':
            r.tls_ca = optarg;
            break;
        case 'j':
            json = true;
            break;
        default:
            return cli_bad_option("status", argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("status", "unexpected argument");
    jpl_client *cl = NULL;
    Jpl__Response *resp = NULL;
    int ret = cli_connect("status", &r, &cl);
    if (ret == JPL_OK)
        ret = cli_get_status("status", cl, &resp);
    if (ret == JPL_OK) {
        const Jpl__StatusResponse *s = resp->status;
        json_t *o = json_object();
        json_object_set_new(o, "log_size", json_integer((json_int_t)s->log_size));
        json_object_set_new(o, "origin", json_string(s->origin));
        json_object_set_new(o, "log_vkey", json_string(s->log_vkey));
        json_object_set_new(o, "uptime_ms", json_integer((json_int_t)s->uptime_ms));
        json_object_set_new(o, "authenticated", json_boolean(s->authenticated));
        json_t *p = json_array();
        for (size_t i = 0; i < s->n_projections; i++)
            json_array_append_new(p, json_string(s->projections[i]));
        json_object_set_new(o, "projections", p);
        if (s->checkpoint)
            json_object_set_new(o, "checkpoint", json_string(s->checkpoint));
        if (json) {
            cli_print_json(o);
        } else {
            printf("log size %llu, origin %s, up %.1f s\nlog key %s\n",
                   (unsigned long long)s->log_size, s->origin, (double)s->uptime_ms / 1000.0,
                   s->log_vkey);
            for (size_t i = 0; i < s->n_projections; i++)
                printf("projection %s\n", s->projections[i]);
            json_decref(o);
        }
    }
    jpl_codec_response_free(resp);
    jpl_client_close(cl);
    return ret;
}

/* ---- subscribe ---- */

static volatile sig_atomic_t sub_stop = 0;

static void on_signal(int sig)
{
    (void)sig;
    sub_stop = 1;
}

typedef struct {
    jpl_client *client;
    uint64_t next;    /* the next seq to print: everything below was handled */
    const char *type; /* filters (NULL: any) */
    const char *unit;
    bool json;
    uint64_t printed, limit;
    const char *position_file;
    bool sync_out;     /* --out: the file is the position; fsync it from time to time */
    uint64_t unsynced; /* lines written since the last fsync */
} follower;

/* topic "entry/<type>/<unit>/": does it pass the filters? */
static bool wanted(const follower *f, const char *topic)
{
    char want[512];
    if (f->type) {
        snprintf(want, sizeof want, "entry/%s/", f->type);
        if (strncmp(topic, want, strlen(want)) != 0)
            return false;
    }
    if (f->unit) {
        const char *u = strchr(topic + 6, '/'); /* after "entry/<type>" */
        size_t ul = strlen(f->unit);
        if (u == NULL || strncmp(u + 1, f->unit, ul) != 0 || u[1 + ul] != '/')
            return false;
    }
    return true;
}

/* A position that cannot be saved stops the subscriber: running on would make the next start
 * begin somewhere else. */
static int save_position(const follower *f)
{
    if (f->position_file == NULL)
        return JPL_OK;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->position_file);
    FILE *o = fopen(tmp, "w");
    bool ok = o != NULL && fprintf(o, "%llu\n", (unsigned long long)f->next) > 0;
    ok = o != NULL && fclose(o) == 0 && ok && rename(tmp, f->position_file) == 0;
    if (!ok)
        return cli_fail("subscribe", JPL_ERR_IO, "%s: cannot save the position: %s",
                        f->position_file, strerror(errno));
    return JPL_OK;
}

/* Handles entry seq (== f->next) with its topic: print if wanted, advance. */
static int deliver(follower *f, const uint8_t *bytes, size_t len, const char *topic)
{
    if (wanted(f, topic)) {
        jpl_error e = {0};
        jpl_err rc = JPL_OK;
        if (f->json) {
            json_t *o = entry_json(bytes, len, &e, &rc);
            if (o != NULL) {
                json_object_set_new(o, "topic", json_string(topic));
                cli_print_json(o);
            }
        } else {
            rc = print_entry(bytes, len, false, &e);
        }
        if (rc != JPL_OK)
            return cli_fail("subscribe", rc, "seq %llu: %s", (unsigned long long)f->next, e.msg);
        if (f->sync_out)
            f->unsynced++;
        else
            fflush(stdout); /* a pipe reader sees each entry at once */
        f->printed++;
    }
    f->next++;
    return save_position(f);
}

/* --out: flushes and fsyncs the output. A line is only a position once it is complete on disk;
 * lines lost to a power cut were never durable and are read again after the restart. kill -9
 * loses nothing written: the page cache survives the process. */
static void sync_output(follower *f)
{
    if (!f->sync_out || f->unsynced == 0)
        return;
    fflush(stdout);
    fsync(fileno(stdout));
    f->unsynced = 0;
}

/* Reads the log from f->next up to (not including) until, or to its end if until is 0. */
static int fill(follower *f, uint64_t until)
{
    while (!sub_stop && (until == 0 || f->next < until) && f->printed < f->limit) {
        Jpl__Response *resp = NULL;
        int rc = read_page("subscribe", f->client, f->next, 1000, &resp);
        if (rc != JPL_OK)
            return rc;
        const Jpl__ReadLogResponse *p = resp->read_log;
        size_t n = p->n_entries;
        for (size_t i = 0;
             i < n && rc == JPL_OK && (until == 0 || f->next < until) && f->printed < f->limit; i++)
            rc = deliver(f, p->entries[i].data, p->entries[i].len,
                         i < p->n_topics ? p->topics[i] : "entry/unknown/-/");
        jpl_codec_response_free(resp);
        if (rc != JPL_OK || n == 0)
            return rc;
    }
    return JPL_OK;
}

/* One published message: "topic\n" + entry bytes, or a checkpoint. */
static int on_message(follower *f, const uint8_t *msg, size_t len)
{
    const uint8_t *nl = memchr(msg, '\n', len < 600 ? len : 600);
    if (nl == NULL || len < 6 || memcmp(msg, "entry/", 6) != 0)
        return JPL_OK; /* checkpoints and anything unknown */
    char topic[600];
    size_t tl = (size_t)(nl - msg);
    memcpy(topic, msg, tl);
    topic[tl] = '\0';
    Jpl__LogEntry *entry = NULL;
    if (jpl_codec_entry_decode(nl + 1, len - tl - 1, &entry, NULL) != JPL_OK)
        return JPL_OK; /* garbage on the wire: the next gap fill reads it from the log */
    uint64_t seq = entry->seq;
    jpl_codec_entry_free(entry);
    if (seq < f->next)
        return JPL_OK;                              /* already printed (from the catch-up) */
    int rc = seq > f->next ? fill(f, seq) : JPL_OK; /* a gap: messages were lost */
    if (rc == JPL_OK && seq == f->next && f->printed < f->limit)
        rc = deliver(f, nl + 1, len - tl - 1, topic);
    return rc;
}

/* The seq of a printed line: text "SEQ type ..." or JSON {"seq":SEQ,...}. */
static bool line_seq(const char *line, uint64_t *out)
{
    const char *p = strncmp(line, "{\"seq\":", 7) == 0 ? line + 7 : line;
    char digits[24];
    size_t n = 0;
    while (n < sizeof digits - 1 && p[n] >= '0' && p[n] <= '9') {
        digits[n] = p[n];
        n++;
    }
    digits[n] = '\0';
    return n > 0 && cli_parse_u64(digits, out);
}

/* --out FILE: the file is the position. 1 and *next_out set: FILE ends with an entry line,
 * after which a partial line (a crash mid-write) is dropped; 0: FILE is absent or empty, or holds
 * only the start of a first entry line (dropped); -1: FILE ends with a line that is no entry
 * line: it is not this command's output and is left as it is. */
static int resume_from_output(const char *file, uint64_t *next_out)
{
    FILE *f = fopen(file, "r");
    if (f == NULL)
        return 0;
    long keep = 0, pos = 0;
    char last[8192] = "", cur[8192];
    size_t cl = 0;
    int ch;
    while ((ch = fgetc(f)) != EOF) {
        pos++;
        if (cl < sizeof cur - 1)
            cur[cl++] = (char)ch;
        if (ch == '\n') {
            cur[cl] = '\0';
            memcpy(last, cur, cl + 1);
            keep = pos;
            cl = 0;
        }
    }
    fclose(f);
    cur[cl] = '\0';
    uint64_t seq = 0;
    if (keep > 0 ? !line_seq(last, &seq) : pos > 0 && !line_seq(cur, &seq))
        return -1;
    if (truncate(file, keep) != 0 || keep == 0)
        return 0;
    *next_out = seq + 1;
    return 1;
}

/* --position-file FILE: 1 and *out set if FILE holds a position, 0 if FILE does not exist
 * (the first run), -1 if it holds anything else (starting from the end would lose entries). */
static int read_position(const char *file, uint64_t *out)
{
    FILE *in = fopen(file, "r");
    if (in == NULL)
        return 0;
    char buf[32] = "";
    bool ok = fgets(buf, sizeof buf, in) != NULL;
    fclose(in);
    buf[strcspn(buf, "\n")] = '\0';
    return ok && cli_parse_u64(buf, out) ? 1 : -1;
}

int cmd_subscribe(int argc, char **argv);
int cmd_subscribe(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", required_argument, 0, 'u'},      {"pub", required_argument, 0, 'p'},
        {"from", required_argument, 0, 'f'},     {"type", required_argument, 0, 't'},
        {"unit", required_argument, 0, 'n'},     {"json", no_argument, 0, 'j'},
        {"auth-key", required_argument, 0, 'a'}, {"tls-ca", required_argument, 0, 'c'},
        {"count", required_argument, 0, 'k'},    {"position-file", required_argument, 0, 'P'},
        {"out", required_argument, 0, 'o'},      {0, 0, 0, 0}};
    cli_remote r = {.url = JPL_DEFAULT_REP_URL};
    const char *pub = JPL_DEFAULT_PUB_URL;
    follower f = {.limit = UINT64_MAX};
    bool has_from = false;
    const char *out_file = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            r.url = optarg;
            break;
        case 'p':
            pub = optarg;
            break;
        case 'a':
            r.auth_key = optarg;
            break;
        case 'c':
            r.tls_ca = optarg;
            break;
        case 't':
            f.type = optarg;
            break;
        case 'n':
            f.unit = optarg;
            break;
        case 'j':
            f.json = true;
            break;
        case 'P':
            f.position_file = optarg;
            break;
        case 'o':
            out_file = optarg;
            break;
        case 'f':
            if (!cli_parse_u64(optarg, &f.next))
                return cli_usage_error("subscribe", "--from takes a sequence number");
            has_from = true;
            break;
        case 'k':
            if (!cli_parse_u64(optarg, &f.limit) || f.limit == 0)
                return cli_usage_error("subscribe", "--count takes a positive number");
            break;
        default:
            return cli_bad_option("subscribe", argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("subscribe", "unexpected argument");
    if (f.type && jpl_event_type_from_name(f.type) == 0)
        return cli_usage_error("subscribe", "--type must be an event type (docs/EVENTS.md)");
    if (out_file != NULL && f.position_file != NULL)
        return cli_usage_error("subscribe", "give --out FILE or --position-file FILE, not both "
                                            "(with --out the file is the position)");
    if (!has_from && f.position_file != NULL) {
        int pos = read_position(f.position_file, &f.next);
        if (pos < 0)
            return cli_fail("subscribe", JPL_ERR_BAD_INPUT,
                            "%s does not hold a position (one seq number); give another "
                            "--position-file or --from SEQ",
                            f.position_file);
        has_from = pos > 0;
    }
    if (out_file != NULL) {
        uint64_t next = 0;
        int resumed = resume_from_output(out_file, &next);
        if (resumed < 0)
            return cli_fail("subscribe", JPL_ERR_BAD_INPUT,
                            "%s does not end with a line of 'jpledger subscribe'; give a new file "
                            "or one this command wrote to --out (%s was left as it was)",
                            out_file, out_file);
        if (resumed > 0) {
            if (has_from && f.next != next)
                return cli_usage_error("subscribe", "--from disagrees with the end of --out");
            f.next = next;
            has_from = true;
        }
        if (freopen(out_file, "a", stdout) == NULL)
            return cli_fail("subscribe", JPL_ERR_IO, "%s: cannot open for appending", out_file);
        f.sync_out = true;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    char prefix[512] = "entry/";
    if (f.type)
        snprintf(prefix, sizeof prefix, "entry/%s/", f.type);
    jpl_net_tls tls = {.ca_file = r.tls_ca};
    jpl_net_sock *sub = NULL;
    jpl_error e = {0};
    /* subscribe first, so nothing published during the catch-up is missed */
    jpl_err rc = jpl_net_dial_sub(pub, prefix, &tls, &sub, &e);
    if (rc != JPL_OK)
        return cli_fail("subscribe", rc, "%s", e.msg);
    int ret = cli_connect("subscribe", &r, &f.client);
    if (ret == JPL_OK && !has_from) {
        Jpl__Response *resp = NULL;
        ret = cli_get_status("subscribe", f.client, &resp);
        if (ret == JPL_OK)
            f.next = resp->status->log_size; /* follow from now */
        jpl_codec_response_free(resp);
    }
    if (ret == JPL_OK)
        ret = fill(&f, 0);
    while (ret == JPL_OK && !sub_stop && f.printed < f.limit) {
        uint8_t *msg = NULL;
        size_t len = 0;
        rc = jpl_net_sub_recv(sub, f.unsynced ? 100 : 1000, &msg, &len, &e);
        if (rc == JPL_OK)
            ret = on_message(&f, msg, len);
        else if (rc == JPL_ERR_NOT_FOUND)
            ret = fill(&f, 0); /* quiet: the last messages may have been dropped */
        else
            ret = cli_fail("subscribe", rc, "%s", e.msg);
        free(msg);
        if (rc != JPL_OK || f.unsynced >= 4096)
            sync_output(&f); /* idle, or enough lines: make them durable */
    }
    sync_output(&f);
    fprintf(stderr, "jpledger subscribe: next position %llu (resume with --from %llu)\n",
            (unsigned long long)f.next, (unsigned long long)f.next);
    jpl_client_close(f.client);
    jpl_net_close(sub);
    return ret;
}
