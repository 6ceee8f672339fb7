/*
 * cc_sms_config.c: the CCSms* directives (README "SMS").
 *
 * The provider's credential and the webhook key are files read when the configuration
 * is read (as root, before httpd's children drop privileges), so `apache2 -t` already
 * reports a missing one; messages name the file, never what it holds.
 */
#include <httpd.h>
#include <http_config.h>
#include <apr_strings.h>
#include <apr_uri.h>

#include "cc_api_private.h"
#include "cc_crypto.h"
#include "cc_validate.h"

/* The webhook key: at least 32 bytes (as strong as the HMAC it keys). */
#define SMS_KEY_MIN 32

/* One numeric directive: where it goes and its range. */
typedef struct sms_num_t {
    const char *name;
    apr_size_t offset;
    int min, max;
} sms_num_t;

static const sms_num_t sms_nums[] = {
    { "CCSmsConnectTimeout", APR_OFFSETOF(cc_sms_config_t, connect_timeout), 1, 60 },
    { "CCSmsTimeout", APR_OFFSETOF(cc_sms_config_t, timeout), 1, 300 },
    { "CCSmsInterval", APR_OFFSETOF(cc_sms_config_t, interval), 0, 3600 },
    { "CCSmsMaxAttempts", APR_OFFSETOF(cc_sms_config_t, max_attempts), 1, 100 },
    { "CCSmsRetryBase", APR_OFFSETOF(cc_sms_config_t, retry_base), 1, 86400 },
    { "CCSmsRetryMax", APR_OFFSETOF(cc_sms_config_t, retry_max), 1, 604800 },
    { "CCSmsSignatureTolerance", APR_OFFSETOF(cc_sms_config_t, tolerance), 1, 3600 },
    { NULL, 0, 0, 0 }
};

void cc_sms_config_init(cc_sms_config_t *c)
{
    const sms_num_t *n;

    c->url = NULL;
    c->credential = NULL;
    c->key = NULL;
    c->keylen = 0;
    for (n = sms_nums; n->name; n++) {
        *(int *)((char *)c + n->offset) = CC_API_UNSET;
    }
}

void cc_sms_config_merge(cc_sms_config_t *out, const cc_sms_config_t *base,
                         const cc_sms_config_t *add)
{
    const sms_num_t *n;

    out->url = add->url ? add->url : base->url;
    out->credential = add->credential ? add->credential : base->credential;
    out->key = add->key ? add->key : base->key;
    out->keylen = add->key ? add->keylen : base->keylen;
    for (n = sms_nums; n->name; n++) {
        int a = *(const int *)((const char *)add + n->offset);

        *(int *)((char *)out + n->offset) =
            a != CC_API_UNSET ? a : *(const int *)((const char *)base + n->offset);
    }
}

#define SMS_GETTER(field, dflt)                                          \
    int cc_sms_cfg_##field(const cc_sms_config_t *c)                     \
    {                                                                    \
        return c->field != CC_API_UNSET ? c->field : (dflt);             \
    }

SMS_GETTER(connect_timeout, CC_SMS_CONNECT_TIMEOUT_DEFAULT)
SMS_GETTER(timeout, CC_SMS_TIMEOUT_DEFAULT)
SMS_GETTER(interval, CC_SMS_INTERVAL_DEFAULT)
SMS_GETTER(max_attempts, CC_SMS_MAX_ATTEMPTS_DEFAULT)
SMS_GETTER(retry_base, CC_SMS_RETRY_BASE_DEFAULT)
SMS_GETTER(retry_max, CC_SMS_RETRY_MAX_DEFAULT)
SMS_GETTER(tolerance, CC_SMS_TOLERANCE_DEFAULT)

static cc_sms_config_t *cmd_sms(cmd_parms *cmd)
{
    cc_api_config_t *cfg = ap_get_module_config(cmd->server->module_config,
                                                &callcenter_module);

    return &cfg->sms;
}

const char *cc_sms_set_number(cmd_parms *cmd, void *dummy, const char *arg)
{
    const sms_num_t *n;
    apr_int64_t v;

    (void)dummy;
    for (n = sms_nums; n->name && strcasecmp(n->name, cmd->cmd->name); n++) {
    }
    if (!n->name) {
        return apr_psprintf(cmd->pool, "%s: not a numeric SMS directive (a bug)",
                            cmd->cmd->name);
    }
    if (!cc_parse_int(arg, n->min, n->max, &v)) {
        return apr_psprintf(cmd->pool, "%s must be a number of seconds from %d to %d",
                            cmd->cmd->name, n->min, n->max);
    }
    *(int *)((char *)cmd_sms(cmd) + n->offset) = (int)v;
    return NULL;
}

/* http or https, with a host; no user or password in it (the credential is a file). */
const char *cc_sms_set_url(cmd_parms *cmd, void *dummy, const char *arg)
{
    apr_uri_t u;

    (void)dummy;
    if (apr_uri_parse(cmd->pool, arg, &u) != APR_SUCCESS || !u.scheme || !u.hostname
        || (strcasecmp(u.scheme, "http") && strcasecmp(u.scheme, "https"))) {
        return "CCSmsProviderURL must be an http:// or https:// URL with a host";
    }
    if (u.user || u.password) {
        return "CCSmsProviderURL must not carry credentials: use "
               "CCSmsProviderCredentialFile";
    }
    cmd_sms(cmd)->url = arg;
    return NULL;
}

/* The bearer credential goes into a header: printable ASCII only. */
const char *cc_sms_set_credential_file(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *path = ap_server_root_relative(cmd->pool, arg);
    const char *secret, *err;

    (void)dummy;
    if (!path) {
        return apr_psprintf(cmd->pool, "%s: invalid path '%s'", cmd->cmd->name, arg);
    }
    if (cc_secret_file_line(cmd->pool, path, "SMS provider credential file", 1, &secret,
                            &err) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
    }
    cmd_sms(cmd)->credential = secret;
    return NULL;
}

const char *cc_sms_set_key_file(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *path = ap_server_root_relative(cmd->pool, arg);
    const char *key, *err;
    apr_size_t len;

    (void)dummy;
    if (!path) {
        return apr_psprintf(cmd->pool, "%s: invalid path '%s'", cmd->cmd->name, arg);
    }
    if (cc_secret_file_read(cmd->pool, path, "SMS webhook key file", SMS_KEY_MIN, &key,
                            &len, &err) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
    }
    cmd_sms(cmd)->key = (const unsigned char *)key;
    cmd_sms(cmd)->keylen = len;
    return NULL;
}
