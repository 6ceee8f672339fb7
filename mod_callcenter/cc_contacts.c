/*
 * cc_contacts.c: /api/v1/contacts — the people a tenant talks to, their tags, and the
 * screen pop's lookup by phone number.
 *
 * A phone number is stored as E.164, normalised from what the client typed
 * (cc_phone_normalise), so the lookup is one probe of (tenant_id, phone, updated_at, id):
 * its best match is the contact with exactly that number updated most recently, the
 * highest id among equals.
 *
 * q= is answered from contact_terms, the words a contact is found by (shared/cc_search.h),
 * rewritten in the write's transaction whenever name, email, phone or company change: a
 * prefix match on (tenant_id, term) is one index range however many contacts the tenant
 * has, where LIKE '%q%' on the contacts would read them all.
 */
#include <string.h>

#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "cc_api_private.h"
#include "cc_audit.h"
#include "cc_hd_private.h"
#include "cc_helpdesk_rules.h"
#include "cc_search.h"
#include "cc_sql.h"
#include "cc_validate.h"

#define CONTACT_NAME_MAX     200
#define CONTACT_COMPANY_MAX  200
#define CONTACT_NOTES_MAX    10000
#define CONTACT_Q_MAX        200

static const char *const contact_sorts[] = { "name", "created_at", "updated_at", NULL };

/* ---- statements ---- */

#define CONTACT_COLUMNS "c.id, c.name, c.email, c.phone, c.company, c.notes, c.custom_fields," \
    " c.tag_names, c.created_at, c.updated_at"

/* Without q, binds 3 values: tenant, tag x2. */
#define CONTACTS_FILTER " c.tenant_id = %s" CC_TAG_FILTER("contact_tags", "contact_id", "c")

#define CONTACTS_LIST(order)                                                       \
    "SELECT " CONTACT_COLUMNS ", (SELECT COUNT(*) FROM contacts c WHERE" CONTACTS_FILTER \
    ") AS total FROM contacts c WHERE" CONTACTS_FILTER " ORDER BY " order          \
    " LIMIT %s OFFSET %s"

/* With q, binds 4 values: tenant, q, tag x2.  The matching contacts come first from one
 * range of the terms' index (a derived table, joined STRAIGHT so the optimizer cannot turn
 * it into a probe of the terms per contact of the tenant), then are joined to their rows;
 * the page sorts the matches only, by their sort key and id alone: the page's 20 ids are
 * then joined to their whole rows (a deferred join), so the tag names' subquery runs for
 * the page, not for every match before the sort (2.7-3x on a search of 500-6,000
 * matches). */
#define CONTACTS_Q_PAGE(order)                                                     \
    " FROM (SELECT c.id FROM (SELECT DISTINCT ct.tenant_id, ct.contact_id"          \
    " FROM contact_terms ct WHERE ct.tenant_id = %s AND ct.term LIKE %s) m"         \
    " STRAIGHT_JOIN contacts c ON c.id = m.contact_id AND c.tenant_id = m.tenant_id" \
    " WHERE 1 = 1" CC_TAG_FILTER("contact_tags", "contact_id", "c")                \
    " ORDER BY " order " LIMIT %s OFFSET %s) p STRAIGHT_JOIN contacts c ON c.id = p.id"

/* Its total counts the terms' index entries alone (no contact row is read): the same 4
 * values. */
#define CONTACTS_Q_COUNT                                                           \
    "SELECT COUNT(DISTINCT ct.contact_id) FROM contact_terms ct WHERE ct.tenant_id = %s" \
    " AND ct.term LIKE %s AND (%s IS NULL OR EXISTS (SELECT 1 FROM contact_tags lk"    \
    " JOIN tags tg ON tg.id = lk.tag_id WHERE lk.contact_id = ct.contact_id"          \
    " AND tg.tenant_id = ct.tenant_id AND tg.name = %s))"

#define CONTACTS_Q_LIST(order)                                                     \
    "SELECT " CONTACT_COLUMNS ", (" CONTACTS_Q_COUNT ") AS total"                   \
    CONTACTS_Q_PAGE(order) " ORDER BY " order

