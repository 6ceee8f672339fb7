/*
 * cc_users.c: /api/v1/users — tenant users, their roles, soft delete.
 *
 * Lists are one round trip: the page, each user's roles (a subquery over the page's rows
 * only) and the total.  An unfiltered list reads the total from tenants.users_count
 * (kept by triggers) rather than counting every row of a large tenant per request.
 */
#include <stdlib.h>
#include <string.h>

#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "cc_api_private.h"
#include "cc_audit.h"
#include "cc_chat_link.h"
#include "cc_page.h"
#include "cc_validate.h"
#include "cc_log.h"
#include "cc_sql.h"
#include "cc_user.h"
#include "mod_cc_auth.h"

#define CC_KEY_EMAIL    "email"
#define CC_KEY_NAME     "name"
#define CC_KEY_PASSWORD "password"
#define CC_KEY_ROLES    "roles"
#define CC_KEY_STATUS   "status"

#define CC_PASSWORD_MIN 10
#define CC_PASSWORD_MAX 128
#define CC_NAME_MAX     200
#define CC_Q_MAX        200
#define CC_ROLES_MAX    64

static const char *const user_statuses[] = { "active", "disabled", NULL };
static const char *const user_sorts[] = { "name", "email", "created_at", NULL };

/* ---- statements ---- */

#define USER_COLS CC_USER_COLUMNS_SQL

/* Filters bind 8 values: tenant, status x2, q x3, role x2. */
#define USERS_FILTER                                                               \
    " u.tenant_id = %s AND u.deleted_at IS NULL"                                   \
    " AND (%s IS NULL OR u.status = %s)"                                           \
    " AND (%s IS NULL OR u.name LIKE %s OR u.email LIKE %s)"                       \
    " AND (%s IS NULL OR EXISTS (SELECT 1 FROM user_roles fr JOIN roles fro"       \
    " ON fro.id = fr.role_id AND fro.tenant_id = fr.tenant_id"                     \
    " WHERE fr.tenant_id = u.tenant_id AND fr.user_id = u.id AND fro.name = %s))"

/* The page is an index-ordered read of page_size rows, roles included, and the total
 * subquery runs once.  No derived table and no outer sort (a sort of rows carrying a
 * GROUP_CONCAT column cost an on-disk temporary table per request).  Unfiltered lists
 * read the total from tenants.users_count. */
#define USERS_LIST(order)                                                          \
    "SELECT " USER_COLS ", (SELECT users_count FROM tenants WHERE id = %s) AS total" \
    " FROM users u WHERE u.tenant_id = %s AND u.deleted_at IS NULL"                \
    " ORDER BY " order " LIMIT %s OFFSET %s"

#define USERS_SEARCH(order)                                                        \
    "SELECT " USER_COLS ", (SELECT COUNT(*) FROM users u WHERE" USERS_FILTER ") AS total" \
    " FROM users u WHERE" USERS_FILTER " ORDER BY " order " LIMIT %s OFFSET %s"

