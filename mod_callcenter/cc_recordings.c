/*
 * cc_recordings.c: /api/v1/recordings — call recordings Asterisk (MixMonitor) wrote under
 * CCRecordingsDir/<tenant id>/, registered, listed, streamed and deleted by the API.
 *
 * A client's path is relative to the tenant's directory and is opened, never resolved
 * by name and then opened: the tenant directory is opened (O_NOFOLLOW) from the
 * configured one, and the path beneath it with cc_rec_open_beneath (openat2
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, or one openat(O_NOFOLLOW) per component), so
 * no symbolic link is followed and nothing outside the tenant's directory is reached,
 * whatever changes on disk meanwhile.  Registration takes the size from fstat of the
 * opened file; streaming sends the opened descriptor as a file bucket, so httpd's
 * byterange filter answers Range (206, multipart/byteranges, 416) and the core writes
 * it with sendfile when EnableSendfile is on.
 *
 * A recording's call data (calldate, duration) comes from the tenant's CDR with its
 * uniqueid, when Asterisk has written one (the CDR may come after the recording): the
 * first such row, found by cdr.uniqueid within the CDR tenant expression of API.md.
 *
 * Delete removes the row (audit, event) and, once that has committed, the file
 * (unlinkat in its directory, opened as above: a link is removed, never followed).  A
 * file already gone is no error.  One file backs at most one recording of a tenant (a
 * unique key on the path), so a delete never takes another recording's audio.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <httpd.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <apr_buckets.h>
#include <apr_portable.h>
#include <apr_strings.h>

#include "cc_api_private.h"
#include "cc_audit.h"
#include "cc_log.h"
#include "cc_recordings_rules.h"
#include "cc_validate.h"

static const char *const recording_sorts[] = { "created_at", "calldate", NULL };

/* ---- statements ---- */

/* The recording's CDR: the first row Asterisk wrote for the call leg, of the recording's
 * tenant (cdr.tenant_ref: tenantid, else accountcode; sql/008).
 * idx_cdr_ref_uniqueid. */
#define REC_CDR_JOIN                                                               \
    " LEFT JOIN cdr c ON c.id = (SELECT MIN(c2.id) FROM cdr c2"                     \
    " WHERE c2.tenant_ref = r.tenant_id AND c2.uniqueid = r.cdr_uniqueid)"

/* The object's columns, in rec_cols order: the recording's own duration when one was
 * stored, else the call's billed (talk) time, which a MixMonitor recording spans. */
#define REC_COLUMNS "r.id, r.cdr_uniqueid, c.start, COALESCE(r.duration, c.billsec)," \
    " r.size_bytes, r.format, r.created_at"

/* Binds 7 values: tenant, then each optional filter twice (cdr_uniqueid, from, to). */
#define REC_FILTER                                                                 \
    " r.tenant_id = %s"                                                            \
    " AND (%s IS NULL OR r.cdr_uniqueid = %s)"                                     \
    " AND (%s IS NULL OR r.created_at >= %s)"                                      \
    " AND (%s IS NULL OR r.created_at < %s)"

/* The total is an uncorrelated COUNT over the recordings alone (no CDR needed). */
#define REC_LIST(order)                                                            \
    "SELECT " REC_COLUMNS ", (SELECT COUNT(*) FROM recordings r WHERE" REC_FILTER  \
    ") AS total FROM recordings r" REC_CDR_JOIN " WHERE" REC_FILTER                \
    " ORDER BY " order " LIMIT %s OFFSET %s"

/* One CC_SEARCH_SORT per whitelisted sort (recordings_list_spec); ids grow with
 * created_at, so id order is created_at order with a unique tie-break. */
