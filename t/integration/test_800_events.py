"""API.md "Events": GET /api/v1/events/stream (SSE), GET /api/v1/events (long-poll) and
GET /api/v1/realtime/sessions (mod_cc_chat).

Events come from the mutations the API already makes (a DID created writes did.created).
The test profile keeps 4 streams per child (2 children) and a keep-alive every 2 s
(t/env/render-conf.sh).
"""

import json
import os
import queue
import secrets
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pymysql
import pytest
import requests

from cchelpers import db_rows
from ccobjects import uniq_name
from test_100_auth import claims_for, forge, jwt_secret

STREAM = "/api/v1/events/stream"
POLL = "/api/v1/events"
SESSIONS = "/api/v1/realtime/sessions"
# The event types' prefixes a tenant_admin reads (not tenant.*: tenants.manage).
ADMIN_SEES = {"did", "user", "role", "queue", "queue_member", "endpoint", "agent",
              "agent_pause_reasons", "recording", "voicemail", "sms"}
DB_DOWN_LOGS = ("AH00629", "AH02655", "AH00639", "CC00203", "CC00205", "AH01631")


class SSE:
    """A stream read by a thread into a queue of frames: {"id", "event", "data",
    "comments", "retry"} (data parsed as JSON when it is)."""

    def __init__(self, cc, token, headers=None, params=None, base_url=None, path=STREAM):
        h = {"Accept": "text/event-stream", "User-Agent": "test-800/1.0"}
        if token:
            h["Authorization"] = f"Bearer {token}"
        h.update(headers or {})
        self.frames = queue.Queue()
        self.ended = threading.Event()
        self.r = requests.get((base_url or cc.next_base_url()) + path, headers=h, params=params,
                              stream=True, timeout=(5, 30))
        self.status = self.r.status_code
        if self.status != 200:
            self.body = self.r.text
            self.ended.set()
            return
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        buf, frame = b"", {"comments": []}
        try:
            for chunk in self.r.iter_content(chunk_size=None):
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    line = line.decode()
                    if line == "":
                        if len(frame) > 1 or frame["comments"]:
                            self.frames.put(frame)
                        frame = {"comments": []}
                    elif line.startswith(":"):
                        frame["comments"].append(line[1:].strip())
                    else:
                        field, _, value = line.partition(":")
                        value = value[1:] if value.startswith(" ") else value
                        if field == "data":
                            try:
                                value = json.loads(value)
                            except ValueError:
                                pass
                        frame[field] = value
        except Exception:                                  # noqa: BLE001 (closed)
            pass
        finally:
            self.ended.set()

    def next(self, timeout=10):
        return self.frames.get(timeout=timeout)

    def events(self, n, timeout=10, prefix="did."):
        """The next n frames that carry an event of a type starting with prefix (others,
        such as the fixtures' own user.created just before the stream started, and
        keep-alives skipped)."""
        out, deadline = [], time.monotonic() + timeout
        while len(out) < n:
            left = deadline - time.monotonic()
            assert left > 0, f"got {len(out)} of {n} events: {out}"
            try:
                f = self.next(timeout=left)
            except queue.Empty:
                continue
            if "event" in f and f["event"].startswith(prefix):
                out.append(f)
        return out

    def quiet(self, seconds, prefix="did."):
        """The event frames of types starting with prefix that arrive within seconds (none
        expected, usually)."""
        got, deadline = [], time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                f = self.next(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                break
            if "event" in f and f["event"].startswith(prefix):
                got.append(f)
        return got

    def close(self):
        self.r.close()


@pytest.fixture
def streams():
    opened = []
    yield opened
    for s in opened:
        s.close()


def open_stream(streams, cc, token, **kw):
    s = SSE(cc, token, **kw)
    streams.append(s)
    return s


def new_did(cc, token, within=0):
    """A DID created (did.created); within: seconds to keep trying while the server or
    the database comes back."""
    deadline = time.monotonic() + within
    while True:
        r = cc.post("/api/v1/dids", token=token,
                    json={"number": "+1555" + str(time.time_ns())[-7:]})
        if r.status_code == 201 or time.monotonic() >= deadline:
            assert r.status_code == 201, r.text
            return r.json()
        time.sleep(0.3)


def new_queue(cc, token):
    r = cc.post("/api/v1/queues", token=token, json={"name": uniq_name("Ev")})
    assert r.status_code == 201, r.text
    return r.json()


def hello(s):
    """The stream's first frame: the retry hint and the position it starts after."""
    f = s.next()
    assert f.get("retry") == "3000", f
    return int(f["comments"][0].split()[-1])


def role_user(cc, tenant, permissions):
    r = cc.post("/api/v1/roles", token=tenant.admin_token,
                json={"name": "ev_" + secrets.token_hex(6), "permissions": permissions})
    assert r.status_code == 201, r.text
    return tenant.make_user(roles=[r.json()["name"]])


# ---- the stream ----

def test_frames_carry_id_type_and_the_event(cc, tenant, streams):
    s = open_stream(streams, cc, tenant.admin_token)
    assert s.status == 200
    assert s.r.headers["Content-Type"].startswith("text/event-stream")
    assert "no-cache" in s.r.headers["Cache-Control"]
    hello(s)
    dids = [new_did(cc, tenant.admin_token) for _ in range(3)]
    got = s.events(3)
    assert [f["event"] for f in got] == ["did.created"] * 3
    ids = [int(f["id"]) for f in got]
    assert ids == sorted(ids) and len(set(ids)) == 3
    for f, did in zip(got, dids):
        ev = f["data"]
        assert ev["id"] == int(f["id"]) and ev["type"] == "did.created"
        assert ev["tenant_id"] == tenant.id
        assert ev["entity_type"] == "did" and ev["entity_id"] == str(did["id"])
        assert ev["data"]["number"] == did["number"]
        assert ev["created_at"].endswith("Z")


def test_resume_by_header_or_parameter_loses_nothing(cc, tenant, streams):
    s = open_stream(streams, cc, tenant.admin_token)
    hello(s)
    new_did(cc, tenant.admin_token)
    last = int(s.events(1)[0]["id"])
    s.close()
    missed = [new_did(cc, tenant.admin_token)["id"] for _ in range(3)]
    for kw in ({"headers": {"Last-Event-ID": str(last)}}, {"params": {"after": last}},
               # the header (what EventSource sends on reconnect) wins
               {"headers": {"Last-Event-ID": str(last)}, "params": {"after": last + 100}}):
        r = open_stream(streams, cc, tenant.admin_token, **kw)
        assert hello(r) == last
        got = r.events(3)
        assert [f["data"]["entity_id"] for f in got] == [str(i) for i in missed]
        assert r.quiet(0.5) == []
        r.close()


def test_a_client_far_behind_catches_up_from_the_database(cc, tenant, streams):
    """From position 0 the stream reads the tenant's history (more than one batch of the
    database read is not needed: every event of the tenant, in order)."""
    for _ in range(3):
        new_did(cc, tenant.admin_token)
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT id, type FROM events WHERE tenant_id = %s ORDER BY id",
                    (tenant.id,))
        visible = [row["id"] for row in cur.fetchall()
                   if row["type"].split(".")[0] in ADMIN_SEES]
    assert len(visible) >= 3
    s = open_stream(streams, cc, tenant.admin_token, params={"after": 0})
    hello(s)
    got = s.events(len(visible), prefix="")
    assert [int(f["id"]) for f in got] == visible


