/*
 * cc_slas.c: /api/v1/slas — a tenant's SLA policies, one per ticket priority, with an
 * optional business calendar (cc_sla_rules.h); the policies' arithmetic for tickets
 * (cc_sla_load, cc_sla_due); and the breach job.
 *
 * A calendar is stored in its canonical form (cc_sla_calendar_json) and its zone is
 * checked when it is saved (cc_tz_load), so a stored one always parses.
 *
 * The breach job (CCSlaInterval, mod_watchdog: one child per node) claims due tickets
 * with a locking read that skips rows another run holds (SKIP LOCKED), sets sla_breached
 * only where it is still 0 and announces the tickets it set: whatever the number of
 * nodes running it, a breach is marked and announced once.  tickets.sla_next_due_at
 * (sql/018) is the earliest running due time of a ticket not yet breached, indexed, so a
 * run reads only what is due.
 */
#include <string.h>

#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "cc_api_private.h"
#include "cc_audit.h"
#include "cc_hd_private.h"
#include "cc_job.h"
#include "cc_log.h"
#include "cc_validate.h"

static const char *const sla_sorts[] = { "name", "priority", "created_at", NULL };
static const char *const sla_priorities[] = { "low", "normal", "high", "urgent", NULL };

#define SLA_NAME_MAX 100

/* ---- statements ---- */

#define SLA_COLUMNS "s.id, s.name, s.priority, s.first_response_minutes," \
    " s.resolution_minutes, s.calendar, s.created_at, s.updated_at"

/* Binds 3 values: tenant, priority x2. */
#define SLAS_FILTER " s.tenant_id = %s AND (%s IS NULL OR s.priority = %s)"

#define SLAS_LIST(order)                                                           \
    "SELECT " SLA_COLUMNS ", (SELECT COUNT(*) FROM slas s WHERE" SLAS_FILTER ") AS total" \
    " FROM slas s WHERE" SLAS_FILTER " ORDER BY " order " LIMIT %s OFFSET %s"

/* The breach job's claim: due tickets of every tenant, oldest due first.  The breach is
 * the first response when its clock is the one that ran out. */
#define SLA_CLAIM_BATCH "100"

static const cc_stmt_t slas_stmts[] = {
    CC_SEARCH_SORT("cc_slas", "name", SLAS_LIST, "s.name ASC, s.id ASC",
                   "s.name DESC, s.id DESC"),
    CC_SEARCH_SORT("cc_slas", "priority", SLAS_LIST, "s.priority ASC", "s.priority DESC"),
    CC_SEARCH_SORT("cc_slas", "created_at", SLAS_LIST, "s.created_at ASC, s.id ASC",
                   "s.created_at DESC, s.id DESC"),
    CC_STMT("cc_slas_search_count", "SELECT COUNT(*) FROM slas s WHERE" SLAS_FILTER),
    CC_STMT("cc_slas_get", "SELECT " SLA_COLUMNS " FROM slas s WHERE s.tenant_id = %s"
                           " AND s.id = %s"),
    CC_STMT("cc_slas_lock", "SELECT name, priority, first_response_minutes,"
                            " resolution_minutes, calendar FROM slas"
                            " WHERE tenant_id = %s AND id = %s FOR UPDATE"),
    CC_STMT("cc_slas_insert",
            "INSERT INTO slas (tenant_id, name, priority, first_response_minutes,"
            " resolution_minutes, calendar) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id"),
    CC_STMT("cc_slas_update",
            "UPDATE slas SET name = %s, priority = %s, first_response_minutes = %s,"
            " resolution_minutes = %s, calendar = %s, updated_at = UTC_TIMESTAMP()"
            " WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_slas_delete", "DELETE FROM slas WHERE tenant_id = %s AND id = %s"),
    /* cc_sla_load: a ticket's policy, by priority (a new ticket, a priority change) or
     * by id (a ticket coming back from a pause). */
    CC_STMT("cc_slas_for_priority",
            "SELECT id, first_response_minutes, resolution_minutes, calendar FROM slas"
            " WHERE tenant_id = %s AND priority = %s"),
    CC_STMT("cc_slas_for_id",
            "SELECT id, first_response_minutes, resolution_minutes, calendar FROM slas"
            " WHERE tenant_id = %s AND id = %s"),
    /* The job (every tenant's tickets: the claim reads tenant_id to act in it). */
    CC_STMT("cc_slas_claim",
            "SELECT t.id, t.tenant_id, IF(t.first_responded_at IS NULL"
            " AND t.first_response_due_at <= UTC_TIMESTAMP()"
            " AND t.status NOT IN ('solved','closed'), 'first_response', 'resolution')"
            " FROM tickets t WHERE t.sla_next_due_at <= UTC_TIMESTAMP()"
            " ORDER BY t.sla_next_due_at LIMIT " SLA_CLAIM_BATCH " FOR UPDATE SKIP LOCKED"),
    CC_STMT("cc_slas_breach",
            "UPDATE tickets SET sla_breached = 1 WHERE tenant_id = %s AND id = %s"
            " AND sla_breached = 0"),
    CC_STMT_END
};

