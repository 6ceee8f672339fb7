"""API.md "Chat (mod_cc_chat)" as built (notes/chat-spec.md): widgets, the public visitor
API under /chat/v1 (Origin, CORS, visitor tokens, rate limits, the visitor's stream),
the agent side (sessions, accept, messages, transfer, close, chat agents), assignment
(at creation, when an agent comes online or gets capacity, when a chat closes, when a
voice state frees an agent, reassign_after) and the chat.* events on the main stream.

The test profile lifts the per-address session budget (CCChatSessionsPerAddress: every
test client is 127.0.0.1) and runs the reassign job every second
(CCChatReassignInterval 1); the rate-limit tests start a second node with the limits
they check.
"""

import re
import secrets
import time
from datetime import datetime, timezone

import pytest
import requests

import cchelpers
from cchelpers import (assert_error, assert_unauthorized, db_exec, db_rows, detail_fields,
                       openapi_checker)
from ccobjects import (CHAT_ORIGIN, CHAT_WIDGETS, LIKE_LOOKALIKES, create_named,
                       field_cases, start_chat, start_chat_ok, token_with_permissions,
                       visitor_headers)
from test_800_events import SSE, drained, poll

WIDGETS = CHAT_WIDGETS.path
SESSIONS = "/api/v1/chat/sessions"
AGENTS = "/api/v1/chat/agents"
V = "/chat/v1"
OTHER_ORIGIN = "http://127.0.0.1:8080"         # a second origin some widgets allow
EVIL = "https://evil.example.net"

# agent_name (the agent's name, or null) is the server's addition to chat-spec.md's list.
SESSION_KEYS = {"id", "widget_id", "status", "agent_id", "agent_name", "visitor", "origin",
                "position", "created_at", "assigned_at", "first_response_at", "closed_at",
                "closed_by", "last_message_at"}
AGENT_KEYS = {"user_id", "name", "status", "max_concurrent", "active_count", "voice_state",
              "last_assigned_at"}
MESSAGE_KEYS = {"id", "session_id", "sender_type", "sender_id", "sender_name", "body",
                "created_at"}
VISITOR_MESSAGE_KEYS = {"id", "sender", "agent_name", "body", "created_at"}
VISITOR_SESSION_KEYS = {"id", "status", "position", "agent", "created_at", "closed_at",
                        "widget"}
CREATED_KEYS = {"session_id", "visitor_token", "status", "position", "expires_at"}


def rfc3339(text):
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", text), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def wait_until(fn, timeout=10.0, step=0.2, what="condition"):
    """fn()'s first truthy value within timeout seconds."""
    v = cchelpers.wait_until(fn, timeout, step)
    assert v, f"{what}: not within {timeout} s"
    return v


def header_set(value):
    """A comma-separated header's items, lowercased."""
    return {x.strip().lower() for x in (value or "").split(",") if x.strip()}


# ---- the desk: a widget, its agents and visitors ----------------------------------------

class Agent:
    """A user of the tenant who takes chats (built-in agent role unless told)."""

    def __init__(self, desk, user, token):
        self.desk, self.cc = desk, desk.cc
        self.user, self.token = user, token
        self.id, self.name = user["id"], user["name"]

    def put(self, body, token=None):
        return self.cc.put(f"{AGENTS}/{self.id}", token=token or self.token, json=body)

    def set(self, status, max_concurrent=None):
        """PUT the chat agent's status (and capacity) as the tenant admin: 200."""
        body = {"status": status}
        if max_concurrent is not None:
            body["max_concurrent"] = max_concurrent
        r = self.put(body, token=self.desk.tenant.admin_token)
        assert r.status_code == 200, r.text
        return r.json()

    def voice(self, state):
        """PUT its own voice state (API.md "Telephony", agent state): 200."""
        r = self.cc.put(f"/api/v1/agents/{self.id}/state", token=self.token,
                        json={"state": state})
        assert r.status_code == 200, r.text
        return r.json()

    def accept(self, sid, **kw):
        return self.cc.post(f"{SESSIONS}/{sid}/accept", token=self.token, **kw)

    def say(self, sid, body="Hello, how can I help?"):
        return self.cc.post(f"{SESSIONS}/{sid}/messages", token=self.token,
                            json={"body": body})

    def transfer(self, sid, to, note=None, **extra):
        body = {"to_agent_id": to, **extra}
        if note is not None:
            body["note"] = note
        return self.cc.post(f"{SESSIONS}/{sid}/transfer", token=self.token, json=body)

    def close(self, sid):
        return self.cc.post(f"{SESSIONS}/{sid}/close", token=self.token)

    def info(self):
        r = self.cc.get(f"{AGENTS}/{self.id}", token=self.desk.tenant.admin_token)
        assert r.status_code == 200, r.text
        return r.json()


class Visitor:
    """A chat started on the widget's page (its session id and visitor token)."""

    def __init__(self, desk, created, origin):
        self.desk, self.cc = desk, desk.cc
        self.created = created
        self.id, self.token = created["session_id"], created["visitor_token"]
        self.origin = origin

    def headers(self, **kw):
        return visitor_headers(self.token, self.origin, **kw)

    def get(self):
        return self.cc.get(f"{V}/sessions/{self.id}", headers=self.headers())

    def view(self):
        r = self.get()
        assert r.status_code == 200, r.text
        return r.json()

    def send(self, body="Hi, I have a question"):
        return self.cc.post(f"{V}/sessions/{self.id}/messages", headers=self.headers(),
                            json={"body": body})

    def messages(self, **params):
        return self.cc.get(f"{V}/sessions/{self.id}/messages", headers=self.headers(),
                           params=params)

    def close(self):
        return self.cc.post(f"{V}/sessions/{self.id}/close", headers=self.headers())

    def stream(self, **kw):
        return VisitorStream(self.cc, self.id, token=self.token, origin=self.origin, **kw)


class Desk:
    """A tenant's widget (allowing CHAT_ORIGIN) and its chat agents (none online until
    told)."""

    def __init__(self, cc, tenant, agents=0, **widget):
        self.cc, self.tenant = cc, tenant
        self.widget = CHAT_WIDGETS.create_ok(cc, tenant, **widget)
        self.key = self.widget["public_key"]
        self.agents = [self.new_agent() for _ in range(agents)]

    def new_agent(self, roles=("agent",)):
        user, token = self.tenant.make_user(roles=list(roles))
        return Agent(self, user, token)

    def visit(self, origin=CHAT_ORIGIN, key=None, **body):
        return Visitor(self, start_chat_ok(self.cc, key or self.key, origin, body), origin)

    def session(self, sid):
        r = self.cc.get(f"{SESSIONS}/{sid}", token=self.tenant.admin_token)
        assert r.status_code == 200, r.text
        return r.json()

    def messages(self, sid, token=None, **params):
        r = self.cc.get(f"{SESSIONS}/{sid}/messages", token=token or self.tenant.admin_token,
                        params=params)
        assert r.status_code == 200, r.text
        return r.json()["data"]


class VisitorStream(SSE):
    """The visitor's SSE (/chat/v1/sessions/{id}/events), read like the main stream
    (test_800's SSE: frames, events(n, prefix), quiet, ended)."""

    def __init__(self, cc, sid, token=None, origin=CHAT_ORIGIN, headers=None, params=None,
                 query_token=True, base_url=None):
        h = visitor_headers(origin=origin)
        params = dict(params or {})
        if token is not None:
            if query_token:
                params["token"] = token
            else:
                h["Authorization"] = f"Visitor {token}"
        h.update(headers or {})
        super().__init__(cc, None, headers=h, params=params, base_url=base_url,
                         path=f"{V}/sessions/{sid}/events")


@pytest.fixture
def desk(cc, tenant):
    return Desk(cc, tenant)


@pytest.fixture
def streams():
    opened = []
    yield opened
    for s in opened:
        s.close()


def assert_session_shape(s):
    assert set(s) in (SESSION_KEYS, SESSION_KEYS | {"transfers"}), s
    assert s["status"] in ("waiting", "active", "closed")
    assert set(s["visitor"]) == {"name", "email"}
    if s["status"] == "waiting":
        assert isinstance(s["position"], int) and s["position"] >= 1, s
        assert s["agent_id"] is None and s["closed_at"] is None, s
    else:
        assert s["position"] is None, s
    if s["status"] == "active":
        assert s["agent_id"] is not None and s["assigned_at"] is not None, s
        assert isinstance(s["agent_name"], str) and s["agent_name"], s
    if s["agent_id"] is None:
        assert s["agent_name"] is None, s
    if s["status"] == "closed":
        assert s["closed_at"] is not None and s["closed_by"] in ("visitor", "agent",
                                                                  "system"), s
    rfc3339(s["created_at"])


# ---- widgets: CRUD ----------------------------------------------------------------------

def test_a_widget_is_created_with_its_defaults_and_a_random_public_key(cc, tenant):
    r = cc.post(WIDGETS, token=tenant.admin_token,
                json={"name": "Shop", "allowed_origins": [CHAT_ORIGIN, OTHER_ORIGIN]})
    assert r.status_code == 201, r.text
    w = r.json()
    assert r.headers["Location"] == f"{WIDGETS}/{w['id']}"
    CHAT_WIDGETS.shape(w)
    assert (w["name"], w["allowed_origins"]) == ("Shop", [CHAT_ORIGIN, OTHER_ORIGIN])
    assert (w["greeting"], w["color"], w["enabled"], w["reassign_after"]) == \
        ("", "#1f6feb", True, None)
    assert CHAT_WIDGETS.get(cc, tenant, w["id"]).json() == w
    full = CHAT_WIDGETS.create_ok(cc, tenant, name="Support", allowed_origins=[],
                                  greeting="Hi \U0001F44B, ask us anything",
                                  color="#ff8800", enabled=False, reassign_after=10)
    assert (full["greeting"], full["color"], full["enabled"], full["reassign_after"],
            full["allowed_origins"]) == ("Hi \U0001F44B, ask us anything", "#ff8800",
                                         False, 10, [])
    assert full["public_key"] != w["public_key"]
    # Origins are kept as browsers send them: scheme and host in lower case.
    lower = CHAT_WIDGETS.create_ok(cc, tenant, allowed_origins=["HTTPS://Shop.Example.COM",
                                                                "http://LOCALHOST:3000"])
    assert lower["allowed_origins"] == [CHAT_ORIGIN, "http://localhost:3000"]
    assert start_chat(cc, lower["public_key"]).status_code == 201
    edge = CHAT_WIDGETS.create_ok(cc, tenant, reassign_after=86400, name="x" * 100,
                                  greeting="g" * 500,
                                  allowed_origins=["https://a.example.com:8443",
                                                   "http://localhost:3000"])
    assert edge["reassign_after"] == 86400
    assert sorted(CHAT_WIDGETS.list_ids(cc, tenant.admin_token)) == sorted(
        [w["id"], full["id"], lower["id"], edge["id"]])
    keys = {CHAT_WIDGETS.create_ok(cc, tenant)["public_key"] for _ in range(5)}
    assert len(keys) == 5


