/*
 * cc_tickets.c: /api/v1/tickets — helpdesk tickets and their messages.
 *
 *   /api/v1/tickets                   GET tickets.read, POST tickets.write
 *   /api/v1/tickets/{id}              GET tickets.read, PATCH tickets.write,
 *                                     DELETE tickets.manage
 *   /api/v1/tickets/{id}/messages     GET tickets.read, POST tickets.write
 *
 * Numbers: a create increments its tenant's ticket_counters row in its transaction, as
 * late as it can (after every check), and holds that row until its commit: creates in
 * one tenant queue there for the time of an insert and a commit, and numbers run 1, 2,
 * 3... with no gap (a rolled back create gives its number back) and no duplicate, on any
 * number of nodes.  The unique key (tenant_id, number) stands behind it.
 *
 * SLA clocks (cc_slas.c): a new ticket takes the policy of its priority, and its due
 * times are business time after created_at.  While pending or on_hold the resolution
 * clock stops: paused_at says since when, and on leaving, the resolution due time moves
 * on by the business time spent there (on the policy's calendar), which paused_secs
 * also keeps.  A priority change takes the new priority's policy and computes both due
 * times again from created_at, paused_secs added to the resolution clock.  An edit of a
 * policy changes no ticket's due times.
 *
 * Status: solved sets resolved_at, leaving solved clears it; closed is final (409).
 * Assigning a ticket to someone other than oneself, and closing one, take
 * tickets.manage.
 */
#include <string.h>

#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "cc_api_private.h"
#include "cc_audit.h"
#include "cc_hd_private.h"
#include "cc_page.h"
#include "cc_search.h"
#include "cc_sql.h"
#include "cc_validate.h"

#define TICKET_SUBJECT_MAX  255
#define TICKET_Q_MAX        200
#define MESSAGE_BODY_MAX    20000

static const char *const ticket_sorts[] = { "created_at", "updated_at", "number", "priority",
                                            NULL };
static const char *const ticket_statuses[] = { "new", "open", "pending", "on_hold", "solved",
                                               "closed", NULL };
static const char *const ticket_priorities[] = { "low", "normal", "high", "urgent", NULL };
static const char *const ticket_channels[] = { "phone", "email", "chat", "web", NULL };
static const char *const author_types[] = { "user", "contact", NULL };
static const char *const ticket_bools[] = { "true", "false", NULL };

/* ---- statements ---- */

/* The call or voicemail the ticket came from; a call's recording is the first one of
 * its call leg (the CDR's uniqueid) in the tenant. */
#define TICKET_SOURCE                                                              \
    "CASE WHEN t.source_cdr_id IS NOT NULL THEN JSON_OBJECT('type', 'call',"        \
    " 'cdr_id', t.source_cdr_id, 'recording_id', (SELECT MIN(r.id) FROM cdr c"      \
    " JOIN recordings r ON r.tenant_id = c.tenant_ref AND r.cdr_uniqueid = c.uniqueid" \
    " WHERE c.id = t.source_cdr_id AND c.tenant_ref = t.tenant_id))"                \
    " WHEN t.source_voicemail_id IS NOT NULL THEN JSON_OBJECT('type', 'voicemail',"  \
    " 'voicemail_id', t.source_voicemail_id) END"

#define TICKET_COLUMNS "t.id, t.number, t.subject, t.status, t.priority, t.channel,"   \
    " t.contact_id, t.assignee_id, t.sla_id, t.tag_names, t.first_response_due_at," \
    " t.resolution_due_at, t.first_responded_at, t.resolved_at, t.sla_breached, "   \
    TICKET_SOURCE ", t.created_at, t.updated_at"

/* Binds 12 values: status, priority, assignee_id, contact_id, tag and sla_breached, each
 * twice. */
#define TICKETS_FILTER_REST                                                        \
    " AND (%s IS NULL OR t.status = %s)"                                           \
    " AND (%s IS NULL OR t.priority = %s)"                                         \
    " AND (%s IS NULL OR t.assignee_id = %s)"                                      \
    " AND (%s IS NULL OR t.contact_id = %s)"                                       \
    CC_TAG_FILTER("ticket_tags", "ticket_id", "t")                                 \
    " AND (%s IS NULL OR t.sla_breached = " CC_SQL_TRUE("%s") ")"

/* Binds 13 values: the tenant, then TICKETS_FILTER_REST's. */
#define TICKETS_FILTER " t.tenant_id = %s" TICKETS_FILTER_REST

/* With q (ticket_terms, sql/030), binds 14 values: the tenant, q's LIKE prefix, then
 * TICKETS_FILTER_REST's.  The matches come from one range of the terms' index (a derived
 * table joined STRAIGHT, as the contacts' search), then the other filters apply to their
 * rows. */
#define TICKETS_Q_FROM                                                             \
    " FROM (SELECT DISTINCT tt.tenant_id, tt.ticket_id FROM ticket_terms tt"        \
    " WHERE tt.tenant_id = %s AND tt.term LIKE %s) m STRAIGHT_JOIN tickets t"       \
    " ON t.id = m.ticket_id AND t.tenant_id = m.tenant_id WHERE 1 = 1"             \
    TICKETS_FILTER_REST

/* A search with no other filter, by id (created_at): binds the tenant, q's prefix, limit
 * and offset.  Its ids are the tenant's (ticket_terms.tenant_id is its ticket's); the
 * join checks that again. */
#define TICKETS_Q_ALONE(dir)                                                       \
    "SELECT " TICKET_COLUMNS ", NULL AS total FROM (SELECT DISTINCT tt.tenant_id,"  \
    " tt.ticket_id AS id FROM ticket_terms tt WHERE tt.tenant_id = %s"              \
    " AND tt.term LIKE %s ORDER BY tt.ticket_id " dir " LIMIT %s OFFSET %s) p"      \
    " STRAIGHT_JOIN tickets t ON t.id = p.id AND t.tenant_id = p.tenant_id"         \
    " ORDER BY t.id " dir

/* A search's page sorts the matches' ids alone, then joins the page's to their rows (a
 * deferred join: the source's subqueries run for the page, not for every match). */