static const cc_col_t sla_cols[] = {
    { "id", CC_COL_INT },
    { "name", CC_COL_STR },
    { "priority", CC_COL_STR },
    { "first_response_minutes", CC_COL_INT },
    { "resolution_minutes", CC_COL_INT },
    { "calendar", CC_COL_JSON },
    { "created_at", CC_COL_TIME },
    { "updated_at", CC_COL_TIME },
    CC_COL_END
};

static const cc_filter_t sla_filters[] = {
    { "priority", CC_FILTER_ENUM, 2, sla_priorities, 0, NULL, NULL },
    CC_FILTER_END
};

static const cc_list_t slas_list_spec = { "cc_slas", sla_sorts, "priority", sla_cols,
                                          sla_filters, CC_LIST_SEARCH_ONLY, NULL, NULL };

/* ---- values ---- */

static const cc_field_t sla_fields[] = {
    { "name", CC_JT_STRING, 1 },
    { "priority", CC_JT_STRING, 1 },
    { "first_response_minutes", CC_JT_INT, 1 },
    { "resolution_minutes", CC_JT_INT, 1 },
    { "calendar", CC_JT_OBJECT_NULL, 0 },
    { NULL, 0, 0 }
};

enum { SV_NAME, SV_PRIORITY, SV_FIRST, SV_RESOLUTION, SV_CALENDAR, SV_N };
static const char *const sla_keys[SV_N] = {
    "name", "priority", "first_response_minutes", "resolution_minutes", "calendar"
};

/* A calendar object as its canonical text, its zone checked (400 on calendar.timezone). */
static cc_error_t *calendar_text(apr_pool_t *p, const json_t *j, const char **ptext)
{
    cc_sla_calendar_t *cal;
    cc_tzinfo_t *tz;
    cc_error_t *err;
    json_t *canon;

    if ((err = cc_sla_calendar_parse(p, j, &cal))) {
        return err;
    }
    if ((err = cc_tz_load(p, cal->timezone, &tz))) {
        return cc_error_field(p, "calendar.timezone", "unknown time zone");
    }
    canon = cc_sla_calendar_json(cal);
    *ptext = cc_json_dump(p, canon);
    json_decref(canon);
    return NULL;
}

