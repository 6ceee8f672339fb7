/*
 * cc_ops.c: operations endpoints.  /healthz says the process serves (no database);
 * /readyz says the database answers; /api/v1/openapi.json serves the API description.
 */
#include <httpd.h>
#include <http_protocol.h>

#include "cc_api_private.h"

static cc_error_t *ops_healthz(cc_ctx_t *ctx)
{
    return cc_reply_json(ctx, HTTP_OK, cc_json_own(ctx->pool, json_pack("{s:s}", "status",
                                                                        "ok")));
}

static cc_error_t *ops_readyz(cc_ctx_t *ctx)
{
    const char **row = NULL;
    cc_error_t *err = cc_db_select_row(ctx->db, "cc_ops_ping", 0, NULL, &row, NULL);

    return err ? err : cc_reply_json(ctx, HTTP_OK,
                                     cc_json_own(ctx->pool, json_pack("{s:s}", "status",
                                                                      "ready")));
}

static cc_error_t *ops_openapi(cc_ctx_t *ctx)
{
    apr_size_t len;
    const char *doc = cc_openapi_document(&len);

    return cc_reply_text(ctx, HTTP_OK, doc, len);
}

/* Public: probes and clients fetch these without a token. */
static const cc_route_t ops_routes[] = {
    { "GET", "/healthz", ops_healthz, NULL, CC_ROUTE_PUBLIC },
    { "GET", "/readyz", ops_readyz, NULL, CC_ROUTE_PUBLIC },
    { "GET", "/api/v1/openapi.json", ops_openapi, NULL, CC_ROUTE_PUBLIC },
    { NULL, NULL, NULL, NULL, 0 }
};

static const cc_stmt_t ops_stmts[] = {
    CC_STMT("cc_ops_ping", "SELECT 1"),
    CC_STMT_END
};

const cc_domain_t cc_ops_domain = { "ops", ops_routes, ops_stmts, NULL, NULL, NULL };
