/**
 * @file cc_chat_rules.h
 * @brief (core) The pure part of live chat (API.md "Chat"): what a widget, an agent's
 *        status, a message or a visitor's session body may say, origins and the visitor's
 *        credential, the SSE frames a visitor sees.  No httpd and no database: unit-tested
 *        (t/unit/test_cc_chat_rules.c); cc_chat_*.c are its glue.
 */
#ifndef CC_CHAT_RULES_H
#define CC_CHAT_RULES_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>
#include "cc_error.h"

#define CC_CHAT_NAME_MAX          100
#define CC_CHAT_GREETING_MAX      500
#define CC_CHAT_ORIGINS_MAX       50
#define CC_CHAT_REASSIGN_MIN      10
#define CC_CHAT_REASSIGN_MAX      86400
#define CC_CHAT_MESSAGE_MAX       4000
#define CC_CHAT_NOTE_MAX          1000
#define CC_CHAT_CAPACITY_MIN      1
#define CC_CHAT_CAPACITY_MAX      20
#define CC_CHAT_CAPACITY_DEFAULT  "3"
#define CC_CHAT_COLOR_DEFAULT     "#1f6feb"
/* A visitor token: 32 random bytes as unpadded base64url. */
#define CC_CHAT_TOKEN_BYTES       32
#define CC_CHAT_TOKEN_LEN         43
/* A widget's public key: 24 random bytes as base64url. */
#define CC_CHAT_KEY_BYTES         24
#define CC_CHAT_KEY_LEN           32

extern const char *const cc_chat_agent_statuses[];    /* online, away, offline */
extern const char *const cc_chat_session_statuses[];  /* waiting, active, closed */

/** A widget's values as statement arguments (enabled "0"/"1", reassign_after NULL or
 * decimal, allowed_origins the JSON array text). */
typedef struct chat_widget_values_t {
    const char *name;
    const char *allowed_origins;
    const char *greeting;
    const char *color;
    const char *enabled;
    const char *reassign_after;
} chat_widget_values_t;

/**
 * A widget body (checked for types by the caller) applied to cur (a create passes the
 * defaults): *out holds the result.  Every field that does not fit adds a detail to the
 * 400.  An origin is normalised to lower case; duplicates are refused.
 */
cc_error_t *cc_chat_widget_apply(apr_pool_t *p, json_t *body,
                                 const chat_widget_values_t *cur, chat_widget_values_t *out);

/** The defaults a create starts from (name empty: required). */
const chat_widget_values_t *cc_chat_widget_defaults(void);

/** What changed from a to b, for the audit log ({field: {from, to}}). */
json_t *cc_chat_widget_diff(const chat_widget_values_t *a, const chat_widget_values_t *b);

/** Whether origin (as sent, compared case-insensitively) is in the JSON array text. */
int cc_chat_origin_allowed(apr_pool_t *p, const char *origins_json, const char *origin);

/** A message or note body: 1..max characters of valid text, not only white space. */
int cc_chat_text_valid(const char *s, apr_size_t max);

/** The token of an `Authorization: Visitor <token>` header, or NULL when the header is
 * of another scheme or malformed. */
const char *cc_chat_visitor_token(apr_pool_t *p, const char *authorization);

/** Whether s has the shape of a visitor token (CC_CHAT_TOKEN_LEN base64url chars). */
int cc_chat_token_shape(const char *s);

/** Whether s has the shape of a public key. */
int cc_chat_key_shape(const char *s);

/**
 * The frame a visitor's stream sends for an agent-side event of its session (the
 * event's type and data object), or NULL when the visitor is not told of it: the SSE
 * event name in *pname and its data as JSON text.  position: the visitor's place for a
 * chat.queue_updated (0: not in the event's list, nothing sent).
 */
const char *cc_chat_visitor_frame(apr_pool_t *p, const char *type, json_t *data,
                                  apr_int64_t session_id, const char **pname);

/** The position of session_id in a chat.queue_updated event's data (1-based), 0 when
 * not in it. */
apr_int64_t cc_chat_queue_position(json_t *data, apr_int64_t session_id);

#endif
