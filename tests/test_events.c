/* Helpers for tests that append events (see test_events.h). */
#include "test_events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpl/event_json.h"

jpl_err jpl_test_seal(const jpl_note_signer *k, const char *json, uint8_t **env, size_t *len)
{
    Jpl__Event *ev = NULL;
    jpl_error e = {0};
    jpl_err rc = jpl_event_from_json_text(json, strlen(json), jpl_now_ms(), &ev, &e);
    if (rc == JPL_OK)
        rc = jpl_event_seal(ev, k->pk, k->sk, env, len, &e);
    if (rc != JPL_OK)
        fprintf(stderr, "seal: %s: %s\n", json, e.msg);
    jpl_event_free(ev);
    return rc;
}

jpl_err jpl_test_append(jpl_ledger *l, const jpl_note_signer *k, const char *json,
                        jpl_append_result *res)
{
    uint8_t *env = NULL;
    size_t len = 0;
    jpl_append_result local;
    jpl_err rc = jpl_test_seal(k, json, &env, &len);
    if (rc != JPL_OK)
        return rc;
    jpl_error e = {0};
    rc = jpl_ledger_append(l, &(jpl_bytes){env, len}, 1, res ? res : &local, &e);
    if (rc != JPL_OK)
        fprintf(stderr, "append: %s: %s\n", json, e.msg);
    free(env);
    return rc;
}

jpl_err jpl_test_register_key(jpl_ledger *l, const jpl_note_signer *admin,
                              const jpl_note_signer *key, const char *role)
{
    char json[512], b64[64];
    if (!jpl_base64_encode(b64, sizeof b64, key->pk, 32))
        return JPL_ERR_INTERNAL;
    snprintf(json, sizeof json,
             "{\"type\":\"key_registered\",\"public_key\":\"%s\",\"name\":\"%s\",\"role\":\"%s\"}",
             b64, key->name, role);
    return jpl_test_append(l, admin, json, NULL);
}
