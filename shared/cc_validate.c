/**
 * @file cc_validate.c
 * @brief (core) Pure validators and parsers for request input.
 */
#include <string.h>
#include <arpa/inet.h>

#include <apr_strings.h>

#include "cc_validate.h"

/* ASCII class tests written out: <ctype.h> depends on the locale and on signedness. */
#define CC_IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define CC_IS_LOWER(c) ((c) >= 'a' && (c) <= 'z')
#define CC_IS_UPPER(c) ((c) >= 'A' && (c) <= 'Z')
#define CC_IS_ALPHA(c) (CC_IS_LOWER(c) || CC_IS_UPPER(c))
#define CC_IS_ALNUM(c) (CC_IS_ALPHA(c) || CC_IS_DIGIT(c))
#define CC_IS_HEXLC(c) (CC_IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f'))

/* 2^53 - 1: the largest integer a JavaScript client reads back exactly. */
#define CC_ID_MAX APR_INT64_C(9007199254740991)

/* ---- UTF-8 ---- */

/*
 * Length of the well-formed sequence at s (at most len bytes), or 0.  The lead/second
 * byte ranges are Unicode's Table 3-7, which excludes overlongs (C0, C1, E0 80..9F,
 * F0 80..8F), surrogates (ED A0..BF) and anything above U+10FFFF (F4 90.., F5..FF).
 */
static apr_size_t cc_utf8_seq(const unsigned char *s, apr_size_t len)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xBF;
    apr_size_t n, i;

    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    }
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) {
            lo = 0xA0;
        }
        else if (c == 0xED) {
            hi = 0x9F;
        }
    }
    else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) {
            lo = 0x90;
        }
        else if (c == 0xF4) {
            hi = 0x8F;
        }
    }
    else {
        return 0;
    }
    if (len < n || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF) {
            return 0;
        }
    }
    return n;
}

int cc_valid_utf8(const char *s, apr_size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i = 0;

    if (!s) {
        return len == 0;
    }
    while (i < len) {
        apr_size_t n = cc_utf8_seq(u + i, len - i);

        if (!n) {
            return 0;
        }
        i += n;
    }
    return 1;
}

apr_size_t cc_utf8_cut_len(const char *s, apr_size_t n, apr_size_t max)
{
    if (n <= max) {
        return n;
    }
    /* s[max] is inside s: back to the start of the character it is part of. */
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) {
        max--;
    }
    return max;
}

apr_size_t cc_utf8_chars(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t n = 0;

    if (!s) {
        return 0;
    }
    /* Every code point has exactly one byte that is not a continuation byte. */
    for (; *u; u++) {
        if ((*u & 0xC0) != 0x80) {
            n++;
        }
    }
    return n;
}

/* Valid UTF-8 of [min,max] code points without controls: as cc_control_len counts them
 * when one_line, else C0 but TAB, CR and LF, and DEL. */
static int valid_text(const char *s, apr_size_t min, apr_size_t max, int one_line)
{
    const char *c;
    apr_size_t n;

    if (!s || !cc_valid_utf8(s, strlen(s))) {
        return 0;
    }
    for (c = s; *c; c++) {
        if (one_line ? cc_control_len(c) != 0
                     : cc_control_len(c) == 1 && !strchr("\t\n\r", *c)) {
            return 0;
        }
    }
    n = cc_utf8_chars(s);
    return n >= min && n <= max;
}

int cc_valid_text(const char *s, apr_size_t min, apr_size_t max)
{
    return valid_text(s, min, max, 0);
}

apr_size_t cc_control_len(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    if (u[0] < 0x20 || u[0] == 0x7F) {
        return u[0] ? 1 : 0;
    }
    if (u[0] == 0xC2 && u[1] >= 0x80 && u[1] <= 0x9F) {
        return 2;                               /* C1, U+0085 NEL among them */
    }
    if (u[0] == 0xE2 && u[1] == 0x80 && (u[2] == 0xA8 || u[2] == 0xA9)) {
        return 3;                               /* U+2028, U+2029 */
    }
    return 0;
}

int cc_valid_name(const char *s, apr_size_t min, apr_size_t max)
{
    return valid_text(s, min, max, 1);
}

/* ---- identifiers ---- */

