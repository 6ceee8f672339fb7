/*
 * cc_tenants.c: /api/v1/tenants (tenants.manage, i.e. platform admins only).
 *
 * The tenants table is not tenant-owned (its id is the tenant), so its statements do not
 * filter on tenant_id; the roles copied into a new tenant do carry it.  Every mutation is
 * audited in the platform admin's home tenant (the platform tenant), whatever
 * X-Tenant-ID says: platform actions belong to the platform's log.  Delete is soft
 * (status=deleted); a deleted tenant is still readable by id, listed only with
 * ?status=deleted, and can be restored with PATCH status=active.
 */
#include <string.h>

#include <httpd.h>
#include <http_log.h>
#include <apr_strings.h>

#include "cc_audit.h"
#include "cc_crypto.h"
#include "cc_log.h"
#include "cc_page.h"
#include "cc_sql.h"
#include "cc_validate.h"
#include "cc_tenant_private.h"

#define TENANT_COLS \
    "id, name, slug, status, plan, max_users, max_dids, created_at, updated_at"

/* Default filter hides deleted tenants; ?status= names one status (deleted included).
 * Args: status, status, q pattern x3. */
#define TENANTS_WHERE \
    " WHERE (status = %s OR (%s IS NULL AND status <> 'deleted'))" \
    " AND (%s IS NULL OR name LIKE %s OR slug LIKE %s)"

#define TENANTS_LIST(order) \
    "SELECT " TENANT_COLS ", COUNT(*) OVER () FROM tenants" TENANTS_WHERE \
    " ORDER BY " order " LIMIT %s OFFSET %s"

#define TENANT_MAX_LIMIT 1000000
#define TENANT_Q_MAX     200

/* Statements; the list has one per sort order (ORDER BY cannot be a parameter), named
 * cc_tenants_list_<field>[_desc] to match the sort whitelist. */
const cc_stmt_t cc_tenants_stmts[] = {
    CC_STMT("cc_tenants_insert",
            "INSERT INTO tenants (id, name, slug, status, plan, max_users, max_dids)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)"),
    CC_STMT("cc_tenants_copy_roles",
            "INSERT INTO roles (tenant_id, name, description, builtin, permissions)"
            " SELECT %s, name, description, 1, permissions FROM builtin_roles"
            " WHERE platform_only = 0"),
    CC_STMT("cc_tenants_get",
            "SELECT " TENANT_COLS " FROM tenants WHERE id = %s"),
    CC_STMT("cc_tenants_lock",
            "SELECT slug, status, name, plan, max_users, max_dids FROM tenants"
            " WHERE id = %s FOR UPDATE"),
    CC_STMT("cc_tenants_update",
            "UPDATE tenants SET name = COALESCE(%s, name), plan = COALESCE(%s, plan),"
            " status = COALESCE(%s, status), max_users = COALESCE(%s, max_users),"
            " max_dids = COALESCE(%s, max_dids), updated_at = UTC_TIMESTAMP()"
            " WHERE id = %s"),
    CC_STMT("cc_tenants_count",
            "SELECT COUNT(*) FROM tenants" TENANTS_WHERE),
    CC_STMT("cc_tenants_list_name", TENANTS_LIST("name, id")),
    CC_STMT("cc_tenants_list_name_desc", TENANTS_LIST("name DESC, id DESC")),
    CC_STMT("cc_tenants_list_slug", TENANTS_LIST("slug")),
    CC_STMT("cc_tenants_list_slug_desc", TENANTS_LIST("slug DESC")),
    CC_STMT("cc_tenants_list_created_at", TENANTS_LIST("created_at, id")),
    CC_STMT("cc_tenants_list_created_at_desc", TENANTS_LIST("created_at DESC, id DESC")),
    CC_STMT_END
};

static const cc_col_t tenant_cols[] = {
    {"id", CC_COL_STR},
    {"name", CC_COL_STR},
    {"slug", CC_COL_STR},
    {"status", CC_COL_STR},
    {"plan", CC_COL_STR},
    {"max_users", CC_COL_INT},
    {"max_dids", CC_COL_INT},
    {"created_at", CC_COL_TIME},
    {"updated_at", CC_COL_TIME},
    {"total", CC_COL_TOTAL},
    CC_COL_END
};

static const char *const sort_fields[] = {"name", "slug", "created_at", NULL};
static const char *const create_statuses[] = {"active", "suspended", NULL};
static const char *const all_statuses[] = {"active", "suspended", "deleted", NULL};

