/**
 * @file cc_asterisk.h
 * @brief (core) How our objects are named in Asterisk's realtime namespace, and the
 *        validators of the values we write there.  Pure functions, unit-tested.
 *
 * Asterisk's ids are platform-wide (one Asterisk serves every tenant), so each is built
 * from the tenant's "Asterisk key": its slug when the slug has at most CC_AST_KEY_MAX
 * characters, else the slug's first 11 characters, '_' and 12 hex digits of the slug's
 * SHA-256 (a slug never contains '_', so a derived key never equals a real slug).  The
 * cap exists because ps_auths.username, ps_endpoints.context and ps_endpoints.mailboxes
 * are VARCHAR(40):
 *   endpoint / auth / aor id:  <key>-<extension>        (<= 24 + 1 + 8 = 33)
 *   dialplan and voicemail context: tenant-<key>         (<= 31)
 *   mailbox:                   <extension>@tenant-<key>  (<= 40)
 *   queue name:                <key>-<queue slug>[_<id>] (<= 80: queue_members.queue_name)
 *   member interface:          PJSIP/<endpoint id>       (<= 39)
 *   the tenant's own music-on-hold classes: <key>-<name>, name without '-' (see below)
 * Slugs are immutable (mod_cc_tenant), so a tenant's names never change.
 */
#ifndef CC_ASTERISK_H
#define CC_ASTERISK_H

#include <apr_pools.h>

#define CC_AST_KEY_MAX        24
#define CC_AST_QUEUE_NAME_MAX 80   /**< queue_members.queue_name VARCHAR(80) */
#define CC_AST_CALLERID_MAX   40   /**< ps_endpoints.callerid VARCHAR(40), characters */
/* app_queue keeps a member's name and pause reason in char[80] buffers (ast_copy_string:
 * at most 79 bytes), narrower than their VARCHAR(80) columns. */
#define CC_AST_MEMBERNAME_MAX 79   /**< bytes */
#define CC_AST_REASON_MAX     79   /**< bytes */
#define CC_AST_RT_COLUMN_MAX  80   /**< membername, reason_paused: VARCHAR(80), characters */
#define CC_AST_MOH_MAX        128  /**< queues.musiconhold VARCHAR(128) */
#define CC_AST_PASSWORD_MIN   12
#define CC_AST_PASSWORD_MAX   80   /**< ps_auths.password VARCHAR(80) */
#define CC_AST_PASSWORD_GEN   32   /**< length of a generated SIP password */

/** The tenant's Asterisk key (see the file comment); slug must be a valid slug. */
const char *cc_ast_tenant_key(apr_pool_t *p, const char *slug);

/** The tenant's dialplan (and voicemail) context: "tenant-<key>". */
const char *cc_ast_context(apr_pool_t *p, const char *slug);

/** The id of an extension's ps_endpoints, ps_auths and ps_aors rows: "<key>-<ext>". */
const char *cc_ast_endpoint_id(apr_pool_t *p, const char *slug, const char *extension);

/** A queue member's interface (and state_interface): "PJSIP/<endpoint id>". */
const char *cc_ast_interface(apr_pool_t *p, const char *endpoint_id);

/** The voicemail box of an extension, for `mailboxes`: "<ext>@tenant-<key>". */
const char *cc_ast_mailbox(apr_pool_t *p, const char *slug, const char *extension);

/**
 * The endpoint ACL that shuts an endpoint out of Asterisk while its tenant is not active
 * (ps_endpoints.deny, with permit NULL): every IPv4 and IPv6 address, v4-mapped ones
 * included (main/acl.c reads a comma-separated list, and an IPv4 rule applies to an
 * IPv4-mapped IPv6 source).  res_pjsip checks it on every request (pjsip_distributor.c
 * apply_acls) and handles a denied one as from no endpoint: a 401 challenge nothing can
 * answer, so REGISTER and INVITE both fail.  Fits the column (VARCHAR(95)) and holds no
 * ';' or '^' (cc_ast_rt_encode leaves it as it is).
 */
#define CC_AST_DENY_ALL "0.0.0.0/0,::/0"

/**
 * Patterns for every registration of the tenant's extensions in ps_contacts: *plike a
 * LIKE prefix of the ids ("<key>-%", with '_' and '%' escaped), which an index range can
 * serve, *pid_regex the ids themselves ("^<key>-[0-9]+;@": an AOR id then ";@"),
 * *pendpoint_regex the endpoint column ("^<key>-[0-9]+$").  Keys hold [a-z0-9_-]
 * only, nothing a regular expression treats specially; "<key>-" followed by digits and
 * ";@" is never another tenant's (its key would be "<key>-<digits>", whose ids carry a
 * second '-').
 */
void cc_ast_contact_patterns(apr_pool_t *p, const char *slug, const char **plike,
                             const char **pid_regex, const char **pendpoint_regex);

/** Extension: 2 to 8 ASCII digits (API.md); leading zeros allowed. */
int cc_valid_extension(const char *s);

/**
 * name as an Asterisk-safe slug: ASCII letters and digits lower-cased, every other run
 * of bytes (spaces, punctuation, non-ASCII) one '-', none leading or trailing; "queue"
 * when nothing is left.  At most max bytes (a cut never leaves a trailing '-').
 */
const char *cc_ast_slugify(apr_pool_t *p, const char *name, apr_size_t max);

