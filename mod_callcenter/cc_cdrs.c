/*
 * cc_cdrs.c: /api/v1/cdrs, the call detail records Asterisk writes (cdr_adaptive_odbc
 * into `cdr`, usegmtime=yes: times are UTC).
 *
 * A row is the tenant's when its tenant_ref is the tenant's id: the generated column
 * sql/008 adds, tenantid else accountcode (API.md "CDR").  Every statement here filters
 * on it, so a row whose tenantid names another tenant is never the accountcode's.
 * Rows without a start (never written by Asterisk, which always sets it) are no calls
 * and are not listed.
 *
 * The list is keyset-paged (CC_LIST_KEYSET): the first page is an index-ordered read
 * of (tenant_ref, start[, id]) with its total (cdrs_total: from the summaries of
 * sql/011 where they are keyed by the filters); `after=` continues from the last row's
 * (key, id) with no OFFSET and no total, so page 200 costs what page 1 does.
 */
#include <httpd.h>
#include <apr_strings.h>

#include "cc_api_private.h"
#include "cc_cdr_stats_rules.h"
#include "cc_validate.h"

static const char *const cdr_sorts[] = { "calldate", "billsec", "duration", NULL };
static const char *const cdr_directions[] = { "inbound", "outbound", "internal", NULL };
static const char *const cdr_dispositions[] = { "ANSWERED", "NO ANSWER", "BUSY", "FAILED",
                                                NULL };

/* ---- statements ---- */

/* The CDR object's columns, in cdr_cols order.  wait = duration - billsec (the time
 * before the answer, ringing and queueing included).  recording_id: the tenant's first
 * recording registered for the row's uniqueid (idx_recordings_tenant_cdr).  start comes
 * as text, "YYYY-MM-DD HH:MM:SS" as the client library would write the DATETIME
 * (apr_dbd_mysql binds every result as a string): the library formats a DATETIME with
 * sprintf each time the value is fetched, twice a row: a quarter of httpd's time in a
 * CSV export (perf), 1% of MariaDB's to write the text instead.  BINARY: the digits
 * need no conversion into the connection's character set. */
#define CDR_COLUMNS                                                                     \
    "c.id, c.uniqueid, c.linkedid, CAST(c.start AS BINARY), c.src, c.dst, c.clid,"      \
    " c.did, c.direction, c.queue, c.agent_id, c.disposition, c.duration, c.billsec,"   \
    " c.duration - c.billsec, (SELECT MIN(r.id) FROM recordings r"                    \
    " WHERE r.tenant_id = c.tenant_ref AND r.cdr_uniqueid = c.uniqueid)"

/* Filters bind 19 values: the tenant, then each filter twice (cdr_filters order). */
#define CDRS_FILTER                                                                     \
    " c.tenant_ref = %s AND c.start IS NOT NULL"                                        \
    " AND (%s IS NULL OR c.start >= %s) AND (%s IS NULL OR c.start < %s)"               \
    " AND (%s IS NULL OR c.direction = %s) AND (%s IS NULL OR c.disposition = %s)"      \
    " AND (%s IS NULL OR c.src = %s) AND (%s IS NULL OR c.dst = %s)"                    \
    " AND (%s IS NULL OR c.did = %s) AND (%s IS NULL OR c.queue = %s)"                  \
    " AND (%s IS NULL OR c.agent_id = %s)"                                              \
    " AND (%s IS NULL OR c.billsec >= CAST(%s AS UNSIGNED))"

/*
 * The calldate orders read idx_cdr_ref_start backwards or forwards and stop at the
 * limit: (tenant_ref, start, id) is the order itself.  The index is forced: with a
 * filter on a column outside it, `(%s IS NULL OR c.direction = %s)` as a prepared
 * statement, MariaDB 10.11 costs the filter as unknown and picks a range read of the
 * whole tenant plus a filesort (131 ms instead of 0.4 ms for a page at 200,000 rows,
 * measured).  billsec and duration orders have no index and sort what the filters
 * leave (bound them with from/to).
 */
#define BY_START " FORCE INDEX (idx_cdr_ref_start)"

/* The first page: the page, then the cursor's key and id (CC_LIST_KEYSET); its total
 * is cdrs_total's. */
#define CDRS_SEARCH(hint, key, order)                                                   \
    "SELECT " CDR_COLUMNS ", NULL AS total, " key ", c.id FROM cdr c" hint " WHERE"     \
    CDRS_FILTER " ORDER BY " order " LIMIT %s OFFSET %s"

/* A page after a cursor: the filter once, then key, key, id, then the limit. */
#define CDRS_AFTER(hint, key, cond, order)                                              \
    "SELECT " CDR_COLUMNS ", NULL AS total, " key ", c.id FROM cdr c" hint " WHERE"     \
    CDRS_FILTER " AND (" cond ") ORDER BY " order " LIMIT %s"

