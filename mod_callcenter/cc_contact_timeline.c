/*
 * cc_contact_timeline.c: GET /api/v1/contacts/{id}/timeline — a contact's calls, SMS,
 * voicemails, tickets and chats, newest first, a page at a time with a cursor.
 *
 * One statement: a UNION ALL of one branch per source, each an index range on the
 * contact's number or email (or its id, for tickets) and time (sql/019), ordered and cut
 * to the page inside the branch, then merged and cut again.  A row's place is (at,
 * rank of its type, id), so the cursor — the last row's three — resumes exactly, rows
 * with the same time included.  A source the caller may not read (cdrs.read, sms.read,
 * voicemails.read, tickets.read, chat.read) is left out: its branch binds 0.
 *
 * Calls are the CDRs whose src or dst is the contact's number, as Asterisk wrote it: in
 * E.164 or as its digits without '+' (a trunk's caller id); voicemails likewise by the
 * caller's number; SMS by their E.164 numbers; chats by the visitor's email.
 */
#include <string.h>

#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "cc_api_private.h"
#include "cc_hd_private.h"
#include "cc_jsonw.h"
#include "cc_page.h"
#include "cc_validate.h"

#define TIMELINE_PAGE_DEFAULT 20
#define TIMELINE_PAGE_MAX     100

/* The types, by rank: the order among rows of one time (newest first: the highest). */
static const struct {
    const char *type;
    const char *permission;
} timeline_types[] = {
    { "chat", "chat.read" },            /* rank 1 */
    { "ticket", "tickets.read" },       /* rank 2 */
    { "voicemail", "voicemails.read" }, /* rank 3 */
    { "sms", "sms.read" },              /* rank 4 */
    { "call", "cdrs.read" },            /* rank 5 */
    { NULL, NULL }
};

/* Every branch ends with the cursor's condition and its limit; it binds: the caller may
 * read it (1/0), the tenant, its match values, then cursor at x2, rank x2, id, limit. */
#define TL_AFTER(at, rank, id)                                                      \
    " AND (" at " < %s OR (" at " = %s AND (" rank " < %s OR (" rank " = %s AND "      \
    id " < %s))))"

#define TL_BRANCH(sel, from, where, at, rank, id)                                  \
    "(SELECT " sel " FROM " from " WHERE %s = 1 AND " where                        \
    TL_AFTER(at, rank, id) " ORDER BY " at " DESC, " id " DESC LIMIT %s)"

/* The summary of each type, as the timeline shows it. */
#define TL_CALL_SUMMARY                                                            \
    "CONCAT('Call ', COALESCE(c.src, 'unknown'), ' -> ', COALESCE(c.dst, 'unknown'), ' (',      \
    COALESCE(c.disposition, 'unknown'), ', ', COALESCE(c.billsec, 0), ' s)') AS summary"

#define TL_CALL(match)                                                             \
    TL_BRANCH("'call' AS type, 5 AS rnk, c.id, c.start AS at, " TL_CALL_SUMMARY,      \
              "cdr c", "c.tenant_ref = %s AND " match, "c.start", "5", "c.id")

/* SMS, one branch per direction (each one range of idx_sms_from / idx_sms_to). */
#define TL_SMS(what, match)                                                        \
    TL_BRANCH("'sms' AS type, 4 AS rnk, s.id, s.created_at AS at, CONCAT('" what   \
              ", ': ', LEFT(s.body, 80))", "sms_messages s",                        \
              "s.tenant_id = %s AND " match, "s.created_at", "4", "s.id")

static const cc_stmt_t timeline_stmts[] = {
    CC_STMT("cc_timeline_contact",
            "SELECT phone, email FROM contacts c WHERE c.tenant_id = %s AND c.id = %s"),
    CC_STMT("cc_timeline_page",
            "SELECT type, id, REPLACE(CAST(at AS CHAR), ' ', 'T'), summary, rnk FROM ("
            TL_CALL("c.src IN (%s, %s)")
            " UNION ALL "
            /* A call from the number to itself is listed once (by src). */
            TL_CALL("c.dst IN (%s, %s) AND NOT (c.src <=> %s) AND NOT (c.src <=> %s)")
            " UNION ALL "
            TL_SMS("SMS from ', s.from_number", "s.direction = 'inbound'"
                   " AND s.from_number = %s")
            " UNION ALL "
            TL_SMS("SMS to ', s.to_number", "s.direction = 'outbound' AND s.to_number = %s")
            " UNION ALL "
            TL_BRANCH("'voicemail' AS type, 3 AS rnk, v.id, v.created_at AS at,"
                      " CONCAT('Voicemail for ', v.mailbox, ' (', v.duration, ' s)')",
                      "voicemails v", "v.tenant_id = %s AND v.caller_number IN (%s, %s)",
                      "v.created_at", "3", "v.id")
            " UNION ALL "
            TL_BRANCH("'ticket' AS type, 2 AS rnk, t.id, t.created_at AS at,"
                      " CONCAT('Ticket #', t.number, ': ', t.subject, ' (', t.status, ')')",
                      "tickets t", "t.tenant_id = %s AND t.contact_id = %s",
                      "t.created_at", "2", "t.id")
            " UNION ALL "
            TL_BRANCH("'chat' AS type, 1 AS rnk, h.id, CAST(h.created_at AS DATETIME) AS at,"
                      " CONCAT('Chat (', h.status, ')')",
                      "chat_sessions h", "h.tenant_id = %s AND h.visitor_email = %s",
                      "CAST(h.created_at AS DATETIME)", "1", "h.id")
            ") x ORDER BY at DESC, rnk DESC, id DESC LIMIT %s"),
    CC_STMT_END
};

