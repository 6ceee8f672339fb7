/**
 * @file cc_events_hub.h
 * @brief (glue) One poller per httpd child: it reads new rows of `events` once, in id
 *        order, into the child's buffer, and wakes every request of the child waiting for
 *        them (streams and long-polls), which then never query `events` themselves once
 *        they have caught up (DESIGN.md "Real-time events").
 */
#ifndef CC_EVENTS_HUB_H
#define CC_EVENTS_HUB_H

#include <httpd.h>
#include "cc_db.h"
#include "cc_events_rules.h"

typedef struct cc_hub_t cc_hub_t;

/** An event handed to a request: its id, type and JSON object text, in the request's
 * pool. */
typedef struct cc_event_t {
    apr_uint64_t id;
    const char *type;
    const char *json;
    apr_size_t json_len;
} cc_event_t;

/** An event's columns as the API shows it ({id, type, tenant_id, entity_type, entity_id,
 * data, created_at}), for every statement that reads events. */
const cc_col_t *cc_events_cols(void);

/** The child's hub, made in child_init from pchild (cap: buffered events; visitors: the
 * places for chat visitors' streams); NULL when out of memory (logged). */
cc_hub_t *cc_hub_create(apr_pool_t *pchild, server_rec *s, apr_size_t cap, int visitors);

/** This host's name (websocket_sessions.node), in p. */
const char *cc_events_node(apr_pool_t *p);

/** The poller's run (a cc_job_fn, data the hub): reads what is new, and refreshes the
 * seen_at of this process's stream rows every 30 s. */
cc_error_t *cc_hub_poll(cc_db_t *db, void *data);

/** What cc_hub_read found. */
typedef enum {
    CC_HUB_OK,          /**< read from the buffer */
    CC_HUB_NOT_READY,   /**< the poller has not run yet: wait */
    CC_HUB_FROM_DB      /**< pos is older than the buffer: read [pos + 1, *pbound) from the
                             database (every id below *pbound is settled), then again */
} cc_hub_read_e;

/**
 * The events after pos that f's reader is handed (cc_events_filter_match), at most max of
 * them, appended to out (cc_event_t, copies in out's pool).  *pnewpos: the position the
 * client has then reached (the last event handed over when max stopped it, else the last
 * settled id; never below pos).
 */
cc_hub_read_e cc_hub_read(cc_hub_t *h, apr_uint64_t pos, const cc_events_filter_t *f,
                          apr_size_t max, apr_array_header_t *out, apr_uint64_t *pnewpos,
                          apr_uint64_t *pbound);

/** Wait up to timeout for an id above pos to be settled (or the poller's first run). */
void cc_hub_wait(cc_hub_t *h, apr_uint64_t pos, apr_interval_time_t timeout);

/** Where a client with no position starts (the poller ready): the newest event, which
 * for a child just started is the newest id at its first run, not the older ones its
 * buffer starts with. */
apr_uint64_t cc_hub_start(cc_hub_t *h);

/** Whether the poller has run once (the position means something). */
int cc_hub_ready(cc_hub_t *h);

/** Take one of max stream places of the child (0: all taken); cc_hub_leave gives it back. */
int cc_hub_enter(cc_hub_t *h, int max);
void cc_hub_leave(cc_hub_t *h);

/** A chat visitor's stream place, apart from the users' (a public client must not take
 * the agents' places): 1 taken, 0 none free in the child, -1 the session has
 * per_session streams in the child already.  cc_hub_leave_visitor gives it back. */
int cc_hub_enter_visitor(cc_hub_t *h, apr_int64_t session, int per_session);
void cc_hub_leave_visitor(cc_hub_t *h, apr_int64_t session);

#endif
