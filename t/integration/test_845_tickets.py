"""API.md "Helpdesk" as built (notes/helpdesk-spec.md): tickets (per-tenant numbers under
concurrent creates, status rules, filters and sorts, references checked in the tenant,
tickets.manage for assigning others, closing and deleting), messages (first_responded_at,
internal notes, the contact as author), templates (placeholders checked when saved,
render-template) and attachments (raw uploads: media type, size limit by Content-Length
and while reading a chunked body, SHA-256, hostile filenames, where the file is stored,
the download's headers and ranges, delete), audit and events, RBAC, tenant isolation.
SLA policies and due times are test_850_slas.py's.
"""

import hashlib
import os
import re
import secrets
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import unquote

import pytest
import requests

from cchelpdesk import (ATTACHMENTS, TEMPLATES, TICKETS, assert_attachment_shape,
                        assert_message_shape, assert_template_shape, assert_ticket_shape,
                        audit_actions, audit_count, create_ticket, directive, get_ticket,
                        last_event_id, made, new_contact, new_tag, new_ticket,
                        patch_ticket, patch_ticket_ok, post_message, raw_request,
                        tenant_events, ts, upload, upload_max)
from cchelpers import (assert_error, assert_ranges_served, assert_unauthorized,
                       assert_validators_served, db_exec, db_rows, detail_fields,
                       openapi_checker)
from ccobjects import files_dir, token_with_permissions

DATA = bytes(range(256)) * 4 + b"tail"          # 1028 bytes, every offset recognisable


def tokens(tenant):
    """(agent user, agent token, viewer token, supervisor user, supervisor token)."""
    agent, atok = tenant.make_user(roles=["agent"])
    _, vtok = tenant.make_user(roles=["viewer"])
    sup, stok = tenant.make_user(roles=["supervisor"])
    return agent, atok, vtok, sup, stok


# ---- create, get, list -----------------------------------------------------------------

def test_create_with_defaults_then_get_and_list(cc, tenant):
    before = last_event_id(cc)
    r = create_ticket(cc, tenant, subject="Printer on fire")
    t = made(r, "ticket")
    assert_ticket_shape(t)
    assert r.headers["Location"] == f"{TICKETS}/{t['id']}"
    assert t == {**t, "number": 1, "subject": "Printer on fire", "status": "new",
                 "priority": "normal", "channel": "web", "contact_id": None,
                 "assignee_id": None, "sla_id": None, "tags": [],
                 "first_response_due_at": None, "resolution_due_at": None,
                 "first_responded_at": None, "resolved_at": None, "sla_breached": False,
                 "source": None}
    assert t["created_at"] == t["updated_at"]
    assert get_ticket(cc, tenant, t["id"]) == t
    page = cc.get(TICKETS, token=tenant.admin_token).json()
    assert page == {"data": [t], "total": 1, "page": 1, "page_size": 20}
    assert audit_actions(cc, tenant, t["id"]) == ["ticket.create"]
    (ev,) = tenant_events(cc, tenant, after=before)
    assert (ev["type"], ev["entity_id"], ev["data"]) == ("ticket.created", str(t["id"]), t)


def test_create_with_every_field(cc, tenant):
    contact = new_contact(cc, tenant)
    b, a = new_tag(cc, tenant, "billing"), new_tag(cc, tenant, "Angry")
    agent, _ = tenant.make_user(roles=["agent"])
    t = new_ticket(cc, tenant, subject="ü" * 255, status="open", priority="urgent",
                   channel="phone", contact_id=contact["id"], assignee_id=agent["id"],
                   tags=["billing", "angry", "billing"])
    assert (t["subject"], t["status"], t["priority"], t["channel"]) == \
        ("ü" * 255, "open", "urgent", "phone")
    assert (t["contact_id"], t["assignee_id"]) == (contact["id"], agent["id"])
    # Tag names as the tenant's tags spell them, sorted by name, duplicates merged.
    assert t["tags"] == [a["name"], b["name"]]
    assert get_ticket(cc, tenant, t["id"]) == t


@pytest.mark.parametrize("body,field", [
    ({}, "subject"), ({"subject": ""}, "subject"), ({"subject": "x" * 256}, "subject"),
    ({"subject": None}, "subject"), ({"subject": 5}, "subject"),
    ({"subject": "a", "status": "done"}, "status"),
    ({"subject": "a", "status": None}, "status"),
    ({"subject": "a", "priority": "critical"}, "priority"),
    ({"subject": "a", "priority": 1}, "priority"),
    ({"subject": "a", "channel": "fax"}, "channel"),
    ({"subject": "a", "contact_id": "1"}, "contact_id"),
    ({"subject": "a", "contact_id": 999999999}, "contact_id"),
    ({"subject": "a", "contact_id": -1}, "contact_id"),
    ({"subject": "a", "assignee_id": 999999999}, "assignee_id"),
    ({"subject": "a", "assignee_id": "me"}, "assignee_id"),
    ({"subject": "a", "tags": ["no-such-tag"]}, "tags"),
    ({"subject": "a", "tags": "vip"}, "tags"),
    ({"subject": "a", "tags": [1]}, "tags"),
    ({"subject": "a", "cdr_id": 999999999}, "cdr_id"),
    ({"subject": "a", "voicemail_id": 999999999}, "voicemail_id"),
    ({"subject": "a", "cdr_id": 1, "voicemail_id": 1}, "voicemail_id"),
    ({"subject": "a", "bogus": 1}, "bogus"),
    ({"subject": "a", "number": 7}, "number"),
    ({"subject": "a", "sla_breached": True}, "sla_breached"),
])
def test_bad_create_bodies_name_their_field_and_change_nothing(cc, tenant, body, field):
    body = assert_error(cc.post(TICKETS, token=tenant.admin_token, json=body), 400,
                        "invalid_request", field)
    assert field in detail_fields(body)
    assert db_rows(cc, "SELECT id FROM tickets WHERE tenant_id = %s", (tenant.id,)) == []
    assert audit_actions(cc, tenant) == []


def test_malformed_bodies_and_media_types(cc, tenant):
    tok = tenant.admin_token
    for raw in (b'{"subject": ', b'["subject"]', b'{"subject": "\xff"}',
                b'{"subject": "a\\u0000b"}'):
        assert_error(cc.post(TICKETS, token=tok, data=raw,
                             headers={"Content-Type": "application/json"}), 400,
                     "invalid_request")
    assert_error(cc.post(TICKETS, token=tok, data=b"subject=x",
                         headers={"Content-Type": "text/plain"}), 415,
                 "unsupported_media_type")
    assert_unauthorized(cc.post(TICKETS, json={"subject": "x"}))
    assert_unauthorized(cc.get(TICKETS))
    assert not audit_actions(cc, tenant)


def test_references_in_another_tenant_or_not_usable_are_400(cc, tenant, tenant2):
    foreign_contact = new_contact(cc, tenant2)
    foreign_user, _ = tenant2.make_user(roles=["agent"])
    foreign_tag = new_tag(cc, tenant2)
    disabled, _ = tenant.make_user(roles=["agent"], status="disabled")
    gone, _ = tenant.make_user(roles=["agent"])
    assert cc.delete(f"/api/v1/users/{gone['id']}", token=tenant.admin_token
                     ).status_code == 204
    for body, field in [({"contact_id": foreign_contact["id"]}, "contact_id"),
                        ({"assignee_id": foreign_user["id"]}, "assignee_id"),
                        ({"assignee_id": tenant2.admin_user_id}, "assignee_id"),
                        ({"assignee_id": disabled["id"]}, "assignee_id"),
                        ({"assignee_id": gone["id"]}, "assignee_id"),
                        ({"tags": [foreign_tag["name"]]}, "tags")]:
        assert_error(create_ticket(cc, tenant, **body), 400, "invalid_request", field)
    t = new_ticket(cc, tenant)
    for body, field in [({"contact_id": foreign_contact["id"]}, "contact_id"),
                        ({"assignee_id": foreign_user["id"]}, "assignee_id"),
                        ({"assignee_id": disabled["id"]}, "assignee_id"),
                        ({"tags": [foreign_tag["name"]]}, "tags")]:
        assert_error(patch_ticket(cc, tenant, t["id"], body), 400, "invalid_request", field)
    assert get_ticket(cc, tenant, t["id"]) == t
    assert audit_actions(cc, tenant) == ["ticket.create"]


# ---- numbers ----------------------------------------------------------------------------

def test_numbers_have_no_gaps_or_duplicates_under_concurrent_creates(cc, tenant, tenant2):
    """8 clients x 25 creates in one tenant while 4 x 10 run in another: 1..200 and
    1..40, each number once."""
    got = {tenant.id: [], tenant2.id: []}
    bad = []
    lock = threading.Lock()

    def client(args):
        who, n = args
        with requests.Session() as s:
            for i in range(n):
                r = s.post(cc.base_url + TICKETS, json={"subject": f"c{i}"},
                           headers={"Authorization": f"Bearer {who.admin_token}"},
                           timeout=60)
                with lock:
                    if r.status_code == 201:
                        got[who.id].append(r.json()["number"])
                    else:
                        bad.append((r.status_code, r.text[:200]))

    jobs = [(tenant, 25)] * 8 + [(tenant2, 10)] * 4
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        list(pool.map(client, jobs))
    assert bad == []
    assert sorted(got[tenant.id]) == list(range(1, 201))
    assert sorted(got[tenant2.id]) == list(range(1, 41))
    rows = db_rows(cc, "SELECT number FROM tickets WHERE tenant_id = %s ORDER BY number",
                   (tenant.id,))
    assert [r["number"] for r in rows] == list(range(1, 201))
    assert len([e for e in tenant_events(cc, tenant, {"ticket.created"})]) == 200
    assert len(audit_actions(cc, tenant)) == 200


