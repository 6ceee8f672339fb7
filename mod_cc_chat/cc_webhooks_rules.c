/*
 * cc_webhooks_rules.c (core): see cc_webhooks_rules.h.
 */
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <apr_strings.h>
#include <apr_uri.h>

#include "cc_events_rules.h"
#include "cc_perm.h"
#include "cc_retry.h"
#include "cc_validate.h"
#include "cc_webhooks_rules.h"

/* ---- addresses ---- */

int cc_wh_net_parse(const char *s, cc_wh_net_t *net)
{
    const char *slash = s ? strchr(s, '/') : NULL;
    char host[64];
    apr_size_t hlen = slash ? (apr_size_t)(slash - s) : (s ? strlen(s) : 0);
    apr_int64_t bits;
    int max, i;

    if (!s || hlen == 0 || hlen >= sizeof(host)) {
        return 0;
    }
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    memset(net, 0, sizeof(*net));
    if (inet_pton(AF_INET, host, net->addr) == 1) {
        net->v6 = 0;
        max = 32;
    }
    else if (inet_pton(AF_INET6, host, net->addr) == 1) {
        net->v6 = 1;
        max = 128;
    }
    else {
        return 0;
    }
    if (!slash) {
        bits = max;
    }
    else if (!cc_parse_int(slash + 1, 0, max, &bits)) {
        return 0;
    }
    net->bits = (int)bits;
    /* No bit set past the prefix: "10.1.0.0/8" is a typo, not a network. */
    for (i = net->bits; i < max; i++) {
        if (net->addr[i / 8] & (0x80 >> (i % 8))) {
            return 0;
        }
    }
    return 1;
}

