"""API.md "Contact timeline" (issue 13 item 7): GET /api/v1/contacts/{id}/timeline and the
ticket's `source` (POST /tickets with cdr_id or voicemail_id).

Every source is seeded the way it arrives in production: CDRs as cdr_adaptive_odbc
inserts them (tenantid, else accountcode; src/dst as Asterisk wrote them, E.164 or its
digits without '+'), SMS through the API (outbound via the fake provider, inbound via the
signed provider callback), voicemails ingested from app_voicemail's spool (callerid
"Name" <+1...>), tickets through the API, chats through the public visitor API (the
visitor's email is the contact's).  The rows made "now" through the API are then moved
to the time a test needs (created_at), so ties and order are deterministic.
"""

import calendar
import hashlib
import re
import secrets
from datetime import datetime, timedelta

import pytest

from cchelpers import assert_error, db_exec, db_rows, insert_cdr
from ccobjects import (CHAT_WIDGETS, make_mailbox, new_number, start_chat_ok,
                       token_with_permissions, write_recording_file, write_voicemail)
from fakesms import FakeSmsProvider

CONTACTS = "/api/v1/contacts"
TICKETS = "/api/v1/tickets"
SMS = "/api/v1/sms"
ROTATE = "/api/v1/sms/settings/rotate-secret"
INBOUND = "/api/v1/hooks/sms/inbound"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ITEM_KEYS = {"type", "id", "at", "summary"}
TYPES = ("call", "sms", "voicemail", "ticket", "chat")
READ_PERMS = {"call": "cdrs.read", "sms": "sms.read", "voicemail": "voicemails.read",
              "ticket": "tickets.read", "chat": "chat.read"}
BASE = datetime(2026, 11, 2, 8, 0, 0)


@pytest.fixture(scope="module")
def provider(cc):
    """The fake SMS provider the delivery job sends outbound messages to."""
    p = FakeSmsProvider(cc.sms_provider_port)
    yield p
    p.close()


