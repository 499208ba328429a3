/*
 * Append rules (see rules.h). The writer's validation state lives in the `state` family:
 *   'K' pubkey(32)        -> role u8, revoked u8, registered seq u64, revoked seq u64, name
 *   'E' NIP(18)           -> kind u8, cap_exempt u8, exited u8, unit
 *   'V' NIP(18)           -> stream version u64 (events about this employee so far)
 *   'A' activity id       -> seq u64 of its activity_defined event
 *   'R' event id(16)      -> seq u64 of the revocation of that event
 *   'C' completion id(16) -> id of its (unrevoked) recognition
 *   'D' enrollment id(16) -> id of its (unrevoked) completion
 *   'Q' plan id(16)       -> id of its (unrevoked) approval
 *   'N'                   -> number of unrevoked admin keys u64
 * Referenced events are read back from the log itself (ids -> seq -> entry), so the state holds
 * only what the log cannot answer cheaply.
 */
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpl/crypto.h"
#include "jpl/event_json.h"
#include "jpl/nip.h"

#define KEY_REC_FIXED 18

typedef struct {
    int role;
    bool revoked;
    uint64_t registered_seq;
    uint64_t revoked_seq;
} key_rec;

static const char *const TYPE_NAMES[] = {
    [JPL__EVENT__BODY_KEY_REGISTERED] = "key_registered",
    [JPL__EVENT__BODY_KEY_REVOKED] = "key_revoked",
    [JPL__EVENT__BODY_POLICY_SET] = "policy_set",
    [JPL__EVENT__BODY_EMPLOYEE_REGISTERED] = "employee_registered",
    [JPL__EVENT__BODY_EMPLOYEE_UPDATED] = "employee_updated",
    [JPL__EVENT__BODY_EMPLOYEE_EXITED] = "employee_exited",
    [JPL__EVENT__BODY_ACTIVITY_DEFINED] = "activity_defined",
    [JPL__EVENT__BODY_PLAN_SUBMITTED] = "plan_submitted",
    [JPL__EVENT__BODY_PLAN_APPROVED] = "plan_approved",
    [JPL__EVENT__BODY_ENROLLED] = "enrolled",
    [JPL__EVENT__BODY_COMPLETED] = "completed",
    [JPL__EVENT__BODY_RECOGNIZED] = "recognized",
    [JPL__EVENT__BODY_REVOKED] = "revoked",
};

static const char *const ROLE_NAMES[] = {
    [JPL__ROLE__ROLE_ADMIN] = "admin",           [JPL__ROLE__ROLE_HR] = "hr",
    [JPL__ROLE__ROLE_SUPERVISOR] = "supervisor", [JPL__ROLE__ROLE_LMS] = "lms",
    [JPL__ROLE__ROLE_VERIFIER] = "verifier",     [JPL__ROLE__ROLE_AUDITOR] = "auditor",
};

const char *jpl_rules_type_name(int bc)
{
    if (bc <= 0 || (size_t)bc >= sizeof TYPE_NAMES / sizeof TYPE_NAMES[0] || !TYPE_NAMES[bc])
        return "unknown";
    return TYPE_NAMES[bc];
}

const char *jpl_rules_role_name(int role)
{
    if (role <= 0 || (size_t)role >= sizeof ROLE_NAMES / sizeof ROLE_NAMES[0] || !ROLE_NAMES[role])
        return "unknown";
    return ROLE_NAMES[role];
}

/* Which role issues which event type. The admin issues only key and policy events (separation
 * of duties), but may revoke any revocable event. */
static int issuing_role(int bc)
{
    switch (bc) {
    case JPL__EVENT__BODY_KEY_REGISTERED:
    case JPL__EVENT__BODY_KEY_REVOKED:
    case JPL__EVENT__BODY_POLICY_SET:
        return JPL__ROLE__ROLE_ADMIN;
    case JPL__EVENT__BODY_EMPLOYEE_REGISTERED:
    case JPL__EVENT__BODY_EMPLOYEE_UPDATED:
    case JPL__EVENT__BODY_EMPLOYEE_EXITED:
    case JPL__EVENT__BODY_PLAN_SUBMITTED:
        return JPL__ROLE__ROLE_HR;
    case JPL__EVENT__BODY_PLAN_APPROVED:
        return JPL__ROLE__ROLE_SUPERVISOR;
    case JPL__EVENT__BODY_ACTIVITY_DEFINED:
    case JPL__EVENT__BODY_ENROLLED:
    case JPL__EVENT__BODY_COMPLETED:
        return JPL__ROLE__ROLE_LMS;
    case JPL__EVENT__BODY_RECOGNIZED:
        return JPL__ROLE__ROLE_VERIFIER;
    default:
        return 0;
    }
}

bool jpl_rules_role_may_issue(int role, int bc)
{
    if (bc == JPL__EVENT__BODY_REVOKED)
        return role == JPL__ROLE__ROLE_ADMIN || role == JPL__ROLE__ROLE_HR ||
               role == JPL__ROLE__ROLE_SUPERVISOR || role == JPL__ROLE__ROLE_LMS ||
               role == JPL__ROLE__ROLE_VERIFIER;
    return role != 0 && issuing_role(bc) == role;
}

/* ---- state access ---- */

