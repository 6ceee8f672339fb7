"""API.md "Live calls (Asterisk link)": the link to Asterisk's manager interface
(mod_callcenter/cc_ami_link.c), the call.* events, GET/POST/DELETE /api/v1/calls and the
agent states that follow calls, against the fake Asterisk of t/integration/fakeami.py.

The link runs on extra httpd nodes of the environment (cc.start_second_httpd with
CCAsteriskManager pointing at the fake); the main httpd has none, which is how a node
without a link behaves (its /readyz says nothing of Asterisk, its POST /calls works when
another node's link is up).
"""

import json
import os
import time

import pytest

from cchelpers import assert_error, db_rows, wait_until
from ccobjects import new_ext, new_number, token_with_permissions, uniq_name
from fakeami import FakeAmi

CALLS = "/api/v1/calls"
CALL_EVENTS = ("call.queued", "call.ringing", "call.answered", "call.abandoned",
               "call.hangup")


def link_conf(ami, cred, node):
    return (f"CCAsteriskManager 127.0.0.1:{ami.port}\n"
            f'CCAsteriskCredentialFile "{cred}"\n'
            f"CCAsteriskNode {node}\n")


def link_state(base_url):
    import requests
    r = requests.get(base_url + "/readyz", timeout=5)
    return (r.json().get("asterisk") or {}).get("state") if r.status_code == 200 else None


@pytest.fixture(scope="module")
def ami():
    fake = FakeAmi(port=0, username="ccapi", secret="s3cret-for-tests")
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def cred(cc):
    path = cc.tmpdir / "ami-credential"
    path.write_text("ccapi:s3cret-for-tests\n")
    os.chmod(path, 0o600)
    return path


@pytest.fixture(scope="module")
def node(cc, ami, cred):
    """An httpd node whose link is up."""
    n = cc.start_second_httpd(name="httpd-ami", extra_conf=link_conf(ami, cred, "node-a"))
    ami.wait_logged_in(1, timeout=15)
    assert wait_until(lambda: link_state(n.base_url) == "up", timeout=15)
    yield n
    n.stop()


class Floor:
    """A tenant's queue (wrapuptime 1 s) with an agent's endpoint in it, a DID routed to
    the queue, and the fake's view of both endpoints."""

    def __init__(self, cc, ami, tenant):
        self.cc, self.ami, self.tenant = cc, ami, tenant
        self.agent, self.token = tenant.make_user(roles=["agent"])
        self.queue = self.post("/api/v1/queues", {"name": uniq_name("Live"),
                                                  "wrapuptime": 1})
        self.ep = self.post("/api/v1/endpoints", {"extension": new_ext(),
                                                  "user_id": self.agent["id"]})
        self.post(f"/api/v1/queues/{self.queue['id']}/members",
                  {"endpoint_id": self.ep["id"]})
        self.did = self.post("/api/v1/dids", {"number": new_number(),
                                              "destination_type": "queue",
                                              "destination_id": self.queue["id"]})
        self.resource = self.ep["sip_username"]
        ami.endpoint(self.resource, tenantid=tenant.id, accountcode=tenant.id,
                     context=f"tenant-{tenant.slug}", cid_num=self.ep["extension"])

    def post(self, path, body):
        r = self.cc.post(path, token=self.tenant.admin_token, json=body)
        assert r.status_code == 201, r.text
        return r.json()

    def call(self, caller="+493012345678", name="ACME Corp"):
        return self.ami.inbound_call(tenantid=self.tenant.id, accountcode=self.tenant.id,
                                     caller_num=caller, caller_name=name,
                                     did=self.did["number"].lstrip("+"))

    def agent_state(self):
        r = self.cc.get(f"/api/v1/agents/{self.agent['id']}/state", token=self.token)
        assert r.status_code == 200, r.text
        return r.json()["state"]


@pytest.fixture
def floor(cc, ami, node, tenant):
    return Floor(cc, ami, tenant)


def call_events(cc, tenant, call_id=None):
    rows = db_rows(cc, "SELECT type, data FROM events WHERE tenant_id = %s"
                       " AND type LIKE 'call.%%' ORDER BY id", (tenant.id,))
    out = [(r["type"], json.loads(r["data"])) for r in rows]
    return [e for e in out if call_id is None or e[1]["call_id"] == call_id]


