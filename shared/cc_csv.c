/**
 * @file cc_csv.c
 * @brief (core) CSV cells (cc_csv.h).
 */
#include <string.h>

#include "cc_csv.h"

int cc_csv_cell(cc_csv_out_fn out, void *ctx, const char *v, int guard)
{
    apr_size_t len;
    const char *q;
    int quote, rv;

    if (!v || !*v) {
        return 0;
    }
    len = strlen(v);
    quote = strpbrk(v, ",\"\r\n") != NULL || v[0] == ' ' || v[len - 1] == ' ';
    if (quote && (rv = out(ctx, "\"", 1)) != 0) {
        return rv;
    }
    if (guard && strchr("=+-@", v[0]) && (rv = out(ctx, "'", 1)) != 0) {
        return rv;
    }
    if (!quote) {
        return out(ctx, v, len);
    }
    /* Doubled quotes: write up to and including each quote, then one more. */
    while ((q = strchr(v, '"')) != NULL) {
        if ((rv = out(ctx, v, (apr_size_t)(q - v) + 1)) != 0 || (rv = out(ctx, "\"", 1)) != 0) {
            return rv;
        }
        v = q + 1;
    }
    if (*v && (rv = out(ctx, v, strlen(v))) != 0) {
        return rv;
    }
    return out(ctx, "\"", 1);
}
