/*
 * cc_openapi.c: the OpenAPI document, mod_callcenter/openapi.json, is the source of truth
 * in the repository; it is embedded into the module at build time so the served copy can
 * never drift from the one reviewed (t/integration/test_910_openapi.py checks it against
 * every module's route table).
 */
#include <apr.h>

#include "cc_api_private.h"

/* apxs compiles from the project root, hence the path.  The trailing NUL makes the
 * document a C string too. */
__asm__(".section .rodata\n"
        ".balign 16\n"
        ".hidden cc_openapi_start\n"
        "cc_openapi_start:\n"
        ".incbin \"mod_callcenter/openapi.json\"\n"
        ".hidden cc_openapi_end\n"
        "cc_openapi_end:\n"
        ".byte 0\n"
        ".previous\n");

extern const char cc_openapi_start[];
extern const char cc_openapi_end[];

const char *cc_openapi_document(apr_size_t *plen)
{
    *plen = (apr_size_t)(cc_openapi_end - cc_openapi_start);
    return cc_openapi_start;
}
