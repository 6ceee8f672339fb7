/*
 * cc_endpoints.c: /api/v1/endpoints — the tenant's PJSIP extensions.
 *
 * An endpoint is our side row (endpoints: tenant, extension, the Asterisk id, user,
 * webrtc flag) plus the three realtime rows Asterisk reads, all with the same id
 * "<tenant key>-<extension>" (shared/cc_asterisk.h): ps_endpoints, ps_auths and ps_aors.
 * What Asterisk reads lives only in those rows (codecs in ps_endpoints.allow,
 * max_contacts in ps_aors); the API object joins them to the side row.  Every write
 * touches the side row and the realtime rows in one transaction, so Asterisk never sees
 * half an endpoint: a duplicate on any realtime id (a stray row left by hand) rolls the
 * whole create back.
 *
 * An endpoint created while its tenant is not active (a platform admin acting in a
 * suspended tenant) is created shut, as the suspension left the others: ps_endpoints.deny
 * denies every address (CC_AST_DENY_ALL) and the side row says so (suspended, nothing
 * else to restore); mod_cc_tenant's reactivation opens it with the rest.  The create
 * share-locks the tenant row before writing, so a concurrent status change (which
 * locks that row first) either sees the new endpoint or is seen by it.
 *
 * The SIP password is written to ps_auths only: never read back, audited, announced or
 * logged.  A generated one is returned once, in the create response.  The pure rules
 * (body checks, defaults, merge, diff): cc_endpoints_rules.c.
 */
#include <string.h>

#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "cc_api_private.h"
#include "cc_endpoints_rules.h"
#include "cc_asterisk.h"
#include "cc_audit.h"
#include "cc_log.h"
#include "cc_page.h"
#include "cc_sql.h"
#include "cc_validate.h"

#define CC_Q_MAX            200

/* The queue members of an endpoint show its user: they change with it. */
#define MEMBER_UPDATED       "update"   /* queue_member.updated */

static const char *const endpoint_sorts[] = { "extension", "created_at", NULL };

/* ---- statements ---- */

/* The endpoint object's columns (endpoint_cols order): the side row joined to its
 * realtime rows.  LEFT JOINs: an endpoint whose realtime rows were removed by hand
 * still lists (with nulls) and can be deleted.  ps_endpoints carries the tenant in
 * tenantid (written by the create), so its join is scoped by it too. */
#define EP_COLUMNS                                                                 \
    "e.id, e.extension, e.asterisk_id, e.user_id, pe.context, pe.allow,"          \
    " pa.max_contacts, e.webrtc, e.created_at, e.updated_at"
#define EP_FROM                                                                    \
    " FROM endpoints e"                                                            \
    " LEFT JOIN ps_endpoints pe ON pe.id = e.asterisk_id AND pe.tenantid = e.tenant_id" \
    " LEFT JOIN ps_aors pa ON pa.id = e.asterisk_id"

/* Filters bind 5 values: tenant, user_id x2, q x2. */
#define EP_FILTER                                                                  \
    " e.tenant_id = %s"                                                            \
    " AND (%s IS NULL OR e.user_id = %s)"                                          \
    " AND (%s IS NULL OR e.extension LIKE %s)"

/* No per-tenant counter exists for endpoints: the unfiltered total is an index-only
 * COUNT over (tenant_id, extension). */
#define EP_LIST(order)                                                             \
    "SELECT " EP_COLUMNS ","                                                       \
    " (SELECT COUNT(*) FROM endpoints c WHERE c.tenant_id = %s) AS total"          \
    EP_FROM " WHERE e.tenant_id = %s ORDER BY " order " LIMIT %s OFFSET %s"

#define EP_SEARCH(order)                                                           \
    "SELECT " EP_COLUMNS ", (SELECT COUNT(*) FROM endpoints e WHERE" EP_FILTER ") AS total" \
    EP_FROM " WHERE" EP_FILTER " ORDER BY " order " LIMIT %s OFFSET %s"

/* The realtime statements that reach ps_endpoints by its primary key alone. */
#define EP_RT_BY_ID                                                                \
    " /* cc-lint: no-tenant by the platform-unique, tenant-prefixed asterisk_id read" \
    " from the tenant's endpoints row in this transaction */"

/* One CC_LIST_SORT per whitelisted sort (endpoints_list_spec); extensions are unique in the
 * tenant, so they need no id tie-breaker (their order is text order: "1001" < "200"). */
