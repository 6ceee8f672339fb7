/**
 * @file cc_sla_rules.h
 * @brief (core) SLA policies' business calendars (API.md "Helpdesk"): what a calendar
 *        may say, and business time on it, in its time zone (DST included).  No httpd
 *        and no database: unit-tested (t/unit/test_cc_sla_rules.c); cc_slas.c and
 *        cc_tickets.c are its glue.
 *
 * A calendar is {timezone, hours: [{day: mon..sun, from: "HH:MM", to: "HH:MM"}],
 * holidays: ["YYYY-MM-DD"]}.  A period is wall-clock time in the zone: it starts on its
 * day at `from` and ends at `to` the same day, or the next day when `to` <= `from` (an
 * overnight period; "24:00" is allowed as `to` only and means the next midnight).  A
 * holiday is a local date on which no period starts (an overnight period that started
 * the day before still runs to its end).  Business time is the real time (UTC seconds)
 * inside periods: a period across a DST change is as long as it really is (00:00-06:00
 * on a spring-forward night is 5 hours).  A wall-clock time a DST change skips maps to
 * the instant of the change; one it repeats maps to its first occurrence.
 */
#ifndef CC_SLA_RULES_H
#define CC_SLA_RULES_H

#include <apr_pools.h>
#include <jansson.h>
#include "cc_error.h"
#include "cc_cdr_stats_rules.h"   /* cc_tzinfo_t */

#define CC_SLA_PERIODS_MAX   70     /* periods in hours */
#define CC_SLA_HOLIDAYS_MAX  400
#define CC_SLA_MINUTES_MAX   525600 /* a policy's minutes: at most a year */
/* cc_sla_add gives up (returns 0) when the due time would be more than this many days
 * after start (a calendar with very little business time). */
#define CC_SLA_HORIZON_DAYS  3660

/** One period: day 0 = Monday .. 6 = Sunday; minutes from local midnight. */
typedef struct cc_sla_period_t {
    int day;
    int from;                /**< 0..1439 */
    int to;                  /**< 1..1440; <= from: ends the next day */
} cc_sla_period_t;

typedef struct cc_sla_calendar_t {
    const char *timezone;    /**< the zone's name (shape checked: cc_cdrstats_tz_name_ok) */
    int nperiods;
    cc_sla_period_t *periods;    /**< sorted by (day, from) */
    int nholidays;
    apr_int32_t *holidays;       /**< local dates as days since 1970-01-01, ascending, unique */
} cc_sla_calendar_t;

/**
 * Read a calendar object (the value of the body's "calendar"): NULL and *pcal, or a 400
 * with a detail per problem (cc_error_collect), fields named "calendar",
 * "calendar.timezone", "calendar.hours", "calendar.hours[2].from", "calendar.holidays[0]".
 * Refused: not an object, unknown keys, a missing timezone or hours, a timezone whose
 * name is malformed (whether the zone exists is the glue's to check, cc_tz_load), hours
 * empty or over CC_SLA_PERIODS_MAX, a day not mon..sun, a time not "HH:MM" (00:00..23:59
 * for from, 00:01..24:00 for to), from == to, two periods that overlap (an overnight
 * period included, against the next day's), a holiday not a real date YYYY-MM-DD,
 * holidays over CC_SLA_HOLIDAYS_MAX.  Duplicated holidays are merged; holidays may be
 * absent (none).  A period's own problems name its key ("calendar.hours[2].day", from
 * == to: ".to", an unknown key: ".<key>"; not an object: "calendar.hours[2]"); an
 * overlap names the period that starts inside another ("calendar.hours[2]", its issue
 * "overlaps calendar.hours[0]"), and is looked for only when every period is well formed.
 */
cc_error_t *cc_sla_calendar_parse(apr_pool_t *p, const json_t *cal, cc_sla_calendar_t **pcal);

/**
 * The canonical object of a calendar (new reference): timezone, hours sorted by day then
 * from (times "HH:MM", "24:00" for a period that ends at midnight), holidays ascending.
 * Parsing it again gives the same calendar.
 */
json_t *cc_sla_calendar_json(const cc_sla_calendar_t *cal);

/**
 * *pdue: the instant at which secs (>= 0) of business time have passed since start
 * (UTC seconds).  cal NULL: start + secs (24/7).  With a calendar, tz is its zone (NULL:
 * UTC); secs 0 gives start.  Returns 0 when the due time is more than
 * CC_SLA_HORIZON_DAYS after start (cal NULL: secs over that), secs is negative, start
 * is outside years 1..9999, or the zone's data does not cover the time walked (the
 * caller stores no due time).  The walk goes day by day over local dates, never further
 * than the horizon.
 */
int cc_sla_add(apr_pool_t *p, const cc_sla_calendar_t *cal, const cc_tzinfo_t *tz,
               apr_int64_t start, apr_int64_t secs, apr_int64_t *pdue);

/**
 * *psecs: the business time in [a, b) (0 when b <= a).  cal NULL: b - a.  Returns 0 when
 * a or b is outside years 1..9999, or, with a calendar, when the window is longer than
 * CC_SLA_HORIZON_DAYS (the walk's bound, as cc_sla_add's) or the zone's data does not
 * cover it.  between(start, due) is secs for cc_sla_add's due.
 */
int cc_sla_between(apr_pool_t *p, const cc_sla_calendar_t *cal, const cc_tzinfo_t *tz,
                   apr_int64_t a, apr_int64_t b, apr_int64_t *psecs);

#endif
