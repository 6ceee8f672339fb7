/**
 * @file test_cc_route.c
 * @brief Unit tests for route matching: captures, 404 vs 405 + Allow, precedence.
 */
#include <string.h>

#include "cc_test.h"
#include "cc_route.h"
#include "cc_test_stubs.h"

/* The capture route comes before the literal one on purpose: precedence must not
 * depend on table order. */
static const cc_route_t users_routes[] = {
    {"GET", "/api/v1/users", h_list, "users.read", CC_ROUTE_AUTH},
    {"POST", "/api/v1/users", h_list, "users.write", CC_ROUTE_AUTH},
    {"GET", "/api/v1/users/{id}", h_get, "users.read", CC_ROUTE_AUTH},
    {"PATCH", "/api/v1/users/{id}", h_get, "users.write", CC_ROUTE_AUTH},
    {"DELETE", "/api/v1/users/{id}", h_get, "users.write", CC_ROUTE_AUTH},
    {"GET", "/api/v1/users/me", h_me, NULL, CC_ROUTE_AUTH},
    {"PUT", "/api/v1/users/{id}/roles", h_roles, "users.write", CC_ROUTE_AUTH},
    {"GET", "/api/v1/tenants/{tid}/users/{uid}", h_get, NULL, CC_ROUTE_AUTH},
    {"GET", "/api/v1/x{id}", h_get, NULL, CC_ROUTE_AUTH},
    {NULL, NULL, NULL, NULL, 0}
};

static const cc_route_t ops_routes[] = {
    {"GET", "/healthz", h_health, NULL, CC_ROUTE_PUBLIC},
    {"GET", "/", h_health, NULL, CC_ROUTE_PUBLIC},
    {NULL, NULL, NULL, NULL, 0}
};

static const cc_route_t *const tables[] = {users_routes, ops_routes, NULL};

/* A test's own small route table: ROUTES(ROUTE(method, path, handler), ...), ended for it. */
#define ROUTE(method, path, handler)    {(method), (path), (handler), NULL, 0}
#define ROUTES(...)                     { __VA_ARGS__, {NULL, NULL, NULL, NULL, 0} }

static const struct {
    const char *method;
    const char *path;
    cc_route_result_e res;
    cc_handler_fn handler;     /* FOUND */
    const char *allow;         /* METHOD_NOT_ALLOWED */
} cases[] = {
    {"GET", "/api/v1/users", CC_ROUTE_FOUND, h_list, NULL},
    {"POST", "/api/v1/users", CC_ROUTE_FOUND, h_list, NULL},
    {"GET", "/api/v1/users/42", CC_ROUTE_FOUND, h_get, NULL},
    {"DELETE", "/api/v1/users/42", CC_ROUTE_FOUND, h_get, NULL},
    {"GET", "/api/v1/users/me", CC_ROUTE_FOUND, h_me, NULL},
    {"PATCH", "/api/v1/users/me", CC_ROUTE_FOUND, h_get, NULL},
    {"PUT", "/api/v1/users/7/roles", CC_ROUTE_FOUND, h_roles, NULL},
    {"GET", "/healthz", CC_ROUTE_FOUND, h_health, NULL},
    {"GET", "/", CC_ROUTE_FOUND, h_health, NULL},
    {"GET", "/api/v1/x{id}", CC_ROUTE_FOUND, h_get, NULL},      /* literal, not a capture */
    {"DELETE", "/api/v1/users", CC_ROUTE_METHOD_NOT_ALLOWED, NULL, "GET, POST"},
    {"POST", "/api/v1/users/42", CC_ROUTE_METHOD_NOT_ALLOWED, NULL, "GET, PATCH, DELETE"},
    {"POST", "/api/v1/users/me", CC_ROUTE_METHOD_NOT_ALLOWED, NULL, "GET, PATCH, DELETE"},
    {"GET", "/api/v1/users/7/roles", CC_ROUTE_METHOD_NOT_ALLOWED, NULL, "PUT"},
    {"POST", "/healthz", CC_ROUTE_METHOD_NOT_ALLOWED, NULL, "GET"},
    {"get", "/healthz", CC_ROUTE_METHOD_NOT_ALLOWED, NULL, "GET"},  /* methods are exact */
    {"GET", "/api/v1/users/", CC_ROUTE_NOT_FOUND, NULL, NULL},      /* trailing slash */
    {"GET", "/api/v1/users/42/", CC_ROUTE_NOT_FOUND, NULL, NULL},
    {"GET", "/api/v1//users", CC_ROUTE_NOT_FOUND, NULL, NULL},      /* empty segment */
    {"GET", "/api/v1/users//roles", CC_ROUTE_NOT_FOUND, NULL, NULL},
    {"GET", "//healthz", CC_ROUTE_NOT_FOUND, NULL, NULL},
    {"GET", "/healthz/", CC_ROUTE_NOT_FOUND, NULL, NULL},
    {"GET", "/api/v1/users/7/roles/9", CC_ROUTE_NOT_FOUND, NULL, NULL},
    {"GET", "/api/v1/user", CC_ROUTE_NOT_FOUND, NULL, NULL},
    {"GET", "/api/v1/usersx", CC_ROUTE_NOT_FOUND, NULL, NULL},
    {"GET", "/api/v1/x42", CC_ROUTE_NOT_FOUND, NULL, NULL},         /* no partial captures */
    {"GET", "api/v1/users", CC_ROUTE_NOT_FOUND, NULL, NULL},
    {"GET", "", CC_ROUTE_NOT_FOUND, NULL, NULL},
    {"GET", "/nothing", CC_ROUTE_NOT_FOUND, NULL, NULL},
};

