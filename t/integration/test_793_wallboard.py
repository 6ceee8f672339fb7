"""API.md "Telephony", wallboard: GET /api/v1/wallboard.

Every queue of the tenant: callers waiting now (an ENTERQUEUE of today without its
outcome row), the longest of their waits, the agents behind its members by state, and
today's figures from the tenant's midnight (tz=, default UTC) as queue statistics count
them.  queue_log rows are written as app_queue writes them (test_735's QueueLog).
"""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from cchelpers import db_exec
from ccobjects import new_ext, uniq_name
from test_735_queue_stats import QueueLog

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
    # Yesterday (in the zone): neither today's figures nor a waiting caller.
    yesterday = local_midnight(now, zone).replace(tzinfo=None) - timedelta(hours=1)
    log.answered(yesterday, hold=5, talk=10)
    log.enter(yesterday, log.callid())
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
    assert a["name"] == qa["name"] and a["waiting"] == 2
    assert 118 <= a["longest_wait"] <= 150
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
