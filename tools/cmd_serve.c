/* `jpledger serve`: runs the NNG server on a ledger until SIGINT or SIGTERM. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "jpl/server.h"
#include "serve_ext.h"

static volatile sig_atomic_t stop_flag = 0;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

int cmd_serve(int argc, char **argv);
int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, 0, 'd'},
                                         {"rep", required_argument, 0, 'r'},
                                         {"pub", required_argument, 0, 'p'},
                                         {"workers", required_argument, 0, 'w'},
                                         {"anonymous-local", no_argument, 0, 'a'},
                                         {"tls-cert", required_argument, 0, 'c'},
                                         {"tls-key", required_argument, 0, 'k'},
                                         {"tls-ca", required_argument, 0, 'A'},
                                         {0, 0, 0, 0}};
    jpl_server_opts o = {0};
    const char *data = NULL;
    uint64_t workers = 0;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 'r':
            o.rep_url = optarg;
            break;
        case 'p':
            o.pub_url = optarg;
            break;
        case 'a':
            o.anonymous_local = true;
            break;
        case 'c':
            o.tls.cert_file = optarg;
            break;
        case 'k':
            o.tls.key_file = optarg;
            break;
        case 'A':
            o.tls.ca_file = optarg;
            break;
        case 'w':
            if (!cli_parse_u64(optarg, &workers) || workers == 0 || workers > 64)
                return cli_usage_error("serve", "--workers takes 1..64");
            break;
        default:
            return cli_bad_option("serve", argv);
        }
    }
    if (optind < argc)
        return cli_usage_error("serve", "unexpected argument");
    o.data_dir = cli_data_dir(data);
    o.workers = (int)workers;
    o.stop = &stop_flag;
    serve_ext_install(&o);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    jpl_error e = {0};
    jpl_err rc = jpl_server_run(&o, &e);
    serve_ext_release();
    if (rc != JPL_OK)
        return cli_fail("serve", rc, "%s", e.msg);
    return JPL_OK;
}
