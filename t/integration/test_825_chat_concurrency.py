"""Chat assignment under concurrency (issue 12: "never over max_concurrent under any
concurrency"): 60 visitors and 6 agents (max_concurrent 2 or 3) on two httpd nodes for
about 15 s: visitors start chats (a burst, then spread), write and close; agents accept,
write, transfer, close, flip their chat status and their voice state, all at once.

Meanwhile a sampler counts each agent's active chats in the database (one statement: a
consistent snapshot) every few milliseconds; afterwards the database and the API must
agree and be consistent: no agent ever over its max_concurrent, every session's columns
fit its status, one event per change answered, one chat_transfers row per transfer,
no 5xx anywhere (a deadlock the server retried is fine; one it answered 503 is not),
and no waiting chat while an online agent has room.

Requests go to either node at random, from up to 40 clients at once.  They fill both
nodes' connection pools (2 x 2 children, DBDMax 32), and every pooled connection
prepares the modules' ~300 statements: MariaDB's default max_prepared_stmt_count (16,382, ~55 connections)
is raised first, as make bench does (README "Configuration").
"""

import collections
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from cchelpers import db_exec, db_rows, innodb_deadlocks
from ccobjects import CHAT_ORIGIN, CHAT_WIDGETS
from conftest import unexpected_lines

VISITORS = 60
BURST = 24                       # visitors starting at once, the rest spread out
# Clients at once (the agents' included): under a node's 64 workers less MinSpareThreads
# (8) even when every one of them waits on the same node, which would otherwise log
# AH10159 on a slow machine (and only say that the box is slow).
CLIENTS = 40
CAPACITY = [2, 3, 2, 3, 2, 3]    # one agent each
RUN_SECONDS = 15.0
MAX_PREPARED = 262144            # as t/bench/bench.sh sets it
SESSIONS = "/api/v1/chat/sessions"
AGENTS = "/api/v1/chat/agents"

# What each operation may answer under contention (anything else is a finding).
ALLOWED = {
    "create": {201},
    "v_message": {201, 409},              # 409: an agent closed it meanwhile
    "v_close": {200, 409},
    "accept": {200, 409},                 # 409: taken meanwhile, or this agent is full
    "say": {201, 403, 409},               # 403: transferred away meanwhile
    "transfer": {200, 403, 409},          # 409: target offline/full, or chat closed
    "close": {200, 403, 409},
    "status": {200},
    "voice": {200},
    "list": {200},
}


