"""A fake Asterisk Manager Interface (AMI) server on a loopback port, for the tests of
the Asterisk link (issue 14).

Written from ../shared/reference/asterisk-runtime.md section 3 and, where that note is
silent, from Asterisk's source (asterisk/asterisk master f0c1c1a7b7; the functions named
in the comments are stable across branches 18-23).  It is a script player, not a PBX:
the calls happen because a test says so, step by step, and each step sends the events
Asterisk sends for it, in the order the source publishes them.

Wire protocol (main/manager.c)
  - On connect: one line "Asterisk Call Manager/<version>" CRLF (session_do()), nothing
    else.  version 11.0.0 is AMI_VERSION of branch 22.
  - Messages are "Key: Value" lines ending CRLF, a message ends with an empty line.  From
    the client a bare LF ends a line too (get_input()); header names compare without
    case and the blanks after the colon are skipped (astman_get_header()).
  - Responses: "Response: Success|Error|Goodbye", "ActionID:" when the action had one,
    optional "EventList:", then "Message:" (astman_send_response_full()).
  - Events: "Event:", "Privilege: <categories>,all" (authority_to_str()), "Timestamp:
    <sec>.<usec>" when timestampevents, then the body (__manager_event_sessions_va()).
    A session gets an event when it is logged in and its event mask (Login's Events:
    header, or the Events action) holds the event's category.
  - Actions: Login (Username/Secret, or AuthType MD5 + Key after Challenge), Logoff,
    Challenge, Events, Ping, CoreShowChannels, Originate, Hangup.  Before login anything
    but Login/Logoff/Challenge is "Permission denied"; any other action is "Invalid/
    unknown command: X. Use Action: ListCommands to show available commands."
    (process_message()).  The fake's user may do everything (no read/write permission
    checks, no authtimeout, no authlimit).

The channel block (ast_manager_build_channel_state_string_prefix(),
main/manager_channels.c): Channel, ChannelState, ChannelStateDesc, CallerIDNum,
CallerIDName, ConnectedLineNum, ConnectedLineName, Language, AccountCode, Context, Exten,
Priority, Uniqueid, Linkedid, then Tenantid only when not empty; empty caller/connected
number or name is "<unknown>", names are C-escaped; second channels use the prefix
"Dest" (dial and agent events), "Transferer"/"Transferee" (BlindTransfer).  Uniqueids
are "<epoch>.<counter>", channel names "PJSIP/<endpoint>-<8 hex>".  Every channel the
fake announces (Newchannel) is live until its Hangup; CoreShowChannels lists the live
ones.

Channel events come from snapshots as in Asterisk: where the source publishes a
snapshot (ast_setstate(), pbx_exec(), ast_set_callerid(), the end of a staged change)
the fake compares it with the channel's last one and sends, in
channel_snapshot_update()'s monitor order, Newstate, Newexten, NewCallerid,
NewAccountCode, NewConnectedLine for what changed.  So a queue leg's Ringing state also
brings Newexten (AppQueue, "(Outgoing Line)") and NewConnectedLine, a Dial leg's set-up
Newexten (AppDial) [NewCallerid, NewAccountCode] NewConnectedLine.  Below, "[snapshot
events]" marks those.

Control API (each call sends its events at once, under one lock; all thread-safe)
  ami = FakeAmi(port=0, username="cc", secret="secret", version="11.0.0",
                timestampevents=False, auth_fail_delay=0.2, techcause=False,
                ring_ms=20, trunk="trunk")
      auth_fail_delay: Asterisk's sleep(1) before "Authentication failed", shortened.
      techcause: Hangup events of PJSIP channels carry TechCause (the SIP code of
      hangup_cause2sip(), e.g. 480 for 19) as since 20.17/22.7/23.1.
      ring_ms: how long the legs of an "answer" Originate ring.
  ami.port, ami.close(), ami.kill(keep_channels=False), ami.restart(),
  ami.drop_connections()
      kill: every connection dropped at once, no longer listening (Asterisk died; its
      channels die with it unless keep_channels).  restart: listen again, same port.
      drop_connections: close the sessions but keep listening and the channels.
  ami.endpoint(resource, tenantid="", accountcode="", context="default", cid_num="",
               cid_name="", language="en", online=True)   a PJSIP endpoint's configuration
  ami.queue_member(queue, interface, membername=None, ...) / ami.set_online(resource, b)
      a queue member: each change of its device state (chan_pjsip_devicestate() over the
      endpoint's live channels: NOT_INUSE 1, INUSE 2, UNAVAILABLE 5, RINGING 6,
      RINGINUSE 7; INVALID 4 for an endpoint not declared with ami.endpoint()) sends
      QueueMemberStatus right after the event that caused it (update_status(); Status,
      InCall, CallsTaken, ...).  No members, no such events.
  ami.actions(name=None) / ami.wait_action(name, count=1, timeout=5)
      the actions received (Action dicts: headers as sent, in order; .pairs, .at, .session)
  ami.events(name=None)        every event sent (Message dicts, .pairs, .at = when it
                               was queued to the sessions), in order; clear_records()
  ami.channels()               the live channels (Chan objects)
  ami.logged_in() / ami.wait_logged_in(n=1, timeout=5)   sessions logged in
  ami.send_event(name, category, pairs)   any other event, verbatim

  call = ami.inbound_call(tenantid=None, accountcode=None, caller_num="", caller_name="",
                          did="", trunk="trunk")
      Newchannel PJSIP/<trunk>-..., state 4 Ring, Context = the trunk endpoint's,
      Exten = did.  (tenantid/accountcode None: the trunk endpoint's.)
  call.newexten(app, data) / call.set_tenantid(t) (no event) / call.set_accountcode(a)
      (NewAccountCode): dialplan steps before the queue.
  call.enter_queue(queue, answer=True)
      Newexten Answer + Newstate Up (answer), Newexten Queue, QueueCallerJoin.
  leg = call.ring_agent(endpoint, interface=None, membername=None)
      agent leg Newchannel (the agent endpoint's tenantid/accountcode/context, Exten s,
      Linkedid = the caller's), [Newexten AppQueue + NewCallerid when the endpoint has no
      caller id: it gets the caller's DID], AgentCalled, DialBegin (DialString =
      interface), Newstate Ringing [Newexten, NewConnectedLine], DialState RINGING.
  leg.answer()
      Newstate Up, DialEnd ANSWER, DialEnd CANCEL for every other ringing leg,
      NewConnectedLine (caller; when the agent endpoint has a caller id), DialEnd CANCEL
      + Hangup cause 26 of the other legs, QueueCallerLeave, AgentConnect, [Newstate Up
      of the caller], BridgeCreate, BridgeEnter agent, BridgeEnter caller.
  leg.no_answer(ring_ms=None)
      AgentRingNoAnswer (RingTime ms), DialEnd NOANSWER, DialEnd CANCEL, Hangup cause 0.
  leg.reject()            the agent declines: DialEnd BUSY, AgentRingNoAnswer, Hangup 17.
  call.abandon()
      HangupRequest, DialEnd CANCEL per ringing leg, then DialEnd CANCEL + Hangup (cause
      0) per leg, QueueCallerAbandon, QueueCallerLeave, Hangup of the caller (16).
  call.hangup(by="caller"|"agent", cause=16)
      HangupRequest of that party, AgentComplete (Reason caller/agent; queue calls),
      BridgeLeave x2 (that party first), Hangup x2, BridgeDestroy.  Before an agent
      answered, by="caller" is abandon().
  new_leg = leg.blind_transfer(to_endpoint, exten=None, context=None)
      BlindTransfer (main/stasis_bridges.c), AgentComplete Reason transfer, BridgeLeave +
      Hangup of the agent leg, BridgeLeave caller, BridgeDestroy, then the caller at
      exten@context dials the target like dial_endpoint() (same Linkedid), answered.
  leg = call.dial_endpoint(endpoint, answer=True)
      a direct Dial (no queue): Newexten Dial (caller), leg Newchannel [snapshot events;
      accountcode: the caller's when it has one, ast_channel_req_accountcodes()],
      DialBegin (caller + Dest, DialString = endpoint), Newstate Ringing, DialState
      RINGING; answer: Newstate Up, DialEnd ANSWER, [caller NewConnectedLine], [caller
      Newstate Up], BridgeCreate, BridgeEnter leg, BridgeEnter caller.  (answer=False:
      leg.answer() / leg.no_answer() / leg.reject() later.)

  Originate (Async: yes): "Originate successfully queued", then a thread plays the
  endpoint's script (ami.script_originate(endpoint, ["noanswer", "answer"]): one step
  per Originate, the last repeats; default ami.originate_mode, "answer"):
    answer       agent leg Newchannel (Uniqueid = ChannelId when given) [NewAccountCode,
                 NewCallerid, NewConnectedLine], DialBegin (Dest block only, DialString =
                 resource), Newstate Ringing, DialState RINGING, (ring_ms), Newstate Up,
                 DialEnd ANSWER, OriginateResponse Success Reason 4; Newexten Dial
                 (Context/Exten/Priority of the action); the outbound leg
                 PJSIP/<ami.trunk>-... (Linkedid = the agent leg's uniqueid) as in
                 dial_endpoint() (DialString <Exten>@<trunk>), (ring_ms), Newstate Up,
                 DialEnd ANSWER, BridgeCreate, BridgeEnter outbound, BridgeEnter agent.
    noanswer     rings Timeout ms (header, default 30000), then Hangup cause 19 and
                 OriginateResponse Failure Reason 3 (Channel = "PJSIP/<resource>").
    busy         DialEnd BUSY, Hangup 17, OriginateResponse Failure Reason 5.
    congestion   DialEnd CONGESTION, Hangup 34, OriginateResponse Failure Reason 8.
    unavailable  no channel at all: OriginateResponse Failure Reason 0.
    manual       rings until the test calls o.answer() / o.no_answer() / o.busy()
                 (o from ami.originated()), or Timeout ms pass (noanswer).
  o.hangup(by="agent"|"remote") ends an answered click-to-call like call.hangup.
  Hangup action: Channel = name, else uniqueid (or /regex/: a list response);
  "Channel Hungup" / "No such channel" / "No channel specified"; Cause: 0-127.  Then
  what the hang-up leads to, WITHOUT HangupRequest/SoftHangupRequest and so without
  AgentComplete (the action only sets the soft-hangup flag, see _hangup_channel()):
    bridged          BridgeLeave (it) + (the other), Hangup x2 (Cause, else 16),
                     BridgeDestroy
    ringing Originate leg   DialEnd NOANSWER, Hangup, OriginateResponse Failure 0
    ringing queue leg       DialEnd NOANSWER, AgentRingNoAnswer, Hangup
    caller waiting in queue abandon() without its HangupRequest
    other            DialEnd CANCEL + Hangup of what it dials, then its Hangup

Not modelled: channelvars (ChanVariable), SystemName, queue member events other than
QueueMemberStatus, Local channels, hold, attended transfer, every other action.  The order
of events that Asterisk publishes from different threads/topics is the source's call
order, which a running Asterisk may interleave differently (note §7).
"""

