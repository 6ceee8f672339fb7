/*
 * cc_events.c: the event stream (API.md "Events").
 *
 *   GET /api/v1/events/stream    Server-Sent Events (events.read)
 *   GET /api/v1/events           long-poll: ?after=<id>&wait=<s>&limit=<n> (events.read)
 *   GET /api/v1/realtime/sessions   the connected streams (events.read)
 *
 * Both readers follow a position: the last event id the client has (Last-Event-ID,
 * ?after=).  Events after it come from the child's hub (cc_events_hub.c) once the client
 * is within its buffer, and from the database only to catch up (a client resuming from
 * far back, or one that fell behind the buffer): database load grows with the httpd
 * children, not with the clients.  A client sees its principal's tenant only (a platform
 * admin's X-Tenant-ID picks that one tenant, never more), and of it the event types its
 * permissions read (cc_events_type_permission: one table).
 *
 * A stream holds a worker thread (httpd 2.4 has no other way for a handler to stream),
 * but no database connection while it waits: the request's is handed back before the
 * first byte, and each database step (the session row, a catch-up) takes one and gives
 * it back.  It ends at the access token's expiry or after CCEventStreamMaxDuration
 * (whichever comes first), when the child stops (a graceful restart), or when the client
 * goes; the client reconnects with its last id and loses nothing.  Its `id:` lines only
 * ever grow, and a keep-alive carries the position reached past events the client may
 * not see, so a reconnect does not read them again.
 */
#include <string.h>
#include <unistd.h>

#include <httpd.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <ap_mpm.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "cc_audit.h"
#include "cc_chat_private.h"
#include "cc_events_rules.h"
#include "cc_json.h"
#include "cc_log.h"
#include "cc_metrics.h"
#include "cc_validate.h"
#include "mod_cc_auth.h"

/* A stream writes its last_event_id into its row this often (seen_at is the poller's,
 * every 30 s for all the process's streams); rows not seen for 90 s are stale. */
#define CC_EVENTS_POSITION_REFRESH 300
/* Database reads one long-poll makes before it answers with how far it got. */
#define CC_EVENTS_MAX_READS 16
/* Events per database read and per write of a stream. */
#define CC_EVENTS_BATCH 256
/* The longest a stream sleeps between looks at its deadline and at the child stopping. */
#define CC_EVENTS_SLICE apr_time_from_sec(1)
/* Long-poll batch: default and largest. */
#define CC_EVENTS_LIMIT_DEFAULT 100
#define CC_EVENTS_LIMIT_MAX 500
/* How long a stream without a position waits for a new child's first poll. */
#define CC_EVENTS_START_WAIT apr_time_from_sec(5)
/* Retry-After when the child has no stream place left. */
#define CC_EVENTS_FULL_RETRY "5"

#define EVENT_COLUMNS "id, type, tenant_id, entity_type, entity_id, data, created_at"

/* The connected streams (GET /realtime/sessions): rows seen within three heartbeats. */
#define SESSION_COLUMNS "s.id, s.user_id, s.remote_addr, s.user_agent, s.node, s.pid," \
    " s.connected_at, s.seen_at, s.last_event_id"
#define SESSIONS_LIVE " s.seen_at >= UTC_TIMESTAMP(3) - INTERVAL 90 SECOND"
#define SESSIONS_FILTER " s.tenant_id = %s AND (%s IS NULL OR s.user_id = %s) AND" SESSIONS_LIVE
#define SESSIONS_LIST(order)                                                             \
    "SELECT " SESSION_COLUMNS ", (SELECT COUNT(*) FROM websocket_sessions s"              \
    " WHERE s.tenant_id = %s AND" SESSIONS_LIVE ") AS total"                             \
    " FROM websocket_sessions s WHERE s.tenant_id = %s AND" SESSIONS_LIVE                \
    " ORDER BY " order " LIMIT %s OFFSET %s"
#define SESSIONS_SEARCH(order)                                                           \
    "SELECT " SESSION_COLUMNS ", (SELECT COUNT(*) FROM websocket_sessions s WHERE"       \
    SESSIONS_FILTER ") AS total FROM websocket_sessions s WHERE" SESSIONS_FILTER          \
    " ORDER BY " order " LIMIT %s OFFSET %s"

