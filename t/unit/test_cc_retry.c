/**
 * @file test_cc_retry.c
 * @brief Unit tests for lock conflicts: which errors are one, the pauses between a
 *        handler's runs and when another run is due (shared/cc_retry.c), and the error
 *        that marks one (cc_error_lock_conflict, shared/cc_error.c).
 */
#include <limits.h>
#include <string.h>

#include "cc_test.h"

#include "cc_error.h"
#include "cc_retry.h"

/* ---- classification ---- */

static const struct {
    int db_errno;
    int conflict;
    const char *name;
} errno_cases[] = {
    {1213, 1, "deadlock"},
    {1205, 1, "lock wait timeout"},
    {1062, 0, "error"},     /* a duplicate key: the client's 409, never run again */
    {1212, 0, "error"},
    {1214, 0, "error"},
    {1204, 0, "error"},
    {1206, 0, "error"},     /* ER_LOCK_TABLE_FULL: running again does not help */
    {2006, 0, "error"},     /* the server has gone away: 503 unavailable */
    {2013, 0, "error"},
    {1927, 0, "error"},
    {0, 0, "error"},
    {-1, 0, "error"},
};

START_TEST(only_deadlocks_and_lock_wait_timeouts_are_lock_conflicts)
{
    ck_assert_msg(cc_retry_is_lock_conflict(errno_cases[_i].db_errno)
                  == errno_cases[_i].conflict, "errno %d", errno_cases[_i].db_errno);
    ck_assert_str_eq(cc_retry_conflict_name(errno_cases[_i].db_errno),
                     errno_cases[_i].name);
}
END_TEST

/* ---- the pauses ---- */

/* The documented base of run number attempt. */
static apr_interval_time_t base_of(int attempt)
{
    apr_interval_time_t base = CC_RETRY_BASE_USEC;

    while (attempt-- > 1 && base < CC_RETRY_MAX_USEC) {
        base *= 2;
    }
    return base < CC_RETRY_MAX_USEC ? base : CC_RETRY_MAX_USEC;
}

static const apr_uint32_t rnds[] = { 0, 1, 2, 999, 1000, 1001, 2000, 2001, 4000, 65535,
                                     123456789, 2147483647u, 4294967294u, 4294967295u };

START_TEST(a_pause_lies_in_half_to_all_of_its_base)
{
    int attempt;

    for (attempt = 1; attempt <= 40; attempt++) {
        apr_interval_time_t base = base_of(attempt);
        apr_interval_time_t d = cc_retry_backoff(attempt, rnds[_i]);

        ck_assert_msg(d >= base / 2 && d <= base, "attempt %d rnd %u: %" APR_TIME_T_FMT,
                      attempt, rnds[_i], d);
    }
}
END_TEST

START_TEST(pauses_start_at_a_few_ms_double_and_stop_growing_at_the_cap)
{
    ck_assert_int_eq(cc_retry_backoff(1, 0), 2000);
    ck_assert_int_eq(cc_retry_backoff(1, 2000), 4000);
    ck_assert_int_eq(cc_retry_backoff(1, 2001), 2000);        /* rnd wraps into the range */
    ck_assert_int_eq(cc_retry_backoff(2, 0), 4000);
    ck_assert_int_eq(cc_retry_backoff(2, 4000), 8000);
    ck_assert_int_eq(cc_retry_backoff(3, 0), 8000);
    ck_assert_int_eq(cc_retry_backoff(4, 8000), 24000);
    ck_assert_int_eq(cc_retry_backoff(6, 50000), CC_RETRY_MAX_USEC);
    ck_assert_int_eq(cc_retry_backoff(1000, 0), CC_RETRY_MAX_USEC / 2);
    ck_assert_int_eq(cc_retry_backoff(INT_MAX, 4294967295u) <= CC_RETRY_MAX_USEC, 1);
    /* A run number below 1 is treated as the first. */
    ck_assert_int_eq(cc_retry_backoff(0, 0), 2000);
    ck_assert_int_eq(cc_retry_backoff(-5, 2000), 4000);
}
END_TEST

