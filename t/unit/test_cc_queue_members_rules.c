/**
 * @file test_cc_queue_members_rules.c
 * @brief Unit tests: the pure rules of /api/v1/queues/{id}/members
 *        (mod_callcenter/cc_queue_members_rules.c): body checks, how a PATCH applies to a
 *        member (unpausing clears the reason), and the audit diff.
 */
#include <string.h>

#include <apr_strings.h>

#include "cc_test_rules.h"
#include "cc_queue_members_rules.h"
#include "cc_json.h"

/* A body and the fields it is refused for ("" when it reads). */
static const cc_test_refusal_t input_cases[] = {
    { "{}", "" },
    { "{\"endpoint_id\": 1, \"user_id\": 9007199254740992, \"penalty\": 1000,"
      " \"paused\": true, \"paused_reason\": \"lunch\"}", "" },
    { "{\"endpoint_id\": 0}", CC_KEY_ENDPOINT_ID },
    { "{\"user_id\": 9007199254740993}", CC_KEY_USER_ID },
    { "{\"penalty\": -1}", CC_KEY_PENALTY },
    { "{\"penalty\": 1001}", CC_KEY_PENALTY },
    { "{\"paused_reason\": \"a\\nb\"}", CC_KEY_REASON },
    { "{\"paused_reason\": \"0123456789012345678901234567890123456789"
      "0123456789012345678901234567890123456789\"}", CC_KEY_REASON },     /* 80 bytes */
    /* every bad field at once */
    { "{\"endpoint_id\": -5, \"user_id\": 0, \"penalty\": 5000, \"paused_reason\": \"\\t\"}",
      "endpoint_id,user_id,penalty,paused_reason" },
};

START_TEST(a_body_is_refused_for_each_bad_field)
{
    member_input_t in;
    cc_error_t *err = cc_queue_members_input_read(cc_test_pool, cc_test_json(input_cases[_i].body),
                                                  &in);

    cc_test_assert_refused(err, &input_cases[_i]);
}
END_TEST

/* A body as read: the fields as decimal text or "0"/"1", NULL when absent. */
static const struct {
    const char *body;
    const char *endpoint_id, *user_id, *penalty, *paused, *reason;
    int has_reason;
} read_cases[] = {
    { "{\"endpoint_id\": 7, \"penalty\": 0, \"paused\": false}", "7", NULL, "0", "0", NULL,
      0 },
    { "{\"user_id\": 3, \"paused\": true, \"paused_reason\": \"lunch\"}", NULL, "3", NULL,
      "1", "lunch", 1 },
    { "{\"paused_reason\": \"\"}", NULL, NULL, NULL, NULL, NULL, 1 },     /* "" is none */
    { "{\"paused_reason\": null}", NULL, NULL, NULL, NULL, NULL, 1 },
};

START_TEST(a_good_body_reads_as_statement_values)
{
    member_input_t in;

    ck_assert_ptr_null(cc_queue_members_input_read(cc_test_pool, cc_test_json(read_cases[_i].body),
                                                   &in));
    ck_assert(cc_str_same(in.endpoint_id, read_cases[_i].endpoint_id));
    ck_assert(cc_str_same(in.user_id, read_cases[_i].user_id));
    ck_assert(cc_str_same(in.penalty, read_cases[_i].penalty));
    ck_assert(cc_str_same(in.paused, read_cases[_i].paused));
    ck_assert(cc_str_same(in.reason, read_cases[_i].reason));
    ck_assert_int_eq(in.has_reason, read_cases[_i].has_reason);
}
END_TEST

START_TEST(read_ref_adds_to_the_errors_it_is_given)
{
    const char *ref;
    cc_error_t *err = cc_error_collect(cc_test_pool, NULL, "x", "bad");

    err = cc_queue_members_read_ref(cc_test_pool, cc_test_json("{\"id\": 0}"), "id", err, &ref);
    ck_assert_str_eq(cc_test_fields(err), "x,id");
    ck_assert_ptr_null(ref);
    ck_assert_ptr_null(cc_queue_members_read_ref(cc_test_pool, cc_test_json("{\"id\": 12}"), "id",
                                                 NULL, &ref));
    ck_assert_str_eq(ref, "12");
    ck_assert_ptr_null(cc_queue_members_read_ref(cc_test_pool, cc_test_json("{}"), "id", NULL,
                                                 &ref));
    ck_assert_ptr_null(ref);
}
END_TEST

