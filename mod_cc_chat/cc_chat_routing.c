/*
 * cc_chat_routing.c: who gets which chat (API.md "Chat": assignment), and the session
 * object every chat route answers with.
 *
 * Every change of a tenant's chat capacity (a session created, accepted, transferred or
 * closed, an agent's status or capacity, a voice state, the reassign job) takes the
 * tenant's chat_routing row first (cc_chat_lock: an upsert, exclusive whether the row is
 * new or not), then reads the load and writes the assignments under it: two such changes
 * take turns, so the load one reads is the load it writes and no agent goes past
 * max_concurrent, on one node or several (Galera certifies the row like any other).
 *
 * The reads of load (chat_agents.active_count, kept by triggers on chat_sessions) and
 * queue are locking reads: they see the latest committed rows even in a transaction whose
 * snapshot is older (a voice state change reads its user first).  No session that a
 * message is being written to is locked by them (messages lock their session row only).
 * Users and voice states are read plainly (never locked here): a voice state change
 * locks its user's row and then this one, so locking users after this one could
 * deadlock.
 *
 * cc_chat_assign hands the waiting sessions, oldest first, to the eligible agent with
 * the most free places (ties: the one given a chat least recently, then the lowest id),
 * skipping for a session the agent it was taken back from (reassign_after).  Eligible:
 * chat status online, a live active user, and no voice state on_call, wrap_up or break.
 * Each assignment writes the event chat.session_assigned; a change of the waiting set
 * writes chat.queue_updated (the first CC_CHAT_QUEUE_IDS waiting ids in order: every
 * visitor's position), once per transaction.
 */
#include <string.h>

#include <httpd.h>
#include <apr_strings.h>

#include "cc_audit.h"
#include "cc_chat_link.h"
#include "cc_chat_private.h"
#include "cc_json.h"

/* The waiting sessions one assignment run looks at, beyond the free places. */
#define CC_CHAT_ASSIGN_SLACK 20