START_TEST(the_pauses_of_every_run_together_stay_under_100_ms)
{
    apr_interval_time_t total = 0;
    int attempt;

    for (attempt = 1; attempt < CC_RETRY_ATTEMPTS; attempt++) {
        total += cc_retry_backoff(attempt, (apr_uint32_t)base_of(attempt) / 2);
    }
    ck_assert_msg(total <= 100000, "%" APR_TIME_T_FMT " us", total);
}
END_TEST

START_TEST(random_values_spread_over_the_range)
{
    /* Two requests that collided pause differently unless their draws agree. */
    ck_assert_int_ne(cc_retry_backoff(1, 7), cc_retry_backoff(1, 1500));
    ck_assert_int_ne(cc_retry_backoff(3, 7), cc_retry_backoff(3, 1500));
}
END_TEST

/* ---- when another run is due ---- */

START_TEST(another_run_is_due_until_the_last_run_or_the_budget)
{
    int attempt;

    for (attempt = 1; attempt < CC_RETRY_ATTEMPTS; attempt++) {
        ck_assert_msg(cc_retry_again(attempt, 0), "run %d", attempt);
        ck_assert_msg(cc_retry_again(attempt, CC_RETRY_BUDGET_USEC - 1), "run %d", attempt);
        ck_assert_msg(!cc_retry_again(attempt, CC_RETRY_BUDGET_USEC), "run %d", attempt);
    }
    ck_assert(!cc_retry_again(CC_RETRY_ATTEMPTS, 0));
    ck_assert(!cc_retry_again(CC_RETRY_ATTEMPTS + 1, 0));
    ck_assert(!cc_retry_again(INT_MAX, 0));
    ck_assert(!cc_retry_again(0, 0));
    ck_assert(!cc_retry_again(1, -1));
    /* A lock wait timeout at MariaDB's default (50 s) is not waited out twice. */
    ck_assert(!cc_retry_again(1, apr_time_from_sec(50)));
    ck_assert_int_ge(CC_RETRY_ATTEMPTS, 3);
    ck_assert_int_le(CC_RETRY_ATTEMPTS, 5);
}
END_TEST

/* ---- the error ---- */

START_TEST(a_lock_conflict_is_a_marked_503_unavailable)
{
    cc_error_t *e = cc_error_lock_conflict(cc_test_pool);
    json_t *j;

    ck_assert_int_eq(e->status, 503);
    ck_assert_str_eq(e->code, CC_ERR_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(e->message, "concurrent"));
    ck_assert(cc_error_is_lock_conflict(e));
    j = cc_error_to_json(e, "rid");
    ck_assert_int_eq(json_object_size(j), 3);   /* error, message, request_id */
    json_decref(j);
}
END_TEST

START_TEST(other_errors_are_not_lock_conflicts)
{
    apr_pool_t *p = cc_test_pool;

    ck_assert(!cc_error_is_lock_conflict(NULL));
    ck_assert(!cc_error_is_lock_conflict(cc_error_unavailable(p)));
    ck_assert(!cc_error_is_lock_conflict(cc_error_internal(p)));
    ck_assert(!cc_error_is_lock_conflict(cc_error_conflict(p, "taken")));
    ck_assert(!cc_error_is_lock_conflict(cc_error_make(p, 503, CC_ERR_UNAVAILABLE, NULL)));
}
END_TEST

CC_TEST_SUITE("cc_retry",
    CC_TCASE("classification"),
        CC_LOOP_TEST(only_deadlocks_and_lock_wait_timeouts_are_lock_conflicts,
                     N(errno_cases)),
    CC_TCASE("pauses"),
        CC_LOOP_TEST(a_pause_lies_in_half_to_all_of_its_base, N(rnds)),
        CC_TEST(pauses_start_at_a_few_ms_double_and_stop_growing_at_the_cap),
        CC_TEST(the_pauses_of_every_run_together_stay_under_100_ms),
        CC_TEST(random_values_spread_over_the_range),
    CC_TCASE("runs"),
        CC_TEST(another_run_is_due_until_the_last_run_or_the_budget),
    CC_TCASE("error"),
        CC_TEST(a_lock_conflict_is_a_marked_503_unavailable),
        CC_TEST(other_errors_are_not_lock_conflicts))
