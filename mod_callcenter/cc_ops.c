/*
 * cc_ops.c: operations endpoints.  /healthz says the process serves (no database);
 * /readyz says the database answers; /api/v1/openapi.json serves the API description.
 */
#include <httpd.h>
#include <http_protocol.h>

#include "cc_api_private.h"

static int ops_healthz(request_rec *r, cc_ctx_t *ctx)
{
    (void)ctx;
    return cc_send_json(r, HTTP_OK, json_pack("{s:s}", "status", "ok"));
}

static int ops_readyz(request_rec *r, cc_ctx_t *ctx)
{
    const char **row = NULL;
    cc_error_t *err = cc_db_select_row(ctx, "cc_ops_ping", 0, NULL, &row, NULL);

    if (err) {
        return cc_send_error(r, err);
    }
    return cc_send_json(r, HTTP_OK, json_pack("{s:s}", "status", "ready"));
}

static int ops_openapi(request_rec *r, cc_ctx_t *ctx)
{
    apr_size_t len;
    const char *doc = cc_openapi_document(&len);

    (void)ctx;
    ap_set_content_type(r, "application/json; charset=utf-8");
    ap_set_content_length(r, len);
    if (!r->header_only) {
        ap_rwrite(doc, (int)len, r);
    }
    return OK;
}

/* Public: probes and clients fetch these without a token. */
const cc_route_t cc_ops_routes[] = {
    { "GET", "/healthz", ops_healthz, NULL, CC_ROUTE_PUBLIC },
    { "GET", "/readyz", ops_readyz, NULL, CC_ROUTE_PUBLIC },
    { "GET", "/api/v1/openapi.json", ops_openapi, NULL, CC_ROUTE_PUBLIC },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_stmt_t cc_ops_stmts[] = {
    CC_STMT("cc_ops_ping", "SELECT 1"),
    CC_STMT_END
};
