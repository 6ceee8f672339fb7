/**
 * @file test_cc_auth_jwt.c
 * @brief Unit tests for access-token verification (mod_cc_auth/cc_auth_jwt.c): fixed
 *        tokens made with libjwt here, and hand-forged ones (alg none, tampered payload)
 *        that libjwt refuses to make.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_base64.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <jwt.h>

#include "cc_test.h"

#include "cc_auth_jwt.h"

#define KEY     "0123456789abcdef0123456789abcdef-test-key"
#define KEYLEN  (sizeof(KEY) - 1)
#define ISS     "callcenter"
#define TID     "0b8e5f3c-2c7a-4d1e-9f00-123456789abc"
#define NOW     ((apr_int64_t)1790000000)

static const unsigned char *key = (const unsigned char *)KEY;

/* ---- helpers ---- */

/* A token with exactly these claims (JSON text), signed by libjwt with alg and k. */
static const char *make_token(jwt_alg_t alg, const char *k, const char *claims)
{
    jwt_t *jwt = NULL;
    char *out;
    const char *tok;

    ck_assert_int_eq(jwt_new(&jwt), 0);
    ck_assert_int_eq(jwt_add_grants_json(jwt, claims), 0);
    ck_assert_int_eq(jwt_set_alg(jwt, alg, (const unsigned char *)k, k ? (int)strlen(k) : 0),
                     0);
    out = jwt_encode_str(jwt);
    jwt_free(jwt);
    ck_assert_ptr_nonnull(out);
    tok = apr_pstrdup(cc_test_pool, out);
    free(out);
    return tok;
}

/* The good claims with one member replaced/added/removed by printf-style text. */
static const char *claims_with(const char *sub, const char *tid, const char *iss,
                               const char *exp, const char *extra)
{
    const char *parts[6];
    int n = 0, i;
    const char *s = "{";

    if (sub) {
        parts[n++] = apr_psprintf(cc_test_pool, "\"sub\":%s", sub);
    }
    if (tid) {
        parts[n++] = apr_psprintf(cc_test_pool, "\"tid\":%s", tid);
    }
    if (iss) {
        parts[n++] = apr_psprintf(cc_test_pool, "\"iss\":%s", iss);
    }
    if (exp) {
        parts[n++] = apr_psprintf(cc_test_pool, "\"exp\":%s", exp);
    }
    if (extra) {
        parts[n++] = extra;
    }
    for (i = 0; i < n; i++) {
        s = apr_pstrcat(cc_test_pool, s, i ? "," : "", parts[i], NULL);
    }
    return apr_pstrcat(cc_test_pool, s, "}", NULL);
}

static const char *good_claims(void)
{
    return claims_with("\"42\"", "\"" TID "\"", "\"" ISS "\"",
                       apr_psprintf(cc_test_pool, "%" APR_INT64_T_FMT, NOW + 600),
                       apr_psprintf(cc_test_pool, "\"iat\":%" APR_INT64_T_FMT
                                    ",\"jti\":\"abc\"", NOW));
}

static const char *exp_in(apr_int64_t delta)
{
    return apr_psprintf(cc_test_pool, "%" APR_INT64_T_FMT, NOW + delta);
}

/* base64url without padding, as JWT segments are. */
static const char *b64url(const char *s)
{
    int len = (int)strlen(s);
    char *out = apr_palloc(cc_test_pool, apr_base64_encode_len(len));
    char *c;

    apr_base64_encode(out, s, len);
    for (c = out; *c; c++) {
        if (*c == '+') {
            *c = '-';
        }
        else if (*c == '/') {
            *c = '_';
        }
        else if (*c == '=') {
            *c = '\0';
            break;
        }
    }
    return out;
}

/* Segment n (0-based) of a token. */
static const char *segment(const char *tok, int n)
{
    char *copy = apr_pstrdup(cc_test_pool, tok), *last, *seg;
    int i = 0;

    for (seg = apr_strtok(copy, ".", &last); seg; seg = apr_strtok(NULL, ".", &last), i++) {
        if (i == n) {
            return seg;
        }
    }
    return "";
}

#define SKEW CC_AUTH_JWT_LEEWAY

static apr_status_t verify(const char *tok, const cc_identity_t **pid, const char **preason)
{
    return cc_auth_jwt_verify(cc_test_pool, key, KEYLEN, ISS, NOW, SKEW, tok, pid, preason);
}