static const cc_stmt_t recordings_stmts[] = {
    CC_SEARCH_SORT("cc_recordings", "created_at", REC_LIST, "r.id ASC", "r.id DESC"),
    CC_SEARCH_SORT("cc_recordings", "calldate", REC_LIST, "c.start ASC, r.id ASC",
                   "c.start DESC, r.id DESC"),
    CC_STMT("cc_recordings_search_count",
            "SELECT COUNT(*) FROM recordings r WHERE" REC_FILTER),
    CC_STMT("cc_recordings_get",
            "SELECT " REC_COLUMNS " FROM recordings r" REC_CDR_JOIN
            " WHERE r.tenant_id = %s AND r.id = %s"),
    /* A delete's read: the file to remove once the row's delete commits. */
    CC_STMT("cc_recordings_lock",
            "SELECT path FROM recordings WHERE tenant_id = %s AND id = %s FOR UPDATE"),
    /* The audio route's read (no CDR needed). */
    CC_STMT("cc_recordings_file",
            "SELECT path, format FROM recordings WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_recordings_insert",
            "INSERT INTO recordings (tenant_id, cdr_uniqueid, path, format, size_bytes)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id"),
    CC_STMT("cc_recordings_delete", "DELETE FROM recordings WHERE tenant_id = %s AND id = %s"),
    CC_STMT_END
};

/* ---- the recording object ---- */

static const cc_col_t rec_cols[] = {
    { "id", CC_COL_INT },
    { CC_KEY_CDR_UNIQUEID, CC_COL_STR },
    { "calldate", CC_COL_TIME },
    { "duration", CC_COL_INT },
    { "size_bytes", CC_COL_INT },
    { CC_KEY_FORMAT, CC_COL_STR },
    { "created_at", CC_COL_TIME },
    CC_COL_END
};

/* GET /recordings: every filter is bound (absent ones as NULL), twice each, as
 * REC_FILTER reads them. */
static const cc_filter_t rec_filters[] = {
    { "cdr_uniqueid", CC_FILTER_TEXT, 2, NULL, 150, NULL, NULL },
    { "from", CC_FILTER_TIME, 2, NULL, 0, NULL, NULL },
    { "to", CC_FILTER_TIME, 2, NULL, 0, NULL, NULL },
    CC_FILTER_END
};

static const cc_list_t recordings_list_spec = { "cc_recordings", recording_sorts,
                                                "-created_at", rec_cols, rec_filters,
                                                CC_LIST_SEARCH_ONLY, NULL };

/* What INSERT ... RETURNING gives back. */
static const cc_col_t rec_id_cols[] = { { "id", CC_COL_INT }, CC_COL_END };

static const cc_field_t rec_fields[] = {
    { CC_KEY_CDR_UNIQUEID, CC_JT_STRING, 1 },
    { CC_KEY_PATH, CC_JT_STRING, 1 },
    { CC_KEY_FORMAT, CC_JT_STRING, 1 },
    { NULL, 0, 0 }
};

/* ---- files ---- */

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
static cc_error_t *recordings_root(cc_ctx_t *ctx, const char **pdir)
{
    *pdir = CC_API_CTX_CFG(ctx)->recordings_dir;
    if (!*pdir) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ctx->r, CCLOGNO(03770)
                      "%s %s: no CCRecordingsDir is configured", ctx->r->method,
                      ctx->r->uri);
        return cc_error_make(ctx->pool, HTTP_SERVICE_UNAVAILABLE, CC_ERR_UNAVAILABLE,
                             "recordings are not configured on this server");
    }
    return NULL;
}

/*
 * The tenant's directory, opened without following a link at its own name (-1 with
 * errno when it cannot be).  The configured directory itself is the operator's and
 * may be reached through links.
 */
