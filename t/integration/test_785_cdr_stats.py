"""API.md "CDR": GET /api/v1/cdrs/stats (totals and groups, tz= buckets).

Rows are written as cdr_adaptive_odbc writes them (cchelpers.insert_cdr: UTC times).
A call is a row of the tenant (tenantid, else accountcode) whose start is in
[from, to); answered = disposition ANSWERED; avg_billsec and avg_wait over the answered
calls.  Groups: null first; hour/day in time order, agent ids by number, other keys by
bytes.  tz= buckets hours and days in the zone (offsets computed from its TZif file):
the DST cases of Europe/Berlin and America/New_York and the half-hour offset of
Asia/Kolkata are checked hour by hour.
"""

from datetime import datetime, timedelta

import pytest

from cchelpers import assert_405, db_exec, detail_fields, insert_cdr, openapi_checker
from ccobjects import token_with_permissions

STATS = "/api/v1/cdrs/stats"
DAY = {"from": "2026-11-24T00:00:00Z", "to": "2026-11-25T00:00:00Z"}


def fig(calls, answered, rate, billsec, avg_billsec, avg_wait):
    return {"calls": calls, "answered": answered, "missed": calls - answered,
            "answer_rate": rate, "total_billsec": billsec, "avg_billsec": avg_billsec,
            "avg_wait": avg_wait}


def grp(key, *figures):
    return {"key": key, **fig(*figures)}


ZERO = fig(0, 0, 0, 0, 0, 0)


def stats(cc, token, **params):
    check = openapi_checker(cc)
    r = cc.get(STATS, token=token, params=params)
    return check(r, "GET", STATS, 200)


def t(s):
    return datetime.fromisoformat(s)


def call(cc, tenant_id, start, disposition="ANSWERED", billsec=0, duration=0, **extra):
    return insert_cdr(cc, tenantid=tenant_id, start=t(start), disposition=disposition,
                      billsec=billsec, duration=duration, **extra)


def day_of_calls(cc, tid):
    """Six calls of 2026-11-24 (UTC) with every kind of key, and rows around them that
    are not in DAY."""
    call(cc, tid, "2026-11-24 06:10:00", billsec=30, duration=40, queue="support",
         agent_id=7, did="+4930555000")
    call(cc, tid, "2026-11-24 06:50:00", billsec=60, duration=65, queue="support",
         agent_id=12, did="+4930555000")
    call(cc, tid, "2026-11-24 06:59:59", "NO ANSWER", 0, 20, queue="support",
         did="+4930555000")
    call(cc, tid, "2026-11-24 07:00:00", "BUSY", 0, 5, queue="sales")
    call(cc, tid, "2026-11-24 09:30:00", billsec=10, duration=25, agent_id=7, did="")
    call(cc, tid, "2026-11-24 23:59:59", "FAILED", queue="", did="+4930555001")
    # Not in [from, to): to is exclusive; the second before from; no start at all.
    call(cc, tid, "2026-11-25 00:00:00", billsec=99, duration=99)
    call(cc, tid, "2026-11-23 23:59:59", billsec=99, duration=99)
    db_exec(cc, "INSERT INTO cdr (tenantid, disposition, billsec, duration)"
                " VALUES (%s, 'ANSWERED', 5, 5)", (tid,))


TOTALS = fig(6, 3, 0.5, 100, 33.333333, 10)