#define TICKETS_Q_LIST(order)                                                      \
    "SELECT " TICKET_COLUMNS ", NULL AS total FROM (SELECT t.tenant_id, t.id"       \
    TICKETS_Q_FROM " ORDER BY " order " LIMIT %s OFFSET %s) p STRAIGHT_JOIN tickets t" \
    " ON t.id = p.id AND t.tenant_id = p.tenant_id ORDER BY " order

/* The page alone: its total is tickets_total's (the list binds the filter once). */
#define TICKETS_LIST(order)                                                        \
    "SELECT " TICKET_COLUMNS ", NULL AS total FROM tickets t WHERE" TICKETS_FILTER  \
    " ORDER BY " order " LIMIT %s OFFSET %s"

/* A shape's page (cc_list_shape_t, ticket_shapes): binds the tenant, the shape's filter
 * values, limit and offset; its index serves both the filter and the order. */
#define TICKETS_SHAPE(index, where, order)                                         \
    "SELECT " TICKET_COLUMNS ", NULL AS total FROM tickets t FORCE INDEX (" index ")" \
    " WHERE t.tenant_id = %s AND " where " ORDER BY " order " LIMIT %s OFFSET %s"
#define TICKETS_SHAPE_STMTS(name, index, where)                                    \
    CC_STMT("cc_tickets_search_" name "_created_at_asc",                           \
            TICKETS_SHAPE(index, where, "t.id ASC")),                              \
    CC_STMT("cc_tickets_search_" name "_created_at_desc",                          \
            TICKETS_SHAPE(index, where, "t.id DESC"))

#define MESSAGE_COLUMNS "m.id, m.ticket_id, m.author_type, m.author_id, m.body, m.internal," \
    " m.created_at"

#define MESSAGES_PAGE(order)                                                       \
    "SELECT " MESSAGE_COLUMNS ", (SELECT COUNT(*) FROM ticket_messages m"           \
    " WHERE m.tenant_id = %s AND m.ticket_id = %s) AS total FROM ticket_messages m" \
    " WHERE m.tenant_id = %s AND m.ticket_id = %s ORDER BY " order " LIMIT %s OFFSET %s"

