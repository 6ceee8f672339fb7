"""API.md "Contacts and tags": /api/v1/tags and /api/v1/contacts (mod_callcenter/cc_tags.c,
cc_contacts.c; the contract as built: notes/helpdesk-spec.md "Tags" and "Contacts").

Tags: CRUD, names unique per tenant whatever their case, colours, q, sorts, a delete that
takes the tag off every contact.  Contacts: create/get/patch/delete with every field and
each validation (name, email, phone as E.164 after normalisation, custom_fields' size,
depth, keys and type, notes' length, unknown fields, wrong types, hostile text kept as
it is, 415, malformed JSON); q search (word and whole-name prefixes, company, email and
its parts, phone digit runs, phone-looking queries, case, LIKE wildcards), the tag
filter, sorts, paging; PUT /contacts/{id}/tags; GET /contacts/lookup?phone= and its
best match (the most recently updated contact with the number, ties the highest id).
Tenant isolation, RBAC (contacts.read, contacts.write, tags.manage), one audit entry and
one event per mutation, and nothing written by a request that fails.
"""

import json
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest

from cchelpers import (assert_405, assert_error, assert_unauthorized, db_exec, db_rows,
                       detail_fields, entity_audit, entity_events, openapi_checker)
from ccobjects import Resource, token_with_permissions

CONTACTS = "/api/v1/contacts"
TAGS = "/api/v1/tags"
LOOKUP = CONTACTS + "/lookup"
CONTACT_KEYS = {"id", "name", "email", "phone", "company", "notes", "custom_fields", "tags",
                "created_at", "updated_at"}
