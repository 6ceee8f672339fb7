/*
 * cc_dids_rules.c (core): the pure part of /api/v1/dids (cc_dids_rules.h).
 */
#include <string.h>

#include <apr_strings.h>

#include "cc_dids_rules.h"
#include "cc_json.h"
#include "cc_validate.h"

const char *const did_statuses[] = { "active", "inactive", NULL };
const char *const did_dest_types[] = { "none", "queue", "user", "endpoint", "voicemail",
                                       NULL };

cc_error_t *cc_dids_input_read(apr_pool_t *p, json_t *body, did_input_t *in)
{
    cc_error_t *err = NULL;

    memset(in, 0, sizeof(*in));
    in->number = cc_json_str(body, CC_KEY_NUMBER);
    in->description = cc_json_str(body, CC_KEY_DESCRIPTION);
    in->dest_type = cc_json_str(body, CC_KEY_DEST_TYPE);
    in->status = cc_json_str(body, CC_KEY_STATUS);
    in->has_dest_id = cc_json_has(body, CC_KEY_DEST_ID);
    in->dest_touched = in->dest_type || in->has_dest_id;
    if (in->number && !cc_valid_e164(in->number)) {
        err = cc_error_collect(p, err, CC_KEY_NUMBER,
                               "must be E.164: + then 8 to 15 digits, the first not 0");
    }
    if (in->description && !cc_valid_text(in->description, 0, CC_DESCRIPTION_MAX)) {
        err = cc_error_collect(p, err, CC_KEY_DESCRIPTION,
                               "must be at most 500 characters, no control characters");
    }
    if (in->dest_type && !cc_valid_enum(in->dest_type, did_dest_types)) {
        err = cc_error_collect(p, err, CC_KEY_DEST_TYPE,
                               "must be one of: none, queue, user, endpoint, voicemail");
    }
    if (in->has_dest_id && !json_is_null(json_object_get(body, CC_KEY_DEST_ID))) {
        json_int_t v = cc_json_int(body, CC_KEY_DEST_ID, 0);

        if (v < 1 || v > CC_DEST_ID_MAX) {
            err = cc_error_collect(p, err, CC_KEY_DEST_ID, "must be a positive integer");
        }
        else {
            in->dest_id = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)v);
        }
    }
    if (in->status && !cc_valid_enum(in->status, did_statuses)) {
        err = cc_error_collect(p, err, CC_KEY_STATUS, "must be one of: active, inactive");
    }
    return err;
}

cc_error_t *cc_dids_merge(apr_pool_t *p, const did_values_t *cur, const did_input_t *in,
                          did_values_t *out)
{
    cc_error_t *err = NULL;

    out->number = in->number ? in->number : cur->number;
    out->description = in->description ? in->description : cur->description;
    out->status = in->status ? in->status : cur->status;
    out->dest_type = in->dest_type ? in->dest_type : cur->dest_type;
    if (in->has_dest_id) {
        out->dest_id = in->dest_id;
    }
    else if (in->dest_type && strcmp(in->dest_type, cur->dest_type)) {
        out->dest_id = NULL;
    }
    else {
        out->dest_id = cur->dest_id;
    }
    if (!in->dest_touched) {
        return NULL;
    }
    if (!strcmp(out->dest_type, DEST_NONE)) {
        if (out->dest_id) {
            err = cc_error_collect(p, err, CC_KEY_DEST_ID,
                                   "must be null when destination_type is none");
        }
        return err;
    }
    if (!out->dest_id) {
        err = cc_error_collect(p, err, CC_KEY_DEST_ID,
                               apr_psprintf(p, "required (a positive integer) when "
                                            "destination_type is %s", out->dest_type));
    }
    return err;
}

json_t *cc_dids_values_json(apr_pool_t *p, const did_values_t *v)
{
    json_t *o = cc_json_object(p);

    cc_json_set_str(o, CC_KEY_NUMBER, v->number);
    cc_json_set_str(o, CC_KEY_DESCRIPTION, v->description);
    cc_json_set_str(o, CC_KEY_DEST_TYPE, v->dest_type);
    json_object_set_new(o, CC_KEY_DEST_ID, cc_json_int_or_null(v->dest_id));
    cc_json_set_str(o, CC_KEY_STATUS, v->status);
    return o;
}

json_t *cc_dids_values_diff(apr_pool_t *p, const did_values_t *a, const did_values_t *b)
{
    json_t *changes = cc_json_object(p);

    cc_audit_change_str(changes, CC_KEY_NUMBER, a->number, b->number);
    cc_audit_change_str(changes, CC_KEY_DESCRIPTION, a->description, b->description);
    cc_audit_change_str(changes, CC_KEY_DEST_TYPE, a->dest_type, b->dest_type);
    if (!cc_str_same(a->dest_id, b->dest_id)) {
        cc_audit_change(changes, CC_KEY_DEST_ID, cc_json_int_or_null(a->dest_id),
                        cc_json_int_or_null(b->dest_id));
    }
    cc_audit_change_str(changes, CC_KEY_STATUS, a->status, b->status);
    return changes;
}
