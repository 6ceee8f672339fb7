"""API.md "Helpdesk" SLA policies as built (notes/helpdesk-spec.md): CRUD /slas (one
policy per priority, minutes 1..525600, business calendars checked and returned in their
canonical form), the tickets' due times (24/7, business minutes on a calendar across both
DST changes, recomputed on a priority change), the resolution clock stopping while
pending or on_hold (the time spent added back), and the breach job (CCSlaInterval, 1 s in
the test profile): sla_breached and exactly one ticket.sla_breached event per ticket, with
two nodes running the job too.

Expected due times are computed here from the calendar with zoneinfo (cchelpdesk.py's
business_add, a reference of cc_sla_rules.h).  Tickets are made overdue, or given a known
created_at / paused_at, by writing those columns directly in the database.
"""

import secrets
import time
from datetime import datetime, timedelta, timezone

import pytest

from cchelpdesk import (ALL_DAY_EVERY_DAY, DAYS, SLAS, TICKETS, assert_sla_shape,
                        audit_count, business_add, business_between, fmt, get_ticket,
                        made, new_sla, new_ticket, patch_ticket, patch_ticket_ok,
                        post_message, sla_interval, tenant_events, ts, wait_until)
from cchelpers import assert_error, db_exec, db_rows, detail_fields, openapi_checker
from ccobjects import token_with_permissions

WEEKDAYS_CAL = {
    "timezone": "Europe/Berlin",
    "hours": [{"day": d, "from": "08:00", "to": "17:30"} for d in DAYS[:5]]
    + [{"day": "sat", "from": "10:00", "to": "14:00"},
       {"day": "sun", "from": "22:00", "to": "02:00"}],     # overnight into Monday
    "holidays": [],
}
# Every night 00:00-06:00 in Berlin: the spring-forward night has 5 such hours, the
# fall-back night 7.
NIGHTS_CAL = {"timezone": "Europe/Berlin",
              "hours": [{"day": d, "from": "00:00", "to": "06:00"} for d in DAYS],
              "holidays": []}


def sla_body(**over):
    body = {"name": f"SLA {secrets.token_hex(3)}", "priority": "normal",
            "first_response_minutes": 60, "resolution_minutes": 480}
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}


def post_sla(cc, tenant, token=None, **over):
    return cc.post(SLAS, token=token or tenant.admin_token, json=sla_body(**over))


def set_columns(cc, tid, **cols):
    """UPDATE tickets SET col = value ... for one ticket (values are SQL text)."""
    sets = ", ".join(f"{k} = {v}" for k, v in cols.items())
    db_exec(cc, f"UPDATE tickets SET {sets} WHERE id = %s", (tid,))


def ticket_row(cc, tid):
    (row,) = db_rows(cc, "SELECT * FROM tickets WHERE id = %s", (tid,))
    return row


def db_now():
    return datetime.now(timezone.utc).replace(microsecond=0)


# ---- policies ------------------------------------------------------------------------------

def test_crud_with_audit(cc, tenant):
    n0 = audit_count(cc, tenant)
    r = post_sla(cc, tenant, name="Normal", calendar=WEEKDAYS_CAL)
    s = made(r, "SLA policy")
    assert_sla_shape(s)
    assert r.headers["Location"] == f"{SLAS}/{s['id']}"
    assert s == {**s, "name": "Normal", "priority": "normal", "first_response_minutes": 60,
                 "resolution_minutes": 480}
    url = f"{SLAS}/{s['id']}"
    assert cc.get(url, token=tenant.admin_token).json() == s
    listed = cc.get(SLAS, token=tenant.admin_token).json()
    assert listed["data"] == [s]
    p = cc.patch(url, token=tenant.admin_token,
                 json={"name": "Renamed", "resolution_minutes": 525600, "calendar": None})
    assert p.status_code == 200, p.text
    assert p.json() == {**s, "name": "Renamed", "resolution_minutes": 525600,
                        "calendar": None, "updated_at": p.json()["updated_at"]}
    assert cc.get(url, token=tenant.admin_token).json() == p.json()
    # Deleting a policy leaves its tickets without one.
    t = new_ticket(cc, tenant)
    assert t["sla_id"] == s["id"]
    assert cc.delete(url, token=tenant.admin_token).status_code == 204
    assert_error(cc.get(url, token=tenant.admin_token), 404, "not_found")
    assert_error(cc.delete(url, token=tenant.admin_token), 404, "not_found")
    assert_error(cc.patch(url, token=tenant.admin_token, json={"name": "x"}), 404,
                 "not_found")
    assert get_ticket(cc, tenant, t["id"])["sla_id"] is None
    assert cc.get(SLAS, token=tenant.admin_token).json()["data"] == []
    # create, update, delete (the ticket's create is one more).
    assert audit_count(cc, tenant) - n0 == 4


