/*
 * cc_domain.c (core): the start-up check of a module's domain descriptors, and the names
 * a change is recorded under.
 */
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "cc_domain.h"
#include "cc_error.h"
#include "cc_perm.h"
#include "cc_search.h"
#include "cc_sql.h"
#include "cc_validate.h"

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

/* A filter the list cannot check or bind is a table bug. */
/* The free-text kinds: bounded by max, and absent when empty. */
static int free_text(cc_filter_kind_e kind)
{
    return kind == CC_FILTER_SEARCH || kind == CC_FILTER_TERM || kind == CC_FILTER_PHRASE;
}

static void check_filters(apr_pool_t *p, const cc_list_t *list, const char **pout)
{
    const cc_filter_t *f;

    for (f = list->filters; f && f->name; f++) {
        if (f->binds < 1
            || (f->kind == CC_FILTER_ENUM && !f->values)
            || (f->kind == CC_FILTER_CHECK && !f->valid)
            || ((f->kind == CC_FILTER_TEXT || free_text(f->kind)) && !f->max)) {
            problem(p, pout, "list %s: filter %s is incomplete%s", list->prefix, f->name,
                    "");
        }
    }
    if ((list->flags & CC_LIST_NO_TENANT) && !(list->flags & CC_LIST_SEARCH_ONLY)) {
        problem(p, pout, "list %s: a list without a tenant is CC_LIST_SEARCH_ONLY%s%s",
                list->prefix, "", "");
    }
    if ((list->flags & CC_LIST_CSV) && !(list->flags & CC_LIST_KEYSET)) {
        problem(p, pout, "list %s: an exportable list is CC_LIST_KEYSET (it exports in "
                "chunks)%s%s", list->prefix, "", "");
    }
    if ((list->flags & CC_LIST_KEYSET) && !(list->flags & CC_LIST_SEARCH_ONLY)) {
        problem(p, pout, "list %s: a keyset list is CC_LIST_SEARCH_ONLY%s%s", list->prefix,
                "", "");
    }
}

static void check_list(apr_pool_t *p, apr_hash_t *labels, const cc_list_t *list,
                       const char **pout)
{
    static const char *const kinds[] = { "_list_", "_search_", NULL };
    static const char *const orders[] = { "_asc", "_desc", NULL };
    const char *const *sort, *const *kind, *const *order;
    const cc_list_shape_t *shape;
    int found_default = 0;

    check_filters(p, list, pout);
    for (sort = list->sorts; sort && *sort; sort++) {
        const char *dflt = list->default_sort;

        if (dflt && !strcmp(dflt + (dflt[0] == '-'), *sort)) {
            found_default = 1;
        }
        for (kind = kinds + !!(list->flags & CC_LIST_SEARCH_ONLY); *kind; kind++) {
            for (order = orders; *order; order++) {
                need(p, labels, list,
                     apr_pstrcat(p, list->prefix, *kind, *sort, *order, NULL), pout);
            }
        }
        for (order = orders; (list->flags & CC_LIST_KEYSET) && *order; order++) {
            need(p, labels, list, apr_pstrcat(p, list->prefix, "_after_", *sort, *order, NULL),
                 pout);
        }
        for (order = orders; (list->flags & CC_LIST_CSV) && *order; order++) {
            need(p, labels, list, apr_pstrcat(p, list->prefix, "_export_", *sort, *order,
                                              NULL), pout);
        }
    }
    for (shape = list->shapes; shape && shape->name; shape++) {
        const char *const *f;

        if (!list->total) {
            problem(p, pout, "list %s: shape %s without a domain total%s", list->prefix,
                    shape->name, "");
        }
        for (f = shape->filters; *f; f++) {
            const cc_filter_t *lf = list->filters;

            while (lf && lf->name && strcmp(lf->name, *f)) {
                lf++;
            }
            if (!lf || !lf->name) {
                problem(p, pout, "list %s: shape %s names no filter %s", list->prefix,
                        shape->name, *f);
            }
        }
        for (order = orders; *order; order++) {
            need(p, labels, list, apr_pstrcat(p, list->prefix, "_search_", shape->name, "_",
                                              shape->sort, *order, NULL), pout);
        }
        if (shape->counted) {
            need(p, labels, list, apr_pstrcat(p, list->prefix, "_count_", shape->name, NULL),
                 pout);
        }
    }
    if (list->default_sort && !found_default) {
        problem(p, pout, "list %s: default sort %s is not in its whitelist%s",
                list->prefix, list->default_sort, "");
    }
    if (!(list->flags & CC_LIST_SEARCH_ONLY)) {
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
        if ((*d)->list) {
            check_list(p, labels, (*d)->list, &out);
        }
        if ((*d)->get_label && !apr_hash_get(labels, (*d)->get_label, APR_HASH_KEY_STRING)) {
            problem(p, &out, "domain %s: its object's statement %s is not defined%s",
                    (*d)->name, (*d)->get_label, "");
        }
    }
    return out;
}

