/*
 * cc_sms.c: /api/v1/sms — the tenant's text messages, its callback secret, and the
 * provider's callbacks (/api/v1/hooks/sms/...).
 *
 * POST /sms only queues (202): the delivery job (cc_sms_job.c) calls the provider, so
 * no request thread ever waits on it.  `from` must be an active DID of the tenant, read
 * with a share lock in the insert's transaction so that a concurrent DID update or
 * delete cannot slip between the check and the commit.
 *
 * Callbacks carry no token: they are public routes that prove themselves by an
 * HMAC-SHA256 signature (cc_sms_rules.h) with the secret of the tenant they concern.
 * That tenant is read from the unverified body first (inbound: the owner of the DID
 * the message was sent to; status: the owner of the message the provider names), then
 * the signature is checked with its secret before anything is written; whatever cannot
 * be verified (no such DID or message, no secret, a bad or stale signature) is the same
 * 401.  A replayed inbound callback (same provider message id) creates nothing new.
 * Status moves sent -> delivered | failed only: a late or repeated callback is answered
 * 200 with the status as it stands and changes nothing.
 *
 * The secret is never stored: sms_settings holds a random nonce, and the secret is
 * HMAC-SHA256(CCSmsSecretKeyFile's key, tenant, nonce) (sql/014), made when a callback
 * is checked and shown once when rotated.
 */
#include <string.h>

#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "cc_api_private.h"
#include "cc_audit.h"
#include "cc_crypto.h"
#include "cc_log.h"
#include "cc_sms_rules.h"
#include "cc_validate.h"

static const char *const sms_sorts[] = { "created_at", "updated_at", NULL };
static const char *const sms_directions[] = { "inbound", "outbound", NULL };
static const char *const sms_statuses[] = { "queued", "sent", "delivered", "failed",
                                            "received", NULL };
/* What a status callback may report. */
static const char *const sms_final_statuses[] = { "delivered", "failed", NULL };

/* The nonce: 32 random bytes, URL-safe base64 (43 characters, sms_settings). */
#define SMS_NONCE_BYTES 32
/* Who the audit log names for a callback's change. */
#define SMS_PROVIDER_ACTOR "sms-provider"

/* ---- statements ---- */

/* The message object's columns, in cc_sms_cols order. */
#define SMS_COLUMNS "s.id, s.direction, s.from_number, s.to_number, s.body, s.status," \
    " s.provider_message_id, s.error, s.created_at, s.updated_at"

/* Binds 13 values: the tenant, then each filter twice (sms_filters order). */
#define SMS_FILTER                                                                 \
    " s.tenant_id = %s"                                                            \
    " AND (%s IS NULL OR s.direction = %s) AND (%s IS NULL OR s.status = %s)"      \
    " AND (%s IS NULL OR s.from_number = %s) AND (%s IS NULL OR s.to_number = %s)" \
    " AND (%s IS NULL OR s.created_at >= %s) AND (%s IS NULL OR s.created_at < %s)"

#define SMS_LIST(order)                                                            \
    "SELECT " SMS_COLUMNS ", (SELECT COUNT(*) FROM sms_messages s WHERE" SMS_FILTER \
    ") AS total FROM sms_messages s WHERE" SMS_FILTER " ORDER BY " order            \
    " LIMIT %s OFFSET %s"

