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
 * offered.  A caller is waiting when its ENTERQUEUE of today has no outcome row
 * (CONNECT, ABANDON, EXIT*, WITHDRAW) of the same call and queue at or after it;
 * longest_wait is now minus the earliest such ENTERQUEUE, in seconds (0 when none
 * waits).  As in the statistics, a queue's rows count from its created_at on (an
 * Asterisk name may have served a deleted queue before).
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

#define WB_SHORT_ABANDON "5"

/* As cc_queue_stats.c reads queue_log (the shared fragments: cc_queue_stats_rules.h). */
#define QL_OUTCOME(t) CC_QL_OUTCOME(t)
#define QL_WAIT CC_QL_WAIT

/*
 * Per queue (ordered by name) two correlated subqueries, each a range on
 * idx_queue_log_queue_time from the later of midnight and the queue's created_at to
 * now: inside a subquery the queue's columns are constants, so MariaDB reads only the
 * queue's rows of today (a join on queuename read each queue's whole history: `ref` on
 * the index's first part, EXPLAIN at 10,000 calls a day).  Each folds its sums into
 * one text, "offered,answered,abandoned,within_sl" and "waiting,longest_wait".  Binds:
 * short_abandon twice, midnight, now; now, midnight, now; the tenant.  The waiting one
 * probes idx_queue_log_callid once per entry of today.
 */
#define WB_QUEUES                                                                        \
    "SELECT cq.id, cq.name,"                                                             \
    " (SELECT CONCAT_WS(',',"                                                            \
    " COALESCE(SUM(NOT (l.event = 'ABANDON' AND " QL_WAIT " < %s)), 0),"                \
    " COALESCE(SUM(l.event = 'CONNECT'), 0),"                                            \
    " COALESCE(SUM(l.event = 'ABANDON' AND " QL_WAIT " >= %s), 0),"                     \
    " COALESCE(SUM(l.event = 'CONNECT' AND " QL_WAIT " <= COALESCE(q.servicelevel, 0)),"  \
    " 0))"                                                                               \
    "  FROM queue_log l FORCE INDEX (idx_queue_log_queue_time)"                          \
    "  WHERE l.queuename = cq.asterisk_name"                                             \
    "  AND l.`time` >= GREATEST(CAST(%s AS DATETIME), cq.created_at)"                    \
    "  AND l.`time` < CAST(%s AS DATETIME) AND " QL_OUTCOME("l") "),"                    \
    " (SELECT CONCAT_WS(',', COUNT(*),"                                                  \
    " COALESCE(TIMESTAMPDIFF(SECOND, MIN(e.`time`), CAST(%s AS DATETIME)), 0))"          \
    "  FROM queue_log e FORCE INDEX (idx_queue_log_queue_time)"                          \
    "  WHERE e.queuename = cq.asterisk_name"                                             \
    "  AND e.`time` >= GREATEST(CAST(%s AS DATETIME), cq.created_at)"                    \
    "  AND e.`time` < CAST(%s AS DATETIME) AND e.event = 'ENTERQUEUE'"                   \
    "  AND NOT EXISTS (SELECT 1 FROM queue_log o"                                        \
    "   WHERE o.callid = e.callid AND o.queuename = e.queuename"                         \
    "   AND o.`time` >= e.`time` AND " QL_OUTCOME("o") "))"                              \
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
    { "today", CC_COL_STR },
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
    apr_int64_t today[4], waiting[2];
    int i;

    counts(row, "today", today, 4);          /* offered, answered, abandoned, within */
    counts(row, "waiting", waiting, 2);      /* waiting, longest wait */
    for (i = 0; cc_agent_states[i]; i++) {
        json_object_set_new(agents, cc_agent_states[i], json_integer(0));
    }
    return json_pack("{s:O,s:O,s:I,s:I,s:o,s:{s:I,s:I,s:I,s:f}}",
                     "id", json_object_get(row, "id"), "name", json_object_get(row, "name"),
                     "waiting", (json_int_t)waiting[0],
                     "longest_wait", (json_int_t)waiting[1],
                     "agents", agents, "today",
                     "offered", (json_int_t)today[0], "answered", (json_int_t)today[1],
                     "abandoned", (json_int_t)today[2],
                     "service_level",
                     strtod(cc_qstats_ratio(pool, today[3], today[0]), NULL));
}

static cc_error_t *wallboard_get(cc_ctx_t *ctx)
{
    apr_pool_t *p = ctx->pool;
    const char *tz = apr_table_get(ctx->args ? ctx->args : apr_table_make(p, 1), "tz");
    const char *now_sql, *mid_sql, *tenant = ctx->principal->tenant_id, *args[12];
    apr_int64_t now = apr_time_sec(apr_time_now()), mid;
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
    now_sql = cc_epoch_to_sql(p, now);
    mid_sql = cc_epoch_to_sql(p, mid);
    args[0] = WB_SHORT_ABANDON;
    args[1] = WB_SHORT_ABANDON;
    args[2] = mid_sql;
    args[3] = now_sql;
    args[4] = now_sql;
    args[5] = mid_sql;
    args[6] = now_sql;
    args[7] = tenant;
    if ((err = cc_db_select(ctx->db, "cc_wallboard_queues", queue_cols, 8, args, &qrows,
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
