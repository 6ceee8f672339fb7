/* Ticket templates' placeholders (mod_callcenter/cc_helpdesk_rules.c): hostile bodies
 * into cc_template_issue and cc_template_render.
 *
 * Invariants: an issue is one short line of text that points at a "{{" of the body; a
 * body without "{{" renders as itself; no values and empty values render alike; values
 * are inserted once and never expanded again (each known placeholder adds exactly its
 * value's length: the values here are themselves placeholders); text that is valid
 * UTF-8 stays so; a body that passed cc_template_issue keeps no known placeholder. */
#include <string.h>
#include "fuzz_common.h"
#include "cc_helpdesk_rules.h"
#include "cc_validate.h"

/* Every value is a placeholder itself: expanded again, the length would show it. */
#define VALUE "<{{ ticket.id }}>"

static apr_size_t count(const char *s, const char *needle)
{
    apr_size_t n = 0;

    for (; (s = strstr(s, needle)); s++) {
        n++;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *body = apr_pstrmemdup(p, (const char *)data, size);
    const char *issue = cc_template_issue(p, body), *empty, *none, *full, *k;
    apr_table_t *blank = apr_table_make(p, 16), *values = apr_table_make(p, 16);
    const char *const *ph;
    apr_size_t blen = strlen(body), n, i;

    if (issue) {
        const char *at = strstr(issue, " at byte ");

        fuzz_check(strlen(issue) <= 128 && cc_valid_utf8(issue, strlen(issue)));
        for (k = issue; *k; k++) {
            fuzz_check(!cc_control_len(k));
        }
        if (!strncmp(issue, "unknown placeholder {{", 22)) {
            fuzz_check(strlen(issue) > 24 && !strcmp(issue + strlen(issue) - 2, "}}"));
        }
        else {
            apr_int64_t off;

            fuzz_check(at && (!strncmp(issue, "unterminated placeholder at byte ", 33)
                              || !strncmp(issue, "unknown placeholder at byte ", 28)));
            fuzz_check(cc_parse_int(at + 9, 0, (apr_int64_t)blen - 2, &off));
            fuzz_check(!strncmp(body + off, "{{", 2) && body[off + 2] != '{');
        }
    }
    for (ph = cc_template_placeholders; *ph; ph++) {
        apr_table_setn(blank, *ph, "");
        apr_table_setn(values, *ph, VALUE);
    }
    none = cc_template_render(p, body, NULL);
    empty = cc_template_render(p, body, blank);
    full = cc_template_render(p, body, values);
    fuzz_check(none && empty && full && !strcmp(none, empty));
    if (!strstr(body, "{{")) {
        fuzz_check(!issue && !strcmp(full, body));
    }
    /* Each known placeholder: its text out, VALUE in. */
    n = (strlen(full) - strlen(empty)) / strlen(VALUE);
    fuzz_check(strlen(empty) + n * strlen(VALUE) == strlen(full));
    fuzz_check(n <= count(body, "{{") && strlen(empty) + n * 13 <= blen);
    fuzz_check(count(full, VALUE) >= n);
    if (cc_valid_utf8(body, blen)) {
        fuzz_check(cc_valid_utf8(full, strlen(full)) && cc_valid_utf8(empty, strlen(empty)));
    }
    if (!issue) {
        /* Every placeholder was known and so replaced: all that is left of the body's
         * "{{" are the ones of the run before a placeholder's last two. */
        for (i = 0, k = body; (k = strstr(k, "{{")); k++) {
            i += k[2] != '{';
        }
        fuzz_check(i == n);
    }
    apr_pool_destroy(p);
    return 0;
}
