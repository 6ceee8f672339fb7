/*
 * cc_chat_sessions.c: the agents' side of chat (API.md "Chat"):
 *
 *   /api/v1/chat/sessions[/{id}]              chat.read
 *   /api/v1/chat/sessions/{id}/messages       GET chat.read, POST chat.handle
 *   /api/v1/chat/sessions/{id}/accept|transfer|close   chat.handle
 *   /api/v1/chat/agents[/{user_id}]           GET chat.read; PUT chat.handle (own status),
 *                                             chat.manage (anyone's, or max_concurrent)
 *
 * and what both sides do to a session (post a message, close it; cc_chat_private.h).
 * Every change of capacity runs under the tenant's routing lock (cc_chat_routing.c).  A
 * message locks its session's row only: messages do not change who has the chat.
 */
#include <string.h>

#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "cc_audit.h"
#include "cc_chat_private.h"
#include "cc_chat_rules.h"
#include "cc_json.h"
#include "cc_validate.h"

#define MESSAGES_DEFAULT 100
#define MESSAGES_MAX 500

/* The message object's columns (message_cols order). */
#define MESSAGE_COLUMNS                                                                  \
    "m.id, m.session_id, m.sender_type, m.sender_user_id,"                                \
    " IF(m.sender_type = 'visitor', s.visitor_name, u.name), m.body, m.created_at"
#define MESSAGE_FROM                                                                     \
    " FROM chat_messages m JOIN chat_sessions s ON s.id = m.session_id"                  \
    "  AND s.tenant_id = m.tenant_id"                                                    \
    " LEFT JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.sender_user_id"

/* Filters bind 7 values: tenant, status x2, agent_id x2, widget_id x2. */
#define SESSIONS_FILTER                                                                  \
    " s.tenant_id = %s AND (%s IS NULL OR s.status = %s)"                                \
    " AND (%s IS NULL OR s.agent_id = %s) AND (%s IS NULL OR s.widget_id = %s)"
#define SESSIONS_LIST(order)                                                             \
    "SELECT " CHAT_SESSION_COLUMNS ", (SELECT COUNT(*) FROM chat_sessions s"                   \
    " WHERE s.tenant_id = %s) AS total" CHAT_SESSION_FROM " WHERE s.tenant_id = %s"           \
    " ORDER BY " order " LIMIT %s OFFSET %s"
#define SESSIONS_SEARCH(order)                                                           \
    "SELECT " CHAT_SESSION_COLUMNS ", (SELECT COUNT(*) FROM chat_sessions s WHERE"            \
    SESSIONS_FILTER ") AS total" CHAT_SESSION_FROM " WHERE" SESSIONS_FILTER                    \
    " ORDER BY " order " LIMIT %s OFFSET %s"

/* The chat agent object's columns (agent_cols order). */
#define AGENT_COLUMNS                                                                    \
    "u.id, u.name, COALESCE(a.status, 'offline'), COALESCE(a.max_concurrent, "            \
    CC_CHAT_CAPACITY_DEFAULT "), COALESCE(a.active_count, 0), st.state,"                  \
    " a.last_assigned_at"
#define AGENT_FROM                                                                       \
    " FROM users u LEFT JOIN chat_agents a ON a.tenant_id = u.tenant_id AND a.user_id = u.id" \
    " LEFT JOIN agent_states st ON st.tenant_id = u.tenant_id AND st.current_user_id = u.id"

