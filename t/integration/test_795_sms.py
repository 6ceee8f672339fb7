"""SMS (issue 10 item 4): POST/GET /api/v1/sms, the delivery job (retries, backoff, cap,
exactly once with two httpd nodes racing), the signed provider callbacks and the
tenant's callback secret.

The provider is t/integration/fakesms.py on the port the config names
(CCSmsProviderURL); the test profile's job runs every second with CCSmsMaxAttempts 3,
CCSmsRetryBase 1, CCSmsRetryMax 2, CCSmsTimeout 3 (t/env/render-conf.sh).  Each test
uses its own destination numbers, so the provider's per-number scripts and records
never mix between tests.
"""

import hashlib
import hmac
import json
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from cchelpers import (assert_error, db_exec, db_rows, entity_audit, entity_events, metric,
                       metrics)
from ccobjects import new_number
from fakesms import FakeSmsProvider

SMS = "/api/v1/sms"
SETTINGS = "/api/v1/sms/settings"
ROTATE = "/api/v1/sms/settings/rotate-secret"
INBOUND = "/api/v1/hooks/sms/inbound"
STATUS = "/api/v1/hooks/sms/status"
DIDS = "/api/v1/dids"

# The test profile (render-conf.sh / cc-dev.conf.in).
MAX_ATTEMPTS = 3
RETRY_BASE = 1
RETRY_MAX = 2
TIMEOUT = 3


@pytest.fixture(scope="module")
def provider(cc):
    p = FakeSmsProvider(cc.sms_provider_port)
    yield p
    p.close()


def add_did(cc, tenant, status="active"):
    number = new_number()
    r = cc.post(DIDS, token=tenant.admin_token, json={"number": number, "status": status})
    assert r.status_code == 201, r.text
    return number


def send(cc, token, frm, to, body="hello"):
    return cc.post(SMS, token=token, json={"from": frm, "to": to, "body": body})


def send_ok(cc, token, frm, to, body="hello"):
    r = send(cc, token, frm, to, body)
    assert r.status_code == 202, r.text
    msg = r.json()
    assert msg["status"] == "queued" and msg["direction"] == "outbound"
    assert r.headers["Location"] == f"{SMS}/{msg['id']}"
    return msg


def wait_status(cc, token, mid, statuses, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        r = cc.get(f"{SMS}/{mid}", token=token)
        assert r.status_code == 200, r.text
        if r.json()["status"] in statuses:
            return r.json()
        assert time.monotonic() < deadline, f"message {mid} still {r.json()}"
        time.sleep(0.2)


def rotate(cc, tenant):
    r = cc.post(ROTATE, token=tenant.admin_token)
    assert r.status_code == 200, r.text
    secret = r.json()["secret"]
    assert len(secret) == 64 and all(c in "0123456789abcdef" for c in secret)
    return secret


def signed(secret, payload, ts=None, raw=None):
    """(body bytes, headers) of a callback signed with secret."""
    body = raw if raw is not None else json.dumps(payload).encode()
    ts = str(int(time.time()) if ts is None else ts)
    mac = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-CC-Timestamp": ts,
                  "X-CC-Signature": "v1=" + mac}


def hook(cc, path, secret, payload, **kw):
    body, headers = signed(secret, payload, **kw)
    return cc.post(path, data=body, headers=headers)


def sms_rows(cc, tenant):
    return db_rows(cc, "SELECT * FROM sms_messages WHERE tenant_id = %s ORDER BY id",
                   (tenant.id,))


def credential(cc):
    return (cc.tmpdir / "sms-credential").read_text().strip()


# ---- sending and delivery ----------------------------------------------------------------