TAG_KEYS = {"id", "name", "color", "created_at", "updated_at"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
E164 = re.compile(r"^\+[1-9]\d{7,14}$")
JSON_CT = {"Content-Type": "application/json"}


# ---- helpers ---------------------------------------------------------------------

def assert_contact_shape(c):
    assert set(c) == CONTACT_KEYS, c
    assert isinstance(c["id"], int) and not isinstance(c["id"], bool) and c["id"] > 0
    assert isinstance(c["name"], str) and c["name"]
    for k in ("email", "company", "notes"):
        assert c[k] is None or isinstance(c[k], str), (k, c)
    assert c["phone"] is None or E164.match(c["phone"]), c
    assert isinstance(c["custom_fields"], dict), c
    assert isinstance(c["tags"], list) and all(isinstance(t, str) for t in c["tags"]), c
    assert c["tags"] == sorted(c["tags"], key=str.lower), c
    assert RFC3339.match(c["created_at"]) and RFC3339.match(c["updated_at"]), c


def assert_tag_shape(t):
    assert set(t) == TAG_KEYS, t
    assert isinstance(t["id"], int) and t["id"] > 0
    assert isinstance(t["name"], str) and t["name"]
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", t["color"]), t
    assert RFC3339.match(t["created_at"]) and RFC3339.match(t["updated_at"]), t


def fresh_name():
    return "Contact " + secrets.token_hex(4)


CONTACT = Resource(CONTACTS, body=lambda tenant, f: {"name": fresh_name(), **f},
                   shape=assert_contact_shape, check_written=True, entity="contact",
                   table="contacts")
TAG = Resource(TAGS, body=lambda tenant, f: {"name": "tag-" + secrets.token_hex(4), **f},
               shape=assert_tag_shape, check_written=True, entity="tag", table="tags")
create, create_ok, get_contact = CONTACT.create, CONTACT.create_ok, CONTACT.get
patch, patch_ok, listing, list_ids = (CONTACT.patch, CONTACT.patch_ok, CONTACT.listing,
                                      CONTACT.list_ids)


def tag_ok(cc, tenant, name, **fields):
    return TAG.create_ok(cc, tenant, name=name, **fields)


def put_tags(cc, token, cid, tags):
    return cc.put(f"{CONTACTS}/{cid}/tags", token=token, json={"tags": tags})


def lookup(cc, token, phone):
    return cc.get(f"{LOOKUP}?phone={quote(phone, safe='')}", token=token)


def q_ids(cc, token, q, extra=""):
    """The ids ?q=q lists (all of them; total must agree), sorted."""
    body = listing(cc, token, f"?page_size=200&q={quote(q, safe='')}{extra}")
    assert body["total"] == len(body["data"]), (q, body)
    return sorted(c["id"] for c in body["data"])


def state(cc, tenant):
    """Everything a contacts/tags request could change in tenant."""
    tid = (tenant.id,)
    return (db_rows(cc, "SELECT * FROM contacts WHERE tenant_id = %s ORDER BY id", tid),
            db_rows(cc, "SELECT contact_id, tag_id FROM contact_tags WHERE tenant_id = %s"
                        " ORDER BY 1, 2", tid),
            db_rows(cc, "SELECT contact_id, term FROM contact_terms WHERE tenant_id = %s"
                        " ORDER BY 1, 2", tid),
            db_rows(cc, "SELECT * FROM tags WHERE tenant_id = %s ORDER BY id", tid),
            db_rows(cc, "SELECT id FROM audit_logs WHERE tenant_id = %s ORDER BY id", tid),
            db_rows(cc, "SELECT id FROM events WHERE tenant_id = %s ORDER BY id", tid))


def problems_of(cases, send):
    """Run send(body) for each (body, field) and collect what is not a 400 naming field
    (every case is tried, so one run reports them all)."""
    problems = []
    for body, field in cases:
        r = send(body)
        try:
            assert_error(r, 400, "invalid_request", field)
        except AssertionError as e:
            problems.append(f"{json.dumps(body)[:120]} -> {field}: {str(e)[:300]}")
    return problems


def compact_len(obj):
    return len(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode())


def nested(depth):
    """An object depth levels deep ({} is depth 1)."""
    obj = {}
    for _ in range(depth - 1):
        obj = {"a": obj}
    return obj


FULL = {"name": "Ada Lovelace", "email": "ada@analytical.example", "phone": "+442079460958",
        "company": "Analytical Engines Ltd", "notes": "Prefers email.\nCall after 10:00\tUK",
        "custom_fields": {"plan": "gold", "seats": 12, "vip": True, "score": 4.5,
                          "nothing": None, "meta": {"src": "web", "ids": [1, 2]},
                          "note.text-x_y": "Grüße ✓"}}


# ---- contacts: create and get ----------------------------------------------------

def test_create_with_every_field_and_get(cc, tenant):
    tag_ok(cc, tenant, "vip")
    tag_ok(cc, tenant, "Billing")
    body = {**FULL, "tags": ["vip", "Billing"]}
    c = CONTACT.post_created(cc, tenant, body)
    assert_contact_shape(c)
    for k, v in FULL.items():
        assert c[k] == v, (k, c)
    assert c["tags"] == ["Billing", "vip"]                 # by name, not as given
    assert c["created_at"] == c["updated_at"]
    g = get_contact(cc, tenant, c["id"])
    assert g.status_code == 200 and g.json() == c
    (row,) = CONTACT.rows(cc, tenant)
    assert (row["id"], row["phone"], row["name"]) == (c["id"], "+442079460958", "Ada Lovelace")
    assert json.loads(row["custom_fields"]) == FULL["custom_fields"]


def test_create_minimal_gets_the_defaults(cc, tenant):
    c = CONTACT.post_created(cc, tenant, {"name": "Just A Name"})
    assert (c["name"], c["email"], c["phone"], c["company"], c["notes"], c["custom_fields"],
            c["tags"]) == ("Just A Name", None, None, None, None, {}, [])
    explicit = create_ok(cc, tenant, email=None, phone=None, company=None, notes=None,
                         custom_fields={}, tags=[])
    assert (explicit["email"], explicit["phone"], explicit["tags"]) == (None, None, [])


PHONES = [
    ("+1 (555) 010-9999", "+15550109999"),
    ("+1.555.010.9999", "+15550109999"),
    ("+1-555-010-9999", "+15550109999"),
    ("0044 20 7946 0958", "+442079460958"),
    ("0044-(20)-7946.0958", "+442079460958"),
    ("+15550109999", "+15550109999"),
    ("+123456789012345", "+123456789012345"),              # 15 digits
    ("+12345678", "+12345678"),                            # 8 digits
]


def test_phone_is_normalised_to_e164(cc, tenant):
    for given, stored in PHONES:
        c = create_ok(cc, tenant, phone=given)
        assert c["phone"] == stored, given
        assert get_contact(cc, tenant, c["id"]).json()["phone"] == stored
        patch_ok(cc, tenant, c["id"], {"phone": "+4930123456"})
        assert patch_ok(cc, tenant, c["id"], {"phone": given})["phone"] == stored
        (row,) = db_rows(cc, "SELECT phone FROM contacts WHERE id = %s", (c["id"],))
        assert row["phone"] == stored


def test_lengths_count_characters_and_limits_are_inclusive(cc, tenant):
    local = "a" * 64
    email254 = local + "@" + "b" * 60 + "." + "c" * 60 + "." + "d" * 63 + ".com"
    assert len(email254) == 254
    for fields in ({"name": "x" * 200}, {"name": "é" * 200}, {"name": "😀" * 200},
                   {"company": "ß" * 200}, {"notes": "ü" * 10000}, {"email": email254},
                   {"email": "john.smith+tag@example.co.uk"},
                   {"custom_fields": {"a" * 64: 1}}):
        c = create_ok(cc, tenant, **fields)
        for k, v in fields.items():
            assert c[k] == v, k
            assert get_contact(cc, tenant, c["id"]).json()[k] == v


def test_hostile_text_is_stored_literally(cc, tenant):
    texts = ["'; DROP TABLE contacts; --", "Robert'); DELETE FROM tenants WHERE ('1'='1",
             "<script>alert(1)</script>", "100% _match_ \\ back", "{{ticket.number}}",
             "Línea \U0001F4DE 電話 \u202eevil\u202c", "zero\u200bwidth", "a\"b'c`d"]
    for text in texts:
        c = create_ok(cc, tenant, name=text, company=text, notes=text,
                      custom_fields={"k": text})
        g = get_contact(cc, tenant, c["id"]).json()
        assert (g["name"], g["company"], g["notes"], g["custom_fields"]) == (
            text, text, text, {"k": text})
        (row,) = db_rows(cc, "SELECT name, notes FROM contacts WHERE id = %s", (c["id"],))
        assert row == {"name": text, "notes": text}
    assert len(db_rows(cc, "SELECT id FROM tenants WHERE id = %s", (tenant.id,))) == 1
    assert listing(cc, tenant.admin_token)["total"] == len(texts)


def test_get_unknown_or_malformed_id_is_404(cc, tenant):
    for bad in ("999999999", "0", "-1", "abc", "1.5", "9" * 30):
        assert_error(cc.get(f"{CONTACTS}/{bad}", token=tenant.admin_token), 404, "not_found")
        assert_error(cc.get(f"{TAGS}/{bad}", token=tenant.admin_token), 404, "not_found")


# ---- contacts: validation ----------------------------------------------------------

def bad_contact_cases():
    at64 = {f"k{i}": i for i in range(100)}
    size_at = 8192 - compact_len({"k": ""})
    return [
        ({}, "name"), ({"name": ""}, "name"), ({"name": None}, "name"),
        ({"name": 5}, "name"), ({"name": ["x"]}, "name"), ({"name": "x" * 201}, "name"),
        ({"name": "é" * 201}, "name"),
        ({"email": "plainaddress"}, "email"), ({"email": "@example.com"}, "email"),
        ({"email": "john@"}, "email"), ({"email": "john smith@example.com"}, "email"),
        ({"email": "a@b@example.com"}, "email"), ({"email": ""}, "email"),
        ({"email": 5}, "email"),
        ({"email": "a" * 64 + "@" + "b" * 61 + "." + "c" * 60 + "." + "d" * 63 + ".com"},
         "email"),                                                      # 255
        ({"phone": "5550109999"}, "phone"),                            # no + or 00
        ({"phone": "+0123456789"}, "phone"), ({"phone": "+1234567"}, "phone"),
        ({"phone": "+1234567890123456"}, "phone"), ({"phone": "+1 555 abc 9999"}, "phone"),
        ({"phone": "+"}, "phone"), ({"phone": ""}, "phone"), ({"phone": "00"}, "phone"),
        ({"phone": "+1/555/0109999"}, "phone"), ({"phone": "++15550109999"}, "phone"),
        ({"phone": 15550109999}, "phone"), ({"phone": ["+15550109999"]}, "phone"),
        ({"company": "x" * 201}, "company"), ({"company": 5}, "company"),
        ({"notes": "x" * 10001}, "notes"), ({"notes": "é" * 10001}, "notes"),
        ({"notes": {}}, "notes"),
        ({"custom_fields": []}, "custom_fields"), ({"custom_fields": "x"}, "custom_fields"),
        ({"custom_fields": 5}, "custom_fields"), ({"custom_fields": None}, "custom_fields"),
        ({"custom_fields": '{"a": 1}'}, "custom_fields"),
        ({"custom_fields": {"k": "x" * (size_at + 1)}}, "custom_fields"),   # 8193 bytes
        ({"custom_fields": {"k": "é" * 4100}}, "custom_fields"),          # bytes, not chars
        ({"custom_fields": nested(4)}, "custom_fields"),
        ({"custom_fields": {"a": [[[1]]]}}, "custom_fields"),             # arrays count
        ({"custom_fields": {**at64, "k100": 1}}, "custom_fields"),       # 101 keys
        ({"custom_fields": {"a": at64}}, "custom_fields"),               # 101 at all depths
        ({"custom_fields": {"1abc": 1}}, "custom_fields"),
        ({"custom_fields": {"": 1}}, "custom_fields"),
        ({"custom_fields": {"_x": 1}}, "custom_fields"),
        ({"custom_fields": {"a b": 1}}, "custom_fields"),
        ({"custom_fields": {"a/b": 1}}, "custom_fields"),
        ({"custom_fields": {"ключ": 1}}, "custom_fields"),
        ({"custom_fields": {"a" * 65: 1}}, "custom_fields"),
        ({"custom_fields": {"ok": {"bad key": 1}}}, "custom_fields"),
        ({"tags": "vip"}, "tags"), ({"tags": [1]}, "tags"), ({"tags": [None]}, "tags"),
        ({"tags": ["no-such-tag"]}, "tags"), ({"tags": None}, "tags"),
        ({"bogus": 1}, "bogus"), ({"id": 5}, "id"), ({"tenant_id": "x"}, "tenant_id"),
        ({"created_at": "2026-01-01T00:00:00Z"}, "created_at"),
    ]


def test_create_rejects_each_bad_field_and_writes_nothing(cc, tenant):
    before = state(cc, tenant)
    cases = [({"name": "Valid Name", **body} if field != "name" else body, field)
             for body, field in bad_contact_cases()]
    problems = problems_of(cases, lambda body: cc.post(CONTACTS, token=tenant.admin_token,
                                                       json=body))
    assert not problems, "\n".join(problems)
    assert state(cc, tenant) == before


def test_patch_rejects_each_bad_field_and_changes_nothing(cc, tenant):
    c = create_ok(cc, tenant, **FULL)
    before = state(cc, tenant)
    cases = [(body, field) for body, field in bad_contact_cases() if body]
    problems = problems_of(cases, lambda body: patch(cc, tenant, c["id"], body))
    assert not problems, "\n".join(problems)
    assert state(cc, tenant) == before
    assert get_contact(cc, tenant, c["id"]).json() == c


def test_custom_fields_limits_are_inclusive(cc, tenant):
    at_size = {"k": "x" * (8192 - compact_len({"k": ""}))}
    assert compact_len(at_size) == 8192
    many = {f"k{i}": i for i in range(100)}
    spread = {"a": {f"k{i}": i for i in range(49)}, **{f"z{i}": i for i in range(50)}}
    for cf in (at_size, nested(3), {"a": [[1]]}, many, spread,
               {"A": 1, "a.b-c_D9": [True, None, 1.25, "s"], "x" * 64: {"y": []}}):
        c = create_ok(cc, tenant, custom_fields=cf)
        assert c["custom_fields"] == cf
        assert get_contact(cc, tenant, c["id"]).json()["custom_fields"] == cf


def test_every_problem_is_reported_at_once(cc, tenant):
    # Values of the right types: each field's problem is named.
    r = cc.post(CONTACTS, token=tenant.admin_token,
                json={"name": "", "email": "nope", "phone": "12", "company": "x" * 201,
                      "notes": "x" * 10001, "custom_fields": {"1bad": 1}})
    body = assert_error(r, 400, "invalid_request")
    assert set(detail_fields(body)) == {"name", "email", "phone", "company", "notes",
                                        "custom_fields"}, body
    # Wrong types and unknown fields are named together.
    r = cc.post(CONTACTS, token=tenant.admin_token,
                json={"name": 5, "email": 5, "custom_fields": [], "bogus": True})
    body = assert_error(r, 400, "invalid_request")
    assert set(detail_fields(body)) == {"name", "email", "custom_fields", "bogus"}, body


def test_non_json_body_is_415(cc, tenant):
    c = create_ok(cc, tenant)
    t = tenant.admin_token
    for method, path in (("POST", CONTACTS), ("PATCH", f"{CONTACTS}/{c['id']}"),
                         ("PUT", f"{CONTACTS}/{c['id']}/tags"), ("POST", TAGS)):
        for ctype, data in (("text/plain", b'{"name": "x"}'),
                            ("application/x-www-form-urlencoded", b"name=x")):
            r = cc.request(method, path, token=t, data=data, headers={"Content-Type": ctype})
            assert_error(r, 415, "unsupported_media_type")
    assert len(CONTACT.rows(cc, tenant)) == 1 and TAG.rows(cc, tenant) == []


MALFORMED = [b"", b"{", b"[]", b'"x"', b"null", b'{"name": "x",}',
             b'{"name": "a", "name": "b"}',
             b'{"name": "\xff\xfe\xc0\xaf"}',                   # invalid UTF-8
             b'{"name": "nul\\u0000x"}',
             b'{"name": "lone \\ud800 surrogate"}',
             b'{"name": "x", "custom_fields": {"a": "\xed\xa0\x80"}}']


def test_malformed_json_is_400_and_writes_nothing(cc, tenant):
    c = create_ok(cc, tenant)
    before = state(cc, tenant)
    t = tenant.admin_token
    problems = []
    for raw in MALFORMED:
        for method, path in (("POST", CONTACTS), ("PATCH", f"{CONTACTS}/{c['id']}"),
                             ("PUT", f"{CONTACTS}/{c['id']}/tags"), ("POST", TAGS)):
            r = cc.request(method, path, token=t, data=raw, headers=JSON_CT)
            try:
                assert_error(r, 400, "invalid_request")
            except AssertionError as e:
                problems.append(f"{method} {path} {raw!r}: {str(e)[:200]}")
    assert not problems, "\n".join(problems)
    assert state(cc, tenant) == before


def test_wrong_methods_are_405_with_allow(cc, tenant):
    c = create_ok(cc, tenant)
    tag = tag_ok(cc, tenant, "x")
    CONTACT.assert_wrong_methods_are_405(cc, tenant, c["id"], more=[
        ("GET", f"{CONTACTS}/{c['id']}/tags", "PUT"),
        ("POST", LOOKUP, "GET", {}),
        ("PUT", f"{TAGS}/{tag['id']}", "GET, PATCH, DELETE", {}),
        ("DELETE", TAGS, "GET, POST")])


def test_no_token_is_401(cc, tenant):
    c = create_ok(cc, tenant)
    for method, path in (("GET", CONTACTS), ("GET", f"{CONTACTS}/{c['id']}"),
                         ("GET", LOOKUP + "?phone=%2B15550109999"), ("GET", TAGS)):
        assert_unauthorized(cc.request(method, path))
    assert_error(cc.post(CONTACTS, json={"name": "x"}), 401, "unauthorized")
    assert_error(cc.put(f"{CONTACTS}/{c['id']}/tags", json={"tags": []}), 401, "unauthorized")


# ---- contacts: patch and delete ------------------------------------------------------

def test_patch_changes_only_the_fields_given(cc, tenant):
    tag_ok(cc, tenant, "vip")
    c = create_ok(cc, tenant, **FULL, tags=["vip"])
    db_exec(cc, "UPDATE contacts SET updated_at = '2020-01-01 00:00:00' WHERE id = %s",
            (c["id"],))
    p = patch_ok(cc, tenant, c["id"], {"company": "Difference Engines"})
    assert p == {**c, "company": "Difference Engines", "updated_at": p["updated_at"]}
    assert p["updated_at"] > "2020-01-01T00:00:00Z" and p["created_at"] == c["created_at"]
    # custom_fields replaces the whole object.
    p = patch_ok(cc, tenant, c["id"], {"custom_fields": {"only": "this"}})
    assert p["custom_fields"] == {"only": "this"}
    # null clears the optional fields; {} clears custom_fields.
    p = patch_ok(cc, tenant, c["id"], {"email": None, "phone": None, "company": None,
                                       "notes": None, "custom_fields": {}})
    assert (p["email"], p["phone"], p["company"], p["notes"], p["custom_fields"]) == (
        None, None, None, None, {})
    assert (p["name"], p["tags"]) == (FULL["name"], ["vip"])
    # tags in a PATCH replace the set; leaving them out keeps them.
    tag_ok(cc, tenant, "alpha")
    p = patch_ok(cc, tenant, c["id"], {"name": "Augusta Ada King", "tags": ["alpha"]})
    assert (p["name"], p["tags"]) == ("Augusta Ada King", ["alpha"])
    q = patch_ok(cc, tenant, c["id"], {"tags": []})
    assert q == {**p, "tags": [], "updated_at": q["updated_at"]}
    assert get_contact(cc, tenant, c["id"]).json() == q


def test_patch_and_delete_unknown_ids_are_404(cc, tenant):
    t = tenant.admin_token
    for bad in ("999999999", "0", "abc"):
        assert_error(cc.patch(f"{CONTACTS}/{bad}", token=t, json={"name": "x"}), 404,
                     "not_found")
        assert_error(cc.delete(f"{CONTACTS}/{bad}", token=t), 404, "not_found")
        assert_error(put_tags(cc, t, bad, []), 404, "not_found")
        assert_error(cc.patch(f"{TAGS}/{bad}", token=t, json={"name": "x"}), 404,
                     "not_found")
        assert_error(cc.delete(f"{TAGS}/{bad}", token=t), 404, "not_found")


def test_delete_is_real_and_keeps_its_tickets(cc, tenant):
    tag_ok(cc, tenant, "gone")
    c = create_ok(cc, tenant, name="Deleted Person", phone="+15550104242", tags=["gone"])
    db_exec(cc, "INSERT INTO tickets (tenant_id, number, subject, contact_id)"
                " VALUES (%s, 1, 'from the deleted contact', %s)", (tenant.id, c["id"]))
    t = tenant.admin_token
    r = cc.delete(f"{CONTACTS}/{c['id']}", token=t)
    assert r.status_code == 204 and r.content == b""
    assert_error(get_contact(cc, tenant, c["id"]), 404, "not_found")
    assert_error(cc.delete(f"{CONTACTS}/{c['id']}", token=t), 404, "not_found")
    assert_error(lookup(cc, t, "+15550104242"), 404, "not_found")
    assert q_ids(cc, t, "deleted") == [] and q_ids(cc, t, "0104242") == []
    assert listing(cc, t)["total"] == 0
    assert CONTACT.rows(cc, tenant) == []
    assert db_rows(cc, "SELECT * FROM contact_terms WHERE contact_id = %s", (c["id"],)) == []
    assert db_rows(cc, "SELECT * FROM contact_tags WHERE contact_id = %s", (c["id"],)) == []
    (ticket,) = db_rows(cc, "SELECT contact_id FROM tickets WHERE tenant_id = %s",
                        (tenant.id,))
    assert ticket["contact_id"] is None
    assert [x["name"] for x in TAG.rows(cc, tenant)] == ["gone"]   # the tag stays


# ---- contacts: list, q, tag filter, sorts, paging ------------------------------------

SEARCH_PEOPLE = {
    "A": {"name": "John Smith", "email": "jsmith@initech.example", "phone": "+15550109999",
          "company": "Initech"},
    "B": {"name": "Johnny Appleseed", "email": "apple@orchard.example",
          "phone": "+442079460958", "company": "Orchard Foods"},
    "C": {"name": "Mary-Jane Watson", "email": "mj@dailybugle.example",
          "company": "Daily Bugle"},
    "D": {"name": "Zoë Ölund", "phone": "+33612345678", "company": "Smithfield Farms"},
    "E": {"name": "100% sure"}, "F": {"name": "1000 sure"},
    "G": {"name": "snake_case"}, "H": {"name": "snakeXcase"},
    "L": {"name": "Wolfeschlegelsteinhausenbergerdorff Hubert Blaine "
                  "Wolfeschlegelsteinhausenbergerdorff Senior"},
}


def test_q_search(cc, tenant):
    made = {k: create_ok(cc, tenant, **v)["id"] for k, v in SEARCH_PEOPLE.items()}
    t = tenant.admin_token

    def ids(*keys):
        return sorted(made[k] for k in keys)

    cases = [
        ("john", ids("A", "B")),              # a word's prefix (A once, two terms match)
        ("JOHN", ids("A", "B")),              # case-insensitive
        ("smi", ids("A", "D")),               # a name word, a company word
        ("john sm", ids("A")),                # the whole name's prefix
        ("John Smith", ids("A")),
        ("  john   sm ", ids("A")),           # white space normalised
        ("appleseed", ids("B")),
        ("initech", ids("A")),                # company, email domain
        ("jsmith", ids("A")),                 # the email's local part
        ("jsmith@initech.example", ids("A")),  # the whole email
        ("JSMITH@INITECH", ids("A")),
        ("orchard.example", ids("B")),        # the email's domain
        ("dailybugle", ids("C")),
        ("bugle", ids("C")),                  # a company word
        ("mary", ids("C")), ("jane", ids("C")), ("mary-jane w", ids("C")),
        ("zoë", ids("D")), ("ölund", ids("D")), ("ZOË", ids("D")),
        ("0109", ids("A")),                   # a run of digits inside the phone
        ("5550109999", ids("A")), ("15550109999", ids("A")),
        ("+15550109999", ids("A")),
        ("+1 555", ids("A")),                 # phone-looking: by digits
        ("+1 (555) 010", ids("A")), ("555-010", ids("A")), ("555.0109", ids("A")),
        ("2079460", ids("B")),
        ("612345678", ids("D")),
        ("100%", ids("E")),                   # LIKE wildcards match literally
        ("100", ids("E", "F")),
        ("snake_", ids("G")), ("snakex", ids("H")),
        ("%", []), ("_", []), ("\\", []), ("%john", []), ("j_hn", []),
        ("wolfeschlegelsteinhausenbergerdorff hubert blaine wolfeschlegel", ids("L")),
        ("Wolfeschlegelsteinhausenbergerdorff Hubert Blaine "
         "Wolfeschlegelsteinhausenbergerdorff Senior", ids("L")),   # past a term's 64 bytes
        ("ith", []), ("mith", []),             # prefixes only, not substrings
        ("nobody", []), ("'; DROP TABLE contacts; --", []), ("<script>", []),
        ("", sorted(made.values())), ("   ", sorted(made.values())),
    ]
    problems = []
    for q, want in cases:
        got = q_ids(cc, t, q)
        if got != want:
            problems.append(f"q={q!r}: {got} != {want}")
    assert not problems, "\n".join(problems)
    # Totals and paging with q; the default order (name).
    body = listing(cc, t, "?q=john&page_size=1")
    assert (body["total"], body["page_size"], len(body["data"])) == (2, 1, 1)
    assert body["data"][0]["id"] == made["A"]
    assert listing(cc, t, "?q=john&page=2&page_size=1")["data"][0]["id"] == made["B"]
    assert listing(cc, t, "?q=john&page=3&page_size=1")["data"] == []
    assert listing(cc, t, "?q=john&page=3&page_size=1")["total"] == 2


def test_a_long_q_must_still_be_a_prefix_of_the_name(cc, tenant):
    # Terms are cut to 64 bytes; a longer q that only shares those 64 bytes with a name
    # is not a prefix of it.
    long_name = SEARCH_PEOPLE["L"]["name"]
    c = create_ok(cc, tenant, name=long_name)
    t = tenant.admin_token
    assert q_ids(cc, t, long_name) == [c["id"]]
    assert q_ids(cc, t, long_name[:70]) == [c["id"]]
    for q in (long_name[:64] + "zzz", long_name + " Junior", long_name[:80] + "X"):
        assert q_ids(cc, t, q) == [], q


def test_q_follows_patches(cc, tenant):
    c = create_ok(cc, tenant, name="Old Name", email="old@before.example",
                  phone="+15550107777", company="Oldco")
    t = tenant.admin_token
    patch_ok(cc, tenant, c["id"], {"name": "Fresh Person", "email": "new@after.example",
                                   "phone": "+4930123456", "company": "Newco"})
    for q in ("old", "before.example", "0107777", "oldco"):
        assert q_ids(cc, t, q) == [], q
    for q in ("fresh", "person", "after.example", "new", "30123456", "newco"):
        assert q_ids(cc, t, q) == [c["id"]], q
    patch_ok(cc, tenant, c["id"], {"email": None, "phone": None, "company": None})
    for q in ("after", "30123456", "newco"):
        assert q_ids(cc, t, q) == [], q
    assert q_ids(cc, t, "fresh") == [c["id"]]


def test_bad_query_parameters_are_400(cc, tenant):
    create_ok(cc, tenant)
    for query, field in (("?page=0", "page"), ("?page_size=0", "page_size"),
                         ("?page_size=201", "page_size"), ("?page=x", "page"),
                         ("?sort=id", "sort"), ("?sort=email", "sort"), ("?sort=-", "sort"),
                         ("?sort=phone", "sort"), ("?q=%FF%FE", "q")):
        CONTACT.assert_bad_query(cc, tenant, query, field)
    for query, field in (("?sort=color", "sort"), ("?sort=id", "sort"),
                         ("?page_size=201", "page_size"), ("?q=%C0%AF", "q")):
        TAG.assert_bad_query(cc, tenant, query, field)


def test_tag_filter(cc, tenant):
    tag_ok(cc, tenant, "vip")
    tag_ok(cc, tenant, "late payer")
    tag_ok(cc, tenant, "unused")
    a = create_ok(cc, tenant, name="Anna Vip", tags=["vip"])
    b = create_ok(cc, tenant, name="Bert Both", tags=["vip", "late payer"])
    c = create_ok(cc, tenant, name="Carl Late", tags=["late payer"])
    create_ok(cc, tenant, name="Dora None")
    t = tenant.admin_token

    def ids(query):
        body = listing(cc, t, query)
        assert body["total"] == len(body["data"])
        return [x["id"] for x in body["data"]]

    assert ids("?tag=vip") == [a["id"], b["id"]]                 # name order
    assert ids("?tag=late%20payer") == [b["id"], c["id"]]
    assert ids("?tag=unused") == []
    assert ids("?tag=VIP") == [a["id"], b["id"]]                 # a tag's name, any case
    assert ids("?tag=no-such-tag") == []
    assert ids("?tag=vip&q=bert") == [b["id"]]
    assert ids("?tag=vip&q=carl") == []
    assert ids("?tag=vip&sort=-name") == [b["id"], a["id"]]
    body = listing(cc, t, "?tag=vip&page=2&page_size=1")
    assert body["total"] == 2 and [x["id"] for x in body["data"]] == [b["id"]]
    assert [x["tags"] for x in listing(cc, t, "?tag=vip")["data"]] == [
        ["vip"], ["late payer", "vip"]]


def test_sorts_and_paging(cc, tenant):
    names = ["echo", "Bravo", "delta", "alpha", "Charlie"]
    made = [create_ok(cc, tenant, name=n) for n in names]
    # Distinct, known times (the API's are to the second).
    for i, c in enumerate(made):
        db_exec(cc, "UPDATE contacts SET created_at = %s, updated_at = %s WHERE id = %s",
                (f"2025-01-0{i + 1} 00:00:00", f"2025-02-0{5 - i} 00:00:00", c["id"]))
    t = tenant.admin_token
    by_name = [c["id"] for c in sorted(made, key=lambda c: c["name"].lower())]
    by_created = [c["id"] for c in made]
    by_updated = by_created[::-1]
    for query, want in (("", by_name), ("?sort=name", by_name), ("?sort=-name", by_name[::-1]),
                        ("?sort=created_at", by_created),
                        ("?sort=-created_at", by_created[::-1]),
                        ("?sort=updated_at", by_updated),
                        ("?sort=-updated_at", by_updated[::-1])):
        assert list_ids(cc, t, query) == want, query
    first = listing(cc, t, "?sort=created_at")["data"][0]
    assert (first["created_at"], first["updated_at"]) == ("2025-01-01T00:00:00Z",
                                                          "2025-02-05T00:00:00Z")
    CONTACT.assert_paging(cc, tenant, by_name)
    # Equal names: ties by id, both ways.
    same = [create_ok(cc, tenant, name="Same")["id"] for _ in range(3)]
    assert [i for i in list_ids(cc, t, "?q=same") if i in same] == same
    assert [i for i in list_ids(cc, t, "?q=same&sort=-name") if i in same] == same[::-1]


# ---- PUT /contacts/{id}/tags -----------------------------------------------------

def test_put_tags_replaces_the_set(cc, tenant):
    for n in ("zeta", "Alpha", "mid", "vip"):
        tag_ok(cc, tenant, n)
    c = create_ok(cc, tenant, name="Tagged", tags=["vip"])
    t = tenant.admin_token
    r = put_tags(cc, t, c["id"], ["zeta", "Alpha", "mid"])
    assert r.status_code == 200, r.text
    got = r.json()
    assert_contact_shape(got)
    assert got["tags"] == ["Alpha", "mid", "zeta"]
    assert {k: v for k, v in got.items() if k not in ("tags", "updated_at")} == {
        k: v for k, v in c.items() if k not in ("tags", "updated_at")}
    assert get_contact(cc, tenant, c["id"]).json() == got
    # Duplicates merged.
    r = put_tags(cc, t, c["id"], ["vip", "mid", "vip", "mid"])
    assert r.status_code == 200 and r.json()["tags"] == ["mid", "vip"]
    assert len(db_rows(cc, "SELECT * FROM contact_tags WHERE contact_id = %s",
                       (c["id"],))) == 2
    # Empty clears.
    r = put_tags(cc, t, c["id"], [])
    assert r.status_code == 200 and r.json()["tags"] == []
    assert db_rows(cc, "SELECT * FROM contact_tags WHERE contact_id = %s", (c["id"],)) == []


def test_put_tags_names_match_whatever_their_case(cc, tenant):
    tag_ok(cc, tenant, "vip")
    c = create_ok(cc, tenant)
    r = put_tags(cc, tenant.admin_token, c["id"], ["VIP", "vip", "Vip"])
    assert r.status_code == 200, r.text
    assert r.json()["tags"] == ["vip"]


def test_put_tags_errors_change_nothing(cc, tenant, tenant2):
    tag_ok(cc, tenant, "vip")
    tag_ok(cc, tenant2, "theirs")
    c = create_ok(cc, tenant, tags=["vip"])
    t = tenant.admin_token
    url = f"{CONTACTS}/{c['id']}/tags"
    before = state(cc, tenant)
    for body, field in (({"tags": ["vip", "nope"]}, "tags"), ({"tags": ["theirs"]}, "tags"),
                        ({"tags": "vip"}, "tags"), ({"tags": [5]}, "tags"),
                        ({"tags": None}, "tags"), ({}, "tags"),
                        ({"tags": ["vip"], "bogus": 1}, "bogus"),
                        ({"tags": [["vip"]]}, "tags")):
        assert_error(cc.put(url, token=t, json=body), 400, "invalid_request", field)
    assert state(cc, tenant) == before
    assert get_contact(cc, tenant, c["id"]).json()["tags"] == ["vip"]


def test_at_most_50_tags_on_a_contact(cc, tenant):
    names = [f"t{i:02d}" for i in range(51)]
    with cc.db() as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO tags (tenant_id, name) VALUES (%s, %s)",
                        [(tenant.id, n) for n in names])
    c = create_ok(cc, tenant, tags=names[:50])
    assert c["tags"] == names[:50]
    t = tenant.admin_token
    before = state(cc, tenant)
    assert_error(put_tags(cc, t, c["id"], names), 400, "invalid_request", "tags")
    assert_error(patch(cc, tenant, c["id"], {"tags": names}), 400, "invalid_request", "tags")
    assert_error(create(cc, tenant, tags=names), 400, "invalid_request", "tags")
    assert state(cc, tenant) == before
    r = put_tags(cc, t, c["id"], names[1:])
    assert r.status_code == 200 and r.json()["tags"] == names[1:]


