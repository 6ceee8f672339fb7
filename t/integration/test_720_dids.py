"""API.md "Telephony", DIDs: /api/v1/dids (mod_callcenter/cc_dids.c).

Create, get, list (paging, sort, q/status/destination_type filters), patch, delete; E.164
and every other validation; destinations that must exist in the caller's tenant; the
platform-wide unique number; the max_dids quota (also under concurrency); tenant
isolation; RBAC; one audit entry and one event per mutation, in its transaction; text
that must survive the round trip; and the answers against the OpenAPI document.
"""

import re
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from cchelpers import (assert_error, assert_unauthorized, db_rows,
                       detail_fields, openapi_checker, race)
from ccobjects import (Resource, field_cases, new_number, set_tenant_limit,
                       token_with_permissions, with_defaults)

DIDS = "/api/v1/dids"
DID_KEYS = {"id", "number", "description", "destination_type", "destination_id", "status",
            "created_at", "updated_at"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


# ---- helpers ---------------------------------------------------------------------

def new_prefix():
    """+ and 7 random digits: numbers prefix + 6 digits share it (for q filters)."""
    return f"+2{secrets.randbelow(10**6):06d}"


def assert_did_shape(d):
    assert set(d) == DID_KEYS, d
    assert isinstance(d["id"], int) and not isinstance(d["id"], bool) and d["id"] > 0
    assert isinstance(d["number"], str) and re.fullmatch(r"\+[1-9]\d{7,14}", d["number"])
    assert isinstance(d["description"], str)
    assert d["destination_type"] in ("none", "queue", "user", "endpoint", "voicemail")
    if d["destination_type"] == "none":
        assert d["destination_id"] is None
    else:
        assert isinstance(d["destination_id"], int) and d["destination_id"] > 0
    assert d["status"] in ("active", "inactive")
    assert RFC3339.match(d["created_at"]) and RFC3339.match(d["updated_at"])


def set_max_dids(cc, tenant, n):
    set_tenant_limit(cc, tenant, "max_dids", n)


DID = Resource(DIDS, body=with_defaults(number=new_number), shape=assert_did_shape,
               entity="did", table="dids")
create, create_ok, get_did = DID.create, DID.create_ok, DID.get
patch, patch_ok, listing, list_ids = DID.patch, DID.patch_ok, DID.listing, DID.list_ids
audit_rows, event_rows, dids_in_db = DID.audit_rows, DID.event_rows, DID.rows


def dids_count(cc, tenant):
    (row,) = db_rows(cc, "SELECT dids_count FROM tenants WHERE id = %s", (tenant.id,))
    return row["dids_count"]


# ---- create and get ----------------------------------------------------------------

def test_create_minimal_gets_the_defaults(cc, tenant):
    number = new_number()
    d = DID.post_created(cc, tenant, {"number": number})
    assert_did_shape(d)
    assert (d["number"], d["description"], d["destination_type"], d["destination_id"],
            d["status"]) == (number, "", "none", None, "active")
    assert d["created_at"] == d["updated_at"]
    g = get_did(cc, tenant, d["id"])
    assert g.status_code == 200 and g.json() == d


def test_create_routed_to_a_user_with_every_field(cc, tenant):
    user, _ = tenant.make_user(roles=["agent"])
    body = {"number": new_number(), "description": "Sales line", "destination_type": "user",
            "destination_id": user["id"], "status": "inactive"}
    d = create_ok(cc, tenant, **body)
    for k, v in body.items():
        assert d[k] == v, (k, d)
    assert get_did(cc, tenant, d["id"]).json() == d
    row = dids_in_db(cc, tenant)[0]
    assert (row["tenant_id"], row["destination_id"]) == (tenant.id, user["id"])


def test_create_with_explicit_none_destination(cc, tenant):
    d = create_ok(cc, tenant, destination_type="none", destination_id=None)
    assert (d["destination_type"], d["destination_id"]) == ("none", None)


def test_a_disabled_user_is_a_valid_destination(cc, tenant):
    user, _ = tenant.make_user(roles=["agent"], status="disabled")
    d = create_ok(cc, tenant, destination_type="user", destination_id=user["id"])
    assert d["destination_id"] == user["id"]


def test_platform_admin_creates_inside_a_tenant_with_x_tenant_id(cc, tenant):
    r = cc.post(DIDS, token=cc.admin_token(), headers={"X-Tenant-ID": tenant.id},
                json={"number": new_number()})
    assert r.status_code == 201, r.text
    assert get_did(cc, tenant, r.json()["id"]).status_code == 200
    assert [row["id"] for row in dids_in_db(cc, tenant)] == [r.json()["id"]]


def test_get_unknown_or_malformed_id_is_404(cc, tenant):
    for bad in ("999999999", "0", "-1", "abc", "1.5", "9" * 30):
        assert_error(cc.get(f"{DIDS}/{bad}", token=tenant.admin_token), 404, "not_found")


def test_sql_looking_and_unicode_descriptions_are_stored_unchanged(cc, tenant):
    for text in ["'; DROP TABLE dids; --", "Robert'); DELETE FROM tenants WHERE ('1'='1",
                 "100% _match_ \\ back", "Línea principal \U0001F4DE 電話", "é" * 500,
                 "tab\there\nnew line", ""]:
        d = create_ok(cc, tenant, description=text)
        assert d["description"] == text
        assert get_did(cc, tenant, d["id"]).json()["description"] == text
        (row,) = db_rows(cc, "SELECT description FROM dids WHERE tenant_id = %s AND id = %s",
                         (tenant.id, d["id"]))
        assert row["description"] == text
    assert len(db_rows(cc, "SELECT id FROM tenants WHERE id = %s", (tenant.id,))) == 1


# ---- validation ----------------------------------------------------------------------

@pytest.mark.parametrize("body, field", field_cases(
    number=[None, 15551234567, "15551234567", "+05551234567",
            "+1234567",                                      # 7 digits
            "+1234567890123456",                             # 16 digits
            "+1 555 123 4567", "+1555123456a", "", "+"],
    description=["x" * 501, "bell\x07", None, 5],
    destination_type=["fax", None], destination_id=[5], status=["deleted", "", None],
    tenant_id=["x"], id=[5], extra=[1],
) + field_cases(
    {"destination_type": "user"}, destination_id=[None, 0, -4, "5", 1.5, True, 2**53 + 1],
) + [
    ({"destination_type": "USER", "destination_id": 1}, "destination_type"),
    ({"destination_type": "user"}, "destination_id"),
    ({"destination_type": "none", "destination_id": 5}, "destination_id"),
])
def test_create_rejects_bad_fields(cc, tenant, body, field):
    full = {"number": new_number(), **body}
    if "number" in body and body["number"] is None:
        del full["number"]                                   # missing: required
    r = cc.post(DIDS, token=tenant.admin_token, json=full)
    assert_error(r, 400, "invalid_request", field)
    assert dids_in_db(cc, tenant) == [] and audit_rows(cc, tenant) == []


def tenant_key(slug):
    """shared/cc_asterisk.c's tenant key (the fixtures' slugs are short)."""
    assert len(slug) <= 24
    return slug


def make_destination(cc, tenant, kind):
    """A queue, endpoint or voicemail box of tenant, written straight into the tables
    (the DID check reads only these rows); returns its id."""
    key = tenant_key(tenant.slug)
    tag = secrets.token_hex(4)
    with cc.db() as conn, conn.cursor() as cur:
        if kind == "queue":
            cur.execute("INSERT INTO call_queues (tenant_id, name, asterisk_name)"
                        " VALUES (%s, %s, %s)", (tenant.id, f"q {tag}", f"{key}-q-{tag}"))
        elif kind == "endpoint":
            ext = str(10000000 + secrets.randbelow(89999999))
            cur.execute("INSERT INTO endpoints (tenant_id, extension, asterisk_id)"
                        " VALUES (%s, %s, %s)", (tenant.id, ext, f"{key}-{ext}"))
        else:
            cur.execute("INSERT INTO voicemail (context, mailbox, password)"
                        " VALUES (%s, %s, '1234')", (f"tenant-{key}", tag))
        conn.commit()
        return cur.lastrowid


@pytest.mark.parametrize("kind", ["queue", "endpoint", "voicemail"])
def test_destination_in_the_tenant_is_accepted(cc, tenant, kind):
    dest = make_destination(cc, tenant, kind)
    d = create_ok(cc, tenant, destination_type=kind, destination_id=dest)
    assert (d["destination_type"], d["destination_id"]) == (kind, dest)
    other = make_destination(cc, tenant, kind)
    p = patch_ok(cc, tenant, d["id"], {"destination_id": other})
    assert (p["destination_type"], p["destination_id"]) == (kind, other)


@pytest.mark.parametrize("kind", ["queue", "endpoint", "voicemail"])
def test_destination_of_another_tenant_or_missing_is_400(cc, tenant, tenant2, kind):
    foreign = make_destination(cc, tenant2, kind)
    for dest in (foreign, foreign + 10**9):
        r = create(cc, tenant, destination_type=kind, destination_id=dest)
        body = assert_error(r, 400, "invalid_request", "destination_id")
        assert body["details"] == [{"field": "destination_id",
                                    "issue": f"no such {kind} in this tenant"}], body
    d = create_ok(cc, tenant)
    assert_error(patch(cc, tenant, d["id"], {"destination_type": kind,
                                             "destination_id": foreign}),
                 400, "invalid_request", "destination_id")
    assert [x["id"] for x in dids_in_db(cc, tenant)] == [d["id"]]
    assert get_did(cc, tenant, d["id"]).json()["destination_type"] == "none"


def test_every_problem_is_reported_at_once(cc, tenant):
    r = cc.post(DIDS, token=tenant.admin_token,
                json={"number": "555", "description": "x" * 600, "status": "on",
                      "destination_type": "pager", "destination_id": 0})
    body = assert_error(r, 400, "invalid_request")
    assert set(detail_fields(body)) == {"number", "description", "status",
                                        "destination_type", "destination_id"}, body


def test_non_json_body_is_415(cc, tenant):
    did = create_ok(cc, tenant)
    for method, path in (("POST", DIDS), ("PATCH", f"{DIDS}/{did['id']}")):
        r = cc.request(method, path, token=tenant.admin_token,
                       data=b"number=%2B15551234567", headers={"Content-Type":
                                                               "application/x-www-form-urlencoded"})
        assert_error(r, 415, "unsupported_media_type")
        r = cc.request(method, path, token=tenant.admin_token, data=b'{"number": "+1555"}',
                       headers={"Content-Type": "text/plain"})
        assert_error(r, 415, "unsupported_media_type")
    assert len(dids_in_db(cc, tenant)) == 1


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'"x"', b'{"number": "+15550001111",}',
                                 b'{"number": "+1555", "number": "+1666"}'])
