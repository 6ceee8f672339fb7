/**
 * @file test_cc_helpdesk_rules.c
 * @brief Unit tests: the pure rules of contacts and the helpdesk (mod_callcenter/
 *        cc_helpdesk_rules.c): phone normalisation, custom_fields limits, tag names and
 *        colours, template placeholders, attachment filenames, media types and the
 *        Content-Disposition of a download.
 */
#include <string.h>

#include <apr_strings.h>

#include "cc_test_rules.h"
#include "cc_helpdesk_rules.h"
#include "cc_validate.h"

/* ---- phones ---- */

static const struct {
    const char *s, *e164;       /* e164 NULL: refused */
} phone_cases[] = {
    { "+1 (555) 010-9999", "+15550109999" },
    { "+15550109999", "+15550109999" },
    { "0044 20 7946 0958", "+442079460958" },
    { "+44.20.7946.0958", "+442079460958" },
    { "(+49) 30-1234-5678", "+493012345678" },
    { "+12345678", "+12345678" },               /* 8 digits: the least */
    { "+123456789012345", "+123456789012345" }, /* 15: the most */
    { "+1234567", NULL },
    { "+1234567890123456", NULL },
    { "15550109999", NULL },                    /* no '+' or "00" */
    { "0015550109999", "+15550109999" },
    { "000441234567", NULL },                   /* "+0..." */
    { "+0441234567", NULL },
    { "++15550109999", NULL },
    { "+1 555 010 9999 ext 2", NULL },
    { "+1\t5550109999", NULL },                 /* only spaces are dropped */
    { "+15550109999\n", NULL },
    { "+1555010999\xef\xbc\x99", NULL },        /* a fullwidth 9 */
    { "+1/555/0109999", NULL },
    { "00", NULL },
    { "+", NULL },
    { "", NULL },
    { " - . ( ) ", NULL },
};

START_TEST(phones_normalise_to_e164)
{
    cc_test_assert_str_or_null(cc_phone_normalise(cc_test_pool, phone_cases[_i].s),
                               phone_cases[_i].e164);
}
END_TEST

START_TEST(phone_null_is_null)
{
    ck_assert_ptr_null(cc_phone_normalise(cc_test_pool, NULL));
}
END_TEST

/* ---- custom fields ---- */

static const struct {
    const char *json;
    const char *issue;      /* a word of the issue; NULL: accepted */
} custom_cases[] = {
    { "{}", NULL },
    { "{\"a\": 1, \"b\": \"x\", \"c\": null, \"d\": true, \"e\": 1.5, \"f\": []}", NULL },
    { "{\"a\": {\"b\": {\"c\": 1}}}", NULL },                  /* depth 3 */
    { "{\"a\": {\"b\": {\"c\": {}}}}", "deeper" },             /* depth 4 */
    { "{\"a\": [[1, 2]]}", NULL },
    { "{\"a\": [[[1]]]}", "deeper" },                          /* arrays count */
    { "{\"a\": [{\"b\": []}]}", "deeper" },
    { "{\"a\": [{\"b\": 1}]}", NULL },
    { "{\"a.b-c_D9\": 1}", NULL },
    { "{\"1a\": 1}", "keys" },
    { "{\"_a\": 1}", "keys" },
    { "{\"-a\": 1}", "keys" },
    { "{\"a b\": 1}", "keys" },
    { "{\"a/b\": 1}", "keys" },
    { "{\"../x\": 1}", "keys" },
    { "{\"\": 1}", "keys" },
    { "{\"\\u00e9\": 1}", "keys" },
    { "{\"a\\nb\": 1}", "keys" },
    { "{\"a\": {\"$where\": 1}}", "keys" },                    /* nested keys too */
    { "{\"a\": [{\"b c\": 1}]}", "keys" },                     /* in arrays too */
    { "{\"a\": \"J\\u00f6rg \\ud83d\\ude00\"}", NULL },        /* multi-byte strings */
    { "[]", "object" },
    { "\"x\"", "object" },
    { "null", "object" },
};