@pytest.mark.parametrize("group_by, groups", [
    ("hour", [grp("2026-11-24T06:00:00Z", 3, 2, 0.666667, 90, 45, 7.5),
              grp("2026-11-24T07:00:00Z", 1, 0, 0, 0, 0, 0),
              grp("2026-11-24T09:00:00Z", 1, 1, 1, 10, 10, 15),
              grp("2026-11-24T23:00:00Z", 1, 0, 0, 0, 0, 0)]),
    ("day", [grp("2026-11-24", 6, 3, 0.5, 100, 33.333333, 10)]),
    ("queue", [grp(None, 2, 1, 0.5, 10, 10, 15),                 # NULL and '' alike
               grp("sales", 1, 0, 0, 0, 0, 0),
               grp("support", 3, 2, 0.666667, 90, 45, 7.5)]),
    ("agent", [grp(None, 3, 0, 0, 0, 0, 0),
               grp("7", 2, 2, 1, 40, 20, 12.5),
               grp("12", 1, 1, 1, 60, 60, 5)]),                  # by number, not "12" < "7"
    ("did", [grp(None, 2, 1, 0.5, 10, 10, 15),
             grp("+4930555000", 3, 2, 0.666667, 90, 45, 7.5),
             grp("+4930555001", 1, 0, 0, 0, 0, 0)]),
    ("disposition", [grp("ANSWERED", 3, 3, 1, 100, 33.333333, 10),
                     grp("BUSY", 1, 0, 0, 0, 0, 0),
                     grp("FAILED", 1, 0, 0, 0, 0, 0),
                     grp("NO ANSWER", 1, 0, 0, 0, 0, 0)]),
])
def test_every_group_by_counts_as_defined(cc, tenant, group_by, groups):
    day_of_calls(cc, tenant.id)
    body = stats(cc, tenant.admin_token, group_by=group_by, **DAY)
    assert body == {"totals": TOTALS, "groups": groups}


def test_a_row_without_a_disposition_is_the_null_group(cc, tenant):
    call(cc, tenant.id, "2026-11-24 10:00:00", "", 0, 3)
    call(cc, tenant.id, "2026-11-24 10:00:00", billsec=4, duration=6)
    body = stats(cc, tenant.admin_token, group_by="disposition", **DAY)
    assert body["groups"] == [grp(None, 1, 0, 0, 0, 0, 0),
                              grp("ANSWERED", 1, 1, 1, 4, 4, 2)]


@pytest.mark.parametrize("group_by", ["hour", "day", "queue", "agent", "did",
                                      "disposition"])
def test_an_empty_window_is_zeros(cc, tenant, group_by):
    day_of_calls(cc, tenant.id)
    body = stats(cc, tenant.admin_token, group_by=group_by, tz="Europe/Berlin",
                 **{"from": "2026-12-01T00:00:00Z", "to": "2026-12-02T00:00:00Z"})
    assert body == {"totals": ZERO, "groups": []}


def test_another_tenants_rows_are_never_counted(cc, tenant, tenant2):
    at = "2026-11-24 08:00:00"
    insert_cdr(cc, tenantid=tenant.id, start=t(at), billsec=10, duration=10)
    insert_cdr(cc, accountcode=tenant.id, start=t(at), billsec=20, duration=20)
    insert_cdr(cc, tenantid="", accountcode=tenant.id, start=t(at), billsec=30,
               duration=30)
    # tenantid decides over accountcode; rows of nobody are nobody's.
    insert_cdr(cc, tenantid=tenant2.id, accountcode=tenant.id, start=t(at), billsec=100,
               duration=100)
    insert_cdr(cc, tenantid=tenant2.id, start=t(at), billsec=200, duration=200)
    insert_cdr(cc, start=t(at), billsec=400, duration=400)
    mine = stats(cc, tenant.admin_token, group_by="day", **DAY)
    assert mine["totals"] == fig(3, 3, 1, 60, 20, 0)
    theirs = stats(cc, tenant2.admin_token, group_by="hour", **DAY)
    assert theirs["totals"] == fig(2, 2, 1, 300, 150, 0)
    assert [g["key"] for g in theirs["groups"]] == ["2026-11-24T08:00:00Z"]
    # A platform admin reads the tenant's through X-Tenant-ID.
    r = cc.get(STATS, token=cc.admin_token(), headers={"X-Tenant-ID": tenant.id},
               params={"group_by": "queue", **DAY})
    assert r.status_code == 200 and r.json()["totals"] == mine["totals"]


def test_the_default_window_is_the_last_24_hours(cc, tenant):
    now = datetime.utcnow().replace(microsecond=0)
    insert_cdr(cc, tenantid=tenant.id, start=now - timedelta(hours=1))
    insert_cdr(cc, tenantid=tenant.id, start=now - timedelta(hours=25))
    assert stats(cc, tenant.admin_token, group_by="day")["totals"]["calls"] == 1


# ---- time zones ----------------------------------------------------------------------

def keyed(body):
    return [(g["key"], g["calls"]) for g in body["groups"]]


