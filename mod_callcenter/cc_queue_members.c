/*
 * cc_queue_members.c: /api/v1/queues/{id}/members — the agents' endpoints a queue rings,
 * as Asterisk's app_queue reads them in realtime.
 *
 * A member is our side row (call_queue_members: tenant, queue, endpoint) plus the
 * realtime `queue_members` row (queue_name = the queue's asterisk_name, interface =
 * PJSIP/<endpoint asterisk_id>) that holds penalty, paused and reason_paused, which
 * Asterisk itself also writes when an agent pauses.  Every write touches both in one
 * transaction, with its audit entry and event.  The queue's own statements
 * (cc_queues_lock_shared, cc_queues_exists) are in cc_queues.c; the pure rules in
 * cc_queue_members_rules.c.
 */
#include <string.h>

#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "cc_api_private.h"
#include "cc_queue_members_rules.h"
#include "cc_asterisk.h"
#include "cc_audit.h"
#include "cc_validate.h"

#define QUEUES_PATH "/api/v1/queues/"

/* ---- statements ---- */

/* The member object's columns, in member_cols order.  interface is the realtime row's
 * key, PJSIP/<asterisk_id> (cc_ast_interface), spelled here once for the join. */
#define MEMBER_COLUMNS                                                              \
    "m.id, m.queue_id, e.user_id, m.endpoint_id,"                                   \
    " CONCAT('PJSIP/', e.asterisk_id) AS interface, qm.membername, qm.penalty,"     \
    " qm.paused, qm.reason_paused"

#define MEMBER_FROM                                                                 \
    " FROM call_queue_members m"                                                    \
    " JOIN call_queues cq ON cq.tenant_id = m.tenant_id AND cq.id = m.queue_id"      \
    " JOIN endpoints e ON e.tenant_id = m.tenant_id AND e.id = m.endpoint_id"         \
    " LEFT JOIN queue_members qm ON qm.queue_name = cq.asterisk_name"               \
    "  AND qm.interface = CONCAT('PJSIP/', e.asterisk_id)"

/* An endpoint that can become a member.  The share lock keeps the endpoint from being
 * deleted before the member row's foreign key is checked (that would be a 500, not a
 * 400).  Its user's name is read apart, without a lock: user changes lock the user and
 * then its endpoints (cc_endpoints_follow_user), so locking the user after the
 * endpoint here could deadlock with them; the name is only what wallboards show, and a
 * rename that commits after this read rewrites it (its endpoint lock waits for ours). */
#define MEMBER_ENDPOINT                                                             \
    "SELECT e.id, e.asterisk_id, e.extension, e.user_id, COUNT(*) OVER () AS n"     \
    " FROM endpoints e"

