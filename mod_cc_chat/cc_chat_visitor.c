/*
 * cc_chat_visitor.c: the public visitor API under /chat/v1 (API.md "Chat"), and the
 * widget script.
 *
 *   GET  /chat/v1/widget.js                        the widget (no Origin check)
 *   GET  /chat/v1/widgets/{public_key}             its name, greeting and color
 *   POST /chat/v1/widgets/{public_key}/sessions    a new session and its visitor token
 *   GET  /chat/v1/sessions/{id}                    with Authorization: Visitor <token>
 *   GET|POST /chat/v1/sessions/{id}/messages
 *   GET  /chat/v1/sessions/{id}/events             SSE (also ?token=, for EventSource)
 *   POST /chat/v1/sessions/{id}/close
 *
 * Hostile territory: any page, any visitor.  A widget is found by its public key (a
 * disabled one, or one of a tenant that is not active, is 404), and every answer but the
 * script's goes only to the widget's allowed origins: a request whose Origin is not one
 * of them is 403, one that is gets Access-Control-Allow-Origin with it (never a wildcard,
 * never credentials; Vary: Origin always); a session is only created from an allowed
 * Origin.  OPTIONS preflights are answered before dispatch (cc_chat_preflight), from the
 * same route tables.
 *
 * The visitor token is CC_CHAT_TOKEN_BYTES random bytes, kept as its SHA-256 only, good
 * for CCChatVisitorTokenTTL and for its own session only: a missing, malformed, wrong or
 * expired token is 401 with WWW-Authenticate: Visitor, whichever session it names, so a
 * session's existence does not leak.  EventSource cannot send headers, so the stream
 * takes ?token= too; the request line httpd logs then has the token replaced.
 *
 * Session creation is limited per client address (in the tenant) and per widget, in
 * the last minute (CCChatSessionsPerAddress, CCChatSessionsPerWidget), counted under the
 * tenant's routing lock so the count is exact on any number of nodes: 429 with
 * Retry-After past it.
 */
#include <string.h>

#include <httpd.h>
#include <http_protocol.h>
#include <http_log.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "cc_audit.h"
#include "cc_chat_private.h"
#include "cc_chat_rules.h"
#include "cc_cors.h"
#include "cc_crypto.h"
#include "cc_json.h"
#include "cc_validate.h"

/* The widget script, embedded at build time (.incbin finds widget.js in the module's
 * directory, on gcc's -I path; the module's rule depends on the file). */
__asm__(".section .rodata\n"
        ".balign 16\n"
        ".hidden cc_chat_widget_start\n"
        "cc_chat_widget_start:\n"
        ".incbin \"widget.js\"\n"
        ".hidden cc_chat_widget_end\n"
        "cc_chat_widget_end:\n"
        ".byte 0\n"
        ".previous\n");

extern const char cc_chat_widget_start[];
extern const char cc_chat_widget_end[];

#define CORS_ALLOW_HEADERS "Authorization, Content-Type, Last-Event-ID"

