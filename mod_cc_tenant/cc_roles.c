/*
 * cc_roles.c: /api/v1/roles and /api/v1/permissions.
 *
 * Roles live in the principal's effective tenant (X-Tenant-ID for platform admins);
 * another tenant's role names are simply not found.  Built-in roles (copied into each
 * tenant at creation) are read-only.  A role's permissions are a SET column whose
 * numeric value is the permission bitmask (sql/001_foundation.sql), so they are written
 * as the catalogue's comma-separated names and read back as a list.  Every change is
 * audited and announced (role.created/updated/deleted, with the role object) in the
 * same transaction.
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
static const cc_stmt_t roles_stmts[] = {
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

/* The {name} of the path (an untyped capture), or NULL when it cannot name a role
 * (then: 404). */
static const char *path_name(cc_ctx_t *ctx)
{
    const char *name = cc_path(ctx, "name");

    return name && cc_valid_role_name(name) ? name : NULL;
}

/* The role object (what GET answers and events carry), owned by p. */
static json_t *role_json(apr_pool_t *p, const char *name, const char *description,
                         cc_perm_mask_t mask, int builtin)
{
    json_t *o = cc_json_object(p);

    cc_json_set_str(o, "name", name);
    cc_json_set_str(o, "description", description);
    json_object_set_new(o, "permissions", cc_perm_mask_to_json(mask));
    json_object_set_new(o, "builtin", json_boolean(builtin));
    return o;
}

/* What a create's and a delete's audit entry keep of a role, owned by p. */
static json_t *role_values(apr_pool_t *p, const char *description, cc_perm_mask_t mask)
{
    json_t *o = cc_json_object(p);

    cc_json_set_str(o, "description", description);
    json_object_set_new(o, "permissions", cc_perm_mask_to_json(mask));
    return o;
}

/* Lock a custom role of the tenant for a change (inside the transaction): row = id,
 * builtin, description, mask; 404 when there is none, 409 when it is built-in (verb says
 * what was refused), 403 when it holds a permission the caller does not: roles.manage
 * must not weaken or delete a role stronger than the caller's own. */
static cc_error_t *lock_custom_role(cc_ctx_t *ctx, const char *name, const char *verb,
                                    const char ***prow)
{
    cc_error_t *err = cc_fetch_row(ctx, "cc_roles_lock", name, prow);
    cc_perm_mask_t missing;

    if (!err && strcmp((*prow)[1], "0")) {
        return cc_error_conflict(ctx->pool, "built-in role '%s' cannot be %s", name, verb);
    }
    missing = err ? 0 : (cc_perm_mask_t)apr_atoi64((*prow)[3]) & ~ctx->principal->permissions;
    if (missing) {
        err = cc_error_make(ctx->pool, HTTP_FORBIDDEN, CC_ERR_FORBIDDEN,
                            "role '%s' holds permissions you do not hold: %s", name,
                            cc_perm_mask_to_csv(ctx->pool, missing));
    }
    return err;
}

/* ---- handlers ---- */

static cc_error_t *permissions_list(cc_ctx_t *ctx)
{
    json_t *data = json_array(), *body = cc_json_object(ctx->pool);
    const cc_perm_info_t *pi;

    /* The whole catalogue for everyone: it is public knowledge, not a grant. */
    for (pi = cc_perm_catalogue; pi->name; pi++) {
        json_t *o = json_object();

        cc_json_set_str(o, "name", pi->name);
        cc_json_set_str(o, "description", pi->description);
        json_array_append_new(data, o);
    }
    json_object_set_new(body, "data", data);
    return cc_reply_json(ctx, HTTP_OK, body);
}

static cc_error_t *roles_list(cc_ctx_t *ctx)
{
    const char *args[1];
    json_t *rows, *body;
    cc_error_t *err;

    args[0] = ctx->principal->tenant_id;
    if ((err = cc_db_select(ctx->db, "cc_roles_list", role_cols, 1, args, &rows, NULL))) {
        return err;
    }
    /* rows is pool-owned: body takes a reference of its own. */
    body = cc_json_object(ctx->pool);
    json_object_set(body, "data", rows);
    return cc_reply_json(ctx, HTTP_OK, body);
}

static cc_error_t *roles_get(cc_ctx_t *ctx)
{
    const char *name = path_name(ctx);

    if (!name) {
        return cc_error_not_found(ctx->pool);
    }
    return cc_reply_fetch(ctx, "cc_roles_get", role_cols, name);
}

static cc_error_t *roles_create(cc_ctx_t *ctx)
{
    apr_pool_t *p = ctx->pool;
    const char *name, *description, *args[4];
    cc_perm_mask_t mask;
    json_t *body, *role;
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, create_fields, &body))) {
        return err;
    }
    name = cc_json_str(body, "name");
    description = cc_json_str(body, "description");
    if (!cc_valid_role_name(name)) {
        err = cc_error_collect(p, err, "name", "must match [a-z][a-z0-9_]{1,62}");
    }
    err = check_description(p, err, body);
    err = check_permissions(p, err, body, &mask);
    if (err || (err = check_grantable(ctx, mask))) {
        return err;
    }
    if (!strcmp(name, "platform_admin")) {
        /* Reserved platform-wide, even in tenants that have no such role. */
        return cc_error_conflict(p, "role name '%s' is reserved", name);
    }
    args[0] = ctx->principal->tenant_id;
    args[1] = name;
    args[2] = description ? description : "";
    args[3] = cc_perm_mask_to_csv(p, mask);
    role = role_json(p, name, args[2], mask, 0);

    if ((err = cc_db_begin(ctx->db))
        || (err = cc_db_duplicate(ctx->db,
                                  cc_db_exec(ctx->db, "cc_roles_insert", 4, args, NULL),
                                  "name", "already exists",
                                  apr_psprintf(p, "role '%s' already exists", name)))) {
        return err;
    }
    return cc_ctx_commit(ctx, "role", "create", name, role_values(p, args[2], mask), role,
                         HTTP_CREATED, apr_pstrcat(p, "/api/v1/roles/", name, NULL));
}