static const cc_stmt_t endpoints_stmts[] = {
    CC_LIST_SORT("cc_endpoints", "extension", EP_LIST, EP_SEARCH, "e.extension ASC",
                 "e.extension DESC"),
    CC_LIST_SORT("cc_endpoints", "created_at", EP_LIST, EP_SEARCH,
                 "e.created_at ASC, e.id ASC", "e.created_at DESC, e.id DESC"),
    CC_STMT("cc_endpoints_count", "SELECT COUNT(*) FROM endpoints WHERE tenant_id = %s"),
    CC_STMT("cc_endpoints_search_count", "SELECT COUNT(*) FROM endpoints e WHERE" EP_FILTER),
    CC_STMT("cc_endpoints_get",
            "SELECT " EP_COLUMNS EP_FROM " WHERE e.tenant_id = %s AND e.id = %s"),
    /* Delete: the object as it was, its rows locked until the commit. */
    CC_STMT("cc_endpoints_get_locked",
            "SELECT " EP_COLUMNS EP_FROM " WHERE e.tenant_id = %s AND e.id = %s FOR UPDATE"),
    /* Update: what a patch is merged with (and compared to), locked. */
    CC_STMT("cc_endpoints_lock",
            "SELECT e.extension, e.asterisk_id, e.user_id, e.webrtc, pe.allow,"
            " pa.max_contacts" EP_FROM " WHERE e.tenant_id = %s AND e.id = %s FOR UPDATE"),
    CC_STMT("cc_endpoints_sip_id",
            "SELECT asterisk_id FROM endpoints WHERE tenant_id = %s AND id = %s"),
    /* A live user of the tenant, and the name the caller id and queue member carry.
     * The share lock keeps the user from being deleted until the commit. */
    CC_STMT("cc_endpoints_user",
            "SELECT u.name FROM users u WHERE u.tenant_id = %s AND u.id = %s"
            " AND u.deleted_at IS NULL LOCK IN SHARE MODE"),
    /* The extension's voicemail box, when it has one (voicemail rows are keyed by the
     * tenant's context). */
    CC_STMT("cc_endpoints_mailbox",
            "SELECT 1 FROM voicemail WHERE context = %s AND mailbox = %s"),
    /* A locking read: it sees DIDs committed while this delete waited for its lock (a
     * plain read would answer from the transaction's older snapshot). */
    CC_STMT("cc_endpoints_did_routes",
            "SELECT 1 FROM dids WHERE tenant_id = %s AND destination_type = 'endpoint'"
            " AND destination_id = %s LIMIT 1 LOCK IN SHARE MODE"),
    /* The tenant's status, share-locked until the commit (see the file comment).  Taken
     * after the user's share lock: a user delete locks the user, then the tenant row. */
    CC_STMT("cc_endpoints_tenant_status",
            "SELECT status FROM tenants WHERE id = %s LOCK IN SHARE MODE"),
    CC_STMT("cc_endpoints_insert",
            "INSERT INTO endpoints (tenant_id, extension, asterisk_id, user_id, webrtc,"
            " suspended) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id"),
    /* The webrtc columns (9) come last, from webrtc_on / webrtc_off; deny is NULL, or
     * CC_AST_DENY_ALL in a tenant that is not active. */
    CC_STMT("cc_endpoints_rt_insert_endpoint",
            "INSERT INTO ps_endpoints (id, transport, aors, auth, context, disallow, allow,"
            " direct_media, rewrite_contact, rtp_symmetric, force_rport, dtmf_mode,"
            " callerid, accountcode, tenantid, mailboxes, deny,"
            " webrtc, use_avpf, media_encryption, dtls_auto_generate_cert, dtls_verify,"
            " dtls_setup, ice_support, rtcp_mux, media_use_received_transport)"
            " VALUES (%s, NULL, %s, %s, %s, 'all', %s, 'no', 'yes', 'yes', 'yes', 'rfc4733',"
            " %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"),
    CC_STMT("cc_endpoints_rt_insert_auth",
            "INSERT INTO ps_auths (id, auth_type, username, password)"
            " VALUES (%s, 'userpass', %s, %s)"),
    CC_STMT("cc_endpoints_rt_insert_aor",
            "INSERT INTO ps_aors (id, max_contacts, remove_existing, qualify_frequency,"
            " mailboxes) VALUES (%s, %s, 'yes', 60, %s)"),
    CC_STMT("cc_endpoints_update",
            "UPDATE endpoints SET user_id = %s, webrtc = %s, updated_at = UTC_TIMESTAMP()"
            " WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_endpoints_rt_update_endpoint",
            "UPDATE ps_endpoints SET allow = %s,"
            " webrtc = %s, use_avpf = %s, media_encryption = %s,"
            " dtls_auto_generate_cert = %s, dtls_verify = %s, dtls_setup = %s,"
            " ice_support = %s, rtcp_mux = %s, media_use_received_transport = %s"
            " WHERE id = %s" EP_RT_BY_ID),
    CC_STMT("cc_endpoints_rt_update_callerid",
            "UPDATE ps_endpoints SET callerid = %s WHERE id = %s" EP_RT_BY_ID),
    CC_STMT("cc_endpoints_rt_update_aor",
            "UPDATE ps_aors SET max_contacts = %s WHERE id = %s"),
    /* The endpoints of a user (cc_endpoints_follow_user).  A plain read, then each row
     * locked by its primary key: a locking read through the user_id index would lock
     * index entries before rows, the opposite of a PATCH or DELETE of the endpoint (row,
     * then its index entries), and the two deadlocked.  The plain read is fresh enough:
     * the caller holds the user's row lock and took it before its first plain read, and
     * whoever points an endpoint at the user share-locks that row first. */
    CC_STMT("cc_endpoints_of_user",
            "SELECT id, extension, asterisk_id FROM endpoints WHERE tenant_id = %s"
            " AND user_id = %s ORDER BY id"),
    CC_STMT("cc_endpoints_lock_of_user",
            "SELECT 1 FROM endpoints WHERE tenant_id = %s AND id = %s AND user_id = %s"
            " FOR UPDATE"),
    CC_STMT("cc_endpoints_unlink_user",
            "UPDATE endpoints SET user_id = NULL, updated_at = UTC_TIMESTAMP()"
            " WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_endpoints_rt_update_membername",
            "UPDATE queue_members SET membername = %s WHERE interface = %s"),
    CC_STMT("cc_endpoints_rt_delete_members",
            "DELETE FROM queue_members WHERE interface = %s"),
    CC_STMT("cc_endpoints_delete_members",
            "DELETE FROM call_queue_members WHERE tenant_id = %s AND endpoint_id = %s"),
    /* A contact's id is "<aor>;@<hash>" (our AOR id is the endpoint's); its endpoint
     * column is filled only by Asterisks that know the endpoint at registration, so
     * match either (contacts_pattern() builds the LIKE). */
    CC_STMT("cc_endpoints_rt_delete_contacts",
            "DELETE FROM ps_contacts WHERE endpoint = %s OR id LIKE %s"),
    CC_STMT("cc_endpoints_rt_delete_auth", "DELETE FROM ps_auths WHERE id = %s"),
    CC_STMT("cc_endpoints_rt_delete_aor", "DELETE FROM ps_aors WHERE id = %s"),
    CC_STMT("cc_endpoints_rt_delete_endpoint",
            "DELETE FROM ps_endpoints WHERE id = %s" EP_RT_BY_ID),
    CC_STMT("cc_endpoints_delete",
            "DELETE FROM endpoints WHERE tenant_id = %s AND id = %s"),
    /* Live registrations only; expiration_time is epoch seconds (Asterisk's clock). */
    CC_STMT("cc_endpoints_contacts",
            "SELECT uri, user_agent, expiration_time, via_addr FROM ps_contacts"
            " WHERE (endpoint = %s OR id LIKE %s) AND expiration_time > UNIX_TIMESTAMP()"
            " ORDER BY expiration_time DESC, id"),
    CC_STMT_END
};

