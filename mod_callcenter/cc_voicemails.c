/*
 * cc_voicemails.c: /api/v1/voicemails — messages app_voicemail wrote in its spool under
 * CCVoicemailDir/<tenant id>/ (the tenant's voicemail context directory), ingested,
 * listed, streamed, marked, moved and deleted by the API.
 *
 * Ingest (POST) names a message's msgNNNN.txt, <mailbox>/<folder>/msgNNNN.txt relative
 * to the tenant's directory, and the format of its audio file beside it; both are opened
 * beneath the tenant's directory without following links (cc_tenant_files.c, as
 * recordings), the .txt is read (cc_vm_meta_parse: msg_id, callerid, duration, the time
 * in UTC) and the mailbox must be a voicemail box of the tenant (voicemail.mailbox in the
 * tenant's context, cc_ast_context).  app_voicemail renumbers messages when they move
 * (listening moves a message to Old, deletes close the gaps), so a message is known by
 * (mailbox, msg_id): ingesting a known one again records where it now is (200), and a
 * move to another folder in the spool moves it in the API too (to Old: read).  The
 * audio and a delete first check that the .txt at the stored path still carries the
 * message's msg_id, so a stale number never serves or removes another message's files.
 *
 * PATCH {read, folder} changes the API's state only: the spool is Asterisk's.  DELETE
 * removes the row (audit, event) and, once that has committed, the audio file and then
 * the .txt (unlinkat in their directory).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "cc_api_private.h"
#include "cc_asterisk.h"
#include "cc_audit.h"
#include "cc_log.h"
#include "cc_tenant_files.h"
#include "cc_validate.h"
#include "cc_voicemails_rules.h"
#include "cc_sql.h"

static const char *const voicemail_sorts[] = { "created_at", "duration", NULL };
static const char *const vm_bools[] = { "true", "false", NULL };

/* ---- statements ---- */

/* The object's columns, in vm_cols order. */
#define VM_COLUMNS "v.id, v.mailbox, v.caller_id, v.duration, v.folder, v.is_read," \
    " v.created_at, v.msg_id, v.format, v.size_bytes"

/* Binds 11 values: tenant, then each optional filter twice (mailbox, folder, read,
 * from, to).  read is "true" or "false" (vm_bools), compared as bytes: a bound string's
 * collation is the connection's, not the literal's. */
#define VM_FILTER                                                                  \
    " v.tenant_id = %s"                                                            \
    " AND (%s IS NULL OR v.mailbox = %s)"                                          \
    " AND (%s IS NULL OR v.folder = %s)"                                           \
    " AND (%s IS NULL OR v.is_read = " CC_SQL_TRUE("%s") ")"                       \
    " AND (%s IS NULL OR v.created_at >= %s)"                                      \
    " AND (%s IS NULL OR v.created_at < %s)"

#define VM_LIST(order)                                                             \
    "SELECT " VM_COLUMNS ", (SELECT COUNT(*) FROM voicemails v WHERE" VM_FILTER    \
    ") AS total FROM voicemails v WHERE" VM_FILTER                                 \
    " ORDER BY " order " LIMIT %s OFFSET %s"

