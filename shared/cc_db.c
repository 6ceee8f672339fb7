/*
 * cc_db.c (glue): prepared statements on mod_dbd's pooled connection.
 *
 * Facts this file is built on (reference/stack-notes.md §4): apr_dbd_mysql binds every
 * value as a string; a result value's pointer is the bind buffer, overwritten by the next
 * row, so rows are rendered at once; results are always drained; DBDParams reconnect=0
 * makes a dead pooled connection fail its ping, so acquiring is retried until mod_dbd
 * hands out a live one or the database is really down (503).
 *
 * A request thread keeps its connection between requests (parking, below): mod_dbd
 * pings a connection at every acquire, a round trip that costs as much as a simple
 * statement (reference/stack-notes.md §3: one connection, 10,240 selects/s without it,
 * 6,278 with it), and DESIGN.md wants a get or a list to be one round trip.
 */
#include <stdlib.h>
#include <string.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <ap_mpm.h>
#include <apr_atomic.h>
#include <http_request.h>
#include <apr_strings.h>
#include <apr_optional.h>
#include <apr_thread_mutex.h>

#include "cc_asterisk.h"
#include "cc_db.h"
#include "cc_json.h"
#include "cc_jsonw.h"
#include "cc_sql.h"
#include "cc_log.h"
#include "cc_metrics.h"
#include "cc_retry.h"
#include "cc_validate.h"

/* Set in post_config (single-threaded), read by request and job threads afterwards.
 * Each module links its own copy of this file, so each module sets its own. */
static APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) *dbd_prepare_fn;
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open_fn;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close_fn;

/* Log with the request when there is one (its id, client), else with the server. */
#define DB_LOG(db, level, ...)                                                      \
    do {                                                                            \
        if ((db)->r) {                                                              \
            ap_log_rerror(APLOG_MARK, level, 0, (db)->r, __VA_ARGS__);              \
        }                                                                           \
        else {                                                                      \
            ap_log_error(APLOG_MARK, level, 0, (db)->s, __VA_ARGS__);               \
        }                                                                           \
    } while (0)

#define CC_DB_NOTE "cc-db"

/* After a MariaDB restart each stale idle connection costs one failed acquire (its ping
 * fails and mod_dbd drops it); while the database is down every try logs a connect
 * failure.  12 covers DBDKeep's idle connections without flooding the log. */
#define CC_DB_ACQUIRE_TRIES 12

/*
 * Parking.  At the end of a request its connection is kept by the child (a stack of
 * idle connections in front of mod_dbd's pool) instead of going back to mod_dbd; the
 * next request takes it without the acquire's ping.  At most half of DBDMax is parked
 * (the smallest DBDMax of the configuration, read from its tree: mod_dbd keeps its own
 * private), so mod_dbd always has connections for the requests that find none parked
 * and for the jobs, and a thread waiting in mod_dbd is woken by a release the stack has
 * no room for.  Only what a request holds to its end is parked (a stream that hands its
 * connection back early gives it to mod_dbd), never a job's or a standalone one, and
 * only mod_dbd's pooled connections (with DBDPersist Off a connection lives in the
 * request's pool).  One stack per child for every module: each module's copy of this
 * file finds it through pchild.
 *
 * A parked connection is not checked.  When its first statement finds it dead (the
 * database restarted, wait_timeout passed), or any connection of the child fails, every
 * parked connection goes back to mod_dbd at once (flush): its pings drop the dead ones
 * in the next acquires (which try as many more times as were flushed), so none lingers
 * to fail later, and the statement runs again on a checked connection.  At the child's
 * exit, before mod_dbd's pools go (apr_reslist asserts that all its connections are
 * back), a pre-cleanup of pchild hands every parked connection back.
 */
typedef struct parked_t {
    server_rec *s;                 /* the server whose mod_dbd group it came from */
    ap_dbd_t *dbd;
} parked_t;

/* The child's database state, one for every module (each module's copy of this file
 * finds it through pchild): the parking stack and the write gate (below). */
typedef struct parking_t {
    apr_thread_mutex_t *mu;        /* guards stack, n and closed; NULL: no parking */
    parked_t *stack;               /* max entries, n used */
    int n, max;
    int closed;                    /* the child is exiting */
    APR_OPTIONAL_FN_TYPE(ap_dbd_close) *close;
    volatile apr_uint32_t writes;  /* the write gate: writes in flight, at most */
    apr_uint32_t writes_max;
} parking_t;

