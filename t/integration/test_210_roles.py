"""mod_cc_tenant: /api/v1/roles and /api/v1/permissions."""

import json
import re

import pytest

from cchelpers import assert_error, audit_rows

PERMISSIONS = (
    "users.read users.write roles.manage audit.read contacts.read contacts.write "
    "tags.manage dids.read dids.write queues.read queues.write endpoints.read "
    "endpoints.write cdrs.read recordings.read recordings.write recordings.delete "
    "voicemails.read voicemails.write agents.read agents.manage sms.read sms.send "
    "tickets.read tickets.write tickets.manage chat.read chat.handle chat.manage "
    "events.read tenants.manage").split()
TENANT_PERMISSIONS = [p for p in PERMISSIONS if p != "tenants.manage"]
TENANT_BUILTINS = ["agent", "supervisor", "tenant_admin", "viewer"]
ROLE_KEYS = {"name", "description", "permissions", "builtin"}


def roles(cc, token):
    r = cc.get("/api/v1/roles", token=token)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"data"}
    return r.json()["data"]


def role_names(cc, token):
    return [x["name"] for x in roles(cc, token)]


def create_role(cc, token, name, permissions, description=None, status=201):
    body = {"name": name, "permissions": permissions}
    if description is not None:
        body["description"] = description
    r = cc.post("/api/v1/roles", token=token, json=body)
    assert r.status_code == status, r.text
    return r


# ---- permissions -------------------------------------------------------------------

def test_permissions_lists_the_whole_catalogue(cc, tenant):
    _, viewer = tenant.make_user(roles=["viewer"])
    for tok in (cc.admin_token(), tenant.admin_token, viewer):
        r = cc.get("/api/v1/permissions", token=tok)
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        assert set(r.json()) == {"data"}
        assert [p["name"] for p in data] == PERMISSIONS
        assert len(data) == 31
        for p in data:
            assert set(p) == {"name", "description"}
            assert isinstance(p["description"], str) and p["description"]


def test_permissions_need_a_token(cc):
    assert_error(cc.get("/api/v1/permissions"), 401, "unauthorized")


# ---- list and get ------------------------------------------------------------------

def test_new_tenant_has_the_four_builtins(cc, tenant):
    data = roles(cc, tenant.admin_token)
    assert [x["name"] for x in data] == TENANT_BUILTINS
    for x in data:
        assert set(x) == ROLE_KEYS and x["builtin"] is True
        assert isinstance(x["description"], str) and x["description"]
    by_name = {x["name"]: x for x in data}
    assert by_name["tenant_admin"]["permissions"] == TENANT_PERMISSIONS
    assert "tenants.manage" not in by_name["supervisor"]["permissions"]
    # Read-only: every .read permission but the audit log's.
    assert by_name["viewer"]["permissions"] == [
        p for p in PERMISSIONS if p.endswith(".read") and p != "audit.read"]


def test_any_member_lists_and_reads_roles(cc, tenant):
    _, agent = tenant.make_user(roles=["agent"])
    assert role_names(cc, agent) == TENANT_BUILTINS
    r = cc.get("/api/v1/roles/viewer", token=agent)
    assert r.status_code == 200
    assert r.json()["name"] == "viewer" and r.json()["builtin"] is True


@pytest.mark.parametrize("name", ["nope", "platform_admin", "Bad-Name", "x"])
def test_get_unknown_role_is_404(cc, tenant, name):
    assert_error(cc.get(f"/api/v1/roles/{name}", token=tenant.admin_token), 404, "not_found")


def test_platform_tenant_lists_platform_admin(cc):
    names = role_names(cc, cc.admin_token())
    assert names[:5] == sorted(TENANT_BUILTINS + ["platform_admin"])
    r = cc.get("/api/v1/roles/platform_admin", token=cc.admin_token())
    assert r.status_code == 200 and r.json()["permissions"] == PERMISSIONS


# ---- create ------------------------------------------------------------------------

def test_create_custom_role(cc, tenant):
    r = create_role(cc, tenant.admin_token, "qa_lead",
                    ["cdrs.read", "users.read", "cdrs.read"], "Quality assurance 🎧")
    assert r.headers["Location"] == "/api/v1/roles/qa_lead"
    role = r.json()
    # Catalogue order, duplicates collapsed.
    assert role == {"name": "qa_lead", "description": "Quality assurance 🎧",
                    "permissions": ["users.read", "cdrs.read"], "builtin": False}
    assert cc.get("/api/v1/roles/qa_lead", token=tenant.admin_token).json() == role
    # Built-ins first, then custom roles by name.
    assert role_names(cc, tenant.admin_token) == TENANT_BUILTINS + ["qa_lead"]

    rows = audit_rows(cc, tenant.id, "role.create", "qa_lead")
    assert len(rows) == 1
    assert rows[0]["entity_type"] == "role"
    assert rows[0]["actor_id"] == tenant.admin_user_id
    assert json.loads(rows[0]["changes"])["permissions"] == ["users.read", "cdrs.read"]


