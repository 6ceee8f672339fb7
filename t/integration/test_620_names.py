"""Issue 8 #14: one rule for every human-readable name (a user's and a tenant's name, a
tenant's plan, a queue's name) and for what reaches Asterisk as one line (a pause
reason): no C0 control (TAB, CR and LF included), no DEL, no C1 (U+0085 NEL included),
no U+2028 or U+2029.  Each is 400 with a details entry on the field and changes nothing;
accents, dashes, emoji and the no-break space are kept as given.
"""

import secrets

import pytest

from cchelpers import assert_error, db_rows, detail_fields
from ccobjects import OBJECT_FACTORIES

CONTROLS = {
    "tab": "a\tb", "lf": "a\nb", "cr": "a\rb", "del": "a\x7fb", "nel": "a\x85b",
    "c1_csi": "a\x9b0m", "line_separator": "a\u2028b", "paragraph_separator": "a\u2029b",
}
KEPT = "Zo\u00eb \u2014 Caf\u00e9\u00a0\U0001F600"

USERS = "/api/v1/users"
TENANTS = "/api/v1/tenants"
QUEUES = "/api/v1/queues"


def user_body(tenant, name):
    return {"email": f"n-{secrets.token_hex(4)}@{tenant.slug}.example.com", "name": name,
            "password": "Pw1" + secrets.token_hex(8), "roles": ["agent"]}


def count(cc, sql, args):
    return db_rows(cc, sql, args)[0]["n"]


@pytest.mark.parametrize("kind", sorted(CONTROLS))
def test_user_names_refuse_controls(cc, tenant, kind):
    before = count(cc, "SELECT COUNT(*) AS n FROM users WHERE tenant_id = %s", (tenant.id,))
    r = cc.post(USERS, token=tenant.admin_token, json=user_body(tenant, CONTROLS[kind]))
    assert detail_fields(assert_error(r, 400, "invalid_request")) == ["name"]
    assert count(cc, "SELECT COUNT(*) AS n FROM users WHERE tenant_id = %s",
                 (tenant.id,)) == before
    uid = OBJECT_FACTORIES[USERS + "/{id}"](cc, tenant, None)
    r = cc.patch(f"{USERS}/{uid}", token=tenant.admin_token, json={"name": CONTROLS[kind]})
    assert detail_fields(assert_error(r, 400, "invalid_request")) == ["name"]
    assert cc.get(f"{USERS}/{uid}", token=tenant.admin_token).json()["name"] != CONTROLS[kind]


@pytest.mark.parametrize("field", ["name", "plan"])
@pytest.mark.parametrize("kind", sorted(CONTROLS))
def test_tenant_name_and_plan_refuse_controls(cc, tenant, field, kind):
    slug = f"nm-{secrets.token_hex(6)}"
    body = {"name": "Names", "slug": slug, field: CONTROLS[kind]}
    r = cc.post(TENANTS, token=cc.admin_token(), json=body)
    assert detail_fields(assert_error(r, 400, "invalid_request")) == [field]
    assert count(cc, "SELECT COUNT(*) AS n FROM tenants WHERE slug = %s", (slug,)) == 0
    r = cc.patch(f"{TENANTS}/{tenant.id}", token=cc.admin_token(), json={field: CONTROLS[kind]})
    assert detail_fields(assert_error(r, 400, "invalid_request")) == [field]


@pytest.mark.parametrize("kind", sorted(CONTROLS))
def test_queue_names_refuse_controls(cc, tenant, kind):
    r = cc.post(QUEUES, token=tenant.admin_token, json={"name": CONTROLS[kind]})
    assert detail_fields(assert_error(r, 400, "invalid_request")) == ["name"]
    qid = OBJECT_FACTORIES[QUEUES + "/{id}"](cc, tenant, None)
    r = cc.patch(f"{QUEUES}/{qid}", token=tenant.admin_token, json={"name": CONTROLS[kind]})
    assert detail_fields(assert_error(r, 400, "invalid_request")) == ["name"]


@pytest.mark.parametrize("kind", ["nel", "line_separator", "paragraph_separator", "c1_csi"])
def test_pause_reasons_refuse_unicode_line_breaks(cc, tenant, kind):
    qid = OBJECT_FACTORIES[QUEUES + "/{id}"](cc, tenant, None)
    members = f"{QUEUES}/{qid}/members"
    mid = OBJECT_FACTORIES[QUEUES + "/{id}/members/{member_id}"](cc, tenant, members)
    r = cc.patch(f"{members}/{mid}", token=tenant.admin_token,
                 json={"paused": True, "paused_reason": CONTROLS[kind]})
    assert detail_fields(assert_error(r, 400, "invalid_request")) == ["paused_reason"]
    (row,) = db_rows(cc, "SELECT paused, reason_paused FROM queue_members WHERE uniqueid = %s",
                     (mid,))
    assert not row["paused"] and not row["reason_paused"]


def test_visible_unicode_is_kept_as_given(cc, tenant):
    r = cc.post(USERS, token=tenant.admin_token, json=user_body(tenant, KEPT))
    assert r.status_code == 201, r.text
    assert r.json()["name"] == KEPT
    r = cc.post(QUEUES, token=tenant.admin_token, json={"name": KEPT + secrets.token_hex(2)})
    assert r.status_code == 201, r.text
    assert r.json()["name"].startswith(KEPT)
    r = cc.patch(f"{TENANTS}/{tenant.id}", token=cc.admin_token(), json={"plan": KEPT})
    assert r.status_code == 200 and r.json()["plan"] == KEPT, r.text
