"""The environment itself: httpd and MariaDB are up, the seed ran, /healthz answers."""


def test_error_log_exists(cc):
    assert cc.error_log.is_file()


def test_database_is_migrated_and_seeded(cc):
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT version FROM schema_migrations ORDER BY version")
        assert cur.fetchall()[0]["version"].startswith("001_")
        cur.execute("SELECT id, name, status FROM tenants WHERE slug = 'platform'")
        t = cur.fetchone()
        assert t["id"] == cc.platform_tenant_id and t["status"] == "active"
        cur.execute("SELECT r.name FROM users u JOIN user_roles ur ON ur.user_id = u.id "
                    "JOIN roles r ON r.id = ur.role_id "
                    "WHERE u.tenant_id = %s AND u.email = %s",
                    (cc.platform_tenant_id, cc.admin_email))
        assert [row["name"] for row in cur.fetchall()] == ["platform_admin"]


def test_healthz(cc):
    r = cc.get("/healthz")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == {"status": "ok"}