static const cc_stmt_t members_stmts[] = {
    CC_STMT("cc_queues_rt_members_delete", "DELETE FROM queue_members WHERE queue_name = %s"),
    CC_STMT("cc_queues_members_delete_all",
            "DELETE FROM call_queue_members WHERE tenant_id = %s AND queue_id = %s"),
    CC_STMT("cc_queues_member_list",
            "SELECT " MEMBER_COLUMNS MEMBER_FROM
            " WHERE m.tenant_id = %s AND m.queue_id = %s ORDER BY m.id"),
    CC_STMT("cc_queues_member_get",
            "SELECT " MEMBER_COLUMNS MEMBER_FROM
            " WHERE m.tenant_id = %s AND m.queue_id = %s AND m.id = %s"),
    /* Every membership of an endpoint, as member objects (cc_queues_announce_members). */
    CC_STMT("cc_queues_members_of_endpoint",
            "SELECT " MEMBER_COLUMNS MEMBER_FROM
            " WHERE m.tenant_id = %s AND m.endpoint_id = %s ORDER BY m.id"),
    /* The names of a member's realtime row (both immutable, so no lock is needed). */
    CC_STMT("cc_queues_member_ref",
            "SELECT cq.asterisk_name, e.asterisk_id FROM call_queue_members m"
            " JOIN call_queues cq ON cq.tenant_id = m.tenant_id AND cq.id = m.queue_id"
            " JOIN endpoints e ON e.tenant_id = m.tenant_id AND e.id = m.endpoint_id"
            " WHERE m.tenant_id = %s AND m.queue_id = %s AND m.id = %s"),
    CC_STMT("cc_queues_member_endpoint",
            MEMBER_ENDPOINT " WHERE e.tenant_id = %s AND e.id = %s LOCK IN SHARE MODE"),
    /* The user's endpoint; n says whether there are several (then the client picks).
     * A plain read (the user is share-locked already): the endpoint is then locked by
     * its primary key (cc_queues_member_endpoint), as everything else locks endpoints;
     * a locking read through the user_id index would take index entries before the row
     * and deadlock with a PATCH of that endpoint. */
    CC_STMT("cc_queues_member_user_endpoint",
            MEMBER_ENDPOINT " WHERE e.tenant_id = %s AND e.user_id = %s"
            " ORDER BY e.id LIMIT 1"),
    /* The user a body names, share-locked before any endpoint (the order of user
     * changes: user, then its endpoints). */
    CC_STMT("cc_queues_member_user_lock",
            "SELECT name FROM users WHERE tenant_id = %s AND id = %s"
            " AND deleted_at IS NULL LOCK IN SHARE MODE"),
    /* The name of an endpoint's user, read without a lock (see MEMBER_ENDPOINT). */
    CC_STMT("cc_queues_member_user",
            "SELECT name FROM users WHERE tenant_id = %s AND id = %s"
            " AND deleted_at IS NULL"),
    CC_STMT("cc_queues_member_insert",
            "INSERT INTO call_queue_members (tenant_id, queue_id, endpoint_id)"
            " VALUES (%s, %s, %s) RETURNING id"),
    CC_STMT("cc_queues_member_delete",
            "DELETE FROM call_queue_members WHERE tenant_id = %s AND queue_id = %s"
            " AND id = %s"),
    CC_STMT("cc_queues_member_rt_insert",
            "INSERT INTO queue_members (queue_name, interface, membername, state_interface,"
            " penalty, paused, reason_paused) VALUES (%s, %s, %s, %s, %s, %s, %s)"),
    CC_STMT("cc_queues_member_rt_lock",
            "SELECT penalty, paused, reason_paused FROM queue_members"
            " WHERE queue_name = %s AND interface = %s FOR UPDATE"),
    CC_STMT("cc_queues_member_rt_update",
            "UPDATE queue_members SET penalty = %s, paused = %s, reason_paused = %s"
            " WHERE queue_name = %s AND interface = %s"),
    CC_STMT("cc_queues_member_rt_delete",
            "DELETE FROM queue_members WHERE queue_name = %s AND interface = %s"),
    CC_STMT_END
};

/* ---- the member object ---- */

static const cc_col_t member_cols[] = {
    { "id", CC_COL_INT },
    { CC_KEY_QUEUE_ID, CC_COL_INT },
    { CC_KEY_USER_ID, CC_COL_INT },
    { CC_KEY_ENDPOINT_ID, CC_COL_INT },
    { CC_KEY_INTERFACE, CC_COL_STR },
    { CC_KEY_MEMBERNAME, CC_COL_AST },
    { CC_KEY_PENALTY, CC_COL_INT },
    { CC_KEY_PAUSED, CC_COL_BOOL },
    { CC_KEY_REASON, CC_COL_AST },
    CC_COL_END
};

/* ---- request bodies ---- */

static const cc_field_t member_create_fields[] = {
    { CC_KEY_ENDPOINT_ID, CC_JT_INT, 0 },
    { CC_KEY_USER_ID, CC_JT_INT, 0 },
    { CC_KEY_PENALTY, CC_JT_INT, 0 },
    { CC_KEY_PAUSED, CC_JT_BOOL, 0 },
    { CC_KEY_REASON, CC_JT_STRING_NULL, 0 },
    { NULL, 0, 0 }
};