static int open_tenant_dir(cc_ctx_t *ctx, const char *root)
{
    int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd, saved;

    if (rootfd < 0) {
        return -1;
    }
    fd = openat(rootfd, ctx->principal->tenant_id,
                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    saved = errno;
    close(rootfd);
    errno = saved;
    if (fd >= 0) {
        fd_owned(ctx->pool, fd);
    }
    return fd;
}

/*
 * Open the recording file parts names (components of a checked path) for reading;
 * *pst gets its fstat.  A path that is not the client's to give (a link, out of the
 * directory, missing, not a regular file) is *pissue (the descriptor -1); any other
 * failure is an internal error, logged.
 */
static cc_error_t *open_recording(cc_ctx_t *ctx, const apr_array_header_t *parts,
                                  int *pfd, struct stat *pst, const char **pissue)
{
    const char *root;
    cc_error_t *err;
    int dirfd, fd, e;

    *pfd = -1;
    *pissue = NULL;
    if ((err = recordings_root(ctx, &root))) {
        return err;
    }
    if ((dirfd = open_tenant_dir(ctx, root)) < 0) {
        e = errno;
        fd = -1;
    }
    else {
        fd = cc_rec_open_beneath(dirfd, parts, parts->nelts, 0, CC_REC_RESOLVE_AUTO);
        e = errno;
    }
    if (fd < 0) {
        if ((*pissue = cc_rec_open_issue(e))) {
            return NULL;
        }
        ap_log_rerror(APLOG_MARK, APLOG_ERR, e, ctx->r, CCLOGNO(03771)
                      "tenant %s: cannot open a recording under %s", ctx->principal->tenant_id,
                      root);
        return cc_error_internal(ctx->pool);
    }
    fd_owned(ctx->pool, fd);
    if (fstat(fd, pst) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, errno, ctx->r, CCLOGNO(03772)
                      "tenant %s: fstat of an opened recording failed",
                      ctx->principal->tenant_id);
        return cc_error_internal(ctx->pool);
    }
    if (!S_ISREG(pst->st_mode)) {
        *pissue = "is not a regular file";
        return NULL;
    }
    /* A hard link is a name path resolution cannot see through: the same file may also
     * sit outside the tenant's directory (another tenant's recording, anything on the
     * file system).  Asterisk writes a recording once, with one name. */
    if (pst->st_nlink != 1) {
        *pissue = "is a file with other hard links";
        return NULL;
    }
    *pfd = fd;
    return NULL;
}

/* ---- handlers ---- */

