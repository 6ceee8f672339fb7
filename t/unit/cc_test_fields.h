/**
 * @file cc_test_fields.h
 * @brief One field table with every cc_json field type, shared by the body-check unit
 *        tests (t/unit/test_cc_json.c) and the body fuzzer (t/fuzz/fuzz_json_body.c).
 *        Pure data: no Check, no APR pool.
 */
#ifndef CC_TEST_FIELDS_H
#define CC_TEST_FIELDS_H

#include "cc_json.h"

/** email and name required; one field of each other type. */
static const cc_field_t cc_test_fields[] = {
    {"email", CC_JT_STRING, 1},
    {"name", CC_JT_STRING, 1},
    {"extension", CC_JT_STRING_NULL, 0},
    {"max_users", CC_JT_INT, 0},
    {"quota", CC_JT_INT_NULL, 0},
    {"active", CC_JT_BOOL, 0},
    {"roles", CC_JT_STRING_ARRAY, 0},
    {"changes", CC_JT_OBJECT, 0},
    {NULL, 0, 0}
};

#endif
