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
 * of (tenant_ref, start[, id]) with its total; `after=` continues from the last row's
 * (key, id) with no OFFSET and no total, so page 200 costs what page 1 does.
 */
#include <httpd.h>
#include <apr_strings.h>

#include "cc_api_private.h"
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

/* The first page: the page, its total, then the cursor's key and id (CC_LIST_KEYSET). */
#define CDRS_SEARCH(hint, key, order)                                                   \
    "SELECT " CDR_COLUMNS ", (SELECT COUNT(*) FROM cdr c WHERE" CDRS_FILTER ") AS total," \
    " " key ", c.id FROM cdr c" hint " WHERE" CDRS_FILTER " ORDER BY " order            \
    " LIMIT %s OFFSET %s"

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

static const cc_list_t cdrs_list_spec = { "cc_cdrs", cdr_sorts, "-calldate", cdr_cols,
                                           cdr_filters,
                                           CC_LIST_SEARCH_ONLY | CC_LIST_KEYSET
                                           | CC_LIST_CSV };

static const cc_route_t cdrs_routes[] = {
    { "GET", "/api/v1/cdrs", cc_handle_list, "cdrs.read", CC_ROUTE_AUTH },
    { "GET", "/api/v1/cdrs/{id:int}", cc_handle_get, "cdrs.read", CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_cdrs_domain = { "cdrs", cdrs_routes, cdrs_stmts, &cdrs_list_spec,
                                     "cc_cdrs_get", cdr_cols };
