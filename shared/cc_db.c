/*
 * cc_db.c (glue): prepared statements on mod_dbd's pooled connection.
 *
 * Facts this file is built on (reference/stack-notes.md §4): apr_dbd_mysql binds every
 * value as a string; a result value's pointer is the bind buffer, overwritten by the next
 * row, so rows are rendered at once; results are always drained; DBDParams reconnect=0
 * makes a dead pooled connection fail its ping, so acquiring is retried until mod_dbd
 * hands out a live one or the database is really down (503).
 */
#include <stdlib.h>
#include <string.h>

#include <httpd.h>
#include <http_log.h>
#include <http_request.h>
#include <apr_strings.h>
#include <apr_optional.h>

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
        dbd_close_fn(db->s, db->dbd);
        db->dbd = NULL;
        cc_metrics_db_released();
    }
    return APR_SUCCESS;
}

cc_error_t *cc_db_acquire(cc_db_t *db)
{
    apr_time_t start;
    int i;

    if (db->dbd) {
        return NULL;
    }
    if (!dbd_open_fn) {
        DB_LOG(db, APLOG_ERR, CCLOGNO(00202) "mod_dbd is not available");
        return cc_error_internal(db->pool);
    }
    /* A request's slot opens its connection as a standalone one does (on the request's
     * pool, handed back when it goes: what ap_dbd_acquire does), so that cc_db_release
     * can hand it back early. */
    start = apr_time_now();
    for (i = 0; i < CC_DB_ACQUIRE_TRIES && !db->dbd; i++) {
        db->dbd = dbd_open_fn(db->pool, db->s);
    }
    cc_metrics_db_acquired(apr_time_now() - start, db->dbd != NULL);
    if (!db->dbd) {
        DB_LOG(db, APLOG_ERR, CCLOGNO(00203) "no database connection after %d tries",
               CC_DB_ACQUIRE_TRIES);
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
    (void)standalone_release(db);
}

/* Map a failed call to the client's error; log what the client must not see. */
static cc_error_t *db_failure(cc_db_t *db, const char *label, int rv)
{
    db->db_errno = rv;
    if (rv == CC_DB_ER_DUP_ENTRY) {
        return cc_error_conflict(db->pool, "a record with the same unique value exists");
    }
    if (cc_retry_is_lock_conflict(rv)) {
        db->conflict_errno = rv;
        db->conflict_label = label;
        if (db->in_txn) {
            db->txn_conflict = 1;
        }
        /* No alarm: cc_dispatch runs a request's handler again (and logs that), a job
         * retries on its next run. */
        DB_LOG(db, db->r || db->quiet_conflicts ? APLOG_DEBUG : APLOG_INFO, CCLOGNO(00204)
               "statement %s: lock conflict (%d, %s)", label, rv,
               cc_retry_conflict_name(rv));
        return cc_error_lock_conflict(db->pool);
    }
    if (is_connection_errno(rv)) {
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
    cc_error_t *err = cc_db_exec(db, "cc_txn_begin", 0, NULL, NULL);

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

cc_error_t *cc_db_commit(cc_db_t *db)
{
    cc_error_t *err;

    if (!db->in_txn) {
        return NULL;
    }
    /* Still open until COMMIT succeeds: on failure the caller's rollback ends it. */
    if (!(err = cc_db_exec(db, "cc_txn_commit", 0, NULL, NULL))) {
        db->in_txn = 0;
        db->changed = 1;
        run_after_commit(db);
    }
    return err;
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
