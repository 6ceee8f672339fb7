/*
 * cc_events_rules.c (core): see cc_events_rules.h.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "cc_events_rules.h"

/* The one table: an event type's prefix (before the first dot) and the permission that
 * reads the objects it is about.  Sorted by prefix for the reader's eye only. */
static const struct {
    const char *prefix;
    const char *permission;
} type_permissions[] = {
    { "agent", "agents.read" },
    { "agent_pause_reasons", "agents.manage" },  /* as GET /agents/pause-reasons */
    { "call", "agents.read" },               /* live calls: GET /calls is agents.read */
    { "cdr", "cdrs.read" },
    { "chat", "chat.read" },
    { "chat_widget", "chat.manage" },        /* as GET /chat/widgets */
    { "contact", "contacts.read" },
    { "did", "dids.read" },
    { "endpoint", "endpoints.read" },
    { "queue", "queues.read" },
    { "queue_member", "queues.read" },
    { "recording", "recordings.read" },
    { "role", "roles.manage" },
    { "sla", "tickets.read" },
    { "sms", "sms.read" },
    { "sms_settings", "sms.read" },
    { "tag", "contacts.read" },
    { "tenant", "tenants.manage" },
    { "ticket", "tickets.read" },
    { "ticket_template", "tickets.read" },
    { "user", "users.read" },
    { "voicemail", "voicemails.read" },
    { "webhook", "roles.manage" },           /* as GET /webhooks */
    { NULL, NULL }
};

const char *cc_events_type_permission(const char *type)
{
    const char *dot;
    apr_size_t len;
    int i;

    if (!type || !(dot = strchr(type, '.')) || dot == type) {
        return NULL;
    }
    len = (apr_size_t)(dot - type);
    for (i = 0; type_permissions[i].prefix; i++) {
        if (strlen(type_permissions[i].prefix) == len
            && !memcmp(type_permissions[i].prefix, type, len)) {
            return type_permissions[i].permission;
        }
    }
    return NULL;
}

int cc_events_visible(const char *tenant, const char *type, const char *ptenant,
                      cc_perm_mask_t mask)
{
    const char *perm = cc_events_type_permission(type);
    cc_perm_mask_t bit;

    if (!tenant || !ptenant || strcmp(tenant, ptenant) != 0 || !perm) {
        return 0;
    }
    bit = cc_perm_bit(perm);
    return bit != 0 && (mask & bit) == bit;
}

int cc_events_filter_match(const cc_events_filter_t *f, const char *tenant, const char *type,
                           const char *entity)
{
    if (!f->entity) {
        return cc_events_visible(tenant, type, f->tenant, f->mask);
    }
    if (!tenant || !f->tenant || strcmp(tenant, f->tenant) != 0) {
        return 0;
    }
    return (entity && !strcmp(entity, f->entity))
           || (f->also_type && type && !strcmp(type, f->also_type));
}

const char *cc_events_entity(apr_pool_t *p, const char *entity_type, const char *entity_id)
{
    return apr_pstrcat(p, entity_type ? entity_type : "", ":", entity_id ? entity_id : "",
                       NULL);
}

int cc_events_parse_position(const char *s, apr_uint64_t *pid)
{
    apr_uint64_t v = 0;
    apr_size_t i;

    if (!s || !*s || strlen(s) > 19) {
        return 0;
    }
    for (i = 0; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        v = v * 10 + (apr_uint64_t)(s[i] - '0');
    }
    /* 19 digits may pass 2^63 - 1 (never past 2^64: 10^19 - 1 < 2^64). */
    if (v > APR_UINT64_C(0x7fffffffffffffff)) {
        return 0;
    }
    *pid = v;
    return 1;
}

const char *cc_events_id_text(apr_pool_t *p, apr_uint64_t id)
{
    return apr_psprintf(p, "%" APR_UINT64_T_FMT, id);
}

/* ---- the buffer ---- */

static void entry_free(cc_evring_entry_t *e)
{
    free(e->tenant);
    free(e->type);
    free(e->entity);
    free(e->json);
    memset(e, 0, sizeof(*e));
}

int cc_evring_init(cc_evring_t *ring, apr_size_t cap, apr_uint64_t base)
{
    memset(ring, 0, sizeof(*ring));
    if (cap < 1 || !(ring->e = calloc(cap, sizeof(*ring->e)))) {
        return 0;
    }
    ring->cap = cap;
    ring->base = base;
    return 1;
}

