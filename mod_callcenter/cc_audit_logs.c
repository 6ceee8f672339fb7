/*
 * cc_audit_logs.c: /api/v1/audit-logs — read-only access to the tenant's audit trail.
 * Entries are written by every mutation (shared/cc_audit.c); the API has no way to change
 * or delete them, so PATCH/DELETE on an entry are 405 for everyone (on a path whose id is
 * not an id, 404: it names nothing).
 */
#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "cc_api_private.h"
#include "cc_page.h"
#include "cc_validate.h"

static const char *const audit_sorts[] = { "created_at", NULL };

#define AUDIT_COLS "a.id, a.actor_id, a.actor_email, a.action, a.entity_type," \
    " a.entity_id, a.changes, a.ip, a.user_agent, a.request_id, a.created_at"

/* Binds 13 values: tenant, then each optional filter twice (actor, action, entity type,
 * entity id, from, to). */
#define AUDIT_FILTER                                                     \
    " a.tenant_id = %s"                                                  \
    " AND (%s IS NULL OR a.actor_id = %s)"                               \
    " AND (%s IS NULL OR a.action = %s)"                                 \
    " AND (%s IS NULL OR a.entity_type = %s)"                            \
    " AND (%s IS NULL OR a.entity_id = %s)"                              \
    " AND (%s IS NULL OR a.created_at >= %s)"                            \
    " AND (%s IS NULL OR a.created_at < %s)"

/* Ids grow with time, so id order is created_at order with a unique tie-break.  The
 * total is an uncorrelated subquery (evaluated once) over the same filter. */
#define AUDIT_LIST(dir)                                                  \
    "SELECT " AUDIT_COLS ", (SELECT COUNT(*) FROM audit_logs a WHERE"    \
    AUDIT_FILTER ") AS total FROM audit_logs a WHERE" AUDIT_FILTER       \
    " ORDER BY a.id " dir " LIMIT %s OFFSET %s"

static const cc_stmt_t audit_stmts[] = {
    CC_SEARCH_SORT("cc_audit", "created_at", AUDIT_LIST, "ASC", "DESC"),
    CC_STMT("cc_audit_search_count", "SELECT COUNT(*) FROM audit_logs a WHERE" AUDIT_FILTER),
    CC_STMT("cc_audit_get",
            "SELECT " AUDIT_COLS " FROM audit_logs a WHERE a.tenant_id = %s AND a.id = %s"),
    CC_STMT_END
};

static const cc_col_t audit_cols[] = {
    { "id", CC_COL_INT },
    { "actor_id", CC_COL_INT },
    { "actor_email", CC_COL_STR },
    { "action", CC_COL_STR },
    { "entity_type", CC_COL_STR },
    { "entity_id", CC_COL_STR },
    { "changes", CC_COL_JSON },
    { "ip", CC_COL_STR },
    { "user_agent", CC_COL_STR },
    { "request_id", CC_COL_STR },
    { "created_at", CC_COL_TIME },
    CC_COL_END
};

/* GET /audit-logs: every filter is bound (absent ones as NULL), twice each, as
 * AUDIT_FILTER reads them. */
static const cc_filter_t audit_filters[] = {
    { "actor_id", CC_FILTER_ID, 2, NULL, 0, NULL, "must be a user id" },
    { "action", CC_FILTER_TEXT, 2, NULL, 64, NULL, NULL },
    { "entity_type", CC_FILTER_TEXT, 2, NULL, 32, NULL, NULL },
    { "entity_id", CC_FILTER_TEXT, 2, NULL, 64, NULL, NULL },
    { "from", CC_FILTER_TIME, 2, NULL, 0, NULL, NULL },
    { "to", CC_FILTER_TIME, 2, NULL, 0, NULL, NULL },
    CC_FILTER_END
};

static const cc_list_t audit_list_spec = { "cc_audit", audit_sorts, "-created_at",
                                           audit_cols, audit_filters, CC_LIST_SEARCH_ONLY, NULL, NULL };

static const cc_route_t audit_routes[] = {
    { "GET", "/api/v1/audit-logs", cc_handle_list, "audit.read", CC_ROUTE_AUTH },
    { "GET", "/api/v1/audit-logs/{id:int}", cc_handle_get, "audit.read", CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_audit_domain = { "audit-logs", audit_routes, audit_stmts,
                                      &audit_list_spec, "cc_audit_get", audit_cols };
