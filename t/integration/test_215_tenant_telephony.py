"""Issue 8, finding 5: a suspended or deleted tenant has no telephony.

What Asterisk reads is checked in the rows themselves: after a suspension (or a delete)
every endpoint of the tenant has the deny-all ACL in its ps_endpoints row (res_pjsip
answers its REGISTER and INVITE with a challenge nothing satisfies), its registrations
(ps_contacts) are gone and its DIDs are missing from the asterisk_dids view the dialplan
reads; other tenants' rows are untouched, a tenant whose key extends this one's
included.  Reactivation gives back every row exactly as it was (an endpoint with an ACL
set by hand, and an inactive DID, included).  An endpoint created while the tenant is
suspended is created shut and opened by the reactivation; a create racing a suspension
does not escape it.  Each change is audited and announced (tenant.update/tenant.delete,
tenant.updated/tenant.deleted in the platform tenant).  The view's rows, destinations
and contexts (hashed keys included) match what the API wrote.
"""

import json
import secrets
import time

import pytest

from cchelpers import audit_rows, db_exec, db_rows, race
from ccobjects import new_ext, new_number

DENY_ALL = "0.0.0.0/0,::/0"
RT_TABLES = ("ps_endpoints", "ps_auths", "ps_aors")
AUTHZ_DENIAL_LOGS = ("AH01631", "AH01629")


# ---- helpers ---------------------------------------------------------------------

def as_admin(tenant):
    """The platform admin acting inside tenant (works while it is suspended)."""
    return {"X-Tenant-ID": tenant.id}


def post(cc, tenant, path, body):
    r = cc.post(path, token=cc.admin_token(), headers=as_admin(tenant), json=body)
    assert r.status_code == 201, r.text
    return r.json()


def endpoint(cc, tenant, **body):
    return post(cc, tenant, "/api/v1/endpoints", {"extension": new_ext(), **body})


def did(cc, tenant, **body):
    return post(cc, tenant, "/api/v1/dids", {"number": new_number(), **body})


def set_status(cc, tenant, status):
    r = cc.patch(f"/api/v1/tenants/{tenant.id}", token=cc.admin_token(),
                 json={"status": status})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == status
    return r.json()


def add_contact(cc, sip_id, with_endpoint=True):
    """A registration as Asterisk writes it on REGISTER (id "<aor>;@<hash>")."""
    cid = f"{sip_id};@{secrets.token_hex(16)}"
    db_exec(cc, "INSERT INTO ps_contacts (id, uri, expiration_time, user_agent, via_addr,"
                " via_port, endpoint, qualify_frequency) VALUES (%s, %s, %s, 'Yealink',"
                " '192.0.2.10', 5060, %s, 60)",
            (cid, f"sip:{sip_id}@192.0.2.10:5060^3Btransport=udp", int(time.time()) + 3600,
             sip_id if with_endpoint else None))
    return cid


def rt_state(cc, sip_ids):
    """Every row Asterisk reads for these SIP ids, and their side rows: {(table, id): row}."""
    out = {}
    for sip_id in sip_ids:
        for table in RT_TABLES:
            for row in db_rows(cc, f"SELECT * FROM {table} WHERE id = %s", (sip_id,)):
                out[(table, sip_id)] = row
        for row in db_rows(cc, "SELECT * FROM endpoints WHERE asterisk_id = %s", (sip_id,)):
            out[("endpoints", sip_id)] = row
        for row in db_rows(cc, "SELECT * FROM ps_contacts WHERE endpoint = %s OR id LIKE %s",
                           (sip_id, sip_id + ";@%")):
            out[("ps_contacts", row["id"])] = row
    return out


def contacts_of(state):
    return {k: v for k, v in state.items() if k[0] == "ps_contacts"}


def without_contacts(state):
    return {k: v for k, v in state.items() if k[0] != "ps_contacts"}


