/*
 * cc_tenants.c: /api/v1/tenants (tenants.manage, i.e. platform admins only).
 *
 * The tenants table is not tenant-owned (its id is the tenant), so its statements do not
 * filter on tenant_id; the roles copied into a new tenant do carry it.  Every mutation is
 * audited and announced (tenant.created/updated/deleted, with the tenant object) in the
 * platform admin's home tenant (the platform tenant), whatever X-Tenant-ID says:
 * platform actions belong to the platform's log.  Delete is soft
 * (status=deleted); a deleted tenant is still readable by id, listed only with
 * ?status=deleted, and can be restored with PATCH status=active.
 *
 * A tenant that is not active has no telephony (README "A tenant's status and its
 * telephony").  In the transaction of the status change, under the tenant row's lock
 * (endpoint creates share-lock it, so none slips past): leaving "active" shuts every
 * endpoint out of Asterisk by an ACL denying every address (CC_AST_DENY_ALL) after
 * keeping the ACL columns it replaces in the endpoint's side row, and removes the
 * tenant's registrations (ps_contacts), so nothing dials its phones; returning to
 * "active" puts back exactly the kept values.  DIDs are left alone: the asterisk_dids
 * view the dialplan reads lists active tenants' DIDs only.  The audit entry says what
 * was done (changes.telephony).
 */
#include <string.h>

#include <httpd.h>
#include <http_log.h>
#include <apr_strings.h>

#include "cc_asterisk.h"
#include "cc_audit.h"
#include "cc_crypto.h"
#include "cc_log.h"
#include "cc_page.h"
#include "cc_sql.h"
#include "cc_validate.h"
#include "cc_tenant_private.h"

#define TENANT_COLS \
    "id, name, slug, status, plan, max_users, max_dids, created_at, updated_at"

/* Every list is filtered (search_only): the default filter hides deleted tenants,
 * ?status= names one status (deleted included).  Binds 5 values: status x2, q x3. */
#define TENANTS_FILTER \
    " (t.status = %s OR (%s IS NULL AND t.status <> 'deleted'))" \
    " AND (%s IS NULL OR t.name LIKE %s OR t.slug LIKE %s)"

/* One page and its total (an uncorrelated COUNT subquery over the same filter). */
#define TENANTS_SEARCH(order) \
    "SELECT " TENANT_COLS ", (SELECT COUNT(*) FROM tenants t WHERE" TENANTS_FILTER \
    ") AS total FROM tenants t WHERE" TENANTS_FILTER \
    " ORDER BY " order " LIMIT %s OFFSET %s"

/* The tenant's endpoints by their (tenant_id, extension) key (sql/004). */
#define EP_BY_TENANT "FORCE INDEX (uq_endpoints_tenant_extension)"

#define TENANT_MAX_LIMIT 1000000
#define TENANT_Q_MAX     200

/* Statements; the list has one per sort order (ORDER BY cannot be a parameter), named
 * cc_tenants_search_<field>_<asc|desc> after the sort whitelist (tenants_list_spec). */
static const cc_stmt_t tenants_stmts[] = {
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
    /* Telephony (see the file comment).  The endpoint rows are visited side row first
     * (STRAIGHT_JOIN), the order of every endpoint write, through the tenant's index
     * range (EP_BY_TENANT: where a tenant holds much of the table the optimiser would
     * scan it all and lock other tenants' rows), and the joined ps_endpoints row is the
     * tenant's (tenantid), as the endpoint API joins it.  Each statement writes one
     * table and reads the other, so no assignment reads a value the same statement
     * changed. */
    CC_STMT("cc_tenants_ep_keep",
            "UPDATE endpoints e " EP_BY_TENANT " STRAIGHT_JOIN ps_endpoints pe"
            " ON pe.id = e.asterisk_id AND pe.tenantid = e.tenant_id"
            " SET e.suspended = 1, e.saved_deny = pe.deny, e.saved_permit = pe.permit"
            " WHERE e.tenant_id = %s AND e.suspended = 0"),
    CC_STMT("cc_tenants_ep_deny",
            "UPDATE endpoints e " EP_BY_TENANT " STRAIGHT_JOIN ps_endpoints pe"
            " ON pe.id = e.asterisk_id AND pe.tenantid = e.tenant_id"
            " SET pe.deny = %s, pe.permit = NULL"
            " WHERE e.tenant_id = %s AND e.suspended = 1"),
    /* Back to the kept values, where the row still holds what the suspension wrote (a
     * row changed by hand meanwhile keeps the hand's values). */
    CC_STMT("cc_tenants_ep_restore",
            "UPDATE endpoints e " EP_BY_TENANT " STRAIGHT_JOIN ps_endpoints pe"
            " ON pe.id = e.asterisk_id AND pe.tenantid = e.tenant_id"
            " SET pe.deny = e.saved_deny, pe.permit = e.saved_permit"
            " WHERE e.tenant_id = %s AND e.suspended = 1 AND pe.deny = %s"
            " AND pe.permit IS NULL"),
    CC_STMT("cc_tenants_ep_release",
            "UPDATE endpoints " EP_BY_TENANT
            " SET suspended = 0, saved_deny = NULL, saved_permit = NULL"
            " WHERE tenant_id = %s AND suspended = 1"),
    /* Every registration in the tenant's namespace (cc_ast_contact_patterns): index
     * ranges on the id and on the endpoint column, narrowed by the exact patterns. */
    CC_STMT("cc_tenants_contacts_delete",
            "DELETE FROM ps_contacts WHERE (id LIKE %s AND id REGEXP %s)"
            " OR (endpoint LIKE %s AND endpoint REGEXP %s)"),
    CC_STMT("cc_tenants_search_count",
            "SELECT COUNT(*) FROM tenants t WHERE" TENANTS_FILTER),
    CC_SEARCH_SORT("cc_tenants", "name", TENANTS_SEARCH, "name, id", "name DESC, id DESC"),
    CC_SEARCH_SORT("cc_tenants", "slug", TENANTS_SEARCH, "slug", "slug DESC"),
    CC_SEARCH_SORT("cc_tenants", "created_at", TENANTS_SEARCH, "created_at, id",
                   "created_at DESC, id DESC"),
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
    CC_COL_END
};

