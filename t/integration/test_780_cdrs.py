"""API.md "CDR": GET /api/v1/cdrs (filters, sorts, keyset cursors) and /cdrs/{id}.

Rows are written the way cdr_adaptive_odbc writes them (usegmtime=yes: UTC times, an
unanswered call's answer as 1970-01-01 00:00:00, an empty CDR variable left out of the
INSERT, so NULL), straight into the `cdr` table.  A row is the tenant's by its
tenantid, else its accountcode.
"""

import secrets
from datetime import datetime, timedelta

import pytest

from cchelpers import insert_cdr

CDRS = "/api/v1/cdrs"
KEYS = {"id", "uniqueid", "linkedid", "calldate", "src", "dst", "clid", "did", "direction",
        "queue", "agent_id", "disposition", "duration", "billsec", "wait", "recording_id"}
BASE = datetime(2026, 11, 2, 8, 0, 0)


def ids(body):
    return [c["id"] for c in body["data"]]


def walk(cc, tenant, params, page_size):
    """Every page of a list through its cursors: (ids in order, pages)."""
    r = cc.get(CDRS, token=tenant.admin_token, params={**params, "page_size": page_size})
    assert r.status_code == 200, r.text
    body = r.json()
    assert "total" in body and body["page"] == 1
    out, pages = ids(body), [body]
    while body["next_cursor"]:
        r = cc.get(CDRS, token=tenant.admin_token,
                   params={**{k: v for k, v in params.items() if k != "sort"},
                           "page_size": page_size, "after": body["next_cursor"]})
        assert r.status_code == 200, r.text
        body = r.json()
        assert "total" not in body and "page" not in body
        out += ids(body)
        pages.append(body)
        assert len(pages) < 100
    return out, pages


def test_a_cdr_reads_as_api_md_says(cc, tenant):
    cid = insert_cdr(cc, tenantid=tenant.id, billsec=30, duration=42, did="+4930555000",
                     direction="inbound", queue="support", agent_id=7)
    missed = insert_cdr(cc, tenantid=tenant.id, start=BASE + timedelta(minutes=1),
                        billsec=0, duration=15, disposition="NO ANSWER")
    r = cc.get(f"{CDRS}/{cid}", token=tenant.admin_token)
    assert r.status_code == 200, r.text
    c = r.json()
    assert set(c) == KEYS
    assert c["calldate"] == "2026-11-02T08:00:00Z"
    assert (c["duration"], c["billsec"], c["wait"]) == (42, 30, 12)
    assert (c["did"], c["direction"], c["queue"], c["agent_id"]) == \
        ("+4930555000", "inbound", "support", 7)
    assert c["recording_id"] is None and c["disposition"] == "ANSWERED"
    m = cc.get(f"{CDRS}/{missed}", token=tenant.admin_token).json()
    assert (m["disposition"], m["billsec"], m["wait"]) == ("NO ANSWER", 0, 15)
    # Default order: newest first.
    body = cc.get(CDRS, token=tenant.admin_token).json()
    assert ids(body) == [missed, cid] and body["total"] == 2 and body["next_cursor"] is None


def test_recording_id_is_the_tenants_recording_of_the_call(cc, tenant, tenant2):
    cid = insert_cdr(cc, tenantid=tenant.id, uniqueid="1764662400.77")
    other = insert_cdr(cc, tenantid=tenant.id, uniqueid="1764662400.78")
    with cc.db() as conn, conn.cursor() as cur:
        # Another tenant's recording of the same uniqueid is not this CDR's.
        cur.execute("INSERT INTO recordings (tenant_id, cdr_uniqueid, path, format, "
                    "size_bytes) VALUES (%s, '1764662400.78', 'x.wav', 'wav', 1)",
                    (tenant2.id,))
        cur.execute("INSERT INTO recordings (tenant_id, cdr_uniqueid, path, format, "
                    "size_bytes) VALUES (%s, '1764662400.77', 'y.wav', 'wav', 1)",
                    (tenant.id,))
        rid = cur.lastrowid
    assert cc.get(f"{CDRS}/{cid}", token=tenant.admin_token).json()["recording_id"] == rid
    assert cc.get(f"{CDRS}/{other}", token=tenant.admin_token).json()["recording_id"] is None
    listed = {c["id"]: c["recording_id"]
              for c in cc.get(CDRS, token=tenant.admin_token).json()["data"]}
    assert listed == {cid: rid, other: None}


