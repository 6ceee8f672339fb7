/**
 * @file test_cc_validate.c
 * @brief Unit tests for the pure validators and parsers (shared/cc_validate.c).
 */
#include <string.h>

#include "cc_test.h"
#include "cc_validate.h"


typedef struct {
    const char *s;
    int ok;
} str_case;

/* ---- UTF-8 ---- */

static const struct {
    const char *s;
    apr_size_t len;   /* 0: strlen */
    int ok;
} utf8_cases[] = {
    {"plain ascii", 0, 1},
    {"caf\xc3\xa9", 0, 1},                      /* é */
    {"\xe2\x82\xac", 0, 1},                     /* € */
    {"\xf0\x9f\x98\x80", 0, 1},                 /* 😀 */
    {"\xf4\x8f\xbf\xbf", 0, 1},                 /* U+10FFFF */
    {"\xef\xbf\xbf", 0, 1},                     /* U+FFFF (noncharacter, still valid) */
    {"a\0b", 3, 1},                             /* U+0000 is well-formed UTF-8 */
    {"\x80", 0, 0},                             /* lone continuation byte */
    {"\xc0\x80", 0, 0},                         /* overlong NUL */
    {"\xc1\xbf", 0, 0},                         /* overlong */
    {"\xe0\x80\xaf", 0, 0},                     /* overlong 3-byte '/' */
    {"\xf0\x80\x80\xaf", 0, 0},                 /* overlong 4-byte '/' */
    {"\xed\xa0\x80", 0, 0},                     /* high surrogate U+D800 */
    {"\xed\xbf\xbf", 0, 0},                     /* low surrogate U+DFFF */
    {"\xf4\x90\x80\x80", 0, 0},                 /* U+110000 */
    {"\xf5\x80\x80\x80", 0, 0},
    {"\xff", 0, 0},
    {"\xc3", 0, 0},                             /* truncated */
    {"\xe2\x82", 0, 0},                         /* truncated */
    {"\xc3\x28", 0, 0},                         /* bad continuation */
};

START_TEST(utf8_validity_follows_the_unicode_table)
{
    apr_size_t len = utf8_cases[_i].len ? utf8_cases[_i].len : strlen(utf8_cases[_i].s);

    ck_assert_msg(cc_valid_utf8(utf8_cases[_i].s, len) == utf8_cases[_i].ok, "case %d", _i);
}
END_TEST

START_TEST(utf8_chars_counts_code_points_not_bytes)
{
    ck_assert_uint_eq(cc_utf8_chars(""), 0);
    ck_assert_uint_eq(cc_utf8_chars("abc"), 3);
    ck_assert_uint_eq(cc_utf8_chars("caf\xc3\xa9"), 4);
    ck_assert_uint_eq(cc_utf8_chars("\xf0\x9f\x98\x80"), 1);
    ck_assert_uint_eq(cc_utf8_chars(NULL), 0);
}
END_TEST

START_TEST(utf8_cut_len_never_splits_a_character)
{
    const char *s = "ab\xc3\xa9\xf0\x9f\x98\x80z";     /* a b é 😀 z: 9 bytes */

    ck_assert_uint_eq(cc_utf8_cut_len(s, 9, 9), 9);
    ck_assert_uint_eq(cc_utf8_cut_len(s, 9, 20), 9);
    ck_assert_uint_eq(cc_utf8_cut_len(s, 9, 8), 8);         /* before z */
    ck_assert_uint_eq(cc_utf8_cut_len(s, 9, 7), 4);         /* inside 😀: before it */
    ck_assert_uint_eq(cc_utf8_cut_len(s, 9, 5), 4);
    ck_assert_uint_eq(cc_utf8_cut_len(s, 9, 4), 4);
    ck_assert_uint_eq(cc_utf8_cut_len(s, 9, 3), 2);         /* inside é */
    ck_assert_uint_eq(cc_utf8_cut_len(s, 9, 0), 0);
    ck_assert_uint_eq(cc_utf8_cut_len("\xc3\xa9", 2, 1), 0);
}
END_TEST

/* A string, the bounds in code points, and whether it passes. */
typedef struct {
    const char *s;
    apr_size_t min, max;
    int ok;
} bounded_case;

