"""API.md "Auth": login, refresh rotation and reuse, logout, me, password change,
throttling, and the CCBearer AuthType's answers to bad tokens (mod_cc_auth)."""

import base64
import hashlib
import hmac
import json
import re
import secrets
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cchelpers import conf_with

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"
PASSWORD = "/api/v1/auth/password"

USER_KEYS = {"id", "tenant_id", "email", "name", "status", "roles", "extension",
             "created_at", "updated_at", "last_login_at"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


# ---- helpers ---------------------------------------------------------------------

def assert_error(r, status, code):
    """A JSON error envelope with this status and code; request_id matches the header."""
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    body = r.json()
    assert body["error"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    assert body["request_id"] == r.headers["X-Request-ID"]
    return body


def detail_fields(body):
    return [d["field"] for d in body.get("details", [])]


def login(cc, email, password, tenant=None):
    body = {"email": email, "password": password}
    if tenant is not None:
        body["tenant"] = tenant
    return cc.post(LOGIN, json=body)


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_json(obj):
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def jwt_parts(token):
    h, p, _ = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (json.loads(base64.urlsafe_b64decode(pad(h))),
            json.loads(base64.urlsafe_b64decode(pad(p))))


def jwt_secret(cc):
    """The HS256 secret, as mod_cc_auth reads it (one trailing newline stripped)."""
    path = getattr(cc, "jwt_secret_file", None)
    if not path:
        m = re.search(r'^\s*CCAuthJWTKeyFile\s+"?([^"\n]+)"?', cc.conf_text(), re.M)
        assert m, "CCAuthJWTKeyFile not in the rendered config"
        path = m.group(1)
    data = Path(path).read_bytes()
    if data.endswith(b"\n"):
        data = data[:-1]
        if data.endswith(b"\r"):
            data = data[:-1]
    return data


def forge(secret, claims, alg="HS256", header=None):
    """A JWT signed with secret by alg (HS256/HS384/HS512)."""
    header = header or {"alg": alg, "typ": "JWT"}
    signing_input = f"{b64url_json(header)}.{b64url_json(claims)}"
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384,
              "HS512": hashlib.sha512}[alg]
    sig = hmac.new(secret, signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64url(sig)}"


def claims_for(user, **over):
    now = int(time.time())
    c = {"sub": str(user["id"]), "tid": user["tenant_id"], "iss": "callcenter",
         "iat": now, "exp": now + 300, "jti": secrets.token_hex(8)}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def user_with_password(tenant, roles=("agent",), status="active", email=None):
    user, token = tenant.make_user(roles=list(roles), status=status, email=email)
    return user, tenant.passwords[user["id"]], token


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def age_rotation(cc, token, seconds=60):
    """Move the token's rotation `seconds` into the past: a replay now comes after
    CCRefreshReuseLeeway (10 s in the dev config) without the test waiting for it."""
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("UPDATE refresh_tokens SET rotated_at = rotated_at - INTERVAL %s SECOND "
                    "WHERE token_hash = %s AND rotated_at IS NOT NULL",
                    (seconds, token_hash(token)))
        assert cur.rowcount == 1


def live_tokens_of_family(cc, tenant, family):
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM refresh_tokens WHERE tenant_id = %s "
                    "AND family_id = %s AND revoked_at IS NULL", (tenant.id, family))
        return cur.fetchone()["n"]


# ---- login -----------------------------------------------------------------------

def test_login_returns_a_token_pair_and_the_user(cc, tenant):
    user, password, _ = user_with_password(tenant)
    r = login(cc, user["email"], password)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token", "user"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    u = body["user"]
    assert set(u) == USER_KEYS
    assert u["id"] == user["id"] and u["tenant_id"] == tenant.id
    assert u["email"] == user["email"] and u["status"] == "active"
    assert u["roles"] == ["agent"]
    assert RFC3339.match(u["last_login_at"]) and RFC3339.match(u["created_at"])

    header, claims = jwt_parts(body["access_token"])
    assert header["alg"] == "HS256"
    assert claims["sub"] == str(user["id"]) and claims["tid"] == tenant.id
    assert claims["iss"] == "callcenter"
    assert claims["exp"] - claims["iat"] == 900
    assert abs(claims["iat"] - time.time()) < 60
    assert isinstance(claims["jti"], str) and claims["jti"]
    # Signed with the configured secret: re-signing the same content gives the token.
    signing_input, sig = body["access_token"].rsplit(".", 1)
    expect = hmac.new(jwt_secret(cc), signing_input.encode(), hashlib.sha256).digest()
    assert sig == b64url(expect)

    # The refresh token is stored only as its SHA-256.
    rt = body["refresh_token"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", rt)
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT tenant_id, user_id, token_hash FROM refresh_tokens "
                    "WHERE token_hash = %s", (hashlib.sha256(rt.encode()).hexdigest(),))
        row = cur.fetchone()
        assert row and row["tenant_id"] == tenant.id and row["user_id"] == user["id"]
        cur.execute("SELECT COUNT(*) AS n FROM refresh_tokens WHERE token_hash = %s", (rt,))
        assert cur.fetchone()["n"] == 0

    # The access token works.
    r = cc.get(ME, token=body["access_token"])
    assert r.status_code == 200 and r.json()["id"] == user["id"]


def test_wrong_password_and_unknown_email_answer_the_same(cc, tenant):
    user, _, _ = user_with_password(tenant)
    wrong = login(cc, user["email"], "not-the-password")
    unknown = login(cc, f"nobody-{secrets.token_hex(4)}@nowhere.example.com", "whatever1234")
    for r in (wrong, unknown):
        assert_error(r, 401, "invalid_credentials")
    a, b = wrong.json(), unknown.json()
    a.pop("request_id")
    b.pop("request_id")
    assert a == b


def test_disabled_user_gets_403_only_with_the_right_password(cc, tenant):
    user, password, _ = user_with_password(tenant, status="disabled")
    assert_error(login(cc, user["email"], password), 403, "account_disabled")
    assert_error(login(cc, user["email"], "wrong-password"), 401, "invalid_credentials")