/* What a create's audit entry keeps of the new tenant. */
static const char *const audit_drop[] = {"created_at", "updated_at", NULL};

static const cc_field_t create_fields[] = {
    {"name", CC_JT_STRING, 1},
    {"slug", CC_JT_STRING, 1},
    {"plan", CC_JT_STRING, 0},
    {"max_users", CC_JT_INT, 0},
    {"max_dids", CC_JT_INT, 0},
    {"status", CC_JT_STRING, 0},
    {NULL, 0, 0}
};

/* slug is immutable: it is not here, so sending it is an unknown field (400). */
static const cc_field_t patch_fields[] = {
    {"name", CC_JT_STRING, 0},
    {"plan", CC_JT_STRING, 0},
    {"status", CC_JT_STRING, 0},
    {"max_users", CC_JT_INT, 0},
    {"max_dids", CC_JT_INT, 0},
    {NULL, 0, 0}
};

/* ---- validation ---- */

/* Validated body values as statement arguments (NULL = absent). */
typedef struct tenant_input_t {
    const char *name;
    const char *slug;
    const char *plan;
    const char *status;
    const char *max_users;
    const char *max_dids;
} tenant_input_t;

static cc_error_t *check_limit(apr_pool_t *p, cc_error_t *e, json_t *body,
                               const char *field, const char **out)
{
    json_t *v = json_object_get(body, field);

    if (!v) {
        return e;
    }
    if (json_integer_value(v) < 0 || json_integer_value(v) > TENANT_MAX_LIMIT) {
        return cc_error_collect(p, e, field, "must be an integer from 0 to 1000000");
    }
    *out = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)json_integer_value(v));
    return e;
}

/* Values of body (types already checked) into in; every bad field is reported. */
static cc_error_t *check_input(apr_pool_t *p, json_t *body, const char *const *statuses,
                               tenant_input_t *in)
{
    cc_error_t *e = NULL;

    memset(in, 0, sizeof(*in));
    in->name = cc_json_str(body, "name");
    in->slug = cc_json_str(body, "slug");
    in->plan = cc_json_str(body, "plan");
    in->status = cc_json_str(body, "status");
    if (in->name && !cc_valid_text(in->name, 1, 200)) {
        e = cc_error_collect(p, e, "name", "must be 1 to 200 characters");
    }
    if (in->slug && !cc_valid_slug(in->slug)) {
        e = cc_error_collect(p, e, "slug", "must match [a-z0-9-]{3,63}");
    }
    if (in->plan && !cc_valid_text(in->plan, 1, 50)) {
        e = cc_error_collect(p, e, "plan", "must be 1 to 50 characters");
    }
    if (in->status && !cc_valid_enum(in->status, statuses)) {
        e = cc_error_collect(p, e, "status",
                                  statuses == create_statuses
                                  ? "must be one of: active, suspended"
                                  : "must be one of: active, suspended, deleted");
    }
    e = check_limit(p, e, body, "max_users", &in->max_users);
    e = check_limit(p, e, body, "max_dids", &in->max_dids);
    return e;
}

/* Path ids are canonical UUIDs; anything else names no tenant. */
static const char *path_id(cc_ctx_t *ctx)
{
    const char *id = cc_route_param(&ctx->match, "id");

    return id && cc_valid_uuid(id) ? id : NULL;
}

static int is_platform(cc_ctx_t *ctx, const char *slug)
{
    return !strcmp(slug, cc_tenant_cfg_platform_slug(CC_TENANT_CTX_CFG(ctx)));
}

/* Audit in the acting platform admin's home tenant (see the file comment). */
static cc_error_t *audit(cc_ctx_t *ctx, const char *action, const char *id, json_t *changes)
{
    const cc_principal_t *pr = ctx->principal;

    return cc_audit_as(ctx, pr->home_tenant_id, pr->user_id_str, action, "tenant", id,
                       changes);
}

static cc_error_t *fetch(cc_ctx_t *ctx, const char *id, json_t **pobj)
{
    const char *args[1];

    args[0] = id;
    return cc_db_select_one(ctx, "cc_tenants_get", tenant_cols, 1, args, pobj);
}

/* ---- handlers ---- */

