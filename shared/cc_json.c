/**
 * @file cc_json.c
 * @brief (core) jansson values owned by APR pools; request-body parsing and field checks.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "cc_json.h"
#include "cc_validate.h"

static apr_status_t cc_json_cleanup(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

json_t *cc_json_own(apr_pool_t *p, json_t *j)
{
    if (j) {
        apr_pool_cleanup_register(p, j, cc_json_cleanup, apr_pool_cleanup_null);
    }
    return j;
}

static char *dump_flags(apr_pool_t *p, const json_t *j, size_t flags)
{
    char *s, *out;

    if (!j) {
        return NULL;
    }
    s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | flags);
    if (!s) {
        return NULL;
    }
    /* json_dumps mallocs: copy into the pool and free at once, no free() on exit paths. */
    out = apr_pstrdup(p, s);
    free(s);
    return out;
}

char *cc_json_dump(apr_pool_t *p, const json_t *j)
{
    return dump_flags(p, j, 0);
}

char *cc_json_dump_sorted(apr_pool_t *p, const json_t *j)
{
    return dump_flags(p, j, JSON_SORT_KEYS);
}

cc_error_t *cc_json_parse_object(apr_pool_t *p, const char *buf, apr_size_t len,
                                 json_t **pobj)
{
    json_error_t err;
    json_t *j;

    *pobj = NULL;
    if (!buf) {
        buf = "";
        len = 0;
    }
    /* Checked first: jansson's own message for bad UTF-8 is cryptic to a client. */
    if (!cc_valid_utf8(buf, len)) {
        return cc_error_make(p, 400, CC_ERR_INVALID_REQUEST, "body is not valid UTF-8");
    }
    /* JSON_DECODE_ANY so a scalar top level gets the clear "must be an object" below
     * rather than a parse error; \u0000 stays rejected (no JSON_ALLOW_NUL). */
    j = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (!j) {
        return cc_error_make(p, 400, CC_ERR_INVALID_REQUEST,
                             "malformed JSON: %s at position %" APR_SIZE_T_FMT,
                             err.text, (apr_size_t)err.position);
    }
    if (!json_is_object(j)) {
        json_decref(j);
        return cc_error_make(p, 400, CC_ERR_INVALID_REQUEST,
                             "request body must be a JSON object");
    }
    *pobj = cc_json_own(p, j);
    return NULL;
}

/* ---- field checks ---- */

/* Control characters other than \t \n \r (C0 and DEL) have no place in API text. */
static int cc_json_has_controls(const json_t *s)
{
    const unsigned char *u = (const unsigned char *)json_string_value(s);
    apr_size_t i, n = json_string_length(s);

    for (i = 0; i < n; i++) {
        if ((u[i] < 0x20 && u[i] != '\t' && u[i] != '\n' && u[i] != '\r') || u[i] == 0x7F) {
            return 1;
        }
    }
    return 0;
}

static const cc_field_t *cc_json_find_field(const cc_field_t *fields, const char *name)
{
    for (; fields && fields->name; fields++) {
        if (!strcmp(fields->name, name)) {
            return fields;
        }
    }
    return NULL;
}

/* The issue for value v against type t, or NULL when it fits. */
static const char *cc_json_type_issue(const json_t *v, cc_json_type_e t)
{
    size_t i;
    json_t *el;

    if (json_is_null(v)
        && (t == CC_JT_STRING_NULL || t == CC_JT_INT_NULL || t == CC_JT_OBJECT_NULL)) {
        return NULL;
    }
    switch (t) {
    case CC_JT_STRING:
    case CC_JT_STRING_NULL:
        if (!json_is_string(v)) {
            return "must be a string";
        }
        return cc_json_has_controls(v) ? "contains control characters" : NULL;
    case CC_JT_INT:
    case CC_JT_INT_NULL:
        /* json_is_integer is false for reals and booleans, as wanted. */
        return json_is_integer(v) ? NULL : "must be an integer";
    case CC_JT_BOOL:
        return json_is_boolean(v) ? NULL : "must be a boolean";
    case CC_JT_STRING_ARRAY:
        if (!json_is_array(v)) {
            return "must be an array of strings";
        }
        json_array_foreach(v, i, el) {
            if (!json_is_string(el)) {
                return "must be an array of strings";
            }
            if (cc_json_has_controls(el)) {
                return "contains control characters";
            }
        }
        return NULL;
    case CC_JT_OBJECT:
    case CC_JT_OBJECT_NULL:
        return json_is_object(v) ? NULL : "must be an object";
    }
    return "has an unsupported type";
}

