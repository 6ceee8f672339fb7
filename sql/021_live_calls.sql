-- Live calls (issue 14): what the Asterisk link (mod_callcenter/cc_ami_link.c) reads from
-- Asterisk's manager interface, the commands the API leaves for it, and its state.

-- A call as the link sees it: one row per call, keyed by the uniqueid of its first
-- channel (Asterisk's linkedid, which every later leg of the call carries).  Rows are
-- kept `ended` for a while (the link prunes them): a node that reads an event late never
-- brings an ended call back.
CREATE TABLE live_calls (
    call_id      VARCHAR(150)    CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    tenant_id    CHAR(36)        NOT NULL,
    direction    ENUM('inbound','outbound','internal') NOT NULL,
    state        ENUM('new','queued','ringing','answered','ended') NOT NULL,
    from_number  VARCHAR(80)     NULL,
    to_number    VARCHAR(80)     NULL,
    did          VARCHAR(16)     NULL,
    queue_id     BIGINT UNSIGNED NULL,
    agent_id     BIGINT UNSIGNED NULL,
    endpoint_id  BIGINT UNSIGNED NULL,
    channel      VARCHAR(150)    CHARACTER SET ascii COLLATE ascii_bin NULL,
    started_at   DATETIME        NOT NULL,
    answered_at  DATETIME        NULL,
    ended_at     DATETIME        NULL,
    PRIMARY KEY (call_id),
    -- GET /calls: a tenant's calls not ended, newest first.
    KEY idx_live_calls_tenant (tenant_id, ended_at, started_at),
    KEY idx_live_calls_ended (ended_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every Asterisk event the link acted on, by a key built from the event (its name and
-- the uniqueid it is about): with a link on several nodes, the node whose insert of the
-- key succeeds acts on the event, in the same transaction; the others find the key and
-- skip it.  Pruned after a day.
CREATE TABLE asterisk_event_keys (
    source_key  VARCHAR(190)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at  DATETIME      NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (source_key),
    KEY idx_asterisk_event_keys_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=ascii COLLATE=ascii_bin;

-- Each node's link: its state and its last sign of life (/readyz shows the node's own;
-- POST /calls needs one link up).
CREATE TABLE asterisk_links (
    node          VARCHAR(255)  NOT NULL,
    state         ENUM('connecting','up','down') NOT NULL,
    detail        VARCHAR(255)  NULL,
    since         DATETIME(3)   NOT NULL,
    heartbeat_at  DATETIME(3)   NOT NULL,
    PRIMARY KEY (node)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- What the API asks Asterisk to do (click-to-call, hang-up): a request never talks to
-- Asterisk; a link claims the command (SKIP LOCKED) and sends the action.
CREATE TABLE call_commands (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id   CHAR(36)        NOT NULL,
    kind        ENUM('originate','hangup') NOT NULL,
    call_id     VARCHAR(150)    CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    channel     VARCHAR(150)    CHARACTER SET ascii COLLATE ascii_bin NULL,
    context     VARCHAR(40)     NULL,
    exten       VARCHAR(40)     NULL,
    callerid    VARCHAR(80)     NULL,
    created_at  DATETIME(3)     NOT NULL DEFAULT UTC_TIMESTAMP(3),
    sent_at     DATETIME(3)     NULL,
    result      VARCHAR(255)    NULL,
    PRIMARY KEY (id),
    KEY idx_call_commands_pending (sent_at, id),
    KEY idx_call_commands_tenant (tenant_id, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Agent states follow calls: a wrap_up period the link opened at a hang-up ends at
-- wrap_up_until (the queue's wrapuptime later), when the link makes the agent available.
ALTER TABLE agent_states ADD COLUMN wrap_up_until DATETIME NULL,
    ADD KEY idx_agent_states_wrap_up (wrap_up_until);
