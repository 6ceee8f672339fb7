-- 027: Idempotency-Key on POST (issue 16; API.md "Platform features").  Forward-only.
--
-- One row per key a client sent, scoped to its tenant and its access token (scope: the
-- token's SHA-256, never the token).  The request that inserts the row owns it (owner,
-- a random value of that request) and does the work; each of its transactions marks the
-- row before it commits (committed counts them: never 0 again; shared/cc_idem.c, through
-- cc_db's commit), so a claim whose work committed is never done again.  The answer (status, Location,
-- Content-Type, body) and the request's hash (method, target and body) are stored after
-- it.  A retry with the same key replays the stored answer when its hash is the same,
-- 422 otherwise; one that finds the first still running waits for it.  A claim whose
-- work never committed is released (deleted) when the request fails, or taken over when
-- its owner is gone (claimed_at older than a minute).  Rows older than
-- CCIdempotencyHours are ignored and then deleted by the retention job (mod_cc_auth).
CREATE TABLE idempotency_keys (
    tenant_id     CHAR(36)        NOT NULL,
    scope         CHAR(64)        CHARACTER SET ascii NOT NULL,
    idem_key      VARCHAR(255)    CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    owner         CHAR(32)        CHARACTER SET ascii NOT NULL,
    claimed_at    DATETIME(3)     NOT NULL,
    committed     TINYINT         NOT NULL DEFAULT 0,
    request_hash  CHAR(64)        CHARACTER SET ascii NULL,
    status        SMALLINT        NULL,
    location      VARCHAR(2048)   NULL,
    content_type  VARCHAR(255)    NULL,
    body          MEDIUMTEXT      NULL,
    created_at    DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (tenant_id, scope, idem_key),
    KEY idx_idempotency_keys_created (created_at),
    CONSTRAINT fk_idempotency_keys_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
