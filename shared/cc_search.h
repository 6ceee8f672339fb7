/**
 * @file cc_search.h
 * @brief (core) Search terms: the words a row is found by (a terms table indexed by
 *        (tenant_id, term)), and the prefix a query's q= is matched with.  No httpd and no
 *        database: unit-tested (t/unit/test_cc_search.c).
 *
 * A term is normalised text: ASCII letters lowercased (other characters as they are),
 * runs of white space and control characters (cc_control_len) one space, trimmed, at
 * most CC_SEARCH_TERM_MAX bytes (cut on a UTF-8 character boundary).  A query is
 * matched as a prefix of terms (term LIKE 'q%'), so a row is found by the start of any
 * of its words, of its whole name, of its email, its email's domain, or by any run of
 * digits of its phone number (every suffix of the phone's digits of at least
 * CC_SEARCH_PHONE_MIN digits is a term, and a prefix of a suffix is a substring), or for
 * a subject from the start of any of its words on (CC_SEARCH_PHRASE).
 */
#ifndef CC_SEARCH_H
#define CC_SEARCH_H

#include <apr_pools.h>
#include <apr_tables.h>

#define CC_SEARCH_TERM_MAX   254   /* contact_terms.term VARCHAR(254) (sql/018_helpdesk.sql) */
#define CC_SEARCH_PHONE_MIN  3

/** What a row's text field is, for the terms it gives. */
typedef enum {
    CC_SEARCH_TEXT,      /**< a name, a company: the whole text, each part between white
                              space ("o'brien", "jean-luc"), and each word (split at
                              ASCII characters other than letters and digits: "o",
                              "brien") */
    CC_SEARCH_EMAIL,     /**< the whole address, its local part, its domain (split at
                              the last '@') */
    CC_SEARCH_PHONE,     /**< E.164: its digits (no '+'; any other character is
                              skipped) and their suffixes of at least
                              CC_SEARCH_PHONE_MIN digits */
    CC_SEARCH_PHRASE     /**< a subject: the text from each place a part or a word
                              starts to its end ("printer on fire", "on fire", "fire"),
                              so a query matches from the start of any word, several
                              words included; a part starts after white space, a word
                              at an ASCII letter or digit after another ASCII
                              character ("snake_case": "snake_case", "case") */
} cc_search_kind_e;

/**
 * Add the terms of s (NULL or empty: none) to terms (an array of const char *), without
 * duplicates of terms already there; terms shorter than 1 byte are never added.  s that
 * is not valid UTF-8 gives none.  The terms are allocated in p.
 */
void cc_search_terms_add(apr_pool_t *p, apr_array_header_t *terms, const char *s,
                         cc_search_kind_e kind);

/** The terms as a JSON array text (for JSON_TABLE in one INSERT), "[]" when none;
 * NULL, empty or invalid UTF-8 entries are left out. */
const char *cc_search_terms_json(apr_pool_t *p, const apr_array_header_t *terms);

/**
 * The LIKE pattern for a query q (valid UTF-8, checked by the caller): when q without
 * ' ', '-', '.', '(', ')' is an optional '+' and 1 or more digits, the digits; else q
 * normalised as a term (both at most CC_SEARCH_TERM_MAX bytes).  LIKE's '\\', '%' and
 * '_' escaped (cc_like_prefix), then '%' appended.  NULL when nothing is left (q NULL,
 * empty or only spaces) and, defensively, when q is not valid UTF-8.
 * "+1 (555) 010" -> "1555010%"; "50%_\\" -> "50\\%\\_\\\\%".
 */
const char *cc_search_prefix(apr_pool_t *p, const char *q);

/**
 * The LIKE pattern for a query q of CC_SEARCH_PHRASE terms (a subject has no phone
 * digits): always q normalised as a term, so "1.2" and "2024-01" stay what they are;
 * escaped, '%' appended and NULL for nothing left or invalid UTF-8 as cc_search_prefix.
 */
const char *cc_search_phrase_prefix(apr_pool_t *p, const char *q);

#endif