static const char *const sort_fields[] = {"name", "slug", "created_at", NULL};
static const char *const create_statuses[] = {"active", "suspended", NULL};
static const char *const all_statuses[] = {"active", "suspended", "deleted", NULL};

/* GET /tenants: every list binds its filter (absent filters are NULLs), as
 * TENANTS_FILTER reads it; the tenants table is not tenant-owned. */
static const cc_filter_t tenant_filters[] = {
    { "status", CC_FILTER_ENUM, 2, all_statuses, 0, NULL, NULL },
    { "q", CC_FILTER_SEARCH, 3, NULL, TENANT_Q_MAX, NULL, NULL },
    CC_FILTER_END
};

static const cc_list_t tenants_list_spec = { "cc_tenants", sort_fields, "created_at",
                                             tenant_cols, tenant_filters,
                                             CC_LIST_SEARCH_ONLY | CC_LIST_NO_TENANT, NULL, NULL };

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
    if (in->name && !cc_valid_name(in->name, 1, 200)) {
        e = cc_error_collect(p, e, "name", "must be 1 to 200 characters on one line, without control characters");
    }
    if (in->slug && !cc_valid_slug(in->slug)) {
        e = cc_error_collect(p, e, "slug", "must match [a-z0-9-]{3,63} and not be shaped like a UUID");
    }
    if (in->plan && !cc_valid_name(in->plan, 1, 50)) {
        e = cc_error_collect(p, e, "plan", "must be 1 to 50 characters on one line, without control characters");
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


static int is_platform(cc_ctx_t *ctx, const char *slug)
{
    return !strcmp(slug, cc_tenant_cfg_platform_slug(CC_TENANT_CTX_CFG(ctx)));
}

/*
 * Record a change of tenant id (its audit entry and its event, data the tenant object)
 * in the acting platform admin's home tenant (see the file comment).
 */
static cc_error_t *record(cc_ctx_t *ctx, const char *verb, const char *id,
                          const json_t *changes, const json_t *tenant)
{
    return cc_record(ctx->db, ctx->principal->home_tenant_id, cc_ctx_actor(ctx), "tenant",
                     verb, id, changes, tenant, CC_RECORD_BOTH);
}

/* The tenant object (pool-owned); 404 when there is none. */
static cc_error_t *fetch(cc_ctx_t *ctx, const char *id, json_t **pobj)
{
    const char *args[1];
    cc_error_t *err;

    args[0] = id;
    err = cc_db_select_one(ctx->db, "cc_tenants_get", tenant_cols, 1, args, pobj);
    return !err && !*pobj ? cc_error_not_found(ctx->pool) : err;
}

/* Lock the row (inside the transaction): slug, status, name, plan, max_users, max_dids;
 * 404 when there is none. */
static cc_error_t *lock_tenant(cc_ctx_t *ctx, const char *id, const char ***prow)
{
    const char *args[1];
    cc_error_t *err;

    args[0] = id;
    err = cc_db_select_row(ctx->db, "cc_tenants_lock", 1, args, prow, NULL);
    return !err && !*prow ? cc_error_not_found(ctx->pool) : err;
}

/* Record field: old -> new in changes when the value differs. */
static void diff_int(json_t *changes, const char *field, const char *from, const char *to)
{
    if (to && apr_atoi64(from) != apr_atoi64(to)) {
        cc_audit_change(changes, field, cc_json_int_or_null(from), cc_json_int_or_null(to));
    }
}

/* ---- telephony (see the file comment) ---- */

/* Shut the tenant's endpoints out of Asterisk and drop its registrations; the tenant
 * row is locked.  Idempotent: endpoints already shut keep their kept values. */
static cc_error_t *telephony_off(cc_ctx_t *ctx, const char *id, const char *slug,
                                 json_t *changes)
{
    const char *one[1] = { id }, *deny[2] = { CC_AST_DENY_ALL, id }, *contacts[4];
    int shut = 0, removed = 0;
    cc_error_t *err;

    cc_ast_contact_patterns(ctx->pool, slug, &contacts[0], &contacts[1], &contacts[3]);
    contacts[2] = contacts[0];
    if ((err = cc_db_exec(ctx->db, "cc_tenants_ep_keep", 1, one, &shut))
        || (err = cc_db_exec(ctx->db, "cc_tenants_ep_deny", 2, deny, NULL))
        || (err = cc_db_exec(ctx->db, "cc_tenants_contacts_delete", 4, contacts,
                             &removed))) {
        return err;
    }
    json_object_set_new(changes, "telephony",
                        json_pack("{s:i,s:i}", "endpoints_blocked", shut,
                                  "registrations_removed", removed));
    return NULL;
}

/* Give the tenant's endpoints back the ACL they had; the tenant row is locked.  Its
 * phones register again on their own. */
static cc_error_t *telephony_on(cc_ctx_t *ctx, const char *id, json_t *changes)
{
    const char *one[1] = { id }, *restore[2] = { id, CC_AST_DENY_ALL };
    int restored = 0;
    cc_error_t *err;

    if ((err = cc_db_exec(ctx->db, "cc_tenants_ep_restore", 2, restore, NULL))
        || (err = cc_db_exec(ctx->db, "cc_tenants_ep_release", 1, one, &restored))) {
        return err;
    }
    json_object_set_new(changes, "telephony",
                        json_pack("{s:i}", "endpoints_restored", restored));
    return NULL;
}

/* What a status change from `from` to `to` (NULL: none) does to the tenant's telephony:
 * nothing when the status stays; a move between suspended and deleted shuts again,
 * which finds nothing new unless rows were made by hand. */
static cc_error_t *telephony_follow(cc_ctx_t *ctx, const char *id, const char *slug,
                                    const char *from, const char *to, json_t *changes)
{
    if (!to || !strcmp(from, to)) {
        return NULL;
    }
    return strcmp(to, "active") ? telephony_off(ctx, id, slug, changes)
                                : telephony_on(ctx, id, changes);
}

/* ---- handlers ---- */

static cc_error_t *tenants_create(cc_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    tenant_input_t in;
    json_t *body, *obj = NULL;
    const char *id, *args[7];
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, create_fields, &body))
        || (err = check_input(ctx->pool, body, create_statuses, &in))) {
        return err;
    }
    if (cc_uuid_v4(ctx->pool, &id) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CCLOGNO(02020)
                      "could not generate a tenant id");
        return cc_error_internal(ctx->pool);
    }
    args[0] = id;
    args[1] = in.name;
    args[2] = in.slug;
    args[3] = in.status ? in.status : "active";
    args[4] = in.plan ? in.plan : "standard";
    args[5] = in.max_users ? in.max_users : "100";
    args[6] = in.max_dids ? in.max_dids : "100";

    /* The id is random, so the unique key that can fire is the slug (deleted tenants
     * keep theirs). */
    if ((err = cc_db_begin(ctx->db))
        || (err = cc_db_duplicate(ctx->db,
                                  cc_db_exec(ctx->db, "cc_tenants_insert", 7, args, NULL),
                                  "slug", "already taken",
                                  apr_psprintf(ctx->pool, "slug '%s' is already taken",
                                               in.slug)))
        || (err = cc_db_exec(ctx->db, "cc_tenants_copy_roles", 1, args, NULL))
        || (err = cc_db_select_one(ctx->db, "cc_tenants_get", tenant_cols, 1, args, &obj))) {
        return err;
    }
    if (!obj) {
        return cc_error_internal(ctx->pool);   /* inserted just above */
    }
    if ((err = record(ctx, "create", id, cc_json_without(ctx->pool, obj, audit_drop), obj))
        || (err = cc_db_commit(ctx->db))) {
        return err;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CCLOGNO(02021)
                  "tenant %s (%s) created by user %s", id, in.slug,
                  ctx->principal->user_id_str);
    return cc_reply_created(ctx, apr_pstrcat(ctx->pool, "/api/v1/tenants/", id, NULL), obj);
}

