"""API.md "Telephony", endpoints: /api/v1/endpoints (mod_callcenter/cc_endpoints.c).

Create (side row + ps_endpoints/ps_auths/ps_aors in one transaction, rolled back whole on
a stray realtime row), get, list (paging, sort, q/user_id filters), patch (user, codecs,
max_contacts, webrtc; queue member names follow the user), delete (members, contacts and
realtime rows go; refused while a DID routes to it), registration (live ps_contacts);
every validation; the SIP password (generated: returned once and nowhere else; given:
stored, never echoed); tenant isolation and platform-unique SIP ids; RBAC; one audit
entry and one event per mutation; the answers against the OpenAPI document.
"""

import calendar
import json
import re
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from cchelpers import (assert_error, assert_unauthorized, db_exec,
                       db_rows, detail_fields, endpoint_move_writer, entity_events,
                       innodb_deadlocks, openapi_checker, race)
from ccobjects import (Resource, field_cases, make_did_to, new_ext, routed_by_a_did,
                       token_with_permissions, with_defaults)

EPS = "/api/v1/endpoints"
EP_KEYS = {"id", "extension", "sip_username", "user_id", "context", "allow", "max_contacts",
           "webrtc", "created_at", "updated_at"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
WEBRTC_COLS = ("use_avpf", "media_encryption", "dtls_auto_generate_cert", "dtls_verify",
               "dtls_setup", "ice_support", "rtcp_mux", "media_use_received_transport")
WEBRTC_ON = {"webrtc": "yes", "use_avpf": "yes", "media_encryption": "dtls",
             "dtls_auto_generate_cert": "yes", "dtls_verify": "fingerprint",
             "dtls_setup": "actpass", "ice_support": "yes", "rtcp_mux": "yes",
             "media_use_received_transport": "yes"}
WEBRTC_OFF = {"webrtc": "no", **{c: None for c in WEBRTC_COLS}}
GOOD_PASSWORD = "Sip-Secret-1234x"


# ---- helpers ---------------------------------------------------------------------

def registration(cc, tenant, ep_id, token=None):
    return cc.get(f"{EPS}/{ep_id}/registration", token=token or tenant.admin_token)


def public(ep):
    """The object as GET shows it (the create response may add sip_password)."""
    return {k: v for k, v in ep.items() if k != "sip_password"}


def assert_ep_shape(e):
    assert set(e) == EP_KEYS, e
    assert isinstance(e["id"], int) and not isinstance(e["id"], bool) and e["id"] > 0
    assert re.fullmatch(r"[0-9]{2,8}", e["extension"])
    assert e["sip_username"].endswith("-" + e["extension"]) and len(e["sip_username"]) <= 40
    assert e["user_id"] is None or (isinstance(e["user_id"], int) and e["user_id"] > 0)
    assert e["context"].startswith("tenant-")
    assert isinstance(e["allow"], str) and e["allow"]
    assert isinstance(e["max_contacts"], int) and 1 <= e["max_contacts"] <= 10
    assert isinstance(e["webrtc"], bool)
    assert RFC3339.match(e["created_at"]) and RFC3339.match(e["updated_at"])


EP = Resource(EPS, body=with_defaults(extension=new_ext), shape=assert_ep_shape,
              entity="endpoint", table="endpoints")
create, create_ok, get_ep = EP.create, EP.create_ok, EP.get
patch, patch_ok, delete = EP.patch, EP.patch_ok, EP.delete
listing, list_ids = EP.listing, EP.list_ids
audit_rows, event_rows, side_rows = EP.audit_rows, EP.event_rows, EP.rows


def rt_rows(cc, sip_id):
    """The realtime rows of one SIP id: {table: [rows]}."""
    out = {}
    for table in ("ps_endpoints", "ps_auths", "ps_aors"):
        out[table] = db_rows(cc, f"SELECT * FROM {table} WHERE id = %s", (sip_id,))
    out["ps_contacts"] = db_rows(cc, "SELECT * FROM ps_contacts WHERE endpoint = %s"
                                     " OR id LIKE %s", (sip_id, sip_id + ";@%"))
    return out


def one_rt(cc, table, sip_id):
    (row,) = db_rows(cc, f"SELECT * FROM {table} WHERE id = %s", (sip_id,))
    return row


def add_contact(cc, sip_id, expires_in, suffix=None, uri=None, with_endpoint=True):
    """A ps_contacts row as Asterisk writes it on REGISTER."""
    cid = f"{sip_id};@{suffix or secrets.token_hex(8)}"
    db_exec(cc, "INSERT INTO ps_contacts (id, uri, expiration_time, user_agent, via_addr,"
                " via_port, endpoint, qualify_frequency) VALUES (%s, %s, %s, %s, %s, 5060, %s, 60)",
            (cid, uri or f"sip:{sip_id}@192.0.2.10:5060", int(time.time()) + expires_in,
             "Yealink SIP-T46U 66.86.0.15", "192.0.2.10", sip_id if with_endpoint else None))
    return cid


def add_queue_member(cc, tenant, ep):
    """A queue of the tenant with ep as a member, through both tables (as cc_queues.c
    writes them); returns (queue id, queue asterisk name)."""
    qname = f"{tenant.slug}-q{secrets.token_hex(3)}"
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO call_queues (tenant_id, name, asterisk_name) VALUES (%s, %s, %s)",
                    (tenant.id, qname, qname))
        qid = cur.lastrowid
        cur.execute("INSERT INTO queues (name, strategy) VALUES (%s, 'ringall')", (qname,))
        cur.execute("INSERT INTO call_queue_members (tenant_id, queue_id, endpoint_id)"
                    " VALUES (%s, %s, %s)", (tenant.id, qid, ep["id"]))
        iface = "PJSIP/" + ep["sip_username"]
        cur.execute("INSERT INTO queue_members (queue_name, interface, membername,"
                    " state_interface, penalty, paused) VALUES (%s, %s, %s, %s, 0, 0)",
                    (qname, iface, ep["extension"], iface))
    return qid, qname


def members_of(cc, sip_id):
    return db_rows(cc, "SELECT * FROM queue_members WHERE interface = %s", ("PJSIP/" + sip_id,))


# ---- create and get ----------------------------------------------------------------

def test_create_minimal_gets_the_defaults(cc, tenant):
    ext = new_ext()
    e = EP.post_created(cc, tenant, {"extension": ext})
    assert set(e) == EP_KEYS | {"sip_password"}
    assert_ep_shape(public(e))
    assert (e["extension"], e["sip_username"], e["user_id"], e["context"], e["allow"],
            e["max_contacts"], e["webrtc"]) == (ext, f"{tenant.slug}-{ext}", None,
                                                f"tenant-{tenant.slug}", "ulaw,alaw", 1, False)
    assert re.fullmatch(r"[A-Za-z0-9]{32}", e["sip_password"])
    assert e["created_at"] == e["updated_at"]
    g = get_ep(cc, tenant, e["id"])
    assert g.status_code == 200 and g.json() == public(e)
    assert "sip_password" not in g.text and e["sip_password"] not in g.text