def test_a_deleted_tickets_number_is_not_given_again(cc, tenant):
    a, b = new_ticket(cc, tenant), new_ticket(cc, tenant)
    assert (a["number"], b["number"]) == (1, 2)
    assert cc.delete(f"{TICKETS}/{b['id']}", token=tenant.admin_token).status_code == 204
    assert new_ticket(cc, tenant)["number"] == 3


# ---- PATCH and status rules ------------------------------------------------------------------

def test_patch_changes_only_the_given_fields_with_audit_and_event(cc, tenant):
    t = new_ticket(cc, tenant, subject="Old")
    contact = new_contact(cc, tenant)
    tag = new_tag(cc, tenant)
    before = last_event_id(cc)
    p = patch_ticket_ok(cc, tenant, t["id"], {"subject": "New", "priority": "high",
                                               "channel": "email",
                                               "contact_id": contact["id"],
                                               "assignee_id": tenant.admin_user_id,
                                               "tags": [tag["name"]]})
    assert p == {**t, "subject": "New", "priority": "high", "channel": "email",
                 "contact_id": contact["id"], "assignee_id": tenant.admin_user_id,
                 "tags": [tag["name"]], "updated_at": p["updated_at"]}
    assert get_ticket(cc, tenant, t["id"]) == p
    # null unsets the references; tags [] empties them.
    q = patch_ticket_ok(cc, tenant, t["id"], {"contact_id": None, "assignee_id": None,
                                               "tags": []})
    assert (q["contact_id"], q["assignee_id"], q["tags"]) == (None, None, [])
    assert audit_actions(cc, tenant, t["id"]) == ["ticket.create", "ticket.update",
                                                  "ticket.update"]
    evs = tenant_events(cc, tenant, after=before)
    assert [e["type"] for e in evs] == ["ticket.updated", "ticket.updated"]
    assert evs[0]["data"] == p and evs[1]["data"] == q


@pytest.mark.parametrize("body,field", [
    ({"subject": ""}, "subject"), ({"subject": None}, "subject"),
    ({"status": "reopened"}, "status"), ({"status": None}, "status"),
    ({"priority": "p1"}, "priority"), ({"priority": None}, "priority"),
    ({"channel": "sms"}, "channel"), ({"contact_id": 999999999}, "contact_id"),
    ({"assignee_id": 999999999}, "assignee_id"), ({"tags": ["missing"]}, "tags"),
    ({"cdr_id": 1}, "cdr_id"), ({"voicemail_id": 1}, "voicemail_id"),
    ({"number": 5}, "number"), ({"created_at": "x"}, "created_at"),
    ({"subject": "ok", "priority": "nope"}, "priority"),
])
def test_bad_patches_name_their_field_and_change_nothing(cc, tenant, body, field):
    t = new_ticket(cc, tenant)
    assert_error(patch_ticket(cc, tenant, t["id"], body), 400, "invalid_request", field)
    assert get_ticket(cc, tenant, t["id"]) == t
    assert audit_actions(cc, tenant) == ["ticket.create"]


def test_solved_sets_resolved_at_and_reopening_clears_it(cc, tenant):
    t = new_ticket(cc, tenant)
    for status in ("open", "pending", "on_hold"):
        assert patch_ticket_ok(cc, tenant, t["id"], {"status": status})["resolved_at"] is None
    s = patch_ticket_ok(cc, tenant, t["id"], {"status": "solved"})
    assert s["resolved_at"] is not None
    assert ts(s["created_at"]) <= ts(s["resolved_at"]) <= ts(s["updated_at"])
    for status in ("new", "open", "pending", "on_hold"):
        patch_ticket_ok(cc, tenant, t["id"], {"status": "solved"})
        back = patch_ticket_ok(cc, tenant, t["id"], {"status": status})
        assert (back["status"], back["resolved_at"]) == (status, None)
    # A PATCH that leaves the status as it is keeps resolved_at.
    s = patch_ticket_ok(cc, tenant, t["id"], {"status": "solved"})
    kept = patch_ticket_ok(cc, tenant, t["id"], {"subject": "still solved"})
    assert kept["resolved_at"] == s["resolved_at"]


def test_closed_is_final(cc, tenant):
    t = new_ticket(cc, tenant)
    solved = patch_ticket_ok(cc, tenant, t["id"], {"status": "solved"})
    closed = patch_ticket_ok(cc, tenant, t["id"], {"status": "closed"})
    assert closed["status"] == "closed"
    assert closed["resolved_at"] == solved["resolved_at"]          # closing is not reopening
    for body in ({"status": "open"}, {"subject": "x"}, {"status": "closed"}, {}):
        assert_error(patch_ticket(cc, tenant, t["id"], body), 409, "conflict")
    assert_error(post_message(cc, tenant, t["id"]), 409, "conflict")
    assert_error(upload(cc, tenant, t["id"], DATA), 409, "conflict")
    assert tenant_files(cc, tenant) == []
    assert get_ticket(cc, tenant, t["id"]) == closed
    assert cc.get(f"{TICKETS}/{t['id']}/messages", token=tenant.admin_token
                  ).json()["data"] == []
    assert cc.get(f"{TICKETS}/{t['id']}/attachments", token=tenant.admin_token
                  ).json()["data"] == []
    assert audit_actions(cc, tenant, t["id"]) == ["ticket.create", "ticket.update",
                                                  "ticket.update"]
    assert cc.delete(f"{TICKETS}/{t['id']}", token=tenant.admin_token).status_code == 204


# ---- permissions ---------------------------------------------------------------------------

def test_tickets_manage_is_needed_to_assign_others_close_and_delete(cc, tenant):
    agent, atok, vtok, sup, stok = tokens(tenant)
    other, _ = tenant.make_user(roles=["agent"])
    # An agent (tickets.read, tickets.write) creates, assigns to itself, works.
    mine = new_ticket(cc, tenant, token=atok, assignee_id=agent["id"])
    assert mine["assignee_id"] == agent["id"]
    assert_error(create_ticket(cc, tenant, token=atok, assignee_id=other["id"]), 403,
                 "forbidden")
    t = new_ticket(cc, tenant, token=atok)
    assert patch_ticket_ok(cc, tenant, t["id"], {"assignee_id": agent["id"]},
                           token=atok)["assignee_id"] == agent["id"]
    assert_error(patch_ticket(cc, tenant, t["id"], {"assignee_id": other["id"]}, atok),
                 403, "forbidden")
    assert patch_ticket_ok(cc, tenant, t["id"], {"status": "solved"}, token=atok)
    assert_error(patch_ticket(cc, tenant, t["id"], {"status": "closed"}, atok), 403,
                 "forbidden")
    assert_error(cc.delete(f"{TICKETS}/{t['id']}", token=atok), 403, "forbidden")
    assert get_ticket(cc, tenant, t["id"])["status"] == "solved"
    # A supervisor (tickets.manage) does all three.
    assert patch_ticket_ok(cc, tenant, t["id"], {"assignee_id": other["id"]},
                           token=stok)["assignee_id"] == other["id"]
    assert new_ticket(cc, tenant, token=stok, assignee_id=other["id"])
    assert patch_ticket_ok(cc, tenant, t["id"], {"status": "closed"}, token=stok)
    # Sending the assignee a ticket already has is no change: an agent may.
    u = new_ticket(cc, tenant, token=stok, assignee_id=other["id"])
    p = patch_ticket_ok(cc, tenant, u["id"], {"assignee_id": other["id"], "subject": "edit"},
                        token=atok)
    assert (p["assignee_id"], p["subject"]) == (other["id"], "edit")
    # ... and taking it over is assigning it to oneself.
    assert patch_ticket_ok(cc, tenant, u["id"], {"assignee_id": agent["id"]},
                           token=atok)["assignee_id"] == agent["id"]
    assert cc.delete(f"{TICKETS}/{t['id']}", token=stok).status_code == 204
    # A viewer reads only.
    assert cc.get(TICKETS, token=vtok).status_code == 200
    assert cc.get(f"{TICKETS}/{mine['id']}", token=vtok).status_code == 200
    assert cc.get(f"{TICKETS}/{mine['id']}/messages", token=vtok).status_code == 200
    assert cc.get(f"{TICKETS}/{mine['id']}/attachments", token=vtok).status_code == 200
    for r in (create_ticket(cc, tenant, token=vtok),
              patch_ticket(cc, tenant, mine["id"], {"subject": "x"}, vtok),
              post_message(cc, tenant, mine["id"], token=vtok),
              upload(cc, tenant, mine["id"], DATA, token=vtok),
              cc.delete(f"{TICKETS}/{mine['id']}", token=vtok)):
        assert_error(r, 403, "forbidden")
    # Without tickets.read nothing.
    none = token_with_permissions(cc, tenant, "nt", ["contacts.read"])
    for r in (cc.get(TICKETS, token=none), cc.get(f"{TICKETS}/{mine['id']}", token=none),
              cc.get(f"{TICKETS}/{mine['id']}/messages", token=none),
              cc.get(f"{TICKETS}/{mine['id']}/attachments", token=none),
              cc.get(TEMPLATES, token=none)):
        assert_error(r, 403, "forbidden")


