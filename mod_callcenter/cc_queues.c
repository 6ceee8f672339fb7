/*
 * cc_queues.c: /api/v1/queues and /api/v1/queues/{id}/members — call queues and their
 * members, as Asterisk's app_queue reads them in realtime.
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

#include "cc_api_private.h"
#include "cc_asterisk.h"
#include "cc_audit.h"
#include "cc_page.h"
#include "cc_sql.h"
#include "cc_validate.h"

#define CC_KEY_NAME          "name"
#define CC_KEY_ASTERISK_NAME "asterisk_name"
#define CC_KEY_STRATEGY      "strategy"
#define CC_KEY_TIMEOUT       "timeout"
#define CC_KEY_WRAPUPTIME    "wrapuptime"
#define CC_KEY_MAXLEN        "maxlen"
#define CC_KEY_SERVICE_LEVEL "service_level"
#define CC_KEY_MOH           "music_on_hold"
#define CC_KEY_QUEUE_ID      "queue_id"
#define CC_KEY_USER_ID       "user_id"
#define CC_KEY_ENDPOINT_ID   "endpoint_id"
#define CC_KEY_INTERFACE     "interface"
#define CC_KEY_MEMBERNAME    "membername"
#define CC_KEY_PENALTY       "penalty"
#define CC_KEY_PAUSED        "paused"
#define CC_KEY_REASON        "paused_reason"

#define CC_QUEUE_NAME_MAX    80    /* call_queues.name VARCHAR(80) */
#define CC_Q_MAX             200
#define CC_PENALTY_MAX       1000
/* Ids are JSON integers; keep them exact in every client (2^53, as cc_parse_id). */
#define CC_REF_ID_MAX        APR_INT64_C(9007199254740992)

#define QUEUES_PATH "/api/v1/queues/"

static const char *const queue_strategies[] = {
    "ringall", "leastrecent", "fewestcalls", "random", "rrmemory", "linear", "wrandom",
    "rrordered", NULL
};
static const char *const queue_sorts[] = { "name", "created_at", NULL };

/* An integer setting of the realtime queues row: its key and bounds. */
typedef struct queue_int_t {
    const char *key;
    apr_int64_t min;
    apr_int64_t max;
} queue_int_t;

/* In queue_values_t's order after strategy (timeout, wrapuptime, maxlen, service_level). */
static const queue_int_t queue_ints[] = {
    { CC_KEY_TIMEOUT, 1, 600 },
    { CC_KEY_WRAPUPTIME, 0, 3600 },
    { CC_KEY_MAXLEN, 0, 10000 },          /* 0: no limit */
    { CC_KEY_SERVICE_LEVEL, 0, 86400 },
    { NULL, 0, 0 }
};
#define QUEUE_NINTS 4

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

#define QUEUES_LIST_PAIR(sort, order)                                  \
    CC_STMT("cc_queues_list_" sort, QUEUES_LIST(order)),               \
    CC_STMT("cc_queues_search_" sort, QUEUES_SEARCH(order))

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

const cc_stmt_t cc_queues_stmts[] = {
    QUEUES_LIST_PAIR("name_asc", "cq.name ASC"),
    QUEUES_LIST_PAIR("name_desc", "cq.name DESC"),
    QUEUES_LIST_PAIR("created_at_asc", "cq.created_at ASC, cq.id ASC"),
    QUEUES_LIST_PAIR("created_at_desc", "cq.created_at DESC, cq.id DESC"),
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
    CC_STMT("cc_queues_rt_members_delete", "DELETE FROM queue_members WHERE queue_name = %s"),
    CC_STMT("cc_queues_members_delete_all",
            "DELETE FROM call_queue_members WHERE tenant_id = %s AND queue_id = %s"),

    /* ---- members ---- */
    CC_STMT("cc_queues_member_list",
            "SELECT " MEMBER_COLUMNS MEMBER_FROM
            " WHERE m.tenant_id = %s AND m.queue_id = %s ORDER BY m.id"),
    CC_STMT("cc_queues_member_get",
            "SELECT " MEMBER_COLUMNS MEMBER_FROM
            " WHERE m.tenant_id = %s AND m.queue_id = %s AND m.id = %s"),
    /* Queue creates take turns per tenant (lock_tenant). */
    CC_STMT("cc_queues_lock_tenant", "SELECT id FROM tenants WHERE id = %s FOR UPDATE"),
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

/* ---- the objects ---- */

#define QUEUE_COLS                             \
    { "id", CC_COL_INT },                      \
    { CC_KEY_NAME, CC_COL_STR },               \
    { CC_KEY_ASTERISK_NAME, CC_COL_STR },      \
    { CC_KEY_STRATEGY, CC_COL_STR },           \
    { CC_KEY_TIMEOUT, CC_COL_INT },            \
    { CC_KEY_WRAPUPTIME, CC_COL_INT },         \
    { CC_KEY_MAXLEN, CC_COL_INT },             \
    { CC_KEY_SERVICE_LEVEL, CC_COL_INT },      \
    { CC_KEY_MOH, CC_COL_STR },                \
    { "members_count", CC_COL_INT },           \
    { "created_at", CC_COL_TIME },             \
    { "updated_at", CC_COL_TIME }

static const cc_col_t queue_cols[] = {
    QUEUE_COLS,
    CC_COL_END
};

static const cc_col_t queue_page_cols[] = {
    QUEUE_COLS,
    { "total", CC_COL_TOTAL },
    CC_COL_END
};

static const cc_col_t member_cols[] = {
    { "id", CC_COL_INT },
    { CC_KEY_QUEUE_ID, CC_COL_INT },
    { CC_KEY_USER_ID, CC_COL_INT },
    { CC_KEY_ENDPOINT_ID, CC_COL_INT },
    { CC_KEY_INTERFACE, CC_COL_STR },
    { CC_KEY_MEMBERNAME, CC_COL_STR },
    { CC_KEY_PENALTY, CC_COL_INT },
    { CC_KEY_PAUSED, CC_COL_BOOL },
    { CC_KEY_REASON, CC_COL_STR },
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

/* A queue's writable values, as statement arguments (decimal text for the integers);
 * NULL members are absent (input) or unknown (a missing realtime row). */
typedef struct queue_values_t {
    const char *name;
    const char *strategy;
    const char *ints[QUEUE_NINTS];   /* queue_ints order */
    const char *moh;
} queue_values_t;

/* A new queue's settings where the body gives none (API.md; strategy as Asterisk's). */
static const queue_values_t queue_defaults = {
    NULL, "ringall", { "15", "0", "0", "60" }, "default"
};

/* A member's editable realtime values: penalty, paused "0"/"1", reason (NULL: none). */
typedef struct member_values_t {
    const char *penalty;
    const char *paused;
    const char *reason;
} member_values_t;

static const char *int_text(apr_pool_t *p, apr_int64_t v)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, v);
}