/* One CC_LIST_SORT per whitelisted sort (users_list_spec). */
static const cc_stmt_t users_stmts[] = {
    CC_LIST_SORT("cc_users", "name", USERS_LIST, USERS_SEARCH, "name ASC, id ASC",
                 "name DESC, id DESC"),
    CC_LIST_SORT("cc_users", "email", USERS_LIST, USERS_SEARCH, "email ASC, id ASC",
                 "email DESC, id DESC"),
    CC_LIST_SORT("cc_users", "created_at", USERS_LIST, USERS_SEARCH, "created_at ASC, id ASC",
                 "created_at DESC, id DESC"),
    /* Totals past the last page, where no row carries them. */
    CC_STMT("cc_users_count", "SELECT users_count FROM tenants WHERE id = %s"),
    CC_STMT("cc_users_search_count", "SELECT COUNT(*) FROM users u WHERE" USERS_FILTER),
    CC_STMT("cc_users_get",
            "SELECT " USER_COLS " FROM users u"
            " WHERE u.tenant_id = %s AND u.id = %s AND u.deleted_at IS NULL"),
    CC_STMT("cc_users_lock",
            "SELECT u.email, u.name, u.status, u.role_names"
            " FROM users u WHERE u.tenant_id = %s AND u.id = %s AND u.deleted_at IS NULL"
            " FOR UPDATE"),
    CC_STMT("cc_users_role_names",
            "SELECT GROUP_CONCAT(name SEPARATOR ',') FROM roles WHERE tenant_id = %s"),
    /* What a set of roles grants (a csv of names, or a user's current roles). */
    CC_STMT("cc_users_roles_mask",
            "SELECT COALESCE(BIT_OR(permissions + 0), 0),"
            " COALESCE(MAX(builtin = 1 AND name = 'platform_admin'), 0)"
            " FROM roles WHERE tenant_id = %s AND FIND_IN_SET(name, %s)"),
    CC_STMT("cc_users_target_mask",
            "SELECT COALESCE(BIT_OR(r.permissions + 0), 0),"
            " COALESCE(MAX(r.builtin = 1 AND r.name = 'platform_admin'), 0)"
            " FROM user_roles ur"
            " JOIN roles r ON r.tenant_id = ur.tenant_id AND r.id = ur.role_id"
            " WHERE ur.tenant_id = %s AND ur.user_id = %s"),
    CC_STMT("cc_users_quota_lock",
            "SELECT users_count, max_users FROM tenants WHERE id = %s FOR UPDATE"),
    CC_STMT("cc_users_insert",
            "INSERT INTO users (tenant_id, email, name, password_hash, status)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id"),
    CC_STMT("cc_users_update",
            "UPDATE users SET email = COALESCE(%s, email), name = COALESCE(%s, name),"
            " status = COALESCE(%s, status), password_hash = COALESCE(%s, password_hash),"
            " updated_at = UTC_TIMESTAMP()"
            " WHERE tenant_id = %s AND id = %s AND deleted_at IS NULL"),
    /* A user a DID routes to stays until the DID is re-routed (like queues and
     * endpoints); the DID side share-locks the user row while it checks.  A locking
     * read: it sees DIDs committed while the delete waited for the user row. */
    CC_STMT("cc_users_did_routes",
            "SELECT 1 FROM dids WHERE tenant_id = %s AND destination_type = 'user'"
            " AND destination_id = %s LIMIT 1 LOCK IN SHARE MODE"),
    CC_STMT("cc_users_soft_delete",
            "UPDATE users SET deleted_at = UTC_TIMESTAMP(), updated_at = UTC_TIMESTAMP()"
            " WHERE tenant_id = %s AND id = %s AND deleted_at IS NULL"),
    CC_STMT("cc_users_roles_clear",
            "DELETE FROM user_roles WHERE tenant_id = %s AND user_id = %s"),
    CC_STMT("cc_users_roles_assign",
            "INSERT INTO user_roles (tenant_id, user_id, role_id)"
            " SELECT r.tenant_id, %s, r.id FROM roles r"
            " WHERE r.tenant_id = %s AND FIND_IN_SET(r.name, %s)"),
    CC_STMT("cc_users_revoke_sessions",
            "UPDATE refresh_tokens SET revoked_at = UTC_TIMESTAMP()"
            " WHERE tenant_id = %s AND user_id = %s AND revoked_at IS NULL"),
    CC_STMT_END
};

/* ---- request bodies ---- */

static const cc_field_t user_create_fields[] = {
    { CC_KEY_EMAIL, CC_JT_STRING, 1 },
    { CC_KEY_NAME, CC_JT_STRING, 1 },
    { CC_KEY_PASSWORD, CC_JT_STRING, 1 },
    { CC_KEY_ROLES, CC_JT_STRING_ARRAY, 1 },
    { CC_KEY_STATUS, CC_JT_STRING, 0 },
    { NULL, 0, 0 }
};

static const cc_field_t user_patch_fields[] = {
    { CC_KEY_EMAIL, CC_JT_STRING, 0 },
    { CC_KEY_NAME, CC_JT_STRING, 0 },
    { CC_KEY_PASSWORD, CC_JT_STRING, 0 },
    { CC_KEY_STATUS, CC_JT_STRING, 0 },
    { NULL, 0, 0 }
};

static const cc_field_t user_roles_fields[] = {
    { CC_KEY_ROLES, CC_JT_STRING_ARRAY, 1 },
    { NULL, 0, 0 }
};

typedef struct user_input_t {
    const char *email;      /* lower-cased */
    const char *name;
    const char *password;
    const char *status;
    const char *roles_csv;  /* de-duplicated, validated names; NULL when absent */
} user_input_t;

