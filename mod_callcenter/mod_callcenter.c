/*
 * mod_callcenter: the REST domains of the call center (users, audit log, and the ones the
 * later issues add), plus /healthz, /readyz and the OpenAPI document.
 *
 * Authentication and tenant/RBAC resolution happen before the handler (mod_cc_auth's
 * AuthType CCBearer, mod_cc_tenant's Require cc-tenant); cc_dispatch then matches the
 * route, enforces its permission and calls the domain handler.
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "cc_api_private.h"
#include "cc_asterisk.h"
#include "cc_job.h"
#include "cc_metrics.h"
#include "cc_log.h"
#include "cc_validate.h"

#define CC_API_HANDLER "callcenter-api"

/* The module's domains, one per file, listed by make (mod_callcenter_domains.h, see
 * cc_domain.h); their routes, statements and lists are checked at start-up
 * (cc_domains_post_config).  A path belongs to exactly one. */
#define CC_DOMAIN(d) extern const cc_domain_t d;
#include "mod_callcenter_domains.h"
#undef CC_DOMAIN
#define CC_DOMAIN(d) &d,
static const cc_domain_t *const cc_api_domains[] = {
#include "mod_callcenter_domains.h"
    NULL
};
#undef CC_DOMAIN

/* ---- configuration ---- */

static void *create_server_config(apr_pool_t *p, server_rec *s)
{
    cc_api_config_t *cfg = apr_pcalloc(p, sizeof(*cfg));

    (void)s;
    cfg->max_body = CC_API_UNSET;
    cfg->upload_max = CC_API_UNSET;
    cfg->sla_interval = CC_API_UNSET;
    cc_sms_config_init(&cfg->sms);
    return cfg;
}

static void *merge_server_config(apr_pool_t *p, void *basev, void *addv)
{
    const cc_api_config_t *base = basev, *add = addv;
    cc_api_config_t *cfg = apr_pcalloc(p, sizeof(*cfg));

    cfg->max_body = add->max_body != CC_API_UNSET ? add->max_body : base->max_body;
    cfg->moh_classes = add->moh_classes ? add->moh_classes : base->moh_classes;
    cfg->recordings_dir = add->recordings_dir ? add->recordings_dir : base->recordings_dir;
    cc_sms_config_merge(&cfg->sms, &base->sms, &add->sms);
    cfg->voicemail_dir = add->voicemail_dir ? add->voicemail_dir : base->voicemail_dir;
    cfg->attachments_dir = add->attachments_dir ? add->attachments_dir
                                                : base->attachments_dir;
    cfg->upload_max = add->upload_max != CC_API_UNSET ? add->upload_max : base->upload_max;
    cfg->sla_interval = add->sla_interval != CC_API_UNSET ? add->sla_interval
                                                           : base->sla_interval;
    cfg->ami_host = add->ami_host ? add->ami_host : base->ami_host;
    cfg->ami_port = add->ami_host ? add->ami_port : base->ami_port;
    cfg->ami_user = add->ami_user ? add->ami_user : base->ami_user;
    cfg->ami_secret = add->ami_user ? add->ami_secret : base->ami_secret;
    cfg->ami_node = add->ami_node ? add->ami_node : base->ami_node;
    return cfg;
}

apr_size_t cc_api_max_body(const cc_api_config_t *cfg)
{
    return cfg->max_body == CC_API_UNSET ? CC_MAX_BODY_DEFAULT : (apr_size_t)cfg->max_body;
}

apr_off_t cc_api_upload_max(const cc_api_config_t *cfg)
{
    return cfg->upload_max == CC_API_UNSET ? CC_UPLOAD_MAX_DEFAULT : cfg->upload_max;
}

const char *const *cc_api_moh_classes(const cc_api_config_t *cfg)
{
    static const char *const moh_default[] = { "default", NULL };

    return cfg->moh_classes ? cfg->moh_classes : moh_default;
}

