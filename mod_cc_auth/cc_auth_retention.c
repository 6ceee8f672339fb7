/**
 * @file cc_auth_retention.c
 * @brief The retention job: a mod_watchdog job (shared/cc_job.h) that purges what the
 *        auth routes leave behind and nothing reads any more.
 *
 * - refresh token families whose every token expired longer than
 *   CC_AUTH_RETENTION_GRACE (a day) ago, whole.  A family is purged only when all of it
 *   is dead: a rotated token of a family that is still being refreshed (perhaps by a
 *   thief) must stay, since presenting it again revokes the family (reuse detection in
 *   cc_auth_login.c needs the row) however long ago it expired itself.
 * - login_throttle rows whose window has passed (they count as no row at all,
 *   cc_auth_throttle.c), by the longest CCLoginWindow of any server so that no vhost
 *   loses a live window.
 * - Idempotency-Key rows (sql/027) older than the longest CCIdempotencyHours of any
 *   server (mod_cc_tenant; older ones are ignored already, shared/cc_idem.c).
 *
 * Dead families are found a batch (RETENTION_BATCH) at a time by a plain read and
 * deleted one family per statement, so a run locks only a dead family's rows (which
 * only a user's revocation of all their sessions may also write; a rare lock conflict
 * fails that run's batch, logged at info, and the next run goes on); throttle rows go
 * RETENTION_BATCH at a time (autocommit: locks are held for one batch only).  Either
 * is repeated until a batch comes back short, at most
 * RETENTION_MAX_BATCHES times a run (the next run goes on).  Deleting twice is harmless,
 * so several nodes may run the job at once.  Every interval (CCAuthRetentionInterval of
 * the main server, default an hour; 0 disables it) in one child per node.
 */
#include <apr_strings.h>
#include <http_protocol.h>

#include "cc_auth_private.h"
#include "cc_job.h"
#include "mod_cc_tenant.h"

#define RETENTION_BATCH 1000
#define RETENTION_MAX_BATCHES 100

/* Labels are global across modules: cc_auth_retention_*.  Both cross tenants by design:
 * expired rows of every tenant go, and none of them is live. */
static const cc_stmt_t retention_stmts[] = {
    /* A batch of dead families, by a plain read: no lock on the live ones a login, a
     * refresh or a revocation writes meanwhile. */
    CC_STMT("cc_auth_retention_dead_families",
            "SELECT tenant_id, family_id FROM refresh_tokens GROUP BY tenant_id, family_id"
            " HAVING MAX(expires_at) < DATE_SUB(UTC_TIMESTAMP(), INTERVAL %s SECOND)"
            " LIMIT " APR_STRINGIFY(RETENTION_BATCH) " "
            "/* cc-lint: no-tenant housekeeping across tenants: families whose every "
            "token expired longer than the grace ago, none of which can refresh */"),
    /* One family, through its index: only its own rows are locked.  A dead family gets
     * no new token (none of its tokens can refresh), so it is still dead here. */
    CC_STMT("cc_auth_retention_family",
            "DELETE FROM refresh_tokens WHERE tenant_id = %s AND family_id = %s"),
    CC_STMT("cc_auth_retention_throttle",
            "DELETE FROM login_throttle "
            "WHERE window_start < DATE_SUB(UTC_TIMESTAMP(), INTERVAL %s SECOND) "
            "LIMIT " APR_STRINGIFY(RETENTION_BATCH) " "
            "/* cc-lint: no-tenant housekeeping across all keys: rows whose window has "
            "passed, none of which is live */"),
    CC_STMT("cc_auth_retention_idempotency",
            "DELETE FROM idempotency_keys"
            " WHERE created_at < DATE_SUB(UTC_TIMESTAMP(), INTERVAL %s HOUR)"
            " LIMIT " APR_STRINGIFY(RETENTION_BATCH)
            " /* cc-lint: no-tenant expired keys of every tenant */"),
    CC_STMT_END
};

/* Statements only: the job below runs them. */
const cc_domain_t cc_auth_retention_domain = {
    "auth_retention", NULL, retention_stmts, NULL, NULL, NULL
};

