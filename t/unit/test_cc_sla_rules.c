/**
 * @file test_cc_sla_rules.c
 * @brief Unit tests: SLA policies' business calendars (mod_callcenter/cc_sla_rules.c):
 *        what a calendar may say, its canonical form, and business time (due times and
 *        time between) in its zone, across the DST changes of Europe/Berlin and
 *        America/New_York (zones from the system's zoneinfo, Debian's tzdata).
 */
#include <stdio.h>
#include <string.h>

#include "cc_test_rules.h"
#include "cc_sla_rules.h"
#include "cc_validate.h"

/* ---- helpers ---- */

/* An RFC 3339 time as UTC seconds. */
static apr_int64_t T(const char *s)
{
    apr_int64_t t;

    ck_assert_msg(cc_parse_rfc3339_epoch(s, &t), "bad time %s", s);
    return t;
}

static const char *text(apr_int64_t t)
{
    const char *s = cc_epoch_to_sql(cc_test_pool, t);

    return s ? s : "(out of range)";
}

/* A zone from /usr/share/zoneinfo. */
static const cc_tzinfo_t *zone(const char *name)
{
    const char *path = apr_pstrcat(cc_test_pool, CC_CDRSTATS_ZONEINFO "/", name, NULL);
    unsigned char *buf = apr_palloc(cc_test_pool, CC_CDRSTATS_TZIF_MAX);
    cc_tzinfo_t *tz = apr_pcalloc(cc_test_pool, sizeof(*tz));
    FILE *f = fopen(path, "rb");
    size_t n;

    ck_assert_msg(f != NULL, "no zone file %s (tzdata)", path);
    n = fread(buf, 1, CC_CDRSTATS_TZIF_MAX, f);
    fclose(f);
    ck_assert(cc_tzif_parse(cc_test_pool, buf, n, tz));
    return tz;
}

/* A calendar that reads. */
static const cc_sla_calendar_t *calendar(const char *json)
{
    cc_sla_calendar_t *cal = NULL;
    cc_error_t *err = cc_sla_calendar_parse(cc_test_pool, cc_test_json(json), &cal);

    ck_assert_msg(err == NULL, "%s: refused [%s]", json, cc_test_fields(err));
    return cal;
}

#define MON_FRI_9_17                                                                   \
    "{\"timezone\":\"Europe/Berlin\",\"hours\":["                                      \
    "{\"day\":\"mon\",\"from\":\"09:00\",\"to\":\"17:00\"},"                           \
    "{\"day\":\"tue\",\"from\":\"09:00\",\"to\":\"17:00\"},"                           \
    "{\"day\":\"wed\",\"from\":\"09:00\",\"to\":\"17:00\"},"                           \
    "{\"day\":\"thu\",\"from\":\"09:00\",\"to\":\"17:00\"},"                           \
    "{\"day\":\"fri\",\"from\":\"09:00\",\"to\":\"17:00\"}],"                          \
    "\"holidays\":[\"2026-06-03\"]}"

/* ---- parse ---- */

#define CAL(hours) "{\"timezone\":\"Europe/Berlin\",\"hours\":[" hours "]}"
#define P(day, from, to) "{\"day\":\"" day "\",\"from\":\"" from "\",\"to\":\"" to "\"}"
#define MON9 P("mon", "09:00", "17:00")