def test_a_patch_changes_only_the_given_fields_and_is_audited(cc, tenant):
    w = CHAT_WIDGETS.create_ok(cc, tenant, name="Before", greeting="Hello")
    time.sleep(1.1)                                  # updated_at moves (seconds)
    p = CHAT_WIDGETS.patch_ok(cc, tenant, w["id"], {"name": "After", "reassign_after": 60,
                                                   "allowed_origins": [OTHER_ORIGIN]})
    assert (p["name"], p["reassign_after"], p["allowed_origins"]) == \
        ("After", 60, [OTHER_ORIGIN])
    for k in ("id", "public_key", "greeting", "color", "enabled", "created_at"):
        assert p[k] == w[k], k
    assert rfc3339(p["updated_at"]) > rfc3339(w["updated_at"])
    p2 = CHAT_WIDGETS.patch_ok(cc, tenant, w["id"], {"reassign_after": None,
                                                    "color": "#00aa00", "enabled": False})
    assert (p2["reassign_after"], p2["color"], p2["enabled"]) == (None, "#00aa00", False)
    assert CHAT_WIDGETS.get(cc, tenant, w["id"]).json() == p2
    audits = CHAT_WIDGETS.audit_rows(cc, tenant)
    assert [a["action"] for a in audits] == ["chat_widget.create", "chat_widget.update",
                                             "chat_widget.update"]
    assert all(a["entity_id"] == str(w["id"]) for a in audits)
    assert str(audits[1]["actor_id"]) == str(tenant.admin_user_id)
    assert "name" in audits[1]["changes"] and "greeting" not in audits[1]["changes"]
    events = CHAT_WIDGETS.event_rows(cc, tenant)
    assert [e["type"] for e in events] == ["chat_widget.created", "chat_widget.updated",
                                           "chat_widget.updated"]
    assert events[2]["data"]["color"] == "#00aa00"
    CHAT_WIDGETS.assert_audit_api_lists(cc, tenant, w["id"], ["create", "update", "update"])


BAD_ORIGINS = [
    "https://shop.example.com",                                # not an array
    [7], [None], [""], ["shop.example.com"], ["ftp://shop.example.com"],
    ["https://shop.example.com/"], ["https://shop.example.com/chat"],
    ["https://shop.example.com?x=1"], ["https://shop.example.com#top"],
    ["https://user@shop.example.com"], [" https://shop.example.com"],
    ["https://shop.example.com:abc"], ["https://shop.example.com:99999"],
    ["https://"], ["https://*.example.com"],
    ["https://" + "a" * 244 + ".example.com"],                 # 264 characters
    [CHAT_ORIGIN, CHAT_ORIGIN],                                # duplicates
    [f"https://h{i}.example.com" for i in range(51)],
]
BAD_WIDGET_FIELDS = field_cases(
    name=["", "x" * 101, None, 7, ["a"]],
    allowed_origins=BAD_ORIGINS,
    greeting=["g" * 501, 5, ["x"]],
    color=["#fff", "red", "#gggggg", "1f6feb", "#1f6feb0", "", 123, None],
    enabled=["yes", 1, None],
    reassign_after=[9, 0, -1, 86401, "10", 10.5, True],
    bogus=[1], public_key=["A" * 32], id=[5], tenant_id=["x"],
)


@pytest.mark.parametrize("body, field", BAD_WIDGET_FIELDS)
def test_a_bad_field_is_a_400_naming_it_on_create_and_patch(cc, tenant, body, field):
    full = {"name": "Good", "allowed_origins": [CHAT_ORIGIN], **body}
    r = cc.post(WIDGETS, token=tenant.admin_token, json=full)
    assert field in detail_fields(assert_error(r, 400, "invalid_request")), r.text
    assert CHAT_WIDGETS.rows(cc, tenant) == []
    assert CHAT_WIDGETS.event_rows(cc, tenant) == []
    CHAT_WIDGETS.assert_patch_of_a_new_one_rejected(cc, tenant, body, field)


def test_a_missing_name_bad_json_and_other_media_types_are_refused(cc, tenant):
    r = cc.post(WIDGETS, token=tenant.admin_token, json={"allowed_origins": []})
    assert detail_fields(assert_error(r, 400, "invalid_request")) == ["name"]
    for raw in (b'{"name": ', b'["name"]', b'{"name": "\xff"}'):
        r = cc.post(WIDGETS, token=tenant.admin_token, data=raw,
                    headers={"Content-Type": "application/json"})
        assert_error(r, 400, "invalid_request")
    r = cc.post(WIDGETS, token=tenant.admin_token, data=b"name=x",
                headers={"Content-Type": "text/plain"})
    assert_error(r, 415, "unsupported_media_type")
    w = CHAT_WIDGETS.create_ok(cc, tenant)
    r = cc.patch(f"{WIDGETS}/{w['id']}", token=tenant.admin_token, data=b"{}",
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(r, 415, "unsupported_media_type")
    assert CHAT_WIDGETS.get(cc, tenant, w["id"]).json() == w
    assert len(CHAT_WIDGETS.rows(cc, tenant)) == 1


def test_the_list_sorts_filters_and_pages(cc, tenant, tenant2):
    made = [CHAT_WIDGETS.create_ok(cc, tenant, name=n, enabled=n not in ("Bravo", "Delta"))
            for n in ("Charlie", "Alpha", "Echo", "Bravo", "Delta")]
    CHAT_WIDGETS.create_ok(cc, tenant2, name="Alpha")           # another tenant's
    by_name, _ = CHAT_WIDGETS.assert_sorts(cc, tenant, made, "name")
    CHAT_WIDGETS.assert_paging(cc, tenant, by_name)
    ids = {o["name"]: o["id"] for o in made}
    assert CHAT_WIDGETS.list_ids(cc, tenant.admin_token, "?enabled=false") == \
        [ids["Bravo"], ids["Delta"]]
    assert CHAT_WIDGETS.list_ids(cc, tenant.admin_token, "?enabled=true") == \
        [ids["Alpha"], ids["Charlie"], ids["Echo"]]
    assert CHAT_WIDGETS.list_ids(cc, tenant.admin_token, "?q=arl") == [ids["Charlie"]]
    body = CHAT_WIDGETS.listing(cc, tenant.admin_token, "?q=ph&page_size=1")
    assert body["total"] == 1 and body["data"][0]["id"] == ids["Alpha"]
    for query, field in (("?sort=id", "sort"), ("?sort=public_key", "sort"),
                         ("?enabled=yes", "enabled"), ("?page=0", "page"),
                         ("?page_size=201", "page_size")):
        CHAT_WIDGETS.assert_bad_query(cc, tenant, query, field)


def test_q_is_a_literal_substring(cc, tenant):
    named = create_named(CHAT_WIDGETS, cc, tenant, LIKE_LOOKALIKES)
    for wild, lookalike in zip(LIKE_LOOKALIKES[::2], LIKE_LOOKALIKES[1::2]):
        q = wild.split()[0]
        got = CHAT_WIDGETS.list_ids(cc, tenant.admin_token, f"?q={requests.utils.quote(q)}")
        assert got == [named[wild]["id"]], (q, got, named[lookalike]["id"])


def test_delete_is_204_then_404_and_409_while_a_chat_is_open(cc, tenant):
    d = Desk(cc, tenant)
    v = d.visit()
    wid = d.widget["id"]
    assert_error(CHAT_WIDGETS.delete(cc, tenant, wid), 409, "conflict")
    assert CHAT_WIDGETS.get(cc, tenant, wid).status_code == 200
    assert v.close().status_code == 200
    r = CHAT_WIDGETS.delete(cc, tenant, wid)
    assert r.status_code == 204 and r.content == b""
    assert_error(CHAT_WIDGETS.get(cc, tenant, wid), 404, "not_found")
    assert_error(CHAT_WIDGETS.delete(cc, tenant, wid), 404, "not_found")
    assert_error(CHAT_WIDGETS.patch(cc, tenant, wid, {"name": "x"}), 404, "not_found")
    assert wid not in CHAT_WIDGETS.list_ids(cc, tenant.admin_token)
    # The visitor side knows it no more either.
    assert_error(start_chat(cc, d.key), 404, "not_found")
    assert [a["action"] for a in CHAT_WIDGETS.audit_rows(cc, tenant)] == \
        ["chat_widget.create", "chat_widget.delete"]
    assert [e["type"] for e in CHAT_WIDGETS.event_rows(cc, tenant)] == \
        ["chat_widget.created", "chat_widget.deleted"]


def test_wrong_methods_are_405(cc, tenant):
    w = CHAT_WIDGETS.create_ok(cc, tenant)
    CHAT_WIDGETS.assert_wrong_methods_are_405(cc, tenant, w["id"])


# ---- permissions ------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_without_chat_manage_widgets_are_403(cc, tenant, desk, role):
    w = desk.widget
    me = desk.new_agent(roles=(role,))
    token = me.token
    assert_error(cc.get(WIDGETS, token=token), 403, "forbidden")
    assert_error(CHAT_WIDGETS.get(cc, tenant, w["id"], token=token), 403, "forbidden")
    assert_error(cc.post(WIDGETS, token=token, json={"name": "x"}), 403, "forbidden")
    assert_error(cc.post(WIDGETS, token=token, json={"name": ""}), 403, "forbidden")
    assert_error(CHAT_WIDGETS.patch(cc, tenant, w["id"], {"name": "x"}, token=token), 403,
                 "forbidden")
    assert_error(CHAT_WIDGETS.delete(cc, tenant, w["id"], token=token), 403, "forbidden")
    assert_error(CHAT_WIDGETS.delete(cc, tenant, 999999999, token=token), 403, "forbidden")
    assert CHAT_WIDGETS.get(cc, tenant, w["id"]).json() == w
    assert len(CHAT_WIDGETS.audit_rows(cc, tenant)) == 1
    # Nor may they change a chat agent's capacity or anyone else's status.
    other = desk.new_agent()
    assert_error(other.put({"status": "online"}, token=token), 403, "forbidden")
    assert_error(me.put({"status": "online", "max_concurrent": 5}), 403, "forbidden")
    assert other.info()["status"] == me.info()["status"] == "offline"


def test_a_viewer_reads_chats_but_cannot_handle_them(cc, tenant, desk):
    v = desk.visit(name="Vera")
    assert v.send().status_code == 201
    viewer = desk.new_agent(roles=("viewer",))
    assert cc.get(SESSIONS, token=viewer.token).status_code == 200
    assert cc.get(f"{SESSIONS}/{v.id}", token=viewer.token).status_code == 200
    assert len(desk.messages(v.id, token=viewer.token)) >= 1
    assert cc.get(AGENTS, token=viewer.token).status_code == 200
    mate = desk.new_agent()
    for r in (viewer.accept(v.id), viewer.say(v.id), viewer.transfer(v.id, mate.id),
              viewer.close(v.id), viewer.put({"status": "online"})):
        assert_error(r, 403, "forbidden")
    s = desk.session(v.id)
    assert s["status"] == "waiting" and s["agent_id"] is None
    assert viewer.info()["status"] == "offline"


def test_a_user_without_chat_read_sees_no_chats(cc, tenant, desk):
    v = desk.visit()
    token = token_with_permissions(cc, tenant, "nochat", ["users.read", "events.read"])
    for path in (SESSIONS, f"{SESSIONS}/{v.id}", f"{SESSIONS}/{v.id}/messages", AGENTS,
                 f"{AGENTS}/{tenant.admin_user_id}"):
        assert_error(cc.get(path, token=token), 403, "forbidden")
    assert_unauthorized(cc.get(SESSIONS))


def test_only_the_sessions_agent_or_a_manager_writes_to_an_active_chat(cc, tenant, desk):
    a, b = desk.new_agent(), desk.new_agent()
    sup = desk.new_agent(roles=("supervisor",))
    a.set("online", 3)
    v = desk.visit()
    assert desk.session(v.id)["agent_id"] == a.id
    b.set("online", 3)
    for r in (b.say(v.id), b.transfer(v.id, b.id), b.close(v.id)):
        assert_error(r, 403, "forbidden")
    assert all(m["sender_type"] != "agent" for m in desk.messages(v.id))
    assert sup.say(v.id, "A supervisor here").status_code == 201
    r = sup.transfer(v.id, b.id, note="over to you")
    assert r.status_code == 200, r.text
    assert r.json()["agent_id"] == b.id and r.json()["transfers"][-1]["created_by"] == sup.id
    assert_error(a.say(v.id), 403, "forbidden")       # no longer its agent
    assert sup.close(v.id).status_code == 200
    # A waiting chat may be closed by anyone who handles chats.
    a.set("offline")
    b.set("offline")
    w = desk.visit()
    assert desk.session(w.id)["status"] == "waiting"
    r = b.close(w.id)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["closed_by"]) == ("closed", "agent")


