"""API.md "Telephony", queues and queue members: /api/v1/queues (mod_callcenter/cc_queues.c).

Queues: create (defaults, every field, validation), the realtime `queues` row Asterisk
reads (written in the same transaction, updated by PATCH, removed by DELETE), asterisk_name
(the tenant key plus the slug of the name, platform-unique: two tenants' "support", names
that slugify alike, 80-character names, long tenant slugs), list (paging, sorts, q),
PATCH, DELETE (members go too; 409 while a DID routes to the queue), members_count.

Members: add by endpoint, by user (their one endpoint), or both; the realtime
`queue_members` row (interface and state_interface PJSIP/<endpoint id>, membername,
penalty, paused, reason_paused); list, get, PATCH (pause/unpause rules), DELETE; 409 for
the same endpoint twice; 400 for references outside the tenant.

Music on hold: a global class listed in CCMusicOnHoldClasses (the test config lists
default, jazz, classical and x) or the tenant's own, <key>-<name>; another tenant's class
(a key that extends ours included) or an unlisted one is 400 on POST and PATCH; a class
since dropped from the list stays until a write changes it; the directive's own checks.

Everywhere: tenant isolation (another tenant's queue is 404 and never listed), RBAC
(agent/viewer 403 on writes), one audit entry and one event per mutation, none for a
failed one, and the answers against the OpenAPI document.

Endpoints for members are made through POST /api/v1/endpoints (make_endpoint).
"""

import hashlib
import re
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from cchelpers import (assert_405, assert_error, assert_unauthorized, conf_with,
                       db_exec, db_rows, detail_fields, endpoint_move_writer, openapi_checker,
                       race, tenant_rows)
from ccobjects import (LIKE_LOOKALIKES, Resource, create_named, field_cases, make_did_to,
                       routed_by_a_did, token_with_permissions, uniq_name, with_defaults)

QUEUES = "/api/v1/queues"
QUEUE_KEYS = {"id", "name", "asterisk_name", "strategy", "timeout", "wrapuptime", "maxlen",
              "service_level", "music_on_hold", "members_count", "created_at", "updated_at"}
MEMBER_KEYS = {"id", "queue_id", "user_id", "endpoint_id", "interface", "membername",
               "penalty", "paused", "paused_reason"}
STRATEGIES = ["ringall", "leastrecent", "fewestcalls", "random", "rrmemory", "linear",
              "wrandom", "rrordered"]