static const cc_test_refusal_t parse_cases[] = {
    { CAL(MON9), "" },
    { "[]", "calendar" },
    { "null", "calendar" },
    { "{\"timezone\":\"Europe/Berlin\",\"hours\":[" MON9 "],\"x\":1}", "calendar.x" },
    { "{\"hours\":[" MON9 "]}", "calendar.timezone" },
    { "{\"timezone\":\"Europe/Berlin\"}", "calendar.hours" },
    { "{\"timezone\":\"../etc/passwd\",\"hours\":[" MON9 "]}", "calendar.timezone" },
    { "{\"timezone\":5,\"hours\":[" MON9 "]}", "calendar.timezone" },
    { CAL(""), "calendar.hours" },
    { "{\"timezone\":\"UTC\",\"hours\":{}}", "calendar.hours" },
    { CAL("5"), "calendar.hours[0]" },
    { CAL(MON9 ",{\"day\":\"tue\",\"from\":\"09:00\",\"to\":\"17:00\",\"x\":1}"),
      "calendar.hours[1].x" },
    { CAL(P("monday", "09:00", "17:00")), "calendar.hours[0].day" },
    { CAL("{\"from\":\"09:00\",\"to\":\"17:00\"}"), "calendar.hours[0].day" },
    { CAL(P("mon", "9:00", "17:00")), "calendar.hours[0].from" },
    { CAL(P("mon", "24:00", "17:00")), "calendar.hours[0].from" },
    { CAL(P("mon", "09:60", "17:00")), "calendar.hours[0].from" },
    { CAL("{\"day\":\"mon\",\"from\":900,\"to\":\"17:00\"}"), "calendar.hours[0].from" },
    { CAL(P("mon", "09:00", "00:00")), "calendar.hours[0].to" },
    { CAL(P("mon", "09:00", "24:01")), "calendar.hours[0].to" },
    { CAL(P("mon", "09:00", "25:00")), "calendar.hours[0].to" },
    { CAL(P("mon", "09:00", "17:00 ")), "calendar.hours[0].to" },
    { CAL(P("mon", "09:00", "09:00")), "calendar.hours[0].to" },
    { CAL(P("xx", "a", "b")),
      "calendar.hours[0].day,calendar.hours[0].from,calendar.hours[0].to" },
    /* Overlaps: the period that starts inside another is named. */
    { CAL(MON9 "," P("mon", "12:00", "13:00")), "calendar.hours[1]" },
    { CAL(P("mon", "12:00", "13:00") "," MON9), "calendar.hours[0]" },
    { CAL(MON9 "," MON9), "calendar.hours[1]" },
    { CAL(P("mon", "22:00", "06:00") "," P("tue", "05:00", "09:00")), "calendar.hours[1]" },
    { CAL(P("mon", "05:00", "09:00") "," P("sun", "22:00", "06:00")), "calendar.hours[0]" },
    { CAL(P("mon", "00:00", "08:00") "," P("mon", "01:00", "02:00") ","
          P("sun", "22:00", "06:00")), "calendar.hours[1],calendar.hours[0]" },
    /* Touching is not overlapping. */
    { CAL(P("mon", "09:00", "12:00") "," P("mon", "12:00", "17:00")), "" },
    { CAL(P("sun", "22:00", "06:00") "," P("mon", "06:00", "09:00")), "" },
    { CAL(P("mon", "00:00", "24:00") "," P("tue", "00:00", "24:00")), "" },
    /* Holidays. */
    { "{\"timezone\":\"UTC\",\"hours\":[" MON9 "],\"holidays\":[\"2026-12-25\",\"2028-02-29\"]}",
      "" },
    { "{\"timezone\":\"UTC\",\"hours\":[" MON9 "],\"holidays\":[\"2026-02-29\"]}",
      "calendar.holidays[0]" },
    { "{\"timezone\":\"UTC\",\"hours\":[" MON9 "],\"holidays\":[\"2026-12-25\",\"2026-1-5\"]}",
      "calendar.holidays[1]" },
    { "{\"timezone\":\"UTC\",\"hours\":[" MON9 "],\"holidays\":[\"2026-12-25T00:00:00Z\"]}",
      "calendar.holidays[0]" },
    { "{\"timezone\":\"UTC\",\"hours\":[" MON9 "],\"holidays\":[20261225]}",
      "calendar.holidays[0]" },
    { "{\"timezone\":\"UTC\",\"hours\":[" MON9 "],\"holidays\":\"2026-12-25\"}",
      "calendar.holidays" },
    /* Every problem at once. */
    { "{\"timezone\":\"\",\"hours\":[" P("mon", "09:00", "09:00") "],\"holidays\":[\"x\"]}",
      "calendar.timezone,calendar.hours[0].to,calendar.holidays[0]" },
};

START_TEST(a_calendar_is_refused_for_each_bad_field)
{
    cc_sla_calendar_t *cal = NULL;
    cc_error_t *err = cc_sla_calendar_parse(cc_test_pool, cc_test_json(parse_cases[_i].body),
                                            &cal);

    cc_test_assert_refused(err, &parse_cases[_i]);
    ck_assert(err || cal);
}
END_TEST

