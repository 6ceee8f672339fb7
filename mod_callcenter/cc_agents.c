/*
 * cc_agents.c: /api/v1/agents — agent states, their history and statistics, and the
 * tenant's pause reasons (API.md "Telephony", agent state; the pure rules:
 * cc_agents_rules.c; the table: sql/012_agents.sql).
 *
 * An agent is a live user of the tenant with an endpoint (a phone to take queue calls)
 * or a state of its own.  With no state yet an agent is offline (since null).  A state
 * is a period of agent_states; a change closes the open period and opens the next, in
 * one transaction that first locks the user's row (changes of one agent take turns;
 * a deleted user is 404), and in that same transaction pauses (break, offline: with the
 * reason, else the state's name, as reason_paused) or unpauses (available) every
 * realtime queue_members row of the agent's memberships, so app_queue stops or starts
 * offering calls with its next read of the queue (realtime members are re-read whenever
 * a call enters the queue).  on_call and wrap_up leave the memberships alone.  The
 * change writes the audit entry agent.state_change and the event agent.state_changed.
 *
 * Own state: agents.read; anyone else's: agents.manage (the route asks for agents.read,
 * the handler for the rest).  Pause reasons: a tenant's list (agent_pause_reasons, read
 * and written with agents.manage, as API.md says); once set, break takes one of them
 * (their own spelling is kept), else any reason or none; a refused reason's 400 names
 * the list, so an agent learns it without agents.manage.
 */
#include <string.h>

#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "cc_api_private.h"
#include "cc_agents_rules.h"
#include "cc_asterisk.h"
#include "cc_audit.h"
#include "cc_calls_private.h"
#include "cc_chat_link.h"
#include "cc_json.h"
#include "cc_queue_stats_rules.h"
#include "cc_validate.h"

/* ---- statements ---- */

/* The agent's current period, if any (uq_agent_states_current). */
#define CURRENT_STATE                                                                   \
    " LEFT JOIN agent_states s ON s.tenant_id = u.tenant_id AND s.current_user_id = u.id"

/* The state object's columns, in state_cols order. */
#define STATE_COLUMNS "u.id, COALESCE(s.state, 'offline'), s.reason, s.started_at"

/* An agent's queues (its endpoints' memberships), each with whether Asterisk's row is
 * paused, as a JSON array. */
#define AGENT_QUEUES                                                                    \
    "COALESCE((SELECT JSON_ARRAYAGG(DISTINCT JSON_OBJECT('id', cq.id, 'name', cq.name,"   \
    " 'paused', JSON_EXTRACT(IF(COALESCE(qm.paused, 0) <> 0, 'true', 'false'), '$'))"     \
    " ORDER BY cq.name, cq.id)"                                                         \
    " FROM endpoints e"                                                                 \
    " JOIN call_queue_members m ON m.tenant_id = e.tenant_id AND m.endpoint_id = e.id"  \
    " JOIN call_queues cq ON cq.tenant_id = m.tenant_id AND cq.id = m.queue_id"         \
    " LEFT JOIN queue_members qm ON qm.queue_name = cq.asterisk_name"                   \
    "  AND qm.interface = CONCAT('PJSIP/', e.asterisk_id)"                              \
    " WHERE e.tenant_id = u.tenant_id AND e.user_id = u.id), '[]')"

