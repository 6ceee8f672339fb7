/**
 * @file cc_page.c
 * @brief (core) Query-string decoding, pagination and whitelisted sort (API.md "Lists").
 */
#include <string.h>

#include <apr_strings.h>

#include "cc_crypto.h"
#include "cc_page.h"
#include "cc_validate.h"

#define CC_PAGE_MAX 1000000

/* ---- query string ---- */

static int cc_hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/*
 * Decode s[0..len) ('+' is space, %XX a byte) into a new pool string; *plen gets the
 * decoded length (a %00 would hide behind strlen).  NULL on a bad escape.
 */
static char *cc_args_decode(apr_pool_t *p, const char *s, apr_size_t len, apr_size_t *plen)
{
    char *out = apr_palloc(p, len + 1);
    apr_size_t i, o = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        }
        else if (s[i] == '%') {
            int hi, lo;

            if (i + 2 >= len) {
                return NULL;
            }
            hi = cc_hexval(s[i + 1]);
            lo = cc_hexval(s[i + 2]);
            if (hi < 0 || lo < 0) {
                return NULL;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        }
        else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    *plen = o;
    return out;
}

/* Issue for a decoded key or value, or NULL when it is acceptable text. */
static const char *cc_args_text_issue(const char *s, apr_size_t len)
{
    if (memchr(s, '\0', len)) {
        return "must not contain NUL";
    }
    if (!cc_valid_utf8(s, len)) {
        return "must be valid UTF-8";
    }
    return NULL;
}

static cc_error_t *cc_args_error(apr_pool_t *p, const char *field, const char *issue)
{
    cc_error_t *e = cc_error_make(p, 400, CC_ERR_INVALID_REQUEST, "invalid query string");

    cc_error_add_detail(e, field, issue);
    return e;
}

/* One "key[=value]" piece of the query. */
static cc_error_t *cc_args_pair(apr_pool_t *p, const char *piece, apr_size_t plen,
                                apr_table_t *args)
{
    const char *eq = memchr(piece, '=', plen);
    apr_size_t klen = eq ? (apr_size_t)(eq - piece) : plen;
    apr_size_t kdl, vdl = 0;
    const char *issue;
    char *key, *val;

    key = cc_args_decode(p, piece, klen, &kdl);
    if (!key) {
        return cc_args_error(p, "query", "invalid percent-encoding");
    }
    issue = cc_args_text_issue(key, kdl);
    if (issue) {
        return cc_args_error(p, "query", issue);
    }
    if (eq) {
        val = cc_args_decode(p, eq + 1, plen - klen - 1, &vdl);
        if (!val) {
            return cc_args_error(p, key, "invalid percent-encoding");
        }
        issue = cc_args_text_issue(val, vdl);
        if (issue) {
            return cc_args_error(p, key, issue);
        }
    }
    else {
        val = "";
    }
    /* An empty key ("=x", "&&") carries nothing a handler could ask for. */
    if (*key && !apr_table_get(args, key)) {
        apr_table_setn(args, key, val);
    }
    return NULL;
}

/*
 * Repeated keys: the first occurrence wins and later ones are ignored, so "?page=1&page=9"
 * is page 1 and no filter can be widened by appending a second copy.  Keys are compared
 * case-insensitively (apr_table).
 */
cc_error_t *cc_args_parse(apr_pool_t *p, const char *query, apr_table_t **pargs)
{
    apr_table_t *args = apr_table_make(p, 8);
    const char *s = query;

    *pargs = args;
    if (!query) {
        return NULL;
    }
    while (*s) {
        const char *amp = strchr(s, '&');
        apr_size_t n = amp ? (apr_size_t)(amp - s) : strlen(s);

        if (n > 0) {
            cc_error_t *e = cc_args_pair(p, s, n, args);

            if (e) {
                return e;
            }
        }
        if (!amp) {
            break;
        }
        s = amp + 1;
    }
    return NULL;
}

/* ---- paging ---- */

/* "must be one of: name, -name, email, -email" from the whitelist. */
static const char *cc_sort_issue(apr_pool_t *p, const char *const *fields)
{
    const char *s = "must be one of:";
    int first = 1;

    for (; fields && *fields; fields++) {
        s = apr_pstrcat(p, s, first ? " " : ", ", *fields, ", -", *fields, NULL);
        first = 0;
    }
    return s;
}

/* Parse "field" / "-field" against the whitelist into pg. */
static int cc_sort_parse(const char *sort, const char *const *fields, cc_page_t *pg)
{
    int desc = 0;

    if (sort[0] == '-') {
        desc = 1;
        sort++;
    }
    if (!cc_valid_enum(sort, fields)) {
        return 0;
    }
    pg->sort = sort;
    pg->desc = desc;
    return 1;
}

