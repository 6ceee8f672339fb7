/*
 * cc_ticket_attachments.c: files on helpdesk tickets.
 *
 *   /api/v1/tickets/{id}/attachments   GET tickets.read, POST tickets.write (raw body)
 *   /api/v1/attachments/{id}           GET tickets.read (the file), DELETE tickets.manage
 *
 * An upload is stored under CCAttachmentsDir/<tenant id>/ with a name the server makes
 * (32 random hex characters), never the client's: the client's ?filename= is sanitised
 * (cc_attachment_filename) and kept only as the name the file is downloaded as.  The
 * body is streamed to the file as it arrives (never held in memory), hashed on the way
 * (SHA-256) and bounded by CCUploadMaxSize (413, before reading when Content-Length
 * says so).  The row is written once the file is complete; the file is removed with
 * the request unless that row committed (cc_tfiles_create), so a failed upload leaves
 * nothing behind.  A run of the handler again (a lock conflict) reuses the file the
 * first run stored: the body can be read once only.
 *
 * A download is a file bucket (Range, sendfile) of the stored media type with
 * Content-Disposition: attachment and X-Content-Type-Options: nosniff, so a browser
 * never renders an uploaded page in the API's origin.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "cc_api_private.h"
#include "cc_audit.h"
#include "cc_crypto.h"
#include "cc_hd_private.h"
#include "cc_log.h"
#include "cc_tenant_files.h"

#define ATTACHMENT_COLUMNS "a.id, a.ticket_id, a.filename, a.content_type, a.size_bytes," \
    " a.sha256, a.uploaded_by, a.created_at"

static const cc_stmt_t attachments_stmts[] = {
    CC_STMT("cc_attachments_get", "SELECT " ATTACHMENT_COLUMNS " FROM ticket_attachments a"
                                  " WHERE a.tenant_id = %s AND a.id = %s"),
    CC_STMT("cc_attachments_of_ticket",
            "SELECT " ATTACHMENT_COLUMNS " FROM ticket_attachments a"
            " WHERE a.tenant_id = %s AND a.ticket_id = %s ORDER BY a.id"),
    CC_STMT("cc_attachments_ticket", "SELECT 1 FROM tickets t WHERE t.tenant_id = %s"
                                     " AND t.id = %s"),
    CC_STMT("cc_attachments_file", "SELECT path, content_type, filename"
                                   " FROM ticket_attachments WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_attachments_lock", "SELECT path FROM ticket_attachments"
                                   " WHERE tenant_id = %s AND id = %s FOR UPDATE"),
    CC_STMT("cc_attachments_insert",
            "INSERT INTO ticket_attachments (tenant_id, ticket_id, filename, content_type,"
            " size_bytes, sha256, path, uploaded_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " RETURNING id"),
    CC_STMT("cc_attachments_delete", "DELETE FROM ticket_attachments WHERE tenant_id = %s"
                                     " AND id = %s"),
    /* A ticket's delete (cc_attachments_remove_all). */
    CC_STMT("cc_attachments_paths", "SELECT path FROM ticket_attachments"
                                    " WHERE tenant_id = %s AND ticket_id = %s FOR UPDATE"),
    CC_STMT("cc_attachments_delete_all", "DELETE FROM ticket_attachments"
                                         " WHERE tenant_id = %s AND ticket_id = %s"),
    CC_STMT_END
};

static const cc_col_t attachment_cols[] = {
    { "id", CC_COL_INT },
    { "ticket_id", CC_COL_INT },
    { "filename", CC_COL_STR },
    { "content_type", CC_COL_STR },
    { "size_bytes", CC_COL_INT },
    { "sha256", CC_COL_STR },
    { "uploaded_by", CC_COL_INT },
    { "created_at", CC_COL_TIME },
    CC_COL_END
};

static const cc_col_t path_cols[] = {
    { "path", CC_COL_STR },
    CC_COL_END
};

static cc_tfiles_t attachments_area(cc_ctx_t *ctx)
{
    cc_tfiles_t area = { CC_API_CTX_CFG(ctx)->attachments_dir, "CCAttachmentsDir",
                         "attachment" };

    return area;
}

/* ---- upload ---- */

/* What the first run of an upload stored (kept for a run again). */
typedef struct upload_t {
    const char *name;        /* the stored file's name */
    const char *sha256;
    apr_off_t size;
} upload_t;

typedef struct upload_sink_t {
    cc_ctx_t *ctx;
    int fd;
    cc_sha256_ctx sha;
} upload_sink_t;