# mod_authz_core logs every authz denial (Require cc-tenant) at error level.
@pytest.mark.allow_log("AH01631")
def test_suspended_tenant_blocks_login_tokens_and_refresh(cc, tenant):
    user, password, _ = user_with_password(tenant)
    pair = cc.login(user["email"], password)
    r = cc.patch(f"/api/v1/tenants/{tenant.id}", token=cc.admin_token(),
                 json={"status": "suspended"})
    assert r.status_code == 200, r.text

    assert_error(login(cc, user["email"], password), 403, "tenant_suspended")
    assert_error(cc.get(ME, token=pair["access_token"]), 403, "tenant_suspended")
    assert_error(cc.post(REFRESH, json={"refresh_token": pair["refresh_token"]}),
                 403, "tenant_suspended")
    # A wrong password still says nothing about the tenant.
    assert_error(login(cc, user["email"], "wrong-password"), 401, "invalid_credentials")


def test_email_in_two_tenants_needs_the_tenant(cc, tenant, tenant2):
    email = f"shared-{secrets.token_hex(4)}@example.com"
    u1, p1, _ = user_with_password(tenant, email=email)
    u2, p2, _ = user_with_password(tenant2, email=email)

    body = assert_error(login(cc, email, p1), 400, "invalid_request")
    assert body["details"] == [{"field": "tenant",
                                "issue": "required: this email exists in several tenants"}]

    r = login(cc, email, p1, tenant=tenant.slug)
    assert r.status_code == 200, r.text
    assert r.json()["user"]["id"] == u1["id"] and r.json()["user"]["tenant_id"] == tenant.id
    r = login(cc, email, p2, tenant=tenant2.id)
    assert r.status_code == 200, r.text
    assert r.json()["user"]["id"] == u2["id"] and r.json()["user"]["tenant_id"] == tenant2.id
    # One tenant's password is not the other's.
    assert_error(login(cc, email, p1, tenant=tenant2.slug), 401, "invalid_credentials")
    # A tenant that does not exist is just a failed login.
    assert_error(login(cc, email, p1, tenant="no-such-tenant-x"), 401, "invalid_credentials")
    body = assert_error(login(cc, email, p1, tenant="Not A Slug!"), 400, "invalid_request")
    assert detail_fields(body) == ["tenant"]


def test_an_email_in_several_tenants_is_no_oracle(cc, tenant, tenant2):
    """Issue 8 #9: "tenant required" is told only to a right password; a wrong one gets
    the answer of an unknown email (401), after throttling, like any failed login."""
    email = f"oracle-{secrets.token_hex(4)}@example.com"
    user_with_password(tenant, email=email)
    user_with_password(tenant2, email=email)
    body = assert_error(login(cc, email, "wrong-password-123"), 401, "invalid_credentials")
    assert body["message"] == assert_error(
        login(cc, f"nobody-{secrets.token_hex(4)}@example.com", "wrong-password-123"),
        401, "invalid_credentials")["message"]


def test_login_naming_a_tenant_finds_its_user_among_many(cc, tenant):
    """Issue 8 #9: the lookup across tenants stopped at 100: a user of the 101st tenant
    with that email could not log in even naming the tenant."""
    email = f"many-{secrets.token_hex(4)}@example.com"
    _, password, _ = user_with_password(tenant, email=email)
    tag = secrets.token_hex(3)
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT password_hash FROM users WHERE tenant_id = %s AND email = %s",
                    (tenant.id, email))
        hashed = cur.fetchone()["password_hash"]
        rows = [(f"{secrets.token_hex(4)}-0000-4000-8000-{secrets.token_hex(6)}",
                 f"many-{tag}-{i}") for i in range(101)]
        cur.executemany("INSERT INTO tenants (id, name, slug) VALUES (%s, %s, %s)",
                        [(tid, slug, slug) for tid, slug in rows])
        cur.executemany("INSERT INTO users (tenant_id, email, name, password_hash)"
                        " VALUES (%s, %s, 'Many', %s)",
                        [(tid, email, hashed) for tid, _ in rows])
    last_id, last_slug = rows[-1]
    r = login(cc, email, password, tenant=last_slug)
    assert r.status_code == 200, r.text
    assert r.json()["user"]["tenant_id"] == last_id
    r = login(cc, email, password, tenant=last_id)
    assert r.status_code == 200, r.text


def test_throttling_locks_one_tenant_and_email_only(cc, tenant, tenant2):
    email = f"victim-{secrets.token_hex(4)}@example.com"
    user, password, _ = user_with_password(tenant, email=email)
    _, password2, _ = user_with_password(tenant2, email=email)
    other, other_password, _ = user_with_password(tenant)

    for _ in range(5):
        assert_error(login(cc, email, "wrong-password", tenant=tenant.slug),
                     401, "invalid_credentials")
    for pw in (password, "wrong-password"):
        r = login(cc, email, pw, tenant=tenant.id)
        assert_error(r, 429, "too_many_requests")
        assert 1 <= int(r.headers["Retry-After"]) <= 900

    # Another email in the same tenant, and the same email in another tenant, still work.
    assert login(cc, other["email"], other_password).status_code == 200
    assert login(cc, email, password2, tenant=tenant2.slug).status_code == 200

    # Once the window has passed the right password works again (and clears the count).
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("UPDATE login_throttle SET window_start = window_start - INTERVAL 901 "
                    "SECOND WHERE tenant_key = %s AND email = %s", (tenant.id, email))
        assert cur.rowcount == 1
    r = login(cc, email, password, tenant=tenant.slug)
    assert r.status_code == 200, r.text
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM login_throttle WHERE tenant_key = %s "
                    "AND email = %s", (tenant.id, email))
        assert cur.fetchone()["n"] == 0


# ---- refresh and logout ------------------------------------------------------------

def test_refresh_rotates_and_reuse_revokes_the_family(cc, tenant):
    user, password, _ = user_with_password(tenant)
    first = cc.login(user["email"], password)
    other_family = cc.login(user["email"], password)

    r = cc.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200, r.text
    second = r.json()
    assert set(second) == {"access_token", "token_type", "expires_in", "refresh_token",
                           "user"}
    assert second["refresh_token"] != first["refresh_token"]
    assert second["user"]["id"] == user["id"] and second["expires_in"] == 900
    assert cc.get(ME, token=second["access_token"]).status_code == 200

    # Past the reuse leeway the rotated token is dead, and presenting it again revokes
    # its whole family.
    age_rotation(cc, first["refresh_token"])
    assert_error(cc.post(REFRESH, json={"refresh_token": first["refresh_token"]}),
                 401, "unauthorized")
    assert_error(cc.post(REFRESH, json={"refresh_token": second["refresh_token"]}),
                 401, "unauthorized")
    # Another login's family is untouched.
    r = cc.post(REFRESH, json={"refresh_token": other_family["refresh_token"]})
    assert r.status_code == 200, r.text


