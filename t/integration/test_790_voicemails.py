"""API.md "Telephony", voicemail: /api/v1/voicemails (mod_callcenter/cc_voicemails.c).

Ingest from app_voicemail's spool (a message's <mailbox>/<folder>/msgNNNN.txt beneath
<CCVoicemailDir>/<tenant id>/ and its audio file beside it, both opened without
following any link: every escape is a 400), the .txt's keys (msg_id, callerid,
duration, origtime or origdate in UTC), a mailbox of the tenant, a known msg_id
ingested again after app_voicemail renumbered or moved it, get, list (filters, sorts),
the audio as httpd serves a file (Range, validators, HEAD), a stale message number never
serving another message, PATCH {read, folder}, delete (row, audit, event, then the
files), bad bodies changing nothing, RBAC, and another tenant's voicemails never seen.
The test process writes the spool files into the directory the rendered config names.
"""

import os
import re
import secrets
import shutil

import pytest

from cchelpers import (assert_error, assert_file_served, assert_ranges_served,
                       assert_sole_object, assert_validators_served, db_rows, detail_fields,
                       entity_audit, entity_events)
from ccobjects import (make_mailbox, new_msg_id, swap_for_link, tenant_voicemail_dir,
                       token_with_permissions, vm_meta, voicemail_dir, write_voicemail)

VMS = "/api/v1/voicemails"
VM_KEYS = {"id", "mailbox", "caller_id", "duration", "folder", "read", "created_at",
           "msg_id", "format", "size_bytes"}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
AUDIO = bytes(range(256)) * 8          # 2048 bytes, every offset recognisable


def assert_vm_shape(v):
    assert set(v) == VM_KEYS, v
    assert isinstance(v["id"], int) and v["id"] > 0
    assert isinstance(v["duration"], int) and v["duration"] >= 0
    assert v["folder"] in ("INBOX", "Old", "Urgent")
    assert isinstance(v["read"], bool)
    assert RFC3339.match(v["created_at"])
    assert v["format"] in ("wav", "wav49", "gsm", "mp3", "ogg")


def ingest(cc, tenant, path, fmt="wav", token=None):
    return cc.post(VMS, token=token or tenant.admin_token, json={"path": path, "format": fmt})


def ingest_ok(cc, tenant, mailbox=None, folder="INBOX", num=0, fmt="wav", audio=AUDIO,
              **kw):
    """A new message in a (new) mailbox of tenant, ingested: (object, txt path, msg_id)."""
    mailbox = mailbox or make_mailbox(cc, tenant)
    path, msg_id = write_voicemail(cc, tenant, mailbox, folder=folder, num=num, fmt=fmt,
                                   audio=audio, **kw)
    r = ingest(cc, tenant, path, fmt)
    assert r.status_code == 201, r.text
    assert_vm_shape(r.json())
    return r.json(), path, msg_id


def audio(cc, tenant, vm_id, headers=None, token=None, method="GET"):
    return cc.request(method, f"{VMS}/{vm_id}/audio", token=token or tenant.admin_token,
                      headers=headers)


def vm_rows(cc, tenant):
    return db_rows(cc, "SELECT id, mailbox, msg_id, folder, is_read, path, format"
                       " FROM voicemails WHERE tenant_id = %s ORDER BY id", (tenant.id,))


# ---- ingest, get, list ---------------------------------------------------------------

def test_ingest_then_get_list_and_stream(cc, tenant):
    mailbox = make_mailbox(cc, tenant)
    path, msg_id = write_voicemail(cc, tenant, mailbox, audio=AUDIO, duration=42)
    r = ingest(cc, tenant, path)
    assert r.status_code == 201, r.text
    vm = r.json()
    assert_vm_shape(vm)
    assert vm == {"id": vm["id"], "mailbox": mailbox, "caller_id": '"Alice" <+4930123456>',
                  "duration": 42, "folder": "INBOX", "read": False,
                  "created_at": "2024-05-01T10:17:40Z", "msg_id": msg_id, "format": "wav",
                  "size_bytes": len(AUDIO)}
    assert_sole_object(cc, r, VMS, tenant.admin_token)

    assert_file_served(audio(cc, tenant, vm["id"]), AUDIO, "audio/wav")

    (audit,) = entity_audit(cc, tenant, "voicemail")
    assert audit["action"] == "voicemail.receive" and audit["entity_id"] == str(vm["id"])
    assert audit["changes"] == {"mailbox": mailbox, "msg_id": msg_id, "path": path,
                                "format": "wav", "size_bytes": len(AUDIO)}
    (event,) = entity_events(cc, tenant, "voicemail")
    assert event["type"] == "voicemail.received" and event["data"] == vm