/* A queue name: 1..80 characters, none of them control characters (tabs and line breaks
 * included: the name shows on wallboards and in reports, one line). */
static int valid_queue_name(const char *s)
{
    return cc_valid_text(s, 1, CC_QUEUE_NAME_MAX) && !strpbrk(s, "\t\r\n");
}

/* Validate whatever queue fields body carries into *in (absent ones NULL). */
static cc_error_t *queue_input_read(apr_pool_t *p, json_t *body, queue_values_t *in)
{
    cc_error_t *err = NULL;
    int i;

    memset(in, 0, sizeof(*in));
    in->name = cc_json_str(body, CC_KEY_NAME);
    in->strategy = cc_json_str(body, CC_KEY_STRATEGY);
    in->moh = cc_json_str(body, CC_KEY_MOH);
    if (in->name && !valid_queue_name(in->name)) {
        err = cc_error_collect(p, err, CC_KEY_NAME,
                               "must be 1 to 80 characters, no control characters");
    }
    if (in->strategy && !cc_valid_enum(in->strategy, queue_strategies)) {
        err = cc_error_collect(p, err, CC_KEY_STRATEGY,
                               "must be one of: ringall, leastrecent, fewestcalls, random,"
                               " rrmemory, linear, wrandom, rrordered");
    }
    for (i = 0; queue_ints[i].key; i++) {
        const queue_int_t *qi = &queue_ints[i];
        json_int_t v;

        if (!cc_json_has(body, qi->key)) {
            continue;
        }
        v = cc_json_int(body, qi->key, -1);
        if (v < qi->min || v > qi->max) {
            err = cc_error_collect(p, err, qi->key,
                                   apr_psprintf(p, "must be an integer from %" APR_INT64_T_FMT
                                                " to %" APR_INT64_T_FMT, qi->min, qi->max));
        }
        else {
            in->ints[i] = int_text(p, (apr_int64_t)v);
        }
    }
    if (in->moh && !cc_ast_valid_moh_class(in->moh)) {
        err = cc_error_collect(p, err, CC_KEY_MOH,
                               "must be 1 to 128 of A-Z, a-z, 0-9, '_' and '-'");
    }
    return err;
}

/* cur with in's present values applied. */
static void queue_merge(const queue_values_t *cur, const queue_values_t *in,
                        queue_values_t *out)
{
    int i;

    out->name = in->name ? in->name : cur->name;
    out->strategy = in->strategy ? in->strategy : cur->strategy;
    out->moh = in->moh ? in->moh : cur->moh;
    for (i = 0; i < QUEUE_NINTS; i++) {
        out->ints[i] = in->ints[i] ? in->ints[i] : cur->ints[i];
    }
}

static json_t *str_json(const char *v)
{
    return v ? json_string(v) : json_null();
}

