/* Shared CLI helpers (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jpl/client.h"
#include "jpl/crypto.h"
#include "jpl/event_json.h"
#include "jpl/keyfile.h"
#include "jpl/projections.h"

bool cli_parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || *s == '\0' || strlen(s) > 20)
        return false;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

const char *cli_data_dir(const char *opt)
{
    if (opt != NULL)
        return opt;
    const char *env = getenv("JPLEDGER_DATA");
    if (env != NULL && *env != '\0')
        return env;
    return "jpledger-data";
}

void cli_print_json(json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s != NULL) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
    json_decref(obj);
}

json_t *cli_json_hex(const uint8_t *data, size_t len)
{
    char *hex = malloc(2 * len + 1);
    if (hex == NULL)
        return json_null();
    jpl_hex_encode(hex, data, len);
    json_t *s = json_string(hex);
    free(hex);
    return s;
}

void cli_progress(void *ctx, uint64_t done, uint64_t total)
{
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "\r%s: %llu/%llu entries (%.0f%%)", (const char *)ctx,
                (unsigned long long)done, (unsigned long long)total,
                total ? 100.0 * (double)done / (double)total : 100.0);
}

void cli_progress_end(void)
{
    if (isatty(STDERR_FILENO))
        fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *what)
{
    return cli_fail(cmd, JPL_ERR_USAGE, "%s (see 'jpledger %s --help')", what, cmd);
}

int cli_bad_option(const char *cmd, char **args)
{
    char what[256];
    snprintf(what, sizeof what, "unknown option or missing value: %s", args[optind - 1]);
    return cli_usage_error(cmd, what);
}

int cli_open_input(const char *cmd, const char *path, FILE **out)
{
    if (strcmp(path, "-") == 0) {
        *out = stdin;
        return JPL_OK;
    }
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return cli_fail(cmd, JPL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return cli_fail(cmd, JPL_ERR_IO, "%s is a directory, not an input file", path);
    }
    *out = f;
    return JPL_OK;
}

int cli_connect(const char *cmd, const cli_remote *r, struct jpl_client **out)
{
    jpl_net_tls tls = {.ca_file = r->tls_ca};
    jpl_error e = {0};
    jpl_client *c = NULL;
    jpl_err rc = jpl_client_open(r->url, &tls, 0, &c, &e);
    if (rc != JPL_OK)
        return cli_fail(cmd, rc, "%s", e.msg);
    if (r->auth_key != NULL) {
        jpl_note_signer key;
        rc = jpl_keyfile_read_signer(r->auth_key, &key, &e);
        if (rc == JPL_OK)
            rc = jpl_client_auth(c, &key, &e);
        jpl_note_signer_wipe(&key);
        if (rc != JPL_OK) {
            jpl_client_close(c);
            return cli_fail(cmd, rc, "authentication with %s: %s", r->auth_key, e.msg);
        }
    }
    *out = c;
    return JPL_OK;
}

/* Appends through the server; fills res like jpl_ledger_append (failing index included). */
jpl_err cli_remote_append(jpl_client *c, const jpl_bytes *envs, size_t n, jpl_append_result *res,
                          jpl_error *e)
{
    ProtobufCBinaryData *items = calloc(n, sizeof *items);
    if (items == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++)
        items[i] = (ProtobufCBinaryData){envs[i].len, (uint8_t *)envs[i].data};
    Jpl__AppendRequest ar = JPL__APPEND_REQUEST__INIT;
    ar.envelopes = items;
    ar.n_envelopes = n;
    Jpl__Request req = JPL__REQUEST__INIT;
    req.op_case = JPL__REQUEST__OP_APPEND;
    req.append = &ar;
    Jpl__Response *resp = NULL;
    jpl_err rc = jpl_client_call(c, &req, &resp, e);
    free(items);
    const Jpl__AppendResponse *out =
        resp && resp->result_case == JPL__RESPONSE__RESULT_APPEND ? resp->append : NULL;
    if (rc != JPL_OK && out && out->has_failed_index && out->failed_index < n)
        res[out->failed_index].code = rc;
    if (rc == JPL_OK && (out == NULL || out->n_results != n))
        rc = jpl_fail(e, JPL_ERR_BAD_INPUT, "the server answered %zu results for %zu events",
                      out ? out->n_results : 0, n);
    for (size_t i = 0; rc == JPL_OK && i < n; i++) {
        const Jpl__AppendResult *r = out->results[i];
        res[i].code = JPL_OK;
        res[i].seq = r->seq;
        res[i].duplicate = r->has_duplicate && r->duplicate;
        if (r->event_id.len == 16)
            memcpy(res[i].event_id, r->event_id.data, 16);
        if (r->leaf_hash.len == 32)
            memcpy(res[i].leaf_hash, r->leaf_hash.data, 32);
    }
    jpl_codec_response_free(resp);
    return rc;
}

int cli_append_event(const char *cmd, jpl_ledger *l, struct jpl_client *client,
                     const jpl_note_signer *signer, Jpl__Event *ev, bool json)
{
    uint8_t id[16];
    jpl_uuid_v4(id);
    ev->event_id.data = id;
    ev->event_id.len = 16;
    ev->issued_at_ms = jpl_now_ms();
    uint8_t *envb = NULL;
    size_t envlen = 0;
    jpl_error e = {0};
    jpl_append_result res;
    jpl_err rc = jpl_event_seal(ev, signer->pk, signer->sk, &envb, &envlen, &e);
    if (rc == JPL_OK) {
        jpl_bytes raw = {envb, envlen};
        rc = client ? cli_remote_append(client, &raw, 1, &res, &e)
                    : jpl_ledger_append(l, &raw, 1, &res, &e);
    }
    free(envb);
    if (rc != JPL_OK)
        return cli_fail(cmd, rc, "%s", e.msg);
    char idt[JPL_UUID_TEXT_LEN + 1];
    jpl_uuid_format(idt, id);
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "seq", json_integer((json_int_t)res.seq));
        json_object_set_new(o, "event_id", json_string(idt));
        json_object_set_new(o, "leaf_hash", cli_json_hex(res.leaf_hash, 32));
        cli_print_json(o);
    } else {
        printf("seq %llu %s\n", (unsigned long long)res.seq, idt);
    }
    return JPL_OK;
}

jpl_err cli_open_writable(const char *dir, jpl_ledger **l_out, struct jpl_projections **p_out,
                          jpl_error *e)
{
    jpl_ledger *l = NULL;
    jpl_projections *p = NULL;
    jpl_err rc = jpl_ledger_open(dir, true, &l, e);
    if (rc == JPL_OK)
        rc = jpl_projections_attach(l, NULL, NULL, &p, e);
    if (rc != JPL_OK) {
        jpl_ledger_close(l);
        jpl_projections_free(p);
        return rc;
    }
    *l_out = l;
    *p_out = p;
    return JPL_OK;
}

bool cli_remote_opt(int c, cli_remote *r)
{
    switch (c) {
    case CLI_OPT_URL:
        r->url = optarg;
        return true;
    case CLI_OPT_AUTH_KEY:
        r->auth_key = optarg;
        return true;
    case CLI_OPT_TLS_CA:
        r->tls_ca = optarg;
        return true;
    default:
        return false;
    }
}
