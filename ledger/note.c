/*
 * C2SP signed notes and tlog checkpoints with Ed25519 keys (see jpl/note.h for the formats and
 * the decisions). Everything untrusted is parsed with explicit offsets into the caller's bytes;
 * nothing allocates. Cryptography goes through jpl/crypto.h.
 */
#include "jpl/note.h"

#include <string.h>

#define EM_DASH_SP "\xE2\x80\x94 " /* U+2014 then a space: the start of a signature line */
#define EM_DASH_SP_LEN 4
#define PRIVATE_KEY_PREFIX "PRIVATE+KEY+"
#define PRIVATE_KEY_PREFIX_LEN 12
#define KEY_B64_LEN 44 /* base64 of type byte || 32 key bytes */
#define ED25519_NOTE_SIG_LEN (4 + JPL_ED25519_SIG_LEN)
#define SIG_BYTES_MAX (JPL_NOTE_SIG_B64_MAX / 4 * 3)

/* ---- UTF-8 and names ---- */

/* Decodes the UTF-8 sequence at p[0..n) (n >= 1) into *cp; returns its length, or 0 if it is not
 * valid UTF-8 (overlong forms, surrogates and code points above U+10FFFF are invalid). */
static size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
    unsigned char c = p[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xE0u) == 0xC0u) {
        len = 2;
        v = c & 0x1Fu;
        min = 0x80;
    } else if ((c & 0xF0u) == 0xE0u) {
        len = 3;
        v = c & 0x0Fu;
        min = 0x800;
    } else if ((c & 0xF8u) == 0xF0u) {
        len = 4;
        v = c & 0x07u;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0u) != 0x80u)
            return 0;
        v = (v << 6) | (p[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

/* The code points Go's unicode.IsSpace reports as spaces. */
static bool is_unicode_space(uint32_t cp)
{
    switch (cp) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
        return true;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

bool jpl_note_name_valid(const char *name, size_t len)
{
    if (name == NULL || len == 0)
        return false;
    const unsigned char *p = (const unsigned char *)name;
    size_t i = 0;
    while (i < len) {
        uint32_t cp = 0;
        size_t n = utf8_decode(p + i, len - i, &cp);
        if (n == 0 || cp < 0x20 || cp == 0x7F || cp == '+' || is_unicode_space(cp))
            return false;
        i += n;
    }
    return true;
}

/* Checks a NUL-terminated name (at most JPL_NOTE_NAME_MAX bytes); sets *len_out. */
static jpl_err check_name(const char *name, size_t *len_out, jpl_error *e)
{
    if (name == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "key name is missing");
    size_t len = strnlen(name, JPL_NOTE_NAME_MAX + 1);
    if (len > JPL_NOTE_NAME_MAX)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "key name longer than %d bytes", JPL_NOTE_NAME_MAX);
    if (!jpl_note_name_valid(name, len))
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "key name \"%.*s\" is invalid: it must be non-empty UTF-8 without '+', "
                        "spaces or control characters",
                        (int)len, name);
    *len_out = len;
    return JPL_OK;
}

/* Checks that p[0..len) is valid UTF-8 with no ASCII control character other than newline;
 * names what (e.g. "note") and the byte offset in the message. */
static jpl_err check_text_chars(const char *what, const char *text, size_t len, jpl_error *e)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        uint32_t cp = 0;
        size_t n = utf8_decode(p + i, len - i, &cp);
        if (n == 0)
            return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s is not valid UTF-8 at byte %zu", what, i);
        if (cp < 0x20 && cp != '\n')
            return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s has control character 0x%02x at byte %zu",
                            what, (unsigned)cp, i);
        i += n;
    }
    return JPL_OK;
}

/* ---- keys ---- */

static uint32_t be32(const uint8_t b[4])
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

