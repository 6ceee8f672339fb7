/*
 * cc_files.c (core): files beneath a tenant's directory (cc_files.h).
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

#include "cc_files.h"
#include "cc_validate.h"

/* The order of cc_audio_formats and audio_types is the same. */
const char *const cc_audio_formats[] = { "wav", "wav49", "gsm", "mp3", "ogg", NULL };

/* wav49 is GSM 6.10 in a RIFF/WAVE container (Asterisk's .WAV): a WAVE file. */
static const char *const audio_types[] = { "audio/wav", "audio/wav", "audio/x-gsm",
                                           "audio/mpeg", "audio/ogg", NULL };

const char *cc_audio_content_type(const char *format)
{
    int i;

    for (i = 0; format && cc_audio_formats[i]; i++) {
        if (!strcmp(format, cc_audio_formats[i])) {
            return audio_types[i];
        }
    }
    return NULL;
}

const char *cc_files_path_split(apr_pool_t *p, const char *path, apr_array_header_t **pparts)
{
    apr_array_header_t *parts;
    const char *s, *start;

    *pparts = NULL;
    if (!path || !*path) {
        return "must not be empty";
    }
    if (strlen(path) > CC_FILES_PATH_MAX) {
        return "must be at most 1024 bytes";
    }
    for (s = path; *s; s++) {
        if (cc_control_len(s)) {
            return "must not contain control characters";
        }
    }
    if (path[0] == '/') {
        return "must be relative to the tenant's directory";
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
            if (len > CC_FILES_COMPONENT_MAX) {
                return "must not have a component longer than 255 bytes";
            }
            if (parts->nelts == CC_FILES_DEPTH_MAX) {
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
/* -2: the kernel (or a seccomp filter) has no openat2, or it kept answering EAGAIN (a
 * rename somewhere on the filesystem while it resolved the path: openat2(2) says to try
 * again; after CC_FILES_OPENAT2_TRIES the walk, as safe, does it): walk instead. */
#define CC_FILES_OPENAT2_TRIES 4
static int open_openat2(int dirfd, const apr_array_header_t *parts, int n, int dir)
{
    struct open_how how;
    char buf[CC_FILES_PATH_MAX + 1];
    apr_size_t len = 0;
    int i;
    long fd = -1;

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
    for (i = 0; i < CC_FILES_OPENAT2_TRIES; i++) {
        fd = syscall(SYS_openat2, dirfd, buf, &how, sizeof(how));
        if (fd >= 0 || errno != EAGAIN) {
            break;
        }
    }
    if (fd < 0 && (errno == ENOSYS || errno == EPERM || errno == E2BIG
                   || errno == EAGAIN)) {
        return -2;
    }
    return (int)fd;
}
#endif

int cc_files_open_beneath(int dirfd, const apr_array_header_t *parts, int n, int dir,
                        int resolve)
{
    if (n <= 0) {
        return fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    }
#ifdef CC_HAVE_OPENAT2
    if (resolve == CC_FILES_RESOLVE_AUTO) {
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

const char *cc_files_open_issue(int err)
{
    switch (err) {
    case ENOENT:
        return "no such file in the tenant's directory";
    case ELOOP:
    case EXDEV:
    case EMLINK:
        return "must not lead through a symbolic link or out of the tenant's directory";
    case ENOTDIR:
        return "a component of the path is not a directory";
    case ENAMETOOLONG:
        return "is too long";
    default:
        return NULL;
    }
}
