/*
 * cc_http.c (glue): the request path every module shares.  Route dispatch, JSON
 * responses, the error envelope (also for errors raised in auth hooks, rendered by the
 * cc-error ErrorDocument handler), request bodies with a cap, request ids.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <httpd.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>
#include <apr_strings.h>

#include "cc_http.h"
#include "cc_idem.h"
#include "cc_cors.h"
#include "cc_jsonw.h"
#include "cc_crypto.h"
#include "cc_csv.h"
#include "cc_log.h"
#include "cc_metrics.h"
#include "cc_page.h"
#include "cc_ratelimit.h"
#include "cc_retry.h"
#include "cc_validate.h"
#include "mod_cc_tenant.h"

#define CC_NOTE_REQUEST_ID    "cc-request-id"
#define CC_NOTE_ERROR_CODE    "cc-error-code"
#define CC_NOTE_ERROR_MESSAGE "cc-error-message"
#define CC_RETRY_AFTER_DB     "5"
/* After a lock conflict the handler's runs did not overcome: contention passes fast. */
#define CC_RETRY_AFTER_LOCK   "1"
#define CC_READ_CHUNK         8192
/* Domains one module dispatches over (its route tables, in match order). */
#define CC_DISPATCH_MAX_DOMAINS 32

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

#define JSON_TYPE "application/json; charset=utf-8"

/* Headers every JSON answer gets.  An API answer is not a byte-range resource: a Range
 * header is dropped so httpd's byterange filter passes the whole answer (200); files
 * sent as file buckets by streaming handlers keep their ranges. */
static void typed_headers(request_rec *r, int status, const char *type, apr_size_t len)
{
    apr_table_unset(r->headers_in, "Range");
    apr_table_unset(r->headers_in, "Request-Range");
    cc_request_id(r);
    r->status = status;
    ap_set_content_type(r, type);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_length(r, len);
}

static void json_headers(request_rec *r, int status, apr_size_t len)
{
    typed_headers(r, status, JSON_TYPE, len);
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

/*
 * A successful GET's answer carries a strong ETag: the first 128 bits of the SHA-256 of
 * its bytes, so it changes exactly when the representation does (an object's version, a
 * list's page).  A GET whose If-None-Match names it is answered 304 without the body
 * (ap_meets_conditions: RFC 9110's weak comparison, "*" included).  Returns 1 when r was
 * answered 304.
 */
/* The strong ETag of an answer's bytes (quoted 32 hex digits: 128 bits of SHA-256). */
static const char *etag_of(apr_pool_t *p, const char *text, apr_size_t len)
{
    unsigned char digest[32];

    cc_sha256(text, len, digest);
    return apr_pstrcat(p, "\"", cc_hex(p, digest, 16), "\"", NULL);
}

static int etag_not_modified(request_rec *r, int status, const char *text, apr_size_t len)
{
    if (status != HTTP_OK || r->method_number != M_GET) {
        return 0;
    }
    apr_table_setn(r->headers_out, "ETag", etag_of(r->pool, text, len));
    if (!apr_table_get(r->headers_in, "If-None-Match")
        || ap_meets_conditions(r) != HTTP_NOT_MODIFIED) {
        return 0;
    }
    cc_request_id(r);
    r->status = HTTP_NOT_MODIFIED;
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    return 1;
}

static int send_typed_text(request_rec *r, int status, const char *type, const char *text,
                           apr_size_t len)
{
    if (etag_not_modified(r, status, text, len)) {
        return OK;
    }
    typed_headers(r, status, type, len);
    return pass_bucket(r, apr_bucket_pool_create(text, len, r->pool,
                                                 r->connection->bucket_alloc));
}

static int send_json_text(request_rec *r, int status, const char *text, apr_size_t len)
{
    return send_typed_text(r, status, JSON_TYPE, text, len);
}

const char *cc_reply_json_text(apr_pool_t *p, const json_t *body)
{
    char *text = body ? json_dumps(body, CC_REPLY_JSON_FLAGS) : NULL;
    const char *copy = text ? apr_pstrdup(p, text) : NULL;

    free(text);
    return copy;
}

static int send_json(request_rec *r, int status, const json_t *body)
{
    /* Reals are fractions of 6 decimals at most (cc_qstats_ratio): 15 significant
     * digits print them as they are, not as 0.66666700000000001. */
    char *text = json_dumps(body, CC_REPLY_JSON_FLAGS);
    apr_size_t len;

    if (!text) {
        static const char fallback[] =
            "{\"error\":\"internal_error\",\"message\":\"internal error\"}";

        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CCLOGNO(00101)
                      "could not serialise a JSON response");
        return send_json_text(r, HTTP_INTERNAL_SERVER_ERROR, fallback,
                              sizeof(fallback) - 1);
    }
    len = strlen(text);
    if (etag_not_modified(r, status, text, len)) {
        free(text);
        return OK;
    }
    json_headers(r, status, len);
    /* The heap bucket takes over jansson's malloc'd buffer: no copy, freed with it. */
    return pass_bucket(r, apr_bucket_heap_create(text, len, free,
                                                 r->connection->bucket_alloc));
}

static int send_no_content(request_rec *r)
{
    cc_request_id(r);
    r->status = HTTP_NO_CONTENT;
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    return OK;
}

/* Whether either header table holds name (ap_send_error_response swaps them). */
static int has_header(request_rec *r, const char *name)
{
    return apr_table_get(r->err_headers_out, name) || apr_table_get(r->headers_out, name);
}

/* The headers an error answer carries besides its body's: the challenge on 401, when to
 * come back on 503, and no reuse of a connection whose request was not read whole. */
static void error_headers(request_rec *r, int status)
{
    if (status == HTTP_UNAUTHORIZED && !has_header(r, "WWW-Authenticate")) {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate", "Bearer realm=\"callcenter\"");
    }
    if (status == HTTP_SERVICE_UNAVAILABLE && !has_header(r, "Retry-After")) {
        apr_table_setn(r->err_headers_out, "Retry-After", CC_RETRY_AFTER_DB);
    }
    if (status == HTTP_REQUEST_ENTITY_TOO_LARGE || status == HTTP_REQUEST_TIME_OUT) {
        /* The rest of the body is never read: do not reuse the connection. */
        r->connection->keepalive = AP_CONN_CLOSE;
    }
}

/* The envelope of e as JSON text in r->pool (a fixed one if it cannot be rendered). */
static const char *error_text(request_rec *r, const cc_error_t *e, apr_size_t *plen)
{
    static const char fallback[] =
        "{\"error\":\"internal_error\",\"message\":\"internal error\"}";
    json_t *body = cc_error_to_json(e, cc_request_id(r));
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    const char *copy;

    json_decref(body);
    if (!text) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CCLOGNO(00109)
                      "could not serialise an error envelope");
        *plen = sizeof(fallback) - 1;
        return fallback;
    }
    copy = apr_pstrdup(r->pool, text);
    free(text);
    *plen = strlen(copy);
    return copy;
}

/* An answer httpd has already sent (an input filter answered a bad chunk or a body over
 * LimitRequestBody itself, and ap_get_brigade said AP_FILTER_ERROR): nothing more may
 * be sent.  Only read_body makes it; cc_send_error knows it. */
static cc_error_t *already_answered(apr_pool_t *p)
{
    return cc_error_make(p, AP_FILTER_ERROR, CC_ERR_INVALID_REQUEST, NULL);
}

int cc_send_error(request_rec *r, const cc_error_t *e)
{
    const char *text;
    apr_size_t len;

    if (e->status == AP_FILTER_ERROR) {
        return AP_FILTER_ERROR;
    }
    error_headers(r, e->status);
    text = error_text(r, e, &len);
    return send_json_text(r, e->status, text, len);
}

/* ---- errors raised in auth/authz hooks ---- */

void cc_note_error(request_rec *r, const char *code, const char *message)
{
    apr_table_set(r->notes, CC_NOTE_ERROR_CODE, code);
    if (message) {
        apr_table_set(r->notes, CC_NOTE_ERROR_MESSAGE, message);
    }
}

/* The code of a status when nothing more specific is known.  Statuses API.md gives no
 * code of their own are httpd's refusals of a malformed or unacceptable request (408,
 * 411, 414, 417, 431, 505): invalid_request; 501 is a method httpd does not know
 * (HttpProtocolOptions RegisteredMethods): method_not_allowed. */
