/*
 * The balances projection: per NIP and year, the planned, approved, enrolled, completed and
 * recognized centi-JP; counted JP and the status are judged at query time under the policy in
 * force for the year and the employee's kind in that year (docs/PROJECTIONS.md). For a PPPK with
 * a contract start, "year" is the contract year (labelled by the calendar year it began in) of
 * enrollments and completions (proj_count_year); recognitions inherit the completion's.
 *
 * Family layout (besides '#applied', 'P' policy table and 'E' employee history, see common.c):
 *   'A' activity id           -> u8 mode, u32 jp_centi, u16 days, u8 international, u8 len, form
 *   'S' event id (16)         -> u8 type, NIP (18), u16 year, u64 centi-JP   (a live plan,
 *                                approval, enrollment, completion or recognition, for the events
 *                                that refer to it; removed when it is revoked)
 *   'B' NIP (18) || u16 year  -> 5 x u64: planned, approved, enrolled, completed, recognized
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "jpl/nip.h"

enum { F_PLANNED = 0, F_APPROVED, F_ENROLLED, F_COMPLETED, F_RECOGNIZED, F_COUNT };

#define SUMMARY_LEN (1 + JPL_NIP_LEN + 2 + 8)

typedef struct {
    int type;
    char nip[JPL_NIP_LEN + 1];
    uint32_t year;
    uint64_t amount;
} summary;

static jpl_err load_summary(pkv *kv, const uint8_t id[16], summary *s, jpl_error *e)
{
    uint8_t k[17];
    const uint8_t *v = NULL;
    size_t vlen = 0;
    jpl_err rc = pkv_get(kv, k, proj_key(k, 'S', id, 16), &v, &vlen, e);
    if (rc != JPL_OK)
        return rc;
    if (vlen != SUMMARY_LEN)
        return jpl_fail(e, JPL_ERR_CORRUPT, "balances: event summary has bad size");
    s->type = v[0];
    memcpy(s->nip, v + 1, JPL_NIP_LEN);
    s->nip[JPL_NIP_LEN] = '\0';
    s->year = (uint32_t)((v[19] << 8) | v[20]);
    s->amount = jpl_get_u64be(v + 21);
    return JPL_OK;
}

static jpl_err store_summary(pkv *kv, const uint8_t id[16], const summary *s, jpl_error *e)
{
    uint8_t k[17], v[SUMMARY_LEN];
    v[0] = (uint8_t)s->type;
    memcpy(v + 1, s->nip, JPL_NIP_LEN);
    v[19] = (uint8_t)(s->year >> 8);
    v[20] = (uint8_t)s->year;
    jpl_put_u64be(v + 21, s->amount);
    return pkv_put(kv, k, proj_key(k, 'S', id, 16), v, sizeof v, e);
}

/* Adds delta (may be negative) to one figure of (nip, year); figures never go below zero. */
static jpl_err add_figure(pkv *kv, const char *nip, uint32_t year, int field, int64_t delta,
                          jpl_error *e)
{
    uint8_t k[3 + JPL_NIP_LEN], v[8 * F_COUNT];
    size_t klen = proj_key_nip_year(k, 'B', nip, year);
    const uint8_t *old = NULL;
    size_t olen = 0;
    jpl_err rc = pkv_get(kv, k, klen, &old, &olen, e);
    if (rc == JPL_ERR_NOT_FOUND)
        memset(v, 0, sizeof v);
    else if (rc != JPL_OK)
        return rc;
    else if (olen != sizeof v)
        return jpl_fail(e, JPL_ERR_CORRUPT, "balances: record of %s/%u has bad size", nip, year);
    else
        memcpy(v, old, sizeof v);
    uint64_t cur = jpl_get_u64be(v + 8 * field);
    if (delta < 0 && (uint64_t)(-delta) > cur)
        cur = 0;
    else
        cur = (uint64_t)((int64_t)cur + delta);
    jpl_put_u64be(v + 8 * field, cur);
    return pkv_put(kv, k, klen, v, sizeof v, e);
}

