/*
 * cc_ami.c (core): the AMI reader, the actions we send and the values of a channel
 * block (cc_ami.h).
 */
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "cc_ami.h"
#include "cc_validate.h"

/* Room to read into beyond the longest message: a read never has less when the reader
 * has been drained (cc_ami_reader_space). */
#define AMI_READ_ROOM   16384

#define AMI_BANNER      "Asterisk Call Manager/"

static const char err_line[] = "AMI protocol error: a line longer than 8192 bytes";
static const char err_headers[] = "AMI protocol error: a message of more than 512 lines";
static const char err_message[] = "AMI protocol error: a message longer than 65536 bytes";
static const char err_nul[] = "AMI protocol error: a NUL byte";

_Static_assert(CC_AMI_LINE_MAX == 8192 && CC_AMI_HEADERS_MAX == 512
               && CC_AMI_MESSAGE_MAX == 65536, "the error texts name the limits");
_Static_assert(CC_AMI_LINE_MAX + 2 < CC_AMI_MESSAGE_MAX, "a line fits in a message");

/* ---- the reader ---- */

/*
 * buf[start, end) is what has not been handed out yet: the message being read (its
 * first line at start, the line being read at line) or, between messages, the start of
 * the next line.  Bytes before scan have been checked and their lines counted, so a
 * call goes on where the last one stopped.  Every check is made at the byte that breaks
 * the limit, so the same bytes give the same messages and error however they arrive.
 */
struct cc_ami_reader_t {
    char *buf;
    apr_size_t cap;
    apr_size_t start, line, scan, end;
    int lines;          /* complete lines of the message being read */
    int banner;         /* 1: the first line of the connection is still to come */
    const char *error;  /* set once; cleared by cc_ami_reader_reset */
};

cc_ami_reader_t *cc_ami_reader_make(apr_pool_t *p)
{
    cc_ami_reader_t *rd = apr_pcalloc(p, sizeof(*rd));

    rd->cap = CC_AMI_MESSAGE_MAX + AMI_READ_ROOM;
    rd->buf = apr_palloc(p, rd->cap);
    cc_ami_reader_reset(rd);
    return rd;
}

void cc_ami_reader_reset(cc_ami_reader_t *rd)
{
    rd->start = rd->line = rd->scan = rd->end = 0;
    rd->lines = 0;
    rd->banner = 1;
    rd->error = NULL;
}

char *cc_ami_reader_space(cc_ami_reader_t *rd, apr_size_t *plen)
{
    /* Move the unread part to the front when the room behind it runs short: at most
     * one message is moved, once per AMI_READ_ROOM bytes read at the worst. */
    if (rd->start > 0 && rd->cap - rd->end < AMI_READ_ROOM) {
        memmove(rd->buf, rd->buf + rd->start, rd->end - rd->start);
        rd->line -= rd->start;
        rd->scan -= rd->start;
        rd->end -= rd->start;
        rd->start = 0;
    }
    *plen = rd->cap - rd->end;
    return rd->buf + rd->end;
}

void cc_ami_reader_wrote(cc_ami_reader_t *rd, apr_size_t n)
{
    if (rd->error) {
        return;                 /* the connection is to be closed: nothing is read */
    }
    rd->end += n < rd->cap - rd->end ? n : rd->cap - rd->end;
}

static const char *reader_fail(cc_ami_reader_t *rd, const char *error)
{
    rd->error = error;
    rd->start = rd->line = rd->scan = rd->end = 0;
    return error;
}

/* "key: value" (or a line without ':') at s, len bytes, NUL-terminated, into m's i-th
 * header; s is the message's copy, so the key is cut in place. */
static void header_set(cc_ami_msg_t *m, int i, char *s, apr_size_t len)
{
    char *colon = memchr(s, ':', len);
    char *v;

    if (!colon) {
        m->keys[i] = "";
        m->values[i] = s;
        return;
    }
    *colon = '\0';
    for (v = colon + 1; *v == ' ' || *v == '\t'; v++) {
    }
    m->keys[i] = s;
    m->values[i] = v;
}

/* The n lines of buf[from, to) (each ended by LF, maybe CRLF) as a message in p. */
static cc_ami_msg_t *message_copy(apr_pool_t *p, const char *buf, apr_size_t from,
                                  apr_size_t to, int n)
{
    cc_ami_msg_t *m = apr_palloc(p, sizeof(*m));
    char *s = apr_pstrmemdup(p, buf + from, to - from);
    int i;

    m->n = n;
    m->keys = apr_palloc(p, sizeof(*m->keys) * (apr_size_t)n);
    m->values = apr_palloc(p, sizeof(*m->values) * (apr_size_t)n);
    for (i = 0; i < n; i++) {
        char *lf = strchr(s, '\n');     /* n lines: there is one */
        apr_size_t len = (apr_size_t)(lf - s);

        if (len > 0 && s[len - 1] == '\r') {
            len--;
        }
        s[len] = '\0';
        header_set(m, i, s, len);
        s = lf + 1;
    }
    return m;
}