START_TEST(custom_fields_are_bounded)
{
    json_t *j = cc_test_json(custom_cases[_i].json);
    const char *issue = cc_custom_fields_issue(j);

    ck_assert_msg(j != NULL, "case %d: bad test JSON", _i);
    if (custom_cases[_i].issue) {
        ck_assert_msg(issue && strstr(issue, custom_cases[_i].issue), "case %d: %s", _i,
                      issue ? issue : "(accepted)");
        ck_assert_msg(strstr(issue, "custom_fields"), "case %d: %s", _i, issue);
    }
    else {
        ck_assert_msg(!issue, "case %d: %s", _i, issue);
    }
}
END_TEST

START_TEST(custom_fields_null_is_not_an_object)
{
    ck_assert_ptr_nonnull(cc_custom_fields_issue(NULL));
}
END_TEST

START_TEST(custom_field_keys_are_at_most_64)
{
    char key[80];
    json_t *o = cc_json_object(cc_test_pool);

    memset(key, 'k', 64);
    key[64] = '\0';
    json_object_set_new(o, key, json_integer(1));
    ck_assert_ptr_null(cc_custom_fields_issue(o));
    key[64] = 'k';
    key[65] = '\0';
    json_object_set_new(o, key, json_integer(1));
    ck_assert_ptr_nonnull(strstr(cc_custom_fields_issue(o), "keys"));
}
END_TEST

START_TEST(custom_fields_count_keys_at_every_depth)
{
    json_t *o = cc_json_object(cc_test_pool), *inner = json_object();
    int i;

    /* 1 key holding 99 keys: 100 in all. */
    for (i = 0; i < 99; i++) {
        json_object_set_new(inner, apr_psprintf(cc_test_pool, "k%d", i), json_integer(i));
    }
    json_object_set_new(o, "inner", inner);
    ck_assert_ptr_null(cc_custom_fields_issue(o));
    json_object_set_new(inner, "one_more", json_true());
    ck_assert_ptr_nonnull(strstr(cc_custom_fields_issue(o), "100 keys"));

    /* 10,000 keys at the top: refused, not walked through. */
    o = cc_json_object(cc_test_pool);
    for (i = 0; i < 10000; i++) {
        json_object_set_new(o, apr_psprintf(cc_test_pool, "k%d", i), json_integer(i));
    }
    ck_assert_ptr_nonnull(strstr(cc_custom_fields_issue(o), "100 keys"));
}
END_TEST

START_TEST(custom_fields_are_at_most_8192_bytes)
{
    json_t *o = cc_json_object(cc_test_pool), *big;
    char *s = apr_palloc(cc_test_pool, 100001);
    size_t i;

    /* {"a":"..."} is 8 bytes and the string. */
    memset(s, 'x', 8184);
    s[8184] = '\0';
    json_object_set_new(o, "a", json_string(s));
    ck_assert_ptr_null(cc_custom_fields_issue(o));
    s[8184] = 'x';
    s[8185] = '\0';
    json_object_set_new(o, "a", json_string(s));
    ck_assert_ptr_nonnull(strstr(cc_custom_fields_issue(o), "8192 bytes"));

    /* Escapes count as sent: 2,000 newlines are 4,000 bytes ("\n"), fine; 5,000 not. */
    memset(s, '\n', 2000);
    s[2000] = '\0';
    json_object_set_new(o, "a", json_string(s));
    ck_assert_ptr_null(cc_custom_fields_issue(o));
    memset(s, '\n', 5000);
    s[5000] = '\0';
    json_object_set_new(o, "a", json_string(s));
    ck_assert_ptr_nonnull(cc_custom_fields_issue(o));

    /* A large array of numbers: no keys, shallow, but too big. */
    big = json_array();
    for (i = 0; i < 100000; i++) {
        json_array_append_new(big, json_integer((json_int_t)i));
    }
    json_object_set_new(o, "a", big);
    ck_assert_ptr_nonnull(strstr(cc_custom_fields_issue(o), "8192 bytes"));

    /* 100,000 bytes in one string. */
    memset(s, 'y', 100000);
    s[100000] = '\0';
    json_object_set_new(o, "a", json_string(s));
    ck_assert_ptr_nonnull(strstr(cc_custom_fields_issue(o), "8192 bytes"));
}
END_TEST

