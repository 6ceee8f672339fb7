/**
 * @file cc_cdr_stats_rules.h
 * @brief (core) The pure part of GET /api/v1/cdrs/stats: the query parameters, the time
 *        zone (a TZif file from the system's zoneinfo, parsed here: APR has no zone
 *        database and switching TZ for localtime_r is not thread-safe), the zone's
 *        constant-offset periods of the window, and the folding of the statement's rows
 *        into keyed, sorted groups and totals.  No httpd and no database: unit-tested
 *        (t/unit/test_cc_cdr_stats_rules.c); mod_callcenter/cc_cdr_stats.c is its glue.
 */
#ifndef CC_CDR_STATS_RULES_H
#define CC_CDR_STATS_RULES_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "cc_error.h"

#define CC_CDRSTATS_FROM      "from"
#define CC_CDRSTATS_TO        "to"
#define CC_CDRSTATS_GROUP_BY  "group_by"
#define CC_CDRSTATS_TZ        "tz"

/** The window: 24 hours before `to` when from is absent (to: now); at most 366 days. */

/** Where zone names are looked up (Debian's tzdata). */
#define CC_CDRSTATS_ZONEINFO  "/usr/share/zoneinfo"
/** A zone file larger than this is not one (the largest tzdata file is ~4 KB). */
#define CC_CDRSTATS_TZIF_MAX  (64 * 1024)

typedef enum {
    CDRSTATS_HOUR, CDRSTATS_DAY, CDRSTATS_QUEUE, CDRSTATS_AGENT, CDRSTATS_DID,
    CDRSTATS_DISPOSITION
} cdrstats_group_t;

/** The checked query: the window in seconds since the epoch, from inclusive. */
typedef struct cdrstats_query_t {
    cdrstats_group_t group_by;
    apr_int64_t from;
    apr_int64_t to;
    const char *tz;          /**< the zone's name, NULL without tz= (UTC, "Z" keys) */
} cdrstats_query_t;

/**
 * Read ?from, ?to, ?group_by (required) and ?tz (args may be NULL), now for the defaults.
 * A 400 naming every parameter that does not fit: a time that is not RFC 3339, a
 * group_by not in the list, a tz that is not a well-formed zone name (whether the zone
 * exists is the glue's: its file), from not before to, a window over 366 days.
 */
cc_error_t *cc_cdrstats_query_read(apr_pool_t *p, apr_table_t *args, apr_int64_t now,
                                   cdrstats_query_t *q);

/** name could be a zone of the zoneinfo tree: 1..64 of [A-Za-z0-9_+-], '/'-separated
 * parts none empty nor starting with '.' (so the path never leaves the tree). */
int cc_cdrstats_tz_name_ok(const char *name);

/** A zone: its transitions (UTC seconds, ascending) and the offset from each on. */
typedef struct cc_tzinfo_t {
    int ntrans;
    apr_int64_t *at;
    apr_int32_t *off;        /**< seconds east of UTC from at[i] on */
    apr_int32_t off0;        /**< before the first transition (time type 0) */
    int rules_after;         /**< the footer has DST rules: times after the last
                                  transition are not covered by the table */
} cc_tzinfo_t;

/** Parse a TZif file (RFC 8536, versions 1..4; the 64-bit data when there is any).
 * 0 when it is not one, or carries leap seconds ("right/" zones). */
int cc_tzif_parse(apr_pool_t *p, const unsigned char *buf, apr_size_t len, cc_tzinfo_t *tz);

/** A part of the window in which the zone's offset is constant. */
typedef struct cdrstats_period_t {
    apr_int64_t from;        /**< UTC seconds, inclusive */
    apr_int64_t to;          /**< exclusive */
    apr_int32_t offset;      /**< seconds east of UTC */
} cdrstats_period_t;

/**
 * The window [from, to) cut at the zone's offset changes (tz NULL: one period, offset
 * 0); adjacent periods with one offset are merged.  NULL when the window reaches past
 * the zone's table and the zone has DST rules after it (a "slim" TZif file; Debian's
 * are "fat", covering up to 2037).
 */
apr_array_header_t *cc_cdrstats_periods(apr_pool_t *p, const cc_tzinfo_t *tz,
                                        apr_int64_t from, apr_int64_t to);

