/*
 * Test helper: sends the bytes of a file (or N bytes of a pattern) as one request to a jpledger
 * REP URL and prints the response's error name and message. Used to send malformed and
 * oversize requests in the API integration test.
 *   jpl_nng_raw URL FILE          send FILE's bytes
 *   jpl_nng_raw URL --size N      send N bytes of 0xA5
 *   jpl_nng_raw URL --cosign NOTEFILE VKEY   a well-formed cosign request with any note
 * Exit: the response code, or 100 when no response came (connection dropped, timeout).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpl/codec.h"
#include "jpl/keyfile.h"
#include "jpl/net.h"

/* A serialized Request{cosign{note = NOTEFILE's bytes, public_key = VKEY's key}}. */
static jpl_err cosign_request(const char *note_file, const char *vkey, uint8_t **out, size_t *len,
                              jpl_error *e)
{
    char *note = NULL;
    size_t nlen = 0;
    jpl_note_verifier v;
    jpl_err rc = jpl_keyfile_read_verifier(vkey, &v, e);
    if (rc == JPL_OK)
        rc = jpl_file_read_all(note_file, JPL_NOTE_MAX_SIZE + 16, &note, &nlen, e);
    if (rc != JPL_OK)
        return rc;
    Jpl__CosignRequest cr = JPL__COSIGN_REQUEST__INIT;
    cr.note = note;
    cr.public_key = (ProtobufCBinaryData){sizeof v.pk, v.pk};
    Jpl__Request req = JPL__REQUEST__INIT;
    req.op_case = JPL__REQUEST__OP_COSIGN;
    req.cosign = &cr;
    rc = jpl_codec_request_encode(&req, out, len, e);
    free(note);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr,
                "usage: jpl_nng_raw URL FILE | URL --size N | URL --cosign NOTEFILE VKEY\n");
        return 2;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    jpl_error e = {0};
    if (strcmp(argv[2], "--cosign") == 0 && argc > 4) {
        if (cosign_request(argv[3], argv[4], &buf, &len, &e) != JPL_OK) {
            fprintf(stderr, "%s\n", e.msg);
            return 2;
        }
    } else if (strcmp(argv[2], "--size") == 0 && argc > 3) {
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
