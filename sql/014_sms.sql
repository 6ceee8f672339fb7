-- 014: SMS (issue 10, item 4).  Forward-only.
--
-- sms_messages: a tenant's text messages both ways (mod_callcenter/cc_sms.c).  An
-- outbound message is queued by POST /api/v1/sms and delivered by the delivery job
-- (cc_sms_job.c): the job claims due rows (status queued, next_attempt_at passed, no
-- live lease) with SELECT ... FOR UPDATE SKIP LOCKED, sets a lease (lease_until, and
-- claim_token so only the claimer may record the outcome), commits, then calls the
-- provider outside any transaction.  So one message is sent by one job run, whatever
-- number of httpd processes and nodes run the job.  attempts counts the provider calls
-- made; a failed call sets next_attempt_at by exponential backoff, the last one
-- status failed with the provider's error.  Status callbacks move sent -> delivered |
-- failed, never backwards.  An inbound message is `received`, created by the inbound
-- callback for the tenant owning the DID it was sent to; provider_message_id is unique
-- per direction, so a replayed callback creates nothing new.
CREATE TABLE sms_messages (
    id                  BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id           CHAR(36)        NOT NULL,
    direction           ENUM('inbound','outbound') NOT NULL,
    from_number         VARCHAR(16)     NOT NULL,
    to_number           VARCHAR(16)     NOT NULL,
    body                TEXT            NOT NULL,   -- 1 to 1600 characters
    status              ENUM('queued','sent','delivered','failed','received') NOT NULL,
    provider_message_id VARCHAR(128)    CHARACTER SET ascii COLLATE ascii_bin NULL,
    error               VARCHAR(500)    NULL,
    attempts            INT UNSIGNED    NOT NULL DEFAULT 0,
    next_attempt_at     DATETIME(6)     NULL,       -- queued: when it is due
    lease_until         DATETIME(6)     NULL,       -- a job run holds it until then
    claim_token         CHAR(32)        CHARACTER SET ascii COLLATE ascii_bin NULL,
    created_at          DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    updated_at          DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (id),
    -- The list's order (ids grow with created_at) and its from/to window.
    KEY idx_sms_tenant_created (tenant_id, created_at, id),
    -- The job's claim: due queued rows, oldest due first.
    KEY idx_sms_due (status, next_attempt_at),
    -- Status callbacks find the message by the provider's id; a replayed inbound
    -- callback hits the key instead of making a second message.
    UNIQUE KEY uq_sms_provider_id (direction, provider_message_id),
    CONSTRAINT fk_sms_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- sms_settings: the tenant's webhook secret, as a random nonce.  The secret itself is
-- HMAC-SHA256(CCSmsSecretKeyFile's key, "cc-sms-webhook:" tenant_id ":" nonce), made
-- again whenever a callback is checked: the database alone (a dump, a replica, a
-- backup) does not give anyone the secrets that sign callbacks.  Rotation writes a
-- new nonce; the secret is shown once, in the rotation's answer.
CREATE TABLE sms_settings (
    tenant_id    CHAR(36)    NOT NULL,
    secret_nonce CHAR(43)    CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    rotated_at   DATETIME    NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (tenant_id),
    CONSTRAINT fk_sms_settings_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