static cc_error_t *sla_values(apr_pool_t *p, const json_t *body, const char **v)
{
    const json_t *j;
    const char *s;
    cc_error_t *err = NULL;
    int i;

    if ((s = cc_json_str(body, "name"))) {
        if (!cc_valid_text(s, 1, SLA_NAME_MAX)) {
            err = cc_error_collect(p, err, "name", "must be 1 to 100 characters");
        }
        v[SV_NAME] = s;
    }
    if ((s = cc_json_str(body, "priority"))) {
        if (!cc_valid_enum(s, sla_priorities)) {
            err = cc_error_collect(p, err, "priority", cc_enum_issue(p, sla_priorities));
        }
        v[SV_PRIORITY] = s;
    }
    for (i = SV_FIRST; i <= SV_RESOLUTION; i++) {
        if ((j = json_object_get(body, sla_keys[i]))) {
            json_int_t n = json_integer_value(j);

            if (n < 1 || n > CC_SLA_MINUTES_MAX) {
                err = cc_error_collect(p, err, sla_keys[i], "must be 1 to 525600 minutes");
            }
            v[i] = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)n);
        }
    }
    if ((j = json_object_get(body, "calendar"))) {
        cc_error_t *e = json_is_null(j) ? NULL : calendar_text(p, j, &v[SV_CALENDAR]);

        if (json_is_null(j)) {
            v[SV_CALENDAR] = NULL;
        }
        if (e && e->details) {
            int k;

            for (k = 0; k < e->details->nelts; k++) {
                const cc_error_detail_t *d = &APR_ARRAY_IDX(e->details, k, cc_error_detail_t);

                err = cc_error_collect(p, err, d->field, d->issue);
            }
        }
        else if (e) {
            return e;
        }
    }
    return err;
}

static json_t *sla_diff(apr_pool_t *p, const char *const *old, const char *const *v)
{
    json_t *changes = cc_json_object(p);
    int i;

    for (i = 0; i < SV_N; i++) {
        if (!cc_str_same(old[i], v[i])) {
            if (i == SV_FIRST || i == SV_RESOLUTION) {
                cc_audit_change(changes, sla_keys[i], cc_json_int_or_null(old[i]),
                                cc_json_int_or_null(v[i]));
            }
            else {
                cc_audit_change(changes, sla_keys[i], cc_json_str_or_null(old[i]),
                                cc_json_str_or_null(v[i]));
            }
        }
    }
    return changes;
}

static cc_error_t *priority_conflict(cc_ctx_t *ctx, cc_error_t *err)
{
    return cc_db_duplicate(ctx->db, err, "priority", "already has a policy",
                           "this priority already has an SLA policy");
}

static cc_error_t *slas_create(cc_ctx_t *ctx)
{
    const char *v[SV_N] = { NULL, NULL, NULL, NULL, NULL }, *args[6], **row, *id;
    static const char *const blank[SV_N] = { NULL, NULL, NULL, NULL, NULL };
    json_t *body, *sla;
    cc_error_t *err;
    int i;

    if ((err = cc_read_json_fields(ctx, sla_fields, &body))
        || (err = sla_values(ctx->pool, body, v))) {
        return err;
    }
    args[0] = ctx->principal->tenant_id;
    for (i = 0; i < SV_N; i++) {
        args[i + 1] = v[i];
    }
    if ((err = cc_db_begin(ctx->db))
        || (err = priority_conflict(ctx, cc_db_select_row(ctx->db, "cc_slas_insert", 6, args,
                                                          &row, NULL)))) {
        return err;
    }
    if (!row) {
        return cc_error_internal(ctx->pool);
    }
    id = row[0];
    if ((err = cc_fetch(ctx, "cc_slas_get", sla_cols, id, &sla))) {
        return err;
    }
    return cc_ctx_commit(ctx, "sla", "create", id, sla_diff(ctx->pool, blank, v), sla,
                         HTTP_CREATED, apr_pstrcat(ctx->pool, "/api/v1/slas/", id, NULL));
}

static cc_error_t *slas_update(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), *old[SV_N], *v[SV_N], **row;
    json_t *body, *changes, *sla;
    cc_error_t *err;
    int i;

    if ((err = cc_read_json_patch(ctx, sla_fields, &body))
        || (err = cc_db_begin(ctx->db))
        || (err = cc_fetch_row(ctx, "cc_slas_lock", id, &row))) {
        return err;
    }
    for (i = 0; i < SV_N; i++) {
        old[i] = v[i] = row[i];
    }
    if ((err = sla_values(ctx->pool, body, v))) {
        return err;
    }
    changes = sla_diff(ctx->pool, old, v);
    if (json_object_size(changes) == 0) {
        return cc_reply_unchanged(ctx, cc_handle_get);
    }
    {
        const char *args[7] = { v[SV_NAME], v[SV_PRIORITY], v[SV_FIRST], v[SV_RESOLUTION],
                                v[SV_CALENDAR], ctx->principal->tenant_id, id };

        err = priority_conflict(ctx, cc_db_exec(ctx->db, "cc_slas_update", 7, args, NULL));
    }
    if (err || (err = cc_fetch(ctx, "cc_slas_get", sla_cols, id, &sla))) {
        return err;
    }
    return cc_ctx_commit(ctx, "sla", "update", id, changes, sla, HTTP_OK, NULL);
}