static size_t skey(uint8_t *k, char tag, const void *id, size_t len)
{
    k[0] = (uint8_t)tag;
    memcpy(k + 1, id, len);
    return len + 1;
}

static jpl_err state_get(const jpl_rules_ctx *c, char tag, const void *id, size_t len, uint8_t **v,
                         size_t *vlen, jpl_error *e)
{
    uint8_t k[300];
    if (len > sizeof k - 1)
        return jpl_fail(e, JPL_ERR_INTERNAL, "state key too long");
    return jpl_batch_get(c->batch, c->store, JPL_CF_STATE, k, skey(k, tag, id, len), v, vlen, e);
}

static void state_put(const jpl_rules_ctx *c, char tag, const void *id, size_t len, const void *v,
                      size_t vlen)
{
    uint8_t k[300];
    jpl_batch_put(c->batch, c->store, JPL_CF_STATE, k, skey(k, tag, id, len), v, vlen);
}

static void state_del(const jpl_rules_ctx *c, char tag, const void *id, size_t len)
{
    uint8_t k[300];
    jpl_batch_delete(c->batch, c->store, JPL_CF_STATE, k, skey(k, tag, id, len));
}

/* Reads a u64 state value; *found says whether it exists. */
static jpl_err state_u64(const jpl_rules_ctx *c, char tag, const void *id, size_t len,
                         uint64_t *val, bool *found, jpl_error *e)
{
    uint8_t *v = NULL;
    size_t vlen = 0;
    jpl_err rc = state_get(c, tag, id, len, &v, &vlen, e);
    *found = false;
    *val = 0;
    if (rc == JPL_ERR_NOT_FOUND)
        return JPL_OK;
    if (rc != JPL_OK)
        return rc;
    if (vlen == 8) {
        *val = jpl_get_u64be(v);
        *found = true;
    }
    free(v);
    return vlen == 8 ? JPL_OK : jpl_fail(e, JPL_ERR_CORRUPT, "state value '%c' has bad size", tag);
}

static void state_put_u64(const jpl_rules_ctx *c, char tag, const void *id, size_t len,
                          uint64_t val)
{
    uint8_t v[8];
    jpl_put_u64be(v, val);
    state_put(c, tag, id, len, v, 8);
}

static jpl_err load_key(const jpl_rules_ctx *c, const uint8_t pk[32], key_rec *out, bool *found,
                        jpl_error *e)
{
    uint8_t *v = NULL;
    size_t vlen = 0;
    *found = false;
    jpl_err rc = state_get(c, 'K', pk, 32, &v, &vlen, e);
    if (rc == JPL_ERR_NOT_FOUND)
        return JPL_OK;
    if (rc != JPL_OK)
        return rc;
    if (vlen < KEY_REC_FIXED) {
        free(v);
        return jpl_fail(e, JPL_ERR_CORRUPT, "key record has bad size");
    }
    out->role = v[0];
    out->revoked = v[1] != 0;
    out->registered_seq = jpl_get_u64be(v + 2);
    out->revoked_seq = jpl_get_u64be(v + 10);
    free(v);
    *found = true;
    return JPL_OK;
}

static void store_key(const jpl_rules_ctx *c, const uint8_t pk[32], const key_rec *k,
                      const char *name)
{
    uint8_t v[KEY_REC_FIXED + 256];
    size_t nlen = strnlen(name, 255);
    v[0] = (uint8_t)k->role;
    v[1] = k->revoked ? 1 : 0;
    jpl_put_u64be(v + 2, k->registered_seq);
    jpl_put_u64be(v + 10, k->revoked_seq);
    memcpy(v + KEY_REC_FIXED, name, nlen);
    state_put(c, 'K', pk, 32, v, KEY_REC_FIXED + nlen);
}

typedef struct {
    int kind;
    bool cap_exempt;
    bool exited;
    char unit[256];
} emp_rec;

static jpl_err load_employee(const jpl_rules_ctx *c, const char *nip, emp_rec *out, bool *found,
                             jpl_error *e)
{
    uint8_t *v = NULL;
    size_t vlen = 0;
    *found = false;
    jpl_err rc = state_get(c, 'E', nip, JPL_NIP_LEN, &v, &vlen, e);
    if (rc == JPL_ERR_NOT_FOUND)
        return JPL_OK;
    if (rc != JPL_OK)
        return rc;
    if (vlen < 3 || vlen - 3 >= sizeof out->unit) {
        free(v);
        return jpl_fail(e, JPL_ERR_CORRUPT, "employee record of %s has bad size", nip);
    }
    out->kind = v[0];
    out->cap_exempt = v[1] != 0;
    out->exited = v[2] != 0;
    memcpy(out->unit, v + 3, vlen - 3);
    out->unit[vlen - 3] = '\0';
    free(v);
    *found = true;
    return JPL_OK;
}

static void store_employee(const jpl_rules_ctx *c, const char *nip, const emp_rec *r)
{
    uint8_t v[3 + 256];
    size_t ulen = strnlen(r->unit, 255);
    v[0] = (uint8_t)r->kind;
    v[1] = r->cap_exempt ? 1 : 0;
    v[2] = r->exited ? 1 : 0;
    memcpy(v + 3, r->unit, ulen);
    state_put(c, 'E', nip, JPL_NIP_LEN, v, 3 + ulen);
}

/* A referenced event, read back from the log through the batch. */
typedef struct {
    uint64_t seq;
    Jpl__LogEntry *entry;
    Jpl__Event *ev;
} ref_event;