def test_send_queues_then_the_job_delivers_once(cc, tenant, provider):
    did, to = add_did(cc, tenant), new_number()
    msg = send_ok(cc, tenant.admin_token, did, to, "Grüße ✓ – see you at 10")
    assert msg["from"] == did and msg["to"] == to and msg["body"] == "Grüße ✓ – see you at 10"
    assert msg["provider_message_id"] is None and msg["error"] is None
    sent = wait_status(cc, tenant.admin_token, msg["id"], {"sent"})
    (req,) = provider.received(to)
    assert req["path"] == "/messages"
    assert req["body"] == {"reference": f"sms-{msg['id']}", "from": did, "to": to,
                           "body": "Grüße ✓ – see you at 10"}
    assert req["headers"]["Authorization"] == f"Bearer {credential(cc)}"
    assert req["headers"]["Idempotency-Key"] == f"sms-{msg['id']}"
    assert req["headers"]["Content-Type"].startswith("application/json")
    assert sent["provider_message_id"].startswith("fake-") and sent["error"] is None
    time.sleep(2)                      # later runs leave it alone
    assert len(provider.received(to)) == 1
    # Audited and announced: the create by the user, the status change by the job.
    audit = entity_audit(cc, tenant, "sms")
    assert [a["action"] for a in audit] == ["sms.create", "sms.status_change"]
    assert audit[0]["changes"] == {"from": did, "to": to}
    assert audit[1]["changes"]["status"] in ({"from": "queued", "to": "sent"},
                                             ["queued", "sent"])
    events = entity_events(cc, tenant, "sms")
    assert [e["type"] for e in events] == ["sms.created", "sms.status_changed"]
    assert events[1]["data"]["status"] == "sent"
    (row,) = sms_rows(cc, tenant)
    assert row["attempts"] == 1 and row["claim_token"] is None and row["lease_until"] is None


def test_a_suspended_tenants_queue_waits_until_it_is_active_again(cc, tenant, provider):
    """The job delivers no message of a suspended tenant (its users cannot send: 403, so
    the queue is what was left when it was suspended): the messages stay queued, untried,
    and go out once the tenant is active again."""
    did, to = add_did(cc, tenant), new_number()
    db_exec(cc, "UPDATE tenants SET status = 'suspended' WHERE id = %s", (tenant.id,))
    try:
        db_exec(cc, "INSERT INTO sms_messages (tenant_id, direction, from_number, to_number,"
                    " body, status, next_attempt_at) VALUES (%s, 'outbound', %s, %s,"
                    " 'left queued', 'queued', UTC_TIMESTAMP(6))", (tenant.id, did, to))
        time.sleep(3.5)                                   # three of the job's runs (1 s)
        assert provider.received(to) == []
        (row,) = sms_rows(cc, tenant)
        assert row["status"] == "queued" and row["attempts"] == 0
    finally:
        db_exec(cc, "UPDATE tenants SET status = 'active' WHERE id = %s", (tenant.id,))
    wait_status(cc, tenant.admin_token, row["id"], {"sent"})
    assert len(provider.received(to)) == 1
    (row,) = sms_rows(cc, tenant)
    assert row["attempts"] == 1