def test_only_the_tenants_events(cc, tenant, tenant2, streams):
    mine = open_stream(streams, cc, tenant.admin_token)
    # A platform admin's X-Tenant-ID picks that one tenant, never more.
    admin = open_stream(streams, cc, cc.admin_token(), headers={"X-Tenant-ID": tenant.id})
    hello(mine)
    hello(admin)
    theirs = new_did(cc, tenant2.admin_token)
    ours = new_did(cc, tenant.admin_token)
    for s in (mine, admin):
        got = s.events(1)
        assert got[0]["data"]["entity_id"] == str(ours["id"])
        assert got[0]["data"]["tenant_id"] == tenant.id
        assert all(f["data"]["entity_id"] != str(theirs["id"]) for f in s.quiet(0.7))


def test_each_type_needs_its_permission(cc, tenant, streams):
    _, token = role_user(cc, tenant, ["events.read", "queues.read"])
    s = open_stream(streams, cc, token)
    hello(s)
    new_did(cc, tenant.admin_token)                    # did.*: dids.read, not held
    q = new_queue(cc, tenant.admin_token)
    got = s.events(1, prefix="queue.")
    assert got[0]["data"]["entity_id"] == str(q["id"])
    assert s.quiet(0.7, prefix="") == []


def test_head_answers_the_headers_and_holds_nothing(cc, tenant):
    t0 = time.monotonic()
    r = requests.head(cc.next_base_url() + STREAM, timeout=10,
                      headers={"Authorization": f"Bearer {tenant.admin_token}"})
    assert r.status_code == 200 and time.monotonic() - t0 < 5
    assert r.headers["Content-Type"].startswith("text/event-stream")


