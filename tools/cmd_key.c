/*
 * `jpledger key`: the admin registers and revokes signing keys (as key_registered / key_revoked
 * events signed with an admin key), and anyone lists the registry as the log defines it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jpl/client.h"
#include "jpl/codec.h"
#include "jpl/event_json.h"
#include "jpl/keyfile.h"
#include "jpl/ledger.h"
#include "jpl/projections.h"

static const char *const ROLES[] = {"", "admin", "hr", "supervisor", "lms", "verifier", "auditor"};

static int role_from_name(const char *name)
{
    for (int i = 1; i < (int)(sizeof ROLES / sizeof ROLES[0]); i++)
        if (strcmp(ROLES[i], name) == 0)
            return i;
    return 0;
}

static int key_list(const char *dir, bool json)
{
    jpl_ledger *l = NULL;
    jpl_error e = {0};
    jpl_err rc = jpl_ledger_open(dir, false, &l, &e);
    if (rc != JPL_OK)
        return cli_fail("key", rc, "%s", e.msg);
    jpl_iter *it = jpl_store_iter(jpl_ledger_store(l), JPL_CF_STATE, "K", 1);
    for (; jpl_iter_valid(it); jpl_iter_next(it)) {
        size_t klen = 0, vlen = 0;
        const uint8_t *k = jpl_iter_key(it, &klen);
        const uint8_t *v = jpl_iter_value(it, &vlen);
        if (klen != 33 || k[0] != 'K' || vlen < 18)
            break;
        char name[256];
        size_t nlen = vlen - 18 < sizeof name - 1 ? vlen - 18 : sizeof name - 1;
        memcpy(name, v + 18, nlen);
        name[nlen] = '\0';
        jpl_note_verifier ver;
        char vkey[JPL_NOTE_VKEY_SIZE] = "";
        if (jpl_note_verifier_from_pubkey(name, k + 1, &ver, NULL) != JPL_OK ||
            jpl_note_verifier_format(&ver, vkey, sizeof vkey, NULL) != JPL_OK)
            snprintf(vkey, sizeof vkey, "(unprintable key)");
        const char *role = v[0] < 7 ? ROLES[v[0]] : "?";
        unsigned long long reg = (unsigned long long)jpl_get_u64be(v + 2);
        unsigned long long rev = (unsigned long long)jpl_get_u64be(v + 10);
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "name", json_string(name));
            json_object_set_new(o, "role", json_string(role));
            json_object_set_new(o, "vkey", json_string(vkey));
            json_object_set_new(o, "registered_seq", json_integer((json_int_t)reg));
            if (v[1])
                json_object_set_new(o, "revoked_seq", json_integer((json_int_t)rev));
            cli_print_json(o);
        } else {
            printf("%-10s %-24s registered at %llu%s  %s\n", role, name, reg,
                   v[1] ? " REVOKED" : "", vkey);
        }
    }
    rc = jpl_iter_status(it, &e);
    jpl_iter_free(it);
    jpl_ledger_close(l);
    return rc == JPL_OK ? JPL_OK : cli_fail("key", rc, "%s", e.msg);
}

int cmd_key(int argc, char **argv);
int cmd_key(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("key", "say 'key register', 'key revoke' or 'key list'");
    const char *sub = argv[1];
    static const struct option opts[] = {{"data", required_argument, 0, 'd'},
                                         {"key", required_argument, 0, 'k'},
                                         {"vkey", required_argument, 0, 'v'},
                                         {"role", required_argument, 0, 'r'},
                                         {"reason", required_argument, 0, 'w'},
                                         {"json", no_argument, 0, 'j'},
                                         CLI_REMOTE_OPTS,
                                         {0, 0, 0, 0}};
    const char *data = NULL, *key = NULL, *vkey = NULL, *role = NULL, *reason = NULL;
    cli_remote remote = {0};
    bool json = false;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "+", opts, NULL)) != -1) {
        if (cli_remote_opt(c, &remote))
            continue;
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 'k':
            key = optarg;
            break;
        case 'v':
            vkey = optarg;
            break;
        case 'r':
            role = optarg;
            break;
        case 'w':
            reason = optarg;
            break;
        case 'j':
            json = true;
            break;
        default:
            return cli_bad_option("key", argv + 1);
        }
    }
    if (optind < argc - 1)
        return cli_usage_error("key", "unexpected argument");
    const char *dir = cli_data_dir(data);
    if (strcmp(sub, "list") == 0) {
        if (remote.url != NULL)
            return cli_usage_error("key", "'key list' reads the ledger in --data DIR; it has no "
                                          "--url form (use 'jpledger read --url' for the log)");
        return key_list(dir, json);
    }
    bool reg = strcmp(sub, "register") == 0;
    if (!reg && strcmp(sub, "revoke") != 0)
        return cli_usage_error("key", "say 'key register', 'key revoke' or 'key list'");
    if (key == NULL || vkey == NULL || (reg && role == NULL))
        return cli_usage_error("key", reg ? "--key, --vkey and --role are required"
                                          : "--key and --vkey are required");
    int role_id = reg ? role_from_name(role) : 0;
    if (reg && role_id == 0)
        return cli_usage_error("key",
                               "--role must be admin, hr, supervisor, lms, verifier or auditor");
    jpl_note_verifier target;
    jpl_note_signer signer;
    jpl_error e = {0};
    jpl_err rc = jpl_keyfile_read_verifier(vkey, &target, &e);
    if (rc != JPL_OK)
        return cli_fail("key", rc, "--vkey: %s", e.msg);
    if ((rc = jpl_keyfile_read_signer(key, &signer, &e)) != JPL_OK)
        return cli_fail("key", rc, "--key: %s", e.msg);
    jpl_ledger *l = NULL;
    jpl_client *client = NULL;
    jpl_projections *proj = NULL;
    if (remote.url) {
        int crc = cli_connect("key", &remote, &client);
        if (crc != JPL_OK) {
            jpl_note_signer_wipe(&signer);
            return crc;
        }
    } else if ((rc = cli_open_writable(dir, &l, &proj, &e)) != JPL_OK) {
        jpl_note_signer_wipe(&signer);
        return cli_fail("key", rc, "%s", e.msg);
    }
    Jpl__Event ev = JPL__EVENT__INIT;
    Jpl__KeyRegistered kr = JPL__KEY_REGISTERED__INIT;
    Jpl__KeyRevoked kv = JPL__KEY_REVOKED__INIT;
    if (reg) {
        kr.public_key = (ProtobufCBinaryData){32, target.pk};
        kr.name = target.name;
        kr.role = (Jpl__Role)role_id;
        ev.body_case = JPL__EVENT__BODY_KEY_REGISTERED;
        ev.key_registered = &kr;
    } else {
        kv.public_key = (ProtobufCBinaryData){32, target.pk};
        kv.reason = (char *)reason;
        ev.body_case = JPL__EVENT__BODY_KEY_REVOKED;
        ev.key_revoked = &kv;
    }
    int ret = cli_append_event("key", l, client, &signer, &ev, json);
    jpl_ledger_close(l);
    jpl_client_close(client);
    jpl_projections_free(proj);
    jpl_note_signer_wipe(&signer);
    return ret;
}
