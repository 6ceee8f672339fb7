/**
 * @file cc_files.h
 * @brief (core) Files clients name beneath a tenant's directory (recordings, voicemail):
 *        checking a client's relative path, opening it beneath the directory without
 *        following any symbolic link, the 400 issue of a refused open, and the audio
 *        formats with their media types.  No httpd and no database (POSIX only):
 *        unit-tested (t/unit/test_cc_files.c); mod_callcenter/cc_tenant_files.c is the
 *        glue the domains share.
 */
#ifndef CC_FILES_H
#define CC_FILES_H

#include <apr_pools.h>
#include <apr_tables.h>

/* A path: at most this many bytes, components and bytes per component (NAME_MAX). */
#define CC_FILES_PATH_MAX      1024
#define CC_FILES_DEPTH_MAX     32
#define CC_FILES_COMPONENT_MAX 255

/** The audio formats a file may have (what MixMonitor and app_voicemail write). */
extern const char *const cc_audio_formats[];

/** The detail of a format that is not one of cc_audio_formats. */
#define CC_AUDIO_FORMAT_ISSUE "must be one of: wav, wav49, gsm, mp3, ogg"

/** The Content-Type an audio format is served with (NULL for an unknown format). */
const char *cc_audio_content_type(const char *format);

/**
 * A client's path, relative to the tenant's directory, as its components (*pparts, of
 * const char *): NULL when it is acceptable, else the issue.  Refused: an empty or
 * absolute path, control characters, empty, "." or ".." components, more than
 * CC_FILES_PATH_MAX bytes, CC_FILES_DEPTH_MAX components or CC_FILES_COMPONENT_MAX bytes
 * in one.
 */
const char *cc_files_path_split(apr_pool_t *p, const char *path,
                                apr_array_header_t **pparts);

/** How cc_files_open_beneath resolves. */
#define CC_FILES_RESOLVE_AUTO 0   /**< openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) when
                                       the kernel has it, else the component walk */
#define CC_FILES_RESOLVE_WALK 1   /**< the component walk: openat(O_NOFOLLOW) per component */

/**
 * Open the first n components of parts beneath the directory dirfd, no symbolic link
 * followed anywhere (a link is refused whether it leads in or out), and nothing above
 * dirfd reachable (parts has no ".." after cc_files_path_split).  dir: open the result
 * as a directory (O_DIRECTORY), else as a file for reading (O_NONBLOCK, so a FIFO cannot
 * block; the caller checks the type with fstat).  n == 0 gives a new descriptor of
 * dirfd.  Returns the descriptor (O_CLOEXEC), or -1 with errno: ELOOP for a symbolic
 * link, ENOTDIR for a component that is not a directory, ENOENT, EACCES, ...
 */
int cc_files_open_beneath(int dirfd, const apr_array_header_t *parts, int n, int dir,
                          int resolve);

/**
 * The 400 issue of an errno from cc_files_open_beneath (NULL: not the client's fault,
 * an internal error).
 */
const char *cc_files_open_issue(int err);

#endif
