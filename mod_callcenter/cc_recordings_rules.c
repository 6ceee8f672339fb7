/*
 * cc_recordings_rules.c (core): the pure part of /api/v1/recordings (cc_recordings_rules.h).
 *
 * Opening beneath the tenant's directory: openat2(2) with RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS (Linux 5.6+) resolves the whole path in the kernel, refusing any
 * symbolic link and anything outside the directory; where the kernel (or a seccomp
 * filter) lacks it, the same result comes from opening one component at a time with
 * openat(O_NOFOLLOW) from the previous component's descriptor.  Either way nothing is
 * resolved by name twice, so a link swapped in between a check and the open cannot
 * redirect it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* F_DUPFD_CLOEXEC, O_NOFOLLOW */
#endif
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#if defined(__linux__) && defined(SYS_openat2)
#include <linux/openat2.h>
#define CC_HAVE_OPENAT2 1
#endif

#include <apr_strings.h>

#include "cc_recordings_rules.h"
#include "cc_json.h"
#include "cc_validate.h"

/* The order of recording_formats and rec_types is the same. */
const char *const recording_formats[] = { "wav", "wav49", "gsm", "mp3", "ogg", NULL };

/* wav49 is GSM 6.10 in a RIFF/WAVE container (Asterisk's .WAV): a WAVE file. */
static const char *const rec_types[] = { "audio/wav", "audio/wav", "audio/x-gsm",
                                         "audio/mpeg", "audio/ogg", NULL };

const char *cc_rec_content_type(const char *format)
{
    int i;

    for (i = 0; format && recording_formats[i]; i++) {
        if (!strcmp(format, recording_formats[i])) {
            return rec_types[i];
        }
    }
    return NULL;
}

const char *cc_rec_path_split(apr_pool_t *p, const char *path, apr_array_header_t **pparts)
{
    apr_array_header_t *parts;
    const char *s, *start;

    *pparts = NULL;
    if (!path || !*path) {
        return "must not be empty";
    }
    if (strlen(path) > CC_REC_PATH_MAX) {
        return "must be at most 1024 bytes";
    }
    for (s = path; *s; s++) {
        if (cc_control_len(s)) {
            return "must not contain control characters";
        }
    }
    if (path[0] == '/') {
        return "must be relative to the tenant's recordings directory";
    }
    parts = apr_array_make(p, 4, sizeof(const char *));
    for (start = s = path;; s++) {
        if (*s == '/' || *s == '\0') {
            apr_size_t len = (apr_size_t)(s - start);

            if (len == 0) {
                return "must not have empty components (// or a trailing /)";
            }
            if ((len == 1 && start[0] == '.') || (len == 2 && !strncmp(start, "..", 2))) {
                return "must not have . or .. components";
            }
            if (len > CC_REC_COMPONENT_MAX) {
                return "must not have a component longer than 255 bytes";
            }
            if (parts->nelts == CC_REC_DEPTH_MAX) {
                return "must not have more than 32 components";
            }
            APR_ARRAY_PUSH(parts, const char *) = apr_pstrmemdup(p, start, len);
            if (!*s) {
                break;
            }
            start = s + 1;
        }
    }
    *pparts = parts;
    return NULL;
}

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
    if ((issue = cc_rec_path_split(p, in->path, &in->parts))) {
        err = cc_error_collect(p, err, CC_KEY_PATH, issue);
    }
    if (!in->format || !cc_valid_enum(in->format, recording_formats)) {
        err = cc_error_collect(p, err, CC_KEY_FORMAT,
                               "must be one of: wav, wav49, gsm, mp3, ogg");
    }
    return err;
}

/* ---- opening beneath a directory ---- */

static int open_flags(int dir)
{
    return dir ? O_RDONLY | O_DIRECTORY | O_CLOEXEC
               : O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
}

static int open_walk(int dirfd, const apr_array_header_t *parts, int n, int dir)
{
    int fd = dirfd, i;

    for (i = 0; i < n; i++) {
        int last = i == n - 1;
        int nfd = openat(fd, APR_ARRAY_IDX(parts, i, const char *),
                         (last ? open_flags(dir) : open_flags(1)) | O_NOFOLLOW);
        int saved = errno;

        if (fd != dirfd) {
            close(fd);
        }
        if (nfd < 0) {
            errno = saved;
            return -1;
        }
        fd = nfd;
    }
    return fd;
}

#ifdef CC_HAVE_OPENAT2
/* -2: the kernel (or a seccomp filter) has no openat2: walk instead. */
static int open_openat2(int dirfd, const apr_array_header_t *parts, int n, int dir)
{
    struct open_how how;
    char buf[CC_REC_PATH_MAX + 1];
    apr_size_t len = 0;
    int i;
    long fd;

    for (i = 0; i < n; i++) {
        const char *c = APR_ARRAY_IDX(parts, i, const char *);
        apr_size_t clen = strlen(c);

        if (len + clen + 2 > sizeof(buf)) {
            errno = ENAMETOOLONG;
            return -1;
        }
        if (i) {
            buf[len++] = '/';
        }
        memcpy(buf + len, c, clen);
        len += clen;
    }
    buf[len] = '\0';
    memset(&how, 0, sizeof(how));
    how.flags = (apr_uint64_t)open_flags(dir);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    fd = syscall(SYS_openat2, dirfd, buf, &how, sizeof(how));
    if (fd < 0 && (errno == ENOSYS || errno == EPERM || errno == E2BIG)) {
        return -2;
    }
    return (int)fd;
}
#endif

int cc_rec_open_beneath(int dirfd, const apr_array_header_t *parts, int n, int dir,
                        int resolve)
{
    if (n <= 0) {
        return fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    }
#ifdef CC_HAVE_OPENAT2
    if (resolve == CC_REC_RESOLVE_AUTO) {
        int fd = open_openat2(dirfd, parts, n, dir);

        if (fd != -2) {
            return fd;
        }
    }
#else
    (void)resolve;
#endif
    return open_walk(dirfd, parts, n, dir);
}

const char *cc_rec_open_issue(int err)
{
    switch (err) {
    case ENOENT:
        return "no such file in the tenant's recordings directory";
    case ELOOP:
    case EXDEV:
    case EMLINK:
        return "must not lead through a symbolic link or out of the tenant's recordings"
               " directory";
    case ENOTDIR:
        return "a component of the path is not a directory";
    case ENAMETOOLONG:
        return "is too long";
    default:
        return NULL;
    }
}
