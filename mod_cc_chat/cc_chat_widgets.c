/*
 * cc_chat_widgets.c: /api/v1/chat/widgets — a tenant's website chat widgets (API.md
 * "Chat"; the pure rules: cc_chat_rules.c; the table: sql/017_chat.sql).
 *
 * A widget's public_key is made here (CC_CHAT_KEY_BYTES random bytes, base64url) and
 * never changes: pages name it in their script tag, and the visitor API finds the widget
 * and its tenant by it.  allowed_origins are the pages' origins that may open sessions
 * (normalised to lower case).  A widget with sessions that are not closed cannot be
 * deleted (409); disable it instead.
 */
#include <string.h>

#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "cc_audit.h"
#include "cc_chat_private.h"
#include "cc_chat_rules.h"
#include "cc_crypto.h"
#include "cc_json.h"
#include "cc_sql.h"

#define WIDGET_COLUMNS "id, name, public_key, allowed_origins, greeting, color, enabled," \
    " reassign_after, created_at, updated_at"

/* Filters bind 5 values: tenant, enabled x2, q x2.  enabled is "true" or "false"
 * (checked), compared as CC_SQL_TRUE does. */
#define WIDGETS_FILTER                                                                 \
    " w.tenant_id = %s AND (%s IS NULL OR w.enabled = " CC_SQL_TRUE("%s") ")"       \
    " AND (%s IS NULL OR w.name LIKE %s)"
#define WIDGETS_LIST(order)                                                            \
    "SELECT " WIDGET_COLUMNS ", (SELECT COUNT(*) FROM chat_widgets w WHERE"            \
    " w.tenant_id = %s) AS total FROM chat_widgets w WHERE w.tenant_id = %s"           \
    " ORDER BY " order " LIMIT %s OFFSET %s"
#define WIDGETS_SEARCH(order)                                                          \
    "SELECT " WIDGET_COLUMNS ", (SELECT COUNT(*) FROM chat_widgets w WHERE"            \
    WIDGETS_FILTER ") AS total FROM chat_widgets w WHERE" WIDGETS_FILTER               \
    " ORDER BY " order " LIMIT %s OFFSET %s"

static const cc_stmt_t widgets_stmts[] = {
    CC_LIST_SORT("cc_chat_widgets", "name", WIDGETS_LIST, WIDGETS_SEARCH,
                 "w.name ASC, w.id ASC", "w.name DESC, w.id DESC"),
    CC_LIST_SORT("cc_chat_widgets", "created_at", WIDGETS_LIST, WIDGETS_SEARCH,
                 "w.created_at ASC, w.id ASC", "w.created_at DESC, w.id DESC"),
    CC_STMT("cc_chat_widgets_count",
            "SELECT COUNT(*) FROM chat_widgets w WHERE w.tenant_id = %s"),
    CC_STMT("cc_chat_widgets_search_count",
            "SELECT COUNT(*) FROM chat_widgets w WHERE" WIDGETS_FILTER),
    CC_STMT("cc_chat_widgets_get",
            "SELECT " WIDGET_COLUMNS " FROM chat_widgets w WHERE w.tenant_id = %s"
            " AND w.id = %s"),
    CC_STMT("cc_chat_widgets_lock",
            "SELECT name, allowed_origins, greeting, color, enabled, reassign_after"
            " FROM chat_widgets WHERE tenant_id = %s AND id = %s FOR UPDATE"),
    CC_STMT("cc_chat_widgets_insert",
            "INSERT INTO chat_widgets (tenant_id, name, public_key, allowed_origins,"
            " greeting, color, enabled, reassign_after) VALUES (%s, %s, %s, %s, %s, %s,"
            " %s, %s) RETURNING " WIDGET_COLUMNS),
    CC_STMT("cc_chat_widgets_update",
            "UPDATE chat_widgets SET name = %s, allowed_origins = %s, greeting = %s,"
            " color = %s, enabled = %s, reassign_after = %s, updated_at = UTC_TIMESTAMP()"
            " WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_chat_widgets_open_sessions",
            "SELECT COUNT(*) FROM chat_sessions WHERE tenant_id = %s AND widget_id = %s"
            " AND status <> 'closed' LOCK IN SHARE MODE"),
    CC_STMT("cc_chat_widgets_delete",
            "DELETE FROM chat_widgets WHERE tenant_id = %s AND id = %s"
            " RETURNING " WIDGET_COLUMNS),
    /* A widget's closed sessions go with it (their messages and transfers first). */
    CC_STMT("cc_chat_widgets_delete_messages",
            "DELETE m FROM chat_messages m JOIN chat_sessions s ON s.id = m.session_id"
            " WHERE s.tenant_id = %s AND s.widget_id = %s AND m.tenant_id = s.tenant_id"),
    CC_STMT("cc_chat_widgets_delete_transfers",
            "DELETE t FROM chat_transfers t JOIN chat_sessions s ON s.id = t.session_id"
            " WHERE s.tenant_id = %s AND s.widget_id = %s AND t.tenant_id = s.tenant_id"),
    CC_STMT("cc_chat_widgets_delete_sessions",
            "DELETE FROM chat_sessions WHERE tenant_id = %s AND widget_id = %s"),
    CC_STMT_END
};

