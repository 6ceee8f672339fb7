/* Bytes from an Asterisk Manager connection into the AMI reader (shared/cc_ami.c), read
 * twice: in reads as large as the reader allows and in small reads of sizes the input
 * picks; both must give the same messages and the same error.  Every message's values
 * then go through cc_ami_text, cc_ami_channel_parts and cc_ami_timestamp, and its
 * headers through cc_ami_action, whose bytes must read back as the same headers.
 *
 * The first byte picks the small reads (bits 0-6) and, with bit 7, expands "\xff" H L
 * into H * 256 + L more copies of the byte before it, so that short inputs reach the
 * line, header and message limits. */
#include <string.h>
#include <strings.h>
#include "fuzz_common.h"
#include "cc_ami.h"
#include "cc_validate.h"

/* Past each limit, and not much more: the small reads of a long input are most of the
 * time a run takes. */
#define EXPANDED_MAX (CC_AMI_MESSAGE_MAX + CC_AMI_LINE_MAX + 64)

typedef struct {
    apr_uint64_t hash;      /* FNV-1a over every message's headers */
    int messages;
    const char *error;
} outcome_t;

static void hash_bytes(apr_uint64_t *h, const char *s, apr_size_t n)
{
    for (apr_size_t i = 0; i < n; i++) {
        *h = (*h ^ (unsigned char)s[i]) * APR_UINT64_C(1099511628211);
    }
}

/* The invariants of a message the reader gives, and the value functions on it. */
static void check_message(apr_pool_t *p, const cc_ami_msg_t *m)
{
    apr_size_t total = 0;

    fuzz_check(m->n >= 1 && m->n <= CC_AMI_HEADERS_MAX);
    for (int i = 0; i < m->n; i++) {
        const char *k = m->keys[i], *v = m->values[i], *t, *tech, *res;
        apr_size_t kl, vl;

        fuzz_check(k && v);
        kl = strlen(k);
        vl = strlen(v);
        fuzz_check(kl + vl <= CC_AMI_LINE_MAX && !memchr(k, ':', kl));
        fuzz_check(!memchr(k, '\n', kl) && !memchr(v, '\n', vl));
        fuzz_check(!kl || (*v != ' ' && *v != '\t'));    /* blanks after ':' */
        total += kl + vl;
        fuzz_check(cc_ami_get(m, k) != NULL);

        t = cc_ami_text(p, v, 80);
        fuzz_check((t == NULL) == (!*v || !strcmp(v, "<unknown>")));
        if (t) {
            fuzz_check(strlen(t) <= 80 && cc_valid_utf8(t, strlen(t)));
            for (const char *c = t; *c; c++) {
                fuzz_check((unsigned char)*c >= 0x20 && *c != 0x7f);
            }
        }
        for (int is_interface = 0; is_interface <= 1; is_interface++) {
            if (cc_ami_channel_parts(p, v, &tech, &res, is_interface)) {
                apr_size_t tl = strlen(tech);

                fuzz_check(tl > 0 && *res && !strchr(tech, '/'));
                fuzz_check(!strncmp(v, tech, tl) && v[tl] == '/'
                           && !strncmp(v + tl + 1, res, strlen(res)));
            }
            else {
                fuzz_check(!tech && !res);
            }
        }
    }
    fuzz_check(total <= CC_AMI_MESSAGE_MAX);
    fuzz_check(cc_ami_timestamp(m) >= 0);
    fuzz_check(cc_ami_is_event(m, "Hangup") == (cc_ami_get(m, "event")
                                                && !strcasecmp(cc_ami_get(m, "event"), "hangup")));
}

/* The message's headers as an action: refused only for an empty key or a CR (the reader
 * gives no LF, no ':' in keys); else it reads back as the same headers. */
static void check_action(apr_pool_t *p, cc_ami_reader_t *rd, const cc_ami_msg_t *m)
{
    apr_size_t len, i;
    int refuse = 0, fits = m->n + 2 <= CC_AMI_HEADERS_MAX;
    const char *s = NULL;
    cc_ami_msg_t *back = NULL;

    for (int k = 0; k < m->n; k++) {
        refuse |= !*m->keys[k] || strchr(m->keys[k], '\r') || strchr(m->values[k], '\r');
        fits &= strlen(m->keys[k]) + 2 + strlen(m->values[k]) <= CC_AMI_LINE_MAX;
    }
    s = cc_ami_action(p, "Fuzz", "7", m->n, m->keys, m->values, &len);
    fuzz_check((s == NULL) == refuse);
    if (!s || !fits || len > CC_AMI_MESSAGE_MAX) {
        return;
    }
    fuzz_check(len == strlen(s));
    cc_ami_reader_reset(rd);
    for (i = 0; i < len;) {
        apr_size_t room, n;
        char *at = cc_ami_reader_space(rd, &room);

        fuzz_check(room > 0);
        n = len - i < room ? len - i : room;
        memcpy(at, s + i, n);
        cc_ami_reader_wrote(rd, n);
        i += n;
    }
    fuzz_check(cc_ami_reader_next(rd, p, &back) == NULL && back);
    fuzz_check(back->n == m->n + 2);
    fuzz_check(!strcmp(back->keys[0], "Action") && !strcmp(back->values[0], "Fuzz"));
    fuzz_check(!strcmp(back->keys[1], "ActionID") && !strcmp(back->values[1], "7"));
    for (int k = 0; k < m->n; k++) {
        fuzz_check(!strcmp(back->keys[k + 2], m->keys[k]));
        fuzz_check(!strcmp(back->values[k + 2], m->values[k]));
    }
    fuzz_check(cc_ami_reader_next(rd, p, &back) == NULL && !back);
}