static const cc_stmt_t agents_stmts[] = {
    CC_STMT("cc_agents_list",
            "SELECT " STATE_COLUMNS ", u.name, u.email, " AGENT_QUEUES
            " FROM users u" CURRENT_STATE
            " WHERE u.tenant_id = %s AND u.deleted_at IS NULL"
            " AND (s.id IS NOT NULL OR EXISTS (SELECT 1 FROM endpoints e"
            " WHERE e.tenant_id = u.tenant_id AND e.user_id = u.id))"
            " ORDER BY u.name, u.id"),
    CC_STMT("cc_agents_state_get",
            "SELECT " STATE_COLUMNS " FROM users u" CURRENT_STATE
            " WHERE u.tenant_id = %s AND u.id = %s AND u.deleted_at IS NULL"),
    CC_STMT("cc_agents_user_lock",
            "SELECT id FROM users WHERE tenant_id = %s AND id = %s AND deleted_at IS NULL"
            " FOR UPDATE"),
    CC_STMT("cc_agents_user_exists",
            "SELECT id FROM users WHERE tenant_id = %s AND id = %s AND deleted_at IS NULL"),
    /* One instant ends a period and starts the next (tenant, user, then the time). */
    CC_STMT("cc_agents_state_close",
            "UPDATE agent_states SET ended_at = %s, wrap_up_until = NULL"
            " WHERE tenant_id = %s AND current_user_id = %s"),
    /* The agent's current state, if it has one (a new membership follows it). */
    CC_STMT("cc_agents_current",
            "SELECT state, reason, resume_state, resume_reason FROM agent_states"
            " WHERE tenant_id = %s AND current_user_id = %s"),
    /* A deleted user's open period ends with it (its statistics stop counting). */
    CC_STMT("cc_agents_state_end",
            "UPDATE agent_states SET ended_at = UTC_TIMESTAMP(), wrap_up_until = NULL"
            " WHERE tenant_id = %s AND current_user_id = %s"),
    CC_STMT("cc_agents_state_open",
            "INSERT INTO agent_states (tenant_id, user_id, state, reason, started_at)"
            " VALUES (%s, %s, %s, %s, %s)"),
    /* A period that calls opened (cc_agents_follow_call): wrap_up ends at its time. */
    CC_STMT("cc_agents_state_open_until",
            "INSERT INTO agent_states (tenant_id, user_id, state, reason, started_at,"
            " wrap_up_until, resume_state, resume_reason)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"),
    /* Wrap-ups due (cc_agents_wrap_up_due), every tenant's. */
    CC_STMT("cc_agents_wrap_up_due",
            "SELECT tenant_id, user_id FROM agent_states WHERE wrap_up_until <= UTC_TIMESTAMP()"
            " AND ended_at IS NULL AND state = 'wrap_up'"
            " /* cc-lint: no-tenant the link's job, for every tenant */ LIMIT 50"),
    /* Binds paused, reason_paused (encoded), then the tenant three times and the user. */
    CC_STMT("cc_agents_pause",
            "UPDATE queue_members qm"
            " JOIN call_queues cq ON cq.asterisk_name = qm.queue_name"
            " JOIN call_queue_members m ON m.queue_id = cq.id"
            " JOIN endpoints e ON e.id = m.endpoint_id"
            "  AND qm.interface = CONCAT('PJSIP/', e.asterisk_id)"
            " SET qm.paused = %s, qm.reason_paused = %s"
            " WHERE cq.tenant_id = %s AND m.tenant_id = %s AND e.tenant_id = %s"
            " AND e.user_id = %s"),
    /* The tenant's list: its size and the spelling that matches a reason (or NULL). */
    CC_STMT("cc_agents_reason_match",
            "SELECT COUNT(*), MAX(IF(reason = %s, reason, NULL)),"
            " GROUP_CONCAT(reason ORDER BY position SEPARATOR ', ')"
            " FROM agent_pause_reasons WHERE tenant_id = %s"),
    CC_STMT("cc_agents_reasons",
            "SELECT reason FROM agent_pause_reasons WHERE tenant_id = %s ORDER BY position"),
    CC_STMT("cc_agents_reasons_lock", "SELECT id FROM tenants WHERE id = %s FOR UPDATE"),
    CC_STMT("cc_agents_reasons_clear", "DELETE FROM agent_pause_reasons WHERE tenant_id = %s"),
    CC_STMT("cc_agents_reasons_add",
            "INSERT INTO agent_pause_reasons (tenant_id, position, reason) VALUES (%s, %s, %s)"),
    /* Periods overlapping [from, to): tenant, user, to, from. */
    CC_STMT("cc_agents_history",
            "SELECT state, reason, started_at, ended_at,"
            " GREATEST(TIMESTAMPDIFF(SECOND, started_at,"
            " COALESCE(ended_at, UTC_TIMESTAMP())), 0)"
            " FROM agent_states WHERE tenant_id = %s AND user_id = %s"
            " AND started_at < %s AND (ended_at IS NULL OR ended_at > %s)"
            " ORDER BY started_at, id"),
    /* Seconds per agent, state and reason inside [from, to): from, to, the tenant, to,
     * from.  A user deleted since keeps its periods (name null). */
    CC_STMT("cc_agents_stats",
            "SELECT s.user_id, u.name, s.state, s.reason,"
            " CAST(SUM(GREATEST(TIMESTAMPDIFF(SECOND,"
            " GREATEST(s.started_at, CAST(%s AS DATETIME)),"
            " LEAST(COALESCE(s.ended_at, UTC_TIMESTAMP()), CAST(%s AS DATETIME))), 0))"
            " AS SIGNED)"
            " FROM agent_states s"
            " LEFT JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id"
            "  AND u.deleted_at IS NULL"
            " WHERE s.tenant_id = %s AND s.started_at < %s"
            " AND (s.ended_at IS NULL OR s.ended_at > %s)"
            " GROUP BY s.user_id, u.name, s.state, s.reason ORDER BY s.user_id"),
    CC_STMT_END
};

