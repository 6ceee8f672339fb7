/**
 * @file test_cc_dids_rules.c
 * @brief Unit tests: the pure rules of /api/v1/dids (mod_callcenter/cc_dids_rules.c):
 *        body checks, how a PATCH applies to a DID (the destination follows its type),
 *        and the audit values and diffs.
 */
#include <string.h>

#include "cc_test_rules.h"
#include "cc_dids_rules.h"
#include "cc_json.h"

static const char *first_field(const cc_error_t *err)
{
    return APR_ARRAY_IDX(err->details, 0, cc_error_detail_t).field;
}

START_TEST(a_good_body_reads_as_given)
{
    did_input_t in;

    ck_assert_ptr_null(cc_dids_input_read(cc_test_pool, cc_test_json(
        "{\"number\": \"+15551234567\", \"description\": \"Sales\","
        " \"destination_type\": \"queue\", \"destination_id\": 7, \"status\": \"inactive\"}"),
        &in));
    ck_assert_str_eq(apr_pstrcat(cc_test_pool, in.number, "|", in.description, "|",
                                 in.dest_type, "|", in.dest_id, "|", in.status, NULL),
                     "+15551234567|Sales|queue|7|inactive");
    ck_assert(in.dest_touched && in.has_dest_id);
}
END_TEST

START_TEST(every_bad_field_is_named_at_once)
{
    did_input_t in;
    cc_error_t *err = cc_dids_input_read(cc_test_pool, cc_test_json(
        "{\"number\": \"5551234567\", \"destination_type\": \"fax\","
        " \"destination_id\": 0, \"status\": \"gone\"}"), &in);

    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(err->status, 400);
    ck_assert_int_eq(cc_error_detail_count(err), 4);
    ck_assert_str_eq(first_field(err), CC_KEY_NUMBER);
}
END_TEST

START_TEST(a_null_destination_id_is_given_but_empty)
{
    did_input_t in;

    ck_assert_ptr_null(cc_dids_input_read(cc_test_pool, cc_test_json("{\"destination_id\": null}"),
                                          &in));
    ck_assert_int_eq(in.has_dest_id, 1);
    ck_assert_ptr_null(in.dest_id);
    ck_assert_int_eq(in.dest_touched, 1);
}
END_TEST

static const did_values_t routed = { "+15551234567", "", "queue", "7", "active" };

/* A PATCH body, what the DID becomes (dest_type, dest_id), or the field refused. */
static const struct {
    const char *patch;
    const char *dest_type, *dest_id, *refused;
} merge_cases[] = {
    { "{\"status\": \"inactive\"}", "queue", "7", NULL },           /* untouched */
    { "{\"destination_id\": 9}", "queue", "9", NULL },              /* an id alone */
    { "{\"destination_type\": \"none\"}", "none", NULL, NULL },     /* none clears */
    { "{\"destination_type\": \"user\", \"destination_id\": 3}", "user", "3", NULL },
    { "{\"destination_type\": \"user\"}", NULL, NULL, CC_KEY_DEST_ID },  /* needs one */
    { "{\"destination_type\": \"none\", \"destination_id\": 3}", NULL, NULL, CC_KEY_DEST_ID },
    { "{\"destination_id\": null}", NULL, NULL, CC_KEY_DEST_ID },   /* queue without id */
    { "{\"destination_type\": \"queue\"}", "queue", "7", NULL },    /* the same type */
};

START_TEST(a_patch_applies_with_the_destination_following_its_type)
{
    did_input_t in;
    did_values_t out;
    cc_error_t *err;

    ck_assert_ptr_null(cc_dids_input_read(cc_test_pool, cc_test_json(merge_cases[_i].patch), &in));
    err = cc_dids_merge(cc_test_pool, &routed, &in, &out);
    if (merge_cases[_i].refused) {
        ck_assert_ptr_nonnull(err);
        ck_assert_str_eq(first_field(err), merge_cases[_i].refused);
        return;
    }
    ck_assert_ptr_null(err);
    ck_assert_str_eq(out.dest_type, merge_cases[_i].dest_type);
    ck_assert_msg(cc_str_same(out.dest_id, merge_cases[_i].dest_id), "%s: dest_id %s",
                  merge_cases[_i].patch, out.dest_id ? out.dest_id : "NULL");
    ck_assert_str_eq(out.number, routed.number);
}
END_TEST

START_TEST(the_diff_names_only_what_changes)
{
    did_values_t after = routed;
    json_t *diff;

    after.dest_type = DEST_NONE;
    after.dest_id = NULL;
    diff = cc_dids_values_diff(cc_test_pool, &routed, &after);
    ck_assert_int_eq(json_object_size(diff), 2);
    ck_assert_str_eq(json_string_value(json_object_get(
        json_object_get(diff, CC_KEY_DEST_TYPE), "to")), "none");
    ck_assert(json_is_null(json_object_get(json_object_get(diff, CC_KEY_DEST_ID), "to")));
    ck_assert_int_eq(json_integer_value(json_object_get(
        json_object_get(diff, CC_KEY_DEST_ID), "from")), 7);
    ck_assert_int_eq(json_object_size(cc_dids_values_diff(cc_test_pool, &routed, &routed)), 0);
}
END_TEST

START_TEST(the_audit_values_are_the_did_fields)
{
    json_t *v = cc_dids_values_json(cc_test_pool, &routed);

    ck_assert_int_eq(json_object_size(v), 5);
    ck_assert_int_eq(json_integer_value(json_object_get(v, CC_KEY_DEST_ID)), 7);
    ck_assert_str_eq(json_string_value(json_object_get(v, CC_KEY_STATUS)), "active");
}
END_TEST

CC_TEST_SUITE("cc_dids_rules",
    CC_TCASE("input"),
        CC_TEST(a_good_body_reads_as_given),
        CC_TEST(every_bad_field_is_named_at_once),
        CC_TEST(a_null_destination_id_is_given_but_empty),
    CC_TCASE("merge"),
        CC_LOOP_TEST(a_patch_applies_with_the_destination_following_its_type, N(merge_cases)),
    CC_TCASE("audit"),
        CC_TEST(the_diff_names_only_what_changes),
        CC_TEST(the_audit_values_are_the_did_fields))
