/* `jpledger verify`: checks a whole ledger against the log's verifier key. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "jpl/keyfile.h"
#include "jpl/verify.h"

static void progress(void *ctx, uint64_t done, uint64_t total)
{
    (void)ctx;
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "\rverify: %llu/%llu entries (%.0f%%)", (unsigned long long)done,
                (unsigned long long)total, total ? 100.0 * (double)done / (double)total : 100.0);
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
    rc = jpl_ledger_open(dir, false, &l, &e);
    if (rc == JPL_OK) {
        rc = jpl_ledger_verify(l, &vk, (int)threads, progress, NULL, &rep, &e);
        if (isatty(STDERR_FILENO))
            fputc('\n', stderr);
        jpl_ledger_close(l);
    }
    if (json) {
        json_t *o = json_object();
        json_object_set_new(o, "ok", json_boolean(rc == JPL_OK));
        json_object_set_new(o, "size", json_integer((json_int_t)rep.size));
        json_object_set_new(o, "entries_checked", json_integer((json_int_t)rep.entries));
        json_object_set_new(o, "checkpoints_checked", json_integer((json_int_t)rep.checkpoints));
        if (rc == JPL_OK)
            json_object_set_new(o, "root", cli_json_hex(rep.root, 32));
        else {
            json_object_set_new(o, "first_bad_seq", json_integer((json_int_t)rep.first_bad_seq));
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
    return JPL_OK;
}
