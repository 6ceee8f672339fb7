/**
 * @file cc_auth_login.c
 * @brief /api/v1/auth/...: login, refresh (rotation + reuse detection), logout, me,
 *        password change.
 *
 * Tokens: the access token is an HS256 JWT (cc_auth_jwt.c); a refresh token is 32
 * random bytes, stored only as its SHA-256.  A login starts a family (uuid); each
 * refresh rotates within the family, and presenting a rotated token again revokes the
 * whole family (it was copied: either the thief or the user holds the newer one).
 *
 * Audit: login, refresh, logout (when it revoked a token) and a reuse that revoked a
 * family each write one entry (auth.*) in the transaction of their token writes, and no
 * event.  These routes have no principal, so the entry names the token's user as actor
 * and entity (entity_type "user": see auth_record).  `changes` carries the family id,
 * never a token or a hash.
 */
#include "cc_auth_private.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <http_protocol.h>

#include "cc_auth_jwt.h"
#include "cc_audit.h"
#include "cc_crypto.h"
#include "cc_user.h"
#include "cc_validate.h"

/* ---- statements ---- */

/* The user object of API.md (shared/cc_user.h); roles come from users.role_names. */
#define USER_SELECT                                                                     \
    "SELECT " CC_USER_COLUMNS_SQL " FROM users u "

/* Labels are global across modules: cc_auth_*.  Statements on tenant tables filter on
 * tenant_id, except the two lookups by a secret (email+password, refresh token) that
 * happen before the tenant is known. */
static const cc_stmt_t auth_stmts[] = {
    CC_STMT("cc_auth_login_candidates",
            "SELECT u.id, u.tenant_id, u.password_hash, u.status, t.status, t.slug "
            "FROM users u JOIN tenants t ON t.id = u.tenant_id "
            "WHERE u.live_email = %s ORDER BY u.id LIMIT 100 "
            "/* cc-lint: no-tenant login looks the email up across tenants */"),
    /* The login names its tenant (id or slug): that tenant's user only, whatever the
     * number of tenants the email is in. */
    CC_STMT("cc_auth_login_candidate_in",
            "SELECT u.id, u.tenant_id, u.password_hash, u.status, t.status, t.slug "
            "FROM users u JOIN tenants t ON t.id = u.tenant_id "
            "WHERE u.live_email = %s AND (t.id = %s OR t.slug = %s) "
            "/* cc-lint: no-tenant the tenant is named by id or slug, joined */"),
    CC_STMT("cc_auth_user_get",
            USER_SELECT "WHERE u.tenant_id = %s AND u.id = %s AND u.deleted_at IS NULL"),
    CC_STMT("cc_auth_user_touch_login",
            "UPDATE users SET last_login_at = UTC_TIMESTAMP() "
            "WHERE tenant_id = %s AND id = %s AND deleted_at IS NULL"),
    CC_STMT("cc_auth_user_password_get",
            "SELECT password_hash FROM users "
            "WHERE tenant_id = %s AND id = %s AND deleted_at IS NULL"),
    /* Conditional on the verified hash: a concurrent password change wins. */
    CC_STMT("cc_auth_user_rehash",
            "UPDATE users SET password_hash = %s "
            "WHERE tenant_id = %s AND id = %s AND password_hash = %s AND deleted_at IS NULL"),
    CC_STMT("cc_auth_user_password_set",
            "UPDATE users SET password_hash = %s, updated_at = UTC_TIMESTAMP() "
            "WHERE tenant_id = %s AND id = %s AND deleted_at IS NULL"),
    /* Args: tenant, user, family, family start (NULL: a new family, starting now),
     * token hash, CCRefreshTokenTTL, the start again, CCRefreshFamilyMaxAge.  A token
     * never outlives its family. */
    CC_STMT("cc_auth_refresh_insert",
            "INSERT INTO refresh_tokens (tenant_id, user_id, family_id, family_started_at, "
            "token_hash, expires_at) VALUES (%s, %s, %s, COALESCE(%s, UTC_TIMESTAMP()), %s, "
            "LEAST(DATE_ADD(UTC_TIMESTAMP(), INTERVAL %s SECOND), "
            "DATE_ADD(COALESCE(%s, UTC_TIMESTAMP()), INTERVAL %s SECOND)))"),
    /* Args: CCRefreshFamilyMaxAge, the token's hash.  Columns: id, tenant_id, user_id,
     * family_id, expired, rotated, revoked, user status, user deleted, tenant status,
     * family start, family too old (a directive lowered since the token was made). */
    CC_STMT("cc_auth_refresh_lookup",
            "SELECT rt.id, rt.tenant_id, rt.user_id, rt.family_id, "
            "rt.expires_at <= UTC_TIMESTAMP(), rt.rotated_at IS NOT NULL, "
            "rt.revoked_at IS NOT NULL, u.status, u.deleted_at IS NOT NULL, t.status, "
            "rt.family_started_at, "
            "rt.family_started_at <= DATE_SUB(UTC_TIMESTAMP(), INTERVAL %s SECOND) "
            "FROM refresh_tokens rt "
            "JOIN users u ON u.id = rt.user_id AND u.tenant_id = rt.tenant_id "
            "JOIN tenants t ON t.id = rt.tenant_id "
            "WHERE rt.token_hash = %s "
            "/* cc-lint: no-tenant lookup by secret token hash */"),
    /* Conditional: of two concurrent refreshes with one token only one wins. */
    CC_STMT("cc_auth_refresh_rotate",
            "UPDATE refresh_tokens SET rotated_at = UTC_TIMESTAMP() "
            "WHERE tenant_id = %s AND id = %s AND rotated_at IS NULL AND revoked_at IS NULL"),
    /* A rotated token inside CCRefreshReuseLeeway, its family not revoked: locked until
     * the sibling is stored, so a concurrent revocation of the family either comes
     * first (no row: reuse) or revokes the sibling too. */
    CC_STMT("cc_auth_refresh_leeway_lock",
            "SELECT id FROM refresh_tokens WHERE tenant_id = %s AND id = %s "
            "AND revoked_at IS NULL AND rotated_at IS NOT NULL "
            "AND rotated_at >= DATE_SUB(UTC_TIMESTAMP(), INTERVAL %s SECOND) "
            "AND leeway_uses < %s FOR UPDATE"),
    CC_STMT("cc_auth_refresh_leeway_use",
            "UPDATE refresh_tokens SET leeway_uses = leeway_uses + 1 "
            "WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_auth_refresh_revoke_family",
            "UPDATE refresh_tokens SET revoked_at = UTC_TIMESTAMP() "
            "WHERE tenant_id = %s AND family_id = %s AND revoked_at IS NULL"),
    CC_STMT("cc_auth_refresh_revoke_user",
            "UPDATE refresh_tokens SET revoked_at = UTC_TIMESTAMP() "
            "WHERE tenant_id = %s AND user_id = %s AND revoked_at IS NULL"),
    CC_STMT_END
};