static const cc_stmt_t routing_stmts[] = {
    CC_STMT("cc_chat_lock",
            "INSERT INTO chat_routing (tenant_id, changes) VALUES (%s, 1)"
            " ON DUPLICATE KEY UPDATE changes = changes + 1"),
    CC_STMT("cc_chat_session_get",
            "SELECT " CHAT_SESSION_COLUMNS CHAT_SESSION_FROM " WHERE s.tenant_id = %s AND s.id = %s"),
    /* The online agents with a free place, and how many (locked: see the file comment;
     * active_count is kept by triggers, sql/017). */
    CC_STMT("cc_chat_online",
            "SELECT user_id, max_concurrent - active_count, COALESCE(last_assigned_at, '')"
            " FROM chat_agents WHERE tenant_id = %s AND status = 'online'"
            " AND active_count < max_concurrent LOCK IN SHARE MODE"),
    CC_STMT("cc_chat_agent_known",
            "SELECT 1 FROM chat_agents WHERE tenant_id = %s AND user_id = %s"),
    CC_STMT("cc_chat_agent_online",
            "SELECT 1 FROM chat_agents WHERE tenant_id = %s AND user_id = %s"
            " AND status = 'online' LOCK IN SHARE MODE"),
    /* Online agents passed over: not a live active user, or busy on the phone. */
    CC_STMT("cc_chat_ineligible",
            "SELECT a.user_id FROM chat_agents a"
            " LEFT JOIN users u ON u.tenant_id = a.tenant_id AND u.id = a.user_id"
            "  AND u.deleted_at IS NULL AND u.status = 'active'"
            " LEFT JOIN agent_states st ON st.tenant_id = a.tenant_id"
            "  AND st.current_user_id = a.user_id"
            " WHERE a.tenant_id = %s AND a.status = 'online'"
            " AND (u.id IS NULL OR st.state IN ('on_call', 'wrap_up', 'break'))"),
    CC_STMT("cc_chat_waiting",
            "SELECT id, skip_agent_id FROM chat_sessions"
            " WHERE tenant_id = %s AND waiting_at IS NOT NULL"
            " ORDER BY waiting_at, id LIMIT %s FOR UPDATE"),
    CC_STMT("cc_chat_waiting_count",
            "SELECT COUNT(*) FROM chat_sessions WHERE tenant_id = %s"
            " AND waiting_at IS NOT NULL LOCK IN SHARE MODE"),
    CC_STMT("cc_chat_assign_session",
            "UPDATE chat_sessions SET status = 'active', agent_id = %s,"
            " assigned_at = UTC_TIMESTAMP(6), agent_replied_at = NULL, skip_agent_id = NULL,"
            " updated_at = UTC_TIMESTAMP()"
            " WHERE tenant_id = %s AND id = %s AND status = 'waiting'"),
    CC_STMT("cc_chat_agent_assigned",
            "UPDATE chat_agents SET last_assigned_at = UTC_TIMESTAMP(6)"
            " WHERE tenant_id = %s AND user_id = %s"),
    /* The reassign job: active chats whose agent has not replied within their widget's
     * reassign_after, of every tenant (by idx_chat_sessions_unanswered). */
    CC_STMT("cc_chat_reassign_due",
            "SELECT s.tenant_id, s.id FROM chat_sessions s JOIN chat_widgets w"
            " ON w.id = s.widget_id AND w.tenant_id = s.tenant_id"
            " WHERE s.status = 'active' AND s.agent_replied_at IS NULL"
            " AND w.reassign_after IS NOT NULL"
            " AND s.assigned_at < UTC_TIMESTAMP(6) - INTERVAL w.reassign_after SECOND"
            " ORDER BY s.assigned_at LIMIT 100"
            " /* cc-lint: no-tenant the job looks at every tenant's chats; each is then"
            " changed in its tenant */"),
    /* Back to the queue at its old place, if still due (under the routing lock). */
    CC_STMT("cc_chat_reassign",
            "UPDATE chat_sessions s JOIN chat_widgets w ON w.id = s.widget_id"
            " AND w.tenant_id = s.tenant_id"
            " SET s.status = 'waiting', s.skip_agent_id = s.agent_id, s.agent_id = NULL,"
            " s.assigned_at = NULL, s.updated_at = UTC_TIMESTAMP()"
            " WHERE s.tenant_id = %s AND s.id = %s AND s.status = 'active'"
            " AND s.agent_replied_at IS NULL AND w.reassign_after IS NOT NULL"
            " AND s.assigned_at < UTC_TIMESTAMP(6) - INTERVAL w.reassign_after SECOND"),
    /* Sessions whose visitor token has expired (of every tenant): the visitor can no
     * longer write or read them, so they close (by idx_chat_sessions_expiry). */
    CC_STMT("cc_chat_expired",
            "SELECT tenant_id, id FROM chat_sessions WHERE status IN ('waiting', 'active')"
            " AND token_expires_at < UTC_TIMESTAMP() ORDER BY token_expires_at LIMIT 100"
            " /* cc-lint: no-tenant the job looks at every tenant's chats; each is then"
            " closed in its tenant */"),
    /* Waiting sessions whose visitor has been gone for CCChatVisitorTimeout seconds (of
     * every tenant; by idx_chat_sessions_gone). */
    CC_STMT("cc_chat_visitor_gone",
            "SELECT tenant_id, id FROM chat_sessions WHERE status = 'waiting'"
            " AND visitor_seen_at < UTC_TIMESTAMP(6) - INTERVAL %s SECOND"
            " ORDER BY visitor_seen_at LIMIT 100"
            " /* cc-lint: no-tenant the job looks at every tenant's chats; each is then"
            " closed in its tenant */"),
    /* An agent gone (deleted, disabled): its chats back to the queue, its status off. */
    CC_STMT("cc_chat_gone_sessions",
            "SELECT id FROM chat_sessions WHERE tenant_id = %s AND active_agent_id = %s"
            " FOR UPDATE"),
    CC_STMT("cc_chat_gone_requeue",
            "UPDATE chat_sessions SET status = 'waiting', skip_agent_id = agent_id,"
            " agent_id = NULL, assigned_at = NULL, updated_at = UTC_TIMESTAMP()"
            " WHERE tenant_id = %s AND id = %s AND status = 'active'"),
    CC_STMT("cc_chat_gone_offline",
            "UPDATE chat_agents SET status = 'offline', updated_at = UTC_TIMESTAMP()"
            " WHERE tenant_id = %s AND user_id = %s"),
    CC_STMT_END
};

