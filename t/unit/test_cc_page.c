/**
 * @file test_cc_page.c
 * @brief Unit tests for query-string decoding, paging and whitelisted sort.
 */
#include <string.h>

#include <apr_strings.h>

#include "cc_test.h"
#include "cc_page.h"


static const char *const user_sorts[] = {"name", "email", "created_at", NULL};

static const cc_error_detail_t *detail(const cc_error_t *e, int i)
{
    ck_assert_ptr_nonnull(e);
    ck_assert_int_gt(cc_error_detail_count(e), i);
    return &APR_ARRAY_IDX(e->details, i, cc_error_detail_t);
}

/* e is a 400 invalid_request with one detail: this field and issue. */
static void assert_one_detail(const cc_error_t *e, const char *field, const char *issue)
{
    ck_assert_int_eq(e->status, 400);
    ck_assert_str_eq(e->code, CC_ERR_INVALID_REQUEST);
    ck_assert_int_eq(cc_error_detail_count(e), 1);
    ck_assert_str_eq(detail(e, 0)->field, field);
    ck_assert_str_eq(detail(e, 0)->issue, issue);
}

/* ---- query strings ---- */

START_TEST(args_decode_escapes_and_plus)
{
    apr_table_t *a = NULL;

    ck_assert_ptr_null(cc_args_parse(cc_test_pool,
                                     "q=J%C3%BCrgen+M%c3%bcller&sort=-name&x%5Fy=1%2B1%26", &a));
    ck_assert_str_eq(apr_table_get(a, "q"), "J\xc3\xbcrgen M\xc3\xbcller");
    ck_assert_str_eq(apr_table_get(a, "sort"), "-name");
    ck_assert_str_eq(apr_table_get(a, "x_y"), "1+1&");
    ck_assert_int_eq(apr_table_elts(a)->nelts, 3);
}
END_TEST

START_TEST(a_key_without_equals_has_an_empty_value)
{
    apr_table_t *a = NULL;

    ck_assert_ptr_null(cc_args_parse(cc_test_pool, "flag&x=&y=2", &a));
    ck_assert_str_eq(apr_table_get(a, "flag"), "");
    ck_assert_str_eq(apr_table_get(a, "x"), "");
    ck_assert_str_eq(apr_table_get(a, "y"), "2");
}
END_TEST

START_TEST(the_first_of_repeated_keys_wins)
{
    apr_table_t *a = NULL;

    ck_assert_ptr_null(cc_args_parse(cc_test_pool, "page=1&page=9&status=active", &a));
    ck_assert_str_eq(apr_table_get(a, "page"), "1");
    ck_assert_int_eq(apr_table_elts(a)->nelts, 2);
}
END_TEST

START_TEST(empty_pieces_and_a_null_query_are_harmless)
{
    apr_table_t *a = NULL;

    ck_assert_ptr_null(cc_args_parse(cc_test_pool, NULL, &a));
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(apr_table_elts(a)->nelts, 0);
    ck_assert_ptr_null(cc_args_parse(cc_test_pool, "", &a));
    ck_assert_int_eq(apr_table_elts(a)->nelts, 0);
    ck_assert_ptr_null(cc_args_parse(cc_test_pool, "&&a=1&&=x&", &a));
    ck_assert_int_eq(apr_table_elts(a)->nelts, 1);
    ck_assert_str_eq(apr_table_get(a, "a"), "1");
}
END_TEST

static const struct {
    const char *query;
    const char *field;
    const char *issue;
} bad_queries[] = {
    {"q=100%", "q", "invalid percent-encoding"},
    {"q=%4", "q", "invalid percent-encoding"},
    {"q=%zz", "q", "invalid percent-encoding"},
    {"q=%%41", "q", "invalid percent-encoding"},
    {"%G0=1", "query", "invalid percent-encoding"},
    {"a=1&q=%ff", "q", "must be valid UTF-8"},
    {"q=%C0%AF", "q", "must be valid UTF-8"},          /* overlong */
    {"q=%ED%A0%80", "q", "must be valid UTF-8"},       /* surrogate */
    {"q=\xff", "q", "must be valid UTF-8"},            /* raw byte */
    {"%ff=1", "query", "must be valid UTF-8"},
    {"q=a%00b", "q", "must not contain NUL"},
    {"a%00=1", "query", "must not contain NUL"},
};

START_TEST(bad_escapes_and_bad_text_are_a_400_naming_the_parameter)
{
    apr_table_t *a = NULL;
    cc_error_t *e = cc_args_parse(cc_test_pool, bad_queries[_i].query, &a);

    ck_assert_ptr_nonnull(e);
    assert_one_detail(e, bad_queries[_i].field, bad_queries[_i].issue);
}
END_TEST

/* ---- paging ---- */

static apr_table_t *args(const char *query)
{
    apr_table_t *a = NULL;

    ck_assert_ptr_null(cc_args_parse(cc_test_pool, query, &a));
    return a;
}