/*
 * Characters allowed in the local part: RFC 5322 atext plus '.'.  Whitespace, controls,
 * quotes, angle brackets, commas and the other specials are out, so an address can
 * never smuggle a second recipient or a header.  The apostrophe is atext (o'brien@).
 */
static int cc_email_local_char(unsigned char c)
{
    return CC_IS_ALNUM(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL);
}

static int cc_valid_domain(const char *d)
{
    const char *label = d, *p;
    int dots = 0;

    for (p = d;; p++) {
        if (*p == '.' || *p == '\0') {
            apr_size_t n = (apr_size_t)(p - label);

            if (n == 0 || n > 63 || label[0] == '-' || p[-1] == '-') {
                return 0;
            }
            if (*p == '\0') {
                break;
            }
            dots++;
            label = p + 1;
        }
        else if (!CC_IS_ALNUM(*p) && *p != '-') {
            return 0;
        }
    }
    if (dots == 0) {
        return 0;
    }
    /* label is now the TLD: letters only, at least two. */
    if (strlen(label) < 2) {
        return 0;
    }
    for (p = label; *p; p++) {
        if (!CC_IS_ALPHA(*p)) {
            return 0;
        }
    }
    return 1;
}

int cc_valid_email(const char *s)
{
    const char *at, *p;
    apr_size_t local;

    if (!s || strlen(s) > 254) {
        return 0;
    }
    at = strchr(s, '@');
    if (!at || strchr(at + 1, '@')) {
        return 0;
    }
    local = (apr_size_t)(at - s);
    if (local == 0 || local > 64 || s[0] == '.' || at[-1] == '.') {
        return 0;
    }
    for (p = s; p < at; p++) {
        if (!cc_email_local_char((unsigned char)*p) || (*p == '.' && p[1] == '.')) {
            return 0;
        }
    }
    return cc_valid_domain(at + 1);
}

int cc_valid_e164(const char *s)
{
    apr_size_t n = 0;

    if (!s || *s++ != '+' || *s == '0') {
        return 0;
    }
    for (; *s; s++, n++) {
        if (!CC_IS_DIGIT(*s)) {
            return 0;
        }
    }
    return n >= 8 && n <= 15;
}

int cc_valid_slug(const char *s)
{
    apr_size_t n = 0;

    if (!s) {
        return 0;
    }
    for (; *s; s++, n++) {
        if (!CC_IS_LOWER(*s) && !CC_IS_DIGIT(*s) && *s != '-') {
            return 0;
        }
    }
    /* A UUID-shaped slug could name another tenant where an id or a slug is accepted
     * (a login's "tenant"). */
    return n >= 3 && n <= 63 && !cc_valid_uuid(s - n);
}

int cc_valid_role_name(const char *s)
{
    apr_size_t n = 1;

    if (!s || !CC_IS_LOWER(*s)) {
        return 0;
    }
    for (s++; *s; s++, n++) {
        if (!CC_IS_LOWER(*s) && !CC_IS_DIGIT(*s) && *s != '_') {
            return 0;
        }
    }
    return n >= 2 && n <= 63;
}

int cc_valid_uuid(const char *s)
{
    int i;

    if (!s) {
        return 0;
    }
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return 0;
            }
        }
        else if (!CC_IS_HEXLC(s[i])) {
            return 0;
        }
    }
    return s[36] == '\0';
}

int cc_valid_id_chars(const char *s, apr_size_t max)
{
    apr_size_t n = 0;

    if (!s) {
        return 0;
    }
    for (; *s; s++, n++) {
        if (!CC_IS_ALNUM(*s) && *s != '.' && *s != '_' && *s != '-') {
            return 0;
        }
    }
    return n >= 1 && n <= max;
}

int cc_valid_request_id(const char *s)
{
    return cc_valid_id_chars(s, 128);
}

int cc_valid_enum(const char *s, const char *const *values)
{
    if (!s || !values) {
        return 0;
    }
    for (; *values; values++) {
        if (!strcmp(s, *values)) {
            return 1;
        }
    }
    return 0;
}

/* ---- numbers ---- */

