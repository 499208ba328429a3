/*
 * The units projection: what a unit compliance report needs. Recognized JP are credited to the
 * unit the employee was in when the completion was appended (its position in the log), in the
 * completion's WIB year (for a PPPK with a contract start: its contract year, proj_count_year);
 * headcounts and statuses are judged at query time from the employee history and the policy of the
 * year (docs/PROJECTIONS.md, "units").
 *
 * Family layout (besides '#applied', 'P' policy table and 'E' employee history, see common.c):
 *   'C' completion id (16)   -> NIP (18), u16 year, u8 len, unit      (live completions)
 *   'R' recognition id (16)  -> NIP (18), u16 year, u64 centi-JP, u8 len, unit (live ones)
 *   'J' u16 year || NIP (18) -> u16 n, n x { u8 len, unit, u64 centi-JP } recognized JP of the
 *                               employee in the year, per unit credited
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "jpl/nip.h"

#define MAX_CREDITS 64

typedef struct {
    char unit[PROJ_UNIT_MAX + 1];
    uint64_t jp;
} credit;

typedef struct {
    credit c[MAX_CREDITS];
    size_t n;
} credits;

static size_t key_year_nip(uint8_t *k, uint32_t year, const char *nip)
{
    k[0] = 'J';
    k[1] = (uint8_t)(year >> 8);
    k[2] = (uint8_t)year;
    memcpy(k + 3, nip, JPL_NIP_LEN);
    return 3 + JPL_NIP_LEN;
}

static jpl_err decode_credits(const uint8_t *v, size_t vlen, credits *out, jpl_error *e)
{
    prd r = {.p = v, .len = vlen};
    size_t n = prd_u16(&r);
    out->n = 0;
    if (n > MAX_CREDITS)
        return jpl_fail(e, JPL_ERR_CORRUPT, "units: credit record too long");
    for (size_t i = 0; i < n && !r.bad; i++) {
        prd_str(&r, out->c[i].unit, sizeof out->c[i].unit);
        out->c[i].jp = prd_u64(&r);
        out->n = i + 1;
    }
    if (r.bad || r.off != r.len)
        return jpl_fail(e, JPL_ERR_CORRUPT, "units: credit record is malformed");
    return JPL_OK;
}

/* Adds delta centi-JP credited to unit for (year, nip); rows that reach zero are kept (the
 * employee still had a credited event in the unit that year). */