static const char *default_code_for(int status)
{
    switch (status) {
    case HTTP_BAD_REQUEST:              return CC_ERR_INVALID_REQUEST;
    case HTTP_UNAUTHORIZED:             return CC_ERR_UNAUTHORIZED;
    case HTTP_FORBIDDEN:                return CC_ERR_FORBIDDEN;
    case HTTP_NOT_FOUND:                return CC_ERR_NOT_FOUND;
    case HTTP_METHOD_NOT_ALLOWED:       return CC_ERR_METHOD_NOT_ALLOWED;
    case HTTP_NOT_IMPLEMENTED:          return CC_ERR_METHOD_NOT_ALLOWED;
    case HTTP_REQUEST_ENTITY_TOO_LARGE: return CC_ERR_PAYLOAD_TOO_LARGE;
    case HTTP_UNSUPPORTED_MEDIA_TYPE:   return CC_ERR_UNSUPPORTED_MEDIA;
    case HTTP_TOO_MANY_REQUESTS:        return CC_ERR_TOO_MANY_REQUESTS;
    case HTTP_SERVICE_UNAVAILABLE:      return CC_ERR_UNAVAILABLE;
    case HTTP_VERSION_NOT_SUPPORTED:    return CC_ERR_INVALID_REQUEST;
    default:
        return ap_is_HTTP_CLIENT_ERROR(status) ? CC_ERR_INVALID_REQUEST : CC_ERR_INTERNAL;
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

/* The error a failed request answers with: the code its hooks noted (cc_note_error) or
 * its status's, and the noted message or the status's reason phrase.  A noted code
 * moves the status to its own unless the status already carries that code (a 505
 * noted invalid_request stays 505). */
static cc_error_t *failed_request_error(request_rec *failed, apr_pool_t *p)
{
    int status = failed->status >= 400 ? failed->status : HTTP_INTERNAL_SERVER_ERROR;
    const char *code = apr_table_get(failed->notes, CC_NOTE_ERROR_CODE);
    const char *message = apr_table_get(failed->notes, CC_NOTE_ERROR_MESSAGE);

    if (!code) {
        code = default_code_for(status);
    }
    else if (strcmp(code, default_code_for(status))) {
        status = status_for_code(code, status);
    }
    return cc_error_make(p, status, code, "%s",
                         message ? message : ap_get_status_line(status) + 4);
}

int cc_send_noted_error(request_rec *r)
{
    if (!r->prev) {
        /* Requested directly rather than as an ErrorDocument. */
        return cc_send_error(r, cc_error_not_found(r->pool));
    }
    return cc_send_error(r, failed_request_error(r->prev, r->pool));
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

/* Read the body piece by piece into fn, never more than max bytes; works for chunked
 * bodies (r->remaining is 0 for those, so it cannot size anything).  *ptotal: the
 * bytes read. */
static cc_error_t *read_body_stream(request_rec *r, apr_size_t max, cc_body_fn fn,
                                    void *baton, cc_sha256_ctx *hash, apr_off_t *ptotal)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_off_t total = 0;
    int seen_eos = 0;
    cc_error_t *err = NULL;

    *ptotal = 0;
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
            switch (ap_map_http_request_error(rv, HTTP_BAD_REQUEST)) {
            case AP_FILTER_ERROR:
                /* HTTP_IN refused a bad chunk or a body over LimitRequestBody and has
                 * answered (its JSON envelope: cc_http_guard_register, ErrorDocument). */
                return already_answered(r->pool);
            case HTTP_REQUEST_ENTITY_TOO_LARGE:
                return too_large(r->pool, max);
            case HTTP_REQUEST_TIME_OUT:
                /* RequestReadTimeout's body= (mod_reqtimeout). */
                return cc_error_make(r->pool, HTTP_REQUEST_TIME_OUT, CC_ERR_INVALID_REQUEST,
                                     "the request body did not arrive in time");
            default:
                return cc_error_make(r->pool, HTTP_BAD_REQUEST, CC_ERR_INVALID_REQUEST,
                                     "could not read the request body");
            }
        }
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb) && !err;
             b = APR_BUCKET_NEXT(b)) {
            const char *data;
            apr_size_t len;

            if (APR_BUCKET_IS_EOS(b)) {
                seen_eos = 1;
                break;
            }
            if (APR_BUCKET_IS_METADATA(b)) {
                continue;
            }
            if (apr_bucket_read(b, &data, &len, APR_BLOCK_READ) != APR_SUCCESS) {
                err = cc_error_make(r->pool, HTTP_BAD_REQUEST, CC_ERR_INVALID_REQUEST,
                                    "could not read the request body");
                break;
            }
            total += (apr_off_t)len;
            if ((apr_uint64_t)total > max) {
                err = too_large(r->pool, max);
                break;
            }
            if (len && hash) {
                cc_sha256_update(hash, data, len);     /* Idempotency-Key (cc_idem.c) */
            }
            if (len) {
                err = fn(baton, data, len);
            }
        }
        apr_brigade_cleanup(bb);
        if (err) {
            return err;
        }
    }
    *ptotal = total;
    return NULL;
}

/* read_body's collector: every piece appended to a brigade. */
static cc_error_t *collect_piece(void *baton, const char *data, apr_size_t len)
{
    apr_bucket_brigade *body = baton;

    return apr_brigade_write(body, NULL, NULL, data, len) == APR_SUCCESS
           ? NULL : cc_error_internal(body->p);
}

/* The hash an Idempotency-Key request's body goes through (cc_idem.c), or NULL. */
static cc_sha256_ctx *body_hash(cc_ctx_t *ctx)
{
    return ctx->idem ? &ctx->idem->hash : NULL;
}

/* Read the whole body into p, never more than max bytes. */
static cc_error_t *read_body(request_rec *r, apr_size_t max, cc_sha256_ctx *hash,
                             char **pbuf, apr_size_t *plen)
{
    apr_bucket_brigade *body = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_off_t total;
    cc_error_t *err = read_body_stream(r, max, collect_piece, body, hash, &total);

    if (err) {
        return err;
    }
    return apr_brigade_pflatten(body, pbuf, plen, r->pool) == APR_SUCCESS
           ? NULL : cc_error_internal(r->pool);
}

cc_error_t *cc_read_body_stream(cc_ctx_t *ctx, apr_size_t max, cc_body_fn fn, void *baton,
                                apr_off_t *ptotal)
{
    cc_error_t *err;

    if (ctx->body_read) {
        return cc_error_internal(ctx->pool);   /* a body is read once */
    }
    ctx->body_read = 1;
    ctx->body = "";
    ctx->body_len = 0;
    err = read_body_stream(ctx->r, max, fn, baton, body_hash(ctx), ptotal);
    return err;
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
    if (!ctx->body_read) {
        if ((err = read_body(r, max, body_hash(ctx), &buf, &len))) {
            return err;
        }
        ctx->body = buf;
        ctx->body_len = len;
        ctx->body_read = 1;
    }
    /* A handler run again (cc_dispatch) parses the same bytes afresh. */
    buf = (char *)ctx->body;
    len = ctx->body_len;
    if (len == 0) {
        return cc_error_make(r->pool, HTTP_BAD_REQUEST, CC_ERR_INVALID_REQUEST,
                             "a JSON object body is required");
    }
    return cc_json_parse_object(r->pool, buf, len, pobj);
}

