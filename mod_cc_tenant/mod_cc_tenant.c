/*
 * mod_cc_tenant.c: tenant context and RBAC for the Callcenter API.
 *
 * - Optional function cc_tenant_principal_get (cc_tenant_principal.c): the token's user
 *   and tenant, both active, the effective tenant (X-Tenant-ID for platform admins) and
 *   the permission mask, memoized per request, cached per process (CCTenantCacheTTL).
 * - Authz providers "Require cc-tenant" (the principal resolves) and
 *   "Require cc-permission P1 [P2 ...]" (it holds every Pn; names checked at startup).
 * - Handler cc-tenant-api: /api/v1/tenants (cc_tenants.c), /api/v1/roles and
 *   /api/v1/permissions (cc_roles.c).
 *
 * Denials from the authz providers note their error code (cc_note_error) so the cc-error
 * ErrorDocument renders the JSON envelope: 401 (user gone) as AUTHZ_DENIED_NO_USER, 403
 * as AUTHZ_DENIED (the vhost needs "AuthzSendForbiddenOnFailure On", else mod_authz_core
 * turns a denial after authentication into 401), database trouble as AUTHZ_GENERAL_ERROR
 * (500, which the renderer turns into 503 for the noted "unavailable").
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_request.h>
#include <mod_auth.h>
#include <apr_strings.h>

#define CC_TENANT_MAIN_FILE 1
#include "cc_audit.h"
#include "cc_cors.h"
#include "cc_log.h"
#include "cc_metrics.h"
#include "cc_validate.h"
#include "cc_tenant_private.h"
#include "mod_cc_tenant.h"

/* The identity getter from mod_cc_auth; written once per config cycle (before any
 * request thread exists), read-only afterwards. */
static APR_OPTIONAL_FN_TYPE(cc_auth_identity_get) *identity_fn;

APR_OPTIONAL_FN_TYPE(cc_auth_identity_get) *cc_tenant_identity_fn(void)
{
    return identity_fn;
}

/* ---- configuration ---- */

static void *create_srv_cfg(apr_pool_t *p, server_rec *s)
{
    cc_tenant_srv_cfg_t *cfg = apr_pcalloc(p, sizeof(*cfg));

    (void)s;
    cfg->cache_ttl = CC_TENANT_UNSET;
    cfg->platform_slug = NULL;
    cfg->platform.idempotency_hours = CC_TENANT_UNSET;
    cfg->cache = NULL;
    return cfg;
}

static void *merge_srv_cfg(apr_pool_t *p, void *basev, void *addv)
{
    const cc_tenant_srv_cfg_t *base = basev, *add = addv;
    cc_tenant_srv_cfg_t *cfg = apr_pcalloc(p, sizeof(*cfg));

    cfg->cache_ttl = add->cache_ttl != CC_TENANT_UNSET ? add->cache_ttl : base->cache_ttl;
    cfg->platform_slug = add->platform_slug ? add->platform_slug : base->platform_slug;
    cfg->cache = NULL;   /* set per process in child_init */
    cfg->gens = NULL;    /* set in post_config */
    cfg->platform.cors_origins = add->platform.cors_origins ? add->platform.cors_origins
                                                            : base->platform.cors_origins;
    cfg->platform.tenant_limit = add->platform.tenant_limit.set
                                 ? add->platform.tenant_limit : base->platform.tenant_limit;
    cfg->platform.token_limit = add->platform.token_limit.set
                                ? add->platform.token_limit : base->platform.token_limit;
    cfg->platform.idempotency_hours = add->platform.idempotency_hours != CC_TENANT_UNSET
                                      ? add->platform.idempotency_hours
                                      : base->platform.idempotency_hours;
    return cfg;
}

cc_tenant_srv_cfg_t *cc_tenant_srv_cfg(server_rec *s)
{
    return ap_get_module_config(s->module_config, &cc_tenant_module);
}

apr_interval_time_t cc_tenant_cfg_cache_ttl(const cc_tenant_srv_cfg_t *cfg)
{
    apr_int64_t secs = cfg->cache_ttl == CC_TENANT_UNSET ? CC_TENANT_CACHE_TTL_DEFAULT
                                                          : cfg->cache_ttl;

    return apr_time_from_sec(secs);
}

const char *cc_tenant_cfg_platform_slug(const cc_tenant_srv_cfg_t *cfg)
{
    return cfg->platform_slug ? cfg->platform_slug : CC_TENANT_PLATFORM_DEFAULT;
}