# ---- tenants ----------------------------------------------------------------------------

def test_another_tenants_widget_session_and_agent_are_404(cc, tenant, tenant2):
    mine, theirs = Desk(cc, tenant), Desk(cc, tenant2)
    their_agent = theirs.new_agent()
    their_agent.set("online", 2)
    tv = theirs.visit(name="Theirs")
    assert tv.send("their secret").status_code == 201
    their_session = theirs.session(tv.id)
    their_widget = CHAT_WIDGETS.get(cc, tenant2, theirs.widget["id"]).json()
    a = mine.new_agent(roles=("supervisor",))
    a.set("online", 3)
    mv = mine.visit()
    adm = tenant.admin_token
    for oid in (theirs.widget["id"], 999999999):
        assert_error(cc.get(f"{WIDGETS}/{oid}", token=adm), 404, "not_found")
        assert_error(cc.patch(f"{WIDGETS}/{oid}", token=adm, json={"name": "x"}), 404,
                     "not_found")
        assert_error(cc.delete(f"{WIDGETS}/{oid}", token=adm), 404, "not_found")
    for sid in (tv.id, 999999999):
        assert_error(cc.get(f"{SESSIONS}/{sid}", token=adm), 404, "not_found")
        assert_error(cc.get(f"{SESSIONS}/{sid}/messages", token=adm), 404, "not_found")
        for r in (a.accept(sid), a.say(sid), a.transfer(sid, a.id), a.close(sid)):
            assert_error(r, 404, "not_found")
    for uid in (their_agent.id, 999999999):
        assert_error(cc.get(f"{AGENTS}/{uid}", token=adm), 404, "not_found")
        assert_error(cc.put(f"{AGENTS}/{uid}", token=adm, json={"status": "offline"}), 404,
                     "not_found")
    # A transfer of one's own chat to their agent names the field.
    r = a.transfer(mv.id, their_agent.id)
    assert "to_agent_id" in detail_fields(assert_error(r, 400, "invalid_request"))
    # Never listed.
    assert theirs.widget["id"] not in CHAT_WIDGETS.list_ids(cc, adm)
    assert [s["id"] for s in cc.get(SESSIONS, token=adm).json()["data"]] == [mv.id]
    assert their_agent.id not in [x["user_id"]
                                  for x in cc.get(AGENTS, token=adm).json()["data"]]
    for q in (f"?widget_id={theirs.widget['id']}", f"?agent_id={their_agent.id}"):
        assert cc.get(SESSIONS + q, token=adm).json()["data"] == []
    # Nothing of theirs changed.
    assert theirs.session(tv.id) == their_session
    assert CHAT_WIDGETS.get(cc, tenant2, theirs.widget["id"]).json() == their_widget
    assert [m["body"] for m in theirs.messages(tv.id)
            if m["sender_type"] != "system"] == ["their secret"]
    assert their_agent.info()["status"] == "online"
    # Their visitor's token is nothing on my session.
    mine_v = Visitor(mine, {"session_id": mv.id, "visitor_token": tv.token}, CHAT_ORIGIN)
    assert_error(mine_v.get(), 401, "unauthorized")


# ---- the visitor side: starting a chat --------------------------------------------------

def test_a_visitor_starts_a_chat_from_an_allowed_origin(cc, tenant, desk):
    t0 = datetime.now(timezone.utc)
    r = start_chat(cc, desk.key, body={"name": "Vera Visitor", "email": "vera@example.org"})
    assert r.status_code == 201, r.text
    c = r.json()
    assert set(c) == CREATED_KEYS, c
    assert r.headers["Location"] == f"{V}/sessions/{c['session_id']}"
    assert (c["status"], c["position"]) == ("waiting", 1)
    assert isinstance(c["visitor_token"], str) and len(c["visitor_token"]) >= 32
    ttl = (rfc3339(c["expires_at"]) - t0).total_seconds()
    assert 86400 - 120 < ttl < 86400 + 120, c["expires_at"]
    s = desk.session(c["session_id"])
    assert_session_shape(s)
    assert s["visitor"] == {"name": "Vera Visitor", "email": "vera@example.org"}
    assert (s["widget_id"], s["origin"], s["status"], s["agent_id"], s["position"]) == \
        (desk.widget["id"], CHAT_ORIGIN, "waiting", None, 1)
    assert s["transfers"] == []
    # The token is kept as a hash only.
    (row,) = db_rows(cc, "SELECT * FROM chat_sessions WHERE id = %s", (c["session_id"],))
    assert not any(c["visitor_token"] in str(v) for v in row.values()), row
    # A second visitor gets another token, and no name is fine.
    c2 = start_chat_ok(cc, desk.key)
    assert c2["visitor_token"] != c["visitor_token"] and c2["position"] == 2
    assert desk.session(c2["session_id"])["visitor"] == {"name": None, "email": None}
    # A widget allowing two origins takes either, and each session keeps its own.
    two = Desk(cc, tenant, allowed_origins=[CHAT_ORIGIN, OTHER_ORIGIN])
    v = two.visit(origin=OTHER_ORIGIN)
    assert two.session(v.id)["origin"] == OTHER_ORIGIN


@pytest.mark.parametrize("origin", [None, EVIL, "null", CHAT_ORIGIN + "/",
                                    CHAT_ORIGIN + ":8443", "http://shop.example.com",
                                    "https://shop.example.com.evil.net"])
def test_an_origin_missing_or_not_allowed_is_403(cc, tenant, desk, origin):
    r = start_chat(cc, desk.key, origin=origin)
    assert_error(r, 403, "forbidden")
    assert "Access-Control-Allow-Origin" not in r.headers
    assert db_rows(cc, "SELECT id FROM chat_sessions WHERE tenant_id = %s",
                   (tenant.id,)) == []
    if origin is not None:
        r = cc.get(f"{V}/widgets/{desk.key}", headers=visitor_headers(origin=origin))
        assert_error(r, 403, "forbidden")
        assert "Access-Control-Allow-Origin" not in r.headers


def test_the_public_widget_tells_name_greeting_and_color(cc, tenant):
    d = Desk(cc, tenant, name="Help", greeting="Hello!", color="#123456")
    r = cc.get(f"{V}/widgets/{d.key}", headers=visitor_headers())
    assert r.status_code == 200, r.text
    assert r.json() == {"name": "Help", "greeting": "Hello!", "color": "#123456"}
    assert r.headers["Access-Control-Allow-Origin"] == CHAT_ORIGIN


def test_an_unknown_or_disabled_key_is_404(cc, tenant, desk):
    for key in ("A" * 32, secrets.token_urlsafe(24)[:32], "short", "x" * 200):
        assert_error(start_chat(cc, key), 404, "not_found")
        assert_error(cc.get(f"{V}/widgets/{key}", headers=visitor_headers()), 404,
                     "not_found")
    CHAT_WIDGETS.patch_ok(cc, tenant, desk.widget["id"], {"enabled": False})
    assert_error(start_chat(cc, desk.key), 404, "not_found")
    assert_error(cc.get(f"{V}/widgets/{desk.key}", headers=visitor_headers()), 404,
                 "not_found")
    CHAT_WIDGETS.patch_ok(cc, tenant, desk.widget["id"], {"enabled": True})
    assert start_chat(cc, desk.key).status_code == 201


@pytest.mark.parametrize("body, field", field_cases(
    name=["", "n" * 101, 5], email=["not-an-email", "a@", 5, "x" * 250 + "@e.com"],
    bogus=[1], status=["active"]))
def test_a_bad_visitor_body_is_400(cc, tenant, desk, body, field):
    r = start_chat(cc, desk.key, body=body)
    assert field in detail_fields(assert_error(r, 400, "invalid_request")), r.text
    assert r.headers["Access-Control-Allow-Origin"] == CHAT_ORIGIN
    assert db_rows(cc, "SELECT id FROM chat_sessions WHERE tenant_id = %s",
                   (tenant.id,)) == []


def test_a_visitor_body_must_be_json(cc, tenant, desk):
    r = start_chat(cc, desk.key, headers={"Content-Type": "text/plain"})
    assert_error(r, 415, "unsupported_media_type")
    r = cc.post(f"{V}/widgets/{desk.key}/sessions", data=b'{"name": ',
                headers={**visitor_headers(), "Content-Type": "application/json"})
    assert_error(r, 400, "invalid_request")
    assert db_rows(cc, "SELECT id FROM chat_sessions WHERE tenant_id = %s",
                   (tenant.id,)) == []


# ---- CORS -------------------------------------------------------------------------------

