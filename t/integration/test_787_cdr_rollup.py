"""The CDR summaries (sql/011) answer exactly what counting cdr would.

/cdrs/stats and the first page's total of /cdrs read whole 15-minute (or hour) buckets
from cdr_rollup_time / cdr_rollup_key, kept by triggers on cdr, and the window's
partial buckets at either end from cdr itself.  Here a few hundred random rows of two
tenants (every kind of key, NULL and '' included, spellings that cdr's collation takes
as one, tenantid/accountcode disagreeing), then updates and deletes (the triggers take
them back), are checked against figures computed here from the rows: every group_by
over aligned and unaligned windows, in zones whose offsets are whole hours, half hours
and 45 minutes, across Berlin's DST change; and the list's total for every kind of
filter set (the summaries' and the fallback count's).
"""

import random
import threading
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from cchelpers import db_exec, db_rows

STATS = "/api/v1/cdrs/stats"
BASE = datetime(2026, 10, 23, 20, 0, 0)          # Berlin falls back 2026-10-25 01:00Z
SPAN_S = 4 * 86400

QUEUES = ["support", "Support", "sales", "", None]
DIDS = ["+4930555000", "+4930555001", "", None]
AGENTS = [None, 7, 12]
DISPOSITIONS = ["ANSWERED", "answered", "NO ANSWER", "BUSY", "FAILED", "", None]
DIRECTIONS = ["inbound", "outbound", "internal", None]


def rows_of(rng, n, tenantid, accountcode):
    out = []
    for _ in range(n):
        start = BASE + timedelta(seconds=rng.randrange(SPAN_S))
        billsec = rng.choice([None, 0, rng.randrange(600)])
        duration = rng.choice([None, (billsec or 0) + rng.randrange(60)])
        out.append({"tenantid": tenantid, "accountcode": accountcode, "start": start,
                    "billsec": billsec, "duration": duration,
                    "disposition": rng.choice(DISPOSITIONS),
                    "direction": rng.choice(DIRECTIONS), "queue": rng.choice(QUEUES),
                    "agent_id": rng.choice(AGENTS), "did": rng.choice(DIDS),
                    "src": rng.choice(["+4930123456", "+4930999999"]),
                    "uniqueid": f"{start.timestamp():.0f}.{rng.randrange(10**9)}"})
    return out


def insert(cc, rows):
    cols = list(rows[0])
    sql = (f"INSERT INTO cdr ({', '.join(f'`{c}`' for c in cols)})"
           f" VALUES ({', '.join(['%s'] * len(cols))})")
    with cc.db() as conn, conn.cursor() as cur:
        cur.executemany(sql, [tuple(r[c] for c in cols) for r in rows])


@pytest.fixture
def calls(cc, tenant, tenant2):
    """The tenant's rows (as the database holds them after the changes), by id."""
    rng = random.Random(20261202)
    insert(cc, rows_of(rng, 300, tenant.id, None))
    insert(cc, rows_of(rng, 60, None, tenant.id))
    insert(cc, rows_of(rng, 40, "", tenant.id))
    insert(cc, rows_of(rng, 40, tenant2.id, tenant.id))          # tenant2's rows
    insert(cc, rows_of(rng, 20, tenant.id, tenant2.id))
    db_exec(cc, "INSERT INTO cdr (tenantid, disposition, billsec) VALUES (%s, 'ANSWERED', 5)",
            (tenant.id,))                                        # no start: no call
    ids = [r["id"] for r in db_rows(cc, "SELECT id FROM cdr WHERE tenant_ref = %s"
                                        " ORDER BY id", (tenant.id,))]
    # Changes the triggers must take back: moved across buckets and days, re-keyed,
    # given to the other tenant and back, deleted.
    for i in ids[0:30]:
        db_exec(cc, "UPDATE cdr SET start = start + INTERVAL 1 DAY + INTERVAL 17 MINUTE,"
                    " queue = 'moved', disposition = 'BUSY' WHERE id = %s", (i,))
    for i in ids[30:40]:
        db_exec(cc, "UPDATE cdr SET tenantid = %s WHERE id = %s", (tenant2.id, i))
    db_exec(cc, "UPDATE cdr SET tenantid = %s WHERE id = %s", (tenant.id, ids[35]))
    db_exec(cc, "UPDATE cdr SET agent_id = NULL, billsec = billsec + 3 WHERE id IN (%s, %s)",
            (ids[41], ids[42]))
    db_exec(cc, "DELETE FROM cdr WHERE id IN (%s)" % ", ".join(["%s"] * 25),
            tuple(ids[50:75]))
    return {r["id"]: r for r in db_rows(
        cc, "SELECT id, start, billsec, duration, disposition, direction, queue, agent_id,"
            " did, src FROM cdr WHERE tenant_ref = %s AND start IS NOT NULL", (tenant.id,))}


