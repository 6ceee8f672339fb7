/*
 * cc_events_hub.c (glue): the child's poller and buffer of events (cc_events_hub.h).
 *
 * The poller is a per-child mod_watchdog job (cc_job, per_child) run every
 * CCEventPollInterval.  Each run reads the rows with id >= next (every lower id is
 * settled) in id order and hands them on in that order only (cc_events_plan): ids are
 * given at insert and become visible at commit, so a row may show while a lower id is
 * still being written.  At such a gap it probes the missing ids with a locking read that
 * does not wait (LOCK IN SHARE MODE NOWAIT): a lock conflict means an insert is still
 * open (wait for the next run), a row means it committed since (read again), nothing
 * means it was rolled back or never used (skip it).  So nothing is skipped and nothing
 * waits longer than the writing transaction (measured by the tests in test_800).
 *
 * Starting, the poller takes next from the newest id minus CC_HUB_START_WINDOW, so an
 * insert still open when the child starts is not passed over; the buffer starts complete
 * from there.  Losing the database changes nothing but the next run's luck: next stays,
 * and the clients keep waiting.
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

/* The first run starts at the lower of the newest id minus CC_HUB_START_WINDOW and the
 * first id after the newest event created CC_HUB_START_AGE ago or more: every insert still
 * open then began within that age (CC_HUB_GAP_MAX, plus a margin). */
#define CC_HUB_START_WINDOW 1000
#define CC_HUB_START_AGE "70"
/* A gap that looks rolled back (no row, no lock) is skipped only when it still does this
 * long after it first did: an id is allocated a moment before its row enters the index,
 * and a later id may commit in between. */
#define CC_HUB_DEAD_GRACE apr_time_from_msec(250)
/* The streams' heartbeat (websocket_sessions.seen_at; sql/016). */
#define CC_HUB_HEARTBEAT apr_time_from_sec(30)
/* The longest a gap holds the stream: past it the ids are passed over (logged).  Above
 * innodb_lock_wait_timeout's default (50 s), the longest an API transaction that wrote an
 * event can wait before its commit, so it is only ever reached by a transaction left
 * open by hand or a stuck client. */
#define CC_HUB_GAP_MAX apr_time_from_sec(60)
/* Rows per read (the LIMIT of cc_events_hub_read, cc_events.c), and reads per run (a run
 * catches up 4,096 events at most; the next run goes on). */
#define CC_HUB_BATCH_N 512
#define CC_HUB_READS 8

struct cc_hub_t {
    apr_thread_mutex_t *mu;
    apr_thread_cond_t *cond;
    cc_evring_t ring;
    apr_uint64_t next;            /* every id below is settled (in the buffer, or never) */
    int ready;                    /* the first run has set next */
    apr_uint64_t newest_at_start; /* the newest id at the first run */
    /* The poller thread's own. */
    apr_uint64_t gap_lo;          /* the gap it waits at */
    apr_time_t gap_since;         /* since when it waits there */
    apr_time_t dead_since;        /* since when the gap looks rolled back (0: it does not) */
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
    const char *args[1] = { CC_HUB_START_AGE };
    const char **row;
    cc_error_t *err = cc_db_select_row(db, "cc_events_hub_newest", 1, args, &row, NULL);
    apr_uint64_t newest = 0, old = 0;

    if (err) {
        return err;
    }
    if (row && row[0]) {
        newest = (apr_uint64_t)apr_atoi64(row[0]);
    }
    if (row && row[1]) {
        old = (apr_uint64_t)apr_atoi64(row[1]);
    }
    *pnewest = newest;
    *pnext = newest > CC_HUB_START_WINDOW ? newest - CC_HUB_START_WINDOW + 1 : 1;
    if (old + 1 < *pnext) {
        *pnext = old + 1;
    }
    return NULL;
}

/* Whether the ids [lo, hi) will never come: 1 never, 0 one is still being written or has
 * just been committed (read again next time). */
