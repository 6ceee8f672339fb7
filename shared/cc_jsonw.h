/**
 * @file cc_jsonw.h
 * @brief (core) An append-only JSON text writer on an APR pool.
 *
 * List pages are rendered straight from result rows into text: building a jansson tree
 * of every row first cost hundreds of mallocs per request on the hottest endpoints.
 * The writer never fails; its buffer grows in the pool.
 */
#ifndef CC_JSONW_H
#define CC_JSONW_H

#include <apr_pools.h>

typedef struct cc_jsonw_t {
    apr_pool_t *pool;
    char *buf;
    apr_size_t len;
    apr_size_t cap;
} cc_jsonw_t;

/** Start an empty text with room for initial bytes. */
void cc_jsonw_init(cc_jsonw_t *w, apr_pool_t *p, apr_size_t initial);
/** Append n bytes as they are (JSON punctuation, already-valid JSON). */
void cc_jsonw_raw(cc_jsonw_t *w, const char *s, apr_size_t n);
/** Append a NUL-terminated literal as it is. */
void cc_jsonw_lit(cc_jsonw_t *w, const char *s);
/** Append s as a JSON string (quoted, escaped); NULL or invalid UTF-8 becomes null. */
void cc_jsonw_str(cc_jsonw_t *w, const char *s);
/** Append n bytes of s as a JSON string (same rules). */
void cc_jsonw_strn(cc_jsonw_t *w, const char *s, apr_size_t n);
/** Append "key": (key must need no escaping: our own constants). */
void cc_jsonw_key(cc_jsonw_t *w, const char *key);
/** Append a decimal integer. */
void cc_jsonw_int(cc_jsonw_t *w, apr_int64_t v);
/** Append s if it is a JSON integer literal (-?digits, no leading zeros), else null. */
void cc_jsonw_int_text(cc_jsonw_t *w, const char *s);
/** The text so far, NUL-terminated; its length is w->len. */
const char *cc_jsonw_text(cc_jsonw_t *w);

#endif
