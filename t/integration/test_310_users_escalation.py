"""users.write is not a way up (mod_callcenter/cc_users.c check_within_caller).

A caller may only assign roles, and only edit, delete or re-role users, whose permissions
it holds itself; platform_admin only by a platform admin.  Found by review: a user with a
custom users.write role could grant itself tenant_admin or reset a tenant admin's
password and log in as it; a platform-tenant tenant_admin could make itself
platform_admin.
"""

import secrets

USERS = "/api/v1/users"
ROLES = "/api/v1/roles"


def make_user_manager(cc, tenant):
    """A user whose only role grants users.read + users.write."""
    name = "umgr_" + secrets.token_hex(3)
    r = cc.post(ROLES, token=tenant.admin_token,
                json={"name": name, "permissions": ["users.read", "users.write"]})
    assert r.status_code == 201, r.text
    return cc_user(cc, tenant, [name])


def cc_user(cc, tenant, roles):
    user, token = tenant.make_user(roles=roles)
    return user, token


def assert_forbidden(r):
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "forbidden"


def test_user_manager_cannot_grant_itself_tenant_admin(cc, tenant):
    user, token = make_user_manager(cc, tenant)
    r = cc.put(f"{USERS}/{user['id']}/roles", token=token, json={"roles": ["tenant_admin"]})
    assert_forbidden(r)
    me = cc.get("/api/v1/auth/me", token=token).json()
    assert sorted(me["permissions"]) == ["users.read", "users.write"]


def test_user_manager_cannot_create_a_more_powerful_user(cc, tenant):
    _, token = make_user_manager(cc, tenant)
    before = cc.get(USERS, token=tenant.admin_token).json()["total"]
    r = cc.post(USERS, token=token, json={
        "email": f"x-{secrets.token_hex(4)}@example.com", "name": "X",
        "password": "Pw1" + secrets.token_hex(8), "roles": ["supervisor"]})
    assert_forbidden(r)
    assert cc.get(USERS, token=tenant.admin_token).json()["total"] == before


def test_user_manager_cannot_take_over_the_tenant_admin(cc, tenant):
    _, token = make_user_manager(cc, tenant)
    admin = f"{USERS}/{tenant.admin_user_id}"
    assert_forbidden(cc.patch(admin, token=token, json={"password": "Pw1" + secrets.token_hex(8)}))
    assert_forbidden(cc.patch(admin, token=token, json={"status": "disabled"}))
    assert_forbidden(cc.delete(admin, token=token))
    assert_forbidden(cc.put(admin + "/roles", token=token, json={"roles": ["viewer"]}))
    # The admin is untouched and still logs in with its own password.
    assert cc.login(tenant.admin_email, tenant.admin_password, tenant=tenant.slug)


def test_user_manager_still_manages_users_within_its_reach(cc, tenant):
    _, token = make_user_manager(cc, tenant)
    weak = "weak_" + secrets.token_hex(3)
    assert cc.post(ROLES, token=tenant.admin_token,
                   json={"name": weak, "permissions": ["users.read"]}).status_code == 201
    r = cc.post(USERS, token=token, json={
        "email": f"w-{secrets.token_hex(4)}@example.com", "name": "W",
        "password": "Pw1" + secrets.token_hex(8), "roles": [weak]})
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    assert cc.patch(f"{USERS}/{uid}", token=token, json={"name": "W2"}).status_code == 200
    assert cc.delete(f"{USERS}/{uid}", token=token).status_code == 204


def test_platform_tenant_admin_cannot_become_platform_admin(cc):
    admin = cc.admin_token()
    platform = cc.get("/api/v1/auth/me", token=admin).json()["tenant_id"]
    email = f"ta-{secrets.token_hex(4)}@example.com"
    password = "Pw1" + secrets.token_hex(8)
    r = cc.post(USERS, token=admin, json={"email": email, "name": "Platform TA",
                                          "password": password, "roles": ["tenant_admin"]})
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    token = cc.login(email, password, tenant="platform")["access_token"]
    assert_forbidden(cc.put(f"{USERS}/{uid}/roles", token=token,
                            json={"roles": ["platform_admin"]}))
    assert cc.get("/api/v1/tenants", token=token).status_code == 403
    # Clean up so later platform-tenant lists stay small.
    assert cc.delete(f"{USERS}/{uid}", token=admin).status_code == 204
    assert platform