def test_401_and_403(cc, tenant):
    r = requests.get(cc.next_base_url() + STREAM, timeout=5)
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    _, token = role_user(cc, tenant, ["dids.read"])
    for path in (STREAM, POLL, SESSIONS):
        r = cc.get(path, token=token)
        assert r.status_code == 403 and r.json()["error"] == "forbidden", path
        assert cc.get(path).status_code == 401


@pytest.mark.parametrize("kw,field", [
    ({"headers": {"Last-Event-ID": "abc"}}, "Last-Event-ID"),
    ({"headers": {"Last-Event-ID": "-1"}}, "Last-Event-ID"),
    ({"params": {"after": "1e3"}}, "after"),
    ({"params": {"after": "99999999999999999999"}}, "after"),
])
def test_a_bad_position_is_400(cc, tenant, kw, field):
    r = cc.get(STREAM, token=tenant.admin_token, **kw)
    assert r.status_code == 400, r.text
    assert r.json()["details"][0]["field"] == field


def test_keep_alive_comments_carry_the_position(cc, tenant, tenant2, streams):
    s = open_stream(streams, cc, tenant.admin_token)
    start = hello(s)
    other = new_did(cc, tenant2.admin_token)           # another tenant's: not shown
    deadline = time.monotonic() + 8
    while True:
        f = s.next(timeout=max(deadline - time.monotonic(), 0.01))
        if "event" not in f:
            break
        assert f["data"]["tenant_id"] == tenant.id
    assert "keep-alive" in f["comments"]
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM events WHERE entity_type = 'did' AND entity_id = %s",
                    (str(other["id"]),))
        theirs = cur.fetchone()["id"]
    assert int(f["id"]) >= theirs > start              # past the event it may not see


def test_the_stream_ends_when_the_token_expires_and_resumes(cc, tenant, streams):
    user, _ = tenant.make_user(roles=["supervisor"])
    user["tenant_id"] = tenant.id
    token = forge(jwt_secret(cc), claims_for(user, exp=int(time.time()) + 3))
    s = open_stream(streams, cc, token)
    hello(s)
    new_did(cc, tenant.admin_token)
    last = int(s.events(1)[0]["id"])
    assert s.ended.wait(8), "the stream outlived its token"
    missed = new_did(cc, tenant.admin_token)
    fresh = tenant.cc.login(tenant.admin_email, tenant.admin_password,
                            tenant=tenant.slug)["access_token"]
    r = open_stream(streams, cc, fresh, headers={"Last-Event-ID": str(last)})
    hello(r)
    assert r.events(1)[0]["data"]["entity_id"] == str(missed["id"])


