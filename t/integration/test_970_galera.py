"""Several nodes on a MariaDB Galera cluster (issue 15 item 3; `make test-cluster`, which
runs this file and test_825 with CC_ITEST_GALERA=1: ccgalera.py).

Three Galera nodes on loopback; the suite's httpd (node A) on database node 1, a second
httpd (node B) on database node 2; database node 3 takes no requests.  Requests alternate
between A and B.  What differs from one database: every node hands out its own
interleaved auto-increment ids (node i: i, i + 3, ...; an id of node 3 is never used),
a transaction commits on its own node first and on the others a moment later, row locks
are local to a node (two nodes writing one row both go ahead and one fails at commit
with a deadlock, 1213, which the server runs again), and a node can die while the
others go on.

Figures (cluster start, events checked, conflicts, rejoin time) are printed with -s and
written to the temp dir's galera-figures.txt.
"""

import queue
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ccgalera import galera_mode
from conftest import unexpected_lines
from test_800_events import SSE, hello

pytestmark = pytest.mark.skipif(not galera_mode(), reason="the Galera run only "
                                "(make test-cluster, CC_ITEST_GALERA=1)")

DIDS = "/api/v1/dids"
# Node B's database goes away in the kill test: what it logs meanwhile.
DB_DOWN_LOGS = ("AH00629", "AH02655", "AH00639", "CC00203", "CC00205", "AH01631",
                "AH00632", "CC00108", "WSREP")


def figure(cc, text):
    print(f"\n[galera] {text}")
    with open(cc.tmpdir.parent / "galera-figures.txt", "a") as f:
        f.write(text + "\n")


@pytest.fixture(scope="module")
def node_b(cc):
    """The second httpd, on database node 2; its error log is gated at the end."""
    h = cc.start_second_httpd(name="galera-b")
    yield h
    h.stop()
    bad = unexpected_lines(h.error_log_text().splitlines(), DB_DOWN_LOGS)
    assert not bad, "node B's error log:\n" + "\n".join(bad)


class Nodes:
    """Requests to node A and node B in turn (or to the one asked for)."""

    def __init__(self, cc, node_b):
        self.cc = cc
        self.urls = [cc.base_url, node_b.base_url]
        self._n = 0
        self._mu = threading.Lock()

    def pick(self, node=None):
        if node is None:
            with self._mu:
                node, self._n = self._n % 2, self._n + 1
        return self.urls[node]

    def req(self, method, path, node=None, **kw):
        return self.cc.request(method, self.pick(node) + path, **kw)


@pytest.fixture
def nodes(cc, node_b):
    return Nodes(cc, node_b)


def number():
    return "+1555" + str(secrets.randbelow(10**7)).zfill(7)


def create_did(nodes, token, node=None):
    for _ in range(5):                       # a number taken already: another one
        r = nodes.req("POST", DIDS, node=node, token=token, json={"number": number()})
        if r.status_code != 409 or "quota" in r.text:
            return r
    return r


def test_three_synced_nodes_with_interleaved_ids(cc):
    offsets = set()
    for n in cc.galera.nodes:
        st = n.status("wsrep_cluster_size", "wsrep_local_state_comment", "wsrep_ready")
        assert st == {"wsrep_cluster_size": "3", "wsrep_local_state_comment": "Synced",
                      "wsrep_ready": "ON"}, (n.index, st)
        with n.conn() as c, c.cursor() as cur:
            cur.execute("SELECT @@auto_increment_increment AS inc,"
                        " @@auto_increment_offset AS off, @@wsrep_sync_wait AS sw")
            row = cur.fetchone()
        assert row["inc"] == 3 and row["sw"] == 1, row
        offsets.add(row["off"])
    assert offsets == {1, 2, 3}
    figure(cc, f"cluster start (bootstrap, 2 joins by mariabackup SST, all Synced): "
               f"{cc.galera.start_seconds:.1f} s")


def test_isolation_through_either_node(cc, tenant, tenant2, nodes):
    mine = {}
    for node in (0, 1):
        r = create_did(nodes, tenant.admin_token, node=node)
        assert r.status_code == 201, r.text
        mine[node] = r.json()["id"]
    for made_on, did in mine.items():
        for node in (0, 1):
            # The owner sees it through either node (wsrep_sync_wait: causal reads).
            r = nodes.req("GET", f"{DIDS}/{did}", node=node, token=tenant.admin_token)
            assert r.status_code == 200, (made_on, node, r.text)
            # Another tenant gets 404 on read, update and delete, through either node.
            for method, kw in (("GET", {}), ("PATCH", {"json": {"description": "x"}}),
                               ("DELETE", {})):
                r = nodes.req(method, f"{DIDS}/{did}", node=node,
                              token=tenant2.admin_token, **kw)
                assert r.status_code == 404, (method, made_on, node, r.status_code, r.text)
            r = nodes.req("GET", DIDS, node=node, token=tenant2.admin_token)
            assert r.status_code == 200 and r.json()["data"] == [], r.text
    # Nothing changed: both still there, on every database node.
    for n in cc.galera.nodes:
        with n.conn() as c, c.cursor() as cur:
            cur.execute("SELECT COUNT(*) AS n FROM dids WHERE tenant_id = %s", (tenant.id,))
            assert cur.fetchone()["n"] == 2, n.index


