/**
 * @file cc_db.h
 * @brief (glue) Prepared statements on a mod_dbd connection that needs no request,
 *        rows to JSON (one renderer), transactions, the duplicate-key idiom.
 *
 * A cc_db_t is a connection slot with a pool: from a request (cc_db_request: mod_dbd's
 * pooled connection of the request, also on public routes without a principal) or from
 * anywhere else (cc_db_standalone: a mod_watchdog callback, a per-child thread, given
 * a pool and the server; the connection goes back to mod_dbd when the pool is cleared).
 * The connection is taken on the first statement.
 *
 * Statements are declared per domain as static tables of CC_STMT(label, sql)
 * (cc_domain.h) and registered in post_config (before mod_dbd's).  Placeholders are
 * apr_dbd's: %s only (every value is bound as a string; validate numbers in C first); a
 * literal percent sign is %%.  Every statement on a tenant-owned table filters on
 * tenant_id (t/lint/check_stmts.py).  Labels are unique across all modules.
 *
 * JSON handed out here (rows, objects) is owned by the db's pool: never decref it.
 */
#ifndef CC_DB_H
#define CC_DB_H

#include <httpd.h>
#include <apr_dbd.h>
#include <mod_dbd.h>
#include <jansson.h>

#include "cc_domain.h"
#include "cc_error.h"
#include "cc_jsonw.h"

typedef struct cc_db_t {
    apr_pool_t *pool;        /**< results, strings and JSON live here */
    server_rec *s;           /**< for logging (and mod_dbd outside a request) */
    request_rec *r;          /**< NULL outside a request */
    ap_dbd_t *dbd;           /**< taken on first use */
    int in_txn;              /**< a transaction is open (cc_db_begin) */
    int txn_guarded;         /**< the pool cleanup that rolls back is registered */
    int db_errno;            /**< MySQL errno of the last failed call */
    apr_array_header_t *after_commit; /**< cc_db_after_commit calls of the open transaction */
    /* Lock conflicts (cc_retry.h) and what a handler's run did that a new run would
     * repeat; cc_db_attempt starts over. */
    int txn_conflict;        /**< the open transaction met a lock conflict: every
                                  statement but its ROLLBACK fails with it */
    int conflict_errno;      /**< 1205 or 1213 of the last lock conflict, else 0 */
    const char *conflict_label;   /**< the statement that met it */
    int changed;             /**< a transaction committed, or a statement outside one
                                  changed rows, since cc_db_attempt */
    int unchecked;           /**< the connection came parked (no ping) and has run no
                                  statement yet */
    int no_park;             /**< hand the connection to mod_dbd, not to the thread */
    /** A statement every transaction runs just before it commits (an Idempotency-Key's
     *  claim marked done with the work: cc_idem.c); NULL: none.  It must change a row,
     *  else the commit is refused (409: the claim is no longer the request's). */
    int outer_txn;           /**< the open transaction is the dispatcher's (an If-Match
                                  check): cc_db_begin joins it instead of committing it */
    const char *commit_mark;
    int commit_mark_nargs;
    const char **commit_mark_args;
    int flushed;             /**< parked connections just handed back (suspect): the
                                  next acquire tries that many more times */
} cc_db_t;

/** The request's connection slot (memoized on the request; any route, any principal). */
cc_db_t *cc_db_request(request_rec *r);

/**
 * A connection slot for work outside a request (a watchdog job, a per-child thread):
 * the connection is opened from s's mod_dbd pool on first use and handed back, an open
 * transaction rolled back first, when p is cleared or destroyed.
 */
cc_db_t *cc_db_standalone(apr_pool_t *p, server_rec *s);

/**
 * Hand db's connection back now (an open transaction rolled back first); its next
 * statement takes one again.  For a handler that keeps its request long (a stream)
 * without keeping a connection meanwhile.
 */
void cc_db_release(cc_db_t *db);

