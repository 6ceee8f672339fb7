/*
 * cc_queues.c: /api/v1/queues — call queues, as Asterisk's app_queue reads them in
 * realtime (their members: cc_queue_members.c; the pure rules: cc_queues_rules.c).
 *
 * Two rows make a queue: our side row (call_queues: tenant, name, asterisk_name) and the
 * realtime `queues` row named asterisk_name, the single home of everything Asterisk
 * reads (strategy, timeouts, music on hold...).  The API joins the two; nothing is kept
 * twice.  A member is likewise call_queue_members (tenant, queue, endpoint) plus the
 * realtime `queue_members` row (queue_name = asterisk_name, interface = PJSIP/<endpoint
 * asterisk_id>) that holds penalty, paused and reason_paused, which Asterisk itself also
 * writes when an agent pauses.  Every write touches both in one transaction, with its
 * audit entry and event.
 *
 * asterisk_name is built from the tenant's immutable slug and the queue's name when the
 * queue is created and never changes (members and calls in flight refer to it), so a
 * rename only touches the side row.
 */
#include <string.h>

#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "cc_api_private.h"
#include "cc_queues_rules.h"
#include "cc_asterisk.h"
#include "cc_audit.h"
#include "cc_page.h"
#include "cc_queue_stats_rules.h"
#include "cc_sql.h"
#include "cc_validate.h"

#define CC_Q_MAX             200

#define QUEUES_PATH "/api/v1/queues/"

static const char *const queue_sorts[] = { "name", "created_at", NULL };

/* ---- statements ---- */

/* The queue object's columns, in queue_cols order: the side row joined to its realtime
 * row.  A LEFT JOIN so that a queue whose realtime row went missing (a hand edit) is
 * still listed, answered and deletable; a PATCH writes the row back. */
#define QUEUE_COLUMNS                                                               \
    "cq.id, cq.name, cq.asterisk_name, q.strategy, q.timeout, q.wrapuptime, q.maxlen," \
    " q.servicelevel, q.musiconhold,"                                               \
    " (SELECT COUNT(*) FROM call_queue_members m"                                   \
    "   WHERE m.tenant_id = cq.tenant_id AND m.queue_id = cq.id) AS members_count,"  \
    " cq.created_at, cq.updated_at"

#define QUEUE_FROM " FROM call_queues cq LEFT JOIN queues q ON q.name = cq.asterisk_name"

/* The search filter binds 2 values: tenant, q pattern. */
#define QUEUES_FILTER " cq.tenant_id = %s AND cq.name LIKE %s"

/* One page with its total as a column (cc_db_send_list); there is no per-tenant queue
 * counter, the (tenant_id, name) key makes the COUNT an index range. */
#define QUEUES_LIST(order)                                                          \
    "SELECT " QUEUE_COLUMNS ","                                                     \
    " (SELECT COUNT(*) FROM call_queues c WHERE c.tenant_id = %s) AS total"          \
    QUEUE_FROM " WHERE cq.tenant_id = %s ORDER BY " order " LIMIT %s OFFSET %s"

#define QUEUES_SEARCH(order)                                                        \
    "SELECT " QUEUE_COLUMNS ","                                                     \
    " (SELECT COUNT(*) FROM call_queues cq WHERE" QUEUES_FILTER ") AS total"         \
    QUEUE_FROM " WHERE" QUEUES_FILTER " ORDER BY " order " LIMIT %s OFFSET %s"

