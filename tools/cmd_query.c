/*
 * Projection commands of the CLI: balance, trail, report (read-only queries) and replay
 * (rebuild the projections from seq 0). The query logic lives in the projections library
 * (jpl/projections.h) so the API server answers the same figures; this file only parses options
 * and prints. Amounts print as JP with two decimals in text and as centi-JP integers in --json.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "jpl/client.h"
#include "serve_ext.h"
#include "jpl/codec.h"
#include "jpl/event_json.h"
#include "jpl/keyfile.h"
#include "jpl/ledger.h"
#include "jpl/note.h"
#include "jpl/projections.h"

enum { OPT_DATA = 1000, OPT_JSON, OPT_YEAR, OPT_UNIT, OPT_PROJECTION, OPT_CHECK, OPT_PROOFS };

static int open_ledger(const char *cmd, const char *dir, bool writable, jpl_ledger **out)
{
    jpl_error e = {0};
    jpl_err rc = jpl_ledger_open(dir, writable, out, &e);
    if (rc != JPL_OK)
        return cli_fail(cmd, rc, "%s", e.msg);
    return JPL_OK;
}

static void jp_text(char *out, size_t cap, uint64_t centi)
{
    snprintf(out, cap, "%llu.%02llu", (unsigned long long)(centi / 100),
             (unsigned long long)(centi % 100));
}

/* Parses --year: a number (else usage error); the range is the library's to check. */
static bool parse_year(const char *s, uint32_t *out)
{
    uint64_t y = 0;
    if (!cli_parse_u64(s, &y) || y > UINT32_MAX)
        return false;
    *out = (uint32_t)y;
    return true;
}

typedef struct {
    const char *data;
    const char *unit;
    const char *projection;
    const char *nip;
    uint32_t year;
    bool has_year, json, check, proofs;
    cli_remote remote;
} query_opts;

static bool known_projection(const char *name)
{
    for (int i = 0; i < JPL_PROJ_COUNT; i++)
        if (strcmp(jpl_projection_names[i], name) == 0)
            return true;
    return false;
}

static int parse(const char *cmd, int argc, char **argv, query_opts *q, bool want_nip)
{
    static const struct option opts[] = {{"data", required_argument, 0, OPT_DATA},
                                         {"json", no_argument, 0, OPT_JSON},
                                         {"year", required_argument, 0, OPT_YEAR},
                                         {"unit", required_argument, 0, OPT_UNIT},
                                         {"projection", required_argument, 0, OPT_PROJECTION},
                                         {"check", no_argument, 0, OPT_CHECK},
                                         CLI_REMOTE_OPTS,
                                         {"proofs", no_argument, 0, OPT_PROOFS},
                                         {0, 0, 0, 0}};
    memset(q, 0, sizeof *q);
    int c;
    opterr = 0;
    optind = 1;
    /* options may follow the NIP: permute, but stop at "--" */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (cli_remote_opt(c, &q->remote))
            continue;
        switch (c) {
        case OPT_DATA:
            q->data = optarg;
            break;
        case OPT_JSON:
            q->json = true;
            break;
        case OPT_YEAR:
            if (!parse_year(optarg, &q->year))
                return cli_usage_error(cmd, "--year takes a year such as 2025");
            q->has_year = true;
            break;
        case OPT_UNIT:
            if (optarg[0] == '\0') /* would read as "every unit" */
                return cli_usage_error(cmd, "--unit takes a unit name (leave it out for all)");
            q->unit = optarg;
            break;
        case OPT_PROJECTION:
            if (!known_projection(optarg))
                return cli_fail(cmd, JPL_ERR_USAGE,
                                "no projection called '%s' (balances, units, trail)", optarg);
            q->projection = optarg;
            break;
        case OPT_CHECK:
            q->check = true;
            break;
        case OPT_PROOFS:
            q->proofs = true;
            break;
        default:
            return cli_bad_option(cmd, argv);
        }
    }
    if (want_nip) {
        if (argc - optind != 1)
            return cli_usage_error(cmd, "give exactly one NIP");
        q->nip = argv[optind];
    } else if (optind < argc) {
        return cli_usage_error(cmd, "unexpected argument");
    }
    return JPL_OK;
}

