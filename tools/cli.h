/*
 * Helpers shared by the CLI commands: option values, the data directory, JSON output lines.
 */
#ifndef JPL_TOOLS_CLI_H
#define JPL_TOOLS_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "commands.h"
#include "jpl/bundle.h"
#include "jpl/codec.h"
#include "jpl/err.h"
#include "jpl/ledger.h"
#include "jpl/merkle.h"
#include "jpl/note.h"

/* Parses a whole decimal uint64 (no sign, no junk); false on anything else. */
bool cli_parse_u64(const char *s, uint64_t *out);

/* The data directory: the --data value, else $JPLEDGER_DATA, else ./jpledger-data. */
const char *cli_data_dir(const char *opt);

/* Prints obj as one compact JSON line on stdout and releases it. */
void cli_print_json(json_t *obj);

/* Prints a lowercase hex string of data. */
json_t *cli_json_hex(const uint8_t *data, size_t len);

/* Progress of a long command on stderr when it is a terminal: "LABEL: done/total entries (P%)"
 * on one line (ctx is the label, a const char *); cli_progress_end ends the line. */
void cli_progress(void *ctx, uint64_t done, uint64_t total);
void cli_progress_end(void);

/* Prints a usage error for cmd ("WHAT (see 'jpledger CMD --help')") and returns JPL_ERR_USAGE. */
int cli_usage_error(const char *cmd, const char *what);

/* Runs getopt_long over argv from the start, options only before the first operand ("+"):
 *   CLI_GETOPT_LOOP(argc, argv, opts, c) { switch (c) ... } */
#define CLI_GETOPT_LOOP(argc, argv, longopts, c)                                                   \
    opterr = 0;                                                                                    \
    optind = 1;                                                                                    \
    while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1)

/* The usage error for getopt_long's '?' over args (the array getopt ran over): names the
 * unknown option or the option missing its value, args[optind - 1]. */
int cli_bad_option(const char *cmd, char **args);

/* Shared output of read and prove (local and remote): the read --json object of one stored
 * entry (NULL and *rc set on a decode failure), its text line, proofs as JSON or text. */
json_t *entry_json(const uint8_t *bytes, size_t len, jpl_error *e, jpl_err *rc);
/* Prints one stored entry: a JSON object (entry_json) or the text line "SEQ TYPE ID NIP". */
jpl_err print_entry(const uint8_t *bytes, size_t len, bool json, jpl_error *e);
json_t *path_json(const uint8_t (*path)[32], size_t n);
void print_proof(json_t *o, bool json);
json_t *inclusion_json(uint64_t seq, uint64_t size, const uint8_t leaf[32], const uint8_t root[32],
                       const uint8_t (*path)[32], size_t n);
json_t *consistency_json(uint64_t m, uint64_t n, const uint8_t r1[32], const uint8_t r2[32],
                         const uint8_t (*path)[32], size_t np);

/* Opens the input file path for reading, "-" being stdin. A file that cannot be opened or is
 * a directory is reported for cmd and its exit code returned; *out is set only on success. */
int cli_open_input(const char *cmd, const char *path, FILE **out);

/* Client-side connection options shared by every --url command. */
typedef struct {
    const char *url;      /* the server's REP URL */
    const char *auth_key; /* private key file proving a read role, or NULL */
    const char *tls_ca;   /* CA file for tls+tcp:// */
} cli_remote;

/* getopt codes of the connection options, above every command's own codes. */
enum { CLI_OPT_URL = 900, CLI_OPT_AUTH_KEY, CLI_OPT_TLS_CA }; /* commands number theirs from 1000 */
#define CLI_REMOTE_OPTS                                                                            \
    {"url", required_argument, 0, CLI_OPT_URL},                                                    \
        {"auth-key", required_argument, 0, CLI_OPT_AUTH_KEY},                                      \
    {                                                                                              \
        "tls-ca", required_argument, 0, CLI_OPT_TLS_CA                                             \
    }
/* Handles --url/--auth-key/--tls-ca; true if c was one of them. */
bool cli_remote_opt(int c, cli_remote *r);

struct jpl_client;
/* Connects (and authenticates when auth_key is set); prints the error and returns its code. */
int cli_connect(const char *cmd, const cli_remote *r, struct jpl_client **out);

/* Appends serialized envelopes through a server; fills res like jpl_ledger_append (the failing
 * event's code included). */
jpl_err cli_remote_append(struct jpl_client *c, const jpl_bytes *envs, size_t n,
                          jpl_append_result *res, jpl_error *e);

struct jpl_projections;
/* Opens the ledger in dir for writing with the projections attached (so balances, units and
 * trail move with every append). Both are closed by the caller: ledger first. */
jpl_err cli_open_writable(const char *dir, jpl_ledger **l_out, struct jpl_projections **p_out,
                          jpl_error *e);

/* Gives ev a fresh id and the current time, signs it with signer and appends it to l or through
 * client; prints the result line (`seq N id` or JSON). Returns the exit code. */
int cli_append_event(const char *cmd, jpl_ledger *l, struct jpl_client *client,
                     const jpl_note_signer *signer, Jpl__Event *ev, bool json);

/* One exchange with the server; prints the error and returns its code (tools/cmd_remote.c).
 * *resp (free with jpl_codec_response_free) is set whenever a response arrived. */
int cli_call(const char *cmd, struct jpl_client *c, const Jpl__Request *req, Jpl__Response **resp);
/* The server's status, checkpoint of tree size `size` (0: the latest), or consistency proof
 * between sizes m and n into
 * *resp (caller frees; its result is of the asked-for kind); print the error and return its
 * code. */
int cli_get_status(const char *cmd, struct jpl_client *c, Jpl__Response **resp);
int cli_get_checkpoint(const char *cmd, struct jpl_client *c, uint64_t size, Jpl__Response **resp);
int cli_get_consistency(const char *cmd, struct jpl_client *c, uint64_t m, uint64_t n,
                        Jpl__Response **resp);

/* A proof from the wire into path (each element exactly 32 bytes, at most 64); false if not. */
bool cli_wire_path(ProtobufCBinaryData *elems, size_t n, uint8_t path[JPL_MERKLE_MAX_PATH][32],
                   size_t *n_out);

/* `checkpoint --cosign` (tools/cmd_cosign.c): an auditor checks and cosigns the server's latest
 * checkpoint; key_path its private key, log_key (NULL: the server's) and state_path (NULL:
 * none) as in docs/CLI.md. Returns the exit code. */
int remote_cosign(const cli_remote *r, const char *key_path, const char *log_key,
                  const char *state_path, bool json);

/* The --url forms of read, checkpoint and prove (tools/cmd_remote.c). */
int remote_read(const cli_remote *r, uint64_t from, uint64_t count, bool json);
int remote_checkpoint(const cli_remote *r, uint64_t size);
int remote_prove_inclusion(const cli_remote *r, uint64_t seq, bool has_size, uint64_t size,
                           bool json);
int remote_prove_consistency(const cli_remote *r, uint64_t m, uint64_t n, bool json);
/* Writes an export bundle of the server's log up to its checkpoint of size `size` (0: the
 * latest) to path through read_log pages (jpl_bundle_* of jpl/bundle.h); prints errors itself
 * and returns the exit code, filling *rep on success. */
int remote_export(const cli_remote *r, uint64_t size, const char *path, bool force,
                  jpl_export_report *rep);

#endif
