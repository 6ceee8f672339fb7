#!/usr/bin/python3
"""make bench's live-calls figure (issue 14): the latency from the fake Asterisk's event
to an SSE client, at BENCH_LIVE_RATE (50) calls/s.

    live_bench.py        (run by t/bench/bench.sh: BENCH_ONLY=live; needs CC_BUILD_DIR)

It starts its own environment (t/integration/ccenv.py: a private MariaDB and httpd on
loopback ports) and a second httpd node whose link (CCAsteriskManager) goes to the fake
AMI of t/integration/fakeami.py, then: a tenant with a queue of BENCH_LIVE_AGENTS (60)
agents' endpoints and a DID; one SSE client (GET /api/v1/events/stream on the node, the
tenant admin's token) reading every frame and noting time.monotonic() when it read it;
and a scheduler making BENCH_LIVE_RATE calls a second for BENCH_LIVE_SECONDS (20) s,
each: a caller on the DID joins the queue (QueueCallerJoin -> call.queued), an agent's
leg rings 100 ms later (DialBegin -> call.ringing), answers 300 ms later (DialEnd ANSWER
-> call.answered), and the caller hangs up 1-3 s later (Hangup -> call.hangup).

Latency: the time the client read a call.* frame minus the time the fake sent the AMI
event it comes from (both time.monotonic() of this process: the fake runs in it).  It
covers the link reading and applying the event (its transaction), the commit, the
event stream's poller (one read every CCEventPollInterval, 100 ms) and the frame.
Bounded: the calls' seconds plus 15 s of draining; the environment is stopped at the end.
Exit status 1 when a call event is missing or came twice.
"""

import heapq
import json
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "t" / "integration"))

from ccenv import CCEnv, Tenant  # noqa: E402
from fakeami import FakeAmi  # noqa: E402

RATE = float(os.environ.get("BENCH_LIVE_RATE", "50"))
SECONDS = float(os.environ.get("BENCH_LIVE_SECONDS", "20"))
AGENTS = int(os.environ.get("BENCH_LIVE_AGENTS", "60"))
DRAIN = 15.0


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))] if s else float("nan")


class Reader(threading.Thread):
    """One SSE client: (type, call_id, read at) of every call.* frame."""

    def __init__(self, url, token):
        super().__init__(daemon=True)
        self.url, self.token = url, token
        self.got = []
        self.ready = threading.Event()
        self.stop = False

    def run(self):
        r = requests.get(self.url, headers={"Authorization": f"Bearer {self.token}",
                                            "Accept": "text/event-stream"},
                         stream=True, timeout=(5, 30))
        r.raise_for_status()
        self.ready.set()
        try:
            self.read(r)
        except requests.RequestException:
            pass                    # the stream ends with the environment

    def read(self, r):
        etype = None
        for line in r.iter_lines(chunk_size=1, decode_unicode=True):
            now = time.monotonic()
            if self.stop:
                break
            if line.startswith("event:"):
                etype = line[6:].strip()
            elif line.startswith("data:") and etype and etype.startswith("call."):
                data = json.loads(line[5:])
                # (the frame's data is the event: {id, type, ..., data: the call})
                inner = data.get("data") if isinstance(data.get("data"), dict) else data
                self.got.append((etype, inner.get("call_id"), now))
            elif line == "":
                etype = None