static const char *lower_ascii(apr_pool_t *p, const char *s)
{
    char *out = apr_pstrdup(p, s), *c;

    for (c = out; *c; c++) {
        if (*c >= 'A' && *c <= 'Z') {
            *c = (char)(*c - 'A' + 'a');
        }
    }
    return out;
}

/* De-duplicated comma list of the role names in arr; details for invalid names.  The array
 * is capped first: de-duplication here is quadratic in time and pool memory, and a 1 MiB
 * body holds ~150,000 distinct names (minutes of CPU, gigabytes of pool). */
static const char *roles_csv(apr_pool_t *p, json_t *arr, cc_error_t *err)
{
    const char *csv = "";
    size_t i;
    json_t *v;

    if (json_array_size(arr) > CC_ROLES_MAX) {
        cc_error_add_detail(err, CC_KEY_ROLES, "must hold at most 64 roles");
        return csv;
    }
    json_array_foreach(arr, i, v) {
        const char *name = json_string_value(v);

        if (!cc_valid_role_name(name)) {
            cc_error_add_detail(err, CC_KEY_ROLES,
                                apr_psprintf(p, "invalid role name at index %d", (int)i));
            continue;
        }
        if (!*csv || !ap_find_list_item(p, csv, name)) {
            csv = *csv ? apr_pstrcat(p, csv, ",", name, NULL) : apr_pstrdup(p, name);
        }
    }
    return csv;
}

/* Validate whatever fields body carries; 400 with every problem at once. */
static cc_error_t *user_input_read(apr_pool_t *p, json_t *body, user_input_t *in)
{
    cc_error_t *err = cc_error_make(p, HTTP_BAD_REQUEST, CC_ERR_INVALID_REQUEST,
                                    "validation failed");
    json_t *roles = json_object_get(body, CC_KEY_ROLES);

    memset(in, 0, sizeof(*in));
    in->email = cc_json_str(body, CC_KEY_EMAIL);
    in->name = cc_json_str(body, CC_KEY_NAME);
    in->password = cc_json_str(body, CC_KEY_PASSWORD);
    in->status = cc_json_str(body, CC_KEY_STATUS);
    if (in->email) {
        if (!cc_valid_email(in->email)) {
            cc_error_add_detail(err, CC_KEY_EMAIL, "must be a valid email address");
        }
        in->email = lower_ascii(p, in->email);
    }
    if (in->name && !cc_valid_name(in->name, 1, CC_NAME_MAX)) {
        cc_error_add_detail(err, CC_KEY_NAME, "must be 1 to 200 characters on one line, without control characters");
    }
    if (in->password && !cc_valid_text(in->password, CC_PASSWORD_MIN, CC_PASSWORD_MAX)) {
        cc_error_add_detail(err, CC_KEY_PASSWORD, "must be 10 to 128 characters");
    }
    if (in->status && !cc_valid_enum(in->status, user_statuses)) {
        cc_error_add_detail(err, CC_KEY_STATUS, "must be one of: active, disabled");
    }
    if (roles) {
        in->roles_csv = roles_csv(p, roles, err);
    }
    return cc_error_detail_count(err) ? err : NULL;
}

/* ---- helpers ---- */

/* Every requested role must exist in the caller's tenant (else 400 naming it). */
static cc_error_t *roles_check(cc_ctx_t *ctx, const char *csv)
{
    apr_pool_t *p = ctx->pool;
    const char *args[1] = { ctx->principal->tenant_id };
    const char **row;
    char *list, *name, *state = NULL;
    cc_error_t *err;

    if (!csv || !*csv) {
        return NULL;
    }
    if ((err = cc_db_select_row(ctx->db, "cc_users_role_names", 1, args, &row, NULL))) {
        return err;
    }
    err = cc_error_make(p, HTTP_BAD_REQUEST, CC_ERR_INVALID_REQUEST, "unknown role");
    list = apr_pstrdup(p, csv);
    for (name = apr_strtok(list, ",", &state); name; name = apr_strtok(NULL, ",", &state)) {
        if (!row || !row[0] || !ap_find_list_item(p, row[0], name)) {
            cc_error_add_detail(err, CC_KEY_ROLES,
                                apr_pstrcat(p, "unknown role: ", name, NULL));
        }
    }
    return cc_error_detail_count(err) ? err : NULL;
}