/* Unsigned decimal digits only, accumulated without overflow up to limit. */
static int cc_parse_digits(const char *s, apr_uint64_t limit, apr_uint64_t *out)
{
    apr_uint64_t v = 0;

    if (!*s) {
        return 0;
    }
    for (; *s; s++) {
        if (!CC_IS_DIGIT(*s)) {
            return 0;
        }
        if (v > (limit - (apr_uint64_t)(*s - '0')) / 10) {
            return 0;
        }
        v = v * 10 + (apr_uint64_t)(*s - '0');
    }
    *out = v;
    return 1;
}

int cc_parse_id(const char *s, apr_int64_t *out)
{
    apr_uint64_t v;

    /* Leading zeros refused: "007" and "7" must not both name user 7 in URLs. */
    if (!s || s[0] == '0' || !cc_parse_digits(s, (apr_uint64_t)CC_ID_MAX, &v)) {
        return 0;
    }
    if (out) {
        *out = (apr_int64_t)v;
    }
    return 1;
}

int cc_parse_int(const char *s, apr_int64_t min, apr_int64_t max, apr_int64_t *out)
{
    apr_uint64_t mag;
    apr_int64_t v;
    int neg = 0;

    if (!s) {
        return 0;
    }
    if (*s == '-') {
        neg = 1;
        s++;
    }
    /* The magnitude of INT64_MIN is one more than INT64_MAX. */
    if (!cc_parse_digits(s, neg ? (apr_uint64_t)APR_INT64_MAX + 1 : (apr_uint64_t)APR_INT64_MAX,
                         &mag)) {
        return 0;
    }
    if (neg) {
        v = (mag == (apr_uint64_t)APR_INT64_MAX + 1) ? APR_INT64_MIN : -(apr_int64_t)mag;
    }
    else {
        v = (apr_int64_t)mag;
    }
    if (v < min || v > max) {
        return 0;
    }
    if (out) {
        *out = v;
    }
    return 1;
}

/* ---- time ---- */

/* n fixed decimal digits at s into *v. */
static int cc_fixed_digits(const char *s, int n, int *v)
{
    int i;

    *v = 0;
    for (i = 0; i < n; i++) {
        if (!CC_IS_DIGIT(s[i])) {
            return 0;
        }
        *v = *v * 10 + (s[i] - '0');
    }
    return 1;
}

