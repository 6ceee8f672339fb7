/**
 * @file cc_auth_private.h
 * @brief mod_cc_auth internals shared by its files (not a public contract).
 */
#ifndef CC_AUTH_PRIVATE_H
#define CC_AUTH_PRIVATE_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "cc_db.h"
#include "cc_domain.h"
#include "cc_http.h"
#include "cc_log.h"
#include "cc_perm.h"
#include "mod_cc_auth.h"
#include "mod_cc_tenant.h"

/* mod_cc_auth.c gets the same from AP_DECLARE_MODULE (defining it twice is an error). */
#ifndef CC_AUTH_MODULE_FILE
APLOG_USE_MODULE(cc_auth);
#endif
extern module AP_MODULE_DECLARE_DATA cc_auth_module;

/** "Not set in this server's config": the getters then answer the default. */
#define CC_AUTH_UNSET (-1)

#define CC_AUTH_ISSUER_DEFAULT          "callcenter"
#define CC_AUTH_ACCESS_TTL_DEFAULT      900
#define CC_AUTH_REFRESH_TTL_DEFAULT     2592000
#define CC_AUTH_MAX_FAILURES_DEFAULT    5
#define CC_AUTH_WINDOW_DEFAULT          900
#define CC_AUTH_BCRYPT_COST_DEFAULT     12
#define CC_AUTH_BCRYPT_COST_MIN         4
#define CC_AUTH_BCRYPT_COST_MAX         31
/** CCRefreshFamilyMaxAge: a login's refresh tokens stop at 90 days, rotations or not. */
#define CC_AUTH_FAMILY_MAX_AGE_DEFAULT  7776000
/** CCRefreshReuseLeeway: a token rotated this many seconds ago may still give a sibling
 *  successor (a few times: cc_auth_login.c REFRESH_LEEWAY_USES_MAX). */
#define CC_AUTH_REUSE_LEEWAY_DEFAULT    10
#define CC_AUTH_REUSE_LEEWAY_MAX        300
/** CCLoginAddressMaxFailures: failed logins per client address in CCLoginWindow. */
#define CC_AUTH_ADDR_MAX_FAILURES_DEFAULT 100
/** CCBcryptMaxConcurrent: bcrypt computations at once in one httpd child. */
#define CC_AUTH_BCRYPT_MAX_DEFAULT      4
/** CCAuthRetentionInterval: an hourly purge; 0 disables the job. */
#define CC_AUTH_RETENTION_INTERVAL_DEFAULT 3600
/** How long an expired refresh token is kept (s): presented again within a day of its
 *  expiry, a rotated token still revokes its family (reuse detection needs the row). */
#define CC_AUTH_RETENTION_GRACE         86400

/** Body cap of the /api/v1/auth routes (credentials are small). */
#define CC_AUTH_MAX_BODY (64 * 1024)

/** Server config.  Every field is unset (NULL / CC_AUTH_UNSET) until a directive sets it;
 *  read them through the getters below, which apply the defaults. */
typedef struct cc_auth_cfg_t {
    const char *key_file;          /**< CCAuthJWTKeyFile, resolved path */
    const unsigned char *key;      /**< its content (never logged) */
    apr_size_t keylen;
    const char *issuer;            /**< CCAuthIssuer */
    apr_int64_t access_ttl;        /**< CCAccessTokenTTL, seconds */
    apr_int64_t refresh_ttl;       /**< CCRefreshTokenTTL, seconds */
    int max_failures;              /**< CCLoginMaxFailures */
    int window;                    /**< CCLoginWindow, seconds */
    int bcrypt_cost;               /**< CCBcryptCost */
    int retention_interval;        /**< CCAuthRetentionInterval, seconds (main server) */
    int clock_skew;                /**< CCAuthClockSkew, seconds */
    apr_int64_t family_max_age;    /**< CCRefreshFamilyMaxAge, seconds */
    int reuse_leeway;              /**< CCRefreshReuseLeeway, seconds */
    int addr_max_failures;         /**< CCLoginAddressMaxFailures */
    int bcrypt_max;                /**< CCBcryptMaxConcurrent (per process) */
    /** Made in post_config: verified against when a login names no existing user, so a
     *  wrong email costs the same bcrypt time as a wrong password. */
    const char *dummy_hash;
} cc_auth_cfg_t;

