/**
 * @file test_cc_queue_stats_rules.c
 * @brief Unit tests: the pure rules of GET /api/v1/queues/{id}/stats
 *        (mod_callcenter/cc_queue_stats_rules.c): the window and threshold parameters
 *        (defaults, bounds, every bad one named) and the answer computed from the sums.
 */
#include <string.h>

#include "cc_test_rules.h"
#include "cc_queue_stats_rules.h"

#define NOW APR_INT64_C(1795500000)   /* 2026-11-24T06:00:00Z */

static apr_table_t *query(const char *from, const char *to, const char *short_abandon)
{
    apr_table_t *t = apr_table_make(cc_test_pool, 3);

    if (from) {
        apr_table_set(t, "from", from);
    }
    if (to) {
        apr_table_set(t, "to", to);
    }
    if (short_abandon) {
        apr_table_set(t, "short_abandon", short_abandon);
    }
    return t;
}

START_TEST(the_defaults_are_the_last_24_hours_and_5_seconds)
{
    qstats_query_t q;

    ck_assert_ptr_null(cc_qstats_query_read(cc_test_pool, NULL, NOW, &q));
    ck_assert_str_eq(q.from, "2026-11-23 06:00:00");
    ck_assert_str_eq(q.to, "2026-11-24 06:00:00");
    ck_assert_str_eq(q.short_abandon, "5");
    /* from alone ends now; to alone starts 24 hours before it. */
    ck_assert_ptr_null(cc_qstats_query_read(cc_test_pool,
                                            query("2026-11-24T05:00:00+01:00", NULL, "0"),
                                            NOW, &q));
    ck_assert_str_eq(q.from, "2026-11-24 04:00:00");
    ck_assert_str_eq(q.to, "2026-11-24 06:00:00");
    ck_assert_str_eq(q.short_abandon, "0");
    ck_assert_ptr_null(cc_qstats_query_read(cc_test_pool,
                                            query(NULL, "2026-01-01T00:00:00Z", "600"),
                                            NOW, &q));
    ck_assert_str_eq(q.from, "2025-12-31 00:00:00");
    ck_assert_str_eq(q.to, "2026-01-01 00:00:00");
    ck_assert_str_eq(q.short_abandon, "600");
}
END_TEST

START_TEST(a_window_of_exactly_366_days_reads)
{
    qstats_query_t q;

    ck_assert_ptr_null(cc_qstats_query_read(cc_test_pool,
                                            query("2024-01-01T00:00:00Z",
                                                  "2025-01-01T00:00:00Z", NULL), NOW, &q));
    ck_assert_str_eq(q.from, "2024-01-01 00:00:00");
}
END_TEST

/* A query and the parameters it is refused for. */
static const struct {
    const char *from, *to, *short_abandon, *refused;
} refusals[] = {
    { "yesterday", NULL, NULL, "from" },
    { NULL, "2026-11-24", NULL, "to" },
    { NULL, NULL, "-1", "short_abandon" },
    { NULL, NULL, "601", "short_abandon" },
    { NULL, NULL, "5s", "short_abandon" },
    { NULL, NULL, "", "short_abandon" },
    { "bad", "bad", "bad", "from,to,short_abandon" },              /* all at once */
    { "2026-11-24T06:00:00Z", "2026-11-24T06:00:00Z", NULL, "from" },  /* empty window */
    { "2026-11-24T07:00:00Z", "2026-11-24T06:00:00Z", NULL, "from" },  /* from > to */
    { "2026-11-24T07:00:00Z", NULL, NULL, "from" },                    /* after now */
    { "2024-01-01T00:00:00Z", "2025-01-01T00:00:01Z", NULL, "from" },  /* 366 days + 1 s */
};

START_TEST(a_bad_query_names_its_parameters)
{
    qstats_query_t q;
    cc_error_t *err = cc_qstats_query_read(cc_test_pool,
                                           query(refusals[_i].from, refusals[_i].to,
                                                 refusals[_i].short_abandon), NOW, &q);

    ck_assert_ptr_nonnull(err);
    ck_assert_int_eq(err->status, 400);
    ck_assert_str_eq(cc_test_fields(err), refusals[_i].refused);
}
END_TEST

START_TEST(ratios_have_at_most_six_decimals)
{
    apr_pool_t *p = cc_test_pool;

    ck_assert_str_eq(cc_qstats_ratio(p, 0, 0), "0");
    ck_assert_str_eq(cc_qstats_ratio(p, 5, 0), "0");
    ck_assert_str_eq(cc_qstats_ratio(p, 0, 7), "0");
    ck_assert_str_eq(cc_qstats_ratio(p, 7, 7), "1");
    ck_assert_str_eq(cc_qstats_ratio(p, 1, 4), "0.25");
    ck_assert_str_eq(cc_qstats_ratio(p, 2, 3), "0.666667");
    ck_assert_str_eq(cc_qstats_ratio(p, 301, 2), "150.5");
}
END_TEST

START_TEST(the_answer_is_computed_from_the_sums)
{
    /* answered, abandoned, short, left, within SL, wait sum, max wait, talk sum, talks */
    static const char *const row[QSTATS_NSUMS] = { "5", "2", "3", "1", "4", "120", "61",
                                                    "900", "4" };
    json_t *j = cc_test_json(cc_qstats_json(cc_test_pool, row));

    ck_assert_str_eq(cc_test_dump(j),
                     "{\"abandon_rate\":0.25,\"abandoned\":2,\"answered\":5,"
                     "\"answered_within_sl\":4,\"avg_talk\":225,\"avg_wait\":15,"
                     "\"max_wait\":61,\"offered\":8,\"service_level\":0.5,"
                     "\"short_abandoned\":3}");
}
END_TEST

START_TEST(an_empty_window_is_all_zeros)
{
    static const char *const row[QSTATS_NSUMS] = { NULL };
    json_t *j = cc_test_json(cc_qstats_json(cc_test_pool, row));

    ck_assert_str_eq(cc_test_dump(j),
                     "{\"abandon_rate\":0,\"abandoned\":0,\"answered\":0,"
                     "\"answered_within_sl\":0,\"avg_talk\":0,\"avg_wait\":0,"
                     "\"max_wait\":0,\"offered\":0,\"service_level\":0,"
                     "\"short_abandoned\":0}");
}
END_TEST

START_TEST(a_sum_that_is_not_a_count_is_refused)
{
    static const char *const row[QSTATS_NSUMS] = { "1", "-1" };

    ck_assert_ptr_null(cc_qstats_json(cc_test_pool, row));
}
END_TEST

CC_TEST_SUITE("cc_queue_stats_rules",
    CC_TCASE("query"),
        CC_TEST(the_defaults_are_the_last_24_hours_and_5_seconds),
        CC_TEST(a_window_of_exactly_366_days_reads),
        CC_LOOP_TEST(a_bad_query_names_its_parameters, N(refusals)),
    CC_TCASE("answer"),
        CC_TEST(ratios_have_at_most_six_decimals),
        CC_TEST(the_answer_is_computed_from_the_sums),
        CC_TEST(an_empty_window_is_all_zeros),
        CC_TEST(a_sum_that_is_not_a_count_is_refused))