class Recorder:
    """Every answer's (operation, status), the unexpected ones in full, and what the
    successful answers said was done."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = collections.Counter()
        self.bad = []
        self.transfers = []              # (session id, from, to) of each 200
        self.accepts = []                # (session id, agent) of each 200
        self.over = []                   # agent objects answered over capacity
        self.took = collections.defaultdict(list)    # op -> seconds to the answer

    def latency(self):
        """p50/p99/max milliseconds per operation."""
        out = {}
        for op, xs in sorted(self.took.items()):
            xs = sorted(xs)
            out[op] = tuple(round(1000 * xs[min(len(xs) - 1, int(q * len(xs)))])
                            for q in (0.5, 0.99, 1.0))
        return out

    def note(self, op, r, what=""):
        with self.lock:
            self.counts[(op, r.status_code)] += 1
            self.took[op].append(r.elapsed.total_seconds())
            if r.status_code not in ALLOWED[op]:
                self.bad.append((r.status_code, f"{op} {r.request.method}"
                                 f" {r.request.path_url} {what}-> {r.status_code}"
                                 f" {r.text[:300]}"))
        return r


def sampler(cc, tenant, stop, caps, out):
    """Until stop: each agent's active chats in one statement; every count over its
    agent's max_concurrent (and every session row whose columns do not fit its status)
    goes to out["over"] / out["odd"]."""
    conn = cc.db()
    try:
        with conn.cursor() as cur:
            while not stop.is_set():
                cur.execute("SELECT agent_id, COUNT(*) AS n FROM chat_sessions"
                            " WHERE tenant_id = %s AND status = 'active'"
                            " GROUP BY agent_id", (tenant.id,))
                for row in cur.fetchall():
                    if row["n"] > caps.get(row["agent_id"], 0):
                        out["over"].append((time.monotonic(), row))
                cur.execute(ODD_SESSIONS, (tenant.id,))
                out["odd"] += list(cur.fetchall())
                out["samples"] += 1
                time.sleep(0.005)
    finally:
        conn.close()


# Session rows whose columns do not fit their status.
ODD_SESSIONS = (
    "SELECT id, status, agent_id, assigned_at, closed_at, closed_by FROM chat_sessions"
    " WHERE tenant_id = %s AND NOT ("
    " (status = 'waiting' AND agent_id IS NULL AND closed_at IS NULL AND closed_by IS NULL)"
    " OR (status = 'active' AND agent_id IS NOT NULL AND assigned_at IS NOT NULL"
    "     AND closed_at IS NULL AND closed_by IS NULL)"
    " OR (status = 'closed' AND closed_at IS NOT NULL AND closed_by IS NOT NULL))")


class Client:
    """One thread's requests, each to either node on a new connection (a kept-alive one
    that httpd closes as the next request goes out fails that request; a POST is not
    resent)."""

    def __init__(self, bases, auth):
        self.bases = bases
        self.auth = auth

    def __call__(self, method, path, **kw):
        kw.setdefault("timeout", 60)
        return requests.request(method, random.choice(self.bases) + path,
                                headers={**self.auth, **kw.pop("headers", {})}, **kw)


def run_visitor(bases, key, rec, start, until):
    time.sleep(max(0.0, start - time.monotonic()))
    c = Client(bases, {"Origin": CHAT_ORIGIN})
    r = rec.note("create", c("POST", f"/chat/v1/widgets/{key}/sessions",
                             json={"name": f"V{start:.2f}"}))
    if r.status_code != 201:
        return
    sid, token = r.json()["session_id"], r.json()["visitor_token"]
    c.auth["Authorization"] = f"Visitor {token}"
    end = min(until, time.monotonic() + random.uniform(2, 12))
    while time.monotonic() < end:
        r = rec.note("v_message", c("POST", f"/chat/v1/sessions/{sid}/messages",
                                    json={"body": "still there?"}))
        if r.status_code == 409:
            return
        time.sleep(random.uniform(0.2, 0.8))
    if random.random() < 0.5:
        rec.note("v_close", c("POST", f"/chat/v1/sessions/{sid}/close"))


def run_agent(bases, me, others, caps, rec, until):
    c = Client(bases, {"Authorization": f"Bearer {me['token']}"})
    uid = me["id"]

    def mine():
        r = rec.note("list", c("GET", SESSIONS, params={"agent_id": uid, "status": "active",
                                                        "page_size": 200}))
        return [s["id"] for s in r.json()["data"]] if r.status_code == 200 else []

    def check_agent(r):
        if r.status_code == 200 and r.json()["active_count"] > caps[uid]:
            with rec.lock:
                rec.over.append(r.json())

    while time.monotonic() < until:
        op = random.choices(["accept", "say", "transfer", "close", "status", "voice"],
                            weights=[5, 4, 3, 3, 2, 1])[0]
        if op == "accept":
            r = rec.note("list", c("GET", SESSIONS, params={
                "status": "waiting", "sort": "created_at", "page_size": 5}))
            waiting = [s["id"] for s in r.json()["data"]] if r.status_code == 200 else []
            if waiting:
                sid = random.choice(waiting)
                r = rec.note("accept", c("POST", f"{SESSIONS}/{sid}/accept"), str(sid))
                if r.status_code == 200:
                    with rec.lock:
                        rec.accepts.append((sid, uid))
        elif op in ("say", "transfer", "close"):
            held = mine()
            if not held:
                continue
            sid = random.choice(held)
            if op == "say":
                rec.note("say", c("POST", f"{SESSIONS}/{sid}/messages",
                                  json={"body": "on it"}))
            elif op == "close":
                rec.note("close", c("POST", f"{SESSIONS}/{sid}/close"))
            else:
                to = random.choice(others)
                r = rec.note("transfer", c("POST", f"{SESSIONS}/{sid}/transfer",
                                           json={"to_agent_id": to, "note": "busy"}),
                             f"{sid}->{to} ")
                if r.status_code == 200:
                    with rec.lock:
                        rec.transfers.append((sid, uid, to))
        elif op == "status":
            status = random.choices(["online", "away", "offline"], weights=[6, 3, 1])[0]
            r = rec.note("status", c("PUT", f"{AGENTS}/{uid}", json={"status": status}))
            check_agent(r)
        else:
            state = random.choice(["available", "available", "on_call", "wrap_up",
                                   "break"])
            rec.note("voice", c("PUT", f"/api/v1/agents/{uid}/state",
                                json={"state": state}))
        time.sleep(random.uniform(0, 0.05))


# A node's MPM saying its threads ran short: on a loaded machine a client that timed out
# leaves its request running while it sends the next, so more than CLIENTS threads can
# be busy at once (an intermittent failure of make test when other work shared the
# cores).  That is capacity, which the test does not measure; what it checks is below.
SATURATION = ("AH10159", "AH00484")


@pytest.mark.allow_log(*SATURATION)
def test_no_agent_ever_exceeds_max_concurrent_under_load(cc, tenant):
    widget = CHAT_WIDGETS.create_ok(cc, tenant)
    agents = []
    for cap in CAPACITY:
        user, token = tenant.make_user(roles=["agent"])
        r = cc.put(f"{AGENTS}/{user['id']}", token=tenant.admin_token,
                   json={"status": "online", "max_concurrent": cap})
        assert r.status_code == 200, r.text
        agents.append({"id": user["id"], "token": token, "cap": cap})
    caps = {a["id"]: a["cap"] for a in agents}
    db_exec(cc, f"SET GLOBAL max_prepared_stmt_count = {MAX_PREPARED}")
    # In two-node mode (CC_ITEST_NODES=2) the environment's second node.
    second = cc.extra_nodes[0] if cc.extra_nodes else cc.start_second_httpd()
    log_from = len(second.error_log_text())             # its lines of this test
    try:
        bases = [cc.base_url, second.base_url]
        rec = Recorder()
        sampled = {"over": [], "odd": [], "samples": 0}
        stop = threading.Event()
        deadlocks = innodb_deadlocks(cc)
        watcher = threading.Thread(target=sampler, args=(cc, tenant, stop, caps, sampled),
                                   daemon=True)
        watcher.start()
        t0 = time.monotonic()
        until = t0 + RUN_SECONDS
        delays = [0.0] * BURST + sorted(random.uniform(0.5, RUN_SECONDS - 3)
                                        for _ in range(VISITORS - BURST))
        with ThreadPoolExecutor(max_workers=CLIENTS - len(agents)) as visitors, \
                ThreadPoolExecutor(max_workers=len(agents)) as desks:
            futures = [visitors.submit(run_visitor, bases, widget["public_key"], rec,
                                       t0 + d, until)
                       for d in delays]
            futures += [desks.submit(run_agent, bases, a,
                                     [b["id"] for b in agents if b is not a], caps, rec,
                                     until)
                        for a in agents]
            for f in futures:
                f.result(timeout=RUN_SECONDS + 120)
        took = time.monotonic() - t0

        # Every agent online with its voice free: whatever waits must find no room.
        admin = {"Authorization": f"Bearer {tenant.admin_token}"}
        for a in agents:
            for status in ("away", "online"):
                r = rec.note("status", requests.put(f"{cc.base_url}{AGENTS}/{a['id']}",
                                                    headers=admin, json={"status": status},
                                                    timeout=30))
            r = rec.note("voice", requests.put(
                f"{cc.base_url}/api/v1/agents/{a['id']}/state", json={"state": "available"},
                headers={"Authorization": f"Bearer {a['token']}"}, timeout=30))
        time.sleep(0.3)
        stop.set()
        watcher.join(30)
        deadlocks = innodb_deadlocks(cc) - deadlocks
        last_deadlock = latest_deadlock(cc) if deadlocks else ""
        node2_log = unexpected_lines(second.error_log_text()[log_from:].splitlines(),
                                     SATURATION)
    finally:
        if second not in cc.extra_nodes:
            second.stop()

    summary = (f"{took:.1f} s, {sum(rec.counts.values())} requests, {sampled['samples']}"
               f" samples, {deadlocks} deadlock(s) in the server; answers:"
               f" {sorted(rec.counts.items())}; ms p50/p99/max: {rec.latency()}")
    print("\n" + summary + "\n" + last_deadlock)
    five = [line for status, line in rec.bad if status >= 500]
    assert not five, f"5xx answers ({summary}):\n" + "\n".join(five[:20] + node2_log[:20]) \
        + "\n" + last_deadlock
    assert not rec.bad, f"unexpected answers ({summary}):\n" + "\n".join(
        line for _, line in rec.bad[:20])
    assert not node2_log, "second node's error log:\n" + "\n".join(node2_log)
    assert sampled["samples"] > 100, summary
    assert not sampled["over"], f"over max_concurrent during the run: {sampled['over'][:10]}"
    assert not rec.over, f"answered over capacity: {rec.over[:5]}"
    assert not sampled["odd"], f"inconsistent rows during the run: {sampled['odd'][:10]}"
    # The run did what it is for.
    for op, status in (("create", 201), ("accept", 200), ("transfer", 200), ("close", 200),
                       ("v_message", 201), ("status", 200), ("voice", 200)):
        assert rec.counts[(op, status)] > 0, f"no {op} {status}: {summary}"
    assert rec.counts[("create", 201)] == VISITORS

    problems = final_problems(cc, tenant, agents, caps, rec)
    assert not problems, "\n".join(problems) + "\n" + summary


def latest_deadlock(cc):
    """InnoDB's account of the last deadlock it detected (the transactions, their
    statements and locks), for the report."""
    (row,) = db_rows(cc, "SHOW ENGINE INNODB STATUS")
    text = row["Status"]
    start = text.find("LATEST DETECTED DEADLOCK")
    if start < 0:
        return ""
    end = text.find("\n------------\nTRANSACTIONS", start)
    return text[start:end if end > 0 else start + 6000]


def final_problems(cc, tenant, agents, caps, rec):
    """What the database and the API say that they should not, after the run."""
    problems = []
    rows = db_rows(cc, "SELECT id, status, agent_id, assigned_at, closed_at, closed_by"
                       " FROM chat_sessions WHERE tenant_id = %s ORDER BY id", (tenant.id,))
    if len(rows) != VISITORS:
        problems.append(f"{len(rows)} sessions for {VISITORS} visitors")
    odd = db_rows(cc, ODD_SESSIONS, (tenant.id,))
    if odd:
        problems.append(f"rows that do not fit their status: {odd[:10]}")
    active = collections.Counter(r["agent_id"] for r in rows if r["status"] == "active")
    for uid, n in active.items():
        if n > caps.get(uid, 0):
            problems.append(f"agent {uid}: {n} active chats, max_concurrent {caps.get(uid)}")

    # The API agrees with the rows.
    admin = tenant.admin_token
    listed = {a["user_id"]: a for a in cc.get(AGENTS, token=admin).json()["data"]}
    for a in agents:
        got = listed.get(a["id"])
        if got is None:
            problems.append(f"agent {a['id']} not listed")
            continue
        if (got["active_count"], got["max_concurrent"], got["status"]) != \
                (active.get(a["id"], 0), a["cap"], "online"):
            problems.append(f"agent {a['id']} listed as {got}, rows say"
                            f" {active.get(a['id'], 0)} active of {a['cap']}")
    api = {}
    for page in range(1, 3):
        r = cc.get(SESSIONS, token=admin, params={"page": page, "page_size": 50})
        assert r.status_code == 200, r.text
        api.update({s["id"]: s for s in r.json()["data"]})
    for row in rows:
        s = api.get(row["id"])
        if s is None or (s["status"], s["agent_id"]) != (row["status"], row["agent_id"]):
            problems.append(f"session {row['id']}: row {row}, API {s}")

    # Nobody online with room while a chat waits (every agent came online last).
    waiting = [r["id"] for r in rows if r["status"] == "waiting"]
    room = [a["id"] for a in agents if active.get(a["id"], 0) < a["cap"]]
    if waiting and room:
        problems.append(f"chats {waiting[:10]} wait while agents {room} have room")

    # One row and one event per change answered, none for a change not answered.
    transfers = db_rows(cc, "SELECT COUNT(*) AS n FROM chat_transfers WHERE tenant_id = %s",
                        (tenant.id,))[0]["n"]
    if transfers != len(rec.transfers):
        problems.append(f"{transfers} chat_transfers rows for {len(rec.transfers)}"
                        " transfers answered 200")
    events = collections.Counter(
        r["type"] for r in db_rows(cc, "SELECT type FROM events WHERE tenant_id = %s"
                                        " AND type LIKE 'chat.%%'", (tenant.id,)))
    closed = sum(1 for r in rows if r["status"] == "closed")
    for etype, want in (("chat.session_created", VISITORS),
                        ("chat.session_accepted", len(rec.accepts)),
                        ("chat.session_transferred", len(rec.transfers)),
                        ("chat.session_closed", closed)):
        if events[etype] != want:
            problems.append(f"{events[etype]} {etype} events, {want} expected")
    msgs = db_rows(cc, "SELECT COUNT(*) AS n FROM chat_messages m JOIN chat_sessions s"
                       " ON s.id = m.session_id WHERE s.tenant_id = %s"
                       " AND m.sender_type <> 'system'", (tenant.id,))[0]["n"]
    answered = rec.counts[("v_message", 201)] + rec.counts[("say", 201)]
    if msgs != answered:
        problems.append(f"{msgs} messages stored, {answered} answered 201")
    return problems
