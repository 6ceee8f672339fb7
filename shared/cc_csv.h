/**
 * @file cc_csv.h
 * @brief (core) CSV cells as RFC 4180 writes them, with the spreadsheet formula guard of
 *        API.md: a text cell starting with =, +, - or @ gets a leading '.  Written
 *        through a callback, so a row costs no allocation (exports stream millions).
 */
#ifndef CC_CSV_H
#define CC_CSV_H

#include <apr.h>

/** Where cells go: out(ctx, data, len); nonzero from it is remembered and returned. */
typedef int (*cc_csv_out_fn)(void *ctx, const char *data, apr_size_t len);

/**
 * One cell: NULL is empty; text is quoted when it holds a comma, a quote, CR or LF
 * (quotes doubled) or begins or ends with a space; guard applies the formula guard (text
 * cells; numbers and times are not formulas).  Returns out's first nonzero, else 0.
 */
int cc_csv_cell(cc_csv_out_fn out, void *ctx, const char *v, int guard);

#endif
