/*
 * cc_sms_job.c: the SMS delivery job, a mod_watchdog job (shared/cc_job.h) that hands
 * queued messages to the provider over HTTP with libcurl.
 *
 * One message at a time:
 *   1. claim: in a transaction, the oldest due queued message of an active tenant
 *      without a live lease, read with FOR UPDATE SKIP LOCKED (a message another process is claiming is
 *      skipped, not waited for), gets a lease (now + the call's timeout + a margin), a
 *      random claim token and attempts + 1; commit.
 *   2. call the provider, outside any transaction (README "SMS provider protocol").
 *   3. record the outcome where the claim token still matches: sent (with the
 *      provider's message id), or queued again with next_attempt_at after the backoff
 *      (cc_backoff_seconds), or failed with the provider's error once CCSmsMaxAttempts calls
 *      are spent or the provider refused for good.  sent and failed write the audit
 *      entry and the sms.status_changed event in the same transaction.
 * So however many processes and nodes run the job, a message is handed to one run at a
 * time.  Only a run that dies between its call and step 3 (a crash) leaves a lease
 * that expires and the message is offered again: the call carries Idempotency-Key
 * sms-<id> so the provider can tell a repeat.
 *
 * Every CCSmsInterval of the main server (default 5 s; 0 disables it) in one child per
 * node, at most SMS_RUN_MAX messages or SMS_RUN_TIME a run (the next run goes on).
 * The credential goes into the Authorization header only; neither it nor the request
 * is ever logged.
 */
#include <stdlib.h>
#include <string.h>

#include <httpd.h>
#include <http_log.h>
#include <apr_strings.h>

#include "cc_api_private.h"
#include "cc_audit.h"
#include "cc_crypto.h"
#include "cc_curl.h"
#include "cc_job.h"
#include "cc_log.h"
#include "cc_metrics.h"
#include "cc_retry.h"
#include "cc_sms_rules.h"
#include "cc_validate.h"

#define SMS_RUN_MAX 100
#define SMS_RUN_TIME apr_time_from_sec(60)
/* A lease outlasts the provider call by this much. */
#define SMS_LEASE_MARGIN 30
/* The provider's answer is read up to this size (an id and an error fit easily). */
#define SMS_ANSWER_MAX 65536

/* ---- statements ---- */

/* The job's statements cross tenants by design: it delivers every tenant's messages,
 * and writes each row by its own tenant and id. */
static const cc_stmt_t sms_job_stmts[] = {
    CC_STMT("cc_sms_job_claim",
            "SELECT id, tenant_id, from_number, to_number, body, attempts"
            " FROM sms_messages WHERE status = 'queued'"
            " AND next_attempt_at <= UTC_TIMESTAMP(6)"
            " AND (lease_until IS NULL OR lease_until < UTC_TIMESTAMP(6))"
            /* A suspended (or deleted) tenant's messages wait, queued, until it is active
             * again (the subquery's rows are read, not locked). */
            " AND EXISTS (SELECT 1 FROM tenants t WHERE t.id = sms_messages.tenant_id"
            " AND t.status = 'active')"
            " ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED "
            "/* cc-lint: no-tenant the delivery job serves every tenant's queue; each "
            "claimed row is then written by its own tenant and id */"),
    CC_STMT("cc_sms_job_lease",
            "UPDATE sms_messages SET attempts = attempts + 1, claim_token = %s,"
            " lease_until = UTC_TIMESTAMP(6) + INTERVAL %s SECOND"
            " WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_sms_job_sent",
            "UPDATE sms_messages SET status = 'sent', provider_message_id = %s, error = NULL,"
            " next_attempt_at = NULL, lease_until = NULL, claim_token = NULL,"
            " updated_at = UTC_TIMESTAMP()"
            " WHERE tenant_id = %s AND id = %s AND claim_token = %s AND status = 'queued'"),
    CC_STMT("cc_sms_job_retry",
            "UPDATE sms_messages SET error = %s,"
            " next_attempt_at = UTC_TIMESTAMP(6) + INTERVAL %s SECOND,"
            " lease_until = NULL, claim_token = NULL, updated_at = UTC_TIMESTAMP()"
            " WHERE tenant_id = %s AND id = %s AND claim_token = %s AND status = 'queued'"),
    CC_STMT("cc_sms_job_failed",
            "UPDATE sms_messages SET status = 'failed', error = %s, next_attempt_at = NULL,"
            " lease_until = NULL, claim_token = NULL, updated_at = UTC_TIMESTAMP()"
            " WHERE tenant_id = %s AND id = %s AND claim_token = %s AND status = 'queued'"),
    CC_STMT_END
};

