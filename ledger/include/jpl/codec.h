/*
 * Protobuf adapter: the only code that packs or unpacks protobuf-c messages. Decoding enforces
 * size limits, rejects unknown fields (a ledger validates only what it understands) and checks
 * the fixed-length fields every later stage relies on.
 */
#ifndef JPL_CODEC_H
#define JPL_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "jpl/err.h"
#include "api.pb-c.h"
#include "jpledger.pb-c.h"

#define JPL_MAX_EVENT_BYTES (60u * 1024u)
#define JPL_MAX_ENVELOPE_BYTES (64u * 1024u)
#define JPL_MAX_ENTRY_BYTES (JPL_MAX_ENVELOPE_BYTES + 64u)
#define JPL_EVENT_ID_LEN 16
/* Largest API message (a batch of envelopes): the NNG sockets refuse larger ones too. */
#define JPL_MAX_API_BYTES (16u * 1024u * 1024u)

/* Domain-separation prefix of every event signature. */
#define JPL_EVENT_SIG_PREFIX "jpledger/event/v1\n"
#define JPL_EVENT_SIG_PREFIX_LEN (sizeof JPL_EVENT_SIG_PREFIX - 1)

/* Decodes event bytes. *out is owned by the caller: free with jpl_codec_event_free. */
jpl_err jpl_codec_event_decode(const uint8_t *buf, size_t len, Jpl__Event **out, jpl_error *e);
void jpl_codec_event_free(Jpl__Event *ev);
/* Serialises an event into a malloc'd buffer (caller frees). */
jpl_err jpl_codec_event_encode(const Jpl__Event *ev, uint8_t **buf_out, size_t *len_out,
                               jpl_error *e);

jpl_err jpl_codec_envelope_decode(const uint8_t *buf, size_t len, Jpl__SignedEnvelope **out,
                                  jpl_error *e);
void jpl_codec_envelope_free(Jpl__SignedEnvelope *env);
jpl_err jpl_codec_envelope_encode(const Jpl__SignedEnvelope *env, uint8_t **buf_out,
                                  size_t *len_out, jpl_error *e);

jpl_err jpl_codec_entry_decode(const uint8_t *buf, size_t len, Jpl__LogEntry **out, jpl_error *e);
void jpl_codec_entry_free(Jpl__LogEntry *entry);
jpl_err jpl_codec_entry_encode(const Jpl__LogEntry *entry, uint8_t **buf_out, size_t *len_out,
                               jpl_error *e);

/* An arena to decode many messages in a row without a malloc per field (projection replay).
 * Messages decoded into it live until jpl_codec_arena_reset or _free; never pass them to the
 * matching _free function. Not thread-safe: one arena per thread. */
typedef struct jpl_codec_arena jpl_codec_arena;
/* NULL if out of memory. */
jpl_codec_arena *jpl_codec_arena_new(void);
/* Frees every message decoded into a since the last reset (keeps one block for reuse). */
void jpl_codec_arena_reset(jpl_codec_arena *a);
/* A copy of len bytes that lives in a (NULL if out of memory). */
const uint8_t *jpl_codec_arena_copy(jpl_codec_arena *a, const uint8_t *bytes, size_t len);
/* Frees a and everything decoded into it; accepts NULL. */
void jpl_codec_arena_free(jpl_codec_arena *a);
/* jpl_codec_entry_decode and jpl_codec_event_decode into a: the same checks and the same
 * errors (plus JPL_ERR_INTERNAL if memory runs out); *out lives in a. */
jpl_err jpl_codec_entry_decode_in(jpl_codec_arena *a, const uint8_t *buf, size_t len,
                                  Jpl__LogEntry **out, jpl_error *e);
jpl_err jpl_codec_event_decode_in(jpl_codec_arena *a, const uint8_t *buf, size_t len,
                                  Jpl__Event **out, jpl_error *e);

/* API envelopes (schemas/api.proto). Decoded messages are freed with the matching _free. */
jpl_err jpl_codec_request_decode(const uint8_t *buf, size_t len, Jpl__Request **out, jpl_error *e);
void jpl_codec_request_free(Jpl__Request *r);
jpl_err jpl_codec_request_encode(const Jpl__Request *r, uint8_t **buf_out, size_t *len_out,
                                 jpl_error *e);
jpl_err jpl_codec_response_decode(const uint8_t *buf, size_t len, Jpl__Response **out,
                                  jpl_error *e);
void jpl_codec_response_free(Jpl__Response *r);
jpl_err jpl_codec_response_encode(const Jpl__Response *r, uint8_t **buf_out, size_t *len_out,
                                  jpl_error *e);

#endif