static const cc_stmt_t events_stmts[] = {
    /* The poller (cc_events_hub.c). */
    /* The newest id: where a new child's poller starts. */
    CC_STMT("cc_events_hub_newest",
            "SELECT MAX(id) FROM events"
            " /* cc-lint: no-tenant the poller reads every tenant's events once per child;"
            " each client is handed its own tenant's only */"),
    CC_STMT("cc_events_hub_read",
            "SELECT " EVENT_COLUMNS " FROM events WHERE id >= %s ORDER BY id LIMIT 512"
            /* CC_HUB_BATCH_N rows (cc_events_hub.c) */
            " /* cc-lint: no-tenant the poller, as above */"),
    /* Catching up: the tenant's events in (pos, bound), by idx_events_tenant_id. */
    CC_STMT("cc_events_catchup",
            "SELECT " EVENT_COLUMNS " FROM events WHERE tenant_id = %s AND id > %s"
            " AND id < %s ORDER BY id LIMIT %s"),
    CC_STMT("cc_events_session_insert",
            "INSERT INTO websocket_sessions (tenant_id, user_id, remote_addr, user_agent,"
            " node, pid, connected_at, seen_at, last_event_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), %s)"
            " RETURNING id"),
    CC_STMT("cc_events_session_seen",
            "UPDATE websocket_sessions SET seen_at = UTC_TIMESTAMP(3), last_event_id = %s"
            " WHERE tenant_id = %s AND id = %s"),
    /* The poller's heartbeat for every stream of its process (cc_events_hub.c). */
    CC_STMT("cc_events_sessions_seen",
            "UPDATE websocket_sessions SET seen_at = UTC_TIMESTAMP(3)"
            " WHERE node = %s AND pid = %s"
            " /* cc-lint: no-tenant the streams of one httpd process, of every tenant */"),
    CC_STMT("cc_events_session_delete",
            "DELETE FROM websocket_sessions WHERE tenant_id = %s AND id = %s"),
    CC_LIST_SORT("cc_events_sessions", "connected_at", SESSIONS_LIST, SESSIONS_SEARCH,
                 "s.connected_at ASC, s.id ASC", "s.connected_at DESC, s.id DESC"),
    CC_STMT("cc_events_sessions_count",
            "SELECT COUNT(*) FROM websocket_sessions s WHERE s.tenant_id = %s AND"
            SESSIONS_LIVE),
    CC_STMT("cc_events_sessions_search_count",
            "SELECT COUNT(*) FROM websocket_sessions s WHERE" SESSIONS_FILTER),
    /* The retention job (mod_cc_chat.c): old events, and the rows of streams whose child
     * died. */
    CC_STMT("cc_events_prune",
            "DELETE FROM events WHERE created_at < UTC_TIMESTAMP() - INTERVAL %s DAY"
            " LIMIT 10000 /* cc-lint: no-tenant retention applies to every tenant */"),
    CC_STMT("cc_events_sessions_prune",
            "DELETE FROM websocket_sessions"
            " WHERE seen_at < UTC_TIMESTAMP(3) - INTERVAL 90 SECOND"
            " /* cc-lint: no-tenant stale rows of every tenant, whose process is gone */"),
    CC_STMT_END
};

static const cc_col_t session_cols[] = {
    { "id", CC_COL_INT },
    { "user_id", CC_COL_INT },
    { "remote_addr", CC_COL_STR },
    { "user_agent", CC_COL_STR },
    { "node", CC_COL_STR },
    { "pid", CC_COL_INT },
    { "connected_at", CC_COL_TIME },
    { "seen_at", CC_COL_TIME },
    { "last_event_id", CC_COL_INT },
    CC_COL_END
};

static const char *const session_sorts[] = { "connected_at", NULL };

static const cc_filter_t session_filters[] = {
    { "user_id", CC_FILTER_ID, 2, NULL, 0, NULL, NULL },
    CC_FILTER_END
};

static const cc_list_t sessions_list = { "cc_events_sessions", session_sorts, "connected_at",
                                         session_cols, session_filters, 0, NULL, NULL };

/* ---- shared by both readers ---- */

/*
 * One read of the filter's tenant's events in (pos, bound) from the database (a
 * connection taken and given back): CC_EVENTS_BATCH rows whatever max is (a client that
 * is handed few of them still moves on a batch per read), of which those the filter
 * takes, at most max, are appended to out (in out's pool).  *pnewpos: the last row
 * looked at, or bound - 1 when the read reached bound.
 */