static const cc_stmt_t tickets_stmts[] = {
    CC_SEARCH_SORT("cc_tickets", "created_at", TICKETS_LIST, "t.id ASC", "t.id DESC"),
    CC_SEARCH_SORT("cc_tickets", "updated_at", TICKETS_LIST, "t.updated_at ASC, t.id ASC",
                   "t.updated_at DESC, t.id DESC"),
    CC_SEARCH_SORT("cc_tickets", "number", TICKETS_LIST, "t.number ASC", "t.number DESC"),
    CC_SEARCH_SORT("cc_tickets", "priority", TICKETS_LIST, "t.priority ASC, t.id ASC",
                   "t.priority DESC, t.id DESC"),
    CC_STMT("cc_tickets_search_count", "SELECT COUNT(*) FROM tickets t WHERE" TICKETS_FILTER),
    CC_SEARCH_SORT("cc_tickets_q", "created_at", TICKETS_Q_LIST, "t.id ASC", "t.id DESC"),
    CC_SEARCH_SORT("cc_tickets_q", "updated_at", TICKETS_Q_LIST, "t.updated_at ASC, t.id ASC",
                   "t.updated_at DESC, t.id DESC"),
    CC_SEARCH_SORT("cc_tickets_q", "number", TICKETS_Q_LIST, "t.number ASC", "t.number DESC"),
    CC_SEARCH_SORT("cc_tickets_q", "priority", TICKETS_Q_LIST, "t.priority ASC, t.id ASC",
                   "t.priority DESC, t.id DESC"),
    CC_STMT("cc_tickets_q_search_count", "SELECT COUNT(*)" TICKETS_Q_FROM),
    /* q alone, newest or oldest first (ticket_q_shapes): the page and the total from the
     * terms' index alone, no ticket row read but the page's. */
    CC_STMT("cc_tickets_q_search_q_created_at_asc", TICKETS_Q_ALONE("ASC")),
    CC_STMT("cc_tickets_q_search_q_created_at_desc", TICKETS_Q_ALONE("DESC")),
    CC_STMT("cc_tickets_q_count_q", "SELECT COUNT(DISTINCT tt.ticket_id) FROM ticket_terms tt"
                                    " WHERE tt.tenant_id = %s AND tt.term LIKE %s"),
    /* The subject's search terms (ticket_terms). */
    CC_TERMS_STMTS("cc_tickets", "ticket_terms", "ticket_id"),
    /* The two filters a queue's and an agent's views use, newest first (ticket_shapes). */
    TICKETS_SHAPE_STMTS("status_priority", "idx_tickets_status",
                        "t.status = %s AND t.priority = %s"),
    TICKETS_SHAPE_STMTS("assignee_status", "idx_tickets_assignee",
                        "t.assignee_id = %s AND t.status = %s"),
    /* An agent's open (or pending...) tickets: counted on their own index (a counted
     * shape's total binds its page's values). */
    CC_STMT("cc_tickets_count_assignee_status",
            "SELECT COUNT(*) FROM tickets t FORCE INDEX (idx_tickets_assignee)"
            " WHERE t.tenant_id = %s AND t.assignee_id = %s AND t.status = %s"),
    /* The total of a list filtered by status and priority alone (ticket_counts, sql/020:
     * at most 24 rows a tenant). */
    CC_STMT("cc_tickets_counted",
            "SELECT COALESCE(SUM(n), 0) FROM ticket_counts WHERE tenant_id = %s"
            " AND (%s IS NULL OR status = %s) AND (%s IS NULL OR priority = %s)"),
    CC_STMT("cc_tickets_get", "SELECT " TICKET_COLUMNS " FROM tickets t"
                              " WHERE t.tenant_id = %s AND t.id = %s"),
    CC_STMT("cc_tickets_lock",
            "SELECT subject, status, priority, channel, contact_id, assignee_id, sla_id,"
            " UNIX_TIMESTAMP(created_at), UNIX_TIMESTAMP(paused_at), paused_secs,"
            " resolved_at, first_response_due_at, resolution_due_at,"
            " UNIX_TIMESTAMP(resolution_due_at)"
            " FROM tickets WHERE tenant_id = %s AND id = %s FOR UPDATE"),
    /* The next number: the counter row stays locked until the create's commit. */
    CC_STMT("cc_tickets_number_next",
            "INSERT INTO ticket_counters (tenant_id, last_number) VALUES (%s, 1)"
            " ON DUPLICATE KEY UPDATE last_number = last_number + 1"),
    CC_STMT("cc_tickets_number_read",
            "SELECT last_number FROM ticket_counters WHERE tenant_id = %s"),
    CC_STMT("cc_tickets_insert",
            "INSERT INTO tickets (tenant_id, number, subject, status, priority, channel,"
            " contact_id, assignee_id, sla_id, first_response_due_at, resolution_due_at,"
            " resolved_at, paused_at, source_cdr_id, source_voicemail_id, created_at,"
            " updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
            " %s, %s, %s) RETURNING id"),
    CC_STMT("cc_tickets_update",
            "UPDATE tickets SET subject = %s, status = %s, priority = %s, channel = %s,"
            " contact_id = %s, assignee_id = %s, sla_id = %s, first_response_due_at = %s,"
            " resolution_due_at = %s, resolved_at = %s, paused_at = %s, paused_secs = %s,"
            " updated_at = UTC_TIMESTAMP() WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_tickets_touch", "UPDATE tickets SET updated_at = UTC_TIMESTAMP()"
                                " WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_tickets_delete", "DELETE FROM tickets WHERE tenant_id = %s AND id = %s"),
    /* References (share locks: a delete of the contact or a change of the user waits
     * for this write). */
    CC_STMT("cc_tickets_ref_contact",
            "SELECT 1 FROM contacts c WHERE c.tenant_id = %s AND c.id = %s LOCK IN SHARE MODE"),
    CC_STMT("cc_tickets_ref_assignee",
            "SELECT 1 FROM users u WHERE u.tenant_id = %s AND u.id = %s"
            " AND u.deleted_at IS NULL AND u.status = 'active' LOCK IN SHARE MODE"),
    CC_STMT("cc_tickets_ref_cdr", "SELECT 1 FROM cdr c WHERE c.tenant_ref = %s AND c.id = %s"),
    CC_STMT("cc_tickets_ref_voicemail",
            "SELECT 1 FROM voicemails v WHERE v.tenant_id = %s AND v.id = %s"),
    CC_TAG_LINK_STMTS("cc_tickets", "ticket_tags", "ticket_id"),
    /* messages */
    CC_STMT("cc_tickets_messages_asc", MESSAGES_PAGE("m.id ASC")),
    CC_STMT("cc_tickets_messages_desc", MESSAGES_PAGE("m.id DESC")),
    CC_STMT("cc_tickets_messages_count", "SELECT COUNT(*) FROM ticket_messages m"
                                         " WHERE m.tenant_id = %s AND m.ticket_id = %s"),
    CC_STMT("cc_tickets_message_insert",
            "INSERT INTO ticket_messages (tenant_id, ticket_id, author_type, author_id, body,"
            " internal) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id"),
    CC_STMT("cc_tickets_message_get", "SELECT " MESSAGE_COLUMNS " FROM ticket_messages m"
                                      " WHERE m.tenant_id = %s AND m.id = %s"),
    CC_STMT("cc_tickets_message_of",
            "SELECT " MESSAGE_COLUMNS " FROM ticket_messages m WHERE m.tenant_id = %s"
            " AND m.ticket_id = %s AND m.id = %s"),
    /* The first public message of an agent answers the ticket. */
    CC_STMT("cc_tickets_responded",
            "UPDATE tickets SET first_responded_at = COALESCE(first_responded_at,"
            " UTC_TIMESTAMP()), updated_at = UTC_TIMESTAMP() WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_tickets_ref_ticket",
            "SELECT 1 FROM tickets t WHERE t.tenant_id = %s AND t.id = %s"),
    CC_STMT("cc_tickets_state", "SELECT status, contact_id FROM tickets"
                                " WHERE tenant_id = %s AND id = %s FOR UPDATE"),
    CC_STMT_END
};

static const cc_col_t ticket_cols[] = {
    { "id", CC_COL_INT },
    { "number", CC_COL_INT },
    { "subject", CC_COL_STR },
    { "status", CC_COL_STR },
    { "priority", CC_COL_STR },
    { "channel", CC_COL_STR },
    { "contact_id", CC_COL_INT },
    { "assignee_id", CC_COL_INT },
    { "sla_id", CC_COL_INT },
    { "tags", CC_COL_LIST },
    { "first_response_due_at", CC_COL_TIME },
    { "resolution_due_at", CC_COL_TIME },
    { "first_responded_at", CC_COL_TIME },
    { "resolved_at", CC_COL_TIME },
    { "sla_breached", CC_COL_BOOL },
    { "source", CC_COL_JSON },
    { "created_at", CC_COL_TIME },
    { "updated_at", CC_COL_TIME },
    CC_COL_END
};

static const cc_col_t message_cols[] = {
    { "id", CC_COL_INT },
    { "ticket_id", CC_COL_INT },
    { "author_type", CC_COL_STR },
    { "author_id", CC_COL_INT },
    { "body", CC_COL_STR },
    { "internal", CC_COL_BOOL },
    { "created_at", CC_COL_TIME },
    CC_COL_END
};

static const cc_filter_t ticket_filters[] = {
    { "status", CC_FILTER_ENUM, 2, ticket_statuses, 0, NULL, NULL },
    { "priority", CC_FILTER_ENUM, 2, ticket_priorities, 0, NULL, NULL },
    { "assignee_id", CC_FILTER_ID, 2, NULL, 0, NULL, NULL },
    { "contact_id", CC_FILTER_ID, 2, NULL, 0, NULL, NULL },
    { "tag", CC_FILTER_TEXT, 2, NULL, CC_TAG_NAME_MAX, NULL, NULL },
    { "sla_breached", CC_FILTER_ENUM, 2, ticket_bools, 0, NULL, NULL },
    CC_FILTER_END
};

