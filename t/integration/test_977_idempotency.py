"""Idempotency-Key on POST (issue 16; API.md "Platform features", README
"Idempotent retries", shared/cc_idem.c, sql/027).

A retried create with the same key and body gets the first answer (status, body,
Location) and does nothing again; another body with the key is 422; concurrent requests
with one key do the work once; keys are per tenant and access token; the retention job
deletes them after CCIdempotencyHours (24 in the test profile; the job runs every second).
"""

import secrets
import time
from concurrent.futures import ThreadPoolExecutor

DIDS = "/api/v1/dids"


def number():
    return "+1557" + str(secrets.randbelow(10**7)).zfill(7)


def post(cc, token, body, key, path=DIDS):
    return cc.post(path, token=token, json=body, headers={"Idempotency-Key": key})


def count(cc, sql, *args):
    with cc.db() as c, c.cursor() as cur:
        cur.execute(sql, args)
        return list(cur.fetchone().values())[0]


def dids_with(cc, tenant, num):
    return count(cc, "SELECT COUNT(*) FROM dids WHERE tenant_id = %s AND number = %s",
                 tenant.id, num)


def test_a_retry_gets_the_first_answer_and_does_nothing_again(cc, tenant):
    key, body = "create-" + secrets.token_hex(8), {"number": number()}
    first = post(cc, tenant.admin_token, body, key)
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    audits = count(cc, "SELECT COUNT(*) FROM audit_logs WHERE tenant_id = %s AND entity_id"
                   " = %s", tenant.id, str(first.json()["id"]))
    for _ in range(3):
        again = post(cc, tenant.admin_token, body, key)
        assert again.status_code == 201
        assert again.content == first.content
        assert again.headers["Location"] == first.headers["Location"]
        assert again.headers["Content-Type"].startswith("application/json")
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert dids_with(cc, tenant, body["number"]) == 1
    assert count(cc, "SELECT COUNT(*) FROM audit_logs WHERE tenant_id = %s AND entity_id"
                 " = %s", tenant.id, str(first.json()["id"])) == audits == 1


def test_the_key_with_another_body_or_path_is_422(cc, tenant):
    key, body = "k-" + secrets.token_hex(8), {"number": number()}
    assert post(cc, tenant.admin_token, body, key).status_code == 201
    other = {"number": number()}
    r = post(cc, tenant.admin_token, other, key)
    assert r.status_code == 422 and r.json()["error"] == "idempotency_key_reused", r.text
    assert dids_with(cc, tenant, other["number"]) == 0
    r = post(cc, tenant.admin_token, body, key, path="/api/v1/queues")
    assert r.status_code == 422


def test_concurrent_requests_with_one_key_do_the_work_once(cc, tenant):
    key, body = "race-" + secrets.token_hex(8), {"number": number()}
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: post(cc, tenant.admin_token, body, key), range(8)))
    assert [r.status_code for r in answers] == [201] * 8, \
        [r.text for r in answers if r.status_code != 201]
    assert len({r.content for r in answers}) == 1
    assert sum("Idempotent-Replayed" not in r.headers for r in answers) == 1
    assert dids_with(cc, tenant, body["number"]) == 1


def test_a_failed_request_keeps_nothing_and_a_corrected_retry_does_the_work(cc, tenant):
    key = "fix-" + secrets.token_hex(8)
    r = post(cc, tenant.admin_token, {"number": "not a number"}, key)
    assert r.status_code == 400
    body = {"number": number()}
    r = post(cc, tenant.admin_token, body, key)
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers
    assert dids_with(cc, tenant, body["number"]) == 1


def test_keys_are_per_token_and_per_tenant(cc, tenant, tenant2):
    key = "shared-" + secrets.token_hex(8)
    first = post(cc, tenant.admin_token, {"number": number()}, key)
    assert first.status_code == 201
    # Another token of the same user, and another tenant: the key is theirs to use.
    fresh = tenant.cc.login(tenant.admin_email, tenant.admin_password,
                            tenant=tenant.slug)["access_token"]
    for token in (fresh, tenant2.admin_token):
        r = post(cc, token, {"number": number()}, key)
        assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers, r.text
        assert r.json()["id"] != first.json()["id"]


def test_a_bad_key_is_400_and_a_get_ignores_it(cc, tenant):
    for key in ("x" * 256, "with space", "tab\there", "é"):
        r = cc.post(DIDS, token=tenant.admin_token, json={"number": number()},
                    headers={"Idempotency-Key": key.encode("utf-8")})
        assert r.status_code == 400 and "Idempotency-Key" in r.json()["message"], key
    r = cc.get(DIDS, token=tenant.admin_token, headers={"Idempotency-Key": "x"})
    assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers


def test_an_expired_key_is_free_again_and_the_retention_job_deletes_it(cc, tenant):
    key = "old-" + secrets.token_hex(8)
    assert post(cc, tenant.admin_token, {"number": number()}, key).status_code == 201
    with cc.db() as c, c.cursor() as cur:
        cur.execute("UPDATE idempotency_keys SET created_at = UTC_TIMESTAMP() - INTERVAL 25"
                    " HOUR WHERE tenant_id = %s AND idem_key = %s", (tenant.id, key))
    # Past CCIdempotencyHours it counts as never sent: another body is no 422.
    other = {"number": number()}
    r = post(cc, tenant.admin_token, other, key)
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers, r.text
    with cc.db() as c, c.cursor() as cur:
        cur.execute("UPDATE idempotency_keys SET created_at = UTC_TIMESTAMP() - INTERVAL 25"
                    " HOUR WHERE tenant_id = %s AND idem_key = %s", (tenant.id, key))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not count(cc, "SELECT COUNT(*) FROM idempotency_keys WHERE tenant_id = %s AND"
                     " idem_key = %s", tenant.id, key):
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the retention job left an expired Idempotency-Key")


def test_the_token_is_never_stored(cc, tenant):
    key = "secret-" + secrets.token_hex(8)
    assert post(cc, tenant.admin_token, {"number": number()}, key).status_code == 201
    with cc.db() as c, c.cursor() as cur:
        cur.execute("SELECT * FROM idempotency_keys WHERE tenant_id = %s AND idem_key = %s",
                    (tenant.id, key))
        row = cur.fetchone()
    assert tenant.admin_token not in repr(row)
    assert len(row["scope"]) == 64


def test_an_answer_with_a_secret_is_never_kept(cc, tenant):
    """POST /endpoints answers the generated SIP password once: an Idempotency-Key keeps
    no copy (the row has no body), and a retry is 409, not the password again."""
    key = "sip-" + secrets.token_hex(8)
    ext = str(secrets.randbelow(9000) + 1000)
    first = cc.post("/api/v1/endpoints", token=tenant.admin_token, json={"extension": ext},
                    headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.text
    assert first.json().get("sip_password")
    with cc.db() as c, c.cursor() as cur:
        cur.execute("SELECT body, status FROM idempotency_keys WHERE tenant_id = %s AND"
                    " idem_key = %s", (tenant.id, key))
        row = cur.fetchone()
    assert row["body"] is None and row["status"] is None
    time.sleep(5.5)          # past CC_IDEM_ANSWER_SECONDS: none will come
    again = cc.post("/api/v1/endpoints", token=tenant.admin_token, json={"extension": ext},
                    headers={"Idempotency-Key": key})
    assert again.status_code == 409 and "not kept" in again.json()["message"], again.text
    assert first.json()["sip_password"] not in again.text
    assert count(cc, "SELECT COUNT(*) FROM endpoints WHERE tenant_id = %s AND extension = %s",
                 tenant.id, ext) == 1