/* {"field": {"from": old, "to": new}} for each queue field that changes. */
static json_t *queue_diff(const queue_values_t *a, const queue_values_t *b)
{
    json_t *changes = json_object();
    int i;

    cc_audit_change_str(changes, CC_KEY_NAME, a->name, b->name);
    if (!cc_str_same(a->strategy, b->strategy)) {
        cc_audit_change(changes, CC_KEY_STRATEGY, str_json(a->strategy),
                        str_json(b->strategy));
    }
    for (i = 0; i < QUEUE_NINTS; i++) {
        if (!cc_str_same(a->ints[i], b->ints[i])) {
            cc_audit_change(changes, queue_ints[i].key, cc_json_int_or_null(a->ints[i]),
                            cc_json_int_or_null(b->ints[i]));
        }
    }
    if (!cc_str_same(a->moh, b->moh)) {
        cc_audit_change(changes, CC_KEY_MOH, str_json(a->moh), str_json(b->moh));
    }
    return changes;
}

/* Only the realtime settings (not the name) differ between a and b. */
static int realtime_changes(const queue_values_t *a, const queue_values_t *b)
{
    int i;

    for (i = 0; i < QUEUE_NINTS; i++) {
        if (!cc_str_same(a->ints[i], b->ints[i])) {
            return 1;
        }
    }
    return !cc_str_same(a->strategy, b->strategy) || !cc_str_same(a->moh, b->moh);
}

/* ---- helpers ---- */

/* What an audit entry keeps of a created or deleted object. */
static const char *const queue_audit_drop[] = { "id", "members_count", "created_at",
                                                "updated_at", NULL };
static const char *const member_audit_drop[] = { "id", NULL };

static cc_error_t *name_conflict(apr_pool_t *p)
{
    cc_error_t *err = cc_error_conflict(p, "a queue with this name exists");

    cc_error_add_detail(err, CC_KEY_NAME, "already in use");
    return err;
}

/* The queue as an object owned by r->pool; 404 when the tenant has none. */
static cc_error_t *fetch_queue(cc_ctx_t *ctx, const char *id, json_t **pobj)
{
    const char *args[2] = { ctx->principal->tenant_id, id };
    cc_error_t *err = cc_db_select_one(ctx, "cc_queues_get", queue_cols, 2, args, pobj);

    if (!err && !*pobj) {
        err = cc_error_not_found(ctx->r->pool);
    }
    cc_json_own(ctx->r->pool, *pobj);
    return err;
}

/* Lock the side row; its name and asterisk_name.  404 when the tenant has no such queue. */
static cc_error_t *lock_queue(cc_ctx_t *ctx, const char *id, const char **pname,
                              const char **pasterisk_name)
{
    const char *args[2] = { ctx->principal->tenant_id, id };
    const char **row;
    cc_error_t *err = cc_db_select_row(ctx, "cc_queues_lock", 2, args, &row, NULL);

    if (err) {
        return err;
    }
    if (!row) {
        return cc_error_not_found(ctx->r->pool);
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
    cc_error_t *err = cc_db_select_row(ctx, "cc_queues_rt_lock", 1, args, &row, NULL);
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
    apr_pool_t *p = ctx->r->pool;
    const char *slug = ctx->principal->tenant_slug;
    const char *tenant = ctx->principal->tenant_id;
    const char *args[3] = { tenant, name, cc_ast_queue_name(p, slug, name, NULL) };
    const char **row;
    cc_error_t *err;

    err = cc_db_select_row(ctx, "cc_queues_insert", 3, args, &row, NULL);
    if (!err && row) {
        *pid = row[0];
        *pasterisk_name = args[2];
        return NULL;
    }
    if (!err || err->status != HTTP_CONFLICT) {
        return err ? err : cc_error_internal(p);
    }
    if ((err = cc_db_select_row(ctx, "cc_queues_name_taken", 2, args, &row, NULL))) {
        return err;
    }
    if (row) {
        return name_conflict(p);
    }
    if ((err = cc_db_select_row(ctx, "cc_queues_insert_pending", 2, args, &row, NULL))) {
        return err->status == HTTP_CONFLICT ? name_conflict(p) : err;
    }
    if (!row) {
        return cc_error_internal(p);
    }
    *pid = row[0];
    *pasterisk_name = cc_ast_queue_name(p, slug, name, *pid);
    args[0] = *pasterisk_name;
    args[1] = tenant;
    args[2] = *pid;
    if ((err = cc_db_exec(ctx, "cc_queues_set_asterisk_name", 3, args, NULL))
        && err->status == HTTP_CONFLICT) {
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
    cc_error_t *err = cc_db_exec(ctx, label, 7, args, NULL);

    if (err && err->status == HTTP_CONFLICT) {
        /* A realtime row no side row owns holds the name: not the client's doing, but
         * nothing is written; a different name gives a different Asterisk name. */
        err = cc_error_conflict(ctx->r->pool, "the queue's Asterisk name is in use;"
                                " choose another name");
        cc_error_add_detail(err, CC_KEY_NAME, "its Asterisk name is in use");
    }
    return err;
}

/* ---- queue handlers ---- */

static int queues_list(request_rec *r, cc_ctx_t *ctx)
{
    apr_pool_t *p = r->pool;
    const char *q = apr_table_get(ctx->args, "q");
    const char *pattern = NULL;
    cc_page_t pg;
    cc_error_t *err;

    if ((err = cc_page_parse(p, ctx->args, queue_sorts, CC_KEY_NAME, &pg))) {
        return cc_send_error(r, err);
    }
    if (q && !cc_valid_text(q, 0, CC_Q_MAX)) {
        return cc_send_error(r, cc_error_field(p, "q", "must be at most 200 characters"));
    }
    if (q && *q) {
        pattern = cc_like_contains(p, q);
    }
    {
        const char *filter[2] = { ctx->principal->tenant_id, pattern };

        return cc_db_send_list(ctx, "cc_queues", queue_page_cols, &pg, filter, 2,
                               pattern != NULL);
    }
}

static int queues_get(request_rec *r, cc_ctx_t *ctx)
{
    const char *id = cc_api_id_param(ctx, "id");
    json_t *queue;
    cc_error_t *err;

    if (!id) {
        return cc_send_error(r, cc_error_not_found(r->pool));
    }
    if ((err = fetch_queue(ctx, id, &queue))) {
        return cc_send_error(r, err);
    }
    return cc_send_json(r, HTTP_OK, json_incref(queue));
}

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

    return cc_db_select_row(ctx, "cc_queues_lock_tenant", 1, args, &row, NULL);
}

static int queues_create(request_rec *r, cc_ctx_t *ctx)
{
    queue_values_t in, v;
    const char *id = NULL, *asterisk_name = NULL;
    json_t *body, *queue;
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, queue_fields, &body))
        || (err = queue_input_read(r->pool, body, &in))) {
        return cc_send_error(r, err);
    }
    queue_merge(&queue_defaults, &in, &v);
    if ((err = cc_db_begin(ctx))
        || (err = lock_tenant(ctx))
        || (err = queue_insert(ctx, v.name, &id, &asterisk_name))
        || (err = realtime_write(ctx, "cc_queues_rt_insert", asterisk_name, &v))
        || (err = fetch_queue(ctx, id, &queue))
        || (err = cc_audit(ctx, "queue.create", "queue", id,
                           cc_json_without(queue, queue_audit_drop)))
        || (err = cc_event(ctx, "queue.created", "queue", id, json_incref(queue)))
        || (err = cc_db_end(ctx, 1))) {
        return cc_db_abort(ctx, err);
    }
    return cc_send_created(r, apr_pstrcat(r->pool, QUEUES_PATH, id, NULL),
                           json_incref(queue));
}

