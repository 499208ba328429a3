/*
 * Helpers shared by the projections: the WIB calendar year of a time, value encoding with
 * bounds-checked decoding, the employee history (kind, cap exemption, unit, exit by year) and the
 * policy table. Stored layouts (all integers big-endian):
 *
 *   history 'E' NIP(18) -> u16 n, n x { u16 year, u8 kind, u8 flags (1 exempt, 2 exited,
 *                                       4 contract start), u8 len, unit,
 *                                       [u16 contract start month*100+day, if flag 4] }
 *     (flag 4 and its trailing u16 came with contract years: a step without a contract start is
 *     encoded exactly as before, so older records decode and digests of ledgers without contract
 *     starts are unchanged)
 *   policy  'P'         -> u16 n, n x { u16 effective_year, u32 floor, u32 cap, u32 minutes,
 *                                       u32 bonus%, u16 m, m x { u8 len, form, u32 nat, u32 intl }
 * } (sorted by effective year; a later policy_set for the same year replaces the row)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "jpl/nip.h"

#define WIB_OFFSET_S 25200 /* UTC+7 */
#define MAX_HISTORY 4096
#define MAX_POLICIES 256

#define FLAG_EXEMPT 1
#define FLAG_EXITED 2
#define FLAG_CONTRACT 4

void proj_wib_date(uint64_t ms, uint32_t *year_out, uint32_t *month_out, uint32_t *day_out)
{
    int64_t days = (int64_t)((ms / 1000 + WIB_OFFSET_S) / 86400);
    /* civil year from days since 1970-01-01 (proleptic Gregorian, 400-year eras) */
    int64_t z = days + 719468;
    int64_t era = z / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t month = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (month <= 2 ? 1 : 0);
    *year_out = (uint32_t)y;
    *month_out = (uint32_t)month;
    *day_out = (uint32_t)(doy - (153 * mp + 2) / 5 + 1);
}

uint32_t proj_wib_year(uint64_t ms)
{
    uint32_t y, m, d;
    proj_wib_date(ms, &y, &m, &d);
    return y;
}

uint32_t proj_count_year(const proj_step *st, uint64_t ms)
{
    uint32_t y, m, d;
    proj_wib_date(ms, &y, &m, &d);
    if (st == NULL || st->kind != JPL__EMPLOYEE_KIND__KIND_PPPK || st->contract_md == 0)
        return y;
    /* a 29 February start has its anniversary on 1 March in other years: comparing month*100+day
     * with 229 gives that already, as those years have no day 229 */
    return m * 100 + d >= st->contract_md ? y : y - 1;
}

uint32_t proj_history_count_year(const proj_history *h, uint64_t ms)
{
    return proj_count_year(proj_history_at(h, proj_wib_year(ms)), ms);
}

jpl_err proj_count_year_load(pkv *kv, const char *nip, uint64_t ms, uint32_t *year_out,
                             jpl_error *e)
{
    proj_history h = {0};
    bool found = false;
    jpl_err rc = proj_history_load(kv, nip, &h, &found, e);
    if (rc != JPL_OK)
        return rc;
    *year_out = found ? proj_history_count_year(&h, ms) : proj_wib_year(ms);
    proj_history_free(&h);
    return JPL_OK;
}

/* ---- encoding ---- */

void pbuf_put(pbuf *b, const void *data, size_t len)
{
    if (b->oom)
        return;
    if (b->len + len > b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 128;
        while (ncap < b->len + len)
            ncap *= 2;
        uint8_t *n = realloc(b->p, ncap);
        if (n == NULL) {
            b->oom = true;
            return;
        }
        b->p = n;
        b->cap = ncap;
    }
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
}

void pbuf_u8(pbuf *b, uint8_t v)
{
    pbuf_put(b, &v, 1);
}

void pbuf_u16(pbuf *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    pbuf_put(b, x, 2);
}

void pbuf_u32(pbuf *b, uint32_t v)
{
    uint8_t x[4];
    jpl_put_u32be(x, v);
    pbuf_put(b, x, 4);
}

void pbuf_u64(pbuf *b, uint64_t v)
{
    uint8_t x[8];
    jpl_put_u64be(x, v);
    pbuf_put(b, x, 8);
}

void pbuf_str(pbuf *b, const char *s)
{
    size_t n = s ? strnlen(s, 255) : 0;
    pbuf_u8(b, (uint8_t)n);
    pbuf_put(b, s, n);
}

