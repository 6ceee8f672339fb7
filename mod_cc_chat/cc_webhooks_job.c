/*
 * cc_webhooks_job.c: the webhook delivery job (README "Webhooks"), a mod_watchdog job
 * (shared/cc_job.h) in every child, calling subscribers over HTTP with libcurl.
 *
 * One subscription at a time, claimed as the SMS job claims a message:
 *   1. claim: in a transaction, the active subscription of an active tenant due longest
 *      (next_attempt_at), without a live lease, that has events after its position,
 *      read FOR UPDATE SKIP LOCKED, gets a lease and a random claim token; commit.
 *   2. its events after the position, in id order: one it is not sent (a pattern does
 *      not match, or a type a tenant administrator does not see) is passed over; each
 *      other is POSTed, outside any transaction, and the call is logged
 *      (webhook_deliveries) with the new position in one transaction that checks the
 *      token.  So an event is delivered at least once, and only after every event
 *      before it: a call that fails stops the subscription there until the backoff has
 *      passed (cc_wh_after_failure): after CCWebhookRetryFor it is a dead letter and the
 *      next event goes; after CCWebhookDisableAfter without a delivery the subscription
 *      is disabled, audited and announced (webhook.disabled).
 *   3. after WH_CLAIM_EVENTS events or WH_CLAIM_TIME the claim is given back, due at
 *      once, so one busy subscription does not hold a child's job from the others.
 * A replay, a delete, or an update of the URL, secret, patterns or status between two
 * calls makes the next write miss the token: the run stops, and the next claim starts
 * from what the row says (a call already in flight may still arrive).
 *
 * Every CCWebhookInterval (milliseconds) in every child (each child's job thread delivers to another
 * subscription: SKIP LOCKED), for at most WH_RUN_TIME a run.  A call is signed as the
 * SMS callbacks are (X-CC-Timestamp, X-CC-Signature: v1=HMAC-SHA256(secret, timestamp
 * "." body)); its connection may only reach an address cc_wh_addr_allowed allows, checked
 * on the address libcurl connects to (a name resolving to a private address, now or
 * later, is refused there).  Neither the secret nor the URL (which may hold a token) is
 * logged.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <httpd.h>
#include <http_log.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "cc_chat_private.h"
#include "cc_crypto.h"
#include "cc_curl.h"
#include "cc_job.h"
#include "cc_json.h"
#include "cc_log.h"
#include "cc_metrics.h"
#include "cc_validate.h"
#include "cc_webhooks_rules.h"

/* A run, and one claim's share of it. */
#define WH_RUN_TIME apr_time_from_sec(10)
#define WH_CLAIM_TIME apr_time_from_sec(10)
#define WH_CLAIM_EVENTS 100
/* Events a run reads at most (its pool keeps them until it ends: a few MB). */
#define WH_RUN_EVENTS 5000
/* A lease outlasts a call by this much (renewed by every write of the run). */
#define WH_LEASE_MARGIN 30
/* An error as kept (webhooks.last_error, webhook_deliveries.error), in characters. */
#define WH_ERROR_MAX 300

#define WH_EVENT_COLUMNS "id, type, tenant_id, entity_type, entity_id, data, created_at"
#define WH_TOKEN " WHERE tenant_id = %s AND id = %s AND claim_token = %s"
/* A call's outcome: record() has read the row under its lock (cc_webhooks_job_hold) and
 * found the claim held, or its token cleared by an update that left the position. */
#define WH_ROW " WHERE tenant_id = %s AND id = %s"
#define WH_LEASE " lease_until = UTC_TIMESTAMP(6) + INTERVAL %s SECOND"

/* The job's claim crosses tenants by design (it serves every tenant's subscriptions);
 * everything after it is by the claimed row's tenant and id. */
