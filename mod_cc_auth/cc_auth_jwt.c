/**
 * @file cc_auth_jwt.c
 * @brief (core) HS256 access tokens over libjwt 1.10.2: every claim check is ours.
 *
 * Only APR, jansson, libjwt, libc and shared core headers: this file is linked into
 * every unit-test runner (Makefile UNIT_MODULE_CORE).
 */
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <apr_strings.h>
#include <apr_file_io.h>
#include <jansson.h>
#include <jwt.h>

#include "cc_auth_jwt.h"
#include "cc_crypto.h"
#include "cc_json.h"
#include "cc_validate.h"

/* ---- Authorization header ---- */

static int token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
           || c == '.' || c == '_' || c == '-';
}

/* 1 when s is 1..CC_AUTH_JWT_MAX_LEN token chars. */
static int token_syntax_ok(const char *s)
{
    apr_size_t n;

    for (n = 0; s[n]; n++) {
        if (n >= CC_AUTH_JWT_MAX_LEN || !token_char(s[n])) {
            return 0;
        }
    }
    return n > 0;
}

cc_auth_bearer_e cc_auth_bearer_parse(const char *header, const char **ptoken)
{
    *ptoken = NULL;
    if (!header || strncasecmp(header, "Bearer", 6) != 0) {
        return CC_AUTH_BEARER_NONE;
    }
    if (header[6] == '\0') {
        return CC_AUTH_BEARER_MALFORMED;
    }
    if (header[6] != ' ') {
        /* "Bearerx ..." is some other scheme, not a malformed bearer. */
        return header[6] == '\t' ? CC_AUTH_BEARER_MALFORMED : CC_AUTH_BEARER_NONE;
    }
    if (!token_syntax_ok(header + 7)) {
        return CC_AUTH_BEARER_MALFORMED;
    }
    *ptoken = header + 7;
    return CC_AUTH_BEARER_OK;
}

/* ---- verification ---- */

/*
 * Exactly three non-empty segments.  Not only tidiness: libjwt 1.10.2's jwt_b64_decode
 * mallocs 0 bytes for an empty segment and then writes past it (valgrind: "Invalid
 * write" on "a..c"), so such strings must never reach jwt_decode.
 */
static int token_shape_ok(const char *s)
{
    int dots = 0;
    const char *seg = s;

    for (;; s++) {
        if (*s == '.' || *s == '\0') {
            if (s == seg) {
                return 0;
            }
            if (*s == '\0') {
                return dots == 2;
            }
            dots++;
            seg = s + 1;
        }
    }
}

static apr_status_t jwt_cleanup(void *data)
{
    jwt_free(data);
    return APR_SUCCESS;
}

/* The payload as a pool-owned jansson object: libjwt 1.10's typed getters can't tell a
 * string claim from a missing one (jwt_get_grant_int gives 0 for "7"), so we read the
 * claims' JSON and check each type ourselves. */
static json_t *claims_json(apr_pool_t *p, jwt_t *jwt)
{
    char *text = jwt_get_grants_json(jwt, NULL);
    json_t *claims;

    if (!text) {
        return NULL;
    }
    claims = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    free(text);
    if (claims && !json_is_object(claims)) {
        json_decref(claims);
        return NULL;
    }
    return cc_json_own(p, claims);
}

/*
 * The JOSE header as sent: alg exactly "HS256" (names are case-sensitive, RFC 7515
 * 4.1.1, and libjwt compares them without case) and no crit (4.1.11: a recipient must
 * refuse extensions it does not understand, and we understand none).  NULL when it is
 * acceptable, else why not.
 */
static const char *check_header(jwt_t *jwt)
{
    char *text = jwt_get_headers_json(jwt, NULL);
    json_t *header = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
    const json_t *alg = json_object_get(header, "alg");
    const char *why = NULL;

    free(text);
    if (!json_is_object(header)) {
        why = "invalid header";
    }
    else if (!json_is_string(alg) || strcmp(json_string_value(alg), "HS256")) {
        why = "unsupported alg";
    }
    else if (json_object_get(header, "crit")) {
        why = "unsupported crit header";
    }
    json_decref(header);
    return why;
}

/* An optional NumericDate claim: 0 absent, 1 present (*pv set), -1 not an integer. */
static int int_claim(const json_t *claims, const char *name, apr_int64_t *pv)
{
    const json_t *v = json_object_get(claims, name);

    if (!v) {
        return 0;
    }
    if (!json_is_integer(v)) {
        return -1;
    }
    *pv = (apr_int64_t)json_integer_value(v);
    return 1;
}