def test_create_with_no_permissions_and_no_description(cc, tenant):
    r = create_role(cc, tenant.admin_token, "empty_role", [])
    assert r.json() == {"name": "empty_role", "description": "", "permissions": [],
                        "builtin": False}


def test_create_duplicate_is_conflict(cc, tenant):
    create_role(cc, tenant.admin_token, "dupe", ["users.read"])
    assert_error(cc.post("/api/v1/roles", token=tenant.admin_token,
                         json={"name": "dupe", "permissions": []}), 409, "conflict")
    for builtin in ("agent", "tenant_admin", "platform_admin"):
        r = cc.post("/api/v1/roles", token=tenant.admin_token,
                    json={"name": builtin, "permissions": []})
        assert_error(r, 409, "conflict")
    assert len(audit_rows(cc, tenant.id, "role.create", "dupe")) == 1


@pytest.mark.parametrize("body, field", [
    ({"name": "r1", "permissions": ["users.read", "calls.make"]}, "permissions"),
    ({"name": "r1", "permissions": ["tenants.manage"]}, "permissions"),
    ({"name": "r1", "permissions": "users.read"}, "permissions"),
    ({"name": "r1", "permissions": [1, 2]}, "permissions"),
    ({"name": "r1"}, "permissions"),
    ({"permissions": []}, "name"),
    ({"name": "Bad Name", "permissions": []}, "name"),
    ({"name": "1role", "permissions": []}, "name"),
    ({"name": "r", "permissions": []}, "name"),
    ({"name": "r" * 64, "permissions": []}, "name"),
    ({"name": 5, "permissions": []}, "name"),
    ({"name": "r1", "permissions": [], "description": "d" * 501}, "description"),
    ({"name": "r1", "permissions": [], "description": 3}, "description"),
    ({"name": "r1", "permissions": [], "builtin": True}, "builtin"),
])
def test_create_rejects_bad_input(cc, tenant, body, field):
    r = cc.post("/api/v1/roles", token=tenant.admin_token, json=body)
    assert_error(r, 400, "invalid_request", field)
    assert role_names(cc, tenant.admin_token) == TENANT_BUILTINS


def test_unknown_permission_is_named_in_details(cc, tenant):
    r = cc.post("/api/v1/roles", token=tenant.admin_token,
                json={"name": "r2", "permissions": ["calls.make", "tenants.manage"]})
    body = assert_error(r, 400, "invalid_request", "permissions")
    issues = " ".join(d["issue"] for d in body["details"])
    assert "calls.make" in issues and "tenants.manage" in issues


# ---- update ------------------------------------------------------------------------

def test_patch_custom_role(cc, tenant):
    create_role(cc, tenant.admin_token, "editor", ["contacts.read"], "Old")
    r = cc.patch("/api/v1/roles/editor", token=tenant.admin_token,
                 json={"permissions": ["contacts.write", "contacts.read"]})
    assert r.status_code == 200, r.text
    assert r.json() == {"name": "editor", "description": "Old",
                        "permissions": ["contacts.read", "contacts.write"], "builtin": False}
    r = cc.patch("/api/v1/roles/editor", token=tenant.admin_token, json={"description": "New"})
    assert r.status_code == 200 and r.json()["description"] == "New"
    assert r.json()["permissions"] == ["contacts.read", "contacts.write"]
    assert cc.get("/api/v1/roles/editor", token=tenant.admin_token).json() == r.json()

    rows = audit_rows(cc, tenant.id, "role.update", "editor")
    assert len(rows) == 2
    first = json.loads(rows[0]["changes"])
    assert first == {"permissions": {"from": ["contacts.read"],
                                     "to": ["contacts.read", "contacts.write"]}}
    assert json.loads(rows[1]["changes"]) == {"description": {"from": "Old", "to": "New"}}


def test_patch_without_change_is_not_audited(cc, tenant):
    create_role(cc, tenant.admin_token, "same", ["users.read"], "d")
    r = cc.patch("/api/v1/roles/same", token=tenant.admin_token,
                 json={"description": "d", "permissions": ["users.read"]})
    assert r.status_code == 200 and r.json()["permissions"] == ["users.read"]
    assert audit_rows(cc, tenant.id, "role.update", "same") == []


