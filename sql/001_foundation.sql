-- 001: the foundation.  Tenants, users, RBAC, refresh tokens, login throttling, audit, events.
-- Forward-only: never edit an applied migration, add the next number instead.
-- All times are UTC DATETIMEs (the server runs with time_zone '+00:00'; defaults use
-- UTC_TIMESTAMP() so they do not depend on it).

CREATE TABLE tenants (
    id          CHAR(36)      NOT NULL,
    name        VARCHAR(200)  NOT NULL,
    slug        VARCHAR(63)   NOT NULL,
    status      ENUM('active','suspended','deleted') NOT NULL DEFAULT 'active',
    plan        VARCHAR(50)   NOT NULL DEFAULT 'standard',
    max_users   INT UNSIGNED  NOT NULL DEFAULT 100,
    max_dids    INT UNSIGNED  NOT NULL DEFAULT 100,
    -- Live (not deleted) users, kept by the triggers below: the max_users quota and the
    -- total of an unfiltered users list read it instead of counting rows per request.
    users_count INT UNSIGNED  NOT NULL DEFAULT 0,
    created_at  DATETIME      NOT NULL DEFAULT UTC_TIMESTAMP(),
    updated_at  DATETIME      NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (id),
    UNIQUE KEY uq_tenants_slug (slug),
    KEY idx_tenants_status_created (status, created_at, id),
    KEY idx_tenants_name (name, id),
    KEY idx_tenants_created (created_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Role permissions are a SET whose member order IS cc_perm_catalogue's order
-- (shared/cc_perm.c), so permissions+0 is the bitmask the code uses.  A unit-level lint
-- (t/lint/check_perm_set.py) keeps the two in step.  New permissions are appended.
CREATE TABLE builtin_roles (
    name          VARCHAR(63)   NOT NULL,
    description   VARCHAR(500)  NOT NULL,
    platform_only TINYINT(1)    NOT NULL DEFAULT 0,
    permissions   SET('users.read','users.write','roles.manage','audit.read',
                      'contacts.read','contacts.write','tags.manage','dids.read','dids.write',
                      'queues.read','queues.write','endpoints.read','endpoints.write',
                      'cdrs.read','recordings.read','recordings.write','recordings.delete',
                      'voicemails.read','voicemails.write','agents.read','agents.manage',
                      'sms.read','sms.send','tickets.read','tickets.write','tickets.manage',
                      'chat.read','chat.handle','chat.manage','events.read',
                      'tenants.manage') NOT NULL DEFAULT '',
    PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO builtin_roles (name, description, platform_only, permissions) VALUES
('tenant_admin', 'Full control of the tenant', 0,
 'users.read,users.write,roles.manage,audit.read,contacts.read,contacts.write,tags.manage,dids.read,dids.write,queues.read,queues.write,endpoints.read,endpoints.write,cdrs.read,recordings.read,recordings.write,recordings.delete,voicemails.read,voicemails.write,agents.read,agents.manage,sms.read,sms.send,tickets.read,tickets.write,tickets.manage,chat.read,chat.handle,chat.manage,events.read'),
('supervisor', 'Runs queues, agents, tickets and chat; reads everything but the audit log', 0,
 'users.read,contacts.read,contacts.write,tags.manage,dids.read,queues.read,queues.write,endpoints.read,cdrs.read,recordings.read,recordings.write,voicemails.read,voicemails.write,agents.read,agents.manage,sms.read,sms.send,tickets.read,tickets.write,tickets.manage,chat.read,chat.handle,chat.manage,events.read'),
('agent', 'Handles calls, tickets and chats', 0,
 'users.read,contacts.read,contacts.write,dids.read,queues.read,endpoints.read,cdrs.read,recordings.read,voicemails.read,voicemails.write,agents.read,sms.read,sms.send,tickets.read,tickets.write,chat.read,chat.handle,events.read'),
('viewer', 'Read-only access to operational data', 0,
 'users.read,contacts.read,dids.read,queues.read,endpoints.read,cdrs.read,recordings.read,voicemails.read,agents.read,sms.read,tickets.read,chat.read,events.read'),
('platform_admin', 'Operates the platform: every permission in every tenant', 1,
 'users.read,users.write,roles.manage,audit.read,contacts.read,contacts.write,tags.manage,dids.read,dids.write,queues.read,queues.write,endpoints.read,endpoints.write,cdrs.read,recordings.read,recordings.write,recordings.delete,voicemails.read,voicemails.write,agents.read,agents.manage,sms.read,sms.send,tickets.read,tickets.write,tickets.manage,chat.read,chat.handle,chat.manage,events.read,tenants.manage');

-- Each tenant gets its own copy of the built-in roles (builtin=1) at creation, plus its
-- custom roles; user_roles then never crosses tenants.
CREATE TABLE roles (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id     CHAR(36)      NOT NULL,
    name          VARCHAR(63)   NOT NULL,
    description   VARCHAR(500)  NOT NULL DEFAULT '',
    builtin       TINYINT(1)    NOT NULL DEFAULT 0,
    permissions   SET('users.read','users.write','roles.manage','audit.read',
                      'contacts.read','contacts.write','tags.manage','dids.read','dids.write',
                      'queues.read','queues.write','endpoints.read','endpoints.write',
                      'cdrs.read','recordings.read','recordings.write','recordings.delete',
                      'voicemails.read','voicemails.write','agents.read','agents.manage',
                      'sms.read','sms.send','tickets.read','tickets.write','tickets.manage',
                      'chat.read','chat.handle','chat.manage','events.read',
                      'tenants.manage') NOT NULL DEFAULT '',
    created_at    DATETIME      NOT NULL DEFAULT UTC_TIMESTAMP(),
    updated_at    DATETIME      NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (id),
    UNIQUE KEY uq_roles_tenant_name (tenant_id, name),
    CONSTRAINT fk_roles_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Soft delete: deleted_at set; live_email is NULL then, so the address may be reused
-- while the row (and its audit trail) stays.
CREATE TABLE users (
    id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id      CHAR(36)      NOT NULL,
    email          VARCHAR(254)  NOT NULL,
    name           VARCHAR(200)  NOT NULL,
    password_hash  VARCHAR(100)  NOT NULL,
    status         ENUM('active','disabled') NOT NULL DEFAULT 'active',
    extension      VARCHAR(8)    NULL,
    -- The user's role names, sorted, comma-separated: a copy of user_roles kept by the
    -- triggers below, so a page of users carries its roles without a subquery per row.
    -- user_roles stays the source of truth (permissions are resolved from it).
    role_names     VARCHAR(4100) NOT NULL DEFAULT '',
    deleted_at     DATETIME      NULL,
    live_email     VARCHAR(254)  AS (IF(deleted_at IS NULL, email, NULL)) PERSISTENT,
    created_at     DATETIME      NOT NULL DEFAULT UTC_TIMESTAMP(),
    updated_at     DATETIME      NOT NULL DEFAULT UTC_TIMESTAMP(),
    last_login_at  DATETIME      NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_users_tenant_email (tenant_id, live_email),
    KEY idx_users_live_email (live_email),
    KEY idx_users_tenant_name (tenant_id, deleted_at, name, id),
    KEY idx_users_tenant_email (tenant_id, deleted_at, email, id),
    KEY idx_users_tenant_created (tenant_id, deleted_at, created_at, id),
    KEY idx_users_tenant_status (tenant_id, deleted_at, status, id),
    CONSTRAINT fk_users_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TRIGGER trg_users_count_insert AFTER INSERT ON users FOR EACH ROW
    UPDATE tenants SET users_count = users_count + (NEW.deleted_at IS NULL)
    WHERE id = NEW.tenant_id;

-- Only a change of deleted_at touches the tenant row (a constant-false WHERE is
-- optimised away before any lock): logins and edits do not serialise on it.
CREATE TRIGGER trg_users_count_update AFTER UPDATE ON users FOR EACH ROW
    UPDATE tenants
    SET users_count = users_count + (NEW.deleted_at IS NULL) - (OLD.deleted_at IS NULL)
    WHERE id = NEW.tenant_id AND (NEW.deleted_at IS NULL) <> (OLD.deleted_at IS NULL);

CREATE TRIGGER trg_users_count_delete AFTER DELETE ON users FOR EACH ROW
    UPDATE tenants SET users_count = users_count - (OLD.deleted_at IS NULL)
    WHERE id = OLD.tenant_id;

CREATE TABLE user_roles (
    tenant_id  CHAR(36)        NOT NULL,
    user_id    BIGINT UNSIGNED NOT NULL,
    role_id    BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (tenant_id, user_id, role_id),
    KEY idx_user_roles_role (tenant_id, role_id, user_id),
    CONSTRAINT fk_user_roles_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT fk_user_roles_role FOREIGN KEY (role_id) REFERENCES roles (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Role names are immutable, so only assignments change role_names.  (Cascaded deletes do
-- not fire triggers: deleting a role removes only assignments of deleted users, whose
-- rows are never shown again.)  A statement inserting into user_roles must not read
-- users (ER 1442).
CREATE TRIGGER trg_user_roles_insert AFTER INSERT ON user_roles FOR EACH ROW
    UPDATE users SET role_names = COALESCE(
        (SELECT GROUP_CONCAT(r.name ORDER BY r.name SEPARATOR ',') FROM user_roles ur
         JOIN roles r ON r.id = ur.role_id AND r.tenant_id = ur.tenant_id
         WHERE ur.tenant_id = NEW.tenant_id AND ur.user_id = NEW.user_id), '')
    WHERE tenant_id = NEW.tenant_id AND id = NEW.user_id;

CREATE TRIGGER trg_user_roles_delete AFTER DELETE ON user_roles FOR EACH ROW
    UPDATE users SET role_names = COALESCE(
        (SELECT GROUP_CONCAT(r.name ORDER BY r.name SEPARATOR ',') FROM user_roles ur
         JOIN roles r ON r.id = ur.role_id AND r.tenant_id = ur.tenant_id
         WHERE ur.tenant_id = OLD.tenant_id AND ur.user_id = OLD.user_id), '')
    WHERE tenant_id = OLD.tenant_id AND id = OLD.user_id;

-- Only SHA-256 hashes of refresh tokens are stored.  A family is one login's chain of
-- rotations; presenting a rotated token again revokes the whole family.
CREATE TABLE refresh_tokens (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id   CHAR(36)        NOT NULL,
    user_id     BIGINT UNSIGNED NOT NULL,
    family_id   CHAR(36)        NOT NULL,
    token_hash  CHAR(64)        NOT NULL,
    created_at  DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    expires_at  DATETIME        NOT NULL,
    rotated_at  DATETIME        NULL,
    revoked_at  DATETIME        NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_refresh_tokens_hash (token_hash),
    KEY idx_refresh_tokens_family (tenant_id, family_id),
    KEY idx_refresh_tokens_user (tenant_id, user_id),
    CONSTRAINT fk_refresh_tokens_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Failed logins per (tenant, email) inside a sliding window.  tenant_key is the tenant id
-- when the login named or resolved one, else '' so unknown emails are throttled too.
CREATE TABLE login_throttle (
    tenant_key    VARCHAR(36)   NOT NULL,
    email         VARCHAR(254)  NOT NULL,
    failures      INT UNSIGNED  NOT NULL DEFAULT 0,
    window_start  DATETIME      NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (tenant_key, email),
    -- The opportunistic cleanup of expired windows (mod_cc_auth) reads by age.
    KEY idx_login_throttle_window (window_start)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE audit_logs (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id    CHAR(36)        NOT NULL,
    actor_id     BIGINT UNSIGNED NULL,
    actor_email  VARCHAR(254)    NULL,
    action       VARCHAR(64)     NOT NULL,
    entity_type  VARCHAR(32)     NOT NULL,
    entity_id    VARCHAR(64)     NULL,
    changes      TEXT            NULL CHECK (changes IS NULL OR JSON_VALID(changes)),
    ip           VARCHAR(45)     NULL,
    user_agent   VARCHAR(512)    NULL,
    request_id   VARCHAR(128)    NULL,
    created_at   DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (id),
    KEY idx_audit_logs_tenant_id (tenant_id, id),
    KEY idx_audit_logs_tenant_created (tenant_id, created_at, id),
    KEY idx_audit_logs_tenant_actor (tenant_id, actor_id, id),
    KEY idx_audit_logs_tenant_action (tenant_id, action, id),
    KEY idx_audit_logs_tenant_entity (tenant_id, entity_type, entity_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The event stream's history (served by a later issue); ids only grow.
CREATE TABLE events (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id    CHAR(36)        NOT NULL,
    type         VARCHAR(64)     NOT NULL,
    entity_type  VARCHAR(32)     NULL,
    entity_id    VARCHAR(64)     NULL,
    data         TEXT            NULL CHECK (data IS NULL OR JSON_VALID(data)),
    created_at   DATETIME(3)     NOT NULL DEFAULT UTC_TIMESTAMP(3),
    PRIMARY KEY (id),
    KEY idx_events_tenant_id (tenant_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
