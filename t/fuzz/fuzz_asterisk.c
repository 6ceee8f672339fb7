/* Client strings into the Asterisk naming and value functions (shared/cc_asterisk.c):
 * what a queue name, codec list, SIP password, extension or user name may be, and the
 * invariants the realtime columns rely on (lengths, no quote or angle bracket in a
 * caller ID name). */
#include <string.h>
#include <stdlib.h>
#include "fuzz_common.h"
#include "cc_asterisk.h"
#include "cc_validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    char *text = apr_pstrmemdup(p, (const char *)data, size);
    const char *canonical = NULL, *name, *cid;

    cc_valid_extension(text);
    cc_ast_valid_moh_class(text);
    cc_ast_valid_sip_password(text);
    cc_ast_valid_pause_reason(text);
    if (cc_ast_parse_codecs(p, text, &canonical)) {
        fuzz_check(cc_ast_parse_codecs(p, canonical, NULL));
    }
    /* The API hands these functions validated UTF-8 text only (JSON strings). */
    if (cc_valid_utf8(text, strlen(text))) {
        name = cc_ast_queue_name(p, "a-tenant", text, NULL);
        fuzz_check(strlen(name) <= CC_AST_QUEUE_NAME_MAX);
        name = cc_ast_queue_name(p, "a-tenant", text, "9007199254740991");
        fuzz_check(strlen(name) <= CC_AST_QUEUE_NAME_MAX);
        cid = cc_ast_callerid(p, text, "12345678");
        fuzz_check(cc_utf8_chars(cid) <= CC_AST_CALLERID_MAX);
        fuzz_check(cc_valid_utf8(cid, strlen(cid)));
        fuzz_check(cc_utf8_chars(cc_utf8_truncate(p, text, 7)) <= 7);
        name = cc_ast_membername(p, text, "1001");
        /* Stored encoded (';' as ^3B): the column holds 80 characters, Asterisk reads
         * the decoded name, at most CC_AST_MEMBERNAME_MAX bytes. */
        fuzz_check(cc_utf8_chars(name) <= CC_AST_RT_COLUMN_MAX && !strpbrk(name, "\r\n"));
        fuzz_check(strlen(cc_ast_rt_decode(p, name)) <= CC_AST_MEMBERNAME_MAX);
        fuzz_check(cc_valid_utf8(name, strlen(name)));
    }
    apr_pool_destroy(p);
    return 0;
}
