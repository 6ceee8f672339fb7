/**
 * @file test_cc_queues_rules.c
 * @brief Unit tests: the pure rules of /api/v1/queues (mod_callcenter/cc_queues_rules.c):
 *        body checks, how a PATCH applies to a queue, the linear strategy refused on an
 *        existing queue, and the audit diff.
 */
#include <string.h>

#include <apr_strings.h>

#include "cc_test_rules.h"
#include "cc_queues_rules.h"
#include "cc_json.h"

/* A body and the fields it is refused for ("" when it reads). */
static const cc_test_refusal_t input_cases[] = {
    { "{}", "" },
    { "{\"name\": \"Sales\", \"strategy\": \"linear\", \"timeout\": 600, \"wrapuptime\": 0,"
      " \"maxlen\": 10000, \"service_level\": 86400, \"music_on_hold\": \"jazz-2\"}", "" },
    { "{\"name\": \"\"}", CC_KEY_NAME },
    { "{\"name\": \"a\\tb\"}", CC_KEY_NAME },                /* one line */
    { "{\"strategy\": \"roundrobin\"}", CC_KEY_STRATEGY },
    { "{\"timeout\": 0}", CC_KEY_TIMEOUT },
    { "{\"timeout\": 601}", CC_KEY_TIMEOUT },
    { "{\"wrapuptime\": -1}", CC_KEY_WRAPUPTIME },
    { "{\"maxlen\": 10001}", CC_KEY_MAXLEN },
    { "{\"service_level\": 86401}", CC_KEY_SERVICE_LEVEL },
    { "{\"music_on_hold\": \"a b\"}", CC_KEY_MOH },
    /* every bad field at once, in the body's field order */
    { "{\"name\": \"\", \"strategy\": \"x\", \"timeout\": 0, \"wrapuptime\": 3601,"
      " \"maxlen\": -1, \"service_level\": -1, \"music_on_hold\": \"\"}",
      "name,strategy,timeout,wrapuptime,maxlen,service_level,music_on_hold" },
};

START_TEST(a_body_is_refused_for_each_bad_field)
{
    queue_values_t in;
    cc_error_t *err = cc_queues_input_read(cc_test_pool, cc_test_json(input_cases[_i].body), &in);

    cc_test_assert_refused(err, &input_cases[_i]);
}
END_TEST

START_TEST(a_good_body_reads_as_decimal_text)
{
    queue_values_t in;

    ck_assert_ptr_null(cc_queues_input_read(cc_test_pool, cc_test_json(
        "{\"name\": \"Sales\", \"strategy\": \"rrmemory\", \"maxlen\": 5}"), &in));
    ck_assert_str_eq(in.name, "Sales");
    ck_assert_str_eq(in.strategy, "rrmemory");
    ck_assert_ptr_null(in.ints[0]);
    ck_assert_str_eq(in.ints[2], "5");
    ck_assert_ptr_null(in.moh);
}
END_TEST

static const queue_values_t sales = {
    "Sales", "ringall", { "15", "0", "0", "60" }, "default"
};
static const queue_values_t no_realtime = { "Sales", NULL, { NULL, NULL, NULL, NULL }, NULL };

/* A PATCH on cur: the strategy, timeout and name after, whether a realtime setting
 * changes, and 1 when the strategy change is refused (409). */
static const struct {
    const queue_values_t *cur;
    const char *patch;
    const char *name, *strategy, *timeout;
    int realtime, refused;
} merge_cases[] = {
    { &sales, "{}", "Sales", "ringall", "15", 0, 0 },
    { &sales, "{\"name\": \"Support\"}", "Support", "ringall", "15", 0, 0 },
    { &sales, "{\"timeout\": 30}", "Sales", "ringall", "30", 1, 0 },
    { &sales, "{\"timeout\": 15}", "Sales", "ringall", "15", 0, 0 },   /* the same */
    { &sales, "{\"strategy\": \"random\"}", "Sales", "random", "15", 1, 0 },
    { &sales, "{\"strategy\": \"linear\"}", "Sales", "linear", "15", 1, 1 },
    { &no_realtime, "{\"strategy\": \"linear\"}", "Sales", "linear", NULL, 1, 0 },
    { &no_realtime, "{\"name\": \"X\"}", "X", NULL, NULL, 0, 0 },
};

