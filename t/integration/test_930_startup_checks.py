"""httpd refuses to start on a table bug in a module's domains (cc_domains_post_config):
a route permission that is not in the catalogue, or a list sort without its statements.

The module under test is t/integration/fixtures/mod_cc_badroute.c, built here against
the same libccshared.a as ours, with the bug chosen by a define; a build without the bug
starts (so the refusal is the bug's, not the fixture's).  Each httpd is started on a
config of its own on a free loopback port and must exit within a bound.
"""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("CC_BUILD_DIR", ROOT / "build"))
FIXTURE = ROOT / "t" / "integration" / "fixtures" / "mod_cc_badroute.c"
HTTPD = os.environ.get("CC_HTTPD_BIN", "/usr/sbin/apache2")
MODDIR = "/usr/lib/apache2/modules"
START_BOUND = 15


def pkg_cflags(*pkgs):
    out = subprocess.run(["pkg-config", "--cflags", *pkgs], capture_output=True, text=True,
                         check=True).stdout
    return out.split()


def build_fixture(tmp, define):
    so = tmp / f"mod_cc_badroute_{define or 'ok'}.so"
    inc = subprocess.run(["apxs", "-q", "INCLUDEDIR"], capture_output=True, text=True,
                         check=True).stdout.strip()
    cmd = (["gcc", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
            "-fvisibility=hidden", f"-I{ROOT / 'shared'}", f"-I{ROOT / 'mod_cc_tenant'}",
            f"-I{ROOT / 'mod_cc_auth'}", f"-I{inc}"]
           + pkg_cflags("apr-1", "apr-util-1", "jansson")
           + ([f"-D{define}"] if define else [])
           + ["-o", str(so), str(FIXTURE), str(BUILD / "libccshared.a"), "-ljansson",
              "-Wl,--exclude-libs,ALL"])
    if os.environ.get("CC_SANITIZE") == "1" or "asan" in str(BUILD):
        cmd[1:1] = ["-fsanitize=address"]
    subprocess.run(cmd, check=True, timeout=120)
    return so


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(tmp, so):
    """Start httpd on a config loading so; (exit status or None if it kept running,
    error log text)."""
    root = tmp / so.stem
    (root / "logs").mkdir(parents=True, exist_ok=True)
    conf = root / "httpd.conf"
    conf.write_text(f"""
ServerRoot "{root}"
PidFile "{root}/httpd.pid"
Listen 127.0.0.1:{free_port()}
ServerName 127.0.0.1
ErrorLog "{root}/logs/error.log"
LogLevel warn
LoadModule mpm_event_module {MODDIR}/mod_mpm_event.so
LoadModule authz_core_module {MODDIR}/mod_authz_core.so
LoadModule dbd_module {MODDIR}/mod_dbd.so
LoadModule cc_badroute_module {so}
""")
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
    if os.environ.get("CC_HTTPD_ENV"):
        env.update(kv.split("=", 1) for kv in os.environ["CC_HTTPD_ENV"].split())
    p = subprocess.Popen([HTTPD, "-f", str(conf), "-DFOREGROUND"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                         start_new_session=True)
    deadline = time.monotonic() + START_BOUND
    while time.monotonic() < deadline and p.poll() is None:
        if (root / "httpd.pid").exists():
            break
        time.sleep(0.1)
    status = p.poll()
    if status is None:
        os.killpg(p.pid, 15)
        p.wait(timeout=START_BOUND)
    log = (root / "logs" / "error.log").read_text(errors="replace")
    return status, log


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    if not shutil.which("apxs") or not (BUILD / "libccshared.a").exists():
        pytest.fail("apxs and the built libccshared.a are needed (make build)")
    return tmp_path_factory.mktemp("startup")


def test_a_module_without_table_bugs_starts(tmp):
    status, log = start(tmp, build_fixture(tmp, None))
    assert status is None, log
    assert "refusing to start" not in log


def test_a_route_permission_outside_the_catalogue_stops_httpd(tmp):
    status, log = start(tmp, build_fixture(tmp, "BAD_PERMISSION"))
    assert status not in (None, 0), log
    assert "refusing to start" in log and "fixtures.read" in log, log


def test_a_sort_without_its_statements_stops_httpd(tmp):
    status, log = start(tmp, build_fixture(tmp, "BAD_SORT"))
    assert status not in (None, 0), log
    assert "refusing to start" in log and "cc_fixture_list_created_at_asc" in log, log