DEFAULTS = {"strategy": "ringall", "timeout": 15, "wrapuptime": 0, "maxlen": 0,
            "service_level": 60, "music_on_hold": "default"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


# ---- helpers ---------------------------------------------------------------------

uniq = uniq_name


def slugify(name, room=80):
    """cc_ast_slugify: ASCII letters and digits lower-cased, every other run one '-', none
    at the ends, cut to room without a trailing '-'; "queue" when nothing is left."""
    out = "".join(c.lower() if c.isascii() and c.isalnum() else "-" for c in name)
    out = re.sub(r"-+", "-", out).strip("-")[:room].rstrip("-")
    return out or "queue"


def base_name(tenant, name):
    """The asterisk_name a queue gets when it is free (test tenants' slugs are short, so
    the tenant key is the slug)."""
    return f"{tenant.slug}-{slugify(name, 80 - len(tenant.slug) - 1)}"


def members_path(qid, mid=None):
    return f"{QUEUES}/{qid}/members" + (f"/{mid}" if mid is not None else "")


def add_member(cc, tenant, qid, token=None, **body):
    return cc.post(members_path(qid), token=token or tenant.admin_token, json=body)


def add_member_ok(cc, tenant, qid, **body):
    r = add_member(cc, tenant, qid, **body)
    assert r.status_code == 201, r.text
    m = r.json()
    assert_member_shape(m)
    assert r.headers["Location"] == members_path(qid, m["id"])
    return m


def members(cc, tenant, qid, token=None):
    r = cc.get(members_path(qid), token=token or tenant.admin_token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"data"}, body
    for m in body["data"]:
        assert_member_shape(m)
    return body["data"]


def patch_member(cc, tenant, qid, mid, body, token=None):
    return cc.patch(members_path(qid, mid), token=token or tenant.admin_token, json=body)


def patch_member_ok(cc, tenant, qid, mid, body):
    r = patch_member(cc, tenant, qid, mid, body)
    assert r.status_code == 200, r.text
    assert_member_shape(r.json())
    return r.json()


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def assert_queue_shape(q):
    assert set(q) == QUEUE_KEYS, q
    assert is_int(q["id"]) and q["id"] > 0
    assert isinstance(q["name"], str) and 1 <= len(q["name"]) <= 80
    assert isinstance(q["asterisk_name"], str) and 1 <= len(q["asterisk_name"]) <= 80
    assert re.fullmatch(r"[a-z0-9_-]+", q["asterisk_name"]), q
    assert q["strategy"] in STRATEGIES
    for k in ("timeout", "wrapuptime", "maxlen", "service_level", "members_count"):
        assert is_int(q[k]) and q[k] >= 0, (k, q)
    assert isinstance(q["music_on_hold"], str)
    assert RFC3339.match(q["created_at"]) and RFC3339.match(q["updated_at"])


def assert_member_shape(m):
    assert set(m) == MEMBER_KEYS, m
    for k in ("id", "queue_id", "endpoint_id"):
        assert is_int(m[k]) and m[k] > 0, (k, m)
    assert m["user_id"] is None or (is_int(m["user_id"]) and m["user_id"] > 0)
    assert re.fullmatch(r"PJSIP/[a-z0-9_-]+", m["interface"]), m
    assert isinstance(m["membername"], str) and m["membername"]
    assert is_int(m["penalty"]) and 0 <= m["penalty"] <= 1000
    assert isinstance(m["paused"], bool)
    assert m["paused_reason"] is None or isinstance(m["paused_reason"], str)


QUEUE = Resource(QUEUES, body=with_defaults(name=uniq), shape=assert_queue_shape,
                 check_written=True, entity="queue", table="call_queues")
create, create_ok, get_queue = QUEUE.create, QUEUE.create_ok, QUEUE.get
patch, patch_ok, delete = QUEUE.patch, QUEUE.patch_ok, QUEUE.delete
listing, list_ids = QUEUE.listing, QUEUE.list_ids
audit_rows, event_rows, side_queues = QUEUE.audit_rows, QUEUE.event_rows, QUEUE.rows


def rt_queue(cc, name):
    rows = db_rows(cc, "SELECT * FROM queues WHERE name = %s", (name,))
    return rows[0] if rows else None


def rt_members(cc, queue_name):
    return db_rows(cc, "SELECT * FROM queue_members WHERE queue_name = %s ORDER BY uniqueid",
                   (queue_name,))


def side_members(cc, tenant):
    return tenant_rows(cc, "call_queue_members", tenant)











def writes(cc, tenant):
    """Everything a queue or member mutation writes, to compare before/after a refusal."""
    return (audit_rows(cc, tenant), event_rows(cc, tenant),
            audit_rows(cc, tenant, "queue_member"), event_rows(cc, tenant, "queue_member"),
            side_queues(cc, tenant), side_members(cc, tenant))


def new_extension():
    return f"{secrets.randbelow(10**6):06d}"


def make_endpoint(cc, tenant, user_id=None, extension=None):
    """An endpoint of tenant, made through POST /api/v1/endpoints (its side row plus the
    ps_endpoints/ps_auths/ps_aors rows).  Returns {id, extension, asterisk_id, user_id}."""
    body = {"extension": extension or new_extension()}
    if user_id is not None:
        body["user_id"] = user_id
    r = cc.post("/api/v1/endpoints", token=tenant.admin_token, json=body)
    assert r.status_code == 201, r.text
    ep = r.json()
    return {"id": ep["id"], "extension": ep["extension"], "asterisk_id": ep["sip_username"],
            "user_id": ep["user_id"]}


# ---- create and get ----------------------------------------------------------------

def test_create_minimal_gets_the_defaults_and_the_realtime_row(cc, tenant):
    name = uniq("Support")
    q = QUEUE.post_created(cc, tenant, {"name": name})
    assert_queue_shape(q)
    assert q["name"] == name and q["members_count"] == 0
    for k, v in DEFAULTS.items():
        assert q[k] == v, (k, q)
    assert q["asterisk_name"] == base_name(tenant, name)
    assert q["created_at"] == q["updated_at"]
    g = get_queue(cc, tenant, q["id"])
    assert g.status_code == 200 and g.json() == q
    rt = rt_queue(cc, q["asterisk_name"])
    assert rt is not None
    assert (rt["strategy"], rt["timeout"], rt["wrapuptime"], rt["maxlen"], rt["servicelevel"],
            rt["musiconhold"]) == ("ringall", 15, 0, 0, 60, "default")
    fixed = {"ringinuse": "no", "setinterfacevar": "yes", "setqueueentryvar": "yes",
             "setqueuevar": "yes", "reportholdtime": "no", "autofill": "yes",
             "joinempty": "yes", "leavewhenempty": "no"}
    assert {k: rt[k] for k in fixed} == fixed
    (side,) = side_queues(cc, tenant)
    assert (side["id"], side["name"], side["asterisk_name"]) == (q["id"], name,
                                                                 q["asterisk_name"])


def test_create_with_every_field(cc, tenant):
    body = {"name": uniq("Sales"), "strategy": "rrordered", "timeout": 600, "wrapuptime": 3600,
            "maxlen": 10000, "service_level": 86400, "music_on_hold": f"{tenant.slug}-Jazz_2"}
    q = create_ok(cc, tenant, **body)
    for k, v in body.items():
        assert q[k] == v, (k, q)
    assert get_queue(cc, tenant, q["id"]).json() == q
    rt = rt_queue(cc, q["asterisk_name"])
    assert (rt["strategy"], rt["timeout"], rt["wrapuptime"], rt["maxlen"], rt["servicelevel"],
            rt["musiconhold"]) == ("rrordered", 600, 3600, 10000, 86400,
                                   f"{tenant.slug}-Jazz_2")


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_asterisk_strategy_is_accepted(cc, tenant, strategy):
    q = create_ok(cc, tenant, strategy=strategy)
    assert q["strategy"] == strategy
    assert rt_queue(cc, q["asterisk_name"])["strategy"] == strategy


def test_an_existing_queue_cannot_switch_to_linear(cc, tenant):
    """app_queue keeps a loaded queue's strategy when a reload asks for linear."""
    q = create_ok(cc, tenant, strategy="rrmemory")
    before = writes(cc, tenant)
    r = patch(cc, tenant, q["id"], {"strategy": "linear", "timeout": 30})
    assert_error(r, 409, "conflict", "strategy")
    assert writes(cc, tenant) == before
    assert rt_queue(cc, q["asterisk_name"])["strategy"] == "rrmemory"
    # A queue whose realtime row went missing gets a new one: linear is fine there.
    gone = create_ok(cc, tenant, strategy="ringall")
    db_exec(cc, "DELETE FROM queues WHERE name = %s", (gone["asterisk_name"],))
    assert patch_ok(cc, tenant, gone["id"], {"strategy": "linear"})["strategy"] == "linear"
    # Away from linear is fine, and so is a linear queue staying linear.
    lin = create_ok(cc, tenant, strategy="linear")
    assert patch_ok(cc, tenant, lin["id"], {"strategy": "linear", "timeout": 20})["timeout"] == 20
    assert patch_ok(cc, tenant, lin["id"], {"strategy": "ringall"})["strategy"] == "ringall"


def test_lower_bounds_are_accepted(cc, tenant):
    q = create_ok(cc, tenant, timeout=1, wrapuptime=0, maxlen=0, service_level=0,
                  music_on_hold="x")
    assert (q["timeout"], q["wrapuptime"], q["maxlen"], q["service_level"],
            q["music_on_hold"]) == (1, 0, 0, 0, "x")


def test_platform_admin_creates_inside_a_tenant_with_x_tenant_id(cc, tenant):
    name = uniq()
    r = cc.post(QUEUES, token=cc.admin_token(), headers={"X-Tenant-ID": tenant.id},
                json={"name": name})
    assert r.status_code == 201, r.text
    # Named after the tenant acted in, not the platform tenant.
    assert r.json()["asterisk_name"] == base_name(tenant, name)
    assert get_queue(cc, tenant, r.json()["id"]).status_code == 200


def test_get_unknown_or_malformed_id_is_404(cc, tenant):
    for bad in ("999999999", "0", "-1", "abc", "1.5", "9" * 30):
        assert_error(cc.get(f"{QUEUES}/{bad}", token=tenant.admin_token), 404, "not_found")


def test_unicode_and_sql_looking_names_are_stored_unchanged(cc, tenant):
    for name in ["'; DROP TABLE call_queues; --", "Soporte técnico \U0001F4DE 電話",
                 "100% _match_ \\ back", "é" * 80, "\U0001F600" * 80, " spaced out "]:
        q = create_ok(cc, tenant, name=name)
        assert q["name"] == name
        assert get_queue(cc, tenant, q["id"]).json()["name"] == name
        assert len(q["asterisk_name"]) <= 80


# ---- validation ----------------------------------------------------------------------

@pytest.mark.parametrize("body, field", [
    ({"name": None}, "name"),                     # missing (required)
    ({"name": ""}, "name"),
    ({"name": "x" * 81}, "name"),
    ({"name": "tab\there"}, "name"),
    ({"name": "line\nbreak"}, "name"),
    ({"name": "bell\x07"}, "name"),
    ({"name": 5}, "name"),
    ({"name": ["a"]}, "name"),
    ({"strategy": "roundrobin"}, "strategy"),
    ({"strategy": "RINGALL"}, "strategy"),
    ({"strategy": ""}, "strategy"),
    ({"strategy": None}, "strategy"),
    ({"timeout": 0}, "timeout"),
    ({"timeout": 601}, "timeout"),
    ({"timeout": -1}, "timeout"),
    ({"timeout": "15"}, "timeout"),
    ({"timeout": 1.5}, "timeout"),
    ({"timeout": True}, "timeout"),
    ({"timeout": None}, "timeout"),
    ({"timeout": 2**40}, "timeout"),
    ({"wrapuptime": -1}, "wrapuptime"),
    ({"wrapuptime": 3601}, "wrapuptime"),
    ({"maxlen": -1}, "maxlen"),
    ({"maxlen": 10001}, "maxlen"),
    ({"service_level": -1}, "service_level"),
    ({"service_level": 86401}, "service_level"),
    ({"music_on_hold": ""}, "music_on_hold"),
    ({"music_on_hold": "jazz music"}, "music_on_hold"),
    ({"music_on_hold": "../etc"}, "music_on_hold"),
    ({"music_on_hold": "x" * 129}, "music_on_hold"),
    ({"music_on_hold": None}, "music_on_hold"),
    ({"asterisk_name": "mine"}, "asterisk_name"),
    ({"members_count": 3}, "members_count"),
    ({"tenant_id": "x"}, "tenant_id"),
    ({"id": 5}, "id"),
    ({"extra": 1}, "extra"),
])
def test_create_rejects_bad_fields(cc, tenant, body, field):
    full = {"name": uniq(), **body}
    if "name" in body and body["name"] is None:
        del full["name"]
    r = cc.post(QUEUES, token=tenant.admin_token, json=full)
    assert_error(r, 400, "invalid_request", field)
    assert side_queues(cc, tenant) == [] and audit_rows(cc, tenant) == []


def test_every_problem_is_reported_at_once(cc, tenant):
    r = cc.post(QUEUES, token=tenant.admin_token,
                json={"name": "", "strategy": "x", "timeout": 0, "wrapuptime": -1,
                      "maxlen": -1, "service_level": -1, "music_on_hold": "a b"})
    body = assert_error(r, 400, "invalid_request")
    assert set(detail_fields(body)) == {"name", "strategy", "timeout", "wrapuptime", "maxlen",
                                        "service_level", "music_on_hold"}, body
    # Member bodies too.
    q = create_ok(cc, tenant)
    r = add_member(cc, tenant, q["id"], endpoint_id=0, user_id=-1, penalty=5000,
                   paused_reason="x" * 100)
    body = assert_error(r, 400, "invalid_request")
    assert set(detail_fields(body)) == {"endpoint_id", "user_id", "penalty",
                                        "paused_reason"}, body


def test_non_json_body_is_415_and_malformed_json_400(cc, tenant):
    q = create_ok(cc, tenant)
    for method, path in (("POST", QUEUES), ("PATCH", f"{QUEUES}/{q['id']}"),
                         ("POST", members_path(q["id"]))):
        r = cc.request(method, path, token=tenant.admin_token, data=b"name=x",
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert_error(r, 415, "unsupported_media_type")
        for raw in (b"", b"{", b"[]", b'"x"', b'{"name": "a", "name": "b"}'):
            r = cc.request(method, path, token=tenant.admin_token, data=raw,
                           headers={"Content-Type": "application/json"})
            assert_error(r, 400, "invalid_request")
    assert len(side_queues(cc, tenant)) == 1


def test_wrong_method_is_405_with_allow(cc, tenant):
    q = create_ok(cc, tenant)
    assert_405(cc, tenant.admin_token,
               [("PUT", f"{QUEUES}/{q['id']}", "GET, PATCH, DELETE", {}),
                ("DELETE", QUEUES, "GET, POST", {}),
                ("PATCH", members_path(q["id"]), "GET, POST", {}),
                ("POST", members_path(q["id"], 1), "GET, PATCH, DELETE", {})])


# ---- names: uniqueness and the Asterisk namespace -----------------------------------

def test_duplicate_name_in_the_tenant_is_409(cc, tenant):
    q = create_ok(cc, tenant, name="Support desk")
    before = writes(cc, tenant)
    for name in ("Support desk", "support DESK"):         # the collation ignores case
        assert_error(create(cc, tenant, name=name), 409, "conflict", "name")
    assert writes(cc, tenant) == before
    other = create_ok(cc, tenant)
    assert_error(patch(cc, tenant, other["id"], {"name": "SUPPORT desk"}), 409, "conflict",
                 "name")
    assert get_queue(cc, tenant, other["id"]).json() == other
    # Renaming to a case variant of its own name is fine.
    p = patch_ok(cc, tenant, q["id"], {"name": "SUPPORT DESK"})
    assert p["name"] == "SUPPORT DESK" and p["asterisk_name"] == q["asterisk_name"]


def test_two_tenants_both_create_support(cc, tenant, tenant2):
    a = create_ok(cc, tenant, name="support")
    b = create_ok(cc, tenant2, name="support")
    assert a["asterisk_name"] == f"{tenant.slug}-support"
    assert b["asterisk_name"] == f"{tenant2.slug}-support"
    assert a["asterisk_name"] != b["asterisk_name"]
    assert rt_queue(cc, a["asterisk_name"]) and rt_queue(cc, b["asterisk_name"])
    assert get_queue(cc, tenant, a["id"]).json()["name"] == "support"
    assert get_queue(cc, tenant2, b["id"]).json()["name"] == "support"


def test_names_that_slugify_alike_get_distinct_asterisk_names(cc, tenant):
    a = create_ok(cc, tenant, name="Sales!")
    b = create_ok(cc, tenant, name="sales?")
    c = create_ok(cc, tenant, name="SALES")
    assert a["asterisk_name"] == f"{tenant.slug}-sales"
    assert b["asterisk_name"] == f"{tenant.slug}-sales_{b['id']}"
    assert c["asterisk_name"] == f"{tenant.slug}-sales_{c['id']}"
    for q in (a, b, c):
        assert rt_queue(cc, q["asterisk_name"]) is not None
        assert get_queue(cc, tenant, q["id"]).json() == q
    names = [row["asterisk_name"] for row in side_queues(cc, tenant)]
    assert len(set(names)) == 3 and not any(n.startswith("~") for n in names)
    # A name ending in another queue's id does not meet that queue's fallback.
    d = create_ok(cc, tenant, name=f"Sales {b['id']}")
    assert d["asterisk_name"] == f"{tenant.slug}-sales-{b['id']}"
    # The audit entry and event carry the final name, not the placeholder.
    (ev,) = [e for e in event_rows(cc, tenant) if e["entity_id"] == str(b["id"])]
    assert ev["data"]["asterisk_name"] == b["asterisk_name"]


def test_concurrent_creates_of_names_that_slugify_alike(cc, tenant):
    names = ["Help!", "help?", "HELP", "help.", "help#", "(help)", "help~", "help,"]

    def one(name):
        return create(cc, tenant, name=name)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, names))
    assert [r.status_code for r in results] == [201] * len(names), \
        [(r.status_code, r.text[:200]) for r in results]
    anames = {r.json()["asterisk_name"] for r in results}
    assert len(anames) == len(names)
    assert f"{tenant.slug}-help" in anames
    for n in anames:
        assert rt_queue(cc, n) is not None


