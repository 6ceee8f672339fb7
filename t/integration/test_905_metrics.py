"""GET /metrics (API.md "Operations", issue 15): Prometheus text that promtool accepts,
requests by route template (never the raw path) and status with a latency histogram,
the database pool, events delivered and stream clients, background jobs, all counted in
shared memory across httpd's children (the test httpd runs two), kept across a graceful
restart, and restricted by httpd's configuration."""

import os
import signal
import subprocess
import shutil
import threading
import time
from pathlib import Path

import pytest
import requests

from cchelpers import assert_error, metric, metrics, parse_metrics, wait_until
from ccobjects import new_number

ROOT = Path(__file__).resolve().parents[2]
DID_ROUTE = "/api/v1/dids/{id:int}"


def promtool():
    path = os.environ.get("CC_PROMTOOL") or (ROOT / "var" / "tools" / "promtool")
    if not Path(path).is_file():
        path = shutil.which("promtool")
    assert path, "no promtool: make deps (t/env/promtool.sh) unpacks it into var/tools/"
    return str(path)


def new_did(cc, token):
    r = cc.post("/api/v1/dids", token=token, json={"number": new_number()})
    assert r.status_code == 201, r.text
    return r.json()


def test_metrics_is_prometheus_text_promtool_accepts(cc, tenant):
    cc.get("/healthz")
    new_did(cc, tenant.admin_token)
    r = cc.get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert r.headers.get("Cache-Control") == "no-store"
    out = subprocess.run([promtool(), "check", "metrics"], input=r.content,
                         capture_output=True, timeout=60)
    assert out.returncode == 0, (out.stdout + out.stderr).decode()
    for name in ("cc_http_requests_total", "cc_http_request_duration_seconds",
                 "cc_db_connections_in_use", "cc_db_acquires_total",
                 "cc_db_acquire_failures_total", "cc_db_acquire_wait_seconds",
                 "cc_events_delivered_total", "cc_event_stream_clients",
                 "cc_job_runs_total", "cc_job_failures_total",
                 "cc_job_last_success_timestamp_seconds", "cc_sms_deliveries_total",
                 "cc_webhook_deliveries_total", "cc_webhooks_disabled_total",
                 "cc_metrics_dropped_total"):
        assert f"# TYPE {name} " in r.text, name


def test_requests_by_route_template_and_status_from_every_child(cc, tenant):
    """Each request on its own connection: the two children share the work, and the
    counters are the node's (one child's own numbers would fall short)."""
    did = new_did(cc, tenant.admin_token)
    before = metrics(cc)
    ok, missing = 40, 6
    for i in range(ok):
        assert cc.get(f"/api/v1/dids/{did['id']}", token=tenant.admin_token).status_code == 200
    for i in range(missing):
        r = cc.get(f"/api/v1/dids/{9_000_000_000 + i}", token=tenant.admin_token)
        assert r.status_code == 404

    def counted():
        after = metrics(cc)
        got = (metric(after, "cc_http_requests_total", route=DID_ROUTE, method="GET",
                      status="200")
               - metric(before, "cc_http_requests_total", route=DID_ROUTE, method="GET",
                        status="200"),
               metric(after, "cc_http_requests_total", route=DID_ROUTE, method="GET",
                      status="404")
               - metric(before, "cc_http_requests_total", route=DID_ROUTE, method="GET",
                        status="404"))
        return after if got == (ok, missing) else None

    after = wait_until(counted, timeout=5)
    assert after, "the requests were not all counted"
    timed = (metric(after, "cc_http_request_duration_seconds_count", route=DID_ROUTE,
                    method="GET")
             - metric(before, "cc_http_request_duration_seconds_count", route=DID_ROUTE,
                      method="GET"))
    assert timed == ok + missing
    inf = metric(after, "cc_http_request_duration_seconds_bucket", route=DID_ROUTE,
                 method="GET", le="+Inf")
    assert inf == metric(after, "cc_http_request_duration_seconds_count", route=DID_ROUTE,
                         method="GET")
    # Never a raw path: no route label carries an id.
    routes = {dict(k[1]).get("route") for k in after if k[0] == "cc_http_requests_total"}
    assert not any(str(did["id"]) in (rt or "") for rt in routes), routes
    assert "/api/v1/dids" in routes