import hashlib
import itertools
import queue as queue_mod
import random
import re
import socket
import threading
import time
import uuid

# ---- constants from Asterisk --------------------------------------------------------

# include/asterisk/manager.h EVENT_FLAG_*, in the order of perms[] (main/manager.c).
PERMS = [("system", 1 << 0), ("call", 1 << 1), ("log", 1 << 2), ("verbose", 1 << 3),
         ("command", 1 << 4), ("agent", 1 << 5), ("user", 1 << 6), ("config", 1 << 7),
         ("dtmf", 1 << 8), ("reporting", 1 << 9), ("cdr", 1 << 10), ("dialplan", 1 << 11),
         ("originate", 1 << 12), ("agi", 1 << 13), ("cc", 1 << 15), ("aoc", 1 << 16),
         ("test", 1 << 17), ("security", 1 << 18), ("message", 1 << 30)]
PERM = dict(PERMS)
ALL = 0x7fffffff            # perms[] "all" = INT_MAX

# ast_state2str() (main/channel.c)
STATE_DESC = {0: "Down", 1: "Rsrvd", 2: "OffHook", 3: "Dialing", 4: "Ring", 5: "Ringing",
              6: "Up", 7: "Busy", 8: "Dialing Offhook", 9: "Pre-ring", 10: "Mute"}

# causes[] (main/channel.c); ast_cause2str() says "Unknown" for anything else.
CAUSE_TXT = {
    1: "Unallocated (unassigned) number", 2: "No route to specified transmit network",
    3: "No route to destination", 16: "Normal Clearing", 17: "User busy",
    18: "No user responding", 19: "User alerting, no answer", 20: "Subscriber absent",
    21: "Call Rejected", 22: "Number changed", 23: "Redirected to new destination",
    26: "Answered elsewhere", 27: "Destination out of order", 28: "Invalid number format",
    29: "Facility rejected", 31: "Normal, unspecified", 34: "Circuit/channel congestion",
    38: "Network out of order", 41: "Temporary failure",
    42: "Switching equipment congestion", 44: "Requested channel not available",
    58: "Bearer capability not available", 66: "Channel not implemented",
    127: "Interworking, unspecified"}

# hangup_cause2sip() (channels/chan_pjsip.c): chan_pjsip_hangup() stores it as the tech
# cause when none is set; the Hangup event shows it as TechCause (since 20.17/22.7/23.1).
TECH_CAUSE = {1: 404, 2: 404, 3: 404, 17: 486, 18: 408, 19: 480, 20: 480, 21: 403,
              22: 410, 23: 302, 27: 502, 28: 484, 29: 501, 31: 480, 34: 503, 38: 500,
              42: 503, 58: 488, 66: 503, 127: 500}

# ast_escape_c() (main/utils.c)
_C_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
              "\v": "\\v", "\\": "\\\\", "'": "\\'", '"': '\\"', "?": "\\?"}

AST_MAX_PUBLIC_UNIQUEID = 149    # include/asterisk/channel.h


def c_escape(s):
    return "".join(_C_ESCAPES.get(ch, ch) for ch in (s or ""))


def privilege(category):
    """authority_to_str(): the category labels, then "all"."""
    labels = [name for name, bit in PERMS if category & bit]
    return ",".join(labels + ["all"]) if labels else "<none>"


def _ast_true(v):
    return (v or "").strip().lower() in ("yes", "true", "y", "t", "1", "on")


def _ast_false(v):
    return (v or "").strip().lower() in ("no", "false", "n", "f", "0", "off")


def strings_to_mask(s):
    """strings_to_mask() (main/manager.c): a number is itself, false 0, true all, else the
    categories named in a comma list; -1 when empty."""
    s = (s or "").strip()
    if not s:
        return -1
    if s.isdigit():
        return int(s)
    if _ast_false(s):
        return 0
    if _ast_true(s):
        return ALL
    mask = 0
    words = [w.strip().lower() for w in s.split(",")]
    for name, bit in PERMS:
        if name in words:
            mask |= bit
    if "all" in words:
        mask |= ALL
    return mask


def parse_callerid(value):
    """ast_callerid_parse() + ast_shrink_phone_number(), enough of it: '"Name" <num>',
    'Name <num>', or a lone number (else a lone name).  (name, num)."""
    value = (value or "").strip()
    m = re.match(r'^(.*?)\s*<([^>]*)>\s*$', value)
    if m:
        name = m.group(1).strip().strip('"')
        num = m.group(2).strip()
    elif value and re.fullmatch(r"[0-9*#+()\-. ]+", value):
        name, num = "", value
    else:
        name, num = value.strip('"'), ""
    if num and not num.startswith("+"):
        num = re.sub(r"[()\-. ]", "", num)
    return name, num


def _prefix_int(s):
    """sscanf("%30d") succeeded?  The number, or None."""
    m = re.match(r"^\s*([+-]?\d+)", s or "")
    return int(m.group(1)) if m else None


# ---- messages -----------------------------------------------------------------------

class Message(dict):
    """A received action or a sent event: the first value of each header (keys as sent),
    plus .pairs (every (key, value) in order), .at (time.monotonic()), .session (the
    session number, actions only)."""

    def __init__(self, pairs, at=None, session=None):
        super().__init__()
        for k, v in pairs:
            if k not in self:
                self[k] = v
        self.pairs = list(pairs)
        self.at = time.monotonic() if at is None else at
        self.session = session

    def get_ci(self, key, default=None):
        """The first value of header key, compared without case."""
        k = key.lower()
        for kk, v in self.pairs:
            if kk.lower() == k:
                return v
        return default

    def keys_in_order(self):
        return [k for k, _ in self.pairs]


def encode(pairs):
    return ("".join(f"{k}: {v}\r\n" for k, v in pairs) + "\r\n").encode("utf-8")


# ---- channels and bridges -----------------------------------------------------------

class Endpoint:
    def __init__(self, resource, tenantid="", accountcode="", context="default",
                 cid_num="", cid_name="", language="en", online=True):
        self.resource = resource
        self.online = online
        self.tenantid = tenantid
        self.accountcode = accountcode
        self.context = context
        self.cid_num = cid_num
        self.cid_name = cid_name
        self.language = language


# include/asterisk/devicestate.h
DEV_NOT_INUSE, DEV_INUSE, DEV_BUSY, DEV_INVALID, DEV_UNAVAILABLE, DEV_RINGING, \
    DEV_RINGINUSE = 1, 2, 3, 4, 5, 6, 7
# chan2dev[] (main/devicestate.c)
_CHAN2DEV = {0: DEV_NOT_INUSE, 5: DEV_RINGING, 7: DEV_BUSY, 9: DEV_RINGING}
# ast_devstate_aggregate_add() state_order[]
_DEV_ORDER = {0: 1, 1: 3, 2: 6, 3: 7, 4: 0, 5: 2, 6: 5, 7: 8, 8: 4}


class Member:
    """A queue member (app_queue struct member), as QueueMemberStatus shows it."""

    def __init__(self, queue, interface, membername, state_interface, membership, penalty,
                 paused, paused_reason, ringinuse, wrapuptime):
        self.queue = queue
        self.interface = interface
        self.membername = membername
        self.state_interface = state_interface
        self.membership = membership
        self.penalty = penalty
        self.calls = 0
        self.lastcall = 0
        self.lastpause = 0
        self.logintime = int(time.time())
        self.incall = 0
        self.status = 0
        self.paused = paused
        self.paused_reason = paused_reason
        self.ringinuse = ringinuse
        self.wrapuptime = wrapuptime

    def pairs(self):
        """queue_member_blob_create(), in its pack order."""
        return [("Queue", self.queue), ("MemberName", self.membername),
                ("Interface", self.interface), ("StateInterface", self.state_interface),
                ("Membership", self.membership), ("Penalty", str(self.penalty)),
                ("CallsTaken", str(self.calls)), ("LastCall", str(self.lastcall)),
                ("LastPause", str(self.lastpause)), ("LoginTime", str(self.logintime)),
                ("InCall", str(self.incall)), ("Status", str(self.status)),
                ("Paused", str(self.paused)), ("PausedReason", self.paused_reason),
                ("Ringinuse", str(self.ringinuse)), ("Wrapuptime", str(self.wrapuptime))]


