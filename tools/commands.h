/*
 * The command table of the `jpledger` CLI. Each command is `int cmd_x(int argc, char **argv)`
 * returning a process exit code (a jpl_err value, see docs/CLI.md); argv[0] is the command name.
 */
#ifndef JPL_TOOLS_COMMANDS_H
#define JPL_TOOLS_COMMANDS_H

typedef int (*jpl_cmd_fn)(int argc, char **argv);

typedef struct {
    const char *name;
    const char *summary;
    const char *usage; /* full --help text */
    jpl_cmd_fn run;    /* NULL: listed but not in this version yet */
} jpl_command;

/* Prints "jpledger CMD: message" to stderr and returns code (for `return cli_fail(...)`). */
int cli_fail(const char *cmd, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* True if argv holds -h or --help. */
int cli_wants_help(int argc, char **argv);

#endif