static const char *set_max_body(cmd_parms *cmd, void *dummy, const char *arg)
{
    cc_api_config_t *cfg = ap_get_module_config(cmd->server->module_config,
                                                &callcenter_module);
    apr_int64_t v;

    (void)dummy;
    if (!cc_parse_int(arg, 1024, APR_INT64_C(1073741824), &v)) {
        return "CCApiMaxBody must be a number of bytes from 1024 to 1073741824";
    }
    cfg->max_body = (apr_off_t)v;
    return NULL;
}

static const char *set_upload_max(cmd_parms *cmd, void *dummy, const char *arg)
{
    cc_api_config_t *cfg = ap_get_module_config(cmd->server->module_config,
                                                &callcenter_module);
    apr_int64_t v;

    (void)dummy;
    if (!cc_parse_int(arg, 1, APR_INT64_C(1073741824), &v)) {
        return "CCUploadMaxSize must be a number of bytes from 1 to 1073741824";
    }
    cfg->upload_max = (apr_off_t)v;
    return NULL;
}

static const char *set_sla_interval(cmd_parms *cmd, void *dummy, const char *arg)
{
    cc_api_config_t *cfg = ap_get_module_config(cmd->server->module_config,
                                                &callcenter_module);
    apr_int64_t v;

    (void)dummy;
    if (!cc_parse_int(arg, 0, 86400, &v)) {
        return "CCSlaInterval must be a number of seconds from 0 (no job) to 86400";
    }
    cfg->sla_interval = (int)v;
    return NULL;
}

/* The global music-on-hold classes (cc_asterisk.h): names without '-', which is the
 * mark of a tenant's own class. */
static const char *set_moh_classes(cmd_parms *cmd, void *dummy, int argc,
                                   char *const argv[])
{
    cc_api_config_t *cfg = ap_get_module_config(cmd->server->module_config,
                                                &callcenter_module);
    const char **classes;
    int i;

    (void)dummy;
    if (argc < 1) {
        return "CCMusicOnHoldClasses needs at least one class";
    }
    classes = apr_pcalloc(cmd->pool, (apr_size_t)(argc + 1) * sizeof(*classes));
    for (i = 0; i < argc; i++) {
        if (!cc_ast_valid_moh_global(argv[i])) {
            return apr_psprintf(cmd->pool, "CCMusicOnHoldClasses: '%s' is not a global"
                                " class: 1 to 128 of A-Z, a-z, 0-9 and '_' ('-' marks a"
                                " tenant's own class, <key>-<name>)", argv[i]);
        }
        classes[i] = argv[i];
    }
    cfg->moh_classes = classes;
    return NULL;
}

/* A directory of tenant files (CCRecordingsDir, CCVoicemailDir: the member at the offset
 * cmd->info).  Checked when the configuration is read (so `apache2 -t` and a start both
 * refuse a missing one): the directory must exist.  Whether httpd's children may read it
 * is the operator's to arrange (README "Recordings", "Voicemail"). */
static const char *set_files_dir(cmd_parms *cmd, void *dummy, const char *arg)
{
    cc_api_config_t *cfg = ap_get_module_config(cmd->server->module_config,
                                                &callcenter_module);
    const char *path = ap_server_root_relative(cmd->pool, arg);
    const char *name = cmd->cmd->name;
    apr_finfo_t fi;
    apr_status_t rv;

    (void)dummy;
    if (!path) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a valid path", name, arg);
    }
    if ((rv = apr_stat(&fi, path, APR_FINFO_TYPE, cmd->pool)) != APR_SUCCESS) {
        char buf[120];

        return apr_psprintf(cmd->pool, "%s: cannot use '%s': %s", name, path,
                            apr_strerror(rv, buf, sizeof(buf)));
    }
    if (fi.filetype != APR_DIR) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a directory", name, path);
    }
    *(const char **)((char *)cfg + (apr_size_t)cmd->info) = path;
    return NULL;
}