static const cc_stmt_t sessions_stmts[] = {
    CC_LIST_SORT("cc_chat_sessions", "created_at", SESSIONS_LIST, SESSIONS_SEARCH,
                 "s.created_at ASC, s.id ASC", "s.created_at DESC, s.id DESC"),
    CC_STMT("cc_chat_sessions_count",
            "SELECT COUNT(*) FROM chat_sessions s WHERE s.tenant_id = %s"),
    CC_STMT("cc_chat_sessions_search_count",
            "SELECT COUNT(*) FROM chat_sessions s WHERE" SESSIONS_FILTER),
    CC_STMT("cc_chat_sessions_lock",
            "SELECT status, agent_id FROM chat_sessions WHERE tenant_id = %s AND id = %s"
            " FOR UPDATE"),
    CC_STMT("cc_chat_sessions_transfers",
            "SELECT id, from_agent_id, to_agent_id, note, created_by, created_at"
            " FROM chat_transfers WHERE tenant_id = %s AND session_id = %s ORDER BY id"),
    /* An agent's room: its capacity and load (no row: the default, none) and status. */
    CC_STMT("cc_chat_sessions_room",
            "SELECT COALESCE(MAX(a.max_concurrent), " CC_CHAT_CAPACITY_DEFAULT "),"
            " COALESCE(MAX(a.active_count), 0), MAX(a.status)"
            " FROM chat_agents a WHERE a.tenant_id = %s AND a.user_id = %s"
            " LOCK IN SHARE MODE"),
    CC_STMT("cc_chat_sessions_take",
            "UPDATE chat_sessions SET status = 'active', agent_id = %s,"
            " assigned_at = UTC_TIMESTAMP(6), agent_replied_at = NULL, skip_agent_id = NULL,"
            " updated_at = UTC_TIMESTAMP() WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_chat_sessions_agent_stamp",
            "INSERT INTO chat_agents (tenant_id, user_id, last_assigned_at)"
            " VALUES (%s, %s, UTC_TIMESTAMP(6))"
            " ON DUPLICATE KEY UPDATE last_assigned_at = UTC_TIMESTAMP(6)"),
    CC_STMT("cc_chat_sessions_transfer_add",
            "INSERT INTO chat_transfers (tenant_id, session_id, from_agent_id, to_agent_id,"
            " note, created_by, created_at) VALUES (%s, %s, %s, %s, %s, %s, UTC_TIMESTAMP(6))"
            " RETURNING id, from_agent_id, to_agent_id, note, created_by, created_at"),
    CC_STMT("cc_chat_sessions_close",
            "UPDATE chat_sessions SET status = 'closed', closed_at = UTC_TIMESTAMP(6),"
            " closed_by = %s, updated_at = UTC_TIMESTAMP() WHERE tenant_id = %s AND id = %s"),
    /* A live user of the tenant who can sign in (a transfer's target). */
    CC_STMT("cc_chat_sessions_user",
            "SELECT id FROM users WHERE tenant_id = %s AND id = %s AND deleted_at IS NULL"
            " AND status = 'active'"),
    CC_STMT("cc_chat_sessions_exists",
            "SELECT id FROM chat_sessions WHERE tenant_id = %s AND id = %s"),
    /* Messages. */
    CC_STMT("cc_chat_messages_insert",
            "INSERT INTO chat_messages (tenant_id, session_id, sender_type, sender_user_id,"
            " body, created_at) VALUES (%s, %s, %s, %s, %s, UTC_TIMESTAMP(6)) RETURNING id"),
    CC_STMT("cc_chat_messages_get",
            "SELECT " MESSAGE_COLUMNS MESSAGE_FROM " WHERE m.tenant_id = %s AND m.id = %s"),
    CC_STMT("cc_chat_messages_after",
            "SELECT " MESSAGE_COLUMNS MESSAGE_FROM " WHERE m.tenant_id = %s"
            " AND m.session_id = %s AND m.id > %s ORDER BY m.id LIMIT %s"),
    CC_STMT("cc_chat_messages_visitor_seen",
            "UPDATE chat_sessions SET last_message_at = UTC_TIMESTAMP(6),"
            " visitor_seen_at = UTC_TIMESTAMP(6) WHERE tenant_id = %s AND id = %s"),
    /* A supervisor's message in another agent's chat: neither's first reply. */
    CC_STMT("cc_chat_messages_other_seen",
            "UPDATE chat_sessions SET last_message_at = UTC_TIMESTAMP(6)"
            " WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_chat_messages_agent_seen",
            "UPDATE chat_sessions SET last_message_at = UTC_TIMESTAMP(6),"
            " agent_replied_at = COALESCE(agent_replied_at, UTC_TIMESTAMP(6)),"
            " first_response_at = COALESCE(first_response_at, UTC_TIMESTAMP(6))"
            " WHERE tenant_id = %s AND id = %s"),
    /* Chat agents. */
    /* Chat agents are the tenant's live users who can sign in (a disabled one is gone:
     * cc_chat_agent_gone). */
    CC_STMT("cc_chat_agents_list",
            "SELECT " AGENT_COLUMNS AGENT_FROM " WHERE u.tenant_id = %s"
            " AND u.deleted_at IS NULL AND u.status = 'active' AND a.user_id IS NOT NULL"
            " ORDER BY u.name, u.id"),
    CC_STMT("cc_chat_agents_get",
            "SELECT " AGENT_COLUMNS AGENT_FROM " WHERE u.tenant_id = %s AND u.id = %s"
            " AND u.deleted_at IS NULL AND u.status = 'active'"),
    CC_STMT("cc_chat_agents_put",
            "INSERT INTO chat_agents (tenant_id, user_id, status, max_concurrent)"
            " VALUES (%s, %s, %s, COALESCE(%s, " CC_CHAT_CAPACITY_DEFAULT "))"
            " ON DUPLICATE KEY UPDATE status = VALUES(status),"
            " max_concurrent = COALESCE(%s, max_concurrent), updated_at = UTC_TIMESTAMP()"),
    CC_STMT_END
};

