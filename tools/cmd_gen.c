/*
 * `jpledger gen`: writes a generated ministry year (tools/gen.c) as JSON event lines, either one
 * phase to stdout (--phase), every phase in append order to stdout (for inspection), or one file
 * per phase into a directory (--out-dir), named so that `ls` order is append order and the role
 * that signs it is in the name: 1-employees.hr.ndjson ... 7-transfers.hr.ndjson.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "gen.h"
#include "jpl/ledger.h"
#include "jpl/nip.h"

enum { OPT_EMPLOYEES = 1000, OPT_YEAR, OPT_SEED, OPT_PHASE, OPT_OUT_DIR, OPT_SHARD, OPT_QUIET };

typedef struct {
    FILE *out[JPL_GEN_PHASES]; /* where each phase goes (NULL: nowhere) */
} gen_out;

static jpl_err write_line(void *ctx, jpl_gen_phase phase, const char *line, size_t len,
                          jpl_error *e)
{
    gen_out *g = ctx;
    FILE *f = g->out[phase];
    if (f == NULL)
        return JPL_OK;
    if (fwrite(line, 1, len, f) != len || fputc('\n', f) == EOF)
        return jpl_fail(e, JPL_ERR_IO, "cannot write the %s events", jpl_gen_phase_name(phase));
    return JPL_OK;
}

static bool parse_shard(const char *s, uint32_t *k, uint32_t *n)
{
    const char *slash = strchr(s, '/');
    char a[24], b[24];
    uint64_t x = 0, y = 0;
    if (slash == NULL || (size_t)(slash - s) >= sizeof a || strlen(slash + 1) >= sizeof b)
        return false;
    memcpy(a, s, (size_t)(slash - s));
    a[slash - s] = '\0';
    snprintf(b, sizeof b, "%s", slash + 1);
    if (!cli_parse_u64(a, &x) || !cli_parse_u64(b, &y) || y == 0 || y > 1024 || x >= y)
        return false;
    *k = (uint32_t)x;
    *n = (uint32_t)y;
    return true;
}

static void print_stats(const jpl_gen_stats *s, double secs)
{
    fprintf(stderr,
            "gen: %llu employees (%llu PNS, %llu PPPK of which %llu cap-exempt), %llu events in "
            "%.2f s; %llu activities, %llu plans, %llu approvals, %llu enrollments (%llu "
            "drop-outs), %llu completions, %llu recognitions (%llu wrong ones revoked), %llu "
            "transfers; %llu PNS below 20 JP, %llu PPPK over 24 JP in the contract year\n",
            (unsigned long long)s->employees, (unsigned long long)s->pns,
            (unsigned long long)s->pppk, (unsigned long long)s->pppk_exempt,
            (unsigned long long)s->events, secs, (unsigned long long)s->activities,
            (unsigned long long)s->plans, (unsigned long long)s->approvals,
            (unsigned long long)s->enrollments, (unsigned long long)s->dropouts,
            (unsigned long long)s->completions, (unsigned long long)s->recognitions,
            (unsigned long long)s->wrong_recognitions, (unsigned long long)s->transfers,
            (unsigned long long)s->pns_short, (unsigned long long)s->pppk_over);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int gen_dir(const char *dir, const jpl_gen_opts *o, bool quiet)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return cli_fail("gen", JPL_ERR_IO, "%s: cannot create the directory: %s", dir,
                        strerror(errno));
    gen_out g;
    memset(&g, 0, sizeof g);
    char paths[JPL_GEN_PHASES][4200];
    int ret = JPL_OK;
    for (int p = 0; p < JPL_GEN_PHASES && ret == JPL_OK; p++) {
        snprintf(paths[p], sizeof paths[p], "%s/%d-%s.%s.ndjson", dir, p + 1,
                 jpl_gen_phase_name((jpl_gen_phase)p), jpl_gen_phase_role((jpl_gen_phase)p));
        g.out[p] = fopen(paths[p], "w");
        if (g.out[p] == NULL)
            ret = cli_fail("gen", JPL_ERR_IO, "%s: cannot create: %s", paths[p], strerror(errno));
    }
    jpl_gen_stats st;
    jpl_error e = {0};
    double t0 = now_s();
    if (ret == JPL_OK) {
        jpl_err rc = jpl_gen_run(o, (1u << JPL_GEN_PHASES) - 1, write_line, &g, &st, &e);
        if (rc != JPL_OK)
            ret = cli_fail("gen", rc, "%s", e.msg);
    }
    for (int p = 0; p < JPL_GEN_PHASES; p++)
        if (g.out[p] != NULL && fclose(g.out[p]) != 0 && ret == JPL_OK)
            ret = cli_fail("gen", JPL_ERR_IO, "%s: cannot write: %s", paths[p], strerror(errno));
    if (ret != JPL_OK)
        return ret;
    for (int p = 0; p < JPL_GEN_PHASES; p++)
        printf("%s %s %llu\n", paths[p], jpl_gen_phase_role((jpl_gen_phase)p),
               (unsigned long long)st.by_phase[p]);
    if (!quiet)
        print_stats(&st, now_s() - t0);
    return JPL_OK;
}

