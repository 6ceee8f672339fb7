/**
 * @file test_cc_search.c
 * @brief Unit tests: search terms and the LIKE prefix of a q= (shared/cc_search.c), and
 *        the LIKE escaping they share with cc_like_contains (shared/cc_sql.c).
 */
#include <string.h>

#include <apr_strings.h>
#include <jansson.h>

#include "cc_test.h"
#include "cc_search.h"
#include "cc_sql.h"
#include "cc_validate.h"

/* The terms of s as kind, '|'-joined in order. */
static const char *terms_of(const char *s, cc_search_kind_e kind)
{
    apr_array_header_t *terms = apr_array_make(cc_test_pool, 4, sizeof(const char *));

    cc_search_terms_add(cc_test_pool, terms, s, kind);
    return apr_array_pstrcat(cc_test_pool, terms, '|');
}

/* A value, its kind, and its terms '|'-joined in order ("": none). */
typedef struct {
    const char *s;
    cc_search_kind_e kind;
    const char *terms;
} terms_case;

static const terms_case terms_cases[] = {
    /* text: the whole, the parts between spaces, the words */
    { "Mary-Jane O'Brien", CC_SEARCH_TEXT,
      "mary-jane o'brien|mary-jane|o'brien|mary|jane|o|brien" },
    { "Acme", CC_SEARCH_TEXT, "acme" },
    { "  ACME   Corp\t\n Ltd  ", CC_SEARCH_TEXT, "acme corp ltd|acme|corp|ltd" },
    { "Bob Bob bob", CC_SEARCH_TEXT, "bob bob bob|bob" },                    /* duplicates */
    { "a\x01" "b\x7f" "c", CC_SEARCH_TEXT, "a b c|a|b|c" },                  /* C0, DEL */
    { "a\xc2\x85" "b\xe2\x80\xa8" "c", CC_SEARCH_TEXT, "a b c|a|b|c" },      /* NEL, U+2028 */
    { "Jos\xc3\xa9 M\xc3\xbcller", CC_SEARCH_TEXT,                           /* José Müller */
      "jos\xc3\xa9 m\xc3\xbcller|jos\xc3\xa9|m\xc3\xbcller" },
    { "\xc3\x89MILE", CC_SEARCH_TEXT, "\xc3\x89mile" },             /* only ASCII lowered */
    { "\xe5\xb1\xb1\xe7\x94\xb0 \xe5\xa4\xaa\xe9\x83\x8e", CC_SEARCH_TEXT,   /* 山田 太郎 */
      "\xe5\xb1\xb1\xe7\x94\xb0 \xe5\xa4\xaa\xe9\x83\x8e|\xe5\xb1\xb1\xe7\x94\xb0|"
      "\xe5\xa4\xaa\xe9\x83\x8e" },
    { "50%_\\ off", CC_SEARCH_TEXT, "50%_\\ off|50%_\\|off|50" },
    { "--- ...", CC_SEARCH_TEXT, "--- ...|---|..." },
    { "", CC_SEARCH_TEXT, "" },
    { "   \t ", CC_SEARCH_TEXT, "" },
    { "\xff" "abc", CC_SEARCH_TEXT, "" },                           /* not UTF-8: none */
    { "abc\xc3", CC_SEARCH_TEXT, "" },                              /* cut character */
    { "\xc0\xaf", CC_SEARCH_TEXT, "" },                             /* overlong '/' */
    { "\xed\xa0\x80", CC_SEARCH_TEXT, "" },                         /* surrogate */
    /* phrase: from each part's and each word's start to the end */
    { "Printer on FIRE", CC_SEARCH_PHRASE, "printer on fire|on fire|fire" },
    { "  Login   fails\t\n again ", CC_SEARCH_PHRASE, "login fails again|fails again|again" },
    { "snake_case 100% #42", CC_SEARCH_PHRASE,
      "snake_case 100% #42|case 100% #42|100% #42|#42|42" },
    { "O'Brien's VPN-down", CC_SEARCH_PHRASE,
      "o'brien's vpn-down|brien's vpn-down|s vpn-down|vpn-down|down" },
    { "a a a", CC_SEARCH_PHRASE, "a a a|a a|a" },                         /* duplicates */
    { "caf\xc3\xa9-bar \xc3\xa9t\xc3\xa9", CC_SEARCH_PHRASE,         /* café-bar été */
      "caf\xc3\xa9-bar \xc3\xa9t\xc3\xa9|bar \xc3\xa9t\xc3\xa9|\xc3\xa9t\xc3\xa9" },
    { "x\xc2\x85" "y", CC_SEARCH_PHRASE, "x y|y" },                        /* NEL */
    { "--", CC_SEARCH_PHRASE, "--" },
    { "", CC_SEARCH_PHRASE, "" },
    { " \t", CC_SEARCH_PHRASE, "" },
    { "ab\xff", CC_SEARCH_PHRASE, "" },                            /* not UTF-8: none */
    /* email: the whole, the local part, the domain */
    { "John.Smith@Example.COM", CC_SEARCH_EMAIL,
      "john.smith@example.com|john.smith|example.com" },
    { "a@b@c.com", CC_SEARCH_EMAIL, "a@b@c.com|a@b|c.com" },
    { "@x.com", CC_SEARCH_EMAIL, "@x.com|x.com" },
    { "x@", CC_SEARCH_EMAIL, "x@|x" },
    { "no-at", CC_SEARCH_EMAIL, "no-at" },
    { "a@a", CC_SEARCH_EMAIL, "a@a|a" },                            /* no duplicate */
    { "", CC_SEARCH_EMAIL, "" },
    /* phone: the digits and their suffixes of 3 or more */
    { "+15550109999", CC_SEARCH_PHONE,
      "15550109999|5550109999|550109999|50109999|0109999|109999|09999|9999|999" },
    { "+4930123", CC_SEARCH_PHONE, "4930123|930123|30123|0123|123" },
    { "+1 (555) 01", CC_SEARCH_PHONE, "155501|55501|5501|501" },
    { "+123", CC_SEARCH_PHONE, "123" },
    { "+12", CC_SEARCH_PHONE, "12" },                               /* too short: itself */
    { "+", CC_SEARCH_PHONE, "" },
    { "abc", CC_SEARCH_PHONE, "" },
    { "+1111", CC_SEARCH_PHONE, "1111|111" },
};