START_TEST(custom_fields_deep_nesting_is_refused)
{
    json_t *o = cc_json_object(cc_test_pool), *v = json_array();
    int i;

    /* 2,000 levels: refused at level 4, the walk goes no deeper. */
    for (i = 0; i < 2000; i++) {
        json_t *outer = json_array();

        json_array_append_new(outer, v);
        v = outer;
    }
    json_object_set_new(o, "a", v);
    ck_assert_ptr_nonnull(strstr(cc_custom_fields_issue(o), "deeper"));
}
END_TEST

START_TEST(custom_fields_strings_are_utf8_without_nul)
{
    json_t *o = cc_json_object(cc_test_pool);

    json_object_set_new(o, "a", json_stringn("a\0b", 3));
    ck_assert_ptr_nonnull(strstr(cc_custom_fields_issue(o), "NUL"));
    json_object_set_new(o, "a", json_stringn_nocheck("\xff\xfe", 2));
    ck_assert_ptr_nonnull(strstr(cc_custom_fields_issue(o), "UTF-8"));
    json_object_set_new(o, "a", json_string_nocheck("\xed\xa0\x80"));   /* a surrogate */
    ck_assert_ptr_nonnull(strstr(cc_custom_fields_issue(o), "UTF-8"));
    json_object_set_new(o, "a", json_pack("[s, [s#]]", "ok", "x\0y", 3));
    ck_assert_ptr_nonnull(strstr(cc_custom_fields_issue(o), "NUL"));
    json_object_set_new(o, "a", json_string("fine"));
    ck_assert_ptr_null(cc_custom_fields_issue(o));
    /* A key with a NUL inside (jansson 2.14 keeps a key's length). */
    json_object_setn_new(o, "b\0c", 3, json_integer(1));
    ck_assert_ptr_nonnull(strstr(cc_custom_fields_issue(o), "keys"));
}
END_TEST

/* ---- tags ---- */

typedef struct {
    const char *s;
    int ok;
} str_case;

static const str_case tag_name_cases[] = {
    { "vip", 1 },
    { "VIP customer", 1 },
    { "a", 1 },
    { "\xe6\x97\xa5\xe6\x9c\xac", 1 },                 /* 日本 */
    { "caf\xc3\xa9", 1 },
    { "a.b-c_d:e/f", 1 },
    { "", 0 },
    { " vip", 0 },
    { "vip ", 0 },
    { " ", 0 },
    { "a,b", 0 },
    { ",", 0 },
    { "a\tb", 0 },
    { "a\nb", 0 },
    { "a\r\n", 0 },
    { "a\x7f", 0 },
    { "a\xc2\x85", 0 },                                /* NEL */
    { "a\xe2\x80\xa8" "b", 0 },                        /* U+2028 */
    { "\xff", 0 },
    { "a\xc3", 0 },
    { "\xc0\xaf", 0 },
};

CC_PREDICATE_TEST(tag_names_follow_the_rules, cc_tag_name_ok, tag_name_cases)

START_TEST(tag_names_are_at_most_50_characters)
{
    char s[256] = "";
    int i;

    for (i = 0; i < 50; i++) {
        strcat(s, "\xc3\xa9");                         /* 50 characters, 100 bytes */
    }
    ck_assert(cc_tag_name_ok(s));
    strcat(s, "x");
    ck_assert(!cc_tag_name_ok(s));
    memset(s, 'a', 50);
    s[50] = '\0';
    ck_assert(cc_tag_name_ok(s));
    s[50] = 'a';
    s[51] = '\0';
    ck_assert(!cc_tag_name_ok(s));
    ck_assert(!cc_tag_name_ok(NULL));
}
END_TEST