static cc_error_t *read_db(cc_ctx_t *ctx, const cc_events_filter_t *f, apr_uint64_t pos,
                           apr_uint64_t bound, apr_size_t max, apr_array_header_t *out,
                           apr_uint64_t *pnewpos)
{
    apr_pool_t *sp;
    cc_db_t *db;
    const char *args[4];
    json_t *rows, *row;
    cc_error_t *err;
    apr_size_t taken = 0;
    size_t i;

    apr_pool_create(&sp, ctx->pool);
    db = cc_db_standalone(sp, ctx->r->server);
    args[0] = f->tenant;
    args[1] = cc_events_id_text(sp, pos);
    args[2] = cc_events_id_text(sp, bound);
    args[3] = apr_itoa(sp, CC_EVENTS_BATCH);
    err = cc_db_select(db, "cc_events_catchup", cc_events_cols(), 4, args, &rows, NULL);
    if (!err) {
        *pnewpos = json_array_size(rows) < CC_EVENTS_BATCH ? bound - 1 : pos;
        json_array_foreach(rows, i, row) {
            const char *type = json_string_value(json_object_get(row, "type"));
            apr_uint64_t id = (apr_uint64_t)json_integer_value(json_object_get(row, "id"));

            if (taken == max) {
                *pnewpos = id - 1;
                break;
            }
            if (cc_events_filter_match(f, f->tenant, type,
                                       cc_events_entity(sp, cc_json_str(row, "entity_type"),
                                                        cc_json_str(row, "entity_id")))) {
                cc_event_t *ev = apr_array_push(out);

                ev->id = id;
                ev->type = apr_pstrdup(out->pool, type);
                ev->json = cc_json_dump(out->pool, row);
                ev->json_len = strlen(ev->json);
                taken++;
            }
            if (json_array_size(rows) == CC_EVENTS_BATCH) {
                *pnewpos = id;
            }
        }
    }
    apr_pool_destroy(sp);
    return err;
}

cc_error_t *cc_events_next(cc_ctx_t *ctx, cc_hub_t *hub, const cc_events_filter_t *f,
                           int hub_only, apr_uint64_t *ppos, apr_size_t max,
                           apr_array_header_t *out, int *pready)
{
    apr_uint64_t newpos = *ppos, bound = 0;
    cc_error_t *err = NULL;

    *pready = 1;
    switch (cc_hub_read(hub, *ppos, f, max, out, &newpos, &bound)) {
    case CC_HUB_NOT_READY:
        *pready = 0;
        return NULL;
    case CC_HUB_FROM_DB:
        if (hub_only) {
            newpos = bound - 1;       /* what the buffer no longer holds is passed over */
            break;
        }
        err = read_db(ctx, f, *ppos, bound, max, out, &newpos);
        break;
    case CC_HUB_OK:
        break;
    }
    if (!err && newpos > *ppos) {
        *ppos = newpos;
    }
    return err;
}

/* The principal's filter: its tenant, the types its permissions read. */
static cc_events_filter_t *principal_filter(cc_ctx_t *ctx)
{
    cc_events_filter_t *f = apr_pcalloc(ctx->pool, sizeof(*f));

    f->tenant = ctx->principal->tenant_id;
    f->mask = ctx->principal->permissions;
    return f;
}

/* A position parameter: 1 and *pv set when present and valid; a 400 detail otherwise. */
static cc_error_t *read_position(apr_pool_t *p, cc_error_t *err, const char *value,
                                 const char *field, int *pgiven, apr_uint64_t *pv)
{
    *pgiven = 0;
    if (!value) {
        return err;
    }
    if (!cc_events_parse_position(value, pv)) {
        return cc_error_collect(p, err, field, "must be an event id (0 or more)");
    }
    *pgiven = 1;
    return err;
}

cc_error_t *cc_events_child_full(cc_ctx_t *ctx)
{
    apr_table_setn(ctx->r->err_headers_out, "Retry-After", CC_EVENTS_FULL_RETRY);
    return cc_error_make(ctx->pool, HTTP_SERVICE_UNAVAILABLE, CC_ERR_UNAVAILABLE,
                         "this server has no room for another event client now; retry"
                         " (another server may have)");
}

static apr_status_t leave_hub(void *data)
{
    cc_hub_leave(data);
    return APR_SUCCESS;
}

