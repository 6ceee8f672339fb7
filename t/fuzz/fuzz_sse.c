/* SSE frames (mod_cc_chat/cc_events_rules.c cc_events_sse_frame; the visitor stream's data
 * from cc_chat_rules.c cc_chat_visitor_frame) read back by an event-stream reader as the
 * HTML standard parses one: each frame is exactly one event, dispatched at its very end,
 * with its id, its type and its data; no byte of the type or the data can end the event
 * early or add a field (id:, retry:, event:) of its own.
 *
 * Input: the first byte's low 6 bits are the type's length, the type's bytes follow, the
 * rest is the data.  The data goes in as it is (hostile bytes: the frame must hold
 * anyway), and, when it is JSON, as the stream sends it (compact, cc_json_dump): then the
 * data read back is that JSON text, byte for byte, and the visitor frames of it are one
 * line of JSON each. */
#include <string.h>
#include "fuzz_common.h"
#include "cc_chat_rules.h"
#include "cc_events_rules.h"
#include "cc_json.h"

typedef struct {
    int events;             /* dispatched */
    const char *type, *id, *data;
    apr_size_t data_len;
    int retry;              /* a retry: field seen */
    int trailing;           /* bytes after the last dispatch */
} sse_t;

/* The HTML standard's event-stream interpretation of buf (one frame: its last event's
 * fields kept). */
static void sse_read(apr_pool_t *p, const char *buf, apr_size_t len, sse_t *out)
{
    char *data = apr_palloc(p, len + 1);
    apr_size_t dl = 0, i = 0;
    const char *type = "", *id = NULL;

    memset(out, 0, sizeof(*out));
    while (i < len) {
        apr_size_t s = i, e, colon, vs;
        const char *field;

        while (i < len && buf[i] != '\r' && buf[i] != '\n') {
            i++;
        }
        if (i == len) {
            out->trailing = 1;              /* an unterminated line: never interpreted */
            break;
        }
        e = i;
        i += (buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n') ? 2 : 1;
        if (e == s) {                       /* blank line: dispatch */
            if (dl) {
                out->events++;
                out->type = type;
                out->id = id;
                out->data = apr_pstrmemdup(p, data, dl - 1);
                out->data_len = dl - 1;
            }
            dl = 0;
            type = "";
            continue;
        }
        if (buf[s] == ':') {
            continue;                       /* a comment */
        }
        for (colon = s; colon < e && buf[colon] != ':'; colon++) {
        }
        field = apr_pstrmemdup(p, buf + s, colon - s);
        vs = colon < e ? colon + 1 : e;
        if (vs < e && buf[vs] == ' ') {
            vs++;
        }
        if (!strcmp(field, "data")) {
            memcpy(data + dl, buf + vs, e - vs);
            dl += e - vs;
            data[dl++] = '\n';
        }
        else if (!strcmp(field, "event")) {
            type = apr_pstrmemdup(p, buf + vs, e - vs);
        }
        else if (!strcmp(field, "id")) {
            id = apr_pstrmemdup(p, buf + vs, e - vs);
        }
        else if (!strcmp(field, "retry")) {
            out->retry = 1;
        }
    }
    if (i < len || dl || *type) {
        out->trailing = 1;
    }
}

/* The data as a reader gets it: each CRLF, CR or LF one LF. */
static const char *lines_as_lf(apr_pool_t *p, const char *s, apr_size_t n, apr_size_t *pn)
{
    char *out = apr_palloc(p, n + 1);
    apr_size_t i, o = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '\r') {
            out[o++] = '\n';
            i += i + 1 < n && s[i + 1] == '\n';
        }
        else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    *pn = o;
    return out;
}

static void check_frame(apr_pool_t *p, apr_uint64_t id, const char *type, const char *json,
                        apr_size_t json_len)
{
    apr_size_t flen, want_len, k;
    const char *frame = cc_events_sse_frame(p, id, type, json, json_len, &flen), *want;
    char *want_type = apr_pstrdup(p, type);
    sse_t r;

    fuzz_check(frame != NULL);
    sse_read(p, frame, flen, &r);
    fuzz_check(r.events == 1 && !r.trailing && !r.retry);
    fuzz_check(r.id && !strcmp(r.id, cc_events_id_text(p, id)));
    /* The type's line breaks cannot be sent: they are left out. */
    {
        char *o = want_type;

        for (k = 0; type[k]; k++) {
            if (type[k] != '\r' && type[k] != '\n') {
                *o++ = type[k];
            }
        }
        *o = '\0';
    }
    fuzz_check(!strcmp(r.type, want_type));
    want = lines_as_lf(p, json, json_len, &want_len);
    fuzz_check(r.data_len == want_len && !memcmp(r.data, want, want_len));
}

static const char *const visitor_types[] = {
    "chat.message", "chat.session_assigned", "chat.session_accepted",
    "chat.session_transferred", "chat.session_closed", "chat.queue_updated", NULL
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apr_size_t tl;
    const char *type, *body;
    apr_size_t blen;
    apr_uint64_t id;
    json_t *j;

    if (size < 1) {
        return 0;
    }
    p = fuzz_pool();
    tl = data[0] & 0x3f;
    if (tl > size - 1) {
        tl = size - 1;
    }
    type = apr_pstrmemdup(p, (const char *)data + 1, tl);
    body = (const char *)data + 1 + tl;
    blen = size - 1 - tl;
    id = (apr_uint64_t)size * APR_UINT64_C(0x9e3779b97f4a7c15) >> (data[0] >> 6);

    check_frame(p, id, type, body, blen);

    j = json_loadb(body, blen, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (j) {
        const char *compact = cc_json_dump(p, cc_json_own(p, j));
        apr_size_t flen;
        const char *frame;
        json_t *back;
        sse_t r;
        int i;

        fuzz_check(compact != NULL);
        frame = cc_events_sse_frame(p, id, type, compact, strlen(compact), &flen);
        sse_read(p, frame, flen, &r);
        fuzz_check(r.events == 1 && r.data_len == strlen(compact)
                   && !memcmp(r.data, compact, r.data_len));
        back = json_loadb(r.data, r.data_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        fuzz_check(back && json_equal(back, j));
        json_decref(back);
        for (i = 0; visitor_types[i]; i++) {
            const char *name = NULL;
            const char *v = cc_chat_visitor_frame(p, visitor_types[i], j, 42, &name);

            if (v) {
                fuzz_check(name && !strpbrk(name, "\r\n") && !strpbrk(v, "\r\n"));
                back = json_loads(v, 0, NULL);
                fuzz_check(json_is_object(back));
                json_decref(back);
            }
        }
    }
    apr_pool_destroy(p);
    return 0;
}
