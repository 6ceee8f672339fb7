/**
 * @file cc_recordings_rules.h
 * @brief (core) The pure part of /api/v1/recordings: what a body may say, the formats and
 *        their media types, and opening a client's path beneath the tenant's directory
 *        without following any symbolic link.  No httpd and no database (POSIX only):
 *        unit-tested (t/unit/test_cc_recordings_rules.c); mod_callcenter/cc_recordings.c
 *        is its glue.
 */
#ifndef CC_RECORDINGS_RULES_H
#define CC_RECORDINGS_RULES_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>
#include "cc_error.h"

#define CC_KEY_CDR_UNIQUEID "cdr_uniqueid"
#define CC_KEY_PATH         "path"
#define CC_KEY_FORMAT       "format"

/* cdr.uniqueid is VARCHAR(150). */
#define CC_REC_UNIQUEID_MAX 150
/* A path: at most this many bytes, components and bytes per component (NAME_MAX). */
#define CC_REC_PATH_MAX      1024
#define CC_REC_DEPTH_MAX     32
#define CC_REC_COMPONENT_MAX 255

/** The formats a recording may have (what MixMonitor/Monitor write). */
extern const char *const recording_formats[];

/** The Content-Type a format is served with (NULL for an unknown format). */
const char *cc_rec_content_type(const char *format);

/**
 * A client's path, relative to the tenant's recordings directory, as its components
 * (*pparts, of const char *): NULL when it is acceptable, else the issue.  Refused: an
 * empty or absolute path, control characters, empty, "." or ".." components, more than
 * CC_REC_PATH_MAX bytes, CC_REC_DEPTH_MAX components or CC_REC_COMPONENT_MAX bytes in one.
 */
const char *cc_rec_path_split(apr_pool_t *p, const char *path, apr_array_header_t **pparts);

/** What a create body says (every field required). */
typedef struct rec_input_t {
    const char *cdr_uniqueid;
    const char *path;
    const char *format;
    apr_array_header_t *parts;   /**< path's components (cc_rec_path_split) */
} rec_input_t;

/** Read and check a create body (fields present, of the right types): every problem. */
cc_error_t *cc_rec_input_read(apr_pool_t *p, json_t *body, rec_input_t *in);

/** How cc_rec_open_beneath resolves. */
#define CC_REC_RESOLVE_AUTO 0   /**< openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) when
                                     the kernel has it, else the component walk */
#define CC_REC_RESOLVE_WALK 1   /**< the component walk: openat(O_NOFOLLOW) per component */

/**
 * Open the first n components of parts beneath the directory dirfd, no symbolic link
 * followed anywhere (a link is refused whether it leads in or out), and nothing above
 * dirfd reachable (parts has no ".." after cc_rec_path_split).  dir: open the result as
 * a directory (O_DIRECTORY), else as a file for reading (O_NONBLOCK, so a FIFO cannot
 * block; the caller checks the type with fstat).  n == 0 gives a new descriptor of
 * dirfd.  Returns the descriptor (O_CLOEXEC), or -1 with errno: ELOOP for a symbolic
 * link, ENOTDIR for a component that is not a directory, ENOENT, EACCES, ...
 */
int cc_rec_open_beneath(int dirfd, const apr_array_header_t *parts, int n, int dir,
                        int resolve);

/**
 * The 400 issue of an errno from cc_rec_open_beneath (NULL: not the client's fault, an
 * internal error).
 */
const char *cc_rec_open_issue(int err);

#endif