static const char *set_cache_ttl(cmd_parms *cmd, void *dummy, const char *arg)
{
    cc_tenant_srv_cfg_t *cfg = cc_tenant_srv_cfg(cmd->server);
    apr_int64_t secs;

    (void)dummy;
    /* An hour is far past any sensible staleness for suspensions and role changes. */
    if (!cc_parse_int(arg, 0, 3600, &secs)) {
        return apr_psprintf(cmd->pool, "%s must be a number of seconds from 0 to 3600, "
                            "not '%s'", cmd->cmd->name, arg);
    }
    cfg->cache_ttl = secs;
    return NULL;
}

static const char *set_platform_tenant(cmd_parms *cmd, void *dummy, const char *arg)
{
    cc_tenant_srv_cfg_t *cfg = cc_tenant_srv_cfg(cmd->server);

    (void)dummy;
    if (!cc_valid_slug(arg)) {
        return apr_psprintf(cmd->pool, "%s must be a tenant slug ([a-z0-9-]{3,63}), "
                            "not '%s'", cmd->cmd->name, arg);
    }
    cfg->platform_slug = arg;
    return NULL;
}

/* CCCorsOrigins origin [origin ...]: each a serialised origin, never "*" (a wildcard would
 * let every site's pages read the answers of a user's token); the directive may be
 * repeated, and a virtual host's own list replaces the main server's. */
static const char *add_cors_origin(cmd_parms *cmd, void *dummy, const char *arg)
{
    cc_tenant_srv_cfg_t *cfg = cc_tenant_srv_cfg(cmd->server);
    apr_array_header_t *list = (apr_array_header_t *)cfg->platform.cors_origins;
    const char *norm;

    (void)dummy;
    if (!strcmp(arg, "*")) {
        return apr_psprintf(cmd->pool, "%s takes the origins by name (https://host[:port]): "
                            "a wildcard is refused", cmd->cmd->name);
    }
    if (!cc_cors_origin_valid(cmd->pool, arg, &norm)) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not an origin (http or https://, a "
                            "host, an optional port, no path)", cmd->cmd->name, arg);
    }
    if (!list) {
        cfg->platform.cors_origins = list = apr_array_make(cmd->pool, 4, sizeof(norm));
    }
    APR_ARRAY_PUSH(list, const char *) = norm;
    return NULL;
}

/* CCRateLimitTenant / CCRateLimitToken requests window [burst] | off. */
static const char *set_rate_limit(cmd_parms *cmd, void *dummy, const char *requests,
                                  const char *window, const char *burst)
{
    cc_tenant_srv_cfg_t *cfg = cc_tenant_srv_cfg(cmd->server);
    cc_ratelimit_t *lim = cmd->info ? &cfg->platform.token_limit
                                    : &cfg->platform.tenant_limit;
    const char *err = cc_ratelimit_parse(requests, window, burst, lim);

    (void)dummy;
    return err ? apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err) : NULL;
}

static const char *set_idempotency_hours(cmd_parms *cmd, void *dummy, const char *arg)
{
    cc_tenant_srv_cfg_t *cfg = cc_tenant_srv_cfg(cmd->server);

    (void)dummy;
    if (!cc_parse_int(arg, 0, 720, &cfg->platform.idempotency_hours)) {
        return apr_psprintf(cmd->pool, "%s must be a number of hours from 0 to 720, not "
                            "'%s'", cmd->cmd->name, arg);
    }
    return NULL;
}

static const cc_platform_cfg_t *cc_tenant_platform_cfg(server_rec *s)
{
    return &cc_tenant_srv_cfg(s)->platform;
}

/* Directives, in the order the README documents them. */
static const command_rec cc_tenant_cmds[] = {
    AP_INIT_TAKE1("CCTenantCacheTTL", set_cache_ttl, NULL, RSRC_CONF,
                  "Seconds a principal's status and permissions are cached per process "
                  "(default 10; 0 disables the cache)"),
    AP_INIT_TAKE1("CCPlatformTenant", set_platform_tenant, NULL, RSRC_CONF,
                  "Slug of the tenant whose platform_admin users administer the platform "
                  "(default platform)"),
    AP_INIT_ITERATE("CCCorsOrigins", add_cors_origin, NULL, RSRC_CONF,
                    "Origins (https://host[:port]) whose pages may call /api/v1 from a "
                    "browser (CORS); none by default"),
    AP_INIT_TAKE123("CCRateLimitTenant", set_rate_limit, NULL, RSRC_CONF,
                    "Requests a tenant may make per window (seconds), with a burst "
                    "(default: the requests), or off; no limit by default"),
    AP_INIT_TAKE123("CCRateLimitToken", set_rate_limit, (void *)1, RSRC_CONF,
                    "Requests one access token may make per window (seconds), with a burst "
                    "(default: the requests), or off; no limit by default"),
    AP_INIT_TAKE1("CCIdempotencyHours", set_idempotency_hours, NULL, RSRC_CONF,
                  "Hours an Idempotency-Key and its answer are kept (0..720, default 24; "
                  "0: the header is ignored)"),
    { NULL }
};