static cc_error_t *roles_patch(cc_ctx_t *ctx)
{
    apr_pool_t *p = ctx->pool;
    const char *name = path_name(ctx), *description, **row, *args[4];
    cc_perm_mask_t mask = 0, old_mask;
    int has_perms, perms_change, had_admin = 0;
    json_t *body, *changes, *role;
    cc_error_t *err;

    if (!name) {
        return cc_error_not_found(p);
    }
    if ((err = cc_read_json_fields(ctx, patch_fields, &body))) {
        return err;
    }
    description = cc_json_str(body, "description");
    has_perms = cc_json_has(body, "permissions");
    err = check_description(p, err, body);
    if (has_perms) {
        err = check_permissions(p, err, body, &mask);
    }
    if (err
        || (has_perms && (err = check_grantable(ctx, mask)))
        || (err = cc_db_begin(ctx->db))
        || (err = lock_custom_role(ctx, name, "changed", &row))) {
        return err;
    }
    old_mask = (cc_perm_mask_t)apr_atoi64(row[3]);
    changes = cc_json_object(p);
    cc_audit_change_str(changes, "description", row[2], description);
    if (has_perms && mask != old_mask) {
        cc_audit_change(changes, "permissions", cc_perm_mask_to_json(old_mask),
                        cc_perm_mask_to_json(mask));
    }
    if (json_object_size(changes) == 0) {
        return cc_reply_unchanged(ctx, roles_get);
    }
    args[0] = description;
    args[1] = has_perms ? cc_perm_mask_to_csv(p, mask) : NULL;
    args[2] = ctx->principal->tenant_id;
    args[3] = row[0];
    role = role_json(p, name, description ? description : row[2],
                     has_perms ? mask : old_mask, 0);
    perms_change = has_perms && mask != old_mask;
    if ((perms_change && (err = cc_admin_guard_before(ctx, &had_admin)))
        || (err = cc_db_exec(ctx->db, "cc_roles_update", 4, args, NULL))
        || (perms_change && (err = cc_admin_guard_after(ctx, had_admin)))) {
        return err;
    }
    if (perms_change) {
        /* Every holder's permissions changed. */
        cc_ctx_principals_changed(ctx, ctx->principal->tenant_id);
    }
    return cc_ctx_commit(ctx, "role", "update", name, changes, role, HTTP_OK, NULL);
}

static cc_error_t *roles_delete(cc_ctx_t *ctx)
{
    apr_pool_t *p = ctx->pool;
    const char *name = path_name(ctx), **row, **user, *args[2];
    cc_perm_mask_t mask;
    cc_error_t *err;

    if (!name) {
        return cc_error_not_found(p);
    }
    if ((err = cc_db_begin(ctx->db))
        || (err = lock_custom_role(ctx, name, "deleted", &row))) {
        return err;
    }
    args[0] = ctx->principal->tenant_id;
    args[1] = row[0];
    if ((err = cc_db_select_row(ctx->db, "cc_roles_in_use", 2, args, &user, NULL))) {
        return err;
    }
    if (user) {
        return cc_error_conflict(p, "role '%s' is still assigned to users", name);
    }
    mask = (cc_perm_mask_t)apr_atoi64(row[3]);
    if ((err = cc_db_exec(ctx->db, "cc_roles_delete", 2, args, NULL))) {
        return err;
    }
    return cc_ctx_commit(ctx, "role", "delete", name, role_values(p, row[2], mask),
                         role_json(p, name, row[2], mask, 0), HTTP_NO_CONTENT, NULL);
}

/* Routes; reads need only an authenticated principal, writes roles.manage.  Roles are
 * addressed by name (an untyped capture, checked by path_name). */
static const cc_route_t roles_routes[] = {
    {"GET", "/api/v1/permissions", permissions_list, NULL, CC_ROUTE_AUTH},
    {"GET", "/api/v1/roles", roles_list, NULL, CC_ROUTE_AUTH},
    {"POST", "/api/v1/roles", roles_create, "roles.manage", CC_ROUTE_AUTH},
    {"GET", "/api/v1/roles/{name}", roles_get, NULL, CC_ROUTE_AUTH},
    {"PATCH", "/api/v1/roles/{name}", roles_patch, "roles.manage", CC_ROUTE_AUTH},
    {"DELETE", "/api/v1/roles/{name}", roles_delete, "roles.manage", CC_ROUTE_AUTH},
    {NULL, NULL, NULL, NULL, 0}
};

/* The roles list is not paged (a tenant has a handful): no cc_list_t. */
const cc_domain_t cc_roles_domain = { "roles", roles_routes, roles_stmts, NULL, NULL, NULL };