static const cc_stmt_t contacts_stmts[] = {
    CC_SEARCH_SORT("cc_contacts", "name", CONTACTS_LIST, "c.name ASC, c.id ASC",
                   "c.name DESC, c.id DESC"),
    CC_SEARCH_SORT("cc_contacts", "created_at", CONTACTS_LIST, "c.created_at ASC, c.id ASC",
                   "c.created_at DESC, c.id DESC"),
    CC_SEARCH_SORT("cc_contacts", "updated_at", CONTACTS_LIST, "c.updated_at ASC, c.id ASC",
                   "c.updated_at DESC, c.id DESC"),
    CC_STMT("cc_contacts_search_count", "SELECT COUNT(*) FROM contacts c WHERE"
                                        CONTACTS_FILTER),
    CC_SEARCH_SORT("cc_contacts_q", "name", CONTACTS_Q_LIST, "c.name ASC, c.id ASC",
                   "c.name DESC, c.id DESC"),
    CC_SEARCH_SORT("cc_contacts_q", "created_at", CONTACTS_Q_LIST,
                   "c.created_at ASC, c.id ASC", "c.created_at DESC, c.id DESC"),
    CC_SEARCH_SORT("cc_contacts_q", "updated_at", CONTACTS_Q_LIST,
                   "c.updated_at ASC, c.id ASC", "c.updated_at DESC, c.id DESC"),
    CC_STMT("cc_contacts_q_search_count", CONTACTS_Q_COUNT),
    CC_STMT("cc_contacts_get", "SELECT " CONTACT_COLUMNS " FROM contacts c"
                               " WHERE c.tenant_id = %s AND c.id = %s"),
    /* The screen pop's best match (idx_contacts_phone, read backwards). */
    CC_STMT("cc_contacts_lookup", "SELECT " CONTACT_COLUMNS " FROM contacts c"
                                  " WHERE c.tenant_id = %s AND c.phone = %s"
                                  " ORDER BY c.updated_at DESC, c.id DESC LIMIT 1"),
    CC_STMT("cc_contacts_lock",
            "SELECT name, email, phone, company, notes, custom_fields, c.tag_names"
            " FROM contacts c WHERE c.tenant_id = %s AND c.id = %s FOR UPDATE"),
    CC_STMT("cc_contacts_insert",
            "INSERT INTO contacts (tenant_id, name, email, phone, company, notes, custom_fields)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id"),
    CC_STMT("cc_contacts_update",
            "UPDATE contacts SET name = %s, email = %s, phone = %s, company = %s, notes = %s,"
            " custom_fields = %s, updated_at = UTC_TIMESTAMP()"
            " WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_contacts_touch", "UPDATE contacts SET updated_at = UTC_TIMESTAMP()"
                                 " WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_contacts_delete", "DELETE FROM contacts WHERE tenant_id = %s AND id = %s"),
    /* The search terms (contact_terms): cleared, then written from a JSON array. */
    CC_TERMS_STMTS("cc_contacts", "contact_terms", "contact_id"),
    CC_TAG_LINK_STMTS("cc_contacts", "contact_tags", "contact_id"),
    CC_STMT_END
};

static const cc_col_t contact_cols[] = {
    { "id", CC_COL_INT },
    { "name", CC_COL_STR },
    { "email", CC_COL_STR },
    { "phone", CC_COL_STR },
    { "company", CC_COL_STR },
    { "notes", CC_COL_STR },
    { "custom_fields", CC_COL_JSON },
    { "tags", CC_COL_LIST },
    { "created_at", CC_COL_TIME },
    { "updated_at", CC_COL_TIME },
    CC_COL_END
};

static const cc_filter_t contact_filters[] = {
    { "tag", CC_FILTER_TEXT, 2, NULL, CC_TAG_NAME_MAX, NULL, NULL },
    CC_FILTER_END
};

static const cc_list_t contacts_list_spec = { "cc_contacts", contact_sorts, "name",
                                              contact_cols, contact_filters,
                                              CC_LIST_SEARCH_ONLY, NULL, NULL };

