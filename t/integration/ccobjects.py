"""The API's objects as the integration tests make and read them.

- Resource: one collection (/api/v1/dids, ...) with the wrappers every domain's tests
  use: create / create_ok, get, patch / patch_ok, delete, listing / list_ids.  A test
  file binds its own names to one instance (`create_ok = DID.create_ok`), so the
  calls read as before while the code is written once.  with_defaults() makes the
  usual create-body function; set_tenant_limit() sets a quota.
- new_number, new_ext, uniq_name, new_email, new_password, user_body: fresh values no
  other test uses.
- Live chat: CHAT_WIDGETS (the widgets' Resource), CHAT_ORIGIN (the origin a new
  widget allows), visitor_headers / start_chat / start_chat_ok (the public visitor API),
  route_headers(path) (the Origin a /chat/v1 route needs).
- OBJECT_FACTORIES: one object of each kind a route's path parameter can name, keyed
  by the route path up to and including that parameter ("/api/v1/queues/{id}",
  "/api/v1/queues/{id}/members/{member_id}"); concrete_path() fills a route pattern
  with them (typed captures such as {id:int} are read as {id}).
"""

import os
import pwd
import re
import secrets
from contextlib import contextmanager
from pathlib import Path

from cchelpers import (assert_405, assert_bad_query, assert_error, db_exec, entity_audit,
                       entity_events, get_page, tenant_rows)

_CAPTURE_RE = re.compile(r"\{(\w+)(?::[^}]*)?\}")


# ---- fresh values ------------------------------------------------------------------

def new_number():
    """A random E.164 number (13 digits) no other test uses."""
    return f"+1{secrets.randbelow(10**12):012d}"


def new_ext():
    """A random 6-digit extension (tests in one tenant never collide)."""
    return f"{secrets.randbelow(10**6):06d}"


def uniq_name(prefix="Queue"):
    return f"{prefix} {secrets.token_hex(4)}"


def new_email(tenant, prefix="u"):
    return f"{prefix}-{secrets.token_hex(5)}@{tenant.slug}.example.com"


def new_password():
    return "Pw1" + secrets.token_hex(8)


def user_body(tenant, name_prefix="User", email_prefix="u", **over):
    """A valid POST /api/v1/users body; over replaces fields (None drops one)."""
    body = {"email": new_email(tenant, email_prefix),
            "name": f"{name_prefix} " + secrets.token_hex(3),
            "password": new_password(), "roles": ["agent"]}
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}


# ---- one collection ----------------------------------------------------------------