# ---- filters and sorts ----------------------------------------------------------------------

def test_shaped_lists_answer_as_the_general_one(cc, tenant, tenant2):
    """status + priority and assignee_id + status, newest or oldest first, have statements
    of their own (cc_list_shape_t: no "? IS NULL OR", their index named): the same rows,
    total and paging as the general statement (sorted by number, which follows the
    creation order), only the tenant's, and a third filter leaves the shape."""
    agent, _ = tenant.make_user(roles=["agent"])
    made_ids = []
    for i in range(9):
        t = new_ticket(cc, tenant, priority=("high", "low")[i % 2],
                       assignee_id=agent["id"] if i % 3 else None)
        if i % 4 == 0:
            t = patch_ticket_ok(cc, tenant, t["id"], {"status": "open"})
        made_ids.append(t["id"])
    new_ticket(cc, tenant2, priority="high")        # another tenant's: never listed
    new_ticket(cc, tenant2, priority="low", status="open")
    tok = tenant.admin_token

    def page(q):
        r = cc.get(TICKETS + q, token=tok)
        assert r.status_code == 200, (q, r.text)
        body = r.json()
        return [x["id"] for x in body["data"]], body["total"]

    for f in ("status=new&priority=high", "priority=low&status=new",
              "status=open&priority=high", f"assignee_id={agent['id']}&status=new",
              f"status=open&assignee_id={agent['id']}", "status=closed&priority=low"):
        for shaped, general in (("", "&sort=-number"), ("&sort=created_at", "&sort=number"),
                                ("&page_size=2&page=2", "&sort=-number&page_size=2&page=2")):
            got, want = page("?" + f + shaped), page("?" + f + general)
            assert got == want, (f, shaped, got, want)
            assert set(got[0]) <= set(made_ids)
    both = page(f"?status=new&priority=low&assignee_id={agent['id']}")
    assert both == page(f"?status=new&priority=low&assignee_id={agent['id']}&sort=-number")


def test_filters_and_sorts(cc, tenant):
    agent, _ = tenant.make_user(roles=["agent"])
    c1, c2 = new_contact(cc, tenant), new_contact(cc, tenant)
    new_tag(cc, tenant, "vip")
    new_tag(cc, tenant, "later")
    t1 = new_ticket(cc, tenant, subject="Printer on fire", priority="low",
                    assignee_id=tenant.admin_user_id, contact_id=c1["id"], tags=["vip"])
    t2 = new_ticket(cc, tenant, subject="Login broken 100% of the time", priority="high",
                    status="open", assignee_id=agent["id"], contact_id=c2["id"],
                    tags=["vip", "later"])
    t3 = new_ticket(cc, tenant, subject="PRINTER toner", priority="urgent",
                    status="pending")
    t4 = new_ticket(cc, tenant, subject="Login broken 1000 times", priority="normal")
    t5 = new_ticket(cc, tenant, subject="snake_case", priority="low")
    t6 = new_ticket(cc, tenant, subject="snakeXcase", priority="normal")
    t4 = patch_ticket_ok(cc, tenant, t4["id"], {"status": "solved"})
    db_exec(cc, "UPDATE tickets SET sla_breached = 1 WHERE id = %s", (t3["id"],))
    db_exec(cc, "UPDATE tickets SET updated_at = updated_at + INTERVAL 1 HOUR WHERE id = %s",
            (t4["id"],))
    tok = tenant.admin_token

    def ids(q):
        r = cc.get(TICKETS + q, token=tok)
        assert r.status_code == 200, (q, r.text)
        return [x["id"] for x in r.json()["data"]]

    every = [t6, t5, t4, t3, t2, t1]
    assert ids("") == [t["id"] for t in every]                         # -created_at
    assert ids("?sort=created_at") == [t["id"] for t in every[::-1]]
    assert ids("?sort=number") == [t["id"] for t in every[::-1]]
    assert ids("?sort=-number") == [t["id"] for t in every]
    assert ids("?sort=-updated_at")[0] == t4["id"]
    assert ids("?sort=updated_at")[-1] == t4["id"]
    rank = {p: i for i, p in enumerate(("low", "normal", "high", "urgent"))}
    by_prio = cc.get(TICKETS + "?sort=priority", token=tok).json()["data"]
    assert [rank[x["priority"]] for x in by_prio] == sorted(rank[t["priority"]]
                                                             for t in every)
    by_prio = cc.get(TICKETS + "?sort=-priority", token=tok).json()["data"]
    assert by_prio[0]["id"] == t3["id"]
    assert set(ids("?status=new")) == {t1["id"], t5["id"], t6["id"]}
    assert ids("?status=pending") == [t3["id"]]
    assert ids("?status=solved") == [t4["id"]]
    assert ids("?status=closed") == []
    assert set(ids("?priority=low")) == {t1["id"], t5["id"]}
    assert ids(f"?assignee_id={agent['id']}") == [t2["id"]]
    assert ids(f"?assignee_id={tenant.admin_user_id}") == [t1["id"]]
    assert ids(f"?contact_id={c1['id']}") == [t1["id"]]
    assert ids("?contact_id=999999999") == []
    assert ids("?tag=vip") == [t2["id"], t1["id"]]
    assert ids("?tag=VIP") == [t2["id"], t1["id"]]
    assert ids("?tag=later") == [t2["id"]]
    assert ids("?tag=nosuch") == []
    assert ids("?q=printer") == [t3["id"], t1["id"]]
    assert ids("?q=on%20fire") == [t1["id"]]
    assert ids("?q=100%25") == [t2["id"]]
    assert ids("?q=snake_case") == [t5["id"]]
    assert ids("?sla_breached=true") == [t3["id"]]
    assert len(ids("?sla_breached=false")) == 5
    assert ids("?q=login&status=open&priority=high&tag=vip") == [t2["id"]]
    assert ids("?q=login&status=new") == []
    page = cc.get(TICKETS + "?sort=number&page=2&page_size=2", token=tok).json()
    assert page["total"] == 6 and [x["id"] for x in page["data"]] == [t3["id"], t4["id"]]
    for q, field in [("?status=done", "status"), ("?priority=p1", "priority"),
                     ("?assignee_id=x", "assignee_id"), ("?contact_id=-2", "contact_id"),
                     ("?sla_breached=yes", "sla_breached"), ("?sort=subject", "sort"),
                     ("?sort=-id", "sort"), ("?page=0", "page"),
                     ("?page_size=201", "page_size")]:
        assert_error(cc.get(TICKETS + q, token=tok), 400, "invalid_request", field)


def test_q_matches_from_any_word_on_and_follows_the_subject(cc, tenant, tenant2):
    tok = tenant.admin_token
    a = new_ticket(cc, tenant, subject="The printer is ON fire (again)")
    b = new_ticket(cc, tenant, subject="VPN-down for O'Brien's team", priority="high")
    c = new_ticket(cc, tenant, subject="Firewall rules")
    theirs = new_ticket(cc, tenant2, subject="The printer is on fire")

    def ids(q, token=tok):
        r = cc.get(TICKETS + q, token=token)
        assert r.status_code == 200, (q, r.text)
        return [x["id"] for x in r.json()["data"]]

    assert ids("?q=printer") == [a["id"]]                # never another tenant's
    assert ids("?q=on%20fi") == [a["id"]]                # words from the middle on
    assert ids("?q=IS%20%20ON%20FIRE") == [a["id"]]      # case and spaces as typed
    assert ids("?q=fire") == [c["id"], a["id"]]          # a word's start
    assert ids("?q=fire&sort=number") == [a["id"], c["id"]]   # (q alone by id: a shape)
    assert ids("?q=again") == [a["id"]]                  # after "("
    assert ids("?q=rinter") == []                        # not from inside a word
    assert ids("?q=down%20for%20o%27brien") == [b["id"]]
    assert ids("?q=brien") == [b["id"]]
    assert ids("?q=fire&priority=high") == []
    assert ids("?q=vpn&priority=high") == [b["id"]]
    assert ids("?q=%20%20") == ids("")                   # nothing to search: no filter
    # Digits are a subject's text, not a phone number's digits.
    d = new_ticket(cc, tenant, subject="Release 1.2 fails since 2024-01-05 (build 17)")
    assert ids("?q=1.2") == [d["id"]] and ids("?q=2024-0") == [d["id"]]
    assert ids("?q=(build%201") == [d["id"]] and ids("?q=12") == []
    assert cc.delete(f"{TICKETS}/{d['id']}", token=tok).status_code == 204
    page = cc.get(TICKETS + "?q=fire&page_size=1&sort=created_at", token=tok).json()
    assert page["total"] == 2 and [x["id"] for x in page["data"]] == [a["id"]]
    assert ids("?q=printer", token=tenant2.admin_token) == [theirs["id"]]
    # A new subject: found by its words, no longer by the old ones.
    patch_ticket_ok(cc, tenant, a["id"], {"subject": "Paper jam"})
    assert ids("?q=printer") == [] and ids("?q=jam") == [a["id"]]
    assert ids("?q=fire") == [c["id"]]
    patch_ticket_ok(cc, tenant, a["id"], {"priority": "low"})   # the subject unchanged
    assert ids("?q=paper%20j") == [a["id"]]
    assert_error(cc.get(TICKETS + "?q=" + "x" * 201, token=tok), 400, "invalid_request", "q")
    # A deleted ticket's terms go with it.
    assert cc.delete(f"{TICKETS}/{c['id']}", token=tok).status_code == 204
    assert db_rows(cc, "SELECT COUNT(*) AS n FROM ticket_terms WHERE ticket_id = %s",
                   (c["id"],))[0]["n"] == 0