/* The list with q: the same sorts and columns, the terms first (CONTACTS_Q_PAGE). */
static const cc_filter_t contact_q_filters[] = {
    { "q", CC_FILTER_TERM, 1, NULL, CONTACT_Q_MAX, NULL, NULL },
    { "tag", CC_FILTER_TEXT, 2, NULL, CC_TAG_NAME_MAX, NULL, NULL },
    CC_FILTER_END
};

static const cc_list_t contacts_q_list_spec = { "cc_contacts_q", contact_sorts, "name",
                                                contact_cols, contact_q_filters,
                                                CC_LIST_SEARCH_ONLY, NULL, NULL };

/* ---- values ---- */

static const cc_field_t contact_fields[] = {
    { "name", CC_JT_STRING, 1 },
    { "email", CC_JT_STRING_NULL, 0 },
    { "phone", CC_JT_STRING_NULL, 0 },
    { "company", CC_JT_STRING_NULL, 0 },
    { "notes", CC_JT_STRING_NULL, 0 },
    { "custom_fields", CC_JT_OBJECT, 0 },
    { "tags", CC_JT_STRING_ARRAY, 0 },
    { NULL, 0, 0 }
};

/* A contact's stored values, in the order of cc_contacts_lock's columns (the last is the
 * tags, read only). */
enum { CV_NAME, CV_EMAIL, CV_PHONE, CV_COMPANY, CV_NOTES, CV_CUSTOM, CV_N };
static const char *const contact_keys[CV_N] = {
    "name", "email", "phone", "company", "notes", "custom_fields"
};

/* An optional text: absent keeps *pv, null clears it, else 1..max characters. */
static cc_error_t *text_value(apr_pool_t *p, cc_error_t *err, const json_t *body,
                              const char *key, apr_size_t max, const char **pv)
{
    const json_t *j = json_object_get(body, key);

    if (!j) {
        return err;
    }
    if (json_is_null(j)) {
        *pv = NULL;
        return err;
    }
    if (!cc_valid_text(json_string_value(j), 1, max)) {
        return cc_error_collect(p, err, key, apr_psprintf(p, "must be 1 to %d characters",
                                                          (int)max));
    }
    *pv = json_string_value(j);
    return err;
}

/* The body over v (a blank contact for a create, the locked row for a PATCH): every
 * problem collected. */
static cc_error_t *contact_values(apr_pool_t *p, const json_t *body, const char **v)
{
    const json_t *j;
    const char *s;
    cc_error_t *err = NULL;

    err = text_value(p, err, body, "name", CONTACT_NAME_MAX, &v[CV_NAME]);
    if (json_is_null(json_object_get(body, "name"))) {
        err = cc_error_collect(p, err, "name", "must be 1 to 200 characters");
    }
    err = text_value(p, err, body, "company", CONTACT_COMPANY_MAX, &v[CV_COMPANY]);
    err = text_value(p, err, body, "notes", CONTACT_NOTES_MAX, &v[CV_NOTES]);
    if ((s = cc_json_str(body, "email"))) {
        if (!cc_valid_email(s)) {
            err = cc_error_collect(p, err, "email", "must be an email address");
        }
        v[CV_EMAIL] = s;
    }
    else if (cc_json_has(body, "email")) {
        v[CV_EMAIL] = NULL;
    }
    if ((s = cc_json_str(body, "phone"))) {
        if (!(v[CV_PHONE] = cc_phone_normalise(p, s))) {
            err = cc_error_collect(p, err, "phone", "must be a phone number in E.164 form"
                                   " (+ then 8 to 15 digits)");
        }
    }
    else if (cc_json_has(body, "phone")) {
        v[CV_PHONE] = NULL;
    }
    if ((j = json_object_get(body, "custom_fields"))) {
        const char *issue = cc_custom_fields_issue(j);

        if (issue) {
            err = cc_error_collect(p, err, "custom_fields", issue);
        }
        v[CV_CUSTOM] = cc_json_dump_sorted(p, j);
    }
    return err;
}

