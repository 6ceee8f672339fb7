/**
 * @file cc_job.h
 * @brief (glue) Background jobs under mod_watchdog, on the same DB layer as handlers.
 *
 * A job is a function run every interval in one httpd child per node (a mod_watchdog
 * singleton; per_child: in every child), with a connection slot of its own (cc_db_standalone) on a pool cleared
 * after each run.  Several nodes may run the same job at once: a job's unit of work
 * must be safe to do twice or be claimed in the database (DESIGN.md).
 */
#ifndef CC_JOB_H
#define CC_JOB_H

#include <httpd.h>
#include "cc_db.h"

/** One run; the error (if any) is logged with the job's name. */
typedef cc_error_t *(*cc_job_fn)(cc_db_t *db, void *data);

typedef struct cc_job_t {
    const char *name;               /**< "cc-auth-retention": the watchdog's name too */
    cc_job_fn run;
    void *data;                     /**< handed to run, e.g. the module's config */
    int per_child;                  /**< run in every child (its own watchdog thread),
                                         not in one child per node: work on the child's
                                         own state (the event stream's poller) */
    cc_job_fn stop;                 /**< optional: at the child's exit, after its last
                                         run, in every child (the job's data says whether
                                         this one ran it): e.g. say a link is gone */
} cc_job_t;

/**
 * Schedule job every interval (from post_config, with its pconf): the job runs in the
 * children, never in the parent.  job is kept, not copied: it must live as long as pconf
 * (a static, or allocated from pconf).  An interval <= 0 schedules nothing.  Returns OK, or
 * HTTP_INTERNAL_SERVER_ERROR (logged) when mod_watchdog is missing or refuses.
 */
int cc_job_schedule(apr_pool_t *pconf, server_rec *s, const cc_job_t *job,
                    apr_interval_time_t interval);

/**
 * The next row of a job's queue, leased to this run (the SMS messages', the webhook
 * subscriptions'): in one transaction, claim_label (no arguments: a SELECT ... FOR UPDATE
 * SKIP LOCKED whose first two columns are the row's id and tenant_id), then lease_label
 * binding a new random claim token, lease_seconds, the tenant and the id; committed
 * before the caller does anything outside the database.  *prow NULL when none is due;
 * otherwise *ptoken, which the run's later writes check.
 */
cc_error_t *cc_job_claim(cc_db_t *db, const char *claim_label, const char *lease_label,
                         const char *lease_seconds, const char ***prow, const char **ptoken);

/**
 * From the child_init hook of every module that schedules jobs (required: without it the
 * module's jobs do not run in the child).  A child's exit then waits for a run in
 * progress to end before pchild (and mod_dbd's pools with it) goes, and starts no other
 * (mod_watchdog's thread outlives pchild).
 */
void cc_job_child_init(apr_pool_t *pchild, server_rec *s);

#endif
