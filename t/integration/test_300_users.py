"""API.md "Users and audit": /api/v1/users (mod_callcenter/cc_users.c).

Create, get, list (paging, sort, q/status/role filters), patch, roles, soft delete,
self-protection, email uniqueness, the max_users quota, validation, RBAC, the platform
admin's X-Tenant-ID, and text that must survive the round trip unchanged.
"""

import json
import re
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from cchelpers import assert_error, audit_rows, detail_fields
from ccobjects import (LIKE_LOOKALIKES, Resource, create_named, field_cases, new_email,
                       new_password, set_tenant_limit, user_body)

USERS = "/api/v1/users"
LOGIN = "/api/v1/auth/login"
USER_KEYS = {"id", "tenant_id", "email", "name", "status", "roles", "extension",
             "created_at", "updated_at", "last_login_at"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
# A deleted or unknown user's token is refused by the authz provider (AH01629).
AUTHZ_DENIAL_LOGS = ("AH01631", "AH01629")


# ---- helpers ---------------------------------------------------------------------

USER = Resource(USERS, body=lambda tenant, fields: user_body(tenant, **fields))
create, create_ok, listing, list_ids = USER.create, USER.create_ok, USER.listing, USER.list_ids


def login_status(cc, email, password, tenant):
    return cc.post(LOGIN, json={"email": email, "password": password, "tenant": tenant.slug})


def assert_user_shape(u):
    assert set(u) == USER_KEYS, u
    assert isinstance(u["id"], int) and not isinstance(u["id"], bool) and u["id"] > 0
    assert isinstance(u["tenant_id"], str)
    assert isinstance(u["roles"], list) and all(isinstance(x, str) for x in u["roles"])
    assert u["status"] in ("active", "disabled")
    assert u["extension"] is None or isinstance(u["extension"], str)
    assert RFC3339.match(u["created_at"]) and RFC3339.match(u["updated_at"])
    assert u["last_login_at"] is None or RFC3339.match(u["last_login_at"])


def no_secret_in(text, password):
    low = text.lower()
    assert "password" not in low and "hash" not in low and "$2y$" not in text, text
    assert password not in text


def set_max_users(cc, tenant, n):
    set_tenant_limit(cc, tenant, "max_users", n)


# ---- create and get ----------------------------------------------------------------

def test_create_returns_the_user_with_real_types(cc, tenant):
    body = user_body(tenant, email=new_email(tenant, "Mixed.Case").replace("example", "EXAMPLE"),
                     name="Ada Lovelace", roles=["viewer", "agent", "agent"])
    r = cc.post(USERS, token=tenant.admin_token, json=body)
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    u = r.json()
    assert_user_shape(u)
    assert r.headers["Location"] == f"{USERS}/{u['id']}"
    assert u["tenant_id"] == tenant.id
    assert u["email"] == body["email"].lower()
    assert u["name"] == "Ada Lovelace"
    assert u["status"] == "active"
    assert u["roles"] == ["agent", "viewer"]        # de-duplicated, by name
    assert u["extension"] is None and u["last_login_at"] is None
    no_secret_in(r.text, body["password"])

    g = cc.get(f"{USERS}/{u['id']}", token=tenant.admin_token)
    assert g.status_code == 200 and g.json() == u
    no_secret_in(g.text, body["password"])
    # The new user can log in with the password it was given, by any case of its email.
    lg = cc.login(body["email"].upper(), body["password"], tenant=tenant.slug)
    assert lg["user"]["id"] == u["id"]
    no_secret_in(json.dumps(lg["user"]), body["password"])


def test_create_disabled_user_with_no_roles(cc, tenant):
    body = user_body(tenant, roles=[], status="disabled")
    u = cc.post(USERS, token=tenant.admin_token, json=body).json()
    assert (u["status"], u["roles"]) == ("disabled", [])
    r = login_status(cc, body["email"], body["password"], tenant)
    assert_error(r, 403, "account_disabled")


def test_get_unknown_user_is_404(cc, tenant):
    assert_error(cc.get(f"{USERS}/999999999", token=tenant.admin_token), 404, "not_found")


def test_last_login_at_is_set_by_a_login(cc, tenant):
    user, _ = tenant.make_user()
    g = cc.get(f"{USERS}/{user['id']}", token=tenant.admin_token).json()
    assert RFC3339.match(g["last_login_at"])


# ---- list --------------------------------------------------------------------------

def test_list_envelope_total_and_paging(cc, tenant):
    made = [create_ok(cc, tenant, name=f"Pager {i:02d}") for i in range(5)]
    body = listing(cc, tenant.admin_token)
    assert (body["total"], body["page"], body["page_size"]) == (6, 1, 20)   # + the admin
    assert {u["id"] for u in body["data"]} == {u["id"] for u in made} | {tenant.admin_user_id}
    for u in body["data"]:
        assert_user_shape(u)
        assert u["tenant_id"] == tenant.id
    no_secret_in(json.dumps(body), "Pw1")

    by_name = sorted(made, key=lambda u: u["name"])          # "Pager .." < "Tenant Admin"
    p2 = listing(cc, tenant.admin_token, "?page=2&page_size=2&sort=name")
    assert (p2["total"], p2["page"], p2["page_size"]) == (6, 2, 2)
    assert [u["id"] for u in p2["data"]] == [u["id"] for u in by_name[2:4]]
    p3 = listing(cc, tenant.admin_token, "?page=3&page_size=2&sort=name")
    assert [u["id"] for u in p3["data"]] == [by_name[4]["id"], tenant.admin_user_id]
    past = listing(cc, tenant.admin_token, "?page=9&page_size=2")
    assert past["data"] == [] and past["total"] == 6 and past["page"] == 9
    # page_size bounds are inclusive
    assert listing(cc, tenant.admin_token, "?page_size=200")["page_size"] == 200
    assert len(listing(cc, tenant.admin_token, "?page_size=1")["data"]) == 1


def test_list_sorts(cc, tenant):
    names = ["delta", "Alpha", "charlie", "Bravo"]
    made = [create_ok(cc, tenant, name=n, email=new_email(tenant, n[::-1].lower()))
            for n in names]
    made.append(cc.get(f"{USERS}/{tenant.admin_user_id}", token=tenant.admin_token).json())

    def ids(query):
        return list_ids(cc, tenant.admin_token, query)

    # Case-insensitive collation; ties broken by id.
    by_name = [u["id"] for u in sorted(made, key=lambda u: (u["name"].lower(), u["id"]))]
    assert ids("") == by_name                      # default sort: name
    assert ids("?sort=name") == by_name
    assert ids("?sort=-name") == by_name[::-1]
    by_email = [u["id"] for u in sorted(made, key=lambda u: (u["email"], u["id"]))]
    assert ids("?sort=email") == by_email
    assert ids("?sort=-email") == by_email[::-1]
    by_created = [u["id"] for u in sorted(made, key=lambda u: (u["created_at"], u["id"]))]
    assert ids("?sort=created_at") == by_created
    assert ids("?sort=-created_at") == by_created[::-1]


def test_list_q_matches_name_and_email_substrings(cc, tenant):
    a = create_ok(cc, tenant, name="Grace Hopper")
    b = create_ok(cc, tenant, name="Someone", email=f"hopperfan-{secrets.token_hex(3)}@"
                                                    f"{tenant.slug}.example.com")
    create_ok(cc, tenant, name="Unrelated")
    body = listing(cc, tenant.admin_token, "?q=hopper")
    assert sorted(u["id"] for u in body["data"]) == sorted([a["id"], b["id"]])
    assert body["total"] == 2
    assert list_ids(cc, tenant.admin_token, "?q=ace+Hop") == [a["id"]]
    assert list_ids(cc, tenant.admin_token, "?q=" + b["email"][:12]) == [b["id"]]
    assert listing(cc, tenant.admin_token, "?q=nobody-has-this")["total"] == 0
    # An empty q is no filter.
    assert listing(cc, tenant.admin_token, "?q=")["total"] == 4


def test_list_q_wildcards_are_literal(cc, tenant):
    made = create_named(USER, cc, tenant, LIKE_LOOKALIKES + ("back\\slash", "backslash"))
    pct, und, bsl = made["100% sure"], made["snake_case"], made["back\\slash"]
    assert list_ids(cc, tenant.admin_token, "?q=%25") == [pct["id"]]
    assert list_ids(cc, tenant.admin_token, "?q=0%25+s") == [pct["id"]]
    assert list_ids(cc, tenant.admin_token, "?q=_") == [und["id"]]
    assert list_ids(cc, tenant.admin_token, "?q=e_c") == [und["id"]]
    assert list_ids(cc, tenant.admin_token, "?q=%5C") == [bsl["id"]]
    assert list_ids(cc, tenant.admin_token, "?q=%25'+OR+1%3D1+--") == []


def test_list_status_and_role_filters(cc, tenant):
    off = create_ok(cc, tenant, status="disabled", roles=["viewer"])
    ag = create_ok(cc, tenant, roles=["agent"])
    both = create_ok(cc, tenant, roles=["agent", "supervisor"])
    body = listing(cc, tenant.admin_token, "?status=disabled")
    assert [u["id"] for u in body["data"]] == [off["id"]] and body["total"] == 1
    active = listing(cc, tenant.admin_token, "?status=active&page_size=1")
    assert active["total"] == 3 and len(active["data"]) == 1
    assert sorted(list_ids(cc, tenant.admin_token, "?role=agent")) == sorted([ag["id"],
                                                                              both["id"]])
    assert list_ids(cc, tenant.admin_token, "?role=supervisor") == [both["id"]]
    assert list_ids(cc, tenant.admin_token, "?role=tenant_admin") == [tenant.admin_user_id]
    assert list_ids(cc, tenant.admin_token, "?role=viewer&status=active") == []
    assert listing(cc, tenant.admin_token, "?role=no_such_role")["total"] == 0
    # A user listed by role still shows all its roles.
    u = listing(cc, tenant.admin_token, "?role=supervisor")["data"][0]
    assert u["roles"] == ["agent", "supervisor"]
    combined = listing(cc, tenant.admin_token, f"?role=agent&q={both['name'][5:]}")
    assert [x["id"] for x in combined["data"]] == [both["id"]]


@pytest.mark.parametrize("query, field", [
    ("?status=deleted", "status"),
    ("?status=", "status"),
    ("?role=Bad-Role", "role"),
    ("?q=" + "x" * 201, "q"),
])
def test_list_rejects_bad_filters(cc, tenant, query, field):
    USER.assert_bad_query(cc, tenant, query, field)


# ---- patch -------------------------------------------------------------------------

def test_patch_name_email_status(cc, tenant):
    u = create_ok(cc, tenant, name="Before")
    email = new_email(tenant, "After")
    r = cc.patch(f"{USERS}/{u['id']}", token=tenant.admin_token,
                 json={"name": "After", "email": email, "status": "disabled"})
    assert r.status_code == 200, r.text
    p = r.json()
    assert_user_shape(p)
    assert (p["name"], p["email"], p["status"]) == ("After", email.lower(), "disabled")
    assert (p["id"], p["roles"], p["created_at"]) == (u["id"], u["roles"], u["created_at"])
    assert p["updated_at"] >= u["updated_at"]
    assert cc.get(f"{USERS}/{u['id']}", token=tenant.admin_token).json() == p

    rows = audit_rows(cc, tenant.id, "user.update", u["id"])
    assert len(rows) == 1
    assert json.loads(rows[0]["changes"]) == {
        "name": {"from": "Before", "to": "After"},
        "email": {"from": u["email"], "to": email.lower()},
        "status": {"from": "active", "to": "disabled"}}

    # Only the given fields change.
    r = cc.patch(f"{USERS}/{u['id']}", token=tenant.admin_token, json={"status": "active"})
    assert r.status_code == 200
    assert (r.json()["name"], r.json()["status"]) == ("After", "active")


@pytest.mark.allow_log(*AUTHZ_DENIAL_LOGS)
def test_disabling_a_user_locks_it_out_until_enabled(cc, tenant):
    password = new_password()
    u = create_ok(cc, tenant, password=password)
    session = cc.login(u["email"], password, tenant=tenant.slug)
    r = cc.patch(f"{USERS}/{u['id']}", token=tenant.admin_token, json={"status": "disabled"})
    assert r.status_code == 200 and r.json()["status"] == "disabled"
    assert_error(cc.get(USERS, token=session["access_token"]), 403, "account_disabled")
    assert_error(login_status(cc, u["email"], password, tenant), 403, "account_disabled")
    r = cc.post("/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert r.status_code in (401, 403), r.text
    r = cc.patch(f"{USERS}/{u['id']}", token=tenant.admin_token, json={"status": "active"})
    assert r.status_code == 200
    assert cc.login(u["email"], password, tenant=tenant.slug)["user"]["status"] == "active"


def test_changed_email_is_the_login(cc, tenant):
    password = new_password()
    u = create_ok(cc, tenant, password=password)
    email = new_email(tenant, "moved")
    r = cc.patch(f"{USERS}/{u['id']}", token=tenant.admin_token, json={"email": email})
    assert r.status_code == 200, r.text
    assert_error(login_status(cc, u["email"], password, tenant), 401, "invalid_credentials")
    assert cc.login(email, password, tenant=tenant.slug)["user"]["id"] == u["id"]
    # The old address is free for someone else.
    assert create_ok(cc, tenant, email=u["email"])["email"] == u["email"]


def test_patch_without_change_is_ok_and_not_audited(cc, tenant):
    u = create_ok(cc, tenant)
    for body in ({}, {"name": u["name"], "email": u["email"].upper(), "status": "active"}):
        r = cc.patch(f"{USERS}/{u['id']}", token=tenant.admin_token, json=body)
        assert r.status_code == 200, r.text
        assert r.json() == u
    assert audit_rows(cc, tenant.id, "user.update", u["id"]) == []


def test_patch_password(cc, tenant):
    old, new = new_password(), new_password()
    u = create_ok(cc, tenant, password=old)
    session = cc.login(u["email"], old, tenant=tenant.slug)
    r = cc.patch(f"{USERS}/{u['id']}", token=tenant.admin_token, json={"password": new})
    assert r.status_code == 200, r.text
    assert r.json()["email"] == u["email"]
    no_secret_in(r.text, new)

    assert_error(login_status(cc, u["email"], old, tenant), 401, "invalid_credentials")
    assert cc.login(u["email"], new, tenant=tenant.slug)["user"]["id"] == u["id"]
    # A new password ends the user's sessions.
    r = cc.post("/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert_error(r, 401, "unauthorized")

    rows = audit_rows(cc, tenant.id, "user.update", u["id"])
    assert len(rows) == 1
    assert json.loads(rows[0]["changes"]) == {"password": "changed"}
    assert old not in rows[0]["changes"] and new not in rows[0]["changes"]


def test_own_password_is_not_patched_without_the_current_one(cc, tenant):
    """Issue 8 #3: a stolen access token must not buy the account; your own password
    changes only through POST /auth/password (which asks for the current one)."""
    old, new = new_password(), new_password()
    me = create_ok(cc, tenant, password=old, roles=["tenant_admin"])
    token = cc.login(me["email"], old, tenant=tenant.slug)["access_token"]
    r = cc.patch(f"{USERS}/{me['id']}", token=token, json={"password": new, "name": "Me"})
    body = assert_error(r, 403, "forbidden")
    assert detail_fields(body) == ["password"]
    assert new not in r.text
    # Nothing changed: the old password logs in, the name stays, nothing is audited.
    assert cc.login(me["email"], old, tenant=tenant.slug)["user"]["name"] == me["name"]
    assert audit_rows(cc, tenant.id, "user.update", me["id"]) == []
    # Other fields of your own user still change.
    r = cc.patch(f"{USERS}/{me['id']}", token=token, json={"name": "Me"})
    assert r.status_code == 200 and r.json()["name"] == "Me"


def test_patch_email_to_a_taken_one_is_409(cc, tenant):
    a = create_ok(cc, tenant)
    b = create_ok(cc, tenant)
    r = cc.patch(f"{USERS}/{b['id']}", token=tenant.admin_token,
                 json={"email": a["email"].upper(), "name": "Changed"})
    assert_error(r, 409, "conflict")
    assert cc.get(f"{USERS}/{b['id']}", token=tenant.admin_token).json() == b
    assert audit_rows(cc, tenant.id, "user.update", b["id"]) == []


def test_patch_unknown_user_is_404(cc, tenant):
    r = cc.patch(f"{USERS}/999999999", token=tenant.admin_token, json={"name": "x"})
    assert_error(r, 404, "not_found")


@pytest.mark.parametrize("body, field", [
    ({"email": "not-an-email"}, "email"),
    ({"password": "short"}, "password"),
    ({"name": ""}, "name"),
    ({"status": "deleted"}, "status"),
    ({"roles": ["agent"]}, "roles"),           # roles change through PUT .../roles
    ({"id": 5}, "id"),
    ({"tenant_id": "x"}, "tenant_id"),
    ({"extension": "100"}, "extension"),
    ({"name": None}, "name"),
])
def test_patch_rejects_bad_fields(cc, tenant, body, field):
    u = create_ok(cc, tenant)
    r = cc.patch(f"{USERS}/{u['id']}", token=tenant.admin_token, json=body)
    assert_error(r, 400, "invalid_request", field)
    assert cc.get(f"{USERS}/{u['id']}", token=tenant.admin_token).json() == u


# ---- roles -------------------------------------------------------------------------

def test_put_roles_replaces_them(cc, tenant):
    u = create_ok(cc, tenant, roles=["agent", "viewer"])
    r = cc.put(f"{USERS}/{u['id']}/roles", token=tenant.admin_token,
               json={"roles": ["supervisor", "agent"]})
    assert r.status_code == 200, r.text
    assert r.json()["roles"] == ["agent", "supervisor"]
    assert r.json()["id"] == u["id"]
    assert cc.get(f"{USERS}/{u['id']}", token=tenant.admin_token).json()["roles"] == \
        ["agent", "supervisor"]
    r = cc.put(f"{USERS}/{u['id']}/roles", token=tenant.admin_token, json={"roles": []})
    assert r.status_code == 200 and r.json()["roles"] == []


def test_put_roles_changes_what_the_user_may_do(cc, tenant):
    u, token = tenant.make_user(roles=["agent"])
    assert_error(cc.get("/api/v1/audit-logs", token=token), 403, "forbidden")
    r = cc.put(f"{USERS}/{u['id']}/roles", token=tenant.admin_token,
               json={"roles": ["tenant_admin"]})
    assert r.status_code == 200, r.text
    assert cc.get("/api/v1/audit-logs", token=token).status_code == 200


def test_put_unknown_role_is_400_naming_it(cc, tenant):
    u = create_ok(cc, tenant, roles=["agent"])
    r = cc.put(f"{USERS}/{u['id']}/roles", token=tenant.admin_token,
               json={"roles": ["agent", "no_such_role", "platform_admin"]})
    body = assert_error(r, 400, "invalid_request", "roles")
    issues = " ".join(d["issue"] for d in body["details"])
    assert "no_such_role" in issues and "platform_admin" in issues
    assert "agent" not in issues.replace("no_such_role", "")
    assert cc.get(f"{USERS}/{u['id']}", token=tenant.admin_token).json()["roles"] == ["agent"]
    assert audit_rows(cc, tenant.id, "user.roles_update", u["id"]) == []
    # The same check on create; nothing is created.
    r = create(cc, tenant, roles=["ghost_role"])
    assert "ghost_role" in json.dumps(assert_error(r, 400, "invalid_request", "roles"))


def test_too_many_roles_is_a_quick_400(cc, tenant):
    """The role list is capped (64) before it is de-duplicated and checked: a body of
    thousands of distinct names must not pin a worker."""
    u = create_ok(cc, tenant, roles=["agent"])
    names = [f"r{i:05d}" for i in range(20000)]
    for roles in (names, names[:65]):
        r = cc.put(f"{USERS}/{u['id']}/roles", token=tenant.admin_token, json={"roles": roles},
                   timeout=10)
        body = assert_error(r, 400, "invalid_request", "roles")
        assert len(body["details"]) == 1, body
        assert_error(create(cc, tenant, roles=roles, http_timeout=10), 400, "invalid_request",
                     "roles")
    # Up to the cap the names are checked one by one (here: all unknown).
    body = assert_error(cc.put(f"{USERS}/{u['id']}/roles", token=tenant.admin_token,
                               json={"roles": names[:64]}), 400, "invalid_request", "roles")
    assert len(body["details"]) == 64
    assert cc.get(f"{USERS}/{u['id']}", token=tenant.admin_token).json()["roles"] == ["agent"]


@pytest.mark.parametrize("body, field", [
    ({"roles": "agent"}, "roles"),
    ({"roles": [5]}, "roles"),
    ({"roles": ["Bad Name"]}, "roles"),
    ({}, "roles"),
    ({"roles": ["agent"], "name": "x"}, "name"),
])
def test_put_roles_rejects_bad_bodies(cc, tenant, body, field):
    u = create_ok(cc, tenant)
    r = cc.put(f"{USERS}/{u['id']}/roles", token=tenant.admin_token, json=body)
    assert_error(r, 400, "invalid_request", field)


def test_put_roles_of_unknown_user_is_404(cc, tenant):
    r = cc.put(f"{USERS}/999999999/roles", token=tenant.admin_token, json={"roles": ["agent"]})
    assert_error(r, 404, "not_found")


def test_custom_roles_can_be_assigned_even_when_there_are_many(cc, tenant):
    """Role names checked against a long role list (GROUP_CONCAT's 1024-byte default)."""
    names = []
    for i in range(24):
        name = f"custom_{i:02d}_" + "x" * 50
        r = cc.post("/api/v1/roles", token=tenant.admin_token,
                    json={"name": name, "permissions": ["users.read"]})
        assert r.status_code == 201, r.text
        names.append(name)
    u = create_ok(cc, tenant, roles=[names[-1], "agent"])
    assert u["roles"] == ["agent", names[-1]]
    r = cc.put(f"{USERS}/{u['id']}/roles", token=tenant.admin_token, json={"roles": names})
    assert r.status_code == 200, r.text
    assert r.json()["roles"] == names
    assert list_ids(cc, tenant.admin_token, f"?role={names[-1]}") == [u["id"]]
    assert listing(cc, tenant.admin_token, f"?q={u['name']}")["data"][0]["roles"] == names


# ---- delete ------------------------------------------------------------------------

@pytest.mark.allow_log(*AUTHZ_DENIAL_LOGS)
def test_delete_is_soft_and_final(cc, tenant):
    password = new_password()
    u = create_ok(cc, tenant, password=password, roles=["agent"])
    token = cc.login(u["email"], password, tenant=tenant.slug)["access_token"]
    path = f"{USERS}/{u['id']}"

    r = cc.delete(path, token=tenant.admin_token)
    assert r.status_code == 204, r.text
    assert r.content == b""

    assert_error(cc.get(path, token=tenant.admin_token), 404, "not_found")
    assert_error(cc.patch(path, token=tenant.admin_token, json={"name": "x"}), 404,
                 "not_found")
    assert_error(cc.put(path + "/roles", token=tenant.admin_token, json={"roles": []}), 404,
                 "not_found")
    assert_error(cc.delete(path, token=tenant.admin_token), 404, "not_found")
    assert u["id"] not in list_ids(cc, tenant.admin_token, "?page_size=200")
    assert listing(cc, tenant.admin_token, f"?q={u['email']}")["total"] == 0
    assert listing(cc, tenant.admin_token, "?role=agent")["total"] == 0
    assert listing(cc, tenant.admin_token)["total"] == 1
    assert_error(login_status(cc, u["email"], password, tenant), 401, "invalid_credentials")
    # Its live token stops working too.
    assert_error(cc.get(USERS, token=token), 401, "unauthorized")

    # The row (and its audit trail) stays; the email is free again.
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT deleted_at FROM users WHERE tenant_id = %s AND id = %s",
                    (tenant.id, u["id"]))
        assert cur.fetchone()["deleted_at"] is not None
    again = create_ok(cc, tenant, email=u["email"], password=password)
    assert again["id"] != u["id"]
    assert cc.login(u["email"], password, tenant=tenant.slug)["user"]["id"] == again["id"]
    assert len(audit_rows(cc, tenant.id, "user.delete", u["id"])) == 1


def test_delete_yourself_is_409(cc, tenant):
    r = cc.delete(f"{USERS}/{tenant.admin_user_id}", token=tenant.admin_token)
    assert_error(r, 409, "conflict")
    assert cc.get(f"{USERS}/{tenant.admin_user_id}", token=tenant.admin_token).status_code == 200


def test_disable_yourself_is_409(cc, tenant):
    r = cc.patch(f"{USERS}/{tenant.admin_user_id}", token=tenant.admin_token,
                 json={"status": "disabled"})
    assert_error(r, 409, "conflict")
    me = cc.get(f"{USERS}/{tenant.admin_user_id}", token=tenant.admin_token)
    assert me.status_code == 200 and me.json()["status"] == "active"
    # Other changes to yourself are fine.
    r = cc.patch(f"{USERS}/{tenant.admin_user_id}", token=tenant.admin_token,
                 json={"name": "Renamed Admin", "status": "active"})
    assert r.status_code == 200 and r.json()["name"] == "Renamed Admin"


# ---- uniqueness and quota -----------------------------------------------------------

def test_duplicate_email_is_409_case_insensitively(cc, tenant):
    local = "dup-" + secrets.token_hex(4)
    first = create_ok(cc, tenant, email=f"{local}@{tenant.slug}.example.com")
    r = create(cc, tenant, email=f"{local.upper()}@{tenant.slug.upper()}.EXAMPLE.com")
    assert_error(r, 409, "conflict", "email")
    assert listing(cc, tenant.admin_token, f"?q={local}")["total"] == 1
    assert first["email"] == f"{local}@{tenant.slug}.example.com"


def test_max_users_quota(cc, tenant):
    set_max_users(cc, tenant, 3)                  # the admin counts: room for 2 more
    a = create_ok(cc, tenant)
    create_ok(cc, tenant)
    before = listing(cc, tenant.admin_token)["total"]
    r = create(cc, tenant)
    assert_error(r, 409, "quota_exceeded")
    assert listing(cc, tenant.admin_token)["total"] == before == 3
    # A platform admin is held to the same quota.
    r = cc.post(USERS, token=cc.admin_token(), headers={"X-Tenant-ID": tenant.id},
                json=user_body(tenant))
    assert_error(r, 409, "quota_exceeded")

    # Deleted users do not count.
    assert cc.delete(f"{USERS}/{a['id']}", token=tenant.admin_token).status_code == 204
    create_ok(cc, tenant)
    assert_error(create(cc, tenant), 409, "quota_exceeded")
    # Disabled users do.
    set_max_users(cc, tenant, 4)
    create_ok(cc, tenant, status="disabled")
    assert_error(create(cc, tenant), 409, "quota_exceeded")
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM users WHERE tenant_id = %s"
                    " AND deleted_at IS NULL", (tenant.id,))
        assert cur.fetchone()["n"] == 4


def test_max_users_quota_holds_under_concurrent_creates(cc, tenant):
    set_max_users(cc, tenant, 4)
    bodies = [user_body(tenant) for _ in range(12)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(
            lambda b: cc.post(USERS, token=tenant.admin_token, json=b), bodies))
    codes = sorted(r.status_code for r in results)
    assert codes == [201] * 3 + [409] * 9, [(r.status_code, r.text) for r in results]
    for r in results:
        if r.status_code == 409:
            assert r.json()["error"] == "quota_exceeded"
    assert listing(cc, tenant.admin_token)["total"] == 4
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT users_count FROM tenants WHERE id = %s", (tenant.id,))
        assert cur.fetchone()["users_count"] == 4
        cur.execute("SELECT COUNT(*) AS n FROM audit_logs WHERE tenant_id = %s"
                    " AND action = 'user.create'", (tenant.id,))
        assert cur.fetchone()["n"] == 4


def test_concurrent_updates_of_one_user_all_land(cc, tenant):
    u = create_ok(cc, tenant)
    names = [f"Name {i:02d}" for i in range(10)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(
            lambda n: cc.patch(f"{USERS}/{u['id']}", token=tenant.admin_token,
                               json={"name": n}), names))
    assert all(r.status_code == 200 for r in results), [r.text for r in results]
    final = cc.get(f"{USERS}/{u['id']}", token=tenant.admin_token).json()["name"]
    assert final in names
    rows = audit_rows(cc, tenant.id, "user.update", u["id"])
    # Each entry's "from" is what the one before it set: updates were serialised.
    assert len(rows) == 10
    chain = [json.loads(r["changes"])["name"] for r in rows]
    assert chain[0]["from"] == u["name"] and chain[-1]["to"] == final
    for prev, cur in zip(chain, chain[1:]):
        assert cur["from"] == prev["to"]


# ---- validation --------------------------------------------------------------------

@pytest.mark.parametrize("over, field", field_cases(
    email=["no-at-sign", "a@b", "two@@x.example.com", "sp ace@x.example.com", 5],
    password=["Short1", "x" * 129],
    name=["", "x" * 201, "tab\u0001", ["x"]],
    status=["deleted", "ACTIVE"],
    roles=["agent", None, ["agent", 1]],
    extension=["100"], is_admin=[True],
))
def test_create_rejects_bad_fields(cc, tenant, over, field):
    body = user_body(tenant)
    body.update(over)
    r = cc.post(USERS, token=tenant.admin_token, json=body)
    assert_error(r, 400, "invalid_request", field)
    assert listing(cc, tenant.admin_token)["total"] == 1


@pytest.mark.parametrize("missing", ["email", "name", "password", "roles"])
def test_create_requires_fields(cc, tenant, missing):
    body = user_body(tenant)
    del body[missing]
    assert_error(cc.post(USERS, token=tenant.admin_token, json=body), 400, "invalid_request",
                 missing)


def test_create_reports_every_bad_field_at_once(cc, tenant):
    r = cc.post(USERS, token=tenant.admin_token,
                json={"email": "bad", "name": "", "password": "short", "roles": ["agent"],
                      "status": "nope"})
    body = assert_error(r, 400, "invalid_request")
    assert set(detail_fields(body)) == {"email", "name", "password", "status"}
    for d in body["details"]:
        assert isinstance(d["issue"], str) and d["issue"]
        assert "short" not in d["issue"]          # the password value never echoes


# ---- RBAC --------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_readers_cannot_write(cc, tenant, role):
    _, token = tenant.make_user(roles=[role])
    victim = create_ok(cc, tenant)
    path = f"{USERS}/{victim['id']}"

    assert listing(cc, token)["total"] == 3
    g = cc.get(path, token=token)
    assert g.status_code == 200 and g.json() == victim

    for r in (cc.post(USERS, token=token, json=user_body(tenant)),
              cc.patch(path, token=token, json={"name": "Hacked"}),
              cc.delete(path, token=token),
              cc.put(path + "/roles", token=token, json={"roles": ["tenant_admin"]})):
        assert_error(r, 403, "forbidden")
    assert cc.get(path, token=tenant.admin_token).json() == victim
    assert listing(cc, tenant.admin_token)["total"] == 3


def test_platform_admin_acts_in_a_tenant_with_x_tenant_id(cc, tenant):
    h = {"X-Tenant-ID": tenant.id}
    admin = cc.admin_token()
    r = cc.post(USERS, token=admin, headers=h, json=user_body(tenant, name="By Platform"))
    assert r.status_code == 201, r.text
    u = r.json()
    assert u["tenant_id"] == tenant.id
    body = listing(cc, admin, "?page_size=200", headers=h)
    assert {x["id"] for x in body["data"]} == {u["id"], tenant.admin_user_id}
    assert listing(cc, tenant.admin_token)["total"] == 2

    r = cc.patch(f"{USERS}/{u['id']}", token=admin, headers=h, json={"name": "Renamed"})
    assert r.status_code == 200 and r.json()["name"] == "Renamed"
    r = cc.put(f"{USERS}/{u['id']}/roles", token=admin, headers=h, json={"roles": ["viewer"]})
    assert r.status_code == 200 and r.json()["roles"] == ["viewer"]
    # Without the header the platform admin is in its own tenant: not found there.
    assert_error(cc.get(f"{USERS}/{u['id']}", token=admin), 404, "not_found")
    assert cc.delete(f"{USERS}/{u['id']}", token=admin, headers=h).status_code == 204
    assert listing(cc, tenant.admin_token)["total"] == 1

    rows = audit_rows(cc, tenant.id, "user.create", u["id"])
    assert len(rows) == 1 and rows[0]["actor_email"] == cc.admin_email


# ---- text round trips ----------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "Robert'); DROP TABLE users;--",
    "%' OR 1=1 --",
    "\" OR \"\"=\"",
    "Zoë 😀 李",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🧑‍💻 and 🇫🇷",
    "back\\slash \\x00 \\' %s %d {}",
])
def test_names_are_stored_and_returned_unchanged(cc, tenant, name):
    u = create_ok(cc, tenant, name=name)
    assert u["name"] == name
    assert cc.get(f"{USERS}/{u['id']}", token=tenant.admin_token).json()["name"] == name
    found = listing(cc, tenant.admin_token, "?page_size=200")["data"]
    assert name in [x["name"] for x in found]
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT name FROM users WHERE tenant_id = %s AND id = %s",
                    (tenant.id, u["id"]))
        assert cur.fetchone()["name"] == name
        cur.execute("SELECT COUNT(*) AS n FROM users")
        assert cur.fetchone()["n"] > 0
    # Searchable by its own text.
    r = cc.get(USERS, token=tenant.admin_token, params={"q": name})
    assert r.status_code == 200 and [x["id"] for x in r.json()["data"]] == [u["id"]]
    # And patchable to another such string.
    r = cc.patch(f"{USERS}/{u['id']}", token=tenant.admin_token, json={"name": name[::-1]})
    assert r.status_code == 200 and r.json()["name"] == name[::-1]


def test_invalid_utf8_body_is_400(cc, tenant):
    raw = (b'{"email":"x@' + tenant.slug.encode() + b'.example.com","name":"bad \xff\xfe",'
           b'"password":"Pw1aaaaaaaaaa","roles":["agent"]}')
    r = cc.post(USERS, token=tenant.admin_token, data=raw,
                headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid_request")
    # Overlong encoding and a lone surrogate are invalid too.
    for bad in (b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"):
        r = cc.post(USERS, token=tenant.admin_token,
                    data=b'{"name":"' + bad + b'"}',
                    headers={"Content-Type": "application/json"})
        assert_error(r, 400, "invalid_request")
    assert listing(cc, tenant.admin_token)["total"] == 1