/* One CC_SEARCH_SORT per whitelisted sort (voicemails_list_spec); id breaks ties. */
static const cc_stmt_t voicemails_stmts[] = {
    CC_SEARCH_SORT("cc_voicemails", "created_at", VM_LIST, "v.created_at ASC, v.id ASC",
                   "v.created_at DESC, v.id DESC"),
    CC_SEARCH_SORT("cc_voicemails", "duration", VM_LIST, "v.duration ASC, v.id ASC",
                   "v.duration DESC, v.id DESC"),
    CC_STMT("cc_voicemails_search_count",
            "SELECT COUNT(*) FROM voicemails v WHERE" VM_FILTER),
    CC_STMT("cc_voicemails_get",
            "SELECT " VM_COLUMNS " FROM voicemails v WHERE v.tenant_id = %s AND v.id = %s"),
    /* A PATCH's and a delete's read. */
    CC_STMT("cc_voicemails_lock",
            "SELECT path, format, msg_id, folder, is_read FROM voicemails"
            " WHERE tenant_id = %s AND id = %s FOR UPDATE"),
    /* The audio route's read. */
    CC_STMT("cc_voicemails_file",
            "SELECT path, format, msg_id FROM voicemails WHERE tenant_id = %s AND id = %s"),
    /* The mailbox is the tenant's: a box in its voicemail context (binds the context,
     * as cc_dids_dest_voicemail). */
    CC_STMT("cc_voicemails_mailbox",
            "SELECT 1 FROM voicemail WHERE context = %s AND mailbox = %s"),
    /* An ingest of a message already known (by its msg_id in the mailbox). */
    CC_STMT("cc_voicemails_known",
            "SELECT id, path, format, size_bytes, folder, is_read FROM voicemails"
            " WHERE tenant_id = %s AND mailbox = %s AND msg_id = %s FOR UPDATE"),
    CC_STMT("cc_voicemails_insert",
            "INSERT INTO voicemails (tenant_id, mailbox, msg_id, caller_id, duration, folder,"
            " is_read, path, format, size_bytes, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"),
    CC_STMT("cc_voicemails_relocate",
            "UPDATE voicemails SET path = %s, format = %s, size_bytes = %s, folder = %s,"
            " is_read = %s WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_voicemails_update",
            "UPDATE voicemails SET folder = %s, is_read = %s WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_voicemails_delete", "DELETE FROM voicemails WHERE tenant_id = %s AND id = %s"),
    CC_STMT_END
};

/* ---- the voicemail object ---- */

static const cc_col_t vm_cols[] = {
    { "id", CC_COL_INT },
    { "mailbox", CC_COL_STR },
    { "caller_id", CC_COL_STR },
    { "duration", CC_COL_INT },
    { CC_KEY_VM_FOLDER, CC_COL_STR },
    { CC_KEY_VM_READ, CC_COL_BOOL },
    { "created_at", CC_COL_TIME },
    { "msg_id", CC_COL_STR },
    { CC_KEY_VM_FORMAT, CC_COL_STR },
    { "size_bytes", CC_COL_INT },
    CC_COL_END
};

/* GET /voicemails: every filter is bound (absent ones as NULL), twice each, as
 * VM_FILTER reads them. */
static const cc_filter_t vm_filters[] = {
    { "mailbox", CC_FILTER_TEXT, 2, NULL, CC_VM_MAILBOX_MAX, NULL, NULL },
    { CC_KEY_VM_FOLDER, CC_FILTER_ENUM, 2, vm_folders, 0, NULL, NULL },
    { CC_KEY_VM_READ, CC_FILTER_ENUM, 2, vm_bools, 0, NULL, NULL },
    { "from", CC_FILTER_TIME, 2, NULL, 0, NULL, NULL },
    { "to", CC_FILTER_TIME, 2, NULL, 0, NULL, NULL },
    CC_FILTER_END
};

static const cc_list_t voicemails_list_spec = { "cc_voicemails", voicemail_sorts,
                                                "-created_at", vm_cols, vm_filters,
                                                CC_LIST_SEARCH_ONLY, NULL, NULL };

static const cc_col_t vm_id_cols[] = { { "id", CC_COL_INT }, CC_COL_END };

static const cc_field_t vm_fields[] = {
    { CC_KEY_VM_PATH, CC_JT_STRING, 1 },
    { CC_KEY_VM_FORMAT, CC_JT_STRING, 1 },
    { NULL, 0, 0 }
};

/* A PATCH: either or both. */
static const cc_field_t vm_patch_fields[] = {
    { CC_KEY_VM_READ, CC_JT_BOOL, 0 },
    { CC_KEY_VM_FOLDER, CC_JT_STRING, 0 },
    { NULL, 0, 0 }
};

/* ---- files ---- */

static cc_tfiles_t voicemail_area(cc_ctx_t *ctx)
{
    cc_tfiles_t area = { CC_API_CTX_CFG(ctx)->voicemail_dir, "CCVoicemailDir",
                         "voicemail" };

    return area;
}

/*
 * Read the msgNNNN.txt parts names beneath the tenant's directory into *m; a file that is
 * not the client's to name or not a message's metadata is *pissue.
 */
