"""API.md "Operations" and the cross-cutting conventions every response follows:
/healthz, /readyz (also across a MariaDB outage), X-Request-ID, and JSON (not HTML)
errors from the auth hooks.

The outage test stops and restarts the session's MariaDB, so it runs last in this file
(and this file runs last in the suite).
"""

import time

import pytest

from cchelpers import assert_error, wait_until

USERS = "/api/v1/users"


# ---- probes --------------------------------------------------------------------------

def test_healthz(cc):
    r = cc.get("/healthz")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.json() == {"status": "ok"}
    assert r.headers["X-Request-ID"]
    assert r.headers.get("Cache-Control") == "no-store"


def test_readyz(cc):
    r = cc.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == {"status": "ready"}


def test_probes_ignore_tokens_even_bad_ones(cc, tenant):
    for path, body in (("/healthz", {"status": "ok"}), ("/readyz", {"status": "ready"})):
        for token in (None, "garbage", tenant.admin_token):
            r = cc.get(path, token=token)
            assert r.status_code == 200 and r.json() == body, (path, token, r.text)


def test_probe_head_and_wrong_methods(cc):
    r = cc.request("HEAD", "/healthz")
    assert r.status_code == 200 and r.content == b""
    for path in ("/healthz", "/readyz"):
        r = cc.post(path, json={})
        assert_error(r, 405, "method_not_allowed")
        assert r.headers["Allow"] == "GET"


def test_openapi_is_public_json(cc):
    r = cc.get("/api/v1/openapi.json")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    doc = r.json()
    assert doc["openapi"].startswith("3.1")


# ---- X-Request-ID -----------------------------------------------------------------------

@pytest.mark.parametrize("value", ["abc", "A.b-c_9", "x" * 128, "0", "req-" + "9" * 60])
def test_valid_client_request_id_is_echoed(cc, tenant, value):
    h = {"X-Request-ID": value}
    assert cc.get("/healthz", headers=h).headers["X-Request-ID"] == value
    r = cc.get(USERS, token=tenant.admin_token, headers=h)
    assert r.status_code == 200 and r.headers["X-Request-ID"] == value
    # Errors carry it in the header and the body.
    body = assert_error(cc.get(f"{USERS}/999999999", token=tenant.admin_token, headers=h),
                        404, "not_found")
    assert body["request_id"] == value


@pytest.mark.parametrize("value", ["has spaces", "x" * 129, "y" * 200, "semi;colon",
                                   "quote\"s", "slash/es", "ümlaut", "a,b", "<script>"])
def test_invalid_client_request_id_is_replaced(cc, tenant, value):
    h = {"X-Request-ID": value.encode("utf-8")}
    r = cc.get("/healthz", headers=h)
    server = r.headers["X-Request-ID"]
    assert server and server != value
    assert 1 <= len(server) <= 128 and all(c.isalnum() or c in "._-@" for c in server)
    body = assert_error(cc.get(f"{USERS}/999999999", token=tenant.admin_token, headers=h),
                        404, "not_found")
    assert body["request_id"] != value
    body = assert_error(cc.get(USERS, headers=h), 401, "unauthorized")
    assert body["request_id"] != value


def test_server_request_ids_are_unique(cc):
    ids = {cc.get("/healthz").headers["X-Request-ID"] for _ in range(20)}
    assert len(ids) == 20


@pytest.mark.allow_log("AH01631")
def test_request_id_is_on_every_error(cc, tenant):
    _, agent = tenant.make_user(roles=["agent"])
    rid = "err-" + str(int(time.time() * 1000))
    h = {"X-Request-ID": rid}
    cases = [
        (cc.get(USERS, headers=h), 401, "unauthorized"),
        (cc.get(USERS, token="not.a.jwt", headers=h), 401, "unauthorized"),
        (cc.get("/api/v1/audit-logs", token=agent, headers=h), 403, "forbidden"),
        (cc.get("/api/v1/nope", token=tenant.admin_token, headers=h), 404, "not_found"),
        (cc.put(USERS, token=tenant.admin_token, headers=h, json={}), 405,
         "method_not_allowed"),
        (cc.post(USERS, token=tenant.admin_token, headers=h, json=[]), 400,
         "invalid_request"),
        (cc.post(USERS, token=tenant.admin_token, headers={**h, "Content-Type": "text/plain"},
                 data=b"{}"), 415, "unsupported_media_type"),
        (cc.post("/api/v1/auth/login", headers=h, json={"email": "nobody@x.example.com",
                                                         "password": "Wrong-password-1"}),
         401, "invalid_credentials"),
    ]
    for r, status, code in cases:
        body = assert_error(r, status, code)
        assert r.headers["X-Request-ID"] == rid and body["request_id"] == rid


