/**
 * @file cc_crypto.h
 * @brief (core) Random tokens, SHA-256, UUIDs and bcrypt over apr-util.
 */
#ifndef CC_CRYPTO_H
#define CC_CRYPTO_H

#include <apr_pools.h>
#include <apr_errno.h>

/** An incremental SHA-256 (a streamed upload): init, update as data comes, final. */
typedef struct cc_sha256_ctx {
    apr_uint32_t h[8];
    apr_uint64_t nbytes;        /**< total message length so far */
    unsigned char buf[64];
    apr_size_t nbuf;            /**< bytes waiting in buf */
} cc_sha256_ctx;
void cc_sha256_init(cc_sha256_ctx *c);
void cc_sha256_update(cc_sha256_ctx *c, const void *data, apr_size_t len);
void cc_sha256_final(cc_sha256_ctx *c, unsigned char out[32]);
/** Lowercase hex SHA-256 of data (64 chars + NUL) in p. */
const char *cc_sha256_hex(apr_pool_t *p, const void *data, apr_size_t len);
/** Raw SHA-256 into out[32]. */
void cc_sha256(const void *data, apr_size_t len, unsigned char out[32]);
/** HMAC-SHA256 (RFC 2104) of data under key into out[32]. */
void cc_hmac_sha256(const void *key, apr_size_t keylen, const void *data, apr_size_t len,
                    unsigned char out[32]);
/** The version prefix of cc_sign_v1's signatures. */
#define CC_SIG_V1 "v1="
/**
 * A signed HTTP message's signature (the SMS callbacks', the webhooks'): "v1=" + lowercase
 * hex HMAC-SHA256(secret, timestamp "." body), over the body's raw bytes.
 */
const char *cc_sign_v1(apr_pool_t *p, const char *secret, const char *timestamp,
                       const char *body, apr_size_t len);
/** Lowercase hex of len bytes (2 * len chars + NUL) in p. */
const char *cc_hex(apr_pool_t *p, const unsigned char *data, apr_size_t len);
/**
 * Read a secret file (a key, a credential): its bytes without one trailing newline
 * (LF or CRLF), NUL-terminated in p; at least min_len and at most 8192 bytes.  On
 * failure *perr names what and path, never the content.
 */
apr_status_t cc_secret_file_read(apr_pool_t *p, const char *path, const char *what,
                                 apr_size_t min_len, const char **psecret,
                                 apr_size_t *plen, const char **perr);
/**
 * A secret file of one line of printable ASCII (a credential that goes into a header or a
 * protocol line): as cc_secret_file_read, and also refused (*perr names the file, never
 * the content) when any byte is not printable ASCII.
 */
apr_status_t cc_secret_file_line(apr_pool_t *p, const char *path, const char *what,
                                 apr_size_t min_len, const char **psecret,
                                 const char **perr);
/** nbytes of APR's random source as URL-safe base64 without padding. */
apr_status_t cc_random_token(apr_pool_t *p, apr_size_t nbytes, const char **ptoken);
/** Random version-4 UUID, lowercase. */
apr_status_t cc_uuid_v4(apr_pool_t *p, const char **puuid);
/** bcrypt hash ($2y$) of password with cost (4..31). */
apr_status_t cc_password_hash(apr_pool_t *p, const char *password, int cost,
                              const char **phash);
/** 1 when password matches hash (bcrypt via apr_password_validate). */
int cc_password_verify(const char *password, const char *hash);
/** Constant-time comparison of two NUL-terminated strings. */
int cc_str_equal_ct(const char *a, const char *b);

#endif