def rfc(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def timeline_path(cid):
    return f"{CONTACTS}/{cid}/timeline"


def make_contact(cc, tenant, phone="new", email="new", name=None):
    body = {"name": name or f"Contact {secrets.token_hex(3)}",
            "phone": new_number() if phone == "new" else phone,
            "email": (f"c-{secrets.token_hex(5)}@example.org" if email == "new" else email)}
    r = cc.post(CONTACTS, token=tenant.admin_token, json=body)
    assert r.status_code == 201, r.text
    return r.json()


class Seed:
    """Rows of each source for one tenant, each at a given time; every method returns
    the (type, id) the timeline lists it as."""

    def __init__(self, cc, tenant, provider=None):
        self.cc, self.tenant, self.provider = cc, tenant, provider
        self._did = self._secret = self._mailbox = self._widget = None
        self._num = 0
        self.summaries = {}     # (type, id) -> substrings its summary shows

    # ---- shared per-tenant things, made on first use ----
    def did(self):
        if self._did is None:
            self._did = new_number()
            r = self.cc.post("/api/v1/dids", token=self.tenant.admin_token,
                             json={"number": self._did})
            assert r.status_code == 201, r.text
        return self._did

    def secret(self):
        if self._secret is None:
            r = self.cc.post(ROTATE, token=self.tenant.admin_token)
            assert r.status_code == 200, r.text
            self._secret = r.json()["secret"]
        return self._secret

    def mailbox(self):
        if self._mailbox is None:
            self._mailbox = make_mailbox(self.cc, self.tenant)
        return self._mailbox

    def widget_key(self):
        if self._widget is None:
            self._widget = CHAT_WIDGETS.create_ok(self.cc, self.tenant)["public_key"]
        return self._widget

    def _at(self, table, oid, at):
        db_exec(self.cc, f"UPDATE {table} SET created_at = %s WHERE tenant_id = %s"
                         " AND id = %s", (at, self.tenant.id, oid))

    # ---- the sources ----
    def call(self, at, src, dst, tenantid="own", **kw):
        """A CDR as cdr_adaptive_odbc writes it (tenantid the tenant's unless given)."""
        cid = insert_cdr(self.cc, tenantid=self.tenant.id if tenantid == "own" else tenantid,
                         start=at, src=src, dst=dst, clid=f'"Caller" <{src}>', **kw)
        self.summaries[("call", cid)] = [src, dst]
        return ("call", cid)

    def sms_out(self, at, to, body=None):
        body = body or f"Out {secrets.token_hex(3)}"
        r = self.cc.post(SMS, token=self.tenant.admin_token,
                         json={"from": self.did(), "to": to, "body": body})
        assert r.status_code == 202, r.text
        mid = r.json()["id"]
        self._at("sms_messages", mid, at)
        self.summaries[("sms", mid)] = [to, body]
        return ("sms", mid)

    def sms_in(self, at, sender, body=None):
        """An inbound message through the provider's signed callback."""
        import hmac
        import json
        import time

        body = body or f"In {secrets.token_hex(3)}"
        raw = json.dumps({"message_id": "in-" + secrets.token_hex(8), "from": sender,
                          "to": self.did(), "body": body}).encode()
        ts = str(int(time.time()))
        mac = hmac.new(self.secret().encode(), ts.encode() + b"." + raw,
                       hashlib.sha256).hexdigest()
        r = self.cc.post(INBOUND, data=raw,
                         headers={"Content-Type": "application/json", "X-CC-Timestamp": ts,
                                  "X-CC-Signature": "v1=" + mac})
        assert r.status_code == 200, r.text
        mid = r.json()["id"]
        self._at("sms_messages", mid, at)
        self.summaries[("sms", mid)] = [sender, body]
        return ("sms", mid)

    def voicemail(self, at, number, name="Caller", callerid=None):
        """A message app_voicemail left in the spool (callerid "Name" <number> unless
        given), ingested; created_at is its origtime."""
        self._num += 1
        path, _ = write_voicemail(self.cc, self.tenant, self.mailbox(), num=self._num,
                                  callerid=(f'"{name}" <{number}>' if callerid is None
                                            else callerid),
                                  origtime=calendar.timegm(at.utctimetuple()))
        r = self.cc.post("/api/v1/voicemails", token=self.tenant.admin_token,
                         json={"path": path, "format": "wav"})
        assert r.status_code == 201, r.text
        vm = r.json()
        assert vm["created_at"] == rfc(at)
        self.summaries[("voicemail", vm["id"])] = [self.mailbox()]
        return ("voicemail", vm["id"])

    def ticket(self, at, contact_id, subject=None, **fields):
        subject = subject or f"Subject {secrets.token_hex(3)}"
        r = self.cc.post(TICKETS, token=self.tenant.admin_token,
                         json={"subject": subject, "contact_id": contact_id, **fields})
        assert r.status_code == 201, r.text
        t = r.json()
        self._at("tickets", t["id"], at)
        self.summaries[("ticket", t["id"])] = [f"#{t['number']}", subject]
        return ("ticket", t["id"])

    def chat(self, at, email, name="Visitor"):
        s = start_chat_ok(self.cc, self.widget_key(), body={"name": name, "email": email})
        self._at("chat_sessions", s["session_id"], at)
        self.summaries[("chat", s["session_id"])] = ["Chat"]
        return ("chat", s["session_id"])


def timeline(cc, token, cid, **params):
    r = cc.get(timeline_path(cid), token=token, params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"data", "next_cursor"}, body
    for item in body["data"]:
        assert set(item) == ITEM_KEYS, item
        assert item["type"] in TYPES and isinstance(item["id"], int), item
        assert RFC3339.match(item["at"]), item
        assert isinstance(item["summary"], str) and item["summary"], item
    return body


def keys(items):
    return [(i["type"], i["id"]) for i in items]


def walk(cc, token, cid, page_size):
    """Every page of the timeline through its cursors: the items in order.  Every page
    but the last is full; the last one ends the walk with next_cursor null."""
    out, after, pages = [], None, 0
    while True:
        params = {"page_size": page_size}
        if after is not None:
            params["after"] = after
        body = timeline(cc, token, cid, **params)
        pages += 1
        assert pages < 200
        out += body["data"]
        after = body["next_cursor"]
        if after is None:
            assert body["data"] or pages == 1, "an empty last page"
            return out
        assert len(body["data"]) == page_size, body


def full(cc, token, cid):
    body = timeline(cc, token, cid, page_size=100)
    assert body["next_cursor"] is None
    return body["data"]


# ---- order and shape -------------------------------------------------------------------

def test_newest_first_across_the_five_types(cc, tenant, provider):
    c = make_contact(cc, tenant)
    phone, digits = c["phone"], c["phone"][1:]
    s = Seed(cc, tenant, provider)
    m = lambda n: BASE + timedelta(minutes=n)   # noqa: E731
    want = [s.chat(m(9), c["email"], name=c["name"]),
            s.call(m(8), "1001", digits, did=None, direction="outbound"),
            s.ticket(m(7), c["id"], "Printer on fire"),
            s.sms_out(m(6), phone, "Your ticket is solved"),
            s.voicemail(m(5), phone, c["name"]),
            s.sms_in(m(4), phone, "Hello, it is me"),
            s.call(m(3), phone, "1002", disposition="NO ANSWER", billsec=0),
            s.ticket(m(2), c["id"]),
            s.call(m(1), digits, "1003"),
            s.chat(m(0), c["email"])]
    body = timeline(cc, tenant.admin_token, c["id"])
    assert body["next_cursor"] is None
    assert keys(body["data"]) == want
    assert [i["at"] for i in body["data"]] == [rfc(m(n)) for n in range(9, -1, -1)]
    for item in body["data"]:
        for part in s.summaries[(item["type"], item["id"])]:
            assert part in item["summary"], (part, item)
    # The ids are the objects' own: each reads through its API.
    paths = {"call": "/api/v1/cdrs", "sms": SMS, "voicemail": "/api/v1/voicemails",
             "ticket": TICKETS, "chat": "/api/v1/chat/sessions"}
    for typ, oid in want:
        r = cc.get(f"{paths[typ]}/{oid}", token=tenant.admin_token)
        assert r.status_code == 200, (typ, oid, r.text)
    # The default page holds them all (20); page_size 100 is allowed, 1 too.
    assert keys(full(cc, tenant.admin_token, c["id"])) == want
    one = timeline(cc, tenant.admin_token, c["id"], page_size=1)
    assert keys(one["data"]) == want[:1] and one["next_cursor"]


def test_equal_times_page_without_loss_or_duplicate(cc, tenant, provider):
    c = make_contact(cc, tenant)
    phone, digits = c["phone"], c["phone"][1:]
    s = Seed(cc, tenant, provider)
    t = BASE + timedelta(hours=1)
    made = []
    # Rows of every type in three neighbouring seconds, 19 of them in one second.
    for at in (t, t - timedelta(seconds=1), t + timedelta(seconds=1)):
        made += [s.call(at, phone, "1001"), s.call(at, "1002", digits),
                 s.sms_in(at, phone), s.voicemail(at, phone), s.ticket(at, c["id"]),
                 s.chat(at, c["email"])]
    for _ in range(2):
        made += [s.call(t, digits, "1003"), s.sms_out(t, phone), s.voicemail(t, phone),
                 s.ticket(t, c["id"]), s.chat(t, c["email"])]
    made.append(s.call(t, "1004", phone))
    # Chats made now carry microseconds: they are at the second they began in.
    for frac in (300000, 700000):
        chat = s.chat(t, c["email"])
        db_exec(cc, "UPDATE chat_sessions SET created_at = %s WHERE id = %s",
                (t + timedelta(microseconds=frac), chat[1]))
        made.append(chat)
    assert len(made) == 31
    everything = full(cc, tenant.admin_token, c["id"])
    got = keys(everything)
    assert sorted(got) == sorted(made) and len(set(got)) == len(got)
    ats = [i["at"] for i in everything]
    assert ats == sorted(ats, reverse=True)
    assert ats.count(rfc(t)) == 6 + 10 + 1 + 2
    # The same order again, and walked a page at a time with any page size.
    assert keys(full(cc, tenant.admin_token, c["id"])) == got
    for size in (1, 2, 3, 7, 31, 32):
        assert keys(walk(cc, tenant.admin_token, c["id"], size)) == got, size
    # The default page size is 20.
    first = timeline(cc, tenant.admin_token, c["id"])
    assert keys(first["data"]) == got[:20] and first["next_cursor"]
    assert len(got) == 31
    rest = timeline(cc, tenant.admin_token, c["id"], after=first["next_cursor"])
    assert keys(rest["data"]) == got[20:] and rest["next_cursor"] is None


def test_a_row_added_while_walking_is_not_a_duplicate(cc, tenant):
    c = make_contact(cc, tenant)
    s = Seed(cc, tenant)
    t = BASE + timedelta(hours=2)
    made = [s.call(t, c["phone"], str(1000 + i)) for i in range(4)]
    page = timeline(cc, tenant.admin_token, c["id"], page_size=2)
    # Newer than the cursor (a new call) and at its very time (a late CDR of a lower id
    # cannot exist, a higher one sorts first): neither comes back on later pages.
    s.call(t + timedelta(minutes=1), c["phone"], "1009")
    s.call(t, c["phone"], "1010")
    rest = timeline(cc, tenant.admin_token, c["id"], page_size=10, after=page["next_cursor"])
    seen = keys(page["data"]) + keys(rest["data"])
    assert len(set(seen)) == len(seen)
    assert set(made) <= set(seen)


# ---- what is the contact's -------------------------------------------------------------

def test_calls_match_the_number_in_e164_or_digits_in_src_or_dst(cc, tenant, tenant2):
    c = make_contact(cc, tenant)
    phone, digits = c["phone"], c["phone"][1:]
    other = new_number()
    s = Seed(cc, tenant)
    m = lambda n: BASE + timedelta(minutes=n)   # noqa: E731
    mine = [s.call(m(1), phone, "1001"),
            s.call(m(2), digits, "1002"),
            s.call(m(3), "1003", phone),
            s.call(m(4), "1004", digits),
            # A call from the number to itself, in any spelling: listed once.
            s.call(m(5), phone, phone),
            s.call(m(6), phone, digits),
            s.call(m(7), digits, phone),
            s.call(m(8), digits, digits),
            # The tenant is the accountcode when tenantid is empty (cdr_adaptive_odbc
            # leaves an unset CDR variable out of the INSERT).
            s.call(m(9), phone, "1005", tenantid=None, accountcode=tenant.id)]
    # Not the contact's: other numbers, look-alikes, the number only in clid, another
    # tenant's and nobody's rows.
    s.call(m(10), other, "1001")
    s.call(m(11), "1001", other[1:])
    s.call(m(12), phone + "9", "1001")
    s.call(m(13), "1001", digits[1:])
    s.call(m(14), "0" + digits, "1001")
    s.call(m(15), "1001", "+" + phone)
    insert_cdr(cc, tenantid=tenant.id, start=m(16), src="1001", dst="1002",
               clid=f'"{c["name"]}" <{phone}>')
    s.call(m(17), phone, digits, tenantid=tenant2.id)
    s.call(m(18), phone, "1001", tenantid=None)
    s.call(m(19), digits, "1001", tenantid=tenant2.id, accountcode=tenant.id)
    got = keys(full(cc, tenant.admin_token, c["id"]))
    assert got == mine[::-1]
    for item in full(cc, tenant.admin_token, c["id"]):
        assert item["type"] == "call"
        assert item["summary"].startswith("Call ")


def test_voicemails_match_the_callers_number_as_app_voicemail_wrote_it(cc, tenant):
    c = make_contact(cc, tenant)
    phone, digits = c["phone"], c["phone"][1:]
    s = Seed(cc, tenant)
    m = lambda n: BASE + timedelta(minutes=n)   # noqa: E731
    mine = []
    for n, callerid in enumerate([f'"{c["name"]}" <{phone}>', f'"Someone" <{digits}>',
                                  f"<{phone}>", phone, digits, f"Unquoted <{phone}>"]):
        mine.append(s.voicemail(m(n), phone, callerid=callerid))
    for n, callerid in enumerate(['"Unknown" <Unknown>', "Unknown", "",
                                  f'"{phone}" <{new_number()}>', f'"x" <{phone}9>']):
        s.voicemail(m(10 + n), phone, callerid=callerid)
    assert keys(full(cc, tenant.admin_token, c["id"])) == mine[::-1]


def test_other_contacts_rows_are_not_listed(cc, tenant, provider):
    a, b = make_contact(cc, tenant), make_contact(cc, tenant)
    s = Seed(cc, tenant, provider)
    per = {}
    for n, who in enumerate((a, b)):
        at = BASE + timedelta(hours=3, minutes=10 * n)
        per[who["id"]] = [s.call(at, who["phone"], "1001"),
                          s.sms_in(at + timedelta(minutes=1), who["phone"]),
                          s.sms_out(at + timedelta(minutes=2), who["phone"]),
                          s.voicemail(at + timedelta(minutes=3), who["phone"]),
                          s.ticket(at + timedelta(minutes=4), who["id"]),
                          s.chat(at + timedelta(minutes=5), who["email"])]
    # Nobody's: a ticket without a contact, a chat without an email or with another,
    # a voicemail without caller id number, an SMS to another number.
    s.ticket(BASE + timedelta(hours=3), None)
    s.chat(BASE + timedelta(hours=3), None)
    s.chat(BASE + timedelta(hours=3), "someone-else@example.org")
    s.voicemail(BASE + timedelta(hours=3), new_number())
    s.sms_out(BASE + timedelta(hours=3), new_number())
    for who in (a, b):
        got = keys(full(cc, tenant.admin_token, who["id"]))
        assert got == per[who["id"]][::-1], who
    # A ticket given to the other contact moves with it.
    moved = per[a["id"]][4]
    r = cc.patch(f"{TICKETS}/{moved[1]}", token=tenant.admin_token,
                 json={"contact_id": b["id"]})
    assert r.status_code == 200, r.text
    assert moved not in keys(full(cc, tenant.admin_token, a["id"]))
    assert moved in keys(full(cc, tenant.admin_token, b["id"]))


def test_a_contact_without_phone_or_email(cc, tenant):
    c = make_contact(cc, tenant, phone=None, email=None)
    s = Seed(cc, tenant)
    # Rows with empty or missing numbers and emails are nobody's.
    s.call(BASE, "", "")
    insert_cdr(cc, tenantid=tenant.id, start=BASE, src=None, dst=None, clid=None)
    s.chat(BASE, None)
    t = s.ticket(BASE, c["id"])
    assert keys(full(cc, tenant.admin_token, c["id"])) == [t]


def test_another_tenants_contact_is_404_and_its_rows_never_listed(cc, tenant, tenant2,
                                                                   provider):
    c = make_contact(cc, tenant)
    twin = make_contact(cc, tenant2, phone=c["phone"], email=c["email"])
    mine, theirs = Seed(cc, tenant, provider), Seed(cc, tenant2, provider)
    made = {}
    for seed, who, key in ((mine, c, "mine"), (theirs, twin, "theirs")):
        at = BASE + timedelta(hours=4)
        made[key] = [seed.call(at, who["phone"], "1001"),
                     seed.call(at, "1001", who["phone"][1:]),
                     seed.sms_in(at, who["phone"]), seed.sms_out(at, who["phone"]),
                     seed.voicemail(at, who["phone"]), seed.ticket(at, who["id"]),
                     seed.chat(at, who["email"])]
    assert sorted(keys(full(cc, tenant.admin_token, c["id"]))) == sorted(made["mine"])
    assert sorted(keys(full(cc, tenant2.admin_token, twin["id"]))) == sorted(made["theirs"])
    # tenant2's contact does not exist for tenant (X-Tenant-ID is ignored for a tenant
    # admin), nor does a deleted or unknown one.
    for headers in (None, {"X-Tenant-ID": tenant2.id}):
        r = cc.get(timeline_path(twin["id"]), token=tenant.admin_token, headers=headers)
        assert_error(r, 404, "not_found")
    assert_error(cc.get(timeline_path(999999999), token=tenant.admin_token), 404,
                 "not_found")
    gone = make_contact(cc, tenant, phone=c["phone"], email=c["email"])
    assert cc.delete(f"{CONTACTS}/{gone['id']}", token=tenant.admin_token).status_code == 204
    assert_error(cc.get(timeline_path(gone["id"]), token=tenant.admin_token), 404,
                 "not_found")
    # The platform admin reads a tenant's timeline through X-Tenant-ID.
    r = cc.get(timeline_path(twin["id"]), token=cc.admin_token(),
               headers={"X-Tenant-ID": tenant2.id})
    assert r.status_code == 200, r.text
    assert sorted(keys(r.json()["data"])) == sorted(made["theirs"])


# ---- permissions -----------------------------------------------------------------------

def test_a_source_the_caller_may_not_read_is_left_out(cc, tenant, provider):
    c = make_contact(cc, tenant)
    s = Seed(cc, tenant, provider)
    made = []
    for n in range(2):
        at = BASE + timedelta(hours=5, minutes=n)
        made += [s.call(at, c["phone"], "1001"), s.sms_in(at, c["phone"]),
                 s.voicemail(at, c["phone"]), s.ticket(at, c["id"]),
                 s.chat(at, c["email"])]
    everything = keys(full(cc, tenant.admin_token, c["id"]))
    assert sorted(everything) == sorted(made)
    for typ, perm in READ_PERMS.items():
        others = [p for p in READ_PERMS.values() if p != perm]
        token = token_with_permissions(cc, tenant, "tl", ["contacts.read"] + others)
        want = [k for k in everything if k[0] != typ]
        assert keys(full(cc, token, c["id"])) == want, typ
        assert keys(walk(cc, token, c["id"], 3)) == want, typ
    # contacts.read alone: nothing to show.
    token = token_with_permissions(cc, tenant, "tl", ["contacts.read"])
    assert timeline(cc, token, c["id"]) == {"data": [], "next_cursor": None}
    # Every source but not contacts.read: 403, also for an unknown contact.
    token = token_with_permissions(cc, tenant, "tl", list(READ_PERMS.values()))
    assert_error(cc.get(timeline_path(c["id"]), token=token), 403, "forbidden")
    assert_error(cc.get(timeline_path(999999999), token=token), 403, "forbidden")
    # The built-in read-only role and an agent see everything.
    for role in ("viewer", "agent"):
        token = tenant.make_user(roles=[role])[1]
        assert keys(full(cc, token, c["id"])) == everything, role
    r = cc.get(timeline_path(c["id"]))
    assert_error(r, 401, "unauthorized")


# ---- bad queries -----------------------------------------------------------------------

@pytest.mark.parametrize("value", ["0", "101", "x", "-1", "1.5", "", "20x"])
def test_bad_page_size_is_400(cc, tenant, value):
    c = make_contact(cc, tenant)
    r = cc.get(timeline_path(c["id"]) + f"?page_size={value}", token=tenant.admin_token)
    assert_error(r, 400, "invalid_request", "page_size")


def test_bad_cursors_are_400(cc, tenant, tenant2):
    c, d = make_contact(cc, tenant), make_contact(cc, tenant)
    s = Seed(cc, tenant)
    for n in range(3):
        s.call(BASE + timedelta(minutes=n), c["phone"], "1001")
        s.call(BASE + timedelta(minutes=n), d["phone"], "1001")
    good = timeline(cc, tenant.admin_token, c["id"], page_size=1)["next_cursor"]
    other = timeline(cc, tenant.admin_token, d["id"], page_size=1)["next_cursor"]
    assert good and other
    assert timeline(cc, tenant.admin_token, c["id"], after=good)["data"]
    # tenant2's contact of the same id does not exist; its own cursor is not c's.
    twin = make_contact(cc, tenant2, phone=c["phone"])
    Seed(cc, tenant2).call(BASE, c["phone"], "1001")
    Seed(cc, tenant2).call(BASE, c["phone"], "1002")
    theirs = timeline(cc, tenant2.admin_token, twin["id"], page_size=1)["next_cursor"]
    cdrs = cc.get("/api/v1/cdrs?page_size=1", token=tenant.admin_token).json()["next_cursor"]
    assert cdrs
    fields = good.split("~")
    assert len(fields) == 5, good
    flip = lambda ch: "0" if ch != "0" else "1"   # noqa: E731
    bad = ["garbage", good[:-1], good + "0", good + "~", "~" + good,
           good[:-1] + flip(good[-1]),
           "~".join(["sms"] + fields[1:]),                       # another type
           "~".join(fields[:3] + [str(int(fields[3]) + 1)] + fields[4:]),  # another id
           "~".join(fields[:2] + ["2030-01-01T00:00:00"] + fields[3:]),    # another time
           "~".join(fields[:1] + ["a"] + fields[2:]),            # ascending
           other, theirs, cdrs, "x" * 5000]
    for value in bad:
        r = cc.get(timeline_path(c["id"]), token=tenant.admin_token, params={"after": value})
        assert_error(r, 400, "invalid_request", "after")
    # Both at fault: both named.
    r = cc.get(timeline_path(c["id"]), token=tenant.admin_token,
               params={"after": "garbage", "page_size": "0"})
    body = assert_error(r, 400, "invalid_request", "after")
    assert "page_size" in [x["field"] for x in body["details"]]


# ---- tickets with a source -------------------------------------------------------------

def post_ticket(cc, tenant, **fields):
    return cc.post(TICKETS, token=tenant.admin_token,
                   json={"subject": f"From a call {secrets.token_hex(3)}", **fields})


def register_recording(cc, tenant, uniqueid):
    rel = f"tl-{secrets.token_hex(4)}.wav"
    write_recording_file(cc, tenant.id, rel)
    r = cc.post("/api/v1/recordings", token=tenant.admin_token,
                json={"cdr_uniqueid": uniqueid, "path": rel, "format": "wav"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_a_ticket_from_a_call_links_its_recording(cc, tenant, tenant2):
    uid = f"{1764662400 + secrets.randbelow(10**6)}.{secrets.randbelow(100)}"
    cdr = insert_cdr(cc, tenantid=tenant.id, uniqueid=uid, src=new_number(), dst="1001")
    rec = register_recording(cc, tenant, uid)
    r = post_ticket(cc, tenant, cdr_id=cdr)
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["source"] == {"type": "call", "cdr_id": cdr, "recording_id": rec}
    assert cc.get(f"{TICKETS}/{t['id']}", token=tenant.admin_token).json() == t
    listed = cc.get(TICKETS, token=tenant.admin_token).json()["data"]
    assert [x["source"] for x in listed if x["id"] == t["id"]] == [t["source"]]
    # The CDR's recording is the one this cdr's call leg has in the tenant: another
    # tenant's recording of the same uniqueid is not it; without one it is null.
    uid2 = f"{1764662400 + secrets.randbelow(10**6)}.{secrets.randbelow(100)}"
    bare = insert_cdr(cc, tenantid=tenant.id, uniqueid=uid2)
    register_recording(cc, tenant2, uid2)
    t2 = post_ticket(cc, tenant, cdr_id=bare)
    assert t2.status_code == 201, t2.text
    assert t2.json()["source"] == {"type": "call", "cdr_id": bare, "recording_id": None}
    # A CDR that is the tenant's by its accountcode.
    by_account = insert_cdr(cc, tenantid=None, accountcode=tenant.id)
    t3 = post_ticket(cc, tenant, cdr_id=by_account)
    assert t3.status_code == 201, t3.text
    assert t3.json()["source"]["cdr_id"] == by_account
    # No source: null.
    plain = post_ticket(cc, tenant)
    assert plain.status_code == 201 and plain.json()["source"] is None
    # A recording registered after the ticket shows up (it is read, not copied).
    later = register_recording(cc, tenant, uid2)
    got = cc.get(f"{TICKETS}/{t2.json()['id']}", token=tenant.admin_token).json()
    assert got["source"] == {"type": "call", "cdr_id": bare, "recording_id": later}


def test_a_ticket_from_a_voicemail(cc, tenant):
    s = Seed(cc, tenant)
    _, vm = s.voicemail(BASE, new_number(), "Vera")
    r = post_ticket(cc, tenant, voicemail_id=vm, channel="phone")
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["source"] == {"type": "voicemail", "voicemail_id": vm}
    assert cc.get(f"{TICKETS}/{t['id']}", token=tenant.admin_token).json() == t
    # The source is a create's only.
    for field, value in (("voicemail_id", vm), ("cdr_id", 1)):
        r = cc.patch(f"{TICKETS}/{t['id']}", token=tenant.admin_token, json={field: value})
        assert_error(r, 400, "invalid_request", field)
    assert cc.get(f"{TICKETS}/{t['id']}", token=tenant.admin_token).json() == t


def test_bad_sources_are_400_and_make_nothing(cc, tenant, tenant2):
    s, other = Seed(cc, tenant), Seed(cc, tenant2)
    _, my_cdr = s.call(BASE, new_number(), "1001")
    _, my_vm = s.voicemail(BASE, new_number())
    _, their_cdr = other.call(BASE, new_number(), "1001")
    _, their_vm = other.voicemail(BASE, new_number())
    nobodys_cdr = insert_cdr(cc, tenantid=None)
    first = post_ticket(cc, tenant)
    assert first.status_code == 201, first.text
    cases = [({"cdr_id": my_cdr, "voicemail_id": my_vm}, "voicemail_id"),
             ({"cdr_id": their_cdr}, "cdr_id"), ({"voicemail_id": their_vm}, "voicemail_id"),
             ({"cdr_id": nobodys_cdr}, "cdr_id"),
             ({"cdr_id": 999999999}, "cdr_id"), ({"voicemail_id": 999999999}, "voicemail_id"),
             ({"cdr_id": 0}, "cdr_id"), ({"cdr_id": -1}, "cdr_id"),
             ({"cdr_id": str(my_cdr)}, "cdr_id"), ({"voicemail_id": None}, "voicemail_id"),
             ({"cdr_id": 1.5}, "cdr_id")]
    for extra, field in cases:
        assert_error(post_ticket(cc, tenant, **extra), 400, "invalid_request", field)
    rows = db_rows(cc, "SELECT id FROM tickets WHERE tenant_id = %s", (tenant.id,))
    assert [r["id"] for r in rows] == [first.json()["id"]]
    # No number was used up by the refused creates.
    nxt = post_ticket(cc, tenant, cdr_id=my_cdr)
    assert nxt.status_code == 201, nxt.text
    assert nxt.json()["number"] == first.json()["number"] + 1
