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
 * an uncorrelated COUNT subquery when filtered).  Create is three round trips: BEGIN,
 * INSERT ... RETURNING (which renders the response), then one CALL (cc_record, sql/024)
 * that writes the audit entry and the event, counts the DID against max_dids and commits:
 * the tenant row is locked inside that call only, so a tenant's creates overlap until
 * their last microseconds.  Delete likewise; update writes its audit entry and event the
 * same way.
 */
#include <string.h>

#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "cc_api_private.h"
#include "cc_dids_rules.h"
#include "cc_asterisk.h"
#include "cc_audit.h"
#include "cc_page.h"
#include "cc_sql.h"
#include "cc_validate.h"

#define CC_Q_MAX           200
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

/* One CC_LIST_SORT per whitelisted sort (dids_list_spec).  Numbers
 * are unique, so they need no id tie-breaker. */
static const cc_stmt_t dids_stmts[] = {
    CC_LIST_SORT("cc_dids", "number", DIDS_LIST, DIDS_SEARCH, "d.number ASC", "d.number DESC"),
    CC_LIST_SORT("cc_dids", "created_at", DIDS_LIST, DIDS_SEARCH, "d.created_at ASC, d.id ASC",
                 "d.created_at DESC, d.id DESC"),
    CC_STMT("cc_dids_count", "SELECT dids_count FROM tenants WHERE id = %s"),
    CC_STMT("cc_dids_search_count", "SELECT COUNT(*) FROM dids d WHERE" DIDS_FILTER),
    CC_STMT("cc_dids_get",
            "SELECT " DID_COLUMNS " FROM dids d WHERE d.tenant_id = %s AND d.id = %s"),
    CC_STMT("cc_dids_lock",
            "SELECT number, description, destination_type, destination_id, status"
            " FROM dids WHERE tenant_id = %s AND id = %s FOR UPDATE"),
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

static const cc_col_t did_cols[] = {
    { "id", CC_COL_INT },
    { CC_KEY_NUMBER, CC_COL_STR },
    { CC_KEY_DESCRIPTION, CC_COL_STR },
    { CC_KEY_DEST_TYPE, CC_COL_STR },
    { CC_KEY_DEST_ID, CC_COL_INT },
    { CC_KEY_STATUS, CC_COL_STR },
    { "created_at", CC_COL_TIME },
    { "updated_at", CC_COL_TIME },
    CC_COL_END
};

/* GET /dids: statements cc_dids_{list,search}_<sort>_<asc|desc> above; the filters bind
 * as DIDS_FILTER reads them. */
static const cc_filter_t did_filters[] = {
    { CC_KEY_STATUS, CC_FILTER_ENUM, 2, did_statuses, 0, NULL, NULL },
    { CC_KEY_DEST_TYPE, CC_FILTER_ENUM, 2, did_dest_types, 0, NULL, NULL },
    { "q", CC_FILTER_SEARCH, 3, NULL, CC_Q_MAX, NULL, NULL },
    CC_FILTER_END
};

static const cc_list_t dids_list_spec = { "cc_dids", did_sorts, CC_KEY_NUMBER, did_cols,
                                           did_filters, 0, NULL, NULL };

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
    args[0] = dest->by_context ? cc_ast_context(ctx->pool, ctx->principal->tenant_slug)
                               : ctx->principal->tenant_id;
    args[1] = v->dest_id;
    if ((err = cc_db_select_row(ctx->db, dest->check_label, 2, args, &row, NULL))) {
        return err;
    }
    if (!row) {
        return cc_error_field(ctx->pool, CC_KEY_DEST_ID,
                              apr_psprintf(ctx->pool, "no such %s in this tenant",
                                           v->dest_type));
    }
    return NULL;
}

/* Count the new DID against max_dids (the last statement before the commit). */
/* A taken number (the platform-wide unique key): 409 naming the field. */
static cc_error_t *number_conflict(cc_ctx_t *ctx, cc_error_t *err)
{
    return cc_db_duplicate(ctx->db, err, CC_KEY_NUMBER, "already in use",
                           "this number is already in use");
}

/* The locked row's values; 404 when the tenant has no such DID. */
static cc_error_t *lock_did(cc_ctx_t *ctx, const char *id, did_values_t *cur)
{
    const char **row;
    cc_error_t *err = cc_fetch_row(ctx, "cc_dids_lock", id, &row);

    if (err) {
        return err;
    }
    cur->number = row[0];
    cur->description = row[1];
    cur->dest_type = row[2];
    cur->dest_id = row[3];
    cur->status = row[4];
    return NULL;
}

