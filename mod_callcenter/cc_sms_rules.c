/**
 * @file cc_sms_rules.c
 * @brief (core) SMS rules: send bodies, callback signatures, secrets, backoff, provider
 *        answers (cc_sms_rules.h).
 */
#include <string.h>

#include <apr_strings.h>

#include "cc_crypto.h"
#include "cc_sms_rules.h"
#include "cc_validate.h"

cc_error_t *cc_sms_send_check(apr_pool_t *p, const char *from, const char *to,
                              const char *body)
{
    cc_error_t *err = NULL;

    if (!from || !cc_valid_e164(from)) {
        err = cc_error_collect(p, err, "from", "must be E.164 (+ then 8 to 15 digits)");
    }
    if (!to || !cc_valid_e164(to)) {
        err = cc_error_collect(p, err, "to", "must be E.164 (+ then 8 to 15 digits)");
    }
    if (!body || !cc_valid_text(body, 1, CC_SMS_BODY_MAX)) {
        err = cc_error_collect(p, err, "body",
                               "must be 1 to " APR_STRINGIFY(CC_SMS_BODY_MAX)
                               " characters of text (no control characters but tab,"
                               " CR and LF)");
    }
    return err;
}

int cc_sms_verify(apr_pool_t *p, const char *secret, const char *timestamp,
                  const char *signature, const char *body, apr_size_t len,
                  apr_int64_t now, apr_int64_t tolerance, const char **pwhy)
{
    apr_int64_t ts;

    if (!timestamp || !signature) {
        *pwhy = "no signature headers";
        return 0;
    }
    /* Ten digits cover the next three centuries; the bound keeps the parse exact. */
    if (!cc_parse_int(timestamp, 0, APR_INT64_C(99999999999), &ts)) {
        *pwhy = "the timestamp is not Unix seconds";
        return 0;
    }
    if (ts < now - tolerance || ts > now + tolerance) {
        *pwhy = "the timestamp is outside the window (stale or replayed)";
        return 0;
    }
    if (!cc_str_equal_ct(signature, cc_sign_v1(p, secret, timestamp, body, len))) {
        *pwhy = "the signature does not match";
        return 0;
    }
    return 1;
}

const char *cc_sms_secret(apr_pool_t *p, const unsigned char *key, apr_size_t keylen,
                          const char *tenant_id, const char *nonce)
{
    const char *label = apr_pstrcat(p, "cc-sms-webhook:", tenant_id, ":", nonce, NULL);
    unsigned char mac[32];

    cc_hmac_sha256(key, keylen, label, strlen(label), mac);
    return cc_hex(p, mac, sizeof(mac));
}

/* The answer's JSON object, or NULL (freed by the caller). */
static json_t *parse_answer(const char *body, apr_size_t len)
{
    json_t *j;

    if (!body || !len) {
        return NULL;
    }
    j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

static int printable_id(const char *s)
{
    apr_size_t n = 0;

    for (; *s; s++, n++) {
        if (*s < 0x21 || *s > 0x7e) {
            return 0;
        }
    }
    return n >= 1 && n <= CC_SMS_PROVIDER_ID_MAX;
}

cc_sms_outcome_e cc_sms_classify(apr_pool_t *p, long status, const char *body,
                                 apr_size_t len, const char **pmessage_id,
                                 const char **perror)
{
    json_t *j = parse_answer(body, len);
    cc_sms_outcome_e out;

    *pmessage_id = NULL;
    *perror = NULL;
    if (status >= 200 && status <= 299) {
        const char *id = j ? json_string_value(json_object_get(j, "message_id")) : NULL;

        if (id && printable_id(id)) {
            *pmessage_id = apr_pstrdup(p, id);
        }
        out = CC_SMS_SENT;
    }
    else {
        const char *why = NULL;
        const char *text;

        if (j) {
            why = json_string_value(json_object_get(j, "error"));
            if (!why) {
                why = json_string_value(json_object_get(j, "message"));
            }
        }
        text = why ? apr_psprintf(p, "HTTP %ld: %s", status, why)
                   : apr_psprintf(p, "HTTP %ld", status);
        *perror = cc_clean_line(p, text, strlen(text), CC_SMS_ERROR_MAX);
        /* 401, 403 and 407 say our credential or account is refused, not this message:
         * it waits (with the backoff, up to the attempts) for the operator to mend it. */
        out = (status == 401 || status == 403 || status == 407 || status == 408
               || status == 425 || status == 429 || status >= 500)
              ? CC_SMS_RETRY : CC_SMS_REJECTED;
    }
    if (j) {
        json_decref(j);
    }
    return out;
}
