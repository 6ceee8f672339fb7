/*
 * cc_recordings.c: /api/v1/recordings — call recordings Asterisk (MixMonitor) wrote under
 * CCRecordingsDir/<tenant id>/, registered, listed, streamed and deleted by the API.
 *
 * A client's path is relative to the tenant's directory and is opened beneath it without
 * following any link (cc_tenant_files.c, shared with voicemail).  Registration takes the
 * size from fstat of the opened file; streaming sends the opened descriptor as a file
 * bucket, so httpd answers Range.
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
#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "cc_api_private.h"
#include "cc_audit.h"
#include "cc_recordings_rules.h"
#include "cc_tenant_files.h"

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
                                                CC_LIST_SEARCH_ONLY, NULL, NULL };

/* What INSERT ... RETURNING gives back. */
static const cc_col_t rec_id_cols[] = { { "id", CC_COL_INT }, CC_COL_END };

static const cc_field_t rec_fields[] = {
    { CC_KEY_CDR_UNIQUEID, CC_JT_STRING, 1 },
    { CC_KEY_PATH, CC_JT_STRING, 1 },
    { CC_KEY_FORMAT, CC_JT_STRING, 1 },
    { NULL, 0, 0 }
};

/* ---- files ---- */

static cc_tfiles_t recordings_area(cc_ctx_t *ctx)
{
    cc_tfiles_t area = { CC_API_CTX_CFG(ctx)->recordings_dir, "CCRecordingsDir",
                         "recording" };

    return area;
}

/* ---- handlers ---- */

static cc_error_t *recordings_create(cc_ctx_t *ctx)
{
    rec_input_t in;
    cc_tfiles_t area = recordings_area(ctx);
    struct stat st;
    const char *issue, *args[5], *id;
    json_t *body, *row, *rec, *changes;
    cc_error_t *err;
    int fd;

    if ((err = cc_read_json_fields(ctx, rec_fields, &body))
        || (err = cc_rec_input_read(ctx->pool, body, &in))
        || (err = cc_tfiles_open(ctx, &area, in.parts, &fd, &st, &issue))) {
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

static cc_error_t *recordings_audio(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id");
    cc_tfiles_t area = recordings_area(ctx);
    const char **row;
    cc_error_t *err;

    if ((err = cc_fetch_row(ctx, "cc_recordings_file", id, &row))) {
        return err;
    }
    return cc_tfiles_send(ctx, &area, id, row[0], cc_audio_content_type(row[1]), NULL);
}

/* What a delete's audit entry keeps of the recording (the row itself is gone). */
static const char *const rec_audit_drop[] = { "id", "created_at", NULL };

static cc_error_t *recordings_delete(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id");
    cc_tfiles_t area = recordings_area(ctx);
    const char **row;
    json_t *rec;
    cc_error_t *err;
    int nrows = 0;
    const char *args[2] = { ctx->principal->tenant_id, id };

    if ((err = cc_db_begin(ctx->db))
        || (err = cc_fetch_row(ctx, "cc_recordings_lock", id, &row))
        || (err = cc_fetch(ctx, "cc_recordings_get", rec_cols, id, &rec))
        || (err = cc_db_exec(ctx->db, "cc_recordings_delete", 2, args, &nrows))) {
        return err;
    }
    cc_tfiles_remove_after_commit(ctx, &area, row[0]);
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
      CC_ROUTE_AUTH | CC_ROUTE_STREAM },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_recordings_domain = { "recordings", recordings_routes, recordings_stmts,
                                           &recordings_list_spec, "cc_recordings_get",
                                           rec_cols };