static const cc_stmt_t queues_stmts[] = {
    CC_LIST_SORT("cc_queues", "name", QUEUES_LIST, QUEUES_SEARCH, "cq.name ASC",
                 "cq.name DESC"),
    CC_LIST_SORT("cc_queues", "created_at", QUEUES_LIST, QUEUES_SEARCH,
                 "cq.created_at ASC, cq.id ASC", "cq.created_at DESC, cq.id DESC"),
    CC_STMT("cc_queues_count", "SELECT COUNT(*) FROM call_queues WHERE tenant_id = %s"),
    CC_STMT("cc_queues_search_count",
            "SELECT COUNT(*) FROM call_queues cq WHERE" QUEUES_FILTER),
    CC_STMT("cc_queues_get",
            "SELECT " QUEUE_COLUMNS QUEUE_FROM " WHERE cq.tenant_id = %s AND cq.id = %s"),
    CC_STMT("cc_queues_lock",
            "SELECT name, asterisk_name FROM call_queues"
            " WHERE tenant_id = %s AND id = %s FOR UPDATE"),
    /* Adding a member only needs the queue to stay: a shared lock, so members can be
     * added to one queue concurrently while a delete of the queue waits for them. */
    CC_STMT("cc_queues_lock_shared",
            "SELECT asterisk_name FROM call_queues"
            " WHERE tenant_id = %s AND id = %s LOCK IN SHARE MODE"),
    CC_STMT("cc_queues_exists",
            "SELECT 1 FROM call_queues WHERE tenant_id = %s AND id = %s"),
    /* A plain read (no gap lock for concurrent creates to deadlock on): it is the
     * create's first read, so its snapshot already holds the row that failed the insert
     * (an insert waits for a conflicting row's transaction to end). */
    CC_STMT("cc_queues_name_taken",
            "SELECT 1 FROM call_queues WHERE tenant_id = %s AND name = %s"),
    CC_STMT("cc_queues_insert",
            "INSERT INTO call_queues (tenant_id, name, asterisk_name) VALUES (%s, %s, %s)"
            " RETURNING id"),
    /* A placeholder asterisk_name until the id is known (see queue_insert): '~' never
     * occurs in a real one, and a UUID never repeats. */
    CC_STMT("cc_queues_insert_pending",
            "INSERT INTO call_queues (tenant_id, name, asterisk_name)"
            " VALUES (%s, %s, CONCAT('~', UUID())) RETURNING id"),
    CC_STMT("cc_queues_set_asterisk_name",
            "UPDATE call_queues SET asterisk_name = %s WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_queues_rename",
            "UPDATE call_queues SET name = %s, updated_at = UTC_TIMESTAMP()"
            " WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_queues_delete",
            "DELETE FROM call_queues WHERE tenant_id = %s AND id = %s"),
    /* A locking read: it sees DIDs committed while this delete waited for its lock (a
     * plain read would answer from the transaction's older snapshot). */
    CC_STMT("cc_queues_did_routes",
            "SELECT 1 FROM dids WHERE tenant_id = %s AND destination_type = 'queue'"
            " AND destination_id = %s LIMIT 1 LOCK IN SHARE MODE"),
    /* The realtime queues row.  The fixed settings: members are rung only when free,
     * channel variables for the dialplan and reports, every free member rung at once
     * (autofill), callers may wait in a queue whose agents are all logged off. */
    CC_STMT("cc_queues_rt_insert",
            "INSERT INTO queues (name, strategy, timeout, wrapuptime, maxlen, servicelevel,"
            " musiconhold, ringinuse, setinterfacevar, setqueueentryvar, setqueuevar,"
            " reportholdtime, autofill, joinempty, leavewhenempty)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, 'no', 'yes', 'yes', 'yes', 'no', 'yes',"
            " 'yes', 'no')"),
    /* A PATCH writes the whole settings set, and puts back a row that went missing. */
    CC_STMT("cc_queues_rt_upsert",
            "INSERT INTO queues (name, strategy, timeout, wrapuptime, maxlen, servicelevel,"
            " musiconhold, ringinuse, setinterfacevar, setqueueentryvar, setqueuevar,"
            " reportholdtime, autofill, joinempty, leavewhenempty)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, 'no', 'yes', 'yes', 'yes', 'no', 'yes',"
            " 'yes', 'no')"
            " ON DUPLICATE KEY UPDATE strategy = VALUES(strategy),"
            " timeout = VALUES(timeout), wrapuptime = VALUES(wrapuptime),"
            " maxlen = VALUES(maxlen), servicelevel = VALUES(servicelevel),"
            " musiconhold = VALUES(musiconhold)"),
    CC_STMT("cc_queues_rt_lock",
            "SELECT strategy, timeout, wrapuptime, maxlen, servicelevel, musiconhold"
            " FROM queues WHERE name = %s FOR UPDATE"),
    CC_STMT("cc_queues_rt_delete", "DELETE FROM queues WHERE name = %s"),
    /* A new service level: the wallboard's summaries of the last 26 hours (any zone's
     * today) count answered-within again with it (sql/015: a row judged with another
     * level sends its bucket to queue_log on every read of the board).  Buckets that
     * ended 2 minutes ago or more only: Asterisk writes rows as they happen, so none
     * comes into them meanwhile, and the trigger of a CONNECT being written now, which
     * judged it with the old level, keeps the current bucket marked.  Without strict
     * mode (sql/015): in a data-change statement under it, a CAST of text that is no
     * number fails the statement, where a SELECT reads its leading number.  Binds the
     * level three times, the tenant, the queue, the first and the end bucket. */
    CC_STMT("cc_queues_rollup_sl",
            "SET STATEMENT sql_mode = 'NO_ENGINE_SUBSTITUTION' FOR"
            " UPDATE queue_log_rollup r"
            " JOIN call_queues c ON c.tenant_id = r.tenant_id AND c.id = r.queue_id"
            " SET r.within_sl = (SELECT COUNT(*)"
            "  FROM queue_log l FORCE INDEX (idx_queue_log_queue_bucket)"
            "  WHERE l.queuename = c.asterisk_name AND l.cc_bucket = r.bucket"
            "  AND l.`time` >= c.created_at AND l.event = 'CONNECT'"
            "  AND " CC_QL_WAIT " <= %s), r.sl = %s"
            " WHERE r.tenant_id = %s AND r.queue_id = %s AND r.sl <> %s"
            " AND r.bucket >= CAST(%s AS DATETIME) AND r.bucket < CAST(%s AS DATETIME)"),

    /* Queue creates take turns per tenant (lock_tenant). */
    CC_STMT("cc_queues_lock_tenant", "SELECT id FROM tenants WHERE id = %s FOR UPDATE"),
    CC_STMT_END
};

