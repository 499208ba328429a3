/*
 * Ledger commands of the CLI: init, keygen, key, append, read, checkpoint, prove.
 * Output formats of read and prove are a contract (docs/CLI.md); keep them stable.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "jpl/client.h"
#include "jpl/codec.h"
#include "jpl/cosign.h"
#include "jpl/event_json.h"
#include "jpl/keyfile.h"
#include "jpl/ledger.h"
#include "jpl/merkle.h"
#include "jpl/note.h"
#include "jpl/projections.h"

enum {
    OPT_DATA = 1000,
    OPT_JSON,
    OPT_ORIGIN,
    OPT_ADMIN_NAME,
    OPT_NAME,
    OPT_OUT,
    OPT_KEY,
    OPT_FROM,
    OPT_COUNT,
    OPT_SEQ,
    OPT_SIZE,
    OPT_TO,
    OPT_VKEY,
    OPT_ROLE,
    OPT_REASON,
    OPT_BATCH,
    OPT_COSIGN,
    OPT_LOG_KEY,
    OPT_STATE
};

static int report(const char *cmd, jpl_err rc, const jpl_error *e)
{
    return cli_fail(cmd, rc, "%s", e->msg);
}

static int open_ledger(const char *cmd, const char *dir, bool writable, jpl_ledger **out)
{
    jpl_error e = {0};
    jpl_err rc = jpl_ledger_open(dir, writable, out, &e);
    if (rc != JPL_OK)
        return report(cmd, rc, &e);
    return JPL_OK;
}

/* ---- init ---- */

int cmd_init(int argc, char **argv);
int cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, 0, OPT_DATA},
                                         {"origin", required_argument, 0, OPT_ORIGIN},
                                         {"admin-name", required_argument, 0, OPT_ADMIN_NAME},
                                         {"json", no_argument, 0, OPT_JSON},
                                         {0, 0, 0, 0}};
    const char *data = NULL;
    jpl_init_opts io = {0};
    bool json = false;
    int c;
    CLI_GETOPT_LOOP(argc, argv, opts, c)
    {
        switch (c) {
        case OPT_DATA:
            data = optarg;
            break;
        case OPT_ORIGIN:
            io.origin = optarg;
            break;
        case OPT_ADMIN_NAME:
            io.admin_name = optarg;
            break;
        case OPT_JSON:
            json = true;
            break;
        default:
            return cli_bad_option("init", argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("init", "unexpected argument");
    const char *dir = cli_data_dir(data);
    jpl_init_result res;
    jpl_error e = {0};
    jpl_err rc = jpl_ledger_init(dir, &io, &res, &e);
    if (rc != JPL_OK)
        return report("init", rc, &e);
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "data", json_string(dir));
        json_object_set_new(o, "log_vkey", json_string(res.log_vkey));
        json_object_set_new(o, "admin_key", json_string(res.admin_key_path));
        json_object_set_new(o, "admin_vkey", json_string(res.admin_vkey));
        cli_print_json(o);
    } else {
        printf("created ledger in %s\n", dir);
        printf("log verifier key (give this to auditors; also in %s/log.vkey):\n  %s\n", dir,
               res.log_vkey);
        printf("first admin key: %s (move it offline; verifier key %s)\n", res.admin_key_path,
               res.admin_vkey);
    }
    return JPL_OK;
}

/* ---- keygen ---- */

int cmd_keygen(int argc, char **argv);
int cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {{"name", required_argument, 0, OPT_NAME},
                                         {"out", required_argument, 0, OPT_OUT},
                                         {"json", no_argument, 0, OPT_JSON},
                                         {0, 0, 0, 0}};
    const char *name = NULL, *out = NULL;
    bool json = false;
    int c;
    CLI_GETOPT_LOOP(argc, argv, opts, c)
    {
        switch (c) {
        case OPT_NAME:
            name = optarg;
            break;
        case OPT_OUT:
            out = optarg;
            break;
        case OPT_JSON:
            json = true;
            break;
        default:
            return cli_bad_option("keygen", argv);
        }
    }
    if (name == NULL || out == NULL || optind < argc)
        return cli_usage_error("keygen", "--name and --out are required");
    jpl_note_signer s;
    jpl_note_verifier v;
    jpl_error e = {0};
    char skey[JPL_NOTE_SKEY_SIZE], vkey[JPL_NOTE_VKEY_SIZE], pub[4200];
    jpl_err rc = jpl_note_keygen(name, &s, &e);
    if (rc == JPL_OK) {
        jpl_note_verifier_from_signer(&s, &v);
        rc = jpl_note_signer_format(&s, skey, sizeof skey, &e);
    }
    if (rc == JPL_OK)
        rc = jpl_note_verifier_format(&v, vkey, sizeof vkey, &e);
    snprintf(pub, sizeof pub, "%s.pub", out);
    if (rc == JPL_OK)
        rc = jpl_keyfile_write(out, skey, true, &e);
    if (rc == JPL_OK && (rc = jpl_keyfile_write(pub, vkey, false, &e)) != JPL_OK)
        unlink(out); /* created above (exclusively): a failed keygen leaves no half pair */
    jpl_memzero(skey, sizeof skey);
    jpl_note_signer_wipe(&s);
    if (rc != JPL_OK)
        return report("keygen", rc, &e);
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "key", json_string(out));
        json_object_set_new(o, "vkey", json_string(vkey));
        cli_print_json(o);
    } else {
        printf("%s\n", vkey);
        fprintf(stderr, "wrote %s (private, 0600) and %s\n", out, pub);
    }
    return JPL_OK;
}