START_TEST(terms_are_the_documented_ones)
{
    const terms_case *c = &terms_cases[_i];

    ck_assert_msg(!strcmp(terms_of(c->s, c->kind), c->terms), "case %d: [%s]", _i,
                  terms_of(c->s, c->kind));
}
END_TEST

START_TEST(null_and_empty_give_no_terms)
{
    apr_array_header_t *terms = apr_array_make(cc_test_pool, 1, sizeof(const char *));

    cc_search_terms_add(cc_test_pool, terms, NULL, CC_SEARCH_TEXT);
    cc_search_terms_add(cc_test_pool, terms, NULL, CC_SEARCH_EMAIL);
    cc_search_terms_add(cc_test_pool, terms, NULL, CC_SEARCH_PHONE);
    cc_search_terms_add(cc_test_pool, terms, "", CC_SEARCH_PHONE);
    ck_assert_int_eq(terms->nelts, 0);
    ck_assert_str_eq(cc_search_terms_json(cc_test_pool, terms), "[]");
    ck_assert_str_eq(cc_search_terms_json(cc_test_pool, NULL), "[]");
}
END_TEST

START_TEST(terms_are_unique_across_fields)
{
    apr_array_header_t *terms = apr_array_make(cc_test_pool, 1, sizeof(const char *));

    cc_search_terms_add(cc_test_pool, terms, "Smith", CC_SEARCH_TEXT);
    cc_search_terms_add(cc_test_pool, terms, "SMITH  ", CC_SEARCH_TEXT);
    cc_search_terms_add(cc_test_pool, terms, "smith@smith.io", CC_SEARCH_EMAIL);
    cc_search_terms_add(cc_test_pool, terms, "+44 1234", CC_SEARCH_PHONE);
    cc_search_terms_add(cc_test_pool, terms, "Smith 1234", CC_SEARCH_TEXT);
    ck_assert_str_eq(apr_array_pstrcat(cc_test_pool, terms, '|'),
                     "smith|smith@smith.io|smith.io|441234|41234|1234|234|smith 1234");
}
END_TEST

