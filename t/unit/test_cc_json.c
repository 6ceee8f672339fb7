/**
 * @file test_cc_json.c
 * @brief Unit tests for pool-owned jansson values, body parsing and field checks.
 */
#include <string.h>

#include <apr_strings.h>

#include "cc_test.h"
#include "cc_test_fields.h"
#include "cc_json.h"

/* The issue of the only detail of e, for one-detail assertions. */
static const char *only_issue(const cc_error_t *e, const char **pfield)
{
    const cc_error_detail_t *d;

    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(cc_error_detail_count(e), 1);
    d = &APR_ARRAY_IDX(e->details, 0, cc_error_detail_t);
    if (pfield) {
        *pfield = d->field;
    }
    return d->issue;
}

/* ---- ownership and dump ---- */

START_TEST(destroying_the_owner_pool_releases_the_json_value)
{
    apr_pool_t *sub;
    json_t *j = json_object();

    apr_pool_create(&sub, cc_test_pool);
    json_incref(j);                       /* our own reference, to watch the count */
    ck_assert_ptr_eq(cc_json_own(sub, j), j);
    ck_assert_int_eq(j->refcount, 2);
    apr_pool_destroy(sub);
    ck_assert_int_eq(j->refcount, 1);
    json_decref(j);
}
END_TEST

START_TEST(owning_null_is_harmless)
{
    ck_assert_ptr_null(cc_json_own(cc_test_pool, NULL));
}
END_TEST

START_TEST(dump_is_compact_and_allows_scalars)
{
    json_t *o = cc_json_own(cc_test_pool, json_pack("{s:i,s:[s]}", "a", 1, "b", "x"));
    json_t *n = cc_json_own(cc_test_pool, json_integer(42));

    ck_assert_str_eq(cc_json_dump(cc_test_pool, o), "{\"a\":1,\"b\":[\"x\"]}");
    ck_assert_str_eq(cc_json_dump(cc_test_pool, n), "42");
    ck_assert_ptr_null(cc_json_dump(cc_test_pool, NULL));
}
END_TEST

/* ---- parsing ---- */

START_TEST(parse_of_a_valid_object_returns_a_pool_owned_object)
{
    const char *body = "{\"email\":\"a@b.co\",\"n\":3}";
    json_t *o = NULL;

    ck_assert_ptr_null(cc_json_parse_object(cc_test_pool, body, strlen(body), &o));
    ck_assert(json_is_object(o));
    ck_assert_int_eq(o->refcount, 1);
    ck_assert_str_eq(cc_json_str(o, "email"), "a@b.co");
}
END_TEST

START_TEST(parse_reads_only_len_bytes_of_an_unterminated_buffer)
{
    const char body[] = "{\"a\":1}GARBAGE";
    json_t *o = NULL;

    ck_assert_ptr_null(cc_json_parse_object(cc_test_pool, body, 7, &o));
    ck_assert_int_eq(cc_json_int(o, "a", 0), 1);
}
END_TEST

static const char *const malformed_bodies[] = {
    "{",
    "{\"a\":}",
    "{\"a\":1,}",
    "{'a':1}",
    "",
    "{\"a\":\"\\u0000\"}",            /* NUL escape */
    "{\"a\":\"x\ty\"}",               /* raw control character inside a string */
    "{\"a\":1}{\"b\":2}",
    "{\"a\":99999999999999999999}",   /* above 2^63-1 */
};

START_TEST(malformed_json_is_a_400_naming_the_position)
{
    const char *body = malformed_bodies[_i];
    json_t *o = (json_t *)1;
    cc_error_t *e = cc_json_parse_object(cc_test_pool, body, strlen(body), &o);

    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->status, 400);
    ck_assert_str_eq(e->code, CC_ERR_INVALID_REQUEST);
    ck_assert_msg(!strncmp(e->message, "malformed JSON: ", 16), "message: %s", e->message);
    ck_assert_msg(strstr(e->message, " at position ") != NULL, "message: %s", e->message);
    ck_assert_ptr_null(o);
}
END_TEST

