/*
 * NNG adapter: the only code that calls NNG. REQ/REP with contexts (many requests in flight),
 * PUB/SUB, message size limits, the connection a request came from (for per-connection read
 * authentication) and whether it is local. URLs: tcp://, ipc://, tls+tcp:// (with TLS options).
 */
#ifndef JPL_NET_H
#define JPL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jpl/err.h"

typedef struct jpl_net_sock jpl_net_sock;
typedef struct jpl_net_ctx jpl_net_ctx;

/* TLS files (PEM); all NULL for plain transports. */
typedef struct {
    const char *cert_file; /* server: own certificate (+ chain) */
    const char *key_file;  /* server: own private key */
    const char *ca_file;   /* client: CA to verify the server; server: CA for client certs */
    const char *server_name;
} jpl_net_tls;

/* Server sockets. max_msg bounds every received message (larger ones are dropped by NNG). */
jpl_err jpl_net_listen_rep(const char *url, size_t max_msg, const jpl_net_tls *tls,
                           jpl_net_sock **out, jpl_error *e);
jpl_err jpl_net_listen_pub(const char *url, const jpl_net_tls *tls, jpl_net_sock **out,
                           jpl_error *e);
/* Client sockets. timeout_ms bounds each call (0: none). */
jpl_err jpl_net_dial_req(const char *url, size_t max_msg, int timeout_ms, const jpl_net_tls *tls,
                         jpl_net_sock **out, jpl_error *e);
/* SUB socket subscribed to topic prefix (may be ""). */
jpl_err jpl_net_dial_sub(const char *url, const char *prefix, const jpl_net_tls *tls,
                         jpl_net_sock **out, jpl_error *e);
/* Closes; blocked receives on it and its contexts return JPL_ERR_IO. Accepts NULL. */
void jpl_net_close(jpl_net_sock *s);

/* Called when a connection goes away (server side), with its id. */
typedef void (*jpl_net_disconnect_fn)(void *ctx, uint32_t conn_id);
void jpl_net_on_disconnect(jpl_net_sock *s, jpl_net_disconnect_fn fn, void *ctx);

/* A REP context: one request in flight. */
jpl_err jpl_net_ctx_open(jpl_net_sock *s, jpl_net_ctx **out, jpl_error *e);
void jpl_net_ctx_close(jpl_net_ctx *c);
/* Blocks for the next request: *buf_out is malloc'd (caller frees); conn_id names the
 * connection; local is true for loopback TCP, IPC and inproc peers. JPL_ERR_IO only once the
 * socket or context is closed: a failure of one peer's connection (reset, oversize message) is
 * not the server's, so the receive goes on. */
jpl_err jpl_net_ctx_recv(jpl_net_ctx *c, uint8_t **buf_out, size_t *len_out, uint32_t *conn_out,
                         bool *local_out, jpl_error *e);
/* Sends the reply to the request last received on c. */
jpl_err jpl_net_ctx_send(jpl_net_ctx *c, const uint8_t *buf, size_t len, jpl_error *e);

/* One REQ/REP exchange on a client socket; *resp_out malloc'd. */
jpl_err jpl_net_call(jpl_net_sock *s, const uint8_t *req, size_t len, uint8_t **resp_out,
                     size_t *resp_len_out, jpl_error *e);

/* Publishes one message (never blocks; slow subscribers lose messages and fill gaps). */
jpl_err jpl_net_publish(jpl_net_sock *s, const uint8_t *buf, size_t len, jpl_error *e);
/* Receives one published message, waiting at most timeout_ms (JPL_ERR_NOT_FOUND on timeout). */
jpl_err jpl_net_sub_recv(jpl_net_sock *s, int timeout_ms, uint8_t **buf_out, size_t *len_out,
                         jpl_error *e);

#endif
