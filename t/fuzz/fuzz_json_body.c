/* A request body through what every JSON handler runs: parse, then the field checks. */
#include "fuzz_common.h"
#include "cc_json.h"

static const cc_field_t fields[] = {
    { "email", CC_JT_STRING, 1 },
    { "name", CC_JT_STRING, 1 },
    { "roles", CC_JT_STRING_ARRAY, 0 },
    { "max_users", CC_JT_INT, 0 },
    { "webrtc", CC_JT_BOOL, 0 },
    { "destination_id", CC_JT_INT_NULL, 0 },
    { "custom_fields", CC_JT_OBJECT, 0 },
    { NULL, 0, 0 }
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    json_t *obj = NULL;

    if (!cc_json_parse_object(p, (const char *)data, size, &obj)) {
        cc_json_check_fields(p, obj, fields);
        cc_json_str(obj, "email");
        cc_json_int(obj, "max_users", 0);
    }
    apr_pool_destroy(p);    /* the pool cleanup releases obj */
    return 0;
}