START_TEST(periods_and_holidays_are_bounded)
{
    static const char *const days[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
    json_t *cal = cc_test_json("{\"timezone\":\"UTC\",\"hours\":[],\"holidays\":[]}");
    json_t *hours = json_object_get(cal, "hours"), *hol = json_object_get(cal, "holidays");
    cc_sla_calendar_t *c;
    int i;

    /* 70 periods: ten of 10 minutes a day. */
    for (i = 0; i < CC_SLA_PERIODS_MAX; i++) {
        json_t *pe = json_object();

        json_object_set_new(pe, "day", json_string(days[i % 7]));
        json_object_set_new(pe, "from",
                            json_string(apr_psprintf(cc_test_pool, "%02d:00", i / 7)));
        json_object_set_new(pe, "to",
                            json_string(apr_psprintf(cc_test_pool, "%02d:10", i / 7)));
        json_array_append_new(hours, pe);
    }
    /* 400 holidays, one of them twice (merged). */
    for (i = 0; i < CC_SLA_HOLIDAYS_MAX; i++) {
        const char *day = cc_epoch_to_sql(cc_test_pool, T("2026-01-01T00:00:00Z") +
                                                            (i == 7 ? 6 : i) * 86400);

        json_array_append_new(hol, json_string(apr_pstrndup(cc_test_pool, day, 10)));
    }
    ck_assert_ptr_null(cc_sla_calendar_parse(cc_test_pool, cal, &c));
    ck_assert_int_eq(c->nperiods, CC_SLA_PERIODS_MAX);
    ck_assert_int_eq(c->nholidays, CC_SLA_HOLIDAYS_MAX - 1);
    /* One more of each. */
    json_array_append_new(hours, json_deep_copy(json_array_get(hours, 0)));
    json_array_append_new(hol, json_string("2030-01-01"));
    ck_assert_str_eq(cc_test_fields(cc_sla_calendar_parse(cc_test_pool, cal, &c)),
                     "calendar.hours,calendar.holidays");
}
END_TEST

START_TEST(the_canonical_form_reads_back_the_same)
{
    const char *in =
        "{\"timezone\":\"America/New_York\",\"holidays\":[\"2026-12-25\",\"2026-01-01\","
        "\"2026-12-25\"],\"hours\":["
        P("sun", "22:00", "06:00") "," P("mon", "13:00", "24:00") ","
        P("mon", "08:00", "12:00") "," P("sat", "00:00", "24:00") "]}";
    const char *want =
        "{\"holidays\":[\"2026-01-01\",\"2026-12-25\"],\"hours\":["
        "{\"day\":\"mon\",\"from\":\"08:00\",\"to\":\"12:00\"},"
        "{\"day\":\"mon\",\"from\":\"13:00\",\"to\":\"24:00\"},"
        "{\"day\":\"sat\",\"from\":\"00:00\",\"to\":\"24:00\"},"
        "{\"day\":\"sun\",\"from\":\"22:00\",\"to\":\"06:00\"}],"
        "\"timezone\":\"America/New_York\"}";
    const cc_sla_calendar_t *cal = calendar(in), *again;
    json_t *j = cc_json_own(cc_test_pool, cc_sla_calendar_json(cal));

    ck_assert_str_eq(cc_test_dump(j), want);
    ck_assert_int_eq(cal->periods[1].to, 1440);
    /* Keys in the documented order: timezone, hours, holidays. */
    ck_assert_str_eq(json_object_iter_key(json_object_iter(j)), "timezone");
    again = calendar(cc_json_dump(cc_test_pool, j));
    ck_assert_str_eq(cc_test_dump(cc_json_own(cc_test_pool, cc_sla_calendar_json(again))),
                     want);
    /* No holidays: an empty list. */
    j = cc_json_own(cc_test_pool, cc_sla_calendar_json(calendar(CAL(MON9))));
    ck_assert_str_eq(cc_test_dump(json_object_get(j, "holidays")), "[]");
}
END_TEST

/* ---- business time ---- */

START_TEST(without_a_calendar_the_clock_runs_all_the_time)
{
    apr_int64_t t0 = T("2026-06-06T12:00:00+02:00"), due, secs;

    ck_assert(cc_sla_add(cc_test_pool, NULL, NULL, t0, 7200 * 60, &due));
    ck_assert(due == t0 + 7200 * 60);
    ck_assert(cc_sla_add(cc_test_pool, NULL, NULL, t0, 0, &due) && due == t0);
    ck_assert(cc_sla_between(cc_test_pool, NULL, NULL, t0, t0 + 12345, &secs));
    ck_assert(secs == 12345);
    ck_assert(cc_sla_between(cc_test_pool, NULL, NULL, t0, t0 - 5, &secs) && secs == 0);
    ck_assert(!cc_sla_add(cc_test_pool, NULL, NULL, t0, -1, &due));
    ck_assert(!cc_sla_add(cc_test_pool, NULL, NULL, t0,
                          (apr_int64_t)CC_SLA_HORIZON_DAYS * 86400 + 1, &due));
    ck_assert(!cc_sla_add(cc_test_pool, NULL, NULL, APR_INT64_MAX - 10, 60, &due));
}
END_TEST

/* A due time: start + minutes of business time on a calendar in its zone. */
typedef struct due_case_t {
    const char *cal;
    const char *zone;
    const char *start;
    apr_int64_t minutes;
    const char *due;
} due_case_t;

#define OVERNIGHT                                                                      \
    "{\"timezone\":\"Europe/Berlin\",\"hours\":["                                      \
    P("mon", "22:00", "06:00") "," P("tue", "22:00", "06:00") ","                      \
    P("wed", "22:00", "06:00") "," P("thu", "22:00", "06:00") ","                      \
    P("fri", "22:00", "06:00") "," P("sat", "22:00", "06:00") ","                      \
    P("sun", "22:00", "06:00") "],\"holidays\":[\"2026-06-03\"]}"
#define SPLIT_DAY                                                                      \
    CAL(P("mon", "08:00", "12:00") "," P("mon", "13:00", "17:00") ","                  \
        P("tue", "08:00", "12:00") "," P("tue", "13:00", "17:00"))
#define TO_MIDNIGHT CAL(P("mon", "18:00", "24:00") "," P("tue", "00:00", "02:00"))

static const due_case_t due_cases[] = {
    /* Mon-Fri 09:00-17:00, Wednesday 2026-06-03 a holiday. */
    { MON_FRI_9_17, "Europe/Berlin", "2026-06-02T10:00:00+02:00", 60,
      "2026-06-02T11:00:00+02:00" },                          /* inside */
    { MON_FRI_9_17, "Europe/Berlin", "2026-06-02T07:00:00+02:00", 60,
      "2026-06-02T10:00:00+02:00" },                          /* before hours */
    { MON_FRI_9_17, "Europe/Berlin", "2026-06-01T18:00:00+02:00", 60,
      "2026-06-02T10:00:00+02:00" },                          /* after hours */
    { MON_FRI_9_17, "Europe/Berlin", "2026-06-06T12:00:00+02:00", 60,
      "2026-06-08T10:00:00+02:00" },                          /* Saturday */
    { MON_FRI_9_17, "Europe/Berlin", "2026-06-05T16:30:00+02:00", 60,
      "2026-06-08T09:30:00+02:00" },                          /* over the weekend */
    { MON_FRI_9_17, "Europe/Berlin", "2026-06-02T16:00:00+02:00", 120,
      "2026-06-04T10:00:00+02:00" },                          /* over the holiday */
    { MON_FRI_9_17, "Europe/Berlin", "2026-06-03T10:00:00+02:00", 60,
      "2026-06-04T10:00:00+02:00" },                          /* on the holiday */
    { MON_FRI_9_17, "Europe/Berlin", "2026-06-02T09:00:00+02:00", 480,
      "2026-06-02T17:00:00+02:00" },                          /* the end, not Thursday */
    { MON_FRI_9_17, "Europe/Berlin", "2026-06-02T16:00:00+02:00", 60,
      "2026-06-02T17:00:00+02:00" },
    { MON_FRI_9_17, "Europe/Berlin", "2026-06-02T17:00:00+02:00", 60,
      "2026-06-04T10:00:00+02:00" },                          /* at an end: the next */
    { MON_FRI_9_17, "Europe/Berlin", "2026-06-01T09:00:00+02:00", 7200,
      "2026-06-22T17:00:00+02:00" },                          /* 5 days of minutes */
    { MON_FRI_9_17, "Europe/Berlin", "2026-06-02T12:00:00+02:00", 0,
      "2026-06-02T12:00:00+02:00" },
    { MON_FRI_9_17, "Europe/Berlin", "2026-06-06T12:00:00+02:00", 0,
      "2026-06-06T12:00:00+02:00" },                          /* 0: start, even off hours */
    /* Two periods a day. */
    { SPLIT_DAY, "Europe/Berlin", "2026-06-01T11:30:00+02:00", 60,
      "2026-06-01T13:30:00+02:00" },
    { SPLIT_DAY, "Europe/Berlin", "2026-06-01T11:00:00+02:00", 60,
      "2026-06-01T12:00:00+02:00" },
    { SPLIT_DAY, "Europe/Berlin", "2026-06-01T12:30:00+02:00", 30,
      "2026-06-01T13:30:00+02:00" },
    { SPLIT_DAY, "Europe/Berlin", "2026-06-01T16:00:00+02:00", 540,
      "2026-06-02T17:00:00+02:00" },                          /* Tuesday's end */
    { SPLIT_DAY, "Europe/Berlin", "2026-06-01T16:00:00+02:00", 541,
      "2026-06-08T08:01:00+02:00" },                          /* next Monday */
    /* 22:00-06:00 every night; the night that starts on the holiday is off, the one
     * that ends on it runs. */
    { OVERNIGHT, "Europe/Berlin", "2026-06-03T05:00:00+02:00", 120,
      "2026-06-04T23:00:00+02:00" },
    { OVERNIGHT, "Europe/Berlin", "2026-06-01T23:00:00+02:00", 420,
      "2026-06-02T06:00:00+02:00" },
    { OVERNIGHT, "Europe/Berlin", "2026-06-01T12:00:00+02:00", 600,
      "2026-06-03T00:00:00+02:00" },
    /* "24:00": Monday's evening runs on into Tuesday's period from 00:00. */
    { TO_MIDNIGHT, "Europe/Berlin", "2026-06-01T23:00:00+02:00", 120,
      "2026-06-02T01:00:00+02:00" },
    /* DST, Europe/Berlin: 2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00. */
    { CAL(P("sun", "00:00", "06:00")), "Europe/Berlin", "2026-03-28T12:00:00+01:00", 300,
      "2026-03-29T06:00:00+02:00" },                          /* a 5-hour night */
    { CAL(P("sun", "00:00", "06:00")), "Europe/Berlin", "2026-03-28T12:00:00+01:00", 150,
      "2026-03-29T03:30:00+02:00" },
    { CAL(P("sun", "02:30", "04:00")), "Europe/Berlin", "2026-03-28T12:00:00+01:00", 30,
      "2026-03-29T03:30:00+02:00" },                          /* starts in the gap */
    { CAL(P("sat", "22:00", "06:00")), "Europe/Berlin", "2026-03-28T12:00:00+01:00", 420,
      "2026-03-29T06:00:00+02:00" },
    { CAL(P("sun", "00:00", "06:00")), "Europe/Berlin", "2026-10-24T12:00:00+02:00", 420,
      "2026-10-25T06:00:00+01:00" },                          /* a 7-hour night */
    { CAL(P("sun", "00:00", "06:00")), "Europe/Berlin", "2026-10-24T12:00:00+02:00", 210,
      "2026-10-25T02:30:00+01:00" },                          /* the second 02:30 */
    { CAL(P("sun", "02:30", "04:00")), "Europe/Berlin", "2026-10-24T12:00:00+02:00", 150,
      "2026-10-25T04:00:00+01:00" },                          /* from the first 02:30 */
    { CAL(P("sat", "22:00", "06:00")), "Europe/Berlin", "2026-10-24T12:00:00+02:00", 270,
      "2026-10-25T02:30:00+02:00" },
    /* DST, America/New_York: 2026-03-08 02:00 -> 03:00, 2026-11-01 02:00 -> 01:00. */
    { CAL(P("sun", "00:00", "06:00")), "America/New_York", "2026-03-07T12:00:00-05:00", 300,
      "2026-03-08T06:00:00-04:00" },
    { CAL(P("sun", "02:15", "03:30")), "America/New_York", "2026-03-07T12:00:00-05:00", 30,
      "2026-03-08T03:30:00-04:00" },
    { CAL(P("sun", "00:00", "06:00")), "America/New_York", "2026-10-31T12:00:00-04:00", 420,
      "2026-11-01T06:00:00-05:00" },
    { CAL(P("sun", "01:30", "03:00")), "America/New_York", "2026-10-31T12:00:00-04:00", 75,
      "2026-11-01T01:45:00-05:00" },
};

START_TEST(a_due_time_counts_business_time_only)
{
    const due_case_t *c = &due_cases[_i];
    const cc_sla_calendar_t *cal = calendar(c->cal);
    const cc_tzinfo_t *tz = zone(c->zone);
    apr_int64_t start = T(c->start), due = 0, secs = -1;

    ck_assert_msg(cc_sla_add(cc_test_pool, cal, tz, start, c->minutes * 60, &due),
                  "case %d: no due time", _i);
    ck_assert_msg(due == T(c->due), "case %d: due %s UTC, not %s", _i, text(due), c->due);
    ck_assert(cc_sla_between(cc_test_pool, cal, tz, start, due, &secs));
    ck_assert_msg(secs == c->minutes * 60, "case %d: between %lld", _i, (long long)secs);
}
END_TEST

/* A period's business time is its real length, across a DST change. */
typedef struct length_case_t {
    const char *cal;
    const char *zone;
    const char *a, *b;
    apr_int64_t minutes;
} length_case_t;

/* Zone, Saturday noon and Monday noon around each change. */
#define BERLIN_SPRING \
    "Europe/Berlin", "2026-03-28T12:00:00+01:00", "2026-03-30T12:00:00+02:00"
#define BERLIN_FALL \
    "Europe/Berlin", "2026-10-24T12:00:00+02:00", "2026-10-26T12:00:00+01:00"
#define NEW_YORK_SPRING \
    "America/New_York", "2026-03-07T12:00:00-05:00", "2026-03-09T12:00:00-04:00"
#define NEW_YORK_FALL \
    "America/New_York", "2026-10-31T12:00:00-04:00", "2026-11-02T12:00:00-05:00"

static const length_case_t length_cases[] = {
    { CAL(P("sun", "00:00", "06:00")), BERLIN_SPRING, 300 },
    { CAL(P("sun", "02:30", "04:00")), BERLIN_SPRING, 60 },
    { CAL(P("sat", "22:00", "06:00")), BERLIN_SPRING, 420 },
    { CAL(P("sun", "00:00", "06:00")), BERLIN_FALL, 420 },
    { CAL(P("sun", "02:30", "04:00")), BERLIN_FALL, 150 },
    { CAL(P("sat", "22:00", "06:00")), BERLIN_FALL, 540 },
    { CAL(P("sun", "00:00", "06:00")), NEW_YORK_SPRING, 300 },
    { CAL(P("sun", "02:15", "03:30")), NEW_YORK_SPRING, 30 },
    { CAL(P("sun", "00:00", "06:00")), NEW_YORK_FALL, 420 },
    { CAL(P("sun", "01:30", "03:00")), NEW_YORK_FALL, 150 },
    /* Inside periods, partly. */
    { MON_FRI_9_17, "Europe/Berlin", "2026-06-02T16:30:00+02:00",
      "2026-06-04T09:15:00+02:00", 45 },
    { MON_FRI_9_17, "Europe/Berlin", "2026-06-01T00:00:00+02:00",
      "2026-06-08T00:00:00+02:00", 4 * 480 },
    { OVERNIGHT, "Europe/Berlin", "2026-06-02T05:00:00+02:00",
      "2026-06-04T23:00:00+02:00", 60 + 8 * 60 + 60 },
};

START_TEST(time_between_is_business_time_in_the_window)
{
    const length_case_t *c = &length_cases[_i];
    apr_int64_t secs = -1;

    ck_assert(cc_sla_between(cc_test_pool, calendar(c->cal), zone(c->zone), T(c->a), T(c->b),
                             &secs));
    ck_assert_msg(secs == c->minutes * 60, "case %d: %lld s", _i, (long long)secs);
}
END_TEST

START_TEST(between_measures_what_add_adds)
{
    static const char *const cals[] = { MON_FRI_9_17, OVERNIGHT, SPLIT_DAY, TO_MIDNIGHT,
                                        CAL(P("sun", "00:00", "06:00")) };
    static const char *const starts[] = {
        "2026-03-27T16:59:59+01:00", "2026-03-29T01:30:00+01:00", "2026-06-03T05:00:00+02:00",
        "2026-06-06T23:59:00+02:00", "2026-10-25T02:30:00+01:00", "2026-12-24T12:00:00+01:00",
    };
    static const apr_int64_t secs[] = { 1, 59, 60, 3600, 8 * 3600 + 17, 86400,
                                        7200 * 60, 30 * 86400 };
    const cc_tzinfo_t *tz = zone("Europe/Berlin");
    size_t c, s, k;

    for (c = 0; c < sizeof(cals) / sizeof(cals[0]); c++) {
        const cc_sla_calendar_t *cal = calendar(cals[c]);

        for (s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
            apr_int64_t start = T(starts[s]), prev = start;

            for (k = 0; k < sizeof(secs) / sizeof(secs[0]); k++) {
                apr_int64_t due, got;

                ck_assert(cc_sla_add(cc_test_pool, cal, tz, start, secs[k], &due));
                ck_assert(cc_sla_between(cc_test_pool, cal, tz, start, due, &got));
                ck_assert_msg(got == secs[k], "calendar %zu, start %s, %lld s: %lld s", c,
                              starts[s], (long long)secs[k], (long long)got);
                ck_assert(due > prev);
                prev = due;
            }
        }
    }
}
END_TEST

START_TEST(the_walk_stops_at_the_horizon)
{
    /* One minute a week from Sunday 2026-01-04: the 523rd is due 3657 days and a minute
     * after start, within the horizon; the 524th 3664 days after, past it. */
    const cc_sla_calendar_t *cal =
        calendar("{\"timezone\":\"UTC\",\"hours\":[" P("sun", "00:00", "00:01") "]}");
    apr_int64_t start = T("2026-01-01T00:00:00Z"), due, secs;

    ck_assert_int_eq(CC_SLA_HORIZON_DAYS, 3660);
    ck_assert(cc_sla_add(cc_test_pool, cal, NULL, start, 523 * 60, &due));
    ck_assert(due == start + 3657 * 86400 + 60);
    ck_assert(cc_sla_between(cc_test_pool, cal, NULL, start, due, &secs) && secs == 523 * 60);
    ck_assert(!cc_sla_add(cc_test_pool, cal, NULL, start, 524 * 60, &due));
    /* The window of between too. */
    ck_assert(!cc_sla_between(cc_test_pool, cal, NULL, start,
                              start + (apr_int64_t)(CC_SLA_HORIZON_DAYS + 1) * 86400, &secs));
}
END_TEST

START_TEST(a_zone_is_needed_where_the_walk_goes)
{
    /* Debian's zone files list transitions up to 2037, DST rules after that. */
    const cc_sla_calendar_t *cal = calendar(MON_FRI_9_17);
    const cc_tzinfo_t *tz = zone("Europe/Berlin");
    apr_int64_t due, secs;

    ck_assert(!cc_sla_add(cc_test_pool, cal, tz, T("2040-01-02T12:00:00Z"), 3600, &due));
    ck_assert(!cc_sla_between(cc_test_pool, cal, tz, T("2040-01-02T12:00:00Z"),
                              T("2040-01-03T12:00:00Z"), &secs));
    ck_assert(cc_sla_add(cc_test_pool, cal, tz, T("2036-01-02T12:00:00Z"), 3600, &due));
    /* From a covered start into the uncovered (the last transition: 2037-10-25). */
    ck_assert(cc_sla_add(cc_test_pool, cal, tz, T("2037-10-19T12:00:00Z"), 3600, &due));
    ck_assert(!cc_sla_add(cc_test_pool, cal, tz, T("2037-10-19T12:00:00Z"), 7200 * 60, &due));
    ck_assert(!cc_sla_between(cc_test_pool, cal, tz, T("2037-10-19T12:00:00Z"),
                              T("2037-11-19T12:00:00Z"), &secs));
    /* The zone: UTC without one. */
    ck_assert(cc_sla_add(cc_test_pool, cal, NULL, T("2026-06-02T10:00:00Z"), 3600, &due));
    ck_assert_msg(due == T("2026-06-02T11:00:00Z"), "due %s", text(due));
}
END_TEST

CC_TEST_SUITE("cc_sla_rules",
    CC_TCASE("calendar"),
        CC_LOOP_TEST(a_calendar_is_refused_for_each_bad_field, N(parse_cases)),
        CC_TEST(periods_and_holidays_are_bounded),
        CC_TEST(the_canonical_form_reads_back_the_same),
    CC_TCASE("business time"),
        CC_TEST(without_a_calendar_the_clock_runs_all_the_time),
        CC_LOOP_TEST(a_due_time_counts_business_time_only, N(due_cases)),
        CC_LOOP_TEST(time_between_is_business_time_in_the_window, N(length_cases)),
        CC_TEST(between_measures_what_add_adds),
        CC_TEST(the_walk_stops_at_the_horizon),
        CC_TEST(a_zone_is_needed_where_the_walk_goes))
