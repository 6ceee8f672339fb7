"""Assertions the integration tests share."""

import importlib.util
import json
import os
import re
import secrets
import signal
import time
from datetime import datetime, timedelta
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pymysql


def conf_with(cc, directive, value):
    """The rendered httpd config with directive's one line set to value (for
    cc.config_test)."""
    text, n = re.subn(rf"^\s*{directive}\b.*$", f"{directive} {value}", cc.conf_text(),
                      flags=re.M)
    assert n == 1, directive
    return text


def detail_fields(body):
    """The fields named by an error envelope's details."""
    return [d["field"] for d in body.get("details", [])]


def assert_error(r, status, code, field=None):
    """r is API.md's JSON error envelope with this status and code, its request_id is
    the X-Request-ID header, and (when field is given) a details entry names field."""
    assert r.status_code == status, f"{r.status_code} {r.text[:500]}"
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    body = r.json()
    assert body["error"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    assert body["request_id"] == r.headers["X-Request-ID"]
    if field is not None:
        assert field in detail_fields(body), body
    return body


# The page/page_size values every list endpoint refuses (with the parameter they name).
BAD_PAGING_QUERIES = [
    ("?page=0", "page"),
    ("?page_size=0", "page_size"),
    ("?page_size=201", "page_size"),
]


def assert_bad_query(cc, path, token, query, field):
    """GET path + query is a 400 invalid_request naming field."""
    assert_error(cc.get(path + query, token=token), 400, "invalid_request", field)


def assert_405(cc, token, cases):
    """Each (method, path, allow[, json body]) is a 405 with exactly that Allow header."""
    for method, path, allow, *body in cases:
        r = cc.request(method, path, token=token, json=body[0] if body else None)
        assert_error(r, 405, "method_not_allowed")
        assert r.headers["Allow"] == allow


def assert_unauthorized(r):
    """r is a 401 that asks for a bearer token."""
    assert_error(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def audit_rows(cc, tenant_id, action, entity_id):
    """The audit_logs rows of one action on one entity, oldest first (from the database)."""
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT * FROM audit_logs WHERE tenant_id = %s AND action = %s"
                    " AND entity_id = %s ORDER BY id", (tenant_id, action, str(entity_id)))
        return list(cur.fetchall())


def get_page(cc, path, token, assert_item, headers=None):
    """GET a list endpoint: 200, API.md's page envelope, every item checked by
    assert_item; returns the body."""
    r = cc.get(path, token=token, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"data", "total", "page", "page_size"}, body
    for item in body["data"]:
        assert_item(item)
    return body


def load_openapi_lint():
    """t/lint/check_openapi.py as a module (its deref and schema validator)."""
    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location(
        "check_openapi", root / "t" / "lint" / "check_openapi.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def openapi_checker(cc):
    """check(r, method, path, status, code=None): r has that status, and the served
    OpenAPI document documents it for that operation, with its headers and a body that
    validates against the documented schema (or no body); returns the JSON body."""
    lint = load_openapi_lint()
    doc = cc.get("/api/v1/openapi.json").json()

    def check(r, method, path, status, code=None):
        assert r.status_code == status, f"{method} {r.url}: {r.status_code} {r.text[:300]}"
        op = doc["paths"][path][method.lower()]
        assert str(status) in op["responses"], f"{method} {path} {status} undocumented"
        resp = lint.deref(doc, op["responses"][str(status)])
        for name in resp.get("headers", {}):
            assert name in r.headers, f"{method} {path} {status}: no {name}"
        schema = (resp.get("content") or {}).get("application/json", {}).get("schema")
        if schema is None:
            assert r.content == b""
            return None
        body = r.json()
        problems = lint.validate_instance(doc, schema, body, f"{method} {path} {status}")
        assert not problems, "\n".join(problems)
        if code:
            assert body["error"] == code
        return body

    return check


def db_rows(cc, sql, args=()):
    """Every row of a query on the test database, as dicts."""
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        return list(cur.fetchall())


def db_exec(cc, sql, args=()):
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute(sql, args)


def tenant_rows(cc, table, tenant):
    """Every row of one tenant-owned table of ours for tenant, by id."""
    return db_rows(cc, f"SELECT * FROM {table} WHERE tenant_id = %s ORDER BY id",
                   (tenant.id,))


def users_state(cc, tenant_id):
    """What a users/roles request could change in a tenant: its user rows (password
    hash and soft delete included), role assignments and audit entry ids."""
    users = db_rows(cc, "SELECT id, email, name, status, password_hash, deleted_at,"
                        " updated_at FROM users WHERE tenant_id = %s ORDER BY id",
                    (tenant_id,))
    roles = db_rows(cc, "SELECT user_id, role_id FROM user_roles WHERE tenant_id = %s"
                        " ORDER BY 1, 2", (tenant_id,))
    audits = db_rows(cc, "SELECT id FROM audit_logs WHERE tenant_id = %s ORDER BY id",
                     (tenant_id,))
    return users, roles, audits


def _decoded(rows, key):
    for row in rows:
        row[key] = json.loads(row[key]) if row[key] else None
    return rows


def entity_audit(cc, tenant, entity_type):
    """The tenant's audit entries on one entity type, oldest first, changes decoded."""
    return _decoded(db_rows(cc, "SELECT action, entity_type, entity_id, changes, actor_id"
                                " FROM audit_logs WHERE tenant_id = %s AND entity_type = %s"
                                " ORDER BY id", (tenant.id, entity_type)), "changes")


def entity_events(cc, tenant, entity_type):
    """The tenant's events on one entity type, oldest first, data decoded."""
    return _decoded(db_rows(cc, "SELECT type, entity_type, entity_id, data FROM events"
                                " WHERE tenant_id = %s AND entity_type = %s ORDER BY id",
                            (tenant.id, entity_type)), "data")


def endpoint_move_writer(tenant, ep_id, user_id):
    """An endpoint PATCH to user_id, statement by statement (cc_endpoints.c): share-lock
    that user, lock the endpoint (hold), then move it (then)."""
    hold = [("SELECT 1 FROM users WHERE tenant_id = %s AND id = %s LOCK IN SHARE MODE",
             (tenant.id, user_id)),
            ("SELECT 1 FROM endpoints WHERE tenant_id = %s AND id = %s FOR UPDATE",
             (tenant.id, ep_id))]
    then = [("UPDATE endpoints SET user_id = %s WHERE tenant_id = %s AND id = %s",
             (user_id, tenant.id, ep_id))]
    return hold, then


def innodb_deadlocks(cc):
    """The deadlocks the test server has detected since it started."""
    (row,) = db_rows(cc, "SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'")
    return int(row["Value"])


def race(cc, hold, request, then, settle=0.5, end="COMMIT", deadlocks=0):
    """Interleave a request with another writer's transaction, on a connection of its own:
    BEGIN and run hold (a list of (sql, args)); send request() in a thread and give it
    settle seconds to block on those locks; run then, and end (COMMIT, or ROLLBACK).
    Returns (problems, response): problems lists what then/end raised (a deadlock victim
    shows up here) and the server's count of deadlocks meanwhile unless it is `deadlocks`
    (a request that lost one is run again by the dispatcher and may still succeed, so its
    answer alone does not show a bad lock order), empty when the other writer got through
    with the deadlocks expected."""
    problems = []
    before = innodb_deadlocks(cc)
    conn = cc.db()
    try:
        with conn.cursor() as cur, ThreadPoolExecutor(max_workers=1) as pool:
            cur.execute("BEGIN")
            for sql, args in hold:
                cur.execute(sql, args)
            pending = pool.submit(request)
            time.sleep(settle)
            for sql, args in list(then) + [(end, ())]:
                try:
                    cur.execute(sql, args)
                except pymysql.MySQLError as e:
                    problems.append(f"{sql[:40]}: {e}")
                    break
            response = pending.result(timeout=60)
    finally:
        conn.close()
    seen = innodb_deadlocks(cc) - before
    if seen != deadlocks:
        problems.append(f"{seen} deadlock(s) during the race, not {deadlocks}")
    return problems, response


def did_churn(base_url, token, number, clients=4, seconds=5.0):
    """clients threads create and delete one DID number for `seconds` (issue 8's hostile
    run, finding 13), each on a keep-alive session: POST the number; on 201 DELETE that
    DID; on 409 (taken) look the number up and DELETE whatever DID holds it.  Returns a
    Counter of (method, status) and the DIDs each answer said were created and deleted
    ({"created": [ids], "deleted": [ids]})."""
    import collections
    import threading

    import requests

    counts = collections.Counter()
    done = {"created": [], "deleted": []}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    auth = {"Authorization": f"Bearer {token}"}
    url = base_url + "/api/v1/dids"

    def note(method, r, key=None, did=None):
        with lock:
            counts[(method, r.status_code)] += 1
            if key:
                done[key].append(did)

    def delete(s, did):
        r = s.delete(f"{url}/{did}", headers=auth, timeout=30)
        note("DELETE", r, "deleted" if r.status_code == 204 else None, did)

    def client(_):
        with requests.Session() as s:
            while time.monotonic() < deadline:
                r = s.post(url, json={"number": number}, headers=auth, timeout=30)
                if r.status_code == 201:
                    did = r.json()["id"]
                    note("POST", r, "created", did)
                    delete(s, did)
                    continue
                note("POST", r)
                if r.status_code == 409:
                    r = s.get(url, params={"q": number}, headers=auth, timeout=30)
                    note("GET", r)
                    for d in r.json().get("data", []) if r.status_code == 200 else []:
                        delete(s, d["id"])

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client, range(clients)))
    return counts, done