def test_origdate_is_utc_when_there_is_no_origtime(cc, tenant):
    vm, _, _ = ingest_ok(cc, tenant, origtime=None,
                         origdate="Sun Dec  1 11:05:09 PM UTC 2024")
    assert vm["created_at"] == "2024-12-01T23:05:09Z"
    vm, _, _ = ingest_ok(cc, tenant, origtime=None,
                         origdate="Mon Dec 12 12:00:00 AM UTC 2022")
    assert vm["created_at"] == "2022-12-12T00:00:00Z"
    # origtime wins over origdate.
    vm, _, _ = ingest_ok(cc, tenant, origtime=1700000000)
    assert vm["created_at"] == "2023-11-14T22:13:20Z"


@pytest.mark.parametrize("callerid,want", [
    ("Unknown", None), ("", None), ("+4930123456", "+4930123456"),
    ('"Jürgen Ölmann" <2001>', '"Jürgen Ölmann" <2001>'),
    ("'; DROP TABLE voicemails; --", "'; DROP TABLE voicemails; --")])
def test_caller_id_is_kept_as_written(cc, tenant, callerid, want):
    vm, _, _ = ingest_ok(cc, tenant, callerid=callerid)
    assert vm["caller_id"] == want


def test_folder_and_read_start_from_the_spool(cc, tenant):
    mailbox = make_mailbox(cc, tenant)
    old, _, _ = ingest_ok(cc, tenant, mailbox, folder="Old")
    urgent, _, _ = ingest_ok(cc, tenant, mailbox, folder="Urgent", flag="Urgent")
    assert (old["folder"], old["read"]) == ("Old", True)
    assert (urgent["folder"], urgent["read"]) == ("Urgent", False)


@pytest.mark.parametrize("fmt,ctype", [("wav", "audio/wav"), ("wav49", "audio/wav"),
                                       ("gsm", "audio/x-gsm"), ("mp3", "audio/mpeg"),
                                       ("ogg", "audio/ogg")])
def test_each_format_has_its_file_and_content_type(cc, tenant, fmt, ctype):
    vm, path, _ = ingest_ok(cc, tenant, fmt=fmt)
    if fmt == "wav49":                       # app_voicemail writes wav49 as .WAV
        assert (tenant_voicemail_dir(cc, tenant.id) / path.replace(".txt", ".WAV")).exists()
    assert_file_served(audio(cc, tenant, vm["id"]), AUDIO, ctype)


def test_a_message_moved_by_asterisk_is_ingested_again_by_its_msg_id(cc, tenant):
    """Listening by phone moves a message to Old under a new number; ingesting it again
    updates where it is (the same voicemail, 200) and the move marks it read."""
    mailbox = make_mailbox(cc, tenant)
    vm, path, msg_id = ingest_ok(cc, tenant, mailbox, num=0)
    base = tenant_voicemail_dir(cc, tenant.id)
    for ext in ("wav", "txt"):
        (base / path.replace(".txt", "." + ext)).unlink()
    new_path, _ = write_voicemail(cc, tenant, mailbox, folder="Old", num=3, msg_id=msg_id,
                                  audio=AUDIO[:100])
    r = ingest(cc, tenant, new_path)
    assert r.status_code == 200, r.text
    moved = r.json()
    assert moved == {**vm, "folder": "Old", "read": True, "size_bytes": 100}
    assert audio(cc, tenant, vm["id"]).content == AUDIO[:100]
    # The same again changes nothing.
    again = ingest(cc, tenant, new_path)
    assert again.status_code == 200 and again.json() == moved
    audits = entity_audit(cc, tenant, "voicemail")
    assert [a["action"] for a in audits] == ["voicemail.receive", "voicemail.update"]
    assert audits[1]["changes"]["path"] == {"from": path, "to": new_path}
    assert audits[1]["changes"]["read"] == {"from": False, "to": True}
    assert [e["type"] for e in entity_events(cc, tenant, "voicemail")] == \
        ["voicemail.received", "voicemail.updated"]
    assert cc.get(VMS, token=tenant.admin_token).json()["total"] == 1


