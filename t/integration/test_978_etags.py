"""ETag and If-None-Match on GET (issue 16 item 4, its conditional-GET half; API.md
"Platform features", README "Conditional requests").

Every successful GET of the API carries a strong ETag of its representation; If-None-Match
naming it gets 304 without a body.  The routes are read from the C route tables
(t/lint/check_openapi.py): every capture-free GET under /api/v1, and for each list the
object route of its first item.
"""

import re
import secrets
from pathlib import Path

import requests
from concurrent.futures import ThreadPoolExecutor

from cchelpers import load_openapi_lint

ROOT = Path(__file__).resolve().parents[2]
lint = load_openapi_lint()
ETAG = re.compile(r'^"[0-9a-f]{32}"$')
# Routes whose answer is not a JSON document (streams, files, CSV) or waits.
SKIP = ("/api/v1/events", "/api/v1/events/stream")


def get_routes():
    routes, problems = lint.parse_routes(str(ROOT))
    assert not problems, problems
    return sorted(p for (m, p) in routes if m == "GET" and p.startswith("/api/v1"))


def check_conditional(url, token, where):
    h = {"Authorization": f"Bearer {token}"}
    r = requests.get(url, headers=h, timeout=20)
    if r.status_code != 200 or not r.headers.get("Content-Type", "").startswith(
            "application/json"):
        return None
    etag = r.headers.get("ETag", "")
    assert ETAG.match(etag), f"{where}: ETag {etag!r}"
    again = requests.get(url, headers=h, timeout=20)
    if again.content != r.content:
        return etag                       # a live figure (a wallboard's clock): no 304 to ask
    assert again.headers["ETag"] == etag, where
    nm = requests.get(url, headers={**h, "If-None-Match": etag}, timeout=20)
    assert nm.status_code == 304, f"{where}: {nm.status_code}"
    assert nm.content == b"" and nm.headers["ETag"] == etag, where
    assert nm.headers["X-Request-ID"]
    # A list of tags, "*", and a weak form match too (RFC 9110 13.1.2); another does not.
    for value in (f'"x", {etag}', "*", f"W/{etag}"):
        assert requests.get(url, headers={**h, "If-None-Match": value},
                            timeout=20).status_code == 304, (where, value)
    other = requests.get(url, headers={**h, "If-None-Match": '"0123"'}, timeout=20)
    assert other.status_code == 200 and other.content == r.content, where
    return etag


def test_every_get_has_an_etag_and_answers_if_none_match(cc, tenant):
    token, checked = tenant.admin_token, 0
    # Something in the lists whose object routes get checked.
    assert cc.post("/api/v1/dids", token=token,
                   json={"number": "+1558" + str(secrets.randbelow(10**7)).zfill(7)}
                   ).status_code == 201
    paths = get_routes()
    for path in paths:
        if "{" in path or path in SKIP:
            continue
        if check_conditional(cc.base_url + path, token, path):
            checked += 1
            body = requests.get(cc.base_url + path, timeout=20,
                                headers={"Authorization": f"Bearer {token}"}).json()
            item = (body.get("data") or [None])[0] if isinstance(body, dict) else None
            obj = f"{path}/{{id}}"
            if isinstance(item, dict) and "id" in item and obj in paths:
                if check_conditional(f"{cc.base_url}{path}/{item['id']}", token, obj):
                    checked += 1
    assert checked >= 30, checked


def test_the_etag_changes_with_the_object(cc, tenant):
    did = cc.post("/api/v1/dids", token=tenant.admin_token,
                  json={"number": "+1558" + str(secrets.randbelow(10**7)).zfill(7)}).json()
    url = f"/api/v1/dids/{did['id']}"
    first = cc.get(url, token=tenant.admin_token)
    assert cc.patch(url, token=tenant.admin_token,
                    json={"description": "changed"}).status_code == 200
    r = cc.get(url, token=tenant.admin_token, headers={"If-None-Match": first.headers["ETag"]})
    assert r.status_code == 200 and r.headers["ETag"] != first.headers["ETag"]
    assert r.json()["description"] == "changed"
    # HEAD has the same ETag and answers If-None-Match the same way.
    h = cc.request("HEAD", url, token=tenant.admin_token)
    assert h.status_code == 200 and h.headers["ETag"] == r.headers["ETag"]
    h = cc.request("HEAD", url, token=tenant.admin_token,
                   headers={"If-None-Match": r.headers["ETag"]})
    assert h.status_code == 304


