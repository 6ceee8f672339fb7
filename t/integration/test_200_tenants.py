"""mod_cc_tenant: /api/v1/tenants (platform admins only), tenant status and the principal
(suspended/deleted tenants, disabled and deleted users, X-Tenant-ID).

Denials raised in the authz providers (Require cc-tenant) come out of mod_authz_core,
which logs AH01631 (AH01629 for a 401) at error level for each: tests that provoke
one allow it.
"""

import json
import re
import secrets

import pytest

from cchelpers import assert_error, audit_rows

TENANT_KEYS = {"id", "name", "slug", "status", "plan", "max_users", "max_dids",
               "created_at", "updated_at"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TENANT_BUILTINS = ["agent", "supervisor", "tenant_admin", "viewer"]

AUTHZ_DENIAL_LOGS = ("AH01631", "AH01629")


def new_slug(prefix="tt"):
    return f"{prefix}-{secrets.token_hex(6)}"


def create(cc, **body):
    return cc.post("/api/v1/tenants", token=cc.admin_token(), json=body)


def create_ok(cc, **body):
    body.setdefault("name", "Tenant " + secrets.token_hex(3))
    body.setdefault("slug", new_slug())
    r = create(cc, **body)
    assert r.status_code == 201, r.text
    return r.json()


def admin_user_id(cc):
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM users WHERE tenant_id = %s AND email = %s",
                    (cc.platform_tenant_id, cc.admin_email))
        return cur.fetchone()["id"]


def role_names(cc, token, headers=None):
    r = cc.get("/api/v1/roles", token=token, headers=headers)
    assert r.status_code == 200, r.text
    return [x["name"] for x in r.json()["data"]]


# ---- create ------------------------------------------------------------------------

def test_create_with_defaults(cc):
    slug = new_slug()
    r = create(cc, name="Acme Corp", slug=slug)
    assert r.status_code == 201, r.text
    t = r.json()
    assert set(t) == TENANT_KEYS
    assert UUID.match(t["id"])
    assert r.headers["Location"] == f"/api/v1/tenants/{t['id']}"
    assert (t["name"], t["slug"], t["status"], t["plan"]) == ("Acme Corp", slug, "active",
                                                              "standard")
    assert t["max_users"] == 100 and t["max_dids"] == 100
    assert RFC3339.match(t["created_at"]) and RFC3339.match(t["updated_at"])

    g = cc.get(f"/api/v1/tenants/{t['id']}", token=cc.admin_token())
    assert g.status_code == 200 and g.json() == t

    # The tenant got its own copies of the non-platform built-in roles.
    assert role_names(cc, cc.admin_token(), {"X-Tenant-ID": t["id"]}) == TENANT_BUILTINS

    # Audited in the platform tenant, by the platform admin, in the same transaction.
    rows = audit_rows(cc, cc.platform_tenant_id, "tenant.create", t["id"])
    assert len(rows) == 1
    assert rows[0]["entity_type"] == "tenant"
    assert rows[0]["actor_id"] == admin_user_id(cc)
    assert rows[0]["actor_email"] == cc.admin_email
    assert json.loads(rows[0]["changes"]) == {
        "id": t["id"], "name": "Acme Corp", "slug": slug, "status": "active",
        "plan": "standard", "max_users": 100, "max_dids": 100}


def test_create_with_every_field(cc):
    slug = new_slug()
    r = create(cc, name="Gold Inc", slug=slug, plan="gold", max_users=0, max_dids=1000000,
               status="suspended")
    assert r.status_code == 201, r.text
    t = r.json()
    assert (t["plan"], t["max_users"], t["max_dids"], t["status"]) == ("gold", 0, 1000000,
                                                                      "suspended")


def test_create_keeps_unicode_and_sql_looking_names(cc):
    name = "Ünïcödé 🚀 '; DROP TABLE tenants; --"
    t = create_ok(cc, name=name)
    assert t["name"] == name
    assert cc.get(f"/api/v1/tenants/{t['id']}", token=cc.admin_token()).json()["name"] == name