static const bounded_case text_cases[] = {
    {"Alice", 1, 200, 1},
    {"", 1, 200, 0},
    {"", 0, 200, 1},
    {"\xf0\x9f\x98\x80", 1, 1, 1},              /* an emoji is one character */
    {"\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 1, 1, 0},
    {"caf\xc3\xa9", 4, 4, 1},
    {"abcd", 1, 3, 0},
    {"line\nbreak\ttab\rcr", 1, 200, 1},
    {"bell\x07", 1, 200, 0},
    {"esc\x1b[0m", 1, 200, 0},
    {"del\x7f", 1, 200, 0},
    {"bad\xff", 1, 200, 0},
    {"\xc0\xaf", 1, 200, 0},                    /* overlong */
    {"\xed\xa0\x80", 1, 200, 0},                /* surrogate */
    {NULL, 0, 200, 0},
};

START_TEST(text_is_checked_for_length_in_code_points_and_controls)
{
    ck_assert_msg(cc_valid_text(text_cases[_i].s, text_cases[_i].min, text_cases[_i].max)
                  == text_cases[_i].ok, "case %d", _i);
}
END_TEST

/* Issue 8 #14: a name is one line of visible text; C0, DEL, C1 and U+2028/9 are refused. */
static const bounded_case name_cases[] = {
    {"Ada Lovelace", 1, 200, 1},
    {"Z\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x98\x80", 1, 200, 1},   /* accents, dash, emoji */
    {"nbsp\xc2\xa0ok", 1, 200, 1},              /* U+00A0 is a space, not a control */
    {"abcd", 1, 3, 0},                          /* cc_valid_text's checks hold too */
    {"tab\there", 1, 200, 0},
    {"line\nbreak", 1, 200, 0},
    {"cr\rhere", 1, 200, 0},
    {"nel\xc2\x85here", 1, 200, 0},             /* U+0085 */
    {"c1\xc2\x80", 1, 200, 0},                  /* U+0080 */
    {"csi\xc2\x9b" "0m", 1, 200, 0},            /* U+009B */
    {"ls\xe2\x80\xa8here", 1, 200, 0},         /* U+2028 */
    {"ps\xe2\x80\xa9here", 1, 200, 0},         /* U+2029 */
    {"trunc\xc2", 1, 200, 0},
};

START_TEST(names_are_one_line_without_controls)
{
    ck_assert_msg(cc_valid_name(name_cases[_i].s, name_cases[_i].min, name_cases[_i].max)
                  == name_cases[_i].ok, "case %d", _i);
}
END_TEST

/* ---- identifiers ---- */

/* "a@" + three 63-char labels + an n-char label + ".com": 2 + 192 + n + 4 bytes. */
static const char *email_of_length(apr_pool_t *p, apr_size_t total)
{
    char *s = apr_palloc(p, total + 1), *o = s;
    apr_size_t n = total - 198;
    int i;

    memcpy(o, "a@", 2);
    o += 2;
    for (i = 0; i < 3; i++) {
        memset(o, 'x', 63);
        o[63] = '.';
        o += 64;
    }
    memset(o, 'y', n);
    o += n;
    memcpy(o, ".com", 5);
    return s;
}

/* "<local>@x.co" with a local part of n characters. */
static const char *email_with_local(apr_pool_t *p, apr_size_t n)
{
    char *s = apr_palloc(p, n + 6);

    memset(s, 'l', n);
    memcpy(s + n, "@x.co", 6);
    return s;
}

/* "a@<label>.com" with a first label of n characters. */
static const char *email_with_label(apr_pool_t *p, apr_size_t n)
{
    char *s = apr_palloc(p, n + 7);

    memcpy(s, "a@", 2);
    memset(s + 2, 'b', n);
    memcpy(s + 2 + n, ".com", 5);
    return s;
}

static const str_case email_cases[] = {
    {"admin@example.com", 1},
    {"first.last+tag@sub.example.co.uk", 1},
    {"o'brien@example.ie", 1},
    {"a@b.io", 1},
    {"x_y-z@my-host.example", 1},
    {"", 0},
    {"plain", 0},
    {"@example.com", 0},
    {"a@", 0},
    {"a@@example.com", 0},
    {"a@b@example.com", 0},
    {"a@localhost", 0},                         /* no dot */
    {"a@example.c", 0},                         /* one-letter TLD */
    {"a@example.c0m", 0},                       /* TLD not letters */
    {"a@-example.com", 0},
    {"a@example-.com", 0},
    {"a@exa_mple.com", 0},
    {"a@example..com", 0},
    {"a@.example.com", 0},
    {"a@example.com.", 0},
    {".a@example.com", 0},
    {"a.@example.com", 0},
    {"a..b@example.com", 0},
    {"a b@example.com", 0},
    {"a@exa mple.com", 0},
    {"a\t@example.com", 0},
    {"a\n@example.com", 0},
    {"\"a\"@example.com", 0},
    {"<a@example.com>", 0},
    {"a,b@example.com", 0},
    {"a@example.com,b@example.com", 0},
    {"caf\xc3\xa9@example.com", 0},
    {NULL, 0},
};

START_TEST(email_validation_is_pragmatic)
{
    ck_assert_msg(cc_valid_email(email_cases[_i].s) == email_cases[_i].ok, "case %d: %s",
                  _i, email_cases[_i].s ? email_cases[_i].s : "(null)");
}
END_TEST

START_TEST(email_length_limits_apply)
{
    apr_pool_t *p = cc_test_pool;

    ck_assert_uint_eq(strlen(email_of_length(p, 254)), 254);
    ck_assert_int_eq(cc_valid_email(email_of_length(p, 254)), 1);
    ck_assert_int_eq(cc_valid_email(email_of_length(p, 255)), 0);
    ck_assert_int_eq(cc_valid_email(email_with_local(p, 64)), 1);
    ck_assert_int_eq(cc_valid_email(email_with_local(p, 65)), 0);
    ck_assert_int_eq(cc_valid_email(email_with_label(p, 63)), 1);
    ck_assert_int_eq(cc_valid_email(email_with_label(p, 64)), 0);
}
END_TEST

static const str_case e164_cases[] = {
    {"+12345678", 1},                           /* 8 digits: the shortest */
    {"+123456789012345", 1},                    /* 15 digits: the longest */
    {"+4930123456", 1},
    {"+1234567", 0},                            /* 7 digits */
    {"+1234567890123456", 0},                   /* 16 digits */
    {"+01234567", 0},                           /* leading 0 */
    {"12345678", 0},                            /* no '+' */
    {"++12345678", 0},
    {"+1234 5678", 0},
    {"+1234-5678", 0},
    {"+", 0},
    {"", 0},
    {"+12345678\n", 0},
    {NULL, 0},
};

CC_PREDICATE_TEST(e164_needs_plus_and_8_to_15_digits_not_starting_with_0,
                  cc_valid_e164, e164_cases)

static const str_case slug_cases[] = {
    {"acme", 1}, {"abc", 1}, {"a-1", 1}, {"platform", 1},
    {"ab", 0}, {"Acme", 0}, {"ac_me", 0}, {"ac me", 0}, {"", 0}, {NULL, 0},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1},   /* 63 */
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},  /* 64 */
    /* Where a tenant is named by id or slug, a UUID-shaped slug could be another's id. */
    {"0b6e3a52-1c2d-4e5f-8a9b-0c1d2e3f4a5b", 0}, {"0b6e3a52-1c2d-4e5f-8a9b-0c1d2e3f4a5", 1},
};

