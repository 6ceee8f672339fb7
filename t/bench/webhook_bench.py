#!/usr/bin/python3
"""make bench's webhook figures (issue 16): delivery latency and throughput.

    webhook_bench.py     (run by t/bench/bench.sh: BENCH_ONLY=webhooks; needs CC_BUILD_DIR)

It starts its own environment (t/integration/ccenv.py: a private MariaDB and httpd on
loopback ports, the test profile: 2 children, the delivery job in each every 250 ms,
CCWebhookAllowNetworks 127.0.0.0/8) and a receiver (t/integration/fakehook.py,
answering 204 at once), then:
  latency     one subscription to tag.*; BENCH_WH_RATE (50) tag creates a second through
              the API for BENCH_WH_SECONDS (10) s; per event, the time the receiver got it
              minus the time its create was answered (both time.time() of this process);
  throughput  BENCH_WH_BURST (2000) events written at once (one INSERT ... SELECT), to 1
              and then 4 subscriptions: the time until every call was answered.
Bounded: each phase waits 60 s at most for its deliveries.  Exit status 1 when an event
is missing, out of order or delivered twice.
"""

import os
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "t" / "integration"))

from ccenv import CCEnv, Tenant  # noqa: E402
from fakehook import FakeReceiver  # noqa: E402

RATE = int(os.environ.get("BENCH_WH_RATE", "50"))
SECONDS = int(os.environ.get("BENCH_WH_SECONDS", "10"))
BURST = int(os.environ.get("BENCH_WH_BURST", "2000"))


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * q / 100))] if v else float("nan")


def subscribe(env, t, rcv, path, events=("did.*",)):
    r = env.post("/api/v1/webhooks", token=t.admin_token,
                 json={"url": rcv.url(path), "events": list(events)})
    r.raise_for_status()
    return r.json()["id"]


def wait_for(fn, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if fn():
            return True
        time.sleep(0.02)
    return fn()


def check(rcv, path, want):
    """Every wanted event id once, in order."""
    got = [int(r["body"]["id"]) for r in rcv.at(path)]
    return got == want


def latency(env, t, rcv):
    path = "/lat"
    subscribe(env, t, rcv, path, events=("tag.*",))
    time.sleep(2)
    made = {}
    lock = threading.Lock()
    start = time.monotonic()
    for i in range(RATE * SECONDS):
        due = start + i / RATE
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        r = env.post("/api/v1/tags", token=t.admin_token,
                     json={"name": "b" + secrets.token_hex(8)})
        if r.status_code == 201:
            with lock:
                made[str(r.json()["id"])] = time.time()
    wait_for(lambda: len(rcv.at(path)) >= len(made))
    lat, seen = [], set()
    for req in rcv.at(path):
        ent = req["body"]["entity_id"]
        if req["body"]["type"] == "tag.created" and ent in made and ent not in seen:
            seen.add(ent)
            lat.append(1000 * (req["at"] - made[ent]))
    ids = [int(r["body"]["id"]) for r in rcv.at(path)]
    ok = len(seen) == len(made) and ids == sorted(set(ids))
    print(f"latency: {len(made)} tags at {RATE}/s, {len(lat)} delivered: p50 {pct(lat, 50):.0f} ms"
          f", p90 {pct(lat, 90):.0f} ms, p99 {pct(lat, 99):.0f} ms, max"
          f" {max(lat) if lat else float('nan'):.0f} ms, mean"
          f" {statistics.mean(lat) if lat else float('nan'):.0f} ms"
          f"{'' if ok else '  MISSING, OUT OF ORDER OR TWICE'}")
    return ok


def burst(env, t, rcv, subs):
    paths = [f"/burst{subs}/{i}" for i in range(subs)]
    for p in paths:
        subscribe(env, t, rcv, p)
    time.sleep(2)
    with env.db() as c, c.cursor() as cur:
        t0 = time.time()
        cur.execute("INSERT INTO events (tenant_id, type, entity_type, entity_id, data)"
                    " SELECT %s, 'did.updated', 'did', seq, '{}' FROM seq_1_to_%s"
                    % ("%s", int(BURST)), (t.id,))
        c.commit()
        cur.execute("SELECT id FROM events WHERE tenant_id = %s AND type = 'did.updated'"
                    " ORDER BY id DESC LIMIT %s" % ("%s", int(BURST)), (t.id,))
        want = sorted(r["id"] for r in cur.fetchall())
    wait_for(lambda: all(len(rcv.at(p)) >= BURST for p in paths))
    took = max(max((r["at"] for r in rcv.at(p)), default=t0) for p in paths) - t0
    calls = sum(len(rcv.at(p)) for p in paths)
    ok = all(check(rcv, p, want) for p in paths)
    print(f"throughput: {BURST} events to {subs} subscription(s): {calls} calls in"
          f" {took:.2f} s = {calls / took:.0f} deliveries/s"
          f"{'' if ok else '  MISSING, OUT OF ORDER OR TWICE'}")
    return ok


def main():
    env = CCEnv()
    env.start()
    rcv = FakeReceiver()
    try:
        print("== webhooks (issue 16): the delivery job, 2 httpd children, a receiver on"
              " loopback answering 204")
        ok = latency(env, Tenant(env), rcv)
        ok = burst(env, Tenant(env), rcv, 1) and ok
        ok = burst(env, Tenant(env), rcv, 4) and ok
        return 0 if ok else 1
    finally:
        rcv.close()
        env.stop()


if __name__ == "__main__":
    sys.exit(main())
