/* Client library (see client.h): encode a request, one REQ/REP exchange, decode the response. */
#include "jpl/client.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define AUTH_PREFIX "jpledger/auth/v1\n"

struct jpl_client {
    jpl_net_sock *sock;
    pthread_mutex_t mu;
};

jpl_err jpl_client_open(const char *url, const jpl_net_tls *tls, int timeout_ms, jpl_client **out,
                        jpl_error *e)
{
    jpl_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    jpl_err rc = jpl_net_dial_req(url, JPL_MAX_API_BYTES, timeout_ms > 0 ? timeout_ms : 60000, tls,
                                  &c->sock, e);
    if (rc != JPL_OK) {
        free(c);
        return rc;
    }
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return JPL_OK;
}

void jpl_client_close(jpl_client *c)
{
    if (c == NULL)
        return;
    jpl_net_close(c->sock);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

jpl_err jpl_client_call(jpl_client *c, const Jpl__Request *req, Jpl__Response **resp_out,
                        jpl_error *e)
{
    uint8_t *buf = NULL, *reply = NULL;
    size_t len = 0, rlen = 0;
    jpl_err rc = jpl_codec_request_encode(req, &buf, &len, e);
    if (rc != JPL_OK)
        return rc;
    pthread_mutex_lock(&c->mu);
    rc = jpl_net_call(c->sock, buf, len, &reply, &rlen, e);
    pthread_mutex_unlock(&c->mu);
    free(buf);
    if (rc != JPL_OK) {
        jpl_error_prefix(e, "server");
        return rc;
    }
    Jpl__Response *resp = NULL;
    rc = jpl_codec_response_decode(reply, rlen, &resp, e);
    free(reply);
    if (rc != JPL_OK)
        return rc;
    *resp_out = resp;
    if (resp->code != 0) {
        jpl_err code = resp->code < JPL_ERR__COUNT ? (jpl_err)resp->code : JPL_ERR_INTERNAL;
        return jpl_fail(e, code, "%s", resp->message ? resp->message : jpl_strerror(code));
    }
    return JPL_OK;
}

jpl_err jpl_client_auth(jpl_client *c, const jpl_note_signer *key, jpl_error *e)
{
    Jpl__Request req = JPL__REQUEST__INIT;
    Jpl__ChallengeRequest ch = JPL__CHALLENGE_REQUEST__INIT;
    req.op_case = JPL__REQUEST__OP_CHALLENGE;
    req.challenge = &ch;
    Jpl__Response *resp = NULL;
    jpl_err rc = jpl_client_call(c, &req, &resp, e);
    if (rc == JPL_OK &&
        (resp->result_case != JPL__RESPONSE__RESULT_CHALLENGE || resp->challenge->nonce.len != 32))
        rc = jpl_fail(e, JPL_ERR_BAD_INPUT, "the server sent no valid challenge");
    uint8_t sig[64];
    if (rc == JPL_OK)
        jpl_ed25519_sign2(sig, AUTH_PREFIX, strlen(AUTH_PREFIX), resp->challenge->nonce.data, 32,
                          key->sk);
    jpl_codec_response_free(resp);
    if (rc != JPL_OK)
        return rc;
    Jpl__AuthRequest ar = JPL__AUTH_REQUEST__INIT;
    ar.public_key = (ProtobufCBinaryData){32, (uint8_t *)key->pk};
    ar.signature = (ProtobufCBinaryData){64, sig};
    req.op_case = JPL__REQUEST__OP_AUTH;
    req.auth = &ar;
    resp = NULL;
    rc = jpl_client_call(c, &req, &resp, e);
    jpl_codec_response_free(resp);
    return rc;
}