static const str_case color_cases[] = {
    { "#aabbcc", 1 },
    { "#AABBCC", 1 },
    { "#0fA9e3", 1 },
    { "aabbcc", 0 },
    { "#abc", 0 },
    { "#aabbccd", 0 },
    { "#aabbc", 0 },
    { "#gggggg", 0 },
    { "#aabbc\n", 0 },
    { "#aabbcc\n", 0 },
    { " #aabbcc", 0 },
    { "##aabbc", 0 },
    { "", 0 },
    { "#", 0 },
    { NULL, 0 },
};

CC_PREDICATE_TEST(tag_colors_are_hex_rgb, cc_tag_color_ok, color_cases)

/* ---- templates ---- */

static const struct {
    const char *body;
    const char *issue;      /* NULL: accepted */
} template_cases[] = {
    { "Hello {{contact.name}}, ticket #{{ticket.number}} is {{ticket.status}}.", NULL },
    { "{{ ticket.number }}", NULL },
    { "{{   agent.email}}", NULL },
    { "{{{ticket.number}}}", NULL },                   /* '{', the number, '}' */
    { "{{{{ticket.id}}", NULL },
    { "{{ticket.number}}}}", NULL },
    { "{ticket.number}", NULL },                       /* lone braces are literal */
    { "a } b { c }", NULL },
    { "", NULL },
    { "no placeholders", NULL },
    { "{{ticket.foo}}", "unknown placeholder {{ticket.foo}}" },
    { "x {{ ticket.foo }}", "unknown placeholder {{ticket.foo}}" },
    { "{{ticket number}}", "unknown placeholder {{ticket number}}" },
    { "{{Ticket.Number}}", "unknown placeholder {{Ticket.Number}}" },
    { "{{ticket.id}} {{x}} {{y", "unknown placeholder {{x}}" },    /* the first bad one */
    { "{{}}", "unknown placeholder at byte 0" },
    { "{{   }}", "unknown placeholder at byte 0" },
    { "ab{{\tticket.number}}", "unknown placeholder at byte 2" },  /* not echoed */
    { "{{ticket.\nnumber}}", "unknown placeholder at byte 0" },
    { "{{{ticket.number}}", NULL },                   /* '{' and the number */
    { "{{ticket.number", "unterminated placeholder at byte 0" },
    { "abc {{ticket.number} }", "unterminated placeholder at byte 4" },
    { "{{ticket.number {{ticket.id}}", "unterminated placeholder at byte 0" },
    { "}}{{", "unterminated placeholder at byte 2" },
    { "{{", "unterminated placeholder at byte 0" },
    { "\xc3\xa9{{", "unterminated placeholder at byte 2" },       /* bytes, not chars */
};

START_TEST(template_placeholders_are_checked)
{
    cc_test_assert_str_or_null(cc_template_issue(cc_test_pool, template_cases[_i].body),
                               template_cases[_i].issue);
}
END_TEST

START_TEST(template_issue_never_echoes_a_long_name)
{
    char *body = apr_palloc(cc_test_pool, 300);

    strcpy(body, "{{");
    memset(body + 2, 'n', 200);
    strcpy(body + 202, "}}");
    ck_assert_str_eq(cc_template_issue(cc_test_pool, body), "unknown placeholder at byte 0");
    ck_assert_ptr_null(cc_template_issue(cc_test_pool, NULL));
}
END_TEST

START_TEST(every_listed_placeholder_is_known)
{
    const char *const *k;
    int n = 0;

    for (k = cc_template_placeholders; *k; k++, n++) {
        const char *body = apr_pstrcat(cc_test_pool, "{{", *k, "}}", NULL);

        ck_assert_msg(!cc_template_issue(cc_test_pool, body), "%s", *k);
    }
    ck_assert_int_eq(n, 12);
}
END_TEST

static apr_table_t *template_values(void)
{
    apr_table_t *v = apr_table_make(cc_test_pool, 4);

    apr_table_set(v, "ticket.number", "42");
    apr_table_set(v, "contact.name", "J\xc3\xb6rg {{agent.name}}");    /* not expanded */
    apr_table_set(v, "agent.name", "Bob");
    apr_table_set(v, "ticket.foo", "never");                          /* not a placeholder */
    return v;
}