/* ---- append ---- */

typedef struct {
    jpl_ledger *ledger;
    jpl_client *client;    /* with --url: append through the server instead */
    jpl_projections *proj; /* keeps balances, units and trail current with every batch */
    jpl_note_signer signer;
    bool json;
    jpl_bytes *envs;
    char **lines; /* source line numbers, for messages */
    size_t *lineno;
    size_t n, cap;
    size_t appended, duplicates;
} append_ctx;

static void print_result(const append_ctx *a, const jpl_append_result *r)
{
    char id[JPL_UUID_TEXT_LEN + 1], leaf[65];
    jpl_uuid_format(id, r->event_id);
    jpl_hex_encode(leaf, r->leaf_hash, 32);
    if (a->json) {
        json_t *o = json_object();
        json_object_set_new(o, "seq", json_integer((json_int_t)r->seq));
        json_object_set_new(o, "event_id", json_string(id));
        json_object_set_new(o, "leaf_hash", json_string(leaf));
        json_object_set_new(o, "duplicate", json_boolean(r->duplicate));
        cli_print_json(o);
    } else {
        printf("seq %llu %s %s%s\n", (unsigned long long)r->seq, id, leaf,
               r->duplicate ? " (duplicate: already appended)" : "");
    }
}

static void clear_pending(append_ctx *a)
{
    for (size_t i = 0; i < a->n; i++)
        free((void *)a->envs[i].data);
    a->n = 0;
}

static int flush_batch(append_ctx *a)
{
    if (a->n == 0)
        return JPL_OK;
    jpl_append_result *res = calloc(a->n, sizeof *res);
    if (res == NULL)
        return cli_fail("append", JPL_ERR_INTERNAL, "out of memory");
    jpl_error e = {0};
    jpl_err rc = a->client ? cli_remote_append(a->client, a->envs, a->n, res, &e)
                           : jpl_ledger_append(a->ledger, a->envs, a->n, res, &e);
    if (rc == JPL_OK) {
        for (size_t i = 0; i < a->n; i++) {
            print_result(a, &res[i]);
            if (res[i].duplicate)
                a->duplicates++;
            else
                a->appended++;
        }
        fflush(stdout); /* a printed line means durable: let readers see it now */
    } else {
        size_t bad = 0;
        while (bad < a->n && res[bad].code == JPL_OK)
            bad++;
        size_t line = bad < a->n ? a->lineno[bad] : 0;
        cli_fail("append", rc, "line %zu: %s; this batch of %zu events was not written", line,
                 e.msg, a->n);
    }
    free(res);
    clear_pending(a);
    return rc;
}

static int add_line(append_ctx *a, const char *line, size_t len, size_t lineno)
{
    Jpl__Event *ev = NULL;
    jpl_error e = {0};
    uint8_t *envb = NULL;
    size_t envlen = 0;
    jpl_err rc = jpl_event_from_json_text(line, len, jpl_now_ms(), &ev, &e);
    if (rc == JPL_OK)
        rc = jpl_event_seal(ev, a->signer.pk, a->signer.sk, &envb, &envlen, &e);
    jpl_event_free(ev);
    if (rc != JPL_OK)
        return cli_fail("append", rc, "line %zu: %s; nothing from this batch was written", lineno,
                        e.msg);
    if (a->n == a->cap) {
        size_t ncap = a->cap ? a->cap * 2 : 256;
        jpl_bytes *ne = realloc(a->envs, ncap * sizeof *ne);
        if (ne)
            a->envs = ne;
        size_t *nl = realloc(a->lineno, ncap * sizeof *nl);
        if (nl)
            a->lineno = nl;
        if (ne == NULL || nl == NULL) {
            free(envb);
            return cli_fail("append", JPL_ERR_INTERNAL, "out of memory");
        }
        a->cap = ncap;
    }
    a->envs[a->n] = (jpl_bytes){envb, envlen};
    a->lineno[a->n] = lineno;
    a->n++;
    return JPL_OK;
}

