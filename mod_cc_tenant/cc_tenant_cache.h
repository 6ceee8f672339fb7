/**
 * @file cc_tenant_cache.h
 * @brief (core) The per-process principal cache: what one (user, home tenant) pair
 *        resolves to, kept for a short TTL so a request costs no database round trip
 *        for RBAC.
 *
 * Thread-safe (one apr_thread_mutex), bounded (expired entries go first, then the
 * oldest), clock passed in by the caller so tests control time.  Values are copied in
 * on put and copied out into the caller's pool on get: nothing handed out points into
 * the cache.  No httpd headers: unit-tested directly.
 */
#ifndef CC_TENANT_CACHE_H
#define CC_TENANT_CACHE_H

#include <apr_pools.h>
#include <apr_time.h>
#include <apr_errno.h>
#include "cc_perm.h"

/** Longest key and strings an entry can hold (longer ones are not cached). */
#define CC_TENANT_CACHE_KEY_MAX     95   /* user id (20) + '|' + tenant uuid (36) */
#define CC_TENANT_CACHE_EMAIL_MAX  254
#define CC_TENANT_CACHE_SLUG_MAX    63
#define CC_TENANT_CACHE_STATUS_MAX  15

/** Default bound on entries per process. */
#define CC_TENANT_CACHE_DEFAULT_MAX 10000

typedef struct cc_tenant_cache_t cc_tenant_cache_t;

/** What a principal lookup found; strings are NUL-terminated. */
typedef struct cc_tenant_cache_value_t {
    const char *user_status;     /**< "active" | "disabled" */
    const char *tenant_status;   /**< "active" | "suspended" | "deleted" */
    const char *email;
    const char *tenant_slug;
    cc_perm_mask_t permissions;  /**< BIT_OR of the user's roles in the home tenant */
    int platform_admin;          /**< holds the built-in platform_admin role (the caller
                                      also checks the home tenant is the platform's) */
    apr_uint32_t generation;     /**< the tenant's generation read before the lookup
                                      (cc_tenant_gen_read): stale once it moved on */
} cc_tenant_cache_value_t;

/**
 * Create a cache holding at most max_entries (0 = CC_TENANT_CACHE_DEFAULT_MAX) in a
 * subpool of p; destroyed with p.  Call once per process before threads use it
 * (child_init).
 */
apr_status_t cc_tenant_cache_create(apr_pool_t *p, apr_size_t max_entries,
                                    cc_tenant_cache_t **pcache);

/**
 * Look key up at time now.  On a live hit copy the value into p (*out) and return 1;
 * return 0 on a miss or an expired entry (which is dropped).
 */
int cc_tenant_cache_get(cc_tenant_cache_t *c, const char *key, apr_time_t now,
                        apr_pool_t *p, cc_tenant_cache_value_t *out);

/**
 * Store (or replace) key -> v until now + ttl.  ttl <= 0 stores nothing (the cache is
 * off); APR_EINVAL when the key or a string is too long to cache.
 */
apr_status_t cc_tenant_cache_put(cc_tenant_cache_t *c, const char *key,
                                 const cc_tenant_cache_value_t *v, apr_time_t now,
                                 apr_interval_time_t ttl);

/** Drop key if present. */
void cc_tenant_cache_remove(cc_tenant_cache_t *c, const char *key);

/** Entries currently held (live or not yet purged). */
apr_size_t cc_tenant_cache_count(cc_tenant_cache_t *c);

/**
 * Node-wide invalidation.  Every process of a node (httpd's children) shares an array of
 * CC_TENANT_GEN_SLOTS counters (shared memory made by the parent); a tenant's counter is
 * the slot its id hashes to.  A write that changes who may do what in a tenant (a user's
 * status, roles or deletion, a role's permissions, the tenant's status) bumps it after
 * its commit; a lookup reads it before going to the database and stores it with the
 * value; a cached value whose generation is no longer the slot's is stale.  Tenants
 * sharing a slot only cost each other a cache miss.  slots may be NULL (no cache).
 */
#define CC_TENANT_GEN_SLOTS 4096
apr_uint32_t cc_tenant_gen_read(apr_uint32_t *slots, const char *tenant_id);
void cc_tenant_gen_bump(apr_uint32_t *slots, const char *tenant_id);

/** The cache key for a user id and its home tenant id, in p. */
const char *cc_tenant_cache_key(apr_pool_t *p, const char *user_id, const char *tenant_id);

#endif