START_TEST(routes_match_with_404_and_405_as_documented)
{
    cc_route_match_t m;
    const char *allow = "untouched";
    cc_route_result_e res = cc_route_match(cc_test_pool, tables, cases[_i].method,
                                           cases[_i].path, &m, &allow);

    ck_assert_msg(res == cases[_i].res, "case %d %s %s: got %d", _i, cases[_i].method,
                  cases[_i].path, (int)res);
    if (res == CC_ROUTE_FOUND) {
        ck_assert_ptr_nonnull(m.route);
        ck_assert_msg(m.route->handler == cases[_i].handler, "case %d: wrong route", _i);
        ck_assert_str_eq(m.route->method, cases[_i].method);
        ck_assert_ptr_null(allow);
    }
    else if (res == CC_ROUTE_METHOD_NOT_ALLOWED) {
        ck_assert_str_eq(allow, cases[_i].allow);
    }
    else {
        ck_assert_ptr_null(allow);
    }
}
END_TEST

START_TEST(captures_are_returned_by_name)
{
    cc_route_match_t m;

    ck_assert_int_eq(cc_route_match(cc_test_pool, tables, "GET",
                                    "/api/v1/tenants/abc-1/users/99", &m, NULL),
                     CC_ROUTE_FOUND);
    ck_assert_int_eq(m.nparams, 2);
    ck_assert_str_eq(cc_route_param(&m, "tid"), "abc-1");
    ck_assert_str_eq(cc_route_param(&m, "uid"), "99");
    ck_assert_ptr_null(cc_route_param(&m, "id"));
    ck_assert_ptr_null(cc_route_param(&m, NULL));
    ck_assert_ptr_null(cc_route_param(NULL, "tid"));
}
END_TEST

START_TEST(a_literal_match_has_no_captures)
{
    cc_route_match_t m;

    ck_assert_int_eq(cc_route_match(cc_test_pool, tables, "GET", "/api/v1/users/me", &m,
                                    NULL), CC_ROUTE_FOUND);
    ck_assert_int_eq(m.nparams, 0);
    ck_assert_ptr_null(cc_route_param(&m, "id"));
}
END_TEST