/* The JSON rows of a query, from DIR or (--url) from a server: the same objects either way. */
static int fetch_rows(const char *cmd, const query_opts *q, const char *kind, json_t **rows_out)
{
    char **texts = NULL;
    size_t n = 0;
    jpl_error e = {0};
    jpl_err rc = JPL_OK;
    Jpl__Response *resp = NULL;
    if (q->remote.url) {
        jpl_client *c = NULL;
        int ret = cli_connect(cmd, &q->remote, &c);
        if (ret != JPL_OK)
            return ret;
        Jpl__QueryRequest qr = JPL__QUERY_REQUEST__INIT;
        qr.kind = (char *)kind;
        qr.nip = (char *)q->nip;
        qr.has_year = q->has_year;
        qr.year = q->year;
        qr.unit = (char *)q->unit;
        qr.has_with_proofs = q->proofs;
        qr.with_proofs = q->proofs;
        Jpl__Request req = JPL__REQUEST__INIT;
        req.op_case = JPL__REQUEST__OP_QUERY;
        req.query = &qr;
        rc = jpl_client_call(c, &req, &resp, &e);
        jpl_client_close(c);
        if (rc == JPL_OK && resp->result_case == JPL__RESPONSE__RESULT_QUERY) {
            texts = resp->query->json;
            n = resp->query->n_json;
        }
    } else {
        jpl_ledger *l = NULL;
        int ret = open_ledger(cmd, cli_data_dir(q->data), false, &l);
        if (ret != JPL_OK)
            return ret;
        rc = serve_ext_query(NULL, l, kind, q->nip, q->has_year ? q->year : 0, q->unit, q->proofs,
                             &texts, &n, NULL, &e);
        jpl_ledger_close(l);
    }
    json_t *rows = json_array();
    for (size_t i = 0; rc == JPL_OK && i < n; i++) {
        json_error_t je;
        json_t *o = json_loads(texts[i], 0, &je);
        if (o == NULL)
            rc = jpl_fail(&e, JPL_ERR_BAD_INPUT, "a result row is not JSON: %s", je.text);
        else
            json_array_append_new(rows, o);
    }
    if (!q->remote.url) {
        for (size_t i = 0; i < n; i++)
            free(texts[i]);
        free(texts);
    }
    jpl_codec_response_free(resp);
    if (rc != JPL_OK) {
        json_decref(rows);
        return cli_fail(cmd, rc, "%s", e.msg);
    }
    *rows_out = rows;
    return JPL_OK;
}

static const char *str_of(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static uint64_t int_of(json_t *o, const char *k)
{
    return (uint64_t)json_integer_value(json_object_get(o, k));
}

/* ---- balance ---- */

static void print_balance(json_t *b)
{
    char pl[32], ap[32], en[32], co[32], re[32], cn[32], x[32], th[32];
    jp_text(pl, sizeof pl, int_of(b, "planned_jp_centi"));
    jp_text(ap, sizeof ap, int_of(b, "approved_jp_centi"));
    jp_text(en, sizeof en, int_of(b, "enrolled_jp_centi"));
    jp_text(co, sizeof co, int_of(b, "completed_jp_centi"));
    jp_text(re, sizeof re, int_of(b, "recognized_jp_centi"));
    jp_text(cn, sizeof cn, int_of(b, "counted_jp_centi"));
    bool pppk = strcmp(str_of(b, "kind"), "pppk") == 0 || strcmp(str_of(b, "kind"), "PPPK") == 0;
    bool exempt = json_is_true(json_object_get(b, "cap_exempt"));
    const char *from = str_of(b, "contract_year_from");
    printf("%s %llu %s%s, %s%s%s%s\n", str_of(b, "nip"), (unsigned long long)int_of(b, "year"),
           pppk ? "PPPK" : "PNS", pppk && exempt ? " (cap-exempt)" : "", str_of(b, "unit"),
           from[0] ? " (contract year from " : "", from, from[0] ? ")" : "");
    printf("  planned %s  approved %s  enrolled %s  completed %s  recognized %s  counted %s JP\n",
           pl, ap, en, co, re, cn);
    jp_text(th, sizeof th, int_of(b, pppk ? "cap_jp_centi" : "floor_jp_centi"));
    char pol[32];
    if (int_of(b, "policy_year"))
        snprintf(pol, sizeof pol, "policy of %llu", (unsigned long long)int_of(b, "policy_year"));
    else
        snprintf(pol, sizeof pol, "national default");
    const char *st = str_of(b, "status");
    if (strcmp(st, "short") == 0) {
        jp_text(x, sizeof x, int_of(b, "shortfall_jp_centi"));
        printf("  status: short by %s JP (floor %s JP, %s)\n", x, th, pol);
    } else if (strcmp(st, "over") == 0) {
        jp_text(x, sizeof x, int_of(b, "excess_jp_centi"));
        printf("  status: over the cap by %s JP (cap %s JP, %s; counted stops at the cap)\n", x, th,
               pol);
    } else if (strcmp(st, "within") == 0) {
        if (exempt)
            printf("  status: within (cap does not apply to this post)\n");
        else
            printf("  status: within (cap %s JP, %s)\n", th, pol);
    } else {
        printf("  status: met (floor %s JP, %s)\n", th, pol);
    }
}

/* Prints rows as JSON lines or with the text printer; frees them. */
static void print_rows(json_t *rows, bool json, void (*text)(json_t *))
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        if (json) {
            json_incref(r);
            cli_print_json(r);
        } else {
            text(r);
        }
    }
    json_decref(rows);
}