def view_rows(cc, numbers):
    rows = db_rows(cc, "SELECT * FROM asterisk_dids WHERE number IN %s ORDER BY number",
                   (tuple(numbers),))
    return {r["number"]: r for r in rows}


def dids_rows(cc, tenant):
    return db_rows(cc, "SELECT * FROM dids WHERE tenant_id = %s ORDER BY id", (tenant.id,))


def platform_changes(cc, action, tenant):
    return [json.loads(r["changes"])
            for r in audit_rows(cc, cc.platform_tenant_id, action, tenant.id)]


def platform_events(cc, event_type, tenant):
    return [json.loads(r["data"]) for r in db_rows(
        cc, "SELECT data FROM events WHERE tenant_id = %s AND type = %s AND entity_id = %s"
            " ORDER BY id", (cc.platform_tenant_id, event_type, tenant.id))]


def assert_shut(state_now, state_before, sip_ids):
    """Each endpoint's ps_endpoints row denies every address (permit cleared) and is
    otherwise as before; auth and AOR rows as before; no registration left."""
    for sip_id in sip_ids:
        now, before = state_now[("ps_endpoints", sip_id)], state_before[("ps_endpoints", sip_id)]
        assert (now["deny"], now["permit"]) == (DENY_ALL, None), sip_id
        assert {**now, "deny": before["deny"], "permit": before["permit"]} == before
        for table in ("ps_auths", "ps_aors"):
            assert state_now[(table, sip_id)] == state_before[(table, sip_id)]
        assert state_now[("endpoints", sip_id)]["suspended"] == 1
    assert contacts_of(state_now) == {}


# ---- the tenant's telephony follows its status --------------------------------------

def make_telephony(cc, tenant):
    """Endpoints (one plain, one with an ACL set by hand, one WebRTC), registrations, a
    queue, DIDs (one inactive).  Returns (sip ids, DID numbers, active DID numbers)."""
    e1 = endpoint(cc, tenant)
    e2 = endpoint(cc, tenant)
    e3 = endpoint(cc, tenant, webrtc=True, max_contacts=3)
    db_exec(cc, "UPDATE ps_endpoints SET deny = '10.0.0.0/8', permit = '10.1.0.0/16'"
                " WHERE id = %s", (e2["sip_username"],))
    add_contact(cc, e1["sip_username"])
    add_contact(cc, e1["sip_username"], with_endpoint=False)   # an older Asterisk's row
    add_contact(cc, e2["sip_username"])
    q = post(cc, tenant, "/api/v1/queues", {"name": "Support " + secrets.token_hex(3)})
    d1 = did(cc, tenant, destination_type="endpoint", destination_id=e1["id"])
    d2 = did(cc, tenant, destination_type="queue", destination_id=q["id"])
    d3 = did(cc, tenant, destination_type="queue", destination_id=q["id"], status="inactive")
    sips = [e["sip_username"] for e in (e1, e2, e3)]
    return sips, [d1["number"], d2["number"], d3["number"]], [d1["number"], d2["number"]]


def neighbour_of(cc, tenant):
    """Another tenant whose key extends tenant's ("<slug>-12"): its SIP ids start with
    tenant's key and a dash, so only an exact pattern leaves its registrations alone."""
    slug = tenant.slug + "-12"
    r = cc.post("/api/v1/tenants", token=cc.admin_token(),
                json={"name": "Neighbour " + slug, "slug": slug})
    assert r.status_code == 201, r.text

    class T:
        id = r.json()["id"]
    return T


