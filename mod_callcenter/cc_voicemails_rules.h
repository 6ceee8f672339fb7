/**
 * @file cc_voicemails_rules.h
 * @brief (core) The pure part of /api/v1/voicemails: what an ingest or a PATCH body may
 *        say, where a message sits in app_voicemail's spool (<mailbox>/<folder>/
 *        msgNNNN.txt beneath the tenant's directory), and reading a msgNNNN.txt.  No
 *        httpd and no database: unit-tested (t/unit/test_cc_voicemails_rules.c);
 *        mod_callcenter/cc_voicemails.c is its glue.
 */
#ifndef CC_VOICEMAILS_RULES_H
#define CC_VOICEMAILS_RULES_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>
#include "cc_error.h"
#include "cc_files.h"

#define CC_KEY_VM_PATH   "path"
#define CC_KEY_VM_FORMAT "format"
#define CC_KEY_VM_READ   "read"
#define CC_KEY_VM_FOLDER "folder"

/* voicemail.mailbox is VARCHAR(80); msg_id is "<epoch>-<8 hex digits>". */
#define CC_VM_MAILBOX_MAX  80
#define CC_VM_MSG_ID_MAX   40
/* voicemails.caller_id VARCHAR(255): callerid is `"Name" <number>` (80 + 80 at most). */
#define CC_VM_CALLER_MAX   255
/* A msgNNNN.txt is about 400 bytes; anything past this is not one. */
#define CC_VM_META_MAX     8192
/* Seconds (app_voicemail's maxsecs is an int; a day is more than any box allows). */
#define CC_VM_DURATION_MAX 86400

/** The folders the API keeps messages in (app_voicemail's names). */
extern const char *const vm_folders[];

/** What an ingest body says (both fields required). */
typedef struct vm_input_t {
    const char *path;            /**< <mailbox>/<folder>/msgNNNN.txt */
    const char *format;          /**< the audio file's format (cc_audio_formats) */
    apr_array_header_t *parts;   /**< path's components (cc_files_path_split) */
    const char *mailbox;         /**< parts[0] */
    const char *folder;          /**< parts[1], one of vm_folders */
    const char *audio_path;      /**< the audio file beside the .txt (cc_vm_audio_path) */
    apr_array_header_t *audio_parts;
} vm_input_t;

/** Read and check an ingest body (fields present, of the right types): every problem. */
cc_error_t *cc_vm_input_read(apr_pool_t *p, json_t *body, vm_input_t *in);

/**
 * The audio file of a message's .txt path in format: "2001/INBOX/msg0003.txt" and wav49
 * give "2001/INBOX/msg0003.WAV" (app_voicemail writes wav49 as .WAV), wav ".wav", gsm
 * ".gsm"; NULL when txt_path does not end in ".txt" or the format is unknown.
 */
const char *cc_vm_audio_path(apr_pool_t *p, const char *txt_path, const char *format);

/** What a PATCH body says. */
typedef struct vm_patch_t {
    int has_read;
    int read;
    const char *folder;          /**< NULL when absent */
} vm_patch_t;

/** Read and check a PATCH body (types already checked): every problem. */
cc_error_t *cc_vm_patch_read(apr_pool_t *p, json_t *body, vm_patch_t *out);

/** What a msgNNNN.txt says that the API keeps. */
typedef struct vm_meta_t {
    const char *msg_id;
    const char *caller_id;       /**< NULL for "Unknown" or none */
    apr_int64_t origtime;        /**< epoch seconds (origtime, else origdate: UTC) */
    apr_int64_t duration;        /**< seconds */
} vm_meta_t;

/**
 * Read a msgNNNN.txt (buf, len bytes; at most CC_VM_META_MAX): the [message] section's
 * key=value lines (';' comments, surrounding blanks ignored, the first of a repeated
 * key counts).  Needs msg_id (1 to 40 of [A-Za-z0-9-]), duration (0..86400) and the
 * time: origtime (epoch seconds), else origdate as app_voicemail writes it, always in
 * UTC ("Wed May  1 10:17:40 AM UTC 2024").  callerid is kept as written (UTF-8, no
 * control characters, at most 255 characters), "Unknown" as none.  flag (Urgent) is not
 * read: app_voicemail files an urgent message in Urgent/, which the path names.  NULL
 * when it reads, else the issue.
 */
const char *cc_vm_meta_parse(apr_pool_t *p, const char *buf, apr_size_t len, vm_meta_t *m);

/**
 * app_voicemail's origdate ("%a %b %e %r UTC %Y": "Wed May  1 10:17:40 AM UTC 2024") as
 * epoch seconds; 0 when it is not one or lies before the epoch (the weekday is not
 * checked against the date).
 */
int cc_vm_parse_origdate(const char *s, apr_int64_t *psecs);

#endif
