/**
 * @file cc_auth_config.c
 * @brief mod_cc_auth's server config: directives, create/merge, default-on-read getters,
 *        and the startup check (key present, dummy bcrypt hash made).
 */
#include "cc_auth_private.h"

#include <apr_strings.h>
#include <apr_file_info.h>

#include "cc_auth_jwt.h"
#include "cc_crypto.h"
#include "cc_validate.h"

/* ---- create / merge ---- */

void *cc_auth_create_server_config(apr_pool_t *p, server_rec *s)
{
    cc_auth_cfg_t *c = apr_pcalloc(p, sizeof(*c));

    (void)s;
    c->key_file = NULL;
    c->key = NULL;
    c->keylen = 0;
    c->issuer = NULL;
    c->access_ttl = CC_AUTH_UNSET;
    c->refresh_ttl = CC_AUTH_UNSET;
    c->max_failures = CC_AUTH_UNSET;
    c->window = CC_AUTH_UNSET;
    c->bcrypt_cost = CC_AUTH_UNSET;
    c->retention_interval = CC_AUTH_UNSET;
    c->clock_skew = CC_AUTH_UNSET;
    c->family_max_age = CC_AUTH_UNSET;
    c->reuse_leeway = CC_AUTH_UNSET;
    c->addr_max_failures = CC_AUTH_UNSET;
    c->bcrypt_max = CC_AUTH_UNSET;
    c->dummy_hash = NULL;
    return c;
}

#define MERGE_PTR(f) (add->f ? add->f : base->f)
#define MERGE_NUM(f) (add->f != CC_AUTH_UNSET ? add->f : base->f)

void *cc_auth_merge_server_config(apr_pool_t *p, void *basev, void *addv)
{
    const cc_auth_cfg_t *base = basev, *add = addv;
    cc_auth_cfg_t *c = apr_pcalloc(p, sizeof(*c));

    /* The key and its file travel together: a vhost naming its own file gets its key. */
    if (add->key) {
        c->key_file = add->key_file;
        c->key = add->key;
        c->keylen = add->keylen;
    }
    else {
        c->key_file = base->key_file;
        c->key = base->key;
        c->keylen = base->keylen;
    }
    c->issuer = MERGE_PTR(issuer);
    c->access_ttl = MERGE_NUM(access_ttl);
    c->refresh_ttl = MERGE_NUM(refresh_ttl);
    c->max_failures = MERGE_NUM(max_failures);
    c->window = MERGE_NUM(window);
    c->bcrypt_cost = MERGE_NUM(bcrypt_cost);
    c->retention_interval = MERGE_NUM(retention_interval);
    c->clock_skew = MERGE_NUM(clock_skew);
    c->family_max_age = MERGE_NUM(family_max_age);
    c->reuse_leeway = MERGE_NUM(reuse_leeway);
    c->addr_max_failures = MERGE_NUM(addr_max_failures);
    c->bcrypt_max = MERGE_NUM(bcrypt_max);
    /* Made per server in post_config (the cost may differ per vhost). */
    c->dummy_hash = NULL;
    return c;
}

/* ---- getters (defaults applied on read) ---- */

cc_auth_cfg_t *cc_auth_cfg(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &cc_auth_module);
}

const char *cc_auth_cfg_issuer(const cc_auth_cfg_t *c)
{
    return c->issuer ? c->issuer : CC_AUTH_ISSUER_DEFAULT;
}

apr_int64_t cc_auth_cfg_access_ttl(const cc_auth_cfg_t *c)
{
    return c->access_ttl != CC_AUTH_UNSET ? c->access_ttl : CC_AUTH_ACCESS_TTL_DEFAULT;
}

apr_int64_t cc_auth_cfg_refresh_ttl(const cc_auth_cfg_t *c)
{
    return c->refresh_ttl != CC_AUTH_UNSET ? c->refresh_ttl : CC_AUTH_REFRESH_TTL_DEFAULT;
}