def test_berlin_fall_back_has_two_hours_0200_and_a_25_hour_day(cc, tenant):
    # 2026-10-25 01:00Z: CEST (+02:00) becomes CET (+01:00); local 02:00 happens twice.
    for s in ["2026-10-24 21:59:00", "2026-10-24 22:00:00", "2026-10-25 00:30:00",
              "2026-10-25 01:30:00", "2026-10-25 01:45:00", "2026-10-25 22:59:00",
              "2026-10-25 23:00:00"]:
        call(cc, tenant.id, s)
    window = {"from": "2026-10-24T00:00:00Z", "to": "2026-10-27T00:00:00Z"}
    body = stats(cc, tenant.admin_token, group_by="hour", tz="Europe/Berlin", **window)
    assert keyed(body) == [("2026-10-24T23:00:00+02:00", 1),
                           ("2026-10-25T00:00:00+02:00", 1),
                           ("2026-10-25T02:00:00+02:00", 1),
                           ("2026-10-25T02:00:00+01:00", 2),
                           ("2026-10-25T23:00:00+01:00", 1),
                           ("2026-10-26T00:00:00+01:00", 1)]
    body = stats(cc, tenant.admin_token, group_by="day", tz="Europe/Berlin", **window)
    assert keyed(body) == [("2026-10-24", 1), ("2026-10-25", 5), ("2026-10-26", 1)]
    assert body["totals"]["calls"] == 7
    # Without tz the same rows fall into UTC days and hours.
    body = stats(cc, tenant.admin_token, group_by="day", **window)
    assert keyed(body) == [("2026-10-24", 2), ("2026-10-25", 5)]
    body = stats(cc, tenant.admin_token, group_by="hour", **window)
    assert keyed(body)[2:4] == [("2026-10-25T00:00:00Z", 1), ("2026-10-25T01:00:00Z", 2)]


def test_berlin_spring_forward_has_no_0200_and_a_23_hour_day(cc, tenant):
    # 2026-03-29 01:00Z: CET (+01:00) becomes CEST (+02:00); local 02:00 does not exist.
    for s in ["2026-03-28 22:59:00", "2026-03-28 23:00:00", "2026-03-29 00:59:59",
              "2026-03-29 01:00:00", "2026-03-29 21:59:00", "2026-03-29 22:00:00"]:
        call(cc, tenant.id, s)
    window = {"from": "2026-03-28T00:00:00Z", "to": "2026-03-31T00:00:00Z"}
    body = stats(cc, tenant.admin_token, group_by="hour", tz="Europe/Berlin", **window)
    assert keyed(body) == [("2026-03-28T23:00:00+01:00", 1),
                           ("2026-03-29T00:00:00+01:00", 1),
                           ("2026-03-29T01:00:00+01:00", 1),
                           ("2026-03-29T03:00:00+02:00", 1),
                           ("2026-03-29T23:00:00+02:00", 1),
                           ("2026-03-30T00:00:00+02:00", 1)]
    body = stats(cc, tenant.admin_token, group_by="day", tz="Europe/Berlin", **window)
    assert keyed(body) == [("2026-03-28", 1), ("2026-03-29", 4), ("2026-03-30", 1)]


def test_new_york_both_changes(cc, tenant):
    # 2026-03-08 07:00Z: EST (-05:00) to EDT (-04:00); 2026-11-01 06:00Z: back to EST.
    for s in ["2026-03-08 06:59:00", "2026-03-08 07:00:00", "2026-11-01 03:59:00",
              "2026-11-01 05:30:00", "2026-11-01 06:30:00", "2026-11-02 04:30:00",
              "2026-11-02 05:00:00"]:
        call(cc, tenant.id, s)
    window = {"from": "2026-03-01T00:00:00Z", "to": "2026-11-03T00:00:00Z"}
    body = stats(cc, tenant.admin_token, group_by="hour", tz="America/New_York", **window)
    assert keyed(body) == [("2026-03-08T01:00:00-05:00", 1),
                           ("2026-03-08T03:00:00-04:00", 1),
                           ("2026-10-31T23:00:00-04:00", 1),
                           ("2026-11-01T01:00:00-04:00", 1),
                           ("2026-11-01T01:00:00-05:00", 1),
                           ("2026-11-01T23:00:00-05:00", 1),
                           ("2026-11-02T00:00:00-05:00", 1)]
    body = stats(cc, tenant.admin_token, group_by="day", tz="America/New_York", **window)
    assert keyed(body) == [("2026-03-08", 2), ("2026-10-31", 1), ("2026-11-01", 3),
                           ("2026-11-02", 1)]