def wait_events(cc, tenant, call_id, types, timeout=10):
    got = wait_until(lambda: [t for t, _ in call_events(cc, tenant, call_id)] == types
                     and types, timeout=timeout)
    assert got, (types, call_events(cc, tenant, call_id))
    return call_events(cc, tenant, call_id)


def live(cc, token):
    r = cc.get(CALLS, token=token)
    assert r.status_code == 200, r.text
    return {c["call_id"]: c for c in r.json()["data"]}


# ---- the link ---------------------------------------------------------------------------

def test_readyz_shows_the_nodes_link_and_the_login_it_made(cc, ami, node):
    import requests
    body = requests.get(node.base_url + "/readyz", timeout=5).json()
    assert body["status"] == "ready"
    assert body["asterisk"]["node"] == "node-a" and body["asterisk"]["state"] == "up"
    assert body["asterisk"]["since"].endswith("Z")
    assert "asterisk" not in cc.get("/readyz").json()     # no link on this node
    login = ami.actions("Login")[-1]
    assert login["Username"] == "ccapi" and login["Secret"] == "s3cret-for-tests"
    assert login["Events"] == "call,agent"                 # not dialplan, VarSet, ...
    assert ami.actions("CoreShowChannels")                 # the resync after login
    assert "s3cret" not in node.error_log_text()


# ---- call events ------------------------------------------------------------------------

def test_an_answered_queue_call_gives_its_events_once_and_moves_the_agent(cc, ami, floor,
                                                                          tenant, tenant2):
    contact = floor.post("/api/v1/contacts", {"name": "Ada Caller",
                                              "phone": "+493012345678"})
    call = floor.call()
    call.enter_queue(floor.queue["asterisk_name"])
    leg = call.ring_agent(floor.resource)
    wait_events(cc, tenant, call.uniqueid, ["call.queued", "call.ringing"])
    calls = live(cc, floor.token)
    assert calls[call.uniqueid]["state"] == "ringing"
    leg.answer()
    events = wait_events(cc, tenant, call.uniqueid,
                         ["call.queued", "call.ringing", "call.answered"])
    assert wait_until(lambda: floor.agent_state() == "on_call")
    ringing = events[1][1]
    assert ringing["contact"] == {"id": contact["id"], "name": "Ada Caller"}
    answered = events[2][1]
    assert answered["direction"] == "inbound" and answered["state"] == "answered"
    assert answered["from"] == "+493012345678"
    assert answered["did"] == floor.did["number"]
    assert answered["queue"] == floor.queue["name"]
    assert answered["queue_id"] == floor.queue["id"]
    assert answered["agent_id"] == floor.agent["id"]
    assert answered["endpoint_id"] == floor.ep["id"]
    assert answered["answered_at"] and answered["ended_at"] is None
    assert live(cc, floor.token)[call.uniqueid]["state"] == "answered"
    assert live(cc, tenant2.admin_token) == {}              # never another tenant's
    call.hangup(by="caller")
    events = wait_events(cc, tenant, call.uniqueid,
                         ["call.queued", "call.ringing", "call.answered", "call.hangup"])
    assert events[3][1]["ended_at"] and events[3][1]["state"] == "ended"
    assert call.uniqueid not in live(cc, floor.token)
    # wrap_up at the agent leg's hang-up, available after the queue's wrapuptime (1 s)
    assert wait_until(lambda: floor.agent_state() in ("wrap_up", "available"))
    assert wait_until(lambda: floor.agent_state() == "available", timeout=10)
    states = db_rows(cc, "SELECT state FROM agent_states WHERE tenant_id = %s"
                         " AND user_id = %s ORDER BY id", (tenant.id, floor.agent["id"]))
    assert [r["state"] for r in states] == ["on_call", "wrap_up", "available"]
    assert call_events(cc, tenant2) == []


def test_an_abandoned_call_is_queued_ringing_abandoned_and_hung_up(cc, ami, floor, tenant):
    call = floor.call(caller="+4930999000")
    call.enter_queue(floor.queue["asterisk_name"])
    call.ring_agent(floor.resource)
    call.abandon()
    wait_events(cc, tenant, call.uniqueid,
                ["call.queued", "call.ringing", "call.abandoned", "call.hangup"])
    assert floor.agent_state() == "offline"                 # never answered: untouched
    assert call.uniqueid not in live(cc, floor.token)


