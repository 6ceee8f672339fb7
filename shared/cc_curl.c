/*
 * cc_curl.c (glue): see cc_curl.h.
 */
#include <apr_strings.h>

#include "cc_curl.h"

static apr_status_t global_cleanup(void *data)
{
    (void)data;
    curl_global_cleanup();
    return APR_SUCCESS;
}

apr_status_t cc_curl_global(apr_pool_t *pconf)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return APR_EGENERAL;
    }
    apr_pool_cleanup_register(pconf, NULL, global_cleanup, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

static size_t drop(char *data, size_t size, size_t n, void *baton)
{
    (void)data;
    (void)baton;
    return size * n;
}

CURL *cc_curl_post(const char *url, const char *body, apr_size_t len,
                   const struct curl_slist *hdrs, long connect_timeout, long timeout,
                   const char *agent, curl_write_callback write, void *baton, char *errbuf)
{
    CURL *h = curl_easy_init();

    if (!h) {
        return NULL;
    }
    errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    /* No signals from a thread of httpd (a timeout must not raise SIGALRM). */
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, connect_timeout);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(h, CURLOPT_USERAGENT, agent);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write ? write : drop);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, baton);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    return h;
}

void cc_curl_perform(apr_pool_t *p, CURL *h, const char *who, const char *errbuf,
                     long *pstatus, const char **pno_answer)
{
    CURLcode rc = curl_easy_perform(h);

    *pstatus = 0;
    *pno_answer = NULL;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, pstatus);
    }
    else {
        *pno_answer = apr_psprintf(p, "no answer from %s: %s", who,
                                   errbuf[0] ? errbuf : curl_easy_strerror(rc));
    }
    curl_easy_cleanup(h);
}
