/*
 * cc_endpoints_rules.c (core): the pure part of /api/v1/endpoints (cc_endpoints_rules.h).
 */
#include <string.h>

#include <apr_strings.h>

#include "cc_endpoints_rules.h"
#include "cc_asterisk.h"
#include "cc_json.h"
#include "cc_validate.h"

cc_error_t *cc_endpoints_input_read(apr_pool_t *p, json_t *body, ep_input_t *in)
{
    const char *allow = cc_json_str(body, CC_KEY_ALLOW);
    cc_error_t *err = NULL;

    memset(in, 0, sizeof(*in));
    in->extension = cc_json_str(body, CC_KEY_EXTENSION);
    in->password = cc_json_str(body, CC_KEY_PASSWORD);
    in->has_user = cc_json_has(body, CC_KEY_USER_ID);
    in->has_webrtc = cc_json_has(body, CC_KEY_WEBRTC);
    in->webrtc = cc_json_bool(body, CC_KEY_WEBRTC, 0);
    if (in->extension && !cc_valid_extension(in->extension)) {
        err = cc_error_collect(p, err, CC_KEY_EXTENSION, "must be 2 to 8 digits");
    }
    if (in->has_user && !json_is_null(json_object_get(body, CC_KEY_USER_ID))) {
        json_int_t v = cc_json_int(body, CC_KEY_USER_ID, 0);

        if (v < 1 || v > CC_ID_MAX) {
            err = cc_error_collect(p, err, CC_KEY_USER_ID, "must be a positive integer");
        }
        else {
            in->user_id = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)v);
        }
    }
    /* The message never quotes the password back. */
    if (in->password && !cc_ast_valid_sip_password(in->password)) {
        err = cc_error_collect(p, err, CC_KEY_PASSWORD,
                               "must be 12 to 80 printable ASCII characters without"
                               " spaces, quotes, backslashes or semicolons");
    }
    if (allow && !cc_ast_parse_codecs(p, allow, &in->allow)) {
        err = cc_error_collect(p, err, CC_KEY_ALLOW,
                               "must be 1 to 10 distinct codecs, comma-separated, from:"
                               " ulaw, alaw, g722, g729, gsm, opus, ilbc, speex, g726,"
                               " slin, h264, vp8, vp9");
    }
    if (cc_json_has(body, CC_KEY_MAX_CONTACTS)) {
        json_int_t v = cc_json_int(body, CC_KEY_MAX_CONTACTS, 0);

        if (v < MAX_CONTACTS_MIN || v > MAX_CONTACTS_MAX) {
            err = cc_error_collect(p, err, CC_KEY_MAX_CONTACTS, "must be 1 to 10");
        }
        else {
            in->max_contacts = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)v);
        }
    }
    return err;
}

void cc_endpoints_create_values(const ep_input_t *in, ep_values_t *v)
{
    v->user_id = in->user_id;
    v->webrtc = in->webrtc;
    v->allow = in->allow ? in->allow : (in->webrtc ? ALLOW_DEFAULT_WEBRTC : ALLOW_DEFAULT);
    v->max_contacts = in->max_contacts ? in->max_contacts : "1";
}

void cc_endpoints_merge(const ep_values_t *cur, const ep_input_t *in, ep_values_t *out)
{
    out->user_id = in->has_user ? in->user_id : cur->user_id;
    out->allow = in->allow ? in->allow : cur->allow;
    out->max_contacts = in->max_contacts ? in->max_contacts : cur->max_contacts;
    out->webrtc = in->has_webrtc ? in->webrtc : cur->webrtc;
}

json_t *cc_endpoints_values_diff(apr_pool_t *p, const ep_values_t *a, const ep_values_t *b)
{
    json_t *changes = cc_json_object(p);

    if (!cc_str_same(a->user_id, b->user_id)) {
        cc_audit_change(changes, CC_KEY_USER_ID, cc_json_int_or_null(a->user_id),
                        cc_json_int_or_null(b->user_id));
    }
    cc_audit_change_str(changes, CC_KEY_ALLOW, a->allow, b->allow);
    if (!cc_str_same(a->max_contacts, b->max_contacts)) {
        cc_audit_change(changes, CC_KEY_MAX_CONTACTS, cc_json_int_or_null(a->max_contacts),
                        cc_json_int_or_null(b->max_contacts));
    }
    if (a->webrtc != b->webrtc) {
        cc_audit_change(changes, CC_KEY_WEBRTC, json_boolean(a->webrtc),
                        json_boolean(b->webrtc));
    }
    return changes;
}