START_TEST(literal_beats_capture_whatever_the_table_order)
{
    static const cc_route_t literal_first[] =
        ROUTES(ROUTE("GET", "/a/me", h_me), ROUTE("GET", "/a/{id}", h_get));
    static const cc_route_t capture_first[] =
        ROUTES(ROUTE("GET", "/a/{id}", h_get), ROUTE("GET", "/a/me", h_me));
    const cc_route_t *const t1[] = {literal_first, NULL};
    const cc_route_t *const t2[] = {capture_first, NULL};
    const cc_route_t *const t3[] = {capture_first, literal_first, NULL};
    cc_route_match_t m;

    ck_assert_int_eq(cc_route_match(cc_test_pool, t1, "GET", "/a/me", &m, NULL), 0);
    ck_assert(m.route->handler == h_me);
    ck_assert_int_eq(cc_route_match(cc_test_pool, t2, "GET", "/a/me", &m, NULL), 0);
    ck_assert(m.route->handler == h_me);
    ck_assert_int_eq(cc_route_match(cc_test_pool, t3, "GET", "/a/me", &m, NULL), 0);
    ck_assert(m.route->handler == h_me);
    ck_assert_int_eq(cc_route_match(cc_test_pool, t2, "GET", "/a/you", &m, NULL), 0);
    ck_assert(m.route->handler == h_get);
    ck_assert_str_eq(cc_route_param(&m, "id"), "you");
}
END_TEST

START_TEST(allow_lists_each_method_once_across_tables)
{
    static const cc_route_t more[] = ROUTES(ROUTE("GET", "/api/v1/users/{uid}", h_get),
                                            ROUTE("PUT", "/api/v1/users/{uid}", h_get));
    const cc_route_t *const t[] = {users_routes, more, NULL};
    const char *allow = NULL;

    ck_assert_int_eq(cc_route_match(cc_test_pool, t, "POST", "/api/v1/users/5", NULL, &allow),
                     CC_ROUTE_METHOD_NOT_ALLOWED);
    ck_assert_str_eq(allow, "GET, PATCH, DELETE, PUT");
}
END_TEST

