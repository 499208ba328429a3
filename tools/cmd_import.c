/*
 * `jpledger import xapi|employees` (docs/IMPORT.md): external records become signed events.
 *
 * Both importers feed "units" (one xAPI statement, one CSV row) of one or more events into a
 * batching appender. A batch is all-or-nothing in the ledger, so when it fails the appender
 * looks at the failing event: an optional event (an activity definition that may exist
 * already, the revocation of an enrollment that may not exist) is dropped; otherwise its whole
 * unit is reported and dropped (or, for a CSV row whose employee is already registered,
 * replaced by an update); then the rest of the batch is tried again. Failures that concern every
 * event (unknown or revoked key, wrong role, I/O) stop the import.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "jpl/client.h"
#include "jpl/event_json.h"
#include "jpl/keyfile.h"
#include "jpl/ledger.h"
#include "jpl/nip.h"
#include "jpl/note.h"
#include "jpl/projections.h"
#include "jpl/xapi.h"

#define CMD "import"
#define DEFAULT_BATCH 500
#define MAX_LINE (1u << 20)
#define MAX_ARRAY_FILE (256u << 20)
#define DEFAULT_MINUTES_PER_JP 45

enum { OPT_DATA = 1000, OPT_KEY, OPT_JSON, OPT_BATCH, OPT_MINUTES, OPT_ACTIVITIES };

/* ---- the appender ---- */

typedef enum { U_PENDING, U_SKIPPED } unit_state;

typedef struct {
    char label[128];
    unit_state state;
    bool counted; /* false for units of optional events only (activity definitions) */
    bool updated; /* CSV: the registration became an update */
    void *data;   /* importer's per-unit data (owned by the importer's free hook) */
} unit_info;

typedef struct {
    uint8_t *env;
    size_t len;
    size_t unit;
    bool optional;
} pending;

typedef struct importer importer;

/* Asked when the non-optional event of unit u failed with code/msg: return a replacement event
 * (new reference) to try instead, or NULL to skip the unit. */
typedef json_t *(*retry_fn)(importer *im, size_t u, jpl_err code, const char *msg);

struct importer {
    jpl_ledger *ledger;
    jpl_projections *proj; /* keeps balances, units and trail current with every batch */
    jpl_client *client;
    jpl_note_signer signer;
    bool json;
    size_t batch;
    pending *p;
    size_t np, pcap;
    unit_info *u;
    size_t nu, ucap;
    retry_fn retry;
    void (*free_data)(void *);
    uint64_t imported, duplicates, skipped, updated;
};

static bool fatal(jpl_err rc)
{
    switch (rc) {
    case JPL_ERR_BAD_INPUT:
    case JPL_ERR_CONFLICT:
    case JPL_ERR_VERSION:
    case JPL_ERR_NO_EMPLOYEE:
    case JPL_ERR_BAD_REFERENCE:
    case JPL_ERR_DOUBLE_COUNT:
    case JPL_ERR_OVER_JP:
    case JPL_ERR_RULE:
        return false;
    default:
        return true;
    }
}

/* The ledger prefixes "event N (id ..., type): "; the batch index means nothing to the user. */
static const char *reason_of(const char *msg)
{
    if (strncmp(msg, "event ", 6) == 0) {
        const char *p = strstr(msg, "): ");
        if (p != NULL)
            return p + 3;
    }
    return msg;
}

static void report_skip(importer *im, size_t u, const char *reason)
{
    unit_info *ui = &im->u[u];
    ui->state = U_SKIPPED;
    if (!ui->counted)
        return;
    im->skipped++;
    if (im->json) {
        json_t *o = json_object();
        json_object_set_new(o, "skipped", json_string(ui->label));
        json_object_set_new(o, "reason", json_string(reason));
        cli_print_json(o);
    } else {
        printf("skipped %s: %s\n", ui->label, reason);
    }
}

/* Signs one event; on a shape error returns its code and message. */
static jpl_err seal(importer *im, const json_t *ev, uint8_t **env, size_t *len, jpl_error *e)
{
    Jpl__Event *pe = NULL;
    jpl_err rc = jpl_event_from_json(ev, jpl_now_ms(), &pe, e);
    if (rc == JPL_OK)
        rc = jpl_event_seal(pe, im->signer.pk, im->signer.sk, env, len, e);
    jpl_event_free(pe);
    return rc;
}

