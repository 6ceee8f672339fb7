/**
 * @file cc_helpdesk_rules.h
 * @brief (core) The pure part of contacts and the helpdesk (API.md "Contacts and tags",
 *        "Helpdesk"): phone normalisation, custom fields, tag names and colours, ticket
 *        templates' placeholders, attachments' filenames and media types.  No httpd and
 *        no database: unit-tested (t/unit/test_cc_helpdesk_rules.c).
 */
#ifndef CC_HELPDESK_RULES_H
#define CC_HELPDESK_RULES_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>
#include "cc_error.h"

/* ---- contacts ---- */

#define CC_CUSTOM_FIELDS_BYTES  8192   /* the object's compact JSON text */
#define CC_CUSTOM_FIELDS_DEPTH  3      /* the object itself is depth 1 */
#define CC_CUSTOM_FIELDS_KEYS   100    /* keys in all, at every depth */
#define CC_CUSTOM_KEY_MAX       64

/**
 * A phone number as a client may type it, as E.164: spaces, '-', '.', '(' and ')'
 * dropped, a leading "00" read as '+'; NULL unless the result is E.164
 * (cc_valid_e164).  "+1 (555) 010-9999" -> "+15550109999".
 */
const char *cc_phone_normalise(apr_pool_t *p, const char *s);

/**
 * NULL when obj (a JSON object) may be a contact's custom_fields, else the issue: more
 * than CC_CUSTOM_FIELDS_BYTES of compact JSON, nesting deeper than
 * CC_CUSTOM_FIELDS_DEPTH (objects and arrays both count), more than
 * CC_CUSTOM_FIELDS_KEYS keys, a key not 1..CC_CUSTOM_KEY_MAX of [A-Za-z0-9_.-] starting
 * with a letter, a string that is not valid UTF-8 or holds NUL.
 */
const char *cc_custom_fields_issue(const json_t *obj);

/* ---- tags ---- */

#define CC_TAG_NAME_MAX  50
#define CC_TAGS_MAX      50   /* tags on one contact or ticket */

/** 1..CC_TAG_NAME_MAX characters of valid UTF-8, no control characters, no ',' (a tag
 * list is comma-joined), not starting or ending with a space. */
int cc_tag_name_ok(const char *s);
/** "#rrggbb" (hex digits, either case). */
int cc_tag_color_ok(const char *s);

/* ---- ticket templates ---- */

#define CC_TEMPLATE_BODY_MAX  20000

/** The placeholders a template may name, NULL-terminated: ticket.id, ticket.number,
 * ticket.subject, ticket.status, ticket.priority, ticket.channel, contact.name,
 * contact.email, contact.phone, contact.company, agent.name, agent.email. */
extern const char *const cc_template_placeholders[];

/**
 * NULL when body's placeholders are all known, else the issue naming the first bad one
 * ("unknown placeholder {{ticket.foo}}", "unterminated placeholder at byte 12").  A
 * placeholder is "{{" name "}}" with optional spaces inside the braces; "{{" is the only
 * opening (there is no escape: a lone "{" or "}" is literal).
 */
const char *cc_template_issue(apr_pool_t *p, const char *body);

/** body with each placeholder replaced by its value in values (keys as in
 * cc_template_placeholders; absent or NULL: the empty string).  body passed
 * cc_template_issue. */
const char *cc_template_render(apr_pool_t *p, const char *body, apr_table_t *values);

/* ---- attachments ---- */

#define CC_FILENAME_MAX  255   /* bytes */

/**
 * The stored name of a client's ?filename=: the part after the last '/' or '\\', control
 * characters and '"' removed, leading dots and spaces and trailing dots and spaces
 * removed, cut to CC_FILENAME_MAX bytes on a character boundary (the extension kept
 * when there is one of at most 16 bytes).  NULL with *pissue when it is not valid
 * UTF-8 or nothing is left.
 */
const char *cc_attachment_filename(apr_pool_t *p, const char *raw, const char **pissue);

/** A media type a stored file may be served with: type "/" subtype (RFC 6838 token
 * characters, each 1..127 bytes), lowercased, parameters dropped ("text/plain;
 * charset=utf-8" -> "text/plain"); NULL when it is not one. */
const char *cc_media_type(apr_pool_t *p, const char *content_type);

/** The Content-Disposition of a download: attachment; filename="<ASCII, '?' for other
 * bytes, '"' and '\\' escaped>"; filename*=UTF-8''<RFC 5987 percent-encoding>. */
const char *cc_content_disposition(apr_pool_t *p, const char *filename);

#endif
