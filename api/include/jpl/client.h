/*
 * Client library for the jpledger server (schemas/api.proto over NNG REQ/REP). One client is
 * one connection: calls on it are serialized (thread-safe), and a read key proven with
 * jpl_client_auth stays proven for the connection's life.
 */
#ifndef JPL_CLIENT_H
#define JPL_CLIENT_H

#include "jpl/codec.h"
#include "jpl/err.h"
#include "jpl/net.h"
#include "jpl/note.h"

typedef struct jpl_client jpl_client;

/* Connects to a server's REP URL. timeout_ms bounds every call (0: 60 s). */
jpl_err jpl_client_open(const char *url, const jpl_net_tls *tls, int timeout_ms, jpl_client **out,
                        jpl_error *e);
void jpl_client_close(jpl_client *c);

/* One exchange. *resp_out (free with jpl_codec_response_free) is set whenever a response
 * arrived, also when it carries an error: then the server's code is returned and e holds its
 * message. */
jpl_err jpl_client_call(jpl_client *c, const Jpl__Request *req, Jpl__Response **resp_out,
                        jpl_error *e);

/* Proves key (an auditor, hr or admin key) for this connection: challenge, then signature. */
jpl_err jpl_client_auth(jpl_client *c, const jpl_note_signer *key, jpl_error *e);

#endif
