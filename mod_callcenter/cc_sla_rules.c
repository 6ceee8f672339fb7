/*
 * cc_sla_rules.c: SLA policies' business calendars (cc_sla_rules.h): what a calendar may
 * say, its canonical form, and business time walked day by day over the zone's local
 * dates (each period's ends turned into instants, so DST changes count as they really are).
 */
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "cc_sla_rules.h"
#include "cc_validate.h"

#define KEY_TIMEZONE  "timezone"
#define KEY_HOURS     "hours"
#define KEY_HOLIDAYS  "holidays"
#define KEY_DAY       "day"
#define KEY_FROM      "from"
#define KEY_TO        "to"

#define DAY_MINUTES   1440
#define WEEK_MINUTES  (7 * DAY_MINUTES)
#define DAY_SECS      APR_INT64_C(86400)
#define HORIZON_SECS  (CC_SLA_HORIZON_DAYS * DAY_SECS)
/* Instants worked on: years 1..9999 (as cc_parse_rfc3339_epoch), so no sum overflows. */
#define T_MIN         APR_INT64_C(-62135596800)
#define T_MAX         APR_INT64_C(253402300799)
/* Offsets lie within -25 h .. +26 h (cc_tzif_parse refuses others). */
#define OFFSET_MAX    (26 * 3600)

static const char *const day_names[] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun",
                                          NULL };

/* ---- the calendar ---- */

/* "HH:MM" as minutes after midnight ("24:00" is 1440); -1 when s is not one. */
static int read_hhmm(const char *s)
{
    int h, m;

    if (!s || strlen(s) != 5 || s[2] != ':' || !apr_isdigit(s[0]) || !apr_isdigit(s[1])
        || !apr_isdigit(s[3]) || !apr_isdigit(s[4])) {
        return -1;
    }
    h = (s[0] - '0') * 10 + (s[1] - '0');
    m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0)) {
        return -1;
    }
    return h * 60 + m;
}

/* A period's length in minutes: to the same day, or the next when to <= from. */
static int period_minutes(const cc_sla_period_t *pe)
{
    return pe->to > pe->from ? pe->to - pe->from : pe->to + DAY_MINUTES - pe->from;
}

/* The week minute a period starts at (Monday 00:00 is 0). */
static int week_start(const cc_sla_period_t *pe)
{
    return pe->day * DAY_MINUTES + pe->from;
}

/* A period and the index it had in the body (the detail names it). */
typedef struct read_period_t {
    cc_sla_period_t pe;
    int at;
} read_period_t;

static int by_start(const void *x, const void *y)
{
    int a = week_start(&((const read_period_t *)x)->pe);
    int b = week_start(&((const read_period_t *)y)->pe);

    return (a > b) - (a < b);
}

static int by_day(const void *x, const void *y)
{
    apr_int32_t a = *(const apr_int32_t *)x, b = *(const apr_int32_t *)y;

    return (a > b) - (a < b);
}

static const char *hours_field(apr_pool_t *p, int at, const char *key)
{
    return apr_psprintf(p, "calendar.hours[%d]%s%s", at, key ? "." : "", key ? key : "");
}

/* One element of hours into *rp; err with its problems. */
static cc_error_t *read_period(apr_pool_t *p, cc_error_t *err, json_t *v, int at,
                              read_period_t *rp)
{
    const char *key;
    json_t *kv;
    int i, day = -1;
    const char *d = json_string_value(json_object_get(v, KEY_DAY));
    int from = read_hhmm(json_string_value(json_object_get(v, KEY_FROM)));
    int to = read_hhmm(json_string_value(json_object_get(v, KEY_TO)));

    if (!json_is_object(v)) {
        return cc_error_collect(p, err, hours_field(p, at, NULL),
                                "must be an object {day, from, to}");
    }
    json_object_foreach(v, key, kv) {
        if (strcmp(key, KEY_DAY) && strcmp(key, KEY_FROM) && strcmp(key, KEY_TO)) {
            err = cc_error_collect(p, err, hours_field(p, at, key), "unknown field");
        }
    }
    for (i = 0; d && day_names[i]; i++) {
        if (!strcmp(d, day_names[i])) {
            day = i;
        }
    }
    if (day < 0) {
        err = cc_error_collect(p, err, hours_field(p, at, KEY_DAY),
                               "must be one of mon, tue, wed, thu, fri, sat, sun");
    }
    if (from < 0 || from >= DAY_MINUTES) {
        err = cc_error_collect(p, err, hours_field(p, at, KEY_FROM),
                               "must be a time HH:MM from 00:00 to 23:59");
    }
    if (to < 1) {
        err = cc_error_collect(p, err, hours_field(p, at, KEY_TO),
                               "must be a time HH:MM from 00:01 to 24:00");
    }
    else if (to == from) {
        err = cc_error_collect(p, err, hours_field(p, at, KEY_TO),
                               "must differ from from (a whole day is 00:00 to 24:00)");
    }
    rp->pe.day = day;
    rp->pe.from = from;
    rp->pe.to = to;
    rp->at = at;
    return err;
}

