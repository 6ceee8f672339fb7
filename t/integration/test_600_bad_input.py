"""Hostile and malformed input on the users and audit-log endpoints: every answer is a
4xx JSON envelope (never a 5xx, never HTML), and nothing in the tenant changes.

Each test uses the `unchanged` fixture: the tenant's users, role assignments and audit
log are snapshotted before and compared after the test.
"""

import http.client
import json
import secrets
from urllib.parse import urlsplit

import pytest

from cchelpers import assert_error, detail_fields, users_state

USERS = "/api/v1/users"
AUDIT = "/api/v1/audit-logs"
MIB = 1024 * 1024


def snapshot(cc, tenant_id):
    return users_state(cc, tenant_id)


@pytest.fixture
def target(cc, tenant):
    """A user of tenant to aim PATCH/PUT/DELETE at."""
    r = cc.post(USERS, token=tenant.admin_token,
                json={"email": f"t-{secrets.token_hex(4)}@{tenant.slug}.example.com",
                      "name": "Target", "password": "Pw1" + secrets.token_hex(8),
                      "roles": ["agent"]})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
def unchanged(cc, tenant, target):
    before = snapshot(cc, tenant.id)
    yield
    assert snapshot(cc, tenant.id) == before, "bad input changed the tenant"
    # The server is still fine afterwards.
    r = cc.get(f"{USERS}/{target['id']}", token=tenant.admin_token)
    assert r.status_code == 200 and r.json() == target


def good_body(tenant):
    return {"email": f"g-{secrets.token_hex(4)}@{tenant.slug}.example.com", "name": "Good",
            "password": "Pw1" + secrets.token_hex(8), "roles": ["agent"]}


def raw(cc, method, path, token, data, content_type="application/json", **kw):
    headers = {} if content_type is None else {"Content-Type": content_type}
    return cc.request(method, path, token=token, data=data, headers=headers, **kw)


class RawResponse:
    """Enough of requests.Response for assert_error."""

    def __init__(self, resp):
        self.status_code = resp.status
        self.headers = {k: v for k, v in resp.getheaders()}
        self.content = resp.read()
        self.text = self.content.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.content)


def raw_get(cc, target, token):
    """GET with the request target sent byte for byte (requests would re-quote a bad
    percent-escape such as %ZZ into %25ZZ)."""
    u = urlsplit(cc.base_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.putrequest("GET", target, skip_accept_encoding=True)
        conn.putheader("Authorization", f"Bearer {token}")
        conn.endheaders()
        return RawResponse(conn.getresponse())
    finally:
        conn.close()


def each_write(target_id):
    """(method, path) of every endpoint that reads a JSON body."""
    return [("POST", USERS), ("PATCH", f"{USERS}/{target_id}"),
            ("PUT", f"{USERS}/{target_id}/roles")]


# ---- JSON syntax ---------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    b'{"email": ',
    b"{'email': 'x'}",
    b'{"name": "x",}',
    b'{"name": "x"} trailing',
    b'{"name": "x"}{"name": "y"}',
    b"{name: 1}",
    b'{"name": "unterminated}',
    b'{"name": "bad escape \\q"}',
    b'{"name": NaN}',
    b'\xef\xbb\xbf{"name": "bom"}',
    b" ",
    b"",
])
def test_malformed_json_is_400(cc, tenant, target, unchanged, data):
    for method, path in each_write(target["id"]):
        assert_error(raw(cc, method, path, tenant.admin_token, data), 400, "invalid_request")


@pytest.mark.parametrize("data", [b"[]", b'[{"name": "x"}]', b'"a string"', b"42", b"null",
                                  b"true", b"-1.5e3"])
def test_non_object_top_level_is_400(cc, tenant, target, unchanged, data):
    for method, path in each_write(target["id"]):
        body = assert_error(raw(cc, method, path, tenant.admin_token, data), 400,
                            "invalid_request")
        assert "object" in body["message"]


