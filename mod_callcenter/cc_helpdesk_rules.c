/*
 * cc_helpdesk_rules.c (core): the pure part of contacts and the helpdesk
 * (cc_helpdesk_rules.h).
 */
#include <string.h>

#include <apr_strings.h>

#include "cc_helpdesk_rules.h"
#include "cc_validate.h"

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_UPPER(c) ((c) >= 'A' && (c) <= 'Z')
#define IS_ALPHA(c) (IS_UPPER(c) || ((c) >= 'a' && (c) <= 'z'))
#define IS_ALNUM(c) (IS_ALPHA(c) || IS_DIGIT(c))
#define IS_HEX(c)   (IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))

/* ---- contacts ---- */

const char *cc_phone_normalise(apr_pool_t *p, const char *s)
{
    char *out, *o;

    if (!s) {
        return NULL;
    }
    out = o = apr_palloc(p, strlen(s) + 1);
    for (; *s; s++) {
        if (!strchr(" -.()", *s)) {
            *o++ = *s;
        }
    }
    *o = '\0';
    if (out[0] == '0' && out[1] == '0') {
        out[1] = '+';
        out++;
    }
    return cc_valid_e164(out) ? out : NULL;
}

/* A custom field's key: 1..CC_CUSTOM_KEY_MAX of [A-Za-z0-9_.-], a letter first. */
static int custom_key_ok(const char *k, size_t len)
{
    size_t i;

    if (len < 1 || len > CC_CUSTOM_KEY_MAX || !IS_ALPHA(k[0])) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        /* A NUL inside (jansson keeps a key's length) is refused, not taken for the end. */
        if (!IS_ALNUM(k[i]) && (!k[i] || !strchr("_.-", k[i]))) {
            return 0;
        }
    }
    return 1;
}

/* The first issue in v at nesting depth (v itself is at depth), counting keys in *keys. */
static const char *custom_value_issue(json_t *v, int depth, int *keys)
{
    const char *issue = NULL, *k;
    size_t klen, i;
    json_t *e;

    if (json_is_string(v)) {
        if (!cc_valid_utf8(json_string_value(v), json_string_length(v))
            || memchr(json_string_value(v), '\0', json_string_length(v))) {
            return "custom_fields strings must be valid UTF-8 without NUL characters";
        }
        return NULL;
    }
    if (!json_is_object(v) && !json_is_array(v)) {
        return NULL;
    }
    if (depth > CC_CUSTOM_FIELDS_DEPTH) {
        return "custom_fields must nest no deeper than 3 levels (objects and arrays both "
               "count)";
    }
    if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            if ((issue = custom_value_issue(e, depth + 1, keys))) {
                return issue;
            }
        }
        return NULL;
    }
    json_object_keylen_foreach(v, k, klen, e) {
        if (++*keys > CC_CUSTOM_FIELDS_KEYS) {
            return "custom_fields must have at most 100 keys in all";
        }
        if (!custom_key_ok(k, klen)) {
            return "custom_fields keys must be 1 to 64 of A-Z, a-z, 0-9, '_', '.' and '-', "
                   "a letter first";
        }
        if ((issue = custom_value_issue(e, depth + 1, keys))) {
            return issue;
        }
    }
    return NULL;
}

/* json_dump_callback's sink: counts bytes, stops past the limit. */
static int count_bytes(const char *buffer, size_t size, void *data)
{
    size_t *n = data;

    (void)buffer;
    *n += size;
    return *n > CC_CUSTOM_FIELDS_BYTES ? -1 : 0;
}

const char *cc_custom_fields_issue(const json_t *obj)
{
    const char *issue;
    size_t bytes = 0;
    int keys = 0;

    if (!json_is_object(obj)) {
        return "custom_fields must be an object";
    }
    /* jansson's iteration takes no const; nothing here changes obj. */
    if ((issue = custom_value_issue((json_t *)obj, 1, &keys))) {
        return issue;
    }
    if (json_dump_callback(obj, count_bytes, &bytes, JSON_COMPACT) != 0
        || bytes > CC_CUSTOM_FIELDS_BYTES) {
        return "custom_fields must be at most 8192 bytes of compact JSON";
    }
    return NULL;
}

/* ---- tags ---- */

int cc_tag_name_ok(const char *name)
{
    size_t n;

    if (!name || !cc_valid_name(name, 1, CC_TAG_NAME_MAX) || strchr(name, ',')) {
        return 0;
    }
    n = strlen(name);
    return name[0] != ' ' && name[n - 1] != ' ';
}

int cc_tag_color_ok(const char *s)
{
    int i;

    if (!s || s[0] != '#') {
        return 0;
    }
    for (i = 1; i <= 6; i++) {
        if (!IS_HEX(s[i])) {
            return 0;
        }
    }
    return s[7] == '\0';
}

/* ---- ticket templates ---- */