static const cc_col_t message_cols[] = {
    { "id", CC_COL_INT },
    { "session_id", CC_COL_INT },
    { "sender_type", CC_COL_STR },
    { "sender_id", CC_COL_INT },
    { "sender_name", CC_COL_STR },
    { "body", CC_COL_STR },
    { "created_at", CC_COL_TIME },
    CC_COL_END
};

static const cc_col_t transfer_cols[] = {
    { "id", CC_COL_INT },
    { "from_agent_id", CC_COL_INT },
    { "to_agent_id", CC_COL_INT },
    { "note", CC_COL_STR },
    { "created_by", CC_COL_INT },
    { "created_at", CC_COL_TIME },
    CC_COL_END
};

static const cc_col_t agent_cols[] = {
    { "user_id", CC_COL_INT },
    { "name", CC_COL_STR },
    { "status", CC_COL_STR },
    { "max_concurrent", CC_COL_INT },
    { "active_count", CC_COL_INT },
    { "voice_state", CC_COL_STR },
    { "last_assigned_at", CC_COL_TIME },
    CC_COL_END
};

static const char *const session_sorts[] = { "created_at", NULL };

static const cc_filter_t session_filters[] = {
    { "status", CC_FILTER_ENUM, 2, cc_chat_session_statuses, 0, NULL, NULL },
    { "agent_id", CC_FILTER_ID, 2, NULL, 0, NULL, NULL },
    { "widget_id", CC_FILTER_ID, 2, NULL, 0, NULL, NULL },
    CC_FILTER_END
};

static const cc_list_t sessions_list = { "cc_chat_sessions", session_sorts, "-created_at",
                                         cc_chat_session_columns, session_filters, 0, NULL, NULL };

static const cc_field_t message_fields[] = {
    { "body", CC_JT_STRING, 1 },
    { NULL, 0, 0 }
};

static const cc_field_t transfer_fields[] = {
    { "to_agent_id", CC_JT_INT, 1 },
    { "note", CC_JT_STRING_NULL, 0 },
    { NULL, 0, 0 }
};

static const cc_field_t agent_fields[] = {
    { "status", CC_JT_STRING, 1 },
    { "max_concurrent", CC_JT_INT, 0 },
    { NULL, 0, 0 }
};

/* ---- what both sides do ---- */

/* The session's row, locked: *pstatus, *pagent (NULL when none); 404 when no session. */
static cc_error_t *lock_session(cc_db_t *db, const char *tenant, const char *id,
                                const char **pstatus, const char **pagent)
{
    const char *args[2] = { tenant, id }, **row;
    cc_error_t *err = cc_db_select_row(db, "cc_chat_sessions_lock", 2, args, &row, NULL);

    if (err) {
        return err;
    }
    if (!row) {
        return cc_error_not_found(db->pool);
    }
    *pstatus = row[0];
    *pagent = row[1];
    return NULL;
}