/* Every term of s: at most CC_SEARCH_TERM_MAX bytes, valid UTF-8, trimmed, non-empty. */
static apr_array_header_t *checked_terms(const char *s, cc_search_kind_e kind)
{
    apr_array_header_t *terms = apr_array_make(cc_test_pool, 4, sizeof(const char *));
    int i;

    cc_search_terms_add(cc_test_pool, terms, s, kind);
    for (i = 0; i < terms->nelts; i++) {
        const char *t = APR_ARRAY_IDX(terms, i, const char *);
        size_t n = strlen(t);

        ck_assert_msg(n >= 1 && n <= CC_SEARCH_TERM_MAX, "term %d: %zu bytes", i, n);
        ck_assert_msg(cc_valid_utf8(t, n), "term %d not UTF-8", i);
        ck_assert_msg(t[0] != ' ' && t[n - 1] != ' ', "term %d not trimmed", i);
    }
    return terms;
}

/* The single whole term of s (text) after pad ASCII 'a's then n copies of the character ch:
 * its length, and it is the input's first bytes (nothing lowered: 'a', É, 😀). */
static size_t cut_len(size_t pad, const char *ch, size_t n)
{
    size_t w = strlen(ch), i;
    char *s = apr_palloc(cc_test_pool, pad + n * w + 1), *o = s;
    apr_array_header_t *terms;
    const char *t;

    memset(o, 'a', pad);
    o += pad;
    for (i = 0; i < n; i++, o += w) {
        memcpy(o, ch, w);
    }
    *o = '\0';
    ck_assert_uint_gt(strlen(s), CC_SEARCH_TERM_MAX);
    terms = checked_terms(s, CC_SEARCH_TEXT);
    ck_assert_int_eq(terms->nelts, 1);
    t = APR_ARRAY_IDX(terms, 0, const char *);
    ck_assert(!memcmp(t, s, strlen(t)));
    return strlen(t);
}