/* Columns of cc_auth_login_candidates. */
static const cc_col_t candidate_cols[] = {
    { "id", CC_COL_STR },
    { "tenant_id", CC_COL_STR },
    { "hash", CC_COL_STR },
    { "status", CC_COL_STR },
    { "tenant_status", CC_COL_STR },
    { "tenant_slug", CC_COL_STR },
    CC_COL_END
};

/* mod_cc_tenant's principal getter, retrieved in optional_fn_retrieve (the mod_authn_dbd
 * pattern: written once per config cycle before any request, then only read). */
static APR_OPTIONAL_FN_TYPE(cc_tenant_principal_get) *principal_get;

void cc_auth_login_set_principal_fn(APR_OPTIONAL_FN_TYPE(cc_tenant_principal_get) *fn)
{
    principal_get = fn;
}

/* ---- helpers ---- */

static const cc_auth_cfg_t *auth_cfg(const cc_ctx_t *ctx)
{
    return ctx->module_cfg;
}

static cc_error_t *err_refresh_invalid(apr_pool_t *p)
{
    return cc_error_make(p, HTTP_UNAUTHORIZED, CC_ERR_UNAUTHORIZED,
                         "invalid or expired refresh token");
}

static cc_error_t *err_disabled(apr_pool_t *p)
{
    return cc_error_make(p, HTTP_FORBIDDEN, CC_ERR_ACCOUNT_DISABLED,
                         "this account is disabled");
}

static cc_error_t *err_suspended(apr_pool_t *p)
{
    return cc_error_make(p, HTTP_FORBIDDEN, CC_ERR_TENANT_SUSPENDED,
                         "this tenant is suspended");
}

/* The user object of API.md (pool-owned), or *puser = NULL when it is gone. */
static cc_error_t *user_object(cc_ctx_t *ctx, const char *tenant_id, const char *user_id,
                               json_t **puser)
{
    const char *args[2] = { tenant_id, user_id };

    return cc_db_select_one(ctx->db, "cc_auth_user_get", cc_user_cols, 2, args, puser);
}

/* Store a new refresh token of family *pfamily for the user (a new family when *pfamily is
 * NULL: *pfamily is then set to it, and started is NULL too; else started is the
 * family's start); *ptoken is the secret to hand out. */
static cc_error_t *refresh_store(cc_ctx_t *ctx, const char *tenant_id, const char *user_id,
                                 const char **pfamily, const char *started,
                                 const char **ptoken)
{
    apr_pool_t *p = ctx->pool;
    const cc_auth_cfg_t *cfg = auth_cfg(ctx);
    const char *token, *args[8];
    apr_status_t rv;

    if ((rv = cc_random_token(p, 32, &token)) != APR_SUCCESS
        || (!*pfamily && (rv = cc_uuid_v4(p, pfamily)) != APR_SUCCESS)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, ctx->r, CCLOGNO(01010)
                      "no randomness for a refresh token");
        return cc_error_internal(p);
    }
    args[0] = tenant_id;
    args[1] = user_id;
    args[2] = *pfamily;
    args[3] = started;
    args[4] = cc_sha256_hex(p, token, strlen(token));
    args[5] = apr_psprintf(p, "%" APR_INT64_T_FMT, cc_auth_cfg_refresh_ttl(cfg));
    args[6] = started;
    args[7] = apr_psprintf(p, "%" APR_INT64_T_FMT, cc_auth_cfg_family_max_age(cfg));
    *ptoken = token;
    return cc_db_exec(ctx->db, "cc_auth_refresh_insert", 8, args, NULL);
}

