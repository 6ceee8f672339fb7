/*
 * Unit tests for cc_jsonw: the text must be JSON that jansson reads back to the same
 * values, whatever the strings hold.
 */
#include <string.h>
#include <jansson.h>

#include "cc_test.h"

#include "cc_jsonw.h"

static json_t *parse(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &err);

    ck_assert_msg(j != NULL, "not JSON: %s (%s)", text, err.text);
    return j;
}

static const char *const tricky[] = {
    "", "plain", "quote \" and backslash \\", "new\nline\ttab\rcr", "\x01\x1f\x7f",
    "Zo\xc3\xab \xf0\x9f\x98\x80 \xe6\x9d\x8e", "Robert'); DROP TABLE users;--", "</script>",
};

START_TEST(string_round_trips_through_jansson)
{
    cc_jsonw_t w;
    json_t *j;

    cc_jsonw_init(&w, cc_test_pool, 4);
    cc_jsonw_str(&w, tricky[_i]);
    j = parse(cc_jsonw_text(&w));
    ck_assert(json_is_string(j));
    ck_assert_str_eq(json_string_value(j), tricky[_i]);
    json_decref(j);
}
END_TEST

/* Start w (initial size) and write each of the n values with write, joined by commas. */
static void write_joined(cc_jsonw_t *w, apr_size_t initial,
                         void (*write)(cc_jsonw_t *, const char *),
                         const char *const values[], size_t n)
{
    size_t i;

    cc_jsonw_init(w, cc_test_pool, initial);
    for (i = 0; i < n; i++) {
        if (i > 0) {
            cc_jsonw_lit(w, ",");
        }
        write(w, values[i]);
    }
}

START_TEST(invalid_utf8_and_null_become_null)
{
    static const char *const values[] = {"bad \xc3\x28 bytes", NULL};
    cc_jsonw_t w;

    write_joined(&w, 0, cc_jsonw_str, values, N(values));
    ck_assert_str_eq(cc_jsonw_text(&w), "null,null");
}
END_TEST

START_TEST(integers_are_checked_literals)
{
    static const char *const values[] = {"42", "-7", "007", "1e3", NULL};
    cc_jsonw_t w;

    write_joined(&w, 1, cc_jsonw_int_text, values, N(values));
    cc_jsonw_lit(&w, ",");
    cc_jsonw_int(&w, APR_INT64_C(-9007199254740991));
    ck_assert_str_eq(cc_jsonw_text(&w), "42,-7,null,null,null,-9007199254740991");
}
END_TEST

START_TEST(object_grows_past_its_initial_size)
{
    cc_jsonw_t w;
    json_t *j;
    int i;

    cc_jsonw_init(&w, cc_test_pool, 2);
    cc_jsonw_lit(&w, "{");
    cc_jsonw_key(&w, "data");
    cc_jsonw_lit(&w, "[");
    for (i = 0; i < 500; i++) {
        if (i) {
            cc_jsonw_lit(&w, ",");
        }
        cc_jsonw_int(&w, i);
    }
    cc_jsonw_lit(&w, "]}");
    j = parse(cc_jsonw_text(&w));
    ck_assert_int_eq(json_array_size(json_object_get(j, "data")), 500);
    ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(j, "data"), 499)), 499);
    json_decref(j);
}
END_TEST

CC_TEST_SUITE("cc_jsonw",
    CC_TCASE("jsonw"),
        CC_LOOP_TEST(string_round_trips_through_jansson, N(tricky)),
        CC_TEST(invalid_utf8_and_null_become_null),
        CC_TEST(integers_are_checked_literals),
        CC_TEST(object_grows_past_its_initial_size))
