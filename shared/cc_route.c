/**
 * @file cc_route.c
 * @brief (core) Route matching over NULL-terminated tables: captures, 404 vs 405 + Allow.
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "cc_route.h"
#include "cc_validate.h"

/* Longer paths are not ours: refuse before splitting so the cost stays bounded. */
#define CC_ROUTE_MAX_PATH 2048
/* No route has this many segments; a longer path can only be a 404. */
#define CC_ROUTE_MAX_SEGS 32

typedef struct {
    int nsegs;
    char *segs[CC_ROUTE_MAX_SEGS];
} cc_path_t;

/*
 * Split path (a pool copy) on '/'.  "/" is zero segments; an empty segment anywhere
 * ("//", trailing "/") makes the path unmatchable, as does a missing leading '/'.
 */
static int cc_route_split(apr_pool_t *p, const char *path, cc_path_t *out)
{
    char *copy, *s;

    out->nsegs = 0;
    if (!path || path[0] != '/' || strlen(path) > CC_ROUTE_MAX_PATH) {
        return 0;
    }
    if (path[1] == '\0') {
        return 1;
    }
    copy = apr_pstrdup(p, path + 1);
    for (s = copy;;) {
        char *slash = strchr(s, '/');

        if (out->nsegs == CC_ROUTE_MAX_SEGS) {
            return 0;
        }
        if (slash) {
            *slash = '\0';
        }
        if (*s == '\0') {
            return 0;
        }
        out->segs[out->nsegs++] = s;
        if (!slash) {
            return 1;
        }
        s = slash + 1;
    }
}

/* A capture segment is exactly "{name}" or "{name:type}" with a non-empty name. */
static int cc_route_is_capture(const char *seg, apr_size_t len)
{
    return len > 2 && seg[0] == '{' && seg[len - 1] == '}';
}

/*
 * Does value fit the capture's type?  "{id:int}" takes an id (cc_parse_id), "{id:uuid}"
 * a canonical UUID, an untyped "{name}" any segment.  A value that does not fit makes
 * the pattern not match, so the path names nothing (404) before a handler runs.
 */
static int cc_route_capture_fits(const char *cap, apr_size_t len, const char *value,
                                 apr_size_t *pname_len)
{
    /* cap is the segment after its '{'; its name and type are the len - 2 bytes before
     * the closing '}'. */
    const char *colon = memchr(cap, ':', len - 2);
    apr_size_t type_len;
    apr_int64_t id;

    *pname_len = len - 2;
    if (!colon) {
        return 1;
    }
    *pname_len = (apr_size_t)(colon - cap);
    type_len = len - 2 - *pname_len - 1;
    if (type_len == 3 && !memcmp(colon + 1, "int", 3)) {
        return cc_parse_id(value, &id);
    }
    if (type_len == 4 && !memcmp(colon + 1, "uuid", 4)) {
        return cc_valid_uuid(value);
    }
    return 0;   /* an unknown type is a table bug (cc_route_check_pattern): never match */
}

/*
 * Match pattern against the split path.  Returns the number of literal segments + 1 on
 * a match (so a match of only captures is still > 0), else 0.  Captures go to m when
 * it is non-NULL.
 */
static int cc_route_try(apr_pool_t *p, const char *pattern, const cc_path_t *path,
                        cc_route_match_t *m)
{
    const char *pat = pattern;
    int i = 0, literals = 0, nparams = 0;

    if (!pat || *pat != '/') {
        return 0;
    }
    pat++;
    while (*pat) {
        const char *end = strchr(pat, '/');
        apr_size_t len = end ? (apr_size_t)(end - pat) : strlen(pat);

        if (i >= path->nsegs) {
            return 0;
        }
        if (cc_route_is_capture(pat, len)) {
            apr_size_t name_len;

            /* More captures than the match can hold is a table bug: never match. */
            if (nparams == CC_ROUTE_MAX_PARAMS
                || !cc_route_capture_fits(pat + 1, len, path->segs[i], &name_len)) {
                return 0;
            }
            if (m) {
                m->names[nparams] = apr_pstrmemdup(p, pat + 1, name_len);
                m->values[nparams] = path->segs[i];
            }
            nparams++;
        }
        else if (strlen(path->segs[i]) != len || memcmp(path->segs[i], pat, len)) {
            return 0;
        }
        else {
            literals++;
        }
        i++;
        pat += len;
        if (*pat == '/') {
            pat++;
        }
    }
    if (i != path->nsegs) {
        return 0;
    }
    if (m) {
        m->nparams = nparams;
    }
    return literals + 1;
}

/* Append method to the Allow list unless it is already there (table order kept). */
static void cc_route_allow_add(apr_array_header_t *allow, const char *method)
{
    int i;

    for (i = 0; i < allow->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(allow, i, const char *), method)) {
            return;
        }
    }
    APR_ARRAY_PUSH(allow, const char *) = method;
}