def test_terms_filled_in_sql_are_the_c_ones(cc, tenant):
    """sql/030's cc_ticket_terms_fill (tickets written before it, make bench's seed) gives
    the terms the C writes, for subjects of ASCII text."""
    subjects = ["Printer on FIRE", "  Login   fails\t\n again ", "snake_case 100% #42",
                "O'Brien's VPN-down", "a a a", "--", "x" * 250 + " tail", "Re: [EXT] #1234/b"]
    made_ids = [new_ticket(cc, tenant, subject=s)["id"] for s in subjects]

    def terms():
        rows = db_rows(cc, "SELECT ticket_id, term FROM ticket_terms WHERE tenant_id = %s",
                       (tenant.id,))
        return sorted((r["ticket_id"], r["term"]) for r in rows)

    by_c = terms()
    assert {t for t, _ in by_c} == set(made_ids)
    db_exec(cc, "DELETE FROM ticket_terms WHERE tenant_id = %s", (tenant.id,))
    db_exec(cc, "CALL cc_ticket_terms_fill(%s)", (tenant.id,))
    assert terms() == by_c


# ---- delete ------------------------------------------------------------------------------

def test_delete_takes_messages_tags_and_attachments_with_it(cc, tenant):
    tag = new_tag(cc, tenant)
    t = new_ticket(cc, tenant, tags=[tag["name"]])
    post_message(cc, tenant, t["id"])
    a = made(upload(cc, tenant, t["id"], DATA), "attachment")
    path = stored_file(cc, tenant, a)
    before = last_event_id(cc)
    d = cc.delete(f"{TICKETS}/{t['id']}", token=tenant.admin_token)
    assert d.status_code == 204 and d.content == b""
    assert_error(cc.get(f"{TICKETS}/{t['id']}", token=tenant.admin_token), 404, "not_found")
    assert_error(cc.delete(f"{TICKETS}/{t['id']}", token=tenant.admin_token), 404,
                 "not_found")
    assert_error(cc.get(f"{ATTACHMENTS}/{a['id']}", token=tenant.admin_token), 404,
                 "not_found")
    for table in ("ticket_messages", "ticket_tags", "ticket_attachments"):
        assert db_rows(cc, f"SELECT * FROM {table} WHERE ticket_id = %s", (t["id"],)) == []
    assert not path.exists()
    assert cc.get(f"/api/v1/tags/{tag['id']}", token=tenant.admin_token).status_code == 200
    assert audit_actions(cc, tenant, t["id"])[-1] == "ticket.delete"
    evs = tenant_events(cc, tenant, {"ticket.deleted"}, after=before)
    assert len(evs) == 1 and evs[0]["entity_id"] == str(t["id"])


def test_a_deleted_tag_leaves_its_tickets(cc, tenant):
    keep, gone = new_tag(cc, tenant, "keep"), new_tag(cc, tenant, "gone")
    t = new_ticket(cc, tenant, tags=["keep", "gone"])
    assert t["tags"] == ["gone", "keep"]
    assert cc.delete(f"/api/v1/tags/{gone['id']}", token=tenant.admin_token
                     ).status_code == 204
    assert get_ticket(cc, tenant, t["id"])["tags"] == [keep["name"]]
    assert cc.get(TICKETS + "?tag=gone", token=tenant.admin_token).json()["data"] == []
    # A renamed tag is shown with its new name.
    r = cc.patch(f"/api/v1/tags/{keep['id']}", token=tenant.admin_token,
                 json={"name": "kept"})
    assert r.status_code == 200, r.text
    assert get_ticket(cc, tenant, t["id"])["tags"] == ["kept"]
    assert [x["id"] for x in cc.get(TICKETS + "?tag=kept", token=tenant.admin_token
                                    ).json()["data"]] == [t["id"]]
    # A change of case alone is a rename too (tickets.tag_names is kept by triggers,
    # sql/025, which compare the names byte for byte), in a list as in a get.
    r = cc.patch(f"/api/v1/tags/{keep['id']}", token=tenant.admin_token,
                 json={"name": "Kept"})
    assert r.status_code == 200, r.text
    assert get_ticket(cc, tenant, t["id"])["tags"] == ["Kept"]
    assert [x["tags"] for x in cc.get(TICKETS + "?tag=kept", token=tenant.admin_token
                                      ).json()["data"]] == [["Kept"]]


def test_the_platform_admin_works_in_a_tenant_with_x_tenant_id(cc, tenant):
    h = {"X-Tenant-ID": tenant.id}
    r = cc.post(TICKETS, token=cc.admin_token(), headers=h, json={"subject": "by ops"})
    t = made(r, "ticket")
    assert t["number"] == 1
    assert get_ticket(cc, tenant, t["id"]) == t
    m = made(cc.post(f"{TICKETS}/{t['id']}/messages", token=cc.admin_token(), headers=h,
                     json={"body": "hello"}), "message")
    assert m["author_type"] == "user"
    assert new_ticket(cc, tenant)["number"] == 2


def test_a_deleted_contact_leaves_its_tickets(cc, tenant):
    c = new_contact(cc, tenant)
    t = new_ticket(cc, tenant, contact_id=c["id"])
    assert cc.delete(f"/api/v1/contacts/{c['id']}", token=tenant.admin_token
                     ).status_code == 204
    assert get_ticket(cc, tenant, t["id"])["contact_id"] is None


# ---- messages -------------------------------------------------------------------------------

def test_messages_and_first_responded_at(cc, tenant):
    agent, atok, _, _, _ = tokens(tenant)
    contact = new_contact(cc, tenant)
    t = new_ticket(cc, tenant, contact_id=contact["id"])
    url = f"{TICKETS}/{t['id']}/messages"
    before = last_event_id(cc)
    # A contact's message and an internal note leave first_responded_at alone.
    r = post_message(cc, tenant, t["id"], "My printer burns", author_type="contact")
    m1 = made(r, "message")
    assert_message_shape(m1)
    assert m1 == {**m1, "ticket_id": t["id"], "author_type": "contact",
                  "author_id": contact["id"], "body": "My printer burns",
                  "internal": False}
    m2 = made(post_message(cc, tenant, t["id"], "call the fire brigade?", internal=True,
                           token=atok), "message")
    assert (m2["author_type"], m2["author_id"], m2["internal"]) == ("user", agent["id"], True)
    assert get_ticket(cc, tenant, t["id"])["first_responded_at"] is None
    # The first public message of a user sets it; later ones keep it.
    m3 = made(post_message(cc, tenant, t["id"], "We are on our way", token=atok),
              "message")
    assert (m3["author_type"], m3["internal"]) == ("user", False)
    got = get_ticket(cc, tenant, t["id"])
    assert abs((ts(got["first_responded_at"]) - ts(m3["created_at"])).total_seconds()) <= 1
    assert got["status"] == "new"              # status is only what clients set
    db_exec(cc, "UPDATE tickets SET first_responded_at = '2020-01-01 00:00:00'"
                " WHERE id = %s", (t["id"],))
    made(post_message(cc, tenant, t["id"], "again"), "message")
    assert get_ticket(cc, tenant, t["id"])["first_responded_at"] == "2020-01-01T00:00:00Z"
    # Oldest first, paged.
    page = cc.get(url, token=tenant.admin_token).json()
    assert set(page) == {"data", "total", "page", "page_size"}
    assert [m["id"] for m in page["data"]][:3] == [m1["id"], m2["id"], m3["id"]]
    assert page["data"][0] == m1 and page["total"] == 4
    p2 = cc.get(url + "?page=2&page_size=2", token=tenant.admin_token).json()
    assert [m["id"] for m in p2["data"]] == [m3["id"], page["data"][3]["id"]]
    desc = cc.get(url + "?sort=-created_at", token=tenant.admin_token).json()["data"]
    assert desc[-1]["id"] == m1["id"]
    for q, field in [("?sort=body", "sort"), ("?page=0", "page"), ("?page_size=201",
                                                                     "page_size")]:
        assert_error(cc.get(url + q, token=tenant.admin_token), 400, "invalid_request", field)
    evs = tenant_events(cc, tenant, {"ticket.message_created"}, after=before)
    assert [e["data"] for e in evs][:3] == [m1, m2, m3]
    assert len(evs) == 4
    assert audit_count(cc, tenant) >= 5


def test_a_contact_message_needs_a_contact_on_the_ticket(cc, tenant):
    t = new_ticket(cc, tenant)
    assert_error(post_message(cc, tenant, t["id"], author_type="contact"), 409, "conflict")
    assert cc.get(f"{TICKETS}/{t['id']}/messages", token=tenant.admin_token
                  ).json()["total"] == 0