def test_the_tenant_is_tenantid_else_accountcode(cc, tenant, tenant2):
    mine = [insert_cdr(cc, tenantid=tenant.id),
            insert_cdr(cc, accountcode=tenant.id),
            insert_cdr(cc, tenantid="", accountcode=tenant.id),
            insert_cdr(cc, tenantid=tenant.id, accountcode=tenant2.id)]
    theirs = [insert_cdr(cc, tenantid=tenant2.id, accountcode=tenant.id),
              insert_cdr(cc, tenantid=tenant2.id)]
    nobody = insert_cdr(cc)
    got = ids(cc.get(CDRS, token=tenant.admin_token).json())
    assert sorted(got) == sorted(mine)
    assert sorted(ids(cc.get(CDRS, token=tenant2.admin_token).json())) == sorted(theirs)
    for cid in theirs + [nobody]:
        r = cc.get(f"{CDRS}/{cid}", token=tenant.admin_token)
        assert r.status_code == 404 and r.json()["error"] == "not_found"
    # A platform admin sees the tenant's rows through X-Tenant-ID.
    r = cc.get(CDRS, token=cc.admin_token(), headers={"X-Tenant-ID": tenant.id})
    assert sorted(ids(r.json())) == sorted(mine)


@pytest.mark.parametrize("sort", ["-calldate", "calldate", "billsec", "-billsec",
                                  "duration"])