/* Period i (sorted) starts inside period other: one detail per period. */
static cc_error_t *overlap(apr_pool_t *p, cc_error_t *err, const read_period_t *rp,
                           char *flagged, int i, int other)
{
    if (flagged[i]) {
        return err;
    }
    flagged[i] = 1;
    return cc_error_collect(p, err, hours_field(p, rp[i].at, NULL),
                            apr_psprintf(p, "overlaps calendar.hours[%d]", rp[other].at));
}

/* The periods of hours, sorted by start, into c; each one that starts inside an earlier
 * one (or inside the week's last one running on into Monday) is refused. */
static cc_error_t *read_hours(apr_pool_t *p, cc_error_t *err, json_t *hours,
                              cc_sla_calendar_t *c)
{
    int n = (int)json_array_size(hours), i, last = -1, end = -1;
    read_period_t *rp = apr_palloc(p, (apr_size_t)n * sizeof(*rp));
    char *flagged = apr_pcalloc(p, (apr_size_t)n);
    int before = cc_error_detail_count(err);

    for (i = 0; i < n; i++) {
        err = read_period(p, err, json_array_get(hours, (size_t)i), i, &rp[i]);
    }
    if (cc_error_detail_count(err) > before) {
        return err;                  /* overlaps only between well-formed periods */
    }
    qsort(rp, (size_t)n, sizeof(*rp), by_start);
    for (i = 0; i < n; i++) {
        int s = week_start(&rp[i].pe), e = s + period_minutes(&rp[i].pe);

        if (s < end) {
            err = overlap(p, err, rp, flagged, i, last);
        }
        if (e > end) {
            end = e;
            last = i;
        }
    }
    /* The week's last period may run on into Monday (Sunday 22:00 to 06:00). */
    for (i = 0; i < last && week_start(&rp[i].pe) + WEEK_MINUTES < end; i++) {
        err = overlap(p, err, rp, flagged, i, last);
    }
    c->nperiods = n;
    c->periods = apr_palloc(p, (apr_size_t)n * sizeof(*c->periods));
    for (i = 0; i < n; i++) {
        c->periods[i] = rp[i].pe;
    }
    return err;
}

/* The holidays, ascending and unique, into c. */
static cc_error_t *read_holidays(apr_pool_t *p, cc_error_t *err, json_t *list,
                                 cc_sla_calendar_t *c)
{
    int n = (int)json_array_size(list), i, k = 0;
    apr_int32_t *days = apr_palloc(p, ((apr_size_t)n + 1) * sizeof(*days));

    for (i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(list, (size_t)i));
        apr_int64_t t;

        /* A date is the midnight of an RFC 3339 time: the same checks of a real date. */
        if (!s || strlen(s) != 10
            || !cc_parse_rfc3339_epoch(apr_pstrcat(p, s, "T00:00:00Z", NULL), &t)) {
            err = cc_error_collect(p, err, apr_psprintf(p, "calendar.holidays[%d]", i),
                                   "must be a date YYYY-MM-DD");
            continue;
        }
        days[k++] = (apr_int32_t)(t / DAY_SECS);
    }
    qsort(days, (size_t)k, sizeof(*days), by_day);
    c->nholidays = 0;
    c->holidays = days;
    for (i = 0; i < k; i++) {
        if (!c->nholidays || days[i] != days[c->nholidays - 1]) {
            days[c->nholidays++] = days[i];
        }
    }
    return err;
}