/* This module's view of the child's state: set in child_init, before any thread. */
static parking_t *parking;

static int parking_ready(void)
{
    return parking && parking->mu;
}

/* Hand every parked connection back to mod_dbd; how many.  closing: none is parked
 * again (the child's exit). */
static int parking_flush(parking_t *pk, int closing)
{
    int n;

    apr_thread_mutex_lock(pk->mu);
    pk->closed |= closing;
    n = pk->n;
    while (pk->n > 0) {
        pk->n--;
        pk->close(pk->stack[pk->n].s, pk->stack[pk->n].dbd);
    }
    apr_thread_mutex_unlock(pk->mu);
    return n;
}

static apr_status_t parking_close(void *data)
{
    (void)parking_flush(data, 1);
    return APR_SUCCESS;
}

/* The smallest DBDMax of the configuration (mod_dbd's default, 10, where none is
 * given). */
static int dbd_max(void)
{
    const ap_directive_t *stack[16];
    const ap_directive_t *d = ap_conftree;
    int depth = 0, best = 0, v;

    while (d) {
        if (strcasecmp(d->directive, "DBDMax") == 0 && d->args
            && (v = atoi(d->args)) > 0 && (best == 0 || v < best)) {
            best = v;
        }
        if (d->first_child && depth < (int)(sizeof(stack) / sizeof(stack[0]))) {
            stack[depth++] = d;
            d = d->first_child;
            continue;
        }
        while (!d->next && depth > 0) {
            d = stack[--depth];
        }
        d = d->next;
    }
    return best ? best : 10;
}

/*
 * The write gate.  A write that meets a held lock waits for it (innodb_lock_wait_timeout,
 * DBDInitSQL in the samples: 3 s, run again within the kit's budget: ~6 s), holding its
 * worker thread.  More such writes than threads would take every thread, and /healthz,
 * reads and the event poller's connection with them (and a blocked write holds its
 * pooled connection too).  So a child lets writes take at most 3/4 of its threads or of
 * DBDMax, whichever is fewer: past that many writes at once the next is answered 503
 * with Retry-After at once.  Ordinary writes take a few milliseconds: the gate is met
 * only when the database is slow.
 */
static apr_status_t gate_leave(void *data)
{
    apr_atomic_dec32(&((parking_t *)data)->writes);
    return APR_SUCCESS;
}

cc_error_t *cc_db_write_begin(cc_db_t *db)
{
    parking_t *pk = parking;

    if (!pk || !db->r) {
        return NULL;
    }
    if (apr_atomic_inc32(&pk->writes) >= pk->writes_max) {
        apr_atomic_dec32(&pk->writes);
        DB_LOG(db, APLOG_INFO, CCLOGNO(00210)
               "%u writes already wait for the database in this child: answered 503",
               pk->writes_max);
        return cc_error_unavailable(db->pool);
    }
    apr_pool_cleanup_register(db->r->pool, pk, gate_leave, apr_pool_cleanup_null);
    return NULL;
}

void cc_db_child_init(apr_pool_t *pchild, server_rec *s)
{
    static const char key[] = "cc_db_child";
    void *data = NULL;
    parking_t *pk;
    int threads = 0, dmax = dbd_max();

    cc_metrics_child_init();
    apr_pool_userdata_get(&data, key, pchild);
    if (data) {
        parking = data;
        return;
    }
    pk = apr_pcalloc(pchild, sizeof(*pk));
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS || threads < 1) {
        threads = 1;
    }
    /* A quarter of the threads and of the connections kept for everything else (a
     * reader needs a connection for its principal too). */
    threads = dmax < threads ? dmax : threads;
    pk->writes_max = (apr_uint32_t)(threads * 3 / 4 > 0 ? threads * 3 / 4 : 1);
    pk->close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    pk->max = dmax / 2;
    if (!pk->close || pk->max < 1
        || apr_thread_mutex_create(&pk->mu, APR_THREAD_MUTEX_DEFAULT, pchild)
           != APR_SUCCESS) {
        pk->mu = NULL;
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, CCLOGNO(00209)
                     "no parking of connections in this child: each request pings");
    }
    else {
        pk->stack = apr_pcalloc(pchild, sizeof(*pk->stack) * (apr_size_t)pk->max);
        /* A pre-cleanup: it runs before pchild's subpools (mod_dbd's) are destroyed. */
        apr_pool_pre_cleanup_register(pchild, pk, parking_close);
    }
    apr_pool_userdata_set(pk, key, apr_pool_cleanup_null, pchild);
    parking = pk;
}

