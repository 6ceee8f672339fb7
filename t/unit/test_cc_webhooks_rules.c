/**
 * @file test_cc_webhooks_rules.c
 * @brief Unit tests for the pure webhook rules: networks, which addresses a delivery may
 *        reach, subscription URLs, event patterns, secrets and what follows a failure.
 */
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <apr_strings.h>

#include "cc_test.h"
#include "cc_webhooks_rules.h"

/* ---- networks and addresses ---- */

static const struct {
    const char *s;
    int ok, v6, bits;
} nets[] = {
    { "10.0.0.0/8", 1, 0, 8 },
    { "127.0.0.1", 1, 0, 32 },
    { "0.0.0.0/0", 1, 0, 0 },
    { "fd00::/8", 1, 1, 8 },
    { "::1", 1, 1, 128 },
    { "10.1.0.0/8", 0, 0, 0 },            /* host bits past the prefix */
    { "10.0.0.0/33", 0, 0, 0 },
    { "10.0.0.0/", 0, 0, 0 },
    { "10.0.0.0/-1", 0, 0, 0 },
    { "fd00::/129", 0, 0, 0 },
    { "example.com", 0, 0, 0 },
    { "", 0, 0, 0 },
    { "/8", 0, 0, 0 },
    { "10.0.0.0/8 ", 0, 0, 0 },
};

START_TEST(net_parse)
{
    cc_wh_net_t n;
    int ok = cc_wh_net_parse(nets[_i].s, &n);

    ck_assert_msg(ok == nets[_i].ok, "case %d", _i);
    if (ok) {
        ck_assert_int_eq(n.v6, nets[_i].v6);
        ck_assert_int_eq(n.bits, nets[_i].bits);
    }
}
END_TEST

static int allowed(const char *addr, const char *allow)
{
    unsigned char a[16];
    cc_wh_net_t net;
    int v6 = strchr(addr, ':') != NULL;

    ck_assert(inet_pton(v6 ? AF_INET6 : AF_INET, addr, a) == 1);
    if (allow) {
        ck_assert(cc_wh_net_parse(allow, &net));
    }
    return cc_wh_addr_allowed(v6, a, allow ? &net : NULL, allow ? 1 : 0);
}

static const struct {
    const char *addr;
    int ok;
} addrs[] = {
    { "93.184.216.34", 1 }, { "8.8.8.8", 1 }, { "2606:4700::1111", 1 },
    { "0.0.0.0", 0 }, { "0.1.2.3", 0 }, { "10.1.2.3", 0 }, { "100.64.0.1", 0 },
    { "100.128.0.1", 1 }, { "127.0.0.1", 0 }, { "127.255.255.254", 0 },
    { "169.254.169.254", 0 }, { "172.16.0.1", 0 }, { "172.31.255.255", 0 },
    { "172.32.0.1", 1 }, { "192.0.0.8", 0 }, { "192.0.2.1", 0 }, { "192.168.0.1", 0 },
    { "198.18.0.1", 0 }, { "198.20.0.1", 1 }, { "198.51.100.7", 0 }, { "203.0.113.9", 0 },
    { "224.0.0.1", 0 }, { "239.255.255.250", 0 }, { "240.0.0.1", 0 },
    { "255.255.255.255", 0 },
    { "::", 0 }, { "::1", 0 }, { "fe80::1", 0 }, { "fc00::1", 0 }, { "fd12:3456::1", 0 },
    { "fec0::1", 0 }, { "ff02::1", 0 }, { "2001:db8::1", 0 }, { "100::1", 0 },
    { "::ffff:127.0.0.1", 0 }, { "::ffff:10.0.0.1", 0 }, { "::ffff:8.8.8.8", 1 },
    { "::10.0.0.1", 0 }, { "::0.0.1.2", 0 }, { "64:ff9b::a00:1", 0 },
    { "64:ff9b::808:808", 1 }, { "64:ff9b:1::808:808", 0 }, { "::ffff:0:a00:1", 0 },
    { "::ffff:0:808:808", 1 },
    { "2002:a00:1::", 0 }, { "2002:808:808::", 1 },
};

START_TEST(special_addresses_are_refused)
{
    ck_assert_msg(allowed(addrs[_i].addr, NULL) == addrs[_i].ok, "case %d: %s", _i,
                  addrs[_i].addr);
}
END_TEST

START_TEST(an_allowed_network_lets_special_addresses_through)
{
    ck_assert(allowed("127.0.0.1", "127.0.0.0/8"));
    ck_assert(allowed("::ffff:127.0.0.5", "127.0.0.0/8"));   /* judged as IPv4 */
    ck_assert(!allowed("::1", "127.0.0.0/8"));
    ck_assert(allowed("::1", "::1"));
    ck_assert(allowed("10.20.3.4", "10.20.0.0/16"));
    ck_assert(!allowed("10.21.3.4", "10.20.0.0/16"));
    ck_assert(allowed("10.20.3.4", "10.20.3.4"));
    ck_assert(!allowed("10.20.3.5", "10.20.3.4"));
    ck_assert(allowed("172.16.0.1", "172.16.0.0/12"));
    ck_assert(allowed("172.31.0.1", "172.16.0.0/13") == 0);
    ck_assert(allowed("fd00::5", "fd00::/8"));
}
END_TEST