int cc_auth_cfg_max_failures(const cc_auth_cfg_t *c)
{
    return c->max_failures != CC_AUTH_UNSET ? c->max_failures : CC_AUTH_MAX_FAILURES_DEFAULT;
}

int cc_auth_cfg_clock_skew(const cc_auth_cfg_t *c)
{
    return c->clock_skew != CC_AUTH_UNSET ? c->clock_skew : CC_AUTH_JWT_LEEWAY;
}

apr_int64_t cc_auth_cfg_family_max_age(const cc_auth_cfg_t *c)
{
    return c->family_max_age != CC_AUTH_UNSET ? c->family_max_age
                                              : CC_AUTH_FAMILY_MAX_AGE_DEFAULT;
}

int cc_auth_cfg_reuse_leeway(const cc_auth_cfg_t *c)
{
    return c->reuse_leeway != CC_AUTH_UNSET ? c->reuse_leeway : CC_AUTH_REUSE_LEEWAY_DEFAULT;
}

int cc_auth_cfg_addr_max_failures(const cc_auth_cfg_t *c)
{
    return c->addr_max_failures != CC_AUTH_UNSET ? c->addr_max_failures
                                                 : CC_AUTH_ADDR_MAX_FAILURES_DEFAULT;
}

int cc_auth_cfg_bcrypt_max(const cc_auth_cfg_t *c)
{
    return c->bcrypt_max != CC_AUTH_UNSET ? c->bcrypt_max : CC_AUTH_BCRYPT_MAX_DEFAULT;
}

int cc_auth_cfg_window(const cc_auth_cfg_t *c)
{
    return c->window != CC_AUTH_UNSET ? c->window : CC_AUTH_WINDOW_DEFAULT;
}

int cc_auth_cfg_bcrypt_cost(const cc_auth_cfg_t *c)
{
    return c->bcrypt_cost != CC_AUTH_UNSET ? c->bcrypt_cost : CC_AUTH_BCRYPT_COST_DEFAULT;
}

int cc_auth_cfg_retention_interval(const cc_auth_cfg_t *c)
{
    return c->retention_interval != CC_AUTH_UNSET ? c->retention_interval
                                                  : CC_AUTH_RETENTION_INTERVAL_DEFAULT;
}

/* ---- directive handlers: validate, store, or return the message httpd prints ---- */

static cc_auth_cfg_t *cmd_cfg(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &cc_auth_module);
}

static const char *set_key_file(cmd_parms *cmd, void *dummy, const char *arg)
{
    cc_auth_cfg_t *c = cmd_cfg(cmd);
    const char *path = ap_server_root_relative(cmd->pool, arg);
    const char *err;

    (void)dummy;
    if (!path) {
        return apr_psprintf(cmd->pool, "%s: invalid path '%s'", cmd->cmd->name, arg);
    }
    /* Read now so `apache2 -t` already reports a missing or short key. */
    if (cc_auth_jwt_load_key(cmd->pool, path, &c->key, &c->keylen, &err) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
    }
    c->key_file = path;
    return NULL;
}

static const char *set_issuer(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *s;

    (void)dummy;
    for (s = arg; *s; s++) {
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e) {
            break;
        }
    }
    if (!*arg || *s || strlen(arg) > 255) {
        return apr_psprintf(cmd->pool, "%s must be 1 to 255 printable ASCII characters "
                            "without spaces", cmd->cmd->name);
    }
    cmd_cfg(cmd)->issuer = arg;
    return NULL;
}

/* A number directive: which field, and its bounds. */
typedef struct num_directive_t {
    apr_size_t offset;
    int is_int64;
    apr_int64_t min;
    apr_int64_t max;
} num_directive_t;