static const cc_stmt_t visitor_stmts[] = {
    CC_STMT("cc_chat_visitor_widget",
            "SELECT w.id, w.tenant_id, w.name, w.greeting, w.color, w.allowed_origins"
            " FROM chat_widgets w JOIN tenants t ON t.id = w.tenant_id"
            " WHERE w.public_key = %s AND w.enabled = 1 AND t.status = 'active'"
            " /* cc-lint: no-tenant the public key names the widget and so its tenant */"),
    /* The session a token opens, with its widget's origins; binds id, token hash. */
    CC_STMT("cc_chat_visitor_auth",
            "SELECT s.tenant_id, w.allowed_origins, s.status,"
            " UNIX_TIMESTAMP(s.token_expires_at)"
            " FROM chat_sessions s JOIN chat_widgets w ON w.id = s.widget_id"
            "  AND w.tenant_id = s.tenant_id"
            " JOIN tenants t ON t.id = s.tenant_id AND t.status = 'active'"
            " WHERE s.id = %s AND s.token_hash = %s"
            " AND s.token_expires_at > UTC_TIMESTAMP()"
            " /* cc-lint: no-tenant the visitor's token names the session and its tenant */"),
    /* Sessions created in the last minute: from an address (tenant, ip), and on a widget
     * (tenant, widget): how many, and the seconds until the oldest leaves the window. */
    CC_STMT("cc_chat_visitor_rate_ip",
            "SELECT COUNT(*), 60 - TIMESTAMPDIFF(SECOND, MIN(created_at), UTC_TIMESTAMP(6))"
            " FROM chat_sessions WHERE tenant_id = %s AND visitor_ip = %s"
            " AND created_at > UTC_TIMESTAMP(6) - INTERVAL 60 SECOND"),
    CC_STMT("cc_chat_visitor_rate_widget",
            "SELECT COUNT(*), 60 - TIMESTAMPDIFF(SECOND, MIN(created_at), UTC_TIMESTAMP(6))"
            " FROM chat_sessions WHERE tenant_id = %s AND widget_id = %s"
            " AND created_at > UTC_TIMESTAMP(6) - INTERVAL 60 SECOND"),
    /* The widget again, share-locked under the routing lock: a delete or a disable that
     * came between waits for this session, or this one sees it. */
    CC_STMT("cc_chat_visitor_widget_lock",
            "SELECT id FROM chat_widgets WHERE tenant_id = %s AND id = %s AND enabled = 1"
            " LOCK IN SHARE MODE"),
    CC_STMT("cc_chat_visitor_insert",
            "INSERT INTO chat_sessions (tenant_id, widget_id, visitor_name, visitor_email,"
            " visitor_ip, user_agent, origin, token_hash, token_expires_at, queued_at,"
            " created_at, visitor_seen_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s,"
            " UTC_TIMESTAMP() + INTERVAL %s SECOND, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6),"
            " UTC_TIMESTAMP(6))"
            " RETURNING id, token_expires_at"),
    /* The visitor is there (its stream, on connect and every CC_CHAT_SEEN_REFRESH). */
    CC_STMT("cc_chat_visitor_seen",
            "UPDATE chat_sessions SET visitor_seen_at = UTC_TIMESTAMP(6)"
            " WHERE tenant_id = %s AND id = %s AND status <> 'closed'"),
    CC_STMT("cc_chat_visitor_view",
            "SELECT s.id, s.status, " CHAT_SESSION_POSITION ","
            " IF(s.status = 'active', JSON_OBJECT('name', u.name), NULL),"
            " s.created_at, s.closed_at,"
            " JSON_OBJECT('name', w.name, 'greeting', w.greeting, 'color', w.color)"
            " FROM chat_sessions s JOIN chat_widgets w ON w.id = s.widget_id"
            "  AND w.tenant_id = s.tenant_id"
            " LEFT JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.agent_id"
            " WHERE s.tenant_id = %s AND s.id = %s"),
    CC_STMT("cc_chat_visitor_messages",
            "SELECT m.id, m.sender_type, IF(m.sender_type = 'agent', u.name, NULL), m.body,"
            " m.created_at FROM chat_messages m"
            " LEFT JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.sender_user_id"
            " WHERE m.tenant_id = %s AND m.session_id = %s AND m.id > %s"
            " ORDER BY m.id LIMIT %s"),
    CC_STMT_END
};

static const cc_col_t view_cols[] = {
    { "id", CC_COL_INT },
    { "status", CC_COL_STR },
    { "position", CC_COL_INT },
    { "agent", CC_COL_JSON },
    { "created_at", CC_COL_TIME },
    { "closed_at", CC_COL_TIME },
    { "widget", CC_COL_JSON },
    CC_COL_END
};

static const cc_col_t message_cols[] = {
    { "id", CC_COL_INT },
    { "sender", CC_COL_STR },
    { "agent_name", CC_COL_STR },
    { "body", CC_COL_STR },
    { "created_at", CC_COL_TIME },
    CC_COL_END
};

static const cc_field_t session_fields[] = {
    { "name", CC_JT_STRING_NULL, 0 },
    { "email", CC_JT_STRING_NULL, 0 },
    { NULL, 0, 0 }
};

/* ---- CORS and Origin ---- */

/*
 * The request's Origin against a widget's origins: allowed, the answer (an error too)
 * carries Access-Control-Allow-Origin; not allowed, 403.  No Origin (not a browser's
 * cross-origin request) passes unless required.
 */
