/**
 * @file test_cc_ami.c
 * @brief Unit tests: the AMI reader (bytes in any chunks, banner, limits, errors), the
 *        action builder (no header injection), and the channel-block values
 *        (shared/cc_ami.c).
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "cc_test.h"
#include "cc_ami.h"
#include "cc_validate.h"

/* ---- helpers: feed bytes, collect what the reader gives as text ---- */

/* A message as "key=value|key=value" (a line without ':' as "=value"). */
static const char *msg_text(apr_pool_t *p, const cc_ami_msg_t *m)
{
    apr_array_header_t *parts = apr_array_make(p, m->n, sizeof(const char *));

    for (int i = 0; i < m->n; i++) {
        ck_assert(m->keys[i] && m->values[i]);
        APR_ARRAY_PUSH(parts, const char *) = apr_pstrcat(p, m->keys[i], "=", m->values[i],
                                                          NULL);
    }
    return apr_array_pstrcat(p, parts, '|');
}

/* Every complete message (each as msg_text, then "\n") and an error ("ERR\n") appended
 * to out; the messages are copied into a pool destroyed before returning. */
static void drain(cc_ami_reader_t *rd, apr_array_header_t *out)
{
    apr_pool_t *p;

    apr_pool_create(&p, cc_test_pool);
    for (;;) {
        cc_ami_msg_t *m = (cc_ami_msg_t *)1;
        const char *err = cc_ami_reader_next(rd, p, &m);
        const char *t;

        if (err) {
            ck_assert(m == NULL);
            t = "ERR\n";
        }
        else if (!m) {
            break;
        }
        else {
            t = apr_pstrcat(p, msg_text(p, m), "\n", NULL);
        }
        for (; *t; t++) {
            *(char *)apr_array_push(out) = *t;
        }
        if (err) {
            break;
        }
    }
    apr_pool_destroy(p);
}

static const char *out_text(apr_array_header_t *out)
{
    return apr_pstrmemdup(cc_test_pool, out->elts, (apr_size_t)out->nelts);
}

static int ends_in_error(apr_array_header_t *out)
{
    return out->nelts >= 4 && !memcmp(out->elts + out->nelts - 4, "ERR\n", 4);
}

/* As a connection reads: len bytes of s in reads as large as the room, draining after
 * each into out (NULL: no draining); 0 once the reader reports an error (the connection
 * would be closed). */
static int feed_drain(cc_ami_reader_t *rd, const char *s, apr_size_t len,
                      apr_array_header_t *out)
{
    do {
        apr_size_t room, n;
        char *at = cc_ami_reader_space(rd, &room);

        ck_assert_msg(room > 0, "no room to read into");
        n = len < room ? len : room;
        memcpy(at, s, n);
        cc_ami_reader_wrote(rd, n);
        s += n;
        len -= n;
        if (out) {
            drain(rd, out);
            if (ends_in_error(out)) {
                return 0;
            }
        }
    } while (len > 0);
    return 1;
}

/* len bytes of s into the reader, nothing taken out. */
static void feed(cc_ami_reader_t *rd, const char *s, apr_size_t len)
{
    feed_drain(rd, s, len, NULL);
}

/* What a new reader gives for s cut at the cuts (n of them, ascending), draining after
 * every read. */
static const char *read_cut(const char *s, apr_size_t len, const apr_size_t *cuts, int n)
{
    apr_pool_t *p;
    apr_array_header_t *out = apr_array_make(cc_test_pool, 1024, 1);
    apr_size_t at = 0;

    apr_pool_create(&p, cc_test_pool);
    cc_ami_reader_t *rd = cc_ami_reader_make(p);
    for (int i = 0; i <= n; i++) {
        apr_size_t to = i < n ? cuts[i] : len;

        if (!feed_drain(rd, s + at, to - at, out)) {
            break;
        }
        at = to;
    }
    apr_pool_destroy(p);
    return out_text(out);
}

static const char *read_all(const char *s)
{
    return read_cut(s, strlen(s), NULL, 0);
}

/* s in reads of chunk bytes. */
static const char *read_chunks(const char *s, apr_size_t len, apr_size_t chunk)
{
    apr_array_header_t *cuts = apr_array_make(cc_test_pool, 64, sizeof(apr_size_t));

    for (apr_size_t at = chunk; at < len; at += chunk) {
        APR_ARRAY_PUSH(cuts, apr_size_t) = at;
    }
    return read_cut(s, len, (const apr_size_t *)cuts->elts, cuts->nelts);
}

/* ---- the reader: the wire format ---- */

/* A connection: banner, login, an event, blank lines, command output, bare LF. */
static const char stream[] =
    "Asterisk Call Manager/11.0.0\r\n"
    "Response: Success\r\n"
    "ActionID: 1\r\n"
    "Message: Authentication accepted\r\n"
    "\r\n"
    "Event: FullyBooted\r\n"
    "Privilege: system,all\r\n"
    "Status: Fully Booted\r\n"
    "\r\n"
    "\r\n"
    "\n"
    "Event: Newchannel\n"
    "Channel:PJSIP/acme-1001-0000002c\n"
    "CallerIDName: \t O\\'Brien\n"
    "AccountCode: \n"
    "Language:\r\n"
    "\n"
    "Response: Follows\r\n"
    "Privilege: Command\r\n"
    "Output line: with a colon\r\n"
    "--END COMMAND--\r\n"
    "\r\n"
    "Event: Hangup\r\n"
    "Cause-txt: Normal Clearing\r\n"
    "\r\n";

static const char stream_msgs[] =
    "Banner=Asterisk Call Manager/11.0.0\n"
    "Response=Success|ActionID=1|Message=Authentication accepted\n"
    "Event=FullyBooted|Privilege=system,all|Status=Fully Booted\n"
    "Event=Newchannel|Channel=PJSIP/acme-1001-0000002c|CallerIDName=O\\'Brien"
    "|AccountCode=|Language=\n"
    "Response=Follows|Privilege=Command|Output line=with a colon|=--END COMMAND--\n"
    "Event=Hangup|Cause-txt=Normal Clearing\n";