def did_churn_problems(cc, tenant_id, number, done):
    """What is inconsistent in the database after did_churn (empty when nothing): the
    tenant's DID counter against its rows, the number held by the DID last created and
    not deleted, one did.create/did.delete audit entry and event per 201/204 answer."""
    problems = []
    rows = db_rows(cc, "SELECT id, number FROM dids WHERE tenant_id = %s", (tenant_id,))
    (t,) = db_rows(cc, "SELECT dids_count FROM tenants WHERE id = %s", (tenant_id,))
    alive = sorted(set(done["created"]) - set(done["deleted"]))
    if t["dids_count"] != len(rows):
        problems.append(f"dids_count {t['dids_count']} but {len(rows)} rows")
    if sorted(r["id"] for r in rows) != alive or any(r["number"] != number for r in rows):
        problems.append(f"rows {rows} but the answers leave {alive}")
    if len(done["deleted"]) != len(set(done["deleted"])):
        problems.append("a DID was deleted twice")
    for what, verb, table, column in (("created", "create", "audit_logs", "action"),
                                      ("deleted", "delete", "audit_logs", "action"),
                                      ("created", "created", "events", "type"),
                                      ("deleted", "deleted", "events", "type")):
        ids = db_rows(cc, f"SELECT entity_id FROM {table} WHERE tenant_id = %s"
                          f" AND {column} = %s", (tenant_id, f"did.{verb}"))
        got = sorted(int(r["entity_id"]) for r in ids)
        if got != sorted(done[what]):
            problems.append(f"{table} did.{verb}: {len(got)} rows for {len(done[what])}"
                            f" answers")
    return problems