/* The list with q: q's prefix first, then the same filters (TICKETS_Q_FROM). */
static const cc_filter_t ticket_q_filters[] = {
    { "q", CC_FILTER_PHRASE, 1, NULL, TICKET_Q_MAX, NULL, NULL },
    { "status", CC_FILTER_ENUM, 2, ticket_statuses, 0, NULL, NULL },
    { "priority", CC_FILTER_ENUM, 2, ticket_priorities, 0, NULL, NULL },
    { "assignee_id", CC_FILTER_ID, 2, NULL, 0, NULL, NULL },
    { "contact_id", CC_FILTER_ID, 2, NULL, 0, NULL, NULL },
    { "tag", CC_FILTER_TEXT, 2, NULL, CC_TAG_NAME_MAX, NULL, NULL },
    { "sla_breached", CC_FILTER_ENUM, 2, ticket_bools, 0, NULL, NULL },
    CC_FILTER_END
};

/* A list's total: from ticket_counts when no filter but status and priority is given (the
 * filter arguments: tenant, then status, priority, assignee_id, contact_id, tag and
 * sla_breached, each twice), else counted.  (An agent's view, assignee_id and status
 * alone, is a counted shape: ticket_shapes.) */
static cc_error_t *tickets_total(cc_ctx_t *ctx, const char *const *filter, int nfilter,
                                 apr_int64_t *ptotal)
{
    const char **row;
    int i, counted = nfilter == 13;
    cc_error_t *err;

    for (i = 5; counted && i < nfilter; i++) {
        counted = filter[i] == NULL;
    }
    err = cc_db_select_row(ctx->db, counted ? "cc_tickets_counted" : "cc_tickets_search_count",
                           counted ? 5 : nfilter, (const char **)filter, &row, NULL);
    if (!err) {
        *ptotal = row && row[0] ? apr_atoi64(row[0]) : 0;
    }
    return err;
}

static const char *const shape_status_priority[] = { "status", "priority", NULL };
static const char *const shape_assignee_status[] = { "assignee_id", "status", NULL };

static const cc_list_shape_t ticket_shapes[] = {
    { "status_priority", shape_status_priority, "created_at", 0 },   /* ticket_counts */
    { "assignee_status", shape_assignee_status, "created_at", 1 },
    { NULL, NULL, NULL, 0 }
};

static const cc_list_t tickets_list_spec = { "cc_tickets", ticket_sorts, "-created_at",
                                             ticket_cols, ticket_filters,
                                             CC_LIST_SEARCH_ONLY, tickets_total,
                                             ticket_shapes };

/* A search's total: its matches that pass the other filters, counted. */
static cc_error_t *tickets_q_total(cc_ctx_t *ctx, const char *const *filter, int nfilter,
                                   apr_int64_t *ptotal)
{
    const char **row;
    cc_error_t *err = cc_db_select_row(ctx->db, "cc_tickets_q_search_count", nfilter,
                                       (const char **)filter, &row, NULL);

    if (!err) {
        *ptotal = row && row[0] ? apr_atoi64(row[0]) : 0;
    }
    return err;
}

static const char *const shape_q[] = { "q", NULL };

static const cc_list_shape_t ticket_q_shapes[] = {
    { "q", shape_q, "created_at", 1 },
    { NULL, NULL, NULL, 0 }
};

static const cc_list_t tickets_q_list_spec = { "cc_tickets_q", ticket_sorts, "-created_at",
                                               ticket_cols, ticket_q_filters,
                                               CC_LIST_SEARCH_ONLY, tickets_q_total,
                                               ticket_q_shapes };

/* GET /tickets: with a q that searches (or is not valid, for its 400), the list that
 * starts from the subjects' terms; else the plain one. */
static cc_error_t *tickets_list(cc_ctx_t *ctx)
{
    int searched = cc_list_filter_applies(ctx->pool, &ticket_q_filters[0], ctx->args);

    return cc_reply_list(ctx, searched ? &tickets_q_list_spec : &tickets_list_spec);
}

/* Rewrite the ticket's search terms from its subject (fresh: a new ticket). */
static cc_error_t *write_terms(cc_ctx_t *ctx, const char *id, const char *subject, int fresh)
{
    apr_array_header_t *terms = apr_array_make(ctx->pool, 8, sizeof(const char *));

    cc_search_terms_add(ctx->pool, terms, subject, CC_SEARCH_PHRASE);
    return cc_terms_replace(ctx, "cc_tickets", id, terms, fresh);
}

cc_error_t *cc_tickets_render(cc_db_t *db, const char *tenant, const char *id,
                              json_t **pticket)
{
    const char *args[2] = { tenant, id };
    cc_error_t *err = cc_db_select_one(db, "cc_tickets_get", ticket_cols, 2, args, pticket);

    return err ? err : (*pticket ? NULL : cc_error_not_found(db->pool));
}

/* ---- values ---- */

static const cc_field_t ticket_fields[] = {
    { "subject", CC_JT_STRING, 1 },
    { "status", CC_JT_STRING, 0 },
    { "priority", CC_JT_STRING, 0 },
    { "channel", CC_JT_STRING, 0 },
    { "contact_id", CC_JT_INT_NULL, 0 },
    { "assignee_id", CC_JT_INT_NULL, 0 },
    { "tags", CC_JT_STRING_ARRAY, 0 },
    { "cdr_id", CC_JT_INT, 0 },
    { "voicemail_id", CC_JT_INT, 0 },
    { NULL, 0, 0 }
};

/* A ticket's values, in cc_tickets_lock's column order; TV_N first are the client's. */
enum {
    TV_SUBJECT, TV_STATUS, TV_PRIORITY, TV_CHANNEL, TV_CONTACT, TV_ASSIGNEE, TV_N,
    TV_SLA = TV_N, TV_CREATED, TV_PAUSED_AT, TV_PAUSED_SECS, TV_RESOLVED, TV_FIRST_DUE,
    TV_RES_DUE, TV_RES_DUE_EPOCH, TV_ALL
};
static const char *const ticket_keys[TV_ALL] = {
    "subject", "status", "priority", "channel", "contact_id", "assignee_id", "sla_id",
    NULL, NULL, NULL, "resolved_at", "first_response_due_at", "resolution_due_at", NULL
};

