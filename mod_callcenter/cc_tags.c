/*
 * cc_tags.c: /api/v1/tags — a tenant's labels for contacts and tickets.
 *
 * A name is unique in its tenant as the collation compares ("VIP" is "vip": a unique key
 * on (tenant_id, name)), so a taken one is 409 on name.  Objects show their tags by
 * name, joined when they are read, so a rename shows everywhere at once and a delete
 * (the link rows go with the tag, ON DELETE CASCADE) takes the tag off every contact and
 * ticket.  cc_tags_set is how contacts and tickets replace their tag sets.
 */
#include <string.h>

#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "cc_api_private.h"
#include "cc_audit.h"
#include "cc_helpdesk_rules.h"
#include "cc_hd_private.h"
#include "cc_sql.h"
#include "cc_validate.h"

static const char *const tag_sorts[] = { "name", "created_at", NULL };

#define TAG_COLUMNS "id, name, color, created_at, updated_at"

/* Binds 4 values: tenant, q x2 ... as TAGS_FILTER reads them. */
#define TAGS_FILTER " t.tenant_id = %s AND (%s IS NULL OR t.name LIKE %s)"

#define TAGS_LIST(order)                                                           \
    "SELECT " TAG_COLUMNS ", (SELECT COUNT(*) FROM tags t WHERE" TAGS_FILTER ") AS total" \
    " FROM tags t WHERE" TAGS_FILTER " ORDER BY " order " LIMIT %s OFFSET %s"

static const cc_stmt_t tags_stmts[] = {
    CC_SEARCH_SORT("cc_tags", "name", TAGS_LIST, "t.name ASC", "t.name DESC"),
    CC_SEARCH_SORT("cc_tags", "created_at", TAGS_LIST, "t.created_at ASC, t.id ASC",
                   "t.created_at DESC, t.id DESC"),
    CC_STMT("cc_tags_search_count", "SELECT COUNT(*) FROM tags t WHERE" TAGS_FILTER),
    CC_STMT("cc_tags_get", "SELECT " TAG_COLUMNS " FROM tags t WHERE t.tenant_id = %s"
                           " AND t.id = %s"),
    CC_STMT("cc_tags_lock", "SELECT name, color FROM tags WHERE tenant_id = %s AND id = %s"
                            " FOR UPDATE"),
    CC_STMT("cc_tags_insert", "INSERT INTO tags (tenant_id, name, color) VALUES (%s, %s, %s)"
                              " RETURNING " TAG_COLUMNS),
    CC_STMT("cc_tags_update", "UPDATE tags SET name = %s, color = %s,"
                              " updated_at = UTC_TIMESTAMP() WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_tags_delete", "DELETE FROM tags WHERE tenant_id = %s AND id = %s"
                              " RETURNING " TAG_COLUMNS),
    /* cc_tags_check: each name given (a JSON array) with its tag of the tenant, NULL
     * when there is none; the tags found are share-locked until the commit, so a delete
     * of one waits for the link being written (or deadlocks, and one of them runs
     * again) instead of slipping between the check and the write. */
    CC_STMT("cc_tags_resolve",
            "SELECT j.name, t.id FROM JSON_TABLE(%s, '$[*]' COLUMNS (name VARCHAR(200)"
            " PATH '$')) j LEFT JOIN tags t ON t.tenant_id = %s"
            " AND t.name = j.name COLLATE utf8mb4_uca1400_as_ci LOCK IN SHARE MODE"),
    CC_STMT_END
};

static const cc_col_t tag_cols[] = {
    { "id", CC_COL_INT },
    { "name", CC_COL_STR },
    { "color", CC_COL_STR },
    { "created_at", CC_COL_TIME },
    { "updated_at", CC_COL_TIME },
    CC_COL_END
};

static const cc_filter_t tag_filters[] = {
    { "q", CC_FILTER_SEARCH, 2, NULL, CC_TAG_NAME_MAX, NULL, NULL },
    CC_FILTER_END
};

static const cc_list_t tags_list_spec = { "cc_tags", tag_sorts, "name", tag_cols, tag_filters,
                                          CC_LIST_SEARCH_ONLY, NULL, NULL };

static const cc_field_t tag_fields[] = {
    { "name", CC_JT_STRING, 1 },
    { "color", CC_JT_STRING, 0 },
    { NULL, 0, 0 }
};

#define TAG_COLOR_DEFAULT "#808080"

/* The body's values over cur (NULL members: unchanged); 400 with every detail. */
static cc_error_t *tag_values(apr_pool_t *p, const json_t *body, const char **pname,
                              const char **pcolor)
{
    const char *name = cc_json_str(body, "name"), *color = cc_json_str(body, "color");
    cc_error_t *err = NULL;

    if (name) {
        if (!cc_tag_name_ok(name)) {
            err = cc_error_collect(p, err, "name", "must be 1 to 50 characters without ','"
                                   " or control characters, not starting or ending with"
                                   " a space");
        }
        *pname = name;
    }
    if (color) {
        if (!cc_tag_color_ok(color)) {
            err = cc_error_collect(p, err, "color", "must be #rrggbb");
        }
        *pcolor = apr_pstrdup(p, color);
    }
    return err;
}

static cc_error_t *name_conflict(cc_ctx_t *ctx, cc_error_t *err)
{
    return cc_db_duplicate(ctx->db, err, "name", "already in use",
                           "a tag with this name already exists");
}

