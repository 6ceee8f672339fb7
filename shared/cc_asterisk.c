/*
 * cc_asterisk.c: names in Asterisk's realtime namespace and the values we write there
 * (see cc_asterisk.h for the scheme and its length budget).
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_general.h>

#include "cc_asterisk.h"
#include "cc_crypto.h"
#include "cc_validate.h"

#define AST_KEY_PREFIX   11   /* slug characters kept in a derived key */
#define AST_KEY_HASH_HEX 12   /* 48 bits of SHA-256: collisions are out of reach */
#define AST_CONTEXT_PREFIX "tenant-"
#define AST_QUEUE_FALLBACK "queue"
#define AST_CODECS_MAX   10

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_LOWER(c) ((c) >= 'a' && (c) <= 'z')
#define IS_UPPER(c) ((c) >= 'A' && (c) <= 'Z')
#define IS_ALNUM(c) (IS_DIGIT(c) || IS_LOWER(c) || IS_UPPER(c))

/* Codecs a PJSIP endpoint may allow here: the ones Asterisk 22 ships translators or
 * pass-through for that phones and browsers actually offer. */
static const char *const supported_codecs[] = {
    "ulaw", "alaw", "g722", "g729", "gsm", "opus", "ilbc", "speex", "g726", "slin",
    "h264", "vp8", "vp9", NULL
};

const char *cc_ast_tenant_key(apr_pool_t *p, const char *slug)
{
    const char *hash;

    if (strlen(slug) <= CC_AST_KEY_MAX) {
        return slug;
    }
    hash = cc_sha256_hex(p, slug, strlen(slug));
    return apr_psprintf(p, "%.*s_%.*s", AST_KEY_PREFIX, slug, AST_KEY_HASH_HEX, hash);
}

const char *cc_ast_context(apr_pool_t *p, const char *slug)
{
    return apr_pstrcat(p, AST_CONTEXT_PREFIX, cc_ast_tenant_key(p, slug), NULL);
}

const char *cc_ast_endpoint_id(apr_pool_t *p, const char *slug, const char *extension)
{
    return apr_pstrcat(p, cc_ast_tenant_key(p, slug), "-", extension, NULL);
}

const char *cc_ast_interface(apr_pool_t *p, const char *endpoint_id)
{
    return apr_pstrcat(p, "PJSIP/", endpoint_id, NULL);
}

const char *cc_ast_mailbox(apr_pool_t *p, const char *slug, const char *extension)
{
    return apr_pstrcat(p, extension, "@", cc_ast_context(p, slug), NULL);
}

void cc_ast_contact_patterns(apr_pool_t *p, const char *slug, const char **plike,
                             const char **pid_regex, const char **pendpoint_regex)
{
    const char *key = cc_ast_tenant_key(p, slug), *k;
    char *like = apr_palloc(p, 2 * strlen(key) + 3), *o = like;

    /* Backslash is MariaDB's default LIKE escape. */
    for (k = key; *k; k++) {
        if (*k == '\\' || *k == '%' || *k == '_') {
            *o++ = '\\';
        }
        *o++ = *k;
    }
    memcpy(o, "-%", 3);
    *plike = like;
    *pid_regex = apr_pstrcat(p, "^", key, "-[0-9]+;@", NULL);
    *pendpoint_regex = apr_pstrcat(p, "^", key, "-[0-9]+$", NULL);
}

int cc_valid_extension(const char *s)
{
    apr_size_t n = 0;

    if (!s) {
        return 0;
    }
    for (; s[n]; n++) {
        if (!IS_DIGIT(s[n])) {
            return 0;
        }
    }
    return n >= 2 && n <= 8;
}

