/*
 * `jpledger checkpoint --cosign`: an auditor cosigns the latest checkpoint of a running server.
 * It opens the checkpoint with the log's verifier key, checks with an RFC 9162 consistency
 * proof that it extends the last checkpoint this auditor cosigned (kept in the state file: that
 * cosigned note, verified again on every run), records the new one in the state file, and only
 * then sends its signature line to the server. So an auditor never cosigns a fork or a
 * rollback of what it cosigned before, even if the send fails and is retried.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jpl/client.h"
#include "jpl/keyfile.h"

#define CMD "checkpoint"
/* A checkpoint whose text began with this could be mistaken for another jpledger signature
 * domain ("jpledger/event/v1\n", "jpledger/auth/v1\n"): an auditor key never signs one. */
#define RESERVED_PREFIX "jpledger/"

typedef struct {
    jpl_client *c;
    jpl_note_verifier vs[2]; /* the log's key, the auditor's own */
    jpl_note_signer me;
} auditor;

/* The log's verifier key: the one given, else the server's (then the state file, signed by the
 * log key, is what pins it from the second run on). */
static int log_verifier(auditor *a, const char *log_key)
{
    jpl_error e = {0};
    if (log_key != NULL) {
        jpl_err rc = jpl_keyfile_read_verifier(log_key, &a->vs[0], &e);
        return rc == JPL_OK ? JPL_OK : cli_fail(CMD, rc, "log key: %s", e.msg);
    }
    Jpl__Response *resp = NULL;
    int ret = cli_get_status(CMD, a->c, &resp);
    if (ret == JPL_OK) {
        const char *vk = resp->status->log_vkey;
        jpl_err rc = jpl_note_verifier_parse(vk, strlen(vk), &a->vs[0], &e);
        if (rc != JPL_OK)
            ret = cli_fail(CMD, rc, "the server's log key: %s", e.msg);
        else
            fprintf(stderr, "jpledger %s: using the server's log key %s (--log-key checks it)\n",
                    CMD, vk);
    }
    jpl_codec_response_free(resp);
    return ret;
}

/* Opens a checkpoint note that the log key signed (and the auditor's key may have); its origin
 * must be the log key's name, as in every jpledger checkpoint. */
static jpl_err open_checkpoint(const auditor *a, const char *note, size_t len, jpl_checkpoint *cp,
                               jpl_note_result *r, jpl_error *e)
{
    jpl_err rc = jpl_checkpoint_open(note, len, a->vs[0].name, a->vs, 2, cp, r, e);
    if (rc == JPL_ERR_UNKNOWN_KEY) /* say which key: --log-key may be another log's */
        return jpl_error_prefix(e, "not signed by the log key %s+%08x", a->vs[0].name,
                                a->vs[0].key_id);
    if (rc == JPL_OK && !jpl_note_result_verified_by(r, 0))
        rc = jpl_fail(e, JPL_ERR_UNKNOWN_KEY, "not signed by the log key %s+%08x", a->vs[0].name,
                      a->vs[0].key_id);
    return rc;
}

/* The server's latest checkpoint note (malloc'd) after opening it. */
static int fetch_latest(auditor *a, char **note_out, jpl_checkpoint *cp, jpl_note_result *r)
{
    Jpl__Response *resp = NULL;
    int ret = cli_get_checkpoint(CMD, a->c, 0, &resp);
    char *note = ret == JPL_OK ? strdup(resp->checkpoint->note) : NULL;
    jpl_codec_response_free(resp);
    if (ret == JPL_OK && note == NULL)
        ret = cli_fail(CMD, JPL_ERR_INTERNAL, "out of memory");
    jpl_error e = {0};
    jpl_err rc = ret == JPL_OK ? open_checkpoint(a, note, strlen(note), cp, r, &e) : JPL_OK;
    if (rc != JPL_OK)
        ret = cli_fail(CMD, rc, "the server's latest checkpoint: %s; not cosigning", e.msg);
    if (ret == JPL_OK && strncmp(cp->origin, RESERVED_PREFIX, strlen(RESERVED_PREFIX)) == 0)
        ret = cli_fail(CMD, JPL_ERR_BAD_INPUT,
                       "origin \"%s\" starts with \"%s\", reserved for jpledger's signatures; "
                       "not cosigning",
                       cp->origin, RESERVED_PREFIX);
    if (ret != JPL_OK) {
        free(note);
        return ret;
    }
    *note_out = note;
    return JPL_OK;
}