/* An export's first chunk: the filter once, then the limit (CC_LIST_CSV); the next
 * chunks are pages after a cursor. */
#define CDRS_EXPORT(hint, key, order)                                                   \
    "SELECT " CDR_COLUMNS ", NULL AS total, " key ", c.id FROM cdr c" hint " WHERE"     \
    CDRS_FILTER " ORDER BY " order " LIMIT %s"

#define KEY_CALLDATE "c.start"
#define KEY_BILLSEC "COALESCE(c.billsec, 0)"
#define KEY_DURATION "COALESCE(c.duration, 0)"
#define AFTER_GT(k) k " > %s OR (" k " = %s AND c.id > %s)"
#define AFTER_LT(k) k " < %s OR (" k " = %s AND c.id < %s)"

#define CDRS_EXPORT_CALLDATE(order) CDRS_EXPORT(BY_START, KEY_CALLDATE, order)
#define CDRS_EXPORT_BILLSEC(order) CDRS_EXPORT("", KEY_BILLSEC, order)
#define CDRS_EXPORT_DURATION(order) CDRS_EXPORT("", KEY_DURATION, order)
#define CDRS_SEARCH_CALLDATE(order) CDRS_SEARCH(BY_START, KEY_CALLDATE, order)
#define CDRS_AFTER_CALLDATE(cond, order) CDRS_AFTER(BY_START, KEY_CALLDATE, cond, order)
#define CDRS_SEARCH_BILLSEC(order) CDRS_SEARCH("", KEY_BILLSEC, order)
#define CDRS_AFTER_BILLSEC(cond, order) CDRS_AFTER("", KEY_BILLSEC, cond, order)
#define CDRS_SEARCH_DURATION(order) CDRS_SEARCH("", KEY_DURATION, order)
#define CDRS_AFTER_DURATION(cond, order) CDRS_AFTER("", KEY_DURATION, cond, order)

static const cc_stmt_t cdrs_stmts[] = {
    CC_KEYSET_SORT("cc_cdrs", "calldate", CDRS_SEARCH_CALLDATE, CDRS_AFTER_CALLDATE,
                   "c.start ASC, c.id ASC", "c.start DESC, c.id DESC",
                   AFTER_GT(KEY_CALLDATE), AFTER_LT(KEY_CALLDATE)),
    CC_KEYSET_SORT("cc_cdrs", "billsec", CDRS_SEARCH_BILLSEC, CDRS_AFTER_BILLSEC,
                   KEY_BILLSEC " ASC, c.id ASC", KEY_BILLSEC " DESC, c.id DESC",
                   AFTER_GT(KEY_BILLSEC), AFTER_LT(KEY_BILLSEC)),
    CC_KEYSET_SORT("cc_cdrs", "duration", CDRS_SEARCH_DURATION, CDRS_AFTER_DURATION,
                   KEY_DURATION " ASC, c.id ASC", KEY_DURATION " DESC, c.id DESC",
                   AFTER_GT(KEY_DURATION), AFTER_LT(KEY_DURATION)),
    CC_EXPORT_SORT("cc_cdrs", "calldate", CDRS_EXPORT_CALLDATE, "c.start ASC, c.id ASC",
                   "c.start DESC, c.id DESC"),
    CC_EXPORT_SORT("cc_cdrs", "billsec", CDRS_EXPORT_BILLSEC, KEY_BILLSEC " ASC, c.id ASC",
                   KEY_BILLSEC " DESC, c.id DESC"),
    CC_EXPORT_SORT("cc_cdrs", "duration", CDRS_EXPORT_DURATION,
                   KEY_DURATION " ASC, c.id ASC", KEY_DURATION " DESC, c.id DESC"),
    CC_STMT("cc_cdrs_search_count", "SELECT COUNT(*) FROM cdr c WHERE" CDRS_FILTER),
    /* The summaries (sql/011) of whole buckets [lo, hi) (hi NULL: no end): the tenant,
     * lo, hi twice, then direction and disposition twice each; or the dim and key. */
    CC_STMT("cc_cdrs_rollup_time_count",
            "SELECT COALESCE(SUM(r.calls), 0) FROM cdr_rollup_time r"
            " WHERE r.tenant_ref = %s AND r.bucket >= %s AND (%s IS NULL OR r.bucket < %s)"
            " AND (%s IS NULL OR r.direction = %s) AND (%s IS NULL OR r.disposition = %s)"),
    /* NULL when the key equals '' in cdr's collation (' ', a zero-weight character):
     * the summary's '' row also holds the rows without a value, which the filter's
     * equality does not match, so such a key is counted in cdr. */
    CC_STMT("cc_cdrs_rollup_key_count",
            "SELECT IF(CONVERT(%s USING utf8mb4) COLLATE utf8mb4_unicode_ci = '', NULL,"
            " COALESCE(SUM(r.calls), 0)) FROM cdr_rollup_key r"
            " WHERE r.tenant_ref = %s AND r.hour >= %s AND (%s IS NULL OR r.hour < %s)"
            " AND r.dim = %s AND r.k = %s"),
    CC_STMT("cc_cdrs_get",
            "SELECT " CDR_COLUMNS " FROM cdr c"
            " WHERE c.tenant_ref = %s AND c.id = %s AND c.start IS NOT NULL"),
    CC_STMT_END
};

