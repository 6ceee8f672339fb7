/**
 * @file cc_route.h
 * @brief (core) Route tables with {name} captures, 404 vs 405 + Allow.
 *
 * Patterns are full paths ("/api/v1/users/{id:int}"); a {name} segment matches one
 * non-empty path segment, a typed one only a segment of its type: {name:int} an id
 * (1 to 2^53 - 1, canonical decimal), {name:uuid} a canonical UUID.  A path whose capture
 * does not fit matches no route (404), so handlers see only well-formed captures.
 * Tables end with an entry whose method is NULL.
 */
#ifndef CC_ROUTE_H
#define CC_ROUTE_H

#include <apr_pools.h>

struct cc_ctx_t;
struct cc_error_t;

/**
 * A handler returns an error (the dispatcher rolls back any open transaction and sends
 * the envelope) or NULL after recording its reply (cc_reply_*), see cc_http.h.
 */
typedef struct cc_error_t *(*cc_handler_fn)(struct cc_ctx_t *ctx);

/** Route flags. */
#define CC_ROUTE_AUTH    0   /**< needs the principal (token + active tenant) */
#define CC_ROUTE_PUBLIC  1   /**< no principal needed (login, healthz) */
/** Its answer holds a secret shown once (a generated password, a rotated key): an
 *  Idempotency-Key keeps no copy of it (a retry is told 409), cc_idem.c. */
#define CC_ROUTE_SECRET  2
/** A GET whose handler sends a file or a stream itself (cc_reply_sent), not a JSON
 *  representation: the writes of its path check no If-Match against it (cc_http.c). */
#define CC_ROUTE_STREAM  4

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

/**
 * NULL when pattern is well formed (starts with '/', no empty segment, captures named,
 * each type known), else what is wrong with it; for the start-up check of route tables.
 */
const char *cc_route_check_pattern(const char *pattern);

/**
 * Whether path lies in the path space of the tables: its first segment is the first
 * segment of some pattern ("/api/v2/x" and "/api" are in the space of "/api/v1/users",
 * "/apix" and "/" are not).  httpd's own error responses there are JSON (cc_http.h,
 * cc_http_guard_register).
 */
int cc_route_in_space(const cc_route_t *const *tables, const char *path);

/**
 * The path of a request line's target ("GET /api/v1/users?x HTTP/1.1" -> "/api/v1/users"),
 * for a line httpd could not parse (one over LimitRequestLine is cut short): leading
 * blanks and the method are skipped, an absolute-form target loses its scheme and
 * authority, the query and anything after the target are dropped.  NULL when the line
 * has no target that starts a path.
 */
const char *cc_route_line_path(apr_pool_t *p, const char *line);

/** Value of capture name, or NULL. */
const char *cc_route_param(const cc_route_match_t *m, const char *name);

#endif