CC_PREDICATE_TEST(slug_is_lowercase_digits_and_hyphen_3_to_63,
                  cc_valid_slug, slug_cases)

static const str_case role_cases[] = {
    {"agent", 1}, {"tenant_admin", 1}, {"q2", 1}, {"ab", 1},
    {"a", 0}, {"2fa", 0}, {"_x", 0}, {"Agent", 0}, {"night-shift", 0}, {"", 0}, {NULL, 0},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1},   /* 63 */
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},  /* 64 */
};

CC_PREDICATE_TEST(role_name_starts_with_a_letter_then_lowercase_digits_underscore,
                  cc_valid_role_name, role_cases)

static const str_case uuid_cases[] = {
    {"123e4567-e89b-42d3-a456-426614174000", 1},
    {"00000000-0000-0000-0000-000000000000", 1},
    {"123E4567-E89B-42D3-A456-426614174000", 0},    /* uppercase is not canonical */
    {"123e4567e89b42d3a456426614174000", 0},
    {"123e4567-e89b-42d3-a456-42661417400", 0},
    {"123e4567-e89b-42d3-a456-4266141740000", 0},
    {"123e4567-e89b-42d3-a456_426614174000", 0},
    {"g23e4567-e89b-42d3-a456-426614174000", 0},
    {"", 0},
    {NULL, 0},
};

CC_PREDICATE_TEST(uuid_must_be_canonical_lowercase, cc_valid_uuid, uuid_cases)

