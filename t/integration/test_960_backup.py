"""Backups (issue 15 item 5, README "Backups and restore"): t/ops/cc-backup.sh takes a
hot backup of the test database while three clients write through the API (contacts,
DIDs, tickets, one sequential writer each), restores it into a fresh MariaDB server
(its own data directory and loopback port, started here through t/env/db.sh, stopped
at the end), and a second httpd on the restored server must serve the same data:

- every object acknowledged 201 before the backup started is there; none whose create
  was sent after the backup ended is; and, each writer's creates being sequential, the
  objects there are a prefix of its acknowledged creates (no gap: a consistent point);
- each object there reads back (GET on the restored node) exactly as the first node
  answers it, and each list's total is the prefix's length;
- the restored schema is at the latest migration (`cc-backup.sh check`, and
  t/env/migrate.sh finds nothing to apply).

Both methods: the physical mariadb-backup (primary) and mariadb-dump
--single-transaction (logical).  Timings are printed (pytest -s) for the README.
"""

import os
import pwd
import re
import shutil
import subprocess
import threading
import time

import pymysql
import pytest
import requests

from ccenv import ROOT, _free_ports
from ccobjects import new_number, set_tenant_limit, uniq_name
from conftest import unexpected_lines

SCRIPT = ROOT / "t" / "ops" / "cc-backup.sh"
SQL_DIR = ROOT / "sql"
SCRIPT_TIMEOUT = 60
WARMUP_ACKS = 10          # creates each writer has acknowledged before the backup starts
AFTER_BACKUP = 0.5        # seconds the writers go on after the backup returned
PAUSE = 0.005             # between a writer's creates (a steady load, not a flood)

# collection -> its audit and event entity_type
ENTITY = {"contacts": "contact", "dids": "did", "tickets": "ticket"}
KINDS = {
    "contacts": lambda: {"name": uniq_name("Contact"), "phone": new_number(),
                         "email": f"c-{time.monotonic_ns()}@example.com"},
    "dids": lambda: {"number": new_number(), "description": uniq_name("Line")},
    "tickets": lambda: {"subject": uniq_name("Ticket"), "priority": "high"},
}


class Writer(threading.Thread):
    """Creates objects of one collection one after another until stopped; logs each
    acknowledged create as (sent, acknowledged, id, response JSON)."""

    def __init__(self, cc, token, kind):
        super().__init__(daemon=True, name=f"writer-{kind}")
        self.url = f"{cc.base_url}/api/v1/{kind}"
        self.token = token
        self.kind = kind
        self.log = []
        self.failures = []
        self.stopping = threading.Event()

    def run(self):
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {self.token}"
        try:
            while not self.stopping.is_set():
                sent = time.monotonic()
                try:
                    r = s.post(self.url, json=KINDS[self.kind](), timeout=30)
                except requests.RequestException as e:
                    self.failures.append(repr(e))
                    return
                acked = time.monotonic()
                if r.status_code != 201:
                    self.failures.append(f"{r.status_code} {r.text[:300]}")
                    return
                self.log.append((sent, acked, r.json()["id"], r.json()))
                time.sleep(PAUSE)
        finally:
            s.close()


def run(cmd, env=None):
    """A command with a bounded wait; (seconds, combined output); fails on non-zero."""
    t0 = time.monotonic()
    p = subprocess.run([str(c) for c in cmd], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=SCRIPT_TIMEOUT, env=env)
    took = time.monotonic() - t0
    assert p.returncode == 0, f"{' '.join(map(str, cmd))}: {p.returncode}\n{p.stdout}"
    return took, p.stdout


def admin_user():
    return "root" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name


def db_conn_args(var_dir):
    return ["--defaults-file", var_dir / "db" / "my.cnf", "--user", admin_user()]


def get_json(session, url):
    r = session.get(url, timeout=30)
    assert r.status_code in (200, 404), f"GET {url}: {r.status_code} {r.text[:300]}"
    return r.json() if r.status_code == 200 else None


