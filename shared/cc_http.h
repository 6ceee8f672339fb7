/**
 * @file cc_http.h
 * @brief (glue) Request context, dispatch over route tables, JSON in and out, request ids.
 */
#ifndef CC_HTTP_H
#define CC_HTTP_H

#include <httpd.h>
#include <http_config.h>
#include <apr_dbd.h>
#include <mod_dbd.h>
#include <jansson.h>
#include "cc_error.h"
#include "cc_json.h"
#include "cc_route.h"
#include "cc_perm.h"

#define CC_MAX_BODY_DEFAULT (1024 * 1024)

/** Everything a handler needs; lives in r->pool. */
typedef struct cc_ctx_t {
    request_rec *r;
    cc_route_match_t match;
    const cc_principal_t *principal;   /**< NULL on CC_ROUTE_PUBLIC routes */
    apr_table_t *args;                 /**< decoded query string */
    const char *request_id;
    ap_dbd_t *dbd;                     /**< set by cc_db_acquire */
    int in_txn;                        /**< a transaction is open (cc_db_begin) */
    int db_errno;                      /**< MySQL errno of the last failed DB call */
    apr_size_t max_body;
    void *module_cfg;                  /**< the calling module's config */
} cc_ctx_t;

/**
 * The whole handler path: request id, route match (404/405 with Allow), principal and
 * route permission (403), query parsing, then the route's handler.  Errors are sent
 * as JSON envelopes.  Returns what a handler hook returns (OK).
 */
int cc_dispatch(request_rec *r, const cc_route_t *const *tables, apr_size_t max_body,
                void *module_cfg);

/** X-Request-ID: the client's valid one, else httpd's UNIQUE_ID; also sets the header. */
const char *cc_request_id(request_rec *r);

/** Send body (stolen) as JSON with status; returns OK. */
int cc_send_json(request_rec *r, int status, json_t *body);
/** Send text (already JSON, kept in r->pool) with status; returns OK. */
int cc_send_json_text(request_rec *r, int status, const char *text, apr_size_t len);
/** 201 with Location and body (stolen). */
int cc_send_created(request_rec *r, const char *location, json_t *body);
/** 204 without a body. */
int cc_send_no_content(request_rec *r);
/** Send the error envelope (sets r->status; WWW-Authenticate on 401); returns OK. */
int cc_send_error(request_rec *r, const cc_error_t *e);

/**
 * Read the body as a JSON object: 415 unless application/json, 413 past ctx->max_body
 * (chunked too) or LimitRequestBody, 400 when malformed or not an object.
 */
cc_error_t *cc_read_json(cc_ctx_t *ctx, json_t **pobj);
/** cc_read_json + cc_json_check_fields. */
cc_error_t *cc_read_json_fields(cc_ctx_t *ctx, const cc_field_t *fields, json_t **pobj);

/** cc_read_json + cc_json_check_patch: a PATCH body checked against the create's table. */
cc_error_t *cc_read_json_patch(cc_ctx_t *ctx, const cc_field_t *fields, json_t **pobj);

/**
 * For auth/authz hooks: remember the error code/message for the JSON ErrorDocument
 * handler (cc-error) that renders hook errors.
 */
void cc_note_error(request_rec *r, const char *code, const char *message);
/** Render the noted error of the failed request (r->prev) as JSON; the cc-error handler. */
int cc_send_noted_error(request_rec *r);

/** The client address (useragent_ip). */
const char *cc_client_ip(request_rec *r);

#endif
