/**
 * @file mod_cc_auth.c
 * @brief mod_cc_auth: AuthType CCBearer (check_authn), request ids, the cc-error
 *        ErrorDocument handler, the cc-auth handler for /api/v1/auth/... and the
 *        retention job (cc_auth_retention.c).
 */
#define CC_AUTH_MODULE_FILE 1

#include <apr_strings.h>
#include <apr_optional.h>
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_auth.h>

#include "cc_auth_private.h"
#include "cc_job.h"
#include "cc_auth_jwt.h"
#include "cc_crypto.h"
#include "cc_db.h"

#define CC_AUTH_TYPE "CCBearer"

/* The module's domains, one per file, listed by make (mod_cc_auth_domains.h, see
 * cc_domain.h): the auth routes, the throttle's and the retention job's statements. */
#define CC_DOMAIN(d) extern const cc_domain_t d;
#include "mod_cc_auth_domains.h"
#undef CC_DOMAIN
#define CC_DOMAIN(d) &d,
static const cc_domain_t *const cc_auth_domains[] = {
#include "mod_cc_auth_domains.h"
    NULL
};
#undef CC_DOMAIN

/* ---- identity on the request ---- */

/* Walk back to the request that ran check_authn: ErrorDocument redirects (r->prev) and
 * subrequests (r->main) have no identity of their own. */
static const cc_identity_t *cc_auth_identity_get(request_rec *r)
{
    for (; r; r = r->prev ? r->prev : r->main) {
        const cc_identity_t *id = ap_get_module_config(r->request_config, &cc_auth_module);

        if (id) {
            return id;
        }
    }
    return NULL;
}

/* bcrypt with this server's CCBcryptCost, for modules that create or reset users. */
static apr_status_t cc_auth_password_hash(request_rec *r, const char *password,
                                          const char **phash)
{
    return cc_password_hash(r->pool, password, cc_auth_cfg_bcrypt_cost(cc_auth_cfg(r->server)),
                            phash);
}

/* ---- AuthType CCBearer ---- */

/* 401 with the Bearer challenge (RFC 6750 section 3) and the note the JSON
 * ErrorDocument renders.  reason is one of our fixed strings: no token material. */
static int bearer_fail(request_rec *r, const char *reason, int token_sent)
{
    if (token_sent) {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                       apr_psprintf(r->pool, "Bearer realm=\"callcenter\", "
                                    "error=\"invalid_token\", error_description=\"%s\"",
                                    reason));
    }
    else {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate", "Bearer realm=\"callcenter\"");
    }
    cc_note_error(r, CC_ERR_UNAUTHORIZED, reason);
    return HTTP_UNAUTHORIZED;
}

static int cc_auth_check_authn(request_rec *r)
{
    const char *type = ap_auth_type(r);
    const cc_auth_cfg_t *cfg;
    const char *token, *reason;
    const cc_identity_t *id;

    if (!type || strcasecmp(type, CC_AUTH_TYPE) != 0) {
        return DECLINED;
    }
    cfg = cc_auth_cfg(r->server);
    if (!cfg->key) {
        /* Cannot happen after a successful startup (post_config requires the key). */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CCLOGNO(01004)
                      "AuthType CCBearer without CCAuthJWTKeyFile");
        cc_note_error(r, CC_ERR_INTERNAL, "server misconfigured");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    switch (cc_auth_bearer_parse(apr_table_get(r->headers_in, "Authorization"), &token)) {
    case CC_AUTH_BEARER_NONE:
        return bearer_fail(r, "missing bearer token", 0);
    case CC_AUTH_BEARER_MALFORMED:
        return bearer_fail(r, "malformed bearer token", 1);
    case CC_AUTH_BEARER_OK:
        break;
    }
    if (cc_auth_jwt_verify(r->pool, cfg->key, cfg->keylen, cc_auth_cfg_issuer(cfg),
                           (apr_int64_t)apr_time_sec(r->request_time),
                           cc_auth_cfg_clock_skew(cfg), token, &id, &reason)
        != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, CCLOGNO(01005)
                      "bearer token rejected: %s", reason);
        return bearer_fail(r, reason, 1);
    }
    r->user = apr_pstrdup(r->pool, id->user_id_str);
    r->ap_auth_type = (char *)CC_AUTH_TYPE;
    ap_set_module_config(r->request_config, &cc_auth_module, (void *)id);
    return OK;
}