/* ---- handlers ---- */

static cc_error_t *dids_create(cc_ctx_t *ctx)
{
    static const did_values_t blank = { "", "", DEST_NONE, NULL, "active" };
    did_input_t in;
    did_values_t v;
    const char *args[6], *id;
    json_t *body, *did;
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, did_fields, &body))
        || (err = cc_dids_input_read(ctx->pool, body, &in))
        || (err = cc_dids_merge(ctx->pool, &blank, &in, &v))) {
        return err;
    }
    args[0] = ctx->principal->tenant_id;
    args[1] = v.number;
    args[2] = v.description;
    args[3] = v.dest_type;
    args[4] = v.dest_id;
    args[5] = v.status;
    if ((err = cc_db_begin(ctx->db))
        || (err = destination_check(ctx, &v))
        || (err = number_conflict(ctx, cc_db_select_one(ctx->db, "cc_dids_insert", did_cols,
                                                        6, args, &did)))) {
        return err;
    }
    if (!did) {
        return cc_error_internal(ctx->pool);   /* INSERT ... RETURNING gives its row */
    }
    id = cc_json_int_text(ctx->pool, did, "id");
    /* The count against max_dids, the audit entry, the event and the commit: one round
     * trip, the tenant row locked inside it only. */
    if ((err = cc_ctx_record(ctx, "did", "create", id, cc_dids_values_json(ctx->pool, &v), did,
                             CC_RECORD_COMMIT | CC_RECORD_DIDS_ADD))) {
        return err;
    }
    return cc_reply_created(ctx, apr_pstrcat(ctx->pool, "/api/v1/dids/", id, NULL), did);
}

static cc_error_t *dids_update(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id");
    did_input_t in;
    did_values_t cur, v;
    json_t *body, *changes, *did;
    cc_error_t *err;

    if ((err = cc_read_json_patch(ctx, did_fields, &body))
        || (err = cc_dids_input_read(ctx->pool, body, &in))
        || (err = cc_db_begin(ctx->db))
        || (err = lock_did(ctx, id, &cur))
        || (err = cc_dids_merge(ctx->pool, &cur, &in, &v))
        || (in.dest_touched && (err = destination_check(ctx, &v)))) {
        return err;
    }
    changes = cc_dids_values_diff(ctx->pool, &cur, &v);
    if (json_object_size(changes) == 0) {
        return cc_reply_unchanged(ctx, cc_handle_get);
    }
    {
        const char *args[7] = { v.number, v.description, v.dest_type, v.dest_id, v.status,
                                ctx->principal->tenant_id, id };

        err = number_conflict(ctx, cc_db_exec(ctx->db, "cc_dids_update", 7, args, NULL));
    }
    if (err || (err = cc_fetch(ctx, "cc_dids_get", did_cols, id, &did))) {
        return err;
    }
    return cc_ctx_commit(ctx, "did", "update", id, changes, did, HTTP_OK, NULL);
}

/* What a delete's audit entry keeps of the DID (the row itself is gone). */
static const char *const did_audit_drop[] = { "id", "created_at", "updated_at", NULL };

static cc_error_t *dids_delete(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id");
    json_t *did;
    cc_error_t *err;

    /* One statement removes the row and returns what it was, for the audit and event. */
    if ((err = cc_db_begin(ctx->db))
        || (err = cc_fetch(ctx, "cc_dids_delete", did_cols, id, &did))
        || (err = cc_ctx_record(ctx, "did", "delete", id,
                                cc_json_without(ctx->pool, did, did_audit_drop), did,
                                CC_RECORD_COMMIT | CC_RECORD_DIDS_REMOVE))) {
        return err;
    }
    return cc_reply_no_content(ctx);
}

/* Path order does not matter: captures never shadow literals (cc_route_match). */
static const cc_route_t dids_routes[] = {
    { "GET", "/api/v1/dids", cc_handle_list, "dids.read", CC_ROUTE_AUTH },
    { "POST", "/api/v1/dids", dids_create, "dids.write", CC_ROUTE_AUTH },
    { "GET", "/api/v1/dids/{id:int}", cc_handle_get, "dids.read", CC_ROUTE_AUTH },
    { "PATCH", "/api/v1/dids/{id:int}", dids_update, "dids.write", CC_ROUTE_AUTH },
    { "DELETE", "/api/v1/dids/{id:int}", dids_delete, "dids.write", CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_dids_domain = { "dids", dids_routes, dids_stmts, &dids_list_spec,
                                     "cc_dids_get", did_cols };