/* ---- the endpoint object ---- */

static const cc_col_t endpoint_cols[] = {
    { "id", CC_COL_INT },
    { CC_KEY_EXTENSION, CC_COL_STR },
    { CC_KEY_SIP_USERNAME, CC_COL_STR },
    { CC_KEY_USER_ID, CC_COL_INT },
    { CC_KEY_CONTEXT, CC_COL_STR },
    { CC_KEY_ALLOW, CC_COL_STR },
    { CC_KEY_MAX_CONTACTS, CC_COL_INT },
    { CC_KEY_WEBRTC, CC_COL_BOOL },
    { "created_at", CC_COL_TIME },
    { "updated_at", CC_COL_TIME },
    CC_COL_END
};

/* Rows Asterisk writes (res_pjsip's realtime contacts, encoded as it encodes them:
 * "...^3Btransport=ws"): decoded for the API. */
static const cc_col_t contact_cols[] = {
    { "uri", CC_COL_AST },
    { "user_agent", CC_COL_AST },
    { "expiration_time", CC_COL_INT },   /* epoch seconds; RFC 3339 in contacts_json() */
    { "via_addr", CC_COL_AST },
    CC_COL_END
};

/* The ps_endpoints columns that make a WebRTC endpoint (cc_endpoints_rt_* order):
 * webrtc, use_avpf, media_encryption, dtls_auto_generate_cert, dtls_verify, dtls_setup,
 * ice_support, rtcp_mux, media_use_received_transport.  Off: NULL (Asterisk's default)
 * but webrtc itself, which says 'no' outright. */
#define WEBRTC_NCOLS 9
static const char *const webrtc_on[WEBRTC_NCOLS] = {
    "yes", "yes", "dtls", "yes", "fingerprint", "actpass", "yes", "yes", "yes"
};
static const char *const webrtc_off[WEBRTC_NCOLS] = {
    "no", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
};

/* ---- request bodies ---- */