static const char *str_claim(const json_t *claims, const char *name)
{
    const json_t *v = json_object_get(claims, name);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The time claims; returns NULL when fine, else the reason. */
static const char *check_times(const json_t *claims, apr_int64_t now, apr_int64_t leeway)
{
    apr_int64_t exp = 0, nbf = 0, iat = 0;
    int rc;

    rc = int_claim(claims, "exp", &exp);
    if (rc == 0) {
        return "missing exp";
    }
    if (rc < 0) {
        return "invalid exp";
    }
    if (exp + leeway <= now) {
        return "token expired";
    }
    rc = int_claim(claims, "nbf", &nbf);
    if (rc < 0 || (rc > 0 && nbf > now + leeway)) {
        return "token not yet valid";
    }
    rc = int_claim(claims, "iat", &iat);
    if (rc < 0 || (rc > 0 && iat > now + leeway)) {
        return "invalid iat";
    }
    return NULL;
}

/* Identity claims into id; returns NULL when fine, else the reason. */
static const char *check_identity(apr_pool_t *p, const json_t *claims, const char *issuer,
                                  cc_identity_t *id)
{
    const char *iss = str_claim(claims, "iss");
    const char *sub = str_claim(claims, "sub");
    const char *tid = str_claim(claims, "tid");
    const json_t *jti = json_object_get(claims, "jti");

    if (!iss) {
        return "missing iss";
    }
    if (!issuer || strcmp(iss, issuer) != 0) {
        return "wrong issuer";
    }
    if (!sub || !cc_parse_id(sub, &id->user_id)) {
        return "missing or invalid sub";
    }
    if (!tid || !cc_valid_uuid(tid)) {
        return "missing or invalid tid";
    }
    if (jti && !json_is_string(jti)) {
        return "invalid jti";
    }
    id->user_id_str = apr_pstrdup(p, sub);
    id->tenant_id = apr_pstrdup(p, tid);
    id->jti = jti ? apr_pstrdup(p, json_string_value(jti)) : NULL;
    return NULL;
}

apr_status_t cc_auth_jwt_verify(apr_pool_t *p, const unsigned char *key, apr_size_t keylen,
                                const char *issuer, apr_int64_t now, apr_int64_t leeway,
                                const char *token, const cc_identity_t **pid,
                                const char **preason)
{
    jwt_t *jwt = NULL;
    json_t *claims;
    cc_identity_t *id;
    const char *why;

    *pid = NULL;
    *preason = "malformed token";
    /* Never decode without a key: libjwt then accepts anything unverified. */
    if (!key || keylen < CC_AUTH_JWT_MIN_KEY_LEN || keylen > 65536) {
        *preason = "no key configured";
        return APR_EINVAL;
    }
    if (!token || !token_syntax_ok(token) || !token_shape_ok(token)) {
        return APR_EINVAL;
    }
    if (jwt_decode(&jwt, token, key, (int)keylen) != 0 || !jwt) {
        *preason = "invalid token";
        return APR_EINVAL;
    }
    apr_pool_cleanup_register(p, jwt, jwt_cleanup, apr_pool_cleanup_null);

    /* libjwt verifies HS384/HS512 with the same secret too; only HS256 is ours. */
    if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
        *preason = "unsupported alg";
        return APR_EINVAL;
    }
    if ((why = check_header(jwt)) != NULL) {
        *preason = why;
        return APR_EINVAL;
    }
    claims = claims_json(p, jwt);
    if (!claims) {
        return APR_EINVAL;
    }
    id = apr_pcalloc(p, sizeof(*id));
    if ((why = check_times(claims, now, leeway)) != NULL
        || (why = check_identity(p, claims, issuer, id)) != NULL) {
        *preason = why;
        return APR_EINVAL;
    }
    int_claim(claims, "exp", &id->exp);
    *preason = NULL;
    *pid = id;
    return APR_SUCCESS;
}

/* ---- issuing ---- */

apr_status_t cc_auth_jwt_issue(apr_pool_t *p, const unsigned char *key, apr_size_t keylen,
                               const char *issuer, apr_int64_t now, apr_int64_t ttl,
                               const char *sub, const char *tid, const char *jti,
                               const char **ptoken)
{
    jwt_t *jwt = NULL;
    char *out;
    apr_status_t rv;

    *ptoken = NULL;
    if (!key || keylen < CC_AUTH_JWT_MIN_KEY_LEN || keylen > 65536 || !issuer || !sub
        || !tid || ttl <= 0) {
        return APR_EINVAL;
    }
    if (!jti && (rv = cc_random_token(p, 16, &jti)) != APR_SUCCESS) {
        return rv;
    }
    if (jwt_new(&jwt) != 0 || !jwt) {
        return APR_ENOMEM;
    }
    apr_pool_cleanup_register(p, jwt, jwt_cleanup, apr_pool_cleanup_null);
    if (jwt_add_grant(jwt, "iss", issuer) || jwt_add_grant(jwt, "sub", sub)
        || jwt_add_grant(jwt, "tid", tid) || jwt_add_grant(jwt, "jti", jti)
        || jwt_add_grant_int(jwt, "iat", (long)now)
        || jwt_add_grant_int(jwt, "exp", (long)(now + ttl))
        || jwt_set_alg(jwt, JWT_ALG_HS256, key, (int)keylen)) {
        return APR_EINVAL;
    }
    out = jwt_encode_str(jwt);
    if (!out) {
        return APR_ENOMEM;
    }
    *ptoken = apr_pstrdup(p, out);
    free(out);
    return APR_SUCCESS;
}

/* ---- key file ---- */

apr_status_t cc_auth_jwt_load_key(apr_pool_t *p, const char *path,
                                  const unsigned char **pkey, apr_size_t *pkeylen,
                                  const char **perr)
{
    const char *buf;
    apr_size_t len;
    apr_status_t rv;

    *pkey = NULL;
    *pkeylen = 0;
    rv = cc_secret_file_read(p, path, "JWT key file", CC_AUTH_JWT_MIN_KEY_LEN, &buf, &len,
                             perr);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *pkey = (const unsigned char *)buf;
    *pkeylen = len;
    return APR_SUCCESS;
}
