/**
 * @file cc_retry.c
 * @brief (core) Lock conflicts and the pauses between a handler's runs (cc_retry.h).
 */
#include "cc_retry.h"

int cc_retry_is_lock_conflict(int db_errno)
{
    return db_errno == CC_DB_ER_LOCK_WAIT_TIMEOUT || db_errno == CC_DB_ER_LOCK_DEADLOCK;
}

const char *cc_retry_conflict_name(int db_errno)
{
    switch (db_errno) {
    case CC_DB_ER_LOCK_DEADLOCK:     return "deadlock";
    case CC_DB_ER_LOCK_WAIT_TIMEOUT: return "lock wait timeout";
    default:                         return "error";
    }
}

apr_interval_time_t cc_retry_backoff(int attempt, apr_uint32_t rnd)
{
    apr_interval_time_t base = CC_RETRY_BASE_USEC;
    apr_interval_time_t half;

    while (--attempt > 0 && base < CC_RETRY_MAX_USEC) {
        base *= 2;
    }
    if (base > CC_RETRY_MAX_USEC) {
        base = CC_RETRY_MAX_USEC;
    }
    half = base / 2;
    return half + (apr_interval_time_t)(rnd % (apr_uint32_t)(half + 1));
}

int cc_retry_again(int attempt, apr_interval_time_t spent)
{
    return attempt >= 1 && attempt < CC_RETRY_ATTEMPTS && spent >= 0
           && spent < CC_RETRY_BUDGET_USEC;
}

apr_int64_t cc_backoff_seconds(int attempts, apr_int64_t base, apr_int64_t cap)
{
    apr_int64_t d = base > 0 ? base : 1;

    while (--attempts > 0 && d < cap) {
        d *= 2;
    }
    return d > cap ? cap : d;
}