class Resource:
    """The wrappers of one collection.

    path           the collection's path
    body           body(tenant, fields) -> the create body (fresh defaults + fields)
    shape          assert_*_shape of one object: every listed item is checked with it
    check_written  also check the objects create_ok and patch_ok return
    entity, table  its audit/event entity_type and its table (audit_rows, event_rows,
                   rows)
    """

    def __init__(self, path, body=None, shape=None, check_written=False, entity=None,
                 table=None):
        self.path = path
        self.entity = entity
        self.table = table
        self.body = body or (lambda tenant, fields: fields)
        self.shape = shape
        self.check_written = check_written

    def item(self, oid):
        return f"{self.path}/{oid}"

    def _written(self, r, status):
        assert r.status_code == status, r.text
        obj = r.json()
        if self.check_written:
            self.shape(obj)
        return obj

    def create(self, cc, tenant, token=None, headers=None, http_timeout=30, **fields):
        """POST a create body; fields may be any of the object's (a queue's timeout
        included: the request's own timeout is http_timeout)."""
        return cc.post(self.path, token=token or tenant.admin_token,
                       json=self.body(tenant, fields), headers=headers, timeout=http_timeout)

    def post_created(self, cc, tenant, body):
        """POST body as it is (no defaults added): 201, JSON, Location at the new object;
        returns the object."""
        r = cc.post(self.path, token=tenant.admin_token, json=body)
        assert r.status_code == 201, r.text
        assert r.headers["Content-Type"].startswith("application/json")
        obj = r.json()
        assert r.headers["Location"] == self.item(obj["id"])
        return obj

    def create_ok(self, cc, tenant, **fields):
        return self._written(self.create(cc, tenant, **fields), 201)

    def get(self, cc, tenant, oid, token=None):
        return cc.get(self.item(oid), token=token or tenant.admin_token)

    def patch(self, cc, tenant, oid, body, token=None):
        return cc.patch(self.item(oid), token=token or tenant.admin_token, json=body)

    def patch_ok(self, cc, tenant, oid, body):
        return self._written(self.patch(cc, tenant, oid, body), 200)

    def delete(self, cc, tenant, oid, token=None):
        return cc.delete(self.item(oid), token=token or tenant.admin_token)

    def listing(self, cc, token, query="", headers=None):
        return get_page(cc, self.path + query, token, self.shape or (lambda item: None),
                        headers=headers)

    def list_ids(self, cc, token, query=""):
        return [o["id"] for o in self.listing(cc, token, query)["data"]]

    # ---- the checks every collection shares ----

    def assert_wrong_methods_are_405(self, cc, tenant, oid, more=()):
        """PUT on an item and DELETE on the collection are 405 with their Allow headers;
        more adds (method, path, allow[, body]) cases."""
        assert_405(cc, tenant.admin_token,
                   [("PUT", self.item(oid), "GET, PATCH, DELETE", {}),
                    ("DELETE", self.path, "GET, POST"), *more])

    def assert_patch_rejected(self, cc, tenant, oid, body, field, unchanged):
        """PATCH body is a 400 naming field; the object still reads as unchanged and
        only its create is audited."""
        assert_error(self.patch(cc, tenant, oid, body), 400, "invalid_request", field)
        assert self.get(cc, tenant, oid).json() == unchanged
        assert len(self.audit_rows(cc, tenant)) == 1

    def assert_patch_of_a_new_one_rejected(self, cc, tenant, body, field):
        """assert_patch_rejected on an object create_ok makes with its defaults."""
        made = self.create_ok(cc, tenant)
        self.assert_patch_rejected(cc, tenant, made["id"], body, field, made)

    def assert_bad_query(self, cc, tenant, query, field):
        assert_bad_query(cc, self.path, tenant.admin_token, query, field)

    def assert_empty_listing(self, cc, tenant):
        body = self.listing(cc, tenant.admin_token)
        assert (body["data"], body["total"]) == ([], 0)

    def assert_paging(self, cc, tenant, ordered, past_page=9):
        """ordered: the ids of the tenant's 5 objects in the default sort.  The first page
        holds them all with the defaults, page 2 of size 2 the 3rd and 4th, a page past
        the end none (with the total)."""
        body = self.listing(cc, tenant.admin_token)
        assert (body["total"], body["page"], body["page_size"]) == (5, 1, 20)
        assert [o["id"] for o in body["data"]] == ordered
        assert body["data"][0] == self.get(cc, tenant, ordered[0]).json()
        p2 = self.listing(cc, tenant.admin_token, "?page=2&page_size=2")
        assert (p2["total"], p2["page"], p2["page_size"]) == (5, 2, 2)
        assert [o["id"] for o in p2["data"]] == ordered[2:4]
        past = self.listing(cc, tenant.admin_token, f"?page={past_page}&page_size=2")
        assert past["data"] == [] and past["total"] == 5
        return past

    def assert_sorts(self, cc, tenant, made, field):
        """made: the tenant's objects.  ?sort=field and ?sort=created_at (ties by id), each
        ascending and descending, list them in that order; returns (by_field, by_created)."""
        by_field = [o["id"] for o in sorted(made, key=lambda o: o[field])]
        by_created = [o["id"] for o in sorted(made, key=lambda o: (o["created_at"], o["id"]))]
        for query, want in ((f"?sort={field}", by_field), (f"?sort=-{field}", by_field[::-1]),
                            ("?sort=created_at", by_created),
                            ("?sort=-created_at", by_created[::-1])):
            assert self.list_ids(cc, tenant.admin_token, query) == want, query
        return by_field, by_created

    def assert_reader_cannot_write(self, cc, tenant, token, oid, unchanged, create_body,
                                   patch_body, bad_body):
        """token lists the collection but may not create, patch or delete: 403 before
        anything else (an unknown id or an invalid body too); oid still reads as
        unchanged and only its create is audited."""
        assert cc.get(self.path, token=token).status_code == 200
        assert_error(cc.post(self.path, token=token, json=create_body), 403, "forbidden")
        assert_error(self.patch(cc, tenant, oid, patch_body, token=token), 403, "forbidden")
        assert_error(self.delete(cc, tenant, oid, token=token), 403, "forbidden")
        assert_error(self.delete(cc, tenant, 999999999, token=token), 403, "forbidden")
        assert_error(cc.post(self.path, token=token, json=bad_body), 403, "forbidden")
        assert self.get(cc, tenant, oid).json() == unchanged
        assert len(self.audit_rows(cc, tenant)) == 1

    def check_answers(self, check, cc, token, oid, patch_body):
        """The OpenAPI checks every collection's document test runs (check is an
        openapi_checker): a text/plain POST is 415; the list reads, refuses ?sort=id and
        wants a token; object oid reads and a missing one is 404; patch_body patches it
        and an unknown field is a 400."""
        one = self.path + "/{id}"
        check(cc.post(self.path, token=token, data=b"x", headers={"Content-Type": "text/plain"}),
              "POST", self.path, 415, "unsupported_media_type")
        check(cc.get(self.path, token=token), "GET", self.path, 200)
        check(cc.get(self.path + "?sort=id", token=token), "GET", self.path, 400,
              "invalid_request")
        check(cc.get(self.path), "GET", self.path, 401, "unauthorized")
        check(cc.get(self.item(oid), token=token), "GET", one, 200)
        check(cc.get(self.item(999999999), token=token), "GET", one, 404, "not_found")
        check(cc.patch(self.item(oid), token=token, json=patch_body), "PATCH", one, 200)
        check(cc.patch(self.item(oid), token=token, json={"bogus": 1}), "PATCH", one, 400)

    def check_deleted(self, check, cc, token, oid):
        """Deleting object oid is a 204, and deleting it again a 404 (OpenAPI checks)."""
        one = self.path + "/{id}"
        check(cc.delete(self.item(oid), token=token), "DELETE", one, 204)
        check(cc.delete(self.item(oid), token=token), "DELETE", one, 404, "not_found")

    def audit_rows(self, cc, tenant, entity_type=None):
        return entity_audit(cc, tenant, entity_type or self.entity)

    def event_rows(self, cc, tenant, entity_type=None):
        return entity_events(cc, tenant, entity_type or self.entity)

    def rows(self, cc, tenant):
        return tenant_rows(cc, self.table, tenant)

    def create_ignoring_x_tenant_id(self, cc, tenant, other, oid, body):
        """A tenant admin's X-Tenant-ID is ignored: tenant's object oid is 404 to other's
        admin naming tenant, and other's create naming tenant lands in other's own
        tenant; returns the created object."""
        headers = {"X-Tenant-ID": tenant.id}
        assert_error(cc.get(self.item(oid), token=other.admin_token, headers=headers), 404,
                     "not_found")
        r = cc.post(self.path, token=other.admin_token, headers=headers, json=body)
        assert r.status_code == 201
        return r.json()

    def nth_change(self, cc, tenant, n, verb, sid):
        """The n-th audit entry and event of this kind in tenant (exactly n of each so
        far), checked to be <entity>.<verb> and <entity>.<verb>d of object sid."""
        audits, events = self.audit_rows(cc, tenant), self.event_rows(cc, tenant)
        assert len(audits) == n and len(events) == n
        a, e = audits[n - 1], events[n - 1]
        assert (a["action"], a["entity_id"]) == (f"{self.entity}.{verb}", sid)
        assert (e["type"], e["entity_id"]) == (f"{self.entity}.{verb}d", sid)
        return a, e

    def assert_audit_api_lists(self, cc, tenant, sid, verbs):
        """GET /audit-logs for object sid lists exactly these actions."""
        r = cc.get(f"/api/v1/audit-logs?entity_type={self.entity}&entity_id={sid}",
                   token=tenant.admin_token)
        assert r.status_code == 200, r.text
        assert sorted(x["action"] for x in r.json()["data"]) == sorted(
            f"{self.entity}.{v}" for v in verbs)


