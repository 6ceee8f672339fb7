-- 016: the event stream's connected clients, and event retention (issue 11).  Forward-only.
--
-- websocket_sessions (the design's name; the stream is Server-Sent Events): one row per
-- open GET /api/v1/events/stream, written when it starts, deleted when it ends.  seen_at
-- is refreshed for all the streams of a process at once by its poller (every 30 s: one
-- statement per child, not per stream), last_event_id by each stream every 5 minutes.  A
-- child that dies (a crash, kill -9) leaves its rows: GET /realtime/sessions shows only
-- rows seen within three heartbeats, and the retention job deletes the others.  node and
-- pid say which httpd process serves it.
CREATE TABLE websocket_sessions (
    id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id      CHAR(36)        NOT NULL,
    user_id        BIGINT UNSIGNED NOT NULL,
    remote_addr    VARCHAR(64)     NOT NULL,
    user_agent     VARCHAR(512)    NULL,      -- as audit_logs.user_agent
    node           VARCHAR(64)     NOT NULL,
    pid            INT UNSIGNED    NOT NULL,
    connected_at   DATETIME(3)     NOT NULL,
    seen_at        DATETIME(3)     NOT NULL,
    last_event_id  BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (id),
    KEY idx_websocket_sessions_tenant (tenant_id, connected_at, id),
    KEY idx_websocket_sessions_seen (seen_at),
    KEY idx_websocket_sessions_process (node, pid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The retention job deletes events older than CCEventRetentionDays by this index (the
-- primary key's order is the id's, which says nothing about age to the optimizer).
ALTER TABLE events ADD KEY idx_events_created (created_at);
