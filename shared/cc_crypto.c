/**
 * @file cc_crypto.c
 * @brief (core) SHA-256 (FIPS 180-4), random tokens, UUIDv4, bcrypt over apr-util.
 *
 * SHA-256 is implemented here so the core library needs neither OpenSSL nor apr-util's
 * optional crypto drivers; it only hashes refresh tokens, never passwords.
 */
#include <string.h>

#include <apr_file_io.h>
#include <apr_general.h>
#include <apr_md5.h>
#include <apr_strings.h>

#include "cc_crypto.h"

/* ---- SHA-256 ---- */


static const apr_uint32_t cc_sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2
};

#define CC_ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void cc_sha256_block(cc_sha256_ctx *c, const unsigned char *blk)
{
    apr_uint32_t w[64], a, b, cc, d, e, f, g, h;
    int t;

    for (t = 0; t < 16; t++) {
        w[t] = (apr_uint32_t)blk[4 * t] << 24 | (apr_uint32_t)blk[4 * t + 1] << 16
               | (apr_uint32_t)blk[4 * t + 2] << 8 | (apr_uint32_t)blk[4 * t + 3];
    }
    for (t = 16; t < 64; t++) {
        apr_uint32_t s0 = CC_ROTR(w[t - 15], 7) ^ CC_ROTR(w[t - 15], 18) ^ (w[t - 15] >> 3);
        apr_uint32_t s1 = CC_ROTR(w[t - 2], 17) ^ CC_ROTR(w[t - 2], 19) ^ (w[t - 2] >> 10);

        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    a = c->h[0];
    b = c->h[1];
    cc = c->h[2];
    d = c->h[3];
    e = c->h[4];
    f = c->h[5];
    g = c->h[6];
    h = c->h[7];
    for (t = 0; t < 64; t++) {
        apr_uint32_t S1 = CC_ROTR(e, 6) ^ CC_ROTR(e, 11) ^ CC_ROTR(e, 25);
        apr_uint32_t ch = (e & f) ^ (~e & g);
        apr_uint32_t t1 = h + S1 + ch + cc_sha256_k[t] + w[t];
        apr_uint32_t S0 = CC_ROTR(a, 2) ^ CC_ROTR(a, 13) ^ CC_ROTR(a, 22);
        apr_uint32_t maj = (a & b) ^ (a & cc) ^ (b & cc);
        apr_uint32_t t2 = S0 + maj;

        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = cc;
        cc = b;
        b = a;
        a = t1 + t2;
    }
    c->h[0] += a;
    c->h[1] += b;
    c->h[2] += cc;
    c->h[3] += d;
    c->h[4] += e;
    c->h[5] += f;
    c->h[6] += g;
    c->h[7] += h;
}

void cc_sha256_init(cc_sha256_ctx *c)
{
    static const apr_uint32_t h0[8] = {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
    };

    memcpy(c->h, h0, sizeof(h0));
    c->nbytes = 0;
    c->nbuf = 0;
}

void cc_sha256_update(cc_sha256_ctx *c, const void *vdata, apr_size_t len)
{
    const unsigned char *data = vdata;

    c->nbytes += len;
    if (c->nbuf) {
        apr_size_t take = 64 - c->nbuf < len ? 64 - c->nbuf : len;

        memcpy(c->buf + c->nbuf, data, take);
        c->nbuf += take;
        data += take;
        len -= take;
        if (c->nbuf < 64) {
            return;
        }
        cc_sha256_block(c, c->buf);
        c->nbuf = 0;
    }
    for (; len >= 64; data += 64, len -= 64) {
        cc_sha256_block(c, data);
    }
    if (len) {
        memcpy(c->buf, data, len);
        c->nbuf = len;
    }
}

void cc_sha256_final(cc_sha256_ctx *c, unsigned char out[32])
{
    apr_uint64_t bits = c->nbytes * 8;
    unsigned char pad[72];
    apr_size_t npad;
    int i;

    /* 0x80, zeros up to 56 mod 64, then the bit length big-endian (FIPS 180-4 5.1.1). */
    npad = (c->nbuf < 56) ? 56 - c->nbuf : 120 - c->nbuf;
    memset(pad, 0, sizeof(pad));
    pad[0] = 0x80;
    for (i = 0; i < 8; i++) {
        pad[npad + i] = (unsigned char)(bits >> (56 - 8 * i));
    }
    cc_sha256_update(c, pad, npad + 8);
    for (i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(c->h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
        out[4 * i + 3] = (unsigned char)c->h[i];
    }
    memset(c, 0, sizeof(*c));
}

void cc_sha256(const void *data, apr_size_t len, unsigned char out[32])
{
    cc_sha256_ctx c;

    cc_sha256_init(&c);
    cc_sha256_update(&c, data, len);
    cc_sha256_final(&c, out);
}

const char *cc_sha256_hex(apr_pool_t *p, const void *data, apr_size_t len)
{
    unsigned char md[32];

    cc_sha256(data, len, md);
    return cc_hex(p, md, sizeof(md));
}

/* ---- HMAC-SHA256 (RFC 2104) ---- */

void cc_hmac_sha256(const void *key, apr_size_t keylen, const void *data, apr_size_t len,
                    unsigned char out[32])
{
    unsigned char k[64], ipad[64], opad[64], inner[32];
    cc_sha256_ctx c;
    int i;

    memset(k, 0, sizeof(k));
    if (keylen > sizeof(k)) {
        cc_sha256(key, keylen, k);      /* a long key is hashed first */
    }
    else if (keylen) {
        memcpy(k, key, keylen);
    }
    for (i = 0; i < 64; i++) {
        ipad[i] = (unsigned char)(k[i] ^ 0x36);
        opad[i] = (unsigned char)(k[i] ^ 0x5c);
    }
    cc_sha256_init(&c);
    cc_sha256_update(&c, ipad, sizeof(ipad));
    cc_sha256_update(&c, data, len);
    cc_sha256_final(&c, inner);
    cc_sha256_init(&c);
    cc_sha256_update(&c, opad, sizeof(opad));
    cc_sha256_update(&c, inner, sizeof(inner));
    cc_sha256_final(&c, out);
    memset(k, 0, sizeof(k));
    memset(ipad, 0, sizeof(ipad));
    memset(opad, 0, sizeof(opad));
}

const char *cc_sign_v1(apr_pool_t *p, const char *secret, const char *timestamp,
                       const char *body, apr_size_t len)
{
    apr_size_t tlen = strlen(timestamp);
    char *msg = apr_palloc(p, tlen + 1 + len);
    unsigned char mac[32];

    memcpy(msg, timestamp, tlen);
    msg[tlen] = '.';
    if (len) {
        memcpy(msg + tlen + 1, body, len);
    }
    cc_hmac_sha256(secret, strlen(secret), msg, tlen + 1 + len, mac);
    return apr_pstrcat(p, CC_SIG_V1, cc_hex(p, mac, sizeof(mac)), NULL);
}

const char *cc_hex(apr_pool_t *p, const unsigned char *data, apr_size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char *out = apr_palloc(p, 2 * len + 1);
    apr_size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = hex[data[i] >> 4];
        out[2 * i + 1] = hex[data[i] & 0x0f];
    }
    out[2 * len] = '\0';
    return out;
}

/* ---- secret files ---- */

/* Biggest secret file we read: a secret, not a document. */
#define SECRET_FILE_MAX 8192

apr_status_t cc_secret_file_read(apr_pool_t *p, const char *path, const char *what,
                                 apr_size_t min_len, const char **psecret,
                                 apr_size_t *plen, const char **perr)
{
    apr_file_t *f;
    apr_status_t rv;
    char *buf = apr_palloc(p, SECRET_FILE_MAX + 1);
    apr_size_t len = 0;

    *psecret = NULL;
    *plen = 0;
    *perr = NULL;
    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        *perr = apr_psprintf(p, "cannot open %s '%s': %pm", what, path, &rv);
        return rv;
    }
    rv = apr_file_read_full(f, buf, SECRET_FILE_MAX + 1, &len);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        *perr = apr_psprintf(p, "cannot read %s '%s': %pm", what, path, &rv);
        return rv;
    }
    if (len > SECRET_FILE_MAX) {
        *perr = apr_psprintf(p, "%s '%s' is larger than %d bytes", what, path,
                             SECRET_FILE_MAX);
        return APR_EINVAL;
    }
    if (len > 0 && buf[len - 1] == '\n') {
        len--;
        if (len > 0 && buf[len - 1] == '\r') {
            len--;
        }
    }
    if (len < min_len) {
        *perr = apr_psprintf(p, "%s '%s' must hold at least %" APR_SIZE_T_FMT " bytes "
                             "(without the trailing newline)", what, path, min_len);
        return APR_EINVAL;
    }
    buf[len] = '\0';
    *psecret = buf;
    *plen = len;
    return APR_SUCCESS;
}