START_TEST(request_id_allows_1_to_128_safe_characters)
{
    char buf[130];

    ck_assert_int_eq(cc_valid_request_id("abc-DEF_123.x"), 1);
    ck_assert_int_eq(cc_valid_request_id("a"), 1);
    ck_assert_int_eq(cc_valid_request_id(""), 0);
    ck_assert_int_eq(cc_valid_request_id(NULL), 0);
    ck_assert_int_eq(cc_valid_request_id("a b"), 0);
    ck_assert_int_eq(cc_valid_request_id("a\r\nSet-Cookie:x"), 0);
    ck_assert_int_eq(cc_valid_request_id("a/b"), 0);
    memset(buf, 'r', 128);
    buf[128] = '\0';
    ck_assert_int_eq(cc_valid_request_id(buf), 1);
    buf[128] = 'r';
    buf[129] = '\0';
    ck_assert_int_eq(cc_valid_request_id(buf), 0);
    ck_assert_int_eq(cc_valid_id_chars("1714558530.42", 150), 1);
    ck_assert_int_eq(cc_valid_id_chars("/PJSIP.*/", 150), 0);     /* Hangup's regex form */
    ck_assert_int_eq(cc_valid_id_chars("abc", 2), 0);
}
END_TEST

START_TEST(enum_matches_exact_members_only)
{
    static const char *const statuses[] = {"active", "disabled", NULL};

    ck_assert_int_eq(cc_valid_enum("active", statuses), 1);
    ck_assert_int_eq(cc_valid_enum("disabled", statuses), 1);
    ck_assert_int_eq(cc_valid_enum("Active", statuses), 0);
    ck_assert_int_eq(cc_valid_enum("", statuses), 0);
    ck_assert_int_eq(cc_valid_enum(NULL, statuses), 0);
}
END_TEST

/* ---- numbers ---- */

static const struct {
    const char *s;
    int ok;
    apr_int64_t v;
} id_cases[] = {
    {"1", 1, 1},
    {"42", 1, 42},
    {"9007199254740991", 1, APR_INT64_C(9007199254740991)},
    {"9007199254740992", 0, 0},
    {"99999999999999999999999", 0, 0},
    {"0", 0, 0},
    {"007", 0, 0},
    {"-1", 0, 0},
    {"+1", 0, 0},
    {" 1", 0, 0},
    {"1 ", 0, 0},
    {"1e3", 0, 0},
    {"0x10", 0, 0},
    {"", 0, 0},
    {NULL, 0, 0},
};

START_TEST(ids_are_positive_decimal_up_to_2_pow_53_minus_1)
{
    apr_int64_t v = -7;

    ck_assert_msg(cc_parse_id(id_cases[_i].s, &v) == id_cases[_i].ok, "case %d", _i);
    if (id_cases[_i].ok) {
        ck_assert_int_eq(v, id_cases[_i].v);
    }
}
END_TEST

static const struct {
    const char *s;
    apr_int64_t min, max;
    int ok;
    apr_int64_t v;
} int_cases[] = {
    {"5", 1, 10, 1, 5},
    {"1", 1, 10, 1, 1},
    {"10", 1, 10, 1, 10},
    {"0", 1, 10, 0, 0},
    {"11", 1, 10, 0, 0},
    {"-5", -10, 10, 1, -5},
    {"-0", -10, 10, 1, 0},
    {"007", 0, 10, 1, 7},
    {"-9223372036854775808", APR_INT64_MIN, 0, 1, APR_INT64_MIN},
    {"9223372036854775807", 0, APR_INT64_MAX, 1, APR_INT64_MAX},
    {"9223372036854775808", 0, APR_INT64_MAX, 0, 0},
    {"-9223372036854775809", APR_INT64_MIN, 0, 0, 0},
    {"-", -10, 10, 0, 0},
    {"", -10, 10, 0, 0},
    {"+5", -10, 10, 0, 0},
    {"5.0", -10, 10, 0, 0},
    {" 5", -10, 10, 0, 0},
    {"--5", -10, 10, 0, 0},
    {NULL, -10, 10, 0, 0},
};

START_TEST(integers_parse_within_inclusive_bounds)
{
    apr_int64_t v = 12345;

    ck_assert_msg(cc_parse_int(int_cases[_i].s, int_cases[_i].min, int_cases[_i].max, &v)
                  == int_cases[_i].ok, "case %d", _i);
    if (int_cases[_i].ok) {
        ck_assert_int_eq(v, int_cases[_i].v);
    }
}
END_TEST

/* ---- time ---- */

