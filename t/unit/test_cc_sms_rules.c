/**
 * @file test_cc_sms_rules.c
 * @brief Unit tests for the pure SMS rules: send bodies, callback signatures, the
 *        tenant's secret, the job's backoff and provider answers.
 */
#include <string.h>

#include <apr_strings.h>

#include "cc_test.h"
#include "cc_crypto.h"
#include "cc_retry.h"
#include "cc_sms_rules.h"
#include "cc_validate.h"

/* ---- send bodies ---- */

static const char *repeat(const char *s, int n)
{
    char *out = apr_palloc(cc_test_pool, strlen(s) * (apr_size_t)n + 1);
    int i;

    out[0] = '\0';
    for (i = 0; i < n; i++) {
        strcat(out, s);
    }
    return out;
}

static int has_detail(const cc_error_t *e, const char *field)
{
    int i;

    for (i = 0; e && e->details && i < e->details->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(e->details, i, cc_error_detail_t).field, field)) {
            return 1;
        }
    }
    return 0;
}

START_TEST(send_check_accepts_1600_characters_of_any_width)
{
    ck_assert_ptr_null(cc_sms_send_check(cc_test_pool, "+4930123456", "+14155550100", "x"));
    ck_assert_ptr_null(cc_sms_send_check(cc_test_pool, "+4930123456", "+14155550100",
                                         repeat("x", 1600)));
    /* 1600 characters, 3200 and 6400 bytes. */
    ck_assert_ptr_null(cc_sms_send_check(cc_test_pool, "+4930123456", "+14155550100",
                                         repeat("\xc3\xa9", 1600)));
    ck_assert_ptr_null(cc_sms_send_check(cc_test_pool, "+4930123456", "+14155550100",
                                         repeat("\xf0\x9f\x98\x80", 1600)));
    ck_assert_ptr_null(cc_sms_send_check(cc_test_pool, "+4930123456", "+14155550100",
                                         "line one\r\nline\ttwo"));
}
END_TEST

static const struct {
    const char *from, *to, *body;
    const char *field;
} bad_sends[] = {
    { "4930123456", "+14155550100", "x", "from" },
    { "+0930123456", "+14155550100", "x", "from" },
    { NULL, "+14155550100", "x", "from" },
    { "+4930123456", "+1234567", "x", "to" },             /* 7 digits */
    { "+4930123456", "+1234567890123456", "x", "to" },    /* 16 digits */
    { "+4930123456", "+14155550100", "", "body" },
    { "+4930123456", "+14155550100", NULL, "body" },
    { "+4930123456", "+14155550100", "bell \x07", "body" },
    { "+4930123456", "+14155550100", "\xc3\x28", "body" },         /* invalid UTF-8 */
    { "+4930123456", "+14155550100", "\xed\xa0\x80", "body" },     /* a surrogate */
    { "+4930123456", "+14155550100", "\xc0\xaf", "body" },         /* overlong */
};

START_TEST(send_check_names_the_field_at_fault)
{
    cc_error_t *e = cc_sms_send_check(cc_test_pool, bad_sends[_i].from, bad_sends[_i].to,
                                      bad_sends[_i].body);

    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->status, 400);
    ck_assert_msg(has_detail(e, bad_sends[_i].field), "case %d", _i);
}
END_TEST

START_TEST(send_check_refuses_1601_characters_and_reports_every_field)
{
    cc_error_t *e = cc_sms_send_check(cc_test_pool, "+4930123456", "+14155550100",
                                      repeat("\xc3\xa9", 1601));

    ck_assert(has_detail(e, "body"));
    e = cc_sms_send_check(cc_test_pool, "x", "y", "");
    ck_assert(has_detail(e, "from") && has_detail(e, "to") && has_detail(e, "body"));
}
END_TEST

/* ---- signatures ---- */

/* Computed independently: python3 -c 'import hmac,hashlib;
 * print(hmac.new(b"s3cret", b"1700000000.{\"a\":1}", hashlib.sha256).hexdigest())' */
