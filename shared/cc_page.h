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

/**
 * A bounded integer query parameter name of args (may be NULL): *pv, dflt when absent;
 * one that does not fit adds a detail to err ("must be an integer from lo to hi"), which
 * is returned (a new 400 when err is NULL).
 */
cc_error_t *cc_args_int(apr_pool_t *p, cc_error_t *err, apr_table_t *args, const char *name,
                        int lo, int hi, int dflt, int *pv);

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

/**
 * A keyset cursor (API.md "next_cursor" / "after="): where a sorted list stopped, as the
 * last row's sort key and id.  The text is opaque to clients and carries the key as it
 * is (a DID number's "+" included: clients percent-encode it in ?after=, and one pasted
 * unencoded, its "+" read as a space, is read back as "+"), with a
 * checksum over its fields and the list's scope (the tenant and the filters), so a
 * cursor edited by hand, or used with other filters or another tenant, is refused.
 * Forging one needs no secret but gains nothing: a cursor only says where to resume
 * inside the caller's own rows.
 */
typedef struct cc_cursor_t {
    const char *sort;       /**< the sort field */
    int desc;
    const char *key;        /**< the last row's sort value as SQL text */
    const char *id;         /**< the last row's id */
} cc_cursor_t;

/** The cursor text for c within scope (NULL when a field has characters a cursor
 *  cannot carry: key and id are at most 64 of [0-9A-Za-z:._+-], sort [a-z_]). */
const char *cc_cursor_make(apr_pool_t *p, const cc_cursor_t *c, const char *scope);

/** 1 and *c filled when text is a cursor cc_cursor_make made for scope, else 0.  A ' '
 *  is read as '+': a key may hold '+' (an E.164 number), which a client that pastes the
 *  cursor into ?after= unencoded has decoded to a space. */
int cc_cursor_read(apr_pool_t *p, const char *text, const char *scope, cc_cursor_t *c);

#endif
