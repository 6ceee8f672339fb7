/**
 * @file cc_agents_rules.h
 * @brief (core) The pure part of /api/v1/agents: a state change's body, a tenant's
 *        pause reasons, what a state does to the agent's queue memberships, and the
 *        folding of time per state into the statistics' answer.  No httpd and no
 *        database: unit-tested (t/unit/test_cc_agents_rules.c); mod_callcenter/
 *        cc_agents.c is its glue.
 */
#ifndef CC_AGENTS_RULES_H
#define CC_AGENTS_RULES_H

#include <apr_pools.h>
#include <jansson.h>
#include "cc_error.h"

#define CC_AGENT_KEY_STATE    "state"
#define CC_AGENT_KEY_REASON   "reason"
#define CC_AGENT_KEY_REASONS  "reasons"

/** A tenant's pause reasons: at most this many. */
#define CC_AGENT_REASONS_MAX  50

/** The states, in API.md order (NULL-terminated). */
extern const char *const cc_agent_states[];

/** A checked PUT /agents/{id}/state body. */
typedef struct agent_state_input_t {
    const char *state;
    const char *reason;      /**< NULL for null, absent or "" */
} agent_state_input_t;

/**
 * Read {state, reason} (fields already type-checked): state one of cc_agent_states;
 * reason only with break or offline (the pause it explains), a valid pause reason
 * (cc_ast_valid_pause_reason).  A 400 naming each field that does not fit.
 */
cc_error_t *cc_agent_state_read(apr_pool_t *p, const json_t *body, agent_state_input_t *in);

/**
 * What the state does to the agent's queue memberships: 1 pause (break, offline),
 * 0 unpause (available), -1 leave them (on_call, wrap_up: Asterisk knows the agent is
 * busy from the device state, and the wrap-up time is the queue's).
 */
int cc_agent_state_pauses(const char *state);

/** The reason_paused a pausing state writes: the agent's reason, else the state name. */
const char *cc_agent_pause_text(const agent_state_input_t *in);

/**
 * Read {reasons: [...]} (type-checked: an array of strings): at most
 * CC_AGENT_REASONS_MAX, each a valid pause reason of 1.. characters, no two the same
 * ignoring ASCII case (the database compares them so).  *preasons: the list in order.
 */
cc_error_t *cc_agent_reasons_read(apr_pool_t *p, const json_t *body,
                                  apr_array_header_t **preasons);

/**
 * Fold the statistics rows (user id, name, state, reason, seconds; ordered by user id)
 * into {"data": [{user_id, name, seconds: {offline, available, on_call, wrap_up,
 * break}, break_reasons: [{reason, seconds}]}]}: every state present with 0 when none,
 * break reasons by seconds, most first (null: a break without a reason).
 */
json_t *cc_agent_stats_fold(const json_t *rows);

#endif