/**
 * A queue's Asterisk name: "<key>-<slug of name>", at most CC_AST_QUEUE_NAME_MAX.  With
 * id != NULL the fallback used when that name is taken: the same, cut to leave room, then
 * "_<id>".  A slug never contains '_' and a derived key has its one '_' followed by 12 hex
 * digits and '-', so a fallback never equals a base name, and two fallbacks differ in
 * the id after their last '_': base then fallback always finds a free name.
 */
const char *cc_ast_queue_name(apr_pool_t *p, const char *slug, const char *name,
                              const char *id);

/**
 * Codec list for `allow`: comma-separated names from the supported set (ulaw, alaw,
 * g722, g729, gsm, opus, ilbc, speex, g726, slin, h264, vp8, vp9), 1 to 10, no repeats,
 * spaces around names ignored, case-insensitive.  *pcanonical (optional) gets the list
 * lower-cased, joined by ','.  Returns 1 when valid.
 */
int cc_ast_parse_codecs(apr_pool_t *p, const char *allow, const char **pcanonical);

/*
 * Music-on-hold classes share Asterisk's namespace too, and res_musiconhold matches their
 * names case-insensitively (an unknown class plays "default").  Two kinds, disjoint:
 *   global:      no '-' (e.g. "default", "jazz"); which ones a queue may use is the
 *                operator's list (mod_callcenter's CCMusicOnHoldClasses);
 *   a tenant's:  "<key>-<name>", name one or more of [A-Za-z0-9_] (no '-'): the class
 *                belongs to the tenant whose key is everything before its last '-'.
 * A key may contain '-' (slugs do) but a name part never does, so the split is unique:
 * "acme-eu-hold" is acme-eu's, never acme's (whose would be "acme-eu_hold"), and a
 * tenant can name no class another tenant owns.  Case is ignored as Asterisk ignores it.
 */

/** Music-on-hold class: 1..128 of [A-Za-z0-9_-]. */
int cc_ast_valid_moh_class(const char *s);

/** A global music-on-hold class: a valid class without '-'. */
int cc_ast_valid_moh_global(const char *s);

/** 1 when s is a class of the tenant (slug): "<key>-<name>" as above, case-insensitively. */
int cc_ast_moh_is_tenants(apr_pool_t *p, const char *slug, const char *s);

/**
 * 1 when the tenant (slug) may use class s: a valid class that is one of globals
 * (NULL-terminated; case-insensitively) or the tenant's own (cc_ast_moh_is_tenants).
 */
int cc_ast_moh_allowed(apr_pool_t *p, const char *slug, const char *const *globals,
                       const char *s);

/**
 * A SIP password a client chose: CC_AST_PASSWORD_MIN..CC_AST_PASSWORD_MAX printable
 * ASCII characters, no spaces, quotes, backslashes or semicolons (config-file and
 * dial-string hazards) and no '^' (Asterisk's realtime drivers decode "^XX").
 */
int cc_ast_valid_sip_password(const char *s);

/** A generated SIP password: CC_AST_PASSWORD_GEN characters of [A-Za-z0-9] from APR's
 *  random source, unbiased.  APR_SUCCESS or the random source's error. */
apr_status_t cc_ast_generate_sip_password(apr_pool_t *p, const char **ppassword);

/*
 * Asterisk's realtime drivers (res_config_odbc, res_config_mysql) split a value they
 * read at ';' (app_queue keeps the last piece), strip each piece's surrounding blanks
 * and turn "^XX" (two upper-case hex digits) into the byte XX; their own writers store
 * ';' as "^3B" and '^' as "^5E".  So every free text we write into a realtime column is
 * encoded the same way (a user named "Bob^0D^0AEvent: x" must not become CR/LF in
 * app_queue's AMI events), and what Asterisk wrote is decoded before the API shows it.
 */

/** s as Asterisk's realtime drivers read back exactly: ';' "^3B", '^' "^5E", and a
 *  blank at either end "^20".  NULL stays NULL. */
const char *cc_ast_rt_encode(apr_pool_t *p, const char *s);

/** What Asterisk reads from a realtime value s: "^XX" decoded.  NULL stays NULL. */
const char *cc_ast_rt_decode(apr_pool_t *p, const char *s);

/**
 * A queue member's membername, encoded for the realtime row (cc_ast_rt_encode): name
 * with control characters dropped (app_queue puts it in AMI events, which are "Key:
 * Value" lines: a CR/LF would forge one), cut on a character boundary so that Asterisk
 * reads at most CC_AST_MEMBERNAME_MAX bytes and the column holds it; the extension when
 * name is NULL or nothing is left.  name must be valid UTF-8.
 */
const char *cc_ast_membername(apr_pool_t *p, const char *name, const char *extension);

/** A pause reason: valid UTF-8 of at most CC_AST_REASON_MAX bytes, no control
 *  characters (it travels in AMI events and queue_log like membername), whose encoding
 *  (cc_ast_rt_encode) fits its column. */
int cc_ast_valid_pause_reason(const char *s);

/** s cut to at most max characters (code points) of valid UTF-8 s; s itself if shorter. */
const char *cc_utf8_truncate(apr_pool_t *p, const char *s, apr_size_t max);

/**
 * Caller ID for ps_endpoints.callerid, encoded for the realtime row: "\"<name>\" <<ext>>"
 * with '"', '\\', '<', '>' and control characters dropped from name and name cut so the
 * whole fits CC_AST_CALLERID_MAX characters once encoded; "<ext>" alone when name is
 * NULL or empty.
 */
const char *cc_ast_callerid(apr_pool_t *p, const char *name, const char *extension);

#endif
