/**
 * @file cc_error.c
 * @brief (core) The API error model and its JSON envelope (API.md "Errors").
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "cc_error.h"
#include "cc_validate.h"

/* Default human text per code, used when cc_error_make gets a NULL format.  Codes not in
 * the table fall back to the code itself, which is at least stable and never a secret. */
static const struct {
    const char *code;
    const char *message;
} cc_error_defaults[] = {
    {CC_ERR_INVALID_REQUEST,     "invalid request"},
    {CC_ERR_UNAUTHORIZED,        "authentication required"},
    {CC_ERR_INVALID_CREDENTIALS, "invalid email or password"},
    {CC_ERR_FORBIDDEN,           "permission denied"},
    {CC_ERR_TENANT_SUSPENDED,    "tenant suspended"},
    {CC_ERR_ACCOUNT_DISABLED,    "account disabled"},
    {CC_ERR_NOT_FOUND,           "not found"},
    {CC_ERR_METHOD_NOT_ALLOWED,  "method not allowed"},
    {CC_ERR_CONFLICT,            "conflict"},
    {CC_ERR_QUOTA_EXCEEDED,      "quota exceeded"},
    {CC_ERR_PAYLOAD_TOO_LARGE,   "request body too large"},
    {CC_ERR_UNSUPPORTED_MEDIA,   "Content-Type must be application/json"},
    {CC_ERR_TOO_MANY_REQUESTS,   "too many requests"},
    {CC_ERR_UNAVAILABLE,         "database unavailable"},
    {CC_ERR_INTERNAL,            "internal error"},
    {NULL, NULL}
};

static const char *cc_error_default_message(const char *code)
{
    int i;

    if (!code) {
        return "error";
    }
    for (i = 0; cc_error_defaults[i].code; i++) {
        if (!strcmp(cc_error_defaults[i].code, code)) {
            return cc_error_defaults[i].message;
        }
    }
    return code;
}

static cc_error_t *cc_error_vmake(apr_pool_t *p, int status, const char *code,
                                  const char *fmt, va_list ap)
{
    cc_error_t *e = apr_pcalloc(p, sizeof(*e));

    e->pool = p;
    e->status = status;
    e->code = code ? code : CC_ERR_INTERNAL;
    e->message = fmt ? apr_pvsprintf(p, fmt, ap) : cc_error_default_message(e->code);
    e->details = NULL;
    e->lock_conflict = 0;
    return e;
}

cc_error_t *cc_error_make(apr_pool_t *p, int status, const char *code, const char *fmt, ...)
{
    cc_error_t *e;
    va_list ap;

    va_start(ap, fmt);
    e = cc_error_vmake(p, status, code, fmt, ap);
    va_end(ap);
    return e;
}

cc_error_t *cc_error_field(apr_pool_t *p, const char *field, const char *issue)
{
    cc_error_t *e = cc_error_make(p, 400, CC_ERR_INVALID_REQUEST, NULL);

    cc_error_add_detail(e, field, issue);
    return e;
}

cc_error_t *cc_error_collect(apr_pool_t *p, cc_error_t *e, const char *field,
                             const char *issue)
{
    if (!e) {
        return cc_error_field(p, field, issue);
    }
    cc_error_add_detail(e, field, issue);
    return e;
}

void cc_error_add_detail(cc_error_t *e, const char *field, const char *issue)
{
    cc_error_detail_t *d;

    if (!e) {
        return;
    }
    if (!e->details) {
        e->details = apr_array_make(e->pool, 4, sizeof(cc_error_detail_t));
    }
    d = apr_array_push(e->details);
    /* Copied: callers often pass strings from a shorter-lived scratch buffer. */
    d->field = field ? apr_pstrdup(e->pool, field) : NULL;
    d->issue = issue ? apr_pstrdup(e->pool, issue) : NULL;
}

int cc_error_detail_count(const cc_error_t *e)
{
    return (e && e->details) ? e->details->nelts : 0;
}

