/* NNG adapter (see net.h): the one file that calls NNG. */
#include "jpl/net.h"

#include "jpl/crypto.h"
#include "jpl/keyfile.h"

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>
#include <stdlib.h>
#include <string.h>

struct jpl_net_sock {
    nng_socket sock;
    jpl_net_disconnect_fn on_disconnect;
    void *on_disconnect_ctx;
};

struct jpl_net_ctx {
    nng_ctx ctx;
    nng_aio *aio;
};

static jpl_err nng_fail(jpl_error *e, int rv, const char *what, const char *url)
{
    return jpl_fail(e, rv == NNG_EMSGSIZE ? JPL_ERR_TOO_LARGE : JPL_ERR_IO, "%s %s: %s", what,
                    url ? url : "", nng_strerror(rv));
}

static bool is_tls(const char *url)
{
    return strncmp(url, "tls+", 4) == 0;
}

/* Loads a PEM certificate (chain) and its PEM private key from two files. */
static int load_own_cert(nng_tls_config *cfg, const char *cert_file, const char *key_file)
{
    char *cert = NULL, *key = NULL;
    size_t clen = 0, klen = 0;
    int rv = NNG_EINVAL;
    if (jpl_file_read_all(cert_file, 1u << 20, &cert, &clen, NULL) == JPL_OK &&
        jpl_file_read_all(key_file, 1u << 20, &key, &klen, NULL) == JPL_OK)
        rv = nng_tls_config_own_cert(cfg, cert, key, NULL);
    if (key != NULL)
        jpl_memzero(key, klen);
    free(cert);
    free(key);
    return rv;
}

/* Builds a TLS config for a listener or dialer from the given files. */
static int tls_config(const jpl_net_tls *tls, bool server, nng_tls_config **out)
{
    nng_tls_config *cfg = NULL;
    int rv = nng_tls_config_alloc(&cfg, server ? NNG_TLS_MODE_SERVER : NNG_TLS_MODE_CLIENT);
    if (rv != 0)
        return rv;
    if (server && tls && tls->cert_file && tls->key_file)
        rv = load_own_cert(cfg, tls->cert_file, tls->key_file);
    else if (server)
        rv = NNG_EINVAL; /* a TLS server needs a certificate */
    if (rv == 0 && tls && tls->ca_file)
        rv = nng_tls_config_ca_file(cfg, tls->ca_file);
    if (rv == 0)
        rv = nng_tls_config_auth_mode(cfg,
                                      server ? NNG_TLS_AUTH_MODE_NONE : NNG_TLS_AUTH_MODE_REQUIRED);
    if (rv == 0 && !server && tls && tls->server_name)
        rv = nng_tls_config_server_name(cfg, tls->server_name);
    if (rv != 0) {
        nng_tls_config_free(cfg);
        return rv;
    }
    *out = cfg;
    return 0;
}

static void pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    jpl_net_sock *s = arg;
    if (ev == NNG_PIPE_EV_REM_POST && s->on_disconnect)
        s->on_disconnect(s->on_disconnect_ctx, (uint32_t)nng_pipe_id(p));
}

static jpl_err listen_on(jpl_net_sock *s, const char *url, const jpl_net_tls *tls, jpl_error *e)
{
    nng_listener l;
    int rv = nng_listener_create(&l, s->sock, url);
    if (rv == 0 && is_tls(url)) {
        nng_tls_config *cfg = NULL;
        rv = tls_config(tls, true, &cfg);
        if (rv == 0) {
            rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, cfg);
            nng_tls_config_free(cfg);
        }
    }
    if (rv == 0)
        rv = nng_listener_start(l, 0);
    if (rv != 0)
        return nng_fail(e, rv, "listen on", url);
    return JPL_OK;
}

/* Dials once synchronously, so an absent server is reported at once; NNG then redials by
 * itself if the connection drops later. */
static jpl_err dial_to(jpl_net_sock *s, const char *url, const jpl_net_tls *tls, jpl_error *e)
{
    if (is_tls(url) && (tls == NULL || tls->ca_file == NULL))
        return jpl_fail(e, JPL_ERR_USAGE,
                        "%s: a TLS connection needs the CA that signed the "
                        "server's certificate (--tls-ca FILE)",
                        url);
    nng_dialer d;
    int rv = nng_dialer_create(&d, s->sock, url);
    if (rv == 0 && is_tls(url)) {
        nng_tls_config *cfg = NULL;
        rv = tls_config(tls, false, &cfg);
        if (rv == 0) {
            rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg);
            nng_tls_config_free(cfg);
        }
    }
    if (rv == 0)
        rv = nng_dialer_start(d, 0);
    if (rv != 0)
        return nng_fail(e, rv, "connect to", url);
    return JPL_OK;
}