/* ---- authz providers ---- */

/* Turn a resolution error into an authz result the client sees correctly. */
static authz_status deny_with(request_rec *r, const cc_error_t *err)
{
    cc_note_error(r, err->code, err->message);
    if (err->status == HTTP_UNAUTHORIZED) {
        return AUTHZ_DENIED_NO_USER;
    }
    if (err->status >= 500) {
        return AUTHZ_GENERAL_ERROR;
    }
    return AUTHZ_DENIED;
}

static authz_status check_tenant(request_rec *r, const char *require_line,
                                 const void *parsed)
{
    const cc_principal_t *pr;
    cc_error_t *err;

    (void)require_line;
    (void)parsed;
    if (!r->user) {
        /* Before authentication (or without it): let the 401 from authn stand. */
        return AUTHZ_DENIED_NO_USER;
    }
    if ((err = cc_tenant_principal_get(r, &pr))) {
        return deny_with(r, err);
    }
    return AUTHZ_GRANTED;
}

static const char *parse_tenant(cmd_parms *cmd, const char *require_line,
                                const void **parsed)
{
    (void)cmd;
    *parsed = NULL;
    while (*require_line == ' ' || *require_line == '\t') {
        require_line++;
    }
    return *require_line ? "Require cc-tenant takes no arguments" : NULL;
}

static authz_status check_permission(request_rec *r, const char *require_line,
                                     const void *parsed)
{
    const cc_perm_mask_t need = *(const cc_perm_mask_t *)parsed;
    const cc_principal_t *pr;
    cc_error_t *err;

    if (!r->user) {
        return AUTHZ_DENIED_NO_USER;
    }
    if ((err = cc_tenant_principal_get(r, &pr))) {
        return deny_with(r, err);
    }
    if ((pr->permissions & need) != need) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CCLOGNO(02001)
                      "user %s in tenant %s lacks a permission of: %s",
                      pr->user_id_str, pr->tenant_id, require_line);
        cc_note_error(r, CC_ERR_FORBIDDEN,
                      apr_pstrcat(r->pool, "permission required: ", require_line, NULL));
        return AUTHZ_DENIED;
    }
    return AUTHZ_GRANTED;
}

/* Permission names are checked once, at startup: a typo is a config error, not a
 * silent denial at run time. */
static const char *parse_permission(cmd_parms *cmd, const char *require_line,
                                    const void **parsed)
{
    cc_perm_mask_t *mask = apr_pcalloc(cmd->pool, sizeof(*mask));
    const char *t = require_line, *w;

    while (*(w = ap_getword_conf(cmd->temp_pool, &t))) {
        cc_perm_mask_t bit = cc_perm_bit(w);

        if (!bit) {
            return apr_psprintf(cmd->pool, "Require cc-permission: unknown permission '%s'",
                                w);
        }
        *mask |= bit;
    }
    if (!*mask) {
        return "Require cc-permission needs at least one permission name";
    }
    *parsed = mask;
    return NULL;
}

static const authz_provider cc_tenant_authz_provider = {
    &check_tenant,
    &parse_tenant,
};

static const authz_provider cc_permission_authz_provider = {
    &check_permission,
    &parse_permission,
};

/* ---- handler ---- */

/*
 * The module's domains, one per file, listed by make (mod_cc_tenant_domains.h, see
 * cc_domain.h): their statements are registered and their tables checked in
 * post_config, their routes dispatched by the handler (no path belongs to two of them).
 */
#define CC_DOMAIN(d) extern const cc_domain_t d;
#include "mod_cc_tenant_domains.h"
#undef CC_DOMAIN
#define CC_DOMAIN(d) &d,
static const cc_domain_t *const cc_tenant_domains[] = {
#include "mod_cc_tenant_domains.h"
    NULL
};
#undef CC_DOMAIN

static int cc_tenant_handler(request_rec *r)
{
    cc_tenant_srv_cfg_t *cfg;

    if (!r->handler || strcmp(r->handler, "cc-tenant-api")) {
        return DECLINED;
    }
    cfg = cc_tenant_srv_cfg(r->server);
    return cc_dispatch(r, cc_tenant_domains, CC_MAX_BODY_DEFAULT, cfg);
}