def test_body_limits_count_characters_not_bytes(cc, tenant, provider):
    did = add_did(cc, tenant)
    # 1600 characters of 2 and 4 bytes each: accepted.
    for body in ["é" * 1600, "😀" * 1600, "x"]:
        assert send(cc, tenant.admin_token, did, new_number(), body).status_code == 202
    for body in ["é" * 1601, "x" * 1601, "", "bell\x07", "esc\x1b[31m"]:
        assert_error(send(cc, tenant.admin_token, did, new_number(), body), 400,
                     "invalid_request", "body")
    # A NUL never reaches the check: the JSON parser refuses it.
    assert_error(send(cc, tenant.admin_token, did, new_number(), "nul\x00x"), 400,
                 "invalid_request")
    # Invalid UTF-8 in the raw JSON.
    raw = b'{"from": "' + did.encode() + b'", "to": "+4930123456", "body": "\xff\xfe"}'
    r = cc.post(SMS, token=tenant.admin_token, data=raw,
                headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid_request")
    assert len(sms_rows(cc, tenant)) == 3


def test_send_errors(cc, tenant, tenant2, provider):
    did = add_did(cc, tenant)
    inactive = add_did(cc, tenant, status="inactive")
    foreign = add_did(cc, tenant2)
    t = tenant.admin_token
    for frm, to, field in [("12345", new_number(), "from"), (did, "+0123456789", "to"),
                           (did, "4930123456", "to"), (did, "+12", "to"),
                           (new_number(), new_number(), "from"),   # not a DID at all
                           (inactive, new_number(), "from"),
                           (foreign, new_number(), "from")]:    # another tenant's DID
        assert_error(send(cc, t, frm, to), 400, "invalid_request", field)
    for body, field in [({"from": did, "to": new_number()}, "body"),
                        ({"from": did, "to": new_number(), "body": 5}, "body"),
                        ({"from": did, "to": new_number(), "body": "x", "extra": 1},
                         "extra")]:
        assert_error(cc.post(SMS, token=t, json=body), 400, "invalid_request", field)
    r = cc.post(SMS, token=t, data=b"from=x", headers={"Content-Type": "text/plain"})
    assert_error(r, 415, "unsupported_media_type")
    assert_error(cc.post(SMS, token=t, data=b"{", headers={"Content-Type":
                                                            "application/json"}),
                 400, "invalid_request")
    assert_error(cc.delete(SMS, token=t), 405, "method_not_allowed")
    assert_error(cc.get(f"{SMS}/999999999", token=t), 404, "not_found")
    assert sms_rows(cc, tenant) == []
    assert provider.received(foreign) == []


def test_list_filters_sort_and_isolation(cc, tenant, tenant2, provider):
    did, to_a, to_b = add_did(cc, tenant), new_number(), new_number()
    provider.script(to_b, ["400"])
    a = send_ok(cc, tenant.admin_token, did, to_a)
    b = send_ok(cc, tenant.admin_token, did, to_b)
    wait_status(cc, tenant.admin_token, a["id"], {"sent"})
    wait_status(cc, tenant.admin_token, b["id"], {"failed"})
    secret = rotate(cc, tenant)
    inbound = hook(cc, INBOUND, secret, {"message_id": "in-" + secrets.token_hex(6),
                                         "from": to_a, "to": did, "body": "reply"})
    assert inbound.status_code == 200, inbound.text
    t = tenant.admin_token

    def ids(query=""):
        r = cc.get(SMS + query, token=t)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["total"] == len(body["data"])
        return [m["id"] for m in body["data"]]

    c = inbound.json()["id"]
    assert ids() == [c, b["id"], a["id"]]                  # newest first
    assert ids("?sort=created_at") == [a["id"], b["id"], c]
    assert ids("?direction=inbound") == [c]
    assert ids("?direction=outbound&status=failed") == [b["id"]]
    assert ids("?status=received") == [c]
    assert ids(f"?to_number=%2B{to_a[1:]}") == [a["id"]]
    assert ids(f"?from_number=%2B{to_a[1:]}") == [c]
    assert ids(f"?from_number=%2B{did[1:]}&sort=-updated_at") in ([b["id"], a["id"]],
                                                                    [a["id"], b["id"]])
    assert ids("?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z") == [c, b["id"],
                                                                       a["id"]]
    assert ids("?to=2000-01-01T00:00:00Z") == []
    for query, field in [("?direction=sideways", "direction"), ("?status=lost", "status"),
                         ("?from_number=123", "from_number"), ("?to_number=x", "to_number"),
                         ("?from=yesterday", "from"), ("?sort=body", "sort"),
                         ("?page_size=201", "page_size")]:
        assert_error(cc.get(SMS + query, token=t), 400, "invalid_request", field)
    failed = cc.get(f"{SMS}/{b['id']}", token=t).json()
    assert failed["error"] == "HTTP 400: fake 400"
    # Another tenant: every message is 404 and none is listed.
    t2 = tenant2.admin_token
    for mid in (a["id"], b["id"], c):
        assert_error(cc.get(f"{SMS}/{mid}", token=t2), 404, "not_found")
    r = cc.get(SMS + "?page_size=200", token=t2)
    assert r.status_code == 200 and r.json()["data"] == [] and r.json()["total"] == 0
    r = cc.get(f"{SMS}?from_number=%2B{did[1:]}", token=t2)
    assert r.json()["data"] == []


def test_permissions(cc, tenant, provider):
    did = add_did(cc, tenant)
    _, viewer = tenant.make_user(roles=["viewer"])       # sms.read only
    _, agent = tenant.make_user(roles=["agent"])         # sms.read + sms.send
    _, supervisor = tenant.make_user(roles=["supervisor"])
    r = cc.post("/api/v1/roles", token=tenant.admin_token,
                json={"name": "nosms", "description": "no SMS",
                      "permissions": ["users.read"]})
    assert r.status_code == 201, r.text
    _, nosms = tenant.make_user(roles=["nosms"])
    assert_error(send(cc, viewer, did, new_number()), 403, "forbidden")
    msg = send_ok(cc, agent, did, new_number())
    assert cc.get(f"{SMS}/{msg['id']}", token=viewer).status_code == 200
    assert cc.get(SMS, token=viewer).status_code == 200
    assert_error(cc.get(SMS, token=nosms), 403, "forbidden")
    assert_error(cc.get(f"{SMS}/{msg['id']}", token=nosms), 403, "forbidden")
    # Settings are the tenant admins'.
    for token in (viewer, agent, supervisor, nosms):
        assert_error(cc.get(SETTINGS, token=token), 403, "forbidden")
        assert_error(cc.post(ROTATE, token=token), 403, "forbidden")
    assert_error(cc.get(SMS), 401, "unauthorized")
    assert_error(cc.post(ROTATE), 401, "unauthorized")


# ---- the job: retries, backoff, cap ------------------------------------------------------

def test_retries_with_backoff_then_sent(cc, tenant, provider):
    did, to = add_did(cc, tenant), new_number()
    before = metrics(cc)
    provider.script(to, ["500", "503", "ok"])
    msg = send_ok(cc, tenant.admin_token, did, to)
    sent = wait_status(cc, tenant.admin_token, msg["id"], {"sent"})
    reqs = provider.received(to)
    assert len(reqs) == 3
    gaps = [reqs[1]["at"] - reqs[0]["at"], reqs[2]["at"] - reqs[1]["at"]]
    # Backoff: 1 s after the first failure, 2 s after the second (job runs every 1 s).
    assert gaps[0] >= RETRY_BASE - 0.1 and gaps[1] >= 2 * RETRY_BASE - 0.1, gaps
    assert gaps[1] > gaps[0] - 0.5, gaps
    assert {r["headers"]["Idempotency-Key"] for r in reqs} == {f"sms-{msg['id']}"}
    assert sent["error"] is None
    (row,) = sms_rows(cc, tenant)
    assert row["attempts"] == 3
    events = entity_events(cc, tenant, "sms")
    assert [e["type"] for e in events] == ["sms.created", "sms.status_changed"]
    # GET /metrics counts the attempts by outcome (other tests' messages may add more).
    after = metrics(cc)
    for outcome, n in (("retry", 2), ("sent", 1)):
        assert (metric(after, "cc_sms_deliveries_total", outcome=outcome)
                - metric(before, "cc_sms_deliveries_total", outcome=outcome)) >= n, outcome
    assert metric(after, "cc_job_runs_total", task="cc-sms-delivery") >= 3


def fails_with(cc, tenant, provider, step):
    """A message whose provider answers every call with status step: it ends failed
    with the provider's error.  Returns its destination number."""
    did, to = add_did(cc, tenant), new_number()
    provider.script(to, [step])
    msg = send_ok(cc, tenant.admin_token, did, to)
    failed = wait_status(cc, tenant.admin_token, msg["id"], {"failed"})
    assert failed["error"] == f"HTTP {step}: fake {step}"
    return to


def test_retry_cap_then_failed_with_the_providers_error(cc, tenant, provider):
    to = fails_with(cc, tenant, provider, "502")
    time.sleep(2.5)                    # no attempt after the cap
    reqs = provider.received(to)
    assert len(reqs) == MAX_ATTEMPTS
    gaps = [b["at"] - a["at"] for a, b in zip(reqs, reqs[1:])]
    assert all(g <= RETRY_MAX + 1.5 for g in gaps), gaps          # the cap on the pause
    events = entity_events(cc, tenant, "sms")
    assert events[-1]["type"] == "sms.status_changed"
    assert events[-1]["data"]["status"] == "failed"


def test_refusal_fails_at_once(cc, tenant, provider):
    to = fails_with(cc, tenant, provider, "422")
    time.sleep(1.5)
    assert len(provider.received(to)) == 1


def test_timeout_and_slow_provider(cc, tenant, provider):
    did, slow, late = add_did(cc, tenant), new_number(), new_number()
    provider.script(slow, [f"delay:{TIMEOUT - 2}"])            # slow, within the timeout
    provider.script(late, [f"slow:{TIMEOUT + 2}", "ok"])      # past it, then fine
    a = send_ok(cc, tenant.admin_token, did, slow)
    b = send_ok(cc, tenant.admin_token, did, late)
    assert wait_status(cc, tenant.admin_token, a["id"], {"sent", "failed"})["status"] == "sent"
    sent = wait_status(cc, tenant.admin_token, b["id"], {"sent", "failed"})
    assert sent["status"] == "sent"
    assert len(provider.received(slow)) == 1 and len(provider.received(late)) == 2
    rows = {r["id"]: r for r in sms_rows(cc, tenant)}
    assert rows[b["id"]]["attempts"] == 2


def test_accepted_without_an_id_is_sent(cc, tenant, provider):
    did, to = add_did(cc, tenant), new_number()
    provider.script(to, ["ok-noid"])
    msg = send_ok(cc, tenant.admin_token, did, to)
    sent = wait_status(cc, tenant.admin_token, msg["id"], {"sent"})
    assert sent["provider_message_id"] is None


def test_two_httpd_nodes_deliver_each_message_once(cc, tenant, provider):
    """Two httpd instances (two nodes: each runs the job) race for the same queue; a slow
    provider keeps both busy at once.  Every message is sent exactly once."""
    did = add_did(cc, tenant)
    second = cc.start_second_httpd()
    try:
        numbers = [new_number() for _ in range(30)]
        for n in numbers:
            provider.script(n, ["delay:0.15"])
        provider.reset_inflight()
        t = tenant.admin_token
        with ThreadPoolExecutor(6) as pool:
            msgs = list(pool.map(lambda n: send_ok(cc, t, did, n), numbers))
        for m in msgs:
            wait_status(cc, t, m["id"], {"sent", "failed"}, timeout=60)
        time.sleep(2)
        for m, n in zip(msgs, numbers):
            reqs = provider.received(n)
            assert len(reqs) == 1, (n, len(reqs))
            assert reqs[0]["body"]["reference"] == f"sms-{m['id']}"
        assert {r["status"] for r in sms_rows(cc, tenant)} == {"sent"}
        assert all(r["attempts"] == 1 for r in sms_rows(cc, tenant))
        # Both nodes were delivering at the same time.
        assert provider.max_inflight >= 2, provider.max_inflight
        secret_text = credential(cc)
        assert secret_text not in second.error_log_text()
    finally:
        second.stop()
    assert secret_text not in cc.error_log_text()
    statuses = [e["data"]["status"] for e in entity_events(cc, tenant, "sms")
                if e["type"] == "sms.status_changed"]
    assert len(statuses) == 30


# ---- settings -----------------------------------------------------------------------------

def test_settings_and_rotation(cc, tenant, tenant2):
    r = cc.get(SETTINGS, token=tenant.admin_token)
    assert r.status_code == 200, r.text
    assert r.json()["secret_set"] is False and r.json()["rotated_at"] is None
    first = rotate(cc, tenant)
    r = cc.get(SETTINGS, token=tenant.admin_token)
    body = r.json()
    assert body["secret_set"] is True and body["rotated_at"].endswith("Z")
    assert body["signature_tolerance"] == 300
    assert body["inbound_url"] == INBOUND and body["status_url"] == STATUS
    assert first not in r.text and "secret" not in body
    # No body or {}; anything else is refused and rotates nothing.
    for data, ctype, status in [(b'{"secret": "mine"}', "application/json", 400),
                                (b"x", "text/plain", 415), (b"{", "application/json", 400)]:
        r = cc.post(ROTATE, token=tenant.admin_token, data=data,
                    headers={"Content-Type": ctype})
        assert r.status_code == status, r.text
    r = cc.post(ROTATE, token=tenant.admin_token, json={})
    assert r.status_code == 200, r.text
    second = rotate(cc, tenant)
    assert second not in (first, r.json()["secret"])
    assert rotate(cc, tenant2) not in (first, second)
    # Only the nonce is stored, never the secret.
    (row,) = db_rows(cc, "SELECT * FROM sms_settings WHERE tenant_id = %s", (tenant.id,))
    assert second not in json.dumps(row, default=str)
    audit = entity_audit(cc, tenant, "sms_settings")
    assert [a["action"] for a in audit] == ["sms_settings.rotate_secret"] * 3
    assert all(second not in json.dumps(a) and first not in json.dumps(a) for a in audit)
    assert entity_events(cc, tenant, "sms_settings") == []
    # The old secret no longer signs.
    did = add_did(cc, tenant)
    payload = {"message_id": "rot-" + secrets.token_hex(6), "from": new_number(), "to": did,
               "body": "x"}
    assert_error(hook(cc, INBOUND, first, payload), 401, "unauthorized")
    assert hook(cc, INBOUND, second, payload).status_code == 200


# ---- callbacks ----------------------------------------------------------------------------

def test_inbound_creates_a_received_message_once(cc, tenant, tenant2):
    did, sender = add_did(cc, tenant), new_number()
    secret = rotate(cc, tenant)
    rotate(cc, tenant2)
    payload = {"message_id": "in-" + secrets.token_hex(8), "from": sender, "to": did,
               "body": "Hallo 👋", "received_at": "2026-12-01T10:00:00Z"}
    body, headers = signed(secret, payload)
    r = cc.post(INBOUND, data=body, headers=headers)
    assert r.status_code == 200, r.text
    mid = r.json()["id"]
    msg = cc.get(f"{SMS}/{mid}", token=tenant.admin_token).json()
    assert msg["direction"] == "inbound" and msg["status"] == "received"
    assert msg["from"] == sender and msg["to"] == did and msg["body"] == "Hallo 👋"
    assert msg["provider_message_id"] == payload["message_id"]
    # The same callback again (a replay inside the window, or the provider's retry).
    again = cc.post(INBOUND, data=body, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == mid
    assert len(sms_rows(cc, tenant)) == 1
    assert sms_rows(cc, tenant2) == []
    events = entity_events(cc, tenant, "sms")
    assert [e["type"] for e in events] == ["sms.received"]
    assert events[0]["data"]["id"] == mid
    audit = db_rows(cc, "SELECT actor_type, actor_id, action FROM audit_logs"
                        " WHERE tenant_id = %s AND entity_type = 'sms'", (tenant.id,))
    assert audit == [{"actor_type": "provider", "actor_id": None, "action": "sms.receive"}] \
        or audit[0]["actor_type"] == "provider"
    assert_error(cc.get(f"{SMS}/{mid}", token=tenant2.admin_token), 404, "not_found")


@pytest.mark.parametrize("case", ["no-headers", "wrong-secret", "other-tenant", "tampered",
                                  "stale", "future", "bad-ts", "bad-prefix", "unknown-did",
                                  "no-secret"])
def test_inbound_bad_signatures_are_401(cc, tenant, tenant2, case):
    did = add_did(cc, tenant)
    other_did = add_did(cc, tenant2)
    secret = rotate(cc, tenant)
    other = rotate(cc, tenant2)
    payload = {"message_id": "bad-" + secrets.token_hex(6), "from": new_number(), "to": did,
               "body": "x"}
    body, headers = signed(secret, payload)
    if case == "no-headers":
        headers = {"Content-Type": "application/json"}
    elif case == "wrong-secret":
        body, headers = signed("0" * 64, payload)
    elif case == "other-tenant":
        body, headers = signed(other, payload)
    elif case == "tampered":
        body = body.replace(b'"x"', b'"y"')
    elif case == "stale":
        body, headers = signed(secret, payload, ts=int(time.time()) - 310)
    elif case == "future":
        body, headers = signed(secret, payload, ts=int(time.time()) + 310)
    elif case == "bad-ts":
        headers["X-CC-Timestamp"] = "soon"
    elif case == "bad-prefix":
        headers["X-CC-Signature"] = headers["X-CC-Signature"].replace("v1=", "v2=")
    elif case == "unknown-did":
        payload["to"] = new_number()
        body, headers = signed(secret, payload)
    elif case == "no-secret":
        cc_db = db_rows(cc, "SELECT 1 FROM sms_settings WHERE tenant_id = %s", (tenant2.id,))
        assert cc_db
        # A tenant that never rotated has no secret: nothing verifies.
        third_did = other_did
        from ccenv import Tenant
        t3 = Tenant(cc)
        third_did = add_did(cc, t3)
        payload["to"] = third_did
        body, headers = signed(secret, payload)
    r = cc.post(INBOUND, data=body, headers=headers)
    assert_error(r, 401, "unauthorized")
    assert sms_rows(cc, tenant) == [] and sms_rows(cc, tenant2) == []


def test_inbound_checks_the_body_after_the_signature(cc, tenant):
    did = add_did(cc, tenant)
    secret = rotate(cc, tenant)
    base = {"message_id": "v-" + secrets.token_hex(6), "from": new_number(), "to": did,
            "body": "ok"}
    for change, field in [({"from": "123"}, "from"), ({"body": ""}, "body"),
                          ({"body": "x" * 1601}, "body"), ({"message_id": ""}, "message_id"),
                          ({"message_id": "has space"}, "message_id")]:
        r = hook(cc, INBOUND, secret, dict(base, **change))
        assert_error(r, 400, "invalid_request", field)
    r = cc.post(INBOUND, data=b"x", headers={"Content-Type": "text/plain"})
    assert_error(r, 415, "unsupported_media_type")
    assert sms_rows(cc, tenant) == []


def test_status_callbacks_move_forward_only(cc, tenant, tenant2, provider):
    did, to = add_did(cc, tenant), new_number()
    secret = rotate(cc, tenant)
    other = rotate(cc, tenant2)
    msg = send_ok(cc, tenant.admin_token, did, to)
    pid = wait_status(cc, tenant.admin_token, msg["id"], {"sent"})["provider_message_id"]
    # Unverifiable: another tenant's secret, an unknown id, no signature.
    assert_error(hook(cc, STATUS, other, {"message_id": pid, "status": "delivered"}), 401,
                 "unauthorized")
    assert_error(hook(cc, STATUS, secret, {"message_id": "nope", "status": "delivered"}),
                 401, "unauthorized")
    assert_error(cc.post(STATUS, json={"message_id": pid, "status": "delivered"}), 401,
                 "unauthorized")
    assert_error(hook(cc, STATUS, secret, {"message_id": pid, "status": "sent"}), 400,
                 "invalid_request", "status")
    assert cc.get(f"{SMS}/{msg['id']}", token=tenant.admin_token).json()["status"] == "sent"
    r = hook(cc, STATUS, secret, {"message_id": pid, "status": "delivered"})
    assert r.status_code == 200 and r.json() == {"id": msg["id"], "status": "delivered",
                                                 "changed": True}
    # Never backwards, and a repeat changes nothing.
    for st in ("failed", "delivered"):
        r = hook(cc, STATUS, secret, {"message_id": pid, "status": st, "error": "late"})
        assert r.status_code == 200 and r.json() == {"id": msg["id"], "status": "delivered",
                                                     "changed": False}
    got = cc.get(f"{SMS}/{msg['id']}", token=tenant.admin_token).json()
    assert got["status"] == "delivered" and got["error"] is None
    events = [e for e in entity_events(cc, tenant, "sms") if e["type"] == "sms.status_changed"]
    assert [e["data"]["status"] for e in events] == ["sent", "delivered"]
    # sent -> failed carries the provider's error.
    to2 = new_number()
    m2 = send_ok(cc, tenant.admin_token, did, to2)
    pid2 = wait_status(cc, tenant.admin_token, m2["id"], {"sent"})["provider_message_id"]
    r = hook(cc, STATUS, secret, {"message_id": pid2, "status": "failed",
                                  "error": "handset unreachable"})
    assert r.status_code == 200 and r.json()["changed"] is True
    got = cc.get(f"{SMS}/{m2['id']}", token=tenant.admin_token).json()
    assert got["status"] == "failed" and got["error"] == "handset unreachable"
    r = hook(cc, STATUS, secret, {"message_id": pid2, "status": "delivered"})
    assert r.json() == {"id": m2["id"], "status": "failed", "changed": False}


def test_status_callback_for_a_queued_message_changes_nothing(cc, tenant, provider):
    did, to = add_did(cc, tenant), new_number()
    secret = rotate(cc, tenant)
    provider.script(to, ["500"])
    msg = send_ok(cc, tenant.admin_token, did, to)
    failed = wait_status(cc, tenant.admin_token, msg["id"], {"failed"})
    assert failed["provider_message_id"] is None
    # A failed message has no provider id: no callback can name it.
    r = hook(cc, STATUS, secret, {"message_id": "fake-x", "status": "delivered"})
    assert_error(r, 401, "unauthorized")


# ---- configuration ------------------------------------------------------------------------

@pytest.mark.parametrize("directive,value,message", [
    ("CCSmsProviderURL", "ftp://127.0.0.1/x", "http:// or https://"),
    ("CCSmsProviderURL", "http://user:pw@127.0.0.1/x", "must not carry credentials"),
    ("CCSmsSecretKeyFile", "/nonexistent/sms-key", "cannot open SMS webhook key file"),
    ("CCSmsProviderCredentialFile", "/nonexistent/cred", "cannot open SMS provider"),
    ("CCSmsTimeout", "0", "CCSmsTimeout must be a number of seconds from 1 to 300"),
    ("CCSmsMaxAttempts", "x", "CCSmsMaxAttempts must be"),
])
def test_bad_directives_fail_the_config_test(cc, directive, value, message):
    from cchelpers import conf_with
    rc, out = cc.config_test(conf_with(cc, directive, value))
    assert rc != 0 and message in out, out


def test_short_key_file_fails_the_config_test(cc):
    from cchelpers import conf_with
    short = cc.tmpdir / "short-key"
    short.write_text("too-short\n")
    rc, out = cc.config_test(conf_with(cc, "CCSmsSecretKeyFile", str(short)))
    assert rc != 0 and "at least 32 bytes" in out, out
    assert "too-short" not in out
