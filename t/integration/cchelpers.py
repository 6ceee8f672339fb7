"""Assertions the integration tests share."""


def detail_fields(body):
    """The fields named by an error envelope's details."""
    return [d["field"] for d in body.get("details", [])]


def assert_error(r, status, code, field=None):
    """r is API.md's JSON error envelope with this status and code, its request_id is
    the X-Request-ID header, and (when field is given) a details entry names field."""
    assert r.status_code == status, f"{r.status_code} {r.text[:500]}"
    assert r.headers["Content-Type"].startswith("application/json"), r.headers
    body = r.json()
    assert body["error"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    assert body["request_id"] == r.headers["X-Request-ID"]
    if field is not None:
        assert field in detail_fields(body), body
    return body
