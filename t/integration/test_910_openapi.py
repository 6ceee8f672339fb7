"""GET /api/v1/openapi.json: public, the assembled fragments byte for byte, and honest.

Honest means: the route tables of every module (t/lint/check_openapi.py, imported by path)
and the served document name the same operations with the same permissions; and what the
server really answers (status codes, bodies, headers) is what the document says for a
sample of every route's successes and errors.
"""

import json
import secrets
from pathlib import Path

import pytest

from cchelpers import load_openapi_lint

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = "/api/v1/openapi.json"


lint = load_openapi_lint()


@pytest.fixture(scope="module")
def served(cc):
    r = cc.get(OPENAPI)
    assert r.status_code == 200, r.text[:300]
    return r


@pytest.fixture(scope="module")
def doc(served):
    return served.json()


# ---- the document itself ---------------------------------------------------------------

def test_openapi_is_public_json_without_a_token(served):
    assert served.headers["Content-Type"].startswith("application/json")
    assert served.headers["X-Request-ID"]


def test_openapi_ignores_a_bad_token(cc):
    r = cc.get(OPENAPI, token="not-a-jwt")
    assert r.status_code == 200 and r.json()["openapi"].startswith("3.1")


def test_openapi_is_the_repository_file(served):
    repo = lint.assembler.assemble_tree(str(ROOT))
    assert served.json() == json.loads(repo), \
        "the served document differs from the assembled fragments (rebuild the module)"
    assert served.content == repo, "same JSON but not the same bytes"
    assert int(served.headers["Content-Length"]) == len(repo)


def test_openapi_head(cc):
    r = cc.request("HEAD", OPENAPI)
    assert r.status_code == 200 and r.content == b""


def test_openapi_matches_every_route_table(doc):
    routes, problems = lint.parse_routes(str(ROOT))
    assert routes, "no route table entries found"
    problems += lint.validate_document(doc)
    problems += lint.compare(routes, doc)
    problems += lint.compare_c_checks(doc, lint.parse_c_checks(str(ROOT), routes))
    assert not problems, "\n".join(problems)


def test_openapi_wrong_method_is_405(cc, doc):
    r = cc.post(OPENAPI, json={})
    _check(doc, r, "POST", OPENAPI, 405, "method_not_allowed", via="MethodNotAllowed")
    assert r.headers["Allow"] == "GET"


# ---- live answers against the document ---------------------------------------------------

def _check(doc, r, method, path, expect, code=None, via=None):
    """r must have status expect (and error code, if given), a status the operation
    (method, path template) documents, with the documented body and headers.  via: check
    against a components/responses entry instead (for answers that belong to no operation,
    like 405).  Returns the body (None for 204)."""
    assert r.status_code == expect, f"{method} {r.url}: {r.status_code} {r.text[:300]}"
    status = str(r.status_code)
    if via:
        resp = doc["components"]["responses"][via]
    else:
        op = doc["paths"][path][method.lower()]
        assert status in op["responses"], \
            f"{method} {path} answered {status}, which the document does not list"
        resp = lint.deref(doc, op["responses"][status])
    for name in resp.get("headers", {}):
        assert name in r.headers, f"{method} {path} {status}: no {name} header"
    schema = (resp.get("content") or {}).get("application/json", {}).get("schema")
    if schema is None:
        assert r.content == b"", f"{method} {path} {status}: undocumented body {r.text[:200]}"
        return None
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    problems = lint.validate_instance(doc, schema, body, f"{method} {path} {status}")
    assert not problems, "\n".join(problems) + f"\nbody: {r.text[:500]}"
    if r.status_code >= 400:
        assert body["request_id"] == r.headers["X-Request-ID"]
        if code:
            assert body["error"] == code, body
    return body


def test_ops_answers_match(cc, doc):
    _check(doc, cc.get("/healthz"), "GET", "/healthz", 200)
    _check(doc, cc.get("/readyz"), "GET", "/readyz", 200)
    _check(doc, cc.get("/healthz?x=%ff"), "GET", "/healthz", 400, "invalid_request")


