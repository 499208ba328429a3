/* `jpledger verify`: checks a whole ledger against the log's verifier key, then every auditor
 * cosignature, and lists the auditors that cosigned the latest checkpoint. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "jpl/cosign.h"
#include "jpl/keyfile.h"
#include "jpl/verify.h"

static void progress(void *ctx, uint64_t done, uint64_t total)
{
    (void)ctx;
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "\rverify: %llu/%llu entries (%.0f%%)", (unsigned long long)done,
                (unsigned long long)total, total ? 100.0 * (double)done / (double)total : 100.0);
}

/* The cosignatures checked, and those of the latest checkpoint. */
typedef struct {
    uint64_t latest;
    uint64_t checked;
    size_t n;
    jpl_cosig_info of_latest[JPL_COSIGS_MAX];
} cosigners;

static void collect(void *ctx, const jpl_cosig_info *c)
{
    cosigners *cs = ctx;
    if (c->size == cs->latest && cs->n < JPL_COSIGS_MAX)
        cs->of_latest[cs->n++] = *c;
}

/* The cosigners of the latest checkpoint (a revocation appends an entry, so none of them can
 * have been revoked since). */
static void print_cosigners(const cosigners *cs, json_t *o)
{
    if (o != NULL) {
        json_t *a = json_array();
        for (size_t i = 0; i < cs->n; i++)
            json_array_append_new(a, json_string(cs->of_latest[i].vkey));
        json_object_set_new(o, "cosignatures_checked", json_integer((json_int_t)cs->checked));
        json_object_set_new(o, "latest_cosigned_by", a);
        return;
    }
    printf("cosignatures: %llu checked; latest checkpoint %llu %s", (unsigned long long)cs->checked,
           (unsigned long long)cs->latest, cs->n ? "cosigned by" : "not cosigned by any auditor");
    for (size_t i = 0; i < cs->n; i++)
        printf("%s %s", i ? "," : "", cs->of_latest[i].vkey);
    printf("\n");
}

int cmd_verify(int argc, char **argv);
int cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, 0, 'd'},
                                         {"log-key", required_argument, 0, 'k'},
                                         {"threads", required_argument, 0, 't'},
                                         {"json", no_argument, 0, 'j'},
                                         {0, 0, 0, 0}};
    const char *data = NULL, *log_key = NULL;
    uint64_t threads = 0;
    bool json = false;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 'k':
            log_key = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 't':
            if (!cli_parse_u64(optarg, &threads) || threads > 16)
                return cli_usage_error("verify", "--threads takes 0..16");
            break;
        default:
            return cli_bad_option("verify", argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("verify", "unexpected argument");
    const char *dir = cli_data_dir(data);
    char vpath[4200];
    snprintf(vpath, sizeof vpath, "%s/log.vkey", dir);
    jpl_note_verifier vk;
    jpl_error e = {0};
    jpl_err rc = jpl_keyfile_read_verifier(log_key ? log_key : vpath, &vk, &e);
    if (rc != JPL_OK)
        return cli_fail("verify", rc, "log key: %s", e.msg);
    jpl_ledger *l = NULL;
    jpl_verify_report rep;
    memset(&rep, 0, sizeof rep);
    cosigners cs;
    memset(&cs, 0, sizeof cs);
    bool entries_ok = false;
    rc = jpl_ledger_open(dir, false, &l, &e);
    if (rc == JPL_OK) {
        rc = jpl_ledger_verify(l, &vk, (int)threads, progress, NULL, &rep, &e);
        if (isatty(STDERR_FILENO))
            fputc('\n', stderr);
        entries_ok = rc == JPL_OK;
        cs.latest = rep.size; /* verify made sure a checkpoint covers the whole log */
        if (rc == JPL_OK)
            rc = jpl_ledger_cosigs_verify(l, &vk, collect, &cs, &cs.checked, &e);
        jpl_ledger_close(l);
    }
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "ok", json_boolean(rc == JPL_OK));
        json_object_set_new(o, "size", json_integer((json_int_t)rep.size));
        json_object_set_new(o, "entries_checked", json_integer((json_int_t)rep.entries));
        json_object_set_new(o, "checkpoints_checked", json_integer((json_int_t)rep.checkpoints));
        if (rc == JPL_OK) {
            json_object_set_new(o, "root", cli_json_hex(rep.root, 32));
            print_cosigners(&cs, o);
        } else {
            if (!entries_ok)
                json_object_set_new(o, "first_bad_seq",
                                    json_integer((json_int_t)rep.first_bad_seq));
            json_object_set_new(o, "error", json_string(jpl_strerror(rc)));
            json_object_set_new(o, "message", json_string(e.msg));
        }
        json_object_set_new(o, "seconds", json_real(rep.seconds));
        json_object_set_new(o, "threads", json_integer(rep.threads));
        cli_print_json(o);
        return rc;
    }
    if (rc != JPL_OK)
        return cli_fail("verify", rc, "FAILED: %s", e.msg);
    printf("ok: %llu entries and %llu checkpoints verified in %.2f s (%d threads)\n",
           (unsigned long long)rep.entries, (unsigned long long)rep.checkpoints, rep.seconds,
           rep.threads);
    print_cosigners(&cs, NULL);
    return JPL_OK;
}
