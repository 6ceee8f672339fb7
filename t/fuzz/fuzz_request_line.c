/* A path and a query string through the router, the query parser and paging; the whole
 * input as a raw request line through the path space check (cc_http_guard_register). */
#include <string.h>
#include "fuzz_common.h"
#include "cc_page.h"
#include "cc_route.h"
#include "cc_validate.h"

static struct cc_error_t *dummy(struct cc_ctx_t *ctx)
{
    (void)ctx;
    return NULL;
}

static const cc_route_t routes[] = {
    { "GET", "/api/v1/users", dummy, "users.read", CC_ROUTE_AUTH },
    { "GET", "/api/v1/users/{id}", dummy, "users.read", CC_ROUTE_AUTH },
    { "PUT", "/api/v1/users/{id}/roles", dummy, "users.write", CC_ROUTE_AUTH },
    { "GET", "/api/v1/queues/{id}/members/{member_id}", dummy, NULL, CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};
static const cc_route_t *const tables[] = { routes, NULL };
static const char *const sorts[] = { "name", "email", "created_at", NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    /* Split the input at the first '?' into path and query, as httpd does. */
    char *text = apr_pstrmemdup(p, (const char *)data, size);
    char *query = strchr(text, '?');
    cc_route_match_t m;
    const char *allow = NULL, *sql = NULL;
    apr_table_t *args = NULL;
    cc_page_t pg;
    apr_int64_t id;

    cc_route_in_space(tables, cc_route_line_path(p, text));
    if (query) {
        *query++ = '\0';
    }
    if (cc_route_match(p, tables, "GET", text, &m, &allow) == CC_ROUTE_FOUND) {
        const char *v = cc_route_param(&m, "id");

        if (v) {
            cc_parse_id(v, &id);
        }
    }
    if (!cc_args_parse(p, query, &args)) {
        cc_page_parse(p, args, sorts, "name", &pg);
        if (apr_table_get(args, "from")) {
            cc_parse_rfc3339(p, apr_table_get(args, "from"), &sql);
        }
        /* A keyset cursor (after=) is client text too: read it, and one made from it
         * must read back. */
        if (apr_table_get(args, "after")) {
            cc_cursor_t cur;

            if (cc_cursor_read(p, apr_table_get(args, "after"), "scope", &cur)) {
                const char *again = cc_cursor_make(p, &cur, "scope");
                cc_cursor_t back;

                if (!again || !cc_cursor_read(p, again, "scope", &back)) {
                    __builtin_trap();
                }
            }
        }
    }
    cc_valid_email(text);
    cc_valid_e164(text);
    apr_pool_destroy(p);
    return 0;
}
