/* The server's projection hooks (see serve_ext.h). Until projections are linked in, the
 * server answers log, proof and status operations and refuses queries with not_found. */
#include "serve_ext.h"

void serve_ext_install(jpl_server_opts *o)
{
    o->attach = NULL;
    o->query = NULL;
    o->admin = NULL;
    o->positions = NULL;
}