#define SIG_EXPECTED "v1=1698a50bc74d1ff1db85c4e0a5297c2ad9fdba245d5737cdb789e4cc6e098940"

START_TEST(sign_is_hmac_sha256_over_timestamp_dot_body)
{
    const char *sig = cc_sign_v1(cc_test_pool, "s3cret", "1700000000", "{\"a\":1}", 7);

    ck_assert_str_eq(sig, SIG_EXPECTED);
    ck_assert_str_eq(sig, cc_sign_v1(cc_test_pool, "s3cret", "1700000000", "{\"a\":1}", 7));
    ck_assert_str_ne(sig, cc_sign_v1(cc_test_pool, "s3cret", "1700000001", "{\"a\":1}", 7));
    ck_assert_str_ne(sig, cc_sign_v1(cc_test_pool, "s3creu", "1700000000", "{\"a\":1}", 7));
    ck_assert_str_ne(sig, cc_sign_v1(cc_test_pool, "s3cret", "1700000000", "{\"a\":2}", 7));
}
END_TEST

START_TEST(sign_covers_every_raw_byte)
{
    /* A NUL inside the body counts: the length, not strlen. */
    const char *a = cc_sign_v1(cc_test_pool, "k", "1", "ab\0c", 4);
    const char *b = cc_sign_v1(cc_test_pool, "k", "1", "ab\0d", 4);

    ck_assert_str_ne(a, b);
    ck_assert_str_ne(cc_sign_v1(cc_test_pool, "k", "1", "", 0),
                     cc_sign_v1(cc_test_pool, "k", "1", "x", 1));
}
END_TEST

START_TEST(verify_accepts_a_fresh_signature_within_the_window)
{
    const char *body = "{\"message_id\":\"m1\"}";
    const char *sig = cc_sign_v1(cc_test_pool, "sec", "1000", body, strlen(body));
    const char *why = NULL;

    ck_assert(cc_sms_verify(cc_test_pool, "sec", "1000", sig, body, strlen(body), 1000, 300,
                            &why));
    ck_assert(cc_sms_verify(cc_test_pool, "sec", "1000", sig, body, strlen(body), 1300, 300,
                            &why));
    ck_assert(cc_sms_verify(cc_test_pool, "sec", "1000", sig, body, strlen(body), 700, 300,
                            &why));
}
END_TEST

static const struct {
    const char *secret, *ts, *sig_ts, *body;
    int use_sig;                /* 0: no header, 1: the right one, 2: v2= prefix */
    apr_int64_t now;
    const char *why;
} bad_verifies[] = {
    { "sec", "1000", "1000", "{}", 0, 1000, "no signature" },
    { "sec", NULL, "1000", "{}", 1, 1000, "no signature" },
    { "sec", "1000", "1000", "{}", 1, 1301, "outside the window" },      /* stale */
    { "sec", "1000", "1000", "{}", 1, 699, "outside the window" },       /* future */
    { "sec", "10x0", "10x0", "{}", 1, 1000, "not Unix seconds" },
    { "sec", "-5", "-5", "{}", 1, 1000, "not Unix seconds" },
    { "sec", "1001", "1000", "{}", 1, 1000, "does not match" },          /* ts swapped */
    { "other", "1000", "1000", "{}", 1, 1000, "does not match" },        /* wrong secret */
    { "sec", "1000", "1000", "{}", 2, 1000, "does not match" },
};

START_TEST(verify_refuses_and_says_why)
{
    const char *body = "{\"x\":1}";
    const char *sig = cc_sign_v1(cc_test_pool, "sec", bad_verifies[_i].sig_ts, body,
                                  strlen(body));
    const char *why = NULL;

    if (bad_verifies[_i].use_sig == 0) {
        sig = NULL;
    }
    else if (bad_verifies[_i].use_sig == 2) {
        sig = apr_pstrcat(cc_test_pool, "v2=", sig + 3, NULL);
    }
    ck_assert_msg(!cc_sms_verify(cc_test_pool, bad_verifies[_i].secret, bad_verifies[_i].ts,
                                 sig, body, strlen(body), bad_verifies[_i].now, 300, &why),
                  "case %d", _i);
    ck_assert_msg(why && strstr(why, bad_verifies[_i].why), "case %d: %s", _i, why);
}
END_TEST