static const cc_field_t endpoint_create_fields[] = {
    { CC_KEY_EXTENSION, CC_JT_STRING, 1 },
    { CC_KEY_USER_ID, CC_JT_INT_NULL, 0 },
    { CC_KEY_PASSWORD, CC_JT_STRING, 0 },
    { CC_KEY_ALLOW, CC_JT_STRING, 0 },
    { CC_KEY_MAX_CONTACTS, CC_JT_INT, 0 },
    { CC_KEY_WEBRTC, CC_JT_BOOL, 0 },
    { NULL, 0, 0 }
};

static const cc_field_t endpoint_patch_fields[] = {
    { CC_KEY_USER_ID, CC_JT_INT_NULL, 0 },
    { CC_KEY_ALLOW, CC_JT_STRING, 0 },
    { CC_KEY_MAX_CONTACTS, CC_JT_INT, 0 },
    { CC_KEY_WEBRTC, CC_JT_BOOL, 0 },
    { NULL, 0, 0 }
};

/* ---- helpers ---- */

/* What a create or delete audits: the object without its bookkeeping columns. */
static const char *const endpoint_audit_drop[] = { "id", "created_at", "updated_at", NULL };

/*
 * A LIKE pattern for the ids of an AOR's contacts, "<aor>;@<anything>".  Our ids are
 * [a-z0-9_-], and '_' is a LIKE wildcard, so escape (backslash is MariaDB's default LIKE
 * escape) rather than rely on the id's alphabet.
 */
static const char *contacts_pattern(apr_pool_t *p, const char *aor)
{
    char *out = apr_palloc(p, 2 * strlen(aor) + 4), *o = out;

    for (; *aor; aor++) {
        if (*aor == '\\' || *aor == '%' || *aor == '_') {
            *o++ = '\\';
        }
        *o++ = *aor;
    }
    memcpy(o, ";@%", 4);
    return out;
}

/* The user's name when user_id names a live user of the tenant (NULL user_id: none);
 * else 400 on user_id (API.md: a reference outside the caller's tenant). */
static cc_error_t *user_name(cc_ctx_t *ctx, const char *user_id, const char **pname)
{
    const char *args[2] = { ctx->principal->tenant_id, user_id };
    const char **row;
    cc_error_t *err;

    *pname = NULL;
    if (!user_id) {
        return NULL;
    }
    if ((err = cc_db_select_row(ctx->db, "cc_endpoints_user", 2, args, &row, NULL))) {
        return err;
    }
    if (!row) {
        return cc_error_field(ctx->pool, CC_KEY_USER_ID, "no such user in this tenant");
    }
    *pname = row[0];
    return NULL;
}

/* "<ext>@tenant-<key>" when the extension has a voicemail box, else NULL. */
static cc_error_t *mailbox_of(cc_ctx_t *ctx, const char *extension, const char **pmailbox)
{
    apr_pool_t *p = ctx->pool;
    const char *slug = ctx->principal->tenant_slug;
    const char *args[2] = { cc_ast_context(p, slug), extension };
    const char **row;
    cc_error_t *err = cc_db_select_row(ctx->db, "cc_endpoints_mailbox", 2, args, &row, NULL);

    *pmailbox = (!err && row) ? cc_ast_mailbox(p, slug, extension) : NULL;
    return err;
}

/* *pshut: the tenant is not active (its endpoints are shut); its row is share-locked
 * until the commit. */
static cc_error_t *tenant_shut(cc_ctx_t *ctx, int *pshut)
{
    const char *args[1] = { ctx->principal->tenant_id };
    const char **row;
    cc_error_t *err = cc_db_select_row(ctx->db, "cc_endpoints_tenant_status", 1, args, &row,
                                       NULL);

    if (err) {
        return err;
    }
    if (!row || !row[0]) {
        return cc_error_internal(ctx->pool);   /* the principal's tenant exists */
    }
    *pshut = strcmp(row[0], "active") != 0;
    return NULL;
}

/* The endpoint as an object owned by r->pool; 404 when none. */
static cc_error_t *fetch_endpoint(cc_ctx_t *ctx, const char *label, const char *id,
                                  json_t **pobj)
{
    return cc_fetch(ctx, label, endpoint_cols, id, pobj);
}

/* A duplicate on the side row is the extension being taken in the tenant (its
 * Asterisk id follows from it); one on a realtime row is a stray row with our id. */
static cc_error_t *extension_conflict(cc_ctx_t *ctx, cc_error_t *err, int realtime)
{
    return cc_db_duplicate(ctx->db, err, CC_KEY_EXTENSION, "already in use",
                           realtime ? "the extension's SIP id is already in use in Asterisk"
                                    : "this extension already exists");
}

/* The create's statements after the side row: ps_endpoints (shut when the tenant is
 * not active), ps_auths, ps_aors. */