/* ---- objects ---- */

static const cc_col_t state_cols[] = {
    { "user_id", CC_COL_INT },
    { "state", CC_COL_STR },
    { "reason", CC_COL_STR },
    { "since", CC_COL_TIME },
    CC_COL_END
};

static const cc_col_t agent_cols[] = {
    { "user_id", CC_COL_INT },
    { "state", CC_COL_STR },
    { "reason", CC_COL_STR },
    { "since", CC_COL_TIME },
    { "name", CC_COL_STR },
    { "email", CC_COL_STR },
    { "queues", CC_COL_JSON },
    CC_COL_END
};

static const cc_col_t history_cols[] = {
    { "state", CC_COL_STR },
    { "reason", CC_COL_STR },
    { "from", CC_COL_TIME },
    { "to", CC_COL_TIME },
    { "seconds", CC_COL_INT },
    CC_COL_END
};

static const cc_col_t stats_cols[] = {
    { "user_id", CC_COL_INT },
    { "name", CC_COL_STR },
    { "state", CC_COL_STR },
    { "reason", CC_COL_STR },
    { "seconds", CC_COL_INT },
    CC_COL_END
};

static const cc_col_t reason_cols[] = {
    { "reason", CC_COL_STR },
    CC_COL_END
};

static const cc_field_t state_fields[] = {
    { CC_AGENT_KEY_STATE, CC_JT_STRING, 1 },
    { CC_AGENT_KEY_REASON, CC_JT_STRING_NULL, 0 },
    { NULL, 0, 0 }
};

static const cc_field_t reasons_fields[] = {
    { CC_AGENT_KEY_REASONS, CC_JT_STRING_ARRAY, 1 },
    { NULL, 0, 0 }
};

/* ---- helpers ---- */

/* The path's agent: the caller's own (agents.read, the route's) or, for anyone else,
 * agents.manage. */
static cc_error_t *path_agent(cc_ctx_t *ctx, const char **puser_id)
{
    const char *id = cc_path(ctx, "user_id");

    if (strcmp(id, ctx->principal->user_id_str)
        && !cc_principal_can(ctx->principal, "agents.manage")) {
        return cc_error_forbidden(ctx->pool);
    }
    *puser_id = id;
    return NULL;
}

static cc_error_t *fetch_state(cc_ctx_t *ctx, const char *user_id, json_t **pobj)
{
    return cc_fetch(ctx, "cc_agents_state_get", state_cols, user_id, pobj);
}

/* A statistics window: ?from, ?to (default the 24 hours up to and including this
 * second, so a state that began now is in it; at most 366 days), as UTC SQL DATETIME
 * text. */
static cc_error_t *read_window(cc_ctx_t *ctx, const char **pfrom, const char **pto)
{
    apr_int64_t from = 0, to = apr_time_sec(apr_time_now()) + 1;
    int from_given = 0, to_given = 0;
    cc_error_t *err = NULL;

    err = cc_qstats_read_time(ctx->pool, err, ctx->args, CC_QSTATS_FROM, &from_given, &from);
    err = cc_qstats_read_time(ctx->pool, err, ctx->args, CC_QSTATS_TO, &to_given, &to);
    if (err || (err = cc_qstats_window(ctx->pool, from_given, to, &from))) {
        return err;
    }
    *pfrom = cc_epoch_to_sql(ctx->pool, from);
    *pto = cc_epoch_to_sql(ctx->pool, to);
    return NULL;
}

