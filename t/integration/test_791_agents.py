"""API.md "Telephony", agent state: /api/v1/agents, states, history, statistics and
the tenant's pause reasons.

An agent is a live user with an endpoint (or a state of its own).  A change of state is
a period of agent_states; break and offline pause the realtime queue_members rows of
the agent's memberships (reason_paused: the reason, else the state), available unpauses
them, on_call and wrap_up leave them; each change is audited (agent.state_change) and
an agent.state_changed event.
"""

import threading
from datetime import datetime, timedelta

import pytest

from cchelpers import db_exec, db_rows, openapi_checker
from ccobjects import new_ext, token_with_permissions, uniq_name

AGENTS = "/api/v1/agents"


def state_path(uid):
    return f"{AGENTS}/{uid}/state"


class Floor:
    """A tenant's agent with an endpoint in two queues (token with the built-in agent
    role), a second agent, and a supervisor (agents.manage)."""

    def __init__(self, cc, tenant):
        self.cc, self.tenant = cc, tenant
        self.agent, self.token = tenant.make_user(roles=["agent"])
        self.other, self.other_token = tenant.make_user(roles=["agent"])
        self.sup, self.sup_token = tenant.make_user(roles=["supervisor"])
        self.queues = [self.post("/api/v1/queues", {"name": uniq_name("Ag")})
                       for _ in range(2)]
        self.ep = self.post("/api/v1/endpoints", {"extension": new_ext(),
                                                  "user_id": self.agent["id"]})
        self.other_ep = self.post("/api/v1/endpoints", {"extension": new_ext(),
                                                        "user_id": self.other["id"]})
        for q in self.queues:
            self.post(f"/api/v1/queues/{q['id']}/members", {"endpoint_id": self.ep["id"]})
        self.post(f"/api/v1/queues/{self.queues[0]['id']}/members",
                  {"endpoint_id": self.other_ep["id"]})

    def post(self, path, body):
        r = self.cc.post(path, token=self.tenant.admin_token, json=body)
        assert r.status_code == 201, r.text
        return r.json()

    def put(self, uid, body, token=None):
        return self.cc.put(state_path(uid), token=token or self.token, json=body)

    def rt_members(self, ep):
        return db_rows(self.cc, "SELECT qm.queue_name, qm.paused, qm.reason_paused"
                                " FROM queue_members qm JOIN endpoints e"
                                " ON qm.interface = CONCAT('PJSIP/', e.asterisk_id)"
                                " WHERE e.id = %s ORDER BY qm.queue_name", (ep["id"],))


@pytest.fixture
def floor(cc, tenant):
    return Floor(cc, tenant)


def test_the_agents_list_has_every_agent_with_state_and_queues(cc, tenant, tenant2, floor):
    tenant.make_user(roles=["agent"])                        # no endpoint: no agent
    Floor(cc, tenant2)
    r = cc.get(AGENTS, token=floor.token)
    assert r.status_code == 200, r.text
    by_id = {a["user_id"]: a for a in r.json()["data"]}
    assert set(by_id) == {floor.agent["id"], floor.other["id"]}
    a = by_id[floor.agent["id"]]
    assert a["state"] == "offline" and a["reason"] is None and a["since"] is None
    assert a["name"] == floor.agent["name"] and a["email"] == floor.agent["email"]
    assert sorted(q["id"] for q in a["queues"]) == sorted(q["id"] for q in floor.queues)
    assert all(q["paused"] is False for q in a["queues"])
    assert [q["id"] for q in by_id[floor.other["id"]]["queues"]] == [floor.queues[0]["id"]]