static cc_error_t *tenants_get(cc_ctx_t *ctx)
{
    json_t *obj;
    cc_error_t *err = fetch(ctx, cc_path(ctx, "id"), &obj);

    return err ? err : cc_reply_json(ctx, HTTP_OK, obj);
}

static cc_error_t *tenants_patch(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id");
    const char **old;
    tenant_input_t in;
    json_t *body, *obj, *changes;
    cc_error_t *err;

    /* old: slug, status, name, plan, max_users, max_dids */
    if ((err = cc_read_json_fields(ctx, patch_fields, &body))
        || (err = check_input(ctx->pool, body, all_statuses, &in))
        || (err = cc_db_begin(ctx->db))
        || (err = lock_tenant(ctx, id, &old))) {
        return err;
    }
    if (in.status && strcmp(in.status, "active") && is_platform(ctx, old[0])) {
        return cc_error_conflict(ctx->pool, "the platform tenant cannot be suspended or "
                                 "deleted");
    }
    changes = cc_json_object(ctx->pool);
    cc_audit_change_str(changes, "name", old[2], in.name);
    cc_audit_change_str(changes, "plan", old[3], in.plan);
    cc_audit_change_str(changes, "status", old[1], in.status);
    diff_int(changes, "max_users", old[4], in.max_users);
    diff_int(changes, "max_dids", old[5], in.max_dids);
    if (json_object_size(changes) == 0) {
        return cc_reply_unchanged(ctx, tenants_get);
    }
    {
        const char *args[6] = { in.name, in.plan, in.status, in.max_users, in.max_dids, id };

        err = cc_db_exec(ctx->db, "cc_tenants_update", 6, args, NULL);
    }
    if (!err && json_object_get(changes, "status")) {
        /* Its users' tokens stop (or start again) working on this node at once. */
        cc_ctx_principals_changed(ctx, id);
    }
    if (err
        || (err = telephony_follow(ctx, id, old[0], old[1], in.status, changes))
        || (err = fetch(ctx, id, &obj))
        || (err = record(ctx, "update", id, changes, obj))
        || (err = cc_db_commit(ctx->db))) {
        return err;
    }
    return cc_reply_json(ctx, HTTP_OK, obj);
}