# Names with a LIKE wildcard (% or _), each followed by a look-alike the wildcard would
# match: a q filter must match the first of each pair only.
LIKE_LOOKALIKES = ("100% sure", "1000 sure", "snake_case", "snakeXcase")


def field_cases(base=None, /, **bad):
    """(body, field) parameter rows, one bad value a row, each body base plus that field:
    field_cases(name=["", None]) -> [({"name": ""}, "name"), ({"name": None}, "name")]."""
    return [({**(base or {}), field: value}, field)
            for field, values in bad.items() for value in values]


def make_did_to(cc, tenant, destination_type, destination_id):
    """A new DID of tenant routing to that destination (POST /api/v1/dids: 201)."""
    r = cc.post("/api/v1/dids", token=tenant.admin_token,
                json={"number": new_number(), "destination_type": destination_type,
                      "destination_id": destination_id})
    assert r.status_code == 201, r.text
    return r.json()


@contextmanager
def routed_by_a_did(cc, tenant, destination_type, destination_id):
    """While the block runs a new DID routes to the destination (the DID is yielded);
    after it, the DID routes nowhere (PATCH destination_type none: 200)."""
    did = make_did_to(cc, tenant, destination_type, destination_id)
    yield did
    r = cc.patch(f"/api/v1/dids/{did['id']}", token=tenant.admin_token,
                 json={"destination_type": "none"})
    assert r.status_code == 200, r.text


