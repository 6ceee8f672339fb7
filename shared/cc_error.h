/**
 * @file cc_error.h
 * @brief (core) The API error model: status, stable code, message, per-field details.
 *
 * Rendered as API.md's envelope:
 * {"error": "<code>", "message": "...", "details": [{"field","issue"}], "request_id": "..."}
 */
#ifndef CC_ERROR_H
#define CC_ERROR_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

#define CC_ERR_INVALID_REQUEST      "invalid_request"
#define CC_ERR_UNAUTHORIZED         "unauthorized"
#define CC_ERR_INVALID_CREDENTIALS  "invalid_credentials"
#define CC_ERR_FORBIDDEN            "forbidden"
#define CC_ERR_TENANT_SUSPENDED     "tenant_suspended"
#define CC_ERR_ACCOUNT_DISABLED     "account_disabled"
#define CC_ERR_NOT_FOUND            "not_found"
#define CC_ERR_METHOD_NOT_ALLOWED   "method_not_allowed"
#define CC_ERR_CONFLICT             "conflict"
#define CC_ERR_QUOTA_EXCEEDED       "quota_exceeded"
#define CC_ERR_PAYLOAD_TOO_LARGE    "payload_too_large"
#define CC_ERR_UNSUPPORTED_MEDIA    "unsupported_media_type"
#define CC_ERR_TOO_MANY_REQUESTS    "too_many_requests"
#define CC_ERR_UNAVAILABLE          "unavailable"
#define CC_ERR_INTERNAL             "internal_error"

typedef struct cc_error_detail_t {
    const char *field;
    const char *issue;
} cc_error_detail_t;

typedef struct cc_error_t {
    apr_pool_t *pool;
    int status;                    /**< HTTP status, e.g. 400 */
    const char *code;              /**< one of CC_ERR_* */
    const char *message;           /**< human text, never secrets or SQL errors */
    apr_array_header_t *details;   /**< of cc_error_detail_t; NULL when none */
    int lock_conflict;             /**< a database lock conflict (cc_error_lock_conflict) */
} cc_error_t;

/** Make an error; message is printf-style (apr_pvsprintf). */
cc_error_t *cc_error_make(apr_pool_t *p, int status, const char *code,
                          const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** A 400 invalid_request with one detail (field, issue). */
cc_error_t *cc_error_field(apr_pool_t *p, const char *field, const char *issue);

/**
 * Collect validation problems: append (field, issue) to e, making e a 400
 * invalid_request first when it is NULL; returns e.  Validators call it for every
 * problem so the client hears about all of them at once.
 */
cc_error_t *cc_error_collect(apr_pool_t *p, cc_error_t *e, const char *field,
                             const char *issue);

/** Append a per-field detail (copied into the error's pool). */
void cc_error_add_detail(cc_error_t *e, const char *field, const char *issue);

/** Number of details. */
int cc_error_detail_count(const cc_error_t *e);

/** Shorthands for the common statuses. */
cc_error_t *cc_error_not_found(apr_pool_t *p);
cc_error_t *cc_error_internal(apr_pool_t *p);
cc_error_t *cc_error_unavailable(apr_pool_t *p);
cc_error_t *cc_error_forbidden(apr_pool_t *p);
cc_error_t *cc_error_conflict(apr_pool_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * A deadlock or lock wait timeout (cc_retry.h): 503 unavailable, marked lock_conflict,
 * so that cc_dispatch rolls back and runs the handler again (and answers this error
 * only when the runs are used up).  Code that converts errors keeps the mark only by
 * passing this one on.
 */
cc_error_t *cc_error_lock_conflict(apr_pool_t *p);

/** e is a lock conflict (NULL is not). */
int cc_error_is_lock_conflict(const cc_error_t *e);

/** The envelope as a new jansson object (caller owns the reference). */
json_t *cc_error_to_json(const cc_error_t *e, const char *request_id);

#endif