static cc_error_t *insert_realtime(cc_ctx_t *ctx, const char *sip_id, const char *extension,
                                   const ep_values_t *v, const char *name,
                                   const char *password, int shut)
{
    apr_pool_t *p = ctx->pool;
    const char *slug = ctx->principal->tenant_slug;
    const char *const *w = v->webrtc ? webrtc_on : webrtc_off;
    const char *ep[10 + WEBRTC_NCOLS], *auth[3], *aor[3], *mailbox;
    cc_error_t *err;
    int i;

    if ((err = mailbox_of(ctx, extension, &mailbox))) {
        return err;
    }
    ep[0] = sip_id;                                  /* id */
    ep[1] = sip_id;                                  /* aors */
    ep[2] = sip_id;                                  /* auth */
    ep[3] = cc_ast_context(p, slug);
    ep[4] = v->allow;
    ep[5] = cc_ast_callerid(p, name, extension);
    ep[6] = ctx->principal->tenant_id;               /* accountcode */
    ep[7] = ctx->principal->tenant_id;               /* tenantid */
    ep[8] = mailbox;
    ep[9] = shut ? CC_AST_DENY_ALL : NULL;           /* deny */
    for (i = 0; i < WEBRTC_NCOLS; i++) {
        ep[10 + i] = w[i];
    }
    auth[0] = sip_id;
    auth[1] = sip_id;                                /* username */
    auth[2] = password;
    aor[0] = sip_id;
    aor[1] = v->max_contacts;
    aor[2] = mailbox;
    if ((err = cc_db_exec(ctx->db, "cc_endpoints_rt_insert_endpoint", 10 + WEBRTC_NCOLS, ep,
                          NULL))
        || (err = cc_db_exec(ctx->db, "cc_endpoints_rt_insert_auth", 3, auth, NULL))
        || (err = cc_db_exec(ctx->db, "cc_endpoints_rt_insert_aor", 3, aor, NULL))) {
        return extension_conflict(ctx, err, 1);
    }
    return NULL;
}

/* ---- locked reads for update and delete ---- */

typedef struct ep_locked_t {
    const char *extension;
    const char *sip_id;
    ep_values_t v;
} ep_locked_t;

/* The locked row's values; 404 when the tenant has no such endpoint. */
static cc_error_t *lock_endpoint(cc_ctx_t *ctx, const char *id, ep_locked_t *cur)
{
    const char *args[2] = { ctx->principal->tenant_id, id };
    const char **row;
    cc_error_t *err;

    memset(cur, 0, sizeof(*cur));
    if ((err = cc_db_select_row(ctx->db, "cc_endpoints_lock", 2, args, &row, NULL))) {
        return err;
    }
    if (!row) {
        return cc_error_not_found(ctx->pool);
    }
    cur->extension = row[0];
    cur->sip_id = row[1];
    cur->v.user_id = row[2];
    cur->v.webrtc = row[3] && row[3][0] == '1';
    cur->v.allow = row[4];
    cur->v.max_contacts = row[5];
    return NULL;
}

/* What Asterisk shows of the endpoint's user: the caller id and the queue member name
 * (the user's name, or the extension when the endpoint has no user). */
static cc_error_t *show_user(cc_ctx_t *ctx, const char *sip_id, const char *extension,
                             const char *name)
{
    apr_pool_t *p = ctx->pool;
    const char *two[2];
    cc_error_t *err;

    two[0] = cc_ast_callerid(p, name, extension);
    two[1] = sip_id;
    if ((err = cc_db_exec(ctx->db, "cc_endpoints_rt_update_callerid", 2, two, NULL))) {
        return err;
    }
    two[0] = cc_ast_membername(p, name, extension);
    two[1] = cc_ast_interface(p, sip_id);
    return cc_db_exec(ctx->db, "cc_endpoints_rt_update_membername", 2, two, NULL);
}

/* An endpoint whose user was deleted: audited and announced like a PATCH to user_id
 * null (what it amounts to), and so are its queue memberships. */
static cc_error_t *announce_unlinked(cc_ctx_t *ctx, const char *id, const char *user_id)
{
    json_t *changes = cc_json_object(ctx->pool), *ep;
    cc_error_t *err;

    cc_audit_change(changes, CC_KEY_USER_ID, cc_json_int_or_null(user_id), json_null());
    if ((err = fetch_endpoint(ctx, "cc_endpoints_get", id, &ep))
        || (err = cc_ctx_record(ctx, "endpoint", "update", id, changes, ep,
                                CC_RECORD_BOTH))) {
        return err;
    }
    return cc_queues_announce_members(ctx, id, MEMBER_UPDATED);
}

