/*
 * cc_dids.c: /api/v1/dids — the tenant's inbound numbers and where they route.
 *
 * A number belongs to one tenant platform-wide (a unique key on dids.number, so a taken
 * number is 409 whichever tenant holds it).  A destination is a (type, id) pair checked
 * to exist in the caller's tenant, inside the write's transaction: user, queue and
 * endpoint rows are share-locked by the check, so a concurrent delete of the destination (which
 * locks its row, then refuses with 409 while a DID routes to it) cannot slip between
 * the check and the commit.
 *
 * Lists are one round trip: the page and its total (tenants.dids_count when unfiltered;
 * an uncorrelated COUNT subquery when filtered).  Create is INSERT ... RETURNING (which
 * renders the response), audit, event, then the count against max_dids, in one
 * transaction: the tenant row is locked only by that last statement, so a tenant's
 * creates overlap until their commits.  Delete likewise; update writes its audit entry
 * and event the same way.
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

#define CC_KEY_NUMBER      "number"
#define CC_KEY_DESCRIPTION "description"
#define CC_KEY_DEST_TYPE   "destination_type"
#define CC_KEY_DEST_ID     "destination_id"
#define CC_KEY_STATUS      "status"

#define CC_DESCRIPTION_MAX 500
#define CC_Q_MAX           200
/* Ids are JSON integers; keep them exact in every client (2^53, as cc_parse_id). */
#define CC_DEST_ID_MAX     APR_INT64_C(9007199254740992)

#define DEST_NONE "none"

static const char *const did_statuses[] = { "active", "inactive", NULL };
static const char *const did_dest_types[] = { "none", "queue", "user", "endpoint",
                                              "voicemail", NULL };
static const char *const did_sorts[] = { "number", "created_at", NULL };

/* Where each destination type is checked: a statement binding (tenant, id) that returns
 * a row when the destination exists in the tenant.  The tenant is its id, except for
 * voicemail boxes: Asterisk's voicemail table has no tenant column, a box is the
 * tenant's when it lives in the tenant's voicemail context (cc_ast_context). */
typedef struct did_destination_t {
    const char *type;
    const char *check_label;
    int by_context;
} did_destination_t;

static const did_destination_t did_destinations[] = {
    { "user", "cc_dids_dest_user", 0 },
    { "queue", "cc_dids_dest_queue", 0 },
    { "endpoint", "cc_dids_dest_endpoint", 0 },
    { "voicemail", "cc_dids_dest_voicemail", 1 },
    { NULL, NULL, 0 }
};

/* ---- statements ---- */

/* The DID object's columns, in did_cols order; unqualified so that INSERT/DELETE ...
 * RETURNING can use them too. */
#define DID_COLUMNS "id, number, description, destination_type, destination_id, status," \
    " created_at, updated_at"

/* Filters bind 8 values: tenant, status x2, destination_type x2, q x3. */
#define DIDS_FILTER                                                                \
    " d.tenant_id = %s"                                                            \
    " AND (%s IS NULL OR d.status = %s)"                                           \
    " AND (%s IS NULL OR d.destination_type = %s)"                                 \
    " AND (%s IS NULL OR d.number LIKE %s OR d.description LIKE %s)"

/* Index-ordered reads of one page; the total rides along as a column (see the file
 * comment).  Past the last page the count statements below answer it. */
#define DIDS_LIST(order)                                                           \
    "SELECT " DID_COLUMNS ", (SELECT dids_count FROM tenants WHERE id = %s) AS total" \
    " FROM dids d WHERE d.tenant_id = %s ORDER BY " order " LIMIT %s OFFSET %s"

#define DIDS_SEARCH(order)                                                         \
    "SELECT " DID_COLUMNS ", (SELECT COUNT(*) FROM dids d WHERE" DIDS_FILTER ") AS total" \
    " FROM dids d WHERE" DIDS_FILTER " ORDER BY " order " LIMIT %s OFFSET %s"

#define DIDS_LIST_PAIR(sort, order)                                  \
    CC_STMT("cc_dids_list_" sort, DIDS_LIST(order)),                 \
    CC_STMT("cc_dids_search_" sort, DIDS_SEARCH(order))

/* Labels are built from the sort in dids_list(); one pair per whitelisted sort.  Numbers
 * are unique, so they need no id tie-breaker. */