def test_malformed_json_is_400(cc, tenant, raw):
    r = cc.request("POST", DIDS, token=tenant.admin_token, data=raw,
                   headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid_request")


def test_wrong_method_is_405_with_allow(cc, tenant):
    DID.assert_wrong_methods_are_405(cc, tenant, create_ok(cc, tenant)["id"])


# ---- destinations ------------------------------------------------------------------

def test_destination_user_of_another_tenant_is_400_not_404(cc, tenant, tenant2):
    foreign, _ = tenant2.make_user(roles=["agent"])
    r = create(cc, tenant, destination_type="user", destination_id=foreign["id"])
    body = assert_error(r, 400, "invalid_request", "destination_id")
    assert "no such user" in body["details"][0]["issue"]
    # The other tenant's admin id too (every tenant has one).
    r = create(cc, tenant, destination_type="user", destination_id=tenant2.admin_user_id)
    assert_error(r, 400, "invalid_request", "destination_id")
    assert dids_in_db(cc, tenant) == [] and audit_rows(cc, tenant) == []


def test_destination_unknown_user_is_400(cc, tenant):
    r = create(cc, tenant, destination_type="user", destination_id=999999999)
    assert_error(r, 400, "invalid_request", "destination_id")


def test_destination_deleted_user_is_400(cc, tenant):
    user, _ = tenant.make_user(roles=["agent"])
    assert cc.delete(f"/api/v1/users/{user['id']}", token=tenant.admin_token).status_code == 204
    r = create(cc, tenant, destination_type="user", destination_id=user["id"])
    assert_error(r, 400, "invalid_request", "destination_id")
    did = create_ok(cc, tenant)
    r = patch(cc, tenant, did["id"], {"destination_type": "user", "destination_id": user["id"]})
    assert_error(r, 400, "invalid_request", "destination_id")
    assert get_did(cc, tenant, did["id"]).json() == did


# ---- number uniqueness and quota ---------------------------------------------------

def test_duplicate_number_in_the_same_tenant_is_409(cc, tenant):
    d = create_ok(cc, tenant)
    r = create(cc, tenant, number=d["number"])
    assert_error(r, 409, "conflict", "number")
    assert len(dids_in_db(cc, tenant)) == 1 and len(audit_rows(cc, tenant)) == 1
    assert dids_count(cc, tenant) == 1


def test_number_held_by_another_tenant_is_409(cc, tenant, tenant2):
    d = create_ok(cc, tenant2)
    r = create(cc, tenant, number=d["number"])
    body = assert_error(r, 409, "conflict", "number")
    assert tenant2.id not in r.text and str(d["id"]) not in body["message"]
    mine = create_ok(cc, tenant)
    assert_error(patch(cc, tenant, mine["id"], {"number": d["number"]}), 409, "conflict",
                 "number")
    assert get_did(cc, tenant, mine["id"]).json() == mine
    # A deleted DID frees its number at once, for any tenant.
    assert cc.delete(f"{DIDS}/{d['id']}", token=tenant2.admin_token).status_code == 204
    moved = patch_ok(cc, tenant, mine["id"], {"number": d["number"]})
    assert moved["number"] == d["number"]


def test_max_dids_quota(cc, tenant):
    set_max_dids(cc, tenant, 2)
    a = create_ok(cc, tenant)
    create_ok(cc, tenant)
    assert_error(create(cc, tenant), 409, "quota_exceeded")
    assert dids_count(cc, tenant) == 2 and len(audit_rows(cc, tenant)) == 2
    # Updates are not creates.
    patch_ok(cc, tenant, a["id"], {"description": "still fine"})
    assert cc.delete(f"{DIDS}/{a['id']}", token=tenant.admin_token).status_code == 204
    create_ok(cc, tenant)
    assert_error(create(cc, tenant), 409, "quota_exceeded")
    # Lowered below the current count: still no new ones, the existing ones stay.
    set_max_dids(cc, tenant, 1)
    assert_error(create(cc, tenant), 409, "quota_exceeded")
    assert listing(cc, tenant.admin_token)["total"] == 2
    set_max_dids(cc, tenant, 0)
    assert_error(create(cc, tenant), 409, "quota_exceeded")


def test_validation_comes_before_the_quota(cc, tenant):
    set_max_dids(cc, tenant, 0)
    assert_error(create(cc, tenant, number="nope"), 400, "invalid_request", "number")


def test_concurrent_creates_never_exceed_max_dids(cc, tenant):
    set_max_dids(cc, tenant, 5)

    def one(_):
        return create(cc, tenant).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(one, range(16)))
    assert sorted(codes) == [201] * 5 + [409] * 11, codes
    assert len(dids_in_db(cc, tenant)) == 5 and dids_count(cc, tenant) == 5


