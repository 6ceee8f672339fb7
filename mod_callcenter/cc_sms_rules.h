/**
 * @file cc_sms_rules.h
 * @brief (core) The pure part of SMS: what a send body may say, the callback signature
 *        (make and check), the tenant's webhook secret from its nonce, the delivery
 *        job's backoff and what a provider's answer means.  No httpd, no database, no
 *        libcurl: unit-tested (t/unit/test_cc_sms_rules.c); mod_callcenter/cc_sms.c and
 *        cc_sms_job.c are its glue.
 */
#ifndef CC_SMS_RULES_H
#define CC_SMS_RULES_H

#include <apr_pools.h>
#include <jansson.h>
#include "cc_error.h"

/** A body: 1 to this many characters (code points). */
#define CC_SMS_BODY_MAX 1600
/** sms_messages.error and provider_message_id (VARCHAR sizes, in characters). */
#define CC_SMS_ERROR_MAX 500
#define CC_SMS_PROVIDER_ID_MAX 128

/** The callback headers (README "SMS provider protocol"). */
#define CC_SMS_HDR_TIMESTAMP "X-CC-Timestamp"
#define CC_SMS_HDR_SIGNATURE "X-CC-Signature"

/**
 * A send body's values (strings from the parsed JSON, or NULL when absent): NULL when
 * they are acceptable, else a 400 naming every field at fault: from and to E.164, body
 * valid UTF-8 of 1 to CC_SMS_BODY_MAX characters without control characters other than
 * tab, CR and LF.
 */
cc_error_t *cc_sms_send_check(apr_pool_t *p, const char *from, const char *to,
                              const char *body);

/**
 * Check a callback's signature headers (either may be NULL) against secret: the
 * timestamp is decimal Unix seconds within tolerance seconds of now (either way: a
 * captured callback replays only within that window), the signature equals
 * cc_sign_v1's (shared/cc_crypto.h; compared in constant time).  1 when it holds, else 0 with *pwhy (for
 * the log, never for the caller).
 */
int cc_sms_verify(apr_pool_t *p, const char *secret, const char *timestamp,
                  const char *signature, const char *body, apr_size_t len,
                  apr_int64_t now, apr_int64_t tolerance, const char **pwhy);

/**
 * The tenant's webhook secret (64 hex digits): HMAC-SHA256(key, "cc-sms-webhook:"
 * tenant_id ":" nonce), key being CCSmsSecretKeyFile's.
 */
const char *cc_sms_secret(apr_pool_t *p, const unsigned char *key, apr_size_t keylen,
                          const char *tenant_id, const char *nonce);

/** What a provider call came to. */
typedef enum {
    CC_SMS_SENT,       /**< accepted (2xx): status sent */
    CC_SMS_RETRY,      /**< worth another attempt: no answer, 401, 403, 407 (our
                            credential refused), 408, 425, 429, 5xx */
    CC_SMS_REJECTED    /**< refused for good (any other status): failed now */
} cc_sms_outcome_e;

/**
 * A provider's answer: HTTP status and body.  SENT sets *pmessage_id from the body's
 * "message_id" (a string of 1 to CC_SMS_PROVIDER_ID_MAX printable ASCII characters;
 * NULL when absent or unfit: the message is sent all the same, and no status callback
 * can name it); otherwise *perror is "HTTP <status>" plus the body's "error" (or
 * "message") string, made one line of valid text and cut to CC_SMS_ERROR_MAX characters.
 */
cc_sms_outcome_e cc_sms_classify(apr_pool_t *p, long status, const char *body,
                                 apr_size_t len, const char **pmessage_id,
                                 const char **perror);

#endif
