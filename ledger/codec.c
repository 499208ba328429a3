/* protobuf-c adapter (see codec.h): bounded decode/encode of events, envelopes and log entries. */
#include "jpl/codec.h"

#include <stdlib.h>

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

static jpl_err unpack(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
                      size_t limit, const char *what, ProtobufCMessage **out, jpl_error *e)
{
    if (len > limit)
        return jpl_fail(e, JPL_ERR_TOO_LARGE, "%s is %zu bytes, limit %zu", what, len, limit);
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, buf);
    if (m == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s does not decode (%zu bytes)", what, len);
    if (m->n_unknown_fields > 0) {
        protobuf_c_message_free_unpacked(m, NULL);
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s has fields this ledger does not know", what);
    }
    /* Only canonical encodings: C strings stop at a NUL byte, so a string with an embedded NUL
     * (or a repeated field, or padding) would mean one thing here and another to every other
     * decoder of the same signed bytes. Re-encoding must give back exactly the input length. */
    if (protobuf_c_message_get_packed_size(m) != len) {
        protobuf_c_message_free_unpacked(m, NULL);
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

jpl_err jpl_codec_event_decode(const uint8_t *buf, size_t len, Jpl__Event **out, jpl_error *e)
{
    ProtobufCMessage *m = NULL;
    jpl_err rc = unpack(&jpl__event__descriptor, buf, len, JPL_MAX_EVENT_BYTES, "event", &m, e);
    if (rc != JPL_OK)
        return rc;
    Jpl__Event *ev = (Jpl__Event *)m;
    if (body_has_unknown(ev)) {
        jpl_codec_event_free(ev);
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "event body has fields this ledger does not know");
    }
    if (ev->body_case == JPL__EVENT__BODY__NOT_SET) {
        jpl_codec_event_free(ev);
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "event has no body (unknown event type?)");
    }
    if (ev->event_id.len != JPL_EVENT_ID_LEN) {
        size_t n = ev->event_id.len;
        jpl_codec_event_free(ev);
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "event id is %zu bytes, must be 16", n);
    }
    *out = ev;
    return JPL_OK;
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
    jpl_err rc = unpack(&jpl__signed_envelope__descriptor, buf, len, JPL_MAX_ENVELOPE_BYTES,
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

jpl_err jpl_codec_entry_decode(const uint8_t *buf, size_t len, Jpl__LogEntry **out, jpl_error *e)
{
    ProtobufCMessage *m = NULL;
    jpl_err rc =
        unpack(&jpl__log_entry__descriptor, buf, len, JPL_MAX_ENTRY_BYTES, "log entry", &m, e);
    if (rc != JPL_OK)
        return rc;
    Jpl__LogEntry *entry = (Jpl__LogEntry *)m;
    if (entry->envelope->base.n_unknown_fields > 0 ||
        entry->envelope->public_key.len != JPL_ED25519_PK_LEN ||
        entry->envelope->signature.len != JPL_ED25519_SIG_LEN) {
        jpl_codec_entry_free(entry);
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "log entry holds a malformed envelope");
    }
    *out = entry;
    return JPL_OK;
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
    jpl_err rc = unpack(&jpl__request__descriptor, buf, len, JPL_MAX_API_BYTES, "request", &m, e);
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
    jpl_err rc = unpack(&jpl__response__descriptor, buf, len, JPL_MAX_API_BYTES, "response", &m, e);
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