static const cc_stmt_t webhooks_job_stmts[] = {
    CC_STMT("cc_webhooks_job_claim",
            "SELECT w.id, w.tenant_id, w.url, w.secret, w.events, w.position, w.attempts,"
            " TIMESTAMPDIFF(SECOND, w.head_failed_at, UTC_TIMESTAMP(6)),"
            " TIMESTAMPDIFF(SECOND, w.failing_since, UTC_TIMESTAMP(6))"
            " FROM webhooks w WHERE w.status = 'active'"
            " AND w.next_attempt_at <= UTC_TIMESTAMP(6)"
            " AND (w.lease_until IS NULL OR w.lease_until < UTC_TIMESTAMP(6))"
            " AND EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = w.tenant_id"
            " AND e.id > w.position)"
            " AND EXISTS (SELECT 1 FROM tenants t WHERE t.id = w.tenant_id"
            " AND t.status = 'active')"
            " ORDER BY w.next_attempt_at, w.id LIMIT 1 FOR UPDATE SKIP LOCKED"
            " /* cc-lint: no-tenant the delivery job serves every tenant's subscriptions;"
            " each claimed row is then written by its own tenant and id */"),
    CC_STMT("cc_webhooks_job_lease",
            "UPDATE webhooks SET claim_token = %s," WH_LEASE
            " WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_webhooks_job_events",
            "SELECT " WH_EVENT_COLUMNS " FROM events WHERE tenant_id = %s AND id > %s"
            " ORDER BY id LIMIT 100"),
    CC_STMT("cc_webhooks_job_log",
            "INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id, event_type,"
            " attempt, status, http_status, error, duration_ms, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, UTC_TIMESTAMP(3))"),
    CC_STMT("cc_webhooks_job_delivered",
            "UPDATE webhooks SET position = %s, attempts = 0, head_failed_at = NULL,"
            " failing_since = NULL, last_success_at = UTC_TIMESTAMP(3)," WH_LEASE WH_ROW),
    /* Events passed over (not subscribed), or the claim's share given back. */
    CC_STMT("cc_webhooks_job_pass",
            "UPDATE webhooks SET position = %s," WH_LEASE WH_TOKEN),
    /* A lost claim's lease, given up (the token cleared by an update, or 'replay'). */
    CC_STMT("cc_webhooks_job_unlease",
            "UPDATE webhooks SET lease_until = NULL, claim_token = NULL"
            " WHERE tenant_id = %s AND id = %s"
            " AND (claim_token IS NULL OR claim_token = 'replay')"),
    CC_STMT("cc_webhooks_job_hold",
            "SELECT claim_token, position FROM webhooks WHERE tenant_id = %s AND id = %s"
            " FOR UPDATE"),
    CC_STMT("cc_webhooks_job_release",
            "UPDATE webhooks SET position = %s, lease_until = NULL, claim_token = NULL,"
            " next_attempt_at = UTC_TIMESTAMP(6)" WH_TOKEN),
    CC_STMT("cc_webhooks_job_dead",
            "UPDATE webhooks SET position = %s, attempts = 0, head_failed_at = NULL,"
            " failing_since = COALESCE(failing_since, UTC_TIMESTAMP(6)),"
            " last_failure_at = UTC_TIMESTAMP(3), last_error = %s," WH_LEASE WH_ROW),
    CC_STMT("cc_webhooks_job_retry",
            "UPDATE webhooks SET position = %s, attempts = %s,"
            " head_failed_at = COALESCE(head_failed_at, UTC_TIMESTAMP(6)),"
            " failing_since = COALESCE(failing_since, UTC_TIMESTAMP(6)),"
            " last_failure_at = UTC_TIMESTAMP(3), last_error = %s,"
            " next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL %s SECOND,"
            " lease_until = NULL, claim_token = NULL" WH_ROW),
    CC_STMT("cc_webhooks_job_disable",
            "UPDATE webhooks SET position = %s, attempts = %s, status = 'disabled',"
            " disabled_reason = %s, last_failure_at = UTC_TIMESTAMP(3), last_error = %s,"
            " lease_until = NULL, claim_token = NULL, updated_at = UTC_TIMESTAMP()"
            WH_ROW),
    CC_STMT_END
};

/* Statements only: the job below runs them. */
const cc_domain_t cc_webhooks_job_domain = { "webhooks_job", NULL, webhooks_job_stmts, NULL,
                                             NULL, NULL };

/* What a run needs, fixed at post_config (in pconf). */
typedef struct wh_job_t {
    cc_wh_policy_t pol;
    long timeout;                    /**< CCWebhookTimeout, s */
    const char *lease;               /**< seconds, as text */
    const cc_wh_net_t *allow;
    int nallow;
} wh_job_t;

/* A claimed subscription and where its run stands. */
typedef struct wh_claim_t {
    const char *id, *tenant, *url, *secret, *events, *token;
    apr_uint64_t position;           /**< handled up to here (written or not yet) */
    apr_uint64_t written;            /**< the position the row has, as this run wrote it */
    int attempts;                    /**< failed calls of the next event */
    apr_time_t head_since;           /**< its first failure (0: none) */
    apr_time_t failing_since;        /**< the first failure since a delivery (0: none) */
} wh_claim_t;

