/*
 * mod_cc_chat: live chat and the event stream.  Only the module shell exists so far;
 * the chat domain arrives with its own issue.
 */
#include <httpd.h>
#include <http_config.h>
#include "cc_log.h"

static void cc_chat_register_hooks(apr_pool_t *p)
{
    (void)p;
}

CC_MODULE_EXPORT AP_DECLARE_MODULE(cc_chat) = {
    STANDARD20_MODULE_STUFF,
    NULL, NULL, NULL, NULL, NULL,
    cc_chat_register_hooks,
    AP_MODULE_FLAG_NONE
};