def test_concurrent_creates_of_one_number_make_one_did(cc, tenant, tenant2):
    number = new_number()

    def one(i):
        t = tenant if i % 2 else tenant2
        return create(cc, t, number=number).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(one, range(8)))
    assert sorted(codes) == [201] + [409] * 7, codes
    rows = db_rows(cc, "SELECT tenant_id FROM dids WHERE number = %s", (number,))
    assert len(rows) == 1
    assert dids_count(cc, tenant) + dids_count(cc, tenant2) == 1


# ---- update --------------------------------------------------------------------------

def test_patch_changes_each_field(cc, tenant):
    user, _ = tenant.make_user(roles=["agent"])
    d = create_ok(cc, tenant, description="old")
    number = new_number()
    p = patch_ok(cc, tenant, d["id"], {"number": number})
    assert p["number"] == number and p["description"] == "old"
    p = patch_ok(cc, tenant, d["id"], {"description": "new", "status": "inactive"})
    assert (p["description"], p["status"]) == ("new", "inactive")
    p = patch_ok(cc, tenant, d["id"], {"destination_type": "user", "destination_id": user["id"]})
    assert (p["destination_type"], p["destination_id"]) == ("user", user["id"])
    assert (p["id"], p["created_at"], p["number"]) == (d["id"], d["created_at"], number)
    assert get_did(cc, tenant, d["id"]).json() == p
    p = patch_ok(cc, tenant, d["id"], {"description": ""})
    assert p["description"] == "" and p["destination_id"] == user["id"]


