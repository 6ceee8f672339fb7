"""The integration-test environment: a private MariaDB and httpd in a temp dir.

They are started through the same t/env scripts `make run` uses (db.sh, migrate.sh,
seed.sh, render-conf.sh, httpd.sh), with the `test` profile (bcrypt cost 4, tenant
cache TTL 0), on free loopback ports.  Every process runs in its own session and is
killed by process group at teardown (and at interpreter exit, whatever happens).
With CC_ITEST_GALERA=1 the database is a three-node Galera cluster (cc.galera,
ccgalera.py) and a second httpd's default database is its node 2.

Environment knobs: CC_BUILD_DIR (modules; default build/), CC_HTTPD_ENV ("K=V ..."
added to httpd's environment, e.g. LD_PRELOAD for ASan), CC_HTTPD_ARGS (e.g. -X),
CC_KEEP_TMP=1 (keep the temp dir), CC_TEST_LOG_LEVEL (httpd LogLevel, default warn),
CC_ITEST_NODES=2 (two-node mode: start_extra_nodes() starts a second httpd on the same
database, and request()/next_base_url() alternate between the nodes).
"""

import atexit
import itertools
import json as jsonlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import tempfile
import time
from pathlib import Path

import pymysql
import requests

from ccgalera import GaleraCluster, galera_mode

ROOT = Path(__file__).resolve().parents[2]
ENV_DIR = ROOT / "t" / "env"
READY_TIMEOUT = float(os.environ.get("CC_HTTPD_READY_TIMEOUT", "60"))
STOP_TIMEOUT = 30.0
SCRIPT_TIMEOUT = 180

_ALNUM = string.ascii_letters + string.digits


def random_password(n=20):
    """Alphanumeric, at least one of each class (API minimum length is 10)."""
    return "Pw1" + "".join(secrets.choice(_ALNUM) for _ in range(n - 3))


def _free_ports(n):
    """n distinct free loopback ports (held open together so they differ)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _tail(path, n=40):
    try:
        with open(path, "r", errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError as e:
        return f"({path}: {e})\n"


def _read_text(path):
    """A log file's text ("" while it does not exist)."""
    try:
        return Path(path).read_text(errors="replace")
    except FileNotFoundError:
        return ""


class EnvError(RuntimeError):
    pass