/* last_login_at = now (logins and refreshes both count as "seen"). */
static cc_error_t *touch_login(cc_ctx_t *ctx, const char *tenant_id, const char *user_id)
{
    const char *args[2] = { tenant_id, user_id };

    return cc_db_exec(ctx->db, "cc_auth_user_touch_login", 2, args, NULL);
}

/* The audit `changes` of the auth.* entries: the token family (never a token);
 * pool-owned. */
static json_t *family_changes(cc_ctx_t *ctx, const char *family_id)
{
    json_t *changes = cc_json_object(ctx->pool);

    cc_json_set_str(changes, "family_id", family_id);
    return changes;
}

/*
 * The auth.<verb> entry (no event) about user_id, by user_id, in tenant_id.  These
 * entries are action "auth.<verb>" on entity_type "user" (the user the session belongs
 * to; API clients filter ?entity_type=user&entity_id=<user>): a verb with a dot is the
 * whole action (cc_change_names).
 */
static cc_error_t *auth_record(cc_ctx_t *ctx, const char *tenant_id, const char *user_id,
                               const char *verb, const json_t *changes)
{
    return cc_record(ctx->db, tenant_id, cc_ctx_actor_user(ctx, user_id), "user",
                     apr_pstrcat(ctx->pool, "auth.", verb, NULL), user_id, changes, NULL,
                     CC_RECORD_NO_EVENT);
}

/* 200 {access_token, token_type, expires_in, refresh_token, user}. */
static cc_error_t *send_pair(cc_ctx_t *ctx, const char *tenant_id, const char *user_id,
                             const char *refresh_token)
{
    request_rec *r = ctx->r;
    const cc_auth_cfg_t *cfg = auth_cfg(ctx);
    apr_int64_t ttl = cc_auth_cfg_access_ttl(cfg);
    const char *access;
    json_t *user = NULL, *body;
    cc_error_t *e;
    apr_status_t rv;

    if ((e = user_object(ctx, tenant_id, user_id, &user)) != NULL) {
        return e;
    }
    if (!user) {
        return err_refresh_invalid(ctx->pool);
    }
    rv = cc_auth_jwt_issue(ctx->pool, cfg->key, cfg->keylen, cc_auth_cfg_issuer(cfg),
                           (apr_int64_t)apr_time_sec(apr_time_now()), ttl, user_id,
                           tenant_id, NULL, &access);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, CCLOGNO(01011)
                      "cannot issue an access token for user %s of tenant %s",
                      user_id, tenant_id);
        return cc_error_internal(ctx->pool);
    }
    body = cc_json_object(ctx->pool);
    if (cc_json_set_str(body, "access_token", access) != 0
        || cc_json_set_str(body, "token_type", "Bearer") != 0
        || json_object_set_new(body, "expires_in", json_integer((json_int_t)ttl)) != 0
        || cc_json_set_str(body, "refresh_token", refresh_token) != 0
        /* user stays the pool's: the body takes a reference of its own. */
        || json_object_set(body, "user", user) != 0) {
        return cc_error_internal(ctx->pool);
    }
    return cc_reply_json(ctx, HTTP_OK, body);
}

static cc_error_t *get_principal(cc_ctx_t *ctx, const cc_principal_t **ppr)
{
    *ppr = ctx->principal;
    if (*ppr) {
        return NULL;
    }
    if (!principal_get) {
        /* Logged at startup (CC01006). */
        return cc_error_internal(ctx->r->pool);
    }
    return principal_get(ctx->r, ppr);
}

/* ---- POST /api/v1/auth/login ---- */

static const cc_field_t login_fields[] = {
    { "email", CC_JT_STRING, 1 },
    { "password", CC_JT_STRING, 1 },
    { "tenant", CC_JT_STRING_NULL, 0 },
    { NULL, CC_JT_STRING, 0 }
};

/* One user a login may be for. */
typedef struct candidate_t {
    const char *id;
    const char *tenant_id;
    const char *hash;
    const char *status;
    const char *tenant_status;
} candidate_t;

static void candidate_from(const json_t *o, candidate_t *c)
{
    c->id = cc_json_str(o, "id");
    c->tenant_id = cc_json_str(o, "tenant_id");
    c->hash = cc_json_str(o, "hash");
    c->status = cc_json_str(o, "status");
    c->tenant_status = cc_json_str(o, "tenant_status");
}

/*
 * Pick the login's user among the email's users (one per tenant; only the named
 * tenant's when the login names one).  *pfound = 0 when none matches, *pseveral when
 * the email is in several tenants and the login named none; *ptenant_key = the tenant
 * id when the login named or resolved one.
 */
static void login_pick(json_t *rows, const char *tenant, candidate_t *c, int *pfound,
                       int *pseveral, const char **ptenant_key)
{
    *pfound = 0;
    *pseveral = !tenant && json_array_size(rows) > 1;
    *ptenant_key = (tenant && cc_valid_uuid(tenant)) ? tenant : "";
    if (json_array_size(rows) == 1) {
        candidate_from(json_array_get(rows, 0), c);
        *pfound = 1;
        *ptenant_key = c->tenant_id;
    }
}

/* At most this many of an email's tenants have their hash tried when the login names
 * none (each is a bcrypt verification). */
#define LOGIN_SEVERAL_MAX 10