static cc_error_t *enum_value(apr_pool_t *p, cc_error_t *err, const json_t *body,
                              const char *key, const char *const *values, const char **pv)
{
    const char *s = cc_json_str(body, key);

    if (!s) {
        return err;
    }
    *pv = s;
    if (!cc_valid_enum(s, values)) {
        err = cc_error_collect(p, err, key, cc_enum_issue(p, values));
    }
    return err;
}

static cc_error_t *id_value(apr_pool_t *p, cc_error_t *err, const json_t *body,
                            const char *key, const char **pv)
{
    const json_t *j = json_object_get(body, key);

    if (!j) {
        return err;
    }
    if (json_is_null(j)) {
        *pv = NULL;
        return err;
    }
    if (json_integer_value(j) < 1) {
        return cc_error_collect(p, err, key, "must be a positive integer");
    }
    *pv = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)json_integer_value(j));
    return err;
}

static cc_error_t *ticket_values(apr_pool_t *p, const json_t *body, const char **v)
{
    const char *s;
    cc_error_t *err = NULL;

    if ((s = cc_json_str(body, "subject"))) {
        if (!cc_valid_text(s, 1, TICKET_SUBJECT_MAX)) {
            err = cc_error_collect(p, err, "subject", "must be 1 to 255 characters");
        }
        v[TV_SUBJECT] = s;
    }
    err = enum_value(p, err, body, "status", ticket_statuses, &v[TV_STATUS]);
    err = enum_value(p, err, body, "priority", ticket_priorities, &v[TV_PRIORITY]);
    err = enum_value(p, err, body, "channel", ticket_channels, &v[TV_CHANNEL]);
    err = id_value(p, err, body, "contact_id", &v[TV_CONTACT]);
    err = id_value(p, err, body, "assignee_id", &v[TV_ASSIGNEE]);
    return err;
}

/* label binds (tenant, id) and returns a row when id is the tenant's: else 400 on key. */
static cc_error_t *check_ref(cc_ctx_t *ctx, const char *label, const char *key,
                             const char *id, const char *issue)
{
    const char *args[2] = { ctx->principal->tenant_id, id }, **row;
    cc_error_t *err;

    if (!id) {
        return NULL;
    }
    if ((err = cc_db_select_row(ctx->db, label, 2, args, &row, NULL))) {
        return err;
    }
    return row ? NULL : cc_error_field(ctx->pool, key, issue);
}

/* What needs tickets.manage: giving the ticket to someone else, closing it. */
static cc_error_t *check_manage(cc_ctx_t *ctx, const char *const *old, const char *const *v)
{
    if (cc_principal_can(ctx->principal, "tickets.manage")) {
        return NULL;
    }
    if (v[TV_ASSIGNEE] && !cc_str_same(old[TV_ASSIGNEE], v[TV_ASSIGNEE])
        && strcmp(v[TV_ASSIGNEE], ctx->principal->user_id_str)) {
        return cc_error_make(ctx->pool, HTTP_FORBIDDEN, CC_ERR_FORBIDDEN,
                             "assigning a ticket to someone else needs tickets.manage");
    }
    if (!strcmp(v[TV_STATUS], "closed") && !cc_str_same(old[TV_STATUS], "closed")) {
        return cc_error_make(ctx->pool, HTTP_FORBIDDEN, CC_ERR_FORBIDDEN,
                             "closing a ticket needs tickets.manage");
    }
    return NULL;
}

static cc_error_t *check_refs(cc_ctx_t *ctx, const char *const *old, const char *const *v)
{
    cc_error_t *err;

    if (!cc_str_same(old[TV_CONTACT], v[TV_CONTACT])
        && (err = check_ref(ctx, "cc_tickets_ref_contact", "contact_id", v[TV_CONTACT],
                            "no such contact in this tenant"))) {
        return err;
    }
    if (!cc_str_same(old[TV_ASSIGNEE], v[TV_ASSIGNEE])
        && (err = check_ref(ctx, "cc_tickets_ref_assignee", "assignee_id", v[TV_ASSIGNEE],
                            "no such active user in this tenant"))) {
        return err;
    }
    return NULL;
}

static int is_paused(const char *status)
{
    return !strcmp(status, "pending") || !strcmp(status, "on_hold");
}

/* The due times of v under pol (NULL: none) from created (epoch), paused_secs added to the
 * resolution clock. */
static void set_due(apr_pool_t *p, const cc_sla_policy_t *pol, apr_int64_t created,
                    apr_int64_t paused_secs, const char **v)
{
    v[TV_SLA] = pol ? pol->id : NULL;
    v[TV_FIRST_DUE] = pol ? cc_sla_due(p, pol, created, pol->first_secs) : NULL;
    v[TV_RES_DUE] = pol ? cc_sla_due(p, pol, created, pol->resolution_secs + paused_secs)
                        : NULL;
}

/* The status change from old to v at now (epoch): resolved_at, the pause. */
static cc_error_t *apply_status(cc_ctx_t *ctx, const char *const *old, const char **v,
                                apr_int64_t now)
{
    const char *was = old[TV_STATUS] ? old[TV_STATUS] : "", *to = v[TV_STATUS];
    const char *nows = cc_epoch_to_sql(ctx->pool, now);

    if (!strcmp(to, "solved") && strcmp(was, "solved")) {
        v[TV_RESOLVED] = nows;
    }
    else if (!strcmp(to, "closed")) {
        v[TV_RESOLVED] = v[TV_RESOLVED] ? v[TV_RESOLVED] : nows;
    }
    else if (strcmp(to, "solved")) {
        v[TV_RESOLVED] = NULL;
    }
    if (is_paused(to) && !is_paused(was)) {
        v[TV_PAUSED_AT] = apr_psprintf(ctx->pool, "%" APR_INT64_T_FMT, now);
    }
    else if (!is_paused(to) && is_paused(was) && old[TV_PAUSED_AT]) {
        cc_sla_policy_t *pol;
        cc_error_t *err;
        apr_int64_t secs;

        /* The business time spent paused, on the policy's calendar (24/7 without one):
         * the resolution due time moves by it, and it counts if the priority changes. */
        if ((err = cc_sla_load(ctx, NULL, old[TV_SLA], &pol))) {
            return err;
        }
        secs = cc_sla_paused(ctx->pool, pol, apr_atoi64(old[TV_PAUSED_AT]), now);
        v[TV_PAUSED_SECS] = apr_psprintf(ctx->pool, "%" APR_INT64_T_FMT,
                                         apr_atoi64(old[TV_PAUSED_SECS]) + secs);
        v[TV_PAUSED_AT] = NULL;
        if (old[TV_RES_DUE_EPOCH] && secs > 0) {
            const char *due = cc_sla_due(ctx->pool, pol, apr_atoi64(old[TV_RES_DUE_EPOCH]),
                                         secs);

            if (due) {   /* out of reach: the due time stays rather than going */
                v[TV_RES_DUE] = due;
            }
        }
    }
    return NULL;
}