const cc_stmt_t cc_dids_stmts[] = {
    DIDS_LIST_PAIR("number_asc", "d.number ASC"),
    DIDS_LIST_PAIR("number_desc", "d.number DESC"),
    DIDS_LIST_PAIR("created_at_asc", "d.created_at ASC, d.id ASC"),
    DIDS_LIST_PAIR("created_at_desc", "d.created_at DESC, d.id DESC"),
    CC_STMT("cc_dids_count", "SELECT dids_count FROM tenants WHERE id = %s"),
    CC_STMT("cc_dids_search_count", "SELECT COUNT(*) FROM dids d WHERE" DIDS_FILTER),
    CC_STMT("cc_dids_get",
            "SELECT " DID_COLUMNS " FROM dids d WHERE d.tenant_id = %s AND d.id = %s"),
    CC_STMT("cc_dids_lock",
            "SELECT number, description, destination_type, destination_id, status"
            " FROM dids WHERE tenant_id = %s AND id = %s FOR UPDATE"),
    /* The count is taken last in a create's transaction (one row lock held only until
     * the commit right after): concurrent creates see each other's count, and a create
     * over max_dids matches no row and is rolled back. */
    CC_STMT("cc_dids_count_add",
            "UPDATE tenants SET dids_count = dids_count + 1"
            " WHERE id = %s AND dids_count < max_dids"),
    CC_STMT("cc_dids_count_remove",
            "UPDATE tenants SET dids_count = dids_count - 1"
            " WHERE id = %s AND dids_count > 0"),
    CC_STMT("cc_dids_insert",
            "INSERT INTO dids (tenant_id, number, description, destination_type,"
            " destination_id, status) VALUES (%s, %s, %s, %s, %s, %s)"
            " RETURNING " DID_COLUMNS),
    /* Full new values: the row is locked and merged with the patch in C. */
    CC_STMT("cc_dids_update",
            "UPDATE dids SET number = %s, description = %s, destination_type = %s,"
            " destination_id = %s, status = %s, updated_at = UTC_TIMESTAMP()"
            " WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_dids_delete",
            "DELETE FROM dids WHERE tenant_id = %s AND id = %s RETURNING " DID_COLUMNS),
    /* Destinations (did_destinations[]).  Share locks: a user, queue or endpoint
     * delete (which locks the row, then refuses while a DID routes to it) waits for
     * this write. */
    CC_STMT("cc_dids_dest_user",
            "SELECT 1 FROM users u WHERE u.tenant_id = %s AND u.id = %s"
            " AND u.deleted_at IS NULL LOCK IN SHARE MODE"),
    CC_STMT("cc_dids_dest_queue",
            "SELECT 1 FROM call_queues q WHERE q.tenant_id = %s AND q.id = %s"
            " LOCK IN SHARE MODE"),
    CC_STMT("cc_dids_dest_endpoint",
            "SELECT 1 FROM endpoints e WHERE e.tenant_id = %s AND e.id = %s"
            " LOCK IN SHARE MODE"),
    /* Binds the tenant's voicemail context instead of its id (did_destinations[]). */
    CC_STMT("cc_dids_dest_voicemail",
            "SELECT 1 FROM voicemail v WHERE v.context = %s AND v.uniqueid = %s"),
    CC_STMT_END
};

/* ---- the DID object ---- */

#define DID_COLS                               \
    { "id", CC_COL_INT },                      \
    { CC_KEY_NUMBER, CC_COL_STR },             \
    { CC_KEY_DESCRIPTION, CC_COL_STR },        \
    { CC_KEY_DEST_TYPE, CC_COL_STR },          \
    { CC_KEY_DEST_ID, CC_COL_INT },            \
    { CC_KEY_STATUS, CC_COL_STR },             \
    { "created_at", CC_COL_TIME },             \
    { "updated_at", CC_COL_TIME }

static const cc_col_t did_cols[] = {
    DID_COLS,
    CC_COL_END
};

static const cc_col_t did_page_cols[] = {
    DID_COLS,
    { "total", CC_COL_TOTAL },
    CC_COL_END
};

/* ---- request bodies ---- */

/* A PATCH takes the same fields, none required (cc_read_json_patch). */
static const cc_field_t did_fields[] = {
    { CC_KEY_NUMBER, CC_JT_STRING, 1 },
    { CC_KEY_DESCRIPTION, CC_JT_STRING, 0 },
    { CC_KEY_DEST_TYPE, CC_JT_STRING, 0 },
    { CC_KEY_DEST_ID, CC_JT_INT_NULL, 0 },
    { CC_KEY_STATUS, CC_JT_STRING, 0 },
    { NULL, 0, 0 }
};

