/*
 * Helpers for tests that append events: seal a JSON event (docs/EVENTS.md) with a key, append
 * it, register a key. Each prints what failed on stderr and returns the code.
 */
#ifndef JPL_TEST_EVENTS_H
#define JPL_TEST_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "jpl/ledger.h"
#include "jpl/note.h"

/* Signs the event of JSON text json (issued now unless it says when) with k into a serialized
 * SignedEnvelope: *env is malloc'd, the caller frees it. */
jpl_err jpl_test_seal(const jpl_note_signer *k, const char *json, uint8_t **env, size_t *len);
/* Seals json with k and appends it to l alone; res (may be NULL) gets the result. */
jpl_err jpl_test_append(jpl_ledger *l, const jpl_note_signer *k, const char *json,
                        jpl_append_result *res);
/* Appends key_registered of key (its name) with role, signed by admin. */
jpl_err jpl_test_register_key(jpl_ledger *l, const jpl_note_signer *admin,
                              const jpl_note_signer *key, const char *role);

#endif