static const cc_col_t widget_cols[] = {
    { "id", CC_COL_INT },
    { "name", CC_COL_STR },
    { "public_key", CC_COL_STR },
    { "allowed_origins", CC_COL_JSON },
    { "greeting", CC_COL_STR },
    { "color", CC_COL_STR },
    { "enabled", CC_COL_BOOL },
    { "reassign_after", CC_COL_INT },
    { "created_at", CC_COL_TIME },
    { "updated_at", CC_COL_TIME },
    CC_COL_END
};

static const char *const widget_sorts[] = { "name", "created_at", NULL };
static const char *const booleans[] = { "true", "false", NULL };

static const cc_filter_t widget_filters[] = {
    { "enabled", CC_FILTER_ENUM, 2, booleans, 0, NULL, NULL },
    { "q", CC_FILTER_SEARCH, 2, NULL, CC_CHAT_NAME_MAX, NULL, NULL },
    CC_FILTER_END
};

static const cc_list_t widgets_list = { "cc_chat_widgets", widget_sorts, "name", widget_cols,
                                        widget_filters, 0, NULL, NULL };

static const cc_field_t widget_fields[] = {
    { "name", CC_JT_STRING, 1 },
    { "allowed_origins", CC_JT_STRING_ARRAY, 0 },
    { "greeting", CC_JT_STRING, 0 },
    { "color", CC_JT_STRING, 0 },
    { "enabled", CC_JT_BOOL, 0 },
    { "reassign_after", CC_JT_INT_NULL, 0 },
    { NULL, 0, 0 }
};

static const char *const widget_audit_drop[] = { "id", "created_at", "updated_at", NULL };

static cc_error_t *widgets_create(cc_ctx_t *ctx)
{
    chat_widget_values_t v;
    const char *args[8], *key, *id;
    json_t *body, *obj;
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, widget_fields, &body))
        || (err = cc_chat_widget_apply(ctx->pool, body, cc_chat_widget_defaults(), &v))) {
        return err;
    }
    if (cc_random_token(ctx->pool, CC_CHAT_KEY_BYTES, &key) != APR_SUCCESS) {
        return cc_error_internal(ctx->pool);
    }
    args[0] = ctx->principal->tenant_id;
    args[1] = v.name;
    args[2] = key;
    args[3] = v.allowed_origins;
    args[4] = v.greeting;
    args[5] = v.color;
    args[6] = v.enabled;
    args[7] = v.reassign_after;
    if ((err = cc_db_begin(ctx->db))
        || (err = cc_db_select_one(ctx->db, "cc_chat_widgets_insert", widget_cols, 8, args,
                                   &obj))) {
        return err;
    }
    if (!obj) {
        return cc_error_internal(ctx->pool);
    }
    id = cc_json_int_text(ctx->pool, obj, "id");
    return cc_ctx_commit(ctx, "chat_widget", "create", id,
                         cc_json_without(ctx->pool, obj, widget_audit_drop), obj,
                         HTTP_CREATED, apr_pstrcat(ctx->pool, "/api/v1/chat/widgets/", id,
                                                   NULL));
}