START_TEST(a_stream_reads_as_its_messages)
{
    ck_assert_str_eq(read_all(stream), stream_msgs);
}
END_TEST

START_TEST(every_split_point_gives_the_same_messages)
{
    apr_size_t len = strlen(stream);

    for (apr_size_t k = 0; k <= len; k++) {
        ck_assert_msg(!strcmp(read_cut(stream, len, &k, 1), stream_msgs), "cut at %zu", k);
    }
}
END_TEST

START_TEST(every_pair_of_split_points_gives_the_same_messages)
{
    apr_size_t len = strlen(stream);

    for (apr_size_t a = 1; a < len; a += 3) {
        for (apr_size_t b = a; b <= len; b++) {
            apr_size_t cuts[2] = { a, b };

            ck_assert_msg(!strcmp(read_cut(stream, len, cuts, 2), stream_msgs),
                          "cuts at %zu, %zu", a, b);
        }
    }
}
END_TEST

START_TEST(one_byte_at_a_time_gives_the_same_messages)
{
    for (apr_size_t chunk = 1; chunk <= 7; chunk++) {
        ck_assert_msg(!strcmp(read_chunks(stream, strlen(stream), chunk), stream_msgs),
                      "chunks of %zu", chunk);
    }
}
END_TEST

START_TEST(a_crlf_split_between_reads_ends_the_line_once)
{
    cc_ami_reader_t *rd = cc_ami_reader_make(cc_test_pool);
    apr_array_header_t *out = apr_array_make(cc_test_pool, 64, 1);

    feed(rd, "Event: A\r", 9);
    drain(rd, out);
    ck_assert_int_eq(out->nelts, 0);
    feed(rd, "\n\r", 2);
    drain(rd, out);
    ck_assert_int_eq(out->nelts, 0);
    feed(rd, "\nEvent: B\r\n\r", 12);
    drain(rd, out);
    ck_assert_str_eq(out_text(out), "Event=A\n");
    feed(rd, "\n", 1);
    drain(rd, out);
    ck_assert_str_eq(out_text(out), "Event=A\nEvent=B\n");
}
END_TEST

START_TEST(no_message_before_its_empty_line)
{
    cc_ami_reader_t *rd = cc_ami_reader_make(cc_test_pool);
    cc_ami_msg_t *m = (cc_ami_msg_t *)1;

    ck_assert_ptr_null(cc_ami_reader_next(rd, cc_test_pool, &m));   /* nothing yet */
    ck_assert_ptr_null(m);
    feed(rd, "Event: A\r\nX: 1\r\n", 16);
    ck_assert_ptr_null(cc_ami_reader_next(rd, cc_test_pool, &m));
    ck_assert_ptr_null(m);
    feed(rd, "\r\n", 2);
    ck_assert_ptr_null(cc_ami_reader_next(rd, cc_test_pool, &m));
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(m->n, 2);
    ck_assert_ptr_null(cc_ami_reader_next(rd, cc_test_pool, &m));
    ck_assert_ptr_null(m);
}
END_TEST

/* Lines of one message: how they split into key and value. */
static const struct {
    const char *in, *msgs;
} line_cases[] = {
    { "Key: value\r\n\r\n", "Key=value\n" },
    { "Key:value\r\n\r\n", "Key=value\n" },
    { "Key:  \t value \r\n\r\n", "Key=value \n" },            /* trailing blank kept */
    { "Key:\r\n\r\n", "Key=\n" },
    { "Key: \r\n\r\n", "Key=\n" },
    { "Message: a: b\r\n\r\n", "Message=a: b\n" },             /* the first ':' */
    { "--END COMMAND--\r\n\r\n", "=--END COMMAND--\n" },       /* no ':' */
    { ": x\r\n\r\n", "=x\n" },
    { " \r\n\r\n", "= \n" },                                   /* a blank is not empty */
    { "A: 1\rB: 2\r\n\r\n", "A=1\rB: 2\n" },                   /* a bare CR is data */
    { "A: 1\r\r\n\r\n", "A=1\r\n" },                           /* one CR goes with LF */
    { "A: 1\n\r\n", "A=1\n" },
    { "A: 1\r\n\n", "A=1\n" },
    { "\r\n\n\r\nA: 1\n\n\n\r\nB: 2\n\n", "A=1\nB=2\n" },      /* empty lines skipped */
    { "A: 1\r\n", "" },                                        /* not ended */
    { "A: \xff\xfe\x01\r\n\r\n", "A=\xff\xfe\x01\n" },         /* bytes as they are */
};

START_TEST(lines_split_into_key_and_value)
{
    ck_assert_msg(!strcmp(read_all(line_cases[_i].in), line_cases[_i].msgs), "case %d: [%s]",
                  _i, read_all(line_cases[_i].in));
}
END_TEST

/* ---- the reader: the banner ---- */

static const struct {
    const char *in, *msgs;
} banner_cases[] = {
    { "Asterisk Call Manager/13.0.0\r\nResponse: Success\r\n\r\n",
      "Banner=Asterisk Call Manager/13.0.0\nResponse=Success\n" },
    { "Asterisk Call Manager/13.0.0\n", "Banner=Asterisk Call Manager/13.0.0\n" },
    { "Asterisk Call Manager/13.0.0\r\n\r\nEvent: A\r\n\r\n",    /* an empty line after */
      "Banner=Asterisk Call Manager/13.0.0\nEvent=A\n" },
    { "\r\n\r\nAsterisk Call Manager/1\r\n", "Banner=Asterisk Call Manager/1\n" },
    { "Asterisk Call Manager/\r\n", "Banner=Asterisk Call Manager/\n" },
    /* no banner: the first line starts a message */
    { "Response: Success\r\nMessage: x\r\n\r\n", "Response=Success|Message=x\n" },
    { "Asterisk Call Manager\r\n\r\n", "=Asterisk Call Manager\n" },
    { "asterisk call manager/1\r\n\r\n", "=asterisk call manager/1\n" },
    { "Asterisk Call Manager/1\r\nAsterisk Call Manager/1\r\n\r\n",  /* only the first */
      "Banner=Asterisk Call Manager/1\n=Asterisk Call Manager/1\n" },
    { "Event: A\r\n\r\nAsterisk Call Manager/1\r\n\r\n",
      "Event=A\n=Asterisk Call Manager/1\n" },
};