def test_an_event_still_being_written_holds_the_next_number(cc, tenant, streams):
    """Ids are numbered in commit order (sql/026): while a transaction that inserted an
    event is open, the next event write waits for it, so no later event can become
    visible below an id a client already has.  Committed, the held event comes first;
    rolled back, it gives its number back to the write that waited."""
    s = open_stream(streams, cc, tenant.admin_token)
    hello(s)
    for outcome in ("commit", "rollback"):
        conn = cc.db()
        try:
            conn.autocommit(False)
            with conn.cursor() as cur:
                cur.execute("INSERT INTO events (tenant_id, type, entity_type, entity_id,"
                            " data) VALUES (%s, 'did.updated', 'did', '0', '{}')"
                            " RETURNING id", (tenant.id,))
                held = cur.fetchone()["id"]
            with ThreadPoolExecutor(1) as pool:
                later = pool.submit(new_did, cc, tenant.admin_token)
                assert s.quiet(1.0) == [], "an event overtook one still being written"
                assert not later.done(), "an event write did not wait for the open one"
                getattr(conn, outcome)()
                later = later.result(timeout=10)
        finally:
            conn.close()
        got = s.events(2 if outcome == "commit" else 1, timeout=5)
        ids = [int(f["id"]) for f in got]
        assert got[-1]["event"] == "did.created"
        assert got[-1]["data"]["entity_id"] == str(later["id"])
        assert ids[0] == held if outcome == "commit" else len(ids) == 1, ids
        # No number left unused: the rolled back one went to the next event written.
        with cc.db() as c, c.cursor() as cur:
            cur.execute("SELECT COUNT(*) AS n FROM events WHERE id BETWEEN %s AND %s",
                        (held, ids[-1]))
            assert cur.fetchone()["n"] == ids[-1] - held + 1


def test_an_event_without_its_counter_row_is_refused(cc, tenant):
    """Without event_seq's row (sql/031) an event insert fails instead of taking a stale
    number.  Inside one transaction, rolled back: the row is back for everyone else (who
    wait on its lock for those milliseconds)."""
    conn = cc.db()
    try:
        conn.autocommit(False)
        with conn.cursor() as cur:
            cur.execute("SELECT n FROM event_seq WHERE id = 1 FOR UPDATE")
            before = cur.fetchone()["n"]
            cur.execute("DELETE FROM event_seq WHERE id = 1")
            with pytest.raises(pymysql.err.MySQLError) as e:
                cur.execute("INSERT INTO events (tenant_id, type, entity_type, entity_id,"
                            " data) VALUES (%s, 'did.updated', 'did', '0', '{}')",
                            (tenant.id,))
            assert e.value.args[0] == 1644 and "event_seq has no row" in e.value.args[1]
        conn.rollback()
    finally:
        conn.close()
    assert db_rows(cc, "SELECT n FROM event_seq WHERE id = 1")[0]["n"] >= before


def test_concurrent_writers_reach_every_stream_once_in_order(cc, tenant, streams):
    """Four clients create DIDs at once (in two-node mode through both nodes in turn, so
    ids commit out of order across processes); a stream opened on each node gets every
    did.created exactly once, in id order, and a long-poll reader the same."""
    readers = [open_stream(streams, cc, tenant.admin_token) for _ in range(2)]
    assert [s.status for s in readers] == [200, 200]
    start = min(hello(s) for s in readers)
    prefix = "+1556" + str(secrets.randbelow(10**4)).zfill(4)

    def writer(w):
        out = []
        for i in range(12):
            r = cc.post("/api/v1/dids", token=tenant.admin_token,
                        json={"number": f"{prefix}{w}{i:02d}"})
            assert r.status_code == 201, r.text
            out.append(str(r.json()["id"]))
        return out

    with ThreadPoolExecutor(4) as pool:
        made = sorted(sum(pool.map(writer, range(4)), []), key=int)
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT id, entity_id FROM events WHERE tenant_id = %s AND id > %s"
                    " AND type = 'did.created' ORDER BY id", (tenant.id, start))
        rows = cur.fetchall()
    assert sorted((r["entity_id"] for r in rows), key=int) == made
    want = [(str(r["id"]), r["entity_id"]) for r in rows]
    for s in readers:
        got = [(f["id"], f["data"]["entity_id"]) for f in s.events(len(want), timeout=15)]
        assert got == want
        assert s.quiet(0.5) == [], "an event came twice"
    pos, polled = start, []
    while len(polled) < len(want):
        body = poll(cc, tenant.admin_token, after=pos, wait=5, limit=7)
        assert body["data"], f"long-poll stopped after {len(polled)} of {len(want)}"
        polled += [(str(e["id"]), e["entity_id"]) for e in body["data"]
                   if e["type"] == "did.created"]
        pos = body["last_id"]
    assert polled == want


