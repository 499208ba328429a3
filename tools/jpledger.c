/*
 * jpledger: the command-line entry point. Dispatches `jpledger COMMAND [options]` through the
 * command table below; `jpledger --help` lists every command, `jpledger COMMAND --help` shows one.
 * Exit codes are the jpl_err values (docs/CLI.md); 2 is a usage error.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

int cmd_init(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_append(int argc, char **argv);
int cmd_read(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv);
int cmd_prove(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_subscribe(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_balance(int argc, char **argv);
int cmd_trail(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_import(int argc, char **argv);
#include "jpl/crypto.h"
#include "jpl/err.h"

#define DATA_OPT                                                                                   \
    "  --data DIR        ledger directory (default: $JPLEDGER_DATA or ./jpledger-data)\n"
#define REMOTE_OPT                                                                                 \
    "  --url URL         talk to a running server instead of DIR (--auth-key FILE proves a\n"      \
    "                    read key, --tls-ca FILE for tls+tcp://)\n"
#define JSON_OPT "  --json            one JSON object per line on stdout\n"

static const jpl_command COMMANDS[] = {
    {"init", "create a new ledger (database, log key, first admin key)",
     "usage: jpledger init [--data DIR] [--origin NAME] [--admin-name NAME]\n" DATA_OPT
     "  --origin NAME     checkpoint origin line (default: jpledger.local/log)\n"
     "  --admin-name NAME name of the first admin key (default: admin)\n" JSON_OPT,
     cmd_init},
    {"serve", "serve the ledger over NNG request/reply and pub/sub",
     "usage: jpledger serve [--data DIR] [--rep URL] [--pub URL] [--workers N]\n"
     "                      [--anonymous-local] [--tls-cert FILE --tls-key FILE]\n"
     "  --rep URL          request/reply socket (default tcp://127.0.0.1:7450)\n"
     "  --pub URL          publish socket (default tcp://127.0.0.1:7451); URLs may be tcp://,\n"
     "                     ipc:// or tls+tcp:// (the last needs --tls-cert and --tls-key)\n"
     "  --workers N        requests in flight (default 16)\n"
     "  --anonymous-local  let local peers (loopback, ipc) read personal data without a key\n"
     "  stops cleanly on SIGINT/SIGTERM; logs one line per start, stop and error\n" DATA_OPT,
     cmd_serve},
    {"keygen", "write a new Ed25519 key pair (signed-note key format)",
     "usage: jpledger keygen --name NAME --out FILE [--json]\n"
     "  writes FILE (private, mode 0600) and FILE.pub (verifier key); prints the verifier "
     "key\n" JSON_OPT,
     cmd_keygen},
    {"key", "register, revoke or list signing keys",
     "usage: jpledger key register --key ADMIN.key --vkey VKEY|FILE --role ROLE [--data DIR]\n"
     "       jpledger key revoke --key ADMIN.key --vkey VKEY|FILE [--reason TEXT] [--data DIR]\n"
     "       jpledger key list [--data DIR] [--json]\n"
     "  roles: admin, hr, supervisor, lms, verifier, auditor\n" DATA_OPT
     "  register and revoke also go through a server:\n" REMOTE_OPT JSON_OPT,
     cmd_key},
    {"policy", "set the JP policy from a year on (admin)",
     "usage: jpledger policy set --key ADMIN.key --year Y [--pns-floor JP] [--pppk-cap JP]\n"
     "                          [--minutes-per-jp N] [--conversion FORM:NAT:INTL]...\n"
     "                          [--international-bonus PCT] [--data DIR | --url URL] [--json]\n"
     "  puts a whole policy in force from year Y on (until a later year's policy); values not\n"
     "  given are the national defaults: PNS floor 20 JP, PPPK cap 24 JP, 45 minutes per JP,\n"
     "  conversions seminar:4:6 and workshop:5:7 (JP per day, national:international),\n"
     "  international bonus 20%\n" DATA_OPT REMOTE_OPT JSON_OPT,
     cmd_policy},
    {"append", "sign and append events (JSON lines)",
     "usage: jpledger append [--data DIR] --key FILE [--batch N] [--json] [FILE.ndjson|-]\n"
     "  reads one JSON event per line (docs/EVENTS.md), signs each with FILE's key and appends\n"
     "  them in batches of N (default 1000); each batch is all-or-nothing\n" DATA_OPT REMOTE_OPT
         JSON_OPT,
     cmd_append},
    {"read", "read log entries from a position",
     "usage: jpledger read [--data DIR] [--from SEQ] [--count N] [--json]\n" DATA_OPT REMOTE_OPT
         JSON_OPT,
     cmd_read},
    {"balance", "JP balance of one employee",
     "usage: jpledger balance NIP [--year Y] [--data DIR] [--json]\n"
     "  planned, approved, enrolled, completed, recognized and counted JP per year, and the\n"
     "  status under that year's policy (PNS: met/short; PPPK: within/over the cap).\n"
     "  Without --year: every year with figures. Unknown NIP: exit 16\n" DATA_OPT REMOTE_OPT
         JSON_OPT,
     cmd_balance},
    {"trail", "audit trail of one employee",
     "usage: jpledger trail NIP [--proofs] [--data DIR] [--json]\n"
     "  every event about the employee in log order: seq, type, issuer key and role, issued\n"
     "  and recorded times, leaf hash; revocations name what they revoke. --proofs adds to each\n"
     "  --json row its inclusion proof in the current tree "
     "(\"proof\":{\"tree_size\",\"path\"})\n" DATA_OPT REMOTE_OPT JSON_OPT,
     cmd_trail},
    {"report", "unit compliance report",
     "usage: jpledger report --year Y [--unit U] [--data DIR] [--json]\n"
     "  per unit (all units without --unit): headcount by kind, PNS meeting the floor, PPPK\n"
     "  at or over the cap, recognized JP (total and mean)\n" DATA_OPT REMOTE_OPT JSON_OPT,
     cmd_report},
    {"subscribe", "follow committed entries live, losing none",
     "usage: jpledger subscribe [--url REQURL] [--pub PUBURL] [--from SEQ] [--type T] [--unit U]\n"
     "                          [--auth-key FILE] [--out FILE | --position-file FILE]\n"
     "                          [--count N] [--json]\n"
     "  reads the log from SEQ (default: the current end), then follows the PUB socket; gaps\n"
     "  are filled from the log, so every entry is printed once and in order. --out FILE\n"
     "  appends to FILE and resumes from its last line after a restart, even after kill -9\n"
     "  (exactly once); --position-file keeps just the next seq (a crash may repeat one entry);\n"
     "  on exit the resume position is printed on stderr. --count N stops after N entries.\n"
     "  Reading needs an auditor, hr or admin key (--auth-key) unless the server allows\n"
     "  anonymous local reads\n" JSON_OPT,
     cmd_subscribe},
    {"status", "status of a running server",
     "usage: jpledger status [--url REQURL] [--auth-key FILE] [--json]\n"
     "  log size, origin, log key, uptime and projection positions of a running server\n"
     "  (default tcp://127.0.0.1:7450); --json adds the latest checkpoint\n" JSON_OPT,
     cmd_status},
    {"checkpoint", "print the latest signed checkpoint; an auditor cosigns it",
     "usage: jpledger checkpoint [--data DIR] [--size N]\n"
     "       jpledger checkpoint --cosign --key AUDITOR.key --url URL [--log-key VKEY|FILE]\n"
     "                           [--state FILE] [--json]\n"
     "  prints the latest signed checkpoint (C2SP tlog-checkpoint note) verbatim: the log's\n"
     "  signature, then every auditor's cosignature. --size N: the kept checkpoint of tree\n"
     "  size N instead (one is kept for every committed group: the tree_size of a proof).\n"
     "  --cosign: opens the server's latest checkpoint with the log key (--log-key, default:\n"
     "  the server's), checks with a consistency proof that it extends the checkpoint in\n"
     "  --state FILE (the last one this auditor cosigned; refuses a fork or a rollback, exit\n"
     "  9), writes the new one there, then sends the auditor's signature line to the server.\n"
     "  The key must be registered with role auditor. A refused cosignature stays the state:\n"
     "  this key has signed that checkpoint\n" DATA_OPT REMOTE_OPT,
     cmd_checkpoint},
    {"prove", "inclusion and consistency proofs",
     "usage: jpledger prove inclusion --seq I [--size N] [--json]\n"
     "       jpledger prove consistency --from M --to N [--json]\n"
     "  hashes in lowercase hex, paths in RFC 9162 order; --size defaults to the log "
     "size\n" DATA_OPT REMOTE_OPT JSON_OPT,
     cmd_prove},
    {"export", "write the log to one file for offline verification",
     "usage: jpledger export --out FILE [--data DIR | --url URL] [--size N] [--force] [--json]\n"
     "  writes a bundle (docs/FORMAT.md): the origin, the log's verifier key, the latest signed\n"
     "  checkpoint (of size N) and entries 0..N-1 verbatim; later entries are left out.\n"
     "  Check it with `jpledger verify --export FILE --log-key VKEY`.\n"
     "  --size N   an older checkpoint (one is kept at the size of every committed group)\n"
     "  --force    replace an existing file FILE (without it: exit 17; a directory: exit 19)\n"
     "  FILE is written under a temporary name, fsynced and renamed (mode 0600: it holds\n"
     "  personal data); a failed export leaves nothing. Through --url the server must let the\n"
     "  connection read the log (--auth-key of an auditor, hr or admin key)\n" DATA_OPT REMOTE_OPT
         JSON_OPT,
     cmd_export},
    {"verify", "verify every entry, signature and checkpoint",
     "usage: jpledger verify [--data DIR] [--log-key VKEY|FILE] [--threads N] [--json]\n"
     "       jpledger verify --export FILE --log-key VKEY|FILE [--threads N] [--json]\n"
     "  checks every entry, signature, key, Merkle node and checkpoint; names the first bad\n"
     "  seq. Then every auditor cosignature; lists the auditors that cosigned the latest\n"
     "  checkpoint. --log-key (or --key) defaults to DIR/log.vkey; give the key you trust.\n"
     "  --export FILE checks a bundle written by `jpledger export` with nothing but the key:\n"
     "  every entry's signature, key and role at its position, unique ids, the Merkle root\n"
     "  against the signed checkpoint; --log-key is required then\n" DATA_OPT JSON_OPT,
     cmd_verify},
    {"replay", "rebuild projections from seq 0",
     "usage: jpledger replay [--projection balances|units|trail] [--check] [--data DIR] [--json]\n"
     "  rebuilds the projections from the log beside the live state (progress on a terminal),\n"
     "  then switches atomically; prints each projection's digest and the live one's.\n"
     "  --check builds and compares without switching: exit 18 if the live state differs.\n"
     "  With --url (and --auth-key of an admin key) a running server replays online: it pauses\n"
     "  appends meanwhile\n" DATA_OPT REMOTE_OPT JSON_OPT,
     cmd_replay},
    {"import", "import xAPI statements or an employee CSV",
     "usage: jpledger import xapi --key LMS.key [--minutes-per-jp N] [--activities FILE]\n"
     "                            [--batch N] [--json] FILE|-\n"
     "       jpledger import employees --key HR.key [--batch N] [--json] FILE.csv|-\n"
     "  xapi: xAPI statements (a JSON array, or one per line) become enrollments, completions\n"
     "  and revocations; the statement id is the event id, so importing again changes nothing.\n"
     "  The actor must be an Agent whose account name is the NIP. --minutes-per-jp converts\n"
     "  result.duration to JP (default 45); --activities reads activity_defined lines whose JP\n"
     "  wins over the duration. employees: CSV with a header\n"
     "  nip,kind,unit[,cap_exempt][,contract_start] (YYYY-MM-DD, PPPK only); registers new\n"
     "  employees and updates registered ones (a new contract_start is a renewal).\n"
     "  Statements or rows that cannot be imported are reported one per line with the reason\n"
     "  and skipped; a summary line closes. Exit 0 if nothing was skipped, 3 if some were,\n"
     "  another code if the import stopped (docs/IMPORT.md)\n" DATA_OPT REMOTE_OPT JSON_OPT,
     cmd_import},
    {"gen", "generate a realistic ministry year of events",
     "usage: jpledger gen [--employees N] [--year Y] [--seed S] [--shard K/N]\n"
     "                    [--phase PHASE | --out-dir DIR] [--quiet]\n"
     "  writes a generated year as JSON events (docs/EVENTS.md), deterministic for a seed:\n"
     "  N employees (default 124000) in 150 units, activities, plans, approvals, enrollments,\n"
     "  completions, recognitions, revocations and transfers (docs/IMPORT.md). The year comes in\n"
     "  phases, each signed by one role; append them in this order:\n"
     "    employees (hr), activities (lms), plans (hr), approvals (supervisor),\n"
     "    learning (lms), recognitions (verifier), transfers (hr)\n"
     "  --phase PHASE     only that phase, on stdout (default: all phases in order, on stdout)\n"
     "  --out-dir DIR     one file per phase, DIR/1-employees.hr.ndjson ... "
     "7-transfers.hr.ndjson;\n"
     "                    prints 'FILE ROLE EVENTS' per file\n"
     "  --shard K/N       only employees (and activities) whose index mod N is K, to append\n"
     "                    one phase from N concurrent clients\n"
     "  --year Y          default 2025; not after the current year\n"
     "  a summary goes to stderr unless --quiet\n",
     cmd_gen},
    {"bench", "run benchmarks",
     "usage: jpledger bench ledger [--events N] [--dir DIR]\n"
     "  appends N signed events (default 50000) from two client threads into a new ledger, then\n"
     "  verifies it; prints rates and their ratios to raw Ed25519 verification and a raw RocksDB\n"
     "  scan measured in the same run (medians of 3). DIR must not hold a ledger (default: a new\n"
     "  directory under /tmp, removed afterwards)\n"
     "       jpledger bench replay [--events N] [--dir DIR]\n"
     "  appends a ministry-like history of N events (default 200000, at most 2000000), then\n"
     "  replays the projections 3 times; prints entries/s and the ratio to a raw RocksDB scan of\n"
     "  the log measured in the same run (medians of 3). A ledger already in DIR is replayed as\n"
     "  it is (no append figures); DIR is kept when given\n"
     "       jpledger bench ingest [--events N]\n"
     "       jpledger bench query [--events N]\n"
     "  the server in this process on IPC sockets, 4 client threads: batches of 100 signed\n"
     "  events, or inclusion proofs of random entries (docs/BENCHMARKS.md)\n",
     cmd_bench},
    {"demo", "run the end-to-end demo: a ministry year through the server",
     "usage: jpledger demo [--employees N] [--dir DIR] [--seed S] [--year Y] [--clients K]\n"
     "                     [--verify-after]\n"
     "  creates a ledger in DIR/ledger (default ./jpledger-demo), registers the keys of an HR\n"
     "  system, an LMS, a verifier, a supervisor and an auditor, starts the server, appends a\n"
     "  generated year (default 124000 employees) through the API from K concurrent clients\n"
     "  (default 8, at most 16) while a subscriber follows live, prints the compliance\n"
     "  picture, verifies the whole log against the signed checkpoint, and prints timings.\n"
     "  An auditor thread verifies at low priority during the append, the rest after the\n"
     "  server stops; --verify-after verifies everything after it. DIR is left usable for\n"
     "  every other command\n",
     cmd_demo},
};

static const size_t N_COMMANDS = sizeof COMMANDS / sizeof COMMANDS[0];

int cli_fail(const char *cmd, int code, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "jpledger %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (code == JPL_ERR_UNAUTHORIZED) /* the server's words are the protocol's; say the option */
        fprintf(stderr, "; give --auth-key FILE, an auditor, hr or admin private key");
    fprintf(stderr, " [%s]\n", jpl_strerror((jpl_err)code));
    return code;
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