def test_patch_destination_rules(cc, tenant):
    u1, _ = tenant.make_user(roles=["agent"])
    u2, _ = tenant.make_user(roles=["agent"])
    d = create_ok(cc, tenant, destination_type="user", destination_id=u1["id"])
    # An id alone applies to the current type.
    p = patch_ok(cc, tenant, d["id"], {"destination_id": u2["id"]})
    assert (p["destination_type"], p["destination_id"]) == ("user", u2["id"])
    # The same type without an id keeps the id.
    p = patch_ok(cc, tenant, d["id"], {"destination_type": "user"})
    assert p["destination_id"] == u2["id"]
    # A null id for a routed DID is refused.
    assert_error(patch(cc, tenant, d["id"], {"destination_id": None}), 400, "invalid_request",
                 "destination_id")
    # none clears the id.
    p = patch_ok(cc, tenant, d["id"], {"destination_type": "none"})
    assert (p["destination_type"], p["destination_id"]) == ("none", None)
    # From none: a type needs an id, an id needs a type, none takes no id.
    assert_error(patch(cc, tenant, d["id"], {"destination_type": "user"}), 400,
                 "invalid_request", "destination_id")
    assert_error(patch(cc, tenant, d["id"], {"destination_id": u1["id"]}), 400,
                 "invalid_request", "destination_id")
    assert_error(patch(cc, tenant, d["id"], {"destination_type": "none",
                                             "destination_id": u1["id"]}),
                 400, "invalid_request", "destination_id")
    assert_error(patch(cc, tenant, d["id"], {"destination_type": "queue",
                                             "destination_id": 10**12}),
                 400, "invalid_request", "destination_id")
    p = patch_ok(cc, tenant, d["id"], {"destination_type": "none", "destination_id": None})
    assert p["destination_id"] is None
    assert get_did(cc, tenant, d["id"]).json()["destination_type"] == "none"


