/**
 * @file cc_webhooks_rules.h
 * @brief (core) The pure part of outbound webhooks (README "Webhooks"): what a
 *        subscription's URL, event patterns and secret may be, which addresses a delivery
 *        may connect to (no loopback, private, link-local or otherwise special address
 *        unless a configured network allows it), which events a subscription is sent,
 *        and what comes after a failed call.  No httpd, no database, no libcurl:
 *        unit-tested (t/unit/test_cc_webhooks_rules.c); cc_webhooks.c and
 *        cc_webhooks_job.c are its glue.
 */
#ifndef CC_WEBHOOKS_RULES_H
#define CC_WEBHOOKS_RULES_H

#include <apr_pools.h>
#include <apr_tables.h>

/** A subscription's URL, at most this many bytes. */
#define CC_WH_URL_MAX 2048
/** Its event patterns: 1 to this many, each at most CC_WH_PATTERN_MAX bytes. */
#define CC_WH_PATTERNS_MAX 50
#define CC_WH_PATTERN_MAX 64
/** A secret given by the client: this many to CC_WH_SECRET_MAX printable ASCII
 *  characters, no space. */
#define CC_WH_SECRET_MIN 16
#define CC_WH_SECRET_MAX 256
/** Its description, in characters. */
#define CC_WH_DESCRIPTION_MAX 500

/** A network of CCWebhookAllowNetworks: an address and a prefix length. */
typedef struct cc_wh_net_t {
    int v6;                       /**< 0: IPv4 (addr[0..3]), 1: IPv6 */
    unsigned char addr[16];
    int bits;
} cc_wh_net_t;

/**
 * "10.0.0.0/8", "127.0.0.1" (one address), "fd00::/8", "::1": 1 and *net, or 0 (not an
 * address, a prefix out of range, or host bits set past the prefix).
 */
int cc_wh_net_parse(const char *s, cc_wh_net_t *net);

/**
 * Whether a delivery may connect to the address (v6: 16 bytes, else 4): a public
 * unicast address, or one inside a network of allow (nallow of them; may be NULL).
 * Refused otherwise: "this network" (0/8), private (10/8, 172.16/12, 192.168/16), shared
 * (100.64/10), loopback (127/8, ::1), link-local (169.254/16, fe80::/10), the IETF's and
 * documentation ranges, benchmarking (198.18/15), multicast, reserved (240/4) and
 * broadcast; IPv6 ::/96 (unspecified, loopback, IPv4-compatible), local-use NAT64
 * (64:ff9b:1::/48), unique-local (fc00::/7), site-local, link-local, multicast; and an
 * IPv4 address carried in IPv6 (mapped ::ffff:0:0/96, translated ::ffff:0:0:0/96, NAT64
 * 64:ff9b::/96, 6to4 2002::/16) is judged as that IPv4 address.
 */
int cc_wh_addr_allowed(int v6, const unsigned char *addr, const cc_wh_net_t *allow,
                       int nallow);

/** cc_wh_addr_allowed of a socket address (AF_INET or AF_INET6; any other is refused). */
int cc_wh_sockaddr_allowed(const void *sa, const cc_wh_net_t *allow, int nallow);

/**
 * A subscription URL: http or https, a host, no user or password, no fragment, at most
 * CC_WH_URL_MAX bytes of printable ASCII.  NULL and *phost (its host, an IPv6 literal
 * without brackets), or the issue for a 400.
 */
const char *cc_wh_url_issue(apr_pool_t *p, const char *url, const char **phost);

/**
 * A URL as audit entries and events show it: scheme, host and port, and "/..." for the
 * path and query it had (a receiver's URL may carry its credential: a Slack-style path,
 * a token parameter), or "/" without them.
 */
const char *cc_wh_url_redacted(apr_pool_t *p, const char *url);

/**
 * An event pattern: "*" (every event the tenant may see), "<prefix>.*" or a whole type
 * "<prefix>.<name>", where prefix is an event type prefix the event stream knows
 * (cc_events_type_permission) and not a platform one; lowercase letters, digits and
 * '_' around the dots.
 */
int cc_wh_pattern_ok(const char *pattern);

/** Whether a type is matched by one of patterns (comma-separated, as stored). */
int cc_wh_patterns_match(const char *patterns, const char *type);

/** A secret a client gives: CC_WH_SECRET_MIN to CC_WH_SECRET_MAX characters of
 *  printable ASCII without space. */
int cc_wh_secret_ok(const char *secret);

/** Whether the event (its tenant and type) is one a subscription of tenant is sent at
 *  all: the tenant's own, of a type a tenant administrator sees on the event stream. */
int cc_wh_event_deliverable(const char *event_tenant, const char *type, const char *tenant);

/** How long failures go on before the job gives up (CCWebhook* directives, seconds). */
typedef struct cc_wh_policy_t {
    apr_int64_t retry_base;       /**< the first wait */
    apr_int64_t retry_max;        /**< the longest wait */
    apr_int64_t retry_for;        /**< an event's calls, from its first failure */
    apr_int64_t disable_after;    /**< failures without a delivery between */
} cc_wh_policy_t;

/** What comes after a failed call. */
typedef enum {
    CC_WH_RETRY,      /**< call again after *pwait seconds */
    CC_WH_DEAD,       /**< the event is a dead letter: go on with the next one */
    CC_WH_DISABLE     /**< the subscription has failed too long: disable it */
} cc_wh_next_e;

/**
 * After the call number attempts (1 for the first) for an event failed, head_age
 * seconds after the event's first failed call (0 for the first) and failing_age seconds
 * after the first failure since the last delivery: once head_age reaches retry_for, the
 * event's retries are spent: CC_WH_DISABLE when failing_age has reached disable_after
 * (the event stays, for when it is enabled again), else CC_WH_DEAD; before that
 * CC_WH_RETRY after cc_backoff_seconds(attempts, retry_base, retry_max), cut so that
 * the last call falls at retry_for (at least 1 s).  So a subscription is disabled only
 * by an event that failed for its whole window, never by one failure after a quiet
 * time.
 */
cc_wh_next_e cc_wh_after_failure(const cc_wh_policy_t *pol, int attempts,
                                 apr_int64_t head_age, apr_int64_t failing_age,
                                 apr_int64_t *pwait);

#endif
