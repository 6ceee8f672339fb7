/*
 * cc_cdr_stats_rules.c: the pure part of GET /api/v1/cdrs/stats (see
 * cc_cdr_stats_rules.h; the query design is in cc_cdr_stats.c's file comment).
 */
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "cc_cdr_stats_rules.h"
#include "cc_jsonw.h"
#include "cc_queue_stats_rules.h"
#include "cc_validate.h"

static const char *const group_names[] = { "hour", "day", "queue", "agent", "did",
                                           "disposition", NULL };

/* ---- the query ---- */

int cc_cdrstats_tz_name_ok(const char *name)
{
    const char *s;
    int at_part_start = 1;

    if (!name || !*name || strlen(name) > 64) {
        return 0;
    }
    for (s = name; *s; s++) {
        if (*s == '/') {
            if (at_part_start) {
                return 0;            /* leading '/' or "//" */
            }
            at_part_start = 1;
            continue;
        }
        if (at_part_start && *s == '.') {
            return 0;                /* ".", ".." and hidden files */
        }
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
              (*s >= '0' && *s <= '9') || *s == '_' || *s == '+' || *s == '-' ||
              *s == '.')) {
            return 0;
        }
        at_part_start = 0;
    }
    return !at_part_start;           /* no trailing '/' */
}

cc_error_t *cc_cdrstats_query_read(apr_pool_t *p, apr_table_t *args, apr_int64_t now,
                                   cdrstats_query_t *q)
{
    const char *g = args ? apr_table_get(args, CC_CDRSTATS_GROUP_BY) : NULL;
    const char *tz = args ? apr_table_get(args, CC_CDRSTATS_TZ) : NULL;
    apr_int64_t from = 0, to = now;
    int from_given, to_given, i;
    cc_error_t *err = NULL;

    err = cc_qstats_read_time(p, err, args, CC_CDRSTATS_FROM, &from_given, &from);
    err = cc_qstats_read_time(p, err, args, CC_CDRSTATS_TO, &to_given, &to);
    q->group_by = CDRSTATS_HOUR;
    for (i = 0; g && group_names[i] && strcmp(group_names[i], g) != 0; i++) {
    }
    if (!g || !group_names[i]) {
        err = cc_error_collect(p, err, CC_CDRSTATS_GROUP_BY,
                               "must be one of hour, day, queue, agent, did, disposition");
    }
    else {
        q->group_by = (cdrstats_group_t)i;
    }
    if (tz && !cc_cdrstats_tz_name_ok(tz)) {
        err = cc_error_collect(p, err, CC_CDRSTATS_TZ,
                               "must be an IANA time zone, e.g. Europe/Berlin");
    }
    /* The same window rules as queue statistics. */
    if (err || (err = cc_qstats_window(p, from_given, to, &from))) {
        return err;
    }
    if (!cc_epoch_to_sql(p, from) || !cc_epoch_to_sql(p, to)) {
        /* Only the default from can leave the years 1..9999. */
        return cc_error_collect(p, NULL, CC_CDRSTATS_FROM, "out of range");
    }
    q->from = from;
    q->to = to;
    q->tz = tz;
    return NULL;
}

/* ---- TZif (RFC 8536) ---- */

static apr_int64_t be32(const unsigned char *b)
{
    return (apr_int32_t)(((apr_uint32_t)b[0] << 24) | ((apr_uint32_t)b[1] << 16) |
                         ((apr_uint32_t)b[2] << 8) | (apr_uint32_t)b[3]);
}

static apr_int64_t be64(const unsigned char *b)
{
    apr_uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++) {
        v = (v << 8) | b[i];
    }
    return (apr_int64_t)v;
}

typedef struct tzif_hdr_t {
    apr_size_t isut, isstd, leap, time, type, chars;
} tzif_hdr_t;

static int read_hdr(const unsigned char *buf, apr_size_t len, apr_size_t at,
                    tzif_hdr_t *h)
{
    const unsigned char *b = buf + at;
    apr_int64_t c[6];
    int i;

    if (len < at + 44 || memcmp(b, "TZif", 4) != 0) {
        return 0;
    }
    for (i = 0; i < 6; i++) {
        c[i] = be32(b + 20 + 4 * i);
        if (c[i] < 0 || c[i] > 100000) {
            return 0;
        }
    }
    h->isut = (apr_size_t)c[0];
    h->isstd = (apr_size_t)c[1];
    h->leap = (apr_size_t)c[2];
    h->time = (apr_size_t)c[3];
    h->type = (apr_size_t)c[4];
    h->chars = (apr_size_t)c[5];
    return 1;
}