START_TEST(verify_refuses_a_tampered_body)
{
    const char *sig = cc_sign_v1(cc_test_pool, "sec", "1000", "{\"body\":\"x\"}", 12);
    const char *why = NULL;

    ck_assert(!cc_sms_verify(cc_test_pool, "sec", "1000", sig, "{\"body\":\"y\"}", 12, 1000,
                             300, &why));
    ck_assert(!cc_sms_verify(cc_test_pool, "sec", "1000", sig, "{\"body\":\"x\"} ", 13, 1000,
                             300, &why));
}
END_TEST

/* ---- the tenant's secret ---- */

START_TEST(secret_depends_on_key_tenant_and_nonce)
{
    static const unsigned char k1[] = "0123456789abcdef0123456789abcdef";
    static const unsigned char k2[] = "0123456789abcdef0123456789abcdeF";
    const char *s = cc_sms_secret(cc_test_pool, k1, 32, "t-1", "n-1");

    ck_assert_int_eq(strlen(s), 64);
    ck_assert_str_eq(s, cc_sms_secret(cc_test_pool, k1, 32, "t-1", "n-1"));
    ck_assert_str_ne(s, cc_sms_secret(cc_test_pool, k2, 32, "t-1", "n-1"));
    ck_assert_str_ne(s, cc_sms_secret(cc_test_pool, k1, 32, "t-2", "n-1"));
    ck_assert_str_ne(s, cc_sms_secret(cc_test_pool, k1, 32, "t-1", "n-2"));
    /* The separator keeps "t-1:" + "x" apart from "t-1" + ":x"... as labels differ. */
    ck_assert_str_ne(cc_sms_secret(cc_test_pool, k1, 32, "a", "b:c"),
                     cc_sms_secret(cc_test_pool, k1, 32, "a:b", "d"));
}
END_TEST

/* ---- backoff ---- */

static const struct {
    int attempts;
    apr_int64_t base, cap, want;
} backoff_cases[] = {
    { 1, 30, 3600, 30 },
    { 2, 30, 3600, 60 },
    { 3, 30, 3600, 120 },
    { 7, 30, 3600, 1920 },
    { 8, 30, 3600, 3600 },          /* 3840 capped */
    { 60, 30, 3600, 3600 },         /* no overflow however many */
    { 1, 1, 2, 1 },
    { 2, 1, 2, 2 },
    { 3, 1, 2, 2 },
    { 1, 100, 10, 10 },             /* a cap below the base wins */
    { 0, 5, 60, 5 },
};

START_TEST(backoff_doubles_up_to_the_cap)
{
    ck_assert_msg(cc_backoff_seconds(backoff_cases[_i].attempts, backoff_cases[_i].base,
                                 backoff_cases[_i].cap) == backoff_cases[_i].want,
                  "case %d", _i);
}
END_TEST

/* ---- provider answers ---- */