def test_create_writes_the_realtime_rows(cc, tenant):
    user, _ = tenant.make_user(roles=["agent"], name="Ada Lovelace")
    e = create_ok(cc, tenant, user_id=user["id"], allow="G722, ULAW", max_contacts=3)
    sip = e["sip_username"]
    (side,) = side_rows(cc, tenant)
    assert (side["id"], side["extension"], side["asterisk_id"], side["user_id"],
            side["webrtc"]) == (e["id"], e["extension"], sip, user["id"], 0)
    pe = one_rt(cc, "ps_endpoints", sip)
    expected = {"transport": None, "aors": sip, "auth": sip, "context": f"tenant-{tenant.slug}",
                "disallow": "all", "allow": "g722,ulaw", "direct_media": "no",
                "rewrite_contact": "yes", "rtp_symmetric": "yes", "force_rport": "yes",
                "dtmf_mode": "rfc4733", "callerid": f'"Ada Lovelace" <{e["extension"]}>',
                "accountcode": tenant.id, "tenantid": tenant.id, "mailboxes": None,
                **WEBRTC_OFF}
    assert {k: pe[k] for k in expected} == expected
    auth = one_rt(cc, "ps_auths", sip)
    assert (auth["auth_type"], auth["username"], auth["password"]) == (
        "userpass", sip, e["sip_password"])
    aor = one_rt(cc, "ps_aors", sip)
    assert (aor["max_contacts"], aor["remove_existing"], aor["qualify_frequency"],
            aor["mailboxes"]) == (3, "yes", 60, None)
    assert (e["allow"], e["max_contacts"], e["user_id"]) == ("g722,ulaw", 3, user["id"])


def test_create_webrtc_endpoint(cc, tenant):
    e = create_ok(cc, tenant, webrtc=True, max_contacts=10)
    assert (e["webrtc"], e["allow"], e["max_contacts"]) == (True, "opus,ulaw,alaw", 10)
    pe = one_rt(cc, "ps_endpoints", e["sip_username"])
    assert {k: pe[k] for k in WEBRTC_ON} == WEBRTC_ON
    assert pe["allow"] == "opus,ulaw,alaw"
    (side,) = side_rows(cc, tenant)
    assert side["webrtc"] == 1
    # An explicit codec list wins over the WebRTC default.
    e2 = create_ok(cc, tenant, webrtc=True, allow="opus")
    assert e2["allow"] == "opus"
    # webrtc false is the plain default.
    e3 = create_ok(cc, tenant, webrtc=False)
    assert (e3["webrtc"], e3["allow"]) == (False, "ulaw,alaw")
    pe3 = one_rt(cc, "ps_endpoints", e3["sip_username"])
    assert {k: pe3[k] for k in WEBRTC_OFF} == WEBRTC_OFF


def test_create_with_voicemail_box_sets_mailboxes(cc, tenant):
    ext = new_ext()
    context = f"tenant-{tenant.slug}"
    db_exec(cc, "INSERT INTO voicemail (context, mailbox, password) VALUES (%s, %s, '1234')",
            (context, ext))
    e = create_ok(cc, tenant, extension=ext)
    mailbox = f"{ext}@{context}"
    assert one_rt(cc, "ps_endpoints", e["sip_username"])["mailboxes"] == mailbox
    assert one_rt(cc, "ps_aors", e["sip_username"])["mailboxes"] == mailbox
    # Another tenant's box with the same number is not ours.
    other = create_ok(cc, tenant)
    assert one_rt(cc, "ps_endpoints", other["sip_username"])["mailboxes"] is None


def test_given_password_is_stored_and_never_echoed(cc, tenant):
    pw = "Given!Pass#word-" + secrets.token_hex(4)
    r = create(cc, tenant, password=pw)
    assert r.status_code == 201, r.text
    e = r.json()
    assert "sip_password" not in e and pw not in r.text
    assert one_rt(cc, "ps_auths", e["sip_username"])["password"] == pw
    assert pw not in get_ep(cc, tenant, e["id"]).text
    assert pw not in json.dumps([a["changes"] for a in audit_rows(cc, tenant)])
    assert pw not in json.dumps([ev["data"] for ev in event_rows(cc, tenant)])
    assert pw not in cc.error_log_text()


def test_generated_password_is_returned_once_and_nowhere_else(cc, tenant):
    e = create_ok(cc, tenant)
    pw = e["sip_password"]
    assert one_rt(cc, "ps_auths", e["sip_username"])["password"] == pw
    for r in (get_ep(cc, tenant, e["id"]), cc.get(EPS, token=tenant.admin_token),
              patch(cc, tenant, e["id"], {"max_contacts": 2}),
              registration(cc, tenant, e["id"])):
        assert r.status_code == 200 and pw not in r.text and "sip_password" not in r.text
    rows = db_rows(cc, "SELECT changes FROM audit_logs WHERE tenant_id = %s", (tenant.id,))
    assert rows and all(pw not in (row["changes"] or "") for row in rows)
    rows = db_rows(cc, "SELECT data FROM events WHERE tenant_id = %s", (tenant.id,))
    assert rows and all(pw not in (row["data"] or "") for row in rows)
    assert pw not in cc.error_log_text()
    # Two creates never share a password.
    assert create_ok(cc, tenant)["sip_password"] != pw


def test_platform_admin_creates_inside_a_tenant_with_x_tenant_id(cc, tenant):
    r = cc.post(EPS, token=cc.admin_token(), headers={"X-Tenant-ID": tenant.id},
                json={"extension": "42"})
    assert r.status_code == 201, r.text
    e = r.json()
    assert (e["sip_username"], e["context"]) == (f"{tenant.slug}-42", f"tenant-{tenant.slug}")
    assert [row["id"] for row in side_rows(cc, tenant)] == [e["id"]]
    assert one_rt(cc, "ps_endpoints", e["sip_username"])["tenantid"] == tenant.id


def test_long_tenant_slug_gets_a_short_derived_key(cc):
    slug = "long-" + secrets.token_hex(15)           # 35 characters: over CC_AST_KEY_MAX
    r = cc.post("/api/v1/tenants", token=cc.admin_token(), json={"name": "Long", "slug": slug})
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    r = cc.post(EPS, token=cc.admin_token(), headers={"X-Tenant-ID": tid},
                json={"extension": "12345678"})
    assert r.status_code == 201, r.text
    e = r.json()
    key = e["sip_username"][:-len("-12345678")]
    assert re.fullmatch(slug[:11] + r"_[0-9a-f]{12}", key), e
    assert e["context"] == f"tenant-{key}" and len(e["sip_username"]) <= 40
    assert one_rt(cc, "ps_auths", e["sip_username"])["username"] == e["sip_username"]


def test_get_unknown_or_malformed_id_is_404(cc, tenant):
    for bad in ("999999999", "0", "-1", "abc", "1.5", "9" * 30):
        assert_error(cc.get(f"{EPS}/{bad}", token=tenant.admin_token), 404, "not_found")
        assert_error(cc.get(f"{EPS}/{bad}/registration", token=tenant.admin_token), 404,
                     "not_found")
        assert_error(cc.patch(f"{EPS}/{bad}", token=tenant.admin_token, json={}), 404,
                     "not_found")
        assert_error(cc.delete(f"{EPS}/{bad}", token=tenant.admin_token), 404, "not_found")


# ---- validation ----------------------------------------------------------------------