static const char *const sla_audit_drop[] = { "id", "created_at", "updated_at", NULL };

/* Tickets under the policy keep their due times (sla_id becomes NULL: ON DELETE SET NULL). */
static cc_error_t *slas_delete(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), **row;
    const char *args[2] = { ctx->principal->tenant_id, id };
    json_t *sla;
    cc_error_t *err;

    if ((err = cc_db_begin(ctx->db))
        || (err = cc_fetch_row(ctx, "cc_slas_lock", id, &row))
        || (err = cc_fetch(ctx, "cc_slas_get", sla_cols, id, &sla))
        || (err = cc_db_exec(ctx->db, "cc_slas_delete", 2, args, NULL))) {
        return err;
    }
    return cc_ctx_commit_delete(ctx, "sla", id, sla, sla_audit_drop);
}

/* ---- for tickets ---- */

cc_error_t *cc_sla_load(cc_ctx_t *ctx, const char *priority, const char *id,
                        cc_sla_policy_t **ppolicy)
{
    const char *args[2] = { ctx->principal->tenant_id, priority ? priority : id }, **row;
    cc_sla_policy_t *pol;
    cc_error_t *err;

    *ppolicy = NULL;
    if (!args[1]) {
        return NULL;
    }
    if ((err = cc_db_select_row(ctx->db, priority ? "cc_slas_for_priority" : "cc_slas_for_id",
                                2, args, &row, NULL))
        || !row) {
        return err;
    }
    pol = apr_pcalloc(ctx->pool, sizeof(*pol));
    pol->id = row[0];
    pol->first_secs = apr_atoi64(row[1]) * 60;
    pol->resolution_secs = apr_atoi64(row[2]) * 60;
    if (row[3]) {
        json_error_t je;
        json_t *j = cc_json_own(ctx->pool, json_loads(row[3], 0, &je));

        /* Stored canonical and checked: a failure here is a damaged row. */
        if (!j || cc_sla_calendar_parse(ctx->pool, j, &pol->cal)
            || cc_tz_load(ctx->pool, pol->cal->timezone, &pol->tz)) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r, CCLOGNO(03954)
                          "SLA policy %s: its stored calendar cannot be used", pol->id);
            return cc_error_internal(ctx->pool);
        }
    }
    *ppolicy = pol;
    return NULL;
}

const char *cc_sla_due(apr_pool_t *p, const cc_sla_policy_t *pol, apr_int64_t start,
                       apr_int64_t secs)
{
    apr_int64_t due;

    return cc_sla_add(p, pol ? pol->cal : NULL, pol ? pol->tz : NULL, start, secs, &due)
           ? cc_epoch_to_sql(p, due) : NULL;
}

apr_int64_t cc_sla_paused(apr_pool_t *p, const cc_sla_policy_t *pol, apr_int64_t from,
                          apr_int64_t to)
{
    apr_int64_t secs = 0;

    /* Beyond the zone's data (or the horizon) nothing is counted: a due time moved by
     * wall-clock seconds read as business ones would be days off. */
    return cc_sla_between(p, pol ? pol->cal : NULL, pol ? pol->tz : NULL, from, to, &secs)
           ? secs : 0;
}

/* ---- the breach job ---- */

static const cc_col_t claim_cols[] = {
    { "id", CC_COL_STR },
    { "tenant_id", CC_COL_STR },
    { "breach", CC_COL_STR },
    CC_COL_END
};