/* ---- cc_auth_config.c ---- */
extern const command_rec cc_auth_cmds[];
void *cc_auth_create_server_config(apr_pool_t *p, server_rec *s);
void *cc_auth_merge_server_config(apr_pool_t *p, void *basev, void *addv);
cc_auth_cfg_t *cc_auth_cfg(const server_rec *s);
const char *cc_auth_cfg_issuer(const cc_auth_cfg_t *c);
apr_int64_t cc_auth_cfg_access_ttl(const cc_auth_cfg_t *c);
apr_int64_t cc_auth_cfg_refresh_ttl(const cc_auth_cfg_t *c);
int cc_auth_cfg_max_failures(const cc_auth_cfg_t *c);
int cc_auth_cfg_window(const cc_auth_cfg_t *c);
int cc_auth_cfg_bcrypt_cost(const cc_auth_cfg_t *c);
int cc_auth_cfg_retention_interval(const cc_auth_cfg_t *c);
int cc_auth_cfg_clock_skew(const cc_auth_cfg_t *c);
apr_int64_t cc_auth_cfg_family_max_age(const cc_auth_cfg_t *c);
int cc_auth_cfg_reuse_leeway(const cc_auth_cfg_t *c);
int cc_auth_cfg_addr_max_failures(const cc_auth_cfg_t *c);
int cc_auth_cfg_bcrypt_max(const cc_auth_cfg_t *c);
/** post_config: key present, dummy hash made; returns OK or a startup error. */
int cc_auth_config_check(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);

/* ---- cc_auth_login.c ---- */
/** mod_cc_tenant's principal getter (NULL when mod_cc_tenant is not loaded). */
void cc_auth_login_set_principal_fn(APR_OPTIONAL_FN_TYPE(cc_tenant_principal_get) *fn);

/* ---- cc_auth_throttle.c ---- */
/**
 * Count one attempt at (tenant_key, email) and judge it: NULL when it may go on (to
 * bcrypt), else 429 too_many_requests with message and Retry-After.  A success must
 * then call cc_auth_throttle_reset.
 */
cc_error_t *cc_auth_throttle_attempt(cc_ctx_t *ctx, const cc_auth_cfg_t *cfg,
                                     const char *tenant_key, const char *email,
                                     const char *message);
/** The login_throttle tenant_key of per-address counts (no tenant id or '' is one). */
#define CC_AUTH_ADDR_KEY "*address"
/**
 * Count one login attempt from the client's address (r->useragent_ip; IPv6 per /64) and
 * judge it against CCLoginAddressMaxFailures in CCLoginWindow: NULL or 429 with
 * Retry-After.  A success must call cc_auth_throttle_address_success.
 */
cc_error_t *cc_auth_throttle_address(cc_ctx_t *ctx, const cc_auth_cfg_t *cfg);
/** A successful login takes its attempt back from the address's count. */
cc_error_t *cc_auth_throttle_address_success(cc_ctx_t *ctx);
/**
 * Take one of this process's CCBcryptMaxConcurrent password-hash slots: NULL (then call
 * cc_auth_bcrypt_leave when the hashing is done) or 429 with Retry-After: 1.
 */
cc_error_t *cc_auth_bcrypt_enter(cc_ctx_t *ctx, const cc_auth_cfg_t *cfg);
void cc_auth_bcrypt_leave(void);
/** Forget the failures after a successful login. */
cc_error_t *cc_auth_throttle_reset(cc_ctx_t *ctx, const char *tenant_key, const char *email);

/* ---- cc_auth_retention.c ---- */
/** post_config: schedule the retention job every CCAuthRetentionInterval of the main
 *  server (nothing when it is 0); OK or a start-up error. */
int cc_auth_retention_schedule(apr_pool_t *pconf, server_rec *s);

#endif
