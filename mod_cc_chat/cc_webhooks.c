/*
 * cc_webhooks.c: /api/v1/webhooks, a tenant's outbound webhook subscriptions (README
 * "Webhooks"), managed by tenant administrators (roles.manage, as the SMS secret).
 *
 *   GET/POST /webhooks, GET/PATCH/DELETE /webhooks/{id}
 *   GET  /webhooks/{id}/deliveries   the calls made: delivered, failed, dead (letters)
 *   POST /webhooks/{id}/replay {from_event_id}   deliver again from that event on
 *
 * A subscription is sent the tenant's events a tenant administrator sees on the event
 * stream whose types its patterns match, from the first event committed after its
 * creation, in id order, by the delivery job (cc_webhooks_job.c).  Its URL may not reach
 * a loopback, private or otherwise special address (cc_webhooks_rules.h) unless
 * CCWebhookAllowNetworks allows it: checked here on the literal or on what the name
 * resolves to now, and again on the address of every connection the job makes (a name
 * may resolve elsewhere later).  The secret signs the deliveries; it is written, never
 * read back: a generated one is shown once, in the create's answer (the route is
 * CC_ROUTE_SECRET, so an Idempotency-Key never stores that answer).  Audit entries and
 * the webhook.* events show the URL without its path and query (cc_wh_url_redacted):
 * they reach other readers (a `*` subscription of another receiver), and a receiver's
 * URL may hold its credential.
 */
#include <string.h>
#include <arpa/inet.h>

#include <httpd.h>
#include <http_protocol.h>
#include <apr_network_io.h>
#include <apr_strings.h>

#include "cc_audit.h"
#include "cc_chat_private.h"
#include "cc_crypto.h"
#include "cc_error.h"
#include "cc_json.h"
#include "cc_validate.h"
#include "cc_webhooks_rules.h"

/* Subscriptions per tenant. */
#define CC_WEBHOOKS_MAX 20

#define WEBHOOK_COLUMNS "w.id, w.url, w.events, w.description, w.status, w.disabled_reason," \
    " w.position, w.attempts, w.failing_since, w.next_attempt_at, w.last_success_at,"      \
    " w.last_failure_at, w.last_error, w.created_at, w.updated_at"

/* Binds tenant, status x2. */
#define WEBHOOKS_FILTER " w.tenant_id = %s AND (%s IS NULL OR w.status = %s)"
#define WEBHOOKS_LIST(order)                                                               \
    "SELECT " WEBHOOK_COLUMNS ", (SELECT COUNT(*) FROM webhooks w WHERE" WEBHOOKS_FILTER  \
    ") AS total FROM webhooks w WHERE" WEBHOOKS_FILTER " ORDER BY " order                  \
    " LIMIT %s OFFSET %s"

#define DELIVERY_COLUMNS "d.id, d.event_id, d.event_type, d.attempt, d.status," \
    " d.http_status, d.error, d.duration_ms, d.created_at"
/* Binds tenant, the webhook, status x2, event_id x2. */
#define DELIVERIES_FILTER " d.tenant_id = %s AND d.webhook_id = %s"                   \
    " AND (%s IS NULL OR d.status = %s) AND (%s IS NULL OR d.event_id = %s)"
#define DELIVERIES_LIST(order)                                                          \
    "SELECT " DELIVERY_COLUMNS ", (SELECT COUNT(*) FROM webhook_deliveries d WHERE"     \
    DELIVERIES_FILTER ") AS total FROM webhook_deliveries d WHERE" DELIVERIES_FILTER     \
    " ORDER BY " order " LIMIT %s OFFSET %s"