def test_duplicate_keys_are_400(cc, tenant, target, unchanged):
    data = json.dumps(good_body(tenant))[:-1] + ', "name": "Second"}'
    assert_error(raw(cc, "POST", USERS, tenant.admin_token, data.encode()), 400,
                 "invalid_request")
    data = b'{"name": "A", "name": "B"}'
    assert_error(raw(cc, "PATCH", f"{USERS}/{target['id']}", tenant.admin_token, data), 400,
                 "invalid_request")
    data = b'{"roles": ["viewer"], "roles": ["tenant_admin"]}'
    assert_error(raw(cc, "PUT", f"{USERS}/{target['id']}/roles", tenant.admin_token, data),
                 400, "invalid_request")


@pytest.mark.parametrize("depth", [50, 5000, 100000])
def test_deeply_nested_json_is_a_clean_400(cc, tenant, target, unchanged, depth):
    for inner in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        data = ('{"name": ' + inner + "}").encode()
        for method, path in each_write(target["id"]):
            r = raw(cc, method, path, tenant.admin_token, data)
            assert_error(r, 400, "invalid_request")
        data = ('{"nested": ' + inner + "}").encode()
        r = raw(cc, "PATCH", f"{USERS}/{target['id']}", tenant.admin_token, data)
        assert_error(r, 400, "invalid_request")


def test_nul_is_400(cc, tenant, target, unchanged):
    for value in ("a\\u0000b", "\\u0000"):
        data = ('{"name": "' + value + '"}').encode()
        assert_error(raw(cc, "PATCH", f"{USERS}/{target['id']}", tenant.admin_token, data),
                     400, "invalid_request")
    body = dict(good_body(tenant), name="nul\x00inside")
    assert_error(cc.post(USERS, token=tenant.admin_token, json=body), 400, "invalid_request")
    body = dict(good_body(tenant), email="a\x00b@x.example.com")
    assert_error(cc.post(USERS, token=tenant.admin_token, json=body), 400, "invalid_request")
    # A raw NUL byte in the body is not JSON either.
    assert_error(raw(cc, "PATCH", f"{USERS}/{target['id']}", tenant.admin_token,
                     b'{"name": "a\x00b"}'), 400, "invalid_request")