def test_a_direct_call_to_an_endpoint_rings_and_answers_without_a_queue(cc, ami, floor,
                                                                        tenant):
    call = floor.call(caller="+4930555111")
    leg = call.dial_endpoint(floor.resource, answer=False)
    wait_events(cc, tenant, call.uniqueid, ["call.ringing"])
    leg.answer()
    events = wait_events(cc, tenant, call.uniqueid, ["call.ringing", "call.answered"])
    assert events[1][1]["queue"] is None and events[0][1]["contact"] is None
    call.hangup(by="agent")
    wait_events(cc, tenant, call.uniqueid, ["call.ringing", "call.answered", "call.hangup"])


def test_a_blind_transfer_rings_the_next_agent_on_the_same_call(cc, ami, floor, tenant):
    other, _ = floor.tenant.make_user(roles=["agent"])
    ep2 = floor.post("/api/v1/endpoints", {"extension": new_ext(), "user_id": other["id"]})
    ami.endpoint(ep2["sip_username"], tenantid=tenant.id, accountcode=tenant.id)
    call = floor.call(caller="+4930555222")
    call.enter_queue(floor.queue["asterisk_name"])
    leg = call.ring_agent(floor.resource)
    leg.answer()
    leg.blind_transfer(ep2["sip_username"], exten=ep2["extension"])
    events = wait_events(cc, tenant, call.uniqueid,
                         ["call.queued", "call.ringing", "call.answered", "call.ringing",
                          "call.answered"])
    assert events[4][1]["agent_id"] == other["id"]
    assert events[4][1]["endpoint_id"] == ep2["id"]
    call.hangup(by="caller")
    wait_events(cc, tenant, call.uniqueid,
                ["call.queued", "call.ringing", "call.answered", "call.ringing",
                 "call.answered", "call.hangup"])


def test_calls_of_unknown_tenants_are_ignored(cc, ami, floor, tenant):
    before = db_rows(cc, "SELECT COUNT(*) AS n FROM live_calls")[0]["n"]
    call = ami.inbound_call(tenantid="no-such-tenant", accountcode="", caller_num="123",
                            did="999999999")
    call.enter_queue("nobody-queue")
    call.abandon()
    time.sleep(1.0)
    assert db_rows(cc, "SELECT COUNT(*) AS n FROM live_calls")[0]["n"] == before


# ---- several nodes ----------------------------------------------------------------------

def test_two_nodes_make_one_event_and_one_state_change_per_asterisk_event(cc, ami, cred,
                                                                          floor, tenant):
    second = cc.start_second_httpd(name="httpd-ami-b",
                                   extra_conf=link_conf(ami, cred, "node-b"))
    try:
        ami.wait_logged_in(2, timeout=15)
        assert wait_until(lambda: link_state(second.base_url) == "up", timeout=15)
        for _ in range(3):
            call = floor.call(caller="+4930777000")
            call.enter_queue(floor.queue["asterisk_name"])
            leg = call.ring_agent(floor.resource)
            leg.answer()
            call.hangup(by="caller")
            wait_events(cc, tenant, call.uniqueid,
                        ["call.queued", "call.ringing", "call.answered", "call.hangup"])
            assert wait_until(lambda: floor.agent_state() == "available", timeout=10)
        states = db_rows(cc, "SELECT state FROM agent_states WHERE tenant_id = %s"
                             " AND user_id = %s ORDER BY id", (tenant.id, floor.agent["id"]))
        assert [r["state"] for r in states] == ["on_call", "wrap_up", "available"] * 3
    finally:
        second.stop()


# ---- click-to-call and hang-up ----------------------------------------------------------

def test_click_to_call_rings_the_own_endpoint_then_dials(cc, ami, floor, tenant):
    to = "+4989123456"
    r = cc.post(CALLS, token=floor.token, json={"to": to})
    assert r.status_code == 202, r.text
    call_id = r.json()["call_id"]
    orig = ami.wait_action("Originate", timeout=10)[-1]
    assert orig["Channel"] == "PJSIP/" + floor.resource
    assert orig["Context"] == f"tenant-{tenant.slug}" and orig["Exten"] == to
    assert orig["ChannelId"] == call_id and orig["Async"] == "true"
    assert orig["Timeout"] == "30000"                        # AMI counts milliseconds
    events = wait_events(cc, tenant, call_id, ["call.ringing", "call.answered"])
    assert events[1][1]["direction"] == "outbound"
    assert events[1][1]["endpoint_id"] == floor.ep["id"]
    assert live(cc, floor.token)[call_id]["to"] == to
    assert wait_until(lambda: floor.agent_state() == "on_call")
    audit = db_rows(cc, "SELECT action FROM audit_logs WHERE tenant_id = %s"
                        " AND entity_id = %s", (tenant.id, call_id))
    assert [r["action"] for r in audit] == ["call.originate"]
    r = cc.delete(f"{CALLS}/{call_id}", token=floor.token)
    assert r.status_code == 202, r.text
    hang = ami.wait_action("Hangup", timeout=10)[-1]
    assert hang["Channel"] == call_id
    wait_events(cc, tenant, call_id, ["call.ringing", "call.answered", "call.hangup"])
    assert call_id not in live(cc, floor.token)