class Chan:
    """One channel as its snapshot shows it, and what it is doing."""

    def __init__(self, name, uniqueid, linkedid, state, cid_num, cid_name, language,
                 accountcode, context, exten, tenantid, endpoint):
        self.name = name
        self.uniqueid = uniqueid
        self.linkedid = linkedid
        self.state = state
        self.cid_num = cid_num or ""
        self.cid_name = cid_name or ""
        self.conn_num = ""
        self.conn_name = ""
        self.language = language or ""
        self.accountcode = accountcode or ""
        self.context = context
        self.exten = exten
        self.priority = 1
        self.tenantid = tenantid or ""
        self.endpoint = endpoint
        self.appl = ""
        self.data = ""
        self.created = time.monotonic()
        self.alive = True
        self.bridge = None        # Bridge it is in
        self.leg = None           # Leg while it is a ringing outgoing leg
        self.call = None          # InboundCall when it is that call's caller channel
        self.pub = None           # the fields of its last published snapshot

    def snap(self):
        return {"state": self.state, "context": self.context, "exten": self.exten,
                "priority": self.priority, "appl": self.appl, "data": self.data,
                "cid": (self.cid_num, self.cid_name), "accountcode": self.accountcode,
                "conn": (self.conn_num, self.conn_name)}

    def block(self, prefix=""):
        """The channel block, in ast_manager_build_channel_state_string_prefix() order."""
        p = prefix
        pairs = [(p + "Channel", self.name),
                 (p + "ChannelState", str(self.state)),
                 (p + "ChannelStateDesc", STATE_DESC.get(self.state, "Unknown")),
                 (p + "CallerIDNum", self.cid_num or "<unknown>"),
                 (p + "CallerIDName", c_escape(self.cid_name) or "<unknown>"),
                 (p + "ConnectedLineNum", self.conn_num or "<unknown>"),
                 (p + "ConnectedLineName", c_escape(self.conn_name) or "<unknown>"),
                 (p + "Language", self.language),
                 (p + "AccountCode", self.accountcode),
                 (p + "Context", self.context),
                 (p + "Exten", self.exten),
                 (p + "Priority", str(self.priority)),
                 (p + "Uniqueid", self.uniqueid),
                 (p + "Linkedid", self.linkedid)]
        if self.tenantid:
            pairs.append((p + "Tenantid", self.tenantid))
        return pairs

    def __repr__(self):
        return f"<Chan {self.name} {self.uniqueid} state={self.state} alive={self.alive}>"


class Bridge:
    """A basic two-party bridge as ast_bridge_call() makes it (main/features.c)."""

    def __init__(self, technology):
        self.uniqueid = str(uuid.uuid4())
        self.technology = technology
        self.channels = []

    def block(self):
        """ast_manager_build_bridge_state_string_prefix() (main/manager_bridges.c)."""
        return [("BridgeUniqueid", self.uniqueid), ("BridgeType", "basic"),
                ("BridgeTechnology", self.technology), ("BridgeCreator", "<unknown>"),
                ("BridgeName", "<unknown>"),
                ("BridgeNumChannels", str(len(self.channels))),
                ("BridgeVideoSourceMode", "none")]


# ---- sessions -----------------------------------------------------------------------

class _Session:
    def __init__(self, ami, sock, number):
        self.ami = ami
        self.sock = sock
        self.number = number
        self.authenticated = False
        self.username = ""
        self.send_events = 0
        self.challenge = ""
        self.closed = False
        self.finishing = False
        self.out = queue_mod.Queue()
        self.reader = threading.Thread(target=self._read_loop, daemon=True)
        self.writer = threading.Thread(target=self._write_loop, daemon=True)

    def start(self):
        self.writer.start()
        self.reader.start()

    def send(self, pairs):
        if not self.closed:
            self.out.put(encode(pairs))

    def send_raw(self, data):
        if not self.closed:
            self.out.put(data)

    def finish(self):
        """Close after what is queued has been written (Logoff, failed login)."""
        self.finishing = True
        self.out.put(None)

    def drop(self):
        """Close now, unsent data lost (Asterisk died)."""
        if self.closed:
            return
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
        self.out.put(None)

    def _write_loop(self):
        while True:
            data = self.out.get()
            if data is None or self.closed:
                break
            try:
                self.sock.sendall(data)
            except OSError:
                break
        self.ami._session_gone(self)
        self.drop()

    def _read_loop(self):
        buf = b""
        pairs = []
        try:
            while not self.closed:
                try:
                    chunk = self.sock.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                buf += chunk
                while True:
                    i = buf.find(b"\n")
                    if i < 0:
                        break
                    line = buf[:i]
                    buf = buf[i + 1:]
                    if line.endswith(b"\r"):
                        line = line[:-1]
                    text = line.decode("utf-8", "replace")
                    if text == "":
                        if pairs:
                            msg = pairs
                            pairs = []
                            if not self.ami._handle(self, msg):
                                return
                        continue
                    if ":" in text:
                        k, v = text.split(":", 1)
                        pairs.append((k.strip(), v.lstrip(" \t")))
                    else:
                        pairs.append((text.strip(), ""))
        finally:
            if not self.closed and not self.finishing:
                self.ami._session_gone(self)
                self.drop()


# ---- the scripted call objects --------------------------------------------------------

class _OnChannel:
    """Something that is one channel: its uniqueid and name."""

    @property
    def uniqueid(self):
        return self.channel.uniqueid

    @property
    def name(self):
        return self.channel.name


class Leg(_OnChannel):
    """An outgoing leg: kind "queue" (rung by Queue), "dial" (rung by Dial),
    "originate" (the first leg of an Originate)."""

    def __init__(self, ami, kind, chan, caller, dialstring, interface="", membername=""):
        self.ami = ami
        self.kind = kind
        self.channel = chan
        self.caller = caller          # Chan that dials it (None for originate)
        self.dialstring = dialstring
        self.interface = interface
        self.membername = membername
        self.ring_started = time.monotonic()
        self.answered_at = None
        self.callerid_absent = False  # the endpoint gave no caller id (DIAL_CALLERID_ABSENT)
        self.call = None              # InboundCall for queue/dial legs of an inbound call
        self.originated = None        # Originated whose first leg this is
        self.originated_outbound = None   # Originated whose dialplan leg this is
        chan.leg = self

    def _agent_pairs(self):
        return [("Queue", self.call.queue), ("Interface", self.interface),
                ("MemberName", self.membername)]

    def answer(self):
        """The agent answers (wait_for_answer() AST_CONTROL_ANSWER, then try_calling())."""
        a = self.ami
        with a.lock:
            self._check_ringing()
            call, caller, ch = self.call, self.caller, self.channel
            self.answered_at = time.monotonic()
            a._newstate(ch, 6)
            a._dial(caller, ch, status="ANSWER")
            if self.kind == "queue":
                others = [leg for leg in call.legs if leg is not self]
                for o in others:                      # publish_dial_end_event(..., "CANCEL")
                    a._dial(caller, o.channel, status="CANCEL")
                if not self.callerid_absent:          # update_connected_line_from_peer()
                    caller.conn_num, caller.conn_name = ch.cid_num, ch.cid_name
                    a._publish(caller)
                for o in others:                      # hangupcalls(qe, outgoing, peer, ...)
                    a._dial(caller, o.channel, status="CANCEL")
                    a._hangup_event(o.channel, 26)
                    o.channel.leg = None
                call.legs = []
                a._queue_leave(call)
                a._event("AgentConnect", "agent", caller.block(), ch.block("Dest"),
                         self._agent_pairs() + [
                             ("HoldTime", str(int(time.monotonic() - call.joined))),
                             ("RingTime", str(int(self.answered_at - self.ring_started)))])
                for m in a._members:                  # member->starttime
                    if m.queue == call.queue and m.interface == self.interface:
                        m.incall = 1
            else:
                # app_dial wait_for_answer(): CANCEL to the others, connected line to
                # the caller unless DIAL_CALLERID_ABSENT; hanguptree() cause 26
                others = [leg for leg in (call.legs if call else []) if leg is not self]
                for o in others:
                    a._dial(caller, o.channel, status="CANCEL")
                if not self.callerid_absent:
                    caller.conn_num, caller.conn_name = ch.cid_num, ch.cid_name
                    a._publish(caller)
                for o in others:
                    a._hangup_event(o.channel, 26)
                    o.channel.leg = None
                if call:
                    call.legs = []
            ch.leg = None
            if caller.state != 6:                     # pre_bridge_setup() answers the caller
                a._newstate(caller, 6)
            a._bridge(ch, caller)
            if call:
                call.agent = self
                call.connected_at = time.monotonic()
        return self

    def no_answer(self, ring_ms=None):
        """Ring timeout: rna() then publish_dial_end_event(NOANSWER) (wait_for_answer()),
        then hangupcalls() at the end of try_calling(): DialEnd CANCEL and the hang-up
        (no cause set on the leg: Cause 0, unless cancel_answered_elsewhere)."""
        a = self.ami
        with a.lock:
            self._check_ringing()
            ch, caller = self.channel, self.caller
            if ring_ms is None:
                ring_ms = int((time.monotonic() - self.ring_started) * 1000)
            if self.kind == "queue":
                a._event("AgentRingNoAnswer", "agent", caller.block(), ch.block("Dest"),
                         self._agent_pairs() + [("RingTime", str(int(ring_ms)))])
                a._dial(caller, ch, status="NOANSWER")
                a._dial(caller, ch, status="CANCEL")
            else:
                a._dial(caller, ch, status="NOANSWER")
            a._hangup_event(ch, 0)
            self._forget()
        return self

    def reject(self):
        """The agent declines (486): ast_read() gives NULL in wait_for_answer(): DialEnd
        with ast_hangup_cause_to_dial_status(17) = BUSY, rna(), do_hang()."""
        a = self.ami
        with a.lock:
            self._check_ringing()
            ch, caller = self.channel, self.caller
            a._dial(caller, ch, status="BUSY")
            if self.kind == "queue":
                secs = int(time.monotonic() - self.ring_started)
                a._event("AgentRingNoAnswer", "agent", caller.block(), ch.block("Dest"),
                         self._agent_pairs() + [("RingTime", str(secs * 1000))])
            a._hangup_event(ch, 17)
            self._forget()
        return self

    def _check_ringing(self):
        self.ami._check_live(self.channel)
        if self.channel.leg is not self or self.kind == "originate" or self.caller is None:
            raise ValueError(f"{self.channel.name} is not ringing for a Queue or Dial "
                             "(an Originate's leg: use the Originated object)")

    def _forget(self):
        self.channel.leg = None
        if self.call and self in self.call.legs:
            self.call.legs.remove(self)

    def hangup(self, cause=16):
        """The agent hangs up an answered call (call.hangup(by="agent"))."""
        return self.call.hangup(by="agent", cause=cause)

    def blind_transfer(self, to_endpoint, exten=None, context=None, is_external=True):
        """The agent blind-transfers the caller to exten@context, which dials to_endpoint.
        ast_bridge_transfer_blind() (main/bridge.c), two-party case: the transferee is
        sent to the dialplan, the transferer removed from the bridge; BlindTransfer is
        published at the end (blind_transfer_to_ami(), main/stasis_bridges.c: Result,
        Transferer block, Transferee block, bridge block, IsExternal, Context, Extension);
        app_queue's handle_blind_transfer() then sends AgentComplete Reason transfer.
        The new leg inherits the caller's Linkedid.  Returns the new (answered) Leg."""
        a = self.ami
        with a.lock:
            a._check_live(self.channel)
            call, agent = self.call, self.channel
            caller = call.channel
            bridge = agent.bridge
            if bridge is None:
                raise ValueError("the agent leg is not bridged")
            exten = exten or to_endpoint
            context = context or caller.context
            a._event("BlindTransfer", "call", [("Result", "Success")],
                     agent.block("Transferer"), caller.block("Transferee"), bridge.block(),
                     [("IsExternal", "Yes" if is_external else "No"),
                      ("Context", context), ("Extension", exten)])
            if call.queue and self.kind == "queue":
                a._agent_complete(call, "transfer")
            a._bridge_leave(agent)
            a._hangup_event(agent, 16)
            a._bridge_leave(caller)
            a._bridge_destroy(bridge)
            caller.context, caller.exten, caller.priority = context, exten, 1
            caller.appl = ""
            call.agent = None
            call.queue_done = True
            return call._dial(to_endpoint).answer()


