/*
 * cc_events_hub.c (glue): the child's poller and buffer of events (cc_events_hub.h).
 *
 * The poller is a per-child mod_watchdog job (cc_job, per_child) run every
 * CCEventPollInterval.  Each run reads the rows with id >= next in id order and hands
 * them all on.  Ids are numbered in commit order (sql/026: the next id is only given once
 * the previous one has committed or rolled back), so every row below one that is visible
 * is visible too, on a single server as on every node of a Galera cluster: a gap in what
 * a read returns is final (retention, or holes older than sql/026), and nothing is ever
 * passed over or waited for.
 *
 * Starting, the poller takes next from the newest id minus CC_HUB_START_WINDOW, so that
 * the buffer already holds the last events for the clients that resume.  Losing the
 * database changes nothing but the next run's luck: next stays, and the clients keep
 * waiting.
 *
 * Locking: one mutex guards the buffer and next; the poller reads the database without
 * it, builds the events' JSON, then appends under it and broadcasts the condition every
 * waiting request of the child sleeps on.  Readers copy what they need under the mutex.
 */
#include <string.h>
#include <unistd.h>

#include <httpd.h>
#include <http_log.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>

#include "cc_events_hub.h"
#include "cc_json.h"
#include "cc_log.h"

/* The first run starts this many ids below the newest (the buffer's first events). */
#define CC_HUB_START_WINDOW 1000
/* The streams' heartbeat (websocket_sessions.seen_at; sql/016). */
#define CC_HUB_HEARTBEAT apr_time_from_sec(30)
/* Rows per read (the LIMIT of cc_events_hub_read, cc_events.c), and reads per run (a run
 * catches up 4,096 events at most; the next run goes on). */
#define CC_HUB_BATCH_N 512
#define CC_HUB_READS 8

struct cc_hub_t {
    apr_thread_mutex_t *mu;
    apr_thread_cond_t *cond;
    cc_evring_t ring;
    apr_uint64_t next;            /* every id below is in the buffer, or never comes */
    int ready;                    /* the first run has set next */
    apr_uint64_t newest_at_start; /* the newest id at the first run */
    volatile apr_uint32_t clients;
    /* Visitors' streams (under mu): the session of each place, 0 when free. */
    apr_int64_t *visitor_slots;
    int visitor_cap;
    server_rec *s;
    const char *node;             /* this host and process, for the sessions' heartbeat */
    const char *pid;
    apr_time_t heartbeat;         /* the last one (poller thread only) */
};

/* An event as the API shows it (API.md "Events"). */
static const cc_col_t event_cols[] = {
    { "id", CC_COL_INT },
    { "type", CC_COL_STR },
    { "tenant_id", CC_COL_STR },
    { "entity_type", CC_COL_STR },
    { "entity_id", CC_COL_STR },
    { "data", CC_COL_JSON },
    { "created_at", CC_COL_TIME },
    CC_COL_END
};

const cc_col_t *cc_events_cols(void)
{
    return event_cols;
}

static apr_status_t hub_cleanup(void *data)
{
    cc_hub_t *h = data;

    cc_evring_destroy(&h->ring);
    return APR_SUCCESS;
}

cc_hub_t *cc_hub_create(apr_pool_t *pchild, server_rec *s, apr_size_t cap, int visitors)
{
    cc_hub_t *h = apr_pcalloc(pchild, sizeof(*h));

    h->visitor_cap = visitors;
    h->visitor_slots = apr_pcalloc(pchild, sizeof(*h->visitor_slots)
                                           * (apr_size_t)(visitors > 0 ? visitors : 1));

    /* On pchild, freed with it: the poller runs in mod_watchdog's thread, which outlives
     * pchild, but cc_job's guard (a pre-cleanup of pchild, so it runs before this
     * cleanup) waits for a poll in progress and starts no other.  Without that guard a
     * hub going with pchild under a running poll crashed a child (test_625 under make
     * test). */
    if (apr_thread_mutex_create(&h->mu, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS
        || apr_thread_cond_create(&h->cond, pchild) != APR_SUCCESS
        || !cc_evring_init(&h->ring, cap, 0)) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, CCLOGNO(04001)
                     "event stream: no memory for the child's buffer of %" APR_SIZE_T_FMT
                     " events", cap);
        return NULL;
    }
    h->s = s;
    h->node = cc_events_node(pchild);
    h->pid = apr_itoa(pchild, (int)getpid());
    apr_pool_cleanup_register(pchild, h, hub_cleanup, apr_pool_cleanup_null);
    return h;
}

