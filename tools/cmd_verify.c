/*
 * The auditor's commands: `jpledger verify` checks a whole ledger against the log's verifier key,
 * then every auditor cosignature, and lists the auditors that cosigned the latest checkpoint; or
 * it checks an export bundle with nothing but that key. `jpledger export` writes the bundle
 * (from DIR or through a server).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "jpl/bundle.h"
#include "jpl/cosign.h"
#include "jpl/keyfile.h"
#include "jpl/verify.h"

enum {
    OPT_DATA = 1000,
    OPT_LOG_KEY,
    OPT_THREADS,
    OPT_JSON,
    OPT_EXPORT,
    OPT_OUT,
    OPT_SIZE,
    OPT_FORCE
};

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

/* The verdict of a ledger (file NULL, cs its cosignatures) or of a bundle; seq_known: the
 * failure is about entry rep->first_bad_seq. */
static int print_report(jpl_err rc, const jpl_verify_report *rep, const cosigners *cs,
                        const char *file, bool seq_known, const jpl_error *e, bool json)
{
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "ok", json_boolean(rc == JPL_OK));
        if (file != NULL)
            json_object_set_new(o, "file", json_string(file));
        json_object_set_new(o, "size", json_integer((json_int_t)rep->size));
        json_object_set_new(o, "entries_checked", json_integer((json_int_t)rep->entries));
        json_object_set_new(o, "checkpoints_checked", json_integer((json_int_t)rep->checkpoints));
        if (rc == JPL_OK) {
            json_object_set_new(o, "root", cli_json_hex(rep->root, 32));
            if (cs != NULL)
                print_cosigners(cs, o);
        } else {
            if (seq_known)
                json_object_set_new(o, "first_bad_seq",
                                    json_integer((json_int_t)rep->first_bad_seq));
            json_object_set_new(o, "error", json_string(jpl_strerror(rc)));
            json_object_set_new(o, "message", json_string(e->msg));
        }
        json_object_set_new(o, "seconds", json_real(rep->seconds));
        json_object_set_new(o, "threads", json_integer(rep->threads));
        cli_print_json(o);
        return rc;
    }
    if (rc != JPL_OK)
        return cli_fail("verify", rc, "FAILED: %s", e->msg);
    char root[65];
    jpl_hex_encode(root, rep->root, 32);
    if (file != NULL)
        printf("ok: %s: %llu entries verified against the checkpoint of size %llu (root %s) in "
               "%.2f s (%d threads)\n",
               file, (unsigned long long)rep->entries, (unsigned long long)rep->size, root,
               rep->seconds, rep->threads);
    else
        printf("ok: %llu entries and %llu checkpoints verified in %.2f s (%d threads)\n",
               (unsigned long long)rep->entries, (unsigned long long)rep->checkpoints, rep->seconds,
               rep->threads);
    if (cs != NULL)
        print_cosigners(cs, NULL);
    return JPL_OK;
}

/* No --log-key and no DIR/log.vkey: say whether DIR is a ledger at all. */
static int missing_log_key(const char *dir, const char *vpath)
{
    jpl_ledger *l = NULL;
    jpl_error e = {0};
    jpl_err rc = jpl_ledger_open(dir, false, &l, &e);
    if (rc != JPL_OK)
        return cli_fail("verify", rc, "%s", e.msg);
    jpl_ledger_close(l);
    return cli_fail("verify", JPL_ERR_NOT_FOUND,
                    "%s is missing: give the log's verifier key with --log-key", vpath);
}

