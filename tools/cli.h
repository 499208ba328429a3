/*
 * Helpers shared by the CLI commands: option values, the data directory, JSON output lines.
 */
#ifndef JPL_TOOLS_CLI_H
#define JPL_TOOLS_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "commands.h"
#include "jpl/err.h"

/* Parses a whole decimal uint64 (no sign, no junk); false on anything else. */
bool cli_parse_u64(const char *s, uint64_t *out);

/* The data directory: the --data value, else $JPLEDGER_DATA, else ./jpledger-data. */
const char *cli_data_dir(const char *opt);

/* Prints obj as one compact JSON line on stdout and releases it. */
void cli_print_json(json_t *obj);

/* Prints a lowercase hex string of data. */
json_t *cli_json_hex(const uint8_t *data, size_t len);

/* Reports an unknown option or missing argument from getopt and returns JPL_ERR_USAGE. */
int cli_usage_error(const char *cmd, const char *what);

#endif
