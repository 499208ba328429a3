/*
 * Test helper: sends the bytes of a file (or N bytes of a pattern) as one request to a jpledger
 * REP URL and prints the response's error name and message. Used to send malformed and
 * oversize requests in the API integration test.
 *   jpl_nng_raw URL FILE          send FILE's bytes
 *   jpl_nng_raw URL --size N      send N bytes of 0xA5
 * Exit: the response code, or 100 when no response came (connection dropped, timeout).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpl/codec.h"
#include "jpl/keyfile.h"
#include "jpl/net.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: jpl_nng_raw URL FILE | URL --size N\n");
        return 2;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    jpl_error e = {0};
    if (strcmp(argv[2], "--size") == 0 && argc > 3) {
        len = strtoull(argv[3], NULL, 10);
        buf = malloc(len ? len : 1);
        if (buf == NULL)
            return 2;
        memset(buf, 0xA5, len);
    } else if (jpl_file_read_all(argv[2], 64u << 20, (char **)&buf, &len, &e) != JPL_OK) {
        fprintf(stderr, "%s\n", e.msg);
        return 2;
    }
    jpl_net_sock *s = NULL;
    if (jpl_net_dial_req(argv[1], JPL_MAX_API_BYTES, 5000, NULL, &s, &e) != JPL_OK) {
        fprintf(stderr, "%s\n", e.msg);
        return 2;
    }
    uint8_t *resp = NULL;
    size_t rlen = 0;
    int code = 100;
    if (jpl_net_call(s, buf, len, &resp, &rlen, &e) == JPL_OK) {
        Jpl__Response *r = NULL;
        if (jpl_codec_response_decode(resp, rlen, &r, &e) == JPL_OK) {
            printf("%s: %s\n", r->error ? r->error : "ok", r->message ? r->message : "");
            code = (int)r->code;
            jpl_codec_response_free(r);
        }
    } else {
        printf("no response: %s\n", e.msg);
    }
    free(resp);
    free(buf);
    jpl_net_close(s);
    return code;
}