/* An agent's act on a session that is agent's (NULL: none): user's own, or may_any
 * (chat.manage); 403 otherwise. */
static cc_error_t *own_or_manage(apr_pool_t *p, const char *agent, const char *user,
                                 int may_any)
{
    if (may_any || (agent && user && !strcmp(agent, user))) {
        return NULL;
    }
    return cc_error_make(p, HTTP_FORBIDDEN, CC_ERR_FORBIDDEN,
                         "the chat is not yours: permission chat.manage required");
}

cc_error_t *cc_chat_post(cc_db_t *db, const char *tenant, const cc_actor_t *actor,
                         const char *id, cc_chat_sender_e by, const char *body, int may_any,
                         json_t **pmsg)
{
    const char *status, *agent, *args[5], **row;
    cc_error_t *err;

    if ((err = lock_session(db, tenant, id, &status, &agent))) {
        return err;
    }
    if (!strcmp(status, "closed")) {
        return cc_error_conflict(db->pool, "the chat is closed");
    }
    if (by == CC_CHAT_BY_AGENT
        && (err = own_or_manage(db->pool, agent, actor->id, may_any))) {
        return err;
    }
    if (by == CC_CHAT_BY_AGENT && strcmp(status, "active")) {
        return cc_error_conflict(db->pool, "the chat is waiting for an agent: accept it"
                                 " first");
    }
    args[0] = tenant;
    args[1] = id;
    args[2] = by == CC_CHAT_BY_AGENT ? "agent" : "visitor";
    args[3] = by == CC_CHAT_BY_AGENT ? actor->id : NULL;
    args[4] = body;
    if ((err = cc_db_select_row(db, "cc_chat_messages_insert", 5, args, &row, NULL))) {
        return err;
    }
    if (!row || !row[0]) {
        return cc_error_internal(db->pool);
    }
    args[1] = row[0];
    if ((err = cc_db_select_one(db, "cc_chat_messages_get", message_cols, 2, args, pmsg))) {
        return err;
    }
    args[1] = id;
    /* An agent's message counts as its reply only when the chat is its own (a
     * supervisor's does not stop the assigned agent's reassign_after clock). */
    if ((err = cc_db_exec(db, by == CC_CHAT_BY_VISITOR ? "cc_chat_messages_visitor_seen"
                              : agent && actor->id && !strcmp(agent, actor->id)
                              ? "cc_chat_messages_agent_seen"
                              : "cc_chat_messages_other_seen", 2, args, NULL))) {
        return err;
    }
    return cc_record(db, tenant, actor, "chat_session", "chat.message", id,
                     cc_json_own(db->pool,
                                 json_pack("{s:O}", "message_id",
                                           json_object_get(*pmsg, "id"))),
                     cc_json_own(db->pool, json_pack("{s:I,s:O}", "session_id",
                                                     (json_int_t)apr_atoi64(id),
                                                     "message", *pmsg)),
                     CC_RECORD_BOTH | CC_RECORD_TYPE_IS_ACTION);
}

cc_error_t *cc_chat_close(cc_db_t *db, const char *tenant, const cc_actor_t *actor,
                          const char *id, const char *closed_by, const char *agent_user,
                          int may_any, json_t **pobj)
{
    const char *status, *agent, *args[3];
    cc_error_t *err;

    if ((err = cc_chat_lock(db, tenant))
        || (err = lock_session(db, tenant, id, &status, &agent))) {
        return err;
    }
    if (!strcmp(status, "closed")) {
        return cc_error_conflict(db->pool, "the chat is closed already");
    }
    if (agent_user && !strcmp(status, "active")
        && (err = own_or_manage(db->pool, agent, agent_user, may_any))) {
        return err;
    }
    args[0] = closed_by;
    args[1] = tenant;
    args[2] = id;
    if ((err = cc_db_exec(db, "cc_chat_sessions_close", 3, args, NULL))
        || (err = cc_chat_session_event(db, tenant, actor, "chat.session_close", id,
                                        cc_json_own(db->pool,
                                                    json_pack("{s:{s:s,s:s}}", "status",
                                                              "from", status, "to",
                                                              "closed")),
                                        NULL, CC_RECORD_BOTH, pobj))) {
        return err;
    }
    /* A waiting one leaves the queue; an active one frees its agent's place. */
    return cc_chat_assign_and_announce(db, tenant, actor, !strcmp(status, "waiting"));
}