static cc_error_t *write_piece(void *baton, const char *data, apr_size_t len)
{
    upload_sink_t *s = baton;

    cc_sha256_update(&s->sha, data, len);
    while (len) {
        ssize_t n = write(s->fd, data, len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, errno, s->ctx->r, CCLOGNO(03955)
                          "tenant %s: writing an attachment failed",
                          s->ctx->principal->tenant_id);
            return cc_error_internal(s->ctx->pool);
        }
        data += n;
        len -= (apr_size_t)n;
    }
    return NULL;
}

/* Store the body in a new file of the tenant's (once per request). */
static cc_error_t *store_body(cc_ctx_t *ctx, upload_t **pup)
{
    cc_tfiles_t area = attachments_area(ctx);
    upload_sink_t sink;
    unsigned char md[32], rnd[16];
    upload_t *up = NULL;
    cc_error_t *err;

    apr_pool_userdata_get((void **)&up, "cc-attachment-upload", ctx->pool);
    if (up) {
        *pup = up;
        return NULL;
    }
    if (apr_generate_random_bytes(rnd, sizeof(rnd)) != APR_SUCCESS) {
        return cc_error_internal(ctx->pool);
    }
    up = apr_pcalloc(ctx->pool, sizeof(*up));
    up->name = cc_hex(ctx->pool, rnd, sizeof(rnd));
    sink.ctx = ctx;
    cc_sha256_init(&sink.sha);
    if ((err = cc_tfiles_create(ctx, &area, up->name, &sink.fd))
        || (err = cc_read_body_stream(ctx, (apr_size_t)cc_api_upload_max(CC_API_CTX_CFG(ctx)),
                                      write_piece, &sink, &up->size))) {
        return err;
    }
    if (up->size == 0) {
        return cc_error_make(ctx->pool, HTTP_BAD_REQUEST, CC_ERR_INVALID_REQUEST,
                             "the body is the file, and it is empty");
    }
    /* On disk before its row commits: a crash never leaves a row whose size and hash
     * claim more than the file holds. */
    if (fsync(sink.fd) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, errno, ctx->r, CCLOGNO(03957)
                      "tenant %s: flushing an attachment failed", ctx->principal->tenant_id);
        return cc_error_internal(ctx->pool);
    }
    cc_sha256_final(&sink.sha, md);
    up->sha256 = cc_hex(ctx->pool, md, sizeof(md));
    apr_pool_userdata_setn(up, "cc-attachment-upload", NULL, ctx->pool);
    *pup = up;
    return NULL;
}

static cc_error_t *attachments_upload(cc_ctx_t *ctx)
{
    const char *tid = cc_path(ctx, "id"), *t = ctx->principal->tenant_id;
    const char *raw = ctx->args ? apr_table_get(ctx->args, "filename") : NULL;
    const char *filename, *type, *issue = NULL, *args[8], **row, *id;
    upload_t *up = NULL;
    json_t *att, *changes;
    cc_error_t *err;

    if (!raw) {
        return cc_error_field(ctx->pool, "filename", "is required");
    }
    if (!(filename = cc_attachment_filename(ctx->pool, raw, &issue))) {
        return cc_error_field(ctx->pool, "filename", issue);
    }
    if (!(type = cc_media_type(ctx->pool, apr_table_get(ctx->r->headers_in,
                                                        "Content-Type")))) {
        return cc_error_make(ctx->pool, HTTP_UNSUPPORTED_MEDIA_TYPE, CC_ERR_UNSUPPORTED_MEDIA,
                             "Content-Type must be the file's media type (type/subtype)");
    }
    /* A ticket that is not there (or closed) is told before the body is read. */
    if (!ctx->body_read) {
        if ((err = cc_db_begin(ctx->db))
            || (err = cc_tickets_lock_open(ctx, tid, NULL))) {
            return err;
        }
        cc_db_rollback(ctx->db);
    }
    if ((err = store_body(ctx, &up))) {
        return err;
    }
    args[0] = t;
    args[1] = tid;
    args[2] = filename;
    args[3] = type;
    args[4] = apr_off_t_toa(ctx->pool, up->size);
    args[5] = up->sha256;
    args[6] = up->name;
    args[7] = ctx->principal->user_id_str;
    if ((err = cc_db_begin(ctx->db))
        || (err = cc_tickets_lock_open(ctx, tid, NULL))
        || (err = cc_db_select_row(ctx->db, "cc_attachments_insert", 8, args, &row, NULL))) {
        return err;
    }
    if (!row) {
        return cc_error_internal(ctx->pool);
    }
    id = row[0];
    if ((err = cc_fetch(ctx, "cc_attachments_get", attachment_cols, id, &att))) {
        return err;
    }
    cc_tfiles_keep_after_commit(ctx, up->name);
    changes = cc_json_object(ctx->pool);
    cc_audit_change(changes, "attachment_id", json_null(), cc_json_int_or_null(id));
    cc_audit_change_str(changes, "filename", NULL, filename);
    return cc_ctx_commit(ctx, "ticket", "attachment_add", tid, changes, att, HTTP_CREATED,
                         apr_pstrcat(ctx->pool, "/api/v1/attachments/", id, NULL));
}

