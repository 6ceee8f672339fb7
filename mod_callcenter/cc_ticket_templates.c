/*
 * cc_ticket_templates.c: canned replies.
 *
 *   /api/v1/ticket-templates[/{id}]          GET tickets.read; POST, PATCH, DELETE
 *                                            tickets.manage
 *   /api/v1/tickets/{id}/render-template     POST tickets.read {template_id} -> {body}
 *
 * A body's placeholders ({{ticket.number}}, cc_template_placeholders) are checked when
 * it is saved, so rendering never meets an unknown one: the ticket's fields, its
 * contact's, and the agent's (the caller) fill them; a value the ticket does not have
 * (no contact) renders as nothing.
 */
#include <string.h>

#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "cc_api_private.h"
#include "cc_audit.h"
#include "cc_hd_private.h"
#include "cc_validate.h"

#define TEMPLATE_NAME_MAX 100

static const char *const template_sorts[] = { "name", "created_at", NULL };

#define TEMPLATE_COLUMNS "tt.id, tt.name, tt.body, tt.created_at, tt.updated_at"

/* Binds 3 values: tenant, q x2. */
#define TEMPLATES_FILTER " tt.tenant_id = %s AND (%s IS NULL OR tt.name LIKE %s)"

#define TEMPLATES_LIST(order)                                                      \
    "SELECT " TEMPLATE_COLUMNS ", (SELECT COUNT(*) FROM ticket_templates tt WHERE"  \
    TEMPLATES_FILTER ") AS total FROM ticket_templates tt WHERE" TEMPLATES_FILTER   \
    " ORDER BY " order " LIMIT %s OFFSET %s"

static const cc_stmt_t templates_stmts[] = {
    CC_SEARCH_SORT("cc_templates", "name", TEMPLATES_LIST, "tt.name ASC", "tt.name DESC"),
    CC_SEARCH_SORT("cc_templates", "created_at", TEMPLATES_LIST, "tt.created_at ASC, tt.id ASC",
                   "tt.created_at DESC, tt.id DESC"),
    CC_STMT("cc_templates_search_count", "SELECT COUNT(*) FROM ticket_templates tt WHERE"
                                         TEMPLATES_FILTER),
    CC_STMT("cc_templates_get", "SELECT " TEMPLATE_COLUMNS " FROM ticket_templates tt"
                                " WHERE tt.tenant_id = %s AND tt.id = %s"),
    CC_STMT("cc_templates_lock", "SELECT name, body FROM ticket_templates"
                                 " WHERE tenant_id = %s AND id = %s FOR UPDATE"),
    CC_STMT("cc_templates_insert", "INSERT INTO ticket_templates (tenant_id, name, body)"
                                   " VALUES (%s, %s, %s) RETURNING id"),
    CC_STMT("cc_templates_update", "UPDATE ticket_templates SET name = %s, body = %s,"
                                   " updated_at = UTC_TIMESTAMP()"
                                   " WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_templates_delete", "DELETE FROM ticket_templates WHERE tenant_id = %s"
                                   " AND id = %s"),
    CC_STMT("cc_templates_body", "SELECT body FROM ticket_templates WHERE tenant_id = %s"
                                 " AND id = %s"),
    /* render-template's values, in the order of render_keys. */
    CC_STMT("cc_templates_ticket_values",
            "SELECT t.id, t.number, t.subject, t.status, t.priority, t.channel, c.name,"
            " c.email, c.phone, c.company FROM tickets t LEFT JOIN contacts c"
            " ON c.id = t.contact_id AND c.tenant_id = t.tenant_id"
            " WHERE t.tenant_id = %s AND t.id = %s"),
    /* The agent: the caller, a user of its home tenant. */
    CC_STMT("cc_templates_agent_values",
            "SELECT u.name, u.email FROM users u WHERE u.tenant_id = %s AND u.id = %s"),
    CC_STMT_END
};

static const cc_col_t template_cols[] = {
    { "id", CC_COL_INT },
    { "name", CC_COL_STR },
    { "body", CC_COL_STR },
    { "created_at", CC_COL_TIME },
    { "updated_at", CC_COL_TIME },
    CC_COL_END
};