def test_concurrent_refreshes_of_one_token_keep_every_tab_signed_in(cc, tenant):
    """Issue 8 #11: six tabs refreshing one token at once all get a working pair (one
    rotation, five siblings inside CCRefreshReuseLeeway), the winner's included; they
    used to get 401 and revoke the family, the winner's new token with it.  A replay
    after the leeway still revokes the family."""
    user, password, _ = user_with_password(tenant)
    rt = cc.login(user["email"], password)["refresh_token"]
    family = family_of(cc, rt)
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: cc.post(REFRESH, json={"refresh_token": rt}),
                                range(6)))
    assert [r.status_code for r in answers] == [200] * 6, [r.text for r in answers]
    pairs = [r.json() for r in answers]
    assert len({p["refresh_token"] for p in pairs}) == 6
    assert all(family_of(cc, p["refresh_token"]) == family for p in pairs)
    for p in pairs:
        assert cc.get(ME, token=p["access_token"]).status_code == 200
    # Every tab's token rotates on (the winner's too).
    nexts = []
    for p in pairs:
        r = cc.post(REFRESH, json={"refresh_token": p["refresh_token"]})
        assert r.status_code == 200, r.text
        nexts.append(r.json()["refresh_token"])
    # One rotation and five siblings, then six rotations: all audited as auth.refresh.
    rows = audit_rows(cc, tenant_id=tenant.id, entity_id=str(user["id"]),
                      action="auth.refresh")
    assert len(rows) == 12
    assert sum(1 for a in rows if json.loads(a["changes"]).get("reuse_leeway")) == 5

    # The original token replayed after the leeway: reuse, the whole family goes.
    age_rotation(cc, rt)
    assert_error(cc.post(REFRESH, json={"refresh_token": rt}), 401, "unauthorized")
    assert live_tokens_of_family(cc, tenant, family) == 0
    for t in nexts:
        assert_error(cc.post(REFRESH, json={"refresh_token": t}), 401, "unauthorized")


def test_a_lost_answer_is_retried_within_the_leeway(cc, tenant):
    """A client whose refresh answer was lost retries with the same token: inside the
    leeway it gets a sibling; the successor it never saw keeps working too."""
    user, password, _ = user_with_password(tenant)
    rt = cc.login(user["email"], password)["refresh_token"]
    lost = cc.post(REFRESH, json={"refresh_token": rt}).json()["refresh_token"]
    r = cc.post(REFRESH, json={"refresh_token": rt})
    assert r.status_code == 200, r.text
    assert cc.post(REFRESH, json={"refresh_token": r.json()["refresh_token"]}
                   ).status_code == 200
    assert cc.post(REFRESH, json={"refresh_token": lost}).status_code == 200
    # A revoked family gives no siblings, leeway or not.
    assert cc.post(LOGOUT, json={"refresh_token": rt}).status_code == 204
    assert_error(cc.post(REFRESH, json={"refresh_token": rt}), 401, "unauthorized")


def test_logout_ends_the_login_so_the_leeway_cannot_revive_it(cc, tenant):
    """Logging out the newest token revokes its family: the token it was rotated from
    seconds ago cannot mint a sibling through the reuse leeway (found by review)."""
    user, password, _ = user_with_password(tenant)
    rt0 = cc.login(user["email"], password)["refresh_token"]
    rt1 = cc.post(REFRESH, json={"refresh_token": rt0}).json()["refresh_token"]
    assert cc.post(LOGOUT, json={"refresh_token": rt1}).status_code == 204
    assert_error(cc.post(REFRESH, json={"refresh_token": rt0}), 401, "unauthorized")
    assert live_tokens_of_family(cc, tenant, family_of(cc, rt0)) == 0


def test_the_leeway_gives_a_bounded_number_of_siblings(cc, tenant):
    """Inside the leeway one rotated token gives at most 8 siblings (tabs of a browser);
    the next presentation is a replay: 401 and the family is revoked."""
    user, password, _ = user_with_password(tenant)
    rt = cc.login(user["email"], password)["refresh_token"]
    family = family_of(cc, rt)
    assert cc.post(REFRESH, json={"refresh_token": rt}).status_code == 200
    for _ in range(8):
        r = cc.post(REFRESH, json={"refresh_token": rt})
        assert r.status_code == 200, r.text
    assert_error(cc.post(REFRESH, json={"refresh_token": rt}), 401, "unauthorized")
    assert live_tokens_of_family(cc, tenant, family) == 0


def test_a_refresh_family_ends_at_its_maximum_age(cc, tenant):
    """Issue 8 #10: rotations no longer extend a login forever: a successor expires at
    the latest CCRefreshFamilyMaxAge (90 days in the dev config) after the login, and a
    family past it refreshes no more."""
    max_age = 7776000
    user, password, _ = user_with_password(tenant)
    rt = cc.login(user["email"], password)["refresh_token"]
    family = family_of(cc, rt)
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("UPDATE refresh_tokens SET family_started_at = UTC_TIMESTAMP() - "
                    "INTERVAL %s SECOND WHERE tenant_id = %s AND family_id = %s",
                    (max_age - 120, tenant.id, family))
    r = cc.post(REFRESH, json={"refresh_token": rt})
    assert r.status_code == 200, r.text
    rt2 = r.json()["refresh_token"]
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), expires_at) AS left_s, "
                    "TIMESTAMPDIFF(SECOND, family_started_at, UTC_TIMESTAMP()) AS age "
                    "FROM refresh_tokens WHERE token_hash = %s", (token_hash(rt2),))
        row = cur.fetchone()
    # The successor keeps the family's start and stops with it (not 30 days from now).
    assert max_age - 125 <= row["age"] <= max_age - 115, row
    assert 110 <= row["left_s"] <= 120, row

    # Past the maximum age (a directive lowered, or a token made before the limit).
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("UPDATE refresh_tokens SET family_started_at = UTC_TIMESTAMP() - "
                    "INTERVAL %s SECOND, expires_at = UTC_TIMESTAMP() + INTERVAL 1 DAY "
                    "WHERE tenant_id = %s AND family_id = %s", (max_age + 1, tenant.id, family))
    assert_error(cc.post(REFRESH, json={"refresh_token": rt2}), 401, "unauthorized")
    # A new login starts a new family.
    assert cc.post(REFRESH, json={"refresh_token": cc.login(user["email"], password)
                                  ["refresh_token"]}).status_code == 200


