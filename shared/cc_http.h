/**
 * @file cc_http.h
 * @brief (glue) Request context, dispatch over route tables, JSON in and out, request ids.
 */
#ifndef CC_HTTP_H
#define CC_HTTP_H

#include <httpd.h>
#include <http_config.h>
#include <jansson.h>
#include "cc_db.h"
#include "cc_domain.h"
#include "cc_error.h"
#include "cc_json.h"
#include "cc_page.h"
#include "cc_route.h"
#include "cc_perm.h"

#define CC_MAX_BODY_DEFAULT (1024 * 1024)

/**
 * Everything a handler needs; lives in r->pool.
 *
 * The handler contract (cc_handler_fn): a handler returns an error, or NULL after it has
 * recorded its reply with one cc_reply_* call.  The dispatcher then sends the reply or
 * the error envelope; on an error it rolls back the transaction the handler left open,
 * and on success an open transaction is a bug it logs (and answers 500: nothing was
 * committed).  A streaming handler (CSV export, a file with Range, SSE) sends for itself
 * and records that with cc_reply_sent.
 *
 * A handler may run more than once: when it fails with a lock conflict (a deadlock or a
 * lock wait timeout, cc_error_lock_conflict) the dispatcher rolls back and runs it again,
 * up to CC_RETRY_ATTEMPTS runs with growing, randomised pauses (cc_retry.h), unless the
 * run has sent anything (streaming), committed a transaction or changed rows outside one
 * (cc_db_attempt).  Each run starts from the same state: no recorded reply, the response
 * headers as they were before the first run, the same body (cc_read_json reads it once).
 * What a handler keeps outside the database must bear a second run.
 */
typedef struct cc_ctx_t {
    request_rec *r;
    apr_pool_t *pool;                  /**< r->pool */
    cc_route_match_t match;
    const cc_domain_t *domain;         /**< the domain of the matched route */
    const cc_principal_t *principal;   /**< NULL on CC_ROUTE_PUBLIC routes */
    apr_table_t *args;                 /**< decoded query string */
    const char *request_id;
    cc_db_t *db;                       /**< the request's connection slot */
    apr_size_t max_body;
    void *module_cfg;                  /**< the calling module's config */
    /* The recorded reply (cc_reply_*). */
    int reply_status;                  /**< 0 until a reply is recorded */
    const json_t *reply_body;          /**< borrowed, pool-owned */
    const char *reply_text;            /**< JSON text (instead of reply_body) */
    const char *reply_type;            /**< reply_text's media type; NULL: JSON */
    apr_size_t reply_len;
    int replied;                       /**< the handler sent the answer itself */
    int attempt;                       /**< 1, then 2... when run again (cc_dispatch) */
    /* The request body, read once by cc_read_json and parsed afresh by every run. */
    const char *body;
    apr_size_t body_len;
    int body_read;
    struct cc_idem_t *idem;            /**< the Idempotency-Key claim it holds (cc_idem.h) */
    const cc_route_match_t *if_match;  /**< the object's GET an If-Match is checked on */
    const cc_domain_t *if_match_domain;   /**< the domain of that GET */
} cc_ctx_t;

/** How a reply's JSON is written (and stored for an Idempotency-Key's replay): reals are
 *  fractions of 6 decimals at most (cc_qstats_ratio), 15 significant digits print them
 *  as they are. */
#define CC_REPLY_JSON_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))

/**
 * The whole handler path: request id, route match over the module's domains (404/405
 * with Allow; a typed capture that does not fit is 404), principal and route permission
 * (403), query parsing, the handler, then its reply or error (see cc_ctx_t).  Returns
 * what a handler hook returns (OK).
 */
int cc_dispatch(request_rec *r, const cc_domain_t *const *domains, apr_size_t max_body,
                void *module_cfg);

/**
 * post_config's check of a module's domains (cc_domain_check): logs each problem and
 * returns HTTP_INTERNAL_SERVER_ERROR, so httpd refuses to start on a table bug; OK
 * otherwise.  Also registers the domains' statements (and shared/'s own) with mod_dbd.
 */
int cc_domains_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s,
                           const char *module, const cc_domain_t *const *domains);