static const cc_field_t member_patch_fields[] = {
    { CC_KEY_PENALTY, CC_JT_INT, 0 },
    { CC_KEY_PAUSED, CC_JT_BOOL, 0 },
    { CC_KEY_REASON, CC_JT_STRING_NULL, 0 },
    { NULL, 0, 0 }
};

static const char *const member_audit_drop[] = { "id", NULL };

/* An event queue_member.<verb>d for each member the statement label (binding tenant, ref)
 * lists, with the member object as it is now. */
static cc_error_t *announce_members(cc_ctx_t *ctx, const char *label, const char *ref,
                                    const char *verb)
{
    const char *args[2] = { ctx->principal->tenant_id, ref };
    json_t *rows = NULL, *m;
    cc_error_t *err = cc_db_select(ctx->db, label, member_cols, 2, args, &rows, NULL);
    size_t i;

    /* Derived changes: the audit entry is the change that caused them. */
    json_array_foreach(rows, i, m) {
        if (err) {
            break;
        }
        err = cc_ctx_record(ctx, "queue_member", verb, cc_json_int_text(ctx->pool, m, "id"),
                            NULL, m, CC_RECORD_NO_AUDIT);
    }
    return err;
}

/* ---- members ---- */

/* The endpoint a new member stands for, as a row of MEMBER_ENDPOINT. */
typedef struct member_endpoint_t {
    const char *id;
    const char *asterisk_id;
    const char *extension;
    const char *user_id;
    const char *user_name;   /* NULL: no live user */
} member_endpoint_t;

static cc_error_t *endpoint_row(cc_ctx_t *ctx, const char *label, const char *ref,
                                member_endpoint_t *ep, const char **pcount)
{
    const char *args[2] = { ctx->principal->tenant_id, ref };
    const char **row;
    cc_error_t *err = cc_db_select_row(ctx->db, label, 2, args, &row, NULL);

    *pcount = "0";
    if (err || !row) {
        return err;
    }
    ep->id = row[0];
    ep->asterisk_id = row[1];
    ep->extension = row[2];
    ep->user_id = row[3];
    ep->user_name = NULL;
    *pcount = row[4];
    if (!ep->user_id) {
        return NULL;
    }
    args[1] = ep->user_id;
    if ((err = cc_db_select_row(ctx->db, "cc_queues_member_user", 2, args, &row, NULL))) {
        return err;
    }
    ep->user_name = row ? row[0] : NULL;     /* a deleted user shows as the extension */
    return NULL;
}

/*
 * Which endpoint the body means: endpoint_id, or the one endpoint of user_id, or
 * endpoint_id checked to be user_id's.  Only the tenant's endpoints and live users; any
 * other reference is a 400 on its field (API.md).
 */
static cc_error_t *resolve_endpoint(cc_ctx_t *ctx, const member_input_t *in,
                                    member_endpoint_t *ep)
{
    apr_pool_t *p = ctx->pool;
    const char *n;
    cc_error_t *err;

    if (in->user_id) {
        const char *args[2] = { ctx->principal->tenant_id, in->user_id };
        const char **row;

        if ((err = cc_db_select_row(ctx->db, "cc_queues_member_user_lock", 2, args, &row,
                                    NULL))) {
            return err;
        }
        if (!row) {
            return cc_error_field(p, CC_KEY_USER_ID, "no such user in this tenant");
        }
    }
    if (in->endpoint_id) {
        if ((err = endpoint_row(ctx, "cc_queues_member_endpoint", in->endpoint_id, ep,
                                &n))) {
            return err;
        }
        if (!strcmp(n, "0")) {
            return cc_error_field(p, CC_KEY_ENDPOINT_ID, "no such endpoint in this tenant");
        }
        if (in->user_id && !cc_str_same(ep->user_id, in->user_id)) {
            return cc_error_field(p, CC_KEY_ENDPOINT_ID, "is not the endpoint of user_id");
        }
        return NULL;
    }
    if ((err = endpoint_row(ctx, "cc_queues_member_user_endpoint", in->user_id, ep, &n))) {
        return err;
    }
    if (!strcmp(n, "0")) {
        return cc_error_field(p, CC_KEY_USER_ID, "the user has no endpoint");
    }
    if (strcmp(n, "1")) {
        return cc_error_field(p, CC_KEY_USER_ID, "the user has several endpoints;"
                              " give endpoint_id");
    }
    /* Lock it by its key; a PATCH may have moved it to another user meanwhile. */
    if ((err = endpoint_row(ctx, "cc_queues_member_endpoint", ep->id, ep, &n))) {
        return err;
    }
    if (!strcmp(n, "0") || !cc_str_same(ep->user_id, in->user_id)) {
        return cc_error_field(p, CC_KEY_USER_ID, "the user has no endpoint");
    }
    return NULL;
}

