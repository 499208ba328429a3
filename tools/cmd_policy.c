/*
 * `jpledger policy set`: the admin signs a policy_set event giving, from an effective year on,
 * the PNS floor, the PPPK cap, minutes per JP and the non-classical conversion table. Every value
 * not given takes the national default (PP 11/2017 as amended, PP 49/2018, the LAN conversion
 * table), so a policy event always states the whole policy it puts in force.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jpl/client.h"
#include "jpl/event_json.h"
#include "jpl/keyfile.h"
#include "jpl/projections.h"

#define MAX_RULES 64

/* National defaults: PNS >= 20 JP, PPPK <= 24 JP, 45 minutes per JP, LAN day rates. */
static const Jpl__ConversionRule DEFAULT_RULES[] = {
    {PROTOBUF_C_MESSAGE_INIT(&jpl__conversion_rule__descriptor), "seminar", 400, 600},
    {PROTOBUF_C_MESSAGE_INIT(&jpl__conversion_rule__descriptor), "workshop", 500, 700},
};

/* "20", "20.5" or "20.25" JP -> centi-JP. */
static bool parse_jp(const char *s, uint32_t *out)
{
    char whole[16] = "", frac[3] = "00";
    const char *dot = strchr(s, '.');
    size_t wl = dot ? (size_t)(dot - s) : strlen(s);
    if (wl == 0 || wl >= sizeof whole)
        return false;
    memcpy(whole, s, wl);
    if (dot) {
        size_t fl = strlen(dot + 1);
        if (fl == 0 || fl > 2 || strspn(dot + 1, "0123456789") != fl)
            return false;
        frac[0] = dot[1];
        frac[1] = fl == 2 ? dot[2] : '0';
    }
    uint64_t w = 0, f = 0;
    if (!cli_parse_u64(whole, &w) || !cli_parse_u64(frac, &f) || w > 100000)
        return false;
    *out = (uint32_t)(w * 100 + f);
    return true;
}

/* "FORM:NATIONAL_JP:INTERNATIONAL_JP" per day, e.g. "seminar:4:6". */
static bool parse_rule(char *s, Jpl__ConversionRule *out)
{
    char *a = strchr(s, ':');
    char *b = a ? strchr(a + 1, ':') : NULL;
    if (a == NULL || b == NULL || a == s)
        return false;
    *a = '\0';
    *b = '\0';
    jpl__conversion_rule__init(out);
    out->form = s;
    return parse_jp(a + 1, &out->national_jp_centi_per_day) &&
           parse_jp(b + 1, &out->international_jp_centi_per_day);
}

int cmd_policy(int argc, char **argv);
int cmd_policy(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "set") != 0)
        return cli_usage_error("policy", "say 'policy set'");
    static const struct option opts[] = {{"data", required_argument, 0, 'd'},
                                         CLI_REMOTE_OPTS,
                                         {"key", required_argument, 0, 'k'},
                                         {"year", required_argument, 0, 'y'},
                                         {"pns-floor", required_argument, 0, 'f'},
                                         {"pppk-cap", required_argument, 0, 'p'},
                                         {"minutes-per-jp", required_argument, 0, 'm'},
                                         {"conversion", required_argument, 0, 'v'},
                                         {"international-bonus", required_argument, 0, 'b'},
                                         {"json", no_argument, 0, 'j'},
                                         {0, 0, 0, 0}};
    const char *data = NULL, *key = NULL;
    cli_remote remote = {0};
    Jpl__PolicySet ps = JPL__POLICY_SET__INIT;
    ps.pns_floor_jp_centi = 2000;
    ps.pppk_cap_jp_centi = 2400;
    ps.minutes_per_jp = 45;
    ps.has_international_bonus_percent = 1;
    ps.international_bonus_percent = 20; /* LAN: international training +20% */
    Jpl__ConversionRule rules[MAX_RULES], *rule_ptrs[MAX_RULES];
    size_t n_rules = 0;
    bool json = false, has_year = false;
    uint64_t v = 0;
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
        case 'j':
            json = true;
            break;
        case 'y':
            if (!cli_parse_u64(optarg, &v) || v < 2000 || v > 2100)
                return cli_usage_error("policy", "--year takes 2000..2100");
            ps.effective_year = (uint32_t)v;
            has_year = true;
            break;
        case 'f':
            if (!parse_jp(optarg, &ps.pns_floor_jp_centi))
                return cli_usage_error("policy", "--pns-floor takes JP like 20 or 20.5");
            break;
        case 'p':
            if (!parse_jp(optarg, &ps.pppk_cap_jp_centi) || ps.pppk_cap_jp_centi == 0)
                return cli_usage_error("policy", "--pppk-cap takes positive JP like 24");
            break;
        case 'm':
            if (!cli_parse_u64(optarg, &v) || v == 0 || v > JPL_MAX_MINUTES_PER_JP)
                return cli_usage_error("policy", "--minutes-per-jp takes 1..600");
            ps.minutes_per_jp = (uint32_t)v;
            break;
        case 'b':
            if (!cli_parse_u64(optarg, &v) || v > 100)
                return cli_usage_error("policy", "--international-bonus takes 0..100 (percent)");
            ps.has_international_bonus_percent = 1;
            ps.international_bonus_percent = (uint32_t)v;
            break;
        case 'v':
            if (n_rules == MAX_RULES || !parse_rule(optarg, &rules[n_rules]))
                return cli_usage_error("policy", "--conversion takes FORM:NATIONAL:INTERNATIONAL "
                                                 "(JP per day), e.g. seminar:4:6");
            n_rules++;
            break;
        default:
            return cli_bad_option("policy", argv + 1);
        }
    }
    if (optind < argc - 1)
        return cli_usage_error("policy", "unexpected argument");
    if (!has_year || key == NULL)
        return cli_usage_error("policy", "--year and --key (an admin key) are required");
    if (n_rules == 0) {
        n_rules = sizeof DEFAULT_RULES / sizeof DEFAULT_RULES[0];
        memcpy(rules, DEFAULT_RULES, sizeof DEFAULT_RULES);
    }
    for (size_t i = 0; i < n_rules; i++)
        rule_ptrs[i] = &rules[i];
    ps.conversions = rule_ptrs;
    ps.n_conversions = n_rules;
    jpl_note_signer signer;
    jpl_error e = {0};
    jpl_err rc = jpl_keyfile_read_signer(key, &signer, &e);
    if (rc != JPL_OK)
        return cli_fail("policy", rc, "--key: %s", e.msg);
    jpl_ledger *l = NULL;
    jpl_projections *proj = NULL;
    jpl_client *client = NULL;
    int ret = JPL_OK;
    if (remote.url)
        ret = cli_connect("policy", &remote, &client);
    else if ((rc = cli_open_writable(cli_data_dir(data), &l, &proj, &e)) != JPL_OK)
        ret = cli_fail("policy", rc, "%s", e.msg);
    Jpl__Event ev = JPL__EVENT__INIT;
    ev.body_case = JPL__EVENT__BODY_POLICY_SET;
    ev.policy_set = &ps;
    if (ret == JPL_OK)
        ret = cli_append_event("policy", l, client, &signer, &ev, json);
    jpl_ledger_close(l);
    jpl_projections_free(proj);
    jpl_client_close(client);
    jpl_note_signer_wipe(&signer);
    return ret;
}