cc_error_t *cc_agents_end_state(cc_ctx_t *ctx, const char *user_id)
{
    const char *args[2] = { ctx->principal->tenant_id, user_id };

    return cc_db_exec(ctx->db, "cc_agents_state_end", 2, args, NULL);
}

cc_error_t *cc_agents_member_pause(cc_ctx_t *ctx, const char *user_id,
                                   const char **ppaused, const char **preason)
{
    const char *args[2] = { ctx->principal->tenant_id, user_id }, **row;
    cc_error_t *err = cc_db_select_row(ctx->db, "cc_agents_current", 2, args, &row, NULL);

    /* (on a call taken on break or offline, the state to resume is the one) */
    if (!err && row && row[2]) {
        row[0] = row[2];
        row[1] = row[3];
    }
    if (!err && row && row[0] && cc_agent_state_pauses(row[0]) == 1) {
        agent_state_input_t in = { row[0], row[1] };

        *ppaused = "1";
        *preason = cc_agent_pause_text(&in);
    }
    return err;
}

/* Pause or unpause the agent's queue memberships for state (with its reason), as a
 * state change does; nothing for on_call and wrap_up. */
static cc_error_t *follow_memberships(cc_db_t *db, apr_pool_t *p, const char *tenant,
                                      const char *user_id, const agent_state_input_t *in)
{
    int pause = cc_agent_state_pauses(in->state);
    const char *pa[6] = { pause ? "1" : "0",
                          pause > 0 ? cc_ast_rt_encode(p, cc_agent_pause_text(in)) : NULL,
                          tenant, tenant, tenant, user_id };

    return pause < 0 ? NULL : cc_db_exec(db, "cc_agents_pause", 6, pa, NULL);
}

/* Voice and chat share one capacity: an agent free again may take a waiting chat now,
 * in this transaction (cc_chat_link.h). */
static cc_error_t *follow_chat(cc_db_t *db, const char *tenant, const char *user_id,
                               const cc_actor_t *actor)
{
    APR_OPTIONAL_FN_TYPE(cc_chat_voice_state_changed) *chat =
        APR_RETRIEVE_OPTIONAL_FN(cc_chat_voice_state_changed);

    return chat ? chat(db, tenant, user_id, actor) : NULL;
}

cc_error_t *cc_agents_follow_call(cc_db_t *db, apr_pool_t *p, const char *tenant,
                                  const char *user_id, const char *state, int wrap_secs)
{
    const char *args[8] = { tenant, user_id, NULL, NULL, NULL, NULL, NULL, NULL };
    const char **row, *cur, *now, *resume = NULL, *resume_reason = NULL;
    agent_state_input_t in = { state, NULL };
    json_t *obj, *changes;
    apr_int64_t secs = apr_time_sec(apr_time_now());
    cc_error_t *err;

    if ((err = cc_db_select_row(db, "cc_agents_user_lock", 2, args, &row, NULL)) || !row
        || (err = cc_db_select_row(db, "cc_agents_current", 2, args, &row, NULL))) {
        return err;
    }
    cur = row ? row[0] : "offline";
    /* on_call from any other state; wrap_up only after on_call; the end of a wrap-up
     * only from wrap_up (an agent who chose break or offline meanwhile stays so). */
    if (!strcmp(state, "on_call") ? !strcmp(cur, "on_call")
        : !strcmp(state, "wrap_up") ? strcmp(cur, "on_call") : strcmp(cur, "wrap_up")) {
        return NULL;
    }
    /* The state to resume after the call: a break or offline the call interrupted (an
     * agent without a state yet is nominally offline, not on a chosen break), carried
     * from on_call to wrap_up; the end of the wrap-up goes back to it. */
    if (!strcmp(state, "on_call") && row && (!strcmp(cur, "break") || !strcmp(cur, "offline"))) {
        resume = cur;
        resume_reason = row[1];
    }
    else if (row && (!strcmp(cur, "on_call") || !strcmp(cur, "wrap_up"))) {
        resume = row[2];
        resume_reason = row[3];
    }
    if (!strcmp(state, "available") && resume) {
        state = in.state = resume;
        in.reason = resume_reason;
        resume = resume_reason = NULL;
    }
    now = cc_epoch_to_sql(p, secs);
    {
        const char *close[3] = { now, tenant, user_id };

        if ((err = cc_db_exec(db, "cc_agents_state_close", 3, close, NULL))) {
            return err;
        }
    }
    args[2] = state;
    args[3] = in.reason;
    args[4] = now;
    args[5] = strcmp(state, "wrap_up") ? NULL
              : cc_epoch_to_sql(p, secs + (wrap_secs > 0 ? wrap_secs : 0));
    args[6] = resume;
    args[7] = resume_reason;
    if ((err = cc_db_exec(db, "cc_agents_state_open_until", 8, args, NULL))
        || (err = follow_memberships(db, p, tenant, user_id, &in))
        || (err = cc_db_select_one(db, "cc_agents_state_get", state_cols, 2, args, &obj))
        || (!strcmp(state, "available")
            && (err = follow_chat(db, tenant, user_id, &cc_actor_system)))) {
        return err;
    }
    changes = cc_json_object(p);
    cc_audit_change_str(changes, CC_AGENT_KEY_STATE, cur, state);
    return cc_record(db, tenant, &cc_actor_system, "agent", "state_change", user_id, changes,
                     obj, CC_RECORD_BOTH);
}

