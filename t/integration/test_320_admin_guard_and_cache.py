"""Issue 8 #4 and #8: a tenant never loses its last admin, and writes that change who
may do what reach every httpd child of the node at once.

An "admin" here is an active user whose roles together grant users.write and
roles.manage (who can repair the tenant).  Any change that would leave a tenant that
had one with none is 409, race-safe.  The #8 tests matter in the second pass of
`make itest`, which runs this file with CCTenantCacheTTL at its default (10 s): the
cache is warm in both children and a role, status or tenant change must still apply
to the very next request, wherever it lands.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

USERS = "/api/v1/users"
ROLES = "/api/v1/roles"


def assert_conflict(r):
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["error"] == "conflict"
    assert "users.write and roles.manage" in body["message"]


def as_platform(cc, tenant):
    return {"token": cc.admin_token(), "headers": {"X-Tenant-ID": tenant.id}}


def user_of(cc, tenant, uid):
    r = cc.get(f"{USERS}/{uid}", **as_platform(cc, tenant))
    assert r.status_code == 200, r.text
    return r.json()


def warm(cc, token, path="/api/v1/users", n=16):
    """n requests with token (spread over both children): every child caches it."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda _: cc.get(path, token=token).status_code, range(n)))
    return codes


# ---- the last admin (#4) -------------------------------------------------------------

def test_the_only_admin_cannot_drop_their_own_roles(cc, tenant):
    me = tenant.admin_user_id
    for roles in ([], ["agent"], ["supervisor", "viewer"]):
        assert_conflict(cc.put(f"{USERS}/{me}/roles", token=tenant.admin_token,
                               json={"roles": roles}))
    assert user_of(cc, tenant, me)["roles"] == ["tenant_admin"]
    # Adding a role (keeping admin) is fine.
    r = cc.put(f"{USERS}/{me}/roles", token=tenant.admin_token,
               json={"roles": ["tenant_admin", "agent"]})
    assert r.status_code == 200, r.text


def test_the_platform_admin_cannot_remove_a_tenants_last_admin_either(cc, tenant):
    me = tenant.admin_user_id
    p = as_platform(cc, tenant)
    assert_conflict(cc.patch(f"{USERS}/{me}", json={"status": "disabled"}, **p))
    assert_conflict(cc.delete(f"{USERS}/{me}", **p))
    assert_conflict(cc.put(f"{USERS}/{me}/roles", json={"roles": ["agent"]}, **p))
    u = user_of(cc, tenant, me)
    assert u["status"] == "active" and u["roles"] == ["tenant_admin"]
    assert cc.get("/api/v1/auth/me", token=tenant.admin_token).status_code == 200


def test_with_a_second_admin_one_may_go(cc, tenant):
    other, other_token = tenant.make_user(roles=["tenant_admin"])
    r = cc.patch(f"{USERS}/{other['id']}", token=tenant.admin_token,
                 json={"status": "disabled"})
    assert r.status_code == 200, r.text
    # Now the first is the last one again.
    assert_conflict(cc.put(f"{USERS}/{tenant.admin_user_id}/roles",
                           token=tenant.admin_token, json={"roles": []}))
    # Re-enabled, the other may take over and the first step down.
    assert cc.patch(f"{USERS}/{other['id']}", token=tenant.admin_token,
                    json={"status": "active"}).status_code == 200
    r = cc.put(f"{USERS}/{tenant.admin_user_id}/roles", token=tenant.admin_token,
               json={"roles": ["agent"]})
    assert r.status_code == 200, r.text


def test_admin_power_split_over_two_roles_counts(cc, tenant):
    """The two permissions may come from different roles; weakening one of them (a
    custom role) is the same loss."""
    for name, perm in (("writer", "users.write"), ("keeper", "roles.manage")):
        r = cc.post(ROLES, token=tenant.admin_token,
                    json={"name": f"{name}_{tenant.slug[-6:]}", "permissions": [perm]})
        assert r.status_code == 201, r.text
    writer, keeper = f"writer_{tenant.slug[-6:]}", f"keeper_{tenant.slug[-6:]}"
    split, split_token = tenant.make_user(roles=[writer, keeper])
    # The tenant_admin steps down: the split user is still an admin.
    r = cc.put(f"{USERS}/{tenant.admin_user_id}/roles", token=tenant.admin_token,
               json={"roles": ["agent"]})
    assert r.status_code == 200, r.text
    # Weakening either custom role would leave no admin.
    assert_conflict(cc.patch(f"{ROLES}/{keeper}", token=split_token,
                             json={"permissions": ["users.write"]}))
    assert_conflict(cc.put(f"{USERS}/{split['id']}/roles", token=split_token,
                           json={"roles": [writer]}))
    # A description change of the same role is no loss.
    r = cc.patch(f"{ROLES}/{keeper}", token=split_token, json={"description": "keys"})
    assert r.status_code == 200, r.text


def test_a_tenant_without_an_admin_is_not_blocked(cc, tenant):
    """The guard protects an admin that exists; in a tenant that has none (made so by
    the platform admin) ordinary changes still work."""
    p = as_platform(cc, tenant)
    agent, _ = tenant.make_user(roles=["agent"])
    # Make the admin a plain agent by removing it through the database (no API path
    # allows it), then the tenant has no admin at all.
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("UPDATE users SET status = 'disabled' WHERE tenant_id = %s AND id = %s",
                    (tenant.id, tenant.admin_user_id))
    r = cc.patch(f"{USERS}/{agent['id']}", json={"status": "disabled"}, **p)
    assert r.status_code == 200, r.text
    assert cc.delete(f"{USERS}/{agent['id']}", **p).status_code == 204


