/**
 * @file mod_cc_tenant.h
 * @brief mod_cc_tenant's public API for other modules (optional functions only).
 */
#ifndef MOD_CC_TENANT_H
#define MOD_CC_TENANT_H

#include <httpd.h>
#include <apr_optional.h>
#include "cc_error.h"
#include "cc_perm.h"
#include "cc_ratelimit.h"

/**
 * The platform features every API route shares (API.md "Platform features"), set by
 * mod_cc_tenant's directives for a virtual host (README "Directives").
 */
typedef struct cc_platform_cfg_t {
    /** CCCorsOrigins: the origins (lower-cased, const char *) whose pages may call
     *  /api/v1 from a browser; NULL or empty: none. */
    const apr_array_header_t *cors_origins;
    /** CCRateLimitTenant, CCRateLimitToken (requests 0: no limit). */
    cc_ratelimit_t tenant_limit;
    cc_ratelimit_t token_limit;
    /** CCIdempotencyHours: how long an Idempotency-Key is kept (0: keys ignored; -1:
     *  not set, read through CC_IDEMPOTENCY_HOURS). */
    apr_int64_t idempotency_hours;
} cc_platform_cfg_t;

/** CCIdempotencyHours with its default (24). */
#define CC_IDEMPOTENCY_HOURS(cfg) \
    ((cfg)->idempotency_hours < 0 ? 24 : (cfg)->idempotency_hours)

/**
 * Resolve (once per request, memoized on the initial request) the principal: the
 * token's user and tenant, both active, the effective tenant (X-Tenant-ID for platform
 * admins) and its permissions (from the per-process cache).  Returns NULL and sets
 * *ppr, or an error: 401 unauthorized (no identity), 403 tenant_suspended,
 * 403 account_disabled, 503 unavailable.
 */
APR_DECLARE_OPTIONAL_FN(cc_error_t *, cc_tenant_principal_get,
                        (request_rec *r, const cc_principal_t **ppr));

/** The platform settings of s (never NULL). */
APR_DECLARE_OPTIONAL_FN(const cc_platform_cfg_t *, cc_tenant_platform_cfg, (server_rec *s));

#endif