static void ref_free(ref_event *r)
{
    jpl_codec_event_free(r->ev);
    jpl_codec_entry_free(r->entry);
    memset(r, 0, sizeof *r);
}

static jpl_err seq_of_id(const jpl_rules_ctx *c, const uint8_t id[16], uint64_t *seq, bool *found,
                         jpl_error *e)
{
    uint8_t *v = NULL;
    size_t vlen = 0;
    *found = false;
    jpl_err rc = jpl_batch_get(c->batch, c->store, JPL_CF_IDS, id, 16, &v, &vlen, e);
    if (rc == JPL_ERR_NOT_FOUND)
        return JPL_OK;
    if (rc != JPL_OK)
        return rc;
    if (vlen != 8) {
        free(v);
        return jpl_fail(e, JPL_ERR_CORRUPT, "id index value has bad size");
    }
    *seq = jpl_get_u64be(v);
    *found = true;
    free(v);
    return JPL_OK;
}

static jpl_err load_ref(const jpl_rules_ctx *c, const uint8_t id[16], ref_event *out, bool *found,
                        jpl_error *e)
{
    memset(out, 0, sizeof *out);
    jpl_err rc = seq_of_id(c, id, &out->seq, found, e);
    if (rc != JPL_OK || !*found)
        return rc;
    uint8_t k[8];
    uint8_t *v = NULL;
    size_t vlen = 0;
    jpl_put_u64be(k, out->seq);
    rc = jpl_batch_get(c->batch, c->store, JPL_CF_LOG, k, 8, &v, &vlen, e);
    if (rc == JPL_ERR_NOT_FOUND)
        return jpl_fail(e, JPL_ERR_CORRUPT, "id index points at missing seq %llu",
                        (unsigned long long)out->seq);
    if (rc != JPL_OK)
        return rc;
    rc = jpl_codec_entry_decode(v, vlen, &out->entry, e);
    free(v);
    if (rc == JPL_OK)
        rc = jpl_codec_event_decode(out->entry->envelope->event.data,
                                    out->entry->envelope->event.len, &out->ev, e);
    if (rc != JPL_OK) {
        ref_free(out);
        return jpl_fail(e, JPL_ERR_CORRUPT, "stored entry %llu does not decode",
                        (unsigned long long)out->seq);
    }
    return JPL_OK;
}

/* Loads the referenced event and checks it exists, has type want_bc, is about nip (if nip is
 * not empty) and is not revoked. */
static jpl_err load_live_ref(const jpl_rules_ctx *c, const ProtobufCBinaryData *id, int want_bc,
                             const char *nip, const char *what, ref_event *out, jpl_error *e)
{
    char idt[37];
    if (id->len != 16)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s id must be 16 bytes", what);
    jpl_uuid_format(idt, id->data);
    bool found = false;
    jpl_err rc = load_ref(c, id->data, out, &found, e);
    if (rc != JPL_OK)
        return rc;
    if (!found)
        return jpl_fail(e, JPL_ERR_BAD_REFERENCE, "%s %s does not exist", what, idt);
    int got_bc = (int)out->ev->body_case;
    if (got_bc != want_bc) {
        ref_free(out);
        return jpl_fail(e, JPL_ERR_BAD_REFERENCE, "%s %s is an event of type %s", what, idt,
                        jpl_rules_type_name(got_bc));
    }
    if (nip[0] != '\0' && (out->ev->nip == NULL || strcmp(out->ev->nip, nip) != 0)) {
        ref_free(out);
        return jpl_fail(e, JPL_ERR_BAD_REFERENCE, "%s %s belongs to another employee", what, idt);
    }
    uint64_t rseq = 0;
    rc = state_u64(c, 'R', id->data, 16, &rseq, &found, e);
    if (rc == JPL_OK && found) {
        ref_free(out);
        return jpl_fail(e, JPL_ERR_BAD_REFERENCE, "%s %s was revoked at seq %llu", what, idt,
                        (unsigned long long)rseq);
    }
    if (rc != JPL_OK)
        ref_free(out);
    return rc;
}

/* ---- per-type transitions ---- */

static jpl_err need_employee(const jpl_rules_ctx *c, const char *nip, emp_rec *rec, jpl_error *e)
{
    bool found = false;
    jpl_err rc = load_employee(c, nip, rec, &found, e);
    if (rc != JPL_OK)
        return rc;
    if (!found)
        return jpl_fail(e, JPL_ERR_NO_EMPLOYEE, "employee %s is not registered", nip);
    if (rec->exited)
        return jpl_fail(e, JPL_ERR_NO_EMPLOYEE, "employee %s has exited", nip);
    return JPL_OK;
}