def test_a_renumbering_within_the_folder_keeps_the_apis_state(cc, tenant):
    mailbox = make_mailbox(cc, tenant)
    vm, path, msg_id = ingest_ok(cc, tenant, mailbox, num=5)
    p = cc.patch(f"{VMS}/{vm['id']}", token=tenant.admin_token,
                 json={"read": True, "folder": "Urgent"})
    assert p.status_code == 200
    new_path, _ = write_voicemail(cc, tenant, mailbox, num=2, msg_id=msg_id)
    r = ingest(cc, tenant, new_path)
    assert r.status_code == 200
    assert (r.json()["folder"], r.json()["read"]) == ("Urgent", True)


@pytest.mark.allow_log("CC03791")
def test_a_stale_number_never_serves_or_removes_another_message(cc, tenant):
    mailbox = make_mailbox(cc, tenant)
    vm, path, _ = ingest_ok(cc, tenant, mailbox, num=0)
    # app_voicemail deleted it and moved the next message into its number.
    other_path, other_id = write_voicemail(cc, tenant, mailbox, num=0, audio=b"other")
    assert other_path == path
    assert_error(audio(cc, tenant, vm["id"]), 404, "not_found")
    assert cc.delete(f"{VMS}/{vm['id']}", token=tenant.admin_token).status_code == 204
    base = tenant_voicemail_dir(cc, tenant.id)
    assert (base / path).read_bytes() == vm_meta(other_id, mailbox=mailbox)
    assert (base / path.replace(".txt", ".wav")).read_bytes() == b"other"
    # The other message is still ingestible.
    assert ingest(cc, tenant, path).status_code == 201


def test_list_filters_and_sorts(cc, tenant):
    box1, box2 = make_mailbox(cc, tenant, "3001"), make_mailbox(cc, tenant, "3002")
    a, _, _ = ingest_ok(cc, tenant, box1, num=0, origtime=1700000000, duration=30)
    b, _, _ = ingest_ok(cc, tenant, box1, folder="Old", num=0, origtime=1700000100,
                        duration=10)
    c, _, _ = ingest_ok(cc, tenant, box2, folder="Urgent", num=0, origtime=1700000200,
                        duration=20)
    tok = tenant.admin_token
    ids = lambda q: [x["id"] for x in cc.get(VMS + q, token=tok).json()["data"]]  # noqa
    assert ids("") == [c["id"], b["id"], a["id"]]                 # -created_at
    assert ids("?sort=created_at") == [a["id"], b["id"], c["id"]]
    assert ids("?sort=duration") == [b["id"], c["id"], a["id"]]
    assert ids("?sort=-duration") == [a["id"], c["id"], b["id"]]
    assert ids("?mailbox=3001") == [b["id"], a["id"]]
    assert ids("?folder=Urgent") == [c["id"]]
    assert ids("?read=true") == [b["id"]]
    assert ids("?read=false&sort=created_at") == [a["id"], c["id"]]
    assert ids("?mailbox=3001&folder=INBOX") == [a["id"]]
    assert ids("?from=2023-11-14T22:15:00Z&to=2023-11-14T22:16:40Z") == [b["id"]]
    assert ids("?mailbox=9999") == []
    page = cc.get(VMS + "?page_size=1&page=2&sort=created_at", token=tok).json()
    assert page["total"] == 3 and [x["id"] for x in page["data"]] == [b["id"]]
    for q, field in [("?sort=size", "sort"), ("?from=yesterday", "from"),
                     ("?folder=Work", "folder"), ("?read=yes", "read"),
                     ("?mailbox=" + "9" * 81, "mailbox"), ("?page_size=0", "page_size")]:
        assert_error(cc.get(VMS + q, token=tok), 400, "invalid_request", field)


# ---- paths that are not the tenant's messages ------------------------------------------