/* The audit changes from old to v; *pterms: a searched field changed. */
static json_t *contact_diff(apr_pool_t *p, const char *const *old, const char *const *v,
                            int *pterms)
{
    json_t *changes = cc_json_object(p);
    int i;

    *pterms = 0;
    for (i = 0; i < CV_N; i++) {
        if (cc_str_same(old[i], v[i])) {
            continue;
        }
        if (i == CV_CUSTOM) {
            json_error_t je;
            json_t *from = old[i] ? json_loads(old[i], 0, &je) : json_null();
            json_t *to = json_loads(v[i], 0, &je);

            cc_audit_change(changes, contact_keys[i], from ? from : json_null(),
                            to ? to : json_null());
            continue;
        }
        if (i == CV_NAME || i == CV_EMAIL || i == CV_PHONE || i == CV_COMPANY) {
            *pterms = 1;
        }
        cc_audit_change(changes, contact_keys[i], cc_json_str_or_null(old[i]),
                        cc_json_str_or_null(v[i]));
    }
    return changes;
}

/* Rewrite the contact's search terms from v (fresh: a new contact, nothing to clear: see
 * cc_tags_replace). */
static cc_error_t *write_terms(cc_ctx_t *ctx, const char *id, const char *const *v,
                               int fresh)
{
    apr_array_header_t *terms = apr_array_make(ctx->pool, 16, sizeof(const char *));

    cc_search_terms_add(ctx->pool, terms, v[CV_NAME], CC_SEARCH_TEXT);
    cc_search_terms_add(ctx->pool, terms, v[CV_COMPANY], CC_SEARCH_TEXT);
    cc_search_terms_add(ctx->pool, terms, v[CV_EMAIL], CC_SEARCH_EMAIL);
    cc_search_terms_add(ctx->pool, terms, v[CV_PHONE], CC_SEARCH_PHONE);
    return cc_terms_replace(ctx, "cc_contacts", id, terms, fresh);
}

cc_error_t *cc_terms_replace(cc_ctx_t *ctx, const char *prefix, const char *object_id,
                             const apr_array_header_t *terms, int fresh)
{
    const char *args[3] = { ctx->principal->tenant_id, object_id, NULL };
    cc_error_t *err;

    if (!fresh && (err = cc_db_exec(ctx->db, apr_pstrcat(ctx->pool, prefix, "_terms_clear",
                                                         NULL), 2, args, NULL))) {
        return err;
    }
    if (terms->nelts == 0) {
        return NULL;
    }
    args[2] = cc_search_terms_json(ctx->pool, terms);
    return cc_db_exec(ctx->db, apr_pstrcat(ctx->pool, prefix, "_terms_add", NULL), 3, args,
                      NULL);
}

/* The tags a body gives, checked (NULL *pnames: none given). */
static cc_error_t *body_tags(cc_ctx_t *ctx, const json_t *body, const char **pnames)
{
    const json_t *tags = json_object_get(body, "tags");

    *pnames = NULL;
    return tags ? cc_tags_check(ctx, tags, pnames) : NULL;
}

/* The tags of a rendered contact (a new reference to a copy of its "tags" array). */
static json_t *tags_of(const json_t *obj)
{
    const json_t *t = json_object_get(obj, "tags");

    return t ? json_deep_copy(t) : json_array();
}

/* ---- handlers ---- */

static cc_error_t *contacts_create(cc_ctx_t *ctx)
{
    const char *v[CV_N] = { NULL, NULL, NULL, NULL, NULL, "{}" };
    const char *args[7], *id, *tags = NULL, **row;
    json_t *body, *contact, *changes;
    int terms, i;
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, contact_fields, &body))
        || (err = contact_values(ctx->pool, body, v))) {
        return err;
    }
    args[0] = ctx->principal->tenant_id;
    for (i = 0; i < CV_N; i++) {
        args[i + 1] = v[i];
    }
    if ((err = cc_db_begin(ctx->db))
        || (err = body_tags(ctx, body, &tags))
        || (err = cc_db_select_row(ctx->db, "cc_contacts_insert", 7, args, &row, NULL))) {
        return err;
    }
    if (!row) {
        return cc_error_internal(ctx->pool);   /* INSERT ... RETURNING gives its row */
    }
    id = row[0];
    if ((err = write_terms(ctx, id, v, 1))
        || (tags && (err = cc_tags_replace(ctx, "cc_contacts", id, tags, 1)))
        || (err = cc_fetch(ctx, "cc_contacts_get", contact_cols, id, &contact))) {
        return err;
    }
    {
        static const char *const blank[CV_N] = { NULL, NULL, NULL, NULL, NULL, NULL };

        changes = contact_diff(ctx->pool, blank, v, &terms);
    }
    if (json_array_size(json_object_get(contact, "tags"))) {
        cc_audit_change(changes, "tags", json_null(), tags_of(contact));
    }
    return cc_ctx_commit(ctx, "contact", "create", id, changes, contact, HTTP_CREATED,
                         apr_pstrcat(ctx->pool, "/api/v1/contacts/", id, NULL));
}