def test_errors_and_writes_carry_no_etag(cc, tenant):
    r = cc.get("/api/v1/dids/999999999", token=tenant.admin_token,
               headers={"If-None-Match": "*"})
    assert r.status_code == 404 and "ETag" not in r.headers
    r = cc.post("/api/v1/dids", token=tenant.admin_token,
                json={"number": "+1558" + str(secrets.randbelow(10**7)).zfill(7)},
                headers={"If-None-Match": "*"})
    assert r.status_code == 201 and "ETag" not in r.headers


# ---- If-Match on PATCH, PUT, DELETE ---------------------------------------------------

STALE = '"' + "0" * 32 + '"'


def kit_objects():
    """Paths (document form) whose GET is the domain kit's cc_handle_get: the objects
    If-Match applies to, read from the C."""
    out = set()
    for f in ROOT.glob("mod_*/*.c"):
        for m in re.finditer(r'\{\s*"GET",\s*"([^"]+)",\s*cc_handle_get\b', f.read_text()):
            out.add(re.sub(r"\{(\w+):\w+\}", r"{\1}", m.group(1)))
    return out


def test_a_stale_if_match_is_412_on_every_kit_object_write(cc, tenant):
    """For each list's first item whose path is a kit object with writes: each write
    method with an If-Match that is not its ETag is 412 and changes nothing."""
    routes, _ = lint.parse_routes(str(ROOT))
    objects, token, checked = kit_objects(), tenant.admin_token, 0
    assert cc.post("/api/v1/dids", token=token,
                   json={"number": "+1558" + str(secrets.randbelow(10**7)).zfill(7)}
                   ).status_code == 201
    assert cc.post("/api/v1/contacts", token=token, json={"name": "If Match"}
                   ).status_code == 201
    assert cc.post("/api/v1/tags", token=token, json={"name": "if-match"}).status_code == 201
    h = {"Authorization": f"Bearer {token}"}
    for obj in sorted(objects):
        writes = [m for (m, p) in routes if p == obj and m in ("PATCH", "PUT", "DELETE")]
        lst = obj.rsplit("/", 1)[0]
        if not writes or ("GET", lst) not in routes:
            continue
        r = requests.get(cc.base_url + lst, headers=h, timeout=20)
        items = r.json().get("data") if r.status_code == 200 else None
        if not items or "id" not in items[0]:
            continue
        url = f"{cc.base_url}{lst}/{items[0]['id']}"
        before = requests.get(url, headers=h, timeout=20)
        for method in writes:
            w = requests.request(method, url, headers={**h, "If-Match": STALE}, json={},
                                 timeout=20)
            assert w.status_code == 412, f"{method} {obj}: {w.status_code} {w.text[:200]}"
            assert w.json()["error"] == "precondition_failed"
            after = requests.get(url, headers=h, timeout=20)
            assert after.headers["ETag"] == before.headers["ETag"], f"{method} {obj}"
            checked += 1
    assert checked >= 5, checked


