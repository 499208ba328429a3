/*
 * protobuf-c adapter (see codec.h): bounded decode/encode of events, envelopes and log entries.
 * Decoding can allocate from an arena (replay decodes millions of entries: one malloc per
 * message field would cost more than the parse); the checks are the same either way.
 */
#include "jpl/codec.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "jpl/crypto.h"

static jpl_err pack(const ProtobufCMessage *m, size_t limit, const char *what, uint8_t **buf_out,
                    size_t *len_out, jpl_error *e)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    if (n > limit)
        return jpl_fail(e, JPL_ERR_TOO_LARGE, "%s is %zu bytes, limit %zu", what, n, limit);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory");
    protobuf_c_message_pack(m, buf);
    *buf_out = buf;
    *len_out = n;
    return JPL_OK;
}

/* ---- the arena ---- */

#define ARENA_BLOCK (64u * 1024u)

typedef struct block {
    struct block *next;
    size_t cap, used;
    alignas(max_align_t) unsigned char data[];
} block;

struct jpl_codec_arena {
    ProtobufCAllocator alloc;
    block *head; /* the block being filled; earlier ones follow */
    bool oom;
};

static void *arena_alloc(void *ctx, size_t size)
{
    jpl_codec_arena *a = ctx;
    if (size > SIZE_MAX / 2) {
        a->oom = true;
        return NULL;
    }
    size_t need = (size + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
    block *b = a->head;
    if (b == NULL || b->cap - b->used < need) {
        size_t cap = need > ARENA_BLOCK ? need : ARENA_BLOCK;
        block *nb = malloc(sizeof *nb + cap);
        if (nb == NULL) {
            a->oom = true;
            return NULL;
        }
        nb->cap = cap;
        nb->used = 0;
        /* a block for one big message goes behind the current one, which keeps filling */
        if (b != NULL && cap > ARENA_BLOCK) {
            nb->next = b->next;
            b->next = nb;
            nb->used = need;
            return nb->data;
        }
        nb->next = b;
        a->head = b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    return p;
}

static void arena_free(void *ctx, void *p)
{
    (void)ctx; /* everything goes at the next reset */
    (void)p;
}

jpl_codec_arena *jpl_codec_arena_new(void)
{
    jpl_codec_arena *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    a->alloc = (ProtobufCAllocator){.alloc = arena_alloc, .free = arena_free, .allocator_data = a};
    return a;
}

void jpl_codec_arena_reset(jpl_codec_arena *a)
{
    if (a == NULL || a->head == NULL)
        return;
    /* keep the newest standard block, free the rest */
    block *keep = a->head, *b = keep->next;
    keep->next = NULL;
    keep->used = 0;
    while (b != NULL) {
        block *n = b->next;
        free(b);
        b = n;
    }
    if (keep->cap != ARENA_BLOCK) {
        free(keep);
        a->head = NULL;
    }
    a->oom = false;
}

const uint8_t *jpl_codec_arena_copy(jpl_codec_arena *a, const uint8_t *bytes, size_t len)
{
    uint8_t *p = arena_alloc(a, len);
    if (p != NULL && len > 0)
        memcpy(p, bytes, len);
    return p;
}

void jpl_codec_arena_free(jpl_codec_arena *a)
{
    if (a == NULL)
        return;
    jpl_codec_arena_reset(a);
    free(a->head);
    free(a);
}

/* ---- decoding ---- */

static jpl_err unpack(const ProtobufCMessageDescriptor *d, jpl_codec_arena *a, const uint8_t *buf,
                      size_t len, size_t limit, const char *what, ProtobufCMessage **out,
                      jpl_error *e)
{
    ProtobufCAllocator *alloc = a != NULL ? &a->alloc : NULL;
    if (len > limit)
        return jpl_fail(e, JPL_ERR_TOO_LARGE, "%s is %zu bytes, limit %zu", what, len, limit);
    ProtobufCMessage *m = protobuf_c_message_unpack(d, alloc, len, buf);
    if (m == NULL && a != NULL && a->oom)
        return jpl_fail(e, JPL_ERR_INTERNAL, "out of memory decoding %s", what);
    if (m == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s does not decode (%zu bytes)", what, len);
    if (m->n_unknown_fields > 0) {
        protobuf_c_message_free_unpacked(m, alloc);
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s has fields this ledger does not know", what);
    }
    /* Only canonical encodings: C strings stop at a NUL byte, so a string with an embedded NUL
     * (or a repeated field, or padding) would mean one thing here and another to every other
     * decoder of the same signed bytes. Re-encoding must give back exactly the input length. */
    if (protobuf_c_message_get_packed_size(m) != len) {
        protobuf_c_message_free_unpacked(m, alloc);
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "%s is not canonically encoded (a string with a NUL byte, a repeated "
                        "field or other non-canonical bytes)",
                        what);
    }
    *out = m;
    return JPL_OK;
}

/* Unknown fields hide in nested messages too; walk the event's body. */
static bool body_has_unknown(const Jpl__Event *ev)
{
    const ProtobufCMessage *body = NULL;
    switch (ev->body_case) {
    case JPL__EVENT__BODY_KEY_REGISTERED:
        body = &ev->key_registered->base;
        break;
    case JPL__EVENT__BODY_KEY_REVOKED:
        body = &ev->key_revoked->base;
        break;
    case JPL__EVENT__BODY_POLICY_SET:
        for (size_t i = 0; i < ev->policy_set->n_conversions; i++)
            if (ev->policy_set->conversions[i]->base.n_unknown_fields)
                return true;
        body = &ev->policy_set->base;
        break;
    case JPL__EVENT__BODY_EMPLOYEE_REGISTERED:
        body = &ev->employee_registered->base;
        break;
    case JPL__EVENT__BODY_EMPLOYEE_UPDATED:
        body = &ev->employee_updated->base;
        break;
    case JPL__EVENT__BODY_EMPLOYEE_EXITED:
        body = &ev->employee_exited->base;
        break;
    case JPL__EVENT__BODY_ACTIVITY_DEFINED:
        body = &ev->activity_defined->base;
        break;
    case JPL__EVENT__BODY_PLAN_SUBMITTED:
        for (size_t i = 0; i < ev->plan_submitted->n_items; i++)
            if (ev->plan_submitted->items[i]->base.n_unknown_fields)
                return true;
        body = &ev->plan_submitted->base;
        break;
    case JPL__EVENT__BODY_PLAN_APPROVED:
        body = &ev->plan_approved->base;
        break;
    case JPL__EVENT__BODY_ENROLLED:
        body = &ev->enrolled->base;
        break;
    case JPL__EVENT__BODY_COMPLETED:
        body = &ev->completed->base;
        break;
    case JPL__EVENT__BODY_RECOGNIZED:
        body = &ev->recognized->base;
        break;
    case JPL__EVENT__BODY_REVOKED:
        body = &ev->revoked->base;
        break;
    default:
        return false;
    }
    return body->n_unknown_fields > 0;
}

/* The checks every decoded event passes; 0 or the error. */
static jpl_err check_event(const Jpl__Event *ev, jpl_error *e)
{
    if (body_has_unknown(ev))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "event body has fields this ledger does not know");
    if (ev->body_case == JPL__EVENT__BODY__NOT_SET)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "event has no body (unknown event type?)");
    if (ev->event_id.len != JPL_EVENT_ID_LEN)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "event id is %zu bytes, must be 16",
                        ev->event_id.len);
    return JPL_OK;
}