def test_fifty_long_tag_names_are_all_shown(cc, tenant):
    names = [f"{i:02d}" + "\U0001F600" * 48 for i in range(50)]
    with cc.db() as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO tags (tenant_id, name) VALUES (%s, %s)",
                        [(tenant.id, n) for n in names])
    c = create_ok(cc, tenant, tags=names[::-1])
    assert c["tags"] == names
    assert get_contact(cc, tenant, c["id"]).json()["tags"] == names
    assert listing(cc, tenant.admin_token)["data"][0]["tags"] == names
    assert listing(cc, tenant.admin_token, "?tag=" + quote(names[7]))["total"] == 1


# ---- tags ------------------------------------------------------------------------

def test_tag_crud(cc, tenant):
    t = TAG.post_created(cc, tenant, {"name": "Gold Customer", "color": "#aa00ff"})
    assert_tag_shape(t)
    assert (t["name"], t["color"]) == ("Gold Customer", "#aa00ff")
    assert t["created_at"] == t["updated_at"]
    assert TAG.get(cc, tenant, t["id"]).json() == t
    d = TAG.post_created(cc, tenant, {"name": "plain"})
    assert d["color"] == "#808080"
    up = TAG.patch_ok(cc, tenant, t["id"], {"color": "#00FF00"})
    assert up["color"].lower() == "#00ff00" and up["name"] == "Gold Customer"
    up = TAG.patch_ok(cc, tenant, t["id"], {"name": "Platinum"})
    assert (up["name"], up["color"].lower()) == ("Platinum", "#00ff00")
    assert TAG.get(cc, tenant, t["id"]).json() == up
    # Its own name in another case is not a conflict.
    assert TAG.patch_ok(cc, tenant, t["id"], {"name": "PLATINUM"})["name"] == "PLATINUM"
    r = TAG.delete(cc, tenant, t["id"])
    assert r.status_code == 204 and r.content == b""
    assert_error(TAG.get(cc, tenant, t["id"]), 404, "not_found")
    assert_error(TAG.delete(cc, tenant, t["id"]), 404, "not_found")
    assert [x["id"] for x in TAG.listing(cc, tenant.admin_token)["data"]] == [d["id"]]