const cc_col_t cc_chat_session_columns[] = {
    { "id", CC_COL_INT },
    { "widget_id", CC_COL_INT },
    { "status", CC_COL_STR },
    { "agent_id", CC_COL_INT },
    { "agent_name", CC_COL_STR },
    { "visitor", CC_COL_JSON },
    { "origin", CC_COL_STR },
    { "position", CC_COL_INT },
    { "created_at", CC_COL_TIME },
    { "assigned_at", CC_COL_TIME },
    { "first_response_at", CC_COL_TIME },
    { "closed_at", CC_COL_TIME },
    { "closed_by", CC_COL_STR },
    { "last_message_at", CC_COL_TIME },
    CC_COL_END
};

cc_error_t *cc_chat_lock(cc_db_t *db, const char *tenant)
{
    const char *args[1] = { tenant };

    return cc_db_exec(db, "cc_chat_lock", 1, args, NULL);
}

cc_error_t *cc_chat_session(cc_db_t *db, const char *tenant, const char *id, json_t **pobj)
{
    const char *args[2] = { tenant, id };

    return cc_db_select_one(db, "cc_chat_session_get", cc_chat_session_columns, 2, args, pobj);
}

cc_error_t *cc_chat_session_event(cc_db_t *db, const char *tenant, const cc_actor_t *actor,
                                  const char *verb, const char *id, const json_t *changes,
                                  json_t *extra, int what, json_t **pobj)
{
    json_t *obj;
    cc_error_t *err = cc_chat_session(db, tenant, id, &obj);

    if (err) {
        return err;
    }
    if (!obj) {
        return cc_error_not_found(db->pool);
    }
    if (extra) {
        json_object_update(obj, extra);
    }
    if (pobj) {
        *pobj = obj;
    }
    return cc_record(db, tenant, actor, "chat_session", verb, id, changes, obj, what);
}

cc_error_t *cc_chat_queue_changed(cc_db_t *db, const char *tenant, const cc_actor_t *actor)
{
    const char *args[2] = { tenant, apr_itoa(db->pool, CC_CHAT_QUEUE_IDS) };
    const char **row;
    json_t *rows, *ids, *r;
    size_t i;
    cc_error_t *err;
    static const cc_col_t id_cols[] = { { "id", CC_COL_INT }, { "skip", CC_COL_SKIP },
                                        CC_COL_END };

    if ((err = cc_db_select_row(db, "cc_chat_waiting_count", 1, args, &row, NULL))
        || (err = cc_db_select(db, "cc_chat_waiting", id_cols, 2, args, &rows, NULL))) {
        return err;
    }
    ids = json_array();
    json_array_foreach(rows, i, r) {
        json_array_append(ids, json_object_get(r, "id"));
    }
    return cc_record(db, tenant, actor, "chat_queue", "chat.queue_update", tenant, NULL,
                     cc_json_own(db->pool,
                                 json_pack("{s:I,s:o}", "waiting",
                                           (json_int_t)(row && row[0] ? apr_atoi64(row[0])
                                                                      : 0),
                                           "sessions", ids)),
                     CC_RECORD_NO_AUDIT);
}

/* An agent that may be given chats now. */
typedef struct candidate_t {
    const char *user_id;
    apr_int64_t free;
    const char *last;          /* last_assigned_at text, "" never ("" sorts first) */
    int stamp;                 /* assignments in this run: later than any last */
} candidate_t;

/* Whether a goes before b. */
static int better(const candidate_t *a, const candidate_t *b)
{
    int c;

    if (a->free != b->free) {
        return a->free > b->free;
    }
    if (a->stamp != b->stamp) {
        return a->stamp < b->stamp;
    }
    if ((c = strcmp(a->last, b->last)) != 0) {
        return c < 0;
    }
    return apr_atoi64(a->user_id) < apr_atoi64(b->user_id);
}