static jpl_err event_decode(jpl_codec_arena *a, const uint8_t *buf, size_t len, Jpl__Event **out,
                            jpl_error *e)
{
    ProtobufCMessage *m = NULL;
    jpl_err rc = unpack(&jpl__event__descriptor, a, buf, len, JPL_MAX_EVENT_BYTES, "event", &m, e);
    if (rc != JPL_OK)
        return rc;
    Jpl__Event *ev = (Jpl__Event *)m;
    if ((rc = check_event(ev, e)) != JPL_OK) {
        protobuf_c_message_free_unpacked(m, a != NULL ? &a->alloc : NULL);
        return rc;
    }
    *out = ev;
    return JPL_OK;
}

jpl_err jpl_codec_event_decode(const uint8_t *buf, size_t len, Jpl__Event **out, jpl_error *e)
{
    return event_decode(NULL, buf, len, out, e);
}

jpl_err jpl_codec_event_decode_in(jpl_codec_arena *a, const uint8_t *buf, size_t len,
                                  Jpl__Event **out, jpl_error *e)
{
    return event_decode(a, buf, len, out, e);
}

void jpl_codec_event_free(Jpl__Event *ev)
{
    if (ev != NULL)
        jpl__event__free_unpacked(ev, NULL);
}

jpl_err jpl_codec_event_encode(const Jpl__Event *ev, uint8_t **buf_out, size_t *len_out,
                               jpl_error *e)
{
    return pack(&ev->base, JPL_MAX_EVENT_BYTES, "event", buf_out, len_out, e);
}