static cc_error_t *check_origin(cc_ctx_t *ctx, const char *origins_json, int required)
{
    request_rec *r = ctx->r;
    const char *origin = apr_table_get(r->headers_in, "Origin");

    cc_cors_vary(r);
    if (!origin) {
        return required ? cc_error_make(ctx->pool, HTTP_FORBIDDEN, CC_ERR_FORBIDDEN,
                                        "an Origin header is required")
                        : NULL;
    }
    if (!cc_chat_origin_allowed(r->pool, origins_json, origin)) {
        return cc_error_make(ctx->pool, HTTP_FORBIDDEN, CC_ERR_FORBIDDEN,
                             "this origin may not use the widget");
    }
    cc_cors_allow(r, origin);
    return NULL;
}

/* The request's Origin, when well formed, in the CORS headers (err_headers_out: errors
 * too); Vary: Origin always. */
static void cors_any_origin(request_rec *r)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");

    cc_cors_vary(r);
    if (origin && cc_cors_origin_valid(r->pool, origin, NULL)) {
        cc_cors_allow(r, origin);
    }
}

/* ---- the widget and the visitor ---- */

typedef struct widget_t {
    const char *id, *tenant, *name, *greeting, *color, *origins;
} widget_t;

/* The enabled widget of the path's key; 404 otherwise. */
static cc_error_t *find_widget(cc_ctx_t *ctx, widget_t *w)
{
    const char *key = cc_path(ctx, "public_key"), **row;
    cc_error_t *err;

    if (!cc_chat_key_shape(key)) {
        return cc_error_not_found(ctx->pool);
    }
    if ((err = cc_db_select_row(ctx->db, "cc_chat_visitor_widget", 1, &key, &row, NULL))) {
        return err;
    }
    if (!row) {
        return cc_error_not_found(ctx->pool);
    }
    w->id = row[0];
    w->tenant = row[1];
    w->name = row[2];
    w->greeting = row[3];
    w->color = row[4];
    w->origins = row[5];
    return NULL;
}

typedef struct visitor_t {
    const char *session;
    const char *tenant;
    const char *status;
    apr_int64_t expires;
    cc_actor_t *actor;
} visitor_t;

static cc_error_t *unauthorized(cc_ctx_t *ctx)
{
    apr_table_setn(ctx->r->err_headers_out, "WWW-Authenticate", "Visitor");
    return cc_error_make(ctx->pool, HTTP_UNAUTHORIZED, CC_ERR_UNAUTHORIZED,
                         "a valid visitor token for this session is required"
                         " (Authorization: Visitor <token>)");
}

/* The visitor the token names, for the path's session, Origin checked. */
static cc_error_t *find_visitor(cc_ctx_t *ctx, const char *token, visitor_t *v)
{
    const char *args[2], **row;
    cc_error_t *err;

    v->session = cc_path(ctx, "id");
    row = NULL;
    if (token) {
        args[0] = v->session;
        args[1] = cc_sha256_hex(ctx->pool, token, strlen(token));
        if ((err = cc_db_select_row(ctx->db, "cc_chat_visitor_auth", 2, args, &row, NULL))) {
            return err;
        }
    }
    if (!row) {
        /* The page must be able to read the 401 (to start a new chat): any well-formed
         * Origin gets the CORS headers, whatever the session, so the answer says nothing
         * of which sessions exist or whose they are (a 401 carries no data). */
        cors_any_origin(ctx->r);
        return unauthorized(ctx);
    }
    v->tenant = row[0];
    v->status = row[2];
    v->expires = row[3] ? apr_atoi64(row[3]) : 0;
    v->actor = cc_ctx_actor_visitor(ctx, v->session);
    return check_origin(ctx, row[1], 0);
}

static cc_error_t *header_visitor(cc_ctx_t *ctx, visitor_t *v)
{
    return find_visitor(ctx, cc_chat_visitor_token(ctx->pool,
                                                   apr_table_get(ctx->r->headers_in,
                                                                 "Authorization")),
                        v);
}

/* ---- handlers ---- */

