-- 012: agent states and pause reasons (issue 10, item 1).  Forward-only.
--
-- An agent's state is a timeline: one row per period, from started_at until ended_at
-- (NULL: the current state).  A change closes the open row and opens the next in one
-- transaction (mod_callcenter/cc_agents.c, which first locks the user's row, so two
-- changes of one agent take turns); uq_agent_states_current keeps at most one open row
-- per agent whatever happens (current_user_id is NULL for closed rows, and a unique key
-- allows many NULLs).  History and statistics read the periods that overlap a window.
-- Deleting a user keeps its periods (the statistics of the past stay whole).
CREATE TABLE agent_states (
    id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id        CHAR(36)        NOT NULL,
    user_id          BIGINT UNSIGNED NOT NULL,
    state            ENUM('offline','available','on_call','wrap_up','break') NOT NULL,
    reason           VARCHAR(80)     NULL,
    started_at       DATETIME        NOT NULL,
    ended_at         DATETIME        NULL,
    current_user_id  BIGINT UNSIGNED AS (IF(ended_at IS NULL, user_id, NULL)) PERSISTENT,
    PRIMARY KEY (id),
    UNIQUE KEY uq_agent_states_current (tenant_id, current_user_id),
    -- An agent's history (GET /agents/{id}/state-history), newest periods first.
    KEY idx_agent_states_user_start (tenant_id, user_id, started_at),
    -- Every agent's periods of a window (GET /agents/stats).
    KEY idx_agent_states_tenant_start (tenant_id, started_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A tenant's pause reasons (GET/PUT /agents/pause-reasons), in the order given.  None:
-- `break` takes any reason (or none); some: `break` takes one of them.
CREATE TABLE agent_pause_reasons (
    tenant_id  CHAR(36)     NOT NULL,
    position   INT UNSIGNED NOT NULL,
    reason     VARCHAR(80)  NOT NULL,
    PRIMARY KEY (tenant_id, position),
    UNIQUE KEY uq_agent_pause_reasons_reason (tenant_id, reason)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
