/*
 * cc_recordings_rules.c (core): the pure part of /api/v1/recordings (cc_recordings_rules.h).
 */
#include <string.h>

#include "cc_recordings_rules.h"
#include "cc_json.h"
#include "cc_validate.h"

cc_error_t *cc_rec_input_read(apr_pool_t *p, json_t *body, rec_input_t *in)
{
    cc_error_t *err = NULL;
    const char *issue;

    memset(in, 0, sizeof(*in));
    in->cdr_uniqueid = cc_json_str(body, CC_KEY_CDR_UNIQUEID);
    in->path = cc_json_str(body, CC_KEY_PATH);
    in->format = cc_json_str(body, CC_KEY_FORMAT);
    if (!in->cdr_uniqueid || !cc_valid_name(in->cdr_uniqueid, 1, CC_REC_UNIQUEID_MAX)) {
        err = cc_error_collect(p, err, CC_KEY_CDR_UNIQUEID,
                               "must be 1 to 150 characters, no control characters");
    }
    if ((issue = cc_files_path_split(p, in->path, &in->parts))) {
        err = cc_error_collect(p, err, CC_KEY_PATH, issue);
    }
    if (!in->format || !cc_valid_enum(in->format, cc_audio_formats)) {
        err = cc_error_collect(p, err, CC_KEY_FORMAT, CC_AUDIO_FORMAT_ISSUE);
    }
    return err;
}
