/**
 * @file test_cc_chat_rules.c
 * @brief Unit tests: the pure part of live chat (mod_cc_chat/cc_chat_rules.c): widget
 *        bodies, origins, message text, the visitor's credential, and what a visitor's
 *        stream says of each event.
 */
#include <string.h>

#include "cc_test_rules.h"
#include "cc_chat_rules.h"
#include "cc_events_rules.h"

#define ALLOWED(list, origin) cc_chat_origin_allowed(cc_test_pool, list, origin)

START_TEST(an_origin_is_allowed_only_when_listed)
{
    const char *list = "[\"https://www.example.com\",\"http://localhost:8080\"]";

    ck_assert_int_eq(ALLOWED(list, "https://www.example.com"), 1);
    ck_assert_int_eq(ALLOWED(list, "https://WWW.example.com"), 1);
    ck_assert_int_eq(ALLOWED(list, "http://localhost:8080"), 1);
    ck_assert_int_eq(ALLOWED(list, "http://localhost:8081"), 0);
    ck_assert_int_eq(ALLOWED(list, "https://www.example.com.evil.net"), 0);
    ck_assert_int_eq(ALLOWED(list, "null"), 0);
    ck_assert_int_eq(ALLOWED(list, ""), 0);
    ck_assert_int_eq(ALLOWED(list, NULL), 0);
    ck_assert_int_eq(ALLOWED("[]", "https://www.example.com"), 0);
    ck_assert_int_eq(ALLOWED("not json", "https://www.example.com"), 0);
}
END_TEST

START_TEST(a_widget_body_applies_and_names_what_does_not_fit)
{
    chat_widget_values_t v;
    json_t *changes;
    cc_error_t *err;

    err = cc_chat_widget_apply(cc_test_pool,
                               cc_test_json("{\"name\":\"Shop\",\"allowed_origins\":"
                                            "[\"HTTPS://Shop.Example\"],\"color\":\"#ABCDEF\","
                                            "\"enabled\":false,\"reassign_after\":30}"),
                               cc_chat_widget_defaults(), &v);
    ck_assert_ptr_null(err);
    ck_assert_str_eq(v.name, "Shop");
    ck_assert_str_eq(v.allowed_origins, "[\"https://shop.example\"]");
    ck_assert_str_eq(v.color, "#abcdef");
    ck_assert_str_eq(v.enabled, "0");
    ck_assert_str_eq(v.reassign_after, "30");
    ck_assert_str_eq(v.greeting, "");
    changes = cc_json_own(cc_test_pool, cc_chat_widget_diff(cc_chat_widget_defaults(), &v));
    ck_assert_str_eq(cc_test_dump(changes),
                     "{\"allowed_origins\":{\"from\":[],\"to\":[\"https://shop.example\"]},"
                     "\"color\":{\"from\":\"#1f6feb\",\"to\":\"#abcdef\"},"
                     "\"enabled\":{\"from\":true,\"to\":false},"
                     "\"name\":{\"from\":\"\",\"to\":\"Shop\"},"
                     "\"reassign_after\":{\"from\":null,\"to\":30}}");
    err = cc_chat_widget_apply(cc_test_pool,
                               cc_test_json("{\"name\":\"\",\"allowed_origins\":"
                                            "[\"https://a.example\",\"HTTPS://A.example\"],"
                                            "\"color\":\"red\",\"reassign_after\":5}"),
                               cc_chat_widget_defaults(), &v);
    ck_assert_ptr_nonnull(err);
    ck_assert_str_eq(cc_test_fields(err), "name,allowed_origins,color,reassign_after");
    err = cc_chat_widget_apply(cc_test_pool,
                               cc_test_json("{\"reassign_after\":null,\"greeting\":\"Hi\"}"),
                               &v, &v);
    ck_assert_ptr_null(err);
    ck_assert_ptr_null(v.reassign_after);
}
END_TEST

START_TEST(message_text_and_tokens_have_their_shapes)
{
    char big[CC_CHAT_MESSAGE_MAX + 2];

    ck_assert_int_eq(cc_chat_text_valid("hello", CC_CHAT_MESSAGE_MAX), 1);
    ck_assert_int_eq(cc_chat_text_valid(" \n\t ", CC_CHAT_MESSAGE_MAX), 0);
    ck_assert_int_eq(cc_chat_text_valid("", CC_CHAT_MESSAGE_MAX), 0);
    ck_assert_int_eq(cc_chat_text_valid("\xff\xfe", CC_CHAT_MESSAGE_MAX), 0);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ck_assert_int_eq(cc_chat_text_valid(big, CC_CHAT_MESSAGE_MAX), 0);
    big[sizeof(big) - 2] = '\0';
    ck_assert_int_eq(cc_chat_text_valid(big, CC_CHAT_MESSAGE_MAX), 1);

    ck_assert_str_eq(cc_chat_visitor_token(cc_test_pool, "Visitor "
                                           "abcdefghijklmnopqrstuvwxyz0123456789-_ABCDE"),
                     "abcdefghijklmnopqrstuvwxyz0123456789-_ABCDE");
    ck_assert_ptr_null(cc_chat_visitor_token(cc_test_pool, "Bearer "
                                             "abcdefghijklmnopqrstuvwxyz0123456789-_ABCDE"));
    ck_assert_ptr_null(cc_chat_visitor_token(cc_test_pool, "Visitor short"));
    ck_assert_ptr_null(cc_chat_visitor_token(cc_test_pool, "Visitor "
                                             "abcdefghijklmnopqrstuvwxyz0123456789+/ABCDE"));
    ck_assert_ptr_null(cc_chat_visitor_token(cc_test_pool, NULL));
    ck_assert_int_eq(cc_chat_key_shape("abcdefghijklmnopqrstuvwxyz012345"), 1);
    ck_assert_int_eq(cc_chat_key_shape("abcdefghijklmnopqrstuvwxyz01234"), 0);
    ck_assert_int_eq(cc_chat_key_shape("abcdefghijklmnopqrstuvwxyz01234%"), 0);
}
END_TEST