static apr_size_t block_size(const tzif_hdr_t *h, apr_size_t tsize)
{
    return h->time * tsize + h->time + h->type * 6 + h->chars + h->leap * (tsize + 4) +
           h->isstd + h->isut;
}

int cc_tzif_parse(apr_pool_t *p, const unsigned char *buf, apr_size_t len, cc_tzinfo_t *tz)
{
    tzif_hdr_t h;
    apr_size_t at = 0, tsize = 4, i;
    const unsigned char *times, *idx, *types;

    if (!read_hdr(buf, len, 0, &h)) {
        return 0;
    }
    if (buf[4] >= '2') {
        at = 44 + block_size(&h, 4);
        if (!read_hdr(buf, len, at, &h)) {
            return 0;
        }
        tsize = 8;
    }
    at += 44;
    if (h.type == 0 || h.leap != 0 || len < at + block_size(&h, tsize)) {
        return 0;
    }
    times = buf + at;
    idx = times + h.time * tsize;
    types = idx + h.time;
    tz->ntrans = (int)h.time;
    tz->at = apr_palloc(p, (h.time + 1) * sizeof(*tz->at));
    tz->off = apr_palloc(p, (h.time + 1) * sizeof(*tz->off));
    tz->off0 = (apr_int32_t)be32(types);
    for (i = 0; i < h.time; i++) {
        tz->at[i] = tsize == 8 ? be64(times + 8 * i) : be32(times + 4 * i);
        if (idx[i] >= h.type || (i > 0 && tz->at[i] <= tz->at[i - 1])) {
            return 0;
        }
        tz->off[i] = (apr_int32_t)be32(types + 6 * idx[i]);
    }
    for (i = 0; i < h.type; i++) {
        apr_int64_t o = be32(types + 6 * i);
        if (o < -25 * 3600 || o > 26 * 3600) {
            return 0;
        }
    }
    /* The footer ("\n<POSIX TZ>\n"): DST rules are what follow its first comma. */
    tz->rules_after = 0;
    if (tsize == 8) {
        const unsigned char *f = buf + at + block_size(&h, tsize), *e = buf + len;
        if (f < e && *f == '\n') {
            for (f++; f < e && *f != '\n'; f++) {
                if (*f == ',') {
                    tz->rules_after = 1;
                }
            }
        }
    }
    return 1;
}

apr_array_header_t *cc_cdrstats_periods(apr_pool_t *p, const cc_tzinfo_t *tz,
                                        apr_int64_t from, apr_int64_t to)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(cdrstats_period_t));
    cdrstats_period_t *cur;
    apr_int32_t off;
    int i;

    if (!tz) {
        cur = apr_array_push(out);
        cur->from = from;
        cur->to = to;
        cur->offset = 0;
        return out;
    }
    if (tz->rules_after && (tz->ntrans == 0 || to > tz->at[tz->ntrans - 1])) {
        return NULL;
    }
    /* The offset in force at from: the last transition at or before it. */
    off = tz->off0;
    for (i = 0; i < tz->ntrans && tz->at[i] <= from; i++) {
        off = tz->off[i];
    }
    cur = apr_array_push(out);
    cur->from = from;
    cur->offset = off;
    for (; i < tz->ntrans && tz->at[i] < to; i++) {
        if (tz->off[i] == cur->offset) {
            continue;                /* only the abbreviation or isdst changed */
        }
        cur->to = tz->at[i];
        cur = apr_array_push(out);
        cur->from = tz->at[i];
        cur->offset = tz->off[i];
    }
    cur->to = to;
    return out;
}

/* ---- groups ---- */

typedef struct group_t {
    const char *key;         /**< NULL: the null group */
    apr_int64_t order;       /**< hour: the instant; day: local midnight; agent: id */
    apr_int64_t sums[CDRSTATS_NSUMS];
} group_t;

struct cdrstats_acc_t {
    apr_pool_t *pool;
    const cdrstats_query_t *q;
    apr_hash_t *groups;      /**< key ("" for null: no real key is empty) -> group_t */
};

cdrstats_acc_t *cc_cdrstats_acc(apr_pool_t *p, const cdrstats_query_t *q)
{
    cdrstats_acc_t *a = apr_pcalloc(p, sizeof(*a));

    a->pool = p;
    a->q = q;
    a->groups = apr_hash_make(p);
    return a;
}