@pytest.mark.parametrize("body, field", [
    ({"name": "X", "slug": "UPPER-case"}, "slug"),
    ({"name": "X", "slug": "ab"}, "slug"),
    ({"name": "X", "slug": "a" * 64}, "slug"),
    ({"name": "X", "slug": "under_score"}, "slug"),
    ({"name": "X", "slug": "0b6e3a52-1c2d-4e5f-8a9b-0c1d2e3f4a5b"}, "slug"),   # UUID-shaped
    ({"name": "X", "slug": 12345}, "slug"),
    ({"name": "", "slug": "SLUG"}, "name"),
    ({"name": "n" * 201, "slug": "SLUG"}, "name"),
    ({"name": 7, "slug": "SLUG"}, "name"),
    ({"slug": "SLUG"}, "name"),
    ({"name": "X"}, "slug"),
    ({"name": "X", "slug": "SLUG", "plan": ""}, "plan"),
    ({"name": "X", "slug": "SLUG", "plan": "p" * 51}, "plan"),
    ({"name": "X", "slug": "SLUG", "max_users": -1}, "max_users"),
    ({"name": "X", "slug": "SLUG", "max_users": 1000001}, "max_users"),
    ({"name": "X", "slug": "SLUG", "max_users": "10"}, "max_users"),
    ({"name": "X", "slug": "SLUG", "max_dids": 1.5}, "max_dids"),
    ({"name": "X", "slug": "SLUG", "status": "deleted"}, "status"),
    ({"name": "X", "slug": "SLUG", "status": "bogus"}, "status"),
    ({"name": "X", "slug": "SLUG", "status": None}, "status"),
    ({"name": "X", "slug": "SLUG", "owner": "me"}, "owner"),
])
def test_create_rejects_bad_fields(cc, body, field):
    body = {k: (new_slug() if v == "SLUG" else v) for k, v in body.items()}
    r = create(cc, **body)
    assert_error(r, 400, "invalid_request", field)
    if isinstance(body.get("slug"), str):
        with cc.db() as conn, conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) AS n FROM tenants WHERE slug = %s", (body["slug"],))
            assert cur.fetchone()["n"] == 0


def test_create_reports_every_bad_field(cc):
    r = create(cc, name="", slug="NO", max_users=-5)
    body = assert_error(r, 400, "invalid_request")
    assert {d["field"] for d in body["details"]} == {"name", "slug", "max_users"}


