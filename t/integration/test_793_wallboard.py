"""API.md "Telephony", wallboard: GET /api/v1/wallboard.

Every queue of the tenant: callers waiting now (an ENTERQUEUE without its outcome row,
since midnight or before), the longest of their waits, the agents behind its members by
state, and today's figures from the tenant's midnight (tz=, default UTC) as queue
statistics count them.  queue_log rows are written as app_queue writes them (test_735's
QueueLog).

The board reads the summaries sql/015's triggers keep on queue_log (per queue and 15
minutes, and the callers waiting now) and only the partial buckets from queue_log: the
tests below hold it to GET /queues/{id}/stats, which reads queue_log itself, through
random calls, changes of the service level, deletes and updates of rows, rows Asterisk
would never write, a rebuild and concurrent writers.
"""

import random
import threading
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from cchelpers import db_exec, db_rows
from ccobjects import new_ext, uniq_name
from test_735_queue_stats import QueueLog, get_stats

WALLBOARD = "/api/v1/wallboard"


def daytime_zone(now):
    """An Etc/GMT zone where it is between 08:00 and 16:00 now, so that the last six
    hours are all of its today whatever the time of the run."""
    for n in range(-14, 13):
        zone = ZoneInfo(f"Etc/GMT{n:+d}" if n else "Etc/GMT")
        if 8 <= now.astimezone(zone).hour < 16:
            return zone
    raise AssertionError("no zone")


def local_midnight(now, zone):
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(timezone.utc)


class Board:
    def __init__(self, cc, tenant):
        self.cc, self.tenant = cc, tenant

    def post(self, path, body):
        r = self.cc.post(path, token=self.tenant.admin_token, json=body)
        assert r.status_code == 201, r.text
        return r.json()

    def queue(self, service_level=20):
        q = self.post("/api/v1/queues", {"name": uniq_name("Wb"),
                                         "service_level": service_level})
        db_exec(self.cc, "UPDATE call_queues SET created_at = %s WHERE id = %s",
                ("2026-01-01 00:00:00", q["id"]))
        asterisk_name = self.cc_row("SELECT asterisk_name FROM call_queues WHERE id = %s",
                                    q["id"])
        return q, QueueLog(self.cc, asterisk_name)

    def cc_row(self, sql, arg):
        with self.cc.db() as conn, conn.cursor() as cur:
            cur.execute(sql, (arg,))
            return list(cur.fetchone().values())[0]

    def agent(self, queues, state=None):
        user, token = self.tenant.make_user(roles=["agent"])
        ep = self.post("/api/v1/endpoints", {"extension": new_ext(), "user_id": user["id"]})
        for q in queues:
            self.post(f"/api/v1/queues/{q['id']}/members", {"endpoint_id": ep["id"]})
        if state:
            r = self.cc.put(f"/api/v1/agents/{user['id']}/state", token=token,
                            json={"state": state})
            assert r.status_code == 200, r.text
        return user


