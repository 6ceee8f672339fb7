/* A request body through what every JSON handler runs: parse, then the field checks. */
#include "fuzz_common.h"
#include "cc_json.h"
#include "../unit/cc_test_fields.h"  /* every field type, as the unit tests use */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    json_t *obj = NULL;

    if (!cc_json_parse_object(p, (const char *)data, size, &obj)) {
        cc_json_check_fields(p, obj, cc_test_fields);
        cc_json_str(obj, "email");
        cc_json_int(obj, "max_users", 0);
    }
    apr_pool_destroy(p);    /* the pool cleanup releases obj */
    return 0;
}