static cc_error_t *widget_script(cc_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    apr_size_t len = (apr_size_t)(cc_chat_widget_end - cc_chat_widget_start);
    const char *etag = apr_pstrcat(ctx->pool, "\"",
                                   apr_pstrndup(ctx->pool,
                                                cc_sha256_hex(ctx->pool, cc_chat_widget_start,
                                                              len), 32), "\"", NULL);
    const char *inm = apr_table_get(r->headers_in, "If-None-Match");

    apr_table_setn(r->headers_out, "ETag", etag);
    apr_table_setn(r->headers_out, "Cache-Control", "public, max-age=3600");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    if (inm && (!strcmp(inm, etag) || !strcmp(inm, "*"))) {
        r->status = HTTP_NOT_MODIFIED;
        return cc_reply_sent(ctx);
    }
    ap_set_content_type(r, "application/javascript; charset=utf-8");
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) {
        ap_rwrite(cc_chat_widget_start, (int)len, r);
    }
    return cc_reply_sent(ctx);
}

static cc_error_t *widget_config(cc_ctx_t *ctx)
{
    widget_t w;
    cc_error_t *err;

    if ((err = find_widget(ctx, &w)) || (err = check_origin(ctx, w.origins, 0))) {
        return err;
    }
    return cc_reply_json(ctx, HTTP_OK,
                         cc_json_own(ctx->pool, json_pack("{s:s,s:s,s:s}", "name", w.name,
                                                          "greeting", w.greeting,
                                                          "color", w.color)));
}

/* Past a limit: 429 with the seconds until a place frees. */
static cc_error_t *rate_check(cc_ctx_t *ctx, const char *label, const char *tenant,
                              const char *key, int limit, const char *what)
{
    const char *args[2] = { tenant, key }, **row;
    cc_error_t *err = cc_db_select_row(ctx->db, label, 2, args, &row, NULL);
    apr_int64_t wait;

    if (err || !row || !row[0] || apr_atoi64(row[0]) < limit) {
        return err;
    }
    wait = row[1] ? apr_atoi64(row[1]) : 1;
    apr_table_setn(ctx->r->err_headers_out, "Retry-After",
                   apr_psprintf(ctx->pool, "%" APR_INT64_T_FMT, wait < 1 ? 1 : wait));
    return cc_error_make(ctx->pool, HTTP_TOO_MANY_REQUESTS, CC_ERR_TOO_MANY_REQUESTS,
                         "too many new chats %s in the last minute; retry later", what);
}