static const cc_stmt_t webhooks_stmts[] = {
    CC_SEARCH_SORT("cc_webhooks", "created_at", WEBHOOKS_LIST, "w.created_at ASC, w.id ASC",
                   "w.created_at DESC, w.id DESC"),
    CC_SEARCH_SORT("cc_webhooks", "url", WEBHOOKS_LIST, "w.url ASC, w.id ASC",
                   "w.url DESC, w.id DESC"),
    CC_STMT("cc_webhooks_search_count",
            "SELECT COUNT(*) FROM webhooks w WHERE" WEBHOOKS_FILTER),
    CC_STMT("cc_webhooks_get",
            "SELECT " WEBHOOK_COLUMNS " FROM webhooks w WHERE w.tenant_id = %s AND w.id = %s"),
    /* The tenant's subscriptions, their index range locked: concurrent creates take
     * their turns, so the count holds. */
    CC_STMT("cc_webhooks_count_lock",
            "SELECT COUNT(*) FROM webhooks WHERE tenant_id = %s FOR UPDATE"),
    /* The newest event id committed (sql/026): a new subscription starts after it. */
    CC_STMT("cc_webhooks_event_position",
            "SELECT n FROM event_seq WHERE id = 1"
            " /* cc-lint: no-tenant the event counter is one row for every tenant */"),
    CC_STMT("cc_webhooks_insert",
            "INSERT INTO webhooks (tenant_id, url, events, description, secret, status,"
            " disabled_reason, position, next_attempt_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, UTC_TIMESTAMP(6)) RETURNING id"),
    CC_STMT("cc_webhooks_lock",
            "SELECT url, events, description, status, disabled_reason, secret, position"
            " FROM webhooks WHERE tenant_id = %s AND id = %s FOR UPDATE"),
    /* reset (x4): a subscription enabled again, or given another URL or secret, starts
     * afresh: no failures counted, the next call due now.  interrupt: a change of what
     * or where it delivers ends a run in progress: its next write misses the token, and
     * it then gives up the lease (kept until then, so that no other run calls while its
     * call may be in flight). */
    CC_STMT("cc_webhooks_update",
            "UPDATE webhooks SET url = %s, events = %s, description = %s, secret = %s,"
            " status = %s, disabled_reason = %s, attempts = IF(%s, 0, attempts),"
            " head_failed_at = IF(%s, NULL, head_failed_at),"
            " failing_since = IF(%s, NULL, failing_since),"
            " next_attempt_at = IF(%s, UTC_TIMESTAMP(6), next_attempt_at),"
            " claim_token = IF(%s, NULL, claim_token),"
            " updated_at = UTC_TIMESTAMP() WHERE tenant_id = %s AND id = %s"),
    /* A replay: the next event is from_event_id's, due now; a run in progress loses its
     * claim (its writes check the token), so it cannot move the position past it, and it
     * gives up the lease once its call is over. */
    CC_STMT("cc_webhooks_replay",
            "UPDATE webhooks SET position = %s, attempts = 0, head_failed_at = NULL,"
            " next_attempt_at = UTC_TIMESTAMP(6), claim_token = 'replay',"
            " updated_at = UTC_TIMESTAMP() WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_webhooks_delete",
            "DELETE FROM webhooks WHERE tenant_id = %s AND id = %s RETURNING id, url,"
            " events, description, status, disabled_reason, position, attempts,"
            " failing_since, next_attempt_at, last_success_at, last_failure_at, last_error,"
            " created_at, updated_at"),
    CC_STMT("cc_webhooks_exists", "SELECT id FROM webhooks WHERE tenant_id = %s AND id = %s"),
    CC_SEARCH_SORT("cc_webhook_deliveries", "id", DELIVERIES_LIST, "d.id ASC", "d.id DESC"),
    CC_STMT("cc_webhook_deliveries_search_count",
            "SELECT COUNT(*) FROM webhook_deliveries d WHERE" DELIVERIES_FILTER),
    /* The events' retention job (mod_cc_chat.c), by idx_webhook_deliveries_created. */
    CC_STMT("cc_webhook_deliveries_prune",
            "DELETE FROM webhook_deliveries"
            " WHERE created_at < UTC_TIMESTAMP() - INTERVAL %s DAY LIMIT 10000"
            " /* cc-lint: no-tenant retention applies to every tenant */"),
    CC_STMT_END
};

const cc_col_t cc_webhook_cols[] = {
    { "id", CC_COL_INT },
    { "url", CC_COL_STR },
    { "events", CC_COL_LIST },
    { "description", CC_COL_STR },
    { "status", CC_COL_STR },
    { "disabled_reason", CC_COL_STR },
    { "last_event_id", CC_COL_INT },
    { "failed_attempts", CC_COL_INT },
    { "failing_since", CC_COL_TIME },
    { "next_attempt_at", CC_COL_TIME },
    { "last_success_at", CC_COL_TIME },
    { "last_failure_at", CC_COL_TIME },
    { "last_error", CC_COL_STR },
    { "created_at", CC_COL_TIME },
    { "updated_at", CC_COL_TIME },
    CC_COL_END
};

