/*
 * cc_cdr_stats.c: GET /api/v1/cdrs/stats — call counts and times over a window, grouped
 * by hour, day, queue, agent, did or disposition (API.md "CDR"; the pure rules and the
 * time zone code: cc_cdr_stats_rules.c).
 *
 * What counts.  A call is a CDR row of the tenant (tenant_ref = the principal's tenant:
 * tenantid, else accountcode, sql/008) whose start is in [from, to); rows without a
 * start are no calls (the range excludes them).  answered: disposition ANSWERED;
 * missed = calls - answered; total_billsec: every call's billsec (NULL as 0);
 * avg_billsec and avg_wait over the answered calls (wait = duration - billsec, as in
 * the CDR object).  An empty string in queue, did or disposition is no value: such rows
 * are in the null group with the NULL ones.
 *
 * Time zones are computed here, not in MariaDB (no CONVERT_TZ, no time zone tables to
 * load): the zone's TZif file is read from the system's zoneinfo and the window is cut
 * where the zone's offset changes (cc_cdrstats_periods: one period without tz=, and at
 * most a few per year in any zone).  Within a period the offset is one number, so the
 * statement buckets (TO_SECONDS(start) + offset) DIV 3600 (or 86400): the local hour or
 * day, exactly, for any offset (+05:30 and +05:45 included), with no per-row zone
 * lookup.  An hour key carries its period's offset, so a local hour that happens twice
 * (the fall-back night) gives two groups; a day that spans a change is two rows of two
 * periods with one key, added together, so a day follows local midnight whatever its
 * length (23 or 25 hours).
 *
 * Performance.  The sums come from the summaries sql/011 keeps by triggers on cdr:
 * whole 15-minute buckets per disposition and direction (hour, day and disposition
 * groups) or whole hours per queue, agent or did; only the window's partial buckets at
 * either end are read from cdr, through the covering idx_cdr_ref_stats (sql/010).  A
 * month is then at most 2,880 buckets x the disposition/direction pairs seen (about
 * 35,000 summary rows for a busy tenant) instead of every call: one statement per
 * period (one for the keyed group_bys), grouping both sides together in SQL.  A
 * 15-minute bucket lies in one local hour for every offset that is a multiple of 15
 * minutes (all of today's zones); a period whose offset is not (local mean time in a
 * zone's early history) is read from cdr alone.
 */
#include <string.h>

#include <httpd.h>
#include <http_protocol.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "cc_api_private.h"
#include "cc_cdr_stats_rules.h"
#include "cc_validate.h"

/* ---- statements ---- */

/*
 * Each statement adds the summaries' whole buckets (sql/011) to the window's partial
 * buckets at either end, read from cdr, and groups the two in SQL (so a key is one
 * group by cdr's collation, whichever side it came from):
 *   rollup: the tenant, lo, hi (cc_cdr_rollup_split's whole buckets);
 *   edges:  the tenant, from, lo, hi, to (the two ranges read from cdr).
 * Groups whose summary rows were all taken back by deletes (zero calls) are left out.
 */
#define ROLLUP_SUMS                                                                     \
    " SUM(r.calls) AS n, SUM(r.answered) AS a, SUM(r.billsec) AS b,"                    \
    " SUM(r.ans_billsec) AS ab, SUM(r.ans_wait) AS aw"

#define CDR_SUMS                                                                        \
    " COUNT(*), SUM(c.disposition = 'ANSWERED'), SUM(COALESCE(c.billsec, 0)),"          \
    " SUM(IF(c.disposition = 'ANSWERED', COALESCE(c.billsec, 0), 0)),"                  \
    " SUM(IF(c.disposition = 'ANSWERED',"                                               \
    " COALESCE(c.duration, 0) - COALESCE(c.billsec, 0), 0))"

#define ROLLUP_TIME " FROM cdr_rollup_time r WHERE r.tenant_ref = %s"                  \
    " AND r.bucket >= %s AND r.bucket < %s GROUP BY 1"
#define ROLLUP_KEY(dim) " FROM cdr_rollup_key r WHERE r.tenant_ref = %s"                \
    " AND r.dim = '" dim "' AND r.hour >= %s AND r.hour < %s GROUP BY 1"

/* The index is forced: for group_by=queue or agent MariaDB would otherwise pick
 * (tenant_ref, queue, start) to avoid the temporary table and read the tenant's whole
 * history.  idx_cdr_ref_stats (sql/010) carries every column read here. */
#define EDGES                                                                           \
    " FROM cdr c FORCE INDEX (idx_cdr_ref_stats) WHERE c.tenant_ref = %s"               \
    " AND ((c.start >= %s AND c.start < %s) OR (c.start >= %s AND c.start < %s))"       \
    " GROUP BY 1"

