/*
 * cc_tenant_principal.c: who a request acts for.
 *
 * From mod_cc_auth's identity (user id + home tenant from the token) to the principal
 * handlers use: the user still exists and is active, the home tenant is active, the
 * permission mask of the user's roles, and the effective tenant.  A platform admin may
 * act inside any tenant that is not deleted with X-Tenant-ID (suspended ones included:
 * operating on a suspended tenant is how it gets fixed); everyone else's X-Tenant-ID is
 * ignored.  The result is memoized on the initial request, so the authz providers, the
 * dispatcher and ErrorDocument/sub-requests resolve once, and the (user, home tenant)
 * lookup is cached per process for CCTenantCacheTTL seconds.
 */
#include <stdlib.h>
#include <string.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_request.h>
#include <apr_strings.h>

#include "cc_log.h"
#include "cc_validate.h"
#include "cc_tenant_private.h"

#define CC_TENANT_HEADER "X-Tenant-ID"

/* Statements of this file.  The principal query is one round trip: user, tenant and the
 * OR of the user's role masks (SET+0 is the bitmask in catalogue order, see
 * sql/001_foundation.sql), every join on tenant_id. */
static const cc_stmt_t principal_stmts[] = {
    CC_STMT("cc_tenant_principal_load",
            "SELECT u.status, u.email, t.status, t.slug,"
            " COALESCE(BIT_OR(r.permissions + 0), 0),"
            " COALESCE(MAX(r.builtin = 1 AND r.name = 'platform_admin'), 0)"
            " FROM users u"
            " JOIN tenants t ON t.id = u.tenant_id"
            " LEFT JOIN user_roles ur ON ur.tenant_id = u.tenant_id AND ur.user_id = u.id"
            " LEFT JOIN roles r ON r.tenant_id = ur.tenant_id AND r.id = ur.role_id"
            " WHERE u.tenant_id = %s AND u.id = %s AND u.deleted_at IS NULL"
            " GROUP BY u.id, u.status, u.email, t.status, t.slug"),
    /* tenants is not tenant-owned: its id is the tenant. */
    CC_STMT("cc_tenant_principal_target",
            "SELECT slug, status FROM tenants WHERE id = %s"),
    CC_STMT_END
};

/* Statements only: the principal is resolved for the other domains' routes. */
const cc_domain_t cc_tenant_principal_domain = { "principal", NULL, principal_stmts, NULL,
                                                 NULL, NULL };

/* Per-request memo on the initial request's request_config. */
typedef struct principal_memo_t {
    cc_error_t *err;
    const cc_principal_t *pr;
} principal_memo_t;

static request_rec *initial_request(request_rec *r)
{
    while (!ap_is_initial_req(r)) {
        r = r->prev ? r->prev : r->main;
    }
    return r;
}

/* (user, home tenant) from the cache or the database. */
static cc_error_t *load_home(request_rec *r, const cc_tenant_srv_cfg_t *cfg,
                             const char *user_id, const char *tenant_id,
                             cc_tenant_cache_value_t *v, int *pfound)
{
    apr_interval_time_t ttl = cc_tenant_cfg_cache_ttl(cfg);
    const char *key = NULL;
    const char *args[2];
    const char **row;
    cc_error_t *err;
    apr_time_t now = apr_time_now();
    /* Read before the database: a write committing meanwhile bumps it after its commit,
     * so a value read from the old rows is stored under a generation already gone. */
    apr_uint32_t gen = cc_tenant_gen_read(cfg->gens, tenant_id);

    *pfound = 0;
    if (ttl > 0 && cfg->cache) {
        key = cc_tenant_cache_key(r->pool, user_id, tenant_id);
        if (cc_tenant_cache_get(cfg->cache, key, now, r->pool, v) && v->generation == gen) {
            *pfound = 1;
            return NULL;
        }
    }
    /* The request's connection slot needs no principal (this is where it comes from). */
    args[0] = tenant_id;
    args[1] = user_id;
    if ((err = cc_db_select_row(cc_db_request(r), "cc_tenant_principal_load", 2, args, &row,
                                NULL))) {
        return err;
    }
    if (!row) {
        /* Not cached: a user created right after stays invisible for no TTL. */
        return NULL;
    }
    v->user_status = row[0];
    v->email = row[1];
    v->tenant_status = row[2];
    v->tenant_slug = row[3];
    v->permissions = (cc_perm_mask_t)apr_strtoi64(row[4], NULL, 10);
    v->platform_admin = row[5] && row[5][0] == '1';
    v->generation = gen;
    *pfound = 1;
    if (key) {
        cc_tenant_cache_put(cfg->cache, key, v, now, ttl);
    }
    return NULL;
}

