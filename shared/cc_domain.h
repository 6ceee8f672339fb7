/**
 * @file cc_domain.h
 * @brief (core) The descriptor of a REST domain: its routes, its prepared statements,
 *        its sorted lists and the columns they render; checked once at start-up.
 *
 * Every domain file ends with one `const cc_domain_t cc_<domain>_domain`; a module lists
 * its domains once, and from that list it registers the statements (cc_db_prepare_domains),
 * dispatches (cc_dispatch) and refuses to start on a table bug (cc_domain_check): a route
 * permission not in the catalogue, a malformed route pattern, a list sort without its
 * statements, a statement label defined twice.
 */
#ifndef CC_DOMAIN_H
#define CC_DOMAIN_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "cc_route.h"

/** A prepared statement: a label unique across modules (cc_<domain>_<verb>) and its SQL. */
typedef struct cc_stmt_t {
    const char *label;
    const char *sql;
} cc_stmt_t;

#define CC_STMT(label, sql) { label, sql }
#define CC_STMT_END { NULL, NULL }

/** How a result column becomes JSON; columns map by position. */
typedef enum {
    CC_COL_STR,      /**< string (NULL -> null) */
    CC_COL_INT,      /**< integer */
    CC_COL_BOOL,     /**< "0"/"1" -> false/true */
    CC_COL_TIME,     /**< DATETIME (UTC) -> RFC 3339 string */
    CC_COL_JSON,     /**< JSON text -> the value */
    CC_COL_LIST,     /**< comma-separated text -> array of strings (NULL -> []) */
    CC_COL_AST,      /**< a realtime text Asterisk reads (and may write): decoded as
                          Asterisk reads it (cc_ast_rt_decode) */
    CC_COL_SKIP      /**< not rendered */
} cc_col_type_e;

typedef struct cc_col_t {
    const char *key;
    cc_col_type_e type;
} cc_col_t;

#define CC_COL_END { NULL, CC_COL_SKIP }

/**
 * The four statements of one sort of a list: list(order) and search(order), each in
 * ascending and descending order, where list and search are the domain's SQL macros of
 * one ORDER BY (which cannot be a parameter):
 *   CC_LIST_SORT("cc_dids", "number", DIDS_LIST, DIDS_SEARCH, "d.number ASC",
 *                "d.number DESC"),
 */
#define CC_LIST_SORT(prefix, sort, list, search, asc, desc)        \
    CC_STMT(prefix "_list_" sort "_asc", list(asc)),                \
    CC_STMT(prefix "_list_" sort "_desc", list(desc)),              \
    CC_STMT(prefix "_search_" sort "_asc", search(asc)),            \
    CC_STMT(prefix "_search_" sort "_desc", search(desc))

/** The same for a CC_LIST_SEARCH_ONLY list: its two search statements. */
#define CC_SEARCH_SORT(prefix, sort, search, asc, desc)             \
    CC_STMT(prefix "_search_" sort "_asc", search(asc)),            \
    CC_STMT(prefix "_search_" sort "_desc", search(desc))

/** How a list's query filter is checked and bound. */
typedef enum {
    CC_FILTER_ENUM,      /**< one of values */
    CC_FILTER_TEXT,      /**< exact text, 1 to max characters */
    CC_FILTER_SEARCH,    /**< free text, at most max characters, bound as LIKE '%text%'
                              (an empty one is absent) */
    CC_FILTER_ID,        /**< an id (cc_parse_id) */
    CC_FILTER_TIME,      /**< an RFC 3339 time, bound as a UTC DATETIME */
    CC_FILTER_CHECK,     /**< valid(value) */
    CC_FILTER_TERM,      /**< free text, at most max characters, bound as the LIKE prefix
                              of a terms table (cc_search_prefix; one that leaves nothing
                              is absent) */
    CC_FILTER_PHRASE,    /**< as CC_FILTER_TERM, for CC_SEARCH_PHRASE terms
                              (cc_search_phrase_prefix: digits stay text) */
    CC_FILTER_PATH       /**< the path's capture of that name (a list under an object:
                              /webhooks/{id}/deliveries), always bound; never read from
                              the query */
} cc_filter_kind_e;

/** One query filter of a list; tables end with a NULL name. */
typedef struct cc_filter_t {
    const char *name;                /**< the query parameter, e.g. "status" */
    cc_filter_kind_e kind;
    int binds;                       /**< how many times the search statement binds it */
    const char *const *values;       /**< CC_FILTER_ENUM */
    apr_size_t max;                  /**< CC_FILTER_TEXT, CC_FILTER_SEARCH */
    int (*valid)(const char *s);     /**< CC_FILTER_CHECK */
    const char *issue;               /**< the detail when it does not fit (NULL: from kind) */
} cc_filter_t;

