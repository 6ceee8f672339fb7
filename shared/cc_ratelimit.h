/**
 * @file cc_ratelimit.h
 * @brief (core) Rate limits per tenant and per token (API.md "Platform features"): the
 *        generic cell rate algorithm (GCRA, a token bucket kept as one number) over a
 *        table of keys in memory every httpd child of a node shares (cc_http.c makes it
 *        with cc_node_shm).  Lock-free: each key's state is one 64-bit word changed by
 *        compare-and-swap, so children never wait for each other.  No httpd:
 *        unit-tested (t/unit/test_cc_ratelimit.c).
 *
 * A limit is `requests` per `window` seconds with a `burst`: a key may send `burst`
 * requests at once, then one every window/requests seconds (its emission interval).  The
 * key's state is its theoretical arrival time (TAT): when its bucket is full again.  A
 * request at `now` is admitted when max(TAT, now) + interval - now <= burst * interval,
 * and moves TAT to max(TAT, now) + interval.
 */
#ifndef CC_RATELIMIT_H
#define CC_RATELIMIT_H

#include <apr.h>
#include <apr_time.h>

/** Keys the table holds (a slot is 16 bytes: 256 KiB). */
#define CC_RATELIMIT_SLOTS 16384
/** Slots looked at for a key before it is let through unlimited (the table is full of
 *  keys still in debt: logged by the caller). */
#define CC_RATELIMIT_PROBES 16

/** One limit (a directive's values). */
typedef struct cc_ratelimit_t {
    apr_int64_t requests;   /**< per window; 0: no limit */
    apr_int64_t window;     /**< seconds */
    apr_int64_t burst;      /**< at once (>= 1) */
    int set;                /**< the directive was given ("off" included) */
} cc_ratelimit_t;

typedef struct cc_ratelimit_slot_t {
    volatile apr_uint64_t key;   /**< 0: free */
    volatile apr_uint64_t tat;   /**< microseconds since the epoch */
} cc_ratelimit_slot_t;

/** What a check found. */
typedef struct cc_ratelimit_result_t {
    int admitted;
    apr_int64_t remaining;      /**< requests the key may still send at once */
    apr_int64_t reset;          /**< seconds until its bucket is full again */
    apr_int64_t retry_after;    /**< when refused: seconds until one request is admitted */
} cc_ratelimit_result_t;

/** The table's key for a kind ('t' tenant, 'k' token) and a string: 64-bit FNV-1a,
 *  never 0. */
apr_uint64_t cc_ratelimit_key(char kind, const char *s);

/**
 * Check and count one request of key under lim at now, in table (CC_RATELIMIT_SLOTS
 * slots).  Returns 0 and fills *res (admitted or not), or -1 when no slot could be had
 * (the request goes through; *res unset).
 */
int cc_ratelimit_take(cc_ratelimit_slot_t *table, apr_uint64_t key,
                      const cc_ratelimit_t *lim, apr_time_t now, cc_ratelimit_result_t *res);

/** Give back a request cc_ratelimit_take admitted for key (another limit refused it). */
void cc_ratelimit_refund(cc_ratelimit_slot_t *table, apr_uint64_t key,
                         const cc_ratelimit_t *lim);

/**
 * The directive's values: "requests window [burst]" (requests 1..10^9, window 1..86400
 * seconds, burst 1..10^9, by default requests), or "off" alone (no limit: requests 0).
 * NULL when valid, else what is wrong.
 */
const char *cc_ratelimit_parse(const char *requests, const char *window, const char *burst,
                               cc_ratelimit_t *lim);

#endif
