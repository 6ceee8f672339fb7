/**
 * @file test_cc_voicemails_rules.c
 * @brief Unit tests: the pure rules of /api/v1/voicemails (mod_callcenter/
 *        cc_voicemails_rules.c): the spool's shape of an ingest path, the audio file
 *        beside a .txt, PATCH bodies, app_voicemail's origdate (UTC) and msgNNNN.txt.
 */
#include <string.h>

#include "cc_test_rules.h"
#include "cc_voicemails_rules.h"

/* ---- ingest bodies ---- */

static const cc_test_refusal_t bodies[] = {
    { "{\"path\": \"2001/INBOX/msg0000.txt\", \"format\": \"wav\"}", "" },
    { "{\"path\": \"2001/Old/msg9999.txt\", \"format\": \"wav49\"}", "" },
    { "{\"path\": \"2001/Urgent/msg0001.txt\", \"format\": \"gsm\"}", "" },
    { "{\"path\": \"2001/Work/msg0000.txt\", \"format\": \"wav\"}", "path" },
    { "{\"path\": \"2001/inbox/msg0000.txt\", \"format\": \"wav\"}", "path" },
    { "{\"path\": \"2001/INBOX/msg000.txt\", \"format\": \"wav\"}", "path" },
    { "{\"path\": \"2001/INBOX/msg0000.wav\", \"format\": \"wav\"}", "path" },
    { "{\"path\": \"2001/INBOX/msgabcd.txt\", \"format\": \"wav\"}", "path" },
    { "{\"path\": \"INBOX/msg0000.txt\", \"format\": \"wav\"}", "path" },
    { "{\"path\": \"a/2001/INBOX/msg0000.txt\", \"format\": \"wav\"}", "path" },
    { "{\"path\": \"../INBOX/msg0000.txt\", \"format\": \"wav\"}", "path" },
    { "{\"path\": \"/2001/INBOX/msg0000.txt\", \"format\": \"wav\"}", "path" },
    { "{\"path\": \"2001/INBOX/msg0000.txt\", \"format\": \"flac\"}", "format" },
    { "{\"path\": \"\", \"format\": \"\"}", "path,format" },
    { "{}", "path,format" },
};

START_TEST(ingest_bodies_name_every_bad_field)
{
    vm_input_t in;

    cc_test_assert_refused(cc_vm_input_read(cc_test_pool, cc_test_json(bodies[_i].body),
                                            &in), &bodies[_i]);
}
END_TEST

START_TEST(an_ingest_reads_mailbox_folder_and_the_audio_beside_it)
{
    vm_input_t in;

    ck_assert_ptr_null(cc_vm_input_read(cc_test_pool, cc_test_json(
        "{\"path\": \"2001/Old/msg0007.txt\", \"format\": \"wav49\"}"), &in));
    ck_assert_str_eq(in.mailbox, "2001");
    ck_assert_str_eq(in.folder, "Old");
    ck_assert_str_eq(in.audio_path, "2001/Old/msg0007.WAV");
    ck_assert_int_eq(in.audio_parts->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(in.audio_parts, 2, const char *), "msg0007.WAV");
}
END_TEST

START_TEST(audio_paths_follow_the_format)
{
    const char *t = "1/INBOX/msg0000.txt";

    ck_assert_str_eq(cc_vm_audio_path(cc_test_pool, t, "wav"), "1/INBOX/msg0000.wav");
    ck_assert_str_eq(cc_vm_audio_path(cc_test_pool, t, "wav49"), "1/INBOX/msg0000.WAV");
    ck_assert_str_eq(cc_vm_audio_path(cc_test_pool, t, "gsm"), "1/INBOX/msg0000.gsm");
    ck_assert_str_eq(cc_vm_audio_path(cc_test_pool, t, "ogg"), "1/INBOX/msg0000.ogg");
    ck_assert_ptr_null(cc_vm_audio_path(cc_test_pool, t, "flac"));
    ck_assert_ptr_null(cc_vm_audio_path(cc_test_pool, t, NULL));
    ck_assert_ptr_null(cc_vm_audio_path(cc_test_pool, "1/INBOX/msg0000.wav", "wav"));
    ck_assert_ptr_null(cc_vm_audio_path(cc_test_pool, "txt", "wav"));
}
END_TEST

/* ---- PATCH bodies (types are checked before: cc_json_check_patch) ---- */

static const cc_test_refusal_t patches[] = {
    { "{\"read\": true}", "" },
    { "{\"folder\": \"Old\", \"read\": false}", "" },
    { "{}", "" },
    { "{\"folder\": \"Work\"}", "folder" },
    { "{\"folder\": \"old\"}", "folder" },
    { "{\"folder\": null}", "folder" },
};

START_TEST(patches_name_every_bad_field)
{
    vm_patch_t out;

    cc_test_assert_refused(cc_vm_patch_read(cc_test_pool, cc_test_json(patches[_i].body),
                                            &out), &patches[_i]);
}
END_TEST

