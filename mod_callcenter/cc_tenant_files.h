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
 * Answer a download (GET .../audio, GET /attachments/{id}) with the stored path's file
 * (object id, for the log) as a file bucket of content_type, with the file's validators
 * (ETag, Last-Modified), X-Content-Type-Options: nosniff and, when given, a
 * Content-Disposition: httpd then answers Range, If-Range, If-None-Match and HEAD.  A
 * file no longer servable is 404 (logged, CC03773).
 */
cc_error_t *cc_tfiles_send(cc_ctx_t *ctx, const cc_tfiles_t *area, const char *id,
                           const char *path, const char *content_type,
                           const char *disposition);

/**
 * Create a new file named name (one component, made by the server) in the tenant's
 * directory, making that directory (0750) when it is missing; the tenant's directory is
 * opened without following a link, the file with O_EXCL | O_NOFOLLOW (0640).  *pfd is
 * closed with the request pool, and the file is removed when the pool goes unless
 * cc_tfiles_keep is called first (an upload whose row did not commit leaves nothing).
 * No directory configured is 503 (logged).
 */
cc_error_t *cc_tfiles_create(cc_ctx_t *ctx, const cc_tfiles_t *area, const char *name,
                             int *pfd);

/** Keep the file cc_tfiles_create made for name (its row has committed). */
void cc_tfiles_keep(cc_ctx_t *ctx, const char *name);

/**
 * Remove the stored path's file once the transaction commits (cc_db_after_commit):
 * unlinkat in its directory, opened beneath the tenant's like any other open, so the
 * name is never resolved through a link (a link there is itself removed).  A file
 * already gone is logged at info.  Nothing when no directory is configured.
 */
void cc_tfiles_remove_after_commit(cc_ctx_t *ctx, const cc_tfiles_t *area,
                                   const char *path);

#endif