/*
 * An email in several tenants and a login naming none: "tenant required" (400) is told
 * only to someone whose password is right for one of them; anyone else gets the answer
 * of a wrong password (401), so the email's tenants are no oracle.
 */
static cc_error_t *login_several(apr_pool_t *p, json_t *rows, const char *password)
{
    size_t i;

    for (i = 0; i < json_array_size(rows) && i < LOGIN_SEVERAL_MAX; i++) {
        const char *hash = cc_json_str(json_array_get(rows, i), "hash");

        if (hash && cc_password_verify(password, hash)) {
            return cc_error_field(p, "tenant",
                                  "required: this email exists in several tenants");
        }
    }
    return cc_error_make(p, HTTP_UNAUTHORIZED, CC_ERR_INVALID_CREDENTIALS,
                         "invalid email or password");
}

static cc_error_t *login_validate(apr_pool_t *p, json_t *body, const char **pemail,
                                  const char **ppassword, const char **ptenant)
{
    cc_error_t *err = NULL;

    *pemail = cc_json_str(body, "email");
    *ppassword = cc_json_str(body, "password");
    *ptenant = cc_json_str(body, "tenant");
    if (!cc_valid_email(*pemail)) {
        err = cc_error_collect(p, err, "email", "must be a valid email address");
    }
    if (*ptenant && !cc_valid_uuid(*ptenant) && !cc_valid_slug(*ptenant)) {
        err = cc_error_collect(p, err, "tenant", "must be a tenant slug or id");
    }
    return err;
}

/* Verify the password; when there is no such user, burn the same bcrypt time on the
 * startup dummy hash so that the answer's timing does not tell emails apart. */
static int login_password_ok(const cc_auth_cfg_t *cfg, const candidate_t *c, int found,
                             const char *password)
{
    if (found && c->hash) {
        return cc_password_verify(password, c->hash);
    }
    if (cfg->dummy_hash) {
        (void)cc_password_verify(password, cfg->dummy_hash);
    }
    return 0;
}

/* The cost of a bcrypt hash ("$2y$12$..."; $2a$/$2b$ too), or -1 for anything else. */
static int bcrypt_cost_of(const char *hash)
{
    if (!hash || hash[0] != '$' || hash[1] != '2' || !hash[2] || !strchr("aby", hash[2])
        || hash[3] != '$' || !apr_isdigit(hash[4]) || !apr_isdigit(hash[5])
        || hash[6] != '$') {
        return -1;
    }
    return (hash[4] - '0') * 10 + (hash[5] - '0');
}

/*
 * After a verified password: a hash of another cost than CCBcryptCost (the cost was
 * changed since it was made) is replaced, else a known email would answer in another
 * time than an unknown one (which pays the dummy hash, made at the configured cost): a
 * timing oracle.  Hashed before the transaction so no lock is held during bcrypt.
 * *phash = NULL when nothing is to be stored.
 */
static void login_rehash(cc_ctx_t *ctx, const candidate_t *c, const char *password,
                         const char **phash)
{
    int cost = cc_auth_cfg_bcrypt_cost(auth_cfg(ctx));
    apr_status_t rv;

    *phash = NULL;
    if (bcrypt_cost_of(c->hash) == cost) {
        return;
    }
    rv = cc_password_hash(ctx->r->pool, password, cost, phash);
    if (rv != APR_SUCCESS) {
        /* The login itself is valid: it goes on with the old hash. */
        *phash = NULL;
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, ctx->r, CCLOGNO(01014)
                      "cannot rehash the password of user %s in tenant %s",
                      c->id, c->tenant_id);
    }
}

/*
 * A successful login's writes, one transaction: forget the failures, last_login_at, the
 * rehashed password (new_hash, may be NULL), a new refresh token family (*prt is its
 * token) and the auth.login entry.  An error leaves the transaction open for the
 * dispatcher to roll back.
 */
static cc_error_t *login_record(cc_ctx_t *ctx, const candidate_t *c, const char *tenant_key,
                                const char *email_key, const char *new_hash,
                                const char **prt)
{
    const char *rehash_args[4] = { new_hash, c->tenant_id, c->id, c->hash };
    const char *family = NULL;
    json_t *changes;
    int nrows = 0;
    cc_error_t *e;

    if ((e = cc_db_begin(ctx->db)) != NULL
        || (e = cc_auth_throttle_reset(ctx, tenant_key, email_key)) != NULL
        || (e = cc_auth_throttle_address_success(ctx)) != NULL
        || (e = touch_login(ctx, c->tenant_id, c->id)) != NULL
        || (new_hash
            && (e = cc_db_exec(ctx->db, "cc_auth_user_rehash", 4, rehash_args, &nrows)) != NULL)
        || (e = refresh_store(ctx, c->tenant_id, c->id, &family, NULL, prt)) != NULL) {
        return e;
    }
    changes = family_changes(ctx, family);
    if (nrows == 1) {
        int from = bcrypt_cost_of(c->hash);

        /* Costs only: the hashes themselves never leave the users table. */
        json_object_set_new(changes, "bcrypt_cost",
                            json_pack("{s:o, s:i}", "from",
                                      from < 0 ? json_null() : json_integer(from),
                                      "to", cc_auth_cfg_bcrypt_cost(auth_cfg(ctx))));
    }
    if ((e = auth_record(ctx, c->tenant_id, c->id, "login", changes)) != NULL) {
        return e;
    }
    return cc_db_commit(ctx->db);
}