static json_t *ticket_diff(apr_pool_t *p, const char *const *old, const char *const *v)
{
    json_t *changes = cc_json_object(p);
    int i;

    for (i = 0; i < TV_ALL; i++) {
        if (!ticket_keys[i] || cc_str_same(old[i], v[i])) {
            continue;
        }
        if (i == TV_CONTACT || i == TV_ASSIGNEE || i == TV_SLA) {
            cc_audit_change(changes, ticket_keys[i], cc_json_int_or_null(old[i]),
                            cc_json_int_or_null(v[i]));
        }
        else if (i >= TV_RESOLVED) {   /* times: as the object shows them */
            cc_audit_change(changes, ticket_keys[i],
                            cc_json_str_or_null(old[i] ? cc_sql_time_to_rfc3339(p, old[i])
                                                       : NULL),
                            cc_json_str_or_null(v[i] ? cc_sql_time_to_rfc3339(p, v[i])
                                                     : NULL));
        }
        else {
            cc_audit_change(changes, ticket_keys[i], cc_json_str_or_null(old[i]),
                            cc_json_str_or_null(v[i]));
        }
    }
    return changes;
}

/* ---- tickets ---- */

static cc_error_t *tickets_create(cc_ctx_t *ctx)
{
    static const char *const blank[TV_ALL] = { NULL };
    const char *v[TV_ALL] = { NULL, "new", "normal", "web", NULL, NULL };
    const char *tags = NULL, *cdr = NULL, *vm = NULL, *args[17], **row, *id, *number;
    const char *tenant = ctx->principal->tenant_id;
    apr_int64_t now = apr_time_sec(apr_time_now());
    cc_sla_policy_t *pol;
    json_t *body, *ticket, *changes;
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, ticket_fields, &body))) {
        return err;
    }
    err = ticket_values(ctx->pool, body, v);
    err = id_value(ctx->pool, err, body, "cdr_id", &cdr);
    err = id_value(ctx->pool, err, body, "voicemail_id", &vm);
    if (!err && cdr && vm) {
        err = cc_error_field(ctx->pool, "voicemail_id", "a ticket has one source: give"
                             " cdr_id or voicemail_id, not both");
    }
    if (err || (err = check_manage(ctx, blank, v))) {
        return err;
    }
    if ((err = cc_db_begin(ctx->db))
        || (err = check_refs(ctx, blank, v))
        || (err = check_ref(ctx, "cc_tickets_ref_cdr", "cdr_id", cdr,
                            "no such call record in this tenant"))
        || (err = check_ref(ctx, "cc_tickets_ref_voicemail", "voicemail_id", vm,
                            "no such voicemail in this tenant"))
        || (json_object_get(body, "tags")
            && (err = cc_tags_check(ctx, json_object_get(body, "tags"), &tags)))
        || (err = cc_sla_load(ctx, v[TV_PRIORITY], NULL, &pol))
        || (err = apply_status(ctx, blank, v, now))) {
        return err;
    }
    set_due(ctx->pool, pol, now, 0, v);
    /* Last: the counter row stays locked until the commit. */
    {
        const char *nargs[1] = { tenant };

        if ((err = cc_db_exec(ctx->db, "cc_tickets_number_next", 1, nargs, NULL))
            || (err = cc_db_select_row(ctx->db, "cc_tickets_number_read", 1, nargs, &row,
                                       NULL))) {
            return err;
        }
        if (!row) {
            return cc_error_internal(ctx->pool);
        }
        number = row[0];
    }
    args[0] = tenant;
    args[1] = number;
    args[2] = v[TV_SUBJECT];
    args[3] = v[TV_STATUS];
    args[4] = v[TV_PRIORITY];
    args[5] = v[TV_CHANNEL];
    args[6] = v[TV_CONTACT];
    args[7] = v[TV_ASSIGNEE];
    args[8] = v[TV_SLA];
    args[9] = v[TV_FIRST_DUE];
    args[10] = v[TV_RES_DUE];
    args[11] = v[TV_RESOLVED];
    args[12] = v[TV_PAUSED_AT] ? cc_epoch_to_sql(ctx->pool, now) : NULL;
    args[13] = cdr;
    args[14] = vm;
    args[15] = cc_epoch_to_sql(ctx->pool, now);
    args[16] = args[15];
    if ((err = cc_db_select_row(ctx->db, "cc_tickets_insert", 17, args, &row, NULL))) {
        return err;
    }
    if (!row) {
        return cc_error_internal(ctx->pool);
    }
    id = row[0];
    if ((err = write_terms(ctx, id, v[TV_SUBJECT], 1))
        || (tags && (err = cc_tags_replace(ctx, "cc_tickets", id, tags, 1)))
        || (err = cc_fetch(ctx, "cc_tickets_get", ticket_cols, id, &ticket))) {
        return err;
    }
    changes = ticket_diff(ctx->pool, blank, v);
    cc_audit_change(changes, "number", json_null(), cc_json_int_or_null(number));
    if (json_array_size(json_object_get(ticket, "tags"))) {
        cc_audit_change(changes, "tags", json_null(),
                        json_deep_copy(json_object_get(ticket, "tags")));
    }
    if (cdr || vm) {
        cc_audit_change(changes, "source", json_null(),
                        json_deep_copy(json_object_get(ticket, "source")));
    }
    return cc_ctx_commit(ctx, "ticket", "create", id, changes, ticket, HTTP_CREATED,
                         apr_pstrcat(ctx->pool, "/api/v1/tickets/", id, NULL));
}

