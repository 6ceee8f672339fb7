/**
 * @file test_cc_ratelimit.c
 * @brief Unit tests: rate limits (shared/cc_ratelimit.c): the bucket's burst and rate,
 *        what a client is told, keys sharing and reusing slots, the directive's values.
 */
#include <stdlib.h>
#include <string.h>

#include "cc_test.h"
#include "cc_ratelimit.h"

#define SEC(n) ((apr_time_t)(n) * APR_USEC_PER_SEC)
#define T0 SEC(1800000000)

static cc_ratelimit_slot_t *table_new(void)
{
    return apr_pcalloc(cc_test_pool, sizeof(cc_ratelimit_slot_t) * CC_RATELIMIT_SLOTS);
}

START_TEST(a_burst_goes_through_then_the_rate)
{
    cc_ratelimit_slot_t *table = table_new();
    cc_ratelimit_t lim = { 60, 60, 5, 1 };           /* one a second, five at once */
    apr_uint64_t key = cc_ratelimit_key('k', "token");
    cc_ratelimit_result_t r;
    int i;

    for (i = 0; i < 5; i++) {
        ck_assert_int_eq(cc_ratelimit_take(table, key, &lim, T0, &r), 0);
        ck_assert_int_eq(r.admitted, 1);
        ck_assert_int_eq(r.remaining, 4 - i);
        ck_assert_int_eq(r.reset, i + 1);
    }
    ck_assert_int_eq(cc_ratelimit_take(table, key, &lim, T0, &r), 0);
    ck_assert_int_eq(r.admitted, 0);
    ck_assert_int_eq(r.remaining, 0);
    ck_assert_int_eq(r.retry_after, 1);
    ck_assert_int_eq(r.reset, 5);
    /* A second later one more; two and a half seconds later two more. */
    ck_assert_int_eq(cc_ratelimit_take(table, key, &lim, T0 + SEC(1), &r), 0);
    ck_assert_int_eq(r.admitted, 1);
    ck_assert_int_eq(cc_ratelimit_take(table, key, &lim, T0 + SEC(1), &r), 0);
    ck_assert_int_eq(r.admitted, 0);
    ck_assert_int_eq(cc_ratelimit_take(table, key, &lim, T0 + SEC(3) + SEC(1) / 2, &r), 0);
    ck_assert_int_eq(r.admitted, 1);
    ck_assert_int_eq(r.remaining, 1);
    /* Idle for the whole window: full again. */
    ck_assert_int_eq(cc_ratelimit_take(table, key, &lim, T0 + SEC(60), &r), 0);
    ck_assert_int_eq(r.remaining, 4);
}
END_TEST

START_TEST(a_refused_request_costs_nothing_and_a_refund_gives_one_back)
{
    cc_ratelimit_slot_t *table = table_new();
    cc_ratelimit_t lim = { 2, 10, 2, 1 };
    apr_uint64_t key = cc_ratelimit_key('t', "tenant");
    cc_ratelimit_result_t r;
    int i;

    for (i = 0; i < 2; i++) {
        cc_ratelimit_take(table, key, &lim, T0, &r);
    }
    for (i = 0; i < 100; i++) {
        cc_ratelimit_take(table, key, &lim, T0, &r);
        ck_assert_int_eq(r.admitted, 0);
    }
    ck_assert_int_eq(r.retry_after, 5);
    cc_ratelimit_take(table, key, &lim, T0 + SEC(5), &r);
    ck_assert_int_eq(r.admitted, 1);
    cc_ratelimit_refund(table, key, &lim);
    cc_ratelimit_take(table, key, &lim, T0 + SEC(5), &r);
    ck_assert_int_eq(r.admitted, 1);
    cc_ratelimit_take(table, key, &lim, T0 + SEC(5), &r);
    ck_assert_int_eq(r.admitted, 0);
}
END_TEST