static void put_be32(uint8_t b[4], uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

static uint32_t key_id_of(const char *name, size_t name_len, const uint8_t pk[JPL_ED25519_PK_LEN])
{
    static const uint8_t sep[2] = {'\n', JPL_NOTE_ALG_ED25519};
    const jpl_bytes parts[3] = {
        {(const uint8_t *)name, name_len},
        {sep, sizeof sep},
        {pk, JPL_ED25519_PK_LEN},
    };
    uint8_t h[JPL_SHA256_LEN];
    jpl_sha256_parts(h, parts, 3);
    return be32(h);
}

uint32_t jpl_note_key_id(const char *name, const uint8_t pk[JPL_ED25519_PK_LEN])
{
    return key_id_of(name, strnlen(name, JPL_NOTE_NAME_MAX + 1), pk);
}

jpl_err jpl_note_signer_from_seed(const char *name, const uint8_t seed[JPL_ED25519_SEED_LEN],
                                  jpl_note_signer *signer_out, jpl_error *e)
{
    size_t name_len = 0;
    jpl_err err = check_name(name, &name_len, e);
    if (err != JPL_OK)
        return err;
    jpl_note_signer s;
    memset(&s, 0, sizeof s);
    if (!jpl_ed25519_from_seed(seed, s.pk, s.sk)) {
        jpl_memzero(&s, sizeof s);
        return jpl_fail(e, JPL_ERR_INTERNAL, "Ed25519 key derivation failed");
    }
    memcpy(s.name, name, name_len);
    s.key_id = key_id_of(name, name_len, s.pk);
    *signer_out = s;
    jpl_memzero(&s, sizeof s);
    return JPL_OK;
}

jpl_err jpl_note_keygen(const char *name, jpl_note_signer *signer_out, jpl_error *e)
{
    uint8_t seed[JPL_ED25519_SEED_LEN];
    jpl_random_bytes(seed, sizeof seed);
    jpl_err err = jpl_note_signer_from_seed(name, seed, signer_out, e);
    jpl_memzero(seed, sizeof seed);
    return err;
}

void jpl_note_signer_wipe(jpl_note_signer *signer)
{
    if (signer != NULL)
        jpl_memzero(signer, sizeof *signer);
}

void jpl_note_verifier_from_signer(const jpl_note_signer *signer, jpl_note_verifier *verifier_out)
{
    jpl_note_verifier v;
    memset(&v, 0, sizeof v);
    memcpy(v.name, signer->name, sizeof v.name);
    v.name[JPL_NOTE_NAME_MAX] = '\0';
    v.key_id = signer->key_id;
    memcpy(v.pk, signer->pk, sizeof v.pk);
    *verifier_out = v;
}

jpl_err jpl_note_verifier_from_pubkey(const char *name, const uint8_t pk[JPL_ED25519_PK_LEN],
                                      jpl_note_verifier *verifier_out, jpl_error *e)
{
    size_t name_len = 0;
    jpl_err err = check_name(name, &name_len, e);
    if (err != JPL_OK)
        return err;
    jpl_note_verifier v;
    memset(&v, 0, sizeof v);
    memcpy(v.name, name, name_len);
    memcpy(v.pk, pk, sizeof v.pk);
    v.key_id = key_id_of(name, name_len, pk);
    *verifier_out = v;
    return JPL_OK;
}

/* The parts of "<name>+<hex8>+<base64>" after any "PRIVATE+KEY+" prefix, decoded and checked
 * for syntax, type byte and length. key[] receives the 32 key bytes (seed or public key). */
typedef struct {
    const char *name;
    size_t name_len;
    uint32_t key_id;
    uint8_t key[32];
} key_parts;

static jpl_err split_key(const char *what, const char *text, size_t len, key_parts *out,
                         jpl_error *e)
{
    const char *plus1 = memchr(text, '+', len);
    if (plus1 == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s: expected <name>+<key id>+<key>, found no '+'",
                        what);
    size_t name_len = (size_t)(plus1 - text);
    if (name_len > JPL_NOTE_NAME_MAX)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s: key name longer than %d bytes", what,
                        JPL_NOTE_NAME_MAX);
    if (!jpl_note_name_valid(text, name_len))
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "%s: key name \"%.*s\" is invalid: it must be non-empty UTF-8 without "
                        "'+', spaces or control characters",
                        what, (int)name_len, text);
    size_t rest = len - name_len - 1;
    const char *id = plus1 + 1;
    if (rest < 9 || id[8] != '+')
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s: key id must be 8 hex digits followed by '+'",
                        what);
    uint8_t idb[4];
    if (!jpl_hex_decode(idb, sizeof idb, id, 8))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s: key id \"%.8s\" is not 8 hex digits", what, id);
    const char *b64 = id + 9;
    size_t b64_len = rest - 9;
    if (b64_len == 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s: key data is empty", what);
    /* The first base64 quantum holds the type byte: refuse other types with a clear message
     * before insisting on the Ed25519 length. */
    uint8_t head[3];
    size_t head_len = 0;
    if (b64_len < 4 || !jpl_base64_decode(head, sizeof head, &head_len, b64, 4))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s: key data is not valid padded base64", what);
    if (head[0] != JPL_NOTE_ALG_ED25519)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "%s: unsupported signature type 0x%02x (only Ed25519, 0x01, is supported)",
                        what, (unsigned)head[0]);
    uint8_t raw[48];
    size_t raw_len = 0;
    if (b64_len > 4 * (sizeof raw / 3) ||
        !jpl_base64_decode(raw, sizeof raw, &raw_len, b64, b64_len)) {
        jpl_memzero(raw, sizeof raw);
        jpl_memzero(head, sizeof head);
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        b64_len > 4 * (sizeof raw / 3) ? "%s: Ed25519 key data is too long"
                                                       : "%s: key data is not valid padded base64",
                        what);
    }
    jpl_memzero(head, sizeof head);
    if (raw_len != 33) {
        jpl_memzero(raw, sizeof raw);
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "%s: Ed25519 key must be 32 bytes, found %zu", what,
                        raw_len - 1);
    }
    out->name = text;
    out->name_len = name_len;
    out->key_id = be32(idb);
    memcpy(out->key, raw + 1, 32);
    jpl_memzero(raw, sizeof raw);
    return JPL_OK;
}