def test_refresh_rejects_unknown_expired_and_malformed(cc, tenant):
    user, password, _ = user_with_password(tenant)
    pair = cc.login(user["email"], password)
    assert_error(cc.post(REFRESH, json={"refresh_token": secrets.token_urlsafe(32)}),
                 401, "unauthorized")
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("UPDATE refresh_tokens SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 "
                    "SECOND WHERE token_hash = %s",
                    (hashlib.sha256(pair["refresh_token"].encode()).hexdigest(),))
    assert_error(cc.post(REFRESH, json={"refresh_token": pair["refresh_token"]}),
                 401, "unauthorized")
    body = assert_error(cc.post(REFRESH, json={"refresh_token": 42}), 400, "invalid_request")
    assert detail_fields(body) == ["refresh_token"]
    body = assert_error(cc.post(REFRESH, json={}), 400, "invalid_request")
    assert detail_fields(body) == ["refresh_token"]


def test_logout_revokes_the_token(cc, tenant):
    user, password, _ = user_with_password(tenant)
    pair = cc.login(user["email"], password)
    keep = cc.login(user["email"], password)

    r = cc.post(LOGOUT, json={"refresh_token": pair["refresh_token"]})
    assert r.status_code == 204 and r.content == b""
    assert_error(cc.post(REFRESH, json={"refresh_token": pair["refresh_token"]}),
                 401, "unauthorized")
    # Idempotent, and silent about tokens that do not exist.
    assert cc.post(LOGOUT, json={"refresh_token": pair["refresh_token"]}).status_code == 204
    assert cc.post(LOGOUT, json={"refresh_token": "nope"}).status_code == 204
    # Only that token: the other login still refreshes.
    assert cc.post(REFRESH, json={"refresh_token": keep["refresh_token"]}).status_code == 200

    assert_error(cc.post(LOGOUT, data=b"{not json",
                         headers={"Content-Type": "application/json"}),
                 400, "invalid_request")
    body = assert_error(cc.post(LOGOUT, json={"refresh_token": "x", "all": True}),
                        400, "invalid_request")
    assert detail_fields(body) == ["all"]