static jpl_err apply_key_registered(const jpl_rules_ctx *c, const Jpl__KeyRegistered *k,
                                    jpl_error *e)
{
    if (k->public_key.len != 32)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "public_key must be 32 bytes");
    if (k->role <= JPL__ROLE__ROLE_UNSPECIFIED || k->role > JPL__ROLE__ROLE_AUDITOR)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "role %d is not a known role", (int)k->role);
    if (k->name == NULL || k->name[0] == '\0' || strlen(k->name) > 128)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "key name must be 1..128 characters");
    key_rec rec;
    bool found = false;
    jpl_err rc = load_key(c, k->public_key.data, &rec, &found, e);
    if (rc != JPL_OK)
        return rc;
    if (found)
        return jpl_fail(e, JPL_ERR_RULE, "key %s is already registered (at seq %llu)", k->name,
                        (unsigned long long)rec.registered_seq);
    rec = (key_rec){.role = (int)k->role, .registered_seq = c->seq};
    store_key(c, k->public_key.data, &rec, k->name);
    if (k->role == JPL__ROLE__ROLE_ADMIN) {
        uint64_t n = 0;
        if ((rc = state_u64(c, 'N', "", 0, &n, &found, e)) != JPL_OK)
            return rc;
        state_put_u64(c, 'N', "", 0, n + 1);
    }
    return JPL_OK;
}

static jpl_err apply_key_revoked(const jpl_rules_ctx *c, const Jpl__KeyRevoked *k, jpl_error *e)
{
    if (k->public_key.len != 32)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "public_key must be 32 bytes");
    key_rec rec;
    bool found = false;
    jpl_err rc = load_key(c, k->public_key.data, &rec, &found, e);
    if (rc != JPL_OK)
        return rc;
    if (!found)
        return jpl_fail(e, JPL_ERR_BAD_REFERENCE, "the key to revoke is not registered");
    if (rec.revoked)
        return jpl_fail(e, JPL_ERR_RULE, "the key was already revoked at seq %llu",
                        (unsigned long long)rec.revoked_seq);
    if (rec.role == JPL__ROLE__ROLE_ADMIN) {
        uint64_t n = 0;
        if ((rc = state_u64(c, 'N', "", 0, &n, &found, e)) != JPL_OK)
            return rc;
        if (n <= 1)
            return jpl_fail(e, JPL_ERR_RULE, "cannot revoke the last admin key");
        state_put_u64(c, 'N', "", 0, n - 1);
    }
    /* keep the name: rewrite the record with the revoked flag */
    uint8_t *v = NULL;
    size_t vlen = 0;
    if ((rc = state_get(c, 'K', k->public_key.data, 32, &v, &vlen, e)) != JPL_OK)
        return rc;
    v[1] = 1;
    jpl_put_u64be(v + 10, c->seq);
    state_put(c, 'K', k->public_key.data, 32, v, vlen);
    free(v);
    return JPL_OK;
}

static jpl_err apply_policy(const Jpl__PolicySet *p, jpl_error *e)
{
    if (p->effective_year < 2000 || p->effective_year > 2100)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "effective_year %u is outside 2000..2100",
                        p->effective_year);
    if (p->minutes_per_jp == 0 || p->minutes_per_jp > JPL_MAX_MINUTES_PER_JP)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "minutes_per_jp must be 1..%u",
                        JPL_MAX_MINUTES_PER_JP);
    if (p->pppk_cap_jp_centi == 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "pppk_cap_jp_centi must be positive");
    return JPL_OK;
}

static jpl_err apply_employee_registered(const jpl_rules_ctx *c, const char *nip,
                                         const Jpl__EmployeeRegistered *r, jpl_error *e)
{
    if (r->kind != JPL__EMPLOYEE_KIND__KIND_PNS && r->kind != JPL__EMPLOYEE_KIND__KIND_PPPK)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "kind must be PNS or PPPK");
    if (r->unit == NULL || r->unit[0] == '\0' || strlen(r->unit) > 128)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "unit must be 1..128 characters");
    emp_rec rec;
    bool found = false;
    jpl_err rc = load_employee(c, nip, &rec, &found, e);
    if (rc != JPL_OK)
        return rc;
    if (found)
        return jpl_fail(e, JPL_ERR_RULE, "employee %s is already registered", nip);
    memset(&rec, 0, sizeof rec);
    rec.kind = (int)r->kind;
    rec.cap_exempt = r->has_cap_exempt && r->cap_exempt;
    snprintf(rec.unit, sizeof rec.unit, "%s", r->unit);
    store_employee(c, nip, &rec);
    return JPL_OK;
}

static jpl_err apply_employee_updated(const jpl_rules_ctx *c, const char *nip,
                                      const Jpl__EmployeeUpdated *u, jpl_error *e)
{
    emp_rec rec;
    jpl_err rc = need_employee(c, nip, &rec, e);
    if (rc != JPL_OK)
        return rc;
    if (u->has_kind) {
        if (u->kind != JPL__EMPLOYEE_KIND__KIND_PNS && u->kind != JPL__EMPLOYEE_KIND__KIND_PPPK)
            return jpl_fail(e, JPL_ERR_BAD_INPUT, "kind must be PNS or PPPK");
        rec.kind = (int)u->kind;
    }
    if (u->unit != NULL) {
        if (u->unit[0] == '\0' || strlen(u->unit) > 128)
            return jpl_fail(e, JPL_ERR_BAD_INPUT, "unit must be 1..128 characters");
        snprintf(rec.unit, sizeof rec.unit, "%s", u->unit);
    }
    if (u->has_cap_exempt)
        rec.cap_exempt = u->cap_exempt;
    store_employee(c, nip, &rec);
    return JPL_OK;
}

static jpl_err apply_employee_exited(const jpl_rules_ctx *c, const char *nip, jpl_error *e)
{
    emp_rec rec;
    jpl_err rc = need_employee(c, nip, &rec, e);
    if (rc != JPL_OK)
        return rc;
    rec.exited = true;
    store_employee(c, nip, &rec);
    return JPL_OK;
}