jpl_err jpl_note_verifier_parse(const char *text, size_t len, jpl_note_verifier *verifier_out,
                                jpl_error *e)
{
    if (text == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "verifier key is missing");
    key_parts k;
    jpl_err err = split_key("verifier key", text, len, &k, e);
    if (err != JPL_OK)
        return err;
    uint32_t want = key_id_of(k.name, k.name_len, k.key);
    if (want != k.key_id)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "verifier key: key id %08x does not match the name and public key "
                        "(expected %08x)",
                        k.key_id, want);
    jpl_note_verifier v;
    memset(&v, 0, sizeof v);
    memcpy(v.name, k.name, k.name_len);
    v.key_id = k.key_id;
    memcpy(v.pk, k.key, sizeof v.pk);
    *verifier_out = v;
    return JPL_OK;
}

jpl_err jpl_note_signer_parse(const char *text, size_t len, jpl_note_signer *signer_out,
                              jpl_error *e)
{
    if (text == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "signer key is missing");
    if (len < PRIVATE_KEY_PREFIX_LEN || memcmp(text, PRIVATE_KEY_PREFIX, PRIVATE_KEY_PREFIX_LEN))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "signer key must start with \"PRIVATE+KEY+\"");
    key_parts k;
    jpl_err err =
        split_key("signer key", text + PRIVATE_KEY_PREFIX_LEN, len - PRIVATE_KEY_PREFIX_LEN, &k, e);
    if (err != JPL_OK)
        return err;
    jpl_note_signer s;
    memset(&s, 0, sizeof s);
    bool ok = jpl_ed25519_from_seed(k.key, s.pk, s.sk);
    jpl_memzero(&k.key, sizeof k.key);
    if (!ok) {
        jpl_memzero(&s, sizeof s);
        return jpl_fail(e, JPL_ERR_INTERNAL, "Ed25519 key derivation failed");
    }
    uint32_t want = key_id_of(k.name, k.name_len, s.pk);
    if (want != k.key_id) {
        jpl_memzero(&s, sizeof s);
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "signer key: key id %08x does not match the name and the key's public key "
                        "(expected %08x)",
                        k.key_id, want);
    }
    memcpy(s.name, k.name, k.name_len);
    s.key_id = k.key_id;
    *signer_out = s;
    jpl_memzero(&s, sizeof s);
    return JPL_OK;
}

/* Writes [prefix]name+id+base64(0x01 || key) NUL-terminated into buf[0..cap). */
static jpl_err format_key(const char *what, const char *prefix, const char *name, uint32_t key_id,
                          const uint8_t key[32], char *buf, size_t cap, jpl_error *e)
{
    size_t name_len = 0;
    jpl_err err = check_name(name, &name_len, e);
    if (err != JPL_OK) {
        jpl_error_prefix(e, "%s", what);
        return err;
    }
    size_t plen = strlen(prefix);
    size_t need = plen + name_len + 1 + 8 + 1 + KEY_B64_LEN + 1;
    if (buf == NULL || cap < need)
        return jpl_fail(e, JPL_ERR_TOO_LARGE, "%s: buffer of %zu bytes is too small, need %zu",
                        what, cap, need);
    uint8_t raw[33];
    raw[0] = JPL_NOTE_ALG_ED25519;
    memcpy(raw + 1, key, 32);
    uint8_t idb[4];
    put_be32(idb, key_id);
    size_t o = 0;
    memcpy(buf + o, prefix, plen);
    o += plen;
    memcpy(buf + o, name, name_len);
    o += name_len;
    buf[o++] = '+';
    jpl_hex_encode(buf + o, idb, 4);
    o += 8;
    buf[o++] = '+';
    bool ok = jpl_base64_encode(buf + o, cap - o, raw, sizeof raw);
    jpl_memzero(raw, sizeof raw);
    if (!ok)
        return jpl_fail(e, JPL_ERR_INTERNAL, "%s: base64 encoding failed", what);
    return JPL_OK;
}

