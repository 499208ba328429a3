/* What the server serves beyond the log: projections (queries, replay, positions). */
#ifndef JPL_TOOLS_SERVE_EXT_H
#define JPL_TOOLS_SERVE_EXT_H

#include "jpl/server.h"

/* Fills the attach/query/admin/positions hooks of o. */
void serve_ext_install(jpl_server_opts *o);
/* Answers a projection query (balance, trail, report) on one snapshot of l as JSON texts: what
 * the server answers and what the CLI prints. *log_size_out (may be NULL) gets the snapshot's
 * log size. */
jpl_err serve_ext_query(void *ctx, jpl_ledger *l, const char *kind, const char *nip, unsigned year,
                        const char *unit, bool with_proofs, char ***json_out, size_t *n_out,
                        uint64_t *log_size_out, jpl_error *e);

/* Frees what the hooks attached; call after the server has returned. */
void serve_ext_release(void);

#endif
