"""Outbound webhooks (issue 16; API.md "Platform features", README "Webhooks",
mod_cc_chat/cc_webhooks.c and cc_webhooks_job.c, sql/028).

Subscriptions CRUD (tenant administrators), signed deliveries to a fake receiver on
loopback (t/integration/fakehook.py) that fails, times out and recovers: nothing lost,
every event after the one before it, and nothing delivered twice in a row without a
failure between; dead letters, disabling after failing too long, replay, SSRF refusal
at save and at connection, tenant isolation and RBAC.

The test profile's timings (t/env/render-conf.sh): CCWebhookTimeout 2, RetryBase 1,
RetryMax 2, RetryFor 10, DisableAfter 25; the job runs every 250 ms in each child;
CCWebhookAllowNetworks 127.0.0.0/8.
"""

import secrets
import time

import pytest

from cchelpers import assert_error, db_exec, db_rows, metric, metrics, wait_until
from fakehook import FakeReceiver, signature

HOOKS = "/api/v1/webhooks"
DIDS = "/api/v1/dids"


@pytest.fixture(scope="module")
def receiver():
    r = FakeReceiver()
    yield r
    r.close()


def new_path():
    return "/h/" + secrets.token_hex(6)


def number():
    return "+1558" + str(secrets.randbelow(10**7)).zfill(7)


def subscribe(cc, tenant, receiver, events=("did.*",), path=None, **more):
    path = path or new_path()
    r = cc.post(HOOKS, token=tenant.admin_token,
                json={"url": receiver.url(path), "events": list(events), **more})
    assert r.status_code == 201, r.text
    return path, r.json()


def make_did(cc, tenant):
    r = cc.post(DIDS, token=tenant.admin_token, json={"number": number()})
    assert r.status_code == 201, r.text
    return r.json()


def did_events(cc, tenant, did_ids):
    """The ids of the did.created events of these DIDs, in id order."""
    rows = db_rows(cc, "SELECT id, entity_id FROM events WHERE tenant_id = %s AND type ="
                   " 'did.created' ORDER BY id", (tenant.id,))
    wanted = {str(i) for i in did_ids}
    return [r["id"] for r in rows if str(r["entity_id"]) in wanted]


def delivered_ids(receiver, path):
    """Event ids of the calls to path that were answered 2xx, in order."""
    return [int(r["body"]["id"]) for r in receiver.at(path)
            if r["answered"] is not None and 200 <= r["answered"] < 300]


def wait_delivered(receiver, path, want, timeout=15):
    """Wait until the 2xx-answered calls to path are exactly want (event ids)."""
    got = wait_until(lambda: delivered_ids(receiver, path) == want, timeout=timeout)
    assert got, (delivered_ids(receiver, path), want,
                 [(c["body"]["id"], c["step"]) for c in receiver.at(path)])


def settled(cc, tenant, hook_id):
    """The subscription once it has passed the tenant's events so far (its own creation's
    among them): its representation, and so its ETag, stays put until the next event."""
    newest = db_rows(cc, "SELECT MAX(id) AS n FROM events WHERE tenant_id = %s",
                     (tenant.id,))[0]["n"]
    got = wait_until(lambda: (lambda h: h if h["last_event_id"] >= newest else None)(
        cc.get(f"{HOOKS}/{hook_id}", token=tenant.admin_token).json()), timeout=10)
    assert got, newest
    return got


def assert_order(receiver, path):
    """Calls to path only go forward, and one event is called again only after a
    failed call (a non-2xx answer or none)."""
    calls = receiver.at(path)
    for a, b in zip(calls, calls[1:]):
        ia, ib = int(a["body"]["id"]), int(b["body"]["id"])
        assert ib >= ia, (ia, ib)
        if ib == ia:
            assert a["answered"] is None or not 200 <= a["answered"] < 300, \
                f"event {ia} delivered twice in a row without a failure between"


def deliveries(cc, tenant, hook_id, query=""):
    r = cc.get(f"{HOOKS}/{hook_id}/deliveries?page_size=100{query}", token=tenant.admin_token)
    assert r.status_code == 200, r.text
    return r.json()["data"]


# ---- subscriptions ----