START_TEST(sockaddr_forms)
{
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
    struct sockaddr other;

    memset(&in4, 0, sizeof(in4));
    in4.sin_family = AF_INET;
    inet_pton(AF_INET, "10.0.0.1", &in4.sin_addr);
    ck_assert(!cc_wh_sockaddr_allowed(&in4, NULL, 0));
    inet_pton(AF_INET, "8.8.4.4", &in4.sin_addr);
    ck_assert(cc_wh_sockaddr_allowed(&in4, NULL, 0));
    memset(&in6, 0, sizeof(in6));
    in6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::1", &in6.sin6_addr);
    ck_assert(!cc_wh_sockaddr_allowed(&in6, NULL, 0));
    memset(&other, 0, sizeof(other));
    other.sa_family = AF_UNIX;
    ck_assert(!cc_wh_sockaddr_allowed(&other, NULL, 0));
}
END_TEST

/* ---- URLs ---- */

static const struct {
    const char *url, *host;       /* host NULL: refused */
} urls[] = {
    { "https://hooks.example.com/a?b=c", "hooks.example.com" },
    { "http://127.0.0.1:8080/x", "127.0.0.1" },
    { "http://[::1]:80/x", "::1" },
    { "HTTPS://Example.com", "Example.com" },
    { "ftp://example.com/", NULL },
    { "example.com/hook", NULL },
    { "http:///x", NULL },
    { "http://user:pw@example.com/", NULL },
    { "http://example.com/#frag", NULL },
    { "http://example.com/a b", NULL },
    { "http://example.com/\xc3\xa9", NULL },
    { "http://example.com:/x", NULL },
    { "http://example.com:0/x", NULL },
    { "", NULL },
};

START_TEST(url_issue)
{
    const char *host = NULL;
    const char *issue = cc_wh_url_issue(cc_test_pool, urls[_i].url, &host);

    if (urls[_i].host) {
        ck_assert_msg(!issue, "case %d: %s", _i, issue);
        ck_assert_str_eq(host, urls[_i].host);
    }
    else {
        ck_assert_msg(issue != NULL, "case %d accepted", _i);
    }
}
END_TEST

START_TEST(url_length)
{
    const char *host;
    char *u = apr_pstrcat(cc_test_pool, "http://example.com/", NULL);
    char *big = apr_palloc(cc_test_pool, CC_WH_URL_MAX + 2);

    memset(big, 'a', CC_WH_URL_MAX + 1);
    big[CC_WH_URL_MAX + 1] = '\0';
    memcpy(big, u, strlen(u));
    ck_assert(cc_wh_url_issue(cc_test_pool, big, &host) != NULL);
    big[CC_WH_URL_MAX] = '\0';
    ck_assert(cc_wh_url_issue(cc_test_pool, big, &host) == NULL);
}
END_TEST

static const struct {
    const char *url, *shown;
} redactions[] = {
    { "https://hooks.slack.com/services/T0/B0/XXXX", "https://hooks.slack.com/..." },
    { "http://127.0.0.1:8080/x?token=abc", "http://127.0.0.1:8080/..." },
    { "https://example.com", "https://example.com/" },
    { "https://example.com/", "https://example.com/" },
    { "https://example.com/?k=v", "https://example.com/..." },
    { "http://[::1]:9/a", "http://[::1]:9/..." },
    { "not a url", "(not shown)" },
};

START_TEST(url_redacted)
{
    cc_test_assert_str_or_null(cc_wh_url_redacted(cc_test_pool, redactions[_i].url),
                               redactions[_i].shown);
}
END_TEST

/* ---- patterns and secrets ---- */

