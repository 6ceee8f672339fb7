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
 * queue_log: the triggers of sql/015 keep per queue and 15 minutes the outcome counts
 * (queue_log_rollup) and the callers waiting now (queue_log_waiting).  Today is read as
 * whole buckets there and its two partial buckets (before the first whole one, from
 * midnight or created_at; after the last one, to now) from queue_log, at most 15
 * minutes of rows each, so the answer is exact and costs the same at 08:00 and at
 * 23:00.  Answered within the service level is taken from a bucket only when its
 * CONNECTs were all judged with the queue's current level (the row's sl); a bucket of
 * the day the level changed has its CONNECTs counted again from queue_log.
 *
 * Waiting: the queue's callers with an ENTERQUEUE and no outcome row yet, whatever day
 * they entered (a caller waiting across midnight still waits), since the queue's
 * created_at and within the last day (an entry whose outcome row Asterisk lost does
 * not wait forever); a QUEUESTART row (Asterisk started again) ends every earlier wait.
 * longest_wait is now minus the earliest of their ENTERQUEUEs, in seconds (0 when none
 * waits).
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
 * the partial buckets read from queue_log use the same threshold. */
#define WB_SHORT_ABANDON "5"
/* sql/015's bucket, in seconds, and how long a caller is taken to wait at most. */
#define WB_STEP CC_CDR_ROLLUP_TIME_STEP
#define WB_MAX_WAIT "INTERVAL 1 DAY"

#define QL_OUTCOME CC_QL_OUTCOME("l")
#define QL_WAIT CC_QL_WAIT
#define QL_LEFT CC_QL_LEFT

/* The queue's first whole bucket: the later of the day's first one (bound) and the
 * first one starting at or after created_at; its first partial one starts at the later of
 * midnight (bound) and created_at.  The service level its figures are counted with, and
 * whether a summary row's within_sl was counted with it. */
#define WB_LO_B                                                                          \
    "GREATEST(CAST(%s AS DATETIME), cq.created_at + INTERVAL"                            \
    " (900 - TIME_TO_SEC(cq.created_at) MOD 900) MOD 900 SECOND)"
#define WB_LO "GREATEST(CAST(%s AS DATETIME), cq.created_at)"
#define WB_SL "COALESCE(q.servicelevel, 0)"
#define WB_TRUSTED "(r.sl IS NULL OR (r.sl >= 0 AND r.sl = " WB_SL "))"

/*
 * Per queue (ordered by name) four correlated subqueries, each an index range: inside a
 * subquery the queue's columns are constants.  Each folds its sums into one text.
 *   whole: the summary's buckets [lo_b, hi): "answered,abandoned,left,within_sl".
 *     Binds the day's first whole bucket, hi (the bucket now is in).
 *   recount: the CONNECTs within the level of the buckets whose within_sl is not
 *     (normally none).  Same binds.
 *   edges: the outcome rows of [lo, min(lo_b, now)) and [max(hi, lo_b), now), as whole.
 *     Binds short_abandon, midnight, the first whole bucket, now, hi, the first whole
 *     bucket, now.
 *   waiting: "waiting,longest_wait".  Binds now twice.
 * Then the tenant.
 */