/* Assert rejection and return the reason. */
static const char *rejected(const char *tok)
{
    const cc_identity_t *id = (const cc_identity_t *)1;
    const char *reason = NULL;

    ck_assert_int_ne(verify(tok, &id, &reason), APR_SUCCESS);
    ck_assert_ptr_null(id);
    ck_assert_ptr_nonnull(reason);
    return reason;
}

/* ---- the good case ---- */

START_TEST(good_token_yields_the_identity)
{
    const cc_identity_t *id = NULL;
    const char *reason = "x";

    ck_assert_int_eq(verify(make_token(JWT_ALG_HS256, KEY, good_claims()), &id, &reason),
                     APR_SUCCESS);
    ck_assert_ptr_null(reason);
    ck_assert_ptr_nonnull(id);
    ck_assert_int_eq(id->user_id, 42);
    ck_assert_str_eq(id->user_id_str, "42");
    ck_assert_str_eq(id->tenant_id, TID);
    ck_assert_str_eq(id->jti, "abc");
    ck_assert_int_eq(id->exp, NOW + 600);
}
END_TEST

START_TEST(token_without_jti_is_accepted)
{
    const cc_identity_t *id = NULL;
    const char *reason;
    const char *c = claims_with("\"7\"", "\"" TID "\"", "\"" ISS "\"", exp_in(60), NULL);

    ck_assert_int_eq(verify(make_token(JWT_ALG_HS256, KEY, c), &id, &reason), APR_SUCCESS);
    ck_assert_ptr_null(id->jti);
}
END_TEST

START_TEST(issued_token_round_trips)
{
    const char *tok = NULL;
    const cc_identity_t *id = NULL;
    const char *reason;

    ck_assert_int_eq(cc_auth_jwt_issue(cc_test_pool, key, KEYLEN, ISS, NOW, 900, "9", TID,
                                       NULL, &tok), APR_SUCCESS);
    ck_assert_int_eq(verify(tok, &id, &reason), APR_SUCCESS);
    ck_assert_str_eq(id->user_id_str, "9");
    ck_assert_str_eq(id->tenant_id, TID);
    ck_assert_int_eq(id->exp, NOW + 900);
    /* A random jti: two tokens of the same second differ. */
    ck_assert_ptr_nonnull(id->jti);
    ck_assert_int_ge((int)strlen(id->jti), 16);
}
END_TEST

START_TEST(issue_refuses_a_short_key_and_missing_claims)
{
    const char *tok = "x";

    ck_assert_int_ne(cc_auth_jwt_issue(cc_test_pool, (const unsigned char *)"short", 5, ISS,
                                       NOW, 900, "9", TID, NULL, &tok), APR_SUCCESS);
    ck_assert_ptr_null(tok);
    ck_assert_int_ne(cc_auth_jwt_issue(cc_test_pool, key, KEYLEN, ISS, NOW, 900, NULL, TID,
                                       NULL, &tok), APR_SUCCESS);
    ck_assert_int_ne(cc_auth_jwt_issue(cc_test_pool, key, KEYLEN, ISS, NOW, 0, "9", TID,
                                       NULL, &tok), APR_SUCCESS);
}
END_TEST

START_TEST(leeway_accepts_a_token_expired_seconds_ago)
{
    const cc_identity_t *id = NULL;
    const char *reason;
    const char *c = claims_with("\"7\"", "\"" TID "\"", "\"" ISS "\"",
                                exp_in(-(CC_AUTH_JWT_LEEWAY - 5)), NULL);

    ck_assert_int_eq(verify(make_token(JWT_ALG_HS256, KEY, c), &id, &reason), APR_SUCCESS);
}
END_TEST

