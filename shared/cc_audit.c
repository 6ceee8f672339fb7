/*
 * cc_audit.c (glue): the audit writer and the event appender.  Both run on the request's
 * connection so they share the caller's transaction: a mutation and its audit entry
 * commit or roll back together.
 */
#include <string.h>

#include <httpd.h>
#include <apr_strings.h>

#include "cc_audit.h"
#include "cc_validate.h"

#define CC_UA_MAX 512

/* Order of statements: none; labels are unique project-wide. */
const cc_stmt_t cc_shared_stmts[] = {
    CC_STMT("cc_audit_insert",
            "INSERT INTO audit_logs (tenant_id, actor_id, actor_email, action, entity_type,"
            " entity_id, changes, ip, user_agent, request_id)"
            " VALUES (%s, %s, COALESCE(%s, (SELECT u.email FROM users u"
            " WHERE u.tenant_id = %s AND u.id = %s)), %s, %s, %s, %s, %s, %s, %s)"),
    /* Transactions as statements (cc_db_begin/cc_db_end): two round trips where
     * apr_dbd's transaction API takes three (autocommit off, commit, autocommit on). */
    CC_STMT("cc_txn_begin", "START TRANSACTION"),
    CC_STMT("cc_txn_commit", "COMMIT"),
    CC_STMT("cc_txn_rollback", "ROLLBACK"),
    CC_STMT("cc_events_insert",
            "INSERT INTO events (tenant_id, type, entity_type, entity_id, data)"
            " VALUES (%s, %s, %s, %s, %s)"),
    CC_STMT_END
};

/* Headers are bytes, the column is utf8mb4: a hostile User-Agent must not fail the
 * mutation it rides on, so keep it valid UTF-8 and within the column. */
static const char *clean_user_agent(apr_pool_t *p, const char *ua)
{
    apr_size_t len, i;
    char *out;

    if (!ua) {
        return NULL;
    }
    len = strlen(ua);
    if (len <= CC_UA_MAX && cc_valid_text(ua, 0, CC_UA_MAX)) {
        return ua;
    }
    if (len > CC_UA_MAX) {
        len = CC_UA_MAX;
    }
    out = apr_pstrmemdup(p, ua, len);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)out[i];

        if (c >= 0x80 || c < 0x20 || c == 0x7f) {
            out[i] = '?';
        }
    }
    return out;
}

/* Dump and release changes (stolen). */
static const char *dump_owned(apr_pool_t *p, json_t *j)
{
    const char *text = NULL;

    if (j) {
        text = cc_json_dump(p, j);
        json_decref(j);
    }
    return text;
}

cc_error_t *cc_audit_as(cc_ctx_t *ctx, const char *tenant_id, const char *actor_id,
                        const char *action, const char *entity_type,
                        const char *entity_id, json_t *changes)
{
    request_rec *r = ctx->r;
    const char *actor_email = NULL;
    const char *args[12];

    if (ctx->principal && actor_id && ctx->principal->user_id_str
        && !strcmp(actor_id, ctx->principal->user_id_str)) {
        actor_email = ctx->principal->email;
    }
    args[0] = tenant_id;
    args[1] = actor_id;
    /* Without a principal (login, refresh, logout) the actor's email is looked up. */
    args[2] = actor_email;
    args[3] = tenant_id;
    args[4] = actor_id;
    args[5] = action;
    args[6] = entity_type;
    args[7] = entity_id;
    args[8] = dump_owned(r->pool, changes);
    args[9] = cc_client_ip(r);
    args[10] = clean_user_agent(r->pool, apr_table_get(r->headers_in, "User-Agent"));
    args[11] = ctx->request_id ? ctx->request_id : cc_request_id(r);
    return cc_db_exec(ctx, "cc_audit_insert", 12, args, NULL);
}

cc_error_t *cc_audit(cc_ctx_t *ctx, const char *action, const char *entity_type,
                     const char *entity_id, json_t *changes)
{
    const cc_principal_t *pr = ctx->principal;

    if (!pr) {
        json_decref(changes);
        return cc_error_internal(ctx->r->pool);
    }
    return cc_audit_as(ctx, pr->tenant_id, pr->user_id_str, action, entity_type, entity_id,
                       changes);
}

void cc_audit_change(json_t *changes, const char *field, json_t *from, json_t *to)
{
    json_object_set_new(changes, field,
                        json_pack("{s:o,s:o}", "from", from ? from : json_null(),
                                  "to", to ? to : json_null()));
}

void cc_audit_change_str(json_t *changes, const char *field, const char *from,
                         const char *to)
{
    if (to && (!from || strcmp(from, to))) {
        cc_audit_change(changes, field, from ? json_string(from) : NULL, json_string(to));
    }
}

cc_error_t *cc_event(cc_ctx_t *ctx, const char *type, const char *entity_type,
                     const char *entity_id, json_t *data)
{
    const char *args[5];

    if (!ctx->principal) {
        json_decref(data);
        return cc_error_internal(ctx->r->pool);
    }
    args[0] = ctx->principal->tenant_id;
    args[1] = type;
    args[2] = entity_type;
    args[3] = entity_id;
    args[4] = dump_owned(ctx->r->pool, data);
    return cc_db_exec(ctx, "cc_events_insert", 5, args, NULL);
}