/* One endpoint of the user, locked by its primary key: the rename or unlink. */
static cc_error_t *follow_one(cc_ctx_t *ctx, json_t *ep, const char *user_id,
                              const char *name)
{
    const char *id = cc_json_str(ep, "id");
    const char *lock[3] = { ctx->principal->tenant_id, id, user_id };
    const char *unlink[2] = { ctx->principal->tenant_id, id };
    const char **row;
    cc_error_t *err;

    if ((err = cc_db_select_row(ctx->db, "cc_endpoints_lock_of_user", 3, lock, &row, NULL))
        || !row) {
        return err;               /* re-pointed or deleted meanwhile: not ours to change */
    }
    if ((err = show_user(ctx, cc_json_str(ep, CC_KEY_SIP_USERNAME),
                         cc_json_str(ep, CC_KEY_EXTENSION), name))) {
        return err;
    }
    if (name) {
        /* A rename changes no field of the endpoint, only its members' membername. */
        return cc_queues_announce_members(ctx, id, MEMBER_UPDATED);
    }
    if ((err = cc_db_exec(ctx->db, "cc_endpoints_unlink_user", 2, unlink, NULL))) {
        return err;
    }
    return announce_unlinked(ctx, id, user_id);
}

cc_error_t *cc_endpoints_follow_user(cc_ctx_t *ctx, const char *user_id, const char *name)
{
    static const cc_col_t cols[] = {
        { "id", CC_COL_STR }, { CC_KEY_EXTENSION, CC_COL_STR },
        { CC_KEY_SIP_USERNAME, CC_COL_STR }, CC_COL_END
    };
    const char *args[2] = { ctx->principal->tenant_id, user_id };
    json_t *rows = NULL, *row;
    cc_error_t *err;
    size_t i;

    err = cc_db_select(ctx->db, "cc_endpoints_of_user", cols, 2, args, &rows, NULL);
    json_array_foreach(rows, i, row) {
        if (err) {
            break;
        }
        err = follow_one(ctx, row, user_id, name);
    }
    return err;
}

/* Write the merged values v over the locked endpoint cur (which differs from v); name is
 * v's user's name (NULL: no user), already checked. */
static cc_error_t *update_rows(cc_ctx_t *ctx, const char *id, const ep_locked_t *cur,
                               const ep_values_t *v, const char *name)
{
    const char *const *w = v->webrtc ? webrtc_on : webrtc_off;
    const char *side[4] = { v->user_id, v->webrtc ? "1" : "0", ctx->principal->tenant_id,
                            id };
    const char *rt[2 + WEBRTC_NCOLS], *aor[2] = { v->max_contacts, cur->sip_id };
    cc_error_t *err;
    int i;

    rt[0] = v->allow;
    for (i = 0; i < WEBRTC_NCOLS; i++) {
        rt[1 + i] = w[i];
    }
    rt[1 + WEBRTC_NCOLS] = cur->sip_id;
    if ((err = cc_db_exec(ctx->db, "cc_endpoints_update", 4, side, NULL))
        || (err = cc_db_exec(ctx->db, "cc_endpoints_rt_update_endpoint", 2 + WEBRTC_NCOLS, rt,
                             NULL))
        || (err = cc_db_exec(ctx->db, "cc_endpoints_rt_update_aor", 2, aor, NULL))) {
        return err;
    }
    if (cc_str_same(cur->v.user_id, v->user_id)) {
        return NULL;
    }
    /* A new user: the caller id and the name queues show follow it. */
    return show_user(ctx, cur->sip_id, cur->extension, name);
}

/* Everything that refers to the endpoint, then its rows; the side row is locked. */
static cc_error_t *delete_rows(cc_ctx_t *ctx, const char *id, const char *sip_id)
{
    apr_pool_t *p = ctx->pool;
    const char *tenant_ep[2] = { ctx->principal->tenant_id, id };
    const char *iface[1] = { cc_ast_interface(p, sip_id) };
    const char *contacts[2] = { sip_id, contacts_pattern(p, sip_id) };
    const char *one[1] = { sip_id };
    const char **row;
    cc_error_t *err;

    if ((err = cc_db_select_row(ctx->db, "cc_endpoints_did_routes", 2, tenant_ep, &row, NULL))) {
        return err;
    }
    if (row) {
        return cc_error_conflict(p, "a DID routes to this endpoint; route it elsewhere first");
    }
    if ((err = cc_queues_announce_members(ctx, id, "delete"))
        || (err = cc_db_exec(ctx->db, "cc_endpoints_rt_delete_members", 1, iface, NULL))
        || (err = cc_db_exec(ctx->db, "cc_endpoints_delete_members", 2, tenant_ep, NULL))
        || (err = cc_db_exec(ctx->db, "cc_endpoints_rt_delete_contacts", 2, contacts, NULL))
        || (err = cc_db_exec(ctx->db, "cc_endpoints_rt_delete_auth", 1, one, NULL))
        || (err = cc_db_exec(ctx->db, "cc_endpoints_rt_delete_aor", 1, one, NULL))
        || (err = cc_db_exec(ctx->db, "cc_endpoints_rt_delete_endpoint", 1, one, NULL))) {
        return err;
    }
    return cc_db_exec(ctx->db, "cc_endpoints_delete", 2, tenant_ep, NULL);
}