def test_one_policy_per_priority(cc, tenant, tenant2):
    new_sla(cc, tenant, priority="high")
    low = new_sla(cc, tenant, priority="low")
    assert_error(post_sla(cc, tenant, priority="high"), 409, "conflict", "priority")
    r = cc.patch(f"{SLAS}/{low['id']}", token=tenant.admin_token, json={"priority": "high"})
    assert_error(r, 409, "conflict", "priority")
    assert cc.get(f"{SLAS}/{low['id']}", token=tenant.admin_token).json() == low
    # Another tenant has its own.
    assert new_sla(cc, tenant2, priority="high")
    # Moving a policy to a free priority is fine.
    r = cc.patch(f"{SLAS}/{low['id']}", token=tenant.admin_token, json={"priority": "urgent"})
    assert r.status_code == 200 and r.json()["priority"] == "urgent"
    assert made(post_sla(cc, tenant, priority="low"))


def test_minutes_bounds(cc, tenant):
    s = made(post_sla(cc, tenant, first_response_minutes=1, resolution_minutes=525600))
    assert (s["first_response_minutes"], s["resolution_minutes"]) == (1, 525600)


@pytest.mark.parametrize("over,field", [
    ({"name": None}, "name"), ({"name": ""}, "name"), ({"name": "n" * 101}, "name"),
    ({"name": 3}, "name"),
    ({"priority": None}, "priority"), ({"priority": "p1"}, "priority"),
    ({"priority": "NORMAL"}, "priority"),
    ({"first_response_minutes": None}, "first_response_minutes"),
    ({"first_response_minutes": 0}, "first_response_minutes"),
    ({"first_response_minutes": 525601}, "first_response_minutes"),
    ({"first_response_minutes": -5}, "first_response_minutes"),
    ({"first_response_minutes": "60"}, "first_response_minutes"),
    ({"first_response_minutes": 1.5}, "first_response_minutes"),
    ({"resolution_minutes": None}, "resolution_minutes"),
    ({"resolution_minutes": 0}, "resolution_minutes"),
    ({"resolution_minutes": 525601}, "resolution_minutes"),
    ({"resolution_minutes": True}, "resolution_minutes"),
    ({"calendar": "24/7"}, "calendar"), ({"calendar": []}, "calendar"),
    ({"bogus": 1}, "bogus"), ({"id": 1}, "id"),
])
def test_bad_bodies_name_their_field(cc, tenant, over, field):
    assert_error(post_sla(cc, tenant, **over), 400, "invalid_request", field)
    assert cc.get(SLAS, token=tenant.admin_token).json()["data"] == []


def cal(**over):
    c = {"timezone": "Europe/Berlin",
         "hours": [{"day": "mon", "from": "08:00", "to": "17:00"}], "holidays": []}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def hours(*periods):
    return [{"day": d, "from": f, "to": t} for d, f, t in periods]