def test_crud_and_the_secret_shown_once(cc, tenant, receiver):
    r = cc.post(HOOKS, token=tenant.admin_token,
                json={"url": receiver.url("/h/crud"), "events": ["did.*", "ticket.created"],
                      "description": "CRM"})
    assert r.status_code == 201, r.text
    hook = r.json()
    assert r.headers["Location"] == f"{HOOKS}/{hook['id']}"
    assert hook["secret"].startswith("whsec_") and len(hook["secret"]) > 40
    assert hook["events"] == ["did.*", "ticket.created"]
    assert hook["status"] == "active" and hook["disabled_reason"] is None
    assert hook["description"] == "CRM" and hook["failed_attempts"] == 0
    got = cc.get(f"{HOOKS}/{hook['id']}", token=tenant.admin_token)
    assert got.status_code == 200 and "secret" not in got.json()
    assert got.json()["last_event_id"] >= hook["last_event_id"]
    listed = cc.get(HOOKS, token=tenant.admin_token).json()
    assert [h["id"] for h in listed["data"]] == [hook["id"]] and listed["total"] == 1
    assert "secret" not in listed["data"][0]
    # A secret given is never echoed; changing it is audited without its value.
    r = cc.patch(f"{HOOKS}/{hook['id']}", token=tenant.admin_token,
                 json={"secret": "s" * 20, "description": None})
    assert r.status_code == 200 and "secret" not in r.json(), r.text
    assert r.json()["description"] is None
    rows = db_rows(cc, "SELECT action, changes FROM audit_logs WHERE tenant_id = %s AND"
                   " entity_type = 'webhook' ORDER BY id", (tenant.id,))
    assert [x["action"] for x in rows] == ["webhook.create", "webhook.update"]
    assert "s" * 20 not in str(rows) and hook["secret"] not in str(rows)
    # The URL's path and query (a receiver's credential, often) stay out of the audit
    # entries and the events, which other readers and receivers see.
    assert "/h/crud" not in str(rows) and f"127.0.0.1:{receiver.port}/..." in str(rows)
    data = db_rows(cc, "SELECT data FROM events WHERE tenant_id = %s AND type LIKE"
                   " 'webhook.%%'", (tenant.id,))
    assert len(data) == 2 and "/h/crud" not in str(data) and "secret" not in str(data)
    r = cc.post(HOOKS, token=tenant.admin_token,
                json={"url": receiver.url("/h/crud2"), "events": ["*"], "secret": "x" * 16})
    assert r.status_code == 201 and "secret" not in r.json()
    assert db_rows(cc, "SELECT secret FROM webhooks WHERE id = %s",
                   (r.json()["id"],))[0]["secret"] == "x" * 16
    assert cc.get(HOOKS + "?status=disabled", token=tenant.admin_token).json()["total"] == 0
    assert cc.delete(f"{HOOKS}/{hook['id']}", token=tenant.admin_token).status_code == 204
    assert cc.get(f"{HOOKS}/{hook['id']}", token=tenant.admin_token).status_code == 404
    assert cc.delete(f"{HOOKS}/{hook['id']}", token=tenant.admin_token).status_code == 404


@pytest.mark.parametrize("body,field", [
    ({"events": ["*"]}, "url"),
    ({"url": "ftp://127.0.0.1/x", "events": ["*"]}, "url"),
    ({"url": "http://u:p@127.0.0.1/x", "events": ["*"]}, "url"),
    ({"url": "http://127.0.0.1/x#frag", "events": ["*"]}, "url"),
    ({"url": "http://127.0.0.1/a b", "events": ["*"]}, "url"),
    ({"url": "http:///nohost", "events": ["*"]}, "url"),
    ({"url": "http://127.0.0.1/" + "a" * 2100, "events": ["*"]}, "url"),
    ({"url": 5, "events": ["*"]}, "url"),
    ({"url": "http://127.0.0.1/x"}, "events"),
    ({"url": "http://127.0.0.1/x", "events": []}, "events"),
    ({"url": "http://127.0.0.1/x", "events": ["nope.*"]}, "events"),
    ({"url": "http://127.0.0.1/x", "events": ["tenant.*"]}, "events"),
    ({"url": "http://127.0.0.1/x", "events": ["DID.created"]}, "events"),
    ({"url": "http://127.0.0.1/x", "events": ["did."]}, "events"),
    ({"url": "http://127.0.0.1/x", "events": ["did.*.x", "*"]}, "events"),
    ({"url": "http://127.0.0.1/x", "events": ["*"] * 51}, "events"),
    ({"url": "http://127.0.0.1/x", "events": "did.*"}, "events"),
    ({"url": "http://127.0.0.1/x", "events": ["*"], "secret": "short"}, "secret"),
    ({"url": "http://127.0.0.1/x", "events": ["*"], "secret": "with space" * 3}, "secret"),
    ({"url": "http://127.0.0.1/x", "events": ["*"], "status": "paused"}, "status"),
    ({"url": "http://127.0.0.1/x", "events": ["*"], "description": "d" * 501},
     "description"),
    ({"url": "http://127.0.0.1/x", "events": ["*"], "tenant_id": "x"}, "tenant_id"),
])
def test_bad_bodies_are_400_and_create_nothing(cc, tenant, body, field):
    assert_error(cc.post(HOOKS, token=tenant.admin_token, json=body), 400,
                 "invalid_request", field)
    assert cc.get(HOOKS, token=tenant.admin_token).json()["total"] == 0


