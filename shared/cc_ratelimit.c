/*
 * cc_ratelimit.c: GCRA over a shared table of keys (cc_ratelimit.h).
 */
#include <string.h>

#include <apr_atomic.h>

#include "cc_ratelimit.h"
#include "cc_validate.h"

apr_uint64_t cc_ratelimit_key(char kind, const char *s)
{
    apr_uint64_t h = 1469598103934665603ULL;

    h = (h ^ (unsigned char)kind) * 1099511628211ULL;
    for (; s && *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    }
    return h ? h : 1;
}

/* The emission interval (microseconds between requests at the sustained rate, >= 1). */
static apr_uint64_t interval(const cc_ratelimit_t *lim)
{
    apr_uint64_t t = (apr_uint64_t)apr_time_from_sec(lim->window) / (apr_uint64_t)lim->requests;

    return t ? t : 1;
}

/* The slot of key: its own, a free one taken, or one whose key owes nothing any more
 * (its TAT passed: a full bucket, as good as new) taken over; NULL when none is. */
static cc_ratelimit_slot_t *slot_for(cc_ratelimit_slot_t *table, apr_uint64_t key,
                                     apr_time_t now)
{
    apr_size_t i, at = (apr_size_t)(key % CC_RATELIMIT_SLOTS);

    /* Its own slot first, wherever along the probes: one freed before it must not give
     * it a fresh bucket. */
    for (i = 0; i < CC_RATELIMIT_PROBES; i++) {
        cc_ratelimit_slot_t *s = &table[(at + i) % CC_RATELIMIT_SLOTS];

        if (apr_atomic_read64(&s->key) == key) {
            return s;
        }
    }
    for (i = 0; i < CC_RATELIMIT_PROBES; i++) {
        cc_ratelimit_slot_t *s = &table[(at + i) % CC_RATELIMIT_SLOTS];
        apr_uint64_t k = apr_atomic_read64(&s->key);

        if (k == key) {
            return s;
        }
        if (k == 0 && apr_atomic_cas64(&s->key, key, 0) == 0) {
            return s;
        }
        if (k != 0 && apr_atomic_read64(&s->tat) < (apr_uint64_t)now
            && apr_atomic_cas64(&s->key, key, k) == k) {
            /* Its old key's bucket was full: the new key starts the same way. */
            apr_atomic_set64(&s->tat, 0);
            return s;
        }
        if (apr_atomic_read64(&s->key) == key) {
            return s;       /* another child took it for this key meanwhile */
        }
    }
    return NULL;
}

int cc_ratelimit_take(cc_ratelimit_slot_t *table, apr_uint64_t key,
                      const cc_ratelimit_t *lim, apr_time_t now, cc_ratelimit_result_t *res)
{
    cc_ratelimit_slot_t *s = slot_for(table, key, now);
    apr_uint64_t t = interval(lim), tolerance = t * (apr_uint64_t)lim->burst;
    apr_uint64_t n = (apr_uint64_t)now;

    if (!s) {
        return -1;
    }
    for (;;) {
        apr_uint64_t tat = apr_atomic_read64(&s->tat);
        apr_uint64_t from = tat > n ? tat : n, next = from + t;

        if (next - n > tolerance) {
            /* Refused: one more is admitted once next - tolerance has come. */
            apr_uint64_t wait = next - n - tolerance;

            res->admitted = 0;
            res->remaining = 0;
            res->reset = (apr_int64_t)((tat - n + APR_USEC_PER_SEC - 1) / APR_USEC_PER_SEC);
            res->retry_after = (apr_int64_t)((wait + APR_USEC_PER_SEC - 1) / APR_USEC_PER_SEC);
            if (res->retry_after < 1) {
                res->retry_after = 1;
            }
            return 0;
        }
        if (apr_atomic_cas64(&s->tat, next, tat) == tat) {
            res->admitted = 1;
            res->remaining = (apr_int64_t)((tolerance - (next - n)) / t);
            res->reset = (apr_int64_t)((next - n + APR_USEC_PER_SEC - 1) / APR_USEC_PER_SEC);
            res->retry_after = 0;
            return 0;
        }
    }
}

void cc_ratelimit_refund(cc_ratelimit_slot_t *table, apr_uint64_t key,
                         const cc_ratelimit_t *lim)
{
    apr_size_t i, at = (apr_size_t)(key % CC_RATELIMIT_SLOTS);
    apr_uint64_t t = interval(lim);

    for (i = 0; i < CC_RATELIMIT_PROBES; i++) {
        cc_ratelimit_slot_t *s = &table[(at + i) % CC_RATELIMIT_SLOTS];

        if (apr_atomic_read64(&s->key) == key) {
            for (;;) {
                apr_uint64_t tat = apr_atomic_read64(&s->tat);

                if (apr_atomic_cas64(&s->tat, tat > t ? tat - t : 0, tat) == tat) {
                    return;
                }
            }
        }
    }
}

const char *cc_ratelimit_parse(const char *requests, const char *window, const char *burst,
                               cc_ratelimit_t *lim)
{
    lim->set = 1;
    if (!window && !burst && requests && !strcmp(requests, "off")) {
        lim->requests = 0;
        return NULL;
    }
    if (!window) {
        return "takes requests, a window in seconds and an optional burst, or off";
    }
    if (!cc_parse_int(requests, 1, 1000000000, &lim->requests)) {
        return "requests must be a number from 1 to 1000000000";
    }
    if (!cc_parse_int(window, 1, 86400, &lim->window)) {
        return "the window must be a number of seconds from 1 to 86400";
    }
    if (!burst) {
        lim->burst = lim->requests;
    }
    else if (!cc_parse_int(burst, 1, 1000000000, &lim->burst)) {
        return "the burst must be a number from 1 to 1000000000";
    }
    /* The bucket's depth in microseconds (burst x window / requests) must fit in 62 bits:
     * at most ~146 years' worth. */
    if ((double)lim->burst * (double)lim->window / (double)lim->requests > 4.6e12) {
        return "the burst is too large for the rate (burst x window / requests must stay"
               " under 4.6e12 seconds)";
    }
    return NULL;
}