static const cc_col_t delivery_cols[] = {
    { "id", CC_COL_INT },
    { "event_id", CC_COL_INT },
    { "event_type", CC_COL_STR },
    { "attempt", CC_COL_INT },
    { "status", CC_COL_STR },
    { "http_status", CC_COL_INT },
    { "error", CC_COL_STR },
    { "duration_ms", CC_COL_INT },
    { "created_at", CC_COL_TIME },
    CC_COL_END
};

static const char *const webhook_sorts[] = { "created_at", "url", NULL };
static const char *const webhook_statuses[] = { "active", "disabled", NULL };
static const char *const delivery_sorts[] = { "id", NULL };
static const char *const delivery_statuses[] = { "delivered", "failed", "dead", NULL };

static const cc_filter_t webhook_filters[] = {
    { "status", CC_FILTER_ENUM, 2, webhook_statuses, 0, NULL, NULL },
    CC_FILTER_END
};

static const cc_filter_t delivery_filters[] = {
    { "id", CC_FILTER_PATH, 1, NULL, 0, NULL, NULL },
    { "status", CC_FILTER_ENUM, 2, delivery_statuses, 0, NULL, NULL },
    { "event_id", CC_FILTER_ID, 2, NULL, 0, NULL, NULL },
    CC_FILTER_END
};

static const cc_list_t webhooks_list_spec = { "cc_webhooks", webhook_sorts, "created_at",
                                              cc_webhook_cols, webhook_filters,
                                              CC_LIST_SEARCH_ONLY, NULL, NULL };

static const cc_list_t deliveries_list_spec = { "cc_webhook_deliveries", delivery_sorts, "-id",
                                                delivery_cols, delivery_filters,
                                                CC_LIST_SEARCH_ONLY, NULL, NULL };

static const cc_field_t webhook_fields[] = {
    { "url", CC_JT_STRING, 1 },
    { "events", CC_JT_STRING_ARRAY, 1 },
    { "secret", CC_JT_STRING, 0 },
    { "description", CC_JT_STRING_NULL, 0 },
    { "status", CC_JT_STRING, 0 },
    { NULL, 0, 0 }
};

/* A subscription's values: the stored ones, with what a body changes. */
typedef struct wh_values_t {
    const char *url, *events, *description, *status, *secret;
} wh_values_t;

#define HOST_ISSUE "reaches a loopback, private or special-purpose address, which" \
    " deliveries may not (CCWebhookAllowNetworks)"

/* Whether the URL's host may be reached: a literal as it is, a name as it resolves now
 * (every address; one that does not resolve now is checked at each call). */
static const char *host_issue(cc_ctx_t *ctx, const char *host)
{
    int n;
    const cc_wh_net_t *allow = cc_chat_webhook_allow(ctx->r->server, &n);
    unsigned char a[16];
    apr_sockaddr_t *sa;

    if (inet_pton(AF_INET, host, a) == 1) {
        return cc_wh_addr_allowed(0, a, allow, n) ? NULL : HOST_ISSUE;
    }
    if (inet_pton(AF_INET6, host, a) == 1) {
        return cc_wh_addr_allowed(1, a, allow, n) ? NULL : HOST_ISSUE;
    }
    if (apr_sockaddr_info_get(&sa, host, APR_UNSPEC, 80, 0, ctx->pool) != APR_SUCCESS) {
        return NULL;
    }
    for (; sa; sa = sa->next) {
        if (!cc_wh_sockaddr_allowed(&sa->sa.sin, allow, n)) {
            return HOST_ISSUE;
        }
    }
    return NULL;
}