static int rank_of(const char *type)
{
    int i;

    for (i = 0; timeline_types[i].type; i++) {
        if (!strcmp(timeline_types[i].type, type)) {
            return i + 1;
        }
    }
    return 0;
}

/* The arguments of one page (see TL_BRANCH): 69. */
#define TL_NARGS 69

static cc_error_t *timeline_get(cc_ctx_t *ctx)
{
    const char *id = cc_path(ctx, "id"), *t = ctx->principal->tenant_id;
    const char *args[TL_NARGS], **row, *phone, *digits, *email, *scope, *after;
    const char *c_at = "9999-12-31T23:59:59", *c_rank = "9", *c_id = "18446744073709551615";
    const char *lim, *can[5];
    cc_error_t *err = NULL;
    cc_cursor_t cur;
    json_t *rows, *out, *data;
    int n = 0, size, i;

    err = cc_args_int(ctx->pool, err, ctx->args, "page_size", 1, TIMELINE_PAGE_MAX,
                      TIMELINE_PAGE_DEFAULT, &size);
    scope = apr_pstrcat(ctx->pool, "timeline:", t, ":", id, NULL);
    after = ctx->args ? apr_table_get(ctx->args, "after") : NULL;
    if (after) {
        apr_int64_t at, cid;

        /* The checksum is no secret: what a cursor says is checked as well. */
        if (!cc_cursor_read(ctx->pool, after, scope, &cur) || !rank_of(cur.sort)
            || !cc_parse_rfc3339_epoch(apr_pstrcat(ctx->pool, cur.key, "Z", NULL), &at)
            || !cc_parse_id(cur.id, &cid)) {
            err = cc_error_collect(ctx->pool, err, "after",
                                   "is not a cursor of this timeline (or it was altered)");
        }
        else {
            c_at = cur.key;
            c_rank = apr_itoa(ctx->pool, rank_of(cur.sort));
            c_id = cur.id;
        }
    }
    if (err) {
        return err;
    }
    args[0] = t;
    args[1] = id;
    if ((err = cc_db_select_row(ctx->db, "cc_timeline_contact", 2, args, &row, NULL))) {
        return err;
    }
    if (!row) {
        return cc_error_not_found(ctx->pool);
    }
    phone = row[0];
    digits = phone && phone[0] == '+' ? phone + 1 : phone;
    email = row[1];
    lim = apr_itoa(ctx->pool, size + 1);
    for (i = 0; i < 5; i++) {
        can[i] = cc_principal_can(ctx->principal, timeline_types[i].permission) ? "1" : "0";
    }
#define TL_TAIL() do { args[n++] = c_at; args[n++] = c_at; args[n++] = c_rank;        \
                       args[n++] = c_rank; args[n++] = c_id; args[n++] = lim; } while (0)
    /* calls by src */
    args[n++] = can[4]; args[n++] = t; args[n++] = phone; args[n++] = digits; TL_TAIL();
    /* calls by dst */
    args[n++] = can[4]; args[n++] = t; args[n++] = phone; args[n++] = digits;
    args[n++] = phone; args[n++] = digits; TL_TAIL();
    /* sms, inbound then outbound */
    args[n++] = can[3]; args[n++] = t; args[n++] = phone; TL_TAIL();
    args[n++] = can[3]; args[n++] = t; args[n++] = phone; TL_TAIL();
    /* voicemails */
    args[n++] = can[2]; args[n++] = t; args[n++] = phone; args[n++] = digits; TL_TAIL();
    /* tickets */
    args[n++] = can[1]; args[n++] = t; args[n++] = id; TL_TAIL();
    /* chats */
    args[n++] = can[0]; args[n++] = t; args[n++] = email; TL_TAIL();
#undef TL_TAIL
    args[n++] = lim;
    {
        static const cc_col_t cols[] = {
            { "type", CC_COL_STR }, { "id", CC_COL_INT }, { "at", CC_COL_STR },
            { "summary", CC_COL_STR }, CC_COL_END
        };

        if ((err = cc_db_select(ctx->db, "cc_timeline_page", cols, n, args, &rows, NULL))) {
            return err;
        }
    }
    data = rows;
    out = cc_json_object(ctx->pool);
    if (json_array_size(rows) > (size_t)size) {
        json_t *last = json_array_get(rows, (size_t)size - 1);

        cur.sort = cc_json_str(last, "type");
        cur.desc = 1;
        cur.key = cc_json_str(last, "at");
        cur.id = cc_json_int_text(ctx->pool, last, "id");
        json_array_remove(rows, (size_t)size);
        cc_json_set_str(out, "next_cursor", cc_cursor_make(ctx->pool, &cur, scope));
    }
    else {
        json_object_set_new(out, "next_cursor", json_null());
    }
    for (i = 0; i < (int)json_array_size(data); i++) {
        json_t *item = json_array_get(data, (size_t)i);

        cc_json_set_str(item, "at", apr_pstrcat(ctx->pool, cc_json_str(item, "at"), "Z",
                                                NULL));
    }
    json_object_set(out, "data", data);
    return cc_reply_json(ctx, HTTP_OK, out);
}

static const cc_route_t timeline_routes[] = {
    { "GET", "/api/v1/contacts/{id:int}/timeline", timeline_get, "contacts.read",
      CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};

const cc_domain_t cc_contact_timeline_domain = { "contact_timeline", timeline_routes,
                                                 timeline_stmts, NULL, NULL, NULL };
