/*
 * cc_chat_private.h: what mod_cc_chat's files share (its configuration, the child's
 * event hub).  Not installed.
 */
#ifndef CC_CHAT_PRIVATE_H
#define CC_CHAT_PRIVATE_H

#include <httpd.h>
#include <http_config.h>
#include "cc_audit.h"
#include "cc_events_hub.h"
#include "cc_http.h"

/* The event stream's settings (README "The event stream"); CC_CHAT_UNSET until merged
 * with a value, read through cc_chat_setting. */
#define CC_CHAT_UNSET (-1)
typedef enum {
    CC_EV_MAX_CLIENTS,     /* CCEventStreamMaxClients: streams and waiting long-polls per child */
    CC_EV_MAX_DURATION,    /* CCEventStreamMaxDuration: seconds before a stream ends */
    CC_EV_KEEPALIVE,       /* CCEventKeepAlive: seconds between keep-alive comments */
    CC_EV_RETRY,           /* CCEventRetry: the retry: hint, milliseconds */
    CC_EV_LONGPOLL_MAX,    /* CCEventLongPollMax: the longest ?wait=, seconds */
    CC_EV_POLL_INTERVAL,   /* CCEventPollInterval: the poller's period, milliseconds */
    CC_EV_BUFFER,          /* CCEventBuffer: events buffered per child */
    CC_EV_RETENTION_DAYS,  /* CCEventRetentionDays: days events are kept; 0 forever */
    CC_EV_RETENTION_INTERVAL, /* CCEventRetentionInterval: seconds between retention runs */
    CC_CHAT_TOKEN_TTL,     /* CCChatVisitorTokenTTL: seconds a visitor token is good for */
    CC_CHAT_PER_ADDRESS,   /* CCChatSessionsPerAddress: new sessions a minute per address */
    CC_CHAT_PER_WIDGET,    /* CCChatSessionsPerWidget: new sessions a minute per widget */
    CC_CHAT_REASSIGN_INTERVAL, /* CCChatReassignInterval: seconds between reassign runs */
    CC_CHAT_VISITOR_STREAMS, /* CCChatVisitorStreamMaxClients: visitors' streams per child */
    CC_CHAT_VISITOR_TIMEOUT, /* CCChatVisitorTimeout: seconds a waiting visitor may be gone */
    CC_WH_INTERVAL,        /* CCWebhookInterval: milliseconds between delivery runs; 0 none */
    CC_WH_TIMEOUT,         /* CCWebhookTimeout: seconds a call may take */
    CC_WH_RETRY_BASE,      /* CCWebhookRetryBase: the first wait after a failure, s */
    CC_WH_RETRY_MAX,       /* CCWebhookRetryMax: the longest wait, s */
    CC_WH_RETRY_FOR,       /* CCWebhookRetryFor: an event's calls from its first failure, s */
    CC_WH_DISABLE_AFTER,   /* CCWebhookDisableAfter: failing this long disables, s */
    CC_EV_NSETTINGS
} cc_chat_setting_e;

typedef struct cc_chat_config_t {
    int v[CC_EV_NSETTINGS];
    /* CCWebhookAllowNetworks: cc_wh_net_t; NULL until set (merged as a whole). */
    apr_array_header_t *wh_allow;
} cc_chat_config_t;

extern module AP_MODULE_DECLARE_DATA cc_chat_module;

/** A setting of s (its default when unset). */
int cc_chat_setting(const server_rec *s, cc_chat_setting_e which);

/** The networks webhook deliveries may reach although special (CCWebhookAllowNetworks of
 *  s): *pn of them (NULL, 0 when none). */
const struct cc_wh_net_t *cc_chat_webhook_allow(const server_rec *s, int *pn);

/** A webhook subscription as the API shows it (cc_webhooks.c). */
extern const cc_col_t cc_webhook_cols[];

/** A subscription as audit entries and events show it: its URL redacted
 *  (cc_wh_url_redacted); a copy in p. */
json_t *cc_webhook_public(apr_pool_t *p, const json_t *obj);

/** Schedule the webhook delivery job (cc_webhooks_job.c), from post_config. */
int cc_webhooks_job_schedule(apr_pool_t *pconf, server_rec *s);

/** The webhook deliveries past event retention (days), from the retention job. */
cc_error_t *cc_webhooks_prune(cc_db_t *db, int days);

/** The child's hub (NULL in the parent, or when it could not be made). */
cc_hub_t *cc_chat_hub(void);

