/**
 * @file cc_route.h
 * @brief (core) Route tables with {name} captures, 404 vs 405 + Allow.
 *
 * Patterns are full paths ("/api/v1/users/{id}"); a {name} segment matches one
 * non-empty path segment.  Tables end with an entry whose method is NULL.
 */
#ifndef CC_ROUTE_H
#define CC_ROUTE_H

#include <apr_pools.h>

struct request_rec;
struct cc_ctx_t;

typedef int (*cc_handler_fn)(struct request_rec *r, struct cc_ctx_t *ctx);

/** Route flags. */
#define CC_ROUTE_AUTH    0   /**< needs the principal (token + active tenant) */
#define CC_ROUTE_PUBLIC  1   /**< no principal needed (login, healthz) */

typedef struct cc_route_t {
    const char *method;       /**< "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *pattern;      /**< "/api/v1/users/{id}" */
    cc_handler_fn handler;
    const char *permission;   /**< permission required, NULL = any principal */
    int flags;                /**< CC_ROUTE_* */
} cc_route_t;

#define CC_ROUTE_MAX_PARAMS 4

typedef struct cc_route_match_t {
    const cc_route_t *route;
    int nparams;
    const char *names[CC_ROUTE_MAX_PARAMS];
    const char *values[CC_ROUTE_MAX_PARAMS];
} cc_route_match_t;

typedef enum {
    CC_ROUTE_FOUND = 0,
    CC_ROUTE_NOT_FOUND,
    CC_ROUTE_METHOD_NOT_ALLOWED
} cc_route_result_e;

/**
 * Match method+path against a NULL-terminated list of route tables.
 * FOUND fills *m; METHOD_NOT_ALLOWED sets *pallow ("GET, PATCH, DELETE").
 */
cc_route_result_e cc_route_match(apr_pool_t *p, const cc_route_t *const *tables,
                                 const char *method, const char *path,
                                 cc_route_match_t *m, const char **pallow);

/** Value of capture name, or NULL. */
const char *cc_route_param(const cc_route_match_t *m, const char *name);

#endif