@pytest.mark.parametrize("url", [
    "http://10.0.0.1/x", "http://169.254.169.254/latest/meta-data", "http://192.168.1.1/",
    "http://172.16.5.4/", "http://100.64.0.1/", "http://0.0.0.0:8080/", "http://[::1]/",
    "http://[fe80::1]/", "http://[fd00::1]/", "http://[::ffff:10.0.0.1]/",
    "http://[64:ff9b::a00:1]/", "http://[2002:a00:1::]/", "http://224.0.0.1/",
])
def test_urls_reaching_special_addresses_are_refused(cc, tenant, url):
    r = cc.post(HOOKS, token=tenant.admin_token, json={"url": url, "events": ["*"]})
    assert_error(r, 400, "invalid_request", "url")
    assert "CCWebhookAllowNetworks" in r.text


def test_allowed_networks_and_mapped_loopback_are_accepted(cc, tenant):
    for url in ("http://127.0.0.1:9/x", "http://[::ffff:127.0.0.1]:9/x",
                "https://127.0.0.2/x?token=a%20b"):
        r = cc.post(HOOKS, token=tenant.admin_token, json={"url": url, "events": ["*"]})
        assert r.status_code == 201, (url, r.text)
        # Nothing listens there: gone before its failures could disable it mid-suite.
        assert cc.delete(f"{HOOKS}/{r.json()['id']}", token=tenant.admin_token).status_code \
            == 204


def test_a_special_address_is_refused_at_connection_too(cc, tenant, receiver):
    """A name may resolve elsewhere after the save (DNS rebinding): the job checks the
    address of every connection, so a subscription whose URL now reaches 10/8 is never
    connected to."""
    path, hook = subscribe(cc, tenant, receiver, events=["did.created"])
    db_exec(cc, "UPDATE webhooks SET url = 'http://10.255.255.1:9/x' WHERE id = %s",
            (hook["id"],))
    make_did(cc, tenant)
    rows = wait_until(lambda: deliveries(cc, tenant, hook["id"]), timeout=15)
    assert rows
    assert rows[-1]["status"] == "failed" and rows[-1]["http_status"] is None
    assert "special-purpose" in rows[-1]["error"] and rows[-1]["duration_ms"] < 1000
    assert receiver.at(path) == []
    assert cc.delete(f"{HOOKS}/{hook['id']}", token=tenant.admin_token).status_code == 204


def test_quota_per_tenant(cc, tenant):
    for i in range(20):
        r = cc.post(HOOKS, token=tenant.admin_token,      # disabled ones count too
                    json={"url": f"http://127.0.0.1:9/q{i}", "events": ["*"],
                          "status": "disabled"})
        assert r.status_code == 201, r.text
    r = cc.post(HOOKS, token=tenant.admin_token,
                json={"url": "http://127.0.0.1:9/q", "events": ["*"]})
    assert_error(r, 409, "quota_exceeded")
    assert cc.get(HOOKS + "?status=disabled", token=tenant.admin_token).json()["total"] == 20


def test_rbac_and_tenant_isolation(cc, tenant, tenant2, receiver):
    path, hook = subscribe(cc, tenant, receiver)
    one = f"{HOOKS}/{hook['id']}"
    _, agent = tenant.make_user(roles=["supervisor"])
    for method, url, body in (("get", HOOKS, None),
                              ("post", HOOKS, {"url": "http://127.0.0.1:9/", "events": ["*"]}),
                              ("get", one, None), ("patch", one, {"description": "x"}),
                              ("delete", one, None), ("get", one + "/deliveries", None),
                              ("post", one + "/replay", {"from_event_id": 1})):
        kw = {"json": body} if body is not None else {}
        assert getattr(cc, method)(url, token=agent, **kw).status_code == 403, (method, url)
        if url != HOOKS:
            assert_error(getattr(cc, method)(url, token=tenant2.admin_token, **kw), 404,
                         "not_found")
    assert cc.get(HOOKS, token=tenant2.admin_token).json()["total"] == 0
    # Another tenant's events never reach this tenant's subscription.
    make_did(cc, tenant2)
    mine = make_did(cc, tenant)
    want = did_events(cc, tenant, [mine["id"]])
    wait_delivered(receiver, path, want)
    time.sleep(1.5)
    assert delivered_ids(receiver, path) == want
    assert all(r["body"]["tenant_id"] == tenant.id for r in receiver.at(path))
    assert cc.get(one, token=tenant.admin_token).json()["description"] is None