static cc_error_t *read_meta(cc_ctx_t *ctx, const cc_tfiles_t *area,
                             const apr_array_header_t *parts, vm_meta_t *m,
                             const char **pissue)
{
    struct stat st;
    cc_error_t *err;
    char *buf;
    apr_size_t len = 0;
    int fd;

    if ((err = cc_tfiles_open(ctx, area, parts, &fd, &st, pissue)) || *pissue) {
        return err;
    }
    if (st.st_size > CC_VM_META_MAX) {
        *pissue = "is not a message's metadata: more than 8192 bytes";
        return NULL;
    }
    buf = apr_palloc(ctx->pool, CC_VM_META_MAX + 1);
    for (;;) {
        ssize_t n = read(fd, buf + len, CC_VM_META_MAX + 1 - len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, errno, ctx->r, CCLOGNO(03790)
                          "tenant %s: cannot read a voicemail's metadata",
                          ctx->principal->tenant_id);
            return cc_error_internal(ctx->pool);
        }
        if (n == 0 || (len += (apr_size_t)n) > CC_VM_META_MAX) {
            break;
        }
    }
    *pissue = cc_vm_meta_parse(ctx->pool, buf, len, m);
    return NULL;
}

/*
 * Whether the .txt at a stored path still is the message msg_id (app_voicemail may have
 * renumbered it): NULL and *pissue NULL when it is, else *pissue says what is there.
 */
static cc_error_t *check_message(cc_ctx_t *ctx, const cc_tfiles_t *area, const char *path,
                                 const char *msg_id, const char **pissue)
{
    apr_array_header_t *parts;
    vm_meta_t m;
    cc_error_t *err;

    if ((*pissue = cc_files_path_split(ctx->pool, path, &parts))
        || (err = read_meta(ctx, area, parts, &m, pissue)) || *pissue) {
        return *pissue ? NULL : err;
    }
    if (strcmp(m.msg_id, msg_id)) {
        *pissue = apr_psprintf(ctx->pool, "holds another message (%s)", m.msg_id);
    }
    return NULL;
}

/* The folder a stored .txt path is in (its second component). */
static const char *spool_folder(apr_pool_t *p, const char *path)
{
    const char *s = strchr(path, '/'), *e = s ? strchr(s + 1, '/') : NULL;

    return e ? apr_pstrmemdup(p, s + 1, (apr_size_t)(e - s - 1)) : "";
}

/* ---- handlers ---- */

/* A known message ingested again: record where it is now (see the file comment). */
static cc_error_t *relocate(cc_ctx_t *ctx, const vm_input_t *in, const char **known,
                            const char *size)
{
    const char *id = known[0], *folder = known[4], *is_read = known[5];
    json_t *changes = cc_json_object(ctx->pool), *vm;
    cc_error_t *err;

    if (strcmp(spool_folder(ctx->pool, known[1]), in->folder)) {
        folder = in->folder;
        is_read = !strcmp(in->folder, "Old") ? "1" : is_read;
    }
    cc_audit_change_str(changes, CC_KEY_VM_PATH, known[1], in->path);
    cc_audit_change_str(changes, CC_KEY_VM_FORMAT, known[2], in->format);
    cc_audit_change_str(changes, "size_bytes", known[3], size);
    cc_audit_change_str(changes, CC_KEY_VM_FOLDER, known[4], folder);
    if (strcmp(known[5], is_read)) {
        cc_audit_change(changes, CC_KEY_VM_READ, json_boolean(!strcmp(known[5], "1")),
                        json_boolean(!strcmp(is_read, "1")));
    }
    if (json_object_size(changes) == 0) {
        cc_db_rollback(ctx->db);
        return cc_reply_fetch(ctx, "cc_voicemails_get", vm_cols, id);
    }
    {
        const char *args[7] = { in->path, in->format, size, folder, is_read,
                                ctx->principal->tenant_id, id };

        if ((err = cc_db_exec(ctx->db, "cc_voicemails_relocate", 7, args, NULL))) {
            return err;
        }
    }
    if ((err = cc_fetch(ctx, "cc_voicemails_get", vm_cols, id, &vm))) {
        return err;
    }
    return cc_ctx_commit(ctx, "voicemail", "update", id, changes, vm, HTTP_OK, NULL);
}

