/**
 * @file test_cc_error.c
 * @brief Unit tests for the error model and its JSON envelope (shared/cc_error.c).
 */
#include <string.h>

#include "cc_test.h"

#include "cc_error.h"

/* ---- defaults and shorthands ---- */

static const struct {
    int status;
    const char *code;
    const char *message;
} default_cases[] = {
    {404, CC_ERR_NOT_FOUND, "not found"},
    {500, CC_ERR_INTERNAL, "internal error"},
    {503, CC_ERR_UNAVAILABLE, "database unavailable"},
    {403, CC_ERR_FORBIDDEN, "permission denied"},
    {409, CC_ERR_CONFLICT, "conflict"},
    {400, CC_ERR_INVALID_REQUEST, "invalid request"},
};

START_TEST(error_make_with_null_format_uses_the_code_default_message)
{
    cc_error_t *e = cc_error_make(cc_test_pool, default_cases[_i].status,
                                  default_cases[_i].code, NULL);

    ck_assert_int_eq(e->status, default_cases[_i].status);
    ck_assert_str_eq(e->code, default_cases[_i].code);
    ck_assert_str_eq(e->message, default_cases[_i].message);
    ck_assert_ptr_null(e->details);
    ck_assert_int_eq(cc_error_detail_count(e), 0);
}
END_TEST

START_TEST(error_make_formats_its_message_printf_style)
{
    cc_error_t *e = cc_error_make(cc_test_pool, 409, CC_ERR_QUOTA_EXCEEDED,
                                  "max_users %" APR_INT64_T_FMT " reached for %s",
                                  (apr_int64_t)100, "acme");

    ck_assert_str_eq(e->message, "max_users 100 reached for acme");
    ck_assert_ptr_eq(e->pool, cc_test_pool);
}
END_TEST

START_TEST(shorthands_carry_the_documented_status_and_code)
{
    apr_pool_t *p = cc_test_pool;

    ck_assert_int_eq(cc_error_not_found(p)->status, 404);
    ck_assert_str_eq(cc_error_not_found(p)->code, "not_found");
    ck_assert_str_eq(cc_error_not_found(p)->message, "not found");
    ck_assert_int_eq(cc_error_internal(p)->status, 500);
    ck_assert_str_eq(cc_error_internal(p)->code, "internal_error");
    ck_assert_int_eq(cc_error_unavailable(p)->status, 503);
    ck_assert_str_eq(cc_error_unavailable(p)->code, "unavailable");
    ck_assert_str_eq(cc_error_unavailable(p)->message, "database unavailable");
    ck_assert_int_eq(cc_error_forbidden(p)->status, 403);
    ck_assert_str_eq(cc_error_forbidden(p)->code, "forbidden");
    ck_assert_int_eq(cc_error_conflict(p, "email %s taken", "a@b.co")->status, 409);
    ck_assert_str_eq(cc_error_conflict(p, "email %s taken", "a@b.co")->message,
                     "email a@b.co taken");
    ck_assert_str_eq(cc_error_conflict(p, NULL)->message, "conflict");
}
END_TEST

START_TEST(error_field_is_a_400_with_one_detail)
{
    cc_error_t *e = cc_error_field(cc_test_pool, "number", "must be E.164");
    const cc_error_detail_t *d;

    ck_assert_int_eq(e->status, 400);
    ck_assert_str_eq(e->code, CC_ERR_INVALID_REQUEST);
    ck_assert_int_eq(cc_error_detail_count(e), 1);
    d = &APR_ARRAY_IDX(e->details, 0, cc_error_detail_t);
    ck_assert_str_eq(d->field, "number");
    ck_assert_str_eq(d->issue, "must be E.164");
}
END_TEST