/* The locked ticket: old and v (a copy to merge into) in cc_tickets_lock's order. */
static cc_error_t *lock_ticket(cc_ctx_t *ctx, const char *id, const char **old,
                               const char **v)
{
    const char **row;
    cc_error_t *err = cc_fetch_row(ctx, "cc_tickets_lock", id, &row);
    int i;

    if (err) {
        return err;
    }
    for (i = 0; i < TV_ALL; i++) {
        old[i] = v[i] = row[i];
    }
    return NULL;
}

static cc_error_t *closed_conflict(cc_ctx_t *ctx)
{
    return cc_error_make(ctx->pool, HTTP_CONFLICT, CC_ERR_CONFLICT,
                         "the ticket is closed: it cannot change any more");
}

static cc_error_t *tickets_update(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), *old[TV_ALL], *v[TV_ALL], *tags = NULL;
    const char *tenant = ctx->principal->tenant_id;
    apr_int64_t now = apr_time_sec(apr_time_now());
    json_t *body, *changes, *before, *ticket, *now_tags;
    cc_error_t *err;

    if ((err = cc_read_json_patch(ctx, ticket_fields, &body))) {
        return err;
    }
    /* The source is a create's only. */
    if (cc_json_has(body, "cdr_id") || cc_json_has(body, "voicemail_id")) {
        return cc_error_field(ctx->pool, cc_json_has(body, "cdr_id") ? "cdr_id"
                                                                      : "voicemail_id",
                              "is set when the ticket is created and cannot change");
    }
    if ((err = cc_db_begin(ctx->db))
        || (err = lock_ticket(ctx, id, old, v))) {
        return err;
    }
    if (!strcmp(old[TV_STATUS], "closed")) {
        return closed_conflict(ctx);
    }
    if ((err = ticket_values(ctx->pool, body, v))
        || (err = check_manage(ctx, old, v))
        || (err = check_refs(ctx, old, v))
        || (json_object_get(body, "tags")
            && (err = cc_tags_check(ctx, json_object_get(body, "tags"), &tags)))
        || (err = apply_status(ctx, old, v, now))) {
        return err;
    }
    /* A new priority: its policy, and both due times from created_at again (the time
     * spent paused so far added to the resolution clock). */
    if (strcmp(old[TV_PRIORITY], v[TV_PRIORITY])) {
        cc_sla_policy_t *pol;

        if ((err = cc_sla_load(ctx, v[TV_PRIORITY], NULL, &pol))) {
            return err;
        }
        set_due(ctx->pool, pol, apr_atoi64(old[TV_CREATED]), apr_atoi64(v[TV_PAUSED_SECS]),
                v);
    }
    if ((err = cc_fetch(ctx, "cc_tickets_get", ticket_cols, id, &before))) {
        return err;
    }
    changes = ticket_diff(ctx->pool, old, v);
    if (json_object_size(changes) || !cc_str_same(old[TV_PAUSED_AT], v[TV_PAUSED_AT])) {
        const char *args[14] = { v[TV_SUBJECT], v[TV_STATUS], v[TV_PRIORITY], v[TV_CHANNEL],
                                 v[TV_CONTACT], v[TV_ASSIGNEE], v[TV_SLA], v[TV_FIRST_DUE],
                                 v[TV_RES_DUE], v[TV_RESOLVED],
                                 v[TV_PAUSED_AT] ? cc_epoch_to_sql(ctx->pool,
                                                                   apr_atoi64(v[TV_PAUSED_AT]))
                                                 : NULL,
                                 v[TV_PAUSED_SECS], tenant, id };

        if ((err = cc_db_exec(ctx->db, "cc_tickets_update", 14, args, NULL))
            || (strcmp(old[TV_SUBJECT], v[TV_SUBJECT])
                && (err = write_terms(ctx, id, v[TV_SUBJECT], 0)))) {
            return err;
        }
    }
    if (tags) {
        const char *args[2] = { tenant, id };

        if ((err = cc_tags_replace(ctx, "cc_tickets", id, tags, 0))
            || (err = cc_db_exec(ctx->db, "cc_tickets_touch", 2, args, NULL))) {
            return err;
        }
    }
    if ((err = cc_fetch(ctx, "cc_tickets_get", ticket_cols, id, &ticket))) {
        return err;
    }
    now_tags = json_object_get(ticket, "tags");
    if (!json_equal(json_object_get(before, "tags"), now_tags)) {
        cc_audit_change(changes, "tags", json_deep_copy(json_object_get(before, "tags")),
                        json_deep_copy(now_tags));
    }
    if (json_object_size(changes) == 0) {
        return cc_reply_unchanged(ctx, cc_handle_get);
    }
    return cc_ctx_commit(ctx, "ticket", "update", id, changes, ticket, HTTP_OK, NULL);
}

static const char *const ticket_audit_drop[] = { "id", "created_at", "updated_at", NULL };

static cc_error_t *tickets_delete(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), *old[TV_ALL], *v[TV_ALL];
    const char *args[2] = { ctx->principal->tenant_id, id };
    json_t *ticket;
    cc_error_t *err;

    if ((err = cc_db_begin(ctx->db))
        || (err = lock_ticket(ctx, id, old, v))
        || (err = cc_fetch(ctx, "cc_tickets_get", ticket_cols, id, &ticket))
        || (err = cc_attachments_remove_all(ctx, id))
        || (err = cc_db_exec(ctx->db, "cc_tickets_delete", 2, args, NULL))) {
        return err;
    }
    return cc_ctx_commit_delete(ctx, "ticket", id, ticket, ticket_audit_drop);
}