cc_error_t *cc_read_no_fields(cc_ctx_t *ctx)
{
    static const cc_field_t none[] = { { NULL, 0, 0 } };
    const char *cl = apr_table_get(ctx->r->headers_in, "Content-Length");
    json_t *body;

    if (!apr_table_get(ctx->r->headers_in, "Transfer-Encoding") && (!cl || !strcmp(cl, "0"))) {
        return NULL;
    }
    return cc_read_json_fields(ctx, none, &body);
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

/* ---- replies ---- */

cc_error_t *cc_reply_json(cc_ctx_t *ctx, int status, const json_t *body)
{
    ctx->reply_status = status;
    ctx->reply_body = body;
    return NULL;
}

cc_error_t *cc_reply_created(cc_ctx_t *ctx, const char *location, const json_t *body)
{
    if (location) {
        apr_table_setn(ctx->r->headers_out, "Location", location);
    }
    return cc_reply_json(ctx, HTTP_CREATED, body);
}

cc_error_t *cc_reply_text(cc_ctx_t *ctx, int status, const char *text, apr_size_t len)
{
    ctx->reply_status = status;
    ctx->reply_text = text;
    ctx->reply_len = len;
    return NULL;
}

cc_error_t *cc_reply_typed(cc_ctx_t *ctx, int status, const char *type, const char *text,
                           apr_size_t len)
{
    ctx->reply_type = type;
    return cc_reply_text(ctx, status, text, len);
}

cc_error_t *cc_reply_no_content(cc_ctx_t *ctx)
{
    ctx->reply_status = HTTP_NO_CONTENT;
    return NULL;
}

cc_error_t *cc_reply_sent(cc_ctx_t *ctx)
{
    ctx->replied = 1;
    return NULL;
}

/* A list answer's paging fields after its data: total and page (offset pages and the
 * first page of a keyset list), then page_size. */
static void write_paging(cc_jsonw_t *w, int with_total, apr_int64_t total,
                         const cc_page_t *pg)
{
    if (with_total) {
        cc_jsonw_lit(w, ",\"total\":");
        cc_jsonw_int(w, total);
        cc_jsonw_lit(w, ",\"page\":");
        cc_jsonw_int(w, pg->page);
    }
    cc_jsonw_lit(w, ",\"page_size\":");
    cc_jsonw_int(w, pg->page_size);
}

/* cc_reply_page; known (not NULL): the total, already computed (the statement's total
 * column is NULL). */
static cc_error_t *reply_page(cc_ctx_t *ctx, const char *label, const char *count_label,
                              const cc_col_t *cols, int nargs, const char **args,
                              int count_nargs, const cc_page_t *pg, const apr_int64_t *known)
{
    apr_int64_t total = 0;
    cc_jsonw_t w;
    cc_error_t *err;
    const char **row;
    int nrows;

    cc_jsonw_init(&w, ctx->pool, 16384);
    cc_jsonw_lit(&w, "{\"data\":[");
    if ((err = cc_db_write_rows(ctx->db, label, cols, nargs, args, &w, &total, &nrows))) {
        return err;
    }
    if (known) {
        total = *known;
    }
    else if (nrows == 0) {
        if ((err = cc_db_select_row(ctx->db, count_label, count_nargs, args, &row, NULL))) {
            return err;
        }
        total = row && row[0] ? apr_atoi64(row[0]) : 0;
    }
    cc_jsonw_lit(&w, "]");
    write_paging(&w, 1, total, pg);
    cc_jsonw_lit(&w, "}");
    return cc_reply_text(ctx, HTTP_OK, cc_jsonw_text(&w), w.len);
}

cc_error_t *cc_reply_page(cc_ctx_t *ctx, const char *label, const char *count_label,
                          const cc_col_t *cols, int nargs, const char **args,
                          int count_nargs, const cc_page_t *pg)
{
    return reply_page(ctx, label, count_label, cols, nargs, args, count_nargs, pg, NULL);
}

/* ---- CSV exports (CC_LIST_CSV) ---- */

/* Does the client's Accept name text/csv (with a q other than 0)? */
static int wants_csv(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");
    char *list, *range, *state = NULL;

    if (!accept) {
        return 0;
    }
    list = apr_pstrdup(r->pool, accept);
    for (range = apr_strtok(list, ",", &state); range; range = apr_strtok(NULL, ",", &state)) {
        char *params = strchr(range, ';'), *type;

        if (params) {
            *params++ = '\0';
        }
        (void)apr_collapse_spaces(range, range);   /* returns the end, not range */
        type = range;
        if (!strcasecmp(type, "text/csv")
            && !(params && ap_strcasestr(params, "q=0") && !ap_strcasestr(params, "q=0."))) {
            return 1;
        }
    }
    return 0;
}

/* Rows per statement of an export (a chunk is what the driver buffers at once). */
#define CC_EXPORT_CHUNK 5000
#define CC_EXPORT_KEY_MAX 64
/* Bytes of rows handed down the output filters at once: one pass through the chunk and
 * core filters (one chunk header, one writev) per 64 KB rather than per 8 KB bucket. */
#define CC_EXPORT_BUF 65536

typedef struct csv_t {
    request_rec *r;
    apr_bucket_brigade *bb;
    const cc_col_t *cols;
    int ncols;                /* the object's columns; the key and the id follow the total */
    int failed;               /* the client went away (or a write failed) */
    char *buf;                /* rows not yet passed on: len of size bytes */
    apr_size_t len, size;
    const char **v;           /* the row being written: its values and their lengths */
    apr_size_t *vlen;
    int rows;                 /* rows of the current chunk so far */
    const char **args;        /* a chunk's arguments: the filter, [key, key, id,] limit */
    const char *labels[2];    /* the first chunk's statement, the next ones' */
    char key[CC_EXPORT_KEY_MAX + 1];   /* the last row's sort key and id: the next chunk */
    char id[CC_EXPORT_KEY_MAX + 1];
    char arg_key[CC_EXPORT_KEY_MAX + 1];   /* the same, as the running chunk's arguments */
    char arg_id[CC_EXPORT_KEY_MAX + 1];
    int have_key;
} csv_t;

/* The buffered rows go down the output filters: apr_brigade_write hands a buffer this
 * large on as one transient bucket (a filter that keeps it sets it aside), so the
 * buffer is ours again on return and an export holds a few buffers however many rows
 * it has.  Nonzero once the client is gone. */
static int csv_out(csv_t *c)
{
    if (c->len && !c->failed
        && (apr_brigade_write(c->bb, ap_filter_flush, c->r->output_filters, c->buf, c->len)
            != APR_SUCCESS || c->r->connection->aborted)) {
        c->failed = 1;
    }
    c->len = 0;
    return c->failed;
}

/* Where a row of at most need bytes is written: the buffer's end, once what it holds has
 * gone on if the row would not fit (a row larger than the buffer, cells of tens of
 * kilobytes, gets a buffer twice its size: the pool holds at most 4 times the largest
 * row).  NULL once the client is gone. */
static char *csv_room(csv_t *c, apr_size_t need)
{
    if (need > c->size - c->len) {
        if (csv_out(c)) {
            return NULL;
        }
        if (need > c->size) {
            c->size = 2 * need;
            c->buf = apr_palloc(c->r->pool, c->size);
        }
    }
    return c->buf + c->len;
}

static void copy_key(char *dst, const char *src)
{
    apr_cpystrn(dst, src ? src : "", CC_EXPORT_KEY_MAX + 1);
}

/* A row into the buffer: its values are read once each (the driver converts a column
 * every time it is read), measured, and written with one check for room. */
static int csv_row(void *baton, const cc_db_stream_row_t *row, int ncols)
{
    csv_t *c = baton;
    apr_size_t need = 2;      /* CRLF */
    char *p;
    int i, n;

    if (++c->rows == CC_EXPORT_CHUNK && c->ncols + 2 < ncols) {
        /* A full chunk's last row: the next chunk starts after its sort key and id. */
        const char *key = cc_db_stream_value(row, c->ncols + 1);
        const char *id = cc_db_stream_value(row, c->ncols + 2);

        copy_key(c->key, key);
        copy_key(c->id, id);
        c->have_key = key && id;
    }
    for (i = 0; i < ncols && c->cols[i].key; i++) {
        if (c->cols[i].type == CC_COL_SKIP) {
            continue;
        }
        c->v[i] = cc_db_stream_value(row, i);
        c->vlen[i] = c->v[i] ? strlen(c->v[i]) : 0;
        need += 1 + (c->cols[i].type == CC_COL_BOOL ? 5 : CC_CSV_CELL_MAX(c->vlen[i]));
    }
    if (!(p = csv_room(c, need))) {
        return 1;
    }
    for (i = 0, n = 0; i < ncols && c->cols[i].key; i++) {
        cc_col_type_e type = c->cols[i].type;
        const char *v = c->v[i];

        if (type == CC_COL_SKIP) {
            continue;
        }
        if (n++) {
            *p++ = ',';
        }
        if (type == CC_COL_TIME && c->vlen[i] >= 19) {
            /* "YYYY-MM-DD HH:MM:SS" as RFC 3339. */
            memcpy(p, v, 19);
            p[10] = 'T';
            p[19] = 'Z';
            p += 20;
        }
        else if (type == CC_COL_BOOL && v) {
            int yes = v[0] != '0' && v[0];

            memcpy(p, yes ? "true" : "false", yes ? 4 : 5);
            p += yes ? 4 : 5;
        }
        else {
            p = cc_csv_put(p, v, c->vlen[i], type != CC_COL_INT && type != CC_COL_TIME);
        }
    }
    *p++ = '\r';
    *p++ = '\n';
    c->len = (apr_size_t)(p - c->buf);
    return 0;
}

/* One chunk of an export: the first (after == 0) or the one after the last row. */
static cc_error_t *csv_chunk(cc_ctx_t *ctx, const cc_list_t *list, const cc_page_t *pg,
                             const char **filter, int nfilter, csv_t *c, int after,
                             int *pnrows)
{
    const char *dir = pg->desc ? "_desc" : "_asc";
    int n = nfilter;

    if (!c->args) {
        c->args = apr_palloc(ctx->pool, sizeof(*c->args) * (apr_size_t)(nfilter + 4));
        memcpy(c->args, filter, sizeof(*c->args) * (apr_size_t)nfilter);
        c->labels[0] = apr_pstrcat(ctx->pool, list->prefix, "_export_", pg->sort, dir, NULL);
        c->labels[1] = apr_pstrcat(ctx->pool, list->prefix, "_after_", pg->sort, dir, NULL);
    }
    if (after) {
        /* The driver sends the arguments when it runs the statement, before the rows
         * (and with them the next key) come: copies all the same. */
        memcpy(c->arg_key, c->key, sizeof(c->key));
        memcpy(c->arg_id, c->id, sizeof(c->id));
        c->args[n++] = c->arg_key;
        c->args[n++] = c->arg_key;
        c->args[n++] = c->arg_id;
    }
    c->args[n++] = APR_STRINGIFY(CC_EXPORT_CHUNK);
    c->rows = 0;
    c->have_key = 0;
    return cc_db_stream(ctx->db, c->labels[after != 0], n, c->args, csv_row, c, pnrows);
}

/* Every matching row as CSV, in chunks of CC_EXPORT_CHUNK rows (a keyset walk), each
 * streamed as it is read, with a header row of the object's keys; a client that goes
 * away stops the walk when the next buffer of rows fails to leave. */
static cc_error_t *reply_csv(cc_ctx_t *ctx, const cc_list_t *list, const cc_page_t *pg,
                             const char **filter, int nfilter)
{
    request_rec *r = ctx->r;
    char stamp[APR_RFC822_DATE_LEN];
    apr_time_exp_t tm;
    apr_size_t n, need = 2;
    csv_t c;
    cc_error_t *err;
    char *p;
    int i, first = 1, nrows = 0, chunk = 0, total = 0;

    apr_table_unset(r->headers_in, "Range");
    apr_table_unset(r->headers_in, "Request-Range");
    cc_request_id(r);
    r->status = HTTP_OK;
    ap_set_content_type(r, "text/csv; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_time_exp_gmt(&tm, r->request_time);
    apr_strftime(stamp, &n, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    apr_table_setn(r->headers_out, "Content-Disposition",
                   apr_psprintf(r->pool, "attachment; filename=\"%s-%s.csv\"",
                                ctx->domain ? ctx->domain->name : "export", stamp));
    memset(&c, 0, sizeof(c));
    c.r = r;
    c.cols = list->cols;
    c.bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    c.size = CC_EXPORT_BUF;
    c.buf = apr_palloc(r->pool, c.size);
    for (i = 0; list->cols[i].key; i++) {
        c.ncols++;
        need += 1 + CC_CSV_CELL_MAX(strlen(list->cols[i].key));
    }
    c.v = apr_pcalloc(r->pool, sizeof(*c.v) * (apr_size_t)c.ncols);
    c.vlen = apr_pcalloc(r->pool, sizeof(*c.vlen) * (apr_size_t)c.ncols);
    /* The header row: the object's keys. */
    p = csv_room(&c, need);
    for (i = 0; p && list->cols[i].key; i++) {
        if (list->cols[i].type != CC_COL_SKIP) {
            if (!first) {
                *p++ = ',';
            }
            p = cc_csv_put(p, list->cols[i].key, strlen(list->cols[i].key), 0);
            first = 0;
        }
    }
    if (p) {
        *p++ = '\r';
        *p++ = '\n';
        c.len = (apr_size_t)(p - c.buf);
    }
    do {
        err = csv_chunk(ctx, list, pg, filter, nfilter, &c, chunk++ > 0, &nrows);
        total += nrows;
    } while (!err && !c.failed && nrows == CC_EXPORT_CHUNK && c.have_key);
    nrows = total;
    if (!err) {
        (void)csv_out(&c);                    /* the last rows */
    }
    if (err && !r->sent_bodyct && !c.failed) {
        /* Nothing has left yet: the error gets its JSON envelope after all. */
        apr_brigade_cleanup(c.bb);
        apr_table_unset(r->headers_out, "Content-Disposition");
        return err;
    }
    if (err || c.failed) {
        /* Mid-stream: no end-of-stream marker, so the client sees a cut answer (chunked
         * without its last chunk) rather than a short file that looks whole. */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CCLOGNO(00110)
                      "CSV export %s stopped after %d rows: %s", list->prefix, nrows,
                      c.failed ? "the client went away" : "a database error");
        r->connection->keepalive = AP_CONN_CLOSE;
        apr_brigade_cleanup(c.bb);
        return cc_reply_sent(ctx);
    }
    APR_BRIGADE_INSERT_TAIL(c.bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    (void)ap_pass_brigade(r->output_filters, c.bb);
    return cc_reply_sent(ctx);
}

/* ---- keyset lists (CC_LIST_KEYSET) ---- */

/* The scope a cursor is valid in: the list and its filter arguments, the tenant first. */
static const char *cursor_scope(apr_pool_t *p, const cc_list_t *list, const char **filter,
                                int nfilter)
{
    const char *scope = list->prefix;
    int i;

    for (i = 0; i < nfilter; i++) {
        scope = apr_pstrcat(p, scope, filter[i] ? "\x1f" : "\x1e", filter[i], NULL);
    }
    return scope;
}

/* The first page (OFFSET, with its total) or the page after a cursor (no OFFSET, no
 * total), each with next_cursor: null once a page comes back short. */
static cc_error_t *reply_keyset(cc_ctx_t *ctx, const cc_list_t *list, cc_page_t *pg,
                                const char **filter, int nfilter)
{
    apr_pool_t *p = ctx->pool;
    const char *after = apr_table_get(ctx->args, "after");
    const char *scope = cursor_scope(p, list, filter, nfilter);
    const char **args, *label, *keys[2] = { NULL, NULL }, *next = NULL;
    apr_int64_t total = 0;
    cc_error_t *err = NULL;
    cc_cursor_t cur;
    cc_jsonw_t w;
    int n = 0, i, copy, nrows = 0;

    args = apr_palloc(p, sizeof(*args) * (apr_size_t)(2 * nfilter + 4));
    if (after) {
        if (!cc_cursor_read(p, after, scope, &cur)) {
            err = cc_error_collect(p, err, "after", "is not a cursor of this list with these "
                                   "filters (or it was altered)");
        }
        else if (apr_table_get(ctx->args, "sort")
                 && (strcmp(cur.sort, pg->sort) || cur.desc != pg->desc)) {
            err = cc_error_collect(p, err, "sort", "must be the cursor's order, or left out");
        }
        if (apr_table_get(ctx->args, "page")) {
            err = cc_error_collect(p, err, "page", "cannot be combined with after");
        }
        if (err) {
            return err;
        }
        for (i = 0; i < nfilter; i++) {
            args[n++] = filter[i];
        }
        args[n++] = cur.key;
        args[n++] = cur.key;
        args[n++] = cur.id;
        args[n++] = cc_page_limit_str(p, pg);
        pg->sort = cur.sort;
        pg->desc = cur.desc;
        label = apr_pstrcat(p, list->prefix, "_after_", cur.sort, cur.desc ? "_desc" : "_asc",
                            NULL);
    }
    else {
        /* Twice (the search statement's COUNT and its page), or once when the domain
         * computes the total (list->total). */
        for (copy = list->total ? 1 : 0; copy < 2; copy++) {
            for (i = 0; i < nfilter; i++) {
                args[n++] = filter[i];
            }
        }
        args[n++] = cc_page_limit_str(p, pg);
        args[n++] = cc_page_offset_str(p, pg);
        label = apr_pstrcat(p, list->prefix, "_search_", pg->sort,
                            pg->desc ? "_desc" : "_asc", NULL);
    }
    cc_jsonw_init(&w, ctx->pool, 16384);
    cc_jsonw_lit(&w, "{\"data\":[");
    if ((err = cc_db_write_rows_keyed(ctx->db, label, list->cols, n, args, &w,
                                      after || list->total ? NULL : &total, &nrows,
                                      keys))) {
        return err;
    }
    if (!after && list->total) {
        if ((err = list->total(ctx, filter, nfilter, &total))) {
            return err;
        }
    }
    else if (!after && nrows == 0) {
        const char **row;

        if ((err = cc_db_select_row(ctx->db, apr_pstrcat(p, list->prefix, "_search_count",
                                                         NULL), nfilter, args, &row, NULL))) {
            return err;
        }
        total = row && row[0] ? apr_atoi64(row[0]) : 0;
    }
    if (nrows == pg->page_size) {
        cur.sort = pg->sort;
        cur.desc = pg->desc;
        cur.key = keys[0];
        cur.id = keys[1];
        next = cc_cursor_make(p, &cur, scope);
    }
    cc_jsonw_lit(&w, "]");
    write_paging(&w, !after, total, pg);
    cc_jsonw_lit(&w, ",\"next_cursor\":");
    if (next) {
        cc_jsonw_str(&w, next);
    }
    else {
        cc_jsonw_lit(&w, "null");
    }
    cc_jsonw_lit(&w, "}");
    return cc_reply_text(ctx, HTTP_OK, cc_jsonw_text(&w), w.len);
}

/* The value of each filter given (its last bind) at its place in list->filters, and the
 * shape (cc_list_shape_t) whose filters are exactly those and whose sort is pg's: its
 * page statement's arguments in *pargs (the tenant unless CC_LIST_NO_TENANT, the shape's
 * filters' values, limit and offset; *pn of them), NULL when none fits. */
static const cc_list_shape_t *list_shape(apr_pool_t *p, const cc_list_t *list,
                                         const cc_page_t *pg, const char *const *filter,
                                         const char ***pargs, int *pn)
{
    const cc_list_shape_t *sh;
    const cc_filter_t *f;
    const char **value;
    int tenant = !(list->flags & CC_LIST_NO_TENANT);
    int nf = 0, pos = tenant, given = 0, i, j;

    for (f = list->filters; f && f->name; f++) {
        nf++;
    }
    value = apr_pcalloc(p, sizeof(*value) * (apr_size_t)(nf + 1));
    for (i = 0; i < nf; pos += list->filters[i].binds, i++) {
        value[i] = filter[pos + list->filters[i].binds - 1];
        given += value[i] != NULL;
    }
    for (sh = list->shapes; sh && sh->name; sh++) {
        int n = 0;

        if (strcmp(sh->sort, pg->sort)) {
            continue;
        }
        *pargs = apr_palloc(p, sizeof(**pargs) * (apr_size_t)(nf + 3));
        if (tenant) {
            (*pargs)[n++] = filter[0];
        }
        for (j = 0; sh->filters[j]; j++) {
            for (i = 0; i < nf && strcmp(list->filters[i].name, sh->filters[j]); i++) {
            }
            if (i == nf || !value[i]) {
                break;
            }
            (*pargs)[n++] = value[i];
        }
        if (!sh->filters[j] && j == given) {
            (*pargs)[n++] = cc_page_limit_str(p, pg);
            (*pargs)[n++] = cc_page_offset_str(p, pg);
            *pn = n;
            return sh;
        }
    }
    return NULL;
}

/* The query a list's filters read: the request's, with each CC_FILTER_PATH filter's value
 * taken from the path (whatever the query says). */
static apr_table_t *list_args(cc_ctx_t *ctx, const cc_list_t *list)
{
    apr_table_t *args = ctx->args;
    const cc_filter_t *f;

    for (f = list->filters; f && f->name; f++) {
        const char *v = f->kind == CC_FILTER_PATH ? cc_path(ctx, f->name) : NULL;

        if (v) {
            if (args == ctx->args) {
                args = args ? apr_table_copy(ctx->pool, args) : apr_table_make(ctx->pool, 2);
            }
            apr_table_setn(args, f->name, v);
        }
    }
    return args;
}

cc_error_t *cc_reply_list(cc_ctx_t *ctx, const cc_list_t *list)
{
    apr_pool_t *p = ctx->pool;
    const char *tenant = ctx->principal ? ctx->principal->tenant_id : NULL;
    const char **filter, **args, *order;
    cc_error_t *err;
    int nfilter, filtered, n = 0, copy, i;
    cc_page_t pg;

    err = cc_page_parse(p, ctx->args, list->sorts, list->default_sort, &pg);
    if ((err = cc_list_filter(p, list, list_args(ctx, list), tenant, err, &filter,
                              &nfilter, &filtered))) {
        return err;
    }
    if ((list->flags & CC_LIST_CSV) && wants_csv(ctx->r)) {
        return reply_csv(ctx, list, &pg, filter, nfilter);
    }
    if (list->flags & CC_LIST_KEYSET) {
        return reply_keyset(ctx, list, &pg, filter, nfilter);
    }
    order = apr_pstrcat(p, pg.sort, pg.desc ? "_desc" : "_asc", NULL);
    if (list->total) {
        const cc_list_shape_t *shape = list_shape(p, list, &pg, filter, &args, &n);
        apr_int64_t total = 0;

        /* The domain's total, or a counted shape's; the page binds the filter once, or
         * the shape's values. */
        if (shape && shape->counted) {
            const char **row;

            err = cc_db_select_row(ctx->db, apr_pstrcat(p, list->prefix, "_count_",
                                                        shape->name, NULL),
                                   n - 2, args, &row, NULL);
            total = !err && row && row[0] ? apr_atoi64(row[0]) : 0;
        }
        else {
            err = list->total(ctx, filter, nfilter, &total);
        }
        if (err) {
            return err;
        }
        if (shape) {
            return reply_page(ctx, apr_pstrcat(p, list->prefix, "_search_", shape->name, "_",
                                               order, NULL), NULL, list->cols, n, args, 0,
                              &pg, &total);
        }
        args = apr_palloc(p, sizeof(*args) * (apr_size_t)(nfilter + 2));
        for (i = 0; i < nfilter; i++) {
            args[n++] = filter[i];
        }
        args[n++] = cc_page_limit_str(p, &pg);
        args[n++] = cc_page_offset_str(p, &pg);
        return reply_page(ctx, apr_pstrcat(p, list->prefix, "_search_", order, NULL), NULL,
                          list->cols, n, args, 0, &pg, &total);
    }
    /* Unfiltered: the tenant twice (its counter, its page); else the filter twice. */
    if (!filtered) {
        nfilter = 1;
    }
    args = apr_palloc(p, sizeof(*args) * (apr_size_t)(2 * nfilter + 2));
    for (copy = 0; copy < 2; copy++) {
        for (i = 0; i < nfilter; i++) {
            args[n++] = filter[i];
        }
    }
    args[n++] = cc_page_limit_str(p, &pg);
    args[n++] = cc_page_offset_str(p, &pg);
    return cc_reply_page(ctx, apr_pstrcat(p, list->prefix, filtered ? "_search_" : "_list_",
                                          order, NULL),
                         apr_pstrcat(p, list->prefix, filtered ? "_search_count" : "_count",
                                     NULL),
                         list->cols, n, args, nfilter, &pg);
}

cc_error_t *cc_fetch(cc_ctx_t *ctx, const char *label, const cc_col_t *cols,
                     const char *id, json_t **pobj)
{
    const char *args[2] = { ctx->principal->tenant_id, id };
    cc_error_t *err = cc_db_select_one(ctx->db, label, cols, 2, args, pobj);

    return !err && !*pobj ? cc_error_not_found(ctx->pool) : err;
}

cc_error_t *cc_reply_fetch(cc_ctx_t *ctx, const char *label, const cc_col_t *cols,
                           const char *id)
{
    json_t *obj;
    cc_error_t *err = cc_fetch(ctx, label, cols, id, &obj);

    return err ? err : cc_reply_json(ctx, HTTP_OK, obj);
}

cc_error_t *cc_fetch_row(cc_ctx_t *ctx, const char *label, const char *id,
                         const char ***prow)
{
    const char *args[2] = { ctx->principal->tenant_id, id };
    cc_error_t *err = cc_db_select_row(ctx->db, label, 2, args, prow, NULL);

    return !err && !*prow ? cc_error_not_found(ctx->pool) : err;
}

cc_error_t *cc_reply_unchanged(cc_ctx_t *ctx, cc_handler_fn get)
{
    cc_db_rollback(ctx->db);
    return get(ctx);
}

cc_error_t *cc_handle_list(cc_ctx_t *ctx)
{
    return cc_reply_list(ctx, ctx->domain->list);
}

cc_error_t *cc_handle_get(cc_ctx_t *ctx)
{
    const cc_route_match_t *m = &ctx->match;

    return cc_reply_fetch(ctx, ctx->domain->get_label, ctx->domain->cols,
                          m->nparams ? m->values[m->nparams - 1] : NULL);
}

const char *cc_path(const cc_ctx_t *ctx, const char *name)
{
    return cc_route_param(&ctx->match, name);
}

/* ---- dispatch ---- */

/* The route tables of domains, NULL-terminated; a domain may have no routes (statements
 * only): it adds no table. */
static void route_tables(const cc_domain_t *const *domains,
                         const cc_route_t *tables[CC_DISPATCH_MAX_DOMAINS + 1])
{
    int n = 0;

    for (; domains && *domains && n < CC_DISPATCH_MAX_DOMAINS; domains++) {
        if ((*domains)->routes) {
            tables[n++] = (*domains)->routes;
        }
    }
    tables[n] = NULL;
}

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

const char *cc_route_methods(apr_pool_t *p, const cc_domain_t *const *domains,
                             const char *path)
{
    const cc_route_t *tables[CC_DISPATCH_MAX_DOMAINS + 1];
    cc_route_match_t m;
    const char *allow = NULL;

    route_tables(domains, tables);
    /* No route has the method OPTIONS: a known path answers with its methods. */
    return cc_route_match(p, tables, "OPTIONS", path, &m, &allow)
           == CC_ROUTE_METHOD_NOT_ALLOWED ? allow : NULL;
}

/* ---- rate limits (CCRateLimitTenant, CCRateLimitToken) ---- */

/* The node's table of keys (cc_ratelimit.h): this module's view, set in the parent's
 * post_config before any child exists, read-only afterwards. */
static cc_ratelimit_slot_t *ratelimit_table;

static void ratelimit_attach(server_rec *s)
{
    apr_status_t rv;

    ratelimit_table = cc_node_shm(s, "cc_ratelimit_table",
                                  sizeof(cc_ratelimit_slot_t) * CC_RATELIMIT_SLOTS, &rv);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, CCLOGNO(00111)
                     "no shared memory for the rate limits: requests are not limited");
    }
}

const char *cc_bearer_token(const char *authorization)
{
    if (!authorization) {
        return "";
    }
    return strncasecmp(authorization, "Bearer ", 7) ? authorization : authorization + 7;
}

const cc_platform_cfg_t *cc_platform_cfg(request_rec *r)
{
    APR_OPTIONAL_FN_TYPE(cc_tenant_platform_cfg) *get =
        APR_RETRIEVE_OPTIONAL_FN(cc_tenant_platform_cfg);

    return get ? get(r->server) : NULL;
}

/* A RateLimit-Policy item ("tenant";q=600;w=60), or "" without the limit. */
static const char *policy_item(apr_pool_t *p, const char *name, const cc_ratelimit_t *lim)
{
    return lim->requests ? apr_psprintf(p, "\"%s\";q=%" APR_INT64_T_FMT ";w=%"
                                        APR_INT64_T_FMT, name, lim->requests, lim->window)
                         : "";
}

/*
 * An authenticated request against its token's and its (effective) tenant's limits: a
 * platform admin's X-Tenant-ID counts against that tenant.  Both are counted, the token's
 * first; one the tenant refuses is given back to the token.  Every answer says the
 * policies (RateLimit-Policy) and where the caller stands under the nearer one
 * (RateLimit: remaining r, seconds t until the bucket is full); past a limit, 429 with
 * Retry-After (IETF draft-ietf-httpapi-ratelimit-headers).
 */
static cc_error_t *rate_limit(cc_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    const cc_platform_cfg_t *cfg = cc_platform_cfg(r);
    const char *auth = apr_table_get(r->headers_in, "Authorization");
    const cc_ratelimit_t *lims[2];
    const char *names[2] = { "token", "tenant" };
    apr_uint64_t keys[2];
    cc_ratelimit_result_t res[2];
    int taken[2] = { 0, 0 }, i, near = -1;
    apr_time_t now = apr_time_now();

    if (!cfg || !ratelimit_table || !ctx->principal
        || (!cfg->tenant_limit.requests && !cfg->token_limit.requests)) {
        return NULL;
    }
    lims[0] = &cfg->token_limit;
    lims[1] = &cfg->tenant_limit;
    keys[0] = cc_ratelimit_key('k', cc_bearer_token(auth));
    keys[1] = cc_ratelimit_key('t', ctx->principal->tenant_id);
    apr_table_setn(r->err_headers_out, "RateLimit-Policy",
                   apr_pstrcat(r->pool, policy_item(r->pool, "tenant", lims[1]),
                               lims[0]->requests && lims[1]->requests ? ", " : "",
                               policy_item(r->pool, "token", lims[0]), NULL));
    for (i = 0; i < 2; i++) {
        if (!lims[i]->requests) {
            continue;
        }
        if (cc_ratelimit_take(ratelimit_table, keys[i], lims[i], now, &res[i]) != 0) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, CCLOGNO(00113)
                          "rate limits: no place in the node's table for this %s's key"
                          " (%d keys in debt where it would go): not limited",
                          names[i], CC_RATELIMIT_PROBES);
            continue;
        }
        taken[i] = 1;
        if (near < 0 || !res[i].admitted || res[i].remaining < res[near].remaining) {
            near = i;
        }
        if (!res[i].admitted) {
            break;
        }
    }
    if (near >= 0) {
        apr_table_setn(r->err_headers_out, "RateLimit",
                       apr_psprintf(r->pool, "\"%s\";r=%" APR_INT64_T_FMT ";t=%"
                                    APR_INT64_T_FMT, names[near], res[near].remaining,
                                    res[near].reset));
    }
    if (near < 0 || res[near].admitted) {
        return NULL;
    }
    if (near == 1 && taken[0] && res[0].admitted) {
        cc_ratelimit_refund(ratelimit_table, keys[0], lims[0]);
    }
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%" APR_INT64_T_FMT, res[near].retry_after));
    return cc_error_make(r->pool, HTTP_TOO_MANY_REQUESTS, CC_ERR_TOO_MANY_REQUESTS,
                         "rate limit of the %s exceeded: retry after %" APR_INT64_T_FMT
                         " s", names[near], res[near].retry_after);
}