# ---- deliveries ----

def test_a_delivery_is_the_event_signed(cc, tenant, receiver):
    secret = "k" * 32
    path, hook = subscribe(cc, tenant, receiver, events=["did.created"], secret=secret)
    did = make_did(cc, tenant)
    [eid] = did_events(cc, tenant, [did["id"]])
    req = wait_until(lambda: receiver.at(path), timeout=15)[0]
    h = req["headers"]
    assert h["Content-Type"] == "application/json"
    assert h["User-Agent"] == "callcenter-webhooks/1"
    assert h["X-CC-Webhook-Id"] == str(hook["id"])
    assert h["X-CC-Event-Id"] == str(eid) and h["X-CC-Event-Type"] == "did.created"
    assert h["X-CC-Delivery-Attempt"] == "1"
    assert abs(int(h["X-CC-Timestamp"]) - time.time()) < 30
    assert h["X-CC-Signature"] == signature(secret, h["X-CC-Timestamp"], req["raw"])
    ev = req["body"]
    assert ev["id"] == eid and ev["type"] == "did.created" and ev["tenant_id"] == tenant.id
    assert ev["entity_type"] == "did" and ev["entity_id"] == str(did["id"])
    assert ev["data"]["number"] == did["number"]
    # The same object as the event stream's.
    stream = cc.get(f"/api/v1/events?after={eid - 1}&limit=1",
                    token=tenant.admin_token).json()["data"][0]
    assert stream == ev
    rows = wait_until(lambda: deliveries(cc, tenant, hook["id"]), timeout=5)
    assert rows[0]["event_id"] == eid and rows[0]["status"] == "delivered"
    assert rows[0]["http_status"] == 204 and rows[0]["attempt"] == 1
    got = cc.get(f"{HOOKS}/{hook['id']}", token=tenant.admin_token).json()
    assert got["last_event_id"] >= eid and got["last_success_at"] is not None


def test_failures_timeouts_and_recovery_lose_nothing(cc, tenant, receiver):
    path = new_path()
    receiver.script(path, ["500", "slow:3", "ok", "302", "ok"])
    before = metrics(cc)
    path, hook = subscribe(cc, tenant, receiver, path=path)
    dids = [make_did(cc, tenant) for _ in range(6)]
    want = did_events(cc, tenant, [d["id"] for d in dids])
    wait_delivered(receiver, path, want, timeout=40)
    assert_order(receiver, path)
    calls = receiver.at(path)
    assert [int(c["body"]["id"]) for c in calls[:3]] == [want[0]] * 3
    assert [c["headers"]["X-CC-Delivery-Attempt"] for c in calls[:3]] == ["1", "2", "3"]
    rows = deliveries(cc, tenant, hook["id"], "&sort=id")
    assert [r["status"] for r in rows[:5]] == ["failed", "failed", "delivered", "failed",
                                               "delivered"]
    assert rows[0]["http_status"] == 500 and rows[0]["error"] == "HTTP 500"
    assert rows[1]["http_status"] is None and "timed out" in rows[1]["error"]
    assert rows[3]["http_status"] == 302      # a redirect is not followed: a failure
    failed = deliveries(cc, tenant, hook["id"], "&status=failed")
    assert len(failed) == 3 and all(r["status"] == "failed" for r in failed)
    only = deliveries(cc, tenant, hook["id"], f"&event_id={want[0]}")
    assert len(only) == 3
    got = cc.get(f"{HOOKS}/{hook['id']}", token=tenant.admin_token).json()
    assert got["failed_attempts"] == 0 and got["failing_since"] is None
    assert got["last_error"] == "HTTP 302"
    after = metrics(cc)
    for outcome, n in (("delivered", 6), ("failed", 3)):
        assert (metric(after, "cc_webhook_deliveries_total", outcome=outcome)
                - metric(before, "cc_webhook_deliveries_total", outcome=outcome)) >= n