/* ---- hooks ---- */

static void cc_tenant_optional_fn_retrieve(void)
{
    identity_fn = APR_RETRIEVE_OPTIONAL_FN(cc_auth_identity_get);
}

/* The node's generation slots: anonymous shared memory made once by the parent in its
 * process pool, so every child it ever forks shares them, across graceful restarts too
 * (old and new children then see each other's bumps).  Without it there is no
 * invalidation, only the TTL, and the log says so. */
static void make_generations(server_rec *s)
{
    apr_status_t rv;
    apr_uint32_t *gens = cc_node_shm(s, "cc_tenant_generations",
                                     CC_TENANT_GEN_SLOTS * sizeof(apr_uint32_t), &rv);
    server_rec *sp;

    if (!gens) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, CCLOGNO(02004)
                     "no shared memory for principal-cache invalidation: role and status "
                     "changes apply within CCTenantCacheTTL");
    }
    for (sp = s; sp; sp = sp->next) {
        cc_tenant_srv_cfg(sp)->gens = gens;
    }
}

/* The optional function cc_tenant_principals_changed (shared/cc_audit.h). */
static void cc_tenant_principals_changed(server_rec *s, const char *tenant_id)
{
    cc_tenant_gen_bump(cc_tenant_srv_cfg(s)->gens, tenant_id);
}

static int cc_tenant_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                                 server_rec *s)
{
    (void)plog;
    make_generations(s);
    /* optional_fn_retrieve runs only after post_config: look now to report it early. */
    cc_tenant_optional_fn_retrieve();
    if (!identity_fn) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, CCLOGNO(02002)
                     "mod_cc_auth is not loaded: every authenticated request fails "
                     "with 500");
    }
    /* Before mod_dbd's post_config, which copies the statements into its groups; a
     * table bug refuses the start. */
    return cc_domains_post_config(pconf, ptemp, s, "mod_cc_tenant", cc_tenant_domains);
}

/* One cache per process, shared by every vhost (the key holds user and tenant, the TTL
 * is applied per put), created before the worker threads exist. */
static void cc_tenant_child_init(apr_pool_t *pchild, server_rec *s)
{
    cc_tenant_cache_t *cache = NULL;
    apr_status_t rv = cc_tenant_cache_create(pchild, CC_TENANT_CACHE_DEFAULT_MAX, &cache);
    server_rec *sp;

    cc_db_child_init(pchild, s);
    if (rv != APR_SUCCESS) {
        /* Without a cache every request goes to the database: slower, still correct. */
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, CCLOGNO(02003)
                     "could not create the principal cache; running without it");
        cache = NULL;
    }
    for (sp = s; sp; sp = sp->next) {
        cc_tenant_srv_cfg(sp)->cache = cache;
    }
}

static void cc_tenant_register_hooks(apr_pool_t *p)
{
    static const char *const succ_dbd[] = {"mod_dbd.c", NULL};

    APR_REGISTER_OPTIONAL_FN(cc_tenant_principal_get);
    APR_REGISTER_OPTIONAL_FN(cc_tenant_principals_changed);
    APR_REGISTER_OPTIONAL_FN(cc_tenant_platform_cfg);
    ap_hook_optional_fn_retrieve(cc_tenant_optional_fn_retrieve, NULL, NULL,
                                 APR_HOOK_MIDDLE);
    ap_hook_post_config(cc_tenant_post_config, NULL, succ_dbd, APR_HOOK_MIDDLE);
    ap_hook_child_init(cc_tenant_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(cc_tenant_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* httpd's own errors on our paths as JSON; HTTP/2.0+ request lines refused. */
    cc_http_guard_register(p, "mod_cc_tenant", cc_tenant_domains);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "cc-tenant", AUTHZ_PROVIDER_VERSION,
                              &cc_tenant_authz_provider, AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "cc-permission",
                              AUTHZ_PROVIDER_VERSION, &cc_permission_authz_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}

CC_MODULE_EXPORT AP_DECLARE_MODULE(cc_tenant) = {
    STANDARD20_MODULE_STUFF,
    NULL,                       /* create per-dir config */
    NULL,                       /* merge per-dir config */
    create_srv_cfg,             /* create per-server config */
    merge_srv_cfg,              /* merge per-server config */
    cc_tenant_cmds,             /* directives */
    cc_tenant_register_hooks,   /* register hooks */
    AP_MODULE_FLAG_NONE         /* flags */
};
