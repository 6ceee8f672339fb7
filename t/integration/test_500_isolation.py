"""Tenant isolation for users and audit logs: another tenant's objects are 404 on every
read, update and delete, never listed (searches included), and its roles unknown.
X-Tenant-ID only moves platform admins."""

import secrets

import pytest

from cchelpers import assert_error, users_state

USERS = "/api/v1/users"
AUDIT = "/api/v1/audit-logs"


def user_body(email, roles=("agent",), name=None):
    return {"email": email, "name": name or "Iso " + secrets.token_hex(3),
            "password": "Pw1" + secrets.token_hex(8), "roles": list(roles)}


def create_ok(cc, token, body, headers=None):
    r = cc.post(USERS, token=token, json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def all_users(cc, token, query="", headers=None):
    r = cc.get(f"{USERS}?page_size=200{query}", token=token, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def all_entries(cc, token, query="", headers=None):
    r = cc.get(f"{AUDIT}?page_size=200{query}", token=token, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def snapshot(cc, tenant_id):
    return users_state(cc, tenant_id)


@pytest.fixture
def victim(cc, tenant):
    """A user of `tenant` (and its audit entry) that tenant2 will try to reach."""
    email = f"victim-{secrets.token_hex(4)}@shared.example.com"
    u = create_ok(cc, tenant.admin_token, user_body(email, name="Victim Person"))
    r = cc.get(f"{AUDIT}?entity_type=user&entity_id={u['id']}", token=tenant.admin_token)
    (entry,) = r.json()["data"]
    return u, entry


def test_other_tenants_user_is_404_for_every_method(cc, tenant, tenant2, victim):
    u, _ = victim
    path = f"{USERS}/{u['id']}"
    before = snapshot(cc, tenant.id)
    t2 = tenant2.admin_token

    assert_error(cc.get(path, token=t2), 404, "not_found")
    assert_error(cc.patch(path, token=t2, json={"name": "Pwned"}), 404, "not_found")
    assert_error(cc.patch(path, token=t2, json={"password": "Pw1" + "x" * 10}), 404,
                 "not_found")
    assert_error(cc.patch(path, token=t2, json={"status": "disabled"}), 404, "not_found")
    assert_error(cc.put(path + "/roles", token=t2, json={"roles": ["tenant_admin"]}), 404,
                 "not_found")
    assert_error(cc.put(path + "/roles", token=t2, json={"roles": []}), 404, "not_found")
    assert_error(cc.delete(path, token=t2), 404, "not_found")
    # The other tenant's admin and the tenant's own admin are just as unreachable.
    assert_error(cc.delete(f"{USERS}/{tenant.admin_user_id}", token=t2), 404, "not_found")
    assert_error(cc.get(f"{USERS}/{tenant.admin_user_id}", token=t2), 404, "not_found")
    # Same answer as for an id that does not exist at all.
    missing = cc.get(f"{USERS}/999999999", token=t2).json()
    other = cc.get(path, token=t2).json()
    assert {k: v for k, v in missing.items() if k != "request_id"} == \
        {k: v for k, v in other.items() if k != "request_id"}

    assert snapshot(cc, tenant.id) == before
    assert cc.get(path, token=tenant.admin_token).json() == u
    # tenant2's audit log got nothing for these failures either (only its admin's
    # creation and login).
    assert all_entries(cc, t2)["total"] == 2


def test_other_tenants_audit_entry_is_404(cc, tenant, tenant2, victim):
    _, entry = victim
    t2 = tenant2.admin_token
    assert_error(cc.get(f"{AUDIT}/{entry['id']}", token=t2), 404, "not_found")
    assert_error(cc.get(f"{AUDIT}/{entry['id']}", token=t2,
                        headers={"X-Tenant-ID": tenant.id}), 404, "not_found")
    assert cc.get(f"{AUDIT}/{entry['id']}", token=tenant.admin_token).json() == entry


def test_lists_never_show_the_other_tenant(cc, tenant, tenant2, victim):
    u, entry = victim
    t2 = tenant2.admin_token
    mine = create_ok(cc, t2, user_body(f"mine-{secrets.token_hex(4)}@x.example.com",
                                       name="Victim Lookalike"))

    body = all_users(cc, t2)
    assert {x["id"] for x in body["data"]} == {tenant2.admin_user_id, mine["id"]}
    assert body["total"] == 2
    assert all(x["tenant_id"] == tenant2.id for x in body["data"])
    for q in (u["email"], u["email"].split("@")[0], "Victim", "shared.example", "@"):
        r = cc.get(USERS, token=t2, params={"q": q, "page_size": 200})
        assert r.status_code == 200
        assert u["id"] not in [x["id"] for x in r.json()["data"]], q
    assert [x["id"] for x in all_users(cc, t2, "&q=Victim")["data"]] == [mine["id"]]
    for query in ("&role=agent", "&status=active", "&sort=-created_at", "&role=tenant_admin"):
        ids = {x["id"] for x in all_users(cc, t2, query)["data"]}
        assert u["id"] not in ids and tenant.admin_user_id not in ids, query

    entries = all_entries(cc, t2)
    assert entry["id"] not in [e["id"] for e in entries["data"]]
    for query in (f"&entity_id={u['id']}", f"&actor_id={tenant.admin_user_id}",
                  "&entity_type=user&action=user.create"):
        got = all_entries(cc, t2, query)
        assert entry["id"] not in [e["id"] for e in got["data"]], query
    assert all_entries(cc, t2, f"&entity_id={u['id']}")["total"] == 0
    assert all_entries(cc, t2, f"&actor_id={tenant.admin_user_id}")["total"] == 0
    # And the other way round.
    ids = {x["id"] for x in all_users(cc, tenant.admin_token)["data"]}
    assert mine["id"] not in ids and tenant2.admin_user_id not in ids


def test_custom_role_of_another_tenant_is_unknown(cc, tenant, tenant2):
    r = cc.post("/api/v1/roles", token=tenant.admin_token,
                json={"name": "night_shift", "permissions": ["users.read"]})
    assert r.status_code == 201, r.text
    assert create_ok(cc, tenant.admin_token,
                     user_body(f"n-{secrets.token_hex(4)}@x.example.com",
                               roles=["night_shift"]))["roles"] == ["night_shift"]

    t2 = tenant2.admin_token
    r = cc.post(USERS, token=t2, json=user_body(f"n-{secrets.token_hex(4)}@x.example.com",
                                                roles=["night_shift"]))
    body = assert_error(r, 400, "invalid_request", "roles")
    assert "night_shift" in " ".join(d["issue"] for d in body["details"])
    mine = create_ok(cc, t2, user_body(f"m-{secrets.token_hex(4)}@x.example.com"))
    r = cc.put(f"{USERS}/{mine['id']}/roles", token=t2, json={"roles": ["night_shift"]})
    assert_error(r, 400, "invalid_request", "roles")
    assert all_users(cc, t2, "&role=night_shift")["total"] == 0
    assert cc.get(f"{USERS}/{mine['id']}", token=t2).json()["roles"] == ["agent"]


def test_x_tenant_id_is_ignored_for_non_platform_users(cc, tenant, tenant2, victim):
    u, entry = victim
    h = {"X-Tenant-ID": tenant.id}
    t2 = tenant2.admin_token
    body = all_users(cc, t2, headers=h)
    assert {x["id"] for x in body["data"]} == {tenant2.admin_user_id}
    assert_error(cc.get(f"{USERS}/{u['id']}", token=t2, headers=h), 404, "not_found")
    assert_error(cc.delete(f"{USERS}/{u['id']}", token=t2, headers=h), 404, "not_found")
    assert_error(cc.patch(f"{USERS}/{u['id']}", token=t2, headers=h, json={"name": "x"}), 404,
                 "not_found")
    assert entry["id"] not in [e["id"] for e in all_entries(cc, t2, headers=h)["data"]]
    # A create lands in the caller's own tenant.
    created = create_ok(cc, t2, user_body(f"h-{secrets.token_hex(4)}@x.example.com"),
                        headers=h)
    assert created["tenant_id"] == tenant2.id
    assert created["id"] not in {x["id"] for x in all_users(cc, tenant.admin_token)["data"]}
    # Also for an ordinary member, and with the platform tenant's id.
    _, agent = tenant2.make_user(roles=["agent"])
    for hdr in (h, {"X-Tenant-ID": cc.platform_tenant_id}):
        ids = {x["id"] for x in all_users(cc, agent, headers=hdr)["data"]}
        assert u["id"] not in ids and tenant2.admin_user_id in ids


def test_same_email_may_exist_in_both_tenants(cc, tenant, tenant2):
    email = f"shared-{secrets.token_hex(4)}@both.example.com"
    pw1, pw2 = "Pw1" + secrets.token_hex(8), "Pw1" + secrets.token_hex(8)
    a = create_ok(cc, tenant.admin_token, {**user_body(email), "password": pw1})
    b = create_ok(cc, tenant2.admin_token, {**user_body(email.upper()), "password": pw2})
    assert a["email"] == b["email"] == email and a["id"] != b["id"]
    assert (a["tenant_id"], b["tenant_id"]) == (tenant.id, tenant2.id)
    # Each tenant sees only its own; logins pick the tenant.
    assert cc.login(email, pw1, tenant=tenant.slug)["user"]["id"] == a["id"]
    assert cc.login(email, pw2, tenant=tenant2.slug)["user"]["id"] == b["id"]
    assert [x["id"] for x in all_users(cc, tenant2.admin_token, f"&q={email}")["data"]] == \
        [b["id"]]
    # Deleting one leaves the other alone; changing one's email does not collide.
    assert cc.delete(f"{USERS}/{a['id']}", token=tenant.admin_token).status_code == 204
    still = cc.get(f"{USERS}/{b['id']}", token=tenant2.admin_token).json()
    assert (still["email"], still["status"], still["roles"]) == (email, "active", ["agent"])
    r = cc.patch(f"{USERS}/{b['id']}", token=tenant2.admin_token,
                 json={"email": tenant.admin_email})
    assert r.status_code == 200 and r.json()["email"] == tenant.admin_email


def test_platform_admin_sees_only_the_tenant_it_names(cc, tenant, tenant2, victim):
    u, entry = victim
    admin = cc.admin_token()
    h2 = {"X-Tenant-ID": tenant2.id}
    assert_error(cc.get(f"{USERS}/{u['id']}", token=admin, headers=h2), 404, "not_found")
    assert_error(cc.delete(f"{USERS}/{u['id']}", token=admin, headers=h2), 404, "not_found")
    ids = {x["id"] for x in all_users(cc, admin, headers=h2)["data"]}
    assert ids == {tenant2.admin_user_id}
    assert entry["id"] not in [e["id"] for e in all_entries(cc, admin, headers=h2)["data"]]
    # In its own tenant (no header) neither tenant's users show.
    ids = {x["id"] for x in all_users(cc, admin)["data"]}
    assert u["id"] not in ids and tenant2.admin_user_id not in ids
    assert cc.get(f"{USERS}/{u['id']}", token=admin,
                  headers={"X-Tenant-ID": tenant.id}).json() == u