def test_patch_to_another_tenants_user_is_400(cc, tenant, tenant2):
    foreign, _ = tenant2.make_user(roles=["agent"])
    d = create_ok(cc, tenant)
    r = patch(cc, tenant, d["id"], {"destination_type": "user", "destination_id": foreign["id"]})
    assert_error(r, 400, "invalid_request", "destination_id")
    assert get_did(cc, tenant, d["id"]).json() == d


@pytest.mark.parametrize("body, field", field_cases(
    number=["0123", None], description=["x" * 501], status=["gone"],
    destination_type=["fax"], destination_id=[-1], id=[9],
    created_at=["2026-01-01T00:00:00Z"]))
def test_patch_rejects_bad_fields(cc, tenant, body, field):
    DID.assert_patch_of_a_new_one_rejected(cc, tenant, body, field)


def test_patch_without_changes_writes_nothing(cc, tenant):
    d = create_ok(cc, tenant, description="same")
    before = (audit_rows(cc, tenant), event_rows(cc, tenant), dids_in_db(cc, tenant))
    for body in ({}, {"description": "same"}, {"number": d["number"], "status": "active",
                                               "destination_type": "none"}):
        p = patch_ok(cc, tenant, d["id"], body)
        assert p == d
    assert (audit_rows(cc, tenant), event_rows(cc, tenant), dids_in_db(cc, tenant)) == before


def test_patch_and_delete_unknown_ids_are_404(cc, tenant):
    for bad in ("999999999", "0", "abc"):
        assert_error(patch(cc, tenant, bad, {"description": "x"}), 404, "not_found")
        assert_error(cc.delete(f"{DIDS}/{bad}", token=tenant.admin_token), 404, "not_found")
    assert audit_rows(cc, tenant) == [] and event_rows(cc, tenant) == []


# ---- delete --------------------------------------------------------------------------

def test_delete_is_real(cc, tenant):
    d = create_ok(cc, tenant)
    assert dids_count(cc, tenant) == 1
    r = cc.delete(f"{DIDS}/{d['id']}", token=tenant.admin_token)
    assert r.status_code == 204 and r.content == b""
    assert_error(get_did(cc, tenant, d["id"]), 404, "not_found")
    assert_error(cc.delete(f"{DIDS}/{d['id']}", token=tenant.admin_token), 404, "not_found")
    assert_error(patch(cc, tenant, d["id"], {"description": "x"}), 404, "not_found")
    assert dids_in_db(cc, tenant) == [] and dids_count(cc, tenant) == 0
    assert listing(cc, tenant.admin_token)["total"] == 0
    # The number is free again.
    assert create_ok(cc, tenant, number=d["number"])["id"] != d["id"]