# ---- CDRs ----

CDR_BASE = datetime(2026, 11, 2, 8, 0, 0)


def insert_cdr(cc, tenantid=None, accountcode=None, start=CDR_BASE, billsec=30, duration=40,
               disposition="ANSWERED", **extra):
    """One row as cdr_adaptive_odbc would insert it; returns its id."""
    uid = extra.pop("uniqueid", f"{start.timestamp():.0f}.{secrets.randbelow(10**6)}")
    row = {"tenantid": tenantid, "accountcode": accountcode, "start": start,
           "answer": (start + timedelta(seconds=duration - billsec)
                      if disposition == "ANSWERED" else datetime(1970, 1, 1)),
           "end": start + timedelta(seconds=duration), "duration": duration,
           "billsec": billsec, "disposition": disposition, "uniqueid": uid,
           "linkedid": extra.pop("linkedid", uid), "src": extra.pop("src", "+4930123456"),
           "dst": extra.pop("dst", "1001"), "clid": extra.pop("clid", '"Caller" <+4930123456>')}
    row.update(extra)
    cols = ", ".join(f"`{k}`" for k in row)
    marks = ", ".join(["%s"] * len(row))
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute(f"INSERT INTO cdr ({cols}) VALUES ({marks})", tuple(row.values()))
        return cur.lastrowid


# ---- files the API serves (recordings, voicemail audio) ----

def assert_sole_object(cc, r, base, token):
    """r created the collection base's one object: its Location, its get and the list
    all give the same object."""
    obj = r.json()
    assert r.headers["Location"] == f"{base}/{obj['id']}"
    g = cc.get(f"{base}/{obj['id']}", token=token)
    assert g.status_code == 200 and g.json() == obj
    page = cc.get(base, token=token).json()
    assert page["total"] == 1 and page["data"] == [obj]


def assert_file_served(a, data, ctype):
    """a is a whole file answered as httpd serves one: data, its Content-Type and
    Content-Length, validators, Accept-Ranges."""
    assert a.status_code == 200, (a.status_code, a.text[:300])
    assert a.content == data
    assert a.headers["Content-Type"] == ctype
    assert int(a.headers["Content-Length"]) == len(data)
    assert a.headers["ETag"] and a.headers["Last-Modified"]
    assert a.headers["Accept-Ranges"] == "bytes"