START_TEST(the_first_line_is_a_banner_when_it_says_so)
{
    ck_assert_msg(!strcmp(read_all(banner_cases[_i].in), banner_cases[_i].msgs),
                  "case %d: [%s]", _i, read_all(banner_cases[_i].in));
}
END_TEST

START_TEST(reset_expects_a_banner_again)
{
    cc_ami_reader_t *rd = cc_ami_reader_make(cc_test_pool);
    apr_array_header_t *out = apr_array_make(cc_test_pool, 64, 1);
    static const char b[] = "Asterisk Call Manager/1\r\nEvent: A\r\n";

    feed(rd, b, sizeof(b) - 1);
    drain(rd, out);
    cc_ami_reader_reset(rd);           /* the half message is forgotten */
    feed(rd, b, sizeof(b) - 1);
    feed(rd, "\r\n", 2);
    drain(rd, out);
    ck_assert_str_eq(out_text(out), "Banner=Asterisk Call Manager/1\n"
                                    "Banner=Asterisk Call Manager/1\nEvent=A\n");
}
END_TEST

/* ---- the reader: limits and errors ---- */

/* "K: xx..." of len bytes (before its line end) in p. */
static char *line_of(apr_size_t len)
{
    char *s = apr_palloc(cc_test_pool, len + 1);

    memcpy(s, "K: ", 3);
    memset(s + 3, 'x', len - 3);
    s[len] = '\0';
    return s;
}

/* Stream of one message of exactly total bytes (its closing empty line included), lines
 * ended by CRLF (crlf) or LF. */
static const char *message_of(apr_size_t total, int crlf)
{
    apr_size_t eol = crlf ? 2 : 1, left = total - eol;
    const char *end = crlf ? "\r\n" : "\n";
    const char *s = "";

    while (left > 8000) {
        s = apr_pstrcat(cc_test_pool, s, line_of(4000 - eol), end, NULL);
        left -= 4000;
    }
    s = apr_pstrcat(cc_test_pool, s, line_of(left - eol), end, end, NULL);
    ck_assert_uint_eq(strlen(s), total);
    return s;
}

/* The times sub occurs in s. */
static int count(const char *s, const char *sub)
{
    int n = 0;

    for (; (s = strstr(s, sub)); s++) {
        n++;
    }
    return n;
}

static int is_error(const char *out)
{
    apr_size_t n = strlen(out);

    return n >= 4 && !strcmp(out + n - 4, "ERR\n");
}

START_TEST(a_line_of_line_max_bytes_is_read)
{
    for (int crlf = 0; crlf <= 1; crlf++) {
        const char *s = apr_pstrcat(cc_test_pool, "Event: A\r\n", line_of(CC_AMI_LINE_MAX),
                                    crlf ? "\r\n\r\n" : "\n\n", NULL);
        const char *out = read_all(s);

        ck_assert_msg(!strcmp(out, apr_pstrcat(cc_test_pool, "Event=A|K=",
                                               line_of(CC_AMI_LINE_MAX) + 3, "\n", NULL)),
                      "crlf %d", crlf);
        ck_assert_str_eq(read_chunks(s, strlen(s), 1), out);
    }
}
END_TEST

START_TEST(a_line_one_past_line_max_is_an_error)
{
    for (int crlf = 0; crlf <= 1; crlf++) {
        const char *s = apr_pstrcat(cc_test_pool, "Event: A\r\n\r\nEvent: B\r\n",
                                    line_of(CC_AMI_LINE_MAX + 1), crlf ? "\r\n\r\n" : "\n\n",
                                    NULL);

        ck_assert_str_eq(read_all(s), "Event=A\nERR\n");
        ck_assert_str_eq(read_chunks(s, strlen(s), 1), "Event=A\nERR\n");
        ck_assert_str_eq(read_chunks(s, strlen(s), 1000), "Event=A\nERR\n");
    }
    /* The banner, and a first line, too. */
    ck_assert_str_eq(read_all(apr_pstrcat(cc_test_pool, "Asterisk Call Manager/",
                                          line_of(CC_AMI_LINE_MAX - 21), "\r\n", NULL)),
                     "ERR\n");
}
END_TEST

START_TEST(a_long_line_is_an_error_before_its_end_arrives)
{
    cc_ami_reader_t *rd = cc_ami_reader_make(cc_test_pool);
    cc_ami_msg_t *m;
    const char *s = line_of(CC_AMI_LINE_MAX);

    feed(rd, s, CC_AMI_LINE_MAX);
    feed(rd, "\r", 1);                      /* may still be a CRLF */
    ck_assert_ptr_null(cc_ami_reader_next(rd, cc_test_pool, &m));
    feed(rd, "x", 1);
    ck_assert_ptr_nonnull(cc_ami_reader_next(rd, cc_test_pool, &m));

    cc_ami_reader_reset(rd);
    feed(rd, s, CC_AMI_LINE_MAX);
    ck_assert_ptr_null(cc_ami_reader_next(rd, cc_test_pool, &m));
    feed(rd, "y", 1);                       /* byte LINE_MAX, not a CR */
    ck_assert_ptr_nonnull(cc_ami_reader_next(rd, cc_test_pool, &m));
}
END_TEST