def _escape_cases(cc, tenant, mailbox):
    """Every refused path (field path) of an ingest."""
    base = tenant_voicemail_dir(cc, tenant.id)
    real, _ = write_voicemail(cc, tenant, mailbox, num=0)
    outside = voicemail_dir(cc) / f"outside-{secrets.token_hex(3)}"
    (outside / mailbox / "INBOX").mkdir(parents=True)
    (outside / mailbox / "INBOX" / "msg0000.txt").write_bytes(vm_meta(new_msg_id()))
    (outside / mailbox / "INBOX" / "msg0000.wav").write_bytes(b"secret")
    inbox = base / mailbox / "INBOX"
    os.symlink(str(outside / mailbox / "INBOX" / "msg0000.txt"), inbox / "msg0001.txt")
    os.symlink("msg0000.txt", inbox / "msg0002.txt")            # a link staying inside
    lbox = f"9{secrets.randbelow(10**6)}"
    make_mailbox(cc, tenant, lbox)
    os.symlink(str(outside / mailbox), base / lbox)             # a linked mailbox
    os.mkdir(inbox / "msg0003.txt")                              # a directory
    os.mkfifo(inbox / "msg0004.txt")                             # not a regular file
    os.link(outside / mailbox / "INBOX" / "msg0000.txt", inbox / "msg0005.txt")  # hard
    return [
        f"../{tenant.id}/{real}",
        f"{mailbox}/INBOX/../INBOX/msg0000.txt",
        f"./{real}",
        "/etc/passwd",
        str(base / real),                        # absolute, even inside
        f"{mailbox}/INBOX/msg0001.txt",          # a link leading out
        f"{mailbox}/INBOX/msg0002.txt",          # a link staying inside
        f"{lbox}/INBOX/msg0000.txt",             # a linked directory leading out
        f"{mailbox}/INBOX/msg0003.txt",
        f"{mailbox}/INBOX/msg0004.txt",
        f"{mailbox}/INBOX/msg0005.txt",
        f"{mailbox}/INBOX/msg0099.txt",          # missing
        f"{mailbox}/Work/msg0000.txt",           # a folder the API has not
        f"{mailbox}/INBOX/msg0000.wav",          # not a .txt
        f"{mailbox}/INBOX/msg00000.txt",
        f"{mailbox}/INBOX/x/msg0000.txt",
        f"INBOX/msg0000.txt",
        "msg0000.txt",
        f"{mailbox}//INBOX/msg0000.txt",
        f"{mailbox}/INBOX/msg0000.txt/",
        "a\x01b/INBOX/msg0000.txt",
        "",
    ]


def test_paths_that_escape_or_are_no_message_are_400(cc, tenant):
    mailbox = make_mailbox(cc, tenant)
    for path in _escape_cases(cc, tenant, mailbox):
        body = assert_error(ingest(cc, tenant, path), 400, "invalid_request", "path")
        assert detail_fields(body) == ["path"], (path, body)
    assert vm_rows(cc, tenant) == [] and entity_audit(cc, tenant, "voicemail") == []


def test_an_audio_file_that_is_a_link_or_missing_is_400_on_format(cc, tenant):
    mailbox = make_mailbox(cc, tenant)
    path, _ = write_voicemail(cc, tenant, mailbox, num=0)
    base = tenant_voicemail_dir(cc, tenant.id)
    assert_error(ingest(cc, tenant, path, "gsm"), 400, "invalid_request", "format")
    wav = base / path.replace(".txt", ".wav")
    wav.unlink()
    os.symlink("/etc/passwd", wav)
    assert_error(ingest(cc, tenant, path), 400, "invalid_request", "format")
    wav.unlink()
    outside = voicemail_dir(cc) / f"outside-{secrets.token_hex(3)}.wav"
    outside.write_bytes(b"secret")
    os.link(outside, wav)                    # a second name of a file outside
    assert_error(ingest(cc, tenant, path), 400, "invalid_request", "format")
    assert vm_rows(cc, tenant) == []


def test_the_mailbox_must_be_one_of_the_tenants(cc, tenant, tenant2):
    foreign = make_mailbox(cc, tenant2)         # tenant2's box, files in tenant's dir
    path, _ = write_voicemail(cc, tenant, foreign, num=0)
    body = assert_error(ingest(cc, tenant, path), 400, "invalid_request", "path")
    assert "voicemail box" in body["details"][0]["issue"]
    path, _ = write_voicemail(cc, tenant, "77777", num=0)   # no box at all
    assert_error(ingest(cc, tenant, path), 400, "invalid_request", "path")
    assert vm_rows(cc, tenant) == []