static const struct {
    const char *in;
    const char *sql;   /* NULL: invalid */
} rfc3339_cases[] = {
    {"2026-11-24T06:00:00Z", "2026-11-24 06:00:00"},
    {"2026-11-24t06:00:00z", "2026-11-24 06:00:00"},
    {"2026-11-24T06:00:00.123456Z", "2026-11-24 06:00:00"},
    {"2026-11-24T06:00:00.9Z", "2026-11-24 06:00:00"},
    {"2026-11-24T08:30:00+02:30", "2026-11-24 06:00:00"},
    {"2026-11-24T01:00:00-05:00", "2026-11-24 06:00:00"},
    {"2026-12-31T23:30:00-01:00", "2027-01-01 00:30:00"},
    {"2026-01-01T00:15:00+01:00", "2025-12-31 23:15:00"},
    {"2024-02-29T12:00:00Z", "2024-02-29 12:00:00"},     /* leap year */
    {"2000-02-29T12:00:00Z", "2000-02-29 12:00:00"},     /* divisible by 400 */
    {"2024-03-01T00:30:00+01:00", "2024-02-29 23:30:00"},
    {"2026-11-24T06:00:00+00:00", "2026-11-24 06:00:00"},
    {"2026-11-24T06:00:00-00:00", "2026-11-24 06:00:00"},
    {"2023-02-29T12:00:00Z", NULL},                      /* not a leap year */
    {"1900-02-29T12:00:00Z", NULL},                      /* divisible by 100 */
    {"2026-04-31T00:00:00Z", NULL},
    {"2026-13-01T00:00:00Z", NULL},
    {"2026-00-01T00:00:00Z", NULL},
    {"2026-01-00T00:00:00Z", NULL},
    {"2026-01-01T24:00:00Z", NULL},
    {"2026-01-01T00:60:00Z", NULL},
    {"2026-01-01T00:00:60Z", NULL},                      /* no leap seconds */
    {"2026-01-01T00:00:00", NULL},                       /* no zone */
    {"2026-01-01 00:00:00Z", NULL},
    {"2026-01-01T00:00:00.Z", NULL},
    {"2026-01-01T00:00:00+0100", NULL},
    {"2026-01-01T00:00:00+24:00", NULL},
    {"2026-01-01T00:00:00Zjunk", NULL},
    {"2026-1-01T00:00:00Z", NULL},
    {"26-01-01T00:00:00Z", NULL},
    {"0001-01-01T00:00:00+01:00", NULL},                 /* year 0 after conversion */
    {"", NULL},
    {NULL, NULL},
};

START_TEST(rfc3339_converts_to_utc_sql_datetime)
{
    const char *sql = "untouched";
    int ok = cc_parse_rfc3339(cc_test_pool, rfc3339_cases[_i].in, &sql);

    ck_assert_msg(ok == (rfc3339_cases[_i].sql != NULL), "case %d: %s", _i,
                  rfc3339_cases[_i].in ? rfc3339_cases[_i].in : "(null)");
    if (ok) {
        ck_assert_str_eq(sql, rfc3339_cases[_i].sql);
    }
}
END_TEST

START_TEST(sql_time_renders_as_rfc3339_utc)
{
    apr_pool_t *p = cc_test_pool;

    ck_assert_str_eq(cc_sql_time_to_rfc3339(p, "2026-11-24 06:00:00"), "2026-11-24T06:00:00Z");
    ck_assert_str_eq(cc_sql_time_to_rfc3339(p, "2026-11-24 06:00:00.123"),
                     "2026-11-24T06:00:00Z");
    ck_assert_ptr_null(cc_sql_time_to_rfc3339(p, NULL));
    ck_assert_ptr_null(cc_sql_time_to_rfc3339(p, "2026-11-24"));
    ck_assert_ptr_null(cc_sql_time_to_rfc3339(p, "2026-11-24T06:00:00"));
    ck_assert_ptr_null(cc_sql_time_to_rfc3339(p, "2026-11-24 06:00:00 x"));
}
END_TEST