#define CC_FILTER_END { NULL, 0, 0, NULL, 0, NULL, NULL }

/** "must be one of: a, b, c": the issue of a value not in values (NULL-terminated). */
const char *cc_enum_issue(apr_pool_t *p, const char *const *values);

/** cc_list_t flags. */
#define CC_LIST_SEARCH_ONLY 1   /**< always the search statements: absent filters bind NULL */
#define CC_LIST_NO_TENANT   2   /**< not tenant-owned (tenants): no tenant before the filters */
/**
 * Keyset-paged (with CC_LIST_SEARCH_ONLY): every answer carries next_cursor, and
 * ?after=<cursor> continues in the same order without OFFSET and without a total.  Its
 * statements select, after the object's columns and the total, the row's sort key and
 * its id (the order's tie-breaker); for every sort it also needs
 * <prefix>_after_<sort>_asc/_desc, binding the filter arguments once, then the cursor's
 * key twice and its id (as `k op %s OR (k = %s AND id op %s)`), then the limit, and
 * selecting NULL as the total (CC_KEYSET_SORT makes the six statements).
 */
#define CC_LIST_KEYSET      4

/**
 * Exportable (with CC_LIST_KEYSET): a request whose Accept names text/csv gets every
 * matching row as CSV (cc_reply_list streams it, unpaged, in the requested order).  It
 * reads in chunks of CC_EXPORT_CHUNK rows, the first by <prefix>_export_<sort>_asc/_desc
 * (binding the filter arguments once, then the limit; selecting what the _after_
 * statements select), the next ones by the keyset's _after_ statements: apr_dbd_mysql
 * buffers a whole result (mysql_stmt_store_result) whatever the caller asks, so one
 * statement for the whole export would hold it all in memory.  CC_EXPORT_SORT.
 */
#define CC_LIST_CSV         8

#define CC_EXPORT_SORT(prefix, sort, export, asc, desc)             \
    CC_STMT(prefix "_export_" sort "_asc", export(asc)),            \
    CC_STMT(prefix "_export_" sort "_desc", export(desc))

/** The statements of one sort of a CC_LIST_SEARCH_ONLY | CC_LIST_KEYSET list. */
#define CC_KEYSET_SORT(prefix, sort, search, after, asc, desc, after_asc, after_desc) \
    CC_SEARCH_SORT(prefix, sort, search, asc, desc),                \
    CC_STMT(prefix "_after_" sort "_asc", after(after_asc, asc)),   \
    CC_STMT(prefix "_after_" sort "_desc", after(after_desc, desc))

/**
 * A sorted, filtered, paged list, answered by cc_reply_list from this description alone.
 * For every sort s of sorts it needs the statements <prefix>_list_<s>_asc/_desc
 * (unfiltered: binding the tenant for the total, the tenant, limit, offset) and
 * <prefix>_search_<s>_asc/_desc (binding the filter arguments twice, for its COUNT
 * subquery and its page, then limit, offset), plus <prefix>_count (the tenant) and
 * <prefix>_search_count (the filter arguments) for pages past the end.  The filter
 * arguments are the tenant, then each filter's value binds times, in table order.  cols
 * renders a row (the object's columns, as for a get); the list statements select the
 * page's total as one more column after them.  A CC_LIST_SEARCH_ONLY list has only the
 * search statements (CC_SEARCH_SORT).
 */
/**
 * A common combination of a list's filters with its own page statements (a
 * domain-computed total only, cc_list_t.total): when exactly these filters are given
 * and the list is sorted by sort, the page is <prefix>_search_<name>_<sort>_<dir>, which
 * binds the tenant (unless CC_LIST_NO_TENANT), then each filter's value once in the order
 * named here, then limit and offset.  Without the general statement's "(? IS NULL OR ...)" for every filter, it
 * can name the index that serves it: MariaDB optimizes a prepared statement again at
 * every execution, and weighing every index of a large table is most of a short page's
 * time (the ticket list's: 250 -> 110 us in the server).
 */
typedef struct cc_list_shape_t {
    const char *name;                /**< "status_priority": the statements' infix */
    const char *const *filters;      /**< the filters given, NULL-terminated */
    const char *sort;                /**< the sort it serves (either direction) */
    /** Its total is <prefix>_count_<name> (binding the page's values but limit and
     *  offset) rather than the list's total function. */
    int counted;
} cc_list_shape_t;

