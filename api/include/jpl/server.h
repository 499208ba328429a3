/*
 * The jpledger server: opens a ledger for writing and serves it over NNG. A REQ/REP socket
 * answers every operation of schemas/api.proto with a pool of workers (one NNG context each, so
 * many requests are in flight and appends verify signatures in parallel); a PUB socket
 * publishes each committed entry, after it is durable, and each new checkpoint.
 * docs/PROTOCOL.md describes the wire protocol.
 */
#ifndef JPL_SERVER_H
#define JPL_SERVER_H

#include <stdbool.h>
#include <signal.h>

#include "jpl/err.h"
#include "jpl/ledger.h"
#include "jpl/net.h"

#define JPL_DEFAULT_REP_URL "tcp://127.0.0.1:7450"
#define JPL_DEFAULT_PUB_URL "tcp://127.0.0.1:7451"

/* Answers a projection query (balance, trail, report) as JSON texts, read from one snapshot of
 * the ledger whose log size goes to *log_size_out; the server calls it with its ledger.
 * *json_out is a malloc'd array of malloc'd strings. NULL: queries unavailable. */
typedef jpl_err (*jpl_query_fn)(void *ctx, jpl_ledger *l, const char *kind, const char *nip,
                                unsigned year, const char *unit, bool with_proofs, char ***json_out,
                                size_t *n_out, uint64_t *log_size_out, jpl_error *e);
/* Runs an admin action ("replay", "replay-check") on the live ledger; the server pauses the
 * writer around it and reinstalls its commit hook afterwards. */
typedef jpl_err (*jpl_admin_fn)(void *ctx, jpl_ledger *l, const char *action,
                                const char *projection, char ***json_out, size_t *n_out,
                                jpl_error *e);
/* Attaches extra state to the opened ledger before serving (e.g. projections); may install
 * the ledger's stage hook. The server chains its own commit hook after it. */
typedef jpl_err (*jpl_attach_fn)(void *ctx, jpl_ledger *l, jpl_error *e);
/* Positions of projections for status: one "name seq" string each. */
typedef size_t (*jpl_positions_fn)(void *ctx, jpl_ledger *l, char ***out);

typedef struct {
    const char *data_dir;
    const char *rep_url;         /* NULL: JPL_DEFAULT_REP_URL */
    const char *pub_url;         /* NULL: JPL_DEFAULT_PUB_URL */
    int workers;                 /* 0: 16 */
    bool anonymous_local;        /* allow personal-data reads without a key from local peers */
    jpl_net_tls tls;             /* for tls+tcp:// URLs */
    volatile sig_atomic_t *stop; /* the server returns once *stop becomes non-zero */
    jpl_attach_fn attach;
    jpl_query_fn query;
    jpl_admin_fn admin;
    jpl_positions_fn positions;
    void *ext_ctx; /* passed to attach, query, admin, positions */
} jpl_server_opts;

/* Serves until *opts->stop is set (SIGINT/SIGTERM in the CLI), then finishes the group being
 * committed, fails requests still waiting, closes the sockets and the ledger. Logs one line per
 * start, stop and error to stderr. */
jpl_err jpl_server_run(const jpl_server_opts *opts, jpl_error *e);

#endif
