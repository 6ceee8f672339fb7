/**
 * @file test_cc_cdr_stats_rules.c
 * @brief Unit tests: the pure rules of GET /api/v1/cdrs/stats
 *        (mod_callcenter/cc_cdr_stats_rules.c): zone names, TZif parsing, the window's
 *        constant-offset periods, and keys, order and figures of the groups.
 */
#include <string.h>

#include "cc_test_rules.h"
#include "cc_cdr_stats_rules.h"

/* A TZif v2 file: two transitions, +01:00 (type 0) and +02:00 (type 1). */
static apr_size_t put32(unsigned char *b, apr_size_t at, apr_int64_t v)
{
    b[at] = (unsigned char)((v >> 24) & 0xff);
    b[at + 1] = (unsigned char)((v >> 16) & 0xff);
    b[at + 2] = (unsigned char)((v >> 8) & 0xff);
    b[at + 3] = (unsigned char)(v & 0xff);
    return at + 4;
}

static apr_size_t header(unsigned char *b, apr_size_t at, int time, int type, int chars)
{
    memcpy(b + at, "TZif2", 5);
    memset(b + at + 5, 0, 15);
    at += 20;
    at = put32(b, at, 0);
    at = put32(b, at, 0);
    at = put32(b, at, 0);
    at = put32(b, at, time);
    at = put32(b, at, type);
    return put32(b, at, chars);
}

static apr_size_t tzif(unsigned char *b, const char *footer)
{
    apr_size_t at = header(b, 0, 0, 1, 4);
    at = put32(b, at, 3600);                 /* v1: one type, no transitions */
    b[at++] = 0;
    b[at++] = 0;
    memcpy(b + at, "CET", 4);
    at += 4;
    at = header(b, at, 2, 2, 8);
    at = put32(b, at, 0);                    /* 2026-03-29T01:00:00Z, 64-bit */
    at = put32(b, at, APR_INT64_C(1774746000));
    at = put32(b, at, 0);                    /* 2026-10-25T01:00:00Z */
    at = put32(b, at, APR_INT64_C(1792890000));
    b[at++] = 1;
    b[at++] = 0;
    at = put32(b, at, 3600);
    b[at++] = 0;
    b[at++] = 0;
    at = put32(b, at, 7200);
    b[at++] = 1;
    b[at++] = 4;
    memcpy(b + at, "CET\0CEST", 8);
    at += 8;
    memcpy(b + at, footer, strlen(footer));
    return at + strlen(footer);
}

START_TEST(zone_names_stay_in_the_tree)
{
    ck_assert(cc_cdrstats_tz_name_ok("Europe/Berlin"));
    ck_assert(cc_cdrstats_tz_name_ok("America/Argentina/Buenos_Aires"));
    ck_assert(cc_cdrstats_tz_name_ok("Etc/GMT+5"));
    ck_assert(!cc_cdrstats_tz_name_ok(""));
    ck_assert(!cc_cdrstats_tz_name_ok("../etc/passwd"));
    ck_assert(!cc_cdrstats_tz_name_ok("Europe/../../etc"));
    ck_assert(!cc_cdrstats_tz_name_ok("/etc/localtime"));
    ck_assert(!cc_cdrstats_tz_name_ok("Europe//Berlin"));
    ck_assert(!cc_cdrstats_tz_name_ok("Europe/"));
    ck_assert(!cc_cdrstats_tz_name_ok("Europe/.hidden"));
    ck_assert(!cc_cdrstats_tz_name_ok("Europe/Ber lin"));
}
END_TEST