def assert_cors(r, origin=CHAT_ORIGIN):
    assert r.headers.get("Access-Control-Allow-Origin") == origin, dict(r.headers)
    assert "origin" in header_set(r.headers.get("Vary")), r.headers.get("Vary")
    assert {"location", "retry-after", "x-request-id"} <= header_set(
        r.headers.get("Access-Control-Expose-Headers"))
    assert "Access-Control-Allow-Credentials" not in r.headers


def test_answers_to_an_allowed_origin_carry_cors_headers(cc, tenant):
    d = Desk(cc, tenant, allowed_origins=[CHAT_ORIGIN, OTHER_ORIGIN])
    a = d.new_agent()
    a.set("online", 2)
    r = start_chat(cc, d.key, origin=OTHER_ORIGIN)
    assert r.status_code == 201
    assert_cors(r, OTHER_ORIGIN)
    v = d.visit()
    for r in (cc.get(f"{V}/widgets/{d.key}", headers=visitor_headers()), v.get(),
              v.send(), v.messages(), v.messages(after="x")):
        assert_cors(r)
    assert_cors(v.close())
    assert_cors(v.close())                          # a 409 too
    # An origin the session's widget does not allow is refused, token or not.
    w = d.visit()
    for bad in (EVIL, "https://shop.example.com:444"):
        r = cc.get(f"{V}/sessions/{w.id}", headers=visitor_headers(w.token, bad))
        assert_error(r, 403, "forbidden")
        assert "Access-Control-Allow-Origin" not in r.headers
        r = cc.post(f"{V}/sessions/{w.id}/messages", json={"body": "x"},
                    headers=visitor_headers(w.token, bad))
        assert_error(r, 403, "forbidden")
    assert all(m["sender_type"] != "visitor" for m in d.messages(w.id))


def preflight(cc, path, origin=CHAT_ORIGIN, method="POST"):
    h = {"Access-Control-Request-Method": method,
         "Access-Control-Request-Headers": "authorization, content-type"}
    if origin is not None:
        h["Origin"] = origin
    return cc.request("OPTIONS", path, headers=h)


def test_preflight_is_204_for_an_allowed_origin_and_403_otherwise(cc, tenant, desk):
    v = desk.visit()
    cases = [(f"{V}/widgets/{desk.key}/sessions", "POST", {"POST"}),
             (f"{V}/widgets/{desk.key}", "GET", {"GET"}),
             (f"{V}/sessions/{v.id}", "GET", {"GET"}),
             (f"{V}/sessions/{v.id}/messages", "POST", {"GET", "POST"}),
             (f"{V}/sessions/{v.id}/events", "GET", {"GET"}),
             (f"{V}/sessions/{v.id}/close", "POST", {"POST"})]
    for path, method, methods in cases:
        r = preflight(cc, path, method=method)
        assert r.status_code == 204, (path, r.status_code, r.text)
        assert r.content == b""
        assert r.headers["Access-Control-Allow-Origin"] == CHAT_ORIGIN, path
        assert "origin" in header_set(r.headers.get("Vary"))
        assert header_set(r.headers["Access-Control-Allow-Methods"]) == \
            {m.lower() for m in methods | {"OPTIONS"}}, path
        assert header_set(r.headers["Access-Control-Allow-Headers"]) == \
            {"authorization", "content-type", "last-event-id"}, path
        assert r.headers["Access-Control-Max-Age"] == "600"
        assert "Access-Control-Allow-Credentials" not in r.headers
        # A session's preflight takes any well-formed origin (the request itself is
        # checked against the widget's): it must not tell which sessions exist.
        bads = ("null", CHAT_ORIGIN + "/path") if "/sessions/" in path and "/widgets/" not in \
            path else (EVIL, "null", CHAT_ORIGIN + ":1")
        for bad in bads:
            r = preflight(cc, path, origin=bad, method=method)
            assert r.status_code == 403, (path, bad, r.status_code)
            assert not any(h.lower().startswith("access-control-") for h in r.headers), \
                (path, dict(r.headers))
        r = preflight(cc, path, origin=None, method=method)
        assert "Access-Control-Allow-Origin" not in r.headers
    # An unknown key has no origin to allow; an unknown session answers as a known one.
    r = preflight(cc, f"{V}/widgets/{'B' * 32}/sessions")
    assert r.status_code in (403, 404), r.status_code
    assert "Access-Control-Allow-Origin" not in r.headers
    for path in (f"{V}/sessions/999999999/messages", f"{V}/sessions/{v.id}/messages"):
        r = preflight(cc, path, origin=EVIL)
        assert r.status_code == 204, (path, r.status_code)
        assert r.headers["Access-Control-Allow-Origin"] == EVIL
    # ...and the real request from that origin is refused.
    r = cc.get(f"{V}/sessions/{v.id}/messages", headers=visitor_headers(v.token, EVIL))
    assert_error(r, 403, "forbidden")
    assert "Access-Control-Allow-Origin" not in r.headers


def test_widget_js_is_plain_cacheable_javascript(cc):
    r = cc.get(f"{V}/widget.js", headers={"Origin": EVIL})
    assert r.status_code == 200, r.text[:200]
    assert r.headers["Content-Type"].split(";")[0] in ("application/javascript",
                                                       "text/javascript")
    assert "public" in header_set(r.headers["Cache-Control"])
    assert "max-age=3600" in header_set(r.headers["Cache-Control"])
    assert "Access-Control-Allow-Origin" not in r.headers
    assert len(r.content) > 200
    etag = r.headers["ETag"]
    r2 = cc.get(f"{V}/widget.js", headers={"If-None-Match": etag})
    assert r2.status_code == 304 and r2.content == b""
    assert cc.get(f"{V}/widget.js", headers={"If-None-Match": '"nope"'}).content == \
        r.content


# ---- the visitor's token ----------------------------------------------------------------

def visitor_routes(sid):
    return [("GET", f"{V}/sessions/{sid}", None),
            ("POST", f"{V}/sessions/{sid}/messages", {"body": "sneaky"}),
            ("GET", f"{V}/sessions/{sid}/messages", None),
            ("GET", f"{V}/sessions/{sid}/events", None),
            ("POST", f"{V}/sessions/{sid}/close", None)]


def assert_visitor_401(r):
    assert_error(r, 401, "unauthorized")
    assert r.headers["WWW-Authenticate"].startswith("Visitor"), r.headers


def test_a_missing_malformed_or_foreign_token_is_401(cc, tenant, tenant2, desk):
    v, w = desk.visit(), desk.visit()
    theirs = Desk(cc, tenant2).visit()
    _, agent_token = tenant.make_user(roles=["agent"])
    auths = [None, "Visitor", "Visitor ", f"Visitor {v.token}x", f"Visitor {v.token[:-1]}",
             "Visitor garbage", "Visitor " + "A" * 43, f"Bearer {v.token}",
             f"visitor{v.token}", f"Visitor {w.token}", f"Visitor {theirs.token}",
             f"Bearer {agent_token}", f"Basic {v.token}"]
    for method, path, body in visitor_routes(v.id):
        for auth in auths:
            h = visitor_headers()
            if auth is not None:
                h["Authorization"] = auth
            r = cc.request(method, path, json=body, headers=h, timeout=10)
            assert r.status_code == 401, (method, path, auth, r.status_code, r.text[:200])
            assert_visitor_401(r)
    for tok in ("garbage", w.token, ""):
        assert_visitor_401(cc.get(f"{V}/sessions/{v.id}/events", params={"token": tok},
                                  headers=visitor_headers(), timeout=10))
    # A good token on a session that is not its own (or none at all).
    for sid in (w.id, theirs.id, 999999999):
        assert_visitor_401(cc.get(f"{V}/sessions/{sid}", headers=v.headers()))
    # The visitor's token is no bearer token on the agents' API.
    assert_unauthorized(cc.get(f"{SESSIONS}/{v.id}", token=v.token))
    assert_unauthorized(cc.get(f"{SESSIONS}/{v.id}",
                               headers={"Authorization": f"Visitor {v.token}"}))
    # Nothing happened to the session.
    s = desk.session(v.id)
    assert s["status"] == "waiting" and desk.messages(v.id) == []
    assert v.get().status_code == 200


def test_an_expired_token_is_401(cc, tenant, desk):
    v = desk.visit()
    assert v.get().status_code == 200
    db_exec(cc, "UPDATE chat_sessions SET token_expires_at = UTC_TIMESTAMP()"
                " - INTERVAL 1 SECOND WHERE id = %s", (v.id,))
    for method, path, body in visitor_routes(v.id):
        assert_visitor_401(cc.request(method, path, json=body, headers=v.headers(),
                                      timeout=10))


# ---- messages ---------------------------------------------------------------------------

def test_messages_go_both_ways_and_after_pages_them(cc, tenant, desk):
    a = desk.new_agent()
    a.set("online", 2)
    v = desk.visit(name="Vera")
    assert desk.session(v.id)["agent_id"] == a.id
    r = v.send("Hello, is anyone there?")
    assert r.status_code == 201, r.text
    m1 = r.json()
    assert set(m1) - {"agent_name"} == {"id", "sender", "body", "created_at"}, m1
    assert m1.get("agent_name") is None
    assert (m1["sender"], m1["body"]) == ("visitor", "Hello, is anyone there?")
    rfc3339(m1["created_at"])
    assert desk.session(v.id)["first_response_at"] is None
    r = a.say(v.id, "Yes \u2014 how can I help? \U0001F600")
    assert r.status_code == 201, r.text
    m2 = r.json()
    assert set(m2) == MESSAGE_KEYS, m2
    assert (m2["session_id"], m2["sender_type"], m2["sender_id"], m2["sender_name"],
            m2["body"]) == (v.id, "agent", a.id, a.name, "Yes \u2014 how can I help? \U0001F600")
    s = desk.session(v.id)
    assert s["first_response_at"] is not None and s["last_message_at"] is not None
    m3 = v.send("x" * 4000).json()
    assert m1["id"] < m2["id"] < m3["id"]

    # The visitor's view: no internal fields.
    r = v.messages()
    assert r.status_code == 200, r.text
    seen = r.json()["data"]
    assert all(set(m) <= VISITOR_MESSAGE_KEYS for m in seen), seen
    mine = [m for m in seen if m["sender"] != "system"]
    assert [(m["id"], m["sender"], m["body"]) for m in mine] == [
        (m1["id"], "visitor", m1["body"]), (m2["id"], "agent", m2["body"]),
        (m3["id"], "visitor", "x" * 4000)]
    assert mine[1]["agent_name"] == a.name
    ids = [m["id"] for m in seen]
    assert ids == sorted(ids)
    assert [m["id"] for m in v.messages(after=m1["id"]).json()["data"]] == \
        [i for i in ids if i > m1["id"]]
    assert v.messages(after=m3["id"]).json()["data"] == []
    assert [m["id"] for m in v.messages(limit=1).json()["data"]] == ids[:1]

    # The agents' view: every field.
    full = desk.messages(v.id)
    assert all(set(m) == MESSAGE_KEYS for m in full)
    assert [m["id"] for m in full] == ids
    byid = {m["id"]: m for m in full}
    assert (byid[m1["id"]]["sender_type"], byid[m1["id"]]["sender_id"],
            byid[m1["id"]]["sender_name"]) == ("visitor", None, "Vera")
    assert byid[m2["id"]] == m2
    assert [m["id"] for m in desk.messages(v.id, token=a.token, after=m2["id"])] == \
        [i for i in ids if i > m2["id"]]
    assert [m["id"] for m in desk.messages(v.id, limit=2)] == ids[:2]
    for params, field in (({"after": "x"}, "after"), ({"after": "-1"}, "after"),
                          ({"limit": "0"}, "limit"), ({"limit": "501"}, "limit")):
        r = cc.get(f"{SESSIONS}/{v.id}/messages", token=a.token, params=params)
        assert field in detail_fields(assert_error(r, 400, "invalid_request"))
        r = v.messages(**params)
        assert field in detail_fields(assert_error(r, 400, "invalid_request"))