jpl_err jpl_note_signer_format(const jpl_note_signer *signer, char *buf, size_t cap, jpl_error *e)
{
    if (signer == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "signer is missing");
    return format_key("signer key", PRIVATE_KEY_PREFIX, signer->name, signer->key_id, signer->sk,
                      buf, cap, e);
}

jpl_err jpl_note_verifier_format(const jpl_note_verifier *verifier, char *buf, size_t cap,
                                 jpl_error *e)
{
    if (verifier == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "verifier is missing");
    return format_key("verifier key", "", verifier->name, verifier->key_id, verifier->pk, buf, cap,
                      e);
}

/* ---- signing ---- */

/* Checks that signer is well-formed (valid name, key id and public key of its secret key) and
 * that text[0..text_len) may be signed; sets *name_len. */
static jpl_err check_signing(const char *text, size_t text_len, const jpl_note_signer *signer,
                             size_t *name_len, jpl_error *e)
{
    jpl_err err = check_name(signer->name, name_len, e);
    if (err != JPL_OK) {
        jpl_error_prefix(e, "note signer");
        return err;
    }
    if (key_id_of(signer->name, *name_len, signer->pk) != signer->key_id ||
        !jpl_memeq(signer->pk, signer->sk + JPL_ED25519_SEED_LEN, JPL_ED25519_PK_LEN))
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "note signer %s: key id or public key does not match the secret key",
                        signer->name);
    if (text == NULL || text_len == 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "note text is empty");
    if (text[text_len - 1] != '\n')
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "note text must end with a newline");
    return check_text_chars("note text", text, text_len, e);
}

/* Length of signer's signature line, newline included (name_len from check_signing). */
static size_t sig_line_len(size_t name_len)
{
    return EM_DASH_SP_LEN + name_len + 1 + (jpl_base64_size(ED25519_NOTE_SIG_LEN) - 1) + 1;
}

/* Writes signer's signature line over text[0..text_len), "— name base64(key id || sig)\n", at
 * out (sig_line_len(name_len) bytes; no NUL). */
static jpl_err write_sig_line(const char *text, size_t text_len, const jpl_note_signer *signer,
                              size_t name_len, char *out, jpl_error *e)
{
    uint8_t blob[ED25519_NOTE_SIG_LEN];
    char b64[JPL_NOTE_SIG_B64_MAX];
    size_t b64_len = jpl_base64_size(sizeof blob) - 1;
    put_be32(blob, signer->key_id);
    jpl_ed25519_sign(blob + 4, text, text_len, signer->sk);
    if (!jpl_base64_encode(b64, sizeof b64, blob, sizeof blob))
        return jpl_fail(e, JPL_ERR_INTERNAL, "note sign: base64 encoding failed");
    size_t o = 0;
    memcpy(out + o, EM_DASH_SP, EM_DASH_SP_LEN);
    o += EM_DASH_SP_LEN;
    memcpy(out + o, signer->name, name_len);
    o += name_len;
    out[o++] = ' ';
    memcpy(out + o, b64, b64_len);
    o += b64_len;
    out[o] = '\n';
    return JPL_OK;
}

jpl_err jpl_note_sign(const char *text, size_t text_len, const jpl_note_signer *signer, char *out,
                      size_t out_cap, size_t *out_len, jpl_error *e)
{
    if (signer == NULL || out_len == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "note sign: signer or out_len missing");
    size_t name_len = 0;
    jpl_err err = check_signing(text, text_len, signer, &name_len, e);
    if (err != JPL_OK)
        return err;
    size_t line_len = sig_line_len(name_len);
    if (text_len > JPL_NOTE_MAX_SIZE || line_len + 1 > JPL_NOTE_MAX_SIZE - text_len)
        return jpl_fail(e, JPL_ERR_TOO_LARGE, "signed note would exceed %u bytes",
                        JPL_NOTE_MAX_SIZE);
    size_t total = text_len + 1 + line_len;
    if (out == NULL || out_cap < total + 1)
        return jpl_fail(e, JPL_ERR_TOO_LARGE,
                        "note sign: output buffer of %zu bytes is too small, need %zu", out_cap,
                        total + 1);
    char line[EM_DASH_SP_LEN + JPL_NOTE_NAME_MAX + 128];
    err = write_sig_line(text, text_len, signer, name_len, line, e);
    if (err != JPL_OK)
        return err;
    memmove(out, text, text_len); /* out may be text itself */
    out[text_len] = '\n';
    memcpy(out + text_len + 1, line, line_len);
    out[total] = '\0';
    *out_len = total;
    return JPL_OK;
}