const char *const cc_template_placeholders[] = {
    "ticket.id", "ticket.number", "ticket.subject", "ticket.status", "ticket.priority",
    "ticket.channel", "contact.name", "contact.email", "contact.phone", "contact.company",
    "agent.name", "agent.email", NULL
};

/* One placeholder of a body: bytes [open, end) are "{{" name "}}", the name (spaces
 * trimmed) is [name, name + name_len). */
typedef struct {
    size_t open, end, name, name_len;
} placeholder_t;

/*
 * The next placeholder at or after byte from: 1 and *ph, 0 when there is none, -1 when
 * the "{{" at ph->open has no "}}" before the next "{{" or the end.  In a run of '{' the
 * placeholder opens at the last two ("{{{x}}}" is '{', {{x}}, '}').
 */
static int next_placeholder(const char *body, size_t from, placeholder_t *ph)
{
    const char *o = strstr(body + from, "{{"), *c, *close;

    if (!o) {
        return 0;
    }
    while (o[2] == '{') {
        o++;
    }
    ph->open = (size_t)(o - body);
    close = strstr(o + 2, "}}");
    c = strstr(o + 2, "{{");
    if (!close || (c && c < close)) {
        return -1;
    }
    for (c = o + 2; *c == ' '; c++) {
    }
    ph->name = (size_t)(c - body);
    for (c = close; c > body + ph->name && c[-1] == ' '; c--) {
    }
    ph->name_len = (size_t)(c - body) - ph->name;
    ph->end = (size_t)(close + 2 - body);
    return 1;
}

/* n bytes of s may be quoted in an issue: at most 64, valid UTF-8, one line (not
 * cc_valid_name: the lint reads its limits as a field's, and this is no field). */
static int echoable(const char *s, size_t n)
{
    size_t i;

    if (n < 1 || n > 64 || !cc_valid_utf8(s, n)) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (cc_control_len(s + i)) {     /* s is NUL-terminated: it never reads past */
            return 0;
        }
    }
    return 1;
}

/* The known placeholder named by n bytes of s, or NULL. */
static const char *known_placeholder(const char *s, size_t n)
{
    const char *const *k;

    for (k = cc_template_placeholders; *k; k++) {
        if (strlen(*k) == n && !memcmp(*k, s, n)) {
            return *k;
        }
    }
    return NULL;
}

const char *cc_template_issue(apr_pool_t *p, const char *body)
{
    placeholder_t ph;
    size_t from = 0;
    int r;

    if (!body) {
        return NULL;
    }
    while ((r = next_placeholder(body, from, &ph)) != 0) {
        if (r < 0) {
            return apr_psprintf(p, "unterminated placeholder at byte %" APR_SIZE_T_FMT,
                                ph.open);
        }
        if (!known_placeholder(body + ph.name, ph.name_len)) {
            if (echoable(body + ph.name, ph.name_len)) {
                return apr_psprintf(p, "unknown placeholder {{%s}}",
                                    apr_pstrmemdup(p, body + ph.name, ph.name_len));
            }
            return apr_psprintf(p, "unknown placeholder at byte %" APR_SIZE_T_FMT,
                                ph.open);
        }
        from = ph.end;
    }
    return NULL;
}

const char *cc_template_render(apr_pool_t *p, const char *body, apr_table_t *values)
{
    apr_array_header_t *parts;
    placeholder_t ph;
    size_t from = 0;

    if (!body) {
        return NULL;
    }
    parts = apr_array_make(p, 16, sizeof(const char *));
    while (next_placeholder(body, from, &ph) == 1) {
        const char *name = known_placeholder(body + ph.name, ph.name_len);
        const char *v = name && values ? apr_table_get(values, name) : NULL;

        APR_ARRAY_PUSH(parts, const char *) = apr_pstrmemdup(p, body + from, ph.open - from);
        /* An unknown one (the body did not pass cc_template_issue) stays as it is. */
        APR_ARRAY_PUSH(parts, const char *) =
            name ? (v ? v : "") : apr_pstrmemdup(p, body + ph.open, ph.end - ph.open);
        from = ph.end;
    }
    APR_ARRAY_PUSH(parts, const char *) = body + from;
    return apr_array_pstrcat(p, parts, '\0');
}

/* ---- attachments ---- */

/* The bytes of the character at s (valid UTF-8) a stored filename leaves out: a control
 * character (cc_control_len), '"', or a bidirectional formatting character (U+200E,
 * U+200F, U+202A..U+202E, U+2066..U+2069: "evil\u202Etxt.exe" shows as "evilexe.txt");
 * 0 for one it keeps. */
