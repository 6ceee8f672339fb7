/**
 * @file cc_hd_private.h
 * @brief What the helpdesk's files (contacts, tags, tickets and their parts, SLA
 *        policies) share inside mod_callcenter.
 */
#ifndef CC_HD_PRIVATE_H
#define CC_HD_PRIVATE_H

#include "cc_api_private.h"
#include "cc_db.h"
#include "cc_helpdesk_rules.h"
#include "cc_sla_rules.h"

/**
 * A tag set a body gives (names: a JSON array of strings, cc_json_check_fields vouched
 * for the type): at most CC_TAGS_MAX well-formed names, each one of the tenant's tags
 * (as the collation compares, share-locked until the commit), else 400 on "tags" naming
 * the first that is not.
 * *pjson: the names as JSON text, for cc_tags_replace.
 */
cc_error_t *cc_tags_check(cc_ctx_t *ctx, const json_t *names, const char **pjson);

/**
 * Replace an object's tags with names (cc_tags_check's text), in the caller's
 * transaction, by the domain's two statements <prefix>_tags_clear (tenant, object id)
 * and <prefix>_tags_add (object id, names, tenant), e.g. "cc_contacts"; fresh: the
 * object is being created (nothing to clear).
 */
cc_error_t *cc_tags_replace(cc_ctx_t *ctx, const char *prefix, const char *object_id,
                            const char *names, int fresh);

/**
 * The link statements of a tagged object type (table contact_tags, column contact_id):
 * CC_TAG_LINK_STMTS("cc_contacts", "contact_tags", "contact_id").  An object's tags
 * render from its tag_names column (kept by triggers from the links, sql/025), a
 * CC_COL_LIST column.
 */
#define CC_TAG_LINK_STMTS(prefix, table, column)                                   \
    CC_STMT(prefix "_tags_clear", "DELETE FROM " table " WHERE tenant_id = %s"     \
                                  " AND " column " = %s"),                         \
    CC_STMT(prefix "_tags_add", "INSERT INTO " table " (tenant_id, " column ", tag_id)" \
            " SELECT DISTINCT t.tenant_id, %s, t.id FROM tags t JOIN JSON_TABLE(%s,"   \
            " '$[*]' COLUMNS (name VARCHAR(200) PATH '$')) j"                          \
            " ON t.name = j.name COLLATE utf8mb4_uca1400_as_ci WHERE t.tenant_id = %s")

/**
 * Replace an object's search terms (an array of const char *, cc_search_terms_add) in the
 * caller's transaction, by the domain's two statements <prefix>_terms_clear (tenant,
 * object id) and <prefix>_terms_add (tenant, object id, the terms as a JSON array);
 * fresh: the object is being created (nothing to clear, as cc_tags_replace).
 */
cc_error_t *cc_terms_replace(cc_ctx_t *ctx, const char *prefix, const char *object_id,
                             const apr_array_header_t *terms, int fresh);

/**
 * The statements of a terms table (contact_terms, column contact_id), for
 * cc_terms_replace: CC_TERMS_STMTS("cc_contacts", "contact_terms", "contact_id").
 */
#define CC_TERMS_STMTS(prefix, table, column)                                      \
    CC_STMT(prefix "_terms_clear", "DELETE FROM " table " WHERE tenant_id = %s"    \
                                   " AND " column " = %s"),                        \
    CC_STMT(prefix "_terms_add", "INSERT INTO " table " (tenant_id, " column ", term)" \
            " SELECT %s, %s, j.term FROM JSON_TABLE(%s, '$[*]' COLUMNS"                \
            " (term VARCHAR(254) PATH '$')) j")

/**
 * The list filter "tag" (a tag name) as SQL binding it twice, for an object alias a:
 * CC_TAG_FILTER("contact_tags", "contact_id", "c").
 */
#define CC_TAG_FILTER(table, column, a)                                            \
    " AND (%s IS NULL OR EXISTS (SELECT 1 FROM " table " lk JOIN tags tg"           \
    " ON tg.id = lk.tag_id WHERE lk." column " = " a ".id AND tg.tenant_id = "      \
    a ".tenant_id AND tg.name = %s))"

/* ---- SLA policies (cc_slas.c) ---- */

/** A ticket's SLA policy, ready for its arithmetic. */
typedef struct cc_sla_policy_t {
    const char *id;
    apr_int64_t first_secs;            /**< first_response_minutes, in seconds */
    apr_int64_t resolution_secs;
    cc_sla_calendar_t *cal;            /**< NULL: 24/7 */
    cc_tzinfo_t *tz;                   /**< cal's zone */
} cc_sla_policy_t;

/** The tenant's policy for priority (or, priority NULL, the policy id); *ppolicy NULL
 * when there is none. */
cc_error_t *cc_sla_load(cc_ctx_t *ctx, const char *priority, const char *id,
                        cc_sla_policy_t **ppolicy);

/** The SQL DATETIME secs of business time after start under pol (NULL: 24/7); NULL when
 * it is out of reach (cc_sla_add). */
const char *cc_sla_due(apr_pool_t *p, const cc_sla_policy_t *pol, apr_int64_t start,
                       apr_int64_t secs);

/** The business time in [from, to) under pol (NULL: 24/7): what a pause adds back; 0
 * when it cannot be counted (beyond the zone's data). */
apr_int64_t cc_sla_paused(apr_pool_t *p, const cc_sla_policy_t *pol, apr_int64_t from,
                          apr_int64_t to);

/* ---- tickets (cc_tickets.c) ---- */

/** The ticket object of (tenant, id) (the breach job's event), *pticket a new object
 * owned by db->pool; 404 when there is none. */
cc_error_t *cc_tickets_render(cc_db_t *db, const char *tenant, const char *id,
                              json_t **pticket);

/**
 * Lock the tenant's ticket id for a change of its parts (a message, an attachment): 404
 * when there is none, 409 when it is closed; *pcontact (may be NULL) its contact.
 */
cc_error_t *cc_tickets_lock_open(cc_ctx_t *ctx, const char *id, const char **pcontact);

/* ---- attachments (cc_ticket_attachments.c) ---- */

/** Delete the ticket's attachment rows, in the caller's transaction, and their files once
 * it commits (a ticket's delete). */
cc_error_t *cc_attachments_remove_all(cc_ctx_t *ctx, const char *ticket_id);

#endif