/* A parked connection of s's group, taken off the stack; NULL when none. */
static ap_dbd_t *unpark(server_rec *s)
{
    ap_dbd_t *dbd = NULL;
    int i;

    if (!parking_ready()) {
        return NULL;
    }
    apr_thread_mutex_lock(parking->mu);
    for (i = parking->n - 1; i >= 0 && !dbd; i--) {
        if (parking->stack[i].s == s) {
            dbd = parking->stack[i].dbd;
            parking->stack[i] = parking->stack[--parking->n];
        }
    }
    apr_thread_mutex_unlock(parking->mu);
    return dbd;
}

/* Keep db's connection on the stack: 1 when parked (the caller forgets it). */
static int park(cc_db_t *db)
{
    int done = 0;

    /* A request's, and mod_dbd's pooled (a once-only connection lives in the request's
     * pool). */
    if (!db->r || !parking_ready() || apr_pool_is_ancestor(db->pool, db->dbd->pool)) {
        return 0;
    }
    apr_thread_mutex_lock(parking->mu);
    if (!parking->closed && parking->n < parking->max) {
        parking->stack[parking->n].s = db->s;
        parking->stack[parking->n].dbd = db->dbd;
        parking->n++;
        done = 1;
    }
    apr_thread_mutex_unlock(parking->mu);
    return done;
}

/* The database went away: no parked connection of the child is to be trusted. */
static int parking_lost(void)
{
    return parking_ready() ? parking_flush(parking, 0) : 0;
}

/* MySQL client errors meaning "the connection or server is gone". */
static int is_connection_errno(int err)
{
    switch (err) {
    case 2002: case 2003: case 2006: case 2013: case 2014: case 2030: case 2055:
    case 1053: case 1927:
        return 1;
    default:
        return 0;
    }
}

void cc_db_prepare_all(server_rec *s, const cc_stmt_t *stmts)
{
    server_rec *sp;
    const cc_stmt_t *st;

    dbd_prepare_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    dbd_open_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    /* Every module that uses the database calls this: its copy of cc_metrics finds the
     * node's segment here. */
    cc_metrics_attach(s);
    if (!dbd_prepare_fn || !dbd_open_fn || !dbd_close_fn) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, CCLOGNO(00201)
                     "mod_dbd is not loaded: every database request will fail");
        return;
    }
    for (sp = s; sp; sp = sp->next) {
        for (st = stmts; st->label; st++) {
            dbd_prepare_fn(sp, st->sql, st->label);
        }
    }
}

void cc_db_prepare_shared(apr_pool_t *pconf, server_rec *s)
{
    static const char key[] = "cc_db_shared_stmts_registered";
    void *done = NULL;

    /* pconf is common to all modules and cleared on restart: exactly once per cycle. */
    apr_pool_userdata_get(&done, key, pconf);
    if (!done) {
        cc_db_prepare_all(s, cc_shared_stmts);
        cc_db_prepare_all(s, cc_idem_stmts);
        apr_pool_userdata_setn((void *)1, key, NULL, pconf);
    }
}

void cc_db_prepare_domains(server_rec *s, const cc_domain_t *const *domains)
{
    for (; *domains; domains++) {
        if ((*domains)->stmts) {
            cc_db_prepare_all(s, (*domains)->stmts);
        }
    }
}

cc_db_t *cc_db_request(request_rec *r)
{
    request_rec *top = r;
    void *db = NULL;

    while (!ap_is_initial_req(top)) {
        top = top->prev ? top->prev : top->main;
    }
    /* One slot per client request, whichever module asks first (mod_cc_tenant for the
     * principal, then the handler): one connection, one transaction state. */
    apr_pool_userdata_get(&db, CC_DB_NOTE, top->pool);
    if (!db) {
        cc_db_t *d = apr_pcalloc(top->pool, sizeof(*d));

        d->pool = top->pool;
        d->s = top->server;
        d->r = top;
        apr_pool_userdata_setn(d, CC_DB_NOTE, NULL, top->pool);
        db = d;
    }
    return db;
}

cc_db_t *cc_db_standalone(apr_pool_t *p, server_rec *s)
{
    cc_db_t *db = apr_pcalloc(p, sizeof(*db));

    db->pool = p;
    db->s = s;
    return db;
}

