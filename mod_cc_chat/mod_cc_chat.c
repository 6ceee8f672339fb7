/*
 * mod_cc_chat: the real-time event stream (cc_events.c; the chat domain arrives with its
 * own issue).
 *
 * Handler cc-chat-api: /api/v1/events/stream, /api/v1/events, /api/v1/realtime/sessions,
 * dispatched like every module's routes (cc_dispatch: authentication by mod_cc_auth,
 * tenant and permissions by mod_cc_tenant).
 *
 * Per child: the event hub (made in child_init) and its poller, a per-child mod_watchdog
 * job every CCEventPollInterval.  Per node: the retention job (events older than
 * CCEventRetentionDays, stream rows of dead processes), every CCEventRetentionInterval.
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <apr_strings.h>

#include "cc_chat_link.h"
#include "cc_chat_private.h"
#include "cc_db.h"
#include "cc_job.h"
#include "cc_log.h"
#include "cc_webhooks_rules.h"

#define CC_CHAT_HANDLER "cc-chat-api"
#define CC_CHAT_MAX_BODY 65536

/* The module's domains, one per file, listed by make (mod_cc_chat_domains.h). */
#define CC_DOMAIN(d) extern const cc_domain_t d;
#include "mod_cc_chat_domains.h"
#undef CC_DOMAIN
#define CC_DOMAIN(d) &d,
static const cc_domain_t *const cc_chat_domains[] = {
#include "mod_cc_chat_domains.h"
    NULL
};
#undef CC_DOMAIN

/* ---- configuration ---- */

/* Default and bounds of each setting. */
static const struct {
    int dflt, min, max;
} settings[CC_EV_NSETTINGS] = {
    [CC_EV_MAX_CLIENTS] = { 200, 1, 100000 },
    [CC_EV_MAX_DURATION] = { 3600, 10, 86400 },
    [CC_EV_KEEPALIVE] = { 15, 1, 300 },
    [CC_EV_RETRY] = { 3000, 0, 600000 },
    [CC_EV_LONGPOLL_MAX] = { 30, 0, 300 },
    [CC_EV_POLL_INTERVAL] = { 100, 100, 10000 },
    [CC_EV_BUFFER] = { 4096, 16, 1000000 },
    [CC_EV_RETENTION_DAYS] = { 30, 0, 3650 },
    [CC_EV_RETENTION_INTERVAL] = { 60, 0, 86400 },
    [CC_CHAT_TOKEN_TTL] = { 86400, 60, 2592000 },
    [CC_CHAT_PER_ADDRESS] = { 10, 1, 100000 },
    [CC_CHAT_PER_WIDGET] = { 300, 1, 1000000 },
    [CC_CHAT_REASSIGN_INTERVAL] = { 5, 0, 3600 },
    [CC_CHAT_VISITOR_STREAMS] = { 200, 1, 100000 },
    [CC_CHAT_VISITOR_TIMEOUT] = { 300, 0, 86400 },
    [CC_WH_INTERVAL] = { 250, 0, 600000 },
    [CC_WH_TIMEOUT] = { 10, 1, 60 },
    [CC_WH_RETRY_BASE] = { 10, 1, 86400 },
    [CC_WH_RETRY_MAX] = { 3600, 1, 86400 },
    [CC_WH_RETRY_FOR] = { 21600, 1, 604800 },
    [CC_WH_DISABLE_AFTER] = { 86400, 1, 2592000 },
};

/* The child's hub: made once per child in child_init (before any request thread), then
 * only read; its own mutex guards what changes in it. */
static cc_hub_t *child_hub;

cc_hub_t *cc_chat_hub(void)
{
    return child_hub;
}

int cc_chat_setting(const server_rec *s, cc_chat_setting_e which)
{
    const cc_chat_config_t *cfg = ap_get_module_config(s->module_config, &cc_chat_module);
    int v = cfg ? cfg->v[which] : CC_CHAT_UNSET;

    return v == CC_CHAT_UNSET ? settings[which].dflt : v;
}

static void *create_server_config(apr_pool_t *p, server_rec *s)
{
    cc_chat_config_t *cfg = apr_palloc(p, sizeof(*cfg));
    int i;

    (void)s;
    for (i = 0; i < CC_EV_NSETTINGS; i++) {
        cfg->v[i] = CC_CHAT_UNSET;
    }
    cfg->wh_allow = NULL;
    return cfg;
}

static void *merge_server_config(apr_pool_t *p, void *basev, void *addv)
{
    const cc_chat_config_t *base = basev, *add = addv;
    cc_chat_config_t *cfg = apr_palloc(p, sizeof(*cfg));
    int i;

    for (i = 0; i < CC_EV_NSETTINGS; i++) {
        cfg->v[i] = add->v[i] != CC_CHAT_UNSET ? add->v[i] : base->v[i];
    }
    cfg->wh_allow = add->wh_allow ? add->wh_allow : base->wh_allow;
    return cfg;
}