static jpl_err push(importer *im, uint8_t *env, size_t len, size_t u, bool optional)
{
    if (im->np == im->pcap) {
        size_t ncap = im->pcap ? im->pcap * 2 : 256;
        pending *np = realloc(im->p, ncap * sizeof *np);
        if (np == NULL)
            return JPL_ERR_INTERNAL;
        im->p = np;
        im->pcap = ncap;
    }
    im->p[im->np++] = (pending){env, len, u, optional};
    return JPL_OK;
}

static void drop_at(importer *im, size_t k)
{
    free(im->p[k].env);
    memmove(&im->p[k], &im->p[k + 1], (im->np - k - 1) * sizeof *im->p);
    im->np--;
}

static void drop_unit(importer *im, size_t u)
{
    for (size_t k = im->np; k-- > 0;)
        if (im->p[k].unit == u)
            drop_at(im, k);
}

static void clear_units(importer *im)
{
    for (size_t i = 0; i < im->nu; i++)
        if (im->free_data)
            im->free_data(im->u[i].data);
    im->nu = 0;
}

static jpl_err do_append(importer *im, jpl_append_result *res, jpl_error *e)
{
    jpl_bytes *envs = calloc(im->np, sizeof *envs);
    if (envs == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < im->np; i++)
        envs[i] = (jpl_bytes){im->p[i].env, im->p[i].len};
    jpl_err rc = im->client ? cli_remote_append(im->client, envs, im->np, res, e)
                            : jpl_ledger_append(im->ledger, envs, im->np, res, e);
    free(envs);
    return rc;
}

/* Appends what is pending, dropping failing units until the rest goes in. */
static int flush(importer *im)
{
    int ret = JPL_OK;
    while (im->np > 0) {
        jpl_append_result *res = calloc(im->np, sizeof *res);
        if (res == NULL)
            return cli_fail(CMD, JPL_ERR_INTERNAL, "out of memory");
        jpl_error e = {0};
        jpl_err rc = do_append(im, res, &e);
        if (rc == JPL_OK) {
            /* a unit is a duplicate when all its events were */
            bool *fresh = calloc(im->nu, sizeof *fresh);
            for (size_t k = 0; fresh && k < im->np; k++)
                if (!res[k].duplicate && !im->p[k].optional)
                    fresh[im->p[k].unit] = true;
            for (size_t u = 0; fresh && u < im->nu; u++) {
                if (im->u[u].state != U_PENDING || !im->u[u].counted)
                    continue;
                if (fresh[u] && im->u[u].updated)
                    im->updated++;
                else if (fresh[u])
                    im->imported++;
                else
                    im->duplicates++;
            }
            free(fresh);
            free(res);
            for (size_t k = 0; k < im->np; k++)
                free(im->p[k].env);
            im->np = 0;
            break;
        }
        size_t k = 0;
        while (k < im->np && res[k].code == JPL_OK)
            k++;
        free(res);
        if (fatal(rc) || k == im->np) {
            ret = cli_fail(CMD, rc, "%s; nothing more was imported", e.msg);
            break;
        }
        if (im->p[k].optional) {
            drop_at(im, k);
            continue;
        }
        size_t u = im->p[k].unit;
        json_t *again = im->retry ? im->retry(im, u, rc, reason_of(e.msg)) : NULL;
        if (again != NULL) {
            uint8_t *env = NULL;
            size_t len = 0;
            jpl_error se = {0};
            jpl_err src = seal(im, again, &env, &len, &se);
            json_decref(again);
            if (src == JPL_OK) {
                free(im->p[k].env);
                im->p[k].env = env;
                im->p[k].len = len;
                continue;
            }
            drop_unit(im, u);
            report_skip(im, u, se.msg);
            continue;
        }
        drop_unit(im, u);
        report_skip(im, u, reason_of(e.msg));
    }
    fflush(stdout);
    clear_units(im);
    return ret;
}

/* Starts a unit; returns its index, or SIZE_MAX when out of memory. */
static size_t new_unit(importer *im, const char *label, bool counted, void *data)
{
    if (im->nu == im->ucap) {
        size_t ncap = im->ucap ? im->ucap * 2 : 256;
        unit_info *nu = realloc(im->u, ncap * sizeof *nu);
        if (nu == NULL)
            return SIZE_MAX;
        im->u = nu;
        im->ucap = ncap;
    }
    unit_info *ui = &im->u[im->nu];
    memset(ui, 0, sizeof *ui);
    snprintf(ui->label, sizeof ui->label, "%s", label);
    ui->counted = counted;
    ui->data = data;
    return im->nu++;
}