START_TEST(keys_are_apart_and_a_full_bucket_gives_its_slot_up)
{
    cc_ratelimit_slot_t *table = table_new();
    cc_ratelimit_t lim = { 1, 60, 1, 1 };
    cc_ratelimit_result_t r;
    apr_uint64_t a = cc_ratelimit_key('k', "a"), b = cc_ratelimit_key('t', "a");
    int i, refused = 0;

    ck_assert_uint_ne(a, b);
    ck_assert_uint_ne(cc_ratelimit_key('k', ""), 0);
    cc_ratelimit_take(table, a, &lim, T0, &r);
    ck_assert_int_eq(r.admitted, 1);
    cc_ratelimit_take(table, b, &lim, T0, &r);
    ck_assert_int_eq(r.admitted, 1);
    /* Keys that all want the same slots: the first PROBES are held (in debt), the next
     * goes through unlimited (-1) until one of them owes nothing. */
    for (i = 0; i < CC_RATELIMIT_PROBES; i++) {
        apr_uint64_t k = (apr_uint64_t)(i + 1) * CC_RATELIMIT_SLOTS + 7;

        ck_assert_int_eq(cc_ratelimit_take(table, k, &lim, T0, &r), 0);
    }
    ck_assert_int_eq(cc_ratelimit_take(table, 99 * (apr_uint64_t)CC_RATELIMIT_SLOTS + 7,
                                       &lim, T0, &r), -1);
    ck_assert_int_eq(cc_ratelimit_take(table, 99 * (apr_uint64_t)CC_RATELIMIT_SLOTS + 7,
                                       &lim, T0 + SEC(61), &r), 0);
    ck_assert_int_eq(r.admitted, 1);
    for (i = 0; i < 3; i++) {
        cc_ratelimit_take(table, 99 * (apr_uint64_t)CC_RATELIMIT_SLOTS + 7, &lim,
                          T0 + SEC(61), &r);
        refused += !r.admitted;
    }
    ck_assert_int_eq(refused, 3);
}
END_TEST

START_TEST(a_key_in_debt_keeps_its_slot_when_an_earlier_one_frees)
{
    cc_ratelimit_slot_t *table = table_new();
    cc_ratelimit_t fast = { 1, 1, 1, 1 }, slow = { 1, 60, 1, 1 };
    apr_uint64_t a = (apr_uint64_t)CC_RATELIMIT_SLOTS + 7, k = 2 * a - 7;
    cc_ratelimit_result_t r;

    /* Same home slot: a takes it, k the next one. */
    cc_ratelimit_take(table, a, &fast, T0, &r);
    cc_ratelimit_take(table, k, &slow, T0, &r);
    ck_assert_int_eq(r.admitted, 1);
    /* a's bucket is full again two seconds later (its slot may go); k still owes. */
    ck_assert_int_eq(cc_ratelimit_take(table, k, &slow, T0 + SEC(2), &r), 0);
    ck_assert_int_eq(r.admitted, 0);
}
END_TEST

static const struct {
    const char *requests, *window, *burst, *error;
    apr_int64_t burst_is;
} parses[] = {
    { "600", "60", NULL, NULL, 600 },
    { "600", "60", "50", NULL, 50 },
    { "1", "1", "1", NULL, 1 },
    { "0", "60", NULL, "requests", 0 },
    { "x", "60", NULL, "requests", 0 },
    { "10", "0", NULL, "window", 0 },
    { "10", "86401", NULL, "window", 0 },
    { "10", "60", "0", "burst", 0 },
    { "10", "60", "-1", "burst", 0 },
    { "off", NULL, NULL, NULL, 0 },
    { "10", NULL, NULL, "window", 0 },
    { "off", "60", NULL, "requests", 0 },
    { "1", "86400", "1000000000", "too large", 0 },
};

START_TEST(the_directive_takes_requests_window_and_burst)
{
    cc_ratelimit_t lim;
    const char *err = cc_ratelimit_parse(parses[_i].requests, parses[_i].window,
                                         parses[_i].burst, &lim);

    if (parses[_i].error) {
        ck_assert_ptr_nonnull(err);
        ck_assert_ptr_nonnull(strstr(err, parses[_i].error));
    }
    else {
        ck_assert_ptr_null(err);
        ck_assert_int_eq(lim.set, 1);
        if (lim.requests) {
            ck_assert_int_eq(lim.burst, parses[_i].burst_is);
        }
    }
}
END_TEST

CC_TEST_SUITE("cc_ratelimit",
    CC_TCASE("bucket"),
        CC_TEST(a_burst_goes_through_then_the_rate),
        CC_TEST(a_refused_request_costs_nothing_and_a_refund_gives_one_back),
        CC_TEST(keys_are_apart_and_a_full_bucket_gives_its_slot_up),
        CC_TEST(a_key_in_debt_keeps_its_slot_when_an_earlier_one_frees),
    CC_TCASE("directive"),
        CC_LOOP_TEST(the_directive_takes_requests_window_and_burst, N(parses)))
