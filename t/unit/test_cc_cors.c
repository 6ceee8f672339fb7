/**
 * @file test_cc_cors.c
 * @brief Unit tests: the pure part of CORS (shared/cc_cors.c): well-formed origins, the
 *        listed ones, and the request headers a preflight allows for a route's methods.
 */
#include <string.h>

#include "cc_test.h"
#include "cc_cors.h"

static const struct {
    const char *origin, *norm;    /* norm NULL: refused */
} origins[] = {
    { "https://www.example.com", "https://www.example.com" },
    { "HTTP://Shop.Example:8080", "http://shop.example:8080" },
    { "http://127.0.0.1:5173", "http://127.0.0.1:5173" },
    { "https://[::1]:8443", "https://[::1]:8443" },
    { "http://localhost", "http://localhost" },
    { "https://www.example.com/", NULL },
    { "https://www.example.com/path", NULL },
    { "https://www.example.com?x=1", NULL },
    { "https://user@www.example.com", NULL },
    { "ftp://www.example.com", NULL },
    { "https://", NULL },
    { "https://.example.com", NULL },
    { "https://example..com", NULL },
    { "https://example.com:0", NULL },
    { "https://example.com:65536", NULL },
    { "https://example.com:", NULL },
    { "https://exa mple.com", NULL },
    { "https://exämple.com", NULL },
    { "null", NULL },
    { "*", NULL },
    { "", NULL },
};

START_TEST(an_origin_is_scheme_host_and_port_only)
{
    const char *norm = NULL;
    int ok = cc_cors_origin_valid(cc_test_pool, origins[_i].origin, &norm);

    if (origins[_i].norm) {
        ck_assert_int_eq(ok, 1);
        ck_assert_str_eq(norm, origins[_i].norm);
    }
    else {
        ck_assert_int_eq(ok, 0);
    }
}
END_TEST

START_TEST(an_origin_is_listed_without_case_and_only_whole)
{
    apr_array_header_t *list = apr_array_make(cc_test_pool, 2, sizeof(const char *));

    APR_ARRAY_PUSH(list, const char *) = "https://www.example.com";
    APR_ARRAY_PUSH(list, const char *) = "http://localhost:8080";
    ck_assert_int_eq(cc_cors_origin_listed(list, "https://www.example.com"), 1);
    ck_assert_int_eq(cc_cors_origin_listed(list, "HTTPS://WWW.example.com"), 1);
    ck_assert_int_eq(cc_cors_origin_listed(list, "http://localhost:8080"), 1);
    ck_assert_int_eq(cc_cors_origin_listed(list, "http://localhost:8081"), 0);
    ck_assert_int_eq(cc_cors_origin_listed(list, "https://www.example.com.evil.net"), 0);
    ck_assert_int_eq(cc_cors_origin_listed(list, "https://www.example.co"), 0);
    ck_assert_int_eq(cc_cors_origin_listed(list, "null"), 0);
    ck_assert_int_eq(cc_cors_origin_listed(list, ""), 0);
    ck_assert_int_eq(cc_cors_origin_listed(list, NULL), 0);
    ck_assert_int_eq(cc_cors_origin_listed(NULL, "https://www.example.com"), 0);
}
END_TEST

static const struct {
    const char *methods, *headers;
} allow[] = {
    { "GET", "Authorization, X-Request-ID, X-Tenant-ID, If-None-Match, Last-Event-ID" },
    { "GET, POST", "Authorization, X-Request-ID, X-Tenant-ID, Content-Type, Idempotency-Key,"
                   " If-None-Match, Last-Event-ID" },
    { "GET, PATCH, DELETE", "Authorization, X-Request-ID, X-Tenant-ID, Content-Type,"
                            " If-Match, If-None-Match, Last-Event-ID" },
    { "PUT", "Authorization, X-Request-ID, X-Tenant-ID, Content-Type, If-Match" },
    { "DELETE", "Authorization, X-Request-ID, X-Tenant-ID, If-Match" },
    { "POST", "Authorization, X-Request-ID, X-Tenant-ID, Content-Type, Idempotency-Key" },
    /* Whole tokens only: no GET in GETX, no PUT in INPUT. */
    { "GETX, INPUT", "Authorization, X-Request-ID, X-Tenant-ID" },
    { "", "Authorization, X-Request-ID, X-Tenant-ID" },
};

START_TEST(a_preflight_allows_the_headers_of_the_routes_methods)
{
    ck_assert_str_eq(cc_cors_allow_headers(cc_test_pool, allow[_i].methods),
                     allow[_i].headers);
}
END_TEST

CC_TEST_SUITE("cc_cors",
    CC_TCASE("origins"),
        CC_LOOP_TEST(an_origin_is_scheme_host_and_port_only, N(origins)),
        CC_TEST(an_origin_is_listed_without_case_and_only_whole),
    CC_TCASE("preflight"),
        CC_LOOP_TEST(a_preflight_allows_the_headers_of_the_routes_methods, N(allow)))
