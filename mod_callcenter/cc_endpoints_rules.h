/**
 * @file cc_endpoints_rules.h
 * @brief (core) The pure part of /api/v1/endpoints: what a body may say, what a create
 *        starts from, how a change applies to an endpoint, what it changes.  No httpd and
 *        no database: unit-tested (t/unit/test_cc_endpoints_rules.c);
 *        mod_callcenter/cc_endpoints.c is its glue.
 */
#ifndef CC_ENDPOINTS_RULES_H
#define CC_ENDPOINTS_RULES_H

#include <apr_pools.h>
#include <jansson.h>
#include "cc_error.h"

#define CC_KEY_EXTENSION    "extension"
#define CC_KEY_SIP_USERNAME "sip_username"
#define CC_KEY_USER_ID      "user_id"
#define CC_KEY_CONTEXT      "context"
#define CC_KEY_ALLOW        "allow"
#define CC_KEY_MAX_CONTACTS "max_contacts"
#define CC_KEY_WEBRTC       "webrtc"
#define CC_KEY_PASSWORD     "password"
#define CC_KEY_SIP_PASSWORD "sip_password"

#define MAX_CONTACTS_MIN    1
#define MAX_CONTACTS_MAX    10
/* Ids are JSON integers; keep them exact in every client (2^53, as cc_parse_id). */
#define CC_ID_MAX           APR_INT64_C(9007199254740992)

#define ALLOW_DEFAULT        "ulaw,alaw"
#define ALLOW_DEFAULT_WEBRTC "opus,ulaw,alaw"

/* What a body asks for; NULL members are absent. */
typedef struct ep_input_t {
    const char *extension;
    int has_user;            /* user_id present (null included) */
    const char *user_id;     /* canonical decimal; NULL when absent or null */
    const char *password;
    const char *allow;       /* canonical (cc_ast_parse_codecs) */
    const char *max_contacts;
    int has_webrtc;
    int webrtc;
} ep_input_t;

/* The writable settings of an endpoint, stored or to be. */
typedef struct ep_values_t {
    const char *user_id;     /* NULL: no user */
    const char *allow;
    const char *max_contacts;
    int webrtc;
} ep_values_t;

/** Validate whatever fields body carries (types already checked); every problem at once.
 *  A bad password is never quoted back. */
cc_error_t *cc_endpoints_input_read(apr_pool_t *p, json_t *body, ep_input_t *in);

/** The values a create starts from, into *v: in's, the defaults filled in (allow by
 *  webrtc, one contact). */
void cc_endpoints_create_values(const ep_input_t *in, ep_values_t *v);

/** cur with in applied, into *out.  allow stays what it is unless given: flipping webrtc
 *  does not rewrite the codecs someone chose. */
void cc_endpoints_merge(const ep_values_t *cur, const ep_input_t *in, ep_values_t *out);

/** {"field": {"from": old, "to": new}} for each setting that changes, owned by p. */
json_t *cc_endpoints_values_diff(apr_pool_t *p, const ep_values_t *a, const ep_values_t *b);

#endif
