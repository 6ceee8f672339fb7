#!/usr/bin/python3
"""make bench's live-chat figures (issue 12): visitors and agents chatting at once.

    chat_bench.py BASE_URL HTTPD_PID      (run by t/bench/bench.sh: BENCH_ONLY=chat)

Per run (one per value of BENCH_CHAT_MAX_CONCURRENT, default "10"), in tenant bench-1:

1. set-up through the API: a new widget whose allowed_origins is ORIGIN; the
   BENCH_CHAT_AGENTS (20) agents user9101.. (role agent: chat.handle, events.read) PUT
   online with max_concurrent M by the tenant's admin; BENCH_CHAT_VISITORS (200)
   sessions POSTed to /chat/v1/widgets/{key}/sessions with Origin (assigned at once:
   20 x 10 places are exactly 200);
2. two client processes (asyncio protocols on raw sockets to 127.0.0.1, standard library
   only): the agents' (each opens GET /api/v1/events/stream with its Bearer token, lists
   its sessions through GET /api/v1/chat/sessions and sends one message every
   BENCH_CHAT_INTERVAL (2) s round robin over them through POST
   /api/v1/chat/sessions/{id}/messages) and the visitors' (each opens its SSE
   GET /chat/v1/sessions/{id}/events?token= and sends a message every 2 s through POST
   /chat/v1/sessions/{id}/messages).  BENCH_CHAT_AGENT_EVERY=session makes each agent
   send every 2 s in each of its sessions instead (as many agent messages as visitor
   ones).  Every message's body carries a unique tag and its send time;
3. BENCH_CHAT_WARMUP (5) s of sending, then BENCH_CHAT_DURATION (60) s timed: only
   messages sent then count.  Each side then waits (at most DRAIN_LIMIT s) for the
   other side's last timed messages;
4. every second from the start of the warm-up to the end of the drain, SQL reads every
   agent's active sessions (chat_sessions.active_agent_id) against its
   chat_agents.max_concurrent: the highest ratio ever seen must be <= 1;
5. CPU (utime + stime from /proc) of httpd's process tree, MariaDB and the two client
   processes over the timed window, and the whole machine's (busy, stolen by the
   hypervisor, load average: other work on the host shows there); the clients'
   event-loop lag (a 20 ms timer's lateness: how late the clients read what arrived);
   MariaDB's counters.  Every timed message is written to
   $CC_VAR_DIR/chat_messages_<max_concurrent>.tsv (tag, written, answered, status, read;
   monotonic seconds) for a closer look (kept with BENCH_VAR_DIR).

Latency: the time the owning side's stream read the frame carrying the tag (the agent's
chat.message event on the main stream, the visitor's `message` frame) minus the time the
sender wrote its POST (one monotonic clock for every process of the host).  Printed
beside it: the POST's own time (write to response) and the time from the response to the
frame (the event's way through the poller and the stream: uniform over 0 ..
CCEventPollInterval, which bench.sh's BENCH_CHAT_POLL_INTERVAL sets, plus a few ms).
Lost: a timed message answered 2xx whose frame never came to the other side's stream.
The visitors' frames are also checked for tags of other sessions (wrong deliveries).

Tokens: the access token's expires_in from the login; an agent logs in again (and its
stream, which ends at the token's expiry, resumes with Last-Event-ID) when its token has
less than TOKEN_MARGIN s left.  At the end of a run the visitors close their sessions.
Bounded: set-up, connecting (CONNECT_LIMIT), warm-up + duration (at most 60 + 600 s),
draining (DRAIN_LIMIT); the client processes are killed at the end.
Exit status 1 when the target is missed: a lost message, a wrong delivery, an agent over
capacity, a stream that could not connect, or p99 over BENCH_CHAT_TARGET_MS (250) in
either direction.
"""

import asyncio
import json
import multiprocessing
import os
import random
import re
import sys
import time
from pathlib import Path

import events_bench as eb     # sql, db_status, pct, error_log_lines, the SSE protocol
import procmem

ROOT = Path(__file__).resolve().parents[2]
TENANT = "bench-1"
ORIGIN = "https://shop.chat-bench.example"
AGENT_FIRST = 9101             # user9101@bench-1.example ...
CONNECT_LIMIT = 60.0           # s for every stream to connect
DRAIN_LIMIT = 10.0             # s for the last messages to arrive
TOKEN_MARGIN = 60.0            # s of validity left at which an agent logs in again
CREATE_CONCURRENCY = 8         # session creations in flight during set-up
TAG_RE = re.compile(rb"cb(\d+)([va])(\d+)n(\d+)")


def env_int(name, default, lo, hi):
    v = int(os.environ.get(name, default))
    if not lo <= v <= hi:
        sys.exit(f"chat_bench: {name} must be in {lo}..{hi}")
    return v