const char *cc_ast_slugify(apr_pool_t *p, const char *name, apr_size_t max)
{
    apr_size_t len = strlen(name), n = 0;
    char *out = apr_palloc(p, len + sizeof(AST_QUEUE_FALLBACK));
    int dash = 0;

    for (; *name && n < max; name++) {
        char c = *name;

        if (IS_ALNUM(c)) {
            if (dash && n > 0) {
                if (n + 1 >= max) {
                    break;          /* no room for the dash and a character after it */
                }
                out[n++] = '-';
            }
            dash = 0;
            out[n++] = IS_UPPER(c) ? (char)(c - 'A' + 'a') : c;
        }
        else {
            dash = 1;
        }
    }
    out[n] = '\0';
    if (n == 0) {
        return apr_pstrndup(p, AST_QUEUE_FALLBACK,
                            max < sizeof(AST_QUEUE_FALLBACK) - 1
                            ? max : sizeof(AST_QUEUE_FALLBACK) - 1);
    }
    return out;
}

const char *cc_ast_queue_name(apr_pool_t *p, const char *slug, const char *name,
                              const char *id)
{
    const char *key = cc_ast_tenant_key(p, slug);
    apr_size_t room = CC_AST_QUEUE_NAME_MAX - strlen(key) - 1;   /* "<key>-" */
    const char *suffix = id ? apr_pstrcat(p, "_", id, NULL) : "";

    /* key <= 24 and id <= 20 digits leave at least 34 characters for the slug. */
    room -= strlen(suffix);
    return apr_pstrcat(p, key, "-", cc_ast_slugify(p, name, room), suffix, NULL);
}

/* The supported codec named by [s, s+n), case-insensitively, or NULL. */
static const char *codec_named(const char *s, apr_size_t n)
{
    const char *const *c;

    for (c = supported_codecs; *c; c++) {
        if (strlen(*c) == n && !strncasecmp(*c, s, n)) {
            return *c;
        }
    }
    return NULL;
}

int cc_ast_parse_codecs(apr_pool_t *p, const char *allow, const char **pcanonical)
{
    const char *chosen[AST_CODECS_MAX];
    const char *s = allow;
    int count = 0, i;

    if (!allow) {
        return 0;
    }
    for (;;) {
        const char *start, *end, *codec;

        while (*s == ' ') {
            s++;
        }
        start = s;
        while (*s && *s != ',' && *s != ' ') {
            s++;
        }
        end = s;
        while (*s == ' ') {
            s++;
        }
        if ((*s && *s != ',') || !(codec = codec_named(start, (apr_size_t)(end - start)))
            || count == AST_CODECS_MAX) {
            return 0;
        }
        for (i = 0; i < count; i++) {
            if (chosen[i] == codec) {
                return 0;
            }
        }
        chosen[count++] = codec;
        if (!*s) {
            break;
        }
        s++;                /* the comma */
    }
    if (pcanonical) {
        char *out = apr_pstrdup(p, chosen[0]);

        for (i = 1; i < count; i++) {
            out = apr_pstrcat(p, out, ",", chosen[i], NULL);
        }
        *pcanonical = out;
    }
    return 1;
}

int cc_ast_valid_moh_class(const char *s)
{
    apr_size_t n = 0;

    if (!s) {
        return 0;
    }
    for (; s[n]; n++) {
        if (!IS_ALNUM(s[n]) && s[n] != '_' && s[n] != '-') {
            return 0;
        }
    }
    return n >= 1 && n <= CC_AST_MOH_MAX;
}

int cc_ast_valid_moh_global(const char *s)
{
    return cc_ast_valid_moh_class(s) && !strchr(s, '-');
}

int cc_ast_moh_is_tenants(apr_pool_t *p, const char *slug, const char *s)
{
    const char *key, *dash;

    if (!cc_ast_valid_moh_class(s) || !(dash = strrchr(s, '-')) || !dash[1]) {
        return 0;
    }
    key = cc_ast_tenant_key(p, slug);
    return strlen(key) == (apr_size_t)(dash - s) && !strncasecmp(s, key, strlen(key));
}