@pytest.mark.parametrize("body, field", field_cases(
    extension=[None,                                         # missing: required
               1001, "1", "123456789", "10a1", "+1001", " 1001",
               "１２３",                                      # full-width digits
               "", "9" * 10000],
    user_id=[0, -3, "5", 1.5, True, 2**53 + 1,
             999999999],                                     # no such user
    password=["short", "x" * 81, "has space in it!", "semi;colon;secret",
              "caret^41decodes",                             # Asterisk decodes ^XX
              'quote"quote"quote', "back\\slash\\secret", "pässwörd-pässwörd", None,
              123456789012],
    allow=["", "ulaw,ulaw", "mp3", "ulaw,,alaw", "ulaw;alaw", "all",
           ",".join(["ulaw", "alaw", "g722", "g729", "gsm", "opus", "ilbc", "speex",
                     "g726", "slin", "h264"]),                # 11 codecs
           "ulaw," * 5000, ["ulaw"], None],
    max_contacts=[0, 11, -1, 2**62, "2", 2.0, None],
    webrtc=["yes", 1, None],
    tenant_id=["x"], id=[5], sip_username=["evil-1001"], context=["from-internal"],
    sip_password=["Sip-Secret-1234x"], extra=[1],
))
def test_create_rejects_bad_fields(cc, tenant, body, field):
    full = {"extension": new_ext(), **body}
    if "extension" in body and body["extension"] is None:
        del full["extension"]
    r = cc.post(EPS, token=tenant.admin_token, json=full)
    err = assert_error(r, 400, "invalid_request", field)
    if "password" in body and isinstance(body["password"], str):
        assert body["password"] not in json.dumps(err)
    assert side_rows(cc, tenant) == [] and audit_rows(cc, tenant) == []
    assert db_rows(cc, "SELECT id FROM ps_endpoints WHERE tenantid = %s", (tenant.id,)) == []


def test_every_problem_is_reported_at_once(cc, tenant):
    r = cc.post(EPS, token=tenant.admin_token,
                json={"extension": "1", "user_id": 0, "password": "x", "allow": "mp3",
                      "max_contacts": 99})
    body = assert_error(r, 400, "invalid_request")
    assert set(detail_fields(body)) == {"extension", "user_id", "password", "allow",
                                        "max_contacts"}, body
    # Shape problems (types, unknown fields) are reported together, before values.
    r = cc.post(EPS, token=tenant.admin_token,
                json={"extension": 1, "webrtc": "no", "max_contacts": "2", "bogus": True})
    body = assert_error(r, 400, "invalid_request")
    assert set(detail_fields(body)) == {"extension", "webrtc", "max_contacts", "bogus"}, body


def test_codecs_are_canonicalised(cc, tenant):
    e = create_ok(cc, tenant, allow=" OPUS , G722,ulaw ")
    assert e["allow"] == "opus,g722,ulaw"
    assert one_rt(cc, "ps_endpoints", e["sip_username"])["allow"] == "opus,g722,ulaw"


def test_extension_edge_values(cc, tenant):
    for ext in ("00", "0001", "99999999"):
        e = create_ok(cc, tenant, extension=ext)
        assert e["extension"] == ext and e["sip_username"] == f"{tenant.slug}-{ext}"


def test_user_reference_must_be_a_live_user_of_the_tenant(cc, tenant, tenant2):
    foreign, _ = tenant2.make_user(roles=["agent"])
    for uid in (foreign["id"], tenant2.admin_user_id):
        body = assert_error(create(cc, tenant, user_id=uid), 400, "invalid_request", "user_id")
        assert "no such user" in body["details"][0]["issue"]
    gone, _ = tenant.make_user(roles=["agent"])
    assert cc.delete(f"/api/v1/users/{gone['id']}", token=tenant.admin_token).status_code == 204
    assert_error(create(cc, tenant, user_id=gone["id"]), 400, "invalid_request", "user_id")
    assert side_rows(cc, tenant) == [] and audit_rows(cc, tenant) == []
    # A disabled (not deleted) user is fine; null means no user.
    disabled, _ = tenant.make_user(roles=["agent"], status="disabled")
    assert create_ok(cc, tenant, user_id=disabled["id"])["user_id"] == disabled["id"]
    assert create_ok(cc, tenant, user_id=None)["user_id"] is None


def test_non_json_body_is_415(cc, tenant):
    e = create_ok(cc, tenant)
    for method, path in (("POST", EPS), ("PATCH", f"{EPS}/{e['id']}")):
        r = cc.request(method, path, token=tenant.admin_token, data=b"extension=1001",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert_error(r, 415, "unsupported_media_type")
    assert len(side_rows(cc, tenant)) == 1


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'"x"', b'{"extension": "1001",}',
                                 b'{"extension": "1001", "extension": "1002"}',
                                 b'{"extension": "10\\u000001"}',
                                 b'{"max_contacts": 1' + b"0" * 400 + b"}"])
def test_malformed_json_is_400(cc, tenant, raw):
    r = cc.request("POST", EPS, token=tenant.admin_token, data=raw,
                   headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid_request")
    assert side_rows(cc, tenant) == []


def test_huge_body_is_413(cc, tenant):
    r = cc.post(EPS, token=tenant.admin_token,
                json={"extension": "1001", "allow": "x" * (2 * 1024 * 1024)})
    assert_error(r, 413, "payload_too_large")


def test_wrong_method_is_405_with_allow(cc, tenant):
    e = create_ok(cc, tenant)
    EP.assert_wrong_methods_are_405(cc, tenant, e["id"],
                                    [("POST", f"{EPS}/{e['id']}/registration", "GET", {})])


# ---- uniqueness and atomicity --------------------------------------------------------

def test_duplicate_extension_in_the_tenant_is_409(cc, tenant):
    e = create_ok(cc, tenant)
    r = create(cc, tenant, extension=e["extension"], webrtc=True)
    assert_error(r, 409, "conflict", "extension")
    assert len(side_rows(cc, tenant)) == 1 and len(audit_rows(cc, tenant)) == 1
    assert len(event_rows(cc, tenant)) == 1
    # The first one's rows are untouched.
    assert one_rt(cc, "ps_endpoints", e["sip_username"])["webrtc"] == "no"
    assert one_rt(cc, "ps_auths", e["sip_username"])["password"] == e["sip_password"]


def test_concurrent_creates_of_one_extension_make_one_endpoint(cc, tenant):
    ext = new_ext()

    def one(_):
        return create(cc, tenant, extension=ext).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(one, range(8)))
    assert sorted(codes) == [201] + [409] * 7, codes
    assert len(side_rows(cc, tenant)) == 1
    rows = rt_rows(cc, f"{tenant.slug}-{ext}")
    assert [len(rows[k]) for k in ("ps_endpoints", "ps_auths", "ps_aors")] == [1, 1, 1]
    assert len(audit_rows(cc, tenant)) == 1 and len(event_rows(cc, tenant)) == 1


def test_two_tenants_both_have_extension_1001(cc, tenant, tenant2):
    a = create_ok(cc, tenant, extension="1001")
    b = create_ok(cc, tenant2, extension="1001")
    assert a["id"] != b["id"] and a["sip_username"] != b["sip_username"]
    assert a["context"] != b["context"] and a["sip_password"] != b["sip_password"]
    for e, t in ((a, tenant), (b, tenant2)):
        rows = rt_rows(cc, e["sip_username"])
        assert [len(rows[k]) for k in ("ps_endpoints", "ps_auths", "ps_aors")] == [1, 1, 1]
        assert rows["ps_endpoints"][0]["tenantid"] == t.id
        assert rows["ps_endpoints"][0]["context"] == f"tenant-{t.slug}"
        assert get_ep(cc, t, e["id"]).json() == public(e)


