/*
 * cc_tenant_files.c: files Asterisk writes under a configured directory, one
 * subdirectory per tenant id (cc_tenant_files.h), for the recordings and voicemail
 * domains.
 *
 * A client's path is relative to the tenant's directory and is opened, never resolved
 * by name and then opened: the tenant directory is opened (O_NOFOLLOW) from the
 * configured one, and the path beneath it with cc_files_open_beneath (openat2
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, or one openat(O_NOFOLLOW) per component), so
 * no symbolic link is followed and nothing outside the tenant's directory is reached,
 * whatever changes on disk meanwhile.  Streaming sends the opened descriptor as a file
 * bucket, so httpd's byterange filter answers Range (206, multipart/byteranges, 416) and
 * the core writes it with sendfile when EnableSendfile is on.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <httpd.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <apr_buckets.h>
#include <apr_portable.h>
#include <apr_strings.h>

#include "cc_tenant_files.h"
#include "cc_log.h"

static apr_status_t close_fd(void *data)
{
    close(*(int *)data);
    return APR_SUCCESS;
}

/* fd is closed with p. */
static void fd_owned(apr_pool_t *p, int fd)
{
    int *pfd = apr_palloc(p, sizeof(*pfd));

    *pfd = fd;
    apr_pool_cleanup_register(p, pfd, close_fd, apr_pool_cleanup_null);
}

/* The configured directory, or 503 when there is none (logged: the operator's fix). */
static cc_error_t *area_root(cc_ctx_t *ctx, const cc_tfiles_t *area)
{
    if (!area->root) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r, CCLOGNO(03770)
                      "%s %s: no %s is configured", ctx->r->method, ctx->r->uri,
                      area->directive);
        return cc_error_make(ctx->pool, HTTP_SERVICE_UNAVAILABLE, CC_ERR_UNAVAILABLE,
                             "%ss are not configured on this server", area->what);
    }
    return NULL;
}

/*
 * The tenant's directory under root, opened without following a link at its own name
 * (-1 with errno when it cannot be); not owned by any pool.  The configured directory
 * itself is the operator's and may be reached through links.
 */
static int open_tenant_dir(const char *root, const char *tenant_id)
{
    int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd, saved;

    if (rootfd < 0) {
        return -1;
    }
    fd = openat(rootfd, tenant_id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    saved = errno;
    close(rootfd);
    errno = saved;
    return fd;
}

cc_error_t *cc_tfiles_open(cc_ctx_t *ctx, const cc_tfiles_t *area,
                           const apr_array_header_t *parts, int *pfd, struct stat *pst,
                           const char **pissue)
{
    cc_error_t *err;
    int dirfd, fd, e;

    *pfd = -1;
    *pissue = NULL;
    if ((err = area_root(ctx, area))) {
        return err;
    }
    if ((dirfd = open_tenant_dir(area->root, ctx->principal->tenant_id)) < 0) {
        e = errno;
        fd = -1;
    }
    else {
        fd_owned(ctx->pool, dirfd);
        fd = cc_files_open_beneath(dirfd, parts, parts->nelts, 0, CC_FILES_RESOLVE_AUTO);
        e = errno;
    }
    if (fd < 0) {
        if ((*pissue = cc_files_open_issue(e))) {
            return NULL;
        }
        ap_log_rerror(APLOG_MARK, APLOG_ERR, e, ctx->r, CCLOGNO(03771)
                      "tenant %s: cannot open a %s under %s", ctx->principal->tenant_id,
                      area->what, area->root);
        return cc_error_internal(ctx->pool);
    }
    fd_owned(ctx->pool, fd);
    if (fstat(fd, pst) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, errno, ctx->r, CCLOGNO(03772)
                      "tenant %s: fstat of an opened %s failed", ctx->principal->tenant_id,
                      area->what);
        return cc_error_internal(ctx->pool);
    }
    if (!S_ISREG(pst->st_mode)) {
        *pissue = "is not a regular file";
        return NULL;
    }
    /* A hard link is a name path resolution cannot see through: the same file may also
     * sit outside the tenant's directory (another tenant's file, anything on the file
     * system).  Asterisk writes each file once, with one name. */
    if (pst->st_nlink != 1) {
        *pissue = "is a file with other hard links";
        return NULL;
    }
    *pfd = fd;
    return NULL;
}