/*
 * The password checks of a login (every bcrypt it costs): the several-tenants case, the
 * password, then (only for the right password) the account's state, and the rehash a
 * changed CCBcryptCost asks for (*pnew_hash, else NULL).
 */
static cc_error_t *login_judge(cc_ctx_t *ctx, const cc_auth_cfg_t *cfg, json_t *rows,
                               int several, const candidate_t *c, int found,
                               const char *password, const char **pnew_hash)
{
    apr_pool_t *p = ctx->r->pool;

    *pnew_hash = NULL;
    if (several) {
        return login_several(p, rows, password);
    }
    if (!login_password_ok(cfg, c, found, password)) {
        return cc_error_make(p, HTTP_UNAUTHORIZED, CC_ERR_INVALID_CREDENTIALS,
                             "invalid email or password");
    }
    /* The password was right: now (only now) the account's state may be told. */
    if (!c->status || strcmp(c->status, "active") != 0) {
        return err_disabled(p);
    }
    if (!c->tenant_status || strcmp(c->tenant_status, "active") != 0) {
        return err_suspended(p);
    }
    login_rehash(ctx, c, password, pnew_hash);
    return NULL;
}

/* A login's credentials and what checking them found. */
typedef struct login_t {
    const char *email, *password, *tenant;   /* from the body (tenant may be NULL) */
    candidate_t c;                           /* the user, when found */
    const char *tenant_key, *email_key;      /* the per-account throttle key */
    const char *new_hash;                    /* a rehash to store, or NULL */
} login_t;

/*
 * Count the attempt (client address, then account), look the user up and check the
 * password: NULL when the login may be recorded.  Runs holding a bcrypt slot.
 */
static cc_error_t *login_check(cc_ctx_t *ctx, const cc_auth_cfg_t *cfg, login_t *l)
{
    apr_pool_t *p = ctx->r->pool;
    const char *args[3] = { l->email, l->tenant, l->tenant };
    json_t *rows = NULL;
    int found, several;
    cc_error_t *e;

    /* The client address's budget first: a flood of random emails (each a fresh
     * per-account key) stops here, before any lookup or hashing. */
    if ((e = cc_auth_throttle_address(ctx, cfg)) != NULL
        || (e = cc_db_select(ctx->db, l->tenant ? "cc_auth_login_candidate_in"
                                                : "cc_auth_login_candidates",
                             candidate_cols, l->tenant ? 3 : 1, args, &rows, NULL)) != NULL) {
        return e;
    }
    login_pick(rows, l->tenant, &l->c, &found, &several, &l->tenant_key);

    /* Throttle before bcrypt: a locked-out key costs no hashing, right password or not.
     * A successful login resets the count. */
    l->email_key = apr_pstrdup(p, l->email);
    ap_str_tolower((char *)l->email_key);
    if ((e = cc_auth_throttle_attempt(ctx, cfg, l->tenant_key, l->email_key,
                                      "too many failed logins; try again later")) != NULL) {
        return e;
    }
    return login_judge(ctx, cfg, rows, several, &l->c, found, l->password, &l->new_hash);
}

static cc_error_t *auth_login(cc_ctx_t *ctx)
{
    const cc_auth_cfg_t *cfg = auth_cfg(ctx);
    const char *rt;
    json_t *body = NULL;
    login_t l;
    cc_error_t *e;

    memset(&l, 0, sizeof(l));
    if ((e = cc_read_json_fields(ctx, login_fields, &body)) != NULL
        || (e = login_validate(ctx->r->pool, body, &l.email, &l.password, &l.tenant)) != NULL
        || (e = cc_db_acquire(ctx->db)) != NULL) {
        return e;
    }
    /* One of the process's bcrypt slots, taken before anything is counted: a login
     * turned away because the server is busy is no failed login. */
    if ((e = cc_auth_bcrypt_enter(ctx, cfg)) != NULL) {
        return e;
    }
    e = login_check(ctx, cfg, &l);
    cc_auth_bcrypt_leave();
    if (e || (e = login_record(ctx, &l.c, l.tenant_key, l.email_key, l.new_hash, &rt))
             != NULL) {
        return e;
    }
    return send_pair(ctx, l.c.tenant_id, l.c.id, rt);
}

/* ---- POST /api/v1/auth/refresh and /logout ---- */

static const cc_field_t refresh_fields[] = {
    { "refresh_token", CC_JT_STRING, 1 },
    { NULL, CC_JT_STRING, 0 }
};

/* The row of cc_auth_refresh_lookup. */
enum {
    RT_ID, RT_TENANT, RT_USER, RT_FAMILY, RT_EXPIRED, RT_ROTATED, RT_REVOKED,
    RT_USER_STATUS, RT_USER_DELETED, RT_TENANT_STATUS, RT_FAMILY_STARTED,
    RT_FAMILY_EXPIRED, RT_NCOLS
};