def create_named(resource, cc, tenant, names):
    """resource.create_ok one object per name, in order; {name: object}."""
    return {n: resource.create_ok(cc, tenant, name=n) for n in names}


def with_defaults(**fresh):
    """A Resource body function: each field of fresh (a function) unless given."""
    def body(tenant, fields):
        return {**{k: f() for k, f in fresh.items() if k not in fields}, **fields}
    return body


def token_with_permissions(cc, tenant, prefix, permissions):
    """The token of a new user of tenant whose only role (a new one, named prefix_...)
    has these permissions."""
    name = prefix + "_" + secrets.token_hex(3)
    r = cc.post("/api/v1/roles", token=tenant.admin_token,
                json={"name": name, "permissions": permissions})
    assert r.status_code == 201, r.text
    return tenant.make_user(roles=[name])[1]


def set_tenant_limit(cc, tenant, field, n):
    """PATCH the tenant's quota field (max_users, max_dids) as the platform admin."""
    r = cc.patch(f"/api/v1/tenants/{tenant.id}", token=cc.admin_token(), json={field: n})
    assert r.status_code == 200 and r.json()[field] == n, r.text


# ---- objects for path parameters ---------------------------------------------------

def _made(r, what):
    assert r.status_code == 201, f"make {what}: {r.status_code} {r.text[:300]}"
    return r.json()


def _user(cc, tenant, parent):
    return tenant.make_user(roles=["agent"])[0]["id"]


def _role(cc, tenant, parent):
    name = "obj_" + secrets.token_hex(3)
    _made(cc.post("/api/v1/roles", token=tenant.admin_token,
                  json={"name": name, "permissions": ["users.read"]}), "role")
    return name


def _did(cc, tenant, parent):
    return _made(cc.post("/api/v1/dids", token=tenant.admin_token,
                         json={"number": new_number()}), "DID")["id"]


def _queue(cc, tenant, parent):
    return _made(cc.post("/api/v1/queues", token=tenant.admin_token,
                         json={"name": uniq_name("Q")}), "queue")["id"]


def _endpoint(cc, tenant, parent):
    return _made(cc.post("/api/v1/endpoints", token=tenant.admin_token,
                         json={"extension": str(10000000 + secrets.randbelow(89999999))}),
                 "endpoint")["id"]


def _member(cc, tenant, parent):
    """A member of the queue whose members are at parent, on a new endpoint."""
    return _made(cc.post(parent, token=tenant.admin_token,
                         json={"endpoint_id": _endpoint(cc, tenant, None)}),
                 "queue member")["id"]


def _tenant(cc, tenant, parent):
    return tenant.id


# ---- tenant files: recordings (CCRecordingsDir) and voicemail (CCVoicemailDir) -------

def files_dir(cc, directive):
    """The directory a directive (CCRecordingsDir, CCVoicemailDir) of the rendered config
    names."""
    m = re.search(rf'^{directive}\s+"?([^"\n]+)"?\s*$', cc.conf_text(), re.M)
    assert m, f"no {directive} in the rendered config"
    return Path(m.group(1))


def _give_to_httpd(path):
    """httpd's children (www-data when the tests run as root) read the file and unlink
    it, so they own what the tests make."""
    if os.geteuid() == 0:
        pw = pwd.getpwnam("www-data")
        os.lchown(path, pw.pw_uid, pw.pw_gid)


