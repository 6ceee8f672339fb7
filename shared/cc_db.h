/**
 * @file cc_db.h
 * @brief (glue) Prepared statements on mod_dbd's pooled connection, rows to typed JSON,
 *        transactions.
 *
 * Statements are declared per domain as static tables of CC_STMT(label, sql) and
 * registered in post_config (before mod_dbd's).  Placeholders are apr_dbd's: %s only
 * (every value is bound as a string; validate numbers in C first); a literal percent
 * sign is %%.  Every statement on a tenant-owned table filters on tenant_id
 * (t/lint/check_stmts.py).  Labels are unique across all modules: cc_<domain>_<verb>.
 */
#ifndef CC_DB_H
#define CC_DB_H

#include "cc_http.h"
#include "cc_page.h"

typedef struct cc_stmt_t {
    const char *label;
    const char *sql;
} cc_stmt_t;

#define CC_STMT(label, sql) { label, sql }
#define CC_STMT_END { NULL, NULL }

/** Register stmts with mod_dbd for s and every vhost (call from post_config). */
void cc_db_prepare_all(server_rec *s, const cc_stmt_t *stmts);

/** Statements of shared/ itself (audit, events). */
extern const cc_stmt_t cc_shared_stmts[];

/**
 * Register cc_shared_stmts once per configuration cycle, whichever module comes first:
 * mod_dbd warns (AH02653) when a label is registered twice from different modules'
 * copies of the table.  Call from every module's post_config with its pconf.
 */
void cc_db_prepare_shared(apr_pool_t *pconf, server_rec *s);

/** Acquire the request's pooled connection into ctx->dbd (503 unavailable on failure). */
cc_error_t *cc_db_acquire(cc_ctx_t *ctx);

/** How a result column becomes JSON; columns map by position. */
typedef enum {
    CC_COL_STR,      /**< string (NULL -> null) */
    CC_COL_INT,      /**< integer */
    CC_COL_BOOL,     /**< "0"/"1" -> false/true */
    CC_COL_TIME,     /**< DATETIME (UTC) -> RFC 3339 string */
    CC_COL_JSON,     /**< JSON text -> parsed value */
    CC_COL_LIST,     /**< comma-separated text -> array of strings (NULL -> []) */
    CC_COL_TOTAL,    /**< COUNT(*) OVER () -> *ptotal, not in the object */
    CC_COL_SKIP      /**< not rendered */
} cc_col_type_e;

typedef struct cc_col_t {
    const char *key;
    cc_col_type_e type;
} cc_col_t;

#define CC_COL_END { NULL, CC_COL_SKIP }

/**
 * Run a SELECT and render every row as an object by cols.  *prows is a new array
 * (caller owns it); ptotal (optional) receives the CC_COL_TOTAL column of the first
 * row, or 0 when there are no rows.
 */
cc_error_t *cc_db_select(cc_ctx_t *ctx, const char *label, const cc_col_t *cols,
                         int nargs, const char **args, json_t **prows,
                         apr_int64_t *ptotal);

/** First row as an object (new reference) or *pobj = NULL when there is none. */
cc_error_t *cc_db_select_one(cc_ctx_t *ctx, const char *label, const cc_col_t *cols,
                             int nargs, const char **args, json_t **pobj);

/**
 * First row as raw strings copied into r->pool (*pvalues[i], NULL for SQL NULL);
 * *pvalues = NULL when no row.  The rest of the result is drained.
 */
cc_error_t *cc_db_select_row(cc_ctx_t *ctx, const char *label, int nargs,
                             const char **args, const char ***pvalues, int *pncols);

/**
 * Run a list statement and send API.md's page envelope
 *   {"data": [...], "total": N, "page": p, "page_size": s}
 * rendered straight from the rows (no jansson tree).  The statement selects its total
 * as a CC_COL_TOTAL column, e.g.
 *   SELECT ..., (SELECT COUNT(*) FROM t WHERE <filter>) AS total FROM t WHERE <filter>
 *   ORDER BY ... LIMIT %s OFFSET %s
 * so the total comes with the page in one round trip.  Past the last page there is no
 * row to carry it: then count_label, which binds the first count_nargs of args, is run.
 * Returns what a handler returns.
 */
int cc_db_send_page(cc_ctx_t *ctx, const char *label, const char *count_label,
                    const cc_col_t *cols, int nargs, const char **args, int count_nargs,
                    const cc_page_t *pg);

/**
 * The list every domain has: statements <prefix>_list_<sort>_<asc|desc> (unfiltered,
 * binding tenant, tenant, limit, offset: the total from a per-tenant counter) and
 * <prefix>_search_<sort>_<asc|desc> (binding the filter twice, for its COUNT subquery and
 * its page, then limit, offset), with <prefix>_count (tenant) and <prefix>_search_count
 * (the filter) for pages past the end.  filter[0] is the tenant; filter is one copy of
 * the search statement's filter arguments.  Sends the page (cc_db_send_page).
 */
int cc_db_send_list(cc_ctx_t *ctx, const char *prefix, const cc_col_t *cols,
                    const cc_page_t *pg, const char **filter, int nfilter, int filtered);

/** INSERT/UPDATE/DELETE; *pnrows (optional) gets the affected row count. */
cc_error_t *cc_db_exec(cc_ctx_t *ctx, const char *label, int nargs, const char **args,
                       int *pnrows);

/** Transactions on the request's connection. */
cc_error_t *cc_db_begin(cc_ctx_t *ctx);
/** Commit when commit != 0, else roll back. */
cc_error_t *cc_db_end(cc_ctx_t *ctx, int commit);

/** Roll back the open transaction (if any) and send err; for handler error paths. */
int cc_db_abort(cc_ctx_t *ctx, cc_error_t *err);

/** The MySQL error number of the last failed call in this request (0 if none). */
int cc_db_last_errno(cc_ctx_t *ctx);

#define CC_DB_ER_DUP_ENTRY 1062

#endif