@pytest.mark.allow_log(*AUTHZ_DENIAL_LOGS)
@pytest.mark.parametrize("how", ["suspend", "delete"])
def test_status_change_shuts_telephony_and_reactivation_restores_it(cc, tenant, tenant2, how):
    sips, numbers, active_numbers = make_telephony(cc, tenant)
    others, other_numbers, other_active = make_telephony(cc, tenant2)
    neighbour = neighbour_of(cc, tenant)
    n_ep = endpoint(cc, neighbour, extension="1001")
    add_contact(cc, n_ep["sip_username"])
    others.append(n_ep["sip_username"])

    before = rt_state(cc, sips)
    others_before = rt_state(cc, others)
    dids_before = dids_rows(cc, tenant)
    eps_before = cc.get("/api/v1/endpoints", token=tenant.admin_token).json()["data"]
    assert len(contacts_of(before)) == 3 and len(contacts_of(others_before)) == 4
    assert set(view_rows(cc, numbers + other_numbers)) == set(active_numbers + other_active)

    if how == "suspend":
        set_status(cc, tenant, "suspended")
        action, event = "tenant.update", "tenant.updated"
    else:
        r = cc.delete(f"/api/v1/tenants/{tenant.id}", token=cc.admin_token())
        assert r.status_code == 204
        action, event = "tenant.delete", "tenant.deleted"

    # What Asterisk reads: every endpoint denied, registrations gone, DIDs unrouted.
    assert_shut(rt_state(cc, sips), before, sips)
    assert set(view_rows(cc, numbers + other_numbers)) == set(other_active)
    # Nothing else moved: other tenants (the neighbour's registration included), the
    # tenant's DID rows, the endpoint objects the API shows.
    assert rt_state(cc, others) == others_before
    assert dids_rows(cc, tenant) == dids_before
    (changes,) = platform_changes(cc, action, tenant)
    assert changes == {"status": {"from": "active", "to": "suspended" if how == "suspend"
                                  else "deleted"},
                       "telephony": {"endpoints_blocked": 3, "registrations_removed": 3}}
    (data,) = platform_events(cc, event, tenant)
    assert data["id"] == tenant.id and data["status"] != "active"

    # Reactivated: every row exactly as before but the registrations (phones register
    # again on their own); the inactive DID stays inactive.
    set_status(cc, tenant, "active")
    after = rt_state(cc, sips)
    assert after == without_contacts(before)
    assert set(view_rows(cc, numbers + other_numbers)) == set(active_numbers + other_active)
    assert dids_rows(cc, tenant) == dids_before
    assert cc.get("/api/v1/endpoints", token=tenant.admin_token).json()["data"] == eps_before
    assert rt_state(cc, others) == others_before
    assert platform_changes(cc, "tenant.update", tenant)[-1] == {
        "status": {"from": "suspended" if how == "suspend" else "deleted", "to": "active"},
        "telephony": {"endpoints_restored": 3}}
    assert platform_events(cc, "tenant.updated", tenant)[-1]["status"] == "active"


@pytest.mark.allow_log(*AUTHZ_DENIAL_LOGS)
def test_suspended_then_deleted_stays_shut_and_restores_once(cc, tenant):
    sips, numbers, active_numbers = make_telephony(cc, tenant)
    before = rt_state(cc, sips)
    set_status(cc, tenant, "suspended")
    assert cc.delete(f"/api/v1/tenants/{tenant.id}", token=cc.admin_token()).status_code \
        == 204
    assert_shut(rt_state(cc, sips), before, sips)
    assert view_rows(cc, numbers) == {}
    (changes,) = platform_changes(cc, "tenant.delete", tenant)
    assert changes["telephony"] == {"endpoints_blocked": 0, "registrations_removed": 0}
    set_status(cc, tenant, "active")
    assert rt_state(cc, sips) == without_contacts(before)
    assert set(view_rows(cc, numbers)) == set(active_numbers)


@pytest.mark.allow_log(*AUTHZ_DENIAL_LOGS)
def test_a_row_changed_by_hand_while_suspended_keeps_the_hands_values(cc, tenant):
    e1, e2 = endpoint(cc, tenant), endpoint(cc, tenant)
    before = rt_state(cc, [e1["sip_username"], e2["sip_username"]])
    set_status(cc, tenant, "suspended")
    db_exec(cc, "UPDATE ps_endpoints SET deny = '192.0.2.0/24' WHERE id = %s",
            (e2["sip_username"],))
    set_status(cc, tenant, "active")
    after = rt_state(cc, [e1["sip_username"], e2["sip_username"]])
    assert after[("ps_endpoints", e1["sip_username"])] == \
        before[("ps_endpoints", e1["sip_username"])]
    row = after[("ps_endpoints", e2["sip_username"])]
    assert (row["deny"], row["permit"]) == ("192.0.2.0/24", None)
    assert after[("endpoints", e2["sip_username"])]["suspended"] == 0