/* Opens a socket of one protocol; the caller sets its options, then calls finish(). */
static jpl_err open_sock(int (*open_fn)(nng_socket *), const char *what, const char *url,
                         jpl_net_sock **out, jpl_error *e)
{
    jpl_net_sock *s = calloc(1, sizeof *s);
    if (s == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    int rv = open_fn(&s->sock);
    if (rv != 0) {
        free(s);
        return nng_fail(e, rv, what, url);
    }
    *out = s;
    return JPL_OK;
}

/* Listens or dials s at url; on failure closes s. */
static jpl_err finish(jpl_net_sock *s, bool listen, const char *url, const jpl_net_tls *tls,
                      jpl_net_sock **out, jpl_error *e)
{
    jpl_err rc = listen ? listen_on(s, url, tls, e) : dial_to(s, url, tls, e);
    if (rc != JPL_OK) {
        jpl_net_close(s);
        return rc;
    }
    *out = s;
    return JPL_OK;
}

jpl_err jpl_net_listen_rep(const char *url, size_t max_msg, const jpl_net_tls *tls,
                           jpl_net_sock **out, jpl_error *e)
{
    jpl_net_sock *s = NULL;
    jpl_err rc = open_sock(nng_rep0_open, "open REP socket for", url, &s, e);
    if (rc != JPL_OK)
        return rc;
    nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, max_msg);
    nng_pipe_notify(s->sock, NNG_PIPE_EV_REM_POST, pipe_event, s);
    return finish(s, true, url, tls, out, e);
}

jpl_err jpl_net_listen_pub(const char *url, const jpl_net_tls *tls, jpl_net_sock **out,
                           jpl_error *e)
{
    jpl_net_sock *s = NULL;
    jpl_err rc = open_sock(nng_pub0_open, "open PUB socket for", url, &s, e);
    if (rc != JPL_OK)
        return rc;
    nng_socket_set_int(s->sock, NNG_OPT_SENDBUF, 1024);
    return finish(s, true, url, tls, out, e);
}

jpl_err jpl_net_dial_req(const char *url, size_t max_msg, int timeout_ms, const jpl_net_tls *tls,
                         jpl_net_sock **out, jpl_error *e)
{
    jpl_net_sock *s = NULL;
    jpl_err rc = open_sock(nng_req0_open, "open REQ socket for", url, &s, e);
    if (rc != JPL_OK)
        return rc;
    nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ, max_msg);
    if (timeout_ms > 0) {
        nng_socket_set_ms(s->sock, NNG_OPT_RECVTIMEO, timeout_ms);
        nng_socket_set_ms(s->sock, NNG_OPT_SENDTIMEO, timeout_ms);
    }
    /* a request is never resent: appends are idempotent, but only the caller knows its bytes */
    nng_socket_set_ms(s->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
    return finish(s, false, url, tls, out, e);
}

jpl_err jpl_net_dial_sub(const char *url, const char *prefix, const jpl_net_tls *tls,
                         jpl_net_sock **out, jpl_error *e)
{
    jpl_net_sock *s = NULL;
    jpl_err rc = open_sock(nng_sub0_open, "open SUB socket for", url, &s, e);
    if (rc != JPL_OK)
        return rc;
    nng_socket_set_int(s->sock, NNG_OPT_RECVBUF, 1024);
    int rv = nng_socket_set(s->sock, NNG_OPT_SUB_SUBSCRIBE, prefix, strlen(prefix));
    if (rv != 0) {
        jpl_net_close(s);
        return nng_fail(e, rv, "subscribe on", url);
    }
    return finish(s, false, url, tls, out, e);
}

void jpl_net_close(jpl_net_sock *s)
{
    if (s == NULL)
        return;
    nng_close(s->sock);
    free(s);
}

void jpl_net_on_disconnect(jpl_net_sock *s, jpl_net_disconnect_fn fn, void *ctx)
{
    s->on_disconnect_ctx = ctx;
    s->on_disconnect = fn;
}