/* A standalone connection goes back to mod_dbd with its pool. */
static apr_status_t standalone_release(void *data)
{
    cc_db_t *db = data;

    /* Never back into the pool with a transaction open (the next user's START
     * TRANSACTION would commit it). */
    if (db->dbd && db->in_txn) {
        cc_db_rollback(db);
    }
    if (db->dbd) {
        /* A rollback that failed lost the connection: it is not kept. */
        if (!is_connection_errno(db->db_errno) && !db->no_park && park(db)) {
            db->dbd = NULL;
        }
        else {
            dbd_close_fn(db->s, db->dbd);
            db->dbd = NULL;
        }
        cc_metrics_db_released();
    }
    return APR_SUCCESS;
}

cc_error_t *cc_db_acquire(cc_db_t *db)
{
    apr_time_t start;
    int i, extra = 0;

    if (db->dbd) {
        return NULL;
    }
    if (!dbd_open_fn) {
        DB_LOG(db, APLOG_ERR, CCLOGNO(00202) "mod_dbd is not available");
        return cc_error_internal(db->pool);
    }
    db->unchecked = 0;
    if (db->r && (db->dbd = unpark(db->s))) {
        db->unchecked = 1;
        cc_metrics_db_acquired(0, 1);
        apr_pool_pre_cleanup_register(db->pool, db, standalone_release);
        return NULL;
    }
    /* A request's slot opens its connection as a standalone one does (on the request's
     * pool, handed back when it goes: what ap_dbd_acquire does), so that cc_db_release
     * can hand it back early. */
    start = apr_time_now();
    extra = db->flushed;
    db->flushed = 0;
    for (i = 0; i < CC_DB_ACQUIRE_TRIES + extra && !db->dbd; i++) {
        db->dbd = dbd_open_fn(db->pool, db->s);
        if (!db->dbd && i == 0) {
            /* What the threads keep parked is as dead: back to mod_dbd, to be dropped
             * by the tries that follow (one more each). */
            extra += parking_lost();
        }
    }
    cc_metrics_db_acquired(apr_time_now() - start, db->dbd != NULL);
    if (!db->dbd) {
        DB_LOG(db, APLOG_ERR, CCLOGNO(00203) "no database connection after %d tries", i);
        return cc_error_unavailable(db->pool);
    }
    /* Before the pool's children go: with DBDPersist Off the connection lives in one. */
    apr_pool_pre_cleanup_register(db->pool, db, standalone_release);
    return NULL;
}

void cc_db_release(cc_db_t *db)
{
    if (!db->dbd) {
        return;
    }
    cc_db_rollback(db);
    apr_pool_cleanup_kill(db->pool, db, standalone_release);
    /* Handed back early (a stream): to mod_dbd, not to the thread, which keeps the
     * request a long time. */
    db->no_park = 1;
    (void)standalone_release(db);
    db->no_park = 0;
}

/* A parked connection's first statement failed because the connection is gone: hand it
 * back to mod_dbd (its ping drops it) and say whether to run the statement again, on a
 * checked connection.  Nothing of the request has run on it, so nothing is lost. */
static int lost_parked(cc_db_t *db, int rv)
{
    int again = db->unchecked && is_connection_errno(rv);

    db->unchecked = 0;
    if (again) {
        DB_LOG(db, APLOG_DEBUG, "a parked connection was gone (%d): taking another", rv);
        apr_pool_cleanup_kill(db->pool, db, standalone_release);
        dbd_close_fn(db->s, db->dbd);
        db->dbd = NULL;
        db->in_txn = 0;
        cc_metrics_db_released();
        db->flushed = parking_lost();
    }
    return again;
}

