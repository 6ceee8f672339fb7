/* List cursors (shared/cc_page.c, API.md "next_cursor" / "after="): hostile text into
 * cc_cursor_read, and cursors made from hostile fields read back.
 *
 * Input: up to five fields separated by '\n': sort, direction ("d" descending), key, id,
 * scope.  Each input is used twice:
 * - the whole input (to its first NUL) as a cursor's text: read never crashes, and what
 *   it accepts is exactly what cc_cursor_make makes of the fields it read (the one
 *   other spelling: ' ' for '+', as a query string decodes an unencoded '+');
 * - the fields made into a cursor: made or refused by the documented alphabet; a made
 *   one has only characters a query string carries, reads back (raw, and through
 *   cc_args_parse, unencoded as clients paste it, and percent-encoded) as the same
 *   fields within the same scope and never within another scope. */
#include <string.h>
#include "fuzz_common.h"
#include "cc_page.h"

/* What cc_cursor_make documents it takes: 1..64 of [a-z_] (sort), of
 * [0-9A-Za-z:._+-] (key, id). */
static int field_ok(const char *s, int sort)
{
    apr_size_t n = strlen(s);

    if (n < 1 || n > 64) {
        return 0;
    }
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || *s == '_'
              || (!sort && ((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'Z')
                            || strchr(":.+-", *s))))) {
            return 0;
        }
    }
    return 1;
}

/* after=<text> through the query-string parser, as a handler gets it (NULL: refused). */
static const char *through_query(apr_pool_t *p, const char *text)
{
    apr_table_t *args;

    if (cc_args_parse(p, apr_pstrcat(p, "after=", text, NULL), &args)) {
        return NULL;
    }
    return apr_table_get(args, "after");
}

static const char *percent_encoded(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, 3 * strlen(s) + 1), *o = out;

    for (; *s; s++) {
        o += apr_snprintf(o, 4, "%%%02X", (unsigned char)*s);
    }
    *o = '\0';
    return out;
}

static void check_reads_back(apr_pool_t *p, const char *text, const char *scope,
                             const cc_cursor_t *want)
{
    cc_cursor_t c;

    memset(&c, 0, sizeof(c));
    fuzz_check(cc_cursor_read(p, text, scope, &c));
    fuzz_check(!strcmp(c.sort, want->sort) && !c.desc == !want->desc
               && !strcmp(c.key, want->key) && !strcmp(c.id, want->id));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    char *text = apr_pstrmemdup(p, (const char *)data, size);
    char *copy = apr_pstrdup(p, text), *f[5] = { "", "", "", "", "" }, *nl;
    const char *scope, *made, *q;
    cc_cursor_t c, in;
    int n;

    /* 1: the input as a cursor's text. */
    for (n = 0, f[0] = copy; n < 4 && (nl = strchr(f[n], '\n')); n++) {
        *nl = '\0';
        f[n + 1] = nl + 1;
    }
    scope = f[4];
    memset(&c, 0, sizeof(c));
    if (cc_cursor_read(p, text, scope, &c)) {
        /* The one other spelling: a '+' a query string decoded to ' ' (after= pasted
         * unencoded). */
        char *plus = apr_pstrdup(p, text), *sp;

        for (sp = plus; (sp = strchr(sp, ' ')); *sp++ = '+') {
        }
        made = cc_cursor_make(p, &c, scope);
        fuzz_check(made && !strcmp(made, plus));
    }
    if ((q = through_query(p, text)) && cc_cursor_read(p, q, scope, &c)) {
        fuzz_check(field_ok(c.sort, 1) && field_ok(c.key, 0) && field_ok(c.id, 0));
    }

    /* 2: the fields made into a cursor. */
    in.sort = f[0];
    in.desc = f[1][0] == 'd';
    in.key = f[2];
    in.id = f[3];
    made = cc_cursor_make(p, &in, scope);
    {
        /* A DATETIME's "YYYY-MM-DD HH:MM:SS": the space is carried as 'T'. */
        char *key = apr_pstrdup(p, in.key);

        if (strlen(key) > 10 && key[10] == ' ') {
            key[10] = 'T';
        }
        fuzz_check((made != NULL)
                   == (field_ok(in.sort, 1) && field_ok(key, 0) && field_ok(in.id, 0)));
        in.key = key;
    }
    if (made) {
        const char *s;

        for (s = made; *s; s++) {
            fuzz_check((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'Z')
                       || (*s >= 'a' && *s <= 'z') || strchr(":._+-~", *s));
        }
        check_reads_back(p, made, scope, &in);
        fuzz_check(!cc_cursor_read(p, made, apr_pstrcat(p, scope, "x", NULL), &c));
        /* As a client sends it back: pasted into the URL, or encoded. */
        q = through_query(p, made);
        fuzz_check(q != NULL);
        check_reads_back(p, q, scope, &in);
        q = through_query(p, percent_encoded(p, made));
        fuzz_check(q != NULL);
        check_reads_back(p, q, scope, &in);
    }
    apr_pool_destroy(p);
    return 0;
}
