/**
 * @file cc_metrics.h
 * @brief (glue) The node's metrics: counters in shared memory, one segment for every
 *        httpd child, served as Prometheus text by GET /metrics (mod_callcenter).
 *
 * The parent makes the segment once, anonymous shared memory in its process pool, so
 * every child it ever forks adds to the same numbers, across graceful restarts too (a
 * full stop starts them from zero, which Prometheus reads as a counter reset).  Numbers
 * are APR's 64-bit atomics (lock-free builtins on the platforms httpd runs on); nothing
 * takes a lock.  Each module links its own copy of this library: each calls
 * cc_metrics_attach from its post_config (cc_db_prepare_all does it for every module
 * that uses the database), and finds the segment the first one made.
 *
 * Without the segment (apr_shm_create refused) every call does nothing and /metrics
 * says so in a comment: the node serves without metrics rather than not at all.
 *
 * Series (names are the contract the Grafana dashboard and the README use):
 *
 *   cc_http_requests_total{route,method,status}            counter
 *   cc_http_request_duration_seconds{route,method}          histogram
 *       route is the matched route's template ("/api/v1/dids/{id:int}"), "unmatched"
 *       for a request no route took (404s, httpd's own errors); streams (the event
 *       stream's SSE) are counted but not timed (their duration is the client's).
 *   cc_db_connections_in_use                                 gauge
 *   cc_db_acquires_total                                     counter
 *   cc_db_acquire_failures_total                             counter (answered 503)
 *   cc_db_acquire_wait_seconds                               histogram
 *   cc_events_delivered_total{transport="stream|poll"}       counter
 *   cc_event_stream_clients                                  gauge
 *   cc_job_runs_total{task}                                  counter
 *   cc_job_failures_total{task}                              counter
 *   cc_job_last_success_timestamp_seconds{task}              gauge
 *       task is the job's name ("cc-sms-delivery"): not `job`, which is Prometheus'
 *       own label for the scrape
 *   cc_sms_deliveries_total{outcome="sent|retry|failed"}     counter
 *   cc_webhook_deliveries_total{outcome="delivered|failed|dead"}  counter
 *   cc_webhooks_disabled_total                               counter (by the delivery job)
 *   cc_metrics_dropped_total{table="routes|jobs"}            counter (a full name table)
 */
#ifndef CC_METRICS_H
#define CC_METRICS_H

#include <httpd.h>
#include <apr_time.h>

/** Distinct route templates and job names a node can count (a full table counts the
 *  rest under cc_metrics_dropped_total). */
#define CC_METRICS_ROUTES 256
#define CC_METRICS_JOBS   32
/** Longest route template or job name kept (longer ones are cut). */
#define CC_METRICS_NAME_MAX 120

typedef enum {
    CC_METRICS_SMS_SENT = 0,   /**< the provider took it */
    CC_METRICS_SMS_RETRY,      /**< a temporary failure: tried again later */
    CC_METRICS_SMS_FAILED,     /**< given up */
    CC_METRICS_SMS_OUTCOMES
} cc_metrics_sms_e;

typedef enum {
    CC_METRICS_WEBHOOK_DELIVERED = 0, /**< answered 2xx */
    CC_METRICS_WEBHOOK_FAILED,        /**< called again later */
    CC_METRICS_WEBHOOK_DEAD,          /**< the event's last call: a dead letter */
    CC_METRICS_WEBHOOK_DISABLED,      /**< the subscription disabled (not an outcome:
                                           cc_webhooks_disabled_total) */
    CC_METRICS_WEBHOOK_COUNTS
} cc_metrics_webhook_e;

typedef enum {
    CC_METRICS_EVENTS_STREAM = 0,  /**< SSE frames of events */
    CC_METRICS_EVENTS_POLL,        /**< events in long-poll answers */
    CC_METRICS_EVENT_TRANSPORTS
} cc_metrics_transport_e;

/** From post_config (every module that records): finds or makes the node's segment. */
void cc_metrics_attach(server_rec *s);

/**
 * The node's shared memory segment named key, of size bytes: found in the process pool
 * (made by an earlier call of any module, this cycle or an earlier one: it outlives
 * graceful restarts), or made now, zeroed.  Anonymous APR shared memory in the parent's
 * process pool, so every child forked afterwards shares it; call it from post_config.
 * NULL when it cannot be had (*prv says why the first time; later calls are not retried).
 */
void *cc_node_shm(server_rec *s, const char *key, apr_size_t size, apr_status_t *prv);

/** Whether this module's copy has the segment. */
int cc_metrics_enabled(void);

/** The route a request matched (its template, a static string): the dispatcher's. */
void cc_metrics_route(request_rec *r, const char *pattern);

/** A request that streams: counted, its duration not observed. */
void cc_metrics_streaming(request_rec *r);

/** Counts a finished request (one log_transaction hook of the node: mod_callcenter's). */
void cc_metrics_request(request_rec *r);

/** A connection acquire: how long it waited and whether one came; a release. */
/** In a child, before its threads: its place for the connections it holds, so that a child
 *  that dies holding some leaves none counted (cc_db_child_init calls it). */
void cc_metrics_child_init(void);
void cc_metrics_db_acquired(apr_interval_time_t waited, int ok);
void cc_metrics_db_released(void);

void cc_metrics_events_delivered(cc_metrics_transport_e transport, apr_uint64_t n);
void cc_metrics_stream_clients(int delta);

/** A background job's run (cc_job): whether it failed. */
void cc_metrics_job_run(const char *job, int failed);

void cc_metrics_sms(cc_metrics_sms_e outcome);
/** A webhook call's outcome, or a subscription disabled (the delivery job). */
void cc_metrics_webhook(cc_metrics_webhook_e what);

/** The exposition (text format 0.0.4) of every series, from p. */
const char *cc_metrics_render(apr_pool_t *p);

#endif