int cmd_balance(int argc, char **argv);
int cmd_balance(int argc, char **argv)
{
    query_opts q;
    int ret = parse("balance", argc, argv, &q, true);
    if (ret != JPL_OK)
        return ret;
    if (q.has_year && q.year == 0)
        return cli_fail("balance", JPL_ERR_BAD_INPUT, "year 0 is outside 2000..2100");
    if (q.unit || q.projection || q.check || q.proofs)
        return cli_usage_error("balance", "balance takes NIP, --year, --data/--url and --json");
    json_t *rows = NULL;
    if ((ret = fetch_rows("balance", &q, "balance", &rows)) != JPL_OK)
        return ret;
    print_rows(rows, q.json, print_balance);
    return JPL_OK;
}

/* ---- trail ---- */

/* UTC milliseconds as "YYYY-MM-DDTHH:MM:SSZ" (the JSON keeps the milliseconds). */
static const char *utc_text(json_int_t ms, char buf[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, 32, "%lld ms", (long long)ms);
    return buf;
}

static void print_trail_row(json_t *r)
{
    char issued[32], recorded[32];
    printf("%6lld %-19s %s (%s) issued %s recorded %s leaf %s",
           (long long)json_integer_value(json_object_get(r, "seq")),
           json_string_value(json_object_get(r, "type")),
           json_string_value(json_object_get(r, "key")),
           json_string_value(json_object_get(r, "role")),
           utc_text(json_integer_value(json_object_get(r, "issued_at_ms")), issued),
           utc_text(json_integer_value(json_object_get(r, "recorded_at_ms")), recorded),
           json_string_value(json_object_get(r, "leaf_hash")));
    json_t *t = json_object_get(r, "revokes");
    if (t != NULL)
        printf(" revokes seq %lld (%s %s)",
               (long long)json_integer_value(json_object_get(t, "seq")),
               json_string_value(json_object_get(t, "type")),
               json_string_value(json_object_get(t, "event_id")));
    json_t *by = json_object_get(r, "revoked_by");
    if (by != NULL)
        printf(" [revoked by seq %lld]", (long long)json_integer_value(by));
    printf("\n");
}

int cmd_trail(int argc, char **argv);
int cmd_trail(int argc, char **argv)
{
    query_opts q;
    int ret = parse("trail", argc, argv, &q, true);
    if (ret != JPL_OK)
        return ret;
    if (q.has_year || q.unit || q.projection || q.check)
        return cli_usage_error("trail", "trail takes NIP, --proofs, --data/--url and --json");
    json_t *rows = NULL;
    if ((ret = fetch_rows("trail", &q, "trail", &rows)) != JPL_OK)
        return ret;
    print_rows(rows, q.json, print_trail_row);
    return JPL_OK;
}

/* ---- report ---- */

static void print_unit_row(json_t *r)
{
    char rec[32], mean[32];
    jp_text(rec, sizeof rec, int_of(r, "recognized_jp_centi"));
    jp_text(mean, sizeof mean, int_of(r, "mean_recognized_jp_centi"));
    uint64_t pm = int_of(r, "pns_met_permille");
    printf("%s (%llu)\n", str_of(r, "unit"), (unsigned long long)int_of(r, "year"));
    printf("  headcount: %llu PNS, %llu PPPK (%llu moved units during the year)\n",
           (unsigned long long)int_of(r, "headcount_pns"),
           (unsigned long long)int_of(r, "headcount_pppk"),
           (unsigned long long)int_of(r, "movers"));
    printf("  PNS meeting the floor: %llu of %llu (%llu.%llu%%)\n",
           (unsigned long long)int_of(r, "pns_met"), (unsigned long long)int_of(r, "headcount_pns"),
           (unsigned long long)(pm / 10), (unsigned long long)(pm % 10));
    printf("  PPPK at or over the cap: %llu (cap-exempt: %llu)\n",
           (unsigned long long)int_of(r, "pppk_at_cap"),
           (unsigned long long)int_of(r, "pppk_exempt"));
    printf("  recognized: %s JP in total, %s JP mean per employee\n", rec, mean);
}

