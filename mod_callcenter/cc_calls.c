/*
 * cc_calls.c: /api/v1/calls — the tenant's live calls as the Asterisk link sees them
 * (cc_ami_link.c), click-to-call and hang-up.
 *
 *   GET    /api/v1/calls             agents.read: the calls not ended, newest first
 *   POST   /api/v1/calls             agents.read (one's own endpoint; another's:
 *                                    agents.manage): {to, endpoint_id?} -> 202 {call_id}
 *   DELETE /api/v1/calls/{call_id}   agents.read (a call on one's own endpoint; any
 *                                    other: agents.manage) -> 202
 *
 * A request never talks to Asterisk: it writes a command (call_commands) that a link
 * claims and sends, so both answer 202, and 503 while no link has been up within
 * CC_LINK_FRESH_SECS seconds.  A click-to-call's call_id is chosen here and given to
 * Asterisk as the first channel's uniqueid (Originate's ChannelId), so the call's
 * events and GET /calls carry it from the start.  The call rings the endpoint first;
 * when it answers, Asterisk dials `to` in the tenant's context (tenant-<key>), as the
 * tenant's dialplan routes it.
 */
#include <string.h>

#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "cc_api_private.h"
#include "cc_asterisk.h"
#include "cc_audit.h"
#include "cc_calls_private.h"
#include "cc_crypto.h"
#include "cc_validate.h"

#define CALL_TO_MAX 32

static const char *const call_sorts[] = { "started_at", NULL };

#define CALL_COLUMNS "lc.call_id, lc.direction, lc.state, lc.from_number, lc.to_number,"    \
    " lc.did, q.name, lc.queue_id, lc.agent_id, lc.endpoint_id, lc.started_at,"            \
    " lc.answered_at, lc.ended_at"

#define CALL_FROM " FROM live_calls lc LEFT JOIN call_queues q"                          \
    " ON q.tenant_id = lc.tenant_id AND q.id = lc.queue_id"

/* Binds the tenant (twice: its count and its page). */
#define CALLS_LIST(order)                                                               \
    "SELECT " CALL_COLUMNS ", (SELECT COUNT(*) FROM live_calls c WHERE c.tenant_id = %s"  \
    " AND c.ended_at IS NULL) AS total" CALL_FROM " WHERE lc.tenant_id = %s"             \
    " AND lc.ended_at IS NULL ORDER BY " order " LIMIT %s OFFSET %s"

static const cc_stmt_t calls_stmts[] = {
    CC_SEARCH_SORT("cc_calls", "started_at", CALLS_LIST, "lc.started_at ASC, lc.call_id ASC",
                   "lc.started_at DESC, lc.call_id DESC"),
    CC_STMT("cc_calls_search_count", "SELECT COUNT(*) FROM live_calls WHERE tenant_id = %s"
                                     " AND ended_at IS NULL"),
    CC_STMT("cc_calls_get", "SELECT " CALL_COLUMNS CALL_FROM
                            " WHERE lc.tenant_id = %s AND lc.call_id = %s"),
    /* A call not ended, with its endpoint's user and its channel. */
    CC_STMT("cc_calls_open",
            "SELECT lc.call_id, e.user_id FROM live_calls lc LEFT JOIN endpoints e"
            " ON e.tenant_id = lc.tenant_id AND e.id = lc.endpoint_id"
            " WHERE lc.tenant_id = %s AND lc.call_id = %s AND lc.ended_at IS NULL"),
    /* Is a link up (a heartbeat within CC_LINK_FRESH_SECS)? */
    CC_STMT("cc_calls_link_up",
            "SELECT COUNT(*) FROM asterisk_links WHERE state = 'up'"
            " AND heartbeat_at > UTC_TIMESTAMP(3) - INTERVAL " CC_LINK_FRESH_SECS " SECOND"),
    /* The endpoint that rings: the caller's own (lowest extension) or the one given. */
    CC_STMT("cc_calls_own_endpoint",
            "SELECT id, asterisk_id, user_id, extension FROM endpoints"
            " WHERE tenant_id = %s AND user_id = %s ORDER BY extension LIMIT 1"),
    CC_STMT("cc_calls_endpoint",
            "SELECT id, asterisk_id, user_id, extension FROM endpoints"
            " WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_calls_slug", "SELECT slug FROM tenants WHERE id = %s"),
    CC_STMT("cc_calls_insert",
            "INSERT INTO live_calls (call_id, tenant_id, direction, state, from_number,"
            " to_number, endpoint_id, agent_id, started_at)"
            " VALUES (%s, %s, 'outbound', 'new', %s, %s, %s, %s, UTC_TIMESTAMP())"),
    CC_STMT("cc_calls_command",
            "INSERT INTO call_commands (tenant_id, kind, call_id, channel, context, exten)"
            " VALUES (%s, %s, %s, %s, %s, %s)"),
    CC_STMT_END
};

