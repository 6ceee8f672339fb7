/*
 * cc_wallboard.c: GET /api/v1/wallboard — every queue of the tenant now: callers
 * waiting, the longest wait, its agents by state, and today's figures (API.md
 * "Telephony", wallboard).  Two round trips whatever the number of queues, one per
 * source: queue_log (callers and today) and agent states (agents).
 *
 * Today runs from the tenant's local midnight (?tz=<IANA zone> as for /cdrs/stats,
 * default UTC) to now.  Its figures are queue statistics' (cc_queue_stats.c, the same
 * verbs and fields, short_abandon 5 s): offered = answered + abandoned + left unanswered
 * (short abandons aside), service_level = answered within the queue's service level /
 * offered.  As in the statistics, a queue's rows count from its created_at on (an
 * Asterisk name may have served a deleted queue before).
 *
 * The board is polled every few seconds by every client, so it never reads a day of
 * queue_log: the triggers of sql/015 keep per tenant, 15 minutes and queue the outcome
 * counts (queue_log_rollup) and the callers waiting now (queue_log_waiting), each row
 * already given to the queue it belongs to (its asterisk_name, from its created_at on).
 * Today is the buckets from midnight's to now's, read as an index range on (tenant,
 * bucket), so the answer costs the same at 08:00 and at 23:00; a row stamped later than
 * now in the current bucket (Asterisk's clock ahead of ours) counts as soon as it is
 * written.  Answered within the service level is taken from a bucket only when its
 * CONNECTs were all judged with the queue's current level (the row's sl); a bucket of
 * the day the level changed has its CONNECTs counted again from queue_log, found by
 * (queuename, cc_bucket).  A midnight that is not a bucket's start (no zone's offset
 * today, but the zone data could say so) has the rest of its first bucket read from
 * queue_log the same way.
 *
 * Waiting: the queue's callers with an ENTERQUEUE and no outcome row yet, whatever day
 * they entered (a caller waiting across midnight still waits), within the last day (an
 * entry whose outcome row Asterisk lost does not wait forever); a QUEUESTART row
 * (Asterisk started again) ends every earlier wait.  longest_wait is now minus the
 * earliest of their ENTERQUEUEs, in seconds (0 when none waits).
 *
 * Agents: the distinct users behind the queue's member endpoints (live users only;
 * an endpoint without a user is no agent), counted by their current state (none yet:
 * offline).
 */
#include <stdlib.h>
#include <string.h>

#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "cc_api_private.h"
#include "cc_agents_rules.h"
#include "cc_cdr_stats_rules.h"
#include "cc_json.h"
#include "cc_queue_stats_rules.h"
#include "cc_validate.h"

/* Short abandons: sql/015 counts an ABANDON below 5 s of wait apart (short_abandoned);
 * the partial bucket read from queue_log uses the same threshold. */
#define WB_SHORT_ABANDON "5"
/* sql/015's bucket, in seconds, and how long a caller is taken to wait at most. */
#define WB_STEP CC_CDR_ROLLUP_TIME_STEP
#define WB_MAX_WAIT "INTERVAL 1 DAY"

#define QL_OUTCOME CC_QL_OUTCOME("l")
#define QL_WAIT CC_QL_WAIT
#define QL_LEFT CC_QL_LEFT

/* The service level of queue c (queues q) as the figures count it, and whether a
 * summary row r's within_sl was counted with it. */
#define WB_SL(q) "COALESCE(" q ".servicelevel, 0)"
#define WB_TRUSTED(q) "(r.sl IS NULL OR (r.sl >= 0 AND r.sl = " WB_SL(q) "))"
/* The summary rows of the tenant's buckets of today with their queue c and its queues
 * row q; WB_TODAY binds the tenant, the first bucket, the end of the last one. */
#define WB_ROLLUP                                                                        \
    " FROM queue_log_rollup r"                                                           \
    " JOIN call_queues c ON c.tenant_id = r.tenant_id AND c.id = r.queue_id"             \
    " LEFT JOIN queues q ON q.name = c.asterisk_name"
#define WB_TODAY                                                                         \
    " WHERE r.tenant_id = %s AND r.bucket >= CAST(%s AS DATETIME)"                       \
    " AND r.bucket < CAST(%s AS DATETIME)"
/* queue_log's rows of c in one of its buckets, found by equality on both parts. */
#define WB_LOG_BUCKET(b)                                                                 \
    " JOIN queue_log l FORCE INDEX (idx_queue_log_queue_bucket)"                         \
    " ON l.queuename = c.asterisk_name AND l.cc_bucket = " b                             \
    " AND l.`time` >= c.created_at"

/*
 * The tenant's queues (ordered by name) joined to four grouped reads, each an index
 * range on constants or found by equality.  (No subquery refers to the queue: MariaDB
 * reads `queuename = <outer column>` by `ref` on the index's first part only, ANALYZE:
 * every row the queue ever had.)
 *   t: the summary's sums per queue, "answered,abandoned,left,within_sl";
 *   s: the CONNECTs within the level in the buckets whose within_sl was counted with
 *      another one (normally none);
 *   e: the same sums as t over the outcome rows of [midnight, first bucket) when
 *      midnight is not a bucket's start (otherwise the bounds make it read nothing);
 *   w: the callers waiting, and the earliest of their entries.
 * Binds: now (longest wait); t: WB_TODAY; s: WB_TODAY; e: short_abandon, midnight's
 * bucket, the tenant, midnight, the first bucket, midnight, the first bucket; w: the
 * tenant, now; the tenant.
 */