/** The sums each statement row carries after its key, in this order. */
enum {
    CDRSTATS_CALLS, CDRSTATS_ANSWERED, CDRSTATS_BILLSEC, CDRSTATS_ANS_BILLSEC,
    CDRSTATS_ANS_WAIT, CDRSTATS_NSUMS
};

/** MariaDB's TO_SECONDS('1970-01-01'): the statement buckets TO_SECONDS(start) + offset
 * (positive for every DATETIME) by 3600 or 86400, both of which divide it. */
#define CC_CDRSTATS_EPOCH_TO_SECONDS APR_INT64_C(62167219200)

typedef struct cdrstats_acc_t cdrstats_acc_t;

/** An empty set of groups for q (zoned: tz= given, hour keys carry the offset). */
cdrstats_acc_t *cc_cdrstats_acc(apr_pool_t *p, const cdrstats_query_t *q);

/** Add a time row (hour/day): bucket = (TO_SECONDS(start) + offset) DIV unit, read in a
 * period whose offset it was. 0 when the bucket is outside years 1..9999. */
int cc_cdrstats_add_bucket(cdrstats_acc_t *a, apr_int64_t bucket, apr_int32_t offset,
                           const apr_int64_t *sums);

/** Add a keyed row (queue/agent/did/disposition); key NULL is the null group. */
void cc_cdrstats_add_key(cdrstats_acc_t *a, const char *key, const apr_int64_t *sums);

/**
 * The answer: {"totals":{...},"groups":[{"key":...,...}]}, groups in key order: null
 * first; hour and day by time (hour keys of a repeated local hour: the earlier instant
 * first); agent ids by number; queue, did and disposition by bytes.
 */
const char *cc_cdrstats_json(cdrstats_acc_t *a);

/**
 * The summary tables (sql/011) hold whole buckets of CC_CDR_ROLLUP_TIME_STEP (per
 * disposition and direction) or CC_CDR_ROLLUP_KEY_STEP seconds (per queue, agent, did),
 * from CC_CDR_ROLLUP_MIN on.  cc_cdr_rollup_split cuts [from, to) (either may be
 * CC_CDR_NO_FROM / CC_CDR_NO_TO: unbounded) into the whole buckets [*plo, *phi) (empty
 * when equal; *phi is CC_CDR_NO_TO when to is) and the edges [from, *plo) and
 * [*phi, to), which are read from cdr itself: the three add up to the window exactly.
 */
#define CC_CDR_ROLLUP_TIME_STEP 900
#define CC_CDR_ROLLUP_KEY_STEP  3600
/** 1000-01-01 00:00:00 UTC: DATETIME's supported range starts there. */
#define CC_CDR_ROLLUP_MIN       APR_INT64_C(-30610224000)
#define CC_CDR_NO_FROM          APR_INT64_MIN
#define CC_CDR_NO_TO            APR_INT64_MAX

void cc_cdr_rollup_split(apr_int64_t from, apr_int64_t to, apr_int64_t step,
                         apr_int64_t *plo, apr_int64_t *phi);

/** The number of tz's transitions at or before t (a binary search): the offset in force
 * at t is off[n - 1], or off0 when n is 0. */
int cc_tz_trans_upto(const cc_tzinfo_t *tz, apr_int64_t t);

/** *poff: the offset of tz (NULL: UTC, 0) at t, seconds east of UTC: the one of the last
 * transition at or before t, time type 0's before the first.  0 when the zone's data does
 * not cover t (a slim file's DST rules after its table, as cc_cdrstats_periods).  p is
 * unused (no allocation: a binary search). */
int cc_tz_offset_at(apr_pool_t *p, const cc_tzinfo_t *tz, apr_int64_t t, apr_int32_t *poff);

/** The start of the local day of now in tz (NULL: UTC), as UTC seconds: local midnight
 * (a day that starts with a change of offset starts at the new offset).  0 when the
 * zone's data does not cover now. */
int cc_tz_local_midnight(apr_pool_t *p, const cc_tzinfo_t *tz, apr_int64_t now,
                         apr_int64_t *pmid);

/** The bucket unit in seconds for a time group_by (3600 or 86400). */
apr_int64_t cc_cdrstats_unit(cdrstats_group_t g);

#endif