@pytest.mark.parametrize("meta", [
    vm_meta("", duration=5),                                         # no msg_id
    vm_meta("12 34", duration=5),                                    # not a msg_id
    vm_meta("1714558660-0000000a", duration="x"),
    vm_meta("1714558660-0000000a", duration=-1),
    vm_meta("1714558660-0000000a", duration=86401),
    vm_meta("1714558660-0000000a", origtime=None, origdate="Wed May  1 10:17:40 AM CEST 2024"),
    vm_meta("1714558660-0000000a", origtime=None, origdate="2024-05-01 10:17:40"),
    vm_meta("1714558660-0000000a", origtime=None, origdate="Wed Feb 30 10:17:40 AM UTC 2024"),
    vm_meta("1714558660-0000000a", origtime="soon"),
    vm_meta("1714558660-0000000a", callerid="a\x1bb"),
    vm_meta("1714558660-0000000a", callerid="x" * 256),
    vm_meta("1714558660-0000000a").replace(b"[message]", b"[other]"),
    vm_meta("1714558660-0000000a").replace(b"Alice", b"Al\xffice"),  # not UTF-8
    vm_meta("1714558660-0000000a").replace(b"Alice", b"Al\x00ice"),
    vm_meta("1714558660-0000000a") + b";" * 8192,                    # too large
    b"",
], ids=lambda m: str(len(m)))
def test_metadata_that_is_not_a_message_is_400(cc, tenant, meta):
    mailbox = make_mailbox(cc, tenant)
    path, _ = write_voicemail(cc, tenant, mailbox, num=0, meta=meta)
    assert_error(ingest(cc, tenant, path), 400, "invalid_request", "path")
    assert vm_rows(cc, tenant) == []


def test_bad_bodies_are_400_and_change_nothing(cc, tenant):
    mailbox = make_mailbox(cc, tenant)
    path, _ = write_voicemail(cc, tenant, mailbox, num=0)
    tok = tenant.admin_token
    hdr = {"Content-Type": "application/json"}
    cases = [
        (b'{"path": ', None),
        (b'{"path": "' + path.encode() + b'", "format": "w\xffav"}', None),
        (b'{"path": "a\\u0000b", "format": "wav"}', None),
        (b'{"path": 5, "format": "wav"}', "path"),
        (b'{"path": null, "format": "wav"}', "path"),
        (b'{"path": "' + path.encode() + b'", "format": ["wav"]}', "format"),
        (b'{"path": "' + path.encode() + b'", "format": "flac"}', "format"),
        (b'{"path": "' + path.encode() + b'"}', "format"),
        (b'{"path": "' + path.encode() + b'", "format": "wav", "mailbox": "1"}', "mailbox"),
        (b'["path"]', None),
    ]
    for raw, field in cases:
        body = assert_error(cc.post(VMS, token=tok, data=raw, headers=hdr), 400,
                            "invalid_request", field)
        assert body, raw
    r = cc.post(VMS, token=tok, data=b"path=x", headers={"Content-Type": "text/plain"})
    assert_error(r, 415, "unsupported_media_type")
    assert vm_rows(cc, tenant) == [] and entity_audit(cc, tenant, "voicemail") == []
    assert entity_events(cc, tenant, "voicemail") == []
    assert ingest(cc, tenant, path).status_code == 201


# ---- Range, validators, HEAD ------------------------------------------------------------

def test_ranges(cc, tenant):
    vm, _, _ = ingest_ok(cc, tenant)
    assert_ranges_served(lambda h: audio(cc, tenant, vm["id"], headers=h), AUDIO,
                         "audio/wav")


def test_etag_if_none_match_and_head(cc, tenant):
    vm, _, _ = ingest_ok(cc, tenant, fmt="gsm")
    assert_validators_served(lambda h, m: audio(cc, tenant, vm["id"], headers=h, method=m),
                             AUDIO, "audio/x-gsm")


def test_an_empty_audio_file_streams_empty(cc, tenant):
    vm, _, _ = ingest_ok(cc, tenant, audio=b"")
    a = audio(cc, tenant, vm["id"])
    assert vm["size_bytes"] == 0 and a.status_code == 200 and a.content == b""