/* x rounded down / up to a multiple of step (x may be negative). */
static apr_int64_t floor_to(apr_int64_t x, apr_int64_t step)
{
    apr_int64_t q = x / step;

    return (q - (x % step < 0)) * step;
}

void cc_cdr_rollup_split(apr_int64_t from, apr_int64_t to, apr_int64_t step,
                         apr_int64_t *plo, apr_int64_t *phi)
{
    apr_int64_t lo = from < CC_CDR_ROLLUP_MIN ? CC_CDR_ROLLUP_MIN : from;

    lo = floor_to(lo + step - 1, step);
    if (to != CC_CDR_NO_TO && lo > to) {
        lo = to;
    }
    *plo = lo;
    if (to == CC_CDR_NO_TO) {
        *phi = CC_CDR_NO_TO;
    }
    else {
        *phi = floor_to(to, step) < lo ? lo : floor_to(to, step);
    }
}

int cc_tz_trans_upto(const cc_tzinfo_t *tz, apr_int64_t t)
{
    int lo = 0, hi = tz->ntrans;

    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;

        if (tz->at[mid] <= t) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return lo;
}

int cc_tz_offset_at(apr_pool_t *p, const cc_tzinfo_t *tz, apr_int64_t t, apr_int32_t *poff)
{
    int n;

    (void)p;
    if (!tz) {
        *poff = 0;
        return 1;
    }
    /* Not covered: as cc_cdrstats_periods for the window [t, t + 1). */
    if (tz->rules_after && (tz->ntrans == 0 || t >= tz->at[tz->ntrans - 1])) {
        return 0;
    }
    n = cc_tz_trans_upto(tz, t);
    *poff = n ? tz->off[n - 1] : tz->off0;
    return 1;
}

int cc_tz_local_midnight(apr_pool_t *p, const cc_tzinfo_t *tz, apr_int64_t now,
                         apr_int64_t *pmid)
{
    apr_int32_t off, off_mid;
    apr_int64_t local;

    if (!cc_tz_offset_at(p, tz, now, &off)) {
        return 0;
    }
    local = floor_to(now + off, 86400);
    /* Midnight may have had another offset than now (a change earlier today). */
    if (!cc_tz_offset_at(p, tz, local - off, &off_mid)) {
        return 0;
    }
    *pmid = local - off_mid;
    return 1;
}

apr_int64_t cc_cdrstats_unit(cdrstats_group_t g)
{
    return g == CDRSTATS_DAY ? 86400 : 3600;
}

static group_t *group_for(cdrstats_acc_t *a, const char *key, apr_int64_t order)
{
    const char *hkey = key ? key : "";
    group_t *g = apr_hash_get(a->groups, hkey, APR_HASH_KEY_STRING);

    if (!g) {
        g = apr_pcalloc(a->pool, sizeof(*g));
        g->key = key ? apr_pstrdup(a->pool, key) : NULL;
        g->order = order;
        apr_hash_set(a->groups, g->key ? g->key : "", APR_HASH_KEY_STRING, g);
    }
    return g;
}

static void add_sums(group_t *g, const apr_int64_t *sums)
{
    int i;

    for (i = 0; i < CDRSTATS_NSUMS; i++) {
        g->sums[i] += sums[i];
    }
}

/* "+05:30" (seconds too when the offset has them: local mean time before ~1900). */
static const char *offset_text(apr_pool_t *p, apr_int32_t off)
{
    char sign = off < 0 ? '-' : '+';
    apr_int32_t a = off < 0 ? -off : off;

    if (a % 60) {
        return apr_psprintf(p, "%c%02d:%02d:%02d", sign, a / 3600, a / 60 % 60, a % 60);
    }
    return apr_psprintf(p, "%c%02d:%02d", sign, a / 3600, a / 60 % 60);
}

int cc_cdrstats_add_bucket(cdrstats_acc_t *a, apr_int64_t bucket, apr_int32_t offset,
                           const apr_int64_t *sums)
{
    apr_int64_t local = bucket * cc_cdrstats_unit(a->q->group_by) -
                        CC_CDRSTATS_EPOCH_TO_SECONDS;
    apr_time_exp_t tm;
    const char *key;

    if (!cc_epoch_to_sql(a->pool, local)) {
        return 0;
    }
    /* local is the local wall time read as if it were UTC. */
    apr_time_exp_gmt(&tm, apr_time_from_sec(local));
    if (a->q->group_by == CDRSTATS_DAY) {
        key = apr_psprintf(a->pool, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                           tm.tm_mday);
        add_sums(group_for(a, key, local), sums);
    }
    else {
        key = apr_psprintf(a->pool, "%04d-%02d-%02dT%02d:00:00%s", tm.tm_year + 1900,
                           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                           a->q->tz ? offset_text(a->pool, offset) : "Z");
        add_sums(group_for(a, key, local - offset), sums);
    }
    return 1;
}

