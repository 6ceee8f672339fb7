-- 003: telephony side tables of our own (issue 3).  Asterisk's realtime tables are 002's;
-- nothing here depends on them.  Forward-only, like every migration.

-- Live DIDs per tenant: the max_dids quota and the total of an unfiltered DID list read
-- it instead of counting rows per request.  Kept by the API (mod_callcenter/cc_dids.c)
-- as the LAST statement of a create or delete, not by a trigger: a trigger (and a
-- foreign key to tenants, whose shared lock then needs upgrading) would hold the tenant
-- row from the INSERT to the commit and serialise a tenant's creates for the whole
-- transaction.  Anything else that inserts or deletes DIDs must update it too.
ALTER TABLE tenants
    ADD COLUMN dids_count INT UNSIGNED NOT NULL DEFAULT 0 AFTER users_count;

-- A DID (inbound phone number) belongs to one tenant platform-wide: number is unique
-- across tenants.  destination_id names a row of the table destination_type selects
-- (users, queues, ...), always in the DID's tenant (checked by the API: a polymorphic
-- reference has no foreign key); NULL exactly when destination_type is 'none'.
-- Deletes are real: the audit log keeps the history.
CREATE TABLE dids (
    id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id         CHAR(36)        NOT NULL,
    number            VARCHAR(16)     NOT NULL,
    description       VARCHAR(500)    NOT NULL DEFAULT '',
    destination_type  ENUM('none','queue','user','endpoint','voicemail') NOT NULL DEFAULT 'none',
    destination_id    BIGINT UNSIGNED NULL,
    status            ENUM('active','inactive') NOT NULL DEFAULT 'active',
    created_at        DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    updated_at        DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (id),
    UNIQUE KEY uq_dids_number (number),
    -- One per list order and filter, tenant first (lists are index-ordered reads).
    KEY idx_dids_tenant_number (tenant_id, number),
    KEY idx_dids_tenant_created (tenant_id, created_at, id),
    KEY idx_dids_tenant_status (tenant_id, status, number),
    -- The destination_type filter, and "does a DID route to this queue/user/..." checks.
    KEY idx_dids_tenant_destination (tenant_id, destination_type, destination_id),
    CONSTRAINT ck_dids_destination CHECK ((destination_type = 'none') = (destination_id IS NULL))) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
