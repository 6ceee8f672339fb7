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


def audit_rows(cc, tenant_id, action, entity_id):
    """The audit_logs rows of one action on one entity, oldest first (from the database)."""
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT * FROM audit_logs WHERE tenant_id = %s AND action = %s"
                    " AND entity_id = %s ORDER BY id", (tenant_id, action, str(entity_id)))
        return list(cur.fetchall())


def get_page(cc, path, token, assert_item, headers=None):
    """GET a list endpoint: 200, API.md's page envelope, every item checked by
    assert_item; returns the body."""
    r = cc.get(path, token=token, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"data", "total", "page", "page_size"}, body
    for item in body["data"]:
        assert_item(item)
    return body
