/**
 * @file cc_auth_jwt.h
 * @brief (core) Access tokens: issue and verify HS256 JWTs with libjwt 1.10, parse the
 *        Authorization header.  No httpd here, so the unit tests link it directly.
 *
 * libjwt 1.10 only checks the signature (and accepts HS384/HS512 signed with the same
 * secret, and expired tokens), so every claim check is done here.
 */
#ifndef CC_AUTH_JWT_H
#define CC_AUTH_JWT_H

#include <apr_pools.h>
#include <apr_errno.h>
#include "cc_perm.h"

/** Clock skew tolerated on exp (after) and nbf/iat (before), in seconds, unless
 *  CCAuthClockSkew says otherwise; at most CC_AUTH_JWT_LEEWAY_MAX. */
#define CC_AUTH_JWT_LEEWAY      30
#define CC_AUTH_JWT_LEEWAY_MAX  300
/** Longest token accepted in a header (ours are ~300 bytes). */
#define CC_AUTH_JWT_MAX_LEN     4096
/** Shortest HS256 secret accepted (bytes). */
#define CC_AUTH_JWT_MIN_KEY_LEN 32

/** What an Authorization header held. */
typedef enum {
    CC_AUTH_BEARER_NONE = 0,   /**< no header, or another scheme (not ours) */
    CC_AUTH_BEARER_MALFORMED,  /**< "Bearer" with a missing or ill-formed token */
    CC_AUTH_BEARER_OK          /**< *ptoken is the token */
} cc_auth_bearer_e;

/**
 * Parse "Bearer <token>": scheme case-insensitive, exactly one space, token of
 * [A-Za-z0-9._-], 1..CC_AUTH_JWT_MAX_LEN chars.  header may be NULL.
 */
cc_auth_bearer_e cc_auth_bearer_parse(const char *header, const char **ptoken);

/**
 * Verify an access token and return its identity (allocated in p).
 *
 * Checks, in order: decode with key (signature), alg == HS256 (none and every other
 * alg rejected), exp present, integral and > now - leeway, nbf/iat (when present)
 * integral and <= now + leeway, iss == issuer, sub a string holding a positive decimal
 * id, tid a string holding a canonical UUID, jti (optional) a string.
 *
 * @param leeway   the clock skew tolerated, seconds (CCAuthClockSkew)
 * @param pid      receives the identity on success
 * @param preason  receives a short static reason on failure (safe to show clients:
 *                 it never contains token material)
 * @return APR_SUCCESS, or APR_EINVAL when the token is not acceptable, APR_ENOMEM
 */
apr_status_t cc_auth_jwt_verify(apr_pool_t *p, const unsigned char *key, apr_size_t keylen,
                                const char *issuer, apr_int64_t now, apr_int64_t leeway,
                                const char *token, const cc_identity_t **pid,
                                const char **preason);

/**
 * Issue an HS256 access token with claims sub, tid, iss, iat = now, exp = now + ttl and
 * jti (the given one, or a random one when jti is NULL).  *ptoken is allocated in p.
 */
apr_status_t cc_auth_jwt_issue(apr_pool_t *p, const unsigned char *key, apr_size_t keylen,
                               const char *issuer, apr_int64_t now, apr_int64_t ttl,
                               const char *sub, const char *tid, const char *jti,
                               const char **ptoken);

/**
 * Read a key file's content: one trailing "\n" (or "\r\n") stripped, at least
 * CC_AUTH_JWT_MIN_KEY_LEN bytes.  On failure *perr is a message for the admin (it
 * names the file, never the content).
 */
apr_status_t cc_auth_jwt_load_key(apr_pool_t *p, const char *path,
                                  const unsigned char **pkey, apr_size_t *pkeylen,
                                  const char **perr);

#endif
