/*
 * cc_audit.c (glue): recording a change, its audit entry and its event.  Both run on the
 * caller's connection so they share its transaction: a mutation, its audit entry and
 * its event commit or roll back together.
 */
#include <string.h>

#include <httpd.h>
#include <http_log.h>
#include <apr_strings.h>

#include "cc_audit.h"
#include "cc_log.h"
#include "cc_validate.h"

#define CC_UA_MAX 512

/* Order of statements: none; labels are unique project-wide. */
/* Binds the tenant id and the mask twice (cc_admin_guard_*). */
#define ADMIN_ANY_SQL                                                                     \
    "SELECT u.id FROM users u"                                                            \
    " JOIN user_roles ur ON ur.tenant_id = u.tenant_id AND ur.user_id = u.id"             \
    " JOIN roles r ON r.tenant_id = ur.tenant_id AND r.id = ur.role_id"                   \
    " WHERE u.tenant_id = %s AND u.deleted_at IS NULL AND u.status = 'active'"            \
    " GROUP BY u.id"                                                                      \
    " HAVING (BIT_OR(r.permissions + 0) & CAST(%s AS UNSIGNED)) = CAST(%s AS UNSIGNED)"   \
    " LIMIT 1"

const cc_stmt_t cc_shared_stmts[] = {
    /* The audit entry, the event, a DID count and the commit, as cc_record's what says
     * (sql/024): one round trip. */
    CC_STMT("cc_audit_record", "CALL cc_record(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
                         " %s, %s, %s, %s, %s)"),
    /* Transactions as statements (cc_db_begin/commit/rollback): two round trips where
     * apr_dbd's transaction API takes three (autocommit off, commit, autocommit on). */
    /* An active user of the tenant whose roles together grant the mask (users.write and
     * roles.manage: who can repair the tenant).  The _locked form share-locks the rows
     * it reads, so it waits for (and then sees) a concurrent change to them. */
    CC_STMT("cc_admin_any", ADMIN_ANY_SQL),
    CC_STMT("cc_admin_any_locked", ADMIN_ANY_SQL " LOCK IN SHARE MODE"),
    CC_STMT("cc_txn_begin", "START TRANSACTION"),
    /* The next transaction's reads take shared locks (an If-Match check, cc_http.c). */
    CC_STMT("cc_txn_serializable", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"),
    CC_STMT("cc_txn_commit", "COMMIT"),
    CC_STMT("cc_txn_rollback", "ROLLBACK"),
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

static const char *const actor_types[] = { "user", "system", "visitor", "provider" };

const cc_actor_t cc_actor_system = { CC_ACTOR_SYSTEM, NULL, NULL, NULL, NULL, NULL };

const cc_actor_t *cc_ctx_actor_user(cc_ctx_t *ctx, const char *user_id)
{
    cc_actor_t *a = apr_pcalloc(ctx->pool, sizeof(*a));
    request_rec *r = ctx->r;

    a->kind = CC_ACTOR_USER;
    a->id = user_id;
    a->ip = cc_client_ip(r);
    a->user_agent = clean_user_agent(r->pool, apr_table_get(r->headers_in, "User-Agent"));
    a->request_id = ctx->request_id ? ctx->request_id : cc_request_id(r);
    return a;
}

cc_actor_t *cc_ctx_actor_visitor(cc_ctx_t *ctx, const char *session_id)
{
    cc_actor_t *a = (cc_actor_t *)cc_ctx_actor_user(ctx, session_id);

    a->kind = CC_ACTOR_VISITOR;
    return a;
}

const cc_actor_t *cc_ctx_actor(cc_ctx_t *ctx)
{
    const cc_principal_t *pr = ctx->principal;
    cc_actor_t *a = (cc_actor_t *)cc_ctx_actor_user(ctx, pr ? pr->user_id_str : NULL);

    if (pr) {
        a->email = pr->email;
    }
    return a;
}

cc_error_t *cc_record(cc_db_t *db, const char *tenant_id, const cc_actor_t *actor,
                      const char *entity, const char *verb, const char *entity_id,
                      const json_t *changes, const json_t *data, int what)
{
    const char *action, *event, *args[17];
    int audit = !(what & CC_RECORD_NO_AUDIT);

    cc_change_names(db->pool, entity, verb, &action, &event);
    if (what & CC_RECORD_TYPE_IS_ACTION) {
        event = action;
    }
    args[0] = tenant_id;
    args[1] = audit ? "1" : "0";
    args[2] = actor_types[actor->kind];
    args[3] = actor->kind == CC_ACTOR_USER ? NULL : actor->id;
    args[4] = actor->kind == CC_ACTOR_USER ? actor->id : NULL;
    /* Without the email at hand (login, refresh, logout) it is looked up. */
    args[5] = actor->email;
    args[6] = action;
    args[7] = entity;
    args[8] = entity_id;
    args[9] = audit && changes ? cc_json_dump(db->pool, changes) : NULL;
    args[10] = actor->ip;
    args[11] = actor->user_agent;
    args[12] = actor->request_id;
    args[13] = what & CC_RECORD_NO_EVENT ? NULL : event;
    args[14] = !(what & CC_RECORD_NO_EVENT) && data ? cc_json_dump(db->pool, data) : NULL;
    args[15] = what & CC_RECORD_DIDS_ADD ? "1" : what & CC_RECORD_DIDS_REMOVE ? "-1" : "0";
    args[16] = what & CC_RECORD_COMMIT ? "1" : "0";
    return what & CC_RECORD_COMMIT ? cc_db_commit_by(db, "cc_audit_record", 17, args)
                                   : cc_db_exec(db, "cc_audit_record", 17, args, NULL);
}

typedef struct principals_changed_t {
    server_rec *s;
    const char *tenant_id;
} principals_changed_t;

static void principals_changed_now(void *baton)
{
    const principals_changed_t *pc = baton;
    APR_OPTIONAL_FN_TYPE(cc_tenant_principals_changed) *fn =
        APR_RETRIEVE_OPTIONAL_FN(cc_tenant_principals_changed);

    if (fn) {
        fn(pc->s, pc->tenant_id);
    }
}

void cc_ctx_principals_changed(cc_ctx_t *ctx, const char *tenant_id)
{
    principals_changed_t *pc = apr_palloc(ctx->pool, sizeof(*pc));

    pc->s = ctx->r->server;
    pc->tenant_id = apr_pstrdup(ctx->pool, tenant_id);
    cc_db_after_commit(ctx->db, principals_changed_now, pc);
}

/* Is there an admin in the principal's tenant (label: plain or locked)? */
static cc_error_t *admin_any(cc_ctx_t *ctx, const char *label, int *pany)
{
    const char *mask = apr_psprintf(ctx->pool, "%" APR_UINT64_T_FMT,
                                    (apr_uint64_t)(cc_perm_bit("users.write")
                                                   | cc_perm_bit("roles.manage")));
    const char *args[3] = { ctx->principal->tenant_id, mask, mask };
    const char **row = NULL;
    cc_error_t *err = cc_db_select_row(ctx->db, label, 3, args, &row, NULL);

    *pany = row != NULL;
    return err;
}

cc_error_t *cc_admin_guard_before(cc_ctx_t *ctx, int *phad)
{
    return admin_any(ctx, "cc_admin_any", phad);
}

cc_error_t *cc_admin_guard_after(cc_ctx_t *ctx, int had)
{
    int any = 0;
    cc_error_t *err = NULL;

    if (!had || (err = admin_any(ctx, "cc_admin_any_locked", &any)) != NULL || any) {
        return had ? err : NULL;
    }
    return cc_error_conflict(ctx->pool, "this change would leave the tenant without an "
                             "active user holding users.write and roles.manage");
}

cc_error_t *cc_ctx_record(cc_ctx_t *ctx, const char *entity, const char *verb,
                          const char *entity_id, const json_t *changes,
                          const json_t *data, int what)
{
    if (!ctx->principal) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r, CCLOGNO(00106)
                      "%s.%s recorded without a principal (a bug)", entity, verb);
        return cc_error_internal(ctx->pool);
    }
    return cc_record(ctx->db, ctx->principal->tenant_id, cc_ctx_actor(ctx), entity, verb,
                     entity_id, changes, data, what);
}

cc_error_t *cc_ctx_commit(cc_ctx_t *ctx, const char *entity, const char *verb,
                          const char *entity_id, const json_t *changes, const json_t *obj,
                          int status, const char *location)
{
    cc_error_t *err;

    if ((err = cc_ctx_record(ctx, entity, verb, entity_id, changes, obj,
                             CC_RECORD_BOTH | CC_RECORD_COMMIT))) {
        return err;
    }
    if (status == HTTP_NO_CONTENT) {
        return cc_reply_no_content(ctx);
    }
    return location ? cc_reply_created(ctx, location, obj) : cc_reply_json(ctx, status, obj);
}

cc_error_t *cc_ctx_commit_delete(cc_ctx_t *ctx, const char *entity, const char *entity_id,
                                 const json_t *obj, const char *const *drop)
{
    return cc_ctx_commit(ctx, entity, "delete", entity_id, cc_json_without(ctx->pool, obj, drop),
                         obj, HTTP_NO_CONTENT, NULL);
}