cc_error_t *cc_page_parse(apr_pool_t *p, apr_table_t *args, const char *const *sort_fields,
                          const char *default_sort, cc_page_t *pg)
{
    const char *page = args ? apr_table_get(args, "page") : NULL;
    const char *size = args ? apr_table_get(args, "page_size") : NULL;
    const char *sort = args ? apr_table_get(args, "sort") : NULL;
    cc_error_t *e = NULL;
    apr_int64_t v;

    memset(pg, 0, sizeof(*pg));
    pg->page = 1;
    pg->page_size = CC_PAGE_SIZE_DEFAULT;
    if (page) {
        if (cc_parse_int(page, 1, CC_PAGE_MAX, &v)) {
            pg->page = (int)v;
        }
        else {
            e = cc_error_collect(p, e, "page", "must be an integer >= 1");
        }
    }
    if (size) {
        if (cc_parse_int(size, 1, CC_PAGE_SIZE_MAX, &v)) {
            pg->page_size = (int)v;
        }
        else {
            e = cc_error_collect(p, e, "page_size", "must be an integer from 1 to 200");
        }
    }
    if (sort) {
        if (!cc_sort_parse(sort, sort_fields, pg)) {
            e = cc_error_collect(p, e, "sort", cc_sort_issue(p, sort_fields));
        }
    }
    else if (default_sort) {
        /* The default comes from code; trust it even if it is not in the whitelist. */
        pg->desc = default_sort[0] == '-';
        pg->sort = default_sort + pg->desc;
    }
    pg->offset = (apr_int64_t)(pg->page - 1) * pg->page_size;
    return e;
}

const char *cc_page_limit_str(apr_pool_t *p, const cc_page_t *pg)
{
    return apr_itoa(p, pg->page_size);
}

const char *cc_page_offset_str(apr_pool_t *p, const cc_page_t *pg)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, pg->offset);
}

/* ---- keyset cursors ---- */

#define CC_CURSOR_SEP '~'
#define CC_CURSOR_FIELD_MAX 64
#define CC_CURSOR_MAC_LEN 16

static int cursor_field_ok(const char *s, int sort)
{
    apr_size_t n = 0;

    for (; s && *s; s++, n++) {
        char c = *s;

        if (!((c >= 'a' && c <= 'z') || c == '_'
              || (!sort && ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || c == ':'
                            || c == '.' || c == '+' || c == '-')))) {
            return 0;
        }
    }
    return s && n > 0 && n <= CC_CURSOR_FIELD_MAX;
}

static const char *cursor_mac(apr_pool_t *p, const char *body, const char *scope)
{
    const char *text = apr_pstrcat(p, scope ? scope : "", "|", body, NULL);

    return apr_pstrndup(p, cc_sha256_hex(p, text, strlen(text)), CC_CURSOR_MAC_LEN);
}

const char *cc_cursor_make(apr_pool_t *p, const cc_cursor_t *c, const char *scope)
{
    const char *body;
    char *key;

    if (!c->key || !c->id) {
        return NULL;
    }
    /* A DATETIME's space would need escaping in a URL: 'T' reads back the same. */
    key = apr_pstrdup(p, c->key);
    if (strlen(key) > 10 && key[10] == ' ') {
        key[10] = 'T';
    }
    if (!cursor_field_ok(c->sort, 1) || !cursor_field_ok(key, 0)
        || !cursor_field_ok(c->id, 0)) {
        return NULL;
    }
    body = apr_psprintf(p, "%s%c%c%c%s%c%s", c->sort, CC_CURSOR_SEP, c->desc ? 'd' : 'a',
                        CC_CURSOR_SEP, key, CC_CURSOR_SEP, c->id);
    return apr_psprintf(p, "%s%c%s", body, CC_CURSOR_SEP, cursor_mac(p, body, scope));
}

int cc_cursor_read(apr_pool_t *p, const char *text, const char *scope, cc_cursor_t *c)
{
    char *copy, *f[5], *state = NULL, *mac;
    const char *body;
    int n = 0;
    char sep[2] = { CC_CURSOR_SEP, 0 };

    if (!text || strlen(text) > 4 * CC_CURSOR_FIELD_MAX + 8) {
        return 0;
    }
    copy = apr_pstrdup(p, text);
    /* A '+' of a cursor pasted into a query string unencoded comes as ' ' (the query's
     * form decoding); no field has a space, so it can only be that '+'. */
    for (mac = copy; (mac = strchr(mac, ' ')); *mac++ = '+') {
    }
    for (f[n] = apr_strtok(copy, sep, &state); f[n] && n < 4;
         f[++n] = apr_strtok(NULL, sep, &state)) {
    }
    if (n != 4 || !f[4] || apr_strtok(NULL, sep, &state)
        || !cursor_field_ok(f[0], 1) || (strcmp(f[1], "a") && strcmp(f[1], "d"))
        || !cursor_field_ok(f[2], 0) || !cursor_field_ok(f[3], 0)) {
        return 0;
    }
    mac = f[4];
    body = apr_psprintf(p, "%s%c%s%c%s%c%s", f[0], CC_CURSOR_SEP, f[1], CC_CURSOR_SEP, f[2],
                        CC_CURSOR_SEP, f[3]);
    /* Separators inside the text must be exactly the four counted (no empty fields). */
    if (strlen(text) != strlen(body) + 1 + strlen(mac) || strcmp(mac, cursor_mac(p, body, scope))) {
        return 0;
    }
    c->sort = f[0];
    c->desc = f[1][0] == 'd';
    c->key = f[2];
    c->id = f[3];
    return 1;
}

cc_error_t *cc_args_int(apr_pool_t *p, cc_error_t *err, apr_table_t *args, const char *name,
                        int lo, int hi, int dflt, int *pv)
{
    const char *s = args ? apr_table_get(args, name) : NULL;
    apr_int64_t v;

    *pv = dflt;
    if (!s) {
        return err;
    }
    if (!cc_parse_int(s, lo, hi, &v)) {
        return cc_error_collect(p, err, name,
                                apr_psprintf(p, "must be an integer from %d to %d", lo, hi));
    }
    *pv = (int)v;
    return err;
}