/* ---- the call ---- */

typedef struct wh_call_t {
    const wh_job_t *job;
    int refused;                     /**< a connection was refused by the address check */
} wh_call_t;

/* Every connection libcurl makes goes through here: only to an allowed address. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose,
                                 struct curl_sockaddr *a)
{
    wh_call_t *c = clientp;

    if (purpose != CURLSOCKTYPE_IPCXN
        || !cc_wh_sockaddr_allowed(&a->addr, c->job->allow, c->job->nallow)) {
        c->refused = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* A header value from text we wrote (an event type): nothing but [A-Za-z0-9_.-]. */
static const char *header_safe(apr_pool_t *p, const char *s)
{
    char *out = apr_pstrdup(p, s ? s : ""), *c;

    for (c = out; *c; c++) {
        if (!apr_isalnum(*c) && *c != '_' && *c != '.' && *c != '-') {
            *c = '_';
        }
    }
    return out;
}

/*
 * POST body (the event) to the subscription: *pstatus the HTTP status (0 when there was
 * no answer), *perror why it is not a delivery (NULL for a 2xx), *pms the call's time.
 */
static void call(apr_pool_t *p, const wh_job_t *job, const wh_claim_t *w, const char *event_id,
                 const char *type, int attempt, const char *body, long *pstatus,
                 const char **perror, long *pms)
{
    struct curl_slist *hdrs = NULL;
    char errbuf[CURL_ERROR_SIZE];
    const char *ts = apr_psprintf(p, "%" APR_TIME_T_FMT, apr_time_sec(apr_time_now()));
    const char *no_answer = NULL;
    apr_time_t start = apr_time_now();
    wh_call_t c = { job, 0 };
    CURL *h;

    *pstatus = 0;
    *perror = NULL;
    *pms = 0;
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    hdrs = curl_slist_append(hdrs, apr_pstrcat(p, "X-CC-Webhook-Id: ", w->id, NULL));
    hdrs = curl_slist_append(hdrs, apr_pstrcat(p, "X-CC-Event-Id: ", event_id, NULL));
    hdrs = curl_slist_append(hdrs, apr_pstrcat(p, "X-CC-Event-Type: ",
                                               header_safe(p, type), NULL));
    hdrs = curl_slist_append(hdrs, apr_psprintf(p, "X-CC-Delivery-Attempt: %d", attempt));
    hdrs = curl_slist_append(hdrs, apr_pstrcat(p, "X-CC-Timestamp: ", ts, NULL));
    hdrs = curl_slist_append(hdrs, apr_pstrcat(p, "X-CC-Signature: ",
                                               cc_sign_v1(p, w->secret, ts, body,
                                                          strlen(body)), NULL));
    h = cc_curl_post(w->url, body, strlen(body), hdrs, job->timeout < 5 ? job->timeout : 5L,
                     job->timeout, "callcenter-webhooks/1", NULL, NULL, errbuf);
    if (!h) {
        curl_slist_free_all(hdrs);
        *perror = "could not make an HTTP client handle";
        return;
    }
    /* The address check, on every connection (cc_wh_addr_allowed). */
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &c);
    cc_curl_perform(p, h, "the receiver", errbuf, pstatus, &no_answer);
    *pms = apr_time_now() > start ? (long)apr_time_as_msec(apr_time_now() - start) : 0;
    if (*pstatus && (*pstatus < 200 || *pstatus > 299)) {
        *perror = apr_psprintf(p, "HTTP %ld", *pstatus);
    }
    else if (!*pstatus && c.refused) {
        *perror = "the address is loopback, private or special-purpose"
                  " (CCWebhookAllowNetworks)";
    }
    else if (!*pstatus) {
        *perror = cc_clean_line(p, no_answer, strlen(no_answer), WH_ERROR_MAX);
    }
    curl_slist_free_all(hdrs);
}

/* ---- claim and record ---- */

/* Seconds since a moment (0: none yet: 0). */
static apr_int64_t age(apr_time_t since)
{
    return since ? apr_time_sec(apr_time_now() - since) : 0;
}

