/*
 * cc_queue_stats_rules.c: the pure part of GET /api/v1/queues/{id}/stats (see
 * cc_queue_stats_rules.h; the counting rules are in cc_queue_stats.c's file comment).
 */
#include <string.h>

#include <apr_strings.h>

#include "cc_queue_stats_rules.h"
#include "cc_validate.h"

cc_error_t *cc_qstats_read_time(apr_pool_t *p, cc_error_t *err, apr_table_t *args,
                                const char *name, int *pgiven, apr_int64_t *psecs)
{
    const char *v = args ? apr_table_get(args, name) : NULL;

    *pgiven = 0;
    if (!v) {
        return err;
    }
    if (!cc_parse_rfc3339_epoch(v, psecs)) {
        return cc_error_collect(p, err, name,
                                "must be an RFC 3339 time, e.g. 2026-11-24T06:00:00Z");
    }
    *pgiven = 1;
    return err;
}

cc_error_t *cc_qstats_window(apr_pool_t *p, int from_given, apr_int64_t to,
                             apr_int64_t *pfrom)
{
    if (!from_given) {
        *pfrom = to - CC_QSTATS_DEFAULT_SPAN;
    }
    if (*pfrom >= to) {
        return cc_error_collect(p, NULL, CC_QSTATS_FROM, "must be before to");
    }
    if (to - *pfrom > (apr_int64_t)CC_QSTATS_MAX_DAYS * 86400) {
        return cc_error_collect(p, NULL, CC_QSTATS_FROM,
                                apr_psprintf(p, "must be at most %d days before to",
                                             CC_QSTATS_MAX_DAYS));
    }
    return NULL;
}

cc_error_t *cc_qstats_query_read(apr_pool_t *p, apr_table_t *args, apr_int64_t now,
                                 qstats_query_t *q)
{
    const char *s = args ? apr_table_get(args, CC_QSTATS_SHORT) : NULL;
    apr_int64_t from = 0, to = now, short_abandon = CC_QSTATS_SHORT_DEFAULT;
    int from_given, to_given;
    cc_error_t *err = NULL;

    err = cc_qstats_read_time(p, err, args, CC_QSTATS_FROM, &from_given, &from);
    err = cc_qstats_read_time(p, err, args, CC_QSTATS_TO, &to_given, &to);
    if (s && !cc_parse_int(s, 0, CC_QSTATS_SHORT_MAX, &short_abandon)) {
        err = cc_error_collect(p, err, CC_QSTATS_SHORT,
                               apr_psprintf(p, "must be a whole number of seconds from 0"
                                            " to %d", CC_QSTATS_SHORT_MAX));
    }
    if (err || (err = cc_qstats_window(p, from_given, to, &from))) {
        return err;
    }
    q->from = cc_epoch_to_sql(p, from);
    q->to = cc_epoch_to_sql(p, to);
    if (!q->from || !q->to) {
        /* Only a default can leave the years 1..9999 (a given time is inside them). */
        return cc_error_collect(p, NULL, q->from ? CC_QSTATS_TO : CC_QSTATS_FROM,
                                "out of range");
    }
    q->short_abandon = apr_psprintf(p, "%" APR_INT64_T_FMT, short_abandon);
    return NULL;
}

const char *cc_qstats_ratio(apr_pool_t *p, apr_int64_t num, apr_int64_t den)
{
    char *s, *e;

    if (den == 0) {
        return "0";
    }
    s = apr_psprintf(p, "%.6f", (double)num / (double)den);
    e = s + strlen(s) - 1;
    while (*e == '0') {
        *e-- = '\0';
    }
    if (*e == '.') {
        *e = '\0';
    }
    return s;
}

const char *cc_qstats_json(apr_pool_t *p, const char *const *row)
{
    apr_int64_t v[QSTATS_NSUMS], offered;
    int i;

    for (i = 0; i < QSTATS_NSUMS; i++) {
        /* SUM() over no rows is NULL; every sum is of whole seconds or 0/1 flags. */
        if (!row[i]) {
            v[i] = 0;
        }
        else if (!cc_parse_int(row[i], 0, APR_INT64_MAX, &v[i])) {
            return NULL;
        }
    }
    offered = v[QSTATS_ANSWERED] + v[QSTATS_ABANDONED] + v[QSTATS_LEFT];
    return apr_psprintf(p,
        "{\"offered\":%" APR_INT64_T_FMT ",\"answered\":%" APR_INT64_T_FMT
        ",\"abandoned\":%" APR_INT64_T_FMT ",\"short_abandoned\":%" APR_INT64_T_FMT
        ",\"abandon_rate\":%s,\"answered_within_sl\":%" APR_INT64_T_FMT
        ",\"service_level\":%s,\"avg_wait\":%s,\"max_wait\":%" APR_INT64_T_FMT
        ",\"avg_talk\":%s}",
        offered, v[QSTATS_ANSWERED], v[QSTATS_ABANDONED], v[QSTATS_SHORT_ABANDONED],
        cc_qstats_ratio(p, v[QSTATS_ABANDONED], offered), v[QSTATS_WITHIN_SL],
        cc_qstats_ratio(p, v[QSTATS_WITHIN_SL], offered),
        cc_qstats_ratio(p, v[QSTATS_WAIT_SUM], offered), v[QSTATS_WAIT_MAX],
        cc_qstats_ratio(p, v[QSTATS_TALK_SUM], v[QSTATS_TALK_CALLS]));
}