#define STATS(rollup_key, rollup_from, cdr_key)                                         \
    "SELECT u.k, SUM(u.n), SUM(u.a), SUM(u.b), SUM(u.ab), SUM(u.aw) FROM ("             \
    "SELECT " rollup_key " AS k," ROLLUP_SUMS rollup_from                               \
    " UNION ALL SELECT " cdr_key "," CDR_SUMS EDGES                                     \
    ") u GROUP BY u.k HAVING SUM(u.n) <> 0"

/* The local hour or day: (TO_SECONDS(t) + offset) DIV unit; binds the offset and the
 * unit before each side's own arguments. */
#define BUCKET(t) "(TO_SECONDS(" t ") + CAST(%s AS SIGNED)) DIV CAST(%s AS SIGNED)"

static const cc_stmt_t cdr_stats_stmts[] = {
    CC_STMT("cc_cdr_stats_time", STATS(BUCKET("r.bucket"), ROLLUP_TIME, BUCKET("c.start"))),
    CC_STMT("cc_cdr_stats_queue",
            STATS("NULLIF(r.k, '')", ROLLUP_KEY("queue"), "NULLIF(c.queue, '')")),
    CC_STMT("cc_cdr_stats_agent",
            STATS("NULLIF(r.k, '')", ROLLUP_KEY("agent"),
                  "CAST(c.agent_id AS CHAR CHARACTER SET utf8mb4)"
                  " COLLATE utf8mb4_unicode_ci")),
    CC_STMT("cc_cdr_stats_did",
            STATS("NULLIF(r.k, '')", ROLLUP_KEY("did"), "NULLIF(c.did, '')")),
    CC_STMT("cc_cdr_stats_disposition",
            STATS("NULLIF(r.disposition, '')", ROLLUP_TIME, "NULLIF(c.disposition, '')")),
    CC_STMT_END
};

static const char *const keyed_labels[] = {
    [CDRSTATS_QUEUE] = "cc_cdr_stats_queue", [CDRSTATS_AGENT] = "cc_cdr_stats_agent",
    [CDRSTATS_DID] = "cc_cdr_stats_did", [CDRSTATS_DISPOSITION] = "cc_cdr_stats_disposition",
};

/* A row: the key (bucket number or text), then the sums. */
static const cc_col_t stats_cols[] = {
    { "k", CC_COL_STR },
    { "calls", CC_COL_INT },
    { "answered", CC_COL_INT },
    { "billsec", CC_COL_INT },
    { "ans_billsec", CC_COL_INT },
    { "ans_wait", CC_COL_INT },
    CC_COL_END
};

/* ---- the zone ---- */

cc_error_t *cc_tz_load(apr_pool_t *p, const char *tz, cc_tzinfo_t **pzone)
{
    const char *path = apr_pstrcat(p, CC_CDRSTATS_ZONEINFO "/", tz, NULL);
    unsigned char *buf = apr_palloc(p, CC_CDRSTATS_TZIF_MAX);
    apr_size_t len = CC_CDRSTATS_TZIF_MAX;
    apr_finfo_t fi;
    apr_file_t *f;
    cc_tzinfo_t *zone = apr_pcalloc(p, sizeof(*zone));
    apr_status_t rv;

    /* The name's shape keeps the path inside the tree (cc_cdrstats_tz_name_ok);
     * directories ("Europe") and the tree's other files are not zones. */
    if (!cc_cdrstats_tz_name_ok(tz)) {
        return cc_error_collect(p, NULL, CC_CDRSTATS_TZ, "must be an IANA time zone name");
    }
    if (apr_stat(&fi, path, APR_FINFO_TYPE, p) != APR_SUCCESS || fi.filetype != APR_REG
        || apr_file_open(&f, path, APR_FOPEN_READ, APR_OS_DEFAULT, p) != APR_SUCCESS) {
        return cc_error_collect(p, NULL, CC_CDRSTATS_TZ, "unknown time zone");
    }
    rv = apr_file_read_full(f, buf, len, &len);
    apr_file_close(f);
    if ((rv != APR_SUCCESS && rv != APR_EOF) || len == CC_CDRSTATS_TZIF_MAX
        || !cc_tzif_parse(p, buf, len, zone)) {
        return cc_error_collect(p, NULL, CC_CDRSTATS_TZ, "unknown time zone");
    }
    *pzone = zone;
    return NULL;
}

/* ---- handler ---- */

