/**
 * @file test_cc_asterisk.c
 * @brief Unit tests for the Asterisk naming scheme and realtime value validators
 *        (shared/cc_asterisk.c).
 */
#include <regex.h>
#include <string.h>

#include <apr_strings.h>

#include "cc_test.h"
#include "cc_asterisk.h"
#include "cc_validate.h"


typedef struct {
    const char *s;
    int ok;
} str_case;

/* A valid 63-character slug and a second one sharing its first 11 characters. */
#define LONG_SLUG  "acme-corporation-international-holdings-and-subsidiaries-europe"
#define LONG_SLUG2 "acme-corporation-international-holdings-and-subsidiaries-asiapa"

/* ---- tenant key, context, endpoint ids ---- */

START_TEST(short_slugs_are_their_own_key)
{
    ck_assert_str_eq(cc_ast_tenant_key(cc_test_pool, "acme"), "acme");
    ck_assert_str_eq(cc_ast_tenant_key(cc_test_pool, "abcdefghijklmnopqrstuvwx"),
                     "abcdefghijklmnopqrstuvwx");             /* exactly 24 */
}
END_TEST

START_TEST(long_slugs_get_a_hashed_key_of_24_that_no_slug_can_equal)
{
    const char *k1, *k2;

    ck_assert(cc_valid_slug(LONG_SLUG) && cc_valid_slug(LONG_SLUG2));
    k1 = cc_ast_tenant_key(cc_test_pool, LONG_SLUG);
    k2 = cc_ast_tenant_key(cc_test_pool, LONG_SLUG2);
    ck_assert_uint_eq(strlen(k1), CC_AST_KEY_MAX);
    ck_assert(!strncmp(k1, "acme-corpor_", 12));
    ck_assert_str_ne(k1, k2);
    ck_assert(!cc_valid_slug(k1));                 /* '_' is never in a slug */
    /* Deterministic: the same slug always gives the same key. */
    ck_assert_str_eq(k1, cc_ast_tenant_key(cc_test_pool, LONG_SLUG));
    /* 25 characters is already long. */
    ck_assert_uint_eq(strlen(cc_ast_tenant_key(cc_test_pool, "abcdefghijklmnopqrstuvwxy")),
                      CC_AST_KEY_MAX);
}
END_TEST

START_TEST(names_fit_the_realtime_column_widths_for_the_longest_inputs)
{
    apr_pool_t *p = cc_test_pool;
    const char *id = cc_ast_endpoint_id(p, LONG_SLUG, "12345678");

    ck_assert_uint_le(strlen(id), 40);                            /* ps_auths.username */
    ck_assert_uint_le(strlen(cc_ast_context(p, LONG_SLUG)), 40);  /* ps_endpoints.context */
    ck_assert_uint_le(strlen(cc_ast_mailbox(p, LONG_SLUG, "12345678")), 40);
    ck_assert_uint_le(strlen(cc_ast_interface(p, id)), 80);       /* queue_members */
}
END_TEST

START_TEST(endpoint_context_mailbox_and_interface_follow_the_scheme)
{
    apr_pool_t *p = cc_test_pool;

    ck_assert_str_eq(cc_ast_endpoint_id(p, "acme", "1001"), "acme-1001");
    ck_assert_str_eq(cc_ast_context(p, "acme"), "tenant-acme");
    ck_assert_str_eq(cc_ast_mailbox(p, "acme", "1001"), "1001@tenant-acme");
    ck_assert_str_eq(cc_ast_interface(p, "acme-1001"), "PJSIP/acme-1001");
    /* Two tenants, one extension: different ids. */
    ck_assert_str_ne(cc_ast_endpoint_id(p, "acme", "1001"),
                     cc_ast_endpoint_id(p, "globex", "1001"));
    /* A slug ending in digits cannot meet another tenant's id: extensions are digits
     * only, so the last '-' always splits key and extension. */
    ck_assert_str_ne(cc_ast_endpoint_id(p, "acme-1", "001"),
                     cc_ast_endpoint_id(p, "acme", "1001"));
}
END_TEST

/* ---- a tenant that is not active ---- */

