/*
 * cc_queue_members_rules.c (core): the pure part of /api/v1/queues/{id}/members
 * (cc_queue_members_rules.h).
 */
#include <string.h>

#include <apr_strings.h>

#include "cc_queue_members_rules.h"
#include "cc_asterisk.h"
#include "cc_json.h"

static const char *int_text(apr_pool_t *p, apr_int64_t v)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, v);
}

cc_error_t *cc_queue_members_read_ref(apr_pool_t *p, json_t *body, const char *key,
                                      cc_error_t *err, const char **pout)
{
    json_int_t v;

    *pout = NULL;
    if (!cc_json_has(body, key)) {
        return err;
    }
    v = cc_json_int(body, key, 0);
    if (v < 1 || v > CC_REF_ID_MAX) {
        return cc_error_collect(p, err, key, "must be a positive integer");
    }
    *pout = int_text(p, (apr_int64_t)v);
    return err;
}

cc_error_t *cc_queue_members_input_read(apr_pool_t *p, json_t *body, member_input_t *in)
{
    cc_error_t *err = NULL;

    memset(in, 0, sizeof(*in));
    err = cc_queue_members_read_ref(p, body, CC_KEY_ENDPOINT_ID, err, &in->endpoint_id);
    err = cc_queue_members_read_ref(p, body, CC_KEY_USER_ID, err, &in->user_id);
    if (cc_json_has(body, CC_KEY_PENALTY)) {
        json_int_t v = cc_json_int(body, CC_KEY_PENALTY, -1);

        if (v < 0 || v > CC_PENALTY_MAX) {
            err = cc_error_collect(p, err, CC_KEY_PENALTY, "must be an integer from 0 to 1000");
        }
        else {
            in->penalty = int_text(p, (apr_int64_t)v);
        }
    }
    if (cc_json_has(body, CC_KEY_PAUSED)) {
        in->paused = cc_json_bool(body, CC_KEY_PAUSED, 0) ? "1" : "0";
    }
    in->has_reason = cc_json_has(body, CC_KEY_REASON);
    in->reason = cc_json_str(body, CC_KEY_REASON);
    if (in->reason && !cc_ast_valid_pause_reason(in->reason)) {
        err = cc_error_collect(p, err, CC_KEY_REASON,
                               "must be at most 79 bytes of UTF-8 text without control"
                               " characters");
    }
    if (in->reason && !*in->reason) {
        in->reason = NULL;           /* "" and null both mean no reason */
    }
    return err;
}

void cc_queue_members_merge(const member_values_t *cur, const member_input_t *in,
                            member_values_t *out)
{
    out->penalty = in->penalty ? in->penalty : cur->penalty;
    out->paused = in->paused ? in->paused : cur->paused;
    if (in->has_reason) {
        out->reason = in->reason;
    }
    else if (!strcmp(out->paused, "0") && !cc_str_same(cur->paused, "0")) {
        out->reason = NULL;
    }
    else {
        out->reason = cur->reason;
    }
}

static json_t *bool_json(const char *v)
{
    return v ? json_boolean(strcmp(v, "0") != 0) : json_null();
}

json_t *cc_queue_members_diff(apr_pool_t *p, const member_values_t *a,
                              const member_values_t *b)
{
    json_t *changes = cc_json_object(p);

    if (!cc_str_same(a->penalty, b->penalty)) {
        cc_audit_change(changes, CC_KEY_PENALTY, cc_json_int_or_null(a->penalty),
                        cc_json_int_or_null(b->penalty));
    }
    if (!cc_str_same(a->paused, b->paused)) {
        cc_audit_change(changes, CC_KEY_PAUSED, bool_json(a->paused), bool_json(b->paused));
    }
    if (!cc_str_same(a->reason, b->reason)) {
        cc_audit_change(changes, CC_KEY_REASON, cc_json_str_or_null(a->reason),
                        cc_json_str_or_null(b->reason));
    }
    return changes;
}