/* Route, permission, query: what must hold before the handler runs. */
static cc_error_t *before_handler(cc_ctx_t *ctx, const cc_domain_t *const *domains)
{
    request_rec *r = ctx->r;
    const cc_route_t *tables[CC_DISPATCH_MAX_DOMAINS + 1];
    const cc_domain_t *const *d;
    const char *allow = NULL;
    /* HEAD is answered by the GET route; httpd drops the body. */
    const char *method = r->header_only ? "GET" : r->method;
    const cc_route_t *route;
    cc_error_t *err;

    route_tables(domains, tables);
    switch (cc_route_match(r->pool, tables, method, r->uri, &ctx->match, &allow)) {
    case CC_ROUTE_NOT_FOUND:
        return cc_error_not_found(r->pool);
    case CC_ROUTE_METHOD_NOT_ALLOWED:
        apr_table_setn(r->err_headers_out, "Allow", allow);
        return cc_error_make(r->pool, HTTP_METHOD_NOT_ALLOWED, CC_ERR_METHOD_NOT_ALLOWED,
                             "method %s not allowed; allowed: %s", method, allow);
    case CC_ROUTE_FOUND:
        break;
    }
    route = ctx->match.route;
    cc_metrics_route(r, route->pattern);
    /* The domain whose table holds the route. */
    for (d = domains; *d && !ctx->domain; d++) {
        const cc_route_t *rt = (*d)->routes;

        while (rt && rt->method && rt != route) {
            rt++;
        }
        if (rt && rt == route) {
            ctx->domain = *d;
        }
    }
    if (!(route->flags & CC_ROUTE_PUBLIC)) {
        if ((err = resolve_principal(ctx))) {
            return err;
        }
        if (!cc_principal_can(ctx->principal, route->permission)) {
            return cc_error_make(r->pool, HTTP_FORBIDDEN, CC_ERR_FORBIDDEN,
                                 "permission %s required", route->permission);
        }
    }
    return cc_args_parse(r->pool, r->args, &ctx->args);
}