/* ---- the objects ---- */

static const cc_col_t queue_cols[] = {
    { "id", CC_COL_INT },
    { CC_KEY_NAME, CC_COL_STR },
    { CC_KEY_ASTERISK_NAME, CC_COL_STR },
    { CC_KEY_STRATEGY, CC_COL_STR },
    { CC_KEY_TIMEOUT, CC_COL_INT },
    { CC_KEY_WRAPUPTIME, CC_COL_INT },
    { CC_KEY_MAXLEN, CC_COL_INT },
    { CC_KEY_SERVICE_LEVEL, CC_COL_INT },
    { CC_KEY_MOH, CC_COL_STR },
    { "members_count", CC_COL_INT },
    { "created_at", CC_COL_TIME },
    { "updated_at", CC_COL_TIME },
    CC_COL_END
};

/* ---- request bodies ---- */

/* A PATCH takes the same fields, none required (cc_read_json_patch). */
static const cc_field_t queue_fields[] = {
    { CC_KEY_NAME, CC_JT_STRING, 1 },
    { CC_KEY_STRATEGY, CC_JT_STRING, 0 },
    { CC_KEY_TIMEOUT, CC_JT_INT, 0 },
    { CC_KEY_WRAPUPTIME, CC_JT_INT, 0 },
    { CC_KEY_MAXLEN, CC_JT_INT, 0 },
    { CC_KEY_SERVICE_LEVEL, CC_JT_INT, 0 },
    { CC_KEY_MOH, CC_JT_STRING, 0 },
    { NULL, 0, 0 }
};

/* ---- helpers ---- */

/* What an audit entry keeps of a created or deleted object. */
static const char *const queue_audit_drop[] = { "id", "members_count", "created_at",
                                                "updated_at", NULL };

/* The tenant has a queue of this name: 409 naming the field. */
static cc_error_t *name_taken(apr_pool_t *p)
{
    cc_error_t *err = cc_error_conflict(p, "a queue with this name exists");

    cc_error_add_detail(err, CC_KEY_NAME, "already in use");
    return err;
}

/* The same when err is the name's unique key (the duplicate-key idiom). */
static cc_error_t *name_conflict(cc_ctx_t *ctx, cc_error_t *err)
{
    return cc_db_is_duplicate(ctx->db, err) ? name_taken(ctx->pool) : err;
}

/* The queue as an object owned by r->pool; 404 when the tenant has none. */
static cc_error_t *fetch_queue(cc_ctx_t *ctx, const char *id, json_t **pobj)
{
    return cc_fetch(ctx, "cc_queues_get", queue_cols, id, pobj);
}

/* Lock the side row; its name and asterisk_name.  404 when the tenant has no such queue. */
static cc_error_t *lock_queue(cc_ctx_t *ctx, const char *id, const char **pname,
                              const char **pasterisk_name)
{
    const char *args[2] = { ctx->principal->tenant_id, id };
    const char **row;
    cc_error_t *err = cc_db_select_row(ctx->db, "cc_queues_lock", 2, args, &row, NULL);

    if (err) {
        return err;
    }
    if (!row) {
        return cc_error_not_found(ctx->pool);
    }
    *pname = row[0];
    *pasterisk_name = row[1];
    return NULL;
}

