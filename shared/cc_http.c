/*
 * cc_http.c (glue): the request path every module shares.  Route dispatch, JSON
 * responses, the error envelope (also for errors raised in auth hooks, rendered by the
 * cc-error ErrorDocument handler), request bodies with a cap, request ids.
 */
#include <string.h>

#include <httpd.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>
#include <apr_strings.h>

#include "cc_http.h"
#include "cc_crypto.h"
#include "cc_log.h"
#include "cc_page.h"
#include "cc_validate.h"
#include "mod_cc_tenant.h"

#define CC_NOTE_REQUEST_ID    "cc-request-id"
#define CC_NOTE_ERROR_CODE    "cc-error-code"
#define CC_NOTE_ERROR_MESSAGE "cc-error-message"
#define CC_RETRY_AFTER_DB     "5"
#define CC_READ_CHUNK         8192

/* The request a client sent, seen from an ErrorDocument redirect or a subrequest. */
static request_rec *initial_request(request_rec *r)
{
    while (!ap_is_initial_req(r)) {
        r = r->prev ? r->prev : r->main;
    }
    return r;
}

/* ---- request id ---- */

const char *cc_request_id(request_rec *r)
{
    request_rec *top = initial_request(r);
    const char *id = apr_table_get(top->notes, CC_NOTE_REQUEST_ID);

    if (!id) {
        const char *client = apr_table_get(top->headers_in, "X-Request-ID");

        if (client && cc_valid_request_id(client)) {
            id = client;
        }
        else {
            id = apr_table_get(top->subprocess_env, "UNIQUE_ID");
        }
        if (!id && cc_random_token(top->pool, 18, &id) != APR_SUCCESS) {
            id = apr_psprintf(top->pool, "%" APR_TIME_T_FMT, apr_time_now());
        }
        apr_table_setn(top->notes, CC_NOTE_REQUEST_ID, id);
    }
    /* err_headers_out survive error responses and ErrorDocument redirects. */
    apr_table_setn(r->err_headers_out, "X-Request-ID", id);
    return id;
}

const char *cc_client_ip(request_rec *r)
{
    return r->useragent_ip ? r->useragent_ip : r->connection->client_ip;
}

/* ---- responses ---- */

/* Headers every JSON answer gets. */
static void json_headers(request_rec *r, int status, apr_size_t len)
{
    cc_request_id(r);
    r->status = status;
    ap_set_content_type(r, "application/json; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, len);
}

static int pass_bucket(request_rec *r, apr_bucket *b)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);

    APR_BRIGADE_INSERT_TAIL(bb, b);
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    if (ap_pass_brigade(r->output_filters, bb) != APR_SUCCESS) {
        /* The client went away; nothing more to say to it. */
        return AP_FILTER_ERROR;
    }
    return OK;
}

int cc_send_json(request_rec *r, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
    apr_size_t len;

    json_decref(body);
    if (!text) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CCLOGNO(00101)
                      "could not serialise a JSON response");
        static const char fallback[] =
            "{\"error\":\"internal_error\",\"message\":\"internal error\"}";

        return cc_send_json_text(r, HTTP_INTERNAL_SERVER_ERROR, fallback,
                                 sizeof(fallback) - 1);
    }
    len = strlen(text);
    json_headers(r, status, len);
    /* The heap bucket takes over jansson's malloc'd buffer: no copy, freed with it. */
    return pass_bucket(r, apr_bucket_heap_create(text, len, free,
                                                 r->connection->bucket_alloc));
}

int cc_send_json_text(request_rec *r, int status, const char *text, apr_size_t len)
{
    json_headers(r, status, len);
    return pass_bucket(r, apr_bucket_pool_create(text, len, r->pool,
                                                 r->connection->bucket_alloc));
}

int cc_send_created(request_rec *r, const char *location, json_t *body)
{
    if (location) {
        apr_table_setn(r->headers_out, "Location", location);
    }
    return cc_send_json(r, HTTP_CREATED, body);
}