/* Read {refresh_token} and look its hash up; *prow = NULL when unknown. */
static cc_error_t *refresh_lookup(cc_ctx_t *ctx, const char ***prow)
{
    json_t *body = NULL;
    const char *token, *args[2];
    int ncols = 0;
    cc_error_t *e;

    *prow = NULL;
    if ((e = cc_read_json_fields(ctx, refresh_fields, &body)) != NULL) {
        return e;
    }
    token = cc_json_str(body, "refresh_token");
    if (!token || !*token) {
        return cc_error_field(ctx->r->pool, "refresh_token", "must not be empty");
    }
    if ((e = cc_db_acquire(ctx->db)) != NULL) {
        return e;
    }
    args[0] = apr_psprintf(ctx->r->pool, "%" APR_INT64_T_FMT,
                           cc_auth_cfg_family_max_age(auth_cfg(ctx)));
    args[1] = cc_sha256_hex(ctx->r->pool, token, strlen(token));
    e = cc_db_select_row(ctx->db, "cc_auth_refresh_lookup", 2, args, prow, &ncols);
    if (!e && *prow && ncols < RT_NCOLS) {
        *prow = NULL;
        return cc_error_internal(ctx->r->pool);
    }
    return e;
}

static int is_true(const char *v)
{
    return v && strcmp(v, "0") != 0;
}

/*
 * A rotated token came back: whoever holds it, the family is compromised.  The family's
 * revocation and its auth.refresh_reuse entry (a security event) commit together although
 * the request answers 401; a family already revoked is not audited again.  Returns the
 * 401 once committed, else the database error (the dispatcher rolls back).
 */
/* A rotated token presented again (to refresh or to log out) is a theft's sign: revoke
 * its whole family, audited as auth.refresh_reuse, committed. */
static cc_error_t *revoke_reused_family(cc_ctx_t *ctx, const char **row)
{
    const char *args[2] = { row[RT_TENANT], row[RT_FAMILY] };
    json_t *changes;
    int nrows = 0;
    cc_error_t *e;

    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, ctx->r, CCLOGNO(01012)
                  "refresh token reuse: revoking the token family of user %s in tenant %s",
                  row[RT_USER], row[RT_TENANT]);
    if ((e = cc_db_begin(ctx->db)) != NULL
        || (e = cc_db_exec(ctx->db, "cc_auth_refresh_revoke_family", 2, args, &nrows)) != NULL) {
        return e;
    }
    if (nrows > 0) {
        changes = family_changes(ctx, row[RT_FAMILY]);
        json_object_set_new(changes, "revoked", json_integer(nrows));
        if ((e = auth_record(ctx, row[RT_TENANT], row[RT_USER], "refresh_reuse",
                             changes)) != NULL) {
            return e;
        }
    }
    return cc_db_commit(ctx->db);
}

/* Refresh with a rotated token: the family goes, and the answer is 401. */
static cc_error_t *refresh_reuse(cc_ctx_t *ctx, const char **row)
{
    cc_error_t *e = revoke_reused_family(ctx, row);

    return e ? e : err_refresh_invalid(ctx->r->pool);
}

/* Siblings one rotated token may give inside the leeway (tabs of one browser); one more
 * is a replay, whatever the clock says. */
#define REFRESH_LEEWAY_USES_MAX "8"

/*
 * A rotated token presented again.  Inside CCRefreshReuseLeeway of its rotation (two tabs
 * refreshing at once, or an answer lost on the way) it gets a sibling successor in the
 * same family, at most REFRESH_LEEWAY_USES_MAX times, audited as auth.refresh with
 * reuse_leeway: true; after it, past that count, or with its family revoked (a logout
 * revokes the whole family), it is reuse (the family is revoked, 401).  One transaction
 * either way.
 */
static cc_error_t *refresh_again(cc_ctx_t *ctx, const char **row, const char **pnew)
{
    const char *args[4];
    const char **locked = NULL, *family = row[RT_FAMILY];
    int leeway = cc_auth_cfg_reuse_leeway(auth_cfg(ctx)), ncols = 0;
    json_t *changes;
    cc_error_t *e;

    if (leeway <= 0) {
        return refresh_reuse(ctx, row);
    }
    args[0] = row[RT_TENANT];
    args[1] = row[RT_ID];
    args[2] = apr_itoa(ctx->pool, leeway);
    args[3] = REFRESH_LEEWAY_USES_MAX;
    if ((e = cc_db_begin(ctx->db)) != NULL
        || (e = cc_db_select_row(ctx->db, "cc_auth_refresh_leeway_lock", 4, args, &locked,
                                 &ncols)) != NULL) {
        return e;
    }
    if (!locked) {
        cc_db_rollback(ctx->db);
        return refresh_reuse(ctx, row);
    }
    changes = family_changes(ctx, family);
    json_object_set_new(changes, "reuse_leeway", json_true());
    if ((e = cc_db_exec(ctx->db, "cc_auth_refresh_leeway_use", 2, args, NULL)) != NULL
        || (e = refresh_store(ctx, row[RT_TENANT], row[RT_USER], &family,
                              row[RT_FAMILY_STARTED], pnew)) != NULL
        || (e = touch_login(ctx, row[RT_TENANT], row[RT_USER])) != NULL
        || (e = auth_record(ctx, row[RT_TENANT], row[RT_USER], "refresh", changes)) != NULL) {
        return e;
    }
    return cc_db_commit(ctx->db);
}

/* Mark the token rotated, store its successor, audit auth.refresh: one transaction.  An
 * error leaves it open for the dispatcher to roll back. */
