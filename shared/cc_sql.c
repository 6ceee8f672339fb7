/*
 * cc_sql.c (core): statement-argument helpers.
 */
#include <string.h>

#include "cc_sql.h"

const char *cc_like_contains(apr_pool_t *p, const char *s)
{
    size_t len = strlen(s);
    char *out = apr_palloc(p, 2 * len + 3), *o = out;

    *o++ = '%';
    for (; *s; s++) {
        if (*s == '\\' || *s == '%' || *s == '_') {
            *o++ = '\\';
        }
        *o++ = *s;
    }
    *o++ = '%';
    *o = '\0';
    return out;
}