def test_logout_with_a_rotated_token_revokes_its_family(cc, tenant):
    """Issue 8 #2: a rotated token presented to logout is reuse, as for a refresh: the
    successor a thief refreshed to dies with the family; the logout still answers 204."""
    user, password, _ = user_with_password(tenant)
    first = cc.login(user["email"], password)
    keep = cc.login(user["email"], password)
    r = cc.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200, r.text
    successor = r.json()["refresh_token"]

    r = cc.post(LOGOUT, json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 204 and r.content == b""
    assert_error(cc.post(REFRESH, json={"refresh_token": successor}), 401, "unauthorized")
    assert [a["action"] for a in audit_rows(cc, tenant_id=tenant.id, entity_id=str(user["id"]),
                                            action="auth.refresh_reuse")] == \
        ["auth.refresh_reuse"]
    # Another login's family is untouched.
    assert cc.post(REFRESH, json={"refresh_token": keep["refresh_token"]}).status_code == 200


# ---- me and password -----------------------------------------------------------------

def test_me_returns_the_user_with_permissions(cc, tenant):
    user, password, token = user_with_password(tenant, roles=("agent",))
    r = cc.get(ME, token=token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == USER_KEYS | {"permissions"}
    assert body["id"] == user["id"] and body["tenant_id"] == tenant.id
    assert body["roles"] == ["agent"]
    assert "users.read" in body["permissions"] and "tickets.write" in body["permissions"]
    assert "users.write" not in body["permissions"]
    assert "tenants.manage" not in body["permissions"]

    r = cc.get(ME, token=tenant.admin_token)
    assert r.status_code == 200
    assert {"users.write", "roles.manage"} <= set(r.json()["permissions"])
    assert "tenants.manage" not in r.json()["permissions"]
    # Only GET.
    r = cc.post(ME, token=token, json={})
    assert_error(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "GET"


def test_password_change(cc, tenant):
    user, old, token = user_with_password(tenant)
    pair_a = cc.login(user["email"], old)
    pair_b = cc.login(user["email"], old)
    new = "N3w-" + secrets.token_hex(8)

    body = assert_error(cc.post(PASSWORD, token=token,
                                json={"current_password": "wrong-one", "new_password": new}),
                        400, "invalid_request")
    assert body["details"] == [{"field": "current_password", "issue": "is incorrect"}]
    body = assert_error(cc.post(PASSWORD, token=token,
                                json={"current_password": old, "new_password": "short"}),
                        400, "invalid_request")
    assert detail_fields(body) == ["new_password"]
    body = assert_error(cc.post(PASSWORD, token=token,
                                json={"current_password": old, "new_password": "x" * 129}),
                        400, "invalid_request")
    assert detail_fields(body) == ["new_password"]
    body = assert_error(cc.post(PASSWORD, token=token, json={"new_password": new}),
                        400, "invalid_request")
    assert detail_fields(body) == ["current_password"]

    r = cc.post(PASSWORD, token=token, json={"current_password": old, "new_password": new})
    assert r.status_code == 204 and r.content == b"", r.text

    assert_error(login(cc, user["email"], old), 401, "invalid_credentials")
    assert login(cc, user["email"], new).status_code == 200
    for pair in (pair_a, pair_b):
        assert_error(cc.post(REFRESH, json={"refresh_token": pair["refresh_token"]}),
                     401, "unauthorized")
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT actor_id, entity_type, entity_id, changes FROM audit_logs "
                    "WHERE tenant_id = %s AND action = 'user.password_change'", (tenant.id,))
        rows = cur.fetchall()
    assert len(rows) == 1
    assert rows[0]["actor_id"] == user["id"] and rows[0]["entity_type"] == "user"
    assert rows[0]["entity_id"] == str(user["id"])


def test_current_password_guesses_are_throttled_like_logins(cc, tenant):
    """Issue 8 #10: a stolen access token buys no more guesses at the password than the
    login form: wrong current_password answers count with the account's failed logins,
    and a right one clears the count."""
    user, old, token = user_with_password(tenant)
    new = "N3w-" + secrets.token_hex(8)

    def change(current):
        return cc.post(PASSWORD, token=token,
                       json={"current_password": current, "new_password": new})

    for _ in range(4):
        body = assert_error(change("wrong-one"), 400, "invalid_request")
        assert detail_fields(body) == ["current_password"]
    # A right current password clears the count: four more guesses are still answered.
    r = change(old)
    assert r.status_code == 204, r.text
    token = login(cc, user["email"], new).json()["access_token"]
    old, new = new, "N3w-" + secrets.token_hex(8)
    for _ in range(5):
        body = assert_error(change("wrong-one"), 400, "invalid_request")
        assert detail_fields(body) == ["current_password"]
    for current in ("wrong-one", old):
        r = change(current)
        assert_error(r, 429, "too_many_requests")
        assert 1 <= int(r.headers["Retry-After"]) <= 900
    # The same key as the login form: that is locked too, and the password is unchanged.
    assert_error(login(cc, user["email"], old), 429, "too_many_requests")
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM login_throttle WHERE tenant_key = %s AND email = %s",
                    (tenant.id, user["email"].lower()))
    assert login(cc, user["email"], old).status_code == 200


def test_password_change_needs_a_token(cc):
    r = cc.post(PASSWORD, json={"current_password": "a" * 10, "new_password": "b" * 10})
    assert_error(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


# ---- bearer tokens ---------------------------------------------------------------------

def test_forged_token_with_the_real_secret_is_accepted(cc, tenant):
    """Proves the forging helper right, so the rejections below mean something."""
    user, _, _ = user_with_password(tenant)
    r = cc.get(ME, token=forge(jwt_secret(cc), claims_for(user)))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == user["id"]


def _bad_tokens(cc, user):
    secret = jwt_secret(cc)
    now = int(time.time())
    good = claims_for(user)
    none_header = b64url_json({"alg": "none", "typ": "JWT"})
    return {
        "garbage": "abc",
        "three-garbage-segments": "abc.def.ghi",
        "empty-segment": "abc..ghi",
        "expired": forge(secret, claims_for(user, iat=now - 1000, exp=now - 120)),
        "no-exp": forge(secret, claims_for(user, exp=None)),
        "alg-none": f"{none_header}.{b64url_json(good)}.",
        "alg-none-unsigned": f"{none_header}.{b64url_json(good)}",
        "alg-None-with-sig": forge(secret, good, header={"alg": "None", "typ": "JWT"}),
        "hs512-same-secret": forge(secret, good, alg="HS512"),
        "hs384-same-secret": forge(secret, good, alg="HS384"),
        "wrong-secret": forge(secrets.token_bytes(32), good),
        "wrong-issuer": forge(secret, claims_for(user, iss="someone-else")),
        "integer-sub": forge(secret, claims_for(user, sub=user["id"])),
        "non-uuid-tid": forge(secret, claims_for(user, tid="platform")),
        "nbf-future": forge(secret, claims_for(user, nbf=now + 3600)),
        # Issue 8 #15: alg is case-sensitive (RFC 7515 4.1.1), and a crit header we do not
        # understand must be refused (4.1.11); both signed right with the real secret.
        "alg-lower-case": forge(secret, good, header={"alg": "hs256", "typ": "JWT"}),
        "crit-header": forge(secret, good, header={"alg": "HS256", "typ": "JWT",
                                                   "crit": ["exp"]}),
        "alg-not-a-string": forge(secret, good, header={"alg": ["HS256"], "typ": "JWT"}),
        "too-long": "a" * 5000,
    }


def test_bad_bearer_tokens_get_401_json_with_a_bearer_challenge(cc, tenant):
    user, _, _ = user_with_password(tenant)
    for name, tok in _bad_tokens(cc, user).items():
        r = cc.get(ME, headers={"Authorization": f"Bearer {tok}"})
        body = assert_error(r, 401, "unauthorized")
        challenge = r.headers.get("WWW-Authenticate", "")
        assert challenge.startswith("Bearer "), (name, challenge)
        assert 'error="invalid_token"' in challenge, (name, challenge)
        assert tok[:20] not in body["message"], name


def test_clock_skew_is_the_directive_s(cc, tenant):
    """Issue 8 #15: a token up to CCAuthClockSkew (30 s here) past exp is accepted, one
    further past is not; the directive takes 0..300 and nothing else."""
    user, _, _ = user_with_password(tenant)
    secret, now = jwt_secret(cc), int(time.time())
    assert "CCAuthClockSkew 30\n" in cc.conf_text()
    late = forge(secret, claims_for(user, iat=now - 900, exp=now - 10))
    assert cc.get(ME, token=late).status_code == 200
    too_late = forge(secret, claims_for(user, iat=now - 900, exp=now - 45))
    assert_error(cc.get(ME, token=too_late), 401, "unauthorized")
    base = re.sub(r"(?m)^CCAuthClockSkew .*$", "", cc.conf_text())
    for ok in ("0", "30", "300"):
        rc, out = cc.config_test(base + f"\nCCAuthClockSkew {ok}\n")
        assert rc == 0, out
    for bad in ("-1", "301", "30s"):
        rc, out = cc.config_test(base + f"\nCCAuthClockSkew {bad}\n")
        assert rc != 0 and "CCAuthClockSkew must be an integer from 0 to 300" in out, out


def test_missing_token_gets_a_plain_bearer_challenge(cc):
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}):
        for path in (ME, "/api/v1/users"):
            r = cc.get(path, headers=headers)
            assert_error(r, 401, "unauthorized")
            assert r.headers["WWW-Authenticate"] == 'Bearer realm="callcenter"'


@pytest.mark.allow_log("AH01629")
def test_token_of_a_deleted_user_is_refused(cc, tenant):
    user, password, token = user_with_password(tenant)
    r = cc.delete(f"/api/v1/users/{user['id']}", token=tenant.admin_token)
    assert r.status_code == 204, r.text
    assert cc.get(ME, token=token).status_code == 401
    assert_error(login(cc, user["email"], password), 401, "invalid_credentials")