typedef struct cc_list_t {
    const char *prefix;              /**< "cc_dids" */
    const char *const *sorts;        /**< the sort whitelist, NULL-terminated */
    const char *default_sort;        /**< "number", "-created_at" */
    const cc_col_t *cols;
    const cc_filter_t *filters;      /**< ends with CC_FILTER_END; NULL: none */
    int flags;                       /**< CC_LIST_* */
    /**
     * The total computed by the domain (e.g. from a summary table kept by triggers)
     * rather than counted by the search statement, for a CC_LIST_KEYSET list (its first
     * page) or a paged CC_LIST_SEARCH_ONLY one: given the filter arguments (the tenant,
     * then each filter binds times), *ptotal.  Its search statements then bind the
     * filter arguments once (as a keyset's _after_ ones do) and select NULL as the
     * total; <prefix>_search_count is its own to use.  NULL: the search statement's
     * COUNT column.
     */
    struct cc_error_t *(*total)(struct cc_ctx_t *ctx, const char *const *filter,
                                int nfilter, apr_int64_t *ptotal);
    /** With total: the shapes with statements of their own, NULL-terminated by name
     *  (NULL: none). */
    const cc_list_shape_t *shapes;
} cc_list_t;

/**
 * The statement arguments of list's filters for a query (args: decoded query, may be
 * NULL; tenant: first argument unless CC_LIST_NO_TENANT): *pargs and *pnargs (one copy),
 * *pfiltered when any filter is given.  err (may be NULL) plus a detail for every filter
 * that does not fit (cc_error_collect), or NULL.
 */
struct cc_error_t *cc_list_filter(apr_pool_t *p, const cc_list_t *list, apr_table_t *args,
                                  const char *tenant, struct cc_error_t *err,
                                  const char ***pargs, int *pnargs, int *pfiltered);

/**
 * Whether filter f applies to the query args, as cc_list_filter decides it: given and
 * bound, or given and refused (its 400).  For a handler that picks one of two lists by a
 * filter (GET /contacts, GET /tickets: the search's list only when q searches), so the
 * pick and the binding never disagree.
 */
int cc_list_filter_applies(apr_pool_t *p, const cc_filter_t *f, apr_table_t *args);

/**
 * One REST domain (users, DIDs, queues, ...).  Its list and its object by id are
 * answered from the descriptor: a route whose handler is cc_handle_list answers list,
 * one whose handler is cc_handle_get answers the row of get_label bound to (the
 * principal's tenant, the path's last capture) rendered by cols, 404 when none.
 */
typedef struct cc_domain_t {
    const char *name;                /**< "dids" */
    const cc_route_t *routes;        /**< ends with a NULL method; NULL: none */
    const cc_stmt_t *stmts;          /**< ends with CC_STMT_END; NULL: none */
    const cc_list_t *list;           /**< its list, or NULL */
    const char *get_label;           /**< its object's statement, or NULL */
    const cc_col_t *cols;            /**< its object's columns */
} cc_domain_t;

/*
 * A module's domains are listed by the build: make writes <module>_domains.h with one
 * CC_DOMAIN(descriptor) per `const cc_domain_t cc_<x>_domain =` of the module's files,
 * and the module makes its array of them so:
 *
 *   #define CC_DOMAIN(d) extern const cc_domain_t d;
 *   #include "mod_callcenter_domains.h"
 *   #undef CC_DOMAIN
 *   #define CC_DOMAIN(d) &d,
 *   static const cc_domain_t *const domains[] = {
 *   #include "mod_callcenter_domains.h"
 *       NULL
 *   };
 */

/**
 * Check a module's domains (NULL-terminated) and the statements it shares (extra, may
 * be NULL): every route pattern well formed, every route permission NULL or in the
 * catalogue (cc_perm), every list sort with its four statements and both count
 * statements, the object's statement defined, every statement label defined once.
 * NULL when all is well, else one line naming each problem.
 */
const char *cc_domain_check(apr_pool_t *p, const cc_domain_t *const *domains,
                            const cc_stmt_t *extra);

/**
 * The names one change is recorded under: entity "did" and verb "create" give the audit
 * action "did.create" and the event type "did.created" (a verb ending in 'e' takes 'd',
 * any other "ed": "roles_update" -> "roles_updated").  A verb with a dot is the whole
 * action, for a change named apart from the entity it is about: "auth.login" on a user.
 * A verb ending in "transfer" doubles its r ("chat.session_transferred").
 */
void cc_change_names(apr_pool_t *p, const char *entity, const char *verb,
                     const char **paction, const char **pevent);

#endif
