"""The environment itself: httpd and MariaDB are up, the seed ran, /healthz answers
(in two-node mode on both nodes, in turn)."""

import re
import secrets
import time

import pytest

from conftest import two_nodes


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


def test_two_node_mode_alternates_and_gates_both_logs(cc):
    """CC_ITEST_NODES=2: cc.get/post/... and cc.next_base_url() go to each node in turn,
    and the error-log gate reads the second node's log too."""
    if not two_nodes():
        pytest.skip("single-node run (CC_ITEST_NODES=2 runs it)")
    node2 = cc.extra_nodes[0]
    mark = secrets.token_hex(8)
    for i in range(4):
        assert cc.get(f"/healthz?n={mark}-{i}").status_code == 200
    urls = {cc.next_base_url() for _ in range(2)}
    assert urls == {cc.base_url, node2.base_url}
    logs = (cc.access_log, node2.home / "logs" / "access.log")
    deadline = time.monotonic() + 5
    while True:
        seen = [sorted(int(n) for n in re.findall(rf"n={mark}-(\d)", p.read_text()))
                for p in logs]
        if sum(map(len, seen)) == 4 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert sorted(map(len, seen)) == [2, 2] and sorted(sum(seen, [])) == [0, 1, 2, 3], seen
    line = f"[{time.ctime()}] [core:error] [pid 1:tid 1] AH00000: planted {mark}\n"
    with open(node2.error_log, "a") as f:
        f.write(line)
    assert line.rstrip("\n") in cc.read_new_log_lines()