/* What a body asks for; NULL members are absent. */
typedef struct did_input_t {
    const char *number;
    const char *description;
    const char *dest_type;
    int dest_touched;        /* destination_type or destination_id present */
    int has_dest_id;         /* destination_id present (null included) */
    const char *dest_id;     /* canonical decimal; NULL when absent or null */
    const char *status;
} did_input_t;

/* A DID's stored values, or the values it will have after a change. */
typedef struct did_values_t {
    const char *number;
    const char *description;
    const char *dest_type;
    const char *dest_id;     /* NULL exactly when dest_type is none */
    const char *status;
} did_values_t;

/* Validate whatever fields body carries; every problem at once. */
static cc_error_t *did_input_read(apr_pool_t *p, json_t *body, did_input_t *in)
{
    cc_error_t *err = NULL;

    memset(in, 0, sizeof(*in));
    in->number = cc_json_str(body, CC_KEY_NUMBER);
    in->description = cc_json_str(body, CC_KEY_DESCRIPTION);
    in->dest_type = cc_json_str(body, CC_KEY_DEST_TYPE);
    in->status = cc_json_str(body, CC_KEY_STATUS);
    in->has_dest_id = cc_json_has(body, CC_KEY_DEST_ID);
    in->dest_touched = in->dest_type || in->has_dest_id;
    if (in->number && !cc_valid_e164(in->number)) {
        err = cc_error_collect(p, err, CC_KEY_NUMBER,
                               "must be E.164: + then 8 to 15 digits, the first not 0");
    }
    if (in->description && !cc_valid_text(in->description, 0, CC_DESCRIPTION_MAX)) {
        err = cc_error_collect(p, err, CC_KEY_DESCRIPTION,
                               "must be at most 500 characters, no control characters");
    }
    if (in->dest_type && !cc_valid_enum(in->dest_type, did_dest_types)) {
        err = cc_error_collect(p, err, CC_KEY_DEST_TYPE,
                               "must be one of: none, queue, user, endpoint, voicemail");
    }
    if (in->has_dest_id && !json_is_null(json_object_get(body, CC_KEY_DEST_ID))) {
        json_int_t v = cc_json_int(body, CC_KEY_DEST_ID, 0);

        if (v < 1 || v > CC_DEST_ID_MAX) {
            err = cc_error_collect(p, err, CC_KEY_DEST_ID, "must be a positive integer");
        }
        else {
            in->dest_id = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)v);
        }
    }
    if (in->status && !cc_valid_enum(in->status, did_statuses)) {
        err = cc_error_collect(p, err, CC_KEY_STATUS, "must be one of: active, inactive");
    }
    return err;
}

static const did_destination_t *destination_of(const char *type)
{
    const did_destination_t *d;

    for (d = did_destinations; d->type; d++) {
        if (!strcmp(d->type, type)) {
            return d;
        }
    }
    return NULL;
}

/*
 * The DID cur becomes with in applied, into *out.  The destination id follows its type:
 * a new type without an id clears it (none needs none; any other type then asks for
 * one), an id alone applies to the current type.  400 when the pair does not fit.
 */
static cc_error_t *did_merge(apr_pool_t *p, const did_values_t *cur, const did_input_t *in,
                             did_values_t *out)
{
    cc_error_t *err = NULL;

    out->number = in->number ? in->number : cur->number;
    out->description = in->description ? in->description : cur->description;
    out->status = in->status ? in->status : cur->status;
    out->dest_type = in->dest_type ? in->dest_type : cur->dest_type;
    if (in->has_dest_id) {
        out->dest_id = in->dest_id;
    }
    else if (in->dest_type && strcmp(in->dest_type, cur->dest_type)) {
        out->dest_id = NULL;
    }
    else {
        out->dest_id = cur->dest_id;
    }
    if (!in->dest_touched) {
        return NULL;
    }
    if (!strcmp(out->dest_type, DEST_NONE)) {
        if (out->dest_id) {
            err = cc_error_collect(p, err, CC_KEY_DEST_ID,
                                   "must be null when destination_type is none");
        }
        return err;
    }
    if (!out->dest_id) {
        err = cc_error_collect(p, err, CC_KEY_DEST_ID,
                               apr_psprintf(p, "required (a positive integer) when "
                                            "destination_type is %s", out->dest_type));
    }
    return err;
}

