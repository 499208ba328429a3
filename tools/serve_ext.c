/*
 * The server's projection hooks (see serve_ext.h): attaches the projections to the served
 * ledger, answers balance/trail/report queries with the same JSON objects the CLI prints (trail
 * rows optionally with inclusion proofs), runs online replays with the writer paused, and
 * reports each projection's applied position for status. A query reads one snapshot of the
 * ledger: its rows, the log size it reports and the proofs all belong to the same moment.
 */
#include "serve_ext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jpl/merkle.h"
#include "jpl/projections.h"

static jpl_projections *attached = NULL; /* one server per process */

static jpl_err ext_attach(void *ctx, jpl_ledger *l, jpl_error *e)
{
    (void)ctx;
    return jpl_projections_attach(l, NULL, NULL, &attached, e);
}

/* Collects JSON texts for a response. */
typedef struct {
    char **items;
    size_t n, cap;
} texts;

static jpl_err add_json(texts *t, json_t *o, jpl_error *e)
{
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (s == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 16;
        char **ni = realloc(t->items, ncap * sizeof *ni);
        if (ni == NULL) {
            free(s);
            return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
        }
        t->items = ni;
        t->cap = ncap;
    }
    t->items[t->n++] = s;
    return JPL_OK;
}

static void texts_free(texts *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->items[i]);
    free(t->items);
}

/* Adds {"proof":{"tree_size","path"}} to a trail row, against the tree of size entries. */
static jpl_err add_proof(jpl_ledger *l, json_t *row, uint64_t size, jpl_error *e)
{
    uint8_t path[JPL_MERKLE_MAX_PATH][32];
    size_t n = 0;
    uint64_t seq = (uint64_t)json_integer_value(json_object_get(row, "seq"));
    jpl_err rc = jpl_ledger_prove_inclusion(l, seq, size, path, &n, e);
    if (rc != JPL_OK)
        return rc;
    json_t *p = json_object();
    json_object_set_new(p, "tree_size", json_integer((json_int_t)size));
    json_object_set_new(p, "path", path_json((const uint8_t(*)[32])path, n));
    json_object_set_new(row, "proof", p);
    return JPL_OK;
}

/* l is a snapshot handle: the proofs are against its tree, which holds every row. */
static jpl_err query_trail(jpl_ledger *l, const char *nip, bool proofs, texts *t, jpl_error *e)
{
    json_t *rows = NULL;
    jpl_err rc = jpl_trail_query(l, nip, &rows, e);
    uint64_t size = jpl_ledger_size(l);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (rc == JPL_OK && proofs)
            rc = add_proof(l, row, size, e);
        if (rc == JPL_OK)
            rc = add_json(t, json_incref(row), e);
    }
    json_decref(rows);
    return rc;
}

/* Answers one query from snapshot handle l. */
static jpl_err query_at(jpl_ledger *l, const char *kind, const char *nip, unsigned year,
                        const char *unit, bool with_proofs, texts *t, jpl_error *e)
{
    jpl_err rc = JPL_OK;
    if (strcmp(kind, "balance") == 0) {
        jpl_balance *b = NULL;
        size_t n = 0;
        rc = jpl_balance_query(l, nip, year, &b, &n, e);
        for (size_t i = 0; rc == JPL_OK && i < n; i++)
            rc = add_json(t, jpl_balance_to_json(&b[i]), e);
        free(b);
    } else if (strcmp(kind, "trail") == 0) {
        rc = query_trail(l, nip, with_proofs, t, e);
    } else if (strcmp(kind, "report") == 0) {
        jpl_unit_row *rows = NULL;
        size_t n = 0;
        rc = jpl_unit_report(l, year, unit && unit[0] ? unit : NULL, &rows, &n, e);
        for (size_t i = 0; rc == JPL_OK && i < n; i++)
            rc = add_json(t, jpl_unit_row_to_json(&rows[i]), e);
        free(rows);
    } else {
        rc = jpl_fail(e, JPL_ERR_BAD_INPUT, "unknown query kind '%s' (balance, trail, report)",
                      kind);
    }
    return rc;
}