/* Map a failed call to the client's error; log what the client must not see. */
static cc_error_t *db_failure(cc_db_t *db, const char *label, int rv)
{
    db->db_errno = rv;
    if (rv == CC_DB_ER_DUP_ENTRY) {
        return cc_error_conflict(db->pool, "a record with the same unique value exists");
    }
    if (rv == CC_DB_ER_SIGNAL) {
        /* A quota a procedure enforces (sql/024): SIGNAL ... 'cc_quota:<limit>'. */
        const char *msg = apr_dbd_error(db->dbd->driver, db->dbd->handle, rv);

        if (msg && strncmp(msg, "cc_quota:", 9) == 0) {
            return cc_error_make(db->pool, HTTP_CONFLICT, CC_ERR_QUOTA_EXCEEDED,
                                 apr_psprintf(db->pool, "the tenant has reached its max_%s"
                                              " limit", msg + 9));
        }
    }
    if (cc_retry_is_lock_conflict(rv)) {
        db->conflict_errno = rv;
        db->conflict_label = label;
        if (db->in_txn) {
            db->txn_conflict = 1;
        }
        /* No alarm: cc_dispatch runs a request's handler again (and logs that), a job
         * retries on its next run. */
        DB_LOG(db, db->r ? APLOG_DEBUG : APLOG_INFO, CCLOGNO(00204)
               "statement %s: lock conflict (%d, %s)", label, rv,
               cc_retry_conflict_name(rv));
        return cc_error_lock_conflict(db->pool);
    }
    if (is_connection_errno(rv)) {
        (void)parking_lost();
        DB_LOG(db, APLOG_ERR, CCLOGNO(00205)
               "statement %s: database connection failed (%d)", label, rv);
        return cc_error_unavailable(db->pool);
    }
    DB_LOG(db, APLOG_ERR, CCLOGNO(00206) "statement %s failed (%d): %s", label, rv,
           apr_dbd_error(db->dbd->driver, db->dbd->handle, rv));
    return cc_error_internal(db->pool);
}

static cc_error_t *statement(cc_db_t *db, const char *label, apr_dbd_prepared_t **pst)
{
    cc_error_t *err = cc_db_acquire(db);

    if (err) {
        return err;
    }
    if (db->in_txn && db->txn_conflict) {
        DB_LOG(db, APLOG_DEBUG, "statement %s not run: the transaction met a lock conflict",
               label);
        db->db_errno = db->conflict_errno;
        return cc_error_lock_conflict(db->pool);
    }
    db->db_errno = 0;
    *pst = apr_hash_get(db->dbd->prepared, label, APR_HASH_KEY_STRING);
    if (!*pst) {
        DB_LOG(db, APLOG_ERR, CCLOGNO(00207) "prepared statement %s is not registered",
               label);
        return cc_error_internal(db->pool);
    }
    return NULL;
}

/* Prepared SELECT on the db's connection, its result in pool p; the caller drains
 * *pres. */
static cc_error_t *run_select(cc_db_t *db, apr_pool_t *p, const char *label, int nargs,
                              const char **args, apr_dbd_results_t **pres)
{
    apr_dbd_prepared_t *st;
    cc_error_t *err = statement(db, label, &st);
    int rv;

    *pres = NULL;
    if (err) {
        return err;
    }
    rv = apr_dbd_pselect(db->dbd->driver, p, db->dbd->handle, pres, st, 0, nargs, args);
    if (rv && lost_parked(db, rv)) {
        return run_select(db, p, label, nargs, args, pres);
    }
    db->unchecked = 0;
    return rv ? db_failure(db, label, rv) : NULL;
}

/* One column value as JSON text (v is the driver's buffer, NULL for SQL NULL). */
static void write_column(cc_jsonw_t *w, apr_pool_t *p, const cc_col_t *col, const char *v)
{
    const char *start = v, *end;

    if (!v && col->type != CC_COL_LIST) {
        cc_jsonw_lit(w, "null");
        return;
    }
    switch (col->type) {
    case CC_COL_INT:
        cc_jsonw_int_text(w, v);
        break;
    case CC_COL_BOOL:
        cc_jsonw_lit(w, v[0] != '0' && v[0] != '\0' ? "true" : "false");
        break;
    case CC_COL_TIME:
        cc_jsonw_str(w, cc_sql_time_to_rfc3339(p, v));
        break;
    case CC_COL_AST:
        cc_jsonw_str(w, cc_ast_rt_decode(p, v));
        break;
    case CC_COL_JSON:
        /* Columns holding JSON are CHECK (JSON_VALID(...)) and written by us. */
        cc_jsonw_lit(w, *v ? v : "null");
        break;
    case CC_COL_LIST:
        cc_jsonw_lit(w, "[");
        while (start && *start) {
            end = strchr(start, ',');
            if (start != v) {
                cc_jsonw_lit(w, ",");
            }
            cc_jsonw_strn(w, start, end ? (apr_size_t)(end - start) : strlen(start));
            start = end ? end + 1 : NULL;
        }
        cc_jsonw_lit(w, "]");
        break;
    default:
        cc_jsonw_str(w, v);
        break;
    }
}

/* One row of a result; the driver's buffers are valid only during the call. */
/* A row visitor; nonzero stops the walk (the rest of the result is left unread). */
typedef int (*row_fn)(void *baton, cc_db_t *db, apr_dbd_row_t *row, int ncols, int rowno);