void pbuf_free(pbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

const uint8_t *prd_bytes(prd *r, size_t n)
{
    if (r->bad || r->len - r->off < n) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p + r->off;
    r->off += n;
    return p;
}

uint8_t prd_u8(prd *r)
{
    const uint8_t *p = prd_bytes(r, 1);
    return p ? p[0] : 0;
}

uint16_t prd_u16(prd *r)
{
    const uint8_t *p = prd_bytes(r, 2);
    return p ? (uint16_t)(((unsigned)p[0] << 8) | p[1]) : (uint16_t)0;
}

uint32_t prd_u32(prd *r)
{
    const uint8_t *p = prd_bytes(r, 4);
    return p ? jpl_get_u32be(p) : 0;
}

uint64_t prd_u64(prd *r)
{
    const uint8_t *p = prd_bytes(r, 8);
    return p ? jpl_get_u64be(p) : 0;
}

void prd_str(prd *r, char *out, size_t cap)
{
    size_t n = prd_u8(r);
    const uint8_t *p = prd_bytes(r, n);
    if (p == NULL || n >= cap) {
        r->bad = true;
        out[0] = '\0';
        return;
    }
    memcpy(out, p, n);
    out[n] = '\0';
}

size_t proj_key(uint8_t *k, char tag, const void *id, size_t len)
{
    k[0] = (uint8_t)tag;
    if (len)
        memcpy(k + 1, id, len);
    return len + 1;
}

size_t proj_key_nip_year(uint8_t *k, char tag, const char *nip, uint32_t year)
{
    k[0] = (uint8_t)tag;
    memcpy(k + 1, nip, JPL_NIP_LEN);
    k[1 + JPL_NIP_LEN] = (uint8_t)(year >> 8);
    k[2 + JPL_NIP_LEN] = (uint8_t)year;
    return 3 + JPL_NIP_LEN;
}

const char *proj_event_nip(const Jpl__Event *ev)
{
    return ev->nip != NULL && strlen(ev->nip) == JPL_NIP_LEN ? ev->nip : NULL;
}

/* ---- employee history ---- */

jpl_err proj_history_decode(const uint8_t *v, size_t vlen, proj_history *h, jpl_error *e)
{
    prd r = {.p = v, .len = vlen};
    size_t n = prd_u16(&r);
    h->steps = calloc(n ? n : 1, sizeof *h->steps);
    h->n = 0;
    if (h->steps == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < n && !r.bad; i++) {
        proj_step *s = &h->steps[i];
        s->year = prd_u16(&r);
        s->kind = prd_u8(&r);
        uint8_t flags = prd_u8(&r);
        s->cap_exempt = (flags & FLAG_EXEMPT) != 0;
        s->exited = (flags & FLAG_EXITED) != 0;
        prd_str(&r, s->unit, sizeof s->unit);
        s->contract_md = (flags & FLAG_CONTRACT) ? prd_u16(&r) : 0;
        if ((flags & FLAG_CONTRACT) && s->contract_md == 0)
            r.bad = true;
        h->n = i + 1;
    }
    if (r.bad || r.off != r.len || h->n == 0) {
        proj_history_free(h);
        return jpl_fail(e, JPL_ERR_CORRUPT, "employee history record is malformed");
    }
    return JPL_OK;
}

void proj_history_free(proj_history *h)
{
    free(h->steps);
    h->steps = NULL;
    h->n = 0;
}

jpl_err proj_history_load(pkv *kv, const char *nip, proj_history *h, bool *found, jpl_error *e)
{
    uint8_t k[1 + JPL_NIP_LEN];
    const uint8_t *v = NULL;
    size_t vlen = 0;
    *found = false;
    jpl_err rc = pkv_get(kv, k, proj_key(k, 'E', nip, JPL_NIP_LEN), &v, &vlen, e);
    if (rc == JPL_ERR_NOT_FOUND)
        return JPL_OK;
    if (rc != JPL_OK)
        return rc;
    rc = proj_history_decode(v, vlen, h, e);
    *found = rc == JPL_OK;
    return rc;
}

/* month*100+day of a "YYYY-MM-DD" contract start, 0 if absent. The ledger validated the date
 * before appending (jpl_event_validate), so a value that does not parse cannot be in the log;
 * it would count as absent. */
static uint16_t contract_md_of(const char *s)
{
    jpl_date d;
    jpl_error e;
    if (s == NULL || jpl_date_parse(s, "contract_start", &d, &e) != JPL_OK)
        return 0;
    return (uint16_t)(d.month * 100 + d.day);
}

jpl_err proj_history_apply(pkv *kv, const char *nip, const Jpl__Event *ev, jpl_error *e)
{
    proj_history h = {0};
    bool found = false;
    jpl_err rc = proj_history_load(kv, nip, &h, &found, e);
    if (rc != JPL_OK)
        return rc;
    proj_step step;
    memset(&step, 0, sizeof step);
    if (found)
        step = *proj_history_current(&h);
    step.year = (uint16_t)proj_wib_year(ev->issued_at_ms);
    switch (ev->body_case) {
    case JPL__EVENT__BODY_EMPLOYEE_REGISTERED: {
        const Jpl__EmployeeRegistered *r = ev->employee_registered;
        step.kind = (uint8_t)r->kind;
        step.cap_exempt = r->has_cap_exempt && r->cap_exempt;
        step.exited = false;
        snprintf(step.unit, sizeof step.unit, "%s", r->unit ? r->unit : "");
        step.contract_md = contract_md_of(r->contract_start);
        break;
    }
    case JPL__EVENT__BODY_EMPLOYEE_UPDATED: {
        const Jpl__EmployeeUpdated *u = ev->employee_updated;
        if (u->has_kind)
            step.kind = (uint8_t)u->kind;
        if (u->has_kind && u->kind != JPL__EMPLOYEE_KIND__KIND_PPPK)
            step.contract_md = 0; /* no longer on a PPPK contract */
        if (u->has_cap_exempt)
            step.cap_exempt = u->cap_exempt;
        if (u->unit != NULL)
            snprintf(step.unit, sizeof step.unit, "%s", u->unit);
        if (u->contract_start != NULL)
            step.contract_md = contract_md_of(u->contract_start);
        break;
    }
    case JPL__EVENT__BODY_EMPLOYEE_EXITED:
        step.exited = true;
        break;
    default:
        break;
    }
    pbuf b = {0};
    size_t n = found ? h.n : 0;
    /* a pathological number of updates replaces the latest step instead of growing */
    size_t keep = n < MAX_HISTORY ? n : MAX_HISTORY - 1;
    pbuf_u16(&b, (uint16_t)(keep + 1));
    for (size_t i = 0; i <= keep; i++) {
        const proj_step *s = i < keep ? &h.steps[i] : &step;
        pbuf_u16(&b, s->year);
        pbuf_u8(&b, s->kind);
        pbuf_u8(&b, (uint8_t)((s->cap_exempt ? FLAG_EXEMPT : 0) | (s->exited ? FLAG_EXITED : 0) |
                              (s->contract_md ? FLAG_CONTRACT : 0)));
        pbuf_str(&b, s->unit);
        if (s->contract_md)
            pbuf_u16(&b, s->contract_md);
    }
    proj_history_free(&h);
    uint8_t k[1 + JPL_NIP_LEN];
    rc = b.oom ? jpl_fail(e, JPL_ERR_INTERNAL, "out of memory")
               : pkv_put(kv, k, proj_key(k, 'E', nip, JPL_NIP_LEN), b.p, b.len, e);
    pbuf_free(&b);
    return rc;
}

const proj_step *proj_history_at(const proj_history *h, uint32_t y)
{
    const proj_step *best = NULL;
    for (size_t i = 0; i < h->n; i++)
        if (h->steps[i].year <= y)
            best = &h->steps[i];
    return best ? best : &h->steps[0];
}

const proj_step *proj_history_current(const proj_history *h)
{
    return &h->steps[h->n - 1];
}

/* ---- policy ---- */

void proj_policy_defaults(jpl_policy *p)
{
    memset(p, 0, sizeof *p);
    p->effective_year = 0;
    p->pns_floor_jp_centi = 2000; /* PP 11/2017 art. 203(4) as amended by PP 17/2020 */
    p->pppk_cap_jp_centi = 2400;  /* PP 49/2018 art. 40(1) */
    p->minutes_per_jp = 45;
}

static void decode_policy(prd *r, jpl_policy *p)
{
    memset(p, 0, sizeof *p);
    p->effective_year = prd_u16(r);
    p->pns_floor_jp_centi = prd_u32(r);
    p->pppk_cap_jp_centi = prd_u32(r);
    p->minutes_per_jp = prd_u32(r);
    p->international_bonus_percent = prd_u32(r);
    size_t m = prd_u16(r);
    if (m > JPL_POLICY_MAX_CONVERSIONS) {
        r->bad = true;
        return;
    }
    for (size_t i = 0; i < m && !r->bad; i++) {
        prd_str(r, p->conversions[i].form, sizeof p->conversions[i].form);
        p->conversions[i].national_jp_centi_per_day = prd_u32(r);
        p->conversions[i].international_jp_centi_per_day = prd_u32(r);
    }
    p->n_conversions = m;
}

static void encode_policy(pbuf *b, const jpl_policy *p)
{
    pbuf_u16(b, (uint16_t)p->effective_year);
    pbuf_u32(b, p->pns_floor_jp_centi);
    pbuf_u32(b, p->pppk_cap_jp_centi);
    pbuf_u32(b, p->minutes_per_jp);
    pbuf_u32(b, p->international_bonus_percent);
    pbuf_u16(b, (uint16_t)p->n_conversions);
    for (size_t i = 0; i < p->n_conversions; i++) {
        pbuf_str(b, p->conversions[i].form);
        pbuf_u32(b, p->conversions[i].national_jp_centi_per_day);
        pbuf_u32(b, p->conversions[i].international_jp_centi_per_day);
    }
}

jpl_err proj_policy_decode_for(const uint8_t *v, size_t vlen, uint32_t year, jpl_policy *out,
                               jpl_error *e)
{
    prd r = {.p = v, .len = vlen};
    size_t n = prd_u16(&r);
    jpl_policy *p = malloc(sizeof *p);
    if (p == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    proj_policy_defaults(out);
    for (size_t i = 0; i < n && !r.bad; i++) {
        decode_policy(&r, p);
        if (!r.bad && p->effective_year <= year)
            *out = *p;
    }
    free(p);
    if (r.bad)
        return jpl_fail(e, JPL_ERR_CORRUPT, "policy table is malformed");
    return JPL_OK;
}

jpl_err proj_policy_for(pkv *kv, uint32_t year, jpl_policy *out, jpl_error *e)
{
    const uint8_t *v = NULL;
    size_t vlen = 0;
    jpl_err rc = pkv_get(kv, "P", 1, &v, &vlen, e);
    if (rc == JPL_ERR_NOT_FOUND) {
        proj_policy_defaults(out);
        return JPL_OK;
    }
    if (rc != JPL_OK)
        return rc;
    return proj_policy_decode_for(v, vlen, year, out, e);
}

jpl_err proj_policy_apply(pkv *kv, const Jpl__PolicySet *ps, jpl_error *e)
{
    jpl_policy *np = calloc(1, sizeof *np);
    jpl_policy *p = malloc(sizeof *p);
    if (np == NULL || p == NULL) {
        free(np);
        free(p);
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    }
    np->effective_year = ps->effective_year;
    np->pns_floor_jp_centi = ps->pns_floor_jp_centi;
    np->pppk_cap_jp_centi = ps->pppk_cap_jp_centi;
    np->minutes_per_jp = ps->minutes_per_jp;
    np->international_bonus_percent =
        ps->has_international_bonus_percent ? ps->international_bonus_percent : 0;
    for (size_t i = 0; i < ps->n_conversions && i < JPL_POLICY_MAX_CONVERSIONS; i++) {
        snprintf(np->conversions[i].form, sizeof np->conversions[i].form, "%s",
                 ps->conversions[i]->form ? ps->conversions[i]->form : "");
        np->conversions[i].national_jp_centi_per_day =
            ps->conversions[i]->national_jp_centi_per_day;
        np->conversions[i].international_jp_centi_per_day =
            ps->conversions[i]->international_jp_centi_per_day;
        np->n_conversions = i + 1;
    }
    const uint8_t *v = NULL;
    size_t vlen = 0;
    jpl_err rc = pkv_get(kv, "P", 1, &v, &vlen, e);
    prd r = {.p = v, .len = vlen};
    size_t n = 0;
    if (rc == JPL_OK)
        n = prd_u16(&r);
    else if (rc == JPL_ERR_NOT_FOUND)
        rc = JPL_OK;
    pbuf b = {0};
    pbuf_u16(&b, 0); /* count, patched below */
    size_t count = 0;
    bool placed = false;
    for (size_t i = 0; rc == JPL_OK && i < n && !r.bad; i++) {
        decode_policy(&r, p);
        if (r.bad)
            break;
        if (!placed && p->effective_year >= np->effective_year) {
            encode_policy(&b, np);
            count++;
            placed = true;
        }
        if (p->effective_year == np->effective_year)
            continue; /* replaced */
        encode_policy(&b, p);
        count++;
    }
    if (!placed) {
        encode_policy(&b, np);
        count++;
    }
    if (rc == JPL_OK && r.bad)
        rc = jpl_fail(e, JPL_ERR_CORRUPT, "policy table is malformed");
    if (rc == JPL_OK && (b.oom || count > MAX_POLICIES))
        rc = jpl_fail(e, JPL_ERR_INTERNAL, "policy table too large");
    if (rc == JPL_OK) {
        b.p[0] = (uint8_t)(count >> 8);
        b.p[1] = (uint8_t)count;
        rc = pkv_put(kv, "P", 1, b.p, b.len, e);
    }
    pbuf_free(&b);
    free(np);
    free(p);
    return rc;
}