/*
 * app_queue cannot turn a loaded queue into a linear one: on a realtime reload it logs
 * "Changing to the linear strategy currently requires asterisk to be restarted" and
 * keeps the old strategy, so the API would report a change Asterisk never makes.  The
 * strategy is chosen at creation instead (409; the client creates a new queue).
 */
static cc_error_t *check_strategy_change(apr_pool_t *p, const queue_values_t *cur,
                                         const queue_values_t *v)
{
    cc_error_t *err;

    /* No current strategy: the realtime row is missing and the PATCH writes a new one. */
    if (!v->strategy || strcmp(v->strategy, "linear")
        || !cur->strategy || !strcmp(cur->strategy, "linear")) {
        return NULL;
    }
    err = cc_error_conflict(p, "Asterisk cannot switch an existing queue to the linear"
                            " strategy; create a new queue with it");
    cc_error_add_detail(err, CC_KEY_STRATEGY, "linear is chosen when a queue is created");
    return err;
}

static int queues_update(request_rec *r, cc_ctx_t *ctx)
{
    const char *id = cc_api_id_param(ctx, "id");
    const char *asterisk_name, *args[3];
    queue_values_t in, cur, v;
    json_t *body, *changes, *queue;
    cc_error_t *err;

    if (!id) {
        return cc_send_error(r, cc_error_not_found(r->pool));
    }
    if ((err = cc_read_json_patch(ctx, queue_fields, &body))
        || (err = queue_input_read(r->pool, body, &in))) {
        return cc_send_error(r, err);
    }
    memset(&cur, 0, sizeof(cur));
    if ((err = cc_db_begin(ctx))
        || (err = lock_queue(ctx, id, &cur.name, &asterisk_name))
        || (err = lock_realtime(ctx, asterisk_name, &cur))) {
        return cc_db_abort(ctx, err);
    }
    queue_merge(&cur, &in, &v);
    if ((err = check_strategy_change(r->pool, &cur, &v))) {
        return cc_db_abort(ctx, err);
    }
    changes = cc_json_own(r->pool, queue_diff(&cur, &v));
    if (json_object_size(changes) == 0) {
        /* Nothing changes, so nothing is written, audited or announced. */
        cc_db_end(ctx, 0);
        if ((err = fetch_queue(ctx, id, &queue))) {
            return cc_send_error(r, err);
        }
        return cc_send_json(r, HTTP_OK, json_incref(queue));
    }
    args[0] = v.name;
    args[1] = ctx->principal->tenant_id;
    args[2] = id;
    /* The side row always (updated_at), the realtime row when a setting changes; a
     * missing setting (realtime row gone) takes its default so the row is whole again. */
    if ((err = cc_db_exec(ctx, "cc_queues_rename", 3, args, NULL))) {
        return cc_db_abort(ctx, err->status == HTTP_CONFLICT ? name_conflict(r->pool) : err);
    }
    if (realtime_changes(&cur, &v)) {
        queue_values_t whole;

        queue_merge(&queue_defaults, &v, &whole);
        if ((err = realtime_write(ctx, "cc_queues_rt_upsert", asterisk_name, &whole))) {
            return cc_db_abort(ctx, err);
        }
    }
    if ((err = fetch_queue(ctx, id, &queue))
        || (err = cc_audit(ctx, "queue.update", "queue", id, json_incref(changes)))
        || (err = cc_event(ctx, "queue.updated", "queue", id, json_incref(queue)))
        || (err = cc_db_end(ctx, 1))) {
        return cc_db_abort(ctx, err);
    }
    return cc_send_json(r, HTTP_OK, json_incref(queue));
}

