"""A webhook receiver on a loopback port, for t/integration/test_979_webhooks.py.

It takes README "Webhooks" deliveries: POST <path> with the event as a JSON body, signed
(X-CC-Timestamp, X-CC-Signature).  Every request is recorded (path, headers, raw and
parsed body, arrival time, the status it was answered with, or None when it was left
unanswered past the client's timeout).

Scripts are per path, so tests sharing the receiver never see each other's behaviour:
receiver.script("/h/abc", ["500", "slow:3", "ok"]).  Steps:
  "ok"          204
  "<status>"    that HTTP status (e.g. "500", "410", "302")
  "slow:<s>"    wait s seconds before answering 204 (past the client's timeout: the
                client gives up, and the request counts as unanswered)
  "delay:<s>"   wait s seconds, then answer 204 (within the client's timeout)
The last step repeats once the script is used up; a path without a script is "ok".
"""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def signature(secret, timestamp, body):
    """The v1 signature of a delivery (README "Webhooks")."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


class FakeReceiver:
    def __init__(self, host="127.0.0.1"):
        self.lock = threading.Lock()
        self.requests = []
        self.scripts = {}
        self.calls = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                with receiver.lock:
                    steps = receiver.scripts.get(self.path, ["ok"])
                    i = receiver.calls.get(self.path, 0)
                    receiver.calls[self.path] = i + 1
                    step = steps[min(i, len(steps) - 1)]
                    rec = {"path": self.path, "headers": dict(self.headers), "raw": raw,
                           "body": json.loads(raw) if raw else None, "at": time.time(),
                           "step": step, "answered": None}
                    receiver.requests.append(rec)
                status = 204
                if step.startswith("slow:") or step.startswith("delay:"):
                    time.sleep(float(step.split(":", 1)[1]))
                elif step != "ok":
                    status = int(step)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    if 300 <= status < 400:
                        self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                    self.end_headers()
                    if not step.startswith("slow:"):
                        rec["answered"] = status
                except OSError:
                    pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, path, steps):
        with self.lock:
            self.scripts[path] = list(steps)
            self.calls[path] = 0

    def at(self, path):
        """The requests to path so far, in arrival order."""
        with self.lock:
            return [r for r in self.requests if r["path"] == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