START_TEST(a_patch_reads_what_it_says)
{
    vm_patch_t out;

    ck_assert_ptr_null(cc_vm_patch_read(cc_test_pool, cc_test_json("{\"read\": false}"),
                                        &out));
    ck_assert(out.has_read && !out.read && !out.folder);
    ck_assert_ptr_null(cc_vm_patch_read(cc_test_pool, cc_test_json(
        "{\"read\": true, \"folder\": \"Urgent\"}"), &out));
    ck_assert(out.has_read && out.read);
    ck_assert_str_eq(out.folder, "Urgent");
}
END_TEST

/* ---- origdate ---- */

typedef struct date_case_t {
    const char *s;
    apr_int64_t secs;   /* -1: refused */
} date_case_t;

static const date_case_t dates[] = {
    { "Wed May  1 10:17:40 AM UTC 2024", 1714558660 },
    { "Wed May  1 10:17:40 PM UTC 2024", 1714601860 },
    { "Sun Dec  1 12:00:00 AM UTC 2024", 1733011200 },   /* midnight */
    { "Sun Dec  1 12:00:00 PM UTC 2024", 1733054400 },   /* noon */
    { "Thu Feb 29 11:59:59 PM UTC 2024", 1709251199 },
    { "Mon Dec 31 01:02:03 AM UTC 2029", 1893373323 },
    { "Wed May 01 10:17:40 AM UTC 2024", 1714558660 },   /* zero-padded: read too */
    { "Wed May  1 10:17:40 AM CEST 2024", -1 },          /* never anything but UTC */
    { "Wed May  1 10:17:40 AM  UTC 2024", -1 },
    { "Wed May  1 13:17:40 PM UTC 2024", -1 },
    { "Wed May  1 00:17:40 AM UTC 2024", -1 },
    { "Wed May  1 10:17:40 UTC 2024", -1 },
    { "Fri Feb 30 10:17:40 AM UTC 2024", -1 },
    { "Thu Feb 29 10:17:40 AM UTC 2023", -1 },
    { "Wed Mai  1 10:17:40 AM UTC 2024", -1 },
    { "Xyz May  1 10:17:40 AM UTC 2024", -1 },
    { "Wed May  1 10:17:40 AM UTC 2024 ", -1 },
    { "Wed May  1 10:17:40 AM UTC 24", -1 },
    { "Wed May  1 10:17:40 AM UTC 1012", -1 },           /* before the epoch */
    { "Thu Jan  1 12:00:00 AM UTC 1970", 0 },
    { "2024-05-01T10:17:40Z", -1 },
    { "", -1 },
};

START_TEST(origdate_is_read_as_utc)
{
    const date_case_t *c = &dates[_i];
    apr_int64_t secs = 0;
    int ok = cc_vm_parse_origdate(c->s, &secs);

    ck_assert_msg(c->secs < 0 ? !ok : ok && secs == c->secs, "'%s': %d %lld", c->s, ok,
                  (long long)secs);
}
END_TEST

/* ---- msgNNNN.txt ---- */

/* app_voicemail's file (apps/app_voicemail.c leave_voicemail, Asterisk 21+). */
static const char meta_sample[] =
    ";\n"
    "; Message Information file\n"
    ";\n"
    "[message]\n"
    "origmailbox=2001\n"
    "context=from-external\n"
    "exten=2001\n"
    "rdnis=unknown\n"
    "priority=2\n"
    "callerchan=PJSIP/trunk-0000002a\n"
    "callerid=\"J\xc3\xbcrgen\" <+4930123456>\n"
    "origdate=Wed May  1 10:17:40 AM UTC 2024\n"
    "origtime=1714558660\n"
    "category=\n"
    "msg_id=1714558660-0000000a\n"
    "flag=\n"
    "duration=17\n";

static const char *parse(const char *text, vm_meta_t *m)
{
    return cc_vm_meta_parse(cc_test_pool, text, strlen(text), m);
}

START_TEST(app_voicemails_metadata_reads)
{
    vm_meta_t m;

    ck_assert_ptr_null(parse(meta_sample, &m));
    ck_assert_str_eq(m.msg_id, "1714558660-0000000a");
    ck_assert_str_eq(m.caller_id, "\"J\xc3\xbcrgen\" <+4930123456>");
    ck_assert_int_eq(m.origtime, 1714558660);
    ck_assert_int_eq(m.duration, 17);
}
END_TEST

START_TEST(variants_of_the_metadata_read)
{
    vm_meta_t m;

    /* CRLF lines, blanks around keys and values, no comment lines. */
    ck_assert_ptr_null(parse("[message]\r\n msg_id = 1-a \r\ncallerid=Unknown\r\n"
                             "origdate=Wed May  1 10:17:40 AM UTC 2024\r\nflag=Urgent\r\n"
                             "duration=0", &m));
    ck_assert_str_eq(m.msg_id, "1-a");
    ck_assert_ptr_null(m.caller_id);                  /* Unknown is no caller id */
    ck_assert_int_eq(m.origtime, 1714558660);         /* from origdate, in UTC */
    ck_assert_int_eq(m.duration, 0);
    /* The first of a repeated key counts; keys of other sections do not. */
    ck_assert_ptr_null(parse("[other]\nmsg_id=x-1\n[message]\nmsg_id=m-1\nmsg_id=m-2\n"
                             "origtime=5\nduration=3\n", &m));
    ck_assert_str_eq(m.msg_id, "m-1");
    ck_assert_ptr_null(m.caller_id);                  /* no callerid at all */
    ck_assert_int_eq(m.origtime, 5);
}
END_TEST