def test_a_click_to_call_that_fails_ends(cc, ami, floor, tenant):
    ami.script_originate(floor.resource, ["unavailable"])
    try:
        r = cc.post(CALLS, token=floor.token, json={"to": "2001"})
        assert r.status_code == 202, r.text
        call_id = r.json()["call_id"]
        wait_events(cc, tenant, call_id, ["call.hangup"])
        assert call_id not in live(cc, floor.token)
    finally:
        ami.script_originate(floor.resource, ["answer"])


def test_click_to_call_errors(cc, ami, floor, tenant, tenant2):
    def commands():
        return db_rows(cc, "SELECT COUNT(*) AS n FROM call_commands WHERE tenant_id = %s",
                       (tenant.id,))[0]["n"]

    before = commands()
    for bad in ({"to": "1"}, {"to": "+12ab"}, {"to": 123}, {}, {"to": "12", "x": 1},
                {"to": "12", "endpoint_id": "7"}):
        assert_error(cc.post(CALLS, token=floor.token, json=bad), 400, "invalid_request")
    for query in ("page_size=0", "sort=to", "page=x"):
        assert_error(cc.get(f"{CALLS}?{query}", token=floor.token), 400, "invalid_request")
    assert commands() == before                             # nothing was asked of Asterisk
    other = Floor(cc, ami, tenant2)
    r = cc.post(CALLS, token=floor.token, json={"to": "2001", "endpoint_id": other.ep["id"]})
    assert_error(r, 400, "invalid_request", "endpoint_id")
    # someone else's endpoint: agents.manage
    _, plain = tenant.make_user(roles=["agent"])
    r = cc.post(CALLS, token=plain, json={"to": "2001", "endpoint_id": floor.ep["id"]})
    assert_error(r, 403, "forbidden")
    r = cc.post(CALLS, token=plain, json={"to": "2001"})   # no endpoint of one's own
    assert_error(r, 400, "invalid_request", "endpoint_id")
    r = cc.post(CALLS, token=tenant.admin_token,
                json={"to": "2001", "endpoint_id": floor.ep["id"]})
    assert r.status_code == 202, r.text
    call_id = r.json()["call_id"]
    wait_events(cc, tenant, call_id, ["call.ringing", "call.answered"])
    # another tenant's call is not found for any method
    assert_error(cc.delete(f"{CALLS}/{call_id}", token=tenant2.admin_token), 404,
                 "not_found")
    assert call_id not in live(cc, tenant2.admin_token)
    assert_error(cc.delete(f"{CALLS}/{call_id}", token=plain), 403, "forbidden")
    assert_error(cc.delete(f"{CALLS}/nope", token=floor.token), 404, "not_found")
    assert_error(cc.delete(f"{CALLS}/" + "x" * 200, token=floor.token), 404, "not_found")
    assert cc.delete(f"{CALLS}/{call_id}", token=tenant.admin_token).status_code == 202
    wait_events(cc, tenant, call_id, ["call.ringing", "call.answered", "call.hangup"])


def test_calls_need_agents_read(cc, floor, tenant):
    token = token_with_permissions(cc, tenant, "nocalls", ["users.read"])
    assert_error(cc.get(CALLS, token=token), 403, "forbidden")
    assert_error(cc.post(CALLS, token=token, json={"to": "2001"}), 403, "forbidden")
    assert_error(cc.delete(f"{CALLS}/x", token=token), 403, "forbidden")
    assert cc.get(CALLS).status_code == 401


# ---- Asterisk goes away -----------------------------------------------------------------