def test_cursors_walk_every_row_once_in_order(cc, tenant, tenant2, sort):
    # Ties on every key (same start, same billsec) so the id tie-breaker matters.
    made = []
    for i in range(23):
        made.append(insert_cdr(cc, tenantid=tenant.id,
                               start=BASE + timedelta(minutes=i // 3),
                               billsec=(i * 7) % 5, duration=10 + (i % 4)))
    insert_cdr(cc, tenantid=tenant2.id, start=BASE)   # never in tenant's pages
    full = cc.get(CDRS, token=tenant.admin_token,
                  params={"sort": sort, "page_size": 200}).json()
    assert full["total"] == 23 and full["next_cursor"] is None
    walked, pages = walk(cc, tenant, {"sort": sort}, 5)
    assert walked == ids(full)
    assert sorted(walked) == sorted(made)
    assert [len(p["data"]) for p in pages] == [5, 5, 5, 5, 3]


def test_cursors_keep_the_filters(cc, tenant):
    for i in range(12):
        insert_cdr(cc, tenantid=tenant.id, start=BASE + timedelta(seconds=i),
                   direction="inbound" if i % 2 else "outbound", billsec=i)
    params = {"direction": "inbound", "min_billsec": "3", "sort": "calldate"}
    walked, _ = walk(cc, tenant, params, 2)
    full = cc.get(CDRS, token=tenant.admin_token, params={**params, "page_size": 200}).json()
    assert walked == ids(full) and len(walked) == 5
    # The cursor is bound to its filters, its order and its tenant.
    first = cc.get(CDRS, token=tenant.admin_token, params={**params, "page_size": 2}).json()
    cursor = first["next_cursor"]
    for bad in ({"direction": "outbound", "min_billsec": "3"},
                {"direction": "inbound"},
                {**params, "sort": "-calldate"},
                {**params, "page": "2"}):
        r = cc.get(CDRS, token=tenant.admin_token, params={**bad, "after": cursor})
        assert r.status_code == 400, r.text
        fields = {d["field"] for d in r.json()["details"]}
        assert fields & {"after", "sort", "page"}, r.text


def test_a_tampered_or_foreign_cursor_is_400(cc, tenant, tenant2):
    for i in range(3):
        insert_cdr(cc, tenantid=tenant.id, start=BASE + timedelta(seconds=i))
    cursor = cc.get(CDRS, token=tenant.admin_token,
                    params={"page_size": 1}).json()["next_cursor"]
    assert cursor
    sort, d, key, cid, mac = cursor.split("~")
    tampered = [
        "~".join([sort, d, key, str(int(cid) + 1), mac]),
        "~".join([sort, d, key.replace("08", "09", 1), cid, mac]),
        "~".join(["billsec", d, key, cid, mac]),
        "~".join([sort, "a", key, cid, mac]),
        cursor + "0", cursor[:-1], "", "x", "~~~~", "a~b~c~d~e~f",
        "calldate~d~2026-11-02T08:00:01'~1~0123456789abcdef",
    ]
    for bad in tampered:
        r = cc.get(CDRS, token=tenant.admin_token, params={"after": bad, "page_size": 1})
        assert r.status_code == 400, (bad, r.text)
        assert [x["field"] for x in r.json()["details"]] == ["after"]
    # Another tenant cannot use it (and learns nothing from it).
    r = cc.get(CDRS, token=tenant2.admin_token, params={"after": cursor, "page_size": 1})
    assert r.status_code == 400


def test_filters(cc, tenant):
    a = insert_cdr(cc, tenantid=tenant.id, start=BASE, src="100", dst="200", did="+4930111",
                   queue="sales", agent_id=5, direction="inbound", billsec=50)
    b = insert_cdr(cc, tenantid=tenant.id, start=BASE + timedelta(hours=1), src="101",
                   dst="201", disposition="BUSY", billsec=0, direction="outbound")
    c = insert_cdr(cc, tenantid=tenant.id, start=BASE + timedelta(hours=2),
                   disposition="NO ANSWER", billsec=0, direction="internal")
    cases = [
        ({"from": "2026-11-02T09:00:00Z"}, [c, b]),
        ({"to": "2026-11-02T09:00:00Z"}, [a]),                       # to is exclusive
        ({"from": "2026-11-02T09:00:00+01:00", "to": "2026-11-02T10:00:00Z"}, [b, a]),
        ({"direction": "outbound"}, [b]),
        ({"disposition": "NO ANSWER"}, [c]),
        ({"disposition": "BUSY"}, [b]),
        ({"src": "100"}, [a]), ({"dst": "201"}, [b]), ({"did": "+4930111"}, [a]),
        ({"queue": "sales"}, [a]), ({"agent_id": "5"}, [a]),
        ({"min_billsec": "1"}, [a]), ({"min_billsec": "0"}, [c, b, a]),
    ]
    for params, want in cases:
        r = cc.get(CDRS, token=tenant.admin_token, params=params)
        assert r.status_code == 200, (params, r.text)
        assert ids(r.json()) == want, params


def test_bad_parameters_are_one_400_naming_each(cc, tenant):
    r = cc.get(CDRS, token=tenant.admin_token,
               params={"from": "yesterday", "direction": "sideways", "disposition": "ok",
                       "agent_id": "-1", "min_billsec": "1.5", "sort": "src",
                       "page_size": "500", "src": "x" * 81})
    assert r.status_code == 400, r.text
    fields = {d["field"] for d in r.json()["details"]}
    assert fields == {"from", "direction", "disposition", "agent_id", "min_billsec", "sort",
                      "page_size", "src"}


def test_rbac_and_unknown_ids(cc, tenant):
    cid = insert_cdr(cc, tenantid=tenant.id)
    name = f"nocdr_{secrets.token_hex(3)}"
    r = cc.post("/api/v1/roles", token=tenant.admin_token,
                json={"name": name, "permissions": ["users.read"]})
    assert r.status_code == 201, r.text
    _, token = tenant.make_user(roles=[name])
    for path in (CDRS, f"{CDRS}/{cid}"):
        r = cc.get(path, token=token)
        assert r.status_code == 403 and r.json()["error"] == "forbidden"
        assert cc.get(path).status_code == 401
    for bad in ("0", "abc", "99999999999"):
        assert cc.get(f"{CDRS}/{bad}", token=tenant.admin_token).status_code == 404
    r = cc.post(CDRS, token=tenant.admin_token, json={})
    assert r.status_code == 405 and r.headers["Allow"] == "GET"


# ---- CSV export (Accept: text/csv) -------------------------------------------------------

CSV = {"Accept": "text/csv"}


def csv_rows(text):
    import csv
    import io
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_streams_every_matching_row_with_a_header(cc, tenant, tenant2):
    made = [insert_cdr(cc, tenantid=tenant.id, start=BASE + timedelta(seconds=i),
                       billsec=i, direction="inbound") for i in range(45)]
    insert_cdr(cc, tenantid=tenant2.id)
    r = cc.get(CDRS, token=tenant.admin_token, headers=CSV, params={"page_size": 5})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    cd = r.headers["Content-Disposition"]
    assert cd.startswith('attachment; filename="cdrs-') and cd.endswith('.csv"')
    rows = csv_rows(r.content.decode("utf-8"))
    assert rows[0] == ["id", "uniqueid", "linkedid", "calldate", "src", "dst", "clid", "did",
                       "direction", "queue", "agent_id", "disposition", "duration",
                       "billsec", "wait", "recording_id"]
    # Every row (page_size does not apply), newest first, only this tenant's.
    assert [int(x[0]) for x in rows[1:]] == list(reversed(made))
    assert r.content.endswith(b"\r\n") and b"\r\n" in r.content
    # Filters and sort apply as for JSON.
    r = cc.get(CDRS, token=tenant.admin_token, headers=CSV,
               params={"min_billsec": "40", "sort": "billsec"})
    assert [int(x[0]) for x in csv_rows(r.text)[1:]] == made[40:]
    # Bad parameters are still a JSON 400.
    r = cc.get(CDRS, token=tenant.admin_token, headers=CSV, params={"direction": "x"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


def test_csv_cells_are_quoted_and_guarded(cc, tenant):
    cid = insert_cdr(cc, tenantid=tenant.id, src="+4930123456", dst="=HYPERLINK(\"x\")",
                     clid='"Müller, Jörg" <+4930123456>', queue="-queue", did="@evil")
    r = cc.get(CDRS, token=tenant.admin_token, headers=CSV)
    raw = r.content.decode("utf-8")
    row = csv_rows(raw)[1]
    assert row[0] == str(cid)
    assert row[3] == "2026-11-02T08:00:00Z"
    assert row[4] == "'+4930123456"                  # formula guard on text cells
    assert row[5] == "'=HYPERLINK(\"x\")"
    assert row[6] == '"Müller, Jörg" <+4930123456>'  # quoted and doubled on the wire
    assert '"""Müller, Jörg"" <+4930123456>"' in raw
    assert row[7] == "'@evil" and row[9] == "'-queue"
    assert row[12:15] == ["40", "30", "10"] and row[15] == ""   # numbers unguarded, null empty


def test_json_stays_the_default(cc, tenant):
    insert_cdr(cc, tenantid=tenant.id)
    for accept in (None, "application/json", "*/*", "text/csv;q=0, application/json"):
        headers = {"Accept": accept} if accept else {}
        r = cc.get(CDRS, token=tenant.admin_token, headers=headers)
        assert r.headers["Content-Type"].startswith("application/json"), accept
    r = cc.get(CDRS, token=tenant.admin_token,
               headers={"Accept": "application/json;q=0.5, text/csv"})
    assert r.headers["Content-Type"].startswith("text/csv")


def test_a_client_leaving_mid_export_stops_it(cc, tenant):
    """30,000 rows: the export reads them in chunks of 5,000 (a keyset walk, the driver
    buffering one chunk at a time) and hands over every row once, in order, ties on the
    start broken by id; a client that leaves mid-way stops it."""
    import socket

    start = BASE - timedelta(days=30)
    with cc.db() as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO cdr (tenantid, start, duration, billsec, disposition, uniqueid, "
            "src, dst, clid) VALUES (%s, %s, 10, 5, 'ANSWERED', %s, '100', '200', 'x')",
            [(tenant.id, start + timedelta(seconds=i // 3), f"bulk.{i}")
             for i in range(30000)])
    for sort in ("-calldate", "calldate", "billsec"):
        r = cc.get(CDRS, token=tenant.admin_token, headers=CSV, params={"sort": sort})
        got = [int(x[0]) for x in csv_rows(r.text)[1:]]
        assert len(got) == 30000 and len(set(got)) == 30000, sort
        want = ids(cc.get(CDRS, token=tenant.admin_token,
                          params={"sort": sort, "page_size": 200}).json())
        assert got[:200] == want, sort
        if sort == "-calldate":
            assert got == sorted(got, reverse=True)
    host, port = cc.base_url.split("//")[1].split(":")
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall((f"GET {CDRS} HTTP/1.1\r\nHost: x\r\nAccept: text/csv\r\n"
               f"Authorization: Bearer {tenant.admin_token}\r\n\r\n").encode())
    first = s.recv(4096)
    assert first.startswith(b"HTTP/1.1 200") and b"text/csv" in first
    # Streamed as it is read: chunked, with no length known in advance.
    assert b"Transfer-Encoding: chunked" in first and b"Content-Length" not in first
    s.close()
    # The server carries on: a new request is answered, the export was cut short.
    assert cc.get("/healthz").status_code == 200
    r = cc.get(CDRS, token=tenant.admin_token, params={"page_size": 1})
    assert r.status_code == 200 and r.json()["total"] == 30000