cc_error_t *cc_sla_calendar_parse(apr_pool_t *p, const json_t *cal, cc_sla_calendar_t **pcal)
{
    /* jansson's iteration takes a non-const object; nothing here changes it. */
    json_t *obj = (json_t *)cal, *v;
    cc_sla_calendar_t *c = apr_pcalloc(p, sizeof(*c));
    cc_error_t *err = NULL;
    const char *key;
    json_t *tz, *hours, *holidays;

    if (!json_is_object(obj)) {
        return cc_error_collect(p, NULL, "calendar",
                                "must be an object {timezone, hours, holidays}");
    }
    json_object_foreach(obj, key, v) {
        if (strcmp(key, KEY_TIMEZONE) && strcmp(key, KEY_HOURS) && strcmp(key, KEY_HOLIDAYS)) {
            err = cc_error_collect(p, err, apr_pstrcat(p, "calendar.", key, NULL),
                                   "unknown field");
        }
    }
    tz = json_object_get(obj, KEY_TIMEZONE);
    if (!tz) {
        err = cc_error_collect(p, err, "calendar.timezone", "is required");
    }
    else if (!cc_cdrstats_tz_name_ok(json_string_value(tz))) {
        err = cc_error_collect(p, err, "calendar.timezone",
                               "must be an IANA time zone, e.g. Europe/Berlin");
    }
    else {
        c->timezone = apr_pstrdup(p, json_string_value(tz));
    }
    hours = json_object_get(obj, KEY_HOURS);
    if (!hours) {
        err = cc_error_collect(p, err, "calendar.hours", "is required");
    }
    else if (!json_is_array(hours) || json_array_size(hours) < 1
             || json_array_size(hours) > CC_SLA_PERIODS_MAX) {
        err = cc_error_collect(p, err, "calendar.hours",
                               apr_psprintf(p, "must be an array of 1 to %d periods",
                                            CC_SLA_PERIODS_MAX));
    }
    else {
        err = read_hours(p, err, hours, c);
    }
    holidays = json_object_get(obj, KEY_HOLIDAYS);
    if (holidays && (!json_is_array(holidays)
                     || json_array_size(holidays) > CC_SLA_HOLIDAYS_MAX)) {
        err = cc_error_collect(p, err, "calendar.holidays",
                               apr_psprintf(p, "must be an array of at most %d dates",
                                            CC_SLA_HOLIDAYS_MAX));
    }
    else {
        err = read_holidays(p, err, holidays, c);
    }
    if (err) {
        return err;
    }
    *pcal = c;
    return NULL;
}

static json_t *hhmm_json(int minutes)
{
    char s[8];

    apr_snprintf(s, sizeof(s), "%02d:%02d", minutes / 60, minutes % 60);
    return json_string(s);
}

json_t *cc_sla_calendar_json(const cc_sla_calendar_t *cal)
{
    json_t *o = json_object(), *hours = json_array(), *holidays = json_array();
    int i;

    json_object_set_new(o, KEY_TIMEZONE, json_string(cal->timezone));
    for (i = 0; i < cal->nperiods; i++) {
        const cc_sla_period_t *pe = &cal->periods[i];
        json_t *h = json_object();

        json_object_set_new(h, KEY_DAY, json_string(day_names[pe->day]));
        json_object_set_new(h, KEY_FROM, hhmm_json(pe->from));
        json_object_set_new(h, KEY_TO, hhmm_json(pe->to));
        json_array_append_new(hours, h);
    }
    for (i = 0; i < cal->nholidays; i++) {
        apr_time_exp_t tm;
        char s[16];

        apr_time_exp_gmt(&tm, apr_time_from_sec((apr_int64_t)cal->holidays[i] * DAY_SECS));
        apr_snprintf(s, sizeof(s), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday);
        json_array_append_new(holidays, json_string(s));
    }
    json_object_set_new(o, KEY_HOURS, hours);
    json_object_set_new(o, KEY_HOLIDAYS, holidays);
    return o;
}

/* ---- business time ---- */

/*
 * The instant of local wall time w (seconds since 1970-01-01 read as if local were UTC):
 * the first instant whose local time is w; one a change skips is the change's instant.
 * The zone's segments (constant offset between transitions) are walked from the one in
 * force at w - 26 h, before any instant of w.  0 when the segment is past the zone's data.
 */
static int wall_to_utc(const cc_tzinfo_t *tz, apr_int64_t w, apr_int64_t *pt)
{
    apr_int64_t s = w - OFFSET_MAX;
    apr_int32_t o;
    int i;

    if (!tz) {
        *pt = w;
        return 1;
    }
    i = cc_tz_trans_upto(tz, s);
    o = i ? tz->off[i - 1] : tz->off0;
    for (;; i++) {
        /* Segment i runs from at[i - 1] to at[i]; a slim file's last one is not known. */
        int covered = !tz->rules_after || i < tz->ntrans;

        if (w < s + o) {
            /* Between the previous segment's last local time and this one's first. */
            *pt = s;
            return covered;
        }
        if (i == tz->ntrans || w < tz->at[i] + o) {
            *pt = w - o;
            return covered;
        }
        s = tz->at[i];
        o = tz->off[i];
    }
}

/* A walk over a calendar's periods, local day by local day: disjoint, and in time order
 * (a day's in from order; an overnight one ends before the next day's first starts). */
typedef struct walk_t {
    const cc_sla_calendar_t *cal;
    const cc_tzinfo_t *tz;
    int first[8];            /**< the periods of weekday w: [first[w], first[w + 1]) */
    int hol;                 /**< the first holiday not before the day walked */
    apr_int64_t day, last;   /**< the local day walked; the last one to walk */
    int i, n;                /**< its periods still to come: [i, n) */
} walk_t;

