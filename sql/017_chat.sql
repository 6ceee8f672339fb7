-- 017: live chat (issue 12; mod_cc_chat/cc_chat_*.c).  Forward-only.
--
-- chat_widgets: a tenant's website widgets.  public_key is what a page's script tag
-- names (random, server-made, unique across tenants: the visitor API finds the tenant
-- from it); allowed_origins the JSON array of origins whose pages may open sessions.
CREATE TABLE chat_widgets (
    id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id        CHAR(36)        NOT NULL,
    name             VARCHAR(100)    NOT NULL,
    public_key       CHAR(32)        CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    allowed_origins  TEXT            NOT NULL,          -- JSON array of origins
    greeting         VARCHAR(500)    NOT NULL DEFAULT '',
    color            CHAR(7)         CHARACTER SET ascii NOT NULL DEFAULT '#1f6feb',
    enabled          TINYINT(1)      NOT NULL DEFAULT 1,
    reassign_after   INT UNSIGNED    NULL,              -- seconds; NULL never
    created_at       DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    updated_at       DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (id),
    UNIQUE KEY uq_chat_widgets_key (public_key),
    KEY idx_chat_widgets_tenant_name (tenant_id, name, id),
    KEY idx_chat_widgets_tenant_created (tenant_id, created_at, id),
    CONSTRAINT fk_chat_widgets_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- chat_agents: a user's chat availability and capacity (no row: offline, capacity 3).
-- last_assigned_at breaks ties between agents with the same free capacity (whoever was
-- given a chat least recently goes first).  active_count is the agent's active sessions,
-- kept by the triggers on chat_sessions below (so every change of a session's agent or
-- status counts, whatever statement makes it): assignment reads the load from these rows
-- alone and never locks sessions that messages are being written to.
CREATE TABLE chat_agents (
    tenant_id        CHAR(36)        NOT NULL,
    user_id          BIGINT UNSIGNED NOT NULL,
    status           ENUM('online','away','offline') NOT NULL DEFAULT 'offline',
    max_concurrent   INT UNSIGNED    NOT NULL DEFAULT 3,
    active_count     INT             NOT NULL DEFAULT 0,
    last_assigned_at DATETIME(6)     NULL,
    updated_at       DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (tenant_id, user_id),
    KEY idx_chat_agents_status (tenant_id, status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- chat_sessions: one visitor's conversation.  waiting: in the tenant's queue (queued_at
-- orders it); active: agent_id has it (assigned_at: since when; agent_replied_at: that
-- agent's first message, which stops the widget's reassign_after clock; skip_agent_id:
-- the agent a reassignment took it from, passed over by the next automatic one);
-- closed.  The visitor's token is kept as its SHA-256 (hex) only.
CREATE TABLE chat_sessions (
    id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id         CHAR(36)        NOT NULL,
    widget_id         BIGINT UNSIGNED NOT NULL,
    status            ENUM('waiting','active','closed') NOT NULL DEFAULT 'waiting',
    agent_id          BIGINT UNSIGNED NULL,
    visitor_name      VARCHAR(100)    NULL,
    visitor_email     VARCHAR(254)    NULL,
    visitor_ip        VARCHAR(64)     NOT NULL,
    user_agent        VARCHAR(512)    NULL,
    origin            VARCHAR(255)    NOT NULL,
    token_hash        CHAR(64)        CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    token_expires_at  DATETIME        NOT NULL,
    queued_at         DATETIME(6)     NULL,
    assigned_at       DATETIME(6)     NULL,
    agent_replied_at  DATETIME(6)     NULL,
    first_response_at DATETIME(6)     NULL,
    skip_agent_id     BIGINT UNSIGNED NULL,
    last_message_at   DATETIME(6)     NULL,
    -- The visitor's last sign of life: its stream (on connect, then every minute) or a
    -- message of its own.  A waiting session whose visitor has been gone for
    -- CCChatVisitorTimeout is closed by the reassign job.
    visitor_seen_at   DATETIME(6)     NOT NULL,
    closed_at         DATETIME(6)     NULL,
    closed_by         ENUM('visitor','agent','system') NULL,
    created_at        DATETIME(6)     NOT NULL,
    updated_at        DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    -- The queue: waiting rows only (NULL otherwise), in order.
    waiting_at        DATETIME(6)     AS (IF(status = 'waiting', queued_at, NULL)) PERSISTENT,
    -- An agent's active sessions (its load).
    active_agent_id   BIGINT UNSIGNED AS (IF(status = 'active', agent_id, NULL)) PERSISTENT,
    PRIMARY KEY (id),
    KEY idx_chat_sessions_queue (tenant_id, waiting_at, id),
    KEY idx_chat_sessions_load (tenant_id, active_agent_id),
    KEY idx_chat_sessions_created (tenant_id, created_at, id),
    KEY idx_chat_sessions_agent (tenant_id, agent_id, created_at),
    KEY idx_chat_sessions_status (tenant_id, status, created_at),
    -- Session-creation limits: per address (in the tenant) and per widget, last minute.
    KEY idx_chat_sessions_ip (tenant_id, visitor_ip, created_at),
    KEY idx_chat_sessions_widget (tenant_id, widget_id, created_at),
    -- The reassign job: active sessions without their agent's reply, by assignment time.
    KEY idx_chat_sessions_unanswered (status, agent_replied_at, assigned_at),
    -- The same job closes sessions whose visitor token has expired.
    KEY idx_chat_sessions_expiry (status, token_expires_at),
    KEY idx_chat_sessions_gone (status, visitor_seen_at),
    CONSTRAINT fk_chat_sessions_widget FOREIGN KEY (widget_id) REFERENCES chat_widgets (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The load triggers (chat_agents.active_count): a session counts for its agent while it
-- is active.  A message's update of its session changes neither, and touches no agent.
DELIMITER //
CREATE TRIGGER trg_chat_sessions_load_insert AFTER INSERT ON chat_sessions FOR EACH ROW
BEGIN
    IF NEW.status = 'active' AND NEW.agent_id IS NOT NULL THEN
        INSERT INTO chat_agents (tenant_id, user_id, active_count)
        VALUES (NEW.tenant_id, NEW.agent_id, 1)
        ON DUPLICATE KEY UPDATE active_count = active_count + 1;
    END IF;
END//
CREATE TRIGGER trg_chat_sessions_load_update AFTER UPDATE ON chat_sessions FOR EACH ROW
BEGIN
    DECLARE was BIGINT UNSIGNED DEFAULT IF(OLD.status = 'active', OLD.agent_id, NULL);
    DECLARE now_ BIGINT UNSIGNED DEFAULT IF(NEW.status = 'active', NEW.agent_id, NULL);

    IF NOT (was <=> now_) THEN
        IF was IS NOT NULL THEN
            UPDATE chat_agents SET active_count = active_count - 1
            WHERE tenant_id = OLD.tenant_id AND user_id = was;
        END IF;
        IF now_ IS NOT NULL THEN
            INSERT INTO chat_agents (tenant_id, user_id, active_count)
            VALUES (NEW.tenant_id, now_, 1)
            ON DUPLICATE KEY UPDATE active_count = active_count + 1;
        END IF;
    END IF;
END//
CREATE TRIGGER trg_chat_sessions_load_delete AFTER DELETE ON chat_sessions FOR EACH ROW
BEGIN
    IF OLD.status = 'active' AND OLD.agent_id IS NOT NULL THEN
        UPDATE chat_agents SET active_count = active_count - 1
        WHERE tenant_id = OLD.tenant_id AND user_id = OLD.agent_id;
    END IF;
END//
DELIMITER ;

CREATE TABLE chat_messages (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id       CHAR(36)        NOT NULL,
    session_id      BIGINT UNSIGNED NOT NULL,
    sender_type     ENUM('visitor','agent','system') NOT NULL,
    sender_user_id  BIGINT UNSIGNED NULL,
    body            TEXT            NOT NULL,    -- 1 to 4000 characters
    created_at      DATETIME(6)     NOT NULL,
    PRIMARY KEY (id),
    KEY idx_chat_messages_session (tenant_id, session_id, id),
    CONSTRAINT fk_chat_messages_session FOREIGN KEY (session_id) REFERENCES chat_sessions (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE chat_transfers (
    id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id       CHAR(36)        NOT NULL,
    session_id      BIGINT UNSIGNED NOT NULL,
    from_agent_id   BIGINT UNSIGNED NULL,
    to_agent_id     BIGINT UNSIGNED NOT NULL,
    note            VARCHAR(1000)   NULL,
    created_by      BIGINT UNSIGNED NOT NULL,
    created_at      DATETIME(6)     NOT NULL,
    PRIMARY KEY (id),
    KEY idx_chat_transfers_session (tenant_id, session_id, id),
    CONSTRAINT fk_chat_transfers_session FOREIGN KEY (session_id) REFERENCES chat_sessions (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- chat_routing: one row per tenant, the lock every change of the tenant's chat capacity
-- takes first (an upsert of its row: exclusive whether the row is new or not).  Creating
-- a session, accepting, transferring, closing, an agent's status or capacity, a voice
-- state that frees an agent, the reassign job: each runs its assignment under it, so the
-- load an assignment reads is the load it writes, and max_concurrent holds under any
-- concurrency, on one node or several.  No foreign key: its check would share-lock the
-- tenant's row while this one is held, and a user deletion holds that row (users_count)
-- before it takes this one.
CREATE TABLE chat_routing (
    tenant_id   CHAR(36)    NOT NULL,
    changes     BIGINT UNSIGNED NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