static int gen_stdout(const jpl_gen_opts *o, jpl_gen_phase only, bool quiet)
{
    static char buf[1 << 20];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
    gen_out g;
    memset(&g, 0, sizeof g);
    jpl_gen_stats st, one;
    memset(&st, 0, sizeof st);
    double t0 = now_s();
    /* one pass per phase, so that the stream is in append order */
    for (int p = 0; p < JPL_GEN_PHASES; p++) {
        if (only != JPL_GEN_PHASES && p != (int)only)
            continue;
        memset(&g, 0, sizeof g);
        g.out[p] = stdout;
        jpl_error e = {0};
        jpl_err rc = jpl_gen_run(o, 1u << p, write_line, &g, &one, &e);
        if (rc != JPL_OK)
            return cli_fail("gen", rc, "%s", e.msg);
        /* the counts of employees are the same in every pass; events add up */
        uint64_t events = st.events + one.events, acts = st.activities + one.activities;
        uint64_t by[JPL_GEN_PHASES];
        for (int q = 0; q < JPL_GEN_PHASES; q++)
            by[q] = st.by_phase[q] + one.by_phase[q];
        st = one;
        st.events = events;
        st.activities = acts;
        memcpy(st.by_phase, by, sizeof by);
    }
    if (fflush(stdout) != 0)
        return cli_fail("gen", JPL_ERR_IO, "cannot write to stdout");
    if (!quiet)
        print_stats(&st, now_s() - t0);
    return JPL_OK;
}

int cmd_gen(int argc, char **argv);
int cmd_gen(int argc, char **argv)
{
    static const struct option opts[] = {{"employees", required_argument, 0, OPT_EMPLOYEES},
                                         {"year", required_argument, 0, OPT_YEAR},
                                         {"seed", required_argument, 0, OPT_SEED},
                                         {"phase", required_argument, 0, OPT_PHASE},
                                         {"out-dir", required_argument, 0, OPT_OUT_DIR},
                                         {"shard", required_argument, 0, OPT_SHARD},
                                         {"quiet", no_argument, 0, OPT_QUIET},
                                         {0, 0, 0, 0}};
    jpl_gen_opts o = {.employees = JPL_GEN_DEFAULT_EMPLOYEES, .year = JPL_GEN_DEFAULT_YEAR};
    jpl_gen_phase phase = JPL_GEN_PHASES;
    const char *dir = NULL;
    bool quiet = false;
    uint64_t v = 0;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case OPT_EMPLOYEES:
            if (!cli_parse_u64(optarg, &v) || v == 0 || v > JPL_GEN_MAX_EMPLOYEES)
                return cli_usage_error("gen", "--employees takes 1..10000000");
            o.employees = v;
            break;
        case OPT_YEAR:
            if (!cli_parse_u64(optarg, &v) || v < 2001 || v > 2100)
                return cli_usage_error("gen", "--year takes 2001..2100");
            o.year = (uint32_t)v;
            break;
        case OPT_SEED:
            if (!cli_parse_u64(optarg, &v))
                return cli_usage_error("gen", "--seed takes a non-negative integer");
            o.seed = v;
            break;
        case OPT_PHASE:
            phase = jpl_gen_phase_from_name(optarg);
            if (phase == JPL_GEN_PHASES)
                return cli_usage_error("gen", "--phase takes employees, activities, plans, "
                                              "approvals, learning, recognitions or transfers");
            break;
        case OPT_OUT_DIR:
            dir = optarg;
            break;
        case OPT_SHARD:
            if (!parse_shard(optarg, &o.shard, &o.shards))
                return cli_usage_error("gen", "--shard takes K/N with 0 <= K < N <= 1024");
            break;
        case OPT_QUIET:
            quiet = true;
            break;
        default:
            return cli_bad_option("gen", argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("gen", "unexpected argument");
    if (dir != NULL && phase != JPL_GEN_PHASES)
        return cli_usage_error("gen", "--out-dir writes every phase; leave out --phase");
    if (o.year > jpl_gen_max_year())
        return cli_usage_error("gen", JPL_GEN_FUTURE_YEAR);
    return dir ? gen_dir(dir, &o, quiet) : gen_stdout(&o, phase, quiet);
}
