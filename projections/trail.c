/*
 * The trail projection: every event about an employee, in log order, with who issued it (key
 * name and role as registered in the log), when (issuer time and recorded time) and its Merkle
 * leaf hash, so an auditor can ask for an inclusion proof of any row.
 *
 * Family layout:
 *   'K' public key (32)      -> u8 role, u8 len, key name
 *   'I' event id (16)        -> u64 seq, u8 type, NIP (18)   (plans, approvals, enrollments,
 *                               completions, recognitions: the events others refer to)
 *   'T' NIP (18) || u64 seq  -> u8 type, u8 role, u64 issued_at_ms, u64 recorded_at_ms,
 *                               event id (16), u8 len, key name,
 *                               and for a revocation: u8 target type, u64 target seq, target id
 * 'T' rows are written once and never read by apply (replay streams them). The leaf hash is not
 * stored: the query hashes the stored entry of each row's seq, so it is the log's own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "jpl/event_json.h"
#include "jpl/merkle.h"
#include "jpl/nip.h"

#define REF_LEN (8 + 1 + JPL_NIP_LEN)

typedef struct {
    uint64_t seq;
    int type;
    char nip[JPL_NIP_LEN + 1];
} ref;

static jpl_err load_ref(pkv *kv, const ProtobufCBinaryData *id, ref *out, bool *found, jpl_error *e)
{
    uint8_t k[17];
    const uint8_t *v = NULL;
    size_t vlen = 0;
    *found = false;
    if (id->len != 16)
        return JPL_OK;
    jpl_err rc = pkv_get(kv, k, proj_key(k, 'I', id->data, 16), &v, &vlen, e);
    if (rc == JPL_ERR_NOT_FOUND)
        return JPL_OK;
    if (rc != JPL_OK)
        return rc;
    if (vlen != REF_LEN)
        return jpl_fail(e, JPL_ERR_CORRUPT, "trail: event index record has bad size");
    out->seq = jpl_get_u64be(v);
    out->type = v[8];
    memcpy(out->nip, v + 9, JPL_NIP_LEN);
    out->nip[JPL_NIP_LEN] = '\0';
    *found = true;
    return JPL_OK;
}

static bool referable(int bc)
{
    return bc == JPL__EVENT__BODY_PLAN_SUBMITTED || bc == JPL__EVENT__BODY_PLAN_APPROVED ||
           bc == JPL__EVENT__BODY_ENROLLED || bc == JPL__EVENT__BODY_COMPLETED ||
           bc == JPL__EVENT__BODY_RECOGNIZED;
}

static jpl_err trail_apply(pkv *kv, const jpl_entry_view *view, jpl_error *e)
{
    const Jpl__Event *ev = view->ev;
    int bc = (int)ev->body_case;
    jpl_err rc = JPL_OK;
    if (bc == JPL__EVENT__BODY_KEY_REGISTERED && ev->key_registered->public_key.len == 32) {
        pbuf b = {0};
        pbuf_u8(&b, (uint8_t)ev->key_registered->role);
        pbuf_str(&b, ev->key_registered->name);
        uint8_t k[33];
        rc = b.oom ? jpl_fail(e, JPL_ERR_INTERNAL, "out of memory")
                   : pkv_put(kv, k, proj_key(k, 'K', ev->key_registered->public_key.data, 32), b.p,
                             b.len, e);
        pbuf_free(&b);
        if (rc != JPL_OK)
            return rc;
    }
    /* whom the event is about: approvals and revocations take it from the event they name */
    char nip[JPL_NIP_LEN + 1] = "";
    ref target = {0};
    bool has_target = false;
    if (bc == JPL__EVENT__BODY_PLAN_APPROVED) {
        ref plan;
        bool found = false;
        rc = load_ref(kv, &ev->plan_approved->plan_event_id, &plan, &found, e);
        if (rc == JPL_OK && found)
            memcpy(nip, plan.nip, sizeof nip);
    } else if (bc == JPL__EVENT__BODY_REVOKED) {
        rc = load_ref(kv, &ev->revoked->target_event_id, &target, &has_target, e);
        if (rc == JPL_OK && has_target)
            memcpy(nip, target.nip, sizeof nip);
    } else if (proj_event_nip(ev) != NULL) {
        memcpy(nip, ev->nip, sizeof nip);
    }
    if (rc != JPL_OK || nip[0] == '\0')
        return rc;
    /* the signer as registered */
    uint8_t role = 0;
    char name[256] = "?";
    const Jpl__SignedEnvelope *env = view->env;
    if (env->public_key.len == 32) {
        uint8_t k[33];
        const uint8_t *v = NULL;
        size_t vlen = 0;
        rc = pkv_get(kv, k, proj_key(k, 'K', env->public_key.data, 32), &v, &vlen, e);
        if (rc == JPL_OK) {
            prd r = {.p = v, .len = vlen};
            role = prd_u8(&r);
            prd_str(&r, name, sizeof name);
            if (r.bad)
                return jpl_fail(e, JPL_ERR_CORRUPT, "trail: key record is malformed");
        } else if (rc != JPL_ERR_NOT_FOUND) {
            return rc;
        }
        rc = JPL_OK;
    }
    pbuf b = {0};
    pbuf_u8(&b, (uint8_t)bc);
    pbuf_u8(&b, role);
    pbuf_u64(&b, ev->issued_at_ms);
    pbuf_u64(&b, view->recorded_at_ms);
    pbuf_put(&b, ev->event_id.data, 16);
    pbuf_str(&b, name);
    if (has_target) {
        pbuf_u8(&b, (uint8_t)target.type);
        pbuf_u64(&b, target.seq);
        pbuf_put(&b, ev->revoked->target_event_id.data, 16);
    }
    uint8_t k[1 + JPL_NIP_LEN + 8];
    k[0] = 'T';
    memcpy(k + 1, nip, JPL_NIP_LEN);
    jpl_put_u64be(k + 1 + JPL_NIP_LEN, view->seq);
    rc = b.oom ? jpl_fail(e, JPL_ERR_INTERNAL, "out of memory")
               : pkv_emit(kv, k, sizeof k, b.p, b.len, e);
    pbuf_free(&b);
    if (rc == JPL_OK && referable(bc)) {
        uint8_t ik[17], iv[REF_LEN];
        jpl_put_u64be(iv, view->seq);
        iv[8] = (uint8_t)bc;
        memcpy(iv + 9, nip, JPL_NIP_LEN);
        rc = pkv_put(kv, ik, proj_key(ik, 'I', ev->event_id.data, 16), iv, sizeof iv, e);
    }
    return rc;
}

