/**
 * @file cc_csv.c
 * @brief (core) CSV cells (cc_csv.h).
 */
#include <string.h>

#include "cc_csv.h"

char *cc_csv_put(char *dst, const char *v, apr_size_t len, int guard)
{
    apr_size_t i;
    int quote;

    if (!v || !len) {
        return dst;
    }
    quote = strpbrk(v, ",\"\r\n") != NULL || v[0] == ' ' || v[len - 1] == ' ';
    if (quote) {
        *dst++ = '"';
    }
    if (guard && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@')) {
        *dst++ = '\'';
    }
    if (!quote) {
        memcpy(dst, v, len);
        return dst + len;
    }
    for (i = 0; i < len; i++) {
        if ((*dst++ = v[i]) == '"') {
            *dst++ = '"';
        }
    }
    *dst++ = '"';
    return dst;
}