def test_concurrent_creates_of_one_name_make_one_queue(cc, tenant):
    name = uniq("Same")

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(lambda _: create(cc, tenant, name=name).status_code, range(6)))
    assert sorted(codes) == [201] + [409] * 5, codes
    assert len(side_queues(cc, tenant)) == 1
    assert len(audit_rows(cc, tenant)) == 1


def test_an_80_character_name_gives_an_asterisk_name_of_at_most_80(cc, tenant):
    long_name = "a" * 80
    q = create_ok(cc, tenant, name=long_name)
    assert len(q["asterisk_name"]) == 80
    assert q["asterisk_name"] == f"{tenant.slug}-" + "a" * (79 - len(tenant.slug))
    # The same cut from a different name: the fallback still fits.
    q2 = create_ok(cc, tenant, name="a" * 79 + "b")
    assert len(q2["asterisk_name"]) <= 80
    assert q2["asterisk_name"].endswith(f"_{q2['id']}")
    for qq in (q, q2):
        assert rt_queue(cc, qq["asterisk_name"]) is not None


def test_a_long_tenant_slug_keeps_asterisk_names_within_80(cc):
    slug = "long-" + secrets.token_hex(29)                    # 63 characters
    r = cc.post("/api/v1/tenants", token=cc.admin_token(), json={"name": "Long", "slug": slug})
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    hdrs = {"X-Tenant-ID": tid}
    names = []
    for name in ("x" * 80, "x" * 79 + "!"):
        r = cc.post(QUEUES, token=cc.admin_token(), headers=hdrs, json={"name": name})
        assert r.status_code == 201, r.text
        names.append(r.json()["asterisk_name"])
    assert names[0] != names[1]
    for n in names:
        assert len(n) <= 80 and not n.startswith(slug)      # the derived key, not the slug
        assert n.startswith(slug[:11] + "_")
        assert rt_queue(cc, n) is not None


def test_a_stray_realtime_row_makes_create_409_and_leaves_nothing(cc, tenant):
    name = uniq("Stray")
    db_exec(cc, "INSERT INTO queues (name, strategy) VALUES (%s, 'linear')",
            (base_name(tenant, name),))
    before = writes(cc, tenant)
    assert_error(create(cc, tenant, name=name), 409, "conflict", "name")
    assert writes(cc, tenant) == before
    assert rt_queue(cc, base_name(tenant, name))["strategy"] == "linear"   # untouched
    db_exec(cc, "DELETE FROM queues WHERE name = %s", (base_name(tenant, name),))
    assert create_ok(cc, tenant, name=name)["asterisk_name"] == base_name(tenant, name)


# ---- list --------------------------------------------------------------------------

def test_list_envelope_total_paging_and_default_sort(cc, tenant):
    made = [create_ok(cc, tenant, name=n) for n in ("delta", "Alpha", "charlie", "bravo",
                                                    "echo")]
    by_name = [q["id"] for q in sorted(made, key=lambda q: q["name"].lower())]
    QUEUE.assert_paging(cc, tenant, by_name)
    past = listing(cc, tenant.admin_token, "?page=9&page_size=2&q=a")
    assert past["data"] == [] and past["total"] == 4               # alpha charlie bravo delta


def test_list_sorts(cc, tenant):
    made = [create_ok(cc, tenant, name=n) for n in ("m", "b", "z", "k")]
    by_name, _ = QUEUE.assert_sorts(cc, tenant, made, "name")
    assert list_ids(cc, tenant.admin_token, "?sort=-name&q=") == by_name[::-1]


def test_list_q_filter(cc, tenant):
    a = create_ok(cc, tenant, name="Main SALES line")
    b = create_ok(cc, tenant, name="night sales")
    create_ok(cc, tenant, name="support")
    made = create_named(QUEUE, cc, tenant, LIKE_LOOKALIKES)
    pct, und = made["100% sure"], made["snake_case"]
    t = tenant.admin_token

    def ids(query):
        body = listing(cc, t, query)
        assert body["total"] == len(body["data"])
        return sorted(q["id"] for q in body["data"])

    assert ids("?q=sales") == sorted([a["id"], b["id"]])
    assert ids("?q=SALES+line") == [a["id"]]
    assert ids("?q=%25") == [pct["id"]]
    assert ids("?q=e_c") == [und["id"]]
    assert ids("?q=%25'+OR+1%3D1+--") == []
    assert ids("?q=nothing-matches") == []
    assert len(ids("?q=")) == 7


# ---- update --------------------------------------------------------------------------

def test_patch_changes_each_field_and_the_realtime_row(cc, tenant):
    q = create_ok(cc, tenant, name=uniq("Old"))
    new_name = uniq("New")
    p = patch_ok(cc, tenant, q["id"], {"name": new_name})
    assert p["name"] == new_name
    assert p["asterisk_name"] == q["asterisk_name"]          # never renamed in Asterisk
    changes = {"strategy": "leastrecent", "timeout": 30, "wrapuptime": 10, "maxlen": 5,
               "service_level": 20, "music_on_hold": "classical"}
    for k, v in changes.items():
        p = patch_ok(cc, tenant, q["id"], {k: v})
        assert p[k] == v
    assert (p["id"], p["created_at"], p["name"]) == (q["id"], q["created_at"], new_name)
    assert get_queue(cc, tenant, q["id"]).json() == p
    rt = rt_queue(cc, q["asterisk_name"])
    assert (rt["strategy"], rt["timeout"], rt["wrapuptime"], rt["maxlen"], rt["servicelevel"],
            rt["musiconhold"]) == ("leastrecent", 30, 10, 5, 20, "classical")
    assert rt["ringinuse"] == "no" and rt["autofill"] == "yes"
    assert rt_queue(cc, base_name(tenant, new_name)) is None
    assert len(db_rows(cc, "SELECT name FROM queues WHERE name LIKE %s",
                       (tenant.slug + "-%",))) == 1


def test_patch_several_fields_at_once(cc, tenant):
    q = create_ok(cc, tenant)
    p = patch_ok(cc, tenant, q["id"], {"strategy": "wrandom", "timeout": 600, "maxlen": 0})
    assert (p["strategy"], p["timeout"], p["maxlen"]) == ("wrandom", 600, 0)


@pytest.mark.parametrize("body, field", field_cases(
    name=["", None, "x" * 81], strategy=["roundrobin"], timeout=[0], wrapuptime=[3601],
    maxlen=["5"], service_level=[-5], music_on_hold=["a;b"], asterisk_name=["x"],
    members_count=[0], created_at=["2026-01-01T00:00:00Z"]))
def test_patch_rejects_bad_fields(cc, tenant, body, field):
    QUEUE.assert_patch_of_a_new_one_rejected(cc, tenant, body, field)


def test_patch_without_changes_writes_nothing(cc, tenant):
    q = create_ok(cc, tenant, name=uniq("Same"), strategy="linear")
    before = writes(cc, tenant)
    for body in ({}, {"name": q["name"]}, {"strategy": "linear", "timeout": 15,
                                           "music_on_hold": "default"}):
        assert patch_ok(cc, tenant, q["id"], body) == q
    assert writes(cc, tenant) == before


def test_patch_puts_back_a_missing_realtime_row(cc, tenant):
    q = create_ok(cc, tenant, strategy="linear", timeout=40)
    db_exec(cc, "DELETE FROM queues WHERE name = %s", (q["asterisk_name"],))
    g = get_queue(cc, tenant, q["id"]).json()                 # still answered
    assert g["strategy"] is None and g["name"] == q["name"]
    p = patch_ok(cc, tenant, q["id"], {"strategy": "random"})
    assert p["strategy"] == "random"
    assert (p["timeout"], p["music_on_hold"]) == (15, "default")     # the defaults
    rt = rt_queue(cc, q["asterisk_name"])
    assert (rt["strategy"], rt["timeout"], rt["autofill"]) == ("random", 15, "yes")


def test_patch_and_delete_unknown_ids_are_404(cc, tenant):
    for bad in ("999999999", "0", "abc"):
        assert_error(patch(cc, tenant, bad, {"timeout": 20}), 404, "not_found")
        assert_error(delete(cc, tenant, bad), 404, "not_found")
    assert audit_rows(cc, tenant) == [] and event_rows(cc, tenant) == []


# ---- music on hold -------------------------------------------------------------------

def in_tenant(cc, tid, method, path, body=None):
    """A request of the platform admin inside tenant tid (X-Tenant-ID)."""
    return cc.request(method, path, token=cc.admin_token(), headers={"X-Tenant-ID": tid},
                      json=body)