/* The body's values over v; 400 naming every field at fault. */
static cc_error_t *webhook_values(cc_ctx_t *ctx, const json_t *body, wh_values_t *v)
{
    apr_pool_t *p = ctx->pool;
    const json_t *events = json_object_get(body, "events");
    const json_t *desc = json_object_get(body, "description");
    const char *url = cc_json_str(body, "url"), *secret = cc_json_str(body, "secret");
    const char *status = cc_json_str(body, "status"), *host, *issue;
    cc_error_t *err = NULL;

    if (url) {
        if (!(issue = cc_wh_url_issue(p, url, &host)) && !(issue = host_issue(ctx, host))) {
            v->url = url;
        }
        else {
            err = cc_error_collect(p, err, "url", issue);
        }
    }
    if (events) {
        size_t i, j, n = json_array_size(events);
        const char *csv = "";

        if (n < 1 || n > CC_WH_PATTERNS_MAX) {
            err = cc_error_collect(p, err, "events", "must name 1 to "
                                   APR_STRINGIFY(CC_WH_PATTERNS_MAX) " event patterns");
        }
        for (i = 0; i < n && n <= CC_WH_PATTERNS_MAX; i++) {
            const char *pat = json_string_value(json_array_get(events, i));

            if (!cc_wh_pattern_ok(pat)) {
                err = cc_error_collect(p, err, "events",
                                       apr_psprintf(p, "item %d is not an event pattern:"
                                                    " \"*\", \"<prefix>.*\" or an event"
                                                    " type of a known prefix", (int)i));
                continue;
            }
            for (j = 0; j < i; j++) {
                if (!strcmp(pat, json_string_value(json_array_get(events, j)))) {
                    break;
                }
            }
            if (j == i) {
                csv = apr_pstrcat(p, csv, *csv ? "," : "", pat, NULL);
            }
        }
        v->events = csv;
    }
    if (secret) {
        if (!cc_wh_secret_ok(secret)) {
            err = cc_error_collect(p, err, "secret", "must be "
                                   APR_STRINGIFY(CC_WH_SECRET_MIN) " to "
                                   APR_STRINGIFY(CC_WH_SECRET_MAX) " characters of"
                                   " printable ASCII without spaces");
        }
        v->secret = secret;
    }
    if (desc) {
        v->description = json_string_value(desc);
        if (v->description && !cc_valid_text(v->description, 0, CC_WH_DESCRIPTION_MAX)) {
            err = cc_error_collect(p, err, "description", "must be at most "
                                   APR_STRINGIFY(CC_WH_DESCRIPTION_MAX) " characters of"
                                   " text");
        }
    }
    if (status) {
        if (!cc_valid_enum(status, webhook_statuses)) {
            err = cc_error_collect(p, err, "status", cc_enum_issue(p, webhook_statuses));
        }
        v->status = status;
    }
    return err;
}

json_t *cc_webhook_public(apr_pool_t *p, const json_t *obj)
{
    json_t *out = cc_json_own(p, json_copy((json_t *)obj));

    json_object_set_new(out, "url",
                        json_string(cc_wh_url_redacted(p, cc_json_str(obj, "url"))));
    return out;
}

/* An audited change of key, when there is one. */
static void change(json_t *changes, const char *key, const char *from, const char *to)
{
    if (!cc_str_same(from, to)) {
        cc_audit_change_str(changes, key, from, to);
    }
}

static cc_error_t *webhooks_create(cc_ctx_t *ctx)
{
    apr_pool_t *p = ctx->pool;
    wh_values_t v = { NULL, NULL, NULL, "active", NULL };
    const char *tenant = ctx->principal->tenant_id, **row, *id, *generated = NULL;
    json_t *body, *obj, *changes, *out;
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, webhook_fields, &body))
        || (err = webhook_values(ctx, body, &v))) {
        return err;
    }
    if (!v.secret) {
        if (cc_random_token(p, 32, &generated) != APR_SUCCESS) {
            return cc_error_internal(p);
        }
        v.secret = generated = apr_pstrcat(p, "whsec_", generated, NULL);
    }
    if ((err = cc_db_begin(ctx->db))
        || (err = cc_db_select_row(ctx->db, "cc_webhooks_count_lock", 1, &tenant, &row,
                                   NULL))) {
        return err;
    }
    if (row && row[0] && apr_atoi64(row[0]) >= CC_WEBHOOKS_MAX) {
        return cc_error_make(p, HTTP_CONFLICT, CC_ERR_QUOTA_EXCEEDED,
                             "a tenant has at most " APR_STRINGIFY(CC_WEBHOOKS_MAX)
                             " webhooks");
    }
    if ((err = cc_db_select_row(ctx->db, "cc_webhooks_event_position", 0, NULL, &row,
                                NULL))) {
        return err;
    }
    {
        const char *args[8] = { tenant, v.url, v.events, v.description, v.secret, v.status,
                                strcmp(v.status, "active") ? "disabled when created" : NULL,
                                row && row[0] ? row[0] : "0" };

        if ((err = cc_db_select_row(ctx->db, "cc_webhooks_insert", 8, args, &row, NULL))) {
            return err;
        }
    }
    if (!row) {
        return cc_error_internal(p);
    }
    id = apr_pstrdup(p, row[0]);
    changes = cc_json_object(p);
    change(changes, "url", NULL, cc_wh_url_redacted(p, v.url));
    change(changes, "events", NULL, v.events);
    change(changes, "description", NULL, v.description);
    change(changes, "status", NULL, v.status);
    if ((err = cc_fetch(ctx, "cc_webhooks_get", cc_webhook_cols, id, &obj))
        || (err = cc_ctx_record(ctx, "webhook", "create", id, changes,
                                cc_webhook_public(p, obj), CC_RECORD_COMMIT))) {
        return err;
    }
    /* A generated secret, once, in this answer only. */
    out = cc_json_own(p, json_copy(obj));
    if (generated) {
        json_object_set_new(out, "secret", json_string(generated));
    }
    return cc_reply_created(ctx, apr_pstrcat(p, "/api/v1/webhooks/", id, NULL), out);
}