apr_status_t cc_secret_file_line(apr_pool_t *p, const char *path, const char *what,
                                 apr_size_t min_len, const char **psecret,
                                 const char **perr)
{
    apr_size_t len, i;
    apr_status_t rv = cc_secret_file_read(p, path, what, min_len, psecret, &len, perr);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < len; i++) {
        if ((*psecret)[i] < 0x20 || (*psecret)[i] > 0x7e) {
            *psecret = NULL;
            *perr = apr_psprintf(p, "%s '%s' must hold one line of printable ASCII", what,
                                 path);
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

/* ---- random ---- */

/* URL-safe base64 (RFC 4648 section 5) without '=' padding: safe in URLs and headers. */
static char *cc_base64url(apr_pool_t *p, const unsigned char *in, apr_size_t n)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = apr_palloc(p, (n + 2) / 3 * 4 + 1);
    apr_size_t i, o = 0;

    for (i = 0; i + 2 < n; i += 3) {
        apr_uint32_t v = (apr_uint32_t)in[i] << 16 | (apr_uint32_t)in[i + 1] << 8 | in[i + 2];

        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = b64[v & 63];
    }
    if (n - i == 1) {
        out[o++] = b64[in[i] >> 2];
        out[o++] = b64[(in[i] & 3) << 4];
    }
    else if (n - i == 2) {
        apr_uint32_t v = (apr_uint32_t)in[i] << 8 | in[i + 1];

        out[o++] = b64[(v >> 10) & 63];
        out[o++] = b64[(v >> 4) & 63];
        out[o++] = b64[(v << 2) & 63];
    }
    out[o] = '\0';
    return out;
}

apr_status_t cc_random_token(apr_pool_t *p, apr_size_t nbytes, const char **ptoken)
{
    unsigned char *buf = apr_palloc(p, nbytes ? nbytes : 1);
    apr_status_t rv;

    *ptoken = NULL;
    rv = apr_generate_random_bytes(buf, nbytes);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *ptoken = cc_base64url(p, buf, nbytes);
    /* The raw secret stays in the pool otherwise; only its encoding is needed. */
    memset(buf, 0, nbytes);
    return APR_SUCCESS;
}

apr_status_t cc_uuid_v4(apr_pool_t *p, const char **puuid)
{
    unsigned char b[16];
    apr_status_t rv;

    *puuid = NULL;
    rv = apr_generate_random_bytes(b, sizeof(b));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* variant 10xx (RFC 4122) */
    *puuid = apr_psprintf(p,
                          "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                          "%02x%02x%02x%02x%02x%02x",
                          b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
                          b[10], b[11], b[12], b[13], b[14], b[15]);
    return APR_SUCCESS;
}

/* ---- passwords ---- */

apr_status_t cc_password_hash(apr_pool_t *p, const char *password, int cost,
                              const char **phash)
{
    unsigned char salt[16];
    char out[64];
    apr_status_t rv;

    *phash = NULL;
    if (!password || cost < 4 || cost > 31) {
        return APR_EINVAL;
    }
    rv = apr_generate_random_bytes(salt, sizeof(salt));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = apr_bcrypt_encode(password, (unsigned int)cost, salt, sizeof(salt), out,
                           sizeof(out));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *phash = apr_pstrdup(p, out);
    return APR_SUCCESS;
}

int cc_password_verify(const char *password, const char *hash)
{
    /*
     * Only bcrypt is accepted: apr_password_validate also knows MD5/SHA1/crypt() forms
     * and, on some platforms, plain-text equality, none of which we ever store.
     */
    if (!password || !hash || strlen(hash) != 60
        || (strncmp(hash, "$2y$", 4) && strncmp(hash, "$2a$", 4) && strncmp(hash, "$2b$", 4))) {
        return 0;
    }
    return apr_password_validate(password, hash) == APR_SUCCESS;
}

int cc_str_equal_ct(const char *a, const char *b)
{
    apr_size_t la, lb, i;
    volatile unsigned char diff;

    if (!a || !b) {
        return 0;
    }
    la = strlen(a);
    lb = strlen(b);
    /* Time depends on la only (the caller's input), never on where the strings differ. */
    diff = (unsigned char)(la != lb);
    for (i = 0; i < la; i++) {
        diff |= (unsigned char)(a[i] ^ (lb ? b[i % lb] : 0));
    }
    return diff == 0;
}