def test_a_dead_letter_then_the_next_event(cc, tenant, receiver):
    path = new_path()
    receiver.script(path, ["500"])
    path, hook = subscribe(cc, tenant, receiver, events=["did.created"], path=path)
    first = make_did(cc, tenant)
    [e1] = did_events(cc, tenant, [first["id"]])
    dead = wait_until(lambda: deliveries(cc, tenant, hook["id"], "&status=dead"),
                      timeout=30)
    assert dead
    assert dead[0]["event_id"] == e1 and dead[0]["error"] == "HTTP 500"
    calls = receiver.at(path)
    assert len(calls) >= 3 and all(int(c["body"]["id"]) == e1 for c in calls)
    receiver.script(path, ["ok"])
    second = make_did(cc, tenant)
    [e2] = did_events(cc, tenant, [second["id"]])
    wait_delivered(receiver, path, [e2])
    assert_order(receiver, path)
    # The dead letter is sent again by a replay from it.
    r = cc.post(f"{HOOKS}/{hook['id']}/replay", token=tenant.admin_token,
                json={"from_event_id": e1})
    assert r.status_code == 202 and r.json()["last_event_id"] == e1 - 1, r.text
    wait_delivered(receiver, path, [e2, e1, e2])


def test_a_delete_during_a_call(cc, tenant, receiver):
    """The run in flight finds its subscription gone at its next write, and stops: no
    error, no row left (the log row's foreign key is never tried)."""
    path = new_path()
    receiver.script(path, ["slow:1"])
    path, hook = subscribe(cc, tenant, receiver, path=path)
    make_did(cc, tenant)
    assert wait_until(lambda: receiver.at(path), timeout=10)
    assert cc.delete(f"{HOOKS}/{hook['id']}", token=tenant.admin_token).status_code == 204
    time.sleep(2)
    assert db_rows(cc, "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = %s",
                   (hook["id"],))[0]["n"] == 0
    assert len(receiver.at(path)) == 1


def test_a_patch_during_a_call_waits_for_it(cc, tenant, receiver):
    """A change of patterns ends the run in flight, but the lease stays until that run's
    call is over: the next claim never calls alongside it."""
    path = new_path()
    receiver.script(path, ["delay:1", "ok"])
    path, hook = subscribe(cc, tenant, receiver, path=path)
    dids = [make_did(cc, tenant) for _ in range(2)]
    want = did_events(cc, tenant, [d["id"] for d in dids])
    assert wait_until(lambda: receiver.at(path), timeout=10)
    r = cc.patch(f"{HOOKS}/{hook['id']}", token=tenant.admin_token,
                 json={"events": ["did.created", "did.updated"]})
    assert r.status_code == 200, r.text
    wait_delivered(receiver, path, want)
    calls = receiver.at(path)
    # The second call starts after the first was answered, never during it.
    assert calls[1]["at"] >= calls[0]["at"] + 0.9, [(c["body"]["id"], c["at"]) for c in calls]
    assert_order(receiver, path)


def test_replay(cc, tenant, receiver):
    path, hook = subscribe(cc, tenant, receiver)
    dids = [make_did(cc, tenant) for _ in range(3)]
    want = did_events(cc, tenant, [d["id"] for d in dids])
    wait_delivered(receiver, path, want)
    one = f"{HOOKS}/{hook['id']}"
    last = cc.get(one, token=tenant.admin_token).json()["last_event_id"]
    r = cc.post(one + "/replay", token=tenant.admin_token, json={"from_event_id": last + 2})
    assert_error(r, 409, "conflict")
    for bad in ({"from_event_id": 0}, {"from_event_id": "1"}, {}, {"from_event_id": 1,
                                                                  "x": 1}):
        assert_error(cc.post(one + "/replay", token=tenant.admin_token, json=bad), 400,
                     "invalid_request")
    r = cc.post(one + "/replay", token=tenant.admin_token, json={"from_event_id": want[1]})
    assert r.status_code == 202, r.text
    wait_delivered(receiver, path, want + want[1:])
    assert db_rows(cc, "SELECT COUNT(*) AS n FROM audit_logs WHERE tenant_id = %s AND"
                   " action = 'webhook.replay'", (tenant.id,))[0]["n"] == 1