START_TEST(a_path_over_2048_bytes_is_not_found)
{
    char *path = apr_palloc(cc_test_pool, 2100);
    cc_route_match_t m;
    static const cc_route_t any[] = ROUTES(ROUTE("GET", "/{a}", h_get));
    const cc_route_t *const t[] = {any, NULL};

    path[0] = '/';
    memset(path + 1, 'a', 2047);
    path[2048] = '\0';
    ck_assert_int_eq(cc_route_match(cc_test_pool, t, "GET", path, &m, NULL), CC_ROUTE_FOUND);
    path[2048] = 'a';
    path[2049] = '\0';
    ck_assert_int_eq(cc_route_match(cc_test_pool, t, "GET", path, &m, NULL),
                     CC_ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(empty_or_missing_tables_find_nothing)
{
    const cc_route_t *const none[] = {NULL};
    cc_route_match_t m;

    ck_assert_int_eq(cc_route_match(cc_test_pool, none, "GET", "/healthz", &m, NULL),
                     CC_ROUTE_NOT_FOUND);
    ck_assert_int_eq(cc_route_match(cc_test_pool, NULL, "GET", "/healthz", &m, NULL),
                     CC_ROUTE_NOT_FOUND);
    ck_assert_int_eq(cc_route_match(cc_test_pool, tables, NULL, "/healthz", &m, NULL),
                     CC_ROUTE_NOT_FOUND);
    ck_assert_int_eq(cc_route_match(cc_test_pool, tables, "GET", NULL, &m, NULL),
                     CC_ROUTE_NOT_FOUND);
}
END_TEST


/* ---- the path space (httpd's own errors there are JSON) ---- */

static const struct {
    const char *path;
    int in;
} space_cases[] = {
    {"/api/v1/users", 1},
    {"/api/v1/users/42/roles", 1},
    {"/api", 1},
    {"/api/", 1},
    {"/api/v2/anything", 1},         /* not a route, but the API's 404 */
    {"/api?x=1", 1},
    {"/healthz", 1},
    {"/healthz/x", 1},
    {"/apix", 0},
    {"/healthzz", 0},
    {"/", 0},                        /* "/" is a route of ops_routes, not a space */
    {"//api/v1/users", 0},
    {"api/v1/users", 0},
    {"", 0},
    {"/index.html", 0},
};

START_TEST(the_path_space_is_the_first_segments_of_the_patterns)
{
    ck_assert_msg(cc_route_in_space(tables, space_cases[_i].path) == space_cases[_i].in,
                  "%s", space_cases[_i].path);
}
END_TEST

START_TEST(a_capture_first_segment_takes_any_path)
{
    static const cc_route_t any[] = ROUTES(ROUTE("GET", "/{a}/x", h_get));
    const cc_route_t *const t[] = {any, NULL};
    const cc_route_t *const none[] = {NULL};

    ck_assert(cc_route_in_space(t, "/whatever"));
    ck_assert(!cc_route_in_space(t, "/"));
    ck_assert(!cc_route_in_space(none, "/api"));
    ck_assert(!cc_route_in_space(NULL, "/api"));
    ck_assert(!cc_route_in_space(tables, NULL));
}
END_TEST

static const struct {
    const char *line;
    const char *path;    /* NULL: none */
} line_cases[] = {
    {"GET /api/v1/users HTTP/1.1", "/api/v1/users"},
    {"GET /api/v1/users?page=1&q=x HTTP/1.1", "/api/v1/users"},
    {"GET /api/v1/users?aaaaaaaaaaaaaaaa", "/api/v1/users"},     /* cut at LimitRequestLine */
    {"GET /api/v1/usersaaaaaaaaaa", "/api/v1/usersaaaaaaaaaa"},
    {"  POST\t/healthz HTTP/1.0", "/healthz"},
    {"GET /api/v1/users#frag HTTP/1.1", "/api/v1/users"},
    {"GET http://example.com/api/v1/users?x HTTP/1.1", "/api/v1/users"},
    {"GET https://example.com:8443/healthz HTTP/1.1", "/healthz"},
    {"GET http://example.com HTTP/1.1", NULL},
    {"GET http://example.com?x=/api HTTP/1.1", NULL},
    {"OPTIONS * HTTP/1.1", NULL},
    {"GET api/v1/users HTTP/1.1", NULL},
    {"GET ://x/api HTTP/1.1", NULL},
    {"GET", NULL},
    {"GET ", NULL},
    {"", NULL},
};

START_TEST(a_request_line_gives_its_target_path)
{
    const char *got = cc_route_line_path(cc_test_pool, line_cases[_i].line);

    if (line_cases[_i].path) {
        ck_assert_msg(got && !strcmp(got, line_cases[_i].path), "%s: got %s",
                      line_cases[_i].line, got ? got : "NULL");
    }
    else {
        ck_assert_msg(got == NULL, "%s: got %s", line_cases[_i].line, got);
    }
    ck_assert_ptr_null(cc_route_line_path(cc_test_pool, NULL));
}
END_TEST

CC_TEST_SUITE("cc_route",
    CC_TCASE("match"),
        CC_LOOP_TEST(routes_match_with_404_and_405_as_documented, N(cases)),
        CC_TEST(captures_are_returned_by_name),
        CC_TEST(a_literal_match_has_no_captures),
        CC_TEST(literal_beats_capture_whatever_the_table_order),
        CC_TEST(allow_lists_each_method_once_across_tables),
        CC_TEST(a_path_over_2048_bytes_is_not_found),
        CC_TEST(empty_or_missing_tables_find_nothing),
    CC_TCASE("space"),
        CC_LOOP_TEST(the_path_space_is_the_first_segments_of_the_patterns, N(space_cases)),
        CC_TEST(a_capture_first_segment_takes_any_path),
        CC_LOOP_TEST(a_request_line_gives_its_target_path, N(line_cases)))