def collect(s, want, timeout):
    """did.created frames of s until every id in want has come (or timeout)."""
    got, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline and not want <= {int(f["data"]["entity_id"])
                                                       for f in got}:
        try:
            f = s.next(timeout=max(deadline - time.monotonic(), 0.05))
        except queue.Empty:
            break
        if f.get("event") == "did.created":
            got.append(f)
    return got


def test_every_stream_gets_every_event_once_with_writes_alternating(cc, tenant, nodes,
                                                                    node_b):
    """Four streams (two on each httpd), eight writers alternating nodes: each stream gets
    each did.created once, in increasing id order, though the DIDs' ids interleave per
    database node (wsrep_auto_increment_control) and the writes commit in different
    orders on each; the events' ids are the commit order (sql/026), the same on every
    node, with no gap."""
    writers, per_writer = 8, 6
    streams = []
    try:
        for url in (cc.base_url, node_b.base_url) * 2:
            s = SSE(cc, tenant.admin_token, base_url=url)
            assert s.status == 200
            hello(s)
            streams.append(s)
        t0 = time.monotonic()

        def write(_):
            out = []
            for _ in range(per_writer):
                r = create_did(nodes, tenant.admin_token)
                assert r.status_code == 201, r.text
                out.append(r.json()["id"])
            return out

        with ThreadPoolExecutor(writers) as ex:
            created = [d for ds in ex.map(write, range(writers)) for d in ds]
        write_s = time.monotonic() - t0
        want = set(created)
        assert len(want) == writers * per_writer
        with cc.db() as c, c.cursor() as cur:
            cur.execute("SELECT id %% 3 AS r, COUNT(*) AS n FROM dids"
                        " WHERE tenant_id = %s GROUP BY r", (tenant.id,))
            residues = {row["r"]: row["n"] for row in cur.fetchall()}
            cur.execute("SELECT MIN(id) AS lo, MAX(id) AS hi, COUNT(*) AS n FROM events"
                        " WHERE id >= (SELECT MIN(id) FROM events WHERE tenant_id = %s"
                        " AND type = 'did.created')", (tenant.id,))
            span = cur.fetchone()
        assert span["n"] == span["hi"] - span["lo"] + 1, f"a gap in the event ids: {span}"
        # Written through two database nodes: two residues (which two depends on each
        # node's wsrep_local_index, its place in the membership, not on its name).
        assert len(residues) == 2, residues
        results = [collect(s, want, 60) for s in streams]
        slowest = time.monotonic() - t0
        for i, got in enumerate(results):
            ids = [int(f["id"]) for f in got]
            dids = [int(f["data"]["entity_id"]) for f in got]
            assert len(dids) == len(set(dids)), f"stream {i}: an event twice: {dids}"
            assert set(dids) == want, (f"stream {i}: missing {sorted(want - set(dids))}, "
                                       f"extra {sorted(set(dids) - want)}")
            assert ids == sorted(ids), f"stream {i}: out of id order: {ids}"
        figure(cc, f"event stream: {len(want)} events by {writers} writers alternating "
                   f"nodes in {write_s:.1f} s (DID ids by node: {residues}; event ids "
                   f"{span['lo']}-{span['hi']}, no gap); each of "
                   f"{len(streams)} streams got all once, in order, the last after "
                   f"{slowest:.1f} s")
    finally:
        for s in streams:
            s.close()


