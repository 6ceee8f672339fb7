/*
 * cc_queues_rules.c (core): the pure part of /api/v1/queues (cc_queues_rules.h).
 */
#include <string.h>

#include <apr_strings.h>

#include "cc_queues_rules.h"
#include "cc_asterisk.h"
#include "cc_json.h"
#include "cc_validate.h"

const char *const queue_strategies[] = {
    "ringall", "leastrecent", "fewestcalls", "random", "rrmemory", "linear", "wrandom",
    "rrordered", NULL
};

/* An integer setting of the realtime queues row: its key and bounds. */
typedef struct queue_int_t {
    const char *key;
    apr_int64_t min;
    apr_int64_t max;
} queue_int_t;

/* In queue_values_t's order after strategy (timeout, wrapuptime, maxlen, service_level). */
static const queue_int_t queue_ints[] = {
    { CC_KEY_TIMEOUT, 1, 600 },
    { CC_KEY_WRAPUPTIME, 0, 3600 },
    { CC_KEY_MAXLEN, 0, 10000 },          /* 0: no limit */
    { CC_KEY_SERVICE_LEVEL, 0, 86400 },
    { NULL, 0, 0 }
};

const queue_values_t cc_queues_defaults = {
    NULL, "ringall", { "15", "0", "0", "60" }, "default"
};

int cc_queues_valid_name(const char *s)
{
    return cc_valid_name(s, 1, CC_QUEUE_NAME_MAX);
}

cc_error_t *cc_queues_input_read(apr_pool_t *p, json_t *body, queue_values_t *in)
{
    cc_error_t *err = NULL;
    int i;

    memset(in, 0, sizeof(*in));
    in->name = cc_json_str(body, CC_KEY_NAME);
    in->strategy = cc_json_str(body, CC_KEY_STRATEGY);
    in->moh = cc_json_str(body, CC_KEY_MOH);
    if (in->name && !cc_queues_valid_name(in->name)) {
        err = cc_error_collect(p, err, CC_KEY_NAME,
                               "must be 1 to 80 characters, no control characters");
    }
    if (in->strategy && !cc_valid_enum(in->strategy, queue_strategies)) {
        err = cc_error_collect(p, err, CC_KEY_STRATEGY,
                               "must be one of: ringall, leastrecent, fewestcalls, random,"
                               " rrmemory, linear, wrandom, rrordered");
    }
    for (i = 0; queue_ints[i].key; i++) {
        const queue_int_t *qi = &queue_ints[i];
        json_int_t v;

        if (!cc_json_has(body, qi->key)) {
            continue;
        }
        v = cc_json_int(body, qi->key, -1);
        if (v < qi->min || v > qi->max) {
            err = cc_error_collect(p, err, qi->key,
                                   apr_psprintf(p, "must be an integer from %" APR_INT64_T_FMT
                                                " to %" APR_INT64_T_FMT, qi->min, qi->max));
        }
        else {
            in->ints[i] = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)v);
        }
    }
    if (in->moh && !cc_ast_valid_moh_class(in->moh)) {
        err = cc_error_collect(p, err, CC_KEY_MOH,
                               "must be 1 to 128 of A-Z, a-z, 0-9, '_' and '-'");
    }
    return err;
}

cc_error_t *cc_queues_check_moh(apr_pool_t *p, cc_error_t *err, const char *slug,
                                const char *const *globals, const char *cur,
                                const char *moh)
{
    const char *list = "";

    if (!moh || !cc_ast_valid_moh_class(moh) || cc_str_same(moh, cur)
        || cc_ast_moh_allowed(p, slug, globals, moh)) {
        return err;
    }
    for (; globals && *globals; globals++) {
        list = apr_pstrcat(p, list, *list ? ", " : "", *globals, NULL);
    }
    return cc_error_collect(p, err, CC_KEY_MOH,
                            apr_psprintf(p, "must be one of the platform's classes (%s) or"
                                         " one of this tenant's, %s-<name> with a name of"
                                         " A-Z, a-z, 0-9 and '_'", list,
                                         cc_ast_tenant_key(p, slug)));
}

void cc_queues_merge(const queue_values_t *cur, const queue_values_t *in, queue_values_t *out)
{
    int i;

    out->name = in->name ? in->name : cur->name;
    out->strategy = in->strategy ? in->strategy : cur->strategy;
    out->moh = in->moh ? in->moh : cur->moh;
    for (i = 0; i < QUEUE_NINTS; i++) {
        out->ints[i] = in->ints[i] ? in->ints[i] : cur->ints[i];
    }
}

json_t *cc_queues_diff(apr_pool_t *p, const queue_values_t *a, const queue_values_t *b)
{
    json_t *changes = cc_json_object(p);
    int i;

    cc_audit_change_str(changes, CC_KEY_NAME, a->name, b->name);
    if (!cc_str_same(a->strategy, b->strategy)) {
        cc_audit_change(changes, CC_KEY_STRATEGY, cc_json_str_or_null(a->strategy),
                        cc_json_str_or_null(b->strategy));
    }
    for (i = 0; i < QUEUE_NINTS; i++) {
        if (!cc_str_same(a->ints[i], b->ints[i])) {
            cc_audit_change(changes, queue_ints[i].key, cc_json_int_or_null(a->ints[i]),
                            cc_json_int_or_null(b->ints[i]));
        }
    }
    if (!cc_str_same(a->moh, b->moh)) {
        cc_audit_change(changes, CC_KEY_MOH, cc_json_str_or_null(a->moh),
                        cc_json_str_or_null(b->moh));
    }
    return changes;
}

int cc_queues_realtime_changes(const queue_values_t *a, const queue_values_t *b)
{
    int i;

    for (i = 0; i < QUEUE_NINTS; i++) {
        if (!cc_str_same(a->ints[i], b->ints[i])) {
            return 1;
        }
    }
    return !cc_str_same(a->strategy, b->strategy) || !cc_str_same(a->moh, b->moh);
}

cc_error_t *cc_queues_check_strategy_change(apr_pool_t *p, const queue_values_t *cur,
                                            const queue_values_t *v)
{
    cc_error_t *err;

    /* No current strategy: the realtime row is missing and the PATCH writes a new one. */
    if (!v->strategy || strcmp(v->strategy, "linear")
        || !cur->strategy || !strcmp(cur->strategy, "linear")) {
        return NULL;
    }
    err = cc_error_conflict(p, "Asterisk cannot switch an existing queue to the linear"
                            " strategy; create a new queue with it");
    cc_error_add_detail(err, CC_KEY_STRATEGY, "linear is chosen when a queue is created");
    return err;
}