/* ---- helpers ---- */

/* The destination must exist in the caller's tenant; another tenant's object, like a
 * missing or deleted one, is a 400 on destination_id (API.md: a reference to an object
 * not in the caller's tenant). */
static cc_error_t *destination_check(cc_ctx_t *ctx, const did_values_t *v)
{
    const did_destination_t *dest;
    const char *args[2];
    const char **row;
    cc_error_t *err;

    if (!strcmp(v->dest_type, DEST_NONE)) {
        return NULL;
    }
    dest = destination_of(v->dest_type);   /* did_input_read vouched for the type */
    args[0] = dest->by_context ? cc_ast_context(ctx->r->pool, ctx->principal->tenant_slug)
                               : ctx->principal->tenant_id;
    args[1] = v->dest_id;
    if ((err = cc_db_select_row(ctx, dest->check_label, 2, args, &row, NULL))) {
        return err;
    }
    if (!row) {
        return cc_error_field(ctx->r->pool, CC_KEY_DEST_ID,
                              apr_psprintf(ctx->r->pool, "no such %s in this tenant",
                                           v->dest_type));
    }
    return NULL;
}

/* Count the new DID against max_dids (the last statement before the commit). */
static cc_error_t *count_add(cc_ctx_t *ctx)
{
    const char *args[1] = { ctx->principal->tenant_id };
    int nrows = 0;
    cc_error_t *err = cc_db_exec(ctx, "cc_dids_count_add", 1, args, &nrows);

    if (!err && nrows != 1) {
        err = cc_error_make(ctx->r->pool, HTTP_CONFLICT, CC_ERR_QUOTA_EXCEEDED,
                            "the tenant has reached its max_dids limit");
    }
    return err;
}

static cc_error_t *count_remove(cc_ctx_t *ctx)
{
    const char *args[1] = { ctx->principal->tenant_id };

    return cc_db_exec(ctx, "cc_dids_count_remove", 1, args, NULL);
}

static cc_error_t *number_conflict(cc_ctx_t *ctx, cc_error_t *err)
{
    if (err->status == HTTP_CONFLICT) {
        err = cc_error_conflict(ctx->r->pool, "this number is already in use");
        cc_error_add_detail(err, CC_KEY_NUMBER, "already in use");
    }
    return err;
}


/* The values of v as an object (the audit record of a create or delete). */
static json_t *values_json(const did_values_t *v)
{
    json_t *o = json_object();

    cc_json_set_str(o, CC_KEY_NUMBER, v->number);
    cc_json_set_str(o, CC_KEY_DESCRIPTION, v->description);
    cc_json_set_str(o, CC_KEY_DEST_TYPE, v->dest_type);
    json_object_set_new(o, CC_KEY_DEST_ID, cc_json_int_or_null(v->dest_id));
    cc_json_set_str(o, CC_KEY_STATUS, v->status);
    return o;
}

/* {"field": {"from": old, "to": new}} for each field that changes. */
static json_t *values_diff(const did_values_t *a, const did_values_t *b)
{
    json_t *changes = json_object();

    cc_audit_change_str(changes, CC_KEY_NUMBER, a->number, b->number);
    cc_audit_change_str(changes, CC_KEY_DESCRIPTION, a->description, b->description);
    cc_audit_change_str(changes, CC_KEY_DEST_TYPE, a->dest_type, b->dest_type);
    if (!cc_str_same(a->dest_id, b->dest_id)) {
        cc_audit_change(changes, CC_KEY_DEST_ID, cc_json_int_or_null(a->dest_id),
                        cc_json_int_or_null(b->dest_id));
    }
    cc_audit_change_str(changes, CC_KEY_STATUS, a->status, b->status);
    return changes;
}

/* The locked row's values; 404 when the tenant has no such DID. */
static cc_error_t *lock_did(cc_ctx_t *ctx, const char *id, did_values_t *cur)
{
    const char *args[2] = { ctx->principal->tenant_id, id };
    const char **row;
    cc_error_t *err = cc_db_select_row(ctx, "cc_dids_lock", 2, args, &row, NULL);

    if (err) {
        return err;
    }
    if (!row) {
        return cc_error_not_found(ctx->r->pool);
    }
    cur->number = row[0];
    cur->description = row[1];
    cur->dest_type = row[2];
    cur->dest_id = row[3];
    cur->status = row[4];
    return NULL;
}

