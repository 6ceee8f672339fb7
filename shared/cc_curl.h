/**
 * @file cc_curl.h
 * @brief (glue) Outbound HTTP POSTs of the background jobs (the SMS provider's calls, the
 *        webhook deliveries) through libcurl, as mod_md does: the options every such call
 *        takes, in one place.  Linked only by the modules that call out (libcurl).
 */
#ifndef CC_CURL_H
#define CC_CURL_H

#include <curl/curl.h>
#include <apr_pools.h>

/**
 * Once per configuration, from post_config (before any thread): curl_global_init, and
 * curl_global_cleanup when pconf goes (libcurl counts them: several modules may).
 * APR_SUCCESS, or APR_EGENERAL when libcurl failed to initialise.
 */
apr_status_t cc_curl_global(apr_pool_t *pconf);

/**
 * A handle for a POST of len bytes of body to url (http or https only), headers hdrs, no
 * redirect followed, no proxy from the environment, no signal (a thread of httpd), the
 * timeouts in seconds, user agent agent, the answer's body to write (NULL: read and
 * dropped) with baton, errbuf (CURL_ERROR_SIZE) for the reason of a failure.  NULL when
 * no handle could be made.  The caller adds its own options, then cc_curl_perform.
 */
CURL *cc_curl_post(const char *url, const char *body, apr_size_t len,
                   const struct curl_slist *hdrs, long connect_timeout, long timeout,
                   const char *agent, curl_write_callback write, void *baton, char *errbuf);

/**
 * Perform h and clean it up: *pstatus the HTTP status, or 0 when there was no answer and
 * then *pno_answer (in p) "no answer from <who>: <libcurl's reason>".
 */
void cc_curl_perform(apr_pool_t *p, CURL *h, const char *who, const char *errbuf,
                     long *pstatus, const char **pno_answer);

#endif