static cc_error_t *claim(cc_db_t *db, const wh_job_t *job, wh_claim_t **pw)
{
    const char **row, *token;
    wh_claim_t *w;
    apr_time_t now = apr_time_now();
    cc_error_t *err = cc_job_claim(db, "cc_webhooks_job_claim", "cc_webhooks_job_lease",
                                   job->lease, &row, &token);

    *pw = NULL;
    if (err || !row) {
        return err;
    }
    w = apr_pcalloc(db->pool, sizeof(*w));
    w->id = row[0];
    w->tenant = row[1];
    w->url = row[2];
    w->secret = row[3];
    w->events = row[4];
    w->position = w->written = (apr_uint64_t)apr_atoi64(row[5]);
    w->attempts = atoi(row[6]);
    w->head_since = row[7] ? now - apr_time_from_sec(apr_atoi64(row[7])) : 0;
    w->failing_since = row[8] ? now - apr_time_from_sec(apr_atoi64(row[8])) : 0;
    w->token = token;
    *pw = w;
    return NULL;
}

/* A claim lost to a replay ('replay'), an update (NULL) or a delete, its lease kept so
 * that no other run calls while this one's call may still be in flight: the lease goes
 * now that this run has stopped.  A claim taken over after its lease expired has another
 * token, and is left alone. */
static void unlease(cc_db_t *db, const wh_claim_t *w)
{
    const char *args[2] = { w->tenant, w->id };

    (void)cc_db_exec(db, "cc_webhooks_job_unlease", 2, args, NULL);
}

/* One write of the run, where the claim still holds (label ends with WH_TOKEN).  *pheld
 * 0 when the claim was lost. */
static cc_error_t *write_claim(cc_db_t *db, const char *label, int nargs, const char **args,
                               int *pheld)
{
    int nrows = 0;
    cc_error_t *err = cc_db_exec(db, label, nargs, args, &nrows);

    *pheld = !err && nrows == 1;
    return err;
}

/*
 * The outcome of one call, in one transaction: the row read under its lock first (a
 * user's concurrent write waits; a deleted subscription is found missing rather than
 * failing the log row's foreign key), then its new state and the log row.  The outcome
 * of a call that was made is kept when the claim still holds, and also when an update
 * cleared its token without moving the position (the call went where the subscription
 * pointed when it started): the run then stops, so that the next claim reads the new
 * values, and no event is called twice for it.  A replay ('replay': the position is the
 * replay's) or a delete drops it.  *pgo_on: the run goes on with the next event.
 */
