/*
 * cc_calls_private.h: what the live calls' routes (cc_calls.c), the Asterisk link
 * (cc_ami_link.c) and the agents (cc_agents.c) share.
 */
#ifndef CC_CALLS_PRIVATE_H
#define CC_CALLS_PRIVATE_H

#include "cc_api_private.h"

/** A live call's columns (GET /calls' item, the call.* events' data), with statement
 * cc_calls_get (tenant, call_id). */
extern const cc_col_t cc_calls_cols[];

/**
 * The agent's state follows a call, in the caller's transaction, recorded by the system
 * actor (agent.state_change): "on_call" (from any other state), "wrap_up" (only from
 * on_call; it ends wrap_secs later, cc_agents_wrap_up_due), "available" (only from
 * wrap_up: an agent who chose break or offline meanwhile stays so).  Nothing when the
 * user is gone or the rule says no.  Defined in cc_agents.c.
 */
cc_error_t *cc_agents_follow_call(cc_db_t *db, apr_pool_t *p, const char *tenant,
                                  const char *user_id, const char *state, int wrap_secs);

/** Agents whose wrap-up is over become available (each in its own transaction).
 * Defined in cc_agents.c. */
cc_error_t *cc_agents_wrap_up_due(cc_db_t *db, apr_pool_t *p);

/** This node's name for its link (CCAsteriskNode, else "<host>:<first listener's
 * port>").  Defined in cc_ami_link.c. */
const char *cc_ami_node(apr_pool_t *p, const cc_api_config_t *cfg);

/** A link's heartbeat counts for this long (seconds): past it the link is not up. */
#define CC_LINK_FRESH_SECS "15"

#endif