/* ---- list, download, delete ---- */

static cc_error_t *attachments_list(cc_ctx_t *ctx)
{
    const char *args[2] = { ctx->principal->tenant_id, cc_path(ctx, "id") }, **row;
    json_t *rows, *out;
    cc_error_t *err;

    if ((err = cc_db_select_row(ctx->db, "cc_attachments_ticket", 2, args, &row, NULL))) {
        return err;
    }
    if (!row) {
        return cc_error_not_found(ctx->pool);
    }
    if ((err = cc_db_select(ctx->db, "cc_attachments_of_ticket", attachment_cols, 2, args,
                            &rows, NULL))) {
        return err;
    }
    out = cc_json_object(ctx->pool);
    json_object_set(out, "data", rows);
    return cc_reply_json(ctx, HTTP_OK, out);
}

static cc_error_t *attachments_download(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), **row;
    cc_tfiles_t area = attachments_area(ctx);
    cc_error_t *err;

    if ((err = cc_fetch_row(ctx, "cc_attachments_file", id, &row))) {
        return err;
    }
    return cc_tfiles_send(ctx, &area, id, row[0], row[1],
                          cc_content_disposition(ctx->pool, row[2]));
}

/* Announced on the ticket, as the upload was (ticket.attachment_deleted). */
static cc_error_t *attachments_delete(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), **row;
    const char *args[2] = { ctx->principal->tenant_id, id };
    cc_tfiles_t area = attachments_area(ctx);
    json_t *att, *changes;
    cc_error_t *err;

    if ((err = cc_db_begin(ctx->db))
        || (err = cc_fetch_row(ctx, "cc_attachments_lock", id, &row))
        || (err = cc_fetch(ctx, "cc_attachments_get", attachment_cols, id, &att))
        || (err = cc_db_exec(ctx->db, "cc_attachments_delete", 2, args, NULL))) {
        return err;
    }
    cc_tfiles_remove_after_commit(ctx, &area, row[0]);
    changes = cc_json_object(ctx->pool);
    cc_audit_change(changes, "attachment_id", cc_json_int_or_null(id), json_null());
    cc_audit_change(changes, "filename", cc_json_str_or_null(cc_json_str(att, "filename")),
                    NULL);
    if ((err = cc_ctx_record(ctx, "ticket", "attachment_delete",
                             cc_json_int_text(ctx->pool, att, "ticket_id"), changes, att,
                             CC_RECORD_COMMIT))) {
        return err;
    }
    return cc_reply_no_content(ctx);
}

cc_error_t *cc_attachments_remove_all(cc_ctx_t *ctx, const char *ticket_id)
{
    const char *args[2] = { ctx->principal->tenant_id, ticket_id };
    cc_tfiles_t area = attachments_area(ctx);
    json_t *rows;
    cc_error_t *err;
    size_t i;

    if ((err = cc_db_select(ctx->db, "cc_attachments_paths", path_cols, 2, args, &rows,
                            NULL))
        || (err = cc_db_exec(ctx->db, "cc_attachments_delete_all", 2, args, NULL))) {
        return err;
    }
    for (i = 0; i < json_array_size(rows); i++) {
        cc_tfiles_remove_after_commit(ctx, &area,
                                      cc_json_str(json_array_get(rows, i), "path"));
    }
    return NULL;
}

static const cc_route_t attachments_routes[] = {
    { "GET", "/api/v1/tickets/{id:int}/attachments", attachments_list, "tickets.read",
      CC_ROUTE_AUTH },
    { "POST", "/api/v1/tickets/{id:int}/attachments", attachments_upload, "tickets.write",
      CC_ROUTE_AUTH },
    { "GET", "/api/v1/attachments/{id:int}", attachments_download, "tickets.read",
      CC_ROUTE_AUTH | CC_ROUTE_STREAM },
    { "DELETE", "/api/v1/attachments/{id:int}", attachments_delete, "tickets.manage",
      CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_attachments_domain = { "attachments", attachments_routes,
                                            attachments_stmts, NULL, "cc_attachments_get",
                                            attachment_cols };