cc_error_t *cc_events_take_place(cc_ctx_t *ctx, cc_hub_t *hub)
{
    if (!cc_hub_enter(hub, cc_chat_setting(ctx->r->server, CC_EV_MAX_CLIENTS))) {
        return cc_events_child_full(ctx);
    }
    apr_pool_cleanup_register(ctx->pool, hub, leave_hub, apr_pool_cleanup_null);
    return NULL;
}

static int child_stopping(void)
{
    int state = 0;

    return ap_mpm_query(AP_MPMQ_MPM_STATE, &state) == APR_SUCCESS
           && state == AP_MPMQ_STOPPING;
}

cc_hub_t *cc_events_hub_or_error(cc_ctx_t *ctx, cc_error_t **perr)
{
    cc_hub_t *hub = cc_chat_hub();

    *perr = hub ? NULL : cc_error_unavailable(ctx->pool);
    return hub;
}

/* ---- GET /api/v1/events: long-poll ---- */

static cc_error_t *events_poll(cc_ctx_t *ctx)
{
    apr_pool_t *p = ctx->pool;
    server_rec *s = ctx->r->server;
    apr_array_header_t *out = apr_array_make(p, 16, sizeof(cc_event_t));
    const cc_events_filter_t *f = principal_filter(ctx);
    apr_uint64_t pos = 0;
    apr_time_t deadline;
    int given, wait, limit, ready, placed = 0, reads = 0;
    cc_hub_t *hub;
    cc_error_t *err;
    char *text, *at;
    const char *tail;
    apr_size_t i, len;

    err = read_position(p, NULL, ctx->args ? apr_table_get(ctx->args, "after") : NULL,
                        "after", &given, &pos);
    err = cc_args_int(p, err, ctx->args, "wait", 0, cc_chat_setting(s, CC_EV_LONGPOLL_MAX), 0,
                   &wait);
    err = cc_args_int(p, err, ctx->args, "limit", 1, CC_EVENTS_LIMIT_MAX,
                   CC_EVENTS_LIMIT_DEFAULT, &limit);
    if (err || !(hub = cc_events_hub_or_error(ctx, &err))) {
        return err;
    }
    /* The request's connection (the principal's) goes back before any read: a read from
     * the database takes one of its own, and holding two at once lets DBDMax such
     * requests wait on each other forever. */
    cc_db_release(ctx->db);
    deadline = apr_time_now() + apr_time_from_sec(ctx->r->header_only ? 0 : wait);
    for (;;) {
        apr_uint64_t before = pos;

        if ((err = cc_events_next(ctx, hub, f, 0, &pos, (apr_size_t)limit, out, &ready))) {
            return err;
        }
        if (out->nelts > 0) {
            break;
        }
        /* Passed events it may not see: read on at once, a bounded number of times (the
         * answer then says how far it got). */
        if (ready && pos > before && ++reads < CC_EVENTS_MAX_READS) {
            continue;
        }
        if (apr_time_now() >= deadline || reads >= CC_EVENTS_MAX_READS) {
            break;
        }
        if (!placed) {
            /* A waiting request holds a worker thread, as a stream does. */
            if ((err = cc_events_take_place(ctx, hub))) {
                return err;
            }
            placed = 1;
        }
        cc_hub_wait(hub, pos, deadline - apr_time_now() < CC_EVENTS_SLICE
                              ? deadline - apr_time_now() : CC_EVENTS_SLICE);
        if (child_stopping()) {
            break;
        }
    }
    /* {"data":[e,e,...],"last_id":N}, sized first and copied once. */
    tail = apr_psprintf(p, "],\"last_id\":%" APR_UINT64_T_FMT "}", pos);
    len = strlen("{\"data\":[") + strlen(tail);
    for (i = 0; i < (apr_size_t)out->nelts; i++) {
        len += APR_ARRAY_IDX(out, i, cc_event_t).json_len + 1;
    }
    at = text = apr_palloc(p, len + 1);
    at = stpcpy(at, "{\"data\":[");
    for (i = 0; i < (apr_size_t)out->nelts; i++) {
        const cc_event_t *ev = &APR_ARRAY_IDX(out, i, cc_event_t);

        if (i) {
            *at++ = ',';
        }
        memcpy(at, ev->json, ev->json_len);
        at += ev->json_len;
    }
    at = stpcpy(at, tail);
    cc_metrics_events_delivered(CC_METRICS_EVENTS_POLL, (apr_uint64_t)out->nelts);
    return cc_reply_text(ctx, HTTP_OK, text, (apr_size_t)(at - text));
}