def tenant_files_dir(cc, directive, tenant_id):
    d = files_dir(cc, directive) / tenant_id
    if not d.exists():
        d.mkdir(mode=0o755)
        _give_to_httpd(d)
    return d


def write_tenant_file(cc, directive, tenant_id, rel, data):
    """rel (with its directories) under the tenant's directory of directive, holding
    data; returns its path."""
    base = tenant_files_dir(cc, directive, tenant_id)
    path = base / rel
    d = base
    for part in Path(rel).parts[:-1]:
        d = d / part
        if not d.exists():
            d.mkdir(mode=0o755)
            _give_to_httpd(d)
    path.write_bytes(data)
    os.chmod(path, 0o644)
    _give_to_httpd(path)
    return path


def swap_for_link(path, where):
    """Replace the file at path by a symbolic link to a new file in the directory where,
    holding b"keep"; returns that file."""
    target = where / f"keep-{secrets.token_hex(3)}"
    target.write_bytes(b"keep")
    path.unlink()
    os.symlink(str(target), path)
    return target


def recordings_dir(cc):
    """CCRecordingsDir of the rendered config."""
    return files_dir(cc, "CCRecordingsDir")


def tenant_recordings_dir(cc, tenant_id):
    return tenant_files_dir(cc, "CCRecordingsDir", tenant_id)


def write_recording_file(cc, tenant_id, rel, data=b"RIFF....WAVEfmt "):
    """rel (with its directories) under the tenant's recordings directory, holding data;
    returns its path."""
    return write_tenant_file(cc, "CCRecordingsDir", tenant_id, rel, data)


def voicemail_dir(cc):
    """CCVoicemailDir of the rendered config."""
    return files_dir(cc, "CCVoicemailDir")


def tenant_voicemail_dir(cc, tenant_id):
    return tenant_files_dir(cc, "CCVoicemailDir", tenant_id)


def make_mailbox(cc, tenant, mailbox=None):
    """A voicemail box of tenant (Asterisk's voicemail row in the tenant's context,
    tenant-<slug>: the fixtures' slugs are short enough to be their key)."""
    mailbox = mailbox or str(2000 + secrets.randbelow(7000))
    assert len(tenant.slug) <= 24
    db_exec(cc, "INSERT IGNORE INTO voicemail (context, mailbox, password)"
            " VALUES (%s, %s, '1234')", (f"tenant-{tenant.slug}", mailbox))
    return mailbox


def new_msg_id():
    return f"{1714558660 + secrets.randbelow(10**6)}-{secrets.token_hex(4)}"


def vm_meta(msg_id, callerid='"Alice" <+4930123456>', origtime=1714558660, duration=7,
            flag="", origdate=None, mailbox="2001"):
    """A msgNNNN.txt as app_voicemail writes it (apps/app_voicemail.c, file storage)."""
    lines = [";", "; Message Information file", ";", "[message]",
             f"origmailbox={mailbox}", "context=from-external", f"exten={mailbox}",
             "rdnis=unknown", "priority=2", "callerchan=PJSIP/trunk-00000001",
             f"callerid={callerid}",
             f"origdate={origdate or 'Wed May  1 10:17:40 AM UTC 2024'}"]
    if origtime is not None:
        lines.append(f"origtime={origtime}")
    lines += ["category=", f"msg_id={msg_id}", f"flag={flag}", f"duration={duration}"]
    return ("\n".join(lines) + "\n").encode()


VM_EXT = {"wav": "wav", "wav49": "WAV", "gsm": "gsm", "mp3": "mp3", "ogg": "ogg"}


def write_voicemail(cc, tenant, mailbox, folder="INBOX", num=0, msg_id=None, fmt="wav",
                    audio=b"RIFF....WAVEfmt ", meta=None, **meta_kw):
    """A message in the tenant's spool: <mailbox>/<folder>/msgNNNN.<ext> and then its
    .txt (app_voicemail's order); returns (txt path relative to the tenant's directory,
    msg_id)."""
    msg_id = msg_id or new_msg_id()
    base = f"{mailbox}/{folder}/msg{num:04d}"
    write_tenant_file(cc, "CCVoicemailDir", tenant.id, f"{base}.{VM_EXT[fmt]}", audio)
    write_tenant_file(cc, "CCVoicemailDir", tenant.id, f"{base}.txt",
                      meta if meta is not None else vm_meta(msg_id, mailbox=mailbox,
                                                            **meta_kw))
    return f"{base}.txt", msg_id