/* Run a SELECT and hand each row to visit, in order; the result is always drained (an
 * unread result breaks the connection's next statement).  *pnrows rows. */
static cc_error_t *each_row(cc_db_t *db, const char *label, int nargs, const char **args,
                            row_fn visit, void *baton, int *pnrows)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    cc_error_t *err;
    int ncols, rv;

    *pnrows = 0;
    if ((err = run_select(db, db->pool, label, nargs, args, &res))) {
        return err;
    }
    ncols = apr_dbd_num_cols(db->dbd->driver, res);
    while ((rv = apr_dbd_get_row(db->dbd->driver, db->pool, res, &row, -1)) == 0) {
        if (visit(baton, db, row, ncols, (*pnrows)++)) {
            /* Stopped: the driver frees the unread rest with its pool cleanup. */
            return NULL;
        }
    }
    return rv == -1 ? NULL : db_failure(db, label, rv);
}

typedef struct render_t {
    const cc_col_t *cols;
    cc_jsonw_t *w;
    apr_int64_t *ptotal;
    const char **keys;     /* the last row's two columns after the total, or NULL */
} render_t;

/* A row as a JSON object (rows are rendered as they come). */
static int render_row(void *baton, cc_db_t *db, apr_dbd_row_t *row, int ncols, int rowno)
{
    render_t *rd = baton;
    const cc_col_t *cols = rd->cols;
    int first = 1, i;

    cc_jsonw_lit(rd->w, rowno ? ",{" : "{");
    for (i = 0; i < ncols && cols[i].key; i++) {
        if (cols[i].type == CC_COL_SKIP) {
            continue;
        }
        if (!first) {
            cc_jsonw_lit(rd->w, ",");
        }
        first = 0;
        cc_jsonw_key(rd->w, cols[i].key);
        write_column(rd->w, db->pool, &cols[i], apr_dbd_get_entry(db->dbd->driver, row, i));
    }
    cc_jsonw_lit(rd->w, "}");
    /* A list's total: the column after the described ones. */
    if (rd->ptotal && rowno == 0 && i < ncols) {
        const char *v = apr_dbd_get_entry(db->dbd->driver, row, i);

        *rd->ptotal = v ? apr_atoi64(v) : 0;
    }
    /* A keyset list's cursor: the sort key and the id after the total (copied: the row
     * is the driver's until the next one). */
    if (rd->keys && i + 2 < ncols) {
        const char *k = apr_dbd_get_entry(db->dbd->driver, row, i + 1);
        const char *id = apr_dbd_get_entry(db->dbd->driver, row, i + 2);

        rd->keys[0] = k ? apr_pstrdup(db->pool, k) : NULL;
        rd->keys[1] = id ? apr_pstrdup(db->pool, id) : NULL;
    }
    return 0;
}

cc_error_t *cc_db_write_rows(cc_db_t *db, const char *label, const cc_col_t *cols,
                             int nargs, const char **args, cc_jsonw_t *w,
                             apr_int64_t *ptotal, int *pnrows)
{
    return cc_db_write_rows_keyed(db, label, cols, nargs, args, w, ptotal, pnrows, NULL);
}

cc_error_t *cc_db_write_rows_keyed(cc_db_t *db, const char *label, const cc_col_t *cols,
                                   int nargs, const char **args, cc_jsonw_t *w,
                                   apr_int64_t *ptotal, int *pnrows, const char **keys)
{
    render_t rd = { cols, w, ptotal, keys };

    if (ptotal) {
        *ptotal = 0;
    }
    return each_row(db, label, nargs, args, render_row, &rd, pnrows);
}

cc_error_t *cc_db_select(cc_db_t *db, const char *label, const cc_col_t *cols,
                         int nargs, const char **args, json_t **prows,
                         apr_int64_t *ptotal)
{
    cc_jsonw_t w;
    json_error_t jerr;
    cc_error_t *err;
    int nrows;

    *prows = NULL;
    cc_jsonw_init(&w, db->pool, 1024);
    cc_jsonw_lit(&w, "[");
    if ((err = cc_db_write_rows(db, label, cols, nargs, args, &w, ptotal, &nrows))) {
        return err;
    }
    cc_jsonw_lit(&w, "]");
    *prows = cc_json_own(db->pool, json_loadb(cc_jsonw_text(&w), w.len, 0, &jerr));
    if (!*prows) {
        DB_LOG(db, APLOG_ERR, CCLOGNO(00208) "statement %s: rows render as bad JSON: %s",
               label, jerr.text);
        return cc_error_internal(db->pool);
    }
    return NULL;
}