static const char *const bad_utf8_bodies[] = {
    "{\"a\":\"\xff\"}",                 /* never valid */
    "{\"a\":\"\xc0\xaf\"}",             /* overlong '/' */
    "{\"a\":\"\xed\xa0\x80\"}",         /* UTF-16 surrogate */
    "{\"a\":\"\xe2\x82\"}",             /* truncated sequence */
    "{\"\xf4\x90\x80\x80\":1}",         /* above U+10FFFF, in a key */
};

/* body is refused with a 400 of this message, and no object. */
static void check_refused(const char *body, const char *message)
{
    json_t *o = NULL;
    cc_error_t *e = cc_json_parse_object(cc_test_pool, body, strlen(body), &o);

    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->status, 400);
    ck_assert_str_eq(e->message, message);
    ck_assert_ptr_null(o);
}

START_TEST(invalid_utf8_bytes_are_a_400_saying_so)
{
    check_refused(bad_utf8_bodies[_i], "body is not valid UTF-8");
}
END_TEST

START_TEST(duplicate_keys_are_rejected)
{
    const char *body = "{\"role\":\"agent\",\"role\":\"tenant_admin\"}";
    json_t *o = NULL;
    cc_error_t *e = cc_json_parse_object(cc_test_pool, body, strlen(body), &o);

    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->status, 400);
    ck_assert_msg(strstr(e->message, "duplicate") != NULL, "message: %s", e->message);
}
END_TEST

static const char *const non_object_bodies[] = {"[1,2]", "[]", "\"x\"", "1", "null", "true"};

START_TEST(a_top_level_other_than_an_object_is_a_400)
{
    check_refused(non_object_bodies[_i], "request body must be a JSON object");
}
END_TEST

/* "{"a":" repeated depth times, then 1, then the closing braces. */
static const char *nested(apr_pool_t *p, int depth)
{
    char *s = apr_palloc(p, (apr_size_t)depth * 6 + 2);
    char *o = s;
    int i;

    for (i = 0; i < depth; i++) {
        memcpy(o, "{\"a\":", 5);
        o += 5;
    }
    *o++ = '1';
    for (i = 0; i < depth; i++) {
        *o++ = '}';
    }
    *o = '\0';
    return s;
}

START_TEST(deep_nesting_parses_and_absurd_nesting_is_a_clean_400)
{
    const char *ok = nested(cc_test_pool, 200);
    const char *deep = nested(cc_test_pool, 100000);
    json_t *o = NULL;
    cc_error_t *e;

    ck_assert_ptr_null(cc_json_parse_object(cc_test_pool, ok, strlen(ok), &o));
    ck_assert(json_is_object(o));
    e = cc_json_parse_object(cc_test_pool, deep, strlen(deep), &o);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->status, 400);
}
END_TEST

START_TEST(a_null_buffer_is_malformed_not_a_crash)
{
    json_t *o = NULL;
    cc_error_t *e = cc_json_parse_object(cc_test_pool, NULL, 0, &o);

    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->status, 400);
}
END_TEST

/* ---- field checks ---- */

/* cc_test_fields (cc_test_fields.h): email and name required, one field of each type. */

static json_t *parse(const char *body)
{
    json_t *o = NULL;

    ck_assert_ptr_null(cc_json_parse_object(cc_test_pool, body, strlen(body), &o));
    return o;
}

START_TEST(a_body_with_every_field_right_passes)
{
    json_t *o = parse("{\"email\":\"a@b.co\",\"name\":\"A\\tB\\n\",\"extension\":null,"
                      "\"max_users\":5,\"quota\":null,\"active\":false,\"roles\":[\"agent\"],"
                      "\"changes\":{}}");

    ck_assert_ptr_null(cc_json_check_fields(cc_test_pool, o, cc_test_fields));
}
END_TEST