/* ---- registration ---- */

/* Epoch seconds as RFC 3339 UTC, independent of the session's time zone. */
static const char *epoch_rfc3339(apr_pool_t *p, json_int_t secs)
{
    apr_time_exp_t tm;
    char buf[32];
    apr_size_t len;

    /* Asterisk's values are sane; a hand-made one must not overflow apr_time_t. */
    if (secs < 0 || secs > APR_INT64_C(253402300799)) {
        return NULL;
    }
    if (apr_time_exp_gmt(&tm, apr_time_from_sec((apr_time_t)secs)) != APR_SUCCESS
        || apr_strftime(buf, &len, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) != APR_SUCCESS) {
        return NULL;
    }
    return apr_pstrdup(p, buf);
}

/* Rewrite each contact's expiration_time from epoch seconds to RFC 3339. */
static void contacts_times(apr_pool_t *p, json_t *contacts)
{
    size_t i;
    json_t *c;

    json_array_foreach(contacts, i, c) {
        json_t *exp = json_object_get(c, "expiration_time");

        cc_json_set_str(c, "expiration_time",
                        epoch_rfc3339(p, json_integer_value(exp)));
    }
}

/* ---- handlers ---- */

/* GET /endpoints: statements cc_endpoints_{list,search}_<sort>_<asc|desc> above; the
 * filters bind as EP_FILTER reads them (q: a prefix is contained too). */
static const cc_filter_t endpoint_filters[] = {
    { CC_KEY_USER_ID, CC_FILTER_ID, 2, NULL, 0, NULL, NULL },
    { "q", CC_FILTER_SEARCH, 2, NULL, CC_Q_MAX, NULL, NULL },
    CC_FILTER_END
};

static const cc_list_t endpoints_list_spec = { "cc_endpoints", endpoint_sorts,
                                               CC_KEY_EXTENSION, endpoint_cols,
                                               endpoint_filters, 0, NULL, NULL };

static cc_error_t *endpoints_create(cc_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    apr_pool_t *p = r->pool;
    const char *password, *sip_id, *name, *id, *args[6];
    const char **row;
    ep_input_t in;
    ep_values_t v;
    json_t *body, *ep, *out;
    cc_error_t *err;
    apr_status_t rv;
    int shut = 0;

    if ((err = cc_read_json_fields(ctx, endpoint_create_fields, &body))
        || (err = cc_endpoints_input_read(p, body, &in))) {
        return err;
    }
    cc_endpoints_create_values(&in, &v);
    password = in.password;
    if (!password && (rv = cc_ast_generate_sip_password(p, &password)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, CCLOGNO(03740)
                      "cannot generate a SIP password");
        return cc_error_internal(p);
    }
    sip_id = cc_ast_endpoint_id(p, ctx->principal->tenant_slug, in.extension);
    args[0] = ctx->principal->tenant_id;
    args[1] = in.extension;
    args[2] = sip_id;
    args[3] = v.user_id;
    args[4] = v.webrtc ? "1" : "0";
    /* Lock order: the user (share), the tenant row (share), then the new rows. */
    if ((err = cc_db_begin(ctx->db))
        || (err = user_name(ctx, v.user_id, &name))
        || (err = tenant_shut(ctx, &shut))) {
        return err;
    }
    args[5] = shut ? "1" : "0";
    if ((err = extension_conflict(ctx, cc_db_select_row(ctx->db, "cc_endpoints_insert", 6,
                                                        args, &row, NULL), 0))) {
        return err;
    }
    if (!row) {
        return cc_error_internal(p);   /* INSERT ... RETURNING gives its row */
    }
    id = row[0];
    if ((err = insert_realtime(ctx, sip_id, in.extension, &v, name, password, shut))
        || (err = fetch_endpoint(ctx, "cc_endpoints_get", id, &ep))
        || (err = cc_ctx_record(ctx, "endpoint", "create", id,
                                cc_json_without(p, ep, endpoint_audit_drop), ep,
                                CC_RECORD_COMMIT))) {
        return err;
    }
    /* The generated password, once, in this response only (API.md). */
    out = cc_json_own(p, json_copy(ep));
    if (!in.password) {
        json_object_set_new(out, CC_KEY_SIP_PASSWORD, json_string(password));
    }
    return cc_reply_created(ctx, apr_pstrcat(p, "/api/v1/endpoints/", id, NULL), out);
}