static int tenants_create(request_rec *r, cc_ctx_t *ctx)
{
    tenant_input_t in;
    json_t *body, *obj = NULL, *changes;
    const char *id, *args[7];
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, create_fields, &body))
        || (err = check_input(r->pool, body, create_statuses, &in))) {
        return cc_send_error(r, err);
    }
    if (cc_uuid_v4(r->pool, &id) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CCLOGNO(02020)
                      "could not generate a tenant id");
        return cc_send_error(r, cc_error_internal(r->pool));
    }
    args[0] = id;
    args[1] = in.name;
    args[2] = in.slug;
    args[3] = in.status ? in.status : "active";
    args[4] = in.plan ? in.plan : "standard";
    args[5] = in.max_users ? in.max_users : "100";
    args[6] = in.max_dids ? in.max_dids : "100";

    if ((err = cc_db_begin(ctx))) {
        return cc_send_error(r, err);
    }
    err = cc_db_exec(ctx, "cc_tenants_insert", 7, args, NULL);
    if (err && cc_db_last_errno(ctx) == CC_DB_ER_DUP_ENTRY) {
        /* The id is random, so the unique key that fired is the slug (deleted tenants
         * keep theirs). */
        err = cc_error_conflict(r->pool, "slug '%s' is already taken", in.slug);
    }
    if (!err) {
        err = cc_db_exec(ctx, "cc_tenants_copy_roles", 1, args, NULL);
    }
    if (!err) {
        err = fetch(ctx, id, &obj);
        if (!err && !obj) {
            err = cc_error_internal(r->pool);
        }
    }
    if (!err) {
        changes = cc_json_without(obj, audit_drop);
        err = audit(ctx, "tenant.create", id, changes);
    }
    if ((err = cc_tenant_txn_finish(ctx, err))) {
        json_decref(obj);
        return cc_send_error(r, err);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CCLOGNO(02021)
                  "tenant %s (%s) created by user %s", id, in.slug,
                  ctx->principal->user_id_str);
    return cc_send_created(r, apr_pstrcat(r->pool, "/api/v1/tenants/", id, NULL), obj);
}

static int tenants_list(request_rec *r, cc_ctx_t *ctx)
{
    const char *status = apr_table_get(ctx->args, "status");
    const char *q = apr_table_get(ctx->args, "q");
    const char *like = NULL, *args[7];
    cc_error_t *err;
    cc_page_t pg;

    err = cc_page_parse(r->pool, ctx->args, sort_fields, "created_at", &pg);
    if (status && !cc_valid_enum(status, all_statuses)) {
        err = cc_error_collect(r->pool, err, "status",
                                    "must be one of: active, suspended, deleted");
    }
    if (q && !cc_valid_text(q, 0, TENANT_Q_MAX)) {
        err = cc_error_collect(r->pool, err, "q", "must be at most 200 characters");
    }
    if (err) {
        return cc_send_error(r, err);
    }
    if (q && *q) {
        like = cc_like_contains(r->pool, q);
    }
    args[0] = status;
    args[1] = status;
    args[2] = like;
    args[3] = like;
    args[4] = like;
    args[5] = cc_page_limit_str(r->pool, &pg);
    args[6] = cc_page_offset_str(r->pool, &pg);
    /* Past the end there is no row to carry COUNT(*) OVER (): cc_tenants_count then
     * runs on the filter arguments (the first 5). */
    return cc_db_send_page(ctx, apr_pstrcat(r->pool, "cc_tenants_list_", pg.sort,
                                            pg.desc ? "_desc" : "", NULL),
                           "cc_tenants_count", tenant_cols, 7, args, 5, &pg);
}

static int tenants_get(request_rec *r, cc_ctx_t *ctx)
{
    const char *id = path_id(ctx);
    json_t *obj = NULL;
    cc_error_t *err;

    if (!id) {
        return cc_send_error(r, cc_error_not_found(r->pool));
    }
    if ((err = fetch(ctx, id, &obj))) {
        return cc_send_error(r, err);
    }
    if (!obj) {
        return cc_send_error(r, cc_error_not_found(r->pool));
    }
    return cc_send_json(r, HTTP_OK, obj);
}

/* Record field: old -> new in changes when the value differs. */
static void diff_int(json_t *changes, const char *field, const char *from, const char *to)
{
    if (to && apr_atoi64(from) != apr_atoi64(to)) {
        cc_audit_change(changes, field, cc_json_int_or_null(from), cc_json_int_or_null(to));
    }
}

/* Lock the row (inside the transaction); NULL *prow when it does not exist. */
static cc_error_t *lock_tenant(cc_ctx_t *ctx, const char *id, const char ***prow)
{
    const char *args[1];

    args[0] = id;
    return cc_db_select_row(ctx, "cc_tenants_lock", 1, args, prow, NULL);
}