static const struct {
    const char *body, *out;
} render_cases[] = {
    { "Hi {{contact.name}}, #{{ ticket.number }} by {{agent.name}}.",
      "Hi J\xc3\xb6rg {{agent.name}}, #42 by Bob." },
    { "[{{contact.email}}]", "[]" },                   /* missing: empty */
    { "{{{ticket.number}}}", "{42}" },
    { "{{ticket.number}}{{ticket.number}}", "4242" },
    { "{ticket.number}", "{ticket.number}" },
    { "", "" },
    { "plain", "plain" },
    /* Bodies that did not pass cc_template_issue: as written. */
    { "{{ticket.foo}}", "{{ticket.foo}}" },
    { "a {{ticket.number", "a {{ticket.number" },
    { "{{agent.name}} {{ticket.number", "Bob {{ticket.number" },
};

START_TEST(templates_render_their_values)
{
    const char *out = cc_template_render(cc_test_pool, render_cases[_i].body,
                                         template_values());

    ck_assert_msg(!strcmp(out, render_cases[_i].out), "case %d: %s", _i, out);
}
END_TEST

START_TEST(templates_render_without_values)
{
    ck_assert_str_eq(cc_template_render(cc_test_pool, "a{{ticket.id}}b{{agent.name}}c",
                                        NULL), "abc");
    ck_assert_str_eq(cc_template_render(cc_test_pool, "a{{ticket.id}}b",
                                        apr_table_make(cc_test_pool, 1)), "ab");
    ck_assert_ptr_null(cc_template_render(cc_test_pool, NULL, NULL));
}
END_TEST

START_TEST(a_large_template_renders_in_full)
{
    char *body = apr_palloc(cc_test_pool, CC_TEMPLATE_BODY_MAX + 1);
    const char *out;
    size_t n = 0, i;

    body[0] = '\0';
    while (n + 17 <= CC_TEMPLATE_BODY_MAX) {
        memcpy(body + n, "{{ticket.number}}", 17);
        n += 17;
    }
    body[n] = '\0';
    ck_assert_ptr_null(cc_template_issue(cc_test_pool, body));
    out = cc_template_render(cc_test_pool, body, template_values());
    ck_assert_uint_eq(strlen(out), n / 17 * 2);
    for (i = 0; out[i]; i += 2) {
        ck_assert(out[i] == '4' && out[i + 1] == '2');
    }
}
END_TEST

/* ---- attachment filenames ---- */

static const struct {
    const char *raw, *name;     /* name NULL: refused */
} filename_cases[] = {
    { "report.pdf", "report.pdf" },
    { "../../etc/passwd", "passwd" },
    { "..\\x", "x" },
    { "C:\\a\\b.txt", "b.txt" },
    { "/a/b\\c/d.txt", "d.txt" },
    { ".htaccess", "htaccess" },
    { "...  .hidden", "hidden" },
    { "a\r\nb", "ab" },
    { "a\tb\x7f" "c", "abc" },
    { "a\xc2\x85" "b", "ab" },                         /* NEL */
    { "a\xe2\x80\xa8" "b", "ab" },                     /* U+2028 */
    { "x\xe2\x80\xae" "fdp.exe", "xfdp.exe" },         /* U+202E: looks like xexe.pdf */
    { "\xe2\x81\xa6" "a\xe2\x81\xa9.txt", "a.txt" },   /* U+2066, U+2069 */
    { "\xe2\x80\x8f" "a.txt", "a.txt" },               /* U+200F */
    { "say \"hi\".txt", "say hi.txt" },
    { " . . a . ", "a" },
    { "file.txt.", "file.txt" },
    { "  report .pdf  ", "report .pdf" },
    { "name.tar.gz", "name.tar.gz" },
    { "r\xc3\xa9sum\xc3\xa9.pdf", "r\xc3\xa9sum\xc3\xa9.pdf" },
    { "\xe6\x97\xa5\xe6\x9c\xac.txt", "\xe6\x97\xa5\xe6\x9c\xac.txt" },
    { "a:b<c>|d?*.txt", "a:b<c>|d?*.txt" },            /* only what the rules name goes */
    { "..%2F..%2Fetc", "%2F..%2Fetc" },
    { "..", NULL },
    { ".", NULL },
    { "", NULL },
    { "   ", NULL },
    { "/", NULL },
    { "dir/", NULL },
    { "a/..", NULL },
    { "\\", NULL },
    { "\r\n", NULL },
    { "\"\"", NULL },
    { "\xe2\x80\xae", NULL },
    { "\xff.pdf", NULL },                              /* not UTF-8 */
    { "a\xc3", NULL },
    { "\xc0\xae\xc0\xae/x", NULL },                    /* overlong dots */
    { "\xed\xa0\x80.txt", NULL },                      /* a surrogate */
};