def test_tag_names_are_unique_whatever_their_case(cc, tenant, tenant2):
    vip = tag_ok(cc, tenant, "VIP")
    other = tag_ok(cc, tenant, "other")
    before = state(cc, tenant)
    for name in ("VIP", "vip", "Vip"):
        assert_error(TAG.create(cc, tenant, name=name), 409, "conflict", "name")
        assert_error(TAG.patch(cc, tenant, other["id"], {"name": name}), 409, "conflict",
                     "name")
    assert state(cc, tenant) == before
    # Another tenant may have the same name.
    assert tag_ok(cc, tenant2, "vip")["name"] == "vip"
    assert TAG.get(cc, tenant, vip["id"]).json() == vip


def test_tag_names_differing_in_more_than_case_are_different_tags(cc, tenant):
    # Unique "case-insensitively" (helpdesk-spec: "VIP" == "vip"): "café" is not "cafe",
    # nor "straße" "strasse", and a contact given "café" is tagged "café".
    for a, b in (("cafe", "café"), ("strasse", "straße"), ("resume", "RÉSUMÉ")):
        tag_ok(cc, tenant, a)
        assert TAG.create(cc, tenant, name=b).status_code == 201, (a, b)
    c = create_ok(cc, tenant, tags=["café"])
    assert c["tags"] == ["café"]