def main():
    env = CCEnv()
    env.start()
    ami = FakeAmi(port=0, username="ccbench", secret="bench-secret-1234", ring_ms=20)
    node = None
    try:
        cred = env.tmpdir / "ami-credential"
        cred.write_text("ccbench:bench-secret-1234\n")
        os.chmod(cred, 0o600)
        node = env.start_second_httpd(
            name="httpd-ami",
            extra_conf=(f"CCAsteriskManager 127.0.0.1:{ami.port}\n"
                        f'CCAsteriskCredentialFile "{cred}"\nCCAsteriskNode bench\n'))
        ami.wait_logged_in(1, timeout=20)
        t = Tenant(env)
        adm = t.admin_token

        def post(path, body):
            r = env.post(path, token=adm, json=body)
            assert r.status_code == 201, r.text
            return r.json()

        queue = post("/api/v1/queues", {"name": "Bench live"})
        eps = []
        for i in range(AGENTS):
            u, _ = t.make_user(roles=["agent"]) if i < 5 else (None, None)
            ep = post("/api/v1/endpoints", {"extension": f"{7000 + i}",
                                            **({"user_id": u["id"]} if u else {})})
            post(f"/api/v1/queues/{queue['id']}/members", {"endpoint_id": ep["id"]})
            ami.endpoint(ep["sip_username"], tenantid=t.id, accountcode=t.id)
            eps.append(ep["sip_username"])
        did = post("/api/v1/dids", {"number": "+4930555" + f"{random.randrange(10**6):06d}",
                                    "destination_type": "queue",
                                    "destination_id": queue["id"]})
        reader = Reader(node.base_url + "/api/v1/events/stream", adm)
        reader.start()
        reader.ready.wait(10)
        time.sleep(0.5)

        # The scheduler: (when, seq, step, call state).
        plan, seq, calls = [], 0, []
        start = time.monotonic() + 0.5
        n = int(RATE * SECONDS)
        for i in range(n):
            c = {"i": i}
            calls.append(c)
            t0 = start + i / RATE
            for dt, step in ((0.0, "join"), (0.1, "ring"), (0.4, "answer"),
                             (0.4 + random.uniform(1.0, 3.0), "hangup")):
                heapq.heappush(plan, (t0 + dt, seq, step, c))
                seq += 1
        lateness = []
        while plan:
            when, _, step, c = heapq.heappop(plan)
            now = time.monotonic()
            if when > now:
                time.sleep(when - now)
            lateness.append(time.monotonic() - when)
            if step == "join":
                c["call"] = ami.inbound_call(tenantid=t.id, accountcode=t.id,
                                             caller_num=f"+4930{c['i']:07d}",
                                             did=did["number"].lstrip("+"))
                c["call"].enter_queue(queue["asterisk_name"])
            elif step == "ring":
                c["leg"] = c["call"].ring_agent(eps[c["i"] % len(eps)])
            elif step == "answer":
                c["leg"].answer()
            else:
                c["call"].hangup(by="caller")
        deadline = time.monotonic() + DRAIN
        want = 4 * n
        while time.monotonic() < deadline and len(reader.got) < want:
            time.sleep(0.2)
        reader.stop = True

        # When the fake sent each AMI event a call event comes from.
        sent = {}
        for e in ami.events():
            name = e.get("Event")
            if name == "QueueCallerJoin":
                sent[("call.queued", e.get("Uniqueid"))] = e.at
            elif name == "DialBegin" and e.get("DestLinkedid"):
                sent.setdefault(("call.ringing", e.get("DestLinkedid")), e.at)
            elif name == "DialEnd" and e.get("DialStatus") == "ANSWER":
                sent.setdefault(("call.answered", e.get("DestLinkedid")), e.at)
            elif name == "Hangup" and e.get("Uniqueid") == e.get("Linkedid"):
                sent[("call.hangup", e.get("Uniqueid"))] = e.at
        lat, seen, dup = {}, set(), 0
        for etype, call_id, at in reader.got:
            key = (etype, call_id)
            if key in seen:
                dup += 1
                continue
            seen.add(key)
            if key in sent:
                lat.setdefault(etype, []).append((at - sent[key]) * 1000.0)
        missing = len(set(sent) - seen)
        every = [v for vs in lat.values() for v in vs]
        print(f"live calls: {n} calls at {RATE:g}/s for {SECONDS:g} s, {AGENTS} agents'"
              f" endpoints; {len(reader.got)} call.* frames read, {missing} missing,"
              f" {dup} twice; the scheduler ran late by p99"
              f" {pct(lateness, 99) * 1000:.1f} ms")
        print(f"{'event':<15} {'n':>6} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for name in ("call.queued", "call.ringing", "call.answered", "call.hangup", "all"):
            v = every if name == "all" else lat.get(name, [])
            print(f"{name:<15} {len(v):>6} {pct(v, 50):>8.1f} {pct(v, 90):>8.1f}"
                  f" {pct(v, 99):>8.1f} {max(v) if v else float('nan'):>8.1f}")
        if every:
            print(f"mean {statistics.mean(every):.1f} ms")
        return 1 if missing or dup else 0
    finally:
        if node:
            node.stop()
        ami.close()
        env.stop()


if __name__ == "__main__":
    sys.exit(main())