#define WB_QUEUES                                                                        \
    "SELECT cq.id, cq.name,"                                                             \
    " (SELECT CONCAT_WS(',', COALESCE(SUM(r.answered), 0),"                              \
    " COALESCE(SUM(r.abandoned), 0), COALESCE(SUM(r.left_unanswered), 0),"              \
    " COALESCE(SUM(IF(" WB_TRUSTED ", r.within_sl, 0)), 0))"                             \
    "  FROM queue_log_rollup r WHERE r.queuename = cq.asterisk_name"                     \
    "  AND r.bucket >= " WB_LO_B " AND r.bucket < CAST(%s AS DATETIME)),"                \
    " (SELECT COUNT(*) FROM queue_log_rollup r"                                          \
    "  JOIN queue_log l FORCE INDEX (idx_queue_log_queue_time)"                          \
    "  ON l.queuename = r.queuename AND l.`time` >= r.bucket"                            \
    "  AND l.`time` < r.bucket + INTERVAL 900 SECOND"                                    \
    "  WHERE r.queuename = cq.asterisk_name"                                             \
    "  AND r.bucket >= " WB_LO_B " AND r.bucket < CAST(%s AS DATETIME)"                  \
    "  AND NOT " WB_TRUSTED " AND l.event = 'CONNECT' AND " QL_WAIT " <= " WB_SL "),"    \
    " (SELECT CONCAT_WS(',', COALESCE(SUM(l.event = 'CONNECT'), 0),"                     \
    " COALESCE(SUM(l.event = 'ABANDON' AND " QL_WAIT " >= %s), 0),"                     \
    " COALESCE(SUM(" QL_LEFT "), 0),"                                                    \
    " COALESCE(SUM(l.event = 'CONNECT' AND " QL_WAIT " <= " WB_SL "), 0))"              \
    "  FROM queue_log l FORCE INDEX (idx_queue_log_queue_time)"                          \
    "  WHERE l.queuename = cq.asterisk_name AND " QL_OUTCOME                             \
    "  AND ((l.`time` >= " WB_LO                                                         \
    "   AND l.`time` < LEAST(" WB_LO_B ", CAST(%s AS DATETIME)))"                        \
    "  OR (l.`time` >= GREATEST(CAST(%s AS DATETIME), " WB_LO_B ")"                      \
    "   AND l.`time` < CAST(%s AS DATETIME)))),"                                         \
    " (SELECT CONCAT_WS(',', COUNT(*), COALESCE(GREATEST(TIMESTAMPDIFF(SECOND,"         \
    " MIN(w.entered), CAST(%s AS DATETIME)), 0), 0))"                                    \
    "  FROM queue_log_waiting w WHERE w.queuename = cq.asterisk_name"                    \
    "  AND w.entered >= GREATEST(cq.created_at,"                                         \
    "  CAST(%s AS DATETIME) - " WB_MAX_WAIT "))"                                         \
    " FROM call_queues cq"                                                               \
    " LEFT JOIN queues q ON q.name = cq.asterisk_name"                                   \
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
    { "edges", CC_COL_STR },
    { "waiting", CC_COL_STR },
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
    apr_int64_t whole[4], edges[4], waiting[2], t[4];
    int i;

    counts(row, "whole", whole, 4);          /* answered, abandoned, left, within */
    counts(row, "edges", edges, 4);
    counts(row, "waiting", waiting, 2);      /* waiting, longest wait */
    for (i = 0; i < 4; i++) {
        t[i] = whole[i] + edges[i];
    }
    t[3] += int_of(row, "recount");
    for (i = 0; cc_agent_states[i]; i++) {
        json_object_set_new(agents, cc_agent_states[i], json_integer(0));
    }
    return json_pack("{s:O,s:O,s:I,s:I,s:o,s:{s:I,s:I,s:I,s:f}}",
                     "id", json_object_get(row, "id"), "name", json_object_get(row, "name"),
                     "waiting", (json_int_t)waiting[0],
                     "longest_wait", (json_int_t)waiting[1],
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
    const char *now_sql, *mid_sql, *lo_sql, *hi_sql, *tenant = ctx->principal->tenant_id;
    const char *args[14];
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
    cc_cdr_rollup_split(mid, now, WB_STEP, &lo, &hi);
    now_sql = cc_epoch_to_sql(p, now);
    mid_sql = cc_epoch_to_sql(p, mid);
    lo_sql = cc_epoch_to_sql(p, lo);
    hi_sql = cc_epoch_to_sql(p, hi);
    args[0] = lo_sql;                    /* whole */
    args[1] = hi_sql;
    args[2] = lo_sql;                    /* recount */
    args[3] = hi_sql;
    args[4] = WB_SHORT_ABANDON;          /* edges */
    args[5] = mid_sql;
    args[6] = lo_sql;
    args[7] = now_sql;
    args[8] = hi_sql;
    args[9] = lo_sql;
    args[10] = now_sql;
    args[11] = now_sql;                  /* waiting */
    args[12] = now_sql;
    args[13] = tenant;
    if ((err = cc_db_select(ctx->db, "cc_wallboard_queues", queue_cols, 14, args, &qrows,
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