static int cc_is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int cc_month_days(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return (m == 2 && cc_is_leap(y)) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static apr_int64_t cc_days_from_civil(int y, int m, int d)
{
    apr_int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void cc_civil_from_days(apr_int64_t z, int *py, int *pm, int *pd)
{
    apr_int64_t era, doe, yoe, y, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *pd = (int)(doy - (153 * mp + 2) / 5 + 1);
    *pm = (int)(mp < 10 ? mp + 3 : mp - 9);
    *py = (int)(y + (*pm <= 2));
}

/* The SQL DATETIME years (MariaDB's DATETIME holds 1000..9999; we render 1..9999). */
#define CC_EPOCH_MIN (APR_INT64_C(-62135596800))   /* 0001-01-01 00:00:00 */
#define CC_EPOCH_MAX (APR_INT64_C(253402300799))   /* 9999-12-31 23:59:59 */

int cc_parse_rfc3339_epoch(const char *s, apr_int64_t *psecs)
{
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    apr_int64_t t;

    if (!s || strlen(s) < 20) {
        return 0;
    }
    if (!cc_fixed_digits(s, 4, &y) || s[4] != '-' || !cc_fixed_digits(s + 5, 2, &mo)
        || s[7] != '-' || !cc_fixed_digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't')
        || !cc_fixed_digits(s + 11, 2, &h) || s[13] != ':' || !cc_fixed_digits(s + 14, 2, &mi)
        || s[16] != ':' || !cc_fixed_digits(s + 17, 2, &sec)) {
        return 0;
    }
    s += 19;
    if (*s == '.') {
        /* The fraction is dropped: DATETIME columns hold whole seconds. */
        if (!CC_IS_DIGIT(s[1])) {
            return 0;
        }
        for (s++; CC_IS_DIGIT(*s); s++) {
        }
    }
    if ((*s == 'Z' || *s == 'z') && s[1] == '\0') {
        sign = 0;
    }
    else if ((*s == '+' || *s == '-') && cc_fixed_digits(s + 1, 2, &oh) && s[3] == ':'
             && cc_fixed_digits(s + 4, 2, &om) && s[6] == '\0') {
        sign = (*s == '+') ? 1 : -1;
    }
    else {
        return 0;
    }
    /* No leap second: MariaDB's DATETIME cannot store :60. */
    if (mo < 1 || mo > 12 || d < 1 || d > cc_month_days(y, mo) || h > 23 || mi > 59
        || sec > 59 || oh > 23 || om > 59) {
        return 0;
    }
    /* Local time minus the offset is UTC. */
    t = ((cc_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + sec;
    t -= (apr_int64_t)sign * (oh * 60 + om) * 60;
    if (t < CC_EPOCH_MIN || t > CC_EPOCH_MAX) {
        return 0;
    }
    *psecs = t;
    return 1;
}

const char *cc_epoch_to_sql(apr_pool_t *p, apr_int64_t t)
{
    apr_int64_t days = (t >= 0 ? t : t - 86399) / 86400;
    apr_int64_t rem = t - days * 86400;
    int y, mo, d;

    if (t < CC_EPOCH_MIN || t > CC_EPOCH_MAX) {
        return NULL;
    }
    cc_civil_from_days(days, &y, &mo, &d);
    return apr_psprintf(p, "%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, (int)(rem / 3600),
                        (int)(rem % 3600 / 60), (int)(rem % 60));
}

int cc_parse_rfc3339(apr_pool_t *p, const char *s, const char **psql)
{
    apr_int64_t t;

    if (!cc_parse_rfc3339_epoch(s, &t)) {
        return 0;
    }
    if (psql) {
        *psql = cc_epoch_to_sql(p, t);
    }
    return 1;
}

const char *cc_clean_line(apr_pool_t *p, const char *text, apr_size_t len, apr_size_t max)
{
    char *out = apr_palloc(p, len + 1);
    apr_size_t i = 0, o = 0, chars = 0;

    while (i < len && chars < max) {
        unsigned char c = (unsigned char)text[i];
        apr_size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
                       : (c & 0xf8) == 0xf0 ? 4 : 0;

        if (n == 0 || i + n > len || !cc_valid_utf8(text + i, n)) {
            out[o++] = '?';                 /* a stray byte */
            i++;
        }
        else if (n == 1 && (c < 0x20 || c == 0x7f)) {
            out[o++] = ' ';                 /* one line */
            i++;
        }
        else {
            memcpy(out + o, text + i, n);
            o += n;
            i += n;
        }
        chars++;
    }
    out[o] = '\0';
    return out;
}

const char *cc_sql_time_to_rfc3339(apr_pool_t *p, const char *sql)
{
    static const char shape[] = "dddd-dd-dd dd:dd:dd";
    char *out;
    int i;

    if (!sql) {
        return NULL;
    }
    for (i = 0; shape[i]; i++) {
        if (shape[i] == 'd' ? !CC_IS_DIGIT(sql[i]) : sql[i] != shape[i]) {
            return NULL;
        }
    }
    if (sql[19] != '\0' && sql[19] != '.') {
        return NULL;
    }
    out = apr_pstrmemdup(p, sql, 20);
    out[10] = 'T';
    out[19] = 'Z';
    return out;
}

/* ---- client addresses ---- */

const char *cc_client_addr_key(apr_pool_t *p, const char *ip)
{
    static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    unsigned char a[16];
    char buf[INET6_ADDRSTRLEN];

    if (!ip) {
        return NULL;
    }
    if (inet_pton(AF_INET, ip, a) == 1) {
        return inet_ntop(AF_INET, a, buf, sizeof(buf)) ? apr_pstrdup(p, buf) : NULL;
    }
    if (inet_pton(AF_INET6, ip, a) != 1) {
        return NULL;
    }
    if (memcmp(a, v4mapped, sizeof(v4mapped)) == 0) {
        return inet_ntop(AF_INET, a + 12, buf, sizeof(buf)) ? apr_pstrdup(p, buf) : NULL;
    }
    memset(a + 8, 0, 8);
    return inet_ntop(AF_INET6, a, buf, sizeof(buf)) ? apr_pstrcat(p, buf, "/64", NULL)
                                                     : NULL;
}