static const char *const bad_metas[] = {
    "",
    "msg_id=1-a\norigtime=5\nduration=3\n",                       /* no [message] */
    "[message]\norigtime=5\nduration=3\n",                        /* no msg_id */
    "[message]\nmsg_id=\norigtime=5\nduration=3\n",
    "[message]\nmsg_id=1 a\norigtime=5\nduration=3\n",
    "[message]\nmsg_id=1714558660-0000000a-0000000a-0000000a-000\norigtime=5\nduration=3\n",
    "[message]\nmsg_id=1-a\norigtime=5\n",                        /* no duration */
    "[message]\nmsg_id=1-a\norigtime=5\nduration=-1\n",
    "[message]\nmsg_id=1-a\norigtime=5\nduration=86401\n",
    "[message]\nmsg_id=1-a\norigtime=5\nduration=1.5\n",
    "[message]\nmsg_id=1-a\nduration=3\n",                        /* no time */
    "[message]\nmsg_id=1-a\norigtime=-5\nduration=3\n",
    "[message]\nmsg_id=1-a\norigtime=x\nduration=3\n",
    "[message]\nmsg_id=1-a\norigdate=Wed May  1 10:17:40 AM CET 2024\nduration=3\n",
    "[message]\nmsg_id=1-a\norigtime=5\nduration=3\ncallerid=a\x1b" "b\n",
    "[message]\nmsg_id=1-a\norigtime=5\nduration=3\ncallerid=a\xc2\x85" "b\n",   /* NEL */
    "[message]\nmsg_id=1-a\norigtime=5\nduration=3\ncallerid=a\xff" "b\n",     /* not UTF-8 */
};

START_TEST(metadata_that_is_no_message_is_refused)
{
    vm_meta_t m;

    ck_assert_msg(parse(bad_metas[_i], &m) != NULL, "accepted: %s", bad_metas[_i]);
}
END_TEST

START_TEST(metadata_with_a_nul_or_too_large_is_refused)
{
    vm_meta_t m;
    char *big = apr_palloc(cc_test_pool, CC_VM_META_MAX + 2);
    apr_size_t n = strlen(meta_sample);

    ck_assert_ptr_nonnull(cc_vm_meta_parse(cc_test_pool, "[message]\nmsg_id=1-a\0x\n", 22,
                                           &m));
    memcpy(big, meta_sample, n);
    memset(big + n, ';', CC_VM_META_MAX + 1 - n);
    ck_assert_ptr_nonnull(cc_vm_meta_parse(cc_test_pool, big, CC_VM_META_MAX + 1, &m));
    big[n] = '\n';
    ck_assert_ptr_null(cc_vm_meta_parse(cc_test_pool, big, CC_VM_META_MAX, &m));
}
END_TEST

START_TEST(a_long_caller_id_is_refused)
{
    vm_meta_t m;
    char cid[300];

    memset(cid, 'x', sizeof(cid) - 1);
    cid[255] = '\0';
    ck_assert_ptr_null(parse(apr_pstrcat(cc_test_pool, "[message]\nmsg_id=1-a\norigtime=5\n"
                                         "duration=3\ncallerid=", cid, "\n", NULL), &m));
    cid[255] = 'x';
    cid[256] = '\0';
    ck_assert_ptr_nonnull(parse(apr_pstrcat(cc_test_pool, "[message]\nmsg_id=1-a\n"
                                            "origtime=5\nduration=3\ncallerid=", cid, "\n",
                                            NULL), &m));
}
END_TEST

CC_TEST_SUITE("cc_voicemails_rules",
    CC_TCASE("bodies"),
        CC_LOOP_TEST(ingest_bodies_name_every_bad_field, N(bodies)),
        CC_TEST(an_ingest_reads_mailbox_folder_and_the_audio_beside_it),
        CC_TEST(audio_paths_follow_the_format),
        CC_LOOP_TEST(patches_name_every_bad_field, N(patches)),
        CC_TEST(a_patch_reads_what_it_says),
    CC_TCASE("origdate"),
        CC_LOOP_TEST(origdate_is_read_as_utc, N(dates)),
    CC_TCASE("metadata"),
        CC_TEST(app_voicemails_metadata_reads),
        CC_TEST(variants_of_the_metadata_read),
        CC_LOOP_TEST(metadata_that_is_no_message_is_refused, N(bad_metas)),
        CC_TEST(metadata_with_a_nul_or_too_large_is_refused),
        CC_TEST(a_long_caller_id_is_refused))
