/*
 * The year generator (see gen.h). Everything here is integer arithmetic on two small PRNGs, so
 * the same options give the same bytes on every machine:
 *   - splitmix64 (Steele, Lea, Flood 2014) turns the seed and an index into seeds;
 *   - xoshiro256** (Blackman, Vigna 2018) draws each employee's story and the catalogue.
 * Event lines are formatted directly (no JSON library) from fixed ASCII tables that need no
 * escaping, which keeps 124 000 employees (about 1.5 million events) to a few seconds.
 *
 * Shape of a year (rates per employee unless said otherwise):
 *   - 150 units of Zipf-like sizes (weight 1/rank); ages 19..58; about 20% PPPK, 0.5% of them in
 *     posts exempt from the cap; NIPs with appointment at 18 or later and before the year.
 *   - a catalogue of e-learning modules, short courses, multi-week (leadership) training,
 *     seminars and workshops (national or international);
 *   - 90% submit a plan, 95% of plans are approved; each planned activity is enrolled; 7%
 *     drop out (half of those withdrawals are revoked by the LMS); completions carry the
 *     SHA-256 of a certificate text; 97% of completions are recognized, 1% of recognitions with
 *     a wrong basis, revoked by the verifier and recognized again correctly;
 *   - 12% of PNS are given less than 20 JP of learning, 15% of non-exempt PPPK more than 24;
 *   - 3% move to another unit in the second half of the year.
 */
#include "gen.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpl/crypto.h"
#include "jpl/event_json.h"
#include "jpl/ledger.h"
#include "jpl/nip.h"

#define DAY_MS UINT64_C(86400000)
#define LINE_MAX_LEN 8192
#define MAX_ITEMS 8
#define FLOOR_CENTI 2000u
#define CAP_CENTI 2400u
#define MINUTES_PER_JP 45u

