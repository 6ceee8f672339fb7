/**
 * @file test_cc_agents_rules.c
 * @brief Unit tests: the pure rules of /api/v1/agents (mod_callcenter/cc_agents_rules.c):
 *        a state change's body, what a state does to queue memberships, pause reason
 *        lists, and the statistics' folding.
 */
#include <string.h>

#include "cc_test_rules.h"
#include "cc_agents_rules.h"

static const char *state_fields(const char *body, agent_state_input_t *in)
{
    return cc_test_fields(cc_agent_state_read(cc_test_pool, cc_test_json(body), in));
}

START_TEST(a_state_body_is_checked_field_by_field)
{
    agent_state_input_t in;

    ck_assert_str_eq(state_fields("{\"state\":\"break\",\"reason\":\"Lunch\"}", &in), "");
    ck_assert_str_eq(in.state, "break");
    ck_assert_str_eq(in.reason, "Lunch");
    ck_assert_str_eq(state_fields("{\"state\":\"available\",\"reason\":\"\"}", &in), "");
    ck_assert_ptr_null(in.reason);                        /* "" is no reason */
    ck_assert_str_eq(state_fields("{\"state\":\"offline\",\"reason\":null}", &in), "");
    ck_assert_str_eq(state_fields("{\"state\":\"lunch\"}", &in), "state");
    ck_assert_str_eq(state_fields("{\"state\":\"Break\"}", &in), "state");
    ck_assert_str_eq(state_fields("{\"state\":\"available\",\"reason\":\"x\"}", &in),
                     "reason");                           /* a reason explains a pause */
    ck_assert_str_eq(state_fields("{\"state\":\"on_call\",\"reason\":\"x\"}", &in), "reason");
    ck_assert_str_eq(state_fields("{\"state\":\"break\",\"reason\":\"a\\u0007b\"}", &in),
                     "reason");                           /* control character */
    ck_assert_str_eq(state_fields("{\"state\":\"break\",\"reason\":\"0123456789012345678901"
                                  "23456789012345678901234567890123456789012345678901234567"
                                  "89\"}", &in), "reason");   /* 81 bytes */
    ck_assert_str_eq(state_fields("{\"state\":\"x\",\"reason\":\"\\u0001\"}", &in),
                     "state,reason");
}
END_TEST

START_TEST(break_and_offline_pause_available_unpauses)
{
    agent_state_input_t in = { "break", NULL };

    ck_assert_int_eq(cc_agent_state_pauses("break"), 1);
    ck_assert_int_eq(cc_agent_state_pauses("offline"), 1);
    ck_assert_int_eq(cc_agent_state_pauses("available"), 0);
    ck_assert_int_eq(cc_agent_state_pauses("on_call"), -1);
    ck_assert_int_eq(cc_agent_state_pauses("wrap_up"), -1);
    ck_assert_str_eq(cc_agent_pause_text(&in), "break");
    in.reason = "Training";
    ck_assert_str_eq(cc_agent_pause_text(&in), "Training");
}
END_TEST

static const char *reasons_fields(const char *body, apr_array_header_t **out)
{
    return cc_test_fields(cc_agent_reasons_read(cc_test_pool, cc_test_json(body), out));
}

START_TEST(a_reason_list_is_distinct_and_bounded)
{
    apr_array_header_t *r;
    char *big;
    int i;

    ck_assert_str_eq(reasons_fields("{\"reasons\":[\"Lunch\",\"Training\"]}", &r), "");
    ck_assert_int_eq(r->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(r, 1, const char *), "Training");
    ck_assert_str_eq(reasons_fields("{\"reasons\":[]}", &r), "");
    ck_assert_int_eq(r->nelts, 0);
    ck_assert_str_eq(reasons_fields("{\"reasons\":[\"Lunch\",\"lunch\"]}", &r), "reasons[1]");
    ck_assert_str_eq(reasons_fields("{\"reasons\":[\"\",\"ok\",\"a\\u0001b\"]}", &r),
                     "reasons[0],reasons[2]");
    big = apr_pstrdup(cc_test_pool, "{\"reasons\":[");
    for (i = 0; i <= CC_AGENT_REASONS_MAX; i++) {
        big = apr_psprintf(cc_test_pool, "%s%s\"r%d\"", big, i ? "," : "", i);
    }
    ck_assert_str_eq(reasons_fields(apr_pstrcat(cc_test_pool, big, "]}", NULL), &r),
                     "reasons");
}
END_TEST

START_TEST(statistics_fold_per_agent_with_every_state)
{
    json_t *rows = cc_test_json(
        "[{\"user_id\":3,\"name\":\"Ann\",\"state\":\"available\",\"reason\":null,\"seconds\":60},"
        "{\"user_id\":3,\"name\":\"Ann\",\"state\":\"break\",\"reason\":\"Lunch\",\"seconds\":30},"
        "{\"user_id\":3,\"name\":\"Ann\",\"state\":\"break\",\"reason\":null,\"seconds\":45},"
        "{\"user_id\":9,\"name\":null,\"state\":\"offline\",\"reason\":\"gone\",\"seconds\":5}]");
    json_t *out = cc_json_own(cc_test_pool, cc_agent_stats_fold(rows));

    ck_assert_str_eq(cc_test_dump(out),
        "{\"data\":[{\"break_reasons\":[{\"reason\":null,\"seconds\":45},"
        "{\"reason\":\"Lunch\",\"seconds\":30}],\"name\":\"Ann\",\"seconds\":{\"available\":60,"
        "\"break\":75,\"offline\":0,\"on_call\":0,\"wrap_up\":0},\"user_id\":3},"
        "{\"break_reasons\":[],\"name\":null,\"seconds\":{\"available\":0,\"break\":0,"
        "\"offline\":5,\"on_call\":0,\"wrap_up\":0},\"user_id\":9}]}");
    ck_assert_str_eq(cc_test_dump(cc_json_own(cc_test_pool,
                                              cc_agent_stats_fold(cc_test_json("[]")))),
                     "{\"data\":[]}");
}
END_TEST

CC_TEST_SUITE("cc_agents_rules",
    CC_TCASE("state"),
        CC_TEST(a_state_body_is_checked_field_by_field),
        CC_TEST(break_and_offline_pause_available_unpauses),
    CC_TCASE("reasons"),
        CC_TEST(a_reason_list_is_distinct_and_bounded),
    CC_TCASE("stats"),
        CC_TEST(statistics_fold_per_agent_with_every_state))