static cc_error_t *add_rows(cdrstats_acc_t *acc, json_t *rows, int timed,
                            apr_int32_t offset, apr_pool_t *p)
{
    size_t i;
    json_t *row;

    json_array_foreach(rows, i, row) {
        apr_int64_t sums[CDRSTATS_NSUMS], bucket;
        const char *key = json_string_value(json_object_get(row, "k"));
        int j;

        for (j = 0; j < CDRSTATS_NSUMS; j++) {
            json_t *v = json_object_get(row, stats_cols[j + 1].key);
            sums[j] = json_is_integer(v) ? (apr_int64_t)json_integer_value(v) : 0;
        }
        if (!timed) {
            cc_cdrstats_add_key(acc, key, sums);
        }
        else if (!key || !cc_parse_int(key, 0, APR_INT64_MAX, &bucket)
                 || !cc_cdrstats_add_bucket(acc, bucket, offset, sums)) {
            return cc_error_internal(p);
        }
    }
    return NULL;
}

/* The rows of one statement over [from, to) (one offset): the summaries' whole buckets
 * of step seconds plus cdr's rows at the edges; none from the summaries when a bucket
 * would straddle a local hour (an offset that is not a whole number of buckets). */
static cc_error_t *read_window(cc_ctx_t *ctx, const char *label, cdrstats_acc_t *acc,
                               int timed, apr_int64_t from, apr_int64_t to,
                               apr_int64_t step, apr_int32_t offset, apr_int64_t unit)
{
    apr_pool_t *p = ctx->pool;
    const char *args[12], *off = apr_itoa(p, (int)offset);
    const char *unit_s = apr_psprintf(p, "%" APR_INT64_T_FMT, unit);
    apr_int64_t lo, hi;
    json_t *rows;
    cc_error_t *err;
    int n = 0;

    cc_cdr_rollup_split(from, to, step, &lo, &hi);
    if (offset % step) {
        lo = hi = to;
    }
    if (timed) {
        args[n++] = off;
        args[n++] = unit_s;
    }
    args[n++] = ctx->principal->tenant_id;
    args[n++] = cc_epoch_to_sql(p, lo);
    args[n++] = cc_epoch_to_sql(p, hi);
    if (timed) {
        args[n++] = off;
        args[n++] = unit_s;
    }
    args[n++] = ctx->principal->tenant_id;
    args[n++] = cc_epoch_to_sql(p, from);
    args[n++] = cc_epoch_to_sql(p, lo);
    args[n++] = cc_epoch_to_sql(p, hi);
    args[n++] = cc_epoch_to_sql(p, to);
    if ((err = cc_db_select(ctx->db, label, stats_cols, n, args, &rows, NULL))) {
        return err;
    }
    return add_rows(acc, rows, timed, offset, p);
}

static cc_error_t *cdr_stats_get(cc_ctx_t *ctx)
{
    apr_pool_t *p = ctx->pool;
    cdrstats_query_t q;
    cc_tzinfo_t *zone = NULL;
    apr_array_header_t *periods;
    cdrstats_acc_t *acc;
    const char *json;
    cc_error_t *err;
    int i;

    if ((err = cc_cdrstats_query_read(p, ctx->args, apr_time_sec(apr_time_now()), &q))) {
        return err;
    }
    /* tz= is checked whatever the group_by (an unknown zone is always 400). */
    if (q.tz && (err = cc_tz_load(p, q.tz, &zone))) {
        return err;
    }
    acc = cc_cdrstats_acc(p, &q);
    if (q.group_by != CDRSTATS_HOUR && q.group_by != CDRSTATS_DAY) {
        if ((err = read_window(ctx, keyed_labels[q.group_by], acc, 0, q.from, q.to,
                               q.group_by == CDRSTATS_DISPOSITION ? CC_CDR_ROLLUP_TIME_STEP
                                                                  : CC_CDR_ROLLUP_KEY_STEP,
                               0, 0))) {
            return err;
        }
    }
    else {
        if (!(periods = cc_cdrstats_periods(p, zone, q.from, q.to))) {
            return cc_error_collect(p, NULL, CC_CDRSTATS_TZ,
                                    "the zone's data does not cover this window");
        }
        for (i = 0; i < periods->nelts; i++) {
            const cdrstats_period_t *pe = &APR_ARRAY_IDX(periods, i, cdrstats_period_t);

            if ((err = read_window(ctx, "cc_cdr_stats_time", acc, 1, pe->from, pe->to,
                                   CC_CDR_ROLLUP_TIME_STEP, pe->offset,
                                   cc_cdrstats_unit(q.group_by)))) {
                return err;
            }
        }
    }
    json = cc_cdrstats_json(acc);
    return cc_reply_text(ctx, HTTP_OK, json, strlen(json));
}

/* A literal path: the router tries it before /cdrs/{id:int} (which "stats" is not
 * anyway). */
static const cc_route_t cdr_stats_routes[] = {
    { "GET", "/api/v1/cdrs/stats", cdr_stats_get, "cdrs.read", CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_cdr_stats_domain = { "cdr-stats", cdr_stats_routes, cdr_stats_stmts,
                                          NULL, NULL, NULL };