/* The locked contact: its values (v, a copy to merge into) and its tags; 404 when none. */
static cc_error_t *lock_contact(cc_ctx_t *ctx, const char *id, const char **old,
                                const char **v)
{
    const char **row;
    cc_error_t *err = cc_fetch_row(ctx, "cc_contacts_lock", id, &row);
    int i;

    if (err) {
        return err;
    }
    for (i = 0; i < CV_N; i++) {
        old[i] = v[i] = row[i];
    }
    return NULL;
}

/* Commit a change of the contact (its audit entry and event), answering it. */
static cc_error_t *commit_update(cc_ctx_t *ctx, const char *id, json_t *changes,
                                 const json_t *old_tags)
{
    json_t *contact, *now_tags;
    cc_error_t *err;

    if ((err = cc_fetch(ctx, "cc_contacts_get", contact_cols, id, &contact))) {
        return err;
    }
    now_tags = tags_of(contact);
    if (old_tags && !json_equal(old_tags, now_tags)) {
        cc_audit_change(changes, "tags", json_deep_copy(old_tags), now_tags);
    }
    else {
        json_decref(now_tags);
    }
    if (json_object_size(changes) == 0) {
        return cc_reply_unchanged(ctx, cc_handle_get);
    }
    return cc_ctx_commit(ctx, "contact", "update", id, changes, contact, HTTP_OK, NULL);
}

static cc_error_t *contacts_update(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), *old[CV_N], *v[CV_N], *tags = NULL;
    json_t *body, *changes, *before;
    int terms;
    cc_error_t *err;

    if ((err = cc_read_json_patch(ctx, contact_fields, &body))
        || (err = cc_db_begin(ctx->db))
        || (err = lock_contact(ctx, id, old, v))
        || (err = contact_values(ctx->pool, body, v))
        || (err = body_tags(ctx, body, &tags))
        || (err = cc_fetch(ctx, "cc_contacts_get", contact_cols, id, &before))) {
        return err;
    }
    changes = contact_diff(ctx->pool, old, v, &terms);
    if (json_object_size(changes)) {
        const char *args[8] = { v[CV_NAME], v[CV_EMAIL], v[CV_PHONE], v[CV_COMPANY],
                                v[CV_NOTES], v[CV_CUSTOM], ctx->principal->tenant_id, id };

        if ((err = cc_db_exec(ctx->db, "cc_contacts_update", 8, args, NULL))
            || (terms && (err = write_terms(ctx, id, v, 0)))) {
            return err;
        }
    }
    if (tags && (err = cc_tags_replace(ctx, "cc_contacts", id, tags, 0))) {
        return err;
    }
    if (tags && !json_object_size(changes)) {
        const char *args[2] = { ctx->principal->tenant_id, id };

        /* A change of tags alone is a change of the contact: updated_at moves (and is
         * put back by the rollback when the set turns out the same). */
        if ((err = cc_db_exec(ctx->db, "cc_contacts_touch", 2, args, NULL))) {
            return err;
        }
    }
    return commit_update(ctx, id, changes, json_object_get(before, "tags"));
}

static const cc_field_t contact_tags_fields[] = {
    { "tags", CC_JT_STRING_ARRAY, 1 },
    { NULL, 0, 0 }
};