/* The DID as an object owned by r->pool; 404 when none. */
static cc_error_t *fetch_did(cc_ctx_t *ctx, const char *id, json_t **pobj)
{
    const char *args[2] = { ctx->principal->tenant_id, id };
    cc_error_t *err = cc_db_select_one(ctx, "cc_dids_get", did_cols, 2, args, pobj);

    if (!err && !*pobj) {
        err = cc_error_not_found(ctx->r->pool);
    }
    cc_json_own(ctx->r->pool, *pobj);
    return err;
}

/* ---- handlers ---- */

static int dids_list(request_rec *r, cc_ctx_t *ctx)
{
    apr_pool_t *p = r->pool;
    const char *status = apr_table_get(ctx->args, CC_KEY_STATUS);
    const char *dest_type = apr_table_get(ctx->args, CC_KEY_DEST_TYPE);
    const char *q = apr_table_get(ctx->args, "q");
    const char *tenant = ctx->principal->tenant_id;
    const char *pattern = NULL;
    cc_page_t pg;
    cc_error_t *err = NULL;

    if ((err = cc_page_parse(p, ctx->args, did_sorts, CC_KEY_NUMBER, &pg))) {
        return cc_send_error(r, err);
    }
    if (status && !cc_valid_enum(status, did_statuses)) {
        err = cc_error_collect(p, err, CC_KEY_STATUS, "must be one of: active, inactive");
    }
    if (dest_type && !cc_valid_enum(dest_type, did_dest_types)) {
        err = cc_error_collect(p, err, CC_KEY_DEST_TYPE,
                               "must be one of: none, queue, user, endpoint, voicemail");
    }
    if (q && !cc_valid_text(q, 0, CC_Q_MAX)) {
        err = cc_error_collect(p, err, "q", "must be at most 200 characters");
    }
    if (err) {
        return cc_send_error(r, err);
    }
    if (q && *q) {
        pattern = cc_like_contains(p, q);
    }
    {
        /* One copy of DIDS_FILTER's arguments. */
        const char *filter[8] = { tenant, status, status, dest_type, dest_type, pattern,
                                  pattern, pattern };

        return cc_db_send_list(ctx, "cc_dids", did_page_cols, &pg, filter, 8,
                               status || dest_type || pattern);
    }
}

static int dids_get(request_rec *r, cc_ctx_t *ctx)
{
    const char *id = cc_api_id_param(ctx, "id");
    json_t *did;
    cc_error_t *err;

    if (!id) {
        return cc_send_error(r, cc_error_not_found(r->pool));
    }
    if ((err = fetch_did(ctx, id, &did))) {
        return cc_send_error(r, err);
    }
    return cc_send_json(r, HTTP_OK, json_incref(did));
}

static int dids_create(request_rec *r, cc_ctx_t *ctx)
{
    static const did_values_t blank = { "", "", DEST_NONE, NULL, "active" };
    did_input_t in;
    did_values_t v;
    const char *args[6], *id;
    json_t *body, *did = NULL;
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, did_fields, &body))
        || (err = did_input_read(r->pool, body, &in))
        || (err = did_merge(r->pool, &blank, &in, &v))) {
        return cc_send_error(r, err);
    }
    args[0] = ctx->principal->tenant_id;
    args[1] = v.number;
    args[2] = v.description;
    args[3] = v.dest_type;
    args[4] = v.dest_id;
    args[5] = v.status;
    if ((err = cc_db_begin(ctx))
        || (err = destination_check(ctx, &v))) {
        return cc_db_abort(ctx, err);
    }
    err = cc_db_select_one(ctx, "cc_dids_insert", did_cols, 6, args, &did);
    cc_json_own(r->pool, did);
    if (err || !did) {
        return cc_db_abort(ctx, err ? number_conflict(ctx, err) : cc_error_internal(r->pool));
    }
    id = cc_json_int_text(r->pool, did, "id");
    if ((err = cc_audit(ctx, "did.create", "did", id, values_json(&v)))
        || (err = cc_event(ctx, "did.created", "did", id, json_incref(did)))
        || (err = count_add(ctx))
        || (err = cc_db_end(ctx, 1))) {
        return cc_db_abort(ctx, err);
    }
    return cc_send_created(r, apr_pstrcat(r->pool, "/api/v1/dids/", id, NULL),
                           json_incref(did));
}