static bool blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

static int append_stream(append_ctx *a, FILE *in, size_t batch_size)
{
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t got;
    int rc = JPL_OK;
    while (rc == JPL_OK && (got = getline(&line, &cap, in)) != -1) {
        lineno++;
        if (blank(line, (size_t)got))
            continue;
        rc = add_line(a, line, (size_t)got, lineno);
        if (rc == JPL_OK && a->n >= batch_size)
            rc = flush_batch(a);
    }
    if (rc == JPL_OK)
        rc = flush_batch(a);
    clear_pending(a);
    free(line);
    return rc;
}

int cmd_append(int argc, char **argv);
int cmd_append(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, 0, OPT_DATA},
                                         {"key", required_argument, 0, OPT_KEY},
                                         {"batch", required_argument, 0, OPT_BATCH},
                                         {"json", no_argument, 0, OPT_JSON},
                                         CLI_REMOTE_OPTS,
                                         {0, 0, 0, 0}};
    const char *data = NULL, *key = NULL;
    uint64_t batch = 1000;
    append_ctx a;
    cli_remote remote = {0};
    memset(&a, 0, sizeof a);
    int c;
    CLI_GETOPT_LOOP(argc, argv, opts, c)
    {
        if (cli_remote_opt(c, &remote))
            continue;
        switch (c) {
        case OPT_DATA:
            data = optarg;
            break;
        case OPT_KEY:
            key = optarg;
            break;
        case OPT_JSON:
            a.json = true;
            break;
        case OPT_BATCH:
            if (!cli_parse_u64(optarg, &batch) || batch == 0 || batch > 8192)
                return cli_usage_error("append", "--batch takes 1..8192");
            break;
        default:
            return cli_bad_option("append", argv);
        }
    }
    if (key == NULL)
        return cli_usage_error("append", "--key FILE is required");
    if (argc - optind > 1)
        return cli_usage_error("append", "at most one input file");
    const char *file = optind < argc ? argv[optind] : "-";
    jpl_error e = {0};
    jpl_err rc = jpl_keyfile_read_signer(key, &a.signer, &e);
    if (rc != JPL_OK)
        return report("append", rc, &e);
    FILE *in = NULL;
    int oret = cli_open_input("append", file, &in);
    if (oret != JPL_OK) {
        jpl_note_signer_wipe(&a.signer);
        return oret;
    }
    int ret = JPL_OK;
    if (remote.url)
        ret = cli_connect("append", &remote, &a.client);
    else if ((rc = cli_open_writable(cli_data_dir(data), &a.ledger, &a.proj, &e)) != JPL_OK)
        ret = report("append", rc, &e);
    if (ret == JPL_OK)
        ret = append_stream(&a, in, (size_t)batch);
    if (in != stdin)
        fclose(in);
    if (!a.json)
        fprintf(stderr, "appended %zu events, %zu duplicates\n", a.appended, a.duplicates);
    jpl_ledger_close(a.ledger);
    jpl_client_close(a.client);
    jpl_projections_free(a.proj);
    jpl_note_signer_wipe(&a.signer);
    free(a.envs);
    free(a.lineno);
    return ret;
}

/* ---- read ---- */

