/*
 * cc_chat_rules.c: the pure part of live chat (cc_chat_rules.h).
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_lib.h>

#include "cc_chat_rules.h"
#include "cc_cors.h"
#include "cc_json.h"
#include "cc_validate.h"

const char *const cc_chat_agent_statuses[] = { "online", "away", "offline", NULL };
const char *const cc_chat_session_statuses[] = { "waiting", "active", "closed", NULL };

static const chat_widget_values_t widget_defaults = {
    "", "[]", "", CC_CHAT_COLOR_DEFAULT, "1", NULL
};

const chat_widget_values_t *cc_chat_widget_defaults(void)
{
    return &widget_defaults;
}

int cc_chat_origin_allowed(apr_pool_t *p, const char *origins_json, const char *origin)
{
    apr_array_header_t *origins = apr_array_make(p, 4, sizeof(const char *));
    json_t *list, *v;
    size_t i;

    if (!origins_json) {
        return 0;
    }
    list = json_loads(origins_json, 0, NULL);
    json_array_foreach(list, i, v) {
        if (json_is_string(v)) {
            APR_ARRAY_PUSH(origins, const char *) = apr_pstrdup(p, json_string_value(v));
        }
    }
    json_decref(list);
    return cc_cors_origin_listed(origins, origin);
}

int cc_chat_text_valid(const char *s, apr_size_t max)
{
    const char *c;

    if (!s || !cc_valid_text(s, 1, max)) {
        return 0;
    }
    for (c = s; *c; c++) {
        if (!apr_isspace(*c)) {
            return 1;
        }
    }
    return 0;
}

static int b64url_shape(const char *s, apr_size_t len)
{
    apr_size_t i;

    if (!s || strlen(s) != len) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (!apr_isalnum(s[i]) && s[i] != '-' && s[i] != '_') {
            return 0;
        }
    }
    return 1;
}

int cc_chat_token_shape(const char *s)
{
    return b64url_shape(s, CC_CHAT_TOKEN_LEN);
}

int cc_chat_key_shape(const char *s)
{
    return b64url_shape(s, CC_CHAT_KEY_LEN);
}

const char *cc_chat_visitor_token(apr_pool_t *p, const char *authorization)
{
    const char *t;

    if (!authorization || strncasecmp(authorization, "Visitor ", 8)) {
        return NULL;
    }
    for (t = authorization + 8; *t == ' '; t++) {
    }
    return cc_chat_token_shape(t) ? apr_pstrdup(p, t) : NULL;
}

/* ---- widgets ---- */

static cc_error_t *read_origins(apr_pool_t *p, cc_error_t *err, json_t *list,
                                const char **pjson)
{
    json_t *out, *v;
    size_t i, j;

    if (json_array_size(list) > CC_CHAT_ORIGINS_MAX) {
        return cc_error_collect(p, err, "allowed_origins",
                                apr_psprintf(p, "at most %d origins", CC_CHAT_ORIGINS_MAX));
    }
    out = cc_json_own(p, json_array());
    json_array_foreach(list, i, v) {
        const char *norm;

        if (!cc_cors_origin_valid(p, json_string_value(v), &norm)) {
            return cc_error_collect(p, err, "allowed_origins",
                                    apr_psprintf(p, "item %d must be an origin such as"
                                                 " https://www.example.com (scheme, host,"
                                                 " optional port, no path)", (int)i));
        }
        for (j = 0; j < json_array_size(out); j++) {
            if (!strcmp(json_string_value(json_array_get(out, j)), norm)) {
                return cc_error_collect(p, err, "allowed_origins",
                                        apr_psprintf(p, "item %d repeats an origin", (int)i));
            }
        }
        json_array_append_new(out, json_string(norm));
    }
    *pjson = cc_json_dump(p, out);
    return err;
}

static int color_valid(const char *s)
{
    int i;

    if (!s || strlen(s) != 7 || s[0] != '#') {
        return 0;
    }
    for (i = 1; i < 7; i++) {
        if (!apr_isxdigit(s[i])) {
            return 0;
        }
    }
    return 1;
}

