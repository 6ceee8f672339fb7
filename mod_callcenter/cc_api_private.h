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

/* ---- SMS (cc_sms_config.c: directives; cc_sms.c: routes; cc_sms_job.c: delivery) ---- */

/** The CCSms* directives; numbers CC_API_UNSET and pointers NULL until set. */
typedef struct cc_sms_config_t {
    const char *url;                  /**< CCSmsProviderURL */
    const char *credential;           /**< CCSmsProviderCredentialFile's content */
    const unsigned char *key;         /**< CCSmsSecretKeyFile's content */
    apr_size_t keylen;
    int connect_timeout;              /**< CCSmsConnectTimeout, s */
    int timeout;                      /**< CCSmsTimeout, s (the whole call) */
    int interval;                     /**< CCSmsInterval, s (main server; 0: no job) */
    int max_attempts;                 /**< CCSmsMaxAttempts */
    int retry_base;                   /**< CCSmsRetryBase, s */
    int retry_max;                    /**< CCSmsRetryMax, s */
    int tolerance;                    /**< CCSmsSignatureTolerance, s */
} cc_sms_config_t;

/** Each field of add, else of base. */
void cc_sms_config_merge(cc_sms_config_t *out, const cc_sms_config_t *base,
                         const cc_sms_config_t *add);
/** Every field unset. */
void cc_sms_config_init(cc_sms_config_t *c);

/* The getters' defaults (README "SMS"). */
#define CC_SMS_CONNECT_TIMEOUT_DEFAULT 5
#define CC_SMS_TIMEOUT_DEFAULT 15
#define CC_SMS_INTERVAL_DEFAULT 5
#define CC_SMS_MAX_ATTEMPTS_DEFAULT 5
#define CC_SMS_RETRY_BASE_DEFAULT 30
#define CC_SMS_RETRY_MAX_DEFAULT 3600
#define CC_SMS_TOLERANCE_DEFAULT 300

int cc_sms_cfg_connect_timeout(const cc_sms_config_t *c);
int cc_sms_cfg_timeout(const cc_sms_config_t *c);
int cc_sms_cfg_interval(const cc_sms_config_t *c);
int cc_sms_cfg_max_attempts(const cc_sms_config_t *c);
int cc_sms_cfg_retry_base(const cc_sms_config_t *c);
int cc_sms_cfg_retry_max(const cc_sms_config_t *c);
int cc_sms_cfg_tolerance(const cc_sms_config_t *c);

/* Directive handlers (mod_callcenter.c's table names them; cc_sms_config.c). */
const char *cc_sms_set_url(cmd_parms *cmd, void *dummy, const char *arg);
const char *cc_sms_set_credential_file(cmd_parms *cmd, void *dummy, const char *arg);
const char *cc_sms_set_key_file(cmd_parms *cmd, void *dummy, const char *arg);
/** Every numeric CCSms* directive: its range is looked up by the directive's name. */
const char *cc_sms_set_number(cmd_parms *cmd, void *dummy, const char *arg);

/** The message object's columns, with statement cc_sms_get (tenant, id). */
extern const cc_col_t cc_sms_cols[];

/** post_config: schedule the delivery job (main server's CCSmsInterval). */
int cc_sms_job_schedule(apr_pool_t *pconf, server_rec *s);

typedef struct cc_api_config_t {
    apr_off_t max_body;        /**< CCApiMaxBody, CC_API_UNSET until set */
    const char *const *moh_classes;  /**< CCMusicOnHoldClasses (NULL-terminated), NULL
                                          until set */
    const char *recordings_dir;      /**< CCRecordingsDir (absolute), NULL until set */
    cc_sms_config_t sms;             /**< CCSms* */
    const char *voicemail_dir;       /**< CCVoicemailDir (absolute), NULL until set */
    const char *attachments_dir;     /**< CCAttachmentsDir (absolute), NULL until set */
    apr_off_t upload_max;            /**< CCUploadMaxSize, CC_API_UNSET until set */
    int sla_interval;                /**< CCSlaInterval (s; 0: no job), CC_API_UNSET until set */
    const char *ami_host;            /**< CCAsteriskManager's host, NULL: no link */
    apr_port_t ami_port;
    const char *ami_user;            /**< CCAsteriskCredentialFile's user and secret */
    const char *ami_secret;
    const char *ami_node;            /**< CCAsteriskNode, NULL until set */
} cc_api_config_t;

/* Directive handlers of the Asterisk link (cc_ami_link.c). */
const char *cc_ami_set_manager(cmd_parms *cmd, void *dummy, const char *arg);
const char *cc_ami_set_credential_file(cmd_parms *cmd, void *dummy, const char *arg);
const char *cc_ami_set_node(cmd_parms *cmd, void *dummy, const char *arg);

/** post_config: schedule the Asterisk link (main server's CCAsteriskManager). */
int cc_ami_link_schedule(apr_pool_t *pconf, server_rec *s);

#define CC_UPLOAD_MAX_DEFAULT  (10 * 1024 * 1024)
#define CC_SLA_INTERVAL_DEFAULT 60

/** CCUploadMaxSize or its default. */
apr_off_t cc_api_upload_max(const cc_api_config_t *cfg);

/** post_config: schedule the SLA breach job (main server's CCSlaInterval; cc_tickets.c). */
int cc_sla_job_schedule(apr_pool_t *pconf, server_rec *s);

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
 * A new queue membership of the user's endpoint follows the agent's state: on break or
 * offline (a state the agent set, not the nominal one of an agent without any) *ppaused
 * becomes "1" and *preason the pause's text; otherwise both are left as they are.
 * Defined in cc_agents.c.
 */
cc_error_t *cc_agents_member_pause(cc_ctx_t *ctx, const char *user_id,
                                   const char **ppaused, const char **preason);

/**
 * End the user's current agent state (its statistics stop counting), in the caller's
 * transaction: a user's delete.  Defined in cc_agents.c.
 */
cc_error_t *cc_agents_end_state(cc_ctx_t *ctx, const char *user_id);

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