static const member_values_t on_break = { "2", "1", "lunch" };
static const member_values_t working = { "0", "0", NULL };

/* A PATCH on cur and the member it makes. */
static const struct {
    const member_values_t *cur;
    const char *patch;
    const char *penalty, *paused, *reason;
} merge_cases[] = {
    { &on_break, "{}", "2", "1", "lunch" },
    { &on_break, "{\"penalty\": 5}", "5", "1", "lunch" },
    { &on_break, "{\"paused\": false}", "2", "0", NULL },        /* unpausing clears it */
    { &on_break, "{\"paused\": false, \"paused_reason\": \"x\"}", "2", "0", "x" },
    { &on_break, "{\"paused_reason\": null}", "2", "1", NULL },
    { &on_break, "{\"paused\": true}", "2", "1", "lunch" },      /* still paused: kept */
    { &working, "{\"paused\": true}", "0", "1", NULL },
    { &working, "{\"paused\": true, \"paused_reason\": \"\"}", "0", "1", NULL },
    { &working, "{\"paused\": true, \"paused_reason\": \"call\"}", "0", "1", "call" },
};

START_TEST(a_patch_applies_with_the_reason_following_the_pause)
{
    member_input_t in;
    member_values_t out;

    ck_assert_ptr_null(cc_queue_members_input_read(cc_test_pool,
                                                   cc_test_json(merge_cases[_i].patch), &in));
    cc_queue_members_merge(merge_cases[_i].cur, &in, &out);
    ck_assert_str_eq(out.penalty, merge_cases[_i].penalty);
    ck_assert_str_eq(out.paused, merge_cases[_i].paused);
    ck_assert_msg(cc_str_same(out.reason, merge_cases[_i].reason), "%s: reason %s",
                  merge_cases[_i].patch, out.reason ? out.reason : "NULL");
}
END_TEST

/* Two members and their diff as compact JSON (keys sorted). */
static const struct {
    const member_values_t a, b;
    const char *diff;
} diff_cases[] = {
    { { "2", "1", "lunch" }, { "2", "1", "lunch" }, "{}" },
    { { "2", "1", "lunch" }, { "2", "0", NULL },
      "{\"paused\":{\"from\":true,\"to\":false},"
      "\"paused_reason\":{\"from\":\"lunch\",\"to\":null}}" },
    { { "0", "0", NULL }, { "10", "0", NULL }, "{\"penalty\":{\"from\":0,\"to\":10}}" },
    { { "0", NULL, NULL }, { "0", "1", "x" },
      "{\"paused\":{\"from\":null,\"to\":true},\"paused_reason\":{\"from\":null,\"to\":\"x\"}}" },
};

START_TEST(the_diff_names_only_what_changes)
{
    json_t *diff = cc_queue_members_diff(cc_test_pool, &diff_cases[_i].a, &diff_cases[_i].b);

    ck_assert_str_eq(cc_test_dump(diff), diff_cases[_i].diff);
}
END_TEST

CC_TEST_SUITE("cc_queue_members_rules",
    CC_TCASE("input"),
        CC_LOOP_TEST(a_body_is_refused_for_each_bad_field, N(input_cases)),
        CC_LOOP_TEST(a_good_body_reads_as_statement_values, N(read_cases)),
        CC_TEST(read_ref_adds_to_the_errors_it_is_given),
    CC_TCASE("merge"),
        CC_LOOP_TEST(a_patch_applies_with_the_reason_following_the_pause, N(merge_cases)),
    CC_TCASE("audit"),
        CC_LOOP_TEST(the_diff_names_only_what_changes, N(diff_cases)))
