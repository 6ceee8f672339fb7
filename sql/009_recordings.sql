-- 009: call recordings (issue 9, item 5).  Forward-only.
--
-- A recording is a file Asterisk (MixMonitor) wrote under CCRecordingsDir/<tenant id>/,
-- registered by the API (mod_callcenter/cc_recordings.c).  path is relative to the
-- tenant's directory, as the client gave it (checked: no absolute path, no . or ..
-- component, no control character); one file backs at most one recording of a tenant
-- (uq_recordings_tenant_path), so deleting one never takes another's audio.
-- cdr_uniqueid is the call leg's cdr.uniqueid; the CDR may be written after the
-- recording is registered, so there is no foreign key: calldate and duration are read
-- from the tenant's CDR with that uniqueid when it exists.  size_bytes is the file's
-- size when registered (fstat of the opened file).  duration is the recording's own
-- length when one is known (nothing sets it yet; the API shows the CDR's billsec then).
-- Deletes are real: the audit log keeps the history.
CREATE TABLE recordings (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id     CHAR(36)        NOT NULL,
    cdr_uniqueid  VARCHAR(150)    NOT NULL,
    path          VARBINARY(1024) NOT NULL,   -- bytes, compared as the file system does
    format        ENUM('wav','wav49','gsm','mp3','ogg') NOT NULL,
    size_bytes    BIGINT UNSIGNED NOT NULL,
    duration      INT UNSIGNED    NULL,
    created_at    DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (id),
    -- The list's order (ids grow with created_at) and its from/to filters.
    KEY idx_recordings_tenant_created (tenant_id, created_at, id),
    -- The CDR join both ways: a recording's CDR, and a CDR's recording_id (GET /cdrs
    -- joins recordings by (tenant, uniqueid)); also the cdr_uniqueid filter.
    KEY idx_recordings_tenant_cdr (tenant_id, cdr_uniqueid),
    UNIQUE KEY uq_recordings_tenant_path (tenant_id, path)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