START_TEST(a_visitor_is_told_only_what_is_its_own)
{
    const char *name = NULL, *data;
    json_t *session = cc_test_json("{\"id\":7,\"agent_id\":3,\"agent_name\":\"Ann\","
                                   "\"visitor\":{\"email\":\"v@x.example\"},"
                                   "\"closed_by\":\"agent\","
                                   "\"transfer\":{\"note\":\"VIP, angry\"}}");

    data = cc_chat_visitor_frame(cc_test_pool, "chat.message",
                                 cc_test_json("{\"session_id\":7,\"message\":{\"id\":9,"
                                              "\"sender_type\":\"agent\",\"sender_id\":3,"
                                              "\"sender_name\":\"Ann\",\"body\":\"Hi\","
                                              "\"created_at\":\"2026-12-03T05:00:00Z\"}}"),
                                 7, &name);
    ck_assert_str_eq(name, "message");
    ck_assert_str_eq(cc_test_dump(cc_test_json(data)),
                     "{\"agent_name\":\"Ann\",\"body\":\"Hi\",\"created_at\":"
                     "\"2026-12-03T05:00:00Z\",\"id\":9,\"sender\":\"agent\"}");
    data = cc_chat_visitor_frame(cc_test_pool, "chat.session_transferred", session, 7, &name);
    ck_assert_str_eq(name, "transfer");
    ck_assert_str_eq(data, "{\"agent\":{\"name\":\"Ann\"}}");    /* no note, no ids */
    data = cc_chat_visitor_frame(cc_test_pool, "chat.session_assigned", session, 7, &name);
    ck_assert_str_eq(name, "agent_joined");
    data = cc_chat_visitor_frame(cc_test_pool, "chat.session_closed", session, 7, &name);
    ck_assert_str_eq(name, "close");
    ck_assert_str_eq(data, "{\"closed_by\":\"agent\"}");
    data = cc_chat_visitor_frame(cc_test_pool, "chat.queue_updated",
                                 cc_test_json("{\"waiting\":3,\"sessions\":[5,7,8]}"), 7,
                                 &name);
    ck_assert_str_eq(name, "position");
    ck_assert_str_eq(data, "{\"position\":2}");
    ck_assert_ptr_null(cc_chat_visitor_frame(cc_test_pool, "chat.queue_updated",
                                             cc_test_json("{\"sessions\":[5,8]}"), 7, &name));
    ck_assert_ptr_null(cc_chat_visitor_frame(cc_test_pool, "chat.session_created", session, 7,
                                             &name));
    ck_assert_ptr_null(cc_chat_visitor_frame(cc_test_pool, "chat.agent_updated", session, 7,
                                             &name));
}
END_TEST

START_TEST(an_entity_reader_gets_its_entity_and_one_more_type)
{
    cc_events_filter_t f = { "T1", 0, "chat_session:7", "chat.queue_updated" };

    ck_assert_int_eq(cc_events_filter_match(&f, "T1", "chat.message", "chat_session:7"), 1);
    ck_assert_int_eq(cc_events_filter_match(&f, "T1", "chat.message", "chat_session:71"), 0);
    ck_assert_int_eq(cc_events_filter_match(&f, "T1", "chat.queue_updated", "chat_queue:T1"),
                     1);
    ck_assert_int_eq(cc_events_filter_match(&f, "T2", "chat.queue_updated", "chat_queue:T2"),
                     0);
    ck_assert_int_eq(cc_events_filter_match(&f, "T2", "chat.message", "chat_session:7"), 0);
    ck_assert_str_eq(cc_events_entity(cc_test_pool, "chat_session", "7"), "chat_session:7");
    ck_assert_str_eq(cc_events_entity(cc_test_pool, NULL, NULL), ":");
}
END_TEST

CC_TEST_SUITE("cc_chat_rules",
    CC_TCASE("widgets"),
        CC_TEST(an_origin_is_allowed_only_when_listed),
        CC_TEST(a_widget_body_applies_and_names_what_does_not_fit),
    CC_TCASE("visitors"),
        CC_TEST(message_text_and_tokens_have_their_shapes),
        CC_TEST(a_visitor_is_told_only_what_is_its_own),
        CC_TEST(an_entity_reader_gets_its_entity_and_one_more_type))