/* One CC_SEARCH_SORT per whitelisted sort (sms_list_spec); ids grow with created_at. */
static const cc_stmt_t sms_stmts[] = {
    CC_SEARCH_SORT("cc_sms", "created_at", SMS_LIST, "s.id ASC", "s.id DESC"),
    CC_SEARCH_SORT("cc_sms", "updated_at", SMS_LIST, "s.updated_at ASC, s.id ASC",
                   "s.updated_at DESC, s.id DESC"),
    CC_STMT("cc_sms_search_count", "SELECT COUNT(*) FROM sms_messages s WHERE" SMS_FILTER),
    CC_STMT("cc_sms_get",
            "SELECT " SMS_COLUMNS " FROM sms_messages s WHERE s.tenant_id = %s AND s.id = %s"),
    /* Share lock: the DID stays the tenant's and active until the message commits. */
    CC_STMT("cc_sms_from_did",
            "SELECT 1 FROM dids WHERE tenant_id = %s AND number = %s AND status = 'active'"
            " LOCK IN SHARE MODE"),
    CC_STMT("cc_sms_insert_outbound",
            "INSERT INTO sms_messages (tenant_id, direction, from_number, to_number, body,"
            " status, next_attempt_at) VALUES (%s, 'outbound', %s, %s, %s, 'queued',"
            " UTC_TIMESTAMP(6)) RETURNING id"),
    CC_STMT("cc_sms_insert_inbound",
            "INSERT INTO sms_messages (tenant_id, direction, from_number, to_number, body,"
            " status, provider_message_id) VALUES (%s, 'inbound', %s, %s, %s, 'received',"
            " %s) RETURNING id"),
    CC_STMT("cc_sms_inbound_by_provider_id",
            "SELECT id FROM sms_messages WHERE tenant_id = %s AND direction = 'inbound'"
            " AND provider_message_id = %s"),
    /* A callback's tenant, before its signature can be checked (see the file comment):
     * the DID's owner, the message's owner. */
    CC_STMT("cc_sms_hook_did_tenant",
            "SELECT tenant_id FROM dids WHERE number = %s "
            "/* cc-lint: no-tenant a callback's tenant is the owner of the DID it names; "
            "its signature is then checked with that tenant's secret */"),
    CC_STMT("cc_sms_hook_message_tenant",
            "SELECT tenant_id, id FROM sms_messages"
            " WHERE direction = 'outbound' AND provider_message_id = %s "
            "/* cc-lint: no-tenant a callback's tenant is the owner of the message it "
            "names; its signature is then checked with that tenant's secret */"),
    CC_STMT("cc_sms_lock_status",
            "SELECT status FROM sms_messages WHERE tenant_id = %s AND id = %s FOR UPDATE"),
    CC_STMT("cc_sms_set_final",
            "UPDATE sms_messages SET status = %s, error = %s, updated_at = UTC_TIMESTAMP()"
            " WHERE tenant_id = %s AND id = %s AND status = 'sent'"),
    CC_STMT("cc_sms_settings_get",
            "SELECT secret_nonce, rotated_at FROM sms_settings WHERE tenant_id = %s"),
    CC_STMT("cc_sms_settings_rotate",
            "INSERT INTO sms_settings (tenant_id, secret_nonce) VALUES (%s, %s)"
            " ON DUPLICATE KEY UPDATE secret_nonce = VALUES(secret_nonce),"
            " rotated_at = UTC_TIMESTAMP()"),
    CC_STMT_END
};

/* ---- the message object ---- */

/* Also the job's (cc_sms_job.c: the event of a status change). */
const cc_col_t cc_sms_cols[] = {
    { "id", CC_COL_INT },
    { "direction", CC_COL_STR },
    { "from", CC_COL_STR },
    { "to", CC_COL_STR },
    { "body", CC_COL_STR },
    { "status", CC_COL_STR },
    { "provider_message_id", CC_COL_STR },
    { "error", CC_COL_STR },
    { "created_at", CC_COL_TIME },
    { "updated_at", CC_COL_TIME },
    CC_COL_END
};

/* GET /sms: every filter is bound (absent ones as NULL), twice each, as SMS_FILTER reads
 * them.  from/to are the time window on created_at, as on every list of the API; the
 * numbers are from_number/to_number. */
static const cc_filter_t sms_filters[] = {
    { "direction", CC_FILTER_ENUM, 2, sms_directions, 0, NULL, NULL },
    { "status", CC_FILTER_ENUM, 2, sms_statuses, 0, NULL, NULL },
    { "from_number", CC_FILTER_CHECK, 2, NULL, 0, cc_valid_e164, "must be E.164" },
    { "to_number", CC_FILTER_CHECK, 2, NULL, 0, cc_valid_e164, "must be E.164" },
    { "from", CC_FILTER_TIME, 2, NULL, 0, NULL, NULL },
    { "to", CC_FILTER_TIME, 2, NULL, 0, NULL, NULL },
    CC_FILTER_END
};

static const cc_list_t sms_list_spec = { "cc_sms", sms_sorts, "-created_at", cc_sms_cols,
                                         sms_filters, CC_LIST_SEARCH_ONLY, NULL, NULL };

