"""Hostile bodies on every write route of every module, found from the route tables
(t/lint/check_openapi.py parses them), so a route added later is covered without a new
test: malformed JSON, invalid UTF-8, a NUL in a string, absurd nesting, a body over the
limit and a foreign content type each get a 4xx error envelope (never a 5xx, never
HTML) and change nothing: no row of the tenant's objects, no audit entry, no event.

The caller is the platform admin inside the tenant (X-Tenant-ID: every permission), and
path parameters name real objects of the tenant (ccobjects.OBJECT_FACTORIES), so each
request reaches its handler's body parser instead of stopping at a 403 or 404.  A write
route with a parameter no factory knows fails here, naming the route.  The tables
compared are every tenant-owned table of the migrations (t/lint/cctables.py).
"""

import pytest

import cctables
from cchelpers import db_rows, load_openapi_lint
from ccobjects import MissingFactory, concrete_path, normalize_route, route_headers

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

# The tables whose rows a write could touch, per tenant: every tenant-owned table
# (login_throttle is left out: counting login attempts is the point of the login route).
TENANT_TABLES = {t: col for t, col in cctables.tenant_tables().items()
                 if t != "login_throttle"}
CHANGED_AT = {t for t, cols in cctables.table_columns().items() if "updated_at" in cols}


def write_routes():
    routes, _ = load_openapi_lint().parse_routes()
    return sorted((m, normalize_route(p)) for m, p in routes if m in WRITE_METHODS)


def snapshot(cc, tenant_ids):
    """Row count and newest change of every table a write could touch, per tenant, and
    the count of every realtime table Asterisk reads, over all tenants."""
    out = {}
    for tid in tenant_ids:
        for table, column in TENANT_TABLES.items():
            cols = "COUNT(*) AS n"
            if table in CHANGED_AT:
                cols += ", MAX(updated_at) AS changed"
            (row,) = db_rows(cc, f"SELECT {cols} FROM {table} WHERE {column} = %s", (tid,))
            out[(tid, table)] = row
        (row,) = db_rows(cc, "SELECT updated_at, users_count, dids_count FROM tenants"
                             " WHERE id = %s", (tid,))
        out[(tid, "tenants")] = row
    for table in ("ps_endpoints", "ps_auths", "ps_aors", "queues", "queue_members"):
        (row,) = db_rows(cc, f"SELECT COUNT(*) AS n FROM {table}")
        out[table] = row
    return out


_DOC = {}


def takes_json(cc, method, path):
    """The served OpenAPI document says the operation's body is JSON (an upload's raw
    body is any media type: hostile bytes are a file to it, refused only for what the
    request lacks, so only "a 4xx that changes nothing" holds there)."""
    if "doc" not in _DOC:
        _DOC["doc"] = cc.get("/api/v1/openapi.json").json()
    op = _DOC["doc"]["paths"].get(path, {}).get(method.lower(), {})
    content = op.get("requestBody", {}).get("content", {"application/json": {}})
    return any(t.startswith("application/json") for t in content)


@pytest.mark.parametrize("method,path", write_routes())
def test_hostile_bodies_get_a_4xx_envelope_and_change_nothing(cc, tenant, method, path):
    token = cc.admin_token()
    json_body = takes_json(cc, method, path)
    headers = {"X-Tenant-ID": tenant.id, **route_headers(path)}
    try:
        url = concrete_path(cc, tenant, path)
    except MissingFactory as e:
        pytest.fail(f"{method} {path}: {e}", pytrace=False)
    scope = (tenant.id, cc.platform_tenant_id)
    before = snapshot(cc, scope)
    for name, (body, ctype, allowed) in HOSTILE.items():
        r = cc.request(method, url, token=token, data=body,
                       headers={**headers, "Content-Type": ctype})
        where = f"{method} {url} {name}: {r.status_code} {r.text[:200]}"
        assert 400 <= r.status_code < 500, where
        assert (allowed is None or not json_body or r.status_code in allowed
                or r.status_code in (401, 404)), where
        assert r.headers["Content-Type"].startswith("application/json"), where
        envelope = r.json()
        assert isinstance(envelope.get("error"), str) and envelope["error"], where
        assert envelope["request_id"] == r.headers["X-Request-ID"], where
    assert snapshot(cc, scope) == before, f"{method} {url} changed something"


def test_a_route_without_a_factory_fails_by_name(cc, tenant):
    """The guard the parametrized test relies on: no silent made-up id."""
    with pytest.raises(MissingFactory, match=r"/api/v1/widgets/\{id\}"):
        concrete_path(cc, tenant, "/api/v1/widgets/{id:int}/parts")


def test_typed_captures_are_filled_like_plain_ones(cc, tenant):
    made = {}
    q = concrete_path(cc, tenant, "/api/v1/queues/{id:int}/members/{member_id:int}", made)
    assert q == concrete_path(cc, tenant, "/api/v1/queues/{id}/members/{member_id}", made)
    assert q.startswith("/api/v1/queues/") and "{" not in q
    assert cc.get(q, token=tenant.admin_token).status_code == 200