static cc_error_t *record(cc_db_t *db, const wh_job_t *job, wh_claim_t *w,
                          const char *event_id, const char *type, int attempt, long status,
                          const char *error, long ms, int *pgo_on)
{
    apr_pool_t *p = db->pool;
    const char *pos = event_id, *prev = apr_psprintf(p, "%" APR_UINT64_T_FMT, w->position);
    const char *outcome = "delivered", *reason = NULL;
    cc_wh_next_e next = CC_WH_RETRY;
    apr_int64_t wait = 0;
    int held, orphan;
    cc_error_t *err;

    *pgo_on = 0;
    if (error) {
        apr_time_t now = apr_time_now();

        if (!w->failing_since) {
            w->failing_since = now;
        }
        if (!w->head_since) {
            w->head_since = now;
        }
        next = cc_wh_after_failure(&job->pol, attempt, age(w->head_since),
                                   age(w->failing_since), &wait);
        outcome = next == CC_WH_DEAD ? "dead" : "failed";
    }
    if ((err = cc_db_begin(db))) {
        return err;
    }
    {
        const char *key[2] = { w->tenant, w->id };
        const char **row;

        if ((err = cc_db_select_row(db, "cc_webhooks_job_hold", 2, key, &row, NULL))) {
            return err;
        }
        held = row && row[0] && !strcmp(row[0], w->token);
        orphan = row && !row[0] && row[1] && (apr_uint64_t)apr_atoi64(row[1]) == w->written;
        if (!held && !orphan) {
            *pgo_on = 0;
            cc_db_rollback(db);
            unlease(db, w);
            return NULL;
        }
    }
    if (!error) {
        const char *args[4] = { pos, job->lease, w->tenant, w->id };

        err = cc_db_exec(db, "cc_webhooks_job_delivered", 4, args, NULL);
        *pgo_on = 1;
    }
    else if (next == CC_WH_DEAD) {
        const char *args[5] = { pos, error, job->lease, w->tenant, w->id };

        err = cc_db_exec(db, "cc_webhooks_job_dead", 5, args, NULL);
        *pgo_on = 1;
    }
    else if (next == CC_WH_RETRY) {
        const char *args[6] = { prev, apr_itoa(p, attempt), error,
                                apr_psprintf(p, "%" APR_INT64_T_FMT, wait), w->tenant, w->id };

        err = cc_db_exec(db, "cc_webhooks_job_retry", 6, args, NULL);
    }
    else {
        const char *args[6] = { prev, apr_itoa(p, attempt), NULL, error, w->tenant, w->id };

        args[2] = reason = apr_psprintf(p, "failing since %" APR_INT64_T_FMT " seconds"
                                        " without a delivery", age(w->failing_since));
        err = cc_db_exec(db, "cc_webhooks_job_disable", 6, args, NULL);
    }
    if (err) {
        return err;
    }
    {
        const char *log[9] = { w->tenant, w->id, event_id, type, apr_itoa(p, attempt),
                               outcome, status ? apr_ltoa(p, status) : NULL, error,
                               apr_ltoa(p, ms) };

        if ((err = cc_db_exec(db, "cc_webhooks_job_log", 9, log, NULL))) {
            return err;
        }
    }
    w->written = (apr_uint64_t)apr_atoi64(*pgo_on ? pos : prev);
    if (*pgo_on) {
        w->position = (apr_uint64_t)apr_atoi64(pos);
        w->attempts = 0;
        w->head_since = 0;
        if (!error) {
            w->failing_since = 0;
        }
    }
    if (next == CC_WH_DEAD && error) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, db->s, CCLOGNO(04002)
                     "webhook %s of tenant %s: event %s is a dead letter after %d calls:"
                     " %s", w->id, w->tenant, event_id, attempt, error);
    }
    if (reason) {
        const char *get[2] = { w->tenant, w->id };
        json_t *obj, *changes = cc_json_object(p);

        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, db->s, CCLOGNO(04003)
                     "webhook %s of tenant %s disabled: %s", w->id, w->tenant, reason);
        cc_audit_change_str(changes, "status", "active", "disabled");
        if ((err = cc_db_select_one(db, "cc_webhooks_get", cc_webhook_cols, 2, get, &obj))
            || (err = cc_record(db, w->tenant, &cc_actor_system, "webhook", "disable",
                                w->id, changes, cc_webhook_public(p, obj),
                                CC_RECORD_COMMIT))) {
            return err;
        }
        cc_metrics_webhook(CC_METRICS_WEBHOOK_FAILED);
        cc_metrics_webhook(CC_METRICS_WEBHOOK_DISABLED);
        return NULL;
    }
    if ((err = cc_db_commit(db))) {
        return err;
    }
    cc_metrics_webhook(!error ? CC_METRICS_WEBHOOK_DELIVERED
                       : next == CC_WH_DEAD ? CC_METRICS_WEBHOOK_DEAD
                       : CC_METRICS_WEBHOOK_FAILED);
    if (orphan) {
        /* An update took the claim: stop here, the lease going with this run. */
        *pgo_on = 0;
        unlease(db, w);
    }
    return NULL;
}

/* Where the run has got to (the events passed over), written: with the lease renewed
 * (the claim goes on), or release: given back, due at once.  *pheld 0 when the claim was
 * lost. */
static cc_error_t *advance(cc_db_t *db, const wh_job_t *job, wh_claim_t *w, int release,
                           int *pheld)
{
    const char *pos = apr_psprintf(db->pool, "%" APR_UINT64_T_FMT, w->position);
    const char *pass[5] = { pos, job->lease, w->tenant, w->id, w->token };
    const char *rel[4] = { pos, w->tenant, w->id, w->token };
    cc_error_t *err = release ? write_claim(db, "cc_webhooks_job_release", 4, rel, pheld)
                              : write_claim(db, "cc_webhooks_job_pass", 5, pass, pheld);

    if (!err && !*pheld) {
        unlease(db, w);
    }
    else if (!err) {
        w->written = w->position;
    }
    return err;
}

/*
 * Deliver the claimed subscription's events; *pheld 0 when it stopped (a failure, or the
 * claim lost), 1 when its share ran out with the claim still to give back.  *pread counts
 * the events read (the run's pool holds them until the run ends: the run stops reading
 * at WH_RUN_EVENTS).
 */
