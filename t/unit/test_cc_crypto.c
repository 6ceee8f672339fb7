/**
 * @file test_cc_crypto.c
 * @brief Unit tests for SHA-256, random tokens, UUIDv4, bcrypt and constant-time compare.
 */
#include <stdio.h>
#include <string.h>

#include <apr_errno.h>
#include <apr_file_io.h>
#include <apr_md5.h>
#include <apr_strings.h>

#include "cc_test.h"
#include "cc_crypto.h"
#include "cc_validate.h"


/* ---- SHA-256 ---- */

/* FIPS 180-4 / NIST CSRC example vectors. */
START_TEST(sha256_of_the_empty_string_matches_fips_180_4)
{
    ck_assert_str_eq(cc_sha256_hex(cc_test_pool, "", 0),
                     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(sha256_of_abc_matches_fips_180_4)
{
    ck_assert_str_eq(cc_sha256_hex(cc_test_pool, "abc", 3),
                     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(sha256_of_the_448_bit_message_matches_fips_180_4)
{
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

    ck_assert_str_eq(cc_sha256_hex(cc_test_pool, m, strlen(m)),
                     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

START_TEST(sha256_of_a_million_a_matches_fips_180_4)
{
    char *m = apr_palloc(cc_test_pool, 1000000);

    memset(m, 'a', 1000000);
    ck_assert_str_eq(cc_sha256_hex(cc_test_pool, m, 1000000),
                     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

/* Lengths around the padding boundaries (55/56 and 63/64/65 bytes, two blocks); the
 * message is byte i = (7i + 3) mod 256, digests from an independent implementation. */
static const struct {
    apr_size_t len;
    const char *hex;
} boundary_cases[] = {
    {55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"},
    {56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"},
    {63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"},
    {64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"},
    {65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"},
    {119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"},
    {120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"},
    {1000, "1e9bc38cbf860b9ec31918b065f9b52476c549a782e0e7990bed8ce3868d2371"},
};

START_TEST(sha256_pads_correctly_around_block_boundaries)
{
    unsigned char *m = apr_palloc(cc_test_pool, boundary_cases[_i].len);
    apr_size_t i;

    for (i = 0; i < boundary_cases[_i].len; i++) {
        m[i] = (unsigned char)((i * 7 + 3) & 255);
    }
    ck_assert_str_eq(cc_sha256_hex(cc_test_pool, m, boundary_cases[_i].len),
                     boundary_cases[_i].hex);
}
END_TEST

START_TEST(raw_sha256_equals_the_hex_digest)
{
    static const unsigned char abc[32] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
        0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
        0xf2, 0x00, 0x15, 0xad
    };
    unsigned char out[32];

    cc_sha256("abc", 3, out);
    ck_assert_mem_eq(out, abc, 32);
}
END_TEST

/* ---- HMAC-SHA256: RFC 4231 test vectors ---- */

static const struct {
    const char *key;            /* hex */
    const char *data;           /* hex */
    const char *mac;            /* hex */
} hmac_cases[] = {
    /* 1: 20-byte key */
    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
    /* 2: "Jefe" */
    {"4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    /* 3: 50 bytes of 0xdd under 0xaa x 20 */
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
     "dddddddddddddddddddd",
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
    /* 6: a 131-byte key (hashed first) */
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaa",
     "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048"
     "617368204b6579204669727374",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
};

static apr_size_t unhex(const char *hex, unsigned char *out)
{
    apr_size_t n = strlen(hex) / 2, i;

    for (i = 0; i < n; i++) {
        unsigned int b;

        sscanf(hex + 2 * i, "%2x", &b);
        out[i] = (unsigned char)b;
    }
    return n;
}

START_TEST(hmac_sha256_matches_rfc_4231)
{
    unsigned char key[256], data[256], mac[32];
    apr_size_t klen = unhex(hmac_cases[_i].key, key);
    apr_size_t dlen = unhex(hmac_cases[_i].data, data);

    cc_hmac_sha256(key, klen, data, dlen, mac);
    ck_assert_str_eq(cc_hex(cc_test_pool, mac, sizeof(mac)), hmac_cases[_i].mac);
}
END_TEST

START_TEST(hex_renders_every_byte_in_lowercase)
{
    static const unsigned char b[] = { 0x00, 0x0f, 0xa5, 0xff };

    ck_assert_str_eq(cc_hex(cc_test_pool, b, sizeof(b)), "000fa5ff");
    ck_assert_str_eq(cc_hex(cc_test_pool, b, 0), "");
}
END_TEST

/* ---- secret files ---- */

static const char *write_tmp(const char *content, apr_size_t len)
{
    char *path = apr_pstrdup(cc_test_pool, "/tmp/cc-unit-secret-XXXXXX");
    apr_file_t *f;
    apr_size_t n = len;

    ck_assert_int_eq(apr_file_mktemp(&f, path, APR_FOPEN_CREATE | APR_FOPEN_WRITE
                                     | APR_FOPEN_EXCL,
                                     cc_test_pool), APR_SUCCESS);
    ck_assert_int_eq(apr_file_write(f, content, &n), APR_SUCCESS);
    apr_file_close(f);
    return path;
}

START_TEST(secret_file_drops_one_trailing_newline_and_checks_the_length)
{
    const char *s, *err;
    apr_size_t len;
    const char *path = write_tmp("abcdef\r\n", 8);

    ck_assert_int_eq(cc_secret_file_read(cc_test_pool, path, "test file", 6, &s, &len, &err),
                     APR_SUCCESS);
    ck_assert_str_eq(s, "abcdef");
    ck_assert_int_eq(len, 6);
    ck_assert_int_ne(cc_secret_file_read(cc_test_pool, path, "test file", 7, &s, &len, &err),
                     APR_SUCCESS);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(err, "test file"));
    ck_assert_ptr_nonnull(strstr(err, "at least 7 bytes"));
    ck_assert_ptr_null(strstr(err, "abcdef"));        /* never the content */
    apr_file_remove(path, cc_test_pool);
    ck_assert_int_ne(cc_secret_file_read(cc_test_pool, path, "test file", 1, &s, &len, &err),
                     APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, "cannot open test file"));
}
END_TEST

START_TEST(secret_file_line_takes_printable_ascii_only)
{
    static const char *const bad[] = { "user:se\tcret\n", "user:s\x01x\n", "a\nb\n",
                                       "caf\xc3\xa9:x\n", "ab\x7f" };
    const char *s, *err, *path = write_tmp("user:p@ss word~\n", 16);
    size_t i;

    ck_assert_int_eq(cc_secret_file_line(cc_test_pool, path, "cred", 3, &s, &err),
                     APR_SUCCESS);
    ck_assert_str_eq(s, "user:p@ss word~");
    apr_file_remove(path, cc_test_pool);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        path = write_tmp(bad[i], strlen(bad[i]));
        ck_assert_int_ne(cc_secret_file_line(cc_test_pool, path, "cred", 1, &s, &err),
                         APR_SUCCESS);
        ck_assert_ptr_null(s);
        ck_assert_ptr_nonnull(strstr(err, "one line of printable ASCII"));
        apr_file_remove(path, cc_test_pool);
    }
    path = write_tmp("ab\0cd", 5);                     /* a NUL byte */
    ck_assert_int_ne(cc_secret_file_line(cc_test_pool, path, "cred", 1, &s, &err),
                     APR_SUCCESS);
    apr_file_remove(path, cc_test_pool);
    path = write_tmp("ab\n", 3);                       /* the length is still checked */
    ck_assert_int_ne(cc_secret_file_line(cc_test_pool, path, "cred", 3, &s, &err),
                     APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, "at least 3 bytes"));
    apr_file_remove(path, cc_test_pool);
}
END_TEST

/* ---- random ---- */

static int is_base64url(const char *s)
{
    for (; *s; s++) {
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')
              || *s == '-' || *s == '_')) {
            return 0;
        }
    }
    return 1;
}

static const struct {
    apr_size_t nbytes;
    apr_size_t chars;
} token_cases[] = {{0, 0}, {1, 2}, {2, 3}, {3, 4}, {4, 6}, {16, 22}, {32, 43}, {48, 64}};

START_TEST(random_token_is_unpadded_base64url_of_the_right_length)
{
    const char *t = NULL;

    ck_assert_int_eq(cc_random_token(cc_test_pool, token_cases[_i].nbytes, &t), APR_SUCCESS);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(strlen(t), token_cases[_i].chars);
    ck_assert_msg(is_base64url(t), "token %s", t);
}
END_TEST

START_TEST(random_tokens_differ_and_use_the_whole_alphabet)
{
    const char *a, *b;
    int seen_dash_or_underscore = 0, i;

    ck_assert_int_eq(cc_random_token(cc_test_pool, 32, &a), APR_SUCCESS);
    ck_assert_int_eq(cc_random_token(cc_test_pool, 32, &b), APR_SUCCESS);
    ck_assert_str_ne(a, b);
    /* 4096 random bytes give ~5460 characters; '-' or '_' is all but certain. */
    ck_assert_int_eq(cc_random_token(cc_test_pool, 4096, &a), APR_SUCCESS);
    ck_assert(is_base64url(a));
    for (i = 0; a[i]; i++) {
        seen_dash_or_underscore |= (a[i] == '-' || a[i] == '_');
    }
    ck_assert(seen_dash_or_underscore);
    ck_assert_ptr_null(strchr(a, '='));
    ck_assert_ptr_null(strchr(a, '+'));
    ck_assert_ptr_null(strchr(a, '/'));
}
END_TEST

START_TEST(uuid_v4_has_the_version_and_variant_bits)
{
    const char *u, *v;
    int i;

    for (i = 0; i < 64; i++) {
        ck_assert_int_eq(cc_uuid_v4(cc_test_pool, &u), APR_SUCCESS);
        ck_assert_uint_eq(strlen(u), 36);
        ck_assert_msg(cc_valid_uuid(u), "uuid %s", u);
        ck_assert_int_eq(u[14], '4');
        ck_assert_ptr_nonnull(strchr("89ab", u[19]));
    }
    ck_assert_int_eq(cc_uuid_v4(cc_test_pool, &v), APR_SUCCESS);
    ck_assert_str_ne(u, v);
}
END_TEST

/* ---- passwords ---- */

START_TEST(bcrypt_hash_verifies_and_a_wrong_password_fails)
{
    const char *h = NULL, *h2 = NULL;

    ck_assert_int_eq(cc_password_hash(cc_test_pool, "correct horse battery", 4, &h),
                     APR_SUCCESS);
    ck_assert_ptr_nonnull(h);
    ck_assert_uint_eq(strlen(h), 60);
    ck_assert(!strncmp(h, "$2y$04$", 7));
    ck_assert_int_eq(cc_password_verify("correct horse battery", h), 1);
    ck_assert_int_eq(cc_password_verify("correct horse batterY", h), 0);
    ck_assert_int_eq(cc_password_verify("", h), 0);
    /* A fresh salt each time: equal passwords, different hashes. */
    ck_assert_int_eq(cc_password_hash(cc_test_pool, "correct horse battery", 4, &h2),
                     APR_SUCCESS);
    ck_assert_str_ne(h, h2);
    ck_assert_int_eq(cc_password_verify("correct horse battery", h2), 1);
}
END_TEST

START_TEST(bcrypt_refuses_bad_costs_and_null_passwords)
{
    const char *h = "untouched";

    ck_assert_int_eq(cc_password_hash(cc_test_pool, "pw", 3, &h), APR_EINVAL);
    ck_assert_ptr_null(h);
    ck_assert_int_eq(cc_password_hash(cc_test_pool, "pw", 32, &h), APR_EINVAL);
    ck_assert_int_eq(cc_password_hash(cc_test_pool, NULL, 4, &h), APR_EINVAL);
}
END_TEST

START_TEST(verify_accepts_only_bcrypt_hashes)
{
    char md5[120];

    /* A real apr MD5 ("$apr1$") hash that apr itself accepts: we still refuse it. */
    ck_assert_int_eq(apr_md5_encode("password", "saltsalt", md5, sizeof(md5)), APR_SUCCESS);
    ck_assert_int_eq(apr_password_validate("password", md5), APR_SUCCESS);
    ck_assert_int_eq(cc_password_verify("password", md5), 0);
    ck_assert_int_eq(cc_password_verify("password", "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="), 0);
    ck_assert_int_eq(cc_password_verify("password", "password"), 0);
    ck_assert_int_eq(cc_password_verify("password", ""), 0);
    ck_assert_int_eq(cc_password_verify("password", NULL), 0);
    ck_assert_int_eq(cc_password_verify(NULL, "$2y$04$abcdefghijklmnopqrstuu"), 0);
}
END_TEST

START_TEST(verify_accepts_2a_and_2y_hashes_made_elsewhere)
{
    const char *h;

    /* A $2y$ hash re-labelled $2a$ is the same crypt_blowfish computation. */
    ck_assert_int_eq(cc_password_hash(cc_test_pool, "s3cret-pass", 4, &h), APR_SUCCESS);
    ck_assert_int_eq(cc_password_verify("s3cret-pass", h), 1);
    {
        char *a = apr_pstrdup(cc_test_pool, h);

        a[2] = 'a';
        ck_assert_int_eq(cc_password_verify("s3cret-pass", a), 1);
        ck_assert_int_eq(cc_password_verify("s3cret-pasS", a), 0);
    }
}
END_TEST

/* ---- constant-time compare ---- */

static const struct {
    const char *a, *b;
    int eq;
} ct_cases[] = {
    {"", "", 1},
    {"abc", "abc", 1},
    {"abc", "abd", 0},
    {"abc", "ab", 0},
    {"ab", "abc", 0},
    {"abc", "", 0},
    {"", "abc", 0},
    {"abcabc", "abc", 0},
    {NULL, "abc", 0},
    {"abc", NULL, 0},
    {NULL, NULL, 0},
};

START_TEST(constant_time_compare_is_plain_equality)
{
    ck_assert_msg(cc_str_equal_ct(ct_cases[_i].a, ct_cases[_i].b) == ct_cases[_i].eq,
                  "case %d", _i);
}
END_TEST

CC_TEST_SUITE("cc_crypto",
    CC_TCASE("sha256"),
        CC_TEST(sha256_of_the_empty_string_matches_fips_180_4),
        CC_TEST(sha256_of_abc_matches_fips_180_4),
        CC_TEST(sha256_of_the_448_bit_message_matches_fips_180_4),
        CC_TEST(sha256_of_a_million_a_matches_fips_180_4),
        CC_LOOP_TEST(sha256_pads_correctly_around_block_boundaries, N(boundary_cases)),
        CC_TEST(raw_sha256_equals_the_hex_digest),
    CC_TCASE("hmac"),
        CC_LOOP_TEST(hmac_sha256_matches_rfc_4231, N(hmac_cases)),
        CC_TEST(hex_renders_every_byte_in_lowercase),
        CC_TEST(secret_file_drops_one_trailing_newline_and_checks_the_length),
        CC_TEST(secret_file_line_takes_printable_ascii_only),
    CC_TCASE("random"),
        CC_LOOP_TEST(random_token_is_unpadded_base64url_of_the_right_length, N(token_cases)),
        CC_TEST(random_tokens_differ_and_use_the_whole_alphabet),
        CC_TEST(uuid_v4_has_the_version_and_variant_bits),
    CC_TCASE("passwords"),
        CC_TEST(bcrypt_hash_verifies_and_a_wrong_password_fails),
        CC_TEST(bcrypt_refuses_bad_costs_and_null_passwords),
        CC_TEST(verify_accepts_only_bcrypt_hashes),
        CC_TEST(verify_accepts_2a_and_2y_hashes_made_elsewhere),
        CC_LOOP_TEST(constant_time_compare_is_plain_equality, N(ct_cases)))
