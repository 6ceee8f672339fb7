/*
 * cc_voicemails_rules.c (core): the pure part of /api/v1/voicemails
 * (cc_voicemails_rules.h).
 *
 * app_voicemail's spool (file storage): <context>/<mailbox>/<folder>/msgNNNN.<ext>, one
 * audio file per configured format and one msgNNNN.txt written last (so a .txt means
 * the audio is in place).  The tenant's directory stands for its voicemail context, so
 * a message is <mailbox>/<folder>/msgNNNN.txt beneath it.  Numbers change when messages
 * move (listening moves to Old, deletes renumber): a message is known by its msg_id.
 */
#include <stdio.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "cc_voicemails_rules.h"
#include "cc_json.h"
#include "cc_validate.h"

const char *const vm_folders[] = { "INBOX", "Old", "Urgent", NULL };

/* cc_audio_formats' file extensions, in its order: wav49 is app_voicemail's .WAV. */
static const char *const vm_exts[] = { "wav", "WAV", "gsm", "mp3", "ogg", NULL };

#define VM_TXT_NAME_LEN 11   /* msgNNNN.txt */

static int is_message_name(const char *s)
{
    return strlen(s) == VM_TXT_NAME_LEN && !strncmp(s, "msg", 3)
           && apr_isdigit(s[3]) && apr_isdigit(s[4]) && apr_isdigit(s[5])
           && apr_isdigit(s[6]) && !strcmp(s + 7, ".txt");
}

const char *cc_vm_audio_path(apr_pool_t *p, const char *txt_path, const char *format)
{
    apr_size_t len = txt_path ? strlen(txt_path) : 0;
    int i;

    if (len < 4 || strcmp(txt_path + len - 4, ".txt")) {
        return NULL;
    }
    for (i = 0; format && cc_audio_formats[i]; i++) {
        if (!strcmp(format, cc_audio_formats[i])) {
            return apr_pstrcat(p, apr_pstrmemdup(p, txt_path, len - 3), vm_exts[i], NULL);
        }
    }
    return NULL;
}

/* The spool's shape of a split path: NULL, or the issue. */
static const char *spool_issue(const apr_array_header_t *parts)
{
    const char *mailbox, *folder;

    if (parts->nelts != 3) {
        return "must be <mailbox>/<folder>/msgNNNN.txt";
    }
    mailbox = APR_ARRAY_IDX(parts, 0, const char *);
    folder = APR_ARRAY_IDX(parts, 1, const char *);
    if (!cc_valid_name(mailbox, 1, CC_VM_MAILBOX_MAX)) {
        return "must name a mailbox of 1 to 80 characters";
    }
    if (!cc_valid_enum(folder, vm_folders)) {
        return "must be in the folder INBOX, Old or Urgent";
    }
    if (!is_message_name(APR_ARRAY_IDX(parts, 2, const char *))) {
        return "must name a message's msgNNNN.txt";
    }
    return NULL;
}

cc_error_t *cc_vm_input_read(apr_pool_t *p, json_t *body, vm_input_t *in)
{
    cc_error_t *err = NULL;
    const char *issue;

    memset(in, 0, sizeof(*in));
    in->path = cc_json_str(body, CC_KEY_VM_PATH);
    in->format = cc_json_str(body, CC_KEY_VM_FORMAT);
    if ((issue = cc_files_path_split(p, in->path, &in->parts))
        || (issue = spool_issue(in->parts))) {
        err = cc_error_collect(p, err, CC_KEY_VM_PATH, issue);
    }
    else {
        in->mailbox = APR_ARRAY_IDX(in->parts, 0, const char *);
        in->folder = APR_ARRAY_IDX(in->parts, 1, const char *);
    }
    if (!in->format || !cc_valid_enum(in->format, cc_audio_formats)) {
        err = cc_error_collect(p, err, CC_KEY_VM_FORMAT, CC_AUDIO_FORMAT_ISSUE);
    }
    if (!err) {
        in->audio_path = cc_vm_audio_path(p, in->path, in->format);
        (void)cc_files_path_split(p, in->audio_path, &in->audio_parts);
    }
    return err;
}

cc_error_t *cc_vm_patch_read(apr_pool_t *p, json_t *body, vm_patch_t *out)
{
    cc_error_t *err = NULL;

    memset(out, 0, sizeof(*out));
    if (cc_json_has(body, CC_KEY_VM_READ)) {
        out->has_read = 1;
        out->read = cc_json_bool(body, CC_KEY_VM_READ, 0);
    }
    if (cc_json_has(body, CC_KEY_VM_FOLDER)) {
        out->folder = cc_json_str(body, CC_KEY_VM_FOLDER);
        if (!out->folder || !cc_valid_enum(out->folder, vm_folders)) {
            err = cc_error_collect(p, err, CC_KEY_VM_FOLDER,
                                   "must be one of: INBOX, Old, Urgent");
        }
    }
    return err;
}

/* ---- msgNNNN.txt ---- */

static const char *const month_names[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
                                           "Aug", "Sep", "Oct", "Nov", "Dec", NULL };
static const char *const day_names[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
                                         NULL };

/* Exactly n digits at *ps (advanced past them) as *pv. */
static int digits(const char **ps, int n, int *pv)
{
    int v = 0;

    while (n-- > 0) {
        if (!apr_isdigit(**ps)) {
            return 0;
        }
        v = v * 10 + (*(*ps)++ - '0');
    }
    *pv = v;
    return 1;
}