START_TEST(long_text_is_cut_on_a_character_boundary)
{
    size_t big = 4 * CC_SEARCH_TERM_MAX + 1000;
    char *s = apr_palloc(cc_test_pool, big);
    apr_array_header_t *terms;

    /* 2-byte É: one that straddles the last byte is left out, one that ends on it stays. */
    ck_assert_uint_eq(cut_len((CC_SEARCH_TERM_MAX - 1) % 2, "\xc3\x89", CC_SEARCH_TERM_MAX),
                      CC_SEARCH_TERM_MAX - 1);
    ck_assert_uint_eq(cut_len(CC_SEARCH_TERM_MAX % 2, "\xc3\x89", CC_SEARCH_TERM_MAX),
                      CC_SEARCH_TERM_MAX);
    /* 4-byte 😀: straddling the last byte by 1, 2 or 3 bytes; ending on it. */
    for (size_t over = 1; over <= 3; over++) {
        size_t pad = (CC_SEARCH_TERM_MAX + over) % 4;

        ck_assert_uint_eq(cut_len(pad, "\xf0\x9f\x98\x80", CC_SEARCH_TERM_MAX),
                          CC_SEARCH_TERM_MAX + over - 4);
    }
    ck_assert_uint_eq(cut_len(CC_SEARCH_TERM_MAX % 4, "\xf0\x9f\x98\x80", CC_SEARCH_TERM_MAX),
                      CC_SEARCH_TERM_MAX);
    ck_assert_uint_eq(cut_len(0, "b", CC_SEARCH_TERM_MAX + 46), CC_SEARCH_TERM_MAX);

    /* A cut right after a space leaves no trailing space: MAX - 1 'a', ' ', 'b'... */
    memset(s, 'a', CC_SEARCH_TERM_MAX - 1);
    strcpy(s + CC_SEARCH_TERM_MAX - 1, " bcd");
    terms = checked_terms(s, CC_SEARCH_TEXT);
    ck_assert_int_eq(terms->nelts, 2);
    ck_assert_uint_eq(strlen(APR_ARRAY_IDX(terms, 0, const char *)), CC_SEARCH_TERM_MAX - 1);
    ck_assert_str_eq(APR_ARRAY_IDX(terms, 1, const char *), "bcd");
    /* ... and so does a run of spaces there, or a space before a straddling É. */
    strcpy(s + CC_SEARCH_TERM_MAX - 1, " \t \x01  bcd");
    terms = checked_terms(s, CC_SEARCH_TEXT);
    ck_assert_uint_eq(strlen(APR_ARRAY_IDX(terms, 0, const char *)), CC_SEARCH_TERM_MAX - 1);
    strcpy(s + CC_SEARCH_TERM_MAX - 2, " \xc3\x89tienne");
    terms = checked_terms(s, CC_SEARCH_TEXT);
    ck_assert_uint_eq(strlen(APR_ARRAY_IDX(terms, 0, const char *)), CC_SEARCH_TERM_MAX - 2);
    ck_assert_str_eq(APR_ARRAY_IDX(terms, 1, const char *), "\xc3\x89tienne");

    /* Many spaces and controls between two words are one space. */
    memset(s, ' ', 900);
    s[0] = 'x';
    s[450] = '\x01';
    strcpy(s + 900, "y");
    terms = checked_terms(s, CC_SEARCH_TEXT);
    ck_assert_str_eq(APR_ARRAY_IDX(terms, 0, const char *), "x y");

    /* Very long email parts and phone digits are cut too. */
    memset(s, 'b', CC_SEARCH_TERM_MAX + 46);
    strcpy(s + CC_SEARCH_TERM_MAX + 46, "@example.com");
    terms = checked_terms(s, CC_SEARCH_EMAIL);     /* the whole and the local part: one */
    ck_assert_int_eq(terms->nelts, 2);
    ck_assert_uint_eq(strlen(APR_ARRAY_IDX(terms, 0, const char *)), CC_SEARCH_TERM_MAX);
    ck_assert_str_eq(APR_ARRAY_IDX(terms, 1, const char *), "example.com");
    memset(s, '7', CC_SEARCH_TERM_MAX + 46);
    s[CC_SEARCH_TERM_MAX + 46] = '\0';
    terms = checked_terms(s, CC_SEARCH_PHONE);
    ck_assert_int_eq(terms->nelts, CC_SEARCH_TERM_MAX - CC_SEARCH_PHONE_MIN + 1);
    ck_assert_uint_eq(strlen(APR_ARRAY_IDX(terms, 0, const char *)), CC_SEARCH_TERM_MAX);
    ck_assert_uint_eq(strlen(APR_ARRAY_IDX(terms, terms->nelts - 1, const char *)),
                      CC_SEARCH_PHONE_MIN);
}
END_TEST

START_TEST(terms_json_is_an_array_of_the_terms)
{
    apr_array_header_t *terms = apr_array_make(cc_test_pool, 4, sizeof(const char *));
    const char *text;
    json_t *j;

    cc_search_terms_add(cc_test_pool, terms, "Say \"Hi\" \\ J\xc3\xb6rg", CC_SEARCH_TEXT);
    APR_ARRAY_PUSH(terms, const char *) = NULL;             /* left out */
    APR_ARRAY_PUSH(terms, const char *) = "";               /* left out */
    APR_ARRAY_PUSH(terms, const char *) = "bad\xff";        /* left out */
    APR_ARRAY_PUSH(terms, const char *) = "</script>";
    text = cc_search_terms_json(cc_test_pool, terms);
    j = json_loads(text, 0, NULL);
    ck_assert_msg(json_is_array(j), "%s", text);
    ck_assert_int_eq(json_array_size(j), 7);
    ck_assert_str_eq(json_string_value(json_array_get(j, 0)),
                     "say \"hi\" \\ j\xc3\xb6rg");
    ck_assert_str_eq(json_string_value(json_array_get(j, 1)), "say");
    ck_assert_str_eq(json_string_value(json_array_get(j, 2)), "\"hi\"");
    ck_assert_str_eq(json_string_value(json_array_get(j, 3)), "\\");
    ck_assert_str_eq(json_string_value(json_array_get(j, 4)), "j\xc3\xb6rg");
    ck_assert_str_eq(json_string_value(json_array_get(j, 5)), "hi");
    ck_assert_str_eq(json_string_value(json_array_get(j, 6)), "</script>");
    json_decref(j);
    ck_assert_int_eq(terms->nelts, 10);         /* the array itself is left as it was */
}
END_TEST