/* Read s through a new reader: in reads of at most chunk(state) bytes (0: as large as
 * the room), draining after each; the messages checked when check. */
static outcome_t read_stream(apr_pool_t *p, const char *s, apr_size_t len,
                             unsigned seed, int check)
{
    outcome_t o = { APR_UINT64_C(14695981039346656037), 0, NULL };
    cc_ami_reader_t *rd = cc_ami_reader_make(p), *back = cc_ami_reader_make(p);
    apr_uint32_t x = seed * 2654435761u + 1;
    apr_size_t at = 0;
    apr_pool_t *mp;             /* the messages, one at a time */

    apr_pool_create(&mp, p);
    while (at < len && !o.error) {
        apr_size_t room, n;
        char *to = cc_ami_reader_space(rd, &room);

        fuzz_check(room > 0);
        n = len - at < room ? len - at : room;
        if (seed) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            /* Reads of 1 byte, up to 16, up to 4096; up to 64 at the least for
             * expanded inputs (their cuts fall anywhere all the same). */
            apr_size_t most = (seed & 3) == 0 ? 1 : (seed & 3) == 1 ? 16 : 4096;

            most = len > 16384 && most < 64 ? 64 : most;
            n = n < x % most + 1 ? n : x % most + 1;
        }
        memcpy(to, s + at, n);
        cc_ami_reader_wrote(rd, n);
        at += n;
        for (;;) {
            cc_ami_msg_t *m = NULL;

            o.error = cc_ami_reader_next(rd, mp, &m);
            fuzz_check(!(o.error && m));
            if (m) {
                o.messages++;
                for (int i = 0; i < m->n; i++) {
                    hash_bytes(&o.hash, m->keys[i], strlen(m->keys[i]) + 1);
                    hash_bytes(&o.hash, m->values[i], strlen(m->values[i]) + 1);
                }
                hash_bytes(&o.hash, "\n", 1);
                if (check) {
                    check_message(mp, m);
                    check_action(mp, back, m);
                }
            }
            apr_pool_clear(mp);
            if (!m) {
                break;
            }
        }
    }
    if (o.error) {              /* it stays */
        cc_ami_msg_t *m = NULL;

        fuzz_check(cc_ami_reader_next(rd, p, &m) == o.error && !m);
    }
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *s;
    char *buf;
    apr_size_t len = 0;
    unsigned flags;
    outcome_t whole, cut;

    if (size < 1) {
        return 0;
    }
    p = fuzz_pool();
    flags = data[0];
    data++;
    size--;
    if (flags & 0x80) {
        buf = apr_palloc(p, EXPANDED_MAX);
        for (size_t i = 0; i < size && len < EXPANDED_MAX; i++) {
            if (data[i] == 0xff && i + 2 < size && len > 0) {
                apr_size_t k = (apr_size_t)data[i + 1] * 256 + data[i + 2];

                k = k < EXPANDED_MAX - len ? k : EXPANDED_MAX - len;
                memset(buf + len, buf[len - 1], k);
                len += k;
                i += 2;
            }
            else {
                buf[len++] = (char)data[i];
            }
        }
        s = buf;
    }
    else {
        s = (const char *)data;
        len = size;
    }

    whole = read_stream(p, s, len, 0, 1);
    cut = read_stream(p, s, len, (flags & 0x7f) + 1, 0);
    fuzz_check(whole.messages == cut.messages && whole.hash == cut.hash
               && whole.error == cut.error);

    /* The input as one value, and as a name, key and value of an action. */
    {
        char *v = apr_pstrmemdup(p, s, len < 4096 ? len : 4096);
        apr_size_t max = flags & 0x3f;
        const char *t = cc_ami_text(p, v, max), *a;
        char *k = strchr(v, '|'), *val = NULL;

        if (t) {
            fuzz_check(strlen(t) <= max && cc_valid_utf8(t, strlen(t)));
        }
        if (k) {
            *k++ = '\0';
            val = strchr(k, '|');
            if (val) {
                *val++ = '\0';
            }
        }
        if (k && val) {
            apr_size_t alen;

            a = cc_ami_action(p, v, NULL, 1, (const char *const *)&k,
                              (const char *const *)&val, &alen);
            fuzz_check((a == NULL) == (!*v || strpbrk(v, "\r\n") || !*k || strpbrk(k, "\r\n:")
                              || strpbrk(val, "\r\n")));
            /* One message: the CRLF that ends it is its only empty line. */
            fuzz_check(!a || strstr(a, "\r\n\r\n") == a + alen - 4);
        }
    }
    apr_pool_destroy(p);
    return 0;
}
