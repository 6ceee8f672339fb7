/**
 * @file cc_test_stubs.h
 * @brief Route handlers for the route tables of the unit tests.  They are never called:
 *        each returns its own constant, so distinct functions make routes
 *        distinguishable.
 */
#ifndef CC_TEST_STUBS_H
#define CC_TEST_STUBS_H

#include <stdint.h>

#include "cc_route.h"

#define CC_TEST_STUB(name, value)                                   \
    static inline struct cc_error_t *name(struct cc_ctx_t *c)       \
    {                                                               \
        (void)c;                                                    \
        return (struct cc_error_t *)(uintptr_t)(value);             \
    }

CC_TEST_STUB(h_any, 0)
CC_TEST_STUB(h_list, 1)
CC_TEST_STUB(h_get, 2)
CC_TEST_STUB(h_me, 3)
CC_TEST_STUB(h_roles, 4)
CC_TEST_STUB(h_health, 5)

#endif
