/*
 * cc_agents_rules.c: the pure rules of /api/v1/agents (see cc_agents_rules.h).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "cc_agents_rules.h"
#include "cc_asterisk.h"
#include "cc_json.h"

const char *const cc_agent_states[] = { "offline", "available", "on_call", "wrap_up",
                                        "break", NULL };

static int is_state(const char *s)
{
    int i;

    for (i = 0; s && cc_agent_states[i]; i++) {
        if (!strcmp(s, cc_agent_states[i])) {
            return 1;
        }
    }
    return 0;
}

int cc_agent_state_pauses(const char *state)
{
    if (!strcmp(state, "break") || !strcmp(state, "offline")) {
        return 1;
    }
    return !strcmp(state, "available") ? 0 : -1;
}

cc_error_t *cc_agent_state_read(apr_pool_t *p, const json_t *body, agent_state_input_t *in)
{
    cc_error_t *err = NULL;

    in->state = cc_json_str(body, CC_AGENT_KEY_STATE);
    in->reason = cc_json_str(body, CC_AGENT_KEY_REASON);
    if (in->reason && !*in->reason) {
        in->reason = NULL;
    }
    if (!is_state(in->state)) {
        err = cc_error_collect(p, err, CC_AGENT_KEY_STATE,
                               "must be offline, available, on_call, wrap_up or break");
    }
    if (in->reason && !cc_ast_valid_pause_reason(in->reason)) {
        err = cc_error_collect(p, err, CC_AGENT_KEY_REASON,
                               "must be at most 80 bytes of text without control characters");
    }
    else if (in->reason && is_state(in->state) && cc_agent_state_pauses(in->state) != 1) {
        err = cc_error_collect(p, err, CC_AGENT_KEY_REASON,
                               "is only for break and offline (the pause it explains)");
    }
    return err;
}

const char *cc_agent_pause_text(const agent_state_input_t *in)
{
    return in->reason ? in->reason : in->state;
}

cc_error_t *cc_agent_reasons_read(apr_pool_t *p, const json_t *body,
                                  apr_array_header_t **preasons)
{
    const json_t *list = json_object_get(body, CC_AGENT_KEY_REASONS);
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(const char *));
    cc_error_t *err = NULL;
    size_t i, j;
    json_t *v;

    if (json_array_size(list) > CC_AGENT_REASONS_MAX) {
        return cc_error_collect(p, NULL, CC_AGENT_KEY_REASONS,
                                apr_psprintf(p, "must have at most %d reasons",
                                             CC_AGENT_REASONS_MAX));
    }
    json_array_foreach(list, i, v) {
        const char *s = json_string_value(v);

        if (!s || !*s || !cc_ast_valid_pause_reason(s)) {
            err = cc_error_collect(p, err, apr_psprintf(p, "reasons[%" APR_SIZE_T_FMT "]", i),
                                   "must be 1 to 80 bytes of text without control"
                                   " characters");
            continue;
        }
        for (j = 0; j < (size_t)out->nelts; j++) {
            if (!strcasecmp(APR_ARRAY_IDX(out, j, const char *), s)) {
                err = cc_error_collect(p, err, apr_psprintf(p, "reasons[%" APR_SIZE_T_FMT "]", i),
                                       "is given twice");
                break;
            }
        }
        APR_ARRAY_PUSH(out, const char *) = s;
    }
    *preasons = out;
    return err;
}

/* ---- statistics ---- */

static int by_seconds(const void *x, const void *y)
{
    json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
    json_int_t sa = json_integer_value(json_object_get(a, "seconds"));
    json_int_t sb = json_integer_value(json_object_get(b, "seconds"));
    const char *ra = json_string_value(json_object_get(a, "reason"));
    const char *rb = json_string_value(json_object_get(b, "reason"));

    if (sa != sb) {
        return sa > sb ? -1 : 1;
    }
    if (!ra || !rb) {
        return (ra != NULL) - (rb != NULL);
    }
    return strcmp(ra, rb);
}

/* Sort an agent's break reasons (jansson arrays have no sort: through a C array). */
static void sort_reasons(json_t *reasons)
{
    size_t n = json_array_size(reasons), i;
    json_t **v;

    if (n < 2) {
        return;
    }
    v = malloc(n * sizeof(*v));
    if (!v) {
        return;
    }
    for (i = 0; i < n; i++) {
        v[i] = json_incref(json_array_get(reasons, i));
    }
    qsort(v, n, sizeof(*v), by_seconds);
    json_array_clear(reasons);
    for (i = 0; i < n; i++) {
        json_array_append_new(reasons, v[i]);
    }
    free(v);
}

static json_t *new_agent(const json_t *row)
{
    json_t *seconds = json_object(), *agent;
    int i;

    for (i = 0; cc_agent_states[i]; i++) {
        json_object_set_new(seconds, cc_agent_states[i], json_integer(0));
    }
    agent = json_pack("{s:O,s:O,s:o,s:[]}", "user_id", json_object_get(row, "user_id"),
                      "name", json_object_get(row, "name"), "seconds", seconds,
                      "break_reasons");
    return agent;
}

json_t *cc_agent_stats_fold(const json_t *rows)
{
    json_t *data = json_array(), *agent = NULL, *row;
    json_int_t last = -1;
    size_t i;

    json_array_foreach(rows, i, row) {
        json_int_t uid = json_integer_value(json_object_get(row, "user_id"));
        const char *state = json_string_value(json_object_get(row, "state"));
        json_int_t secs = json_integer_value(json_object_get(row, "seconds"));
        json_t *seconds;

        if (!agent || uid != last) {
            if (agent) {
                sort_reasons(json_object_get(agent, "break_reasons"));
            }
            agent = new_agent(row);
            json_array_append_new(data, agent);
            last = uid;
        }
        if (!is_state(state)) {
            continue;
        }
        seconds = json_object_get(agent, "seconds");
        json_object_set_new(seconds, state,
                            json_integer(json_integer_value(json_object_get(seconds, state))
                                         + secs));
        if (!strcmp(state, "break")) {
            json_array_append_new(json_object_get(agent, "break_reasons"),
                                  json_pack("{s:O,s:I}", "reason",
                                            json_object_get(row, "reason"), "seconds",
                                            secs));
        }
    }
    if (agent) {
        sort_reasons(json_object_get(agent, "break_reasons"));
    }
    return json_pack("{s:o}", "data", data);
}
