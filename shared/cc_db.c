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
#include <apr_strings.h>
#include <apr_optional.h>

#include "cc_db.h"
#include "cc_jsonw.h"
#include "cc_log.h"
#include "cc_validate.h"

/* Set in post_config (single-threaded), read by request threads afterwards.  Each module
 * links its own copy of this file, so each module sets its own. */
static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *dbd_acquire_fn;
static APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) *dbd_prepare_fn;

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

/* Lock waits and deadlocks: retrying later can succeed. */
static int is_transient_errno(int err)
{
    return err == 1205 || err == 1213;
}

void cc_db_prepare_all(server_rec *s, const cc_stmt_t *stmts)
{
    server_rec *sp;
    const cc_stmt_t *st;

    dbd_acquire_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    dbd_prepare_fn = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    if (!dbd_prepare_fn || !dbd_acquire_fn) {
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

cc_error_t *cc_db_acquire(cc_ctx_t *ctx)
{
    int i;

    if (ctx->dbd) {
        return NULL;
    }
    if (!dbd_acquire_fn) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r, CCLOGNO(00202)
                      "mod_dbd is not available");
        return cc_error_internal(ctx->r->pool);
    }
    for (i = 0; i < CC_DB_ACQUIRE_TRIES && !ctx->dbd; i++) {
        ctx->dbd = dbd_acquire_fn(ctx->r);
    }
    if (!ctx->dbd) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r, CCLOGNO(00203)
                      "no database connection after %d tries", CC_DB_ACQUIRE_TRIES);
        return cc_error_unavailable(ctx->r->pool);
    }
    return NULL;
}

/* Map a failed call to the client's error; log what the client must not see. */
static cc_error_t *db_failure(cc_ctx_t *ctx, const char *label, int rv)
{
    request_rec *r = ctx->r;

    ctx->db_errno = rv;
    if (rv == CC_DB_ER_DUP_ENTRY) {
        return cc_error_conflict(r->pool, "a record with the same unique value exists");
    }
    if (is_transient_errno(rv)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, CCLOGNO(00204)
                      "statement %s: lock conflict (%d)", label, rv);
        return cc_error_unavailable(r->pool);
    }
    if (is_connection_errno(rv)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CCLOGNO(00205)
                      "statement %s: database connection failed (%d)", label, rv);
        return cc_error_unavailable(r->pool);
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CCLOGNO(00206)
                  "statement %s failed (%d): %s", label, rv,
                  apr_dbd_error(ctx->dbd->driver, ctx->dbd->handle, rv));
    return cc_error_internal(r->pool);
}

static cc_error_t *statement(cc_ctx_t *ctx, const char *label, apr_dbd_prepared_t **pst)
{
    cc_error_t *err = cc_db_acquire(ctx);

    if (err) {
        return err;
    }
    *pst = apr_hash_get(ctx->dbd->prepared, label, APR_HASH_KEY_STRING);
    if (!*pst) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r, CCLOGNO(00207)
                      "prepared statement %s is not registered", label);
        return cc_error_internal(ctx->r->pool);
    }
    return NULL;
}

/* Prepared SELECT on the request's connection; the caller drains *pres. */
static cc_error_t *run_select(cc_ctx_t *ctx, const char *label, int nargs,
                              const char **args, apr_dbd_results_t **pres)
{
    apr_dbd_prepared_t *st;
    cc_error_t *err = statement(ctx, label, &st);
    int rv;

    *pres = NULL;
    if (err) {
        return err;
    }
    rv = apr_dbd_pselect(ctx->dbd->driver, ctx->r->pool, ctx->dbd->handle, pres, st, 0,
                         nargs, args);
    return rv ? db_failure(ctx, label, rv) : NULL;
}

static void set_list(json_t *obj, const char *key, const char *csv)
{
    json_t *arr = json_array();
    const char *start = csv;

    while (csv && *start) {
        const char *end = strchr(start, ',');
        size_t n = end ? (size_t)(end - start) : strlen(start);

        if (n) {
            json_array_append_new(arr, json_stringn(start, n));
        }
        if (!end) {
            break;
        }
        start = end + 1;
    }
    json_object_set_new(obj, key, arr);
}

/* One column value into obj; v is the driver's buffer (NULL for SQL NULL). */
static void render_column(apr_pool_t *p, json_t *obj, const cc_col_t *col, const char *v,
                          apr_int64_t *ptotal)
{
    json_t *val;

    switch (col->type) {
    case CC_COL_TOTAL:
        if (ptotal && v) {
            *ptotal = apr_atoi64(v);
        }
        return;
    case CC_COL_SKIP:
        return;
    case CC_COL_LIST:
        set_list(obj, col->key, v);
        return;
    default:
        break;
    }
    if (!v) {
        json_object_set_new(obj, col->key, json_null());
        return;
    }
    switch (col->type) {
    case CC_COL_INT:
        val = json_integer(apr_atoi64(v));
        break;
    case CC_COL_BOOL:
        val = json_boolean(v[0] != '0' && v[0] != '\0');
        break;
    case CC_COL_TIME:
        val = json_string(cc_sql_time_to_rfc3339(p, v));
        break;
    case CC_COL_JSON:
        val = json_loads(v, JSON_DECODE_ANY, NULL);
        break;
    default:
        val = json_string(v);
        break;
    }
    json_object_set_new(obj, col->key, val ? val : json_null());
}