/* True iff a signature line of r names (name, key id). */
static bool has_sig_by(const char *note, const jpl_note_result *r, const char *name,
                       size_t name_len, uint32_t key_id)
{
    for (size_t i = 0; i < r->n_sigs; i++)
        if (r->sigs[i].key_id == key_id && r->sigs[i].name_len == name_len &&
            memcmp(note + r->sigs[i].name_off, name, name_len) == 0)
            return true;
    return false;
}

jpl_err jpl_note_cosign(const char *note, size_t len, const jpl_note_signer *signer, char *out,
                        size_t out_cap, size_t *out_len, jpl_error *e)
{
    if (signer == NULL || out_len == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "note cosign: signer or out_len missing");
    static const jpl_note_result zero;
    jpl_note_result r = zero;
    jpl_err err = jpl_note_parse(note, len, &r, e);
    if (err != JPL_OK)
        return err;
    size_t name_len = 0;
    err = check_signing(note, r.text_len, signer, &name_len, e);
    if (err != JPL_OK)
        return err;
    if (has_sig_by(note, &r, signer->name, name_len, signer->key_id))
        return jpl_fail(e, JPL_ERR_EXISTS, "the note already has a signature by %s+%08x",
                        signer->name, signer->key_id);
    if (r.n_sigs == JPL_NOTE_SIGS_MAX)
        return jpl_fail(e, JPL_ERR_TOO_LARGE, "the note already has %d signatures, the limit",
                        JPL_NOTE_SIGS_MAX);
    size_t line_len = sig_line_len(name_len);
    if (line_len > JPL_NOTE_MAX_SIZE - len)
        return jpl_fail(e, JPL_ERR_TOO_LARGE, "cosigned note would exceed %u bytes",
                        JPL_NOTE_MAX_SIZE);
    if (out == NULL || out_cap < len + line_len + 1)
        return jpl_fail(e, JPL_ERR_TOO_LARGE,
                        "note cosign: output buffer of %zu bytes is too small, need %zu", out_cap,
                        len + line_len + 1);
    err = write_sig_line(note, r.text_len, signer, name_len, out + len, e);
    if (err != JPL_OK)
        return err;
    memcpy(out, note, len);
    out[len + line_len] = '\0';
    *out_len = len + line_len;
    return JPL_OK;
}

/* ---- opening ---- */

/* Finds the verifier for (name, key id); returns JPL_OK with *idx = JPL_NOTE_NO_VERIFIER when
 * none matches, BAD_INPUT when two do. */
static jpl_err find_verifier(const jpl_note_verifier *vs, size_t nv, const char *name,
                             size_t name_len, uint32_t key_id, size_t *idx, jpl_error *e)
{
    size_t found = JPL_NOTE_NO_VERIFIER;
    for (size_t i = 0; i < nv; i++) {
        size_t vlen = strnlen(vs[i].name, sizeof vs[i].name);
        if (vs[i].key_id != key_id || vlen != name_len || memcmp(vs[i].name, name, vlen) != 0)
            continue;
        if (found != JPL_NOTE_NO_VERIFIER)
            return jpl_fail(e, JPL_ERR_BAD_INPUT,
                            "verifiers %zu and %zu are both %.*s+%08x: ambiguous key list", found,
                            i, (int)name_len, name, key_id);
        found = i;
    }
    *idx = found;
    return JPL_OK;
}

/* Parses one signature line note[off .. off+line_len) (without its newline) into *sig. */
static jpl_err parse_sig_line(const char *note, size_t off, size_t line_len, size_t lineno,
                              jpl_note_sig *sig, jpl_error *e)
{
    const char *line = note + off;
    if (line_len < EM_DASH_SP_LEN || memcmp(line, EM_DASH_SP, EM_DASH_SP_LEN) != 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "signature line %zu does not start with an em dash (U+2014) and a space",
                        lineno);
    const char *name = line + EM_DASH_SP_LEN;
    size_t rest = line_len - EM_DASH_SP_LEN;
    const char *sp = memchr(name, ' ', rest);
    if (sp == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "signature line %zu has no space after the key name",
                        lineno);
    size_t name_len = (size_t)(sp - name);
    if (!jpl_note_name_valid(name, name_len))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "signature line %zu has an invalid key name", lineno);
    const char *b64 = sp + 1;
    size_t b64_len = rest - name_len - 1;
    if (b64_len == 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "signature line %zu has an empty signature", lineno);
    if (b64_len > JPL_NOTE_SIG_B64_MAX)
        return jpl_fail(e, JPL_ERR_TOO_LARGE,
                        "signature line %zu: signature longer than %d base64 characters", lineno,
                        JPL_NOTE_SIG_B64_MAX);
    uint8_t raw[SIG_BYTES_MAX];
    size_t raw_len = 0;
    if (!jpl_base64_decode(raw, sizeof raw, &raw_len, b64, b64_len))
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "signature line %zu: signature is not valid padded base64", lineno);
    if (raw_len < 5)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "signature line %zu: signature has %zu bytes, need a key id and more",
                        lineno, raw_len);
    sig->line_off = off;
    sig->name_off = (size_t)(name - note);
    sig->name_len = name_len;
    sig->sig_off = (size_t)(b64 - note);
    sig->sig_len = b64_len;
    sig->key_id = be32(raw);
    sig->verifier = JPL_NOTE_NO_VERIFIER;
    return JPL_OK;
}