static cc_error_t *session_create(cc_ctx_t *ctx)
{
    server_rec *s = ctx->r->server;
    const char *name, *email, *token, *args[9], **row, *origin, *addr;
    cc_actor_t *actor;
    json_t *body, *view;
    widget_t w;
    cc_error_t *err;

    if ((err = find_widget(ctx, &w)) || (err = check_origin(ctx, w.origins, 1))
        || (err = cc_read_json_fields(ctx, session_fields, &body))) {
        return err;
    }
    name = cc_json_str(body, "name");
    email = cc_json_str(body, "email");
    if (name && !cc_valid_name(name, 1, CC_CHAT_NAME_MAX)) {
        err = cc_error_collect(ctx->pool, err, "name",
                               apr_psprintf(ctx->pool, "must be 1 to %d characters",
                                            CC_CHAT_NAME_MAX));
    }
    if (email && !cc_valid_email(email)) {
        err = cc_error_collect(ctx->pool, err, "email", "must be an email address");
    }
    if (err) {
        return err;
    }
    if (cc_random_token(ctx->pool, CC_CHAT_TOKEN_BYTES, &token) != APR_SUCCESS) {
        return cc_error_internal(ctx->pool);
    }
    actor = cc_ctx_actor_visitor(ctx, NULL);      /* its session's id once inserted */
    origin = apr_table_get(ctx->r->headers_in, "Origin");
    /* Counted as login budgets count: an IPv6 client by its /64. */
    addr = cc_client_addr_key(ctx->pool, actor->ip);
    if (!addr) {
        addr = actor->ip ? actor->ip : "";
    }
    /* The widget was read outside the transaction: the lock is its first statement, so
     * what it reads next is as of the lock (cc_chat_routing.c). */
    args[0] = w.tenant;
    args[1] = w.id;
    if ((err = cc_db_begin(ctx->db))
        || (err = cc_chat_lock(ctx->db, w.tenant))
        || (err = cc_db_select_row(ctx->db, "cc_chat_visitor_widget_lock", 2, args, &row,
                                   NULL))) {
        return err;
    }
    if (!row) {
        return cc_error_not_found(ctx->pool);
    }
    if ((err = rate_check(ctx, "cc_chat_visitor_rate_ip", w.tenant, addr,
                             cc_chat_setting(s, CC_CHAT_PER_ADDRESS), "from this address"))
        || (err = rate_check(ctx, "cc_chat_visitor_rate_widget", w.tenant, w.id,
                             cc_chat_setting(s, CC_CHAT_PER_WIDGET), "on this widget"))) {
        return err;
    }
    args[0] = w.tenant;
    args[1] = w.id;
    args[2] = name;
    args[3] = email;
    args[4] = addr;
    args[5] = actor->user_agent;
    args[6] = apr_pstrndup(ctx->pool, origin, CC_CORS_ORIGIN_MAX);
    args[7] = cc_sha256_hex(ctx->pool, token, strlen(token));
    args[8] = apr_itoa(ctx->pool, cc_chat_setting(s, CC_CHAT_TOKEN_TTL));
    if ((err = cc_db_select_row(ctx->db, "cc_chat_visitor_insert", 9, args, &row, NULL))) {
        return err;
    }
    if (!row || !row[0]) {
        return cc_error_internal(ctx->pool);
    }
    actor->id = row[0];
    args[1] = row[0];
    if ((err = cc_chat_session_event(ctx->db, w.tenant, actor, "chat.session_create", row[0],
                                     cc_json_own(ctx->pool,
                                                 json_pack("{s:I,s:s}", "widget_id",
                                                           (json_int_t)apr_atoi64(w.id),
                                                           "origin", args[6])),
                                     NULL, CC_RECORD_BOTH, NULL))
        || (err = cc_chat_assign_and_announce(ctx->db, w.tenant, actor, 1))
        || (err = cc_db_select_one(ctx->db, "cc_chat_visitor_view", view_cols, 2, args,
                                   &view))
        || (err = cc_db_commit(ctx->db))) {
        return err;
    }
    return cc_reply_created(ctx, apr_pstrcat(ctx->pool, "/chat/v1/sessions/", row[0], NULL),
                            cc_json_own(ctx->pool,
                                        json_pack("{s:I,s:s,s:O,s:O,s:s}", "session_id",
                                                  (json_int_t)apr_atoi64(row[0]),
                                                  "visitor_token", token,
                                                  "status", json_object_get(view, "status"),
                                                  "position", json_object_get(view, "position"),
                                                  "expires_at",
                                                  cc_sql_time_to_rfc3339(ctx->pool, row[1]))));
}

static cc_error_t *visitor_view(cc_ctx_t *ctx, visitor_t *v, json_t **pobj)
{
    const char *args[2] = { v->tenant, v->session };
    cc_error_t *err = cc_db_select_one(ctx->db, "cc_chat_visitor_view", view_cols, 2, args,
                                       pobj);

    return err ? err : *pobj ? NULL : cc_error_not_found(ctx->pool);
}

static cc_error_t *session_get(cc_ctx_t *ctx)
{
    visitor_t v;
    json_t *obj;
    cc_error_t *err;

    if ((err = header_visitor(ctx, &v)) || (err = visitor_view(ctx, &v, &obj))) {
        return err;
    }
    return cc_reply_json(ctx, HTTP_OK, obj);
}

static cc_error_t *session_post(cc_ctx_t *ctx)
{
    visitor_t v;
    json_t *msg;
    const char *text;
    cc_error_t *err;

    if ((err = header_visitor(ctx, &v)) || (err = cc_chat_read_message(ctx, &text))) {
        return err;
    }
    if ((err = cc_db_begin(ctx->db))
        || (err = cc_chat_post(ctx->db, v.tenant, v.actor, v.session, CC_CHAT_BY_VISITOR,
                               text, 0, &msg))
        || (err = cc_db_commit(ctx->db))) {
        return err;
    }
    return cc_reply_created(ctx, apr_pstrcat(ctx->pool, "/chat/v1/sessions/", v.session,
                                             "/messages", NULL),
                            cc_json_own(ctx->pool,
                                        json_pack("{s:O,s:s,s:n,s:O,s:O}",
                                                  "id", json_object_get(msg, "id"),
                                                  "sender", "visitor", "agent_name",
                                                  "body", json_object_get(msg, "body"),
                                                  "created_at",
                                                  json_object_get(msg, "created_at"))));
}