# (calendar, the detail field: exact, or a prefix ending in "." or "[")
BAD_CALENDARS = [
    (cal(timezone="Mars/Olympus"), "calendar.timezone"),
    (cal(timezone="Europe/Nowhere"), "calendar.timezone"),
    (cal(timezone="../../etc/passwd"), "calendar.timezone"),
    (cal(timezone=""), "calendar.timezone"),
    (cal(timezone=5), "calendar.timezone"),
    (cal(timezone=None), "calendar.timezone"),
    (cal(hours=None), "calendar.hours"),
    (cal(hours=[]), "calendar.hours"),
    (cal(hours="mon-fri"), "calendar.hours"),
    (cal(hours=hours(("monday", "08:00", "17:00"))), "calendar.hours["),
    (cal(hours=hours(("Mon", "08:00", "17:00"))), "calendar.hours["),
    (cal(hours=hours(("mon", "8:00", "17:00"))), "calendar.hours[0].from"),
    (cal(hours=hours(("mon", "08:60", "17:00"))), "calendar.hours[0].from"),
    (cal(hours=hours(("mon", "24:00", "17:00"))), "calendar.hours[0].from"),
    (cal(hours=hours(("mon", "08:00", "25:00"))), "calendar.hours[0].to"),
    (cal(hours=hours(("mon", "08:00", "24:01"))), "calendar.hours[0].to"),
    (cal(hours=hours(("mon", "08:00", "00:00"))), "calendar.hours[0].to"),
    (cal(hours=hours(("mon", "08:00", "5pm"))), "calendar.hours[0].to"),
    (cal(hours=hours(("mon", "09:00", "17:00"), ("tue", "09:00", "09:00"))),
     "calendar.hours["),
    (cal(hours=[{"day": "mon", "from": "08:00"}]), "calendar.hours["),
    (cal(hours=[{"day": "mon", "from": "08:00", "to": "09:00", "x": 1}]),
     "calendar.hours["),
    (cal(hours=hours(("mon", "08:00", "12:00"), ("mon", "11:00", "17:00"))),
     "calendar.hours"),
    (cal(hours=hours(("mon", "08:00", "17:00"), ("mon", "08:00", "17:00"))),
     "calendar.hours"),
    # An overnight period running into the next day's first one.
    (cal(hours=hours(("mon", "22:00", "06:00"), ("tue", "05:00", "12:00"))),
     "calendar.hours"),
    (cal(hours=hours(("sun", "20:00", "03:00"), ("mon", "02:00", "04:00"))),
     "calendar.hours"),
    (cal(holidays=["2026-02-30"]), "calendar.holidays[0]"),
    (cal(holidays=["2026-12-25", "25.12.2026"]), "calendar.holidays[1]"),
    (cal(holidays="2026-12-25"), "calendar.holidays"),
    (cal(holidays=[20261225]), "calendar.holidays[0]"),
    ({**cal(), "weekends": True}, "calendar."),
]


@pytest.mark.parametrize("calendar,field", BAD_CALENDARS,
                         ids=[str(i) for i in range(len(BAD_CALENDARS))])
def test_bad_calendars_name_their_field(cc, tenant, calendar, field):
    body = assert_error(post_sla(cc, tenant, calendar=calendar), 400, "invalid_request")
    fields = detail_fields(body)
    if field.endswith(("[", ".")):
        assert any(f.startswith(field) for f in fields), body
    elif field == "calendar.hours":
        assert any(f == field or f.startswith(field + "[") for f in fields), body
    else:
        assert field in fields, body
    assert cc.get(SLAS, token=tenant.admin_token).json()["data"] == []


def test_a_bad_calendar_in_a_patch_changes_nothing(cc, tenant):
    s = new_sla(cc, tenant, calendar=WEEKDAYS_CAL)
    r = cc.patch(f"{SLAS}/{s['id']}", token=tenant.admin_token,
                 json={"calendar": cal(timezone="Atlantis/Capital")})
    assert_error(r, 400, "invalid_request", "calendar.timezone")
    for body, field in [({"first_response_minutes": 0}, "first_response_minutes"),
                        ({"name": ""}, "name"), ({"priority": "x"}, "priority")]:
        assert_error(cc.patch(f"{SLAS}/{s['id']}", token=tenant.admin_token, json=body),
                     400, "invalid_request", field)
    assert cc.get(f"{SLAS}/{s['id']}", token=tenant.admin_token).json() == s