cc_error_t *cc_agents_wrap_up_due(cc_db_t *db, apr_pool_t *p)
{
    static const cc_col_t due_cols[] = { { "tenant", CC_COL_STR }, { "user", CC_COL_STR },
                                         CC_COL_END };
    json_t *rows;
    size_t i;
    cc_error_t *err;

    if ((err = cc_db_select(db, "cc_agents_wrap_up_due", due_cols, 0, NULL, &rows, NULL))) {
        return err;
    }
    for (i = 0; i < json_array_size(rows); i++) {
        const json_t *r = json_array_get(rows, i);

        if ((err = cc_db_begin(db))
            || (err = cc_agents_follow_call(db, p, cc_json_str(r, "tenant"),
                                            cc_json_str(r, "user"), "available", 0))
            || (err = cc_db_commit(db))) {
            return err;
        }
    }
    return NULL;
}

/* ---- handlers ---- */

static cc_error_t *agents_list(cc_ctx_t *ctx)
{
    const char *args[1] = { ctx->principal->tenant_id };
    json_t *rows;
    cc_error_t *err = cc_db_select(ctx->db, "cc_agents_list", agent_cols, 1, args, &rows,
                                   NULL);

    return err ? err : cc_reply_json(ctx, HTTP_OK,
                                     cc_json_own(ctx->pool, json_pack("{s:O}", "data", rows)));
}

static cc_error_t *agent_state_get(cc_ctx_t *ctx)
{
    const char *user_id;
    json_t *obj;
    cc_error_t *err;

    if ((err = path_agent(ctx, &user_id)) || (err = fetch_state(ctx, user_id, &obj))) {
        return err;
    }
    return cc_reply_json(ctx, HTTP_OK, obj);
}

/* break with the tenant's list set: the reason must be on it (*preason: its spelling). */
static cc_error_t *check_reason(cc_ctx_t *ctx, agent_state_input_t *in)
{
    const char *args[2] = { in->reason, ctx->principal->tenant_id };
    const char **row;
    cc_error_t *err;

    if (strcmp(in->state, "break")) {
        return NULL;
    }
    if ((err = cc_db_select_row(ctx->db, "cc_agents_reason_match", 2, args, &row, NULL))) {
        return err;
    }
    if (row && row[0] && strcmp(row[0], "0")) {
        if (!row[1]) {
            /* The list itself needs agents.manage: the refusal names it. */
            return cc_error_collect(ctx->pool, NULL, CC_AGENT_KEY_REASON,
                                    apr_pstrcat(ctx->pool, "must be one of the tenant's"
                                                " pause reasons: ", row[2], NULL));
        }
        in->reason = row[1];
    }
    return NULL;
}