/* s matches the POSIX extended regular expression re (MariaDB's REGEXP reads these
 * patterns the same way: anchors, a bracket range and '+'). */
static int ere_match(const char *re, const char *s)
{
    regex_t rx;
    int rc;

    ck_assert_int_eq(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
    rc = regexec(&rx, s, 0, NULL, 0);
    regfree(&rx);
    return rc == 0;
}

START_TEST(contact_patterns_match_the_tenants_registrations_only)
{
    apr_pool_t *p = cc_test_pool;
    const char *like, *id_re, *ep_re, *key;

    cc_ast_contact_patterns(p, "acme", &like, &id_re, &ep_re);
    ck_assert_str_eq(like, "acme-%");
    ck_assert(ere_match(id_re, "acme-1001;@8b1a9953c4611296a827abf8c47804d7"));
    ck_assert(ere_match(ep_re, "acme-1001"));
    /* Tenants whose keys extend this one ("acme-1", "acme-12") are not matched. */
    ck_assert(!ere_match(id_re, "acme-1-1001;@abc"));
    ck_assert(!ere_match(id_re, "acme-12-1001;@abc"));
    ck_assert(!ere_match(ep_re, "acme-1-1001"));
    ck_assert(!ere_match(id_re, "acmex-1001;@abc"));
    ck_assert(!ere_match(id_re, "xacme-1001;@abc"));
    ck_assert(!ere_match(id_re, "acme-1001"));        /* an AOR id, not a contact */
    ck_assert(!ere_match(ep_re, "acme-1001;@abc"));

    /* A derived key's '_' is a LIKE wildcard: escaped there, literal in the regex. */
    key = cc_ast_tenant_key(p, LONG_SLUG);
    cc_ast_contact_patterns(p, LONG_SLUG, &like, &id_re, &ep_re);
    ck_assert_str_eq(like, apr_pstrcat(p, "acme-corpor\\_", key + 12, "-%", NULL));
    ck_assert(ere_match(id_re, apr_pstrcat(p, key, "-1001;@ab", NULL)));
    ck_assert(ere_match(ep_re, apr_pstrcat(p, key, "-1001", NULL)));
    ck_assert(!ere_match(id_re, apr_pstrcat(p, cc_ast_tenant_key(p, LONG_SLUG2),
                                            "-1001;@ab", NULL)));
}
END_TEST

START_TEST(deny_all_fits_its_column_and_reads_back_as_written)
{
    ck_assert_uint_le(strlen(CC_AST_DENY_ALL), 95);              /* ps_endpoints.deny */
    ck_assert_str_eq(cc_ast_rt_encode(cc_test_pool, CC_AST_DENY_ALL), CC_AST_DENY_ALL);
}
END_TEST

static const str_case extension_cases[] = {
    {"10", 1}, {"1001", 1}, {"12345678", 1}, {"0042", 1},
    {"1", 0}, {"123456789", 0}, {"", 0}, {"10a", 0}, {"+1001", 0}, {" 1001", 0},
    {"1001 ", 0}, {"-10", 0}, {"1\xd9\xa1", 0} /* Arabic-Indic digit one */,
};

CC_PREDICATE_TEST(extension_is_2_to_8_ascii_digits,
                  cc_valid_extension, extension_cases)

START_TEST(extension_null_is_invalid)
{
    ck_assert(!cc_valid_extension(NULL));
}
END_TEST

/* ---- slugs and queue names ---- */

static const struct {
    const char *name;
    apr_size_t max;
    const char *slug;
} slugify_cases[] = {
    {"Support", 80, "support"},
    {"Sales EMEA", 80, "sales-emea"},
    {"  --Sales!!  EMEA?? ", 80, "sales-emea"},
    {"caf\xc3\xa9 team", 80, "caf-team"},
    {"\xd0\x9f\xd0\xbe\xd0\xb4\xd0\xb4\xd0\xb5\xd1\x80\xd0\xb6\xd0\xba\xd0\xb0", 80,
     "queue"},                                                  /* all Cyrillic */
    {"!!!", 80, "queue"},
    {"", 80, "queue"},
    {"abc def", 4, "abc"},        /* never cut into a trailing dash */
    {"abc def", 5, "abc-d"},
    {"ABC", 2, "ab"},
    {"x", 0, ""},
};

START_TEST(slugify_keeps_ascii_alnum_and_joins_the_rest_with_single_dashes)
{
    const char *got = cc_ast_slugify(cc_test_pool, slugify_cases[_i].name,
                                     slugify_cases[_i].max);

    ck_assert_msg(!strcmp(got, slugify_cases[_i].slug), "case %d: got '%s'", _i, got);
}
END_TEST

START_TEST(queue_names_are_key_dash_slug_and_tenants_do_not_collide)
{
    apr_pool_t *p = cc_test_pool;

    ck_assert_str_eq(cc_ast_queue_name(p, "acme", "Support", NULL), "acme-support");
    ck_assert_str_eq(cc_ast_queue_name(p, "globex", "Support", NULL), "globex-support");
    ck_assert_str_eq(cc_ast_queue_name(p, "acme", "Support", "42"), "acme-support_42");
}
END_TEST

START_TEST(queue_names_never_exceed_80_even_with_a_fallback_id)
{
    apr_pool_t *p = cc_test_pool;
    char name[200];
    const char *base, *fallback;

    memset(name, 'q', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    base = cc_ast_queue_name(p, LONG_SLUG, name, NULL);
    fallback = cc_ast_queue_name(p, LONG_SLUG, name, "9007199254740991");
    ck_assert_uint_eq(strlen(base), CC_AST_QUEUE_NAME_MAX);
    ck_assert_uint_le(strlen(fallback), CC_AST_QUEUE_NAME_MAX);
    ck_assert_str_ne(base, fallback);
    ck_assert(!strcmp(fallback + strlen(fallback) - 17, "_9007199254740991"));
}
END_TEST

START_TEST(fallback_names_of_different_ids_differ_even_when_slugs_overlap)
{
    apr_pool_t *p = cc_test_pool;

    /* A name ending in digits cannot spell another queue's fallback. */
    ck_assert_str_ne(cc_ast_queue_name(p, "acme", "Sales 12", NULL),
                     cc_ast_queue_name(p, "acme", "sales?", "12"));

    /* "a 1" with id 23 and "a" with id 123 would meet if the id were not last. */
    ck_assert_str_ne(cc_ast_queue_name(p, "acme", "a 1", "23"),
                     cc_ast_queue_name(p, "acme", "a", "123"));
}
END_TEST

/* ---- codecs, music on hold, SIP passwords ---- */

static const struct {
    const char *allow;
    const char *canonical;   /* NULL: invalid */
} codec_cases[] = {
    {"ulaw", "ulaw"},
    {"ulaw,alaw", "ulaw,alaw"},
    {"OPUS, ulaw , g722", "opus,ulaw,g722"},
    {"ulaw,alaw,g722,g729,gsm,opus,ilbc,speex,g726,slin",
     "ulaw,alaw,g722,g729,gsm,opus,ilbc,speex,g726,slin"},
    {"ulaw,alaw,g722,g729,gsm,opus,ilbc,speex,g726,slin,h264", NULL},   /* 11 */
    {"", NULL},
    {",", NULL},
    {"ulaw,", NULL},
    {",ulaw", NULL},
    {"ulaw,,alaw", NULL},
    {"ulaw,ulaw", NULL},
    {"ulaw,ULAW", NULL},
    {"ulaw alaw", NULL},
    {"mp3", NULL},
    {"ulaw;alaw", NULL},
    {"all", NULL},
    {"!ulaw", NULL},
    {"ulawx", NULL},
    {"ula", NULL},
};

START_TEST(codec_lists_come_from_the_supported_set_without_repeats)
{
    const char *canonical = NULL;
    int ok = cc_ast_parse_codecs(cc_test_pool, codec_cases[_i].allow, &canonical);

    ck_assert_msg(ok == (codec_cases[_i].canonical != NULL), "case %d", _i);
    if (ok) {
        ck_assert_msg(!strcmp(canonical, codec_cases[_i].canonical), "case %d: '%s'", _i,
                      canonical);
    }
}
END_TEST

START_TEST(codec_list_null_is_invalid)
{
    ck_assert(!cc_ast_parse_codecs(cc_test_pool, NULL, NULL));
    ck_assert(cc_ast_parse_codecs(cc_test_pool, "alaw", NULL));
}
END_TEST

static const str_case moh_cases[] = {
    {"default", 1}, {"acme_hold-music2", 1}, {"", 0}, {"a b", 0}, {"../etc", 0},
    {"caf\xc3\xa9", 0}, {"x;y", 0},
};

/* valid() refuses max + 1 fill characters, takes max of them, and refuses NULL. */
static void check_length_bound(int (*valid)(const char *), size_t max, char fill)
{
    char s[max + 2];

    memset(s, fill, max + 1);
    s[max + 1] = '\0';
    ck_assert_msg(!valid(s), "%zu accepted", max + 1);
    s[max] = '\0';
    ck_assert_msg(valid(s), "%zu refused", max);
    ck_assert(!valid(NULL));
}

START_TEST(moh_class_is_1_to_128_safe_characters)
{
    ck_assert_msg(cc_ast_valid_moh_class(moh_cases[_i].s) == moh_cases[_i].ok, "case %d",
                  _i);
    check_length_bound(cc_ast_valid_moh_class, CC_AST_MOH_MAX, 'm');
}
END_TEST

/* A class and whether it is the tenant's own; acme's key and '-' begin acme-eu's key. */
static const struct {
    const char *slug;
    const char *s;
    int own;
} moh_owner_cases[] = {
    {"acme", "acme-hold", 1},
    {"acme", "ACME-Hold_2", 1},            /* Asterisk ignores case */
    {"acme", "acme-eu_hold", 1},           /* '_' may be in a name part */
    {"acme", "acme-eu-hold", 0},           /* acme-eu's "hold" */
    {"acme-eu", "acme-eu-hold", 1},
    {"acme-eu", "acme-hold", 0},           /* acme's */
    {"acme-eu", "acme-eu", 0},             /* acme's "eu" */
    {"acme", "acme-", 0},                  /* no name */
    {"acme", "acme", 0},                   /* no '-' at all: a global name */
    {"acme", "acmex-hold", 0},
    {"acme", "acm-hold", 0},
    {"acme", "-hold", 0},
    {"acme", "acme-ho ld", 0},             /* not a class */
    {"acme", NULL, 0},
    {"t-1", "t-1-hold", 1},
    {"t-1", "t-hold", 0},                  /* the key is all before the last '-' */
    /* A long slug's key is derived; the slug itself (or its first 11 characters) owns
     * nothing. */
    {LONG_SLUG, LONG_SLUG "-hold", 0},
    {LONG_SLUG, "acme-corpor-hold", 0},
};

START_TEST(a_tenants_moh_class_is_its_key_a_dash_and_a_name_without_dashes)
{
    ck_assert_msg(cc_ast_moh_is_tenants(cc_test_pool, moh_owner_cases[_i].slug,
                                        moh_owner_cases[_i].s) == moh_owner_cases[_i].own,
                  "case %d: %s", _i, moh_owner_cases[_i].s ? moh_owner_cases[_i].s : "NULL");
}
END_TEST

START_TEST(a_derived_key_owns_its_classes_and_no_two_tenants_share_one)
{
    apr_pool_t *p = cc_test_pool;
    const char *k1 = cc_ast_tenant_key(p, LONG_SLUG), *k2 = cc_ast_tenant_key(p, LONG_SLUG2);
    const char *c1 = apr_pstrcat(p, k1, "-hold", NULL);
    const char *const slugs[] = { "acme", "acme-eu", "acme-eu-x", "eur", "acme-corpor",
                                  LONG_SLUG, LONG_SLUG2, NULL };
    const char *const classes[] = { "acme-eu-x-hold", "acme-eu-hold", "acme-hold",
                                    "eur-hold", "acme-corpor-hold", NULL };
    int i, j, owners;

    ck_assert(cc_ast_moh_is_tenants(p, LONG_SLUG, c1));
    ck_assert(!cc_ast_moh_is_tenants(p, LONG_SLUG2, c1));
    ck_assert(cc_ast_moh_is_tenants(p, LONG_SLUG2, apr_pstrcat(p, k2, "-hold", NULL)));
    /* The 11-character slug the derived key starts with owns none of them. */
    ck_assert(!cc_ast_moh_is_tenants(p, "acme-corpor", c1));
    /* Each class has at most one owner among tenants whose keys nest. */
    for (i = 0; classes[i]; i++) {
        for (owners = 0, j = 0; slugs[j]; j++) {
            owners += cc_ast_moh_is_tenants(p, slugs[j], classes[i]);
        }
        ck_assert_msg(owners == 1, "%s: %d owners", classes[i], owners);
    }
}
END_TEST

START_TEST(a_moh_class_is_allowed_when_global_or_the_tenants)
{
    apr_pool_t *p = cc_test_pool;
    const char *const globals[] = { "default", "jazz", NULL };

    ck_assert(cc_ast_moh_allowed(p, "acme", globals, "default"));
    ck_assert(cc_ast_moh_allowed(p, "acme", globals, "Jazz"));      /* as Asterisk reads */
    ck_assert(!cc_ast_moh_allowed(p, "acme", globals, "rock"));     /* not listed */
    ck_assert(cc_ast_moh_allowed(p, "acme", globals, "acme-rock"));
    ck_assert(!cc_ast_moh_allowed(p, "acme", globals, "acme-eu-rock"));
    ck_assert(!cc_ast_moh_allowed(p, "acme", globals, "globex-rock"));
    ck_assert(!cc_ast_moh_allowed(p, "acme", globals, "a b"));
    ck_assert(!cc_ast_moh_allowed(p, "acme", globals, NULL));
    ck_assert(!cc_ast_moh_allowed(p, "acme", NULL, "default"));     /* no list: none */
    ck_assert(cc_ast_moh_allowed(p, "acme", NULL, "acme-x"));
    /* Global names have no '-' (the mark of a tenant's class). */
    ck_assert(cc_ast_valid_moh_global("default"));
    ck_assert(cc_ast_valid_moh_global("soft_jazz2"));
    ck_assert(!cc_ast_valid_moh_global("soft-jazz"));
    ck_assert(!cc_ast_valid_moh_global(""));
    ck_assert(!cc_ast_valid_moh_global(NULL));
}
END_TEST

static const str_case password_cases[] = {
    {"Str0ng-Passw0rd", 1},
    {"abcdefghijkl", 1},                     /* 12 */
    {"abcdefghijk", 0},                      /* 11 */
    {"with space inside", 0},
    {"has\"quote1234", 0},
    {"has'quote12345", 0},
    {"back\\slash1234", 0},
    {"semi;colon12345", 0},
    {"caret^41decodes", 0},                  /* Asterisk would read "caretAdecodes" */
    {"tab\there123456", 0},
    {"caf\xc3\xa9-password", 0},
    {"", 0},
};

CC_PREDICATE_TEST(given_sip_passwords_are_12_to_80_printable_ascii_without_hazards,
                  cc_ast_valid_sip_password, password_cases)

START_TEST(sip_password_length_bounds)
{
    check_length_bound(cc_ast_valid_sip_password, CC_AST_PASSWORD_MAX, 'x');    /* 80 */
}
END_TEST

START_TEST(generated_sip_passwords_are_32_alnum_valid_and_distinct)
{
    const char *a, *b;
    apr_size_t i;

    ck_assert_int_eq(cc_ast_generate_sip_password(cc_test_pool, &a), APR_SUCCESS);
    ck_assert_int_eq(cc_ast_generate_sip_password(cc_test_pool, &b), APR_SUCCESS);
    ck_assert_uint_eq(strlen(a), CC_AST_PASSWORD_GEN);
    for (i = 0; a[i]; i++) {
        ck_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                         a[i]));
    }
    ck_assert(cc_ast_valid_sip_password(a));
    ck_assert_str_ne(a, b);
}
END_TEST

