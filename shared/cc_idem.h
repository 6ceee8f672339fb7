/**
 * @file cc_idem.h
 * @brief (glue) Idempotency-Key on POST (API.md "Platform features", sql/027): a retried
 *        create with the same key and body gets the first answer (status, body,
 *        Location) without the work being done again; the same key with another body is
 *        422; concurrent requests with one key do the work once.  Keys are per tenant and
 *        access token and kept CCIdempotencyHours.  cc_dispatch calls it for every POST
 *        of an authenticated route that carries the header.
 */
#ifndef CC_IDEM_H
#define CC_IDEM_H

#include "cc_crypto.h"
#include "cc_http.h"

/** The longest key taken (printable ASCII, no space). */
#define CC_IDEM_KEY_MAX 255
/** How long a request waits for another one running with the same key. */
#define CC_IDEM_WAIT apr_time_from_sec(10)
/** A claim whose work has not committed and whose request has not finished after this
 *  long is taken to be abandoned (its process died) and may be taken over. */
#define CC_IDEM_STALE_SECONDS "60"
/** A claim whose work committed has its answer stored within this long, or never. */
#define CC_IDEM_ANSWER_SECONDS "5"

/** A request's claim (cc_ctx_t.idem). */
typedef struct cc_idem_t {
    const char *key;          /**< the header's value */
    const char *scope;        /**< SHA-256 hex of the access token */
    const char *owner;        /**< this request's random claim id */
    const char *hours;        /**< CCIdempotencyHours, as text */
    cc_sha256_ctx hash;       /**< method, target and the body as it is read */
    const char *mark_args[4]; /**< the commit mark's (cc_db_t.commit_mark) */
} cc_idem_t;

/**
 * Before the handler: NULL to run it (ctx->idem set when the request holds a claim),
 * or the answer already recorded in ctx (*preplay 1: the stored answer of the first
 * request), or an error: 400 (a malformed key), 422 (the key with another request),
 * 409 (the first request still running after CC_IDEM_WAIT, or its answer lost), 503.
 */
cc_error_t *cc_idem_begin(cc_ctx_t *ctx, int *preplay);

/** After the handler (err its result): the answer stored under the claim, or the claim
 *  released when no work committed. */
void cc_idem_end(cc_ctx_t *ctx, const cc_error_t *err);

#endif