def test_if_match_guards_a_did_against_lost_updates(cc, tenant):
    did = cc.post("/api/v1/dids", token=tenant.admin_token,
                  json={"number": "+1558" + str(secrets.randbelow(10**7)).zfill(7)}).json()
    url = f"/api/v1/dids/{did['id']}"
    etag = cc.get(url, token=tenant.admin_token).headers["ETag"]
    # Two clients read the same version and both write with it: one wins, one is 412.
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(
            lambda d: cc.patch(url, token=tenant.admin_token, json={"description": d},
                               headers={"If-Match": etag}), ("first", "second")))
    codes = sorted(r.status_code for r in answers)
    assert codes == [200, 412], [r.text for r in answers]
    won = next(r for r in answers if r.status_code == 200)
    now = cc.get(url, token=tenant.admin_token)
    assert now.json()["description"] == won.json()["description"]
    assert now.headers["ETag"] != etag
    # The current one, a list with it, and "*" go through; a weak form does not.
    for i, form in enumerate(("{}", '"x", {}')):
        cur = cc.get(url, token=tenant.admin_token).headers["ETag"]
        r = cc.patch(url, token=tenant.admin_token, json={"description": f"again {i}"},
                     headers={"If-Match": form.format(cur)})
        assert r.status_code == 200, r.text
    cur = cc.get(url, token=tenant.admin_token).headers["ETag"]
    assert cc.patch(url, token=tenant.admin_token, json={"description": "weak"},
                    headers={"If-Match": f"W/{cur}"}).status_code == 412
    assert cc.patch(url, token=tenant.admin_token, json={"description": "any"},
                    headers={"If-Match": "*"}).status_code == 200
    # A delete with a stale tag keeps the DID; with the current one it goes.
    assert cc.delete(url, token=tenant.admin_token,
                     headers={"If-Match": cur}).status_code == 412
    cur = cc.get(url, token=tenant.admin_token).headers["ETag"]
    assert cc.delete(url, token=tenant.admin_token,
                     headers={"If-Match": cur}).status_code == 204
    # A deleted DID is 404 whatever the tag.
    assert cc.patch(url, token=tenant.admin_token, json={"description": "x"},
                    headers={"If-Match": "*"}).status_code == 404


def test_if_match_on_objects_outside_the_kit(cc, tenant):
    """If-Match holds on every single object whose GET is a JSON representation, not only
    the kit's (cc_handle_get): a custom role (PATCH, DELETE) and the tenant's pause
    reasons (PUT) here."""
    tok = tenant.admin_token
    assert cc.post("/api/v1/roles", token=tok,
                   json={"name": "night_shift", "permissions": ["dids.read"]}
                   ).status_code == 201
    url = "/api/v1/roles/night_shift"
    etag = cc.get(url, token=tok).headers["ETag"]
    r = cc.patch(url, token=tok, json={"description": "stale"}, headers={"If-Match": STALE})
    assert r.status_code == 412 and r.json()["error"] == "precondition_failed", r.text
    assert cc.get(url, token=tok).headers["ETag"] == etag
    r = cc.patch(url, token=tok, json={"description": "fresh"}, headers={"If-Match": etag})
    assert r.status_code == 200, r.text
    assert cc.delete(url, token=tok, headers={"If-Match": etag}).status_code == 412
    cur = cc.get(url, token=tok).headers["ETag"]
    assert cc.delete(url, token=tok, headers={"If-Match": cur}).status_code == 204
    url = "/api/v1/agents/pause-reasons"
    cur = cc.get(url, token=tok).headers["ETag"]
    r = cc.put(url, token=tok, json={"reasons": ["lunch"]}, headers={"If-Match": STALE})
    assert r.status_code == 412, r.text
    r = cc.put(url, token=tok, json={"reasons": ["lunch"]}, headers={"If-Match": cur})
    assert r.status_code == 200, r.text
    r = cc.put(url, token=tok, json={"reasons": ["coffee"]}, headers={"If-Match": cur})
    assert r.status_code == 412, r.text
    assert cc.get(url, token=tok).json()["reasons"] == ["lunch"]


def test_if_match_on_another_tenants_object_is_404(cc, tenant, tenant2):
    did = cc.post("/api/v1/dids", token=tenant.admin_token,
                  json={"number": "+1558" + str(secrets.randbelow(10**7)).zfill(7)}).json()
    url = f"/api/v1/dids/{did['id']}"
    etag = cc.get(url, token=tenant.admin_token).headers["ETag"]
    for value in (etag, "*", STALE):
        r = cc.patch(url, token=tenant2.admin_token, json={"description": "x"},
                     headers={"If-Match": value})
        assert r.status_code == 404 and r.json()["error"] == "not_found", (value, r.text)
        r = cc.delete(url, token=tenant2.admin_token, headers={"If-Match": value})
        assert r.status_code == 404, (value, r.text)
    assert cc.get(url, token=tenant.admin_token).headers["ETag"] == etag