int cc_send_no_content(request_rec *r)
{
    cc_request_id(r);
    r->status = HTTP_NO_CONTENT;
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    return OK;
}

int cc_send_error(request_rec *r, const cc_error_t *e)
{
    json_t *body = cc_error_to_json(e, cc_request_id(r));

    if (e->status == HTTP_UNAUTHORIZED
        && !apr_table_get(r->err_headers_out, "WWW-Authenticate")) {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate", "Bearer realm=\"callcenter\"");
    }
    if (e->status == HTTP_SERVICE_UNAVAILABLE
        && !apr_table_get(r->err_headers_out, "Retry-After")) {
        apr_table_setn(r->err_headers_out, "Retry-After", CC_RETRY_AFTER_DB);
    }
    if (e->status == HTTP_REQUEST_ENTITY_TOO_LARGE) {
        /* The rest of an oversized body is never read: do not reuse the connection. */
        r->connection->keepalive = AP_CONN_CLOSE;
    }
    if (!body) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return cc_send_json(r, e->status, body);
}

/* ---- errors raised in auth/authz hooks ---- */

void cc_note_error(request_rec *r, const char *code, const char *message)
{
    apr_table_set(r->notes, CC_NOTE_ERROR_CODE, code);
    if (message) {
        apr_table_set(r->notes, CC_NOTE_ERROR_MESSAGE, message);
    }
}

static const char *default_code_for(int status)
{
    switch (status) {
    case HTTP_BAD_REQUEST:              return CC_ERR_INVALID_REQUEST;
    case HTTP_UNAUTHORIZED:             return CC_ERR_UNAUTHORIZED;
    case HTTP_FORBIDDEN:                return CC_ERR_FORBIDDEN;
    case HTTP_NOT_FOUND:                return CC_ERR_NOT_FOUND;
    case HTTP_METHOD_NOT_ALLOWED:       return CC_ERR_METHOD_NOT_ALLOWED;
    case HTTP_REQUEST_ENTITY_TOO_LARGE: return CC_ERR_PAYLOAD_TOO_LARGE;
    case HTTP_UNSUPPORTED_MEDIA_TYPE:   return CC_ERR_UNSUPPORTED_MEDIA;
    case HTTP_TOO_MANY_REQUESTS:        return CC_ERR_TOO_MANY_REQUESTS;
    case HTTP_SERVICE_UNAVAILABLE:      return CC_ERR_UNAVAILABLE;
    default:                            return CC_ERR_INTERNAL;
    }
}

/* Each API error code implies its status; a noted code wins over the failed request's
 * status (a DB outage inside an authz provider can only fail as 500 there, but the
 * client must see 503). */
static const struct { const char *code; int status; } code_statuses[] = {
    { CC_ERR_INVALID_REQUEST, HTTP_BAD_REQUEST },
    { CC_ERR_UNAUTHORIZED, HTTP_UNAUTHORIZED },
    { CC_ERR_INVALID_CREDENTIALS, HTTP_UNAUTHORIZED },
    { CC_ERR_FORBIDDEN, HTTP_FORBIDDEN },
    { CC_ERR_TENANT_SUSPENDED, HTTP_FORBIDDEN },
    { CC_ERR_ACCOUNT_DISABLED, HTTP_FORBIDDEN },
    { CC_ERR_NOT_FOUND, HTTP_NOT_FOUND },
    { CC_ERR_METHOD_NOT_ALLOWED, HTTP_METHOD_NOT_ALLOWED },
    { CC_ERR_CONFLICT, HTTP_CONFLICT },
    { CC_ERR_QUOTA_EXCEEDED, HTTP_CONFLICT },
    { CC_ERR_PAYLOAD_TOO_LARGE, HTTP_REQUEST_ENTITY_TOO_LARGE },
    { CC_ERR_UNSUPPORTED_MEDIA, HTTP_UNSUPPORTED_MEDIA_TYPE },
    { CC_ERR_TOO_MANY_REQUESTS, HTTP_TOO_MANY_REQUESTS },
    { CC_ERR_UNAVAILABLE, HTTP_SERVICE_UNAVAILABLE },
    { CC_ERR_INTERNAL, HTTP_INTERNAL_SERVER_ERROR },
};