/* PUT /contacts/{id}/tags: the whole set. */
static cc_error_t *contacts_put_tags(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), *old[CV_N], *v[CV_N], *tags = NULL;
    const char *args[2] = { ctx->principal->tenant_id, id };
    json_t *body, *before;
    cc_error_t *err;

    if ((err = cc_read_json_fields(ctx, contact_tags_fields, &body))
        || (err = cc_db_begin(ctx->db))
        || (err = lock_contact(ctx, id, old, v))
        || (err = body_tags(ctx, body, &tags))
        || (err = cc_fetch(ctx, "cc_contacts_get", contact_cols, id, &before))
        || (err = cc_tags_replace(ctx, "cc_contacts", id, tags, 0))
        || (err = cc_db_exec(ctx->db, "cc_contacts_touch", 2, args, NULL))) {
        return err;
    }
    return commit_update(ctx, id, cc_json_object(ctx->pool), json_object_get(before, "tags"));
}

static const char *const contact_audit_drop[] = { "id", "created_at", "updated_at", NULL };

static cc_error_t *contacts_delete(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id");
    const char *args[2] = { ctx->principal->tenant_id, id };
    const char *old[CV_N], *v[CV_N];
    json_t *contact;
    cc_error_t *err;

    if ((err = cc_db_begin(ctx->db))
        || (err = lock_contact(ctx, id, old, v))
        || (err = cc_fetch(ctx, "cc_contacts_get", contact_cols, id, &contact))
        || (err = cc_db_exec(ctx->db, "cc_contacts_delete", 2, args, NULL))) {
        return err;
    }
    return cc_ctx_commit_delete(ctx, "contact", id, contact, contact_audit_drop);
}

/* GET /contacts: with a q that searches (or is not valid, for its 400), the list that
 * starts from the terms; else the plain one. */
static cc_error_t *contacts_list(cc_ctx_t *ctx)
{
    int searched = cc_list_filter_applies(ctx->pool, &contact_q_filters[0], ctx->args);

    return cc_reply_list(ctx, searched ? &contacts_q_list_spec : &contacts_list_spec);
}

/* GET /contacts/lookup?phone=: the screen pop. */
static cc_error_t *contacts_lookup(cc_ctx_t *ctx)
{
    const char *raw = ctx->args ? apr_table_get(ctx->args, "phone") : NULL;
    const char *phone;

    /* ?phone=+1555... as API.md writes it: the query's '+' was decoded as a space. */
    if (raw && raw[0] == ' ') {
        raw = apr_pstrcat(ctx->pool, "+", raw + 1, NULL);
    }
    phone = raw && cc_valid_text(raw, 1, 64) ? cc_phone_normalise(ctx->pool, raw) : NULL;
    const char *args[2];
    json_t *contact;
    cc_error_t *err;

    if (!phone) {
        return cc_error_field(ctx->pool, "phone", raw ? "must be a phone number in E.164"
                              " form (+ then 8 to 15 digits)" : "is required");
    }
    args[0] = ctx->principal->tenant_id;
    args[1] = phone;
    if ((err = cc_db_select_one(ctx->db, "cc_contacts_lookup", contact_cols, 2, args,
                                &contact))) {
        return err;
    }
    if (!contact) {
        return cc_error_make(ctx->pool, HTTP_NOT_FOUND, CC_ERR_NOT_FOUND,
                             "no contact has this phone number");
    }
    return cc_reply_json(ctx, HTTP_OK, contact);
}

static const cc_route_t contacts_routes[] = {
    { "GET", "/api/v1/contacts", contacts_list, "contacts.read", CC_ROUTE_AUTH },
    { "POST", "/api/v1/contacts", contacts_create, "contacts.write", CC_ROUTE_AUTH },
    { "GET", "/api/v1/contacts/lookup", contacts_lookup, "contacts.read", CC_ROUTE_AUTH },
    { "GET", "/api/v1/contacts/{id:int}", cc_handle_get, "contacts.read", CC_ROUTE_AUTH },
    { "PATCH", "/api/v1/contacts/{id:int}", contacts_update, "contacts.write", CC_ROUTE_AUTH },
    { "DELETE", "/api/v1/contacts/{id:int}", contacts_delete, "contacts.write",
      CC_ROUTE_AUTH },
    { "PUT", "/api/v1/contacts/{id:int}/tags", contacts_put_tags, "contacts.write",
      CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_contacts_domain = { "contacts", contacts_routes, contacts_stmts,
                                         &contacts_list_spec, "cc_contacts_get",
                                         contact_cols };
