/*
 * cc_roles.c: /api/v1/roles and /api/v1/permissions.
 *
 * Roles live in the principal's effective tenant (X-Tenant-ID for platform admins);
 * another tenant's role names are simply not found.  Built-in roles (copied into each
 * tenant at creation) are read-only.  A role's permissions are a SET column whose
 * numeric value is the permission bitmask (sql/001_foundation.sql), so they are written
 * as the catalogue's comma-separated names and read back as a list.
 *
 * Two rules beyond API.md: tenants.manage can never be put in a role through the API
 * (it is the platform's power; 400), and a caller cannot grant a permission it does not
 * hold itself (403), so roles.manage alone is not a path to every permission.
 */
#include <string.h>

#include <httpd.h>
#include <http_log.h>
#include <apr_strings.h>

#include "cc_audit.h"
#include "cc_log.h"
#include "cc_validate.h"
#include "cc_tenant_private.h"

#define ROLE_COLS "name, description, permissions, builtin"
#define ROLE_DESCRIPTION_MAX 500

/* Statements; every one filters on the caller's tenant_id. */
const cc_stmt_t cc_roles_stmts[] = {
    CC_STMT("cc_roles_list",
            "SELECT " ROLE_COLS " FROM roles WHERE tenant_id = %s"
            " ORDER BY builtin DESC, name"),
    CC_STMT("cc_roles_get",
            "SELECT " ROLE_COLS " FROM roles WHERE tenant_id = %s AND name = %s"),
    CC_STMT("cc_roles_lock",
            "SELECT id, builtin, description, permissions + 0 FROM roles"
            " WHERE tenant_id = %s AND name = %s FOR UPDATE"),
    CC_STMT("cc_roles_insert",
            "INSERT INTO roles (tenant_id, name, description, builtin, permissions)"
            " VALUES (%s, %s, %s, 0, %s)"),
    CC_STMT("cc_roles_update",
            "UPDATE roles SET description = COALESCE(%s, description),"
            " permissions = COALESCE(%s, permissions), updated_at = UTC_TIMESTAMP()"
            " WHERE tenant_id = %s AND id = %s AND builtin = 0"),
    /* Assignments of users that are deleted do not keep a role alive (they cascade). */
    CC_STMT("cc_roles_in_use",
            "SELECT ur.user_id FROM user_roles ur"
            " JOIN users u ON u.tenant_id = ur.tenant_id AND u.id = ur.user_id"
            " WHERE ur.tenant_id = %s AND ur.role_id = %s AND u.deleted_at IS NULL"
            " LIMIT 1"),
    CC_STMT("cc_roles_delete",
            "DELETE FROM roles WHERE tenant_id = %s AND id = %s AND builtin = 0"),
    CC_STMT_END
};

static const cc_col_t role_cols[] = {
    {"name", CC_COL_STR},
    {"description", CC_COL_STR},
    {"permissions", CC_COL_LIST},
    {"builtin", CC_COL_BOOL},
    CC_COL_END
};

static const cc_field_t create_fields[] = {
    {"name", CC_JT_STRING, 1},
    {"description", CC_JT_STRING, 0},
    {"permissions", CC_JT_STRING_ARRAY, 1},
    {NULL, 0, 0}
};

/* name is the role's key: renaming is not supported (unknown field). */
static const cc_field_t patch_fields[] = {
    {"description", CC_JT_STRING, 0},
    {"permissions", CC_JT_STRING_ARRAY, 0},
    {NULL, 0, 0}
};

/* ---- validation ---- */

/*
 * The permissions array of body as a mask: every name known, tenants.manage refused.
 * Adds details to e; *pmask is valid only when no detail was added.
 */
static cc_error_t *check_permissions(apr_pool_t *p, cc_error_t *e, json_t *body,
                                     cc_perm_mask_t *pmask)
{
    json_t *arr = json_object_get(body, "permissions"), *v;
    size_t i;

    *pmask = 0;
    json_array_foreach(arr, i, v) {
        const char *name = json_string_value(v);
        cc_perm_mask_t bit = cc_perm_bit(name);

        if (!bit) {
            e = cc_error_collect(p, e, "permissions",
                                      apr_psprintf(p, "unknown permission '%s'", name));
        }
        else if (!(bit & cc_perm_tenant_all())) {
            e = cc_error_collect(p, e, "permissions",
                                      apr_psprintf(p, "%s cannot be granted to a role",
                                                   name));
        }
        *pmask |= bit;
    }
    return e;
}

static cc_error_t *check_description(apr_pool_t *p, cc_error_t *e, json_t *body)
{
    const char *d = cc_json_str(body, "description");

    if (d && !cc_valid_text(d, 0, ROLE_DESCRIPTION_MAX)) {
        e = cc_error_collect(p, e, "description", "must be at most 500 characters");
    }
    return e;
}

/* Granting what one does not hold would let roles.manage reach every permission. */
static cc_error_t *check_grantable(cc_ctx_t *ctx, cc_perm_mask_t mask)
{
    cc_perm_mask_t missing = mask & ~ctx->principal->permissions;

    if (missing) {
        return cc_error_make(ctx->r->pool, HTTP_FORBIDDEN, CC_ERR_FORBIDDEN,
                             "cannot grant permissions you do not hold: %s",
                             cc_perm_mask_to_csv(ctx->r->pool, missing));
    }
    return NULL;
}

