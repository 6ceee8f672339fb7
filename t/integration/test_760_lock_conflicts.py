"""Lock conflicts (README "Lock conflicts"; shared/cc_http.c run_handler, cc_retry.h).

A handler whose transaction meets a deadlock (1213) or a lock wait timeout (1205) is
rolled back and run again, up to 5 runs with short random pauses, unless the run has
already changed something a new run would repeat; only then is the conflict answered:
503 unavailable with Retry-After: 1.

- Issue 8's hostile run (finding 13): clients creating and deleting one DID number
  deadlock each other (two inserts of a key a third transaction deletes); no answer is a
  503 and the database stays consistent.
- A deterministic deadlock whose victim is a PATCH with a body: run again, it answers
  200 with what the body asked (the body is read once and parsed afresh).
- A login whose transaction is the victim after its attempt was counted (a change
  outside the transaction) is not run again: 503 with Retry-After: 1 and a warning.

A 1205 is not provoked here: innodb_lock_wait_timeout is 50 s on the test server (the
unit tests cover its classification; cc_retry_again its time budget).
"""

import secrets
import time

import pytest

from cchelpers import (assert_error, db_rows, did_churn, did_churn_problems,
                       innodb_deadlocks as deadlocks, race)

DIDS = "/api/v1/dids"

# What each request of the churn may answer (the 409: the number is taken; the 404: the
# DID another client had just deleted).
CHURN_STATUSES = {("POST", 201), ("POST", 409), ("GET", 200), ("DELETE", 204),
                  ("DELETE", 404)}


def new_number():
    return f"+1{secrets.randbelow(10**12):012d}"


def test_did_churn_answers_no_503_and_stays_consistent(cc, tenant):
    """4 clients, one number, until the server has seen a few deadlocks (at most 15 s)."""
    number = new_number()
    before = deadlocks(cc)
    counts, done = {}, {"created": [], "deleted": []}
    deadline = time.monotonic() + 15
    while deadlocks(cc) - before < 5 and time.monotonic() < deadline:
        c, d = did_churn(cc.base_url, tenant.admin_token, number, clients=4, seconds=3)
        for k, n in c.items():
            counts[k] = counts.get(k, 0) + n
        done["created"] += d["created"]
        done["deleted"] += d["deleted"]
    assert deadlocks(cc) > before, "no deadlock happened: the test proved nothing"
    assert set(counts) <= CHURN_STATUSES, counts
    assert counts.get(("POST", 201), 0) > 0 and counts.get(("DELETE", 204), 0) > 0, counts
    assert did_churn_problems(cc, tenant.id, number, done) == []


def victim_of_a_deadlock(cc, weight_tenant, hold, request, then):
    """cchelpers.race with a transaction that first inserts 40 DIDs into weight_tenant
    (InnoDB rolls back the lighter of two deadlocked transactions: request()'s), then
    holds what request() will wait for; then waits for a lock request() holds (the
    cycle, one deadlock) and rolls everything back."""
    weight = [("INSERT INTO dids (tenant_id, number) VALUES " + ", ".join(["(%s, %s)"] * 40),
               tuple(v for _ in range(40) for v in (weight_tenant.id, new_number())))]
    return race(cc, weight + hold, request, then, end="ROLLBACK", deadlocks=1)


def test_a_deadlocked_patch_runs_again_with_its_body(cc, tenant, tenant2):
    """The PATCH locks the DID, then share-locks its new destination user, which the test
    holds; the test then wants the DID: a deadlock, the PATCH its victim.  Run again
    after the test's transaction ends, it answers 200 with the body's change, once."""
    user, _ = tenant.make_user(roles=["agent"])
    r = cc.post(DIDS, token=tenant.admin_token, json={"number": new_number()})
    assert r.status_code == 201, r.text
    did = r.json()
    body = {"destination_type": "user", "destination_id": user["id"],
            "description": "after a deadlock"}
    hold = [("SELECT 1 FROM users WHERE tenant_id = %s AND id = %s FOR UPDATE",
             (tenant.id, user["id"]))]
    then = [("SELECT 1 FROM dids WHERE tenant_id = %s AND id = %s FOR UPDATE",
             (tenant.id, did["id"]))]
    problems, r = victim_of_a_deadlock(
        cc, tenant2, hold,
        lambda: cc.patch(f"{DIDS}/{did['id']}", token=tenant.admin_token, json=body), then)
    assert problems == [], problems
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["destination_type"], got["destination_id"], got["description"]) == \
        ("user", user["id"], "after a deadlock")
    audits = db_rows(cc, "SELECT action FROM audit_logs WHERE tenant_id = %s"
                         " AND entity_type = 'did' AND entity_id = %s ORDER BY id",
                     (tenant.id, str(did["id"])))
    assert [a["action"] for a in audits] == ["did.create", "did.update"]
    events = db_rows(cc, "SELECT type FROM events WHERE tenant_id = %s"
                         " AND entity_type = 'did' AND entity_id = %s ORDER BY id",
                     (tenant.id, str(did["id"])))
    assert [e["type"] for e in events] == ["did.created", "did.updated"]
    assert db_rows(cc, "SELECT COUNT(*) AS n FROM dids WHERE tenant_id = %s",
                   (tenant2.id,))[0]["n"] == 0


@pytest.mark.allow_log("CC00108")
def test_a_deadlocked_login_after_its_counted_attempt_answers_503(cc, tenant, tenant2):
    """A login counts its attempt (autocommit) before its transaction; a run again would
    count it twice, so the deadlock its transaction loses (the test holds the user row,
    then wants the throttle row the login deleted) is answered: 503, Retry-After 1."""
    email = tenant.admin_email.lower()
    hold = [("SELECT 1 FROM users WHERE tenant_id = %s AND id = %s FOR UPDATE",
             (tenant.id, tenant.admin_user_id))]
    then = [("SELECT 1 FROM login_throttle WHERE tenant_key = %s AND email = %s FOR UPDATE",
             (tenant.id, email))]
    problems, r = victim_of_a_deadlock(
        cc, tenant2, hold,
        lambda: cc.post("/api/v1/auth/login",
                        json={"email": tenant.admin_email, "password": tenant.admin_password,
                              "tenant": tenant.slug}), then)
    assert problems == [], problems
    body = assert_error(r, 503, "unavailable")
    assert "concurrent" in body["message"]
    assert r.headers["Retry-After"] == "1"
    lines = [line for line in cc.read_new_log_lines() if "CC00108" in line]
    assert len(lines) == 1 and "POST /api/v1/auth/login" in lines[0], lines
    assert "changed rows outside a transaction" in lines[0]
    assert tenant.admin_password not in lines[0]
    # Nothing of the transaction stayed; the next login goes through.
    cc.login(tenant.admin_email, tenant.admin_password, tenant=tenant.slug)