def new_tenant(cc, slug):
    r = cc.post("/api/v1/tenants", token=cc.admin_token(), json={"name": slug, "slug": slug})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_music_on_hold_may_be_a_listed_class_or_the_tenants_own(cc, tenant):
    own = [f"{tenant.slug}-hold", f"{tenant.slug.upper()}-Hold_2",   # case as Asterisk
           f"{tenant.slug}-eu_hold"]
    for moh in ["default", "jazz", "JAZZ", "x", *own]:
        q = create_ok(cc, tenant, music_on_hold=moh)
        assert q["music_on_hold"] == moh
        assert rt_queue(cc, q["asterisk_name"])["musiconhold"] == moh
    q = create_ok(cc, tenant)
    assert q["music_on_hold"] == "default"              # the first listed class
    for moh in ("classical", *own, "default"):
        assert patch_ok(cc, tenant, q["id"], {"music_on_hold": moh})["music_on_hold"] == moh
        assert rt_queue(cc, q["asterisk_name"])["musiconhold"] == moh


def refused_classes(tenant, tenant2):
    return ["rock",                                     # not listed
            "soft-jazz",                                # tenant "soft"'s, not a global one
            f"{tenant2.slug}-hold", f"{tenant2.slug.upper()}-HOLD",
            f"{tenant.slug}-eu-hold",                   # tenant <slug>-eu's "hold"
            f"{tenant.slug}-",
            f"{tenant.slug}x-hold"]


def test_another_tenants_or_an_unlisted_class_is_400_on_create(cc, tenant, tenant2):
    for moh in refused_classes(tenant, tenant2):
        r = create(cc, tenant, music_on_hold=moh)
        body = assert_error(r, 400, "invalid_request", "music_on_hold")
        issue = [d["issue"] for d in body["details"] if d["field"] == "music_on_hold"][0]
        assert "default, jazz, classical, x" in issue and f"{tenant.slug}-<name>" in issue
    assert writes(cc, tenant) == ([], [], [], [], [], [])
    assert db_rows(cc, "SELECT name FROM queues WHERE name LIKE %s",
                   (tenant.slug + "-%",)) == []
    # With the body's other problems, at once.
    r = create(cc, tenant, name="", timeout=0, music_on_hold=f"{tenant2.slug}-hold")
    body = assert_error(r, 400, "invalid_request")
    assert detail_fields(body) == ["name", "timeout", "music_on_hold"], body


def test_another_tenants_or_an_unlisted_class_is_400_on_patch(cc, tenant, tenant2):
    q = create_ok(cc, tenant, music_on_hold="jazz")
    before = writes(cc, tenant)
    for moh in refused_classes(tenant, tenant2):
        r = patch(cc, tenant, q["id"], {"music_on_hold": moh, "timeout": 30})
        assert_error(r, 400, "invalid_request", "music_on_hold")
    assert writes(cc, tenant) == before
    rt = rt_queue(cc, q["asterisk_name"])
    assert (rt["musiconhold"], rt["timeout"]) == ("jazz", 15)


def test_a_key_that_extends_another_keys_owns_only_its_own_classes(cc, tenant):
    """Tenant <slug>-eu's key starts with tenant <slug>'s key and '-': each owns only the
    classes whose part before the last '-' is its key."""
    eu = new_tenant(cc, tenant.slug + "-eu")
    r = in_tenant(cc, eu, "POST", QUEUES, {"name": "Q", "music_on_hold": f"{tenant.slug}-eu-hold"})
    assert r.status_code == 201, r.text
    assert r.json()["music_on_hold"] == f"{tenant.slug}-eu-hold"
    for moh in (f"{tenant.slug}-hold", f"{tenant.slug}-eu_hold"):   # <slug>'s classes
        assert_error(in_tenant(cc, eu, "POST", QUEUES, {"name": "R", "music_on_hold": moh}),
                     400, "invalid_request", "music_on_hold")
    assert_error(create(cc, tenant, music_on_hold=f"{tenant.slug}-eu-hold"), 400,
                 "invalid_request", "music_on_hold")
    assert create_ok(cc, tenant, music_on_hold=f"{tenant.slug}-eu_hold")


def test_a_long_slugs_classes_start_with_its_derived_key(cc):
    slug = "moh-" + secrets.token_hex(20)                     # 44 characters
    key = slug[:11] + "_" + hashlib.sha256(slug.encode()).hexdigest()[:12]
    tid = new_tenant(cc, slug)
    r = in_tenant(cc, tid, "POST", QUEUES, {"name": "Q", "music_on_hold": f"{key}-hold"})
    assert r.status_code == 201, r.text
    assert r.json()["asterisk_name"].startswith(key + "-")   # the same key as the queue's
    for moh in (f"{slug}-hold", f"{slug[:11]}-hold"):
        assert_error(in_tenant(cc, tid, "POST", QUEUES, {"name": "R", "music_on_hold": moh}),
                     400, "invalid_request", "music_on_hold")


def test_a_class_dropped_from_the_list_stays_until_a_write_changes_it(cc, tenant, tenant2):
    """The list changed (or the row was written before the check existed): reads and
    PATCHes that leave music_on_hold alone keep working; only a new class is checked."""
    for old in ("retired", f"{tenant2.slug}-hold"):
        q = create_ok(cc, tenant, music_on_hold="jazz")
        db_exec(cc, "UPDATE queues SET musiconhold = %s WHERE name = %s",
                (old, q["asterisk_name"]))
        assert get_queue(cc, tenant, q["id"]).json()["music_on_hold"] == old
        assert q["id"] in list_ids(cc, tenant.admin_token, "?q=")
        p = patch_ok(cc, tenant, q["id"], {"timeout": 30, "name": uniq("Kept")})
        assert (p["timeout"], p["music_on_hold"]) == (30, old)
        assert patch_ok(cc, tenant, q["id"], {"music_on_hold": old, "maxlen": 3})["maxlen"] == 3
        assert rt_queue(cc, q["asterisk_name"])["musiconhold"] == old
        assert_error(patch(cc, tenant, q["id"], {"music_on_hold": old.upper()}), 400,
                     "invalid_request", "music_on_hold")
        assert patch_ok(cc, tenant, q["id"], {"music_on_hold": "default"})["music_on_hold"] \
            == "default"
        assert_error(patch(cc, tenant, q["id"], {"music_on_hold": old}), 400,
                     "invalid_request", "music_on_hold")       # no way back


@pytest.mark.parametrize("value", ["", "default soft-jazz", "default a;b", "x" * 129])
def test_the_directive_takes_only_global_class_names(cc, value):
    rc, out = cc.config_test(conf_with(cc, "CCMusicOnHoldClasses", value))
    assert rc != 0, out
    assert "CCMusicOnHoldClasses" in out


def test_the_directive_accepts_global_names(cc):
    rc, out = cc.config_test(conf_with(cc, "CCMusicOnHoldClasses",
                                       "default soft_jazz Classical2"))
    assert rc == 0, out


# ---- delete --------------------------------------------------------------------------

def test_delete_removes_the_queue_its_members_and_realtime_rows(cc, tenant):
    q = create_ok(cc, tenant)
    other = create_ok(cc, tenant)
    eps = [make_endpoint(cc, tenant) for _ in range(3)]
    for ep in eps:
        add_member_ok(cc, tenant, q["id"], endpoint_id=ep["id"])
    kept = add_member_ok(cc, tenant, other["id"], endpoint_id=eps[0]["id"])
    assert len(rt_members(cc, q["asterisk_name"])) == 3
    r = delete(cc, tenant, q["id"])
    assert r.status_code == 204 and r.content == b""
    assert_error(get_queue(cc, tenant, q["id"]), 404, "not_found")
    assert_error(delete(cc, tenant, q["id"]), 404, "not_found")
    assert_error(cc.get(members_path(q["id"]), token=tenant.admin_token), 404, "not_found")
    assert rt_queue(cc, q["asterisk_name"]) is None
    assert rt_members(cc, q["asterisk_name"]) == []
    assert [m["id"] for m in side_members(cc, tenant)] == [kept["id"]]
    assert [row["id"] for row in side_queues(cc, tenant)] == [other["id"]]
    # The other queue and the endpoints are untouched.
    assert len(rt_members(cc, other["asterisk_name"])) == 1
    assert len(db_rows(cc, "SELECT id FROM endpoints WHERE tenant_id = %s", (tenant.id,))) == 3
    # The name and the Asterisk name are free again.
    again = create_ok(cc, tenant, name=q["name"])
    assert again["asterisk_name"] == q["asterisk_name"] and again["id"] != q["id"]


def test_delete_is_409_while_a_did_routes_to_the_queue(cc, tenant):
    q = create_ok(cc, tenant)
    with routed_by_a_did(cc, tenant, "queue", q["id"]):
        before = writes(cc, tenant)
        body = assert_error(delete(cc, tenant, q["id"]), 409, "conflict")
        assert "DID" in body["message"]
        assert writes(cc, tenant) == before
        assert rt_queue(cc, q["asterisk_name"]) is not None
    assert delete(cc, tenant, q["id"]).status_code == 204


def test_another_tenants_did_does_not_block_delete(cc, tenant, tenant2):
    q = create_ok(cc, tenant)
    q2 = create_ok(cc, tenant2)
    make_did_to(cc, tenant2, "queue", q2["id"])
    # tenant2's DID names tenant2's queue, whose id differs; make one with our id too.
    db_exec(cc, "UPDATE dids SET destination_id = %s WHERE tenant_id = %s",
            (q["id"], tenant2.id))
    assert delete(cc, tenant, q["id"]).status_code == 204


# ---- members: create -----------------------------------------------------------------