def _recording(cc, tenant, parent):
    rel = f"obj-{secrets.token_hex(4)}.wav"
    write_recording_file(cc, tenant.id, rel)
    return _made(cc.post("/api/v1/recordings", token=tenant.admin_token,
                         json={"cdr_uniqueid": "1732428000.1", "path": rel,
                               "format": "wav"}), "recording")["id"]


def _voicemail(cc, tenant, parent):
    mailbox = make_mailbox(cc, tenant)
    path, _ = write_voicemail(cc, tenant, mailbox, num=secrets.randbelow(10000))
    return _made(cc.post("/api/v1/voicemails", token=tenant.admin_token,
                         json={"path": path, "format": "wav"}), "voicemail")["id"]


# ---- live chat (mod_cc_chat) ----------------------------------------------------------

CHAT_ORIGIN = "https://shop.example.com"       # the origin chat widgets allow by default
CHAT_WIDGET_KEYS = {"id", "name", "public_key", "allowed_origins", "greeting", "color",
                    "enabled", "reassign_after", "created_at", "updated_at"}
PUBLIC_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")


def assert_chat_widget_shape(w):
    assert set(w) == CHAT_WIDGET_KEYS, w
    assert isinstance(w["id"], int) and PUBLIC_KEY_RE.match(w["public_key"]), w
    assert isinstance(w["allowed_origins"], list) and isinstance(w["enabled"], bool), w
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", w["color"]), w
    assert w["reassign_after"] is None or isinstance(w["reassign_after"], int), w
    assert w["created_at"].endswith("Z") and w["updated_at"].endswith("Z"), w


# A widget of the tenant allowing CHAT_ORIGIN unless the fields say otherwise.
CHAT_WIDGETS = Resource("/api/v1/chat/widgets",
                        body=with_defaults(name=lambda: uniq_name("Widget"),
                                           allowed_origins=lambda: [CHAT_ORIGIN]),
                        shape=assert_chat_widget_shape, check_written=True,
                        entity="chat_widget", table="chat_widgets")


def visitor_headers(token=None, origin=CHAT_ORIGIN, headers=None):
    """A visitor's request headers: its Origin (none when origin is None) and its
    Authorization: Visitor token."""
    h = {} if origin is None else {"Origin": origin}
    if token is not None:
        h["Authorization"] = f"Visitor {token}"
    h.update(headers or {})
    return h


def start_chat(cc, public_key, origin=CHAT_ORIGIN, body=None, headers=None, base_url=None,
               **kw):
    """POST /chat/v1/widgets/{public_key}/sessions as a visitor on a page of origin (body
    {} unless given); the response."""
    url = (base_url or cc.next_base_url()) + f"/chat/v1/widgets/{public_key}/sessions"
    return cc.post(url, json={} if body is None else body,
                   headers=visitor_headers(origin=origin, headers=headers), **kw)


def start_chat_ok(cc, public_key, origin=CHAT_ORIGIN, body=None, **kw):
    """start_chat: 201; returns {session_id, visitor_token, status, position,
    expires_at}."""
    r = start_chat(cc, public_key, origin, body, **kw)
    assert r.status_code == 201, f"start chat: {r.status_code} {r.text[:300]}"
    return r.json()


def route_headers(path):
    """The headers a request to a route needs besides a token: the chat visitor API's an
    Origin that OBJECT_FACTORIES' widgets allow (a session is only created from one)."""
    return {"Origin": CHAT_ORIGIN} if path.startswith("/chat/v1/") else {}


def _chat_widget(cc, tenant, parent):
    return CHAT_WIDGETS.create_ok(cc, tenant)["id"]


def _chat_widget_key(cc, tenant, parent):
    return CHAT_WIDGETS.create_ok(cc, tenant)["public_key"]


def _chat_session(cc, tenant, parent):
    """A waiting chat session of a new widget (no chat agent is online in a new tenant)."""
    return start_chat_ok(cc, _chat_widget_key(cc, tenant, None))["session_id"]


# ---- contacts, tags and the helpdesk ---------------------------------------------------

def _contact(cc, tenant, parent):
    return _made(cc.post("/api/v1/contacts", token=tenant.admin_token,
                         json={"name": uniq_name("Contact"), "phone": new_number()}),
                 "contact")["id"]