# ---- request bodies --------------------------------------------------------------------

def test_login_body_errors(cc):
    assert_error(cc.post(LOGIN, data=b'{"email": "a@b.example.com",',
                         headers={"Content-Type": "application/json"}),
                 400, "invalid_request")
    assert_error(cc.post(LOGIN, data=b"email=a@b.example.com&password=x",
                         headers={"Content-Type": "application/x-www-form-urlencoded"}),
                 415, "unsupported_media_type")
    body = assert_error(cc.post(LOGIN, json={"email": "a@b.example.com", "password": "x",
                                             "remember": True}), 400, "invalid_request")
    assert detail_fields(body) == ["remember"]
    body = assert_error(cc.post(LOGIN, json={"email": "not-an-email", "password": "x"}),
                        400, "invalid_request")
    assert detail_fields(body) == ["email"]
    body = assert_error(cc.post(LOGIN, json={"email": "a@b.example.com"}),
                        400, "invalid_request")
    assert detail_fields(body) == ["password"]
    body = assert_error(cc.post(LOGIN, json={"email": 5, "password": "x"}),
                        400, "invalid_request")
    assert detail_fields(body) == ["email"]
    assert_error(cc.post(LOGIN, json=["a@b.example.com", "x"]), 400, "invalid_request")


def test_auth_routes_404_and_405(cc):
    r = cc.get(LOGIN)
    assert_error(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "POST"
    assert_error(cc.post("/api/v1/auth/nope", json={}), 404, "not_found")


def test_every_answer_carries_the_request_id(cc):
    r = cc.post(LOGIN, json={"email": "x@example.com", "password": "y"},
                headers={"X-Request-ID": "auth-test.1"})
    assert r.headers["X-Request-ID"] == "auth-test.1"
    assert r.json()["request_id"] == "auth-test.1"
    r = cc.get(ME, headers={"X-Request-ID": "auth-test.2"})
    assert r.status_code == 401
    assert r.headers["X-Request-ID"] == "auth-test.2"
    assert r.json()["request_id"] == "auth-test.2"


# ---- configuration ---------------------------------------------------------------------

def test_config_rejects_a_short_or_missing_key_file(cc):
    short = Path(cc.tmpdir) / f"short-key-{secrets.token_hex(4)}"
    short.write_text("x" * 31 + "\n")
    short.chmod(0o600)
    rc, out = cc.config_test(conf_with(cc, "CCAuthJWTKeyFile", f'"{short}"'))
    assert rc != 0
    assert "CCAuthJWTKeyFile" in out and "at least 32 bytes" in out and str(short) in out
    assert "x" * 31 not in out
    rc, out = cc.config_test(conf_with(cc, "CCAuthJWTKeyFile", '"/nonexistent/cc-key"'))
    assert rc != 0 and "/nonexistent/cc-key" in out
    assert cc.config_test(cc.conf_text())[0] == 0


@pytest.mark.parametrize("directive,value", [
    ("CCBcryptCost", "3"), ("CCBcryptCost", "32"), ("CCAccessTokenTTL", "0"),
    ("CCRefreshTokenTTL", "soon"), ("CCLoginMaxFailures", "-1"), ("CCLoginWindow", "1.5"),
    ("CCAuthIssuer", '"two words"'), ("CCRefreshFamilyMaxAge", "59"),
    ("CCRefreshReuseLeeway", "301"), ("CCLoginAddressMaxFailures", "0"),
    ("CCBcryptMaxConcurrent", "0"),
])
def test_config_rejects_bad_values(cc, directive, value):
    rc, out = cc.config_test(conf_with(cc, directive, value))
    assert rc != 0, out
    assert directive in out


def test_throttling_holds_under_a_concurrent_burst(cc, tenant):
    """Attempts are counted before bcrypt runs, so 20 simultaneous guesses cannot all
    get past a limit of 5 (found by review: they used to, each reading the old count)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    email = f"burst-{secrets.token_hex(4)}@example.com"
    user_with_password(tenant, email=email)
    barrier = threading.Barrier(20)

    def guess(_):
        barrier.wait()
        return login(cc, email, "wrong-password", tenant=tenant.slug).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(guess, range(20)))
    assert set(codes) <= {401, 429}, codes
    assert codes.count(401) <= 5, codes


# ---- audit of the session mutations -------------------------------------------------------

def audit_rows(cc, **where):
    """audit_logs rows matching every column = value given, oldest first."""
    cond = " AND ".join(f"{k} = %s" for k in where)
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT * FROM audit_logs WHERE {cond} ORDER BY id", tuple(where.values()))
        return list(cur.fetchall())


def family_of(cc, refresh_token):
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT family_id FROM refresh_tokens WHERE token_hash = %s",
                    (hashlib.sha256(refresh_token.encode()).hexdigest(),))
        return cur.fetchone()["family_id"]


def assert_one_auth_entry(cc, r, tenant, user, action, *secrets_):
    """r wrote exactly one entry, `action` about user by user, with r's request id; it
    tells no secret.  Returns the entry's changes."""
    rows = audit_rows(cc, request_id=r.headers["X-Request-ID"])
    assert len(rows) == 1, rows
    e = rows[0]
    assert e["tenant_id"] == tenant.id and e["action"] == action
    assert e["actor_id"] == user["id"]
    assert e["entity_type"] == "user" and e["entity_id"] == str(user["id"])
    assert e["ip"] == "127.0.0.1"
    text = json.dumps(e, default=str)
    for s in secrets_:
        assert s not in text
        assert hashlib.sha256(s.encode()).hexdigest() not in text
    assert "$2y$" not in text and "token" not in (e["changes"] or "")
    return json.loads(e["changes"]) if e["changes"] else None


def test_login_is_audited_once_and_failures_not_at_all(cc, tenant):
    user, password, _ = user_with_password(tenant)
    before = len(audit_rows(cc, tenant_id=tenant.id, entity_id=str(user["id"])))
    r = login(cc, user["email"], password)
    assert r.status_code == 200, r.text
    pair = r.json()
    changes = assert_one_auth_entry(cc, r, tenant, user, "auth.login", password,
                                    pair["refresh_token"], pair["access_token"])
    assert changes == {"family_id": family_of(cc, pair["refresh_token"])}
    assert len(audit_rows(cc, tenant_id=tenant.id, entity_id=str(user["id"]))) == before + 1

    # Seen through the API by the tenant's admin as well.
    r2 = cc.get(f"/api/v1/audit-logs?action=auth.login&entity_id={user['id']}",
                token=tenant.admin_token)
    assert r2.status_code == 200, r2.text
    (e,) = [e for e in r2.json()["data"] if e["request_id"] == r.headers["X-Request-ID"]]
    assert (e["actor_id"], e["entity_type"], e["entity_id"], e["ip"]) == (
        user["id"], "user", str(user["id"]), "127.0.0.1")
    assert e["changes"] == changes

    # A wrong password, a throttled and a disabled account write nothing.
    disabled, dpassword, _ = user_with_password(tenant, status="disabled")
    assert_error(login(cc, disabled["email"], dpassword), 403, "account_disabled")
    for _ in range(6):
        bad = login(cc, user["email"], "wrong-password")
        assert bad.status_code in (401, 429), bad.text
        assert audit_rows(cc, request_id=bad.headers["X-Request-ID"]) == []
    assert_error(bad, 429, "too_many_requests")
    assert len(audit_rows(cc, tenant_id=tenant.id, entity_id=str(user["id"]))) == before + 1
    assert audit_rows(cc, tenant_id=tenant.id, entity_id=str(disabled["id"]),
                      action="auth.login") == []


def test_refresh_is_audited_in_its_family(cc, tenant):
    user, password, _ = user_with_password(tenant)
    pair = cc.login(user["email"], password)
    family = family_of(cc, pair["refresh_token"])
    r = cc.post(REFRESH, json={"refresh_token": pair["refresh_token"]},
                headers={"X-Request-ID": "auth-refresh." + secrets.token_hex(6)})
    assert r.status_code == 200, r.text
    new = r.json()["refresh_token"]
    changes = assert_one_auth_entry(cc, r, tenant, user, "auth.refresh",
                                    pair["refresh_token"], new)
    assert changes == {"family_id": family} and family_of(cc, new) == family

    # A refused refresh writes nothing.
    r = cc.post(REFRESH, json={"refresh_token": secrets.token_urlsafe(32)})
    assert_error(r, 401, "unauthorized")
    assert audit_rows(cc, request_id=r.headers["X-Request-ID"]) == []


def test_logout_is_audited_only_when_it_revokes(cc, tenant):
    user, password, _ = user_with_password(tenant)
    pair = cc.login(user["email"], password)
    r = cc.post(LOGOUT, json={"refresh_token": pair["refresh_token"]})
    assert r.status_code == 204 and r.content == b"", r.text
    changes = assert_one_auth_entry(cc, r, tenant, user, "auth.logout",
                                    pair["refresh_token"])
    assert changes == {"family_id": family_of(cc, pair["refresh_token"])}

    # Already revoked, and unknown: 204 all the same, no entry.
    for token in (pair["refresh_token"], secrets.token_urlsafe(32)):
        r = cc.post(LOGOUT, json={"refresh_token": token})
        assert r.status_code == 204 and r.content == b"", r.text
        assert audit_rows(cc, request_id=r.headers["X-Request-ID"]) == []
    assert len(audit_rows(cc, tenant_id=tenant.id, action="auth.logout")) == 1


def test_refresh_reuse_is_audited_and_committed_despite_the_401(cc, tenant):
    user, password, _ = user_with_password(tenant)
    first = cc.login(user["email"], password)
    family = family_of(cc, first["refresh_token"])
    second = cc.post(REFRESH, json={"refresh_token": first["refresh_token"]}).json()

    age_rotation(cc, first["refresh_token"])
    r = cc.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert_error(r, 401, "unauthorized")
    changes = assert_one_auth_entry(cc, r, tenant, user, "auth.refresh_reuse",
                                    first["refresh_token"], second["refresh_token"])
    # Both members of the family (the rotated one and its successor) were revoked.
    assert changes == {"family_id": family, "revoked": 2}
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM refresh_tokens WHERE tenant_id = %s "
                    "AND family_id = %s AND revoked_at IS NULL", (tenant.id, family))
        assert cur.fetchone()["n"] == 0
    assert_error(cc.post(REFRESH, json={"refresh_token": second["refresh_token"]}),
                 401, "unauthorized")

    # Presented again: the family is already revoked, so nothing more is written.
    r = cc.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert_error(r, 401, "unauthorized")
    assert audit_rows(cc, request_id=r.headers["X-Request-ID"]) == []
    assert len(audit_rows(cc, tenant_id=tenant.id, action="auth.refresh_reuse")) == 1