def test_the_calendar_is_returned_in_canonical_form(cc, tenant):
    given = {"holidays": ["2026-12-26", "2026-01-01", "2026-12-25", "2026-01-01"],
             "hours": hours(("sun", "22:00", "02:00"), ("fri", "13:00", "24:00"),
                            ("mon", "13:00", "17:30"), ("mon", "08:00", "12:00"),
                            ("wed", "00:00", "24:00")),
             "timezone": "America/New_York"}
    s = new_sla(cc, tenant, calendar=given)
    want = {"timezone": "America/New_York",
            "hours": hours(("mon", "08:00", "12:00"), ("mon", "13:00", "17:30"),
                           ("wed", "00:00", "24:00"), ("fri", "13:00", "24:00"),
                           ("sun", "22:00", "02:00")),
            "holidays": ["2026-01-01", "2026-12-25", "2026-12-26"]}
    assert s["calendar"] == want
    assert cc.get(f"{SLAS}/{s['id']}", token=tenant.admin_token).json()["calendar"] == want
    # Without holidays: an empty list.
    t = new_sla(cc, tenant, priority="high",
                calendar={"timezone": "UTC", "hours": hours(("tue", "09:00", "10:00"))})
    assert t["calendar"] == {"timezone": "UTC", "hours": hours(("tue", "09:00", "10:00")),
                             "holidays": []}
    # Every day all day is a calendar too.
    u = new_sla(cc, tenant, priority="low",
                calendar={"timezone": "UTC", "hours": ALL_DAY_EVERY_DAY[::-1]})
    assert u["calendar"]["hours"] == ALL_DAY_EVERY_DAY


def test_permissions_and_tenants(cc, tenant, tenant2):
    s = new_sla(cc, tenant)
    _, atok = tenant.make_user(roles=["agent"])
    _, vtok = tenant.make_user(roles=["viewer"])
    _, stok = tenant.make_user(roles=["supervisor"])
    url = f"{SLAS}/{s['id']}"
    for tok in (atok, vtok):
        assert cc.get(SLAS, token=tok).json()["data"] == [s]
        assert cc.get(url, token=tok).json() == s
        assert_error(post_sla(cc, tenant, token=tok, priority="low"), 403, "forbidden")
        assert_error(cc.patch(url, token=tok, json={"name": "x"}), 403, "forbidden")
        assert_error(cc.delete(url, token=tok), 403, "forbidden")
    none = token_with_permissions(cc, tenant, "nosla", ["contacts.read"])
    assert_error(cc.get(SLAS, token=none), 403, "forbidden")
    assert_error(cc.get(url, token=none), 403, "forbidden")
    assert made(post_sla(cc, tenant, token=stok, priority="low"))
    tok2 = tenant2.admin_token
    for r in (cc.get(url, token=tok2), cc.patch(url, token=tok2, json={"name": "mine"}),
              cc.delete(url, token=tok2),
              cc.get(url, token=tok2, headers={"X-Tenant-ID": tenant.id})):
        assert_error(r, 404, "not_found")
    assert cc.get(SLAS, token=tok2).json()["data"] == []
    assert cc.get(url, token=tenant.admin_token).json() == s
    # tenant2's tickets do not use tenant's policies.
    assert new_ticket(cc, tenant2)["sla_id"] is None


# ---- due times ------------------------------------------------------------------------------

def dues(t):
    return ts(t["first_response_due_at"]), ts(t["resolution_due_at"])


def test_no_policy_no_due_times(cc, tenant):
    new_sla(cc, tenant, priority="urgent")
    t = new_ticket(cc, tenant, priority="normal")
    assert (t["sla_id"], t["first_response_due_at"], t["resolution_due_at"]) == \
        (None, None, None)


def test_due_times_around_the_clock(cc, tenant):
    normal = new_sla(cc, tenant, priority="normal", first=60, resolution=480)
    urgent = new_sla(cc, tenant, priority="urgent", first=5, resolution=525600)
    t = new_ticket(cc, tenant)
    created = ts(t["created_at"])
    assert t["sla_id"] == normal["id"]
    assert dues(t) == (created + timedelta(minutes=60), created + timedelta(minutes=480))
    u = new_ticket(cc, tenant, priority="urgent")
    created = ts(u["created_at"])
    assert u["sla_id"] == urgent["id"]
    assert dues(u) == (created + timedelta(minutes=5), created + timedelta(days=365))
    assert get_ticket(cc, tenant, u["id"])["resolution_due_at"] == u["resolution_due_at"]