def test_an_event_still_being_written_on_another_node_is_not_passed_over(cc, tenant,
                                                                         nodes):
    """As test_800's test_an_event_still_being_written_holds_the_next_number, with the
    open transaction on database node 2 and the stream on node A (database node 1).  A
    Galera node holds no lock for another node's open transaction, so the DID through
    node A is numbered and commits at once; the open transaction, which took the same
    number on node 2, then loses at certification (1213, as a deadlock) and, run again,
    takes the next number.  The stream gets both events once, in that order, and no
    number is left unused."""
    s = SSE(cc, tenant.admin_token, base_url=cc.base_url)
    conn = cc.galera.nodes[1].conn()

    def held_insert():
        conn.autocommit(False)
        with conn.cursor() as cur:
            cur.execute("INSERT INTO events (tenant_id, type, entity_type, entity_id, data)"
                        " VALUES (%s, 'did.created', 'did', '0', '{}') RETURNING id",
                        (tenant.id,))
            return cur.fetchone()["id"]

    try:
        hello(s)
        held = held_insert()
        later = create_did(nodes, tenant.admin_token, node=0)
        assert later.status_code == 201, later.text
        early = [int(f["id"]) for f in collect(s, {later.json()["id"]}, 5)]
        runs, lost = 0, None
        while True:
            runs += 1
            try:
                conn.commit()
                break
            except Exception as e:                   # noqa: BLE001 (pymysql's)
                assert e.args and e.args[0] == 1213, e
                lost = lost or held
                conn.rollback()
                held = held_insert()
                assert runs < 5, "the open transaction never committed"
        got = early + [int(f["id"]) for f in collect(s, {0}, 5)]
        figure(cc, f"open event insert on database node 2 (number {lost or held}), a DID "
                   f"through node A meanwhile: node A's stream got {early}; the open "
                   f"transaction committed on run {runs} as number {held}; the stream "
                   f"got {got} in all")
        assert len(early) == 1 and got == sorted(got) and len(got) == 2, got
        assert got[-1] == held
        with cc.db() as c, c.cursor() as cur:
            cur.execute("SELECT COUNT(*) AS n FROM events WHERE id BETWEEN %s AND %s",
                        (min(got), max(got)))
            assert cur.fetchone()["n"] == max(got) - min(got) + 1
    finally:
        conn.close()
        s.close()


@pytest.mark.allow_log("CC00108")
def test_conflicting_writes_on_two_nodes_are_retried_and_quota_stays_exact(cc, tenant,
                                                                           nodes):
    """DID creates in one tenant through both nodes at once all write the tenant's quota
    row: the second node's commit fails certification (1213, a deadlock to the server),
    which runs the request again.  Every create is 201 until the limit, then 409
    quota_exceeded (a create that met conflicts in all its runs is 503 with Retry-After
    and is sent again), and the count is exact on every database node."""
    limit, tries = 40, 56
    r = cc.patch(f"/api/v1/tenants/{tenant.id}", token=cc.admin_token(),
                 json={"max_dids": limit})
    assert r.status_code == 200, r.text

    def conflicts():
        total = 0
        for n in cc.galera.nodes:
            st = n.status("wsrep_local_cert_failures", "wsrep_local_bf_aborts")
            total += sum(int(v) for v in st.values())
        return total

    resent = []

    def create(_):
        # A create whose every run met a conflict is 503 with Retry-After, nothing
        # written: the client sends it again then, as the API says (one in 56 did, in
        # one of a dozen runs).
        for _ in range(5):
            r = create_did(nodes, tenant.admin_token)
            if r.status_code != 503 or not r.headers.get("Retry-After"):
                return r
            resent.append(r.text)
            time.sleep(int(r.headers["Retry-After"]))
        return r

    before = conflicts()
    t0 = time.monotonic()
    with ThreadPoolExecutor(8) as ex:
        answers = list(ex.map(create, range(tries)))
    took = time.monotonic() - t0
    codes = [a.status_code for a in answers]
    assert codes.count(201) == limit, codes
    assert all(c == 201 or (c == 409 and "quota" in a.text)
               for c, a in zip(codes, answers)), [(a.status_code, a.text)
                                                 for a in answers if a.status_code != 201]
    for n in cc.galera.nodes:
        with n.conn() as c, c.cursor() as cur:
            cur.execute("SELECT COUNT(*) AS n FROM dids WHERE tenant_id = %s", (tenant.id,))
            assert cur.fetchone()["n"] == limit, n.index
    got = conflicts() - before
    figure(cc, f"conflicts: {tries} DID creates (8 at once, alternating nodes, one quota "
               f"row) in {took:.1f} s: {got} certification failures / brute-force aborts, "
               f"all run again; {limit} created (the limit), {tries - limit} x 409; "
               f"{len(resent)} sent again after a 503")
    assert got > 0, "no certification conflict happened: nothing tested"