def test_tag_validation(cc, tenant):
    tag = tag_ok(cc, tenant, "valid")
    before = state(cc, tenant)
    cases = [({"name": ""}, "name"), ({"name": "x" * 51}, "name"), ({"name": "a,b"}, "name"),
             ({"name": " lead"}, "name"), ({"name": "trail "}, "name"),
             ({"name": "bell\x07"}, "name"), ({"name": "new\nline"}, "name"),
             ({"name": "tab\tx"}, "name"), ({"name": None}, "name"), ({"name": 5}, "name"),
             ({"color": "#80808"}, "color"), ({"color": "808080"}, "color"),
             ({"color": "#GGGGGG"}, "color"), ({"color": "#8080801"}, "color"),
             ({"color": "red"}, "color"), ({"color": ""}, "color"), ({"color": None}, "color"),
             ({"color": 8421504}, "color"), ({"bogus": 1}, "bogus"), ({"id": 1}, "id")]
    problems = problems_of([({"name": "fine", **b} if f != "name" else b, f)
                            for b, f in cases + [({}, "name")]],
                           lambda body: cc.post(TAGS, token=tenant.admin_token, json=body))
    problems += problems_of(cases, lambda body: TAG.patch(cc, tenant, tag["id"], body))
    assert not problems, "\n".join(problems)
    assert state(cc, tenant) == before
    for name in ("x" * 50, "é" * 50, "in side", "a.b-c_d/e:f", "😀"):
        assert tag_ok(cc, tenant, name)["name"] == name
    assert tag_ok(cc, tenant, "upper", color="#ABCDEF")["color"].lower() == "#abcdef"


