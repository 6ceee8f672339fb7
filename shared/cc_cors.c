/*
 * cc_cors.c: the pure part of CORS (cc_cors.h).
 */
#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "cc_cors.h"
#include "cc_validate.h"

static int host_char(char c)
{
    return apr_isalnum(c) || c == '-' || c == '.';
}

int cc_cors_origin_valid(apr_pool_t *p, const char *origin, const char **pnorm)
{
    const char *at, *host;
    apr_size_t len = origin ? strlen(origin) : 0;
    char *norm;

    if (!len || len > CC_CORS_ORIGIN_MAX) {
        return 0;
    }
    if (!strncasecmp(origin, "https://", 8)) {
        host = origin + 8;
    }
    else if (!strncasecmp(origin, "http://", 7)) {
        host = origin + 7;
    }
    else {
        return 0;
    }
    at = host;
    if (*at == '[') {
        for (at++; *at && *at != ']'; at++) {
            if (!apr_isxdigit(*at) && *at != ':' && *at != '.') {
                return 0;
            }
        }
        if (*at != ']' || at == host + 1) {
            return 0;
        }
        at++;
    }
    else {
        for (; host_char(*at); at++) {
        }
        if (at == host || *host == '.' || *host == '-' || at[-1] == '.' || at[-1] == '-'
            || strstr(host, "..")) {
            return 0;
        }
    }
    if (*at == ':') {
        apr_int64_t port;
        const char *digits = ++at;

        for (; apr_isdigit(*at); at++) {
        }
        if (at == digits || at - digits > 5 || *digits == '0'
            || !cc_parse_int(apr_pstrmemdup(p, digits, (apr_size_t)(at - digits)), 1, 65535,
                             &port)) {
            return 0;
        }
    }
    if (*at) {
        return 0;     /* a path, a query, a trailing slash, a user-info '@'... */
    }
    if (pnorm) {
        norm = apr_pstrdup(p, origin);
        for (at = norm; *at; at++) {
            norm[at - norm] = (char)apr_tolower(*at);
        }
        *pnorm = norm;
    }
    return 1;
}

int cc_cors_origin_listed(const apr_array_header_t *origins, const char *origin)
{
    int i;

    if (!origins || !origin || !*origin) {
        return 0;
    }
    for (i = 0; i < origins->nelts; i++) {
        if (!strcasecmp(APR_ARRAY_IDX(origins, i, const char *), origin)) {
            return 1;
        }
    }
    return 0;
}

/* Whether the Allow list methods names method (a whole token). */
static int has_method(const char *methods, const char *method)
{
    apr_size_t n = strlen(method);
    const char *at = methods;

    while ((at = strstr(at, method)) != NULL) {
        if ((at == methods || at[-1] == ' ' || at[-1] == ',')
            && (at[n] == '\0' || at[n] == ',' || at[n] == ' ')) {
            return 1;
        }
        at += n;
    }
    return 0;
}

const char *cc_cors_allow_headers(apr_pool_t *p, const char *methods)
{
    int get = has_method(methods, "GET"), post = has_method(methods, "POST");
    int put = has_method(methods, "PUT"), patch = has_method(methods, "PATCH");
    int del = has_method(methods, "DELETE");

    return apr_pstrcat(p, "Authorization, X-Request-ID, X-Tenant-ID",
                       post || put || patch ? ", Content-Type" : "",
                       post ? ", Idempotency-Key" : "",
                       put || patch || del ? ", If-Match" : "",
                       get ? ", If-None-Match, Last-Event-ID" : "", NULL);
}