/* 404 unless the tenant has the endpoint (a plain read: the lock comes later). */
static cc_error_t *endpoint_exists(cc_ctx_t *ctx, const char *id)
{
    const char *args[2] = { ctx->principal->tenant_id, id };
    const char **row;
    cc_error_t *err = cc_db_select_row(ctx->db, "cc_endpoints_sip_id", 2, args, &row, NULL);

    return err ? err : row ? NULL : cc_error_not_found(ctx->pool);
}

static cc_error_t *endpoints_update(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id");
    const char *name = NULL;
    ep_input_t in;
    ep_locked_t cur;
    ep_values_t v;
    json_t *body, *changes, *ep;
    cc_error_t *err;

    /* Another tenant's (or no) endpoint is 404 whatever the body says; then a new user is
     * share-locked before the endpoint: user changes (cc_users.c) lock the user, then its
     * endpoints, and the same order here means the two never deadlock. */
    if ((err = cc_read_json_fields(ctx, endpoint_patch_fields, &body))
        || (err = cc_endpoints_input_read(ctx->pool, body, &in))
        || (err = cc_db_begin(ctx->db))
        || (err = endpoint_exists(ctx, id))
        || (in.has_user && (err = user_name(ctx, in.user_id, &name)))
        || (err = lock_endpoint(ctx, id, &cur))) {
        return err;
    }
    cc_endpoints_merge(&cur.v, &in, &v);
    changes = cc_endpoints_values_diff(ctx->pool, &cur.v, &v);
    if (json_object_size(changes) == 0) {
        return cc_reply_unchanged(ctx, cc_handle_get);
    }
    if ((err = update_rows(ctx, id, &cur, &v, name))
        || (err = fetch_endpoint(ctx, "cc_endpoints_get", id, &ep))
        || (err = cc_ctx_record(ctx, "endpoint", "update", id, changes, ep, CC_RECORD_BOTH))
        /* Its memberships show the new user (user_id, membername). */
        || (json_object_get(changes, CC_KEY_USER_ID)
            && (err = cc_queues_announce_members(ctx, id, MEMBER_UPDATED)))
        || (err = cc_db_commit(ctx->db))) {
        return err;
    }
    return cc_reply_json(ctx, HTTP_OK, ep);
}

static cc_error_t *endpoints_delete(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id");
    const char *sip_id;
    json_t *ep;
    cc_error_t *err;

    if ((err = cc_db_begin(ctx->db))
        || (err = fetch_endpoint(ctx, "cc_endpoints_get_locked", id, &ep))) {
        return err;
    }
    sip_id = json_string_value(json_object_get(ep, CC_KEY_SIP_USERNAME));
    /* The audit entry keeps what was deleted (the rows themselves are gone). */
    if ((err = delete_rows(ctx, id, sip_id))) {
        return err;
    }
    return cc_ctx_commit_delete(ctx, "endpoint", id, ep, endpoint_audit_drop);
}

static cc_error_t *endpoints_registration(cc_ctx_t *ctx)
{
    apr_pool_t *p = ctx->pool;
    const char *args[2];
    const char **row;
    json_t *contacts, *out;
    cc_error_t *err;

    if ((err = cc_fetch_row(ctx, "cc_endpoints_sip_id", cc_path(ctx, "id"), &row))) {
        return err;
    }
    args[0] = row[0];
    args[1] = contacts_pattern(p, row[0]);
    if ((err = cc_db_select(ctx->db, "cc_endpoints_contacts", contact_cols, 2, args,
                            &contacts, NULL))) {
        return err;
    }
    contacts_times(p, contacts);
    out = cc_json_object(p);
    json_object_set_new(out, "registered", json_boolean(json_array_size(contacts) > 0));
    json_object_set(out, "contacts", contacts);
    return cc_reply_json(ctx, HTTP_OK, out);
}

/* Path order does not matter: captures never shadow literals (cc_route_match). */
static const cc_route_t endpoints_routes[] = {
    { "GET", "/api/v1/endpoints", cc_handle_list, "endpoints.read", CC_ROUTE_AUTH },
    { "POST", "/api/v1/endpoints", endpoints_create, "endpoints.write",
      CC_ROUTE_AUTH | CC_ROUTE_SECRET },
    { "GET", "/api/v1/endpoints/{id:int}", cc_handle_get, "endpoints.read", CC_ROUTE_AUTH },
    { "PATCH", "/api/v1/endpoints/{id:int}", endpoints_update, "endpoints.write",
      CC_ROUTE_AUTH },
    { "DELETE", "/api/v1/endpoints/{id:int}", endpoints_delete, "endpoints.write",
      CC_ROUTE_AUTH },
    { "GET", "/api/v1/endpoints/{id:int}/registration", endpoints_registration,
      "endpoints.read", CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_endpoints_domain = { "endpoints", endpoints_routes, endpoints_stmts,
                                          &endpoints_list_spec, "cc_endpoints_get",
                                          endpoint_cols };
