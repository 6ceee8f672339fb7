/**
 * @file test_cc_events_rules.c
 * @brief Unit tests: the pure part of the event stream (mod_cc_chat/cc_events_rules.c):
 *        the permission table, the position, the per-child buffer, the poller's order at
 *        a gap, and the SSE frame.
 */
#include <string.h>

#include "cc_test_rules.h"
#include "cc_events_rules.h"

#define T1 "11111111-1111-1111-1111-111111111111"
#define T2 "22222222-2222-2222-2222-222222222222"

static const struct {
    const char *type, *permission;
} types[] = {
    { "did.created", "dids.read" },
    { "queue.updated", "queues.read" },
    { "queue_member.deleted", "queues.read" },
    { "endpoint.created", "endpoints.read" },
    { "user.deleted", "users.read" },
    { "role.updated", "roles.manage" },
    { "agent.state_changed", "agents.read" },
    { "agent_pause_reasons.updated", "agents.manage" },
    { "call.ringing", "agents.read" },
    { "voicemail.received", "voicemails.read" },
    { "recording.created", "recordings.read" },
    { "sms.status_changed", "sms.read" },
    { "cdr.created", "cdrs.read" },
    { "chat.message", "chat.read" },
    { "chat_widget.created", "chat.manage" },
    { "ticket.sla_breached", "tickets.read" },
    { "contact.created", "contacts.read" },
    { "tag.created", "contacts.read" },
    { "tenant.updated", "tenants.manage" },
    { "webhook.disabled", "roles.manage" },
    /* No known prefix, or no prefix at all: shown to nobody. */
    { "mystery.created", NULL },
    { "didx.created", NULL },
    { "di.created", NULL },
    { "did", NULL },
    { ".created", NULL },
    { "", NULL },
};

START_TEST(each_type_needs_its_permission)
{
    const char *p = cc_events_type_permission(types[_i].type);

    if (types[_i].permission) {
        ck_assert_ptr_nonnull(p);
        ck_assert_str_eq(p, types[_i].permission);
        /* Every permission of the table is in the catalogue. */
        ck_assert_int_ne(cc_perm_bit(p), 0);
    }
    else {
        ck_assert_ptr_null(p);
    }
}
END_TEST

START_TEST(a_client_sees_its_tenant_and_what_it_may_read)
{
    cc_perm_mask_t dids = cc_perm_bit("dids.read");
    cc_perm_mask_t both = dids | cc_perm_bit("queues.read");

    ck_assert(cc_events_visible(T1, "did.created", T1, dids));
    ck_assert(!cc_events_visible(T1, "did.created", T2, dids));      /* another tenant */
    ck_assert(!cc_events_visible(T1, "queue.created", T1, dids));    /* not permitted */
    ck_assert(cc_events_visible(T1, "queue.created", T1, both));
    ck_assert(!cc_events_visible(T1, "mystery.created", T1, cc_perm_all()));
    ck_assert(!cc_events_visible(NULL, "did.created", T1, dids));
    ck_assert(!cc_events_visible(T1, NULL, T1, dids));
}
END_TEST

static const struct {
    const char *text;
    int ok;
    apr_uint64_t v;
} positions[] = {
    { "0", 1, 0 },
    { "42", 1, 42 },
    { "9223372036854775807", 1, APR_UINT64_C(9223372036854775807) },
    { "9223372036854775808", 0, 0 },
    { "9999999999999999999", 0, 0 },
    { "00000000000000000001", 0, 0 },     /* 20 digits */
    { "", 0, 0 },
    { "-1", 0, 0 },
    { "+1", 0, 0 },
    { " 1", 0, 0 },
    { "1 ", 0, 0 },
    { "1e3", 0, 0 },
    { "0x10", 0, 0 },
};

START_TEST(a_position_is_a_decimal_event_id)
{
    apr_uint64_t v = 7;

    ck_assert_int_eq(cc_events_parse_position(positions[_i].text, &v), positions[_i].ok);
    if (positions[_i].ok) {
        ck_assert_uint_eq(v, positions[_i].v);
    }
    ck_assert_int_eq(cc_events_parse_position(NULL, &v), 0);
}
END_TEST