def test_add_member_by_endpoint_without_user(cc, tenant):
    q = create_ok(cc, tenant)
    ep = make_endpoint(cc, tenant)
    m = add_member_ok(cc, tenant, q["id"], endpoint_id=ep["id"])
    assert m == {"id": m["id"], "queue_id": q["id"], "user_id": None, "endpoint_id": ep["id"],
                 "interface": f"PJSIP/{ep['asterisk_id']}", "membername": ep["extension"],
                 "penalty": 0, "paused": False, "paused_reason": None}
    (rt,) = rt_members(cc, q["asterisk_name"])
    assert (rt["interface"], rt["state_interface"], rt["membername"], rt["penalty"],
            rt["paused"], rt["reason_paused"]) == (m["interface"], m["interface"],
                                                   ep["extension"], 0, 0, None)
    (side,) = side_members(cc, tenant)
    assert (side["id"], side["queue_id"], side["endpoint_id"]) == (m["id"], q["id"], ep["id"])
    assert members(cc, tenant, q["id"]) == [m]
    g = cc.get(members_path(q["id"], m["id"]), token=tenant.admin_token)
    assert g.status_code == 200 and g.json() == m
    assert get_queue(cc, tenant, q["id"]).json()["members_count"] == 1


def test_add_member_by_user_uses_their_endpoint_and_name(cc, tenant):
    user, _ = tenant.make_user(name="Ana María Núñez")
    q = create_ok(cc, tenant)
    ep = make_endpoint(cc, tenant, user_id=user["id"])
    m = add_member_ok(cc, tenant, q["id"], user_id=user["id"], penalty=7, paused=True,
                      paused_reason="Lunch")
    assert (m["user_id"], m["endpoint_id"], m["membername"], m["penalty"], m["paused"],
            m["paused_reason"]) == (user["id"], ep["id"], "Ana María Núñez", 7, True, "Lunch")
    (rt,) = rt_members(cc, q["asterisk_name"])
    assert (rt["membername"], rt["penalty"], rt["paused"], rt["reason_paused"]) == \
        ("Ana María Núñez", 7, 1, "Lunch")


def test_add_member_by_endpoint_and_user(cc, tenant):
    user, _ = tenant.make_user()
    other, _ = tenant.make_user()
    q = create_ok(cc, tenant)
    ep = make_endpoint(cc, tenant, user_id=user["id"])
    free = make_endpoint(cc, tenant)
    r = add_member(cc, tenant, q["id"], endpoint_id=ep["id"], user_id=other["id"])
    assert_error(r, 400, "invalid_request", "endpoint_id")
    r = add_member(cc, tenant, q["id"], endpoint_id=free["id"], user_id=user["id"])
    assert_error(r, 400, "invalid_request", "endpoint_id")
    m = add_member_ok(cc, tenant, q["id"], endpoint_id=ep["id"], user_id=user["id"])
    assert (m["endpoint_id"], m["user_id"]) == (ep["id"], user["id"])


def fits_app_queue(name, limit=79):
    """name cut on a character boundary to app_queue's 79-byte member name buffer."""
    out = ""
    for ch in name:
        if len((out + ch).encode()) > limit:
            break
        out += ch
    return out


def test_membername_is_cut_to_79_bytes_on_a_character_boundary(cc, tenant):
    name = "\u00d1" * 30 + "\U0001F600" * 30                    # 60 bytes + 120 bytes
    user, _ = tenant.make_user(name=name)
    q = create_ok(cc, tenant)
    make_endpoint(cc, tenant, user_id=user["id"])
    m = add_member_ok(cc, tenant, q["id"], user_id=user["id"])
    want = "\u00d1" * 30 + "\U0001F600" * 4                      # 76 bytes
    assert want == fits_app_queue(name)
    assert m["membername"] == want
    assert rt_members(cc, q["asterisk_name"])[0]["membername"] == want


def test_control_characters_never_reach_asterisk(cc, tenant):
    """membername and reason_paused travel in AMI events ("Key: Value" lines): a CR/LF
    in them would forge an event on the bus every tenant shares.  The API refuses such a
    name (issue 8 #14): this one was stored before that rule, straight in the table."""
    user, _ = tenant.make_user()
    db_exec(cc, "UPDATE users SET name = %s WHERE id = %s",
            ("Eve\r\nEvent: QueueMemberRemoved\u2028\x85", user["id"]))
    q = create_ok(cc, tenant)
    make_endpoint(cc, tenant, user_id=user["id"])
    m = add_member_ok(cc, tenant, q["id"], user_id=user["id"])
    assert m["membername"] == "EveEvent: QueueMemberRemoved"
    for reason in ("lunch\r\nEvent: Foo", "tab\tbreak", "x" * 80, "lunch\u2028Event: Foo"):
        r = add_member(cc, tenant, q["id"], user_id=user["id"], paused=True,
                       paused_reason=reason)
        assert_error(r, 400, "invalid_request", "paused_reason")
        r = cc.patch(f"{QUEUES}/{q['id']}/members/{m['id']}", token=tenant.admin_token,
                     json={"paused": True, "paused_reason": reason})
        assert_error(r, 400, "invalid_request", "paused_reason")
    (row,) = rt_members(cc, q["asterisk_name"])
    assert "\r" not in row["membername"] and row["reason_paused"] is None


def test_a_user_with_several_endpoints_needs_endpoint_id(cc, tenant):
    user, _ = tenant.make_user()
    q = create_ok(cc, tenant)
    make_endpoint(cc, tenant, user_id=user["id"])
    second = make_endpoint(cc, tenant, user_id=user["id"])
    body = assert_error(add_member(cc, tenant, q["id"], user_id=user["id"]), 400,
                        "invalid_request", "user_id")
    assert "endpoint_id" in body["details"][0]["issue"]
    m = add_member_ok(cc, tenant, q["id"], user_id=user["id"], endpoint_id=second["id"])
    assert m["endpoint_id"] == second["id"]


def test_a_user_without_endpoint_is_400(cc, tenant):
    user, _ = tenant.make_user()
    q = create_ok(cc, tenant)
    body = assert_error(add_member(cc, tenant, q["id"], user_id=user["id"]), 400,
                        "invalid_request", "user_id")
    assert "no endpoint" in body["details"][0]["issue"]


def test_deleted_or_unknown_references_are_400(cc, tenant):
    user, _ = tenant.make_user()
    ep = make_endpoint(cc, tenant, user_id=user["id"])
    q = create_ok(cc, tenant)
    assert cc.delete(f"/api/v1/users/{user['id']}", token=tenant.admin_token).status_code == 204
    assert_error(add_member(cc, tenant, q["id"], user_id=user["id"]), 400, "invalid_request",
                 "user_id")
    assert_error(add_member(cc, tenant, q["id"], endpoint_id=999999999), 400,
                 "invalid_request", "endpoint_id")
    assert_error(add_member(cc, tenant, q["id"], user_id=999999999), 400, "invalid_request",
                 "user_id")
    # The endpoint itself is still a valid member; its deleted user's name is not used.
    m = add_member_ok(cc, tenant, q["id"], endpoint_id=ep["id"])
    assert m["membername"] == ep["extension"]
    assert side_members(cc, tenant)[0]["id"] == m["id"]


def test_another_tenants_endpoint_or_user_is_400(cc, tenant, tenant2):
    q = create_ok(cc, tenant)
    foreign_user, _ = tenant2.make_user()
    foreign_ep = make_endpoint(cc, tenant2, user_id=foreign_user["id"])
    before = writes(cc, tenant)
    assert_error(add_member(cc, tenant, q["id"], endpoint_id=foreign_ep["id"]), 400,
                 "invalid_request", "endpoint_id")
    assert_error(add_member(cc, tenant, q["id"], user_id=foreign_user["id"]), 400,
                 "invalid_request", "user_id")
    assert_error(add_member(cc, tenant, q["id"], user_id=tenant2.admin_user_id), 400,
                 "invalid_request", "user_id")
    assert writes(cc, tenant) == before
    assert rt_members(cc, q["asterisk_name"]) == []


def test_same_endpoint_twice_is_409(cc, tenant):
    user, _ = tenant.make_user()
    q = create_ok(cc, tenant)
    ep = make_endpoint(cc, tenant, user_id=user["id"])
    add_member_ok(cc, tenant, q["id"], endpoint_id=ep["id"])
    before = writes(cc, tenant)
    assert_error(add_member(cc, tenant, q["id"], endpoint_id=ep["id"]), 409, "conflict",
                 "endpoint_id")
    assert_error(add_member(cc, tenant, q["id"], user_id=user["id"], penalty=3), 409,
                 "conflict")
    assert writes(cc, tenant) == before
    assert len(rt_members(cc, q["asterisk_name"])) == 1
    # The same endpoint in another queue is fine.
    q2 = create_ok(cc, tenant)
    add_member_ok(cc, tenant, q2["id"], endpoint_id=ep["id"])


def test_a_stray_realtime_member_row_is_409_and_leaves_nothing(cc, tenant):
    q = create_ok(cc, tenant)
    ep = make_endpoint(cc, tenant)
    db_exec(cc, "INSERT INTO queue_members (queue_name, interface, penalty) VALUES (%s, %s, 9)",
            (q["asterisk_name"], f"PJSIP/{ep['asterisk_id']}"))
    assert_error(add_member(cc, tenant, q["id"], endpoint_id=ep["id"]), 409, "conflict")
    assert side_members(cc, tenant) == []
    assert [row["penalty"] for row in rt_members(cc, q["asterisk_name"])] == [9]


