/* Ed25519 against the RFC 8032 vectors (valid and invalid), base64 and hex round trips. */
#include "test.h"

#include <jansson.h>

#include "jpl/crypto.h"

static void hexval(uint8_t *out, size_t outlen, const char *hex)
{
    if (!jpl_hex_decode(out, outlen, hex, strlen(hex)))
        memset(out, 0xff, outlen);
}

static void test_rfc8032_valid(void)
{
    json_error_t jerr;
    json_t *root = json_load_file(jpl_test_vector_path("ed25519_rfc8032.json"), 0, &jerr);
    REQUIRE(root != NULL);
    json_t *vecs = json_object_get(root, "vectors");
    REQUIRE(json_array_size(vecs) == 5);
    size_t i;
    json_t *v;
    json_array_foreach(vecs, i, v)
    {
        uint8_t seed[32], pk[32], pk2[32], sk[64], sig[64], sig2[64];
        const char *msghex = json_string_value(json_object_get(v, "message"));
        size_t mlen = strlen(msghex) / 2;
        uint8_t *msg = malloc(mlen + 1);
        REQUIRE(msg != NULL);
        CHECK(mlen == 0 || jpl_hex_decode(msg, mlen, msghex, strlen(msghex)));
        hexval(seed, 32, json_string_value(json_object_get(v, "secret_key")));
        hexval(pk, 32, json_string_value(json_object_get(v, "public_key")));
        hexval(sig, 64, json_string_value(json_object_get(v, "signature")));
        CHECK(jpl_ed25519_from_seed(seed, pk2, sk));
        CHECK_MEMEQ(pk, pk2, 32);
        jpl_ed25519_sign(sig2, msg, mlen, sk);
        CHECK_MEMEQ(sig, sig2, 64);
        CHECK(jpl_ed25519_verify(sig, msg, mlen, pk));
        free(msg);
    }
    json_decref(root);
}

static void test_rfc8032_invalid(void)
{
    json_error_t jerr;
    json_t *root = json_load_file(jpl_test_vector_path("ed25519_rfc8032.json"), 0, &jerr);
    REQUIRE(root != NULL);
    json_t *vecs = json_object_get(root, "negative");
    REQUIRE(json_array_size(vecs) == 4);
    size_t i;
    json_t *v;
    json_array_foreach(vecs, i, v)
    {
        uint8_t pk[32], sig[64];
        const char *msghex = json_string_value(json_object_get(v, "message"));
        size_t mlen = strlen(msghex) / 2;
        uint8_t *msg = malloc(mlen + 1);
        REQUIRE(msg != NULL);
        CHECK(mlen == 0 || jpl_hex_decode(msg, mlen, msghex, strlen(msghex)));
        hexval(pk, 32, json_string_value(json_object_get(v, "public_key")));
        hexval(sig, 64, json_string_value(json_object_get(v, "signature")));
        CHECK(!jpl_ed25519_verify(sig, msg, mlen, pk));
        free(msg);
    }
    json_decref(root);
}

static void test_domain_separated_sign(void)
{
    uint8_t pk[32], sk[64], sig[64];
    REQUIRE(jpl_ed25519_keypair(pk, sk));
    jpl_ed25519_sign2(sig, "pre:", 4, "body", 4, sk);
    CHECK(jpl_ed25519_verify2(sig, "pre:", 4, "body", 4, pk));
    CHECK(jpl_ed25519_verify(sig, "pre:body", 8, pk));
    CHECK(!jpl_ed25519_verify2(sig, "pre;", 4, "body", 4, pk));
    CHECK(!jpl_ed25519_verify(sig, "body", 4, pk));
}

static void test_base64_hex(void)
{
    char b64[64];
    uint8_t out[64];
    size_t n = 0;
    CHECK(jpl_base64_encode(b64, sizeof b64, "foobar", 6));
    CHECK_STREQ(b64, "Zm9vYmFy");
    CHECK(jpl_base64_encode(b64, sizeof b64, "fo", 2));
    CHECK_STREQ(b64, "Zm8=");
    CHECK(jpl_base64_decode(out, sizeof out, &n, "Zm8=", 4));
    CHECK_EQ(n, 2);
    CHECK_MEMEQ(out, "fo", 2);
    CHECK(!jpl_base64_decode(out, sizeof out, &n, "Zm8", 3));
    CHECK(!jpl_base64_decode(out, sizeof out, &n, "Zm8*", 4));
    CHECK(!jpl_base64_decode(out, 1, &n, "Zm9vYmFy", 8));
    /* bytes outside the alphabet, which libsodium 1.0.18 would read as '/' */
    CHECK(!jpl_base64_decode(out, sizeof out, &n, "QUJ\xd8", 4));
    CHECK(!jpl_base64_decode(out, sizeof out, &n, "Zm9v\xc9\xadmF", 8));
    CHECK(!jpl_base64_decode(out, sizeof out, &n, "Zm 8", 4));
    char hex[9];
    jpl_hex_encode(hex, "\x01\xab\xff\x00", 4);
    CHECK_STREQ(hex, "01abff00");
    CHECK(jpl_hex_decode(out, 4, "01ABff00", 8));
    CHECK(!jpl_hex_decode(out, 4, "01abff0", 7));
    CHECK(!jpl_hex_decode(out, 4, "01abfg00", 8));
}

int main(void)
{
    if (!jpl_crypto_init())
        return 1;
    static const jpl_test_case cases[] = {
        TEST_CASE(test_rfc8032_valid),
        TEST_CASE(test_rfc8032_invalid),
        TEST_CASE(test_domain_separated_sign),
        TEST_CASE(test_base64_hex),
    };
    return jpl_test_run("crypto", cases, sizeof cases / sizeof cases[0]);
}