cc_error_t *cc_db_select_one(cc_db_t *db, const char *label, const cc_col_t *cols,
                             int nargs, const char **args, json_t **pobj)
{
    json_t *rows;
    cc_error_t *err = cc_db_select(db, label, cols, nargs, args, &rows, NULL);

    /* The array (pool-owned) holds the object for as long as the pool lives. */
    *pobj = err ? NULL : json_array_get(rows, 0);
    return err;
}

typedef struct first_row_t {
    const char **values;
    int ncols;
} first_row_t;

/* The first row's values, copied into the pool (NULL for SQL NULL). */
static int copy_first_row(void *baton, cc_db_t *db, apr_dbd_row_t *row, int ncols,
                          int rowno)
{
    first_row_t *fr = baton;
    int i;

    if (rowno > 0) {
        return 0;
    }
    fr->values = apr_pcalloc(db->pool, sizeof(char *) * (apr_size_t)(ncols + 1));
    fr->ncols = ncols;
    for (i = 0; i < ncols; i++) {
        const char *v = apr_dbd_get_entry(db->dbd->driver, row, i);

        fr->values[i] = v ? apr_pstrdup(db->pool, v) : NULL;
    }
    return 0;
}

struct cc_db_stream_row_t {
    const apr_dbd_driver_t *driver;
    apr_dbd_row_t *row;
};

const char *cc_db_stream_value(const cc_db_stream_row_t *row, int col)
{
    return apr_dbd_get_entry(row->driver, row->row, col);
}

cc_error_t *cc_db_stream(cc_db_t *db, const char *label, int nargs, const char **args,
                         cc_db_text_row_fn fn, void *baton, int *pnrows)
{
    cc_db_stream_row_t sr = { NULL, NULL };
    apr_dbd_results_t *res;
    apr_pool_t *p;
    cc_error_t *err;
    int ncols, rv;

    *pnrows = 0;
    /* The driver's result (its bind buffers, its row) lives in a pool of its own, gone
     * with the statement: a caller that streams many statements in one request (an
     * export's chunks) holds one result's worth, not one per statement. */
    if (apr_pool_create(&p, db->pool) != APR_SUCCESS) {
        return cc_error_internal(db->pool);
    }
    apr_pool_tag(p, "cc_db_stream");
    if ((err = run_select(db, p, label, nargs, args, &res))) {
        apr_pool_destroy(p);
        return err;
    }
    sr.driver = db->dbd->driver;
    ncols = apr_dbd_num_cols(sr.driver, res);
    while ((rv = apr_dbd_get_row(sr.driver, p, res, &sr.row, -1)) == 0) {
        (*pnrows)++;
        if (fn(baton, &sr, ncols)) {
            /* Stopped: the pool's cleanup frees the driver's unread rest. */
            rv = -1;
            break;
        }
    }
    apr_pool_destroy(p);
    return rv == -1 ? NULL : db_failure(db, label, rv);
}

cc_error_t *cc_db_select_row(cc_db_t *db, const char *label, int nargs,
                             const char **args, const char ***pvalues, int *pncols)
{
    first_row_t fr = { NULL, 0 };
    int nrows;
    cc_error_t *err = each_row(db, label, nargs, args, copy_first_row, &fr, &nrows);

    *pvalues = err ? NULL : fr.values;
    if (pncols) {
        *pncols = err ? 0 : fr.ncols;
    }
    return err;
}

cc_error_t *cc_db_exec(cc_db_t *db, const char *label, int nargs, const char **args,
                       int *pnrows)
{
    apr_dbd_prepared_t *st;
    cc_error_t *err;
    int nrows = 0, rv;

    if (pnrows) {
        *pnrows = 0;
    }
    if ((err = statement(db, label, &st))) {
        return err;
    }
    rv = apr_dbd_pquery(db->dbd->driver, db->pool, db->dbd->handle, &nrows, st,
                        nargs, args);
    if (rv != 0 && lost_parked(db, rv)) {
        return cc_db_exec(db, label, nargs, args, pnrows);
    }
    db->unchecked = 0;
    if (rv != 0) {
        return db_failure(db, label, rv);
    }
    if (!db->in_txn && nrows > 0) {
        db->changed = 1;
    }
    if (pnrows) {
        *pnrows = nrows;
    }
    return NULL;
}