cc_error_t *cc_chat_messages(cc_db_t *db, const char *tenant, const char *id,
                             const char *after, const char *limit, json_t **prows)
{
    const char *args[4] = { tenant, id, after, limit };

    return cc_db_select(db, "cc_chat_messages_after", message_cols, 4, args, prows, NULL);
}

cc_error_t *cc_chat_read_message(cc_ctx_t *ctx, const char **ptext)
{
    json_t *body;
    cc_error_t *err = cc_read_json_fields(ctx, message_fields, &body);

    if (err) {
        return err;
    }
    *ptext = cc_json_str(body, "body");
    if (!cc_chat_text_valid(*ptext, CC_CHAT_MESSAGE_MAX)) {
        return cc_error_field(ctx->pool, "body",
                              apr_psprintf(ctx->pool, "must be 1 to %d characters, not only"
                                           " white space", CC_CHAT_MESSAGE_MAX));
    }
    return NULL;
}

cc_error_t *cc_chat_read_after(cc_ctx_t *ctx, const char **pafter, const char **plimit)
{
    const char *after = ctx->args ? apr_table_get(ctx->args, "after") : NULL;
    apr_int64_t v;
    cc_error_t *err = NULL;
    int limit;

    *pafter = "0";
    if (after) {
        if (strcmp(after, "0") && !cc_parse_id(after, &v)) {
            err = cc_error_collect(ctx->pool, err, "after", "must be a message id (0 or more)");
        }
        *pafter = after;
    }
    err = cc_args_int(ctx->pool, err, ctx->args, "limit", 1, MESSAGES_MAX, MESSAGES_DEFAULT,
                      &limit);
    *plimit = apr_itoa(ctx->pool, limit);
    return err;
}

/* ---- handlers: sessions ---- */

static cc_error_t *session_get(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id");
    const char *args[2] = { ctx->principal->tenant_id, id };
    json_t *obj, *transfers;
    cc_error_t *err;

    if ((err = cc_chat_session(ctx->db, ctx->principal->tenant_id, id, &obj))) {
        return err;
    }
    if (!obj) {
        return cc_error_not_found(ctx->pool);
    }
    if ((err = cc_db_select(ctx->db, "cc_chat_sessions_transfers", transfer_cols, 2, args,
                            &transfers, NULL))) {
        return err;
    }
    json_object_set(obj, "transfers", transfers);
    return cc_reply_json(ctx, HTTP_OK, obj);
}

/* The agent's room, locked: 409 when it has none.  online_required: and status online. */
static cc_error_t *check_room(cc_ctx_t *ctx, const char *user, int online_required)
{
    const char *args[2] = { ctx->principal->tenant_id, user }, **row;
    cc_error_t *err = cc_db_select_row(ctx->db, "cc_chat_sessions_room", 2, args, &row, NULL);

    if (err) {
        return err;
    }
    if (online_required && !(row && row[2] && !strcmp(row[2], "online"))) {
        return cc_error_conflict(ctx->pool, "agent %s is not online for chat", user);
    }
    if (row && row[0] && row[1] && apr_atoi64(row[1]) >= apr_atoi64(row[0])) {
        return cc_error_conflict(ctx->pool, "agent %s has no free chat place (%s of %s)",
                                 user, row[1], row[0]);
    }
    return NULL;
}

static cc_error_t *give_to(cc_ctx_t *ctx, const char *id, const char *user)
{
    const char *t = ctx->principal->tenant_id, *args[3] = { user, t, id };
    cc_error_t *err = cc_db_exec(ctx->db, "cc_chat_sessions_take", 3, args, NULL);

    args[0] = t;
    args[1] = user;
    return err ? err : cc_db_exec(ctx->db, "cc_chat_sessions_agent_stamp", 2, args, NULL);
}

/* Taking or writing in a chat is for the tenant's own users: a platform admin acting in
 * another tenant (X-Tenant-ID) manages its chats but takes and answers none. */
