/* The webhook subscription rules (mod_cc_chat/cc_webhooks_rules.c): a URL, a network
 * of CCWebhookAllowNetworks, an event pattern and the address check behind the SSRF
 * refusal.
 *
 * Input: up to three lines (a URL, a network, a pattern); the last 16 bytes of the input
 * (when there are that many) are also an address.  Invariants: an accepted URL is
 * printable ASCII of at most CC_WH_URL_MAX bytes with a non-empty host; a parsed network
 * has a prefix within its family and contains its own address; an IPv4 address and its
 * IPv4-mapped IPv6 form are judged alike, with or without the network allowed; an
 * accepted pattern matches the event types it names; the failure policy's wait is within
 * [1, retry_max] and never past retry_for. */
#include <string.h>
#include "fuzz_common.h"
#include "cc_webhooks_rules.h"

static const char *line(apr_pool_t *p, const uint8_t **d, size_t *n)
{
    const uint8_t *nl = memchr(*d, '\n', *n);
    size_t len = nl ? (size_t)(nl - *d) : *n;
    const char *s = apr_pstrmemdup(p, (const char *)*d, len);

    *d += len + (nl ? 1 : 0);
    *n -= len + (nl ? 1 : 0);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const uint8_t *d = data;
    size_t n = size;
    const char *url = line(p, &d, &n), *netstr = line(p, &d, &n), *pat = line(p, &d, &n);
    const char *host = NULL, *c;
    cc_wh_net_t net;
    int have_net;

    if (!cc_wh_url_issue(p, url, &host)) {
        fuzz_check(host && *host && strlen(url) <= CC_WH_URL_MAX);
        for (c = url; *c; c++) {
            fuzz_check(*c > ' ' && *c <= '~');
        }
    }
    {
        const char *shown = cc_wh_url_redacted(p, url);

        /* Never more of the URL than scheme, host and port: no query, no path. */
        fuzz_check(shown && !strchr(shown, '?') && (!strstr(shown, "://")
                   || !strchr(strstr(shown, "://") + 3, '/')
                   || !strcmp(strchr(strstr(shown, "://") + 3, '/'), "/")
                   || !strcmp(strchr(strstr(shown, "://") + 3, '/'), "/...")));
    }
    have_net = cc_wh_net_parse(netstr, &net);
    if (have_net) {
        fuzz_check(net.bits >= 0 && net.bits <= (net.v6 ? 128 : 32));
        fuzz_check(cc_wh_addr_allowed(net.v6, net.addr, &net, 1));
    }
    if (size >= 16) {
        const unsigned char *a = data + size - 16;
        unsigned char mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

        memcpy(mapped + 12, a, 4);
        fuzz_check(cc_wh_addr_allowed(0, a, NULL, 0) == cc_wh_addr_allowed(1, mapped, NULL, 0));
        if (have_net && !net.v6) {
            fuzz_check(cc_wh_addr_allowed(0, a, &net, 1)
                       == cc_wh_addr_allowed(1, mapped, &net, 1));
        }
        (void)cc_wh_addr_allowed(1, a, have_net ? &net : NULL, have_net);
    }
    if (cc_wh_pattern_ok(pat)) {
        apr_size_t len = strlen(pat);

        if (len >= 2 && pat[len - 1] == '*') {
            fuzz_check(cc_wh_patterns_match(pat, apr_pstrcat(p, apr_pstrndup(p, pat, len - 1),
                                                             "x", NULL)));
        }
        else if (strcmp(pat, "*")) {
            fuzz_check(cc_wh_patterns_match(pat, pat));
            fuzz_check(!cc_wh_patterns_match(pat, apr_pstrcat(p, pat, "x", NULL)));
        }
    }
    {
        static const cc_wh_policy_t pol = { 3, 100, 1000, 5000 };
        apr_int64_t wait;
        int attempts = size ? data[0] : 1;
        apr_int64_t head = (apr_int64_t)(size > 1 ? data[1] : 0) * 5;

        if (cc_wh_after_failure(&pol, attempts, head, head, &wait) == CC_WH_RETRY) {
            fuzz_check(wait >= 1 && wait <= pol.retry_max
                       && (head + wait <= pol.retry_for || wait == 1));
        }
    }
    apr_pool_destroy(p);
    return 0;
}
