/**
 * @file cc_recordings_rules.h
 * @brief (core) The pure part of /api/v1/recordings: what a body may say.  Paths,
 *        formats and opening beneath the tenant's directory are shared with voicemail
 *        (shared/cc_files.h).  No httpd and no database: unit-tested
 *        (t/unit/test_cc_recordings_rules.c); mod_callcenter/cc_recordings.c is its glue.
 */
#ifndef CC_RECORDINGS_RULES_H
#define CC_RECORDINGS_RULES_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>
#include "cc_error.h"
#include "cc_files.h"

#define CC_KEY_CDR_UNIQUEID "cdr_uniqueid"
#define CC_KEY_PATH         "path"
#define CC_KEY_FORMAT       "format"

/* cdr.uniqueid is VARCHAR(150). */
#define CC_REC_UNIQUEID_MAX 150

/** What a create body says (every field required). */
typedef struct rec_input_t {
    const char *cdr_uniqueid;
    const char *path;
    const char *format;
    apr_array_header_t *parts;   /**< path's components (cc_files_path_split) */
} rec_input_t;

/** Read and check a create body (fields present, of the right types): every problem. */
cc_error_t *cc_rec_input_read(apr_pool_t *p, json_t *body, rec_input_t *in);

#endif