START_TEST(filenames_are_sanitised)
{
    const char *issue = NULL;
    const char *got = cc_attachment_filename(cc_test_pool, filename_cases[_i].raw, &issue);

    if (filename_cases[_i].name) {
        ck_assert_msg(got && !strcmp(got, filename_cases[_i].name), "case %d: %s", _i,
                      got ? got : issue);
    }
    else {
        ck_assert_msg(!got, "case %d: %s", _i, got);
        ck_assert_msg(issue && strstr(issue, "filename"), "case %d", _i);
    }
}
END_TEST

START_TEST(filename_null_is_refused)
{
    const char *issue = NULL;

    ck_assert_ptr_null(cc_attachment_filename(cc_test_pool, NULL, &issue));
    ck_assert_ptr_nonnull(issue);
}
END_TEST

/* A name is repeated to make raw: times copies of unit, then tail. */
static const char *repeat(const char *unit, int times, const char *tail)
{
    char *s = apr_palloc(cc_test_pool, strlen(unit) * (size_t)times + strlen(tail) + 1);

    s[0] = '\0';
    for (int i = 0; i < times; i++) {
        strcat(s, unit);
    }
    return strcat(s, tail);
}

static const struct {
    const char *unit;
    int times;
    const char *tail;
    size_t len;             /* of the stored name */
    const char *ends;       /* how it ends */
} long_name_cases[] = {
    { "a", 300, ".pdf", 255, "aaa.pdf" },
    { "a", 251, ".pdf", 255, "aaa.pdf" },               /* 255: as it is */
    { "a", 252, ".pdf", 255, "aaa.pdf" },
    { "\xc3\xa9", 200, ".pdf", 254, "\xc3\xa9.pdf" },   /* é: 125 of them fit */
    { "\xf0\x9f\x98\x80", 100, ".txt", 252, "\x80.txt" }, /* 😀: 62 fit */
    { "\xe6\x97\xa5", 100, ".\xe6\x97\xa5\xe6\x9c\xac", 253,            /* 日: 82 fit */
      "\xe6\x97\xa5.\xe6\x97\xa5\xe6\x9c\xac" },
    { "a", 300, ".123456789012345", 255, "a.123456789012345" },   /* 16 bytes: kept */
    { "a", 300, ".1234567890123456", 255, "aaa" },               /* 17: not kept */
    { "a", 400, "", 255, "aaa" },
    { "a.", 200, "x", 255, "a.a.x" },                   /* ".x" kept */
    { "\xc3\xa9", 300, "", 254, "\xc3\xa9" },
    { "a ", 200, ".pdf", 255, "a a.pdf" },
    { "ab ", 200, "", 254, "ab ab" },                   /* cut after a space: trimmed */
};

START_TEST(long_filenames_are_cut_keeping_the_extension)
{
    const char *issue = NULL;
    const char *raw = repeat(long_name_cases[_i].unit, long_name_cases[_i].times,
                             long_name_cases[_i].tail);
    const char *got = cc_attachment_filename(cc_test_pool, raw, &issue);
    size_t n, e = strlen(long_name_cases[_i].ends);

    ck_assert_msg(got != NULL, "case %d: %s", _i, issue);
    n = strlen(got);
    ck_assert_msg(n == long_name_cases[_i].len, "case %d: %zu bytes", _i, n);
    ck_assert_msg(n >= e && !strcmp(got + n - e, long_name_cases[_i].ends), "case %d: ..%s",
                  _i, got + (n > 12 ? n - 12 : 0));
    ck_assert_msg(cc_valid_utf8(got, n), "case %d: not UTF-8", _i);
}
END_TEST