static const char *set_setting(cmd_parms *cmd, void *dummy, const char *arg)
{
    cc_chat_config_t *cfg = ap_get_module_config(cmd->server->module_config,
                                                 &cc_chat_module);
    int which = (int)(apr_uintptr_t)cmd->info;
    apr_int64_t v;
    char *end;

    (void)dummy;
    v = apr_strtoi64(arg, &end, 10);
    if (!*arg || *end || v < settings[which].min || v > settings[which].max) {
        return apr_psprintf(cmd->pool, "%s takes an integer from %d to %d",
                            cmd->cmd->name, settings[which].min, settings[which].max);
    }
    if (which == CC_CHAT_VISITOR_TIMEOUT && v > 0 && v < 2 * CC_CHAT_SEEN_REFRESH) {
        /* An open stream says so every CC_CHAT_SEEN_REFRESH seconds. */
        return apr_psprintf(cmd->pool, "%s takes 0 or %d seconds and more", cmd->cmd->name,
                            2 * CC_CHAT_SEEN_REFRESH);
    }
    cfg->v[which] = (int)v;
    return NULL;
}

const cc_wh_net_t *cc_chat_webhook_allow(const server_rec *s, int *pn)
{
    const cc_chat_config_t *cfg = ap_get_module_config(s->module_config, &cc_chat_module);

    *pn = cfg && cfg->wh_allow ? cfg->wh_allow->nelts : 0;
    return *pn ? (const cc_wh_net_t *)cfg->wh_allow->elts : NULL;
}

/* CCWebhookAllowNetworks: one network per argument (ITERATE). */
static const char *set_webhook_allow(cmd_parms *cmd, void *dummy, const char *arg)
{
    cc_chat_config_t *cfg = ap_get_module_config(cmd->server->module_config,
                                                 &cc_chat_module);
    cc_wh_net_t net;

    (void)dummy;
    if (!cc_wh_net_parse(arg, &net)) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not an address or a network"
                            " (10.0.0.0/8, 127.0.0.1, fd00::/8), or has host bits set",
                            cmd->cmd->name, arg);
    }
    if (!cfg->wh_allow) {
        cfg->wh_allow = apr_array_make(cmd->pool, 4, sizeof(cc_wh_net_t));
    }
    *(cc_wh_net_t *)apr_array_push(cfg->wh_allow) = net;
    return NULL;
}

/* A setting's index as a directive's cmd->info. */
#define SETTING_OF(which) ((void *)(apr_uintptr_t)(which))