/* Lock the realtime row and read its settings into cur (all NULL when it is missing). */
static cc_error_t *lock_realtime(cc_ctx_t *ctx, const char *asterisk_name,
                                 queue_values_t *cur)
{
    const char *args[1] = { asterisk_name };
    const char **row;
    cc_error_t *err = cc_db_select_row(ctx->db, "cc_queues_rt_lock", 1, args, &row, NULL);
    int i;

    if (err || !row) {
        return err;
    }
    cur->strategy = row[0];
    for (i = 0; i < QUEUE_NINTS; i++) {
        cur->ints[i] = row[1 + i];
    }
    cur->moh = row[5];
    return NULL;
}

/*
 * Insert the side row and return its id in *pid.  The Asterisk name is taken first
 * from the tenant's slug and the queue's name; names that slugify alike ("Sales!" and
 * "sales?") or a name cut at 80 characters can find it taken.  A duplicate key does not
 * say which key was hit, and MariaDB rolls back only the failed statement, so on a
 * duplicate: when the name itself is taken in the tenant (cc_queues_name_taken) it is a
 * 409 on name; otherwise the row is inserted under a placeholder asterisk_name (no id
 * exists before the insert) and then renamed to the fallback, which carries the new id
 * after a '_' that no base name has there (cc_ast_queue_name), so no other queue holds
 * it; the 409 kept for that case is defence in depth.
 */
static cc_error_t *queue_insert(cc_ctx_t *ctx, const char *name, const char **pid,
                                const char **pasterisk_name)
{
    apr_pool_t *p = ctx->pool;
    const char *slug = ctx->principal->tenant_slug;
    const char *tenant = ctx->principal->tenant_id;
    const char *args[3] = { tenant, name, cc_ast_queue_name(p, slug, name, NULL) };
    const char **row;
    cc_error_t *err;

    err = cc_db_select_row(ctx->db, "cc_queues_insert", 3, args, &row, NULL);
    if (!err && row) {
        *pid = row[0];
        *pasterisk_name = args[2];
        return NULL;
    }
    if (!cc_db_is_duplicate(ctx->db, err)) {
        return err ? err : cc_error_internal(p);
    }
    if ((err = cc_db_select_row(ctx->db, "cc_queues_name_taken", 2, args, &row, NULL))) {
        return err;
    }
    if (row) {
        return name_taken(p);
    }
    if ((err = name_conflict(ctx, cc_db_select_row(ctx->db, "cc_queues_insert_pending", 2,
                                                   args, &row, NULL)))) {
        return err;
    }
    if (!row) {
        return cc_error_internal(p);
    }
    *pid = row[0];
    *pasterisk_name = cc_ast_queue_name(p, slug, name, *pid);
    args[0] = *pasterisk_name;
    args[1] = tenant;
    args[2] = *pid;
    if (cc_db_is_duplicate(ctx->db, err = cc_db_exec(ctx->db, "cc_queues_set_asterisk_name",
                                                     3, args, NULL))) {
        err = cc_error_conflict(p, "the queue's Asterisk name is in use; choose another"
                                " name");
        cc_error_add_detail(err, CC_KEY_NAME, "its Asterisk name is in use");
    }
    return err;
}

/* The realtime queues row of a new queue (v: merged with the defaults). */
static cc_error_t *realtime_write(cc_ctx_t *ctx, const char *label,
                                  const char *asterisk_name, const queue_values_t *v)
{
    const char *args[7] = { asterisk_name, v->strategy, v->ints[0], v->ints[1], v->ints[2],
                            v->ints[3], v->moh };
    cc_error_t *err = cc_db_exec(ctx->db, label, 7, args, NULL);

    if (err && err->status == HTTP_CONFLICT) {
        /* A realtime row no side row owns holds the name: not the client's doing, but
         * nothing is written; a different name gives a different Asterisk name. */
        err = cc_error_conflict(ctx->pool, "the queue's Asterisk name is in use;"
                                " choose another name");
        cc_error_add_detail(err, CC_KEY_NAME, "its Asterisk name is in use");
    }
    return err;
}

/* A new queue's settings where the body gives none: cc_queues_defaults with the first
 * global music-on-hold class (CCMusicOnHoldClasses), so a new queue's class is always
 * one it may use. */
