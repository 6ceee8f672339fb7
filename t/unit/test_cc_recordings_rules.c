/**
 * @file test_cc_recordings_rules.c
 * @brief Unit tests: the pure rules of /api/v1/recordings (mod_callcenter/
 *        cc_recordings_rules.c): what a register body may say.  Paths and opening are
 *        shared/cc_files.c's (test_cc_files.c).
 */
#include "cc_test_rules.h"
#include "cc_recordings_rules.h"

static const cc_test_refusal_t bodies[] = {
    { "{\"cdr_uniqueid\": \"1.2\", \"path\": \"a.wav\", \"format\": \"wav\"}", "" },
    { "{\"cdr_uniqueid\": \"\", \"path\": \"../a\", \"format\": \"flac\"}",
      "cdr_uniqueid,path,format" },
    { "{\"cdr_uniqueid\": \"a\\nb\", \"path\": \"/a\", \"format\": \"wav\"}",
      "cdr_uniqueid,path" },
};

START_TEST(bodies_name_every_bad_field)
{
    rec_input_t in;

    cc_test_assert_refused(cc_rec_input_read(cc_test_pool, cc_test_json(bodies[_i].body),
                                             &in), &bodies[_i]);
}
END_TEST

CC_TEST_SUITE("cc_recordings_rules",
    CC_TCASE("bodies"),
        CC_LOOP_TEST(bodies_name_every_bad_field, N(bodies)))