def test_stray_realtime_row_rolls_the_whole_create_back(cc, tenant):
    ext = new_ext()
    sip = f"{tenant.slug}-{ext}"
    db_exec(cc, "INSERT INTO ps_aors (id, max_contacts) VALUES (%s, 7)", (sip,))
    try:
        r = create(cc, tenant, extension=ext)
        assert_error(r, 409, "conflict", "extension")
        assert side_rows(cc, tenant) == []
        assert db_rows(cc, "SELECT id FROM ps_endpoints WHERE id = %s", (sip,)) == []
        assert db_rows(cc, "SELECT id FROM ps_auths WHERE id = %s", (sip,)) == []
        # Only the stray row, unchanged.
        assert [row["max_contacts"] for row in
                db_rows(cc, "SELECT * FROM ps_aors WHERE id = %s", (sip,))] == [7]
        assert audit_rows(cc, tenant) == [] and event_rows(cc, tenant) == []
        # A stray ps_auths row, likewise.
        db_exec(cc, "DELETE FROM ps_aors WHERE id = %s", (sip,))
        db_exec(cc, "INSERT INTO ps_auths (id, username, password) VALUES (%s, %s, 'x')",
                (sip, sip))
        assert_error(create(cc, tenant, extension=ext), 409, "conflict", "extension")
        assert side_rows(cc, tenant) == []
        assert db_rows(cc, "SELECT id FROM ps_endpoints WHERE id = %s", (sip,)) == []
        assert db_rows(cc, "SELECT id FROM ps_aors WHERE id = %s", (sip,)) == []
        db_exec(cc, "DELETE FROM ps_auths WHERE id = %s", (sip,))
        # Once cleaned up, the extension works.
        e = create_ok(cc, tenant, extension=ext)
        assert e["sip_username"] == sip
    finally:
        db_exec(cc, "DELETE FROM ps_aors WHERE id = %s AND max_contacts = 7", (sip,))


# ---- update --------------------------------------------------------------------------

def test_patch_changes_each_field(cc, tenant):
    user, _ = tenant.make_user(roles=["agent"], name="Grace Hopper")
    e = create_ok(cc, tenant)
    sip = e["sip_username"]
    p = patch_ok(cc, tenant, e["id"], {"allow": "G729,ulaw"})
    assert p["allow"] == "g729,ulaw" and one_rt(cc, "ps_endpoints", sip)["allow"] == "g729,ulaw"
    p = patch_ok(cc, tenant, e["id"], {"max_contacts": 5})
    assert p["max_contacts"] == 5 and one_rt(cc, "ps_aors", sip)["max_contacts"] == 5
    p = patch_ok(cc, tenant, e["id"], {"user_id": user["id"]})
    assert p["user_id"] == user["id"]
    assert one_rt(cc, "ps_endpoints", sip)["callerid"] == f'"Grace Hopper" <{e["extension"]}>'
    (side,) = side_rows(cc, tenant)
    assert side["user_id"] == user["id"]
    p = patch_ok(cc, tenant, e["id"], {"user_id": None})
    assert p["user_id"] is None
    assert one_rt(cc, "ps_endpoints", sip)["callerid"] == f'<{e["extension"]}>'
    assert (p["id"], p["extension"], p["sip_username"], p["created_at"]) == (
        e["id"], e["extension"], sip, e["created_at"])
    assert get_ep(cc, tenant, e["id"]).json() == p
    # The password is untouched by every patch.
    assert one_rt(cc, "ps_auths", sip)["password"] == e["sip_password"]


def test_patch_webrtc_flips_the_columns_but_keeps_the_codecs(cc, tenant):
    e = create_ok(cc, tenant, allow="g722")
    sip = e["sip_username"]
    p = patch_ok(cc, tenant, e["id"], {"webrtc": True})
    assert (p["webrtc"], p["allow"]) == (True, "g722")
    pe = one_rt(cc, "ps_endpoints", sip)
    assert {k: pe[k] for k in WEBRTC_ON} == WEBRTC_ON and pe["allow"] == "g722"
    p = patch_ok(cc, tenant, e["id"], {"webrtc": False, "allow": "opus,g722"})
    assert (p["webrtc"], p["allow"]) == (False, "opus,g722")
    pe = one_rt(cc, "ps_endpoints", sip)
    assert {k: pe[k] for k in WEBRTC_OFF} == WEBRTC_OFF
    assert side_rows(cc, tenant)[0]["webrtc"] == 0


def test_patch_user_renames_the_queue_members(cc, tenant):
    long_name = "Ж" * 120
    u1, _ = tenant.make_user(roles=["agent"], name=long_name)
    u2, _ = tenant.make_user(roles=["agent"], name="Short Name")
    e = create_ok(cc, tenant)
    add_queue_member(cc, tenant, e)
    add_queue_member(cc, tenant, e)
    patch_ok(cc, tenant, e["id"], {"user_id": u1["id"]})
    # Cut to app_queue's 79-byte buffer on a character boundary (39 two-byte letters).
    assert [m["membername"] for m in members_of(cc, e["sip_username"])] == ["Ж" * 39] * 2
    callerid = one_rt(cc, "ps_endpoints", e["sip_username"])["callerid"]
    assert len(callerid) <= 40 and callerid.endswith(f'" <{e["extension"]}>')
    patch_ok(cc, tenant, e["id"], {"user_id": u2["id"]})
    assert [m["membername"] for m in members_of(cc, e["sip_username"])] == ["Short Name"] * 2
    patch_ok(cc, tenant, e["id"], {"user_id": None})
    assert [m["membername"] for m in members_of(cc, e["sip_username"])] == [e["extension"]] * 2
    # A change that leaves the user alone leaves the member names alone.
    db_exec(cc, "UPDATE queue_members SET membername = 'manual' WHERE interface = %s",
            ("PJSIP/" + e["sip_username"],))
    patch_ok(cc, tenant, e["id"], {"max_contacts": 4})
    assert [m["membername"] for m in members_of(cc, e["sip_username"])] == ["manual"] * 2


def test_patch_that_changes_nothing_writes_nothing(cc, tenant):
    user, _ = tenant.make_user(roles=["agent"])
    e = create_ok(cc, tenant, user_id=user["id"], allow="ulaw,alaw", max_contacts=2)
    before = (audit_rows(cc, tenant), event_rows(cc, tenant), side_rows(cc, tenant))
    time.sleep(1.1)                                   # updated_at would move
    for body in ({}, {"allow": "ULAW, alaw"}, {"max_contacts": 2}, {"webrtc": False},
                 {"user_id": user["id"]},
                 {"user_id": user["id"], "allow": "ulaw,alaw", "max_contacts": 2}):
        assert patch_ok(cc, tenant, e["id"], body) == public(e)
    assert (audit_rows(cc, tenant), event_rows(cc, tenant), side_rows(cc, tenant)) == before


@pytest.mark.parametrize("body, field", [
    ({"extension": "2002"}, "extension"),
    ({"password": GOOD_PASSWORD}, "password"),
    ({"sip_username": "x"}, "sip_username"),
    ({"context": "x"}, "context"),
    ({"user_id": 0}, "user_id"),
    ({"user_id": "1"}, "user_id"),
    ({"user_id": 999999999}, "user_id"),
    ({"allow": "mp3"}, "allow"),
    ({"allow": None}, "allow"),
    ({"max_contacts": 11}, "max_contacts"),
    ({"max_contacts": None}, "max_contacts"),
    ({"webrtc": None}, "webrtc"),
    ({"webrtc": "true"}, "webrtc"),
    ({"bogus": 1}, "bogus"),
])
def test_patch_rejects_bad_fields(cc, tenant, body, field):
    e = create_ok(cc, tenant)
    EP.assert_patch_rejected(cc, tenant, e["id"], body, field, public(e))
    assert one_rt(cc, "ps_auths", e["sip_username"])["password"] == e["sip_password"]


