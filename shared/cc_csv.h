/**
 * @file cc_csv.h
 * @brief (core) CSV cells as RFC 4180 writes them, with the spreadsheet formula guard of
 *        API.md: a text cell starting with =, +, - or @ (or a tab or CR, which
 *        spreadsheets skip before a formula) gets a leading '.  Written
 *        into the caller's buffer, so a row costs no allocation and no call per piece
 *        (exports stream millions of rows).
 */
#ifndef CC_CSV_H
#define CC_CSV_H

#include <apr.h>

/** The most bytes cc_csv_put writes for a value of len bytes: two quotes, the guard and
 *  every byte a doubled quote. */
#define CC_CSV_CELL_MAX(len) (2 * (apr_size_t)(len) + 3)

/**
 * One cell into dst, which has room for CC_CSV_CELL_MAX(len) bytes; returns the end of
 * what was written (not terminated).  v is the value's len bytes (NUL-terminated; a NUL
 * inside is a byte like any other); NULL or empty writes nothing.  Text is quoted when
 * any of its len bytes is a comma, a quote, CR or LF
 * (quotes doubled) or begins or ends with a space; guard applies the formula guard (text
 * cells; numbers and times are not formulas), inside the quotes.
 */
char *cc_csv_put(char *dst, const char *v, apr_size_t len, int guard);

#endif