/* 409 while a DID of the tenant routes calls to the queue (they would ring nowhere). */
static cc_error_t *check_no_did_routes(cc_ctx_t *ctx, const char *id)
{
    const char *args[2] = { ctx->principal->tenant_id, id };
    const char **row;
    cc_error_t *err = cc_db_select_row(ctx, "cc_queues_did_routes", 2, args, &row, NULL);

    if (!err && row) {
        err = cc_error_conflict(ctx->r->pool, "a DID routes to this queue; route it"
                                " elsewhere first");
    }
    return err;
}

/* An event of event_type for each member the statement label (binding tenant, ref)
 * lists, with the member object as it is now. */
static cc_error_t *announce_members(cc_ctx_t *ctx, const char *label, const char *ref,
                                    const char *event_type)
{
    const char *args[2] = { ctx->principal->tenant_id, ref };
    json_t *rows = NULL, *m;
    cc_error_t *err = cc_db_select(ctx, label, member_cols, 2, args, &rows, NULL);
    size_t i;

    cc_json_own(ctx->r->pool, rows);
    json_array_foreach(rows, i, m) {
        if (err) {
            break;
        }
        err = cc_event(ctx, event_type, "queue_member",
                       cc_json_int_text(ctx->r->pool, m, "id"), json_incref(m));
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

    if ((err = announce_members(ctx, "cc_queues_member_list", id, "queue_member.deleted"))
        || (err = cc_db_exec(ctx, "cc_queues_rt_members_delete", 1, rt, NULL))
        || (err = cc_db_exec(ctx, "cc_queues_members_delete_all", 2, side, NULL))
        || (err = cc_db_exec(ctx, "cc_queues_rt_delete", 1, rt, NULL))) {
        return err;
    }
    return cc_db_exec(ctx, "cc_queues_delete", 2, side, NULL);
}

static int queues_delete(request_rec *r, cc_ctx_t *ctx)
{
    const char *id = cc_api_id_param(ctx, "id");
    const char *name, *asterisk_name;
    json_t *queue;
    cc_error_t *err;

    if (!id) {
        return cc_send_error(r, cc_error_not_found(r->pool));
    }
    if ((err = cc_db_begin(ctx))
        || (err = lock_queue(ctx, id, &name, &asterisk_name))
        || (err = check_no_did_routes(ctx, id))
        || (err = fetch_queue(ctx, id, &queue))
        || (err = queue_remove(ctx, id, asterisk_name))
        || (err = cc_audit(ctx, "queue.delete", "queue", id,
                           cc_json_without(queue, queue_audit_drop)))
        || (err = cc_event(ctx, "queue.deleted", "queue", id, json_incref(queue)))
        || (err = cc_db_end(ctx, 1))) {
        return cc_db_abort(ctx, err);
    }
    return cc_send_no_content(r);
}

/* ---- members ---- */

/* What a member body asks for; NULL members are absent. */
typedef struct member_input_t {
    const char *endpoint_id;
    const char *user_id;
    const char *penalty;
    const char *paused;          /* "0" / "1" */
    int has_reason;              /* paused_reason present (null included) */
    const char *reason;          /* NULL for null or "" */
} member_input_t;

/* A positive id field (1..2^53) into *pout as decimal text. */
static cc_error_t *read_ref(apr_pool_t *p, json_t *body, const char *key, cc_error_t *err,
                            const char **pout)
{
    json_int_t v;

    *pout = NULL;
    if (!cc_json_has(body, key)) {
        return err;
    }
    v = cc_json_int(body, key, 0);
    if (v < 1 || v > CC_REF_ID_MAX) {
        return cc_error_collect(p, err, key, "must be a positive integer");
    }
    *pout = int_text(p, (apr_int64_t)v);
    return err;
}

static cc_error_t *member_input_read(apr_pool_t *p, json_t *body, member_input_t *in)
{
    cc_error_t *err = NULL;

    memset(in, 0, sizeof(*in));
    err = read_ref(p, body, CC_KEY_ENDPOINT_ID, err, &in->endpoint_id);
    err = read_ref(p, body, CC_KEY_USER_ID, err, &in->user_id);
    if (cc_json_has(body, CC_KEY_PENALTY)) {
        json_int_t v = cc_json_int(body, CC_KEY_PENALTY, -1);

        if (v < 0 || v > CC_PENALTY_MAX) {
            err = cc_error_collect(p, err, CC_KEY_PENALTY, "must be an integer from 0 to 1000");
        }
        else {
            in->penalty = int_text(p, (apr_int64_t)v);
        }
    }
    if (cc_json_has(body, CC_KEY_PAUSED)) {
        in->paused = cc_json_bool(body, CC_KEY_PAUSED, 0) ? "1" : "0";
    }
    in->has_reason = cc_json_has(body, CC_KEY_REASON);
    in->reason = cc_json_str(body, CC_KEY_REASON);
    if (in->reason && !cc_ast_valid_pause_reason(in->reason)) {
        err = cc_error_collect(p, err, CC_KEY_REASON,
                               "must be at most 79 bytes of UTF-8 text without control"
                               " characters");
    }
    if (in->reason && !*in->reason) {
        in->reason = NULL;           /* "" and null both mean no reason */
    }
    return err;
}

/*
 * The member cur becomes: penalty and paused as given, the reason as given, else
 * cleared when the member is unpaused (a reason explains a pause), else kept.
 */
static void member_merge(const member_values_t *cur, const member_input_t *in,
                         member_values_t *out)
{
    out->penalty = in->penalty ? in->penalty : cur->penalty;
    out->paused = in->paused ? in->paused : cur->paused;
    if (in->has_reason) {
        out->reason = in->reason;
    }
    else if (!strcmp(out->paused, "0") && !cc_str_same(cur->paused, "0")) {
        out->reason = NULL;
    }
    else {
        out->reason = cur->reason;
    }
}

static json_t *bool_json(const char *v)
{
    return v ? json_boolean(strcmp(v, "0") != 0) : json_null();
}

static json_t *member_diff(const member_values_t *a, const member_values_t *b)
{
    json_t *changes = json_object();

    if (!cc_str_same(a->penalty, b->penalty)) {
        cc_audit_change(changes, CC_KEY_PENALTY, cc_json_int_or_null(a->penalty),
                        cc_json_int_or_null(b->penalty));
    }
    if (!cc_str_same(a->paused, b->paused)) {
        cc_audit_change(changes, CC_KEY_PAUSED, bool_json(a->paused), bool_json(b->paused));
    }
    if (!cc_str_same(a->reason, b->reason)) {
        cc_audit_change(changes, CC_KEY_REASON, str_json(a->reason), str_json(b->reason));
    }
    return changes;
}

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
    cc_error_t *err = cc_db_select_row(ctx, label, 2, args, &row, NULL);

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
    if ((err = cc_db_select_row(ctx, "cc_queues_member_user", 2, args, &row, NULL))) {
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
    apr_pool_t *p = ctx->r->pool;
    const char *n;
    cc_error_t *err;

    if (in->user_id) {
        const char *args[2] = { ctx->principal->tenant_id, in->user_id };
        const char **row;

        if ((err = cc_db_select_row(ctx, "cc_queues_member_user_lock", 2, args, &row,
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
    cc_error_t *err = cc_db_select_one(ctx, "cc_queues_member_get", member_cols, 3, args,
                                       pobj);

    if (!err && !*pobj) {
        err = cc_error_not_found(ctx->r->pool);
    }
    cc_json_own(ctx->r->pool, *pobj);
    return err;
}

/* The names of a member's realtime row; 404 when the queue has no such member. */
static cc_error_t *member_ref(cc_ctx_t *ctx, const char *queue_id, const char *id,
                              const char **pqueue_name, const char **pinterface)
{
    const char *args[3] = { ctx->principal->tenant_id, queue_id, id };
    const char **row;
    cc_error_t *err = cc_db_select_row(ctx, "cc_queues_member_ref", 3, args, &row, NULL);

    if (err) {
        return err;
    }
    if (!row) {
        return cc_error_not_found(ctx->r->pool);
    }
    *pqueue_name = row[0];
    *pinterface = cc_ast_interface(ctx->r->pool, row[1]);
    return NULL;
}

/* Both path ids, or NULL (-> 404). */
static int member_params(cc_ctx_t *ctx, const char **pqueue_id, const char **pid)
{
    *pqueue_id = cc_api_id_param(ctx, "id");
    *pid = cc_api_id_param(ctx, "member_id");
    return *pqueue_id && *pid;
}

static int members_list(request_rec *r, cc_ctx_t *ctx)
{
    const char *id = cc_api_id_param(ctx, "id");
    const char *args[2] = { ctx->principal->tenant_id, id };
    const char **row;
    json_t *rows;
    cc_error_t *err;

    if (!id) {
        return cc_send_error(r, cc_error_not_found(r->pool));
    }
    if ((err = cc_db_select_row(ctx, "cc_queues_exists", 2, args, &row, NULL))) {
        return cc_send_error(r, err);
    }
    if (!row) {
        return cc_send_error(r, cc_error_not_found(r->pool));
    }
    if ((err = cc_db_select(ctx, "cc_queues_member_list", member_cols, 2, args, &rows,
                            NULL))) {
        return cc_send_error(r, err);
    }
    return cc_send_json(r, HTTP_OK, json_pack("{s:o}", "data", rows));
}

static int members_get(request_rec *r, cc_ctx_t *ctx)
{
    const char *queue_id, *id;
    json_t *member;
    cc_error_t *err;

    if (!member_params(ctx, &queue_id, &id)) {
        return cc_send_error(r, cc_error_not_found(r->pool));
    }
    if ((err = fetch_member(ctx, queue_id, id, &member))) {
        return cc_send_error(r, err);
    }
    return cc_send_json(r, HTTP_OK, json_incref(member));
}

/* Insert both rows of a new member; *pid gets its id.  The same endpoint twice is 409. */
static cc_error_t *member_insert(cc_ctx_t *ctx, const char *queue_id,
                                 const char *queue_name, const member_endpoint_t *ep,
                                 const member_values_t *v, const char **pid)
{
    apr_pool_t *p = ctx->r->pool;
    const char *side[3] = { ctx->principal->tenant_id, queue_id, ep->id };
    const char *rt[7];
    const char **row;
    cc_error_t *err = cc_db_select_row(ctx, "cc_queues_member_insert", 3, side, &row, NULL);

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
        rt[6] = v->reason;
        err = cc_db_exec(ctx, "cc_queues_member_rt_insert", 7, rt, NULL);
    }
    if (err && err->status == HTTP_CONFLICT) {
        err = cc_error_conflict(p, "the endpoint is already a member of this queue");
        cc_error_add_detail(err, CC_KEY_ENDPOINT_ID, "already a member");
    }
    return err;
}

static int members_create(request_rec *r, cc_ctx_t *ctx)
{
    const char *queue_id = cc_api_id_param(ctx, "id");
    const char *args[2], *queue_name, *id = NULL;
    const char **row;
    member_input_t in;
    member_values_t v;
    member_endpoint_t ep;
    json_t *body, *member;
    cc_error_t *err;

    if (!queue_id) {
        return cc_send_error(r, cc_error_not_found(r->pool));
    }
    if ((err = cc_read_json_fields(ctx, member_create_fields, &body))
        || (err = member_input_read(r->pool, body, &in))) {
        return cc_send_error(r, err);
    }
    if (!in.endpoint_id && !in.user_id) {
        err = cc_error_collect(r->pool, NULL, CC_KEY_ENDPOINT_ID,
                               "endpoint_id or user_id is required");
        return cc_send_error(r, cc_error_collect(r->pool, err, CC_KEY_USER_ID,
                                                 "endpoint_id or user_id is required"));
    }
    v.penalty = in.penalty ? in.penalty : "0";
    v.paused = in.paused ? in.paused : "0";
    v.reason = in.reason;
    args[0] = ctx->principal->tenant_id;
    args[1] = queue_id;
    if ((err = cc_db_begin(ctx))
        || (err = cc_db_select_row(ctx, "cc_queues_lock_shared", 2, args, &row, NULL))) {
        return cc_db_abort(ctx, err);
    }
    if (!row) {
        return cc_db_abort(ctx, cc_error_not_found(r->pool));
    }
    queue_name = row[0];
    if ((err = resolve_endpoint(ctx, &in, &ep))
        || (err = member_insert(ctx, queue_id, queue_name, &ep, &v, &id))
        || (err = fetch_member(ctx, queue_id, id, &member))
        || (err = cc_audit(ctx, "queue_member.create", "queue_member", id,
                           cc_json_without(member, member_audit_drop)))
        || (err = cc_event(ctx, "queue_member.created", "queue_member", id,
                           json_incref(member)))
        || (err = cc_db_end(ctx, 1))) {
        return cc_db_abort(ctx, err);
    }
    return cc_send_created(r, apr_pstrcat(r->pool, QUEUES_PATH, queue_id, "/members/", id,
                                          NULL),
                           json_incref(member));
}

/* Lock the member's realtime row and read its values; 404 when it is gone. */
static cc_error_t *lock_member(cc_ctx_t *ctx, const char *queue_name, const char *interface,
                               member_values_t *cur)
{
    const char *args[2] = { queue_name, interface };
    const char **row;
    cc_error_t *err = cc_db_select_row(ctx, "cc_queues_member_rt_lock", 2, args, &row,
                                       NULL);

    if (err) {
        return err;
    }
    if (!row) {
        return cc_error_not_found(ctx->r->pool);
    }
    cur->penalty = row[0] ? row[0] : "0";
    /* Asterisk writes 0/1; anything else non-zero is paused too. */
    cur->paused = row[1] && strcmp(row[1], "0") ? "1" : "0";
    cur->reason = row[2] && *row[2] ? row[2] : NULL;
    return NULL;
}

static int members_update(request_rec *r, cc_ctx_t *ctx)
{
    const char *queue_id, *id, *queue_name, *interface, *args[5];
    member_input_t in;
    member_values_t cur = { NULL, NULL, NULL }, v;
    json_t *body, *changes, *member;
    cc_error_t *err;

    if (!member_params(ctx, &queue_id, &id)) {
        return cc_send_error(r, cc_error_not_found(r->pool));
    }
    if ((err = cc_read_json_fields(ctx, member_patch_fields, &body))
        || (err = member_input_read(r->pool, body, &in))) {
        return cc_send_error(r, err);
    }
    if ((err = cc_db_begin(ctx))
        || (err = member_ref(ctx, queue_id, id, &queue_name, &interface))
        || (err = lock_member(ctx, queue_name, interface, &cur))) {
        return cc_db_abort(ctx, err);
    }
    member_merge(&cur, &in, &v);
    changes = cc_json_own(r->pool, member_diff(&cur, &v));
    if (json_object_size(changes) == 0) {
        cc_db_end(ctx, 0);
        if ((err = fetch_member(ctx, queue_id, id, &member))) {
            return cc_send_error(r, err);
        }
        return cc_send_json(r, HTTP_OK, json_incref(member));
    }
    args[0] = v.penalty;
    args[1] = v.paused;
    args[2] = v.reason;
    args[3] = queue_name;
    args[4] = interface;
    if ((err = cc_db_exec(ctx, "cc_queues_member_rt_update", 5, args, NULL))
        || (err = fetch_member(ctx, queue_id, id, &member))
        || (err = cc_audit(ctx, "queue_member.update", "queue_member", id,
                           json_incref(changes)))
        || (err = cc_event(ctx, "queue_member.updated", "queue_member", id,
                           json_incref(member)))
        || (err = cc_db_end(ctx, 1))) {
        return cc_db_abort(ctx, err);
    }
    return cc_send_json(r, HTTP_OK, json_incref(member));
}

static int members_delete(request_rec *r, cc_ctx_t *ctx)
{
    const char *queue_id, *id, *queue_name, *interface, *rt[2], *side[3];
    json_t *member;
    int nrows = 0;
    cc_error_t *err;

    if (!member_params(ctx, &queue_id, &id)) {
        return cc_send_error(r, cc_error_not_found(r->pool));
    }
    if ((err = cc_db_begin(ctx))
        || (err = member_ref(ctx, queue_id, id, &queue_name, &interface))
        || (err = fetch_member(ctx, queue_id, id, &member))) {
        return cc_db_abort(ctx, err);
    }
    rt[0] = queue_name;
    rt[1] = interface;
    side[0] = ctx->principal->tenant_id;
    side[1] = queue_id;
    side[2] = id;
    if ((err = cc_db_exec(ctx, "cc_queues_member_rt_delete", 2, rt, NULL))
        || (err = cc_db_exec(ctx, "cc_queues_member_delete", 3, side, &nrows))) {
        return cc_db_abort(ctx, err);
    }
    if (nrows != 1) {
        /* Removed by a concurrent request since it was read. */
        return cc_db_abort(ctx, cc_error_not_found(r->pool));
    }
    if ((err = cc_audit(ctx, "queue_member.delete", "queue_member", id,
                        cc_json_without(member, member_audit_drop)))
        || (err = cc_event(ctx, "queue_member.deleted", "queue_member", id,
                           json_incref(member)))
        || (err = cc_db_end(ctx, 1))) {
        return cc_db_abort(ctx, err);
    }
    return cc_send_no_content(r);
}

cc_error_t *cc_queues_announce_members(cc_ctx_t *ctx, const char *endpoint_id,
                                       const char *event_type)
{
    return announce_members(ctx, "cc_queues_members_of_endpoint", endpoint_id, event_type);
}

/* Path order does not matter: captures never shadow literals (cc_route_match).  GET of
 * one member is not in API.md's list; it is where a create's Location points. */
const cc_route_t cc_queues_routes[] = {
    { "GET", "/api/v1/queues", queues_list, "queues.read", CC_ROUTE_AUTH },
    { "POST", "/api/v1/queues", queues_create, "queues.write", CC_ROUTE_AUTH },
    { "GET", "/api/v1/queues/{id}", queues_get, "queues.read", CC_ROUTE_AUTH },
    { "PATCH", "/api/v1/queues/{id}", queues_update, "queues.write", CC_ROUTE_AUTH },
    { "DELETE", "/api/v1/queues/{id}", queues_delete, "queues.write", CC_ROUTE_AUTH },
    { "GET", "/api/v1/queues/{id}/members", members_list, "queues.read", CC_ROUTE_AUTH },
    { "POST", "/api/v1/queues/{id}/members", members_create, "queues.write",
      CC_ROUTE_AUTH },
    { "GET", "/api/v1/queues/{id}/members/{member_id}", members_get, "queues.read",
      CC_ROUTE_AUTH },
    { "PATCH", "/api/v1/queues/{id}/members/{member_id}", members_update, "queues.write",
      CC_ROUTE_AUTH },
    { "DELETE", "/api/v1/queues/{id}/members/{member_id}", members_delete, "queues.write",
      CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};