/* The check behind both entry points; a PATCH body leaves out what it does not change,
 * so with partial set no field is required. */
static cc_error_t *check_fields(apr_pool_t *p, json_t *obj, const cc_field_t *fields,
                                int partial)
{
    cc_error_t *e = NULL;
    const cc_field_t *f;
    const char *key;
    json_t *v;

    if (!json_is_object(obj)) {
        return cc_error_make(p, 400, CC_ERR_INVALID_REQUEST,
                             "request body must be a JSON object");
    }
    /* Unknown fields first, in body order, so a typo is reported next to its cause. */
    json_object_foreach(obj, key, v) {
        if (!cc_json_find_field(fields, key)) {
            e = cc_error_collect(p, e, key, "unknown field");
        }
    }
    for (f = fields; f && f->name; f++) {
        const char *issue;

        v = json_object_get(obj, f->name);
        if (!v) {
            if (f->required && !partial) {
                e = cc_error_collect(p, e, f->name, "is required");
            }
            continue;
        }
        issue = cc_json_type_issue(v, f->type);
        if (issue) {
            e = cc_error_collect(p, e, f->name, issue);
        }
    }
    return e;
}

cc_error_t *cc_json_check_fields(apr_pool_t *p, json_t *obj, const cc_field_t *fields)
{
    return check_fields(p, obj, fields, 0);
}

cc_error_t *cc_json_check_patch(apr_pool_t *p, json_t *obj, const cc_field_t *fields)
{
    return check_fields(p, obj, fields, 1);
}

/* ---- accessors ---- */

const char *cc_json_str(const json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

    return json_is_string(v) ? json_string_value(v) : NULL;
}

int cc_json_has(const json_t *obj, const char *key)
{
    return json_is_object(obj) && json_object_get(obj, key) != NULL;
}

json_int_t cc_json_int(const json_t *obj, const char *key, json_int_t dflt)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

    return json_is_integer(v) ? json_integer_value(v) : dflt;
}

int cc_json_bool(const json_t *obj, const char *key, int dflt)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

int cc_json_set_str(json_t *obj, const char *key, const char *s)
{
    json_t *v = s ? json_string(s) : json_null();

    /* json_string returns NULL for invalid UTF-8: set nothing rather than a null. */
    if (!v) {
        return -1;
    }
    return json_object_set_new(obj, key, v) == 0 ? 0 : -1;
}

json_t *cc_json_int_or_null(const char *decimal)
{
    return decimal ? json_integer(apr_atoi64(decimal)) : json_null();
}

const char *cc_json_int_text(apr_pool_t *p, const json_t *obj, const char *key)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT,
                        (apr_int64_t)json_integer_value(json_object_get(obj, key)));
}

json_t *cc_json_without(apr_pool_t *p, const json_t *obj, const char *const *drop)
{
    json_t *copy = cc_json_own(p, json_deep_copy(obj));

    for (; copy && *drop; drop++) {
        json_object_del(copy, *drop);
    }
    return copy;
}

json_t *cc_json_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *cc_json_object(apr_pool_t *p)
{
    return cc_json_own(p, json_object());
}

json_t *cc_json_array(apr_pool_t *p)
{
    return cc_json_own(p, json_array());
}

int cc_str_same(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

void cc_audit_change(json_t *changes, const char *field, json_t *from, json_t *to)
{
    json_object_set_new(changes, field,
                        json_pack("{s:o,s:o}", "from", from ? from : json_null(),
                                  "to", to ? to : json_null()));
}

void cc_audit_change_str(json_t *changes, const char *field, const char *from,
                         const char *to)
{
    if (to && (!from || strcmp(from, to))) {
        cc_audit_change(changes, field, from ? json_string(from) : NULL, json_string(to));
    }
}