@pytest.mark.allow_log(*AUTHZ_DENIAL_LOGS)
def test_endpoint_created_while_suspended_is_shut_until_reactivation(cc, tenant):
    normal = endpoint(cc, tenant)
    set_status(cc, tenant, "suspended")
    e = endpoint(cc, tenant)
    sip = e["sip_username"]
    (row,) = db_rows(cc, "SELECT * FROM ps_endpoints WHERE id = %s", (sip,))
    (side,) = db_rows(cc, "SELECT * FROM endpoints WHERE id = %s", (e["id"],))
    assert (row["deny"], row["permit"]) == (DENY_ALL, None)
    assert (side["suspended"], side["saved_deny"], side["saved_permit"]) == (1, None, None)
    # A PATCH while suspended leaves the ACL alone.
    r = cc.patch(f"/api/v1/endpoints/{e['id']}", token=cc.admin_token(),
                 headers=as_admin(tenant), json={"allow": "ulaw"})
    assert r.status_code == 200, r.text
    (row,) = db_rows(cc, "SELECT deny, permit FROM ps_endpoints WHERE id = %s", (sip,))
    assert (row["deny"], row["permit"]) == (DENY_ALL, None)

    set_status(cc, tenant, "active")
    for sip_id, ep_id in ((sip, e["id"]), (normal["sip_username"], normal["id"])):
        (row,) = db_rows(cc, "SELECT deny, permit FROM ps_endpoints WHERE id = %s", (sip_id,))
        (side,) = db_rows(cc, "SELECT suspended, saved_deny, saved_permit FROM endpoints"
                              " WHERE id = %s", (ep_id,))
        assert (row["deny"], row["permit"]) == (None, None)
        assert side == {"suspended": 0, "saved_deny": None, "saved_permit": None}
    (changes,) = [c for c in platform_changes(cc, "tenant.update", tenant)
                  if c["status"]["to"] == "active"]
    assert changes["telephony"] == {"endpoints_restored": 2}


# ---- races: the tenant row is locked first ------------------------------------------

@pytest.mark.allow_log(*AUTHZ_DENIAL_LOGS)
def test_create_racing_a_suspension_is_shut(cc, tenant):
    """The suspension holds the tenant row and has changed the status (not committed):
    a create by the tenant's own admin (authorised before the commit) waits for the row
    and then sees the new status."""
    ext = new_ext()
    hold = [("SELECT id FROM tenants WHERE id = %s FOR UPDATE", (tenant.id,)),
            ("UPDATE tenants SET status = 'suspended' WHERE id = %s", (tenant.id,))]
    problems, r = race(cc, hold, lambda: cc.post(
        "/api/v1/endpoints", token=tenant.admin_token, json={"extension": ext}), [])
    assert problems == [] and r.status_code == 201, (problems, r.text)
    (row,) = db_rows(cc, "SELECT deny, permit FROM ps_endpoints WHERE id = %s",
                     (r.json()["sip_username"],))
    assert (row["deny"], row["permit"]) == (DENY_ALL, None)
    set_status(cc, tenant, "active")
    (row,) = db_rows(cc, "SELECT deny FROM ps_endpoints WHERE id = %s",
                     (r.json()["sip_username"],))
    assert row["deny"] is None