static const struct {
    const char *s;
    int ok;
} patterns[] = {
    { "*", 1 }, { "did.*", 1 }, { "did.created", 1 }, { "ticket.sla_breached", 1 },
    { "chat.session_transferred", 1 }, { "webhook.disabled", 1 }, { "a.b", 0 },
    { "tenant.*", 0 },              /* a platform type: never a tenant's */
    { "nope.*", 0 }, { "did", 0 }, { "did.", 0 }, { ".did", 0 }, { "did.*.x", 0 },
    { "did.Created", 0 }, { "DID.created", 0 }, { "did.cre ated", 0 }, { "**", 0 },
    { "did.x.y", 1 }, { "did..x", 0 }, { "", 0 }, { NULL, 0 },
    { "did.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0 },
};
CC_PREDICATE_TEST(pattern_ok, cc_wh_pattern_ok, patterns)

START_TEST(patterns_match)
{
    ck_assert(cc_wh_patterns_match("*", "did.created"));
    ck_assert(cc_wh_patterns_match("did.*", "did.created"));
    ck_assert(!cc_wh_patterns_match("did.*", "dids.created"));
    ck_assert(!cc_wh_patterns_match("did.*", "did_x.created"));
    ck_assert(cc_wh_patterns_match("ticket.created,did.*", "did.deleted"));
    ck_assert(cc_wh_patterns_match("ticket.created,did.*", "ticket.created"));
    ck_assert(!cc_wh_patterns_match("ticket.created,did.*", "ticket.updated"));
    ck_assert(!cc_wh_patterns_match("ticket.created", "ticket.created2"));
    ck_assert(!cc_wh_patterns_match("ticket.created", "ticket.create"));
    ck_assert(!cc_wh_patterns_match("", "did.created"));
    ck_assert(!cc_wh_patterns_match(NULL, "did.created"));
    ck_assert(!cc_wh_patterns_match("*", NULL));
}
END_TEST

static const struct {
    const char *s;
    int ok;
} secrets[] = {
    { "0123456789abcdef", 1 }, { "0123456789abcde", 0 }, { "with a space 12345", 0 },
    { "tab\there-0123456789", 0 }, { "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                     "\xc3\xa9\xc3\xa9", 0 },
    { "!\"#$%&'()*+,-./:;<=>?@[]^_`{|}~", 1 }, { NULL, 0 },
};
CC_PREDICATE_TEST(secret_ok, cc_wh_secret_ok, secrets)

START_TEST(deliverable_events)
{
    const char *t = "11111111-1111-1111-1111-111111111111";

    ck_assert(cc_wh_event_deliverable(t, "did.created", t));
    ck_assert(!cc_wh_event_deliverable("22222222-2222-2222-2222-222222222222", "did.created",
                                       t));
    ck_assert(!cc_wh_event_deliverable(t, "tenant.updated", t));
    ck_assert(!cc_wh_event_deliverable(t, "mystery.thing", t));
    ck_assert(!cc_wh_event_deliverable(NULL, "did.created", t));
}
END_TEST

/* ---- after a failure ---- */

static const cc_wh_policy_t pol = { 10, 3600, 21600, 86400 };

static const struct {
    int attempts;
    apr_int64_t head_age, failing_age;
    cc_wh_next_e next;
    apr_int64_t wait;
} failures[] = {
    { 1, 0, 0, CC_WH_RETRY, 10 },
    { 2, 10, 10, CC_WH_RETRY, 20 },
    { 5, 150, 150, CC_WH_RETRY, 160 },
    { 12, 15000, 15000, CC_WH_RETRY, 3600 },
    { 13, 20000, 20000, CC_WH_RETRY, 1600 },      /* the last call falls at retry_for */
    { 14, 21599, 21599, CC_WH_RETRY, 1 },
    { 14, 21600, 21600, CC_WH_DEAD, 0 },
    { 1, 0, 86399, CC_WH_RETRY, 10 },             /* a new event, failing for a while */
    { 1, 0, 90000, CC_WH_RETRY, 10 },             /* one failure after a quiet day */
    { 14, 21600, 86399, CC_WH_DEAD, 0 },
    { 14, 21600, 86400, CC_WH_DISABLE, 0 },       /* its window spent, failing a day */
    { 30, 30000, 90000, CC_WH_DISABLE, 0 },
};

START_TEST(after_failure)
{
    apr_int64_t wait = -1;
    cc_wh_next_e next = cc_wh_after_failure(&pol, failures[_i].attempts,
                                            failures[_i].head_age, failures[_i].failing_age,
                                            &wait);

    ck_assert_msg(next == failures[_i].next, "case %d: %d", _i, (int)next);
    ck_assert_msg(wait == failures[_i].wait, "case %d: wait %ld", _i, (long)wait);
}
END_TEST

CC_TEST_SUITE("cc_webhooks_rules",
    CC_TCASE("addresses"),
        CC_LOOP_TEST(net_parse, N(nets)),
        CC_LOOP_TEST(special_addresses_are_refused, N(addrs)),
        CC_TEST(an_allowed_network_lets_special_addresses_through),
        CC_TEST(sockaddr_forms),
    CC_TCASE("subscriptions"),
        CC_LOOP_TEST(url_issue, N(urls)),
        CC_TEST(url_length),
        CC_LOOP_TEST(url_redacted, N(redactions)),
        CC_LOOP_TEST(pattern_ok, N(patterns)),
        CC_TEST(patterns_match),
        CC_LOOP_TEST(secret_ok, N(secrets)),
        CC_TEST(deliverable_events),
    CC_TCASE("failures"),
        CC_LOOP_TEST(after_failure, N(failures)))