static jpl_err credit_add(pkv *kv, uint32_t year, const char *nip, const char *unit, int64_t delta,
                          jpl_error *e)
{
    uint8_t k[3 + JPL_NIP_LEN];
    size_t klen = key_year_nip(k, year, nip);
    const uint8_t *v = NULL;
    size_t vlen = 0;
    credits *c = malloc(sizeof *c); /* only the first n rows are ever read */
    if (c == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    c->n = 0;
    jpl_err rc = pkv_get(kv, k, klen, &v, &vlen, e);
    if (rc == JPL_OK)
        rc = decode_credits(v, vlen, c, e);
    else if (rc == JPL_ERR_NOT_FOUND)
        rc = JPL_OK;
    size_t i = 0;
    while (rc == JPL_OK && i < c->n && strcmp(c->c[i].unit, unit) != 0)
        i++;
    if (rc == JPL_OK && i == c->n) {
        if (c->n == MAX_CREDITS) {
            i = c->n - 1; /* more than 64 units in one year: credit the last row */
        } else {
            snprintf(c->c[i].unit, sizeof c->c[i].unit, "%s", unit);
            c->c[i].jp = 0;
            c->n++;
        }
    }
    if (rc == JPL_OK) {
        uint64_t cur = c->c[i].jp;
        c->c[i].jp = delta < 0 && (uint64_t)(-delta) > cur ? 0 : (uint64_t)((int64_t)cur + delta);
        pbuf b = {0};
        pbuf_u16(&b, (uint16_t)c->n);
        for (size_t j = 0; j < c->n; j++) {
            pbuf_str(&b, c->c[j].unit);
            pbuf_u64(&b, c->c[j].jp);
        }
        rc = b.oom ? jpl_fail(e, JPL_ERR_INTERNAL, "out of memory")
                   : pkv_put(kv, k, klen, b.p, b.len, e);
        pbuf_free(&b);
    }
    free(c);
    return rc;
}

static jpl_err apply_completed(pkv *kv, const Jpl__Event *ev, const char *nip, jpl_error *e)
{
    proj_history h = {0};
    bool found = false;
    jpl_err rc = proj_history_load(kv, nip, &h, &found, e);
    if (rc != JPL_OK)
        return rc;
    if (!found)
        return jpl_fail(e, JPL_ERR_CORRUPT, "units: employee %s is unknown to the projection", nip);
    pbuf b = {0};
    pbuf_put(&b, nip, JPL_NIP_LEN);
    pbuf_u16(&b, (uint16_t)proj_history_count_year(&h, ev->completed->completed_at_ms));
    pbuf_str(&b, proj_history_current(&h)->unit);
    proj_history_free(&h);
    uint8_t k[17];
    rc = b.oom ? jpl_fail(e, JPL_ERR_INTERNAL, "out of memory")
               : pkv_put(kv, k, proj_key(k, 'C', ev->event_id.data, 16), b.p, b.len, e);
    pbuf_free(&b);
    return rc;
}

static jpl_err apply_recognized(pkv *kv, const Jpl__Event *ev, jpl_error *e)
{
    const Jpl__Recognized *r = ev->recognized;
    uint8_t k[17];
    const uint8_t *v = NULL;
    size_t vlen = 0;
    if (r->completion_event_id.len != 16)
        return jpl_fail(e, JPL_ERR_CORRUPT, "units: reference of bad length");
    jpl_err rc = pkv_get(kv, k, proj_key(k, 'C', r->completion_event_id.data, 16), &v, &vlen, e);
    if (rc == JPL_ERR_NOT_FOUND)
        return jpl_fail(e, JPL_ERR_CORRUPT, "units: completion unknown to the projection");
    if (rc != JPL_OK)
        return rc;
    prd rd = {.p = v, .len = vlen};
    char nip[JPL_NIP_LEN + 1], unit[PROJ_UNIT_MAX + 1];
    const uint8_t *np = prd_bytes(&rd, JPL_NIP_LEN);
    uint32_t year = prd_u16(&rd);
    prd_str(&rd, unit, sizeof unit);
    if (rd.bad || np == NULL)
        return jpl_fail(e, JPL_ERR_CORRUPT, "units: completion record is malformed");
    memcpy(nip, np, JPL_NIP_LEN);
    nip[JPL_NIP_LEN] = '\0';
    pbuf b = {0};
    pbuf_put(&b, nip, JPL_NIP_LEN);
    pbuf_u16(&b, (uint16_t)year);
    pbuf_u64(&b, r->jp_centi);
    pbuf_str(&b, unit);
    rc = b.oom ? jpl_fail(e, JPL_ERR_INTERNAL, "out of memory")
               : pkv_put(kv, k, proj_key(k, 'R', ev->event_id.data, 16), b.p, b.len, e);
    pbuf_free(&b);
    if (rc == JPL_OK)
        rc = credit_add(kv, year, nip, unit, (int64_t)r->jp_centi, e);
    return rc;
}

static jpl_err apply_revoked(pkv *kv, const Jpl__Revoked *r, jpl_error *e)
{
    if (r->target_event_id.len != 16)
        return JPL_OK;
    uint8_t k[17];
    const uint8_t *v = NULL;
    size_t vlen = 0;
    /* a completion: forget it (its recognition was revoked before, by the rules) */
    jpl_err rc = pkv_get(kv, k, proj_key(k, 'C', r->target_event_id.data, 16), &v, &vlen, e);
    if (rc == JPL_OK)
        return pkv_del(kv, k, 17, e);
    if (rc != JPL_ERR_NOT_FOUND)
        return rc;
    rc = pkv_get(kv, k, proj_key(k, 'R', r->target_event_id.data, 16), &v, &vlen, e);
    if (rc == JPL_ERR_NOT_FOUND)
        return JPL_OK; /* plans, approvals, enrollments: not about units */
    if (rc != JPL_OK)
        return rc;
    prd rd = {.p = v, .len = vlen};
    char nip[JPL_NIP_LEN + 1], unit[PROJ_UNIT_MAX + 1];
    const uint8_t *np = prd_bytes(&rd, JPL_NIP_LEN);
    uint32_t year = prd_u16(&rd);
    uint64_t jp = prd_u64(&rd);
    prd_str(&rd, unit, sizeof unit);
    if (rd.bad || np == NULL)
        return jpl_fail(e, JPL_ERR_CORRUPT, "units: recognition record is malformed");
    memcpy(nip, np, JPL_NIP_LEN);
    nip[JPL_NIP_LEN] = '\0';
    rc = credit_add(kv, year, nip, unit, -(int64_t)jp, e);
    if (rc == JPL_OK)
        rc = pkv_del(kv, k, 17, e);
    return rc;
}

static jpl_err units_apply(pkv *kv, const jpl_entry_view *view, jpl_error *e)
{
    const Jpl__Event *ev = view->ev;
    const char *nip = proj_event_nip(ev);
    switch (ev->body_case) {
    case JPL__EVENT__BODY_POLICY_SET:
        return proj_policy_apply(kv, ev->policy_set, e);
    case JPL__EVENT__BODY_EMPLOYEE_REGISTERED:
    case JPL__EVENT__BODY_EMPLOYEE_UPDATED:
    case JPL__EVENT__BODY_EMPLOYEE_EXITED:
        return nip ? proj_history_apply(kv, nip, ev, e) : JPL_OK;
    case JPL__EVENT__BODY_COMPLETED:
        return nip ? apply_completed(kv, ev, nip, e) : JPL_OK;
    case JPL__EVENT__BODY_RECOGNIZED:
        return apply_recognized(kv, ev, e);
    case JPL__EVENT__BODY_REVOKED:
        return apply_revoked(kv, ev->revoked, e);
    default:
        return JPL_OK;
    }
}

const proj_ops jpl_proj_units_ops = {.name = "units", .apply = units_apply};

/* ---- the report ---- */

typedef struct {
    jpl_unit_row *rows;
    size_t n, cap;
    jpl_policy policy;
    uint32_t year;
} report;

static jpl_unit_row *row_for(report *r, const char *unit)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->rows[i].unit, unit) == 0)
            return &r->rows[i];
    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 32;
        jpl_unit_row *nr = realloc(r->rows, ncap * sizeof *nr);
        if (nr == NULL)
            return NULL;
        r->rows = nr;
        r->cap = ncap;
    }
    jpl_unit_row *row = &r->rows[r->n++];
    memset(row, 0, sizeof *row);
    snprintf(row->unit, sizeof row->unit, "%s", unit);
    row->year = r->year;
    return row;
}