static int field_of(int type)
{
    switch (type) {
    case JPL__EVENT__BODY_PLAN_SUBMITTED:
        return F_PLANNED;
    case JPL__EVENT__BODY_PLAN_APPROVED:
        return F_APPROVED;
    case JPL__EVENT__BODY_ENROLLED:
        return F_ENROLLED;
    case JPL__EVENT__BODY_COMPLETED:
        return F_COMPLETED;
    case JPL__EVENT__BODY_RECOGNIZED:
        return F_RECOGNIZED;
    default:
        return -1;
    }
}

/* Records event id as a summary and adds its amount to its figure. */
static jpl_err book(pkv *kv, const Jpl__Event *ev, const char *nip, uint32_t year, uint64_t amount,
                    jpl_error *e)
{
    summary s = {.type = (int)ev->body_case, .year = year, .amount = amount};
    memcpy(s.nip, nip, JPL_NIP_LEN + 1);
    jpl_err rc = store_summary(kv, ev->event_id.data, &s, e);
    if (rc == JPL_OK)
        rc = add_figure(kv, nip, year, field_of(s.type), (int64_t)amount, e);
    return rc;
}

static jpl_err need_summary(pkv *kv, const ProtobufCBinaryData *id, summary *s, jpl_error *e)
{
    if (id->len != 16)
        return jpl_fail(e, JPL_ERR_CORRUPT, "balances: reference of bad length");
    jpl_err rc = load_summary(kv, id->data, s, e);
    if (rc == JPL_ERR_NOT_FOUND)
        return jpl_fail(e, JPL_ERR_CORRUPT,
                        "balances: referenced event is unknown to the projection (replay it)");
    return rc;
}

static jpl_err apply_activity(pkv *kv, const Jpl__ActivityDefined *a, jpl_error *e)
{
    pbuf b = {0};
    pbuf_u8(&b, (uint8_t)a->mode);
    pbuf_u32(&b, a->has_jp_centi ? a->jp_centi : 0);
    pbuf_u16(&b, (uint16_t)(a->has_days ? a->days : 0));
    pbuf_u8(&b, a->has_international && a->international ? 1 : 0);
    pbuf_str(&b, a->form);
    size_t len = strnlen(a->activity_id, 256);
    uint8_t k[1 + 256];
    jpl_err rc = b.oom ? jpl_fail(e, JPL_ERR_INTERNAL, "out of memory")
                       : pkv_put(kv, k, proj_key(k, 'A', a->activity_id, len), b.p, b.len, e);
    pbuf_free(&b);
    return rc;
}