static void queue_defaults(cc_ctx_t *ctx, queue_values_t *d)
{
    *d = cc_queues_defaults;
    d->moh = cc_api_moh_classes(CC_API_CTX_CFG(ctx))[0];
}

/* The body's music-on-hold class, if it names a new one, checked against the tenant's
 * allowed classes (cc_queues_check_moh): cur is the queue's current class (NULL: new). */
static cc_error_t *check_moh(cc_ctx_t *ctx, cc_error_t *err, const char *cur,
                             const char *moh)
{
    return cc_queues_check_moh(ctx->pool, err, ctx->principal->tenant_slug,
                               cc_api_moh_classes(CC_API_CTX_CFG(ctx)), cur, moh);
}

/* ---- queue handlers ---- */

/* GET /queues: statements cc_queues_{list,search}_<sort>_<asc|desc> above; the filter
 * binds as QUEUES_FILTER reads it. */
static const cc_filter_t queue_filters[] = {
    { "q", CC_FILTER_SEARCH, 1, NULL, CC_Q_MAX, NULL, NULL },
    CC_FILTER_END
};

static const cc_list_t queues_list_spec = { "cc_queues", queue_sorts, CC_KEY_NAME,
                                            queue_cols, queue_filters, 0, NULL, NULL };

/*
 * A tenant's queue creates take turns.  Concurrent inserts that collide on a unique key
 * (names that slugify alike try the same Asterisk name) deadlock in InnoDB: each failed
 * insert leaves a shared lock on the duplicate that the other's next insert waits for.
 * Queues are created rarely, so serialising them per tenant costs nothing.
 */
static cc_error_t *lock_tenant(cc_ctx_t *ctx)
{
    const char *args[1] = { ctx->principal->tenant_id };
    const char **row;

    return cc_db_select_row(ctx->db, "cc_queues_lock_tenant", 1, args, &row, NULL);
}

static cc_error_t *queues_create(cc_ctx_t *ctx)
{
    apr_pool_t *p = ctx->pool;
    queue_values_t in, defaults, v;
    const char *id = NULL, *asterisk_name = NULL;
    json_t *body, *queue;
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, queue_fields, &body))) {
        return err;
    }
    /* Every problem at once: the class's permission with the body's other checks. */
    err = cc_queues_input_read(p, body, &in);
    if ((err = check_moh(ctx, err, NULL, in.moh))) {
        return err;
    }
    queue_defaults(ctx, &defaults);
    cc_queues_merge(&defaults, &in, &v);
    if ((err = cc_db_begin(ctx->db))
        || (err = lock_tenant(ctx))
        || (err = queue_insert(ctx, v.name, &id, &asterisk_name))
        || (err = realtime_write(ctx, "cc_queues_rt_insert", asterisk_name, &v))
        || (err = fetch_queue(ctx, id, &queue))) {
        return err;
    }
    return cc_ctx_commit(ctx, "queue", "create", id, cc_json_without(p, queue, queue_audit_drop),
                         queue, HTTP_CREATED, apr_pstrcat(p, QUEUES_PATH, id, NULL));
}

/* The summaries of the wallboard after a change of service level (cc_queues_rollup_sl);
 * nothing when the level stays. */
static cc_error_t *rollup_service_level(cc_ctx_t *ctx, const char *id, const char *was,
                                        const char *level)
{
    apr_pool_t *p = ctx->pool;
    apr_int64_t now = apr_time_sec(apr_time_now());
    const char *args[7];

    if (!level || (was && strcmp(was, level) == 0)) {
        return NULL;
    }
    args[0] = level;
    args[1] = level;
    args[2] = ctx->principal->tenant_id;
    args[3] = id;
    args[4] = level;
    args[5] = cc_epoch_to_sql(p, now - 26 * 3600);
    args[6] = cc_epoch_to_sql(p, (now - 120) / 900 * 900);
    return cc_db_exec(ctx->db, "cc_queues_rollup_sl", 7, args, NULL);
}