static cc_error_t *agent_state_put(cc_ctx_t *ctx)
{
    apr_pool_t *p = ctx->pool;
    const char *user_id, *tenant = ctx->principal->tenant_id, *args[6], *close[3], *now;
    agent_state_input_t in;
    json_t *body, *cur, *obj, *changes;
    const char **row;
    cc_error_t *err;

    if ((err = path_agent(ctx, &user_id))
        || (err = cc_read_json_fields(ctx, state_fields, &body))
        || (err = cc_agent_state_read(p, body, &in))) {
        return err;
    }
    args[0] = tenant;
    args[1] = user_id;
    if ((err = cc_db_begin(ctx->db))
        || (err = cc_db_select_row(ctx->db, "cc_agents_user_lock", 2, args, &row, NULL))) {
        return err;
    }
    if (!row) {
        return cc_error_not_found(p);
    }
    if ((err = check_reason(ctx, &in)) || (err = fetch_state(ctx, user_id, &cur))) {
        return err;
    }
    changes = cc_json_own(p, json_object());
    cc_audit_change_str(changes, CC_AGENT_KEY_STATE,
                        cc_json_str(cur, CC_AGENT_KEY_STATE), in.state);
    if (!cc_str_same(cc_json_str(cur, CC_AGENT_KEY_REASON), in.reason)) {
        cc_audit_change(changes, CC_AGENT_KEY_REASON,
                        cc_json_str_or_null(cc_json_str(cur, CC_AGENT_KEY_REASON)),
                        cc_json_str_or_null(in.reason));
    }
    if (json_object_size(changes) == 0 && cc_json_str(cur, "since")) {
        return cc_reply_unchanged(ctx, agent_state_get);
    }
    /* Taken under the user's lock: the next change of this agent reads a later one. */
    now = cc_epoch_to_sql(p, apr_time_sec(apr_time_now()));
    close[0] = now;
    close[1] = tenant;
    close[2] = user_id;
    args[2] = in.state;
    args[3] = in.reason;
    args[4] = now;
    if ((err = cc_db_exec(ctx->db, "cc_agents_state_close", 3, close, NULL))
        || (err = cc_db_exec(ctx->db, "cc_agents_state_open", 5, args, NULL))) {
        return err;
    }
    if ((err = follow_memberships(ctx->db, p, tenant, user_id, &in))
        || (err = fetch_state(ctx, user_id, &obj))
        || (err = follow_chat(ctx->db, tenant, user_id, cc_ctx_actor(ctx)))) {
        return err;
    }
    return cc_ctx_commit(ctx, "agent", "state_change", user_id, changes, obj, HTTP_OK, NULL);
}

static cc_error_t *agent_history(cc_ctx_t *ctx)
{
    const char *user_id, *from, *to, *args[4], **row;
    json_t *rows;
    cc_error_t *err;

    if ((err = path_agent(ctx, &user_id)) || (err = read_window(ctx, &from, &to))) {
        return err;
    }
    args[0] = ctx->principal->tenant_id;
    args[1] = user_id;
    if ((err = cc_db_select_row(ctx->db, "cc_agents_user_exists", 2, args, &row, NULL))) {
        return err;
    }
    if (!row) {
        return cc_error_not_found(ctx->pool);
    }
    args[2] = to;
    args[3] = from;
    if ((err = cc_db_select(ctx->db, "cc_agents_history", history_cols, 4, args, &rows,
                            NULL))) {
        return err;
    }
    return cc_reply_json(ctx, HTTP_OK,
                         cc_json_own(ctx->pool, json_pack("{s:O}", "data", rows)));
}

static cc_error_t *agents_stats(cc_ctx_t *ctx)
{
    const char *from, *to, *args[5];
    json_t *rows, *out;
    cc_error_t *err;

    if ((err = read_window(ctx, &from, &to))) {
        return err;
    }
    args[0] = from;
    args[1] = to;
    args[2] = ctx->principal->tenant_id;
    args[3] = to;
    args[4] = from;
    if ((err = cc_db_select(ctx->db, "cc_agents_stats", stats_cols, 5, args, &rows, NULL))) {
        return err;
    }
    out = cc_json_own(ctx->pool, cc_agent_stats_fold(rows));
    json_object_set_new(out, "from", json_string(cc_sql_time_to_rfc3339(ctx->pool, from)));
    json_object_set_new(out, "to", json_string(cc_sql_time_to_rfc3339(ctx->pool, to)));
    return cc_reply_json(ctx, HTTP_OK, out);
}