static cc_error_t *tags_create(cc_ctx_t *ctx)
{
    const char *name = NULL, *color = TAG_COLOR_DEFAULT, *args[3], *id;
    json_t *body, *tag, *changes;
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, tag_fields, &body))
        || (err = tag_values(ctx->pool, body, &name, &color))) {
        return err;
    }
    args[0] = ctx->principal->tenant_id;
    args[1] = name;
    args[2] = color;
    if ((err = cc_db_begin(ctx->db))
        || (err = name_conflict(ctx, cc_db_select_one(ctx->db, "cc_tags_insert", tag_cols, 3,
                                                      args, &tag)))) {
        return err;
    }
    if (!tag) {
        return cc_error_internal(ctx->pool);
    }
    id = cc_json_int_text(ctx->pool, tag, "id");
    changes = cc_json_object(ctx->pool);
    cc_audit_change_str(changes, "name", NULL, name);
    cc_audit_change_str(changes, "color", NULL, color);
    return cc_ctx_commit(ctx, "tag", "create", id, changes, tag, HTTP_CREATED,
                         apr_pstrcat(ctx->pool, "/api/v1/tags/", id, NULL));
}

static cc_error_t *tags_update(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), *name, *color, **row;
    json_t *body, *changes, *tag;
    cc_error_t *err;

    if ((err = cc_read_json_patch(ctx, tag_fields, &body))
        || (err = cc_db_begin(ctx->db))
        || (err = cc_fetch_row(ctx, "cc_tags_lock", id, &row))) {
        return err;
    }
    name = row[0];
    color = row[1];
    if ((err = tag_values(ctx->pool, body, &name, &color))) {
        return err;
    }
    changes = cc_json_object(ctx->pool);
    if (strcmp(name, row[0])) {
        cc_audit_change_str(changes, "name", row[0], name);
    }
    if (strcmp(color, row[1])) {
        cc_audit_change_str(changes, "color", row[1], color);
    }
    if (json_object_size(changes) == 0) {
        return cc_reply_unchanged(ctx, cc_handle_get);
    }
    {
        const char *args[4] = { name, color, ctx->principal->tenant_id, id };

        err = name_conflict(ctx, cc_db_exec(ctx->db, "cc_tags_update", 4, args, NULL));
    }
    if (err || (err = cc_fetch(ctx, "cc_tags_get", tag_cols, id, &tag))) {
        return err;
    }
    return cc_ctx_commit(ctx, "tag", "update", id, changes, tag, HTTP_OK, NULL);
}

static const char *const tag_audit_drop[] = { "id", "created_at", "updated_at", NULL };

static cc_error_t *tags_delete(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id");
    json_t *tag;
    cc_error_t *err;

    if ((err = cc_db_begin(ctx->db))
        || (err = cc_fetch(ctx, "cc_tags_delete", tag_cols, id, &tag))) {
        return err;
    }
    return cc_ctx_commit_delete(ctx, "tag", id, tag, tag_audit_drop);
}

cc_error_t *cc_tags_check(cc_ctx_t *ctx, const json_t *names, const char **pjson)
{
    static const cc_col_t cols[] = { { "name", CC_COL_STR }, { "id", CC_COL_STR },
                                     CC_COL_END };
    const char *args[2];
    json_t *rows;
    cc_error_t *err;
    size_t i;

    if (json_array_size(names) > CC_TAGS_MAX) {
        return cc_error_field(ctx->pool, "tags",
                              apr_psprintf(ctx->pool, "must have at most %d tags",
                                           CC_TAGS_MAX));
    }
    for (i = 0; i < json_array_size(names); i++) {
        if (!cc_tag_name_ok(json_string_value(json_array_get(names, i)))) {
            return cc_error_field(ctx->pool, "tags", "must be tag names");
        }
    }
    args[0] = cc_json_dump(ctx->pool, names);
    args[1] = ctx->principal->tenant_id;
    if ((err = cc_db_select(ctx->db, "cc_tags_resolve", cols, 2, args, &rows, NULL))) {
        return err;
    }
    for (i = 0; i < json_array_size(rows); i++) {
        const json_t *row = json_array_get(rows, i);

        if (!cc_json_str(row, "id")) {
            return cc_error_field(ctx->pool, "tags",
                                  apr_psprintf(ctx->pool, "no such tag in this tenant: %s",
                                               cc_json_str(row, "name")));
        }
    }
    *pjson = args[0];
    return NULL;
}

cc_error_t *cc_tags_replace(cc_ctx_t *ctx, const char *prefix, const char *object_id,
                            const char *names, int fresh)
{
    const char *del[2] = { ctx->principal->tenant_id, object_id };
    const char *ins[3] = { object_id, names, ctx->principal->tenant_id };
    cc_error_t *err;

    /* A new object has no tags: no clear (its DELETE would gap-lock the index's end,
     * where every concurrent create inserts, and deadlock them). */
    if (!fresh && (err = cc_db_exec(ctx->db, apr_pstrcat(ctx->pool, prefix, "_tags_clear",
                                                         NULL), 2, del, NULL))) {
        return err;
    }
    return cc_db_exec(ctx->db, apr_pstrcat(ctx->pool, prefix, "_tags_add", NULL), 3, ins,
                      NULL);
}

static const cc_route_t tags_routes[] = {
    { "GET", "/api/v1/tags", cc_handle_list, "contacts.read", CC_ROUTE_AUTH },
    { "POST", "/api/v1/tags", tags_create, "tags.manage", CC_ROUTE_AUTH },
    { "GET", "/api/v1/tags/{id:int}", cc_handle_get, "contacts.read", CC_ROUTE_AUTH },
    { "PATCH", "/api/v1/tags/{id:int}", tags_update, "tags.manage", CC_ROUTE_AUTH },
    { "DELETE", "/api/v1/tags/{id:int}", tags_delete, "tags.manage", CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_tags_domain = { "tags", tags_routes, tags_stmts, &tags_list_spec,
                                     "cc_tags_get", tag_cols };