/* The checkpoint this auditor cosigned last, from the state file; *have is false when the
 * file does not exist yet (the first run). */
static int load_state(const auditor *a, const char *path, jpl_checkpoint *prev, bool *have)
{
    char *buf = NULL;
    size_t len = 0;
    jpl_error e = {0};
    jpl_err rc = jpl_file_read_all(path, JPL_NOTE_MAX_SIZE, &buf, &len, &e);
    if (rc == JPL_ERR_NOT_FOUND) {
        *have = false;
        return JPL_OK;
    }
    if (rc != JPL_OK)
        return cli_fail(CMD, rc, "state file: %s", e.msg);
    static const jpl_note_result zero;
    jpl_note_result r = zero;
    jpl_checkpoint cp;
    rc = jpl_note_parse(buf, len, &r, &e);
    if (rc == JPL_OK)
        rc = jpl_checkpoint_parse(buf, r.text_len, &cp, &e);
    if (rc != JPL_OK) {
        free(buf);
        return cli_fail(CMD, rc, "state file %s is not a cosigned checkpoint: %s", path, e.msg);
    }
    rc = open_checkpoint(a, buf, len, prev, &r, &e);
    if (rc == JPL_OK && !jpl_note_result_verified_by(&r, 1))
        rc = jpl_fail(&e, JPL_ERR_UNKNOWN_KEY, "no signature by this auditor's key %s+%08x",
                      a->vs[1].name, a->vs[1].key_id);
    free(buf);
    if (rc != JPL_OK)
        return cli_fail(CMD, JPL_ERR_CONFLICT,
                        "state file %s holds a checkpoint of another log or auditor (%s); not "
                        "cosigning",
                        path, e.msg);
    *have = true;
    return JPL_OK;
}

/* Checks that cp extends prev: an RFC 9162 consistency proof from the server, verified against
 * the two roots the auditor holds. */
static int check_extends(auditor *a, const jpl_checkpoint *prev, const jpl_checkpoint *cp)
{
    unsigned long long m = prev->size, n = cp->size;
    if (n < m)
        return cli_fail(CMD, JPL_ERR_CONFLICT,
                        "rollback: the latest checkpoint has size %llu, but this auditor cosigned "
                        "size %llu before; not cosigning",
                        n, m);
    if (n == m || m == 0) {
        if (n == m && memcmp(prev->root, cp->root, JPL_SHA256_LEN) != 0)
            return cli_fail(CMD, JPL_ERR_CONFLICT,
                            "fork: checkpoint %llu has another root than the one this auditor "
                            "cosigned; not cosigning",
                            n);
        return JPL_OK;
    }
    Jpl__Response *resp = NULL;
    int ret = cli_get_consistency(CMD, a->c, m, n, &resp);
    uint8_t path[JPL_MERKLE_MAX_PATH][32];
    size_t np = 0;
    if (ret == JPL_OK &&
        !cli_wire_path(resp->consistency->path, resp->consistency->n_path, path, &np))
        ret = cli_fail(CMD, JPL_ERR_BAD_INPUT, "the server sent a malformed consistency proof");
    jpl_codec_response_free(resp);
    jpl_error e = {0};
    if (ret == JPL_OK &&
        jpl_merkle_verify_consistency(m, n, prev->root, cp->root, path, np, &e) != JPL_OK)
        ret = cli_fail(CMD, JPL_ERR_CONFLICT,
                       "fork: checkpoint %llu is not consistent with checkpoint %llu cosigned "
                       "before (%s); not cosigning",
                       n, m, e.msg);
    return ret;
}

