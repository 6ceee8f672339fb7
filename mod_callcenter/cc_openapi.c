/*
 * cc_openapi.c: the OpenAPI document is assembled at build time from
 * shared/openapi-base.json and each module's fragment (mod_<name>/openapi.json) by
 * shared/openapi_assemble.py into $(BUILD)/cc-openapi.json, and embedded here byte for byte,
 * so the served copy can never drift from the reviewed fragments (t/lint/check_openapi.py
 * checks them against every module's route table, t/integration/test_910_openapi.py the
 * served bytes against a fresh assembly).
 */
#include <apr.h>

#include "cc_api_private.h"

/* The Makefile puts $(BUILD) on the assembler's include path (-Wa,-I), where .incbin
 * finds the assembled document; the module's rule depends on it.  gcc hands its -I
 * directories (the module directories, each with an openapi.json fragment) to the
 * assembler too, hence the distinct name.  The trailing NUL makes the document a C string
 * too. */
__asm__(".section .rodata\n"
        ".balign 16\n"
        ".hidden cc_openapi_start\n"
        "cc_openapi_start:\n"
        ".incbin \"cc-openapi.json\"\n"
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