static cc_error_t *recordings_create(cc_ctx_t *ctx)
{
    rec_input_t in;
    struct stat st;
    const char *issue, *args[5], *id;
    json_t *body, *row, *rec, *changes;
    cc_error_t *err;
    int fd;

    if ((err = cc_read_json_fields(ctx, rec_fields, &body))
        || (err = cc_rec_input_read(ctx->pool, body, &in))
        || (err = open_recording(ctx, in.parts, &fd, &st, &issue))) {
        return err;
    }
    if (issue) {
        return cc_error_field(ctx->pool, CC_KEY_PATH, issue);
    }
    args[0] = ctx->principal->tenant_id;
    args[1] = in.cdr_uniqueid;
    args[2] = in.path;
    args[3] = in.format;
    args[4] = apr_off_t_toa(ctx->pool, (apr_off_t)st.st_size);
    if ((err = cc_db_begin(ctx->db))
        || (err = cc_db_duplicate(ctx->db,
                                  cc_db_select_one(ctx->db, "cc_recordings_insert",
                                                   rec_id_cols, 5, args, &row),
                                  CC_KEY_PATH, "is already registered as a recording",
                                  "this file is already registered as a recording"))) {
        return err;
    }
    if (!row) {
        return cc_error_internal(ctx->pool);   /* INSERT ... RETURNING gives its row */
    }
    id = cc_json_int_text(ctx->pool, row, "id");
    if ((err = cc_fetch(ctx, "cc_recordings_get", rec_cols, id, &rec))) {
        return err;
    }
    changes = cc_json_own(ctx->pool, json_pack("{s:s, s:s, s:s, s:I}",
                                               CC_KEY_CDR_UNIQUEID, in.cdr_uniqueid,
                                               CC_KEY_PATH, in.path, CC_KEY_FORMAT, in.format,
                                               "size_bytes", (json_int_t)st.st_size));
    return cc_ctx_commit(ctx, "recording", "create", id, changes, rec, HTTP_CREATED,
                         apr_pstrcat(ctx->pool, "/api/v1/recordings/", id, NULL));
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

static cc_error_t *recordings_audio(cc_ctx_t *ctx)
{
    request_rec *r = ctx->r;
    const char *id = cc_path(ctx, "id"), *issue;
    const char **row;
    apr_array_header_t *parts;
    apr_bucket_brigade *bb;
    apr_file_t *file;
    apr_os_file_t osfd;
    struct stat st;
    cc_error_t *err;
    int fd, rc;

    if ((err = cc_fetch_row(ctx, "cc_recordings_file", id, &row))) {
        return err;
    }
    /* Stored paths were checked when registered; a changed rule still applies. */
    if ((issue = cc_rec_path_split(ctx->pool, row[0], &parts))
        || (err = open_recording(ctx, parts, &fd, &st, &issue))
        || issue) {
        if (err) {
            return err;
        }
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, CCLOGNO(03773)
                      "tenant %s: recording %s cannot be served: its path %s",
                      ctx->principal->tenant_id, id, issue);
        return cc_error_make(ctx->pool, HTTP_NOT_FOUND, CC_ERR_NOT_FOUND,
                             "the recording's audio file is missing");
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
    ap_set_content_type(r, cc_rec_content_type(row[1]));
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

/* What cc_db_after_commit removes once a recording's row is gone. */
typedef struct rec_unlink_t {
    request_rec *r;
    const char *root;
    const char *tenant_id;
    const char *path;
} rec_unlink_t;

/* The file of a deleted recording: unlinked in its directory, opened beneath the tenant's
 * like any other open, so the name is never resolved through a link (a link there is
 * itself removed).  A file already gone is no error. */
static void unlink_recording(void *baton)
{
    rec_unlink_t *u = baton;
    apr_array_header_t *parts;
    int rootfd, tfd = -1, dfd = -1, e = 0;

    if (cc_rec_path_split(u->r->pool, u->path, &parts)) {
        return;
    }
    if ((rootfd = open(u->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        tfd = openat(rootfd, u->tenant_id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        e = errno;
        close(rootfd);
    }
    else {
        e = errno;
    }
    if (tfd >= 0) {
        dfd = cc_rec_open_beneath(tfd, parts, parts->nelts - 1, 1, CC_REC_RESOLVE_AUTO);
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
                      "tenant %s: the deleted recording's file %s was already gone",
                      u->tenant_id, u->path);
    }
    else if (e) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, e, u->r, CCLOGNO(03775)
                      "tenant %s: could not remove the deleted recording's file %s",
                      u->tenant_id, u->path);
    }
}

/* What a delete's audit entry keeps of the recording (the row itself is gone). */
static const char *const rec_audit_drop[] = { "id", "created_at", NULL };

static cc_error_t *recordings_delete(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), *root;
    const char **row;
    json_t *rec;
    rec_unlink_t *u;
    cc_error_t *err;
    int nrows = 0;
    const char *args[2] = { ctx->principal->tenant_id, id };

    if ((err = cc_db_begin(ctx->db))
        || (err = cc_fetch_row(ctx, "cc_recordings_lock", id, &row))
        || (err = cc_fetch(ctx, "cc_recordings_get", rec_cols, id, &rec))
        || (err = cc_db_exec(ctx->db, "cc_recordings_delete", 2, args, &nrows))) {
        return err;
    }
    root = CC_API_CTX_CFG(ctx)->recordings_dir;
    if (root) {
        u = apr_pcalloc(ctx->pool, sizeof(*u));
        u->r = ctx->r;
        u->root = root;
        u->tenant_id = ctx->principal->tenant_id;
        u->path = row[0];
        cc_db_after_commit(ctx->db, unlink_recording, u);
    }
    return cc_ctx_commit_delete(ctx, "recording", id, rec, rec_audit_drop);
}

/* Path order does not matter: captures never shadow literals (cc_route_match). */
static const cc_route_t recordings_routes[] = {
    { "GET", "/api/v1/recordings", cc_handle_list, "recordings.read", CC_ROUTE_AUTH },
    { "POST", "/api/v1/recordings", recordings_create, "recordings.write", CC_ROUTE_AUTH },
    { "GET", "/api/v1/recordings/{id:int}", cc_handle_get, "recordings.read", CC_ROUTE_AUTH },
    { "DELETE", "/api/v1/recordings/{id:int}", recordings_delete, "recordings.delete",
      CC_ROUTE_AUTH },
    { "GET", "/api/v1/recordings/{id:int}/audio", recordings_audio, "recordings.read",
      CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_recordings_domain = { "recordings", recordings_routes, recordings_stmts,
                                           &recordings_list_spec, "cc_recordings_get",
                                           rec_cols };