static cc_error_t *session_messages(cc_ctx_t *ctx)
{
    visitor_t v;
    const char *after, *limit, *args[4];
    json_t *rows;
    cc_error_t *err;

    if ((err = header_visitor(ctx, &v)) || (err = cc_chat_read_after(ctx, &after, &limit))) {
        return err;
    }
    args[0] = v.tenant;
    args[1] = v.session;
    args[2] = after;
    args[3] = limit;
    if ((err = cc_db_select(ctx->db, "cc_chat_visitor_messages", message_cols, 4, args, &rows,
                            NULL))) {
        return err;
    }
    return cc_reply_json(ctx, HTTP_OK, cc_json_own(ctx->pool, json_pack("{s:O}", "data", rows)));
}

static cc_error_t *session_close(cc_ctx_t *ctx)
{
    visitor_t v;
    json_t *obj;
    cc_error_t *err;

    if ((err = header_visitor(ctx, &v))
        || (err = cc_read_no_fields(ctx))
        || (err = cc_db_begin(ctx->db))
        || (err = cc_chat_close(ctx->db, v.tenant, v.actor, v.session, "visitor", NULL, 0,
                                &obj))
        || (err = cc_db_commit(ctx->db))
        || (err = visitor_view(ctx, &v, &obj))) {
        return err;
    }
    return cc_reply_json(ctx, HTTP_OK, obj);
}

/* ---- the visitor's stream ---- */

/* Whether the query key [k, end) percent-decodes to "token", in any case (as the query
 * parser reads it). */
static int token_key(apr_pool_t *p, const char *k, const char *end)
{
    char *key = apr_pstrmemdup(p, k, (apr_size_t)(end - k));

    return ap_unescape_url(key) == OK && !strcasecmp(key, "token");
}

/* In a query (up to a blank or the end): every value of a token key overwritten with 'x'. */
static void blank_token(apr_pool_t *p, char *q)
{
    while (q && *q && *q != ' ') {
        char *k = q, *eq = NULL, *v;

        for (; *q && *q != '&' && *q != ';' && *q != ' '; q++) {
            if (*q == '=' && !eq) {
                eq = q;
            }
        }
        if (eq && token_key(p, k, eq)) {
            for (v = eq + 1; v < q; v++) {
                *v = 'x';
            }
        }
        if (*q == '&' || *q == ';') {
            q++;
        }
    }
}

/* The visitor's token in the query is overwritten in every form httpd may log (%r, %q,
 * %U%q, the unparsed URI): before anything else, whatever the answer. */
static void redact_token(request_rec *r)
{
    char *q;

    if (r->the_request && (q = strchr(r->the_request, '?'))) {
        blank_token(r->pool, q + 1);
    }
    if (r->unparsed_uri && (q = strchr(r->unparsed_uri, '?'))) {
        blank_token(r->pool, q + 1);
    }
    blank_token(r->pool, r->args);
    if (r->parsed_uri.query != r->args) {
        blank_token(r->pool, r->parsed_uri.query);
    }
}

typedef struct visitor_stream_t {
    apr_int64_t session;
    cc_ctx_t *ctx;
    const char *tenant, *id;
    apr_time_t seen;              /* when visitor_seen_at was last written */
} visitor_stream_t;

/* The stream says the visitor is there: on connect, then every CC_CHAT_SEEN_REFRESH (a
 * connection of its own, given back at once; a failure is only bookkeeping lost). */
static void visitor_seen(void *baton)
{
    visitor_stream_t *vs = baton;
    const char *args[2] = { vs->tenant, vs->id };
    apr_pool_t *sp;

    if (vs->seen && apr_time_now() - vs->seen < apr_time_from_sec(CC_CHAT_SEEN_REFRESH)) {
        return;
    }
    vs->seen = apr_time_now();
    apr_pool_create(&sp, vs->ctx->pool);
    (void)cc_db_exec(cc_db_standalone(sp, vs->ctx->r->server), "cc_chat_visitor_seen", 2,
                     args, NULL);
    apr_pool_destroy(sp);
}

