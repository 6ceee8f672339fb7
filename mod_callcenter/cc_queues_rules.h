/**
 * @file cc_queues_rules.h
 * @brief (core) The pure part of /api/v1/queues: what a body may say, how a change
 *        applies to a queue, what it changes.  No httpd and no database: unit-tested
 *        (t/unit/test_cc_queues_rules.c); mod_callcenter/cc_queues.c is its glue.
 */
#ifndef CC_QUEUES_RULES_H
#define CC_QUEUES_RULES_H

#include <apr_pools.h>
#include <jansson.h>
#include "cc_error.h"

#define CC_KEY_NAME          "name"
#define CC_KEY_ASTERISK_NAME "asterisk_name"
#define CC_KEY_STRATEGY      "strategy"
#define CC_KEY_TIMEOUT       "timeout"
#define CC_KEY_WRAPUPTIME    "wrapuptime"
#define CC_KEY_MAXLEN        "maxlen"
#define CC_KEY_SERVICE_LEVEL "service_level"
#define CC_KEY_MOH           "music_on_hold"

#define CC_QUEUE_NAME_MAX    80    /* call_queues.name VARCHAR(80) */

/* The integer settings of the realtime queues row: timeout, wrapuptime, maxlen,
 * service_level, in that order (queue_values_t.ints). */
#define QUEUE_NINTS 4

/** The values of strategy (app_queue's). */
extern const char *const queue_strategies[];

/* A queue's writable values, as statement arguments (decimal text for the integers);
 * NULL members are absent (input) or unknown (a missing realtime row). */
typedef struct queue_values_t {
    const char *name;
    const char *strategy;
    const char *ints[QUEUE_NINTS];   /* timeout, wrapuptime, maxlen, service_level */
    const char *moh;
} queue_values_t;

/** A new queue's settings where the body gives none (API.md; strategy as Asterisk's). */
extern const queue_values_t cc_queues_defaults;

/**
 * A queue name: 1..80 characters, none of them control characters (tabs and line breaks
 * included: the name shows on wallboards and in reports, one line).
 */
int cc_queues_valid_name(const char *s);

/** Validate whatever queue fields body carries into *in (absent ones NULL); every
 *  problem at once. */
cc_error_t *cc_queues_input_read(apr_pool_t *p, json_t *body, queue_values_t *in);

/**
 * The music-on-hold class a write sets (moh: the body's, NULL when it names none) checked
 * against what the tenant (slug) may use: a class in globals (CCMusicOnHoldClasses,
 * NULL-terminated) or the tenant's own, "<key>-<name>" (cc_asterisk.h).  Only a new
 * value is checked: none, one equal to the queue's current class (cur, NULL for a new
 * queue), or one cc_queues_input_read already refused passes, so a queue whose class
 * the operator has since dropped from the list still reads and takes other changes.
 * Returns err (may be NULL) with a music_on_hold detail added when refused.
 */
cc_error_t *cc_queues_check_moh(apr_pool_t *p, cc_error_t *err, const char *slug,
                                const char *const *globals, const char *cur,
                                const char *moh);

/** cur with in's present values applied, into *out. */
void cc_queues_merge(const queue_values_t *cur, const queue_values_t *in, queue_values_t *out);

/** {"field": {"from": old, "to": new}} for each queue field that changes, owned by p. */
json_t *cc_queues_diff(apr_pool_t *p, const queue_values_t *a, const queue_values_t *b);

/** 1 when a realtime setting (anything but the name) differs between a and b. */
int cc_queues_realtime_changes(const queue_values_t *a, const queue_values_t *b);

/**
 * 409 when v would switch an existing queue (cur) to the linear strategy: app_queue
 * cannot turn a loaded queue into a linear one (on a realtime reload it logs "Changing
 * to the linear strategy currently requires asterisk to be restarted" and keeps the old
 * strategy), so it is chosen at creation.  NULL when cur has no strategy (the realtime
 * row is missing and the PATCH writes a new one).
 */
cc_error_t *cc_queues_check_strategy_change(apr_pool_t *p, const queue_values_t *cur,
                                            const queue_values_t *v);

#endif
