/**
 * @file cc_ami.h
 * @brief (core) Asterisk Manager Interface (AMI) messages: an incremental reader of the
 *        stream Asterisk sends, the actions we send, and the values of its channel
 *        blocks.  No httpd, no sockets, no database: unit-tested (t/unit/test_cc_ami.c)
 *        and fuzzed (t/fuzz/fuzz_ami.c).
 *
 * Wire format (Asterisk main/manager.c; ../shared/reference/asterisk-runtime.md §3): on
 * connect one line "Asterisk Call Manager/<version>" CRLF, then messages of "Key: Value"
 * lines, each message ended by an empty line.  Lines end in CRLF; a bare LF is accepted
 * too.  Keys compare without case; the blanks after the colon are not part of the
 * value.  A line without a colon inside a message (command output) is kept with the key
 * "" and the whole line as its value.
 */
#ifndef CC_AMI_H
#define CC_AMI_H

#include <apr_pools.h>
#include <apr_time.h>

#define CC_AMI_LINE_MAX     8192    /**< bytes of one line, CRLF excluded */
#define CC_AMI_HEADERS_MAX  512     /**< lines of one message */
#define CC_AMI_MESSAGE_MAX  65536   /**< bytes of one message, line ends and the closing
                                         empty line included */

/** One message: its lines in order.  A banner is a message of one header, key
 * "Banner", value the whole line ("Asterisk Call Manager/11.0.0"). */
typedef struct cc_ami_msg_t {
    int n;
    const char **keys;      /**< n keys, NUL-terminated ("" for a line without ':') */
    const char **values;    /**< n values, NUL-terminated, never NULL */
} cc_ami_msg_t;

typedef struct cc_ami_reader_t cc_ami_reader_t;

/** A reader for one connection (a new connection: a new reader, or cc_ami_reader_reset),
 * its buffer (CC_AMI_MESSAGE_MAX + room to read into) allocated once in p. */
cc_ami_reader_t *cc_ami_reader_make(apr_pool_t *p);

/** Forget everything buffered and expect a banner again. */
void cc_ami_reader_reset(cc_ami_reader_t *rd);

/**
 * Where the next bytes from the socket go: *plen set to the room left (> 0 unless the
 * buffered part of a message already fills CC_AMI_MESSAGE_MAX, which cc_ami_reader_next
 * reports as an error first).  After reading n bytes there, call cc_ami_reader_wrote.
 */
char *cc_ami_reader_space(cc_ami_reader_t *rd, apr_size_t *plen);
void cc_ami_reader_wrote(cc_ami_reader_t *rd, apr_size_t n);

/**
 * The next complete message, copied into p (*pmsg NULL when none is complete yet).
 * The first line of a connection (empty lines before it skipped) is the banner when it
 * starts with "Asterisk Call Manager/" (a message of its own, no empty line follows it);
 * any other first line is read as the first line of a message.  Empty lines between
 * messages are skipped.  The same bytes give the same messages and error however they
 * are split between reads.
 * Returns NULL, or a static text naming the protocol error (a line over
 * CC_AMI_LINE_MAX, a message over CC_AMI_HEADERS_MAX lines or CC_AMI_MESSAGE_MAX bytes,
 * a NUL byte): the connection is then to be closed (the reader stays in error until
 * reset).
 */
const char *cc_ami_reader_next(cc_ami_reader_t *rd, apr_pool_t *p, cc_ami_msg_t **pmsg);

/** The value of the first header named key (case-insensitive), NULL when none. */
const char *cc_ami_get(const cc_ami_msg_t *m, const char *key);

/** 1 when the message is the event named (case-insensitive "Event:" value). */
int cc_ami_is_event(const cc_ami_msg_t *m, const char *name);

/**
 * A text value of a channel block as our API shows it: NULL for NULL, "" and AMI's
 * "<unknown>"; C escapes (ast_escape_c: \\n \\r \\t \\\\ \\" \\' \\a \\b \\f \\v \\?)
 * undone; control characters dropped; bytes that are not UTF-8 each replaced by U+FFFD;
 * at most max bytes (cut on a character boundary).  In p.
 */
const char *cc_ami_text(apr_pool_t *p, const char *value, apr_size_t max);

/**
 * An action as the bytes to send: "Action: <name>" CRLF, "ActionID: <id>" CRLF when id is
 * not NULL, then each of the n key/value pairs as "key: value" CRLF, then CRLF.  NULL
 * when any name, id, key or value holds CR, LF or NUL, or a key is empty or holds ':'
 * (nothing from outside can add a header or end the message early).  *plen its length.
 */
const char *cc_ami_action(apr_pool_t *p, const char *name, const char *id, int n,
                          const char *const *keys, const char *const *values,
                          apr_size_t *plen);

/**
 * A channel's technology and resource: "PJSIP/acme-1001-0000002c" -> "PJSIP",
 * "acme-1001" (the driver's "-<hex sequence>" suffix dropped); an interface (no suffix)
 * "PJSIP/acme-1001" -> "PJSIP", "acme-1001".  Returns 0 with *ptech and *presource NULL
 * when name has no '/' or an empty part.  Local channels ("Local/1001@ctx-00000001;2")
 * give "Local" and "1001@ctx" (suffix and ";n" dropped).  In p.
 */
int cc_ami_channel_parts(apr_pool_t *p, const char *name, const char **ptech,
                         const char **presource, int is_interface);

/**
 * An event's time from its "Timestamp: <sec>.<usec>" header (manager.conf
 * timestampevents=yes); 0 when it has none or it is malformed.
 */
apr_time_t cc_ami_timestamp(const cc_ami_msg_t *m);

#endif
