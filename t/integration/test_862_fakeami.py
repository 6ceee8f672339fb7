"""Self-test of t/integration/fakeami.py, the fake Asterisk Manager Interface the Asterisk
link's tests (issue 14) run against: over a real loopback socket, the wire format
(banner, CRLF, LF from the client, case-insensitive header names), login and its
failure, the errors Asterisk gives (main/manager.c process_message()), Ping, the event
order of an answered queue call and an abandoned one (reference note §3.6), the channel
block's field order (§3.3), CoreShowChannels during and after a call, Originate with an
answer / no answer / busy (§3.8), Hangup, kill and restart.

Needs neither httpd nor the database: the module overrides conftest's autouse error-log
gate (which would start the whole environment through the `cc` fixture) with a no-op.
"""

import re
import socket
import time

import pytest

from fakeami import FakeAmi

BLOCK = ["Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum", "CallerIDName",
         "ConnectedLineNum", "ConnectedLineName", "Language", "AccountCode", "Context",
         "Exten", "Priority", "Uniqueid", "Linkedid"]


@pytest.fixture(autouse=True)
def _error_log_gate():
    """No httpd here: nothing to scan (replaces conftest's gate for this module)."""
    yield


@pytest.fixture
def ami():
    a = FakeAmi(secret="s3cret", auth_fail_delay=0.2)
    a.endpoint("acme-1001", tenantid="acme", accountcode="acme", context="agents",
               cid_num="1001", cid_name="Alice")
    a.endpoint("acme-1002", tenantid="acme", accountcode="acme", context="agents")
    a.endpoint("trunk", tenantid="", context="from-trunk")
    yield a
    a.close()