static int dids_update(request_rec *r, cc_ctx_t *ctx)
{
    const char *id = cc_api_id_param(ctx, "id");
    const char *args[7];
    did_input_t in;
    did_values_t cur, v;
    json_t *body, *changes, *did;
    cc_error_t *err;

    if (!id) {
        return cc_send_error(r, cc_error_not_found(r->pool));
    }
    if ((err = cc_read_json_patch(ctx, did_fields, &body))
        || (err = did_input_read(r->pool, body, &in))) {
        return cc_send_error(r, err);
    }
    if ((err = cc_db_begin(ctx))
        || (err = lock_did(ctx, id, &cur))
        || (err = did_merge(r->pool, &cur, &in, &v))
        || (in.dest_touched && (err = destination_check(ctx, &v)))) {
        return cc_db_abort(ctx, err);
    }
    changes = cc_json_own(r->pool, values_diff(&cur, &v));
    if (json_object_size(changes) == 0) {
        /* Nothing changes, so nothing is written, audited or announced. */
        cc_db_end(ctx, 0);
        if ((err = fetch_did(ctx, id, &did))) {
            return cc_send_error(r, err);
        }
        return cc_send_json(r, HTTP_OK, json_incref(did));
    }
    args[0] = v.number;
    args[1] = v.description;
    args[2] = v.dest_type;
    args[3] = v.dest_id;
    args[4] = v.status;
    args[5] = ctx->principal->tenant_id;
    args[6] = id;
    if ((err = cc_db_exec(ctx, "cc_dids_update", 7, args, NULL))) {
        return cc_db_abort(ctx, number_conflict(ctx, err));
    }
    if ((err = fetch_did(ctx, id, &did))
        || (err = cc_audit(ctx, "did.update", "did", id, json_incref(changes)))
        || (err = cc_event(ctx, "did.updated", "did", id, json_incref(did)))
        || (err = cc_db_end(ctx, 1))) {
        return cc_db_abort(ctx, err);
    }
    return cc_send_json(r, HTTP_OK, json_incref(did));
}

static int dids_delete(request_rec *r, cc_ctx_t *ctx)
{
    const char *id = cc_api_id_param(ctx, "id");
    const char *args[2];
    json_t *did = NULL, *changes;
    cc_error_t *err;

    if (!id) {
        return cc_send_error(r, cc_error_not_found(r->pool));
    }
    args[0] = ctx->principal->tenant_id;
    args[1] = id;
    if ((err = cc_db_begin(ctx))) {
        return cc_db_abort(ctx, err);
    }
    /* One statement removes the row and returns what it was, for the audit and event. */
    err = cc_db_select_one(ctx, "cc_dids_delete", did_cols, 2, args, &did);
    cc_json_own(r->pool, did);
    if (err || !did) {
        return cc_db_abort(ctx, err ? err : cc_error_not_found(r->pool));
    }
    /* The audit entry keeps what was deleted (the row itself is gone). */
    changes = json_pack("{s:O,s:O,s:O,s:O,s:O}",
                        CC_KEY_NUMBER, json_object_get(did, CC_KEY_NUMBER),
                        CC_KEY_DESCRIPTION, json_object_get(did, CC_KEY_DESCRIPTION),
                        CC_KEY_DEST_TYPE, json_object_get(did, CC_KEY_DEST_TYPE),
                        CC_KEY_DEST_ID, json_object_get(did, CC_KEY_DEST_ID),
                        CC_KEY_STATUS, json_object_get(did, CC_KEY_STATUS));
    if ((err = cc_audit(ctx, "did.delete", "did", id, changes))
        || (err = cc_event(ctx, "did.deleted", "did", id, json_incref(did)))
        || (err = count_remove(ctx))
        || (err = cc_db_end(ctx, 1))) {
        return cc_db_abort(ctx, err);
    }
    return cc_send_no_content(r);
}

/* Path order does not matter: captures never shadow literals (cc_route_match). */
const cc_route_t cc_dids_routes[] = {
    { "GET", "/api/v1/dids", dids_list, "dids.read", CC_ROUTE_AUTH },
    { "POST", "/api/v1/dids", dids_create, "dids.write", CC_ROUTE_AUTH },
    { "GET", "/api/v1/dids/{id}", dids_get, "dids.read", CC_ROUTE_AUTH },
    { "PATCH", "/api/v1/dids/{id}", dids_update, "dids.write", CC_ROUTE_AUTH },
    { "DELETE", "/api/v1/dids/{id}", dids_delete, "dids.write", CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};