void cc_cdrstats_add_key(cdrstats_acc_t *a, const char *key, const apr_int64_t *sums)
{
    apr_int64_t order = 0;

    if (key && a->q->group_by == CDRSTATS_AGENT) {
        cc_parse_int(key, 0, APR_INT64_MAX, &order);
    }
    add_sums(group_for(a, key, order), sums);
}

static int by_key(const void *x, const void *y)
{
    const group_t *a = *(const group_t *const *)x, *b = *(const group_t *const *)y;

    if (!a->key || !b->key) {
        return (a->key != NULL) - (b->key != NULL);      /* null first */
    }
    if (a->order != b->order) {
        return a->order < b->order ? -1 : 1;
    }
    return strcmp(a->key, b->key);
}

static void write_fields(cc_jsonw_t *w, apr_pool_t *p, const apr_int64_t *v)
{
    cc_jsonw_key(w, "calls");
    cc_jsonw_int(w, v[CDRSTATS_CALLS]);
    cc_jsonw_lit(w, ",");
    cc_jsonw_key(w, "answered");
    cc_jsonw_int(w, v[CDRSTATS_ANSWERED]);
    cc_jsonw_lit(w, ",");
    cc_jsonw_key(w, "missed");
    cc_jsonw_int(w, v[CDRSTATS_CALLS] - v[CDRSTATS_ANSWERED]);
    cc_jsonw_lit(w, ",");
    cc_jsonw_key(w, "answer_rate");
    cc_jsonw_lit(w, cc_qstats_ratio(p, v[CDRSTATS_ANSWERED], v[CDRSTATS_CALLS]));
    cc_jsonw_lit(w, ",");
    cc_jsonw_key(w, "total_billsec");
    cc_jsonw_int(w, v[CDRSTATS_BILLSEC]);
    cc_jsonw_lit(w, ",");
    cc_jsonw_key(w, "avg_billsec");
    cc_jsonw_lit(w, cc_qstats_ratio(p, v[CDRSTATS_ANS_BILLSEC], v[CDRSTATS_ANSWERED]));
    cc_jsonw_lit(w, ",");
    cc_jsonw_key(w, "avg_wait");
    cc_jsonw_lit(w, cc_qstats_ratio(p, v[CDRSTATS_ANS_WAIT], v[CDRSTATS_ANSWERED]));
}

const char *cc_cdrstats_json(cdrstats_acc_t *a)
{
    apr_array_header_t *list = apr_array_make(a->pool, 64, sizeof(group_t *));
    apr_int64_t totals[CDRSTATS_NSUMS] = { 0 };
    apr_hash_index_t *hi;
    group_t **gs;
    cc_jsonw_t w;
    int i, j;

    for (hi = apr_hash_first(a->pool, a->groups); hi; hi = apr_hash_next(hi)) {
        group_t *g = apr_hash_this_val(hi);
        *(group_t **)apr_array_push(list) = g;
        for (j = 0; j < CDRSTATS_NSUMS; j++) {
            totals[j] += g->sums[j];
        }
    }
    gs = (group_t **)list->elts;
    if (list->nelts > 1) {
        qsort(gs, (size_t)list->nelts, sizeof(*gs), by_key);
    }
    cc_jsonw_init(&w, a->pool, 256 + 200 * (apr_size_t)list->nelts);
    cc_jsonw_lit(&w, "{\"totals\":{");
    write_fields(&w, a->pool, totals);
    cc_jsonw_lit(&w, "},\"groups\":[");
    for (i = 0; i < list->nelts; i++) {
        cc_jsonw_lit(&w, i ? ",{" : "{");
        cc_jsonw_key(&w, "key");
        cc_jsonw_str(&w, gs[i]->key);
        cc_jsonw_lit(&w, ",");
        write_fields(&w, a->pool, gs[i]->sums);
        cc_jsonw_lit(&w, "}");
    }
    cc_jsonw_lit(&w, "]}");
    return cc_jsonw_text(&w);
}