static cc_error_t *widgets_update(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), **row;
    chat_widget_values_t cur, v;
    json_t *body, *changes, *obj;
    cc_error_t *err;

    if ((err = cc_read_json_patch(ctx, widget_fields, &body))
        || (err = cc_db_begin(ctx->db))
        || (err = cc_fetch_row(ctx, "cc_chat_widgets_lock", id, &row))) {
        return err;
    }
    cur.name = row[0];
    cur.allowed_origins = row[1];
    cur.greeting = row[2];
    cur.color = row[3];
    cur.enabled = row[4];
    cur.reassign_after = row[5];
    if ((err = cc_chat_widget_apply(ctx->pool, body, &cur, &v))) {
        return err;
    }
    changes = cc_json_own(ctx->pool, cc_chat_widget_diff(&cur, &v));
    if (json_object_size(changes) == 0) {
        return cc_reply_unchanged(ctx, cc_handle_get);
    }
    {
        const char *args[8] = { v.name, v.allowed_origins, v.greeting, v.color, v.enabled,
                                v.reassign_after, ctx->principal->tenant_id, id };

        if ((err = cc_db_exec(ctx->db, "cc_chat_widgets_update", 8, args, NULL))
            || (err = cc_fetch(ctx, "cc_chat_widgets_get", widget_cols, id, &obj))) {
            return err;
        }
    }
    return cc_ctx_commit(ctx, "chat_widget", "update", id, changes, obj, HTTP_OK, NULL);
}

static cc_error_t *widgets_delete(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id");
    const char *args[2] = { ctx->principal->tenant_id, id }, **row;
    json_t *obj;
    cc_error_t *err;

    if ((err = cc_db_begin(ctx->db))
        || (err = cc_fetch_row(ctx, "cc_chat_widgets_lock", id, &row))
        || (err = cc_db_select_row(ctx->db, "cc_chat_widgets_open_sessions", 2, args, &row,
                                   NULL))) {
        return err;
    }
    if (row && row[0] && strcmp(row[0], "0")) {
        return cc_error_conflict(ctx->pool, "the widget has %s chat sessions that are not"
                                 " closed; disable it, or close them first", row[0]);
    }
    if ((err = cc_db_exec(ctx->db, "cc_chat_widgets_delete_messages", 2, args, NULL))
        || (err = cc_db_exec(ctx->db, "cc_chat_widgets_delete_transfers", 2, args, NULL))
        || (err = cc_db_exec(ctx->db, "cc_chat_widgets_delete_sessions", 2, args, NULL))
        || (err = cc_fetch(ctx, "cc_chat_widgets_delete", widget_cols, id, &obj))) {
        return err;
    }
    return cc_ctx_commit_delete(ctx, "chat_widget", id, obj, widget_audit_drop);
}

static const cc_route_t widgets_routes[] = {
    { "GET", "/api/v1/chat/widgets", cc_handle_list, "chat.manage", CC_ROUTE_AUTH },
    { "POST", "/api/v1/chat/widgets", widgets_create, "chat.manage", CC_ROUTE_AUTH },
    { "GET", "/api/v1/chat/widgets/{id:int}", cc_handle_get, "chat.manage", CC_ROUTE_AUTH },
    { "PATCH", "/api/v1/chat/widgets/{id:int}", widgets_update, "chat.manage",
      CC_ROUTE_AUTH },
    { "DELETE", "/api/v1/chat/widgets/{id:int}", widgets_delete, "chat.manage",
      CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_chat_widgets_domain = { "chat_widgets", widgets_routes, widgets_stmts,
                                             &widgets_list, "cc_chat_widgets_get",
                                             widget_cols };
