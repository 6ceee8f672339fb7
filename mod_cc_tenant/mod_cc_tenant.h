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

/**
 * Resolve (once per request, memoized on the initial request) the principal: the
 * token's user and tenant, both active, the effective tenant (X-Tenant-ID for platform
 * admins) and its permissions (from the per-process cache).  Returns NULL and sets
 * *ppr, or an error: 401 unauthorized (no identity), 403 tenant_suspended,
 * 403 account_disabled, 503 unavailable.
 */
APR_DECLARE_OPTIONAL_FN(cc_error_t *, cc_tenant_principal_get,
                        (request_rec *r, const cc_principal_t **ppr));

#endif