@pytest.mark.allow_log("CC03773", "CC03791")
def test_files_gone_or_replaced_by_a_link_are_not_served(cc, tenant):
    vm, path, _ = ingest_ok(cc, tenant)
    base = tenant_voicemail_dir(cc, tenant.id)
    wav = base / path.replace(".txt", ".wav")
    wav.unlink()
    os.symlink("/etc/passwd", wav)
    assert_error(audio(cc, tenant, vm["id"]), 404, "not_found")
    wav.unlink()
    assert_error(audio(cc, tenant, vm["id"]), 404, "not_found")
    (base / path).unlink()
    assert_error(audio(cc, tenant, vm["id"]), 404, "not_found")


# ---- PATCH --------------------------------------------------------------------------

def test_patch_read_and_folder(cc, tenant):
    vm, _, _ = ingest_ok(cc, tenant)
    url, tok = f"{VMS}/{vm['id']}", tenant.admin_token
    r = cc.patch(url, token=tok, json={"read": True})
    assert r.status_code == 200 and r.json() == {**vm, "read": True}
    r = cc.patch(url, token=tok, json={"folder": "Old"})
    assert r.status_code == 200 and r.json() == {**vm, "read": True, "folder": "Old"}
    r = cc.patch(url, token=tok, json={"folder": "Urgent", "read": False})
    assert r.status_code == 200 and r.json() == {**vm, "folder": "Urgent"}
    assert cc.get(url, token=tok).json() == r.json()
    # The same values again change nothing: no audit entry, no event.
    r = cc.patch(url, token=tok, json={"folder": "Urgent", "read": False})
    assert r.status_code == 200 and r.json() == {**vm, "folder": "Urgent"}
    assert cc.patch(url, token=tok, json={}).status_code == 200
    audits = entity_audit(cc, tenant, "voicemail")
    assert [a["action"] for a in audits] == ["voicemail.receive"] + ["voicemail.update"] * 3
    assert audits[1]["changes"] == {"read": {"from": False, "to": True}}
    assert audits[2]["changes"] == {"folder": {"from": "INBOX", "to": "Old"}}
    events = entity_events(cc, tenant, "voicemail")
    assert [e["type"] for e in events][-1] == "voicemail.updated"
    assert events[-1]["data"] == {**vm, "folder": "Urgent"}


def test_bad_patches_are_400_and_change_nothing(cc, tenant):
    vm, _, _ = ingest_ok(cc, tenant)
    url, tok = f"{VMS}/{vm['id']}", tenant.admin_token
    hdr = {"Content-Type": "application/json"}
    for raw, field in [(b'{"read": "yes"}', "read"), (b'{"read": 1}', "read"),
                       (b'{"read": null}', "read"), (b'{"folder": "Work"}', "folder"),
                       (b'{"folder": "inbox"}', "folder"), (b'{"folder": 3}', "folder"),
                       (b'{"folder": null}', "folder"), (b'{"mailbox": "1"}', "mailbox"),
                       (b'{"read": true, "folder": "Trash"}', "folder"),
                       (b'{"read": tru', None), (b'{"folder": "\xff"}', None)]:
        assert_error(cc.patch(url, token=tok, data=raw, headers=hdr), 400,
                     "invalid_request", field)
    assert cc.get(url, token=tok).json() == vm
    assert len(entity_audit(cc, tenant, "voicemail")) == 1
    assert_error(cc.patch(f"{VMS}/999999999", token=tok, json={"read": True}), 404,
                 "not_found")


# ---- delete -------------------------------------------------------------------------

def test_delete_removes_the_row_then_the_files(cc, tenant):
    vm, path, _ = ingest_ok(cc, tenant)
    base = tenant_voicemail_dir(cc, tenant.id)
    txt, wav = base / path, base / path.replace(".txt", ".wav")
    d = cc.delete(f"{VMS}/{vm['id']}", token=tenant.admin_token)
    assert d.status_code == 204, d.text
    assert not txt.exists() and not wav.exists() and txt.parent.exists()
    assert_error(cc.get(f"{VMS}/{vm['id']}", token=tenant.admin_token), 404, "not_found")
    assert_error(audio(cc, tenant, vm["id"]), 404, "not_found")
    assert_error(cc.delete(f"{VMS}/{vm['id']}", token=tenant.admin_token), 404,
                 "not_found")
    assert [a["action"] for a in entity_audit(cc, tenant, "voicemail")] == \
        ["voicemail.receive", "voicemail.delete"]
    events = entity_events(cc, tenant, "voicemail")
    assert [e["type"] for e in events] == ["voicemail.received", "voicemail.deleted"]
    assert events[1]["data"] == vm


