/*
 * cc_domain.c (core): the start-up check of a module's domain descriptors, and the names
 * a change is recorded under.
 */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "cc_domain.h"
#include "cc_perm.h"

static void problem(apr_pool_t *p, const char **pout, const char *fmt, const char *a,
                    const char *b, const char *c)
{
    const char *line = apr_psprintf(p, fmt, a, b, c);

    *pout = *pout ? apr_pstrcat(p, *pout, "; ", line, NULL) : line;
}

static void add_labels(apr_pool_t *p, apr_hash_t *labels, const cc_stmt_t *stmts,
                       const char **pout)
{
    for (; stmts && stmts->label; stmts++) {
        if (apr_hash_get(labels, stmts->label, APR_HASH_KEY_STRING)) {
            problem(p, pout, "statement %s is defined twice%s%s", stmts->label, "", "");
        }
        apr_hash_set(labels, stmts->label, APR_HASH_KEY_STRING, stmts->sql);
    }
}

static void need(apr_pool_t *p, apr_hash_t *labels, const cc_list_t *list,
                 const char *label, const char **pout)
{
    if (!apr_hash_get(labels, label, APR_HASH_KEY_STRING)) {
        problem(p, pout, "list %s needs statement %s%s", list->prefix, label, "");
    }
}

static void check_list(apr_pool_t *p, apr_hash_t *labels, const cc_list_t *list,
                       const char **pout)
{
    static const char *const kinds[] = { "_list_", "_search_", NULL };
    static const char *const orders[] = { "_asc", "_desc", NULL };
    const char *const *sort, *const *kind, *const *order;
    int found_default = 0;

    for (sort = list->sorts; sort && *sort; sort++) {
        const char *dflt = list->default_sort;

        if (dflt && !strcmp(dflt + (dflt[0] == '-'), *sort)) {
            found_default = 1;
        }
        for (kind = kinds + list->search_only; *kind; kind++) {
            for (order = orders; *order; order++) {
                need(p, labels, list,
                     apr_pstrcat(p, list->prefix, *kind, *sort, *order, NULL), pout);
            }
        }
    }
    if (list->default_sort && !found_default) {
        problem(p, pout, "list %s: default sort %s is not in its whitelist%s",
                list->prefix, list->default_sort, "");
    }
    if (!list->search_only) {
        need(p, labels, list, apr_pstrcat(p, list->prefix, "_count", NULL), pout);
    }
    need(p, labels, list, apr_pstrcat(p, list->prefix, "_search_count", NULL), pout);
}

const char *cc_domain_check(apr_pool_t *p, const cc_domain_t *const *domains,
                            const cc_stmt_t *extra)
{
    apr_hash_t *labels = apr_hash_make(p);
    const cc_domain_t *const *d;
    const char *out = NULL;

    add_labels(p, labels, extra, &out);
    for (d = domains; *d; d++) {
        add_labels(p, labels, (*d)->stmts, &out);
    }
    for (d = domains; *d; d++) {
        const cc_route_t *rt;
        const cc_list_t *const *list;

        for (rt = (*d)->routes; rt && rt->method; rt++) {
            const char *bad = cc_route_check_pattern(rt->pattern);

            if (bad) {
                problem(p, &out, "route %s %s %s", rt->method, rt->pattern, bad);
            }
            if (rt->permission && cc_perm_index(rt->permission) < 0) {
                problem(p, &out, "route %s %s needs permission %s, which is not in the "
                        "catalogue", rt->method, rt->pattern, rt->permission);
            }
            if (!rt->handler) {
                problem(p, &out, "route %s %s has no handler%s", rt->method, rt->pattern,
                        "");
            }
        }
        for (list = (*d)->lists; list && *list; list++) {
            check_list(p, labels, *list, &out);
        }
    }
    return out;
}

void cc_change_names(apr_pool_t *p, const char *entity, const char *verb,
                     const char **paction, const char **pevent)
{
    apr_size_t n = strlen(verb);

    *paction = strchr(verb, '.') ? verb : apr_pstrcat(p, entity, ".", verb, NULL);
    *pevent = apr_pstrcat(p, *paction, n && verb[n - 1] == 'e' ? "d" : "ed", NULL);
}