def test_connected_streams_are_listed_and_removed(cc, tenant, tenant2, streams):
    user, token = tenant.make_user(roles=["supervisor"])
    s = open_stream(streams, cc, token)
    hello(s)
    r = cc.get(SESSIONS, token=tenant.admin_token, params={"user_id": user["id"]})
    assert r.status_code == 200, r.text
    rows = r.json()["data"]
    assert len(rows) == 1
    row = rows[0]
    assert row["user_id"] == user["id"] and row["remote_addr"] == "127.0.0.1"
    assert row["user_agent"] == "test-800/1.0" and row["pid"] > 0
    assert row["connected_at"].endswith("Z")
    # Another tenant's list never shows it.
    other = cc.get(SESSIONS, token=tenant2.admin_token).json()["data"]
    assert all(x["user_id"] != user["id"] for x in other)
    s.close()
    deadline = time.monotonic() + 8                    # noticed at the next keep-alive
    while time.monotonic() < deadline:
        rows = cc.get(SESSIONS, token=tenant.admin_token,
                      params={"user_id": user["id"]}).json()["data"]
        if not rows:
            break
        time.sleep(0.3)
    assert rows == []


def test_a_full_child_answers_503_with_retry_after(cc, tenant, streams):
    # 2 children x 4 places: of 9 streams at least one finds its child full (all on one
    # node: in two-node mode the other node has 8 places of its own).
    opened = [open_stream(streams, cc, tenant.admin_token, base_url=cc.base_url)
              for _ in range(9)]
    full = [s for s in opened if s.status == 503]
    assert full and len(opened) - len(full) <= 8
    for s in full:
        assert s.r.headers["Retry-After"] == "5"
        assert json.loads(s.body)["error"] == "unavailable"
    for s in opened:
        s.close()


def test_a_second_node_sees_every_event(cc, tenant, streams):
    """Each node polls the database itself: events written through one reach the streams
    of the other, in order."""
    second = cc.start_second_httpd()
    try:
        s = open_stream(streams, cc, tenant.admin_token, base_url=second.base_url)
        hello(s)
        dids = [new_did(cc, tenant.admin_token) for _ in range(5)]
        got = s.events(5)
        assert [f["data"]["entity_id"] for f in got] == [str(d["id"]) for d in dids]
        s.close()
    finally:
        second.stop()


def test_a_fresh_node_starts_position_less_streams_at_the_newest_event(cc, tenant,
                                                                      streams):
    """A new child's buffer starts up to 1,000 ids back (for inserts still open then);
    a stream without a position still starts at the newest event."""
    old = [new_did(cc, tenant.admin_token) for _ in range(5)]
    second = cc.start_second_httpd()
    try:
        s = open_stream(streams, cc, tenant.admin_token, base_url=second.base_url)
        start = hello(s)
        assert start >= int(old[-1]["id"]) and s.quiet(1.0) == []
        fresh = new_did(cc, tenant.admin_token)
        assert s.events(1)[0]["data"]["entity_id"] == str(fresh["id"])
        s.close()
    finally:
        second.stop()


# A node whose buffer holds 16 events (clients further back read the database) and whose
# children have 2 connections each.
SMALL_NODE = "CCEventBuffer 16\nDBDMax 2\nDBDKeep 2\nDBDMin 0"


