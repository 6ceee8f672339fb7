/**
 * @file cc_cors.h
 * @brief (core) CORS (the Fetch standard's cross-origin requests): which origins are
 *        well formed, whether one is listed, and which request headers a route's methods
 *        accept in a preflight.  Used by the API (CCCorsOrigins, cc_http.c) and by the
 *        chat widget's public routes (their widget's allowed_origins, mod_cc_chat).
 *        No httpd: unit-tested (t/unit/test_cc_cors.c).
 */
#ifndef CC_CORS_H
#define CC_CORS_H

#include <apr_pools.h>
#include <apr_tables.h>

/** The longest origin taken (a serialised origin: scheme, host, port). */
#define CC_CORS_ORIGIN_MAX 255
/** The response headers a cross-origin caller may read besides the CORS-safelisted ones. */
#define CC_CORS_EXPOSE_HEADERS \
    "Location, Retry-After, X-Request-ID, ETag, RateLimit, RateLimit-Policy, " \
    "Idempotent-Replayed"
/** How long a browser may keep a preflight's answer (seconds). */
#define CC_CORS_MAX_AGE "600"

/**
 * An origin as browsers send it: "http" or "https", "://", a host of letters, digits,
 * '-' and '.' (or a bracketed IPv6 address), an optional port 1..65535, nothing after;
 * at most CC_CORS_ORIGIN_MAX characters.  *pnorm (may be NULL): lower-cased.
 */
int cc_cors_origin_valid(apr_pool_t *p, const char *origin, const char **pnorm);

/** Whether origin (as sent; compared without case) is one of origins (const char *). */
int cc_cors_origin_listed(const apr_array_header_t *origins, const char *origin);

/**
 * The request headers a caller may send to a route with these methods (an Allow list,
 * "GET, PATCH, DELETE"), for Access-Control-Allow-Headers: Authorization, X-Request-ID
 * and X-Tenant-ID always; Content-Type with a body (POST, PUT, PATCH); Idempotency-Key
 * with POST; If-Match with PUT, PATCH or DELETE; If-None-Match and Last-Event-ID with
 * GET.  Methods unknown here add nothing.
 */
const char *cc_cors_allow_headers(apr_pool_t *p, const char *methods);

#endif