cc_error_t *cc_tickets_lock_open(cc_ctx_t *ctx, const char *id, const char **pcontact)
{
    const char *args[2] = { ctx->principal->tenant_id, id }, **row;
    cc_error_t *err;

    if ((err = cc_db_select_row(ctx->db, "cc_tickets_state", 2, args, &row, NULL))) {
        return err;
    }
    if (!row) {
        return cc_error_not_found(ctx->pool);
    }
    if (!strcmp(row[0], "closed")) {
        return closed_conflict(ctx);
    }
    if (pcontact) {
        *pcontact = row[1];
    }
    return NULL;
}

/* ---- messages ---- */

static const char *const message_sorts[] = { "created_at", NULL };

static cc_error_t *messages_list(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), *t = ctx->principal->tenant_id;
    const char *args[6], **row;
    cc_page_t pg;
    cc_error_t *err;

    if ((err = cc_page_parse(ctx->pool, ctx->args, message_sorts, "created_at", &pg))) {
        return err;
    }
    args[0] = t;
    args[1] = id;
    if ((err = cc_db_select_row(ctx->db, "cc_tickets_ref_ticket", 2, args, &row, NULL))) {
        return err;
    }
    if (!row) {
        return cc_error_not_found(ctx->pool);
    }
    args[2] = t;
    args[3] = id;
    args[4] = cc_page_limit_str(ctx->pool, &pg);
    args[5] = cc_page_offset_str(ctx->pool, &pg);
    return cc_reply_page(ctx, pg.desc ? "cc_tickets_messages_desc" : "cc_tickets_messages_asc",
                         "cc_tickets_messages_count", message_cols, 6, args, 2, &pg);
}

static const cc_field_t message_fields[] = {
    { "body", CC_JT_STRING, 1 },
    { "internal", CC_JT_BOOL, 0 },
    { "author_type", CC_JT_STRING, 0 },
    { NULL, 0, 0 }
};

static cc_error_t *messages_create(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), *t = ctx->principal->tenant_id;
    const char *body_text, *author = "user", *contact = NULL, *args[6], **row, *mid;
    int internal;
    json_t *body, *msg, *changes;
    cc_error_t *err = NULL;

    if ((err = cc_read_json_fields(ctx, message_fields, &body))) {
        return err;
    }
    body_text = cc_json_str(body, "body");
    internal = cc_json_bool(body, "internal", 0);
    if (!cc_valid_text(body_text, 1, MESSAGE_BODY_MAX)) {
        err = cc_error_collect(ctx->pool, err, "body", "must be 1 to 20000 characters");
    }
    err = enum_value(ctx->pool, err, body, "author_type", author_types, &author);
    if (err || (err = cc_db_begin(ctx->db))
        || (err = cc_tickets_lock_open(ctx, id, &contact))) {
        return err;
    }
    if (!strcmp(author, "contact") && !contact) {
        return cc_error_make(ctx->pool, HTTP_CONFLICT, CC_ERR_CONFLICT,
                             "the ticket has no contact to write as");
    }
    args[0] = t;
    args[1] = id;
    args[2] = author;
    args[3] = !strcmp(author, "contact") ? contact : ctx->principal->user_id_str;
    args[4] = body_text;
    args[5] = internal ? "1" : "0";
    if ((err = cc_db_select_row(ctx->db, "cc_tickets_message_insert", 6, args, &row, NULL))) {
        return err;
    }
    if (!row) {
        return cc_error_internal(ctx->pool);
    }
    mid = row[0];
    {
        const char *uargs[2] = { t, id };

        if ((err = cc_db_exec(ctx->db, !internal && !strcmp(author, "user")
                                           ? "cc_tickets_responded" : "cc_tickets_touch",
                              2, uargs, NULL))
            || (err = cc_db_select_one(ctx->db, "cc_tickets_message_get", message_cols, 2,
                                       (const char *[]){ t, mid }, &msg))) {
            return err;
        }
    }
    if (!msg) {
        return cc_error_internal(ctx->pool);
    }
    changes = cc_json_object(ctx->pool);
    cc_audit_change(changes, "message_id", json_null(), cc_json_int_or_null(mid));
    cc_audit_change(changes, "internal", json_null(), json_boolean(internal));
    return cc_ctx_commit(ctx, "ticket", "message_create", id, changes, msg, HTTP_CREATED,
                         apr_pstrcat(ctx->pool, "/api/v1/tickets/", id, "/messages/", mid,
                                     NULL));
}

/* GET /tickets/{id}/messages/{message_id}: a message of the ticket, or 404. */
static cc_error_t *messages_get(cc_ctx_t *ctx)
{
    const char *args[3] = { ctx->principal->tenant_id, cc_path(ctx, "id"),
                            cc_path(ctx, "message_id") };
    json_t *msg;
    cc_error_t *err = cc_db_select_one(ctx->db, "cc_tickets_message_of", message_cols, 3,
                                       args, &msg);

    if (err) {
        return err;
    }
    return msg ? cc_reply_json(ctx, HTTP_OK, msg) : cc_error_not_found(ctx->pool);
}

static const cc_route_t tickets_routes[] = {
    { "GET", "/api/v1/tickets", tickets_list, "tickets.read", CC_ROUTE_AUTH },
    { "POST", "/api/v1/tickets", tickets_create, "tickets.write", CC_ROUTE_AUTH },
    { "GET", "/api/v1/tickets/{id:int}", cc_handle_get, "tickets.read", CC_ROUTE_AUTH },
    { "PATCH", "/api/v1/tickets/{id:int}", tickets_update, "tickets.write", CC_ROUTE_AUTH },
    { "DELETE", "/api/v1/tickets/{id:int}", tickets_delete, "tickets.manage", CC_ROUTE_AUTH },
    { "GET", "/api/v1/tickets/{id:int}/messages", messages_list, "tickets.read",
      CC_ROUTE_AUTH },
    { "POST", "/api/v1/tickets/{id:int}/messages", messages_create, "tickets.write",
      CC_ROUTE_AUTH },
    { "GET", "/api/v1/tickets/{id:int}/messages/{message_id:int}", messages_get,
      "tickets.read", CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_tickets_domain = { "tickets", tickets_routes, tickets_stmts,
                                        &tickets_list_spec, "cc_tickets_get", ticket_cols };