def test_create_rejects_malformed_and_non_json_bodies(cc):
    r = cc.post("/api/v1/tenants", token=cc.admin_token(), data=b"{not json",
                headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid_request")
    r = cc.post("/api/v1/tenants", token=cc.admin_token(), data=b"name=x",
                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(r, 415, "unsupported_media_type")


def test_create_duplicate_slug_is_conflict(cc):
    t = create_ok(cc)
    r = create(cc, name="Other", slug=t["slug"])
    assert_error(r, 409, "conflict")


def test_slug_of_a_deleted_tenant_stays_taken(cc):
    t = create_ok(cc)
    assert cc.delete(f"/api/v1/tenants/{t['id']}", token=cc.admin_token()).status_code == 204
    assert_error(create(cc, name="Again", slug=t["slug"]), 409, "conflict")


# ---- read and list -----------------------------------------------------------------

@pytest.mark.parametrize("tid", [
    "00000000-0000-4000-8000-000000000000",   # well-formed, unknown
    "not-a-uuid",
    "00000000-0000-4000-8000-00000000000G",
    "42",
])
def test_get_unknown_or_malformed_id_is_404(cc, tid):
    for method in ("GET", "PATCH", "DELETE"):
        kw = {"json": {"name": "x"}} if method == "PATCH" else {}
        r = cc.request(method, f"/api/v1/tenants/{tid}", token=cc.admin_token(), **kw)
        assert_error(r, 404, "not_found")


def test_list_filters_sorts_and_pages(cc):
    tag = secrets.token_hex(4)
    made = [create_ok(cc, name=f"{n} {tag}", slug=f"ls-{tag}-{i}")
            for i, n in enumerate(["Charlie", "alpha", "Bravo"])]
    tok = cc.admin_token()

    r = cc.get(f"/api/v1/tenants?q={tag}&sort=name", token=tok)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"data", "total", "page", "page_size"}
    assert body["total"] == 3 and body["page"] == 1 and body["page_size"] == 20
    assert [t["name"].split()[0] for t in body["data"]] == ["alpha", "Bravo", "Charlie"]
    assert all(set(t) == TENANT_KEYS for t in body["data"])

    r = cc.get(f"/api/v1/tenants?q={tag}&sort=-name", token=tok)
    assert [t["name"].split()[0] for t in r.json()["data"]] == ["Charlie", "Bravo", "alpha"]

    r = cc.get(f"/api/v1/tenants?q={tag}&sort=slug", token=tok)
    assert [t["id"] for t in r.json()["data"]] == [t["id"] for t in made]

    # Default order: created_at (then id).
    r = cc.get(f"/api/v1/tenants?q={tag}", token=tok)
    assert {t["id"] for t in r.json()["data"]} == {t["id"] for t in made}

    r = cc.get(f"/api/v1/tenants?q={tag}&sort=name&page=2&page_size=2", token=tok)
    body = r.json()
    assert (body["total"], body["page"], body["page_size"]) == (3, 2, 2)
    assert [t["name"].split()[0] for t in body["data"]] == ["Charlie"]

    # Past the end: no rows, but the total is still right.
    r = cc.get(f"/api/v1/tenants?q={tag}&page=9&page_size=2", token=tok)
    assert r.json() == {"data": [], "total": 3, "page": 9, "page_size": 2}

    # q matches the slug too, case-insensitively on names.
    r = cc.get(f"/api/v1/tenants?q=ls-{tag}-1", token=tok)
    assert [t["id"] for t in r.json()["data"]] == [made[1]["id"]]
    r = cc.get(f"/api/v1/tenants?q=ALPHA%20{tag}", token=tok)
    assert [t["id"] for t in r.json()["data"]] == [made[1]["id"]]


def test_list_q_wildcards_are_literal(cc):
    tag = secrets.token_hex(4)
    create_ok(cc, name=f"100% {tag}")
    create_ok(cc, name=f"100x {tag}")
    create_ok(cc, name=f"a_b {tag}")
    create_ok(cc, name=f"axb {tag}")
    tok = cc.admin_token()
    r = cc.get(f"/api/v1/tenants?q=100%25%20{tag}", token=tok)
    assert [t["name"] for t in r.json()["data"]] == [f"100% {tag}"]
    r = cc.get(f"/api/v1/tenants?q=a_b%20{tag}", token=tok)
    assert [t["name"] for t in r.json()["data"]] == [f"a_b {tag}"]


def test_list_status_filter(cc):
    tag = secrets.token_hex(4)
    active = create_ok(cc, name=f"Active {tag}")
    suspended = create_ok(cc, name=f"Suspended {tag}", status="suspended")
    deleted = create_ok(cc, name=f"Deleted {tag}")
    assert cc.delete(f"/api/v1/tenants/{deleted['id']}", token=cc.admin_token()).status_code \
        == 204
    tok = cc.admin_token()

    def ids(query):
        r = cc.get(f"/api/v1/tenants?q={tag}{query}", token=tok)
        assert r.status_code == 200, r.text
        return {t["id"] for t in r.json()["data"]}

    # Deleted tenants only show up when asked for.
    assert ids("") == {active["id"], suspended["id"]}
    assert ids("&status=active") == {active["id"]}
    assert ids("&status=suspended") == {suspended["id"]}
    assert ids("&status=deleted") == {deleted["id"]}


@pytest.mark.parametrize("query, field", [
    ("sort=plan", "sort"),
    ("sort=-bogus", "sort"),
    ("page_size=0", "page_size"),
    ("page_size=201", "page_size"),
    ("page=0", "page"),
    ("page=x", "page"),
    ("status=gone", "status"),
    ("q=" + "x" * 201, "q"),
])
def test_list_rejects_bad_query(cc, query, field):
    r = cc.get(f"/api/v1/tenants?{query}", token=cc.admin_token())
    assert_error(r, 400, "invalid_request", field)


def test_unknown_method_is_405_with_allow(cc):
    r = cc.put("/api/v1/tenants", token=cc.admin_token(), json={})
    assert_error(r, 405, "method_not_allowed")
    assert set(a.strip() for a in r.headers["Allow"].split(",")) == {"GET", "POST"}


# ---- update ------------------------------------------------------------------------

def test_patch_updates_given_fields_only(cc):
    t = create_ok(cc, plan="basic")
    r = cc.patch(f"/api/v1/tenants/{t['id']}", token=cc.admin_token(),
                 json={"name": "Renamed", "max_users": 7, "max_dids": 0})
    assert r.status_code == 200, r.text
    u = r.json()
    assert (u["name"], u["max_users"], u["max_dids"]) == ("Renamed", 7, 0)
    assert (u["slug"], u["plan"], u["status"], u["created_at"]) == (t["slug"], "basic",
                                                                   "active",
                                                                   t["created_at"])
    assert cc.get(f"/api/v1/tenants/{t['id']}", token=cc.admin_token()).json() == u

    rows = audit_rows(cc, cc.platform_tenant_id, "tenant.update", t["id"])
    assert len(rows) == 1
    assert json.loads(rows[0]["changes"]) == {
        "name": {"from": t["name"], "to": "Renamed"},
        "max_users": {"from": 100, "to": 7},
        "max_dids": {"from": 100, "to": 0}}


def test_patch_with_no_change_is_ok_and_not_audited(cc):
    t = create_ok(cc)
    r = cc.patch(f"/api/v1/tenants/{t['id']}", token=cc.admin_token(), json={})
    assert r.status_code == 200 and r.json()["name"] == t["name"]
    r = cc.patch(f"/api/v1/tenants/{t['id']}", token=cc.admin_token(),
                 json={"plan": t["plan"]})
    assert r.status_code == 200
    assert audit_rows(cc, cc.platform_tenant_id, "tenant.update", t["id"]) == []


@pytest.mark.parametrize("body, field", [
    ({"slug": "new-slug"}, "slug"),          # immutable: not a known field
    ({"id": "x"}, "id"),
    ({"status": "paused"}, "status"),
    ({"name": 5}, "name"),
    ({"name": ""}, "name"),
    ({"max_dids": -1}, "max_dids"),
    ({"max_users": None}, "max_users"),
])
def test_patch_rejects_bad_fields(cc, body, field):
    t = create_ok(cc)
    r = cc.patch(f"/api/v1/tenants/{t['id']}", token=cc.admin_token(), json=body)
    assert_error(r, 400, "invalid_request", field)
    assert cc.get(f"/api/v1/tenants/{t['id']}", token=cc.admin_token()).json() == t


def test_platform_tenant_cannot_be_suspended_or_deleted(cc):
    pid = cc.platform_tenant_id
    for status in ("suspended", "deleted"):
        r = cc.patch(f"/api/v1/tenants/{pid}", token=cc.admin_token(), json={"status": status})
        assert_error(r, 409, "conflict")
    assert_error(cc.delete(f"/api/v1/tenants/{pid}", token=cc.admin_token()), 409, "conflict")
    r = cc.get(f"/api/v1/tenants/{pid}", token=cc.admin_token())
    assert r.status_code == 200 and r.json()["status"] == "active"


# ---- permissions -------------------------------------------------------------------

def test_tenant_admin_of_a_normal_tenant_is_forbidden(cc, tenant):
    tok = tenant.admin_token
    calls = [
        ("GET", "/api/v1/tenants", None),
        ("POST", "/api/v1/tenants", {"name": "Mine", "slug": new_slug()}),
        ("GET", f"/api/v1/tenants/{tenant.id}", None),
        ("PATCH", f"/api/v1/tenants/{tenant.id}", {"max_users": 100000}),
        ("DELETE", f"/api/v1/tenants/{tenant.id}", None),
        ("GET", f"/api/v1/tenants/{cc.platform_tenant_id}", None),
    ]
    for method, path, body in calls:
        r = cc.request(method, path, token=tok, json=body)
        assert_error(r, 403, "forbidden")
    # Nothing changed.
    r = cc.get(f"/api/v1/tenants/{tenant.id}", token=cc.admin_token())
    assert r.json()["status"] == "active" and r.json()["max_users"] == 100


def test_no_token_is_401(cc):
    r = cc.get("/api/v1/tenants")
    assert_error(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


# ---- status of the tenant and of the user ------------------------------------------

@pytest.mark.allow_log(*AUTHZ_DENIAL_LOGS)
def test_suspend_blocks_existing_tokens_and_logins(cc, tenant):
    _, agent_token = tenant.make_user(roles=["agent"])
    assert cc.get("/api/v1/roles", token=agent_token).status_code == 200

    r = cc.patch(f"/api/v1/tenants/{tenant.id}", token=cc.admin_token(),
                 json={"status": "suspended"})
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    for tok in (tenant.admin_token, agent_token):
        assert_error(cc.get("/api/v1/roles", token=tok), 403, "tenant_suspended")
        assert_error(cc.get("/api/v1/permissions", token=tok), 403, "tenant_suspended")
        assert_error(cc.get("/api/v1/users", token=tok), 403, "tenant_suspended")
    r = cc.post("/api/v1/auth/login", json={"email": tenant.admin_email,
                                            "password": tenant.admin_password,
                                            "tenant": tenant.slug})
    assert_error(r, 403, "tenant_suspended")

    rows = audit_rows(cc, cc.platform_tenant_id, "tenant.update", tenant.id)
    assert len(rows) == 1
    # The telephony entry says what the suspension shut (test_215): nothing here.
    assert json.loads(rows[0]["changes"]) == {
        "status": {"from": "active", "to": "suspended"},
        "telephony": {"endpoints_blocked": 0, "registrations_removed": 0}}

    # Reactivated: the same tokens work again.
    r = cc.patch(f"/api/v1/tenants/{tenant.id}", token=cc.admin_token(),
                 json={"status": "active"})
    assert r.status_code == 200
    assert cc.get("/api/v1/roles", token=tenant.admin_token).status_code == 200


@pytest.mark.allow_log(*AUTHZ_DENIAL_LOGS)
def test_delete_is_soft(cc, tenant):
    r = cc.delete(f"/api/v1/tenants/{tenant.id}", token=cc.admin_token())
    assert r.status_code == 204 and r.content == b""

    # Still readable by id, with its status; hidden from the default list.
    r = cc.get(f"/api/v1/tenants/{tenant.id}", token=cc.admin_token())
    assert r.status_code == 200 and r.json()["status"] == "deleted"
    r = cc.get(f"/api/v1/tenants?q={tenant.slug}", token=cc.admin_token())
    assert r.json()["total"] == 0 and r.json()["data"] == []
    r = cc.get(f"/api/v1/tenants?q={tenant.slug}&status=deleted", token=cc.admin_token())
    assert [t["id"] for t in r.json()["data"]] == [tenant.id]
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT status FROM tenants WHERE id = %s", (tenant.id,))
        assert cur.fetchone()["status"] == "deleted"

    # Its users can neither log in nor use their tokens.
    r = cc.post("/api/v1/auth/login", json={"email": tenant.admin_email,
                                            "password": tenant.admin_password,
                                            "tenant": tenant.slug})
    assert_error(r, 403, "tenant_suspended")
    assert_error(cc.get("/api/v1/roles", token=tenant.admin_token), 403, "tenant_suspended")

    rows = audit_rows(cc, cc.platform_tenant_id, "tenant.delete", tenant.id)
    assert len(rows) == 1 and rows[0]["actor_id"] == admin_user_id(cc)

    # Deleting again changes nothing and is not audited twice.
    assert cc.delete(f"/api/v1/tenants/{tenant.id}", token=cc.admin_token()).status_code \
        == 204
    assert len(audit_rows(cc, cc.platform_tenant_id, "tenant.delete", tenant.id)) == 1


@pytest.mark.allow_log(*AUTHZ_DENIAL_LOGS)
def test_disabled_user_is_403_account_disabled(cc, tenant):
    user, token = tenant.make_user(roles=["viewer"])
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("UPDATE users SET status = 'disabled' WHERE tenant_id = %s AND id = %s",
                    (tenant.id, user["id"]))
    assert_error(cc.get("/api/v1/roles", token=token), 403, "account_disabled")


@pytest.mark.allow_log(*AUTHZ_DENIAL_LOGS)
def test_deleted_user_is_401(cc, tenant):
    user, token = tenant.make_user(roles=["viewer"])
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("UPDATE users SET deleted_at = UTC_TIMESTAMP() WHERE tenant_id = %s"
                    " AND id = %s", (tenant.id, user["id"]))
    r = cc.get("/api/v1/roles", token=token)
    body = assert_error(r, 401, "unauthorized")
    assert "no longer exists" in body["message"]


# ---- X-Tenant-ID -------------------------------------------------------------------

def test_x_tenant_id_is_honoured_for_the_platform_admin(cc, tenant, tenant2):
    r = cc.post("/api/v1/roles", token=tenant.admin_token,
                json={"name": "only_here", "permissions": ["users.read"]})
    assert r.status_code == 201, r.text

    names = role_names(cc, cc.admin_token(), {"X-Tenant-ID": tenant.id})
    assert "only_here" in names and "platform_admin" not in names
    assert "only_here" not in role_names(cc, cc.admin_token(), {"X-Tenant-ID": tenant2.id})
    # Without the header: the platform tenant's own roles.
    own = role_names(cc, cc.admin_token())
    assert "platform_admin" in own and "only_here" not in own
    # Upper-case ids name the same tenant.
    assert "only_here" in role_names(cc, cc.admin_token(), {"X-Tenant-ID": tenant.id.upper()})


def test_x_tenant_id_works_inside_a_suspended_tenant(cc, tenant):
    # A platform admin may act inside a suspended tenant (that is how it gets fixed).
    r = cc.patch(f"/api/v1/tenants/{tenant.id}", token=cc.admin_token(),
                 json={"status": "suspended"})
    assert r.status_code == 200
    assert role_names(cc, cc.admin_token(), {"X-Tenant-ID": tenant.id}) == TENANT_BUILTINS


@pytest.mark.allow_log(*AUTHZ_DENIAL_LOGS)
@pytest.mark.parametrize("value, status, code", [
    ("not-a-uuid", 400, "invalid_request"),
    ("", 400, "invalid_request"),
    ("00000000-0000-4000-8000-000000000000", 404, "not_found"),
])
def test_bad_x_tenant_id_for_the_platform_admin(cc, value, status, code):
    r = cc.get("/api/v1/roles", token=cc.admin_token(), headers={"X-Tenant-ID": value})
    body = assert_error(r, status, code)
    # Raised in the authz phase, the error travels as code + message only.
    assert "X-Tenant-ID" in body["message"]


@pytest.mark.allow_log(*AUTHZ_DENIAL_LOGS)
def test_x_tenant_id_of_a_deleted_tenant_is_404(cc):
    t = create_ok(cc)
    assert cc.delete(f"/api/v1/tenants/{t['id']}", token=cc.admin_token()).status_code == 204
    r = cc.get("/api/v1/roles", token=cc.admin_token(), headers={"X-Tenant-ID": t["id"]})
    assert_error(r, 404, "not_found")


def test_x_tenant_id_is_ignored_for_a_tenant_admin(cc, tenant, tenant2):
    r = cc.post("/api/v1/roles", token=tenant.admin_token,
                json={"name": "first_only", "permissions": ["users.read"]})
    assert r.status_code == 201, r.text
    r = cc.post("/api/v1/roles", token=tenant2.admin_token,
                json={"name": "second_only", "permissions": ["users.read"]})
    assert r.status_code == 201, r.text

    # tenant2's admin names tenant's id (and garbage): still sees its own tenant only.
    for value in (tenant.id, "garbage", cc.platform_tenant_id):
        names = role_names(cc, tenant2.admin_token, {"X-Tenant-ID": value})
        assert "second_only" in names and "first_only" not in names
        assert "platform_admin" not in names
    # And cannot manage tenants through it either.
    r = cc.post("/api/v1/roles", token=tenant2.admin_token, headers={"X-Tenant-ID": tenant.id},
                json={"name": "sneaky", "permissions": []})
    assert r.status_code == 201
    assert "sneaky" not in role_names(cc, tenant.admin_token)
    assert "sneaky" in role_names(cc, tenant2.admin_token)


# ---- configuration -----------------------------------------------------------------

@pytest.mark.parametrize("snippet, error", [
    ("<Location /x>\n  Require cc-permission users.read bogus.perm\n</Location>",
     "unknown permission 'bogus.perm'"),
    ("<Location /x>\n  Require cc-permission\n</Location>", "at least one permission"),
    ("<Location /x>\n  Require cc-tenant extra\n</Location>", "takes no arguments"),
    ("CCTenantCacheTTL -1", "CCTenantCacheTTL"),
    ("CCTenantCacheTTL ten", "CCTenantCacheTTL"),
    ("CCTenantCacheTTL 3601", "CCTenantCacheTTL"),
    ("CCPlatformTenant Not_A_Slug", "CCPlatformTenant"),
])
def test_bad_configuration_is_refused(cc, snippet, error):
    rc, out = cc.config_test(cc.conf_text() + "\n" + snippet + "\n")
    assert rc != 0 and error in out, out


def test_good_configuration_is_accepted(cc):
    snippet = ("<Location /x>\n  AuthType CCBearer\n"
               "  Require cc-permission users.read   tenants.manage\n</Location>\n"
               "CCTenantCacheTTL 0\nCCPlatformTenant ops-tenant\n")
    rc, out = cc.config_test(cc.conf_text() + "\n" + snippet)
    assert rc == 0, out