# ---- HTTP: events_bench's client (keep-alive, header lines, a send-time hook) ----------

NET_ERRORS = (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError)
bearer = eb.bearer
call = eb.call


def Http(host, port):
    return eb.Http(host, port, agent="chat-bench")


async def login(host, port, email, password):
    """(access token, its expiry on the monotonic clock)."""
    h = Http(host, port)
    try:
        _, doc = await call(h, "POST", "/api/v1/auth/login",
                            body={"email": email, "password": password, "tenant": TENANT})
    finally:
        await h.close()
    return doc["access_token"], time.monotonic() + float(doc["expires_in"])


# ---- set-up (the parent) ------------------------------------------------------------------

async def setup_common(host, port, password, n_agents):
    tenant = eb.sql(f"SELECT id FROM tenants WHERE slug = '{TENANT}'")[0][0]
    emails = [f"user{AGENT_FIRST + i}@{TENANT}.example" for i in range(n_agents)]
    in_list = ",".join(f"'{e}'" for e in emails)
    ids = dict(eb.sql(f"SELECT email, id FROM users WHERE tenant_id = '{tenant}'"
                      f" AND email IN ({in_list})"))
    agents = [{"email": e, "user_id": int(ids[e])} for e in emails]
    admin, admin_exp = await login(host, port, f"admin@{TENANT}.example", password)
    # The agents' logins (bcrypt cost 12, CCBcryptMaxConcurrent 4 at a time).
    sem = asyncio.Semaphore(4)

    async def one(a):
        async with sem:
            a["token"], a["exp"] = await login(host, port, a["email"], password)

    await asyncio.gather(*(one(a) for a in agents))
    return {"tenant": tenant, "admin": admin, "admin_exp": admin_exp, "agents": agents}


async def setup_run(host, port, common, n_visitors, max_concurrent, run_tag):
    """A widget, the agents online with max_concurrent, the visitors' sessions."""
    http = Http(host, port)
    admin = bearer(common["admin"])
    _, w = await call(http, "POST", "/api/v1/chat/widgets", admin,
                      {"name": f"Chat bench {run_tag}", "allowed_origins": [ORIGIN],
                       "greeting": "Hello from the bench"})
    for a in common["agents"]:
        await call(http, "PUT", f"/api/v1/chat/agents/{a['user_id']}", admin,
                   {"status": "online", "max_concurrent": max_concurrent})
    await http.close()
    statuses = {}
    visitors = []
    sem = asyncio.Semaphore(CREATE_CONCURRENCY)
    origin = (f"Origin: {ORIGIN}",)

    async def create(i):
        async with sem:
            h = Http(host, port)
            try:
                status, doc = await call(h, "POST",
                                         f"/chat/v1/widgets/{w['public_key']}/sessions",
                                         origin, {"name": f"Visitor {i}"}, ok=(201,))
            finally:
                await h.close()
            statuses[status] = statuses.get(status, 0) + 1
            visitors.append({"session": int(doc["session_id"]),
                             "token": doc["visitor_token"], "status": doc["status"]})

    await asyncio.gather(*(create(i) for i in range(n_visitors)))
    visitors.sort(key=lambda v: v["session"])
    return w, visitors


async def teardown_run(host, port, visitors):
    """The visitors close their sessions (frees the agents for the next run)."""
    sem = asyncio.Semaphore(CREATE_CONCURRENCY)

    async def close(v):
        async with sem:
            h = Http(host, port)
            try:
                await call(h, "POST", f"/chat/v1/sessions/{v['session']}/close",
                           (f"Origin: {ORIGIN}", f"Authorization: Visitor {v['token']}"),
                           ok=(200, 409))
            finally:
                await h.close()

    await asyncio.gather(*(close(v) for v in visitors))


# ---- capacity, CPU -------------------------------------------------------------------------

def capacity_sample(tenant):
    """(highest active/max_concurrent, agents over capacity, active, waiting)."""
    rows = eb.sql(
        "SELECT COALESCE(MAX(x.n / a.max_concurrent), 0), COALESCE(SUM(x.n > a.max_concurrent), 0),"
        " COALESCE(SUM(x.n), 0),"
        f" (SELECT COUNT(*) FROM chat_sessions WHERE tenant_id = '{tenant}'"
        "   AND waiting_at IS NOT NULL)"
        " FROM (SELECT active_agent_id, COUNT(*) AS n FROM chat_sessions"
        f"       WHERE tenant_id = '{tenant}' AND active_agent_id IS NOT NULL GROUP BY 1) x"
        " JOIN chat_agents a ON a.tenant_id = '" + tenant + "' AND a.user_id = x.active_agent_id")
    r = rows[0]
    return float(r[0]), int(r[1]), int(r[2]), int(r[3])


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    """utime + stime of the processes (all their threads), seconds."""
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / CLK_TCK


