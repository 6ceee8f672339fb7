/**
 * @file cc_events_rules.h
 * @brief (core) The pure part of the event stream (API.md "Events"): which permission an
 *        event type needs, the position a client resumes from, the per-child buffer of
 *        recent events, and the SSE frame.
 *        No httpd and no database: unit-tested (t/unit/test_cc_events_rules.c);
 *        cc_events_hub.c and cc_events.c are its glue.
 */
#ifndef CC_EVENTS_RULES_H
#define CC_EVENTS_RULES_H

#include <apr_pools.h>
#include "cc_perm.h"

/**
 * The permission a client needs to see an event of type ("did.created" needs
 * "dids.read"), from one table of type prefixes (the part before the first dot); NULL for
 * a type of no known prefix, which nobody sees (a new kind of event is added to the
 * table, not shown by default).
 */
const char *cc_events_type_permission(const char *type);

/** Whether a client of tenant ptenant holding mask sees an event of tenant and type. */
int cc_events_visible(const char *tenant, const char *type, const char *ptenant,
                      cc_perm_mask_t mask);

/**
 * What one reader of the stream is handed.  A user's stream: the events of its tenant
 * whose types its permissions read (cc_events_visible).  A reader of one entity (a chat
 * visitor's session): entity set ("chat_session:42", entity_type ':' entity_id), the
 * tenant's events about that entity, plus those of type also_type (may be NULL), whatever
 * the mask.
 */
typedef struct cc_events_filter_t {
    const char *tenant;
    cc_perm_mask_t mask;
    const char *entity;
    const char *also_type;
} cc_events_filter_t;

/** Whether f's reader is handed an event of tenant, type and entity (as f->entity). */
int cc_events_filter_match(const cc_events_filter_t *f, const char *tenant, const char *type,
                           const char *entity);

/** An event's entity as filters name it: entity_type ':' entity_id (NULL parts empty). */
const char *cc_events_entity(apr_pool_t *p, const char *entity_type, const char *entity_id);

/**
 * A position (Last-Event-ID, ?after=): a decimal event id, 0 to 2^63 - 1, digits only
 * (no sign, no spaces, at most 19 digits).  1 and *pid set, or 0.
 */
int cc_events_parse_position(const char *s, apr_uint64_t *pid);

/** An event id as decimal text in p (a statement's argument, a frame's id). */
const char *cc_events_id_text(apr_pool_t *p, apr_uint64_t id);

/** One event in the buffer: its JSON object text (API.md's event) and what filters it. */
typedef struct cc_evring_entry_t {
    apr_uint64_t id;
    char *tenant;
    char *type;
    char *entity;          /**< cc_events_entity */
    char *json;
    apr_size_t json_len;
} cc_evring_entry_t;

/**
 * The recent events of a process, in id order, at most cap of them (malloc'ed: the
 * buffer lives as long as the process and turns over forever).  base: every event with
 * base <= id < the position the buffer is complete to is in it (older ones must be read
 * from the database); pushing past cap drops the oldest and moves base past it.
 */
typedef struct cc_evring_t {
    cc_evring_entry_t *e;
    apr_size_t cap;
    apr_size_t head;        /**< index of the oldest */
    apr_size_t n;
    apr_uint64_t base;
} cc_evring_t;

/** An empty buffer of cap (>= 1) entries complete from base; 0 when out of memory. */
int cc_evring_init(cc_evring_t *ring, apr_size_t cap, apr_uint64_t base);

/** Append an event (id above every id in it); copies the strings.  0 when out of memory
 * (nothing changed). */
int cc_evring_push(cc_evring_t *ring, apr_uint64_t id, const char *tenant, const char *type,
                   const char *entity, const char *json, apr_size_t json_len);

/** The i-th entry from the oldest (i < n). */
const cc_evring_entry_t *cc_evring_at(const cc_evring_t *ring, apr_size_t i);

/** The index of the first entry with id > pos (n when none). */
apr_size_t cc_evring_after(const cc_evring_t *ring, apr_uint64_t pos);

void cc_evring_destroy(cc_evring_t *ring);

/** The SSE frame of an event: "id: <id>\nevent: <type>\ndata: <json>\n\n" (compact JSON
 * has no line break).  Whatever the bytes, the frame is one event with that id: a CR or
 * LF in type is left out, and each line break (CR, LF, CRLF) in json starts another
 * "data: " line, so a reader's data is json with its line breaks as LF. */
char *cc_events_sse_frame(apr_pool_t *p, apr_uint64_t id, const char *type,
                          const char *json, apr_size_t json_len, apr_size_t *plen);

#endif