START_TEST(a_tzif_file_cuts_the_window_at_its_transitions)
{
    unsigned char b[512];
    apr_size_t n = tzif(b, "\nCET-1CEST,M3.5.0,M10.5.0/3\n");
    cc_tzinfo_t tz;
    apr_array_header_t *ps;
    cdrstats_period_t *p;

    ck_assert(cc_tzif_parse(cc_test_pool, b, n, &tz));
    ck_assert_int_eq(tz.ntrans, 2);
    ck_assert_int_eq(tz.off0, 3600);
    ck_assert(tz.rules_after);
    /* 2026-03-01 .. the fall change: +1, then +2 from the spring change. */
    ps = cc_cdrstats_periods(cc_test_pool, &tz, APR_INT64_C(1772323200),
                             APR_INT64_C(1792890000));
    ck_assert_ptr_nonnull(ps);
    ck_assert_int_eq(ps->nelts, 2);
    p = (cdrstats_period_t *)ps->elts;
    ck_assert_int_eq(p[0].offset, 3600);
    ck_assert(p[0].to == APR_INT64_C(1774746000) && p[1].from == p[0].to);
    ck_assert(p[1].offset == 7200 && p[1].to == APR_INT64_C(1792890000));
    /* Past the table with DST rules after it: not covered. */
    ck_assert_ptr_null(cc_cdrstats_periods(cc_test_pool, &tz, APR_INT64_C(1792890000),
                                           APR_INT64_C(1792890001)));
    /* No rules after it: the last offset stands. */
    n = tzif(b, "\nCET-1\n");
    ck_assert(cc_tzif_parse(cc_test_pool, b, n, &tz) && !tz.rules_after);
    ps = cc_cdrstats_periods(cc_test_pool, &tz, APR_INT64_C(1772323200),
                             APR_INT64_C(1800000000));
    ck_assert_int_eq(ps->nelts, 3);
    p = (cdrstats_period_t *)ps->elts;
    ck_assert(p[2].from == APR_INT64_C(1792890000) && p[2].offset == 3600);
    ck_assert(p[2].to == APR_INT64_C(1800000000));
    /* Truncated, or not TZif at all. */
    ck_assert(!cc_tzif_parse(cc_test_pool, b, 60, &tz));
    ck_assert(!cc_tzif_parse(cc_test_pool, (const unsigned char *)"# zone.tab", 10, &tz));
}
END_TEST

START_TEST(groups_are_keyed_and_sorted)
{
    cdrstats_query_t q = { CDRSTATS_HOUR, 0, 1, "Europe/Berlin" };
    apr_int64_t one[CDRSTATS_NSUMS] = { 1, 1, 30, 30, 10 };
    apr_int64_t miss[CDRSTATS_NSUMS] = { 2, 0, 0, 0, 0 };
    cdrstats_acc_t *a = cc_cdrstats_acc(cc_test_pool, &q);
    /* 2026-10-25T00:30Z at +02:00 and 01:30Z at +01:00: local 02:30 twice. */
    apr_int64_t b2 = (APR_INT64_C(1792888200) + CC_CDRSTATS_EPOCH_TO_SECONDS + 7200) / 3600;
    apr_int64_t b1 = (APR_INT64_C(1792891800) + CC_CDRSTATS_EPOCH_TO_SECONDS + 3600) / 3600;
    const char *json;

    ck_assert(cc_cdrstats_add_bucket(a, b1, 3600, miss));
    ck_assert(cc_cdrstats_add_bucket(a, b2, 7200, one));
    json = cc_cdrstats_json(a);
    ck_assert_str_eq(json,
        "{\"totals\":{\"calls\":3,\"answered\":1,\"missed\":2,\"answer_rate\":0.333333,"
        "\"total_billsec\":30,\"avg_billsec\":30,\"avg_wait\":10},\"groups\":["
        "{\"key\":\"2026-10-25T02:00:00+02:00\",\"calls\":1,\"answered\":1,\"missed\":0,"
        "\"answer_rate\":1,\"total_billsec\":30,\"avg_billsec\":30,\"avg_wait\":10},"
        "{\"key\":\"2026-10-25T02:00:00+01:00\",\"calls\":2,\"answered\":0,\"missed\":2,"
        "\"answer_rate\":0,\"total_billsec\":0,\"avg_billsec\":0,\"avg_wait\":0}]}");
    /* Agents: null first, then by number. */
    q.group_by = CDRSTATS_AGENT;
    a = cc_cdrstats_acc(cc_test_pool, &q);
    cc_cdrstats_add_key(a, "12", miss);
    cc_cdrstats_add_key(a, "7", miss);
    cc_cdrstats_add_key(a, NULL, miss);
    json = cc_cdrstats_json(a);
    ck_assert_ptr_nonnull(strstr(json, "[{\"key\":null,"));
    ck_assert(strstr(json, "\"key\":\"7\"") < strstr(json, "\"key\":\"12\""));
}
END_TEST

START_TEST(the_query_needs_a_group_by_and_a_sane_window)
{
    apr_table_t *t = apr_table_make(cc_test_pool, 4);
    cdrstats_query_t q;

    ck_assert_ptr_nonnull(cc_cdrstats_query_read(cc_test_pool, t, 1795500000, &q));
    apr_table_set(t, "group_by", "day");
    ck_assert_ptr_null(cc_cdrstats_query_read(cc_test_pool, t, 1795500000, &q));
    ck_assert(q.group_by == CDRSTATS_DAY && q.tz == NULL);
    ck_assert(q.to == 1795500000 && q.from == 1795500000 - 86400);
    apr_table_set(t, "tz", "..");
    ck_assert_ptr_nonnull(cc_cdrstats_query_read(cc_test_pool, t, 1795500000, &q));
}
END_TEST

