/**
 * @file cc_queue_stats_rules.h
 * @brief (core) The pure part of GET /api/v1/queues/{id}/stats: the query parameters
 *        (window and short-abandon threshold) and the answer computed from the sums the
 *        statement returns.  No httpd and no database: unit-tested
 *        (t/unit/test_cc_queue_stats_rules.c); mod_callcenter/cc_queue_stats.c is its glue.
 */
#ifndef CC_QUEUE_STATS_RULES_H
#define CC_QUEUE_STATS_RULES_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "cc_error.h"

#define CC_QSTATS_FROM           "from"
#define CC_QSTATS_TO             "to"
#define CC_QSTATS_SHORT          "short_abandon"

/** short_abandon: seconds, default and bounds (0 turns short abandons off). */
#define CC_QSTATS_SHORT_DEFAULT  5
#define CC_QSTATS_SHORT_MAX      600
/** The window: 24 hours before `to` when from is absent; at most 366 days. */
#define CC_QSTATS_DEFAULT_SPAN   (24 * 3600)
#define CC_QSTATS_MAX_DAYS       366

/** The checked query: the window as UTC SQL DATETIME text, from inclusive, to exclusive. */
typedef struct qstats_query_t {
    const char *from;
    const char *to;
    const char *short_abandon;   /**< canonical decimal seconds */
} qstats_query_t;

/**
 * Read ?from, ?to and ?short_abandon (args may be NULL) with now (seconds since the
 * epoch) for the defaults: to = now, from = to - 24 h.  A 400 naming every parameter
 * that does not fit: a time that is not RFC 3339, short_abandon outside 0..600, from not
 * before to, a window over 366 days (the last two on from).
 */
cc_error_t *cc_qstats_query_read(apr_pool_t *p, apr_table_t *args, apr_int64_t now,
                                 qstats_query_t *q);

/**
 * A time parameter of a statistics window (also GET /cdrs/stats'): *pgiven 1 and *psecs
 * set when present and RFC 3339; err with a detail on name added when it does not parse
 * (err returned as it is when absent).
 */
cc_error_t *cc_qstats_read_time(apr_pool_t *p, cc_error_t *err, apr_table_t *args,
                                const char *name, int *pgiven, apr_int64_t *psecs);

/**
 * A statistics window's bounds (also GET /cdrs/stats'): *pfrom defaults to a day before
 * to when from was not given; from must be before to and at most CC_QSTATS_MAX_DAYS
 * before it, else a 400 with a detail on from.
 */
cc_error_t *cc_qstats_window(apr_pool_t *p, int from_given, apr_int64_t to,
                             apr_int64_t *pfrom);

/*
 * queue_log as app_queue writes it, shared by queue statistics and the wallboard (see
 * cc_queue_stats.c): the rows of table alias t that end a call's wait in the queue, and
 * an outcome row's wait in whole seconds ('' or a negative value: 0) of alias l.
 */
#define CC_QL_OUTCOME(t) t ".event IN ('CONNECT', 'ABANDON', 'EXITWITHTIMEOUT',"          \
    " 'EXITEMPTY', 'EXITWITHKEY', 'WITHDRAW')"
/* The outcome rows of alias l that leave the queue unanswered without an abandon. */
#define CC_QL_LEFT "l.event IN ('EXITWITHTIMEOUT', 'EXITEMPTY', 'EXITWITHKEY', 'WITHDRAW')"
#define CC_QL_SECONDS(x) "GREATEST(CAST(" x " AS SIGNED), 0)"
#define CC_QL_WAIT CC_QL_SECONDS("CASE l.event WHEN 'CONNECT' THEN l.data1"              \
                                 " WHEN 'EXITWITHKEY' THEN l.data4 ELSE l.data3 END")

/** The sums the statement selects, in this order (cc_queue_stats.c, QSTATS_SELECT). */
enum {
    QSTATS_ANSWERED, QSTATS_ABANDONED, QSTATS_SHORT_ABANDONED, QSTATS_LEFT,
    QSTATS_WITHIN_SL, QSTATS_WAIT_SUM, QSTATS_WAIT_MAX, QSTATS_TALK_SUM, QSTATS_TALK_CALLS,
    QSTATS_NSUMS
};

/**
 * The answer's JSON text from the row of sums (NULL columns read as 0): offered =
 * answered + abandoned + left, the rates over offered (0 when none), avg_wait over
 * offered, avg_talk over the talk rows.  NULL when a column is not a non-negative
 * integer (the statement's bug).
 */
const char *cc_qstats_json(apr_pool_t *p, const char *const *row);

/** num / den as a JSON number with at most 6 decimals, trailing zeros dropped ("0" when
 * den is 0). */
const char *cc_qstats_ratio(apr_pool_t *p, apr_int64_t num, apr_int64_t den);

#endif
