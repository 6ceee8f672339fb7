"""API.md "Telephony", queue statistics: GET /api/v1/queues/{id}/stats
(mod_callcenter/cc_queue_stats.c).

The rows are written into queue_log the way app_queue writes them in adaptive realtime
mode (shared/reference/asterisk-runtime.md section 1, checked against apps/app_queue.c's
ast_queue_log calls): time in UTC (queue_log_realtime_use_gmt=yes), callid the caller's
uniqueid, agent NONE or the member's name (`;` and `^` stored as ^3B and ^5E), the payload
split on '|' into data1..data5 with the missing parts stored as '' (never NULL), ring
times in milliseconds (RINGNOANSWER, RINGCANCELED), CONNECT's ring time in seconds.

Covered: exact figures for every counted verb (CONNECT, ABANDON with and without an
agent, EXITWITHTIMEOUT, EXITEMPTY, EXITWITHKEY, WITHDRAW, COMPLETECALLER, COMPLETEAGENT,
BLINDTRANSFER, ATTENDEDTRANSFER BRIDGE and LINK, the old TRANSFER) beside the ignored
ones; short abandons and their threshold; the service level at exactly the queue's
threshold; the window (from inclusive, to exclusive, offsets, defaults); rows of another
queue, of another tenant's queue and of an earlier queue under the same Asterisk name
(another tenant's) not counted; 404 for another tenant's queue; 403 without queues.read;
400 for every bad parameter; an empty window; the answers against the OpenAPI document.
"""

from datetime import datetime, timedelta, timezone

import pytest

from cchelpers import assert_405, assert_error, db_exec, db_rows, detail_fields, openapi_checker
from ccobjects import token_with_permissions, uniq_name

QUEUES = "/api/v1/queues"
STATS_KEYS = {"offered", "answered", "abandoned", "short_abandoned", "abandon_rate",
              "answered_within_sl", "service_level", "avg_wait", "max_wait", "avg_talk"}
ZEROS = dict.fromkeys(STATS_KEYS, 0)

T0 = datetime(2026, 3, 10, 9, 0, 0)          # the calls' day (UTC)
BORN = "2026-01-01 00:00:00"                 # the test queues' backdated created_at


# ---- helpers ---------------------------------------------------------------------

def stats_path(qid):
    return f"{QUEUES}/{qid}/stats"


def iso(t):
    return t.replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")


def make_queue(cc, tenant, service_level=20, token=None, headers=None, name=None):
    """A queue of tenant whose created_at is moved back to BORN, so that the calls below
    (in March 2026) happen after it exists."""
    r = cc.post(QUEUES, token=token or tenant.admin_token, headers=headers,
                json={"name": name or uniq_name("Stats"), "service_level": service_level})
    assert r.status_code == 201, r.text
    q = r.json()
    db_exec(cc, "UPDATE call_queues SET created_at = %s WHERE id = %s", (BORN, q["id"]))
    return q