/* ---- GET /api/v1/events/stream ---- */

/* The main stream's bookkeeping: its websocket_sessions row. */
typedef struct user_stream_t {
    cc_stream_t *st;
    apr_int64_t session;          /* websocket_sessions.id, 0 without a row */
    apr_time_t last_seen;
} user_stream_t;

/* A database step of the stream on a connection of its own, given back at once;
 * pfirst (may be NULL): the first value of the first row, copied. */
static cc_error_t *session_step(user_stream_t *us, const char *label, int nargs,
                                const char **args, const char **pfirst)
{
    cc_ctx_t *ctx = us->st->ctx;
    apr_pool_t *sp;
    cc_db_t *db;
    const char **row = NULL;
    cc_error_t *err;

    apr_pool_create(&sp, ctx->pool);
    db = cc_db_standalone(sp, ctx->r->server);
    if (pfirst) {
        err = cc_db_select_row(db, label, nargs, args, &row, NULL);
        *pfirst = !err && row && row[0] ? apr_pstrdup(ctx->pool, row[0]) : NULL;
    }
    else {
        err = cc_db_exec(db, label, nargs, args, NULL);
    }
    apr_pool_destroy(sp);
    return err;
}

static void session_open(user_stream_t *us)
{
    cc_ctx_t *ctx = us->st->ctx;
    request_rec *r = ctx->r;
    /* The client's address and User-Agent as the audit log records them (the kit's
     * actor: the latter valid UTF-8 within 512 bytes). */
    const cc_actor_t *who = cc_ctx_actor_user(ctx, ctx->principal->user_id_str);
    const char *args[7];
    const char *id = NULL;

    args[0] = ctx->principal->tenant_id;
    args[1] = ctx->principal->user_id_str;
    args[2] = who->ip ? who->ip : "";
    args[3] = who->user_agent;
    args[4] = cc_events_node(r->pool);
    args[5] = apr_itoa(r->pool, (int)getpid());
    args[6] = cc_events_id_text(r->pool, us->st->pos);
    /* Without its row the stream still runs (it is bookkeeping): logged, not fatal. */
    if (session_step(us, "cc_events_session_insert", 7, args, &id) == NULL && id) {
        us->session = apr_atoi64(id);
    }
    us->last_seen = apr_time_now();
}

/* Each turn: the row's last_event_id every CC_EVENTS_POSITION_REFRESH. */
static void session_tick(void *baton)
{
    user_stream_t *us = baton;
    cc_ctx_t *ctx = us->st->ctx;
    const char *args[3];

    if (apr_time_now() - us->last_seen < apr_time_from_sec(CC_EVENTS_POSITION_REFRESH)) {
        return;
    }
    us->last_seen = apr_time_now();
    if (!us->session) {
        return;
    }
    args[0] = cc_events_id_text(ctx->pool, us->st->pos);
    args[1] = ctx->principal->tenant_id;
    args[2] = apr_psprintf(ctx->pool, "%" APR_INT64_T_FMT, us->session);
    (void)session_step(us, "cc_events_session_seen", 3, args, NULL);
}

static void session_close(user_stream_t *us)
{
    cc_ctx_t *ctx = us->st->ctx;
    const char *args[2];

    if (!us->session) {
        return;
    }
    args[0] = ctx->principal->tenant_id;
    args[1] = apr_psprintf(ctx->pool, "%" APR_INT64_T_FMT, us->session);
    (void)session_step(us, "cc_events_session_delete", 2, args, NULL);
}

/* Write and flush; 0 when the client is gone. */
static int send_text(request_rec *r, const char *s, apr_size_t len)
{
    return ap_rwrite(s, (int)len, r) >= 0 && ap_rflush(r) >= 0 && !r->connection->aborted;
}

/* Send the frames of out's events (one write); 0 when the client is gone.  *pend: a
 * frame ended the stream (the events after it are not sent). */