/* 304 for a matching If-None-Match / If-Modified-Since: headers only. */
static cc_error_t *send_not_modified(cc_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);

    r->status = HTTP_NOT_MODIFIED;
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    (void)ap_pass_brigade(r->output_filters, bb);
    return cc_reply_sent(ctx);
}

cc_error_t *cc_tfiles_send(cc_ctx_t *ctx, const cc_tfiles_t *area, const char *id,
                           const char *path, const char *content_type,
                           const char *disposition)
{
    request_rec *r = ctx->r;
    const char *issue;
    apr_array_header_t *parts;
    apr_bucket_brigade *bb;
    apr_file_t *file;
    apr_os_file_t osfd;
    struct stat st;
    cc_error_t *err = NULL;
    int fd = -1, rc;

    /* Stored paths were checked when registered; a changed rule still applies. */
    if ((issue = cc_files_path_split(ctx->pool, path, &parts))
        || (err = cc_tfiles_open(ctx, area, parts, &fd, &st, &issue))
        || issue) {
        if (err) {
            return err;
        }
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, CCLOGNO(03773)
                      "tenant %s: %s %s cannot be served: its path %s",
                      ctx->principal->tenant_id, area->what, id, issue);
        return cc_error_make(ctx->pool, HTTP_NOT_FOUND, CC_ERR_NOT_FOUND,
                             "the %s's file is missing", area->what);
    }
    osfd = fd;
    if (apr_os_file_put(&file, &osfd, APR_FOPEN_READ | APR_FOPEN_SENDFILE_ENABLED,
                        r->pool) != APR_SUCCESS) {
        return cc_error_internal(ctx->pool);
    }
    /* The validators of the file (FileETag: MTime Size by default) as the default handler
     * makes them; If-None-Match / If-Modified-Since / If-Range are httpd's to judge. */
    r->finfo.filetype = APR_REG;
    r->finfo.valid = APR_FINFO_MTIME | APR_FINFO_SIZE | APR_FINFO_INODE | APR_FINFO_TYPE;
    r->finfo.size = (apr_off_t)st.st_size;
    r->finfo.inode = st.st_ino;
    r->finfo.device = st.st_dev;
    r->finfo.mtime = apr_time_from_sec(st.st_mtime);
    ap_update_mtime(r, r->finfo.mtime);
    ap_set_last_modified(r);
    ap_set_etag(r);
    apr_table_setn(r->headers_out, "Cache-Control", "private, no-cache");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    /* httpd's byterange filter says it only on the answers to a Range. */
    apr_table_setn(r->headers_out, "Accept-Ranges", "bytes");
    rc = ap_meets_conditions(r);
    if (rc == HTTP_NOT_MODIFIED) {
        return send_not_modified(ctx);
    }
    if (rc != OK) {
        return cc_error_make(ctx->pool, rc, CC_ERR_INVALID_REQUEST,
                             "a precondition of the request does not hold");
    }
    ap_set_content_type(r, content_type);
    if (disposition) {
        apr_table_setn(r->headers_out, "Content-Disposition", disposition);
    }
    ap_set_content_length(r, (apr_off_t)st.st_size);
    r->status = HTTP_OK;
    /* One brigade with every byte and EOS: the byterange filter needs the whole length. */
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    if (st.st_size > 0) {
        apr_brigade_insert_file(bb, file, 0, (apr_off_t)st.st_size, r->pool);
    }
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    (void)ap_pass_brigade(r->output_filters, bb);   /* a client gone is nothing to answer */
    return cc_reply_sent(ctx);
}

/* What cc_db_after_commit removes once a row is gone. */
typedef struct tfiles_unlink_t {
    request_rec *r;
    cc_tfiles_t area;
    const char *tenant_id;
    const char *path;
} tfiles_unlink_t;

