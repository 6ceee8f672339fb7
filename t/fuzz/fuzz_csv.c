/* Hostile cells into the CSV writer (shared/cc_csv.c) as an export writes a row: cells
 * joined by ',' and ended by CRLF.  The row must read back (an RFC 4180 reader here) as
 * the same cells, each with the formula guard's "'" before it exactly when it was asked
 * for and the cell starts with one of the guarded characters; an unquoted cell holds no
 * separator, quote or line break; nothing is written past CC_CSV_CELL_MAX.
 *
 * Input: the first byte's bits say which cells are guarded (text cells); the rest is the
 * cells, separated by 0x1f (unit separator); any other byte, NUL included, is cell text. */
#include <string.h>
#include "fuzz_common.h"
#include "cc_csv.h"

#define CELLS_MAX 64

static int guarded_start(const char *v, apr_size_t len)
{
    return len > 0 && strchr("=+-@\t\r", v[0]) && v[0];
}

/* One cell of row[*at..end): its bytes into out (*plen); *at past it and its ',' or
 * CRLF; 0 when the row is not RFC 4180 there. */
static int read_cell(const char *row, apr_size_t end, apr_size_t *at, char *out,
                     apr_size_t *plen, int *plast)
{
    apr_size_t i = *at, n = 0;

    if (i < end && row[i] == '"') {
        for (i++;; i++) {
            if (i >= end) {
                return 0;                      /* unterminated quotes */
            }
            if (row[i] == '"') {
                if (i + 1 < end && row[i + 1] == '"') {
                    out[n++] = '"';
                    i++;
                    continue;
                }
                i++;
                break;
            }
            out[n++] = row[i];
        }
    }
    else {
        for (; i < end && row[i] != ',' && row[i] != '\r'; i++) {
            if (row[i] == '"' || row[i] == '\n') {
                return 0;                      /* bare quote or line break */
            }
            out[n++] = row[i];
        }
    }
    *plen = n;
    if (i < end && row[i] == ',') {
        *at = i + 1;
        *plast = 0;
        return 1;
    }
    if (i + 2 == end && row[i] == '\r' && row[i + 1] == '\n') {
        *at = end;
        *plast = 1;
        return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *cell[CELLS_MAX];
    apr_size_t len[CELLS_MAX], need = 2, at = 0, i, n = 0, start;
    unsigned guards;
    char *row, *w, *back;
    int last = 0;

    if (size < 1) {
        return 0;
    }
    p = fuzz_pool();
    guards = data[0];
    for (start = i = 1; i <= size && n < CELLS_MAX; i++) {
        if (i == size || data[i] == 0x1f) {
            /* NUL-terminated, as the writer's contract says, with NULs inside allowed. */
            cell[n] = apr_pstrmemdup(p, (const char *)data + start, i - start);
            len[n] = i - start;
            need += CC_CSV_CELL_MAX(len[n]) + 1;
            n++;
            start = i + 1;
        }
    }
    row = apr_palloc(p, need + 1);
    w = row;
    for (i = 0; i < n; i++) {
        char *cell_at;

        if (i) {
            *w++ = ',';
        }
        cell_at = w;
        w = cc_csv_put(w, cell[i], len[i], (guards >> (i % 8)) & 1);
        fuzz_check((apr_size_t)(w - cell_at) <= CC_CSV_CELL_MAX(len[i]));
        /* A cell left unquoted holds nothing a reader would split on. */
        if (w > cell_at && *cell_at != '"') {
            fuzz_check(!memchr(cell_at, ',', (apr_size_t)(w - cell_at))
                       && !memchr(cell_at, '"', (apr_size_t)(w - cell_at))
                       && !memchr(cell_at, '\r', (apr_size_t)(w - cell_at))
                       && !memchr(cell_at, '\n', (apr_size_t)(w - cell_at)));
        }
    }
    *w++ = '\r';
    *w++ = '\n';
    fuzz_check((apr_size_t)(w - row) <= need);

    back = apr_palloc(p, need + 1);
    for (i = 0; i < n; i++) {
        apr_size_t blen, g;

        fuzz_check(!last && read_cell(row, (apr_size_t)(w - row), &at, back, &blen, &last));
        g = ((guards >> (i % 8)) & 1) && guarded_start(cell[i], len[i]);
        fuzz_check(blen == len[i] + g);
        fuzz_check(!g || back[0] == '\'');
        fuzz_check(!memcmp(back + g, cell[i], len[i]));
    }
    fuzz_check(last && at == (apr_size_t)(w - row));
    apr_pool_destroy(p);
    return 0;
}