/* Sends the cosigned note; prints the result. */
static int send_cosign(auditor *a, const char *note, const jpl_checkpoint *cp, bool had_prev,
                       uint64_t prev_size, bool json)
{
    Jpl__CosignRequest cr = JPL__COSIGN_REQUEST__INIT;
    cr.note = (char *)note;
    cr.public_key = (ProtobufCBinaryData){JPL_ED25519_PK_LEN, a->me.pk};
    Jpl__Request req = JPL__REQUEST__INIT;
    req.op_case = JPL__REQUEST__OP_COSIGN;
    req.cosign = &cr;
    Jpl__Response *resp = NULL;
    int ret = cli_call(CMD, a->c, &req, &resp);
    if (ret == JPL_OK && resp->result_case != JPL__RESPONSE__RESULT_COSIGN)
        ret = cli_fail(CMD, JPL_ERR_BAD_INPUT, "the server sent no cosign result");
    if (ret == JPL_OK) {
        const Jpl__CosignResponse *r = resp->cosign;
        char root[2 * JPL_SHA256_LEN + 1];
        jpl_hex_encode(root, cp->root, JPL_SHA256_LEN);
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "tree_size", json_integer((json_int_t)r->tree_size));
            json_object_set_new(o, "root", json_string(root));
            json_object_set_new(o, "key", json_string(r->key_name));
            json_object_set_new(o, "duplicate", json_boolean(r->duplicate));
            if (had_prev)
                json_object_set_new(o, "consistent_with", json_integer((json_int_t)prev_size));
            cli_print_json(o);
        } else {
            printf("cosigned checkpoint %llu (root %s) as %s%s", (unsigned long long)r->tree_size,
                   root, r->key_name, r->duplicate ? " (already cosigned before)" : "");
            if (had_prev)
                printf("; consistent with checkpoint %llu cosigned before",
                       (unsigned long long)prev_size);
            printf("\n");
        }
    }
    jpl_codec_response_free(resp);
    return ret;
}

/* Checks the latest checkpoint, cosigns it, records it, sends it. */
static int cosign_latest(auditor *a, const char *state_path, bool json)
{
    char *note = NULL, *cosigned = NULL;
    jpl_checkpoint cp, prev;
    static const jpl_note_result zero;
    jpl_note_result r = zero;
    bool have = false;
    int ret = fetch_latest(a, &note, &cp, &r);
    if (ret == JPL_OK && state_path != NULL)
        ret = load_state(a, state_path, &prev, &have);
    if (ret == JPL_OK && have)
        ret = check_extends(a, &prev, &cp);
    if (ret == JPL_OK && state_path == NULL)
        fprintf(stderr, "jpledger %s: no --state: not checked against earlier cosignatures\n", CMD);
    size_t len = strlen(note ? note : "");
    if (ret == JPL_OK && !jpl_note_result_verified_by(&r, 1)) {
        /* the served note lacks our line: add it (else it is there and verified already) */
        jpl_error e = {0};
        size_t cap = len + 512;
        cosigned = malloc(cap);
        jpl_err rc = cosigned ? jpl_note_cosign(note, len, &a->me, cosigned, cap, &len, &e)
                              : jpl_fail(&e, JPL_ERR_INTERNAL, "out of memory");
        if (rc != JPL_OK)
            ret = cli_fail(CMD, rc, "cosigning: %s", e.msg);
    }
    const char *out = cosigned ? cosigned : note;
    jpl_error e = {0};
    jpl_err rc = JPL_OK;
    if (ret == JPL_OK && state_path != NULL &&
        (rc = jpl_file_replace(state_path, out, len, &e)) != JPL_OK)
        ret = cli_fail(CMD, rc, "state file: %s", e.msg);
    if (ret == JPL_OK)
        ret = send_cosign(a, out, &cp, have, have ? prev.size : 0, json);
    free(note);
    free(cosigned);
    return ret;
}

int remote_cosign(const cli_remote *r, const char *key_path, const char *log_key,
                  const char *state_path, bool json)
{
    auditor a;
    memset(&a, 0, sizeof a);
    jpl_error e = {0};
    jpl_err rc = jpl_keyfile_read_signer(key_path, &a.me, &e);
    if (rc != JPL_OK)
        return cli_fail(CMD, rc, "auditor key: %s", e.msg);
    jpl_note_verifier_from_signer(&a.me, &a.vs[1]);
    int ret = cli_connect(CMD, r, &a.c);
    if (ret == JPL_OK)
        ret = log_verifier(&a, log_key);
    if (ret == JPL_OK)
        ret = cosign_latest(&a, state_path, json);
    jpl_client_close(a.c);
    jpl_note_signer_wipe(&a.me);
    return ret;
}