cc_error_t *cc_db_select(cc_ctx_t *ctx, const char *label, const cc_col_t *cols,
                         int nargs, const char **args, json_t **prows,
                         apr_int64_t *ptotal)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const apr_dbd_driver_t *drv;
    cc_error_t *err;
    json_t *rows;
    int rv, ncols;

    *prows = NULL;
    if (ptotal) {
        *ptotal = 0;
    }
    if ((err = run_select(ctx, label, nargs, args, &res))) {
        return err;
    }
    drv = ctx->dbd->driver;
    ncols = apr_dbd_num_cols(drv, res);
    rows = json_array();
    while ((rv = apr_dbd_get_row(drv, ctx->r->pool, res, &row, -1)) == 0) {
        json_t *obj = json_object();
        int i;

        for (i = 0; i < ncols && cols[i].key; i++) {
            render_column(ctx->r->pool, obj, &cols[i], apr_dbd_get_entry(drv, row, i),
                          ptotal);
        }
        json_array_append_new(rows, obj);
    }
    if (rv != -1) {
        json_decref(rows);
        return db_failure(ctx, label, rv);
    }
    *prows = rows;
    return NULL;
}

/* One column value as JSON text; the same mapping as render_column. */
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

/* Render every row of res as an object into w; *ptotal from the first row. */
static int write_rows(cc_ctx_t *ctx, apr_dbd_results_t *res, const cc_col_t *cols,
                      cc_jsonw_t *w, apr_int64_t *ptotal, int *pnrows)
{
    const apr_dbd_driver_t *drv = ctx->dbd->driver;
    int ncols = apr_dbd_num_cols(drv, res);
    apr_dbd_row_t *row = NULL;
    int rv, i;

    *pnrows = 0;
    while ((rv = apr_dbd_get_row(drv, ctx->r->pool, res, &row, -1)) == 0) {
        int first = 1;

        cc_jsonw_lit(w, (*pnrows)++ ? ",{" : "{");
        for (i = 0; i < ncols && cols[i].key; i++) {
            const char *v = apr_dbd_get_entry(drv, row, i);

            if (cols[i].type == CC_COL_TOTAL) {
                *ptotal = v ? apr_atoi64(v) : 0;
                continue;
            }
            if (cols[i].type == CC_COL_SKIP) {
                continue;
            }
            if (!first) {
                cc_jsonw_lit(w, ",");
            }
            first = 0;
            cc_jsonw_key(w, cols[i].key);
            write_column(w, ctx->r->pool, &cols[i], v);
        }
        cc_jsonw_lit(w, "}");
    }
    return rv;
}

int cc_db_send_page(cc_ctx_t *ctx, const char *label, const char *count_label,
                    const cc_col_t *cols, int nargs, const char **args, int count_nargs,
                    const cc_page_t *pg)
{
    apr_dbd_results_t *res;
    apr_int64_t total = 0;
    cc_jsonw_t w;
    cc_error_t *err;
    const char **row;
    int nrows, rv;

    if ((err = run_select(ctx, label, nargs, args, &res))) {
        return cc_send_error(ctx->r, err);
    }
    cc_jsonw_init(&w, ctx->r->pool, 16384);
    cc_jsonw_lit(&w, "{\"data\":[");
    if ((rv = write_rows(ctx, res, cols, &w, &total, &nrows)) != -1) {
        return cc_send_error(ctx->r, db_failure(ctx, label, rv));
    }
    if (nrows == 0) {
        err = cc_db_select_row(ctx, count_label, count_nargs, args, &row, NULL);
        if (err) {
            return cc_send_error(ctx->r, err);
        }
        total = row && row[0] ? apr_atoi64(row[0]) : 0;
    }
    cc_jsonw_lit(&w, "],\"total\":");
    cc_jsonw_int(&w, total);
    cc_jsonw_lit(&w, ",\"page\":");
    cc_jsonw_int(&w, pg->page);
    cc_jsonw_lit(&w, ",\"page_size\":");
    cc_jsonw_int(&w, pg->page_size);
    cc_jsonw_lit(&w, "}");
    return cc_send_json_text(ctx->r, HTTP_OK, cc_jsonw_text(&w), w.len);
}