jpl_err jpl_codec_envelope_decode(const uint8_t *buf, size_t len, Jpl__SignedEnvelope **out,
                                  jpl_error *e)
{
    ProtobufCMessage *m = NULL;
    jpl_err rc = unpack(&jpl__signed_envelope__descriptor, NULL, buf, len, JPL_MAX_ENVELOPE_BYTES,
                        "envelope", &m, e);
    if (rc != JPL_OK)
        return rc;
    Jpl__SignedEnvelope *env = (Jpl__SignedEnvelope *)m;
    if (env->public_key.len != JPL_ED25519_PK_LEN || env->signature.len != JPL_ED25519_SIG_LEN) {
        jpl_codec_envelope_free(env);
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "envelope public key must be 32 bytes and signature 64 bytes");
    }
    *out = env;
    return JPL_OK;
}

void jpl_codec_envelope_free(Jpl__SignedEnvelope *env)
{
    if (env != NULL)
        jpl__signed_envelope__free_unpacked(env, NULL);
}

jpl_err jpl_codec_envelope_encode(const Jpl__SignedEnvelope *env, uint8_t **buf_out,
                                  size_t *len_out, jpl_error *e)
{
    return pack(&env->base, JPL_MAX_ENVELOPE_BYTES, "envelope", buf_out, len_out, e);
}

static jpl_err entry_decode(jpl_codec_arena *a, const uint8_t *buf, size_t len, Jpl__LogEntry **out,
                            jpl_error *e)
{
    ProtobufCMessage *m = NULL;
    jpl_err rc =
        unpack(&jpl__log_entry__descriptor, a, buf, len, JPL_MAX_ENTRY_BYTES, "log entry", &m, e);
    if (rc != JPL_OK)
        return rc;
    Jpl__LogEntry *entry = (Jpl__LogEntry *)m;
    if (entry->envelope->base.n_unknown_fields > 0 ||
        entry->envelope->public_key.len != JPL_ED25519_PK_LEN ||
        entry->envelope->signature.len != JPL_ED25519_SIG_LEN) {
        protobuf_c_message_free_unpacked(m, a != NULL ? &a->alloc : NULL);
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "log entry holds a malformed envelope");
    }
    *out = entry;
    return JPL_OK;
}

jpl_err jpl_codec_entry_decode(const uint8_t *buf, size_t len, Jpl__LogEntry **out, jpl_error *e)
{
    return entry_decode(NULL, buf, len, out, e);
}

jpl_err jpl_codec_entry_decode_in(jpl_codec_arena *a, const uint8_t *buf, size_t len,
                                  Jpl__LogEntry **out, jpl_error *e)
{
    return entry_decode(a, buf, len, out, e);
}

void jpl_codec_entry_free(Jpl__LogEntry *entry)
{
    if (entry != NULL)
        jpl__log_entry__free_unpacked(entry, NULL);
}

jpl_err jpl_codec_entry_encode(const Jpl__LogEntry *entry, uint8_t **buf_out, size_t *len_out,
                               jpl_error *e)
{
    return pack(&entry->base, JPL_MAX_ENTRY_BYTES, "log entry", buf_out, len_out, e);
}

jpl_err jpl_codec_request_decode(const uint8_t *buf, size_t len, Jpl__Request **out, jpl_error *e)
{
    ProtobufCMessage *m = NULL;
    jpl_err rc =
        unpack(&jpl__request__descriptor, NULL, buf, len, JPL_MAX_API_BYTES, "request", &m, e);
    if (rc != JPL_OK)
        return rc;
    Jpl__Request *r = (Jpl__Request *)m;
    if (r->op_case == JPL__REQUEST__OP__NOT_SET) {
        jpl_codec_request_free(r);
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "request names no operation (unknown to this server?)");
    }
    *out = r;
    return JPL_OK;
}

void jpl_codec_request_free(Jpl__Request *r)
{
    if (r != NULL)
        jpl__request__free_unpacked(r, NULL);
}

jpl_err jpl_codec_request_encode(const Jpl__Request *r, uint8_t **buf_out, size_t *len_out,
                                 jpl_error *e)
{
    return pack(&r->base, JPL_MAX_API_BYTES, "request", buf_out, len_out, e);
}

jpl_err jpl_codec_response_decode(const uint8_t *buf, size_t len, Jpl__Response **out, jpl_error *e)
{
    ProtobufCMessage *m = NULL;
    jpl_err rc =
        unpack(&jpl__response__descriptor, NULL, buf, len, JPL_MAX_API_BYTES, "response", &m, e);
    if (rc != JPL_OK)
        return rc;
    *out = (Jpl__Response *)m;
    return JPL_OK;
}

void jpl_codec_response_free(Jpl__Response *r)
{
    if (r != NULL)
        jpl__response__free_unpacked(r, NULL);
}

jpl_err jpl_codec_response_encode(const Jpl__Response *r, uint8_t **buf_out, size_t *len_out,
                                  jpl_error *e)
{
    return pack(&r->base, JPL_MAX_API_BYTES, "response", buf_out, len_out, e);
}