int cmd_report(int argc, char **argv);
int cmd_report(int argc, char **argv)
{
    query_opts q;
    int ret = parse("report", argc, argv, &q, false);
    if (ret != JPL_OK)
        return ret;
    if (!q.has_year)
        return cli_usage_error("report", "--year Y is required");
    if (q.projection || q.check || q.proofs)
        return cli_usage_error("report", "report takes --unit, --year, --data/--url and --json");
    json_t *rows = NULL;
    if ((ret = fetch_rows("report", &q, "report", &rows)) != JPL_OK)
        return ret;
    if (json_array_size(rows) == 0 && !q.json)
        printf("nobody in any unit in %u\n", q.year);
    print_rows(rows, q.json, print_unit_row);
    return JPL_OK;
}

/* ---- replay ---- */

static void progress(void *ctx, uint64_t done, uint64_t total, double seconds)
{
    (void)ctx;
    double rate = seconds > 0 ? (double)done / seconds : 0;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    fprintf(stderr, "\rreplay: %llu/%llu entries, %.0f entries/s, ETA %.0f s   ",
            (unsigned long long)done, (unsigned long long)total, rate, eta);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

/* replay --url: the server pauses its writer, replays, and answers the digests. */
static int remote_replay(const query_opts *q)
{
    jpl_client *c = NULL;
    int ret = cli_connect("replay", &q->remote, &c);
    if (ret != JPL_OK)
        return ret;
    Jpl__AdminRequest ar = JPL__ADMIN_REQUEST__INIT;
    ar.action = q->check ? "replay-check" : "replay";
    ar.projection = (char *)q->projection;
    Jpl__Request req = JPL__REQUEST__INIT;
    req.op_case = JPL__REQUEST__OP_ADMIN;
    req.admin = &ar;
    Jpl__Response *resp = NULL;
    jpl_error e = {0};
    jpl_err rc = jpl_client_call(c, &req, &resp, &e);
    jpl_client_close(c);
    int mismatches = 0;
    if (rc == JPL_OK && resp->result_case == JPL__RESPONSE__RESULT_ADMIN) {
        for (size_t i = 0; i < resp->admin->n_json; i++) {
            json_t *o = json_loads(resp->admin->json[i], 0, NULL);
            if (o == NULL)
                continue;
            if (!json_is_true(json_object_get(o, "match")))
                mismatches++;
            if (q->json) {
                cli_print_json(o);
                continue;
            }
            printf("%-9s %llu entries  digest %s\n          live      digest %s  %s\n",
                   str_of(o, "projection"), (unsigned long long)int_of(o, "applied"),
                   str_of(o, "digest"), str_of(o, "live_digest"),
                   json_is_true(json_object_get(o, "match")) ? "(identical)" : "(DIFFERENT)");
            json_decref(o);
        }
    }
    jpl_codec_response_free(resp);
    if (rc != JPL_OK)
        return cli_fail("replay", rc, "%s", e.msg);
    if (q->check && mismatches > 0)
        return cli_fail("replay", JPL_ERR_CORRUPT,
                        "%d projection(s) differ from a replay of the log", mismatches);
    return JPL_OK;
}

int cmd_replay(int argc, char **argv);
int cmd_replay(int argc, char **argv)
{
    query_opts q;
    int ret = parse("replay", argc, argv, &q, false);
    if (ret != JPL_OK)
        return ret;
    if (q.has_year || q.unit || q.proofs)
        return cli_usage_error("replay",
                               "replay takes --projection, --check, --data/--url, --json");
    if (q.remote.url)
        return remote_replay(&q);
    jpl_ledger *l = NULL;
    if ((ret = open_ledger("replay", cli_data_dir(q.data), true, &l)) != JPL_OK)
        return ret;
    jpl_error e = {0};
    /* bring the live state up to the log first, so that live and replay cover the same entries;
     * a live state too damaged to catch up is exactly what replay is for: go on */
    jpl_err rc = jpl_projections_sync(l, &e);
    if (rc != JPL_OK) {
        fprintf(stderr,
                "jpledger replay: the live projections could not catch up with the log "
                "(%s); rebuilding them\n",
                e.msg);
        rc = JPL_OK;
    }
    jpl_replay_result res[JPL_PROJ_COUNT];
    size_t n = 0;
    jpl_replay_opts o = {.only = q.projection,
                         .check = q.check,
                         .progress = isatty(STDERR_FILENO) ? progress : NULL};
    if (rc == JPL_OK)
        rc = jpl_projections_replay(l, &o, res, &n, &e);
    jpl_ledger_close(l);
    if (rc != JPL_OK)
        return cli_fail("replay", rc, "%s", e.msg);
    int mismatches = 0;
    for (size_t i = 0; i < n; i++) {
        char d[65], ld[65];
        jpl_hex_encode(d, res[i].digest, 32);
        jpl_hex_encode(ld, res[i].live_digest, 32);
        if (res[i].had_live && !res[i].match)
            mismatches++;
        if (q.json) {
            json_t *j = json_object();
            json_object_set_new(j, "projection", json_string(res[i].name));
            json_object_set_new(j, "applied", json_integer((json_int_t)res[i].applied));
            json_object_set_new(j, "digest", json_string(d));
            if (res[i].had_live) {
                json_object_set_new(j, "live_digest", json_string(ld));
                json_object_set_new(j, "live_applied",
                                    json_integer((json_int_t)res[i].live_applied));
            }
            json_object_set_new(j, "match", json_boolean(res[i].match));
            json_object_set_new(j, "switched", json_boolean(!q.check));
            json_object_set_new(j, "generation", json_integer((json_int_t)res[i].generation));
            cli_print_json(j);
        } else {
            printf("%-9s %llu entries  digest %s\n", res[i].name,
                   (unsigned long long)res[i].applied, d);
            if (res[i].had_live)
                printf("          live      digest %s  %s\n", ld,
                       res[i].match ? "(identical)" : "(DIFFERENT)");
            printf("          %s generation %llu\n", q.check ? "built and dropped" : "now live:",
                   (unsigned long long)res[i].generation);
        }
    }
    if (q.check && mismatches > 0)
        return cli_fail("replay", JPL_ERR_CORRUPT,
                        "%d projection(s) differ from a replay of the log; run 'jpledger replay' "
                        "to rebuild them",
                        mismatches);
    if (!q.check && mismatches > 0)
        fprintf(stderr,
                "jpledger replay: note: %d live projection(s) differed from the log and were "
                "replaced\n",
                mismatches);
    return JPL_OK;
}

/* ---- bench replay ---- */

#define BENCH_REPEATS 3

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_rate(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    jpl_ledger *l;
    jpl_bytes envs[1000];
    size_t n;
    jpl_err rc;
    jpl_error e;
} bench_batch;

static void bench_flush(bench_batch *b)
{
    if (b->n == 0)
        return;
    jpl_append_result *res = calloc(b->n, sizeof *res);
    if (b->rc == JPL_OK)
        b->rc = res ? jpl_ledger_append(b->l, b->envs, b->n, res, &b->e) : JPL_ERR_INTERNAL;
    free(res);
    for (size_t i = 0; i < b->n; i++)
        free((void *)b->envs[i].data);
    b->n = 0;
}

static void bench_add(bench_batch *b, const jpl_note_signer *k, const char *json)
{
    Jpl__Event *ev = NULL;
    uint8_t *env = NULL;
    size_t len = 0;
    if (b->rc != JPL_OK)
        return;
    b->rc = jpl_event_from_json_text(json, strlen(json), jpl_now_ms(), &ev, &b->e);
    if (b->rc == JPL_OK)
        b->rc = jpl_event_seal(ev, k->pk, k->sk, &env, &len, &b->e);
    jpl_event_free(ev);
    if (b->rc != JPL_OK)
        return;
    b->envs[b->n++] = (jpl_bytes){env, len};
    if (b->n == sizeof b->envs / sizeof b->envs[0])
        bench_flush(b);
}

static void bench_register(bench_batch *b, const jpl_note_signer *admin, const jpl_note_signer *k,
                           const char *role)
{
    char json[512], b64[64];
    if (!jpl_base64_encode(b64, sizeof b64, k->pk, 32)) {
        b->rc = JPL_ERR_INTERNAL;
        return;
    }
    snprintf(json, sizeof json,
             "{\"type\":\"key_registered\",\"public_key\":\"%s\",\"name\":\"%s\",\"role\":\"%s\"}",
             b64, k->name, role);
    bench_add(b, admin, json);
}

/* A ministry-like history: per employee registration, plan, approval, two enrollments,
 * completions and recognitions, one transfer (10 events), over 2025 and 2026. */
/* Append rates of the first half (no projections) and the second half (projections attached:
 * the writer updates them in every group's batch). */
typedef struct {
    double plain_per_s, attached_per_s;
} fill_rates;

static jpl_err bench_fill(jpl_ledger *l, const jpl_note_signer *admin, uint64_t events,
                          fill_rates *rates, jpl_error *e)
{
    jpl_note_signer hr, sup, lms, ver;
    bench_batch *b = calloc(1, sizeof *b);
    if (b == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    b->l = l;
    b->rc = jpl_note_keygen("bench.hr", &hr, &b->e);
    if (b->rc == JPL_OK)
        b->rc = jpl_note_keygen("bench.supervisor", &sup, &b->e);
    if (b->rc == JPL_OK)
        b->rc = jpl_note_keygen("bench.lms", &lms, &b->e);
    if (b->rc == JPL_OK)
        b->rc = jpl_note_keygen("bench.verifier", &ver, &b->e);
    bench_register(b, admin, &hr, "hr");
    bench_register(b, admin, &sup, "supervisor");
    bench_register(b, admin, &lms, "lms");
    bench_register(b, admin, &ver, "verifier");
    static const char *const units[] = {"Biro Umum", "Biro SDM", "Inspektorat", "Pusdatin",
                                        "Ditjen A",  "Ditjen B", "Pusdiklat",   "Biro Hukum"};
    char json[1024];
    for (int a = 0; a < 20; a++) {
        snprintf(json, sizeof json,
                 "{\"type\":\"activity_defined\",\"activity_id\":\"ACT-%d\",\"title\":\"Pelatihan "
                 "%d\",\"mode\":\"classical\",\"jp_centi\":%d}",
                 a, a, 400 + 100 * a);
        bench_add(b, &lms, json);
    }
    uint64_t employees = events / 10;
    jpl_projections *proj = NULL;
    bench_flush(b);
    uint64_t n0 = jpl_ledger_size(l), n1 = 0;
    double t0 = bench_now(), t1 = 0;
    for (uint64_t i = 0; i < employees && b->rc == JPL_OK; i++) {
        if (i == employees / 2) {
            bench_flush(b);
            t1 = bench_now();
            n1 = jpl_ledger_size(l);
            if (b->rc == JPL_OK)
                b->rc = jpl_projections_attach(l, NULL, NULL, &proj, &b->e);
            t1 = bench_now(); /* the catch-up of the first half is not an append */
        }
        char nip[19], id[5][37];
        uint8_t raw[16];
        /* distinct valid NIPs: birth day 1..28 x sequence 1..999 x sex digit */
        snprintf(nip, sizeof nip, "198001%02llu2005011%03llu",
                 (unsigned long long)(i / 999 % 28 + 1), (unsigned long long)(i % 999 + 1));
        if (i >= 999 * 28)
            nip[14] = '2';
        unsigned long long t = 1735700000000ULL + (i % 600) * 86400000ULL;
        snprintf(json, sizeof json,
                 "{\"type\":\"employee_registered\",\"nip\":\"%s\",\"kind\":\"%s\",\"unit\":\"%s\","
                 "\"issued_at_ms\":%llu}",
                 nip, i % 4 == 0 ? "pppk" : "pns", units[i % 8], t);
        bench_add(b, &hr, json);
        for (int k = 0; k < 5; k++) {
            jpl_uuid_v4(raw);
            jpl_uuid_format(id[k], raw);
        }
        snprintf(json, sizeof json,
                 "{\"type\":\"plan_submitted\",\"id\":\"%s\",\"nip\":\"%s\",\"year\":2025,"
                 "\"items\":[{\"activity_id\":\"ACT-1\",\"jp_centi\":1200},{\"activity_id\":"
                 "\"ACT-2\",\"jp_centi\":1200}],\"issued_at_ms\":%llu}",
                 id[0], nip, t);
        bench_add(b, &hr, json);
        snprintf(json, sizeof json,
                 "{\"type\":\"plan_approved\",\"plan_event_id\":\"%s\",\"issued_at_ms\":%llu}",
                 id[0], t);
        bench_add(b, &sup, json);
        for (int k = 0; k < 2; k++) {
            int act = (int)((i + (uint64_t)k * 7) % 20);
            snprintf(
                json, sizeof json,
                "{\"type\":\"enrolled\",\"id\":\"%s\",\"nip\":\"%s\",\"activity_id\":\"ACT-%d\","
                "\"issued_at_ms\":%llu}",
                id[1 + k], nip, act, t);
            bench_add(b, &lms, json);
            snprintf(json, sizeof json,
                     "{\"type\":\"completed\",\"id\":\"%s\",\"nip\":\"%s\",\"enrollment_event_id\":"
                     "\"%s\",\"jp_centi\":%d,\"evidence_sha256\":\"e3b0c44298fc1c149afbf4c8996fb924"
                     "27ae41e4649b934ca495991b7852b855\",\"completed_at_ms\":%llu}",
                     id[3 + k], nip, id[1 + k], 400 + 100 * act, t + 86400000ULL);
            bench_add(b, &lms, json);
            snprintf(json, sizeof json,
                     "{\"type\":\"recognized\",\"nip\":\"%s\",\"completion_event_id\":\"%s\","
                     "\"jp_centi\":%d,\"basis\":\"classical\"}",
                     nip, id[3 + k], 400 + 100 * act);
            bench_add(b, &ver, json);
        }
        snprintf(
            json, sizeof json,
            "{\"type\":\"employee_updated\",\"nip\":\"%s\",\"unit\":\"%s\",\"issued_at_ms\":%llu}",
            nip, units[(i + 3) % 8], t + 2 * 86400000ULL);
        bench_add(b, &hr, json);
    }
    bench_flush(b);
    double t2 = bench_now();
    uint64_t n2 = jpl_ledger_size(l);
    jpl_ledger_set_hooks(l, NULL, NULL, NULL);
    jpl_projections_free(proj);
    rates->plain_per_s = t1 > t0 ? (double)(n1 - n0) / (t1 - t0) : 0;
    rates->attached_per_s = t2 > t1 ? (double)(n2 - n1) / (t2 - t1) : 0;
    jpl_err rc = b->rc;
    if (rc != JPL_OK)
        jpl_fail(e, rc, "%s", b->e.msg);
    jpl_note_signer_wipe(&hr);
    jpl_note_signer_wipe(&sup);
    jpl_note_signer_wipe(&lms);
    jpl_note_signer_wipe(&ver);
    free(b);
    return rc;
}

static double bench_scan(jpl_ledger *l)
{
    double t0 = bench_now();
    uint64_t n = 0, bytes = 0;
    jpl_iter *it = jpl_store_iter(jpl_ledger_store(l), JPL_CF_LOG, NULL, 0);
    for (; jpl_iter_valid(it); jpl_iter_next(it)) {
        size_t len = 0;
        jpl_iter_value(it, &len);
        bytes += len;
        n++;
    }
    jpl_iter_free(it);
    return (double)n / (bench_now() - t0);
}

/* Scan plus protobuf decoding of every entry and event: the least any replay must do. */
static double bench_scan_decode(jpl_ledger *l)
{
    double t0 = bench_now();
    uint64_t n = 0;
    jpl_iter *it = jpl_store_iter(jpl_ledger_store(l), JPL_CF_LOG, NULL, 0);
    for (; jpl_iter_valid(it); jpl_iter_next(it)) {
        size_t len = 0;
        const uint8_t *v = jpl_iter_value(it, &len);
        Jpl__LogEntry *entry = NULL;
        Jpl__Event *ev = NULL;
        if (jpl_codec_entry_decode(v, len, &entry, NULL) == JPL_OK &&
            jpl_codec_event_decode(entry->envelope->event.data, entry->envelope->event.len, &ev,
                                   NULL) == JPL_OK)
            n++;
        jpl_codec_event_free(ev);
        jpl_codec_entry_free(entry);
    }
    jpl_iter_free(it);
    return (double)n / (bench_now() - t0);
}

typedef struct {
    double apply_seconds;
    uint64_t done;
} bench_progress_state;

static void bench_progress(void *ctx, uint64_t done, uint64_t total, double seconds)
{
    bench_progress_state *p = ctx;
    (void)total;
    p->apply_seconds = seconds;
    p->done = done;
}

/* Creates a ledger in dir and fills it with events; *out stays open for writing. */
static jpl_err bench_create(const char *dir, uint64_t events, jpl_ledger **out, fill_rates *fr,
                            jpl_error *e)
{
    jpl_init_result ir;
    jpl_note_signer admin;
    jpl_ledger *l = NULL;
    jpl_err rc = jpl_ledger_init(dir, NULL, &ir, e);
    if (rc != JPL_OK)
        return rc;
    if ((rc = jpl_keyfile_read_signer(ir.admin_key_path, &admin, e)) != JPL_OK)
        return rc;
    rc = jpl_ledger_open(dir, true, &l, e);
    fprintf(stderr, "bench: signing and appending %llu events...\n", (unsigned long long)events);
    if (rc == JPL_OK)
        rc = bench_fill(l, &admin, events, fr, e);
    jpl_note_signer_wipe(&admin);
    if (rc != JPL_OK) {
        jpl_ledger_close(l);
        return rc;
    }
    *out = l;
    return JPL_OK;
}

int bench_replay(const char *dir, uint64_t events);
int bench_replay(const char *dir, uint64_t events)
{
    jpl_error e = {0};
    jpl_ledger *l = NULL;
    fill_rates fr = {0};
    /* a ledger already in dir (a previous run's) is replayed as it is: no append figures */
    jpl_err rc = jpl_ledger_open(dir, true, &l, &e);
    bool fill = rc == JPL_ERR_NOT_FOUND;
    if (fill)
        rc = bench_create(dir, events, &l, &fr, &e);
    if (rc != JPL_OK)
        return cli_fail("bench", rc, "%s", e.msg);
    if (!fill)
        fprintf(stderr, "bench: replaying the existing ledger (%llu entries)\n",
                (unsigned long long)jpl_ledger_size(l));
    /* the first build (generation 1) also warms the cache for the timed runs */
    if (rc == JPL_OK)
        rc = jpl_projections_sync(l, &e);
    double scan[BENCH_REPEATS], decode[BENCH_REPEATS], replay[BENCH_REPEATS], apply[BENCH_REPEATS];
    bool match = true;
    uint64_t size = jpl_ledger_size(l);
    for (int r = 0; r < BENCH_REPEATS && rc == JPL_OK; r++) {
        scan[r] = bench_scan(l);
        decode[r] = bench_scan_decode(l);
        bench_progress_state ps = {0};
        jpl_replay_opts o = {.progress = bench_progress, .progress_ctx = &ps};
        jpl_replay_result res[JPL_PROJ_COUNT];
        size_t n = 0;
        double t0 = bench_now();
        rc = jpl_projections_replay(l, &o, res, &n, &e);
        replay[r] = (double)size / (bench_now() - t0);
        apply[r] = ps.apply_seconds > 0 ? (double)ps.done / ps.apply_seconds : 0;
        for (size_t i = 0; rc == JPL_OK && i < n; i++)
            match = match && res[i].match;
    }
    jpl_ledger_close(l);
    if (rc != JPL_OK)
        return cli_fail("bench", rc, "%s", e.msg);
    qsort(scan, BENCH_REPEATS, sizeof scan[0], cmp_rate);
    qsort(replay, BENCH_REPEATS, sizeof replay[0], cmp_rate);
    qsort(apply, BENCH_REPEATS, sizeof apply[0], cmp_rate);
    qsort(decode, BENCH_REPEATS, sizeof decode[0], cmp_rate);
    double sr = scan[1], rr = replay[1], ar = apply[1], dr = decode[1];
    json_t *o = json_object();
    json_object_set_new(o, "bench", json_string("replay"));
    json_object_set_new(o, "events", json_integer((json_int_t)(fill ? events : size)));
    json_object_set_new(o, "log_entries", json_integer((json_int_t)size));
    json_object_set_new(o, "replay_entries_per_s", json_real(rr));
    json_object_set_new(o, "apply_phase_entries_per_s", json_real(ar));
    json_object_set_new(o, "raw_rocksdb_scan_per_s", json_real(sr));
    json_object_set_new(o, "scan_and_decode_per_s", json_real(dr));
    json_object_set_new(o, "replay_vs_raw_scan", json_real(rr / sr));
    json_object_set_new(o, "apply_phase_vs_raw_scan", json_real(ar / sr));
    json_object_set_new(o, "replay_vs_scan_and_decode", json_real(rr / dr));
    json_object_set_new(o, "digests_match_live", json_boolean(match));
    if (fill) {
        json_object_set_new(o, "append_events_per_s_without_projections",
                            json_real(fr.plain_per_s));
        json_object_set_new(o, "append_events_per_s_with_projections",
                            json_real(fr.attached_per_s));
    }
    cli_print_json(o);
    return JPL_OK;
}
