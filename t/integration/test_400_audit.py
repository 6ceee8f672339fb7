"""API.md "Users and audit": the audit trail of user mutations and /api/v1/audit-logs
(mod_callcenter/cc_audit_logs.c, shared/cc_audit.c).

One entry per successful mutation, written in its transaction, none for a failed one;
the entry's fields (actor, action, entity, changes without secrets, ip, user agent,
request id); listing filters, sort, paging; entries are read-only.
"""

import json
import re
import secrets
from datetime import datetime, timedelta, timezone

import pytest

from cchelpers import BAD_PAGING_QUERIES, assert_bad_query, assert_error, get_page
from ccobjects import new_password
from ccobjects import user_body as _user_body

USERS = "/api/v1/users"
AUDIT = "/api/v1/audit-logs"
AUDIT_KEYS = {"id", "actor_id", "actor_email", "action", "entity_type", "entity_id",
              "changes", "ip", "user_agent", "request_id", "created_at"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


# ---- helpers ---------------------------------------------------------------------

def rid(tag):
    return f"test-{tag}-{secrets.token_hex(8)}"


def user_body(tenant, **over):
    return _user_body(tenant, name_prefix="Audited", email_prefix="a", **over)


def entries(cc, token, query="", headers=None):
    return get_page(cc, AUDIT + query, token, assert_entry_shape, headers=headers)


def entry_ids(cc, token, query=""):
    return [e["id"] for e in entries(cc, token, query)["data"]]


def assert_entry_shape(e):
    assert set(e) == AUDIT_KEYS, e
    assert isinstance(e["id"], int) and e["id"] > 0
    assert e["actor_id"] is None or isinstance(e["actor_id"], int)
    assert isinstance(e["action"], str) and isinstance(e["entity_type"], str)
    assert e["entity_id"] is None or isinstance(e["entity_id"], str)
    assert e["changes"] is None or isinstance(e["changes"], (dict, list))
    assert RFC3339.match(e["created_at"]), e


def for_user(cc, tenant, user_id):
    """The tenant's entries about one user, oldest first."""
    return entries(cc, tenant.admin_token,
                   f"?entity_type=user&entity_id={user_id}&sort=created_at")["data"]


def db_counts(cc, tenant_id):
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) AS n FROM audit_logs WHERE tenant_id = %s", (tenant_id,))
        audits = cur.fetchone()["n"]
        cur.execute("SELECT COUNT(*) AS n FROM users WHERE tenant_id = %s", (tenant_id,))
        users = cur.fetchone()["n"]
        cur.execute("SELECT MAX(updated_at) AS m FROM users WHERE tenant_id = %s",
                    (tenant_id,))
        return audits, users, cur.fetchone()["m"]


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(ts):
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


# ---- one entry per mutation ---------------------------------------------------------