/* Verifies signature *sig of text note[0..text_len) with verifier v. */
static jpl_err verify_sig(const char *note, size_t text_len, const jpl_note_sig *sig,
                          const jpl_note_verifier *v, jpl_error *e)
{
    uint8_t raw[SIG_BYTES_MAX];
    size_t raw_len = 0;
    if (!jpl_base64_decode(raw, sizeof raw, &raw_len, note + sig->sig_off, sig->sig_len))
        return jpl_fail(e, JPL_ERR_INTERNAL, "signature re-decoding failed");
    if (raw_len != ED25519_NOTE_SIG_LEN)
        return jpl_fail(e, JPL_ERR_BAD_SIGNATURE,
                        "signature by %s+%08x has %zu bytes, an Ed25519 one has %d", v->name,
                        v->key_id, raw_len - 4, JPL_ED25519_SIG_LEN);
    if (!jpl_ed25519_verify(raw + 4, note, text_len, v->pk))
        return jpl_fail(e, JPL_ERR_BAD_SIGNATURE, "invalid signature by key %s+%08x", v->name,
                        v->key_id);
    return JPL_OK;
}

/* True iff the line of sigs[i] is identical to that of an earlier unknown-key signature. */
static bool repeats_unknown(const char *note, const jpl_note_sig *sigs, size_t i)
{
    size_t len_i = sigs[i].sig_off + sigs[i].sig_len - sigs[i].line_off;
    for (size_t j = 0; j < i; j++) {
        size_t len_j = sigs[j].sig_off + sigs[j].sig_len - sigs[j].line_off;
        if (sigs[j].verifier == JPL_NOTE_NO_VERIFIER && len_j == len_i &&
            memcmp(note + sigs[j].line_off, note + sigs[i].line_off, len_i) == 0)
            return true;
    }
    return false;
}

static bool verifier_seen_before(const jpl_note_sig *sigs, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (sigs[j].verifier == sigs[i].verifier)
            return true;
    return false;
}

/* The shared body of jpl_note_open (verify = true) and jpl_note_parse (verify = false). */
static jpl_err open_note(const char *note, size_t len, const jpl_note_verifier *vs, size_t nv,
                         bool verify, jpl_note_result *result_out, jpl_error *e)
{
    if (result_out == NULL || (note == NULL && len != 0) || (vs == NULL && nv != 0))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "note open: missing argument");
    if (len > JPL_NOTE_MAX_SIZE)
        return jpl_fail(e, JPL_ERR_TOO_LARGE, "note of %zu bytes exceeds the %u-byte limit", len,
                        JPL_NOTE_MAX_SIZE);
    jpl_err err = check_text_chars("note", note, len, e);
    if (err != JPL_OK)
        return err;

    /* The text ends at the newline before the last blank line. */
    size_t split = len;
    for (size_t i = len; i >= 2; i--) {
        if (note[i - 1] == '\n' && note[i - 2] == '\n') {
            split = i - 2;
            break;
        }
    }
    if (split == len)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "note has no blank line separating the text from the signatures");
    size_t start = split + 2;
    if (start == len)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "note has no signature lines after the blank line");
    if (note[len - 1] != '\n')
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "note's last signature line has no final newline");

    static const jpl_note_result zero;
    jpl_note_result r = zero;
    r.text_len = split + 1;
    size_t pos = start;
    while (pos < len) {
        const char *nl = memchr(note + pos, '\n', len - pos); /* found: note ends in '\n' */
        size_t line_len = (size_t)(nl - (note + pos));
        if (r.n_sigs == JPL_NOTE_SIGS_MAX)
            return jpl_fail(e, JPL_ERR_TOO_LARGE, "note has more than %d signatures",
                            JPL_NOTE_SIGS_MAX);
        err = parse_sig_line(note, pos, line_len, r.n_sigs + 1, &r.sigs[r.n_sigs], e);
        if (err != JPL_OK)
            return err;
        r.n_sigs++;
        pos += line_len + 1;
    }

    for (size_t i = 0; i < r.n_sigs; i++) {
        jpl_note_sig *s = &r.sigs[i];
        size_t idx = JPL_NOTE_NO_VERIFIER;
        err = find_verifier(vs, nv, note + s->name_off, s->name_len, s->key_id, &idx, e);
        if (err != JPL_OK)
            return err;
        if (idx == JPL_NOTE_NO_VERIFIER) {
            if (!repeats_unknown(note, r.sigs, i))
                r.n_unverified++;
            continue;
        }
        err = verify_sig(note, r.text_len, s, &vs[idx], e);
        if (err != JPL_OK)
            return err;
        s->verifier = idx;
        if (!verifier_seen_before(r.sigs, i))
            r.n_verified++;
    }
    if (verify && r.n_verified == 0)
        return jpl_fail(
            e, JPL_ERR_UNKNOWN_KEY,
            "note has no signature from a known key (%zu signature%s from unknown keys)", r.n_sigs,
            r.n_sigs == 1 ? "" : "s");
    *result_out = r;
    return JPL_OK;
}