static cc_error_t *gap_settled(cc_db_t *db, apr_uint64_t lo, apr_uint64_t hi, int *pdead)
{
    const char *args[2];
    const char **row;
    cc_error_t *err;

    args[0] = cc_events_id_text(db->pool, lo);
    args[1] = cc_events_id_text(db->pool, hi);
    db->quiet_conflicts = 1;
    db->conflict_errno = 0;
    err = cc_db_select_row(db, "cc_events_hub_probe", 2, args, &row, NULL);
    db->quiet_conflicts = 0;
    if (err && err->lock_conflict) {
        *pdead = 0;               /* an insert is open: wait for it */
        return NULL;
    }
    if (err) {
        return err;
    }
    *pdead = !(row && row[0] && apr_atoi64(row[0]) > 0);
    return NULL;
}

/* Hand events rows[from, from + n) on: their JSON is built here, outside the lock. */
static void append(cc_hub_t *h, apr_pool_t *p, json_t *rows, size_t from, size_t n,
                   apr_uint64_t next)
{
    const char **json = apr_palloc(p, sizeof(*json) * (n ? n : 1));
    const char **entity = apr_palloc(p, sizeof(*entity) * (n ? n : 1));
    size_t i;

    for (i = 0; i < n; i++) {
        const json_t *row = json_array_get(rows, from + i);

        json[i] = cc_json_dump(p, row);
        entity[i] = cc_events_entity(p, cc_json_str(row, "entity_type"),
                                     cc_json_str(row, "entity_id"));
    }
    apr_thread_mutex_lock(h->mu);
    for (i = 0; i < n; i++) {
        const json_t *row = json_array_get(rows, from + i);
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
        apr_uint64_t *ids, lo, hi;
        size_t n, done = 0, i;
        apr_size_t go;

        args[0] = cc_events_id_text(db->pool, next);
        if ((err = cc_db_select(db, "cc_events_hub_read", event_cols, 1, args, &rows,
                                NULL))) {
            return err;
        }
        n = json_array_size(rows);
        if (n == 0) {
            return NULL;
        }
        ids = apr_palloc(db->pool, sizeof(*ids) * n);
        for (i = 0; i < n; i++) {
            ids[i] = row_id(json_array_get(rows, i));
        }
        /* Hand on what may go; at a gap, skip it when it will never fill. */
        for (;;) {
            int gap = cc_events_plan(next, ids + done, n - done, &go, &lo, &hi);
            int dead = 0;

            if (go) {
                next = ids[done + go - 1] + 1;
                append(h, db->pool, rows, done, go, next);
                done += go;
            }
            if (!gap) {
                break;
            }
            if (h->gap_lo != lo) {
                h->gap_lo = lo;
                h->gap_since = apr_time_now();
                h->dead_since = 0;
            }
            /* A probe that fails (not a lock conflict) counts as "still open": the gap's
             * deadline still applies. */
            if ((err = gap_settled(db, lo, hi, &dead)) != NULL) {
                dead = 0;
            }
            if (dead && !h->dead_since) {
                h->dead_since = apr_time_now();
            }
            if (!dead) {
                h->dead_since = 0;
            }
            if (dead && apr_time_now() - h->dead_since < CC_HUB_DEAD_GRACE) {
                return NULL;      /* looks rolled back: sure after the grace */
            }
            if (!dead && apr_time_now() - h->gap_since < CC_HUB_GAP_MAX) {
                return err;       /* the next run reads on from the gap */
            }
            if (!dead) {
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, h->s, CCLOGNO(04002)
                             "event stream: ids %" APR_UINT64_T_FMT " to %" APR_UINT64_T_FMT
                             " still uncommitted after %d s: passed over (a client that"
                             " resumes after a later id will not see them)", lo, hi - 1,
                             (int)apr_time_sec(CC_HUB_GAP_MAX));
            }
            next = hi;
            h->dead_since = 0;
            apr_thread_mutex_lock(h->mu);
            h->next = next;
            apr_thread_cond_broadcast(h->cond);
            apr_thread_mutex_unlock(h->mu);
        }
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

