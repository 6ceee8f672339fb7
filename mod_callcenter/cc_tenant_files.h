/**
 * @file cc_tenant_files.h
 * @brief (glue) Files under a directory a directive names, one subdirectory per tenant id
 *        (recordings: CCRecordingsDir, voicemail: CCVoicemailDir): opened beneath the
 *        tenant's directory without following links (shared/cc_files.h), streamed as a
 *        file bucket, and removed once a row's delete has committed.  Shared by
 *        cc_recordings.c and cc_voicemails.c.
 */
#ifndef CC_TENANT_FILES_H
#define CC_TENANT_FILES_H

#include <sys/stat.h>

#include "cc_api_private.h"
#include "cc_files.h"

/** A directory of tenant files. */
typedef struct cc_tfiles_t {
    const char *root;        /**< the directive's directory (absolute), NULL when unset */
    const char *directive;   /**< "CCRecordingsDir", for the log */
    const char *what;        /**< "recording", for the log and messages */
} cc_tfiles_t;

/**
 * Open the file parts names (components of a checked path) beneath the tenant's
 * directory for reading; *pfd (closed with the request pool) and *pst its fstat.  A path
 * that is not the client's to give (a link, out of the directory, missing, not a regular
 * file, a file with other hard links) is *pissue (*pfd -1); no directory configured is
 * 503 (logged); any other failure an internal error, logged.
 */
cc_error_t *cc_tfiles_open(cc_ctx_t *ctx, const cc_tfiles_t *area,
                           const apr_array_header_t *parts, int *pfd, struct stat *pst,
                           const char **pissue);

/**
 * Answer GET .../audio with the stored path's file (object id, for the log) as a file
 * bucket of format's Content-Type, with the file's validators (ETag, Last-Modified):
 * httpd then answers Range, If-Range, If-None-Match and HEAD.  A file no longer
 * servable is 404 (logged, CC03773).
 */
cc_error_t *cc_tfiles_send(cc_ctx_t *ctx, const cc_tfiles_t *area, const char *id,
                           const char *path, const char *format);

/**
 * Remove the stored path's file once the transaction commits (cc_db_after_commit):
 * unlinkat in its directory, opened beneath the tenant's like any other open, so the
 * name is never resolved through a link (a link there is itself removed).  A file
 * already gone is logged at info.  Nothing when no directory is configured.
 */
void cc_tfiles_remove_after_commit(cc_ctx_t *ctx, const cc_tfiles_t *area,
                                   const char *path);

#endif
