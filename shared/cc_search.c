/*
 * cc_search.c (core): search terms and the prefix a q= is matched with (cc_search.h).
 */
#include <string.h>

#include <apr_strings.h>

#include "cc_search.h"
#include "cc_jsonw.h"
#include "cc_sql.h"
#include "cc_validate.h"

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_UPPER(c) ((c) >= 'A' && (c) <= 'Z')
#define IS_ALNUM(c) (IS_DIGIT(c) || IS_UPPER(c) || ((c) >= 'a' && (c) <= 'z'))
#define IS_SPACE(c) ((c) == ' ')      /* the other white space is control characters */

/* term_of and phone_terms hold one term on the stack (CC_SEARCH_TERM_MAX + 4 bytes). */
_Static_assert(CC_SEARCH_TERM_MAX >= 4 && CC_SEARCH_TERM_MAX <= 1024,
               "a term is a few hundred bytes at most");

/*
 * n bytes of s (valid UTF-8) as a term: ASCII letters lowercased, each run of white
 * space and control characters one space, trimmed, at most CC_SEARCH_TERM_MAX bytes cut
 * on a character boundary; NULL when nothing is left.
 */
static const char *term_of(apr_pool_t *p, const char *s, apr_size_t n)
{
    char buf[CC_SEARCH_TERM_MAX + 4];   /* one character may pass the limit: cut below */
    apr_size_t len = 0, i = 0;
    int space = 0;

    while (i < n && len < CC_SEARCH_TERM_MAX) {
        unsigned char c = (unsigned char)s[i];
        apr_size_t ctl = cc_control_len(s + i);

        if (IS_SPACE(c) || ctl) {
            space = 1;
            i += ctl ? ctl : 1;
            continue;
        }
        if (space && len > 0) {
            buf[len++] = ' ';
        }
        space = 0;
        buf[len++] = IS_UPPER(c) ? (char)(c - 'A' + 'a') : (char)c;
        i++;
        /* The rest of a multi-byte character, so the cut below sees whole ones. */
        while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80 && len < sizeof(buf)) {
            buf[len++] = s[i++];
        }
    }
    len = cc_utf8_cut_len(buf, len, CC_SEARCH_TERM_MAX);
    while (len > 0 && buf[len - 1] == ' ') {
        len--;
    }
    return len ? apr_pstrmemdup(p, buf, len) : NULL;
}

/* Add t (NULL: nothing) unless terms holds it already. */
static void add_unique(apr_array_header_t *terms, const char *t)
{
    int i;

    if (!t || !*t) {
        return;
    }
    for (i = 0; i < terms->nelts; i++) {
        const char *have = APR_ARRAY_IDX(terms, i, const char *);

        if (have && !strcmp(have, t)) {
            return;
        }
    }
    APR_ARRAY_PUSH(terms, const char *) = t;
}

/* The bytes of the separator at c: a space or a control character (cc_control_len),
 * or with ascii_punct also any other ASCII character but a letter or a digit; 0: none. */
static apr_size_t sep_len(const char *c, int ascii_punct)
{
    apr_size_t ctl = cc_control_len(c);

    if (ctl) {
        return ctl;
    }
    if (IS_SPACE(*c) || (ascii_punct && (unsigned char)*c < 0x80 && !IS_ALNUM(*c))) {
        return 1;
    }
    return 0;
}

/* Each run of s between separators (sep_len) as a term. */
static void split_terms(apr_pool_t *p, apr_array_header_t *terms, const char *s,
                        int ascii_punct)
{
    const char *c = s, *start;
    apr_size_t n;

    while (*c) {
        while (*c && (n = sep_len(c, ascii_punct)) > 0) {
            c += n;
        }
        for (start = c; *c && !sep_len(c, ascii_punct); c++) {
        }
        if (c > start) {
            add_unique(terms, term_of(p, start, (apr_size_t)(c - start)));
        }
    }
}

/* The whole text, each part between white space (a word with its punctuation:
 * "o'brien", "jean-luc"), and each word (split at ASCII characters other than letters
 * and digits: "o", "brien"). */
static void text_terms(apr_pool_t *p, apr_array_header_t *terms, const char *s)
{
    add_unique(terms, term_of(p, s, strlen(s)));
    split_terms(p, terms, s, 0);
    split_terms(p, terms, s, 1);
}

/* The text from each part's start (after white space) and each word's start (an ASCII
 * letter or digit after another ASCII character) to its end. */
