/*
 * The server (see server.h). Each worker thread owns one REP context and loops: receive a
 * request, decode it (bounded), dispatch on its operation, encode the response, send it.
 * Everything a response points at is allocated from a per-request arena freed after sending.
 * Read authentication is per connection (NNG pipe): a challenge nonce, then a signature by a
 * registered auditor/hr/admin key; the connection's role is forgotten when it closes.
 */
#include "jpl/thread.h"
#include "jpl/server.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jpl/codec.h"
#include "jpl/cosign.h"
#include "jpl/event_json.h"
#include "jpl/merkle.h"

#define AUTH_PREFIX "jpledger/auth/v1\n"
#define MAX_CONNS 1024
#define READ_PAGE_MAX 1000
#define MAX_WORKERS 64

typedef struct {
    uint32_t conn;
    bool has_nonce;
    uint8_t nonce[32];
    int role; /* 0: not authenticated */
    char key_name[129];
} conn_auth;

/* One committed group waiting to be published: its entries, then its checkpoint. */
typedef struct pub_job {
    uint64_t first, end;
    struct pub_job *next;
    char checkpoint[];
} pub_job;

typedef struct {
    const jpl_server_opts *o;
    jpl_ledger *ledger;
    jpl_net_sock *rep, *pub;
    uint64_t started_ms;
    pthread_mutex_t mu; /* guards conns */
    conn_auth conns[MAX_CONNS];
    size_t n_conns;
    /* the publisher thread, so that the writer never waits for pub/sub */
    pthread_t pub_tid;
    bool pub_started;
    pthread_mutex_t pub_mu;
    pthread_cond_t pub_cv;
    pub_job *pub_head, *pub_tail; /* guarded by pub_mu */
    bool pub_stop;                /* guarded by pub_mu: drain the queue, then end */
} server;