static const cc_filter_t template_filters[] = {
    { "q", CC_FILTER_SEARCH, 2, NULL, TEMPLATE_NAME_MAX, NULL, NULL },
    CC_FILTER_END
};

static const cc_list_t templates_list_spec = { "cc_templates", template_sorts, "name",
                                               template_cols, template_filters,
                                               CC_LIST_SEARCH_ONLY, NULL, NULL };

static const cc_field_t template_fields[] = {
    { "name", CC_JT_STRING, 1 },
    { "body", CC_JT_STRING, 1 },
    { NULL, 0, 0 }
};

/* The body over name and body (either may stay): every problem collected. */
static cc_error_t *template_values(apr_pool_t *p, const json_t *body, const char **pname,
                                   const char **pbody)
{
    const char *s, *text, *issue;
    cc_error_t *err = NULL;

    if ((s = cc_json_str(body, "name"))) {
        if (!cc_valid_text(s, 1, TEMPLATE_NAME_MAX)) {
            err = cc_error_collect(p, err, "name", "must be 1 to 100 characters");
        }
        *pname = s;
    }
    if ((text = cc_json_str(body, "body"))) {
        if (!cc_valid_text(text, 1, CC_TEMPLATE_BODY_MAX)) {
            err = cc_error_collect(p, err, "body", "must be 1 to 20000 characters");
        }
        else if ((issue = cc_template_issue(p, text))) {
            err = cc_error_collect(p, err, "body", issue);
        }
        *pbody = text;
    }
    return err;
}

static cc_error_t *name_conflict(cc_ctx_t *ctx, cc_error_t *err)
{
    return cc_db_duplicate(ctx->db, err, "name", "already in use",
                           "a template with this name already exists");
}

static cc_error_t *templates_create(cc_ctx_t *ctx)
{
    const char *name = NULL, *text = NULL, *args[3], **row, *id;
    json_t *body, *tpl, *changes;
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, template_fields, &body))
        || (err = template_values(ctx->pool, body, &name, &text))) {
        return err;
    }
    args[0] = ctx->principal->tenant_id;
    args[1] = name;
    args[2] = text;
    if ((err = cc_db_begin(ctx->db))
        || (err = name_conflict(ctx, cc_db_select_row(ctx->db, "cc_templates_insert", 3, args,
                                                      &row, NULL)))) {
        return err;
    }
    if (!row) {
        return cc_error_internal(ctx->pool);
    }
    id = row[0];
    if ((err = cc_fetch(ctx, "cc_templates_get", template_cols, id, &tpl))) {
        return err;
    }
    changes = cc_json_object(ctx->pool);
    cc_audit_change_str(changes, "name", NULL, name);
    cc_audit_change_str(changes, "body", NULL, text);
    return cc_ctx_commit(ctx, "ticket_template", "create", id, changes, tpl, HTTP_CREATED,
                         apr_pstrcat(ctx->pool, "/api/v1/ticket-templates/", id, NULL));
}

static cc_error_t *templates_update(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), *name, *text, **row;
    json_t *body, *changes, *tpl;
    cc_error_t *err;

    if ((err = cc_read_json_patch(ctx, template_fields, &body))
        || (err = cc_db_begin(ctx->db))
        || (err = cc_fetch_row(ctx, "cc_templates_lock", id, &row))) {
        return err;
    }
    name = row[0];
    text = row[1];
    if ((err = template_values(ctx->pool, body, &name, &text))) {
        return err;
    }
    changes = cc_json_object(ctx->pool);
    if (strcmp(name, row[0])) {
        cc_audit_change_str(changes, "name", row[0], name);
    }
    if (strcmp(text, row[1])) {
        cc_audit_change_str(changes, "body", row[1], text);
    }
    if (json_object_size(changes) == 0) {
        return cc_reply_unchanged(ctx, cc_handle_get);
    }
    {
        const char *args[4] = { name, text, ctx->principal->tenant_id, id };

        err = name_conflict(ctx, cc_db_exec(ctx->db, "cc_templates_update", 4, args, NULL));
    }
    if (err || (err = cc_fetch(ctx, "cc_templates_get", template_cols, id, &tpl))) {
        return err;
    }
    return cc_ctx_commit(ctx, "ticket_template", "update", id, changes, tpl, HTTP_OK, NULL);
}