static char *dup_n(const char *s, apr_size_t len)
{
    char *d = malloc(len + 1);

    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

int cc_evring_push(cc_evring_t *ring, apr_uint64_t id, const char *tenant, const char *type,
                   const char *entity, const char *json, apr_size_t json_len)
{
    cc_evring_entry_t e;
    apr_size_t slot;

    e.id = id;
    e.tenant = dup_n(tenant, strlen(tenant));
    e.type = dup_n(type, strlen(type));
    e.entity = dup_n(entity, strlen(entity));
    e.json = dup_n(json, json_len);
    e.json_len = json_len;
    if (!e.tenant || !e.type || !e.entity || !e.json) {
        entry_free(&e);
        return 0;
    }
    if (ring->n == ring->cap) {
        /* The oldest goes: from now on it is read from the database (never back below a
         * base set past an event the buffer could not hold). */
        if (ring->e[ring->head].id + 1 > ring->base) {
            ring->base = ring->e[ring->head].id + 1;
        }
        entry_free(&ring->e[ring->head]);
        ring->head = (ring->head + 1) % ring->cap;
        ring->n--;
    }
    slot = (ring->head + ring->n) % ring->cap;
    ring->e[slot] = e;
    ring->n++;
    return 1;
}

const cc_evring_entry_t *cc_evring_at(const cc_evring_t *ring, apr_size_t i)
{
    return &ring->e[(ring->head + i) % ring->cap];
}

apr_size_t cc_evring_after(const cc_evring_t *ring, apr_uint64_t pos)
{
    apr_size_t lo = 0, hi = ring->n;

    while (lo < hi) {
        apr_size_t mid = lo + (hi - lo) / 2;

        if (cc_evring_at(ring, mid)->id <= pos) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return lo;
}

void cc_evring_destroy(cc_evring_t *ring)
{
    apr_size_t i;

    if (ring->e) {
        for (i = 0; i < ring->n; i++) {
            entry_free(&ring->e[(ring->head + i) % ring->cap]);
        }
        free(ring->e);
    }
    memset(ring, 0, sizeof(*ring));
}

/* Whether s[i] (of n bytes) starts a line break for an event-stream reader (CR, LF,
 * CRLF); *pw is its width. */
static int line_break(const char *s, apr_size_t i, apr_size_t n, apr_size_t *pw)
{
    if (s[i] == '\n') {
        *pw = 1;
        return 1;
    }
    if (s[i] == '\r') {
        *pw = (i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
        return 1;
    }
    return 0;
}

char *cc_events_sse_frame(apr_pool_t *p, apr_uint64_t id, const char *type,
                          const char *json, apr_size_t json_len, apr_size_t *plen)
{
    static const char data_line[] = "\ndata: ";
    char *head = apr_psprintf(p, "id: %" APR_UINT64_T_FMT "\nevent: ", id);
    apr_size_t hlen = strlen(head), tlen = strlen(type), breaks = 0, i, w;
    char *out, *o;

    for (i = 0; i < json_len; i += w) {
        w = 1;
        breaks += line_break(json, i, json_len, &w);
    }
    /* A line break would end the line early: one in the type is left out (a type has
     * none), each in the data starts a data line of its own (the reader joins them with
     * LF: the same JSON, whose text has none outside strings). */
    out = o = apr_palloc(p, hlen + tlen + (breaks + 1) * (sizeof(data_line) - 1)
                            + json_len + 3);
    memcpy(o, head, hlen);
    o += hlen;
    for (i = 0; i < tlen; i++) {
        if (type[i] != '\r' && type[i] != '\n') {
            *o++ = type[i];
        }
    }
    memcpy(o, data_line, sizeof(data_line) - 1);
    o += sizeof(data_line) - 1;
    if (!breaks) {
        memcpy(o, json, json_len);
        o += json_len;
    }
    for (i = 0; breaks && i < json_len; i += w) {
        w = 1;
        if (line_break(json, i, json_len, &w)) {
            memcpy(o, data_line, sizeof(data_line) - 1);
            o += sizeof(data_line) - 1;
        }
        else {
            *o++ = json[i];
        }
    }
    memcpy(o, "\n\n", 3);
    *plen = (apr_size_t)(o - out) + 2;
    return out;
}