@pytest.mark.parametrize("body, field", [
    ({"name": "renamed"}, "name"),
    ({"builtin": True}, "builtin"),
    ({"permissions": ["nope.nope"]}, "permissions"),
    ({"permissions": ["tenants.manage"]}, "permissions"),
    ({"permissions": None}, "permissions"),
    ({"description": ["x"]}, "description"),
])
def test_patch_rejects_bad_input(cc, tenant, body, field):
    create_role(cc, tenant.admin_token, "fixed", ["users.read"])
    r = cc.patch("/api/v1/roles/fixed", token=tenant.admin_token, json=body)
    assert_error(r, 400, "invalid_request", field)
    assert cc.get("/api/v1/roles/fixed", token=tenant.admin_token).json()["permissions"] \
        == ["users.read"]


def test_patch_unknown_role_is_404(cc, tenant):
    r = cc.patch("/api/v1/roles/ghost", token=tenant.admin_token, json={"description": "x"})
    assert_error(r, 404, "not_found")


@pytest.mark.parametrize("name", TENANT_BUILTINS)
def test_builtins_cannot_be_changed_or_deleted(cc, tenant, name):
    before = cc.get(f"/api/v1/roles/{name}", token=tenant.admin_token).json()
    r = cc.patch(f"/api/v1/roles/{name}", token=tenant.admin_token,
                 json={"permissions": ["users.read"]})
    assert_error(r, 409, "conflict")
    assert_error(cc.delete(f"/api/v1/roles/{name}", token=tenant.admin_token), 409, "conflict")
    assert cc.get(f"/api/v1/roles/{name}", token=tenant.admin_token).json() == before


# ---- delete ------------------------------------------------------------------------

def test_delete_custom_role(cc, tenant):
    create_role(cc, tenant.admin_token, "temp", ["users.read"], "Temporary")
    r = cc.delete("/api/v1/roles/temp", token=tenant.admin_token)
    assert r.status_code == 204 and r.content == b""
    assert_error(cc.get("/api/v1/roles/temp", token=tenant.admin_token), 404, "not_found")
    assert role_names(cc, tenant.admin_token) == TENANT_BUILTINS
    assert_error(cc.delete("/api/v1/roles/temp", token=tenant.admin_token), 404, "not_found")

    rows = audit_rows(cc, tenant.id, "role.delete", "temp")
    assert len(rows) == 1 and rows[0]["actor_id"] == tenant.admin_user_id
    assert json.loads(rows[0]["changes"]) == {"description": "Temporary",
                                              "permissions": ["users.read"]}


def test_role_in_use_cannot_be_deleted(cc, tenant):
    create_role(cc, tenant.admin_token, "in_use", ["users.read"])
    user, _ = tenant.make_user(roles=["in_use"])
    assert_error(cc.delete("/api/v1/roles/in_use", token=tenant.admin_token), 409, "conflict")
    assert "in_use" in role_names(cc, tenant.admin_token)
    assert audit_rows(cc, tenant.id, "role.delete", "in_use") == []

    # Once its only holder is deleted, it can go.
    r = cc.delete(f"/api/v1/users/{user['id']}", token=tenant.admin_token)
    assert r.status_code == 204, r.text
    assert cc.delete("/api/v1/roles/in_use", token=tenant.admin_token).status_code == 204


# ---- RBAC --------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["agent", "viewer", "supervisor"])
def test_members_without_roles_manage_cannot_write(cc, tenant, role):
    create_role(cc, tenant.admin_token, "target", ["users.read"])
    _, tok = tenant.make_user(roles=[role])
    calls = [
        ("POST", "/api/v1/roles", {"name": "mine", "permissions": []}),
        ("PATCH", "/api/v1/roles/target", {"description": "x"}),
        ("DELETE", "/api/v1/roles/target", None),
        # The check comes before the lookup: existence does not leak.
        ("PATCH", "/api/v1/roles/ghost", {"description": "x"}),
    ]
    for method, path, body in calls:
        assert_error(cc.request(method, path, token=tok, json=body), 403, "forbidden")
    assert role_names(cc, tenant.admin_token) == TENANT_BUILTINS + ["target"]


def test_role_changes_apply_to_existing_tokens(cc, tenant):
    create_role(cc, tenant.admin_token, "grower", ["users.read"])
    _, tok = tenant.make_user(roles=["grower"])
    r = cc.post("/api/v1/roles", token=tok, json={"name": "x_role", "permissions": []})
    assert_error(r, 403, "forbidden")
    r = cc.patch("/api/v1/roles/grower", token=tenant.admin_token,
                 json={"permissions": ["users.read", "roles.manage"]})
    assert r.status_code == 200
    # The test config runs CCTenantCacheTTL 0: the next request sees the new mask.
    create_role(cc, tok, "x_role", ["users.read"])


