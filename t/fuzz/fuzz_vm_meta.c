/* Spool bytes into the voicemail readers (mod_callcenter/cc_voicemails_rules.c): a
 * msgNNNN.txt is written by Asterisk, but its callerid comes from the caller, so the
 * reader must hold against anything; the same bytes as a client's path into the tenant
 * files' path check (shared/cc_files.c).  Invariants of what each accepts. */
#include <string.h>
#include <stdlib.h>
#include "fuzz_common.h"
#include "cc_files.h"
#include "cc_validate.h"
#include "cc_voicemails_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    char *text = apr_pstrmemdup(p, (const char *)data, size);
    apr_array_header_t *parts;
    apr_int64_t secs;
    vm_meta_t m;
    int i;

    if (!cc_vm_meta_parse(p, (const char *)data, size, &m)) {
        fuzz_check(size <= CC_VM_META_MAX);
        fuzz_check(strlen(m.msg_id) >= 1 && strlen(m.msg_id) <= CC_VM_MSG_ID_MAX);
        fuzz_check(m.duration >= 0 && m.duration <= CC_VM_DURATION_MAX);
        fuzz_check(m.origtime >= 0);
        fuzz_check(!m.caller_id || (cc_valid_utf8(m.caller_id, strlen(m.caller_id))
                               && cc_utf8_chars(m.caller_id) <= CC_VM_CALLER_MAX));
    }
    if (cc_vm_parse_origdate(text, &secs)) {
        fuzz_check(secs >= 0);
    }
    if (!cc_files_path_split(p, text, &parts)) {
        fuzz_check(parts->nelts >= 1 && parts->nelts <= CC_FILES_DEPTH_MAX);
        for (i = 0; i < parts->nelts; i++) {
            const char *c = APR_ARRAY_IDX(parts, i, const char *);

            fuzz_check(*c && strcmp(c, ".") && strcmp(c, "..") && !strchr(c, '/'));
            fuzz_check(strlen(c) <= CC_FILES_COMPONENT_MAX);
        }
        fuzz_check(cc_vm_audio_path(p, text, "wav49") == NULL || strlen(text) >= 4);
    }
    apr_pool_destroy(p);
    return 0;
}