static int put_back(void *rec, const char *key, const char *value)
{
    apr_table_addn(rec, key, value);
    return 1;
}

/* t holds again what saved held (both are r->pool's: the values stay valid). */
static void restore_table(apr_table_t *t, const apr_table_t *saved)
{
    apr_table_clear(t);
    apr_table_do(put_back, t, saved, NULL);
}

/* Why a run that failed on a lock conflict is not run again, or NULL when it is. */
static const char *no_rerun(cc_ctx_t *ctx, apr_time_t start)
{
    request_rec *r = ctx->r;

    if (ctx->replied || r->sent_bodyct || r->bytes_sent) {
        return "it has sent part of its answer";
    }
    if (ctx->db->changed) {
        return "it committed or changed rows outside a transaction";
    }
    if (!cc_retry_again(ctx->attempt, apr_time_now() - start)) {
        return ctx->attempt >= CC_RETRY_ATTEMPTS ? "that was the last run"
                                                 : "its runs took too long";
    }
    return NULL;
}

/* ---- If-Match on PATCH, PUT and DELETE ---- */

/* The GET route of r's path, whose JSON representation an If-Match is checked against;
 * 0 when there is none or it sends a file (CC_ROUTE_STREAM): If-Match is then ignored. */
static int if_match_route(cc_ctx_t *ctx, const cc_domain_t *const *domains,
                          cc_route_match_t *m)
{
    const cc_route_t *tables[CC_DISPATCH_MAX_DOMAINS + 1];
    const char *allow = NULL;
    int mn = ctx->r->method_number;

    if ((mn != M_PATCH && mn != M_PUT && mn != M_DELETE)
        || !apr_table_get(ctx->r->headers_in, "If-Match") || !ctx->domain) {
        return 0;
    }
    route_tables(domains, tables);
    if (cc_route_match(ctx->pool, tables, "GET", ctx->r->uri, m, &allow) != CC_ROUTE_FOUND
        || (m->route->flags & CC_ROUTE_STREAM)) {
        return 0;
    }
    /* The domain whose table holds the GET (a kit object's statement and columns). */
    for (; *domains; domains++) {
        const cc_route_t *rt;

        for (rt = (*domains)->routes; rt && rt->method; rt++) {
            if (rt == m->route) {
                ctx->if_match_domain = *domains;
                return 1;
            }
        }
    }
    return 0;
}