jpl_err serve_ext_query(void *ctx, jpl_ledger *l, const char *kind, const char *nip, unsigned year,
                        const char *unit, bool with_proofs, char ***json_out, size_t *n_out,
                        uint64_t *log_size_out, jpl_error *e)
{
    (void)ctx;
    bool needs_nip = strcmp(kind, "balance") == 0 || strcmp(kind, "trail") == 0;
    if (needs_nip && (nip == NULL || nip[0] == '\0'))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s needs a NIP", kind);
    texts t = {0};
    jpl_ledger *at = NULL;
    jpl_err rc = jpl_ledger_snapshot(l, &at, e);
    if (rc == JPL_OK)
        rc = query_at(at, kind, nip, year, unit, with_proofs, &t, e);
    uint64_t size = rc == JPL_OK ? jpl_ledger_size(at) : 0;
    jpl_ledger_close(at);
    if (rc != JPL_OK) {
        texts_free(&t);
        return rc;
    }
    *json_out = t.items;
    *n_out = t.n;
    if (log_size_out != NULL)
        *log_size_out = size;
    return JPL_OK;
}

static jpl_err ext_admin(void *ctx, jpl_ledger *l, const char *action, const char *projection,
                         char ***json_out, size_t *n_out, jpl_error *e)
{
    (void)ctx;
    (void)l; /* the projections attached to it */
    bool check = strcmp(action, "replay-check") == 0;
    if (!check && strcmp(action, "replay") != 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "unknown admin action '%s' (replay, replay-check)",
                        action);
    jpl_replay_opts o = {.only = projection && projection[0] ? projection : NULL, .check = check};
    jpl_replay_result res[JPL_PROJ_COUNT];
    size_t n = 0;
    jpl_err rc = attached != NULL ? jpl_projections_replay_attached(attached, &o, res, &n, e)
                                  : jpl_fail(e, JPL_ERR_INTERNAL, "no projections attached");
    texts t = {0};
    for (size_t i = 0; rc == JPL_OK && i < n; i++) {
        json_t *j = json_object();
        json_object_set_new(j, "projection", json_string(res[i].name));
        json_object_set_new(j, "applied", json_integer((json_int_t)res[i].applied));
        json_object_set_new(j, "digest", cli_json_hex(res[i].digest, JPL_SHA256_LEN));
        json_object_set_new(j, "live_digest", cli_json_hex(res[i].live_digest, JPL_SHA256_LEN));
        json_object_set_new(j, "match", json_boolean(res[i].match));
        json_object_set_new(j, "switched", json_boolean(!check));
        json_object_set_new(j, "generation", json_integer((json_int_t)res[i].generation));
        rc = add_json(&t, j, e);
    }
    if (rc != JPL_OK) {
        texts_free(&t);
        return rc;
    }
    *json_out = t.items;
    *n_out = t.n;
    return JPL_OK;
}

static size_t ext_positions(void *ctx, jpl_ledger *l, char ***out)
{
    (void)ctx;
    char **pos = calloc(JPL_PROJ_COUNT, sizeof *pos);
    size_t n = 0;
    for (size_t i = 0; pos && i < JPL_PROJ_COUNT; i++) {
        uint64_t applied = 0;
        char line[64];
        if (jpl_projection_applied(l, jpl_projection_names[i], &applied, NULL) != JPL_OK)
            continue;
        snprintf(line, sizeof line, "%s %llu", jpl_projection_names[i],
                 (unsigned long long)applied);
        pos[n] = strdup(line);
        if (pos[n] != NULL)
            n++;
    }
    *out = pos;
    return n;
}

void serve_ext_install(jpl_server_opts *o)
{
    o->attach = ext_attach;
    o->query = serve_ext_query;
    o->admin = ext_admin;
    o->positions = ext_positions;
}

void serve_ext_release(void)
{
    jpl_projections_free(attached);
    attached = NULL;
}