/* The member as an object owned by r->pool; 404 when none. */
static cc_error_t *fetch_member(cc_ctx_t *ctx, const char *queue_id, const char *id,
                                json_t **pobj)
{
    const char *args[3] = { ctx->principal->tenant_id, queue_id, id };
    cc_error_t *err = cc_db_select_one(ctx->db, "cc_queues_member_get", member_cols, 3, args,
                                       pobj);

    return !err && !*pobj ? cc_error_not_found(ctx->pool) : err;
}

/* The names of a member's realtime row; 404 when the queue has no such member. */
static cc_error_t *member_ref(cc_ctx_t *ctx, const char *queue_id, const char *id,
                              const char **pqueue_name, const char **pinterface)
{
    const char *args[3] = { ctx->principal->tenant_id, queue_id, id };
    const char **row;
    cc_error_t *err = cc_db_select_row(ctx->db, "cc_queues_member_ref", 3, args, &row, NULL);

    if (err) {
        return err;
    }
    if (!row) {
        return cc_error_not_found(ctx->pool);
    }
    *pqueue_name = row[0];
    *pinterface = cc_ast_interface(ctx->pool, row[1]);
    return NULL;
}

static cc_error_t *members_list(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id");
    const char *args[2] = { ctx->principal->tenant_id, id };
    const char **row;
    json_t *rows, *out;
    cc_error_t *err;

    if ((err = cc_fetch_row(ctx, "cc_queues_exists", id, &row))
        || (err = cc_db_select(ctx->db, "cc_queues_member_list", member_cols, 2, args, &rows,
                               NULL))) {
        return err;
    }
    out = cc_json_object(ctx->pool);
    json_object_set(out, "data", rows);
    return cc_reply_json(ctx, HTTP_OK, out);
}

static cc_error_t *members_get(cc_ctx_t *ctx)
{
    json_t *member;
    cc_error_t *err = fetch_member(ctx, cc_path(ctx, "id"), cc_path(ctx, "member_id"),
                                   &member);

    return err ? err : cc_reply_json(ctx, HTTP_OK, member);
}

/* Insert both rows of a new member; *pid gets its id.  The same endpoint twice is 409. */
static cc_error_t *member_insert(cc_ctx_t *ctx, const char *queue_id,
                                 const char *queue_name, const member_endpoint_t *ep,
                                 const member_values_t *v, const char **pid)
{
    apr_pool_t *p = ctx->pool;
    const char *side[3] = { ctx->principal->tenant_id, queue_id, ep->id };
    const char *rt[7];
    const char **row;
    cc_error_t *err = cc_db_select_row(ctx->db, "cc_queues_member_insert", 3, side, &row, NULL);

    if (!err && !row) {
        err = cc_error_internal(p);
    }
    if (!err) {
        *pid = row[0];
        rt[0] = queue_name;
        rt[1] = cc_ast_interface(p, ep->asterisk_id);
        /* The user's name as wallboards and queue_log show it, else the extension. */
        rt[2] = cc_ast_membername(p, ep->user_name, ep->extension);
        rt[3] = rt[1];
        rt[4] = v->penalty;
        rt[5] = v->paused;
        rt[6] = cc_ast_rt_encode(p, v->reason);
        err = cc_db_exec(ctx->db, "cc_queues_member_rt_insert", 7, rt, NULL);
    }
    return cc_db_duplicate(ctx->db, err, CC_KEY_ENDPOINT_ID, "already a member",
                           "the endpoint is already a member of this queue");
}