static cc_error_t *refresh_rotate(cc_ctx_t *ctx, const char **row, const char **pnew)
{
    const char *args[2] = { row[RT_TENANT], row[RT_ID] };
    const char *family = row[RT_FAMILY];
    int nrows = 0;
    cc_error_t *e;

    if ((e = cc_db_begin(ctx->db)) != NULL
        || (e = cc_db_exec(ctx->db, "cc_auth_refresh_rotate", 2, args, &nrows)) != NULL) {
        return e;
    }
    if (nrows != 1) {
        /* A concurrent refresh won the race with this very token (a second tab): the
         * leeway decides, as for a token found rotated. */
        cc_db_rollback(ctx->db);
        return refresh_again(ctx, row, pnew);
    }
    if ((e = refresh_store(ctx, row[RT_TENANT], row[RT_USER], &family,
                           row[RT_FAMILY_STARTED], pnew)) != NULL
        || (e = touch_login(ctx, row[RT_TENANT], row[RT_USER])) != NULL
        || (e = auth_record(ctx, row[RT_TENANT], row[RT_USER], "refresh",
                            family_changes(ctx, family))) != NULL) {
        return e;
    }
    return cc_db_commit(ctx->db);
}

static cc_error_t *auth_refresh(cc_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    const char **row, *rt;
    cc_error_t *e;

    if ((e = refresh_lookup(ctx, &row)) != NULL) {
        return e;
    }
    if (!row) {
        return err_refresh_invalid(r->pool);
    }
    /* A dead token that had been rotated is reuse (revoking what is left of its family);
     * a live rotated one goes to the leeway check. */
    if (is_true(row[RT_REVOKED]) || is_true(row[RT_EXPIRED])
        || is_true(row[RT_FAMILY_EXPIRED]) || is_true(row[RT_USER_DELETED])) {
        return is_true(row[RT_ROTATED]) ? refresh_reuse(ctx, row)
                                        : err_refresh_invalid(r->pool);
    }
    if (!row[RT_USER_STATUS] || strcmp(row[RT_USER_STATUS], "active") != 0) {
        return err_disabled(r->pool);
    }
    if (!row[RT_TENANT_STATUS] || strcmp(row[RT_TENANT_STATUS], "active") != 0) {
        return err_suspended(r->pool);
    }
    e = is_true(row[RT_ROTATED]) ? refresh_again(ctx, row, &rt)
                                 : refresh_rotate(ctx, row, &rt);
    if (e) {
        return e;
    }
    return send_pair(ctx, row[RT_TENANT], row[RT_USER], rt);
}

/* Revoke the token's family and, when that revoked anything, audit auth.logout: one
 * transaction.  An error leaves it open for the dispatcher to roll back. */
static cc_error_t *logout_revoke(cc_ctx_t *ctx, const char **row)
{
    const char *args[2] = { row[RT_TENANT], row[RT_FAMILY] };
    int nrows = 0;
    cc_error_t *e;

    if ((e = cc_db_begin(ctx->db)) != NULL
        || (e = cc_db_exec(ctx->db, "cc_auth_refresh_revoke_family", 2, args, &nrows)) != NULL
        || (nrows > 0
            && (e = auth_record(ctx, row[RT_TENANT], row[RT_USER], "logout",
                                family_changes(ctx, row[RT_FAMILY]))) != NULL)) {
        return e;
    }
    return cc_db_commit(ctx->db);
}

/* Logout ends the login: the presented token's whole family is revoked (the tokens it
 * was rotated from, so none of them can use the reuse leeway to mint a sibling, and the
 * siblings of other tabs of the same login).  A rotated token is reuse, as for a
 * refresh, audited as such (a thief's successor token goes with the family).  An unknown, expired or already revoked
 * token also answers 204 (and is not audited): logout is idempotent, and the answer
 * tells nothing about which tokens exist. */
static cc_error_t *auth_logout(cc_ctx_t *ctx)
{
    const char **row;
    cc_error_t *e;

    if ((e = refresh_lookup(ctx, &row)) != NULL) {
        return e;
    }
    if (row && (e = is_true(row[RT_ROTATED]) ? revoke_reused_family(ctx, row)
                                             : logout_revoke(ctx, row)) != NULL) {
        return e;
    }
    return cc_reply_no_content(ctx);
}

/* ---- GET /api/v1/auth/me ---- */

static cc_error_t *auth_me(cc_ctx_t *ctx)
{
    const cc_principal_t *pr = NULL;
    json_t *user = NULL;
    cc_error_t *e;

    if ((e = get_principal(ctx, &pr)) != NULL || (e = cc_db_acquire(ctx->db)) != NULL
        || (e = user_object(ctx, pr->home_tenant_id, pr->user_id_str, &user)) != NULL) {
        return e;
    }
    if (!user) {
        return cc_error_make(ctx->pool, HTTP_UNAUTHORIZED, CC_ERR_UNAUTHORIZED,
                             "unknown user");
    }
    /* Permissions in the effective tenant (X-Tenant-ID for platform admins). */
    json_object_set_new(user, "permissions", cc_perm_mask_to_json(pr->permissions));
    return cc_reply_json(ctx, HTTP_OK, user);
}

/* ---- POST /api/v1/auth/password ---- */

#define PASSWORD_MIN_CHARS 10
#define PASSWORD_MAX_CHARS 128

