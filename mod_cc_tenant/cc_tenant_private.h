/**
 * @file cc_tenant_private.h
 * @brief mod_cc_tenant's internals shared by its files (not a contract).
 */
#ifndef CC_TENANT_PRIVATE_H
#define CC_TENANT_PRIVATE_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "cc_db.h"
#include "cc_http.h"
#include "cc_tenant_cache.h"
#include "mod_cc_auth.h"
#include "mod_cc_tenant.h"

extern module AP_MODULE_DECLARE_DATA cc_tenant_module;
/* mod_cc_tenant.c gets this from AP_DECLARE_MODULE; defining it twice would not compile. */
#ifndef CC_TENANT_MAIN_FILE
APLOG_USE_MODULE(cc_tenant);
#endif

/** Unset sentinel for numeric directives. */
#define CC_TENANT_UNSET (-1)

#define CC_TENANT_CACHE_TTL_DEFAULT 10
#define CC_TENANT_PLATFORM_DEFAULT  "platform"

/** Server config; read it through the getters (they apply the defaults). */
typedef struct cc_tenant_srv_cfg_t {
    apr_int64_t cache_ttl;          /**< seconds; CC_TENANT_UNSET = default */
    const char *platform_slug;      /**< NULL = default */
    cc_tenant_cache_t *cache;       /**< the process's cache (child_init), shared by vhosts */
    apr_uint32_t *gens;             /**< the node's generation slots (shared memory made in
                                         post_config), NULL without it */
    cc_platform_cfg_t platform;     /**< CCCorsOrigins ... (mod_cc_tenant.h) */
} cc_tenant_srv_cfg_t;

/** The server config of r's server. */
cc_tenant_srv_cfg_t *cc_tenant_srv_cfg(server_rec *s);
/** CCTenantCacheTTL as an interval (0 = no cache). */
apr_interval_time_t cc_tenant_cfg_cache_ttl(const cc_tenant_srv_cfg_t *cfg);
/** CCPlatformTenant. */
const char *cc_tenant_cfg_platform_slug(const cc_tenant_srv_cfg_t *cfg);

/** mod_cc_auth's identity getter, retrieved in optional_fn_retrieve (NULL if absent). */
APR_OPTIONAL_FN_TYPE(cc_auth_identity_get) *cc_tenant_identity_fn(void);

/* ---- principal resolution (cc_tenant_principal.c) ---- */

/** The optional function itself (registered under this name in register_hooks). */
cc_error_t *cc_tenant_principal_get(request_rec *r, const cc_principal_t **ppr);

/** The handler's config (ctx->module_cfg). */
#define CC_TENANT_CTX_CFG(ctx) ((const cc_tenant_srv_cfg_t *)(ctx)->module_cfg)

#endif