static const command_rec cc_chat_cmds[] = {
    AP_INIT_TAKE1("CCEventStreamMaxClients", set_setting,
                  SETTING_OF(CC_EV_MAX_CLIENTS), RSRC_CONF,
                  "event streams and waiting long-polls per httpd child"
                  " (default 200; past it 503)"),
    AP_INIT_TAKE1("CCEventStreamMaxDuration", set_setting,
                  SETTING_OF(CC_EV_MAX_DURATION), RSRC_CONF,
                  "seconds after which a stream ends and the client"
                  " reconnects with its last id (default 3600)"),
    AP_INIT_TAKE1("CCEventKeepAlive", set_setting,
                  SETTING_OF(CC_EV_KEEPALIVE), RSRC_CONF,
                  "seconds between keep-alive comments on an idle stream"
                  " (default 15)"),
    AP_INIT_TAKE1("CCEventRetry", set_setting,
                  SETTING_OF(CC_EV_RETRY), RSRC_CONF,
                  "the reconnection delay a stream suggests (retry:),"
                  " milliseconds (default 3000)"),
    AP_INIT_TAKE1("CCEventLongPollMax", set_setting,
                  SETTING_OF(CC_EV_LONGPOLL_MAX), RSRC_CONF,
                  "the longest ?wait= of GET /api/v1/events, seconds"
                  " (default 30)"),
    AP_INIT_TAKE1("CCEventPollInterval", set_setting,
                  SETTING_OF(CC_EV_POLL_INTERVAL), RSRC_CONF,
                  "how often each child reads new events, milliseconds"
                  " (default 100; main server)"),
    AP_INIT_TAKE1("CCEventBuffer", set_setting,
                  SETTING_OF(CC_EV_BUFFER), RSRC_CONF,
                  "recent events each child keeps for its clients (default 4096;"
                  " main server)"),
    AP_INIT_TAKE1("CCEventRetentionDays", set_setting,
                  SETTING_OF(CC_EV_RETENTION_DAYS), RSRC_CONF,
                  "days events are kept (default 30; 0 keeps them;"
                  " main server)"),
    AP_INIT_TAKE1("CCEventRetentionInterval", set_setting,
                  SETTING_OF(CC_EV_RETENTION_INTERVAL), RSRC_CONF,
                  "seconds between runs of the retention job (default 60; 0 runs none;"
                  " main server)"),
    AP_INIT_TAKE1("CCChatVisitorTokenTTL", set_setting,
                  SETTING_OF(CC_CHAT_TOKEN_TTL), RSRC_CONF,
                  "seconds a chat visitor's token is good for (default 86400)"),
    AP_INIT_TAKE1("CCChatSessionsPerAddress", set_setting,
                  SETTING_OF(CC_CHAT_PER_ADDRESS), RSRC_CONF,
                  "new chat sessions a minute from one client address in one tenant"
                  " (default 10; past it 429)"),
    AP_INIT_TAKE1("CCChatSessionsPerWidget", set_setting,
                  SETTING_OF(CC_CHAT_PER_WIDGET), RSRC_CONF,
                  "new chat sessions a minute on one widget (default 300; past it 429)"),
    AP_INIT_TAKE1("CCChatVisitorStreamMaxClients", set_setting,
                  SETTING_OF(CC_CHAT_VISITOR_STREAMS), RSRC_CONF,
                  "chat visitors' event streams per httpd child, apart from the users'"
                  " (default 200; two per chat session; past it 503; main server)"),
    AP_INIT_TAKE1("CCChatVisitorTimeout", set_setting,
                  SETTING_OF(CC_CHAT_VISITOR_TIMEOUT), RSRC_CONF,
                  "seconds a waiting chat's visitor may be gone (no stream open, no message)"
                  " before the reassign job closes the chat (default 300; 0 never; at least"
                  " 120 otherwise; main server)"),
    AP_INIT_TAKE1("CCChatReassignInterval", set_setting,
                  SETTING_OF(CC_CHAT_REASSIGN_INTERVAL), RSRC_CONF,
                  "seconds between runs of the job that returns unanswered chats to the"
                  " queue (widgets' reassign_after; default 5; 0 runs none; main server)"),
    AP_INIT_TAKE1("CCWebhookInterval", set_setting,
                  SETTING_OF(CC_WH_INTERVAL), RSRC_CONF,
                  "milliseconds between runs of the webhook delivery job in each child"
                  " (default 250; 0 delivers nothing; main server)"),
    AP_INIT_TAKE1("CCWebhookTimeout", set_setting,
                  SETTING_OF(CC_WH_TIMEOUT), RSRC_CONF,
                  "seconds a webhook call may take, connection included (default 10;"
                  " main server)"),
    AP_INIT_TAKE1("CCWebhookRetryBase", set_setting,
                  SETTING_OF(CC_WH_RETRY_BASE), RSRC_CONF,
                  "seconds before the second call of an event whose first failed; doubled"
                  " per failure (default 10; main server)"),
    AP_INIT_TAKE1("CCWebhookRetryMax", set_setting,
                  SETTING_OF(CC_WH_RETRY_MAX), RSRC_CONF,
                  "the longest wait between two calls, seconds (default 3600;"
                  " main server)"),
    AP_INIT_TAKE1("CCWebhookRetryFor", set_setting,
                  SETTING_OF(CC_WH_RETRY_FOR), RSRC_CONF,
                  "seconds an event is called again after its first failure before it"
                  " is a dead letter (default 21600; main server)"),
    AP_INIT_TAKE1("CCWebhookDisableAfter", set_setting,
                  SETTING_OF(CC_WH_DISABLE_AFTER), RSRC_CONF,
                  "seconds of failures without a delivery after which a subscription is"
                  " disabled, when its current event's retries run out (default 86400;"
                  " main server)"),
    AP_INIT_ITERATE("CCWebhookAllowNetworks", set_webhook_allow, NULL, RSRC_CONF,
                    "networks webhook URLs may reach although loopback, private or"
                    " special-purpose (default none)"),
    { NULL }
};

/* ---- jobs ---- */

/* Per node, every CCEventRetentionInterval: events past retention (10,000 per run, by
 * idx_events_created), and the stream rows of processes that died without deleting
 * them. */
static cc_error_t *retention_run(cc_db_t *db, void *data)
{
    server_rec *s = data;
    int days = cc_chat_setting(s, CC_EV_RETENTION_DAYS);
    const char *args[1];
    cc_error_t *err;

    if (days > 0) {
        args[0] = apr_itoa(db->pool, days);
        if ((err = cc_db_exec(db, "cc_events_prune", 1, args, NULL))
            || (err = cc_webhooks_prune(db, days))) {
            return err;
        }
    }
    return cc_db_exec(db, "cc_events_sessions_prune", 0, NULL, NULL);
}