/* ---- the prefix of a q= ---- */

static const struct {
    const char *q, *like;       /* like NULL: no search */
} prefix_cases[] = {
    { "50%_\\", "50\\%\\_\\\\%" },                  /* LIKE metacharacters literal */
    { "a_b", "a\\_b%" },
    { "100%", "100\\%%" },
    { "+1 (555) 010", "1555010%" },                 /* phone-looking: its digits */
    { "555-01", "55501%" },
    { "555.010.99", "55501099%" },
    { "(555)", "555%" },
    { " 555 ", "555%" },
    { "+15550109999", "15550109999%" },
    { "1+2", "1+2%" },                              /* '+' only first */
    { "++1", "++1%" },
    { "+", "+%" },
    { "+ 1", "1%" },
    { "-", "-%" },                                  /* no digits: a text term */
    { "John  SMITH", "john smith%" },
    { "  O'Brien ", "o'brien%" },
    { "a\tb\r\nc", "a b c%" },
    { "J\xc3\xb6rg", "j\xc3\xb6rg%" },
    { "\xe5\xb1\xb1\xe7\x94\xb0", "\xe5\xb1\xb1\xe7\x94\xb0%" },
    { "", NULL },
    { "    ", NULL },
    { "\t\n", NULL },
    { "abc\xff", NULL },                            /* the caller's check, kept here too */
};

START_TEST(prefix_is_the_documented_pattern)
{
    cc_test_assert_str_or_null(cc_search_prefix(cc_test_pool, prefix_cases[_i].q),
                               prefix_cases[_i].like);
}
END_TEST

/* A subject's q: digits and phone punctuation are text (a subject has no phone terms). */
static const struct {
    const char *q, *like;
} phrase_prefix_cases[] = {
    { "1.2", "1.2%" },
    { "2024-01-05", "2024-01-05%" },
    { "1 2", "1 2%" },
    { "(555) 010", "(555) 010%" },
    { "+1", "+1%" },
    { "  Printer  ON ", "printer on%" },
    { "50%_", "50\\%\\_%" },
    { " ", NULL },
    { "abc\xff", NULL },
};

START_TEST(phrase_prefix_keeps_digits_as_text)
{
    cc_test_assert_str_or_null(cc_search_phrase_prefix(cc_test_pool,
                                                       phrase_prefix_cases[_i].q),
                               phrase_prefix_cases[_i].like);
}
END_TEST

