/**
 * @file cc_auth_throttle.c
 * @brief Login throttling: failures per (tenant, email) inside a window, kept in the
 *        login_throttle table so every httpd child and node sees the same count.
 *
 * The key is the tenant id when the login named or resolved one, else '' (an unknown
 * email), and the lowercased email.  login_throttle has no tenant_id column (the key
 * exists before a tenant is known), hence the lint exemptions below.
 *
 * Every unknown email leaves a row; rows whose window has passed count as no row at all,
 * and mod_cc_auth's retention job (cc_auth_retention.c) deletes them.
 *
 * Two more limits keep an unauthenticated client from buying bcrypt time with random
 * emails (each a new key above): failed logins per client address (the same table, key
 * CC_AUTH_ADDR_KEY and the address, IPv6 by /64), and the number of password hashes
 * computed at once in this process (CCBcryptMaxConcurrent).
 */
#include <apr_atomic.h>
#include <apr_strings.h>

#include "cc_auth_private.h"
#include "cc_validate.h"

/* Labels are global across modules: cc_auth_throttle_*. */
static const cc_stmt_t throttle_stmts[] = {
    /* Failures so far and the seconds left in the window (negative once it passed). */
    CC_STMT("cc_auth_throttle_get",
            "SELECT failures, TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), "
            "DATE_ADD(window_start, INTERVAL %s SECOND)) "
            "FROM login_throttle WHERE tenant_key = %s AND email = %s "
            "/* cc-lint: no-tenant keyed by tenant_key (the tenant id, or '' before one "
            "is known) */"),
    /* One more attempt (counted before it is judged; a success deletes the row); a
     * window that has passed restarts at 1.  MariaDB applies the
     * assignments left to right, so failures is computed from the old window_start. */
    CC_STMT("cc_auth_throttle_fail",
            "INSERT INTO login_throttle (tenant_key, email, failures, window_start) "
            "VALUES (%s, %s, 1, UTC_TIMESTAMP()) ON DUPLICATE KEY UPDATE "
            "failures = IF(window_start <= DATE_SUB(UTC_TIMESTAMP(), INTERVAL %s SECOND), "
            "1, failures + 1), "
            "window_start = IF(window_start <= DATE_SUB(UTC_TIMESTAMP(), "
            "INTERVAL %s SECOND), UTC_TIMESTAMP(), window_start) "
            "/* cc-lint: no-tenant keyed by tenant_key (the tenant id, or '' before one "
            "is known) */"),
    /* A success takes its own attempt back from the address's count (the office behind
     * one NAT logs in all morning: only failures may use its budget up). */
    CC_STMT("cc_auth_throttle_uncount",
            "UPDATE login_throttle SET failures = failures - 1 "
            "WHERE tenant_key = %s AND email = %s AND failures > 0 "
            "/* cc-lint: no-tenant keyed by tenant_key (the client address's key) */"),
    CC_STMT("cc_auth_throttle_reset",
            "DELETE FROM login_throttle WHERE tenant_key = %s AND email = %s "
            "/* cc-lint: no-tenant keyed by tenant_key (the tenant id, or '' before one "
            "is known) */"),
    CC_STMT_END
};

/* Is the key over max failures in its window?  *pretry_after = seconds left (>= 1) when
 * it is, else 0. */
static cc_error_t *check_max(cc_ctx_t *ctx, const cc_auth_cfg_t *cfg, int max,
                             const char *tenant_key, const char *email,
                             apr_int64_t *pretry_after)
{
    const char *args[3];
    const char **row = NULL;
    int ncols = 0;
    apr_int64_t failures = 0, left = 0;
    cc_error_t *e;

    *pretry_after = 0;
    args[0] = apr_itoa(ctx->pool, cc_auth_cfg_window(cfg));
    args[1] = tenant_key;
    args[2] = email;
    e = cc_db_select_row(ctx->db, "cc_auth_throttle_get", 3, args, &row, &ncols);
    if (e || !row || ncols < 2 || !row[0] || !row[1]) {
        return e;
    }
    failures = apr_atoi64(row[0]);
    left = apr_atoi64(row[1]);
    /* failures includes the attempt being judged (counted before the check). */
    if (failures > max && left > 0) {
        *pretry_after = left;
    }
    return NULL;
}

/* Count one attempt (restarting the window once it has passed).  Rows whose window has
 * passed are purged by the retention job (cc_auth_retention.c). */