static int status_for_code(const char *code, int status)
{
    size_t i;

    for (i = 0; i < sizeof(code_statuses) / sizeof(code_statuses[0]); i++) {
        if (!strcmp(code, code_statuses[i].code)) {
            return code_statuses[i].status;
        }
    }
    return status;
}

int cc_send_noted_error(request_rec *r)
{
    request_rec *failed = r->prev;
    const char *code, *message;
    int status;

    if (!failed) {
        /* Requested directly rather than as an ErrorDocument. */
        return cc_send_error(r, cc_error_not_found(r->pool));
    }
    status = failed->status >= 400 ? failed->status : HTTP_INTERNAL_SERVER_ERROR;
    code = apr_table_get(failed->notes, CC_NOTE_ERROR_CODE);
    message = apr_table_get(failed->notes, CC_NOTE_ERROR_MESSAGE);
    if (code) {
        status = status_for_code(code, status);
    }
    else {
        code = default_code_for(status);
    }
    return cc_send_error(r, cc_error_make(r->pool, status, code, "%s",
                                          message ? message : ap_get_status_line(status) + 4));
}

/* ---- request bodies ---- */

static int is_json_media_type(const char *ct)
{
    static const char json[] = "application/json";

    if (!ct || strncasecmp(ct, json, sizeof(json) - 1)) {
        return 0;
    }
    ct += sizeof(json) - 1;
    return *ct == '\0' || *ct == ';' || *ct == ' ' || *ct == '\t';
}

static cc_error_t *too_large(apr_pool_t *p, apr_size_t max)
{
    return cc_error_make(p, HTTP_REQUEST_ENTITY_TOO_LARGE, CC_ERR_PAYLOAD_TOO_LARGE,
                         "request body is larger than %" APR_SIZE_T_FMT " bytes", max);
}

/* Read the whole body into p, never more than max bytes; works for chunked bodies
 * (r->remaining is 0 for those, so it cannot size anything). */
static cc_error_t *read_body(request_rec *r, apr_size_t max, char **pbuf, apr_size_t *plen)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_bucket_brigade *body = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_off_t total = 0;
    int seen_eos = 0;

    if (cl) {
        apr_int64_t declared;

        if (cc_parse_int(cl, 0, APR_INT64_MAX, &declared) && (apr_uint64_t)declared > max) {
            return too_large(r->pool, max);
        }
    }
    while (!seen_eos) {
        apr_status_t rv = ap_get_brigade(r->input_filters, bb, AP_MODE_READBYTES,
                                         APR_BLOCK_READ, CC_READ_CHUNK);
        apr_bucket *b;

        if (rv != APR_SUCCESS) {
            int status = ap_map_http_request_error(rv, HTTP_BAD_REQUEST);

            if (status == HTTP_REQUEST_ENTITY_TOO_LARGE) {
                return too_large(r->pool, max);
            }
            return cc_error_make(r->pool, HTTP_BAD_REQUEST, CC_ERR_INVALID_REQUEST,
                                 "could not read the request body");
        }
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
             b = APR_BUCKET_NEXT(b)) {
            if (APR_BUCKET_IS_EOS(b)) {
                seen_eos = 1;
                break;
            }
        }
        APR_BRIGADE_CONCAT(body, bb);
        apr_brigade_length(body, 1, &total);
        if ((apr_uint64_t)total > max) {
            return too_large(r->pool, max);
        }
    }
    return apr_brigade_pflatten(body, pbuf, plen, r->pool) == APR_SUCCESS
           ? NULL : cc_error_internal(r->pool);
}