static cc_error_t *members_create(cc_ctx_t *ctx)
{
    apr_pool_t *p = ctx->pool;
    const char *queue_id = cc_path(ctx, "id");
    const char *queue_name, *id = NULL;
    const char **row;
    member_input_t in;
    member_values_t v;
    member_endpoint_t ep;
    json_t *body, *member;
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, member_create_fields, &body))
        || (err = cc_queue_members_input_read(p, body, &in))) {
        return err;
    }
    if (!in.endpoint_id && !in.user_id) {
        err = cc_error_collect(p, NULL, CC_KEY_ENDPOINT_ID,
                               "endpoint_id or user_id is required");
        return cc_error_collect(p, err, CC_KEY_USER_ID, "endpoint_id or user_id is required");
    }
    v.penalty = in.penalty ? in.penalty : "0";
    v.paused = in.paused ? in.paused : "0";
    v.reason = in.reason;
    if ((err = cc_db_begin(ctx->db))
        || (err = cc_fetch_row(ctx, "cc_queues_lock_shared", queue_id, &row))) {
        return err;
    }
    queue_name = row[0];
    if ((err = resolve_endpoint(ctx, &in, &ep))
        /* Unless the body says, an agent on break or offline joins paused. */
        || (!in.paused && ep.user_id && ep.user_name
            && (err = cc_agents_member_pause(ctx, ep.user_id, &v.paused, &v.reason)))
        || (err = member_insert(ctx, queue_id, queue_name, &ep, &v, &id))
        || (err = fetch_member(ctx, queue_id, id, &member))) {
        return err;
    }
    return cc_ctx_commit(ctx, "queue_member", "create", id,
                         cc_json_without(p, member, member_audit_drop), member, HTTP_CREATED,
                         apr_pstrcat(p, QUEUES_PATH, queue_id, "/members/", id, NULL));
}

/* Lock the member's realtime row and read its values; 404 when it is gone. */
static cc_error_t *lock_member(cc_ctx_t *ctx, const char *queue_name, const char *interface,
                               member_values_t *cur)
{
    const char *args[2] = { queue_name, interface };
    const char **row;
    cc_error_t *err = cc_db_select_row(ctx->db, "cc_queues_member_rt_lock", 2, args, &row,
                                       NULL);

    if (err) {
        return err;
    }
    if (!row) {
        return cc_error_not_found(ctx->pool);
    }
    cur->penalty = row[0] ? row[0] : "0";
    /* Asterisk writes 0/1; anything else non-zero is paused too. */
    cur->paused = row[1] && strcmp(row[1], "0") ? "1" : "0";
    /* Asterisk writes it too (an agent pausing on the phone): read it as Asterisk does. */
    cur->reason = row[2] && *row[2] ? cc_ast_rt_decode(ctx->pool, row[2]) : NULL;
    return NULL;
}