static cc_error_t *webhooks_update(cc_ctx_t *ctx)
{
    apr_pool_t *p = ctx->pool;
    const char *id = cc_path(ctx, "id"), **row, *reason;
    wh_values_t v;
    json_t *body, *changes, *obj;
    int reset, interrupt;
    cc_error_t *err;

    if ((err = cc_read_json_patch(ctx, webhook_fields, &body))
        || (err = cc_db_begin(ctx->db))
        || (err = cc_fetch_row(ctx, "cc_webhooks_lock", id, &row))) {
        return err;
    }
    v.url = row[0];
    v.events = row[1];
    v.description = row[2];
    v.status = row[3];
    v.secret = row[5];
    if ((err = webhook_values(ctx, body, &v))) {
        return err;
    }
    changes = cc_json_object(p);
    if (strcmp(v.url, row[0])) {
        /* Shown without its path and query, which may hold the receiver's credential. */
        cc_audit_change_str(changes, "url", cc_wh_url_redacted(p, row[0]),
                            cc_wh_url_redacted(p, v.url));
    }
    change(changes, "events", row[1], v.events);
    change(changes, "description", row[2], v.description);
    change(changes, "status", row[3], v.status);
    if (strcmp(v.secret, row[5])) {
        /* That it changed, never what it is. */
        cc_audit_change_str(changes, "secret", "(hidden)", "(changed)");
    }
    if (json_object_size(changes) == 0) {
        return cc_reply_unchanged(ctx, cc_handle_get);
    }
    /* Another URL, secret or set of patterns, or enabled again: the failures counted so
     * far were not this subscription's (a pattern change may pass over the failing
     * event, whose retry history must not pass to the next one). */
    reset = strcmp(v.url, row[0]) || strcmp(v.secret, row[5]) || strcmp(v.events, row[1])
            || (strcmp(v.status, row[3]) && !strcmp(v.status, "active"));
    interrupt = reset || strcmp(v.status, row[3]);
    reason = !strcmp(v.status, "active") ? NULL
             : strcmp(row[3], "disabled") ? "disabled by a user" : row[4];
    {
        const char *flag = reset ? "1" : "0", *stop = interrupt ? "1" : "0";
        const char *args[13] = { v.url, v.events, v.description, v.secret, v.status, reason,
                                 flag, flag, flag, flag, stop,
                                 ctx->principal->tenant_id, id };

        if ((err = cc_db_exec(ctx->db, "cc_webhooks_update", 13, args, NULL))) {
            return err;
        }
    }
    if ((err = cc_fetch(ctx, "cc_webhooks_get", cc_webhook_cols, id, &obj))
        || (err = cc_ctx_record(ctx, "webhook", "update", id, changes,
                                cc_webhook_public(p, obj), CC_RECORD_COMMIT))) {
        return err;
    }
    return cc_reply_json(ctx, HTTP_OK, obj);
}

static const char *const webhook_audit_drop[] = { "id", "created_at", "updated_at",
                                                  "next_attempt_at", NULL };

