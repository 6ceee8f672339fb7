-- Live calls (issue 14), after review: what the link's periodic statements read.
-- call_commands: pruned by age (created_at alone), and the resync asks whether a call
-- has an originate in flight (call_id).
ALTER TABLE call_commands ADD KEY idx_call_commands_created (created_at),
    ADD KEY idx_call_commands_call (call_id);
-- A period's wrap_up_until is cleared when the period closes (cc_agents_state_close), so
-- idx_agent_states_wrap_up holds the open wrap-ups only; periods closed before that rule
-- are cleared here.
UPDATE agent_states SET wrap_up_until = NULL WHERE ended_at IS NOT NULL
    AND wrap_up_until IS NOT NULL;