static cc_error_t *members_update(cc_ctx_t *ctx)
{
    const char *queue_id = cc_path(ctx, "id"), *id = cc_path(ctx, "member_id");
    const char *queue_name, *interface, *args[5];
    member_input_t in;
    member_values_t cur = { NULL, NULL, NULL }, v;
    json_t *body, *changes, *member;
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, member_patch_fields, &body))
        || (err = cc_queue_members_input_read(ctx->pool, body, &in))) {
        return err;
    }
    if ((err = cc_db_begin(ctx->db))
        || (err = member_ref(ctx, queue_id, id, &queue_name, &interface))
        || (err = lock_member(ctx, queue_name, interface, &cur))) {
        return err;
    }
    cc_queue_members_merge(&cur, &in, &v);
    changes = cc_queue_members_diff(ctx->pool, &cur, &v);
    if (json_object_size(changes) == 0) {
        return cc_reply_unchanged(ctx, members_get);
    }
    args[0] = v.penalty;
    args[1] = v.paused;
    args[2] = cc_ast_rt_encode(ctx->pool, v.reason);
    args[3] = queue_name;
    args[4] = interface;
    if ((err = cc_db_exec(ctx->db, "cc_queues_member_rt_update", 5, args, NULL))
        || (err = fetch_member(ctx, queue_id, id, &member))) {
        return err;
    }
    return cc_ctx_commit(ctx, "queue_member", "update", id, changes, member, HTTP_OK, NULL);
}

static cc_error_t *members_delete(cc_ctx_t *ctx)
{
    const char *queue_id = cc_path(ctx, "id"), *id = cc_path(ctx, "member_id");
    const char *queue_name, *interface, *rt[2], *side[3];
    json_t *member;
    int nrows = 0;
    cc_error_t *err;

    if ((err = cc_db_begin(ctx->db))
        || (err = member_ref(ctx, queue_id, id, &queue_name, &interface))
        || (err = fetch_member(ctx, queue_id, id, &member))) {
        return err;
    }
    rt[0] = queue_name;
    rt[1] = interface;
    side[0] = ctx->principal->tenant_id;
    side[1] = queue_id;
    side[2] = id;
    if ((err = cc_db_exec(ctx->db, "cc_queues_member_rt_delete", 2, rt, NULL))
        || (err = cc_db_exec(ctx->db, "cc_queues_member_delete", 3, side, &nrows))) {
        return err;
    }
    if (nrows != 1) {
        /* Removed by a concurrent request since it was read. */
        return cc_error_not_found(ctx->pool);
    }
    return cc_ctx_commit_delete(ctx, "queue_member", id, member, member_audit_drop);
}

cc_error_t *cc_queues_announce_members(cc_ctx_t *ctx, const char *endpoint_id,
                                       const char *verb)
{
    return announce_members(ctx, "cc_queues_members_of_endpoint", endpoint_id, verb);
}

cc_error_t *cc_queue_members_remove_all(cc_ctx_t *ctx, const char *queue_id,
                                        const char *asterisk_name)
{
    const char *rt[1] = { asterisk_name };
    const char *side[2] = { ctx->principal->tenant_id, queue_id };
    cc_error_t *err;

    if ((err = announce_members(ctx, "cc_queues_member_list", queue_id, "delete"))
        || (err = cc_db_exec(ctx->db, "cc_queues_rt_members_delete", 1, rt, NULL))) {
        return err;
    }
    return cc_db_exec(ctx->db, "cc_queues_members_delete_all", 2, side, NULL);
}

/* Path order does not matter: captures never shadow literals (cc_route_match).  GET of
 * one member is not in API.md's list; it is where a create's Location points. */
static const cc_route_t members_routes[] = {
    { "GET", "/api/v1/queues/{id:int}/members", members_list, "queues.read",
      CC_ROUTE_AUTH },
    { "POST", "/api/v1/queues/{id:int}/members", members_create, "queues.write",
      CC_ROUTE_AUTH },
    { "GET", "/api/v1/queues/{id:int}/members/{member_id:int}", members_get, "queues.read",
      CC_ROUTE_AUTH },
    { "PATCH", "/api/v1/queues/{id:int}/members/{member_id:int}", members_update,
      "queues.write", CC_ROUTE_AUTH },
    { "DELETE", "/api/v1/queues/{id:int}/members/{member_id:int}", members_delete,
      "queues.write", CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_queue_members_domain = { "queue-members", members_routes, members_stmts,
                                              NULL, NULL, NULL };