def test_due_times_in_business_minutes(cc, tenant):
    calendar = {**WEEKDAYS_CAL, "holidays": [
        (db_now() + timedelta(days=d)).strftime("%Y-%m-%d") for d in (1, 3)]}
    s = new_sla(cc, tenant, priority="high", first=90, resolution=1500, calendar=calendar)
    t = new_ticket(cc, tenant, priority="high")
    created = ts(t["created_at"])
    assert t["sla_id"] == s["id"]
    assert dues(t) == (business_add(s["calendar"], created, 90 * 60),
                       business_add(s["calendar"], created, 1500 * 60))


@pytest.mark.parametrize("created,fr,res", [
    # Spring forward (29 March 2026): Sunday's night has 5 hours.
    ("2026-03-28 03:00:00", "2026-03-28T04:00:00Z", "2026-03-30T01:00:00Z"),
    # Fall back (25 October 2026): Sunday's night has 7 hours.
    ("2026-10-24 22:00:00", "2026-10-24T23:00:00Z", "2026-10-26T02:00:00Z"),
    # Outside the periods (Tuesday 13:00 CET): the clock starts at the next one.
    ("2026-11-24 12:00:00", "2026-11-25T00:00:00Z", "2026-11-26T03:00:00Z"),
])
def test_due_times_across_dst_are_recomputed_on_a_priority_change(cc, tenant, created, fr,
                                                                 res):
    """created_at is set in the database, then a priority change recomputes both due times
    from it: 60 and 600 business minutes on NIGHTS_CAL."""
    high = new_sla(cc, tenant, priority="high", first=60, resolution=600,
                   calendar=NIGHTS_CAL)
    t = new_ticket(cc, tenant, priority="low")
    set_columns(cc, t["id"], created_at=f"'{created}'")
    p = patch_ticket_ok(cc, tenant, t["id"], {"priority": "high"})
    start = datetime.strptime(created, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    # The reference agrees with the hand-computed values.
    assert fmt(business_add(NIGHTS_CAL, start, 3600)) == fr
    assert fmt(business_add(NIGHTS_CAL, start, 36000)) == res
    assert p["sla_id"] == high["id"]
    assert (p["first_response_due_at"], p["resolution_due_at"]) == (fr, res)


def test_a_priority_change_recomputes_the_policy_and_due_times(cc, tenant):
    normal = new_sla(cc, tenant, priority="normal", first=60, resolution=480)
    high = new_sla(cc, tenant, priority="high", first=15, resolution=120,
                   calendar=WEEKDAYS_CAL)
    t = new_ticket(cc, tenant)
    created = ts(t["created_at"])
    p = patch_ticket_ok(cc, tenant, t["id"], {"priority": "high"})
    assert p["sla_id"] == high["id"]
    assert dues(p) == (business_add(high["calendar"], created, 15 * 60),
                       business_add(high["calendar"], created, 120 * 60))
    p = patch_ticket_ok(cc, tenant, t["id"], {"priority": "low"})       # no policy
    assert (p["sla_id"], p["first_response_due_at"], p["resolution_due_at"]) == \
        (None, None, None)
    p = patch_ticket_ok(cc, tenant, t["id"], {"priority": "normal", "subject": "back"})
    assert p["sla_id"] == normal["id"]
    assert dues(p) == (created + timedelta(minutes=60), created + timedelta(minutes=480))
    # Another change keeps them.
    q = patch_ticket_ok(cc, tenant, t["id"], {"subject": "again", "channel": "email"})
    assert dues(q) == dues(p) and q["sla_id"] == normal["id"]


def test_pending_and_on_hold_stop_the_resolution_clock(cc, tenant):
    new_sla(cc, tenant, priority="normal", first=60, resolution=600)
    new_sla(cc, tenant, priority="high", first=30, resolution=300)
    t = new_ticket(cc, tenant)
    created = ts(t["created_at"])
    fr0, res0 = dues(t)
    p = patch_ticket_ok(cc, tenant, t["id"], {"status": "pending"})
    assert dues(p) == (fr0, res0)
    assert ticket_row(cc, t["id"])["paused_at"] is not None
    # An hour in pending, then on_hold (still paused), then open.
    set_columns(cc, t["id"], paused_at="paused_at - INTERVAL 3600 SECOND")
    patch_ticket_ok(cc, tenant, t["id"], {"status": "on_hold"})
    o = patch_ticket_ok(cc, tenant, t["id"], {"status": "open"})
    row = ticket_row(cc, t["id"])
    paused = row["paused_secs"]
    assert 3600 <= paused <= 3610, paused
    assert row["paused_at"] is None
    assert dues(o) == (fr0, res0 + timedelta(seconds=paused))
    # A priority change: the resolution due from created_at plus the paused time.
    h = patch_ticket_ok(cc, tenant, t["id"], {"priority": "high"})
    assert dues(h) == (created + timedelta(minutes=30),
                       created + timedelta(minutes=300, seconds=paused))
    # A real pause of about two seconds adds them.
    patch_ticket_ok(cc, tenant, t["id"], {"status": "pending"})
    time.sleep(2.2)
    o2 = patch_ticket_ok(cc, tenant, t["id"], {"status": "new"})
    added = ticket_row(cc, t["id"])["paused_secs"] - paused
    assert 2 <= added <= 4, added
    assert dues(o2) == (dues(h)[0], dues(h)[1] + timedelta(seconds=added))


def test_editing_a_policy_leaves_existing_tickets_due_times(cc, tenant):
    """Due times are set on create and on a priority change: a policy edited later does
    not move an existing ticket's, not even when it comes back from a pause (its
    resolution due time moves by the time spent there, API.md)."""
    s = new_sla(cc, tenant, priority="normal", first=60, resolution=600)
    t = new_ticket(cc, tenant)
    fr0, res0 = dues(t)
    r = cc.patch(f"{SLAS}/{s['id']}", token=tenant.admin_token,
                 json={"first_response_minutes": 5, "resolution_minutes": 1200})
    assert r.status_code == 200, r.text
    assert dues(get_ticket(cc, tenant, t["id"])) == (fr0, res0)
    assert dues(patch_ticket_ok(cc, tenant, t["id"], {"subject": "edited"})) == (fr0, res0)
    patch_ticket_ok(cc, tenant, t["id"], {"status": "pending"})
    set_columns(cc, t["id"], paused_at="paused_at - INTERVAL 600 SECOND")
    o = patch_ticket_ok(cc, tenant, t["id"], {"status": "open"})
    paused = ticket_row(cc, t["id"])["paused_secs"]
    assert 600 <= paused <= 610, paused
    assert dues(o) == (fr0, res0 + timedelta(seconds=paused))


def test_a_priority_change_while_paused_counts_the_pause_once(cc, tenant):
    new_sla(cc, tenant, priority="normal", first=60, resolution=600)
    new_sla(cc, tenant, priority="high", first=30, resolution=300)
    t = new_ticket(cc, tenant)
    created = ts(t["created_at"])
    patch_ticket_ok(cc, tenant, t["id"], {"status": "pending"})
    set_columns(cc, t["id"], paused_at="paused_at - INTERVAL 3600 SECOND")
    h = patch_ticket_ok(cc, tenant, t["id"], {"priority": "high"})
    assert dues(h)[0] == created + timedelta(minutes=30)
    o = patch_ticket_ok(cc, tenant, t["id"], {"status": "open"})
    paused = ticket_row(cc, t["id"])["paused_secs"]
    assert 3600 <= paused <= 3610, paused
    assert dues(o) == (created + timedelta(minutes=30),
                       created + timedelta(minutes=300, seconds=paused))


def test_a_policy_deleted_while_a_ticket_is_paused(cc, tenant):
    """The ticket keeps its due times (set on create); coming back from the pause moves
    the resolution due time by the time spent, 24/7 now that there is no calendar."""
    s = new_sla(cc, tenant, priority="normal", first=60, resolution=600)
    t = new_ticket(cc, tenant)
    fr0, res0 = dues(t)
    patch_ticket_ok(cc, tenant, t["id"], {"status": "on_hold"})
    assert cc.delete(f"{SLAS}/{s['id']}", token=tenant.admin_token).status_code == 204
    set_columns(cc, t["id"], paused_at="paused_at - INTERVAL 600 SECOND")
    r = patch_ticket(cc, tenant, t["id"], {"status": "open"})
    assert r.status_code == 200, r.text
    o = r.json()
    paused = ticket_row(cc, t["id"])["paused_secs"]
    assert o["sla_id"] is None
    assert dues(o) == (fr0, res0 + timedelta(seconds=paused))


def test_paused_time_counts_in_business_time(cc, tenant):
    s = new_sla(cc, tenant, priority="normal", first=60, resolution=2400,
                calendar=WEEKDAYS_CAL)
    t = new_ticket(cc, tenant)
    created = ts(t["created_at"])
    patch_ticket_ok(cc, tenant, t["id"], {"status": "on_hold"})
    since = db_now() - timedelta(days=3, hours=5)
    set_columns(cc, t["id"], paused_at=f"'{since:%Y-%m-%d %H:%M:%S}'")
    lo = db_now()
    o = patch_ticket_ok(cc, tenant, t["id"], {"status": "open"})
    hi = db_now() + timedelta(seconds=1)
    paused = ticket_row(cc, t["id"])["paused_secs"]
    assert business_between(s["calendar"], since, lo) <= paused <= \
        business_between(s["calendar"], since, hi), paused
    assert paused < 3 * 86400                           # business time, not wall time
    assert dues(o)[1] == business_add(s["calendar"], created, 2400 * 60 + paused)


# ---- the breach job ------------------------------------------------------------------------

def breach_events(cc, tenant):
    return tenant_events(cc, tenant, {"ticket.sla_breached"})


def test_the_breach_job_marks_and_announces_once(cc, tenant):
    interval = sla_interval(cc)
    assert interval <= 5, "the test profile runs the breach job every second"
    new_sla(cc, tenant, priority="normal", first=60, resolution=600)
    first = new_ticket(cc, tenant, subject="no answer yet")
    resol = new_ticket(cc, tenant, subject="answered, not solved")
    made(post_message(cc, tenant, resol["id"], "we are on it"), "message")
    paused = new_ticket(cc, tenant, subject="pending", status="pending")
    made(post_message(cc, tenant, paused["id"], "waiting for you"), "message")
    solved = new_ticket(cc, tenant, subject="solved", status="solved")
    answered = new_ticket(cc, tenant, subject="answered in time")
    made(post_message(cc, tenant, answered["id"], "done"), "message")
    nopolicy = new_ticket(cc, tenant, priority="low")
    past = "UTC_TIMESTAMP() - INTERVAL 1 MINUTE"
    set_columns(cc, first["id"], first_response_due_at=past)
    set_columns(cc, resol["id"], resolution_due_at=past)
    set_columns(cc, paused["id"], resolution_due_at=past)
    set_columns(cc, solved["id"], first_response_due_at=past, resolution_due_at=past)
    set_columns(cc, answered["id"], first_response_due_at=past)

    def breached():
        evs = breach_events(cc, tenant)
        return evs if len(evs) >= 2 else None

    evs = wait_until(breached, timeout=3 * interval + 10)
    assert evs, "no breach within the job's interval"
    time.sleep(2.5 * interval)                 # more runs of the job: nothing more
    evs = breach_events(cc, tenant)
    assert sorted((e["entity_id"], e["data"]["breach"]) for e in evs) == sorted(
        [(str(first["id"]), "first_response"), (str(resol["id"]), "resolution")])
    for e in evs:
        assert e["entity_type"] == "ticket"
        assert e["data"]["sla_breached"] is True and e["data"]["id"] == int(e["entity_id"])
    breach_audits = db_rows(cc, "SELECT entity_id, actor_id FROM audit_logs WHERE tenant_id"
                                " = %s AND action LIKE 'ticket.sla_breach%%'", (tenant.id,))
    assert sorted(a["entity_id"] for a in breach_audits) == sorted(
        [str(first["id"]), str(resol["id"])])
    assert all(a["actor_id"] is None for a in breach_audits)
    for t, want in ((first, True), (resol, True), (paused, False), (solved, False),
                    (answered, False), (nopolicy, False)):
        assert get_ticket(cc, tenant, t["id"])["sla_breached"] is want, t["subject"]
    listed = cc.get(TICKETS + "?sla_breached=true&sort=number",
                    token=tenant.admin_token).json()["data"]
    assert [x["id"] for x in listed] == [first["id"], resol["id"]]
    # Overdue again in the other clock: still one event.
    set_columns(cc, first["id"], resolution_due_at=past)
    # The paused ticket reopened after two hours in pending is due later, not breached.
    set_columns(cc, paused["id"], paused_at="UTC_TIMESTAMP() - INTERVAL 2 HOUR")
    o = patch_ticket_ok(cc, tenant, paused["id"], {"status": "open"})
    assert ts(o["resolution_due_at"]) > db_now() + timedelta(minutes=80)
    time.sleep(2.5 * interval)
    assert len(breach_events(cc, tenant)) == 2
    assert get_ticket(cc, tenant, paused["id"])["sla_breached"] is False


def test_a_breach_is_announced_once_with_two_nodes(cc, tenant):
    """Both nodes run the job every second: two rounds of 40 tickets made overdue at once,
    each breach marked and announced once."""
    interval = sla_interval(cc)
    new_sla(cc, tenant, priority="normal", first=60, resolution=600)
    second = cc.start_second_httpd(extra_conf="CCSlaInterval 1")
    try:
        ids = []
        for _ in range(2):
            batch = [new_ticket(cc, tenant)["id"] for _ in range(40)]
            ids += batch
            marks = ", ".join(["%s"] * len(batch))
            db_exec(cc, "UPDATE tickets SET first_response_due_at = UTC_TIMESTAMP()"
                        " - INTERVAL 1 MINUTE, resolution_due_at = UTC_TIMESTAMP()"
                        f" - INTERVAL 1 MINUTE WHERE id IN ({marks})", tuple(batch))
            done = wait_until(lambda: len(breach_events(cc, tenant)) >= len(ids),
                              timeout=3 * interval + 15)
            assert done, f"{len(breach_events(cc, tenant))} of {len(ids)} breaches announced"
        time.sleep(2.5 * max(interval, 1))
        evs = breach_events(cc, tenant)
        assert sorted(int(e["entity_id"]) for e in evs) == sorted(ids)
        assert all(e["data"]["breach"] == "first_response" for e in evs)
        marks = ", ".join(["%s"] * len(ids))
        rows = db_rows(cc, f"SELECT sla_breached FROM tickets WHERE id IN ({marks})",
                       tuple(ids))
        assert len(rows) == len(ids) and all(r["sla_breached"] == 1 for r in rows)
        audits = db_rows(cc, "SELECT entity_id FROM audit_logs WHERE tenant_id = %s"
                             " AND action LIKE 'ticket.sla_breach%%'", (tenant.id,))
        assert sorted(int(a["entity_id"]) for a in audits) == sorted(ids)
        assert second.proc.poll() is None
        text = second.error_log_text()
        assert "AH00632" not in text and "AH00052" not in text, text[-2000:]
    finally:
        second.stop()

def test_answers_match_the_openapi_document(cc, tenant):
    check = openapi_checker(cc)
    tok, one = tenant.admin_token, SLAS + "/{id}"
    s = check(post_sla(cc, tenant, calendar=WEEKDAYS_CAL), "POST", SLAS, 201)
    check(post_sla(cc, tenant), "POST", SLAS, 409, "conflict")
    check(post_sla(cc, tenant, priority="low", calendar=cal(timezone="Mars/Olympus")),
          "POST", SLAS, 400, "invalid_request")
    check(cc.get(SLAS, token=tok), "GET", SLAS, 200)
    check(cc.get(SLAS), "GET", SLAS, 401, "unauthorized")
    check(cc.get(f"{SLAS}/{s['id']}", token=tok), "GET", one, 200)
    check(cc.get(f"{SLAS}/999999999", token=tok), "GET", one, 404, "not_found")
    check(cc.patch(f"{SLAS}/{s['id']}", token=tok, json={"calendar": None}), "PATCH", one,
          200)
    check(cc.delete(f"{SLAS}/{s['id']}", token=tok), "DELETE", one, 204)