@pytest.mark.allow_log(*AUTHZ_DENIAL_LOGS)
def test_suspension_racing_a_create_shuts_it_too(cc, tenant):
    """A create in flight (tenant row share-locked, rows written, not committed): the
    suspension waits for it and shuts the new endpoint with the others."""
    ext = new_ext()
    sip = f"{tenant.slug}-{ext}"
    hold = [("SELECT status FROM tenants WHERE id = %s LOCK IN SHARE MODE", (tenant.id,)),
            ("INSERT INTO endpoints (tenant_id, extension, asterisk_id) VALUES (%s, %s, %s)",
             (tenant.id, ext, sip)),
            ("INSERT INTO ps_endpoints (id, aors, auth, tenantid) VALUES (%s, %s, %s, %s)",
             (sip, sip, sip, tenant.id))]
    problems, r = race(cc, hold, lambda: cc.patch(
        f"/api/v1/tenants/{tenant.id}", token=cc.admin_token(),
        json={"status": "suspended"}), [])
    assert problems == [] and r.status_code == 200, (problems, r.text)
    (row,) = db_rows(cc, "SELECT deny, permit FROM ps_endpoints WHERE id = %s", (sip,))
    assert (row["deny"], row["permit"]) == (DENY_ALL, None)
    (changes,) = platform_changes(cc, "tenant.update", tenant)
    assert changes["telephony"]["endpoints_blocked"] == 1


# ---- the DID view ------------------------------------------------------------------

def test_view_routes_each_destination_in_asterisk_terms(cc, tenant, tenant2):
    user, _ = tenant.make_user()
    e1 = endpoint(cc, tenant, user_id=user["id"], extension="2002")
    e2 = endpoint(cc, tenant, user_id=user["id"], extension="2001")
    q = post(cc, tenant, "/api/v1/queues", {"name": "Sales " + secrets.token_hex(3)})
    context = e1["context"]
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO voicemail (context, mailbox, password) VALUES (%s, '2001',"
                    " '1234')", (context,))
        box = cur.lastrowid
    lonely, _ = tenant.make_user()
    made = {
        "endpoint": did(cc, tenant, destination_type="endpoint", destination_id=e1["id"]),
        "queue": did(cc, tenant, destination_type="queue", destination_id=q["id"]),
        "user": did(cc, tenant, destination_type="user", destination_id=user["id"]),
        "lonely": did(cc, tenant, destination_type="user", destination_id=lonely["id"]),
        "voicemail": did(cc, tenant, destination_type="voicemail", destination_id=box),
        "none": did(cc, tenant),
        "inactive": did(cc, tenant, destination_type="queue", destination_id=q["id"],
                        status="inactive"),
    }
    rows = view_rows(cc, [d["number"] for d in made.values()])
    want = {
        "endpoint": ("endpoint", "PJSIP/" + e1["sip_username"]),
        "queue": ("queue", q["asterisk_name"]),
        "user": ("user", f"PJSIP/{e2['sip_username']}&PJSIP/{e1['sip_username']}"),
        "lonely": ("user", None),
        "voicemail": ("voicemail", f"2001@{context}"),
        "none": ("none", None),
    }
    assert set(rows) == {made[k]["number"] for k in want}
    for k, (dtype, dest) in want.items():
        row = rows[made[k]["number"]]
        assert (row["tenant_id"], row["context"], row["destination_type"],
                row["destination"]) == (tenant.id, context, dtype, dest), k


def test_view_context_is_the_endpoints_context_for_long_slugs(cc):
    slug = "long-" + secrets.token_hex(12)          # 29 characters: a hashed key
    r = cc.post("/api/v1/tenants", token=cc.admin_token(),
                json={"name": "Long " + slug, "slug": slug})
    assert r.status_code == 201, r.text

    class T:
        id = r.json()["id"]
    e = endpoint(cc, T)
    assert "_" in e["context"]
    d = did(cc, T, destination_type="endpoint", destination_id=e["id"])
    (row,) = view_rows(cc, [d["number"]]).values()
    assert (row["context"], row["destination"]) == (e["context"], "PJSIP/" + e["sip_username"])
