/**
 * @file cc_queue_members_rules.h
 * @brief (core) The pure part of /api/v1/queues/{id}/members: what a body may say, how a
 *        change applies to a member, what it changes.  No httpd and no database:
 *        unit-tested (t/unit/test_cc_queue_members_rules.c); mod_callcenter/
 *        cc_queue_members.c is its glue.
 */
#ifndef CC_QUEUE_MEMBERS_RULES_H
#define CC_QUEUE_MEMBERS_RULES_H

#include <apr_pools.h>
#include <jansson.h>
#include "cc_error.h"

#define CC_KEY_QUEUE_ID      "queue_id"
#define CC_KEY_USER_ID       "user_id"
#define CC_KEY_ENDPOINT_ID   "endpoint_id"
#define CC_KEY_INTERFACE     "interface"
#define CC_KEY_MEMBERNAME    "membername"
#define CC_KEY_PENALTY       "penalty"
#define CC_KEY_PAUSED        "paused"
#define CC_KEY_REASON        "paused_reason"

#define CC_PENALTY_MAX       1000
/* Ids are JSON integers; keep them exact in every client (2^53, as cc_parse_id). */
#define CC_REF_ID_MAX        APR_INT64_C(9007199254740992)

/* What a member body asks for; NULL members are absent. */
typedef struct member_input_t {
    const char *endpoint_id;
    const char *user_id;
    const char *penalty;
    const char *paused;          /* "0" / "1" */
    int has_reason;              /* paused_reason present (null included) */
    const char *reason;          /* NULL for null or "" */
} member_input_t;

/* A member's editable realtime values: penalty, paused "0"/"1", reason (NULL: none). */
typedef struct member_values_t {
    const char *penalty;
    const char *paused;
    const char *reason;
} member_values_t;

/**
 * A positive id field key of body (1..2^53) into *pout as decimal text (NULL when
 * absent); a bad one is added to err, which is returned.
 */
cc_error_t *cc_queue_members_read_ref(apr_pool_t *p, json_t *body, const char *key,
                                      cc_error_t *err, const char **pout);

/** Validate whatever member fields body carries (types already checked) into *in; every
 *  problem at once.  "" and null both read as no paused_reason. */
cc_error_t *cc_queue_members_input_read(apr_pool_t *p, json_t *body, member_input_t *in);

/**
 * The member cur becomes with in applied, into *out: penalty and paused as given, the
 * reason as given, else cleared when the member is unpaused (a reason explains a pause),
 * else kept.
 */
void cc_queue_members_merge(const member_values_t *cur, const member_input_t *in,
                            member_values_t *out);

/** {"field": {"from": old, "to": new}} for each member field that changes (paused as a
 *  boolean), owned by p. */
json_t *cc_queue_members_diff(apr_pool_t *p, const member_values_t *a,
                              const member_values_t *b);

#endif