/* ---- the CDR object ---- */

static const cc_col_t cdr_cols[] = {
    { "id", CC_COL_INT },
    { "uniqueid", CC_COL_STR },
    { "linkedid", CC_COL_STR },
    { "calldate", CC_COL_TIME },
    { "src", CC_COL_STR },
    { "dst", CC_COL_STR },
    { "clid", CC_COL_STR },
    { "did", CC_COL_STR },
    { "direction", CC_COL_STR },
    { "queue", CC_COL_STR },
    { "agent_id", CC_COL_INT },
    { "disposition", CC_COL_STR },
    { "duration", CC_COL_INT },
    { "billsec", CC_COL_INT },
    { "wait", CC_COL_INT },
    { "recording_id", CC_COL_INT },
    CC_COL_END
};

/* A whole number of seconds, 0 .. 10^9. */
static int valid_seconds(const char *s)
{
    apr_int64_t v;

    return cc_parse_int(s, 0, 1000000000, &v);
}

#define CDR_TEXT_MAX 80

static const cc_filter_t cdr_filters[] = {
    { "from", CC_FILTER_TIME, 2, NULL, 0, NULL, NULL },
    { "to", CC_FILTER_TIME, 2, NULL, 0, NULL, NULL },
    { "direction", CC_FILTER_ENUM, 2, cdr_directions, 0, NULL, NULL },
    { "disposition", CC_FILTER_ENUM, 2, cdr_dispositions, 0, NULL, NULL },
    { "src", CC_FILTER_TEXT, 2, NULL, CDR_TEXT_MAX, NULL, NULL },
    { "dst", CC_FILTER_TEXT, 2, NULL, CDR_TEXT_MAX, NULL, NULL },
    { "did", CC_FILTER_TEXT, 2, NULL, CDR_TEXT_MAX, NULL, NULL },
    { "queue", CC_FILTER_TEXT, 2, NULL, CDR_TEXT_MAX, NULL, NULL },
    { "agent_id", CC_FILTER_ID, 2, NULL, 0, NULL, NULL },
    { "min_billsec", CC_FILTER_CHECK, 2, NULL, 0, valid_seconds,
      "must be a whole number of seconds from 0 to 1000000000" },
    CC_FILTER_END
};

/* Where each filter's two arguments start in the filter arguments (the tenant first). */
enum { F_FROM, F_TO, F_DIRECTION, F_DISPOSITION, F_SRC, F_DST, F_DID, F_QUEUE, F_AGENT,
       F_MIN_BILLSEC };
#define ARG(f) (1 + 2 * (f))

/* The count of the filter's rows whose start is in [from, to) (NULL: no bound). */
static cc_error_t *count_rows(cc_ctx_t *ctx, const char *const *filter, int nfilter,
                              const char *from, const char *to, apr_int64_t *pn)
{
    const char **args = apr_pmemdup(ctx->pool, filter, sizeof(*args) * (apr_size_t)nfilter);
    const char **row;
    cc_error_t *err;

    args[ARG(F_FROM)] = args[ARG(F_FROM) + 1] = from;
    args[ARG(F_TO)] = args[ARG(F_TO) + 1] = to;
    err = cc_db_select_row(ctx->db, "cc_cdrs_search_count", nfilter, args, &row, NULL);
    *pn = !err && row && row[0] ? apr_atoi64(row[0]) : 0;
    return err;
}

static apr_int64_t filter_epoch(cc_ctx_t *ctx, const char *sql, apr_int64_t none)
{
    apr_int64_t t;

    return sql && cc_parse_rfc3339_epoch(cc_sql_time_to_rfc3339(ctx->pool, sql), &t) ? t
                                                                                    : none;
}

static const char *epoch_sql(cc_ctx_t *ctx, apr_int64_t t)
{
    return t == CC_CDR_NO_TO ? NULL : cc_epoch_to_sql(ctx->pool, t);
}