def test_the_link_reconnects_and_the_calls_list_recovers(cc, ami, node, floor, tenant):
    # a call that ends while the link is away, and one that starts meanwhile
    gone = floor.call(caller="+4930111222")
    gone.enter_queue(floor.queue["asterisk_name"])
    gone.ring_agent(floor.resource).answer()
    wait_events(cc, tenant, gone.uniqueid, ["call.queued", "call.ringing", "call.answered"])
    ami.kill(keep_channels=True)                            # the connection breaks
    assert wait_until(lambda: link_state(node.base_url) == "down", timeout=10)
    r = cc.post(CALLS, token=floor.token, json={"to": "2001"})
    assert_error(r, 503, "unavailable")
    assert r.headers.get("Retry-After")
    assert_error(cc.delete(f"{CALLS}/{gone.uniqueid}", token=floor.token), 503, "unavailable")
    gone.hangup(by="caller")                                # nobody hears these events
    new = floor.call(caller="+4930333444")
    new.enter_queue(floor.queue["asterisk_name"])
    ami.restart()
    assert wait_until(lambda: link_state(node.base_url) == "up", timeout=20)
    calls = wait_until(lambda: (lambda c: c if gone.uniqueid not in c
                                and new.uniqueid in c else None)(live(cc, floor.token)),
                       timeout=10)
    assert calls, live(cc, floor.token)
    types = [t for t, _ in call_events(cc, tenant, gone.uniqueid)]
    assert types == ["call.queued", "call.ringing", "call.answered", "call.hangup"]
    new.abandon()
    wait_until(lambda: new.uniqueid not in live(cc, floor.token))
    assert "link down" in node.error_log_text() or "Asterisk link down" in \
        node.error_log_text()


# ---- configuration ----------------------------------------------------------------------

@pytest.mark.parametrize("content,problem", [
    ("ccapi\n", "must hold username:secret"),
    (":zz9secret\n", "must hold username:secret"),
    ("ccapi:\n", "must hold username:secret"),
    ("cc\tapi:zz9secret\n", "one line of printable ASCII"),
    ("ccapi:zz9secret\nmore\n", "one line of printable ASCII"),
])
def test_a_bad_credential_file_stops_the_configuration(cc, content, problem):
    path = cc.tmpdir / "ami-bad-credential"
    path.write_text(content)
    rc, out = cc.config_test(cc.conf_text() + f'\nCCAsteriskManager 127.0.0.1:5038\n'
                             f'CCAsteriskCredentialFile "{path}"\n')
    assert rc != 0 and problem in out, out
    assert "zz9secret" not in out                     # never the file's content


@pytest.mark.parametrize("value", ["127.0.0.1", "127.0.0.1:0", ":5038", "host:port",
                                   "[::1", "127.0.0.1:99999"])
def test_a_bad_manager_address_stops_the_configuration(cc, value):
    rc, out = cc.config_test(cc.conf_text() + f"\nCCAsteriskManager {value}\n")
    assert rc != 0 and "CCAsteriskManager must be host:port" in out, out


def test_a_manager_without_credentials_stops_the_configuration(cc):
    rc, out = cc.config_test(cc.conf_text() + "\nCCAsteriskManager 127.0.0.1:5038\n")
    assert rc != 0 and "CCAsteriskManager needs CCAsteriskCredentialFile" in out, out


def test_an_agent_who_takes_a_break_during_wrap_up_stays_on_break(cc, ami, floor, tenant):
    r = cc.patch(f"/api/v1/queues/{floor.queue['id']}", token=tenant.admin_token,
                 json={"wrapuptime": 3})
    assert r.status_code == 200, r.text
    call = floor.call(caller="+4930444555")
    call.enter_queue(floor.queue["asterisk_name"])
    call.ring_agent(floor.resource).answer()
    assert wait_until(lambda: floor.agent_state() == "on_call")
    call.hangup(by="agent")
    assert wait_until(lambda: floor.agent_state() == "wrap_up")
    r = cc.put(f"/api/v1/agents/{floor.agent['id']}/state", token=floor.token,
               json={"state": "break", "reason": "coffee"})
    assert r.status_code == 200, r.text
    time.sleep(4.5)                                         # past the wrap-up's end
    assert floor.agent_state() == "break"
    states = db_rows(cc, "SELECT state FROM agent_states WHERE tenant_id = %s"
                         " AND user_id = %s ORDER BY id", (tenant.id, floor.agent["id"]))
    assert [r["state"] for r in states] == ["on_call", "wrap_up", "break"]
    audit = db_rows(cc, "SELECT action, actor_type FROM audit_logs WHERE tenant_id = %s"
                        " AND entity_id = %s AND action = 'agent.state_change' ORDER BY id",
                    (tenant.id, str(floor.agent["id"])))
    assert [a["actor_type"] for a in audit] == ["system", "system", "user"]