static jpl_err apply_activity(const jpl_rules_ctx *c, const Jpl__ActivityDefined *a, jpl_error *e)
{
    size_t len = a->activity_id ? strlen(a->activity_id) : 0;
    if (len == 0 || len > 256)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "activity_id must be 1..256 characters");
    if (a->mode == JPL__ACTIVITY_MODE__MODE_CLASSICAL && !a->has_jp_centi)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "classical activity %s needs jp_centi",
                        a->activity_id);
    if (a->mode == JPL__ACTIVITY_MODE__MODE_NON_CLASSICAL && (a->form == NULL || !a->has_days))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "non-classical activity %s needs form and days",
                        a->activity_id);
    if (a->mode != JPL__ACTIVITY_MODE__MODE_CLASSICAL &&
        a->mode != JPL__ACTIVITY_MODE__MODE_NON_CLASSICAL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "activity mode must be classical or non_classical");
    uint64_t seq = 0;
    bool found = false;
    jpl_err rc = state_u64(c, 'A', a->activity_id, len, &seq, &found, e);
    if (rc != JPL_OK)
        return rc;
    if (found)
        return jpl_fail(e, JPL_ERR_RULE, "activity %s is already defined at seq %llu",
                        a->activity_id, (unsigned long long)seq);
    state_put_u64(c, 'A', a->activity_id, len, c->seq);
    return JPL_OK;
}

static jpl_err need_activity(const jpl_rules_ctx *c, const char *activity_id, jpl_error *e)
{
    size_t len = activity_id ? strlen(activity_id) : 0;
    if (len == 0 || len > 256)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "activity_id must be 1..256 characters");
    uint64_t seq = 0;
    bool found = false;
    jpl_err rc = state_u64(c, 'A', activity_id, len, &seq, &found, e);
    if (rc == JPL_OK && !found)
        return jpl_fail(e, JPL_ERR_BAD_REFERENCE, "activity %s is not defined", activity_id);
    return rc;
}

static jpl_err apply_plan_submitted(const jpl_rules_ctx *c, const char *nip,
                                    const Jpl__PlanSubmitted *p, jpl_error *e)
{
    emp_rec rec;
    jpl_err rc = need_employee(c, nip, &rec, e);
    if (rc != JPL_OK)
        return rc;
    if (p->year < 2000 || p->year > 2100)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "plan year %u is outside 2000..2100", p->year);
    if (p->n_items == 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "a plan needs at least one item");
    for (size_t i = 0; i < p->n_items; i++)
        if ((rc = need_activity(c, p->items[i]->activity_id, e)) != JPL_OK) {
            jpl_error_prefix(e, "plan item %zu", i);
            return rc;
        }
    return JPL_OK;
}

static uint64_t plan_total(const Jpl__PlanSubmitted *p)
{
    uint64_t t = 0;
    for (size_t i = 0; i < p->n_items; i++)
        t += p->items[i]->jp_centi;
    return t;
}

static jpl_err apply_plan_approved(const jpl_rules_ctx *c, const Jpl__Event *ev, char *nip,
                                   const Jpl__PlanApproved *a, jpl_error *e)
{
    ref_event plan;
    jpl_err rc =
        load_live_ref(c, &a->plan_event_id, JPL__EVENT__BODY_PLAN_SUBMITTED, nip, "plan", &plan, e);
    if (rc != JPL_OK)
        return rc;
    snprintf(nip, JPL_NIP_LEN + 1, "%s", plan.ev->nip);
    uint64_t total = plan_total(plan.ev->plan_submitted);
    ref_free(&plan);
    if (a->has_approved_jp_centi && a->approved_jp_centi > total)
        return jpl_fail(e, JPL_ERR_RULE, "approved %u centi-JP exceeds the plan's %llu",
                        a->approved_jp_centi, (unsigned long long)total);
    bool found = false;
    uint8_t *v = NULL;
    size_t vlen = 0;
    rc = state_get(c, 'Q', a->plan_event_id.data, 16, &v, &vlen, e);
    free(v);
    if (rc == JPL_OK)
        return jpl_fail(e, JPL_ERR_RULE, "the plan is already approved");
    if (rc != JPL_ERR_NOT_FOUND)
        return rc;
    (void)found;
    if ((rc = need_employee(c, nip, &(emp_rec){0}, e)) != JPL_OK)
        return rc;
    state_put(c, 'Q', a->plan_event_id.data, 16, ev->event_id.data, 16);
    return JPL_OK;
}

static jpl_err apply_enrolled(const jpl_rules_ctx *c, const char *nip, const Jpl__Enrolled *en,
                              jpl_error *e)
{
    emp_rec rec;
    jpl_err rc = need_employee(c, nip, &rec, e);
    if (rc != JPL_OK)
        return rc;
    return need_activity(c, en->activity_id, e);
}

