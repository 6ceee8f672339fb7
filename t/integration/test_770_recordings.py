"""API.md "Telephony", recordings: /api/v1/recordings (mod_callcenter/cc_recordings.c).

Register (the path opened beneath <CCRecordingsDir>/<tenant id>/ without following any
link: every escape is a 400 on path), get, list (filters, sorts), the CDR join (calldate,
duration; the tenant expression of API.md), the audio as httpd serves a file (Range:
206, suffix, open end, 416, multipart/byteranges; ETag/If-None-Match 304; HEAD), delete
(row, audit, event, then the file), RBAC, and another tenant's recordings never seen.
The test process writes the files into the directory the rendered config names.  The
configuration tests cover both tenant-file directives (CCRecordingsDir, CCVoicemailDir).
"""

import os
import re
import secrets
import shutil

import pytest

from cchelpers import (assert_error, assert_file_served, assert_ranges_served,
                       assert_sole_object, assert_validators_served, conf_with, db_exec,
                       detail_fields, entity_audit, entity_events)
from ccobjects import (files_dir, recordings_dir, swap_for_link, tenant_recordings_dir,
                       token_with_permissions, write_recording_file)

RECS = "/api/v1/recordings"
REC_KEYS = {"id", "cdr_uniqueid", "calldate", "duration", "size_bytes", "format",
            "created_at"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
AUDIO = bytes(range(256)) * 8          # 2048 bytes, every offset recognisable


def new_uniqueid():
    return f"{1732428000 + secrets.randbelow(10**6)}.{secrets.randbelow(10**4)}"


def assert_rec_shape(r):
    assert set(r) == REC_KEYS, r
    assert isinstance(r["id"], int) and r["id"] > 0
    assert r["calldate"] is None or RFC3339.match(r["calldate"])
    assert r["duration"] is None or isinstance(r["duration"], int)
    assert isinstance(r["size_bytes"], int) and r["size_bytes"] >= 0
    assert r["format"] in ("wav", "wav49", "gsm", "mp3", "ogg")
    assert RFC3339.match(r["created_at"])


def register(cc, tenant, rel=None, data=AUDIO, fmt="wav", uniqueid=None, token=None):
    """Write a file and register it; returns (response, rel)."""
    rel = rel or f"{secrets.token_hex(3)}/call-{secrets.token_hex(4)}.{fmt}"
    write_recording_file(cc, tenant.id, rel, data)
    r = cc.post(RECS, token=token or tenant.admin_token,
                json={"cdr_uniqueid": uniqueid or new_uniqueid(), "path": rel, "format": fmt})
    return r, rel


def register_ok(cc, tenant, **kw):
    r, rel = register(cc, tenant, **kw)
    assert r.status_code == 201, r.text
    assert_rec_shape(r.json())
    return r.json(), rel


def audio(cc, tenant, rec_id, headers=None, token=None, method="GET"):
    return cc.request(method, f"{RECS}/{rec_id}/audio", token=token or tenant.admin_token,
                      headers=headers)


def insert_cdr(cc, uniqueid, tenantid=None, accountcode=None, start="2026-11-24 06:00:00",
               duration=120, billsec=95):
    db_exec(cc, "INSERT INTO cdr (uniqueid, tenantid, accountcode, start, duration, billsec,"
                " disposition) VALUES (%s, %s, %s, %s, %s, %s, 'ANSWERED')",
            (uniqueid, tenantid, accountcode, start, duration, billsec))


# ---- register, get, list ------------------------------------------------------------

def test_register_then_get_list_and_stream(cc, tenant):
    uid = new_uniqueid()
    r, rel = register(cc, tenant, uniqueid=uid)
    assert r.status_code == 201, r.text
    rec = r.json()
    assert_rec_shape(rec)
    assert (rec["cdr_uniqueid"], rec["size_bytes"], rec["format"]) == (uid, len(AUDIO), "wav")
    assert rec["calldate"] is None and rec["duration"] is None      # no CDR yet
    assert_sole_object(cc, r, RECS, tenant.admin_token)

    assert_file_served(audio(cc, tenant, rec["id"]), AUDIO, "audio/wav")

    (audit,) = entity_audit(cc, tenant, "recording")
    assert audit["action"] == "recording.create" and audit["entity_id"] == str(rec["id"])
    assert audit["changes"]["path"] == rel
    (event,) = entity_events(cc, tenant, "recording")
    assert event["type"] == "recording.created" and event["data"] == rec


@pytest.mark.parametrize("fmt,ctype", [("wav", "audio/wav"), ("wav49", "audio/wav"),
                                       ("gsm", "audio/x-gsm"), ("mp3", "audio/mpeg"),
                                       ("ogg", "audio/ogg")])
def test_each_format_has_its_content_type(cc, tenant, fmt, ctype):
    rec, _ = register_ok(cc, tenant, fmt=fmt)
    a = audio(cc, tenant, rec["id"])
    assert a.status_code == 200 and a.headers["Content-Type"] == ctype


def test_an_empty_file_streams_empty(cc, tenant):
    rec, _ = register_ok(cc, tenant, data=b"")
    assert rec["size_bytes"] == 0
    a = audio(cc, tenant, rec["id"])
    assert a.status_code == 200 and a.content == b""


def test_calldate_and_duration_come_from_the_tenants_cdr(cc, tenant, tenant2):
    by_tenantid, by_account, foreign = new_uniqueid(), new_uniqueid(), new_uniqueid()
    insert_cdr(cc, by_tenantid, tenantid=tenant.id, accountcode="whatever",
               start="2026-11-24 06:00:00", billsec=95)
    insert_cdr(cc, by_account, tenantid="", accountcode=tenant.id,
               start="2026-11-25 07:00:00", billsec=12)
    # The same uniqueid in another tenant's CDR (tenantid says so, whatever accountcode
    # holds) is not this tenant's call.
    insert_cdr(cc, foreign, tenantid=tenant2.id, accountcode=tenant.id)
    a, _ = register_ok(cc, tenant, uniqueid=by_tenantid)
    b, _ = register_ok(cc, tenant, uniqueid=by_account)
    c, _ = register_ok(cc, tenant, uniqueid=foreign)
    assert (a["calldate"], a["duration"]) == ("2026-11-24T06:00:00Z", 95)
    assert (b["calldate"], b["duration"]) == ("2026-11-25T07:00:00Z", 12)
    assert (c["calldate"], c["duration"]) == (None, None)
    # A CDR written after the registration shows up.
    insert_cdr(cc, foreign, tenantid=tenant.id, start="2026-11-26 08:00:00", billsec=7)
    g = cc.get(f"{RECS}/{c['id']}", token=tenant.admin_token).json()
    assert (g["calldate"], g["duration"]) == ("2026-11-26T08:00:00Z", 7)


def test_list_filters_and_sorts(cc, tenant):
    uid = new_uniqueid()
    insert_cdr(cc, uid, tenantid=tenant.id, start="2026-01-01 00:00:00")
    late, _ = register_ok(cc, tenant, uniqueid=uid)         # early call, registered first
    other, _ = register_ok(cc, tenant)                       # no CDR
    tok = tenant.admin_token
    ids = lambda q: [x["id"] for x in cc.get(RECS + q, token=tok).json()["data"]]  # noqa
    assert ids("") == [other["id"], late["id"]]              # -created_at
    assert ids("?sort=created_at") == [late["id"], other["id"]]
    assert ids("?sort=calldate") == [other["id"], late["id"]]   # null calldate first
    assert ids("?sort=-calldate") == [late["id"], other["id"]]
    assert ids(f"?cdr_uniqueid={uid}") == [late["id"]]
    assert ids("?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z&sort=created_at") == \
        [late["id"], other["id"]]
    assert ids("?from=2100-01-01T00:00:00Z") == []
    page = cc.get(RECS + "?page_size=1&page=2&sort=created_at", token=tok).json()
    assert page["total"] == 2 and [x["id"] for x in page["data"]] == [other["id"]]
    for q, field in [("?sort=size", "sort"), ("?from=yesterday", "from"),
                     ("?cdr_uniqueid=" + "x" * 151, "cdr_uniqueid"), ("?page_size=0", "page_size")]:
        assert_error(cc.get(RECS + q, token=tok), 400, "invalid_request", field)


# ---- paths that are not the tenant's files ---------------------------------------------

def _escape_cases(cc, tenant):
    """(path sent, setup) for every refused path."""
    base = tenant_recordings_dir(cc, tenant.id)
    outside = recordings_dir(cc) / f"outside-{secrets.token_hex(3)}.wav"
    outside.write_bytes(b"secret")
    link = f"out-{secrets.token_hex(3)}.wav"
    os.symlink(str(outside), base / link)
    inner = f"in-{secrets.token_hex(3)}.wav"
    write_recording_file(cc, tenant.id, "target.wav")
    os.symlink("target.wav", base / inner)
    dlink = f"dl-{secrets.token_hex(3)}"
    os.symlink(str(recordings_dir(cc)), base / dlink)
    sub = f"d-{secrets.token_hex(3)}"
    write_recording_file(cc, tenant.id, f"{sub}/x.wav")
    dlink_in = f"dli-{secrets.token_hex(3)}"
    os.symlink(sub, base / dlink_in)
    fifo = f"fifo-{secrets.token_hex(3)}"
    os.mkfifo(base / fifo)
    hard = f"hard-{secrets.token_hex(3)}.wav"
    os.link(outside, base / hard)
    return [
        "../x.wav",
        f"../{tenant.id}/target.wav",
        "/etc/passwd",
        str(base / "target.wav"),                 # absolute, even inside
        link,                                    # a link leading out
        inner,                                   # a link staying inside
        f"{dlink}/{outside.name}",               # a linked directory leading out
        f"{dlink_in}/x.wav",                     # a linked directory staying inside
        "missing.wav",
        sub,                                     # a directory
        fifo,                                    # not a regular file
        hard,                                    # a hard link to a file outside
        "target.wav/x",
        "a//b.wav",
        "./target.wav",
        "a\x01b.wav",
        "a\nb.wav",
        "",
    ]


def test_paths_that_escape_or_are_no_file_are_400(cc, tenant):
    for path in _escape_cases(cc, tenant):
        r = cc.post(RECS, token=tenant.admin_token,
                    json={"cdr_uniqueid": "1.1", "path": path, "format": "wav"})
        body = assert_error(r, 400, "invalid_request", "path")
        assert "path" in detail_fields(body), (path, body)
    assert cc.get(RECS, token=tenant.admin_token).json()["total"] == 0
    assert entity_audit(cc, tenant, "recording") == []


def test_a_nul_in_the_path_is_400(cc, tenant):
    r = cc.post(RECS, token=tenant.admin_token,
                data=b'{"cdr_uniqueid": "1.1", "path": "a\\u0000.wav", "format": "wav"}',
                headers={"Content-Type": "application/json"})
    assert_error(r, 400, "invalid_request")


def test_bad_bodies_name_their_fields(cc, tenant):
    r = cc.post(RECS, token=tenant.admin_token,
                json={"cdr_uniqueid": "", "path": "../a", "format": "flac"})
    body = assert_error(r, 400, "invalid_request")
    assert set(detail_fields(body)) == {"cdr_uniqueid", "path", "format"}
    assert_error(cc.post(RECS, token=tenant.admin_token,
                         json={"cdr_uniqueid": "1", "path": "a.wav", "format": "wav", "x": 1}),
                 400, "invalid_request", "x")
    assert_error(cc.post(RECS, token=tenant.admin_token, json={"path": "a.wav"}),
                 400, "invalid_request")


def test_a_file_is_registered_once(cc, tenant):
    rec, rel = register_ok(cc, tenant)
    r = cc.post(RECS, token=tenant.admin_token,
                json={"cdr_uniqueid": "2.2", "path": rel, "format": "wav"})
    assert_error(r, 409, "conflict", "path")


@pytest.mark.allow_log("CC03773")
def test_a_file_replaced_by_a_link_is_not_served(cc, tenant):
    rec, rel = register_ok(cc, tenant)
    path = tenant_recordings_dir(cc, tenant.id) / rel
    path.unlink()
    os.symlink("/etc/passwd", path)
    assert_error(audio(cc, tenant, rec["id"]), 404, "not_found")
    path.unlink()
    assert_error(audio(cc, tenant, rec["id"]), 404, "not_found")


@pytest.mark.allow_log("CC03773")
def test_a_file_that_gains_a_hard_link_is_not_served(cc, tenant):
    """A second name for the file could be outside the tenant's directory: the audio
    is refused (404, logged) until the extra link is gone."""
    rec, rel = register_ok(cc, tenant)
    path = tenant_recordings_dir(cc, tenant.id) / rel
    extra = recordings_dir(cc) / f"extra-{secrets.token_hex(3)}.wav"
    os.link(path, extra)
    assert_error(audio(cc, tenant, rec["id"]), 404, "not_found")
    extra.unlink()
    assert audio(cc, tenant, rec["id"]).status_code == 200


# ---- Range, validators, HEAD ----------------------------------------------------------

def test_ranges(cc, tenant):
    rec, _ = register_ok(cc, tenant)
    assert_ranges_served(lambda h: audio(cc, tenant, rec["id"], headers=h), AUDIO,
                         "audio/wav")


def test_etag_if_none_match_and_head(cc, tenant):
    rec, _ = register_ok(cc, tenant)
    assert_validators_served(lambda h, m: audio(cc, tenant, rec["id"], headers=h, method=m),
                             AUDIO, "audio/wav")


def test_errors_on_the_audio_route_are_json_and_ignore_range(cc, tenant):
    r = cc.get(f"{RECS}/999999999/audio", token=tenant.admin_token,
               headers={"Range": "bytes=0-0"})
    assert_error(r, 404, "not_found")


# ---- delete -------------------------------------------------------------------------

def test_delete_removes_the_row_then_the_file(cc, tenant):
    rec, rel = register_ok(cc, tenant)
    path = tenant_recordings_dir(cc, tenant.id) / rel
    assert path.exists()
    d = cc.delete(f"{RECS}/{rec['id']}", token=tenant.admin_token)
    assert d.status_code == 204, d.text
    assert not path.exists() and path.parent.exists()
    assert_error(cc.get(f"{RECS}/{rec['id']}", token=tenant.admin_token), 404, "not_found")
    assert_error(audio(cc, tenant, rec["id"]), 404, "not_found")
    assert_error(cc.delete(f"{RECS}/{rec['id']}", token=tenant.admin_token), 404,
                 "not_found")
    actions = [a["action"] for a in entity_audit(cc, tenant, "recording")]
    assert actions == ["recording.create", "recording.delete"]
    events = entity_events(cc, tenant, "recording")
    assert [e["type"] for e in events] == ["recording.created", "recording.deleted"]
    assert events[1]["data"] == rec


def test_delete_of_a_recording_whose_file_is_gone(cc, tenant):
    rec, rel = register_ok(cc, tenant)
    (tenant_recordings_dir(cc, tenant.id) / rel).unlink()
    assert cc.delete(f"{RECS}/{rec['id']}", token=tenant.admin_token).status_code == 204


def test_delete_removes_a_link_put_in_the_files_place_not_its_target(cc, tenant, tmp_path):
    rec, rel = register_ok(cc, tenant)
    path = tenant_recordings_dir(cc, tenant.id) / rel
    target = swap_for_link(path, recordings_dir(cc))
    assert cc.delete(f"{RECS}/{rec['id']}", token=tenant.admin_token).status_code == 204
    assert not os.path.lexists(path) and target.read_bytes() == b"keep"


# ---- permissions and tenants --------------------------------------------------------

def test_permissions(cc, tenant):
    rec, _ = register_ok(cc, tenant)
    reader = token_with_permissions(cc, tenant, "rec_r", ["recordings.read"])
    nobody = token_with_permissions(cc, tenant, "rec_n", ["users.read"])
    assert cc.get(f"{RECS}/{rec['id']}", token=reader).status_code == 200
    assert audio(cc, tenant, rec["id"], token=reader).status_code == 200
    r, _ = register(cc, tenant, token=reader)
    assert_error(r, 403, "forbidden")
    assert_error(cc.delete(f"{RECS}/{rec['id']}", token=reader), 403, "forbidden")
    for path in (RECS, f"{RECS}/{rec['id']}", f"{RECS}/{rec['id']}/audio"):
        assert_error(cc.get(path, token=nobody), 403, "forbidden")
    writer = token_with_permissions(cc, tenant, "rec_w",
                                    ["recordings.write", "recordings.delete"])
    r, _ = register(cc, tenant, token=writer)
    assert r.status_code == 201
    assert cc.delete(f"{RECS}/{r.json()['id']}", token=writer).status_code == 204


def test_another_tenants_recording_is_404_and_never_listed(cc, tenant, tenant2):
    rec, rel = register_ok(cc, tenant)
    tok2 = tenant2.admin_token
    for r in (cc.get(f"{RECS}/{rec['id']}", token=tok2),
              cc.get(f"{RECS}/{rec['id']}/audio", token=tok2, headers={"Range": "bytes=0-0"}),
              cc.delete(f"{RECS}/{rec['id']}", token=tok2)):
        assert_error(r, 404, "not_found")
    assert cc.get(RECS, token=tok2).json()["total"] == 0
    assert cc.get(f"{RECS}?cdr_uniqueid={rec['cdr_uniqueid']}", token=tok2).json()["data"] == []
    # The other tenant cannot reach the first one's file through its own directory.
    tenant_recordings_dir(cc, tenant2.id)
    r = cc.post(RECS, token=tok2, json={"cdr_uniqueid": "1.1",
                                        "path": f"../{tenant.id}/{rel}", "format": "wav"})
    assert_error(r, 400, "invalid_request", "path")
    assert (tenant_recordings_dir(cc, tenant.id) / rel).exists()
    assert cc.get(f"{RECS}/{rec['id']}", token=tenant.admin_token).status_code == 200


# ---- configuration (both tenant-file directories: one setter, mod_callcenter.c) ------

@pytest.mark.parametrize("directive", ["CCRecordingsDir", "CCVoicemailDir"])
def test_a_missing_files_directory_is_refused_at_start(cc, tmp_path, directive):
    rc, out = cc.config_test(conf_with(cc, directive, f'"{tmp_path}/nope"'))
    assert rc != 0 and directive in out, out
    f = tmp_path / "file"
    f.write_text("x")
    rc, out = cc.config_test(conf_with(cc, directive, f'"{f}"'))
    assert rc != 0 and directive in out and "is not a directory" in out, out
    rc, out = cc.config_test(cc.conf_text())
    assert rc == 0, out


@pytest.mark.parametrize("directive,name", [("CCRecordingsDir", "recordings"),
                                            ("CCVoicemailDir", "voicemail")])
def test_the_files_directories_are_under_the_var_dir(cc, directive, name):
    assert files_dir(cc, directive) == cc.var_dir / name
    shutil.disk_usage(files_dir(cc, directive))