START_TEST(headers_max_lines_are_read_one_more_is_an_error)
{
    const char *s = "";

    for (int i = 0; i < CC_AMI_HEADERS_MAX; i++) {
        s = apr_pstrcat(cc_test_pool, s, i % 2 ? "K: v\r\n" : "K: v\n", NULL);
    }
    const char *ok = apr_pstrcat(cc_test_pool, s, "\r\n", NULL);
    const char *over = apr_pstrcat(cc_test_pool, s, "K: v\r\n\r\n", NULL);
    cc_ami_reader_t *rd = cc_ami_reader_make(cc_test_pool);
    cc_ami_msg_t *m = NULL;

    feed(rd, ok, strlen(ok));
    ck_assert_ptr_null(cc_ami_reader_next(rd, cc_test_pool, &m));
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(m->n, CC_AMI_HEADERS_MAX);
    ck_assert(is_error(read_all(over)));
    ck_assert_str_eq(read_all(over), "ERR\n");
    ck_assert_str_eq(read_chunks(over, strlen(over), 7), "ERR\n");
}
END_TEST

START_TEST(a_message_of_message_max_bytes_is_read_one_more_is_an_error)
{
    for (int crlf = 0; crlf <= 1; crlf++) {
        const char *ok = message_of(CC_AMI_MESSAGE_MAX, crlf);
        const char *over = message_of(CC_AMI_MESSAGE_MAX + 1, crlf);
        const char *both = apr_pstrcat(cc_test_pool, ok, "\r\n", ok, over, ok, NULL);
        const char *out = read_all(ok);

        /* One message of 16 lines: 15 of 4000 bytes and the rest. */
        ck_assert(!is_error(out));
        ck_assert_ptr_eq(strchr(out, '\n'), out + strlen(out) - 1);
        ck_assert_int_eq(count(out, "|K="), 15);
        ck_assert_str_eq(read_all(over), "ERR\n");
        ck_assert_str_eq(read_all(both), apr_pstrcat(cc_test_pool, out, out, "ERR\n", NULL));
        ck_assert_str_eq(read_chunks(both, strlen(both), 4093),
                         apr_pstrcat(cc_test_pool, out, out, "ERR\n", NULL));
    }
}
END_TEST

START_TEST(a_long_message_is_an_error_before_its_end_arrives)
{
    cc_ami_reader_t *rd = cc_ami_reader_make(cc_test_pool);
    const char *ok = message_of(CC_AMI_MESSAGE_MAX, 1);
    cc_ami_msg_t *m = NULL;
    apr_size_t room;

    /* Its lines (MESSAGE_MAX - 2 bytes) and two bytes of another line: MESSAGE_MAX
     * bytes and no end yet, which leave room to read into; a byte more is too many.
     * Once from the start of the buffer, once behind a message. */
    for (int behind = 0; behind <= 1; behind++) {
        cc_ami_reader_reset(rd);
        if (behind) {
            feed(rd, "Event: A\r\n\r\n", 12);
            ck_assert_ptr_null(cc_ami_reader_next(rd, cc_test_pool, &m));
            ck_assert_ptr_nonnull(m);
        }
        feed(rd, ok, CC_AMI_MESSAGE_MAX - 2);
        ck_assert_ptr_null(cc_ami_reader_next(rd, cc_test_pool, &m));
        feed(rd, "K", 1);
        ck_assert_ptr_null(cc_ami_reader_next(rd, cc_test_pool, &m));
        feed(rd, "K", 1);
        ck_assert_ptr_null(cc_ami_reader_next(rd, cc_test_pool, &m));
        ck_assert_ptr_null(m);
        cc_ami_reader_space(rd, &room);
        ck_assert_uint_gt(room, 0);
        feed(rd, "\r", 1);                  /* byte MESSAGE_MAX + 1 */
        ck_assert_ptr_nonnull(cc_ami_reader_next(rd, cc_test_pool, &m));
        ck_assert_ptr_null(m);
    }
}
END_TEST

START_TEST(a_nul_byte_is_an_error)
{
    static const char s[] = "Event: A\r\n\r\nEvent: B\0C\r\n\r\nEvent: D\r\n\r\n";

    ck_assert_str_eq(read_cut(s, sizeof(s) - 1, NULL, 0), "Event=A\nERR\n");
    ck_assert_str_eq(read_chunks(s, sizeof(s) - 1, 1), "Event=A\nERR\n");
    /* Between messages too. */
    ck_assert_str_eq(read_cut("\r\n\0", 3, NULL, 0), "ERR\n");
}
END_TEST

START_TEST(an_error_stays_until_reset)
{
    cc_ami_reader_t *rd = cc_ami_reader_make(cc_test_pool);
    cc_ami_msg_t *m = NULL;
    const char *err;
    apr_size_t room;

    feed(rd, "Event: A\0\r\n\r\n", 13);
    err = cc_ami_reader_next(rd, cc_test_pool, &m);
    ck_assert_ptr_nonnull(err);
    ck_assert(strstr(err, "NUL"));
    feed(rd, "Event: B\r\n\r\n", 12);
    ck_assert_ptr_eq(cc_ami_reader_next(rd, cc_test_pool, &m), err);
    ck_assert_ptr_null(m);
    cc_ami_reader_space(rd, &room);        /* nothing is kept once in error */
    ck_assert_uint_gt(room, CC_AMI_MESSAGE_MAX);

    cc_ami_reader_reset(rd);
    feed(rd, "Asterisk Call Manager/1\r\n", 25);
    ck_assert_ptr_null(cc_ami_reader_next(rd, cc_test_pool, &m));
    ck_assert_str_eq(cc_ami_get(m, "Banner"), "Asterisk Call Manager/1");
}
END_TEST