static const char *visitor_frame(void *baton, apr_pool_t *p, const cc_event_t *ev,
                                 apr_size_t *plen, int *pend)
{
    visitor_stream_t *vs = baton;
    json_t *e = json_loadb(ev->json, ev->json_len, 0, NULL);
    const char *name = NULL, *data, *frame = NULL;

    if (e) {
        data = cc_chat_visitor_frame(p, ev->type, json_object_get(e, "data"), vs->session,
                                     &name);
        if (data) {
            frame = cc_events_sse_frame(p, ev->id, name, data, strlen(data), plen);
            *pend = !strcmp(name, "close");
        }
        json_decref(e);
    }
    return frame;
}

typedef struct visitor_place_t {
    cc_hub_t *hub;
    apr_int64_t session;
} visitor_place_t;

static apr_status_t leave_visitor_place(void *data)
{
    visitor_place_t *vp = data;

    cc_hub_leave_visitor(vp->hub, vp->session);
    return APR_SUCCESS;
}

/* One of the child's visitor stream places (CCChatVisitorStreamMaxClients, apart from the
 * users'), at most CC_CHAT_STREAMS_PER_SESSION per session in the child: 503 (full) or
 * 429 (this session has its streams) with Retry-After. */
static cc_error_t *take_visitor_place(cc_ctx_t *ctx, cc_hub_t *hub, const visitor_t *v)
{
    visitor_place_t *vp = apr_palloc(ctx->pool, sizeof(*vp));
    int rv;

    vp->hub = hub;
    vp->session = apr_atoi64(v->session);
    rv = cc_hub_enter_visitor(hub, vp->session, CC_CHAT_STREAMS_PER_SESSION);
    if (rv == 0) {
        return cc_events_child_full(ctx);
    }
    if (rv < 0) {
        apr_table_setn(ctx->r->err_headers_out, "Retry-After", "5");
        return cc_error_make(ctx->pool, HTTP_TOO_MANY_REQUESTS, CC_ERR_TOO_MANY_REQUESTS,
                             "this chat has %d streams open already",
                             CC_CHAT_STREAMS_PER_SESSION);
    }
    apr_pool_cleanup_register(ctx->pool, vp, leave_visitor_place, apr_pool_cleanup_null);
    return NULL;
}

static cc_error_t *session_events(cc_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    const char *token = cc_chat_visitor_token(ctx->pool,
                                              apr_table_get(r->headers_in, "Authorization"));
    cc_events_filter_t *f = apr_pcalloc(ctx->pool, sizeof(*f));
    visitor_stream_t vs;
    cc_stream_t st;
    visitor_t v;
    json_t *view;
    apr_time_t end;
    cc_error_t *err;

    if (ctx->args) {
        const char *q = apr_table_get(ctx->args, "token");

        if (!token) {
            token = cc_chat_token_shape(q) ? apr_pstrdup(ctx->pool, q) : NULL;
        }
        redact_token(r);
    }
    memset(&st, 0, sizeof(st));
    if ((err = find_visitor(ctx, token, &v)) || (err = visitor_view(ctx, &v, &view))
        || !(st.hub = cc_events_hub_or_error(ctx, &err))
        || (err = take_visitor_place(ctx, st.hub, &v))) {
        return err;
    }
    cc_db_release(ctx->db);
    if ((err = cc_events_position(ctx, st.hub, &st.pos))) {
        return err;
    }
    vs.session = apr_atoi64(v.session);
    vs.ctx = ctx;
    vs.tenant = v.tenant;
    vs.id = v.session;
    vs.seen = 0;
    f->tenant = v.tenant;
    f->entity = apr_pstrcat(ctx->pool, "chat_session:", v.session, NULL);
    f->also_type = "chat.queue_updated";
    st.ctx = ctx;
    st.filter = f;
    /* A visitor's history is GET .../messages; the stream is what happens from now. */
    st.hub_only = 1;
    st.frame = visitor_frame;
    st.tick = visitor_seen;
    st.baton = &vs;
    end = apr_time_now()
          + apr_time_from_sec(cc_chat_setting(r->server, CC_EV_MAX_DURATION));
    st.deadline = v.expires && apr_time_from_sec(v.expires) < end ? apr_time_from_sec(v.expires)
                                                                   : end;
    if (!cc_events_stream_open(&st) || r->header_only) {
        return cc_reply_sent(ctx);
    }
    /* Where the session stands now: the stream then says what changes. */
    if (!strcmp(v.status, "closed")) {
        (void)cc_events_stream_send(&st, "event: close\ndata: {}\n\n");
        return cc_reply_sent(ctx);
    }
    if (json_integer_value(json_object_get(view, "position")) > 0
        && !cc_events_stream_send(&st, apr_psprintf(ctx->pool, "event: position\ndata:"
                                                   " {\"position\":%" APR_INT64_T_FMT
                                                   "}\n\n",
                                                   (apr_int64_t)json_integer_value(
                                                       json_object_get(view, "position"))))) {
        return cc_reply_sent(ctx);
    }
    visitor_seen(&vs);
    cc_events_stream_run(&st);
    return cc_reply_sent(ctx);
}