/* What a run needs, fixed at post_config (in pconf). */
typedef struct retention_t {
    const char *grace;        /**< CC_AUTH_RETENTION_GRACE as text */
    const char *window;       /**< the longest CCLoginWindow, as text */
    const char *idem_hours;   /**< the longest CCIdempotencyHours, as text */
} retention_t;

/* Dead refresh-token families, a batch at a time, one family per statement; *pn +=
 * tokens deleted. */
static cc_error_t *purge_families(cc_db_t *db, const char *grace, int *pn)
{
    static const cc_col_t cols[] = { { "t", CC_COL_STR }, { "f", CC_COL_STR }, CC_COL_END };
    const char *args[1] = { grace };
    int batch;

    for (batch = 0; batch < RETENTION_MAX_BATCHES; batch++) {
        json_t *families, *fam;
        cc_error_t *err = cc_db_select(db, "cc_auth_retention_dead_families", cols, 1, args,
                                       &families, NULL);
        size_t i;

        if (err) {
            return err;
        }
        json_array_foreach(families, i, fam) {
            const char *one[2] = { cc_json_str(fam, "t"), cc_json_str(fam, "f") };
            int nrows = 0;

            if ((err = cc_db_exec(db, "cc_auth_retention_family", 2, one, &nrows))) {
                return err;
            }
            *pn += nrows;
        }
        if (json_array_size(families) < RETENTION_BATCH) {
            break;
        }
    }
    return NULL;
}

/* Run label (binding arg) batch after batch until one is short; *pn += rows deleted. */
static cc_error_t *purge(cc_db_t *db, const char *label, const char *arg, int *pn)
{
    const char *args[1] = { arg };
    int batch;

    for (batch = 0; batch < RETENTION_MAX_BATCHES; batch++) {
        int nrows = 0;
        cc_error_t *err = cc_db_exec(db, label, 1, args, &nrows);

        if (err) {
            return err;
        }
        *pn += nrows;
        if (nrows < RETENTION_BATCH) {
            break;
        }
    }
    return NULL;
}

static cc_error_t *retention_run(cc_db_t *db, void *data)
{
    const retention_t *rt = data;
    int tokens = 0, throttle = 0, keys = 0;
    cc_error_t *err;

    err = purge_families(db, rt->grace, &tokens);
    if (!err) {
        err = purge(db, "cc_auth_retention_throttle", rt->window, &throttle);
    }
    if (!err) {
        err = purge(db, "cc_auth_retention_idempotency", rt->idem_hours, &keys);
    }
    if (tokens || throttle || keys) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, db->s, CCLOGNO(01015)
                     "retention: deleted %d expired refresh token(s), %d login "
                     "throttle row(s) and %d Idempotency-Key(s)", tokens, throttle, keys);
    }
    /* A database outage is logged once by cc_db; cc_job then logs only at debug. */
    return err;
}

int cc_auth_retention_schedule(apr_pool_t *pconf, server_rec *s)
{
    int interval = cc_auth_cfg_retention_interval(cc_auth_cfg(s));
    int window = 0;
    apr_int64_t hours = 24;
    APR_OPTIONAL_FN_TYPE(cc_tenant_platform_cfg) *platform =
        APR_RETRIEVE_OPTIONAL_FN(cc_tenant_platform_cfg);
    retention_t *rt;
    cc_job_t *job;
    server_rec *sp;

    if (interval <= 0) {
        return OK;
    }
    for (sp = s; sp; sp = sp->next) {
        int w = cc_auth_cfg_window(cc_auth_cfg(sp));

        if (w > window) {
            window = w;
        }
        if (platform && CC_IDEMPOTENCY_HOURS(platform(sp)) > hours) {
            hours = CC_IDEMPOTENCY_HOURS(platform(sp));
        }
    }
    rt = apr_pcalloc(pconf, sizeof(*rt));
    rt->grace = apr_itoa(pconf, CC_AUTH_RETENTION_GRACE);
    rt->window = apr_itoa(pconf, window);
    rt->idem_hours = apr_psprintf(pconf, "%" APR_INT64_T_FMT, hours);
    job = apr_pcalloc(pconf, sizeof(*job));
    job->name = "cc-auth-retention";
    job->run = retention_run;
    job->data = rt;
    return cc_job_schedule(pconf, s, job, apr_time_from_sec(interval));
}