static int tenants_patch(request_rec *r, cc_ctx_t *ctx)
{
    const char *id = path_id(ctx);
    const char **old = NULL, *args[6];
    tenant_input_t in;
    json_t *body, *obj = NULL, *changes = NULL;
    cc_error_t *err;

    if (!id) {
        return cc_send_error(r, cc_error_not_found(r->pool));
    }
    if ((err = cc_read_json_fields(ctx, patch_fields, &body))
        || (err = check_input(r->pool, body, all_statuses, &in))) {
        return cc_send_error(r, err);
    }
    if ((err = cc_db_begin(ctx))) {
        return cc_send_error(r, err);
    }
    /* old: slug, status, name, plan, max_users, max_dids */
    err = lock_tenant(ctx, id, &old);
    if (!err && !old) {
        err = cc_error_not_found(r->pool);
    }
    if (!err && in.status && strcmp(in.status, "active") && is_platform(ctx, old[0])) {
        err = cc_error_conflict(r->pool, "the platform tenant cannot be suspended or "
                                "deleted");
    }
    if (!err) {
        changes = json_object();
        cc_audit_change_str(changes, "name", old[2], in.name);
        cc_audit_change_str(changes, "plan", old[3], in.plan);
        cc_audit_change_str(changes, "status", old[1], in.status);
        diff_int(changes, "max_users", old[4], in.max_users);
        diff_int(changes, "max_dids", old[5], in.max_dids);
        if (json_object_size(changes) > 0) {
            args[0] = in.name;
            args[1] = in.plan;
            args[2] = in.status;
            args[3] = in.max_users;
            args[4] = in.max_dids;
            args[5] = id;
            err = cc_db_exec(ctx, "cc_tenants_update", 6, args, NULL);
            if (!err) {
                err = audit(ctx, "tenant.update", id, changes);
                changes = NULL;   /* stolen */
            }
        }
    }
    json_decref(changes);
    if (!err) {
        err = fetch(ctx, id, &obj);
    }
    if ((err = cc_tenant_txn_finish(ctx, err))) {
        json_decref(obj);
        return cc_send_error(r, err);
    }
    return cc_send_json(r, HTTP_OK, obj);
}

static int tenants_delete(request_rec *r, cc_ctx_t *ctx)
{
    const char *id = path_id(ctx);
    const char **old = NULL, *args[6];
    json_t *changes;
    cc_error_t *err;

    if (!id) {
        return cc_send_error(r, cc_error_not_found(r->pool));
    }
    if ((err = cc_db_begin(ctx))) {
        return cc_send_error(r, err);
    }
    err = lock_tenant(ctx, id, &old);
    if (!err && !old) {
        err = cc_error_not_found(r->pool);
    }
    if (!err && is_platform(ctx, old[0])) {
        err = cc_error_conflict(r->pool, "the platform tenant cannot be deleted");
    }
    /* Deleting a deleted tenant changes nothing and succeeds (idempotent). */
    if (!err && strcmp(old[1], "deleted")) {
        memset(args, 0, sizeof(args));
        args[2] = "deleted";
        args[5] = id;
        err = cc_db_exec(ctx, "cc_tenants_update", 6, args, NULL);
        if (!err) {
            changes = json_object();
            cc_audit_change_str(changes, "status", old[1], "deleted");
            err = audit(ctx, "tenant.delete", id, changes);
        }
    }
    if ((err = cc_tenant_txn_finish(ctx, err))) {
        return cc_send_error(r, err);
    }
    return cc_send_no_content(r);
}

/* Routes; one pattern per path, methods in CRUD order (Allow lists them so). */
const cc_route_t cc_tenants_routes[] = {
    {"GET", "/api/v1/tenants", tenants_list, "tenants.manage", CC_ROUTE_AUTH},
    {"POST", "/api/v1/tenants", tenants_create, "tenants.manage", CC_ROUTE_AUTH},
    {"GET", "/api/v1/tenants/{id}", tenants_get, "tenants.manage", CC_ROUTE_AUTH},
    {"PATCH", "/api/v1/tenants/{id}", tenants_patch, "tenants.manage", CC_ROUTE_AUTH},
    {"DELETE", "/api/v1/tenants/{id}", tenants_delete, "tenants.manage", CC_ROUTE_AUTH},
    {NULL, NULL, NULL, NULL, 0}
};