START_TEST(rfc3339_gives_epoch_seconds_and_back)
{
    apr_pool_t *p = cc_test_pool;
    apr_int64_t t = 7;

    ck_assert(cc_parse_rfc3339_epoch("1970-01-01T00:00:00Z", &t));
    ck_assert_int_eq(t, 0);
    ck_assert(cc_parse_rfc3339_epoch("2026-11-24T08:30:00.75+02:30", &t));
    ck_assert_int_eq(t, APR_INT64_C(1795500000));
    ck_assert_str_eq(cc_epoch_to_sql(p, t), "2026-11-24 06:00:00");
    ck_assert(cc_parse_rfc3339_epoch("1969-12-31T23:59:59Z", &t));
    ck_assert_int_eq(t, -1);
    ck_assert_str_eq(cc_epoch_to_sql(p, -1), "1969-12-31 23:59:59");
    ck_assert_str_eq(cc_epoch_to_sql(p, APR_INT64_C(-62135596800)), "0001-01-01 00:00:00");
    ck_assert_str_eq(cc_epoch_to_sql(p, APR_INT64_C(253402300799)), "9999-12-31 23:59:59");
    ck_assert_ptr_null(cc_epoch_to_sql(p, APR_INT64_C(-62135596801)));
    ck_assert_ptr_null(cc_epoch_to_sql(p, APR_INT64_C(253402300800)));
    t = 7;
    ck_assert(!cc_parse_rfc3339_epoch("9999-12-31T23:59:59-00:01", &t));   /* past 9999 */
    ck_assert(!cc_parse_rfc3339_epoch("2026-11-24", &t));
    ck_assert_int_eq(t, 7);
}
END_TEST

static const struct { const char *in, *key; } addr_cases[] = {
    {"192.0.2.7", "192.0.2.7"},
    {"::ffff:192.0.2.7", "192.0.2.7"},                   /* IPv4-mapped: the IPv4 */
    {"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},        /* a /64 is one host's */
    {"2001:db8:1:2::9", "2001:db8:1:2::/64"},
    {"2001:DB8:1:2::1", "2001:db8:1:2::/64"},             /* canonical form */
    {"::1", "::/64"},
    {"fe80::1%eth0", NULL},                              /* zone ids are not addresses */
    {"192.0.2", NULL},
    {"192.0.2.256", NULL},
    {"example.com", NULL},
    {"", NULL},
    {NULL, NULL},
};

START_TEST(client_addresses_count_per_ipv4_or_ipv6_64)
{
    const char *key = cc_client_addr_key(cc_test_pool, addr_cases[_i].in);

    if (addr_cases[_i].key) {
        ck_assert_msg(key != NULL, "case %d", _i);
        ck_assert_str_eq(key, addr_cases[_i].key);
    }
    else {
        ck_assert_msg(key == NULL, "case %d: %s", _i, key ? key : "");
    }
}
END_TEST

CC_TEST_SUITE("cc_validate",
    CC_TCASE("text"),
        CC_LOOP_TEST(utf8_validity_follows_the_unicode_table, N(utf8_cases)),
        CC_TEST(utf8_chars_counts_code_points_not_bytes),
        CC_TEST(utf8_cut_len_never_splits_a_character),
        CC_LOOP_TEST(text_is_checked_for_length_in_code_points_and_controls, N(text_cases)),
        CC_LOOP_TEST(names_are_one_line_without_controls, N(name_cases)),
    CC_TCASE("identifiers"),
        CC_LOOP_TEST(email_validation_is_pragmatic, N(email_cases)),
        CC_TEST(email_length_limits_apply),
        CC_LOOP_TEST(e164_needs_plus_and_8_to_15_digits_not_starting_with_0, N(e164_cases)),
        CC_LOOP_TEST(slug_is_lowercase_digits_and_hyphen_3_to_63, N(slug_cases)),
        CC_LOOP_TEST(role_name_starts_with_a_letter_then_lowercase_digits_underscore,
                     N(role_cases)),
        CC_LOOP_TEST(uuid_must_be_canonical_lowercase, N(uuid_cases)),
        CC_TEST(request_id_allows_1_to_128_safe_characters),
        CC_TEST(enum_matches_exact_members_only),
        CC_LOOP_TEST(client_addresses_count_per_ipv4_or_ipv6_64, N(addr_cases)),
    CC_TCASE("numbers"),
        CC_LOOP_TEST(ids_are_positive_decimal_up_to_2_pow_53_minus_1, N(id_cases)),
        CC_LOOP_TEST(integers_parse_within_inclusive_bounds, N(int_cases)),
    CC_TCASE("time"),
        CC_LOOP_TEST(rfc3339_converts_to_utc_sql_datetime, N(rfc3339_cases)),
        CC_TEST(sql_time_renders_as_rfc3339_utc),
        CC_TEST(rfc3339_gives_epoch_seconds_and_back))