static const cc_col_t sms_id_cols[] = { { "id", CC_COL_INT }, CC_COL_END };

static const cc_field_t sms_send_fields[] = {
    { "from", CC_JT_STRING, 1 },
    { "to", CC_JT_STRING, 1 },
    { "body", CC_JT_STRING, 1 },
    { NULL, 0, 0 }
};

/* ---- helpers ---- */

static const cc_sms_config_t *sms_cfg(cc_ctx_t *ctx)
{
    return &CC_API_CTX_CFG(ctx)->sms;
}

/* The feature is not set up on this server: 503, logged (the operator's fix). */
static cc_error_t *not_configured(cc_ctx_t *ctx, const char *directive)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r, CCLOGNO(03950)
                  "%s %s: no %s is configured", ctx->r->method, ctx->r->uri, directive);
    return cc_error_make(ctx->pool, HTTP_SERVICE_UNAVAILABLE, CC_ERR_UNAVAILABLE,
                         "SMS is not configured on this server");
}

/* Tenant admins: users.write and roles.manage, the pair the last-admin guard keeps. */
static cc_error_t *require_admin(cc_ctx_t *ctx)
{
    if (!cc_principal_can(ctx->principal, "users.write")
        || !cc_principal_can(ctx->principal, "roles.manage")) {
        return cc_error_make(ctx->pool, HTTP_FORBIDDEN, CC_ERR_FORBIDDEN,
                             "tenant admins only (users.write and roles.manage)");
    }
    return NULL;
}

/* ---- handlers: messages ---- */

static cc_error_t *sms_send(cc_ctx_t *ctx)
{
    const char *tenant = ctx->principal->tenant_id;
    const char *from, *to, *text, *id;
    const char **row;
    json_t *body, *ins, *msg, *changes;
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, sms_send_fields, &body))) {
        return err;
    }
    from = cc_json_str(body, "from");
    to = cc_json_str(body, "to");
    text = cc_json_str(body, "body");
    if ((err = cc_sms_send_check(ctx->pool, from, to, text))) {
        return err;
    }
    if (!sms_cfg(ctx)->url) {
        return not_configured(ctx, "CCSmsProviderURL");
    }
    {
        const char *args[2] = { tenant, from };

        if ((err = cc_db_begin(ctx->db))
            || (err = cc_db_select_row(ctx->db, "cc_sms_from_did", 2, args, &row, NULL))) {
            return err;
        }
        if (!row) {
            return cc_error_field(ctx->pool, "from", "must be an active DID of this tenant");
        }
    }
    {
        const char *args[4] = { tenant, from, to, text };

        if ((err = cc_db_select_one(ctx->db, "cc_sms_insert_outbound", sms_id_cols, 4, args,
                                    &ins))) {
            return err;
        }
    }
    if (!ins) {
        return cc_error_internal(ctx->pool);
    }
    id = cc_json_int_text(ctx->pool, ins, "id");
    if ((err = cc_fetch(ctx, "cc_sms_get", cc_sms_cols, id, &msg))) {
        return err;
    }
    /* The audit entry names the numbers, not the text. */
    changes = cc_json_object(ctx->pool);
    cc_json_set_str(changes, "from", from);
    cc_json_set_str(changes, "to", to);
    apr_table_setn(ctx->r->headers_out, "Location",
                   apr_pstrcat(ctx->pool, "/api/v1/sms/", id, NULL));
    return cc_ctx_commit(ctx, "sms", "create", id, changes, msg, HTTP_ACCEPTED, NULL);
}

/* ---- handlers: settings ---- */

static cc_error_t *sms_settings_get(cc_ctx_t *ctx)
{
    const char *args[1] = { ctx->principal->tenant_id };
    const char **row;
    json_t *out;
    cc_error_t *err;

    if ((err = require_admin(ctx))
        || (err = cc_db_select_row(ctx->db, "cc_sms_settings_get", 1, args, &row, NULL))) {
        return err;
    }
    out = cc_json_object(ctx->pool);
    json_object_set_new(out, "secret_set", json_boolean(row != NULL));
    json_object_set_new(out, "rotated_at",
                        cc_json_str_or_null(row ? cc_sql_time_to_rfc3339(ctx->pool, row[1])
                                                : NULL));
    json_object_set_new(out, "signature_tolerance",
                        json_integer(cc_sms_cfg_tolerance(sms_cfg(ctx))));
    json_object_set_new(out, "inbound_url", json_string("/api/v1/hooks/sms/inbound"));
    json_object_set_new(out, "status_url", json_string("/api/v1/hooks/sms/status"));
    return cc_reply_json(ctx, HTTP_OK, out);
}