static cc_error_t *webhooks_delete(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id");
    json_t *obj;
    cc_error_t *err;

    if ((err = cc_db_begin(ctx->db))
        || (err = cc_fetch(ctx, "cc_webhooks_delete", cc_webhook_cols, id, &obj))) {
        return err;
    }
    return cc_ctx_commit_delete(ctx, "webhook", id, cc_webhook_public(ctx->pool, obj),
                                webhook_audit_drop);
}

static cc_error_t *webhooks_deliveries(cc_ctx_t *ctx)
{
    const char **row;
    cc_error_t *err = cc_fetch_row(ctx, "cc_webhooks_exists", cc_path(ctx, "id"), &row);

    return err ? err : cc_reply_list(ctx, &deliveries_list_spec);
}

static const cc_field_t replay_fields[] = {
    { "from_event_id", CC_JT_INT, 1 },
    { NULL, 0, 0 }
};

static cc_error_t *webhooks_replay(cc_ctx_t *ctx)
{
    apr_pool_t *p = ctx->pool;
    const char *id = cc_path(ctx, "id"), **row;
    json_t *body, *obj, *changes;
    json_int_t from;
    apr_uint64_t next;
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, replay_fields, &body))) {
        return err;
    }
    from = json_integer_value(json_object_get(body, "from_event_id"));
    if (from < 1) {
        return cc_error_field(p, "from_event_id", "must be a positive event id");
    }
    if ((err = cc_db_begin(ctx->db))
        || (err = cc_fetch_row(ctx, "cc_webhooks_lock", id, &row))) {
        return err;
    }
    /* Back, not forward: the events after the position are not delivered yet, and a
     * replay skips none. */
    next = (apr_uint64_t)apr_atoi64(row[6]) + 1;
    if ((apr_uint64_t)from > next) {
        return cc_error_make(p, HTTP_CONFLICT, CC_ERR_CONFLICT,
                             "events from %" APR_UINT64_T_FMT " on are not delivered yet:"
                             " a replay starts at most there", next);
    }
    {
        const char *args[3] = { apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)from - 1),
                                ctx->principal->tenant_id, id };

        if ((err = cc_db_exec(ctx->db, "cc_webhooks_replay", 3, args, NULL))
            || (err = cc_fetch(ctx, "cc_webhooks_get", cc_webhook_cols, id, &obj))) {
            return err;
        }
    }
    changes = cc_json_object(p);
    json_object_set_new(changes, "from_event_id", json_integer(from));
    if ((err = cc_ctx_record(ctx, "webhook", "replay", id, changes,
                             cc_webhook_public(p, obj), CC_RECORD_COMMIT))) {
        return err;
    }
    return cc_reply_json(ctx, HTTP_ACCEPTED, obj);
}

cc_error_t *cc_webhooks_prune(cc_db_t *db, int days)
{
    const char *args[1] = { apr_itoa(db->pool, days) };
    int nrows = 0, rounds = 0;
    cc_error_t *err;

    /* Delivery rows may come many to an event (retries, subscriptions): up to ten
     * rounds of 10,000 a run. */
    do {
        err = cc_db_exec(db, "cc_webhook_deliveries_prune", 1, args, &nrows);
    } while (!err && nrows == 10000 && ++rounds < 10);
    return err;
}

static const cc_route_t webhooks_routes[] = {
    { "GET", "/api/v1/webhooks", cc_handle_list, "roles.manage", CC_ROUTE_AUTH },
    { "POST", "/api/v1/webhooks", webhooks_create, "roles.manage",
      CC_ROUTE_AUTH | CC_ROUTE_SECRET },
    { "GET", "/api/v1/webhooks/{id:int}", cc_handle_get, "roles.manage", CC_ROUTE_AUTH },
    { "PATCH", "/api/v1/webhooks/{id:int}", webhooks_update, "roles.manage",
      CC_ROUTE_AUTH },
    { "DELETE", "/api/v1/webhooks/{id:int}", webhooks_delete, "roles.manage",
      CC_ROUTE_AUTH },
    { "GET", "/api/v1/webhooks/{id:int}/deliveries", webhooks_deliveries, "roles.manage",
      CC_ROUTE_AUTH },
    { "POST", "/api/v1/webhooks/{id:int}/replay", webhooks_replay, "roles.manage",
      CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_webhooks_domain = { "webhooks", webhooks_routes, webhooks_stmts,
                                         &webhooks_list_spec, "cc_webhooks_get",
                                         cc_webhook_cols };