START_TEST(stored_names_hold_nothing_dangerous)
{
    /* Every byte pattern of a few hostile pieces: the result is always safe or refused. */
    static const char *const pieces[] = {
        "..", "/", "\\", ".", " ", "\"", "\r", "\n", "a", "\xc3\xa9", "\xe2\x80\xae", "\x7f",
    };
    int i, j, k;

    for (i = 0; i < N(pieces); i++) {
        for (j = 0; j < N(pieces); j++) {
            for (k = 0; k < N(pieces); k++) {
                const char *raw = apr_pstrcat(cc_test_pool, pieces[i], pieces[j], pieces[k],
                                              NULL);
                const char *issue = NULL, *c;
                const char *got = cc_attachment_filename(cc_test_pool, raw, &issue);

                if (!got) {
                    ck_assert_ptr_nonnull(issue);
                    continue;
                }
                ck_assert(*got && got[0] != '.' && got[0] != ' ');
                ck_assert(got[strlen(got) - 1] != '.' && got[strlen(got) - 1] != ' ');
                ck_assert(!strpbrk(got, "/\\\"\r\n\x7f"));
                ck_assert(strcmp(got, "..") != 0);
                for (c = got; *c; c++) {
                    ck_assert_uint_eq(cc_control_len(c), 0);
                }
                ck_assert(!strstr(got, "\xe2\x80\xae"));
            }
        }
    }
}
END_TEST

/* ---- media types ---- */