static cc_error_t *voicemails_create(cc_ctx_t *ctx)
{
    vm_input_t in;
    vm_meta_t m;
    cc_tfiles_t area = voicemail_area(ctx);
    struct stat st;
    const char *issue, *size, *created, *args[11], **known, **box, *id;
    json_t *body, *row, *vm, *changes;
    cc_error_t *err;
    int fd;

    if ((err = cc_read_json_fields(ctx, vm_fields, &body))
        || (err = cc_vm_input_read(ctx->pool, body, &in))
        || (err = read_meta(ctx, &area, in.parts, &m, &issue))) {
        return err;
    }
    if (issue) {
        return cc_error_field(ctx->pool, CC_KEY_VM_PATH, issue);
    }
    if ((err = cc_tfiles_open(ctx, &area, in.audio_parts, &fd, &st, &issue))) {
        return err;
    }
    if (issue) {
        return cc_error_field(ctx->pool, CC_KEY_VM_FORMAT,
                              apr_psprintf(ctx->pool, "the message's audio file %s: %s",
                                           in.audio_path, issue));
    }
    if (!(created = cc_epoch_to_sql(ctx->pool, m.origtime))) {
        return cc_error_field(ctx->pool, CC_KEY_VM_PATH, "has metadata with an origtime"
                              " out of range");
    }
    size = apr_off_t_toa(ctx->pool, (apr_off_t)st.st_size);
    args[0] = cc_ast_context(ctx->pool, ctx->principal->tenant_slug);
    args[1] = in.mailbox;
    if ((err = cc_db_begin(ctx->db))
        || (err = cc_db_select_row(ctx->db, "cc_voicemails_mailbox", 2, args, &box, NULL))) {
        return err;
    }
    if (!box) {
        return cc_error_field(ctx->pool, CC_KEY_VM_PATH,
                              "names no voicemail box of this tenant");
    }
    args[0] = ctx->principal->tenant_id;
    args[2] = m.msg_id;
    if ((err = cc_db_select_row(ctx->db, "cc_voicemails_known", 3, args, &known, NULL))) {
        return err;
    }
    if (known) {
        return relocate(ctx, &in, known, size);
    }
    args[3] = m.caller_id;
    args[4] = apr_ltoa(ctx->pool, (long)m.duration);
    args[5] = in.folder;
    args[6] = !strcmp(in.folder, "Old") ? "1" : "0";
    args[7] = in.path;
    args[8] = in.format;
    args[9] = size;
    args[10] = created;
    if ((err = cc_db_duplicate(ctx->db,
                               cc_db_select_one(ctx->db, "cc_voicemails_insert", vm_id_cols,
                                                11, args, &row),
                               CC_KEY_VM_PATH, "is a message being ingested at this moment",
                               "this message is being ingested at this moment"))) {
        return err;
    }
    if (!row) {
        return cc_error_internal(ctx->pool);   /* INSERT ... RETURNING gives its row */
    }
    id = cc_json_int_text(ctx->pool, row, "id");
    if ((err = cc_fetch(ctx, "cc_voicemails_get", vm_cols, id, &vm))) {
        return err;
    }
    changes = cc_json_own(ctx->pool, json_pack("{s:s, s:s, s:s, s:s, s:I}",
                                               "mailbox", in.mailbox, "msg_id", m.msg_id,
                                               CC_KEY_VM_PATH, in.path,
                                               CC_KEY_VM_FORMAT, in.format,
                                               "size_bytes", (json_int_t)st.st_size));
    return cc_ctx_commit(ctx, "voicemail", "receive", id, changes, vm, HTTP_CREATED,
                         apr_pstrcat(ctx->pool, "/api/v1/voicemails/", id, NULL));
}

static cc_error_t *voicemails_audio(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), *issue;
    cc_tfiles_t area = voicemail_area(ctx);
    const char **row;
    cc_error_t *err;

    if ((err = cc_fetch_row(ctx, "cc_voicemails_file", id, &row))
        || (err = check_message(ctx, &area, row[0], row[2], &issue))) {
        return err;
    }
    if (issue) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, ctx->r, CCLOGNO(03791)
                      "tenant %s: voicemail %s cannot be served: its metadata %s %s",
                      ctx->principal->tenant_id, id, row[0], issue);
        return cc_error_make(ctx->pool, HTTP_NOT_FOUND, CC_ERR_NOT_FOUND,
                             "the voicemail's files are not where they were ingested");
    }
    return cc_tfiles_send(ctx, &area, id, cc_vm_audio_path(ctx->pool, row[0], row[1]),
                          cc_audio_content_type(row[1]), NULL);
}