int cc_ast_moh_allowed(apr_pool_t *p, const char *slug, const char *const *globals,
                       const char *s)
{
    if (!cc_ast_valid_moh_class(s)) {
        return 0;
    }
    for (; globals && *globals; globals++) {
        if (!strcasecmp(*globals, s)) {
            return 1;
        }
    }
    return cc_ast_moh_is_tenants(p, slug, s);
}

int cc_ast_valid_sip_password(const char *s)
{
    apr_size_t n = 0;

    if (!s) {
        return 0;
    }
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];

        /* ';' splits and "^XX" decodes a realtime value (cc_ast_rt_encode): a password
         * with either would not be the one Asterisk checks. */
        if (c <= ' ' || c >= 0x7f || c == '"' || c == '\'' || c == '\\' || c == ';'
            || c == '^') {
            return 0;
        }
    }
    return n >= CC_AST_PASSWORD_MIN && n <= CC_AST_PASSWORD_MAX;
}

apr_status_t cc_ast_generate_sip_password(apr_pool_t *p, const char **ppassword)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    /* 62 symbols: bytes >= 248 (= 4 * 62) are rejected so that every symbol is equally
     * likely; a batch of 64 bytes almost always yields the 32 needed. */
    const unsigned int limit = 4 * (sizeof(alphabet) - 1);
    char *out = apr_palloc(p, CC_AST_PASSWORD_GEN + 1);
    unsigned char buf[64];
    apr_size_t n = 0, i;
    apr_status_t rv;

    *ppassword = NULL;
    while (n < CC_AST_PASSWORD_GEN) {
        if ((rv = apr_generate_random_bytes(buf, sizeof(buf))) != APR_SUCCESS) {
            memset(out, 0, CC_AST_PASSWORD_GEN + 1);
            return rv;
        }
        for (i = 0; i < sizeof(buf) && n < CC_AST_PASSWORD_GEN; i++) {
            if (buf[i] < limit) {
                out[n++] = alphabet[buf[i] % (sizeof(alphabet) - 1)];
            }
        }
    }
    memset(buf, 0, sizeof(buf));
    out[n] = '\0';
    *ppassword = out;
    return APR_SUCCESS;
}

const char *cc_utf8_truncate(apr_pool_t *p, const char *s, apr_size_t max)
{
    apr_size_t i = 0, chars = 0;

    while (s[i]) {
        if (chars == max) {
            return apr_pstrndup(p, s, i);
        }
        i++;
        while ((s[i] & 0xC0) == 0x80) {     /* continuation bytes of this code point */
            i++;
        }
        chars++;
    }
    return s;
}

static int rt_special(char c)
{
    return c == ';' || c == '^';
}