/**
 * From every module's child_init: the child's parking of request connections (idle
 * ones kept between requests, up to half of DBDMax, so that mod_dbd's ping is not paid
 * every time; handed back at the child's exit).  Without it, this module's copy pings
 * each time.
 */
void cc_db_child_init(apr_pool_t *pchild, server_rec *s);

/**
 * A request that writes enters the child's write gate (cc_dispatch, for every method but
 * GET and HEAD): writes take at most 3/4 of the child's threads or of DBDMax, whichever
 * is fewer, so writes waiting on a slow database (a held lock) never take every thread
 * or connection; past it, 503 unavailable at once.  Left when the request's pool goes.
 */
cc_error_t *cc_db_write_begin(cc_db_t *db);

/** Register stmts with mod_dbd for s and every vhost (call from post_config). */
void cc_db_prepare_all(server_rec *s, const cc_stmt_t *stmts);

/** Statements of shared/ itself (audit, events). */
extern const cc_stmt_t cc_shared_stmts[];
/** The Idempotency-Key statements (cc_idem.c), registered with cc_shared_stmts. */
extern const cc_stmt_t cc_idem_stmts[];

/**
 * Register cc_shared_stmts once per configuration cycle, whichever module comes first:
 * mod_dbd warns (AH02653) when a label is registered twice from different modules'
 * copies of the table.  Call from every module's post_config with its pconf.
 */
void cc_db_prepare_shared(apr_pool_t *pconf, server_rec *s);

/** Register the statements of every domain (NULL-terminated) for s and every vhost. */
void cc_db_prepare_domains(server_rec *s, const cc_domain_t *const *domains);

/** Take the connection now (503 unavailable when the database is down). */
cc_error_t *cc_db_acquire(cc_db_t *db);

/**
 * Run a SELECT and render every row as an object by cols.  *prows is an array owned by
 * db->pool; ptotal (optional) receives the first row's column after the described ones
 * (a list's total), or 0 when there are no rows.
 */
cc_error_t *cc_db_select(cc_db_t *db, const char *label, const cc_col_t *cols,
                         int nargs, const char **args, json_t **prows,
                         apr_int64_t *ptotal);

/** First row as an object owned by db->pool, or *pobj = NULL when there is none. */
cc_error_t *cc_db_select_one(cc_db_t *db, const char *label, const cc_col_t *cols,
                             int nargs, const char **args, json_t **pobj);

/**
 * First row as raw strings copied into db->pool (*pvalues[i], NULL for SQL NULL);
 * *pvalues = NULL when no row.  The rest of the result is drained.
 */
cc_error_t *cc_db_select_row(cc_db_t *db, const char *label, int nargs,
                             const char **args, const char ***pvalues, int *pncols);

/**
 * The one row renderer: every row as a JSON object by cols, written into w, comma
 * separated (no brackets); *pnrows rows, *ptotal (optional) from the first row's
 * column after the described ones.  cc_db_select parses what this writes.
 */
cc_error_t *cc_db_write_rows(cc_db_t *db, const char *label, const cc_col_t *cols,
                             int nargs, const char **args, cc_jsonw_t *w,
                             apr_int64_t *ptotal, int *pnrows);
/** The same, also keeping the last row's two columns after the total in keys[0] and
 *  keys[1] (a keyset list's sort key and id; NULL when there is no row). */
cc_error_t *cc_db_write_rows_keyed(cc_db_t *db, const char *label, const cc_col_t *cols,
                                   int nargs, const char **args, cc_jsonw_t *w,
                                   apr_int64_t *ptotal, int *pnrows, const char **keys);

/** A streamed row, the driver's until the next one. */
typedef struct cc_db_stream_row_t cc_db_stream_row_t;
/** Column col's text of a streamed row (NULL for SQL NULL): the driver's own buffer,
 *  valid until the next row.  The driver converts a column each time it is asked for
 *  (apr_dbd_mysql: mysql_stmt_fetch_column), so ask once, and only for what is used. */