static int send_events(cc_stream_t *st, apr_pool_t *p, const apr_array_header_t *out,
                       int *pend)
{
    struct iovec *vec;
    apr_size_t i, n = 0, total = 0;
    char *buf, *at;

    if (out->nelts == 0) {
        return 1;
    }
    vec = apr_palloc(p, sizeof(*vec) * (apr_size_t)out->nelts);
    for (i = 0; i < (apr_size_t)out->nelts && !*pend; i++) {
        const cc_event_t *ev = &APR_ARRAY_IDX(out, i, cc_event_t);
        apr_size_t len = 0;
        const char *frame = st->frame(st->baton, p, ev, &len, pend);

        if (frame) {
            vec[n].iov_base = (void *)frame;
            vec[n].iov_len = len;
            total += len;
            n++;
        }
    }
    if (!n) {
        return 1;
    }
    at = buf = apr_palloc(p, total);
    for (i = 0; i < n; i++) {
        memcpy(at, vec[i].iov_base, vec[i].iov_len);
        at += vec[i].iov_len;
    }
    st->last_write = apr_time_now();
    if (!send_text(st->ctx->r, buf, total)) {
        return 0;
    }
    cc_metrics_events_delivered(CC_METRICS_EVENTS_STREAM, n);
    return 1;
}

/* The stream's end: the token's expiry or the longest stream, whichever comes first. */
static apr_time_t stream_deadline(cc_ctx_t *ctx)
{
    APR_OPTIONAL_FN_TYPE(cc_auth_identity_get) *get_identity =
        APR_RETRIEVE_OPTIONAL_FN(cc_auth_identity_get);
    const cc_identity_t *id = get_identity ? get_identity(ctx->r) : NULL;
    apr_time_t end = apr_time_now()
                     + apr_time_from_sec(cc_chat_setting(ctx->r->server, CC_EV_MAX_DURATION));

    if (id && id->exp > 0 && apr_time_from_sec(id->exp) < end) {
        end = apr_time_from_sec(id->exp);
    }
    return end;
}

cc_error_t *cc_events_position(cc_ctx_t *ctx, cc_hub_t *hub, apr_uint64_t *ppos)
{
    request_rec *r = ctx->r;
    apr_uint64_t v = 0;
    int given_header, given_after;
    cc_error_t *err;

    err = read_position(ctx->pool, NULL, apr_table_get(r->headers_in, "Last-Event-ID"),
                        "Last-Event-ID", &given_header, ppos);
    err = read_position(ctx->pool, err,
                        ctx->args ? apr_table_get(ctx->args, "after") : NULL, "after",
                        &given_after, &v);
    if (err) {
        return err;
    }
    /* The header (what EventSource sends when it reconnects) wins over ?after=; without
     * either the stream starts at the newest event, which a child just started learns at
     * its poller's first run. */
    if (!given_header && given_after) {
        *ppos = v;
    }
    else if (!given_header) {
        apr_time_t until = apr_time_now() + CC_EVENTS_START_WAIT;

        while (!cc_hub_ready(hub) && apr_time_now() < until) {
            cc_hub_wait(hub, 0, apr_time_from_msec(100));
        }
        if (!cc_hub_ready(hub)) {
            /* The database has been away since the child started. */
            apr_table_setn(r->err_headers_out, "Retry-After", CC_EVENTS_FULL_RETRY);
            return cc_error_unavailable(ctx->pool);
        }
        *ppos = cc_hub_start(hub);
    }
    return NULL;
}

int cc_events_stream_open(cc_stream_t *st)
{
    request_rec *r = st->ctx->r;
    const char *hello;

    r->status = HTTP_OK;
    ap_set_content_type(r, "text/event-stream; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-cache, no-store");
    apr_table_setn(r->headers_out, "X-Accel-Buffering", "no");
    apr_table_setn(r->subprocess_env, "no-gzip", "1");
    if (r->header_only) {
        /* HEAD: the headers a GET would get, and no stream to hold a thread for. */
        (void)ap_rflush(r);
        return 0;
    }
    /* The id line makes the client's Last-Event-ID the start: one that drops before its
     * first event resumes from there, not from whatever is newest by then. */
    hello = apr_psprintf(st->ctx->pool, "retry: %d\n: position %" APR_UINT64_T_FMT
                         "\nid: %" APR_UINT64_T_FMT "\n\n",
                         cc_chat_setting(r->server, CC_EV_RETRY), st->pos, st->pos);
    st->last_write = apr_time_now();
    return send_text(r, hello, strlen(hello));
}

int cc_events_stream_send(cc_stream_t *st, const char *text)
{
    st->last_write = apr_time_now();
    return send_text(st->ctx->r, text, strlen(text));
}