jpl_err jpl_note_open(const char *note, size_t len, const jpl_note_verifier *verifiers,
                      size_t n_verifiers, jpl_note_result *result_out, jpl_error *e)
{
    return open_note(note, len, verifiers, n_verifiers, true, result_out, e);
}

jpl_err jpl_note_parse(const char *note, size_t len, jpl_note_result *result_out, jpl_error *e)
{
    return open_note(note, len, NULL, 0, false, result_out, e);
}

bool jpl_note_result_verified_by(const jpl_note_result *result, size_t verifier_index)
{
    if (result == NULL)
        return false;
    for (size_t i = 0; i < result->n_sigs && i < JPL_NOTE_SIGS_MAX; i++)
        if (result->sigs[i].verifier == verifier_index)
            return true;
    return false;
}

/* ---- checkpoints ---- */

/* Decimal digits of v into buf (at least 21 bytes), no NUL; returns the count. */
static size_t u64_decimal(char *buf, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

/* Checks an origin line's content. */
static jpl_err check_origin(const char *origin, size_t len, jpl_error *e)
{
    if (len == 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "checkpoint origin is empty");
    if (len > JPL_CHECKPOINT_ORIGIN_MAX)
        return jpl_fail(e, JPL_ERR_TOO_LARGE, "checkpoint origin longer than %d bytes",
                        JPL_CHECKPOINT_ORIGIN_MAX);
    if (memchr(origin, '\n', len) != NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "checkpoint origin contains a newline");
    return check_text_chars("checkpoint origin", origin, len, e);
}

jpl_err jpl_checkpoint_format(const char *origin, uint64_t size, const uint8_t root[JPL_SHA256_LEN],
                              char *buf, size_t cap, size_t *len_out, jpl_error *e)
{
    if (origin == NULL || root == NULL || len_out == NULL)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "checkpoint format: missing argument");
    size_t olen = strnlen(origin, JPL_CHECKPOINT_ORIGIN_MAX + 1);
    jpl_err err = check_origin(origin, olen, e);
    if (err != JPL_OK)
        return err;
    char digits[21];
    size_t dlen = u64_decimal(digits, size);
    size_t rlen = jpl_base64_size(JPL_SHA256_LEN) - 1;
    size_t need = olen + 1 + dlen + 1 + rlen + 1;
    if (buf == NULL || cap < need + 1)
        return jpl_fail(e, JPL_ERR_TOO_LARGE,
                        "checkpoint format: buffer of %zu bytes is too small, need %zu", cap,
                        need + 1);
    size_t o = 0;
    memcpy(buf, origin, olen);
    o += olen;
    buf[o++] = '\n';
    memcpy(buf + o, digits, dlen);
    o += dlen;
    buf[o++] = '\n';
    if (!jpl_base64_encode(buf + o, cap - o, root, JPL_SHA256_LEN))
        return jpl_fail(e, JPL_ERR_INTERNAL, "checkpoint format: base64 encoding failed");
    o += rlen;
    buf[o++] = '\n';
    buf[o] = '\0';
    *len_out = o;
    return JPL_OK;
}

/* Finds the line starting at *pos in text[0..len); sets *line_len and advances *pos past its
 * newline. Returns false if no newline ends it. */