/* ---- replies (each returns NULL, so a handler can `return cc_reply_...;`) ---- */

/** status with body (borrowed: pool-owned or held by something pool-owned). */
cc_error_t *cc_reply_json(cc_ctx_t *ctx, int status, const json_t *body);
/** 201 with Location and body. */
cc_error_t *cc_reply_created(cc_ctx_t *ctx, const char *location, const json_t *body);
/** status with JSON text already rendered (kept in r->pool). */
cc_error_t *cc_reply_text(cc_ctx_t *ctx, int status, const char *text, apr_size_t len);
/** status with a text of another media type (Prometheus' text format), kept in r->pool. */
cc_error_t *cc_reply_typed(cc_ctx_t *ctx, int status, const char *type, const char *text,
                           apr_size_t len);
/** 204 without a body. */
cc_error_t *cc_reply_no_content(cc_ctx_t *ctx);
/** The handler has sent the answer itself (streaming). */
cc_error_t *cc_reply_sent(cc_ctx_t *ctx);

/**
 * A page of a statement and API.md's page envelope {"data", "total", "page",
 * "page_size"}, rendered straight from the rows.  The statement selects its total as the
 * column after cols; past the last page there is no row to carry it, so count_label,
 * binding the first count_nargs of args, is run.
 */
cc_error_t *cc_reply_page(cc_ctx_t *ctx, const char *label, const char *count_label,
                          const cc_col_t *cols, int nargs, const char **args,
                          int count_nargs, const cc_page_t *pg);

/**
 * The list every domain has, answered from its description (cc_list_t): ?page,
 * ?page_size, ?sort from the whitelist and the list's filters (a 400 naming every one
 * that does not fit), then the unfiltered or the search statements.  A list handler is
 * `return cc_reply_list(ctx, &things_list);`.
 */
cc_error_t *cc_reply_list(cc_ctx_t *ctx, const cc_list_t *list);

/**
 * The tenant's object: the row of label bound to (the principal's tenant, id) rendered
 * by cols (pool-owned); 404 when there is none.
 */
cc_error_t *cc_fetch(cc_ctx_t *ctx, const char *label, const cc_col_t *cols,
                     const char *id, json_t **pobj);

/** cc_fetch, answered 200 (a get handler, or a write that changed nothing). */
cc_error_t *cc_reply_fetch(cc_ctx_t *ctx, const char *label, const cc_col_t *cols,
                           const char *id);

/** The same row as raw strings (e.g. a locking read); 404 when there is none. */
cc_error_t *cc_fetch_row(cc_ctx_t *ctx, const char *label, const char *id,
                         const char ***prow);

/**
 * A write that would change nothing writes, audits and announces nothing: roll back
 * what it read (its locks) and answer as get does (the object as it is).
 */
cc_error_t *cc_reply_unchanged(cc_ctx_t *ctx, cc_handler_fn get);

/** A route handler: the domain's list (cc_reply_list of ctx->domain->list). */
cc_error_t *cc_handle_list(cc_ctx_t *ctx);

/** A route handler: the domain's object named by the path's last capture, or 404. */
cc_error_t *cc_handle_get(cc_ctx_t *ctx);

/**
 * The methods the domains' routes take on path ("GET, POST"), or NULL when no route has
 * the path: what a CORS preflight allows.
 */
const char *cc_route_methods(apr_pool_t *p, const cc_domain_t *const *domains,
                             const char *path);

/** The capture name of the route (typed captures are already checked), or NULL. */
const char *cc_path(const cc_ctx_t *ctx, const char *name);

/** X-Request-ID: the client's valid one, else httpd's UNIQUE_ID; also sets the header. */
const char *cc_request_id(request_rec *r);

/** Send the error envelope (sets r->status; WWW-Authenticate on 401); returns OK. */
int cc_send_error(request_rec *r, const cc_error_t *e);

/**
 * Read the body as a JSON object: 415 unless application/json, 413 past ctx->max_body
 * (chunked too) or LimitRequestBody, 400 when malformed or not an object.  The bytes are
 * read once per request; each call parses them into a new object.
 */