# ---- audit and events ----------------------------------------------------------------

def test_each_mutation_writes_one_audit_entry_and_one_event(cc, tenant):
    user, _ = tenant.make_user(roles=["agent"])
    d = create_ok(cc, tenant, description="Support", destination_type="user",
                  destination_id=user["id"])
    sid = str(d["id"])
    (a,) = audit_rows(cc, tenant)
    assert (a["action"], a["entity_type"], a["entity_id"]) == ("did.create", "did", sid)
    assert a["actor_id"] == tenant.admin_user_id
    assert a["changes"] == {"number": d["number"], "description": "Support",
                            "destination_type": "user", "destination_id": user["id"],
                            "status": "active"}
    (e,) = event_rows(cc, tenant)
    assert (e["type"], e["entity_type"], e["entity_id"]) == ("did.created", "did", sid)
    assert e["data"] == d

    p = patch_ok(cc, tenant, d["id"], {"destination_type": "none", "status": "inactive"})
    a, e = DID.nth_change(cc, tenant, 2, "update", sid)
    assert a["changes"] == {
        "destination_type": {"from": "user", "to": "none"},
        "destination_id": {"from": user["id"], "to": None},
        "status": {"from": "active", "to": "inactive"}}
    assert e["data"] == p

    assert cc.delete(f"{DIDS}/{d['id']}", token=tenant.admin_token).status_code == 204
    a, e = DID.nth_change(cc, tenant, 3, "delete", sid)
    assert a["changes"] == {"number": d["number"], "description": "Support",
                            "destination_type": "none", "destination_id": None,
                            "status": "inactive"}
    assert e["data"] == p

    # The audit API shows them too.
    DID.assert_audit_api_lists(cc, tenant, sid, ["create", "update", "delete"])


def test_failed_mutations_write_no_audit_or_event(cc, tenant, tenant2):
    taken = create_ok(cc, tenant2)
    d = create_ok(cc, tenant)
    before = (audit_rows(cc, tenant), event_rows(cc, tenant))
    assert_error(create(cc, tenant, number=taken["number"]), 409, "conflict")
    assert_error(patch(cc, tenant, d["id"], {"number": taken["number"]}), 409, "conflict")
    assert_error(create(cc, tenant, destination_type="user", destination_id=999999999), 400,
                 "invalid_request")
    set_max_dids(cc, tenant, 1)
    assert_error(create(cc, tenant), 409, "quota_exceeded")
    assert (audit_rows(cc, tenant), event_rows(cc, tenant)) == before
    assert len(dids_in_db(cc, tenant)) == 1 and dids_count(cc, tenant) == 1


# ---- list --------------------------------------------------------------------------

def test_list_envelope_total_paging_and_default_sort(cc, tenant):
    prefix = new_prefix()
    made = [create_ok(cc, tenant, number=f"{prefix}{i:06d}") for i in (4, 1, 3, 0, 2)]
    by_number = [d["id"] for d in sorted(made, key=lambda d: d["number"])]
    past = DID.assert_paging(cc, tenant, by_number, past_page=7)  # default sort: number
    assert past["page"] == 7
    p3 = listing(cc, tenant.admin_token, "?page=3&page_size=2")
    assert [d["id"] for d in p3["data"]] == by_number[4:]
    past = listing(cc, tenant.admin_token, "?page=7&page_size=2&status=active")
    assert past["data"] == [] and past["total"] == 5
    assert listing(cc, tenant.admin_token, "?page_size=200")["page_size"] == 200
    assert len(listing(cc, tenant.admin_token, "?page_size=1")["data"]) == 1


def test_list_sorts(cc, tenant):
    prefix = new_prefix()
    made = [create_ok(cc, tenant, number=f"{prefix}{i:06d}") for i in (7, 2, 9, 5)]
    by_number, by_created = DID.assert_sorts(cc, tenant, made, "number")
    # Filtered lists sort the same way.
    assert list_ids(cc, tenant.admin_token, "?sort=-number&status=active") == by_number[::-1]
    assert list_ids(cc, tenant.admin_token, "?sort=created_at&q=" + prefix[1:]) == by_created