#define WB_QUEUES                                                                        \
    "SELECT cq.id, cq.name,"                                                             \
    " COALESCE(t.sums, ''), COALESCE(s.n, 0), COALESCE(e.sums, ''), COALESCE(w.n, 0),"  \
    " COALESCE(GREATEST(TIMESTAMPDIFF(SECOND, w.first, CAST(%s AS DATETIME)), 0), 0)"   \
    " FROM call_queues cq"                                                               \
    " LEFT JOIN (SELECT r.queue_id, CONCAT_WS(',', SUM(r.answered), SUM(r.abandoned),"   \
    "  SUM(r.left_unanswered), SUM(IF(" WB_TRUSTED("q") ", r.within_sl, 0))) AS sums"    \
    WB_ROLLUP WB_TODAY " GROUP BY r.queue_id) t ON t.queue_id = cq.id"                   \
    " LEFT JOIN (SELECT r.queue_id, COUNT(*) AS n" WB_ROLLUP WB_LOG_BUCKET("r.bucket")   \
    WB_TODAY " AND NOT " WB_TRUSTED("q") " AND l.event = 'CONNECT'"                      \
    "  AND " QL_WAIT " <= " WB_SL("q") " GROUP BY r.queue_id) s ON s.queue_id = cq.id"   \
    " LEFT JOIN (SELECT c.id AS queue_id, CONCAT_WS(',', SUM(l.event = 'CONNECT'),"     \
    "  SUM(l.event = 'ABANDON' AND " QL_WAIT " >= %s), SUM(" QL_LEFT "),"                \
    "  SUM(l.event = 'CONNECT' AND " QL_WAIT " <= " WB_SL("q") ")) AS sums"              \
    "  FROM call_queues c LEFT JOIN queues q ON q.name = c.asterisk_name"                \
    WB_LOG_BUCKET("CAST(%s AS DATETIME)")                                                \
    "  WHERE c.tenant_id = %s AND l.`time` >= CAST(%s AS DATETIME)"                      \
    "  AND l.`time` < CAST(%s AS DATETIME) AND CAST(%s AS DATETIME) < CAST(%s AS DATETIME)" \
    "  AND " QL_OUTCOME " GROUP BY c.id) e ON e.queue_id = cq.id"                        \
    " LEFT JOIN (SELECT queue_id, COUNT(*) AS n, MIN(entered) AS first"                  \
    "  FROM queue_log_waiting WHERE tenant_id = %s"                                      \
    "  AND entered >= CAST(%s AS DATETIME) - " WB_MAX_WAIT " GROUP BY queue_id) w"       \
    "  ON w.queue_id = cq.id"                                                            \
    " WHERE cq.tenant_id = %s"                                                           \
    " ORDER BY cq.name, cq.id"

/* Agents per queue and state (binds the tenant). */
#define WB_AGENTS                                                                        \
    "SELECT m.queue_id, COALESCE(s.state, 'offline'), COUNT(DISTINCT e.user_id)"         \
    " FROM call_queue_members m"                                                         \
    " JOIN endpoints e ON e.tenant_id = m.tenant_id AND e.id = m.endpoint_id"            \
    " JOIN users u ON u.tenant_id = e.tenant_id AND u.id = e.user_id"                    \
    "  AND u.deleted_at IS NULL"                                                         \
    " LEFT JOIN agent_states s ON s.tenant_id = u.tenant_id AND s.current_user_id = u.id" \
    " WHERE m.tenant_id = %s"                                                            \
    " GROUP BY m.queue_id, 2"

static const cc_stmt_t wallboard_stmts[] = {
    CC_STMT("cc_wallboard_queues", WB_QUEUES),
    CC_STMT("cc_wallboard_agents", WB_AGENTS),
    CC_STMT_END
};

static const cc_col_t queue_cols[] = {
    { "id", CC_COL_INT },
    { "name", CC_COL_STR },
    { "whole", CC_COL_STR },
    { "recount", CC_COL_INT },
    { "edge", CC_COL_STR },
    { "waiting", CC_COL_INT },
    { "longest_wait", CC_COL_INT },
    CC_COL_END
};

static const cc_col_t agent_cols[] = {
    { "queue_id", CC_COL_INT },
    { "state", CC_COL_STR },
    { "n", CC_COL_INT },
    CC_COL_END
};