@pytest.mark.allow_log("CC04003")
def test_failing_too_long_disables_then_enabling_resumes(cc, tenant, receiver):
    path = new_path()
    receiver.script(path, ["500"])
    path, hook = subscribe(cc, tenant, receiver, events=["did.created"], path=path)
    dids = [make_did(cc, tenant) for _ in range(5)]
    want = did_events(cc, tenant, [d["id"] for d in dids])
    one = f"{HOOKS}/{hook['id']}"
    got = wait_until(lambda: (lambda h: h if h["status"] == "disabled" else None)(
        cc.get(one, token=tenant.admin_token).json()), timeout=60)
    assert got, cc.get(one, token=tenant.admin_token).json()
    assert "without a delivery" in got["disabled_reason"]
    assert got["failing_since"] is not None
    assert db_rows(cc, "SELECT actor_type FROM audit_logs WHERE tenant_id = %s AND action ="
                   " 'webhook.disable'", (tenant.id,)) == [{"actor_type": "system"}]
    assert db_rows(cc, "SELECT COUNT(*) AS n FROM events WHERE tenant_id = %s AND type ="
                   " 'webhook.disabled'", (tenant.id,))[0]["n"] == 1
    dead = {r["event_id"] for r in deliveries(cc, tenant, hook["id"], "&status=dead")}
    assert dead and dead < set(want)
    n = len(receiver.at(path))
    time.sleep(2.5)
    assert len(receiver.at(path)) == n          # nothing is called while disabled
    receiver.script(path, ["ok"])
    r = cc.patch(one, token=tenant.admin_token, json={"status": "active"})
    assert r.status_code == 200 and r.json()["disabled_reason"] is None, r.text
    assert r.json()["failed_attempts"] == 0 and r.json()["failing_since"] is None
    rest = [e for e in want if e > max(dead)]
    wait_delivered(receiver, path, rest, timeout=20)
    assert_order(receiver, path)


def test_disabled_by_a_user_and_the_etag(cc, tenant, receiver):
    path, hook = subscribe(cc, tenant, receiver)
    one = f"{HOOKS}/{hook['id']}"
    settled(cc, tenant, hook["id"])
    g = cc.get(one, token=tenant.admin_token)
    etag = g.headers["ETag"]
    assert cc.get(one, token=tenant.admin_token,
                  headers={"If-None-Match": etag}).status_code == 304
    r = cc.patch(one, token=tenant.admin_token, json={"status": "disabled"},
                 headers={"If-Match": etag})
    assert r.status_code == 200 and r.json()["disabled_reason"] == "disabled by a user"
    r = cc.patch(one, token=tenant.admin_token, json={"status": "active"},
                 headers={"If-Match": etag})
    assert_error(r, 412, "precondition_failed")
    make_did(cc, tenant)
    time.sleep(2.5)
    assert receiver.at(path) == []


def test_bad_patches_queries_and_no_token(cc, tenant, receiver):
    path, hook = subscribe(cc, tenant, receiver, events=["did.created"])
    one = f"{HOOKS}/{hook['id']}"
    before = cc.get(one, token=tenant.admin_token).json()
    for body, field in (({"url": "http://10.0.0.1/x"}, "url"), ({"events": []}, "events"),
                        ({"secret": "short"}, "secret"), ({"status": "paused"}, "status"),
                        ({"url": None}, "url"), ({"nope": 1}, "nope")):
        assert_error(cc.patch(one, token=tenant.admin_token, json=body), 400,
                     "invalid_request", field)
    # The job moves last_event_id over the tenant's unsubscribed events (this
    # subscription's own webhook.created among them) at any moment.
    settings = lambda h: {k: v for k, v in h.items() if k != "last_event_id"}
    assert settings(cc.get(one, token=tenant.admin_token).json()) == settings(before)
    assert db_rows(cc, "SELECT COUNT(*) AS n FROM audit_logs WHERE tenant_id = %s AND"
                   " action = 'webhook.update'", (tenant.id,))[0]["n"] == 0
    for query, field in (("?status=bogus", "status"), ("?event_id=x", "event_id"),
                         ("?sort=nope", "sort"), ("?page=0", "page")):
        assert_error(cc.get(f"{one}/deliveries{query}", token=tenant.admin_token), 400,
                     "invalid_request", field)
    assert_error(cc.get(HOOKS + "?status=bogus", token=tenant.admin_token), 400,
                 "invalid_request", "status")
    assert_error(cc.get(f"{HOOKS}/999999999/deliveries", token=tenant.admin_token), 404,
                 "not_found")
    for method, url in (("get", HOOKS), ("post", HOOKS), ("get", one),
                        ("post", one + "/replay")):
        assert getattr(cc, method)(url).status_code == 401, (method, url)