def test_patch_user_of_another_tenant_or_deleted_is_400_and_rolls_back(cc, tenant, tenant2):
    foreign, _ = tenant2.make_user(roles=["agent"])
    gone, _ = tenant.make_user(roles=["agent"])
    assert cc.delete(f"/api/v1/users/{gone['id']}", token=tenant.admin_token).status_code == 204
    e = create_ok(cc, tenant, max_contacts=1)
    for uid in (foreign["id"], gone["id"]):
        r = patch(cc, tenant, e["id"], {"user_id": uid, "max_contacts": 9, "webrtc": True})
        assert_error(r, 400, "invalid_request", "user_id")
    # Nothing of the failed patches stuck (they were rolled back whole).
    assert get_ep(cc, tenant, e["id"]).json() == public(e)
    assert one_rt(cc, "ps_aors", e["sip_username"])["max_contacts"] == 1
    assert one_rt(cc, "ps_endpoints", e["sip_username"])["webrtc"] == "no"
    assert len(audit_rows(cc, tenant)) == 1


# ---- delete --------------------------------------------------------------------------

def test_delete_removes_every_row(cc, tenant):
    e = create_ok(cc, tenant)
    keep = create_ok(cc, tenant)
    sip = e["sip_username"]
    add_contact(cc, sip, 3600)
    add_contact(cc, sip, -3600)
    add_contact(cc, sip, 3600, with_endpoint=False)   # matched by its id only
    add_contact(cc, keep["sip_username"], 3600)
    qid, qname = add_queue_member(cc, tenant, e)
    add_queue_member(cc, tenant, keep)
    assert len(rt_rows(cc, sip)["ps_contacts"]) == 3
    r = delete(cc, tenant, e["id"])
    assert r.status_code == 204 and r.content == b""
    assert rt_rows(cc, sip) == {"ps_endpoints": [], "ps_auths": [], "ps_aors": [],
                                "ps_contacts": []}
    assert members_of(cc, sip) == []
    assert db_rows(cc, "SELECT id FROM call_queue_members WHERE tenant_id = %s AND"
                       " endpoint_id = %s", (tenant.id, e["id"])) == []
    # The queue itself and the other endpoint stay.
    assert db_rows(cc, "SELECT name FROM queues WHERE name = %s", (qname,)) != []
    assert [row["id"] for row in side_rows(cc, tenant)] == [keep["id"]]
    rows = rt_rows(cc, keep["sip_username"])
    assert [len(rows[k]) for k in rows] == [1, 1, 1, 1]
    assert len(members_of(cc, keep["sip_username"])) == 1
    assert_error(get_ep(cc, tenant, e["id"]), 404, "not_found")
    assert_error(delete(cc, tenant, e["id"]), 404, "not_found")
    # The extension is free again, with a new password.
    again = create_ok(cc, tenant, extension=e["extension"])
    assert again["sip_username"] == sip and again["id"] != e["id"]


def test_delete_leaves_lookalike_contacts_alone(cc):
    # A long slug's key has a '_' (a LIKE wildcard): contacts of ids that differ from
    # ours only there, or that merely start like ours, are not ours.
    slug = "wild-" + secrets.token_hex(15)
    r = cc.post("/api/v1/tenants", token=cc.admin_token(), json={"name": "Wild", "slug": slug})
    assert r.status_code == 201, r.text
    hdrs = {"X-Tenant-ID": r.json()["id"]}
    made = []
    for ext in ("10", "100"):
        r = cc.post(EPS, token=cc.admin_token(), headers=hdrs, json={"extension": ext})
        assert r.status_code == 201, r.text
        made.append(r.json())
    e, other = made
    assert "_" in e["sip_username"]
    mine = add_contact(cc, e["sip_username"], 3600, with_endpoint=False)
    theirs = add_contact(cc, other["sip_username"], 3600, with_endpoint=False)
    lookalike = e["sip_username"].replace("_", "X") + ";@abc"
    db_exec(cc, "INSERT INTO ps_contacts (id, uri, expiration_time) VALUES (%s, 'sip:x', %s)",
            (lookalike, int(time.time()) + 3600))
    try:
        r = cc.get(f"{EPS}/{e['id']}/registration", token=cc.admin_token(), headers=hdrs)
        assert len(r.json()["contacts"]) == 1
        assert cc.delete(f"{EPS}/{e['id']}", token=cc.admin_token(),
                         headers=hdrs).status_code == 204
        left = db_rows(cc, "SELECT id FROM ps_contacts WHERE id IN (%s, %s, %s)",
                       (mine, theirs, lookalike))
        assert sorted(row["id"] for row in left) == sorted([theirs, lookalike])
    finally:
        db_exec(cc, "DELETE FROM ps_contacts WHERE id = %s", (lookalike,))


def test_delete_is_refused_while_a_did_routes_to_it(cc, tenant):
    e = create_ok(cc, tenant)
    with routed_by_a_did(cc, tenant, "endpoint", e["id"]):
        assert_error(delete(cc, tenant, e["id"]), 409, "conflict")
        assert get_ep(cc, tenant, e["id"]).json() == public(e)
        rows = rt_rows(cc, e["sip_username"])
        assert [len(rows[k]) for k in ("ps_endpoints", "ps_auths", "ps_aors")] == [1, 1, 1]
        assert [a["action"] for a in audit_rows(cc, tenant)] == ["endpoint.create"]
    assert delete(cc, tenant, e["id"]).status_code == 204


def test_a_did_of_another_tenant_does_not_block_nor_route(cc, tenant, tenant2):
    e = create_ok(cc, tenant)
    r = cc.post("/api/v1/dids", token=tenant2.admin_token,
                json={"number": f"+1{secrets.randbelow(10**12):012d}",
                      "destination_type": "endpoint", "destination_id": e["id"]})
    assert_error(r, 400, "invalid_request", "destination_id")
    assert delete(cc, tenant, e["id"]).status_code == 204


# ---- registration ------------------------------------------------------------------

def test_registration_lists_live_contacts_only(cc, tenant):
    e = create_ok(cc, tenant)
    sip = e["sip_username"]
    r = registration(cc, tenant, e["id"])
    assert r.status_code == 200 and r.json() == {"registered": False, "contacts": []}
    add_contact(cc, sip, -5, uri="sip:expired@192.0.2.1")
    assert registration(cc, tenant, e["id"]).json() == {"registered": False, "contacts": []}
    now = int(time.time())
    add_contact(cc, sip, 600, uri="sip:desk@192.0.2.10:5060")
    add_contact(cc, sip, 3600, uri="sip:softphone@192.0.2.11:5062", with_endpoint=False)
    body = registration(cc, tenant, e["id"]).json()
    assert body["registered"] is True
    assert [c["uri"] for c in body["contacts"]] == ["sip:softphone@192.0.2.11:5062",
                                                     "sip:desk@192.0.2.10:5060"]
    for c in body["contacts"]:
        assert set(c) == {"uri", "user_agent", "expiration_time", "via_addr"}
        assert c["user_agent"] == "Yealink SIP-T46U 66.86.0.15"
        assert c["via_addr"] == "192.0.2.10"
        assert RFC3339.match(c["expiration_time"])
    t = time.strptime(body["contacts"][1]["expiration_time"], "%Y-%m-%dT%H:%M:%SZ")
    assert abs(calendar.timegm(t) - (now + 600)) <= 5
    # Another endpoint's contacts are not this one's.
    other = create_ok(cc, tenant)
    assert registration(cc, tenant, other["id"]).json()["registered"] is False