/* A platform admin's X-Tenant-ID: a tenant that exists and is not deleted. */
static cc_error_t *apply_target_tenant(request_rec *r, const char *header,
                                       cc_principal_t *pr)
{
    char *id = apr_pstrdup(r->pool, header);
    const char *args[1];
    const char **row;
    cc_error_t *err;

    ap_str_tolower(id);
    if (!cc_valid_uuid(id)) {
        err = cc_error_make(r->pool, HTTP_BAD_REQUEST, CC_ERR_INVALID_REQUEST,
                            "X-Tenant-ID must be a tenant id (UUID)");
        cc_error_add_detail(err, CC_TENANT_HEADER, "must be a UUID");
        return err;
    }
    args[0] = id;
    if ((err = cc_db_select_row(cc_db_request(r), "cc_tenant_principal_target", 1, args,
                                &row, NULL))) {
        return err;
    }
    if (!row || !strcmp(row[1], "deleted")) {
        return cc_error_make(r->pool, HTTP_NOT_FOUND, CC_ERR_NOT_FOUND,
                             "the tenant named by X-Tenant-ID does not exist");
    }
    pr->tenant_id = id;
    pr->tenant_slug = row[0];
    pr->permissions = cc_perm_all();
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CCLOGNO(02010)
                  "platform admin %s acts in tenant %s", pr->user_id_str, id);
    return NULL;
}

static cc_error_t *resolve(request_rec *r, const cc_identity_t *id, cc_principal_t **ppr)
{
    const cc_tenant_srv_cfg_t *cfg = cc_tenant_srv_cfg(r->server);
    const char *user_id = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, id->user_id);
    const char *header;
    cc_tenant_cache_value_t v;
    cc_principal_t *pr;
    cc_error_t *err;
    int found;

    memset(&v, 0, sizeof(v));
    if ((err = load_home(r, cfg, user_id, id->tenant_id, &v, &found))) {
        return err;
    }
    if (!found) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CCLOGNO(02011)
                      "user %s of tenant %s no longer exists", user_id, id->tenant_id);
        return cc_error_make(r->pool, HTTP_UNAUTHORIZED, CC_ERR_UNAUTHORIZED,
                             "user no longer exists");
    }
    if (strcmp(v.user_status, "active")) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CCLOGNO(02012)
                      "user %s of tenant %s is %s", user_id, id->tenant_id, v.user_status);
        return cc_error_make(r->pool, HTTP_FORBIDDEN, CC_ERR_ACCOUNT_DISABLED,
                             "account is disabled");
    }
    if (strcmp(v.tenant_status, "active")) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CCLOGNO(02013)
                      "tenant %s of user %s is %s", id->tenant_id, user_id, v.tenant_status);
        return cc_error_make(r->pool, HTTP_FORBIDDEN, CC_ERR_TENANT_SUSPENDED,
                             "tenant is suspended");
    }

    pr = apr_pcalloc(r->pool, sizeof(*pr));
    pr->user_id = id->user_id;
    pr->user_id_str = user_id;
    pr->email = v.email;
    pr->home_tenant_id = id->tenant_id;
    pr->tenant_id = id->tenant_id;
    pr->tenant_slug = v.tenant_slug;
    pr->platform_admin = v.platform_admin
                         && !strcmp(v.tenant_slug, cc_tenant_cfg_platform_slug(cfg));
    /* tenants.manage is a platform power: whatever a row says, no one else holds it. */
    pr->permissions = pr->platform_admin ? v.permissions
                                         : (v.permissions & cc_perm_tenant_all());

    header = apr_table_get(r->headers_in, CC_TENANT_HEADER);
    if (header && pr->platform_admin
        && (err = apply_target_tenant(r, header, pr))) {
        return err;
    }
    *ppr = pr;
    return NULL;
}

cc_error_t *cc_tenant_principal_get(request_rec *r, const cc_principal_t **ppr)
{
    request_rec *top = initial_request(r);
    principal_memo_t *memo = ap_get_module_config(top->request_config, &cc_tenant_module);
    APR_OPTIONAL_FN_TYPE(cc_auth_identity_get) *get_identity = cc_tenant_identity_fn();
    const cc_identity_t *id;
    cc_principal_t *pr = NULL;

    *ppr = NULL;
    if (memo) {
        *ppr = memo->pr;
        return memo->err;
    }
    if (!get_identity) {
        /* Fail closed; post_config has logged why (CC02002). */
        return cc_error_internal(top->pool);
    }
    if (!(id = get_identity(top)) || !id->tenant_id) {
        /* Not memoized: authentication may simply not have run yet. */
        return cc_error_make(top->pool, HTTP_UNAUTHORIZED, CC_ERR_UNAUTHORIZED,
                             "authentication required");
    }
    memo = apr_pcalloc(top->pool, sizeof(*memo));
    memo->err = resolve(top, id, &pr);
    memo->pr = memo->err ? NULL : pr;
    ap_set_module_config(top->request_config, &cc_tenant_module, memo);
    *ppr = memo->pr;
    return memo->err;
}