def test_every_user_mutation_writes_one_entry(cc, tenant):
    ua = "audit-test/1.0 (+https://example.com)"
    password, new_pw = new_password(), new_password()
    body = user_body(tenant, password=password, roles=["viewer", "agent"])

    def send(method, path, request_id, **kw):
        r = cc.request(method, path, token=tenant.admin_token,
                       headers={"X-Request-ID": request_id, "User-Agent": ua}, **kw)
        assert r.headers["X-Request-ID"] == request_id
        return r

    ids = [rid("create"), rid("update"), rid("roles"), rid("delete")]
    r = send("POST", USERS, ids[0], json=body)
    assert r.status_code == 201, r.text
    u = r.json()
    path = f"{USERS}/{u['id']}"
    assert send("PATCH", path, ids[1], json={"name": "New Name", "password": new_pw}
                ).status_code == 200
    assert send("PUT", path + "/roles", ids[2], json={"roles": ["supervisor"]}
                ).status_code == 200
    assert send("DELETE", path, ids[3]).status_code == 204

    got = for_user(cc, tenant, u["id"])
    assert [e["action"] for e in got] == ["user.create", "user.update", "user.roles_update",
                                          "user.delete"]
    for e, request_id in zip(got, ids):
        assert e["actor_id"] == tenant.admin_user_id
        assert e["actor_email"] == tenant.admin_email
        assert e["entity_type"] == "user"
        assert e["entity_id"] == str(u["id"])
        assert e["ip"] == "127.0.0.1"
        assert e["user_agent"] == ua
        assert e["request_id"] == request_id
        text = json.dumps(e)
        assert password not in text and new_pw not in text and "$2y$" not in text
        assert "hash" not in text

    # Role lists in changes are sorted, so "from" and "to" compare as sets.
    assert got[0]["changes"] == {"email": body["email"], "name": body["name"],
                                 "status": "active", "roles": ["agent", "viewer"]}
    assert got[1]["changes"] == {"name": {"from": body["name"], "to": "New Name"},
                                 "password": "changed"}
    assert got[2]["changes"] == {"roles": {"from": ["agent", "viewer"], "to": ["supervisor"]}}
    assert got[3]["changes"] is None or isinstance(got[3]["changes"], dict)
    # Stored with the same values the API shows.
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT request_id, tenant_id FROM audit_logs WHERE id = %s",
                    (got[0]["id"],))
        row = cur.fetchone()
        assert (row["request_id"], row["tenant_id"]) == (ids[0], tenant.id)


def test_server_request_id_is_stored_when_the_client_sends_none(cc, tenant):
    for bad in (None, "has spaces", "x" * 129):
        headers = {} if bad is None else {"X-Request-ID": bad}
        r = cc.post(USERS, token=tenant.admin_token, headers=headers, json=user_body(tenant))
        assert r.status_code == 201, r.text
        server_id = r.headers["X-Request-ID"]
        assert server_id and server_id != bad
        (e,) = for_user(cc, tenant, r.json()["id"])
        assert e["request_id"] == server_id


def test_hostile_user_agent_is_kept_valid_and_bounded(cc, tenant):
    r = cc.post(USERS, token=tenant.admin_token, headers={"User-Agent": b"bad \xff\xfe ua"},
                json=user_body(tenant))
    assert r.status_code == 201, r.text
    (e,) = for_user(cc, tenant, r.json()["id"])
    assert e["user_agent"].startswith("bad ") and e["user_agent"].endswith(" ua")
    r = cc.post(USERS, token=tenant.admin_token, headers={"User-Agent": "L" * 2000},
                json=user_body(tenant))
    assert r.status_code == 201, r.text
    (e,) = for_user(cc, tenant, r.json()["id"])
    assert e["user_agent"] == "L" * 512


def test_changes_keep_unicode_and_sql_looking_text(cc, tenant):
    name = "Zoë 😀 李 '); DROP TABLE audit_logs;--"
    r = cc.post(USERS, token=tenant.admin_token, json=user_body(tenant, name=name))
    assert r.status_code == 201, r.text
    r = cc.patch(f"{USERS}/{r.json()['id']}", token=tenant.admin_token,
                 json={"name": name + " ✓"})
    assert r.status_code == 200, r.text
    created, updated = for_user(cc, tenant, r.json()["id"])
    assert created["changes"]["name"] == name
    assert updated["changes"] == {"name": {"from": name, "to": name + " ✓"}}


def test_roles_put_without_change_is_not_audited(cc, tenant):
    r = cc.post(USERS, token=tenant.admin_token,
                json=user_body(tenant, roles=["viewer", "agent"]))
    uid = r.json()["id"]
    for roles in (["agent", "viewer"], ["viewer", "agent", "viewer"]):
        r = cc.put(f"{USERS}/{uid}/roles", token=tenant.admin_token, json={"roles": roles})
        assert r.status_code == 200 and r.json()["roles"] == ["agent", "viewer"], r.text
    assert [e["action"] for e in for_user(cc, tenant, uid)] == ["user.create"]


