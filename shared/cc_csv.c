/**
 * @file cc_csv.c
 * @brief (core) CSV cells (cc_csv.h).
 */
#include <string.h>

#include "cc_csv.h"

/* Whether a cell of len bytes must be quoted: every byte is looked at (a NUL inside
 * does not end the scan, so no separator after it goes out bare). */
static int needs_quotes(const char *v, apr_size_t len)
{
    apr_size_t i;

    if (v[0] == ' ' || v[len - 1] == ' ') {
        return 1;
    }
    for (i = 0; i < len; i++) {
        if (v[i] == ',' || v[i] == '"' || v[i] == '\r' || v[i] == '\n') {
            return 1;
        }
    }
    return 0;
}

char *cc_csv_put(char *dst, const char *v, apr_size_t len, int guard)
{
    apr_size_t i;
    int quote;

    if (!v || !len) {
        return dst;
    }
    quote = needs_quotes(v, len);
    if (quote) {
        *dst++ = '"';
    }
    /* Tab and CR as well as API.md's four: spreadsheets drop either before a formula. */
    if (guard && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t'
                  || v[0] == '\r')) {
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