cc_error_t *cc_read_json(cc_ctx_t *ctx, json_t **pobj)
{
    request_rec *r = ctx->r;
    apr_size_t max = ctx->max_body ? ctx->max_body : CC_MAX_BODY_DEFAULT;
    char *buf = NULL;
    apr_size_t len = 0;
    cc_error_t *err;

    *pobj = NULL;
    if (!is_json_media_type(apr_table_get(r->headers_in, "Content-Type"))) {
        return cc_error_make(r->pool, HTTP_UNSUPPORTED_MEDIA_TYPE, CC_ERR_UNSUPPORTED_MEDIA,
                             "Content-Type must be application/json");
    }
    if ((err = read_body(r, max, &buf, &len))) {
        return err;
    }
    if (len == 0) {
        return cc_error_make(r->pool, HTTP_BAD_REQUEST, CC_ERR_INVALID_REQUEST,
                             "a JSON object body is required");
    }
    return cc_json_parse_object(r->pool, buf, len, pobj);
}

cc_error_t *cc_read_json_fields(cc_ctx_t *ctx, const cc_field_t *fields, json_t **pobj)
{
    cc_error_t *err = cc_read_json(ctx, pobj);

    if (!err) {
        err = cc_json_check_fields(ctx->r->pool, *pobj, fields);
    }
    return err;
}

cc_error_t *cc_read_json_patch(cc_ctx_t *ctx, const cc_field_t *fields, json_t **pobj)
{
    cc_error_t *err = cc_read_json(ctx, pobj);

    if (!err) {
        err = cc_json_check_patch(ctx->r->pool, *pobj, fields);
    }
    return err;
}

/* ---- dispatch ---- */

static cc_error_t *resolve_principal(cc_ctx_t *ctx)
{
    APR_OPTIONAL_FN_TYPE(cc_tenant_principal_get) *get =
        APR_RETRIEVE_OPTIONAL_FN(cc_tenant_principal_get);

    if (!get) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r, CCLOGNO(00102)
                      "mod_cc_tenant is not loaded: authenticated routes fail closed");
        return cc_error_internal(ctx->r->pool);
    }
    return get(ctx->r, &ctx->principal);
}

int cc_dispatch(request_rec *r, const cc_route_t *const *tables, apr_size_t max_body,
                void *module_cfg)
{
    cc_ctx_t *ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    const char *allow = NULL;
    const cc_route_t *route;
    cc_error_t *err;
    /* HEAD is answered by the GET route; httpd drops the body. */
    const char *method = r->header_only ? "GET" : r->method;

    ctx->r = r;
    ctx->max_body = max_body;
    ctx->module_cfg = module_cfg;
    ctx->request_id = cc_request_id(r);

    switch (cc_route_match(r->pool, tables, method, r->uri, &ctx->match, &allow)) {
    case CC_ROUTE_NOT_FOUND:
        return cc_send_error(r, cc_error_not_found(r->pool));
    case CC_ROUTE_METHOD_NOT_ALLOWED:
        apr_table_setn(r->err_headers_out, "Allow", allow);
        return cc_send_error(r, cc_error_make(r->pool, HTTP_METHOD_NOT_ALLOWED,
                                              CC_ERR_METHOD_NOT_ALLOWED,
                                              "method %s not allowed; allowed: %s",
                                              method, allow));
    case CC_ROUTE_FOUND:
        break;
    }
    route = ctx->match.route;
    if (!(route->flags & CC_ROUTE_PUBLIC)) {
        if ((err = resolve_principal(ctx))) {
            return cc_send_error(r, err);
        }
        if (!cc_principal_can(ctx->principal, route->permission)) {
            return cc_send_error(r, cc_error_make(r->pool, HTTP_FORBIDDEN, CC_ERR_FORBIDDEN,
                                                  "permission %s required",
                                                  route->permission));
        }
    }
    if ((err = cc_args_parse(r->pool, r->args, &ctx->args))) {
        return cc_send_error(r, err);
    }
    return route->handler(r, ctx);
}