def machine_cpu():
    """/proc/stat's first line: (busy, steal, total) jiffies of all cores (busy: user,
    nice, system, irq, softirq)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return v[0] + v[1] + v[2] + v[5] + v[6], v[7], sum(v)


def mariadb_pid():
    try:
        with open(os.path.join(os.environ["CC_VAR_DIR"], "db", "mariadbd.pid")) as f:
            return int(f.read().strip())
    except (KeyError, OSError, ValueError):
        return None


# ---- the client processes ----------------------------------------------------------------

class Stream(eb.Stream):
    """One SSE stream (eb.Stream's chunked decoding and status handling): c["path"] and
    c["headers"] make the request; every frame goes to c["on_frame"](frame, t)."""

    def connection_made(self, transport):
        self.transport = transport
        c = self.c
        head = (f"GET {c['path']} HTTP/1.1\r\nHost: {c['hostport']}\r\n"
                "Accept: text/event-stream\r\nUser-Agent: chat-bench\r\n"
                + "".join(h + "\r\n" for h in c["headers"]()))
        if c["last_id"] is not None:
            head += f"Last-Event-ID: {c['last_id']}\r\n"
        transport.write((head + "\r\n").encode())

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
            # The id line (an event's first, the hello's and a keep-alive's last).
            i = 0 if frame.startswith(b"id: ") else frame.find(b"\nid: ") + 1
            if i > 0 or frame.startswith(b"id: "):
                nl = frame.find(b"\n", i)
                c["last_id"] = int(frame[i + 4:nl if nl >= 0 else len(frame)])
            if frame.startswith(b"retry:"):
                if not self.done.done():
                    self.done.set_result(True)
                continue
            c["frames"] += 1
            c["on_frame"](frame, t)
        del sse[:pos]


async def stream_loop(c, host, port, connected, stopping):
    """Opens c's stream (a non-200 is retried in 0.5-1.5 s) and resumes it when it ends
    before the bench stops it (the agents' at their token's expiry)."""
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + CONNECT_LIMIT
    while not stopping.is_set():
        done = loop.create_future()
        c["lost_waiter"] = loop.create_future()
        try:
            transport, proto = await loop.create_connection(lambda: Stream(c, done),
                                                            host, port)
        except OSError as e:
            c["errors"].append(f"connect: {e}")
            await asyncio.sleep(1.0)
            if time.monotonic() > deadline and not c["opened"]:
                break
            continue
        c["transport"] = transport
        if await done:
            if not c["opened"]:
                c["opened"] = True
                connected.set_result(True)
            await c["lost_waiter"]
            if stopping.is_set():
                break
            c["resumed"] += 1
            if c.get("renew"):
                await c["renew"]()
            continue
        c["stream_status"][proto.status] = c["stream_status"].get(proto.status, 0) + 1
        transport.close()
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(random.uniform(0.5, 1.5))
    if not connected.done():
        connected.set_result(False)


class Sender:
    """A side's POSTs: a keep-alive connection per sender (another one while it is busy),
    each message noted as (tag, t_write, t_response, status, timed).  A connection idle
    for IDLE_MAX is closed, not reused: httpd closes it after KeepAliveTimeout (5 s), and
    a POST on a connection it is closing fails (status 0)."""

    IDLE_MAX = 3.0

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.idle = {}
        self.sent = []
        self.inflight = set()

    async def post(self, key, path, headers, tag, text, timed):
        pool = self.idle.setdefault(key, [])
        now = time.monotonic()
        while pool and now - pool[0][0] > self.IDLE_MAX:
            await pool.pop(0)[1].close()
        http = pool.pop()[1] if pool else Http(self.host, self.port)
        rec = [tag, 0.0, 0.0, 0, timed]

        def on_sent():
            rec[1] = time.monotonic()

        try:
            status, _ = await http.request("POST", path, headers(), {"body": text}, on_sent)
        except NET_ERRORS:
            status = 0
        rec[2] = time.monotonic()
        rec[3] = status
        self.sent.append(tuple(rec))
        if http.writer is not None:
            pool.append((rec[2], http))

    def fire(self, *args):
        t = asyncio.ensure_future(self.post(*args))
        self.inflight.add(t)
        t.add_done_callback(self.inflight.discard)

    async def close(self):
        if self.inflight:
            await asyncio.wait(list(self.inflight), timeout=15)
        for pool in self.idle.values():
            for _, h in pool:
                await h.close()


async def lag_monitor(samples, stopping):
    """How late a 20 ms timer fires: the event loop's delay in reading what arrived."""
    while not stopping.is_set():
        t = time.monotonic()
        await asyncio.sleep(0.02)
        samples.append((time.monotonic() - t - 0.02) * 1000.0)


def worker_main(side, spec, conn, host, port):
    try:
        asyncio.run(worker_async(side, spec, conn, host, port))
    finally:
        conn.close()


async def recv_msg(conn):
    loop = asyncio.get_running_loop()
    got = loop.create_future()
    loop.add_reader(conn.fileno(), lambda: got.done() or got.set_result(conn.recv()))
    try:
        return await got
    finally:
        loop.remove_reader(conn.fileno())


async def worker_async(side, spec, conn, host, port):
    """side "agents" or "visitors": connect the streams, report, wait for "go", send,
    report what was sent, wait for the other side's tags, drain, report receipts."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    run_tag, interval = spec["run_tag"], spec["interval"]
    recv = {}              # tag -> the time the owning side's stream read it
    wrong = [0]            # a visitor's frame carrying another session's tag
    stream_status = {}
    sender = Sender(host, port)
    rnd = random.Random(run_tag * 7 + (side == "agents"))
    clients = []

    if side == "visitors":
        for v in spec["visitors"]:
            sid = str(v["session"]).encode()

            def on_frame(frame, t, sid=sid):
                if not frame.startswith(b"id: ") or b"\nevent: message\n" not in frame:
                    return
                for m in TAG_RE.finditer(frame):
                    if m.group(2) != b"a":
                        continue
                    if m.group(3) != sid:
                        wrong[0] += 1
                    else:
                        recv.setdefault(m.group(0).decode(), t)

            clients.append({"path": f"/chat/v1/sessions/{v['session']}/events?token={v['token']}",
                            "headers": lambda: (f"Origin: {ORIGIN}",),
                            "on_frame": on_frame, "v": v})
    else:
        for a in spec["agents"]:
            a["owned"] = set()

            def on_frame(frame, t, a=a):
                if b"chat.message" not in frame:
                    return
                for m in TAG_RE.finditer(frame):
                    if m.group(2) == b"v" and int(m.group(3)) in a["owned"]:
                        recv.setdefault(m.group(0).decode(), t)

            async def renew(a=a):
                if a["exp"] - time.monotonic() < TOKEN_MARGIN:
                    a["token"], a["exp"] = await login(host, port, a["email"],
                                                       spec["password"])
                    a["logins"] += 1

            a["logins"] = 0
            clients.append({"path": "/api/v1/events/stream",
                            "headers": (lambda a=a: bearer(a["token"])),
                            "on_frame": on_frame, "renew": renew, "a": a})
    for c in clients:
        c.update({"hostport": f"{host}:{port}", "last_id": None, "opened": False,
                  "resumed": 0, "errors": [], "frames": 0, "stream_status": stream_status})
    sem = asyncio.Semaphore(32)
    tasks = []

    async def start(c):
        async with sem:
            fut = loop.create_future()
            tasks.append(asyncio.ensure_future(stream_loop(c, host, port, fut, stopping)))
            await fut

    t0 = time.monotonic()
    await asyncio.gather(*(start(c) for c in clients))
    connect_s = time.monotonic() - t0
    if side == "agents":
        # Each agent's sessions, as its client would list them.
        for c in clients:
            a = c["a"]
            h = Http(host, port)
            _, doc = await call(h, "GET", f"/api/v1/chat/sessions?status=active"
                                f"&agent_id={a['user_id']}&widget_id={spec['widget_id']}"
                                "&page_size=200", bearer(a["token"]))
            await h.close()
            a["sessions"] = sorted(s["id"] for s in doc["data"])
            a["owned"].update(a["sessions"])
    conn.send(("connected", sum(1 for c in clients if c["opened"]), connect_s,
               {c["a"]["user_id"]: len(c["a"]["sessions"]) for c in clients}
               if side == "agents" else None))

    msg = await recv_msg(conn)
    _, t_start, warmup, duration = msg
    t_timed, t_end = t_start + warmup, t_start + warmup + duration
    lag, lag_stop = [], asyncio.Event()
    lag_task = asyncio.ensure_future(lag_monitor(lag, lag_stop))
    seq = [0]

    def text(direction, session):
        seq[0] += 1
        tag = f"cb{run_tag}{direction}{session}n{seq[0]}"
        return tag, f"{tag} sent at {time.monotonic():.6f}"

    async def visitor_sends(v):
        headers = (lambda v=v: (f"Origin: {ORIGIN}", f"Authorization: Visitor {v['token']}"))
        path = f"/chat/v1/sessions/{v['session']}/messages"
        due = t_start + rnd.uniform(0, interval)
        while due < t_end:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            tag, body = text("v", v["session"])
            sender.fire(v["session"], path, headers, tag, body, due >= t_timed)
            due += interval

    async def agent_sends(a, sessions, phase):
        headers = (lambda a=a: bearer(a["token"]))
        due = t_start + phase
        k = 0
        while due < t_end and sessions:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            if a["exp"] - time.monotonic() < TOKEN_MARGIN / 2:
                a["token"], a["exp"] = await login(host, port, a["email"], spec["password"])
                a["logins"] += 1
            s = sessions[k % len(sessions)]
            k += 1
            tag, body = text("a", s)
            sender.fire(a["user_id"], f"/api/v1/chat/sessions/{s}/messages", headers, tag,
                        body, due >= t_timed)
            due += interval

    if side == "visitors":
        jobs = [visitor_sends(c["v"]) for c in clients]
    elif spec["agent_every"] == "session":
        jobs = [agent_sends(c["a"], [s], rnd.uniform(0, interval))
                for c in clients for s in c["a"]["sessions"]]
    else:
        jobs = [agent_sends(c["a"], c["a"]["sessions"], rnd.uniform(0, interval))
                for c in clients]
    await asyncio.gather(*jobs)
    await sender.close()
    # From a thread: the parent may read it a second later, and the loop must go on
    # reading the streams meanwhile (a blocked send held it for up to 1.4 s).
    await loop.run_in_executor(None, conn.send, ("sent", sender.sent))

    _, expected = await recv_msg(conn)
    limit = time.monotonic() + DRAIN_LIMIT
    while time.monotonic() < limit and not expected.issubset(recv.keys()):
        await asyncio.sleep(0.1)
    lag_stop.set()
    await lag_task
    stopping.set()
    for c in clients:
        if c.get("transport"):
            c["transport"].close()
    await asyncio.sleep(0.2)
    for t in tasks:
        t.cancel()
    conn.send(("received", {
        "recv": recv, "wrong": wrong[0], "lag": sorted(lag), "stream_status": stream_status,
        "resumed": sum(c["resumed"] for c in clients),
        "frames": sum(c["frames"] for c in clients),
        "errors": [e for c in clients for e in c["errors"]][:5],
        "logins": sum(c["a"]["logins"] for c in clients) if side == "agents" else 0,
    }))


# ---- one run -----------------------------------------------------------------------------------

def expect_reply(pipe, what, timeout):
    if not pipe.poll(timeout):
        raise RuntimeError(f"a client process did not report ({what})")
    msg = pipe.recv()
    if msg[0] != what:
        raise RuntimeError(f"a client process said {msg[0]}, not {what}")
    return msg


def run_once(host, port, parent, ctx, common, max_concurrent):
    run_tag = random.randrange(10 ** 6)
    t = time.monotonic()
    widget, visitors = asyncio.run(setup_run(host, port, common, ctx["visitors"],
                                             max_concurrent, run_tag))
    waiting_at_start = sum(1 for v in visitors if v["status"] != "active")
    print(f"   run max_concurrent={max_concurrent}: widget and {len(visitors)} sessions"
          f" ({waiting_at_start} waiting) in {time.monotonic() - t:.1f} s", file=sys.stderr)
    agents = [{k: a[k] for k in ("email", "user_id", "token", "exp")} for a in common["agents"]]
    base = {"run_tag": run_tag, "interval": ctx["interval"], "widget_id": widget["id"],
            "password": ctx["password"], "agent_every": ctx["agent_every"]}
    specs = {"agents": {**base, "agents": agents}, "visitors": {**base, "visitors": visitors}}
    pipes, procs = {}, {}
    for side in ("agents", "visitors"):
        a, b = multiprocessing.Pipe()
        p = multiprocessing.Process(target=worker_main, args=(side, specs[side], b, host, port),
                                    daemon=True)
        p.start()
        b.close()
        pipes[side], procs[side] = a, p
    try:
        return run_workers(ctx, common, parent, pipes, procs, visitors, max_concurrent,
                           waiting_at_start)
    finally:
        for p in procs.values():
            p.join(5)
            if p.is_alive():
                p.kill()
                p.join()
        asyncio.run(teardown_run(host, port, visitors))


def run_workers(ctx, common, parent, pipes, procs, visitors, max_concurrent, waiting_at_start):
    connected = {}
    for side, a in pipes.items():
        connected[side] = expect_reply(a, "connected", CONNECT_LIMIT + 60)
    per_agent = connected["agents"][3]
    warmup, duration = ctx["warmup"], ctx["duration"]
    t_start = time.monotonic() + 0.5
    for a in pipes.values():
        a.send(("go", t_start, warmup, duration))
    # Every second until the drain ends: capacity; the timed window's CPU and counters.
    samples = []
    httpd_pids = procmem.tree(parent)
    db_pid = mariadb_pid()
    cpu0 = cpu1 = q0 = q1 = None
    t_timed, t_end = t_start + warmup, t_start + warmup + duration
    while time.monotonic() < t_end + 1.0:
        samples.append(capacity_sample(common["tenant"]))
        now = time.monotonic()
        if cpu0 is None and now >= t_timed:
            cpu0 = (now, cpu_seconds(httpd_pids), cpu_seconds([db_pid] if db_pid else []),
                    cpu_seconds([procs["agents"].pid]), cpu_seconds([procs["visitors"].pid]))
            m0 = machine_cpu()
            q0 = eb.db_status()
        if cpu1 is None and now >= t_end:
            cpu1 = (now, cpu_seconds(httpd_pids), cpu_seconds([db_pid] if db_pid else []),
                    cpu_seconds([procs["agents"].pid]), cpu_seconds([procs["visitors"].pid]))
            m1 = machine_cpu()
            q1 = eb.db_status()
            with open("/proc/loadavg") as f:
                loadavg = f.read().split()[0]
        time.sleep(max(0.0, 1.0 - (time.monotonic() - now)))
    sent = {}
    for side, a in pipes.items():
        sent[side] = expect_reply(a, "sent", 60)[1]
    # Each side waits for the other's messages that were answered 2xx.
    ok_tags = {side: {s[0] for s in rows if 200 <= s[3] < 300} for side, rows in sent.items()}
    pipes["agents"].send(("expect", ok_tags["visitors"]))
    pipes["visitors"].send(("expect", ok_tags["agents"]))
    drain_until = time.monotonic() + DRAIN_LIMIT
    while time.monotonic() < drain_until and not all(p.poll() for p in pipes.values()):
        samples.append(capacity_sample(common["tenant"]))
        time.sleep(1.0)
    got = {side: expect_reply(a, "received", DRAIN_LIMIT + 30)[1] for side, a in pipes.items()}

    def direction(sender_side, receiver_side):
        rows = [s for s in sent[sender_side] if s[4]]
        recv = got[receiver_side]["recv"]
        ok = [s for s in rows if 200 <= s[3] < 300]
        lat = sorted((recv[s[0]] - s[1]) * 1000.0 for s in ok if s[0] in recv)
        after = sorted((recv[s[0]] - s[2]) * 1000.0 for s in ok if s[0] in recv)
        api = sorted((s[2] - s[1]) * 1000.0 for s in ok)
        errors = {}
        for s in sent[sender_side]:
            if not 200 <= s[3] < 300:
                errors[s[3]] = errors.get(s[3], 0) + 1
        return {"sent": len(rows), "ok": len(ok), "delivered": len(lat),
                "lost": len(ok) - len(lat), "lat": lat, "api": api, "after": after,
                "errors": errors, "rate": len(rows) / duration}

    dirs = {"visitor -> agent": direction("visitors", "agents"),
            "agent -> visitor": direction("agents", "visitors")}
    # Every timed message for a closer look: <var dir>/chat_messages_<max_concurrent>.tsv
    # (tag, written, answered, status, read by the other side or empty; monotonic s).
    if os.environ.get("CC_VAR_DIR"):
        path = os.path.join(os.environ["CC_VAR_DIR"], f"chat_messages_{max_concurrent}.tsv")
        with open(path, "w") as f:
            for sender_side, receiver_side in (("visitors", "agents"), ("agents", "visitors")):
                recv = got[receiver_side]["recv"]
                for tag, t_w, t_r, status, timed in sent[sender_side]:
                    if timed:
                        f.write(f"{tag}\t{t_w:.6f}\t{t_r:.6f}\t{status}\t"
                                f"{recv[tag]:.6f}\n" if tag in recv else
                                f"{tag}\t{t_w:.6f}\t{t_r:.6f}\t{status}\t\n")
    window = cpu1[0] - cpu0[0] if cpu0 and cpu1 else float("nan")
    cpu = ([(b - a) / window * 100.0 for a, b in zip(cpu0[1:], cpu1[1:])]
           if cpu0 and cpu1 else [float("nan")] * 4)
    # The whole machine over the window (other work on the host competes for the cores):
    # busy and stolen (by the hypervisor) as % of one core, like the processes' figures.
    machine = ([(m1[0] - m0[0]) / (m1[2] - m0[2]) * 100.0 * os.cpu_count(),
                (m1[1] - m0[1]) / (m1[2] - m0[2]) * 100.0 * os.cpu_count(), loadavg]
               if cpu0 and cpu1 else [float("nan"), float("nan"), "-"])
    loads = sorted(per_agent.values())
    return {
        "max_concurrent": max_concurrent, "visitors": len(visitors),
        "agents": len(common["agents"]), "waiting_at_start": waiting_at_start,
        "per_agent": f"{loads[0]}..{loads[-1]}" if loads else "-",
        "connected": {side: c[1] for side, c in connected.items()},
        "connect_s": max(c[2] for c in connected.values()),
        "dirs": dirs,
        "cap_ratio": max((s[0] for s in samples), default=float("nan")),
        "cap_over": max((s[1] for s in samples), default=0),
        "cap_samples": len(samples),
        "active_min": min((s[2] for s in samples), default=0),
        "waiting_max": max((s[3] for s in samples), default=0),
        "cpu": cpu, "window": window, "machine": machine,
        "db": {k: (q1[k] - q0[k]) / window for k in eb.DB_STATUS} if q0 and q1 else {},
        "wrong": got["visitors"]["wrong"],
        "lag": {side: got[side]["lag"] for side in got},
        "frames": {side: got[side]["frames"] for side in got},
        "resumed": sum(got[side]["resumed"] for side in got),
        "relogins": got["agents"]["logins"],
        "stream_status": {side: got[side]["stream_status"] for side in got},
        "errors": [e for side in got for e in got[side]["errors"]][:5],
    }


# ---- report ------------------------------------------------------------------------------------

def ms(v):
    return f"{v:.1f}" if v == v else "-"


def report(runs, ctx, log_lines):
    out = []
    w = out.append
    every = ("each agent every {0} s round robin over its sessions" if ctx["agent_every"] == "agent"
             else "each agent every {0} s in each of its sessions").format(ctx["interval"])
    w(f"== live chat (t/bench/chat_bench.py): {ctx['visitors']} visitors, {ctx['agents']}"
      f" agents; each visitor sends every {ctx['interval']} s, {every};"
      f" {ctx['warmup']} s warm-up + {ctx['duration']} s timed")
    w(f"   httpd: {os.environ.get('BENCH_CHAT_HTTPD', '?')}, CCEventPollInterval"
      f" {os.environ.get('BENCH_CHAT_POLL_INTERVAL') or '100 (default)'} ms")
    for r in runs:
        w(f"-- max_concurrent {r['max_concurrent']} ({r['agents']} x {r['max_concurrent']}"
          f" places for {r['visitors']} chats; sessions per agent {r['per_agent']},"
          f" waiting at start {r['waiting_at_start']}); streams connected:"
          f" agents {r['connected']['agents']}/{r['agents']},"
          f" visitors {r['connected']['visitors']}/{r['visitors']} in {r['connect_s']:.1f} s")
        w(f"{'direction':18} {'sent':>6} {'deliv.':>6} {'lost':>5} {'p50':>7} {'p95':>7}"
          f" {'p99':>7} {'max':>7}   {'POST p50/p99':>14}   {'resp->frame p50/p99':>19}"
          "  HTTP errors")
        for name, d in r["dirs"].items():
            lat, api, after = d["lat"], d["api"], d["after"]
            w(f"{name:18} {d['sent']:6} {d['delivered']:6} {d['lost']:5}"
              f" {ms(eb.pct(lat, 50)):>7} {ms(eb.pct(lat, 95)):>7} {ms(eb.pct(lat, 99)):>7}"
              f" {ms(lat[-1] if lat else float('nan')):>7}"
              f"   {ms(eb.pct(api, 50)) + ' / ' + ms(eb.pct(api, 99)):>14}"
              f"   {ms(eb.pct(after, 50)) + ' / ' + ms(eb.pct(after, 99)):>19}"
              f"  {d['errors'] or 'none'}")
        w(f"   (ms; sent = timed messages, {r['dirs']['visitor -> agent']['rate']:.1f}/s and"
          f" {r['dirs']['agent -> visitor']['rate']:.1f}/s; latency = POST written to the"
          " other side's stream reading the frame)")
        w(f"   agents over capacity: {r['cap_over']} (highest active/max_concurrent"
          f" {r['cap_ratio']:.2f} in {r['cap_samples']} samples, 1/s); fewest active"
          f" {r['active_min']}, most waiting {r['waiting_max']}; wrong deliveries"
          f" {r['wrong']}")
        c = r["cpu"]
        mc = r["machine"]
        w(f"   CPU over the timed window (% of one core): httpd {c[0]:.0f}, MariaDB"
          f" {c[1]:.0f}, agents' client {c[2]:.0f}, visitors' client {c[3]:.0f}; the"
          f" machine's {os.cpu_count()} cores: busy {mc[0]:.0f} (other work"
          f" {max(0.0, mc[0] - sum(c)):.0f}), stolen {mc[1]:.0f}, load average {mc[2]}")
        lag = r["lag"]
        w("   client event-loop lag p50/p99/max (ms): agents "
          f"{ms(eb.pct(lag['agents'], 50))}/{ms(eb.pct(lag['agents'], 99))}/"
          f"{ms(lag['agents'][-1] if lag['agents'] else float('nan'))}, visitors "
          f"{ms(eb.pct(lag['visitors'], 50))}/{ms(eb.pct(lag['visitors'], 99))}/"
          f"{ms(lag['visitors'][-1] if lag['visitors'] else float('nan'))};"
          f" frames read: agents {r['frames']['agents']}, visitors {r['frames']['visitors']}")
        if r["db"]:
            d = r["db"]
            w(f"   DB per s: Questions {d['Questions']:.0f}, Com_select {d['Com_select']:.0f},"
              f" insert/update/delete {d['Com_insert']:.0f}/{d['Com_update']:.0f}/"
              f"{d['Com_delete']:.0f}, commits {d['Com_commit']:.0f}")
        extra = []
        if r["resumed"]:
            extra.append(f"streams resumed {r['resumed']}")
        if r["relogins"]:
            extra.append(f"agent logins again {r['relogins']}")
        for side, st in r["stream_status"].items():
            if st:
                extra.append(f"{side}' stream answers (retried) {st}")
        if r["errors"]:
            extra.append(f"errors {r['errors']}")
        if extra:
            w("   " + "; ".join(extra))
    w(f"target: p99 <= {ctx['target']} ms both ways, no agent over capacity, nothing lost")
    w(f"httpd error log during the runs: {len(log_lines)} lines at error or worse"
      + ("" if not log_lines else ":"))
    for line in log_lines[:8]:
        w("  " + line[:300])
    return "\n".join(out)


def missed(r, ctx):
    return (r["cap_over"] > 0 or r["cap_ratio"] > 1.0 or r["wrong"]
            or r["connected"]["agents"] < r["agents"]
            or r["connected"]["visitors"] < r["visitors"]
            or any(d["lost"] or not d["lat"] or eb.pct(d["lat"], 99) > ctx["target"]
                   for d in r["dirs"].values()))


def main():
    base, parent = sys.argv[1], int(sys.argv[2])
    m = re.match(r"http://([0-9.]+):(\d+)$", base)
    if not m or m.group(1) != "127.0.0.1":
        sys.exit("chat_bench: BASE_URL must be http://127.0.0.1:<port>")
    host, port = m.group(1), int(m.group(2))
    every = os.environ.get("BENCH_CHAT_AGENT_EVERY", "agent")
    if every not in ("agent", "session"):
        sys.exit("chat_bench: BENCH_CHAT_AGENT_EVERY must be agent or session")
    ctx = {
        "visitors": env_int("BENCH_CHAT_VISITORS", 200, 1, 2000),
        "agents": env_int("BENCH_CHAT_AGENTS", 20, 1, 200),
        "interval": env_int("BENCH_CHAT_INTERVAL", 2, 1, 60),
        "warmup": env_int("BENCH_CHAT_WARMUP", 5, 0, 60),
        "duration": env_int("BENCH_CHAT_DURATION", 60, 1, 600),
        "target": env_int("BENCH_CHAT_TARGET_MS", 250, 1, 100000),
        "agent_every": every,
        "password": os.environ["CC_BENCH_PASSWORD"],
    }
    caps = [int(x) for x in os.environ.get("BENCH_CHAT_MAX_CONCURRENT", "10").split()]
    if not caps or any(not 1 <= c <= 20 for c in caps):
        sys.exit("chat_bench: BENCH_CHAT_MAX_CONCURRENT: values in 1..20")
    log_path = os.path.join(os.environ.get("CC_VAR_DIR", ""), "httpd", "logs", "error.log")
    log_offset = os.path.getsize(log_path) if os.path.exists(log_path) else 0

    t = time.monotonic()
    common = asyncio.run(setup_common(host, port, ctx["password"], ctx["agents"]))
    print(f"   set up ({len(common['agents'])} agent logins) in {time.monotonic() - t:.0f} s",
          file=sys.stderr)
    runs = []
    for cap in caps:
        # The admin's token is used between runs: log in again when it runs short.
        if common["admin_exp"] - time.monotonic() < ctx["warmup"] + ctx["duration"] + 120:
            common["admin"], common["admin_exp"] = asyncio.run(
                login(host, port, f"admin@{TENANT}.example", ctx["password"]))
        t = time.monotonic()
        runs.append(run_once(host, port, parent, ctx, common, cap))
        print(f"   run max_concurrent={cap} in {time.monotonic() - t:.0f} s", file=sys.stderr)
    print(report(runs, ctx, eb.error_log_lines(log_path, log_offset)))
    return 1 if any(missed(r, ctx) for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