def test_get_one_entry(cc, tenant):
    r = cc.post(USERS, token=tenant.admin_token, json=user_body(tenant))
    (e,) = for_user(cc, tenant, r.json()["id"])
    g = cc.get(f"{AUDIT}/{e['id']}", token=tenant.admin_token)
    assert g.status_code == 200 and g.json() == e
    for bad in ("999999999", "abc", "0", "-1", "99999999999999999999999"):
        assert_error(cc.get(f"{AUDIT}/{bad}", token=tenant.admin_token), 404, "not_found")


def test_platform_admin_acting_in_a_tenant_is_the_actor(cc, tenant):
    r = cc.post(USERS, token=cc.admin_token(), headers={"X-Tenant-ID": tenant.id},
                json=user_body(tenant))
    assert r.status_code == 201, r.text
    (e,) = for_user(cc, tenant, r.json()["id"])
    assert e["actor_email"] == cc.admin_email and e["actor_id"] != tenant.admin_user_id
    # The platform admin sees it through X-Tenant-ID, not in its own tenant's log.
    h = {"X-Tenant-ID": tenant.id}
    assert cc.get(f"{AUDIT}/{e['id']}", token=cc.admin_token(), headers=h).json() == e
    assert_error(cc.get(f"{AUDIT}/{e['id']}", token=cc.admin_token()), 404, "not_found")


# ---- failed mutations leave no trace --------------------------------------------------

def test_failed_mutations_write_nothing(cc, tenant):
    victim = cc.post(USERS, token=tenant.admin_token, json=user_body(tenant)).json()
    _, agent_token = tenant.make_user(roles=["agent"])
    vpath = f"{USERS}/{victim['id']}"
    before = db_counts(cc, tenant.id)
    listed = entries(cc, tenant.admin_token, "?page_size=200")

    attempts = [
        ("POST", USERS, tenant.admin_token, {"json": user_body(tenant, email=victim["email"])},
         409),
        ("POST", USERS, tenant.admin_token, {"json": user_body(tenant, roles=["nope"])}, 400),
        ("POST", USERS, tenant.admin_token, {"json": user_body(tenant, password="short")}, 400),
        ("POST", USERS, agent_token, {"json": user_body(tenant)}, 403),
        ("PATCH", vpath, tenant.admin_token, {"json": {"email": tenant.admin_email}}, 409),
        ("PATCH", vpath, tenant.admin_token, {"json": {"status": "gone"}}, 400),
        ("PATCH", f"{USERS}/999999999", tenant.admin_token, {"json": {"name": "x"}}, 404),
        ("PATCH", vpath, agent_token, {"json": {"name": "x"}}, 403),
        ("PATCH", f"{USERS}/{tenant.admin_user_id}", tenant.admin_token,
         {"json": {"status": "disabled"}}, 409),
        ("PUT", vpath + "/roles", tenant.admin_token, {"json": {"roles": ["ghost"]}}, 400),
        ("PUT", vpath + "/roles", agent_token, {"json": {"roles": ["viewer"]}}, 403),
        ("DELETE", f"{USERS}/{tenant.admin_user_id}", tenant.admin_token, {}, 409),
        ("DELETE", f"{USERS}/999999999", tenant.admin_token, {}, 404),
        ("DELETE", vpath, agent_token, {}, 403),
    ]
    for method, path, token, kw, status in attempts:
        r = cc.request(method, path, token=token, **kw)
        assert r.status_code == status, (method, path, r.status_code, r.text)

    assert db_counts(cc, tenant.id) == before
    assert entries(cc, tenant.admin_token, "?page_size=200") == listed
    assert cc.get(vpath, token=tenant.admin_token).json() == victim


def test_quota_failure_writes_nothing(cc, tenant):
    r = cc.patch(f"/api/v1/tenants/{tenant.id}", token=cc.admin_token(), json={"max_users": 1})
    assert r.status_code == 200, r.text
    before = db_counts(cc, tenant.id)
    assert_error(cc.post(USERS, token=tenant.admin_token, json=user_body(tenant)), 409,
                 "quota_exceeded")
    assert db_counts(cc, tenant.id) == before