const char *cc_db_stream_value(const cc_db_stream_row_t *row, int col);
/** A streamed row's visitor: ncols columns, read with cc_db_stream_value.  Nonzero
 *  stops the stream. */
typedef int (*cc_db_text_row_fn)(void *baton, const cc_db_stream_row_t *row, int ncols);
/**
 * Every row of a select handed to fn without copying it into the pool (no memory grows
 * per row on our side, nor per statement: the driver's result lives in a subpool of
 * db->pool, destroyed when the statement is done).  Note that apr_dbd_mysql stores the
 * whole result in the client library first (mysql_stmt_store_result, whatever the
 * random flag says), so a large result is read in chunks by the caller (cc_reply_list's
 * CSV export walks its keyset).  fn may stop early (a client gone).  *pnrows rows were
 * handed over.
 */
cc_error_t *cc_db_stream(cc_db_t *db, const char *label, int nargs, const char **args,
                         cc_db_text_row_fn fn, void *baton, int *pnrows);

/** INSERT/UPDATE/DELETE; *pnrows (optional) gets the affected row count. */
cc_error_t *cc_db_exec(cc_db_t *db, const char *label, int nargs, const char **args,
                       int *pnrows);

/**
 * Transactions.  One idiom: cc_db_begin, statements, cc_db_commit last; a handler that
 * returns an error just returns it (the dispatcher rolls back what is open), other
 * callers (jobs) call cc_db_rollback.
 */
cc_error_t *cc_db_begin(cc_db_t *db);
/** What cc_db_after_commit runs. */
typedef void (*cc_db_commit_fn)(void *baton);
/**
 * Run fn(baton) once the open transaction has committed (in the order registered;
 * nothing if it rolls back instead); at once when no transaction is open.  For effects
 * outside the database that must not precede the commit, such as invalidating a cache
 * that a concurrent reader could refill with the old rows.
 */
void cc_db_after_commit(cc_db_t *db, cc_db_commit_fn fn, void *baton);
cc_error_t *cc_db_commit(cc_db_t *db);
/**
 * Commit with a statement that ends the transaction itself (a CALL of a procedure whose
 * last statement is COMMIT, as cc_record's): the transaction's last statements and its
 * commit in one round trip.  Outside a transaction the statement just runs.
 */
cc_error_t *cc_db_commit_by(cc_db_t *db, const char *label, int nargs, const char **args);
/** Roll back the open transaction, if any (errors are logged, not returned). */
void cc_db_rollback(cc_db_t *db);

/**
 * Lock conflicts.  A statement that fails with a deadlock (1213) or a lock wait timeout
 * (1205) returns cc_error_lock_conflict; inside a transaction every later statement but
 * the ROLLBACK fails with it as well (after 1213 MariaDB has rolled the transaction back
 * already, after 1205 only the statement), so nothing can run on in autocommit.
 * cc_dispatch then rolls back and runs the handler again unless that would repeat
 * something: db->changed says whether the run committed a transaction or changed rows
 * outside one (cc_db_exec's count; a write that returns rows, INSERT ... RETURNING,
 * belongs in a transaction).  Call at the start of each run.
 */
void cc_db_attempt(cc_db_t *db);

/**
 * The duplicate-key idiom: when err is a unique key's violation (MySQL 1062), the 409
 * conflict with message (and, when field is given, a detail naming it) that the caller
 * means; any other err (or NULL) is returned as it is.
 */
cc_error_t *cc_db_duplicate(cc_db_t *db, cc_error_t *err, const char *field,
                            const char *issue, const char *message);

/** err is a unique key's violation (for code that tries another way then). */
int cc_db_is_duplicate(const cc_db_t *db, const cc_error_t *err);

#define CC_DB_ER_DUP_ENTRY 1062
/** A procedure's SIGNAL SQLSTATE '45000' (ER_SIGNAL_EXCEPTION); 'cc_quota:<limit>' is
 *  409 quota_exceeded naming max_<limit>. */
#define CC_DB_ER_SIGNAL 1644

#endif