/* JP value of one enrollment in an activity, under the policy of year. */
static jpl_err enrollment_value(pkv *kv, const char *activity_id, uint32_t year, uint64_t *out,
                                jpl_error *e)
{
    size_t len = strnlen(activity_id, 256);
    uint8_t k[1 + 256];
    const uint8_t *v = NULL;
    size_t vlen = 0;
    *out = 0;
    jpl_err rc = pkv_get(kv, k, proj_key(k, 'A', activity_id, len), &v, &vlen, e);
    if (rc == JPL_ERR_NOT_FOUND)
        return jpl_fail(e, JPL_ERR_CORRUPT, "balances: activity %s is unknown to the projection",
                        activity_id);
    if (rc != JPL_OK)
        return rc;
    prd r = {.p = v, .len = vlen};
    int mode = prd_u8(&r);
    uint32_t jp = prd_u32(&r);
    uint32_t days = prd_u16(&r);
    bool intl = prd_u8(&r) != 0;
    char form[65];
    prd_str(&r, form, sizeof form);
    if (r.bad)
        return jpl_fail(e, JPL_ERR_CORRUPT, "balances: activity record is malformed");
    if (mode == JPL__ACTIVITY_MODE__MODE_CLASSICAL) {
        *out = jp;
        return JPL_OK;
    }
    jpl_policy *p = malloc(sizeof *p);
    if (p == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    rc = proj_policy_for(kv, year, p, e);
    for (size_t i = 0; rc == JPL_OK && i < p->n_conversions; i++) {
        if (strcmp(p->conversions[i].form, form) != 0)
            continue;
        uint64_t per_day = intl ? p->conversions[i].international_jp_centi_per_day
                                : p->conversions[i].national_jp_centi_per_day;
        uint64_t value = per_day * days;
        if (intl)
            value += value * p->international_bonus_percent / 100;
        *out = value;
    }
    free(p);
    return rc;
}

static jpl_err apply_revoked(pkv *kv, const Jpl__Revoked *r, jpl_error *e)
{
    summary s;
    jpl_err rc = need_summary(kv, &r->target_event_id, &s, e);
    if (rc != JPL_OK)
        return rc;
    int field = field_of(s.type);
    if (field < 0)
        return jpl_fail(e, JPL_ERR_CORRUPT, "balances: summary of unknown type %d", s.type);
    rc = add_figure(kv, s.nip, s.year, field, -(int64_t)s.amount, e);
    uint8_t k[17];
    if (rc == JPL_OK)
        rc = pkv_del(kv, k, proj_key(k, 'S', r->target_event_id.data, 16), e);
    return rc;
}

static uint64_t plan_total(const Jpl__PlanSubmitted *p)
{
    uint64_t t = 0;
    for (size_t i = 0; i < p->n_items; i++)
        t += p->items[i]->jp_centi;
    return t;
}

static jpl_err balances_apply(pkv *kv, const jpl_entry_view *view, jpl_error *e)
{
    const Jpl__Event *ev = view->ev;
    const char *nip = proj_event_nip(ev);
    summary ref;
    jpl_err rc;
    switch (ev->body_case) {
    case JPL__EVENT__BODY_POLICY_SET:
        return proj_policy_apply(kv, ev->policy_set, e);
    case JPL__EVENT__BODY_EMPLOYEE_REGISTERED:
    case JPL__EVENT__BODY_EMPLOYEE_UPDATED:
    case JPL__EVENT__BODY_EMPLOYEE_EXITED:
        return nip ? proj_history_apply(kv, nip, ev, e) : JPL_OK;
    case JPL__EVENT__BODY_ACTIVITY_DEFINED:
        return apply_activity(kv, ev->activity_defined, e);
    case JPL__EVENT__BODY_PLAN_SUBMITTED:
        if (nip == NULL)
            return JPL_OK;
        return book(kv, ev, nip, ev->plan_submitted->year, plan_total(ev->plan_submitted), e);
    case JPL__EVENT__BODY_PLAN_APPROVED: {
        const Jpl__PlanApproved *a = ev->plan_approved;
        if ((rc = need_summary(kv, &a->plan_event_id, &ref, e)) != JPL_OK)
            return rc;
        uint64_t amount = a->has_approved_jp_centi ? a->approved_jp_centi : ref.amount;
        return book(kv, ev, ref.nip, ref.year, amount, e);
    }
    case JPL__EVENT__BODY_ENROLLED: {
        if (nip == NULL)
            return JPL_OK;
        uint32_t year = 0;
        uint64_t value = 0;
        if ((rc = proj_count_year_load(kv, nip, ev->issued_at_ms, &year, e)) != JPL_OK)
            return rc;
        if ((rc = enrollment_value(kv, ev->enrolled->activity_id, year, &value, e)) != JPL_OK)
            return rc;
        return book(kv, ev, nip, year, value, e);
    }
    case JPL__EVENT__BODY_COMPLETED: {
        if (nip == NULL)
            return JPL_OK;
        uint32_t year = 0;
        rc = proj_count_year_load(kv, nip, ev->completed->completed_at_ms, &year, e);
        return rc == JPL_OK ? book(kv, ev, nip, year, ev->completed->jp_centi, e) : rc;
    }
    case JPL__EVENT__BODY_RECOGNIZED:
        if ((rc = need_summary(kv, &ev->recognized->completion_event_id, &ref, e)) != JPL_OK)
            return rc;
        return book(kv, ev, ref.nip, ref.year, ev->recognized->jp_centi, e);
    case JPL__EVENT__BODY_REVOKED:
        return apply_revoked(kv, ev->revoked, e);
    default:
        return JPL_OK; /* key events are not about balances */
    }
}

const proj_ops jpl_proj_balances_ops = {.name = "balances", .apply = balances_apply};

/* ---- queries ---- */

const char *jpl_balance_status_name(jpl_balance_status s)
{
    switch (s) {
    case JPL_STATUS_MET:
        return "met";
    case JPL_STATUS_SHORT:
        return "short";
    case JPL_STATUS_WITHIN:
        return "within";
    case JPL_STATUS_OVER:
        return "over";
    default:
        return "unknown";
    }
}

static void judge(jpl_balance *b, const proj_history *h, const jpl_policy *p)
{
    const proj_step *st = proj_history_at(h, b->year);
    b->kind = st->kind;
    b->cap_exempt = st->cap_exempt;
    snprintf(b->unit, sizeof b->unit, "%s", st->unit);
    b->floor_jp_centi = p->pns_floor_jp_centi;
    b->cap_jp_centi = p->pppk_cap_jp_centi;
    b->policy_year = p->effective_year;
    b->shortfall = b->excess = 0;
    b->contract_md = 0;
    if (b->kind == JPL__EMPLOYEE_KIND__KIND_PPPK) {
        b->contract_md = st->contract_md;
        if (!b->cap_exempt && b->recognized > p->pppk_cap_jp_centi) {
            b->counted = p->pppk_cap_jp_centi;
            b->status = JPL_STATUS_OVER;
            b->excess = b->recognized - p->pppk_cap_jp_centi;
        } else {
            b->counted = b->recognized;
            b->status = JPL_STATUS_WITHIN;
        }
        return;
    }
    b->counted = b->recognized;
    if (b->counted >= p->pns_floor_jp_centi) {
        b->status = JPL_STATUS_MET;
    } else {
        b->status = JPL_STATUS_SHORT;
        b->shortfall = p->pns_floor_jp_centi - b->counted;
    }
}

static jpl_err fill(pkv *kv, const char *nip, uint32_t year, const uint8_t *v, size_t vlen,
                    const proj_history *h, jpl_balance *b, jpl_error *e)
{
    memset(b, 0, sizeof *b);
    snprintf(b->nip, sizeof b->nip, "%s", nip);
    b->year = year;
    if (v != NULL) {
        if (vlen != 8 * F_COUNT)
            return jpl_fail(e, JPL_ERR_CORRUPT, "balances: record of %s/%u has bad size", nip,
                            year);
        b->planned = jpl_get_u64be(v + 8 * F_PLANNED);
        b->approved = jpl_get_u64be(v + 8 * F_APPROVED);
        b->enrolled = jpl_get_u64be(v + 8 * F_ENROLLED);
        b->completed = jpl_get_u64be(v + 8 * F_COMPLETED);
        b->recognized = jpl_get_u64be(v + 8 * F_RECOGNIZED);
    }
    jpl_policy *p = malloc(sizeof *p);
    if (p == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl_err rc = proj_policy_for(kv, year, p, e);
    if (rc == JPL_OK)
        judge(b, h, p);
    free(p);
    return rc;
}

jpl_err jpl_balance_query(jpl_ledger *l, const char *nip, uint32_t year, jpl_balance **balances_out,
                          size_t *n_out, jpl_error *e)
{
    jpl_err rc = proj_check_query(nip, year, true, e);
    if (rc != JPL_OK)
        return rc;
    pkv kv;
    if ((rc = proj_open_read(l, "balances", &kv, e)) != JPL_OK)
        return rc;
    proj_history h = {0};
    bool found = false;
    rc = proj_history_load(&kv, nip, &h, &found, e);
    if (rc == JPL_OK && !found)
        rc = jpl_fail(e, JPL_ERR_NOT_FOUND, "employee %s is not in the ledger", nip);
    /* the years with figures, from a prefix scan of 'B' || NIP */
    uint32_t years[256];
    size_t ny = 0;
    if (rc == JPL_OK && year != 0) {
        years[ny++] = year;
    } else if (rc == JPL_OK) {
        uint8_t k[3 + JPL_NIP_LEN];
        size_t plen = proj_key(k, 'B', nip, JPL_NIP_LEN);
        jpl_iter *it = pkv_iter(&kv, k, plen);
        for (; jpl_iter_valid(it) && ny < sizeof years / sizeof years[0]; jpl_iter_next(it)) {
            size_t klen = 0;
            const uint8_t *key = jpl_iter_key(it, &klen);
            if (klen != plen + 2 || memcmp(key, k, plen) != 0)
                break;
            years[ny++] = (uint32_t)((key[plen] << 8) | key[plen + 1]);
        }
        rc = jpl_iter_status(it, e);
        jpl_iter_free(it);
        if (rc == JPL_OK && ny == 0)
            years[ny++] = proj_history_count_year(&h, jpl_now_ms());
    }
    jpl_balance *res = rc == JPL_OK ? calloc(ny, sizeof *res) : NULL;
    if (rc == JPL_OK && res == NULL)
        rc = jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; rc == JPL_OK && i < ny; i++) {
        uint8_t k[3 + JPL_NIP_LEN];
        const uint8_t *v = NULL;
        size_t vlen = 0;
        rc = pkv_get(&kv, k, proj_key_nip_year(k, 'B', nip, years[i]), &v, &vlen, e);
        if (rc == JPL_ERR_NOT_FOUND) {
            v = NULL;
            rc = JPL_OK;
        }
        if (rc == JPL_OK)
            rc = fill(&kv, nip, years[i], v, vlen, &h, &res[i], e);
    }
    proj_history_free(&h);
    pkv_release(&kv);
    if (rc != JPL_OK) {
        free(res);
        return rc;
    }
    *balances_out = res;
    *n_out = ny;
    return JPL_OK;
}

json_t *jpl_balance_to_json(const jpl_balance *b)
{
    json_t *o = json_object();
    json_object_set_new(o, "nip", json_string(b->nip));
    json_object_set_new(o, "year", json_integer(b->year));
    json_object_set_new(o, "kind",
                        json_string(b->kind == JPL__EMPLOYEE_KIND__KIND_PPPK ? "pppk" : "pns"));
    if (b->kind == JPL__EMPLOYEE_KIND__KIND_PPPK)
        json_object_set_new(o, "cap_exempt", json_boolean(b->cap_exempt));
    if (b->contract_md != 0) {
        unsigned md = b->contract_md;
        bool leap = (b->year % 4 == 0 && b->year % 100 != 0) || b->year % 400 == 0;
        if (md == 229 && !leap)
            md = 301;
        char from[16];
        snprintf(from, sizeof from, "%04u-%02u-%02u", b->year % 10000, md / 100 % 100, md % 100);
        json_object_set_new(o, "contract_year_from", json_string(from));
    }
    json_object_set_new(o, "unit", json_string(b->unit));
    json_object_set_new(o, "planned_jp_centi", json_integer((json_int_t)b->planned));
    json_object_set_new(o, "approved_jp_centi", json_integer((json_int_t)b->approved));
    json_object_set_new(o, "enrolled_jp_centi", json_integer((json_int_t)b->enrolled));
    json_object_set_new(o, "completed_jp_centi", json_integer((json_int_t)b->completed));
    json_object_set_new(o, "recognized_jp_centi", json_integer((json_int_t)b->recognized));
    json_object_set_new(o, "counted_jp_centi", json_integer((json_int_t)b->counted));
    json_object_set_new(o, "status", json_string(jpl_balance_status_name(b->status)));
    if (b->status == JPL_STATUS_SHORT)
        json_object_set_new(o, "shortfall_jp_centi", json_integer((json_int_t)b->shortfall));
    if (b->status == JPL_STATUS_OVER)
        json_object_set_new(o, "excess_jp_centi", json_integer((json_int_t)b->excess));
    if (b->kind == JPL__EMPLOYEE_KIND__KIND_PPPK)
        json_object_set_new(o, "cap_jp_centi", json_integer(b->cap_jp_centi));
    else
        json_object_set_new(o, "floor_jp_centi", json_integer(b->floor_jp_centi));
    json_object_set_new(o, "policy_year", json_integer(b->policy_year));
    return o;
}