def _tag(cc, tenant, parent):
    return _made(cc.post("/api/v1/tags", token=tenant.admin_token,
                         json={"name": uniq_name("tag")}), "tag")["id"]


def _ticket(cc, tenant, parent):
    return _made(cc.post("/api/v1/tickets", token=tenant.admin_token,
                         json={"subject": uniq_name("Ticket")}), "ticket")["id"]


def _ticket_template(cc, tenant, parent):
    return _made(cc.post("/api/v1/ticket-templates", token=tenant.admin_token,
                         json={"name": uniq_name("Template"),
                               "body": "Ticket {{ticket.number}}"}), "template")["id"]


def _sla(cc, tenant, parent):
    """The tenant's policy of the first priority without one (one policy a priority)."""
    for priority in ("low", "normal", "high", "urgent"):
        r = cc.post("/api/v1/slas", token=tenant.admin_token,
                    json={"name": uniq_name("SLA"), "priority": priority,
                          "first_response_minutes": 60, "resolution_minutes": 480})
        if r.status_code != 409:
            return _made(r, "SLA policy")["id"]
    raise AssertionError("every priority of the tenant has an SLA policy")


def _attachment(cc, tenant, parent):
    ticket = _ticket(cc, tenant, None)
    return _made(cc.post(f"/api/v1/tickets/{ticket}/attachments?filename=a.txt",
                         token=tenant.admin_token, data=b"attachment",
                         headers={"Content-Type": "text/plain"}), "attachment")["id"]


def _webhook(cc, tenant, parent):
    """A disabled subscription (nothing listens on its URL; disabled, it calls nothing
    and so never fails its way to a warning in another test)."""
    return _made(cc.post("/api/v1/webhooks", token=tenant.admin_token,
                         json={"url": "http://127.0.0.1:9/hook", "events": ["*"],
                               "status": "disabled"}), "webhook")["id"]


# factory(cc, tenant, parent) -> the parameter's value; parent is the concrete path
# before the parameter's segment.  Objects are made in tenant, as its admin.
OBJECT_FACTORIES = {
    "/api/v1/users/{id}": _user,
    "/api/v1/roles/{name}": _role,
    "/api/v1/dids/{id}": _did,
    "/api/v1/queues/{id}": _queue,
    "/api/v1/queues/{id}/members/{member_id}": _member,
    "/api/v1/endpoints/{id}": _endpoint,
    "/api/v1/tenants/{id}": _tenant,
    "/api/v1/recordings/{id}": _recording,
    "/api/v1/voicemails/{id}": _voicemail,
    "/api/v1/agents/{user_id}": _user,
    "/api/v1/chat/widgets/{id}": _chat_widget,
    "/api/v1/chat/sessions/{id}": _chat_session,
    "/api/v1/chat/agents/{user_id}": _user,
    "/chat/v1/widgets/{public_key}": _chat_widget_key,
    "/chat/v1/sessions/{id}": _chat_session,
    "/api/v1/contacts/{id}": _contact,
    "/api/v1/tags/{id}": _tag,
    "/api/v1/tickets/{id}": _ticket,
    "/api/v1/ticket-templates/{id}": _ticket_template,
    "/api/v1/slas/{id}": _sla,
    "/api/v1/attachments/{id}": _attachment,
    "/api/v1/webhooks/{id}": _webhook,
}


def normalize_route(path):
    """A route pattern with typed captures ({id:int}, {id:uuid}) read as {id}."""
    return _CAPTURE_RE.sub(r"{\1}", path)


class MissingFactory(LookupError):
    pass


def concrete_path(cc, tenant, path, made=None):
    """path (a route pattern) with every parameter naming a real object of tenant, made
    by OBJECT_FACTORIES (made caches them per pattern prefix).  Raises MissingFactory
    naming the parameter when no factory knows it."""
    made = {} if made is None else made
    pattern, out = "", ""
    for seg in normalize_route(path).split("/")[1:]:
        pattern += "/" + seg
        if seg.startswith("{"):
            if pattern not in made:
                factory = OBJECT_FACTORIES.get(pattern)
                if factory is None:
                    raise MissingFactory(
                        f"no object factory for {pattern} (route {path}): add one to "
                        "OBJECT_FACTORIES in t/integration/ccobjects.py")
                made[pattern] = str(factory(cc, tenant, out))
            seg = made[pattern]
        out += "/" + seg
    return out