/* ---- preflight ---- */

int cc_chat_preflight(request_rec *r, const cc_domain_t *const *domains)
{
    const char *allow = cc_route_methods(r->pool, domains, r->uri);
    const char *origin = apr_table_get(r->headers_in, "Origin");
    const char *origins = NULL, **row = NULL;

    if (!allow) {
        return DECLINED;
    }
    cc_cors_vary(r);
    if (origin && !strncmp(r->uri, "/chat/v1/widgets/", 17)) {
        /* A widget's routes: its allowed origins (the key is public). */
        const char *k = apr_pstrndup(r->pool, r->uri + 17, strcspn(r->uri + 17, "/"));

        if (cc_chat_key_shape(k)
            && !cc_db_select_row(cc_db_request(r), "cc_chat_visitor_widget", 1, &k, &row,
                                 NULL)
            && row) {
            origins = row[5];
        }
    }
    else if (origin && !strncmp(r->uri, "/chat/v1/sessions/", 18)
             && cc_cors_origin_valid(r->pool, origin, NULL)) {
        /* A session's routes take any well-formed Origin here: the request itself is
         * checked against its widget's, and a preflight must not tell who may ask about
         * which session (that would say which sessions exist). */
        origins = cc_json_dump(r->pool, cc_json_own(r->pool, json_pack("[s]", origin)));
    }
    if (!origin || !cc_chat_origin_allowed(r->pool, origins, origin)) {
        cc_error_t *e = cc_error_make(r->pool, HTTP_FORBIDDEN, CC_ERR_FORBIDDEN,
                                      "this origin may not use the widget");

        return cc_send_error(r, e);
    }
    return cc_cors_preflight_reply(r, origin, allow, CORS_ALLOW_HEADERS);
}

static const cc_route_t visitor_routes[] = {
    { "GET", "/chat/v1/widget.js", widget_script, NULL, CC_ROUTE_PUBLIC },
    { "GET", "/chat/v1/widgets/{public_key}", widget_config, NULL, CC_ROUTE_PUBLIC },
    { "POST", "/chat/v1/widgets/{public_key}/sessions", session_create, NULL,
      CC_ROUTE_PUBLIC },
    { "GET", "/chat/v1/sessions/{id:int}", session_get, NULL, CC_ROUTE_PUBLIC },
    { "GET", "/chat/v1/sessions/{id:int}/messages", session_messages, NULL, CC_ROUTE_PUBLIC },
    { "POST", "/chat/v1/sessions/{id:int}/messages", session_post, NULL, CC_ROUTE_PUBLIC },
    { "GET", "/chat/v1/sessions/{id:int}/events", session_events, NULL, CC_ROUTE_PUBLIC },
    { "POST", "/chat/v1/sessions/{id:int}/close", session_close, NULL, CC_ROUTE_PUBLIC },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_chat_visitor_domain = { "chat_visitor", visitor_routes, visitor_stmts,
                                             NULL, NULL, NULL };