@pytest.mark.parametrize("method", ["physical", "logical"])
def test_hot_backup_restores_into_a_fresh_server(cc, tenant, method):
    if method == "physical" and shutil.which("mariadb-backup") is None:
        pytest.fail("no mariadb-backup: `make deps` installs Debian's mariadb-backup")
    set_tenant_limit(cc, tenant, "max_dids", 100000)
    backup_dir = cc.tmpdir / f"backup-{method}"
    restore_var = cc.tmpdir / f"restored-{method}"
    restore_port = _free_ports(1)[0]
    restore_env = {"CC_VAR_DIR": str(restore_var), "CC_DB_PORT": str(restore_port)}
    restored_conn = db_conn_args(restore_var)
    figures = {}

    # ---- the backup, under write load --------------------------------------------
    writers = [Writer(cc, tenant.admin_token, kind) for kind in KINDS]
    for w in writers:
        w.start()
    try:
        deadline = time.monotonic() + 20
        while any(len(w.log) < WARMUP_ACKS and not w.failures for w in writers):
            assert time.monotonic() < deadline, "the writers did not get going"
            time.sleep(0.05)
        cmd = [SCRIPT, *db_conn_args(cc.tmpdir), "backup"]
        cmd += ["--logical", backup_dir] if method == "logical" else [backup_dir]
        t0 = time.monotonic()
        figures["backup_and_prepare_s"], out = run(cmd)
        t1 = time.monotonic()
        time.sleep(AFTER_BACKUP)
    finally:
        for w in writers:
            w.stopping.set()
        for w in writers:
            w.join(timeout=30)
    for w in writers:
        assert not w.is_alive(), f"{w.name} did not stop"
        assert not w.failures, f"{w.name}: a write failed during the backup: {w.failures}"
    during = sum(1 for w in writers for (_, acked, _, _) in w.log if t0 < acked < t1)
    after = sum(1 for w in writers for (sent, _, _, _) in w.log if sent > t1)
    assert during > 0, "no write was acknowledged while the backup ran"
    assert after > 0, "no write after the backup: the absent side is not tested"
    info = dict(line.split("=", 1) for line in
                (backup_dir / "cc-backup.info").read_text().splitlines())
    assert info["method"] == method
    assert info["schema_version"] == sorted(p.stem for p in SQL_DIR.glob("[0-9][0-9][0-9]_*.sql"))[-1]
    figures["backup_s"] = float(info["seconds"])
    figures["backup_bytes"] = int(info["bytes"])
    figures["writes_during"] = during
    # The longest create while the backup ran (commits wait at its BLOCK_COMMIT stage).
    figures["slowest_write_during_ms"] = 1000 * max(
        acked - sent for w in writers for (sent, acked, _, _) in w.log if t0 < acked < t1)
    figures["slowest_write_before_ms"] = 1000 * max(
        acked - sent for w in writers for (sent, acked, _, _) in w.log if acked < t0)

    # ---- restore into a fresh server ----------------------------------------------
    (restore_var / "db").mkdir(parents=True)
    # The app account's password: a physical backup carries the account (mysql.*), a
    # logical one does not and db.sh makes it on the new server with this password.
    shutil.copy2(cc.tmpdir / "db" / "app-password", restore_var / "db" / "app-password")
    t_restore = time.monotonic()
    second = None
    try:
        if method == "physical":
            run([SCRIPT, "restore", backup_dir, restore_var / "db" / "data"])
            cc._run("db.sh", "start", env_over=restore_env)
        else:
            cc._run("db.sh", "start", env_over=restore_env)     # a new, empty server
            run([SCRIPT, *restored_conn, "restore", "--logical", backup_dir])
        figures["restore_s"] = time.monotonic() - t_restore

        # The schema migration check: at the latest migration, nothing to apply.
        _, out = run([SCRIPT, *restored_conn, "--sql-dir", SQL_DIR, "check"])
        assert re.search(r"schema of callcenter at \d{3}_\w+, as .* expects", out), out
        assert "migrations: up to date" in cc._run("migrate.sh", env_over=restore_env)

        second = cc.start_second_httpd(f"httpd-{method}", db_port=restore_port)
        check_restored(cc, second, tenant, writers, t0, t1, figures)
        check_same_transactions(cc, restore_var, tenant, writers)
        bad = unexpected_lines(second.error_log_text().splitlines())
        assert not bad, "the restored node's error log:\n" + "\n".join(bad)
    finally:
        if second is not None:
            second.stop()
        cc._run("db.sh", "stop", env_over=restore_env)
    print(f"\n[test_960 {method}] " + ", ".join(
        f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()))