const cc_col_t cc_calls_cols[] = {
    { "call_id", CC_COL_STR },
    { "direction", CC_COL_STR },
    { "state", CC_COL_STR },
    { "from", CC_COL_STR },
    { "to", CC_COL_STR },
    { "did", CC_COL_STR },
    { "queue", CC_COL_STR },
    { "queue_id", CC_COL_INT },
    { "agent_id", CC_COL_INT },
    { "endpoint_id", CC_COL_INT },
    { "started_at", CC_COL_TIME },
    { "answered_at", CC_COL_TIME },
    { "ended_at", CC_COL_TIME },
    CC_COL_END
};

static const cc_list_t calls_list_spec = { "cc_calls", call_sorts, "-started_at",
                                           cc_calls_cols, NULL, CC_LIST_SEARCH_ONLY,
                                           NULL, NULL };

static const cc_field_t call_fields[] = {
    { "to", CC_JT_STRING, 1 },
    { "endpoint_id", CC_JT_INT, 0 },
    { NULL, 0, 0 }
};

/* A number or extension to dial: an optional '+' then 2 to 31 digits. */
static int valid_to(const char *s)
{
    apr_size_t n = 0;

    if (*s == '+') {
        s++;
    }
    for (; *s; s++, n++) {
        if (*s < '0' || *s > '9') {
            return 0;
        }
    }
    return n >= 2 && n < CALL_TO_MAX;
}

static cc_error_t *link_up(cc_ctx_t *ctx)
{
    const char **row;
    cc_error_t *err = cc_db_select_row(ctx->db, "cc_calls_link_up", 0, NULL, &row, NULL);

    if (err) {
        return err;
    }
    if (!row || !row[0] || !strcmp(row[0], "0")) {
        err = cc_error_make(ctx->pool, HTTP_SERVICE_UNAVAILABLE, "unavailable",
                            "no link to Asterisk is up");
        apr_table_setn(ctx->r->err_headers_out, "Retry-After", "5");
    }
    return err;
}