/* Options that collect a list and may be given more than once. */
static const char *const REPEATABLE[] = {"--conversion"};

static bool repeatable(const char *opt, size_t len)
{
    for (size_t i = 0; i < sizeof REPEATABLE / sizeof REPEATABLE[0]; i++)
        if (strlen(REPEATABLE[i]) == len && strncmp(REPEATABLE[i], opt, len) == 0)
            return true;
    return false;
}

/* The length of the option name in arg ("--year" of "--year=2026"), 0 if arg is no option. */
static size_t option_len(const char *arg)
{
    return strncmp(arg, "--", 2) == 0 && arg[2] != '\0' ? strcspn(arg, "=") : 0;
}

/* An option given twice: getopt keeps the last value without a word, so `policy set --year
 * 2026 ... --year 2027` would sign a policy for a year the admin may not have meant. Returns
 * the index of the second occurrence, 0 if there is none. */
static int repeated_option(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        size_t n = option_len(argv[i]);
        if (n == 0 || repeatable(argv[i], n))
            continue;
        for (int j = 1; j < i; j++)
            if (option_len(argv[j]) == n && strncmp(argv[j], argv[i], n) == 0)
                return i;
    }
    return 0;
}

static void print_help(FILE *out)
{
    fprintf(out, "jpledger: a signed, verifiable ledger of civil servants' training hours (JP)\n\n"
                 "usage: jpledger COMMAND [options]   (jpledger COMMAND --help for details)\n\n"
                 "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-11s %s%s\n", COMMANDS[i].name, COMMANDS[i].summary,
                COMMANDS[i].run ? "" : " (not in this version yet)");
    fprintf(out, "\nexit codes: 0 ok, 2 usage, 3 bad input, 4 too large, 5 bad signature,\n"
                 "  6 unknown key, 7 key revoked, 8 forbidden, 9 conflict, 10 version mismatch,\n"
                 "  11 no employee, 12 bad reference, 13 double count, 14 over JP, 15 rule,\n"
                 "  16 not found, 17 exists, 18 corrupt, 19 I/O, 20 internal, 21 unauthorized\n");
}

static const jpl_command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(COMMANDS[i].name, name) == 0)
            return &COMMANDS[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return JPL_ERR_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_help(stdout);
        return JPL_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("jpledger 0.1.0\n");
        return JPL_OK;
    }
    const jpl_command *cmd = find_command(argv[1]);
    if (cmd == NULL)
        return cli_fail(argv[1], JPL_ERR_USAGE,
                        "unknown command (see 'jpledger --help' for the list)");
    if (cli_wants_help(argc - 1, argv + 1)) {
        fputs(cmd->usage, stdout);
        return JPL_OK;
    }
    if (cmd->run == NULL)
        return cli_fail(cmd->name, JPL_ERR_USAGE, "not available in this version yet");
    int rep = repeated_option(argc - 1, argv + 1);
    if (rep > 0)
        return cli_fail(cmd->name, JPL_ERR_USAGE,
                        "option %.*s is given twice (see 'jpledger %s --help')",
                        (int)option_len(argv[1 + rep]), argv[1 + rep], cmd->name);
    if (!jpl_crypto_init())
        return cli_fail(cmd->name, JPL_ERR_INTERNAL, "libsodium failed to initialise");
    return cmd->run(argc - 1, argv + 1);
}