static void push(cc_evring_t *ring, apr_uint64_t id)
{
    char json[32];

    apr_snprintf(json, sizeof(json), "{\"id\":%" APR_UINT64_T_FMT "}", id);
    ck_assert(cc_evring_push(ring, id, T1, "did.created", "did:1", json, strlen(json)));
}

START_TEST(the_buffer_keeps_the_newest_and_says_where_it_starts)
{
    cc_evring_t ring;
    apr_uint64_t id;

    ck_assert(cc_evring_init(&ring, 4, 10));
    ck_assert_uint_eq(cc_evring_after(&ring, 0), 0);
    for (id = 10; id <= 12; id++) {
        push(&ring, id);
    }
    ck_assert_uint_eq(ring.n, 3);
    ck_assert_uint_eq(ring.base, 10);
    ck_assert_uint_eq(cc_evring_after(&ring, 9), 0);
    ck_assert_uint_eq(cc_evring_after(&ring, 10), 1);
    ck_assert_uint_eq(cc_evring_after(&ring, 12), 3);
    /* Ids need not be consecutive (gaps that never filled). */
    push(&ring, 15);
    push(&ring, 16);            /* the oldest (10) goes: base moves past it */
    ck_assert_uint_eq(ring.n, 4);
    ck_assert_uint_eq(ring.base, 11);
    ck_assert_uint_eq(cc_evring_at(&ring, 0)->id, 11);
    ck_assert_uint_eq(cc_evring_at(&ring, 3)->id, 16);
    ck_assert_str_eq(cc_evring_at(&ring, 3)->json, "{\"id\":16}");
    ck_assert_uint_eq(cc_evring_after(&ring, 13), 2);
    ck_assert_uint_eq(cc_evring_after(&ring, 15), 3);
    ck_assert_uint_eq(cc_evring_after(&ring, 100), 4);
    /* An event it could not hold moved base past it: an eviction never moves it back. */
    ring.base = 500;
    push(&ring, 17);
    ck_assert_uint_eq(ring.base, 500);
    for (id = 18; id < 1000; id++) {
        push(&ring, id);
    }
    ck_assert_uint_eq(ring.base, 996);
    ck_assert_uint_eq(cc_evring_at(&ring, 0)->id, 996);
    cc_evring_destroy(&ring);
    ck_assert_ptr_null(ring.e);
}
END_TEST

START_TEST(an_sse_frame_is_id_event_data_and_a_blank_line)
{
    apr_size_t len;
    const char *f = cc_events_sse_frame(cc_test_pool, 42, "did.created", "{\"a\":1}xyz", 7,
                                        &len);

    ck_assert_str_eq(f, "id: 42\nevent: did.created\ndata: {\"a\":1}\n\n");
    ck_assert_uint_eq(len, strlen(f));
}
END_TEST

/* Found by fuzzing (t/fuzz/fuzz_sse.c, corpus regress_type_line_break): a line break in
 * the type or the data ended the line early, so its bytes read as fields of their own (a
 * second data line, another event's id).  Now a frame is one event whatever the bytes:
 * the type's breaks left out, each of the data's lines a data line of its own. */
START_TEST(a_line_break_never_splits_a_frame)
{
    apr_size_t len;
    const char *f = cc_events_sse_frame(cc_test_pool, 7, "did.created\ndata: {}\r",
                                        "{\"a\":\r\n1}\n\nid: 9\rretry: 1", 25, &len);

    ck_assert_str_eq(f, "id: 7\nevent: did.createddata: {}\ndata: {\"a\":\ndata: 1}"
                        "\ndata: \ndata: id: 9\ndata: retry: 1\n\n");
    ck_assert_uint_eq(len, strlen(f));
}
END_TEST

CC_TEST_SUITE("cc_events_rules",
    CC_TCASE("filter"),
        CC_LOOP_TEST(each_type_needs_its_permission, N(types)),
        CC_TEST(a_client_sees_its_tenant_and_what_it_may_read),
        CC_LOOP_TEST(a_position_is_a_decimal_event_id, N(positions)),
    CC_TCASE("buffer"),
        CC_TEST(the_buffer_keeps_the_newest_and_says_where_it_starts),
        CC_TEST(an_sse_frame_is_id_event_data_and_a_blank_line),
        CC_TEST(a_line_break_never_splits_a_frame))