/* Adds a unit of events (a JSON array; borrowed). first_optional..: events flagged optional by
 * the mask bit of their index. Flushes when the batch is full. */
static int add_unit(importer *im, const char *label, bool counted, const json_t *events,
                    uint32_t optional_mask, void *data)
{
    size_t u = new_unit(im, label, counted, data);
    if (u == SIZE_MAX) {
        if (im->free_data)
            im->free_data(data);
        return cli_fail(CMD, JPL_ERR_INTERNAL, "out of memory");
    }
    size_t first = im->np;
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev)
    {
        uint8_t *env = NULL;
        size_t len = 0;
        jpl_error e = {0};
        jpl_err rc = seal(im, ev, &env, &len, &e);
        if (rc == JPL_OK && push(im, env, len, u, i < 32 && (optional_mask >> i) & 1u) != JPL_OK) {
            free(env);
            return cli_fail(CMD, JPL_ERR_INTERNAL, "out of memory");
        }
        if (rc != JPL_OK) {
            while (im->np > first)
                drop_at(im, im->np - 1);
            report_skip(im, u, e.msg);
            return JPL_OK;
        }
    }
    if (im->np >= im->batch)
        return flush(im);
    return JPL_OK;
}

/* Reports a unit that has no events to append (invalid input) as skipped. */
static int skip_unit(importer *im, const char *label, const char *reason)
{
    size_t u = new_unit(im, label, true, NULL);
    if (u == SIZE_MAX)
        return cli_fail(CMD, JPL_ERR_INTERNAL, "out of memory");
    report_skip(im, u, reason);
    return JPL_OK;
}

static void summary(importer *im, const char *what)
{
    if (im->json) {
        json_t *o = json_object();
        if (strcmp(what, "employees") == 0) {
            json_object_set_new(o, "registered", json_integer((json_int_t)im->imported));
            json_object_set_new(o, "updated", json_integer((json_int_t)im->updated));
        } else {
            json_object_set_new(o, "imported", json_integer((json_int_t)im->imported));
        }
        json_object_set_new(o, "duplicates", json_integer((json_int_t)im->duplicates));
        json_object_set_new(o, "skipped", json_integer((json_int_t)im->skipped));
        cli_print_json(o);
    } else if (strcmp(what, "employees") == 0) {
        printf("registered %llu, updated %llu, duplicates %llu, skipped %llu\n",
               (unsigned long long)im->imported, (unsigned long long)im->updated,
               (unsigned long long)im->duplicates, (unsigned long long)im->skipped);
    } else {
        printf("imported %llu, duplicates %llu, skipped %llu\n", (unsigned long long)im->imported,
               (unsigned long long)im->duplicates, (unsigned long long)im->skipped);
    }
    fflush(stdout);
}

/* ---- xAPI ---- */

/* activity id -> JP (from --activities, or defined by this run); a small open hash table */
typedef struct {
    char *id;
    int64_t jp;     /* -1: known, but not classical */
    bool catalogue; /* from --activities: the activity's own JP */
} act_slot;

typedef struct {
    act_slot *s;
    size_t cap, n;
} act_table;

static uint64_t hash_str(const char *s)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * UINT64_C(1099511628211);
    return h;
}

static act_slot *act_find(act_table *t, const char *id)
{
    if (t->cap == 0)
        return NULL;
    size_t i = (size_t)hash_str(id) & (t->cap - 1);
    while (t->s[i].id != NULL) {
        if (strcmp(t->s[i].id, id) == 0)
            return &t->s[i];
        i = (i + 1) & (t->cap - 1);
    }
    return NULL;
}

static bool act_put(act_table *t, const char *id, int64_t jp, bool catalogue)
{
    act_slot *have = act_find(t, id);
    if (have != NULL) {
        have->jp = jp;
        have->catalogue = catalogue;
        return true;
    }
    if (2 * (t->n + 1) > t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 64;
        act_slot *ns = calloc(ncap, sizeof *ns);
        if (ns == NULL)
            return false;
        for (size_t k = 0; k < t->cap; k++) {
            if (t->s[k].id == NULL)
                continue;
            size_t i = (size_t)hash_str(t->s[k].id) & (ncap - 1);
            while (ns[i].id != NULL)
                i = (i + 1) & (ncap - 1);
            ns[i] = t->s[k];
        }
        free(t->s);
        t->s = ns;
        t->cap = ncap;
    }
    size_t i = (size_t)hash_str(id) & (t->cap - 1);
    while (t->s[i].id != NULL)
        i = (i + 1) & (t->cap - 1);
    t->s[i].id = strdup(id);
    if (t->s[i].id == NULL)
        return false;
    t->s[i].jp = jp;
    t->s[i].catalogue = catalogue;
    t->n++;
    return true;
}