/* ---- the stream machinery (cc_events.c), shared by the users' and the visitors' ---- */

/** The child's hub, or NULL and *perr (503). */
cc_hub_t *cc_events_hub_or_error(cc_ctx_t *ctx, cc_error_t **perr);

/** Take one of the child's stream places for this request until it ends (503 when
 * full). */
cc_error_t *cc_events_take_place(cc_ctx_t *ctx, cc_hub_t *hub);

/** The 503 of a child with no stream place left (Retry-After). */
cc_error_t *cc_events_child_full(cc_ctx_t *ctx);

/**
 * The next events after *ppos that f takes (at most max) without waiting: from the hub,
 * or from the database when *ppos is older than the hub's buffer (hub_only: passed over
 * instead).  *pready 0 when the hub has not polled yet.
 */
cc_error_t *cc_events_next(cc_ctx_t *ctx, cc_hub_t *hub, const cc_events_filter_t *f,
                           int hub_only, apr_uint64_t *ppos, apr_size_t max,
                           apr_array_header_t *out, int *pready);

/** A stream's start: Last-Event-ID, else ?after=, else the newest event (400 on a bad
 * one; 503 when the hub never became ready). */
cc_error_t *cc_events_position(cc_ctx_t *ctx, cc_hub_t *hub, apr_uint64_t *ppos);

/** One Server-Sent Events stream over the hub. */
typedef struct cc_stream_t {
    cc_ctx_t *ctx;
    cc_hub_t *hub;
    const cc_events_filter_t *filter;
    /** Never read the database: a position older than the hub's buffer moves up to it
     * (a public reader must not make the server walk a tenant's history). */
    int hub_only;
    apr_uint64_t pos;              /**< the last id the client has been told */
    apr_time_t deadline;
    /** ev's frame in p (*plen bytes), NULL to send nothing for it; *pend set: the
     * stream ends after this frame. */
    const char *(*frame)(void *baton, apr_pool_t *p, const cc_event_t *ev,
                         apr_size_t *plen, int *pend);
    void (*tick)(void *baton);     /**< each turn (bookkeeping); may be NULL */
    void *baton;
    apr_time_t last_write;
} cc_stream_t;

/** The stream's headers and its first lines (retry:, the position as id:); 0 for HEAD
 * or a client gone (nothing more to send). */
int cc_events_stream_open(cc_stream_t *st);

/** Send text now; 0 when the client is gone. */
int cc_events_stream_send(cc_stream_t *st, const char *text);

/** Frames until the deadline, the child stopping, the client going or a frame ending it;
 * keep-alives between. */
void cc_events_stream_run(cc_stream_t *st);

/* ---- chat routing (cc_chat_routing.c) ---- */

/* Session s's place in its tenant's queue (1 first), NULL unless it is waiting. */
#define CHAT_SESSION_POSITION                                                            \
    "IF(s.waiting_at IS NULL, NULL, (SELECT COUNT(*) FROM chat_sessions q"               \
    "  WHERE q.tenant_id = s.tenant_id AND q.waiting_at IS NOT NULL"                     \
    "  AND (q.waiting_at < s.waiting_at OR (q.waiting_at = s.waiting_at AND q.id <= s.id))))"

/* The session object's columns (cc_chat_session_columns order), from CHAT_SESSION_FROM. */
#define CHAT_SESSION_COLUMNS                                                             \
    "s.id, s.widget_id, s.status, s.agent_id, u.name,"                                   \
    " JSON_OBJECT('name', s.visitor_name, 'email', s.visitor_email), s.origin, "         \
    CHAT_SESSION_POSITION ","                                                            \
    " s.created_at, s.assigned_at, s.first_response_at, s.closed_at, s.closed_by,"       \
    " s.last_message_at"
#define CHAT_SESSION_FROM                                                                     \
    " FROM chat_sessions s LEFT JOIN users u ON u.tenant_id = s.tenant_id"               \
    "  AND u.id = s.agent_id"

/* How often an open visitor stream says the visitor is there (visitor_seen_at), seconds;
 * CCChatVisitorTimeout is at least twice this. */
#define CC_CHAT_SEEN_REFRESH 60

/* A visitor's streams at once in one child (a page open in two tabs). */
#define CC_CHAT_STREAMS_PER_SESSION 2

/* The waiting ids a chat.queue_updated event lists (the visitors' positions). */
#define CC_CHAT_QUEUE_IDS 200