const proj_ops jpl_proj_trail_ops = {.name = "trail", .apply = trail_apply};

/* ---- query ---- */

static const char *type_name(int bc)
{
    Jpl__Event ev = JPL__EVENT__INIT;
    ev.body_case = (Jpl__Event__BodyCase)bc;
    const char *n = jpl_event_type_name(&ev);
    return n ? n : "unknown";
}

static const char *role_name(int role)
{
    static const char *const names[] = {"unknown", "admin",    "hr",     "supervisor",
                                        "lms",     "verifier", "auditor"};
    return role >= 0 && role < (int)(sizeof names / sizeof names[0]) ? names[role] : "unknown";
}

static json_t *row_json(jpl_ledger *l, uint64_t seq, const uint8_t *v, size_t vlen,
                        uint64_t *target_seq, jpl_error *e, jpl_err *rc)
{
    prd r = {.p = v, .len = vlen};
    int bc = prd_u8(&r);
    int role = prd_u8(&r);
    uint64_t issued = prd_u64(&r);
    uint64_t recorded = prd_u64(&r);
    const uint8_t *id = prd_bytes(&r, 16);
    char name[256];
    prd_str(&r, name, sizeof name);
    *target_seq = UINT64_MAX;
    int ttype = 0;
    const uint8_t *tid = NULL;
    if (!r.bad && r.off < r.len) {
        ttype = prd_u8(&r);
        *target_seq = prd_u64(&r);
        tid = prd_bytes(&r, 16);
    }
    if (r.bad || r.off != r.len || id == NULL) {
        *rc = jpl_fail(e, JPL_ERR_CORRUPT, "trail: row %llu is malformed", (unsigned long long)seq);
        return NULL;
    }
    /* the leaf hash of the entry as the log stores it (l: the query's snapshot) */
    uint8_t *entry = NULL, leaf[JPL_SHA256_LEN];
    size_t elen = 0;
    if ((*rc = jpl_ledger_entry(l, seq, &entry, &elen, e)) != JPL_OK)
        return NULL;
    jpl_merkle_hash_leaf(leaf, entry, elen);
    free(entry);
    char hex[65], uuid[JPL_UUID_TEXT_LEN + 1];
    json_t *o = json_object();
    json_object_set_new(o, "seq", json_integer((json_int_t)seq));
    json_object_set_new(o, "type", json_string(type_name(bc)));
    jpl_uuid_format(uuid, id);
    json_object_set_new(o, "event_id", json_string(uuid));
    json_object_set_new(o, "key", json_string(name));
    json_object_set_new(o, "role", json_string(role_name(role)));
    json_object_set_new(o, "issued_at_ms", json_integer((json_int_t)issued));
    json_object_set_new(o, "recorded_at_ms", json_integer((json_int_t)recorded));
    jpl_hex_encode(hex, leaf, 32);
    json_object_set_new(o, "leaf_hash", json_string(hex));
    if (tid != NULL) {
        json_t *t = json_object();
        json_object_set_new(t, "seq", json_integer((json_int_t)*target_seq));
        json_object_set_new(t, "type", json_string(type_name(ttype)));
        jpl_uuid_format(uuid, tid);
        json_object_set_new(t, "event_id", json_string(uuid));
        json_object_set_new(o, "revokes", t);
    }
    *rc = JPL_OK;
    return o;
}