/* Whether the If-Match field value names etag (RFC 9110 13.1.1: "*" any current
 * representation; otherwise a list of entity tags compared strongly: a weak one never
 * matches). */
static int if_match_names(apr_pool_t *p, const char *field, const char *etag)
{
    char *list = apr_pstrdup(p, field), *last = NULL, *tag;

    for (tag = apr_strtok(list, ", \t", &last); tag; tag = apr_strtok(NULL, ", \t", &last)) {
        if (!strcmp(tag, "*") || !strcmp(tag, etag)) {
            return 1;
        }
    }
    return 0;
}

/*
 * If-Match, checked inside the write's own transaction: the dispatcher opens it
 * SERIALIZABLE, so reading the object as GET shows it share-locks its rows until the
 * commit; the handler then joins that transaction (cc_db_begin) and its writes take the
 * same rows.  An object changed since the client's ETag is 412 and nothing is written;
 * two such writers at once meet as a deadlock, and the one run again sees the other's
 * change.  A missing object is the GET's 404.
 */
static cc_error_t *check_if_match(cc_ctx_t *ctx, const cc_route_match_t *get)
{
    cc_ctx_t g = *ctx;
    const char *text;
    const char *etag;
    apr_size_t len;
    cc_error_t *err;

    if ((err = cc_db_exec(ctx->db, "cc_txn_serializable", 0, NULL, NULL))
        || (err = cc_db_begin(ctx->db))) {
        return err;
    }
    ctx->db->outer_txn = 1;
    g.match = *get;
    g.domain = ctx->if_match_domain;
    g.reply_status = 0;
    g.reply_body = NULL;
    g.reply_text = NULL;
    g.reply_len = 0;
    if ((err = get->route->handler(&g))) {
        return err;
    }
    /* The bytes the GET would send, as its ETag is made of them. */
    if (g.reply_text) {
        text = g.reply_text;
        len = g.reply_len;
    }
    else if ((text = cc_reply_json_text(ctx->pool, g.reply_body))) {
        len = strlen(text);
    }
    else {
        return cc_error_internal(ctx->pool);
    }
    etag = etag_of(ctx->pool, text, len);
    if (!if_match_names(ctx->pool, apr_table_get(ctx->r->headers_in, "If-Match"), etag)) {
        return cc_error_make(ctx->pool, HTTP_PRECONDITION_FAILED, "precondition_failed",
                             "the object has changed since the ETag in If-Match: read it"
                             " again");
    }
    return NULL;
}