const char *cc_events_node(apr_pool_t *p)
{
    char host[64];

    if (apr_gethostname(host, sizeof(host), p) != APR_SUCCESS) {
        apr_cpystrn(host, "unknown", sizeof(host));
    }
    return apr_pstrdup(p, host);
}

/* Every CC_HUB_HEARTBEAT, seen_at of every stream row of this process: one statement per
 * child whatever the number of streams.  Its failure changes nothing else. */
static void heartbeat(cc_hub_t *h, cc_db_t *db)
{
    const char *args[2];

    if (apr_time_now() - h->heartbeat < CC_HUB_HEARTBEAT) {
        return;
    }
    h->heartbeat = apr_time_now();
    args[0] = h->node;
    args[1] = h->pid;
    (void)cc_db_exec(db, "cc_events_sessions_seen", 2, args, NULL);
}

/* ---- the poller ---- */

static apr_uint64_t row_id(const json_t *row)
{
    return (apr_uint64_t)json_integer_value(json_object_get(row, "id"));
}

/* Where the first run starts (*pnext), and the newest id then. */
static cc_error_t *start_position(cc_db_t *db, apr_uint64_t *pnext, apr_uint64_t *pnewest)
{
    const char **row;
    cc_error_t *err = cc_db_select_row(db, "cc_events_hub_newest", 0, NULL, &row, NULL);
    apr_uint64_t newest = 0;

    if (err) {
        return err;
    }
    if (row && row[0]) {
        newest = (apr_uint64_t)apr_atoi64(row[0]);
    }
    *pnewest = newest;
    *pnext = newest > CC_HUB_START_WINDOW ? newest - CC_HUB_START_WINDOW + 1 : 1;
    return NULL;
}

/* Hand the n events rows on: their JSON is built here, outside the lock. */
static void append(cc_hub_t *h, apr_pool_t *p, json_t *rows, size_t n, apr_uint64_t next)
{
    const char **json = apr_palloc(p, sizeof(*json) * (n ? n : 1));
    const char **entity = apr_palloc(p, sizeof(*entity) * (n ? n : 1));
    size_t i;

    for (i = 0; i < n; i++) {
        const json_t *row = json_array_get(rows, i);

        json[i] = cc_json_dump(p, row);
        entity[i] = cc_events_entity(p, cc_json_str(row, "entity_type"),
                                     cc_json_str(row, "entity_id"));
    }
    apr_thread_mutex_lock(h->mu);
    for (i = 0; i < n; i++) {
        const json_t *row = json_array_get(rows, i);
        const char *tenant = json_string_value(json_object_get(row, "tenant_id"));
        const char *type = json_string_value(json_object_get(row, "type"));

        if (!cc_evring_push(&h->ring, row_id(row), tenant ? tenant : "", type ? type : "",
                            entity[i], json[i], strlen(json[i]))) {
            /* Out of memory: the buffer cannot hold it, so it is read from the database
             * (base past it). */
            h->ring.base = row_id(row) + 1;
        }
    }
    h->next = next;
    apr_thread_cond_broadcast(h->cond);
    apr_thread_mutex_unlock(h->mu);
}

cc_error_t *cc_hub_poll(cc_db_t *db, void *data)
{
    cc_hub_t *h = data;
    apr_uint64_t next;
    int reads;
    cc_error_t *err;

    apr_thread_mutex_lock(h->mu);
    next = h->next;
    apr_thread_mutex_unlock(h->mu);
    if (!h->ready) {
        apr_uint64_t newest;

        if ((err = start_position(db, &next, &newest))) {
            return err;
        }
        apr_thread_mutex_lock(h->mu);
        h->next = next;
        h->ring.base = next;
        h->newest_at_start = newest;
        h->ready = 1;
        apr_thread_cond_broadcast(h->cond);
        apr_thread_mutex_unlock(h->mu);
    }
    heartbeat(h, db);
    for (reads = 0; reads < CC_HUB_READS; reads++) {
        const char *args[1];
        json_t *rows;
        size_t n;

        args[0] = cc_events_id_text(db->pool, next);
        if ((err = cc_db_select(db, "cc_events_hub_read", event_cols, 1, args, &rows,
                                NULL))) {
            return err;
        }
        n = json_array_size(rows);
        if (n == 0) {
            return NULL;
        }
        next = row_id(json_array_get(rows, n - 1)) + 1;
        append(h, db->pool, rows, n, next);
        if (n < CC_HUB_BATCH_N) {
            return NULL;
        }
    }
    return NULL;
}