/* Statements only: the job below runs them. */
const cc_domain_t cc_sms_job_domain = { "sms_job", NULL, sms_job_stmts, NULL, NULL, NULL };

/* What a run needs, fixed at post_config (in pconf). */
typedef struct sms_job_t {
    const cc_sms_config_t *cfg;      /**< the main server's */
    const char *lease;               /**< seconds, as text */
} sms_job_t;

/* A claimed message. */
typedef struct sms_claim_t {
    const char *id, *tenant, *from, *to, *body, *token;
    int attempts;                    /**< calls made, this one included */
} sms_claim_t;

/* ---- the provider call ---- */

typedef struct answer_t {
    char *buf;
    apr_size_t len;
} answer_t;

static size_t on_answer(char *data, size_t size, size_t n, void *baton)
{
    answer_t *a = baton;
    size_t bytes = size * n;
    size_t take = a->len + bytes > SMS_ANSWER_MAX ? SMS_ANSWER_MAX - a->len : bytes;

    memcpy(a->buf + a->len, data, take);
    a->len += take;
    return bytes;       /* the rest is read and dropped */
}

/*
 * POST the message; *pstatus the HTTP status (0 when there was no answer, *perror then
 * says why), the answer in *pbody and *plen.
 */
static void provider_call(apr_pool_t *p, const cc_sms_config_t *cfg, const sms_claim_t *m,
                          long *pstatus, const char **pbody, apr_size_t *plen,
                          const char **perror)
{
    struct curl_slist *hdrs = NULL;
    char errbuf[CURL_ERROR_SIZE];
    answer_t a;
    json_t *j;
    char *payload;
    CURL *h;

    *pstatus = 0;
    *pbody = NULL;
    *plen = 0;
    *perror = NULL;
    a.buf = apr_palloc(p, SMS_ANSWER_MAX + 1);
    a.len = 0;
    j = json_pack("{s:s, s:s, s:s, s:s}", "reference", apr_pstrcat(p, "sms-", m->id, NULL),
                  "from", m->from, "to", m->to, "body", m->body);
    payload = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!payload) {
        *perror = "could not render the message";
        return;
    }
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json; charset=utf-8");
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    hdrs = curl_slist_append(hdrs, apr_pstrcat(p, "Idempotency-Key: sms-", m->id, NULL));
    if (cfg->credential) {
        hdrs = curl_slist_append(hdrs, apr_pstrcat(p, "Authorization: Bearer ",
                                                   cfg->credential, NULL));
    }
    h = cc_curl_post(cfg->url, payload, strlen(payload), hdrs,
                     (long)cc_sms_cfg_connect_timeout(cfg), (long)cc_sms_cfg_timeout(cfg),
                     "callcenter-sms/1", on_answer, &a, errbuf);
    if (h) {
        cc_curl_perform(p, h, "the provider", errbuf, pstatus, perror);
    }
    else {
        *perror = "could not make an HTTP client handle";
    }
    a.buf[a.len] = '\0';
    *pbody = a.buf;
    *plen = a.len;
    curl_slist_free_all(hdrs);
    free(payload);
}

/* ---- claim and record ---- */

/* The next due message, leased to this run; *pm NULL when none is due. */
static cc_error_t *claim(cc_db_t *db, const sms_job_t *job, sms_claim_t **pm)
{
    const char **row, *token;
    sms_claim_t *m;
    cc_error_t *err = cc_job_claim(db, "cc_sms_job_claim", "cc_sms_job_lease", job->lease,
                                   &row, &token);

    *pm = NULL;
    if (err || !row) {
        return err;
    }
    m = apr_pcalloc(db->pool, sizeof(*m));
    m->id = row[0];
    m->tenant = row[1];
    m->from = row[2];
    m->to = row[3];
    m->body = row[4];
    m->attempts = atoi(row[5]) + 1;
    m->token = token;
    *pm = m;
    return NULL;
}

