-- Agent states follow calls (issue 14): an agent on break or offline who takes a call
-- (a direct or internal call still reaches their phone) goes back to that state when
-- the call and its wrap-up are over, not to available.  The on_call and wrap_up periods
-- a call opens carry the state (and reason) to resume.
ALTER TABLE agent_states
    ADD COLUMN resume_state ENUM('offline','break') NULL,
    ADD COLUMN resume_reason VARCHAR(80) NULL;
