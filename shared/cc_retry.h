/**
 * @file cc_retry.h
 * @brief (core) Lock conflicts: which database errors are one, and how often and how far
 *        apart cc_dispatch runs a handler again after one.
 *
 * InnoDB answers a deadlock with 1213 (ER_LOCK_DEADLOCK: MariaDB has rolled back the
 * whole transaction) and a lock wait past innodb_lock_wait_timeout with 1205
 * (ER_LOCK_WAIT_TIMEOUT: with innodb_rollback_on_timeout off, the default, only the
 * statement is rolled back and the transaction stays open).  Both are normal under
 * contention: rolled back and run again a moment later, the transaction usually goes
 * through.  The pauses grow and are randomised so that the requests that collided do not
 * collide again in step.
 */
#ifndef CC_RETRY_H
#define CC_RETRY_H

#include <apr.h>
#include <apr_time.h>

#define CC_DB_ER_LOCK_WAIT_TIMEOUT 1205
#define CC_DB_ER_LOCK_DEADLOCK     1213

/** Runs a handler gets in all, the first one included. */
#define CC_RETRY_ATTEMPTS 5
/** The pause after a first run: drawn from [base/2, base]; base doubles per run. */
#define CC_RETRY_BASE_USEC 4000
/** The largest base. */
#define CC_RETRY_MAX_USEC 100000
/**
 * No run starts once the runs so far took this long: a lock wait timeout costs
 * innodb_lock_wait_timeout (50 s by default) per run, so with that default it is
 * answered at once.
 */
#define CC_RETRY_BUDGET_USEC 5000000

/** db_errno (MySQL's) is a lock conflict: 1205 or 1213. */
int cc_retry_is_lock_conflict(int db_errno);

/** "deadlock", "lock wait timeout", or "error" (for the log). */
const char *cc_retry_conflict_name(int db_errno);

/**
 * The pause after run number attempt (1 for the first) failed on a lock conflict, with
 * rnd a random number: base = CC_RETRY_BASE_USEC << (attempt - 1), at most
 * CC_RETRY_MAX_USEC; the pause is base/2 + rnd % (base/2 + 1).
 */
apr_interval_time_t cc_retry_backoff(int attempt, apr_uint32_t rnd);

/**
 * Run number attempt failed on a lock conflict after the runs so far took spent: is
 * another run due (attempt < CC_RETRY_ATTEMPTS and spent < CC_RETRY_BUDGET_USEC)?
 */
int cc_retry_again(int attempt, apr_interval_time_t spent);

/**
 * Seconds before the next attempt of a background delivery (an SMS, a webhook call) after
 * attempts (1 for the first) failed: base doubled per earlier attempt, at most cap.
 */
apr_int64_t cc_backoff_seconds(int attempts, apr_int64_t base, apr_int64_t cap);

#endif