static cc_error_t *sms_settings_rotate(cc_ctx_t *ctx)
{
    const cc_sms_config_t *c = sms_cfg(ctx);
    const char *tenant = ctx->principal->tenant_id;
    const char *nonce, **row;
    json_t *out, *changes;
    cc_error_t *err;

    if ((err = require_admin(ctx))) {
        return err;
    }
    /* rotate-secret takes no fields: no body, or an empty JSON object. */
    if ((err = cc_read_no_fields(ctx))) {
        return err;
    }
    if (!c->key) {
        return not_configured(ctx, "CCSmsSecretKeyFile");
    }
    if (cc_random_token(ctx->pool, SMS_NONCE_BYTES, &nonce) != APR_SUCCESS) {
        return cc_error_internal(ctx->pool);
    }
    {
        const char *args[2] = { tenant, nonce };
        const char *one[1] = { tenant };

        if ((err = cc_db_begin(ctx->db))
            || (err = cc_db_exec(ctx->db, "cc_sms_settings_rotate", 2, args, NULL))
            || (err = cc_db_select_row(ctx->db, "cc_sms_settings_get", 1, one, &row,
                                       NULL))) {
            return err;
        }
    }
    if (!row) {
        return cc_error_internal(ctx->pool);
    }
    changes = cc_json_object(ctx->pool);
    cc_json_set_str(changes, "secret", "rotated");       /* never the secret itself */
    if ((err = cc_ctx_record(ctx, "sms_settings", "rotate_secret", tenant, changes, NULL,
                             CC_RECORD_NO_EVENT | CC_RECORD_COMMIT))) {
        return err;
    }
    out = cc_json_object(ctx->pool);
    json_object_set_new(out, "secret",
                        json_string(cc_sms_secret(ctx->pool, c->key, c->keylen, tenant,
                                                  nonce)));
    json_object_set_new(out, "rotated_at",
                        json_string(cc_sql_time_to_rfc3339(ctx->pool, row[1])));
    return cc_reply_json(ctx, HTTP_OK, out);
}

/* ---- handlers: provider callbacks ---- */

/* What every callback that cannot be verified gets; why is logged (at info: anyone
 * may knock), never told. */
static cc_error_t *hook_unauthorized(cc_ctx_t *ctx, const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, ctx->r, CCLOGNO(03951)
                  "%s: callback refused: %s", ctx->r->uri, why);
    return cc_error_make(ctx->pool, HTTP_UNAUTHORIZED, CC_ERR_UNAUTHORIZED,
                         "the callback's signature could not be verified");
}

/* The callback's actor: the provider, from the client's address. */
static const cc_actor_t *provider_actor(cc_ctx_t *ctx)
{
    cc_actor_t *a = (cc_actor_t *)cc_ctx_actor_user(ctx, NULL);

    a->kind = CC_ACTOR_PROVIDER;
    a->id = SMS_PROVIDER_ACTOR;
    return a;
}

/*
 * Check the callback's signature with tenant's secret (tenant NULL: none was found).
 * The body is the raw bytes cc_read_json read.
 */