static jpl_err apply_completed(const jpl_rules_ctx *c, const Jpl__Event *ev, const char *nip,
                               const Jpl__Completed *cp, jpl_error *e)
{
    emp_rec rec;
    jpl_err rc = need_employee(c, nip, &rec, e);
    if (rc != JPL_OK)
        return rc;
    if (cp->evidence_sha256.len != 32)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "evidence_sha256 must be 32 bytes");
    ref_event enr;
    rc = load_live_ref(c, &cp->enrollment_event_id, JPL__EVENT__BODY_ENROLLED, nip, "enrollment",
                       &enr, e);
    if (rc != JPL_OK)
        return rc;
    ref_free(&enr);
    uint8_t *v = NULL;
    size_t vlen = 0;
    rc = state_get(c, 'D', cp->enrollment_event_id.data, 16, &v, &vlen, e);
    free(v);
    if (rc == JPL_OK)
        return jpl_fail(e, JPL_ERR_RULE, "the enrollment already has a completion");
    if (rc != JPL_ERR_NOT_FOUND)
        return rc;
    state_put(c, 'D', cp->enrollment_event_id.data, 16, ev->event_id.data, 16);
    return JPL_OK;
}

static jpl_err apply_recognized(const jpl_rules_ctx *c, const Jpl__Event *ev, const char *nip,
                                const Jpl__Recognized *r, jpl_error *e)
{
    emp_rec rec;
    jpl_err rc = need_employee(c, nip, &rec, e);
    if (rc != JPL_OK)
        return rc;
    if (r->basis == NULL || r->basis[0] == '\0')
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "a recognition must state its basis");
    ref_event comp;
    rc = load_live_ref(c, &r->completion_event_id, JPL__EVENT__BODY_COMPLETED, nip, "completion",
                       &comp, e);
    if (rc != JPL_OK)
        return rc;
    uint32_t completed_jp = comp.ev->completed->jp_centi;
    ref_free(&comp);
    uint8_t *v = NULL;
    size_t vlen = 0;
    rc = state_get(c, 'C', r->completion_event_id.data, 16, &v, &vlen, e);
    if (rc == JPL_OK) {
        char prior[37] = "?";
        if (vlen == 16)
            jpl_uuid_format(prior, v);
        free(v);
        return jpl_fail(e, JPL_ERR_DOUBLE_COUNT, "the completion is already recognized by %s",
                        prior);
    }
    if (rc != JPL_ERR_NOT_FOUND)
        return rc;
    if (r->jp_centi > completed_jp)
        return jpl_fail(e, JPL_ERR_OVER_JP, "recognizes %u centi-JP but the completion has only %u",
                        r->jp_centi, completed_jp);
    state_put(c, 'C', r->completion_event_id.data, 16, ev->event_id.data, 16);
    return JPL_OK;
}

/* Which state link a revocation of this type undoes, and which link must be gone first. */
static jpl_err apply_revoked(const jpl_rules_ctx *c, int signer_role, char *nip,
                             const Jpl__Revoked *r, jpl_error *e)
{
    if (r->reason == NULL || r->reason[0] == '\0')
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "a revocation must give a reason");
    if (r->target_event_id.len != 16)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "target_event_id must be 16 bytes");
    ref_event t;
    bool found = false;
    jpl_err rc = load_ref(c, r->target_event_id.data, &t, &found, e);
    if (rc != JPL_OK)
        return rc;
    if (!found)
        return jpl_fail(e, JPL_ERR_BAD_REFERENCE, "the event to revoke does not exist");
    int bc = (int)t.ev->body_case;
    char tnip[JPL_NIP_LEN + 1] = "";
    if (t.ev->nip)
        snprintf(tnip, sizeof tnip, "%s", t.ev->nip);
    const ProtobufCBinaryData *link_from = NULL; /* the state link this target created */
    char link_tag = 0;
    char blocker_tag = 0; /* a later event that must be revoked first */
    switch (bc) {
    case JPL__EVENT__BODY_PLAN_SUBMITTED:
        blocker_tag = 'Q';
        break;
    case JPL__EVENT__BODY_PLAN_APPROVED:
        link_from = &t.ev->plan_approved->plan_event_id;
        link_tag = 'Q';
        break;
    case JPL__EVENT__BODY_ENROLLED:
        blocker_tag = 'D';
        break;
    case JPL__EVENT__BODY_COMPLETED:
        link_from = &t.ev->completed->enrollment_event_id;
        link_tag = 'D';
        blocker_tag = 'C';
        break;
    case JPL__EVENT__BODY_RECOGNIZED:
        link_from = &t.ev->recognized->completion_event_id;
        link_tag = 'C';
        break;
    default:
        ref_free(&t);
        return jpl_fail(e, JPL_ERR_RULE, "%s events cannot be revoked", jpl_rules_type_name(bc));
    }
    if (signer_role != JPL__ROLE__ROLE_ADMIN && issuing_role(bc) != signer_role) {
        ref_free(&t);
        return jpl_fail(e, JPL_ERR_FORBIDDEN, "a key of role %s may not revoke an event of type %s",
                        jpl_rules_role_name(signer_role), jpl_rules_type_name(bc));
    }
    if (bc == JPL__EVENT__BODY_PLAN_APPROVED) {
        /* the approval carries no NIP; the plan it approves does */
        ref_event plan;
        bool pf = false;
        rc = load_ref(c, t.ev->plan_approved->plan_event_id.data, &plan, &pf, e);
        if (rc == JPL_OK && pf && plan.ev->nip)
            snprintf(tnip, sizeof tnip, "%s", plan.ev->nip);
        ref_free(&plan);
    }
    if (nip[0] != '\0' && strcmp(nip, tnip) != 0) {
        ref_free(&t);
        return jpl_fail(e, JPL_ERR_BAD_REFERENCE, "the revoked event is about another employee");
    }
    snprintf(nip, JPL_NIP_LEN + 1, "%s", tnip);
    uint64_t rseq = 0;
    rc = state_u64(c, 'R', r->target_event_id.data, 16, &rseq, &found, e);
    if (rc == JPL_OK && found)
        rc = jpl_fail(e, JPL_ERR_RULE, "the event was already revoked at seq %llu",
                      (unsigned long long)rseq);
    if (rc == JPL_OK && blocker_tag) {
        uint8_t *v = NULL;
        size_t vlen = 0;
        jpl_err g = state_get(c, blocker_tag, r->target_event_id.data, 16, &v, &vlen, e);
        char dep[37] = "?";
        if (g == JPL_OK && vlen == 16)
            jpl_uuid_format(dep, v);
        free(v);
        if (g == JPL_OK)
            rc = jpl_fail(e, JPL_ERR_RULE, "revoke the dependent event %s first", dep);
        else if (g != JPL_ERR_NOT_FOUND)
            rc = g;
    }
    if (rc == JPL_OK) {
        state_put_u64(c, 'R', r->target_event_id.data, 16, c->seq);
        if (link_tag)
            state_del(c, link_tag, link_from->data, 16);
    }
    ref_free(&t);
    return rc;
}