jpl_err jpl_trail_query(jpl_ledger *l, const char *nip, json_t **rows_out, jpl_error *e)
{
    jpl_err rc = proj_check_query(nip, 0, true, e);
    if (rc != JPL_OK)
        return rc;
    pkv kv;
    if ((rc = proj_open_read(l, "trail", &kv, e)) != JPL_OK)
        return rc;
    uint8_t k[1 + JPL_NIP_LEN];
    size_t plen = proj_key(k, 'T', nip, JPL_NIP_LEN);
    json_t *rows = json_array();
    jpl_iter *it = pkv_iter(&kv, k, plen);
    for (; rc == JPL_OK && jpl_iter_valid(it); jpl_iter_next(it)) {
        size_t klen = 0, vlen = 0;
        const uint8_t *key = jpl_iter_key(it, &klen);
        if (klen != plen + 8 || memcmp(key, k, plen) != 0)
            break;
        uint64_t tseq = 0;
        const uint8_t *val = jpl_iter_value(it, &vlen);
        json_t *o = row_json(kv.at, jpl_get_u64be(key + plen), val, vlen, &tseq, e, &rc);
        if (o == NULL)
            break;
        json_array_append_new(rows, o);
        if (tseq == UINT64_MAX)
            continue;
        /* mark the revoked row (it is earlier in the same trail) */
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r)
        {
            if ((uint64_t)json_integer_value(json_object_get(r, "seq")) == tseq)
                json_object_set_new(r, "revoked_by",
                                    json_integer(json_integer_value(json_object_get(o, "seq"))));
        }
    }
    if (rc == JPL_OK)
        rc = jpl_iter_status(it, e);
    jpl_iter_free(it);
    pkv_release(&kv);
    if (rc == JPL_OK && json_array_size(rows) == 0)
        rc = jpl_fail(e, JPL_ERR_NOT_FOUND, "employee %s is not in the ledger", nip);
    if (rc != JPL_OK) {
        json_decref(rows);
        return rc;
    }
    *rows_out = rows;
    return JPL_OK;
}