static int schedule_retention(apr_pool_t *pconf, server_rec *s)
{
    cc_job_t *job = apr_pcalloc(pconf, sizeof(*job));

    job->name = "cc-events-retention";
    job->run = retention_run;
    job->data = s;
    return cc_job_schedule(pconf, s, job,
                           apr_time_from_sec(cc_chat_setting(s, CC_EV_RETENTION_INTERVAL)));
}

/* ---- hooks ---- */

/* The poller's run: the hub exists only in the child, made after the job is scheduled. */
static cc_error_t *poll_run(cc_db_t *db, void *data)
{
    (void)data;
    return child_hub ? cc_hub_poll(db, child_hub) : NULL;
}

static const cc_job_t poller_job = { "cc-events-poller", poll_run, NULL, 1, NULL };

/* Per node, every CCChatReassignInterval: chats unanswered past reassign_after. */

/* Before mod_dbd's post_config, which copies the registered statements into its pools. */
static int cc_chat_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                               server_rec *s)
{
    int rv;

    (void)plog;
    if ((rv = cc_domains_post_config(pconf, ptemp, s, "mod_cc_chat", cc_chat_domains))
        != OK
        || (rv = cc_job_schedule(pconf, s, &poller_job,
                                 apr_time_from_msec(cc_chat_setting(s,
                                                                    CC_EV_POLL_INTERVAL))))
           != OK) {
        return rv;
    }
    if (cc_chat_setting(s, CC_CHAT_REASSIGN_INTERVAL) > 0) {
        /* Per node, every CCChatReassignInterval: chats unanswered past reassign_after,
         * sessions whose token expired or whose waiting visitor is gone. */
        cc_job_t *job = apr_pcalloc(pconf, sizeof(*job));

        job->name = "cc-chat-reassign";
        job->run = cc_chat_reassign_run;
        job->data = s;
        if ((rv = cc_job_schedule(pconf, s, job,
                                  apr_time_from_sec(cc_chat_setting(s,
                                                                    CC_CHAT_REASSIGN_INTERVAL))))
            != OK) {
            return rv;
        }
    }
    if ((rv = cc_webhooks_job_schedule(pconf, s)) != OK) {
        return rv;
    }
    return schedule_retention(pconf, s);
}

static apr_status_t forget_hub(void *data)
{
    (void)data;
    child_hub = NULL;
    return APR_SUCCESS;
}

static void cc_chat_child_init(apr_pool_t *pchild, server_rec *s)
{
    cc_db_child_init(pchild, s);
    child_hub = cc_hub_create(pchild, s, (apr_size_t)cc_chat_setting(s, CC_EV_BUFFER),
                              cc_chat_setting(s, CC_CHAT_VISITOR_STREAMS));
    apr_pool_cleanup_register(pchild, NULL, forget_hub, apr_pool_cleanup_null);
    /* The poller's guard: pchild's pre-cleanup stops it before the hub goes. */
    cc_job_child_init(pchild, s);
}

static int cc_chat_handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, CC_CHAT_HANDLER)) {
        return DECLINED;
    }
    if (r->method_number == M_OPTIONS && !strncmp(r->uri, "/chat/v1/", 9)) {
        int rv = cc_chat_preflight(r, cc_chat_domains);

        if (rv != DECLINED) {
            return rv;
        }
    }
    return cc_dispatch(r, cc_chat_domains, CC_CHAT_MAX_BODY,
                       ap_get_module_config(r->server->module_config, &cc_chat_module));
}

static void cc_chat_register_hooks(apr_pool_t *p)
{
    static const char *const succ_dbd[] = { "mod_dbd.c", NULL };

    ap_hook_post_config(cc_chat_post_config, NULL, succ_dbd, APR_HOOK_MIDDLE);
    ap_hook_child_init(cc_chat_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(cc_chat_handler, NULL, NULL, APR_HOOK_MIDDLE);
    APR_REGISTER_OPTIONAL_FN(cc_chat_voice_state_changed);
    APR_REGISTER_OPTIONAL_FN(cc_chat_agent_gone);
    cc_http_guard_register(p, "mod_cc_chat", cc_chat_domains);
}

CC_MODULE_EXPORT AP_DECLARE_MODULE(cc_chat) = {
    STANDARD20_MODULE_STUFF,
    NULL,
    NULL,
    create_server_config,
    merge_server_config,
    cc_chat_cmds,
    cc_chat_register_hooks,
    AP_MODULE_FLAG_NONE
};