static cc_error_t *hook_verify(cc_ctx_t *ctx, const char *tenant)
{
    const cc_sms_config_t *c = sms_cfg(ctx);
    const char *args[1] = { tenant }, **row, *why;
    cc_error_t *err;

    if (!c->key) {
        return not_configured(ctx, "CCSmsSecretKeyFile");
    }
    if (!tenant) {
        return hook_unauthorized(ctx, "it names no DID or message of ours");
    }
    if ((err = cc_db_select_row(ctx->db, "cc_sms_settings_get", 1, args, &row, NULL))) {
        return err;
    }
    if (!row) {
        return hook_unauthorized(ctx, apr_psprintf(ctx->pool, "tenant %s has no secret",
                                                   tenant));
    }
    if (!cc_sms_verify(ctx->pool, cc_sms_secret(ctx->pool, c->key, c->keylen, tenant, row[0]),
                       apr_table_get(ctx->r->headers_in, CC_SMS_HDR_TIMESTAMP),
                       apr_table_get(ctx->r->headers_in, CC_SMS_HDR_SIGNATURE), ctx->body,
                       ctx->body_len, apr_time_sec(apr_time_now()),
                       cc_sms_cfg_tolerance(c), &why)) {
        return hook_unauthorized(ctx, apr_psprintf(ctx->pool, "tenant %s: %s", tenant, why));
    }
    return NULL;
}

/* A string field of a callback body, or NULL when absent or not a string. */
static const char *hook_str(const json_t *body, const char *key)
{
    return json_string_value(json_object_get(body, key));
}

static int valid_provider_id(const char *s)
{
    apr_size_t n = 0;

    for (; s && *s; s++, n++) {
        if (*s < 0x21 || *s > 0x7e) {
            return 0;
        }
    }
    return s && n >= 1 && n <= CC_SMS_PROVIDER_ID_MAX;
}

static cc_error_t *hook_inbound(cc_ctx_t *ctx)
{
    const char *tenant = NULL, *mid, *from, *to, *text, *id;
    const char **row;
    json_t *body, *ins, *msg;
    cc_error_t *err;

    if ((err = cc_read_json(ctx, &body))) {
        return err;
    }
    to = hook_str(body, "to");
    if (to && cc_valid_e164(to)) {
        const char *args[1] = { to };

        if ((err = cc_db_select_row(ctx->db, "cc_sms_hook_did_tenant", 1, args, &row,
                                    NULL))) {
            return err;
        }
        tenant = row ? row[0] : NULL;
    }
    if ((err = hook_verify(ctx, tenant))) {
        return err;
    }
    mid = hook_str(body, "message_id");
    from = hook_str(body, "from");
    text = hook_str(body, "body");
    err = cc_sms_send_check(ctx->pool, from, to, text);
    if (!valid_provider_id(mid)) {
        err = cc_error_collect(ctx->pool, err, "message_id",
                               "must be 1 to 128 printable ASCII characters");
    }
    if (err) {
        return err;
    }
    {
        const char *args[5] = { tenant, from, to, text, mid };

        if ((err = cc_db_begin(ctx->db))) {
            return err;
        }
        err = cc_db_select_one(ctx->db, "cc_sms_insert_inbound", sms_id_cols, 5, args, &ins);
    }
    if (err && cc_db_is_duplicate(ctx->db, err)) {
        /* A replay (or the provider's retry) of a message we have: nothing new. */
        const char *args[2] = { tenant, mid };

        cc_db_rollback(ctx->db);
        if ((err = cc_db_select_one(ctx->db, "cc_sms_inbound_by_provider_id", sms_id_cols,
                                    2, args, &ins))) {
            return err;
        }
        if (!ins) {
            /* The id is another tenant's inbound message: not this tenant's to see. */
            return cc_error_conflict(ctx->pool, "message_id is already in use");
        }
        json_object_set_new(ins, "status", json_string("received"));
        return cc_reply_json(ctx, HTTP_OK, ins);
    }
    if (err) {
        return err;
    }
    if (!ins) {
        return cc_error_internal(ctx->pool);
    }
    id = cc_json_int_text(ctx->pool, ins, "id");
    {
        const char *args[2] = { tenant, id };

        if ((err = cc_db_select_one(ctx->db, "cc_sms_get", cc_sms_cols, 2, args, &msg))) {
            return err;
        }
    }
    if (!msg) {
        return cc_error_internal(ctx->pool);
    }
    if ((err = cc_record(ctx->db, tenant, provider_actor(ctx), "sms", "receive", id, NULL, msg,
                         CC_RECORD_COMMIT))) {
        return err;
    }
    json_object_set_new(ins, "status", json_string("received"));
    return cc_reply_json(ctx, HTTP_OK, ins);
}