def test_invalid_utf8_is_400(cc, tenant, target, unchanged):
    for bad in (b"\xff", b"\xc3", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"):
        data = b'{"name": "x' + bad + b'y"}'
        assert_error(raw(cc, "PATCH", f"{USERS}/{target['id']}", tenant.admin_token, data),
                     400, "invalid_request")
    # A lone surrogate escape is not a character either.
    assert_error(raw(cc, "PATCH", f"{USERS}/{target['id']}", tenant.admin_token,
                     b'{"name": "\\ud800"}'), 400, "invalid_request")


# ---- content type --------------------------------------------------------------------

@pytest.mark.parametrize("ctype", ["text/plain", None, "application/x-www-form-urlencoded",
                                   "application/jsonp", "application/json-patch+json",
                                   "multipart/form-data; boundary=x", "json"])
def test_wrong_content_type_is_415(cc, tenant, target, unchanged, ctype):
    data = json.dumps(good_body(tenant)).encode()
    for method, path in each_write(target["id"]):
        r = raw(cc, method, path, tenant.admin_token, data, content_type=ctype)
        assert_error(r, 415, "unsupported_media_type")


def test_json_content_type_variants_are_accepted(cc, tenant, target):
    for ctype in ("application/json; charset=utf-8", "Application/JSON",
                  "application/json;charset=UTF-8"):
        r = raw(cc, "PATCH", f"{USERS}/{target['id']}", tenant.admin_token,
                b'{"name": "Renamed"}', content_type=ctype)
        assert r.status_code == 200, (ctype, r.text)


# ---- size ----------------------------------------------------------------------------

def chunks(total, size=64 * 1024):
    piece = b'{"name": "' + b"x" * (size - 10)
    sent = 0
    while sent < total:
        yield piece
        sent += len(piece)


@pytest.mark.parametrize("size", [20 * MIB, 2 * MIB, MIB + 1])
def test_oversized_body_is_413(cc, tenant, target, unchanged, size):
    data = b'{"name": "' + b"x" * (size - 12) + b'"}'
    assert len(data) == size
    r = raw(cc, "POST", USERS, tenant.admin_token, data)
    body = assert_error(r, 413, "payload_too_large")
    assert "1048576" in body["message"]
    r = raw(cc, "PATCH", f"{USERS}/{target['id']}", tenant.admin_token, data)
    assert_error(r, 413, "payload_too_large")


@pytest.mark.parametrize("size", [20 * MIB, 2 * MIB])
def test_oversized_chunked_body_is_413(cc, tenant, target, unchanged, size):
    r = raw(cc, "POST", USERS, tenant.admin_token, chunks(size))
    assert r.request.headers.get("Transfer-Encoding") == "chunked"
    assert_error(r, 413, "payload_too_large")
    r = raw(cc, "PUT", f"{USERS}/{target['id']}/roles", tenant.admin_token, chunks(size))
    assert_error(r, 413, "payload_too_large")


def test_chunked_body_under_the_limit_is_read(cc, tenant, target):
    body = json.dumps({"name": "Chunked " + "y" * 100}).encode()
    r = raw(cc, "PATCH", f"{USERS}/{target['id']}", tenant.admin_token,
            (body[i:i + 7] for i in range(0, len(body), 7)))
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Chunked " + "y" * 100


def test_body_just_under_the_limit_is_parsed(cc, tenant, target, unchanged):
    pad = " " * (MIB - 40)
    data = ('{"name": "x",' + pad + '"bogus": 1}').encode()
    assert len(data) <= MIB
    assert_error(raw(cc, "PATCH", f"{USERS}/{target['id']}", tenant.admin_token, data), 400,
                 "invalid_request", "bogus")


# ---- fields ----------------------------------------------------------------------------

def test_unknown_fields_are_400_with_details(cc, tenant, target, unchanged):
    body = dict(good_body(tenant), is_admin=True, tenant_id="x")
    b = assert_error(cc.post(USERS, token=tenant.admin_token, json=body), 400,
                     "invalid_request")
    assert {"is_admin", "tenant_id"} <= set(detail_fields(b))
    b = assert_error(cc.patch(f"{USERS}/{target['id']}", token=tenant.admin_token,
                              json={"Name": "case matters"}), 400, "invalid_request", "Name")
    b = assert_error(cc.put(f"{USERS}/{target['id']}/roles", token=tenant.admin_token,
                            json={"roles": ["agent"], "extra": 1}), 400, "invalid_request",
                     "extra")


def test_wrong_types_are_400_per_field(cc, tenant, target, unchanged):
    body = dict(good_body(tenant), name=5, roles="admin", status=True)
    b = assert_error(cc.post(USERS, token=tenant.admin_token, json=body), 400,
                     "invalid_request")
    assert {"name", "roles", "status"} <= set(detail_fields(b))
    body = dict(good_body(tenant), email=["a@b.example.com"], password=1234567890123)
    b = assert_error(cc.post(USERS, token=tenant.admin_token, json=body), 400,
                     "invalid_request")
    assert {"email", "password"} <= set(detail_fields(b))
    b = assert_error(cc.patch(f"{USERS}/{target['id']}", token=tenant.admin_token,
                              json={"name": 5, "status": True, "email": None,
                                    "password": {"x": 1}}), 400, "invalid_request")
    assert {"name", "status", "email", "password"} <= set(detail_fields(b))
    for roles in ("admin", {"a": 1}, [["agent"]], [None], 7):
        assert_error(cc.put(f"{USERS}/{target['id']}/roles", token=tenant.admin_token,
                            json={"roles": roles}), 400, "invalid_request", "roles")


def test_long_values_are_400(cc, tenant, target, unchanged):
    for field, value in (("name", "n" * 10000), ("name", "😀" * 201),
                         ("email", "e" * 250 + "@x.example.com"),
                         ("password", "p" * 10000)):
        r = cc.patch(f"{USERS}/{target['id']}", token=tenant.admin_token, json={field: value})
        assert_error(r, 400, "invalid_request", field)
    r = cc.put(f"{USERS}/{target['id']}/roles", token=tenant.admin_token,
               json={"roles": ["r" * 64]})
    assert_error(r, 400, "invalid_request", "roles")
    r = cc.put(f"{USERS}/{target['id']}/roles", token=tenant.admin_token,
               json={"roles": ["agent"] * 5000 + ["nope"]})
    assert_error(r, 400, "invalid_request", "roles")


def test_control_characters_are_400(cc, tenant, target, unchanged):
    for value in ("line\x01", "bell\x07", "esc\x1b[31m", "del\x7f"):
        r = cc.patch(f"{USERS}/{target['id']}", token=tenant.admin_token, json={"name": value})
        assert_error(r, 400, "invalid_request", "name")


# ---- query strings ----------------------------------------------------------------------

@pytest.mark.parametrize("query, field", [
    ("page_size=0", "page_size"),
    ("page_size=201", "page_size"),
    ("page_size=abc", "page_size"),
    ("page_size=-1", "page_size"),
    ("page_size=1.5", "page_size"),
    ("page_size=", "page_size"),
    ("page_size=99999999999999999999999", "page_size"),
    ("page=0", "page"),
    ("page=-1", "page"),
    ("page=abc", "page"),
    ("page=1e3", "page"),
    ("sort=password", "sort"),
    ("sort=password_hash", "sort"),
    ("sort=-id", "sort"),
    ("sort=id", "sort"),
    ("sort=--name", "sort"),
    ("sort=", "sort"),
    ("sort=name%20DESC", "sort"),
    ("sort=name;DROP%20TABLE%20users", "sort"),
    ("sort=NAME", "sort"),
    ("q=%ZZ", None),
    ("q=%E2%82", None),
    ("q=%00", None),
    ("q=abc%", None),
    ("q=%4", None),
    ("status=ACTIVE", "status"),
])
def test_bad_list_query_is_400(cc, tenant, target, unchanged, query, field):
    assert_error(raw_get(cc, f"{USERS}?{query}", tenant.admin_token), 400, "invalid_request",
                 field)


@pytest.mark.parametrize("query", ["page_size=0", "sort=password", "sort=-id", "q=%ZZ",
                                   "from=%ZZ", "page=0"])
def test_bad_audit_query_is_400(cc, tenant, target, unchanged, query):
    assert_error(raw_get(cc, f"{AUDIT}?{query}", tenant.admin_token), 400, "invalid_request")


# ---- paths and methods ---------------------------------------------------------------------

@pytest.mark.parametrize("bad_id", ["abc", "99999999999999999999", "-1", "0", "1.5", "1e3",
                                    "0x1", "%20", "+1", "9223372036854775808",
                                    "18446744073709551616"])
def test_malformed_or_huge_ids_are_404(cc, tenant, target, unchanged, bad_id):
    tok = tenant.admin_token
    path = f"{USERS}/{bad_id}"
    assert_error(cc.get(path, token=tok), 404, "not_found")
    assert_error(cc.patch(path, token=tok, json={"name": "x"}), 404, "not_found")
    assert_error(cc.delete(path, token=tok), 404, "not_found")
    assert_error(cc.put(path + "/roles", token=tok, json={"roles": ["agent"]}), 404,
                 "not_found")
    assert_error(cc.get(f"{AUDIT}/{bad_id}", token=tok), 404, "not_found")


def test_leading_zero_does_not_name_the_user(cc, tenant, target, unchanged):
    tok = tenant.admin_token
    assert_error(cc.get(f"{USERS}/0{target['id']}", token=tok), 404, "not_found")
    # Not even for yourself: the self checks compare ids as text.
    assert_error(cc.delete(f"{USERS}/0{tenant.admin_user_id}", token=tok), 404, "not_found")
    assert_error(cc.patch(f"{USERS}/00{tenant.admin_user_id}", token=tok,
                          json={"status": "disabled"}), 404, "not_found")


@pytest.mark.parametrize("path", [
    "/api/v1/nope", "/api/v1/users/", "/api/v1/users//roles", "/api/v1/users/1/unknown",
    "/api/v1/users/1/roles/extra", "/api/v1/Users", "/api/v1/audit-logs/", "/api/v1/",
    "/api/v1", "/api/v1/users/me",
])
def test_unknown_path_is_404_json(cc, tenant, target, unchanged, path):
    r = cc.get(path, token=tenant.admin_token)
    assert_error(r, 404, "not_found")


@pytest.mark.parametrize("method, path, allow", [
    ("PUT", USERS, "GET, POST"),
    ("DELETE", USERS, "GET, POST"),
    ("PATCH", USERS, "GET, POST"),
    ("POST", f"{USERS}/{{id}}", "GET, PATCH, DELETE"),
    ("PUT", f"{USERS}/{{id}}", "GET, PATCH, DELETE"),
    ("GET", f"{USERS}/{{id}}/roles", "PUT"),
    ("POST", f"{USERS}/{{id}}/roles", "PUT"),
    ("DELETE", f"{USERS}/{{id}}/roles", "PUT"),
    ("POST", AUDIT, "GET"),
    ("PATCH", f"{AUDIT}/1", "GET"),
    ("DELETE", f"{AUDIT}/1", "GET"),
])
def test_wrong_method_is_405_with_allow(cc, tenant, target, unchanged, method, path, allow):
    path = path.replace("{id}", str(target["id"]))
    r = cc.request(method, path, token=tenant.admin_token, json={"name": "x"})
    assert_error(r, 405, "method_not_allowed")
    assert [m.strip() for m in r.headers["Allow"].split(",")] == allow.split(", ")


# httpd's core refuses these before any module hook runs (an encoded slash or NUL in the
# path, a bad escape, TRACE, paths outside the API); the ErrorDocuments for 404/405 point
# at /_cc/error and the modules render httpd's own errors on API paths (the 400,
# cc_http_guard_register), so they are JSON envelopes too, never httpd's HTML page.
@pytest.mark.allow_log("AH10244")
@pytest.mark.parametrize("method, target, status, code", [
    ("GET", "/api/v1/users/%2F", 404, "not_found"),
    ("GET", "/api/v1/users/1%2Froles", 404, "not_found"),
    ("GET", "/api/v1/users/%00", 404, "not_found"),
    ("GET", "/api/v1/users/%ZZ", 400, "invalid_request"),
    ("TRACE", "/api/v1/users", 405, "method_not_allowed"),
    ("GET", "/api/v2/users", 404, "not_found"),
    ("GET", "/", 404, "not_found"),
])
def test_errors_from_httpd_core_are_json(cc, tenant, method, target, status, code):
    u = urlsplit(cc.base_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        conn.putheader("Authorization", f"Bearer {tenant.admin_token}")
        conn.endheaders()
        r = RawResponse(conn.getresponse())
    finally:
        conn.close()
    assert_error(r, status, code)


@pytest.mark.parametrize("length", ["abc", "-5", "1 2"])
def test_malformed_content_length_is_a_json_400(cc, tenant, target, unchanged, length):
    u = urlsplit(cc.base_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.putrequest("POST", USERS, skip_accept_encoding=True)
        conn.putheader("Authorization", f"Bearer {tenant.admin_token}")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", length)
        conn.endheaders(b"{}")
        r = RawResponse(conn.getresponse())
    finally:
        conn.close()
    assert_error(r, 400, "invalid_request")


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/users/{me}", "/healthz",
                                  "/api/v1/openapi.json"])
@pytest.mark.parametrize("ranges", ["bytes=0-0,1-1,2-2,3-3", "bytes=0-9", "bytes=-5"])
def test_api_answers_are_not_byte_ranges(cc, tenant, path, ranges):
    """Issue 8 #16: a Range header on a JSON answer gets the whole answer (200), not a
    206 with a slice of JSON."""
    path = path.replace("{me}", str(tenant.admin_user_id))
    whole = cc.get(path, token=tenant.admin_token)
    r = cc.get(path, token=tenant.admin_token, headers={"Range": ranges})
    assert r.status_code == 200, (r.status_code, r.headers)
    assert "Content-Range" not in r.headers
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json().keys() == whole.json().keys()
