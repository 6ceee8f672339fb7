/*
 * cc_ops.c: operations endpoints.  /healthz says the process serves (no database);
 * /readyz says the database answers; /api/v1/openapi.json serves the API description;
 * /metrics the node's counters (cc_metrics.h) in Prometheus' text format, for every
 * child: who may read it is httpd's configuration (a <Location /metrics> with Require).
 */
#include <string.h>

#include <httpd.h>
#include <http_protocol.h>

#include "cc_api_private.h"
#include "cc_calls_private.h"
#include "cc_metrics.h"
#include "cc_validate.h"

static cc_error_t *ops_healthz(cc_ctx_t *ctx)
{
    return cc_reply_json(ctx, HTTP_OK, cc_json_own(ctx->pool, json_pack("{s:s}", "status",
                                                                        "ok")));
}

/* Where this node has an Asterisk link (CCAsteriskManager): its state as the link last
 * wrote it ("connecting", "up", "down"; "stale" when its heartbeat is older than
 * CC_LINK_FRESH_SECS, e.g. no child holds the link), since when, and why it is down.
 * Asterisk being away does not make the API unready: only the body says it. */
static cc_error_t *link_state(cc_ctx_t *ctx, json_t *body)
{
    const cc_api_config_t *cfg = CC_API_CTX_CFG(ctx);
    const char *node, **row;
    json_t *link;
    cc_error_t *err;

    if (!cfg->ami_host) {
        return NULL;
    }
    node = cc_ami_node(ctx->pool, cfg);
    if ((err = cc_db_select_row(ctx->db, "cc_ops_link", 1, &node, &row, NULL))) {
        return err;
    }
    link = json_pack("{s:s,s:s}", "node", node, "state",
                     !row ? "connecting" : strcmp(row[3], "1") ? "stale" : row[0]);
    if (row) {
        json_object_set_new(link, "since", json_string(cc_sql_time_to_rfc3339(ctx->pool,
                                                                               row[1])));
        json_object_set_new(link, "detail", row[2] ? json_string(row[2]) : json_null());
    }
    json_object_set_new(body, "asterisk", link);
    return NULL;
}

static cc_error_t *ops_readyz(cc_ctx_t *ctx)
{
    const char **row = NULL;
    json_t *body;
    cc_error_t *err = cc_db_select_row(ctx->db, "cc_ops_ping", 0, NULL, &row, NULL);

    if (err) {
        return err;
    }
    body = cc_json_own(ctx->pool, json_pack("{s:s}", "status", "ready"));
    return (err = link_state(ctx, body)) ? err : cc_reply_json(ctx, HTTP_OK, body);
}

static cc_error_t *ops_openapi(cc_ctx_t *ctx)
{
    apr_size_t len;
    const char *doc = cc_openapi_document(&len);

    return cc_reply_text(ctx, HTTP_OK, doc, len);
}

static cc_error_t *ops_metrics(cc_ctx_t *ctx)
{
    const char *text = cc_metrics_render(ctx->pool);

    return cc_reply_typed(ctx, HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text,
                          strlen(text));
}

/* Public: probes and clients fetch these without a token. */
static const cc_route_t ops_routes[] = {
    { "GET", "/healthz", ops_healthz, NULL, CC_ROUTE_PUBLIC },
    { "GET", "/readyz", ops_readyz, NULL, CC_ROUTE_PUBLIC },
    { "GET", "/api/v1/openapi.json", ops_openapi, NULL, CC_ROUTE_PUBLIC },
    /* Public to the API: httpd's configuration restricts it (the samples: loopback). */
    { "GET", "/metrics", ops_metrics, NULL, CC_ROUTE_PUBLIC },
    { NULL, NULL, NULL, NULL, 0 }
};

static const cc_stmt_t ops_stmts[] = {
    CC_STMT("cc_ops_ping", "SELECT 1"),
    CC_STMT("cc_ops_link",
            "SELECT state, CAST(since AS DATETIME), detail, heartbeat_at > UTC_TIMESTAMP(3)"
            " - INTERVAL " CC_LINK_FRESH_SECS " SECOND FROM asterisk_links WHERE node = %s"),
    CC_STMT_END
};

const cc_domain_t cc_ops_domain = { "ops", ops_routes, ops_stmts, NULL, NULL, NULL };