static const num_directive_t nd_access_ttl = {
    APR_OFFSETOF(cc_auth_cfg_t, access_ttl), 1, 1, 86400 * 30
};
static const num_directive_t nd_refresh_ttl = {
    APR_OFFSETOF(cc_auth_cfg_t, refresh_ttl), 1, 60, 86400 * 3650
};
static const num_directive_t nd_max_failures = {
    APR_OFFSETOF(cc_auth_cfg_t, max_failures), 0, 1, 1000000
};
static const num_directive_t nd_window = {
    APR_OFFSETOF(cc_auth_cfg_t, window), 0, 1, 86400 * 30
};
static const num_directive_t nd_bcrypt_cost = {
    APR_OFFSETOF(cc_auth_cfg_t, bcrypt_cost), 0, CC_AUTH_BCRYPT_COST_MIN,
    CC_AUTH_BCRYPT_COST_MAX
};

static const num_directive_t nd_family_max_age = {
    APR_OFFSETOF(cc_auth_cfg_t, family_max_age), 1, 60, 86400 * 3650
};
static const num_directive_t nd_reuse_leeway = {
    APR_OFFSETOF(cc_auth_cfg_t, reuse_leeway), 0, 0, CC_AUTH_REUSE_LEEWAY_MAX
};
static const num_directive_t nd_addr_max_failures = {
    APR_OFFSETOF(cc_auth_cfg_t, addr_max_failures), 0, 1, 1000000
};
static const num_directive_t nd_bcrypt_max = {
    APR_OFFSETOF(cc_auth_cfg_t, bcrypt_max), 0, 1, 1024
};

static const num_directive_t nd_clock_skew = {
    APR_OFFSETOF(cc_auth_cfg_t, clock_skew), 0, 0, CC_AUTH_JWT_LEEWAY_MAX
};

static const num_directive_t nd_retention_interval = {
    APR_OFFSETOF(cc_auth_cfg_t, retention_interval), 0, 0, 86400
};

static const char *set_number(cmd_parms *cmd, void *dummy, const char *arg)
{
    const num_directive_t *nd = cmd->info;
    char *base = (char *)cmd_cfg(cmd);
    apr_int64_t v;

    (void)dummy;
    if (!cc_parse_int(arg, nd->min, nd->max, &v)) {
        return apr_psprintf(cmd->pool, "%s must be an integer from %" APR_INT64_T_FMT
                            " to %" APR_INT64_T_FMT ", not '%s'", cmd->cmd->name,
                            nd->min, nd->max, arg);
    }
    if (nd->is_int64) {
        *(apr_int64_t *)(base + nd->offset) = v;
    }
    else {
        *(int *)(base + nd->offset) = (int)v;
    }
    return NULL;
}

/* One job per node runs with the main server's interval: a vhost's value would be
 * silently ignored, so it is refused. */
static const char *set_global_number(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    return err ? err : set_number(cmd, dummy, arg);
}