def test_auth_answers_match(cc, doc, tenant):
    user, token = tenant.make_user(roles=["agent"])
    password = tenant.passwords[user["id"]]
    login = "/api/v1/auth/login"
    pair = _check(doc, cc.post(login, json={"email": user["email"], "password": password,
                                            "tenant": tenant.slug}), "POST", login, 200)
    _check(doc, cc.post(login, json={"email": user["email"], "password": "wrong-password",
                                     "tenant": tenant.slug}),
           "POST", login, 401, "invalid_credentials")
    _check(doc, cc.post(login, json={"email": "x"}), "POST", login, 400, "invalid_request")
    _check(doc, cc.post(login, data=b"email=x", headers={"Content-Type": "text/plain"}),
           "POST", login, 415, "unsupported_media_type")

    refresh = "/api/v1/auth/refresh"
    newpair = _check(doc, cc.post(refresh, json={"refresh_token": pair["refresh_token"]}),
                     "POST", refresh, 200)
    _check(doc, cc.post(refresh, json={"refresh_token": "nope"}),
           "POST", refresh, 401, "unauthorized")

    me = "/api/v1/auth/me"
    body = _check(doc, cc.get(me, token=newpair["access_token"]), "GET", me, 200)
    assert body["id"] == user["id"] and "users.read" in body["permissions"]
    _check(doc, cc.get(me), "GET", me, 401, "unauthorized")

    pw = "/api/v1/auth/password"
    _check(doc, cc.post(pw, token=token, json={"current_password": "wrong-password",
                                               "new_password": "a-new-password-1"}),
           "POST", pw, 400, "invalid_request")
    _check(doc, cc.post(pw, token=token, json={"current_password": password,
                                               "new_password": "a-new-password-1"}),
           "POST", pw, 204)

    logout = "/api/v1/auth/logout"
    _check(doc, cc.post(logout, json={"refresh_token": newpair["refresh_token"]}),
           "POST", logout, 204)


def test_users_answers_match(cc, doc, tenant):
    t = tenant.admin_token
    users, one, roles = "/api/v1/users", "/api/v1/users/{id}", "/api/v1/users/{id}/roles"
    _check(doc, cc.get(users, token=t), "GET", users, 200)
    _check(doc, cc.get(users + "?page_size=0", token=t), "GET", users, 400, "invalid_request")
    _check(doc, cc.get(users + "?sort=password", token=t), "GET", users, 400)
    _check(doc, cc.get(users), "GET", users, 401, "unauthorized")

    email = f"oa-{secrets.token_hex(4)}@{tenant.slug}.example.com"
    body = {"email": email, "name": "Open Api", "password": "0123456789ab",
            "roles": ["viewer"]}
    r = cc.post(users, token=t, json=body)
    created = _check(doc, r, "POST", users, 201)
    assert r.headers["Location"] == f"/api/v1/users/{created['id']}"
    _check(doc, cc.post(users, token=t, json=body), "POST", users, 409, "conflict")
    _check(doc, cc.post(users, token=t, json={**body, "extra": 1}), "POST", users, 400)
    uid = created["id"]
    _check(doc, cc.get(f"{users}/{uid}", token=t), "GET", one, 200)
    _check(doc, cc.get(f"{users}/999999999", token=t), "GET", one, 404, "not_found")
    _check(doc, cc.patch(f"{users}/{uid}", token=t, json={"name": "Renamed"}),
           "PATCH", one, 200)
    _check(doc, cc.patch(f"{users}/{tenant.admin_user_id}", token=t,
                         json={"status": "disabled"}), "PATCH", one, 409, "conflict")
    _check(doc, cc.put(f"{users}/{uid}/roles", token=t, json={"roles": ["agent"]}),
           "PUT", roles, 200)
    _check(doc, cc.put(f"{users}/{uid}/roles", token=t, json={"roles": ["no_such_role"]}),
           "PUT", roles, 400, "invalid_request")

    _, agent = tenant.make_user(roles=["agent"])
    _check(doc, cc.post(users, token=agent, json=body), "POST", users, 403, "forbidden")
    _check(doc, cc.delete(f"{users}/{uid}", token=t), "DELETE", one, 204)
    _check(doc, cc.delete(f"{users}/{uid}", token=t), "DELETE", one, 404, "not_found")
    _check(doc, cc.delete(f"{users}/{tenant.admin_user_id}", token=t),
           "DELETE", one, 409, "conflict")


