/**
 * @file cc_page.h
 * @brief (core) Query-string parsing, pagination and whitelisted sort.
 */
#ifndef CC_PAGE_H
#define CC_PAGE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>
#include "cc_error.h"

#define CC_PAGE_SIZE_DEFAULT 20
#define CC_PAGE_SIZE_MAX     200

/**
 * Decode a raw query string ("a=1&b=x%20y", '+' is space) into a table.  Bad
 * percent-escapes or invalid UTF-8 give a 400.  A NULL query gives an empty table.
 */
cc_error_t *cc_args_parse(apr_pool_t *p, const char *query, apr_table_t **pargs);

typedef struct cc_page_t {
    int page;               /**< 1-based */
    int page_size;          /**< 1..200 */
    apr_int64_t offset;     /**< (page-1)*page_size */
    const char *sort;       /**< field name from the whitelist */
    int desc;               /**< 1 for "-field" */
} cc_page_t;

/**
 * Read page, page_size and sort from args.  sort_fields is the NULL-terminated
 * whitelist; default_sort is like "name" or "-created_at".  Errors are 400 with a
 * detail on the offending parameter.
 */
cc_error_t *cc_page_parse(apr_pool_t *p, apr_table_t *args, const char *const *sort_fields,
                          const char *default_sort, cc_page_t *pg);

/** offset and page_size as decimal strings (for statement arguments). */
const char *cc_page_limit_str(apr_pool_t *p, const cc_page_t *pg);
const char *cc_page_offset_str(apr_pool_t *p, const cc_page_t *pg);

#endif
