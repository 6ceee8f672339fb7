/**
 * @file cc_test.h
 * @brief Shared scaffolding for the Check unit tests: one runner binary per test file,
 *        a fresh APR pool per test, Check's normal summary line for CI.
 */
#ifndef CC_TEST_H
#define CC_TEST_H

#include <check.h>
#include <stdlib.h>
#include <apr_general.h>
#include <apr_pools.h>

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

/** Define main() running the suite made by suite_fn; exit status = failures. */
#define CC_TEST_MAIN(suite_fn)                                        \
    apr_pool_t *cc_test_pool;                                         \
    int main(void)                                                    \
    {                                                                 \
        SRunner *sr = srunner_create(suite_fn());                     \
        srunner_run_all(sr, CK_NORMAL);                               \
        int failed = srunner_ntests_failed(sr);                       \
        srunner_free(sr);                                             \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;                  \
    }

/** A TCase with the pool fixture and a timeout. */
static inline TCase *cc_test_case(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, cc_test_setup, cc_test_teardown);
    tcase_set_timeout(tc, 30);
    return tc;
}

#endif