def test_delete_of_a_voicemail_whose_files_are_gone(cc, tenant):
    vm, path, _ = ingest_ok(cc, tenant)
    shutil.rmtree(tenant_voicemail_dir(cc, tenant.id) / path.split("/")[0])
    assert cc.delete(f"{VMS}/{vm['id']}", token=tenant.admin_token).status_code == 204


def test_delete_removes_a_link_in_the_audio_files_place_not_its_target(cc, tenant):
    vm, path, _ = ingest_ok(cc, tenant)
    base = tenant_voicemail_dir(cc, tenant.id)
    wav = base / path.replace(".txt", ".wav")
    target = swap_for_link(wav, voicemail_dir(cc))
    assert cc.delete(f"{VMS}/{vm['id']}", token=tenant.admin_token).status_code == 204
    assert not os.path.lexists(wav) and target.read_bytes() == b"keep"


# ---- permissions and tenants --------------------------------------------------------

def test_permissions(cc, tenant):
    vm, _, _ = ingest_ok(cc, tenant)
    mailbox = make_mailbox(cc, tenant)
    reader = token_with_permissions(cc, tenant, "vm_r", ["voicemails.read"])
    writer = token_with_permissions(cc, tenant, "vm_w", ["voicemails.write"])
    nobody = token_with_permissions(cc, tenant, "vm_n", ["recordings.read"])
    url = f"{VMS}/{vm['id']}"
    for path in (VMS, url, url + "/audio"):
        assert cc.get(path, token=reader).status_code == 200
        assert_error(cc.get(path, token=nobody), 403, "forbidden")
        assert_error(cc.get(path, token=writer), 403, "forbidden")
    path, _ = write_voicemail(cc, tenant, mailbox, num=1)
    for tok in (reader, nobody):
        assert_error(ingest(cc, tenant, path, token=tok), 403, "forbidden")
        assert_error(cc.patch(url, token=tok, json={"read": True}), 403, "forbidden")
        assert_error(cc.delete(url, token=tok), 403, "forbidden")
    assert ingest(cc, tenant, path, token=writer).status_code == 201
    assert cc.patch(url, token=writer, json={"read": True}).status_code == 200
    assert cc.delete(url, token=writer).status_code == 204


def test_another_tenants_voicemail_is_404_and_never_listed(cc, tenant, tenant2):
    vm, path, _ = ingest_ok(cc, tenant)
    tok2 = tenant2.admin_token
    url = f"{VMS}/{vm['id']}"
    for r in (cc.get(url, token=tok2),
              cc.get(url + "/audio", token=tok2, headers={"Range": "bytes=0-0"}),
              cc.patch(url, token=tok2, json={"read": True}),
              cc.delete(url, token=tok2)):
        assert_error(r, 404, "not_found")
    assert cc.get(VMS, token=tok2).json()["total"] == 0
    assert cc.get(f"{VMS}?mailbox={vm['mailbox']}", token=tok2).json()["data"] == []
    # The other tenant cannot reach the first one's files through its own directory,
    # even naming a box it has with the same number.
    make_mailbox(cc, tenant2, vm["mailbox"])
    tenant_voicemail_dir(cc, tenant2.id)
    r = ingest(cc, tenant2, f"../{tenant.id}/{path}")
    assert_error(r, 400, "invalid_request", "path")
    assert_error(ingest(cc, tenant2, path), 400, "invalid_request", "path")
    assert (tenant_voicemail_dir(cc, tenant.id) / path).exists()
    assert cc.get(url, token=tenant.admin_token).json() == vm


def test_the_same_message_in_two_tenants_is_two_voicemails(cc, tenant, tenant2):
    msg_id = new_msg_id()
    a, _, _ = ingest_ok(cc, tenant, make_mailbox(cc, tenant, "4001"), msg_id=msg_id)
    b, _, _ = ingest_ok(cc, tenant2, make_mailbox(cc, tenant2, "4001"), msg_id=msg_id)
    assert a["id"] != b["id"]
