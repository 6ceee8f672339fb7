/**
 * @file test_cc_endpoints_rules.c
 * @brief Unit tests: the pure rules of /api/v1/endpoints (mod_callcenter/
 *        cc_endpoints_rules.c): body checks, what a create starts from, how a PATCH
 *        applies to an endpoint (codecs stay when webrtc flips), and the audit diff.
 */
#include <string.h>

#include <apr_strings.h>

#include "cc_test_rules.h"
#include "cc_endpoints_rules.h"
#include "cc_json.h"

/* A body and the fields it is refused for ("" when it reads). */
static const cc_test_refusal_t input_cases[] = {
    { "{}", "" },
    { "{\"extension\": \"1001\", \"user_id\": null, \"password\": \"Secret-pass-12\","
      " \"allow\": \"opus, ULAW\", \"max_contacts\": 10, \"webrtc\": true}", "" },
    { "{\"extension\": \"1\"}", CC_KEY_EXTENSION },
    { "{\"extension\": \"123456789\"}", CC_KEY_EXTENSION },
    { "{\"extension\": \"10a\"}", CC_KEY_EXTENSION },
    { "{\"user_id\": 0}", CC_KEY_USER_ID },
    { "{\"user_id\": 9007199254740993}", CC_KEY_USER_ID },
    { "{\"password\": \"short\"}", CC_KEY_PASSWORD },
    { "{\"password\": \"has a space in it\"}", CC_KEY_PASSWORD },
    { "{\"allow\": \"\"}", CC_KEY_ALLOW },
    { "{\"allow\": \"ulaw,ulaw\"}", CC_KEY_ALLOW },
    { "{\"allow\": \"mp3\"}", CC_KEY_ALLOW },
    { "{\"max_contacts\": 0}", CC_KEY_MAX_CONTACTS },
    { "{\"max_contacts\": 11}", CC_KEY_MAX_CONTACTS },
    /* every bad field at once */
    { "{\"extension\": \"x\", \"user_id\": -1, \"password\": \"p\", \"allow\": \"fax\","
      " \"max_contacts\": 99}", "extension,user_id,password,allow,max_contacts" },
};

START_TEST(a_body_is_refused_for_each_bad_field)
{
    ep_input_t in;
    cc_error_t *err = cc_endpoints_input_read(cc_test_pool, cc_test_json(input_cases[_i].body),
                                              &in);

    cc_test_assert_refused(err, &input_cases[_i]);
}
END_TEST

START_TEST(a_bad_password_is_never_quoted_back)
{
    ep_input_t in;
    cc_error_t *err = cc_endpoints_input_read(cc_test_pool,
                                              cc_test_json("{\"password\": \"leakme\"}"), &in);

    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_null(strstr(APR_ARRAY_IDX(err->details, 0, cc_error_detail_t).issue,
                              "leakme"));
}
END_TEST

/* A create body and the values it starts from (user_id, allow, max_contacts, webrtc). */
static const struct {
    const char *body;
    const char *user_id, *allow, *max_contacts;
    int webrtc;
} create_cases[] = {
    { "{\"extension\": \"1001\"}", NULL, ALLOW_DEFAULT, "1", 0 },
    { "{\"extension\": \"1001\", \"webrtc\": true}", NULL, ALLOW_DEFAULT_WEBRTC, "1", 1 },
    { "{\"extension\": \"1001\", \"webrtc\": true, \"allow\": \" G722 ,ulaw\"}", NULL,
      "g722,ulaw", "1", 1 },
    { "{\"extension\": \"1001\", \"user_id\": 4, \"max_contacts\": 3}", "4", ALLOW_DEFAULT,
      "3", 0 },
    { "{\"extension\": \"1001\", \"user_id\": null}", NULL, ALLOW_DEFAULT, "1", 0 },
};

