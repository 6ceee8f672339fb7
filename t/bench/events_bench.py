#!/usr/bin/python3
"""make bench's event-stream figures (issue 11): SSE clients against one node while a
writer makes events through the API.

    events_bench.py BASE_URL HTTPD_PID      (run by t/bench/bench.sh: BENCH_ONLY=events)

Two runs with the same writer load: BENCH_EVENT_BASELINE_CLIENTS (10) clients, then
BENCH_EVENT_CLIENTS (1,000), spread over the tenants bench-1..bench-3.  Each run:

1. the clients open GET /api/v1/events/stream (a 503 is retried after 0.5-1.5 s, a stream
   that ends is resumed with Last-Event-ID); each reads `: position N` (where it starts)
   and then every frame, noting its id and the time it read it (time.monotonic, one
   clock for every process of the host);
2. the writer makes BENCH_EVENT_RATE (100) events/s through the API for
   BENCH_EVENT_WARMUP (3) + BENCH_EVENT_SECONDS (30) s, spread over the three tenants:
   POST /dids (did.created), PATCH /dids/{id} (did.updated), PATCH /queues/{id}
   (queue.updated), each carrying a unique tag (description or name) that names it in
   the event's data; it notes when each call returned;
3. MariaDB's SHOW GLOBAL STATUS before and after the timed seconds (the same window in
   both runs) and over 5 s with the clients connected before the writer starts (the
   stream's own load), httpd's resident memory (VmRSS and Pss of the parent and its children)
   before the clients connect, with them connected, and after the writing;
4. the events table is the truth: every client must have read every event of its tenant
   after its starting position whose type its permissions read (mod_cc_chat's table in
   cc_events_rules.c, read from the source), and no other: 1 user in 5 has a role
   without dids.read (bench_nodids), so must see no did.*; frames naming another tenant
   are counted too.  The clients wait (at most 10 s) for the last events, then close.

Latency: the time a client read the frame minus the time the writer's API call returned,
over the timed seconds.  It slightly underestimates the commit-to-client time by the
commit-to-response time (the writer's call latency is printed beside it).

Clients are BENCH_EVENT_PROCS (4) processes of asyncio protocols on raw sockets to
127.0.0.1; standard library only.  Tokens: logins of 10 seeded users per tenant
(user9001..user9010, password CC_BENCH_PASSWORD; bcrypt cost 12, so a few, shared by the
clients) and the tenants' admins.  Bounded, per run: connecting at most 120 s, 5 s
idle, writing warm-up + seconds (at most 60 + 300), draining 10 s; the client processes
are killed at the end.
Exit status 1 when a client missed an event, read one it may not see, or could not
connect, 0 otherwise.
"""

import array
import asyncio
import json
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import procmem

ROOT = Path(__file__).resolve().parents[2]
DB_SH = str(ROOT / "t" / "env" / "db.sh")
RULES_C = ROOT / "mod_cc_chat" / "cc_events_rules.c"
TENANTS = ("bench-1", "bench-2", "bench-3")
USERS_PER_TENANT = 10          # user9001..user9010
NODIDS_SLOTS = (8, 9)          # user9009, user9010: role bench_nodids
NODIDS_ROLE = "bench_nodids"
NODIDS_PERMISSIONS = ["events.read", "queues.read", "users.read", "agents.read"]
QUEUES_PER_TENANT = 5
WRITER_CONNECTIONS = 10
CONNECT_LIMIT = 120.0          # s for every client to connect
DRAIN_LIMIT = 10.0             # s for the last events to arrive
IDLE_SECONDS = 5.0             # s of no writing, clients connected: the stream's own load
DB_STATUS = ("Questions", "Queries", "Com_select", "Com_insert", "Com_update",
             "Com_delete", "Com_stmt_execute", "Com_commit")


def env_int(name, default, lo, hi):
    v = int(os.environ.get(name, default))
    if not lo <= v <= hi:
        sys.exit(f"events_bench: {name} must be in {lo}..{hi}")
    return v


# ---- the database (the administrator's client, t/env/db.sh shell) ----------------

def sql(text):
    """Rows (lists of strings) of the last statement of text."""
    out = subprocess.run([DB_SH, "shell", "-N", "-B"], input=text, capture_output=True,
                         text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"db.sh shell: {out.stderr.strip()}")
    return [line.split("\t") for line in out.stdout.splitlines() if line]


def db_status():
    names = ",".join(f"'{n}'" for n in DB_STATUS)
    return {k: int(v) for k, v in sql(f"SHOW GLOBAL STATUS WHERE Variable_name IN ({names})")}