cc_error_t *cc_error_not_found(apr_pool_t *p)
{
    return cc_error_make(p, 404, CC_ERR_NOT_FOUND, NULL);
}

cc_error_t *cc_error_internal(apr_pool_t *p)
{
    return cc_error_make(p, 500, CC_ERR_INTERNAL, NULL);
}

cc_error_t *cc_error_unavailable(apr_pool_t *p)
{
    return cc_error_make(p, 503, CC_ERR_UNAVAILABLE, NULL);
}

cc_error_t *cc_error_forbidden(apr_pool_t *p)
{
    return cc_error_make(p, 403, CC_ERR_FORBIDDEN, NULL);
}

cc_error_t *cc_error_conflict(apr_pool_t *p, const char *fmt, ...)
{
    cc_error_t *e;
    va_list ap;

    va_start(ap, fmt);
    e = cc_error_vmake(p, 409, CC_ERR_CONFLICT, fmt, ap);
    va_end(ap);
    return e;
}

cc_error_t *cc_error_lock_conflict(apr_pool_t *p)
{
    cc_error_t *e = cc_error_make(p, 503, CC_ERR_UNAVAILABLE,
                                  "the request met concurrent changes to the same data"
                                  " and was not carried out; retry it");

    e->lock_conflict = 1;
    return e;
}

int cc_error_is_lock_conflict(const cc_error_t *e)
{
    return e && e->lock_conflict;
}

/* ---- rendering ---- */

/*
 * A JSON string from text that may echo client input (an unknown field name, a bad
 * value in a message).  json_string() refuses invalid UTF-8, and an envelope must never
 * fail to render, so invalid bytes become '?'.  No pool here, hence malloc'd scratch.
 */
static json_t *cc_error_jstr(const char *s)
{
    apr_size_t len, i, o;
    char *buf;
    json_t *j;

    if (!s) {
        return json_null();
    }
    j = json_string(s);
    if (j) {
        return j;
    }
    len = strlen(s);
    buf = malloc(len + 1);
    if (!buf) {
        return json_string("?");
    }
    for (i = 0, o = 0; i < len;) {
        apr_size_t n;
        int ok = 0;

        /* The shortest valid sequence starting here, if any (UTF-8 is at most 4 bytes). */
        for (n = 1; n <= 4 && i + n <= len; n++) {
            if (cc_valid_utf8(s + i, n)) {
                ok = 1;
                break;
            }
        }
        if (ok) {
            memcpy(buf + o, s + i, n);
            o += n;
            i += n;
        }
        else {
            buf[o++] = '?';
            i++;
        }
    }
    buf[o] = '\0';
    j = json_string(buf);
    free(buf);
    return j ? j : json_string("?");
}

json_t *cc_error_to_json(const cc_error_t *e, const char *request_id)
{
    json_t *o = json_object();

    if (!o) {
        return NULL;
    }
    if (!e) {
        json_object_set_new(o, "error", json_string(CC_ERR_INTERNAL));
        json_object_set_new(o, "message", json_string("internal error"));
    }
    else {
        json_object_set_new(o, "error", cc_error_jstr(e->code));
        json_object_set_new(o, "message", cc_error_jstr(e->message));
        if (cc_error_detail_count(e) > 0) {
            json_t *arr = json_array();
            int i;

            for (i = 0; i < e->details->nelts; i++) {
                const cc_error_detail_t *d = &APR_ARRAY_IDX(e->details, i,
                                                            cc_error_detail_t);
                json_t *dj = json_object();

                json_object_set_new(dj, "field", cc_error_jstr(d->field));
                json_object_set_new(dj, "issue", cc_error_jstr(d->issue));
                json_array_append_new(arr, dj);
            }
            json_object_set_new(o, "details", arr);
        }
    }
    if (request_id) {
        json_object_set_new(o, "request_id", cc_error_jstr(request_id));
    }
    return o;
}
