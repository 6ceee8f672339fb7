/**
 * @file test_cc_domain.c
 * @brief Unit tests: typed route captures, the start-up check of domain descriptors and
 *        the names a change is recorded under.
 */
#include <string.h>

#include "cc_test.h"
#include "cc_domain.h"
#include "cc_error.h"
#include "cc_test_stubs.h"


static const cc_route_t typed_routes[] = {
    { "GET", "/api/v1/things/{id:int}", h_any, "dids.read", CC_ROUTE_AUTH },
    { "GET", "/api/v1/tenants/{id:uuid}", h_any, "tenants.manage", CC_ROUTE_AUTH },
    { "GET", "/api/v1/roles/{name}", h_any, "roles.manage", CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

/* A path and whether it names a route (typed captures only take their type). */
static const struct {
    const char *path;
    cc_route_result_e result;
    const char *capture;
} typed_cases[] = {
    { "/api/v1/things/42", CC_ROUTE_FOUND, "42" },
    { "/api/v1/things/9007199254740991", CC_ROUTE_FOUND, "9007199254740991" },
    { "/api/v1/things/9007199254740992", CC_ROUTE_NOT_FOUND, NULL },
    { "/api/v1/things/0", CC_ROUTE_NOT_FOUND, NULL },
    { "/api/v1/things/042", CC_ROUTE_NOT_FOUND, NULL },
    { "/api/v1/things/-1", CC_ROUTE_NOT_FOUND, NULL },
    { "/api/v1/things/abc", CC_ROUTE_NOT_FOUND, NULL },
    { "/api/v1/things/1e3", CC_ROUTE_NOT_FOUND, NULL },
    { "/api/v1/tenants/0b0f6c3e-8d1a-4b5c-9f2e-3a4b5c6d7e8f", CC_ROUTE_FOUND,
      "0b0f6c3e-8d1a-4b5c-9f2e-3a4b5c6d7e8f" },
    { "/api/v1/tenants/not-a-uuid", CC_ROUTE_NOT_FOUND, NULL },
    { "/api/v1/tenants/42", CC_ROUTE_NOT_FOUND, NULL },
    { "/api/v1/roles/agent", CC_ROUTE_FOUND, "agent" },
};

START_TEST(typed_captures_match_only_their_type)
{
    const cc_route_t *tables[] = { typed_routes, NULL };
    cc_route_match_t m;
    const char *capture;

    ck_assert_int_eq(cc_route_match(cc_test_pool, tables, "GET", typed_cases[_i].path, &m,
                                    NULL), typed_cases[_i].result);
    if (typed_cases[_i].capture) {
        capture = cc_route_param(&m, strstr(typed_cases[_i].path, "roles") ? "name" : "id");
        ck_assert_str_eq(capture, typed_cases[_i].capture);
    }
}
END_TEST

START_TEST(a_typed_capture_that_does_not_fit_is_404_not_405)
{
    const cc_route_t *tables[] = { typed_routes, NULL };
    const char *allow = NULL;
    cc_route_match_t m;

    ck_assert_int_eq(cc_route_match(cc_test_pool, tables, "DELETE", "/api/v1/things/7", &m,
                                    &allow), CC_ROUTE_METHOD_NOT_ALLOWED);
    ck_assert_str_eq(allow, "GET");
    ck_assert_int_eq(cc_route_match(cc_test_pool, tables, "DELETE", "/api/v1/things/x", &m,
                                    &allow), CC_ROUTE_NOT_FOUND);
}
END_TEST

static const struct {
    const char *pattern;
    int ok;
} pattern_cases[] = {
    { "/api/v1/users", 1 },
    { "/api/v1/users/{id}", 1 },
    { "/api/v1/users/{id:int}", 1 },
    { "/api/v1/tenants/{id:uuid}/x", 1 },
    { "api/v1/users", 0 },
    { "/api/v1//users", 0 },
    { "/api/v1/users/{id:float}", 0 },
    { "/api/v1/users/{:int}", 0 },
    { "/api/v1/users/{id", 0 },
    { "/api/v1/users/id}", 0 },
};

START_TEST(patterns_are_checked)
{
    const char *bad = cc_route_check_pattern(pattern_cases[_i].pattern);

    if (pattern_cases[_i].ok) {
        ck_assert_msg(bad == NULL, "%s: %s", pattern_cases[_i].pattern, bad);
    }
    else {
        ck_assert_msg(bad != NULL, "%s passed", pattern_cases[_i].pattern);
    }
}
END_TEST

static const char *const sorts[] = { "name", "created_at", NULL };
static const cc_col_t cols[] = { { "id", CC_COL_INT }, CC_COL_END };

#define LIST_STMTS(prefix, sort)                           \
    CC_STMT(prefix "_list_" sort "_asc", "SELECT 1"),     \
    CC_STMT(prefix "_list_" sort "_desc", "SELECT 1"),    \
    CC_STMT(prefix "_search_" sort "_asc", "SELECT 1"),   \
    CC_STMT(prefix "_search_" sort "_desc", "SELECT 1")

static const cc_stmt_t good_stmts[] = {
    LIST_STMTS("cc_things", "name"),
    LIST_STMTS("cc_things", "created_at"),
    CC_STMT("cc_things_count", "SELECT 1"),
    CC_STMT("cc_things_search_count", "SELECT 1"),
    CC_STMT_END
};

/* The name sort's descending list statement is missing. */
static const cc_stmt_t short_stmts[] = {
    CC_STMT("cc_things_list_name_asc", "SELECT 1"),
    CC_STMT("cc_things_search_name_asc", "SELECT 1"),
    CC_STMT("cc_things_search_name_desc", "SELECT 1"),
    LIST_STMTS("cc_things", "created_at"),
    CC_STMT("cc_things_count", "SELECT 1"),
    CC_STMT("cc_things_search_count", "SELECT 1"),
    CC_STMT_END
};

static const cc_list_t things_list = { "cc_things", sorts, "-created_at", cols, NULL, 0, NULL,
                                       NULL };

static const cc_route_t good_routes[] = {
    { "GET", "/api/v1/things", h_any, "dids.read", CC_ROUTE_AUTH },
    { "GET", "/healthz", h_any, NULL, CC_ROUTE_PUBLIC },
    { NULL, NULL, NULL, NULL, 0 }
};

static const cc_route_t bad_perm_routes[] = {
    { "GET", "/api/v1/things", h_any, "things.read", CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

START_TEST(a_good_domain_passes)
{
    static const cc_domain_t d = { "things", good_routes, good_stmts, &things_list, NULL, NULL };
    const cc_domain_t *const domains[] = { &d, NULL };

    ck_assert_ptr_null(cc_domain_check(cc_test_pool, domains, NULL));
}
END_TEST

/* Descriptors cc_domain_check refuses, and what its message names. */
static const cc_list_t bad_default_list = { "cc_things", sorts, "number", cols, NULL, 0, NULL,
                                            NULL };
static const cc_domain_t bad_perm = { "things", bad_perm_routes, good_stmts,
                                      &things_list, NULL, NULL };
static const cc_domain_t short_list = { "things", good_routes, short_stmts,
                                        &things_list, NULL, NULL };
static const cc_domain_t label_a = { "a", good_routes, good_stmts, &things_list, NULL, NULL };
static const cc_domain_t label_b = { "b", NULL, good_stmts, NULL, NULL, NULL };
static const cc_domain_t bad_default = { "things", good_routes, good_stmts,
                                         &bad_default_list, NULL, NULL };
static const cc_filter_t no_values[] = {
    { "colour", CC_FILTER_ENUM, 2, NULL, 0, NULL, NULL },
    CC_FILTER_END
};
static const cc_list_t bad_filter_list = { "cc_things", sorts, "name", cols, no_values, 0,
                                          NULL, NULL };
/* Shapes (cc_list_shape_t): one without its statements, one naming no filter of the list,
 * one on a list whose total the search statement counts. */
static struct cc_error_t *things_total(struct cc_ctx_t *ctx, const char *const *filter,
                                       int nfilter, apr_int64_t *ptotal)
{
    (void)ctx;
    (void)filter;
    (void)nfilter;
    *ptotal = 0;
    return NULL;
}
static const char *const sized[] = { "red", NULL };
static const cc_filter_t size_filter[] = {
    { "size", CC_FILTER_ENUM, 2, sized, 0, NULL, NULL },
    CC_FILTER_END
};
static const char *const by_size[] = { "size", NULL };
static const char *const by_weight[] = { "weight", NULL };
static const cc_list_shape_t size_shapes[] = { { "size", by_size, "name", 0 },
                                               { NULL, NULL, NULL, 0 } };
static const cc_list_shape_t weight_shapes[] = { { "weight", by_weight, "name", 0 },
                                                 { NULL, NULL, NULL, 0 } };
static const cc_list_shape_t counted_shapes[] = { { "size", by_size, "created_at", 1 },
                                                  { NULL, NULL, NULL, 0 } };
static const cc_list_t shape_list = { "cc_things", sorts, "name", cols, size_filter, 0,
                                      things_total, size_shapes };
static const cc_list_t shape_unknown_list = { "cc_things", sorts, "name", cols, size_filter,
                                              0, things_total, weight_shapes };
static const cc_list_t shape_uncounted_list = { "cc_things", sorts, "name", cols, size_filter,
                                                0, NULL, size_shapes };
static const cc_list_t shape_counted_list = { "cc_things", sorts, "name", cols, size_filter,
                                              0, things_total, counted_shapes };
/* Its page statements are there, its count is not. */
static const cc_stmt_t counted_stmts[] = {
    LIST_STMTS("cc_things", "name"),
    LIST_STMTS("cc_things", "created_at"),
    CC_STMT("cc_things_search_size_created_at_asc", "SELECT 1"),
    CC_STMT("cc_things_search_size_created_at_desc", "SELECT 1"),
    CC_STMT("cc_things_count", "SELECT 1"),
    CC_STMT("cc_things_search_count", "SELECT 1"),
    CC_STMT_END
};
static const cc_domain_t shape_uncounted_stmt = { "things", good_routes, counted_stmts,
                                                  &shape_counted_list, NULL, NULL };
static const cc_domain_t shape_short = { "things", good_routes, good_stmts, &shape_list,
                                         NULL, NULL };
static const cc_domain_t shape_unknown = { "things", good_routes, good_stmts,
                                           &shape_unknown_list, NULL, NULL };
static const cc_domain_t shape_uncounted = { "things", good_routes, good_stmts,
                                             &shape_uncounted_list, NULL, NULL };
static const cc_domain_t bad_filter = { "things", good_routes, good_stmts, &bad_filter_list,
                                        NULL, NULL };
static const cc_domain_t no_get = { "things", good_routes, good_stmts, &things_list,
                                    "cc_things_get", cols };

static const struct {
    const cc_domain_t *domains[3];
    const char *named;
} bad_domain_cases[] = {
    { { &bad_perm, NULL }, "things.read" },                     /* outside the catalogue */
    { { &short_list, NULL }, "cc_things_list_name_desc" },      /* a sort's statement */
    { { &label_a, &label_b, NULL }, "defined twice" },          /* a label twice */
    { { &bad_default, NULL }, "default sort number" },          /* outside the whitelist */
    { { &bad_filter, NULL }, "filter colour is incomplete" },  /* an enum without values */
    { { &no_get, NULL }, "cc_things_get is not defined" },     /* the object's statement */
    { { &shape_short, NULL }, "cc_things_search_size_name_asc" },  /* a shape's statement */
    { { &shape_unknown, NULL }, "names no filter weight" },    /* a shape's filter */
    { { &shape_uncounted, NULL }, "without a domain total" },  /* a shape's total */
    { { &shape_uncounted_stmt, NULL }, "cc_things_count_size" },  /* a shape's count */
};

START_TEST(a_bad_domain_fails_naming_the_problem)
{
    const char *problem = cc_domain_check(cc_test_pool, bad_domain_cases[_i].domains, NULL);

    ck_assert_ptr_nonnull(problem);
    ck_assert_ptr_nonnull(strstr(problem, bad_domain_cases[_i].named));
}
END_TEST

static int starts_with_a(const char *s)
{
    return s[0] == 'a';
}

static const char *const colours[] = { "red", "green", NULL };

/* Every kind once, in binding order: colour x2, q x3, owner x1, code x1, since x1, tag x1. */
static const cc_filter_t filters[] = {
    { "colour", CC_FILTER_ENUM, 2, colours, 0, NULL, NULL },
    { "q", CC_FILTER_SEARCH, 3, NULL, 5, NULL, NULL },
    { "owner", CC_FILTER_ID, 1, NULL, 0, NULL, "must be a user id" },
    { "code", CC_FILTER_TEXT, 1, NULL, 3, NULL, NULL },
    { "since", CC_FILTER_TIME, 1, NULL, 0, NULL, NULL },
    { "tag", CC_FILTER_CHECK, 1, NULL, 0, starts_with_a, "must start with a" },
    CC_FILTER_END
};

static const cc_list_t filtered_list = { "cc_things", sorts, "name", cols, filters, 0,
                                        NULL, NULL };

static apr_table_t *query(const char *const *kv)
{
    apr_table_t *t = apr_table_make(cc_test_pool, 4);

    for (; kv && kv[0]; kv += 2) {
        apr_table_set(t, kv[0], kv[1]);
    }
    return t;
}

START_TEST(list_filters_bind_in_table_order)
{
    static const char *const kv[] = { "colour", "red", "q", "a_b", "owner", "7", "code", "x",
                                      "since", "2026-01-02T03:04:05Z", "tag", "abc", NULL };
    static const char *const want[] = { "T", "red", "red", "%a\\_b%", "%a\\_b%",
                                        "%a\\_b%", "7", "x", "2026-01-02 03:04:05", "abc" };
    const char **args;
    int n, filtered, i;

    ck_assert_ptr_null(cc_list_filter(cc_test_pool, &filtered_list, query(kv), "T", NULL,
                                      &args, &n, &filtered));
    ck_assert_int_eq(n, N(want));
    ck_assert_int_eq(filtered, 1);
    for (i = 0; i < n; i++) {
        ck_assert_msg(args[i] && !strcmp(args[i], want[i]), "argument %d: %s, not %s", i,
                      args[i] ? args[i] : "NULL", want[i]);
    }
}
END_TEST

START_TEST(absent_filters_bind_null_and_an_empty_search_is_none)
{
    static const char *const kv[] = { "q", "", NULL };
    const char **args;
    int n, filtered, i;

    ck_assert_ptr_null(cc_list_filter(cc_test_pool, &filtered_list, query(kv), "T", NULL,
                                      &args, &n, &filtered));
    ck_assert_int_eq(filtered, 0);
    ck_assert_int_eq(n, 10);
    ck_assert_str_eq(args[0], "T");
    for (i = 1; i < n; i++) {
        ck_assert_ptr_null(args[i]);
    }
}
END_TEST

START_TEST(every_bad_filter_is_named)
{
    static const char *const kv[] = { "colour", "blue", "q", "toolong", "owner", "0",
                                      "code", "", "since", "yesterday", "tag", "b", NULL };
    static const char *const fields[] = { "colour", "q", "owner", "code", "since", "tag" };
    const char **args;
    int n, filtered, i;
    cc_error_t *err = cc_list_filter(cc_test_pool, &filtered_list, query(kv), "T", NULL,
                                     &args, &n, &filtered);

    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(err->status, 400);
    ck_assert_int_eq(cc_error_detail_count(err), N(fields));
    for (i = 0; i < N(fields); i++) {
        ck_assert_str_eq(APR_ARRAY_IDX(err->details, i, cc_error_detail_t).field, fields[i]);
    }
    ck_assert_str_eq(APR_ARRAY_IDX(err->details, 0, cc_error_detail_t).issue,
                     "must be one of: red, green");
    ck_assert_str_eq(APR_ARRAY_IDX(err->details, 2, cc_error_detail_t).issue,
                     "must be a user id");
}
END_TEST

/* The pick of a search's list (cc_list_filter_applies) is cc_list_filter's binding. */
static const cc_filter_t term_filters[] = {
    { "q", CC_FILTER_TERM, 1, NULL, 5, NULL, NULL },
    { "s", CC_FILTER_PHRASE, 1, NULL, 5, NULL, NULL },
    CC_FILTER_END
};

static const cc_list_t term_list = { "cc_things", sorts, "name", cols, term_filters, 0,
                                     NULL, NULL };

START_TEST(a_filter_applies_when_it_binds_or_is_refused)
{
    static const struct {
        const char *v, *q_bound, *s_bound;  /* v NULL: absent; bound NULL: none */
        int refused;
    } cases[] = {
        { NULL, NULL, NULL, 0 },
        { "", NULL, NULL, 0 },
        { "   ", NULL, NULL, 0 },           /* normalises to nothing: absent */
        { "1.2", "12%", "1.2%", 0 },        /* a phone's digits, a subject's text */
        { "Ab", "ab%", "ab%", 0 },
        { "toolong", NULL, NULL, 1 },
    };
    size_t i;

    for (i = 0; i < N(cases); i++) {
        const char *kv[] = { "q", cases[i].v, "s", cases[i].v, NULL };
        apr_table_t *args = query(cases[i].v ? kv : NULL);
        const char **bound;
        int n, filtered;
        cc_error_t *err = cc_list_filter(cc_test_pool, &term_list, args, "T", NULL, &bound,
                                         &n, &filtered);

        ck_assert_int_eq(err != NULL, cases[i].refused);
        cc_test_assert_str_or_null(bound[1], cases[i].q_bound);
        cc_test_assert_str_or_null(bound[2], cases[i].s_bound);
        ck_assert_int_eq(cc_list_filter_applies(cc_test_pool, &term_filters[0], args),
                         cases[i].refused || cases[i].q_bound);
        ck_assert_int_eq(cc_list_filter_applies(cc_test_pool, &term_filters[1], args),
                         cases[i].refused || cases[i].s_bound);
    }
}
END_TEST

START_TEST(a_platform_list_binds_no_tenant_and_always_searches)
{
    static const cc_list_t list = { "cc_things", sorts, "name", cols, filters,
                                    CC_LIST_NO_TENANT | CC_LIST_SEARCH_ONLY, NULL, NULL };
    const char **args;
    int n, filtered;

    ck_assert_ptr_null(cc_list_filter(cc_test_pool, &list, NULL, "T", NULL, &args, &n,
                                      &filtered));
    ck_assert_int_eq(n, 9);
    ck_assert_int_eq(filtered, 1);
    ck_assert_ptr_null(args[0]);
}
END_TEST

static const struct {
    const char *entity, *verb, *action, *event;
} name_cases[] = {
    { "did", "create", "did.create", "did.created" },
    { "user", "roles_update", "user.roles_update", "user.roles_updated" },
    { "queue_member", "delete", "queue_member.delete", "queue_member.deleted" },
    { "user", "auth.logout", "auth.logout", "auth.logouted" },
    { "chat_session", "chat.session_transfer", "chat.session_transfer",
      "chat.session_transferred" },
    { "chat_session", "chat.session_close", "chat.session_close", "chat.session_closed" },
};

START_TEST(change_names_come_from_entity_and_verb)
{
    const char *action, *event;

    cc_change_names(cc_test_pool, name_cases[_i].entity, name_cases[_i].verb, &action,
                    &event);
    ck_assert_str_eq(action, name_cases[_i].action);
    ck_assert_str_eq(event, name_cases[_i].event);
}
END_TEST

CC_TEST_SUITE("cc_domain",
    CC_TCASE("routes"),
        CC_LOOP_TEST(typed_captures_match_only_their_type, N(typed_cases)),
        CC_TEST(a_typed_capture_that_does_not_fit_is_404_not_405),
        CC_LOOP_TEST(patterns_are_checked, N(pattern_cases)),
    CC_TCASE("check"),
        CC_TEST(a_good_domain_passes),
        CC_LOOP_TEST(a_bad_domain_fails_naming_the_problem, N(bad_domain_cases)),
    CC_TCASE("filters"),
        CC_TEST(list_filters_bind_in_table_order),
        CC_TEST(absent_filters_bind_null_and_an_empty_search_is_none),
        CC_TEST(a_filter_applies_when_it_binds_or_is_refused),
        CC_TEST(every_bad_filter_is_named),
        CC_TEST(a_platform_list_binds_no_tenant_and_always_searches),
    CC_TCASE("names"),
        CC_LOOP_TEST(change_names_come_from_entity_and_verb, N(name_cases)))