@pytest.mark.parametrize("body,field", [
    ({}, "body"), ({"body": ""}, "body"), ({"body": "x" * 20001}, "body"),
    ({"body": None}, "body"), ({"body": 3}, "body"),
    ({"body": "a", "internal": "yes"}, "internal"), ({"body": "a", "internal": 1}, "internal"),
    ({"body": "a", "author_type": "agent"}, "author_type"),
    ({"body": "a", "author_type": None}, "author_type"),
    ({"body": "a", "author_id": 5}, "author_id"), ({"body": "a", "ticket_id": 5}, "ticket_id"),
])
def test_bad_messages_name_their_field(cc, tenant, body, field):
    t = new_ticket(cc, tenant)
    r = cc.post(f"{TICKETS}/{t['id']}/messages", token=tenant.admin_token, json=body)
    assert_error(r, 400, "invalid_request", field)
    assert cc.get(f"{TICKETS}/{t['id']}/messages", token=tenant.admin_token
                  ).json()["total"] == 0


def test_a_long_message_and_an_unknown_ticket(cc, tenant):
    t = new_ticket(cc, tenant)
    m = made(post_message(cc, tenant, t["id"], "é" * 20000), "message")
    assert m["body"] == "é" * 20000
    assert_error(post_message(cc, tenant, 999999999), 404, "not_found")
    assert_error(cc.get(f"{TICKETS}/999999999/messages", token=tenant.admin_token), 404,
                 "not_found")


# ---- templates -------------------------------------------------------------------------

ALL_PLACEHOLDERS = ("#{{ticket.number}} id={{ ticket.id }} [{{ticket.subject}}] "
                    "{{ticket.status}}/{{ticket.priority}}/{{ticket.channel}} "
                    "{{contact.name}} <{{contact.email}}> {{contact.phone}} "
                    "{{contact.company}} -- {{agent.name}} <{{  agent.email  }}> {x} }")


def new_template(cc, tenant, body=ALL_PLACEHOLDERS, name=None, token=None):
    r = cc.post(TEMPLATES, token=token or tenant.admin_token,
                json={"name": name or f"Tpl {secrets.token_hex(3)}", "body": body})
    t = made(r, "template")
    assert_template_shape(t)
    assert r.headers["Location"] == f"{TEMPLATES}/{t['id']}"
    return t


def render(cc, tenant, tid, template_id, token=None):
    return cc.post(f"{TICKETS}/{tid}/render-template", token=token or tenant.admin_token,
                   json={"template_id": template_id})


def test_templates_crud(cc, tenant):
    n0 = audit_count(cc, tenant)
    t = new_template(cc, tenant, name="Greeting", body="Hi {{contact.name}}")
    assert (t["name"], t["body"]) == ("Greeting", "Hi {{contact.name}}")
    url = f"{TEMPLATES}/{t['id']}"
    assert cc.get(url, token=tenant.admin_token).json() == t
    listed = cc.get(TEMPLATES, token=tenant.admin_token).json()
    assert listed["data"] == [t]
    assert_error(cc.post(TEMPLATES, token=tenant.admin_token,
                         json={"name": "Greeting", "body": "x"}), 409, "conflict", "name")
    other = new_template(cc, tenant, name="Other", body="x")
    assert_error(cc.patch(url, token=tenant.admin_token, json={"name": "Other"}), 409,
                 "conflict", "name")
    p = cc.patch(url, token=tenant.admin_token, json={"body": "Bye {{ agent.name }}"})
    assert p.status_code == 200, p.text
    assert p.json() == {**t, "body": "Bye {{ agent.name }}", "updated_at": p.json()["updated_at"]}
    assert cc.get(url, token=tenant.admin_token).json() == p.json()
    assert cc.delete(url, token=tenant.admin_token).status_code == 204
    assert_error(cc.get(url, token=tenant.admin_token), 404, "not_found")
    assert_error(cc.delete(url, token=tenant.admin_token), 404, "not_found")
    assert [x["id"] for x in cc.get(TEMPLATES, token=tenant.admin_token).json()["data"]] \
        == [other["id"]]
    # create, create, update, delete: one audit entry each.
    assert audit_count(cc, tenant) - n0 == 4


@pytest.mark.parametrize("body,field", [
    ({"body": "x"}, "name"), ({"name": "", "body": "x"}, "name"),
    ({"name": "n" * 101, "body": "x"}, "name"), ({"name": 5, "body": "x"}, "name"),
    ({"name": "n"}, "body"), ({"name": "n", "body": ""}, "body"),
    ({"name": "n", "body": "x" * 20001}, "body"),
    ({"name": "n", "body": "Dear {{ticket.foo}}"}, "body"),
    ({"name": "n", "body": "Dear {{contact.name}}, {{agent.password}}"}, "body"),
    ({"name": "n", "body": "Dear {{contact.name"}, "body"),
    ({"name": "n", "body": "Dear {{contact.name}"}, "body"),
    ({"name": "n", "body": "{{}}"}, "body"),
    ({"name": "n", "body": "{{ticket}}"}, "body"),
    ({"name": "n", "body": "{{TICKET.NUMBER}}"}, "body"),
    ({"name": "n", "body": "x", "extra": 1}, "extra"),
])
def test_bad_templates_name_their_field(cc, tenant, body, field):
    assert_error(cc.post(TEMPLATES, token=tenant.admin_token, json=body), 400,
                 "invalid_request", field)
    assert cc.get(TEMPLATES, token=tenant.admin_token).json()["data"] == []


def test_a_bad_placeholder_in_a_patch_is_400(cc, tenant):
    t = new_template(cc, tenant, body="ok")
    r = cc.patch(f"{TEMPLATES}/{t['id']}", token=tenant.admin_token,
                 json={"body": "{{ticket.nope}}"})
    assert_error(r, 400, "invalid_request", "body")
    assert cc.get(f"{TEMPLATES}/{t['id']}", token=tenant.admin_token).json() == t


def test_render_template_with_every_placeholder(cc, tenant):
    sup, stok = tenant.make_user(roles=["supervisor"], name="Sam Supervisor")
    _, vtok = tenant.make_user(roles=["viewer"])
    contact = new_contact(cc, tenant, name="Ada Lovelace", email="ada@example.com",
                          phone="+1 (555) 010-9999", company="Engines Ltd")
    t = new_ticket(cc, tenant, subject="Use {{agent.name}} & <b>", priority="high",
                   channel="email", status="open", contact_id=contact["id"])
    tpl = new_template(cc, tenant)
    r = render(cc, tenant, t["id"], tpl["id"], token=stok)
    assert r.status_code == 200, r.text
    assert r.json() == {"body": (
        f"#{t['number']} id={t['id']} [Use {{{{agent.name}}}} & <b>] open/high/email "
        f"Ada Lovelace <ada@example.com> +15550109999 Engines Ltd -- Sam Supervisor "
        f"<{sup['email']}> {{x}} }}")}
    # Reading is enough (tickets.read); the agent is whoever asks.
    r = render(cc, tenant, t["id"], tpl["id"], token=vtok)
    assert r.status_code == 200 and "Sam Supervisor" not in r.json()["body"]
    # No contact: its values are empty.
    bare = new_ticket(cc, tenant, subject="Bare")
    r = render(cc, tenant, bare["id"], tpl["id"])
    assert r.status_code == 200
    assert r.json() == {"body": f"#{bare['number']} id={bare['id']} [Bare] new/normal/web"
                                f"  <>   -- Tenant Admin <{tenant.admin_email}> {{x}} }}"}


def test_render_template_errors(cc, tenant, tenant2):
    t = new_ticket(cc, tenant)
    tpl = new_template(cc, tenant, body="x")
    foreign = new_template(cc, tenant2, body="x")
    url = f"{TICKETS}/{t['id']}/render-template"
    for body in ({"template_id": 999999999}, {"template_id": foreign["id"]},
                 {"template_id": "1"}, {"template_id": None}, {}):
        assert_error(cc.post(url, token=tenant.admin_token, json=body), 400,
                     "invalid_request", "template_id")
    assert_error(cc.post(url, token=tenant.admin_token,
                         json={"template_id": tpl["id"], "x": 1}), 400, "invalid_request")
    assert_error(render(cc, tenant, 999999999, tpl["id"]), 404, "not_found")


def test_templates_need_tickets_manage_to_change(cc, tenant):
    t = new_template(cc, tenant, body="x")
    _, atok, vtok, _, stok = tokens(tenant)
    for tok in (atok, vtok):
        assert cc.get(TEMPLATES, token=tok).status_code == 200
        assert cc.get(f"{TEMPLATES}/{t['id']}", token=tok).status_code == 200
        assert_error(cc.post(TEMPLATES, token=tok, json={"name": "n", "body": "b"}), 403,
                     "forbidden")
        assert_error(cc.patch(f"{TEMPLATES}/{t['id']}", token=tok, json={"body": "b"}), 403,
                     "forbidden")
        assert_error(cc.delete(f"{TEMPLATES}/{t['id']}", token=tok), 403, "forbidden")
    assert new_template(cc, tenant, body="y", token=stok)


# ---- attachments ------------------------------------------------------------------------------

def attachments_dir(cc):
    return files_dir(cc, "CCAttachmentsDir")