static cc_error_t *hook_status(cc_ctx_t *ctx)
{
    const char *tenant = NULL, *id = NULL, *mid, *status, *error;
    const char **row;
    json_t *body, *out, *msg, *changes;
    cc_error_t *err;
    int nrows = 0;

    if ((err = cc_read_json(ctx, &body))) {
        return err;
    }
    mid = hook_str(body, "message_id");
    if (valid_provider_id(mid)) {
        const char *args[1] = { mid };

        if ((err = cc_db_select_row(ctx->db, "cc_sms_hook_message_tenant", 1, args, &row,
                                    NULL))) {
            return err;
        }
        if (row) {
            tenant = row[0];
            id = row[1];
        }
    }
    if ((err = hook_verify(ctx, tenant))) {
        return err;
    }
    status = hook_str(body, "status");
    error = hook_str(body, "error");
    if (!status || !cc_valid_enum(status, sms_final_statuses)) {
        err = cc_error_collect(ctx->pool, NULL, "status", "must be delivered or failed");
    }
    if (cc_json_has(body, "error") && !json_is_null(json_object_get(body, "error"))
        && !error) {
        err = cc_error_collect(ctx->pool, err, "error", "must be a string");
    }
    if (err) {
        return err;
    }
    if (!strcmp(status, "delivered")) {
        error = NULL;
    }
    else if (error) {
        error = cc_clean_line(ctx->pool, error, strlen(error), CC_SMS_ERROR_MAX);
    }
    {
        const char *args[2] = { tenant, id };

        if ((err = cc_db_begin(ctx->db))
            || (err = cc_db_select_row(ctx->db, "cc_sms_lock_status", 2, args, &row,
                                       NULL))) {
            return err;
        }
    }
    out = cc_json_object(ctx->pool);
    json_object_set_new(out, "id", cc_json_int_or_null(id));
    if (!row || strcmp(row[0], "sent")) {
        /* Never backwards: only a sent message takes a final status. */
        cc_db_rollback(ctx->db);
        json_object_set_new(out, "status", cc_json_str_or_null(row ? row[0] : NULL));
        json_object_set_new(out, "changed", json_false());
        return cc_reply_json(ctx, HTTP_OK, out);
    }
    {
        const char *args[4] = { status, error, tenant, id };

        if ((err = cc_db_exec(ctx->db, "cc_sms_set_final", 4, args, &nrows))) {
            return err;
        }
    }
    {
        const char *args[2] = { tenant, id };

        if ((err = cc_db_select_one(ctx->db, "cc_sms_get", cc_sms_cols, 2, args, &msg))) {
            return err;
        }
    }
    changes = cc_json_object(ctx->pool);
    cc_audit_change_str(changes, "status", "sent", status);
    if ((err = cc_record(ctx->db, tenant, provider_actor(ctx), "sms", "status_change", id,
                         changes, msg, CC_RECORD_COMMIT))) {
        return err;
    }
    json_object_set_new(out, "status", json_string(status));
    json_object_set_new(out, "changed", json_true());
    return cc_reply_json(ctx, HTTP_OK, out);
}

/* Path order does not matter: captures never shadow literals (cc_route_match). */
static const cc_route_t sms_routes[] = {
    { "GET", "/api/v1/sms", cc_handle_list, "sms.read", CC_ROUTE_AUTH },
    { "POST", "/api/v1/sms", sms_send, "sms.send", CC_ROUTE_AUTH },
    { "GET", "/api/v1/sms/{id:int}", cc_handle_get, "sms.read", CC_ROUTE_AUTH },
    { "GET", "/api/v1/sms/settings", sms_settings_get, "roles.manage", CC_ROUTE_AUTH },
    { "POST", "/api/v1/sms/settings/rotate-secret", sms_settings_rotate, "roles.manage",
      CC_ROUTE_AUTH | CC_ROUTE_SECRET },
    { "POST", "/api/v1/hooks/sms/inbound", hook_inbound, NULL, CC_ROUTE_PUBLIC },
    { "POST", "/api/v1/hooks/sms/status", hook_status, NULL, CC_ROUTE_PUBLIC },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_sms_domain = { "sms", sms_routes, sms_stmts, &sms_list_spec,
                                    "cc_sms_get", cc_sms_cols };