/*
 * The handler, run again after a lock conflict while that is safe and due (cc_ctx_t):
 * each run starts with the state the first one had.  A conflict it cannot overcome is
 * answered as the 503 it is, with a short Retry-After.
 */
static cc_error_t *run_handler(cc_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    const cc_route_t *route = ctx->match.route;
    const apr_table_t *headers = apr_table_copy(r->pool, r->headers_out);
    const apr_table_t *err_headers = apr_table_copy(r->pool, r->err_headers_out);
    apr_time_t start = apr_time_now();
    cc_error_t *err;

    for (ctx->attempt = 1;; ctx->attempt++) {
        const char *why;
        apr_interval_time_t pause;
        apr_uint32_t rnd;

        cc_db_attempt(ctx->db);
        if (!(err = ctx->if_match ? check_if_match(ctx, ctx->if_match) : NULL)) {
            err = route->handler(ctx);
        }
        /* A handler that wrote without a transaction of its own, in the dispatcher's. */
        if (!err && ctx->db->in_txn && ctx->db->outer_txn) {
            err = cc_db_commit(ctx->db);
        }
        if (!err || !cc_error_is_lock_conflict(err)) {
            return err;
        }
        /* After 1213 MariaDB has rolled back already; after 1205 only the statement. */
        cc_db_rollback(ctx->db);
        if ((why = no_rerun(ctx, start))) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, CCLOGNO(00108)
                          "%s %s: lock conflict (%d, %s) in statement %s on run %d of %d,"
                          " answered 503: %s", route->method, route->pattern,
                          ctx->db->conflict_errno,
                          cc_retry_conflict_name(ctx->db->conflict_errno),
                          ctx->db->conflict_label ? ctx->db->conflict_label : "?",
                          ctx->attempt, CC_RETRY_ATTEMPTS, why);
            apr_table_setn(r->err_headers_out, "Retry-After", CC_RETRY_AFTER_LOCK);
            return err;
        }
        ap_random_insecure_bytes(&rnd, sizeof(rnd));
        pause = cc_retry_backoff(ctx->attempt, rnd);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, CCLOGNO(00107)
                      "%s %s: lock conflict (%d, %s) in statement %s on run %d of %d:"
                      " running it again in %" APR_TIME_T_FMT " us", route->method,
                      route->pattern, ctx->db->conflict_errno,
                      cc_retry_conflict_name(ctx->db->conflict_errno),
                      ctx->db->conflict_label ? ctx->db->conflict_label : "?",
                      ctx->attempt, CC_RETRY_ATTEMPTS, pause);
        apr_sleep(pause);
        ctx->reply_status = 0;
        ctx->reply_body = NULL;
        ctx->reply_text = NULL;
        ctx->reply_type = NULL;
        ctx->reply_len = 0;
        restore_table(r->headers_out, headers);
        restore_table(r->err_headers_out, err_headers);
    }
}

int cc_dispatch(request_rec *r, const cc_domain_t *const *domains, apr_size_t max_body,
                void *module_cfg)
{
    cc_ctx_t *ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    cc_error_t *err;
    cc_route_match_t get_match;
    int replay = 0;

    ctx->r = r;
    ctx->pool = r->pool;
    ctx->max_body = max_body;
    ctx->module_cfg = module_cfg;
    ctx->request_id = cc_request_id(r);
    ctx->db = cc_db_request(r);

    /* A request replaying an Idempotency-Key's answer (or waiting for the first one with
     * the key, without a connection) does no write: the write gate comes after it. */
    if (!(err = before_handler(ctx, domains))
        && !(err = rate_limit(ctx))
        && !(err = cc_idem_begin(ctx, &replay)) && !replay
        && (r->method_number == M_GET || r->method_number == M_OPTIONS
            || !(err = cc_db_write_begin(ctx->db)))) {
        if (if_match_route(ctx, domains, &get_match)) {
            ctx->if_match = &get_match;
        }
        err = run_handler(ctx);
    }
    cc_idem_end(ctx, err);
    if (err) {
        cc_db_rollback(ctx->db);
        return cc_send_error(r, err);
    }
    if (ctx->db->in_txn) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CCLOGNO(00103)
                      "%s %s: the handler left a transaction open (a bug): rolled back",
                      ctx->match.route->method, ctx->match.route->pattern);
        cc_db_rollback(ctx->db);
        return cc_send_error(r, cc_error_internal(r->pool));
    }
    if (ctx->replied) {
        return OK;
    }
    if (ctx->reply_status == HTTP_NO_CONTENT) {
        return send_no_content(r);
    }
    if (ctx->reply_text) {
        return send_typed_text(r, ctx->reply_status,
                               ctx->reply_type ? ctx->reply_type : JSON_TYPE,
                               ctx->reply_text, ctx->reply_len);
    }
    if (ctx->reply_body) {
        return send_json(r, ctx->reply_status, ctx->reply_body);
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, CCLOGNO(00104)
                  "%s %s: the handler recorded no reply (a bug)",
                  ctx->match.route->method, ctx->match.route->pattern);
    return cc_send_error(r, cc_error_internal(r->pool));
}

int cc_domains_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s,
                           const char *module, const cc_domain_t *const *domains)
{
    const char *problems = cc_domain_check(ptemp, domains, cc_shared_stmts);
    apr_size_t n = 0;

    for (; domains[n]; n++) {
        const cc_route_t *rt;

        /* The descriptor-driven handlers need what they answer from. */
        for (rt = domains[n]->routes; rt && rt->method; rt++) {
            const char *missing =
                rt->handler == cc_handle_list && !domains[n]->list ? "a list"
                : rt->handler == cc_handle_get && (!domains[n]->get_label
                                                   || !domains[n]->cols) ? "an object"
                : NULL;

            if (missing) {
                problems = apr_psprintf(ptemp, "%s%sroute %s %s answers the domain's "
                                        "%s, which domain %s does not describe",
                                        problems ? problems : "", problems ? "; " : "",
                                        rt->method, rt->pattern, missing, domains[n]->name);
            }
        }
    }
    if (n > CC_DISPATCH_MAX_DOMAINS) {
        problems = apr_psprintf(ptemp, "%s%smore than %d domains in one module",
                                problems ? problems : "", problems ? "; " : "",
                                CC_DISPATCH_MAX_DOMAINS);
    }
    if (problems) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, CCLOGNO(00105)
                     "%s: its route and statement tables are wrong, refusing to start: %s",
                     module, problems);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    cc_db_prepare_shared(pconf, s);
    cc_db_prepare_domains(s, domains);
    ratelimit_attach(s);
    return OK;
}

/* ---- httpd's own answers in the API's path space ---- */

/*
 * httpd answers some requests itself, with an HTML page: a request line over
 * LimitRequestLine (414) or malformed (400), a header over LimitRequestFieldSize or too
 * many (400), an Expect other than 100-continue (417), a method it does not know (501,
 * HttpProtocolOptions RegisteredMethods), a request that does not arrive in time (408,
 * mod_reqtimeout), a bad chunk or a body over LimitRequestBody while a handler reads
 * (400/413, sent by HTTP_IN itself).  Most of these are refused inside ap_read_request,
 * before a virtual host or a <Location> is chosen: an ErrorDocument in a <Location>
 * never sees them, one at server level covers only the statuses it names (and only in
 * the default virtual host), and httpd ignores ErrorDocuments for an error raised while
 * another answer is under way.  All of them, though, go out through
 * ap_send_error_response, which runs the insert_error_filter hook before it writes its
 * page.  There, for a path in the route space of a module's domains (cc_route_in_space:
 * /api, /healthz, /readyz), we add a filter that drops httpd's HTML and sends API.md's
 * envelope in its place, status kept, as application/json; it runs before HTTP_HEADER,
 * so the headers can still change.  The path is r->uri, or the raw request line's when
 * httpd could not parse it (a 414 has only the start of its line).  Errors elsewhere
 * keep httpd's pages (or the server's ErrorDocuments).
 *
 * httpd also parses any "HTTP/d.d" and serves HTTP/2.0 or HTTP/9.9 request lines on an
 * HTTP/1 connection as HTTP/1.1; in the same space those are refused with 505 (a real
 * HTTP/2 stream from mod_http2 runs on a secondary connection, c->master, and is left
 * alone).  HTTP/0.9 is httpd's to refuse: HttpProtocolOptions Require1.0.
 *
 * Each module that registers keeps its own domains (shared/ is linked into each module:
 * these statics are per module, set once at hook registration, read-only afterwards).
 */