static cc_error_t *tenants_delete(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id");
    const char **old, *args[6] = { NULL, NULL, "deleted", NULL, NULL, NULL };
    json_t *obj, *changes;
    cc_error_t *err;

    if ((err = cc_db_begin(ctx->db))
        || (err = lock_tenant(ctx, id, &old))) {
        return err;
    }
    if (is_platform(ctx, old[0])) {
        return cc_error_conflict(ctx->pool, "the platform tenant cannot be deleted");
    }
    if (!strcmp(old[1], "deleted")) {
        /* Deleting a deleted tenant changes nothing and succeeds (idempotent). */
        cc_db_rollback(ctx->db);
        return cc_reply_no_content(ctx);
    }
    args[5] = id;
    changes = cc_json_object(ctx->pool);
    cc_audit_change_str(changes, "status", old[1], "deleted");
    cc_ctx_principals_changed(ctx, id);
    if ((err = cc_db_exec(ctx->db, "cc_tenants_update", 6, args, NULL))
        || (err = telephony_follow(ctx, id, old[0], old[1], "deleted", changes))
        || (err = fetch(ctx, id, &obj))
        || (err = record(ctx, "delete", id, changes, obj))
        || (err = cc_db_commit(ctx->db))) {
        return err;
    }
    return cc_reply_no_content(ctx);
}

/* Routes; one pattern per path, methods in CRUD order (Allow lists them so).  A path
 * id that is not a canonical UUID names no tenant: the router answers 404. */
static const cc_route_t tenants_routes[] = {
    {"GET", "/api/v1/tenants", cc_handle_list, "tenants.manage", CC_ROUTE_AUTH},
    {"POST", "/api/v1/tenants", tenants_create, "tenants.manage", CC_ROUTE_AUTH},
    {"GET", "/api/v1/tenants/{id:uuid}", tenants_get, "tenants.manage", CC_ROUTE_AUTH},
    {"PATCH", "/api/v1/tenants/{id:uuid}", tenants_patch, "tenants.manage", CC_ROUTE_AUTH},
    {"DELETE", "/api/v1/tenants/{id:uuid}", tenants_delete, "tenants.manage",
     CC_ROUTE_AUTH},
    {NULL, NULL, NULL, NULL, 0}
};


const cc_domain_t cc_tenants_domain = { "tenants", tenants_routes, tenants_stmts,
                                        &tenants_list_spec, NULL, tenant_cols };
