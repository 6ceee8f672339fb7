-- 028: outbound webhooks (issue 16; API.md "Platform features", README "Webhooks").
-- Forward-only.
--
-- webhooks: a tenant's subscriptions.  Each follows the event log on its own: position is
-- the id of the last event it is done with (delivered, skipped as not subscribed, or
-- given up as a dead letter), so events are delivered in id order (ids are numbered in
-- commit order, sql/026), one at a time, at least once.  The delivery job
-- (mod_cc_chat/cc_webhooks_job.c) claims a due subscription with a lease and a random
-- claim token, as the SMS job claims a message; every write of its run checks the token,
-- so a lease taken over (expired) or reset by a replay, an update or a delete ends it.
--   attempts, head_failed_at   failed calls for the event after position, and when the
--                              first of them failed: past CCWebhookRetryFor it is a dead
--                              letter and the subscription goes on with the next event;
--   failing_since              the first failure since the last delivery: past
--                              CCWebhookDisableAfter the subscription is disabled (and
--                              audited);
--   next_attempt_at            when the job may call again (the backoff).
-- secret signs the deliveries (HMAC-SHA256, as the SMS callbacks): it is never rendered,
-- audited or announced.
CREATE TABLE webhooks (
    id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id        CHAR(36)        NOT NULL,
    url              VARCHAR(2048)   NOT NULL,
    events           VARCHAR(2000)   CHARACTER SET ascii NOT NULL,  -- patterns, comma-separated
    description      VARCHAR(500)    NULL,
    secret           VARCHAR(256)    CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    status           ENUM('active', 'disabled') NOT NULL DEFAULT 'active',
    disabled_reason  VARCHAR(200)    NULL,
    position         BIGINT UNSIGNED NOT NULL,
    attempts         INT UNSIGNED    NOT NULL DEFAULT 0,
    head_failed_at   DATETIME(6)     NULL,
    failing_since    DATETIME(6)     NULL,
    next_attempt_at  DATETIME(6)     NOT NULL,
    lease_until      DATETIME(6)     NULL,
    claim_token      VARCHAR(64)     CHARACTER SET ascii NULL,
    last_success_at  DATETIME(3)     NULL,
    last_failure_at  DATETIME(3)     NULL,
    last_error       VARCHAR(500)    NULL,
    created_at       DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    updated_at       DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (id),
    KEY idx_webhooks_tenant (tenant_id, id),
    -- the job's claim: active subscriptions by due time
    KEY idx_webhooks_due (status, next_attempt_at),
    CONSTRAINT fk_webhooks_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- webhook_deliveries: one row per call the job made (GET /webhooks/{id}/deliveries):
-- delivered (2xx), failed (another attempt follows) or dead (the last: the event is a
-- dead letter; a replay can send it again).  Deleted with the events, after
-- CCEventRetentionDays, by the events' retention job.
CREATE TABLE webhook_deliveries (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id    CHAR(36)        NOT NULL,
    webhook_id   BIGINT UNSIGNED NOT NULL,
    event_id     BIGINT UNSIGNED NOT NULL,
    event_type   VARCHAR(64)     NOT NULL,
    attempt      INT UNSIGNED    NOT NULL,
    status       ENUM('delivered', 'failed', 'dead') NOT NULL,
    http_status  SMALLINT        NULL,
    error        VARCHAR(500)    NULL,
    duration_ms  INT UNSIGNED    NOT NULL,
    created_at   DATETIME(3)     NOT NULL,
    PRIMARY KEY (id),
    KEY idx_webhook_deliveries_webhook (tenant_id, webhook_id, id),
    KEY idx_webhook_deliveries_created (created_at),
    CONSTRAINT fk_webhook_deliveries_webhook FOREIGN KEY (webhook_id) REFERENCES webhooks (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