@pytest.mark.parametrize("round_", range(5))
def test_two_admins_disabling_each_other_at_once_leave_one(cc, tenant, round_):
    """Race-safe: each request locks its target and share-locks the remaining admins,
    so of two admins disabling each other at the same moment exactly one wins (a
    deadlock between them is retried by the kit, then decided)."""
    b, b_token = tenant.make_user(roles=["tenant_admin"])
    a_id, a_token = tenant.admin_user_id, tenant.admin_token
    barrier = threading.Barrier(2)

    def disable(token, target):
        barrier.wait()
        return cc.patch(f"{USERS}/{target}", token=token, json={"status": "disabled"})

    with ThreadPoolExecutor(max_workers=2) as pool:
        ra, rb = pool.map(lambda args: disable(*args), [(a_token, b["id"]), (b_token, a_id)])
    codes = sorted([ra.status_code, rb.status_code])
    # The loser is refused by the guard (409), or, when the winner committed before the
    # loser's request was even authorized, as the disabled user it now is (403).
    assert codes in ([200, 403], [200, 409]), (ra.text, rb.text)
    loser = ra if ra.status_code != 200 else rb
    if loser.status_code == 409:
        assert_conflict(loser)
    else:
        assert loser.json()["error"] == "account_disabled"
    statuses = [user_of(cc, tenant, u)["status"] for u in (a_id, b["id"])]
    assert statuses.count("active") == 1, statuses
    # Put the tenant back as the fixture made it (the admin active, b gone).
    p = as_platform(cc, tenant)
    if statuses[0] != "active":
        assert cc.patch(f"{USERS}/{a_id}", json={"status": "active"}, **p).status_code == 200
    assert cc.delete(f"{USERS}/{b['id']}", **p).status_code == 204


# ---- the principal cache follows writes at once (#8) ----------------------------------

def test_a_role_change_applies_to_the_next_request_in_every_child(cc, tenant):
    u, token = tenant.make_user(roles=["supervisor"])
    assert set(warm(cc, token)) == {200}
    r = cc.put(f"{USERS}/{u['id']}/roles", token=tenant.admin_token, json={"roles": ["agent"]})
    assert r.status_code == 200, r.text
    assert set(warm(cc, token, "/api/v1/audit-logs")) == {403}
    r = cc.put(f"{USERS}/{u['id']}/roles", token=tenant.admin_token,
               json={"roles": ["supervisor"]})
    assert r.status_code == 200, r.text
    assert set(warm(cc, token)) == {200}


def test_a_custom_roles_new_permissions_apply_at_once(cc, tenant):
    name = f"aud_{tenant.slug[-6:]}"
    r = cc.post(ROLES, token=tenant.admin_token, json={"name": name,
                                                       "permissions": ["audit.read"]})
    assert r.status_code == 201, r.text
    u, token = tenant.make_user(roles=[name])
    assert set(warm(cc, token, "/api/v1/audit-logs")) == {200}
    r = cc.patch(f"{ROLES}/{name}", token=tenant.admin_token,
                 json={"permissions": ["users.read"]})
    assert r.status_code == 200, r.text
    assert set(warm(cc, token, "/api/v1/audit-logs")) == {403}
    assert set(warm(cc, token, "/api/v1/users")) == {200}


def test_disabling_a_user_and_suspending_a_tenant_apply_at_once(cc, tenant):
    u, token = tenant.make_user(roles=["agent"])
    assert set(warm(cc, token, "/api/v1/auth/me")) == {200}
    r = cc.patch(f"{USERS}/{u['id']}", token=tenant.admin_token, json={"status": "disabled"})
    assert r.status_code == 200, r.text
    assert set(warm(cc, token, "/api/v1/auth/me")) == {403}

    assert set(warm(cc, tenant.admin_token, "/api/v1/auth/me")) == {200}
    admin = cc.admin_token()
    r = cc.patch(f"/api/v1/tenants/{tenant.id}", token=admin, json={"status": "suspended"})
    assert r.status_code == 200, r.text
    assert set(warm(cc, tenant.admin_token, "/api/v1/auth/me")) == {403}
    r = cc.patch(f"/api/v1/tenants/{tenant.id}", token=admin, json={"status": "active"})
    assert r.status_code == 200, r.text
    assert set(warm(cc, tenant.admin_token, "/api/v1/auth/me")) == {200}
    # Deleted (soft), and restored.
    assert cc.delete(f"/api/v1/tenants/{tenant.id}", token=admin).status_code == 204
    assert set(warm(cc, tenant.admin_token, "/api/v1/auth/me")) == {403}
    assert cc.patch(f"/api/v1/tenants/{tenant.id}", token=admin,
                    json={"status": "active"}).status_code == 200
    assert set(warm(cc, tenant.admin_token, "/api/v1/auth/me")) == {200}


def test_a_deleted_user_is_gone_at_once(cc, tenant):
    u, token = tenant.make_user(roles=["agent"])
    assert set(warm(cc, token, "/api/v1/auth/me")) == {200}
    assert cc.delete(f"{USERS}/{u['id']}", token=tenant.admin_token).status_code == 204
    assert set(warm(cc, token, "/api/v1/auth/me")) == {401}