START_TEST(a_create_fills_in_the_defaults)
{
    ep_input_t in;
    ep_values_t v;

    ck_assert_ptr_null(cc_endpoints_input_read(cc_test_pool, cc_test_json(create_cases[_i].body),
                                               &in));
    cc_endpoints_create_values(&in, &v);
    ck_assert(cc_str_same(v.user_id, create_cases[_i].user_id));
    ck_assert_str_eq(v.allow, create_cases[_i].allow);
    ck_assert_str_eq(v.max_contacts, create_cases[_i].max_contacts);
    ck_assert_int_eq(v.webrtc, create_cases[_i].webrtc);
}
END_TEST

static const ep_values_t desk = { "4", "ulaw,alaw", "2", 0 };

/* A PATCH on desk and the endpoint it makes. */
static const struct {
    const char *patch;
    const char *user_id, *allow, *max_contacts;
    int webrtc;
} merge_cases[] = {
    { "{}", "4", "ulaw,alaw", "2", 0 },
    { "{\"user_id\": null}", NULL, "ulaw,alaw", "2", 0 },              /* unlinked */
    { "{\"user_id\": 9}", "9", "ulaw,alaw", "2", 0 },
    { "{\"webrtc\": true}", "4", "ulaw,alaw", "2", 1 },                /* codecs stay */
    { "{\"allow\": \"OPUS\", \"max_contacts\": 1}", "4", "opus", "1", 0 },
    { "{\"webrtc\": false}", "4", "ulaw,alaw", "2", 0 },
};

/* desk with patch applied (a patch that reads). */
static ep_values_t patched(const char *patch)
{
    ep_input_t in;
    ep_values_t out;

    ck_assert_ptr_null(cc_endpoints_input_read(cc_test_pool, cc_test_json(patch), &in));
    cc_endpoints_merge(&desk, &in, &out);
    return out;
}

START_TEST(a_patch_applies_its_present_fields)
{
    ep_values_t out = patched(merge_cases[_i].patch);

    ck_assert_msg(cc_str_same(out.user_id, merge_cases[_i].user_id), "%s: user_id %s",
                  merge_cases[_i].patch, out.user_id ? out.user_id : "NULL");
    ck_assert_str_eq(out.allow, merge_cases[_i].allow);
    ck_assert_str_eq(out.max_contacts, merge_cases[_i].max_contacts);
    ck_assert_int_eq(out.webrtc, merge_cases[_i].webrtc);
}
END_TEST

/* A PATCH on desk and its diff as compact JSON (keys sorted). */
static const struct {
    const char *patch;
    const char *diff;
} diff_cases[] = {
    { "{}", "{}" },
    { "{\"user_id\": 4, \"allow\": \"ULAW,alaw\", \"max_contacts\": 2, \"webrtc\": false}",
      "{}" },                                                          /* all the same */
    { "{\"user_id\": null}", "{\"user_id\":{\"from\":4,\"to\":null}}" },
    { "{\"webrtc\": true, \"allow\": \"opus\"}",
      "{\"allow\":{\"from\":\"ulaw,alaw\",\"to\":\"opus\"},"
      "\"webrtc\":{\"from\":false,\"to\":true}}" },
    { "{\"max_contacts\": 5}", "{\"max_contacts\":{\"from\":2,\"to\":5}}" },
};

START_TEST(the_diff_names_only_what_changes)
{
    ep_values_t out = patched(diff_cases[_i].patch);

    ck_assert_str_eq(cc_test_dump(cc_endpoints_values_diff(cc_test_pool, &desk, &out)),
                     diff_cases[_i].diff);
}
END_TEST

CC_TEST_SUITE("cc_endpoints_rules",
    CC_TCASE("input"),
        CC_LOOP_TEST(a_body_is_refused_for_each_bad_field, N(input_cases)),
        CC_TEST(a_bad_password_is_never_quoted_back),
    CC_TCASE("create"),
        CC_LOOP_TEST(a_create_fills_in_the_defaults, N(create_cases)),
    CC_TCASE("merge"),
        CC_LOOP_TEST(a_patch_applies_its_present_fields, N(merge_cases)),
    CC_TCASE("audit"),
        CC_LOOP_TEST(the_diff_names_only_what_changes, N(diff_cases)))
