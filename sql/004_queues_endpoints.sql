-- 004: our side tables for queues, queue members and PJSIP endpoints (issue 3).  They map
-- the Asterisk rows of 002 (queues, queue_members, ps_endpoints/ps_auths/ps_aors) to a
-- tenant; the Asterisk rows stay the single home of what Asterisk reads (strategy,
-- timeouts, codecs, max_contacts...), and the API joins the two.  Names in Asterisk's
-- namespace are built by shared/cc_asterisk.c from the tenant's immutable slug.

-- A PJSIP extension.  asterisk_id is the id of its ps_endpoints, ps_auths and ps_aors
-- rows ("<tenant key>-<extension>", at most 40 characters: ps_auths.username), unique
-- platform-wide; extension is unique in the tenant only.  user_id names a user of the
-- same tenant (checked by the API) or NULL.
CREATE TABLE endpoints (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id    CHAR(36)        NOT NULL,
    extension    VARCHAR(8)      NOT NULL,
    asterisk_id  VARCHAR(40)     NOT NULL,
    user_id      BIGINT UNSIGNED NULL,
    webrtc       TINYINT(1)      NOT NULL DEFAULT 0,
    created_at   DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    updated_at   DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (id),
    UNIQUE KEY uq_endpoints_tenant_extension (tenant_id, extension),
    UNIQUE KEY uq_endpoints_asterisk_id (asterisk_id),
    KEY idx_endpoints_tenant_created (tenant_id, created_at, id),
    KEY idx_endpoints_tenant_user (tenant_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A call queue.  asterisk_name is the realtime queues.name (and queue_members.queue_name)
-- Asterisk knows it by: set once at creation ("<tenant key>-<slug of name>", or that
-- plus "_<id>" when taken), never renamed (members and calls in flight refer to it).
CREATE TABLE call_queues (
    id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id      CHAR(36)        NOT NULL,
    name           VARCHAR(80)     NOT NULL,
    asterisk_name  VARCHAR(80)     NOT NULL,
    created_at     DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    updated_at     DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (id),
    UNIQUE KEY uq_call_queues_tenant_name (tenant_id, name),
    UNIQUE KEY uq_call_queues_asterisk_name (asterisk_name),
    KEY idx_call_queues_tenant_created (tenant_id, created_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A queue membership: the endpoint's interface in the queue's realtime queue_members
-- row (queue_name = call_queues.asterisk_name, interface = 'PJSIP/' + asterisk_id).
-- The foreign keys make an endpoint or queue with members undeletable until the API
-- has removed the members (it does, in the same transaction), and make adding a member
-- take a shared lock on both parents, so a concurrent delete cannot orphan it.
CREATE TABLE call_queue_members (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id    CHAR(36)        NOT NULL,
    queue_id     BIGINT UNSIGNED NOT NULL,
    endpoint_id  BIGINT UNSIGNED NOT NULL,
    created_at   DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (id),
    UNIQUE KEY uq_call_queue_members_queue_endpoint (queue_id, endpoint_id),
    KEY idx_call_queue_members_tenant_queue (tenant_id, queue_id, id),
    KEY idx_call_queue_members_tenant_endpoint (tenant_id, endpoint_id),
    CONSTRAINT fk_call_queue_members_queue FOREIGN KEY (queue_id) REFERENCES call_queues (id),
    CONSTRAINT fk_call_queue_members_endpoint FOREIGN KEY (endpoint_id) REFERENCES endpoints (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