int cmd_verify(int argc, char **argv);
int cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, 0, OPT_DATA},
                                         {"log-key", required_argument, 0, OPT_LOG_KEY},
                                         {"key", required_argument, 0, OPT_LOG_KEY},
                                         {"export", required_argument, 0, OPT_EXPORT},
                                         {"threads", required_argument, 0, OPT_THREADS},
                                         {"json", no_argument, 0, OPT_JSON},
                                         {0, 0, 0, 0}};
    const char *data = NULL, *log_key = NULL, *bundle = NULL;
    uint64_t threads = 0;
    bool json = false;
    int c;
    CLI_GETOPT_LOOP(argc, argv, opts, c)
    {
        switch (c) {
        case OPT_DATA:
            data = optarg;
            break;
        case OPT_LOG_KEY:
            log_key = optarg;
            break;
        case OPT_EXPORT:
            bundle = optarg;
            break;
        case OPT_JSON:
            json = true;
            break;
        case OPT_THREADS:
            if (!cli_parse_u64(optarg, &threads) || threads > 16)
                return cli_usage_error("verify", "--threads takes 0..16");
            break;
        default:
            return cli_bad_option("verify", argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("verify", "unexpected argument");
    if (bundle != NULL && data != NULL)
        return cli_usage_error("verify", "--export and --data exclude each other");
    if (bundle != NULL && log_key == NULL)
        return cli_usage_error("verify", "--export needs --log-key: the log's verifier key as "
                                         "you were given it (not the bundle's own)");
    const char *dir = cli_data_dir(data);
    char vpath[4200];
    snprintf(vpath, sizeof vpath, "%s/log.vkey", dir);
    jpl_note_verifier vk;
    jpl_error e = {0};
    if (log_key == NULL && access(vpath, F_OK) != 0)
        return missing_log_key(dir, vpath);
    jpl_err rc = jpl_keyfile_read_verifier(log_key ? log_key : vpath, &vk, &e);
    if (rc != JPL_OK)
        return cli_fail("verify", rc, "log key: %s", e.msg);
    jpl_verify_report rep;
    memset(&rep, 0, sizeof rep);
    if (bundle != NULL) {
        rc = jpl_bundle_verify(bundle, &vk, (int)threads, cli_progress, "verify", &rep, &e);
        cli_progress_end();
        return print_report(rc, &rep, NULL, bundle, rep.entry_failed, &e, json);
    }
    cosigners cs;
    memset(&cs, 0, sizeof cs);
    bool entries_ok = false;
    jpl_ledger *l = NULL;
    rc = jpl_ledger_open(dir, false, &l, &e);
    if (rc == JPL_OK) {
        rc = jpl_ledger_verify(l, &vk, (int)threads, cli_progress, "verify", &rep, &e);
        cli_progress_end();
        entries_ok = rc == JPL_OK;
        cs.latest = rep.size; /* verify made sure a checkpoint covers the whole log */
        if (rc == JPL_OK)
            rc = jpl_ledger_cosigs_verify(l, &vk, collect, &cs, &cs.checked, &e);
        jpl_ledger_close(l);
    }
    return print_report(rc, &rep, &cs, NULL, !entries_ok, &e, json);
}

static int export_local(const char *dir, uint64_t size, const char *out, bool force,
                        jpl_export_report *rep)
{
    jpl_ledger *l = NULL;
    jpl_error e = {0};
    jpl_err rc = jpl_ledger_open(dir, false, &l, &e);
    if (rc == JPL_OK) {
        rc = jpl_ledger_export(l, size, out, force, cli_progress, "export", rep, &e);
        cli_progress_end();
        jpl_ledger_close(l);
    }
    if (rc != JPL_OK)
        return cli_fail("export", rc, "%s", e.msg);
    return JPL_OK;
}

int cmd_export(int argc, char **argv);
int cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, 0, OPT_DATA},
                                         {"out", required_argument, 0, OPT_OUT},
                                         {"size", required_argument, 0, OPT_SIZE},
                                         {"force", no_argument, 0, OPT_FORCE},
                                         {"json", no_argument, 0, OPT_JSON},
                                         CLI_REMOTE_OPTS,
                                         {0, 0, 0, 0}};
    const char *data = NULL, *out = NULL;
    uint64_t size = 0;
    bool force = false, json = false;
    cli_remote remote = {0};
    int c;
    CLI_GETOPT_LOOP(argc, argv, opts, c)
    {
        if (cli_remote_opt(c, &remote))
            continue;
        switch (c) {
        case OPT_DATA:
            data = optarg;
            break;
        case OPT_OUT:
            out = optarg;
            break;
        case OPT_SIZE:
            if (!cli_parse_u64(optarg, &size) || size == 0)
                return cli_usage_error("export", "--size takes a positive tree size");
            break;
        case OPT_FORCE:
            force = true;
            break;
        case OPT_JSON:
            json = true;
            break;
        default:
            return cli_bad_option("export", argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("export", "unexpected argument");
    if (out == NULL)
        return cli_usage_error("export", "--out FILE is required");
    if (remote.url != NULL && data != NULL)
        return cli_usage_error("export", "--url and --data exclude each other");
    jpl_export_report rep = {0};
    int ret = remote.url ? remote_export(&remote, size, out, force, &rep)
                         : export_local(cli_data_dir(data), size, out, force, &rep);
    if (ret != JPL_OK)
        return ret;
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "ok", json_true());
        json_object_set_new(o, "file", json_string(out));
        json_object_set_new(o, "size", json_integer((json_int_t)rep.size));
        json_object_set_new(o, "bytes", json_integer((json_int_t)rep.bytes));
        json_object_set_new(o, "root", cli_json_hex(rep.root, 32));
        json_object_set_new(o, "seconds", json_real(rep.seconds));
        cli_print_json(o);
    } else {
        char root[65];
        jpl_hex_encode(root, rep.root, 32);
        printf("exported %llu entries and the checkpoint of size %llu (root %s) to %s: %llu "
               "bytes in %.2f s\n",
               (unsigned long long)rep.size, (unsigned long long)rep.size, root, out,
               (unsigned long long)rep.bytes, rep.seconds);
    }
    return JPL_OK;
}