/* Whether addr (v6 or not) is inside net. */
static int in_net(int v6, const unsigned char *addr, const cc_wh_net_t *net)
{
    int full = net->bits / 8, rest = net->bits % 8;

    if (net->v6 != v6) {
        return 0;
    }
    if (memcmp(addr, net->addr, (apr_size_t)full)) {
        return 0;
    }
    return !rest || ((addr[full] ^ net->addr[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

/* The special-purpose ranges (IANA's registries) no delivery goes to unless allowed. */
static const char *const special_v4[] = {
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    NULL
};
static const char *const special_v6[] = {
    "::/96",                   /* unspecified, loopback, IPv4-compatible (deprecated) */
    "64:ff9b:1::/48",          /* local-use NAT64 (RFC 8215): a local translator */
    "100::/64", "2001::/23", "2001:db8::/32", "fc00::/7", "fe80::/10",
    "fec0::/10", "ff00::/8", NULL
};

static int in_list(int v6, const unsigned char *addr, const char *const *list)
{
    cc_wh_net_t net;

    for (; *list; list++) {
        if (cc_wh_net_parse(*list, &net) && in_net(v6, addr, &net)) {
            return 1;
        }
    }
    return 0;
}

int cc_wh_addr_allowed(int v6, const unsigned char *addr, const cc_wh_net_t *allow,
                       int nallow)
{
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    static const unsigned char translated[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0 };
    static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
    int i;

    for (i = 0; i < nallow; i++) {
        if (in_net(v6, addr, &allow[i])) {
            return 1;
        }
    }
    if (v6) {
        /* An IPv4 address inside IPv6 reaches that IPv4 host (or a translator to it). */
        if (!memcmp(addr, mapped, 12) || !memcmp(addr, translated, 12)
            || !memcmp(addr, nat64, 12)) {
            return cc_wh_addr_allowed(0, addr + 12, allow, nallow);
        }
        if (addr[0] == 0x20 && addr[1] == 0x02) {
            return cc_wh_addr_allowed(0, addr + 2, allow, nallow);
        }
        return !in_list(1, addr, special_v6);
    }
    return !in_list(0, addr, special_v4);
}

int cc_wh_sockaddr_allowed(const void *sa, const cc_wh_net_t *allow, int nallow)
{
    const struct sockaddr *a = sa;

    if (a->sa_family == AF_INET) {
        return cc_wh_addr_allowed(0, (const unsigned char *)
                                  &((const struct sockaddr_in *)sa)->sin_addr, allow, nallow);
    }
    if (a->sa_family == AF_INET6) {
        return cc_wh_addr_allowed(1, (const unsigned char *)
                                  &((const struct sockaddr_in6 *)sa)->sin6_addr, allow,
                                  nallow);
    }
    return 0;
}

/* ---- what a subscription says ---- */

const char *cc_wh_url_redacted(apr_pool_t *p, const char *url)
{
    apr_uri_t u;
    const char *rest;

    if (!url || apr_uri_parse(p, url, &u) != APR_SUCCESS || !u.scheme || !u.hostname) {
        return url ? "(not shown)" : NULL;
    }
    rest = (u.path && strcmp(u.path, "/")) || u.query ? "/..." : "/";
    return apr_pstrcat(p, u.scheme, "://", strchr(u.hostname, ':') ? "[" : "", u.hostname,
                       strchr(u.hostname, ':') ? "]" : "", u.port_str ? ":" : "",
                       u.port_str ? u.port_str : "", rest, NULL);
}

const char *cc_wh_url_issue(apr_pool_t *p, const char *url, const char **phost)
{
    apr_uri_t u;
    const char *c;

    if (!url || !*url || strlen(url) > CC_WH_URL_MAX) {
        return "must be an http:// or https:// URL of at most 2048 characters";
    }
    for (c = url; *c; c++) {
        if (*c <= ' ' || *c > '~') {
            return "must be a URL of printable ASCII without spaces (percent-encode the"
                   " rest)";
        }
    }
    if (apr_uri_parse(p, url, &u) != APR_SUCCESS || !u.scheme || !u.hostname
        || !*u.hostname || (strcasecmp(u.scheme, "http") && strcasecmp(u.scheme, "https"))) {
        return "must be an http:// or https:// URL with a host";
    }
    if (u.user || u.password) {
        return "must not carry a user or password (the signature authenticates the"
               " deliveries)";
    }
    if (u.fragment) {
        return "must not have a fragment";
    }
    if (u.port_str && (!*u.port_str || u.port == 0)) {
        return "has an invalid port";
    }
    *phost = u.hostname;
    return NULL;
}

/* A pattern's part: lowercase letters, digits and '_', at least one. */
static int word_ok(const char *s, apr_size_t len)
{
    apr_size_t i;

    if (!len) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_')) {
            return 0;
        }
    }
    return 1;
}

int cc_wh_pattern_ok(const char *pattern)
{
    const char *dot, *part, *perm;
    apr_size_t len = pattern ? strlen(pattern) : 0;

    if (!len || len > CC_WH_PATTERN_MAX) {
        return 0;
    }
    if (!strcmp(pattern, "*")) {
        return 1;
    }
    if (!(dot = strchr(pattern, '.')) || !word_ok(pattern, (apr_size_t)(dot - pattern))) {
        return 0;
    }
    /* The prefix is one the stream knows, and not a platform one. */
    perm = cc_events_type_permission(pattern);
    if (!perm || !(cc_perm_bit(perm) & cc_perm_tenant_all())) {
        return 0;
    }
    if (!strcmp(dot + 1, "*")) {
        return 1;
    }
    for (part = dot + 1;; part = dot + 1) {
        dot = strchr(part, '.');
        if (!word_ok(part, dot ? (apr_size_t)(dot - part) : strlen(part))) {
            return 0;
        }
        if (!dot) {
            return 1;
        }
    }
}

/* Whether one pattern (len bytes) matches type. */
static int pattern_match(const char *pat, apr_size_t len, const char *type)
{
    if (len == 1 && pat[0] == '*') {
        return 1;
    }
    if (len >= 2 && pat[len - 1] == '*' && pat[len - 2] == '.') {
        return !strncmp(type, pat, len - 1);         /* "ticket." of "ticket.*" */
    }
    return strlen(type) == len && !memcmp(type, pat, len);
}

int cc_wh_patterns_match(const char *patterns, const char *type)
{
    const char *p = patterns, *comma;

    if (!patterns || !type) {
        return 0;
    }
    for (;; p = comma + 1) {
        comma = strchr(p, ',');
        if (pattern_match(p, comma ? (apr_size_t)(comma - p) : strlen(p), type)) {
            return 1;
        }
        if (!comma) {
            return 0;
        }
    }
}

int cc_wh_secret_ok(const char *secret)
{
    apr_size_t len = secret ? strlen(secret) : 0, i;

    if (len < CC_WH_SECRET_MIN || len > CC_WH_SECRET_MAX) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (secret[i] <= ' ' || secret[i] > '~') {
            return 0;
        }
    }
    return 1;
}

int cc_wh_event_deliverable(const char *event_tenant, const char *type, const char *tenant)
{
    return cc_events_visible(event_tenant, type, tenant, cc_perm_tenant_all());
}

cc_wh_next_e cc_wh_after_failure(const cc_wh_policy_t *pol, int attempts,
                                 apr_int64_t head_age, apr_int64_t failing_age,
                                 apr_int64_t *pwait)
{
    apr_int64_t wait, left;

    *pwait = 0;
    if (head_age >= pol->retry_for) {
        return failing_age >= pol->disable_after ? CC_WH_DISABLE : CC_WH_DEAD;
    }
    wait = cc_backoff_seconds(attempts, pol->retry_base, pol->retry_max);
    left = pol->retry_for - head_age;
    *pwait = wait < left ? wait : (left > 1 ? left : 1);
    return CC_WH_RETRY;
}