/* A transaction left open (a bug, or a job that failed) must not ride back into the
 * pool with the connection: roll it back when the pool goes. */
static apr_status_t txn_cleanup(void *data)
{
    cc_db_rollback(data);
    return APR_SUCCESS;
}

typedef struct after_commit_t {
    cc_db_commit_fn fn;
    void *baton;
} after_commit_t;

/* The committed transaction's cc_db_after_commit calls, once. */
static void run_after_commit(cc_db_t *db)
{
    apr_array_header_t *list = db->after_commit;
    int i;

    db->after_commit = NULL;
    for (i = 0; list && i < list->nelts; i++) {
        const after_commit_t *a = &APR_ARRAY_IDX(list, i, after_commit_t);

        a->fn(a->baton);
    }
}

cc_error_t *cc_db_begin(cc_db_t *db)
{
    cc_error_t *err;

    if (db->in_txn && db->outer_txn) {
        return NULL;      /* START TRANSACTION would commit the dispatcher's */
    }
    err = cc_db_exec(db, "cc_txn_begin", 0, NULL, NULL);

    if (!err) {
        if (!db->txn_guarded) {
            /* A pre-cleanup like the connection's release, registered after it, so it
             * runs first (and standalone_release rolls back as well). */
            apr_pool_pre_cleanup_register(db->pool, db, txn_cleanup);
            db->txn_guarded = 1;
        }
        db->in_txn = 1;
        db->txn_conflict = 0;
    }
    return err;
}

cc_error_t *cc_db_commit_by(cc_db_t *db, const char *label, int nargs, const char **args)
{
    int in_txn = db->in_txn, marked = 1;
    cc_error_t *err = NULL;

    if (in_txn && db->commit_mark
        && !(err = cc_db_exec(db, db->commit_mark, db->commit_mark_nargs,
                              db->commit_mark_args, &marked))
        && marked != 1) {
        err = cc_error_conflict(db->pool, "this request's Idempotency-Key was taken over"
                                " by another request: nothing was changed");
    }
    if (err) {
        return err;
    }
    /* Still open until the statement succeeds: on failure the caller's rollback ends it. */
    err = cc_db_exec(db, label, nargs, args, NULL);

    if (!err || !in_txn) {
        /* Outside a transaction its writes may have committed one by one even when it
         * failed: a run that did is not repeated (cc_db_attempt). */
        db->changed = 1;
    }
    if (!err && in_txn) {
        db->in_txn = 0;
        db->outer_txn = 0;
        run_after_commit(db);
    }
    return err;
}

cc_error_t *cc_db_commit(cc_db_t *db)
{
    return db->in_txn ? cc_db_commit_by(db, "cc_txn_commit", 0, NULL) : NULL;
}

void cc_db_after_commit(cc_db_t *db, cc_db_commit_fn fn, void *baton)
{
    after_commit_t *a;

    if (!db->in_txn) {
        fn(baton);
        return;
    }
    if (!db->after_commit) {
        db->after_commit = apr_array_make(db->pool, 2, sizeof(after_commit_t));
    }
    a = apr_array_push(db->after_commit);
    a->fn = fn;
    a->baton = baton;
}

void cc_db_rollback(cc_db_t *db)
{
    db->after_commit = NULL;
    /* Also after a lock conflict: 1205 leaves the transaction open (and after 1213 a
     * ROLLBACK is harmless). */
    if (db->in_txn && db->dbd) {
        db->in_txn = 0;
        (void)cc_db_exec(db, "cc_txn_rollback", 0, NULL, NULL);
    }
    db->in_txn = 0;
    db->outer_txn = 0;
    db->txn_conflict = 0;
}

void cc_db_attempt(cc_db_t *db)
{
    db->txn_conflict = 0;
    db->conflict_errno = 0;
    db->conflict_label = NULL;
    db->changed = 0;
}

int cc_db_is_duplicate(const cc_db_t *db, const cc_error_t *err)
{
    return err && db->db_errno == CC_DB_ER_DUP_ENTRY && err->status == 409;
}

cc_error_t *cc_db_duplicate(cc_db_t *db, cc_error_t *err, const char *field,
                            const char *issue, const char *message)
{
    cc_error_t *dup;

    if (!cc_db_is_duplicate(db, err)) {
        return err;
    }
    dup = cc_error_conflict(db->pool, "%s", message);
    if (field) {
        cc_error_add_detail(dup, field, issue);
    }
    return dup;
}
