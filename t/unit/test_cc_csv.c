/*
 * Unit tests for CSV cells (shared/cc_csv.c): RFC 4180 quoting and API.md's formula
 * guard.
 */
#include <string.h>

#include "cc_test.h"
#include "cc_csv.h"

typedef struct buf_t {
    char data[256];
    apr_size_t len;
    int fail_after;           /* fail the n-th write (0: never) */
    int writes;
} buf_t;

static int append(void *ctx, const char *data, apr_size_t len)
{
    buf_t *b = ctx;

    if (b->fail_after && ++b->writes >= b->fail_after) {
        return 7;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

static const struct { const char *in; int guard; const char *out; } cells[] = {
    {NULL, 1, ""},
    {"", 1, ""},
    {"plain", 1, "plain"},
    {"a,b", 1, "\"a,b\""},
    {"say \"hi\"", 1, "\"say \"\"hi\"\"\""},
    {"\"", 1, "\"\"\"\""},
    {"two\r\nlines", 1, "\"two\r\nlines\""},
    {" padded ", 1, "\" padded \""},
    {"=SUM(A1:A9)", 1, "'=SUM(A1:A9)"},
    {"+4930123456", 1, "'+4930123456"},
    {"-2", 1, "'-2"},
    {"@cmd", 1, "'@cmd"},
    {"=1,2", 1, "\"'=1,2\""},            /* guarded inside the quotes */
    {"-2", 0, "-2"},                     /* a number is no formula */
    {"Zürich ☎", 1, "Zürich ☎"},         /* UTF-8 passes as it is */
};

START_TEST(cells_are_rfc4180_with_the_formula_guard)
{
    buf_t b = { .len = 0 };

    b.data[0] = '\0';
    ck_assert_int_eq(cc_csv_cell(append, &b, cells[_i].in, cells[_i].guard), 0);
    ck_assert_str_eq(b.data, cells[_i].out);
}
END_TEST

START_TEST(a_failing_writer_stops_the_cell)
{
    buf_t b = { .len = 0, .fail_after = 2 };

    b.data[0] = '\0';
    ck_assert_int_eq(cc_csv_cell(append, &b, "a \"quoted\" cell", 1), 7);
}
END_TEST

CC_TEST_SUITE("cc_csv",
    CC_TCASE("cells"),
        CC_LOOP_TEST(cells_are_rfc4180_with_the_formula_guard, N(cells)),
        CC_TEST(a_failing_writer_stops_the_cell))