START_TEST(a_patch_applies_its_present_fields)
{
    const queue_values_t *cur = merge_cases[_i].cur;
    queue_values_t in, out;
    cc_error_t *err;

    ck_assert_ptr_null(cc_queues_input_read(cc_test_pool, cc_test_json(merge_cases[_i].patch),
                                            &in));
    cc_queues_merge(cur, &in, &out);
    ck_assert_str_eq(out.name, merge_cases[_i].name);
    ck_assert(cc_str_same(out.strategy, merge_cases[_i].strategy));
    ck_assert(cc_str_same(out.ints[0], merge_cases[_i].timeout));
    ck_assert(cc_str_same(out.moh, cur->moh));
    ck_assert_int_eq(cc_queues_realtime_changes(cur, &out), merge_cases[_i].realtime);
    err = cc_queues_check_strategy_change(cc_test_pool, cur, &out);
    if (merge_cases[_i].refused) {
        ck_assert_ptr_nonnull(err);
        ck_assert_int_eq(err->status, 409);
        ck_assert_str_eq(cc_test_fields(err), CC_KEY_STRATEGY);
    }
    else {
        ck_assert_ptr_null(err);
    }
}
END_TEST

START_TEST(a_create_takes_the_defaults_for_what_it_omits)
{
    queue_values_t in, v;

    ck_assert_ptr_null(cc_queues_input_read(cc_test_pool, cc_test_json(
        "{\"name\": \"Sales\", \"wrapuptime\": 10}"), &in));
    cc_queues_merge(&cc_queues_defaults, &in, &v);
    ck_assert_str_eq(v.name, "Sales");
    ck_assert_str_eq(v.strategy, "ringall");
    ck_assert_str_eq(v.ints[0], "15");
    ck_assert_str_eq(v.ints[1], "10");
    ck_assert_str_eq(v.ints[3], "60");
    ck_assert_str_eq(v.moh, "default");
}
END_TEST

/* A PATCH on sales and the diff it makes: the fields, and one field's "from" and "to"
 * as JSON text. */
static const struct {
    const char *patch;
    const char *changed;
    const char *field, *from, *to;
} diff_cases[] = {
    { "{}", "", NULL, NULL, NULL },
    { "{\"name\": \"Sales\", \"timeout\": 15}", "", NULL, NULL, NULL },
    { "{\"name\": \"Support\"}", "name", CC_KEY_NAME, "\"Sales\"", "\"Support\"" },
    { "{\"maxlen\": 3}", "maxlen", CC_KEY_MAXLEN, "0", "3" },
    { "{\"music_on_hold\": \"jazz\", \"strategy\": \"random\"}", "strategy,music_on_hold",
      CC_KEY_MOH, "\"default\"", "\"jazz\"" },
};

static const char *keys(json_t *o)
{
    const char *s = "", *k;
    json_t *v;

    json_object_foreach(o, k, v) {
        s = apr_pstrcat(cc_test_pool, s, *s ? "," : "", k, NULL);
    }
    return s;
}

START_TEST(the_diff_names_only_what_changes)
{
    queue_values_t in, out;
    json_t *diff, *change;

    ck_assert_ptr_null(cc_queues_input_read(cc_test_pool, cc_test_json(diff_cases[_i].patch), &in));
    cc_queues_merge(&sales, &in, &out);
    diff = cc_queues_diff(cc_test_pool, &sales, &out);
    ck_assert_str_eq(keys(diff), diff_cases[_i].changed);
    if (diff_cases[_i].field) {
        change = json_object_get(diff, diff_cases[_i].field);
        ck_assert_str_eq(cc_test_dump(json_object_get(change, "from")), diff_cases[_i].from);
        ck_assert_str_eq(cc_test_dump(json_object_get(change, "to")), diff_cases[_i].to);
    }
}
END_TEST