START_TEST(the_error_texts_name_the_limit)
{
    cc_ami_reader_t *rd = cc_ami_reader_make(cc_test_pool);
    cc_ami_msg_t *m;
    const char *over_line = apr_pstrcat(cc_test_pool, line_of(CC_AMI_LINE_MAX + 1), "\n",
                                        NULL);
    const char *over_msg = message_of(CC_AMI_MESSAGE_MAX + 1, 1);
    const char *over_n = "", *err;

    for (int i = 0; i <= CC_AMI_HEADERS_MAX; i++) {
        over_n = apr_pstrcat(cc_test_pool, over_n, "K: v\n", NULL);
    }
    feed(rd, over_line, strlen(over_line));
    err = cc_ami_reader_next(rd, cc_test_pool, &m);
    ck_assert(err && strstr(err, "a line longer than 8192 bytes"));
    cc_ami_reader_reset(rd);
    feed(rd, over_msg, strlen(over_msg));
    err = cc_ami_reader_next(rd, cc_test_pool, &m);
    ck_assert(err && strstr(err, "a message longer than 65536 bytes"));
    cc_ami_reader_reset(rd);
    feed(rd, over_n, strlen(over_n));
    err = cc_ami_reader_next(rd, cc_test_pool, &m);
    ck_assert(err && strstr(err, "a message of more than 512 lines"));
}
END_TEST

START_TEST(a_long_connection_reads_in_the_one_buffer)
{
    cc_ami_reader_t *rd = cc_ami_reader_make(cc_test_pool);
    apr_array_header_t *out = apr_array_make(cc_test_pool, 1 << 16, 1);
    const char *big = message_of(CC_AMI_MESSAGE_MAX, 1);
    const char *ev = "Event: Newstate\r\nChannel: PJSIP/acme-1001-0000002c\r\n"
                     "ChannelState: 5\r\n\r\n";
    const char *s = "Asterisk Call Manager/13.0.0\r\n";
    int big_n = 0, ev_n = 0;

    for (int i = 0; i < 40; i++) {
        s = apr_pstrcat(cc_test_pool, s, ev, i % 7 == 3 ? big : "", NULL);
    }
    /* Reads of odd sizes, each as large as the reader allows at most. */
    apr_size_t len = strlen(s), at = 0, step = 1;
    while (at < len) {
        apr_size_t room, n;
        char *to = cc_ami_reader_space(rd, &room);

        ck_assert_uint_gt(room, 0);
        n = step % 4093 + 1;
        n = n > room ? room : n;
        n = n > len - at ? len - at : n;
        memcpy(to, s + at, n);
        cc_ami_reader_wrote(rd, n);
        at += n;
        step = step * 31 + 7;
        drain(rd, out);
    }
    const char *got = out_text(out);
    ev_n = count(got, "\nEvent=Newstate|Channel=PJSIP/acme-1001-0000002c|ChannelState=5\n");
    big_n = count(got, "\nK=");
    ck_assert(!strncmp(got, "Banner=Asterisk Call Manager/13.0.0\n", 36));
    ck_assert_int_eq(ev_n, 40);
    ck_assert_int_eq(big_n, 6);
    ck_assert_str_eq(got, read_all(s));
    ck_assert(!is_error(got));
}
END_TEST

START_TEST(a_message_outlives_the_reader_buffer)
{
    cc_ami_reader_t *rd = cc_ami_reader_make(cc_test_pool);
    apr_pool_t *p;
    cc_ami_msg_t *m;

    apr_pool_create(&p, cc_test_pool);
    feed(rd, "Event: A\r\nX: 1\r\n\r\n", 18);
    ck_assert_ptr_null(cc_ami_reader_next(rd, p, &m));
    cc_ami_reader_reset(rd);
    feed(rd, "Event: B\r\nY: 22222222\r\n\r\n", 25);    /* over the same bytes */
    ck_assert_str_eq(cc_ami_get(m, "Event"), "A");
    ck_assert_str_eq(cc_ami_get(m, "X"), "1");
    apr_pool_destroy(p);
}
END_TEST

/* ---- messages ---- */

static cc_ami_msg_t *parse_one(const char *s)
{
    cc_ami_reader_t *rd = cc_ami_reader_make(cc_test_pool);
    cc_ami_msg_t *m = NULL;

    feed(rd, s, strlen(s));
    ck_assert_ptr_null(cc_ami_reader_next(rd, cc_test_pool, &m));
    ck_assert_ptr_nonnull(m);
    return m;
}

/* The answered-call example of asterisk-runtime.md §3.6, in part. */
static const char agent_connect[] =
    "Event: AgentConnect\r\n"
    "Privilege: agent,all\r\n"
    "Channel: PJSIP/trunk-0000002a\r\n"
    "CallerIDNum: 5551234567\r\n"
    "CallerIDName: ACME Corp\r\n"
    "Uniqueid: 1714558530.42\r\n"
    "Tenantid: acme\r\n"
    "DestChannel: PJSIP/1001-0000002c\r\n"
    "DestCallerIDName: <unknown>\r\n"
    "DestAccountCode:\r\n"
    "Queue: support\r\n"
    "Interface: PJSIP/1001\r\n"
    "Timestamp: 1714558550.104512\r\n"
    "Queue: other\r\n"
    "\r\n";

START_TEST(get_finds_the_first_header_of_a_name_without_case)
{
    cc_ami_msg_t *m = parse_one(agent_connect);

    ck_assert_str_eq(cc_ami_get(m, "Tenantid"), "acme");
    ck_assert_str_eq(cc_ami_get(m, "TenantID"), "acme");
    ck_assert_str_eq(cc_ami_get(m, "destchannel"), "PJSIP/1001-0000002c");
    ck_assert_str_eq(cc_ami_get(m, "DestAccountCode"), "");
    ck_assert_str_eq(cc_ami_get(m, "Queue"), "support");
    ck_assert_ptr_null(cc_ami_get(m, "Linkedid"));
    ck_assert_ptr_null(cc_ami_get(m, "Tenant"));
    ck_assert_ptr_null(cc_ami_get(m, ""));
    ck_assert_ptr_null(cc_ami_get(NULL, "Event"));
    ck_assert_ptr_null(cc_ami_get(m, NULL));
    ck_assert_str_eq(cc_ami_get(parse_one("out\r\n\r\n"), ""), "out");
}
END_TEST