/* Server-wide directives (RSRC_CONF: main server and vhosts), in documentation order. */
const command_rec cc_auth_cmds[] = {
    AP_INIT_TAKE1("CCAuthJWTKeyFile", set_key_file, NULL, RSRC_CONF,
                  "File holding the HS256 secret for access tokens (>= 32 bytes, mode 0600)"),
    AP_INIT_TAKE1("CCAuthIssuer", set_issuer, NULL, RSRC_CONF,
                  "The iss claim of access tokens (default: callcenter)"),
    AP_INIT_TAKE1("CCAccessTokenTTL", set_number, (void *)&nd_access_ttl, RSRC_CONF,
                  "Access token lifetime in seconds (default 900)"),
    AP_INIT_TAKE1("CCRefreshTokenTTL", set_number, (void *)&nd_refresh_ttl, RSRC_CONF,
                  "Refresh token lifetime in seconds (default 2592000)"),
    AP_INIT_TAKE1("CCRefreshFamilyMaxAge", set_number, (void *)&nd_family_max_age,
                  RSRC_CONF,
                  "Seconds after its login that a refresh token family ends, rotations or "
                  "not, 60..315360000 (default 7776000: 90 days)"),
    AP_INIT_TAKE1("CCRefreshReuseLeeway", set_number, (void *)&nd_reuse_leeway, RSRC_CONF,
                  "Seconds a rotated refresh token may still rotate (concurrent tabs, a "
                  "lost answer) before it counts as reuse, 0..300 (default 10)"),
    AP_INIT_TAKE1("CCAuthClockSkew", set_number, (void *)&nd_clock_skew, RSRC_CONF,
                  "Clock skew tolerated on access tokens' exp, nbf and iat, seconds, "
                  "0..300 (default 30)"),
    AP_INIT_TAKE1("CCLoginMaxFailures", set_number, (void *)&nd_max_failures, RSRC_CONF,
                  "Failed logins per tenant+email within CCLoginWindow before 429 (default 5)"),
    AP_INIT_TAKE1("CCLoginAddressMaxFailures", set_number, (void *)&nd_addr_max_failures,
                  RSRC_CONF,
                  "Failed logins per client address (IPv6: per /64) within CCLoginWindow "
                  "before 429 (default 100)"),
    AP_INIT_TAKE1("CCLoginWindow", set_number, (void *)&nd_window, RSRC_CONF,
                  "Login throttling window in seconds (default 900)"),
    AP_INIT_TAKE1("CCBcryptCost", set_number, (void *)&nd_bcrypt_cost, RSRC_CONF,
                  "bcrypt cost for password hashes, 4..31 (default 12)"),
    AP_INIT_TAKE1("CCBcryptMaxConcurrent", set_number, (void *)&nd_bcrypt_max, RSRC_CONF,
                  "Password hashes computed at once per httpd child for login and "
                  "/auth/password; more answer 429, 1..1024 (default 4)"),
    AP_INIT_TAKE1("CCAuthRetentionInterval", set_global_number,
                  (void *)&nd_retention_interval, RSRC_CONF,
                  "Seconds between purges of expired refresh tokens and login throttle "
                  "rows, 0..86400; 0 disables (default 3600; main server only)"),
    { NULL }
};

/* ---- startup check ---- */

/* Warn (do not fail) on a key file others can read: the secret signs every token. */
static void warn_key_perms(apr_pool_t *ptemp, server_rec *s, const cc_auth_cfg_t *c)
{
    apr_finfo_t fi;

    if (apr_stat(&fi, c->key_file, APR_FINFO_PROT, ptemp) == APR_SUCCESS
        && (fi.protection & (APR_GREAD | APR_GWRITE | APR_WREAD | APR_WWRITE))) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, CCLOGNO(01002)
                     "CCAuthJWTKeyFile %s is accessible to group or others; "
                     "make it mode 0600", c->key_file);
    }
}

int cc_auth_config_check(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    server_rec *sp;
    const cc_auth_cfg_t *main_cfg = cc_auth_cfg(s);

    for (sp = s; sp; sp = sp->next) {
        cc_auth_cfg_t *c = cc_auth_cfg(sp);
        apr_status_t rv;

        if (!c->key) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, sp, CCLOGNO(01001)
                         "mod_cc_auth: CCAuthJWTKeyFile is required (server %s:%u)",
                         sp->server_hostname ? sp->server_hostname : "(main)",
                         (unsigned)sp->port);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (sp == s || c->key_file != main_cfg->key_file) {
            warn_key_perms(ptemp, sp, c);
        }
        if (c->dummy_hash) {
            continue;
        }
        /* Vhosts with the main server's cost share its hash (one bcrypt at startup). */
        if (sp != s && main_cfg->dummy_hash
            && cc_auth_cfg_bcrypt_cost(c) == cc_auth_cfg_bcrypt_cost(main_cfg)) {
            c->dummy_hash = main_cfg->dummy_hash;
            continue;
        }
        rv = cc_password_hash(pconf, "cc-auth: no such user, still pay the bcrypt cost",
                              cc_auth_cfg_bcrypt_cost(c), &c->dummy_hash);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, sp, CCLOGNO(01003)
                         "mod_cc_auth: cannot make the startup bcrypt hash");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}