/* Issue 8 #15: the leeway is CCAuthClockSkew's, not a constant; 0 means none at all. */
START_TEST(leeway_is_the_configured_clock_skew)
{
    const cc_identity_t *id = NULL;
    const char *reason;
    const char *late = make_token(JWT_ALG_HS256, KEY,
                                  claims_with("\"7\"", "\"" TID "\"", "\"" ISS "\"",
                                              exp_in(-10), NULL));
    const char *now = make_token(JWT_ALG_HS256, KEY,
                                 claims_with("\"7\"", "\"" TID "\"", "\"" ISS "\"",
                                             exp_in(1), NULL));

    ck_assert_int_eq(cc_auth_jwt_verify(cc_test_pool, key, KEYLEN, ISS, NOW, 11, late, &id,
                                        &reason), APR_SUCCESS);
    ck_assert_int_ne(cc_auth_jwt_verify(cc_test_pool, key, KEYLEN, ISS, NOW, 10, late, &id,
                                        &reason), APR_SUCCESS);
    ck_assert_str_eq(reason, "token expired");
    ck_assert_int_ne(cc_auth_jwt_verify(cc_test_pool, key, KEYLEN, ISS, NOW, 0, late, &id,
                                        &reason), APR_SUCCESS);
    ck_assert_int_eq(cc_auth_jwt_verify(cc_test_pool, key, KEYLEN, ISS, NOW, 0, now, &id,
                                        &reason), APR_SUCCESS);
    ck_assert_int_eq(cc_auth_jwt_verify(cc_test_pool, key, KEYLEN, ISS, NOW + 1, 0, now, &id,
                                        &reason), APR_EINVAL);
}
END_TEST

/* ---- time claims ---- */

/* exp as given (exp_text, or NOW + exp_delta when exp_text is NULL and has_exp), and
 * optionally a claim (nbf, iat) 120 s in the future: each is refused with its reason. */
static const struct {
    const char *exp_text;
    int has_exp;
    apr_int64_t exp_delta;
    const char *future_claim;
    const char *reason;
} time_cases[] = {
    { NULL, 1, -CC_AUTH_JWT_LEEWAY - 1, NULL, "token expired" },
    { NULL, 0, 0, NULL, "missing exp" },
    { "\"9999999999\"", 1, 0, NULL, "invalid exp" },
    { NULL, 1, 600, "nbf", "token not yet valid" },
    { NULL, 1, 600, "iat", "invalid iat" },
};

START_TEST(bad_time_claims_are_rejected)
{
    const char *exp = time_cases[_i].exp_text;
    const char *extra = NULL;
    const char *c;

    if (!exp && time_cases[_i].has_exp) {
        exp = exp_in(time_cases[_i].exp_delta);
    }
    if (time_cases[_i].future_claim) {
        extra = apr_psprintf(cc_test_pool, "\"%s\":%" APR_INT64_T_FMT,
                             time_cases[_i].future_claim, NOW + 120);
    }
    c = claims_with("\"7\"", "\"" TID "\"", "\"" ISS "\"", exp, extra);
    ck_assert_str_eq(rejected(make_token(JWT_ALG_HS256, KEY, c)), time_cases[_i].reason);
}
END_TEST

/* ---- signature and alg ---- */

START_TEST(wrong_key_is_rejected)
{
    rejected(make_token(JWT_ALG_HS256, "another-key-another-key-another-key!", good_claims()));
}
END_TEST

START_TEST(same_secret_with_hs384_or_hs512_is_rejected)
{
    jwt_alg_t algs[] = { JWT_ALG_HS384, JWT_ALG_HS512 };
    int i;

    for (i = 0; i < 2; i++) {
        ck_assert_str_eq(rejected(make_token(algs[i], KEY, good_claims())), "unsupported alg");
    }
}
END_TEST

START_TEST(libjwt_alg_none_token_is_rejected)
{
    rejected(make_token(JWT_ALG_NONE, NULL, good_claims()));
}
END_TEST

/* Hand-forged alg-none tokens: header variants x signature variants. */
START_TEST(forged_alg_none_tokens_are_rejected)
{
    const char *headers[] = {
        "{\"alg\":\"none\",\"typ\":\"JWT\"}", "{\"alg\":\"None\",\"typ\":\"JWT\"}",
        "{\"alg\":\"NONE\"}", "{\"typ\":\"JWT\"}", "{\"alg\":\"\"}"
    };
    const char *good = make_token(JWT_ALG_HS256, KEY, good_claims());
    const char *payload = b64url(good_claims());
    size_t i;

    for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        const char *h = b64url(headers[i]);

        rejected(apr_pstrcat(cc_test_pool, h, ".", payload, ".", NULL));
        rejected(apr_pstrcat(cc_test_pool, h, ".", payload, NULL));
        rejected(apr_pstrcat(cc_test_pool, h, ".", payload, ".", segment(good, 2), NULL));
    }
}
END_TEST