void cc_events_stream_run(cc_stream_t *st)
{
    request_rec *r = st->ctx->r;
    apr_interval_time_t keepalive =
        apr_time_from_sec(cc_chat_setting(r->server, CC_EV_KEEPALIVE));
    apr_pool_t *iter;
    int ready, end = 0;

    /* Every stream (the events', a chat's) is a client of the node's gauge; its
     * duration is not a latency. */
    cc_metrics_streaming(r);
    cc_metrics_stream_clients(1);
    apr_pool_create(&iter, st->ctx->pool);
    while (!end && apr_time_now() < st->deadline && !child_stopping()) {
        apr_array_header_t *out = apr_array_make(iter, 16, sizeof(cc_event_t));
        apr_uint64_t before = st->pos;

        if (cc_events_next(st->ctx, st->hub, st->filter, st->hub_only, &st->pos,
                           CC_EVENTS_BATCH, out, &ready)) {
            /* The database is away while catching up: try again in a moment. */
            cc_hub_wait(st->hub, ~(apr_uint64_t)0 >> 1, CC_EVENTS_SLICE);
        }
        else if (!send_events(st, iter, out, &end)) {
            break;
        }
        else if (end) {
            break;
        }
        else if (ready && st->pos > before && out->nelts == CC_EVENTS_BATCH) {
            apr_pool_clear(iter);
            continue;             /* more to catch up */
        }
        else if (ready && st->pos == before) {
            apr_interval_time_t left = st->deadline - apr_time_now();

            cc_hub_wait(st->hub, st->pos, left < CC_EVENTS_SLICE ? left : CC_EVENTS_SLICE);
        }
        else if (!ready) {
            cc_hub_wait(st->hub, st->pos, CC_EVENTS_SLICE);
        }
        if (apr_time_now() - st->last_write >= keepalive) {
            /* A comment keeps proxies from closing an idle stream; the id line tells the
             * client how far it is, past events it may not see. */
            const char *ka = apr_psprintf(iter, ": keep-alive\nid: %" APR_UINT64_T_FMT
                                          "\n\n", st->pos);

            if (!cc_events_stream_send(st, ka)) {
                break;
            }
        }
        if (st->tick) {
            st->tick(st->baton);
        }
        apr_pool_clear(iter);
    }
    cc_metrics_stream_clients(-1);
}

/* The main stream's frame: the event as it is. */
static const char *user_frame(void *baton, apr_pool_t *p, const cc_event_t *ev,
                              apr_size_t *plen, int *pend)
{
    (void)baton;
    (void)pend;
    return cc_events_sse_frame(p, ev->id, ev->type, ev->json, ev->json_len, plen);
}

static cc_error_t *events_stream(cc_ctx_t *ctx)
{
    cc_stream_t st;
    user_stream_t us;
    cc_error_t *err;

    memset(&st, 0, sizeof(st));
    memset(&us, 0, sizeof(us));
    st.ctx = ctx;
    st.filter = principal_filter(ctx);
    st.frame = user_frame;
    st.tick = session_tick;
    st.baton = &us;
    us.st = &st;
    if (!(st.hub = cc_events_hub_or_error(ctx, &err))
        || (err = cc_events_take_place(ctx, st.hub))) {
        return err;
    }
    /* No connection is kept while the stream runs (nor while it waits to start). */
    cc_db_release(ctx->db);
    if ((err = cc_events_position(ctx, st.hub, &st.pos))) {
        return err;
    }
    st.deadline = stream_deadline(ctx);
    /* The session's row before the first frame: a client that read it finds its stream
     * listed (GET /realtime/sessions), not a moment later. */
    session_open(&us);
    if (cc_events_stream_open(&st) && !ctx->r->header_only) {
        cc_events_stream_run(&st);
    }
    session_close(&us);
    return cc_reply_sent(ctx);
}

static const cc_route_t events_routes[] = {
    { "GET", "/api/v1/events/stream", events_stream, "events.read", CC_ROUTE_AUTH },
    { "GET", "/api/v1/events", events_poll, "events.read", CC_ROUTE_AUTH },
    { "GET", "/api/v1/realtime/sessions", cc_handle_list, "events.read", CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_events_domain = { "events", events_routes, events_stmts,
                                       &sessions_list, NULL, NULL };