/* ---- PRNGs ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

typedef struct {
    uint64_t s[4];
} rng;

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* The PRNG of stream `index` of `domain` under seed. */
static void rng_seed(rng *r, uint64_t seed, uint64_t domain, uint64_t index)
{
    uint64_t x = seed;
    uint64_t a = splitmix64(&x);
    x = a ^ (domain * UINT64_C(0xD1B54A32D192ED03));
    uint64_t b = splitmix64(&x);
    x = b ^ index;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

/* Uniform-enough integer in [0, n) (n > 0; the modulo bias is below 2^-40 for our n). */
static uint32_t below(rng *r, uint32_t n)
{
    return (uint32_t)(next(r) % n);
}

static uint32_t between(rng *r, uint32_t lo, uint32_t hi)
{
    return lo + below(r, hi - lo + 1);
}

static bool chance(rng *r, uint32_t permille)
{
    return below(r, 1000) < permille;
}

/* A version-4 UUID from the PRNG. */
static void draw_id(rng *r, uint8_t id[16])
{
    uint64_t a = next(r), b = next(r);
    for (int i = 0; i < 8; i++) {
        id[i] = (uint8_t)(a >> (56 - 8 * i));
        id[8 + i] = (uint8_t)(b >> (56 - 8 * i));
    }
    id[6] = (uint8_t)((id[6] & 0x0F) | 0x40);
    id[8] = (uint8_t)((id[8] & 0x3F) | 0x80);
}

/* ---- calendar ---- */

static bool leap(uint32_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static uint32_t month_days(uint32_t y, uint32_t m)
{
    static const uint8_t d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, uint32_t m, uint32_t d)
{
    int64_t mm = (int64_t)m, dd = (int64_t)d;
    y -= mm <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (mm + (mm > 2 ? -3 : 9)) + 2) / 5 + dd - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* ---- fixed tables ---- */

static const char *const CENTRAL[] = {
    "Sekretariat Jenderal",
    "Biro Perencanaan",
    "Biro Keuangan",
    "Biro Sumber Daya Manusia",
    "Biro Umum",
    "Biro Hukum",
    "Biro Hubungan Masyarakat",
    "Biro Organisasi dan Tata Laksana",
    "Inspektorat Jenderal",
    "Inspektorat Wilayah I",
    "Inspektorat Wilayah II",
    "Inspektorat Wilayah III",
    "Inspektorat Investigasi",
    "Direktorat Jenderal Pelayanan",
    "Direktorat Jenderal Pembinaan",
    "Direktorat Jenderal Pengembangan",
    "Direktorat Jenderal Pengawasan",
    "Direktorat Perencanaan Program",
    "Direktorat Sistem dan Prosedur",
    "Direktorat Pengembangan Kapasitas",
    "Direktorat Kerja Sama",
    "Direktorat Data dan Evaluasi",
    "Direktorat Penegakan Standar",
    "Direktorat Sarana dan Prasarana",
    "Badan Penelitian dan Pengembangan",
    "Badan Pendidikan dan Pelatihan",
    "Pusat Data dan Informasi",
    "Pusat Pengembangan Kompetensi",
    "Pusat Analisis Kebijakan",
    "Pusat Pembiayaan",
    "Pusat Hubungan Luar Negeri",
    "Pusat Standardisasi",
    "Pusat Sertifikasi",
    "Pusat Kerukunan",
    "Staf Ahli Menteri",
    "Balai Pendidikan dan Pelatihan Nasional",
};

static const char *const PROVINCES[] = {
    "Aceh",
    "Sumatera Utara",
    "Sumatera Barat",
    "Riau",
    "Kepulauan Riau",
    "Jambi",
    "Sumatera Selatan",
    "Kepulauan Bangka Belitung",
    "Bengkulu",
    "Lampung",
    "DKI Jakarta",
    "Banten",
    "Jawa Barat",
    "Jawa Tengah",
    "DI Yogyakarta",
    "Jawa Timur",
    "Bali",
    "Nusa Tenggara Barat",
    "Nusa Tenggara Timur",
    "Kalimantan Barat",
    "Kalimantan Tengah",
    "Kalimantan Selatan",
    "Kalimantan Timur",
    "Kalimantan Utara",
    "Sulawesi Utara",
    "Gorontalo",
    "Sulawesi Tengah",
    "Sulawesi Barat",
    "Sulawesi Selatan",
    "Sulawesi Tenggara",
    "Maluku",
    "Maluku Utara",
    "Papua",
    "Papua Barat",
    "Papua Barat Daya",
    "Papua Tengah",
    "Papua Pegunungan",
    "Papua Selatan",
};

#define N_CENTRAL (sizeof CENTRAL / sizeof CENTRAL[0])
#define N_PROVINCES (sizeof PROVINCES / sizeof PROVINCES[0])
_Static_assert(N_CENTRAL + 3 * N_PROVINCES == JPL_GEN_UNITS, "150 units");

static const char *const TOPICS[] = {
    "Manajemen Risiko",
    "Pengadaan Barang dan Jasa",
    "Analisis Kebijakan",
    "Penyusunan Anggaran",
    "Pengelolaan Keuangan Negara",
    "Kearsipan Digital",
    "Pelayanan Publik",
    "Sistem Pemerintahan Berbasis Elektronik",
    "Data dan Statistik",
    "Keamanan Informasi",
    "Manajemen ASN",
    "Reformasi Birokrasi",
    "Komunikasi Publik",
    "Etika dan Integritas",
    "Pencegahan Korupsi",
    "Tata Naskah Dinas",
    "Audit Kinerja",
    "Evaluasi Program",
    "Perencanaan Strategis",
    "Manajemen Proyek",
    "Bahasa Inggris untuk ASN",
    "Kepemimpinan Digital",
    "Keselamatan dan Kesehatan Kerja",
    "Pengarusutamaan Gender",
    "Hukum Administrasi Negara",
    "Manajemen Aset Negara",
    "Inovasi Pelayanan",
    "Smart ASN",
    "Analisis Jabatan",
    "Moderasi Beragama",
};
#define N_TOPICS (sizeof TOPICS / sizeof TOPICS[0])

static const char *const LEADERSHIP[] = {
    "Pelatihan Kepemimpinan Pengawas",
    "Pelatihan Kepemimpinan Administrator",
    "Pelatihan Dasar Calon PNS",
    "Pelatihan Fungsional Auditor Ahli",
};
static const uint32_t LEADERSHIP_JP[] = {12000, 20000, 16000, 10000};
#define N_LEADERSHIP (sizeof LEADERSHIP / sizeof LEADERSHIP[0])

/* ---- the catalogue ---- */

typedef enum { CAT_ELEARNING, CAT_COURSE, CAT_LEADERSHIP, CAT_SEMINAR, CAT_WORKSHOP } category;

typedef struct {
    char id[32];
    char title[200];
    category cat;
    bool classical;
    bool international;
    uint32_t days;     /* length of the activity */
    uint32_t jp_centi; /* classical: its JP; non-classical: the conversion of its days */
    uint32_t start_doy;
    uint8_t event_id[16];
} activity;

#define N_ELEARNING 24
#define N_COURSE 48
#define N_SEMINAR 30
#define N_WORKSHOP 30
#define N_ACTIVITIES (N_ELEARNING + N_COURSE + N_LEADERSHIP + N_SEMINAR + N_WORKSHOP)

typedef struct {
    activity acts[N_ACTIVITIES];
    uint32_t first[5], count[5]; /* index range of each category */
    uint32_t unit_cum[JPL_GEN_UNITS];
    uint32_t unit_order[JPL_GEN_UNITS]; /* rank -> unit index */
    uint64_t *nips;                     /* open-addressing set of issued NIPs (0 = empty) */
    size_t nips_cap;
    uint32_t year;
    int64_t year_day0; /* days since epoch of Jan 1 */
    uint32_t year_days;
} world;

static void unit_name(uint32_t u, char *out, size_t cap)
{
    if (u < N_CENTRAL) {
        snprintf(out, cap, "%s", CENTRAL[u]);
        return;
    }
    u -= (uint32_t)N_CENTRAL;
    static const char *const KIND[] = {"Kantor Wilayah Provinsi", "Balai Diklat Provinsi",
                                       "Unit Pelaksana Teknis Provinsi"};
    snprintf(out, cap, "%s %s", KIND[u / N_PROVINCES], PROVINCES[u % N_PROVINCES]);
}

static void add_activity(world *w, rng *r, uint32_t *n, category cat, uint32_t k)
{
    activity *a = &w->acts[(*n)++];
    const char *topic = TOPICS[below(r, N_TOPICS)];
    static const char *const CODE[] = {"ELR", "PLT", "PIM", "SEM", "WKS"};
    snprintf(a->id, sizeof a->id, "%s-%u-%03u", CODE[cat], w->year, k + 1);
    a->cat = cat;
    a->classical = cat <= CAT_LEADERSHIP;
    switch (cat) {
    case CAT_ELEARNING:
        a->days = 1;
        a->jp_centi = 100 * between(r, 2, 8);
        snprintf(a->title, sizeof a->title, "E-Learning %s", topic);
        break;
    case CAT_COURSE:
        a->days = between(r, 2, 5);
        a->jp_centi = 800 * a->days;
        snprintf(a->title, sizeof a->title, "Pelatihan %s Angkatan %u", topic, between(r, 1, 6));
        break;
    case CAT_LEADERSHIP:
        a->jp_centi = LEADERSHIP_JP[k];
        a->days = a->jp_centi / 800;
        snprintf(a->title, sizeof a->title, "%s Angkatan %u", LEADERSHIP[k], between(r, 1, 4));
        break;
    case CAT_SEMINAR:
    case CAT_WORKSHOP:
        a->international = chance(r, cat == CAT_SEMINAR ? 200 : 150);
        a->days = cat == CAT_SEMINAR ? between(r, 1, 2) : between(r, 1, 3);
        /* the national default conversion table (DESIGN.md): seminar 4/6, workshop 5/7 JP a day */
        a->jp_centi = a->days * (cat == CAT_SEMINAR ? (a->international ? 600u : 400u)
                                                    : (a->international ? 700u : 500u));
        snprintf(a->title, sizeof a->title, "%s %s %s",
                 cat == CAT_SEMINAR ? "Seminar" : "Lokakarya",
                 a->international ? "Internasional" : "Nasional", topic);
        break;
    }
    /* from March to mid-November, so that everything ends inside the year */
    a->start_doy = between(r, 59, 320 - a->days);
    draw_id(r, a->event_id);
}

static jpl_err world_init(world *w, const jpl_gen_opts *o, jpl_error *e)
{
    memset(w, 0, sizeof *w);
    w->year = o->year;
    w->year_day0 = days_from_civil(o->year, 1, 1);
    w->year_days = leap(o->year) ? 366 : 365;
    rng r;
    rng_seed(&r, o->seed, 1, 0);
    uint32_t n = 0;
    static const uint32_t COUNTS[5] = {N_ELEARNING, N_COURSE, N_LEADERSHIP, N_SEMINAR, N_WORKSHOP};
    for (uint32_t c = 0; c < 5; c++) {
        w->first[c] = n;
        w->count[c] = COUNTS[c];
        for (uint32_t k = 0; k < COUNTS[c]; k++)
            add_activity(w, &r, &n, (category)c, k);
    }
    /* unit sizes: weight 1/rank over a seeded shuffle of the units */
    for (uint32_t i = 0; i < JPL_GEN_UNITS; i++)
        w->unit_order[i] = i;
    for (uint32_t i = JPL_GEN_UNITS - 1; i > 0; i--) {
        uint32_t j = below(&r, i + 1), t = w->unit_order[i];
        w->unit_order[i] = w->unit_order[j];
        w->unit_order[j] = t;
    }
    uint32_t cum = 0;
    for (uint32_t i = 0; i < JPL_GEN_UNITS; i++) {
        cum += 1000000u / (i + 1);
        w->unit_cum[i] = cum;
    }
    size_t cap = 1024;
    while (cap < 2 * o->employees)
        cap *= 2;
    w->nips = calloc(cap, sizeof *w->nips);
    if (w->nips == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory for %zu NIPs", cap);
    w->nips_cap = cap;
    return JPL_OK;
}

static uint32_t draw_unit(const world *w, rng *r)
{
    uint32_t x = below(r, w->unit_cum[JPL_GEN_UNITS - 1]);
    uint32_t lo = 0, hi = JPL_GEN_UNITS - 1;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (w->unit_cum[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return w->unit_order[lo];
}

/* Inserts v; false if it was there. */
static bool nip_insert(world *w, uint64_t v)
{
    size_t mask = w->nips_cap - 1;
    uint64_t h = v;
    size_t i = (size_t)(splitmix64(&h) & mask);
    while (w->nips[i] != 0) {
        if (w->nips[i] == v)
            return false;
        i = (i + 1) & mask;
    }
    w->nips[i] = v;
    return true;
}

/* ---- one employee ---- */

typedef struct {
    const jpl_gen_opts *o;
    uint32_t mask;
    jpl_gen_sink sink;
    void *ctx;
    jpl_gen_stats *st;
    char line[LINE_MAX_LEN];
} emitter;

static bool wanted(const emitter *em, jpl_gen_phase p)
{
    return (em->mask & (1u << p)) != 0;
}

/* Formats one event line of phase p and passes it on, if p was asked for. */
__attribute__((format(printf, 4, 5))) static jpl_err emit(emitter *em, jpl_gen_phase p,
                                                          jpl_error *e, const char *fmt, ...)
{
    if (!wanted(em, p))
        return JPL_OK;
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(em->line, sizeof em->line, fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof em->line)
        return jpl_fail(e, JPL_ERR_INTERNAL, "generated event too long");
    em->st->events++;
    em->st->by_phase[p]++;
    return em->sink(em->ctx, p, em->line, (size_t)len, e);
}

static void uuid_text(char out[37], const uint8_t id[16])
{
    jpl_uuid_format(out, id);
}

/* Milliseconds of day doy (0-based) of the year plus an offset in seconds. */
static uint64_t when(const world *w, uint32_t doy, uint32_t secs)
{
    if (doy >= w->year_days)
        doy = w->year_days - 1;
    return (uint64_t)(w->year_day0 + doy) * DAY_MS + (uint64_t)secs * 1000u;
}

/* Draws a NIP for an employee aged `age` in the year; unique among those drawn so far. */
static jpl_err draw_nip(world *w, rng *r, bool pppk, char nip[JPL_NIP_LEN + 1], jpl_error *e)
{
    uint32_t age = between(r, 19, 58);
    if (age < 23 && !chance(r, 250))
        age += 4; /* few very young officials */
    uint32_t by = w->year - age, bm = between(r, 1, 12), bd = between(r, 1, month_days(by, bm));
    uint32_t first = by + 18, last = w->year - 1;
    uint32_t ay = by + between(r, 21, 32);
    if (pppk && ay < 2019)
        ay = 2019 + below(r, 6); /* PPPK appointments began in 2019 */
    if (ay > last)
        ay = last - below(r, last - first + 1 < 4 ? last - first + 1 : 4);
    if (ay < first)
        ay = first;
    uint32_t am = between(r, 1, 12);
    if (ay == first && am < bm)
        am = bm;
    uint32_t sex = between(r, 1, 2);
    uint32_t seq = chance(r, 900) ? between(r, 1, 9) : between(r, 10, 99);
    for (uint32_t tries = 0; tries < 999; tries++, seq = seq % 999 + 1) {
        uint64_t v = (uint64_t)by * UINT64_C(100000000000000) + (uint64_t)bm * 1000000000000u +
                     (uint64_t)bd * 10000000000u + (uint64_t)ay * 1000000u + (uint64_t)am * 10000u +
                     sex * 1000u + seq;
        if (nip_insert(w, v)) {
            /* v is the NIP's 18 digits as a number (birth year >= 1943, so no leading zero) */
            for (int i = JPL_NIP_LEN - 1; i >= 0; i--, v /= 10)
                nip[i] = (char)('0' + v % 10);
            nip[JPL_NIP_LEN] = '\0';
            return JPL_OK;
        }
    }
    return jpl_fail(e, JPL_ERR_INTERNAL, "no free NIP sequence number");
}

typedef struct {
    uint32_t act;
    bool dropout, withdraw, recognized, wrong;
    uint8_t enr_id[16], cmp_id[16], rec_id[16], wrong_id[16], rev_id[16];
    uint32_t enroll_doy, complete_doy, recog_doy;
} item;

static const char *basis_of(const activity *a, char *buf, size_t cap)
{
    if (a->classical)
        return "classical";
    snprintf(buf, cap, "conversion:%s:%s", a->cat == CAT_SEMINAR ? "seminar" : "workshop",
             a->international ? "international" : "national");
    return buf;
}

static uint32_t draw_activity(const world *w, rng *r, bool leader)
{
    category c;
    if (leader) {
        c = CAT_LEADERSHIP;
    } else {
        uint32_t x = below(r, 100);
        c = x < 35 ? CAT_ELEARNING : x < 65 ? CAT_COURSE : x < 85 ? CAT_SEMINAR : CAT_WORKSHOP;
    }
    return w->first[c] + below(r, w->count[c]);
}

/* A PPPK's contract start (a common TMT: 1 January, 1 March, 1 April or 1 July of one of the
 * three years before the year, not before the appointment month in the NIP), drawn from its own
 * stream so that every other draw of the employee is what it was before contract starts.
 * Writes "YYYY-MM-DD" to out and returns its day of the year (0-based) in the year. */
static uint32_t contract_start(const world *w, uint64_t seed, uint64_t index, const char *nip,
                               char out[11])
{
    static const uint8_t MONTHS[] = {1, 1, 1, 1, 3, 3, 4, 4, 4, 7};
    rng r;
    rng_seed(&r, seed, 3, index);
    uint32_t m = MONTHS[below(&r, sizeof MONTHS)];
    uint32_t y = w->year - 1 - below(&r, 3);
    uint32_t appointed = 0; /* YYYYMM of the NIP */
    for (int i = 8; i < 14; i++)
        appointed = appointed * 10 + (uint32_t)(nip[i] - '0');
    while (y * 100 + m < appointed)
        y++;
    snprintf(out, 11, "%04u-%02u-01", y % 10000, m % 100);
    return (uint32_t)(days_from_civil(w->year, m, 1) - w->year_day0);
}

static jpl_err employee(world *w, emitter *em, uint64_t index, jpl_error *e)
{
    rng r;
    rng_seed(&r, em->o->seed, 2, index);
    bool pppk = chance(&r, 200);
    char nip[JPL_NIP_LEN + 1];
    jpl_err rc = draw_nip(w, &r, pppk, nip, e);
    if (rc != JPL_OK)
        return rc;
    if (em->o->shards > 1 && index % em->o->shards != em->o->shard)
        return JPL_OK;
    jpl_gen_stats *st = em->st;
    char unit[160], id[37], id2[37], basis[64];
    bool exempt = pppk && chance(&r, 5);
    uint32_t u = draw_unit(w, &r);
    unit_name(u, unit, sizeof unit);
    uint8_t reg_id[16];
    draw_id(&r, reg_id);
    st->employees++;
    if (pppk) {
        st->pppk++;
        st->pppk_exempt += exempt;
    } else {
        st->pns++;
    }
    uuid_text(id, reg_id);
    char start[11] = "", contract[48] = "";
    uint32_t anniversary =
        0; /* day of the year from which completions count in its contract year */
    if (pppk) {
        anniversary = contract_start(w, em->o->seed, index, nip, start);
        snprintf(contract, sizeof contract, ",\"contract_start\":\"%s\"", start);
    }
    rc = emit(em, JPL_GEN_EMPLOYEES, e,
              "{\"type\":\"employee_registered\",\"id\":\"%s\",\"nip\":\"%s\","
              "\"issued_at_ms\":%llu,\"kind\":\"%s\",\"unit\":\"%s\"%s%s}",
              id, nip, (unsigned long long)when(w, 1, (uint32_t)(index % 80000)),
              pppk ? "pppk" : "pns", unit, exempt ? ",\"cap_exempt\":true" : "", contract);
    if (rc != JPL_OK)
        return rc;

    /* the year's learning: a JP target, then activities that fit it */
    bool short_pns = !pppk && chance(&r, 120);
    bool over_pppk = pppk && !exempt && chance(&r, 150);
    bool leader = !pppk && chance(&r, 30);
    uint32_t target = short_pns ? between(&r, 4, 18) * 100
                      : pppk    ? (over_pppk ? between(&r, 26, 48) : between(&r, 8, 24)) * 100
                                : between(&r, 20, 60) * 100;
    item items[MAX_ITEMS];
    size_t n = 0;
    uint32_t sum = 0;
    if (leader) {
        items[n++].act = draw_activity(w, &r, true);
        sum += w->acts[items[0].act].jp_centi;
    }
    for (int tries = 0; tries < 16 && n < MAX_ITEMS && sum + 200 <= target; tries++) {
        uint32_t a = draw_activity(w, &r, false);
        uint32_t jp = w->acts[a].jp_centi;
        bool dup = false;
        for (size_t k = 0; k < n; k++)
            dup = dup || items[k].act == a;
        if (dup || sum + jp > target + (short_pns ? 0 : 800) ||
            (short_pns && sum + jp >= FLOOR_CENTI) || (pppk && !over_pppk && sum + jp > CAP_CENTI))
            continue;
        items[n++].act = a;
        sum += jp;
    }
    /* the draws of every item happen whatever the phases asked for */
    uint32_t recognized = 0, in_contract_year = 0;
    for (size_t k = 0; k < n; k++) {
        item *it = &items[k];
        const activity *a = &w->acts[it->act];
        it->dropout = !over_pppk && chance(&r, 70);
        it->withdraw = it->dropout && chance(&r, 500);
        it->recognized = !it->dropout && chance(&r, 970);
        it->wrong = it->recognized && chance(&r, 10);
        it->enroll_doy = a->start_doy - between(&r, 1, 20);
        it->complete_doy = a->start_doy + a->days;
        it->recog_doy = it->complete_doy + between(&r, 2, 30);
        draw_id(&r, it->enr_id);
        draw_id(&r, it->cmp_id);
        draw_id(&r, it->rec_id);
        draw_id(&r, it->wrong_id);
        draw_id(&r, it->rev_id);
        if (it->recognized)
            recognized += a->jp_centi;
        /* when() puts a later day on the last day of the year */
        uint32_t done = it->complete_doy < w->year_days ? it->complete_doy : w->year_days - 1;
        if (it->recognized && done >= anniversary)
            in_contract_year += a->jp_centi;
    }
    if (!pppk && recognized < FLOOR_CENTI)
        st->pns_short++;
    if (pppk && !exempt && in_contract_year > CAP_CENTI)
        st->pppk_over++;
    bool has_plan = n > 0 && chance(&r, 900);
    bool approved = has_plan && chance(&r, 950);
    bool partial = chance(&r, 200);
    uint32_t plan_doy = between(&r, 9, 55), approve_doy = plan_doy + between(&r, 1, 25);
    uint8_t plan_id[16], appr_id[16], move_id[16];
    draw_id(&r, plan_id);
    draw_id(&r, appr_id);
    draw_id(&r, move_id);
    bool moves = chance(&r, 30);
    uint32_t move_doy = between(&r, 182, 350);
    uint32_t new_unit = (u + 1 + below(&r, JPL_GEN_UNITS - 1)) % JPL_GEN_UNITS;
    uint32_t secs = between(&r, 8 * 3600, 16 * 3600);

    if (has_plan) {
        st->plans++;
    }
    if (has_plan && wanted(em, JPL_GEN_PLANS)) {
        char buf[MAX_ITEMS * 64 + 8];
        size_t off = 0;
        for (size_t k = 0; k < n; k++) {
            int m =
                snprintf(buf + off, sizeof buf - off, "%s{\"activity_id\":\"%s\",\"jp_centi\":%u}",
                         k ? "," : "", w->acts[items[k].act].id, w->acts[items[k].act].jp_centi);
            if (m < 0 || (size_t)m >= sizeof buf - off)
                return jpl_fail(e, JPL_ERR_INTERNAL, "plan too long");
            off += (size_t)m;
        }
        uuid_text(id, plan_id);
        rc = emit(em, JPL_GEN_PLANS, e,
                  "{\"type\":\"plan_submitted\",\"id\":\"%s\",\"nip\":\"%s\","
                  "\"issued_at_ms\":%llu,\"year\":%u,\"items\":[%s]}",
                  id, nip, (unsigned long long)when(w, plan_doy, secs), w->year, buf);
        if (rc != JPL_OK)
            return rc;
    }
    if (approved) {
        st->approvals++;
        uint32_t ok_jp = partial ? sum - sum / 4 : sum;
        uuid_text(id, appr_id);
        uuid_text(id2, plan_id);
        rc = emit(em, JPL_GEN_APPROVALS, e,
                  "{\"type\":\"plan_approved\",\"id\":\"%s\",\"nip\":\"%s\","
                  "\"issued_at_ms\":%llu,\"plan_event_id\":\"%s\",\"approved_jp_centi\":%u}",
                  id, nip, (unsigned long long)when(w, approve_doy, secs), id2, ok_jp);
        if (rc != JPL_OK)
            return rc;
    }
    for (size_t k = 0; k < n; k++) {
        item *it = &items[k];
        const activity *a = &w->acts[it->act];
        st->enrollments++;
        uuid_text(id, it->enr_id);
        rc = emit(em, JPL_GEN_LEARNING, e,
                  "{\"type\":\"enrolled\",\"id\":\"%s\",\"nip\":\"%s\",\"issued_at_ms\":%llu,"
                  "\"activity_id\":\"%s\"}",
                  id, nip, (unsigned long long)when(w, it->enroll_doy, secs), a->id);
        if (rc != JPL_OK)
            return rc;
        if (it->dropout) {
            st->dropouts++;
            if (!it->withdraw)
                continue;
            uuid_text(id2, it->rev_id);
            rc = emit(em, JPL_GEN_LEARNING, e,
                      "{\"type\":\"revoked\",\"id\":\"%s\",\"nip\":\"%s\","
                      "\"issued_at_ms\":%llu,\"target_event_id\":\"%s\","
                      "\"reason\":\"peserta mengundurkan diri\"}",
                      id2, nip, (unsigned long long)when(w, a->start_doy, secs), id);
            if (rc != JPL_OK)
                return rc;
            continue;
        }
        st->completions++;
        if (!wanted(em, JPL_GEN_LEARNING))
            continue;
        /* the certificate's digest: SHA-256 of a text naming the activity, NIP and enrollment */
        char cert[160], hex[65];
        uint8_t digest[32];
        int cl = snprintf(cert, sizeof cert, "SERTIFIKAT|%s|%s|%s", a->id, nip, id);
        jpl_sha256(digest, cert, (size_t)cl);
        jpl_hex_encode(hex, digest, 32);
        uint64_t done_ms = when(w, it->complete_doy, 15 * 3600);
        char dur[40] = "";
        if (a->classical)
            snprintf(dur, sizeof dur, ",\"duration_minutes\":%u",
                     a->jp_centi * MINUTES_PER_JP / 100);
        uuid_text(id2, it->cmp_id);
        rc = emit(em, JPL_GEN_LEARNING, e,
                  "{\"type\":\"completed\",\"id\":\"%s\",\"nip\":\"%s\",\"issued_at_ms\":%llu,"
                  "\"enrollment_event_id\":\"%s\",\"jp_centi\":%u,\"evidence_sha256\":\"%s\","
                  "\"completed_at_ms\":%llu%s}",
                  id2, nip, (unsigned long long)(done_ms + 3600000u), id, a->jp_centi, hex,
                  (unsigned long long)done_ms, dur);
        if (rc != JPL_OK)
            return rc;
    }
    for (size_t k = 0; k < n; k++) {
        item *it = &items[k];
        const activity *a = &w->acts[it->act];
        if (!it->recognized)
            continue;
        char cmp[37];
        uuid_text(cmp, it->cmp_id);
        uint32_t doy = it->recog_doy;
        if (it->wrong) {
            st->wrong_recognitions++;
            uuid_text(id, it->wrong_id);
            rc = emit(em, JPL_GEN_RECOGNITIONS, e,
                      "{\"type\":\"recognized\",\"id\":\"%s\",\"nip\":\"%s\","
                      "\"issued_at_ms\":%llu,\"completion_event_id\":\"%s\","
                      "\"jp_centi\":%u,\"basis\":\"%s\"}",
                      id, nip, (unsigned long long)when(w, doy, secs), cmp, a->jp_centi,
                      a->classical ? "conversion:seminar:national" : "classical");
            if (rc != JPL_OK)
                return rc;
            uuid_text(id2, it->rev_id);
            rc = emit(em, JPL_GEN_RECOGNITIONS, e,
                      "{\"type\":\"revoked\",\"id\":\"%s\",\"nip\":\"%s\","
                      "\"issued_at_ms\":%llu,\"target_event_id\":\"%s\","
                      "\"reason\":\"dasar pengakuan salah; diakui ulang\"}",
                      id2, nip, (unsigned long long)when(w, doy + 7, secs), id);
            if (rc != JPL_OK)
                return rc;
            doy += 8;
        }
        st->recognitions++;
        uuid_text(id, it->rec_id);
        rc = emit(em, JPL_GEN_RECOGNITIONS, e,
                  "{\"type\":\"recognized\",\"id\":\"%s\",\"nip\":\"%s\",\"issued_at_ms\":%llu,"
                  "\"completion_event_id\":\"%s\",\"jp_centi\":%u,\"basis\":\"%s\"}",
                  id, nip, (unsigned long long)when(w, doy, secs), cmp, a->jp_centi,
                  basis_of(a, basis, sizeof basis));
        if (rc != JPL_OK)
            return rc;
    }
    if (moves) {
        st->transfers++;
        unit_name(new_unit, unit, sizeof unit);
        uuid_text(id, move_id);
        rc = emit(em, JPL_GEN_TRANSFERS, e,
                  "{\"type\":\"employee_updated\",\"id\":\"%s\",\"nip\":\"%s\","
                  "\"issued_at_ms\":%llu,\"unit\":\"%s\"}",
                  id, nip, (unsigned long long)when(w, move_doy, secs), unit);
    }
    return rc;
}

static jpl_err catalogue(world *w, emitter *em, jpl_error *e)
{
    for (uint32_t i = 0; i < N_ACTIVITIES; i++) {
        if (em->o->shards > 1 && i % em->o->shards != em->o->shard)
            continue;
        const activity *a = &w->acts[i];
        char id[37], body[128];
        uuid_text(id, a->event_id);
        if (a->classical)
            snprintf(body, sizeof body, "\"mode\":\"classical\",\"jp_centi\":%u", a->jp_centi);
        else
            snprintf(body, sizeof body,
                     "\"mode\":\"non_classical\",\"form\":\"%s\",\"days\":%u,\"international\":%s",
                     a->cat == CAT_SEMINAR ? "seminar" : "workshop", a->days,
                     a->international ? "true" : "false");
        em->st->activities++;
        jpl_err rc = emit(em, JPL_GEN_ACTIVITIES, e,
                          "{\"type\":\"activity_defined\",\"id\":\"%s\",\"issued_at_ms\":%llu,"
                          "\"activity_id\":\"%s\",\"title\":\"%s\",%s}",
                          id, (unsigned long long)when(w, 2, i), a->id, a->title, body);
        if (rc != JPL_OK)
            return rc;
    }
    return JPL_OK;
}

uint32_t jpl_gen_max_year(void)
{
    return jpl_time_yyyymm(jpl_now_ms()) / 100;
}

jpl_err jpl_gen_run(const jpl_gen_opts *o, uint32_t phase_mask, jpl_gen_sink sink, void *ctx,
                    jpl_gen_stats *stats_out, jpl_error *e)
{
    if (o->employees == 0 || o->employees > JPL_GEN_MAX_EMPLOYEES)
        return jpl_fail(e, JPL_ERR_USAGE, "employees must be 1..%u", JPL_GEN_MAX_EMPLOYEES);
    if (o->year < 2001 || o->year > 2100)
        return jpl_fail(e, JPL_ERR_USAGE, "year must be 2001..2100");
    if (o->shards > 1 && o->shard >= o->shards)
        return jpl_fail(e, JPL_ERR_USAGE, "shard %u of %u does not exist", o->shard, o->shards);
    world *w = malloc(sizeof *w);
    emitter *em = malloc(sizeof *em);
    jpl_gen_stats st;
    memset(&st, 0, sizeof st);
    jpl_err rc = w && em ? world_init(w, o, e) : jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    if (rc == JPL_OK) {
        em->o = o;
        em->mask = phase_mask;
        em->sink = sink;
        em->ctx = ctx;
        em->st = &st;
        if (phase_mask & (1u << JPL_GEN_ACTIVITIES))
            rc = catalogue(w, em, e);
        for (uint64_t i = 0; rc == JPL_OK && i < o->employees; i++)
            rc = employee(w, em, i, e);
    }
    if (w)
        free(w->nips);
    free(w);
    free(em);
    if (rc == JPL_OK && stats_out)
        *stats_out = st;
    return rc;
}

static const char *const PHASE_NAMES[JPL_GEN_PHASES] = {
    "employees", "activities", "plans", "approvals", "learning", "recognitions", "transfers"};
static const char *const PHASE_ROLES[JPL_GEN_PHASES] = {"hr",  "lms",      "hr", "supervisor",
                                                        "lms", "verifier", "hr"};

const char *jpl_gen_phase_name(jpl_gen_phase p)
{
    return (unsigned)p < JPL_GEN_PHASES ? PHASE_NAMES[p] : NULL;
}

const char *jpl_gen_phase_role(jpl_gen_phase p)
{
    return (unsigned)p < JPL_GEN_PHASES ? PHASE_ROLES[p] : NULL;
}

jpl_gen_phase jpl_gen_phase_from_name(const char *name)
{
    for (int p = 0; p < JPL_GEN_PHASES; p++)
        if (name && strcmp(name, PHASE_NAMES[p]) == 0)
            return (jpl_gen_phase)p;
    return JPL_GEN_PHASES;
}
