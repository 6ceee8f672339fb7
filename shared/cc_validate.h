/**
 * @file cc_validate.h
 * @brief (core) Pure validators.  All return 1 when valid, 0 otherwise.
 */
#ifndef CC_VALIDATE_H
#define CC_VALIDATE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include "cc_error.h"

/** Well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int cc_valid_utf8(const char *s, apr_size_t len);
/** The length of the longest start of s (n bytes of valid UTF-8) that is at most max
 * bytes and ends on a character boundary: where to cut s to fit max bytes. */
apr_size_t cc_utf8_cut_len(const char *s, apr_size_t n, apr_size_t max);
/** Number of code points in a valid UTF-8 string. */
apr_size_t cc_utf8_chars(const char *s);
/** Length in code points within [min,max] and valid UTF-8, no control chars but \t\n\r. */
int cc_valid_text(const char *s, apr_size_t min, apr_size_t max);
/**
 * Byte length of the control character starting at s, 0 when there is none: C0 (TAB, CR
 * and LF included), DEL, C1 (U+0080..U+009F, NEL among them) and the Unicode line and
 * paragraph separators U+2028 and U+2029.  s must be valid UTF-8.
 */
apr_size_t cc_control_len(const char *s);
/**
 * A human-readable name (user, tenant, plan, queue): valid UTF-8 of [min,max] code points,
 * one line, nothing cc_control_len() reports.  The one rule for every name field.
 */
int cc_valid_name(const char *s, apr_size_t min, apr_size_t max);
/** Pragmatic e-mail: local@domain.tld, <= 254 bytes, no spaces or controls. */
int cc_valid_email(const char *s);
/** E.164: '+' then 8 to 15 digits, first digit not 0. */
int cc_valid_e164(const char *s);
/** Tenant slug: [a-z0-9-]{3,63}, not shaped like a UUID (it could name another tenant). */
int cc_valid_slug(const char *s);
/** Role name: [a-z][a-z0-9_]{1,62}. */
int cc_valid_role_name(const char *s);
/** Canonical lowercase UUID 8-4-4-4-12. */
int cc_valid_uuid(const char *s);
/** 1..max of [A-Za-z0-9._-]: an id safe in a header, a log line or a protocol field. */
int cc_valid_id_chars(const char *s, apr_size_t max);
/** Client X-Request-ID: 1..128 of [A-Za-z0-9._-]. */
int cc_valid_request_id(const char *s);
/** s is one of values (NULL-terminated). */
int cc_valid_enum(const char *s, const char *const *values);
/** Positive decimal id (1..2^53), no sign/spaces; stores it in *out. */
int cc_parse_id(const char *s, apr_int64_t *out);
/** Decimal integer within [min,max]. */
int cc_parse_int(const char *s, apr_int64_t min, apr_int64_t max, apr_int64_t *out);
/**
 * RFC 3339 timestamp ("2026-11-24T06:00:00Z", offsets and fractions allowed) to the UTC
 * SQL DATETIME text "2026-11-24 06:00:00" allocated in p.
 */
int cc_parse_rfc3339(apr_pool_t *p, const char *s, const char **psql);
/**
 * The same time as seconds since 1970-01-01T00:00:00Z (negative before), for arithmetic
 * on times (ranges, defaults); within 0001-01-01 .. 9999-12-31 UTC.
 */
int cc_parse_rfc3339_epoch(const char *s, apr_int64_t *psecs);
/** Seconds since the epoch as UTC SQL DATETIME text (in p); NULL outside years 1..9999. */
const char *cc_epoch_to_sql(apr_pool_t *p, apr_int64_t secs);
/**
 * The key a client address is counted under (login budgets): an IPv4 address as it is,
 * an IPv4-mapped IPv6 address as its IPv4, any other IPv6 address as its /64
 * ("2001:db8:1:2::/64": one host usually holds the whole /64).  NULL when ip is not
 * a numeric address.
 */
const char *cc_client_addr_key(apr_pool_t *p, const char *ip);
/**
 * text (len bytes) as one line of valid UTF-8 of at most max characters, for an error
 * column or a log: a control character becomes a space, a byte that is not UTF-8 '?'.
 */
const char *cc_clean_line(apr_pool_t *p, const char *text, apr_size_t len, apr_size_t max);

/** SQL DATETIME text "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC) to "YYYY-MM-DDTHH:MM:SSZ". */
const char *cc_sql_time_to_rfc3339(apr_pool_t *p, const char *sql);

#endif