def test_tag_list_q_sorts_and_paging(cc, tenant):
    names = ["vip", "Very Important", "zz top", "alpha", "100% done", "1000 done",
             "snake_case", "snakeXcase"]
    made = {n: tag_ok(cc, tenant, n) for n in names}
    for i, n in enumerate(names):
        db_exec(cc, "UPDATE tags SET created_at = %s WHERE id = %s",
                (f"2025-03-0{i + 1} 00:00:00", made[n]["id"]))
    t = tenant.admin_token

    def ids(query):
        body = TAG.listing(cc, t, query)
        assert body["total"] == len(body["data"]) or "page_size" in query
        return [x["id"] for x in body["data"]]

    by_name = [made[n]["id"] for n in sorted(names, key=str.lower)]
    by_created = [made[n]["id"] for n in names]
    assert ids("") == by_name and ids("?sort=name") == by_name
    assert ids("?sort=-name") == by_name[::-1]
    assert ids("?sort=created_at") == by_created
    assert ids("?sort=-created_at") == by_created[::-1]
    assert ids("?q=IMP") == [made["Very Important"]["id"]]        # contains, any case
    assert ids("?q=v") == [made["Very Important"]["id"], made["vip"]["id"]]
    assert ids("?q=ip") == [made["vip"]["id"]]
    assert ids("?q=0%25") == [made["100% done"]["id"]]
    assert ids("?q=e_c") == [made["snake_case"]["id"]]
    assert ids("?q=%25") == [made["100% done"]["id"]]
    assert ids("?q=nothing") == []
    assert ids("?q=") == by_name
    body = TAG.listing(cc, t, "?page=2&page_size=3")
    assert (body["total"], body["page"], body["page_size"]) == (8, 2, 3)
    assert [x["id"] for x in body["data"]] == by_name[3:6]


def test_tag_rename_and_delete_reach_the_contacts(cc, tenant):
    vip = tag_ok(cc, tenant, "vip")
    tag_ok(cc, tenant, "keep")
    a = create_ok(cc, tenant, name="A", tags=["vip", "keep"])
    b = create_ok(cc, tenant, name="B", tags=["vip"])
    t = tenant.admin_token
    TAG.patch_ok(cc, tenant, vip["id"], {"name": "zz-important"})
    assert get_contact(cc, tenant, a["id"]).json()["tags"] == ["keep", "zz-important"]
    # A change of case alone reaches them too (contacts.tag_names, sql/025).
    TAG.patch_ok(cc, tenant, vip["id"], {"name": "ZZ-important"})
    assert get_contact(cc, tenant, b["id"]).json()["tags"] == ["ZZ-important"]
    assert [x["tags"] for x in listing(cc, t, "?q=B&tag=zz-important")["data"]
            if x["id"] == b["id"]] == [["ZZ-important"]]
    TAG.patch_ok(cc, tenant, vip["id"], {"name": "zz-important"})
    assert [x["id"] for x in listing(cc, t, "?tag=zz-important")["data"]] == [a["id"], b["id"]]
    assert listing(cc, t, "?tag=vip")["data"] == []
    assert TAG.delete(cc, tenant, vip["id"]).status_code == 204
    assert get_contact(cc, tenant, a["id"]).json()["tags"] == ["keep"]
    assert get_contact(cc, tenant, b["id"]).json()["tags"] == []
    assert listing(cc, t, "?tag=zz-important")["data"] == []
    assert db_rows(cc, "SELECT * FROM contact_tags WHERE tag_id = %s", (vip["id"],)) == []
    # The name is free again, and a new tag of that name is a new tag.
    again = tag_ok(cc, tenant, "zz-important")
    assert again["id"] != vip["id"]
    assert get_contact(cc, tenant, b["id"]).json()["tags"] == []


# ---- lookup ----------------------------------------------------------------------

def test_lookup_finds_by_normalised_number(cc, tenant):
    c = create_ok(cc, tenant, name="Caller", phone="+1 (555) 010-9999")
    create_ok(cc, tenant, name="Someone Else", phone="+15550109998")
    t = tenant.admin_token
    for phone in ("+15550109999", "+1 (555) 010-9999", "001 555 010 9999", "+1.555.010.9999"):
        r = lookup(cc, t, phone)
        assert r.status_code == 200, (phone, r.text)
        assert r.json() == get_contact(cc, tenant, c["id"]).json()
    for phone in ("+15550109997", "+155501099990", "+1555010999"):  # no partial matches
        assert_error(lookup(cc, t, phone), 404, "not_found")


def test_lookup_errors(cc, tenant):
    create_ok(cc, tenant, phone="+15550109999")
    t = tenant.admin_token
    assert_error(cc.get(LOOKUP, token=t), 400, "invalid_request", "phone")
    for phone in ("", "abc", "5550109999", "+0123", "+1234567890123456", "+1 555 abc",
                  "0109", "%", "+15550109999' OR '1'='1"):
        assert_error(lookup(cc, t, phone), 400, "invalid_request", "phone")
    assert_error(cc.get(LOOKUP + "?phone=%FF%FE", token=t), 400, "invalid_request", "phone")
    # A number no contact has.
    assert_error(lookup(cc, t, "+4930999999"), 404, "not_found")


def test_lookup_takes_the_plus_as_api_md_writes_it(cc, tenant):
    # API.md: "GET /contacts/lookup?phone=+1...": a screen pop that puts the caller's
    # number into the URL as it is (no %2B) must find the contact.
    c = create_ok(cc, tenant, phone="+15550108888")
    r = cc.get(LOOKUP + "?phone=+15550108888", token=tenant.admin_token)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == c["id"]


def test_lookup_best_match_is_the_most_recently_updated_then_the_highest_id(cc, tenant):
    phone = "+15550100001"
    a = create_ok(cc, tenant, name="First", phone=phone)
    b = create_ok(cc, tenant, name="Second", phone="0015550100001")
    t = tenant.admin_token
    # Same updated_at: the highest id.
    db_exec(cc, "UPDATE contacts SET updated_at = '2025-01-01 00:00:00' WHERE id IN (%s, %s)",
            (a["id"], b["id"]))
    assert lookup(cc, t, phone).json()["id"] == b["id"]
    # The other one updated now: it wins.
    patch_ok(cc, tenant, a["id"], {"notes": "called again"})
    got = lookup(cc, t, phone).json()
    assert (got["id"], got["notes"]) == (a["id"], "called again")
    # Updating b (PUT tags counts as an update) makes it the best again.
    db_exec(cc, "UPDATE contacts SET updated_at = '2025-01-02 00:00:00' WHERE id = %s",
            (a["id"],))
    tag_ok(cc, tenant, "seen")
    assert put_tags(cc, t, b["id"], ["seen"]).status_code == 200
    assert lookup(cc, t, phone).json()["id"] == b["id"]
    # The winner's number changed: the other one is found.
    patch_ok(cc, tenant, b["id"], {"phone": "+15550100002"})
    assert lookup(cc, t, phone).json()["id"] == a["id"]
    assert lookup(cc, t, "+15550100002").json()["id"] == b["id"]
    # Deleted: gone from the lookup.
    assert cc.delete(f"{CONTACTS}/{a['id']}", token=t).status_code == 204
    assert_error(lookup(cc, t, phone), 404, "not_found")


# ---- concurrency -------------------------------------------------------------------