/** The session object's columns. */
extern const cc_col_t cc_chat_session_columns[];

/** Take the tenant's chat routing lock (first in a transaction that changes capacity). */
cc_error_t *cc_chat_lock(cc_db_t *db, const char *tenant);

/** The session object (*pobj NULL when the tenant has no such session). */
cc_error_t *cc_chat_session(cc_db_t *db, const char *tenant, const char *id, json_t **pobj);

/**
 * Record a change of session id (verb as cc_record: "chat.session_close" gives the event
 * chat.session_closed) with the session object as it is now, plus extra's keys (may be
 * NULL), as the event's data; *pobj (may be NULL) that object.  404 when no session.
 */
cc_error_t *cc_chat_session_event(cc_db_t *db, const char *tenant, const cc_actor_t *actor,
                                  const char *verb, const char *id, const json_t *changes,
                                  json_t *extra, int what, json_t **pobj);

/** The event chat.queue_updated: the waiting count and the first waiting ids. */
cc_error_t *cc_chat_queue_changed(cc_db_t *db, const char *tenant, const cc_actor_t *actor);

/** Assign what waits to who is free (under cc_chat_lock); *pn assignments made. */
cc_error_t *cc_chat_assign(cc_db_t *db, const char *tenant, const cc_actor_t *actor, int *pn);

/** cc_chat_assign, then chat.queue_updated when it assigned any or queue_changed. */
cc_error_t *cc_chat_assign_and_announce(cc_db_t *db, const char *tenant,
                                        const cc_actor_t *actor, int queue_changed);

/** The optional function of cc_chat_link.h: lock, then assign. */
cc_error_t *cc_chat_voice_state_changed(cc_db_t *db, const char *tenant_id,
                                        const char *user_id, const cc_actor_t *actor);

/** The optional function of cc_chat_link.h: an agent's chats back to the queue. */
cc_error_t *cc_chat_agent_gone(cc_db_t *db, const char *tenant, const char *user,
                               const cc_actor_t *actor);

/** The reassign job's run (a cc_job_fn, data the main server): chats unanswered past
 * their widget's reassign_after go back to the queue, for another agent; sessions whose
 * token expired, and waiting ones whose visitor is gone (CCChatVisitorTimeout), close. */
cc_error_t *cc_chat_reassign_run(cc_db_t *db, void *data);

/** The visitor API's OPTIONS preflight (cc_chat_visitor.c): DECLINED for a path of no
 * route, else the answer sent. */
int cc_chat_preflight(request_rec *r, const cc_domain_t *const *domains);

/* ---- sessions (cc_chat_sessions.c): what both sides do ---- */

/** Who writes a message. */
typedef enum { CC_CHAT_BY_VISITOR, CC_CHAT_BY_AGENT } cc_chat_sender_e;

/**
 * Post body to session id (in an open transaction): the session is locked; closed is
 * 409; an agent (actor->id) posts only to an active session, its own unless may_any
 * (403).  Writes the message, the session's times, the audit entry and the event
 * chat.message; *pmsg the message object.
 */
cc_error_t *cc_chat_post(cc_db_t *db, const char *tenant, const cc_actor_t *actor,
                         const char *id, cc_chat_sender_e by, const char *body, int may_any,
                         json_t **pmsg);

/**
 * Close session id (in an open transaction; takes the routing lock): 409 when closed
 * already; a freed place goes to the next waiting session.  *pobj the session.  When
 * agent_user is given (an agent closing), the session must be waiting, or active with
 * that agent unless may_any (chat.manage): 403 otherwise.
 */
cc_error_t *cc_chat_close(cc_db_t *db, const char *tenant, const cc_actor_t *actor,
                          const char *id, const char *closed_by, const char *agent_user,
                          int may_any, json_t **pobj);

/** The messages of session id after after (at most limit), oldest first, as the
 * agents see them ({"data": [...]}). */
cc_error_t *cc_chat_messages(cc_db_t *db, const char *tenant, const char *id,
                             const char *after, const char *limit, json_t **prows);

/** A message body {"body": text}: 1..CC_CHAT_MESSAGE_MAX characters, not only white
 * space (400 otherwise). */
cc_error_t *cc_chat_read_message(cc_ctx_t *ctx, const char **ptext);

/** ?after= and ?limit= of a messages list (400 details). */
cc_error_t *cc_chat_read_after(cc_ctx_t *ctx, const char **pafter, const char **plimit);

#endif
