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
 */
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
    CC_STMT("cc_auth_throttle_reset",
            "DELETE FROM login_throttle WHERE tenant_key = %s AND email = %s "
            "/* cc-lint: no-tenant keyed by tenant_key (the tenant id, or '' before one "
            "is known) */"),
    CC_STMT_END
};

cc_error_t *cc_auth_throttle_check(cc_ctx_t *ctx, const cc_auth_cfg_t *cfg,
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
    if (failures > cc_auth_cfg_max_failures(cfg) && left > 0) {
        *pretry_after = left;
    }
    return NULL;
}

cc_error_t *cc_auth_throttle_fail(cc_ctx_t *ctx, const cc_auth_cfg_t *cfg,
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

cc_error_t *cc_auth_throttle_attempt(cc_ctx_t *ctx, const cc_auth_cfg_t *cfg,
                                     const char *tenant_key, const char *email,
                                     const char *message)
{
    apr_int64_t retry_after;
    cc_error_t *e;

    /* Counted first (one atomic upsert) and judged after, so concurrent guesses each see
     * the others: a burst cannot exceed CCLoginMaxFailures while the first ones are still
     * hashing.  Autocommit: a refusal has nothing to roll back. */
    if ((e = cc_auth_throttle_fail(ctx, cfg, tenant_key, email)) != NULL
        || (e = cc_auth_throttle_check(ctx, cfg, tenant_key, email, &retry_after)) != NULL) {
        return e;
    }
    if (retry_after <= 0) {
        return NULL;
    }
    apr_table_setn(ctx->r->err_headers_out, "Retry-After",
                   apr_psprintf(ctx->r->pool, "%" APR_INT64_T_FMT, retry_after));
    return cc_error_make(ctx->r->pool, HTTP_TOO_MANY_REQUESTS, CC_ERR_TOO_MANY_REQUESTS,
                         "%s", message);
}

/* Statements only: the login and password routes (cc_auth_login.c) count and judge. */
const cc_domain_t cc_auth_throttle_domain = { "auth_throttle", NULL, throttle_stmts, NULL,
                                              NULL, NULL };