def check_restored(cc, second, tenant, writers, t0, t1, figures):
    auth = {"Authorization": f"Bearer {tenant.admin_token}"}
    with requests.Session() as first, requests.Session() as restored:
        first.headers.update(auth)
        restored.headers.update(auth)
        kept = 0
        for w in writers:
            there = [get_json(restored, f"{second.base_url}/api/v1/{w.kind}/{oid}")
                     for (_, _, oid, _) in w.log]
            n = sum(1 for o in there if o is not None)
            # A prefix: the first n creates there, none after them.
            assert all(o is not None for o in there[:n]), \
                f"{w.kind}: a gap in the restored objects: {[o is not None for o in there]}"
            assert all(o is None for o in there[n:]), f"{w.kind}: objects after a gap"
            before = sum(1 for (_, acked, _, _) in w.log if acked < t0)
            first_after = next((i for i, (sent, _, _, _) in enumerate(w.log) if sent > t1),
                               len(w.log))
            assert n >= before, f"{w.kind}: {n} restored, {before} acknowledged before the backup"
            assert n <= first_after, f"{w.kind}: {n} restored, sent after the backup from #{first_after}"
            for (_, _, oid, created), got in zip(w.log[:n], there[:n]):
                want = get_json(first, f"{cc.base_url}/api/v1/{w.kind}/{oid}")
                assert got == want, f"{w.kind} {oid}: restored {got} != {want}"
                # What the create acknowledged, as far as it said.
                assert {k: got.get(k) for k in created} == created, (w.kind, oid)
            listed = get_json(restored, f"{second.base_url}/api/v1/{w.kind}?page_size=1")
            assert listed["total"] == n, (w.kind, listed["total"], n)
            kept += n
        figures["objects_checked"] = sum(len(w.log) for w in writers)
        figures["objects_restored"] = kept


def restored_db(var_dir):
    """The administrator's connection to the restored server (its socket)."""
    sock = re.search(r"^socket=(.+)$", (var_dir / "db" / "my.cnf").read_text(), re.M)
    return pymysql.connect(unix_socket=sock.group(1).strip(), user=admin_user(),
                           database="callcenter", autocommit=True, charset="utf8mb4")


def create_trail(conn, tenant, entity):
    """The entity ids of the tenant's audit entries and events on one entity type."""
    with conn.cursor() as cur:
        out = []
        for table in ("audit_logs", "events"):
            cur.execute(f"SELECT DISTINCT entity_id FROM {table}"
                        " WHERE tenant_id = %s AND entity_type = %s", (tenant.id, entity))
            out.append({str(row[0]) for row in cur.fetchall()})
        return out


def check_same_transactions(cc, restore_var, tenant, writers):
    """A create writes its row, its audit entry and its event in one transaction: the
    restored server has the audit entries and events of exactly the restored objects."""
    with restored_db(restore_var) as conn, conn.cursor() as cur:
        for w in writers:
            cur.execute(f"SELECT id FROM {w.kind} WHERE tenant_id = %s", (tenant.id,))
            ids = {str(row[0]) for row in cur.fetchall()}
            audited, evented = create_trail(conn, tenant, ENTITY[w.kind])
            assert audited == ids, (w.kind, len(audited), len(ids))
            assert evented == ids, (w.kind, len(evented), len(ids))


def test_restore_refuses_a_used_target(cc, tmp_path):
    """The script never restores over data: a non-empty data directory or a database
    that already has tables is refused, as is a backup that is not prepared."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "ibdata1").write_bytes(b"x")
    (tmp_path / "bk" / "data").mkdir(parents=True)
    (tmp_path / "bk" / "data" / "xtrabackup_checkpoints").write_text("backup_type = full-backuped\n")
    (tmp_path / "bk" / "callcenter.sql").write_text("-- Dump completed\n")
    for cmd, said in [
        (["restore", tmp_path / "bk", tmp_path / "data"], "not prepared"),
        (["restore", tmp_path / "nothing", tmp_path / "new"], "holds no physical backup"),
        ([*db_conn_args(cc.tmpdir), "restore", "--logical", tmp_path / "bk"],
         "already has"),
        ([*db_conn_args(cc.tmpdir), "backup", tmp_path / "data"], "not empty"),
    ]:
        p = subprocess.run([str(c) for c in [SCRIPT, *cmd]], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=SCRIPT_TIMEOUT)
        assert p.returncode != 0 and re.search(said, p.stderr), (cmd, p.returncode, p.stderr)
    assert not (tmp_path / "new").exists()
    assert (tmp_path / "data" / "ibdata1").read_bytes() == b"x"