START_TEST(tampered_payload_is_rejected)
{
    const char *good = make_token(JWT_ALG_HS256, KEY, good_claims());
    const char *evil = claims_with("\"1\"", "\"" TID "\"", "\"" ISS "\"", exp_in(600), NULL);

    rejected(apr_pstrcat(cc_test_pool, segment(good, 0), ".", b64url(evil), ".",
                         segment(good, 2), NULL));
}
END_TEST

START_TEST(null_or_short_key_never_verifies)
{
    const char *tok = make_token(JWT_ALG_HS256, KEY, good_claims());
    const cc_identity_t *id;
    const char *reason;

    ck_assert_int_ne(cc_auth_jwt_verify(cc_test_pool, NULL, 0, ISS, NOW, SKEW, tok, &id, &reason),
                     APR_SUCCESS);
    ck_assert_ptr_null(id);
    ck_assert_int_ne(cc_auth_jwt_verify(cc_test_pool, key, 8, ISS, NOW, SKEW, tok, &id, &reason),
                     APR_SUCCESS);
}
END_TEST

/* ---- identity claims ---- */

static const struct {
    const char *sub;
    const char *tid;
    const char *iss;
    const char *reason;
} claim_cases[] = {
    { NULL, "\"" TID "\"", "\"" ISS "\"", "missing or invalid sub" },
    { "\"\"", "\"" TID "\"", "\"" ISS "\"", "missing or invalid sub" },
    { "\"abc\"", "\"" TID "\"", "\"" ISS "\"", "missing or invalid sub" },
    { "\"-3\"", "\"" TID "\"", "\"" ISS "\"", "missing or invalid sub" },
    { "\"0\"", "\"" TID "\"", "\"" ISS "\"", "missing or invalid sub" },
    { "\"7 \"", "\"" TID "\"", "\"" ISS "\"", "missing or invalid sub" },
    { "42", "\"" TID "\"", "\"" ISS "\"", "missing or invalid sub" },
    { "null", "\"" TID "\"", "\"" ISS "\"", "missing or invalid sub" },
    { "\"7\"", NULL, "\"" ISS "\"", "missing or invalid tid" },
    { "\"7\"", "\"platform\"", "\"" ISS "\"", "missing or invalid tid" },
    { "\"7\"", "\"0B8E5F3C-2C7A-4D1E-9F00-123456789ABC\"", "\"" ISS "\"",
      "missing or invalid tid" },
    { "\"7\"", "7", "\"" ISS "\"", "missing or invalid tid" },
    { "\"7\"", "\"" TID "\"", "\"someone-else\"", "wrong issuer" },
    { "\"7\"", "\"" TID "\"", NULL, "missing iss" },
    { "\"7\"", "\"" TID "\"", "1", "missing iss" },
};

START_TEST(bad_identity_claims_are_rejected)
{
    const char *c = claims_with(claim_cases[_i].sub, claim_cases[_i].tid, claim_cases[_i].iss,
                                exp_in(600), NULL);

    ck_assert_str_eq(rejected(make_token(JWT_ALG_HS256, KEY, c)), claim_cases[_i].reason);
}
END_TEST

START_TEST(non_string_jti_is_rejected)
{
    const char *c = claims_with("\"7\"", "\"" TID "\"", "\"" ISS "\"", exp_in(600),
                                "\"jti\":5");

    ck_assert_str_eq(rejected(make_token(JWT_ALG_HS256, KEY, c)), "invalid jti");
}
END_TEST

/* ---- garbage ---- */

START_TEST(garbage_strings_are_rejected)
{
    const char *garbage[] = {
        "", ".", "..", "a.b", "a.b.c", "a..c", "eyJhbGciOiJIUzI1NiJ9..", "not a token",
        "a.b.c.d", "\xc3\xa9.b.c"
    };
    char *big = apr_palloc(cc_test_pool, 5001);
    size_t i;

    for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
        rejected(garbage[i]);
    }
    memset(big, 'a', 5000);
    big[5000] = '\0';
    big[10] = '.';
    big[20] = '.';
    ck_assert_str_eq(rejected(big), "malformed token");
    rejected(NULL);
}
END_TEST

/* libjwt 1.10.2 overflows its heap on an empty segment: such tokens must be refused
 * before jwt_decode (valgrind shows it if they are not). */
