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
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <mod_watchdog.h>

#include "cc_crypto.h"
#include "cc_job.h"
#include "cc_log.h"
#include "cc_metrics.h"

/*
 * A child's exit destroys pchild, and with it mod_dbd's connection pools, while the
 * watchdog's thread lives on: mod_watchdog makes it on a pool of the process and joins
 * it only at exit.  So each job of the child has a guard: a run starts only while the
 * child is not stopping, and pchild's first cleanup (cc_job_child_init) marks it stopping
 * and waits for a run in progress to end, its connection handed back.  The guard's mutex
 * lives in a pool nothing destroys (the process's exit returns it).
 */
typedef struct job_state_t {
    const cc_job_t *job;
    server_rec *s;
    apr_thread_mutex_t *mu;        /* made in the child (cc_job_child_init) */
    apr_thread_cond_t *cond;
    int running;
    int stopping;
} job_state_t;

/* This module's jobs of this configuration cycle (each module links its own copy of this
 * file): written in post_config, before any child exists; read in the children. */
static apr_array_header_t *module_jobs;

static apr_status_t job_stop(void *data)
{
    job_state_t *st = data;

    apr_thread_mutex_lock(st->mu);
    st->stopping = 1;
    while (st->running) {
        apr_thread_cond_wait(st->cond, st->mu);
    }
    apr_thread_mutex_unlock(st->mu);
    /* A pre-cleanup of pchild: mod_dbd's pools are still there. */
    if (st->job->stop) {
        apr_pool_t *p;

        if (apr_pool_create(&p, NULL) == APR_SUCCESS) {
            cc_db_t *db = cc_db_standalone(p, st->s);
            cc_error_t *err = st->job->stop(db, st->job->data);

            if (err) {
                cc_db_rollback(db);
                ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, st->s, CCLOGNO(00306)
                             "job %s: its stop failed: %s", st->job->name, err->message);
            }
            apr_pool_destroy(p);
        }
    }
    return APR_SUCCESS;
}

void cc_job_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_pool_t *guards;
    int i;

    if (!module_jobs || module_jobs->nelts == 0
        || apr_pool_create_unmanaged_ex(&guards, NULL, NULL) != APR_SUCCESS) {
        return;
    }
    for (i = 0; i < module_jobs->nelts; i++) {
        job_state_t *st = APR_ARRAY_IDX(module_jobs, i, job_state_t *);

        if (apr_thread_mutex_create(&st->mu, APR_THREAD_MUTEX_DEFAULT, guards)
            != APR_SUCCESS
            || apr_thread_cond_create(&st->cond, guards) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, CCLOGNO(00305)
                         "job %s: no guard; it will not run in this child", st->job->name);
            st->mu = NULL;
            st->stopping = 1;
            continue;
        }
        apr_pool_pre_cleanup_register(pchild, st, job_stop);
    }
}

/* Begin a run: 0 when the child stops (or has no guard). */
static int run_begin(job_state_t *st)
{
    int go;

    if (!st->mu) {
        return 0;
    }
    apr_thread_mutex_lock(st->mu);
    go = !st->stopping;
    st->running = go;
    apr_thread_mutex_unlock(st->mu);
    return go;
}

static void run_end(job_state_t *st)
{
    apr_thread_mutex_lock(st->mu);
    st->running = 0;
    apr_thread_cond_broadcast(st->cond);
    apr_thread_mutex_unlock(st->mu);
}

static apr_status_t job_callback(int state, void *data, apr_pool_t *pool)
{
    job_state_t *st = data;
    apr_pool_t *p;
    cc_db_t *db;
    cc_error_t *err;

    if (state != AP_WATCHDOG_STATE_RUNNING || !run_begin(st)) {
        return APR_SUCCESS;
    }
    /* A pool per run: its cleanup rolls back what the run left open and hands the
     * connection back. */
    if (apr_pool_create(&p, pool) != APR_SUCCESS) {
        run_end(st);
        return APR_SUCCESS;
    }
    db = cc_db_standalone(p, st->s);
    err = st->job->run(db, st->job->data);
    cc_metrics_job_run(st->job->name, err != NULL);
    if (err) {
        cc_db_rollback(db);
        /* A database outage is logged by cc_db already; the next run retries. */
        ap_log_error(APLOG_MARK, err->status == HTTP_SERVICE_UNAVAILABLE ? APLOG_DEBUG
                                                                         : APLOG_WARNING,
                     0, st->s, CCLOGNO(00301) "job %s failed: %s (%s)", st->job->name,
                     err->message, err->code);
    }
    apr_pool_destroy(p);
    run_end(st);
    /* Never stop the watchdog: the next run may succeed (the database comes back). */
    return APR_SUCCESS;
}

static apr_status_t forget_jobs(void *data)
{
    (void)data;
    module_jobs = NULL;
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
    /* A cycle's list goes with its pconf (cleared on restart: forget_jobs). */
    if (!module_jobs) {
        module_jobs = apr_array_make(pconf, 4, sizeof(job_state_t *));
        apr_pool_cleanup_register(pconf, NULL, forget_jobs, apr_pool_cleanup_null);
    }
    APR_ARRAY_PUSH(module_jobs, job_state_t *) = st;
    if ((rv = register_callback(wd, interval, st, job_callback)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, CCLOGNO(00304)
                     "job %s: the watchdog refused its callback", job->name);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

cc_error_t *cc_job_claim(cc_db_t *db, const char *claim_label, const char *lease_label,
                         const char *lease_seconds, const char ***prow, const char **ptoken)
{
    const char **row, *args[4];
    cc_error_t *err;

    *prow = NULL;
    *ptoken = NULL;
    if ((err = cc_db_begin(db))
        || (err = cc_db_select_row(db, claim_label, 0, NULL, &row, NULL))) {
        return err;
    }
    if (!row) {
        cc_db_rollback(db);
        return NULL;
    }
    if (cc_random_token(db->pool, 24, ptoken) != APR_SUCCESS) {
        cc_db_rollback(db);
        return cc_error_internal(db->pool);
    }
    args[0] = *ptoken;
    args[1] = lease_seconds;
    args[2] = row[1];
    args[3] = row[0];
    if ((err = cc_db_exec(db, lease_label, 4, args, NULL)) || (err = cc_db_commit(db))) {
        return err;
    }
    *prow = row;
    return NULL;
}