static cc_error_t *tenant_user(cc_ctx_t *ctx)
{
    const cc_principal_t *pr = ctx->principal;

    if (pr->home_tenant_id && strcmp(pr->home_tenant_id, pr->tenant_id)) {
        return cc_error_make(ctx->pool, HTTP_FORBIDDEN, CC_ERR_FORBIDDEN,
                             "only the tenant's own users take and answer its chats");
    }
    return NULL;
}

static cc_error_t *session_accept(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), *t = ctx->principal->tenant_id, *status, *agent;
    const char *me = ctx->principal->user_id_str;
    json_t *obj;
    cc_error_t *err;

    if ((err = cc_read_no_fields(ctx))
        || (err = tenant_user(ctx))
        || (err = cc_db_begin(ctx->db))
        || (err = cc_chat_lock(ctx->db, t))
        || (err = lock_session(ctx->db, t, id, &status, &agent))) {
        return err;
    }
    if (strcmp(status, "waiting")) {
        return cc_error_conflict(ctx->pool, "the chat is %s, not waiting", status);
    }
    if ((err = check_room(ctx, me, 0))
        || (err = give_to(ctx, id, me))
        || (err = cc_chat_session_event(ctx->db, t, cc_ctx_actor(ctx), "chat.session_accept",
                                        id, cc_json_own(ctx->pool,
                                                        json_pack("{s:{s:n,s:s}}",
                                                                  "agent_id", "from", "to",
                                                                  me)),
                                        NULL, CC_RECORD_BOTH, &obj))
        || (err = cc_chat_queue_changed(ctx->db, t, cc_ctx_actor(ctx)))
        || (err = cc_db_commit(ctx->db))) {
        return err;
    }
    return cc_reply_json(ctx, HTTP_OK, obj);
}

static cc_error_t *session_post(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), *t = ctx->principal->tenant_id;
    json_t *msg;
    cc_error_t *err;
    const char *text;

    if ((err = cc_chat_read_message(ctx, &text)) || (err = tenant_user(ctx))) {
        return err;
    }
    if ((err = cc_db_begin(ctx->db))
        || (err = cc_chat_post(ctx->db, t, cc_ctx_actor(ctx), id, CC_CHAT_BY_AGENT, text,
                               cc_principal_can(ctx->principal, "chat.manage"), &msg))
        || (err = cc_db_commit(ctx->db))) {
        return err;
    }
    return cc_reply_created(ctx, apr_psprintf(ctx->pool, "/api/v1/chat/sessions/%s/messages"
                                              "?after=%" APR_INT64_T_FMT, id,
                                              (apr_int64_t)json_integer_value(
                                                  json_object_get(msg, "id")) - 1), msg);
}

static cc_error_t *session_messages(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), *t = ctx->principal->tenant_id, *after, *limit;
    const char *args[2] = { t, id }, **row;
    json_t *rows;
    cc_error_t *err;

    if ((err = cc_chat_read_after(ctx, &after, &limit))
        || (err = cc_db_select_row(ctx->db, "cc_chat_sessions_exists", 2, args, &row,
                                   NULL))) {
        return err;
    }
    if (!row) {
        return cc_error_not_found(ctx->pool);
    }
    if ((err = cc_chat_messages(ctx->db, t, id, after, limit, &rows))) {
        return err;
    }
    return cc_reply_json(ctx, HTTP_OK, cc_json_own(ctx->pool, json_pack("{s:O}", "data", rows)));
}