@pytest.mark.parametrize("body, field", [
    ({}, "endpoint_id"),
    ({"penalty": 1}, "user_id"),
    ({"endpoint_id": 0}, "endpoint_id"),
    ({"endpoint_id": -3}, "endpoint_id"),
    ({"endpoint_id": "1"}, "endpoint_id"),
    ({"endpoint_id": None}, "endpoint_id"),
    ({"endpoint_id": 1.5}, "endpoint_id"),
    ({"endpoint_id": True}, "endpoint_id"),
    ({"endpoint_id": 2**53 + 1}, "endpoint_id"),
    ({"user_id": 0}, "user_id"),
    ({"user_id": "5"}, "user_id"),
    ({"user_id": None}, "user_id"),
    ({"ep": "penalty", "penalty": -1}, "penalty"),
    ({"ep": "penalty", "penalty": 1001}, "penalty"),
    ({"ep": "penalty", "penalty": "1"}, "penalty"),
    ({"ep": "penalty", "penalty": None}, "penalty"),
    ({"ep": "paused", "paused": 1}, "paused"),
    ({"ep": "paused", "paused": "true"}, "paused"),
    ({"ep": "paused", "paused": None}, "paused"),
    ({"ep": "reason", "paused_reason": "x" * 81}, "paused_reason"),
    ({"ep": "reason", "paused_reason": "bell\x07"}, "paused_reason"),
    ({"ep": "reason", "paused_reason": 5}, "paused_reason"),
    ({"ep": "x", "interface": "PJSIP/x"}, "interface"),
    ({"ep": "x", "queue_id": 1}, "queue_id"),
    ({"ep": "x", "membername": "x"}, "membername"),
])
def test_add_member_rejects_bad_fields(cc, tenant, body, field):
    q = create_ok(cc, tenant)
    body = dict(body)
    if body.pop("ep", None):
        body["endpoint_id"] = make_endpoint(cc, tenant)["id"]
    assert_error(add_member(cc, tenant, q["id"], **body), 400, "invalid_request", field)
    assert side_members(cc, tenant) == [] and rt_members(cc, q["asterisk_name"]) == []


def test_add_member_edge_values(cc, tenant):
    q = create_ok(cc, tenant)
    a = add_member_ok(cc, tenant, q["id"], endpoint_id=make_endpoint(cc, tenant)["id"],
                      penalty=1000, paused=True, paused_reason="x" * 79)
    assert (a["penalty"], a["paused_reason"]) == (1000, "x" * 79)
    # An empty or null reason is no reason.
    b = add_member_ok(cc, tenant, q["id"], endpoint_id=make_endpoint(cc, tenant)["id"],
                      paused=True, paused_reason="")
    c = add_member_ok(cc, tenant, q["id"], endpoint_id=make_endpoint(cc, tenant)["id"],
                      paused=False, paused_reason=None)
    assert b["paused_reason"] is None and c["paused_reason"] is None
    assert [m["id"] for m in members(cc, tenant, q["id"])] == [a["id"], b["id"], c["id"]]
    assert get_queue(cc, tenant, q["id"]).json()["members_count"] == 3


def test_members_of_an_unknown_queue_are_404(cc, tenant):
    ep = make_endpoint(cc, tenant)
    t = tenant.admin_token
    for bad in ("999999999", "0", "abc"):
        assert_error(cc.get(members_path(bad), token=t), 404, "not_found")
        assert_error(add_member(cc, tenant, bad, endpoint_id=ep["id"]), 404, "not_found")
        assert_error(cc.get(members_path(bad, 1), token=t), 404, "not_found")
        assert_error(patch_member(cc, tenant, bad, 1, {"penalty": 1}), 404, "not_found")
        assert_error(cc.delete(members_path(bad, 1), token=t), 404, "not_found")
    q = create_ok(cc, tenant)
    for bad in ("999999999", "0", "abc"):
        assert_error(cc.get(members_path(q["id"], bad), token=t), 404, "not_found")
        assert_error(patch_member(cc, tenant, q["id"], bad, {"penalty": 1}), 404, "not_found")
        assert_error(cc.delete(members_path(q["id"], bad), token=t), 404, "not_found")
    assert members(cc, tenant, q["id"]) == []


def test_a_member_is_only_reachable_through_its_own_queue(cc, tenant):
    q1, q2 = create_ok(cc, tenant), create_ok(cc, tenant)
    m = add_member_ok(cc, tenant, q1["id"], endpoint_id=make_endpoint(cc, tenant)["id"])
    t = tenant.admin_token
    assert_error(cc.get(members_path(q2["id"], m["id"]), token=t), 404, "not_found")
    assert_error(patch_member(cc, tenant, q2["id"], m["id"], {"penalty": 2}), 404, "not_found")
    assert_error(cc.delete(members_path(q2["id"], m["id"]), token=t), 404, "not_found")
    assert members(cc, tenant, q1["id"]) == [m]


# ---- members: update and delete --------------------------------------------------------

def test_patch_member_penalty_and_pause_rules(cc, tenant):
    q = create_ok(cc, tenant)
    m = add_member_ok(cc, tenant, q["id"], endpoint_id=make_endpoint(cc, tenant)["id"])
    mid = m["id"]
    p = patch_member_ok(cc, tenant, q["id"], mid, {"penalty": 5})
    assert (p["penalty"], p["paused"], p["paused_reason"]) == (5, False, None)
    p = patch_member_ok(cc, tenant, q["id"], mid, {"paused": True, "paused_reason": "Break"})
    assert (p["paused"], p["paused_reason"]) == (True, "Break")
    # A new reason while paused; then unpausing clears it.
    p = patch_member_ok(cc, tenant, q["id"], mid, {"paused_reason": "Training"})
    assert (p["paused"], p["paused_reason"]) == (True, "Training")
    p = patch_member_ok(cc, tenant, q["id"], mid, {"paused": False})
    assert (p["paused"], p["paused_reason"]) == (False, None)
    (rt,) = rt_members(cc, q["asterisk_name"])
    assert (rt["penalty"], rt["paused"], rt["reason_paused"]) == (5, 0, None)
    # Unpausing with a reason keeps the given one; a null reason clears it.
    patch_member_ok(cc, tenant, q["id"], mid, {"paused": True, "paused_reason": "A"})
    p = patch_member_ok(cc, tenant, q["id"], mid, {"paused": False, "paused_reason": "Back"})
    assert (p["paused"], p["paused_reason"]) == (False, "Back")
    p = patch_member_ok(cc, tenant, q["id"], mid, {"paused_reason": None})
    assert p["paused_reason"] is None
    # Pausing keeps the penalty; the member's other fields never change.
    p = patch_member_ok(cc, tenant, q["id"], mid, {"paused": True})
    assert (p["penalty"], p["paused"], p["paused_reason"]) == (5, True, None)
    for k in ("id", "queue_id", "user_id", "endpoint_id", "interface", "membername"):
        assert p[k] == m[k]
    g = cc.get(members_path(q["id"], mid), token=tenant.admin_token)
    assert g.json() == p


def test_patch_member_reads_what_asterisk_wrote(cc, tenant):
    """Asterisk pauses members itself (AMI QueuePause writes reason_paused in realtime):
    the API shows that state and a PATCH starts from it."""
    q = create_ok(cc, tenant)
    m = add_member_ok(cc, tenant, q["id"], endpoint_id=make_endpoint(cc, tenant)["id"])
    db_exec(cc, "UPDATE queue_members SET paused = 1, reason_paused = 'Toilet'"
                " WHERE queue_name = %s", (q["asterisk_name"],))
    g = cc.get(members_path(q["id"], m["id"]), token=tenant.admin_token).json()
    assert (g["paused"], g["paused_reason"]) == (True, "Toilet")
    p = patch_member_ok(cc, tenant, q["id"], m["id"], {"paused": False})
    assert (p["paused"], p["paused_reason"]) == (False, None)


def test_patch_member_without_changes_writes_nothing(cc, tenant):
    q = create_ok(cc, tenant)
    m = add_member_ok(cc, tenant, q["id"], endpoint_id=make_endpoint(cc, tenant)["id"],
                      penalty=2)
    before = writes(cc, tenant)
    for body in ({}, {"penalty": 2}, {"paused": False}, {"paused_reason": None},
                 {"paused_reason": ""}):
        assert patch_member_ok(cc, tenant, q["id"], m["id"], body) == m
    assert writes(cc, tenant) == before


@pytest.mark.parametrize("body, field", [
    ({"penalty": -1}, "penalty"),
    ({"penalty": 1001}, "penalty"),
    ({"penalty": None}, "penalty"),
    ({"paused": "yes"}, "paused"),
    ({"paused_reason": "x" * 81}, "paused_reason"),
    ({"endpoint_id": 1}, "endpoint_id"),
    ({"user_id": 1}, "user_id"),
    ({"membername": "x"}, "membername"),
    ({"interface": "PJSIP/x"}, "interface"),
])
def test_patch_member_rejects_bad_fields(cc, tenant, body, field):
    q = create_ok(cc, tenant)
    m = add_member_ok(cc, tenant, q["id"], endpoint_id=make_endpoint(cc, tenant)["id"])
    assert_error(patch_member(cc, tenant, q["id"], m["id"], body), 400, "invalid_request",
                 field)
    assert members(cc, tenant, q["id"]) == [m]


def test_delete_member_removes_both_rows(cc, tenant):
    q = create_ok(cc, tenant)
    ep = make_endpoint(cc, tenant)
    m = add_member_ok(cc, tenant, q["id"], endpoint_id=ep["id"])
    keep = add_member_ok(cc, tenant, q["id"], endpoint_id=make_endpoint(cc, tenant)["id"])
    r = cc.delete(members_path(q["id"], m["id"]), token=tenant.admin_token)
    assert r.status_code == 204 and r.content == b""
    assert [x["id"] for x in members(cc, tenant, q["id"])] == [keep["id"]]
    assert [row["interface"] for row in rt_members(cc, q["asterisk_name"])] == \
        [keep["interface"]]
    assert_error(cc.delete(members_path(q["id"], m["id"]), token=tenant.admin_token), 404,
                 "not_found")
    assert get_queue(cc, tenant, q["id"]).json()["members_count"] == 1
    # The endpoint can join again.
    again = add_member_ok(cc, tenant, q["id"], endpoint_id=ep["id"])
    assert again["id"] != m["id"]


