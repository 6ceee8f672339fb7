/*
 * cc_job.c (glue): background jobs as mod_watchdog callbacks.
 *
 * mod_watchdog runs a child-process watchdog's callbacks in a thread of its own.  With
 * singleton set, one child of the node holds the watchdog (the others wait on its
 * mutex), so a job runs once per node per interval.  The first run comes one interval
 * after the child starts, well after mod_dbd's child_init.
 */
#include <httpd.h>
#include <http_core.h>
#include <http_log.h>
#include <apr_optional.h>
#include <apr_strings.h>
#include <mod_watchdog.h>

#include "cc_job.h"
#include "cc_log.h"

typedef struct job_state_t {
    const cc_job_t *job;
    server_rec *s;
} job_state_t;

static apr_status_t job_callback(int state, void *data, apr_pool_t *pool)
{
    job_state_t *st = data;
    apr_pool_t *p;
    cc_db_t *db;
    cc_error_t *err;

    if (state != AP_WATCHDOG_STATE_RUNNING) {
        return APR_SUCCESS;
    }
    /* A pool per run: its cleanup rolls back what the run left open and hands the
     * connection back. */
    if (apr_pool_create(&p, pool) != APR_SUCCESS) {
        return APR_SUCCESS;
    }
    db = cc_db_standalone(p, st->s);
    err = st->job->run(db, st->job->data);
    if (err) {
        cc_db_rollback(db);
        /* A database outage is logged by cc_db already; the next run retries. */
        ap_log_error(APLOG_MARK, err->status == HTTP_SERVICE_UNAVAILABLE ? APLOG_DEBUG
                                                                         : APLOG_WARNING,
                     0, st->s, CCLOGNO(00301) "job %s failed: %s (%s)", st->job->name,
                     err->message, err->code);
    }
    apr_pool_destroy(p);
    /* Never stop the watchdog: the next run may succeed (the database comes back). */
    return APR_SUCCESS;
}

int cc_job_schedule(apr_pool_t *pconf, server_rec *s, const cc_job_t *job,
                    apr_interval_time_t interval)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *get_instance =
        APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *register_callback =
        APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    ap_watchdog_t *wd;
    job_state_t *st;
    apr_status_t rv;

    /* Nothing runs from the configuration's first, trial pass. */
    if (interval <= 0 || ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    if (!get_instance || !register_callback) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, CCLOGNO(00302)
                     "job %s needs mod_watchdog, which is not loaded", job->name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* parent 0: in the children; singleton 1: one child per node. */
    if ((rv = get_instance(&wd, job->name, 0, !job->per_child, pconf)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, CCLOGNO(00303)
                     "job %s: no watchdog instance", job->name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    st = apr_pcalloc(pconf, sizeof(*st));
    st->job = job;
    st->s = s;
    if ((rv = register_callback(wd, interval, st, job_callback)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, CCLOGNO(00304)
                     "job %s: the watchdog refused its callback", job->name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}