/* ---- text for Asterisk's narrow columns ---- */

START_TEST(utf8_truncate_cuts_at_code_points)
{
    apr_pool_t *p = cc_test_pool;

    ck_assert_str_eq(cc_utf8_truncate(p, "abc", 5), "abc");
    ck_assert_str_eq(cc_utf8_truncate(p, "abc", 3), "abc");
    ck_assert_str_eq(cc_utf8_truncate(p, "abcdef", 3), "abc");
    ck_assert_str_eq(cc_utf8_truncate(p, "caf\xc3\xa9s", 4), "caf\xc3\xa9");
    ck_assert_str_eq(cc_utf8_truncate(p, "\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 1),
                     "\xf0\x9f\x98\x80");
    ck_assert_str_eq(cc_utf8_truncate(p, "abc", 0), "");
}
END_TEST

/* A user's name and extension 1001 as a caller id and as a queue member's name. */
static const struct {
    const char *(*render)(apr_pool_t *, const char *, const char *);
    const char *name;
    const char *want;
} display_name_cases[] = {
    {cc_ast_callerid, "Ada Lovelace", "\"Ada Lovelace\" <1001>"},
    {cc_ast_callerid, NULL, "<1001>"},
    {cc_ast_callerid, "", "<1001>"},
    {cc_ast_callerid, "\"<>\\", "<1001>"},
    {cc_ast_callerid, "Evil\" <666>\r\nX", "\"Evil 666X\" <1001>"},
    {cc_ast_membername, "Ada Lovelace", "Ada Lovelace"},
    {cc_ast_membername, NULL, "1001"},
    {cc_ast_membername, "", "1001"},
    {cc_ast_membername, "\r\n\t", "1001"},
    /* A CR/LF would start a forged line in an AMI event. */
    {cc_ast_membername, "Eve\r\nEvent: QueueMemberRemoved", "EveEvent: QueueMemberRemoved"},
    /* Issue 8 #14: C1 (NEL) and U+2028/U+2029 are dropped like C0; other text is kept. */
    {cc_ast_membername, "Eve\xc2\x85" "Bob\xe2\x80\xa8" "Al\xe2\x80\xa9", "EveBobAl"},
    {cc_ast_membername, "\xc2\x85\xe2\x80\xa8", "1001"},
    {cc_ast_membername, "Z\xc3\xa9 \xe2\x80\x94 A", "Z\xc3\xa9 \xe2\x80\x94 A"},
    {cc_ast_callerid, "Eve\xc2\x85<666>\xe2\x80\xa9X", "\"Eve666X\" <1001>"},
    {cc_ast_callerid, "\xc2\x9b" "1m", "\"1m\" <1001>"},
};

START_TEST(callerid_and_membername_drop_what_asterisk_cannot_carry)
{
    ck_assert_str_eq(display_name_cases[_i].render(cc_test_pool, display_name_cases[_i].name,
                                                   "1001"),
                     display_name_cases[_i].want);
}
END_TEST

START_TEST(callerid_quotes_a_clean_name_and_fits_40_characters)
{
    apr_pool_t *p = cc_test_pool;
    const char *long_name = "Maximiliane Alexandra von Hohenzollern-Sigmaringen";
    const char *cid;

    cid = cc_ast_callerid(p, long_name, "12345678");
    ck_assert_uint_eq(cc_utf8_chars(cid), CC_AST_CALLERID_MAX);
    ck_assert(!strcmp(cid + strlen(cid) - 12, "\" <12345678>"));
    cid = cc_ast_callerid(p, "\xc3\x89milie \xc3\x89milie \xc3\x89milie \xc3\x89milie "
                          "\xc3\x89milie \xc3\x89milie", "1001");
    ck_assert_uint_le(cc_utf8_chars(cid), CC_AST_CALLERID_MAX);
    ck_assert(cc_valid_utf8(cid, strlen(cid)));
}
END_TEST

START_TEST(membername_drops_controls_and_fits_app_queues_79_bytes)
{
    apr_pool_t *p = cc_test_pool;
    char name[120];
    const char *m;

    memset(name, 'a', 100);
    name[100] = '\0';
    ck_assert_uint_eq(strlen(cc_ast_membername(p, name, "1001")), CC_AST_MEMBERNAME_MAX);
    /* 39 two-byte characters are 78 bytes; the 40th would make 80: cut before it. */
    name[0] = '\0';
    while (strlen(name) < 80) {
        strcat(name, "\xc3\xa9");
    }
    m = cc_ast_membername(p, name, "1001");
    ck_assert_uint_eq(strlen(m), 78);
    ck_assert(cc_valid_utf8(m, strlen(m)));
}
END_TEST

static const str_case reason_cases[] = {
    {"", 1}, {"lunch", 1}, {"caf\xc3\xa9 break", 1},
    {"lunch\r\nEvent: Foo", 0}, {"tab\there", 0}, {"del\x7f", 0}, {"\xff", 0},
    /* Issue 8 #14: NEL and the Unicode separators end a line for many readers. */
    {"lunch\xc2\x85" "Event: Foo", 0}, {"a\xe2\x80\xa8" "b", 0}, {"a\xe2\x80\xa9" "b", 0},
    {"csi\xc2\x9b" "0m", 0}, {"nbsp\xc2\xa0ok", 1}, {"dash\xe2\x80\x94ok", 1},
};

CC_PREDICATE_TEST(pause_reason_is_utf8_without_controls,
                  cc_ast_valid_pause_reason, reason_cases)

START_TEST(pause_reason_is_at_most_79_bytes)
{
    check_length_bound(cc_ast_valid_pause_reason, CC_AST_REASON_MAX, 'r');      /* 79 */
}
END_TEST

/* ---- realtime encoding (issue 8 #1): what Asterisk's drivers read back ---- */

/* Asterisk's readers: split at ';' (app_queue keeps the last piece), strip blanks, decode
 * "^XX".  A stored value round-trips when that yields exactly one piece, the original. */
static const char *asterisk_reads(const char *stored)
{
    const char *last = strrchr(stored, ';');
    const char *piece = last ? last + 1 : stored;
    apr_size_t len = strlen(piece);

    while (*piece == ' ') {
        piece++;
        len--;
    }
    while (len && piece[len - 1] == ' ') {
        len--;
    }
    return cc_ast_rt_decode(cc_test_pool, apr_pstrmemdup(cc_test_pool, piece, len));
}

static const char *const rt_texts[] = {
    "Bob^0D^0AEvent: Hangup", "A;B", "^22quoted^22", "lunch; back at 2", " spaced ",
    "100% ^ 5", "^5E", ";", "plain", "Zoë Ünal",
};

START_TEST(realtime_encoding_reads_back_exactly_in_asterisk)
{
    const char *stored = cc_ast_rt_encode(cc_test_pool, rt_texts[_i]);

    ck_assert_ptr_null(strchr(stored, ';'));
    ck_assert_str_eq(asterisk_reads(stored), rt_texts[_i]);
    ck_assert_str_eq(cc_ast_rt_decode(cc_test_pool, stored), rt_texts[_i]);
}
END_TEST

START_TEST(asterisk_written_values_are_decoded)
{
    ck_assert_str_eq(cc_ast_rt_decode(cc_test_pool, "sip:u@10.0.0.1:5060^3Btransport=ws"),
                     "sip:u@10.0.0.1:5060;transport=ws");
    ck_assert_str_eq(cc_ast_rt_decode(cc_test_pool, "lunch^3Bbreak"), "lunch;break");
    /* Only upper-case hex pairs are codes, as in Asterisk's decode_chunk. */
    ck_assert_str_eq(cc_ast_rt_decode(cc_test_pool, "^3b^G1^4"), "^3b^G1^4");
    ck_assert_ptr_null(cc_ast_rt_decode(cc_test_pool, NULL));
}
END_TEST

START_TEST(member_names_and_caller_ids_are_encoded_and_still_fit)
{
    char name[200];
    const char *m, *cid;

    ck_assert_str_eq(asterisk_reads(cc_ast_membername(cc_test_pool, "Bob^0D^0AEvent: x;y",
                                                      "1001")),
                     "Bob^0D^0AEvent: x;y");
    /* 60 ';' are 180 stored characters: cut so the column (80) holds them all encoded. */
    memset(name, ';', 60);
    name[60] = '\0';
    m = cc_ast_membername(cc_test_pool, name, "1001");
    ck_assert_uint_le(strlen(m), CC_AST_RT_COLUMN_MAX);
    ck_assert_str_eq(asterisk_reads(m), apr_pstrndup(cc_test_pool, name, strlen(m) / 3));
    cid = cc_ast_callerid(cc_test_pool, "A;B^C", "1001");
    ck_assert_str_eq(cid, "\"A^3BB^5EC\" <1001>");
    memset(name, '^', 60);
    cid = cc_ast_callerid(cc_test_pool, name, "1001");
    ck_assert_uint_le(strlen(cid), CC_AST_CALLERID_MAX);
}
END_TEST

START_TEST(pause_reasons_must_fit_their_column_once_encoded)
{
    char reason[80];

    memset(reason, ';', 26);                     /* 78 stored characters */
    reason[26] = '\0';
    ck_assert(cc_ast_valid_pause_reason(reason));
    memset(reason, ';', 27);                     /* 81 */
    reason[27] = '\0';
    ck_assert(!cc_ast_valid_pause_reason(reason));
    ck_assert(cc_ast_valid_pause_reason("lunch; back at 2"));
}
END_TEST

CC_TEST_SUITE("cc_asterisk",
    CC_TCASE("names"),
        CC_TEST(short_slugs_are_their_own_key),
        CC_TEST(long_slugs_get_a_hashed_key_of_24_that_no_slug_can_equal),
        CC_TEST(names_fit_the_realtime_column_widths_for_the_longest_inputs),
        CC_TEST(endpoint_context_mailbox_and_interface_follow_the_scheme),
        CC_LOOP_TEST(extension_is_2_to_8_ascii_digits, N(extension_cases)),
        CC_TEST(extension_null_is_invalid),
    CC_TCASE("inactive tenants"),
        CC_TEST(contact_patterns_match_the_tenants_registrations_only),
        CC_TEST(deny_all_fits_its_column_and_reads_back_as_written),
    CC_TCASE("queues"),
        CC_LOOP_TEST(slugify_keeps_ascii_alnum_and_joins_the_rest_with_single_dashes,
                     N(slugify_cases)),
        CC_TEST(queue_names_are_key_dash_slug_and_tenants_do_not_collide),
        CC_TEST(queue_names_never_exceed_80_even_with_a_fallback_id),
        CC_TEST(fallback_names_of_different_ids_differ_even_when_slugs_overlap),
    CC_TCASE("values"),
        CC_LOOP_TEST(codec_lists_come_from_the_supported_set_without_repeats, N(codec_cases)),
        CC_TEST(codec_list_null_is_invalid),
        CC_LOOP_TEST(moh_class_is_1_to_128_safe_characters, N(moh_cases)),
        CC_LOOP_TEST(a_tenants_moh_class_is_its_key_a_dash_and_a_name_without_dashes,
                     N(moh_owner_cases)),
        CC_TEST(a_derived_key_owns_its_classes_and_no_two_tenants_share_one),
        CC_TEST(a_moh_class_is_allowed_when_global_or_the_tenants),
        CC_LOOP_TEST(given_sip_passwords_are_12_to_80_printable_ascii_without_hazards,
                     N(password_cases)),
        CC_TEST(sip_password_length_bounds),
        CC_TEST(generated_sip_passwords_are_32_alnum_valid_and_distinct),
        CC_TEST(utf8_truncate_cuts_at_code_points),
        CC_LOOP_TEST(callerid_and_membername_drop_what_asterisk_cannot_carry,
                     N(display_name_cases)),
        CC_TEST(callerid_quotes_a_clean_name_and_fits_40_characters),
        CC_TEST(membername_drops_controls_and_fits_app_queues_79_bytes),
        CC_LOOP_TEST(pause_reason_is_utf8_without_controls, N(reason_cases)),
        CC_TEST(pause_reason_is_at_most_79_bytes),
    CC_TCASE("realtime encoding"),
        CC_LOOP_TEST(realtime_encoding_reads_back_exactly_in_asterisk, N(rt_texts)),
        CC_TEST(asterisk_written_values_are_decoded),
        CC_TEST(member_names_and_caller_ids_are_encoded_and_still_fit),
        CC_TEST(pause_reasons_must_fit_their_column_once_encoded))