class QueueLog:
    """Writes queue_log rows as app_queue does for one queue (asterisk_name)."""

    def __init__(self, cc, queuename):
        self.cc, self.queuename, self.n = cc, queuename, 0

    def row(self, t, callid, agent, event, *data):
        data = [str(d) for d in data] + [""] * (5 - len(data))
        db_exec(self.cc, "INSERT INTO queue_log (`time`, callid, queuename, agent, event,"
                " data1, data2, data3, data4, data5) VALUES (%s, %s, %s, %s, %s, %s, %s, %s,"
                " %s, %s)", (t.strftime("%Y-%m-%d %H:%M:%S"), callid, self.queuename, agent,
                             event, *data))

    def callid(self):
        self.n += 1
        return f"1773133200.{self.n}"

    def enter(self, t, callid, pos=1):
        # data1 URL (empty), data2 caller number, data3 original position.
        self.row(t, callid, "NONE", "ENTERQUEUE", "", "5551234567", pos)

    def answered(self, t, hold, talk=None, end="COMPLETECALLER", agent="Alice", pos=1,
                 ring=7, attended=None):
        """A call answered after hold seconds; end names the row that ends it after talk
        seconds (None: still talking)."""
        c = self.callid()
        self.enter(t, c, pos)
        self.row(t + timedelta(seconds=1), c, "Bob", "RINGNOANSWER", 15000)
        at = t + timedelta(seconds=hold)
        self.row(at, c, agent, "CONNECT", hold, c + "1", ring)
        if end is None:
            return
        done = at + timedelta(seconds=talk)
        if end in ("COMPLETECALLER", "COMPLETEAGENT"):
            self.row(done, c, agent, end, hold, talk, pos)
        elif end == "BLINDTRANSFER":
            self.row(done, c, agent, end, "2001", "tenant-x", hold, talk, pos)
        elif end == "TRANSFER":                       # Asterisk 11 and older
            self.row(done, c, agent, end, "2001", "tenant-x", hold, talk, pos)
        elif end == "ATTENDEDTRANSFER" and attended == "BRIDGE":
            self.row(done, c, agent, end, "BRIDGE", "0b1e8f0c-bridge", hold, talk, pos)
        elif end == "ATTENDEDTRANSFER" and attended == "LINK":
            # "LINK|chan1|chan2|hold|talk|pos": the 4th '|' is the last split, so data5
            # holds "talk|pos"; channel names carry ';' stored as ^3B.
            self.row(done, c, agent, end, "LINK", "Local/2001@tenant-x-00000001^3B1",
                     "Local/2001@tenant-x-00000001^3B2", hold, f"{talk}|{pos}")
        else:
            raise AssertionError(end)

    def abandoned(self, t, wait, agent="NONE", pos=2, opos=3):
        c = self.callid()
        self.enter(t, c, opos)
        at = t + timedelta(seconds=wait)
        self.row(at, c, "Bob", "RINGCANCELED", 4130)
        self.row(at, c, agent, "ABANDON", pos, opos, wait)

    def left(self, t, event, wait):
        c = self.callid()
        self.enter(t, c)
        at = t + timedelta(seconds=wait)
        if event == "EXITWITHKEY":
            self.row(at, c, "NONE", event, "1", 1, 1, wait)
        elif event == "WITHDRAW":
            self.row(at, c, "NONE", event, 1, 1, wait, "moved by supervisor")
        else:
            self.row(at, c, "NONE", event, 1, 1, wait)