START_TEST(a_patch_body_needs_no_required_field_but_is_checked_otherwise)
{
    const char *field;

    ck_assert_ptr_null(cc_json_check_patch(cc_test_pool, parse("{}"), cc_test_fields));
    ck_assert_ptr_null(cc_json_check_patch(cc_test_pool, parse("{\"name\":\"A\"}"),
                                           cc_test_fields));
    ck_assert_str_eq(only_issue(cc_json_check_patch(cc_test_pool, parse("{\"name\":5}"),
                                                    cc_test_fields), &field), "must be a string");
    ck_assert_str_eq(field, "name");
    ck_assert_str_eq(only_issue(cc_json_check_patch(cc_test_pool, parse("{\"x\":1}"),
                                                    cc_test_fields), &field), "unknown field");
    ck_assert_ptr_nonnull(cc_json_check_fields(cc_test_pool, parse("{}"), cc_test_fields));
}
END_TEST

START_TEST(an_object_or_null_field_takes_either_and_nothing_else)
{
    static const cc_field_t fields[] = { { "calendar", CC_JT_OBJECT_NULL, 0 },
                                         { NULL, 0, 0 } };
    const char *field;

    ck_assert_ptr_null(cc_json_check_fields(cc_test_pool, parse("{\"calendar\":null}"),
                                            fields));
    ck_assert_ptr_null(cc_json_check_fields(cc_test_pool, parse("{\"calendar\":{}}"),
                                            fields));
    ck_assert_str_eq(only_issue(cc_json_check_fields(cc_test_pool,
                                                     parse("{\"calendar\":[]}"), fields),
                                &field), "must be an object");
    ck_assert_str_eq(field, "calendar");
}
END_TEST

/* Check body against cc_test_fields: its only fault is issue, on field. Returns the error. */
static const cc_error_t *check_only_fault(const char *body, const char *field,
                                          const char *issue)
{
    const cc_error_t *e = cc_json_check_fields(cc_test_pool, parse(body), cc_test_fields);
    const char *got;

    ck_assert_str_eq(only_issue(e, &got), issue);
    ck_assert_str_eq(got, field);
    return e;
}

START_TEST(an_unknown_field_is_reported_by_name)
{
    const cc_error_t *e =
        check_only_fault("{\"email\":\"a@b.co\",\"name\":\"A\",\"password_hash\":\"x\"}",
                         "password_hash", "unknown field");

    ck_assert_int_eq(e->status, 400);
    ck_assert_str_eq(e->code, CC_ERR_INVALID_REQUEST);
}
END_TEST

START_TEST(a_missing_required_field_is_reported)
{
    check_only_fault("{\"email\":\"a@b.co\"}", "name", "is required");
}
END_TEST

START_TEST(every_fault_gets_its_own_detail)
{
    json_t *o = parse("{\"x\":1,\"y\":2,\"max_users\":\"5\"}");
    cc_error_t *e = cc_json_check_fields(cc_test_pool, o, cc_test_fields);

    /* x, y unknown; email, name missing; max_users wrong type */
    ck_assert_int_eq(cc_error_detail_count(e), 5);
}
END_TEST

static const struct {
    const char *body;   /* merged into a body with email and name */
    const char *field;
    const char *issue;
} wrong_types[] = {
    {"\"email\":1", "email", "must be a string"},
    {"\"email\":null", "email", "must be a string"},
    {"\"email\":[\"a\"]", "email", "must be a string"},
    {"\"email\":\"a\\u0001b\"", "email", "contains control characters"},
    {"\"email\":\"a\\u007fb\"", "email", "contains control characters"},
    {"\"extension\":12", "extension", "must be a string"},
    {"\"max_users\":\"5\"", "max_users", "must be an integer"},
    {"\"max_users\":5.0", "max_users", "must be an integer"},
    {"\"max_users\":true", "max_users", "must be an integer"},
    {"\"max_users\":null", "max_users", "must be an integer"},
    {"\"quota\":1.5", "quota", "must be an integer"},
    {"\"active\":1", "active", "must be a boolean"},
    {"\"active\":\"true\"", "active", "must be a boolean"},
    {"\"active\":null", "active", "must be a boolean"},
    {"\"roles\":\"agent\"", "roles", "must be an array of strings"},
    {"\"roles\":[\"agent\",1]", "roles", "must be an array of strings"},
    {"\"roles\":[null]", "roles", "must be an array of strings"},
    {"\"roles\":[\"a\\u001bb\"]", "roles", "contains control characters"},
    {"\"changes\":[]", "changes", "must be an object"},
    {"\"changes\":null", "changes", "must be an object"},
};