def test_kolkata_buckets_at_half_past_utc(cc, tenant):
    for s in ["2026-11-24 00:29:59", "2026-11-24 00:30:00", "2026-11-24 18:29:59",
              "2026-11-24 18:30:00"]:
        call(cc, tenant.id, s)
    body = stats(cc, tenant.admin_token, group_by="hour", tz="Asia/Kolkata", **DAY)
    assert keyed(body) == [("2026-11-24T05:00:00+05:30", 1),
                           ("2026-11-24T06:00:00+05:30", 1),
                           ("2026-11-24T23:00:00+05:30", 1),
                           ("2026-11-25T00:00:00+05:30", 1)]
    body = stats(cc, tenant.admin_token, group_by="day", tz="Asia/Kolkata", **DAY)
    assert keyed(body) == [("2026-11-24", 3), ("2026-11-25", 1)]
    # A zone named: keys carry its offset, +00:00 for UTC.
    body = stats(cc, tenant.admin_token, group_by="hour", tz="Etc/UTC", **DAY)
    assert keyed(body)[0] == ("2026-11-24T00:00:00+00:00", 2)


# ---- refusals ------------------------------------------------------------------------

@pytest.mark.parametrize("params, fields", [
    ({}, ["group_by"]),
    ({"group_by": "week"}, ["group_by"]),
    ({"group_by": ""}, ["group_by"]),
    ({"group_by": "hour", "tz": "Mars/Olympus_Mons"}, ["tz"]),
    ({"group_by": "queue", "tz": "Mars/Olympus_Mons"}, ["tz"]),     # whatever the group_by
    ({"group_by": "day", "tz": "Europe"}, ["tz"]),                  # a directory
    ({"group_by": "day", "tz": "zone.tab"}, ["tz"]),                # not a TZif file
    ({"group_by": "day", "tz": "../../../etc/passwd"}, ["tz"]),
    ({"group_by": "day", "tz": "/etc/localtime"}, ["tz"]),
    ({"group_by": "day", "tz": ""}, ["tz"]),
    ({"group_by": "day", "from": "2026-11-24"}, ["from"]),
    ({"group_by": "day", "to": "tomorrow"}, ["to"]),
    ({"group_by": "day", "from": "2026-11-24T00:00:00"}, ["from"]),  # no zone
    ({"group_by": "day", "from": "2026-11-25T00:00:00Z", "to": "2026-11-24T00:00:00Z"},
     ["from"]),
    ({"group_by": "day", "from": "2026-11-24T00:00:00Z", "to": "2026-11-24T00:00:00Z"},
     ["from"]),
    ({"group_by": "day", "from": "2025-11-22T23:59:59Z", "to": "2026-11-24T00:00:00Z"},
     ["from"]),                                                     # 366 days + 1 s
    ({"group_by": "x", "from": "x", "to": "y", "tz": ".."}, ["from", "to", "group_by", "tz"]),
])
def test_bad_parameters_are_400(cc, tenant, params, fields):
    check = openapi_checker(cc)
    r = cc.get(STATS, token=tenant.admin_token, params=params)
    body = check(r, "GET", STATS, 400, "invalid_request")
    assert detail_fields(body) == fields, body


def test_a_window_of_366_days_is_allowed(cc, tenant):
    day_of_calls(cc, tenant.id)
    body = stats(cc, tenant.admin_token, group_by="day", tz="Europe/Berlin",
                 **{"from": "2025-11-24T00:00:00Z", "to": "2026-11-25T00:00:00Z"})
    assert body["totals"]["calls"] == 7          # the second before DAY's from too


def test_without_cdrs_read_is_403(cc, tenant):
    check = openapi_checker(cc)
    token = token_with_permissions(cc, tenant, "nocdrs", ["users.read"])
    check(cc.get(STATS, token=token, params={"group_by": "day"}), "GET", STATS, 403,
          "forbidden")


def test_wrong_method_is_405(cc, tenant):
    assert_405(cc, tenant.admin_token, [("POST", STATS, "GET", {}),
                                        ("DELETE", STATS, "GET")])