def test_registration_with_null_columns(cc, tenant):
    e = create_ok(cc, tenant)
    db_exec(cc, "INSERT INTO ps_contacts (id, uri, expiration_time, endpoint) VALUES"
                " (%s, 'sip:bare@192.0.2.5', %s, %s)",
            (e["sip_username"] + ";@bare", int(time.time()) + 60, e["sip_username"]))
    body = registration(cc, tenant, e["id"]).json()
    assert body == {"registered": True, "contacts": [
        {"uri": "sip:bare@192.0.2.5", "user_agent": None,
         "expiration_time": body["contacts"][0]["expiration_time"], "via_addr": None}]}


# ---- list --------------------------------------------------------------------------

def test_list_envelope_total_paging_and_default_sort(cc, tenant):
    made = [create_ok(cc, tenant, extension=x) for x in ("300", "1001", "20", "1000", "99")]
    by_ext = [e["id"] for e in sorted(made, key=lambda e: e["extension"])]
    EP.assert_paging(cc, tenant, by_ext)                        # text order of extensions
    past = listing(cc, tenant.admin_token, "?page=9&page_size=2&q=0")
    assert past["data"] == [] and past["total"] == 4


def test_list_sorts(cc, tenant):
    made = [create_ok(cc, tenant, extension=x) for x in ("7001", "2001", "9001", "5001")]
    by_ext, _ = EP.assert_sorts(cc, tenant, made, "extension")
    assert list_ids(cc, tenant.admin_token, "?sort=-extension&q=001") == by_ext[::-1]


def test_list_filters(cc, tenant):
    u1, _ = tenant.make_user(roles=["agent"])
    u2, _ = tenant.make_user(roles=["agent"])
    a = create_ok(cc, tenant, extension="4100", user_id=u1["id"])
    b = create_ok(cc, tenant, extension="4101", user_id=u1["id"])
    c = create_ok(cc, tenant, extension="5141")
    t = tenant.admin_token

    def ids(query):
        body = listing(cc, t, query)
        assert body["total"] == len(body["data"])
        return sorted(e["id"] for e in body["data"])

    assert ids(f"?user_id={u1['id']}") == sorted([a["id"], b["id"]])
    assert ids(f"?user_id={u2['id']}") == []
    assert ids("?user_id=999999999") == []
    assert ids("?q=41") == sorted([a["id"], b["id"], c["id"]])    # prefix and contains
    assert ids("?q=410") == sorted([a["id"], b["id"]])
    assert ids("?q=4101") == [b["id"]]
    assert ids("?q=514") == [c["id"]]
    assert ids(f"?q=41&user_id={u1['id']}") == sorted([a["id"], b["id"]])
    assert ids(f"?q=51&user_id={u1['id']}") == []
    assert ids("?q=") == sorted([a["id"], b["id"], c["id"]])
    assert ids("?q=%25") == [] and ids("?q=_") == [] and ids("?q=x") == []


# ---- isolation -----------------------------------------------------------------------

def test_other_tenants_endpoint_is_404_and_never_listed(cc, tenant, tenant2):
    user, _ = tenant.make_user(roles=["agent"])
    e = create_ok(cc, tenant, extension="3333", user_id=user["id"])
    add_contact(cc, e["sip_username"], 3600)
    mine = create_ok(cc, tenant2, extension="3334")
    t2 = tenant2.admin_token
    assert_error(cc.get(f"{EPS}/{e['id']}", token=t2), 404, "not_found")
    assert_error(cc.get(f"{EPS}/{e['id']}/registration", token=t2), 404, "not_found")
    assert_error(cc.patch(f"{EPS}/{e['id']}", token=t2, json={"max_contacts": 9}), 404,
                 "not_found")
    assert_error(cc.patch(f"{EPS}/{e['id']}", token=t2, json={}), 404, "not_found")
    assert_error(cc.delete(f"{EPS}/{e['id']}", token=t2), 404, "not_found")
    for query in ("", "?page_size=200", "?q=3333", "?q=33", f"?user_id={user['id']}",
                  "?sort=-created_at"):
        ids = [x["id"] for x in listing(cc, t2, query)["data"]]
        assert e["id"] not in ids, query
        assert set(ids) <= {mine["id"]}, query
    assert listing(cc, t2)["total"] == 1
    # Untouched, and nothing audited in either tenant for the attempts.
    assert get_ep(cc, tenant, e["id"]).json() == public(e)
    rows = rt_rows(cc, e["sip_username"])
    assert [len(rows[k]) for k in rows] == [1, 1, 1, 1]
    assert one_rt(cc, "ps_aors", e["sip_username"])["max_contacts"] == 1
    assert [a["action"] for a in audit_rows(cc, tenant)] == ["endpoint.create"]
    assert [a["action"] for a in audit_rows(cc, tenant2)] == ["endpoint.create"]


def test_x_tenant_id_is_ignored_for_tenant_admins(cc, tenant, tenant2):
    e = create_ok(cc, tenant)
    made = EP.create_ignoring_x_tenant_id(cc, tenant, tenant2, e["id"], {"extension": "77"})
    assert made["sip_username"] == f"{tenant2.slug}-77"
    assert [x["id"] for x in side_rows(cc, tenant)] == [e["id"]]


# ---- RBAC ----------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["agent", "viewer", "supervisor"])
def test_readers_read_but_cannot_write(cc, tenant, role):
    e = create_ok(cc, tenant)
    _, token = tenant.make_user(roles=[role])
    g = get_ep(cc, tenant, e["id"], token=token)
    assert g.status_code == 200 and g.json() == public(e)
    assert registration(cc, tenant, e["id"], token=token).status_code == 200
    EP.assert_reader_cannot_write(cc, tenant, token, e["id"], public(e),
                                  {"extension": new_ext()}, {"max_contacts": 2},
                                  {"extension": "x"})


def test_a_role_without_endpoints_read_cannot_read(cc, tenant):
    token = token_with_permissions(cc, tenant, "noeps", ["users.read"])
    e = create_ok(cc, tenant)
    assert_error(cc.get(EPS, token=token), 403, "forbidden")
    assert_error(cc.get(f"{EPS}/{e['id']}", token=token), 403, "forbidden")
    assert_error(cc.get(f"{EPS}/{e['id']}/registration", token=token), 403, "forbidden")


def test_a_custom_role_with_endpoints_write_can_manage(cc, tenant):
    token = token_with_permissions(cc, tenant, "epw", ["endpoints.read", "endpoints.write"])
    e = create_ok(cc, tenant, token=token)
    assert patch(cc, tenant, e["id"], {"webrtc": True}, token=token).status_code == 200
    assert delete(cc, tenant, e["id"], token=token).status_code == 204


def test_no_token_is_401(cc, tenant):
    e = create_ok(cc, tenant)
    for r in (cc.get(EPS), cc.post(EPS, json={"extension": "1001"}),
              cc.get(f"{EPS}/{e['id']}"), cc.get(f"{EPS}/{e['id']}/registration"),
              cc.patch(f"{EPS}/{e['id']}", json={}), cc.delete(f"{EPS}/{e['id']}")):
        assert_unauthorized(r)


# ---- audit and events ----------------------------------------------------------------