/* ---- hooks ---- */

static int cc_auth_post_read_request(request_rec *r)
{
    cc_request_id(r);
    return DECLINED;
}

static int cc_auth_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                               server_rec *s)
{
    int rc;

    (void)plog;
    if ((rc = cc_auth_config_check(pconf, ptemp, s)) != OK) {
        return rc;
    }
    /* Before mod_dbd's post_config, which groups the statements per server. */
    if ((rc = cc_domains_post_config(pconf, ptemp, s, "mod_cc_auth", cc_auth_domains))
        != OK) {
        return rc;
    }
    return cc_auth_retention_schedule(pconf, s);
}

static void cc_auth_optional_fn_retrieve(void)
{
    APR_OPTIONAL_FN_TYPE(cc_tenant_principal_get) *fn
        = APR_RETRIEVE_OPTIONAL_FN(cc_tenant_principal_get);

    if (!fn) {
        /* Logged once per (re)start; /auth/me and /auth/password then answer 500. */
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, NULL, CCLOGNO(01006)
                     "mod_cc_auth: mod_cc_tenant is not loaded; /api/v1/auth/me and "
                     "/api/v1/auth/password will fail");
    }
    cc_auth_login_set_principal_fn(fn);
}

/* ---- handlers ---- */

static int cc_auth_error_handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, "cc-error") != 0) {
        return DECLINED;
    }
    return cc_send_noted_error(r);
}

static int cc_auth_handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, "cc-auth") != 0) {
        return DECLINED;
    }
    return cc_dispatch(r, cc_auth_domains, CC_AUTH_MAX_BODY, cc_auth_cfg(r->server));
}

/* The guard of the module's background jobs in this child (cc_job.h). */
static void cc_auth_child_init(apr_pool_t *pchild, server_rec *s)
{
    cc_db_child_init(pchild, s);
    cc_job_child_init(pchild, s);
}

static void cc_auth_register_hooks(apr_pool_t *p)
{
    static const char *const succ_dbd[] = { "mod_dbd.c", NULL };
    static const char *const pre_unique_id[] = { "mod_unique_id.c", NULL };

    ap_hook_post_config(cc_auth_post_config, NULL, succ_dbd, APR_HOOK_MIDDLE);
    ap_hook_child_init(cc_auth_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_optional_fn_retrieve(cc_auth_optional_fn_retrieve, NULL, NULL, APR_HOOK_MIDDLE);
    /* After mod_unique_id made UNIQUE_ID (the id when the client sent none), before
     * anything that may fail the request. */
    ap_hook_post_read_request(cc_auth_post_read_request, pre_unique_id, NULL,
                              APR_HOOK_FIRST);
    ap_hook_check_authn(cc_auth_check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_handler(cc_auth_error_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(cc_auth_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* httpd's own errors on our paths as JSON; HTTP/2.0+ request lines refused. */
    cc_http_guard_register(p, "mod_cc_auth", cc_auth_domains);
    APR_REGISTER_OPTIONAL_FN(cc_auth_identity_get);
    APR_REGISTER_OPTIONAL_FN(cc_auth_password_hash);
}

CC_MODULE_EXPORT AP_DECLARE_MODULE(cc_auth) = {
    STANDARD20_MODULE_STUFF,
    NULL,                           /* per-directory config creator */
    NULL,                           /* dir config merger */
    cc_auth_create_server_config,   /* server config creator */
    cc_auth_merge_server_config,    /* server config merger */
    cc_auth_cmds,                   /* command table */
    cc_auth_register_hooks,         /* set up other request processing hooks */
    AP_MODULE_FLAG_NONE             /* flags */
};