static void unlink_file(void *baton)
{
    tfiles_unlink_t *u = baton;
    apr_array_header_t *parts;
    int tfd, dfd = -1, e;

    if (cc_files_path_split(u->r->pool, u->path, &parts)) {
        return;
    }
    tfd = open_tenant_dir(u->area.root, u->tenant_id);
    e = errno;
    if (tfd >= 0) {
        dfd = cc_files_open_beneath(tfd, parts, parts->nelts - 1, 1, CC_FILES_RESOLVE_AUTO);
        e = errno;
        close(tfd);
    }
    if (dfd >= 0) {
        e = unlinkat(dfd, APR_ARRAY_IDX(parts, parts->nelts - 1, const char *), 0) == 0
            ? 0 : errno;
        close(dfd);
    }
    if (e == ENOENT) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, u->r, CCLOGNO(03774)
                      "tenant %s: the deleted %s's file %s was already gone",
                      u->tenant_id, u->area.what, u->path);
    }
    else if (e) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, e, u->r, CCLOGNO(03775)
                      "tenant %s: could not remove the deleted %s's file %s",
                      u->tenant_id, u->area.what, u->path);
    }
}

void cc_tfiles_remove_after_commit(cc_ctx_t *ctx, const cc_tfiles_t *area,
                                   const char *path)
{
    tfiles_unlink_t *u;

    if (!area->root) {
        return;
    }
    u = apr_pcalloc(ctx->pool, sizeof(*u));
    u->r = ctx->r;
    u->area = *area;
    u->tenant_id = ctx->principal->tenant_id;
    u->path = path;
    cc_db_after_commit(ctx->db, unlink_file, u);
}

/* A file cc_tfiles_create made: removed with the request pool unless kept. */
typedef struct tfiles_made_t {
    int dirfd;               /* the tenant's directory (closed after the removal) */
    const char *name;
    int keep;
} tfiles_made_t;

static apr_status_t unmake_file(void *data)
{
    tfiles_made_t *m = data;

    if (!m->keep) {
        (void)unlinkat(m->dirfd, m->name, 0);
    }
    close(m->dirfd);
    return APR_SUCCESS;
}

cc_error_t *cc_tfiles_create(cc_ctx_t *ctx, const cc_tfiles_t *area, const char *name,
                             int *pfd)
{
    const char *tenant = ctx->principal->tenant_id;
    tfiles_made_t *m;
    cc_error_t *err;
    int dirfd, fd, rootfd;

    *pfd = -1;
    if ((err = area_root(ctx, area))) {
        return err;
    }
    if ((dirfd = open_tenant_dir(area->root, tenant)) < 0 && errno == ENOENT
        && (rootfd = open(area->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        /* The tenant's first file: a concurrent upload may make it first. */
        if (mkdirat(rootfd, tenant, 0750) != 0 && errno != EEXIST) {
            int e = errno;

            close(rootfd);
            errno = e;
        }
        else {
            close(rootfd);
            dirfd = open_tenant_dir(area->root, tenant);
        }
    }
    if (dirfd < 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, errno, ctx->r, CCLOGNO(03776)
                      "tenant %s: cannot open or make its %s directory under %s", tenant,
                      area->what, area->root);
        return cc_error_internal(ctx->pool);
    }
    fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (fd < 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, errno, ctx->r, CCLOGNO(03777)
                      "tenant %s: cannot create a %s file under %s", tenant, area->what,
                      area->root);
        close(dirfd);
        return cc_error_internal(ctx->pool);
    }
    m = apr_pcalloc(ctx->pool, sizeof(*m));
    m->dirfd = dirfd;
    m->name = apr_pstrdup(ctx->pool, name);
    /* Registered before the file's own close, so it runs after it. */
    apr_pool_cleanup_register(ctx->pool, m, unmake_file, apr_pool_cleanup_null);
    apr_pool_userdata_setn(m, apr_pstrcat(ctx->pool, "cc-tfiles:", name, NULL), NULL,
                           ctx->pool);
    fd_owned(ctx->pool, fd);
    *pfd = fd;
    return NULL;
}

void cc_tfiles_keep(cc_ctx_t *ctx, const char *name)
{
    void *m = NULL;

    apr_pool_userdata_get(&m, apr_pstrcat(ctx->pool, "cc-tfiles:", name, NULL), ctx->pool);
    if (m) {
        ((tfiles_made_t *)m)->keep = 1;
    }
}