# ---- rehash on login ---------------------------------------------------------------------

def htpasswd_hash(password, *flags):
    out = subprocess.run(["htpasswd", "-ni", *flags, "x"], input=password, text=True,
                         capture_output=True, check=True).stdout
    return out.strip().split(":", 1)[1]


def stored_hash(cc, user):
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT password_hash FROM users WHERE id = %s", (user["id"],))
        return cur.fetchone()["password_hash"]


@pytest.mark.parametrize("cost", [5, 6])
def test_login_rehashes_a_hash_of_another_cost(cc, tenant, cost):
    """The test config has CCBcryptCost 4; a hash made at another cost (before the cost
    was changed) is replaced at the first successful login."""
    user, password, _ = user_with_password(tenant)
    old = htpasswd_hash(password, "-B", "-C", str(cost))
    assert old.startswith(f"$2y$0{cost}$")
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("UPDATE users SET password_hash = %s WHERE id = %s", (old, user["id"]))

    # A wrong password changes nothing.
    assert_error(login(cc, user["email"], "wrong-password"), 401, "invalid_credentials")
    assert stored_hash(cc, user) == old

    r = login(cc, user["email"], password)
    assert r.status_code == 200, r.text
    new = stored_hash(cc, user)
    assert new.startswith("$2y$04$") and new != old
    changes = assert_one_auth_entry(cc, r, tenant, user, "auth.login", password, old, new)
    assert changes == {"family_id": family_of(cc, r.json()["refresh_token"]),
                       "bcrypt_cost": {"from": cost, "to": 4}}

    # The new hash works, and is not replaced again.
    r = login(cc, user["email"], password)
    assert r.status_code == 200, r.text
    assert stored_hash(cc, user) == new
    assert "bcrypt_cost" not in assert_one_auth_entry(cc, r, tenant, user, "auth.login")