# ---- errors raised in the auth hooks are JSON ----------------------------------------------

@pytest.mark.parametrize("path", [USERS, f"{USERS}/1", "/api/v1/audit-logs",
                                  "/api/v1/audit-logs/1", "/api/v1/nope"])
@pytest.mark.parametrize("auth", [None, "Bearer", "Bearer garbage", "Basic dXNlcjpwYXNz",
                                  "bearer x.y.z"])
def test_auth_errors_are_json_not_html(cc, path, auth):
    headers = {} if auth is None else {"Authorization": auth}
    r = cc.get(path, headers=headers)
    body = assert_error(r, 401, "unauthorized")
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert set(body) <= {"error", "message", "details", "request_id"}
    assert "<html" not in r.text.lower()


def test_unauthenticated_writes_are_401_and_change_nothing(cc, tenant):
    count = cc.get(USERS, token=tenant.admin_token).json()["total"]
    for method, path in (("POST", USERS), ("PATCH", f"{USERS}/{tenant.admin_user_id}"),
                         ("DELETE", f"{USERS}/{tenant.admin_user_id}"),
                         ("PUT", f"{USERS}/{tenant.admin_user_id}/roles")):
        r = cc.request(method, path, json={"roles": []})
        assert_error(r, 401, "unauthorized")
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert cc.get(USERS, token=tenant.admin_token).json()["total"] == count


# ---- MariaDB outage (keep last) ---------------------------------------------------------

def wait_for(predicate, timeout=60.0, step=0.25):
    return wait_until(predicate, timeout, step)


# While the database is down, mod_dbd logs its failed connects (AH00629, AH02655) and the
# failed ping of each dead pooled connection (AH00639), our DB layer that it gave up
# (CC00203) or lost the connection mid-statement (CC00205), and mod_authz_core the denial
# the principal lookup caused (AH01631).  That is what an operator needs to see; nothing
# may crash (AH00052 stays fatal in the gate).
DB_DOWN_LOGS = ("AH00629", "AH02655", "AH00639", "CC00203", "CC00205", "AH01631")


@pytest.mark.allow_log(*DB_DOWN_LOGS)
def test_readyz_follows_the_database(cc, tenant):
    if not all(hasattr(cc, m) for m in ("stop_db", "start_db")):
        pytest.skip("the harness has no stop_db/start_db helpers")
    user, token = tenant.make_user(roles=["agent"])
    assert cc.get("/readyz").status_code == 200
    cc.stop_db()
    try:
        r = cc.get("/readyz")
        body = assert_error(r, 503, "unavailable")
        assert r.headers["Retry-After"].isdigit()
        assert body["request_id"] == r.headers["X-Request-ID"]
        # The process is alive: /healthz needs no database.
        h = cc.get("/healthz")
        assert h.status_code == 200 and h.json() == {"status": "ok"}
        # API calls fail as 503 JSON too, never a crash or HTML.
        r = cc.get(USERS, token=token)
        assert_error(r, 503, "unavailable")
        assert r.headers["Retry-After"].isdigit()
        r = cc.post("/api/v1/auth/login", json={"email": user["email"], "password": "x" * 12})
        assert r.status_code == 503 and r.json()["error"] == "unavailable"
    finally:
        cc.start_db()

    ok = wait_for(lambda: cc.get("/readyz").status_code == 200)
    assert ok, "readyz did not recover after MariaDB came back"
    assert cc.get("/readyz").json() == {"status": "ready"}
    # Pooled connections and their prepared statements are usable again, in every child.
    for _ in range(10):
        r = cc.get(USERS, token=tenant.admin_token)
        assert r.status_code == 200, r.text
    assert cc.login(tenant.admin_email, tenant.admin_password, tenant=tenant.slug)
    r = cc.patch(f"{USERS}/{user['id']}", token=tenant.admin_token, json={"name": "After"})
    assert r.status_code == 200 and r.json()["name"] == "After"
