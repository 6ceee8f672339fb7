/**
 * @file cc_api_private.h
 * @brief mod_callcenter internals: config, the domain route and statement tables.
 */
#ifndef CC_API_PRIVATE_H
#define CC_API_PRIVATE_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

#include "cc_http.h"
#include "cc_route.h"

APLOG_USE_MODULE(callcenter);

#define CC_API_UNSET -1

typedef struct cc_api_config_t {
    apr_off_t max_body;        /**< CCApiMaxBody, CC_API_UNSET until set */
    const char *const *moh_classes;  /**< CCMusicOnHoldClasses (NULL-terminated), NULL
                                          until set */
    const char *recordings_dir;      /**< CCRecordingsDir (absolute), NULL until set */
    const char *voicemail_dir;       /**< CCVoicemailDir (absolute), NULL until set */
} cc_api_config_t;

/** CCApiMaxBody or its default. */
apr_size_t cc_api_max_body(const cc_api_config_t *cfg);

/** CCMusicOnHoldClasses or its default ("default"): NULL-terminated, at least one. */
const char *const *cc_api_moh_classes(const cc_api_config_t *cfg);

/** The handler's config (ctx->module_cfg). */
#define CC_API_CTX_CFG(ctx) ((const cc_api_config_t *)(ctx)->module_cfg)

/**
 * Keep the user's endpoints in step with the user, in the caller's transaction: their
 * caller id and queue member names show name; name NULL (the user is deleted) unlinks
 * them (user_id NULL, shown by extension).  The caller must hold the user's row lock,
 * taken before its transaction's first plain read.  Defined in cc_endpoints.c.
 */
cc_error_t *cc_endpoints_follow_user(cc_ctx_t *ctx, const char *user_id, const char *name);

/**
 * An event for every queue membership of the endpoint, with the member object as it is
 * now, in the caller's transaction: verb "update" (queue_member.updated) when the
 * endpoint's user (or the user's name) changed, "delete" (queue_member.deleted) before
 * the endpoint's deletion removes them.  Defined in cc_queue_members.c.
 */
cc_error_t *cc_queues_announce_members(cc_ctx_t *ctx, const char *endpoint_id,
                                       const char *verb);

/**
 * Remove every member of the queue (announced as deleted; realtime rows first, then
 * ours), in the caller's transaction, the queue's side row locked.  Defined in
 * cc_queue_members.c.
 */
cc_error_t *cc_queue_members_remove_all(cc_ctx_t *ctx, const char *queue_id,
                                        const char *asterisk_name);

/**
 * The zone named tz (a name cc_cdrstats_tz_name_ok accepts) from the system's zoneinfo
 * tree: a 400 on "tz" when there is none.  Defined in cc_cdr_stats.c (statistics and
 * the wallboard bucket days in it).
 */
struct cc_tzinfo_t;
cc_error_t *cc_tz_load(apr_pool_t *p, const char *tz, struct cc_tzinfo_t **pzone);

/** The OpenAPI document (mod_callcenter/openapi.json, embedded at build time). */
const char *cc_openapi_document(apr_size_t *plen);

#endif