# ---- login_throttle stays bounded ---------------------------------------------------------

def test_failed_logins_purge_expired_throttle_rows(cc):
    """Rows whose window (900 s here) passed go, live ones stay.  The retention job
    (mod_watchdog, every second in tests; test_150) deletes them now, not the logins;
    failing logins until they are gone still bounds the wait."""
    tag = secrets.token_hex(5)
    expired = [("", f"purge-{tag}-{i}@example.com") for i in range(300)]
    live = [("", f"keep-{tag}-{i}@example.com") for i in range(5)]
    with cc.db() as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO login_throttle (tenant_key, email, failures, "
                        "window_start) VALUES (%s, %s, 3, UTC_TIMESTAMP() - INTERVAL 1000 "
                        "SECOND)", expired)
        cur.executemany("INSERT INTO login_throttle (tenant_key, email, failures, "
                        "window_start) VALUES (%s, %s, 3, UTC_TIMESTAMP() - INTERVAL 800 "
                        "SECOND)", live)

    def left(pattern):
        with cc.db() as conn, conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) AS n FROM login_throttle WHERE email LIKE %s",
                        (pattern,))
            return cur.fetchone()["n"]

    # One unknown email: after 5 failures it answers 429 without bcrypt, still counted.
    email = f"purger-{tag}@example.com"
    attempts = 0
    while left(f"purge-{tag}-%") and attempts < 2000:
        for _ in range(16):
            r = login(cc, email, "wrong-password")
            assert r.status_code in (401, 429), r.text
            attempts += 1
    assert left(f"purge-{tag}-%") == 0, f"expired rows still there after {attempts} attempts"
    # Rows of a live window stay, and so does the count of the email being throttled.
    assert left(f"keep-{tag}-%") == 5
    assert left(email) == 1
    assert_error(login(cc, email, "wrong-password"), 429, "too_many_requests")
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM login_throttle WHERE email LIKE %s", (f"keep-{tag}-%",))


# ---- unauthenticated CPU: the per-address budget and the bcrypt cap (issue 8 #7) ------

ADDR_KEY = "*address"


def address_failures(cc):
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT failures FROM login_throttle WHERE tenant_key = %s AND "
                    "email = '127.0.0.1'", (ADDR_KEY,))
        row = cur.fetchone()
        return row["failures"] if row else 0


def configured(cc, directive):
    m = re.search(rf"^\s*{directive}\s+(\d+)", cc.conf_text(), re.M)
    assert m, directive
    return int(m.group(1))


def test_random_emails_spend_one_address_budget(cc, tenant):
    """Every login attempt from an address counts against CCLoginAddressMaxFailures (the
    test profile lifts it to 1,000,000, so this sets the count near it); a success takes
    its own attempt back; past the budget every login from the address is 429 with
    Retry-After, before any lookup or bcrypt, right password or not."""
    limit = configured(cc, "CCLoginAddressMaxFailures")
    user, password, _ = user_with_password(tenant)
    before = address_failures(cc)
    for i in range(3):
        assert_error(login(cc, f"nobody-{secrets.token_hex(4)}@example.com", "wrong-pass"),
                     401, "invalid_credentials")
    assert address_failures(cc) == before + 3
    assert login(cc, user["email"], password).status_code == 200
    assert address_failures(cc) == before + 3
    try:
        with cc.db() as conn, conn.cursor() as cur:
            cur.execute("UPDATE login_throttle SET failures = %s WHERE tenant_key = %s AND "
                        "email = '127.0.0.1'", (limit, ADDR_KEY))
            assert cur.rowcount == 1
        for email, pw in ((f"nobody-{secrets.token_hex(4)}@example.com", "wrong-pass"),
                          (user["email"], password)):
            r = login(cc, email, pw)
            body = assert_error(r, 429, "too_many_requests")
            assert "address" in body["message"]
            assert 1 <= int(r.headers["Retry-After"]) <= 900
        # The per-account counts were not touched by the refused attempts.
        with cc.db() as conn, conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) AS n FROM login_throttle WHERE tenant_key = %s "
                        "AND email = %s", (tenant.id, user["email"].lower()))
            assert cur.fetchone()["n"] == 0
    finally:
        with cc.db() as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM login_throttle WHERE tenant_key = %s", (ADDR_KEY,))
    assert login(cc, user["email"], password).status_code == 200


def test_concurrent_bcrypt_work_is_capped_per_process(cc, tenant):
    """CCBcryptMaxConcurrent (4 per child in the dev config, 2 children): 24 logins at
    once on accounts whose hashes cost 2^13 rounds (~0.5 s each) cannot all hash at
    once; the ones past the cap get 429 with Retry-After: 1, at once."""
    import threading

    cap = configured(cc, "CCBcryptMaxConcurrent")
    password = "Slow-hash-password-1"
    slow = htpasswd_hash(password, "-B", "-C", "13")
    users = [user_with_password(tenant)[0] for _ in range(24)]
    with cc.db() as conn, conn.cursor() as cur:
        cur.executemany("UPDATE users SET password_hash = %s WHERE tenant_id = %s AND id = %s",
                        [(slow, tenant.id, u["id"]) for u in users])
    barrier = threading.Barrier(len(users))

    def attempt(u):
        barrier.wait()
        return login(cc, u["email"], password, tenant=tenant.slug), u

    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        results = list(pool.map(attempt, users))
    codes = [r.status_code for r, _ in results]
    assert set(codes) <= {200, 429}, [r.text for r, _ in results]
    assert codes.count(429) >= 1 and codes.count(200) >= cap, codes
    for r, _ in results:
        if r.status_code == 429:
            body = assert_error(r, 429, "too_many_requests")
            assert r.headers["Retry-After"] == "1" and "busy" in body["message"]
    # The refused ones came back without hashing and without being counted as failed
    # logins (the slot is taken before any count); retried, they get in.
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT email FROM login_throttle WHERE tenant_key = %s", (tenant.id,))
        counted = {row["email"] for row in cur.fetchall()}
    for r, u in results:
        if r.status_code == 429:
            assert u["email"].lower() not in counted
            assert login(cc, u["email"], password, tenant=tenant.slug).status_code == 200