#define CC_GUARD_FILTER "CC_JSON_ERROR"

static const cc_domain_t *const *guard_domains;
static ap_filter_rec_t *guard_filter_handle;

static int guard_in_space(request_rec *r)
{
    const cc_route_t *tables[CC_DISPATCH_MAX_DOMAINS + 1];
    const char *path = r->uri && r->uri[0] == '/' ? r->uri
                       : cc_route_line_path(r->pool, r->the_request);

    route_tables(guard_domains, tables);
    return cc_route_in_space(tables, path);
}

typedef struct {
    const char *text;
    apr_size_t len;
} guard_ctx_t;

static apr_status_t guard_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    guard_ctx_t *ctx = f->ctx;
    apr_bucket *b;

    if (!ctx) {
        cc_error_t *e = failed_request_error(r, r->pool);
        const char *allow;

        f->ctx = ctx = apr_pcalloc(r->pool, sizeof(*ctx));
        if (e->status != r->status) {
            r->status = e->status;
            r->status_line = NULL;
        }
        error_headers(r, e->status);
        ctx->text = error_text(r, e, &ctx->len);
        /* cc_request_id put it in err_headers_out, which the header filter adds to
         * headers_out, where ap_send_error_response has moved an earlier copy. */
        apr_table_unset(r->headers_out, "X-Request-ID");
        /* httpd's Allow on a 501 lists what r->allowed says: nothing, before any
         * handler; an empty Allow would claim the path takes no method at all. */
        allow = apr_table_get(r->headers_out, "Allow");
        if (allow && !*allow) {
            apr_table_unset(r->headers_out, "Allow");
        }
        ap_set_content_type(r, JSON_TYPE);
        ap_set_content_length(r, ctx->len);
        apr_table_setn(r->headers_out, "Cache-Control", "no-store");
        /* httpd's byterange filter answers an unsatisfiable Range with a bare 416; the
         * file's length (which a file handler put in r->finfo) is what RFC 9110 14.4
         * asks the answer to carry, so the client can ask again within it. */
        if (r->status == HTTP_RANGE_NOT_SATISFIABLE && (r->finfo.valid & APR_FINFO_SIZE)
            && r->finfo.filetype == APR_REG) {
            apr_table_setn(r->headers_out, "Content-Range",
                           apr_psprintf(r->pool, "bytes */%" APR_OFF_T_FMT, r->finfo.size));
        }
    }
    /* httpd's page goes; the envelope takes its place before the end of the answer. */
    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);) {
        apr_bucket *next = APR_BUCKET_NEXT(b);

        if (APR_BUCKET_IS_EOS(b)) {
            if (!r->header_only) {
                APR_BUCKET_INSERT_BEFORE(b, apr_bucket_pool_create(ctx->text, ctx->len,
                                                                   r->pool,
                                                                   f->c->bucket_alloc));
            }
            ap_remove_output_filter(f);
            break;
        }
        if (!APR_BUCKET_IS_METADATA(b)) {
            apr_bucket_delete(b);
        }
        b = next;
    }
    return ap_pass_brigade(f->next, bb);
}

static void guard_insert_error_filter(request_rec *r)
{
    ap_filter_t *f;

    /* ap_send_error_response also sends redirects (a Redirect directive): those stay. */
    if (!ap_is_HTTP_ERROR(r->status) || !guard_in_space(r)) {
        return;
    }
    /* Once per answer, whichever module's copy got here first. */
    for (f = r->output_filters; f; f = f->next) {
        if (!strncasecmp(f->frec->name, CC_GUARD_FILTER, sizeof(CC_GUARD_FILTER) - 1)) {
            return;
        }
    }
    ap_add_output_filter_handle(guard_filter_handle, NULL, r, r->connection);
}

/* ---- CORS for the API (CCCorsOrigins) ---- */

void cc_cors_vary(request_rec *r)
{
    const char *vary = apr_table_get(r->err_headers_out, "Vary");

    if (!vary || !ap_find_token(r->pool, vary, "Origin")) {
        apr_table_mergen(r->err_headers_out, "Vary", "Origin");
    }
}

void cc_cors_allow(request_rec *r, const char *origin)
{
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Origin", origin);
    apr_table_setn(r->err_headers_out, "Access-Control-Expose-Headers",
                   CC_CORS_EXPOSE_HEADERS);
}

int cc_cors_preflight_reply(request_rec *r, const char *origin, const char *methods,
                            const char *headers)
{
    cc_cors_vary(r);
    cc_request_id(r);
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Origin", origin);
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Methods",
                   apr_pstrcat(r->pool, methods, ", OPTIONS", NULL));
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Headers", headers);
    apr_table_setn(r->err_headers_out, "Access-Control-Max-Age", CC_CORS_MAX_AGE);
    r->status = HTTP_NO_CONTENT;
    ap_set_content_length(r, 0);
    return OK;
}

/* The origins of r's virtual host (CCCorsOrigins); NULL without mod_cc_tenant or any. */
static const apr_array_header_t *cors_origins(request_rec *r)
{
    const cc_platform_cfg_t *cfg = cc_platform_cfg(r);

    return cfg && cfg->cors_origins && cfg->cors_origins->nelts ? cfg->cors_origins : NULL;
}

static int in_api(const char *uri)
{
    return uri && !strncmp(uri, "/api/v1", 7) && (uri[7] == '/' || uri[7] == '\0');
}

/* A preflight (OPTIONS with Origin and Access-Control-Request-Method) of a route of this
 * module's domains, answered before authentication: a browser sends no token with it.
 * The methods are the path's in the route tables, the headers those its methods take
 * (cc_cors_allow_headers).  An origin not listed is 403, without CORS headers.  Anything
 * else goes the usual way. */
static int cors_preflight(request_rec *r, int lookup)
{
    const char *origin, *methods;

    if (lookup || r->method_number != M_OPTIONS || !in_api(r->uri)
        || !(origin = apr_table_get(r->headers_in, "Origin"))
        || !apr_table_get(r->headers_in, "Access-Control-Request-Method")
        || !(methods = cc_route_methods(r->pool, guard_domains, r->uri))) {
        return DECLINED;
    }
    if (!cc_cors_origin_listed(cors_origins(r), origin)) {
        cc_cors_vary(r);
        return cc_send_error(r, cc_error_make(r->pool, HTTP_FORBIDDEN, CC_ERR_FORBIDDEN,
                                              "this origin may not call the API"));
    }
    return cc_cors_preflight_reply(r, origin, methods,
                                   cc_cors_allow_headers(r->pool, methods));
}

/* Every answer under /api/v1 (errors, and those of the authentication hooks, included:
 * err_headers_out, which an ErrorDocument's internal redirect keeps) says Vary: Origin
 * when origins are configured, and carries the CORS headers for a listed one.  Each
 * module that registers runs this: the first does it. */
static void cors_answer(request_rec *r)
{
    const apr_array_header_t *origins;
    const char *origin;

    if (!in_api(r->uri) || apr_table_get(r->err_headers_out, "Access-Control-Allow-Origin")
        || !(origins = cors_origins(r))) {
        return;
    }
    cc_cors_vary(r);
    origin = apr_table_get(r->headers_in, "Origin");
    if (cc_cors_origin_listed(origins, origin)) {
        cc_cors_allow(r, origin);
    }
}

static int guard_post_read_request(request_rec *r)
{
    cors_answer(r);
    if (r->proto_num < HTTP_VERSION(2, 0) || r->connection->master || !guard_in_space(r)) {
        return DECLINED;
    }
    r->connection->keepalive = AP_CONN_CLOSE;
    cc_note_error(r, CC_ERR_INVALID_REQUEST,
                  apr_psprintf(r->pool, "%s is not supported: use HTTP/1.1", r->protocol));
    return HTTP_VERSION_NOT_SUPPORTED;
}

void cc_http_guard_register(apr_pool_t *p, const char *module,
                            const cc_domain_t *const *domains)
{
    guard_domains = domains;
    guard_filter_handle = ap_register_output_filter(
        apr_pstrcat(p, CC_GUARD_FILTER "_", module, NULL), guard_filter, NULL,
        AP_FTYPE_CONTENT_SET);
    ap_hook_insert_error_filter(guard_insert_error_filter, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_read_request(guard_post_read_request, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_quick_handler(cors_preflight, NULL, NULL, APR_HOOK_MIDDLE);
}