static cc_error_t *serve(cc_db_t *db, const wh_job_t *job, wh_claim_t *w, int *pheld,
                         int *pread)
{
    apr_pool_t *p = db->pool;
    apr_time_t start = apr_time_now();
    int calls = 0;
    const cc_col_t *cols = cc_events_cols();

    *pheld = 1;
    while (calls < WH_CLAIM_EVENTS && apr_time_now() - start < WH_CLAIM_TIME
           && *pread < WH_RUN_EVENTS) {
        const char *args[2] = { w->tenant,
                                apr_psprintf(p, "%" APR_UINT64_T_FMT, w->position) };
        json_t *rows;
        size_t i, n;
        int passed = 0;
        cc_error_t *err;

        if ((err = cc_db_select(db, "cc_webhooks_job_events", cols, 2, args, &rows, NULL))) {
            return err;
        }
        if (!(n = json_array_size(rows))) {
            return NULL;
        }
        *pread += (int)n;
        for (i = 0; i < n; i++) {
            const json_t *ev = json_array_get(rows, i);
            const char *type = cc_json_str(ev, "type"), *error, *id;
            long status, ms;
            int go_on;

            id = cc_json_int_text(p, ev, "id");
            if (!cc_wh_event_deliverable(cc_json_str(ev, "tenant_id"), type, w->tenant)
                || !cc_wh_patterns_match(w->events, type)) {
                w->position = (apr_uint64_t)apr_atoi64(id);
                passed = 1;
                continue;
            }
            passed = 0;
            call(p, job, w, id, type, w->attempts + 1, cc_json_dump(p, ev), &status, &error,
                 &ms);
            calls++;
            if ((err = record(db, job, w, id, type, w->attempts + 1, status, error, ms,
                              &go_on))) {
                return err;
            }
            if (!go_on) {
                *pheld = 0;
                return NULL;
            }
            if (calls >= WH_CLAIM_EVENTS || apr_time_now() - start >= WH_CLAIM_TIME) {
                return NULL;
            }
        }
        /* A batch that ended passing events over: say so, and renew the lease, before
         * the next read (a long run of events it is not sent never outlives the lease). */
        if (passed && (err = advance(db, job, w, 0, pheld))) {
            return err;
        }
        if (!*pheld) {
            return NULL;
        }
    }
    return NULL;
}

static cc_error_t *webhooks_job_run(cc_db_t *db, void *data)
{
    const wh_job_t *job = data;
    apr_time_t start = apr_time_now();
    int read = 0;

    while (apr_time_now() - start < WH_RUN_TIME && read < WH_RUN_EVENTS) {
        wh_claim_t *w;
        int held;
        cc_error_t *err = claim(db, job, &w);

        if (err || !w) {
            return err;
        }
        if ((err = serve(db, job, w, &held, &read))) {
            /* The lease keeps it from every other run until it expires. */
            return err;
        }
        if (held && (err = advance(db, job, w, 1, &held))) {
            return err;
        }
    }
    return NULL;
}

int cc_webhooks_job_schedule(apr_pool_t *pconf, server_rec *s)
{
    int interval = cc_chat_setting(s, CC_WH_INTERVAL);
    wh_job_t *job;
    cc_job_t *j;

    if (interval <= 0) {
        return OK;
    }
    /* Once per configuration, before any thread exists (counted by libcurl: mod_callcenter's
     * SMS job may have done it too). */
    if (cc_curl_global(pconf) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, CCLOGNO(04004)
                     "webhook delivery: libcurl failed to initialise");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    job = apr_pcalloc(pconf, sizeof(*job));
    job->pol.retry_base = cc_chat_setting(s, CC_WH_RETRY_BASE);
    job->pol.retry_max = cc_chat_setting(s, CC_WH_RETRY_MAX);
    job->pol.retry_for = cc_chat_setting(s, CC_WH_RETRY_FOR);
    job->pol.disable_after = cc_chat_setting(s, CC_WH_DISABLE_AFTER);
    job->timeout = cc_chat_setting(s, CC_WH_TIMEOUT);
    job->lease = apr_itoa(pconf, (int)job->timeout + WH_LEASE_MARGIN);
    job->allow = cc_chat_webhook_allow(s, &job->nallow);
    j = apr_pcalloc(pconf, sizeof(*j));
    j->name = "cc-webhook-delivery";
    j->run = webhooks_job_run;
    j->data = job;
    j->per_child = 1;
    return cc_job_schedule(pconf, s, j, apr_time_from_msec(interval));
}