def test_list_filters(cc, tenant):
    user, _ = tenant.make_user(roles=["agent"])
    prefix = new_prefix()
    a = create_ok(cc, tenant, number=f"{prefix}000001", description="Main SALES line")
    b = create_ok(cc, tenant, number=f"{prefix}000002", description="support",
                  status="inactive", destination_type="user", destination_id=user["id"])
    c = create_ok(cc, tenant, number=new_number(), description="Night sales",
                  destination_type="user", destination_id=user["id"])
    t = tenant.admin_token

    def ids(query):
        body = listing(cc, t, query)
        assert body["total"] == len(body["data"])
        return sorted(d["id"] for d in body["data"])

    assert ids("?status=inactive") == [b["id"]]
    assert ids("?status=active") == sorted([a["id"], c["id"]])
    assert ids("?destination_type=user") == sorted([b["id"], c["id"]])
    assert ids("?destination_type=none") == [a["id"]]
    assert ids("?destination_type=queue") == []
    assert ids("?q=sales") == sorted([a["id"], c["id"]])          # case-insensitive
    assert ids("?q=" + prefix[1:]) == sorted([a["id"], b["id"]])  # number substring
    assert ids("?q=%2B" + prefix[1:]) == sorted([a["id"], b["id"]])
    assert ids(f"?q={prefix[3:]}000002") == [b["id"]]
    assert ids("?q=sales&destination_type=user") == [c["id"]]
    assert ids("?q=sales&status=inactive") == []
    assert ids("?status=inactive&destination_type=user") == [b["id"]]
    assert ids("?q=") == sorted([a["id"], b["id"], c["id"]])     # empty q: no filter
    assert ids("?q=nothing-matches") == []


def test_list_q_wildcards_are_literal(cc, tenant):
    pct = create_ok(cc, tenant, description="100% sure")
    create_ok(cc, tenant, description="1000 sure")
    und = create_ok(cc, tenant, description="snake_case")
    create_ok(cc, tenant, description="snakeXcase")
    t = tenant.admin_token
    assert list_ids(cc, t, "?q=%25") == [pct["id"]]
    assert list_ids(cc, t, "?q=e_c") == [und["id"]]
    assert list_ids(cc, t, "?q=%25'+OR+1%3D1+--") == []


def test_unfiltered_total_is_the_tenants_dids_count(cc, tenant):
    for _ in range(3):
        create_ok(cc, tenant)
    (row,) = db_rows(cc, "SELECT dids_count, (SELECT COUNT(*) FROM dids WHERE tenant_id = %s)"
                         " AS n FROM tenants WHERE id = %s", (tenant.id, tenant.id))
    assert row["dids_count"] == row["n"] == 3
    assert listing(cc, tenant.admin_token)["total"] == 3


# ---- isolation -----------------------------------------------------------------------

def test_other_tenants_did_is_404_and_never_listed(cc, tenant, tenant2):
    user, _ = tenant.make_user(roles=["agent"])
    d = create_ok(cc, tenant, description="isolated line", destination_type="user",
                  destination_id=user["id"])
    mine = create_ok(cc, tenant2, description="isolated line too")
    t2 = tenant2.admin_token
    assert_error(cc.get(f"{DIDS}/{d['id']}", token=t2), 404, "not_found")
    assert_error(cc.patch(f"{DIDS}/{d['id']}", token=t2, json={"description": "mine now"}),
                 404, "not_found")
    assert_error(cc.patch(f"{DIDS}/{d['id']}", token=t2, json={}), 404, "not_found")
    assert_error(cc.delete(f"{DIDS}/{d['id']}", token=t2), 404, "not_found")
    for query in ("", "?page_size=200", "?q=isolated", "?q=" + d["number"][1:],
                  "?destination_type=user", "?status=active", "?sort=-created_at"):
        ids = [x["id"] for x in listing(cc, t2, query)["data"]]
        assert d["id"] not in ids, query
        assert set(ids) <= {mine["id"]}, query
    assert listing(cc, t2)["total"] == 1
    # Untouched, and nothing audited in either tenant for the attempts.
    assert get_did(cc, tenant, d["id"]).json() == d
    assert [a["action"] for a in audit_rows(cc, tenant)] == ["did.create"]
    assert [a["action"] for a in audit_rows(cc, tenant2)] == ["did.create"]