/* The {name} of the path, or NULL when it cannot name a role (then: 404). */
static const char *path_name(cc_ctx_t *ctx)
{
    const char *name = cc_route_param(&ctx->match, "name");

    return name && cc_valid_role_name(name) ? name : NULL;
}

static json_t *role_json(const char *name, const char *description, cc_perm_mask_t mask,
                         int builtin)
{
    json_t *o = json_object();

    cc_json_set_str(o, "name", name);
    cc_json_set_str(o, "description", description);
    json_object_set_new(o, "permissions", cc_perm_mask_to_json(mask));
    json_object_set_new(o, "builtin", json_boolean(builtin));
    return o;
}

/* Lock the role (inside the transaction): row = id, builtin, description, mask. */
static cc_error_t *lock_role(cc_ctx_t *ctx, const char *name, const char ***prow)
{
    const char *args[2];

    args[0] = ctx->principal->tenant_id;
    args[1] = name;
    return cc_db_select_row(ctx, "cc_roles_lock", 2, args, prow, NULL);
}

/* Lock a custom role of the tenant for a change: 404 when there is none, 409 when it
 * is built-in (verb says what was refused). */
static cc_error_t *lock_custom_role(cc_ctx_t *ctx, const char *name, const char *verb,
                                    const char ***prow)
{
    cc_error_t *err = lock_role(ctx, name, prow);

    if (!err && !*prow) {
        err = cc_error_not_found(ctx->r->pool);
    }
    if (!err && strcmp((*prow)[1], "0")) {
        err = cc_error_conflict(ctx->r->pool, "built-in role '%s' cannot be %s", name, verb);
    }
    return err;
}

/* ---- handlers ---- */

static int permissions_list(request_rec *r, cc_ctx_t *ctx)
{
    json_t *data = json_array(), *body = json_object();
    const cc_perm_info_t *pi;

    (void)ctx;
    /* The whole catalogue for everyone: it is public knowledge, not a grant. */
    for (pi = cc_perm_catalogue; pi->name; pi++) {
        json_t *o = json_object();

        cc_json_set_str(o, "name", pi->name);
        cc_json_set_str(o, "description", pi->description);
        json_array_append_new(data, o);
    }
    json_object_set_new(body, "data", data);
    return cc_send_json(r, HTTP_OK, body);
}

static int roles_list(request_rec *r, cc_ctx_t *ctx)
{
    const char *args[1];
    json_t *rows, *body;
    cc_error_t *err;

    args[0] = ctx->principal->tenant_id;
    if ((err = cc_db_select(ctx, "cc_roles_list", role_cols, 1, args, &rows, NULL))) {
        return cc_send_error(r, err);
    }
    body = json_object();
    json_object_set_new(body, "data", rows);
    return cc_send_json(r, HTTP_OK, body);
}

static int roles_get(request_rec *r, cc_ctx_t *ctx)
{
    const char *name = path_name(ctx), *args[2];
    json_t *obj = NULL;
    cc_error_t *err;

    if (!name) {
        return cc_send_error(r, cc_error_not_found(r->pool));
    }
    args[0] = ctx->principal->tenant_id;
    args[1] = name;
    if ((err = cc_db_select_one(ctx, "cc_roles_get", role_cols, 2, args, &obj))) {
        return cc_send_error(r, err);
    }
    if (!obj) {
        return cc_send_error(r, cc_error_not_found(r->pool));
    }
    return cc_send_json(r, HTTP_OK, obj);
}

static int roles_create(request_rec *r, cc_ctx_t *ctx)
{
    const char *name, *description, *args[4];
    cc_perm_mask_t mask;
    json_t *body, *changes;
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, create_fields, &body))) {
        return cc_send_error(r, err);
    }
    name = cc_json_str(body, "name");
    description = cc_json_str(body, "description");
    if (!cc_valid_role_name(name)) {
        err = cc_error_collect(r->pool, err, "name", "must match [a-z][a-z0-9_]{1,62}");
    }
    err = check_description(r->pool, err, body);
    err = check_permissions(r->pool, err, body, &mask);
    if (err || (err = check_grantable(ctx, mask))) {
        return cc_send_error(r, err);
    }
    if (!strcmp(name, "platform_admin")) {
        /* Reserved platform-wide, even in tenants that have no such role. */
        return cc_send_error(r, cc_error_conflict(r->pool, "role name '%s' is reserved",
                                                  name));
    }
    args[0] = ctx->principal->tenant_id;
    args[1] = name;
    args[2] = description ? description : "";
    args[3] = cc_perm_mask_to_csv(r->pool, mask);

    if ((err = cc_db_begin(ctx))) {
        return cc_send_error(r, err);
    }
    err = cc_db_exec(ctx, "cc_roles_insert", 4, args, NULL);
    if (err && cc_db_last_errno(ctx) == CC_DB_ER_DUP_ENTRY) {
        err = cc_error_conflict(r->pool, "role '%s' already exists", name);
    }
    if (!err) {
        changes = json_object();
        cc_json_set_str(changes, "description", args[2]);
        json_object_set_new(changes, "permissions", cc_perm_mask_to_json(mask));
        err = cc_audit(ctx, "role.create", "role", name, changes);
    }
    if ((err = cc_tenant_txn_finish(ctx, err))) {
        return cc_send_error(r, err);
    }
    return cc_send_created(r, apr_pstrcat(r->pool, "/api/v1/roles/", name, NULL),
                           role_json(name, args[2], mask, 0));
}