static const struct {
    const char *ct, *type;      /* type NULL: refused */
} media_cases[] = {
    { "text/plain", "text/plain" },
    { "Text/PLAIN; charset=UTF-8", "text/plain" },
    { "text/plain;charset=utf-8", "text/plain" },
    { " application/pdf ", "application/pdf" },
    { "\tapplication/pdf\t; q=1", "application/pdf" },
    { "image/svg+xml", "image/svg+xml" },
    { "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
    { "application/x-7z-compressed", "application/x-7z-compressed" },
    { "text/plain;\r\nX-Evil: 1", "text/plain" },      /* parameters dropped, CRLF too */
    { "text/plain\r\nX-Evil: 1", NULL },
    { "text/plain\n", NULL },
    { "", NULL },
    { "text", NULL },
    { "text/", NULL },
    { "/plain", NULL },
    { "text/plain/x", NULL },
    { "text /plain", NULL },
    { "text/ plain", NULL },
    { "text/pl ain", NULL },
    { "text/plain, text/html", NULL },
    { "*/*", NULL },
    { "text/*", NULL },
    { "-text/plain", NULL },
    { "text/.plain", NULL },
    { "t\xc3\xa9xt/plain", NULL },
    { "text/\"plain\"", NULL },
    { "text/plain\xff", NULL },
};

START_TEST(media_types_are_type_and_subtype)
{
    cc_test_assert_str_or_null(cc_media_type(cc_test_pool, media_cases[_i].ct),
                               media_cases[_i].type);
}
END_TEST

START_TEST(media_type_names_are_at_most_127)
{
    char ct[300];

    memcpy(ct, "application/", 12);
    memset(ct + 12, 'x', 127);
    ct[12 + 127] = '\0';
    ck_assert_ptr_nonnull(cc_media_type(cc_test_pool, ct));
    ct[12 + 127] = 'x';
    ct[12 + 128] = '\0';
    ck_assert_ptr_null(cc_media_type(cc_test_pool, ct));
    memset(ct, 'y', 128);
    strcpy(ct + 128, "/plain");
    ck_assert_ptr_null(cc_media_type(cc_test_pool, ct));
    ck_assert_ptr_null(cc_media_type(cc_test_pool, NULL));
}
END_TEST

/* ---- Content-Disposition ---- */

static const struct {
    const char *name, *header;
} disposition_cases[] = {
    { "report.pdf", "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf" },
    { "r\xc3\xa9sum\xc3\xa9.pdf",
      "attachment; filename=\"r?sum?.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf" },
    { "say \"hi\"\\x.txt",
      "attachment; filename=\"say \\\"hi\\\"\\\\x.txt\"; "
      "filename*=UTF-8''say%20%22hi%22%5Cx.txt" },
    { "a\r\nb", "attachment; filename=\"a??b\"; filename*=UTF-8''a%0D%0Ab" },
    { "100% a;b=c,d'e", "attachment; filename=\"100% a;b=c,d'e\"; "
      "filename*=UTF-8''100%25%20a%3Bb%3Dc%2Cd%27e" },
    { "\xf0\x9f\x98\x80.txt", "attachment; filename=\"?.txt\"; filename*=UTF-8''%F0%9F%98%80.txt" },
    { "a!#$&+-.^_`|~z", "attachment; filename=\"a!#$&+-.^_`|~z\"; "
      "filename*=UTF-8''a!#$&+-.^_`|~z" },
    { "\xff\xfe", "attachment; filename=\"??\"" },       /* not UTF-8: no filename* */
    { "", "attachment" },
};

START_TEST(content_disposition_is_rfc_6266)
{
    const char *got = cc_content_disposition(cc_test_pool, disposition_cases[_i].name);
    const unsigned char *c;

    ck_assert_msg(!strcmp(got, disposition_cases[_i].header), "case %d: %s", _i, got);
    for (c = (const unsigned char *)got; *c; c++) {
        ck_assert_msg(*c >= 0x20 && *c < 0x7F, "case %d: byte %02x", _i, *c);
    }
}
END_TEST

START_TEST(content_disposition_without_a_name)
{
    ck_assert_str_eq(cc_content_disposition(cc_test_pool, NULL), "attachment");
}
END_TEST

CC_TEST_SUITE("cc_helpdesk_rules",
    CC_TCASE("phones"),
        CC_LOOP_TEST(phones_normalise_to_e164, N(phone_cases)),
        CC_TEST(phone_null_is_null),
    CC_TCASE("custom fields"),
        CC_LOOP_TEST(custom_fields_are_bounded, N(custom_cases)),
        CC_TEST(custom_fields_null_is_not_an_object),
        CC_TEST(custom_field_keys_are_at_most_64),
        CC_TEST(custom_fields_count_keys_at_every_depth),
        CC_TEST(custom_fields_are_at_most_8192_bytes),
        CC_TEST(custom_fields_deep_nesting_is_refused),
        CC_TEST(custom_fields_strings_are_utf8_without_nul),
    CC_TCASE("tags"),
        CC_LOOP_TEST(tag_names_follow_the_rules, N(tag_name_cases)),
        CC_TEST(tag_names_are_at_most_50_characters),
        CC_LOOP_TEST(tag_colors_are_hex_rgb, N(color_cases)),
    CC_TCASE("templates"),
        CC_LOOP_TEST(template_placeholders_are_checked, N(template_cases)),
        CC_TEST(template_issue_never_echoes_a_long_name),
        CC_TEST(every_listed_placeholder_is_known),
        CC_LOOP_TEST(templates_render_their_values, N(render_cases)),
        CC_TEST(templates_render_without_values),
        CC_TEST(a_large_template_renders_in_full),
    CC_TCASE("attachments"),
        CC_LOOP_TEST(filenames_are_sanitised, N(filename_cases)),
        CC_TEST(filename_null_is_refused),
        CC_LOOP_TEST(long_filenames_are_cut_keeping_the_extension, N(long_name_cases)),
        CC_TEST(stored_names_hold_nothing_dangerous),
        CC_LOOP_TEST(media_types_are_type_and_subtype, N(media_cases)),
        CC_TEST(media_type_names_are_at_most_127),
        CC_LOOP_TEST(content_disposition_is_rfc_6266, N(disposition_cases)),
        CC_TEST(content_disposition_without_a_name))