def test_x_tenant_id_is_ignored_for_tenant_admins(cc, tenant, tenant2):
    d = create_ok(cc, tenant)
    DID.create_ignoring_x_tenant_id(cc, tenant, tenant2, d["id"], {"number": new_number()})
    assert [x["id"] for x in dids_in_db(cc, tenant)] == [d["id"]]


# ---- RBAC ----------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["agent", "viewer", "supervisor"])
def test_readers_read_but_cannot_write(cc, tenant, role):
    d = create_ok(cc, tenant)
    _, token = tenant.make_user(roles=[role])
    g = cc.get(f"{DIDS}/{d['id']}", token=token)
    assert g.status_code == 200 and g.json() == d
    DID.assert_reader_cannot_write(cc, tenant, token, d["id"], d, {"number": new_number()},
                                   {"description": "x"}, {"number": "bad"})


def test_a_role_without_dids_read_cannot_list(cc, tenant):
    token = token_with_permissions(cc, tenant, "nodids", ["users.read"])
    assert_error(cc.get(DIDS, token=token), 403, "forbidden")
    assert_error(cc.get(f"{DIDS}/1", token=token), 403, "forbidden")


def test_no_token_is_401(cc):
    assert_unauthorized(cc.get(DIDS))
    assert_error(cc.post(DIDS, json={"number": new_number()}), 401, "unauthorized")


# ---- the OpenAPI document ----------------------------------------------------------

def test_answers_match_the_openapi_document(cc, tenant):
    check = openapi_checker(cc)
    t = tenant.admin_token
    user, agent = tenant.make_user(roles=["agent"])
    created = check(create(cc, tenant, destination_type="user", destination_id=user["id"]),
                    "POST", DIDS, 201)
    check(create(cc, tenant, number=created["number"]), "POST", DIDS, 409, "conflict")
    check(create(cc, tenant, number="x"), "POST", DIDS, 400, "invalid_request")
    check(create(cc, tenant, destination_type="queue", destination_id=10**12), "POST", DIDS,
          400)
    check(cc.post(DIDS, token=agent, json={"number": new_number()}), "POST", DIDS, 403,
          "forbidden")
    DID.check_answers(check, cc, t, created["id"], {"destination_type": "none"})
    DID.check_deleted(check, cc, t, created["id"])
    set_max_dids(cc, tenant, 0)
    check(create(cc, tenant), "POST", DIDS, 409, "quota_exceeded")


def test_a_user_a_did_routes_to_cannot_be_deleted(cc, tenant):
    user, _ = tenant.make_user(roles=["agent"])
    d = create_ok(cc, tenant, destination_type="user", destination_id=user["id"])
    r = cc.delete(f"/api/v1/users/{user['id']}", token=tenant.admin_token)
    assert_error(r, 409, "conflict")
    assert cc.get(f"/api/v1/users/{user['id']}", token=tenant.admin_token).status_code == 200
    patch_ok(cc, tenant, d["id"], {"destination_type": "none"})
    r = cc.delete(f"/api/v1/users/{user['id']}", token=tenant.admin_token)
    assert r.status_code == 204, r.text


@pytest.mark.parametrize("kind", ["user", "queue", "endpoint"])
def test_a_did_committed_while_the_delete_waits_still_blocks_it(cc, tenant, kind):
    """The delete's check for routing DIDs must see a DID committed while the delete
    waited for its row lock (a plain read would answer from an older snapshot)."""
    if kind == "user":
        dest = tenant.make_user(roles=["agent"])[0]["id"]
        table, path = "users", f"/api/v1/users/{dest}"
    else:
        dest = make_destination(cc, tenant, kind)
        table = {"queue": "call_queues", "endpoint": "endpoints"}[kind]
        path = f"/api/v1/{kind}s/{dest}"
    # What a DID write does: share-lock the destination, insert, count, commit.
    problems, r = race(
        cc, [(f"SELECT id FROM {table} WHERE id = %s LOCK IN SHARE MODE", (dest,))],
        lambda: cc.delete(path, token=tenant.admin_token),
        [("INSERT INTO dids (tenant_id, number, destination_type, destination_id)"
          " VALUES (%s, %s, %s, %s)", (tenant.id, new_number(), kind, dest)),
         ("UPDATE tenants SET dids_count = dids_count + 1 WHERE id = %s", (tenant.id,))])
    assert problems == []
    assert_error(r, 409, "conflict")