def test_a_request_no_route_takes_is_unmatched(cc, tenant):
    """Also those answered before any handler ran (a missing token's 401)."""
    before = metrics(cc)
    assert cc.get("/api/v1/no-such-thing/42", token=tenant.admin_token).status_code == 404
    assert cc.get("/api/v1/dids").status_code == 401
    assert cc.get("/not-ours/at-all").status_code == 404
    assert_error(cc.post("/healthz", json={}), 405, "method_not_allowed")

    def delta(method, status):
        return (metric(metrics(cc), "cc_http_requests_total", route="unmatched",
                       method=method, status=status)
                - metric(before, "cc_http_requests_total", route="unmatched", method=method,
                         status=status))

    assert wait_until(lambda: delta("GET", "404") >= 2, timeout=5)
    assert wait_until(lambda: delta("GET", "401") >= 1, timeout=5)
    assert wait_until(lambda: delta("POST", "405") >= 1, timeout=5)


def test_database_pool_series(cc, tenant):
    before = metrics(cc)
    for _ in range(5):
        assert cc.get("/api/v1/dids", token=tenant.admin_token).status_code == 200
    after = wait_until(lambda: (lambda m: m if metric(m, "cc_db_acquires_total")
                                >= metric(before, "cc_db_acquires_total") + 5 else None)
                       (metrics(cc)), timeout=5)
    assert after
    waits = metric(after, "cc_db_acquire_wait_seconds_count")
    assert waits == pytest.approx(metric(after, "cc_db_acquires_total")
                                  + metric(after, "cc_db_acquire_failures_total"), abs=8)
    assert metric(after, "cc_db_connections_in_use") >= 0


def test_events_delivered_and_stream_clients(cc, tenant):
    before = metrics(cc)
    h = {"Authorization": f"Bearer {tenant.admin_token}", "Accept": "text/event-stream"}
    seen = threading.Event()
    stream = requests.get(cc.base_url + "/api/v1/events/stream", headers=h, stream=True,
                          timeout=(5, 30))
    assert stream.status_code == 200

    def read():
        for line in stream.iter_lines():
            if line.startswith(b"event: did.created"):
                seen.set()
                return

    t = threading.Thread(target=read, daemon=True)
    t.start()
    try:
        assert wait_until(lambda: metric(metrics(cc), "cc_event_stream_clients")
                          >= metric(before, "cc_event_stream_clients") + 1, timeout=5)
        new_did(cc, tenant.admin_token)
        assert seen.wait(10), "no did.created on the stream"
        assert wait_until(lambda: metric(metrics(cc), "cc_events_delivered_total",
                                         transport="stream")
                          > metric(before, "cc_events_delivered_total", transport="stream"),
                          timeout=5)
    finally:
        stream.close()
    # The stream's end is noticed at its next write (a keep-alive) or slice: the gauge
    # comes back down; a stream is not timed (its duration is the client's).
    assert wait_until(lambda: metric(metrics(cc), "cc_event_stream_clients")
                      <= metric(before, "cc_event_stream_clients"), timeout=40)
    m = metrics(cc)
    assert metric(m, "cc_http_requests_total", route="/api/v1/events/stream", method="GET",
                  status="200") >= 1
    # (Answers of that route that did not stream, a 401 say, are timed.)
    assert (metric(m, "cc_http_request_duration_seconds_count",
                   route="/api/v1/events/stream", method="GET")
            == metric(before, "cc_http_request_duration_seconds_count",
                      route="/api/v1/events/stream", method="GET"))
    # Long-poll: the events in its answer.
    p0 = metric(m, "cc_events_delivered_total", transport="poll")
    r = cc.get("/api/v1/events", token=tenant.admin_token, params={"after": 0, "limit": 3})
    assert r.status_code == 200
    n = len(r.json()["data"])
    assert n >= 1
    assert wait_until(lambda: metric(metrics(cc), "cc_events_delivered_total",
                                     transport="poll") >= p0 + n, timeout=5)