# ---- listing -----------------------------------------------------------------------

def make_history(cc, tenant):
    """Three users by the tenant admin, one update, one by the platform admin."""
    made = [cc.post(USERS, token=tenant.admin_token, json=user_body(tenant)).json()
            for _ in range(3)]
    r = cc.patch(f"{USERS}/{made[0]['id']}", token=tenant.admin_token, json={"name": "Upd"})
    assert r.status_code == 200
    r = cc.post(USERS, token=cc.admin_token(), headers={"X-Tenant-ID": tenant.id},
                json=user_body(tenant))
    assert r.status_code == 201
    made.append(r.json())
    return made


def test_list_sort_and_paging(cc, tenant):
    make_history(cc, tenant)
    body = entries(cc, tenant.admin_token)
    # The tenant's admin was created in it too, and logged in: 1 + 1 + 3 + 1 + 1.
    assert (body["total"], body["page"], body["page_size"]) == (7, 1, 20)
    ids = [e["id"] for e in body["data"]]
    assert ids == sorted(ids, reverse=True)                     # default: newest first
    assert entry_ids(cc, tenant.admin_token, "?sort=-created_at") == ids
    assert entry_ids(cc, tenant.admin_token, "?sort=created_at") == ids[::-1]
    created = [e["created_at"] for e in body["data"]]
    assert created == sorted(created, reverse=True)

    p2 = entries(cc, tenant.admin_token, "?page=2&page_size=4")
    assert (p2["total"], p2["page"], p2["page_size"]) == (7, 2, 4)
    assert [e["id"] for e in p2["data"]] == ids[4:]
    p = entries(cc, tenant.admin_token, "?page=3&page_size=2&sort=created_at")
    assert [e["id"] for e in p["data"]] == ids[::-1][4:6]
    assert entries(cc, tenant.admin_token, "?page=50")["data"] == []