START_TEST(prefix_of_a_long_query_is_cut_like_a_term)
{
    size_t qlen = CC_SEARCH_TERM_MAX + 46;          /* 300 bytes */
    char *q = apr_palloc(cc_test_pool, qlen + 1);
    const char *like;
    size_t pad = (CC_SEARCH_TERM_MAX - 1) % 2, i;

    memset(q, 'Q', qlen);
    q[qlen] = '\0';
    like = cc_search_prefix(cc_test_pool, q);
    ck_assert_uint_eq(strlen(like), CC_SEARCH_TERM_MAX + 1);
    ck_assert_int_eq(like[0], 'q');
    ck_assert_int_eq(like[CC_SEARCH_TERM_MAX - 1], 'q');
    ck_assert_int_eq(like[CC_SEARCH_TERM_MAX], '%');

    /* An é straddling the last byte is left out, as in a term. */
    memset(q, 'a', pad);
    for (i = pad; i + 2 <= qlen; i += 2) {
        memcpy(q + i, "\xc3\xa9", 2);
    }
    q[i] = '\0';
    like = cc_search_prefix(cc_test_pool, q);
    ck_assert_uint_eq(strlen(like), CC_SEARCH_TERM_MAX - 1 + 1);
    ck_assert(cc_valid_utf8(like, CC_SEARCH_TERM_MAX - 1));
    ck_assert(!strncmp(like, q, CC_SEARCH_TERM_MAX - 1));

    memset(q, '9', qlen);
    q[qlen] = '\0';
    like = cc_search_prefix(cc_test_pool, q);
    ck_assert_uint_eq(strlen(like), CC_SEARCH_TERM_MAX + 1);
    ck_assert_int_eq(like[CC_SEARCH_TERM_MAX], '%');
    ck_assert_ptr_null(cc_search_prefix(cc_test_pool, NULL));
    ck_assert_ptr_null(cc_search_phrase_prefix(cc_test_pool, NULL));
}
END_TEST

/* ---- terms and prefix together: LIKE 'prefix%' on the terms, as MariaDB runs it ---- */

/* The literal text a LIKE prefix pattern (escapes, then one '%') matches the start of. */
static const char *like_literal(const char *like)
{
    char *out = apr_palloc(cc_test_pool, strlen(like) + 1), *o = out;
    size_t n = strlen(like);

    ck_assert_int_eq(like[n - 1], '%');
    for (size_t i = 0; i + 1 < n; i++) {
        if (like[i] == '\\') {
            i++;
        }
        else {
            ck_assert_msg(like[i] != '%' && like[i] != '_', "unescaped metachar in %s", like);
        }
        *o++ = like[i];
    }
    *o = '\0';
    return out;
}

static const struct {
    const char *value;
    cc_search_kind_e kind;
    const char *q;
    int found;
} match_cases[] = {
    { "Mary-Jane O'Brien", CC_SEARCH_TEXT, "mary", 1 },
    { "Mary-Jane O'Brien", CC_SEARCH_TEXT, "JANE", 1 },
    { "Mary-Jane O'Brien", CC_SEARCH_TEXT, "o'bri", 1 },
    { "Mary-Jane O'Brien", CC_SEARCH_TEXT, "brien", 1 },
    { "Mary-Jane O'Brien", CC_SEARCH_TEXT, "mary-jane  o", 1 },
    { "Mary-Jane O'Brien", CC_SEARCH_TEXT, "rien", 0 },
    { "Mary-Jane O'Brien", CC_SEARCH_TEXT, "mary%", 0 },
    { "Mary-Jane O'Brien", CC_SEARCH_TEXT, "m_ry", 0 },
    { "50%_\\ Discount", CC_SEARCH_TEXT, "50%_\\", 1 },
    { "50%_\\ Discount", CC_SEARCH_TEXT, "50%x", 0 },
    { "50%_\\ Discount", CC_SEARCH_TEXT, "disc", 1 },
    { "john.smith@example.com", CC_SEARCH_EMAIL, "john", 1 },
    { "john.smith@example.com", CC_SEARCH_EMAIL, "example", 1 },
    { "john.smith@example.com", CC_SEARCH_EMAIL, "JOHN.SMITH@EX", 1 },
    { "john.smith@example.com", CC_SEARCH_EMAIL, "@example", 0 },
    { "+15550109999", CC_SEARCH_PHONE, "+1 (555) 010", 1 },
    { "+15550109999", CC_SEARCH_PHONE, "555-01", 1 },
    { "+15550109999", CC_SEARCH_PHONE, "(555) 010-9999", 1 },
    { "+15550109999", CC_SEARCH_PHONE, "0109", 1 },
    { "+15550109999", CC_SEARCH_PHONE, "99", 1 },
    { "+15550109999", CC_SEARCH_PHONE, "+44", 0 },
    { "+15550109999", CC_SEARCH_PHONE, "5551", 0 },
};