def test_concurrent_patches_leave_the_terms_of_the_final_contact(cc, tenant):
    c = create_ok(cc, tenant, name="Start Name", phone="+15550100000")
    t = tenant.admin_token
    bodies = [{"name": f"Alpha{i} Person", "phone": f"+1555011{i:04d}"} for i in range(12)] + \
             [{"name": f"Beta{i} Person", "email": f"beta{i}@x.example"} for i in range(12)]

    def send(body):
        return cc.patch(f"{CONTACTS}/{c['id']}", token=t, json=body).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(send, bodies))
    assert codes == [200] * len(bodies)
    final = get_contact(cc, tenant, c["id"]).json()
    # The terms are those of the final contact, whatever order the writers ran in.
    problems = []
    for i in range(12):
        for q, now in ((f"Alpha{i} Person", final["name"]), (f"Beta{i} Person", final["name"]),
                       (f"beta{i}@x.example", final["email"]),
                       (f"+1555011{i:04d}", final["phone"])):
            want = [c["id"]] if q == now else []
            if q_ids(cc, t, q) != want:
                problems.append(f"q={q!r}: want {want} (final {final})")
    for q in ("start", "0100000"):
        if q_ids(cc, t, q):
            problems.append(f"q={q!r} still finds it")
    assert not problems, "\n".join(problems)
    assert len(CONTACT.audit_rows(cc, tenant)) == 1 + len(bodies)


def test_concurrent_tag_writes_and_deletes_never_fail(cc, tenant):
    names = [f"c{i}" for i in range(6)]
    for n in names:
        tag_ok(cc, tenant, n)
    c = create_ok(cc, tenant)
    t = tenant.admin_token
    ids = {x["name"]: x["id"] for x in TAG.listing(cc, t)["data"]}

    def put(i):
        r = put_tags(cc, t, c["id"], names[i % 6:] + names[:i % 3])
        return r.status_code, (r.json().get("tags") if r.status_code == 200 else None)

    def delete(n):
        return TAG.delete(cc, tenant, ids[n]).status_code, None

    with ThreadPoolExecutor(max_workers=6) as pool:
        puts = [pool.submit(put, i) for i in range(24)]
        dels = [pool.submit(delete, n) for n in names[:3]]
        results = [f.result() for f in puts]
        assert [f.result()[0] for f in dels] == [204] * 3
    # A PUT naming a tag being deleted is 200 or (the tag gone) 400; never a 5xx.
    assert all(code in (200, 400) for code, _ in results), results
    final = get_contact(cc, tenant, c["id"]).json()["tags"]
    assert set(final) <= set(names[3:])
    rows = db_rows(cc, "SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id"
                       " WHERE ct.contact_id = %s ORDER BY t.name", (c["id"],))
    assert [r["name"] for r in rows] == final


# ---- tenants ---------------------------------------------------------------------

def test_other_tenants_contacts_and_tags_are_404_never_listed_never_found(cc, tenant, tenant2):
    vip = tag_ok(cc, tenant, "secret-tag")
    c = create_ok(cc, tenant, name="Isolated Person", email="iso@hidden.example",
                  phone="+15550106666", company="Hidden Co", tags=["secret-tag"])
    mine = create_ok(cc, tenant2, name="Own Person")
    t2 = tenant2.admin_token
    url = f"{CONTACTS}/{c['id']}"
    before = state(cc, tenant)
    for r in (cc.get(url, token=t2), cc.patch(url, token=t2, json={"name": "mine now"}),
              cc.patch(url, token=t2, json={}), put_tags(cc, t2, c["id"], []),
              cc.delete(url, token=t2), cc.get(f"{TAGS}/{vip['id']}", token=t2),
              cc.patch(f"{TAGS}/{vip['id']}", token=t2, json={"color": "#000000"}),
              cc.delete(f"{TAGS}/{vip['id']}", token=t2),
              lookup(cc, t2, "+15550106666")):
        assert_error(r, 404, "not_found")
    for query in ("", "?page_size=200", "?q=isolated", "?q=hidden", "?q=0106666",
                  "?q=iso%40hidden.example", "?tag=secret-tag", "?sort=-created_at"):
        ids = [x["id"] for x in listing(cc, t2, query)["data"]]
        assert c["id"] not in ids and set(ids) <= {mine["id"]}, query
    assert listing(cc, t2)["total"] == 1
    assert TAG.listing(cc, t2)["data"] == [] and TAG.listing(cc, t2, "?q=secret")["total"] == 0
    # Its tag name means nothing in the other tenant.
    assert_error(put_tags(cc, t2, mine["id"], ["secret-tag"]), 400, "invalid_request", "tags")
    assert_error(create(cc, tenant2, tags=["secret-tag"]), 400, "invalid_request", "tags")
    assert_error(patch(cc, tenant2, mine["id"], {"tags": ["secret-tag"]}), 400,
                 "invalid_request", "tags")
    assert state(cc, tenant) == before
    assert get_contact(cc, tenant, c["id"]).json() == c
    # The same number in both tenants: each finds its own.
    twin = create_ok(cc, tenant2, name="Twin", phone="+15550106666")
    assert lookup(cc, t2, "+15550106666").json()["id"] == twin["id"]
    assert lookup(cc, tenant.admin_token, "+15550106666").json()["id"] == c["id"]


def test_x_tenant_id_is_ignored_for_tenant_admins(cc, tenant, tenant2):
    c = create_ok(cc, tenant)
    made = CONTACT.create_ignoring_x_tenant_id(cc, tenant, tenant2, c["id"], {"name": "X"})
    assert [x["id"] for x in CONTACT.rows(cc, tenant2)] == [made["id"]]
    assert [x["id"] for x in CONTACT.rows(cc, tenant)] == [c["id"]]


def test_platform_admin_acts_inside_a_tenant_with_x_tenant_id(cc, tenant):
    h = {"X-Tenant-ID": tenant.id}
    r = cc.post(TAGS, token=cc.admin_token(), headers=h, json={"name": "from-platform"})
    assert r.status_code == 201, r.text
    r = cc.post(CONTACTS, token=cc.admin_token(), headers=h,
                json={"name": "By Platform", "tags": ["from-platform"]})
    assert r.status_code == 201, r.text
    assert get_contact(cc, tenant, r.json()["id"]).json()["tags"] == ["from-platform"]


# ---- RBAC ------------------------------------------------------------------------

def test_viewer_reads_but_writes_nothing(cc, tenant):
    tag = tag_ok(cc, tenant, "vip")
    c = create_ok(cc, tenant, name="Read Only", phone="+15550103333", tags=["vip"])
    _, tok = tenant.make_user(roles=["viewer"])
    url = f"{CONTACTS}/{c['id']}"
    assert cc.get(url, token=tok).json() == c
    assert cc.get(CONTACTS + "?q=read", token=tok).json()["total"] == 1
    assert lookup(cc, tok, "+15550103333").json()["id"] == c["id"]
    assert cc.get(TAGS, token=tok).json()["total"] == 1
    assert cc.get(f"{TAGS}/{tag['id']}", token=tok).json() == tag
    before = state(cc, tenant)
    for r in (cc.post(CONTACTS, token=tok, json={"name": "x"}),
              cc.post(CONTACTS, token=tok, json={"name": ""}),          # 403 before 400
              cc.patch(url, token=tok, json={"name": "x"}),
              cc.patch(f"{CONTACTS}/999999999", token=tok, json={"name": "x"}),
              put_tags(cc, tok, c["id"], []), cc.delete(url, token=tok),
              cc.post(TAGS, token=tok, json={"name": "x"}),
              cc.patch(f"{TAGS}/{tag['id']}", token=tok, json={"name": "y"}),
              cc.delete(f"{TAGS}/{tag['id']}", token=tok)):
        assert_error(r, 403, "forbidden")
    assert state(cc, tenant) == before


def test_agent_writes_contacts_but_not_tags(cc, tenant):
    tag = tag_ok(cc, tenant, "vip")
    _, tok = tenant.make_user(roles=["agent"])
    r = cc.post(CONTACTS, token=tok, json={"name": "By Agent", "tags": ["vip"]})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    assert cc.patch(f"{CONTACTS}/{cid}", token=tok, json={"notes": "n"}).status_code == 200
    assert put_tags(cc, tok, cid, []).status_code == 200
    before = state(cc, tenant)
    for r in (cc.post(TAGS, token=tok, json={"name": "x"}),
              cc.post(TAGS, token=tok, json={"name": ""}),
              cc.patch(f"{TAGS}/{tag['id']}", token=tok, json={"color": "#000000"}),
              cc.delete(f"{TAGS}/{tag['id']}", token=tok)):
        assert_error(r, 403, "forbidden")
    assert state(cc, tenant) == before
    assert cc.delete(f"{CONTACTS}/{cid}", token=tok).status_code == 204