START_TEST(empty_segments_never_reach_libjwt)
{
    const char *good = make_token(JWT_ALG_HS256, KEY, good_claims());
    const char *h = segment(good, 0), *p = segment(good, 1), *sig = segment(good, 2);
    const char *cases[] = {
        apr_pstrcat(cc_test_pool, ".", p, ".", sig, NULL),
        apr_pstrcat(cc_test_pool, h, "..", sig, NULL),
        apr_pstrcat(cc_test_pool, h, ".", p, ".", NULL),
        apr_pstrcat(cc_test_pool, h, ".", p, ".", sig, ".", NULL),
        apr_pstrcat(cc_test_pool, h, ".", p, NULL),
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_str_eq(rejected(cases[i]), "malformed token");
    }
}
END_TEST

/* ---- Authorization header ---- */

static const struct {
    const char *header;
    cc_auth_bearer_e want;
    const char *token;
} bearer_cases[] = {
    { NULL, CC_AUTH_BEARER_NONE, NULL },
    { "", CC_AUTH_BEARER_NONE, NULL },
    { "Basic dXNlcjpwYXNz", CC_AUTH_BEARER_NONE, NULL },
    { "Bearerx abc", CC_AUTH_BEARER_NONE, NULL },
    { "Bearer abc.def.ghi", CC_AUTH_BEARER_OK, "abc.def.ghi" },
    { "bearer abc", CC_AUTH_BEARER_OK, "abc" },
    { "BEARER a-b_c.d", CC_AUTH_BEARER_OK, "a-b_c.d" },
    { "Bearer", CC_AUTH_BEARER_MALFORMED, NULL },
    { "Bearer ", CC_AUTH_BEARER_MALFORMED, NULL },
    { "Bearer  abc", CC_AUTH_BEARER_MALFORMED, NULL },
    { "Bearer abc ", CC_AUTH_BEARER_MALFORMED, NULL },
    { "Bearer a+b/c=", CC_AUTH_BEARER_MALFORMED, NULL },
    { "Bearer\tabc", CC_AUTH_BEARER_MALFORMED, NULL },
};

START_TEST(bearer_header_is_parsed_strictly)
{
    const char *tok = "unset";

    ck_assert_int_eq(cc_auth_bearer_parse(bearer_cases[_i].header, &tok),
                     bearer_cases[_i].want);
    if (bearer_cases[_i].token) {
        ck_assert_str_eq(tok, bearer_cases[_i].token);
    }
    else {
        ck_assert_ptr_null(tok);
    }
}
END_TEST

START_TEST(bearer_token_longer_than_the_cap_is_malformed)
{
    char *h = apr_palloc(cc_test_pool, CC_AUTH_JWT_MAX_LEN + 9);
    const char *tok;

    memcpy(h, "Bearer ", 7);
    memset(h + 7, 'a', CC_AUTH_JWT_MAX_LEN + 1);
    h[7 + CC_AUTH_JWT_MAX_LEN + 1] = '\0';
    ck_assert_int_eq(cc_auth_bearer_parse(h, &tok), CC_AUTH_BEARER_MALFORMED);
    h[7 + CC_AUTH_JWT_MAX_LEN] = '\0';
    ck_assert_int_eq(cc_auth_bearer_parse(h, &tok), CC_AUTH_BEARER_OK);
}
END_TEST

/* ---- key file ---- */

static const char *key_file(const char *content)
{
    char *path = apr_pstrdup(cc_test_pool, "/tmp/cc-auth-key-XXXXXX");
    apr_file_t *f;
    apr_size_t n = strlen(content);

    ck_assert_int_eq(apr_file_mktemp(&f, path, APR_FOPEN_CREATE | APR_FOPEN_READ
                                     | APR_FOPEN_WRITE | APR_FOPEN_EXCL, cc_test_pool),
                     APR_SUCCESS);
    ck_assert_int_eq(apr_file_write_full(f, content, n, NULL), APR_SUCCESS);
    apr_file_close(f);
    return path;
}

