-- 005: who made a change.  Changes are recorded by users (in a request), by background
-- jobs under mod_watchdog (the system), by chat visitors and by outside providers'
-- callbacks; actor_id stays the user's id, actor_ref names a visitor's session or a
-- provider.  Existing rows were all made by users.
ALTER TABLE audit_logs
    ADD COLUMN actor_type ENUM('user','system','visitor','provider') NOT NULL DEFAULT 'user'
        AFTER tenant_id,
    ADD COLUMN actor_ref VARCHAR(128) NULL AFTER actor_type;

-- The retention job (mod_cc_auth, CCAuthRetentionInterval) deletes refresh tokens by
-- expiry across tenants, in batches: an index keeps each batch a range read.
ALTER TABLE refresh_tokens ADD KEY idx_refresh_tokens_expires (expires_at);