static cc_error_t *voicemails_update(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), *folder, *is_read;
    const char **row;
    vm_patch_t in;
    json_t *body, *changes, *vm;
    cc_error_t *err;

    if ((err = cc_read_json_patch(ctx, vm_patch_fields, &body))
        || (err = cc_vm_patch_read(ctx->pool, body, &in))
        || (err = cc_db_begin(ctx->db))
        || (err = cc_fetch_row(ctx, "cc_voicemails_lock", id, &row))) {
        return err;
    }
    folder = in.folder ? in.folder : row[3];
    is_read = in.has_read ? (in.read ? "1" : "0") : row[4];
    changes = cc_json_object(ctx->pool);
    cc_audit_change_str(changes, CC_KEY_VM_FOLDER, row[3], folder);
    if (strcmp(row[4], is_read)) {
        cc_audit_change(changes, CC_KEY_VM_READ, json_boolean(!strcmp(row[4], "1")),
                        json_boolean(in.read));
    }
    if (json_object_size(changes) == 0) {
        return cc_reply_unchanged(ctx, cc_handle_get);
    }
    {
        const char *args[4] = { folder, is_read, ctx->principal->tenant_id, id };

        if ((err = cc_db_exec(ctx->db, "cc_voicemails_update", 4, args, NULL))
            || (err = cc_fetch(ctx, "cc_voicemails_get", vm_cols, id, &vm))) {
            return err;
        }
    }
    return cc_ctx_commit(ctx, "voicemail", "update", id, changes, vm, HTTP_OK, NULL);
}

/* What a delete's audit entry keeps of the voicemail (the row itself is gone). */
static const char *const vm_audit_drop[] = { "id", NULL };

static cc_error_t *voicemails_delete(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), *issue = NULL;
    cc_tfiles_t area = voicemail_area(ctx);
    const char **row;
    json_t *vm;
    cc_error_t *err;
    const char *args[2] = { ctx->principal->tenant_id, id };

    if ((err = cc_db_begin(ctx->db))
        || (err = cc_fetch_row(ctx, "cc_voicemails_lock", id, &row))
        || (err = cc_fetch(ctx, "cc_voicemails_get", vm_cols, id, &vm))
        || (err = cc_db_exec(ctx->db, "cc_voicemails_delete", 2, args, NULL))
        || (area.root && (err = check_message(ctx, &area, row[0], row[2], &issue)))) {
        return err;
    }
    if (!area.root) {
        /* Nothing to remove: cc_tfiles_remove_after_commit does nothing either. */
    }
    else if (issue) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, ctx->r, CCLOGNO(03792)
                      "tenant %s: the deleted voicemail %s's files are left: its metadata"
                      " %s %s", ctx->principal->tenant_id, id, row[0], issue);
    }
    else {
        /* The audio first, the .txt last: app_voicemail counts a message by its .txt. */
        cc_tfiles_remove_after_commit(ctx, &area, cc_vm_audio_path(ctx->pool, row[0],
                                                                   row[1]));
        cc_tfiles_remove_after_commit(ctx, &area, row[0]);
    }
    return cc_ctx_commit_delete(ctx, "voicemail", id, vm, vm_audit_drop);
}

/* Path order does not matter: captures never shadow literals (cc_route_match). */
static const cc_route_t voicemails_routes[] = {
    { "GET", "/api/v1/voicemails", cc_handle_list, "voicemails.read", CC_ROUTE_AUTH },
    { "POST", "/api/v1/voicemails", voicemails_create, "voicemails.write", CC_ROUTE_AUTH },
    { "GET", "/api/v1/voicemails/{id:int}", cc_handle_get, "voicemails.read", CC_ROUTE_AUTH },
    { "PATCH", "/api/v1/voicemails/{id:int}", voicemails_update, "voicemails.write",
      CC_ROUTE_AUTH },
    { "DELETE", "/api/v1/voicemails/{id:int}", voicemails_delete, "voicemails.write",
      CC_ROUTE_AUTH },
    { "GET", "/api/v1/voicemails/{id:int}/audio", voicemails_audio, "voicemails.read",
      CC_ROUTE_AUTH | CC_ROUTE_STREAM },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_voicemails_domain = { "voicemails", voicemails_routes, voicemails_stmts,
                                           &voicemails_list_spec, "cc_voicemails_get",
                                           vm_cols };