def tenant_files(cc, tenant):
    """Every file under <CCAttachmentsDir>/<tenant id>/."""
    base = attachments_dir(cc) / tenant.id
    return sorted(p for p in base.rglob("*") if p.is_file()) if base.exists() else []


def stored_file(cc, tenant, att):
    """The one file under <CCAttachmentsDir>/<tenant id>/ holding the attachment's bytes
    (its SHA-256)."""
    base = attachments_dir(cc) / tenant.id
    found = []
    for root, _, files in os.walk(base):
        for f in files:
            p = Path(root) / f
            if hashlib.sha256(p.read_bytes()).hexdigest() == att["sha256"]:
                found.append(p)
    assert len(found) == 1, (found, att)
    return found[0]


def download(cc, tenant, aid, headers=None, token=None, method="GET"):
    return cc.request(method, f"{ATTACHMENTS}/{aid}", token=token or tenant.admin_token,
                      headers=headers)


def disposition_name(header):
    """The filename* of a Content-Disposition: attachment header, decoded, and its plain
    filename."""
    assert header.startswith("attachment;"), header
    star = re.search(r"filename\*=UTF-8''([^;\s]+)", header)
    plain = re.search(r'filename="((?:[^"\\]|\\.)*)"', header)
    assert star and plain, header
    assert all(32 <= ord(ch) < 127 for ch in plain.group(1)), header
    assert re.fullmatch(r"[A-Za-z0-9!#$&+.^_`|~%-]+", star.group(1)), header
    return unquote(star.group(1), errors="strict"), plain.group(1)


def test_upload_list_and_download(cc, tenant):
    t = new_ticket(cc, tenant)
    before, n0 = last_event_id(cc), audit_count(cc, tenant)
    r = upload(cc, tenant, t["id"], DATA, filename="report.pdf", ctype="application/pdf")
    a = made(r, "attachment")
    assert_attachment_shape(a)
    assert r.headers["Location"] == f"{ATTACHMENTS}/{a['id']}"
    assert a == {**a, "ticket_id": t["id"], "filename": "report.pdf",
                 "content_type": "application/pdf", "size_bytes": len(DATA),
                 "sha256": hashlib.sha256(DATA).hexdigest(),
                 "uploaded_by": tenant.admin_user_id}
    listed = cc.get(f"{TICKETS}/{t['id']}/attachments", token=tenant.admin_token)
    assert listed.status_code == 200 and listed.json() == {"data": [a]}
    d = download(cc, tenant, a["id"])
    assert d.status_code == 200 and d.content == DATA
    assert d.headers["Content-Type"] == "application/pdf"
    assert int(d.headers["Content-Length"]) == len(DATA)
    assert d.headers["X-Content-Type-Options"] == "nosniff"
    assert d.headers["ETag"] and d.headers["Last-Modified"]
    assert disposition_name(d.headers["Content-Disposition"]) == ("report.pdf", "report.pdf")
    # A second one: the list is oldest first.
    b = made(upload(cc, tenant, t["id"], b"second", filename="b.txt"), "attachment")
    assert [x["id"] for x in cc.get(f"{TICKETS}/{t['id']}/attachments",
                                    token=tenant.admin_token).json()["data"]] == \
        [a["id"], b["id"]]
    evs = tenant_events(cc, tenant, {"ticket.attachment_added"}, after=before)
    assert len(evs) == 2 and a["sha256"] in str(evs[0]["data"])
    assert audit_count(cc, tenant) == n0 + 2


def test_the_file_is_stored_under_the_attachments_dir_never_the_document_root(cc, tenant):
    t = new_ticket(cc, tenant)
    data = secrets.token_bytes(3000)
    a = made(upload(cc, tenant, t["id"], data, filename="../../etc/passwd",
                    ctype="application/octet-stream"), "attachment")
    path = stored_file(cc, tenant, a)
    base = (attachments_dir(cc) / tenant.id).resolve()
    assert path.resolve().is_relative_to(base) and path.read_bytes() == data
    assert "passwd" not in path.name
    (row,) = db_rows(cc, "SELECT path FROM ticket_attachments WHERE id = %s", (a["id"],))
    assert row["path"] and ".." not in row["path"] and path.name in row["path"]
    docroot = Path(directive(cc, "DocumentRoot"))
    for root, _, files in os.walk(docroot):
        for f in files:
            assert (Path(root) / f).read_bytes() != data
    assert not attachments_dir(cc).resolve().is_relative_to(docroot.resolve())


@pytest.mark.parametrize("raw,stored", [
    ("../../etc/passwd", "passwd"),
    ("a\\b.txt", "b.txt"),
    ("C:\\Users\\eve\\report.doc", "report.doc"),
    ('say "hi".txt', "say hi.txt"),
    ("ctl\x01\x1b\r\nname.txt", "ctlname.txt"),
    ("tab\there.txt", "tabhere.txt"),
    ("  ..hidden.txt. ", "hidden.txt"),
    ("résumé – 2026.pdf", "résumé – 2026.pdf"),
    ("日本語 ファイル.txt", "日本語 ファイル.txt"),
    ("semi;colon,comma'quote.txt", "semi;colon,comma'quote.txt"),
    ("100%.txt", "100%.txt"),
])
def test_hostile_filenames_are_sanitised(cc, tenant, raw, stored):
    t = new_ticket(cc, tenant)
    a = made(upload(cc, tenant, t["id"], DATA, filename=raw), "attachment")
    assert a["filename"] == stored
    d = download(cc, tenant, a["id"])
    assert d.status_code == 200 and d.content == DATA
    star, plain = disposition_name(d.headers["Content-Disposition"])
    assert star == stored
    if stored.isascii():
        assert plain.replace('\\"', '"').replace("\\\\", "\\") == stored
    assert stored_file(cc, tenant, a).name != stored


def test_long_filenames_are_cut_keeping_the_extension(cc, tenant):
    t = new_ticket(cc, tenant)
    a = made(upload(cc, tenant, t["id"], DATA, filename="a" * 300 + ".pdf"), "attachment")
    assert a["filename"] == "a" * 251 + ".pdf"
    b = made(upload(cc, tenant, t["id"], DATA, filename="é" * 200 + ".txt"), "attachment")
    raw = b["filename"].encode()
    assert len(raw) <= 255 and b["filename"].endswith(".txt")
    assert set(b["filename"][:-4]) == {"é"} and len(raw) >= 250


@pytest.mark.parametrize("query", ["filename=", "filename=..", "filename=...",
                                   "filename=%20%20", "filename=%01%02", "filename=/",
                                   "filename=a/", "filename=%22%22", "filename=%FF.txt",
                                   "filename=a%C3.txt", ""])
def test_filenames_that_leave_nothing_or_are_missing_are_400(cc, tenant, query):
    t = new_ticket(cc, tenant)
    r = cc.request("POST", f"{TICKETS}/{t['id']}/attachments?{query}",
                   token=tenant.admin_token, data=DATA, headers={"Content-Type": "text/plain"})
    assert_error(r, 400, "invalid_request", "filename")
    assert db_rows(cc, "SELECT id FROM ticket_attachments WHERE tenant_id = %s",
                   (tenant.id,)) == []


@pytest.mark.parametrize("ctype", [None, "", "text", "text/", "/plain", "text /plain",
                                   "tex t/plain", "*/*x y", "text/plain/x"])
def test_a_missing_or_malformed_content_type_is_415(cc, tenant, ctype):
    t = new_ticket(cc, tenant)
    assert_error(upload(cc, tenant, t["id"], DATA, ctype=ctype), 415,
                 "unsupported_media_type")
    assert db_rows(cc, "SELECT id FROM ticket_attachments WHERE tenant_id = %s",
                   (tenant.id,)) == []