@pytest.mark.allow_log("CC00108")
def test_chat_assignment_never_exceeds_capacity_on_two_database_nodes(cc, tenant,
                                                                       monkeypatch):
    """test_825's run (60 visitors, 6 agents, ~15 s, requests to either httpd) with the
    second httpd on database node 2: its every check (never over max_concurrent, sampled
    and answered; consistent rows; one event per change; no 5xx) holds.  A client that
    gets the 503 of a request whose runs all met conflicts (CC00108, nothing written; on
    Galera the routing rows conflict at certification across nodes) sends it again after
    its Retry-After, as the API tells it to; those are counted."""
    import test_825_chat_concurrency as t825

    retried = []

    class Client(t825.Client):
        def __call__(self, method, path, **kw):
            for _ in range(4):
                r = super().__call__(method, path, **dict(kw))
                if r.status_code != 503 or "concurrent changes" not in r.text:
                    return r
                retried.append(f"{method} {path}")
                time.sleep(float(r.headers.get("Retry-After", "1")))
            return r

    monkeypatch.setattr(t825, "Client", Client)
    monkeypatch.setattr(t825, "unexpected_lines",
                        lambda lines, allowed=(): unexpected_lines(lines, ("CC00108",)))
    t825.test_no_agent_ever_exceeds_max_concurrent_under_load(cc, tenant)
    figure(cc, f"chat: test_825's run on database nodes 1 and 2: never over capacity; "
               f"{len(retried)} request(s) answered 503 after 5 conflicting runs, sent "
               f"again: {sorted(set(retried))[:5]}")


@pytest.mark.allow_log(*DB_DOWN_LOGS)
def test_a_database_node_killed_and_rejoined(cc, tenant, nodes, node_b):
    """SIGKILL database node 2 (node B's) under writes through node A: node A answers
    every request (after the cluster has evicted the dead node), the node rejoins, node B
    serves again, and every acknowledged write is on all three database nodes."""
    r = cc.patch(f"/api/v1/tenants/{tenant.id}", token=cc.admin_token(),
                 json={"max_dids": 100000})
    assert r.status_code == 200, r.text
    victim = cc.galera.nodes[1]
    acked, failed, worst = [], [], [0.0]
    stop = threading.Event()

    def writer():
        while not stop.is_set():
            t = time.monotonic()
            try:
                r = create_did(nodes, tenant.admin_token, node=0)
                if r.status_code == 201:
                    acked.append(r.json()["id"])
                else:
                    failed.append((r.status_code, r.text[:200]))
                r = nodes.req("GET", DIDS, node=0, token=tenant.admin_token)
                if r.status_code != 200:
                    failed.append((r.status_code, r.text[:200]))
            except Exception as e:                  # noqa: BLE001 (a timeout: counted)
                failed.append((0, repr(e)))
            worst[0] = max(worst[0], time.monotonic() - t)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        victim.kill()
        killed = time.monotonic()
        # The survivors evict it (evs.suspect_timeout) and go on as a cluster of two.
        while True:
            st = cc.galera.nodes[0].status("wsrep_cluster_size")
            if st.get("wsrep_cluster_size") == "2":
                break
            assert time.monotonic() - killed < 60, "node 2 never evicted"
            time.sleep(0.1)
        evicted = time.monotonic() - killed
        n_before = len(acked)
        while len(acked) <= n_before + 2:
            assert time.monotonic() - killed < 40, \
                f"node A wrote nothing on a cluster of two: {failed[:3]}"
            time.sleep(0.1)
        writing = time.monotonic() - killed
        t_rejoin = time.monotonic()
        victim.start()
        cc.galera.wait_synced()
        rejoin = time.monotonic() - t_rejoin
        # Node B serves again (its connections to the killed server are found dead).
        deadline = time.monotonic() + 30
        while True:
            r = create_did(nodes, tenant.admin_token, node=1)
            if r.status_code == 201:
                acked.append(r.json()["id"])
                break
            assert time.monotonic() < deadline, f"node B still failing: {r.text}"
            time.sleep(0.2)
        b_back = time.monotonic() - t_rejoin
        time.sleep(1.0)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not failed, f"node A failed {len(failed)} requests: {failed[:5]}"
    for n in cc.galera.nodes:
        with n.conn() as c, c.cursor() as cur:
            cur.execute("SELECT id FROM dids WHERE tenant_id = %s", (tenant.id,))
            have = {row["id"] for row in cur.fetchall()}
        assert set(acked) <= have, (n.index, sorted(set(acked) - have))
    figure(cc, f"node kill: database node 2 SIGKILLed under writes through node A; "
               f"evicted after {evicted:.1f} s, node A writing again after {writing:.1f} s (slowest node A request {worst[0]:.1f} s, "
               f"0 failed); rejoined and Synced in {rejoin:.1f} s, node B writing again "
               f"{b_back:.1f} s after the restart; {len(acked)} acknowledged writes on all "
               f"three nodes")