def test_deleting_an_endpoint_removes_its_memberships(cc, tenant):
    q1, q2 = create_ok(cc, tenant), create_ok(cc, tenant)
    ep = make_endpoint(cc, tenant)
    keep = add_member_ok(cc, tenant, q1["id"], endpoint_id=make_endpoint(cc, tenant)["id"])
    add_member_ok(cc, tenant, q1["id"], endpoint_id=ep["id"])
    add_member_ok(cc, tenant, q2["id"], endpoint_id=ep["id"])
    r = cc.delete(f"/api/v1/endpoints/{ep['id']}", token=tenant.admin_token)
    assert r.status_code == 204, r.text
    assert members(cc, tenant, q1["id"]) == [keep]
    assert members(cc, tenant, q2["id"]) == []
    assert get_queue(cc, tenant, q1["id"]).json()["members_count"] == 1
    assert [m["interface"] for m in rt_members(cc, q1["asterisk_name"])] == [keep["interface"]]
    assert rt_members(cc, q2["asterisk_name"]) == []


def test_a_member_follows_its_endpoints_user(cc, tenant):
    user, _ = tenant.make_user(name="First Owner")
    q = create_ok(cc, tenant)
    ep = make_endpoint(cc, tenant)
    m = add_member_ok(cc, tenant, q["id"], endpoint_id=ep["id"])
    assert (m["user_id"], m["membername"]) == (None, ep["extension"])
    r = cc.patch(f"/api/v1/endpoints/{ep['id']}", token=tenant.admin_token,
                 json={"user_id": user["id"]})
    assert r.status_code == 200, r.text
    g = cc.get(members_path(q["id"], m["id"]), token=tenant.admin_token).json()
    assert (g["user_id"], g["membername"]) == (user["id"], "First Owner")


def test_members_count_in_get_and_list(cc, tenant):
    q1, q2 = create_ok(cc, tenant, name="a-one"), create_ok(cc, tenant, name="b-two")
    for _ in range(3):
        add_member_ok(cc, tenant, q1["id"], endpoint_id=make_endpoint(cc, tenant)["id"])
    add_member_ok(cc, tenant, q2["id"], endpoint_id=make_endpoint(cc, tenant)["id"])
    counts = {q["id"]: q["members_count"] for q in listing(cc, tenant.admin_token)["data"]}
    assert counts == {q1["id"]: 3, q2["id"]: 1}
    assert get_queue(cc, tenant, q1["id"]).json()["members_count"] == 3


# ---- isolation -----------------------------------------------------------------------

def test_other_tenants_queue_is_404_and_never_listed(cc, tenant, tenant2):
    q = create_ok(cc, tenant, name="isolated queue")
    m = add_member_ok(cc, tenant, q["id"], endpoint_id=make_endpoint(cc, tenant)["id"])
    mine = create_ok(cc, tenant2, name="isolated queue too")
    ep2 = make_endpoint(cc, tenant2)
    t2 = tenant2.admin_token
    before = writes(cc, tenant)
    assert_error(cc.get(f"{QUEUES}/{q['id']}", token=t2), 404, "not_found")
    assert_error(cc.patch(f"{QUEUES}/{q['id']}", token=t2, json={"timeout": 30}), 404,
                 "not_found")
    assert_error(cc.patch(f"{QUEUES}/{q['id']}", token=t2, json={}), 404, "not_found")
    assert_error(cc.delete(f"{QUEUES}/{q['id']}", token=t2), 404, "not_found")
    assert_error(cc.get(members_path(q["id"]), token=t2), 404, "not_found")
    assert_error(cc.post(members_path(q["id"]), token=t2, json={"endpoint_id": ep2["id"]}),
                 404, "not_found")
    assert_error(cc.get(members_path(q["id"], m["id"]), token=t2), 404, "not_found")
    assert_error(cc.patch(members_path(q["id"], m["id"]), token=t2, json={"penalty": 9}),
                 404, "not_found")
    assert_error(cc.delete(members_path(q["id"], m["id"]), token=t2), 404, "not_found")
    # The member id through tenant2's own queue is not reachable either.
    assert_error(cc.delete(members_path(mine["id"], m["id"]), token=t2), 404, "not_found")
    for query in ("", "?page_size=200", "?q=isolated", "?sort=-created_at"):
        ids = [x["id"] for x in listing(cc, t2, query)["data"]]
        assert ids == [mine["id"]], query
    assert listing(cc, t2)["total"] == 1
    assert writes(cc, tenant) == before
    assert get_queue(cc, tenant, q["id"]).json() == {**q, "members_count": 1}
    assert members(cc, tenant, q["id"]) == [m]
    assert audit_rows(cc, tenant2, "queue_member") == []


def test_x_tenant_id_is_ignored_for_tenant_admins(cc, tenant, tenant2):
    q = create_ok(cc, tenant)
    r = cc.get(f"{QUEUES}/{q['id']}", token=tenant2.admin_token,
               headers={"X-Tenant-ID": tenant.id})
    assert_error(r, 404, "not_found")
    r = cc.post(QUEUES, token=tenant2.admin_token, headers={"X-Tenant-ID": tenant.id},
                json={"name": "mine"})
    assert r.status_code == 201
    assert r.json()["asterisk_name"] == f"{tenant2.slug}-mine"
    assert [row["id"] for row in side_queues(cc, tenant)] == [q["id"]]


# ---- RBAC ----------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_readers_read_but_cannot_write(cc, tenant, role):
    q = create_ok(cc, tenant)
    ep = make_endpoint(cc, tenant)
    m = add_member_ok(cc, tenant, q["id"], endpoint_id=ep["id"])
    _, token = tenant.make_user(roles=[role])
    assert cc.get(QUEUES, token=token).status_code == 200
    assert get_queue(cc, tenant, q["id"], token=token).json() == {**q, "members_count": 1}
    assert members(cc, tenant, q["id"], token=token) == [m]
    assert cc.get(members_path(q["id"], m["id"]), token=token).status_code == 200
    before = writes(cc, tenant)
    for method, path, body in [
            ("POST", QUEUES, {"name": uniq()}),
            ("PATCH", f"{QUEUES}/{q['id']}", {"timeout": 20}),
            ("DELETE", f"{QUEUES}/{q['id']}", None),
            ("POST", members_path(q["id"]), {"endpoint_id": make_endpoint(cc, tenant)["id"]}),
            ("PATCH", members_path(q["id"], m["id"]), {"paused": True}),
            ("DELETE", members_path(q["id"], m["id"]), None),
            # Forbidden before anything else: no 404 oracle, no validation.
            ("DELETE", f"{QUEUES}/999999999", None),
            ("POST", QUEUES, {"name": ""}),
            ("POST", members_path(999999999), {})]:
        assert_error(cc.request(method, path, token=token, json=body), 403, "forbidden")
    assert writes(cc, tenant) == before


def test_supervisors_manage_queues(cc, tenant):
    _, token = tenant.make_user(roles=["supervisor"])
    r = cc.post(QUEUES, token=token, json={"name": uniq()})
    assert r.status_code == 201, r.text
    q = r.json()
    ep = make_endpoint(cc, tenant)
    r = cc.post(members_path(q["id"]), token=token, json={"endpoint_id": ep["id"]})
    assert r.status_code == 201, r.text
    r = cc.patch(members_path(q["id"], r.json()["id"]), token=token, json={"paused": True})
    assert r.status_code == 200, r.text
    assert cc.delete(f"{QUEUES}/{q['id']}", token=token).status_code == 204


def test_a_role_without_queues_read_cannot_read(cc, tenant):
    token = token_with_permissions(cc, tenant, "noqueues", ["users.read"])
    q = create_ok(cc, tenant)
    for path in (QUEUES, f"{QUEUES}/{q['id']}", members_path(q["id"]),
                 members_path(q["id"], 1)):
        assert_error(cc.get(path, token=token), 403, "forbidden")


def test_no_token_is_401(cc):
    for method, path in (("GET", QUEUES), ("POST", QUEUES), ("GET", f"{QUEUES}/1"),
                         ("GET", members_path(1)), ("DELETE", members_path(1, 1))):
        assert_unauthorized(cc.request(method, path, json={} if method == "POST" else None))


# ---- audit and events ----------------------------------------------------------------

def test_each_queue_mutation_writes_one_audit_entry_and_one_event(cc, tenant):
    q = create_ok(cc, tenant, name="Audited", strategy="linear")
    sid = str(q["id"])
    (a,) = audit_rows(cc, tenant)
    assert (a["action"], a["entity_type"], a["entity_id"]) == ("queue.create", "queue", sid)
    assert a["actor_id"] == tenant.admin_user_id
    assert a["changes"] == {"name": "Audited", "asterisk_name": q["asterisk_name"],
                            "strategy": "linear", "timeout": 15, "wrapuptime": 0, "maxlen": 0,
                            "service_level": 60, "music_on_hold": "default"}
    (e,) = event_rows(cc, tenant)
    assert (e["type"], e["entity_type"], e["entity_id"]) == ("queue.created", "queue", sid)
    assert e["data"] == q

    p = patch_ok(cc, tenant, q["id"], {"name": "Audited 2", "timeout": 25, "strategy": "linear"})
    a, e = QUEUE.nth_change(cc, tenant, 2, "update", sid)
    assert a["changes"] == {"name": {"from": "Audited", "to": "Audited 2"},
                            "timeout": {"from": 15, "to": 25}}
    assert e["data"] == p

    assert delete(cc, tenant, q["id"]).status_code == 204
    a, e = QUEUE.nth_change(cc, tenant, 3, "delete", sid)
    assert a["changes"]["name"] == "Audited 2"
    assert a["changes"]["asterisk_name"] == q["asterisk_name"]
    assert e["data"] == p

    QUEUE.assert_audit_api_lists(cc, tenant, sid, ["create", "update", "delete"])