static cc_error_t *session_transfer(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), *t = ctx->principal->tenant_id, *status, *agent;
    const char *to, *note, *args[6], **row;
    json_t *body, *transfer;
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, transfer_fields, &body))) {
        return err;
    }
    to = cc_json_int_text(ctx->pool, body, "to_agent_id");
    note = cc_json_str(body, "note");
    if (note && *note && !cc_chat_text_valid(note, CC_CHAT_NOTE_MAX)) {
        return cc_error_field(ctx->pool, "note",
                              apr_psprintf(ctx->pool, "must be at most %d characters",
                                           CC_CHAT_NOTE_MAX));
    }
    if (note && !*note) {
        note = NULL;
    }
    if ((err = cc_db_begin(ctx->db))
        || (err = cc_chat_lock(ctx->db, t))
        || (err = lock_session(ctx->db, t, id, &status, &agent))) {
        return err;
    }
    if (strcmp(status, "active")) {
        return cc_error_conflict(ctx->pool, "the chat is %s: only an active chat is"
                                 " transferred", status);
    }
    if ((err = own_or_manage(ctx->pool, agent, ctx->principal->user_id_str,
                             cc_principal_can(ctx->principal, "chat.manage")))) {
        return err;
    }
    args[0] = t;
    args[1] = to;
    if ((err = cc_db_select_row(ctx->db, "cc_chat_sessions_user", 2, args, &row, NULL))) {
        return err;
    }
    if (!row) {
        return cc_error_field(ctx->pool, "to_agent_id", "no such user in this tenant");
    }
    if (agent && !strcmp(agent, to)) {
        return cc_error_field(ctx->pool, "to_agent_id", "the chat is that agent's already");
    }
    if ((err = check_room(ctx, to, 1)) || (err = give_to(ctx, id, to))) {
        return err;
    }
    args[0] = t;
    args[1] = id;
    args[2] = agent;
    args[3] = to;
    args[4] = note;
    args[5] = ctx->principal->user_id_str;
    if ((err = cc_db_select_one(ctx->db, "cc_chat_sessions_transfer_add", transfer_cols, 6,
                                args, &transfer))
        || (err = cc_chat_session_event(ctx->db, t, cc_ctx_actor(ctx),
                                        "chat.session_transfer", id,
                                        cc_json_own(ctx->pool,
                                                    json_pack("{s:{s:o,s:s},s:s?}",
                                                              "agent_id", "from",
                                                              cc_json_int_or_null(agent),
                                                              "to", to, "note", note)),
                                        cc_json_own(ctx->pool,
                                                    json_pack("{s:O}", "transfer", transfer)),
                                        CC_RECORD_BOTH, NULL))
        /* The agent it came from has a place free now. */
        || (err = cc_chat_assign_and_announce(ctx->db, t, cc_ctx_actor(ctx), 0))
        || (err = cc_db_commit(ctx->db))) {
        return err;
    }
    /* The session as its receiving agent sees it, with every transfer. */
    return session_get(ctx);
}

static cc_error_t *session_close(cc_ctx_t *ctx)
{
    json_t *obj;
    cc_error_t *err;

    if ((err = cc_read_no_fields(ctx))
        || (err = cc_db_begin(ctx->db))
        || (err = cc_chat_close(ctx->db, ctx->principal->tenant_id, cc_ctx_actor(ctx),
                                cc_path(ctx, "id"), "agent", ctx->principal->user_id_str,
                                cc_principal_can(ctx->principal, "chat.manage"), &obj))
        || (err = cc_db_commit(ctx->db))) {
        return err;
    }
    return cc_reply_json(ctx, HTTP_OK, obj);
}

/* ---- handlers: chat agents ---- */

static cc_error_t *agents_list(cc_ctx_t *ctx)
{
    const char *args[1] = { ctx->principal->tenant_id };
    json_t *rows;
    cc_error_t *err = cc_db_select(ctx->db, "cc_chat_agents_list", agent_cols, 1, args, &rows,
                                   NULL);

    return err ? err : cc_reply_json(ctx, HTTP_OK,
                                     cc_json_own(ctx->pool, json_pack("{s:O}", "data", rows)));
}

static cc_error_t *agent_get(cc_ctx_t *ctx)
{
    return cc_reply_fetch(ctx, "cc_chat_agents_get", agent_cols, cc_path(ctx, "user_id"));
}