/*
 * users.write must not be a way up: the roles a caller assigns, and the user a caller
 * edits, deletes or re-roles, may not hold a permission the caller lacks (nor
 * platform_admin unless the caller is one).  Otherwise a holder of users.write could
 * grant itself tenant_admin, or reset a tenant admin's password and log in as it.
 */
static cc_error_t *check_within_caller(cc_ctx_t *ctx, const char *label, const char *arg)
{
    const cc_principal_t *pr = ctx->principal;
    const char *args[2] = { pr->tenant_id, arg };
    const char **row;
    cc_perm_mask_t mask;
    cc_error_t *err;

    if (!arg || !*arg) {
        return NULL;
    }
    if ((err = cc_db_select_row(ctx->db, label, 2, args, &row, NULL)) || !row) {
        return err;
    }
    mask = (cc_perm_mask_t)apr_strtoi64(row[0], NULL, 10);
    if ((mask & ~pr->permissions) || (row[1][0] == '1' && !pr->platform_admin)) {
        return cc_error_make(ctx->pool, HTTP_FORBIDDEN, CC_ERR_FORBIDDEN,
                             "cannot grant or manage roles beyond your own permissions");
    }
    return NULL;
}

static cc_error_t *check_roles_grantable(cc_ctx_t *ctx, const char *roles_csv)
{
    return check_within_caller(ctx, "cc_users_roles_mask", roles_csv);
}

static cc_error_t *check_target_manageable(cc_ctx_t *ctx, const char *user_id)
{
    return check_within_caller(ctx, "cc_users_target_mask", user_id);
}

static cc_error_t *hash_password(cc_ctx_t *ctx, const char *password, const char **phash)
{
    APR_OPTIONAL_FN_TYPE(cc_auth_password_hash) *hash =
        APR_RETRIEVE_OPTIONAL_FN(cc_auth_password_hash);

    *phash = NULL;
    if (!password) {
        return NULL;
    }
    if (!hash) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r, CCLOGNO(03001)
                      "mod_cc_auth is not loaded: cannot hash passwords");
        return cc_error_internal(ctx->pool);
    }
    if (hash(ctx->r, password, phash) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r, CCLOGNO(03002)
                      "password hashing failed");
        return cc_error_internal(ctx->pool);
    }
    return NULL;
}

/* Lock the tenant row: concurrent creates then see each other's count. */
static cc_error_t *quota_check(cc_ctx_t *ctx)
{
    const char *args[1] = { ctx->principal->tenant_id };
    const char **row;
    cc_error_t *err = cc_db_select_row(ctx->db, "cc_users_quota_lock", 1, args, &row, NULL);

    if (err) {
        return err;
    }
    if (!row || apr_atoi64(row[0]) >= apr_atoi64(row[1])) {
        return cc_error_make(ctx->pool, HTTP_CONFLICT, CC_ERR_QUOTA_EXCEEDED,
                             "the tenant has reached its max_users limit");
    }
    return NULL;
}

/* A live user of the tenant has the email (its unique key): 409 naming the field. */
static cc_error_t *email_conflict(cc_ctx_t *ctx, cc_error_t *err)
{
    return cc_db_duplicate(ctx->db, err, CC_KEY_EMAIL, "already in use",
                           "a user with this email exists");
}

static cc_error_t *insert_user(cc_ctx_t *ctx, const user_input_t *in, const char *hash,
                               const char **pid)
{
    const char *args[5] = { ctx->principal->tenant_id, in->email, in->name, hash,
                            in->status ? in->status : "active" };
    const char **row;
    cc_error_t *err = cc_db_select_row(ctx->db, "cc_users_insert", 5, args, &row, NULL);

    if (err) {
        return email_conflict(ctx, err);
    }
    *pid = row ? row[0] : NULL;
    return *pid ? NULL : cc_error_internal(ctx->pool);
}

static cc_error_t *assign_roles(cc_ctx_t *ctx, const char *id, const char *csv)
{
    const char *args[3] = { id, ctx->principal->tenant_id, csv };

    if (!csv || !*csv) {
        return NULL;
    }
    return cc_db_exec(ctx->db, "cc_users_roles_assign", 3, args, NULL);
}

static cc_error_t *clear_roles(cc_ctx_t *ctx, const char *id)
{
    const char *args[2] = { ctx->principal->tenant_id, id };

    return cc_db_exec(ctx->db, "cc_users_roles_clear", 2, args, NULL);
}