def get_stats(cc, token, qid, headers=None, **params):
    r = cc.get(stats_path(qid), token=token, params=params, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == STATS_KEYS, body
    return body


def assert_stats(body, **expected):
    for k, v in expected.items():
        assert body[k] == pytest.approx(v, abs=1e-6), (k, body)


DAY = {"from": "2026-03-10T00:00:00Z", "to": "2026-03-11T00:00:00Z"}


def write_day(log):
    """Every verb once or more, at T0 onwards; the expected figures are below."""
    t = T0
    step = timedelta(minutes=10)
    log.answered(t, hold=10, talk=100, end="COMPLETECALLER")                     # in SL
    log.answered(t + step, hold=20, talk=50, end="COMPLETEAGENT",                # at SL
                 agent="Smith^3B J^5Er")
    log.answered(t + 2 * step, hold=21, talk=30, end="BLINDTRANSFER")           # past SL
    log.answered(t + 3 * step, hold=5, talk=40, end="ATTENDEDTRANSFER", attended="BRIDGE")
    log.answered(t + 4 * step, hold=8, talk=60, end="ATTENDEDTRANSFER", attended="LINK")
    log.answered(t + 5 * step, hold=3, talk=20, end="TRANSFER")
    log.answered(t + 6 * step, hold=25, end=None)                                # talking
    log.abandoned(t + 7 * step, wait=30)
    log.abandoned(t + 8 * step, wait=12, agent="Alice")   # hung up as the agent answered
    log.abandoned(t + 9 * step, wait=4)                   # short (under 5 s)
    log.abandoned(t + 10 * step, wait=5)                  # not short: 5 s is not under 5
    log.left(t + 11 * step, "EXITWITHTIMEOUT", 300)
    log.left(t + 12 * step, "EXITEMPTY", 7)
    log.left(t + 13 * step, "EXITWITHKEY", 45)
    log.left(t + 14 * step, "WITHDRAW", 9)
    # Rows that count for nothing: member events, a custom QueueLog() row.
    log.row(t, "NONE", "Alice", "PAUSE", "Lunch")
    log.row(t, "REALTIME", "PJSIP/x-1001", "ADDMEMBER", "")
    log.row(t, log.callid(), "NONE", "CUSTOM", "CONNECT")


# answered: 7 (holds 10 20 21 5 8 3 25), within SL (<= 20): 10 20 5 8 3 -> 5
# abandoned: 30 12 5 -> 3; short: 4 -> 1; left: 300 7 45 9 -> 4; offered 14
# waits: 92 + 47 + 361 = 500 over 14, max 300; talk: 100 50 30 40 60 20 = 300 over 6
DAY_EXPECTED = {"offered": 14, "answered": 7, "abandoned": 3, "short_abandoned": 1,
                "abandon_rate": 3 / 14, "answered_within_sl": 5, "service_level": 5 / 14,
                "avg_wait": 500 / 14, "max_wait": 300, "avg_talk": 50}


# ---- the figures ---------------------------------------------------------------------

def test_every_verb_counts_as_defined(cc, tenant):
    check = openapi_checker(cc)
    q = make_queue(cc, tenant, service_level=20)
    write_day(QueueLog(cc, q["asterisk_name"]))
    r = cc.get(stats_path(q["id"]), token=tenant.admin_token, params=DAY)
    body = check(r, "GET", f"{QUEUES}/{{id}}/stats", 200)
    assert_stats(body, **DAY_EXPECTED)
    assert isinstance(body["offered"], int) and isinstance(body["max_wait"], int)
    # Rates and means carry at most 6 decimals.
    assert r.text.count("0.214286") == 1 and "35.714286" in r.text, r.text


@pytest.mark.parametrize("short, abandoned, shorts, waits", [
    ("0", 4, 0, 504),      # none is short
    ("4", 4, 0, 504),      # a wait of 4 s is not under 4
    ("5", 3, 1, 500),      # the default: the 4 s wait is short, the 5 s one is not
    ("6", 2, 2, 495),      # the 5 s wait is short too
    ("600", 0, 4, 453),    # every abandon is short
])
def test_short_abandons_follow_the_threshold(cc, tenant, short, abandoned, shorts, waits):
    q = make_queue(cc, tenant)
    write_day(QueueLog(cc, q["asterisk_name"]))     # abandons after 30, 12, 4 and 5 s
    body = get_stats(cc, tenant.admin_token, q["id"], short_abandon=short, **DAY)
    offered = 7 + abandoned + 4
    assert_stats(body, abandoned=abandoned, short_abandoned=shorts, offered=offered,
                 abandon_rate=abandoned / offered, service_level=5 / offered,
                 avg_wait=waits / offered, answered=7, max_wait=300, avg_talk=50)


def test_service_level_counts_a_hold_exactly_at_the_threshold(cc, tenant):
    q = make_queue(cc, tenant, service_level=30)
    log = QueueLog(cc, q["asterisk_name"])
    log.answered(T0, hold=30, talk=10)                          # at the threshold: in
    log.answered(T0 + timedelta(minutes=1), hold=31, talk=10)   # one second past: out
    log.answered(T0 + timedelta(minutes=2), hold=0, talk=10)
    body = get_stats(cc, tenant.admin_token, q["id"], **DAY)
    assert_stats(body, offered=3, answered=3, answered_within_sl=2, service_level=2 / 3,
                 avg_wait=61 / 3, max_wait=31, avg_talk=10)
    # The queue's current setting is the threshold (the realtime queues row).
    r = cc.patch(f"{QUEUES}/{q['id']}", token=tenant.admin_token, json={"service_level": 31})
    assert r.status_code == 200, r.text
    assert get_stats(cc, tenant.admin_token, q["id"], **DAY)["answered_within_sl"] == 3


def test_an_empty_window_is_zeros(cc, tenant):
    q = make_queue(cc, tenant)
    assert get_stats(cc, tenant.admin_token, q["id"], **DAY) == ZEROS
    # Only short abandons and ignored verbs: nothing offered, rates 0 (no division).
    log = QueueLog(cc, q["asterisk_name"])
    log.abandoned(T0, wait=2)
    log.row(T0, "NONE", "Alice", "PAUSE", "")
    assert get_stats(cc, tenant.admin_token, q["id"], **DAY) == {**ZEROS,
                                                                 "short_abandoned": 1}
    # The default window (the last 24 hours) holds none of March's rows.
    assert get_stats(cc, tenant.admin_token, q["id"]) == ZEROS


# ---- the window ------------------------------------------------------------------------

def test_from_is_inclusive_and_to_exclusive(cc, tenant):
    q = make_queue(cc, tenant)
    log = QueueLog(cc, q["asterisk_name"])
    ten, eleven = T0 + timedelta(hours=1), T0 + timedelta(hours=2)
    log.answered(ten - timedelta(seconds=1), hold=1, end=None)   # its CONNECT at 10:00:00
    log.abandoned(eleven - timedelta(seconds=30), wait=30)       # its ABANDON at 11:00:00
    tok = tenant.admin_token
    b = get_stats(cc, tok, q["id"], **{"from": iso(ten), "to": iso(eleven)})
    assert (b["answered"], b["abandoned"]) == (1, 0), b
    b = get_stats(cc, tok, q["id"], **{"from": iso(ten + timedelta(seconds=1)),
                                        "to": iso(eleven + timedelta(seconds=1))})
    assert (b["answered"], b["abandoned"]) == (0, 1), b
    # Offsets are honoured: 11:00+01:00 is 10:00Z; a fraction is dropped.
    b = get_stats(cc, tok, q["id"], **{"from": "2026-03-10T11:00:00.999+01:00",
                                        "to": "2026-03-10T12:00:00+01:00"})
    assert (b["answered"], b["abandoned"]) == (1, 0), b


def test_the_default_window_is_the_last_24_hours(cc, tenant):
    q = make_queue(cc, tenant)
    log = QueueLog(cc, q["asterisk_name"])
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    log.answered(now - timedelta(hours=23), hold=4, talk=10)
    log.answered(now - timedelta(hours=25), hold=4, talk=10)      # before the window
    body = get_stats(cc, tenant.admin_token, q["id"])
    assert (body["answered"], body["avg_talk"]) == (1, 10), body
    # to alone: the 24 hours before it.
    body = get_stats(cc, tenant.admin_token, q["id"],
                     to=iso(now - timedelta(hours=24, seconds=-30)))
    assert body["answered"] == 1, body


def test_rows_before_the_queue_existed_are_not_its(cc, tenant):
    q = make_queue(cc, tenant)
    log = QueueLog(cc, q["asterisk_name"])
    born = datetime(2026, 1, 1)
    log.answered(born - timedelta(seconds=5), hold=4, end=None)   # CONNECT 23:59:59
    log.answered(born - timedelta(seconds=4), hold=4, end=None)   # CONNECT 00:00:00
    body = get_stats(cc, tenant.admin_token, q["id"], **{"from": "2025-12-01T00:00:00Z",
                                                          "to": "2026-02-01T00:00:00Z"})
    assert body["answered"] == 1, body


# ---- isolation ---------------------------------------------------------------------------

def test_other_queues_and_tenants_rows_are_not_counted(cc, tenant, tenant2):
    mine = make_queue(cc, tenant)
    sibling = make_queue(cc, tenant)
    theirs = make_queue(cc, tenant2)
    write_day(QueueLog(cc, mine["asterisk_name"]))
    write_day(QueueLog(cc, sibling["asterisk_name"]))
    write_day(QueueLog(cc, theirs["asterisk_name"]))
    # A name that extends ours, and one that differs only in case (Asterisk's queue
    # names and the column's collation ignore case: the same queue).
    QueueLog(cc, mine["asterisk_name"] + "x").answered(T0, hold=1, talk=1)
    QueueLog(cc, mine["asterisk_name"].upper()).answered(T0, hold=1, talk=300)
    body = get_stats(cc, tenant.admin_token, mine["id"], **DAY)
    assert_stats(body, **{**DAY_EXPECTED, "offered": 15, "answered": 8,
                          "answered_within_sl": 6, "abandon_rate": 3 / 15,
                          "service_level": 6 / 15, "avg_wait": 501 / 15, "avg_talk": 600 / 7})
    assert_stats(get_stats(cc, tenant2.admin_token, theirs["id"], **DAY), **DAY_EXPECTED)


def test_another_tenants_queue_is_404(cc, tenant, tenant2):
    check = openapi_checker(cc)
    theirs = make_queue(cc, tenant2)
    write_day(QueueLog(cc, theirs["asterisk_name"]))
    r = cc.get(stats_path(theirs["id"]), token=tenant.admin_token, params=DAY)
    check(r, "GET", f"{QUEUES}/{{id}}/stats", 404, "not_found")
    # Nor through X-Tenant-ID, which only a platform admin may use.
    r = cc.get(stats_path(theirs["id"]), token=tenant.admin_token, params=DAY,
               headers={"X-Tenant-ID": tenant2.id})
    assert_error(r, 404, "not_found")
    assert_error(cc.get(stats_path(2 ** 53), token=tenant.admin_token), 404, "not_found")
    assert_error(cc.get(f"{QUEUES}/abc/stats", token=tenant.admin_token), 404, "not_found")
    # The platform admin inside tenant2 sees them.
    r = cc.get(stats_path(theirs["id"]), token=cc.admin_token(), params=DAY,
               headers={"X-Tenant-ID": tenant2.id})
    assert r.status_code == 200 and r.json()["offered"] == 14, r.text


def test_an_earlier_queue_of_another_tenant_under_the_same_name_is_not_counted(cc, tenant):
    """Tenant slugs and queue names can slugify to the same Asterisk name ("<s>-x" +
    "sales" and "<s>" + "x sales"); the name is free again once its queue is deleted."""
    admin = cc.admin_token()
    r = cc.post("/api/v1/tenants", token=admin,
                json={"name": "Stats neighbour", "slug": tenant.slug + "-x"})
    assert r.status_code == 201, r.text
    other = {"X-Tenant-ID": r.json()["id"]}
    old = make_queue(cc, None, token=admin, headers=other, name="sales")
    log = QueueLog(cc, old["asterisk_name"])
    write_day(log)
    assert get_stats(cc, admin, old["id"], headers=other, **DAY)["offered"] == 14
    r = cc.delete(f"{QUEUES}/{old['id']}", token=admin, headers=other)
    assert r.status_code == 204, r.text
    r = cc.post(QUEUES, token=tenant.admin_token, json={"name": "x sales"})
    assert r.status_code == 201, r.text
    mine = r.json()
    assert mine["asterisk_name"] == old["asterisk_name"]
    created = db_rows(cc, "SELECT created_at FROM call_queues WHERE id = %s",
                      (mine["id"],))[0]["created_at"]
    window = {"from": "2026-01-01T00:00:00Z", "to": iso(created + timedelta(minutes=1))}
    assert get_stats(cc, tenant.admin_token, mine["id"], **window) == ZEROS
    # What Asterisk logs for the new queue counts (its CONNECT in the second it was made).
    log.answered(created - timedelta(seconds=1), hold=1, end=None)
    body = get_stats(cc, tenant.admin_token, mine["id"], **window)
    assert (body["offered"], body["answered"]) == (1, 1), body


# ---- refusals ----------------------------------------------------------------------------

def test_without_queues_read_is_403(cc, tenant):
    check = openapi_checker(cc)
    q = make_queue(cc, tenant)
    token = token_with_permissions(cc, tenant, "nostats", ["users.read"])
    check(cc.get(stats_path(q["id"]), token=token), "GET", f"{QUEUES}/{{id}}/stats", 403,
          "forbidden")
    viewer = tenant.make_user(roles=["viewer"])[1]        # viewers have queues.read
    assert get_stats(cc, viewer, q["id"]) == ZEROS


@pytest.mark.parametrize("params, fields", [
    ({"from": "2026-03-10"}, ["from"]),
    ({"to": "yesterday"}, ["to"]),
    ({"from": "2026-03-10T00:00:00"}, ["from"]),                   # no zone
    ({"from": "2026-02-30T00:00:00Z"}, ["from"]),
    ({"short_abandon": "-1"}, ["short_abandon"]),
    ({"short_abandon": "601"}, ["short_abandon"]),
    ({"short_abandon": "2.5"}, ["short_abandon"]),
    ({"short_abandon": ""}, ["short_abandon"]),
    ({"from": "x", "to": "y", "short_abandon": "z"}, ["from", "to", "short_abandon"]),
    ({"from": "2026-03-11T00:00:00Z", "to": "2026-03-10T00:00:00Z"}, ["from"]),
    ({"from": "2026-03-10T00:00:00Z", "to": "2026-03-10T00:00:00Z"}, ["from"]),
    ({"from": "2025-03-08T23:59:59Z", "to": "2026-03-10T00:00:00Z"}, ["from"]),  # 366 d + 1 s
    ({"from": "2099-01-01T00:00:00Z"}, ["from"]),                  # after the default to
])
def test_bad_parameters_are_400(cc, tenant, params, fields):
    check = openapi_checker(cc)
    q = make_queue(cc, tenant)
    r = cc.get(stats_path(q["id"]), token=tenant.admin_token, params=params)
    body = check(r, "GET", f"{QUEUES}/{{id}}/stats", 400, "invalid_request")
    assert detail_fields(body) == fields, body


def test_a_window_of_366_days_is_allowed(cc, tenant):
    q = make_queue(cc, tenant)
    write_day(QueueLog(cc, q["asterisk_name"]))
    body = get_stats(cc, tenant.admin_token, q["id"], **{"from": "2025-03-09T00:00:00Z",
                                                          "to": "2026-03-10T00:00:00Z"})
    assert body == ZEROS                                   # T0's day is after `to`
    body = get_stats(cc, tenant.admin_token, q["id"], **{"from": "2026-01-01T00:00:00Z",
                                                          "to": "2027-01-02T00:00:00Z"})
    assert body["offered"] == 14


def test_wrong_method_is_405(cc, tenant):
    q = make_queue(cc, tenant)
    assert_405(cc, tenant.admin_token, [("POST", stats_path(q["id"]), "GET", {}),
                                        ("DELETE", stats_path(q["id"]), "GET", {})])