static cc_error_t *agent_put(cc_ctx_t *ctx)
{
    const char *user = cc_path(ctx, "user_id"), *t = ctx->principal->tenant_id;
    const char *status, *max = NULL, *args[5];
    json_t *body, *cur, *obj, *changes;
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, agent_fields, &body))) {
        return err;
    }
    status = cc_json_str(body, "status");
    if (!cc_valid_enum(status, cc_chat_agent_statuses)) {
        err = cc_error_collect(ctx->pool, err, "status", "must be one of: online, away, offline");
    }
    if (cc_json_has(body, "max_concurrent")) {
        json_int_t v = cc_json_int(body, "max_concurrent", 0);

        if (v < CC_CHAT_CAPACITY_MIN || v > CC_CHAT_CAPACITY_MAX) {
            err = cc_error_collect(ctx->pool, err, "max_concurrent",
                                   apr_psprintf(ctx->pool, "must be an integer from %d to %d",
                                                CC_CHAT_CAPACITY_MIN, CC_CHAT_CAPACITY_MAX));
        }
        max = cc_json_int_text(ctx->pool, body, "max_concurrent");
    }
    if (err) {
        return err;
    }
    if ((strcmp(user, ctx->principal->user_id_str) || max)
        && !cc_principal_can(ctx->principal, "chat.manage")) {
        return cc_error_make(ctx->pool, HTTP_FORBIDDEN, CC_ERR_FORBIDDEN,
                             "permission chat.manage required to change another agent or"
                             " a capacity");
    }
    if ((err = cc_db_begin(ctx->db))
        || (err = cc_chat_lock(ctx->db, t))
        || (err = cc_fetch(ctx, "cc_chat_agents_get", agent_cols, user, &cur))) {
        return err;
    }
    changes = cc_json_own(ctx->pool, json_object());
    cc_audit_change_str(changes, "status", cc_json_str(cur, "status"), status);
    if (max && cc_json_int(cur, "max_concurrent", 0) != cc_json_int(body, "max_concurrent", 0)) {
        cc_audit_change(changes, "max_concurrent",
                        json_incref(json_object_get(cur, "max_concurrent")),
                        json_incref(json_object_get(body, "max_concurrent")));
    }
    if (json_object_size(changes) == 0) {
        return cc_reply_unchanged(ctx, agent_get);
    }
    args[0] = t;
    args[1] = user;
    args[2] = status;
    args[3] = max;
    args[4] = max;
    if ((err = cc_db_exec(ctx->db, "cc_chat_agents_put", 5, args, NULL))
        /* Online, or more places: what waits may go to it now. */
        || (err = cc_chat_assign_and_announce(ctx->db, t, cc_ctx_actor(ctx), 0))
        || (err = cc_fetch(ctx, "cc_chat_agents_get", agent_cols, user, &obj))) {
        return err;
    }
    return cc_ctx_commit(ctx, "chat_agent", "chat.agent_update", user, changes, obj, HTTP_OK,
                         NULL);
}

/* Literal paths before the ones with a capture. */
static const cc_route_t sessions_routes[] = {
    { "GET", "/api/v1/chat/sessions", cc_handle_list, "chat.read", CC_ROUTE_AUTH },
    { "GET", "/api/v1/chat/sessions/{id:int}", session_get, "chat.read", CC_ROUTE_AUTH },
    { "POST", "/api/v1/chat/sessions/{id:int}/accept", session_accept, "chat.handle",
      CC_ROUTE_AUTH },
    { "GET", "/api/v1/chat/sessions/{id:int}/messages", session_messages, "chat.read",
      CC_ROUTE_AUTH },
    { "POST", "/api/v1/chat/sessions/{id:int}/messages", session_post, "chat.handle",
      CC_ROUTE_AUTH },
    { "POST", "/api/v1/chat/sessions/{id:int}/transfer", session_transfer, "chat.handle",
      CC_ROUTE_AUTH },
    { "POST", "/api/v1/chat/sessions/{id:int}/close", session_close, "chat.handle",
      CC_ROUTE_AUTH },
    { "GET", "/api/v1/chat/agents", agents_list, "chat.read", CC_ROUTE_AUTH },
    { "GET", "/api/v1/chat/agents/{user_id:int}", agent_get, "chat.read", CC_ROUTE_AUTH },
    { "PUT", "/api/v1/chat/agents/{user_id:int}", agent_put, "chat.handle", CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_chat_sessions_domain = { "chat_sessions", sessions_routes,
                                              sessions_stmts, &sessions_list, NULL, NULL };