class CCEnv:
    """The running environment (the `cc` fixture)."""

    def __init__(self):
        self.tmpdir = Path(tempfile.mkdtemp(prefix="cc-itest-"))
        # httpd's children (www-data) must be able to search the tree.
        os.chmod(self.tmpdir, 0o755)
        self.build_dir = os.environ.get("CC_BUILD_DIR") or str(ROOT / "build")
        self.http_port, self.db_port, self.sms_provider_port = _free_ports(3)
        self.base_url = f"http://127.0.0.1:{self.http_port}"
        self.admin_email = "admin@example.com"
        self.admin_password = random_password()
        self.platform_tenant_id = None
        self.var_dir = self.tmpdir
        self.httpd_conf = self.tmpdir / "httpd" / "httpd.conf"
        self.error_log = self.tmpdir / "httpd" / "logs" / "error.log"
        self.access_log = self.tmpdir / "httpd" / "logs" / "access.log"
        self.httpd_stdout = self.tmpdir / "httpd" / "logs" / "stdout.log"
        self.db_error_log = self.tmpdir / "db" / "error.log"
        self.db_socket = None
        self.galera = None            # CC_ITEST_GALERA=1: the cluster (node 1 is db_port)
        if galera_mode():
            self.galera = GaleraCluster(self, [self.db_port] + _free_ports(11))
        self._httpd = None
        self._groups = set()
        self._token = None
        self._token_time = 0.0
        self.gate_offset = 0          # error-log position the gate has read up to
        self.extra_nodes = []         # two-node mode: the other httpd nodes (SecondHttpd)
        self._next_node = itertools.count()
        atexit.register(self._emergency_cleanup)

    # ---- life cycle --------------------------------------------------------------
    def _script_env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("CC_") or k in ("CC_HTTPD_ENV", "CC_HTTPD_ARGS",
                                                   "CC_CONF_PARTIAL")}
        env.update(
            CC_VAR_DIR=str(self.tmpdir),
            CC_PROFILE="test",
            CC_DB_PORT=str(self.db_port),
            CC_HTTP_PORT=str(self.http_port),
            CC_SMS_PROVIDER_PORT=str(self.sms_provider_port),
            CC_BUILD_DIR=self.build_dir,
            CC_ADMIN_EMAIL=self.admin_email,
            CC_ADMIN_PASSWORD=self.admin_password,
            CC_BCRYPT_COST="4",
            CC_CACHE_TTL=os.environ.get("CC_ITEST_CACHE_TTL", "0"),
            CC_LOGIN_MAX_FAILURES="5",
            CC_LOGIN_WINDOW="900",
            CC_LOG_LEVEL=os.environ.get("CC_TEST_LOG_LEVEL", "warn"),
            CC_ACCESS_LOG="on",
            LANG="C",
        )
        return env

    def _run(self, script, *args, env_over=None):
        """Run a t/env script in its own session; raise with its output on failure.
        env_over replaces variables of its environment (e.g. CC_VAR_DIR and CC_DB_PORT
        for another database: test_960's restored server)."""
        env = self._script_env()
        env.update(env_over or {})
        proc = subprocess.Popen([str(ENV_DIR / script), *args], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        # A daemon it starts (mariadbd) stays in this process group.
        self._groups.add(proc.pid)
        try:
            out, _ = proc.communicate(timeout=SCRIPT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._killpg(proc.pid, signal.SIGKILL)
            raise EnvError(f"t/env/{script} {' '.join(args)} timed out")
        if proc.returncode != 0:
            raise EnvError(f"t/env/{script} {' '.join(args)} failed "
                           f"({proc.returncode}):\n{out}")
        return out

    def start(self):
        self.start_db()
        self._run("migrate.sh")
        self._run("seed.sh")
        self._run("render-conf.sh")
        self.start_httpd()
        with self.db() as conn, conn.cursor() as cur:
            cur.execute("SELECT id FROM tenants WHERE slug = 'platform'")
            self.platform_tenant_id = cur.fetchone()["id"]

    def start_db(self):
        if self.galera:
            self.galera.start()
        else:
            self._run("db.sh", "start")
        self.db_socket = self._db_socket_from_cnf()

    def stop_db(self):
        self._run("db.sh", "stop")

    def restart_db(self):
        self.stop_db()
        self.start_db()

    def _db_socket_from_cnf(self):
        text = (self.tmpdir / "db" / "my.cnf").read_text()
        m = re.search(r"^socket=(.+)$", text, re.M)
        return m.group(1).strip()

    def start_httpd(self):
        with open(self.httpd_stdout, "ab") as out:
            self._httpd = subprocess.Popen([str(ENV_DIR / "httpd.sh")],
                                           env=self._script_env(),
                                           stdin=subprocess.DEVNULL, stdout=out,
                                           stderr=subprocess.STDOUT,
                                           start_new_session=True)
        self._groups.add(self._httpd.pid)
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if self._httpd.poll() is not None:
                raise EnvError(f"httpd exited during start-up ({self._httpd.returncode})\n"
                               f"--- {self.httpd_stdout}\n{_tail(self.httpd_stdout)}"
                               f"--- {self.error_log}\n{_tail(self.error_log)}")
            try:
                # Any HTTP answer means httpd serves; the smoke test wants 200.
                requests.get(self.base_url + "/healthz", timeout=2)
                return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise EnvError(f"httpd did not answer within {READY_TIMEOUT:.0f}s\n"
                               f"{_tail(self.error_log)}")
            time.sleep(0.1)

    def start_second_httpd(self, name="httpd2", extra_conf="", db_port=None):
        """Another httpd on the same database and modules (a second node): the rendered
        config with its own port and its own directory (run, logs, pid, runtime files)
        under the temp dir, and extra_conf appended (server-wide directives given again
        there override the first ones).  db_port: on another MariaDB on that loopback
        port instead (same database name and app account: a restored backup).
        Returns a SecondHttpd; stop it with its stop()."""
        port = _free_ports(1)[0]
        if db_port is None and self.galera:
            db_port = self.galera.nodes[1].port
        first = str(self.tmpdir / "httpd")
        home = self.tmpdir / name
        for d in ("run", "logs", "cores", "htdocs"):
            (home / d).mkdir(parents=True, exist_ok=True)
        # An earlier node of this name that had to be killed (a slow stop under ASan)
        # left its pid file: httpd would warn about it (AH00098).
        (home / "run" / "httpd.pid").unlink(missing_ok=True)
        os.chmod(home, 0o755)
        os.chmod(home / "htdocs", 0o755)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("www-data")
            os.chown(home / "cores", pw.pw_uid, pw.pw_gid)
        text = self.conf_text().replace(first + "/", str(home) + "/")
        text = text.replace(f'"{first}"', f'"{home}"')
        text = re.sub(rf"127\.0\.0\.1:{self.http_port}\b", f"127.0.0.1:{port}", text)
        if db_port is not None:
            text, n = re.subn(rf"^(DBDParams .*\bport=){self.db_port}\b",
                              rf"\g<1>{int(db_port)}", text, flags=re.M)
            assert n == 1, "no DBDParams with the database's port in the rendered config"
        text += "\n" + extra_conf + "\n"
        conf = home / "httpd.conf"
        conf.write_text(text)
        os.chmod(conf, 0o600)
        out = open(home / "logs" / "stdout.log", "ab")
        proc = subprocess.Popen([str(ENV_DIR / "httpd.sh"), "-f", str(conf)],
                                env=self._script_env(), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        out.close()
        self._groups.add(proc.pid)
        h = SecondHttpd(self, proc, port, home)
        h.log_start = h.error_log.stat().st_size if h.error_log.exists() else 0
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise EnvError(f"{name} exited during start-up ({proc.returncode})\n"
                               f"{_tail(h.error_log)}")
            try:
                requests.get(h.base_url + "/healthz", timeout=2)
                return h
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                h.stop()
                raise EnvError(f"{name} did not answer within {READY_TIMEOUT:.0f}s")
            time.sleep(0.1)

    # ---- several nodes (CC_ITEST_NODES) -------------------------------------------
    def start_extra_nodes(self):
        """Two-node mode (CC_ITEST_NODES=n, n > 1): n - 1 more httpd nodes on the same
        database (start_second_httpd, names node2...; each node's default CCAsteriskNode
        differs by its port).  Their error logs go through the gate from their start."""
        n = int(os.environ.get("CC_ITEST_NODES") or "1")
        for i in range(2, n + 1):
            h = self.start_second_httpd(name=f"node{i}")
            h.gate_offset = h.log_start
            self.extra_nodes.append(h)

    def stop_extra_nodes(self):
        """Stops them (they stay listed: the gate still reads their shutdown lines)."""
        for h in self.extra_nodes:
            h.stop()

    def next_base_url(self):
        """The base URL of the node the next request or connection goes to: the first
        node's, or in two-node mode each node's in turn (round robin)."""
        if not self.extra_nodes:
            return self.base_url
        nodes = [self.base_url] + [h.base_url for h in self.extra_nodes]
        return nodes[next(self._next_node) % len(nodes)]

    def stop_httpd(self):
        p, self._httpd = self._httpd, None
        if p is None or p.poll() is not None:
            return
        self._killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)
        # Its process is gone: a pid file still there (the parent was signalled along with
        # its children and did not get to remove it) is stale, and would make the next
        # start log AH00098 ("overwritten -- Unclean shutdown") into a test's gate.
        (self.tmpdir / "httpd" / "run" / "httpd.pid").unlink(missing_ok=True)

    def stop(self, keep_tmp=False):
        try:
            self.stop_httpd()
        finally:
            try:
                if self.galera:
                    self.galera.stop()
                else:
                    self._run("db.sh", "stop")
            except Exception:
                pass
            for g in list(self._groups):
                self._killpg(g, signal.SIGKILL)
            self._groups.clear()
            if not keep_tmp and os.environ.get("CC_KEEP_TMP") != "1":
                shutil.rmtree(self.tmpdir, ignore_errors=True)

    @staticmethod
    def _killpg(pgid, sig):
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _emergency_cleanup(self):
        """atexit: nothing of ours may outlive the test run."""
        if self._groups:
            for g in list(self._groups):
                self._killpg(g, signal.SIGTERM)
            time.sleep(1)
            for g in list(self._groups):
                self._killpg(g, signal.SIGKILL)
            self._groups.clear()
            if os.environ.get("CC_KEEP_TMP") != "1":
                shutil.rmtree(self.tmpdir, ignore_errors=True)

    # ---- HTTP --------------------------------------------------------------------
    def request(self, method, path, token=None, json=None, data=None, headers=None, **kw):
        """One request on a new connection.  json= sends UTF-8 JSON (not \\u-escaped)
        as application/json; data= sends raw bytes with the caller's Content-Type."""
        url = path if path.startswith("http") else self.next_base_url() + path
        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = f"Bearer {token}"
        if json is not None:
            if data is not None:
                raise ValueError("json= and data= are exclusive")
            data = jsonlib.dumps(json, ensure_ascii=False).encode("utf-8")
            if not any(k.lower() == "content-type" for k in hdrs):
                hdrs["Content-Type"] = "application/json"
        kw.setdefault("timeout", 30)
        return requests.request(method, url, data=data, headers=hdrs, **kw)

    def get(self, path, token=None, **kw):
        return self.request("GET", path, token=token, **kw)

    def post(self, path, token=None, **kw):
        return self.request("POST", path, token=token, **kw)

    def patch(self, path, token=None, **kw):
        return self.request("PATCH", path, token=token, **kw)

    def put(self, path, token=None, **kw):
        return self.request("PUT", path, token=token, **kw)

    def delete(self, path, token=None, **kw):
        return self.request("DELETE", path, token=token, **kw)

    def login(self, email, password, tenant=None):
        """POST /api/v1/auth/login; asserts 200 and returns the response JSON."""
        body = {"email": email, "password": password}
        if tenant is not None:
            body["tenant"] = tenant
        r = self.post("/api/v1/auth/login", json=body)
        assert r.status_code == 200, f"login {email}: {r.status_code} {r.text}"
        return r.json()

    def admin_token(self):
        """A platform admin access token (re-issued every 5 minutes; TTL is 15)."""
        if self._token is None or time.monotonic() - self._token_time > 300:
            self._token = self.login(self.admin_email, self.admin_password)["access_token"]
            self._token_time = time.monotonic()
        return self._token

    # ---- database ----------------------------------------------------------------
    def db(self):
        """A new pymysql connection as the DB administrator over the socket:
        autocommit, DictCursor, database callcenter, utf8mb4, UTC."""
        # The administrator is root over the socket (or, not as root, the current user).
        user = "root" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        return pymysql.connect(unix_socket=self.db_socket, user=user,
                               database="callcenter", autocommit=True, charset="utf8mb4",
                               cursorclass=pymysql.cursors.DictCursor,
                               init_command="SET time_zone = '+00:00'")

    # ---- logs and config ---------------------------------------------------------
    def error_log_text(self):
        """The error log (in two-node mode followed by the other nodes' logs)."""
        return _read_text(self.error_log) + "".join(h.error_log_text() for h in self.extra_nodes)

    def read_new_log_lines(self):
        """Error-log lines written since the gate last read; advances the gate."""
        try:
            with open(self.error_log, "rb") as f:
                f.seek(self.gate_offset)
                chunk = f.read()
        except FileNotFoundError:
            return []
        # Only whole lines; a line being written stays for the next read.
        end = chunk.rfind(b"\n") + 1
        self.gate_offset += end
        lines = chunk[:end].decode("utf-8", "replace").splitlines()
        return lines + [x for h in self.extra_nodes for x in h.read_new_log_lines()]

    def config_test(self, conf_text):
        """Run `apache2 -t` on conf_text (e.g. the rendered config with a directive
        changed); returns (returncode, combined output)."""
        path = self.tmpdir / "httpd" / f"configtest-{secrets.token_hex(4)}.conf"
        path.write_text(conf_text)
        try:
            p = subprocess.run([str(ENV_DIR / "httpd.sh"), "-t", str(path)],
                               env=self._script_env(), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               timeout=60)
            return p.returncode, p.stdout
        finally:
            path.unlink()

    def conf_text(self):
        """The rendered httpd config of this environment."""
        return self.httpd_conf.read_text()


class SecondHttpd:
    """A second httpd on the environment's database (CCEnv.start_second_httpd)."""

    def __init__(self, cc, proc, port, home):
        self.cc = cc
        self.proc = proc
        self.port = port
        self.home = home
        self.base_url = f"http://127.0.0.1:{port}"
        self.error_log = home / "logs" / "error.log"
        self.log_start = 0          # where this node's lines begin (the file is shared)
        self.gate_offset = 0        # two-node mode: where the error-log gate has read to

    def error_log_text(self):
        """What this node wrote to its error log (not earlier nodes of the same name)."""
        try:
            with open(self.error_log, "rb") as f:
                f.seek(self.log_start)
                return f.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    # Two-node mode: this node's error-log lines since the gate last read (CCEnv's).
    extra_nodes = ()
    read_new_log_lines = CCEnv.read_new_log_lines

    def stop(self):
        if self.proc.poll() is None:
            CCEnv._killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                CCEnv._killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.cc._groups.discard(self.proc.pid)


class Tenant:
    """A fresh active tenant with a tenant_admin (the `tenant`/`tenant2` fixtures)."""

    def __init__(self, cc):
        self.cc = cc
        self.slug = "t-" + secrets.token_hex(6)
        self.name = f"Tenant {self.slug}"
        r = cc.post("/api/v1/tenants", token=cc.admin_token(),
                    json={"name": self.name, "slug": self.slug})
        assert r.status_code == 201, f"create tenant: {r.status_code} {r.text}"
        self.json = r.json()
        self.id = self.json["id"]
        self.passwords = {}                   # user id -> password, for every user made
        self.admin_email = f"admin@{self.slug}.example.com"
        self.admin_password = random_password()
        self.admin_user = self._create_user(self.admin_email, "Tenant Admin",
                                            self.admin_password, ["tenant_admin"], "active")
        self.admin_user_id = self.admin_user["id"]
        self.admin_token = cc.login(self.admin_email, self.admin_password,
                                    tenant=self.slug)["access_token"]

    def _create_user(self, email, name, password, roles, status):
        body = {"email": email, "name": name, "password": password, "roles": list(roles)}
        if status != "active":
            body["status"] = status
        r = self.cc.post("/api/v1/users", token=self.cc.admin_token(),
                         headers={"X-Tenant-ID": self.id}, json=body)
        assert r.status_code == 201, f"create user {email}: {r.status_code} {r.text}"
        user = r.json()
        self.passwords[user["id"]] = password
        return user

    def make_user(self, roles=None, status="active", email=None, name=None, password=None):
        """Create a user (as the platform admin, X-Tenant-ID) and log it in.
        Returns (user_json, access_token); the token is None unless status is active.
        The password is in tenant.passwords[user_json["id"]]."""
        roles = ["agent"] if roles is None else roles
        email = email or f"u-{secrets.token_hex(5)}@{self.slug}.example.com"
        password = password or random_password()
        user = self._create_user(email, name or f"User {email.split('@')[0]}", password,
                                 roles, status)
        token = None
        if status == "active":
            token = self.cc.login(email, password, tenant=self.slug)["access_token"]
        return user, token