def test_each_permission_alone(cc, tenant):
    tag = tag_ok(cc, tenant, "vip")
    c = create_ok(cc, tenant, phone="+15550102222")
    url = f"{CONTACTS}/{c['id']}"
    tags_only = token_with_permissions(cc, tenant, "tagsonly", ["tags.manage"])
    write_only = token_with_permissions(cc, tenant, "cwonly", ["contacts.write"])
    nothing = token_with_permissions(cc, tenant, "nocontacts", ["dids.read"])
    reads = [lambda tok: cc.get(CONTACTS, token=tok), lambda tok: cc.get(url, token=tok),
             lambda tok: lookup(cc, tok, "+15550102222"), lambda tok: cc.get(TAGS, token=tok),
             lambda tok: cc.get(f"{TAGS}/{tag['id']}", token=tok)]
    for tok in (tags_only, write_only, nothing):
        for read in reads:
            assert_error(read(tok), 403, "forbidden")
    for tok in (tags_only, nothing):
        assert_error(cc.post(CONTACTS, token=tok, json={"name": "x"}), 403, "forbidden")
        assert_error(cc.patch(url, token=tok, json={"name": "x"}), 403, "forbidden")
        assert_error(put_tags(cc, tok, c["id"], ["vip"]), 403, "forbidden")
        assert_error(cc.delete(url, token=tok), 403, "forbidden")
    for tok in (write_only, nothing):
        assert_error(cc.post(TAGS, token=tok, json={"name": "x"}), 403, "forbidden")
    # tags.manage alone is enough for tag writes.
    r = cc.post(TAGS, token=tags_only, json={"name": "made by manager"})
    assert r.status_code == 201, r.text
    r = cc.patch(f"{TAGS}/{r.json()['id']}", token=tags_only, json={"color": "#123456"})
    assert r.status_code == 200, r.text
    assert cc.delete(f"{TAGS}/{r.json()['id']}", token=tags_only).status_code == 204


# ---- audit and events ------------------------------------------------------------

def test_each_contact_mutation_writes_one_audit_entry_and_one_event(cc, tenant):
    tag_ok(cc, tenant, "vip")
    c = create_ok(cc, tenant, **FULL)
    sid = str(c["id"])
    (a,) = CONTACT.audit_rows(cc, tenant)
    assert (a["action"], a["entity_type"], a["entity_id"]) == ("contact.create", "contact",
                                                               sid)
    assert a["actor_id"] == tenant.admin_user_id
    (e,) = CONTACT.event_rows(cc, tenant)
    assert (e["type"], e["entity_type"], e["entity_id"]) == ("contact.created", "contact", sid)
    assert e["data"]["id"] == c["id"] and e["data"]["name"] == c["name"]

    p = patch_ok(cc, tenant, c["id"], {"company": "New Co"})
    a, e = CONTACT.nth_change(cc, tenant, 2, "update", sid)
    assert e["data"]["company"] == "New Co"

    r = put_tags(cc, tenant.admin_token, c["id"], ["vip"])
    assert r.status_code == 200
    audits, events = CONTACT.audit_rows(cc, tenant), CONTACT.event_rows(cc, tenant)
    assert len(audits) == 3 and len(events) == 3
    assert audits[2]["action"].startswith("contact.") and audits[2]["entity_id"] == sid
    assert (events[2]["type"], events[2]["entity_id"]) == ("contact.updated", sid)
    assert events[2]["data"]["tags"] == ["vip"]

    assert cc.delete(f"{CONTACTS}/{c['id']}", token=tenant.admin_token).status_code == 204
    a, e = CONTACT.nth_change(cc, tenant, 4, "delete", sid)
    assert e["data"]["id"] == c["id"]
    assert p["id"] == c["id"]
    r = cc.get(f"/api/v1/audit-logs?entity_type=contact&entity_id={sid}",
               token=tenant.admin_token)
    assert r.status_code == 200 and len(r.json()["data"]) == 4


def test_each_tag_mutation_writes_one_audit_entry_and_one_event(cc, tenant):
    t = tag_ok(cc, tenant, "audited", color="#010203")
    sid = str(t["id"])
    a, e = TAG.nth_change(cc, tenant, 1, "create", sid)
    assert a["actor_id"] == tenant.admin_user_id
    assert e["data"]["name"] == "audited"
    TAG.patch_ok(cc, tenant, t["id"], {"name": "audited-2"})
    a, e = TAG.nth_change(cc, tenant, 2, "update", sid)
    assert e["data"]["name"] == "audited-2"
    assert TAG.delete(cc, tenant, t["id"]).status_code == 204
    TAG.nth_change(cc, tenant, 3, "delete", sid)
    TAG.assert_audit_api_lists(cc, tenant, sid, ["create", "update", "delete"])


def test_failed_mutations_write_no_audit_or_event(cc, tenant, tenant2):
    tag_ok(cc, tenant, "dup")
    c = create_ok(cc, tenant)
    before = state(cc, tenant)
    t = tenant.admin_token
    assert_error(TAG.create(cc, tenant, name="DUP"), 409, "conflict")
    assert_error(create(cc, tenant, tags=["missing"]), 400, "invalid_request")
    assert_error(create(cc, tenant, phone="123"), 400, "invalid_request")
    assert_error(patch(cc, tenant, c["id"], {"custom_fields": nested(9)}), 400,
                 "invalid_request")
    assert_error(put_tags(cc, t, c["id"], ["missing"]), 400, "invalid_request")
    assert_error(cc.patch(f"{TAGS}/999999999", token=t, json={"name": "x"}), 404,
                 "not_found")
    assert state(cc, tenant) == before


# ---- the OpenAPI document ----------------------------------------------------------

def test_answers_match_the_openapi_document(cc, tenant):
    check = openapi_checker(cc)
    t = tenant.admin_token
    _, viewer = tenant.make_user(roles=["viewer"])
    tag = check(cc.post(TAGS, token=t, json={"name": "doc"}), "POST", TAGS, 201)
    check(cc.post(TAGS, token=t, json={"name": "DOC"}), "POST", TAGS, 409, "conflict")
    check(cc.post(TAGS, token=t, json={"name": ""}), "POST", TAGS, 400, "invalid_request")
    check(cc.post(TAGS, token=viewer, json={"name": "x"}), "POST", TAGS, 403, "forbidden")
    check(cc.get(TAGS, token=t), "GET", TAGS, 200)
    created = check(cc.post(CONTACTS, token=t, json={**FULL, "tags": ["doc"]}), "POST",
                    CONTACTS, 201)
    check(cc.post(CONTACTS, token=t, json={"name": "x", "phone": "1"}), "POST", CONTACTS, 400,
          "invalid_request")
    check(cc.post(CONTACTS, token=viewer, json={"name": "x"}), "POST", CONTACTS, 403,
          "forbidden")
    CONTACT.check_answers(check, cc, t, created["id"], {"notes": "n"})
    tags_path = CONTACTS + "/{id}/tags"
    check(put_tags(cc, t, created["id"], ["doc"]), "PUT", tags_path, 200)
    check(put_tags(cc, t, created["id"], ["nope"]), "PUT", tags_path, 400, "invalid_request")
    check(put_tags(cc, t, 999999999, []), "PUT", tags_path, 404, "not_found")
    check(lookup(cc, t, FULL["phone"]), "GET", LOOKUP, 200)
    check(lookup(cc, t, "+4930000001"), "GET", LOOKUP, 404, "not_found")
    check(lookup(cc, t, "x"), "GET", LOOKUP, 400, "invalid_request")
    TAG.check_answers(check, cc, t, tag["id"], {"color": "#000000"})
    CONTACT.check_deleted(check, cc, t, created["id"])
    TAG.check_deleted(check, cc, t, tag["id"])


def test_concurrent_creates_with_terms_and_tags_all_succeed(cc, tenant):
    """Creates of many contacts at once (an import): each writes its search terms and
    tags without clearing first, so none waits on another's gap lock; every one is 201,
    none takes the retries' last 503."""
    tag_ok(cc, tenant, "imported")
    t = tenant.admin_token

    def make(i):
        return cc.post(CONTACTS, token=t,
                       json={"name": f"Import {i} {secrets.token_hex(3)}",
                             "email": f"imp{i}@import.example", "tags": ["imported"],
                             "phone": f"+1555{secrets.randbelow(10**7):07d}"})

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(make, range(80)))
    assert [r.status_code for r in answers] == [201] * 80, \
        [r.text for r in answers if r.status_code != 201][:3]
    page = cc.get(CONTACTS + "?tag=imported&page_size=200", token=t).json()
    assert page["total"] == 80
    assert "CC00108" not in "\n".join(cc.read_new_log_lines())