const char *cc_ami_reader_next(cc_ami_reader_t *rd, apr_pool_t *p, cc_ami_msg_t **pmsg)
{
    *pmsg = NULL;
    if (rd->error) {
        return rd->error;
    }
    while (rd->scan < rd->end) {
        apr_size_t i = rd->scan, lim = rd->end, off, len;
        char c;

        /* Up to the first byte that may break a limit (the line's byte LINE_MAX, the
         * message's byte MESSAGE_MAX) a line's end and a NUL are all there is to find;
         * that byte and the ones after it go one at a time below. */
        if (lim > rd->line + CC_AMI_LINE_MAX) {
            lim = rd->line + CC_AMI_LINE_MAX;
        }
        if (lim > rd->start + CC_AMI_MESSAGE_MAX) {
            lim = rd->start + CC_AMI_MESSAGE_MAX;
        }
        if (i < lim) {
            const char *lf = memchr(rd->buf + i, '\n', lim - i);
            apr_size_t stop = lf ? (apr_size_t)(lf - rd->buf) : lim;

            if (memchr(rd->buf + i, '\0', stop - i)) {
                return reader_fail(rd, err_nul);
            }
            if (!lf) {
                rd->scan = lim;
                continue;
            }
            i = stop;
        }
        rd->scan = i + 1;
        off = i - rd->line;
        c = rd->buf[i];
        if (c == '\0') {
            return reader_fail(rd, err_nul);
        }
        if (c != '\n') {
            /* Byte LINE_MAX of a line may only be the CR before the LF. */
            if (off > CC_AMI_LINE_MAX || (off == CC_AMI_LINE_MAX && c != '\r')) {
                return reader_fail(rd, err_line);
            }
            if (i - rd->start >= CC_AMI_MESSAGE_MAX) {
                return reader_fail(rd, err_message);
            }
            continue;
        }
        /* A line: buf[line, line + len) (at most CC_AMI_LINE_MAX, checked above), its
         * end through i. */
        len = off > 0 && rd->buf[i - 1] == '\r' ? off - 1 : off;
        if (i - rd->start >= CC_AMI_MESSAGE_MAX) {
            return reader_fail(rd, err_message);
        }
        if (len == 0 && rd->lines == 0) {   /* between messages */
            rd->start = rd->line = rd->scan;
            continue;
        }
        if (len == 0) {                     /* the end of a message */
            *pmsg = message_copy(p, rd->buf, rd->start, rd->line, rd->lines);
            rd->start = rd->line = rd->scan;
            rd->lines = 0;
            return NULL;
        }
        if (rd->banner) {            /* the first line that is not empty */
            rd->banner = 0;
            if (len >= sizeof(AMI_BANNER) - 1
                && !memcmp(rd->buf + rd->line, AMI_BANNER, sizeof(AMI_BANNER) - 1)) {
                cc_ami_msg_t *m = apr_palloc(p, sizeof(*m));

                m->n = 1;
                m->keys = apr_palloc(p, sizeof(*m->keys));
                m->values = apr_palloc(p, sizeof(*m->values));
                m->keys[0] = "Banner";
                m->values[0] = apr_pstrmemdup(p, rd->buf + rd->line, len);
                *pmsg = m;
                rd->start = rd->line = rd->scan;
                return NULL;
            }
        }
        if (++rd->lines > CC_AMI_HEADERS_MAX) {
            return reader_fail(rd, err_headers);
        }
        rd->line = rd->scan;
    }
    return NULL;
}

/* ---- messages ---- */

const char *cc_ami_get(const cc_ami_msg_t *m, const char *key)
{
    int i;

    if (!m || !key) {
        return NULL;
    }
    for (i = 0; i < m->n; i++) {
        if (!strcasecmp(m->keys[i], key)) {
            return m->values[i];
        }
    }
    return NULL;
}

int cc_ami_is_event(const cc_ami_msg_t *m, const char *name)
{
    const char *v = cc_ami_get(m, "Event");

    return v && name && !strcasecmp(v, name);
}

/* ---- values ---- */

/* The byte ast_escape_c wrote "\c" for; any other c stands for itself. */
static char unescape_char(char c)
{
    switch (c) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'a': return '\a';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'v': return '\v';
    default: return c;          /* \\ \" \' \? and unknown escapes */
    }
}

static const char replacement[] = "\xef\xbf\xbd";    /* U+FFFD */