def test_each_member_mutation_writes_one_audit_entry_and_one_event(cc, tenant):
    user, _ = tenant.make_user(name="Agent Smith")
    q = create_ok(cc, tenant)
    ep = make_endpoint(cc, tenant, user_id=user["id"])
    m = add_member_ok(cc, tenant, q["id"], user_id=user["id"], penalty=1)
    sid = str(m["id"])
    (a,) = audit_rows(cc, tenant, "queue_member")
    assert (a["action"], a["entity_id"], a["actor_id"]) == ("queue_member.create", sid,
                                                            tenant.admin_user_id)
    assert a["changes"] == {"queue_id": q["id"], "user_id": user["id"], "endpoint_id": ep["id"],
                            "interface": m["interface"], "membername": "Agent Smith",
                            "penalty": 1, "paused": False, "paused_reason": None}
    (e,) = event_rows(cc, tenant, "queue_member")
    assert (e["type"], e["entity_id"], e["data"]) == ("queue_member.created", sid, m)

    p = patch_member_ok(cc, tenant, q["id"], m["id"], {"paused": True, "paused_reason": "Brb"})
    audits, events = audit_rows(cc, tenant, "queue_member"), event_rows(cc, tenant,
                                                                         "queue_member")
    assert len(audits) == 2 and len(events) == 2
    assert audits[1]["action"] == "queue_member.update"
    assert audits[1]["changes"] == {"paused": {"from": False, "to": True},
                                    "paused_reason": {"from": None, "to": "Brb"}}
    assert (events[1]["type"], events[1]["data"]) == ("queue_member.updated", p)

    assert cc.delete(members_path(q["id"], m["id"]),
                     token=tenant.admin_token).status_code == 204
    audits, events = audit_rows(cc, tenant, "queue_member"), event_rows(cc, tenant,
                                                                         "queue_member")
    assert len(audits) == 3 and len(events) == 3
    assert (audits[2]["action"], audits[2]["changes"]["paused_reason"]) == \
        ("queue_member.delete", "Brb")
    assert (events[2]["type"], events[2]["data"]) == ("queue_member.deleted", p)
    # Member mutations are not queue mutations.
    assert [x["action"] for x in audit_rows(cc, tenant)] == ["queue.create"]


def test_failed_mutations_write_no_audit_or_event(cc, tenant, tenant2):
    q = create_ok(cc, tenant, name="Taken")
    ep = make_endpoint(cc, tenant)
    add_member_ok(cc, tenant, q["id"], endpoint_id=ep["id"])
    make_did_to(cc, tenant, "queue", q["id"])
    foreign = make_endpoint(cc, tenant2)
    before = writes(cc, tenant)
    assert_error(create(cc, tenant, name="Taken"), 409, "conflict")
    assert_error(create(cc, tenant, timeout=0), 400, "invalid_request")
    other = q["id"]
    assert_error(patch(cc, tenant, other, {"strategy": "nope"}), 400, "invalid_request")
    assert_error(delete(cc, tenant, q["id"]), 409, "conflict")
    assert_error(add_member(cc, tenant, q["id"], endpoint_id=ep["id"]), 409, "conflict")
    assert_error(add_member(cc, tenant, q["id"], endpoint_id=foreign["id"]), 400,
                 "invalid_request")
    assert writes(cc, tenant) == before


# ---- the OpenAPI document ----------------------------------------------------------

def test_answers_match_the_openapi_document(cc, tenant):
    check = openapi_checker(cc)
    one = QUEUES + "/{id}"
    mlist = one + "/members"
    mone = mlist + "/{member_id}"

    t = tenant.admin_token
    user, agent = tenant.make_user(roles=["agent"], name="Doc Agent")
    ep = make_endpoint(cc, tenant, user_id=user["id"])
    q = check(create(cc, tenant, strategy="rrordered"), "POST", QUEUES, 201)
    check(create(cc, tenant, name=q["name"]), "POST", QUEUES, 409, "conflict")
    check(create(cc, tenant, name=""), "POST", QUEUES, 400, "invalid_request")
    check(create(cc, tenant, token=agent), "POST", QUEUES, 403, "forbidden")
    QUEUE.check_answers(check, cc, t, q["id"], {"timeout": 44})
    check(cc.get(QUEUES + "?q=x&sort=-created_at", token=t), "GET", QUEUES, 200)
    path = f"{QUEUES}/{q['id']}"
    other = create_ok(cc, tenant)
    check(cc.patch(path, token=t, json={"name": other["name"]}), "PATCH", one, 409)

    mpath = members_path(q["id"])
    m = check(cc.post(mpath, token=t, json={"user_id": user["id"], "paused": True,
                                            "paused_reason": "x"}), "POST", mlist, 201)
    check(cc.post(mpath, token=t, json={"endpoint_id": ep["id"]}), "POST", mlist, 409)
    check(cc.post(mpath, token=t, json={}), "POST", mlist, 400)
    check(cc.post(members_path(999999999), token=t, json={"endpoint_id": ep["id"]}),
          "POST", mlist, 404)
    check(cc.get(mpath, token=t), "GET", mlist, 200)
    check(cc.get(members_path(999999999), token=t), "GET", mlist, 404)
    one_m = members_path(q["id"], m["id"])
    check(cc.get(one_m, token=t), "GET", mone, 200)
    check(cc.get(members_path(q["id"], 999999999), token=t), "GET", mone, 404)
    check(cc.patch(one_m, token=t, json={"paused": False}), "PATCH", mone, 200)
    check(cc.patch(one_m, token=t, json={"penalty": -1}), "PATCH", mone, 400)
    check(cc.patch(one_m, token=agent, json={"penalty": 1}), "PATCH", mone, 403)
    with routed_by_a_did(cc, tenant, "queue", q["id"]):
        check(cc.delete(path, token=t), "DELETE", one, 409, "conflict")
    check(cc.delete(one_m, token=t), "DELETE", mone, 204)
    check(cc.delete(one_m, token=t), "DELETE", mone, 404)
    QUEUE.check_deleted(check, cc, t, q["id"])


# ---- lock orders: member adds meet user and endpoint writers -----------------------

def test_member_add_by_user_reads_a_rename_that_commits_meanwhile(cc, tenant):
    user, _ = tenant.make_user(name="Before")
    q = create_ok(cc, tenant)
    make_endpoint(cc, tenant, user_id=user["id"])
    # A rename holds the user's row; the add waits for it and then shows the new name.
    problems, r = race(
        cc, [("SELECT 1 FROM users WHERE tenant_id = %s AND id = %s FOR UPDATE",
              (tenant.id, user["id"]))],
        lambda: add_member(cc, tenant, q["id"], user_id=user["id"]),
        [("UPDATE users SET name = 'After' WHERE tenant_id = %s AND id = %s",
          (tenant.id, user["id"]))])
    assert problems == [] and r.status_code == 201, (problems, r.text)
    assert r.json()["membername"] == "After"
    assert rt_members(cc, q["asterisk_name"])[0]["membername"] == "After"


def test_member_add_by_user_meets_a_patch_moving_the_endpoint_away(cc, tenant):
    user, _ = tenant.make_user()
    other, _ = tenant.make_user()
    q = create_ok(cc, tenant)
    ep = make_endpoint(cc, tenant, user_id=user["id"])
    hold, then = endpoint_move_writer(tenant, ep["id"], other["id"])
    problems, r = race(cc, hold, lambda: add_member(cc, tenant, q["id"], user_id=user["id"]),
                       then)
    assert problems == []
    assert_error(r, 400, "invalid_request", "user_id")
    assert rt_members(cc, q["asterisk_name"]) == []


def test_deleting_a_queue_announces_its_members_gone(cc, tenant):
    q = create_ok(cc, tenant)
    members_made = [add_member_ok(cc, tenant, q["id"],
                                  endpoint_id=make_endpoint(cc, tenant)["id"])
                    for _ in range(2)]
    before = len(event_rows(cc, tenant, "queue_member"))
    assert cc.delete(f"{QUEUES}/{q['id']}", token=tenant.admin_token).status_code == 204
    gone = event_rows(cc, tenant, "queue_member")[before:]
    assert [(e["type"], e["entity_id"]) for e in gone] == \
        [("queue_member.deleted", str(m["id"])) for m in members_made]
    assert [e["data"] for e in gone] == members_made


def test_realtime_texts_read_back_in_asterisk_as_the_api_shows_them(cc, tenant):
    """Issue 8 #1: Asterisk's realtime drivers split values at ';' and decode ^XX, so a
    user named Bob^0D^0A... would be CR/LF in app_queue's AMI events.  Our writes are
    encoded as Asterisk's own writers encode (';' ^3B, '^' ^5E), and what Asterisk wrote
    is decoded before the API shows it."""
    name = "Bob^0D^0AEvent: x;y"
    user, _ = tenant.make_user(name=name)
    ep = make_endpoint(cc, tenant, user_id=user["id"])
    q = create_ok(cc, tenant)
    m = add_member_ok(cc, tenant, q["id"], endpoint_id=ep["id"], paused=True,
                      paused_reason="lunch; back ^2")
    (row,) = rt_members(cc, q["asterisk_name"])
    assert row["membername"] == "Bob^5E0D^5E0AEvent: x^3By"
    assert row["reason_paused"] == "lunch^3B back ^5E2"
    assert (m["membername"], m["paused_reason"]) == (name, "lunch; back ^2")
    (ep_row,) = db_rows(cc, "SELECT callerid FROM ps_endpoints WHERE id = %s",
                        (ep["asterisk_id"],))
    assert ";" not in ep_row["callerid"] and "^0D" not in ep_row["callerid"]
    # A reason Asterisk wrote (an agent pausing on the phone) reads decoded.
    db_exec(cc, "UPDATE queue_members SET reason_paused = 'tea^3Bbiscuits'"
                " WHERE queue_name = %s", (q["asterisk_name"],))
    g = cc.get(members_path(q["id"], m["id"]), token=tenant.admin_token)
    assert g.status_code == 200 and g.json()["paused_reason"] == "tea;biscuits"
    # A PATCH that keeps it changes nothing (it compares decoded values).
    r = cc.patch(members_path(q["id"], m["id"]), token=tenant.admin_token,
                 json={"paused_reason": "tea;biscuits"})
    assert r.status_code == 200 and r.json()["paused_reason"] == "tea;biscuits"