@pytest.mark.parametrize("body", [{"body": ""}, {"body": "   \n\t "}, {"body": "x" * 4001},
                                  {}, {"body": 7}, {"body": None},
                                  {"body": "ok", "extra": 1}])
def test_a_bad_message_is_400_on_both_sides(cc, tenant, desk, body):
    a = desk.new_agent()
    a.set("online", 1)
    v = desk.visit()
    field = "extra" if "extra" in body else "body"
    r = cc.post(f"{SESSIONS}/{v.id}/messages", token=a.token, json=body)
    assert field in detail_fields(assert_error(r, 400, "invalid_request"))
    r = cc.post(f"{V}/sessions/{v.id}/messages", headers=v.headers(), json=body)
    assert field in detail_fields(assert_error(r, 400, "invalid_request"))
    assert [m for m in desk.messages(v.id) if m["sender_type"] != "system"] == []
    for path, h, tok in ((f"{SESSIONS}/{v.id}/messages", {}, a.token),
                         (f"{V}/sessions/{v.id}/messages", v.headers(), None)):
        r = cc.post(path, token=tok, data=b"body=x",
                    headers={**h, "Content-Type": "text/plain"})
        assert_error(r, 415, "unsupported_media_type")


def test_an_agent_writes_only_to_an_active_chat_a_visitor_until_it_closes(cc, tenant, desk):
    a = desk.new_agent()
    sup = desk.new_agent(roles=("supervisor",))
    v = desk.visit()
    assert v.send("anyone?").status_code == 201          # waiting: the visitor may write
    # No agent has it yet: not the agent's chat (403), not active for a manager (409).
    assert_error(a.say(v.id), 403, "forbidden")
    assert_error(sup.say(v.id), 409, "conflict")
    assert a.accept(v.id).status_code == 200
    assert a.say(v.id).status_code == 201
    assert a.close(v.id).status_code == 200
    assert_error(a.say(v.id), 409, "conflict")
    assert_error(sup.say(v.id), 409, "conflict")
    assert_error(v.send(), 409, "conflict")


# ---- the visitor's view -----------------------------------------------------------------

def test_a_waiting_visitor_sees_its_position_in_the_tenants_queue(cc, tenant, desk):
    other = Desk(cc, tenant, name="Second")
    vs = [desk.visit(), desk.visit(), other.visit(), desk.visit()]
    assert [v.created["position"] for v in vs] == [1, 2, 3, 4]
    view = vs[1].view()
    assert set(view) == VISITOR_SESSION_KEYS, view
    assert (view["id"], view["status"], view["position"], view["agent"],
            view["closed_at"]) == (vs[1].id, "waiting", 2, None, None)
    assert view["widget"] == {"name": desk.widget["name"],
                              "greeting": desk.widget["greeting"],
                              "color": desk.widget["color"]}
    assert vs[2].view()["widget"]["name"] == "Second"
    assert [desk.session(v.id)["position"] for v in vs] == [1, 2, 3, 4]
    assert vs[0].close().status_code == 200
    assert [v.view()["position"] for v in vs[1:]] == [1, 2, 3]
    # An agent coming online takes the oldest.
    a = desk.new_agent()
    a.set("online", 1)
    got = vs[1].view()
    assert (got["status"], got["position"], got["agent"]) == ("active", None,
                                                              {"name": a.name})
    assert [v.view()["position"] for v in vs[2:]] == [1, 2]
    assert [desk.session(v.id)["position"] for v in vs[2:]] == [1, 2]


def test_a_visitor_closes_its_chat_once(cc, tenant, desk):
    a = desk.new_agent()
    a.set("online", 1)
    v = desk.visit()
    r = v.close()
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["id"], body["status"]) == (v.id, "closed")
    assert body["closed_at"] is not None
    assert_error(v.close(), 409, "conflict")
    s = desk.session(v.id)
    assert (s["status"], s["closed_by"], s["agent_id"]) == ("closed", "visitor", a.id)
    assert_error(a.close(v.id), 409, "conflict")
    assert v.view()["status"] == "closed"                  # still readable
    assert a.info()["active_count"] == 0


# ---- the visitor's stream ---------------------------------------------------------------

def test_the_visitor_stream_tells_position_joins_messages_transfers_and_close(
        cc, tenant, desk, streams):
    first, v = desk.visit(), desk.visit(name="Vera")
    s = v.stream()
    streams.append(s)
    assert s.status == 200, getattr(s, "body", "")
    assert s.r.headers["Content-Type"].startswith("text/event-stream")
    assert s.r.headers["Access-Control-Allow-Origin"] == CHAT_ORIGIN
    assert first.close().status_code == 200
    f = wait_frame(s, "position", lambda d: d == {"position": 1})
    last = int(f["id"])
    a, b = desk.new_agent(), desk.new_agent()
    a.set("online", 1)                                     # takes v at once
    f = wait_frame(s, "agent_joined")
    assert f["data"] == {"agent": {"name": a.name}}
    assert int(f["id"]) > last
    m = a.say(v.id, "Hi Vera").json()
    f = wait_frame(s, "message", lambda d: d.get("sender") == "agent")
    assert f["data"] == {"id": m["id"], "sender": "agent", "agent_name": a.name,
                         "body": "Hi Vera", "created_at": m["created_at"]}
    b.set("online", 1)
    assert a.transfer(v.id, b.id, note="billing question").status_code == 200
    f = wait_frame(s, "transfer")
    assert f["data"] == {"agent": {"name": b.name}}          # no note for the visitor
    assert b.close(v.id).status_code == 200
    f = wait_frame(s, "close")
    assert f["data"] == {"closed_by": "agent"}
    assert s.ended.wait(5), "the stream outlived the chat"