const char *cc_ami_text(apr_pool_t *p, const char *value, apr_size_t max)
{
    apr_size_t n = 0, i = 0, len, out = 0;
    char *raw, *text;

    if (!value || !*value || !strcmp(value, "<unknown>")) {
        return NULL;
    }
    /* Unescaped (never longer), then each byte at most 3 (U+FFFD), cut at max. */
    len = strlen(value);
    raw = apr_palloc(p, len + 1);
    for (i = 0; i < len; i++) {
        if (value[i] == '\\' && i + 1 < len) {
            raw[n++] = unescape_char(value[++i]);
        }
        else {
            raw[n++] = value[i];    /* a last lone backslash stays */
        }
    }
    text = apr_palloc(p, (n < max ? n : max) * 3 + 4);
    for (i = 0; i < n;) {
        unsigned char c = (unsigned char)raw[i];
        apr_size_t k = 1;

        if (c < 0x20 || c == 0x7f) {
            i++;
            continue;
        }
        /* The shortest valid sequence at i: a character, else one stray byte. */
        while (k <= 4 && i + k <= n && !cc_valid_utf8(raw + i, k)) {
            k++;
        }
        if (k > 4 || i + k > n) {
            if (out + 3 > max) {
                break;
            }
            memcpy(text + out, replacement, 3);
            out += 3;
            i++;
            continue;
        }
        if (out + k > max) {
            break;
        }
        memcpy(text + out, raw + i, k);
        out += k;
        i += k;
    }
    text[out] = '\0';
    return text;
}

/* 1 when s holds no CR or LF (nor NUL: it ends there). */
static int one_line(const char *s)
{
    return s && !strpbrk(s, "\r\n");
}

const char *cc_ami_action(apr_pool_t *p, const char *name, const char *id, int n,
                          const char *const *keys, const char *const *values,
                          apr_size_t *plen)
{
    apr_size_t len, off;
    char *s;
    int i;

    if (plen) {
        *plen = 0;
    }
    if (!one_line(name) || !*name || (id && !one_line(id)) || n < 0
        || (n > 0 && (!keys || !values))) {
        return NULL;
    }
    len = sizeof("Action: \r\n") - 1 + strlen(name) + 2;
    if (id) {
        len += sizeof("ActionID: \r\n") - 1 + strlen(id);
    }
    for (i = 0; i < n; i++) {
        if (!one_line(keys[i]) || !*keys[i] || strchr(keys[i], ':') || !one_line(values[i])) {
            return NULL;
        }
        len += strlen(keys[i]) + 2 + strlen(values[i]) + 2;
    }
    s = apr_palloc(p, len + 1);
    off = (apr_size_t)sprintf(s, "Action: %s\r\n", name);
    if (id) {
        off += (apr_size_t)sprintf(s + off, "ActionID: %s\r\n", id);
    }
    for (i = 0; i < n; i++) {
        off += (apr_size_t)sprintf(s + off, "%s: %s\r\n", keys[i], values[i]);
    }
    memcpy(s + off, "\r\n", 3);
    if (plen) {
        *plen = off + 2;
    }
    return s;
}

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_HEX(c)   (IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))

/* The length of s[0, len) without a last "<sep><1..max of the digits>". */
static apr_size_t drop_suffix(const char *s, apr_size_t len, char sep, int hex, apr_size_t max)
{
    apr_size_t k = 0;

    while (k < len && k <= max
           && (hex ? IS_HEX(s[len - 1 - k]) : IS_DIGIT(s[len - 1 - k]))) {
        k++;
    }
    if (k >= 1 && k <= max && k < len && s[len - 1 - k] == sep) {
        return len - 1 - k;
    }
    return len;
}

int cc_ami_channel_parts(apr_pool_t *p, const char *name, const char **ptech,
                         const char **presource, int is_interface)
{
    const char *slash = name ? strchr(name, '/') : NULL;
    const char *res;
    apr_size_t tlen, rlen;

    *ptech = *presource = NULL;
    if (!slash || slash == name) {
        return 0;
    }
    tlen = (apr_size_t)(slash - name);
    res = slash + 1;
    rlen = strlen(res);
    if (!is_interface) {
        /* Local/<exten>@<context>-<hex>;<1|2>: the ";n" first, then the sequence. */
        if (tlen == 5 && !strncasecmp(name, "Local", 5)) {
            rlen = drop_suffix(res, rlen, ';', 0, 20);
        }
        rlen = drop_suffix(res, rlen, '-', 1, 8);
    }
    if (rlen == 0) {
        return 0;
    }
    *ptech = apr_pstrmemdup(p, name, tlen);
    *presource = apr_pstrmemdup(p, res, rlen);
    return 1;
}

apr_time_t cc_ami_timestamp(const cc_ami_msg_t *m)
{
    const char *s = cc_ami_get(m, "Timestamp");
    apr_int64_t sec = 0, usec = 0, scale = 100000;
    const apr_int64_t sec_max = APR_INT64_MAX / APR_USEC_PER_SEC;

    if (!s || !IS_DIGIT(*s)) {
        return 0;
    }
    for (; IS_DIGIT(*s); s++) {
        if (sec > (sec_max - (*s - '0')) / 10) {
            return 0;
        }
        sec = sec * 10 + (*s - '0');
    }
    if (*s == '.') {
        s++;
        if (!IS_DIGIT(*s)) {
            return 0;
        }
        for (; IS_DIGIT(*s); s++) {
            if (!scale) {
                return 0;       /* more than 6 digits: not what Asterisk writes */
            }
            usec += (*s - '0') * scale;
            scale /= 10;
        }
    }
    if (*s || sec > (APR_INT64_MAX - usec) / APR_USEC_PER_SEC) {
        return 0;
    }
    return (apr_time_t)(sec * APR_USEC_PER_SEC + usec);
}