static cc_error_t *revoke_sessions(cc_ctx_t *ctx, const char *id)
{
    const char *args[2] = { ctx->principal->tenant_id, id };

    return cc_db_exec(ctx->db, "cc_users_revoke_sessions", 2, args, NULL);
}

/* Current email, name, status, roles of a live user the caller may manage, row-locked
 * (404 when none; 403 when the user holds a permission the caller lacks). */
static cc_error_t *lock_user(cc_ctx_t *ctx, const char *id, const char ***prow)
{
    cc_error_t *err = cc_fetch_row(ctx, "cc_users_lock", id, prow);

    return err ? err : check_target_manageable(ctx, id);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of a comma list as a new JSON array in byte order, so that two lists of the
 * same roles are equal whatever order a client (or GROUP_CONCAT's collation) gave. */
static json_t *csv_to_json(apr_pool_t *p, const char *csv)
{
    apr_array_header_t *names = apr_array_make(p, 8, sizeof(char *));
    char *list = apr_pstrdup(p, csv ? csv : ""), *name, *state = NULL;
    json_t *arr = json_array();
    int i;

    for (name = apr_strtok(list, ",", &state); name; name = apr_strtok(NULL, ",", &state)) {
        APR_ARRAY_PUSH(names, char *) = name;
    }
    qsort(names->elts, (size_t)names->nelts, sizeof(char *), cmp_names);
    for (i = 0; i < names->nelts; i++) {
        json_array_append_new(arr, json_string(APR_ARRAY_IDX(names, i, char *)));
    }
    return arr;
}

static int is_self(const cc_ctx_t *ctx, const char *id)
{
    return !strcmp(ctx->principal->user_id_str, id);
}

#define USERS_PATH "/api/v1/users/"

/* The user object (pool-owned), inside the caller's transaction when there is one. */
static cc_error_t *fetch_user(cc_ctx_t *ctx, const char *id, json_t **puser)
{
    return cc_fetch(ctx, "cc_users_get", cc_user_cols, id, puser);
}

/* Record a change of user id with the user as it now is, commit, answer 200. */
static cc_error_t *record_and_reply(cc_ctx_t *ctx, const char *verb, const char *id,
                                    const json_t *changes)
{
    json_t *user;
    cc_error_t *err;

    if ((err = fetch_user(ctx, id, &user))) {
        return err;
    }
    return cc_ctx_commit(ctx, "user", verb, id, changes, user, HTTP_OK, NULL);
}

/* ---- handlers ---- */

/* GET /users: statements cc_users_{list,search}_<sort>_<asc|desc> (cc_user.h); the
 * filters bind as USERS_FILTER reads them. */
static const cc_filter_t user_filters[] = {
    { "status", CC_FILTER_ENUM, 2, user_statuses, 0, NULL, NULL },
    { "q", CC_FILTER_SEARCH, 3, NULL, CC_Q_MAX, NULL, NULL },
    { "role", CC_FILTER_CHECK, 2, NULL, 0, cc_valid_role_name, "must be a role name" },
    CC_FILTER_END
};

static const cc_list_t users_list_spec = { "cc_users", user_sorts, "name",
                                           cc_user_cols, user_filters, 0, NULL, NULL };

static cc_error_t *users_create(cc_ctx_t *ctx)
{
    apr_pool_t *p = ctx->pool;
    user_input_t in;
    const char *hash, *id = NULL;
    json_t *body, *changes, *user;
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, user_create_fields, &body))
        || (err = user_input_read(p, body, &in))
        || (err = roles_check(ctx, in.roles_csv))
        || (err = check_roles_grantable(ctx, in.roles_csv))
        || (err = hash_password(ctx, in.password, &hash))) {
        return err;
    }
    changes = cc_json_object(p);
    cc_json_set_str(changes, CC_KEY_EMAIL, in.email);
    cc_json_set_str(changes, CC_KEY_NAME, in.name);
    cc_json_set_str(changes, CC_KEY_STATUS, in.status ? in.status : "active");
    json_object_set_new(changes, CC_KEY_ROLES, csv_to_json(p, in.roles_csv));

    if ((err = cc_db_begin(ctx->db))
        || (err = quota_check(ctx))
        || (err = insert_user(ctx, &in, hash, &id))
        || (err = assign_roles(ctx, id, in.roles_csv))
        || (err = fetch_user(ctx, id, &user))) {
        return err;
    }
    return cc_ctx_commit(ctx, "user", "create", id, changes, user, HTTP_CREATED,
                         apr_pstrcat(p, USERS_PATH, id, NULL));
}