def test_audit_answers_match(cc, doc, tenant):
    t = tenant.admin_token
    logs, one = "/api/v1/audit-logs", "/api/v1/audit-logs/{id}"
    page = _check(doc, cc.get(logs + "?entity_type=user", token=t), "GET", logs, 200)
    assert page["data"], "the tenant fixture's user creation is audited"
    entry = page["data"][0]["id"]
    _check(doc, cc.get(f"{logs}/{entry}", token=t), "GET", one, 200)
    _check(doc, cc.get(f"{logs}/999999999", token=t), "GET", one, 404, "not_found")
    _check(doc, cc.get(logs + "?from=yesterday", token=t), "GET", logs, 400)
    r = cc.patch(f"{logs}/{entry}", token=t, json={})
    _check(doc, r, "PATCH", one, 405, "method_not_allowed", via="MethodNotAllowed")
    assert r.headers["Allow"] == "GET"


def test_tenants_roles_permissions_answers_match(cc, doc, tenant):
    admin = cc.admin_token()
    tenants, one = "/api/v1/tenants", "/api/v1/tenants/{id}"
    _check(doc, cc.get(tenants, token=admin), "GET", tenants, 200)
    _check(doc, cc.get(f"{tenants}/{tenant.id}", token=admin), "GET", one, 200)
    _check(doc, cc.get(f"{tenants}/{tenant.id}", token=tenant.admin_token),
           "GET", one, 403, "forbidden")
    _check(doc, cc.post(tenants, token=admin, json={"name": "Dup", "slug": tenant.slug}),
           "POST", tenants, 409, "conflict")
    _check(doc, cc.patch(f"{tenants}/{tenant.id}", token=admin, json={"plan": "gold"}),
           "PATCH", one, 200)
    _check(doc, cc.get(tenants, token=admin, headers={"X-Tenant-ID": "not-a-uuid"}),
           "GET", tenants, 400, "invalid_request")

    t = tenant.admin_token
    perms = _check(doc, cc.get("/api/v1/permissions", token=t), "GET", "/api/v1/permissions",
                   200)
    assert {p["name"] for p in perms["data"]} == \
        set(doc["components"]["schemas"]["Permission"]["enum"]), \
        "components/schemas/Permission must list the whole catalogue"
    _check(doc, cc.get("/api/v1/roles", token=t), "GET", "/api/v1/roles", 200)
    name = "oa_" + secrets.token_hex(3)
    r = cc.post("/api/v1/roles", token=t, json={"name": name, "permissions": ["users.read"]})
    _check(doc, r, "POST", "/api/v1/roles", 201)
    role = "/api/v1/roles/{name}"
    _check(doc, cc.get(f"/api/v1/roles/{name}", token=t), "GET", role, 200)
    _check(doc, cc.patch(f"/api/v1/roles/{name}", token=t, json={"description": "x"}),
           "PATCH", role, 200)
    _check(doc, cc.patch("/api/v1/roles/agent", token=t, json={"description": "x"}),
           "PATCH", role, 409, "conflict")
    _check(doc, cc.delete(f"/api/v1/roles/{name}", token=t), "DELETE", role, 204)
    _check(doc, cc.get(f"/api/v1/roles/{name}", token=t), "GET", role, 404, "not_found")

    _check(doc, cc.delete(f"{tenants}/{tenant.id}", token=admin), "DELETE", one, 204)
    _check(doc, cc.get("/api/v1/roles", token=t), "GET", "/api/v1/roles", 403,
           "tenant_suspended")
