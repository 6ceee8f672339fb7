/**
 * @file cc_json.h
 * @brief (core) jansson bound to APR pools, request-body parsing with type checks and
 *        unknown-field rejection.
 *
 * Every json_t handed out here is owned by a pool (a cleanup decrefs it), so request code
 * never calls json_decref by hand on those.  Values built with json_object_set_new and
 * friends are owned by their parent as usual.
 */
#ifndef CC_JSON_H
#define CC_JSON_H

#include <apr_pools.h>
#include <jansson.h>
#include "cc_error.h"

/** Tie j's lifetime to p (json_decref on cleanup); returns j.  NULL-safe. */
json_t *cc_json_own(apr_pool_t *p, json_t *j);

/** A new empty object owned by p. */
json_t *cc_json_object(apr_pool_t *p);

/** A new empty array owned by p. */
json_t *cc_json_array(apr_pool_t *p);

/** Compact dump into p (NULL on failure). Scalars allowed. */
char *cc_json_dump(apr_pool_t *p, const json_t *j);
/** cc_json_dump with object keys sorted (one text for equal objects, e.g. to compare). */
char *cc_json_dump_sorted(apr_pool_t *p, const json_t *j);

/**
 * Parse a request body that must be a JSON object.  Rejects malformed JSON, invalid
 * UTF-8, duplicate keys, NUL escapes and non-object tops with a 400 invalid_request.
 * On success *pobj is pool-owned.
 */
cc_error_t *cc_json_parse_object(apr_pool_t *p, const char *buf, apr_size_t len,
                                 json_t **pobj);

/** Field types a body may carry. */
typedef enum {
    CC_JT_STRING,          /**< JSON string */
    CC_JT_STRING_NULL,     /**< string or null */
    CC_JT_INT,             /**< JSON integer */
    CC_JT_INT_NULL,        /**< integer or null */
    CC_JT_BOOL,            /**< true/false */
    CC_JT_STRING_ARRAY,    /**< array of strings */
    CC_JT_OBJECT,          /**< JSON object */
    CC_JT_OBJECT_NULL      /**< object or null */
} cc_json_type_e;

/** One allowed field of a request body; tables end with {NULL}. */
typedef struct cc_field_t {
    const char *name;
    cc_json_type_e type;
    int required;
} cc_field_t;

/**
 * Check obj against fields: unknown fields, missing required ones and wrong types each
 * add a detail; returns NULL when all is well, else a 400 carrying every detail.
 */
cc_error_t *cc_json_check_fields(apr_pool_t *p, json_t *obj, const cc_field_t *fields);

/** The same for a PATCH body, with the create's table: no field is required. */
cc_error_t *cc_json_check_patch(apr_pool_t *p, json_t *obj, const cc_field_t *fields);

/** Accessors: NULL / default when absent or JSON null. */
const char *cc_json_str(const json_t *obj, const char *key);
int cc_json_has(const json_t *obj, const char *key);           /**< present (null too) */
json_int_t cc_json_int(const json_t *obj, const char *key, json_int_t dflt);
int cc_json_bool(const json_t *obj, const char *key, int dflt);

/** Set obj[key] to a string, or null when s is NULL; returns 0 or -1 (bad UTF-8). */
int cc_json_set_str(json_t *obj, const char *key, const char *s);

/** A string, or JSON null for NULL (new reference, e.g. for cc_audit_change). */
json_t *cc_json_str_or_null(const char *s);

/** A decimal text (SQL row value) as a JSON integer, NULL as JSON null (new reference). */
json_t *cc_json_int_or_null(const char *decimal);

/** obj[key] (an integer) as decimal text in p, e.g. an object's id for a statement. */
const char *cc_json_int_text(apr_pool_t *p, const json_t *obj, const char *key);

/** A deep copy of obj without the keys in drop (NULL-terminated), owned by p. */
json_t *cc_json_without(apr_pool_t *p, const json_t *obj, const char *const *drop);

/** Two optional strings are equal (both NULL counts as equal). */
int cc_str_same(const char *a, const char *b);

/** changes[field] = {"from": from, "to": to} (both stolen; NULL is JSON null). */
void cc_audit_change(json_t *changes, const char *field, json_t *from, json_t *to);

/**
 * The same for text values, recorded only when to is given and differs from from: a
 * PATCH records the fields it changes.
 */
void cc_audit_change_str(json_t *changes, const char *field, const char *from,
                         const char *to);

#endif