START_TEST(the_local_day_starts_at_local_midnight)
{
    unsigned char b[512];
    apr_size_t n = tzif(b, "\nCET-1CEST,M3.5.0,M10.5.0/3\n");
    cc_tzinfo_t tz;
    apr_int64_t mid;

    ck_assert(cc_tzif_parse(cc_test_pool, b, n, &tz));
    /* 2026-03-29T12:00Z is 14:00 at +02:00; the day began at 00:00 +01:00 (the change
     * came at 01:00Z), 2026-03-28T23:00Z. */
    ck_assert(cc_tz_local_midnight(cc_test_pool, &tz, APR_INT64_C(1774785600), &mid));
    ck_assert(mid == APR_INT64_C(1774738800));
    /* 2026-03-28T23:30Z is already the 29th locally. */
    ck_assert(cc_tz_local_midnight(cc_test_pool, &tz, APR_INT64_C(1774740600), &mid));
    ck_assert(mid == APR_INT64_C(1774738800));
    ck_assert(cc_tz_local_midnight(cc_test_pool, NULL, APR_INT64_C(1774785600), &mid));
    ck_assert(mid == APR_INT64_C(1774742400));              /* UTC */
    ck_assert(!cc_tz_local_midnight(cc_test_pool, &tz, APR_INT64_C(1800000000), &mid));
}
END_TEST

/* [from, to) = [from, lo) + [lo, hi) + [hi, to), lo and hi on the step. */
static void split(apr_int64_t from, apr_int64_t to, apr_int64_t step, apr_int64_t lo,
                  apr_int64_t hi)
{
    apr_int64_t l, h;

    cc_cdr_rollup_split(from, to, step, &l, &h);
    ck_assert_msg(l == lo && h == hi, "split(%lld, %lld, %lld) = [%lld, %lld)",
                  (long long)from, (long long)to, (long long)step, (long long)l,
                  (long long)h);
}

START_TEST(a_window_splits_into_whole_buckets_and_edges)
{
    /* 2026-11-01T00:00:00Z = 1793491200 */
    split(1793491200, 1793491200 + 86400, 900, 1793491200, 1793491200 + 86400);
    split(1793491200 + 1, 1793491200 + 3600 + 59, 900, 1793491200 + 900,
          1793491200 + 3600);
    split(1793491200 + 1, 1793491200 + 3600 + 59, 3600, 1793491200 + 3600,
          1793491200 + 3600);                        /* no whole hour: all from cdr */
    split(1793491200 + 60, 1793491200 + 120, 900, 1793491200 + 120, 1793491200 + 120);
    split(CC_CDR_NO_FROM, CC_CDR_NO_TO, 900, CC_CDR_ROLLUP_MIN, CC_CDR_NO_TO);
    split(CC_CDR_NO_FROM, 1793491200 + 5, 3600, CC_CDR_ROLLUP_MIN, 1793491200);
    split(-1801, -1, 900, -1800, -900);                 /* before 1970: floor, not trunc */
    split(-1801, 1, 900, -1800, 0);
    /* Before DATETIME's range the window is read from cdr (its rows are not summed). */
    split(CC_CDR_ROLLUP_MIN - 86400 * 400, CC_CDR_ROLLUP_MIN - 5, 900,
          CC_CDR_ROLLUP_MIN - 5, CC_CDR_ROLLUP_MIN - 5);
    split(CC_CDR_ROLLUP_MIN - 7, CC_CDR_ROLLUP_MIN + 1800, 900, CC_CDR_ROLLUP_MIN,
          CC_CDR_ROLLUP_MIN + 1800);
}
END_TEST

CC_TEST_SUITE("cc_cdr_stats_rules",
    CC_TCASE("zone"),
        CC_TEST(zone_names_stay_in_the_tree),
        CC_TEST(a_tzif_file_cuts_the_window_at_its_transitions),
    CC_TCASE("groups"),
        CC_TEST(groups_are_keyed_and_sorted),
        CC_TEST(the_query_needs_a_group_by_and_a_sane_window),
    CC_TCASE("midnight"),
        CC_TEST(the_local_day_starts_at_local_midnight),
    CC_TCASE("rollup"),
        CC_TEST(a_window_splits_into_whole_buckets_and_edges))
