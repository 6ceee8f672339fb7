/**
 * @file cc_sql.h
 * @brief (core) Small helpers for building statement arguments.
 */
#ifndef CC_SQL_H
#define CC_SQL_H

#include <apr_pools.h>

/**
 * A LIKE pattern matching values that contain s literally: backslash, '%' and '_' are
 * escaped (MariaDB's default LIKE escape is backslash), then wrapped in '%'.
 */
const char *cc_like_contains(apr_pool_t *p, const char *s);

/** A LIKE pattern matching values that start with s literally: escaped as above, then
 * '%' appended. */
const char *cc_like_prefix(apr_pool_t *p, const char *s);

/**
 * SQL true when the bound argument (a filter's "true" or "false") is "true": compared as
 * bytes, since a bound string has the connection's collation, not the literal's.  For a
 * CC_FILTER_ENUM filter of {"true", "false"}: "(%s IS NULL OR x = " CC_SQL_TRUE("%s") ")".
 */
#define CC_SQL_TRUE(arg) "(CAST(" arg " AS BINARY) = 'true')"

#endif
