/* An Authorization header through the bearer parser and the JWT verifier. */
#include "fuzz_common.h"
#include "cc_auth_jwt.h"

static const unsigned char key[] = "fuzzing-secret-fuzzing-secret-0123456789";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    const char *header = apr_pstrmemdup(p, (const char *)data, size);
    const char *token = NULL, *reason = NULL;
    const cc_identity_t *id = NULL;

    if (cc_auth_bearer_parse(header, &token) == CC_AUTH_BEARER_OK) {
        cc_auth_jwt_verify(p, key, sizeof(key) - 1, "callcenter", 1795500000, 30, token, &id,
                           &reason);
    }
    apr_pool_destroy(p);
    return 0;
}
