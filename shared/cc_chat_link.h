/**
 * @file cc_chat_link.h
 * @brief (glue) What mod_cc_chat offers the other modules (an APR optional function, as
 *        DESIGN.md says modules talk): voice and chat share one capacity model, so a
 *        voice state change is also a chat routing change.
 */
#ifndef CC_CHAT_LINK_H
#define CC_CHAT_LINK_H

#include <apr_optional.h>

#include "cc_audit.h"

/**
 * The voice state of user_id changed in tenant_id (inside the caller's transaction, after
 * its writes): when the user is online for chat, mod_cc_chat takes the tenant's chat
 * routing lock and hands waiting chats to the agents free now, in that transaction.
 * Absent without mod_cc_chat.
 */
APR_DECLARE_OPTIONAL_FN(cc_error_t *, cc_chat_voice_state_changed,
                        (cc_db_t *db, const char *tenant_id, const char *user_id,
                         const cc_actor_t *actor));

/**
 * A user of tenant_id can no longer take chats (deleted or disabled; inside the caller's
 * transaction, after its writes): its active chats go back to the queue for other agents
 * and its chat status becomes offline.  Absent without mod_cc_chat.
 */
APR_DECLARE_OPTIONAL_FN(cc_error_t *, cc_chat_agent_gone,
                        (cc_db_t *db, const char *tenant_id, const char *user_id,
                         const cc_actor_t *actor));

#endif