/* The candidates: online, eligible, with a free place. */
static cc_error_t *candidates(cc_db_t *db, const char *tenant, apr_array_header_t **pout,
                              apr_int64_t *pfree)
{
    const char *args[1] = { tenant };
    static const cc_col_t online_cols[] = { { "id", CC_COL_STR }, { "free", CC_COL_INT },
                                            { "last", CC_COL_STR }, CC_COL_END };
    static const cc_col_t id_cols[] = { { "id", CC_COL_STR }, CC_COL_END };
    json_t *online, *skip, *a, *l;
    apr_array_header_t *out = apr_array_make(db->pool, 8, sizeof(candidate_t));
    size_t i, j;
    cc_error_t *err;

    *pout = out;
    *pfree = 0;
    if ((err = cc_db_select(db, "cc_chat_online", online_cols, 1, args, &online, NULL))
        || json_array_size(online) == 0
        || (err = cc_db_select(db, "cc_chat_ineligible", id_cols, 1, args, &skip, NULL))) {
        return err;
    }
    json_array_foreach(online, i, a) {
        const char *id = cc_json_str(a, "id");
        int passed = 0;
        candidate_t *c;

        json_array_foreach(skip, j, l) {
            passed |= !strcmp(cc_json_str(l, "id"), id);
        }
        if (passed) {
            continue;
        }
        c = apr_array_push(out);
        c->user_id = id;
        c->free = cc_json_int(a, "free", 0);
        c->last = cc_json_str(a, "last");
        c->stamp = 0;
        *pfree += c->free;
    }
    return NULL;
}

cc_error_t *cc_chat_assign(cc_db_t *db, const char *tenant, const cc_actor_t *actor,
                           int *pn)
{
    static const cc_col_t waiting_cols[] = { { "id", CC_COL_STR }, { "skip", CC_COL_STR },
                                             CC_COL_END };
    apr_array_header_t *cands;
    apr_int64_t free;
    const char *args[3];
    json_t *waiting, *w;
    size_t i;
    int k, stamp = 0;
    cc_error_t *err;

    *pn = 0;
    if ((err = candidates(db, tenant, &cands, &free)) || free == 0) {
        return err;
    }
    args[0] = tenant;
    args[1] = apr_psprintf(db->pool, "%" APR_INT64_T_FMT, free + CC_CHAT_ASSIGN_SLACK);
    if ((err = cc_db_select(db, "cc_chat_waiting", waiting_cols, 2, args, &waiting, NULL))) {
        return err;
    }
    json_array_foreach(waiting, i, w) {
        const char *skip = cc_json_str(w, "skip");
        candidate_t *best = NULL;
        int nrows = 0;

        for (k = 0; k < cands->nelts; k++) {
            candidate_t *c = &APR_ARRAY_IDX(cands, k, candidate_t);

            if (c->free > 0 && !(skip && !strcmp(skip, c->user_id))
                && (!best || better(c, best))) {
                best = c;
            }
        }
        if (!best) {
            continue;
        }
        args[0] = best->user_id;
        args[1] = tenant;
        args[2] = cc_json_str(w, "id");
        if ((err = cc_db_exec(db, "cc_chat_assign_session", 3, args, &nrows))) {
            return err;
        }
        if (nrows != 1) {
            continue;
        }
        args[0] = tenant;
        args[1] = best->user_id;
        if ((err = cc_db_exec(db, "cc_chat_agent_assigned", 2, args, NULL))
            || (err = cc_chat_session_event(db, tenant, actor, "chat.session_assign",
                                            cc_json_str(w, "id"), NULL, NULL,
                                            CC_RECORD_NO_AUDIT, NULL))) {
            return err;
        }
        best->free--;
        best->stamp = ++stamp;
        ++*pn;
    }
    return NULL;
}

cc_error_t *cc_chat_assign_and_announce(cc_db_t *db, const char *tenant,
                                        const cc_actor_t *actor, int queue_changed)
{
    int n = 0;
    cc_error_t *err = cc_chat_assign(db, tenant, actor, &n);

    if (!err && (n > 0 || queue_changed)) {
        err = cc_chat_queue_changed(db, tenant, actor);
    }
    return err;
}

/* ---- a voice state changed (cc_chat_link.h) ---- */

cc_error_t *cc_chat_voice_state_changed(cc_db_t *db, const char *tenant, const char *user,
                                        const cc_actor_t *actor)
{
    const char *args[2] = { tenant, user }, **row;
    cc_error_t *err = cc_db_select_row(db, "cc_chat_agent_known", 2, args, &row, NULL);

    /* A user who never took chats: nothing to do (one read).  Else the lock, then its
     * chat status as committed now (a locking read): a chat status change that held the
     * lock while this voice change was not yet visible to it is seen here, so the two
     * cannot both miss each other. */
    if (err || !row
        || (err = cc_chat_lock(db, tenant))
        || (err = cc_db_select_row(db, "cc_chat_agent_online", 2, args, &row, NULL))
        || !row) {
        return err;
    }
    return cc_chat_assign_and_announce(db, tenant, actor, 0);
}

