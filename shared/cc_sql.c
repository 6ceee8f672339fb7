/*
 * cc_sql.c (core): statement-argument helpers.
 */
#include <string.h>

#include "cc_sql.h"

/* s with LIKE's '\\', '%' and '_' escaped (MariaDB's default LIKE escape is backslash),
 * between lead and trail (each "" or "%"). */
static const char *like_escaped(apr_pool_t *p, const char *lead, const char *s,
                                const char *trail)
{
    size_t len = strlen(s);
    char *out = apr_palloc(p, 2 * len + strlen(lead) + strlen(trail) + 1), *o = out;

    o = stpcpy(o, lead);
    for (; *s; s++) {
        if (*s == '\\' || *s == '%' || *s == '_') {
            *o++ = '\\';
        }
        *o++ = *s;
    }
    strcpy(o, trail);
    return out;
}

const char *cc_like_contains(apr_pool_t *p, const char *s)
{
    return like_escaped(p, "%", s, "%");
}

const char *cc_like_prefix(apr_pool_t *p, const char *s)
{
    return like_escaped(p, "", s, "%");
}