static void phrase_terms(apr_pool_t *p, apr_array_header_t *terms, const char *s)
{
    const char *c = s;
    apr_size_t n;
    int after_sep = 1;                  /* the text's start is a part's */

    while (*c) {
        if ((n = sep_len(c, 0)) > 0) {
            after_sep = 1;
            c += n;
            continue;
        }
        if (after_sep || (IS_ALNUM(*c) && c > s && (unsigned char)c[-1] < 0x80
                          && !IS_ALNUM(c[-1]))) {
            add_unique(terms, term_of(p, c, strlen(c)));
        }
        after_sep = 0;
        c++;
    }
}

static void email_terms(apr_pool_t *p, apr_array_header_t *terms, const char *s)
{
    const char *at = strrchr(s, '@');

    add_unique(terms, term_of(p, s, strlen(s)));
    if (at) {
        add_unique(terms, term_of(p, s, (apr_size_t)(at - s)));
        add_unique(terms, term_of(p, at + 1, strlen(at + 1)));
    }
}

static void phone_terms(apr_pool_t *p, apr_array_header_t *terms, const char *s)
{
    char digits[CC_SEARCH_TERM_MAX + 1];
    apr_size_t n = 0, i;

    for (; *s && n < CC_SEARCH_TERM_MAX; s++) {
        if (IS_DIGIT(*s)) {
            digits[n++] = *s;
        }
    }
    digits[n] = '\0';
    add_unique(terms, apr_pstrmemdup(p, digits, n));
    for (i = 1; i + CC_SEARCH_PHONE_MIN <= n; i++) {
        add_unique(terms, apr_pstrmemdup(p, digits + i, n - i));
    }
}

void cc_search_terms_add(apr_pool_t *p, apr_array_header_t *terms, const char *s,
                         cc_search_kind_e kind)
{
    if (!s || !*s || !cc_valid_utf8(s, strlen(s))) {
        return;
    }
    switch (kind) {
    case CC_SEARCH_EMAIL:
        email_terms(p, terms, s);
        break;
    case CC_SEARCH_PHONE:
        phone_terms(p, terms, s);
        break;
    case CC_SEARCH_PHRASE:
        phrase_terms(p, terms, s);
        break;
    case CC_SEARCH_TEXT:
    default:
        text_terms(p, terms, s);
        break;
    }
}

const char *cc_search_terms_json(apr_pool_t *p, const apr_array_header_t *terms)
{
    cc_jsonw_t w;
    int i, n = 0;

    cc_jsonw_init(&w, p, 256);
    cc_jsonw_lit(&w, "[");
    for (i = 0; terms && i < terms->nelts; i++) {
        const char *t = APR_ARRAY_IDX(terms, i, const char *);

        /* Only what a term can be: a null in the array would be a NULL term row. */
        if (!t || !*t || !cc_valid_utf8(t, strlen(t))) {
            continue;
        }
        if (n++) {
            cc_jsonw_lit(&w, ",");
        }
        cc_jsonw_str(&w, t);
    }
    cc_jsonw_lit(&w, "]");
    return cc_jsonw_text(&w);
}

/* q (valid UTF-8) as a term's LIKE prefix. */
static const char *text_prefix(apr_pool_t *p, const char *q)
{
    const char *term = term_of(p, q, strlen(q));

    return term ? cc_like_prefix(p, term) : NULL;
}

const char *cc_search_prefix(apr_pool_t *p, const char *q)
{
    char *digits;
    const char *c;
    apr_size_t n = 0;
    int plus = 0, other = 0;

    if (!q || !cc_valid_utf8(q, strlen(q))) {
        return NULL;
    }
    digits = apr_palloc(p, strlen(q) + 1);
    for (c = q; *c; c++) {
        if (strchr(" -.()", *c)) {
            continue;
        }
        if (*c == '+' && n == 0 && !plus) {
            plus = 1;
        }
        else if (IS_DIGIT(*c)) {
            digits[n++] = *c;
        }
        else {
            other = 1;
            break;
        }
    }
    if (!other && n > 0) {
        digits[cc_utf8_cut_len(digits, n, CC_SEARCH_TERM_MAX)] = '\0';
        return cc_like_prefix(p, digits);
    }
    return text_prefix(p, q);
}

const char *cc_search_phrase_prefix(apr_pool_t *p, const char *q)
{
    return q && cc_valid_utf8(q, strlen(q)) ? text_prefix(p, q) : NULL;
}
