"""Hostile bodies on every write route of every module, found from the route tables
(t/lint/check_openapi.py parses them), so a route added later is covered without a new
test: malformed JSON, invalid UTF-8, a NUL in a string, absurd nesting, a body over the
limit and a foreign content type each get a 4xx error envelope (never a 5xx, never
HTML) and change nothing: no row of the tenant's objects, no audit entry, no event.

The caller is the platform admin inside the tenant (X-Tenant-ID: every permission), and
path parameters name real objects of the tenant, so each request reaches its handler's
body parser instead of stopping at a 403 or 404.
"""

import secrets

import pytest

from cchelpers import db_rows, load_openapi_lint

WRITE_METHODS = ("POST", "PATCH", "PUT")
MIB = 1024 * 1024

# Bodies (raw bytes, content type) and what each may answer: any 4xx unless narrower.
HOSTILE = {
    "malformed": (b'{"name": ', "application/json", {400}),
    "invalid_utf8": (b'{"name": "\xff\xfe\xc0\xaf"}', "application/json", {400}),
    "nul_escape": (b'{"name": "a\\u0000b", "number": "\\u0000"}', "application/json",
                   None),
    "deep": (b"[" * 5000 + b"]" * 5000, "application/json", {400}),
    "not_an_object": (b'["name", "number"]', "application/json", {400}),
    "too_large": (b'{"name": "' + b"a" * (MIB + 1024) + b'"}', "application/json", {413}),
    "form": (b"name=x&number=%2B15551234567", "application/x-www-form-urlencoded", {415}),
}

# The tables whose rows a write could touch, per tenant (login_throttle is left out:
# counting login attempts is the point of the login route).
TENANT_TABLES = ("users", "user_roles", "roles", "dids", "call_queues", "endpoints",
                 "call_queue_members", "refresh_tokens", "audit_logs", "events")


def write_routes():
    routes, _ = load_openapi_lint().parse_routes()
    return sorted(k for k in routes if k[0] in WRITE_METHODS)


def snapshot(cc, tenant_ids):
    """Row count and newest change of every table a write could touch, per tenant, and
    the realtime rows (which carry no tenant column)."""
    out = {}
    for tid in tenant_ids:
        for table in TENANT_TABLES:
            cols = "COUNT(*) AS n"
            if table in ("users", "roles", "dids", "call_queues", "endpoints"):
                cols += ", MAX(updated_at) AS changed"
            (row,) = db_rows(cc, f"SELECT {cols} FROM {table} WHERE tenant_id = %s", (tid,))
            out[(tid, table)] = row
        (row,) = db_rows(cc, "SELECT updated_at, users_count, dids_count FROM tenants"
                             " WHERE id = %s", (tid,))
        out[(tid, "tenants")] = row
    for table in ("ps_endpoints", "ps_auths", "ps_aors", "queues", "queue_members"):
        (row,) = db_rows(cc, f"SELECT COUNT(*) AS n FROM {table}")
        out[table] = row
    return out


@pytest.fixture
def world(cc, tenant):
    """One object of each kind in tenant, made as its admin: {route path: concrete path}."""
    t = tenant.admin_token
    user, _ = tenant.make_user(roles=["agent"])
    role = "hostile_" + secrets.token_hex(3)
    assert cc.post("/api/v1/roles", token=t,
                   json={"name": role, "permissions": ["users.read"]}).status_code == 201
    did = cc.post("/api/v1/dids", token=t,
                  json={"number": f"+1{secrets.randbelow(10**12):012d}"}).json()
    queue = cc.post("/api/v1/queues", token=t, json={"name": "Q " + secrets.token_hex(3)}).json()
    ep = cc.post("/api/v1/endpoints", token=t,
                 json={"extension": str(10000000 + secrets.randbelow(89999999))}).json()
    member = cc.post(f"/api/v1/queues/{queue['id']}/members", token=t,
                     json={"endpoint_id": ep["id"]}).json()
    q = f"/api/v1/queues/{queue['id']}"
    return {
        "/api/v1/users/{id}": f"/api/v1/users/{user['id']}",
        "/api/v1/users/{id}/roles": f"/api/v1/users/{user['id']}/roles",
        "/api/v1/roles/{name}": f"/api/v1/roles/{role}",
        "/api/v1/dids/{id}": f"/api/v1/dids/{did['id']}",
        "/api/v1/queues/{id}": q,
        "/api/v1/queues/{id}/members": q + "/members",
        "/api/v1/queues/{id}/members/{member_id}": f"{q}/members/{member['id']}",
        "/api/v1/endpoints/{id}": f"/api/v1/endpoints/{ep['id']}",
        "/api/v1/tenants/{id}": f"/api/v1/tenants/{tenant.id}",
    }


def concrete(path, world):
    """The route path with real objects' ids; a route world does not know gets ids no
    object has (its answer is then a 404, still a 4xx)."""
    if path in world:
        return world[path]
    return (path.replace("{id}", "999999999").replace("{member_id}", "999999999")
            .replace("{name}", "nosuchrole"))


@pytest.mark.parametrize("method,path", write_routes())
def test_hostile_bodies_get_a_4xx_envelope_and_change_nothing(cc, tenant, world, method,
                                                              path):
    token = cc.admin_token()
    headers = {"X-Tenant-ID": tenant.id}
    url = concrete(path, world)
    scope = (tenant.id, cc.platform_tenant_id)
    before = snapshot(cc, scope)
    for name, (body, ctype, allowed) in HOSTILE.items():
        r = cc.request(method, url, token=token, data=body,
                       headers={**headers, "Content-Type": ctype})
        where = f"{method} {url} {name}: {r.status_code} {r.text[:200]}"
        assert 400 <= r.status_code < 500, where
        assert allowed is None or r.status_code in allowed or r.status_code in (401, 404), \
            where
        assert r.headers["Content-Type"].startswith("application/json"), where
        envelope = r.json()
        assert isinstance(envelope.get("error"), str) and envelope["error"], where
        assert envelope["request_id"] == r.headers["X-Request-ID"], where
    assert snapshot(cc, scope) == before, f"{method} {url} changed something"