/* A user who can take no more chats (cc_chat_link.h; nothing without mod_cc_chat). */
static cc_error_t *chat_agent_gone(cc_ctx_t *ctx, const char *id)
{
    APR_OPTIONAL_FN_TYPE(cc_chat_agent_gone) *gone = APR_RETRIEVE_OPTIONAL_FN(cc_chat_agent_gone);

    return gone ? gone(ctx->db, ctx->principal->tenant_id, id, cc_ctx_actor(ctx)) : NULL;
}

static cc_error_t *users_update(cc_ctx_t *ctx)
{
    apr_pool_t *p = ctx->pool;
    const char *id = cc_path(ctx, "id");
    const char *hash = NULL, **cur;
    user_input_t in;
    json_t *body, *changes;
    cc_error_t *err;
    int nrows, disabling, had_admin = 0;

    if ((err = cc_read_json_fields(ctx, user_patch_fields, &body))
        || (err = user_input_read(p, body, &in))) {
        return err;
    }
    if (in.status && !strcmp(in.status, "disabled") && is_self(ctx, id)) {
        return cc_error_conflict(p, "you cannot disable yourself");
    }
    /* A stolen access token must not buy the account: your own password changes only
     * through POST /auth/password, which asks for the current one. */
    if (in.password && is_self(ctx, id)) {
        err = cc_error_make(p, HTTP_FORBIDDEN, CC_ERR_FORBIDDEN,
                            "change your own password with POST /api/v1/auth/password");
        cc_error_add_detail(err, CC_KEY_PASSWORD, "not yours to set here");
        return err;
    }
    disabling = in.status && !strcmp(in.status, "disabled");
    if ((err = hash_password(ctx, in.password, &hash))
        || (err = cc_db_begin(ctx->db))
        || (err = lock_user(ctx, id, &cur))
        || (disabling && (err = cc_admin_guard_before(ctx, &had_admin)))) {
        return err;
    }
    changes = cc_json_object(p);
    cc_audit_change_str(changes, CC_KEY_EMAIL, cur[0], in.email);
    cc_audit_change_str(changes, CC_KEY_NAME, cur[1], in.name);
    cc_audit_change_str(changes, CC_KEY_STATUS, cur[2], in.status);
    if (hash) {
        json_object_set_new(changes, CC_KEY_PASSWORD, json_string("changed"));
    }
    if (json_object_size(changes) == 0) {
        return cc_reply_unchanged(ctx, cc_handle_get);
    }
    {
        const char *args[6] = { in.email, in.name, in.status, hash,
                                ctx->principal->tenant_id, id };

        if ((err = email_conflict(ctx, cc_db_exec(ctx->db, "cc_users_update", 6, args,
                                                  &nrows)))) {
            return err;
        }
    }
    /* A new password or a disabled account ends the user's sessions; a disabled
     * account's chats go to other agents. */
    if ((hash || disabling) && (err = revoke_sessions(ctx, id))) {
        return err;
    }
    if (disabling && (err = chat_agent_gone(ctx, id))) {
        return err;
    }
    if (disabling && (err = cc_admin_guard_after(ctx, had_admin))) {
        return err;
    }
    /* Status and email are what a principal is made of. */
    if (json_object_get(changes, CC_KEY_STATUS) || json_object_get(changes, CC_KEY_EMAIL)) {
        cc_ctx_principals_changed(ctx, ctx->principal->tenant_id);
    }
    /* Phones and queue wallboards show the user's name. */
    if (json_object_get(changes, CC_KEY_NAME)
        && (err = cc_endpoints_follow_user(ctx, id, in.name))) {
        return err;
    }
    return record_and_reply(ctx, "update", id, changes);
}

/* 409 while a DID routes calls to the user (checked after the user row is locked). */
static cc_error_t *refuse_if_routed(cc_ctx_t *ctx, const char *id)
{
    const char *args[2] = { ctx->principal->tenant_id, id };
    const char **row;
    cc_error_t *err = cc_db_select_row(ctx->db, "cc_users_did_routes", 2, args, &row, NULL);

    if (!err && row) {
        err = cc_error_conflict(ctx->pool,
                                "a DID routes to this user; route it elsewhere first");
    }
    return err;
}