def test_break_pauses_every_membership_and_available_unpauses(cc, tenant, floor):
    r = floor.put(floor.agent["id"], {"state": "break", "reason": "Lunch"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user_id"] == floor.agent["id"] and body["state"] == "break"
    assert body["reason"] == "Lunch" and body["since"].endswith("Z")
    rows = floor.rt_members(floor.ep)
    assert len(rows) == 2 and all(m["paused"] == 1 and m["reason_paused"] == "Lunch"
                                  for m in rows)
    assert all(m["paused"] in (0, None) for m in floor.rt_members(floor.other_ep))
    listed = {a["user_id"]: a for a in cc.get(AGENTS, token=floor.token).json()["data"]}
    assert all(q["paused"] for q in listed[floor.agent["id"]]["queues"])

    assert floor.put(floor.agent["id"], {"state": "on_call"}).status_code == 200
    assert all(m["paused"] == 1 for m in floor.rt_members(floor.ep))     # left alone
    assert floor.put(floor.agent["id"], {"state": "available"}).status_code == 200
    assert all(m["paused"] == 0 and m["reason_paused"] is None
               for m in floor.rt_members(floor.ep))
    assert floor.put(floor.agent["id"], {"state": "offline"}).status_code == 200
    assert all(m["paused"] == 1 and m["reason_paused"] == "offline"
               for m in floor.rt_members(floor.ep))
    # A reason with ';' is stored as Asterisk's realtime drivers read it back.
    assert floor.put(floor.agent["id"], {"state": "break", "reason": "a;b"}).status_code == 200
    assert {m["reason_paused"] for m in floor.rt_members(floor.ep)} == {"a^3Bb"}
    assert cc.get(state_path(floor.agent["id"]), token=floor.token).json()["reason"] == "a;b"


def test_each_change_is_audited_and_an_event(cc, tenant, floor):
    uid = floor.agent["id"]
    floor.put(uid, {"state": "available"})
    floor.put(uid, {"state": "break", "reason": "Coffee"}, token=floor.sup_token)
    audit = db_rows(cc, "SELECT action, actor_id, changes FROM audit_logs WHERE tenant_id = %s"
                        " AND entity_type = 'agent' AND entity_id = %s ORDER BY id",
                    (tenant.id, str(uid)))
    assert [a["action"] for a in audit] == ["agent.state_change"] * 2
    assert str(audit[1]["actor_id"]) == str(floor.sup["id"])
    events = db_rows(cc, "SELECT type, data FROM events WHERE tenant_id = %s"
                         " AND type = 'agent.state_changed' ORDER BY id", (tenant.id,))
    assert len(events) == 2 and '"Coffee"' in events[1]["data"]


def test_the_same_state_again_changes_nothing(cc, tenant, floor):
    uid = floor.agent["id"]
    first = floor.put(uid, {"state": "available"}).json()
    again = floor.put(uid, {"state": "available", "reason": None})
    assert again.status_code == 200 and again.json() == first
    assert len(db_rows(cc, "SELECT id FROM agent_states WHERE user_id = %s", (uid,))) == 1
    # The first offline of an agent without a state is a change (it starts the clock).
    r = floor.put(floor.other["id"], {"state": "offline"}, token=floor.other_token)
    assert r.status_code == 200 and r.json()["since"] is not None


def test_own_state_needs_agents_read_anyone_elses_agents_manage(cc, tenant, floor):
    other = floor.other["id"]
    assert floor.put(other, {"state": "available"}).status_code == 403
    assert cc.get(state_path(other), token=floor.token).status_code == 403
    assert cc.get(f"{AGENTS}/{other}/state-history", token=floor.token).status_code == 403
    assert floor.put(other, {"state": "available"}, token=floor.sup_token).status_code == 200
    assert cc.get(state_path(other), token=floor.sup_token).json()["state"] == "available"
    nobody = token_with_permissions(cc, tenant, "noagents", ["users.read"])
    assert cc.get(AGENTS, token=nobody).status_code == 403
    assert cc.get(f"{AGENTS}/stats", token=nobody).status_code == 403
    assert cc.get("/api/v1/wallboard", token=nobody).status_code == 403
    assert floor.put(floor.agent["id"], {"state": "break"}, token=nobody).status_code == 403


def test_another_tenants_agent_and_unknown_ids_are_404(cc, tenant, tenant2, floor):
    theirs = Floor(cc, tenant2)
    for uid in (theirs.agent["id"], 999999999):
        assert floor.put(uid, {"state": "break"}, token=floor.sup_token).status_code == 404
        assert cc.get(state_path(uid), token=floor.sup_token).status_code == 404
        assert cc.get(f"{AGENTS}/{uid}/state-history",
                      token=floor.sup_token).status_code == 404
    assert all(m["paused"] in (0, None) for m in theirs.rt_members(theirs.ep))
    # A deleted user is no agent any more.
    assert cc.delete(f"/api/v1/users/{floor.other['id']}",
                     token=tenant.admin_token).status_code == 204
    assert floor.put(floor.other["id"], {"state": "break"},
                     token=floor.sup_token).status_code == 404
    assert floor.other["id"] not in [a["user_id"] for a in
                                     cc.get(AGENTS, token=floor.token).json()["data"]]


@pytest.mark.parametrize("body, fields", [
    ({"state": "lunch"}, ["state"]),
    ({"state": None}, ["state"]),
    ({}, ["state"]),
    ({"state": 3}, ["state"]),
    ({"state": "available", "reason": "x"}, ["reason"]),
    ({"state": "break", "reason": 7}, ["reason"]),
    ({"state": "break", "reason": "x" * 81}, ["reason"]),
    ({"state": "break", "reason": "tab\there"}, ["reason"]),
    ({"state": "break", "tenant_id": "x"}, ["tenant_id"]),
])
def test_bad_bodies_are_400_and_change_nothing(cc, floor, body, fields):
    r = floor.put(floor.agent["id"], body)
    assert r.status_code == 400, r.text
    assert sorted(d["field"] for d in r.json()["details"]) == sorted(fields)
    assert db_rows(cc, "SELECT id FROM agent_states WHERE user_id = %s",
                   (floor.agent["id"],)) == []


def test_malformed_json_and_bad_utf8_are_400(cc, floor):
    for raw in (b"{", b'{"state": "break", "reason": "\xff"}', b"[]"):
        r = cc.put(state_path(floor.agent["id"]), token=floor.token, data=raw,
                   headers={"Content-Type": "application/json"})
        assert r.status_code == 400, raw


def test_pause_reasons_once_set_are_the_only_break_reasons(cc, tenant, floor):
    path = f"{AGENTS}/pause-reasons"
    assert cc.get(path, token=floor.sup_token).json() == {"reasons": []}
    # API.md: the list is agents.manage's, to read and to write.
    assert cc.get(path, token=floor.token).status_code == 403
    assert cc.put(path, token=floor.token, json={"reasons": ["Lunch"]}).status_code == 403
    r = cc.put(path, token=floor.sup_token, json={"reasons": ["Lunch", "Training"]})
    assert r.status_code == 200 and r.json() == {"reasons": ["Lunch", "Training"]}
    assert cc.get(path, token=floor.sup_token).json() == {"reasons": ["Lunch", "Training"]}
    uid = floor.agent["id"]
    r = floor.put(uid, {"state": "break", "reason": "Smoking"})
    assert r.status_code == 400 and r.json()["details"][0]["field"] == "reason"
    assert "Lunch, Training" in r.json()["details"][0]["issue"]     # an agent learns them
    assert floor.put(uid, {"state": "break"}).status_code == 400
    r = floor.put(uid, {"state": "break", "reason": "lunch"})
    assert r.status_code == 200 and r.json()["reason"] == "Lunch"      # the list's spelling
    assert floor.put(uid, {"state": "offline", "reason": "anything"}).status_code == 200
    for bad in ({"reasons": ["A", "a"]}, {"reasons": [""]}, {"reasons": "Lunch"}, {},
                {"reasons": [f"r{i}" for i in range(51)]}):
        assert cc.put(path, token=floor.sup_token, json=bad).status_code == 400, bad
    assert cc.get(path, token=floor.sup_token).json() == {"reasons": ["Lunch", "Training"]}
    assert cc.put(path, token=floor.sup_token, json={"reasons": []}).status_code == 200
    assert floor.put(uid, {"state": "break", "reason": "Smoking"}).status_code == 200
    other = cc.get(path, token=tenant.admin_token)
    assert other.json() == {"reasons": []}


def put_periods(cc, tenant, uid, periods):
    """agent_states rows as (state, reason, start, end) with times as text."""
    for state, reason, start, end in periods:
        db_exec(cc, "INSERT INTO agent_states (tenant_id, user_id, state, reason, started_at,"
                    " ended_at) VALUES (%s, %s, %s, %s, %s, %s)",
                (tenant.id, uid, state, reason, start, end))


def test_history_lists_the_periods_of_the_window(cc, tenant, floor):
    uid = floor.agent["id"]
    put_periods(cc, tenant, uid, [
        ("available", None, "2026-11-20 08:00:00", "2026-11-20 09:00:00"),
        ("break", "Lunch", "2026-11-20 09:00:00", "2026-11-20 09:30:00"),
        ("available", None, "2026-11-20 09:30:00", "2026-11-21 08:00:00"),
    ])
    r = cc.get(f"{AGENTS}/{uid}/state-history", token=floor.token,
               params={"from": "2026-11-20T08:30:00Z", "to": "2026-11-20T10:00:00Z"})
    assert r.status_code == 200, r.text
    assert r.json()["data"] == [
        {"state": "available", "reason": None, "from": "2026-11-20T08:00:00Z",
         "to": "2026-11-20T09:00:00Z", "seconds": 3600},
        {"state": "break", "reason": "Lunch", "from": "2026-11-20T09:00:00Z",
         "to": "2026-11-20T09:30:00Z", "seconds": 1800},
        {"state": "available", "reason": None, "from": "2026-11-20T09:30:00Z",
         "to": "2026-11-21T08:00:00Z", "seconds": 81000}]
    floor.put(uid, {"state": "break", "reason": "now"})
    data = cc.get(f"{AGENTS}/{uid}/state-history", token=floor.token).json()["data"]
    assert data[-1]["to"] is None and data[-1]["state"] == "break"
    assert 0 <= data[-1]["seconds"] < 60
    bad = cc.get(f"{AGENTS}/{uid}/state-history", token=floor.token,
                 params={"from": "yesterday"})
    assert bad.status_code == 400 and bad.json()["details"][0]["field"] == "from"


def test_stats_sum_seconds_per_state_and_break_reason_in_the_window(cc, tenant, tenant2,
                                                                    floor):
    uid, other = floor.agent["id"], floor.other["id"]
    put_periods(cc, tenant, uid, [
        ("available", None, "2026-11-20 07:00:00", "2026-11-20 09:00:00"),
        ("break", "Lunch", "2026-11-20 09:00:00", "2026-11-20 09:30:00"),
        ("break", None, "2026-11-20 09:30:00", "2026-11-20 09:40:00"),
        ("on_call", None, "2026-11-20 09:40:00", "2026-11-20 12:00:00"),
    ])
    put_periods(cc, tenant, other, [
        ("break", "Lunch", "2026-11-20 08:00:00", "2026-11-20 08:20:00")])
    put_periods(cc, tenant2, other, [                     # another tenant's rows
        ("break", "Lunch", "2026-11-20 08:00:00", "2026-11-20 11:00:00")])
    r = cc.get(f"{AGENTS}/stats", token=floor.token,
               params={"from": "2026-11-20T08:00:00Z", "to": "2026-11-20T10:00:00Z"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["from"] == "2026-11-20T08:00:00Z" and body["to"] == "2026-11-20T10:00:00Z"
    by_id = {a["user_id"]: a for a in body["data"]}
    assert by_id[uid]["seconds"] == {"offline": 0, "available": 3600, "on_call": 1200,
                                     "wrap_up": 0, "break": 2400}
    assert by_id[uid]["break_reasons"] == [{"reason": "Lunch", "seconds": 1800},
                                           {"reason": None, "seconds": 600}]
    assert by_id[other]["seconds"]["break"] == 1200
    assert by_id[uid]["name"] == floor.agent["name"]


def test_concurrent_changes_keep_one_current_state(cc, tenant, floor):
    uid = floor.agent["id"]
    states = ["available", "break", "offline", "on_call", "wrap_up"] * 4
    codes = []

    def go(s):
        codes.append(floor.put(uid, {"state": s}, token=floor.sup_token).status_code)

    threads = [threading.Thread(target=go, args=(s,)) for s in states]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert set(codes) == {200}
    rows = db_rows(cc, "SELECT state, started_at, ended_at FROM agent_states"
                       " WHERE user_id = %s ORDER BY id", (uid,))
    assert [r["ended_at"] is None for r in rows].count(True) == 1 and rows[-1]["ended_at"] is None
    for a, b in zip(rows, rows[1:]):                      # each period ends as the next starts
        assert a["ended_at"] == b["started_at"] and a["state"] != b["state"]
    current = cc.get(state_path(uid), token=floor.token).json()
    assert current["state"] == rows[-1]["state"]


def test_every_answer_matches_the_openapi_document(cc, tenant, floor):
    check = openapi_checker(cc)
    uid = floor.agent["id"]
    check(floor.put(uid, {"state": "break", "reason": "Lunch"}), "PUT",
          f"{AGENTS}/{{user_id}}/state", 200)
    check(cc.get(state_path(uid), token=floor.token), "GET", f"{AGENTS}/{{user_id}}/state",
          200)
    check(cc.get(AGENTS, token=floor.token), "GET", AGENTS, 200)
    check(cc.get(f"{AGENTS}/{uid}/state-history", token=floor.token), "GET",
          f"{AGENTS}/{{user_id}}/state-history", 200)
    check(cc.get(f"{AGENTS}/stats", token=floor.token), "GET", f"{AGENTS}/stats", 200)
    check(cc.put(f"{AGENTS}/pause-reasons", token=floor.sup_token,
                 json={"reasons": ["Lunch"]}), "PUT", f"{AGENTS}/pause-reasons", 200)
    check(cc.get(f"{AGENTS}/pause-reasons", token=floor.sup_token), "GET",
          f"{AGENTS}/pause-reasons", 200)
    check(cc.get("/api/v1/wallboard", token=floor.token, params={"tz": "Europe/Berlin"}),
          "GET", "/api/v1/wallboard", 200)
    check(floor.put(uid, {"state": "nope"}), "PUT", f"{AGENTS}/{{user_id}}/state", 400)
    check(floor.put(floor.other["id"], {"state": "available"}), "PUT",
          f"{AGENTS}/{{user_id}}/state", 403)


def test_a_deleted_users_state_stops_counting(cc, tenant, floor):
    uid = floor.other["id"]
    put_periods(cc, tenant, uid, [("available", None, "2026-11-20 08:00:00", None)])
    assert cc.delete(f"/api/v1/users/{uid}", token=tenant.admin_token).status_code == 204
    rows = db_rows(cc, "SELECT ended_at FROM agent_states WHERE user_id = %s", (uid,))
    assert len(rows) == 1 and rows[0]["ended_at"] is not None
    later = (datetime.utcnow() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = cc.get(f"{AGENTS}/stats", token=floor.token,
               params={"from": later, "to": (datetime.utcnow() + timedelta(hours=2))
                       .strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert uid not in [a["user_id"] for a in r.json()["data"]]


def test_a_new_membership_follows_the_agents_pause(cc, tenant, floor):
    """An agent on break who joins a queue joins it paused (with the reason), unless the
    body says otherwise; an agent without a state of its own joins unpaused."""
    def join(ep, body=None):
        q = floor.post("/api/v1/queues", {"name": uniq_name("Late")})
        m = floor.post(f"/api/v1/queues/{q['id']}/members", {"endpoint_id": ep["id"],
                                                              **(body or {})})
        row = db_rows(cc, "SELECT qm.paused, qm.reason_paused FROM queue_members qm"
                          " JOIN call_queues cq ON cq.asterisk_name = qm.queue_name"
                          " JOIN endpoints e ON qm.interface = CONCAT('PJSIP/', e.asterisk_id)"
                          " WHERE cq.id = %s AND e.id = %s", (q["id"], ep["id"]))[0]
        return m, row

    m, row = join(floor.other_ep)                         # no state yet
    assert m["paused"] is False and row["paused"] == 0
    assert floor.put(floor.agent["id"], {"state": "break", "reason": "Lunch"}).status_code == 200
    m, row = join(floor.ep)
    assert m["paused"] is True and m["paused_reason"] == "Lunch"
    assert (row["paused"], row["reason_paused"]) == (1, "Lunch")
    m, row = join(floor.ep, {"paused": False})            # the body decides
    assert m["paused"] is False and row["paused"] == 0
    assert floor.put(floor.agent["id"], {"state": "available"}).status_code == 200
    m, row = join(floor.ep)
    assert m["paused"] is False and row["paused"] == 0
