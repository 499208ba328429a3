/*
 * The append rules of DESIGN.md "What an append must satisfy", items 2-5: key registered and not
 * revoked, role may issue the type, id new or idempotent, expected version, transitions. The
 * writer calls jpl_rules_apply for each event, in log order, reading and writing the `state`
 * family through the group's write batch, so later events see earlier ones of the same group.
 */
#ifndef JPL_RULES_H
#define JPL_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "jpl/codec.h"
#include "jpl/err.h"
#include "jpl/store.h"

#define JPL_NIP_LEN 18

typedef struct {
    jpl_store *store;
    jpl_batch *batch;
    uint64_t seq;    /* position the event will get */
    uint64_t now_ms; /* recorded time, for NIP date checks */
} jpl_rules_ctx;

typedef struct {
    bool duplicate; /* same id, same bytes: answer dup_seq, write nothing */
    uint64_t dup_seq;
    char nip[JPL_NIP_LEN + 1]; /* the employee the event is about ("" if none) */
} jpl_rules_outcome;

/* Checks every rule for ev (signed by env->public_key) at ctx->seq and, if it holds, writes the
 * state changes, the id index and the stream index into ctx->batch. On failure nothing useful
 * is left in the batch (the caller rolls back to its save point) and e names the reason. */
jpl_err jpl_rules_apply(const jpl_rules_ctx *ctx, const Jpl__SignedEnvelope *env,
                        const Jpl__Event *ev, jpl_rules_outcome *out, jpl_error *e);

/* True if role (a Jpl__Role value) may issue events of body type bc (a Jpl__Event__BodyCase).
 * Revocations are checked separately against the revoked event's type. */
bool jpl_rules_role_may_issue(int role, int bc);

/* Name of an event type ("completed"), or "unknown". */
const char *jpl_rules_type_name(int bc);
/* Name of a role ("verifier"), or "unknown". */
const char *jpl_rules_role_name(int role);

#endif