static cc_error_t *users_delete(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id");
    const char *args[2] = { ctx->principal->tenant_id, id }, **cur;
    json_t *user;
    cc_error_t *err;
    int nrows = 0, had_admin = 0;

    if (is_self(ctx, id)) {
        return cc_error_conflict(ctx->pool, "you cannot delete yourself");
    }
    /*
     * Lock order: the user's row first, before any plain read, so the reads that follow
     * see what was committed before it; then its endpoints (a DID write share-locks its
     * destination endpoint and takes the tenant row last: waiting for the endpoints here
     * before holding the DID index range or the tenant row lets it finish); then the
     * DIDs routing to the user; then the soft delete, whose trigger locks the tenant row
     * (users_count).
     */
    if ((err = cc_db_begin(ctx->db))
        || (err = lock_user(ctx, id, &cur))
        || (err = cc_admin_guard_before(ctx, &had_admin))
        || (err = fetch_user(ctx, id, &user))
        || (err = cc_endpoints_follow_user(ctx, id, NULL))
        || (err = refuse_if_routed(ctx, id))
        || (err = cc_db_exec(ctx->db, "cc_users_soft_delete", 2, args, &nrows))) {
        return err;
    }
    if (nrows == 0) {
        return cc_error_not_found(ctx->pool);
    }
    if ((err = clear_roles(ctx, id))
        || (err = revoke_sessions(ctx, id))
        || (err = cc_agents_end_state(ctx, id))
        || (err = chat_agent_gone(ctx, id))
        || (err = cc_admin_guard_after(ctx, had_admin))) {
        return err;
    }
    cc_ctx_principals_changed(ctx, ctx->principal->tenant_id);
    return cc_ctx_commit(ctx, "user", "delete", id, NULL, user, HTTP_NO_CONTENT, NULL);
}

static cc_error_t *users_set_roles(cc_ctx_t *ctx)
{
    apr_pool_t *p = ctx->pool;
    const char *id = cc_path(ctx, "id");
    const char **cur;
    user_input_t in;
    json_t *body, *roles, *changes;
    cc_error_t *err;
    int had_admin = 0;

    if ((err = cc_read_json_fields(ctx, user_roles_fields, &body))
        || (err = user_input_read(p, body, &in))
        || (err = roles_check(ctx, in.roles_csv))
        || (err = check_roles_grantable(ctx, in.roles_csv))
        || (err = cc_db_begin(ctx->db))
        || (err = lock_user(ctx, id, &cur))) {
        return err;
    }
    changes = cc_json_object(p);
    cc_audit_change(changes, CC_KEY_ROLES, csv_to_json(p, cur[3]),
                    csv_to_json(p, in.roles_csv));
    roles = json_object_get(changes, CC_KEY_ROLES);
    if (json_equal(json_object_get(roles, "from"), json_object_get(roles, "to"))) {
        /* The same set: nothing changes, so nothing to audit (as for an empty PATCH). */
        return cc_reply_unchanged(ctx, cc_handle_get);
    }
    if ((err = cc_admin_guard_before(ctx, &had_admin))
        || (err = clear_roles(ctx, id))
        || (err = assign_roles(ctx, id, in.roles_csv))
        || (err = cc_admin_guard_after(ctx, had_admin))) {
        return err;
    }
    cc_ctx_principals_changed(ctx, ctx->principal->tenant_id);
    return record_and_reply(ctx, "roles_update", id, changes);
}

/* Path order does not matter: captures never shadow literals (cc_route_match). */
static const cc_route_t users_routes[] = {
    { "GET", "/api/v1/users", cc_handle_list, "users.read", CC_ROUTE_AUTH },
    { "POST", "/api/v1/users", users_create, "users.write", CC_ROUTE_AUTH },
    { "GET", "/api/v1/users/{id:int}", cc_handle_get, "users.read", CC_ROUTE_AUTH },
    { "PATCH", "/api/v1/users/{id:int}", users_update, "users.write", CC_ROUTE_AUTH },
    { "DELETE", "/api/v1/users/{id:int}", users_delete, "users.write", CC_ROUTE_AUTH },
    { "PUT", "/api/v1/users/{id:int}/roles", users_set_roles, "users.write", CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_users_domain = { "users", users_routes, users_stmts, &users_list_spec,
                                      "cc_users_get", cc_user_cols };