def test_each_mutation_writes_one_audit_entry_and_one_event(cc, tenant):
    user, _ = tenant.make_user(roles=["agent"])
    e = create_ok(cc, tenant, user_id=user["id"], webrtc=True)
    eid = str(e["id"])
    p = patch_ok(cc, tenant, e["id"], {"user_id": None, "allow": "opus", "max_contacts": 3,
                                       "webrtc": False})
    assert delete(cc, tenant, e["id"]).status_code == 204
    audits = audit_rows(cc, tenant)
    assert [(a["action"], a["entity_id"], a["actor_id"]) for a in audits] == [
        ("endpoint.create", eid, tenant.admin_user_id),
        ("endpoint.update", eid, tenant.admin_user_id),
        ("endpoint.delete", eid, tenant.admin_user_id)]
    values = {"extension": e["extension"], "sip_username": e["sip_username"],
              "user_id": user["id"], "context": e["context"], "allow": "opus,ulaw,alaw",
              "max_contacts": 1, "webrtc": True}
    assert audits[0]["changes"] == values
    assert audits[1]["changes"] == {
        "user_id": {"from": user["id"], "to": None},
        "allow": {"from": "opus,ulaw,alaw", "to": "opus"},
        "max_contacts": {"from": 1, "to": 3},
        "webrtc": {"from": True, "to": False}}
    assert audits[2]["changes"] == {**values, "user_id": None, "allow": "opus",
                                    "max_contacts": 3, "webrtc": False}
    events = event_rows(cc, tenant)
    assert [(v["type"], v["entity_id"]) for v in events] == [
        ("endpoint.created", eid), ("endpoint.updated", eid), ("endpoint.deleted", eid)]
    assert events[0]["data"] == public(e)
    assert events[1]["data"] == p
    assert events[2]["data"] == p
    for row in audits + events:
        assert "sip_password" not in json.dumps(row, default=str)
        assert e["sip_password"] not in json.dumps(row, default=str)


def test_failed_mutations_write_no_audit_or_event(cc, tenant):
    e = create_ok(cc, tenant)
    before = (audit_rows(cc, tenant), event_rows(cc, tenant))
    assert_error(create(cc, tenant, extension=e["extension"]), 409, "conflict")
    assert_error(create(cc, tenant, user_id=999999999), 400, "invalid_request")
    assert_error(patch(cc, tenant, e["id"], {"user_id": 999999999}), 400, "invalid_request")
    assert_error(patch(cc, tenant, e["id"], {"allow": "nope"}), 400, "invalid_request")
    assert (audit_rows(cc, tenant), event_rows(cc, tenant)) == before


# ---- the OpenAPI document ----------------------------------------------------------

def test_answers_match_the_openapi_document(cc, tenant):
    check = openapi_checker(cc)
    one = EPS + "/{id}"
    reg = EPS + "/{id}/registration"

    t = tenant.admin_token
    user, agent = tenant.make_user(roles=["agent"])
    created = check(create(cc, tenant, user_id=user["id"]), "POST", EPS, 201)
    assert "sip_password" in created
    check(create(cc, tenant, password=GOOD_PASSWORD, webrtc=True), "POST", EPS, 201)
    check(create(cc, tenant, extension=created["extension"]), "POST", EPS, 409, "conflict")
    check(create(cc, tenant, extension="x"), "POST", EPS, 400, "invalid_request")
    check(cc.post(EPS, token=agent, json={"extension": new_ext()}), "POST", EPS, 403,
          "forbidden")
    path = f"{EPS}/{created['id']}"
    add_contact(cc, created["sip_username"], 600)
    check(cc.get(path + "/registration", token=t), "GET", reg, 200)
    check(cc.get(f"{EPS}/999999999/registration", token=t), "GET", reg, 404, "not_found")
    EP.check_answers(check, cc, t, created["id"], {"webrtc": True})
    did = make_did_to(cc, tenant, "endpoint", created["id"])
    check(cc.delete(path, token=t), "DELETE", one, 409, "conflict")
    assert cc.delete(f"/api/v1/dids/{did['id']}", token=t).status_code == 204
    EP.check_deleted(check, cc, t, created["id"])


# ---- the endpoint follows its user (mod_callcenter/cc_users.c) -------------------------

def test_renaming_the_user_renames_caller_id_and_member_name(cc, tenant):
    user, _ = tenant.make_user(roles=["agent"], name="Ada Lovelace")
    ep = create_ok(cc, tenant, user_id=user["id"])
    other = create_ok(cc, tenant)                        # no user: untouched
    add_queue_member(cc, tenant, ep)
    add_queue_member(cc, tenant, other)
    r = cc.patch(f"/api/v1/users/{user['id']}", token=tenant.admin_token,
                 json={"name": "Ada King"})
    assert r.status_code == 200, r.text
    assert one_rt(cc, "ps_endpoints", ep["sip_username"])["callerid"] == \
        f'"Ada King" <{ep["extension"]}>'
    assert [m["membername"] for m in members_of(cc, ep["sip_username"])] == ["Ada King"]
    assert one_rt(cc, "ps_endpoints", other["sip_username"])["callerid"] == \
        f'<{other["extension"]}>'
    assert [m["membername"] for m in members_of(cc, other["sip_username"])] == \
        [other["extension"]]
    # Another field alone leaves the endpoint as it is.
    r = cc.patch(f"/api/v1/users/{user['id']}", token=tenant.admin_token,
                 json={"email": f"new-{secrets.token_hex(3)}@{tenant.slug}.example.com"})
    assert r.status_code == 200, r.text
    assert get_ep(cc, tenant, ep["id"]).json()["user_id"] == user["id"]


def test_deleting_the_user_unlinks_its_endpoints(cc, tenant):
    user, _ = tenant.make_user(roles=["agent"], name="Grace Hopper")
    ep = create_ok(cc, tenant, user_id=user["id"])
    add_queue_member(cc, tenant, ep)
    r = cc.delete(f"/api/v1/users/{user['id']}", token=tenant.admin_token)
    assert r.status_code == 204, r.text
    got = get_ep(cc, tenant, ep["id"]).json()
    assert got["user_id"] is None
    assert one_rt(cc, "ps_endpoints", ep["sip_username"])["callerid"] == \
        f'<{ep["extension"]}>'
    assert [m["membername"] for m in members_of(cc, ep["sip_username"])] == \
        [ep["extension"]]
    assert list_ids(cc, tenant.admin_token, f"?user_id={user['id']}") == []


def test_endpoint_patches_and_user_renames_do_not_deadlock(cc, tenant):
    """Concurrent re-pointing and renaming: every request succeeds and each endpoint's
    caller ID ends up showing its final user's final name.  (Both paths lock the user
    before the endpoint; the opposite order could deadlock, which the dispatcher's
    re-runs would hide from the answers: the server's deadlock count shows it.  The
    window is narrow, so this is a smoke test of that order, not proof.)"""
    users = [tenant.make_user(roles=["agent"])[0] for _ in range(2)]
    eps = [create_ok(cc, tenant, user_id=users[0]["id"]) for _ in range(3)]
    t = tenant.admin_token

    def repoint(i):
        return cc.patch(f"{EPS}/{eps[i % 3]['id']}", token=t,
                        json={"user_id": users[i % 2]["id"]}).status_code

    def rename(i):
        return cc.patch(f"/api/v1/users/{users[i % 2]['id']}", token=t,
                        json={"name": f"Agent {i}"}).status_code

    before = innodb_deadlocks(cc)
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(repoint if i % 2 else rename, i) for i in range(80)]
        codes = [f.result() for f in futures]
    assert codes == [200] * 80, codes
    assert innodb_deadlocks(cc) == before
    for ep in eps:
        got = get_ep(cc, tenant, ep["id"]).json()
        (user,) = [u for u in users if u["id"] == got["user_id"]]
        name = cc.get(f"/api/v1/users/{user['id']}", token=t).json()["name"]
        assert one_rt(cc, "ps_endpoints", got["sip_username"])["callerid"] == \
            f'"{name}" <{got["extension"]}>'