static int roles_patch(request_rec *r, cc_ctx_t *ctx)
{
    const char *name = path_name(ctx), *description, **row = NULL, *args[4];
    cc_perm_mask_t mask = 0, old_mask = 0;
    int has_perms;
    json_t *body, *changes = NULL, *obj = NULL;
    cc_error_t *err;

    if (!name) {
        return cc_send_error(r, cc_error_not_found(r->pool));
    }
    if ((err = cc_read_json_fields(ctx, patch_fields, &body))) {
        return cc_send_error(r, err);
    }
    description = cc_json_str(body, "description");
    has_perms = cc_json_has(body, "permissions");
    err = check_description(r->pool, err, body);
    if (has_perms) {
        err = check_permissions(r->pool, err, body, &mask);
    }
    if (err || (has_perms && (err = check_grantable(ctx, mask)))) {
        return cc_send_error(r, err);
    }
    if ((err = cc_db_begin(ctx))) {
        return cc_send_error(r, err);
    }
    err = lock_custom_role(ctx, name, "changed", &row);
    if (!err) {
        old_mask = (cc_perm_mask_t)apr_atoi64(row[3]);
        changes = json_object();
        cc_audit_change_str(changes, "description", row[2], description);
        if (has_perms && mask != old_mask) {
            cc_audit_change(changes, "permissions", cc_perm_mask_to_json(old_mask),
                            cc_perm_mask_to_json(mask));
        }
        if (json_object_size(changes) > 0) {
            args[0] = description;
            args[1] = has_perms ? cc_perm_mask_to_csv(r->pool, mask) : NULL;
            args[2] = ctx->principal->tenant_id;
            args[3] = row[0];
            err = cc_db_exec(ctx, "cc_roles_update", 4, args, NULL);
            if (!err) {
                err = cc_audit(ctx, "role.update", "role", name, changes);
                changes = NULL;   /* stolen */
            }
        }
        json_decref(changes);
    }
    if ((err = cc_tenant_txn_finish(ctx, err))) {
        return cc_send_error(r, err);
    }
    obj = role_json(name, description ? description : row[2], has_perms ? mask : old_mask,
                    0);
    return cc_send_json(r, HTTP_OK, obj);
}

static int roles_delete(request_rec *r, cc_ctx_t *ctx)
{
    const char *name = path_name(ctx), **row = NULL, **user = NULL, *args[2];
    cc_error_t *err;
    json_t *changes;

    if (!name) {
        return cc_send_error(r, cc_error_not_found(r->pool));
    }
    if ((err = cc_db_begin(ctx))) {
        return cc_send_error(r, err);
    }
    err = lock_custom_role(ctx, name, "deleted", &row);
    args[0] = ctx->principal->tenant_id;
    args[1] = row ? row[0] : NULL;
    if (!err) {
        err = cc_db_select_row(ctx, "cc_roles_in_use", 2, args, &user, NULL);
    }
    if (!err && user) {
        err = cc_error_conflict(r->pool, "role '%s' is still assigned to users", name);
    }
    if (!err) {
        err = cc_db_exec(ctx, "cc_roles_delete", 2, args, NULL);
    }
    if (!err) {
        changes = json_object();
        cc_json_set_str(changes, "description", row[2]);
        json_object_set_new(changes, "permissions",
                            cc_perm_mask_to_json((cc_perm_mask_t)apr_atoi64(row[3])));
        err = cc_audit(ctx, "role.delete", "role", name, changes);
    }
    if ((err = cc_tenant_txn_finish(ctx, err))) {
        return cc_send_error(r, err);
    }
    return cc_send_no_content(r);
}

/* Routes; reads need only an authenticated principal, writes roles.manage. */
const cc_route_t cc_roles_routes[] = {
    {"GET", "/api/v1/permissions", permissions_list, NULL, CC_ROUTE_AUTH},
    {"GET", "/api/v1/roles", roles_list, NULL, CC_ROUTE_AUTH},
    {"POST", "/api/v1/roles", roles_create, "roles.manage", CC_ROUTE_AUTH},
    {"GET", "/api/v1/roles/{name}", roles_get, NULL, CC_ROUTE_AUTH},
    {"PATCH", "/api/v1/roles/{name}", roles_patch, "roles.manage", CC_ROUTE_AUTH},
    {"DELETE", "/api/v1/roles/{name}", roles_delete, "roles.manage", CC_ROUTE_AUTH},
    {NULL, NULL, NULL, NULL, 0}
};