def test_background_jobs_are_counted(cc):
    m = wait_until(lambda: (lambda s: s if metric(s, "cc_job_runs_total",
                                                  task="cc-events-poller") > 0 else None)
                   (metrics(cc)), timeout=5)
    assert m
    assert metric(m, "cc_job_last_success_timestamp_seconds",
                  task="cc-events-poller") >= time.time() - 60
    assert metric(m, "cc_job_runs_total", task="cc-auth-retention") >= 1


def test_metrics_are_restricted_by_httpd_config(cc):
    """The samples allow loopback; an operator's Require decides (JSON 403 otherwise)."""
    assert cc.get("/metrics").status_code == 200
    second = cc.start_second_httpd("httpd-metrics", "<Location /metrics>\n"
                                   "    Require ip 192.0.2.1\n</Location>")
    try:
        r = requests.get(second.base_url + "/metrics", timeout=10)
        assert_error(r, 403, "forbidden")
        assert requests.get(second.base_url + "/healthz", timeout=10).status_code == 200
    finally:
        second.stop()


@pytest.mark.allow_log("AH00493", "AH00494")
def test_counters_survive_a_graceful_restart(cc):
    if "-X" in os.environ.get("CC_HTTPD_ARGS", "").split():
        pytest.skip("a single-process httpd (-X, make test-asan) has no graceful restart")

    def total(samples):
        return sum(v for (name, _), v in samples.items() if name == "cc_http_requests_total")

    for _ in range(5):
        cc.get("/healthz")
    before = total(metrics(cc))
    pid = int((cc.tmpdir / "httpd" / "run" / "httpd.pid").read_text())
    os.kill(pid, signal.SIGUSR1)                       # apachectl -k graceful
    time.sleep(1)
    after = wait_until(lambda: (lambda r: r.status_code == 200 and r)(cc.get("/metrics")),
                       timeout=15)
    assert after, "no /metrics after the graceful restart"
    assert total(parse_metrics(after.text)) >= before


@pytest.mark.allow_log("CC00108")
def test_a_killed_childs_connections_are_not_left_counted(cc, tenant):
    """cc_db_connections_in_use is kept by process: when children die holding connections
    (SIGKILL, as a crash), the gauge drops back instead of counting them forever."""
    if "-X" in os.environ.get("CC_HTTPD_ARGS", "").split():
        pytest.skip("a single-process httpd (-X, make test-asan) is the child itself")
    from cchelpers import db_exec, kill_children
    db_exec(cc, "UPDATE tenants SET max_dids = 1000000 WHERE id = %s", (tenant.id,))
    n = 4
    conn = cc.db()
    try:
        with conn.cursor() as cur:
            # Every DID create waits for the tenant's row (its count against max_dids),
            # each holding a pooled connection meanwhile.
            cur.execute("BEGIN")
            cur.execute("SELECT id FROM tenants WHERE id = %s FOR UPDATE", (tenant.id,))

            def write():
                try:
                    cc.post("/api/v1/dids", token=tenant.admin_token,
                            json={"number": new_number()}, timeout=(3, 15))
                except requests.RequestException:
                    pass                        # its child is killed under it

            writers = [threading.Thread(target=write) for _ in range(n)]
            for w in writers:
                w.start()
            held = wait_until(lambda: metric(metrics(cc), "cc_db_connections_in_use") >= n,
                              timeout=5)
            assert held, "the blocked writes' connections are not counted"
            parent = int((cc.tmpdir / "httpd" / "run" / "httpd.pid").read_text())
            assert kill_children(parent)
            cur.execute("ROLLBACK")
    finally:
        conn.close()
    for w in writers:
        w.join(20)
    # The parent forks new children; their gauge starts from what is really in use.
    back = wait_until(lambda: (lambda r: r.status_code == 200
                               and metric(parse_metrics(r.text),
                                          "cc_db_connections_in_use") == 0)
                      (cc.get("/metrics")), timeout=15)
    assert back, cc.get("/metrics").text[-1500:]
    assert cc.post("/api/v1/dids", token=tenant.admin_token,
                   json={"number": new_number()}).status_code == 201