static const command_rec cc_api_cmds[] = {
    AP_INIT_TAKE1("CCApiMaxBody", set_max_body, NULL, RSRC_CONF,
                  "largest JSON request body accepted, in bytes (default 1048576)"),
    AP_INIT_TAKE_ARGV("CCMusicOnHoldClasses", set_moh_classes, NULL, RSRC_CONF,
                      "the global music-on-hold classes every tenant's queues may use;"
                      " the first is a new queue's (default: default)"),
    AP_INIT_TAKE1("CCAttachmentsDir", set_files_dir,
                  (void *)APR_OFFSETOF(cc_api_config_t, attachments_dir), RSRC_CONF,
                  "the directory of ticket attachments, one subdirectory per tenant id"
                  " (absolute or relative to ServerRoot; default: none, no uploads)"),
    AP_INIT_TAKE1("CCRecordingsDir", set_files_dir,
                  (void *)APR_OFFSETOF(cc_api_config_t, recordings_dir), RSRC_CONF,
                  "the directory of call recordings, one subdirectory per tenant id"
                  " (absolute or relative to ServerRoot; default: none)"),
    /* SMS (cc_sms_config.c; README "SMS") */
    AP_INIT_TAKE1("CCSmsProviderURL", cc_sms_set_url, NULL, RSRC_CONF,
                  "the SMS provider's send URL (http or https; default: none, no delivery)"),
    AP_INIT_TAKE1("CCSmsProviderCredentialFile", cc_sms_set_credential_file, NULL, RSRC_CONF,
                  "file holding the provider's bearer credential (one line)"),
    AP_INIT_TAKE1("CCSmsSecretKeyFile", cc_sms_set_key_file, NULL, RSRC_CONF,
                  "file holding the key the tenants' callback secrets derive from"
                  " (at least 32 bytes)"),
    AP_INIT_TAKE1("CCSmsConnectTimeout", cc_sms_set_number, NULL, RSRC_CONF,
                  "seconds to connect to the provider (default 5)"),
    AP_INIT_TAKE1("CCSmsTimeout", cc_sms_set_number, NULL, RSRC_CONF,
                  "seconds for a whole provider call (default 15)"),
    AP_INIT_TAKE1("CCSmsInterval", cc_sms_set_number, NULL, RSRC_CONF,
                  "seconds between delivery job runs; 0 disables the job (default 5)"),
    AP_INIT_TAKE1("CCSmsMaxAttempts", cc_sms_set_number, NULL, RSRC_CONF,
                  "provider calls per message before it fails (default 5)"),
    AP_INIT_TAKE1("CCSmsRetryBase", cc_sms_set_number, NULL, RSRC_CONF,
                  "seconds before the first retry, doubled per retry (default 30)"),
    AP_INIT_TAKE1("CCSmsRetryMax", cc_sms_set_number, NULL, RSRC_CONF,
                  "the longest pause between retries, seconds (default 3600)"),
    AP_INIT_TAKE1("CCSmsSignatureTolerance", cc_sms_set_number, NULL, RSRC_CONF,
                  "how far a callback's timestamp may be from now, seconds (default 300)"),
    AP_INIT_TAKE1("CCAsteriskManager", cc_ami_set_manager, NULL, RSRC_CONF,
                  "host:port of Asterisk's manager interface (AMI): this node's link"),
    AP_INIT_TAKE1("CCAsteriskCredentialFile", cc_ami_set_credential_file, NULL, RSRC_CONF,
                  "file holding username:secret of the AMI user (manager.conf)"),
    AP_INIT_TAKE1("CCAsteriskNode", cc_ami_set_node, NULL, RSRC_CONF,
                  "this node's name for its Asterisk link (default host:port)"),
    AP_INIT_TAKE1("CCSlaInterval", set_sla_interval, NULL, RSRC_CONF,
                  "seconds between SLA breach job runs; 0 disables the job (default 60)"),
    AP_INIT_TAKE1("CCUploadMaxSize", set_upload_max, NULL, RSRC_CONF,
                  "largest ticket attachment accepted, in bytes (default 10485760)"),
    AP_INIT_TAKE1("CCVoicemailDir", set_files_dir,
                  (void *)APR_OFFSETOF(cc_api_config_t, voicemail_dir), RSRC_CONF,
                  "the voicemail spool, one subdirectory per tenant id (its voicemail"
                  " context's messages; absolute or relative to ServerRoot; default: none)"),
    { NULL }
};

/* ---- hooks ---- */