def wait_frame(s, event, match=lambda d: True, timeout=10):
    """The next frame of this event whose data matches (others skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {event} frame within {timeout} s"
        (f,) = s.events(1, timeout=left, prefix="")
        if f["event"] == event and match(f["data"]):
            return f


def test_the_visitor_stream_resumes_after_its_last_event_id(cc, tenant, desk, streams):
    a = desk.new_agent()
    a.set("online", 1)
    v = desk.visit()
    s = v.stream(query_token=False)                       # Authorization: Visitor
    streams.append(s)
    assert s.status == 200, getattr(s, "body", "")
    a.say(v.id, "one")
    last = wait_frame(s, "message", lambda d: d["body"] == "one")["id"]
    s.close()
    a.say(v.id, "two")
    v.send("three")
    r = v.stream(headers={"Last-Event-ID": last})
    streams.append(r)
    assert r.status == 200, getattr(r, "body", "")
    bodies = [f["data"]["body"] for f in r.quiet(2.0, prefix="message")]
    assert bodies[:2] == ["two", "three"] and "one" not in bodies, bodies


def test_the_visitor_stream_needs_its_token_and_origin(cc, tenant, desk):
    v, w = desk.visit(), desk.visit()
    for kw in ({"token": None}, {"token": w.token}, {"token": "garbage"}):
        s = VisitorStream(cc, v.id, **kw)
        assert s.status == 401, kw
        assert s.r.headers["WWW-Authenticate"].startswith("Visitor")
    s = VisitorStream(cc, v.id, token=v.token, origin=EVIL)
    assert s.status == 403


# ---- chat agents ------------------------------------------------------------------------

def test_chat_agents_are_read_and_set(cc, tenant, desk):
    assert cc.get(AGENTS, token=tenant.admin_token).json() == {"data": []}
    a = desk.new_agent()
    info = a.info()
    assert set(info) == AGENT_KEYS, info
    assert (info["user_id"], info["name"], info["status"], info["max_concurrent"],
            info["active_count"], info["voice_state"], info["last_assigned_at"]) == \
        (a.id, a.name, "offline", 3, 0, None, None)
    r = a.put({"status": "away"})                          # its own status: chat.handle
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["max_concurrent"]) == ("away", 3)
    assert a.set("online", 5)["max_concurrent"] == 5
    r = a.put({"status": "online"})
    assert r.status_code == 200 and r.json()["max_concurrent"] == 5   # kept
    b = desk.new_agent()
    b.set("offline", 1)
    listed = cc.get(AGENTS, token=a.token).json()["data"]
    assert [x["user_id"] for x in sorted(listed, key=lambda x: x["name"])] == \
        [x["user_id"] for x in listed]
    assert {x["user_id"] for x in listed} == {a.id, b.id}
    assert all(set(x) == AGENT_KEYS for x in listed)
    a.voice("break")
    assert a.info()["voice_state"] == "break"
    events = db_rows(cc, "SELECT entity_id FROM events WHERE tenant_id = %s"
                         " AND type = 'chat.agent_updated' ORDER BY id", (tenant.id,))
    ids = [e["entity_id"] for e in events]
    assert ids.count(str(a.id)) >= 2 and ids.count(str(b.id)) == 1, ids
    assert set(ids) == {str(a.id), str(b.id)}


@pytest.mark.parametrize("body, field", [
    ({}, "status"), ({"status": "busy"}, "status"), ({"status": None}, "status"),
    ({"status": 1}, "status"), ({"status": "online", "max_concurrent": 0}, "max_concurrent"),
    ({"status": "online", "max_concurrent": 21}, "max_concurrent"),
    ({"status": "online", "max_concurrent": "3"}, "max_concurrent"),
    ({"status": "online", "max_concurrent": 2.5}, "max_concurrent"),
    ({"status": "online", "user_id": 5}, "user_id"),
    ({"status": "online", "active_count": 0}, "active_count"),
])
def test_a_bad_chat_agent_body_is_400(cc, tenant, desk, body, field):
    a = desk.new_agent()
    r = a.put(body, token=tenant.admin_token)
    assert field in detail_fields(assert_error(r, 400, "invalid_request")), r.text
    assert a.info()["status"] == "offline"


# ---- assignment -------------------------------------------------------------------------

def test_a_new_chat_goes_to_the_online_agent_with_the_most_free_capacity(cc, tenant, desk):
    a, b, c, d = (desk.new_agent() for _ in range(4))
    a.set("online", 5)
    b.set("online", 2)
    c.set("away", 10)                                      # not online: never chosen
    d.set("offline", 10)
    vs = [desk.visit() for _ in range(3)]                  # free 5/2, 4/2, 3/2
    got = [desk.session(v.id) for v in vs]
    assert [(s["status"], s["agent_id"]) for s in got] == [("active", a.id)] * 3
    assert all(s["assigned_at"] is not None and s["position"] is None for s in got)
    b.set("online", 6)                                     # free: a 2, b 6
    v4 = desk.visit()
    assert v4.created["status"] == "active" and v4.created["position"] is None
    assert desk.session(v4.id)["agent_id"] == b.id
    listed = {x["user_id"]: x for x in cc.get(AGENTS, token=a.token).json()["data"]}
    assert (listed[a.id]["active_count"], listed[b.id]["active_count"],
            listed[c.id]["active_count"]) == (3, 1, 0)
    assert listed[a.id]["last_assigned_at"] is not None
    assigned = db_rows(cc, "SELECT entity_id FROM events WHERE tenant_id = %s"
                           " AND type = 'chat.session_assigned' ORDER BY id", (tenant.id,))
    assert [e["entity_id"] for e in assigned] == [str(v.id) for v in vs + [v4]]


def test_agents_at_capacity_leave_new_chats_waiting(cc, tenant, desk):
    a = desk.new_agent()
    a.set("online", 2)
    vs = [desk.visit() for _ in range(4)]
    assert [desk.session(v.id)["status"] for v in vs] == ["active", "active", "waiting",
                                                          "waiting"]
    assert [v.created["position"] for v in vs] == [None, None, 1, 2]
    # More capacity takes the waiting ones at once, oldest first.
    a.set("online", 3)
    assert [desk.session(v.id)["status"] for v in vs] == ["active"] * 3 + ["waiting"]
    assert desk.session(vs[3].id)["position"] == 1


def test_an_agent_coming_online_or_a_chat_closing_takes_a_waiting_one(cc, tenant, desk):
    a = desk.new_agent()
    a.set("away", 1)
    v1, v2 = desk.visit(), desk.visit()
    assert (v1.created["status"], v2.created["status"]) == ("waiting", "waiting")
    r = a.put({"status": "online"})
    assert r.status_code == 200, r.text
    # In the same transaction: the answer already counts it.
    assert r.json()["active_count"] == 1, r.json()
    s1 = desk.session(v1.id)
    assert (s1["status"], s1["agent_id"]) == ("active", a.id)
    assert desk.session(v2.id)["status"] == "waiting"
    assert a.close(v1.id).status_code == 200
    s2 = desk.session(v2.id)
    assert (s2["status"], s2["agent_id"]) == ("active", a.id)
    # A visitor closing frees the agent too.
    v3 = desk.visit()
    assert v3.created["status"] == "waiting"
    assert v2.close().status_code == 200
    assert desk.session(v3.id)["agent_id"] == a.id
    # Going away keeps one's chats and takes no new one.
    a.set("away")
    assert a.close(v3.id).status_code == 200
    v4 = desk.visit()
    assert desk.session(v4.id)["status"] == "waiting"


def test_accept_takes_a_waiting_chat_409_when_not_waiting_or_full(cc, tenant, desk):
    v1, v2, v3 = desk.visit(), desk.visit(), desk.visit()
    a, b = desk.new_agent(), desk.new_agent()
    r = a.accept(v2.id)
    assert r.status_code == 200, r.text
    s = r.json()
    assert_session_shape(s)
    assert (s["id"], s["status"], s["agent_id"], s["position"]) == (v2.id, "active", a.id,
                                                                    None)
    assert s["assigned_at"] is not None
    got = desk.session(v2.id)
    assert got["transfers"] == []
    assert {k: v for k, v in got.items() if k != "transfers"} == \
        {k: v for k, v in s.items() if k != "transfers"}
    assert_error(b.accept(v2.id), 409, "conflict")        # not waiting
    assert_error(a.accept(v2.id), 409, "conflict")
    assert [desk.session(v.id)["position"] for v in (v1, v3)] == [1, 2]
    assert v2.view()["agent"] == {"name": a.name}
    # Full: at max_concurrent.
    b.set("away", 1)
    r = b.accept(v1.id, json={})
    assert r.status_code == 200, r.text
    assert_error(b.accept(v3.id), 409, "conflict")
    assert desk.session(v3.id)["status"] == "waiting"
    # A closed chat is not waiting.
    assert v3.close().status_code == 200
    assert_error(a.accept(v3.id), 409, "conflict")
    accepted = db_rows(cc, "SELECT entity_id FROM events WHERE tenant_id = %s"
                           " AND type = 'chat.session_accepted' ORDER BY id", (tenant.id,))
    assert [e["entity_id"] for e in accepted] == [str(v2.id), str(v1.id)]


@pytest.mark.parametrize("route", ["accept", "close"])
def test_accept_and_close_take_no_body_but_an_empty_object(cc, tenant, desk, route):
    """chat-spec: accept takes no body or {}; close has none either, and every write
    route refuses what is not its body (test_610)."""
    a = desk.new_agent()
    v = desk.visit()
    path = f"{SESSIONS}/{v.id}/{route}"
    for raw, ctype, status in ((b'{"agent_id": 1}', "application/json", 400),
                               (b'{"agent_id": ', "application/json", 400),
                               (b"[]", "application/json", 400),
                               (b"x=1", "application/x-www-form-urlencoded", 415)):
        r = cc.post(path, token=a.token, data=raw, headers={"Content-Type": ctype})
        assert r.status_code == status, (route, raw, r.status_code, r.text[:200])
    assert desk.session(v.id)["status"] == "waiting"
    if route == "close":
        r = cc.post(f"{V}/sessions/{v.id}/close", data=b'{"closed_by": "agent"}',
                    headers=v.headers(headers={"Content-Type": "application/json"}))
        assert_error(r, 400, "invalid_request")
        assert desk.session(v.id)["status"] == "waiting"
    r = cc.post(path, token=a.token, json={})
    assert r.status_code == 200, r.text


def test_a_platform_admin_in_a_tenant_is_no_chat_agent_there(cc, tenant, desk):
    """X-Tenant-ID lets a platform admin act inside a tenant, but the admin is no user of
    that tenant: taking a chat would give it an agent the tenant does not have (no
    name, no capacity, invisible in /chat/agents)."""
    v = desk.visit()
    h = {"X-Tenant-ID": tenant.id}
    r = cc.post(f"{SESSIONS}/{v.id}/accept", token=cc.admin_token(), headers=h)
    assert 400 <= r.status_code < 500, r.text
    s = desk.session(v.id)
    assert (s["status"], s["agent_id"]) == ("waiting", None)
    # It may still read, and close a waiting chat.
    assert cc.get(f"{SESSIONS}/{v.id}", token=cc.admin_token(), headers=h).status_code == 200


def test_a_transfer_moves_the_chat_with_its_note(cc, tenant, desk):
    a, b, c, d = (desk.new_agent() for _ in range(4))
    sup = desk.new_agent(roles=("supervisor",))
    d.set("online", 1)
    vd = desk.visit()                                      # d is full
    assert desk.session(vd.id)["agent_id"] == d.id
    a.set("online", 3)
    v = desk.visit()
    assert desk.session(v.id)["agent_id"] == a.id
    b.set("online", 2)
    r = a.transfer(v.id, b.id, note="VIP \u2014 wants a refund")
    assert r.status_code == 200, r.text
    s = r.json()
    assert (s["status"], s["agent_id"]) == ("active", b.id)
    (t,) = s["transfers"]
    assert set(t) == {"id", "from_agent_id", "to_agent_id", "note", "created_by",
                      "created_at"}
    assert (t["from_agent_id"], t["to_agent_id"], t["note"], t["created_by"]) == \
        (a.id, b.id, "VIP \u2014 wants a refund", a.id)
    assert desk.session(v.id)["transfers"] == s["transfers"]
    assert (a.info()["active_count"], b.info()["active_count"]) == (0, 1)
    assert b.say(v.id, "Hi, I'm taking over").status_code == 201
    assert_error(a.say(v.id), 403, "forbidden")
    assert v.view()["agent"] == {"name": b.name}
    r = sup.transfer(v.id, a.id)                           # no note
    assert r.status_code == 200, r.text
    ts = r.json()["transfers"]
    assert [(x["from_agent_id"], x["to_agent_id"], x["created_by"]) for x in ts] == \
        [(a.id, b.id, a.id), (b.id, a.id, sup.id)]
    assert ts[1]["note"] in (None, "")
    ev = db_rows(cc, "SELECT type, data FROM events WHERE tenant_id = %s AND type LIKE"
                     " 'chat.session_transfer%%' ORDER BY id", (tenant.id,))
    assert [e["type"] for e in ev] == ["chat.session_transferred"] * 2, ev
    assert '"VIP' in ev[0]["data"]

    # Refusals, each leaving the chat where it was (with a).
    gone, _ = tenant.make_user(roles=["agent"])
    assert cc.delete(f"/api/v1/users/{gone['id']}",
                     token=tenant.admin_token).status_code == 204
    for to in (a.id, 999999999, gone["id"], "x", None):
        r = a.transfer(v.id, to)
        assert "to_agent_id" in detail_fields(assert_error(r, 400, "invalid_request")), to
    r = cc.post(f"{SESSIONS}/{v.id}/transfer", token=a.token, json={"note": "x"})
    assert "to_agent_id" in detail_fields(assert_error(r, 400, "invalid_request"))
    r = a.transfer(v.id, b.id, note="n" * 1001)
    assert "note" in detail_fields(assert_error(r, 400, "invalid_request"))
    r = a.transfer(v.id, b.id, bogus=1)
    assert "bogus" in detail_fields(assert_error(r, 400, "invalid_request"))
    assert_error(a.transfer(v.id, c.id), 409, "conflict")     # c is not online
    assert_error(a.transfer(v.id, d.id), 409, "conflict")     # d is full
    c.set("away", 3)
    assert_error(a.transfer(v.id, c.id), 409, "conflict")
    s = desk.session(v.id)
    assert (s["agent_id"], len(s["transfers"])) == (a.id, 2)
    # Only an active chat moves.
    a.set("away")
    b.set("away")
    w = desk.visit()
    c.set("online", 3)
    assert desk.session(w.id)["agent_id"] == c.id
    c.set("away")
    x = desk.visit()
    assert_error(sup.transfer(x.id, b.id), 409, "conflict")   # waiting
    assert a.close(v.id).status_code == 200
    b.set("online")
    assert_error(a.transfer(v.id, b.id), 409, "conflict")     # closed


@pytest.mark.parametrize("how", ["deleted", "disabled"])
def test_a_gone_agents_chats_go_back_to_the_queue(cc, tenant, desk, how):
    a, b = desk.new_agent(), desk.new_agent()
    a.set("online", 3)
    v1, v2 = desk.visit(), desk.visit()
    assert {desk.session(v.id)["agent_id"] for v in (v1, v2)} == {a.id}
    b.set("online", 1)
    if how == "deleted":
        r = cc.delete(f"/api/v1/users/{a.id}", token=tenant.admin_token)
        assert r.status_code == 204, r.text
    else:
        r = cc.patch(f"/api/v1/users/{a.id}", token=tenant.admin_token,
                     json={"status": "disabled"})
        assert r.status_code == 200, r.text
    got = [desk.session(v.id) for v in (v1, v2)]
    assert [(s["status"], s["agent_id"]) for s in got] == [("active", b.id),
                                                           ("waiting", None)]
    assert got[1]["position"] == 1
    assert a.id not in [x["user_id"] for x in cc.get(AGENTS, token=tenant.admin_token)
                        .json()["data"] if x["status"] == "online"]


def test_an_agent_closes_a_chat_once(cc, tenant, desk):
    a = desk.new_agent()
    a.set("online", 2)
    v = desk.visit()
    r = a.close(v.id)
    assert r.status_code == 200, r.text
    s = r.json()
    assert (s["status"], s["closed_by"], s["agent_id"]) == ("closed", "agent", a.id)
    assert s["closed_at"] is not None and s["position"] is None
    assert_error(a.close(v.id), 409, "conflict")
    assert_error(v.close(), 409, "conflict")
    assert v.view()["status"] == "closed" and v.view()["closed_at"] is not None
    closed = db_rows(cc, "SELECT entity_id FROM events WHERE tenant_id = %s"
                         " AND type = 'chat.session_closed'", (tenant.id,))
    assert [e["entity_id"] for e in closed] == [str(v.id)]


def test_a_voice_state_busy_agent_is_passed_over_until_it_frees(cc, tenant, desk):
    a = desk.new_agent()
    a.set("online", 3)
    a.voice("on_call")
    v1 = desk.visit()
    assert v1.created["status"] == "waiting"
    for state in ("wrap_up", "break"):
        a.voice(state)
        assert desk.session(v1.id)["status"] == "waiting", state
        assert a.info()["voice_state"] == state
    a.voice("available")                                   # frees a: takes v1 at once
    s = desk.session(v1.id)
    assert (s["status"], s["agent_id"]) == ("active", a.id)
    a.voice("offline")                                     # the chat status decides
    v2 = desk.visit()
    assert desk.session(v2.id)["agent_id"] == a.id
    # A busy agent is passed over for a free one even with more free capacity.
    a.set("online", 5)
    b = desk.new_agent()
    b.set("online", 1)
    a.voice("on_call")
    v3 = desk.visit()
    assert desk.session(v3.id)["agent_id"] == b.id
    v4 = desk.visit()
    assert desk.session(v4.id)["status"] == "waiting"      # b full, a on a call
    # Accepting by hand is still allowed (the voice state only stops offers).
    r = a.accept(v4.id)
    assert r.status_code == 200, r.text


def test_a_chat_left_unanswered_past_reassign_after_goes_to_another_agent(cc, tenant):
    d = Desk(cc, tenant, reassign_after=10)
    x, y = d.new_agent(), d.new_agent()
    x.set("online", 2)
    y.set("online", 2)
    v1 = d.visit()
    first = d.session(v1.id)["agent_id"]
    v2 = d.visit()
    second = d.session(v2.id)["agent_id"]
    assert {first, second} == {x.id, y.id}, (first, second)
    answering = x if second == x.id else y
    assert answering.say(v2.id, "Hi").status_code == 201    # answered: stays
    t0 = time.monotonic()
    moved = wait_until(lambda: (lambda s: s if s["agent_id"] not in (first, None) else None)(
        d.session(v1.id)), timeout=35, step=0.5, what="reassign")
    took = time.monotonic() - t0
    assert took >= 8, f"requeued after {took:.1f} s, before reassign_after (10 s)"
    assert (moved["status"], moved["agent_id"]) == ("active", second)
    assert d.session(v2.id)["agent_id"] == second
    assert moved["first_response_at"] is None
    ev = db_rows(cc, "SELECT type, entity_id FROM events WHERE tenant_id = %s AND type IN"
                     " ('chat.session_requeued', 'chat.session_assigned') ORDER BY id",
                 (tenant.id,))
    # Once, though every child of every node runs the job.
    assert [(e["type"], e["entity_id"]) for e in ev].count(
        ("chat.session_requeued", str(v1.id))) == 1, ev
    assert all(e["entity_id"] != str(v2.id) or e["type"] != "chat.session_requeued"
               for e in ev)


# ---- rate limits ------------------------------------------------------------------------

def test_sessions_per_address_are_limited_per_tenant_with_retry_after(cc, tenant, tenant2):
    """The default budget, 10 a minute per address in a tenant (the test profile lifts
    it: every test client is 127.0.0.1), on a second node."""
    second = cc.start_second_httpd(extra_conf="CCChatSessionsPerAddress 10")
    try:
        d, other = Desk(cc, tenant), Desk(cc, tenant)
        for i in range(10):
            r = start_chat(cc, d.key, base_url=second.base_url)
            assert r.status_code == 201, (i, r.status_code, r.text)
        r = start_chat(cc, d.key, base_url=second.base_url)
        assert_error(r, 429, "too_many_requests")
        retry = int(r.headers["Retry-After"])
        assert 1 <= retry <= 60, retry
        assert_cors(r)                                  # the widget may read Retry-After
        r = start_chat(cc, other.key, base_url=second.base_url)
        assert_error(r, 429, "too_many_requests")       # the same tenant
        r = start_chat(cc, Desk(cc, tenant2).key, base_url=second.base_url)
        assert r.status_code == 201, r.text             # another one
    finally:
        second.stop()
    assert len(db_rows(cc, "SELECT id FROM chat_sessions WHERE tenant_id = %s",
                       (tenant.id,))) == 10


def test_sessions_per_widget_are_limited(cc, tenant):
    second = cc.start_second_httpd(extra_conf="CCChatSessionsPerWidget 3")
    try:
        d, other = Desk(cc, tenant), Desk(cc, tenant)
        for _ in range(3):
            assert start_chat(cc, d.key, base_url=second.base_url).status_code == 201
        r = start_chat(cc, d.key, base_url=second.base_url)
        assert_error(r, 429, "too_many_requests")
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        assert start_chat(cc, other.key, base_url=second.base_url).status_code == 201
    finally:
        second.stop()


# ---- the agents' events -----------------------------------------------------------------

def chat_events(cc, token, after, want, timeout=10, prefix="chat."):
    """The events of types starting with prefix after position `after` (long-poll)
    until every type of want has been seen."""
    got, pos, deadline = [], after, time.monotonic() + timeout
    while True:
        body = poll(cc, token, after=pos, wait=1, limit=500)
        pos = max(pos, body["last_id"])
        got += [e for e in body["data"] if e["type"].startswith(prefix)]
        if want <= {e["type"] for e in got} or time.monotonic() > deadline:
            return got


def test_the_main_stream_carries_chat_events_to_chat_readers(cc, tenant, tenant2, desk):
    a, b = desk.new_agent(), desk.new_agent()
    blind = token_with_permissions(cc, tenant, "nochat", ["events.read", "users.read"])
    pos = drained(cc, a.token)
    v = desk.visit(name="Vera")
    a.set("online", 2)
    v.send("hello")
    a.say(v.id, "hi")
    b.set("online", 2)
    assert a.transfer(v.id, b.id, note="yours").status_code == 200
    assert b.close(v.id).status_code == 200
    a.set("away")
    b.set("away")
    w = desk.visit()
    assert a.accept(w.id).status_code == 200
    want = {"chat.session_created", "chat.queue_updated", "chat.agent_updated",
            "chat.session_assigned", "chat.message", "chat.session_transferred",
            "chat.session_closed", "chat.session_accepted"}
    evs = chat_events(cc, a.token, pos, want)
    assert want <= {e["type"] for e in evs}, \
        f"missing {sorted(want - {e['type'] for e in evs})} of {sorted({e['type'] for e in evs})}"
    assert all(e["tenant_id"] == tenant.id for e in evs)
    by_type = {}
    for e in evs:
        by_type.setdefault(e["type"], []).append(e)
    created = by_type["chat.session_created"]
    assert [e["entity_id"] for e in created] == [str(v.id), str(w.id)]
    assert created[0]["entity_type"] == "chat_session"
    assert created[0]["data"]["id"] == v.id and created[0]["data"]["status"] == "waiting"
    assigned = by_type["chat.session_assigned"][0]
    assert assigned["entity_id"] == str(v.id) and assigned["data"]["agent_id"] == a.id
    assert assigned["id"] > created[0]["id"]
    queue = by_type["chat.queue_updated"]
    assert all(e["entity_type"] == "chat_queue" for e in queue)
    assert queue[0]["data"] == {"waiting": 1, "sessions": [v.id]}
    assert any(e["data"]["waiting"] == 0 for e in queue)
    msgs = by_type["chat.message"]
    assert [(e["data"]["session_id"], e["data"]["message"]["body"]) for e in msgs
            if e["data"]["message"]["sender_type"] != "system"] == [(v.id, "hello"),
                                                                    (v.id, "hi")]
    tr = by_type["chat.session_transferred"][0]
    assert tr["data"]["agent_id"] == b.id and tr["data"]["transfer"]["note"] == "yours"
    closed = by_type["chat.session_closed"][0]
    assert closed["data"]["closed_by"] == "agent"
    assert by_type["chat.session_accepted"][0]["entity_id"] == str(w.id)
    agents = {e["entity_id"] for e in by_type["chat.agent_updated"]}
    assert agents == {str(a.id), str(b.id)}
    # Widget changes are chat.manage's: the admin sees them, an agent does not.
    CHAT_WIDGETS.patch_ok(cc, tenant, desk.widget["id"], {"greeting": "Hello again"})
    wev = chat_events(cc, tenant.admin_token, pos, {"chat_widget.updated"}, prefix="chat_")
    assert "chat_widget.updated" in {e["type"] for e in wev}
    assert [e for e in poll(cc, a.token, after=pos, limit=500)["data"]
            if e["type"].startswith("chat_widget.")] == []
    # Not for a reader without chat.read, nor for another tenant.
    assert [e for e in poll(cc, blind, after=pos, limit=500)["data"]
            if e["type"].startswith("chat.")] == []
    assert [e for e in poll(cc, tenant2.admin_token, after=pos, limit=500)["data"]
            if e["type"].startswith("chat.")] == []


# ---- the sessions list ------------------------------------------------------------------

def test_the_sessions_list_filters_and_sorts(cc, tenant, desk):
    other = Desk(cc, tenant)
    a = desk.new_agent()
    v1 = desk.visit()
    v2 = other.visit()
    v3 = desk.visit()
    a.accept(v2.id)
    v3.close()
    adm = tenant.admin_token

    def ids(query=""):
        body = cc.get(SESSIONS + query, token=adm)
        assert body.status_code == 200, body.text
        b = body.json()
        assert set(b) == {"data", "total", "page", "page_size"}
        for s in b["data"]:
            assert_session_shape(s)
            assert "transfers" not in s
        return [s["id"] for s in b["data"]]

    assert ids() == [v3.id, v2.id, v1.id]                  # newest first
    assert ids("?sort=created_at") == [v1.id, v2.id, v3.id]
    assert ids("?status=waiting") == [v1.id]
    assert ids("?status=active") == [v2.id]
    assert ids("?status=closed") == [v3.id]
    assert ids(f"?agent_id={a.id}") == [v2.id]
    assert ids(f"?widget_id={desk.widget['id']}") == [v3.id, v1.id]
    assert ids(f"?widget_id={desk.widget['id']}&status=closed") == [v3.id]
    assert ids("?page=2&page_size=2") == [v1.id]
    for query, field in (("?status=open", "status"), ("?sort=id", "sort"),
                         ("?agent_id=x", "agent_id"), ("?widget_id=x", "widget_id"),
                         ("?page_size=0", "page_size")):
        assert field in detail_fields(assert_error(cc.get(SESSIONS + query, token=adm), 400,
                                                   "invalid_request")), query


# ---- the OpenAPI document ---------------------------------------------------------------

def test_every_answer_matches_the_openapi_document(cc, tenant, desk):
    check = openapi_checker(cc)
    one = WIDGETS + "/{id}"
    w = desk.widget
    CHAT_WIDGETS.check_answers(check, cc, tenant.admin_token, w["id"], {"name": "Renamed"})
    check(CHAT_WIDGETS.create(cc, tenant), "POST", WIDGETS, 201)
    a = desk.new_agent()
    check(cc.get(f"{AGENTS}/{a.id}", token=a.token), "GET", AGENTS + "/{user_id}", 200)
    check(a.put({"status": "away"}), "PUT", AGENTS + "/{user_id}", 200)   # takes none
    check(a.put({"status": "nope"}), "PUT", AGENTS + "/{user_id}", 400)
    check(cc.get(AGENTS, token=a.token), "GET", AGENTS, 200)
    r = start_chat(cc, desk.key, body={"name": "Vera"})
    check(r, "POST", V + "/widgets/{public_key}/sessions", 201)
    v = Visitor(desk, r.json(), CHAT_ORIGIN)
    check(start_chat(cc, desk.key, origin=EVIL), "POST",
          V + "/widgets/{public_key}/sessions", 403)
    check(cc.get(f"{V}/widgets/{desk.key}", headers=visitor_headers()), "GET",
          V + "/widgets/{public_key}", 200)
    check(v.get(), "GET", V + "/sessions/{id}", 200)
    check(v.send(), "POST", V + "/sessions/{id}/messages", 201)
    check(v.messages(), "GET", V + "/sessions/{id}/messages", 200)
    check(cc.get(f"{V}/sessions/{v.id}", headers=visitor_headers()), "GET",
          V + "/sessions/{id}", 401)
    sp = SESSIONS + "/{id}"
    check(cc.get(SESSIONS, token=a.token), "GET", SESSIONS, 200)
    check(cc.get(f"{SESSIONS}/{v.id}", token=a.token), "GET", sp, 200)
    check(cc.get(f"{SESSIONS}/999999999", token=a.token), "GET", sp, 404)
    check(a.say(v.id), "POST", sp + "/messages", 403)
    check(a.accept(v.id), "POST", sp + "/accept", 200)
    check(a.accept(v.id), "POST", sp + "/accept", 409)
    check(a.say(v.id), "POST", sp + "/messages", 201)
    check(cc.get(f"{SESSIONS}/{v.id}/messages", token=a.token), "GET", sp + "/messages",
          200)
    b = desk.new_agent()
    b.set("online", 2)
    check(a.transfer(v.id, b.id, note="n"), "POST", sp + "/transfer", 200)
    check(b.transfer(v.id, b.id), "POST", sp + "/transfer", 400)
    check(b.close(v.id), "POST", sp + "/close", 200)
    check(v.close(), "POST", V + "/sessions/{id}/close", 409)
    check(CHAT_WIDGETS.delete(cc, tenant, w["id"]), "DELETE", one, 204)


# ---- the review's findings ----------------------------------------------------------

def test_the_token_in_the_stream_query_never_reaches_the_access_log(cc, tenant, desk):
    """?token= in any spelling the query parser accepts (any case, percent-encoded key),
    with or without an Authorization header, is blanked in the logged request line."""
    import http.client
    v = desk.visit()
    host, port = cc.base_url.split("//")[1].split(":")
    keys = ["token", "Token", "TOKEN", "%74oken", "to%6Ben"]
    for i, key in enumerate(keys):
        for with_header in (False, True):
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            h = {"Origin": CHAT_ORIGIN, "Accept": "text/event-stream", "Connection": "close"}
            if with_header:
                h["Authorization"] = f"Visitor {v.token}"
            conn.request("HEAD", f"{V}/sessions/{v.id}/events?a=1&{key}={v.token}&b={i}",
                         headers=h)
            r = conn.getresponse()
            assert r.status == 200, (key, with_header, r.status)
            conn.close()
    deadline = time.time() + 5
    while time.time() < deadline:
        log = cc.access_log.read_text(errors="replace")
        if log.count(f"/sessions/{v.id}/events?a=1&") >= 2 * len(keys):
            break
        time.sleep(0.2)
    assert log.count(f"/sessions/{v.id}/events?a=1&") >= 2 * len(keys)
    assert v.token not in log
    assert "x" * 43 in log


def test_a_session_has_two_streams_at_most_in_a_child(cc, tenant, desk, streams):
    v = desk.visit()
    opened = []
    for _ in range(6):           # two children: 2 each at most, then 429 (one node's)
        s = v.stream(base_url=cc.base_url)
        streams.append(s)
        opened.append(s.status)
    assert opened.count(200) <= 4 and 429 in opened, opened
    refused = [s for s in streams if s.status == 429]
    assert refused[0].r.headers.get("Retry-After") == "5"
    # The agents' own stream places are not the visitors'.
    r = requests.get(cc.base_url + "/api/v1/events/stream", stream=True, timeout=(5, 5),
                     headers={"Authorization": f"Bearer {tenant.admin_token}"})
    try:
        assert r.status_code == 200
    finally:
        r.close()


def test_a_disabled_user_is_no_chat_agent_and_no_transfer_target(cc, tenant, desk):
    a, b = desk.new_agent(), desk.new_agent()
    a.set("online", 2)
    b.set("online", 2)
    v = desk.visit()
    holder = a if desk.session(v.id)["agent_id"] == a.id else b
    other = b if holder is a else a
    r = cc.patch(f"/api/v1/users/{other.id}", token=tenant.admin_token,
                 json={"status": "disabled"})
    assert r.status_code == 200, r.text
    r = holder.transfer(v.id, other.id)
    assert "to_agent_id" in detail_fields(assert_error(r, 400, "invalid_request"))
    r = other.put({"status": "online"}, token=tenant.admin_token)
    assert_error(r, 404, "not_found")
    assert other.id not in [x["user_id"] for x in
                            cc.get(AGENTS, token=tenant.admin_token).json()["data"]]
    assert desk.session(v.id)["agent_id"] == holder.id


def test_a_session_whose_token_expired_is_closed_by_the_job(cc, tenant, desk):
    a = desk.new_agent()
    a.set("online", 1)
    busy, waiting = desk.visit(), desk.visit()
    assert desk.session(waiting.id)["status"] == "waiting"
    db_exec(cc, "UPDATE chat_sessions SET token_expires_at = UTC_TIMESTAMP()"
                " - INTERVAL 1 SECOND WHERE id IN (%s, %s)", (busy.id, waiting.id))
    deadline = time.time() + 15
    while time.time() < deadline:
        states = [desk.session(x.id) for x in (busy, waiting)]
        if all(x["status"] == "closed" for x in states):
            break
        time.sleep(0.5)
    assert [(x["status"], x["closed_by"]) for x in states] == [("closed", "system")] * 2
    assert a.info()["active_count"] == 0


def test_a_waiting_chat_whose_visitor_is_gone_is_closed(cc, tenant, desk, streams):
    """A waiting visitor is there while its stream is open (it says so on connect, then
    every minute) or it writes; one gone for CCChatVisitorTimeout (300 s) is closed."""
    gone, here = desk.visit(), desk.visit()
    # here: seen 200 s ago (not yet gone), then its stream connects and says it is there.
    db_exec(cc, "UPDATE chat_sessions SET visitor_seen_at = UTC_TIMESTAMP(6)"
                " - INTERVAL 200 SECOND WHERE id = %s", (here.id,))
    db_exec(cc, "UPDATE chat_sessions SET visitor_seen_at = UTC_TIMESTAMP(6)"
                " - INTERVAL 1 HOUR WHERE id = %s", (gone.id,))
    s = here.stream()
    streams.append(s)
    assert s.status == 200
    deadline = time.time() + 15
    while time.time() < deadline and desk.session(gone.id)["status"] != "closed":
        time.sleep(0.5)
    closed = desk.session(gone.id)
    assert (closed["status"], closed["closed_by"]) == ("closed", "system")
    assert desk.session(here.id)["status"] == "waiting"
    seen = db_rows(cc, "SELECT TIMESTAMPDIFF(SECOND, visitor_seen_at, UTC_TIMESTAMP(6)) AS age"
                       " FROM chat_sessions WHERE id = %s", (here.id,))[0]["age"]
    assert seen < 60, seen
    # A message of its own counts too.
    db_exec(cc, "UPDATE chat_sessions SET visitor_seen_at = UTC_TIMESTAMP(6)"
                " - INTERVAL 200 SECOND WHERE id = %s", (here.id,))
    assert here.send("still here").status_code == 201
    seen = db_rows(cc, "SELECT TIMESTAMPDIFF(SECOND, visitor_seen_at, UTC_TIMESTAMP(6)) AS age"
                       " FROM chat_sessions WHERE id = %s", (here.id,))[0]["age"]
    assert seen < 60, seen
