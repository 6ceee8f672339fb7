"""Rate limits per tenant and per token (issue 16; API.md "Platform features", README
"Rate limits").

The test profile sets limits no test reaches (CCRateLimitTenant/CCRateLimitToken 100000
60, httpd-conf/cc-dev.conf.in), so every authenticated answer of the suite carries the
headers.  The limits themselves are tested on a second httpd with small ones: its two
children share one table (shared memory), so the counts are exact whichever child a
connection lands on.
"""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

DIDS = "/api/v1/dids"
SMALL = "CCRateLimitToken 10 60\nCCRateLimitTenant 25 60 25\n"


def parse_items(value):
    """'"a";q=1;w=2, "b";r=3' -> {"a": {"q": 1, "w": 2}, "b": {"r": 3}}."""
    out = {}
    for item in value.split(","):
        name, *params = item.strip().split(";")
        out[name.strip('"')] = {k: int(v) for k, v in (p.split("=") for p in params)}
    return out


@pytest.fixture(scope="module")
def limited(cc):
    node = cc.start_second_httpd(name="httpd-rl", extra_conf=SMALL)
    yield node
    node.stop()


def get(node, token, headers=None, path=DIDS):
    # A new connection each time (no session): the children take turns accepting.
    h = {"Authorization": f"Bearer {token}", "Connection": "close"}
    h.update(headers or {})
    return requests.get(node.base_url + path, headers=h, timeout=20)


def test_every_authenticated_answer_says_the_policies(cc, tenant):
    r = cc.get(DIDS, token=tenant.admin_token)
    assert r.status_code == 200
    assert parse_items(r.headers["RateLimit-Policy"]) == {
        "tenant": {"q": 100000, "w": 60}, "token": {"q": 100000, "w": 60}}
    (name, item), = parse_items(r.headers["RateLimit"]).items()
    assert name in ("tenant", "token") and 0 <= item["r"] < 100000 and item["t"] >= 1
    # Errors too (a 404 of a handler); public routes have none.
    r = cc.get(DIDS + "/999999999", token=tenant.admin_token)
    assert r.status_code == 404 and "RateLimit" in r.headers
    r = cc.get("/healthz")
    assert "RateLimit" not in r.headers and "RateLimit-Policy" not in r.headers


def test_a_token_gets_its_burst_then_429_across_children(cc, tenant, limited):
    token = tenant.cc.login(tenant.admin_email, tenant.admin_password,
                            tenant=tenant.slug)["access_token"]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: get(limited, token), range(16)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] * 10 + [429] * 6, codes
    for r in answers:
        policy = parse_items(r.headers["RateLimit-Policy"])
        assert policy == {"tenant": {"q": 25, "w": 60}, "token": {"q": 10, "w": 60}}
        if r.status_code == 429:
            body = r.json()
            assert body["error"] == "too_many_requests" and "token" in body["message"]
            assert body["request_id"] == r.headers["X-Request-ID"]
            assert 1 <= int(r.headers["Retry-After"]) <= 6
            assert parse_items(r.headers["RateLimit"])["token"]["r"] == 0
    remaining = sorted(parse_items(r.headers["RateLimit"]).get("token", {}).get("r", -1)
                       for r in answers if r.status_code == 200)
    assert remaining == list(range(10)), remaining
    # The scheme's spelling does not make another bucket.
    r = requests.get(limited.base_url + DIDS, timeout=20,
                     headers={"Authorization": f"bEaReR {token}", "Connection": "close"})
    assert r.status_code == 429, r.status_code
    # Another token of the same user has its own bucket.
    other = tenant.cc.login(tenant.admin_email, tenant.admin_password,
                            tenant=tenant.slug)["access_token"]
    assert get(limited, other).status_code == 200


def test_a_tenant_limit_covers_all_its_tokens_and_a_platform_admin_in_it(cc, tenant,
                                                                         tenant2, limited):
    tokens = [tenant.cc.login(tenant.admin_email, tenant.admin_password,
                              tenant=tenant.slug)["access_token"] for _ in range(3)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: get(limited, tokens[i % 3]), range(30)))
    codes = [r.status_code for r in answers]
    assert codes.count(200) == 25 and codes.count(429) == 5, codes
    refused_by = {r.json()["message"].split(" of the ")[1].split()[0]
                  for r in answers if r.status_code == 429}
    assert refused_by == {"tenant"}, refused_by
    # The platform admin acting in the tenant counts against it (and its own token
    # bucket is not charged for the refusal); in its own tenant it goes on.
    admin = cc.admin_token()
    r = get(limited, admin, headers={"X-Tenant-ID": tenant.id})
    assert r.status_code == 429 and "tenant" in r.json()["message"]
    assert get(limited, admin).status_code == 200
    # Another tenant is untouched.
    assert get(limited, tenant2.admin_token).status_code == 200


@pytest.mark.parametrize("args, message", [
    ("0 60", "requests must be"),
    ("10 0", "the window must be"),
    ("10 60 0", "the burst must be"),
    ("ten 60", "requests must be"),
])
def test_a_bad_limit_refuses_the_start(cc, args, message):
    conf = re.sub(r"^CCRateLimitTenant .*$", f"CCRateLimitTenant {args}", cc.conf_text(),
                  flags=re.M)
    rc, out = cc.config_test(conf)
    assert rc != 0 and message in out and "CCRateLimitTenant" in out, out