START_TEST(key_file_strips_one_trailing_newline)
{
    const char *path = key_file(KEY "\n");
    const unsigned char *k;
    apr_size_t len;
    const char *err;

    ck_assert_int_eq(cc_auth_jwt_load_key(cc_test_pool, path, &k, &len, &err), APR_SUCCESS);
    ck_assert_int_eq(len, KEYLEN);
    ck_assert_int_eq(memcmp(k, KEY, KEYLEN), 0);
    apr_file_remove(path, cc_test_pool);

    path = key_file(KEY "\r\n");
    ck_assert_int_eq(cc_auth_jwt_load_key(cc_test_pool, path, &k, &len, &err), APR_SUCCESS);
    ck_assert_int_eq(len, KEYLEN);
    apr_file_remove(path, cc_test_pool);
}
END_TEST

START_TEST(short_or_missing_key_file_is_an_error_naming_the_file)
{
    const char *path = key_file("0123456789abcdef0123456789abcde\n");   /* 31 bytes */
    const unsigned char *k;
    apr_size_t len;
    const char *err = NULL;

    ck_assert_int_ne(cc_auth_jwt_load_key(cc_test_pool, path, &k, &len, &err), APR_SUCCESS);
    ck_assert_ptr_null(k);
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_ptr_nonnull(strstr(err, "32"));
    /* The secret itself never appears in the message. */
    ck_assert_ptr_null(strstr(err, "0123456789abcdef"));
    apr_file_remove(path, cc_test_pool);

    ck_assert_int_ne(cc_auth_jwt_load_key(cc_test_pool, "/nonexistent/cc-key", &k, &len,
                                          &err), APR_SUCCESS);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/cc-key"));
}
END_TEST

/* ---- pool lifetime ---- */

START_TEST(clearing_the_pool_frees_libjwt_objects)
{
    apr_pool_t *sub;
    const cc_identity_t *id;
    const char *reason, *tok;
    int i;

    /* Run under valgrind (make valgrind-unit / CK_FORK=no): no leaks on any path. */
    apr_pool_create(&sub, cc_test_pool);
    for (i = 0; i < 50; i++) {
        ck_assert_int_eq(cc_auth_jwt_issue(sub, key, KEYLEN, ISS, NOW, 60, "3", TID, NULL,
                                           &tok), APR_SUCCESS);
        ck_assert_int_eq(cc_auth_jwt_verify(sub, key, KEYLEN, ISS, NOW, SKEW, tok, &id, &reason),
                         APR_SUCCESS);
        ck_assert_int_ne(cc_auth_jwt_verify(sub, key, KEYLEN, "other", NOW, SKEW, tok, &id,
                                            &reason), APR_SUCCESS);
        apr_pool_clear(sub);
    }
    apr_pool_destroy(sub);
}
END_TEST

CC_TEST_SUITE("cc_auth_jwt",
    CC_TCASE("accepted"),
        CC_TEST(good_token_yields_the_identity),
        CC_TEST(token_without_jti_is_accepted),
        CC_TEST(issued_token_round_trips),
        CC_TEST(issue_refuses_a_short_key_and_missing_claims),
        CC_TEST(leeway_accepts_a_token_expired_seconds_ago),
        CC_TEST(leeway_is_the_configured_clock_skew),
    CC_TCASE("time claims"),
        CC_LOOP_TEST(bad_time_claims_are_rejected, N(time_cases)),
    CC_TCASE("signature and alg"),
        CC_TEST(wrong_key_is_rejected),
        CC_TEST(same_secret_with_hs384_or_hs512_is_rejected),
        CC_TEST(libjwt_alg_none_token_is_rejected),
        CC_TEST(forged_alg_none_tokens_are_rejected),
        CC_TEST(tampered_payload_is_rejected),
        CC_TEST(null_or_short_key_never_verifies),
    CC_TCASE("identity claims"),
        CC_LOOP_TEST(bad_identity_claims_are_rejected, N(claim_cases)),
        CC_TEST(non_string_jti_is_rejected),
        CC_TEST(garbage_strings_are_rejected),
        CC_TEST(empty_segments_never_reach_libjwt),
    CC_TCASE("header and key file"),
        CC_LOOP_TEST(bearer_header_is_parsed_strictly, N(bearer_cases)),
        CC_TEST(bearer_token_longer_than_the_cap_is_malformed),
        CC_TEST(key_file_strips_one_trailing_newline),
        CC_TEST(short_or_missing_key_file_is_an_error_naming_the_file),
        CC_TEST(clearing_the_pool_frees_libjwt_objects))