class InboundCall(_OnChannel):
    """A call that came in on a trunk: its caller channel and what rings for it."""

    def __init__(self, ami, chan):
        self.ami = ami
        self.channel = chan
        chan.call = self
        self.queue = None
        self.position = None
        self.original_position = None
        self.joined = None
        self.queue_done = False
        self.legs = []                # ringing legs
        self.agent = None             # the answered leg
        self.connected_at = None

    def newexten(self, application, appdata=""):
        """One more dialplan step (Newexten)."""
        with self.ami.lock:
            self.ami._check_live(self.channel)
            self.ami._exec(self.channel, application, appdata)
        return self

    def set_tenantid(self, tenantid):
        """Set(CHANNEL(tenantid)=...): no event, shows from the next one (§3.7)."""
        with self.ami.lock:
            self.channel.tenantid = tenantid
        return self

    def set_accountcode(self, accountcode):
        """Set(CHANNEL(accountcode)=...): NewAccountCode (channel_new_accountcode())."""
        with self.ami.lock:
            self.ami._check_live(self.channel)
            self.channel.accountcode = accountcode
            self.ami._publish(self.channel)
        return self

    def enter_queue(self, queue, answer=True, appdata=None):
        a = self.ami
        with a.lock:
            ch = self.channel
            a._check_live(ch)
            if answer and ch.state != 6:
                a._exec(ch, "Answer", "")
                a._newstate(ch, 6)
            a._exec(ch, "Queue", appdata if appdata is not None else queue)
            waiting = a._queues.setdefault(queue, [])
            waiting.append(self)
            self.queue = queue
            self.position = self.original_position = len(waiting)
            self.joined = time.monotonic()
            # join_queue(): Queue, Position, Count (after the increment)
            a._event("QueueCallerJoin", "agent", ch.block(),
                     [("Queue", queue), ("Position", str(self.position)),
                      ("Count", str(len(waiting)))])
        return self

    def ring_agent(self, endpoint, interface=None, membername=None):
        """ring_entry() (apps/app_queue.c): ast_request() with the caller as requestor
        (Linkedid inherited; tenantid/accountcode the agent endpoint's, §3.7), then the
        leg takes the caller's Exten and caller id as its connected line, AgentCalled,
        DialBegin (DialString = the member interface); the phone rings: Newstate
        Ringing and DialState RINGING (wait_for_answer() AST_CONTROL_RINGING)."""
        a = self.ami
        with a.lock:
            caller = self.channel
            a._check_live(caller)
            if self.queue is None:
                raise ValueError("enter_queue() first")
            interface = interface or f"PJSIP/{endpoint}"
            membername = membername or interface
            ep = a._endpoint(endpoint)
            ch = a._new_channel(ep, state=0, linkedid=caller.linkedid,
                                cid_num=ep.cid_num, cid_name=ep.cid_name)
            leg = Leg(a, "queue", ch, caller, interface, interface, membername)
            leg.call = self
            # ast_channel_req_accountcodes_precious(): the endpoint's accountcode stays
            ch.appl, ch.data = "AppQueue", "(Outgoing Line)"
            if not ep.cid_num:
                # no caller id from the endpoint: the caller's connected line
                # (ast_channel_set_caller_event()), else the dialed number (for a PJSIP
                # caller its exten; ast_set_callerid()): both publish the snapshot
                leg.callerid_absent = True
                if caller.conn_num:
                    ch.cid_num, ch.cid_name = caller.conn_num, caller.conn_name
                else:
                    ch.cid_num = caller.exten
                a._publish(ch)
            ch.conn_num, ch.conn_name = caller.cid_num, caller.cid_name
            ch.exten = caller.exten              # "Inherit context and extension"
            a._event("AgentCalled", "agent", caller.block(), ch.block("Dest"),
                     leg._agent_pairs())
            a._dial(caller, ch, dialstring=interface)
            a._newstate(ch, 5)
            a._dial(caller, ch, status="RINGING")
            leg.ring_started = time.monotonic()
            self.legs.append(leg)
        return leg

    def abandon(self):
        """The caller hangs up before an agent answered (§3.6 (b))."""
        with self.ami.lock:
            self.ami._check_live(self.channel)
            self.ami._caller_gone(self, cause=16, request=True)
        return self

    def hangup(self, by="caller", cause=16):
        """One party of an answered call hangs up: HangupRequest (ast_queue_hangup() from
        chan_pjsip), app_queue's handle_hangup() sends AgentComplete, the bridge
        dissolves (both get the cause, bridge_dissolve()), BridgeDestroy."""
        a = self.ami
        with a.lock:
            caller = self.channel
            if self.agent is None:
                if by != "caller":
                    raise ValueError("no agent answered this call")
                a._check_live(caller)
                a._caller_gone(self, cause=cause, request=True)
                return self
            first = caller if by == "caller" else self.agent.channel
            a._check_live(first)
            a._event("HangupRequest", "call", first.block(), [("Cause", str(cause))])
            if self.queue and not self.queue_done and self.agent.kind == "queue":
                a._agent_complete(self, by)
            a._teardown(first, cause)
        return self

    def dial_endpoint(self, endpoint, answer=True):
        with self.ami.lock:
            self.ami._check_live(self.channel)
            leg = self._dial(endpoint)
            return leg.answer() if answer else leg

    def _dial(self, endpoint):
        """Dial(PJSIP/<endpoint>) from the caller (apps/app_dial.c dial_exec_full()):
        the leg gets AppDial/(Outgoing Line) and the caller's Exten, DialBegin
        (DialString = the resource), then rings."""
        a = self.ami
        caller = self.channel
        a._exec(caller, "Dial", f"PJSIP/{endpoint}")
        leg = a._dial_leg(caller, a._endpoint(endpoint), endpoint)
        leg.call = self
        self.legs.append(leg)
        return leg


class Originated:
    """One Originate the fake is playing (ami.originated())."""

    def __init__(self, ami, action, mode, tech, resource, timeout_ms):
        self.ami = ami
        self.action = action
        self.mode = mode
        self.tech = tech
        self.resource = resource
        self.timeout_ms = timeout_ms
        self.agent = None            # the first leg (Chan)
        self.outbound = None         # the dialplan's leg to Exten (Chan)
        self.result = None           # "answer", "noanswer", "busy", ... once decided
        self.finished = threading.Event()
        self.is_async = True
        self.data = resource
        self._decision = None
        self._decided = threading.Event()

    def _decide(self, what):
        self._decision = what
        self._decided.set()

    def answer(self):
        self._decide("answer")

    def no_answer(self):
        self._decide("noanswer")

    def busy(self):
        self._decide("busy")

    def wait(self, timeout=5):
        return self.finished.wait(timeout)

    def hangup(self, by="agent", cause=16):
        """One party of the answered click-to-call hangs up (HangupRequest, bridge
        teardown)."""
        a = self.ami
        with a.lock:
            first = self.agent if by == "agent" else self.outbound
            if first is None or first.bridge is None:
                raise ValueError("not bridged")
            a._check_live(first)
            a._event("HangupRequest", "call", first.block(), [("Cause", str(cause))])
            a._teardown(first, cause)
        return self