START_TEST(is_event_compares_the_event_without_case)
{
    cc_ami_msg_t *m = parse_one(agent_connect);

    ck_assert(cc_ami_is_event(m, "AgentConnect"));
    ck_assert(cc_ami_is_event(m, "agentconnect"));
    ck_assert(!cc_ami_is_event(m, "AgentConnec"));
    ck_assert(!cc_ami_is_event(m, "AgentComplete"));
    ck_assert(!cc_ami_is_event(m, NULL));
    ck_assert(!cc_ami_is_event(NULL, "AgentConnect"));
    ck_assert(!cc_ami_is_event(parse_one("Response: Success\r\n\r\n"), "Success"));
    ck_assert(cc_ami_is_event(parse_one("EVENT: Hangup\r\n\r\n"), "Hangup"));
}
END_TEST

/* ---- cc_ami_text ---- */

static const struct {
    const char *in;
    apr_size_t max;
    const char *out;
} text_cases[] = {
    { NULL, 80, NULL },
    { "", 80, NULL },
    { "<unknown>", 80, NULL },
    { "<unknown> ", 80, "<unknown> " },
    { "Alice", 80, "Alice" },
    { "ACME Corp", 80, "ACME Corp" },
    /* ast_escape_c's escapes */
    { "O\\'Brien", 80, "O'Brien" },
    { "\\\"Bob\\\"", 80, "\"Bob\"" },
    { "a\\\\b", 80, "a\\b" },
    { "who\\?", 80, "who?" },
    { "a\\nb\\rc\\td", 80, "abcd" },                           /* controls dropped */
    { "\\a\\b\\f\\v.", 80, "." },
    { "\\x\\q\\0", 80, "xq0" },                                /* unknown: the character */
    { "end\\", 80, "end\\" },                                  /* a last lone backslash */
    { "\\\\n", 80, "\\n" },
    { "\\\xc3\xa9", 80, "\xc3\xa9" },                          /* \é */
    /* control characters */
    { "a\x01" "b\x1f" "c\x7f" "d\te", 80, "abcde" },
    { "\x01\x02", 80, "" },
    { "\xc2\x85", 80, "\xc2\x85" },                            /* C1 (NEL) stays */
    /* UTF-8 */
    { "Jos\xc3\xa9 M\xc3\xbcller", 80, "Jos\xc3\xa9 M\xc3\xbcller" },
    { "\xe5\xb1\xb1\xe7\x94\xb0", 80, "\xe5\xb1\xb1\xe7\x94\xb0" },
    { "\xf0\x9f\x93\x9e", 80, "\xf0\x9f\x93\x9e" },            /* U+1F4DE */
    { "a\xff" "b", 80, "a\xef\xbf\xbd" "b" },
    { "caf\xc3", 80, "caf\xef\xbf\xbd" },                      /* cut character */
    { "\xc3(", 80, "\xef\xbf\xbd(" },
    { "\xc0\xaf", 80, "\xef\xbf\xbd\xef\xbf\xbd" },            /* overlong '/' */
    { "\xed\xa0\x80", 80, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },  /* surrogate */
    { "\xf4\x90\x80\x80", 80,                                  /* above U+10FFFF */
      "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
    { "\xc3\x01\xa9", 80, "\xef\xbf\xbd\xef\xbf\xbd" },        /* a control inside */
    { "\xef\xbf\xbd", 80, "\xef\xbf\xbd" },
    /* at most max bytes, on a character boundary */
    { "Alice", 5, "Alice" },
    { "Alice", 4, "Alic" },
    { "Alice", 0, "" },
    { "Jos\xc3\xa9", 5, "Jos\xc3\xa9" },
    { "Jos\xc3\xa9", 4, "Jos" },
    { "a\xff", 3, "a" },
    { "a\xff", 4, "a\xef\xbf\xbd" },
    { "\\'\\'\\'", 2, "''" },                                  /* counted unescaped */
    { "a\x01\x01\x01" "bc", 3, "abc" },                        /* counted without controls */
};

START_TEST(text_is_the_value_as_the_api_shows_it)
{
    const char *got = cc_ami_text(cc_test_pool, text_cases[_i].in, text_cases[_i].max);

    cc_test_assert_str_or_null(got, text_cases[_i].out);
    if (got) {
        ck_assert(cc_valid_utf8(got, strlen(got)) && strlen(got) <= text_cases[_i].max);
    }
}
END_TEST

START_TEST(long_text_is_cut_and_stays_utf8)
{
    const char *s = "";

    for (int i = 0; i < 200; i++) {
        s = apr_pstrcat(cc_test_pool, s, "\xc3\xa9\xff\\n", NULL);
    }
    for (apr_size_t max = 0; max < 200; max++) {
        const char *got = cc_ami_text(cc_test_pool, s, max);

        ck_assert_uint_le(strlen(got), max);
        ck_assert_uint_ge(strlen(got) + 2, max);            /* no character left out */
        ck_assert(cc_valid_utf8(got, strlen(got)));
    }
}
END_TEST

/* ---- cc_ami_action ---- */

START_TEST(an_action_is_its_lines_and_an_empty_one)
{
    static const char *const keys[] = { "Channel", "Exten", "Context", "Priority", "Async" };
    static const char *const values[] = { "PJSIP/acme-1001", "5551234567", "tenant-acme",
                                          "1", "true" };
    apr_size_t len = 1;
    const char *s;

    s = cc_ami_action(cc_test_pool, "Originate", "cc-42", 5, keys, values, &len);
    ck_assert_str_eq(s, "Action: Originate\r\nActionID: cc-42\r\n"
                        "Channel: PJSIP/acme-1001\r\nExten: 5551234567\r\n"
                        "Context: tenant-acme\r\nPriority: 1\r\nAsync: true\r\n\r\n");
    ck_assert_uint_eq(len, strlen(s));
    s = cc_ami_action(cc_test_pool, "Ping", NULL, 0, NULL, NULL, &len);
    ck_assert_str_eq(s, "Action: Ping\r\n\r\n");
    ck_assert_uint_eq(len, strlen(s));
    s = cc_ami_action(cc_test_pool, "Hangup", "", 1, keys, values, NULL);
    ck_assert_str_eq(s, "Action: Hangup\r\nActionID: \r\nChannel: PJSIP/acme-1001\r\n\r\n");
    /* An empty value is sent (Asterisk reads it as none). */
    static const char *const empty[] = { "" };
    s = cc_ami_action(cc_test_pool, "Hangup", NULL, 1, keys, empty, &len);
    ck_assert_str_eq(s, "Action: Hangup\r\nChannel: \r\n\r\n");
}
END_TEST

/* What a caller may pass, and whether an action comes of it. */
static const struct {
    const char *name, *id, *key, *value;
} refused_cases[] = {
    { "Originate\r\nAction: Hangup", NULL, "Channel", "PJSIP/1" },
    { "Originate\n", NULL, "Channel", "PJSIP/1" },
    { "Orig\rinate", NULL, "Channel", "PJSIP/1" },
    { "", NULL, "Channel", "PJSIP/1" },
    { NULL, NULL, "Channel", "PJSIP/1" },
    { "Originate", "1\r\nAction: Hangup", "Channel", "PJSIP/1" },
    { "Originate", "1\n", "Channel", "PJSIP/1" },
    { "Originate", "\r", "Channel", "PJSIP/1" },
    { "Originate", "1", "Channel\r\nAction", "PJSIP/1" },
    { "Originate", "1", "Chan\nnel", "PJSIP/1" },
    { "Originate", "1", "Channel:", "PJSIP/1" },
    { "Originate", "1", "Action: Hangup", "x" },
    { "Originate", "1", ":", "x" },
    { "Originate", "1", "", "PJSIP/1" },
    { "Originate", "1", NULL, "PJSIP/1" },
    { "Originate", "1", "Channel", NULL },
    { "Originate", "1", "Channel", "PJSIP/1\r\nAction: Hangup\r\nChannel: PJSIP/2" },
    { "Originate", "1", "Channel", "PJSIP/1\r\n\r\nAction: Hangup" },
    { "Originate", "1", "CallerID", "\"Eve\" <1>\n" },
    { "Originate", "1", "CallerID", "\rEve" },
    { "Originate", "1", "Variable", "A=1\r" },
};

START_TEST(a_line_break_or_a_bad_key_refuses_the_action)
{
    const char *keys[] = { "Exten", refused_cases[_i].key };
    const char *values[] = { "1001", refused_cases[_i].value };
    apr_size_t len = 7;

    ck_assert_ptr_null(cc_ami_action(cc_test_pool, refused_cases[_i].name,
                                     refused_cases[_i].id, 2, keys, values, &len));
    ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(bad_counts_and_arrays_refuse_the_action)
{
    static const char *const keys[] = { "A" };
    static const char *const values[] = { "1" };

    ck_assert_ptr_null(cc_ami_action(cc_test_pool, "Ping", NULL, -1, keys, values, NULL));
    ck_assert_ptr_null(cc_ami_action(cc_test_pool, "Ping", NULL, 1, NULL, values, NULL));
    ck_assert_ptr_null(cc_ami_action(cc_test_pool, "Ping", NULL, 1, keys, NULL, NULL));
    ck_assert_ptr_nonnull(cc_ami_action(cc_test_pool, "Ping", NULL, 0, NULL, NULL, NULL));
}
END_TEST

START_TEST(an_action_reads_back_as_what_was_given)
{
    /* Anything but CR and LF in values, ':' among them: one header each. */
    static const char *const keys[] = { "Channel", "CallerID", "Variable", "Variable",
                                        "Data", "X-Odd Key" };
    static const char *const values[] = { "PJSIP/acme-1001", "\"A: B\" <1001>",
                                          "CC_TENANT=acme", "A=1\\,2", "x:y: z\t",
                                          "\xc3\xa9\x01" };
    apr_size_t len;
    const char *s = cc_ami_action(cc_test_pool, "Originate", "cc:7", 6, keys, values, &len);

    ck_assert_uint_eq(len, strlen(s));
    ck_assert_str_eq(read_cut(s, len, NULL, 0),
                     "Action=Originate|ActionID=cc:7|Channel=PJSIP/acme-1001"
                     "|CallerID=\"A: B\" <1001>|Variable=CC_TENANT=acme|Variable=A=1\\,2"
                     "|Data=x:y: z\t|X-Odd Key=\xc3\xa9\x01\n");
}
END_TEST

/* ---- cc_ami_channel_parts ---- */

static const struct {
    const char *name;
    int is_interface, ok;
    const char *tech, *resource;
} parts_cases[] = {
    { "PJSIP/acme-1001-0000002c", 0, 1, "PJSIP", "acme-1001" },
    { "PJSIP/trunk-0000002a", 0, 1, "PJSIP", "trunk" },
    { "PJSIP/acme-1001-0000002C", 0, 1, "PJSIP", "acme-1001" },
    { "PJSIP/acme-1001-2c", 0, 1, "PJSIP", "acme-1001" },
    { "PJSIP/acme-1001-100000000", 0, 1, "PJSIP", "acme-1001-100000000" },  /* 9 digits */
    { "PJSIP/acme-1001-0000002g", 0, 1, "PJSIP", "acme-1001-0000002g" },
    { "PJSIP/acme-1001-", 0, 1, "PJSIP", "acme-1001-" },
    { "PJSIP/acme", 0, 1, "PJSIP", "acme" },
    { "PJSIP/-0000002c", 0, 0, NULL, NULL },
    { "PJSIP/acme-1001", 1, 1, "PJSIP", "acme-1001" },
    { "PJSIP/acme-1001-0000002c", 1, 1, "PJSIP", "acme-1001-0000002c" },
    { "Local/1001@tenant-acme-00000001;2", 0, 1, "Local", "1001@tenant-acme" },
    { "Local/1001@tenant-acme-00000001;1", 0, 1, "Local", "1001@tenant-acme" },
    { "local/1001@ctx-0000abcd;2", 0, 1, "local", "1001@ctx" },
    { "Local/1001@tenant-acme", 1, 1, "Local", "1001@tenant-acme" },
    { "Local/1001@tenant-acme/n", 1, 1, "Local", "1001@tenant-acme/n" },
    { "PJSIP/acme-1001-0000002c;2", 0, 1, "PJSIP", "acme-1001-0000002c;2" },   /* not Local */
    { "Local/1001@ctx-00000001;", 0, 1, "Local", "1001@ctx-00000001;" },
    { "IAX2/peer/5551234-00000003", 0, 1, "IAX2", "peer/5551234" },
    { "PJSIP", 0, 0, NULL, NULL },
    { "/acme-1001", 0, 0, NULL, NULL },
    { "PJSIP/", 0, 0, NULL, NULL },
    { "PJSIP/", 1, 0, NULL, NULL },
    { "", 0, 0, NULL, NULL },
    { NULL, 0, 0, NULL, NULL },
};

START_TEST(channel_parts_are_tech_and_resource)
{
    const char *tech = "x", *res = "x";
    int ok = cc_ami_channel_parts(cc_test_pool, parts_cases[_i].name, &tech, &res,
                                  parts_cases[_i].is_interface);

    ck_assert_msg(ok == parts_cases[_i].ok, "case %d", _i);
    cc_test_assert_str_or_null(tech, parts_cases[_i].tech);
    cc_test_assert_str_or_null(res, parts_cases[_i].resource);
}
END_TEST

/* ---- cc_ami_timestamp ---- */

static const struct {
    const char *value;
    apr_time_t t;
} ts_cases[] = {
    { "1714558530.104512", APR_INT64_C(1714558530104512) },
    { "1714558530.000001", APR_INT64_C(1714558530000001) },
    { "1714558530", APR_INT64_C(1714558530000000) },
    { "1714558530.5", APR_INT64_C(1714558530500000) },
    { "0.000000", 0 },
    { "9223372036854.775807", APR_INT64_MAX },
    { "9223372036854.775808", 0 },                             /* overflow */
    { "9223372036855", 0 },
    { "99999999999999999999999.0", 0 },
    { "1714558530.1045121", 0 },                               /* 7 digits */
    { "1714558530.", 0 },
    { ".104512", 0 },
    { "-1714558530.104512", 0 },
    { "+1714558530.104512", 0 },
    { "1714558530.-1", 0 },
    { "1714558530.104512 ", 0 },
    { " 1714558530", 0 },
    { "17145x8530.1", 0 },
    { "1714558530,104512", 0 },
    { "1714558530.104512.1", 0 },
    { "abc", 0 },
    { "", 0 },
    { NULL, 0 },
};

START_TEST(timestamp_is_the_header_in_microseconds)
{
    cc_ami_msg_t m;
    const char *keys[] = { "Event", "timestamp" };
    const char *values[] = { "Hangup", ts_cases[_i].value };

    m.n = ts_cases[_i].value ? 2 : 1;
    m.keys = keys;
    m.values = values;
    ck_assert_msg(cc_ami_timestamp(&m) == ts_cases[_i].t, "case %d: %" APR_INT64_T_FMT, _i,
                  (apr_int64_t)cc_ami_timestamp(&m));
}
END_TEST

START_TEST(timestamp_of_a_read_event)
{
    ck_assert(cc_ami_timestamp(parse_one(agent_connect)) == APR_INT64_C(1714558550104512));
    ck_assert(cc_ami_timestamp(parse_one("Timestamp:   1.25\r\n\r\n")) == 1250000);
    ck_assert(cc_ami_timestamp(NULL) == 0);
}
END_TEST

CC_TEST_SUITE("cc_ami",
    CC_TCASE("reader"),
        CC_TEST(a_stream_reads_as_its_messages),
        CC_TEST(every_split_point_gives_the_same_messages),
        CC_TEST(every_pair_of_split_points_gives_the_same_messages),
        CC_TEST(one_byte_at_a_time_gives_the_same_messages),
        CC_TEST(a_crlf_split_between_reads_ends_the_line_once),
        CC_TEST(no_message_before_its_empty_line),
        CC_LOOP_TEST(lines_split_into_key_and_value, N(line_cases)),
        CC_LOOP_TEST(the_first_line_is_a_banner_when_it_says_so, N(banner_cases)),
        CC_TEST(reset_expects_a_banner_again),
        CC_TEST(a_long_connection_reads_in_the_one_buffer),
        CC_TEST(a_message_outlives_the_reader_buffer),
    CC_TCASE("limits"),
        CC_TEST(a_line_of_line_max_bytes_is_read),
        CC_TEST(a_line_one_past_line_max_is_an_error),
        CC_TEST(a_long_line_is_an_error_before_its_end_arrives),
        CC_TEST(headers_max_lines_are_read_one_more_is_an_error),
        CC_TEST(a_message_of_message_max_bytes_is_read_one_more_is_an_error),
        CC_TEST(a_long_message_is_an_error_before_its_end_arrives),
        CC_TEST(a_nul_byte_is_an_error),
        CC_TEST(an_error_stays_until_reset),
        CC_TEST(the_error_texts_name_the_limit),
    CC_TCASE("messages"),
        CC_TEST(get_finds_the_first_header_of_a_name_without_case),
        CC_TEST(is_event_compares_the_event_without_case),
        CC_LOOP_TEST(timestamp_is_the_header_in_microseconds, N(ts_cases)),
        CC_TEST(timestamp_of_a_read_event),
    CC_TCASE("text"),
        CC_LOOP_TEST(text_is_the_value_as_the_api_shows_it, N(text_cases)),
        CC_TEST(long_text_is_cut_and_stays_utf8),
    CC_TCASE("action"),
        CC_TEST(an_action_is_its_lines_and_an_empty_one),
        CC_LOOP_TEST(a_line_break_or_a_bad_key_refuses_the_action, N(refused_cases)),
        CC_TEST(bad_counts_and_arrays_refuse_the_action),
        CC_TEST(an_action_reads_back_as_what_was_given),
    CC_TCASE("channel"),
        CC_LOOP_TEST(channel_parts_are_tech_and_resource, N(parts_cases)))