START_TEST(page_defaults_to_first_page_of_20_with_the_default_sort)
{
    cc_page_t pg;

    ck_assert_ptr_null(cc_page_parse(cc_test_pool, args(""), user_sorts, "-created_at", &pg));
    ck_assert_int_eq(pg.page, 1);
    ck_assert_int_eq(pg.page_size, 20);
    ck_assert_int_eq(pg.offset, 0);
    ck_assert_str_eq(pg.sort, "created_at");
    ck_assert_int_eq(pg.desc, 1);
    ck_assert_ptr_null(cc_page_parse(cc_test_pool, NULL, user_sorts, "name", &pg));
    ck_assert_str_eq(pg.sort, "name");
    ck_assert_int_eq(pg.desc, 0);
    ck_assert_ptr_null(cc_page_parse(cc_test_pool, NULL, user_sorts, NULL, &pg));
    ck_assert_ptr_null(pg.sort);
}
END_TEST

START_TEST(page_offset_is_page_minus_one_times_size)
{
    cc_page_t pg;

    ck_assert_ptr_null(cc_page_parse(cc_test_pool, args("page=3&page_size=50&sort=email"),
                                     user_sorts, "name", &pg));
    ck_assert_int_eq(pg.page, 3);
    ck_assert_int_eq(pg.page_size, 50);
    ck_assert_int_eq(pg.offset, 100);
    ck_assert_str_eq(pg.sort, "email");
    ck_assert_int_eq(pg.desc, 0);
    ck_assert_str_eq(cc_page_limit_str(cc_test_pool, &pg), "50");
    ck_assert_str_eq(cc_page_offset_str(cc_test_pool, &pg), "100");
}
END_TEST

START_TEST(the_largest_page_does_not_overflow_the_offset)
{
    cc_page_t pg;

    ck_assert_ptr_null(cc_page_parse(cc_test_pool, args("page=1000000&page_size=200"),
                                     user_sorts, NULL, &pg));
    ck_assert_int_eq(pg.offset, APR_INT64_C(199999800));
    ck_assert_str_eq(cc_page_offset_str(cc_test_pool, &pg), "199999800");
}
END_TEST

static const struct {
    const char *query;
    int ok;
    const char *field;
    const char *issue;
} page_cases[] = {
    {"page=1", 1, NULL, NULL},
    {"page=1000000", 1, NULL, NULL},
    {"page_size=1", 1, NULL, NULL},
    {"page_size=200", 1, NULL, NULL},
    {"sort=-email", 1, NULL, NULL},
    {"page=0", 0, "page", "must be an integer >= 1"},
    {"page=-1", 0, "page", "must be an integer >= 1"},
    {"page=1000001", 0, "page", "must be an integer >= 1"},
    {"page=abc", 0, "page", "must be an integer >= 1"},
    {"page=", 0, "page", "must be an integer >= 1"},
    {"page=1.5", 0, "page", "must be an integer >= 1"},
    {"page_size=0", 0, "page_size", "must be an integer from 1 to 200"},
    {"page_size=201", 0, "page_size", "must be an integer from 1 to 200"},
    {"page_size=-5", 0, "page_size", "must be an integer from 1 to 200"},
    {"page_size=+5", 0, "page_size", "must be an integer from 1 to 200"},
    {"sort=password_hash", 0, "sort",
     "must be one of: name, -name, email, -email, created_at, -created_at"},
    {"sort=", 0, "sort", "must be one of: name, -name, email, -email, created_at, -created_at"},
    {"sort=--name", 0, "sort",
     "must be one of: name, -name, email, -email, created_at, -created_at"},
    {"sort=Name", 0, "sort", "must be one of: name, -name, email, -email, created_at, -created_at"},
    {"sort=name;drop", 0, "sort",
     "must be one of: name, -name, email, -email, created_at, -created_at"},
};

START_TEST(page_parameters_are_bounded_and_sort_is_whitelisted)
{
    cc_page_t pg;
    cc_error_t *e = cc_page_parse(cc_test_pool, args(page_cases[_i].query), user_sorts,
                                  "name", &pg);

    if (page_cases[_i].ok) {
        ck_assert_msg(e == NULL, "case %d: %s", _i, page_cases[_i].query);
        return;
    }
    ck_assert_msg(e != NULL, "case %d: %s", _i, page_cases[_i].query);
    assert_one_detail(e, page_cases[_i].field, page_cases[_i].issue);
}
END_TEST

START_TEST(every_bad_page_parameter_gets_a_detail)
{
    cc_page_t pg;
    cc_error_t *e = cc_page_parse(cc_test_pool, args("page=0&page_size=999&sort=x"),
                                  user_sorts, "name", &pg);

    ck_assert_int_eq(cc_error_detail_count(e), 3);
    ck_assert_str_eq(detail(e, 0)->field, "page");
    ck_assert_str_eq(detail(e, 1)->field, "page_size");
    ck_assert_str_eq(detail(e, 2)->field, "sort");
}
END_TEST