cc_error_t *cc_read_json(cc_ctx_t *ctx, json_t **pobj);
/** A piece of a streamed request body (cc_read_body_stream): an error stops the read. */
typedef cc_error_t *(*cc_body_fn)(void *baton, const char *data, apr_size_t len);

/**
 * Read a body that is not JSON (a file upload) piece by piece into fn, never more than
 * max bytes: 413 when Content-Length says more (before reading) or when more arrives
 * (a chunked body); the errors of cc_read_json's reading otherwise.  *ptotal: the bytes
 * read.  Once per request (a handler run again must keep what the first run made of it).
 */
cc_error_t *cc_read_body_stream(cc_ctx_t *ctx, apr_size_t max, cc_body_fn fn, void *baton,
                                apr_off_t *ptotal);

/** cc_read_json + cc_json_check_fields. */
cc_error_t *cc_read_json_fields(cc_ctx_t *ctx, const cc_field_t *fields, json_t **pobj);

/**
 * A route that takes no fields: no body, or one checked like any other (415, 413, 400
 * when malformed) that must be an empty JSON object (any field is 400).
 */
cc_error_t *cc_read_no_fields(cc_ctx_t *ctx);

/** cc_read_json + cc_json_check_patch: a PATCH body checked against the create's table. */
cc_error_t *cc_read_json_patch(cc_ctx_t *ctx, const cc_field_t *fields, json_t **pobj);

/**
 * For auth/authz hooks: remember the error code/message for the JSON ErrorDocument
 * handler (cc-error) that renders hook errors.
 */
void cc_note_error(request_rec *r, const char *code, const char *message);
/** Render the noted error of the failed request (r->prev) as JSON; the cc-error handler. */
int cc_send_noted_error(request_rec *r);

/**
 * From a module's register_hooks, for the path space of its domains' routes
 * (cc_route_in_space: /api, /healthz, /readyz): every answer httpd itself makes there
 * (414, 400, 408, 413, 417, 501, ...: ap_send_error_response) carries the JSON envelope
 * instead of httpd's HTML page, with the noted error if a hook noted one; and a request
 * line of HTTP/2.0 or later on an HTTP/1 connection is refused with 505.  module names
 * the module's output filter (CC_JSON_ERROR_<module>); several modules may register.
 * Also CORS for /api/v1 (CCCorsOrigins, mod_cc_tenant): a preflight of one of the
 * domains' routes is answered before authentication (a quick handler) from the route
 * tables, and every answer under /api/v1 to a listed origin carries its CORS headers.
 */
void cc_http_guard_register(apr_pool_t *p, const char *module,
                            const cc_domain_t *const *domains);

/**
 * CORS on an answer: origin may read it, an error too (Access-Control-Allow-Origin with
 * origin, Access-Control-Expose-Headers: CC_CORS_EXPOSE_HEADERS; err_headers_out).
 */
void cc_cors_allow(request_rec *r, const char *origin);
/** Vary: Origin on the answer (once), for every answer whose CORS headers depend on it. */
void cc_cors_vary(request_rec *r);
/**
 * The answer to a preflight that origin may make: 204 with Access-Control-Allow-Origin,
 * -Allow-Methods (methods and OPTIONS), -Allow-Headers (headers), -Max-Age
 * (CC_CORS_MAX_AGE), Vary: Origin.  Returns OK (the status is set, nothing to send).
 */
int cc_cors_preflight_reply(request_rec *r, const char *origin, const char *methods,
                            const char *headers);

/** The token of an Authorization header "Bearer <token>" (the scheme in any case), so
 *  that keys made from it do not depend on how the scheme was written; "" without one. */
const char *cc_bearer_token(const char *authorization);

/** body as a reply writes it (CC_REPLY_JSON_FLAGS), copied into p; NULL on failure. */
const char *cc_reply_json_text(apr_pool_t *p, const json_t *body);

/** The platform settings of r's virtual host (mod_cc_tenant's CCCorsOrigins, rate limits,
 *  CCIdempotencyHours); NULL without mod_cc_tenant. */
const struct cc_platform_cfg_t *cc_platform_cfg(request_rec *r);

/** The client address (useragent_ip). */
const char *cc_client_ip(request_rec *r);

#endif