def test_long_polls_catching_up_never_wait_for_each_others_connections(cc, tenant):
    """Each catch-up read takes a connection of its own: a request that still held its
    own (the principal's) while reading needed two, and DBDMax such requests at once
    waited for each other forever, freezing the child."""
    for _ in range(40):
        new_did(cc, tenant.admin_token)
    second = cc.start_second_httpd(extra_conf=SMALL_NODE)
    try:
        def one(_):
            r = requests.get(second.base_url + POLL, params={"after": 0, "limit": 1},
                             headers={"Authorization": f"Bearer {tenant.admin_token}"},
                             timeout=20)
            return r.status_code

        with ThreadPoolExecutor(12) as pool:
            codes = list(pool.map(one, range(12)))
        assert codes == [200] * 12
        r = requests.get(second.base_url + "/api/v1/dids", timeout=10,
                         headers={"Authorization": f"Bearer {tenant.admin_token}"})
        assert r.status_code == 200
    finally:
        second.stop()


def test_a_long_poll_over_events_it_may_not_see_is_bounded(cc, tenant):
    """A caller who may see none of the events moves on a batch per read, a bounded
    number of reads per request, and is told how far it got."""
    _, token = role_user(cc, tenant, ["events.read"])
    with cc.db() as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO events (tenant_id, type, entity_type, entity_id, data)"
                        " VALUES (%s, 'did.updated', 'did', '0', '{}')",
                        [(tenant.id,)] * 300)
        cur.execute("SELECT MAX(id) AS id FROM events WHERE tenant_id = %s", (tenant.id,))
        last = cur.fetchone()["id"]
    second = cc.start_second_httpd(extra_conf=SMALL_NODE)
    try:
        t0 = time.monotonic()
        # wait=1: a child just started answers once its poller has run.
        r = requests.get(second.base_url + POLL, params={"after": 0, "limit": 1, "wait": 1},
                         headers={"Authorization": f"Bearer {token}"}, timeout=20)
        assert r.status_code == 200 and time.monotonic() - t0 < 5
        body = r.json()
        assert body["data"] == [] and body["last_id"] >= last
    finally:
        second.stop()


@pytest.mark.allow_log("AH00493", "AH00494")
def test_a_graceful_restart_ends_streams_and_they_resume(cc, tenant, streams):
    if "-X" in os.environ.get("CC_HTTPD_ARGS", "").split():
        pytest.skip("a single-process httpd (-X, make test-asan) has no child to stop")
    # On the node restarted (in two-node mode the resumed stream may be on the other).
    s = open_stream(streams, cc, tenant.admin_token, base_url=cc.base_url)
    hello(s)
    new_did(cc, tenant.admin_token)
    last = int(s.events(1)[0]["id"])
    pid = int((cc.tmpdir / "httpd" / "run" / "httpd.pid").read_text())
    os.kill(pid, signal.SIGUSR1)                       # apachectl -k graceful
    assert s.ended.wait(10), "a stream kept its old child from stopping"
    missed = new_did(cc, tenant.admin_token, within=20)
    again = open_stream(streams, cc, tenant.admin_token, headers={"Last-Event-ID": str(last)})
    hello(again)
    assert again.events(1)[0]["data"]["entity_id"] == str(missed["id"])


def test_retention_deletes_old_events_and_dead_streams_rows(cc, tenant):
    """The retention job (every second in tests): events older than
    CCEventRetentionDays (30), and the rows of streams whose process died (not seen for
    90 s; GET /realtime/sessions hides them at once)."""
    user, _ = tenant.make_user(roles=["agent"])
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO events (tenant_id, type, created_at) VALUES"
                    " (%s, 'did.updated', UTC_TIMESTAMP(3) - INTERVAL 31 DAY),"
                    " (%s, 'did.updated', UTC_TIMESTAMP(3) - INTERVAL 29 DAY)",
                    (tenant.id, tenant.id))
        cur.execute("INSERT INTO websocket_sessions (tenant_id, user_id, remote_addr, node,"
                    " pid, connected_at, seen_at, last_event_id) VALUES"
                    " (%s, %s, '10.0.0.1', 'gone', 1, UTC_TIMESTAMP(3) - INTERVAL 1 HOUR,"
                    " UTC_TIMESTAMP(3) - INTERVAL 91 SECOND, 0)", (tenant.id, user["id"]))
    rows = cc.get(SESSIONS, token=tenant.admin_token,
                  params={"user_id": user["id"]}).json()["data"]
    assert rows == []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with cc.db() as conn, conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) n FROM events WHERE tenant_id = %s"
                        " AND created_at < UTC_TIMESTAMP() - INTERVAL 28 DAY", (tenant.id,))
            old = cur.fetchone()["n"]
            cur.execute("SELECT COUNT(*) n FROM websocket_sessions WHERE user_id = %s",
                        (user["id"],))
            stale = cur.fetchone()["n"]
        if old == 1 and stale == 0:
            break
        time.sleep(0.3)
    assert (old, stale) == (1, 0)                      # the 29-day-old event stays


