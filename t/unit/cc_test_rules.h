/**
 * @file cc_test_rules.h
 * @brief What the tests of the domains' pure rules (the cc_<domain>_rules.c files) share:
 *        bodies, the fields an error names, compact dumps, and refusal cases.
 */
#ifndef CC_TEST_RULES_H
#define CC_TEST_RULES_H

#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "cc_test.h"
#include "cc_json.h"

/** A JSON text as a value owned by the test pool. */
static inline json_t *cc_test_json(const char *text)
{
    return cc_json_own(cc_test_pool, json_loads(text, JSON_DECODE_ANY, NULL));
}

/** The fields err names, comma-separated in order ("" for none). */
static inline const char *cc_test_fields(const cc_error_t *err)
{
    const char *s = "";
    int i;

    for (i = 0; err && i < cc_error_detail_count(err); i++) {
        s = apr_pstrcat(cc_test_pool, s, i ? "," : "",
                        APR_ARRAY_IDX(err->details, i, cc_error_detail_t).field, NULL);
    }
    return s;
}

/** j as compact JSON text with sorted keys, in the test pool. */
static inline const char *cc_test_dump(const json_t *j)
{
    char *t = json_dumps(j, JSON_ENCODE_ANY | JSON_SORT_KEYS | JSON_COMPACT);
    const char *s = apr_pstrdup(cc_test_pool, t);

    free(t);
    return s;
}

/** A body and the fields it is refused for ("" when it reads). */
typedef struct cc_test_refusal_t {
    const char *body;
    const char *refused;
} cc_test_refusal_t;

/** err is exactly the refusal c expects: a 400 naming its fields, or none. */
static inline void cc_test_assert_refused(const cc_error_t *err, const cc_test_refusal_t *c)
{
    ck_assert_msg(!strcmp(cc_test_fields(err), c->refused), "%s: refused [%s]", c->body,
                  cc_test_fields(err));
    if (err) {
        ck_assert_int_eq(err->status, 400);
    }
}

#endif