/* ---- the entry point ---- */

static bool nip_required(int bc)
{
    switch (bc) {
    case JPL__EVENT__BODY_EMPLOYEE_REGISTERED:
    case JPL__EVENT__BODY_EMPLOYEE_UPDATED:
    case JPL__EVENT__BODY_EMPLOYEE_EXITED:
    case JPL__EVENT__BODY_PLAN_SUBMITTED:
    case JPL__EVENT__BODY_ENROLLED:
    case JPL__EVENT__BODY_COMPLETED:
    case JPL__EVENT__BODY_RECOGNIZED:
        return true;
    default:
        return false;
    }
}

static bool nip_forbidden(int bc)
{
    return bc == JPL__EVENT__BODY_KEY_REGISTERED || bc == JPL__EVENT__BODY_KEY_REVOKED ||
           bc == JPL__EVENT__BODY_POLICY_SET || bc == JPL__EVENT__BODY_ACTIVITY_DEFINED;
}

static jpl_err check_identity(const jpl_rules_ctx *c, const Jpl__SignedEnvelope *env,
                              const Jpl__Event *ev, jpl_rules_outcome *out, bool *dup, jpl_error *e)
{
    uint64_t seq = 0;
    bool found = false;
    *dup = false;
    jpl_err rc = seq_of_id(c, ev->event_id.data, &seq, &found, e);
    if (rc != JPL_OK || !found)
        return rc;
    ref_event prior;
    rc = load_ref(c, ev->event_id.data, &prior, &found, e);
    if (rc != JPL_OK)
        return rc;
    const ProtobufCBinaryData *pb = &prior.entry->envelope->event;
    bool same = pb->len == env->event.len && memcmp(pb->data, env->event.data, pb->len) == 0;
    ref_free(&prior);
    if (!same)
        return jpl_fail(e, JPL_ERR_CONFLICT,
                        "event id already used at seq %llu (earlier in this batch if that seq "
                        "is not in the log yet) by an event with other bytes",
                        (unsigned long long)seq);
    *dup = true;
    out->duplicate = true;
    out->dup_seq = seq;
    return JPL_OK;
}

static jpl_err check_signer(const jpl_rules_ctx *c, const Jpl__SignedEnvelope *env,
                            const Jpl__Event *ev, int *role_out, jpl_error *e)
{
    int bc = (int)ev->body_case;
    if (c->seq == 0) {
        /* entry 0 registers the first admin key, signed by itself */
        if (bc != JPL__EVENT__BODY_KEY_REGISTERED ||
            ev->key_registered->role != JPL__ROLE__ROLE_ADMIN ||
            ev->key_registered->public_key.len != 32 ||
            memcmp(ev->key_registered->public_key.data, env->public_key.data, 32) != 0)
            return jpl_fail(e, JPL_ERR_RULE,
                            "entry 0 must be a self-signed registration of an admin key");
        *role_out = JPL__ROLE__ROLE_ADMIN;
        return JPL_OK;
    }
    key_rec k;
    bool found = false;
    jpl_err rc = load_key(c, env->public_key.data, &k, &found, e);
    if (rc != JPL_OK)
        return rc;
    if (!found)
        return jpl_fail(e, JPL_ERR_UNKNOWN_KEY, "the signing key is not registered");
    if (k.revoked)
        return jpl_fail(e, JPL_ERR_KEY_REVOKED, "the signing key was revoked at seq %llu",
                        (unsigned long long)k.revoked_seq);
    if (!jpl_rules_role_may_issue(k.role, bc))
        return jpl_fail(e, JPL_ERR_FORBIDDEN, "a key of role %s may not issue events of type %s",
                        jpl_rules_role_name(k.role), jpl_rules_type_name(bc));
    *role_out = k.role;
    return JPL_OK;
}