static cc_error_t *count_attempt(cc_ctx_t *ctx, const cc_auth_cfg_t *cfg,
                                 const char *tenant_key, const char *email)
{
    const char *window = apr_itoa(ctx->pool, cc_auth_cfg_window(cfg));
    const char *args[4] = { tenant_key, email, window, window };

    return cc_db_exec(ctx->db, "cc_auth_throttle_fail", 4, args, NULL);
}

cc_error_t *cc_auth_throttle_reset(cc_ctx_t *ctx, const char *tenant_key, const char *email)
{
    const char *args[2] = { tenant_key, email };

    return cc_db_exec(ctx->db, "cc_auth_throttle_reset", 2, args, NULL);
}

/* 429 too_many_requests with Retry-After: seconds. */
static cc_error_t *too_many(cc_ctx_t *ctx, apr_int64_t seconds, const char *message)
{
    apr_table_setn(ctx->r->err_headers_out, "Retry-After",
                   apr_psprintf(ctx->r->pool, "%" APR_INT64_T_FMT, seconds));
    return cc_error_make(ctx->r->pool, HTTP_TOO_MANY_REQUESTS, CC_ERR_TOO_MANY_REQUESTS,
                         "%s", message);
}

/* Count one attempt at the key, then judge it against max. */
static cc_error_t *attempt_max(cc_ctx_t *ctx, const cc_auth_cfg_t *cfg, int max,
                               const char *tenant_key, const char *email,
                               const char *message)
{
    apr_int64_t retry_after;
    cc_error_t *e;

    /* Counted first (one atomic upsert) and judged after, so concurrent guesses each see
     * the others: a burst cannot exceed the maximum while the first ones are still
     * hashing.  Autocommit: a refusal has nothing to roll back. */
    if ((e = count_attempt(ctx, cfg, tenant_key, email)) != NULL
        || (e = check_max(ctx, cfg, max, tenant_key, email, &retry_after)) != NULL) {
        return e;
    }
    return retry_after > 0 ? too_many(ctx, retry_after, message) : NULL;
}

cc_error_t *cc_auth_throttle_attempt(cc_ctx_t *ctx, const cc_auth_cfg_t *cfg,
                                     const char *tenant_key, const char *email,
                                     const char *message)
{
    return attempt_max(ctx, cfg, cc_auth_cfg_max_failures(cfg), tenant_key, email, message);
}

/* The client address's key, or NULL when httpd gave none we can read (then only the
 * per-account and per-process limits apply). */
static const char *addr_key(cc_ctx_t *ctx)
{
    return cc_client_addr_key(ctx->r->pool, ctx->r->useragent_ip);
}

cc_error_t *cc_auth_throttle_address(cc_ctx_t *ctx, const cc_auth_cfg_t *cfg)
{
    const char *key = addr_key(ctx);

    return key ? attempt_max(ctx, cfg, cc_auth_cfg_addr_max_failures(cfg), CC_AUTH_ADDR_KEY,
                             key, "too many failed logins from this address; try again "
                             "later")
               : NULL;
}

cc_error_t *cc_auth_throttle_address_success(cc_ctx_t *ctx)
{
    const char *args[2] = { CC_AUTH_ADDR_KEY, addr_key(ctx) };

    return args[1] ? cc_db_exec(ctx->db, "cc_auth_throttle_uncount", 2, args, NULL) : NULL;
}

/* ---- password hashes at once in this process ----
 * One counter per process (threads of a child share it; children and nodes each have
 * their own, which is the point: it bounds the CPU one child spends on bcrypt). */
static volatile apr_uint32_t bcrypt_busy;

cc_error_t *cc_auth_bcrypt_enter(cc_ctx_t *ctx, const cc_auth_cfg_t *cfg)
{
    if (apr_atomic_inc32(&bcrypt_busy) >= (apr_uint32_t)cc_auth_cfg_bcrypt_max(cfg)) {
        apr_atomic_dec32(&bcrypt_busy);
        return too_many(ctx, 1, "the server is busy checking passwords; try again in a "
                        "second");
    }
    return NULL;
}

void cc_auth_bcrypt_leave(void)
{
    apr_atomic_dec32(&bcrypt_busy);
}

/* Statements only: the login and password routes (cc_auth_login.c) count and judge. */
const cc_domain_t cc_auth_throttle_domain = { "auth_throttle", NULL, throttle_stmts, NULL,
                                              NULL, NULL };