static cc_error_t *calls_create(cc_ctx_t *ctx)
{
    apr_pool_t *p = ctx->pool;
    const char *tenant = ctx->principal->tenant_id, *to, *call_id, **ep, **slug, *args[6];
    json_t *body, *changes;
    int given;
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, call_fields, &body))) {
        return err;
    }
    to = cc_json_str(body, "to");
    if (!valid_to(to)) {
        return cc_error_field(p, "to", "must be a number or an extension: an optional +"
                              " then 2 to 31 digits");
    }
    given = json_object_get(body, "endpoint_id") != NULL;
    args[0] = tenant;
    args[1] = given ? apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)json_integer_value(
                                       json_object_get(body, "endpoint_id")))
                    : ctx->principal->user_id_str;
    if ((err = cc_db_select_row(ctx->db, given ? "cc_calls_endpoint"
                                               : "cc_calls_own_endpoint", 2, args,
                                &ep, NULL))) {
        return err;
    }
    if (!ep) {
        return cc_error_field(p, "endpoint_id", given ? "no such endpoint"
                              : "required: you have no endpoint of your own");
    }
    if ((!ep[2] || strcmp(ep[2], ctx->principal->user_id_str))
        && !cc_principal_can(ctx->principal, "agents.manage")) {
        return cc_error_forbidden(p);
    }
    if ((err = link_up(ctx))
        || (err = cc_db_select_row(ctx->db, "cc_calls_slug", 1, &tenant, &slug, NULL))) {
        return err;
    }
    if (!slug) {
        return cc_error_internal(p);
    }
    {
        unsigned char rnd[16];

        if (apr_generate_random_bytes(rnd, sizeof(rnd)) != APR_SUCCESS) {
            return cc_error_internal(p);
        }
        call_id = apr_pstrcat(p, "cc-", cc_hex(p, rnd, sizeof(rnd)), NULL);
    }
    {
        const char *ins[6] = { call_id, tenant, ep[3], to, ep[0], ep[2] };
        const char *cmd[6] = { tenant, "originate", call_id,
                               apr_pstrcat(p, "PJSIP/", ep[1], NULL),
                               cc_ast_context(p, slug[0]), to };

        if ((err = cc_db_begin(ctx->db))
            || (err = cc_db_exec(ctx->db, "cc_calls_insert", 6, ins, NULL))
            || (err = cc_db_exec(ctx->db, "cc_calls_command", 6, cmd, NULL))) {
            return err;
        }
    }
    changes = cc_json_object(p);
    cc_json_set_str(changes, "to", to);
    json_object_set_new(changes, "endpoint_id", json_integer(apr_atoi64(ep[0])));
    if ((err = cc_ctx_record(ctx, "call", "originate", call_id, changes, NULL,
                             CC_RECORD_NO_EVENT | CC_RECORD_COMMIT))) {
        return err;
    }
    return cc_reply_json(ctx, HTTP_ACCEPTED,
                         cc_json_own(p, json_pack("{s:s}", "call_id", call_id)));
}

static cc_error_t *calls_delete(cc_ctx_t *ctx)
{
    apr_pool_t *p = ctx->pool;
    const char *tenant = ctx->principal->tenant_id, *call_id = cc_path(ctx, "call_id");
    const char *args[2] = { tenant, call_id }, **row;
    cc_error_t *err;

    if (strlen(call_id) > 150) {
        return cc_error_not_found(p);
    }
    if ((err = cc_db_select_row(ctx->db, "cc_calls_open", 2, args, &row, NULL))) {
        return err;
    }
    if (!row) {
        return cc_error_not_found(p);
    }
    if ((!row[1] || strcmp(row[1], ctx->principal->user_id_str))
        && !cc_principal_can(ctx->principal, "agents.manage")) {
        return cc_error_forbidden(p);
    }
    if ((err = link_up(ctx))) {
        return err;
    }
    {
        const char *cmd[6] = { tenant, "hangup", call_id, NULL, NULL, NULL };

        if ((err = cc_db_begin(ctx->db))
            || (err = cc_db_exec(ctx->db, "cc_calls_command", 6, cmd, NULL))
            || (err = cc_ctx_record(ctx, "call", "hangup", call_id, NULL, NULL,
                                    CC_RECORD_NO_EVENT | CC_RECORD_COMMIT))) {
            return err;
        }
    }
    return cc_reply_json(ctx, HTTP_ACCEPTED,
                         cc_json_own(p, json_pack("{s:s}", "call_id", call_id)));
}

static const cc_route_t calls_routes[] = {
    { "GET", "/api/v1/calls", cc_handle_list, "agents.read", CC_ROUTE_AUTH },
    { "POST", "/api/v1/calls", calls_create, "agents.read", CC_ROUTE_AUTH },
    { "DELETE", "/api/v1/calls/{call_id}", calls_delete, "agents.read", CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_calls_domain = { "calls", calls_routes, calls_stmts, &calls_list_spec,
                                      NULL, NULL };