cc_route_result_e cc_route_match(apr_pool_t *p, const cc_route_t *const *tables,
                                 const char *method, const char *path,
                                 cc_route_match_t *m, const char **pallow)
{
    const cc_route_t *best = NULL;
    apr_array_header_t *allow;
    cc_path_t segs;
    int best_score = 0;

    if (m) {
        memset(m, 0, sizeof(*m));
    }
    if (pallow) {
        *pallow = NULL;
    }
    if (!tables || !method || !cc_route_split(p, path, &segs)) {
        return CC_ROUTE_NOT_FOUND;
    }
    allow = apr_array_make(p, 4, sizeof(const char *));
    for (; *tables; tables++) {
        const cc_route_t *rt;

        for (rt = *tables; rt->method; rt++) {
            int score = cc_route_try(p, rt->pattern, &segs, NULL);

            if (!score) {
                continue;
            }
            if (strcmp(rt->method, method)) {
                cc_route_allow_add(allow, rt->method);
            }
            /* More literal segments win ("/users/me" over "/users/{id}"); on a tie the
             * first route in table order wins. */
            else if (score > best_score) {
                best = rt;
                best_score = score;
            }
        }
    }
    if (best) {
        if (m) {
            cc_route_try(p, best->pattern, &segs, m);
            m->route = best;
        }
        return CC_ROUTE_FOUND;
    }
    if (allow->nelts == 0) {
        return CC_ROUTE_NOT_FOUND;
    }
    if (pallow) {
        const char *s = APR_ARRAY_IDX(allow, 0, const char *);
        int i;

        for (i = 1; i < allow->nelts; i++) {
            s = apr_pstrcat(p, s, ", ", APR_ARRAY_IDX(allow, i, const char *), NULL);
        }
        *pallow = s;
    }
    return CC_ROUTE_METHOD_NOT_ALLOWED;
}

const char *cc_route_param(const cc_route_match_t *m, const char *name)
{
    int i;

    if (!m || !name) {
        return NULL;
    }
    for (i = 0; i < m->nparams; i++) {
        if (!strcmp(m->names[i], name)) {
            return m->values[i];
        }
    }
    return NULL;
}

const char *cc_route_check_pattern(const char *pattern)
{
    const char *seg;

    if (!pattern || pattern[0] != '/') {
        return "does not start with /";
    }
    for (seg = pattern + 1; *seg;) {
        const char *end = strchr(seg, '/');
        apr_size_t len = end ? (apr_size_t)(end - seg) : strlen(seg);
        apr_size_t name_len;

        if (len == 0) {
            return "has an empty segment";
        }
        if (seg[0] == '{' || seg[len - 1] == '}') {
            if (!cc_route_is_capture(seg, len)) {
                return "has a malformed capture";
            }
            /* A value of every known type fits; only an unknown type fails here. */
            if (!cc_route_capture_fits(seg + 1, len, "1", &name_len)
                && !cc_route_capture_fits(seg + 1, len,
                                          "00000000-0000-4000-8000-000000000000",
                                          &name_len)) {
                return "has a capture of an unknown type";
            }
            if (name_len == 0) {
                return "has a capture without a name";
            }
        }
        seg += len;
        if (*seg == '/') {
            seg++;
        }
    }
    return NULL;
}

/* The first segment of a path or pattern: where it starts (after the '/') and its length. */
static apr_size_t cc_route_first_seg(const char *path, const char **pseg)
{
    *pseg = path + 1;
    return strcspn(path + 1, "/?");
}

int cc_route_in_space(const cc_route_t *const *tables, const char *path)
{
    const char *seg;
    apr_size_t len;

    if (!tables || !path || path[0] != '/') {
        return 0;
    }
    len = cc_route_first_seg(path, &seg);
    if (len == 0) {
        return 0;
    }
    for (; *tables; tables++) {
        const cc_route_t *rt;

        for (rt = *tables; rt->method; rt++) {
            const char *pseg;
            apr_size_t plen;

            if (!rt->pattern || rt->pattern[0] != '/') {
                continue;
            }
            plen = cc_route_first_seg(rt->pattern, &pseg);
            /* A first segment that is a capture takes any segment. */
            if ((plen == len && !strncmp(pseg, seg, len))
                || (plen > 0 && pseg[0] == '{')) {
                return 1;
            }
        }
    }
    return 0;
}

const char *cc_route_line_path(apr_pool_t *p, const char *line)
{
    const char *s = line, *target_end, *scheme;

    if (!s) {
        return NULL;
    }
    s += strspn(s, " \t");
    s += strcspn(s, " \t");             /* the method */
    s += strspn(s, " \t");
    target_end = s + strcspn(s, " \t");
    if (*s != '/') {
        /* absolute-form (RFC 9112 section 3.2.2): scheme "://" authority path */
        for (scheme = s; scheme + 3 <= target_end && strncmp(scheme, "://", 3); scheme++) {
        }
        if (scheme + 3 > target_end || scheme == s) {
            return NULL;
        }
        s = scheme + 3;
        s += strcspn(s, "/?# \t");
        if (*s != '/') {
            return NULL;
        }
    }
    return apr_pstrmemdup(p, s, strcspn(s, "?# \t"));
}
