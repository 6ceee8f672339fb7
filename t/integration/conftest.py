"""pytest harness for Callcenter: fixtures every test file uses.

- `cc` (session): the running environment (t/integration/ccenv.py CCEnv): a private
  MariaDB + httpd started through the t/env scripts `make run` uses.  base_url,
  admin_email, admin_password, platform_tenant_id, error_log; request/get/post/patch/
  put/delete, login, admin_token, db, stop_db/start_db/restart_db, config_test.
- `tenant`, `tenant2` (function): a fresh active tenant with a tenant_admin
  (id, slug, admin_email, admin_password, admin_token, admin_user_id, make_user()).
- Error-log gate (autouse): after each test, new httpd error-log lines at warn or above
  fail the test unless their log number is allowed with @pytest.mark.allow_log("CC01003")
  (an argument that is not a log number is matched as a substring of the line).
  AH00632 (a statement failed to prepare, unless because the server went away) and
  AH00052 (a child crashed) always fail.
  The first test also sees the start-up lines.  In two-node mode the other nodes' logs
  are read the same way.
- Two-node mode (CC_ITEST_NODES=2): a second httpd on the same database; cc.request()
  and its kin alternate between the nodes per request, cc.next_base_url() per
  connection (streams, raw requests).  `two_nodes` says whether it is on.
"""

import os
import re
import signal
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lint"))  # cctables
from ccenv import CCEnv, Tenant  # noqa: E402

COUNTED_LEVELS = {"warn", "error", "crit", "alert", "emerg"}

# Never allowed, at any level, by any marker.
ALWAYS_FATAL = {
    "AH00632": "a prepared statement failed (mod_dbd drops the whole connection)",
    "AH00052": "an httpd child died of a signal (crash)",
}

# A statement that failed to prepare because the server went away in the middle (a
# connection being set up when MariaDB is killed: test_950) is no bad SQL: such an
# AH00632 line is an ordinary error line, which a test that kills the database allows
# with @pytest.mark.allow_log("AH00632").  Any other AH00632 stays fatal.
LOST_SERVER = ("Lost connection to server during query", "server has gone away")

# Allowed everywhere.  Keep this empty unless a line is harmless start-up noise that
# no test can avoid; each entry says why.  (AH00558, "could not determine the
# server's fully qualified domain name", cannot happen: the config sets ServerName.)
GLOBAL_ALLOW = {}

LINE_RE = re.compile(r"^\[[^\]]*\] \[(?P<module>[^:\]]*):(?P<level>[a-z0-9]+)\] (?P<rest>.*)$")
LOGNO_RE = re.compile(r"\b(?:AH|CC)\d{5}\b")


def parse_log_line(line):
    """(level, log number or None) of an httpd error-log line, or None."""
    m = LINE_RE.match(line)
    if not m:
        return None
    n = LOGNO_RE.search(m.group("rest"))
    return m.group("level"), (n.group(0) if n else None)


def fatal_logno(line, logno):
    """The ALWAYS_FATAL reason of a line with this log number, or None."""
    if logno not in ALWAYS_FATAL:
        return None
    if logno == "AH00632" and any(m in line for m in LOST_SERVER):
        return None
    return ALWAYS_FATAL[logno]


def unexpected_lines(lines, allowed=()):
    bad = []
    for line in lines:
        parsed = parse_log_line(line)
        if parsed is None:
            continue
        level, logno = parsed
        why = fatal_logno(line, logno)
        if why:
            bad.append(f"{line}\n    ^ {why}")
            continue
        if level not in COUNTED_LEVELS or logno in GLOBAL_ALLOW:
            continue
        if any(a == logno or (not LOGNO_RE.fullmatch(a) and a in line) for a in allowed):
            continue
        bad.append(line)
    return bad


def two_nodes():
    """Two-node mode (CC_ITEST_NODES=2): requests alternate between two httpd nodes."""
    return int(os.environ.get("CC_ITEST_NODES") or "1") > 1


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "allow_log(*lognos): httpd error-log numbers (e.g. 'CC01003', 'AH00629') or "
        "substrings this test may produce at warn level or above")

    # SIGTERM (timeout, CI) becomes KeyboardInterrupt so the fixtures tear down.
    def _term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, _term)


@pytest.fixture(scope="session")
def cc(request):
    env = CCEnv()
    try:
        env.start()
        env.start_extra_nodes()          # CC_ITEST_NODES=2: two-node mode
    except BaseException:
        print(f"\n--- environment start failed; temp dir {env.tmpdir}", file=sys.stderr)
        env.stop()
        raise
    yield env
    failed = request.session.testsfailed
    late, fatal = [], []
    try:
        env.stop_httpd()
        env.stop_extra_nodes()
        # Shutdown itself must be clean, and nothing fatal may appear anywhere.
        late = unexpected_lines(env.read_new_log_lines())
        fatal = [line for line in env.error_log_text().splitlines()
                 if fatal_logno(line, (parse_log_line(line) or (None, None))[1])]
        if failed:
            print(f"\n--- last lines of {env.error_log}:\n" +
                  "\n".join(env.error_log_text().splitlines()[-40:]), file=sys.stderr)
    finally:
        env.stop()
    if late or fatal:
        pytest.fail("httpd error log at shutdown / fatal lines:\n" +
                    "\n".join(dict.fromkeys(late + fatal)), pytrace=False)


@pytest.fixture(autouse=True)
def _error_log_gate(request, cc):
    yield
    time.sleep(0.02)   # a line logged just after the response was sent
    allowed = set()
    for mark in request.node.iter_markers("allow_log"):
        allowed.update(mark.args)
    bad = unexpected_lines(cc.read_new_log_lines(), allowed)
    if bad:
        pytest.fail("unexpected httpd error-log lines (allow with "
                    "@pytest.mark.allow_log(...) if intended):\n" + "\n".join(bad),
                    pytrace=False)


@pytest.fixture
def tenant(cc):
    return Tenant(cc)


@pytest.fixture
def tenant2(cc):
    return Tenant(cc)