jpl_err jpl_net_ctx_open(jpl_net_sock *s, jpl_net_ctx **out, jpl_error *e)
{
    jpl_net_ctx *c = calloc(1, sizeof *c);
    if (c == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    int rv = nng_ctx_open(&c->ctx, s->sock);
    if (rv == 0)
        rv = nng_aio_alloc(&c->aio, NULL, NULL);
    if (rv != 0) {
        free(c);
        return nng_fail(e, rv, "open context", NULL);
    }
    *out = c;
    return JPL_OK;
}

void jpl_net_ctx_close(jpl_net_ctx *c)
{
    if (c == NULL)
        return;
    nng_ctx_close(c->ctx);
    nng_aio_free(c->aio);
    free(c);
}

static bool peer_is_local(nng_pipe p)
{
    nng_sockaddr sa;
    if (nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) != 0)
        return false;
    switch (sa.s_family) {
    case NNG_AF_IPC:
    case NNG_AF_INPROC:
        return true;
    case NNG_AF_INET: {
        const uint8_t *a = (const uint8_t *)&sa.s_in.sa_addr; /* network byte order */
        return a[0] == 127;
    }
    case NNG_AF_INET6: {
        static const uint8_t loop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        return memcmp(sa.s_in6.sa_addr, loop6, 16) == 0;
    }
    default:
        return false;
    }
}

jpl_err jpl_net_ctx_recv(jpl_net_ctx *c, uint8_t **buf_out, size_t *len_out, uint32_t *conn_out,
                         bool *local_out, jpl_error *e)
{
    int rv;
    for (;;) {
        nng_ctx_recv(c->ctx, c->aio);
        nng_aio_wait(c->aio);
        rv = nng_aio_result(c->aio);
        if (rv == 0)
            break;
        if (rv == NNG_ECLOSED)
            return nng_fail(e, rv, "receive", NULL);
        nng_msleep(1); /* one peer's failure: never end the worker, never spin on it */
    }
    nng_msg *m = nng_aio_get_msg(c->aio);
    size_t len = nng_msg_len(m);
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL) {
        nng_msg_free(m);
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    }
    memcpy(buf, nng_msg_body(m), len);
    nng_pipe p = nng_msg_get_pipe(m);
    *conn_out = (uint32_t)nng_pipe_id(p);
    *local_out = peer_is_local(p);
    nng_msg_free(m);
    *buf_out = buf;
    *len_out = len;
    return JPL_OK;
}

jpl_err jpl_net_ctx_send(jpl_net_ctx *c, const uint8_t *buf, size_t len, jpl_error *e)
{
    nng_msg *m = NULL;
    int rv = nng_msg_alloc(&m, 0);
    if (rv == 0)
        rv = nng_msg_append(m, buf, len);
    if (rv != 0) {
        nng_msg_free(m);
        return nng_fail(e, rv, "reply", NULL);
    }
    nng_aio_set_msg(c->aio, m);
    nng_ctx_send(c->ctx, c->aio);
    nng_aio_wait(c->aio);
    rv = nng_aio_result(c->aio);
    if (rv != 0) {
        nng_msg_free(nng_aio_get_msg(c->aio)); /* not sent: still ours */
        return nng_fail(e, rv, "reply", NULL);
    }
    return JPL_OK;
}

jpl_err jpl_net_call(jpl_net_sock *s, const uint8_t *req, size_t len, uint8_t **resp_out,
                     size_t *resp_len_out, jpl_error *e)
{
    int rv = nng_send(s->sock, (void *)req, len, 0);
    if (rv != 0)
        return nng_fail(e, rv, "send request", NULL);
    void *buf = NULL;
    size_t n = 0;
    rv = nng_recv(s->sock, &buf, &n, NNG_FLAG_ALLOC);
    if (rv != 0)
        return nng_fail(e, rv, "receive reply", NULL);
    uint8_t *copy = malloc(n ? n : 1);
    if (copy != NULL)
        memcpy(copy, buf, n);
    nng_free(buf, n);
    if (copy == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    *resp_out = copy;
    *resp_len_out = n;
    return JPL_OK;
}

jpl_err jpl_net_publish(jpl_net_sock *s, const uint8_t *buf, size_t len, jpl_error *e)
{
    int rv = nng_send(s->sock, (void *)buf, len, NNG_FLAG_NONBLOCK);
    if (rv != 0 && rv != NNG_EAGAIN)
        return nng_fail(e, rv, "publish", NULL);
    return JPL_OK;
}

jpl_err jpl_net_sub_recv(jpl_net_sock *s, int timeout_ms, uint8_t **buf_out, size_t *len_out,
                         jpl_error *e)
{
    nng_socket_set_ms(s->sock, NNG_OPT_RECVTIMEO, timeout_ms);
    void *buf = NULL;
    size_t n = 0;
    int rv = nng_recv(s->sock, &buf, &n, NNG_FLAG_ALLOC);
    if (rv == NNG_ETIMEDOUT)
        return JPL_ERR_NOT_FOUND;
    if (rv != 0)
        return nng_fail(e, rv, "receive published message", NULL);
    uint8_t *copy = malloc(n ? n : 1);
    if (copy != NULL)
        memcpy(copy, buf, n);
    nng_free(buf, n);
    if (copy == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    *buf_out = copy;
    *len_out = n;
    return JPL_OK;
}