static json_int_t int_of(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* The n comma-separated counts of a subquery's text (missing or bad ones: 0). */
static void counts(const json_t *row, const char *key, apr_int64_t *v, int n)
{
    const char *s = json_string_value(json_object_get(row, key));
    int i;

    for (i = 0; i < n; i++) {
        v[i] = 0;
    }
    for (i = 0; s && i < n; i++) {
        v[i] = apr_atoi64(s);
        s = strchr(s, ',');
        s = s ? s + 1 : NULL;
    }
}

/* A queue of the answer from its row, agents all 0. */
static json_t *queue_of(apr_pool_t *pool, const json_t *row)
{
    json_t *agents = json_object();
    apr_int64_t whole[4], edge[4], t[4];
    int i;

    counts(row, "whole", whole, 4);          /* answered, abandoned, left, within */
    counts(row, "edge", edge, 4);
    for (i = 0; i < 4; i++) {
        t[i] = whole[i] + edge[i];
    }
    t[3] += int_of(row, "recount");
    for (i = 0; cc_agent_states[i]; i++) {
        json_object_set_new(agents, cc_agent_states[i], json_integer(0));
    }
    return json_pack("{s:O,s:O,s:I,s:I,s:o,s:{s:I,s:I,s:I,s:f}}",
                     "id", json_object_get(row, "id"), "name", json_object_get(row, "name"),
                     "waiting", int_of(row, "waiting"),
                     "longest_wait", int_of(row, "longest_wait"),
                     "agents", agents, "today",
                     "offered", (json_int_t)(t[0] + t[1] + t[2]),
                     "answered", (json_int_t)t[0], "abandoned", (json_int_t)t[1],
                     "service_level",
                     strtod(cc_qstats_ratio(pool, t[3], t[0] + t[1] + t[2]), NULL));
}

static cc_error_t *wallboard_get(cc_ctx_t *ctx)
{
    apr_pool_t *p = ctx->pool;
    const char *tz = apr_table_get(ctx->args ? ctx->args : apr_table_make(p, 1), "tz");
    const char *now_sql, *mid_sql, *lo_sql, *top_sql, *tenant = ctx->principal->tenant_id;
    const char *args[17];
    apr_int64_t now = apr_time_sec(apr_time_now()), mid, lo, hi;
    cc_tzinfo_t *zone = NULL;
    json_t *qrows, *arows, *queues, *row, *out;
    apr_hash_t *by_id = apr_hash_make(p);
    cc_error_t *err;
    size_t i;

    if (tz && (err = cc_tz_load(p, tz, &zone))) {
        return err;
    }
    if (!cc_tz_local_midnight(p, zone, now, &mid)) {
        return cc_error_collect(p, NULL, "tz", "the zone's data does not cover today");
    }
    /* The whole buckets: from the first at or after midnight (lo) to the one now is in
     * (hi, whose end is top). */
    cc_cdr_rollup_split(mid, now, WB_STEP, &lo, &hi);
    now_sql = cc_epoch_to_sql(p, now);
    mid_sql = cc_epoch_to_sql(p, mid);
    lo_sql = cc_epoch_to_sql(p, lo);
    top_sql = cc_epoch_to_sql(p, hi + WB_STEP);
    args[0] = now_sql;
    args[1] = tenant;                                   /* t */
    args[2] = lo_sql;
    args[3] = top_sql;
    args[4] = tenant;                                   /* s */
    args[5] = lo_sql;
    args[6] = top_sql;
    args[7] = WB_SHORT_ABANDON;                         /* e */
    args[8] = cc_epoch_to_sql(p, mid - (mid % WB_STEP + WB_STEP) % WB_STEP);
    args[9] = tenant;
    args[10] = mid_sql;
    args[11] = lo_sql;
    args[12] = mid_sql;
    args[13] = lo_sql;
    args[14] = tenant;                                  /* w */
    args[15] = now_sql;
    args[16] = tenant;
    if ((err = cc_db_select(ctx->db, "cc_wallboard_queues", queue_cols, 17, args, &qrows,
                            NULL))
        || (err = cc_db_select(ctx->db, "cc_wallboard_agents", agent_cols, 1, &tenant,
                               &arows, NULL))) {
        return err;
    }
    queues = cc_json_own(p, json_array());
    json_array_foreach(qrows, i, row) {
        json_t *q = queue_of(p, row);

        json_array_append_new(queues, q);
        apr_hash_set(by_id, apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)int_of(row, "id")),
                     APR_HASH_KEY_STRING, json_object_get(q, "agents"));
    }
    json_array_foreach(arows, i, row) {
        json_t *agents = apr_hash_get(by_id, apr_psprintf(p, "%" APR_INT64_T_FMT,
                                                          (apr_int64_t)int_of(row, "queue_id")),
                                      APR_HASH_KEY_STRING);
        const char *state = json_string_value(json_object_get(row, "state"));

        if (agents && state && json_object_get(agents, state)) {
            json_object_set_new(agents, state, json_integer(int_of(row, "n")));
        }
    }
    out = cc_json_own(p, json_pack("{s:s,s:O}", "generated_at",
                                   cc_sql_time_to_rfc3339(p, now_sql), "queues", queues));
    return cc_reply_json(ctx, HTTP_OK, out);
}

static const cc_route_t wallboard_routes[] = {
    { "GET", "/api/v1/wallboard", wallboard_get, "agents.read", CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_wallboard_domain = { "wallboard", wallboard_routes, wallboard_stmts,
                                          NULL, NULL, NULL };