static cc_error_t *reasons_get(cc_ctx_t *ctx)
{
    const char *args[1] = { ctx->principal->tenant_id };
    json_t *rows, *list, *row;
    cc_error_t *err;
    size_t i;

    if ((err = cc_db_select(ctx->db, "cc_agents_reasons", reason_cols, 1, args, &rows,
                            NULL))) {
        return err;
    }
    list = cc_json_own(ctx->pool, json_array());
    json_array_foreach(rows, i, row) {
        json_array_append(list, json_object_get(row, "reason"));
    }
    return cc_reply_json(ctx, HTTP_OK,
                         cc_json_own(ctx->pool, json_pack("{s:O}", CC_AGENT_KEY_REASONS,
                                                          list)));
}

static cc_error_t *reasons_put(cc_ctx_t *ctx)
{
    apr_pool_t *p = ctx->pool;
    const char *tenant = ctx->principal->tenant_id, *args[3], **row;
    apr_array_header_t *reasons;
    json_t *body, *before, *changes;
    cc_error_t *err;
    int i;

    if ((err = cc_read_json_fields(ctx, reasons_fields, &body))
        || (err = cc_agent_reasons_read(p, body, &reasons))) {
        return err;
    }
    args[0] = tenant;
    if ((err = cc_db_begin(ctx->db))
        || (err = cc_db_select_row(ctx->db, "cc_agents_reasons_lock", 1, args, &row, NULL))
        || (err = cc_db_select(ctx->db, "cc_agents_reasons", reason_cols, 1, args, &before,
                               NULL))
        || (err = cc_db_exec(ctx->db, "cc_agents_reasons_clear", 1, args, NULL))) {
        return err;
    }
    for (i = 0; i < reasons->nelts; i++) {
        args[1] = apr_itoa(p, i);
        args[2] = APR_ARRAY_IDX(reasons, i, const char *);
        if ((err = cc_db_exec(ctx->db, "cc_agents_reasons_add", 3, args, NULL))) {
            /* Two that the database's collation takes as one (e.g. accents). */
            return cc_db_is_duplicate(ctx->db, err)
                ? cc_error_collect(p, NULL, CC_AGENT_KEY_REASONS,
                                   "holds two reasons the database takes as the same")
                : err;
        }
    }
    changes = cc_json_own(p, json_object());
    cc_audit_change(changes, CC_AGENT_KEY_REASONS, json_incref(before),
                    json_incref(json_object_get(body, CC_AGENT_KEY_REASONS)));
    return cc_ctx_commit(ctx, "agent_pause_reasons", "update", tenant, changes,
                         cc_json_own(p, json_pack("{s:O}", CC_AGENT_KEY_REASONS,
                                                  json_object_get(body,
                                                                  CC_AGENT_KEY_REASONS))),
                         HTTP_OK, NULL);
}

/* Literal paths before the ones with a capture (the router tries them in order). */
static const cc_route_t agents_routes[] = {
    { "GET", "/api/v1/agents", agents_list, "agents.read", CC_ROUTE_AUTH },
    { "GET", "/api/v1/agents/stats", agents_stats, "agents.read", CC_ROUTE_AUTH },
    { "GET", "/api/v1/agents/pause-reasons", reasons_get, "agents.manage", CC_ROUTE_AUTH },
    { "PUT", "/api/v1/agents/pause-reasons", reasons_put, "agents.manage", CC_ROUTE_AUTH },
    { "GET", "/api/v1/agents/{user_id:int}/state", agent_state_get, "agents.read",
      CC_ROUTE_AUTH },
    { "PUT", "/api/v1/agents/{user_id:int}/state", agent_state_put, "agents.read",
      CC_ROUTE_AUTH },
    { "GET", "/api/v1/agents/{user_id:int}/state-history", agent_history, "agents.read",
      CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_agents_domain = { "agents", agents_routes, agents_stmts, NULL, NULL,
                                       NULL };
