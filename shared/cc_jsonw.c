/*
 * cc_jsonw.c (core): append-only JSON text on a pool.
 */
#include <string.h>

#include <apr_strings.h>

#include "cc_jsonw.h"
#include "cc_validate.h"

void cc_jsonw_init(cc_jsonw_t *w, apr_pool_t *p, apr_size_t initial)
{
    w->pool = p;
    w->cap = initial ? initial : 256;
    w->buf = apr_palloc(p, w->cap);
    w->len = 0;
}

/* Room for n more bytes and a NUL; the old buffer stays in the pool until it is freed. */
static void reserve(cc_jsonw_t *w, apr_size_t n)
{
    apr_size_t need = w->len + n + 1;

    if (need > w->cap) {
        apr_size_t cap = w->cap * 2;
        char *buf;

        while (cap < need) {
            cap *= 2;
        }
        buf = apr_palloc(w->pool, cap);
        memcpy(buf, w->buf, w->len);
        w->buf = buf;
        w->cap = cap;
    }
}

void cc_jsonw_raw(cc_jsonw_t *w, const char *s, apr_size_t n)
{
    reserve(w, n);
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

void cc_jsonw_lit(cc_jsonw_t *w, const char *s)
{
    cc_jsonw_raw(w, s, strlen(s));
}

void cc_jsonw_strn(cc_jsonw_t *w, const char *s, apr_size_t n)
{
    static const char hex[] = "0123456789abcdef";
    apr_size_t i;
    char *o;

    if (!s || !cc_valid_utf8(s, n)) {
        cc_jsonw_raw(w, "null", 4);
        return;
    }
    /* Worst case every byte becomes \u00XX. */
    reserve(w, 6 * n + 2);
    o = w->buf + w->len;
    *o++ = '"';
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        }
        else if (c == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        }
        else if (c == '\r') {
            *o++ = '\\';
            *o++ = 'r';
        }
        else if (c == '\t') {
            *o++ = '\\';
            *o++ = 't';
        }
        else if (c < 0x20 || c == 0x7f) {
            memcpy(o, "\\u00", 4);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 0xf];
            o += 6;
        }
        else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    w->len = (apr_size_t)(o - w->buf);
}

void cc_jsonw_str(cc_jsonw_t *w, const char *s)
{
    cc_jsonw_strn(w, s, s ? strlen(s) : 0);
}

void cc_jsonw_key(cc_jsonw_t *w, const char *key)
{
    apr_size_t n = strlen(key);

    reserve(w, n + 3);
    w->buf[w->len++] = '"';
    memcpy(w->buf + w->len, key, n);
    w->len += n;
    w->buf[w->len++] = '"';
    w->buf[w->len++] = ':';
}

void cc_jsonw_int(cc_jsonw_t *w, apr_int64_t v)
{
    char tmp[24];
    int n = apr_snprintf(tmp, sizeof(tmp), "%" APR_INT64_T_FMT, v);

    cc_jsonw_raw(w, tmp, (apr_size_t)n);
}

static int is_int_literal(const char *s)
{
    const char *d = (*s == '-') ? s + 1 : s;
    const char *c;

    if (!*d || (d[0] == '0' && d[1]) || strlen(d) > 19) {
        return 0;
    }
    for (c = d; *c; c++) {
        if (*c < '0' || *c > '9') {
            return 0;
        }
    }
    return 1;
}

void cc_jsonw_int_text(cc_jsonw_t *w, const char *s)
{
    if (s && is_int_literal(s)) {
        cc_jsonw_lit(w, s);
    }
    else {
        cc_jsonw_raw(w, "null", 4);
    }
}

const char *cc_jsonw_text(cc_jsonw_t *w)
{
    reserve(w, 0);
    w->buf[w->len] = '\0';
    return w->buf;
}