/* The units an employee belonged to during year y (by the WIB years of the HR events). */
static size_t member_units(const proj_history *h, uint32_t y, const char **units, size_t cap)
{
    size_t n = 0;
    if (h->steps[0].year > y)
        return 0;
    for (size_t i = 0; i < h->n; i++)
        if (h->steps[i].exited && h->steps[i].year < y)
            return 0;
    const proj_step *carried = NULL;
    for (size_t i = 0; i < h->n; i++)
        if (h->steps[i].year < y)
            carried = &h->steps[i];
    if (carried != NULL)
        units[n++] = carried->unit;
    for (size_t i = 0; i < h->n && n < cap; i++) {
        if (h->steps[i].year != y)
            continue;
        bool dup = false;
        for (size_t j = 0; j < n; j++)
            dup = dup || strcmp(units[j], h->steps[i].unit) == 0;
        if (!dup)
            units[n++] = h->steps[i].unit;
    }
    return n;
}

static jpl_err count_employee(report *r, const proj_history *h, const credits *c, jpl_error *e)
{
    const char *units[MAX_CREDITS * 2];
    size_t n = member_units(h, r->year, units, MAX_CREDITS);
    uint64_t total = 0;
    for (size_t i = 0; i < c->n; i++) {
        total += c->c[i].jp;
        bool dup = false;
        for (size_t j = 0; j < n; j++)
            dup = dup || strcmp(units[j], c->c[i].unit) == 0;
        /* a credit revoked to zero does not make the employee a member */
        if (!dup && c->c[i].jp > 0 && n < sizeof units / sizeof units[0])
            units[n++] = c->c[i].unit;
    }
    const proj_step *st = proj_history_at(h, r->year);
    for (size_t i = 0; i < n; i++) {
        jpl_unit_row *row = row_for(r, units[i]);
        if (row == NULL)
            return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
        if (st->kind == JPL__EMPLOYEE_KIND__KIND_PPPK) {
            row->headcount_pppk++;
            if (st->cap_exempt)
                row->pppk_exempt++;
            else if (total >= r->policy.pppk_cap_jp_centi)
                row->pppk_at_cap++;
        } else {
            row->headcount_pns++;
            if (total >= r->policy.pns_floor_jp_centi)
                row->pns_met++;
        }
        if (n > 1)
            row->movers++;
        for (size_t j = 0; j < c->n; j++)
            if (strcmp(c->c[j].unit, units[i]) == 0)
                row->recognized += c->c[j].jp;
    }
    return JPL_OK;
}

static int cmp_row(const void *a, const void *b)
{
    return strcmp(((const jpl_unit_row *)a)->unit, ((const jpl_unit_row *)b)->unit);
}