int cc_db_send_list(cc_ctx_t *ctx, const char *prefix, const cc_col_t *cols,
                    const cc_page_t *pg, const char **filter, int nfilter, int filtered)
{
    apr_pool_t *p = ctx->r->pool;
    const char **args = apr_palloc(p, sizeof(*args) * (2 * nfilter + 2));
    const char *order = apr_pstrcat(p, pg->sort, pg->desc ? "_desc" : "_asc", NULL);
    int n = 0, copy, i;

    for (copy = 0; copy < 2; copy++) {
        for (i = 0; i < (filtered ? nfilter : 1); i++) {
            args[n++] = filter[i];
        }
    }
    args[n++] = cc_page_limit_str(p, pg);
    args[n++] = cc_page_offset_str(p, pg);
    return cc_db_send_page(ctx, apr_pstrcat(p, prefix, filtered ? "_search_" : "_list_",
                                            order, NULL),
                           apr_pstrcat(p, prefix, filtered ? "_search_count" : "_count",
                                       NULL),
                           cols, n, args, filtered ? nfilter : 1, pg);
}

cc_error_t *cc_db_select_one(cc_ctx_t *ctx, const char *label, const cc_col_t *cols,
                             int nargs, const char **args, json_t **pobj)
{
    json_t *rows;
    cc_error_t *err = cc_db_select(ctx, label, cols, nargs, args, &rows, NULL);

    *pobj = NULL;
    if (err) {
        return err;
    }
    if (json_array_size(rows) > 0) {
        *pobj = json_incref(json_array_get(rows, 0));
    }
    json_decref(rows);
    return NULL;
}

cc_error_t *cc_db_select_row(cc_ctx_t *ctx, const char *label, int nargs,
                             const char **args, const char ***pvalues, int *pncols)
{
    apr_dbd_results_t *res;
    apr_dbd_row_t *row = NULL;
    const apr_dbd_driver_t *drv;
    cc_error_t *err;
    int rv, ncols, i;

    *pvalues = NULL;
    if (pncols) {
        *pncols = 0;
    }
    if ((err = run_select(ctx, label, nargs, args, &res))) {
        return err;
    }
    drv = ctx->dbd->driver;
    ncols = apr_dbd_num_cols(drv, res);
    /* Always drain: an unread result breaks the connection's next statement. */
    while ((rv = apr_dbd_get_row(drv, ctx->r->pool, res, &row, -1)) == 0) {
        if (*pvalues) {
            continue;
        }
        const char **values = apr_pcalloc(ctx->r->pool, sizeof(char *) * (ncols + 1));

        for (i = 0; i < ncols; i++) {
            const char *v = apr_dbd_get_entry(drv, row, i);

            values[i] = v ? apr_pstrdup(ctx->r->pool, v) : NULL;
        }
        *pvalues = values;
    }
    if (rv != -1) {
        *pvalues = NULL;
        return db_failure(ctx, label, rv);
    }
    if (pncols && *pvalues) {
        *pncols = ncols;
    }
    return NULL;
}

cc_error_t *cc_db_exec(cc_ctx_t *ctx, const char *label, int nargs, const char **args,
                       int *pnrows)
{
    apr_dbd_prepared_t *st;
    cc_error_t *err;
    int nrows = 0, rv;

    if (pnrows) {
        *pnrows = 0;
    }
    if ((err = statement(ctx, label, &st))) {
        return err;
    }
    rv = apr_dbd_pquery(ctx->dbd->driver, ctx->r->pool, ctx->dbd->handle, &nrows, st,
                        nargs, args);
    if (rv != 0) {
        return db_failure(ctx, label, rv);
    }
    if (pnrows) {
        *pnrows = nrows;
    }
    return NULL;
}

/* A transaction a handler left open (a bug) must not ride back into the pool with the
 * connection: roll it back when the request ends.  Registered after mod_dbd's release
 * cleanup, so it runs first. */
static apr_status_t txn_cleanup(void *data)
{
    cc_ctx_t *ctx = data;

    if (ctx->in_txn) {
        cc_db_end(ctx, 0);
    }
    return APR_SUCCESS;
}

cc_error_t *cc_db_begin(cc_ctx_t *ctx)
{
    cc_error_t *err = cc_db_exec(ctx, "cc_txn_begin", 0, NULL, NULL);

    if (!err) {
        if (!ctx->in_txn) {
            apr_pool_cleanup_register(ctx->r->pool, ctx, txn_cleanup,
                                      apr_pool_cleanup_null);
        }
        ctx->in_txn = 1;
    }
    return err;
}

cc_error_t *cc_db_end(cc_ctx_t *ctx, int commit)
{
    if (!ctx->in_txn) {
        return NULL;
    }
    ctx->in_txn = 0;
    return cc_db_exec(ctx, commit ? "cc_txn_commit" : "cc_txn_rollback", 0, NULL, NULL);
}

int cc_db_abort(cc_ctx_t *ctx, cc_error_t *err)
{
    cc_db_end(ctx, 0);
    return cc_send_error(ctx->r, err);
}

int cc_db_last_errno(cc_ctx_t *ctx)
{
    return ctx->db_errno;
}