/* Start a walk at the local day of t, less one (a period of the day before may still
 * run at t), for that many days more.  0 when the zone does not cover t. */
static int walk_init(walk_t *wk, apr_pool_t *p, const cc_sla_calendar_t *cal,
                     const cc_tzinfo_t *tz, apr_int64_t t, apr_int64_t days)
{
    apr_int32_t off;
    apr_int64_t local;
    int i, w = 0;

    if (!cc_tz_offset_at(p, tz, t, &off)) {
        return 0;
    }
    local = t + off;
    wk->day = (local >= 0 ? local : local - (DAY_SECS - 1)) / DAY_SECS - 2;
    wk->last = wk->day + 2 + days;
    wk->i = wk->n = 0;
    wk->cal = cal;
    wk->tz = tz;
    wk->hol = 0;
    for (i = 0; i < cal->nperiods; i++) {
        while (w <= cal->periods[i].day) {
            wk->first[w++] = i;
        }
    }
    while (w < 8) {
        wk->first[w++] = cal->nperiods;
    }
    return 1;
}

/* The walk's next period [*ps, *pend): 1; 0 after its last day; -1 where the zone's data
 * ends. */
static int walk_next(walk_t *wk, apr_int64_t *ps, apr_int64_t *pend)
{
    const cc_sla_period_t *pe;
    apr_int64_t midnight;

    while (wk->i == wk->n) {
        const apr_int32_t *hol = wk->cal->holidays;
        int wd;

        if (++wk->day > wk->last) {
            return 0;
        }
        while (wk->hol < wk->cal->nholidays && hol[wk->hol] < wk->day) {
            wk->hol++;
        }
        if (wk->hol < wk->cal->nholidays && hol[wk->hol] == wk->day) {
            continue;                /* no period starts on a holiday */
        }
        wd = (int)(((wk->day + 3) % 7 + 7) % 7);        /* 1970-01-01 was a Thursday */
        wk->i = wk->first[wd];
        wk->n = wk->first[wd + 1];
    }
    pe = &wk->cal->periods[wk->i++];
    midnight = wk->day * DAY_SECS;
    if (!wall_to_utc(wk->tz, midnight + pe->from * 60, ps)
        || !wall_to_utc(wk->tz, midnight + (apr_int64_t)(pe->from + period_minutes(pe)) * 60,
                        pend)) {
        return -1;
    }
    return 1;
}

int cc_sla_add(apr_pool_t *p, const cc_sla_calendar_t *cal, const cc_tzinfo_t *tz,
               apr_int64_t start, apr_int64_t secs, apr_int64_t *pdue)
{
    apr_int64_t left = secs, s, e;
    walk_t wk;

    if (secs < 0 || secs > HORIZON_SECS || start < T_MIN || start > T_MAX) {
        return 0;
    }
    if (!cal || secs == 0) {
        *pdue = start + secs;
        return 1;
    }
    if (!walk_init(&wk, p, cal, tz, start, CC_SLA_HORIZON_DAYS + 1)) {
        return 0;
    }
    while (walk_next(&wk, &s, &e) > 0 && s - start <= HORIZON_SECS) {
        if (e <= start) {
            continue;
        }
        if (s < start) {
            s = start;
        }
        if (left <= e - s) {
            /* A due time that uses a period up is its end, not the next one's start. */
            if (s + left - start > HORIZON_SECS) {
                return 0;
            }
            *pdue = s + left;
            return 1;
        }
        left -= e - s;
    }
    return 0;
}

int cc_sla_between(apr_pool_t *p, const cc_sla_calendar_t *cal, const cc_tzinfo_t *tz,
                   apr_int64_t a, apr_int64_t b, apr_int64_t *psecs)
{
    apr_int64_t sum = 0, s, e;
    walk_t wk;
    int r;

    if (a < T_MIN || a > T_MAX || b < T_MIN || b > T_MAX) {
        return 0;
    }
    if (b <= a || !cal) {
        *psecs = b <= a ? 0 : b - a;
        return 1;
    }
    /* b's local day is at most a's + the window's days + 3 (offsets differ by < 51 h). */
    if (b - a > HORIZON_SECS || !walk_init(&wk, p, cal, tz, a, (b - a) / DAY_SECS + 4)) {
        return 0;
    }
    while ((r = walk_next(&wk, &s, &e)) > 0 && s < b) {
        if (e > a) {
            sum += (e < b ? e : b) - (s > a ? s : a);
        }
    }
    if (r < 0) {
        return 0;
    }
    *psecs = sum;
    return 1;
}