static const char *const template_audit_drop[] = { "id", "created_at", "updated_at", NULL };

static cc_error_t *templates_delete(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), **row;
    const char *args[2] = { ctx->principal->tenant_id, id };
    json_t *tpl;
    cc_error_t *err;

    if ((err = cc_db_begin(ctx->db))
        || (err = cc_fetch_row(ctx, "cc_templates_lock", id, &row))
        || (err = cc_fetch(ctx, "cc_templates_get", template_cols, id, &tpl))
        || (err = cc_db_exec(ctx->db, "cc_templates_delete", 2, args, NULL))) {
        return err;
    }
    return cc_ctx_commit_delete(ctx, "ticket_template", id, tpl, template_audit_drop);
}

/* ---- render ---- */

static const char *const render_keys[] = {
    "ticket.id", "ticket.number", "ticket.subject", "ticket.status", "ticket.priority",
    "ticket.channel", "contact.name", "contact.email", "contact.phone", "contact.company",
    NULL
};

static const cc_field_t render_fields[] = {
    { "template_id", CC_JT_INT, 1 },
    { NULL, 0, 0 }
};

static cc_error_t *templates_render(cc_ctx_t *ctx)
{
    const char *tid = cc_path(ctx, "id"), *t = ctx->principal->tenant_id;
    const char *args[2], **row, *text;
    apr_table_t *values = apr_table_make(ctx->pool, 12);
    json_int_t template_id;
    json_t *body, *out;
    cc_error_t *err;
    int i;

    if ((err = cc_read_json_fields(ctx, render_fields, &body))) {
        return err;
    }
    args[0] = t;
    args[1] = tid;
    if ((err = cc_db_select_row(ctx->db, "cc_templates_ticket_values", 2, args, &row, NULL))) {
        return err;
    }
    if (!row) {
        return cc_error_not_found(ctx->pool);
    }
    for (i = 0; render_keys[i]; i++) {
        if (row[i]) {
            apr_table_setn(values, render_keys[i], row[i]);
        }
    }
    if ((template_id = json_integer_value(json_object_get(body, "template_id"))) < 1) {
        return cc_error_field(ctx->pool, "template_id", "must be a positive integer");
    }
    args[1] = apr_psprintf(ctx->pool, "%" APR_INT64_T_FMT, (apr_int64_t)template_id);
    if ((err = cc_db_select_row(ctx->db, "cc_templates_body", 2, args, &row, NULL))) {
        return err;
    }
    if (!row) {
        return cc_error_field(ctx->pool, "template_id", "no such template in this tenant");
    }
    text = row[0];
    args[0] = ctx->principal->home_tenant_id;
    args[1] = ctx->principal->user_id_str;
    if ((err = cc_db_select_row(ctx->db, "cc_templates_agent_values", 2, args, &row, NULL))) {
        return err;
    }
    if (row) {
        apr_table_setn(values, "agent.name", row[0]);
        apr_table_setn(values, "agent.email", row[1]);
    }
    out = cc_json_object(ctx->pool);
    cc_json_set_str(out, "body", cc_template_render(ctx->pool, text, values));
    return cc_reply_json(ctx, HTTP_OK, out);
}

static const cc_route_t templates_routes[] = {
    { "GET", "/api/v1/ticket-templates", cc_handle_list, "tickets.read", CC_ROUTE_AUTH },
    { "POST", "/api/v1/ticket-templates", templates_create, "tickets.manage", CC_ROUTE_AUTH },
    { "GET", "/api/v1/ticket-templates/{id:int}", cc_handle_get, "tickets.read",
      CC_ROUTE_AUTH },
    { "PATCH", "/api/v1/ticket-templates/{id:int}", templates_update, "tickets.manage",
      CC_ROUTE_AUTH },
    { "DELETE", "/api/v1/ticket-templates/{id:int}", templates_delete, "tickets.manage",
      CC_ROUTE_AUTH },
    { "POST", "/api/v1/tickets/{id:int}/render-template", templates_render, "tickets.read",
      CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_ticket_templates_domain = { "ticket_templates", templates_routes,
                                                 templates_stmts, &templates_list_spec,
                                                 "cc_templates_get", template_cols };