@pytest.mark.parametrize("sent,stored", [
    ("Text/Plain; charset=UTF-8", "text/plain"),
    ("image/svg+xml", "image/svg+xml"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("text/html", "text/html"),
    ("application/json", "application/json"),
])
def test_the_stored_media_type_is_served_with_nosniff(cc, tenant, sent, stored):
    t = new_ticket(cc, tenant)
    body = b"<html><script>alert(1)</script></html>" + DATA
    a = made(upload(cc, tenant, t["id"], body, filename="x.bin", ctype=sent), "attachment")
    assert a["content_type"] == stored
    d = download(cc, tenant, a["id"])
    assert d.content == body and d.headers["Content-Type"] == stored
    assert d.headers["X-Content-Type-Options"] == "nosniff"
    assert d.headers["Content-Disposition"].startswith("attachment;")


def test_an_empty_body_is_400(cc, tenant):
    t = new_ticket(cc, tenant)
    assert_error(upload(cc, tenant, t["id"], b""), 400, "invalid_request")
    assert db_rows(cc, "SELECT id FROM ticket_attachments WHERE tenant_id = %s",
                   (tenant.id,)) == []


def test_uploads_over_the_limit_are_413_by_length_and_while_reading(cc, tenant):
    t = new_ticket(cc, tenant)
    limit = upload_max(cc)
    path = f"{TICKETS}/{t['id']}/attachments?filename=big.bin"
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {tenant.admin_token}\r\n"
            "Content-Type: application/octet-stream\r\nConnection: close")
    # Content-Length over the limit: refused before any byte of the body is read (none
    # is sent).
    status, hdrs, body = raw_request(cc, head + f"\r\nContent-Length: {limit + 1}")
    assert status == 413, body[:300]
    assert b'"payload_too_large"' in body
    # Chunked: counted while reading.
    chunk = b"x" * 65536
    n = limit // len(chunk) + 1
    framed = [b"%x\r\n" % len(chunk) + chunk + b"\r\n"] * n + [b"0\r\n\r\n"]
    status, hdrs, body = raw_request(cc, head + "\r\nTransfer-Encoding: chunked", framed)
    assert status == 413, body[:300]
    assert b'"payload_too_large"' in body
    assert db_rows(cc, "SELECT id FROM ticket_attachments WHERE tenant_id = %s",
                   (tenant.id,)) == []
    assert tenant_files(cc, tenant) == []            # no partial file left behind
    # Exactly the limit is fine, by length and chunked.
    data = secrets.token_bytes(limit)
    a = made(upload(cc, tenant, t["id"], data, filename="max.bin",
                    ctype="application/octet-stream"), "attachment")
    assert a["size_bytes"] == limit and a["sha256"] == hashlib.sha256(data).hexdigest()
    small = secrets.token_bytes(200000)
    r = upload(cc, tenant, t["id"], (small[i:i + 7000] for i in range(0, len(small), 7000)),
               filename="chunked.bin", ctype="application/octet-stream")
    c = made(r, "attachment")
    assert c["size_bytes"] == len(small)
    assert c["sha256"] == hashlib.sha256(small).hexdigest()
    assert download(cc, tenant, c["id"]).content == small