/* path is dir or beneath it (both absolute, as ap_server_root_relative makes them). */
static int path_within(const char *path, const char *dir)
{
    apr_size_t n = strlen(dir);

    while (n > 1 && dir[n - 1] == '/') {
        n--;
    }
    return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/* Files clients upload or Asterisk writes are served by the API's handlers only: a
 * directory of them inside a virtual host's DocumentRoot (which httpd's default handler
 * would serve as they are, uploaded pages included), or holding it, refuses the start
 * (check_config: `apache2 -t` says so too). */
static int files_dirs_check(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                            server_rec *main_server)
{
    server_rec *s;

    (void)pconf;
    (void)plog;
    (void)ptemp;
    for (s = main_server; s; s = s->next) {
        const cc_api_config_t *cfg = ap_get_module_config(s->module_config,
                                                          &callcenter_module);
        const core_server_config *core = ap_get_core_module_config(s->module_config);
        const char *dirs[3] = { cfg->attachments_dir, cfg->recordings_dir,
                                cfg->voicemail_dir };
        static const char *const names[3] = { "CCAttachmentsDir", "CCRecordingsDir",
                                               "CCVoicemailDir" };
        int i;

        for (i = 0; i < 3; i++) {
            if (dirs[i] && core->ap_document_root
                && (path_within(dirs[i], core->ap_document_root)
                    || path_within(core->ap_document_root, dirs[i]))) {
                ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, CCLOGNO(03956)
                             "%s %s overlaps the DocumentRoot %s: its files would be"
                             " served as they are; name a directory outside it", names[i],
                             dirs[i], core->ap_document_root);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
        }
        /* A link needs its manager user (`apache2 -t` says so too). */
        if (cfg->ami_host && !cfg->ami_user) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, CCLOGNO(03961)
                         "CCAsteriskManager needs CCAsteriskCredentialFile");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

/* Before mod_dbd's post_config, which copies the registered statements into its pools. */
static int cc_api_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                              server_rec *s)
{
    int rv;

    (void)plog;
    rv = cc_domains_post_config(pconf, ptemp, s, "mod_callcenter", cc_api_domains);
    if (rv == OK) {
        rv = cc_sms_job_schedule(pconf, s);
    }
    if (rv == OK) {
        rv = cc_sla_job_schedule(pconf, s);
    }
    return rv != OK ? rv : cc_ami_link_schedule(pconf, s);
}

static int cc_api_handler(request_rec *r)
{
    cc_api_config_t *cfg;

    if (!r->handler || strcmp(r->handler, CC_API_HANDLER)) {
        return DECLINED;
    }
    cfg = ap_get_module_config(r->server->module_config, &callcenter_module);
    return cc_dispatch(r, cc_api_domains, cc_api_max_body(cfg), cfg);
}

/* The node's request counters (cc_metrics.h): one log hook for every module's routes
 * (each dispatcher notes the template it matched), so each request is counted once. */
static int cc_api_log_transaction(request_rec *r)
{
    cc_metrics_request(r);
    return DECLINED;
}

/* The guard of the module's background jobs in this child (cc_job.h). */
static void cc_api_child_init(apr_pool_t *pchild, server_rec *s)
{
    cc_db_child_init(pchild, s);
    cc_job_child_init(pchild, s);
}

static void cc_api_register_hooks(apr_pool_t *p)
{
    static const char *const succ_dbd[] = { "mod_dbd.c", NULL };

    ap_hook_check_config(files_dirs_check, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(cc_api_post_config, NULL, succ_dbd, APR_HOOK_MIDDLE);
    ap_hook_child_init(cc_api_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(cc_api_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(cc_api_log_transaction, NULL, NULL, APR_HOOK_MIDDLE);
    /* httpd's own errors on our paths (/api, /healthz, /readyz) as JSON; HTTP/2.0+
     * request lines refused (cc_http_guard_register). */
    cc_http_guard_register(p, "mod_callcenter", cc_api_domains);
}

CC_MODULE_EXPORT module AP_MODULE_DECLARE_DATA callcenter_module = {
    STANDARD20_MODULE_STUFF,
    NULL,
    NULL,
    create_server_config,
    merge_server_config,
    cc_api_cmds,
    cc_api_register_hooks,
    AP_MODULE_FLAG_NONE
};
