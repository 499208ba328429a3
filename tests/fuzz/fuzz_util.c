/*
 * Helpers shared by the fuzz harnesses (see fuzz.h). The wire walker reads protobuf's encoding
 * directly (a tag varint, then a varint, 8 bytes, a length-prefixed run or 4 bytes, by wire
 * type) and uses the generated descriptors only to learn each field's type. The codec checks
 * re-encode what decoded and require the canonical bytes to be a fixed point.
 */
#include "fuzz.h"

#include <string.h>

#include "jpl/codec.h"
#include "jpl/crypto.h"

void fuzz_init(void)
{
    static bool done;
    if (!done) {
        FUZZ_CHECK(jpl_crypto_init());
        done = true;
    }
}

/* Reads a varint at buf[*pos..len); false if truncated or longer than 10 bytes. */
static bool read_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 70 && *pos < len; shift += 7) {
        uint8_t b = buf[(*pos)++];
        v |= (uint64_t)(b & 0x7f) << (shift < 64 ? shift : 0);
        if ((b & 0x80) == 0) {
            *out = v;
            return true;
        }
    }
    return false;
}

static bool walk(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len, int depth)
{
    size_t pos = 0;
    if (depth > 16)
        return true;
    while (pos < len) {
        uint64_t tag, n;
        if (!read_varint(buf, len, &pos, &tag))
            return true;
        uint64_t field = tag >> 3;
        switch (tag & 7) {
        case 0:
            if (!read_varint(buf, len, &pos, &n))
                return true;
            break;
        case 1:
            if (len - pos < 8)
                return true;
            pos += 8;
            break;
        case 5:
            if (len - pos < 4)
                return true;
            pos += 4;
            break;
        case 2: {
            if (!read_varint(buf, len, &pos, &n) || n > len - pos)
                return true;
            const ProtobufCFieldDescriptor *f =
                field <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(d, (unsigned)field)
                                    : NULL;
            if (f != NULL && f->type == PROTOBUF_C_TYPE_STRING && n > 0 &&
                memchr(buf + pos, 0, (size_t)n) != NULL)
                return false;
            if (f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                !walk(f->descriptor, buf + pos, (size_t)n, depth + 1))
                return false;
            pos += (size_t)n;
            break;
        }
        default:
            return true;
        }
    }
    return true;
}

bool fuzz_wire_strings_clean(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len)
{
    return walk(d, buf, len, 0);
}

/* The arena decoder (replay's) gives the verdict and error of the malloc one, and an
 * accepted event encodes to the same bytes. */
static void check_event_arena(const uint8_t *buf, size_t len, jpl_err want, const jpl_error *we,
                              const Jpl__Event *ev)
{
    jpl_codec_arena *a = jpl_codec_arena_new();
    FUZZ_CHECK(a != NULL);
    Jpl__Event *x = NULL;
    jpl_error e = {0};
    jpl_err rc = jpl_codec_event_decode_in(a, buf, len, &x, &e);
    FUZZ_CHECK(rc == want && e.code == we->code && strcmp(e.msg, we->msg) == 0);
    if (rc == JPL_OK) {
        uint8_t *b1 = NULL, *b2 = NULL;
        size_t n1 = 0, n2 = 0;
        jpl_err r1 = jpl_codec_event_encode(ev, &b1, &n1, NULL);
        FUZZ_CHECK(jpl_codec_event_encode(x, &b2, &n2, NULL) == r1);
        FUZZ_CHECK(r1 != JPL_OK || (n1 == n2 && memcmp(b1, b2, n1) == 0));
        free(b1);
        free(b2);
    }
    jpl_codec_arena_free(a);
}

void fuzz_check_event_bytes(const uint8_t *buf, size_t len)
{
    Jpl__Event *ev = NULL, *ev2 = NULL;
    jpl_error e = {0};
    jpl_err rc = jpl_codec_event_decode(buf, len, &ev, &e);
    check_event_arena(buf, len, rc, &e, ev);
    if (rc != JPL_OK) {
        FUZZ_CHECK(ev == NULL);
        FUZZ_CHECK(e.code == rc && e.msg[0] != '\0');
        FUZZ_CHECK(rc == JPL_ERR_BAD_INPUT || rc == JPL_ERR_TOO_LARGE);
        return;
    }
    FUZZ_CHECK(ev != NULL && ev->event_id.len == JPL_EVENT_ID_LEN);
    FUZZ_CHECK(ev->body_case != JPL__EVENT__BODY__NOT_SET);
    FUZZ_CHECK(fuzz_wire_strings_clean(&jpl__event__descriptor, buf, len));
    uint8_t *b1 = NULL, *b2 = NULL;
    size_t n1 = 0, n2 = 0;
    rc = jpl_codec_event_encode(ev, &b1, &n1, &e);
    /* Canonical varints of negative enum values can outgrow a near-limit input. */
    FUZZ_CHECK(rc == JPL_OK || (rc == JPL_ERR_TOO_LARGE && len > JPL_MAX_EVENT_BYTES - 1024));
    if (rc == JPL_OK) {
        FUZZ_CHECK(jpl_codec_event_decode(b1, n1, &ev2, &e) == JPL_OK);
        FUZZ_CHECK(jpl_codec_event_encode(ev2, &b2, &n2, &e) == JPL_OK);
        FUZZ_CHECK(n1 == n2 && memcmp(b1, b2, n1) == 0);
    }
    free(b1);
    free(b2);
    jpl_codec_event_free(ev2);
    jpl_codec_event_free(ev);
}
