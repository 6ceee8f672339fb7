/*
 * Unit tests for CSV cells (shared/cc_csv.c): RFC 4180 quoting and API.md's formula
 * guard, written into the caller's buffer within CC_CSV_CELL_MAX.
 */
#include <string.h>

#include "cc_test.h"
#include "cc_csv.h"

static const struct { const char *in; int guard; const char *out; } cells[] = {
    {NULL, 1, ""},
    {"", 1, ""},
    {"plain", 1, "plain"},
    {"a,b", 1, "\"a,b\""},
    {"say \"hi\"", 1, "\"say \"\"hi\"\"\""},
    {"\"", 1, "\"\"\"\""},
    {"two\r\nlines", 1, "\"two\r\nlines\""},
    {"cr\ronly", 1, "\"cr\ronly\""},
    {" padded ", 1, "\" padded \""},
    {"trailing ", 1, "\"trailing \""},
    {"=SUM(A1:A9)", 1, "'=SUM(A1:A9)"},
    {"+4930123456", 1, "'+4930123456"},
    {"-2", 1, "'-2"},
    {"@cmd", 1, "'@cmd"},
    {"\t=cmd", 1, "'\t=cmd"},           /* spreadsheets skip a tab or a CR before a formula */
    {"\r=cmd", 1, "\"'\r=cmd\""},
    {"=1,2", 1, "\"'=1,2\""},            /* guarded inside the quotes */
    {"-2", 0, "-2"},                     /* a number is no formula */
    {"=\"x\"", 0, "\"=\"\"x\"\"\""},     /* no guard asked: none */
    {"Zürich ☎", 1, "Zürich ☎"},         /* UTF-8 passes as it is */
};

START_TEST(cells_are_rfc4180_with_the_formula_guard)
{
    char buf[256];
    const char *in = cells[_i].in;
    char *end = cc_csv_put(buf, in, in ? strlen(in) : 0, cells[_i].guard);

    *end = '\0';
    ck_assert_str_eq(buf, cells[_i].out);
}
END_TEST

/* The worst cases for the bound: every byte a quote, a guard inside quotes. */
static const char *const worst[] = { "\"", "\"\"\"\"\"\"\"\"", "=\"", "@\"\"\",", " ",
                                     "-\r\n\"", "x" };

START_TEST(a_cell_never_writes_past_its_bound)
{
    char buf[64];
    apr_size_t len = strlen(worst[_i]), max = CC_CSV_CELL_MAX(len), i;
    char *end;

    memset(buf, '#', sizeof(buf));
    end = cc_csv_put(buf, worst[_i], len, 1);
    ck_assert_uint_le((apr_size_t)(end - buf), max);
    for (i = (apr_size_t)(end - buf); i < sizeof(buf); i++) {
        ck_assert_int_eq(buf[i], '#');
    }
}
END_TEST

START_TEST(cells_follow_one_another_in_one_buffer)
{
    char buf[64], *p = buf;

    p = cc_csv_put(p, "a,b", 3, 1);
    *p++ = ',';
    p = cc_csv_put(p, NULL, 0, 1);
    *p++ = ',';
    p = cc_csv_put(p, "=x", 2, 1);
    *p = '\0';
    ck_assert_str_eq(buf, "\"a,b\",,'=x");
}
END_TEST

/* Found by fuzzing (t/fuzz/fuzz_csv.c, corpus regress_nul_before_comma): the scan for
 * characters that need quotes stopped at a NUL, so a comma after it went out bare and
 * split the cell in two.  Every one of the len bytes counts. */
START_TEST(a_nul_does_not_hide_a_separator)
{
    char buf[32];
    char *end = cc_csv_put(buf, "a\0,b\0\r\n", 7, 1);

    ck_assert_uint_eq((apr_size_t)(end - buf), 9);
    ck_assert_int_eq(memcmp(buf, "\"a\0,b\0\r\n\"", 9), 0);
}
END_TEST

CC_TEST_SUITE("cc_csv",
    CC_TCASE("cells"),
        CC_LOOP_TEST(cells_are_rfc4180_with_the_formula_guard, N(cells)),
        CC_LOOP_TEST(a_cell_never_writes_past_its_bound, N(worst)),
        CC_TEST(cells_follow_one_another_in_one_buffer),
        CC_TEST(a_nul_does_not_hide_a_separator))
