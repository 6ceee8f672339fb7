/**
 * @file cc_test.h
 * @brief Shared scaffolding for the Check unit tests: one runner binary per test file,
 *        a fresh APR pool per test, Check's normal summary line for CI.
 *
 * A test file ends with its table of tests, which is also its main():
 *
 *     CC_TEST_SUITE("cc_thing",
 *         CC_TCASE("parse"),
 *         CC_TEST(parses_the_simple_case),
 *         CC_LOOP_TEST(rejects_each_bad_input, N(bad_inputs)),
 *         CC_TCASE("render"),
 *         CC_TEST(renders_compactly))
 *
 * Each CC_TCASE starts a TCase (cc_test_case: the pool fixture and a timeout) that
 * holds the tests after it; a loop test runs for _i in [0, n).
 */
#ifndef CC_TEST_H
#define CC_TEST_H

#include <check.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>

/** The number of elements of an array (a loop test's end). */
#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/** A loop test over cases, a table of { s, ok }: fn(cases[_i].s) is cases[_i].ok. */
#define CC_PREDICATE_TEST(test, fn, cases)                                          \
    START_TEST(test)                                                                \
    {                                                                               \
        ck_assert_msg(fn(cases[_i].s) == cases[_i].ok, "case %d", _i);              \
    }                                                                               \
    END_TEST

/** A loop test's string result: got is want, or NULL when want is NULL ("case i" on
 * failure, with what it got). */
#define cc_test_assert_str_or_null(got, want)                                       \
    do {                                                                            \
        const char *got_ = (got), *want_ = (want);                                  \
        ck_assert_msg(want_ ? got_ && !strcmp(got_, want_) : !got_, "case %d: [%s]", \
                      _i, got_ ? got_ : "(null)");                                  \
    } while (0)

/** The per-test pool (created in cc_test_setup, destroyed in cc_test_teardown). */
extern apr_pool_t *cc_test_pool;

static inline void cc_test_setup(void)
{
    apr_initialize();
    apr_pool_create(&cc_test_pool, NULL);
}

static inline void cc_test_teardown(void)
{
    apr_pool_destroy(cc_test_pool);
    cc_test_pool = NULL;
    apr_terminate();
}

/** A TCase with the pool fixture and a timeout. */
static inline TCase *cc_test_case(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, cc_test_setup, cc_test_teardown);
    tcase_set_timeout(tc, 30);
    return tc;
}

/** One row of a suite table: a TCase heading (name) or a test (test, loop count). */
typedef struct {
    const char *tcase;      /**< non-NULL: start a TCase of this name */
    const TTest *test;      /**< the test (START_TEST's name) */
    int loop;               /**< 1: a loop test over [0, end) */
    int end;
} cc_test_row_t;

#define CC_TCASE(name)          { (name), NULL, 0, 0 }
#define CC_TEST(fn)             { NULL, (fn), 0, 0 }
#define CC_LOOP_TEST(fn, n)     { NULL, (fn), 1, (int)(n) }

/** Build the suite of the table's rows, run it; EXIT_SUCCESS when nothing failed. */
static inline int cc_test_run(const char *suite_name, const cc_test_row_t *rows, size_t n)
{
    Suite *s = suite_create(suite_name);
    TCase *tc = NULL;

    for (size_t i = 0; i < n; i++) {
        if (rows[i].tcase) {
            tc = cc_test_case(rows[i].tcase);
            suite_add_tcase(s, tc);
            continue;
        }
        if (!tc) {              /* tests before any heading: a TCase named after the suite */
            tc = cc_test_case(suite_name);
            suite_add_tcase(s, tc);
        }
        if (rows[i].loop)
            tcase_add_loop_test(tc, rows[i].test, 0, rows[i].end);
        else
            tcase_add_test(tc, rows[i].test);
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/** Define the per-test pool and main() running the suite of these rows (see above). */
#define CC_TEST_SUITE(suite_name, ...)                                             \
    apr_pool_t *cc_test_pool;                                                      \
    int main(void)                                                                 \
    {                                                                              \
        const cc_test_row_t rows[] = { __VA_ARGS__ };                              \
        return cc_test_run((suite_name), rows, sizeof rows / sizeof rows[0]);       \
    }

#endif