/* ---- the readers ---- */

cc_hub_read_e cc_hub_read(cc_hub_t *h, apr_uint64_t pos, const cc_events_filter_t *f,
                          apr_size_t max, apr_array_header_t *out, apr_uint64_t *pnewpos,
                          apr_uint64_t *pbound)
{
    apr_size_t i, taken = 0;
    cc_hub_read_e rv = CC_HUB_OK;

    *pnewpos = pos;
    apr_thread_mutex_lock(h->mu);
    if (!h->ready) {
        rv = CC_HUB_NOT_READY;
    }
    else if (pos + 1 < h->ring.base) {
        *pbound = h->ring.base;
        rv = CC_HUB_FROM_DB;
    }
    else {
        for (i = cc_evring_after(&h->ring, pos); i < h->ring.n; i++) {
            const cc_evring_entry_t *e = cc_evring_at(&h->ring, i);

            if (taken == max) {
                break;
            }
            if (cc_events_filter_match(f, e->tenant, e->type, e->entity)) {
                cc_event_t *ev = apr_array_push(out);

                ev->id = e->id;
                ev->type = apr_pstrdup(out->pool, e->type);
                ev->json = apr_pstrmemdup(out->pool, e->json, e->json_len);
                ev->json_len = e->json_len;
                taken++;
            }
            *pnewpos = e->id;
        }
        /* Everything settled was looked at: the client is as far as the poller. */
        if (taken < max && h->next - 1 > *pnewpos) {
            *pnewpos = h->next - 1;
        }
    }
    apr_thread_mutex_unlock(h->mu);
    return rv;
}

void cc_hub_wait(cc_hub_t *h, apr_uint64_t pos, apr_interval_time_t timeout)
{
    apr_thread_mutex_lock(h->mu);
    if (!h->ready || h->next <= pos + 1) {
        (void)apr_thread_cond_timedwait(h->cond, h->mu, timeout);
    }
    apr_thread_mutex_unlock(h->mu);
}

apr_uint64_t cc_hub_start(cc_hub_t *h)
{
    apr_uint64_t pos;

    apr_thread_mutex_lock(h->mu);
    pos = h->next > 0 ? h->next - 1 : 0;
    if (h->newest_at_start > pos) {
        pos = h->newest_at_start;
    }
    apr_thread_mutex_unlock(h->mu);
    return pos;
}

int cc_hub_ready(cc_hub_t *h)
{
    int ready;

    apr_thread_mutex_lock(h->mu);
    ready = h->ready;
    apr_thread_mutex_unlock(h->mu);
    return ready;
}

int cc_hub_enter(cc_hub_t *h, int max)
{
    if ((int)apr_atomic_inc32(&h->clients) >= max) {
        apr_atomic_dec32(&h->clients);
        return 0;
    }
    return 1;
}

void cc_hub_leave(cc_hub_t *h)
{
    apr_atomic_dec32(&h->clients);
}

int cc_hub_enter_visitor(cc_hub_t *h, apr_int64_t session, int per_session)
{
    int i, same = 0, free_at = -1;

    apr_thread_mutex_lock(h->mu);
    for (i = 0; i < h->visitor_cap; i++) {
        if (h->visitor_slots[i] == session) {
            same++;
        }
        else if (!h->visitor_slots[i] && free_at < 0) {
            free_at = i;
        }
    }
    if (free_at >= 0 && same < per_session) {
        h->visitor_slots[free_at] = session;
    }
    apr_thread_mutex_unlock(h->mu);
    return free_at < 0 ? 0 : same < per_session ? 1 : -1;
}

void cc_hub_leave_visitor(cc_hub_t *h, apr_int64_t session)
{
    int i;

    apr_thread_mutex_lock(h->mu);
    for (i = 0; i < h->visitor_cap; i++) {
        if (h->visitor_slots[i] == session) {
            h->visitor_slots[i] = 0;
            break;
        }
    }
    apr_thread_mutex_unlock(h->mu);
}