def test_list_filters(cc, tenant):
    made = make_history(cc, tenant)
    tok = tenant.admin_token

    mine = entries(cc, tok, f"?actor_id={tenant.admin_user_id}")
    assert mine["total"] == 5                # 4 mutations and its own auth.login
    assert all(e["actor_id"] == tenant.admin_user_id for e in mine["data"])
    # The login's entry has no email at hand: cc_record looks it up (sql/029).
    login = [e for e in mine["data"] if e["action"] == "auth.login"]
    assert len(login) == 1 and login[0]["actor_email"] == tenant.admin_email
    by_platform = [e for e in entries(cc, tok)["data"] if e["actor_email"] == cc.admin_email]
    assert len(by_platform) == 2             # the tenant's admin and made[3]
    platform = entries(cc, tok, f"?actor_id={by_platform[0]['actor_id']}")
    assert [e["id"] for e in platform["data"]] == [e["id"] for e in by_platform]
    assert entries(cc, tok, "?actor_id=999999999")["total"] == 0

    upd = entries(cc, tok, "?action=user.update")
    assert upd["total"] == 1 and upd["data"][0]["entity_id"] == str(made[0]["id"])
    assert entries(cc, tok, "?action=user.create")["total"] == 5
    assert entries(cc, tok, "?action=user")["total"] == 0          # exact, not a prefix
    assert entries(cc, tok, "?entity_type=user")["total"] == 7
    assert entries(cc, tok, "?entity_type=role")["total"] == 0
    one = entries(cc, tok, f"?entity_type=user&entity_id={made[0]['id']}")
    assert [e["action"] for e in one["data"]] == ["user.update", "user.create"]
    both = entries(cc, tok, f"?action=user.create&entity_id={made[0]['id']}"
                            f"&actor_id={tenant.admin_user_id}")
    assert both["total"] == 1

    # Time window: from is inclusive; to bounds from above.
    newest = entries(cc, tok)["data"][0]
    t = parse(newest["created_at"])
    assert entries(cc, tok, f"?from={iso(t)}")["total"] >= 1
    assert newest["id"] in entry_ids(cc, tok, f"?from={iso(t)}")
    assert entries(cc, tok, f"?from={iso(t + timedelta(seconds=1))}")["total"] == 0
    assert entries(cc, tok, f"?to={iso(t - timedelta(hours=1))}")["total"] == 0
    window = f"?from={iso(t - timedelta(hours=1))}&to={iso(t + timedelta(hours=1))}"
    assert entries(cc, tok, window)["total"] == 7
    # Offsets and fractions are understood (+02:00 is two hours ahead of UTC).
    local = (t + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.000") + "%2B02:00"
    assert newest["id"] in entry_ids(cc, tok, f"?from={local}")
    assert entries(cc, tok, f"?from={iso(t - timedelta(hours=1))}&to="
                            f"{iso(t - timedelta(minutes=30))}")["total"] == 0


@pytest.mark.parametrize("query, field", [
    ("?from=yesterday", "from"),
    ("?from=2026-13-01T00:00:00Z", "from"),
    ("?from=2026-01-01", "from"),
    ("?from=2026-01-01T00:00:00", "from"),
    ("?to=2026-02-30T00:00:00Z", "to"),
    ("?actor_id=abc", "actor_id"),
    ("?actor_id=-1", "actor_id"),
    ("?action=", "action"),
    ("?entity_id=" + "x" * 65, "entity_id"),
    ("?sort=id", "sort"),
    ("?sort=action", "sort"),
    *BAD_PAGING_QUERIES,
])
def test_list_rejects_bad_query(cc, tenant, query, field):
    assert_bad_query(cc, AUDIT, tenant.admin_token, query, field)


# ---- read-only, and who may read ----------------------------------------------------

def test_entries_cannot_be_changed_or_deleted(cc, tenant):
    (e,) = entries(cc, tenant.admin_token, "?action=user.create")["data"]
    for method in ("PATCH", "DELETE", "PUT", "POST"):
        r = cc.request(method, f"{AUDIT}/{e['id']}", token=tenant.admin_token,
                       json={"action": "x"} if method != "DELETE" else None)
        body = assert_error(r, 405, "method_not_allowed")
        assert r.headers["Allow"] == "GET", r.headers
        assert body["request_id"] == r.headers["X-Request-ID"]
    for method in ("POST", "DELETE"):
        r = cc.request(method, AUDIT, token=tenant.admin_token)
        assert_error(r, 405, "method_not_allowed")
        assert r.headers["Allow"] == "GET"
    # Platform admins cannot either.
    r = cc.delete(f"{AUDIT}/{e['id']}", token=cc.admin_token(),
                  headers={"X-Tenant-ID": tenant.id})
    assert_error(r, 405, "method_not_allowed")
    assert cc.get(f"{AUDIT}/{e['id']}", token=tenant.admin_token).json() == e


@pytest.mark.parametrize("role", ["agent", "viewer", "supervisor"])
def test_roles_without_audit_read_are_forbidden(cc, tenant, role):
    _, token = tenant.make_user(roles=[role])
    e = entries(cc, tenant.admin_token)["data"][0]
    assert_error(cc.get(AUDIT, token=token), 403, "forbidden")
    assert_error(cc.get(f"{AUDIT}/{e['id']}", token=token), 403, "forbidden")
    assert_error(cc.get(f"{AUDIT}?action=user.create", token=token), 403, "forbidden")


def test_custom_role_with_audit_read_may_read(cc, tenant):
    r = cc.post("/api/v1/roles", token=tenant.admin_token,
                json={"name": "auditor", "permissions": ["audit.read"]})
    assert r.status_code == 201, r.text
    _, token = tenant.make_user(roles=["auditor"])
    assert entries(cc, token)["total"] == entries(cc, tenant.admin_token)["total"]
    assert_error(cc.get(USERS, token=token), 403, "forbidden")