START_TEST(a_query_finds_what_the_terms_promise)
{
    apr_array_header_t *terms = apr_array_make(cc_test_pool, 4, sizeof(const char *));
    const char *lit = like_literal(cc_search_prefix(cc_test_pool, match_cases[_i].q));
    int i, found = 0;

    cc_search_terms_add(cc_test_pool, terms, match_cases[_i].value, match_cases[_i].kind);
    for (i = 0; i < terms->nelts; i++) {
        found |= !strncmp(APR_ARRAY_IDX(terms, i, const char *), lit, strlen(lit));
    }
    ck_assert_msg(found == match_cases[_i].found, "case %d", _i);
}
END_TEST

/* A q= of up to 200 ASCII characters (CONTACT_Q_MAX) is matched whole: a long q that
 * only shares its first bytes with a name does not find it (test_840). */
START_TEST(a_long_query_is_a_prefix_of_the_whole_name)
{
    char *x = apr_palloc(cc_test_pool, 151);
    apr_array_header_t *terms = apr_array_make(cc_test_pool, 4, sizeof(const char *));
    const char *probes[][2] = {
        { " Sm", "1" }, { " Smith", "1" }, { " SMITH", "1" },
        { " Jones", "0" }, { " Smitz", "0" }, { "x", "0" },
    };

    ck_assert_uint_ge(CC_SEARCH_TERM_MAX, 200);
    memset(x, 'x', 150);
    x[150] = '\0';
    cc_search_terms_add(cc_test_pool, terms, apr_pstrcat(cc_test_pool, x, " Smith", NULL),
                        CC_SEARCH_TEXT);
    for (int k = 0; k < N(probes); k++) {
        const char *q = apr_pstrcat(cc_test_pool, x, probes[k][0], NULL);
        const char *lit = like_literal(cc_search_prefix(cc_test_pool, q));
        int i, found = 0;

        ck_assert_uint_eq(strlen(lit), strlen(q));  /* not cut */
        for (i = 0; i < terms->nelts; i++) {
            found |= !strncmp(APR_ARRAY_IDX(terms, i, const char *), lit, strlen(lit));
        }
        ck_assert_msg(found == (probes[k][1][0] == '1'), "probe %d: %s", k, probes[k][0]);
    }
}
END_TEST

/* ---- the LIKE escaping (cc_sql.c) ---- */

START_TEST(like_patterns_escape_their_metacharacters)
{
    ck_assert_str_eq(cc_like_contains(cc_test_pool, "50%_\\"), "%50\\%\\_\\\\%");
    ck_assert_str_eq(cc_like_contains(cc_test_pool, ""), "%%");
    ck_assert_str_eq(cc_like_prefix(cc_test_pool, "50%_\\"), "50\\%\\_\\\\%");
    ck_assert_str_eq(cc_like_prefix(cc_test_pool, ""), "%");
    ck_assert_str_eq(cc_like_prefix(cc_test_pool, "J\xc3\xb6rg's"), "J\xc3\xb6rg's%");
}
END_TEST

CC_TEST_SUITE("cc_search",
    CC_TCASE("terms"),
        CC_LOOP_TEST(terms_are_the_documented_ones, N(terms_cases)),
        CC_TEST(null_and_empty_give_no_terms),
        CC_TEST(terms_are_unique_across_fields),
        CC_TEST(long_text_is_cut_on_a_character_boundary),
        CC_TEST(terms_json_is_an_array_of_the_terms),
    CC_TCASE("prefix"),
        CC_LOOP_TEST(prefix_is_the_documented_pattern, N(prefix_cases)),
        CC_LOOP_TEST(phrase_prefix_keeps_digits_as_text, N(phrase_prefix_cases)),
        CC_TEST(prefix_of_a_long_query_is_cut_like_a_term),
        CC_LOOP_TEST(a_query_finds_what_the_terms_promise, N(match_cases)),
        CC_TEST(a_long_query_is_a_prefix_of_the_whole_name),
        CC_TEST(like_patterns_escape_their_metacharacters))