cc_error_t *cc_chat_agent_gone(cc_db_t *db, const char *tenant, const char *user,
                               const cc_actor_t *actor)
{
    static const cc_col_t id_cols[] = { { "id", CC_COL_STR }, CC_COL_END };
    const char *args[2] = { tenant, user };
    json_t *rows, *row;
    size_t i;
    cc_error_t *err;

    if ((err = cc_chat_lock(db, tenant))
        || (err = cc_db_exec(db, "cc_chat_gone_offline", 2, args, NULL))
        || (err = cc_db_select(db, "cc_chat_gone_sessions", id_cols, 2, args, &rows, NULL))) {
        return err;
    }
    json_array_foreach(rows, i, row) {
        const char *a[2] = { tenant, cc_json_str(row, "id") };

        if ((err = cc_db_exec(db, "cc_chat_gone_requeue", 2, a, NULL))
            || (err = cc_chat_session_event(db, tenant, actor, "chat.session_requeue", a[1],
                                            NULL, NULL, CC_RECORD_NO_AUDIT, NULL))) {
            return err;
        }
    }
    return cc_chat_assign_and_announce(db, tenant, actor, json_array_size(rows) > 0);
}

/* ---- the reassign job ---- */

/* One due chat back to the queue and on to another agent, in its own transaction. */
static cc_error_t *reassign_one(cc_db_t *db, const char *tenant, const char *id)
{
    const char *args[2] = { tenant, id };
    int nrows = 0;
    cc_error_t *err;

    if ((err = cc_db_begin(db))
        || (err = cc_chat_lock(db, tenant))
        || (err = cc_db_exec(db, "cc_chat_reassign", 2, args, &nrows))) {
        return err;
    }
    if (nrows == 1
        && ((err = cc_chat_session_event(db, tenant, &cc_actor_system, "chat.session_requeue",
                                         id, NULL, NULL, CC_RECORD_BOTH, NULL))
            || (err = cc_chat_assign_and_announce(db, tenant, &cc_actor_system, 1)))) {
        return err;
    }
    return cc_db_commit(db);
}

/* One session whose token expired closed by the system, in its own transaction (one
 * closed meanwhile is left as it is). */
static cc_error_t *expire_one(cc_db_t *db, const char *tenant, const char *id)
{
    cc_error_t *err;

    if ((err = cc_db_begin(db))
        || (err = cc_chat_close(db, tenant, &cc_actor_system, id, "system", NULL, 1, NULL))) {
        cc_db_rollback(db);
        return err && err->status == HTTP_CONFLICT ? NULL : err;
    }
    return cc_db_commit(db);
}

cc_error_t *cc_chat_reassign_run(cc_db_t *db, void *data)
{
    static const cc_col_t due_cols[] = { { "tenant", CC_COL_STR }, { "id", CC_COL_STR },
                                         CC_COL_END };
    int timeout = cc_chat_setting(data, CC_CHAT_VISITOR_TIMEOUT);
    json_t *due, *row;
    size_t i;
    cc_error_t *err;

    if ((err = cc_db_select(db, "cc_chat_reassign_due", due_cols, 0, NULL, &due, NULL))) {
        return err;
    }
    json_array_foreach(due, i, row) {
        if ((err = reassign_one(db, cc_json_str(row, "tenant"), cc_json_str(row, "id")))) {
            cc_db_rollback(db);
            return err;
        }
    }
    if ((err = cc_db_select(db, "cc_chat_expired", due_cols, 0, NULL, &due, NULL))) {
        return err;
    }
    json_array_foreach(due, i, row) {
        if ((err = expire_one(db, cc_json_str(row, "tenant"), cc_json_str(row, "id")))) {
            return err;
        }
    }
    if (timeout > 0) {
        const char *args[1] = { apr_itoa(db->pool, timeout) };

        if ((err = cc_db_select(db, "cc_chat_visitor_gone", due_cols, 1, args, &due, NULL))) {
            return err;
        }
        json_array_foreach(due, i, row) {
            if ((err = expire_one(db, cc_json_str(row, "tenant"), cc_json_str(row, "id")))) {
                return err;
            }
        }
    }
    return NULL;
}

const cc_domain_t cc_chat_routing_domain = { "chat_routing", NULL, routing_stmts, NULL, NULL,
                                             NULL };