static size_t filename_drop_len(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t ctl = cc_control_len(s);

    if (ctl) {
        return ctl;
    }
    if (*u == '"') {
        return 1;
    }
    if (u[0] == 0xE2 && u[1] == 0x80 && (u[2] == 0x8E || u[2] == 0x8F
                                         || (u[2] >= 0xAA && u[2] <= 0xAE))) {
        return 3;
    }
    if (u[0] == 0xE2 && u[1] == 0x81 && u[2] >= 0xA6 && u[2] <= 0xA9) {
        return 3;
    }
    return 0;
}

#define CC_FILENAME_EXT_MAX 16   /* the extension kept by a cut: '.' and what follows */

const char *cc_attachment_filename(apr_pool_t *p, const char *raw, const char **pissue)
{
    const char *base, *c, *dot;
    char *out, *o;
    size_t n, len, ext;

    if (!raw || !cc_valid_utf8(raw, strlen(raw))) {
        *pissue = "filename must be valid UTF-8";
        return NULL;
    }
    base = raw;
    for (c = raw; *c; c++) {
        if (*c == '/' || *c == '\\') {
            base = c + 1;
        }
    }
    out = o = apr_palloc(p, strlen(base) + 1);
    for (c = base; *c;) {
        if ((n = filename_drop_len(c)) > 0) {
            c += n;
            continue;
        }
        *o++ = *c++;
    }
    *o = '\0';
    while (*out == '.' || *out == ' ') {
        out++;
    }
    for (len = strlen(out); len > 0 && (out[len - 1] == '.' || out[len - 1] == ' ');) {
        out[--len] = '\0';
    }
    if (len == 0) {
        *pissue = "filename must name a file (not only dots, spaces or control characters)";
        return NULL;
    }
    if (len > CC_FILENAME_MAX) {
        dot = strrchr(out, '.');
        ext = dot ? len - (size_t)(dot - out) : 0;
        if (ext > CC_FILENAME_EXT_MAX) {
            ext = 0;
        }
        n = cc_utf8_cut_len(out, len - ext, CC_FILENAME_MAX - ext);
        memmove(out + n, out + len - ext, ext + 1);
        len = n + ext;
        while (len > 0 && (out[len - 1] == '.' || out[len - 1] == ' ')) {
            out[--len] = '\0';
        }
    }
    return out;
}

/* RFC 6838 restricted-name: 1..127 of ALPHA DIGIT "!#$&-^_.+", a letter or digit first;
 * its length at s, 0 when there is none. */
static size_t restricted_name_len(const char *s)
{
    size_t n;

    if (!IS_ALNUM(s[0])) {
        return 0;
    }
    for (n = 1; s[n] && (IS_ALNUM(s[n]) || strchr("!#$&-^_.+", s[n])); n++) {
    }
    return n <= 127 ? n : 0;
}

const char *cc_media_type(apr_pool_t *p, const char *content_type)
{
    const char *s = content_type, *end;
    size_t t, st;
    char *out, *o;

    if (!s) {
        return NULL;
    }
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    if (!(t = restricted_name_len(s)) || s[t] != '/' || !(st = restricted_name_len(s + t + 1))) {
        return NULL;
    }
    for (end = s + t + 1 + st; *end == ' ' || *end == '\t'; end++) {
    }
    if (*end != '\0' && *end != ';') {
        return NULL;
    }
    out = apr_pstrmemdup(p, s, t + 1 + st);
    for (o = out; *o; o++) {
        if (IS_UPPER(*o)) {
            *o = (char)(*o - 'A' + 'a');
        }
    }
    return out;
}

const char *cc_content_disposition(apr_pool_t *p, const char *filename)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *u;
    char *ascii, *pct, *a, *q;
    size_t len;
    int utf8;

    if (!filename || !*filename) {
        return "attachment";
    }
    len = strlen(filename);
    utf8 = cc_valid_utf8(filename, len);
    a = ascii = apr_palloc(p, 2 * len + 1);
    q = pct = apr_palloc(p, 3 * len + 1);
    for (u = (const unsigned char *)filename; *u; u++) {
        if (*u >= 0x20 && *u < 0x7F) {
            if (*u == '"' || *u == '\\') {
                *a++ = '\\';
            }
            *a++ = (char)*u;
        }
        else if (!utf8 || (*u & 0xC0) != 0x80) {
            *a++ = '?';         /* one per character (per byte when not valid UTF-8) */
        }
        /* RFC 5987 attr-char, the rest percent-encoded. */
        if (IS_ALNUM(*u) || (*u && strchr("!#$&+-.^_`|~", *u))) {
            *q++ = (char)*u;
        }
        else {
            *q++ = '%';
            *q++ = hex[*u >> 4];
            *q++ = hex[*u & 0x0F];
        }
    }
    *a = '\0';
    *q = '\0';
    if (!utf8) {
        return apr_pstrcat(p, "attachment; filename=\"", ascii, "\"", NULL);
    }
    return apr_pstrcat(p, "attachment; filename=\"", ascii, "\"; filename*=UTF-8''", pct,
                       NULL);
}