def test_failed_uploads_leave_no_file(cc, tenant):
    t = new_ticket(cc, tenant)
    assert_error(upload(cc, tenant, 999999999, DATA), 404, "not_found")
    assert_error(upload(cc, tenant, t["id"], DATA, filename="..."), 400, "invalid_request")
    assert_error(upload(cc, tenant, t["id"], DATA, ctype="nonsense"), 415,
                 "unsupported_media_type")
    # A client that goes away in the middle of its body.
    head = (f"POST {TICKETS}/{t['id']}/attachments?filename=cut.bin HTTP/1.1\r\n"
            f"Host: 127.0.0.1\r\nAuthorization: Bearer {tenant.admin_token}\r\n"
            "Content-Type: application/octet-stream\r\nContent-Length: 200000")
    host, port = cc.base_url.split("//", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(head.encode() + b"\r\n\r\n" + b"x" * 50000)
        time.sleep(0.3)
    time.sleep(0.5)
    assert db_rows(cc, "SELECT id FROM ticket_attachments WHERE tenant_id = %s",
                   (tenant.id,)) == []
    assert tenant_files(cc, tenant) == []
    a = made(upload(cc, tenant, t["id"], DATA), "attachment")
    assert tenant_files(cc, tenant) == [stored_file(cc, tenant, a)]


def test_ranges_and_validators(cc, tenant):
    t = new_ticket(cc, tenant)
    a = made(upload(cc, tenant, t["id"], DATA, filename="d.bin",
                    ctype="application/octet-stream"), "attachment")
    assert_ranges_served(lambda h: download(cc, tenant, a["id"], headers=h), DATA,
                         "application/octet-stream")
    assert_validators_served(lambda h, m: download(cc, tenant, a["id"], headers=h, method=m),
                             DATA, "application/octet-stream")


def test_delete_attachment_removes_the_file_after_the_row(cc, tenant):
    t = new_ticket(cc, tenant)
    a = made(upload(cc, tenant, t["id"], DATA), "attachment")
    keep = made(upload(cc, tenant, t["id"], b"keep me"), "attachment")
    path = stored_file(cc, tenant, a)
    _, atok, vtok, _, stok = tokens(tenant)
    for tok in (atok, vtok):
        assert_error(cc.delete(f"{ATTACHMENTS}/{a['id']}", token=tok), 403, "forbidden")
    assert path.exists()
    n0 = audit_count(cc, tenant)
    d = cc.delete(f"{ATTACHMENTS}/{a['id']}", token=stok)
    assert d.status_code == 204 and d.content == b""
    assert not path.exists()
    assert audit_count(cc, tenant) == n0 + 1
    assert_error(download(cc, tenant, a["id"]), 404, "not_found")
    assert_error(cc.delete(f"{ATTACHMENTS}/{a['id']}", token=stok), 404, "not_found")
    assert cc.get(f"{TICKETS}/{t['id']}/attachments", token=tenant.admin_token
                  ).json()["data"] == [keep]
    assert download(cc, tenant, keep["id"]).content == b"keep me"


def test_attachment_permissions_and_unknown_tickets(cc, tenant):
    t = new_ticket(cc, tenant)
    a = made(upload(cc, tenant, t["id"], DATA), "attachment")
    _, atok, vtok, _, _ = tokens(tenant)
    assert download(cc, tenant, a["id"], token=vtok).content == DATA
    assert made(upload(cc, tenant, t["id"], DATA, token=atok), "attachment")
    assert_error(upload(cc, tenant, t["id"], DATA, token=vtok), 403, "forbidden")
    assert_error(upload(cc, tenant, 999999999, DATA), 404, "not_found")
    assert_error(cc.get(f"{TICKETS}/999999999/attachments", token=tenant.admin_token), 404,
                 "not_found")
    assert_error(download(cc, tenant, 999999999), 404, "not_found")
    assert_unauthorized(cc.get(f"{ATTACHMENTS}/{a['id']}"))
    assert_unauthorized(cc.request("POST", f"{TICKETS}/{t['id']}/attachments?filename=x",
                                   data=DATA, headers={"Content-Type": "text/plain"}))


def test_without_an_attachments_dir_uploads_and_downloads_are_503(cc, tenant, monkeypatch):
    t = new_ticket(cc, tenant)
    a = made(upload(cc, tenant, t["id"], DATA), "attachment")
    text = re.sub(r"^\s*CCAttachmentsDir\b.*$", "", cc.conf_text(), flags=re.M)
    monkeypatch.setattr(cc, "conf_text", lambda: text)
    second = cc.start_second_httpd(name="httpd-noattach")
    monkeypatch.undo()
    try:
        url = second.base_url
        r = cc.request("POST", f"{url}{TICKETS}/{t['id']}/attachments?filename=a.txt",
                       token=tenant.admin_token, data=DATA,
                       headers={"Content-Type": "text/plain"})
        assert_error(r, 503, "unavailable")
        assert_error(cc.get(f"{url}{ATTACHMENTS}/{a['id']}", token=tenant.admin_token), 503,
                     "unavailable")
        # The rest of the helpdesk works there.
        assert cc.get(f"{url}{TICKETS}/{t['id']}", token=tenant.admin_token
                      ).status_code == 200
    finally:
        second.stop()


# ---- tenants --------------------------------------------------------------------------------

def test_another_tenants_helpdesk_is_404_and_never_listed(cc, tenant, tenant2):
    contact = new_contact(cc, tenant)
    t = new_ticket(cc, tenant, contact_id=contact["id"], subject="Secret subject")
    m = made(post_message(cc, tenant, t["id"]), "message")
    a = made(upload(cc, tenant, t["id"], DATA), "attachment")
    tpl = new_template(cc, tenant, body="x")
    t = get_ticket(cc, tenant, t["id"])         # answered by the message
    tok2 = tenant2.admin_token
    own_tpl = new_template(cc, tenant2, body="y")
    item = f"{TICKETS}/{t['id']}"
    for r in (cc.get(item, token=tok2),
              cc.patch(item, token=tok2, json={"subject": "mine"}),
              cc.delete(item, token=tok2),
              cc.get(item + "/messages", token=tok2),
              cc.post(item + "/messages", token=tok2, json={"body": "hi"}),
              cc.get(item + "/attachments", token=tok2),
              upload(cc, tenant2, t["id"], DATA),
              cc.post(item + "/render-template", token=tok2,
                      json={"template_id": own_tpl["id"]}),
              cc.get(f"{ATTACHMENTS}/{a['id']}", token=tok2),
              cc.get(f"{ATTACHMENTS}/{a['id']}", token=tok2, headers={"Range": "bytes=0-0"}),
              cc.delete(f"{ATTACHMENTS}/{a['id']}", token=tok2),
              cc.get(f"{TEMPLATES}/{tpl['id']}", token=tok2),
              cc.patch(f"{TEMPLATES}/{tpl['id']}", token=tok2, json={"body": "z"}),
              cc.delete(f"{TEMPLATES}/{tpl['id']}", token=tok2),
              # A tenant admin's X-Tenant-ID is ignored.
              cc.get(item, token=tok2, headers={"X-Tenant-ID": tenant.id})):
        assert_error(r, 404, "not_found")
    page = cc.get(TICKETS, token=tok2).json()
    assert page["total"] == 0 and page["data"] == []
    for q in (f"?contact_id={contact['id']}", "?q=Secret", "?status=new"):
        assert cc.get(TICKETS + q, token=tok2).json()["data"] == []
    assert [x["id"] for x in cc.get(TEMPLATES, token=tok2).json()["data"]] == [own_tpl["id"]]
    # Nothing changed, and tenant2's numbers start at 1.
    assert get_ticket(cc, tenant, t["id"]) == t
    assert cc.get(item + "/messages", token=tenant.admin_token).json()["data"] == [m]
    assert download(cc, tenant, a["id"]).content == DATA
    assert new_ticket(cc, tenant2)["number"] == 1
    # The platform admin reaches it with X-Tenant-ID.
    r = cc.get(item, token=cc.admin_token(), headers={"X-Tenant-ID": tenant.id})
    assert r.status_code == 200 and r.json() == t


def test_wrong_methods_are_405(cc, tenant):
    t = new_ticket(cc, tenant)
    a = made(upload(cc, tenant, t["id"], DATA), "attachment")
    tok = tenant.admin_token
    for method, path in (("PUT", f"{TICKETS}/{t['id']}"), ("DELETE", TICKETS),
                         ("DELETE", f"{TICKETS}/{t['id']}/messages"),
                         ("PATCH", f"{ATTACHMENTS}/{a['id']}"),
                         ("GET", f"{TICKETS}/{t['id']}/render-template"),
                         ("PUT", f"{TEMPLATES}")):
        r = cc.request(method, path, token=tok, json={} if method != "GET" else None)
        assert_error(r, 405, "method_not_allowed")
        assert r.headers["Allow"]


def test_answers_match_the_openapi_document(cc, tenant):
    check = openapi_checker(cc)
    tok = tenant.admin_token
    one, msgs = TICKETS + "/{id}", TICKETS + "/{id}/messages"
    atts, att = TICKETS + "/{id}/attachments", ATTACHMENTS + "/{id}"
    rend, tpl1 = TICKETS + "/{id}/render-template", TEMPLATES + "/{id}"
    t = check(create_ticket(cc, tenant), "POST", TICKETS, 201)
    check(cc.post(TICKETS, token=tok, json={"subject": ""}), "POST", TICKETS, 400,
          "invalid_request")
    check(cc.post(TICKETS, token=tok, data=b"x", headers={"Content-Type": "text/plain"}),
          "POST", TICKETS, 415, "unsupported_media_type")
    check(cc.get(TICKETS, token=tok), "GET", TICKETS, 200)
    check(cc.get(TICKETS + "?sort=id", token=tok), "GET", TICKETS, 400, "invalid_request")
    check(cc.get(TICKETS), "GET", TICKETS, 401, "unauthorized")
    check(cc.get(f"{TICKETS}/{t['id']}", token=tok), "GET", one, 200)
    check(cc.get(f"{TICKETS}/999999999", token=tok), "GET", one, 404, "not_found")
    check(patch_ticket(cc, tenant, t["id"], {"subject": "x"}), "PATCH", one, 200)
    check(patch_ticket(cc, tenant, t["id"], {"bogus": 1}), "PATCH", one, 400)
    _, atok = tenant.make_user(roles=["agent"])
    check(patch_ticket(cc, tenant, t["id"], {"status": "closed"}, atok), "PATCH", one, 403,
          "forbidden")
    check(post_message(cc, tenant, t["id"]), "POST", msgs, 201)
    check(post_message(cc, tenant, t["id"], author_type="contact"), "POST", msgs, 409,
          "conflict")
    check(cc.get(f"{TICKETS}/{t['id']}/messages", token=tok), "GET", msgs, 200)
    check(upload(cc, tenant, t["id"], DATA), "POST", atts, 201)
    check(upload(cc, tenant, t["id"], DATA, filename=None), "POST", atts, 400)
    check(upload(cc, tenant, t["id"], DATA, ctype=None), "POST", atts, 415)
    check(upload(cc, tenant, t["id"], b"x" * (upload_max(cc) + 1)), "POST", atts, 413,
          "payload_too_large")
    a = check(cc.get(f"{TICKETS}/{t['id']}/attachments", token=tok), "GET", atts, 200)
    check(cc.get(f"{ATTACHMENTS}/999999999", token=tok), "GET", att, 404, "not_found")
    tp = check(cc.post(TEMPLATES, token=tok, json={"name": "T", "body": "{{ticket.id}}"}),
               "POST", TEMPLATES, 201)
    check(cc.post(TEMPLATES, token=tok, json={"name": "T", "body": "x"}), "POST", TEMPLATES,
          409, "conflict")
    check(cc.post(TEMPLATES, token=tok, json={"name": "U", "body": "{{x}}"}), "POST",
          TEMPLATES, 400, "invalid_request")
    check(cc.get(TEMPLATES, token=tok), "GET", TEMPLATES, 200)
    check(cc.get(f"{TEMPLATES}/{tp['id']}", token=tok), "GET", tpl1, 200)
    check(cc.patch(f"{TEMPLATES}/{tp['id']}", token=tok, json={"body": "b"}), "PATCH", tpl1,
          200)
    check(render(cc, tenant, t["id"], tp["id"]), "POST", rend, 200)
    check(render(cc, tenant, t["id"], 999999999), "POST", rend, 400, "invalid_request")
    check(cc.delete(f"{TEMPLATES}/{tp['id']}", token=tok), "DELETE", tpl1, 204)
    check(cc.delete(f"{ATTACHMENTS}/{a['data'][0]['id']}", token=tok), "DELETE", att, 204)
    check(patch_ticket(cc, tenant, t["id"], {"status": "closed"}), "PATCH", one, 200)
    check(patch_ticket(cc, tenant, t["id"], {"status": "open"}), "PATCH", one, 409,
          "conflict")
    check(cc.delete(f"{TICKETS}/{t['id']}", token=tok), "DELETE", one, 204)
    check(cc.delete(f"{TICKETS}/{t['id']}", token=tok), "DELETE", one, 404, "not_found")


def test_an_attachments_dir_inside_the_document_root_refuses_the_start(cc):
    """CCAttachmentsDir (like CCRecordingsDir and CCVoicemailDir) inside a DocumentRoot
    would let httpd's default handler serve uploads as they are: `apache2 -t` refuses."""
    conf = cc.conf_text()
    root = re.search(r'^DocumentRoot "([^"]+)"', conf, re.M).group(1)
    inside = os.path.join(root, "att-" + secrets.token_hex(3))
    os.makedirs(inside)
    try:
        for directive in ("CCAttachmentsDir", "CCRecordingsDir", "CCVoicemailDir"):
            bad = re.sub(rf'^{directive} .*$', f'{directive} "{inside}"', conf, flags=re.M)
            rc, out = cc.config_test(bad)
            assert rc != 0 and "overlaps the DocumentRoot" in out and directive in out, out
        rc, out = cc.config_test(conf)
        assert rc == 0, out
    finally:
        os.rmdir(inside)


def test_a_message_has_its_own_location(cc, tenant, tenant2):
    """A created message's Location names it; it reads back there, and only there: not
    under another ticket of the tenant, not from another tenant."""
    t, other = new_ticket(cc, tenant), new_ticket(cc, tenant)
    r = post_message(cc, tenant, t["id"], body="Located")
    m = made(r, "message")
    url = f"{TICKETS}/{t['id']}/messages/{m['id']}"
    assert r.headers["Location"] == url
    got = cc.get(url, token=tenant.admin_token)
    assert got.status_code == 200 and got.json() == m
    assert_message_shape(got.json())
    for u, tok in ((f"{TICKETS}/{other['id']}/messages/{m['id']}", tenant.admin_token),
                   (f"{TICKETS}/{t['id']}/messages/999999999", tenant.admin_token),
                   (url, tenant2.admin_token)):
        assert_error(cc.get(u, token=tok), 404, "not_found")


def test_status_and_priority_totals_follow_every_change(cc, tenant):
    """A list filtered by status and/or priority takes its total from ticket_counts
    (sql/020, kept by triggers): after creates, status and priority changes (concurrent
    ones included) and deletes, every such total is the number of tickets listed."""
    tickets = [new_ticket(cc, tenant, status=s, priority=p)
               for s in ("new", "open", "pending") for p in ("low", "high")]
    moves = [({"status": "open", "priority": "urgent"}), ({"status": "solved"}),
             ({"priority": "low"}), ({"status": "on_hold", "priority": "normal"})]

    def move(i):
        return patch_ticket(cc, tenant, tickets[i]["id"], moves[i % len(moves)])

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert {r.status_code for r in pool.map(move, range(len(tickets)))} == {200}
    assert cc.delete(f"{TICKETS}/{tickets[0]['id']}",
                     token=tenant.admin_token).status_code == 204
    statuses = ("new", "open", "pending", "on_hold", "solved", "closed")
    priorities = ("low", "normal", "high", "urgent")
    queries = ([f"?status={s}" for s in statuses] + [f"?priority={p}" for p in priorities]
               + [f"?status={s}&priority={p}" for s in statuses for p in priorities] + [""])
    for q in queries:
        page = cc.get(TICKETS + q + ("&" if q else "?") + "page_size=200",
                      token=tenant.admin_token).json()
        assert page["total"] == len(page["data"]), q
    counts = db_rows(cc, "SELECT status, priority, n FROM ticket_counts WHERE tenant_id = %s"
                         " AND n <> 0 ORDER BY status, priority", (tenant.id,))
    actual = db_rows(cc, "SELECT status, priority, COUNT(*) AS n FROM tickets"
                         " WHERE tenant_id = %s GROUP BY status, priority"
                         " ORDER BY status, priority", (tenant.id,))
    assert counts == actual
