/**
 * @file mod_cc_auth.h
 * @brief mod_cc_auth's public API for other modules (optional functions only).
 */
#ifndef MOD_CC_AUTH_H
#define MOD_CC_AUTH_H

#include <httpd.h>
#include <apr_optional.h>
#include "cc_perm.h"

/**
 * The identity the CCBearer check_authn hook proved for this request (walks to the
 * initial request, so ErrorDocument redirects and subrequests see it), or NULL.
 */
APR_DECLARE_OPTIONAL_FN(const cc_identity_t *, cc_auth_identity_get, (request_rec *r));

/**
 * bcrypt hash of password with the configured CCBcryptCost (for modules that create or
 * reset users), allocated in r->pool.
 */
APR_DECLARE_OPTIONAL_FN(apr_status_t, cc_auth_password_hash,
                        (request_rec *r, const char *password, const char **phash));

#endif