static cc_error_t *queues_update(cc_ctx_t *ctx)
{
    apr_pool_t *p = ctx->pool;
    const char *id = cc_path(ctx, "id");
    const char *asterisk_name, *args[3];
    queue_values_t in, cur, v;
    json_t *body, *changes, *queue;
    cc_error_t *err;

    if ((err = cc_read_json_patch(ctx, queue_fields, &body))
        || (err = cc_queues_input_read(p, body, &in))) {
        return err;
    }
    memset(&cur, 0, sizeof(cur));
    if ((err = cc_db_begin(ctx->db))
        || (err = lock_queue(ctx, id, &cur.name, &asterisk_name))
        || (err = lock_realtime(ctx, asterisk_name, &cur))) {
        return err;
    }
    cc_queues_merge(&cur, &in, &v);
    /* Only a class the PATCH changes to is checked (not one the operator has dropped
     * from CCMusicOnHoldClasses since it was set). */
    if ((err = check_moh(ctx, NULL, cur.moh, in.moh))
        || (err = cc_queues_check_strategy_change(p, &cur, &v))) {
        return err;
    }
    changes = cc_queues_diff(p, &cur, &v);
    if (json_object_size(changes) == 0) {
        return cc_reply_unchanged(ctx, cc_handle_get);
    }
    args[0] = v.name;
    args[1] = ctx->principal->tenant_id;
    args[2] = id;
    /* The side row always (updated_at), the realtime row when a setting changes; a
     * missing setting (realtime row gone) takes its default so the row is whole again. */
    if ((err = name_conflict(ctx, cc_db_exec(ctx->db, "cc_queues_rename", 3, args, NULL)))) {
        return err;
    }
    if (cc_queues_realtime_changes(&cur, &v)) {
        queue_values_t defaults, whole;

        queue_defaults(ctx, &defaults);
        cc_queues_merge(&defaults, &v, &whole);
        if ((err = realtime_write(ctx, "cc_queues_rt_upsert", asterisk_name, &whole))
            || (err = rollup_service_level(ctx, id, cur.ints[3], whole.ints[3]))) {
            return err;
        }
    }
    if ((err = fetch_queue(ctx, id, &queue))) {
        return err;
    }
    return cc_ctx_commit(ctx, "queue", "update", id, changes, queue, HTTP_OK, NULL);
}

/* 409 while a DID of the tenant routes calls to the queue (they would ring nowhere). */
static cc_error_t *check_no_did_routes(cc_ctx_t *ctx, const char *id)
{
    const char *args[2] = { ctx->principal->tenant_id, id };
    const char **row;
    cc_error_t *err = cc_db_select_row(ctx->db, "cc_queues_did_routes", 2, args, &row, NULL);

    if (!err && row) {
        err = cc_error_conflict(ctx->pool, "a DID routes to this queue; route it"
                                " elsewhere first");
    }
    return err;
}

/* Remove the queue's members (announced as deleted; realtime rows first, then ours), its
 * realtime row and its side row; the side row is locked by the caller. */
static cc_error_t *queue_remove(cc_ctx_t *ctx, const char *id, const char *asterisk_name)
{
    const char *rt[1] = { asterisk_name };
    const char *side[2] = { ctx->principal->tenant_id, id };
    cc_error_t *err;

    if ((err = cc_queue_members_remove_all(ctx, id, asterisk_name))
        || (err = cc_db_exec(ctx->db, "cc_queues_rt_delete", 1, rt, NULL))) {
        return err;
    }
    return cc_db_exec(ctx->db, "cc_queues_delete", 2, side, NULL);
}

static cc_error_t *queues_delete(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id");
    const char *name, *asterisk_name;
    json_t *queue;
    cc_error_t *err;

    if ((err = cc_db_begin(ctx->db))
        || (err = lock_queue(ctx, id, &name, &asterisk_name))
        || (err = check_no_did_routes(ctx, id))
        || (err = fetch_queue(ctx, id, &queue))
        || (err = queue_remove(ctx, id, asterisk_name))) {
        return err;
    }
    return cc_ctx_commit_delete(ctx, "queue", id, queue, queue_audit_drop);
}

/* Path order does not matter: captures never shadow literals (cc_route_match).  GET of
 * one member is not in API.md's list; it is where a create's Location points. */
static const cc_route_t queues_routes[] = {
    { "GET", "/api/v1/queues", cc_handle_list, "queues.read", CC_ROUTE_AUTH },
    { "POST", "/api/v1/queues", queues_create, "queues.write", CC_ROUTE_AUTH },
    { "GET", "/api/v1/queues/{id:int}", cc_handle_get, "queues.read", CC_ROUTE_AUTH },
    { "PATCH", "/api/v1/queues/{id:int}", queues_update, "queues.write", CC_ROUTE_AUTH },
    { "DELETE", "/api/v1/queues/{id:int}", queues_delete, "queues.write", CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_queues_domain = { "queues", queues_routes, queues_stmts,
                                       &queues_list_spec, "cc_queues_get", queue_cols };