def test_the_link_directives_belong_to_the_main_server(cc):
    rc, out = cc.config_test(cc.conf_text() + "\n<VirtualHost 127.0.0.1:1>\n"
                             "CCAsteriskManager 127.0.0.1:5038\n</VirtualHost>\n")
    assert rc != 0 and "belongs to the main server" in out, out


def test_a_second_call_that_only_rings_leaves_the_agent_on_the_first(cc, ami, floor, tenant):
    first = floor.call(caller="+4930666777")
    first.enter_queue(floor.queue["asterisk_name"])
    first.ring_agent(floor.resource).answer()
    assert wait_until(lambda: floor.agent_state() == "on_call")
    waiting = floor.call(caller="+4930666888")
    waiting.dial_endpoint(floor.resource, answer=False)     # call waiting at the phone
    wait_events(cc, tenant, waiting.uniqueid, ["call.ringing"])
    waiting.abandon()                                       # the caller gives up
    wait_events(cc, tenant, waiting.uniqueid, ["call.ringing", "call.hangup"])
    time.sleep(1.5)
    assert floor.agent_state() == "on_call"
    first.hangup(by="caller")
    assert wait_until(lambda: floor.agent_state() == "available", timeout=10)


def test_an_agent_on_break_who_takes_a_call_goes_back_on_break(cc, ami, floor, tenant):
    r = cc.put(f"/api/v1/agents/{floor.agent['id']}/state", token=floor.token,
               json={"state": "break", "reason": "lunch"})
    assert r.status_code == 200, r.text

    def paused():
        return [m["paused"] for m in db_rows(
            cc, "SELECT qm.paused FROM queue_members qm JOIN endpoints e"
                " ON qm.interface = CONCAT('PJSIP/', e.asterisk_id) WHERE e.id = %s",
            (floor.ep["id"],))]

    assert paused() == [1]
    call = floor.call(caller="+4930222333")
    call.dial_endpoint(floor.resource)                      # a direct call still rings
    assert wait_until(lambda: floor.agent_state() == "on_call")
    assert paused() == [1]                                  # no queue call meanwhile
    call.hangup(by="caller")
    assert wait_until(lambda: floor.agent_state() == "break", timeout=10)
    r = cc.get(f"/api/v1/agents/{floor.agent['id']}/state", token=floor.token)
    assert r.json()["reason"] == "lunch"
    assert paused() == [1]
    states = db_rows(cc, "SELECT state, reason FROM agent_states WHERE tenant_id = %s"
                         " AND user_id = %s ORDER BY id", (tenant.id, floor.agent["id"]))
    assert [(s["state"], s["reason"]) for s in states] == [
        ("break", "lunch"), ("on_call", None), ("wrap_up", None), ("break", "lunch")]


def test_an_internal_call_puts_both_agents_on_it(cc, ami, floor, tenant):
    other, other_token = floor.tenant.make_user(roles=["agent"])
    ep2 = floor.post("/api/v1/endpoints", {"extension": new_ext(), "user_id": other["id"]})
    ami.endpoint(ep2["sip_username"], tenantid=tenant.id, accountcode=tenant.id)
    # the first channel is the caller's phone (an endpoint of ours, not a trunk)
    call = ami.inbound_call(tenantid=tenant.id, accountcode=tenant.id,
                            caller_num=floor.ep["extension"], did=ep2["extension"],
                            trunk=floor.resource)
    call.dial_endpoint(ep2["sip_username"])
    events = wait_events(cc, tenant, call.uniqueid, ["call.ringing", "call.answered"])
    assert events[1][1]["direction"] == "internal"
    assert events[1][1]["agent_id"] == other["id"]

    def state_of(uid, token):
        return cc.get(f"/api/v1/agents/{uid}/state", token=token).json()["state"]

    assert wait_until(lambda: state_of(other["id"], other_token) == "on_call")
    assert wait_until(lambda: floor.agent_state() == "on_call")
    call.hangup(by="caller")
    wait_events(cc, tenant, call.uniqueid, ["call.ringing", "call.answered", "call.hangup"])
    assert wait_until(lambda: floor.agent_state() == "available", timeout=10)
    assert wait_until(lambda: state_of(other["id"], other_token) == "available", timeout=10)
