/* What the server serves beyond the log: projections (queries, replay, positions). */
#ifndef JPL_TOOLS_SERVE_EXT_H
#define JPL_TOOLS_SERVE_EXT_H

#include "jpl/server.h"

/* Fills the attach/query/admin/positions hooks of o. */
void serve_ext_install(jpl_server_opts *o);

#endif