START_TEST(added_details_are_copied_into_the_error_pool)
{
    cc_error_t *e = cc_error_make(cc_test_pool, 400, CC_ERR_INVALID_REQUEST, NULL);
    char field[16], issue[16];
    const cc_error_detail_t *d;

    strcpy(field, "email");
    strcpy(issue, "is required");
    cc_error_add_detail(e, field, issue);
    memset(field, 'x', sizeof(field) - 1);
    memset(issue, 'y', sizeof(issue) - 1);
    d = &APR_ARRAY_IDX(e->details, 0, cc_error_detail_t);
    ck_assert_str_eq(d->field, "email");
    ck_assert_str_eq(d->issue, "is required");
}
END_TEST

START_TEST(detail_count_of_null_error_is_zero)
{
    ck_assert_int_eq(cc_error_detail_count(NULL), 0);
    cc_error_add_detail(NULL, "a", "b");   /* must not crash */
}
END_TEST

/* ---- envelope ---- */

START_TEST(envelope_without_details_has_no_details_key)
{
    json_t *j = cc_error_to_json(cc_error_not_found(cc_test_pool), "req-1");

    ck_assert_str_eq(json_string_value(json_object_get(j, "error")), "not_found");
    ck_assert_str_eq(json_string_value(json_object_get(j, "message")), "not found");
    ck_assert_str_eq(json_string_value(json_object_get(j, "request_id")), "req-1");
    ck_assert_ptr_null(json_object_get(j, "details"));
    ck_assert_int_eq(json_object_size(j), 3);
    json_decref(j);
}
END_TEST

START_TEST(envelope_with_details_lists_field_and_issue_in_order)
{
    cc_error_t *e = cc_error_field(cc_test_pool, "email", "is required");
    json_t *j, *details, *d;

    cc_error_add_detail(e, "name", "must be a string");
    j = cc_error_to_json(e, "abc");
    details = json_object_get(j, "details");
    ck_assert(json_is_array(details));
    ck_assert_int_eq(json_array_size(details), 2);
    d = json_array_get(details, 0);
    ck_assert_str_eq(json_string_value(json_object_get(d, "field")), "email");
    ck_assert_str_eq(json_string_value(json_object_get(d, "issue")), "is required");
    ck_assert_int_eq(json_object_size(d), 2);
    d = json_array_get(details, 1);
    ck_assert_str_eq(json_string_value(json_object_get(d, "field")), "name");
    ck_assert_str_eq(json_string_value(json_object_get(d, "issue")), "must be a string");
    json_decref(j);
}
END_TEST

START_TEST(envelope_omits_request_id_when_there_is_none)
{
    json_t *j = cc_error_to_json(cc_error_internal(cc_test_pool), NULL);

    ck_assert_ptr_null(json_object_get(j, "request_id"));
    ck_assert_str_eq(json_string_value(json_object_get(j, "error")), "internal_error");
    json_decref(j);
}
END_TEST

START_TEST(envelope_of_message_with_invalid_utf8_still_renders)
{
    cc_error_t *e = cc_error_make(cc_test_pool, 400, CC_ERR_INVALID_REQUEST,
                                  "unknown role '%s'", "b\xff\xc3\xa9");
    json_t *j;

    cc_error_add_detail(e, "ro\xc0\xafle", "bad");
    j = cc_error_to_json(e, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(j, "message")),
                     "unknown role 'b?\xc3\xa9'");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
                         json_object_get(j, "details"), 0), "field")), "ro??le");
    json_decref(j);
}
END_TEST

CC_TEST_SUITE("cc_error",
    CC_TCASE("errors"),
        CC_LOOP_TEST(error_make_with_null_format_uses_the_code_default_message, N(default_cases)),
        CC_TEST(error_make_formats_its_message_printf_style),
        CC_TEST(shorthands_carry_the_documented_status_and_code),
        CC_TEST(error_field_is_a_400_with_one_detail),
        CC_TEST(added_details_are_copied_into_the_error_pool),
        CC_TEST(detail_count_of_null_error_is_zero),
    CC_TCASE("envelope"),
        CC_TEST(envelope_without_details_has_no_details_key),
        CC_TEST(envelope_with_details_lists_field_and_issue_in_order),
        CC_TEST(envelope_omits_request_id_when_there_is_none),
        CC_TEST(envelope_of_message_with_invalid_utf8_still_renders))