START_TEST(a_cursor_reads_back_in_its_scope_only)
{
    cc_cursor_t c = { "calldate", 1, "2026-11-02 08:00:00", "42" }, out;
    const char *text = cc_cursor_make(cc_test_pool, &c, "t1|x");

    ck_assert_ptr_nonnull(text);
    /* URL-safe: the DATETIME's space became a T. */
    ck_assert_ptr_null(strchr(text, ' '));
    ck_assert_int_eq(cc_cursor_read(cc_test_pool, text, "t1|x", &out), 1);
    ck_assert_str_eq(out.sort, "calldate");
    ck_assert_int_eq(out.desc, 1);
    ck_assert_str_eq(out.key, "2026-11-02T08:00:00");
    ck_assert_str_eq(out.id, "42");
    /* Another scope (filters, tenant) or any edit is refused. */
    ck_assert_int_eq(cc_cursor_read(cc_test_pool, text, "t2|x", &out), 0);
    ck_assert_int_eq(cc_cursor_read(cc_test_pool, text, NULL, &out), 0);
}
END_TEST

static const char *const bad_cursors[] = {
    "", "~", "~~~~", "calldate~d~k~1", "calldate~x~k~1~0000000000000000",
    "calldate~d~k~1~0000000000000000~", "calldate~~d~k~1~0000000000000000",
    "Calldate~d~k~1~0000000000000000", "calldate~d~k'~1~0000000000000000",
    "calldate~d~k~1 ~0000000000000000",
};

START_TEST(malformed_cursors_are_refused)
{
    cc_cursor_t out;

    ck_assert_int_eq(cc_cursor_read(cc_test_pool, bad_cursors[_i], "s", &out), 0);
}
END_TEST

START_TEST(each_field_of_a_cursor_is_under_its_check)
{
    cc_cursor_t c = { "billsec", 0, "30", "7" }, out;
    const char *text = cc_cursor_make(cc_test_pool, &c, "s");
    char *edit;
    apr_size_t i;

    ck_assert_ptr_nonnull(text);
    for (i = 0; text[i]; i++) {
        if (text[i] == '~') {
            continue;
        }
        edit = apr_pstrdup(cc_test_pool, text);
        edit[i] = edit[i] == '1' ? '2' : '1';
        ck_assert_msg(!cc_cursor_read(cc_test_pool, edit, "s", &out), "edit at %d", (int)i);
    }
    /* Fields a cursor cannot carry make none. */
    c.key = "a b";
    ck_assert_ptr_null(cc_cursor_make(cc_test_pool, &c, "s"));
    c.key = NULL;
    ck_assert_ptr_null(cc_cursor_make(cc_test_pool, &c, "s"));
}
END_TEST

/* Found by fuzzing (t/fuzz/fuzz_cursor.c, corpus regress_plus_unencoded): a DID list
 * sorted by number hands out a cursor whose key is "+4930123456"; pasted into ?after=
 * unencoded, the query's form decoding makes the '+' a space, and the cursor was
 * refused.  It reads back as the same cursor, as does the encoded form. */
START_TEST(a_cursor_with_a_plus_survives_an_unencoded_query)
{
    cc_cursor_t c = { "number", 0, "+4930123456", "17" }, out;
    const char *text = cc_cursor_make(cc_test_pool, &c, "t1|");
    const char *forms[2];
    apr_table_t *args;
    int i;

    ck_assert_ptr_nonnull(text);
    forms[0] = text;
    forms[1] = apr_pstrcat(cc_test_pool, "number~a~%2B4930123456~17~", strrchr(text, '~') + 1,
                           NULL);
    for (i = 0; i < 2; i++) {
        ck_assert_ptr_null(cc_args_parse(cc_test_pool,
                                          apr_pstrcat(cc_test_pool, "after=", forms[i], NULL),
                                          &args));
        memset(&out, 0, sizeof(out));
        ck_assert_int_eq(cc_cursor_read(cc_test_pool, apr_table_get(args, "after"), "t1|",
                                        &out), 1);
        ck_assert_str_eq(out.key, "+4930123456");
        ck_assert_str_eq(out.id, "17");
    }
}
END_TEST

CC_TEST_SUITE("cc_page",
    CC_TCASE("args"),
        CC_TEST(args_decode_escapes_and_plus),
        CC_TEST(a_key_without_equals_has_an_empty_value),
        CC_TEST(the_first_of_repeated_keys_wins),
        CC_TEST(empty_pieces_and_a_null_query_are_harmless),
        CC_LOOP_TEST(bad_escapes_and_bad_text_are_a_400_naming_the_parameter, N(bad_queries)),
    CC_TCASE("paging"),
        CC_TEST(page_defaults_to_first_page_of_20_with_the_default_sort),
        CC_TEST(page_offset_is_page_minus_one_times_size),
        CC_TEST(the_largest_page_does_not_overflow_the_offset),
        CC_LOOP_TEST(page_parameters_are_bounded_and_sort_is_whitelisted, N(page_cases)),
        CC_TEST(every_bad_page_parameter_gets_a_detail),
    CC_TCASE("cursors"),
        CC_TEST(a_cursor_reads_back_in_its_scope_only),
        CC_LOOP_TEST(malformed_cursors_are_refused, N(bad_cursors)),
        CC_TEST(each_field_of_a_cursor_is_under_its_check),
        CC_TEST(a_cursor_with_a_plus_survives_an_unencoded_query))
