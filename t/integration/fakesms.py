"""A fake SMS provider on a loopback port, for t/integration/test_795_sms.py.

It speaks the provider protocol of README "SMS provider protocol": POST <path> with a
JSON body {reference, from, to, body}, answered 200 {"message_id": "fake-<n>"} unless a
script for the message's `to` number says otherwise.  Every request is recorded (path,
headers, parsed body, arrival time), also those it answers with a failure.

Scripts are per destination number, so tests sharing the provider never see each
other's behaviour: provider.script("+4930...", ["500", "500", "ok"]) answers that
number's first two calls with 500 and the rest 200.  Steps:
  "ok"          200 {"message_id": ...}
  "ok-noid"     200 {} (accepted without an id)
  "<status>"    that HTTP status with {"error": "fake <status>"} (e.g. "500", "400")
  "slow:<s>"    wait s seconds, then answer 200 (past the client's timeout: no answer)
  "delay:<s>"   wait s seconds, then answer 200 (within it)
The last step repeats once the script is used up.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeSmsProvider:
    def __init__(self, port, host="127.0.0.1"):
        self.lock = threading.Lock()
        self.requests = []            # dicts: path, headers, body, at, to
        self.scripts = {}             # to -> [steps]
        self.calls = {}               # to -> calls so far
        self.inflight = 0
        self.max_inflight = 0
        self.counter = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):      # quiet
                pass

            def do_POST(self):
                provider._handle(self)

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # ---- control ------------------------------------------------------------------
    def script(self, to, steps):
        with self.lock:
            self.scripts[to] = list(steps)

    def received(self, to=None):
        """The recorded requests (for one destination number)."""
        with self.lock:
            return [r for r in self.requests if to is None or r["to"] == to]

    def reset_inflight(self):
        with self.lock:
            self.max_inflight = 0

    # ---- serving ------------------------------------------------------------------
    def _handle(self, h):
        n = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(n) if n else b""
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError:
            body = None
        to = body.get("to") if isinstance(body, dict) else None
        with self.lock:
            self.requests.append({"path": h.path, "headers": dict(h.headers), "body": body,
                                  "raw": raw, "at": time.monotonic(), "to": to})
            k = self.calls.get(to, 0)
            self.calls[to] = k + 1
            steps = self.scripts.get(to) or ["ok"]
            step = steps[min(k, len(steps) - 1)]
            self.counter += 1
            mid = f"fake-{self.counter}-{time.monotonic_ns()}"
            self.inflight += 1
            self.max_inflight = max(self.max_inflight, self.inflight)
        try:
            status, answer = 200, {"message_id": mid}
            if step == "ok-noid":
                answer = {}
            elif step.startswith("slow:") or step.startswith("delay:"):
                time.sleep(float(step.split(":", 1)[1]))
            elif step != "ok":
                status, answer = int(step), {"error": f"fake {step}"}
            data = json.dumps(answer).encode()
            try:
                h.send_response(status)
                h.send_header("Content-Type", "application/json")
                h.send_header("Content-Length", str(len(data)))
                h.end_headers()
                h.wfile.write(data)
            except OSError:
                pass                       # the client gave up (timeout)
        finally:
            with self.lock:
                self.inflight -= 1