START_TEST(a_wrong_type_is_reported_with_the_expected_type)
{
    const char *body;

    /* The case's key comes first so it replaces nothing (duplicates are rejected). */
    if (!strncmp(wrong_types[_i].body, "\"email\"", 7)) {
        body = apr_pstrcat(cc_test_pool, "{", wrong_types[_i].body, ",\"name\":\"n\"}", NULL);
    }
    else {
        body = apr_pstrcat(cc_test_pool, "{", wrong_types[_i].body,
                           ",\"email\":\"a@b.co\",\"name\":\"n\"}", NULL);
    }
    check_only_fault(body, wrong_types[_i].field, wrong_types[_i].issue);
}
END_TEST

START_TEST(null_is_accepted_only_by_the_nullable_types)
{
    json_t *o = parse("{\"email\":\"a@b.co\",\"name\":\"n\",\"extension\":null,\"quota\":null}");

    ck_assert_ptr_null(cc_json_check_fields(cc_test_pool, o, cc_test_fields));
}
END_TEST

START_TEST(an_empty_field_table_rejects_every_field)
{
    static const cc_field_t none[] = {{NULL, 0, 0}};
    json_t *o = parse("{\"a\":1}");

    ck_assert_ptr_null(cc_json_check_fields(cc_test_pool, parse("{}"), none));
    ck_assert_str_eq(only_issue(cc_json_check_fields(cc_test_pool, o, none), NULL),
                     "unknown field");
}
END_TEST

/* ---- accessors ---- */

START_TEST(accessors_give_defaults_when_absent_null_or_mistyped)
{
    json_t *o = parse("{\"s\":\"x\",\"i\":7,\"b\":true,\"n\":null,\"r\":1.5}");

    ck_assert_str_eq(cc_json_str(o, "s"), "x");
    ck_assert_ptr_null(cc_json_str(o, "n"));
    ck_assert_ptr_null(cc_json_str(o, "i"));
    ck_assert_ptr_null(cc_json_str(o, "missing"));
    ck_assert_ptr_null(cc_json_str(NULL, "s"));
    ck_assert_int_eq(cc_json_int(o, "i", -1), 7);
    ck_assert_int_eq(cc_json_int(o, "r", -1), -1);
    ck_assert_int_eq(cc_json_int(o, "b", -1), -1);
    ck_assert_int_eq(cc_json_int(o, "missing", -1), -1);
    ck_assert_int_eq(cc_json_bool(o, "b", 0), 1);
    ck_assert_int_eq(cc_json_bool(o, "i", 0), 0);
    ck_assert_int_eq(cc_json_bool(o, "n", 1), 1);
    ck_assert_int_eq(cc_json_has(o, "n"), 1);
    ck_assert_int_eq(cc_json_has(o, "missing"), 0);
    ck_assert_int_eq(cc_json_has(NULL, "s"), 0);
}
END_TEST

START_TEST(set_str_sets_strings_and_null_and_refuses_invalid_utf8)
{
    json_t *o = cc_json_own(cc_test_pool, json_object());

    ck_assert_int_eq(cc_json_set_str(o, "a", "\xc3\xa9t\xc3\xa9"), 0);
    ck_assert_str_eq(cc_json_str(o, "a"), "\xc3\xa9t\xc3\xa9");
    ck_assert_int_eq(cc_json_set_str(o, "b", NULL), 0);
    ck_assert(json_is_null(json_object_get(o, "b")));
    ck_assert_int_eq(cc_json_set_str(o, "c", "bad\xff"), -1);
    ck_assert_ptr_null(json_object_get(o, "c"));
    ck_assert_int_eq(json_object_size(o), 2);
}
END_TEST