/*
 * The first page's total.  Counting a tenant's rows in cdr costs one index entry each
 * (4 to 5 s at 1,000,000 rows, with a row read per entry for a filter outside the
 * index); the summaries of sql/011 answer the filters they are keyed by: from, to,
 * direction and disposition (cdr_rollup_time), or from, to and one of queue, agent_id
 * and did (cdr_rollup_key).  Whole buckets come from the summary, the window's partial
 * buckets at either end from cdr (cc_cdr_rollup_split), so the total is exact.  Any
 * other filter (src, dst, min_billsec, or two keyed ones) is counted in cdr.
 */
static cc_error_t *cdrs_total(cc_ctx_t *ctx, const char *const *filter, int nfilter,
                              apr_int64_t *ptotal)
{
    static const int keyed[] = { F_QUEUE, F_AGENT, F_DID };
    static const char *const dims[] = { "queue", "agent", "did" };
    const char *from = filter[ARG(F_FROM)], *to = filter[ARG(F_TO)], *dim = NULL, *k = NULL;
    const char *args[8], *lo_sql, *hi_sql, **row;
    apr_int64_t lo, hi, n, edge;
    cc_error_t *err;
    size_t i;
    int nkeyed = 0;

    for (i = 0; i < sizeof(keyed) / sizeof(keyed[0]); i++) {
        if (filter[ARG(keyed[i])]) {
            nkeyed++;
            dim = dims[i];
            k = filter[ARG(keyed[i])];
        }
    }
    if (filter[ARG(F_SRC)] || filter[ARG(F_DST)] || filter[ARG(F_MIN_BILLSEC)]
        || nkeyed > 1
        || (nkeyed && (filter[ARG(F_DIRECTION)] || filter[ARG(F_DISPOSITION)]))) {
        return count_rows(ctx, filter, nfilter, from, to, ptotal);
    }
    if (dim && !strcmp(dim, "agent")) {
        k = apr_psprintf(ctx->pool, "%" APR_INT64_T_FMT, apr_atoi64(k));   /* as keyed */
    }
    cc_cdr_rollup_split(filter_epoch(ctx, from, CC_CDR_NO_FROM),
                        filter_epoch(ctx, to, CC_CDR_NO_TO),
                        dim ? CC_CDR_ROLLUP_KEY_STEP : CC_CDR_ROLLUP_TIME_STEP, &lo, &hi);
    lo_sql = epoch_sql(ctx, lo);
    hi_sql = epoch_sql(ctx, hi);
    i = 0;
    if (dim) {
        args[i++] = k;
    }
    args[i++] = ctx->principal->tenant_id;
    args[i++] = lo_sql;
    args[i++] = hi_sql;
    args[i++] = hi_sql;
    if (dim) {
        args[i++] = dim;
        args[i++] = k;
    }
    else {
        args[i++] = filter[ARG(F_DIRECTION)];
        args[i++] = filter[ARG(F_DIRECTION)];
        args[i++] = filter[ARG(F_DISPOSITION)];
        args[i++] = filter[ARG(F_DISPOSITION)];
    }
    if ((err = cc_db_select_row(ctx->db, dim ? "cc_cdrs_rollup_key_count"
                                             : "cc_cdrs_rollup_time_count",
                                (int)i, args, &row, NULL))) {
        return err;
    }
    if (!row || !row[0]) {
        return count_rows(ctx, filter, nfilter, from, to, ptotal);
    }
    n = apr_atoi64(row[0]);
    /* The edges: before lo (from, or anything before the summaries' range, to lo) and
     * from hi to the end. */
    if ((!from || strcmp(from, lo_sql))
        && (err = count_rows(ctx, filter, nfilter, from, lo_sql, &edge)) == NULL) {
        n += edge;
    }
    if (!err && hi_sql && (!to || strcmp(hi_sql, to))
        && (err = count_rows(ctx, filter, nfilter, hi_sql, to, &edge)) == NULL) {
        n += edge;
    }
    *ptotal = n;
    return err;
}

static const cc_list_t cdrs_list_spec = { "cc_cdrs", cdr_sorts, "-calldate", cdr_cols,
                                           cdr_filters,
                                           CC_LIST_SEARCH_ONLY | CC_LIST_KEYSET
                                           | CC_LIST_CSV, cdrs_total, NULL };

static const cc_route_t cdrs_routes[] = {
    { "GET", "/api/v1/cdrs", cc_handle_list, "cdrs.read", CC_ROUTE_AUTH },
    { "GET", "/api/v1/cdrs/{id:int}", cc_handle_get, "cdrs.read", CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_cdrs_domain = { "cdrs", cdrs_routes, cdrs_stmts, &cdrs_list_spec,
                                     "cc_cdrs_get", cdr_cols };
