/* The SMS provider's callback signature (mod_callcenter/cc_sms_rules.c; webhooks reuse
 * the scheme): "v1=" + hex HMAC-SHA256(secret, timestamp "." body), checked against a
 * time window in constant time (shared/cc_crypto.c).
 *
 * Input: a byte with the secret's length, the secret, a byte with the timestamp's
 * length, the timestamp, a byte with the length of a claimed signature, that, then the
 * body (any bytes, NUL too).  Invariants: a signature is "v1=" and 64 lowercase hex
 * digits; it verifies within the window exactly when the timestamp is Unix seconds, and
 * never outside it; no other signature (the claimed one, its upper case, one of another
 * body, secret or timestamp) verifies; HMAC's own identities hold (a key longer than a
 * block is its hash; a key is its zero padding); SHA-256 in pieces is SHA-256 at once. */
#include <string.h>
#include <apr_lib.h>
#include "fuzz_common.h"
#include "cc_crypto.h"
#include "cc_sms_rules.h"
#include "cc_validate.h"

#define TOLERANCE 300

static const char *take(apr_pool_t *p, const uint8_t **d, size_t *n)
{
    size_t len = *n ? **d : 0;

    if (*n) {
        (*d)++;
        (*n)--;
    }
    if (len > *n) {
        len = *n;
    }
    *d += len;
    *n -= len;
    return apr_pstrmemdup(p, (const char *)*d - len, len);
}

static int verify(apr_pool_t *p, const char *secret, const char *ts, const char *sig,
                  const char *body, apr_size_t len, apr_int64_t now)
{
    const char *why = NULL;
    int ok = cc_sms_verify(p, secret, ts, sig, body, len, now, TOLERANCE, &why);

    fuzz_check(ok ? why == NULL : why != NULL);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const uint8_t *d = data;
    size_t n = size;
    const char *secret = take(p, &d, &n), *ts = take(p, &d, &n), *claim = take(p, &d, &n);
    const char *body = (const char *)d, *sig, *other;
    apr_size_t blen = n, i, slen = strlen(secret);
    apr_int64_t t;
    int is_time = cc_parse_int(ts, 0, APR_INT64_C(99999999999), &t);
    unsigned char m1[32], m2[32], h1[32], h2[32];
    cc_sha256_ctx c;

    sig = cc_sign_v1(p, secret, ts, body, blen);
    fuzz_check(strlen(sig) == 67 && !strncmp(sig, CC_SIG_V1, 3));
    for (i = 3; i < 67; i++) {
        fuzz_check((sig[i] >= '0' && sig[i] <= '9') || (sig[i] >= 'a' && sig[i] <= 'f'));
    }
    fuzz_check(!strcmp(sig, cc_sign_v1(p, secret, ts, body, blen)));
    if (is_time) {
        fuzz_check(verify(p, secret, ts, sig, body, blen, t));
        fuzz_check(verify(p, secret, ts, sig, body, blen, t - TOLERANCE));
        fuzz_check(verify(p, secret, ts, sig, body, blen, t + TOLERANCE));
        fuzz_check(!verify(p, secret, ts, sig, body, blen, t - TOLERANCE - 1));
        fuzz_check(!verify(p, secret, ts, sig, body, blen, t + TOLERANCE + 1));
    }
    else {
        fuzz_check(!verify(p, secret, ts, sig, body, blen, 1700000000));
        t = 1700000000;
    }
    fuzz_check(!verify(p, secret, NULL, sig, body, blen, t));
    fuzz_check(!verify(p, secret, ts, NULL, body, blen, t));
    /* A claimed signature verifies only as the very signature. */
    fuzz_check(verify(p, secret, ts, claim, body, blen, t) == (is_time && !strcmp(claim, sig)));
    fuzz_check(!verify(p, secret, ts, apr_pstrcat(p, sig, " ", NULL), body, blen, t));
    fuzz_check(!verify(p, secret, ts, apr_pstrndup(p, sig, 66), body, blen, t));
    {
        char *upper = apr_pstrdup(p, sig);

        for (i = 0; upper[i]; i++) {
            upper[i] = (char)apr_toupper(upper[i]);
        }
        fuzz_check(!verify(p, secret, ts, upper, body, blen, t));
    }
    /* Another body, secret or timestamp signs differently. */
    if (blen) {
        fuzz_check(!verify(p, secret, ts, sig, body, blen - 1, t));
        other = cc_sign_v1(p, secret, ts, body + 1, blen - 1);
        fuzz_check(strcmp(other, sig));
    }
    {
        char *body2 = apr_palloc(p, blen + 1);

        memcpy(body2, body, blen);
        body2[blen] = 'x';
        fuzz_check(!verify(p, secret, ts, sig, body2, blen + 1, t));
    }
    fuzz_check(strcmp(sig, cc_sign_v1(p, apr_pstrcat(p, secret, "x", NULL), ts, body, blen)));
    fuzz_check(strcmp(sig, cc_sign_v1(p, secret, apr_pstrcat(p, ts, "0", NULL), body, blen)));

    /* HMAC: a key longer than SHA-256's block is its hash; a shorter one its zero
     * padding to the block. */
    cc_hmac_sha256(secret, slen, body, blen, m1);
    if (slen > 64) {
        cc_sha256(secret, slen, h1);
        cc_hmac_sha256(h1, 32, body, blen, m2);
        fuzz_check(!memcmp(m1, m2, 32));
    }
    else {
        unsigned char padded[64];

        memset(padded, 0, sizeof(padded));
        memcpy(padded, secret, slen);
        cc_hmac_sha256(padded, 64, body, blen, m2);
        fuzz_check(!memcmp(m1, m2, 32));
    }
    /* SHA-256 fed in pieces the secret's bytes choose. */
    cc_sha256(body, blen, h1);
    cc_sha256_init(&c);
    for (i = 0; i < blen;) {
        apr_size_t piece = 1 + (slen ? (unsigned char)secret[i % slen] % 97 : 0);

        if (piece > blen - i) {
            piece = blen - i;
        }
        cc_sha256_update(&c, body + i, piece);
        i += piece;
    }
    cc_sha256_final(&c, h2);
    fuzz_check(!memcmp(h1, h2, 32));
    apr_pool_destroy(p);
    return 0;
}
