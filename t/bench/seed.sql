-- make bench: 3 tenants x 10,000 users (role agent) plus an admin each, and 3 tenants x
-- 5,000 DIDs.  @hash is the bcrypt hash of the bench password, set by bench.sh.  Uses
-- MariaDB's SEQUENCE engine.
SET @t1 = UUID(), @t2 = UUID(), @t3 = UUID();
INSERT INTO tenants (id, name, slug, max_users, max_dids) VALUES
    (@t1, 'Bench One', 'bench-1', 100000, 10000000),
    (@t2, 'Bench Two', 'bench-2', 100000, 10000000),
    (@t3, 'Bench Three', 'bench-3', 100000, 10000000);
INSERT INTO roles (tenant_id, name, description, builtin, permissions)
    SELECT t.id, b.name, b.description, 1, b.permissions
    FROM tenants t JOIN builtin_roles b ON b.platform_only = 0
    WHERE t.slug LIKE 'bench-%';
-- The users_count triggers update tenants, so these inserts must not read tenants.
INSERT INTO users (tenant_id, email, name, password_hash)
    SELECT @t1, CONCAT('user', seq, '@bench-1.example'), CONCAT('User ', LPAD(seq, 5, '0')), @hash
    FROM seq_1_to_10000;
INSERT INTO users (tenant_id, email, name, password_hash)
    SELECT @t2, CONCAT('user', seq, '@bench-2.example'), CONCAT('User ', LPAD(seq, 5, '0')), @hash
    FROM seq_1_to_10000;
INSERT INTO users (tenant_id, email, name, password_hash)
    SELECT @t3, CONCAT('user', seq, '@bench-3.example'), CONCAT('User ', LPAD(seq, 5, '0')), @hash
    FROM seq_1_to_10000;
INSERT INTO users (tenant_id, email, name, password_hash) VALUES
    (@t1, 'admin@bench-1.example', 'Bench Admin', @hash),
    (@t2, 'admin@bench-2.example', 'Bench Admin', @hash),
    (@t3, 'admin@bench-3.example', 'Bench Admin', @hash);
-- Staged: a statement inserting into user_roles may not read users (its trigger
-- writes users.role_names, ER 1442).
CREATE TEMPORARY TABLE bench_roles AS
    SELECT u.tenant_id, u.id AS user_id, r.id AS role_id FROM users u
    JOIN tenants t ON t.id = u.tenant_id AND t.slug LIKE 'bench-%'
    JOIN roles r ON r.tenant_id = u.tenant_id
     AND r.name = IF(u.email LIKE 'admin@%', 'tenant_admin', 'agent');
INSERT INTO user_roles (tenant_id, user_id, role_id)
    SELECT tenant_id, user_id, role_id FROM bench_roles;
-- 5,000 DIDs per tenant, +1555<tenant><seq> (unique platform-wide; the POST scenario's
-- numbers have 15 digits, so never these): odd ones route to the tenant's user of the same
-- number, even ones nowhere.  dids_count is kept by the API, not by a trigger: set it after.
INSERT INTO dids (tenant_id, number, description, destination_type, destination_id, status)
    SELECT u.tenant_id, CONCAT('+1555', t.n, LPAD(s.seq, 5, '0')), CONCAT('Line ', s.seq),
           IF(s.seq % 2 = 1, 'user', 'none'), IF(s.seq % 2 = 1, u.id, NULL),
           IF(s.seq % 10 = 0, 'inactive', 'active')
    FROM seq_1_to_5000 s
    JOIN (SELECT @t1 AS id, 1 AS n UNION ALL SELECT @t2, 2 UNION ALL SELECT @t3, 3) t
    JOIN users u ON u.tenant_id = t.id
     AND u.email = CONCAT('user', s.seq, '@bench-', t.n, '.example');
UPDATE tenants t SET dids_count = (SELECT COUNT(*) FROM dids d WHERE d.tenant_id = t.id)
    WHERE t.slug LIKE 'bench-%';