def test_cannot_grant_what_you_do_not_hold(cc, tenant):
    create_role(cc, tenant.admin_token, "role_mgr", ["roles.manage", "users.read"])
    _, tok = tenant.make_user(roles=["role_mgr"])
    r = cc.post("/api/v1/roles", token=tok,
                json={"name": "escalate", "permissions": ["users.write"]})
    body = assert_error(r, 403, "forbidden")
    assert "users.write" in body["message"]
    r = cc.patch("/api/v1/roles/role_mgr", token=tok,
                 json={"permissions": ["roles.manage", "users.read", "audit.read"]})
    assert_error(r, 403, "forbidden")
    # Within its own permissions it may.
    create_role(cc, tok, "reader", ["users.read"])


def test_cannot_weaken_or_delete_a_role_stronger_than_yours(cc, tenant):
    """Issue 8 #6: roles.manage may change or delete only roles within the caller's own
    permissions (else a role manager could strip an admin role of its power)."""
    create_role(cc, tenant.admin_token, "strong", ["users.write", "users.read"])
    create_role(cc, tenant.admin_token, "mgr", ["roles.manage", "users.read"])
    create_role(cc, tenant.admin_token, "weak", ["users.read"])
    _, tok = tenant.make_user(roles=["mgr"])
    before = cc.get("/api/v1/roles/strong", token=tenant.admin_token).json()
    for r in (cc.patch("/api/v1/roles/strong", token=tok, json={"permissions": ["users.read"]}),
              cc.patch("/api/v1/roles/strong", token=tok, json={"description": "x"}),
              cc.delete("/api/v1/roles/strong", token=tok)):
        body = assert_error(r, 403, "forbidden")
        assert "users.write" in body["message"]
    assert cc.get("/api/v1/roles/strong", token=tenant.admin_token).json() == before
    assert audit_rows(cc, tenant.id, "role.update", "strong") == []
    # A role within the caller's permissions it may change and delete.
    r = cc.patch("/api/v1/roles/weak", token=tok, json={"description": "readers"})
    assert r.status_code == 200, r.text
    assert cc.delete("/api/v1/roles/weak", token=tok).status_code == 204


# ---- isolation ---------------------------------------------------------------------

def test_other_tenants_roles_are_invisible(cc, tenant, tenant2):
    create_role(cc, tenant.admin_token, "secret_role", ["users.read"], "mine")
    t2 = tenant2.admin_token
    assert "secret_role" not in role_names(cc, t2)
    assert_error(cc.get("/api/v1/roles/secret_role", token=t2), 404, "not_found")
    assert_error(cc.patch("/api/v1/roles/secret_role", token=t2, json={"description": "x"}),
                 404, "not_found")
    assert_error(cc.delete("/api/v1/roles/secret_role", token=t2), 404, "not_found")
    # Untouched in its own tenant.
    r = cc.get("/api/v1/roles/secret_role", token=tenant.admin_token)
    assert r.status_code == 200 and r.json()["description"] == "mine"
    # The same name is free in the other tenant.
    r = create_role(cc, t2, "secret_role", ["cdrs.read"], "theirs")
    assert cc.get("/api/v1/roles/secret_role", token=tenant.admin_token).json()["permissions"] \
        == ["users.read"]


def test_platform_admin_manages_roles_inside_a_tenant(cc, tenant):
    hdr = {"X-Tenant-ID": tenant.id}
    r = cc.post("/api/v1/roles", token=cc.admin_token(), headers=hdr,
                json={"name": "ops_made", "permissions": ["dids.read"]})
    assert r.status_code == 201, r.text
    assert "ops_made" in role_names(cc, tenant.admin_token)
    assert "ops_made" not in role_names(cc, cc.admin_token())
    rows = audit_rows(cc, tenant.id, "role.create", "ops_made")
    assert len(rows) == 1 and rows[0]["actor_email"] == cc.admin_email
    # Even a platform admin cannot put tenants.manage into a tenant role.
    r = cc.patch("/api/v1/roles/ops_made", token=cc.admin_token(), headers=hdr,
                 json={"permissions": ["tenants.manage"]})
    assert_error(r, 400, "invalid_request", "permissions")


def test_role_paths_and_methods(cc, tenant):
    r = cc.put("/api/v1/roles/agent", token=tenant.admin_token, json={})
    assert_error(r, 405, "method_not_allowed")
    assert set(a.strip() for a in r.headers["Allow"].split(",")) == {"GET", "PATCH", "DELETE"}
    assert_error(cc.get("/api/v1/roles/agent/extra", token=tenant.admin_token), 404,
                 "not_found")
    assert re.match(r"^[A-Za-z0-9._-]+$", r.headers["X-Request-ID"])