/* sent or failed: the row, its audit entry and event, in one transaction. */
static cc_error_t *record_final(cc_db_t *db, const sms_claim_t *m, const char *label,
                                const char *value, const char *status)
{
    const char *args[4] = { value, m->tenant, m->id, m->token };
    const char *get[2] = { m->tenant, m->id };
    json_t *msg, *changes;
    int nrows = 0;
    cc_error_t *err;

    if ((err = cc_db_begin(db))) {
        return err;
    }
    err = cc_db_exec(db, label, 4, args, &nrows);
    if (err && cc_db_is_duplicate(db, err)) {
        /* The provider gave an id it gave before: keep the message, without the id. */
        cc_db_rollback(db);
        args[0] = NULL;
        if ((err = cc_db_begin(db))) {
            return err;
        }
        err = cc_db_exec(db, label, 4, args, &nrows);
    }
    if (err) {
        return err;
    }
    if (nrows != 1) {
        /* The lease was lost (it expired and another run took the message). */
        cc_db_rollback(db);
        return NULL;
    }
    if ((err = cc_db_select_one(db, "cc_sms_get", cc_sms_cols, 2, get, &msg))) {
        return err;
    }
    changes = cc_json_object(db->pool);
    cc_audit_change_str(changes, "status", "queued", status);
    return cc_record(db, m->tenant, &cc_actor_system, "sms", "status_change", m->id, changes,
                     msg, CC_RECORD_COMMIT);
}

/* Another attempt after the backoff: status stays queued, no event. */
static cc_error_t *record_retry(cc_db_t *db, const sms_job_t *job, const sms_claim_t *m,
                                const char *error)
{
    const cc_sms_config_t *c = job->cfg;
    apr_int64_t wait = cc_backoff_seconds(m->attempts, cc_sms_cfg_retry_base(c),
                                      cc_sms_cfg_retry_max(c));
    const char *args[5] = { error, apr_psprintf(db->pool, "%" APR_INT64_T_FMT, wait),
                            m->tenant, m->id, m->token };

    return cc_db_exec(db, "cc_sms_job_retry", 5, args, NULL);
}

/* Deliver one claimed message and record what came of it. */
static cc_error_t *deliver(cc_db_t *db, const sms_job_t *job, const sms_claim_t *m)
{
    long status;
    const char *body, *error, *mid;
    apr_size_t len;
    cc_sms_outcome_e out;

    provider_call(db->pool, job->cfg, m, &status, &body, &len, &error);
    if (status == 0) {
        error = error ? cc_clean_line(db->pool, error, strlen(error), CC_SMS_ERROR_MAX)
                      : "no answer from the provider";
        out = CC_SMS_RETRY;
    }
    else {
        out = cc_sms_classify(db->pool, status, body, len, &mid, &error);
    }
    if (out == CC_SMS_SENT) {
        cc_metrics_sms(CC_METRICS_SMS_SENT);
        return record_final(db, m, "cc_sms_job_sent", mid, "sent");
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, db->s, CCLOGNO(03952)
                 "sms %s of tenant %s: attempt %d of %d failed: %s", m->id, m->tenant,
                 m->attempts, cc_sms_cfg_max_attempts(job->cfg), error);
    if (out == CC_SMS_RETRY && m->attempts < cc_sms_cfg_max_attempts(job->cfg)) {
        cc_metrics_sms(CC_METRICS_SMS_RETRY);
        return record_retry(db, job, m, error);
    }
    cc_metrics_sms(CC_METRICS_SMS_FAILED);
    return record_final(db, m, "cc_sms_job_failed", error, "failed");
}

static cc_error_t *sms_job_run(cc_db_t *db, void *data)
{
    const sms_job_t *job = data;
    apr_time_t start = apr_time_now();
    int n;

    for (n = 0; n < SMS_RUN_MAX && apr_time_now() - start < SMS_RUN_TIME; n++) {
        sms_claim_t *m;
        cc_error_t *err = claim(db, job, &m);

        if (err || !m) {
            return err;
        }
        if ((err = deliver(db, job, m))) {
            /* The lease keeps it from every other run until it expires. */
            return err;
        }
    }
    return NULL;
}

int cc_sms_job_schedule(apr_pool_t *pconf, server_rec *s)
{
    cc_api_config_t *cfg = ap_get_module_config(s->module_config, &callcenter_module);
    int interval = cc_sms_cfg_interval(&cfg->sms);
    sms_job_t *job;
    cc_job_t *j;

    if (interval <= 0 || !cfg->sms.url) {
        return OK;
    }
    /* Once per configuration, before any thread exists (not thread-safe itself). */
    if (cc_curl_global(pconf) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, CCLOGNO(03953)
                     "SMS delivery: libcurl failed to initialise");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    job = apr_pcalloc(pconf, sizeof(*job));
    job->cfg = &cfg->sms;
    job->lease = apr_itoa(pconf, cc_sms_cfg_timeout(&cfg->sms) + SMS_LEASE_MARGIN);
    j = apr_pcalloc(pconf, sizeof(*j));
    j->name = "cc-sms-delivery";
    j->run = sms_job_run;
    j->data = job;
    return cc_job_schedule(pconf, s, j, apr_time_from_sec(interval));
}