/* ---- logging ---- */

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void log_line(const char *fmt, ...)
{
    char ts[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s jpledger serve: ", ts);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- arena ---- */

typedef struct {
    void **p;
    size_t n, cap;
} arena;

static void *arena_keep(arena *a, void *p)
{
    if (p == NULL)
        return NULL;
    if (a->n == a->cap) {
        size_t ncap = a->cap ? a->cap * 2 : 32;
        void **np = realloc(a->p, ncap * sizeof *np);
        if (np == NULL) {
            free(p);
            return NULL;
        }
        a->p = np;
        a->cap = ncap;
    }
    a->p[a->n++] = p;
    return p;
}

static void *arena_alloc(arena *a, size_t size)
{
    return arena_keep(a, calloc(1, size ? size : 1));
}

static char *arena_strdup(arena *a, const char *s)
{
    return arena_keep(a, strdup(s));
}

static void arena_free(arena *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->p[i]);
    free(a->p);
    memset(a, 0, sizeof *a);
}

static ProtobufCBinaryData arena_bytes(arena *a, const void *data, size_t len)
{
    uint8_t *copy = arena_alloc(a, len);
    if (copy != NULL && len)
        memcpy(copy, data, len);
    return (ProtobufCBinaryData){copy ? len : 0, copy};
}

/* ---- connections ---- */

static conn_auth *find_conn(server *s, uint32_t conn, bool create)
{
    for (size_t i = 0; i < s->n_conns; i++)
        if (s->conns[i].conn == conn)
            return &s->conns[i];
    if (!create || s->n_conns == MAX_CONNS)
        return NULL;
    conn_auth *c = &s->conns[s->n_conns++];
    memset(c, 0, sizeof *c);
    c->conn = conn;
    return c;
}

static void forget_conn(void *ctx, uint32_t conn)
{
    server *s = ctx;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_conns; i++) {
        if (s->conns[i].conn == conn) {
            s->conns[i] = s->conns[--s->n_conns];
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
}

static int conn_role(server *s, uint32_t conn)
{
    pthread_mutex_lock(&s->mu);
    conn_auth *c = find_conn(s, conn, false);
    int role = c ? c->role : 0;
    pthread_mutex_unlock(&s->mu);
    return role;
}

/* Personal data needs a proven auditor, hr or admin key, or a local peer when allowed. */
static jpl_err need_reader(server *s, uint32_t conn, bool local, jpl_error *e)
{
    if (local && s->o->anonymous_local)
        return JPL_OK;
    if (conn_role(s, conn) != 0)
        return JPL_OK;
    return jpl_fail(e, JPL_ERR_UNAUTHORIZED,
                    "this read needs an authenticated auditor, hr or admin key (challenge, "
                    "then auth)");
}

static void entry_topic(server *s, const uint8_t *bytes, size_t len, char *topic, size_t cap);
static void on_commit(void *ctx, uint64_t first, uint64_t end, const char *checkpoint);

/* ---- handlers ---- */

typedef struct {
    server *s;
    uint32_t conn;
    bool local;
    arena *a;
    Jpl__Response *resp;
} call;

static jpl_err do_append(call *c, const Jpl__AppendRequest *r, jpl_error *e)
{
    if (r->n_envelopes == 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "empty batch");
    jpl_bytes *envs = arena_alloc(c->a, r->n_envelopes * sizeof *envs);
    jpl_append_result *res = arena_alloc(c->a, r->n_envelopes * sizeof *res);
    Jpl__AppendResponse *out = arena_alloc(c->a, sizeof *out);
    if (envs == NULL || res == NULL || out == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < r->n_envelopes; i++)
        envs[i] = (jpl_bytes){r->envelopes[i].data, r->envelopes[i].len};
    jpl__append_response__init(out);
    c->resp->result_case = JPL__RESPONSE__RESULT_APPEND;
    c->resp->append = out;
    jpl_err rc = jpl_ledger_append(c->s->ledger, envs, r->n_envelopes, res, e);
    if (rc != JPL_OK) {
        for (size_t i = 0; i < r->n_envelopes; i++) {
            if (res[i].code != JPL_OK) {
                out->has_failed_index = 1;
                out->failed_index = (uint32_t)i;
                break;
            }
        }
        return rc;
    }
    out->results = arena_alloc(c->a, r->n_envelopes * sizeof *out->results);
    Jpl__AppendResult *items = arena_alloc(c->a, r->n_envelopes * sizeof *items);
    if (out->results == NULL || items == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    out->n_results = r->n_envelopes;
    for (size_t i = 0; i < r->n_envelopes; i++) {
        jpl__append_result__init(&items[i]);
        items[i].seq = res[i].seq;
        items[i].event_id = arena_bytes(c->a, res[i].event_id, 16);
        items[i].leaf_hash = arena_bytes(c->a, res[i].leaf_hash, 32);
        items[i].has_duplicate = 1;
        items[i].duplicate = res[i].duplicate;
        out->results[i] = &items[i];
    }
    return JPL_OK;
}

static jpl_err do_read_log(call *c, const Jpl__ReadLogRequest *r, jpl_error *e)
{
    jpl_err rc = need_reader(c->s, c->conn, c->local, e);
    if (rc != JPL_OK)
        return rc;
    uint64_t size = jpl_ledger_size(c->s->ledger);
    if (r->from_seq > size)
        return jpl_fail(e, JPL_ERR_NOT_FOUND, "from_seq %llu is beyond the log size %llu",
                        (unsigned long long)r->from_seq, (unsigned long long)size);
    uint64_t max = r->has_max_entries && r->max_entries ? r->max_entries : READ_PAGE_MAX;
    if (max > READ_PAGE_MAX)
        max = READ_PAGE_MAX;
    uint64_t n = size - r->from_seq < max ? size - r->from_seq : max;
    Jpl__ReadLogResponse *out = arena_alloc(c->a, sizeof *out);
    if (out == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl__read_log_response__init(out);
    out->log_size = size;
    out->entries = arena_alloc(c->a, (size_t)n * sizeof *out->entries);
    out->topics = arena_alloc(c->a, (size_t)n * sizeof *out->topics);
    if (out->entries == NULL || out->topics == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    for (uint64_t i = 0; i < n; i++) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        rc = jpl_ledger_entry(c->s->ledger, r->from_seq + i, &bytes, &len, e);
        if (rc != JPL_OK)
            return rc;
        arena_keep(c->a, bytes);
        out->entries[i] = (ProtobufCBinaryData){len, bytes};
        out->n_entries++;
        char topic[512];
        entry_topic(c->s, bytes, len, topic, sizeof topic);
        out->topics[i] = arena_strdup(c->a, topic);
        out->n_topics++;
    }
    c->resp->result_case = JPL__RESPONSE__RESULT_READ_LOG;
    c->resp->read_log = out;
    return JPL_OK;
}

static jpl_err do_checkpoint(call *c, const Jpl__CheckpointRequest *r, jpl_error *e)
{
    char *note = NULL;
    jpl_err rc = r->has_tree_size ? jpl_ledger_checkpoint_at(c->s->ledger, r->tree_size, &note, e)
                                  : jpl_ledger_checkpoint(c->s->ledger, &note, e);
    if (rc != JPL_OK)
        return rc;
    Jpl__CheckpointResponse *out = arena_alloc(c->a, sizeof *out);
    if (out == NULL || arena_keep(c->a, note) == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl__checkpoint_response__init(out);
    out->note = note;
    c->resp->result_case = JPL__RESPONSE__RESULT_CHECKPOINT;
    c->resp->checkpoint = out;
    return JPL_OK;
}

static ProtobufCBinaryData *path_bytes(arena *a, uint8_t (*path)[32], size_t n)
{
    ProtobufCBinaryData *out = arena_alloc(a, n * sizeof *out);
    for (size_t i = 0; out && i < n; i++)
        out[i] = arena_bytes(a, path[i], 32);
    return out;
}

static jpl_err do_inclusion(call *c, const Jpl__InclusionRequest *r, jpl_error *e)
{
    uint64_t size = r->has_tree_size ? r->tree_size : jpl_ledger_size(c->s->ledger);
    uint8_t path[JPL_MERKLE_MAX_PATH][32], root[32], leaf[32];
    size_t n = 0;
    uint8_t *bytes = NULL;
    size_t len = 0;
    jpl_err rc = jpl_ledger_prove_inclusion(c->s->ledger, r->seq, size, path, &n, e);
    if (rc == JPL_OK)
        rc = jpl_ledger_root(c->s->ledger, size, root, e);
    if (rc == JPL_OK)
        rc = jpl_ledger_entry(c->s->ledger, r->seq, &bytes, &len, e);
    if (rc != JPL_OK)
        return rc;
    jpl_merkle_hash_leaf(leaf, bytes, len);
    free(bytes);
    Jpl__InclusionResponse *out = arena_alloc(c->a, sizeof *out);
    if (out == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl__inclusion_response__init(out);
    out->seq = r->seq;
    out->tree_size = size;
    out->leaf_hash = arena_bytes(c->a, leaf, 32);
    out->root = arena_bytes(c->a, root, 32);
    out->path = path_bytes(c->a, path, n);
    out->n_path = n;
    c->resp->result_case = JPL__RESPONSE__RESULT_INCLUSION;
    c->resp->inclusion = out;
    return JPL_OK;
}

static jpl_err do_consistency(call *c, const Jpl__ConsistencyRequest *r, jpl_error *e)
{
    uint8_t path[JPL_MERKLE_MAX_PATH][32], r1[32], r2[32];
    size_t n = 0;
    jpl_err rc = jpl_ledger_prove_consistency(c->s->ledger, r->from_size, r->to_size, path, &n, e);
    if (rc == JPL_OK)
        rc = jpl_ledger_root(c->s->ledger, r->from_size, r1, e);
    if (rc == JPL_OK)
        rc = jpl_ledger_root(c->s->ledger, r->to_size, r2, e);
    if (rc != JPL_OK)
        return rc;
    Jpl__ConsistencyResponse *out = arena_alloc(c->a, sizeof *out);
    if (out == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl__consistency_response__init(out);
    out->from_size = r->from_size;
    out->to_size = r->to_size;
    out->root_from = arena_bytes(c->a, r1, 32);
    out->root_to = arena_bytes(c->a, r2, 32);
    out->path = path_bytes(c->a, path, n);
    out->n_path = n;
    c->resp->result_case = JPL__RESPONSE__RESULT_CONSISTENCY;
    c->resp->consistency = out;
    return JPL_OK;
}

/* Status from one snapshot: the log size, the checkpoint and the projections' positions agree. */
static jpl_err do_status(call *c, jpl_error *e)
{
    jpl_ledger *at = NULL;
    Jpl__StatusResponse *out = arena_alloc(c->a, sizeof *out);
    if (out == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl_err rc = jpl_ledger_snapshot(c->s->ledger, &at, e);
    if (rc != JPL_OK)
        return rc;
    jpl__status_response__init(out);
    out->log_size = jpl_ledger_size(at);
    out->origin = arena_strdup(c->a, jpl_ledger_origin(at));
    out->log_vkey = arena_strdup(c->a, jpl_ledger_log_vkey(at));
    char *note = NULL;
    if (jpl_ledger_checkpoint(at, &note, NULL) == JPL_OK)
        out->checkpoint = arena_keep(c->a, note);
    out->uptime_ms = jpl_now_ms() - c->s->started_ms;
    out->has_authenticated = 1;
    out->authenticated = conn_role(c->s, c->conn) != 0;
    if (c->s->o->positions) {
        char **pos = NULL;
        size_t n = c->s->o->positions(c->s->o->ext_ctx, at, &pos);
        out->projections = arena_keep(c->a, pos);
        for (size_t i = 0; i < n; i++)
            arena_keep(c->a, pos[i]);
        out->n_projections = pos ? n : 0;
    }
    jpl_ledger_close(at);
    c->resp->result_case = JPL__RESPONSE__RESULT_STATUS;
    c->resp->status = out;
    return JPL_OK;
}

static jpl_err do_challenge(call *c, jpl_error *e)
{
    Jpl__ChallengeResponse *out = arena_alloc(c->a, sizeof *out);
    if (out == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl__challenge_response__init(out);
    pthread_mutex_lock(&c->s->mu);
    conn_auth *ca = find_conn(c->s, c->conn, true);
    if (ca != NULL) {
        jpl_random_bytes(ca->nonce, 32);
        ca->has_nonce = true;
        out->nonce = arena_bytes(c->a, ca->nonce, 32);
    }
    pthread_mutex_unlock(&c->s->mu);
    if (ca == NULL)
        return jpl_fail(e, JPL_ERR_TOO_LARGE, "too many connections");
    c->resp->result_case = JPL__RESPONSE__RESULT_CHALLENGE;
    c->resp->challenge = out;
    return JPL_OK;
}

static jpl_err do_auth(call *c, const Jpl__AuthRequest *r, jpl_error *e)
{
    if (r->public_key.len != 32 || r->signature.len != 64)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "public key must be 32 bytes, signature 64");
    uint8_t nonce[32];
    pthread_mutex_lock(&c->s->mu);
    conn_auth *ca = find_conn(c->s, c->conn, false);
    bool have = ca != NULL && ca->has_nonce;
    if (have) {
        memcpy(nonce, ca->nonce, 32);
        ca->has_nonce = false; /* one attempt per challenge */
    }
    pthread_mutex_unlock(&c->s->mu);
    if (!have)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "ask for a challenge first");
    if (!jpl_ed25519_verify2(r->signature.data, AUTH_PREFIX, strlen(AUTH_PREFIX), nonce, 32,
                             r->public_key.data))
        return jpl_fail(e, JPL_ERR_BAD_SIGNATURE, "the challenge signature does not verify");
    int role = 0;
    char name[129];
    jpl_err rc = jpl_ledger_key_role(c->s->ledger, r->public_key.data, &role, name, sizeof name, e);
    if (rc != JPL_OK)
        return rc;
    if (role != JPL__ROLE__ROLE_AUDITOR && role != JPL__ROLE__ROLE_HR &&
        role != JPL__ROLE__ROLE_ADMIN)
        return jpl_fail(e, JPL_ERR_FORBIDDEN, "key %s has a role that may not read personal data",
                        name);
    pthread_mutex_lock(&c->s->mu);
    ca = find_conn(c->s, c->conn, true);
    if (ca != NULL) {
        ca->role = role;
        snprintf(ca->key_name, sizeof ca->key_name, "%s", name);
    }
    pthread_mutex_unlock(&c->s->mu);
    Jpl__AuthResponse *out = arena_alloc(c->a, sizeof *out);
    if (out == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl__auth_response__init(out);
    out->key_name = arena_strdup(c->a, name);
    static const char *const roles[] = {"",    "admin",    "hr",     "supervisor",
                                        "lms", "verifier", "auditor"};
    out->role = (char *)roles[role];
    c->resp->result_case = JPL__RESPONSE__RESULT_AUTH;
    c->resp->auth = out;
    return JPL_OK;
}

static jpl_err json_texts(call *c, char **json, size_t n, Jpl__QueryResponse *out)
{
    arena_keep(c->a, json);
    out->json = json;
    out->n_json = json ? n : 0;
    for (size_t i = 0; i < out->n_json; i++)
        arena_keep(c->a, json[i]);
    return JPL_OK;
}

/* What a query asks, checked before anything else (even before its read key is asked for). */
static jpl_err check_query(const Jpl__QueryRequest *r, jpl_error *e)
{
    if (strcmp(r->kind, "balance") != 0 && strcmp(r->kind, "trail") != 0 &&
        strcmp(r->kind, "report") != 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "query: no kind '%.64s' (balance, trail or report)",
                        r->kind);
    if (r->unit != NULL)
        return jpl_text_field_check("unit", r->unit, JPL_MAX_UNIT, e);
    return JPL_OK;
}

static jpl_err do_query(call *c, const Jpl__QueryRequest *r, jpl_error *e)
{
    jpl_err rc = check_query(r, e);
    if (rc != JPL_OK)
        return rc;
    bool personal = strcmp(r->kind, "report") != 0;
    rc = personal ? need_reader(c->s, c->conn, c->local, e) : JPL_OK;
    if (rc != JPL_OK)
        return rc;
    if (c->s->o->query == NULL)
        return jpl_fail(e, JPL_ERR_NOT_FOUND, "this server answers no projection queries");
    char **json = NULL;
    size_t n = 0;
    uint64_t size = 0;
    rc = c->s->o->query(c->s->o->ext_ctx, c->s->ledger, r->kind, r->nip, r->has_year ? r->year : 0,
                        r->unit, r->has_with_proofs && r->with_proofs, &json, &n, &size, e);
    if (rc != JPL_OK)
        return rc;
    Jpl__QueryResponse *out = arena_alloc(c->a, sizeof *out);
    if (out == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl__query_response__init(out);
    json_texts(c, json, n, out);
    out->has_log_size = 1;
    out->log_size = size;
    c->resp->result_case = JPL__RESPONSE__RESULT_QUERY;
    c->resp->query = out;
    return JPL_OK;
}

static jpl_err do_admin(call *c, const Jpl__AdminRequest *r, jpl_error *e)
{
    if (conn_role(c->s, c->conn) != JPL__ROLE__ROLE_ADMIN)
        return jpl_fail(e, JPL_ERR_UNAUTHORIZED,
                        "admin actions need a connection "
                        "authenticated with an admin key");
    if (c->s->o->admin == NULL)
        return jpl_fail(e, JPL_ERR_NOT_FOUND, "this server has no admin actions");
    char **json = NULL;
    size_t n = 0;
    jpl_ledger_pause(c->s->ledger);
    jpl_err rc =
        c->s->o->admin(c->s->o->ext_ctx, c->s->ledger, r->action, r->projection, &json, &n, e);
    jpl_ledger_set_commit_hook(c->s->ledger, on_commit, c->s); /* the action may re-attach */
    jpl_ledger_resume(c->s->ledger);
    log_line("admin %s: %s", r->action, rc == JPL_OK ? "done" : e->msg);
    if (rc != JPL_OK)
        return rc;
    Jpl__AdminResponse *out = arena_alloc(c->a, sizeof *out);
    Jpl__QueryResponse tmp = JPL__QUERY_RESPONSE__INIT;
    if (out == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl__admin_response__init(out);
    json_texts(c, json, n, &tmp);
    out->json = tmp.json;
    out->n_json = tmp.n_json;
    c->resp->result_case = JPL__RESPONSE__RESULT_ADMIN;
    c->resp->admin = out;
    return JPL_OK;
}

static jpl_err do_cosign(call *c, const Jpl__CosignRequest *r, jpl_error *e)
{
    if (r->public_key.len != JPL_ED25519_PK_LEN)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "public key must be 32 bytes, got %zu",
                        r->public_key.len);
    jpl_cosign_result res;
    char *note = NULL;
    jpl_err rc =
        jpl_ledger_cosign(c->s->ledger, r->note, strlen(r->note), r->public_key.data, &res, e);
    if (rc == JPL_OK)
        rc = jpl_ledger_checkpoint_at(c->s->ledger, res.size, &note, e);
    if (rc != JPL_OK)
        return rc;
    if (!res.duplicate)
        log_line("checkpoint %llu cosigned by %s", (unsigned long long)res.size, res.key_name);
    Jpl__CosignResponse *out = arena_alloc(c->a, sizeof *out);
    if (out == NULL || arena_keep(c->a, note) == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl__cosign_response__init(out);
    out->tree_size = res.size;
    out->key_name = arena_strdup(c->a, res.key_name);
    out->duplicate = res.duplicate;
    out->note = note;
    c->resp->result_case = JPL__RESPONSE__RESULT_COSIGN;
    c->resp->cosign = out;
    return JPL_OK;
}

static jpl_err dispatch(call *c, const Jpl__Request *req, jpl_error *e)
{
    switch (req->op_case) {
    case JPL__REQUEST__OP_APPEND:
        return do_append(c, req->append, e);
    case JPL__REQUEST__OP_READ_LOG:
        return do_read_log(c, req->read_log, e);
    case JPL__REQUEST__OP_CHECKPOINT:
        return do_checkpoint(c, req->checkpoint, e);
    case JPL__REQUEST__OP_INCLUSION:
        return do_inclusion(c, req->inclusion, e);
    case JPL__REQUEST__OP_CONSISTENCY:
        return do_consistency(c, req->consistency, e);
    case JPL__REQUEST__OP_STATUS:
        return do_status(c, e);
    case JPL__REQUEST__OP_CHALLENGE:
        return do_challenge(c, e);
    case JPL__REQUEST__OP_AUTH:
        return do_auth(c, req->auth, e);
    case JPL__REQUEST__OP_QUERY:
        return do_query(c, req->query, e);
    case JPL__REQUEST__OP_ADMIN:
        return do_admin(c, req->admin, e);
    case JPL__REQUEST__OP_COSIGN:
        return do_cosign(c, req->cosign, e);
    default:
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "unknown operation");
    }
}

/* Decodes, dispatches and encodes one exchange; *out is malloc'd. */
static jpl_err serve_one(server *s, const uint8_t *buf, size_t len, uint32_t conn, bool local,
                         uint8_t **out, size_t *out_len)
{
    arena a = {0};
    Jpl__Request *req = NULL;
    Jpl__Response resp = JPL__RESPONSE__INIT;
    jpl_error e = {0};
    jpl_err rc = jpl_codec_request_decode(buf, len, &req, &e);
    call c = {.s = s, .conn = conn, .local = local, .a = &a, .resp = &resp};
    if (rc == JPL_OK)
        rc = dispatch(&c, req, &e);
    resp.code = (uint32_t)rc;
    if (rc != JPL_OK) {
        resp.error = (char *)jpl_strerror(rc);
        resp.message = e.msg;
        if (resp.result_case != JPL__RESPONSE__RESULT_APPEND) /* append keeps failed_index */
            resp.result_case = JPL__RESPONSE__RESULT__NOT_SET;
    }
    jpl_error ee = {0};
    jpl_err erc = jpl_codec_response_encode(&resp, out, out_len, &ee);
    jpl_codec_request_free(req);
    arena_free(&a);
    return erc;
}

/* ---- pub/sub ---- */

/* The pub/sub topic of an entry: "entry/<type>/<unit>/" (unit "-" for events about nobody);
 * the unit is the employee's unit when the topic is computed. */
static void entry_topic(server *s, const uint8_t *bytes, size_t len, char *topic, size_t cap)
{
    Jpl__LogEntry *entry = NULL;
    Jpl__Event *ev = NULL;
    snprintf(topic, cap, "entry/unknown/-/");
    if (jpl_codec_entry_decode(bytes, len, &entry, NULL) == JPL_OK &&
        jpl_codec_event_decode(entry->envelope->event.data, entry->envelope->event.len, &ev,
                               NULL) == JPL_OK) {
        char unit[256] = "-";
        if (ev->nip != NULL && ev->nip[0] != '\0' &&
            jpl_ledger_employee_unit(s->ledger, ev->nip, unit, sizeof unit, NULL) != JPL_OK)
            snprintf(unit, sizeof unit, "-");
        snprintf(topic, cap, "entry/%s/%s/", jpl_event_type_name(ev), unit);
    }
    jpl_codec_event_free(ev);
    jpl_codec_entry_free(entry);
}

static void publish_entry(server *s, uint64_t seq)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (jpl_ledger_entry(s->ledger, seq, &bytes, &len, NULL) != JPL_OK)
        return;
    char topic[512];
    entry_topic(s, bytes, len, topic, sizeof topic - 1);
    size_t tlen = strlen(topic);
    topic[tlen++] = '\n'; /* the topic line ends at the first newline */
    topic[tlen] = '\0';
    uint8_t *msg = malloc(tlen + len);
    if (msg != NULL) {
        memcpy(msg, topic, tlen);
        memcpy(msg + tlen, bytes, len);
        jpl_error e = {0};
        if (jpl_net_publish(s->pub, msg, tlen + len, &e) != JPL_OK)
            log_line("publish failed: %s", e.msg);
        free(msg);
    }
    free(bytes);
}

static void publish_group(server *s, uint64_t first, uint64_t end, const char *checkpoint)
{
    for (uint64_t seq = first; seq < end; seq++)
        publish_entry(s, seq);
    size_t clen = strlen(checkpoint);
    uint8_t *msg = malloc(12 + clen);
    if (msg != NULL) {
        memcpy(msg, "checkpoint/\n", 12);
        memcpy(msg + 12, checkpoint, clen);
        (void)jpl_net_publish(s->pub, msg, 12 + clen, NULL);
        free(msg);
    }
}

/* The writer's commit hook: queues the group for the publisher thread (or, without one or
 * without memory, publishes it here). */
static void on_commit(void *ctx, uint64_t first, uint64_t end, const char *checkpoint)
{
    server *s = ctx;
    size_t clen = strlen(checkpoint);
    pub_job *j = s->pub_started ? malloc(sizeof *j + clen + 1) : NULL;
    if (j == NULL) {
        publish_group(s, first, end, checkpoint);
        return;
    }
    j->first = first;
    j->end = end;
    j->next = NULL;
    memcpy(j->checkpoint, checkpoint, clen + 1);
    pthread_mutex_lock(&s->pub_mu);
    if (s->pub_tail != NULL)
        s->pub_tail->next = j;
    else
        s->pub_head = j;
    s->pub_tail = j;
    pthread_cond_signal(&s->pub_cv);
    pthread_mutex_unlock(&s->pub_mu);
}

/* Publishes queued groups in commit order until told to stop and the queue is empty. */
static void *publisher_main(void *arg)
{
    jpl_thread_name("jpl-publish");
    server *s = arg;
    pthread_mutex_lock(&s->pub_mu);
    for (;;) {
        while (s->pub_head == NULL && !s->pub_stop)
            pthread_cond_wait(&s->pub_cv, &s->pub_mu);
        pub_job *j = s->pub_head;
        if (j == NULL)
            break; /* stopping and drained */
        s->pub_head = j->next;
        if (s->pub_head == NULL)
            s->pub_tail = NULL;
        pthread_mutex_unlock(&s->pub_mu);
        publish_group(s, j->first, j->end, j->checkpoint);
        free(j);
        pthread_mutex_lock(&s->pub_mu);
    }
    pthread_mutex_unlock(&s->pub_mu);
    return NULL;
}

static void start_publisher(server *s)
{
    pthread_mutex_init(&s->pub_mu, NULL);
    pthread_cond_init(&s->pub_cv, NULL);
    s->pub_started = pthread_create(&s->pub_tid, NULL, publisher_main, s) == 0;
}

/* Publishes what is queued, then ends the thread (no commits may happen any more). */
static void stop_publisher(server *s)
{
    if (s->pub_started) {
        pthread_mutex_lock(&s->pub_mu);
        s->pub_stop = true;
        pthread_cond_signal(&s->pub_cv);
        pthread_mutex_unlock(&s->pub_mu);
        pthread_join(s->pub_tid, NULL);
        s->pub_started = false;
    }
    pthread_mutex_destroy(&s->pub_mu);
    pthread_cond_destroy(&s->pub_cv);
}

/* ---- workers ---- */

typedef struct {
    server *s;
    jpl_net_ctx *ctx;
    pthread_t tid;
} worker;

static void *worker_main(void *arg)
{
    jpl_thread_name("jpl-worker");
    worker *w = arg;
    for (;;) {
        uint8_t *buf = NULL, *out = NULL;
        size_t len = 0, out_len = 0;
        uint32_t conn = 0;
        bool local = false;
        jpl_error e = {0};
        if (jpl_net_ctx_recv(w->ctx, &buf, &len, &conn, &local, &e) != JPL_OK)
            break; /* the socket was closed: shutting down */
        jpl_err rc = serve_one(w->s, buf, len, conn, local, &out, &out_len);
        free(buf);
        if (rc == JPL_OK && jpl_net_ctx_send(w->ctx, out, out_len, &e) != JPL_OK)
            log_line("reply failed: %s", e.msg);
        free(out);
    }
    return NULL;
}

jpl_err jpl_server_run(const jpl_server_opts *o, jpl_error *e)
{
    server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    s->o = o;
    pthread_mutex_init(&s->mu, NULL);
    s->started_ms = jpl_now_ms();
    const char *rep_url = o->rep_url ? o->rep_url : JPL_DEFAULT_REP_URL;
    const char *pub_url = o->pub_url ? o->pub_url : JPL_DEFAULT_PUB_URL;
    int n_workers = o->workers > 0 ? o->workers : 16;
    if (n_workers > MAX_WORKERS)
        n_workers = MAX_WORKERS;
    worker *workers = calloc((size_t)n_workers, sizeof *workers);
    int started = 0;
    jpl_err rc = workers ? jpl_ledger_open(o->data_dir, true, &s->ledger, e)
                         : jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    if (rc == JPL_OK && o->attach)
        rc = o->attach(o->ext_ctx, s->ledger, e);
    if (rc == JPL_OK)
        rc = jpl_net_listen_pub(pub_url, &o->tls, &s->pub, e);
    if (rc == JPL_OK)
        rc = jpl_net_listen_rep(rep_url, JPL_MAX_API_BYTES, &o->tls, &s->rep, e);
    start_publisher(s);
    if (rc == JPL_OK) {
        jpl_net_on_disconnect(s->rep, forget_conn, s);
        jpl_ledger_set_commit_hook(s->ledger, on_commit, s);
    }
    for (int i = 0; rc == JPL_OK && i < n_workers; i++) {
        workers[i].s = s;
        rc = jpl_net_ctx_open(s->rep, &workers[i].ctx, e);
        if (rc == JPL_OK && pthread_create(&workers[i].tid, NULL, worker_main, &workers[i]) != 0)
            rc = jpl_fail(e, JPL_ERR_INTERNAL, "cannot start worker threads");
        if (rc == JPL_OK)
            started++;
    }
    if (rc == JPL_OK) {
        char sizes[64];
        snprintf(sizes, sizeof sizes, "%llu entries, %d workers",
                 (unsigned long long)jpl_ledger_size(s->ledger), n_workers);
        log_line("started: rep %s, pub %s", rep_url, pub_url);
        log_line("ledger %s: %s", o->data_dir, sizes);
        while (!*o->stop)
            usleep(100 * 1000);
        log_line("stopping");
    } else {
        log_line("failed to start: %s", e ? e->msg : "");
    }
    /* closing the REP socket ends every blocked receive; workers in an append finish it */
    jpl_net_close(s->rep);
    for (int i = 0; i < started; i++)
        pthread_join(workers[i].tid, NULL);
    for (int i = 0; workers && i < n_workers; i++)
        jpl_net_ctx_close(workers[i].ctx);
    stop_publisher(s);           /* every append has been answered: publish the last groups */
    jpl_ledger_close(s->ledger); /* the writer finishes the group in progress */
    jpl_net_close(s->pub);
    if (rc == JPL_OK)
        log_line("stopped");
    pthread_mutex_destroy(&s->mu);
    free(workers);
    free(s);
    return rc;
}