json_t *entry_json(const uint8_t *bytes, size_t len, jpl_error *e, jpl_err *rc)
{
    Jpl__LogEntry *entry = NULL;
    Jpl__Event *ev = NULL;
    *rc = jpl_codec_entry_decode(bytes, len, &entry, e);
    if (*rc == JPL_OK)
        *rc =
            jpl_codec_event_decode(entry->envelope->event.data, entry->envelope->event.len, &ev, e);
    if (*rc != JPL_OK) {
        jpl_codec_entry_free(entry);
        return NULL;
    }
    uint8_t leaf[32];
    jpl_merkle_hash_leaf(leaf, bytes, len);
    char *b64 = malloc(jpl_base64_size(len));
    json_t *o = json_object();
    json_object_set_new(o, "seq", json_integer((json_int_t)entry->seq));
    json_object_set_new(o, "recorded_at_ms", json_integer((json_int_t)entry->recorded_at_ms));
    json_object_set_new(o, "leaf_hash", cli_json_hex(leaf, 32));
    json_object_set_new(o, "signer_key", cli_json_hex(entry->envelope->public_key.data, 32));
    if (b64 != NULL && jpl_base64_encode(b64, jpl_base64_size(len), bytes, len))
        json_object_set_new(o, "entry_b64", json_string(b64));
    json_object_set_new(o, "event", jpl_event_to_json(ev));
    free(b64);
    jpl_codec_event_free(ev);
    jpl_codec_entry_free(entry);
    return o;
}

/* The text line of an entry, "SEQ TYPE ID NIP", straight from the decoded event (a follower
 * prints one per entry: no JSON, hashes or base64 to build). */
static jpl_err print_entry_line(const uint8_t *bytes, size_t len, jpl_error *e)
{
    Jpl__LogEntry *entry = NULL;
    Jpl__Event *ev = NULL;
    jpl_err rc = jpl_codec_entry_decode(bytes, len, &entry, e);
    if (rc == JPL_OK)
        rc =
            jpl_codec_event_decode(entry->envelope->event.data, entry->envelope->event.len, &ev, e);
    if (rc == JPL_OK) {
        char id[JPL_UUID_TEXT_LEN + 1];
        jpl_uuid_format(id, ev->event_id.data);
        printf("%llu %s %s %s\n", (unsigned long long)entry->seq, jpl_event_type_name(ev), id,
               ev->nip != NULL && ev->nip[0] != '\0' ? ev->nip : "-");
    }
    jpl_codec_event_free(ev);
    jpl_codec_entry_free(entry);
    return rc;
}

jpl_err print_entry(const uint8_t *bytes, size_t len, bool json, jpl_error *e)
{
    if (!json)
        return print_entry_line(bytes, len, e);
    jpl_err rc = JPL_OK;
    json_t *o = entry_json(bytes, len, e, &rc);
    if (o != NULL)
        cli_print_json(o);
    return rc;
}

