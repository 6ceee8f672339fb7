"""What the helpdesk tests (test_845_tickets.py, test_850_slas.py) share: the routes,
the shapes of tickets, messages, attachments, templates and SLA policies, fresh objects
(contacts, tags, tickets, policies), a reference of business time on an SLA calendar
(cc_sla_rules.h in Python, zoneinfo), the configured directives and raw-socket uploads.
"""

import re
import secrets
import socket
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from cchelpers import db_rows, wait_until  # noqa: F401 (the helpdesk tests' import)

TICKETS = "/api/v1/tickets"
TEMPLATES = "/api/v1/ticket-templates"
SLAS = "/api/v1/slas"
ATTACHMENTS = "/api/v1/attachments"
CONTACTS = "/api/v1/contacts"
TAGS = "/api/v1/tags"

TICKET_KEYS = {"id", "number", "subject", "status", "priority", "channel", "contact_id",
               "assignee_id", "sla_id", "tags", "first_response_due_at",
               "resolution_due_at", "first_responded_at", "resolved_at", "sla_breached",
               "source", "created_at", "updated_at"}
MESSAGE_KEYS = {"id", "ticket_id", "author_type", "author_id", "body", "internal",
                "created_at"}
ATTACHMENT_KEYS = {"id", "ticket_id", "filename", "content_type", "size_bytes", "sha256",
                   "uploaded_by", "created_at"}
TEMPLATE_KEYS = {"id", "name", "body", "created_at", "updated_at"}
SLA_KEYS = {"id", "name", "priority", "first_response_minutes", "resolution_minutes",
            "calendar", "created_at", "updated_at"}

STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
CHANNELS = ("phone", "email", "chat", "web")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def ts(text):
    """An API timestamp (RFC 3339 UTC, whole seconds) as an aware datetime."""
    assert RFC3339.match(text), text
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def fmt(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def maybe_ts(v):
    return None if v is None else ts(v)


# ---- shapes ------------------------------------------------------------------------------

def assert_ticket_shape(t):
    assert set(t) == TICKET_KEYS, t
    assert isinstance(t["id"], int) and isinstance(t["number"], int) and t["number"] >= 1
    assert t["status"] in STATUSES and t["priority"] in PRIORITIES
    assert t["channel"] in CHANNELS
    assert isinstance(t["tags"], list) and isinstance(t["sla_breached"], bool)
    for k in ("contact_id", "assignee_id", "sla_id"):
        assert t[k] is None or isinstance(t[k], int), t
    for k in ("first_response_due_at", "resolution_due_at", "first_responded_at",
              "resolved_at"):
        assert t[k] is None or RFC3339.match(t[k]), t
    assert RFC3339.match(t["created_at"]) and RFC3339.match(t["updated_at"])


def assert_message_shape(m):
    assert set(m) == MESSAGE_KEYS, m
    assert m["author_type"] in ("user", "contact") and isinstance(m["internal"], bool)
    assert RFC3339.match(m["created_at"])


def assert_attachment_shape(a):
    assert set(a) == ATTACHMENT_KEYS, a
    assert re.fullmatch(r"[0-9a-f]{64}", a["sha256"]), a
    assert isinstance(a["size_bytes"], int) and RFC3339.match(a["created_at"])


def assert_template_shape(t):
    assert set(t) == TEMPLATE_KEYS, t
    assert RFC3339.match(t["created_at"]) and RFC3339.match(t["updated_at"])


def assert_sla_shape(s):
    assert set(s) == SLA_KEYS, s
    assert s["priority"] in PRIORITIES
    assert s["calendar"] is None or isinstance(s["calendar"], dict)


# ---- objects -----------------------------------------------------------------------------

def made(r, what="object"):
    assert r.status_code == 201, f"create {what}: {r.status_code} {r.text[:400]}"
    return r.json()


def new_contact(cc, tenant, **fields):
    body = {"name": f"Contact {secrets.token_hex(3)}", **fields}
    return made(cc.post(CONTACTS, token=tenant.admin_token, json=body), "contact")


def new_tag(cc, tenant, name=None):
    return made(cc.post(TAGS, token=tenant.admin_token,
                        json={"name": name or f"tag-{secrets.token_hex(3)}"}), "tag")


def create_ticket(cc, tenant, token=None, **fields):
    body = {"subject": f"Ticket {secrets.token_hex(3)}", **fields}
    return cc.post(TICKETS, token=token or tenant.admin_token, json=body)


def new_ticket(cc, tenant, token=None, **fields):
    t = made(create_ticket(cc, tenant, token=token, **fields), "ticket")
    assert_ticket_shape(t)
    return t


def get_ticket(cc, tenant, tid, token=None):
    r = cc.get(f"{TICKETS}/{tid}", token=token or tenant.admin_token)
    assert r.status_code == 200, r.text
    return r.json()


def patch_ticket(cc, tenant, tid, body, token=None):
    return cc.patch(f"{TICKETS}/{tid}", token=token or tenant.admin_token, json=body)


def patch_ticket_ok(cc, tenant, tid, body, token=None):
    r = patch_ticket(cc, tenant, tid, body, token)
    assert r.status_code == 200, r.text
    assert_ticket_shape(r.json())
    return r.json()


def new_sla(cc, tenant, priority="normal", first=60, resolution=480, calendar=None,
            **fields):
    body = {"name": f"SLA {secrets.token_hex(3)}", "priority": priority,
            "first_response_minutes": first, "resolution_minutes": resolution, **fields}
    if calendar is not None:
        body["calendar"] = calendar
    s = made(cc.post(SLAS, token=tenant.admin_token, json=body), "SLA policy")
    assert_sla_shape(s)
    return s


def post_message(cc, tenant, tid, body="Hello", token=None, **fields):
    return cc.post(f"{TICKETS}/{tid}/messages", token=token or tenant.admin_token,
                   json={"body": body, **fields})


def upload(cc, tenant, tid, data, filename="file.txt", ctype="text/plain", token=None,
           headers=None, params=None):
    """POST /tickets/{tid}/attachments?filename=... with the raw data (ctype None: no
    Content-Type)."""
    h = dict(headers or {})
    if ctype is not None:
        h["Content-Type"] = ctype
    p = {} if filename is None else {"filename": filename}
    p.update(params or {})
    return cc.request("POST", f"{TICKETS}/{tid}/attachments", token=token or tenant.admin_token,
                      data=data, headers=h, params=p)


def tenant_events(cc, tenant, types=None, after=0):
    """The tenant's events (data decoded), oldest first; types: a set of types."""
    import json
    rows = db_rows(cc, "SELECT id, type, entity_type, entity_id, data FROM events"
                       " WHERE tenant_id = %s AND id > %s ORDER BY id", (tenant.id, after))
    out = []
    for r in rows:
        if types is None or r["type"] in types:
            r["data"] = json.loads(r["data"]) if r["data"] else None
            out.append(r)
    return out


def last_event_id(cc):
    (row,) = db_rows(cc, "SELECT COALESCE(MAX(id), 0) AS id FROM events")
    return row["id"]


def audit_count(cc, tenant):
    (row,) = db_rows(cc, "SELECT COUNT(*) AS n FROM audit_logs WHERE tenant_id = %s",
                     (tenant.id,))
    return row["n"]


def audit_actions(cc, tenant, entity_id=None, prefix="ticket."):
    sql = "SELECT action FROM audit_logs WHERE tenant_id = %s AND action LIKE %s"
    args = [tenant.id, prefix + "%"]
    if entity_id is not None:
        sql += " AND entity_id = %s"
        args.append(str(entity_id))
    return [r["action"] for r in db_rows(cc, sql + " ORDER BY id", tuple(args))]


# ---- directives of the rendered config ---------------------------------------------------

def directive(cc, name, default=None):
    m = re.search(rf'^\s*{name}\s+"?([^"\n]+?)"?\s*$', cc.conf_text(), re.M)
    return m.group(1) if m else default


def sla_interval(cc):
    return int(directive(cc, "CCSlaInterval", "60"))


def upload_max(cc):
    return int(directive(cc, "CCUploadMaxSize", "10485760"))


# ---- raw HTTP (a body the client library would not send as asked) -------------------------

def raw_request(cc, head, body_chunks=(), base_url=None, timeout=30):
    """Send head (the request line and headers, no blank line) then each chunk of
    body_chunks on one connection, stopping quietly when the server closes it; returns
    (status, headers dict lowercased, body bytes) of the answer."""
    url = base_url or cc.base_url
    host, port = url.split("//", 1)[1].split(":")
    s = socket.create_connection((host, int(port)), timeout=timeout)
    try:
        s.sendall(head.encode("latin-1") + b"\r\n\r\n")
        for chunk in body_chunks:
            try:
                s.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        data = b""
        while True:
            try:
                got = s.recv(65536)
            except ConnectionResetError:
                break
            if not got:
                break
            data += got
    finally:
        s.close()
    head_bytes, _, rest = data.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    assert lines and lines[0].startswith("HTTP/1."), data[:300]
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, rest


# ---- business time on an SLA calendar (cc_sla_rules.h) ------------------------------------

def _hm(s):
    h, m = s.split(":")
    return int(h) * 60 + int(m)


def _periods(cal):
    """Each business period of the calendar as (start, end) aware UTC datetimes, in order,
    starting at the local date before `since` (an overnight period from the day before
    included).  Wall-clock times are converted with fold 0 (the tests' calendars name no
    time a DST change skips or repeats)."""
    tz = ZoneInfo(cal["timezone"])
    holidays = {date.fromisoformat(h) for h in cal.get("holidays", [])}
    by_day = {d: sorted((_hm(p["from"]), _hm(p["to"])) for p in cal["hours"] if p["day"] == d)
              for d in DAYS}

    def gen(since):
        day = since.astimezone(tz).date() - timedelta(days=1)
        for _ in range(3700):
            if day not in holidays:
                for f, t in by_day[DAYS[day.weekday()]]:
                    start = _wall(tz, day, f)
                    end = _wall(tz, day, t) if t > f else _wall(tz, day + timedelta(days=1), t)
                    yield start.astimezone(timezone.utc), end.astimezone(timezone.utc)
            day += timedelta(days=1)

    return gen


def _wall(tz, day, minutes):
    """Local wall-clock time `minutes` after the local midnight starting day (1440: the
    next midnight), fold 0."""
    day = day + timedelta(days=minutes // 1440)
    minutes %= 1440
    return datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=tz)


def business_add(cal, start, secs):
    """The instant at which secs of business time have passed since start (cal None:
    24/7)."""
    if cal is None:
        return start + timedelta(seconds=secs)
    left = timedelta(seconds=secs)
    if not left:
        return start
    for a, b in _periods(cal)(start):
        a = max(a, start)
        if b <= a:
            continue
        if b - a >= left:
            return a + left
        left -= b - a
    raise AssertionError("no due time within the horizon")


def business_between(cal, a, b):
    """Business seconds in [a, b)."""
    if b <= a:
        return 0
    if cal is None:
        return (b - a).total_seconds()
    total = timedelta()
    for s, e in _periods(cal)(a):
        if s >= b:
            break
        s, e = max(s, a), min(e, b)
        if e > s:
            total += e - s
    return total.total_seconds()


ALL_DAY_EVERY_DAY = [{"day": d, "from": "00:00", "to": "24:00"} for d in DAYS]