cc_error_t *cc_chat_widget_apply(apr_pool_t *p, json_t *body,
                                 const chat_widget_values_t *cur, chat_widget_values_t *out)
{
    cc_error_t *err = NULL;
    json_t *v;

    *out = *cur;
    if ((v = json_object_get(body, "name"))) {
        if (!cc_valid_name(json_string_value(v), 1, CC_CHAT_NAME_MAX)) {
            err = cc_error_collect(p, err, "name",
                                   apr_psprintf(p, "must be 1 to %d characters",
                                                CC_CHAT_NAME_MAX));
        }
        out->name = json_string_value(v);
    }
    if ((v = json_object_get(body, "allowed_origins"))) {
        err = read_origins(p, err, v, &out->allowed_origins);
    }
    if ((v = json_object_get(body, "greeting"))) {
        if (!cc_valid_text(json_string_value(v), 0, CC_CHAT_GREETING_MAX)) {
            err = cc_error_collect(p, err, "greeting",
                                   apr_psprintf(p, "must be at most %d characters",
                                                CC_CHAT_GREETING_MAX));
        }
        out->greeting = json_string_value(v);
    }
    if ((v = json_object_get(body, "color"))) {
        if (!color_valid(json_string_value(v))) {
            err = cc_error_collect(p, err, "color", "must be a color such as #1f6feb");
        }
        else {
            char *c = apr_pstrdup(p, json_string_value(v));
            char *at;

            for (at = c; *at; at++) {
                *at = (char)apr_tolower(*at);
            }
            out->color = c;
        }
    }
    if ((v = json_object_get(body, "enabled"))) {
        out->enabled = json_is_true(v) ? "1" : "0";
    }
    if ((v = json_object_get(body, "reassign_after"))) {
        if (json_is_null(v)) {
            out->reassign_after = NULL;
        }
        else if (json_integer_value(v) < CC_CHAT_REASSIGN_MIN
                 || json_integer_value(v) > CC_CHAT_REASSIGN_MAX) {
            err = cc_error_collect(p, err, "reassign_after",
                                   apr_psprintf(p, "must be null or %d to %d seconds",
                                                CC_CHAT_REASSIGN_MIN, CC_CHAT_REASSIGN_MAX));
        }
        else {
            out->reassign_after = apr_psprintf(p, "%" APR_INT64_T_FMT,
                                               (apr_int64_t)json_integer_value(v));
        }
    }
    return err;
}

static json_t *int_or_null(const char *s)
{
    return s ? json_integer(apr_atoi64(s)) : json_null();
}

json_t *cc_chat_widget_diff(const chat_widget_values_t *a, const chat_widget_values_t *b)
{
    json_t *changes = json_object();

    cc_audit_change_str(changes, "name", a->name, b->name);
    if (strcmp(a->allowed_origins, b->allowed_origins)) {
        cc_audit_change(changes, "allowed_origins", json_loads(a->allowed_origins, 0, NULL),
                        json_loads(b->allowed_origins, 0, NULL));
    }
    cc_audit_change_str(changes, "greeting", a->greeting, b->greeting);
    cc_audit_change_str(changes, "color", a->color, b->color);
    if (strcmp(a->enabled, b->enabled)) {
        cc_audit_change(changes, "enabled", json_boolean(*a->enabled == '1'),
                        json_boolean(*b->enabled == '1'));
    }
    if (!cc_str_same(a->reassign_after, b->reassign_after)) {
        cc_audit_change(changes, "reassign_after", int_or_null(a->reassign_after),
                        int_or_null(b->reassign_after));
    }
    return changes;
}

/* ---- the visitor's stream ---- */

apr_int64_t cc_chat_queue_position(json_t *data, apr_int64_t session_id)
{
    json_t *ids = json_object_get(data, "sessions"), *v;
    size_t i;

    json_array_foreach(ids, i, v) {
        if (json_integer_value(v) == session_id) {
            return (apr_int64_t)i + 1;
        }
    }
    return 0;
}

static json_t *agent_of(json_t *session)
{
    const char *name = cc_json_str(session, "agent_name");

    return json_pack("{s:{s:s?}}", "agent", "name", name);
}

const char *cc_chat_visitor_frame(apr_pool_t *p, const char *type, json_t *data,
                                  apr_int64_t session_id, const char **pname)
{
    json_t *out = NULL;

    if (!strcmp(type, "chat.message")) {
        json_t *m = json_object_get(data, "message");
        const char *sender = cc_json_str(m, "sender_type");

        if (!m || !sender) {
            return NULL;
        }
        out = json_pack("{s:O?,s:s,s:O?,s:O?,s:O?}", "id", json_object_get(m, "id"),
                        "sender", sender,
                        "agent_name", !strcmp(sender, "agent")
                                          ? json_object_get(m, "sender_name") : NULL,
                        "body", json_object_get(m, "body"),
                        "created_at", json_object_get(m, "created_at"));
        *pname = "message";
    }
    else if (!strcmp(type, "chat.session_assigned") || !strcmp(type, "chat.session_accepted")) {
        out = agent_of(data);
        *pname = "agent_joined";
    }
    else if (!strcmp(type, "chat.session_transferred")) {
        out = agent_of(data);
        *pname = "transfer";
    }
    else if (!strcmp(type, "chat.session_closed")) {
        out = json_pack("{s:O?}", "closed_by", json_object_get(data, "closed_by"));
        *pname = "close";
    }
    else if (!strcmp(type, "chat.queue_updated")) {
        apr_int64_t pos = cc_chat_queue_position(data, session_id);

        if (pos > 0) {
            out = json_pack("{s:I}", "position", (json_int_t)pos);
            *pname = "position";
        }
    }
    return out ? cc_json_dump(p, cc_json_own(p, out)) : NULL;
}