static const struct {
    long status;
    const char *body;
    cc_sms_outcome_e out;
    const char *mid, *error;
} answers[] = {
    { 200, "{\"message_id\":\"abc-1\"}", CC_SMS_SENT, "abc-1", NULL },
    { 201, "{\"message_id\":\"abc-2\",\"x\":1}", CC_SMS_SENT, "abc-2", NULL },
    { 202, "", CC_SMS_SENT, NULL, NULL },
    { 200, "not json", CC_SMS_SENT, NULL, NULL },
    { 200, "{\"message_id\":\"has space\"}", CC_SMS_SENT, NULL, NULL },
    { 200, "{\"message_id\":5}", CC_SMS_SENT, NULL, NULL },
    { 500, "{\"error\":\"down\"}", CC_SMS_RETRY, NULL, "HTTP 500: down" },
    { 503, "", CC_SMS_RETRY, NULL, "HTTP 503" },
    { 429, "{\"message\":\"slow down\"}", CC_SMS_RETRY, NULL, "HTTP 429: slow down" },
    { 408, "{}", CC_SMS_RETRY, NULL, "HTTP 408" },
    { 400, "{\"error\":\"bad number\"}", CC_SMS_REJECTED, NULL, "HTTP 400: bad number" },
    { 401, "{\"error\":\"bad credential\"}", CC_SMS_RETRY, NULL,
      "HTTP 401: bad credential" },
    { 403, "", CC_SMS_RETRY, NULL, "HTTP 403" },
    { 404, "", CC_SMS_REJECTED, NULL, "HTTP 404" },
    { 422, "{\"error\":\"a\\nb\\u0007c\"}", CC_SMS_REJECTED, NULL, "HTTP 422: a b c" },
    { 302, "", CC_SMS_REJECTED, NULL, "HTTP 302" },
};

START_TEST(classify_reads_status_id_and_error)
{
    const char *mid, *error;
    cc_sms_outcome_e out = cc_sms_classify(cc_test_pool, answers[_i].status, answers[_i].body,
                                           strlen(answers[_i].body), &mid, &error);

    ck_assert_msg(out == answers[_i].out, "case %d", _i);
    if (answers[_i].mid) {
        ck_assert_str_eq(mid, answers[_i].mid);
    }
    else {
        ck_assert_ptr_null(mid);
    }
    if (answers[_i].error) {
        ck_assert_str_eq(error, answers[_i].error);
    }
    else {
        ck_assert_ptr_null(error);
    }
}
END_TEST

START_TEST(classify_cuts_a_long_error_to_the_column)
{
    const char *long_error = apr_pstrcat(cc_test_pool, "{\"error\":\"", repeat("\xc3\xa9", 900),
                                         "\"}", NULL);
    const char *mid, *error;

    cc_sms_classify(cc_test_pool, 500, long_error, strlen(long_error), &mid, &error);
    ck_assert(!strncmp(error, "HTTP 500: ", 10));
    /* 500 characters: "HTTP 500: " (10) and 490 of two bytes each. */
    ck_assert_int_eq(strlen(error), 10 + 2 * 490);
}
END_TEST

START_TEST(clean_text_makes_one_valid_line)
{
    ck_assert_str_eq(cc_clean_line(cc_test_pool, "a\r\nb", 4, 100), "a  b");
    ck_assert_str_eq(cc_clean_line(cc_test_pool, "a\xff" "b", 3, 100), "a?b");
    ck_assert_str_eq(cc_clean_line(cc_test_pool, "\xe2\x9c\x93ok", 5, 2), "\xe2\x9c\x93o");
    ck_assert_str_eq(cc_clean_line(cc_test_pool, "\xe2\x9c", 2, 10), "??");
}
END_TEST

CC_TEST_SUITE("cc_sms_rules",
    CC_TCASE("send"),
        CC_TEST(send_check_accepts_1600_characters_of_any_width),
        CC_LOOP_TEST(send_check_names_the_field_at_fault, N(bad_sends)),
        CC_TEST(send_check_refuses_1601_characters_and_reports_every_field),
    CC_TCASE("signature"),
        CC_TEST(sign_is_hmac_sha256_over_timestamp_dot_body),
        CC_TEST(sign_covers_every_raw_byte),
        CC_TEST(verify_accepts_a_fresh_signature_within_the_window),
        CC_LOOP_TEST(verify_refuses_and_says_why, N(bad_verifies)),
        CC_TEST(verify_refuses_a_tampered_body),
        CC_TEST(secret_depends_on_key_tenant_and_nonce),
    CC_TCASE("job"),
        CC_LOOP_TEST(backoff_doubles_up_to_the_cap, N(backoff_cases)),
        CC_LOOP_TEST(classify_reads_status_id_and_error, N(answers)),
        CC_TEST(classify_cuts_a_long_error_to_the_column),
        CC_TEST(clean_text_makes_one_valid_line))