START_TEST(row_values_become_json_and_back)
{
    json_t *v = cc_json_int_or_null("9007199254740991"), *n = cc_json_int_or_null(NULL);
    json_t *obj = json_pack("{s:I}", "id", (json_int_t)42);

    ck_assert(json_is_integer(v) && json_integer_value(v) == 9007199254740991LL);
    ck_assert(json_is_null(n));
    ck_assert_str_eq(cc_json_int_text(cc_test_pool, obj, "id"), "42");
    json_decref(v);
    json_decref(n);
    json_decref(obj);
}
END_TEST

START_TEST(without_copies_and_drops_only_the_named_keys)
{
    static const char *const drop[] = { "id", "missing", NULL };
    json_t *obj = json_pack("{s:i,s:s,s:{s:i}}", "id", 1, "name", "q", "nested", "id", 2);
    json_t *copy = cc_json_without(cc_test_pool, obj, drop);   /* owned by the pool */

    ck_assert_int_eq(json_object_size(copy), 2);
    ck_assert_ptr_null(json_object_get(copy, "id"));
    ck_assert_ptr_nonnull(json_object_get(json_object_get(copy, "nested"), "id"));
    ck_assert_ptr_nonnull(json_object_get(obj, "id"));          /* the original stays */
    json_decref(obj);
}
END_TEST

START_TEST(optional_strings_compare_with_null_as_a_value)
{
    ck_assert(cc_str_same(NULL, NULL));
    ck_assert(cc_str_same("a", "a"));
    ck_assert(!cc_str_same("a", NULL) && !cc_str_same(NULL, "a"));
    ck_assert(!cc_str_same("a", "b") && !cc_str_same("", NULL));
}
END_TEST

CC_TEST_SUITE("cc_json",
    CC_TCASE("ownership"),
        CC_TEST(destroying_the_owner_pool_releases_the_json_value),
        CC_TEST(owning_null_is_harmless),
        CC_TEST(dump_is_compact_and_allows_scalars),
    CC_TCASE("parse"),
        CC_TEST(parse_of_a_valid_object_returns_a_pool_owned_object),
        CC_TEST(parse_reads_only_len_bytes_of_an_unterminated_buffer),
        CC_LOOP_TEST(malformed_json_is_a_400_naming_the_position, N(malformed_bodies)),
        CC_LOOP_TEST(invalid_utf8_bytes_are_a_400_saying_so, N(bad_utf8_bodies)),
        CC_TEST(duplicate_keys_are_rejected),
        CC_LOOP_TEST(a_top_level_other_than_an_object_is_a_400, N(non_object_bodies)),
        CC_TEST(deep_nesting_parses_and_absurd_nesting_is_a_clean_400),
        CC_TEST(a_null_buffer_is_malformed_not_a_crash),
    CC_TCASE("fields"),
        CC_TEST(a_body_with_every_field_right_passes),
        CC_TEST(an_object_or_null_field_takes_either_and_nothing_else),
        CC_TEST(an_unknown_field_is_reported_by_name),
        CC_TEST(a_patch_body_needs_no_required_field_but_is_checked_otherwise),
        CC_TEST(a_missing_required_field_is_reported),
        CC_TEST(every_fault_gets_its_own_detail),
        CC_LOOP_TEST(a_wrong_type_is_reported_with_the_expected_type, N(wrong_types)),
        CC_TEST(null_is_accepted_only_by_the_nullable_types),
        CC_TEST(an_empty_field_table_rejects_every_field),
    CC_TCASE("accessors"),
        CC_TEST(accessors_give_defaults_when_absent_null_or_mistyped),
        CC_TEST(set_str_sets_strings_and_null_and_refuses_invalid_utf8),
        CC_TEST(row_values_become_json_and_back),
        CC_TEST(without_copies_and_drops_only_the_named_keys),
        CC_TEST(optional_strings_compare_with_null_as_a_value))
