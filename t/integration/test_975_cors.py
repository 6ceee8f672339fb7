"""CORS for the API (issue 16; API.md "Platform features", README "CORS").

The test profile lists two origins (CCCorsOrigins http://localhost:3000
http://127.0.0.1:5173, httpd-conf/cc-dev.conf.in).  Every /api/v1 route of every module's
route table (read from the C by t/lint/check_openapi.py, not listed here) answers a
preflight from a listed origin before authentication, with the path's methods and the
headers they take; an origin not listed gets nothing (403, no CORS header).
"""

import re
from pathlib import Path

import pytest
import requests

from cchelpers import load_openapi_lint

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = "http://localhost:3000"
OTHER = "https://evil.example"
lint = load_openapi_lint()


def api_paths():
    """{concrete path: set of methods} for every /api/v1 route of the C route tables; a
    capture becomes a value of its type (an unknown id is fine: nothing is read)."""
    routes, problems = lint.parse_routes(str(ROOT))
    assert routes and not problems, problems
    out = {}
    for (method, path), info in routes.items():
        if not path.startswith("/api/v1"):
            continue
        caps = info["captures"]

        def value(m):
            kind = caps.get(m.group(1))
            return ("6d2f6c1e-0b6e-4c59-9d3f-0a1b2c3d4e5f" if kind == "uuid"
                    else "7" if kind == "int" or m.group(1).endswith("id") else "x")
        out.setdefault(re.sub(r"\{(\w+)\}", value, path), set()).add(method)
    return out


def preflight(cc, path, origin, method="GET", headers=None):
    h = {"Origin": origin, "Access-Control-Request-Method": method}
    h.update(headers or {})
    return requests.options(cc.base_url + path, headers=h, timeout=10)


def vary(r):
    return {v.strip().lower() for v in r.headers.get("Vary", "").split(",")}


def test_every_api_route_answers_a_preflight_before_authentication(cc):
    paths = api_paths()
    assert len(paths) > 50
    for path, methods in sorted(paths.items()):
        r = preflight(cc, path, ALLOWED, method=sorted(methods)[0],
                      headers={"Access-Control-Request-Headers": "authorization"})
        where = f"OPTIONS {path}"
        assert r.status_code == 204, f"{where}: {r.status_code} {r.text[:200]}"
        assert r.headers["Access-Control-Allow-Origin"] == ALLOWED, where
        got = {m.strip() for m in r.headers["Access-Control-Allow-Methods"].split(",")}
        assert got == methods | {"OPTIONS"}, f"{where}: {got} != {methods}"
        allow = {h.strip() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
        assert {"Authorization", "X-Request-ID", "X-Tenant-ID"} <= allow, where
        assert ("Content-Type" in allow) == bool(methods & {"POST", "PUT", "PATCH"}), where
        assert ("Idempotency-Key" in allow) == ("POST" in methods), where
        assert ("If-Match" in allow) == bool(methods & {"PUT", "PATCH", "DELETE"}), where
        assert r.headers["Access-Control-Max-Age"] == "600"
        assert "origin" in vary(r), where
        assert "Access-Control-Allow-Credentials" not in r.headers, where
        assert r.content == b""


def test_an_origin_not_listed_gets_no_cors_header(cc, tenant):
    for origin in (OTHER, "http://localhost:3001", "null", "http://localhost:3000/",
                   "HTTP://LOCALHOST:3000.evil"):
        r = preflight(cc, "/api/v1/dids", origin, method="POST")
        assert r.status_code == 403, (origin, r.status_code)
        assert r.json()["error"] == "forbidden"
        assert not any(k.lower().startswith("access-control-") for k in r.headers), origin
        assert "origin" in vary(r)
        r = cc.get("/api/v1/dids", token=tenant.admin_token, headers={"Origin": origin})
        assert r.status_code == 200
        assert "Access-Control-Allow-Origin" not in r.headers
        assert "origin" in vary(r)


def test_a_listed_origin_reads_answers_and_errors(cc, tenant):
    """The answers themselves carry the origin (never *), the headers it may read, and
    Vary: Origin: a success, the 401 the authentication hook gives (through the
    ErrorDocument), a 404 and a 400 of a handler.  The origin compares without case."""
    for origin in (ALLOWED, "http://127.0.0.1:5173", "HTTP://LocalHost:3000"):
        h = {"Origin": origin}
        answers = [
            (cc.get("/api/v1/dids", token=tenant.admin_token, headers=h), 200),
            (requests.get(cc.base_url + "/api/v1/dids", headers=h, timeout=10), 401),
            (cc.get("/api/v1/dids/999999999", token=tenant.admin_token, headers=h), 404),
            (cc.post("/api/v1/dids", token=tenant.admin_token, json={"number": "x"},
                     headers=h), 400),
            (requests.get(cc.base_url + "/api/v1/openapi.json", headers=h, timeout=10), 200),
        ]
        for r, status in answers:
            assert r.status_code == status, (r.url, r.status_code, r.text[:200])
            assert r.headers["Access-Control-Allow-Origin"] == origin, r.url
            expose = {x.strip() for x in r.headers["Access-Control-Expose-Headers"].split(",")}
            assert {"Location", "Retry-After", "X-Request-ID", "ETag", "RateLimit",
                    "RateLimit-Policy"} <= expose
            assert "origin" in vary(r)
            assert "Access-Control-Allow-Credentials" not in r.headers


def test_without_origin_nothing_changes(cc, tenant):
    r = cc.get("/api/v1/dids", token=tenant.admin_token)
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers
    # A plain OPTIONS (no Access-Control-Request-Method) is not a preflight: it goes the
    # usual way (authentication, then 405 with Allow).
    r = requests.options(cc.base_url + "/api/v1/dids", headers={"Origin": ALLOWED},
                         timeout=10)
    assert r.status_code == 401
    r = cc.request("OPTIONS", "/api/v1/dids", token=tenant.admin_token)
    assert r.status_code == 405 and r.headers["Allow"] == "GET, POST"


def test_a_preflight_of_no_route_is_not_answered(cc):
    """A path no route table has (a typo, an id that is not one) is not this layer's:
    authentication answers it, without CORS approval."""
    for path in ("/api/v1/nope", "/api/v1/dids/abc", "/api/v1/dids/7/x"):
        r = preflight(cc, path, ALLOWED)
        assert r.status_code in (401, 404), (path, r.status_code)
        assert r.status_code != 204


def test_chat_widget_cors_is_its_own(cc):
    """/chat/v1 keeps its widget's origins: the API's list does not open it."""
    r = preflight(cc, "/chat/v1/widgets/" + "a" * 32, ALLOWED, method="POST")
    assert r.status_code == 403
    assert "Access-Control-Allow-Origin" not in r.headers


@pytest.mark.parametrize("value, message", [
    ("*", "a wildcard is refused"),
    ("https://dash.example/app", "is not an origin"),
    ("dash.example", "is not an origin"),
])
def test_a_bad_origin_refuses_the_start(cc, value, message):
    conf = re.sub(r"^CCCorsOrigins .*$", f"CCCorsOrigins {value}", cc.conf_text(), flags=re.M)
    rc, out = cc.config_test(conf)
    assert rc != 0 and message in out and "CCCorsOrigins" in out, out
