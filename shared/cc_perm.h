/**
 * @file cc_perm.h
 * @brief (core) The fixed permission catalogue of API.md as a bitmask, and the principal.
 *
 * Permissions are a closed list, so a role's or a principal's set is a 64-bit mask:
 * checks cost one AND and the per-process cache stores one integer per principal.
 */
#ifndef CC_PERM_H
#define CC_PERM_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

typedef apr_uint64_t cc_perm_mask_t;

typedef struct cc_perm_info_t {
    const char *name;           /**< "dids.write" */
    const char *description;
} cc_perm_info_t;

/** The catalogue, in API.md order; ends with {NULL, NULL}. */
extern const cc_perm_info_t cc_perm_catalogue[];

/** Bit index of name, or -1 when it is not a permission. */
int cc_perm_index(const char *name);
/** Mask of one permission (0 when unknown). */
cc_perm_mask_t cc_perm_bit(const char *name);
/** Every permission a tenant role may hold (all but tenants.manage). */
cc_perm_mask_t cc_perm_tenant_all(void);
/** Every permission (platform admins). */
cc_perm_mask_t cc_perm_all(void);
/** Mask from a comma-separated list ("users.read,users.write"); unknown names ignored. */
cc_perm_mask_t cc_perm_mask_from_csv(const char *csv);
/** Comma-separated names (catalogue order) of mask. */
const char *cc_perm_mask_to_csv(apr_pool_t *p, cc_perm_mask_t mask);
/** New JSON array of the names in mask (catalogue order). */
json_t *cc_perm_mask_to_json(cc_perm_mask_t mask);

/** Identity proved by the access token (mod_cc_auth). */
typedef struct cc_identity_t {
    apr_int64_t user_id;
    const char *user_id_str;   /**< "sub" */
    const char *tenant_id;     /**< "tid" */
    const char *jti;
    apr_int64_t exp;
} cc_identity_t;

/** The principal a handler acts for (mod_cc_tenant): identity + effective tenant + RBAC. */
typedef struct cc_principal_t {
    apr_int64_t user_id;
    const char *user_id_str;
    const char *email;
    const char *home_tenant_id;   /**< the token's tenant */
    const char *tenant_id;        /**< effective tenant (X-Tenant-ID for platform admins) */
    const char *tenant_slug;
    int platform_admin;           /**< holds platform_admin in the platform tenant */
    cc_perm_mask_t permissions;   /**< effective permissions in tenant_id */
} cc_principal_t;

/** principal holds permission name (NULL name: always 1). */
int cc_principal_can(const cc_principal_t *pr, const char *name);

#endif