def test_user_changes_are_audited_and_announced_on_endpoints_and_members(cc, tenant):
    user, _ = tenant.make_user(roles=["agent"], name="Linus")
    ep = create_ok(cc, tenant)
    qid, _ = add_queue_member(cc, tenant, ep)
    (member_id,) = [r["id"] for r in db_rows(cc, "SELECT id FROM call_queue_members"
                                                 " WHERE tenant_id = %s AND endpoint_id = %s",
                                             (tenant.id, ep["id"]))]
    member_events = lambda: entity_events(cc, tenant, "queue_member")  # noqa: E731
    # PATCH to a user: the endpoint event, and one per membership.
    patch_ok(cc, tenant, ep["id"], {"user_id": user["id"]})
    (ev,) = member_events()
    assert (ev["type"], ev["entity_id"]) == ("queue_member.updated", str(member_id))
    assert (ev["data"]["user_id"], ev["data"]["membername"]) == (user["id"], "Linus")
    assert ev["data"]["queue_id"] == qid
    # A rename changes the members' membername: announced.
    r = cc.patch(f"/api/v1/users/{user['id']}", token=tenant.admin_token,
                 json={"name": "Linus T."})
    assert r.status_code == 200, r.text
    ev = member_events()[-1]
    assert (ev["entity_id"], ev["data"]["membername"]) == (str(member_id), "Linus T.")
    # Deleting the user unlinks the endpoint: audited and announced like a PATCH.
    before = len(audit_rows(cc, tenant))
    assert cc.delete(f"/api/v1/users/{user['id']}", token=tenant.admin_token).status_code == 204
    audits = audit_rows(cc, tenant)[before:]
    assert [(a["action"], a["entity_id"], a["changes"]) for a in audits] == \
        [("endpoint.update", str(ep["id"]), {"user_id": {"from": user["id"], "to": None}})]
    last = event_rows(cc, tenant)[-1]
    assert (last["type"], last["data"]["user_id"]) == ("endpoint.updated", None)
    ev = member_events()[-1]
    assert (ev["data"]["user_id"], ev["data"]["membername"]) == (None, ep["extension"])


# ---- lock orders: writers that meet on an endpoint never deadlock ------------------
# Each test holds the other writer's locks on a connection of its own (as that writer's
# statements take them), sends the request, then lets the other writer finish.  A
# deadlock would show as a 1213 on one side or in the server's deadlock count (race()
# reports both: a request that lost one is run again and may still answer 2xx).

def did_to_endpoint_writer(tenant, ep_id):
    """A DID create routing to ep_id, statement by statement (cc_dids.c)."""
    hold = [("SELECT 1 FROM endpoints e WHERE e.tenant_id = %s AND e.id = %s"
             " LOCK IN SHARE MODE", (tenant.id, ep_id))]
    then = [("INSERT INTO dids (tenant_id, number, destination_type, destination_id)"
             " VALUES (%s, %s, 'endpoint', %s)",
             (tenant.id, f"+1{secrets.randbelow(10**12):012d}", ep_id)),
            ("UPDATE tenants SET dids_count = dids_count + 1"
             " WHERE id = %s AND dids_count < max_dids", (tenant.id,))]
    return hold, then


def test_user_delete_meets_a_did_create_on_its_endpoint(cc, tenant):
    user, _ = tenant.make_user(roles=["agent"])
    ep = create_ok(cc, tenant, user_id=user["id"])
    hold, then = did_to_endpoint_writer(tenant, ep["id"])
    problems, r = race(cc, hold, lambda: cc.delete(f"/api/v1/users/{user['id']}",
                                                   token=tenant.admin_token), then)
    assert problems == [] and r.status_code == 204, (problems, r.text)
    assert get_ep(cc, tenant, ep["id"]).json()["user_id"] is None


def rename_during(cc, tenant, user_id, name, hold, then):
    """PATCH the user's name while another writer holds hold (then runs then): 200."""
    problems, r = race(cc, hold, lambda: cc.patch(f"/api/v1/users/{user_id}",
                                                  token=tenant.admin_token,
                                                  json={"name": name}), then)
    assert problems == [] and r.status_code == 200, (problems, r.text)


def test_user_rename_meets_a_did_create_on_its_endpoint(cc, tenant):
    user, _ = tenant.make_user(roles=["agent"])
    ep = create_ok(cc, tenant, user_id=user["id"])
    hold, then = did_to_endpoint_writer(tenant, ep["id"])
    rename_during(cc, tenant, user["id"], "Renamed", hold, then)
    assert one_rt(cc, "ps_endpoints", ep["sip_username"])["callerid"] == \
        f'"Renamed" <{ep["extension"]}>'


def test_user_rename_meets_a_patch_moving_its_endpoint_away(cc, tenant):
    old, _ = tenant.make_user(roles=["agent"])
    new, _ = tenant.make_user(roles=["agent"], name="New Owner")
    ep = create_ok(cc, tenant, user_id=old["id"])
    hold, then = endpoint_move_writer(tenant, ep["id"], new["id"])
    then.append(("UPDATE ps_endpoints SET callerid = %s WHERE id = %s",
                 (f'"New Owner" <{ep["extension"]}>', ep["sip_username"])))
    rename_during(cc, tenant, old["id"], "Old Owner", hold, then)
    # The rename found the endpoint moved and left it to its new user.
    assert one_rt(cc, "ps_endpoints", ep["sip_username"])["callerid"] == \
        f'"New Owner" <{ep["extension"]}>'


def test_patch_of_another_tenants_endpoint_is_404_whatever_the_body(cc, tenant, tenant2):
    theirs = create_ok(cc, tenant2)
    mine_user, _ = tenant.make_user(roles=["agent"])
    for body in ({"user_id": 999999999}, {"user_id": mine_user["id"]}, {"allow": "ulaw"}):
        assert_error(patch(cc, tenant, theirs["id"], body), 404, "not_found")
    assert_error(patch(cc, tenant, 999999999, {"user_id": 999999999}), 404, "not_found")
    assert get_ep(cc, tenant2, theirs["id"]).json() == public(theirs)


def test_deleting_an_endpoint_announces_its_memberships_gone(cc, tenant):
    ep = create_ok(cc, tenant)
    qid, _ = add_queue_member(cc, tenant, ep)
    (member_id,) = [r["id"] for r in db_rows(cc, "SELECT id FROM call_queue_members"
                                                 " WHERE tenant_id = %s AND endpoint_id = %s",
                                             (tenant.id, ep["id"]))]
    assert delete(cc, tenant, ep["id"]).status_code == 204
    (ev,) = entity_events(cc, tenant, "queue_member")
    assert (ev["type"], ev["entity_id"]) == ("queue_member.deleted", str(member_id))
    assert (ev["data"]["queue_id"], ev["data"]["endpoint_id"]) == (qid, ep["id"])


def test_registration_decodes_what_asterisk_encoded(cc, tenant):
    """Issue 8 #1: res_pjsip stores a contact's ';' as ^3B (its realtime drivers split
    values at ';'): the API shows the URI as Asterisk means it."""
    e = create_ok(cc, tenant)
    add_contact(cc, e["sip_username"], 600, uri="sip:web@192.0.2.20:8088^3Btransport=ws")
    (c,) = registration(cc, tenant, e["id"]).json()["contacts"]
    assert c["uri"] == "sip:web@192.0.2.20:8088;transport=ws"