START_TEST(a_missing_realtime_row_diffs_from_null)
{
    json_t *diff = cc_queues_diff(cc_test_pool, &no_realtime, &sales);

    ck_assert_int_eq(json_object_size(diff), 6);
    ck_assert(json_is_null(json_object_get(json_object_get(diff, CC_KEY_TIMEOUT), "from")));
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(diff,
                                                        CC_KEY_SERVICE_LEVEL), "to")), 60);
}
END_TEST

/* music_on_hold on a write of tenant acme with the classes default and jazz listed: the
 * queue's current class (NULL: a create), the body's (NULL: none), and whether it is
 * refused. */
static const struct {
    const char *cur, *moh;
    int refused;
} moh_cases[] = {
    { NULL, NULL, 0 },
    { NULL, "default", 0 },
    { NULL, "JAZZ", 0 },                    /* Asterisk ignores case */
    { NULL, "rock", 1 },                    /* not listed */
    { NULL, "acme-rock", 0 },               /* acme's own */
    { NULL, "acme-eu-rock", 1 },            /* acme-eu's */
    { NULL, "globex-rock", 1 },
    { NULL, "a b", 0 },                     /* refused by cc_queues_input_read already */
    { "rock", NULL, 0 },                    /* dropped from the list since: kept */
    { "rock", "rock", 0 },                  /* ... and sent back unchanged */
    { "rock", "Rock", 1 },                  /* a change */
    { "rock", "jazz", 0 },
    { "default", "globex-rock", 1 },
};

START_TEST(only_a_new_moh_class_is_checked_against_the_allowed_ones)
{
    const char *const globals[] = { "default", "jazz", NULL };
    cc_error_t *err = cc_queues_check_moh(cc_test_pool, NULL, "acme", globals,
                                          moh_cases[_i].cur, moh_cases[_i].moh);

    ck_assert_msg(!err == !moh_cases[_i].refused, "case %d", _i);
    if (err) {
        ck_assert_int_eq(err->status, 400);
        ck_assert_str_eq(cc_test_fields(err), CC_KEY_MOH);
    }
}
END_TEST

START_TEST(a_refused_moh_class_joins_the_other_problems_and_names_the_choices)
{
    const char *const globals[] = { "default", "jazz", NULL };
    queue_values_t in;
    cc_error_t *err = cc_queues_input_read(cc_test_pool, cc_test_json(
        "{\"name\": \"\", \"music_on_hold\": \"acme-eu-x\"}"), &in);

    err = cc_queues_check_moh(cc_test_pool, err, "acme", globals, NULL, in.moh);
    ck_assert_str_eq(cc_test_fields(err), "name,music_on_hold");
    ck_assert_ptr_nonnull(strstr(APR_ARRAY_IDX(err->details, 1, cc_error_detail_t).issue,
                                 "(default, jazz)"));
    ck_assert_ptr_nonnull(strstr(APR_ARRAY_IDX(err->details, 1, cc_error_detail_t).issue,
                                 "acme-<name>"));
}
END_TEST

CC_TEST_SUITE("cc_queues_rules",
    CC_TCASE("input"),
        CC_LOOP_TEST(a_body_is_refused_for_each_bad_field, N(input_cases)),
        CC_TEST(a_good_body_reads_as_decimal_text),
        CC_LOOP_TEST(only_a_new_moh_class_is_checked_against_the_allowed_ones, N(moh_cases)),
        CC_TEST(a_refused_moh_class_joins_the_other_problems_and_names_the_choices),
    CC_TCASE("merge"),
        CC_LOOP_TEST(a_patch_applies_its_present_fields, N(merge_cases)),
        CC_TEST(a_create_takes_the_defaults_for_what_it_omits),
    CC_TCASE("audit"),
        CC_LOOP_TEST(the_diff_names_only_what_changes, N(diff_cases)),
        CC_TEST(a_missing_realtime_row_diffs_from_null))