class Client:
    """A minimal AMI client: the banner, then messages as lists of (key, value)."""

    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.raw = b""
        self.backlog = []
        self.banner = self._line()

    def close(self):
        self.sock.close()

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk
        self.raw += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode()

    def send_raw(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def send(self, action, aid=None, **headers):
        lines = [f"Action: {action}"] + ([f"ActionID: {aid}"] if aid else [])
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.send_raw("\r\n".join(lines) + "\r\n\r\n")

    def read(self):
        """The next message (backlog first): [(key, value), ...]."""
        if self.backlog:
            return self.backlog.pop(0)
        pairs = []
        while True:
            line = self._line()
            if line == "":
                if pairs:
                    return pairs
                continue
            k, _, v = line.partition(": ")
            pairs.append((k, v))

    def response(self):
        """The next Response message; events read meanwhile stay in the backlog."""
        skipped = []
        while True:
            m = self.read()
            if m[0][0] == "Response":
                self.backlog = skipped + self.backlog
                return m
            skipped.append(m)

    def events_until(self, name, count=1, timeout=5.0):
        """Events (not responses) up to and including the count-th named one."""
        self.sock.settimeout(timeout)
        got, seen, keep = [], 0, []
        while seen < count:
            m = self.read()
            if m[0][0] != "Event":
                keep.append(m)
                continue
            got.append(m)
            if m[0][1] == name:
                seen += 1
        self.backlog = keep + self.backlog
        return got

    def login(self, secret="s3cret", **extra):
        self.send("Login", aid="login-1", Username="cc", Secret=secret, **extra)
        return self.response()


def d(pairs):
    out = {}
    for k, v in pairs:
        out.setdefault(k, v)
    return out


def names(events):
    return [e[0][1] for e in events]


def keys(pairs):
    return [k for k, _ in pairs]


def logged_in(ami, **extra):
    c = Client(ami.port)
    r = c.login(**extra)
    assert d(r)["Message"] == "Authentication accepted"
    if extra.get("Events", "on") != "off":
        assert d(c.read())["Event"] == "FullyBooted"
    return c


# ---- wire format, login, errors ---------------------------------------------------------

def test_banner_login_and_fullybooted(ami):
    c = Client(ami.port)
    assert c.raw.startswith(b"Asterisk Call Manager/11.0.0\r\n")
    assert c.banner == "Asterisk Call Manager/11.0.0"
    r = c.login()
    assert r == [("Response", "Success"), ("ActionID", "login-1"),
                 ("Message", "Authentication accepted")]
    ev = c.read()
    assert keys(ev) == ["Event", "Privilege", "Uptime", "LastReload", "Status"]
    assert d(ev)["Privilege"] == "system,all" and d(ev)["Status"] == "Fully Booted"
    assert b"\r\n\r\n" in c.raw and b"\n\n" not in c.raw.replace(b"\r\n", b"")
    ami.wait_logged_in(1)
    login = ami.actions("Login")[0]
    assert login["Username"] == "cc" and login.session >= 1 and login.at > 0
    c.send("Logoff", aid="bye")
    assert c.response() == [("Response", "Goodbye"), ("ActionID", "bye"),
                            ("Message", "Thanks for all the fish.")]
    with pytest.raises(EOFError):
        c.read()


def test_login_failure_is_delayed_and_closes(ami):
    c = Client(ami.port)
    t0 = time.monotonic()
    r = c.login(secret="wrong")
    assert time.monotonic() - t0 >= 0.19
    assert r == [("Response", "Error"), ("ActionID", "login-1"),
                 ("Message", "Authentication failed")]
    with pytest.raises(EOFError):
        c.read()
    assert ami.logged_in() == 0


def test_errors_before_login_lf_and_header_case(ami):
    c = Client(ami.port)
    c.send("Ping", aid="p1")
    assert c.response() == [("Response", "Error"), ("ActionID", "p1"),
                            ("Message", "Permission denied")]
    c.send_raw("ActionID: x\r\n\r\n")
    assert d(c.response())["Message"] == "Missing action in request"
    # bare LF line ends, lower-case names, blanks after the colon
    c.send_raw("action: login\nusername:   cc\nSECRET: s3cret\nactionid: lf\n\n")
    assert c.response() == [("Response", "Success"), ("ActionID", "lf"),
                            ("Message", "Authentication accepted")]
    c.send("FooBar", aid="u")
    assert d(c.response())["Message"] == (
        "Invalid/unknown command: FooBar. Use Action: ListCommands to show available "
        "commands.")


def test_ping(ami):
    c = logged_in(ami)
    c.send("Ping", aid="p2")
    r = c.response()
    assert keys(r) == ["Response", "ActionID", "Ping", "Timestamp"]
    assert d(r)["Ping"] == "Pong" and re.fullmatch(r"\d+\.\d{6}", d(r)["Timestamp"])


def test_events_off_and_timestamps():
    a = FakeAmi(secret="s3cret", timestampevents=True)
    try:
        quiet = logged_in(a, Events="off")
        loud = logged_in(a)
        call = a.inbound_call("acme", "acme", "5551234567", "ACME", "18005550100")
        ev = loud.events_until("Newchannel")[-1]
        assert keys(ev)[:3] == ["Event", "Privilege", "Timestamp"]
        assert re.fullmatch(r"\d+\.\d{6}", d(ev)["Timestamp"])
        call.abandon()
        quiet.send("Ping", aid="q")
        r = quiet.read()                 # the response, and no event before it
        assert d(r)["Response"] == "Success"
    finally:
        a.close()


# ---- scripted calls ---------------------------------------------------------------------

ANSWERED = [
    "Newchannel", "Newexten", "Newstate", "Newexten", "QueueCallerJoin",
    # two agents rung; the first endpoint has a caller id, the second none (ring_entry()
    # sets one, publishing the snapshot); the Ringing state publishes the leg's new
    # application, exten and connected line
    "Newchannel", "AgentCalled", "DialBegin",
    "Newstate", "Newexten", "NewConnectedLine", "DialState",
    "Newchannel", "Newexten", "NewCallerid", "AgentCalled", "DialBegin",
    "Newstate", "Newexten", "NewConnectedLine", "DialState",
    # the first answers
    "Newstate", "DialEnd", "DialEnd", "NewConnectedLine", "DialEnd", "Hangup",
    "QueueCallerLeave", "AgentConnect", "BridgeCreate", "BridgeEnter", "BridgeEnter",
    # the caller hangs up
    "HangupRequest", "AgentComplete", "BridgeLeave", "BridgeLeave", "Hangup", "Hangup",
    "BridgeDestroy"]


def test_answered_queue_call(ami):
    c = logged_in(ami)
    call = ami.inbound_call("acme", "acme", "5551234567", 'ACME "Corp"', "18005550100")
    call.enter_queue("support")
    leg1 = call.ring_agent("acme-1001", membername="Alice")
    leg2 = call.ring_agent("acme-1002")
    leg1.answer()
    call.hangup(by="caller")
    evs = c.events_until("BridgeDestroy")
    assert names(evs) == ANSWERED
    by = {}
    for e in evs:
        by.setdefault(d(e)["Event"], []).append(e)

    caller = d(evs[0])
    assert caller["Channel"].startswith("PJSIP/trunk-")
    assert re.fullmatch(r"PJSIP/trunk-[0-9a-f]{8}", caller["Channel"])
    assert re.fullmatch(r"\d+\.\d+", caller["Uniqueid"])
    assert caller["ChannelState"] == "4" and caller["ChannelStateDesc"] == "Ring"
    assert caller["Context"] == "from-trunk" and caller["Exten"] == "18005550100"
    assert caller["CallerIDName"] == 'ACME \\"Corp\\"'       # ast_escape_c
    assert caller["ConnectedLineNum"] == "<unknown>"
    assert keys(evs[0]) == ["Event", "Privilege"] + BLOCK + ["Tenantid"]
    assert d(by["Newexten"][1])["Application"] == "Queue"

    join = d(by["QueueCallerJoin"][0])
    assert (join["Queue"], join["Position"], join["Count"]) == ("support", "1", "1")
    called = by["AgentCalled"][0]
    assert keys(called) == (["Event", "Privilege"] + BLOCK + ["Tenantid"]
                            + ["Dest" + k for k in BLOCK] + ["DestTenantid"]
                            + ["Queue", "Interface", "MemberName"])
    cd = d(called)
    assert cd["Privilege"] == "agent,all"
    assert cd["DestLinkedid"] == caller["Uniqueid"] and cd["DestTenantid"] == "acme"
    assert cd["DestAccountCode"] == "acme" and cd["DestContext"] == "agents"
    assert cd["DestExten"] == "18005550100" and cd["DestConnectedLineNum"] == "5551234567"
    assert (cd["Interface"], cd["MemberName"]) == ("PJSIP/acme-1001", "Alice")
    assert d(by["AgentCalled"][1])["MemberName"] == "PJSIP/acme-1002"
    assert d(by["DialBegin"][0])["DialString"] == "PJSIP/acme-1001"
    assert d(by["DialState"][0])["DialStatus"] == "RINGING"

    ends = [(d(e)["DestUniqueid"], d(e)["DialStatus"]) for e in by["DialEnd"]]
    assert ends == [(leg1.uniqueid, "ANSWER"), (leg2.uniqueid, "CANCEL"),
                    (leg2.uniqueid, "CANCEL")]
    hang = d(by["Hangup"][0])
    assert (hang["Uniqueid"], hang["Cause"], hang["Cause-txt"]) == (
        leg2.uniqueid, "26", "Answered elsewhere")
    leave = d(by["QueueCallerLeave"][0])
    assert (leave["Position"], leave["Count"]) == ("1", "0")
    conn = d(by["AgentConnect"][0])
    assert conn["ConnectedLineNum"] == "1001" and conn["DestChannelState"] == "6"
    assert conn["HoldTime"] == "0" and conn["RingTime"] == "0"
    bridge = d(by["BridgeCreate"][0])
    assert bridge["BridgeType"] == "basic" and bridge["BridgeNumChannels"] == "0"
    enters = [d(e) for e in by["BridgeEnter"]]
    assert [e["Uniqueid"] for e in enters] == [leg1.uniqueid, call.uniqueid]
    assert [e["BridgeNumChannels"] for e in enters] == ["1", "2"]
    assert d(by["HangupRequest"][0])["Uniqueid"] == call.uniqueid
    comp = d(by["AgentComplete"][0])
    assert comp["Reason"] == "caller" and comp["DestUniqueid"] == leg1.uniqueid
    assert [d(e)["Uniqueid"] for e in by["BridgeLeave"]] == [call.uniqueid, leg1.uniqueid]
    assert [(d(e)["Uniqueid"], d(e)["Cause"]) for e in by["Hangup"][1:]] == [
        (call.uniqueid, "16"), (leg1.uniqueid, "16")]
    assert ami.channels() == []
    # what the fake recorded is what went over the wire
    assert [e["Event"] for e in ami.events()] == ["Newchannel"] + ANSWERED[1:]


def test_abandoned_while_ringing_and_no_tenant(ami):
    c = logged_in(ami)
    call = ami.inbound_call("", "", "", "", "18005550199")
    call.enter_queue("sales")
    leg = call.ring_agent("acme-1002")
    leg.no_answer(ring_ms=15000)
    leg = call.ring_agent("acme-1002")
    call.abandon()
    evs = c.events_until("Hangup", 3)
    got = names(evs)
    i = got.index("AgentRingNoAnswer")
    assert got[i:i + 4] == ["AgentRingNoAnswer", "DialEnd", "DialEnd", "Hangup"]
    rna = d(evs[i])
    assert rna["RingTime"] == "15000" and rna["DestChannelState"] == "5"
    assert [d(e)["DialStatus"] for e in evs[i + 1:i + 3]] == ["NOANSWER", "CANCEL"]
    assert d(evs[i + 3])["Cause"] == "0" and d(evs[i + 3])["Cause-txt"] == "Unknown"
    j = got.index("HangupRequest")
    assert got[j:] == ["HangupRequest", "DialEnd", "DialEnd", "Hangup",
                       "QueueCallerAbandon", "QueueCallerLeave", "Hangup"]
    caller = d(evs[0])
    assert "Tenantid" not in caller and caller["AccountCode"] == ""
    assert caller["CallerIDNum"] == "<unknown>" and caller["CallerIDName"] == "<unknown>"
    ab = d(evs[j + 4])
    assert (ab["Queue"], ab["Position"], ab["OriginalPosition"]) == ("sales", "1", "1")
    assert d(evs[-1])["Uniqueid"] == call.uniqueid and d(evs[-1])["Cause"] == "16"
    assert "AgentComplete" not in got and ami.channels() == []


def test_blind_transfer_and_direct_dial(ami):
    c = logged_in(ami)
    call = ami.inbound_call("acme", "acme", "5551234567", "", "18005550100")
    call.enter_queue("support")
    leg = call.ring_agent("acme-1001").answer()
    new = leg.blind_transfer("acme-1002", exten="1002", context="tenant-acme")
    evs = c.events_until("BridgeEnter", 4)
    got = names(evs)
    k = got.index("BlindTransfer")
    assert got[k:] == ["BlindTransfer", "AgentComplete", "BridgeLeave", "Hangup",
                       "BridgeLeave", "BridgeDestroy", "Newexten", "Newchannel",
                       "Newexten", "NewCallerid", "NewConnectedLine", "DialBegin",
                       "Newstate", "DialState", "Newstate", "DialEnd", "BridgeCreate",
                       "BridgeEnter", "BridgeEnter"]
    bt = evs[k]
    ks = keys(bt)
    assert ks[2] == "Result" and ks[3] == "TransfererChannel"
    assert ks.index("TransfereeChannel") < ks.index("BridgeUniqueid") < ks.index("IsExternal")
    bd = d(bt)
    assert (bd["Result"], bd["IsExternal"], bd["Context"], bd["Extension"]) == (
        "Success", "Yes", "tenant-acme", "1002")
    assert bd["TransfererUniqueid"] == leg.uniqueid and bd["TransfereeUniqueid"] == call.uniqueid
    assert d(evs[k + 1])["Reason"] == "transfer"
    assert d(evs[k + 6])["Exten"] == "1002" and d(evs[k + 6])["Context"] == "tenant-acme"
    nc = d(evs[k + 7])
    assert nc["Uniqueid"] == new.uniqueid and nc["Linkedid"] == call.uniqueid
    app = d(evs[k + 8])
    assert (app["Application"], app["AppData"], app["Exten"]) == (
        "AppDial", "(Outgoing Line)", "1002")
    assert d(evs[k + 11])["DialString"] == "acme-1002"
    call.hangup(by="agent")
    evs = c.events_until("BridgeDestroy")
    assert names(evs) == ["HangupRequest", "BridgeLeave", "BridgeLeave", "Hangup", "Hangup",
                          "BridgeDestroy"]
    assert d(evs[0])["Uniqueid"] == new.uniqueid

    direct = ami.inbound_call("acme", "acme", "5550001111", "", "1001")
    direct.dial_endpoint("acme-1001")
    evs = c.events_until("BridgeEnter", 2)
    # the endpoint has a caller id: no NewCallerid on the leg, the caller's connected
    # line becomes the agent's when it answers
    assert names(evs) == ["Newchannel", "Newexten", "Newchannel", "Newexten",
                          "NewConnectedLine", "DialBegin", "Newstate", "DialState",
                          "Newstate", "DialEnd", "NewConnectedLine", "Newstate",
                          "BridgeCreate", "BridgeEnter", "BridgeEnter"]
    db = evs[5]
    assert keys(db)[2] == "Channel" and d(db)["DestChannel"].startswith("PJSIP/acme-1001-")
    assert d(evs[10])["Uniqueid"] == direct.uniqueid
    assert d(evs[10])["ConnectedLineNum"] == "1001"
    assert d(evs[11])["Uniqueid"] == direct.uniqueid and d(evs[11])["ChannelState"] == "6"


# ---- CoreShowChannels -----------------------------------------------------------------

def show(c, aid):
    c.send("CoreShowChannels", aid=aid)
    ack = c.response()
    assert ack == [("Response", "Success"), ("ActionID", aid), ("EventList", "start"),
                   ("Message", "Channels will follow")]
    items = []
    while True:
        m = c.read()
        if d(m).get("Event") == "CoreShowChannel" and d(m).get("ActionID") == aid:
            items.append(m)
        elif d(m).get("Event") == "CoreShowChannelsComplete":
            assert m == [("Event", "CoreShowChannelsComplete"), ("ActionID", aid),
                         ("EventList", "Complete"), ("ListItems", str(len(items)))]
            return items


def test_coreshowchannels_follows_the_calls(ami):
    c = logged_in(ami, Events="off")
    assert show(c, "s0") == []
    call = ami.inbound_call("acme", "acme", "5551234567", "ACME", "18005550100")
    call.enter_queue("support")
    leg = call.ring_agent("acme-1001")
    items = show(c, "s1")
    assert [d(i)["Uniqueid"] for i in items] == [call.uniqueid, leg.uniqueid]
    first = items[0]
    assert keys(first) == (["Event", "ActionID"] + BLOCK + ["Tenantid", "Application",
                           "ApplicationData", "Duration", "BridgeId"])
    assert d(first)["Application"] == "Queue" and d(first)["BridgeId"] == ""
    assert re.fullmatch(r"\d\d:\d\d:\d\d", d(first)["Duration"])
    assert d(items[1])["Application"] == "AppQueue"
    assert d(items[1])["ApplicationData"] == "(Outgoing Line)"
    leg.answer()
    items = show(c, "s2")
    assert len(items) == 2 and d(items[0])["BridgeId"] == d(items[1])["BridgeId"] != ""
    call.hangup(by="agent")
    assert show(c, "s3") == []


# ---- Originate and Hangup -------------------------------------------------------------

def test_originate_answer(ami):
    c = logged_in(ami)
    c.send("Originate", aid="o1", Channel="PJSIP/acme-1001", Exten="15551230000",
           Context="tenant-acme", Priority="1", CallerID='"Bob" <1001>', Timeout="20000",
           Async="true", ChannelId="c2c-1", Account="acme-sales")
    assert c.response() == [("Response", "Success"), ("ActionID", "o1"),
                            ("Message", "Originate successfully queued")]
    evs = c.events_until("BridgeEnter", 2)
    assert names(evs) == [
        "Newchannel", "NewAccountCode", "NewCallerid", "NewConnectedLine", "DialBegin",
        "Newstate", "DialState", "Newstate", "DialEnd", "OriginateResponse", "Newexten",
        "Newchannel", "Newexten", "NewCallerid", "NewAccountCode", "NewConnectedLine",
        "DialBegin", "Newstate", "DialState", "Newstate", "DialEnd",
        "BridgeCreate", "BridgeEnter", "BridgeEnter"]
    nc = d(evs[0])
    assert nc["Uniqueid"] == "c2c-1" and nc["Linkedid"] == "c2c-1"
    assert nc["Channel"].startswith("PJSIP/acme-1001-") and nc["Tenantid"] == "acme"
    assert d(evs[1])["AccountCode"] == "acme-sales" and d(evs[1])["OldAccountCode"] == "acme"
    db = evs[4]
    assert keys(db)[2] == "DestChannel" and d(db)["DialString"] == "acme-1001"
    assert d(evs[6])["DialStatus"] == "RINGING" and d(evs[7])["ChannelState"] == "6"
    assert d(evs[8])["DialStatus"] == "ANSWER"
    orr = evs[9]
    assert orr[2:] == [("ActionID", "o1"), ("Response", "Success"),
                       ("Channel", nc["Channel"]), ("Context", "tenant-acme"),
                       ("Exten", "15551230000"), ("Reason", "4"), ("Uniqueid", "c2c-1"),
                       ("CallerIDNum", "1001"), ("CallerIDName", "Bob")]
    assert d(evs[10])["Application"] == "Dial" and d(evs[10])["Context"] == "tenant-acme"
    out = d(evs[11])
    assert out["Channel"].startswith("PJSIP/trunk-") and out["Linkedid"] == "c2c-1"
    assert "Tenantid" not in out
    # app_dial: no caller id on the trunk -> the dialled exten; the caller's accountcode
    assert d(evs[13])["CallerIDNum"] == "15551230000"
    assert d(evs[14])["AccountCode"] == "acme-sales"
    assert d(evs[15])["ConnectedLineNum"] == "1001"
    dial = d(evs[16])
    assert dial["Uniqueid"] == "c2c-1" and dial["DestUniqueid"] == out["Uniqueid"]
    assert dial["DialString"] == "15551230000@trunk"
    assert ami.actions("originate")[0]["ChannelId"] == "c2c-1"

    # hang up the agent leg by uniqueid: both go, no (Soft)HangupRequest (see fakeami)
    c.send("Hangup", aid="h1", Channel="c2c-1")
    assert c.response() == [("Response", "Success"), ("ActionID", "h1"),
                            ("Message", "Channel Hungup")]
    evs = c.events_until("BridgeDestroy")
    assert names(evs) == ["BridgeLeave", "BridgeLeave", "Hangup", "Hangup", "BridgeDestroy"]
    assert [d(e)["Cause"] for e in evs[2:4]] == ["16", "16"]
    assert ami.channels() == []


def test_originate_noanswer_busy_unavailable(ami):
    c = logged_in(ami)
    ami.script_originate("acme-1002", ["noanswer", "busy", "unavailable"])
    t0 = time.monotonic()
    c.send("Originate", aid="n1", Channel="PJSIP/acme-1002", Exten="100",
           Context="tenant-acme", Priority="1", Timeout="300", Async="yes")
    assert d(c.response())["Message"] == "Originate successfully queued"
    evs = c.events_until("OriginateResponse")
    assert time.monotonic() - t0 >= 0.29
    assert names(evs) == ["Newchannel", "DialBegin", "Newstate", "DialState", "Hangup",
                          "OriginateResponse"]
    h = d(evs[4])
    assert (h["Cause"], h["Cause-txt"]) == ("19", "User alerting, no answer")
    o = d(evs[5])
    assert (o["Response"], o["Reason"], o["Channel"], o["Uniqueid"]) == (
        "Failure", "3", "PJSIP/acme-1002", "<unknown>")
    assert o["CallerIDNum"] == "<unknown>"

    c.send("Originate", aid="b1", Channel="PJSIP/acme-1002", Exten="100",
           Context="tenant-acme", Priority="1", Async="1", ChannelId="busy-1")
    c.response()
    evs = c.events_until("OriginateResponse")
    assert names(evs) == ["Newchannel", "DialBegin", "DialEnd", "Hangup", "OriginateResponse"]
    assert d(evs[2])["DialStatus"] == "BUSY" and d(evs[3])["Cause"] == "17"
    assert (d(evs[4])["Reason"], d(evs[4])["Uniqueid"]) == ("5", "busy-1")

    c.send("Originate", aid="u1", Channel="PJSIP/acme-1002", Exten="100",
           Context="tenant-acme", Priority="1", Async="on")
    c.response()
    evs = c.events_until("OriginateResponse")
    assert names(evs) == ["OriginateResponse"] and d(evs[0])["Reason"] == "0"


def test_originate_manual_and_hangup_while_ringing(ami):
    c = logged_in(ami)
    ami.script_originate("acme-1001", ["manual"])
    c.send("Originate", aid="m1", Channel="PJSIP/acme-1001", Exten="100",
           Context="tenant-acme", Priority="1", Async="true", ChannelId="ring-1")
    c.response()
    c.events_until("DialState")
    assert [ch.uniqueid for ch in ami.channels()] == ["ring-1"]
    c.send("Hangup", aid="h2", Channel=ami.channels()[0].name)
    assert d(c.response())["Message"] == "Channel Hungup"
    evs = c.events_until("OriginateResponse")
    assert names(evs) == ["DialEnd", "Hangup", "OriginateResponse"]
    assert d(evs[0])["DialStatus"] == "NOANSWER"
    assert (d(evs[2])["Response"], d(evs[2])["Reason"]) == ("Failure", "0")
    assert ami.originated()[0].result == "hungup"

    # answered by the test; the agent leg hangs up while the far end still rings
    ami.ring_ms = 5000
    c.send("Originate", aid="m2", Channel="PJSIP/acme-1001", Exten="100",
           Context="tenant-acme", Priority="1", Async="true", ChannelId="ring-2")
    c.response()
    c.events_until("DialState")
    ami.originated()[1].answer()
    evs = c.events_until("DialState")
    assert names(evs)[:3] == ["Newstate", "DialEnd", "OriginateResponse"]
    out = d(evs[-1])["DestUniqueid"]
    c.send("Hangup", aid="h3", Channel="ring-2")
    assert d(c.response())["Message"] == "Channel Hungup"
    evs = c.events_until("Hangup", 2)
    assert [(n, d(e)["Uniqueid"] if n == "Hangup" else d(e)["DestUniqueid"])
            for n, e in zip(names(evs), evs)] == [
        ("DialEnd", out), ("Hangup", out), ("Hangup", "ring-2")]
    assert d(evs[0])["DialStatus"] == "CANCEL" and ami.channels() == []


def test_originate_and_hangup_errors(ami):
    c = logged_in(ami, Events="off")
    cases = [
        ({"Exten": "1", "Context": "x", "Priority": "1"}, "Channel not specified"),
        ({"Channel": "PJSIP/a", "Priority": "first"}, "Invalid priority"),
        ({"Channel": "PJSIP/a", "Timeout": "soon"}, "Invalid timeout"),
        ({"Channel": "nochannel", "Exten": "1", "Context": "x", "Priority": "1"},
         "Invalid channel"),
        ({"Channel": "PJSIP/a", "Exten": "1"},
         "Originate with 'Exten' requires 'Context' and 'Priority'"),
        ({"Channel": "PJSIP/a", "ChannelId": "x" * 150, "Async": "true"},
         "Uniqueid length exceeds maximum of 149\n"),
    ]
    for i, (headers, message) in enumerate(cases):
        c.send("Originate", aid=f"e{i}", **headers)
        assert c.response() == [("Response", "Error"), ("ActionID", f"e{i}"),
                                ("Message", message)], headers
    ami.extension_exists = lambda ctx, exten: ctx == "tenant-acme"
    c.send("Originate", aid="nx", Channel="PJSIP/a", Exten="1", Context="other",
           Priority="1", Async="true")
    assert d(c.response())["Message"] == "Extension does not exist."
    c.send("Hangup", aid="h0", Channel="PJSIP/nobody-00000001")
    assert c.response() == [("Response", "Error"), ("ActionID", "h0"),
                            ("Message", "No such channel")]
    c.send("Hangup", aid="h3")
    assert d(c.response())["Message"] == "No channel specified"


def test_hangup_action_on_a_waiting_caller_and_by_regex(ami):
    c = logged_in(ami)
    call = ami.inbound_call("acme", "acme", "5551234567", "", "18005550100")
    call.enter_queue("support")
    call.ring_agent("acme-1001")
    c.events_until("DialState")
    c.send("Hangup", aid="h4", Channel=call.name, Cause="17")
    assert d(c.response())["Message"] == "Channel Hungup"
    evs = c.events_until("Hangup", 2)
    assert names(evs) == ["DialEnd", "DialEnd", "Hangup", "QueueCallerAbandon",
                          "QueueCallerLeave", "Hangup"]
    assert d(evs[-1])["Cause"] == "17"

    ami.inbound_call("acme", "acme", "1", "", "2")
    ami.inbound_call("acme", "acme", "3", "", "4")
    c.events_until("Newchannel", 2)
    c.send("Hangup", aid="rx", Channel="/^PJSIP/trunk-/")
    assert c.response() == [("Response", "Success"), ("ActionID", "rx"),
                            ("EventList", "start"),
                            ("Message", "Channels hung up will follow")]
    items = [c.read() for _ in range(3)]
    assert [d(m)["Event"] for m in items] == ["ChannelHungup", "ChannelHungup",
                                              "ChannelsHungupListComplete"]
    assert keys(items[0]) == ["Event", "Channel", "ActionID"]
    assert d(items[2])["ListItems"] == "2"
    assert names(c.events_until("Hangup", 2)) == ["Hangup", "Hangup"]


# ---- kill and restart -------------------------------------------------------------------

def test_kill_and_restart(ami):
    c = logged_in(ami)
    call = ami.inbound_call("acme", "acme", "5551234567", "", "18005550100")
    call.enter_queue("support")
    call.ring_agent("acme-1001").answer()
    c.events_until("BridgeEnter", 2)
    port = ami.port
    ami.kill()
    with pytest.raises((EOFError, ConnectionError)):
        c.read()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    assert ami.channels() == [] and ami.logged_in() == 0
    with pytest.raises(ValueError):
        call.hangup()                     # Asterisk died with its calls
    ami.restart()
    assert ami.port == port
    c2 = logged_in(ami)
    assert show(c2, "after") == []

    # kill(keep_channels=True): the calls survive the AMI outage
    call = ami.inbound_call("acme", "acme", "5551234567", "", "18005550100")
    call.enter_queue("support")
    ami.kill(keep_channels=True)
    ami.restart()
    c3 = logged_in(ami, Events="off")
    assert [d(i)["Uniqueid"] for i in show(c3, "kept")] == [call.uniqueid]
    ami.drop_connections()
    with pytest.raises((EOFError, ConnectionError)):
        c3.read()


# ---- queue member status, tech cause ------------------------------------------------------

def test_queue_member_status_follows_the_device(ami):
    c = logged_in(ami)
    m = ami.queue_member("support", "PJSIP/acme-1001", "Alice")
    assert m.status == 1
    call = ami.inbound_call("acme", "acme", "5551234567", "", "18005550100")
    call.enter_queue("support")
    leg = call.ring_agent("acme-1001", membername="Alice")
    leg.answer()
    call.hangup(by="agent")
    evs = c.events_until("BridgeDestroy")
    got = names(evs)
    qms = [i for i, n in enumerate(got) if n == "QueueMemberStatus"]
    # right after the snapshot's events that changed the device state
    assert [got[i - 1] for i in qms] == ["NewConnectedLine", "Newstate", "Hangup"]
    assert got[qms[0] - 3] == "Newstate"
    assert [d(evs[i - 1])["Uniqueid"] for i in qms] == [leg.uniqueid] * 3
    st = [d(evs[i]) for i in qms]
    assert [(s["Status"], s["InCall"], s["CallsTaken"]) for s in st] == [
        ("6", "0", "0"), ("2", "0", "0"), ("1", "0", "1")]
    assert keys(evs[qms[0]]) == [
        "Event", "Privilege", "Queue", "MemberName", "Interface", "StateInterface",
        "Membership", "Penalty", "CallsTaken", "LastCall", "LastPause", "LoginTime",
        "InCall", "Status", "Paused", "PausedReason", "Ringinuse", "Wrapuptime"]
    assert st[0]["Privilege"] == "agent,all" and st[0]["MemberName"] == "Alice"
    ami.set_online("acme-1001", False)
    ev = c.events_until("QueueMemberStatus")[-1]
    assert d(ev)["Status"] == "5"


def test_techcause():
    a = FakeAmi(secret="s3cret", techcause=True)
    try:
        c = logged_in(a)
        a.script_originate("1001", ["noanswer"])
        c.send("Originate", Channel="PJSIP/1001", Application="Playback", Data="hello",
               Timeout="50", Async="true")
        c.response()
        evs = c.events_until("OriginateResponse")
        h = evs[-2]
        assert keys(h)[-3:] == ["Cause", "Cause-txt", "TechCause"]
        assert d(h)["TechCause"] == "480"
        o = d(evs[-1])
        assert (o["Application"], o["Data"], o["Reason"]) == ("Playback", "hello", "3")
        assert "ActionID" not in o
    finally:
        a.close()
