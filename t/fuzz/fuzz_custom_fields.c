/* Contacts' custom_fields (mod_callcenter/cc_helpdesk_rules.c cc_custom_fields_issue):
 * a hostile request body through the body parser (shared/cc_json.c), the object (and its
 * "custom_fields" member) checked, and compared with a checker written here from the
 * documented rules: compact JSON of at most CC_CUSTOM_FIELDS_BYTES, no object or array
 * deeper than CC_CUSTOM_FIELDS_DEPTH (the object itself is 1), at most
 * CC_CUSTOM_FIELDS_KEYS keys in all, keys 1..CC_CUSTOM_KEY_MAX of [A-Za-z0-9_.-] with a
 * letter first, strings valid UTF-8 without NUL.  The bytes are also parsed with NULs
 * allowed (jansson's JSON_ALLOW_NUL), which the body parser refuses, so the check's own
 * NUL handling is reached.  An accepted value dumps and reads back as itself. */
#include <string.h>
#include "fuzz_common.h"
#include "cc_helpdesk_rules.h"
#include "cc_json.h"
#include "cc_validate.h"

static int key_ok(const char *k, size_t n)
{
    size_t i;

    if (n < 1 || n > CC_CUSTOM_KEY_MAX
        || !((k[0] >= 'A' && k[0] <= 'Z') || (k[0] >= 'a' && k[0] <= 'z'))) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        char c = k[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
              || c == '_' || c == '.' || c == '-')) {
            return 0;
        }
    }
    return 1;
}

/* 1 when v at depth fits (keys counted into *keys). */
static int fits(json_t *v, int depth, int *keys)
{
    const char *k;
    size_t klen, i;
    json_t *e;

    if (json_is_string(v)) {
        return cc_valid_utf8(json_string_value(v), json_string_length(v))
               && !memchr(json_string_value(v), '\0', json_string_length(v));
    }
    if (json_is_array(v)) {
        if (depth > CC_CUSTOM_FIELDS_DEPTH) {
            return 0;
        }
        json_array_foreach(v, i, e) {
            if (!fits(e, depth + 1, keys)) {
                return 0;
            }
        }
        return 1;
    }
    if (json_is_object(v)) {
        if (depth > CC_CUSTOM_FIELDS_DEPTH) {
            return 0;
        }
        json_object_keylen_foreach(v, k, klen, e) {
            ++*keys;
            if (!key_ok(k, klen) || !fits(e, depth + 1, keys)) {
                return 0;
            }
        }
        return 1;
    }
    return 1;
}

static void check(apr_pool_t *p, json_t *v)
{
    const char *issue = cc_custom_fields_issue(v), *c;
    int keys = 0, ok;
    char *dump;

    if (!json_is_object(v)) {
        fuzz_check(issue != NULL);
        return;
    }
    ok = fits(v, 1, &keys) && keys <= CC_CUSTOM_FIELDS_KEYS;
    dump = json_dumps(v, JSON_COMPACT);
    ok = ok && dump && strlen(dump) <= CC_CUSTOM_FIELDS_BYTES;
    fuzz_check(ok == (issue == NULL));
    if (issue) {
        /* A fixed sentence: nothing of the client's. */
        fuzz_check(!strncmp(issue, "custom_fields ", 14));
        for (c = issue; *c; c++) {
            fuzz_check(*c >= 0x20 && *c < 0x7f);
        }
    }
    else {
        json_t *back = json_loads(dump, JSON_REJECT_DUPLICATES, NULL);

        fuzz_check(back && json_equal(back, v));
        json_decref(back);
    }
    free(dump);
    (void)p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    json_t *body = NULL, *raw;

    if (!cc_json_parse_object(p, (const char *)data, size, &body)) {
        check(p, body);
        if (json_object_get(body, "custom_fields")) {
            check(p, json_object_get(body, "custom_fields"));
        }
    }
    raw = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (raw) {
        check(p, raw);
        json_decref(raw);
    }
    apr_pool_destroy(p);
    return 0;
}