static bool next_line(const char *text, size_t len, size_t *pos, size_t *line_len)
{
    if (*pos >= len)
        return false;
    const char *nl = memchr(text + *pos, '\n', len - *pos);
    if (nl == NULL)
        return false;
    *line_len = (size_t)(nl - (text + *pos));
    *pos += *line_len + 1;
    return true;
}

static jpl_err parse_size(const char *s, size_t n, uint64_t *out, jpl_error *e)
{
    if (n == 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "checkpoint tree size line is empty");
    if (n > 1 && s[0] == '0')
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "checkpoint tree size \"%.*s\" has a leading zero",
                        (int)(n > 32 ? 32 : n), s);
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return jpl_fail(e, JPL_ERR_BAD_INPUT,
                            "checkpoint tree size \"%.*s\" is not a decimal number",
                            (int)(n > 32 ? 32 : n), s);
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return jpl_fail(e, JPL_ERR_BAD_INPUT,
                            "checkpoint tree size \"%.*s\" does not fit in 64 bits",
                            (int)(n > 32 ? 32 : n), s);
        v = v * 10 + d;
    }
    *out = v;
    return JPL_OK;
}

jpl_err jpl_checkpoint_parse(const char *text, size_t len, jpl_checkpoint *checkpoint_out,
                             jpl_error *e)
{
    if (checkpoint_out == NULL || (text == NULL && len != 0))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "checkpoint parse: missing argument");
    if (len > JPL_NOTE_MAX_SIZE)
        return jpl_fail(e, JPL_ERR_TOO_LARGE, "checkpoint text of %zu bytes exceeds %u", len,
                        JPL_NOTE_MAX_SIZE);
    jpl_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    size_t pos = 0, n = 0;

    if (!next_line(text, len, &pos, &n))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "checkpoint has no origin line");
    jpl_err err = check_origin(text, n, e);
    if (err != JPL_OK)
        return err;
    memcpy(cp.origin, text, n);

    size_t at = pos;
    if (!next_line(text, len, &pos, &n))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "checkpoint has no tree size line");
    err = parse_size(text + at, n, &cp.size, e);
    if (err != JPL_OK)
        return err;

    at = pos;
    if (!next_line(text, len, &pos, &n))
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "checkpoint has no root hash line (or it lacks its final newline)");
    uint8_t raw[48];
    size_t raw_len = 0;
    if (n > 4 * (sizeof raw / 3))
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "checkpoint root hash must be base64 of 32 bytes, found %zu characters", n);
    if (!jpl_base64_decode(raw, sizeof raw, &raw_len, text + at, n))
        return jpl_fail(e, JPL_ERR_BAD_INPUT, "checkpoint root hash is not valid padded base64");
    if (raw_len != JPL_SHA256_LEN)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "checkpoint root hash must be base64 of 32 bytes, found %zu bytes",
                        raw_len);
    memcpy(cp.root, raw, JPL_SHA256_LEN);

    cp.ext_off = pos;
    while (pos < len) {
        at = pos;
        if (!next_line(text, len, &pos, &n))
            return jpl_fail(e, JPL_ERR_BAD_INPUT,
                            "checkpoint extension line %zu lacks its final newline", cp.n_ext + 1);
        if (n == 0)
            return jpl_fail(e, JPL_ERR_BAD_INPUT, "checkpoint extension line %zu is empty",
                            cp.n_ext + 1);
        err = check_text_chars("checkpoint extension line", text + at, n, e);
        if (err != JPL_OK)
            return err;
        cp.n_ext++;
    }
    *checkpoint_out = cp;
    return JPL_OK;
}

jpl_err jpl_checkpoint_open(const char *note, size_t len, const char *expected_origin,
                            const jpl_note_verifier *verifiers, size_t n_verifiers,
                            jpl_checkpoint *checkpoint_out, jpl_note_result *result_out,
                            jpl_error *e)
{
    static const jpl_note_result zero;
    jpl_note_result r = zero;
    jpl_err err = jpl_note_open(note, len, verifiers, n_verifiers, &r, e);
    if (err != JPL_OK)
        return err;
    jpl_checkpoint cp;
    err = jpl_checkpoint_parse(note, r.text_len, &cp, e);
    if (err != JPL_OK)
        return err;
    if (expected_origin != NULL && strcmp(cp.origin, expected_origin) != 0)
        return jpl_fail(e, JPL_ERR_BAD_INPUT,
                        "checkpoint origin \"%s\" is not the expected \"%.*s\"", cp.origin,
                        JPL_CHECKPOINT_ORIGIN_MAX, expected_origin);
    if (checkpoint_out != NULL)
        *checkpoint_out = cp;
    if (result_out != NULL)
        *result_out = r;
    return JPL_OK;
}