static jpl_err check_nip_field(const jpl_rules_ctx *c, const Jpl__Event *ev, char *nip,
                               jpl_error *e)
{
    int bc = (int)ev->body_case;
    bool has = ev->nip != NULL && ev->nip[0] != '\0';
    nip[0] = '\0';
    if (has && nip_forbidden(bc))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s events carry no NIP", jpl_rules_type_name(bc));
    if (!has && nip_required(bc))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s events need a NIP", jpl_rules_type_name(bc));
    if (!has)
        return JPL_OK;
    size_t len = strlen(ev->nip);
    uint32_t now = bc == JPL__EVENT__BODY_EMPLOYEE_REGISTERED ? jpl_time_yyyymm(c->now_ms) : 0;
    jpl_err rc = jpl_nip_validate(ev->nip, len, now, e);
    if (rc != JPL_OK)
        return rc;
    snprintf(nip, JPL_NIP_LEN + 1, "%s", ev->nip);
    return JPL_OK;
}

static jpl_err check_version(const jpl_rules_ctx *c, const Jpl__Event *ev, const char *nip,
                             jpl_error *e)
{
    if (nip[0] == '\0') {
        if (ev->has_expected_version)
            return jpl_fail(e, JPL_ERR_VERSION, "expected_version needs an employee stream");
        return JPL_OK;
    }
    uint64_t version = 0;
    bool found = false;
    jpl_err rc = state_u64(c, 'V', nip, JPL_NIP_LEN, &version, &found, e);
    if (rc != JPL_OK)
        return rc;
    if (ev->has_expected_version && ev->expected_version != version)
        return jpl_fail(e, JPL_ERR_VERSION, "stream of %s is at version %llu, expected %llu", nip,
                        (unsigned long long)version, (unsigned long long)ev->expected_version);
    uint8_t k[JPL_NIP_LEN + 8], v[8];
    memcpy(k, nip, JPL_NIP_LEN);
    jpl_put_u64be(k + JPL_NIP_LEN, version);
    jpl_put_u64be(v, c->seq);
    jpl_batch_put(c->batch, c->store, JPL_CF_STREAMS, k, sizeof k, v, 8);
    state_put_u64(c, 'V', nip, JPL_NIP_LEN, version + 1);
    return JPL_OK;
}

static jpl_err apply_body(const jpl_rules_ctx *c, const Jpl__Event *ev, int role, char *nip,
                          jpl_error *e)
{
    switch (ev->body_case) {
    case JPL__EVENT__BODY_KEY_REGISTERED:
        return apply_key_registered(c, ev->key_registered, e);
    case JPL__EVENT__BODY_KEY_REVOKED:
        return apply_key_revoked(c, ev->key_revoked, e);
    case JPL__EVENT__BODY_POLICY_SET:
        return apply_policy(ev->policy_set, e);
    case JPL__EVENT__BODY_EMPLOYEE_REGISTERED:
        return apply_employee_registered(c, nip, ev->employee_registered, e);
    case JPL__EVENT__BODY_EMPLOYEE_UPDATED:
        return apply_employee_updated(c, nip, ev->employee_updated, e);
    case JPL__EVENT__BODY_EMPLOYEE_EXITED:
        return apply_employee_exited(c, nip, e);
    case JPL__EVENT__BODY_ACTIVITY_DEFINED:
        return apply_activity(c, ev->activity_defined, e);
    case JPL__EVENT__BODY_PLAN_SUBMITTED:
        return apply_plan_submitted(c, nip, ev->plan_submitted, e);
    case JPL__EVENT__BODY_PLAN_APPROVED:
        return apply_plan_approved(c, ev, nip, ev->plan_approved, e);
    case JPL__EVENT__BODY_ENROLLED:
        return apply_enrolled(c, nip, ev->enrolled, e);
    case JPL__EVENT__BODY_COMPLETED:
        return apply_completed(c, ev, nip, ev->completed, e);
    case JPL__EVENT__BODY_RECOGNIZED:
        return apply_recognized(c, ev, nip, ev->recognized, e);
    case JPL__EVENT__BODY_REVOKED:
        return apply_revoked(c, role, nip, ev->revoked, e);
    default:
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "unknown event type");
    }
}

jpl_err jpl_rules_apply(const jpl_rules_ctx *c, const Jpl__SignedEnvelope *env,
                        const Jpl__Event *ev, jpl_rules_outcome *out, jpl_error *e)
{
    memset(out, 0, sizeof *out);
    bool dup = false;
    jpl_err rc = check_identity(c, env, ev, out, &dup, e);
    if (rc != JPL_OK || dup)
        return rc;
    int role = 0;
    if ((rc = check_signer(c, env, ev, &role, e)) != JPL_OK)
        return rc;
    char nip[JPL_NIP_LEN + 1];
    if ((rc = check_nip_field(c, ev, nip, e)) != JPL_OK)
        return rc;
    if ((rc = apply_body(c, ev, role, nip, e)) != JPL_OK)
        return rc;
    /* the stream is the employee the event is about, known only after the body (approvals
     * and revocations take it from the event they refer to) */
    if ((rc = check_version(c, ev, nip, e)) != JPL_OK)
        return rc;
    uint8_t v[8];
    jpl_put_u64be(v, c->seq);
    jpl_batch_put(c->batch, c->store, JPL_CF_IDS, ev->event_id.data, 16, v, 8);
    snprintf(out->nip, sizeof out->nip, "%s", nip);
    return JPL_OK;
}
