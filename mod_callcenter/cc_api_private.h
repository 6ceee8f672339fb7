/**
 * @file cc_api_private.h
 * @brief mod_callcenter internals: config, the domain route and statement tables.
 */
#ifndef CC_API_PRIVATE_H
#define CC_API_PRIVATE_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "cc_db.h"
#include "cc_route.h"

APLOG_USE_MODULE(callcenter);

#define CC_API_UNSET -1

typedef struct cc_api_config_t {
    apr_off_t max_body;        /**< CCApiMaxBody, CC_API_UNSET until set */
} cc_api_config_t;

/** CCApiMaxBody or its default. */
apr_size_t cc_api_max_body(const cc_api_config_t *cfg);

/* One route table and one statement table per domain file. */
extern const cc_route_t cc_users_routes[];
extern const cc_stmt_t cc_users_stmts[];
extern const cc_route_t cc_dids_routes[];
extern const cc_stmt_t cc_dids_stmts[];
extern const cc_route_t cc_queues_routes[];
extern const cc_stmt_t cc_queues_stmts[];
extern const cc_route_t cc_endpoints_routes[];
extern const cc_stmt_t cc_endpoints_stmts[];
extern const cc_route_t cc_audit_routes[];
extern const cc_stmt_t cc_audit_stmts[];
extern const cc_route_t cc_ops_routes[];
extern const cc_stmt_t cc_ops_stmts[];

/**
 * Keep the user's endpoints in step with the user, in the caller's transaction: their
 * caller id and queue member names show name; name NULL (the user is deleted) unlinks
 * them (user_id NULL, shown by extension).  The caller must hold the user's row lock,
 * taken before its transaction's first plain read.  Defined in cc_endpoints.c.
 */
cc_error_t *cc_endpoints_follow_user(cc_ctx_t *ctx, const char *user_id, const char *name);

/**
 * An event of event_type for every queue membership of the endpoint, with the member
 * object as it is now, in the caller's transaction: "queue_member.updated" when the
 * endpoint's user (or the user's name) changed, "queue_member.deleted" before the
 * endpoint's deletion removes them.  Defined in cc_queues.c.
 */
cc_error_t *cc_queues_announce_members(cc_ctx_t *ctx, const char *endpoint_id,
                                       const char *event_type);

/** The OpenAPI document (mod_callcenter/openapi.json, embedded at build time). */
const char *cc_openapi_document(apr_size_t *plen);

/** id capture of the route as a validated decimal string, or NULL (-> 404). */
const char *cc_api_id_param(const cc_ctx_t *ctx, const char *name);

#endif