def max_event_id():
    rows = sql("SELECT COALESCE(MAX(id), 0) FROM events")
    return int(rows[0][0])


def type_rules():
    """mod_cc_chat's table: an event type's prefix -> the permission that reads it."""
    rules = dict(re.findall(r'\{ "([a-z_]+)", "([a-z_]+\.[a-z_]+)" \}', RULES_C.read_text()))
    if "did" not in rules or rules["did"] != "dids.read":
        sys.exit("events_bench: cannot read the type table of " + str(RULES_C))
    return rules


def visible(rules, perms, etype):
    prefix, dot, _ = etype.partition(".")
    return bool(dot) and rules.get(prefix) in perms


# ---- httpd's memory ------------------------------------------------------------------

# procmem.memory: (processes, VmRSS KiB, Pss KiB) of httpd's tree.
httpd_memory = procmem.memory


# ---- a small HTTP/1.1 client on asyncio streams (setup and the writer) ---------------

def bearer(token):
    """The header lines of a bearer token (none without one)."""
    return (f"Authorization: Bearer {token}",) if token else ()


class Http:
    """Keep-alive HTTP/1.1 on asyncio streams, shared with chat_bench.py."""

    def __init__(self, host, port, agent="events-bench"):
        self.host, self.port, self.agent = host, port, agent
        self.reader = self.writer = None

    async def close(self):
        if self.writer:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None

    async def request(self, method, path, headers=(), body=None, on_sent=None):
        """(status, parsed JSON or None); reconnects when the server closed.  headers:
        extra header lines; on_sent() is called as the request is written (a message's
        send time)."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        payload = json.dumps(body).encode() if body is not None else b""
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                f"User-Agent: {self.agent}", "Accept: application/json", *headers]
        if body is not None:
            head += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        try:
            if on_sent:
                on_sent()
            self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
            await self.writer.drain()
            status_line = await self.reader.readline()
            if not status_line:
                raise ConnectionError("closed")
            status = int(status_line.split()[1])
            headers = {}
            while True:
                line = await self.reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                k, _, v = line.decode("latin-1").partition(":")
                headers[k.strip().lower()] = v.strip()
            if headers.get("transfer-encoding", "").lower() == "chunked":
                data = b""
                while True:
                    size = int((await self.reader.readline()).split(b";")[0], 16)
                    chunk = await self.reader.readexactly(size + 2)
                    if size == 0:
                        break
                    data += chunk[:-2]
            else:
                data = await self.reader.readexactly(int(headers.get("content-length", 0)))
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError,
                IndexError):
            await self.close()
            raise
        if headers.get("connection", "").lower() == "close":
            await self.close()
        try:
            doc = json.loads(data) if data else None
        except ValueError:
            doc = None
        return status, doc


async def call(http, method, path, headers=(), body=None, ok=(200, 201, 204), tries=30):
    """A setup call: retried on a closed connection and on 429/503 (bcrypt slots)."""
    for _ in range(tries):
        try:
            status, doc = await http.request(method, path, headers, body)
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError,
                IndexError):
            await asyncio.sleep(0.2)
            continue
        if status in (429, 503):
            await asyncio.sleep(1.0)
            continue
        if status not in ok:
            raise RuntimeError(f"{method} {path}: {status} {doc}")
        return status, doc
    raise RuntimeError(f"{method} {path}: no answer after {tries} tries")


# ---- setup: the role without dids.read, queues, tokens ------------------------------

async def setup(host, port, password):
    tenants = {}
    for slug, tid in sql("SELECT slug, id FROM tenants WHERE slug LIKE 'bench-_'"):
        tenants[slug] = tid
    http = Http(host, port)
    admin = {}
    for slug in TENANTS:
        _, doc = await call(http, "POST", "/api/v1/auth/login",
                            body={"email": f"admin@{slug}.example", "password": password,
                                  "tenant": slug})
        admin[slug] = doc["access_token"]
    role_perms = {}
    for slug in TENANTS:
        tok = admin[slug]
        await call(http, "POST", "/api/v1/roles", bearer(tok),
                   {"name": NODIDS_ROLE, "permissions": NODIDS_PERMISSIONS}, ok=(201, 409))
        for role in ("agent", NODIDS_ROLE):
            _, doc = await call(http, "GET", f"/api/v1/roles/{role}", bearer(tok))
            role_perms[(slug, role)] = frozenset(doc["permissions"])
        # The tenant's users of the bench, their roles set through the API.
        emails = ",".join(f"'user{9001 + i}@{slug}.example'" for i in range(USERS_PER_TENANT))
        ids = dict(sql(f"SELECT email, id FROM users WHERE tenant_id = '{tenants[slug]}'"
                       f" AND email IN ({emails})"))
        for i in range(USERS_PER_TENANT):
            role = NODIDS_ROLE if i in NODIDS_SLOTS else "agent"
            uid = ids[f"user{9001 + i}@{slug}.example"]
            await call(http, "PUT", f"/api/v1/users/{uid}/roles", bearer(tok),
                       {"roles": [role]})
        for n in range(QUEUES_PER_TENANT):
            await call(http, "POST", "/api/v1/queues", bearer(tok),
                       {"name": f"Events bench {n}"}, ok=(201, 409))
    await http.close()

    # Logins: bcrypt cost 12 (~0.3 s of CPU each), 4 at a time (CCBcryptMaxConcurrent).
    users = [(slug, i) for slug in TENANTS for i in range(USERS_PER_TENANT)]
    tokens = {}
    sem = asyncio.Semaphore(4)

    async def login(slug, i):
        async with sem:
            h = Http(host, port)
            _, doc = await call(h, "POST", "/api/v1/auth/login",
                                body={"email": f"user{9001 + i}@{slug}.example",
                                      "password": password, "tenant": slug})
            await h.close()
            tokens[(slug, i)] = doc["access_token"]

    await asyncio.gather(*(login(slug, i) for slug, i in users))

    targets = {}
    for slug in TENANTS:
        tid = tenants[slug]
        dids = [r[0] for r in sql(f"SELECT id FROM dids WHERE tenant_id = '{tid}'"
                                  " AND number LIKE '+1555%' ORDER BY id LIMIT 200")]
        queues = [r[0] for r in sql(f"SELECT id FROM call_queues WHERE tenant_id = '{tid}'"
                                    " AND name LIKE 'Events bench %' ORDER BY id")]
        targets[slug] = (dids, queues)
    return tenants, admin, tokens, role_perms, targets


# ---- the writer ----------------------------------------------------------------------

async def writer(host, port, admin, targets, rate, warmup, seconds, run_tag):
    """Writes rate events/s for warmup + seconds; returns (calls, t_timed_start,
    t_timed_end): calls = {tag: (slug, t_sent, t_returned, status, timed)}."""
    total = int(rate * (warmup + seconds))
    calls = {}
    nxt = [0]
    rnd = random.Random(run_tag)
    start = time.monotonic() + 0.05
    timed_start = start + warmup
    number_base = rnd.randrange(10 ** 5)

    async def one_connection():
        http = Http(host, port)
        while True:
            i = nxt[0]
            if i >= total:
                break
            nxt[0] += 1
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            slug = TENANTS[i % 3]
            dids, queues = targets[slug]
            tag = f"evb{run_tag}-{i}"
            op = i % 10
            if op < 5:
                method, path = "POST", "/api/v1/dids"
                body = {"number": f"+19{number_base:05d}{run_tag % 100:02d}{i:06d}",
                        "description": tag}
            elif op < 8:
                method, path = "PATCH", f"/api/v1/dids/{rnd.choice(dids)}"
                body = {"description": tag}
            else:
                method, path = "PATCH", f"/api/v1/queues/{rnd.choice(queues)}"
                body = {"name": tag}
            t_sent = time.monotonic()
            try:
                status, _ = await http.request(method, path, bearer(admin[slug]), body)
            except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError,
                    IndexError):
                status = 0
            calls[tag] = (slug, t_sent, time.monotonic(), status, due >= timed_start)
        await http.close()

    await asyncio.gather(*(one_connection() for _ in range(WRITER_CONNECTIONS)))
    return calls, timed_start, time.monotonic()


# ---- the SSE clients (in worker processes) ---------------------------------------------

class Stream(asyncio.Protocol):
    """One GET /api/v1/events/stream: chunked transfer decoded, frames parsed."""

    def __init__(self, client, done):
        self.c = client
        self.done = done
        self.head = bytearray()
        self.status = None
        self.raw = bytearray()       # chunked body not yet decoded
        self.sse = bytearray()       # decoded body not yet split into frames
        self.chunk_left = 0          # bytes of the current chunk still to come (+2: CRLF)
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        c = self.c
        head = (f"GET /api/v1/events/stream HTTP/1.1\r\nHost: {c['hostport']}\r\n"
                f"Authorization: Bearer {c['token']}\r\nAccept: text/event-stream\r\n"
                "User-Agent: events-bench\r\n")
        if c["last_id"] is not None:
            head += f"Last-Event-ID: {c['last_id']}\r\n"
        transport.write((head + "\r\n").encode())

    def data_received(self, data):
        t = time.monotonic()
        if self.status is None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = bytes(self.head[:end]).split(b"\r\n")
            self.status = int(lines[0].split()[1])
            if self.status != 200:
                hdr = dict(l.decode("latin-1").lower().split(":", 1) for l in lines[1:]
                           if b":" in l)
                self.c["retry_after"] = hdr.get("retry-after", "").strip()
                self.transport.close()
                return
            data = bytes(self.head[end + 4:])
            self.head = None
        self.raw += data
        self.dechunk()
        self.frames(t)

    def dechunk(self):
        """Moves the data of complete or partial chunks from raw to sse."""
        raw = self.raw
        pos, n = 0, len(raw)
        while pos < n:
            if self.chunk_left == 0:
                eol = raw.find(b"\r\n", pos)
                if eol < 0:
                    break
                size = int(bytes(raw[pos:eol]).split(b";")[0], 16)
                pos = eol + 2
                if size == 0:                   # the last chunk: the stream ended
                    self.transport.close()
                    pos = n
                    break
                self.chunk_left = size + 2      # its data, then CRLF
            k = min(self.chunk_left, n - pos)
            data_k = min(k, max(0, self.chunk_left - 2))
            if data_k:
                self.sse += raw[pos:pos + data_k]
            pos += k
            self.chunk_left -= k
        del raw[:pos]

    def frames(self, t):
        c = self.c
        sse = self.sse
        pos = 0
        while True:
            end = sse.find(b"\n\n", pos)
            if end < 0:
                break
            frame = bytes(sse[pos:end])
            pos = end + 2
            if frame.startswith(b"id: "):
                nl = frame.find(b"\n")
                eid = int(frame[4:nl])
                d = frame.find(b"\ndata: ")
                if d < 0:
                    continue
                c["ids"].append(eid)
                c["times"].append(t)
                if eid > c["max_id"]:
                    c["max_id"] = eid
                c["last_id"] = eid
                if frame.find(c["tenant_mark"], d) < 0:
                    c["other_tenant"] += frame.find(b'"tenant_id":', d) >= 0
                    c["no_tenant"] += frame.find(b'"tenant_id":', d) < 0
            elif frame.startswith(b": keep-alive"):
                c["keepalives"] += 1
                i = frame.find(b"\nid: ")
                if i >= 0:
                    c["last_id"] = int(frame[i + 5:])
            elif frame.startswith(b"retry:"):
                # "retry: N\n: position P\nid: P": the position up to its line's end.
                i = frame.find(b": position ")
                if i >= 0 and c["start"] is None:
                    c["start"] = int(frame[i + 11:].split(b"\n", 1)[0])
                if not self.done.done():
                    self.done.set_result(True)
        del sse[:pos]

    def connection_lost(self, exc):
        if not self.done.done():
            self.done.set_result(False)
        self.c["open"] = False
        w = self.c.get("lost_waiter")
        if w and not w.done():
            w.set_result(True)


async def client_loop(c, host, port, connected, stopping):
    """Opens c's stream (503: again in 0.5-1.5 s) and resumes it (Last-Event-ID) when it
    ends before the bench stops it."""
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + CONNECT_LIMIT
    while not stopping.is_set():
        done = loop.create_future()
        c["lost_waiter"] = loop.create_future()
        try:
            transport, proto = await loop.create_connection(
                lambda: Stream(c, done), host, port)
        except OSError as e:
            c["errors"].append(f"connect: {e}")
            await asyncio.sleep(1.0)
            if time.monotonic() > deadline and c["start"] is None:
                break
            continue
        c["transport"] = transport
        ok = await done
        if ok:
            c["open"] = True
            if not connected.done() and c["start"] is not None:
                connected.set_result(True)
            await c["lost_waiter"]
            if stopping.is_set():
                break
            c["resumed"] += 1
            continue
        status = proto.status
        transport.close()
        if status == 503:
            c["busy"] += 1
        else:
            c["errors"].append(f"status {status}")
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(random.uniform(0.5, 1.5))
    if not connected.done():
        connected.set_result(False)


def check_client(c, truth, rules, t_return):
    """Compares what c read with the truth: a dict of figures and latency samples."""
    start = c["start"] or 0
    expect = {eid for eid, (tidx, etype) in truth.items()
              if eid > start and tidx == c["tidx"] and visible(rules, c["perms"], etype)}
    got = c["ids"]
    got_set = set(got)
    lat = array.array("f")
    for eid, t in zip(got, c["times"]):
        tr = t_return.get(eid)
        if tr is not None and eid in expect:
            lat.append((t - tr) * 1000.0)
    order = sum(1 for a, b in zip(got, got[1:]) if b <= a)
    missed = sorted(expect - got_set)
    wrong = sorted(eid for eid in got_set - expect if eid <= max(truth, default=0))
    did_seen = sum(1 for eid in got_set if truth.get(eid, (0, ""))[1].startswith("did."))
    return {"expected": len(expect), "got": len(got), "missed": missed, "wrong": wrong,
            "dups": len(got) - len(got_set), "order": order, "did_seen": did_seen,
            "lat": lat}


def worker_main(specs, conn, host, port, rules):
    """A client process: connects its specs' streams, reports, waits for the truth,
    drains, checks, reports."""
    try:
        asyncio.run(worker_async(specs, conn, host, port, rules))
    finally:
        conn.close()


async def worker_async(specs, conn, host, port, rules):
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    clients = []
    for s in specs:
        clients.append({**s, "hostport": f"{host}:{port}", "ids": array.array("q"),
                        "times": array.array("d"), "start": None, "last_id": None,
                        "max_id": 0, "open": False, "busy": 0, "resumed": 0,
                        "errors": [], "keepalives": 0, "other_tenant": 0, "no_tenant": 0,
                        "tenant_mark": b'"tenant_id":"' + s["tenant_id"].encode() + b'"'})
    sem = asyncio.Semaphore(32)
    connected = []
    tasks = []

    async def start(c):
        async with sem:
            fut = loop.create_future()
            connected.append(fut)
            tasks.append(asyncio.ensure_future(client_loop(c, host, port, fut, stopping)))
            await fut

    await asyncio.gather(*(start(c) for c in clients))
    conn.send(("connected", sum(1 for c in clients if c["start"] is not None),
               sum(c["busy"] for c in clients),
               min((c["start"] for c in clients if c["start"] is not None), default=None)))

    # Wait for the truth (the events table) without blocking the loop.
    got = loop.create_future()
    loop.add_reader(conn.fileno(), lambda: got.done() or got.set_result(conn.recv()))
    msg = await got
    loop.remove_reader(conn.fileno())
    _, truth, t_return = msg
    truth = {int(k): v for k, v in truth}
    t_return = dict(t_return)
    # Drain: until every client has read past its last expected event, or the limit.
    last = {}
    for c in clients:
        last[id(c)] = max((eid for eid, (tidx, etype) in truth.items()
                           if tidx == c["tidx"] and visible(rules, c["perms"], etype)),
                          default=0)
    limit = time.monotonic() + DRAIN_LIMIT
    while time.monotonic() < limit:
        if all(c["max_id"] >= last[id(c)] or c["start"] is None for c in clients):
            break
        await asyncio.sleep(0.1)
    stopping.set()
    for c in clients:
        if c.get("transport"):
            c["transport"].close()
    await asyncio.sleep(0.2)
    for t in tasks:
        t.cancel()
    results = []
    for c in clients:
        r = check_client(c, truth, rules, t_return) if c["start"] is not None else None
        results.append({"kind": c["kind"], "tidx": c["tidx"], "connected": c["start"] is not None,
                        "busy": c["busy"], "resumed": c["resumed"], "errors": c["errors"][:3],
                        "keepalives": c["keepalives"], "other_tenant": c["other_tenant"],
                        "no_tenant": c["no_tenant"],
                        **({k: v for k, v in r.items() if k != "lat"} if r else {}),
                        "lat": r["lat"].tobytes() if r else b""})
    conn.send(("results", results))


# ---- one run ---------------------------------------------------------------------------

def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    k = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def run_once(n_clients, procs, host, port, parent, ctx):
    rules = ctx["rules"]
    specs = []
    for i in range(n_clients):
        tidx = i % 3
        slug = TENANTS[tidx]
        slot = (i // 3) % USERS_PER_TENANT
        kind = "nodids" if slot in NODIDS_SLOTS else "agent"
        role = NODIDS_ROLE if kind == "nodids" else "agent"
        specs.append({"tidx": tidx, "tenant_id": ctx["tenants"][slug],
                      "token": ctx["tokens"][(slug, slot)], "kind": kind,
                      "perms": ctx["role_perms"][(slug, role)]})
    procs = max(1, min(procs, n_clients))
    mem_before = httpd_memory(parent)
    q0 = db_status()
    pipes, workers = [], []
    for w in range(procs):
        a, b = multiprocessing.Pipe()
        p = multiprocessing.Process(target=worker_main,
                                    args=(specs[w::procs], b, host, port, rules), daemon=True)
        p.start()
        b.close()
        pipes.append(a)
        workers.append(p)
    t_connect = time.monotonic()
    connected = busy = 0
    starts = []
    report_by = t_connect + CONNECT_LIMIT + 30
    for a in pipes:
        if not a.poll(max(0.0, report_by - time.monotonic())):
            raise RuntimeError("a client process did not report")
        _, n, b, s = a.recv()
        connected += n
        busy += b
        if s is not None:
            starts.append(s)
    connect_s = time.monotonic() - t_connect
    time.sleep(1.0)
    mem_connected = httpd_memory(parent)
    per_child = sorted((int(r[1]) for r in sql(
        "SELECT pid, COUNT(*) FROM websocket_sessions GROUP BY pid")), reverse=True)
    q_connected = db_status()
    # The stream's own load: 5 s with the clients connected and no writer.
    t_idle = time.monotonic()
    time.sleep(IDLE_SECONDS)
    q_idle = db_status()
    idle = {k: (q_idle[k] - q_connected[k]) / (time.monotonic() - t_idle) for k in DB_STATUS}

    # The writer: warm-up, then the timed window between two SHOW GLOBAL STATUS.
    run_tag = random.randrange(10 ** 6)
    loop = asyncio.new_event_loop()
    status_at = {}

    async def write_and_measure():
        async def measure():
            await asyncio.sleep(max(0.0, ctx["warmup"] + 0.05))
            status_at["t0"] = time.monotonic()
            status_at["q0"] = await loop.run_in_executor(None, db_status)
            await asyncio.sleep(max(0.0, ctx["seconds"] - (time.monotonic() - status_at["t0"])))
            status_at["q1"] = await loop.run_in_executor(None, db_status)
            status_at["t1"] = time.monotonic()
        return (await asyncio.gather(
            writer(host, port, ctx["admin"], ctx["targets"], ctx["rate"], ctx["warmup"],
                   ctx["seconds"], run_tag), measure()))[0]

    calls, timed_start, timed_end = loop.run_until_complete(write_and_measure())
    loop.close()
    mem_after = httpd_memory(parent)

    # The truth: every event since the lowest starting position.
    low = min(starts) if starts else max_event_id()
    rows = sql("SELECT id, tenant_id, type,"
               " COALESCE(JSON_VALUE(data, '$.description'), JSON_VALUE(data, '$.name'), '')"
               f" FROM events WHERE id > {low} ORDER BY id")
    tidx_of = {tid: i for i, tid in enumerate(ctx["tenants"][s] for s in TENANTS)}
    truth, t_return, timed_ids = [], [], set()
    for eid, tid, etype, tag in rows:
        eid = int(eid)
        truth.append((eid, (tidx_of.get(tid, -1), etype)))
        call_ = calls.get(tag)
        if call_ and call_[4]:
            t_return.append((eid, call_[2]))
            timed_ids.add(eid)
    for a in pipes:
        a.send(("truth", truth, t_return))
    results = []
    report_by = time.monotonic() + DRAIN_LIMIT + 60
    for a in pipes:
        if not a.poll(max(0.0, report_by - time.monotonic())):
            raise RuntimeError("a client process did not report its results")
        results += a.recv()[1]
    for p in workers:
        p.join(5)
        if p.is_alive():
            p.kill()
            p.join()

    lat = array.array("f")
    for r in results:
        lat.frombytes(r["lat"])
    lat = sorted(lat)
    ok = [r for r in results if r["connected"]]
    writes = [v for v in calls.values() if v[4]]
    api_ms = sorted((v[2] - v[1]) * 1000.0 for v in writes if 200 <= v[3] < 300)
    qa, qb = status_at["q0"], status_at["q1"]
    window = status_at["t1"] - status_at["t0"]
    return {
        "clients": n_clients, "connected": connected, "busy": busy,
        "connect_s": connect_s, "per_child": per_child,
        "resumed": sum(r["resumed"] for r in results),
        "errors": [e for r in results for e in r["errors"]][:5],
        "written": sum(1 for v in writes if 200 <= v[3] < 300),
        "written_all": sum(1 for v in calls.values() if 200 <= v[3] < 300),
        "write_failed": sum(1 for v in calls.values() if not 200 <= v[3] < 300),
        "write_rate": len(writes) / max(1e-9, timed_end - timed_start),
        "events": len(truth), "timed_events": len(timed_ids),
        "expected": sum(r["expected"] for r in ok), "delivered": sum(r["got"] for r in ok),
        "missed": sum(len(r["missed"]) for r in ok),
        "missed_ex": [(r["tidx"], r["kind"], r["missed"][:5]) for r in ok if r["missed"]][:5],
        "wrong": sum(len(r["wrong"]) for r in ok),
        "wrong_ex": [(r["tidx"], r["kind"], r["wrong"][:5]) for r in ok if r["wrong"]][:5],
        "nodids_clients": sum(1 for r in ok if r["kind"] == "nodids"),
        "nodids_did": sum(r["did_seen"] for r in ok if r["kind"] == "nodids"),
        "other_tenant": sum(r["other_tenant"] + r["no_tenant"] for r in ok),
        "dups": sum(r["dups"] for r in ok), "order": sum(r["order"] for r in ok),
        "keepalives": sum(r["keepalives"] for r in ok),
        "lat_n": len(lat), "p50": pct(lat, 50), "p99": pct(lat, 99),
        "max": lat[-1] if lat else float("nan"), "min": lat[0] if lat else float("nan"),
        "api_p50": pct(api_ms, 50), "api_p99": pct(api_ms, 99),
        "window": window,
        "db": {k: (qb[k] - qa[k]) / window for k in DB_STATUS},
        "db_connect": {k: q_connected[k] - q0[k] for k in DB_STATUS},
        "db_idle": idle,
        "mem_before": mem_before, "mem_connected": mem_connected, "mem_after": mem_after,
    }


# ---- report ---------------------------------------------------------------------------

def mib(kib):
    return f"{kib / 1024:.0f} MiB"


def report(runs, ctx, log_lines):
    a, b = runs
    out = []
    w = out.append
    w(f"== event stream (t/bench/events_bench.py): 3 tenants, {ctx['rate']} events/s written"
      f" through the API, {ctx['warmup']} s warm-up + {ctx['seconds']} s timed;"
      f" {a['clients']} then {b['clients']} SSE clients")
    rows = [
        ("clients connected", lambda r: f"{r['connected']} of {r['clients']}"),
        ("  503 while connecting (retried)", lambda r: str(r["busy"])),
        ("  connecting took", lambda r: f"{r['connect_s']:.1f} s"),
        ("  streams per child (websocket_sessions)",
         lambda r: "/".join(map(str, r["per_child"]))),
        ("  streams resumed (ended early)", lambda r: str(r["resumed"])),
        ("events written (2xx), timed / all", lambda r: f"{r['written']} / {r['written_all']}"),
        ("  writer rate (timed), failed calls",
         lambda r: f"{r['write_rate']:.1f}/s, {r['write_failed']}"),
        ("  writer API call p50 / p99", lambda r: f"{r['api_p50']:.1f} / {r['api_p99']:.1f} ms"),
        ("events in the table (all tenants)", lambda r: str(r["events"])),
        ("deliveries expected", lambda r: str(r["expected"])),
        ("events delivered (frames)", lambda r: str(r["delivered"])),
        ("missed", lambda r: str(r["missed"])),
        ("wrong deliveries (tenant or type)", lambda r: str(r["wrong"])),
        ("  did.* read by no-dids.read clients",
         lambda r: f"{r['nodids_did']} ({r['nodids_clients']} clients)"),
        ("  frames naming another tenant", lambda r: str(r["other_tenant"])),
        ("  duplicates / out of order", lambda r: f"{r['dups']} / {r['order']}"),
        ("latency p50 (ms)", lambda r: f"{r['p50']:.1f}"),
        ("latency p99 (ms)", lambda r: f"{r['p99']:.1f}"),
        ("latency max (ms)", lambda r: f"{r['max']:.1f}"),
        ("  samples (timed events x clients)", lambda r: str(r["lat_n"])),
        ("DB Questions/s (timed window)", lambda r: f"{r['db']['Questions']:.1f}"),
        ("DB Com_select/s", lambda r: f"{r['db']['Com_select']:.1f}"),
        ("DB Com_insert/update/delete /s",
         lambda r: "/".join(f"{r['db'][k]:.1f}" for k in ("Com_insert", "Com_update",
                                                          "Com_delete"))),
        ("DB Questions/s, Com_select/s with no writer",
         lambda r: f"{r['db_idle']['Questions']:.1f}, {r['db_idle']['Com_select']:.1f}"),
        ("DB Questions while connecting", lambda r: str(r["db_connect"]["Questions"])),
        ("httpd RSS before clients (procs)",
         lambda r: f"{mib(r['mem_before'][1])} ({r['mem_before'][0]})"),
        ("httpd RSS clients connected", lambda r: mib(r["mem_connected"][1])),
        ("httpd RSS after writing", lambda r: mib(r["mem_after"][1])),
        ("httpd Pss before / after writing",
         lambda r: f"{mib(r['mem_before'][2])} / {mib(r['mem_after'][2])}"),
        ("  RSS per stream, connected / after writing",
         lambda r: "-" if r["clients"] < 100 else
                   f"{(r['mem_connected'][1] - r['mem_before'][1]) / r['clients']:.0f} /"
                   f" {(r['mem_after'][1] - r['mem_before'][1]) / r['clients']:.0f} KiB"),
    ]
    w(f"{'':44} {str(a['clients']) + ' clients':>18} {str(b['clients']) + ' clients':>18}")
    for label, f in rows:
        w(f"{label:44} {f(a):>18} {f(b):>18}")
    qa, qb = a["db"]["Questions"], b["db"]["Questions"]
    sa, sb = a["db"]["Com_select"], b["db"]["Com_select"]
    w(f"DB load, {b['clients']} vs {a['clients']} clients, same writer: Questions/s"
      f" {qb:.1f} / {qa:.1f} = {qb / qa:.3f} ({100 * (qb / qa - 1):+.1f}%),"
      f" Com_select/s {sb:.1f} / {sa:.1f} = {sb / sa:.3f} ({100 * (sb / sa - 1):+.1f}%)")
    w("latency = the time a client read the frame minus the time the writer's API call"
      " returned (one monotonic clock): it slightly underestimates commit-to-client by the"
      " commit-to-response time (a negative value: the frame arrived before the response;"
      f" min {b['min']:.1f} ms)")
    for r in runs:
        for key in ("missed_ex", "wrong_ex"):
            if r[key]:
                w(f"  {r['clients']} clients, {key}: {r[key]}")
        if r["errors"]:
            w(f"  {r['clients']} clients, errors: {r['errors']}")
    w(f"httpd error log during the runs: {len(log_lines)} lines at error or worse"
      + ("" if not log_lines else ":"))
    for line in log_lines[:8]:
        w("  " + line[:300])
    return "\n".join(out)


def error_log_lines(path, offset):
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [line for line in text.splitlines()
            if re.search(r":(error|crit|alert|emerg)\]|exit signal|AH00052|AH00060", line)]


def main():
    base, parent = sys.argv[1], int(sys.argv[2])
    m = re.match(r"http://([0-9.]+):(\d+)$", base)
    if not m or m.group(1) != "127.0.0.1":
        sys.exit("events_bench: BASE_URL must be http://127.0.0.1:<port>")
    host, port = m.group(1), int(m.group(2))
    ctx = {
        "rules": type_rules(),
        "rate": env_int("BENCH_EVENT_RATE", 100, 1, 1000),
        "seconds": env_int("BENCH_EVENT_SECONDS", 30, 1, 300),
        "warmup": env_int("BENCH_EVENT_WARMUP", 3, 0, 60),
    }
    clients = env_int("BENCH_EVENT_CLIENTS", 1000, 1, 5000)
    baseline = env_int("BENCH_EVENT_BASELINE_CLIENTS", 10, 1, 5000)
    procs = env_int("BENCH_EVENT_PROCS", 4, 1, 16)
    log_path = os.path.join(os.environ.get("CC_VAR_DIR", ""), "httpd", "logs", "error.log")
    log_offset = os.path.getsize(log_path) if os.path.exists(log_path) else 0

    t = time.monotonic()
    (ctx["tenants"], ctx["admin"], ctx["tokens"], ctx["role_perms"],
     ctx["targets"]) = asyncio.run(setup(host, port, os.environ["CC_BENCH_PASSWORD"]))
    print(f"   set up (role {NODIDS_ROLE}, queues, {len(ctx['tokens'])} logins) in"
          f" {time.monotonic() - t:.0f} s", file=sys.stderr)
    runs = []
    for n in (baseline, clients):
        t = time.monotonic()
        runs.append(run_once(n, procs if n > 50 else 1, host, port, parent, ctx))
        print(f"   {n} clients: run in {time.monotonic() - t:.0f} s", file=sys.stderr)
    print(report(runs, ctx, error_log_lines(log_path, log_offset)))
    bad = any(r["missed"] or r["wrong"] or r["connected"] < r["clients"] or r["other_tenant"]
              for r in runs)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
