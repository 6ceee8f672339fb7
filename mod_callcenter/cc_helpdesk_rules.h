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
 * (cc_valid_e164: a number without '+' or "00" is not).  "+1 (555) 010-9999" ->
 * "+15550109999", "0044 20 7946 0958" -> "+442079460958".
 */
const char *cc_phone_normalise(apr_pool_t *p, const char *s);

/**
 * NULL when obj (a JSON object) may be a contact's custom_fields, else the issue: more
 * than CC_CUSTOM_FIELDS_BYTES of compact JSON, nesting deeper than
 * CC_CUSTOM_FIELDS_DEPTH (objects and arrays both count), more than
 * CC_CUSTOM_FIELDS_KEYS keys, a key not 1..CC_CUSTOM_KEY_MAX of [A-Za-z0-9_.-] starting
 * with a letter, a string that is not valid UTF-8 or holds NUL.  Not an object: an
 * issue too.  The issue names no key (a key may be anything a client sent).
 */
const char *cc_custom_fields_issue(const json_t *obj);

/* ---- tags ---- */

#define CC_TAG_NAME_MAX  50
#define CC_TAGS_MAX      50   /* tags on one contact or ticket */

/** 1..CC_TAG_NAME_MAX characters of valid UTF-8, no control characters, no ',' (a tag
 * list is comma-joined), not starting or ending with a space. */
int cc_tag_name_ok(const char *name);
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
 * ("unknown placeholder {{ticket.foo}}", "unterminated placeholder at byte 12": the
 * offset of its "{{" from 0; a name that is not one short line is not echoed: "unknown
 * placeholder at byte 12").  A placeholder is "{{" name "}}" with optional spaces
 * inside the braces; "{{" is the only opening (there is no escape: a lone "{" or "}" is
 * literal; in a run of "{" the placeholder opens at the last two, so
 * "{{{ticket.number}}}" is "{", the number, "}").  A "{{" without a "}}" before the
 * next "{{" is unterminated.  NULL body: NULL.
 */
const char *cc_template_issue(apr_pool_t *p, const char *body);

/** body with each placeholder replaced by its value in values (keys as in
 * cc_template_placeholders; absent or NULL: the empty string).  body passed
 * cc_template_issue (were it not: an unknown placeholder stays as written, an
 * unterminated one is literal text).  Values are inserted as they are, never expanded
 * again. */
const char *cc_template_render(apr_pool_t *p, const char *body, apr_table_t *values);

/* ---- attachments ---- */

#define CC_FILENAME_MAX  255   /* bytes */

/**
 * The stored name of a client's ?filename=: the part after the last '/' or '\\', control
 * characters (cc_control_len), '"' and the bidirectional formatting characters
 * (U+200E, U+200F, U+202A..U+202E, U+2066..U+2069: they make "x\u202Efdp.exe" look
 * like "xexe.pdf") removed, leading dots and spaces and trailing dots and spaces
 * removed, cut to CC_FILENAME_MAX bytes on a character boundary (the extension, the
 * last '.' and what follows, kept when it is at most 16 bytes).  NULL with *pissue
 * when it is NULL, not valid UTF-8 or nothing is left ("../../etc/passwd" ->
 * "passwd", "C:\\a\\b.txt" -> "b.txt", ".htaccess" -> "htaccess", ".." -> NULL).
 */
const char *cc_attachment_filename(apr_pool_t *p, const char *raw, const char **pissue);

/** A media type a stored file may be served with: type "/" subtype (RFC 6838
 * restricted-name: each 1..127 of letters, digits and "!#$&-^_.+", a letter or digit
 * first), lowercased, parameters dropped ("text/plain; charset=utf-8" -> "text/plain");
 * spaces and tabs around it allowed; NULL when it is not one. */
const char *cc_media_type(apr_pool_t *p, const char *content_type);

/** The Content-Disposition of a download: attachment; filename="<ASCII, '?' for other
 * characters and controls, '"' and '\\' escaped>"; filename*=UTF-8''<RFC 5987
 * percent-encoding>.  "attachment" alone for a NULL or empty filename; no filename*
 * (and '?' per byte) when it is not valid UTF-8. */
const char *cc_content_disposition(apr_pool_t *p, const char *filename);

#endif