static const cc_field_t password_fields[] = {
    { "current_password", CC_JT_STRING, 1 },
    { "new_password", CC_JT_STRING, 1 },
    { NULL, CC_JT_STRING, 0 }
};

/* Store the new hash, revoke every refresh token of the user, audit (no event): one
 * transaction; an error leaves it open for the dispatcher to roll back. */
static cc_error_t *password_store(cc_ctx_t *ctx, const cc_principal_t *pr, const char *hash)
{
    const char *set_args[3] = { hash, pr->home_tenant_id, pr->user_id_str };
    const char *revoke_args[2] = { pr->home_tenant_id, pr->user_id_str };
    int nrows = 0;
    cc_error_t *e;

    if ((e = cc_db_begin(ctx->db)) != NULL) {
        return e;
    }
    if ((e = cc_db_exec(ctx->db, "cc_auth_user_password_set", 3, set_args, &nrows)) == NULL
        && nrows != 1) {
        e = cc_error_make(ctx->r->pool, HTTP_UNAUTHORIZED, CC_ERR_UNAUTHORIZED,
                          "unknown user");
    }
    if (!e) {
        e = cc_db_exec(ctx->db, "cc_auth_refresh_revoke_user", 2, revoke_args, NULL);
    }
    if (!e) {
        /* The audit entry belongs to the user's own tenant even when a platform admin
         * acts inside another one with X-Tenant-ID (cc_ctx_record would use that one). */
        e = cc_record(ctx->db, pr->home_tenant_id, cc_ctx_actor(ctx), "user",
                      "password_change", pr->user_id_str, NULL, NULL, CC_RECORD_NO_EVENT);
    }
    if (e) {
        return e;
    }
    return cc_db_commit(ctx->db);
}

static cc_error_t *auth_password(cc_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    const cc_principal_t *pr = NULL;
    json_t *body = NULL;
    const char *current, *fresh, *hash = NULL, *args[2], **row = NULL, *email_key;
    int ncols = 0, right;
    apr_status_t rv;
    cc_error_t *e;

    if ((e = get_principal(ctx, &pr)) != NULL
        || (e = cc_read_json_fields(ctx, password_fields, &body)) != NULL) {
        return e;
    }
    current = cc_json_str(body, "current_password");
    fresh = cc_json_str(body, "new_password");
    if (!cc_valid_text(fresh, PASSWORD_MIN_CHARS, PASSWORD_MAX_CHARS)) {
        return cc_error_field(r->pool, "new_password", "must be 10 to 128 characters");
    }
    args[0] = pr->home_tenant_id;
    args[1] = pr->user_id_str;
    if ((e = cc_db_acquire(ctx->db)) != NULL
        || (e = cc_db_select_row(ctx->db, "cc_auth_user_password_get", 2, args, &row, &ncols))
           != NULL) {
        return e;
    }
    if (!row || ncols < 1 || !row[0] || !pr->email) {
        return cc_error_make(r->pool, HTTP_UNAUTHORIZED, CC_ERR_UNAUTHORIZED, "unknown user");
    }
    /* Guesses at the current password count with the account's failed logins (the same
     * key), so a stolen access token buys no more guesses than the login form.  The
     * bcrypt slot comes first: a guess turned away as busy is not counted. */
    email_key = apr_pstrdup(r->pool, pr->email);
    ap_str_tolower((char *)email_key);
    if ((e = cc_auth_bcrypt_enter(ctx, auth_cfg(ctx))) != NULL) {
        return e;
    }
    e = cc_auth_throttle_attempt(ctx, auth_cfg(ctx), pr->home_tenant_id, email_key,
                                 "too many wrong passwords; try again later");
    right = !e && cc_password_verify(current, row[0]);
    rv = right ? cc_password_hash(r->pool, fresh, cc_auth_cfg_bcrypt_cost(auth_cfg(ctx)),
                                  &hash)
               : APR_SUCCESS;
    cc_auth_bcrypt_leave();
    if (e) {
        return e;
    }
    if (!right) {
        return cc_error_field(r->pool, "current_password", "is incorrect");
    }
    if ((e = cc_auth_throttle_reset(ctx, pr->home_tenant_id, email_key)) != NULL) {
        return e;
    }
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, CCLOGNO(01013)
                      "cannot hash the new password of user %s in tenant %s",
                      pr->user_id_str, pr->home_tenant_id);
        return cc_error_internal(r->pool);
    }
    if ((e = password_store(ctx, pr, hash)) != NULL) {
        return e;
    }
    return cc_reply_no_content(ctx);
}

/* ---- routes ---- */

/* Matched in order; login/refresh/logout are public (their credential is in the body),
 * me/password need the principal (AuthType CCBearer + Require cc-tenant in the config). */
static const cc_route_t auth_routes[] = {
    { "POST", "/api/v1/auth/login", auth_login, NULL, CC_ROUTE_PUBLIC },
    { "POST", "/api/v1/auth/refresh", auth_refresh, NULL, CC_ROUTE_PUBLIC },
    { "POST", "/api/v1/auth/logout", auth_logout, NULL, CC_ROUTE_PUBLIC },
    { "GET", "/api/v1/auth/me", auth_me, NULL, CC_ROUTE_AUTH },
    { "POST", "/api/v1/auth/password", auth_password, NULL, CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_auth_domain = { "auth", auth_routes, auth_stmts, NULL, NULL, NULL };