void cc_change_names(apr_pool_t *p, const char *entity, const char *verb,
                     const char **paction, const char **pevent)
{
    /* Verbs whose past doubles the last consonant (stress on the last syllable). */
    static const char *const doubling[] = { "transfer", NULL };
    const char *const *d;
    apr_size_t n = strlen(verb);
    const char *suffix = n && verb[n - 1] == 'e' ? "d" : "ed";

    for (d = doubling; *d; d++) {
        apr_size_t dn = strlen(*d);

        if (n >= dn && !strcmp(verb + n - dn, *d)) {
            suffix = apr_pstrcat(p, verb + n - 1, "ed", NULL);
        }
    }
    *paction = strchr(verb, '.') ? verb : apr_pstrcat(p, entity, ".", verb, NULL);
    *pevent = apr_pstrcat(p, *paction, suffix, NULL);
}

const char *cc_enum_issue(apr_pool_t *p, const char *const *values)
{
    const char *s = "must be one of: ";
    const char *const *v;

    for (v = values; *v; v++) {
        s = apr_pstrcat(p, s, v == values ? "" : ", ", *v, NULL);
    }
    return s;
}

/* The bound value of filter f for the query value v (not NULL), or NULL with *pissue
 * (NULL *pissue: the filter is absent after all). */
static const char *filter_value(apr_pool_t *p, const cc_filter_t *f, const char *v,
                                const char **pissue)
{
    const char *sql = NULL;
    apr_int64_t id;

    switch (f->kind) {
    case CC_FILTER_ENUM:
        *pissue = cc_enum_issue(p, f->values);
        return cc_valid_enum(v, f->values) ? v : NULL;
    case CC_FILTER_TEXT:
        *pissue = apr_psprintf(p, "must be 1 to %d characters", (int)f->max);
        return cc_valid_text(v, 1, f->max) ? v : NULL;
    case CC_FILTER_SEARCH:
        *pissue = apr_psprintf(p, "must be at most %d characters", (int)f->max);
        return cc_valid_text(v, 0, f->max) ? cc_like_contains(p, v) : NULL;
    case CC_FILTER_ID:
    case CC_FILTER_PATH:
        *pissue = "must be a positive integer";
        return cc_parse_id(v, &id) ? v : NULL;
    case CC_FILTER_TIME:
        *pissue = "must be an RFC 3339 timestamp";
        return cc_parse_rfc3339(p, v, &sql) ? sql : NULL;
    case CC_FILTER_CHECK:
        *pissue = "is not valid";
        return f->valid(v) ? v : NULL;
    case CC_FILTER_TERM:
    case CC_FILTER_PHRASE:
        if (!cc_valid_text(v, 0, f->max)) {
            *pissue = apr_psprintf(p, "must be at most %d characters", (int)f->max);
            return NULL;
        }
        *pissue = NULL;   /* nothing left to search for: absent */
        return f->kind == CC_FILTER_TERM ? cc_search_prefix(p, v)
                                         : cc_search_phrase_prefix(p, v);
    }
    return NULL;
}

/* The value of f given in args, NULL when absent: an empty search is no search ("?q="
 * lists everything). */
static const char *given(const cc_filter_t *f, apr_table_t *args)
{
    const char *v = args ? apr_table_get(args, f->name) : NULL;

    return v && !(free_text(f->kind) && !*v) ? v : NULL;
}

int cc_list_filter_applies(apr_pool_t *p, const cc_filter_t *f, apr_table_t *args)
{
    const char *v = given(f, args), *issue = NULL;

    return v && (filter_value(p, f, v, &issue) || issue);
}

cc_error_t *cc_list_filter(apr_pool_t *p, const cc_list_t *list, apr_table_t *args,
                           const char *tenant, cc_error_t *err, const char ***pargs,
                           int *pnargs, int *pfiltered)
{
    const cc_filter_t *f;
    const char **out;
    int n = 0, total = 1, i;

    for (f = list->filters; f && f->name; f++) {
        total += f->binds;
    }
    out = apr_pcalloc(p, sizeof(*out) * (apr_size_t)total);
    *pfiltered = (list->flags & CC_LIST_SEARCH_ONLY) != 0;
    if (!(list->flags & CC_LIST_NO_TENANT)) {
        out[n++] = tenant;
    }
    for (f = list->filters; f && f->name; f++) {
        const char *v = given(f, args);
        const char *bound = NULL, *issue = NULL;

        /* (A term search that normalises to nothing, "?q=%20", is absent too: no
         * value and no issue.) */
        if (v) {
            bound = filter_value(p, f, v, &issue);
            if (!bound && issue) {
                err = cc_error_collect(p, err, f->name, f->issue ? f->issue : issue);
            }
            else if (bound) {
                *pfiltered = 1;
            }
        }
        for (i = 0; i < f->binds; i++) {
            out[n++] = bound;
        }
    }
    *pargs = out;
    *pnargs = n;
    return err;
}