jpl_err jpl_unit_report(jpl_ledger *l, uint32_t year, const char *unit, jpl_unit_row **rows_out,
                        size_t *n_out, jpl_error *e)
{
    if (year < 2000 || year > 2100)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "year %u is outside 2000..2100", year);
    pkv kv;
    jpl_err rc = proj_open_read(l, "units", &kv, e);
    if (rc != JPL_OK)
        return rc;
    report r = {.year = year};
    credits *c = calloc(1, sizeof *c);
    if (c == NULL) {
        pkv_release(&kv);
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    }
    rc = proj_policy_for(&kv, year, &r.policy, e);
    /* merge join: employees ('E' || NIP) with their credits of the year ('J' || year || NIP),
     * both in NIP order */
    uint8_t jk[3];
    jk[0] = 'J';
    jk[1] = (uint8_t)(year >> 8);
    jk[2] = (uint8_t)year;
    jpl_iter *ei = pkv_iter(&kv, "E", 1);
    jpl_iter *ji = pkv_iter(&kv, jk, 3);
    while (rc == JPL_OK && jpl_iter_valid(ei)) {
        size_t klen = 0, vlen = 0;
        const uint8_t *k = jpl_iter_key(ei, &klen);
        if (klen != 1 + JPL_NIP_LEN || k[0] != 'E')
            break;
        proj_history h = {0};
        const uint8_t *hv = jpl_iter_value(ei, &vlen);
        rc = proj_history_decode(hv, vlen, &h, e);
        c->n = 0;
        while (rc == JPL_OK && jpl_iter_valid(ji)) {
            size_t jlen = 0;
            const uint8_t *jkey = jpl_iter_key(ji, &jlen);
            if (jlen != 3 + JPL_NIP_LEN || memcmp(jkey, jk, 3) != 0)
                break;
            int cmp = memcmp(jkey + 3, k + 1, JPL_NIP_LEN);
            if (cmp > 0)
                break;
            if (cmp == 0) {
                size_t jvlen = 0;
                const uint8_t *jv = jpl_iter_value(ji, &jvlen);
                rc = decode_credits(jv, jvlen, c, e);
            }
            jpl_iter_next(ji);
        }
        if (rc == JPL_OK)
            rc = count_employee(&r, &h, c, e);
        proj_history_free(&h);
        jpl_iter_next(ei);
    }
    if (rc == JPL_OK)
        rc = jpl_iter_status(ei, e);
    if (rc == JPL_OK)
        rc = jpl_iter_status(ji, e);
    jpl_iter_free(ei);
    jpl_iter_free(ji);
    free(c);
    pkv_release(&kv);
    if (rc != JPL_OK) {
        free(r.rows);
        return rc;
    }
    for (size_t i = 0; i < r.n; i++) {
        jpl_unit_row *row = &r.rows[i];
        uint64_t hc = row->headcount_pns + row->headcount_pppk;
        row->mean_recognized = hc ? row->recognized / hc : 0;
        row->pns_met_permille =
            row->headcount_pns ? (uint32_t)(row->pns_met * 1000 / row->headcount_pns) : 0;
    }
    if (unit != NULL) {
        size_t i = 0;
        while (i < r.n && strcmp(r.rows[i].unit, unit) != 0)
            i++;
        if (i == r.n) {
            free(r.rows);
            return jpl_fail(e, JPL_ERR_NOT_FOUND, "unit '%s' has nobody in %u", unit, year);
        }
        r.rows[0] = r.rows[i];
        r.n = 1;
    }
    if (r.n > 1)
        qsort(r.rows, r.n, sizeof *r.rows, cmp_row);
    *rows_out = r.rows;
    *n_out = r.n;
    return JPL_OK;
}

json_t *jpl_unit_row_to_json(const jpl_unit_row *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "unit", json_string(r->unit));
    json_object_set_new(o, "year", json_integer(r->year));
    json_object_set_new(o, "headcount_pns", json_integer((json_int_t)r->headcount_pns));
    json_object_set_new(o, "headcount_pppk", json_integer((json_int_t)r->headcount_pppk));
    json_object_set_new(o, "pns_met", json_integer((json_int_t)r->pns_met));
    json_object_set_new(o, "pns_met_permille", json_integer(r->pns_met_permille));
    json_object_set_new(o, "pppk_at_cap", json_integer((json_int_t)r->pppk_at_cap));
    json_object_set_new(o, "pppk_exempt", json_integer((json_int_t)r->pppk_exempt));
    json_object_set_new(o, "movers", json_integer((json_int_t)r->movers));
    json_object_set_new(o, "recognized_jp_centi", json_integer((json_int_t)r->recognized));
    json_object_set_new(o, "mean_recognized_jp_centi",
                        json_integer((json_int_t)r->mean_recognized));
    return o;
}