static void act_free(act_table *t)
{
    for (size_t k = 0; k < t->cap; k++)
        free(t->s[k].id);
    free(t->s);
}

/* Reads activity_defined lines (e.g. gen's activities phase) into t. */
static int load_activities(const char *path, act_table *t)
{
    FILE *f = NULL;
    int oret = cli_open_input(CMD, path, &f);
    if (oret != JPL_OK)
        return oret;
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t got;
    int ret = JPL_OK;
    while (ret == JPL_OK && (got = getline(&line, &cap, f)) != -1) {
        lineno++;
        if (strspn(line, " \t\r\n") == (size_t)got)
            continue;
        json_error_t je;
        json_t *o = json_loadb(line, (size_t)got, JSON_REJECT_DUPLICATES, &je);
        const char *type = json_string_value(json_object_get(o, "type"));
        const char *id = json_string_value(json_object_get(o, "activity_id"));
        const char *mode = json_string_value(json_object_get(o, "mode"));
        json_t *jp = json_object_get(o, "jp_centi");
        if (type == NULL || strcmp(type, "activity_defined") != 0 || id == NULL || mode == NULL)
            ret = cli_fail(CMD, JPL_ERR_BAD_INPUT, "%s line %zu: not an activity_defined event",
                           path, lineno);
        else if (!act_put(t, id,
                          strcmp(mode, "classical") == 0 && json_is_integer(jp)
                              ? (int64_t)json_integer_value(jp)
                              : -1,
                          true))
            ret = cli_fail(CMD, JPL_ERR_INTERNAL, "out of memory");
        json_decref(o);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return ret;
}

typedef struct {
    importer *im;
    act_table acts;
    uint32_t minutes_per_jp;
} xapi_ctx;

static int xapi_statement(xapi_ctx *x, const json_t *st, const char *where)
{
    importer *im = x->im;
    char label[128];
    const char *sid = json_string_value(json_object_get(st, "id"));
    snprintf(label, sizeof label, "%s%s%.40s%s", where, sid ? " (" : "", sid ? sid : "",
             sid ? ")" : "");
    jpl_error e = {0};
    char reason[JPL_ERRMSG_MAX + 64];
    jpl_xapi_statement s;
    if (jpl_xapi_check(st, &e) != JPL_OK) {
        snprintf(reason, sizeof reason, "invalid xAPI statement: %s", e.msg);
        return skip_unit(im, label, reason);
    }
    if (jpl_xapi_parse(st, jpl_now_ms(), &s, &e) != JPL_OK) {
        snprintf(reason, sizeof reason, "cannot be mapped: %s", e.msg);
        return skip_unit(im, label, reason);
    }
    uint32_t jp = 0;
    if (s.kind != JPL_XAPI_VOIDED) {
        act_slot *known = act_find(&x->acts, s.activity_id);
        uint32_t from_duration =
            s.has_duration ? jpl_xapi_duration_jp(s.duration_ms, x->minutes_per_jp) : 0;
        if (s.kind == JPL_XAPI_COMPLETED) {
            if (known != NULL && known->catalogue && known->jp >= 0)
                jp = (uint32_t)known->jp; /* the activity's own JP */
            else if (s.has_duration)
                jp = from_duration;
            else if (known != NULL && known->jp >= 0)
                jp = (uint32_t)known->jp; /* defined earlier in this run */
            else
                return skip_unit(im, label,
                                 "cannot be mapped: no result.duration, and the activity's JP is "
                                 "not known (give --activities FILE)");
        }
        if (known == NULL && s.has_duration) {
            /* a new activity: define it (optional: it may be in the ledger already) */
            json_t *one = json_array();
            json_array_append_new(one, jpl_xapi_activity_event(&s, from_duration));
            char alabel[128];
            snprintf(alabel, sizeof alabel, "activity %.100s", s.activity_id);
            int ret = add_unit(im, alabel, false, one, 1u, NULL);
            json_decref(one);
            if (ret != JPL_OK)
                return ret;
            if (!act_put(&x->acts, s.activity_id, from_duration, false))
                return cli_fail(CMD, JPL_ERR_INTERNAL, "out of memory");
        }
    }
    json_t *events = jpl_xapi_events(&s, jp);
    if (events == NULL)
        return cli_fail(CMD, JPL_ERR_INTERNAL, "out of memory");
    int ret = add_unit(im, label, true, events, s.kind == JPL_XAPI_VOIDED ? 2u : 0u, NULL);
    json_decref(events);
    return ret;
}

static int xapi_array(xapi_ctx *x, FILE *in)
{
    json_error_t je;
    json_t *arr = json_loadf(in, JSON_REJECT_DUPLICATES, &je);
    if (arr == NULL)
        return cli_fail(CMD, JPL_ERR_BAD_INPUT, "line %d column %d: %s", je.line, je.column,
                        je.text);
    if (!json_is_array(arr)) {
        json_decref(arr);
        return cli_fail(CMD, JPL_ERR_BAD_INPUT, "expected a JSON array of statements");
    }
    size_t i;
    json_t *st;
    int ret = JPL_OK;
    json_array_foreach(arr, i, st)
    {
        char where[32];
        snprintf(where, sizeof where, "statement %zu", i + 1);
        if ((ret = xapi_statement(x, st, where)) != JPL_OK)
            break;
    }
    json_decref(arr);
    return ret;
}

static int xapi_lines(xapi_ctx *x, FILE *in)
{
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t got;
    int ret = JPL_OK;
    while (ret == JPL_OK && (got = getline(&line, &cap, in)) != -1) {
        lineno++;
        if (strspn(line, " \t\r\n") == (size_t)got)
            continue;
        char where[32];
        snprintf(where, sizeof where, "line %zu", lineno);
        if ((size_t)got > MAX_LINE) {
            ret = skip_unit(x->im, where, "the line is longer than 1 MiB");
            continue;
        }
        json_error_t je;
        json_t *st = json_loadb(line, (size_t)got, JSON_REJECT_DUPLICATES, &je);
        if (st == NULL) {
            char reason[256];
            snprintf(reason, sizeof reason, "not JSON: column %d: %s", je.column, je.text);
            ret = skip_unit(x->im, where, reason);
            continue;
        }
        ret = xapi_statement(x, st, where);
        json_decref(st);
    }
    free(line);
    return ret;
}

/* ---- employees CSV ---- */

typedef struct {
    char nip[JPL_NIP_LEN + 1];
    char kind[8];
    char unit[JPL_MAX_UNIT + 1];
    int exempt;              /* -1 not given, 0, 1 */
    char contract_start[11]; /* "YYYY-MM-DD" or "" (not given) */
} row_data;

/* Columns of the employees CSV, in the order of NAMES in import_csv. */
enum { COL_NIP, COL_KIND, COL_UNIT, COL_EXEMPT, COL_CONTRACT, N_COLS };

#define MAX_FIELDS 16
#define MAX_FIELD 1024

typedef struct {
    char f[MAX_FIELDS][MAX_FIELD + 1];
    size_t n;
    size_t line; /* where the record starts */
} csv_record;

/* Reads one RFC 4180 record (quoted fields may hold commas, quotes as "" and newlines). Returns
 * 1 with a record, 0 at the end, -1 with *why set for a bad record (the rest of its line is
 * consumed). *line counts physical lines. */
static int csv_read(FILE *in, csv_record *r, size_t *line, const char **why)
{
    int c;
    r->n = 0;
    *why = NULL;
    /* skip blank lines */
    for (;;) {
        c = getc(in);
        if (c == EOF)
            return 0;
        if (c == '\n') {
            (*line)++;
            continue;
        }
        if (c == '\r')
            continue;
        break;
    }
    r->line = *line + 1;
    size_t len = 0;
    bool quoted = false, after_quote = false, bad = false;
    r->n = 1;
    r->f[0][0] = '\0';
    for (;; c = getc(in)) {
        if (c == EOF) {
            if (quoted && !bad) {
                *why = "a quoted field is not closed";
                bad = true;
            }
            break;
        }
        if (quoted) {
            if (c == '"') {
                int d = getc(in);
                if (d == '"') {
                    c = '"';
                } else {
                    quoted = false;
                    after_quote = true;
                    if (d != EOF)
                        ungetc(d, in);
                    continue;
                }
            }
            if (c == '\n')
                (*line)++;
        } else if (c == ',') {
            if (r->n == MAX_FIELDS) {
                if (!bad)
                    *why = "more than 16 fields";
                bad = true;
            } else {
                r->f[r->n - 1][len] = '\0';
                r->n++;
                len = 0;
                after_quote = false;
            }
            continue;
        } else if (c == '\n') {
            (*line)++;
            break;
        } else if (c == '\r') {
            continue;
        } else if (c == '"' && len == 0 && !after_quote) {
            quoted = true;
            continue;
        } else if (after_quote || c == '"') {
            if (!bad)
                *why = after_quote ? "text after a closing quote"
                                   : "a quote inside an unquoted "
                                     "field";
            bad = true;
            continue;
        }
        if (bad)
            continue;
        if (len == MAX_FIELD) {
            *why = "a field is longer than 1024 bytes";
            bad = true;
            continue;
        }
        r->f[r->n - 1][len++] = (char)c;
    }
    if (r->n > 0)
        r->f[r->n - 1][len] = '\0';
    return bad ? -1 : 1;
}

static void trim(char *s)
{
    size_t n = strlen(s), i = 0;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    while (s[i] == ' ' || s[i] == '\t')
        i++;
    memmove(s, s + i, n - i + 1);
}

static int parse_bool(const char *s)
{
    static const char *const T[] = {"true", "yes", "ya", "y", "1"};
    static const char *const F[] = {"false", "no", "tidak", "n", "0"};
    if (s[0] == '\0')
        return -1;
    for (size_t i = 0; i < 5; i++) {
        if (strcasecmp(s, T[i]) == 0)
            return 1;
        if (strcasecmp(s, F[i]) == 0)
            return 0;
    }
    return -2;
}

static json_t *employee_event(const row_data *r, bool update)
{
    json_t *o = json_object();
    json_object_set_new(o, "type",
                        json_string(update ? "employee_updated" : "employee_registered"));
    json_object_set_new(o, "nip", json_string(r->nip));
    json_object_set_new(o, "kind", json_string(r->kind));
    json_object_set_new(o, "unit", json_string(r->unit));
    if (r->exempt >= 0)
        json_object_set_new(o, "cap_exempt", json_boolean(r->exempt == 1));
    if (r->contract_start[0] != '\0')
        json_object_set_new(o, "contract_start", json_string(r->contract_start));
    return o;
}

static json_t *employee_retry(importer *im, size_t u, jpl_err code, const char *msg)
{
    unit_info *ui = &im->u[u];
    if (code != JPL_ERR_RULE || ui->updated || ui->data == NULL ||
        strstr(msg, "already registered") == NULL)
        return NULL;
    ui->updated = true;
    return employee_event(ui->data, true);
}

static int csv_row(importer *im, const csv_record *r, const int col[N_COLS], size_t ncols)
{
    char label[48];
    snprintf(label, sizeof label, "line %zu", r->line);
    char reason[JPL_ERRMSG_MAX + 64] = "";
    row_data *d = calloc(1, sizeof *d);
    if (d == NULL)
        return cli_fail(CMD, JPL_ERR_INTERNAL, "out of memory");
    char f[N_COLS][MAX_FIELD + 1];
    for (int i = 0; i < N_COLS; i++) {
        f[i][0] = '\0';
        if (col[i] >= 0 && (size_t)col[i] < r->n)
            snprintf(f[i], sizeof f[i], "%s", r->f[col[i]]);
        trim(f[i]);
    }
    jpl_error e = {0};
    jpl_date date;
    if (r->n != ncols)
        snprintf(reason, sizeof reason, "%zu fields, the header has %zu", r->n, ncols);
    else if (jpl_nip_validate(f[0], strlen(f[0]), jpl_time_yyyymm(jpl_now_ms()), &e) != JPL_OK)
        snprintf(reason, sizeof reason, "%s", e.msg);
    else if (strcasecmp(f[1], "pns") != 0 && strcasecmp(f[1], "pppk") != 0)
        snprintf(reason, sizeof reason, "kind '%.40s' is not pns or pppk", f[1]);
    else if (f[2][0] == '\0' || strlen(f[2]) > JPL_MAX_UNIT)
        snprintf(reason, sizeof reason, "unit must be 1..%d bytes", JPL_MAX_UNIT);
    else if ((d->exempt = parse_bool(f[3])) == -2)
        snprintf(reason, sizeof reason, "cap_exempt '%.40s' is not true or false", f[3]);
    else if (f[COL_CONTRACT][0] != '\0' &&
             jpl_date_parse(f[COL_CONTRACT], "contract_start", &date, &e) != JPL_OK)
        snprintf(reason, sizeof reason, "%s", e.msg);
    else if (f[COL_CONTRACT][0] != '\0' && strcasecmp(f[1], "pppk") != 0)
        snprintf(reason, sizeof reason, "contract_start is for PPPK only, kind is '%.40s'", f[1]);
    if (reason[0] != '\0') {
        free(d);
        return skip_unit(im, label, reason);
    }
    /* lengths checked above: the NIP has 18 digits, the unit at most JPL_MAX_UNIT bytes */
    memcpy(d->nip, f[0], JPL_NIP_LEN);
    d->nip[JPL_NIP_LEN] = '\0';
    snprintf(d->kind, sizeof d->kind, "%s", strcasecmp(f[1], "pns") == 0 ? "pns" : "pppk");
    memcpy(d->unit, f[2], strlen(f[2]) + 1);
    /* checked above: empty, or a valid date of exactly 10 bytes */
    memcpy(d->contract_start, f[COL_CONTRACT], strnlen(f[COL_CONTRACT], 10));
    json_t *events = json_array();
    json_array_append_new(events, employee_event(d, false));
    int ret = add_unit(im, label, true, events, 0, d);
    json_decref(events);
    return ret;
}

static int import_csv(importer *im, FILE *in)
{
    csv_record *r = malloc(sizeof *r);
    if (r == NULL)
        return cli_fail(CMD, JPL_ERR_INTERNAL, "out of memory");
    size_t line = 0;
    const char *why = NULL;
    /* a UTF-8 byte order mark, as spreadsheet exports write */
    int c1 = getc(in);
    if (c1 == 0xEF) {
        int c2 = getc(in), c3 = getc(in);
        if (c2 != 0xBB || c3 != 0xBF) {
            free(r);
            return cli_fail(CMD, JPL_ERR_BAD_INPUT, "line 1: not UTF-8 text");
        }
    } else if (c1 != EOF) {
        ungetc(c1, in);
    }
    int got = csv_read(in, r, &line, &why);
    if (got <= 0) {
        free(r);
        return cli_fail(CMD, JPL_ERR_BAD_INPUT, "line %zu: %s", line + 1,
                        got == 0 ? "no header row (nip,kind,unit,cap_exempt)" : why);
    }
    int col[N_COLS] = {-1, -1, -1, -1, -1};
    static const char *const NAMES[N_COLS] = {"nip", "kind", "unit", "cap_exempt",
                                              "contract_start"};
    for (size_t i = 0; i < r->n; i++) {
        trim(r->f[i]);
        int which = -1;
        for (int k = 0; k < N_COLS; k++)
            if (strcasecmp(r->f[i], NAMES[k]) == 0)
                which = k;
        if (strcasecmp(r->f[i], "exemption") == 0)
            which = 3;
        if (which < 0 || col[which] >= 0) {
            int ret = cli_fail(CMD, JPL_ERR_BAD_INPUT,
                               "line %zu: header column '%.40s' is %s (want nip, kind, unit and "
                               "optionally cap_exempt, contract_start)",
                               r->line, r->f[i], which < 0 ? "unknown" : "repeated");
            free(r);
            return ret;
        }
        col[which] = (int)i;
    }
    if (col[0] < 0 || col[1] < 0 || col[2] < 0) {
        free(r);
        return cli_fail(CMD, JPL_ERR_BAD_INPUT,
                        "line 1: the header needs the columns nip, kind and unit");
    }
    size_t ncols = r->n;
    int ret = JPL_OK;
    while (ret == JPL_OK && (got = csv_read(in, r, &line, &why)) != 0) {
        if (got < 0) {
            char label[48];
            snprintf(label, sizeof label, "line %zu", r->line);
            ret = skip_unit(im, label, why);
            continue;
        }
        ret = csv_row(im, r, col, ncols);
    }
    free(r);
    return ret;
}

/* ---- the command ---- */

static void free_row(void *p)
{
    free(p);
}

int cmd_import(int argc, char **argv);
int cmd_import(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "xapi") != 0 && strcmp(argv[1], "employees") != 0))
        return cli_usage_error(CMD, "say 'import xapi FILE' or 'import employees FILE.csv'");
    bool xapi = strcmp(argv[1], "xapi") == 0;
    static const struct option opts[] = {{"data", required_argument, 0, OPT_DATA},
                                         {"key", required_argument, 0, OPT_KEY},
                                         {"json", no_argument, 0, OPT_JSON},
                                         {"batch", required_argument, 0, OPT_BATCH},
                                         {"minutes-per-jp", required_argument, 0, OPT_MINUTES},
                                         {"activities", required_argument, 0, OPT_ACTIVITIES},
                                         CLI_REMOTE_OPTS,
                                         {0, 0, 0, 0}};
    const char *data = NULL, *key = NULL, *activities = NULL;
    cli_remote remote = {0};
    uint64_t batch = DEFAULT_BATCH, minutes = DEFAULT_MINUTES_PER_JP;
    importer im;
    memset(&im, 0, sizeof im);
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "+", opts, NULL)) != -1) {
        if (cli_remote_opt(c, &remote))
            continue;
        switch (c) {
        case OPT_DATA:
            data = optarg;
            break;
        case OPT_KEY:
            key = optarg;
            break;
        case OPT_JSON:
            im.json = true;
            break;
        case OPT_BATCH:
            if (!cli_parse_u64(optarg, &batch) || batch == 0 || batch > 4096)
                return cli_usage_error(CMD, "--batch takes 1..4096");
            break;
        case OPT_MINUTES:
            if (!cli_parse_u64(optarg, &minutes) || minutes == 0 ||
                minutes > JPL_MAX_MINUTES_PER_JP)
                return cli_usage_error(CMD, "--minutes-per-jp takes 1..600");
            break;
        case OPT_ACTIVITIES:
            activities = optarg;
            break;
        default:
            return cli_bad_option(CMD, argv + 1);
        }
    }
    if (key == NULL)
        return cli_usage_error(CMD, "--key FILE is required (the LMS key for xapi, an HR key "
                                    "for employees)");
    if (argc - 1 - optind != 1)
        return cli_usage_error(CMD, "give one input FILE (or - for stdin)");
    if (activities != NULL && strcmp(activities, "-") == 0 && strcmp(argv[1 + optind], "-") == 0)
        return cli_usage_error(CMD, "--activities - and the statements cannot both be stdin");
    if (!xapi && (activities != NULL || minutes != DEFAULT_MINUTES_PER_JP))
        return cli_usage_error(CMD, "--activities and --minutes-per-jp are for 'import xapi'");
    const char *file = argv[1 + optind];
    im.batch = (size_t)batch;
    xapi_ctx x = {.im = &im, .minutes_per_jp = (uint32_t)minutes};
    int ret = JPL_OK;
    if (activities != NULL && (ret = load_activities(activities, &x.acts)) != JPL_OK) {
        act_free(&x.acts);
        return ret;
    }
    jpl_error e = {0};
    jpl_err rc = jpl_keyfile_read_signer(key, &im.signer, &e);
    if (rc != JPL_OK) {
        act_free(&x.acts);
        return cli_fail(CMD, rc, "%s", e.msg);
    }
    FILE *in = NULL;
    ret = cli_open_input(CMD, file, &in);
    if (ret == JPL_OK)
        ret = remote.url ? cli_connect(CMD, &remote, &im.client)
              : (rc = cli_open_writable(cli_data_dir(data), &im.ledger, &im.proj, &e)) != JPL_OK
                  ? cli_fail(CMD, rc, "%s", e.msg)
                  : JPL_OK;
    if (ret == JPL_OK && xapi) {
        int first = getc(in);
        while (first == ' ' || first == '\t' || first == '\r' || first == '\n')
            first = getc(in);
        if (first != EOF)
            ungetc(first, in);
        ret = first == '[' ? xapi_array(&x, in) : xapi_lines(&x, in);
    } else if (ret == JPL_OK) {
        im.retry = employee_retry;
        im.free_data = free_row;
        ret = import_csv(&im, in);
    }
    if (ret == JPL_OK)
        ret = flush(&im);
    else
        clear_units(&im);
    for (size_t k = 0; k < im.np; k++)
        free(im.p[k].env);
    if (ret == JPL_OK || im.imported + im.updated + im.duplicates + im.skipped > 0)
        summary(&im, xapi ? "xapi" : "employees");
    if (in != NULL && in != stdin)
        fclose(in);
    jpl_ledger_close(im.ledger);
    jpl_projections_free(im.proj);
    jpl_client_close(im.client);
    jpl_note_signer_wipe(&im.signer);
    act_free(&x.acts);
    free(im.p);
    free(im.u);
    if (ret == JPL_OK && im.skipped > 0)
        return JPL_ERR_BAD_INPUT; /* the rest went in; say that not everything did */
    return ret;
}