int cmd_read(int argc, char **argv);
int cmd_read(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, 0, OPT_DATA},
                                         {"from", required_argument, 0, OPT_FROM},
                                         {"count", required_argument, 0, OPT_COUNT},
                                         {"json", no_argument, 0, OPT_JSON},
                                         CLI_REMOTE_OPTS,
                                         {0, 0, 0, 0}};
    const char *data = NULL;
    uint64_t from = 0, count = UINT64_MAX;
    bool json = false;
    cli_remote remote = {0};
    int c;
    CLI_GETOPT_LOOP(argc, argv, opts, c)
    {
        if (cli_remote_opt(c, &remote))
            continue;
        switch (c) {
        case OPT_DATA:
            data = optarg;
            break;
        case OPT_FROM:
            if (!cli_parse_u64(optarg, &from))
                return cli_usage_error("read", "--from takes a sequence number");
            break;
        case OPT_COUNT:
            if (!cli_parse_u64(optarg, &count))
                return cli_usage_error("read", "--count takes a number");
            break;
        case OPT_JSON:
            json = true;
            break;
        default:
            return cli_bad_option("read", argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("read", "unexpected argument");
    if (remote.url)
        return remote_read(&remote, from, count, json);
    jpl_ledger *l = NULL;
    int ret = open_ledger("read", cli_data_dir(data), false, &l);
    if (ret != JPL_OK)
        return ret;
    uint64_t size = jpl_ledger_size(l);
    if (from > size)
        ret = cli_fail("read", JPL_ERR_NOT_FOUND, "--from %llu is beyond the log size %llu",
                       (unsigned long long)from, (unsigned long long)size);
    for (uint64_t seq = from; ret == JPL_OK && seq < size && count > 0; seq++, count--) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        jpl_error e = {0};
        jpl_err rc = jpl_ledger_entry(l, seq, &bytes, &len, &e);
        if (rc == JPL_OK)
            rc = print_entry(bytes, len, json, &e);
        free(bytes);
        if (rc != JPL_OK) {
            ret = cli_fail("read", rc, "seq %llu: %s", (unsigned long long)seq, e.msg);
            break;
        }
    }
    jpl_ledger_close(l);
    return ret;
}

/* ---- checkpoint ---- */

int cmd_checkpoint(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, 0, OPT_DATA},
                                         {"cosign", no_argument, 0, OPT_COSIGN},
                                         {"key", required_argument, 0, OPT_KEY},
                                         {"log-key", required_argument, 0, OPT_LOG_KEY},
                                         {"state", required_argument, 0, OPT_STATE},
                                         {"size", required_argument, 0, OPT_SIZE},
                                         {"json", no_argument, 0, OPT_JSON},
                                         CLI_REMOTE_OPTS,
                                         {0, 0, 0, 0}};
    const char *data = NULL, *key = NULL, *log_key = NULL, *state = NULL;
    bool cosign = false, json = false;
    uint64_t size = 0;
    cli_remote remote = {0};
    int c;
    CLI_GETOPT_LOOP(argc, argv, opts, c)
    {
        if (cli_remote_opt(c, &remote))
            continue;
        switch (c) {
        case OPT_DATA:
            data = optarg;
            break;
        case OPT_COSIGN:
            cosign = true;
            break;
        case OPT_KEY:
            key = optarg;
            break;
        case OPT_LOG_KEY:
            log_key = optarg;
            break;
        case OPT_STATE:
            state = optarg;
            break;
        case OPT_SIZE:
            if (!cli_parse_u64(optarg, &size) || size == 0)
                return cli_usage_error("checkpoint", "--size takes a tree size of 1 or more");
            break;
        case OPT_JSON:
            json = true;
            break;
        default:
            return cli_bad_option("checkpoint", argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("checkpoint", "unexpected argument");
    if (!cosign && (key || log_key || state || json))
        return cli_usage_error("checkpoint",
                               "--key, --log-key, --state and --json go with --cosign");
    if (cosign && (key == NULL || remote.url == NULL))
        return cli_usage_error("checkpoint", "--cosign needs --key AUDITOR.key and --url URL");
    if (cosign && size != 0)
        return cli_usage_error("checkpoint", "--cosign signs the latest checkpoint: no --size");
    if (cosign)
        return remote_cosign(&remote, key, log_key, state, json);
    if (remote.url)
        return remote_checkpoint(&remote, size);
    jpl_ledger *l = NULL;
    int ret = open_ledger("checkpoint", cli_data_dir(data), false, &l);
    if (ret != JPL_OK)
        return ret;
    char *note = NULL;
    jpl_error e = {0};
    jpl_err rc =
        size ? jpl_ledger_checkpoint_at(l, size, &note, &e) : jpl_ledger_checkpoint(l, &note, &e);
    if (rc == JPL_OK)
        fputs(note, stdout);
    else
        ret = report("checkpoint", rc, &e);
    free(note);
    jpl_ledger_close(l);
    return ret;
}

/* ---- prove ---- */

json_t *path_json(const uint8_t (*path)[32], size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, cli_json_hex(path[i], 32));
    return a;
}

json_t *inclusion_json(uint64_t seq, uint64_t size, const uint8_t leaf[32], const uint8_t root[32],
                       const uint8_t (*path)[32], size_t n)
{
    json_t *o = json_object();
    json_object_set_new(o, "seq", json_integer((json_int_t)seq));
    json_object_set_new(o, "tree_size", json_integer((json_int_t)size));
    json_object_set_new(o, "leaf_hash", cli_json_hex(leaf, 32));
    json_object_set_new(o, "root", cli_json_hex(root, 32));
    json_object_set_new(o, "path", path_json(path, n));
    return o;
}

json_t *consistency_json(uint64_t m, uint64_t n, const uint8_t r1[32], const uint8_t r2[32],
                         const uint8_t (*path)[32], size_t np)
{
    json_t *o = json_object();
    json_object_set_new(o, "from", json_integer((json_int_t)m));
    json_object_set_new(o, "to", json_integer((json_int_t)n));
    json_object_set_new(o, "root_from", cli_json_hex(r1, 32));
    json_object_set_new(o, "root_to", cli_json_hex(r2, 32));
    json_object_set_new(o, "path", path_json(path, np));
    return o;
}

void print_proof(json_t *o, bool json)
{
    if (json) {
        cli_print_json(o);
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (json_is_array(v)) {
            printf("%s:\n", k);
            size_t i;
            json_t *h;
            json_array_foreach(v, i, h) printf("  %s\n", json_string_value(h));
        } else if (json_is_integer(v)) {
            printf("%s: %lld\n", k, (long long)json_integer_value(v));
        } else {
            printf("%s: %s\n", k, json_string_value(v));
        }
    }
    json_decref(o);
}

static int prove_inclusion(jpl_ledger *l, uint64_t seq, uint64_t size, bool json)
{
    uint8_t path[JPL_MERKLE_MAX_PATH][32], root[32], leaf[32];
    size_t n = 0;
    jpl_error e = {0};
    uint8_t *bytes = NULL;
    size_t len = 0;
    jpl_err rc = jpl_ledger_prove_inclusion(l, seq, size, path, &n, &e);
    if (rc == JPL_OK)
        rc = jpl_ledger_root(l, size, root, &e);
    if (rc == JPL_OK)
        rc = jpl_ledger_entry(l, seq, &bytes, &len, &e);
    if (rc != JPL_OK)
        return report("prove", rc, &e);
    jpl_merkle_hash_leaf(leaf, bytes, len);
    free(bytes);
    print_proof(inclusion_json(seq, size, leaf, root, (const uint8_t(*)[32])path, n), json);
    return JPL_OK;
}

static int prove_consistency(jpl_ledger *l, uint64_t m, uint64_t n, bool json)
{
    uint8_t path[JPL_MERKLE_MAX_PATH][32], r1[32], r2[32];
    size_t np = 0;
    jpl_error e = {0};
    jpl_err rc = jpl_ledger_prove_consistency(l, m, n, path, &np, &e);
    if (rc == JPL_OK)
        rc = jpl_ledger_root(l, m, r1, &e);
    if (rc == JPL_OK)
        rc = jpl_ledger_root(l, n, r2, &e);
    if (rc != JPL_OK)
        return report("prove", rc, &e);
    print_proof(consistency_json(m, n, r1, r2, (const uint8_t(*)[32])path, np), json);
    return JPL_OK;
}

int cmd_prove(int argc, char **argv);
int cmd_prove(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "inclusion") != 0 && strcmp(argv[1], "consistency") != 0))
        return cli_usage_error("prove", "say 'prove inclusion' or 'prove consistency'");
    bool inclusion = strcmp(argv[1], "inclusion") == 0;
    static const struct option opts[] = {{"data", required_argument, 0, OPT_DATA},
                                         {"seq", required_argument, 0, OPT_SEQ},
                                         {"size", required_argument, 0, OPT_SIZE},
                                         {"from", required_argument, 0, OPT_FROM},
                                         {"to", required_argument, 0, OPT_TO},
                                         {"json", no_argument, 0, OPT_JSON},
                                         CLI_REMOTE_OPTS,
                                         {0, 0, 0, 0}};
    const char *data = NULL;
    uint64_t seq = 0, size = 0, from = 0, to = 0;
    bool has_seq = false, has_size = false, has_from = false, has_to = false, json = false;
    cli_remote remote = {0};
    int c;
    CLI_GETOPT_LOOP(argc - 1, argv + 1, opts, c)
    {
        uint64_t *dst = NULL;
        bool *flag = NULL;
        if (cli_remote_opt(c, &remote))
            continue;
        switch (c) {
        case OPT_DATA:
            data = optarg;
            continue;
        case OPT_JSON:
            json = true;
            continue;
        case OPT_SEQ:
            dst = &seq, flag = &has_seq;
            break;
        case OPT_SIZE:
            dst = &size, flag = &has_size;
            break;
        case OPT_FROM:
            dst = &from, flag = &has_from;
            break;
        case OPT_TO:
            dst = &to, flag = &has_to;
            break;
        default:
            return cli_bad_option("prove", argv + 1);
        }
        if (!cli_parse_u64(optarg, dst))
            return cli_usage_error("prove", "numbers must be non-negative integers");
        *flag = true;
    }
    if (optind < argc - 1)
        return cli_usage_error("prove", "unexpected argument");
    if (inclusion ? !has_seq : !(has_from && has_to))
        return cli_usage_error("prove",
                               inclusion ? "--seq is required" : "--from and --to are required");
    if (remote.url)
        return inclusion ? remote_prove_inclusion(&remote, seq, has_size, size, json)
                         : remote_prove_consistency(&remote, from, to, json);
    jpl_ledger *l = NULL;
    int ret = open_ledger("prove", cli_data_dir(data), false, &l);
    if (ret != JPL_OK)
        return ret;
    if (inclusion)
        ret = prove_inclusion(l, seq, has_size ? size : jpl_ledger_size(l), json);
    else
        ret = prove_consistency(l, from, to, json);
    jpl_ledger_close(l);
    return ret;
}