# ---- long-poll ----

def poll(cc, token, **params):
    r = cc.get(POLL, token=token, params=params, timeout=40)
    assert r.status_code == 200, r.text
    return r.json()


def drained(cc, token):
    """The position past every event of the tenant so far.  Each child's poller runs
    every 100 ms on its own, so a child may be a moment behind another: read until
    nothing is new, let every poller run, and read again."""
    pos = 0
    for _ in range(2):
        while True:
            body = poll(cc, token, after=pos, limit=500)
            pos = max(pos, body["last_id"])
            if not body["data"]:
                break
        time.sleep(0.5)
    return pos


def dids_of(events):
    return [e["entity_id"] for e in events if e["type"] == "did.created"]


def test_long_poll_returns_a_batch_at_once(cc, tenant):
    start = drained(cc, tenant.admin_token)
    dids = [new_did(cc, tenant.admin_token) for _ in range(3)]
    time.sleep(0.5)                                    # every child's poller has run
    t0 = time.monotonic()
    body = poll(cc, tenant.admin_token, after=start, wait=10)
    assert time.monotonic() - t0 < 3
    assert dids_of(body["data"]) == [str(d["id"]) for d in dids]
    assert body["last_id"] >= body["data"][-1]["id"]
    one = poll(cc, tenant.admin_token, after=start, limit=1)
    assert len(one["data"]) == 1 and one["last_id"] == one["data"][0]["id"]


def test_long_poll_waits_then_times_out_empty(cc, tenant):
    assert poll(cc, tenant.admin_token, after=2**62)["last_id"] == 2**62
    pos = drained(cc, tenant.admin_token)
    t0 = time.monotonic()
    body = poll(cc, tenant.admin_token, after=pos, wait=2)
    assert 1.8 <= time.monotonic() - t0 < 5
    assert body["data"] == [] and body["last_id"] >= pos


def test_long_poll_wakes_on_a_new_event(cc, tenant):
    pos = drained(cc, tenant.admin_token)
    result = {}

    def waiter():
        t0 = time.monotonic()
        result["body"] = poll(cc, tenant.admin_token, after=pos, wait=20)
        result["took"] = time.monotonic() - t0

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(1)
    did = new_did(cc, tenant.admin_token)
    th.join(25)
    assert result["took"] < 4
    assert dids_of(result["body"]["data"]) == [str(did["id"])]


@pytest.mark.parametrize("params,field", [
    ({"after": "x"}, "after"), ({"wait": "31"}, "wait"), ({"wait": "-1"}, "wait"),
    ({"limit": "0"}, "limit"), ({"limit": "501"}, "limit"),
])
def test_long_poll_bad_parameters_are_400(cc, tenant, params, field):
    r = cc.get(POLL, token=tenant.admin_token, params=params)
    assert r.status_code == 400, r.text
    assert r.json()["details"][0]["field"] == field


# ---- the database goes away ----

@pytest.mark.allow_log(*DB_DOWN_LOGS)
def test_a_database_restart_loses_no_event(cc, tenant, streams):
    s = open_stream(streams, cc, tenant.admin_token)
    hello(s)
    before = new_did(cc, tenant.admin_token)
    assert s.events(1)[0]["data"]["entity_id"] == str(before["id"])
    cc.restart_db()
    after = new_did(cc, tenant.admin_token, within=30)
    assert s.status == 200 and not s.ended.is_set()
    assert s.events(1, timeout=10)[0]["data"]["entity_id"] == str(after["id"])