def get(cc, token, **params):
    r = cc.get(WALLBOARD, token=token, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_queues_waiting_callers_agents_and_today(cc, tenant, tenant2):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    zone = daytime_zone(now)
    b = Board(cc, tenant)
    qa, log = b.queue(service_level=20)
    qb, _ = b.queue()
    naive = now.replace(tzinfo=None)
    log.answered(naive - timedelta(hours=3), hold=10, talk=60)       # within 20 s
    log.answered(naive - timedelta(hours=2), hold=30, talk=60)
    log.abandoned(naive - timedelta(hours=2), wait=30)
    log.abandoned(naive - timedelta(hours=1), wait=2)                  # short: not counted
    log.left(naive - timedelta(hours=1), "EXITWITHTIMEOUT", 60)
    for ago in (120, 40):                                             # waiting now
        log.enter(naive - timedelta(seconds=ago), log.callid())
    # Yesterday (in the zone): not in today's figures, but a caller who entered then and
    # has no outcome yet still waits.
    yesterday = local_midnight(now, zone).replace(tzinfo=None) - timedelta(hours=1)
    log.answered(yesterday, hold=5, talk=10)
    log.enter(yesterday, log.callid())
    # More than a day ago: an entry whose outcome row was lost waits no more.
    log.enter(naive - timedelta(days=1, seconds=5), log.callid())
    b.agent([qa], "available")
    b.agent([qa, qb], "break")
    b.agent([qb])                                                     # no state: offline
    ep = b.post("/api/v1/endpoints", {"extension": new_ext()})         # no user: no agent
    b.post(f"/api/v1/queues/{qa['id']}/members", {"endpoint_id": ep["id"]})
    Board(cc, tenant2).queue()

    body = get(cc, tenant.admin_token, tz=zone.key)
    assert abs(datetime.fromisoformat(body["generated_at"].replace("Z", "+00:00"))
               - now) < timedelta(seconds=30)
    assert [q["id"] for q in body["queues"]] == [q["id"] for q in
                                                 sorted((qa, qb), key=lambda q: q["name"])]
    a = next(q for q in body["queues"] if q["id"] == qa["id"])
    assert a["name"] == qa["name"] and a["waiting"] == 3
    longest = (now - yesterday.replace(tzinfo=timezone.utc)).total_seconds()
    assert longest - 2 <= a["longest_wait"] <= longest + 30
    assert a["agents"] == {"available": 1, "on_call": 0, "wrap_up": 0, "break": 1,
                           "offline": 0}
    assert a["today"] == {"offered": 4, "answered": 2, "abandoned": 1, "service_level": 0.25}
    bq = next(q for q in body["queues"] if q["id"] == qb["id"])
    assert bq["waiting"] == 0 and bq["longest_wait"] == 0
    assert bq["agents"] == {"available": 0, "on_call": 0, "wrap_up": 0, "break": 1,
                            "offline": 1}
    assert bq["today"] == {"offered": 0, "answered": 0, "abandoned": 0, "service_level": 0}


def test_today_starts_at_the_zones_midnight(cc, tenant):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    b = Board(cc, tenant)
    q, log = b.queue()
    zone = daytime_zone(now)
    mid = local_midnight(now, zone).replace(tzinfo=None)
    log.answered(mid - timedelta(minutes=5), hold=3, talk=5)          # yesterday there
    log.answered(mid + timedelta(minutes=5), hold=3, talk=5)          # today there
    there = next(x for x in get(cc, tenant.admin_token, tz=zone.key)["queues"]
                 if x["id"] == q["id"])
    assert there["today"]["answered"] == 1
    # In a zone 12 hours away the day started at another instant.
    other = ZoneInfo(f"Etc/GMT{(int(zone.key[7:] or 0) + 12) % 24 - 12:+d}")
    if local_midnight(now, other).replace(tzinfo=None) < mid - timedelta(minutes=5):
        elsewhere = next(x for x in get(cc, tenant.admin_token, tz=other.key)["queues"]
                         if x["id"] == q["id"])
        assert elsewhere["today"]["answered"] == 2


@pytest.mark.parametrize("tz", ["Mars/Base", "../etc/passwd", "Europe", ""])
def test_an_unknown_zone_is_400(cc, tenant, tz):
    r = cc.get(WALLBOARD, token=tenant.admin_token, params={"tz": tz})
    assert r.status_code == 400
    assert r.json()["details"][0]["field"] == "tz"


def test_a_tenant_without_queues_has_an_empty_board(cc, tenant):
    assert get(cc, tenant.admin_token)["queues"] == []


# ---- the summaries against queue_log itself ----

def board_queue(cc, token, qid, zone):
    body = get(cc, token, tz=zone.key)
    return next(q for q in body["queues"] if q["id"] == qid)


def assert_today_is_the_stats(cc, tenant, q, zone):
    """The board's today equals /queues/{id}/stats from the zone's midnight to now (which
    counts queue_log's rows themselves, with the queue's current service level)."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    board = board_queue(cc, tenant.admin_token, q["id"], zone)["today"]
    stats = get_stats(cc, tenant.admin_token, q["id"],
                      **{"from": local_midnight(now, zone).strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "to": (now + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert board == {k: stats[k] for k in ("offered", "answered", "abandoned",
                                          "service_level")}, (board, stats)
    return board


def random_calls(log, rng, start, end, n):
    """n calls entering between start and end (naive UTC), each ended within 70 s; some
    rows carry what Asterisk never writes (text where a number belongs)."""
    span = int((end - start).total_seconds())
    for _ in range(n):
        t = start + timedelta(seconds=rng.randrange(span))
        kind = rng.random()
        if kind < 0.45:
            log.answered(t, hold=rng.randrange(0, 60), talk=rng.randrange(1, 10))
        elif kind < 0.75:
            log.abandoned(t, wait=rng.randrange(0, 60))
        elif kind < 0.9:
            log.left(t, rng.choice(["EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY",
                                    "WITHDRAW"]), rng.randrange(0, 60))
        else:
            c = log.callid()
            log.enter(t, c)
            event, data = rng.choice([("CONNECT", ["12abc", c + "1", 4]),
                                      ("CONNECT", ["", c + "1", 4]),
                                      ("CONNECT", ["-7", c + "1", 4]),
                                      ("ABANDON", [1, 1, "3x"]),
                                      ("ABANDON", [1, 1, "abc"]),
                                      ("EXITWITHKEY", ["5", 1, 1, "9 "])])
            log.row(t + timedelta(seconds=rng.randrange(1, 60)), c, "Bob", event, *data)


def zone_day(now):
    """A zone where it is daytime now, its midnight and the queue's created_at in the
    middle of a bucket after it, as naive UTC."""
    zone = daytime_zone(now)
    mid = local_midnight(now, zone).replace(tzinfo=None)
    return zone, mid, mid + timedelta(minutes=37, seconds=13)


def test_today_is_exact_through_buckets_edges_and_a_changed_service_level(cc, tenant):
    rng = random.Random(793)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    zone, mid, created = zone_day(now)
    b = Board(cc, tenant)
    q, log = b.queue(service_level=20)
    db_exec(cc, "UPDATE call_queues SET created_at = %s WHERE id = %s", (created, q["id"]))
    naive = now.replace(tzinfo=None)
    end = naive - timedelta(seconds=75)
    # Before midnight, before created_at (same bucket as created_at), then the day.
    random_calls(log, rng, mid - timedelta(hours=1), mid, 20)
    random_calls(log, rng, created - timedelta(minutes=7), created, 15)
    random_calls(log, rng, created, end, 120)
    assert_today_is_the_stats(cc, tenant, q, zone)
    # The level changes through the API: the summaries of the buckets that ended 2
    # minutes ago or more are counted again with it; a bucket CONNECTs are still coming
    # into keeps its mark and is counted from queue_log.
    r = cc.patch(f"/api/v1/queues/{q['id']}", token=tenant.admin_token,
                 json={"service_level": 35})
    assert r.status_code == 200, r.text
    assert db_rows(cc, "SELECT COUNT(*) n FROM queue_log_rollup WHERE queue_id = %s"
                       " AND sl <> 35 AND bucket < %s",
                   (q["id"], (naive - timedelta(seconds=120 + 900)).strftime(
                       "%Y-%m-%d %H:%M:%S")))[0]["n"] == 0
    random_calls(log, rng, end - timedelta(minutes=3), end, 30)
    board = assert_today_is_the_stats(cc, tenant, q, zone)
    assert board["offered"] > 100
    # An operator's own UPDATE of queues (no API): every bucket of the day is judged
    # with another level and counted again from queue_log.
    db_exec(cc, "UPDATE queues SET servicelevel = 12 WHERE name = %s", (log.queuename,))
    assert_today_is_the_stats(cc, tenant, q, zone)
    stale = db_rows(cc, "SELECT COUNT(*) n FROM queue_log_rollup WHERE queue_id = %s"
                        " AND bucket >= %s AND sl <> 12", (q["id"], mid))[0]["n"]
    assert stale > 0                                    # the recount was needed


def test_deletes_updates_and_a_rebuild_keep_it_exact(cc, tenant):
    rng = random.Random(7930)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    zone, mid, _ = zone_day(now)
    q, log = Board(cc, tenant).queue(service_level=15)
    naive = now.replace(tzinfo=None)
    random_calls(log, rng, mid - timedelta(minutes=20), naive - timedelta(seconds=75), 150)
    ids = [r["id"] for r in db_rows(cc, "SELECT id FROM queue_log WHERE queuename = %s",
                                    (log.queuename,))]
    rng.shuffle(ids)
    # An operator's cleanup and corrections: deletes, a verb changed, rows moved across
    # buckets and across midnight, a wait changed.
    db_exec(cc, "DELETE FROM queue_log WHERE id IN (%s)" % ",".join(map(str, ids[:60])))
    for i in ids[60:90]:
        db_exec(cc, "UPDATE queue_log SET event = IF(event = 'ABANDON', 'CONNECT', event),"
                    " data1 = IF(event = 'CONNECT', '3', data1),"
                    " `time` = `time` - INTERVAL %s SECOND WHERE id = %s",
                (rng.randrange(0, 3600), i))
    before = assert_today_is_the_stats(cc, tenant, q, zone)
    # The summaries computed again from queue_log hold the same.  (Not the callers
    # waiting: for the triggers a call whose outcome row is deleted has ended, while a
    # rebuild sees an ENTERQUEUE without an outcome; only a cleanup of the last day's
    # outcome rows alone could tell them apart.)
    db_exec(cc, "CALL queue_log_rollup_rebuild()")
    assert assert_today_is_the_stats(cc, tenant, q, zone) == before


def test_rows_asterisk_would_never_write_are_stored_and_counted(cc, tenant):
    """The triggers must never make Asterisk's INSERT fail: text, NULLs, huge numbers."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    zone, mid, _ = zone_day(now)
    q, log = Board(cc, tenant).queue()
    t = (now - timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S")
    for event, d1, d3, d4 in [("CONNECT", None, None, None), ("ABANDON", None, None, None),
                              ("CONNECT", "99999999999999999999999", "", ""),
                              ("ABANDON", "1", "-99999999999999999999999", ""),
                              ("EXITWITHKEY", "1", "2", "\u00e9\u00e9"),
                              ("WITHDRAW", "", "", ""), ("ENTERQUEUE", None, None, None)]:
        db_exec(cc, "INSERT INTO queue_log (`time`, callid, queuename, agent, event, data1,"
                    " data3, data4) VALUES (%s, 'odd.1', %s, 'NONE', %s, %s, %s, %s)",
                (t, log.queuename, event, d1, d3, d4))
    db_exec(cc, "INSERT INTO queue_log (`time`, callid, queuename, event)"
                " VALUES (NULL, NULL, NULL, NULL)")
    assert assert_today_is_the_stats(cc, tenant, q, zone)["offered"] >= 4


def test_asterisk_starting_again_ends_every_wait(cc, tenant):
    now = datetime.now(timezone.utc).replace(microsecond=0).replace(tzinfo=None)
    b = Board(cc, tenant)
    q, log = b.queue()
    for ago in (300, 200):
        log.enter(now - timedelta(seconds=ago), log.callid())
    assert board_queue(cc, tenant.admin_token, q["id"], ZoneInfo("UTC"))["waiting"] == 2
    # logger.c logger_queue_start(): once per start of Asterisk, queuename NONE.
    db_exec(cc, "INSERT INTO queue_log (`time`, callid, queuename, agent, event, data1)"
                " VALUES (%s, 'NONE', 'NONE', 'NONE', 'QUEUESTART', '')",
            (now - timedelta(seconds=100),))
    log.enter(now - timedelta(seconds=50), log.callid())
    got = board_queue(cc, tenant.admin_token, q["id"], ZoneInfo("UTC"))
    assert got["waiting"] == 1 and 48 <= got["longest_wait"] <= 80
    # A waiting caller's ENTERQUEUE deleted (a cleanup): it waits no more.
    db_exec(cc, "DELETE FROM queue_log WHERE queuename = %s AND event = 'ENTERQUEUE'",
            (log.queuename,))
    assert board_queue(cc, tenant.admin_token, q["id"], ZoneInfo("UTC"))["waiting"] == 0


def test_waiting_callers_of_a_name_before_the_queue_existed_are_not_its(cc, tenant):
    now = datetime.now(timezone.utc).replace(microsecond=0).replace(tzinfo=None)
    q, log = Board(cc, tenant).queue()
    db_exec(cc, "UPDATE call_queues SET created_at = %s WHERE id = %s",
            (now - timedelta(seconds=300), q["id"]))
    log.enter(now - timedelta(seconds=600), log.callid())
    log.enter(now - timedelta(seconds=60), log.callid())
    got = board_queue(cc, tenant.admin_token, q["id"], ZoneInfo("UTC"))
    assert got["waiting"] == 1 and 58 <= got["longest_wait"] <= 90


def test_concurrent_writers_neither_deadlock_nor_lose_a_row(cc, tenant):
    """Asterisk writes from many threads at once: 8 writers on one queue and bucket."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    zone, _, _ = zone_day(now)
    q, log = Board(cc, tenant).queue(service_level=20)
    t0 = now.replace(tzinfo=None) - timedelta(seconds=90)
    errors = []

    def writer(n):
        rng = random.Random(n)
        try:
            with cc.db() as conn, conn.cursor() as cur:
                for i in range(40):
                    c = f"conc.{n}.{i}"
                    sql = ("INSERT INTO queue_log (`time`, callid, queuename, agent, event,"
                           " data1, data2, data3, data4, data5) VALUES (%s, %s, %s, %s, %s,"
                           " %s, %s, %s, '', '')")
                    cur.execute(sql, (t0, c, log.queuename, "NONE", "ENTERQUEUE", "", "5",
                                      "1"))
                    if i % 4:           # one caller in four still waits
                        w = rng.randrange(0, 40)
                        cur.execute(sql, (t0 + timedelta(seconds=w), c, log.queuename, "Bob",
                                          rng.choice(["CONNECT", "ABANDON"]), w, w, w))
        except Exception as e:                      # noqa: BLE001 (reported below)
            errors.append(repr(e))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert errors == []
    board = assert_today_is_the_stats(cc, tenant, q, zone)
    assert board["answered"] + board["abandoned"] <= 240
    got = board_queue(cc, tenant.admin_token, q["id"], zone)
    assert got["waiting"] == 80