def is_answered(r):
    return (r["disposition"] or "").upper() == "ANSWERED"      # cdr's collation


def utc(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(timezone.utc) \
        .replace(tzinfo=None)


def key_of(r, group_by, zone):
    if group_by in ("hour", "day"):
        at = r["start"].replace(tzinfo=timezone.utc)
        if group_by == "day":
            return (at.astimezone(zone) if zone else at).strftime("%Y-%m-%d")
        if not zone:
            return at.strftime("%Y-%m-%dT%H:00:00Z")
        return at.astimezone(zone).replace(minute=0, second=0).isoformat()
    v = {"queue": r["queue"], "agent": r["agent_id"], "did": r["did"],
         "disposition": r["disposition"]}[group_by]
    if v is None or v == "":
        return None
    return str(v).lower()                                         # one group per spelling


def figures(rows):
    ans = [r for r in rows if is_answered(r)]
    return {"calls": len(rows), "answered": len(ans),
            "total_billsec": sum(r["billsec"] or 0 for r in rows),
            "ans_billsec": sum(r["billsec"] or 0 for r in ans),
            "ans_wait": sum((r["duration"] or 0) - (r["billsec"] or 0) for r in ans)}


def from_api(g):
    return {"calls": g["calls"], "answered": g["answered"],
            "total_billsec": g["total_billsec"],
            "ans_billsec": round(g["avg_billsec"] * g["answered"]),
            "ans_wait": round(g["avg_wait"] * g["answered"])}


WINDOWS = [
    ("2026-10-23T20:00:00Z", "2026-10-27T20:00:00Z"),     # aligned: all from summaries
    ("2026-10-23T21:07:13Z", "2026-10-26T03:52:01Z"),     # partial buckets at both ends
    ("2026-10-24T10:05:00Z", "2026-10-24T10:10:00Z"),     # inside one bucket
    ("2026-10-24T10:14:59Z", "2026-10-24T11:15:01Z"),
    ("2026-10-25T00:30:00+02:00", "2026-10-25T05:45:00+01:00"),
]
ZONES = [None, "Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns"]


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("group_by", ["hour", "day", "queue", "agent", "did",
                                      "disposition"])
def test_stats_match_the_rows(cc, tenant, calls, window, group_by):
    lo, hi = utc(window[0]), utc(window[1])
    inside = [r for r in calls.values() if lo <= r["start"] < hi]
    for tz in ZONES if group_by in ("hour", "day") else [None]:
        params = {"from": window[0], "to": window[1], "group_by": group_by}
        if tz:
            params["tz"] = tz
        r = cc.get(STATS, token=tenant.admin_token, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        zone = ZoneInfo(tz) if tz else None
        want = {}
        for row in inside:
            want.setdefault(key_of(row, group_by, zone), []).append(row)
        got = {(g["key"].lower() if g["key"] and group_by not in ("hour", "day")
                else g["key"]): from_api(g) for g in body["groups"]}
        assert got == {k: figures(v) for k, v in want.items()}, (tz, params)
        assert from_api(body["totals"]) == figures(inside)


def test_the_summaries_equal_a_recount_of_cdr(cc, tenant, tenant2, calls):
    """After inserts, updates and deletes, every summary row is what a fresh GROUP BY
    of cdr gives (zero rows left by deletes aside)."""
    recount_time = """
        SELECT tenant_ref, bucket, disposition, direction, SUM(n) n, SUM(a) a, SUM(b) b,
               SUM(ab) ab, SUM(aw) aw FROM (
          SELECT tenant_ref, bucket, disposition, direction, calls n, answered a,
                 billsec b, ans_billsec ab, ans_wait aw FROM cdr_rollup_time
          UNION ALL
          SELECT tenant_ref, start - INTERVAL (TIME_TO_SEC(start) MOD 900) SECOND,
                 COALESCE(disposition, ''), COALESCE(direction, ''), -COUNT(*),
                 -SUM(COALESCE(disposition = 'ANSWERED', 0)), -SUM(COALESCE(billsec, 0)),
                 -SUM(IF(disposition = 'ANSWERED', COALESCE(billsec, 0), 0)),
                 -SUM(IF(disposition = 'ANSWERED',
                         COALESCE(duration, 0) - COALESCE(billsec, 0), 0))
          FROM cdr WHERE tenant_ref IN (%s, %s) AND start IS NOT NULL GROUP BY 1, 2, 3, 4
        ) u WHERE tenant_ref IN (%s, %s) GROUP BY 1, 2, 3, 4
        HAVING n <> 0 OR a <> 0 OR b <> 0 OR ab <> 0 OR aw <> 0"""
    t = (tenant.id, tenant2.id) * 2
    assert db_rows(cc, recount_time, t) == []
    recount_key = """
        SELECT tenant_ref, dim, hour, k, SUM(n) n, SUM(b) b FROM (
          SELECT tenant_ref, dim, hour, k, calls n, billsec b FROM cdr_rollup_key
          UNION ALL
          SELECT c.tenant_ref, d.dim,
                 c.start - INTERVAL (TIME_TO_SEC(c.start) MOD 3600) SECOND,
                 CONVERT(CASE d.dim WHEN 'queue' THEN COALESCE(c.queue, '')
                            WHEN 'agent' THEN COALESCE(CAST(c.agent_id AS CHAR), '')
                            ELSE COALESCE(c.did, '') END USING utf8mb4)
                 COLLATE utf8mb4_unicode_ci, -COUNT(*),
                 -SUM(COALESCE(c.billsec, 0))
          FROM cdr c JOIN (SELECT 'queue' dim UNION ALL SELECT 'agent'
                           UNION ALL SELECT 'did') d
          WHERE c.tenant_ref IN (%s, %s) AND c.start IS NOT NULL GROUP BY 1, 2, 3, 4
        ) u WHERE tenant_ref IN (%s, %s) GROUP BY 1, 2, 3, 4 HAVING n <> 0 OR b <> 0"""
    assert db_rows(cc, recount_key, t) == []


def test_concurrent_inserts_neither_deadlock_nor_lose_a_call(cc, tenant):
    """Asterisk's CDR writers insert at once (autocommit, one row each): the triggers
    lock summary rows by primary key in one order, so none fails and none is lost."""
    errors = []

    def writer(n):
        rng = random.Random(n)
        try:
            with cc.db() as conn, conn.cursor() as cur:
                for i in range(40):
                    cur.execute(
                        "INSERT INTO cdr (tenantid, start, disposition, direction, queue,"
                        " agent_id, did, billsec, duration) VALUES (%s, %s, %s, %s, %s, %s,"
                        " %s, 5, 9)",
                        (tenant.id, BASE + timedelta(seconds=rng.randrange(1800)),
                         rng.choice(DISPOSITIONS), rng.choice(DIRECTIONS),
                         rng.choice(QUEUES), rng.choice(AGENTS), rng.choice(DIDS)))
        except Exception as e:                      # noqa: BLE001 (reported below)
            errors.append(repr(e))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert errors == []
    got = db_rows(cc, "SELECT SUM(calls) n, SUM(billsec) b FROM cdr_rollup_time"
                      " WHERE tenant_ref = %s", (tenant.id,))[0]
    assert (got["n"], got["b"]) == (320, 1600)
    for dim in ("queue", "agent", "did"):
        got = db_rows(cc, "SELECT SUM(calls) n FROM cdr_rollup_key WHERE tenant_ref = %s"
                          " AND dim = %s", (tenant.id, dim))[0]
        assert got["n"] == 320


def test_a_rebuild_gives_what_the_triggers_kept(cc, tenant, tenant2, calls):
    """cdr_rollup_rebuild() (the migration's backfill, and make bench's after a bulk load
    with @cdr_rollup_off) computes from cdr what the triggers kept row by row."""
    def snapshot():
        # A key's spelling is the first one summed ('Support' or 'support': one key).
        sums = "calls, answered, billsec, ans_billsec, ans_wait"
        return (db_rows(cc, "SELECT tenant_ref, bucket, LOWER(disposition) AS d, direction,"
                            f" {sums} FROM cdr_rollup_time WHERE calls <> 0"
                            " ORDER BY tenant_ref, bucket, disposition, direction"),
                db_rows(cc, f"SELECT tenant_ref, dim, hour, LOWER(k) AS k, {sums}"
                            " FROM cdr_rollup_key WHERE calls <> 0"
                            " ORDER BY tenant_ref, dim, hour, k"))
    # Rows at both ends of DATETIME's range: the rebuild reaches them (one step each).
    for start in ("1000-01-01 00:00:05", "9999-12-31 23:59:59"):
        db_exec(cc, "INSERT INTO cdr (tenantid, start, disposition, billsec, duration,"
                    " queue) VALUES (%s, %s, 'ANSWERED', 7, 9, 'edge')", (tenant.id, start))
    kept = snapshot()
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SET @cdr_rollup_off = 1")
        cur.execute("INSERT INTO cdr (tenantid, start, disposition, billsec, duration)"
                    " VALUES (%s, '2026-10-24 10:00:00', 'ANSWERED', 10, 12)", (tenant.id,))
        cur.execute("DELETE FROM cdr WHERE id = LAST_INSERT_ID()")
        cur.execute("INSERT INTO cdr (tenantid, start, disposition, billsec, duration)"
                    " VALUES (%s, '2026-10-24 10:00:00', 'ANSWERED', 10, 12)", (tenant.id,))
    bypassed = snapshot()
    assert bypassed == kept                       # the session wrote without them
    db_exec(cc, "CALL cdr_rollup_rebuild()")
    rebuilt = snapshot()
    assert rebuilt != kept                        # the bypassed insert is counted now
    db_exec(cc, "DELETE FROM cdr WHERE tenant_ref = %s AND start = '2026-10-24 10:00:00'"
                " AND billsec = 10 AND duration = 12 AND disposition = 'ANSWERED'"
                " AND queue IS NULL AND uniqueid IS NULL", (tenant.id,))
    assert snapshot() == kept


def matches(r, f):
    def eq(a, b):                     # cdr's collation: case and trailing blanks aside
        return a is not None and str(a).lower().rstrip() == str(b).lower().rstrip()
    return ((not f.get("from") or r["start"] >= utc(f["from"]))
            and (not f.get("to") or r["start"] < utc(f["to"]))
            and all(eq(r[c], f[c]) for c in ("direction", "disposition", "src", "did",
                                             "queue") if c in f)
            and ("agent_id" not in f or r["agent_id"] == int(f["agent_id"]))
            and ("min_billsec" not in f or (r["billsec"] or 0) >= int(f["min_billsec"])))


@pytest.mark.parametrize("filters", [
    {},
    {"from": "2026-10-24T03:07:00Z"},
    {"to": "2026-10-25T01:00:00Z"},
    {"from": "2026-10-24T03:07:00Z", "to": "2026-10-25T17:44:59Z"},
    {"direction": "inbound"},
    {"disposition": "ANSWERED", "from": "2026-10-24T00:00:01Z"},
    {"direction": "outbound", "disposition": "BUSY", "to": "2026-10-26T12:30:00Z"},
    {"queue": "support"},
    {"queue": " "},                   # equals '' (not NULL) in the collation: counted in cdr
    {"queue": "moved", "from": "2026-10-24T00:59:59Z", "to": "2026-10-27T00:00:01Z"},
    {"agent_id": "7", "to": "2026-10-25T10:10:10Z"},
    {"did": "+4930555001", "from": "2026-10-23T20:00:00Z"},
    # Counted in cdr: filters the summaries are not keyed by, or two keyed ones.
    {"queue": "sales", "direction": "inbound"},
    {"queue": "sales", "agent_id": "12"},
    {"src": "+4930999999", "from": "2026-10-24T05:05:05Z"},
    {"min_billsec": "300"},
])
def test_the_first_pages_total_is_exact(cc, tenant, calls, filters):
    r = cc.get("/api/v1/cdrs", token=tenant.admin_token, params={**filters, "page_size": 5})
    assert r.status_code == 200, r.text
    want = sum(1 for row in calls.values() if matches(row, filters))
    assert r.json()["total"] == want
    assert want > 0 or filters == {}


def test_a_page_past_the_end_keeps_the_total(cc, tenant, calls):
    r = cc.get("/api/v1/cdrs", token=tenant.admin_token,
               params={"page": 1000, "page_size": 200, "direction": "internal"})
    assert r.status_code == 200
    assert r.json()["data"] == []
    assert r.json()["total"] == sum(1 for row in calls.values()
                                    if row["direction"] == "internal")