# ---- the server ---------------------------------------------------------------------

class FakeAmi:
    def __init__(self, port=0, username="cc", secret="secret", version="11.0.0",
                 timestampevents=False, host="127.0.0.1", auth_fail_delay=0.2,
                 techcause=False, ring_ms=20, trunk="trunk"):
        self.host = host
        self.username = username
        self.secret = secret
        self.version = version
        self.timestampevents = timestampevents
        self.auth_fail_delay = auth_fail_delay
        self.techcause = techcause
        self.ring_ms = ring_ms                 # how long "answer" legs ring
        self.trunk = trunk                     # the outbound trunk of click-to-call
        self.originate_mode = "answer"
        self.bridge_technology = "simple_bridge"
        self.extension_exists = None           # callable(context, exten) -> bool
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self._sessions = []
        self._session_no = itertools.count(1)
        self._actions = []
        self._events = []
        self._channels = {}                    # uniqueid -> Chan, creation order
        self._queues = {}                      # queue name -> [InboundCall waiting]
        self._endpoints = {}
        self._members = []
        self._scripts = {}                     # endpoint -> [modes]
        self._script_used = {}
        self._originated = []
        self._uniq = itertools.count(0)
        self._chan_idx = itertools.count(random.randrange(1, 0x1000))
        self._started = time.time()
        self._gen = 0                          # bumped by kill(): stale threads stop
        self._stop = threading.Event()
        self.endpoint(trunk, context="from-trunk")
        self.port = port
        self._listen()

    # ---- lifecycle ------------------------------------------------------------------
    def _listen(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.port))
        s.listen(64)
        self.port = s.getsockname()[1]
        self._lsock = s
        self._accept_thread = threading.Thread(target=self._accept_loop, args=(s,),
                                               daemon=True)
        self._accept_thread.start()

    def _accept_loop(self, lsock):
        while True:
            try:
                conn, _ = lsock.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                if lsock is not self._lsock:
                    conn.close()
                    return
                sess = _Session(self, conn, next(self._session_no))
                self._sessions.append(sess)
                # session_do(): the welcome prompt
                sess.send_raw(f"Asterisk Call Manager/{self.version}\r\n".encode())
                sess.start()

    def _stop_listening(self):
        s, self._lsock = self._lsock, None
        if s is not None:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def drop_connections(self):
        """Close every session (the channels live on, still listening)."""
        with self.lock:
            sessions, self._sessions = self._sessions, []
            for s in sessions:
                s.drop()
            self.changed.notify_all()

    def kill(self, keep_channels=False):
        """Asterisk died: every connection dropped at once, nothing listens.  Its
        channels are gone too (no events) unless keep_channels."""
        with self.lock:
            self._stop_listening()
            self.drop_connections()
            if not keep_channels:
                self._gen += 1                 # running Originates stop where they are
                for ch in self._channels.values():
                    ch.alive = False
                    ch.leg = None
                self._channels.clear()
                self._queues.clear()
                for o in self._originated:
                    o._decide("killed")
                    o.finished.set()
                for m in self._members:         # as a restarted Asterisk finds them
                    m.status, m.incall = self._device_state(m.state_interface), 0

    def restart(self):
        """Listen again on the same port."""
        with self.lock:
            if self._lsock is None:
                self._started = time.time()
                self._listen()

    def close(self):
        self._stop.set()
        self.kill()

    # ---- configuration and records --------------------------------------------------
    def endpoint(self, resource, tenantid="", accountcode="", context="default",
                 cid_num="", cid_name="", language="en", online=True):
        with self.lock:
            ep = Endpoint(resource, tenantid, accountcode, context, cid_num, cid_name,
                          language, online)
            self._endpoints[resource] = ep
            return ep

    def _endpoint(self, resource):
        return self._endpoints.get(resource) or Endpoint(resource)

    def script_originate(self, endpoint, modes):
        """The outcomes of the next Originates to endpoint (the last one repeats)."""
        with self.lock:
            self._scripts[endpoint] = list(modes)
            self._script_used[endpoint] = 0

    def set_online(self, resource, online):
        """The endpoint (un)registers: its device state follows (QueueMemberStatus)."""
        with self.lock:
            self._endpoint_or_new(resource).online = online
            self._devstate_update(f"PJSIP/{resource}")

    def queue_member(self, queue, interface, membername=None, state_interface=None,
                     membership="dynamic", penalty=0, paused=0, paused_reason="",
                     ringinuse=0, wrapuptime=0):
        """A member of a queue: from now on every change of its device state (computed
        like chan_pjsip_devicestate() from the endpoint's live channels) sends
        QueueMemberStatus (update_status(): only on a change).  No event for adding."""
        with self.lock:
            m = Member(queue, interface, membername or interface,
                       state_interface or interface, membership, penalty, paused,
                       paused_reason, ringinuse, wrapuptime)
            m.status = self._device_state(m.state_interface)
            self._members.append(m)
            return m

    def members(self):
        with self.lock:
            return list(self._members)

    def _endpoint_or_new(self, resource):
        if resource not in self._endpoints:
            self._endpoints[resource] = Endpoint(resource)
        return self._endpoints[resource]

    def _device_state(self, device):
        """chan_pjsip_devicestate(): UNAVAILABLE offline / INVALID unknown endpoint, else
        the aggregate of its channels' chan2dev states (NOT_INUSE without any)."""
        tech, _, resource = device.partition("/")
        ep = self._endpoints.get(resource)
        if tech != "PJSIP" or ep is None:
            return DEV_INVALID
        state = DEV_NOT_INUSE if ep.online else DEV_UNAVAILABLE
        agg, ringing, inuse = DEV_INVALID, False, False
        chans = [c for c in self._channels.values()
                 if c.endpoint == resource and c.name.startswith("PJSIP/")]
        if not chans:
            return state
        for c in chans:
            dev = _CHAN2DEV.get(c.state, DEV_INUSE)
            ringing = ringing or dev == DEV_RINGING
            inuse = inuse or dev in (DEV_INUSE, DEV_BUSY)
            if ringing and inuse:
                agg = DEV_RINGINUSE
            elif _DEV_ORDER[dev] > _DEV_ORDER[agg]:
                agg = dev
        return agg

    def _devstate_changed(self, ch):
        if ch.name.startswith("PJSIP/"):
            self._devstate_update(f"PJSIP/{ch.endpoint}")

    def _devstate_update(self, device):
        """device_state_cb() -> update_status() for every member on that device."""
        status = None
        for m in self._members:
            if m.state_interface != device:
                continue
            if status is None:
                status = self._device_state(device)
            if m.status != status:
                if status == DEV_NOT_INUSE and m.incall:     # update_queue()
                    m.calls, m.lastcall, m.incall = m.calls + 1, int(time.time()), 0
                m.status = status
                self._event("QueueMemberStatus", "agent", m.pairs())

    def clear_records(self):
        """Forget the recorded actions and events (long runs, benchmarks)."""
        with self.lock:
            self._actions.clear()
            self._events.clear()

    def actions(self, name=None):
        with self.lock:
            return [a for a in self._actions
                    if name is None or a.get_ci("Action", "").lower() == name.lower()]

    def wait_action(self, name, count=1, timeout=5.0):
        end = time.monotonic() + timeout
        with self.lock:
            while True:
                got = self.actions(name)
                if len(got) >= count:
                    return got
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(got)} {name} actions after {timeout} s")
                self.changed.wait(left)

    def events(self, name=None):
        with self.lock:
            return [e for e in self._events if name is None or e["Event"] == name]

    def channels(self):
        with self.lock:
            return list(self._channels.values())

    def originated(self):
        with self.lock:
            return list(self._originated)

    def logged_in(self):
        with self.lock:
            return sum(1 for s in self._sessions if s.authenticated and not s.closed)

    def wait_logged_in(self, n=1, timeout=5.0):
        end = time.monotonic() + timeout
        with self.lock:
            while self.logged_in() < n:
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self.logged_in()} sessions logged in")
                self.changed.wait(left)

    def send_event(self, name, category, pairs):
        with self.lock:
            self._event(name, category, list(pairs))

    def _session_gone(self, sess):
        with self.lock:
            if sess in self._sessions:
                self._sessions.remove(sess)
            self.changed.notify_all()

    # ---- event plumbing -------------------------------------------------------------
    def _event(self, name, category, *parts):
        """manager_event(): header, then the body parts; to every logged-in session whose
        event mask holds the category."""
        cat = PERM[category] if isinstance(category, str) else category
        pairs = [("Event", name), ("Privilege", privilege(cat))]
        if self.timestampevents:
            now = time.time()
            pairs.append(("Timestamp", f"{int(now)}.{int((now % 1) * 1e6):06d}"))
        for part in parts:
            pairs.extend(part)
        self._events.append(Message(pairs))
        data = encode(pairs)
        for s in self._sessions:
            if s.authenticated and (s.send_events & cat) == cat:
                s.send_raw(data)
        self.changed.notify_all()

    def _check_live(self, ch):
        if ch is None or not ch.alive:
            raise ValueError(f"channel {getattr(ch, 'name', None)} is not live")

    def _new_uniqueid(self):
        # channel_internal_api.c: "%li.%d", time(NULL), a counter (one counter for the
        # fake's life, so a restart within a second never repeats an id)
        return f"{int(time.time())}.{next(self._uniq)}"

    def _new_channel(self, ep, state, linkedid=None, uniqueid=None, cid_num="",
                     cid_name="", exten="s", context=None, tenantid=None,
                     accountcode=None, tech="PJSIP"):
        """ast_channel_alloc (chan_pjsip_new()): name "PJSIP/<endpoint>-%08x", Context the
        endpoint's, Exten "s" unless given, Priority 1, Linkedid the requestor's or its
        own uniqueid; Newchannel."""
        uniqueid = uniqueid or self._new_uniqueid()
        name = f"{tech}/{ep.resource}-{next(self._chan_idx) & 0xffffffff:08x}"
        ch = Chan(name, uniqueid, linkedid or uniqueid, state, cid_num, cid_name,
                  ep.language, ep.accountcode if accountcode is None else accountcode,
                  ep.context if context is None else context, exten,
                  ep.tenantid if tenantid is None else tenantid, ep.resource)
        self._channels[uniqueid] = ch
        self._publish(ch)
        return ch

    def _publish(self, ch):
        """A channel snapshot is published (ast_channel_publish_snapshot(), or
        ast_channel_stage_snapshot_done() after staged changes): channel_snapshot_update()
        (main/manager_channels.c) compares it with the last one and runs its monitors in
        order: Newchannel (first snapshot) / Newstate, Newexten (an application set, or a
        new context/exten/priority: ast_channel_snapshot_cep_equal()), NewCallerid,
        NewAccountCode, NewConnectedLine.  Fields changed without a publish show in the
        blocks of other events (fresh snapshots) without an event of their own."""
        old, new = ch.pub, ch.snap()
        ch.pub = new
        if old is None:
            self._event("Newchannel", "call", ch.block())
            self._devstate_changed(ch)
            return
        if old["state"] != new["state"]:
            self._event("Newstate", "call", ch.block())
        if new["appl"] and (not old["appl"] or (old["priority"], old["context"], old["exten"])
                            != (new["priority"], new["context"], new["exten"])):
            # channel_newexten(): Extension (deprecated), Application, AppData
            self._event("Newexten", "dialplan", ch.block(),
                        [("Extension", ch.exten), ("Application", ch.appl),
                         ("AppData", ch.data)])
        if old["cid"] != new["cid"]:
            # channel_new_callerid(); presentation 0 (ast_describe_caller_presentation())
            self._event("NewCallerid", "call", ch.block(),
                        [("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")])
        if old["accountcode"] != new["accountcode"]:
            self._event("NewAccountCode", "call", ch.block(),
                        [("OldAccountCode", old["accountcode"])])
        if old["conn"] != new["conn"]:
            self._event("NewConnectedLine", "call", ch.block())
        if old["state"] != new["state"]:
            self._devstate_changed(ch)

    def _newstate(self, ch, state):
        """ast_setstate()."""
        ch.state = state
        self._publish(ch)

    def _exec(self, ch, app, data, priority=None):
        """pbx_exec() of the next dialplan step (main/pbx_app.c publishes the snapshot)."""
        if priority is not None:
            ch.priority = priority
        elif ch.appl:
            ch.priority += 1
        ch.appl, ch.data = app, data
        self._publish(ch)

    def _dial(self, caller, peer, dialstring=None, status=None):
        """channel_dial_cb(): caller block (none without a caller), Dest block, then
        DialString (DialBegin) or DialStatus (DialState for RINGING/PROCEEDING/
        PROGRESS, DialEnd for the rest)."""
        head = caller.block() if caller is not None else []
        if status is None:
            self._event("DialBegin", "call", head, peer.block("Dest"),
                        [("DialString", dialstring or "unknown")])
        else:
            name = "DialState" if status in ("RINGING", "PROCEEDING", "PROGRESS") \
                else "DialEnd"
            self._event(name, "call", head, peer.block("Dest"), [("DialStatus", status)])

    def _dial_leg(self, caller, ep, dialstring):
        """app_dial dial_exec_full(): ast_request() with the caller as requestor
        (Linkedid inherited, tenantid the endpoint's), then, staged into one snapshot:
        AppDial/(Outgoing Line), the caller id when the endpoint has none (stored_clid:
        the caller's exten, and its connected name), the accountcode
        (ast_channel_req_accountcodes(): the caller's when it has one), the connected
        line (the caller's id), the caller's exten.  DialBegin (DialString = the part
        after "PJSIP/"), then it rings: Newstate Ringing, DialState RINGING."""
        ch = self._new_channel(ep, state=0, linkedid=caller.linkedid,
                               cid_num=ep.cid_num, cid_name=ep.cid_name)
        leg = Leg(self, "dial", ch, caller, dialstring)
        ch.appl, ch.data = "AppDial", "(Outgoing Line)"
        if not ep.cid_num:
            leg.callerid_absent = True
            ch.cid_num = caller.exten
            ch.cid_name = ch.cid_name or caller.conn_name
        if caller.accountcode:
            ch.accountcode = caller.accountcode
        ch.conn_num, ch.conn_name = caller.cid_num, caller.cid_name
        ch.exten = caller.exten
        self._publish(ch)
        self._dial(caller, ch, dialstring=dialstring)
        self._newstate(ch, 5)
        self._dial(caller, ch, status="RINGING")
        leg.ring_started = time.monotonic()
        return leg

    def _hangup_event(self, ch, cause):
        """channel_state_change(): Cause, Cause-txt (+ TechCause when set)."""
        if not ch.alive:
            return
        extra = [("Cause", str(cause)), ("Cause-txt", CAUSE_TXT.get(cause, "Unknown"))]
        tech = TECH_CAUSE.get(cause, 0)
        if self.techcause and tech and ch.name.startswith("PJSIP/"):
            extra.append(("TechCause", str(tech)))
        ch.alive = False
        self._channels.pop(ch.uniqueid, None)
        self._event("Hangup", "call", ch.block(), extra)
        self._devstate_changed(ch)

    def _bridge(self, peer, chan):
        """ast_bridge_call(): the peer is imparted first, then the caller joins."""
        b = Bridge(self.bridge_technology)
        self._event("BridgeCreate", "call", b.block())
        for ch in (peer, chan):
            b.channels.append(ch)
            ch.bridge = b
            self._event("BridgeEnter", "call", b.block(), ch.block())
        return b

    def _bridge_leave(self, ch):
        b = ch.bridge
        if b is None:
            return
        b.channels.remove(ch)
        ch.bridge = None
        self._event("BridgeLeave", "call", b.block(), ch.block())

    def _bridge_destroy(self, b):
        self._event("BridgeDestroy", "call", b.block())

    def _teardown(self, first, cause):
        """A bridged channel goes: both leave (that one first), both hang up with the
        cause (channel_set_cause(), bridge_dissolve(): 16 when none), BridgeDestroy."""
        b = first.bridge
        others = [c for c in b.channels if c is not first]
        self._bridge_leave(first)
        for c in others:
            self._bridge_leave(c)
        self._hangup_event(first, cause)
        for c in others:
            self._hangup_event(c, cause)
        self._bridge_destroy(b)

    def _queue_leave(self, call):
        """leave_queue(): Queue, Position, Count (after the decrement); the callers
        behind move up."""
        waiting = self._queues.get(call.queue, [])
        if call in waiting:
            waiting.remove(call)
        self._event("QueueCallerLeave", "agent", call.channel.block(),
                    [("Queue", call.queue), ("Position", str(call.position)),
                     ("Count", str(len(waiting)))])
        for i, c in enumerate(waiting, 1):
            c.position = i

    def _agent_complete(self, call, reason):
        """send_agent_complete(): HoldTime, TalkTime, Reason; then update_queue()."""
        leg = call.agent
        for m in self._members:
            if m.queue == call.queue and m.interface == leg.interface and m.incall:
                m.calls, m.lastcall, m.incall = m.calls + 1, int(time.time()), 0
        hold = int((call.connected_at or time.monotonic()) - call.joined)
        talk = int(time.monotonic() - (call.connected_at or time.monotonic()))
        self._event("AgentComplete", "agent", call.channel.block(), leg.channel.block("Dest"),
                    leg._agent_pairs() + [("HoldTime", str(hold)), ("TalkTime", str(talk)),
                                          ("Reason", reason)])
        call.queue_done = True

    def _caller_gone(self, call, cause, request):
        """The caller hangs up while waiting (§3.6 (b)): HangupRequest (only when the
        channel driver queued one: not for the Hangup action), DialEnd CANCEL for every
        ringing leg (wait_for_answer()), DialEnd CANCEL + Hangup of each (hangupcalls(),
        no cause on the legs), QueueCallerAbandon (record_abandoned()),
        QueueCallerLeave, Hangup of the caller.  A Dial caller: DialEnd CANCEL and
        Hangup (the caller's cause, hanguptree()) per leg, then the caller."""
        ch = call.channel
        if request:
            self._event("HangupRequest", "call", ch.block(), [("Cause", str(cause))])
        legs, call.legs = list(call.legs), []
        in_queue = call.queue is not None and not call.queue_done
        if in_queue:
            for leg in legs:
                self._dial(ch, leg.channel, status="CANCEL")
            for leg in legs:
                self._dial(ch, leg.channel, status="CANCEL")
                self._hangup_event(leg.channel, 0)
                leg.channel.leg = None
            self._event("QueueCallerAbandon", "agent", ch.block(),
                        [("Queue", call.queue), ("Position", str(call.position)),
                         ("OriginalPosition", str(call.original_position)),
                         ("HoldTime", str(int(time.monotonic() - call.joined)))])
            self._queue_leave(call)
            call.queue_done = True
            self._hangup_event(ch, cause)
        else:
            self._dialer_gone(ch, legs, cause)

    def _dialer_gone(self, ch, legs, cause):
        """A Dial's caller hangs up (app_dial): DialEnd CANCEL per ringing leg, the legs
        hang up with the caller's cause (hanguptree()), then the caller."""
        for leg in legs:
            self._dial(ch, leg.channel, status="CANCEL")
        for leg in legs:
            self._hangup_event(leg.channel, cause)
            leg.channel.leg = None
        self._hangup_event(ch, cause)

    # ---- the scripted calls ---------------------------------------------------------
    def inbound_call(self, tenantid=None, accountcode=None, caller_num="", caller_name="",
                     did="", trunk=None, language=None):
        """A call arrives on the trunk endpoint (chan_pjsip_new() with AST_STATE_RING,
        Exten = the dialed number, Context = the endpoint's)."""
        with self.lock:
            ep = self._endpoint(trunk or self.trunk)
            if language is not None:
                ep = Endpoint(ep.resource, ep.tenantid, ep.accountcode, ep.context,
                              ep.cid_num, ep.cid_name, language)
            ch = self._new_channel(ep, state=4, cid_num=caller_num, cid_name=caller_name,
                                   exten=did, tenantid=tenantid, accountcode=accountcode)
            return InboundCall(self, ch)

    # ---- actions --------------------------------------------------------------------
    def _handle(self, sess, pairs):
        """process_message().  False when the session is to end."""
        msg = Message(pairs, session=sess.number)
        with self.lock:
            self._actions.append(msg)
            self.changed.notify_all()
        action = (msg.get_ci("Action") or "").strip()
        aid = msg.get_ci("ActionID")
        if not action:
            sess.send(self._response("Error", aid, "Missing action in request"))
            return True
        low = action.lower()
        if not sess.authenticated and low not in ("login", "logoff", "challenge"):
            sess.send(self._response("Error", aid, "Permission denied"))
            return True
        handler = {"login": self._act_login, "logoff": self._act_logoff,
                   "challenge": self._act_challenge, "events": self._act_events,
                   "ping": self._act_ping, "coreshowchannels": self._act_coreshowchannels,
                   "originate": self._act_originate, "hangup": self._act_hangup}.get(low)
        if handler is None:
            sess.send(self._response(
                "Error", aid, f"Invalid/unknown command: {action}. Use Action: "
                "ListCommands to show available commands."))
            return True
        return handler(sess, msg, aid) is not False

    @staticmethod
    def _response(resp, aid, message=None, eventlist=None):
        """astman_send_response_full()."""
        pairs = [("Response", resp)]
        if aid:
            pairs.append(("ActionID", aid))
        if eventlist:
            pairs.append(("EventList", eventlist))
        if message is not None:
            pairs.append(("Message", message))
        return pairs

    @staticmethod
    def _list_complete(event, aid, count):
        """astman_send_list_complete_start_common(): Event, ActionID, EventList: Complete,
        ListItems."""
        return ([("Event", event)] + ([("ActionID", aid)] if aid else [])
                + [("EventList", "Complete"), ("ListItems", str(count))])

    def _act_login(self, sess, msg, aid):
        """action_login() / authenticate()."""
        if sess.authenticated:
            sess.send(self._response("Success", aid, "Already authenticated"))
            return True
        user = msg.get_ci("Username") or ""
        ok = False
        if user and user == self.username:
            if (msg.get_ci("AuthType") or "").lower() == "md5":
                key = msg.get_ci("Key") or ""
                want = hashlib.md5((sess.challenge + self.secret).encode()).hexdigest()
                ok = bool(key) and bool(sess.challenge) and key == want
            else:
                ok = (msg.get_ci("Secret") or "") == self.secret
        if not ok:
            time.sleep(self.auth_fail_delay)          # sleep(1) in action_login()
            sess.send(self._response("Error", aid, "Authentication failed"))
            sess.finish()
            return False
        with self.lock:
            events = msg.get_ci("Events")
            mask = strings_to_mask(events) if events else -1
            sess.send_events = ALL if mask < 0 else (ALL & mask)
            sess.username = user
            sess.send(self._response("Success", aid, "Authentication accepted"))
            if sess.send_events & PERM["system"]:
                up = int(time.time() - self._started)
                sess.send([("Event", "FullyBooted"), ("Privilege", privilege(PERM["system"])),
                           ("Uptime", str(up)), ("LastReload", str(up)),
                           ("Status", "Fully Booted")])
            sess.authenticated = True
            self.changed.notify_all()
        return True

    def _act_logoff(self, sess, msg, aid):
        sess.send(self._response("Goodbye", aid, "Thanks for all the fish."))
        sess.finish()
        return False

    def _act_challenge(self, sess, msg, aid):
        if (msg.get_ci("AuthType") or "").lower() != "md5":
            sess.send(self._response("Error", aid, "Must specify AuthType"))
            return True
        if not sess.challenge:
            sess.challenge = str(random.randrange(1, 2 ** 31))
        sess.send(self._response("Success", aid) + [("Challenge", sess.challenge)])
        return True

    def _act_events(self, sess, msg, aid):
        """action_events()."""
        mask = strings_to_mask(msg.get_ci("EventMask"))
        with self.lock:
            if mask >= 0:
                sess.send_events = ALL & mask
            head = [("Response", "Success")] + ([("ActionID", aid)] if aid else [])
            if mask > 0:
                sess.send(head + [("Events", "On")])
            elif mask == 0:
                sess.send(head + [("Events", "Off")])
            else:
                sess.send(self._response("Error", aid, "Invalid event mask"))
        return True

    def _act_ping(self, sess, msg, aid):
        """action_ping()."""
        now = time.time()
        pairs = [("Response", "Success")] + ([("ActionID", aid)] if aid else [])
        sess.send(pairs + [("Ping", "Pong"),
                           ("Timestamp", f"{int(now)}.{int((now % 1) * 1e6):06d}")])
        return True

    def _act_coreshowchannels(self, sess, msg, aid):
        """action_coreshowchannels(): a list ack, one CoreShowChannel per channel
        (astman_append: no Privilege; ActionID before the channel block; Application,
        ApplicationData, Duration HH:MM:SS, BridgeId), then CoreShowChannelsComplete."""
        with self.lock:
            sess.send(self._response("Success", aid, "Channels will follow", "start"))
            n = 0
            now = time.monotonic()
            for ch in self._channels.values():
                d = int(now - ch.created)
                item = [("Event", "CoreShowChannel")]
                if aid:
                    item.append(("ActionID", aid))
                item += ch.block()
                item += [("Application", ch.appl), ("ApplicationData", ch.data),
                         ("Duration", f"{d // 3600:02d}:{d % 3600 // 60:02d}:{d % 60:02d}"),
                         ("BridgeId", ch.bridge.uniqueid if ch.bridge else "")]
                sess.send(item)
                n += 1
            sess.send(self._list_complete("CoreShowChannelsComplete", aid, n))
        return True

    # ---- Hangup ---------------------------------------------------------------------
    def _find_channel(self, name_or_id):
        """ast_channel_get_by_name(): the exact name, else a uniqueid."""
        for ch in self._channels.values():
            if ch.name == name_or_id:
                return ch
        return self._channels.get(name_or_id)

    def _act_hangup(self, sess, msg, aid):
        """ast_manager_hangup_helper()."""
        target = msg.get_ci("Channel") or ""
        if not target:
            sess.send(self._response("Error", aid, "No channel specified"))
            return True
        cause = 0
        raw = msg.get_ci("Cause")
        if raw:
            cause = int(raw) if raw.isdigit() and 0 <= int(raw) <= 127 else 0
        with self.lock:
            if not target.startswith("/"):
                ch = self._find_channel(target)
                if ch is None:
                    sess.send(self._response("Error", aid, "No such channel"))
                    return True
                sess.send(self._response("Success", aid, "Channel Hungup"))
                self._hangup_channel(ch, cause)
                return True
            if len(target) < 2 or not target.endswith("/"):
                sess.send(self._response(
                    "Error", aid, "Regex format invalid, Channel param should be /regex/"))
                return True
            try:
                rx = re.compile(target[1:-1])
            except re.error:
                sess.send(self._response("Error", aid, f"Regex compile failed on: {target}"))
                return True
            sess.send(self._response("Success", aid, "Channels hung up will follow", "start"))
            hit = [ch for ch in self._channels.values() if rx.search(ch.name)]
            for ch in hit:
                sess.send([("Event", "ChannelHungup"), ("Channel", ch.name)]
                          + ([("ActionID", aid)] if aid else []))
            sess.send(self._list_complete("ChannelsHungupListComplete", aid, len(hit)))
            for ch in hit:
                if ch.alive:
                    self._hangup_channel(ch, cause)
        return True

    def _hangup_channel(self, ch, cause):
        """What the Hangup action leads to.  action_hangup() calls
        ast_channel_softhangup_withcause_locked() -> ast_softhangup_nolock(), which
        publishes no hangup-request message: no HangupRequest/SoftHangupRequest event,
        and so no AgentComplete either (app_queue's handle_hangup() listens for hangup
        requests).  The channel's own thread then notices the soft hang-up."""
        cause = cause or 16           # bridged: channel_set_cause() (16 when none)
        if ch.bridge is not None:
            self._teardown(ch, cause)
            return
        leg = ch.leg
        if leg is not None and leg.kind == "originate":
            # monitor_dial(): ast_read() NULL -> DialEnd with
            # ast_hangup_cause_to_dial_status(), ast_hangup(); the Originate fails.
            o = leg.originated
            self._dial(None, ch, status=_dial_status(cause))
            self._hangup_event(ch, cause)
            ch.leg = None
            self._originate_response(o, False, 0)
            o.result = "hungup"
            o._decide("hungup")
            o.finished.set()
            return
        if leg is not None:
            # wait_for_answer() (app_queue) / wait_for_answer() (app_dial): ast_read()
            # NULL on the leg -> DialEnd, rna() for queue members, hang-up.
            self._dial(leg.caller, ch, status=_dial_status(cause))
            if leg.kind == "queue":
                secs = int(time.monotonic() - leg.ring_started)
                self._event("AgentRingNoAnswer", "agent", leg.caller.block(),
                            ch.block("Dest"),
                            leg._agent_pairs() + [("RingTime", str(secs * 1000))])
            self._hangup_event(ch, cause)
            leg._forget()
            if leg.originated_outbound is not None:
                # the click-to-call's Dial failed: the agent leg's dialplan ends
                self._hangup_event(leg.caller, 16)
                leg.originated_outbound.finished.set()
            return
        if ch.call is not None:
            self._caller_gone(ch.call, cause, request=False)
            return
        self._dialer_gone(ch, [c.leg for c in self._channels.values()
                               if c.leg is not None and c.leg.caller is ch], cause)

    # ---- Originate ------------------------------------------------------------------
    def _next_mode(self, resource):
        steps = self._scripts.get(resource)
        if not steps:
            return self.originate_mode
        k = self._script_used.get(resource, 0)
        self._script_used[resource] = k + 1
        return steps[min(k, len(steps) - 1)]

    def _act_originate(self, sess, msg, aid):
        """action_originate(): the checks in its order, then fast_originate() in a thread
        (Async) or the call played in the session's thread."""
        name = msg.get_ci("Channel") or ""
        exten = msg.get_ci("Exten") or ""
        context = msg.get_ci("Context") or ""
        priority = msg.get_ci("Priority") or ""
        timeout = msg.get_ci("Timeout") or ""
        app = msg.get_ci("Application") or ""
        chanid = msg.get_ci("ChannelId") or ""
        otherid = msg.get_ci("OtherChannelId") or ""
        if len(chanid) > AST_MAX_PUBLIC_UNIQUEID or len(otherid) > AST_MAX_PUBLIC_UNIQUEID:
            # astman_send_error_va() with a format ending "\n": the value keeps the LF
            sess.send(self._response(
                "Error", aid, f"Uniqueid length exceeds maximum of {AST_MAX_PUBLIC_UNIQUEID}\n"))
            return True
        if not name:
            sess.send(self._response("Error", aid, "Channel not specified"))
            return True
        pi = 0
        if priority:
            pi = _prefix_int(priority)
            if pi is None:               # not a number, and no such label
                sess.send(self._response("Error", aid, "Invalid priority"))
                return True
        to = 30000
        if timeout:
            to = _prefix_int(timeout)
            if to is None:
                sess.send(self._response("Error", aid, "Invalid timeout"))
                return True
        if "/" not in name:
            sess.send(self._response("Error", aid, "Invalid channel"))
            return True
        if pi and self.extension_exists is not None \
                and not self.extension_exists(context, exten):
            sess.send(self._response("Error", aid, "Extension does not exist."))
            return True
        tech, data = name.split("/", 1)
        resource = data.split("/", 1)[0]
        resource = resource.split("@", 1)[1] if "@" in resource else resource
        if _ast_true(msg.get_ci("Async")):
            with self.lock:
                o = Originated(self, msg, self._next_mode(resource), tech, resource, to)
                self._originated.append(o)
                sess.send(self._response("Success", aid, "Originate successfully queued"))
                gen = self._gen
            threading.Thread(target=self._originate_run, args=(o, gen, data, True),
                             daemon=True).start()
            return True
        if not app and not pi:
            sess.send(self._response(
                "Error", aid, "Originate with 'Exten' requires 'Context' and 'Priority'"))
            return True
        with self.lock:
            o = Originated(self, msg, self._next_mode(resource), tech, resource, to)
            self._originated.append(o)
            gen = self._gen
        ok = self._originate_run(o, gen, data, False)
        if ok:
            sess.send(self._response("Success", aid, "Originate successfully queued"))
        else:
            sess.send(self._response("Error", aid, "Originate failed"))
        return True

    def _originate_response(self, o, success, reason):
        """fast_originate(): OriginateResponse (Async only); without a channel (failure)
        Channel is the requested "Tech/data" and Uniqueid the ChannelId or <unknown>."""
        if not o.is_async:
            return
        m = o.action
        aid = m.get_ci("ActionID")
        chan = o.agent if success else None
        cid_name, cid_num = parse_callerid(m.get_ci("CallerID") or "")
        body = [("ActionID", aid)] if aid else []
        body.append(("Response", "Success" if success else "Failure"))
        body.append(("Channel", chan.name if chan else f"{o.tech}/{o.data}"))
        app = m.get_ci("Application") or ""
        if app:
            body += [("Application", app), ("Data", m.get_ci("Data") or "")]
        else:
            body += [("Context", m.get_ci("Context") or ""), ("Exten", m.get_ci("Exten") or "")]
        body += [("Reason", str(reason)),
                 ("Uniqueid", chan.uniqueid if chan else (m.get_ci("ChannelId") or "<unknown>")),
                 ("CallerIDNum", cid_num or "<unknown>"),
                 ("CallerIDName", cid_name or "<unknown>")]
        self._event("OriginateResponse", "call", body)

    def _originate_run(self, o, gen, data, is_async):
        """The click-to-call (pbx_outgoing_attempt(), main/dial.c monitor_dial(), then
        the dialplan's Dial).  True when the first leg answered."""
        o.is_async = is_async
        o.data = data
        m = o.action
        ep = self._endpoint(o.resource)
        cid_name, cid_num = parse_callerid(m.get_ci("CallerID") or "")
        account = m.get_ci("Account") or ""
        with self.lock:
            if gen != self._gen:
                return False
            if o.mode == "unavailable":          # ast_dial_prerun() failed: no channel
                o.result = "unavailable"
                self._originate_response(o, False, 0)
                o.finished.set()
                return False
            ch = self._new_channel(ep, state=0, uniqueid=m.get_ci("ChannelId") or None,
                                   cid_num=ep.cid_num, cid_name=ep.cid_name, tech=o.tech)
            o.agent = ch
            leg = Leg(self, "originate", ch, None, o.resource)
            leg.originated = o
            if account:                          # staged accountcode + peeraccount
                ch.accountcode = account
                self._publish(ch)
            if cid_num or cid_name:              # ast_set_callerid(), then the connected
                ch.cid_num, ch.cid_name = cid_num, cid_name      # line
                self._publish(ch)
                ch.conn_num, ch.conn_name = cid_num, cid_name
                self._publish(ch)
            self._dial(None, ch, dialstring=o.resource)
            if o.mode in ("busy", "congestion"):
                self._originate_fail(o, ch, o.mode)
                return False
            self._newstate(ch, 5)
            self._dial(None, ch, status="RINGING")
        if o.mode == "answer":
            o._decided.wait(self.ring_ms / 1000.0)
            decision = o._decision or "answer"
        else:                                    # "noanswer", "manual"
            o._decided.wait(max(o.timeout_ms, 0) / 1000.0)
            decision = o._decision or "noanswer"
        with self.lock:
            if gen != self._gen or o.finished.is_set() or not ch.alive:
                return False
            if decision in ("busy", "congestion"):
                self._originate_fail(o, ch, decision)
                return False
            if decision != "answer":
                # handle_timeout_trip(): hangupcause 19, ast_hangup(), no DialEnd
                ch.leg = None
                self._hangup_event(ch, 19)
                o.result = "noanswer"
                self._originate_response(o, False, 3)
                o.finished.set()
                return False
            ch.leg = None
            self._newstate(ch, 6)
            self._dial(None, ch, status="ANSWER")
            o.result = "answer"
            self._originate_response(o, True, 4)
            app = m.get_ci("Application") or ""
            if app:                              # ast_pbx_outgoing_app(): runs the app
                self._exec(ch, app, m.get_ci("Data") or "")
                o.finished.set()
                return True
            # the dialplan (pbx_outgoing_exec(): the channel starts at Context/Exten/
            # Priority): Dial(PJSIP/<Exten>@<trunk>)
            exten = m.get_ci("Exten") or ""
            ch.context = m.get_ci("Context") or ""
            ch.exten = exten
            dialstring = f"{exten}@{self.trunk}"
            self._exec(ch, "Dial", f"PJSIP/{dialstring}",
                       priority=_prefix_int(m.get_ci("Priority") or "1") or 1)
            oleg = self._dial_leg(ch, self._endpoint(self.trunk), dialstring)
            oleg.originated_outbound = o
            out = o.outbound = oleg.channel
        # the far end answers after ring_ms (app_dial wait_for_answer(), then the bridge)
        if self._stop.wait(self.ring_ms / 1000.0):
            return True
        with self.lock:
            if gen != self._gen or not out.alive or not ch.alive or out.leg is None:
                o.finished.set()
                return True
            self._newstate(out, 6)
            self._dial(ch, out, status="ANSWER")
            if not oleg.callerid_absent:
                ch.conn_num, ch.conn_name = out.cid_num, out.cid_name
                self._publish(ch)
            out.leg = None
            self._bridge(out, ch)
            o.finished.set()
        return True

    def _originate_fail(self, o, ch, how):
        """handle_frame() BUSY / CONGESTION: DialEnd, ast_hangup() (the cause chan_pjsip
        took from the response), the Originate fails with Reason 5 / 8."""
        cause, reason = (17, 5) if how == "busy" else (34, 8)
        self._dial(None, ch, status=how.upper())
        ch.leg = None
        self._hangup_event(ch, cause)
        o.result = how
        self._originate_response(o, False, reason)
        o.finished.set()


def _dial_status(cause):
    """ast_hangup_cause_to_dial_status() (main/dial.c)."""
    return {17: "BUSY", 34: "CONGESTION", 3: "CHANUNAVAIL", 20: "CHANUNAVAIL"}.get(
        cause, "NOANSWER")