/* Length of the UTF-8 character at s (s valid UTF-8). */
static apr_size_t utf8_len(unsigned char c)
{
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/*
 * s encoded for a realtime column, cut on a character boundary before what Asterisk
 * reads would pass max_bytes or the stored text max_chars characters (0: no limit);
 * blanks at the ends of what is kept are encoded too (Asterisk strips them).
 */
static const char *rt_encode_fit(apr_pool_t *p, const char *s, apr_size_t max_bytes,
                                 apr_size_t max_chars)
{
    char *out = apr_palloc(p, 3 * strlen(s) + 1);
    apr_size_t n = 0, bytes = 0, chars = 0, keep = 0, i;
    const char *c;

    /* How much of s fits: a special or an edge blank takes 3 stored characters. */
    for (c = s; *c; c += utf8_len((unsigned char)*c)) {
        apr_size_t len = utf8_len((unsigned char)*c);
        apr_size_t cost = rt_special(*c) || (*c == ' ' && c == s) ? 3 : 1;

        if ((max_bytes && bytes + len > max_bytes) || (max_chars && chars + cost > max_chars)) {
            break;
        }
        bytes += len;
        chars += cost;
        keep = (apr_size_t)(c - s) + len;
    }
    /* A blank ending what is kept is encoded too: drop blanks that then do not fit. */
    while (keep > 1 && s[keep - 1] == ' ' && max_chars && chars + 2 > max_chars) {
        keep--;
        chars--;
    }
    for (i = 0; i < keep; i++) {
        if (rt_special(s[i]) || (s[i] == ' ' && (i == 0 || i == keep - 1))) {
            n += (apr_size_t)apr_snprintf(out + n, 4, "^%02X", (unsigned char)s[i]);
        }
        else {
            out[n++] = s[i];
        }
    }
    out[n] = '\0';
    return out;
}

const char *cc_ast_rt_encode(apr_pool_t *p, const char *s)
{
    return s ? rt_encode_fit(p, s, 0, 0) : NULL;
}

static int upper_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

const char *cc_ast_rt_decode(apr_pool_t *p, const char *s)
{
    char *out, *o;

    if (!s || !strchr(s, '^')) {
        return s;
    }
    out = o = apr_palloc(p, strlen(s) + 1);
    while (*s) {
        if (s[0] == '^' && upper_hex(s[1]) && upper_hex(s[2])) {
            char hex[3] = { s[1], s[2], '\0' };

            *o++ = (char)strtol(hex, NULL, 16);
            s += 3;
        }
        else {
            *o++ = *s++;
        }
    }
    *o = '\0';
    return out;
}

/* s without its control characters (cc_control_len) and the ASCII characters in drop;
 * *plen receives the length kept. */
static char *without_controls(apr_pool_t *p, const char *s, const char *drop, apr_size_t *plen)
{
    char *out = apr_palloc(p, strlen(s) + 1);
    apr_size_t n = 0, skip;

    while (*s) {
        if ((skip = cc_control_len(s)) != 0) {
            s += skip;
        }
        else if (strchr(drop, *s)) {
            s++;
        }
        else {
            out[n++] = *s++;
        }
    }
    out[n] = '\0';
    *plen = n;
    return out;
}

const char *cc_ast_membername(apr_pool_t *p, const char *name, const char *extension)
{
    char *out;
    apr_size_t n;

    if (!name) {
        return extension;
    }
    out = without_controls(p, name, "", &n);
    return n ? rt_encode_fit(p, out, CC_AST_MEMBERNAME_MAX, CC_AST_RT_COLUMN_MAX) : extension;
}

int cc_ast_valid_pause_reason(const char *s)
{
    const char *c;
    apr_size_t chars = 0;

    /* A reason is a name as far as characters go (one line, no controls). */
    if (!s || strlen(s) > CC_AST_REASON_MAX || !cc_valid_name(s, 0, CC_AST_REASON_MAX)) {
        return 0;
    }
    for (c = s; *c; c++) {
        if (((unsigned char)*c & 0xC0) != 0x80) {
            chars += rt_special(*c) || (*c == ' ' && (c == s || !c[1])) ? 3 : 1;
        }
    }
    return chars <= CC_AST_RT_COLUMN_MAX;
}

/* name without the characters that would break "name" <ext> or a config line. */
static char *callerid_name(apr_pool_t *p, const char *name)
{
    apr_size_t n;
    char *out = without_controls(p, name, "\"\\<>", &n);

    while (n > 0 && out[n - 1] == ' ') {
        n--;
    }
    out[n] = '\0';
    return out + strspn(out, " ");
}

const char *cc_ast_callerid(apr_pool_t *p, const char *name, const char *extension)
{
    apr_size_t ext_part = strlen(extension) + 2;        /* <ext> */
    const char *clean = name ? callerid_name(p, name) : "";
    apr_size_t room;

    /* "name" <ext>: two quotes and a space besides the name. */
    if (!*clean || CC_AST_CALLERID_MAX <= ext_part + 4) {
        return apr_pstrcat(p, "<", extension, ">", NULL);
    }
    room = CC_AST_CALLERID_MAX - ext_part - 3;
    clean = rt_encode_fit(p, clean, 0, room);
    return apr_pstrcat(p, "\"", clean, "\" <", extension, ">", NULL);
}