/* The three letters at *ps one of names (advanced past them): its index, else -1. */
static int name_of(const char **ps, const char *const *names)
{
    int i;

    for (i = 0; names[i]; i++) {
        if (!strncmp(*ps, names[i], 3)) {
            *ps += 3;
            return i;
        }
    }
    return -1;
}

int cc_vm_parse_origdate(const char *s, apr_int64_t *psecs)
{
    int mon, day, hour, min, sec, year;
    char rfc[80];

    if (!s || name_of(&s, day_names) < 0 || *s++ != ' '
        || (mon = name_of(&s, month_names)) < 0 || *s++ != ' ') {
        return 0;
    }
    if (*s == ' ') {   /* %e: a day under 10 is space-padded */
        s++;
        if (!digits(&s, 1, &day)) {
            return 0;
        }
    }
    else if (!digits(&s, 2, &day)) {
        return 0;
    }
    if (*s++ != ' ' || !digits(&s, 2, &hour) || *s++ != ':' || !digits(&s, 2, &min)
        || *s++ != ':' || !digits(&s, 2, &sec) || *s++ != ' ') {
        return 0;
    }
    if (hour < 1 || hour > 12) {   /* %r: the 12-hour clock */
        return 0;
    }
    if (!strncmp(s, "AM", 2)) {
        hour = hour == 12 ? 0 : hour;
    }
    else if (!strncmp(s, "PM", 2)) {
        hour = hour == 12 ? 12 : hour + 12;
    }
    else {
        return 0;
    }
    s += 2;
    if (strncmp(s, " UTC ", 5)) {
        return 0;
    }
    s += 5;
    if (!digits(&s, 4, &year) || *s) {
        return 0;
    }
    /* The calendar checks (day of the month, leap years) are cc_parse_rfc3339_epoch's. */
    snprintf(rfc, sizeof(rfc), "%04d-%02d-%02dT%02d:%02d:%02dZ", year, mon + 1, day, hour,
             min, sec);
    /* No message is older than the epoch, as origtime (epoch seconds) says. */
    return cc_parse_rfc3339_epoch(rfc, psecs) && *psecs >= 0;
}

static int valid_msg_id(const char *s)
{
    apr_size_t n = strlen(s), i;

    if (n < 1 || n > CC_VM_MSG_ID_MAX) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!apr_isalnum(s[i]) && s[i] != '-') {
            return 0;
        }
    }
    return 1;
}

/* s without leading and trailing blanks (spaces, tabs, a CR), in p. */
static const char *trimmed(apr_pool_t *p, const char *s, apr_size_t len)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r')) {
        len--;
    }
    return apr_pstrmemdup(p, s, len);
}

const char *cc_vm_meta_parse(apr_pool_t *p, const char *buf, apr_size_t len, vm_meta_t *m)
{
    apr_table_t *keys = apr_table_make(p, 16);
    const char *line = buf, *end = buf + len, *v, *callerid;
    int in_message = 0;
    apr_int64_t n;

    memset(m, 0, sizeof(*m));
    if (len > CC_VM_META_MAX) {
        return "is not a message's metadata: more than 8192 bytes";
    }
    if (memchr(buf, '\0', len) || !cc_valid_utf8(buf, len)) {
        return "has metadata that is not UTF-8 text";
    }
    while (line < end) {
        const char *nl = memchr(line, '\n', (apr_size_t)(end - line));
        const char *stop = nl ? nl : end;
        const char *l = trimmed(p, line, (apr_size_t)(stop - line));
        const char *eq;

        line = nl ? nl + 1 : end;
        if (!*l || *l == ';') {
            continue;
        }
        if (*l == '[') {
            in_message = !strcmp(l, "[message]");
            continue;
        }
        if (in_message && (eq = strchr(l, '='))) {
            const char *key = trimmed(p, l, (apr_size_t)(eq - l));

            if (!apr_table_get(keys, key)) {
                apr_table_setn(keys, key, trimmed(p, eq + 1, strlen(eq + 1)));
            }
        }
    }
    if (!(v = apr_table_get(keys, "msg_id")) || !valid_msg_id(v)) {
        return "has metadata without a valid msg_id";
    }
    m->msg_id = v;
    if (!(v = apr_table_get(keys, "duration"))
        || !cc_parse_int(v, 0, CC_VM_DURATION_MAX, &m->duration)) {
        return "has metadata without a valid duration (0 to 86400 seconds)";
    }
    if ((v = apr_table_get(keys, "origtime")) && *v) {
        if (!cc_parse_int(v, 0, APR_INT64_C(253402300799), &n)) {
            return "has metadata with an origtime that is not epoch seconds";
        }
        m->origtime = n;
    }
    else if (!(v = apr_table_get(keys, "origdate")) || !cc_vm_parse_origdate(v, &m->origtime)) {
        return "has metadata without a valid origtime or origdate";
    }
    callerid = apr_table_get(keys, "callerid");
    if (callerid && *callerid && strcmp(callerid, "Unknown")) {
        if (!cc_valid_name(callerid, 1, CC_VM_CALLER_MAX)) {
            return "has metadata with a callerid of control characters or over 255"
                   " characters";
        }
        m->caller_id = callerid;
    }
    return NULL;
}