def assert_ranges_served(fetch, data, ctype):
    """fetch(headers) answers the file data (at least 110 bytes) of ctype: single ranges
    (206 with Content-Range), unsatisfiable ones (httpd's 416 in the API's envelope, with
    Content-Range: bytes */length), several (multipart/byteranges), a Range that is no
    byte range and a stale If-Range (the whole file)."""
    n = len(data)
    cases = [("bytes=0-0", data[0:1], f"bytes 0-0/{n}"),
             ("bytes=-10", data[-10:], f"bytes {n - 10}-{n - 1}/{n}"),
             ("bytes=100-", data[100:], f"bytes 100-{n - 1}/{n}"),
             (f"bytes={n - 1}-", data[-1:], f"bytes {n - 1}-{n - 1}/{n}"),
             ("bytes=10-19", data[10:20], f"bytes 10-19/{n}"),
             (f"bytes=-{n * 2}", data, f"bytes 0-{n - 1}/{n}"),
             (f"bytes=0-{n * 2}", data, f"bytes 0-{n - 1}/{n}")]
    for rng, want, content_range in cases:
        a = fetch({"Range": rng})
        assert a.status_code == 206, (rng, a.status_code)
        assert a.content == want, rng
        assert a.headers["Content-Range"] == content_range
        assert a.headers["Content-Type"] == ctype
        assert int(a.headers["Content-Length"]) == len(want)

    # httpd's own 416, in the API's error envelope (cc_http_guard_register), telling the
    # file's length as RFC 9110 asks (Content-Range: bytes */length).
    for rng in (f"bytes={n}-", f"bytes={n + 5}-{n + 9}"):
        a = fetch({"Range": rng})
        assert_error(a, 416, "invalid_request")
        assert a.headers["Content-Range"] == f"bytes */{n}", rng

    a = fetch({"Range": "bytes=0-9,100-109"})
    assert a.status_code == 206
    multipart = a.headers["Content-Type"]
    assert multipart.startswith("multipart/byteranges; boundary=")
    boundary = multipart.split("boundary=", 1)[1].encode()
    parts = [p for p in a.content.split(b"--" + boundary) if p.strip(b"\r\n-")]
    assert len(parts) == 2
    for part, (start, end) in zip(parts, [(0, 9), (100, 109)]):
        head, body = part.split(b"\r\n\r\n", 1)
        head = head.lower()
        assert f"content-range: bytes {start}-{end}/{n}".encode() in head
        assert f"content-type: {ctype}".encode() in head
        assert body == data[start:end + 1] + b"\r\n"

    a = fetch({"Range": "pages=1-2"})
    assert a.status_code == 200 and a.content == data
    a = fetch({"Range": "bytes=0-0", "If-Range": '"nope"'})
    assert a.status_code == 200 and a.content == data


def assert_validators_served(fetch, data, ctype):
    """fetch(headers, method) answers the file data of ctype: If-None-Match with its ETag
    is 304, another tag the file, HEAD the headers alone."""
    etag = fetch(None, "GET").headers["ETag"]
    b = fetch({"If-None-Match": etag}, "GET")
    assert b.status_code == 304 and b.content == b""
    # httpd makes the tag weak (W/) while the file's mtime is under a second old, so
    # the two answers may differ only in that prefix (If-None-Match compares weakly).
    assert b.headers["ETag"].removeprefix("W/") == etag.removeprefix("W/")
    c = fetch({"If-None-Match": '"other"'}, "GET")
    assert c.status_code == 200 and c.content == data
    h = fetch(None, "HEAD")
    assert h.status_code == 200 and h.content == b""
    assert int(h.headers["Content-Length"]) == len(data)
    assert h.headers["Content-Type"] == ctype


def kill_children(parent_pid):
    """SIGKILL every child of the httpd parent (as a crash would end them); their pids.
    (httpd logs nothing for a SIGKILLed child: ap_process_child_status passes SIGKILL
    over, so no AH00052 follows.)"""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent_pid:
            pids.append(int(stat.parent.name))
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return pids


def wait_until(fn, timeout=10.0, step=0.2):
    """fn()'s first truthy value within timeout seconds, else its last value (for the
    tests that wait on a background job, a stream or a restart)."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """GET /metrics's samples: {(name, frozenset of (label, value)): float}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = frozenset((k, v.encode().decode("unicode_escape"))
                           for k, v in _LABEL.findall(m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def metrics(cc):
    r = cc.get("/metrics")
    assert r.status_code == 200, r.text
    return parse_metrics(r.text)


def metric(samples, name, **labels):
    """One sample's value (0 when the series is not there yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)