/* One claimed batch: *pn tickets claimed.  The tickets are marked and rendered first,
 * then their audit entries and events written together at the end: an event insert
 * holds the event counter until the commit (sql/026), so every other event write of the
 * node waits for this batch only while its records are written, not while it renders. */
static cc_error_t *breach_batch(cc_db_t *db, apr_pool_t *p, int *pn)
{
    json_t *rows = NULL;
    cc_error_t *err;
    size_t i, nmarked = 0;
    struct marked { const char *tenant, *id; json_t *ticket, *changes; } *marked;

    *pn = 0;
    if ((err = cc_db_begin(db))
        || (err = cc_db_select(db, "cc_slas_claim", claim_cols, 0, NULL, &rows, NULL))) {
        cc_db_rollback(db);
        return err;
    }
    marked = apr_pcalloc(p, sizeof(*marked) * (json_array_size(rows) + 1));
    for (i = 0; i < json_array_size(rows); i++) {
        const json_t *row = json_array_get(rows, i);
        const char *id = cc_json_str(row, "id"), *tenant = cc_json_str(row, "tenant_id");
        const char *breach = cc_json_str(row, "breach");
        const char *args[2] = { tenant, id };
        struct marked *m = &marked[nmarked];
        int n = 0;

        if ((err = cc_db_exec(db, "cc_slas_breach", 2, args, &n))) {
            break;
        }
        if (n != 1) {
            continue;
        }
        if ((err = cc_tickets_render(db, tenant, id, &m->ticket))) {
            break;
        }
        json_object_set_new(m->ticket, "breach", json_string(breach));
        m->changes = cc_json_object(p);
        cc_audit_change(m->changes, "sla_breached", json_false(), json_true());
        cc_audit_change_str(m->changes, "breach", NULL, breach);
        m->tenant = tenant;
        m->id = id;
        nmarked++;
    }
    for (i = 0; !err && i < nmarked; i++) {
        err = cc_record(db, marked[i].tenant, &cc_actor_system, "ticket", "sla_breach",
                        marked[i].id, marked[i].changes, marked[i].ticket, CC_RECORD_BOTH);
    }
    if (err || (err = cc_db_commit(db))) {
        cc_db_rollback(db);
        return err;
    }
    *pn = (int)json_array_size(rows);
    return NULL;
}

static cc_error_t *breach_job(cc_db_t *db, void *data)
{
    apr_pool_t *p = db->pool;
    cc_error_t *err;
    int n, batches = 0;

    (void)data;
    do {
        err = breach_batch(db, p, &n);
    } while (!err && n == atoi(SLA_CLAIM_BATCH) && ++batches < 100);
    return err;
}

static const cc_job_t breach_job_desc = { "cc-sla-breach", breach_job, NULL, 0, NULL };

int cc_sla_job_schedule(apr_pool_t *pconf, server_rec *s)
{
    const cc_api_config_t *cfg = ap_get_module_config(s->module_config, &callcenter_module);
    int interval = cfg->sla_interval == CC_API_UNSET ? CC_SLA_INTERVAL_DEFAULT
                                                     : cfg->sla_interval;

    return cc_job_schedule(pconf, s, &breach_job_desc, apr_time_from_sec(interval));
}

static const cc_route_t slas_routes[] = {
    { "GET", "/api/v1/slas", cc_handle_list, "tickets.read", CC_ROUTE_AUTH },
    { "POST", "/api/v1/slas", slas_create, "tickets.manage", CC_ROUTE_AUTH },
    { "GET", "/api/v1/slas/{id:int}", cc_handle_get, "tickets.read", CC_ROUTE_AUTH },
    { "PATCH", "/api/v1/slas/{id:int}", slas_update, "tickets.manage", CC_ROUTE_AUTH },
    { "DELETE", "/api/v1/slas/{id:int}", slas_delete, "tickets.manage", CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_slas_domain = { "slas", slas_routes, slas_stmts, &slas_list_spec,
                                     "cc_slas_get", sla_cols };
