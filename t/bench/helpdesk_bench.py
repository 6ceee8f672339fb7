#!/usr/bin/env python3
"""make bench, helpdesk part (issue 13): checks the seed and writes wrk's request paths.

    helpdesk_bench.py BASE_URL TOKEN OUTDIR

On bench-1 as seeded by t/bench/helpdesk_seed.sql (the database through t/env/db.sh, the
environment bench.sh exports):
- the seeded search terms are the C's: up to 48 seeded contacts of every shape (apostrophes,
  hyphens, initials, non-ASCII, "&" and "S.p.A." companies, no email, no phone) are
  created again through POST /contacts, and each copy's contact_terms rows must equal its
  original's byte for byte; the copies are deleted again.  Exit status 1 otherwise;
- OUTDIR/contacts_q.txt: 200 searches (GET /contacts?q=): 60 surname prefixes of 3 to 5
  letters, 40 company words, 40 company email domains, 60 runs of 4 to 6 digits of
  phone numbers (one in six the number's start as typed, "+49 3061"), of random contacts;
- OUTDIR/contacts_lookup.txt: 200 screen pops (GET /contacts/lookup?phone=): 150 seeded
  numbers (one in three typed as "+44 7700 139-498") and 50 numbers no contact has (+358,
  a country the seed has none in: 404);
- OUTDIR/tickets_filtered.txt: GET /tickets?status=&priority= for the 16 pairs of the
  four open statuses and the four priorities; OUTDIR/tickets_mine.txt: an agent's
  tickets, GET /tickets?assignee_id=&status= for the 60 agents x open, pending;
- OUTDIR/tickets_q.txt: 80 ticket searches (GET /tickets?q=) from the seeded subjects'
  terms (sql/030): a word's first 3 to 6 letters, or two words from the middle of a
  subject ("wrong address").
The rows each path matches are counted by SQL and reported; the first paths of each
file are requested once through the API (all 200, the missing numbers' lookups 404).  Loopback only; every request has a timeout.
"""

import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMEOUT = 30
SAMPLE = 8


def like_prefix(q, phrase=False):
    """cc_search_prefix (shared/cc_search.c) for the bench's q values, as a SQL literal;
    phrase: cc_search_phrase_prefix (a subject's q: digits stay text)."""
    digits = [c for c in q if c not in " -.()"]
    phone = digits and all(c.isdigit() for c in digits[1:]) and (digits[0].isdigit()
                                                                 or digits[0] == "+")
    if phone and not phrase:
        term = "".join(c for c in digits if c.isdigit())
    else:
        term = " ".join(q.lower().split())      # the bench's q values are ASCII or lowercase
    assert not set(term) & set("\\%_"), term    # nothing for LIKE to escape
    return term.replace("'", "''") + "%"


def sql(query):
    """Rows of a query through t/env/db.sh (tab-separated, no headers)."""
    out = subprocess.run([os.path.join(ROOT, "t/env/db.sh"), "shell", "-N", "-B"],
                         input=query, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def spread(values):
    values = sorted(values)
    if not values:
        return "none"
    p90 = values[min(len(values) - 1, int(len(values) * 0.9))]
    return (f"min {values[0]}, median {statistics.median(values):g}, p90 {p90}, "
            f"max {values[-1]}")


def check_terms(s, base, tenant):
    """Seeded contacts created again through the API have the same terms."""
    shapes = [
        "id % 4001 = 1", "name LIKE '%''%'", "name LIKE '%-%'", "name LIKE '%.%'",
        "name REGEXP '[^ -~]'", "company LIKE '%&%'", "company LIKE '%.%.%'",
        "company REGEXP '[^ -~]'", "email IS NULL", "phone IS NULL", "company IS NULL",
        "name LIKE 'James James%' OR name LIKE 'Thomas Thomas%'",
    ]
    rows = []
    for shape in shapes:
        rows += sql(f"SELECT JSON_OBJECT('id', id, 'name', name, 'email', email, 'phone',"
                    f" phone, 'company', company) FROM contacts WHERE tenant_id = '{tenant}'"
                    f" AND ({shape}) ORDER BY id LIMIT 4")
    seeded = {}
    for (obj,) in rows:
        c = json.loads(obj)
        seeded[c.pop("id")] = c
    copies = {}
    try:
        for sid, c in seeded.items():
            r = s.post(f"{base}/api/v1/contacts", timeout=TIMEOUT,
                       json={k: v for k, v in c.items() if v is not None})
            r.raise_for_status()
            copies[sid] = r.json()["id"]
        ids = ",".join(str(i) for i in list(seeded) + list(copies.values()))
        terms = {}
        for cid, term in sql(f"SELECT contact_id, HEX(term) FROM contact_terms"
                             f" WHERE contact_id IN ({ids})"):
            terms.setdefault(int(cid), []).append(bytes.fromhex(term).decode())
        bad = [(sid, sorted(terms.get(sid, [])), sorted(terms.get(cid, [])))
               for sid, cid in copies.items()
               if sorted(terms.get(sid, [])) != sorted(terms.get(cid, []))]
    finally:
        for cid in copies.values():
            s.delete(f"{base}/api/v1/contacts/{cid}", timeout=TIMEOUT)
    for sid, have, want in bad:
        print(f"contact {sid} {seeded[sid]}: seeded terms {have}, the API's {want}",
              file=sys.stderr)
    return len(seeded), len(bad)


def main():
    base, token, outdir = sys.argv[1], sys.argv[2], sys.argv[3]
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    (tenant,), = sql("SELECT id FROM tenants WHERE slug = 'bench-1'")
    lines = []

    checked, bad = check_terms(s, base, tenant)
    lines.append(f"helpdesk seed: {checked} seeded contacts created again through the API,"
                 f" {checked - bad} with the same search terms"
                 + ("" if bad == 0 else f", {bad} DIFFERENT (see stderr)"))

    contacts = f"FROM contacts WHERE tenant_id = '{tenant}'"
    q = []
    for i, (last,) in enumerate(sql(f"SELECT SUBSTRING_INDEX(name, ' ', -1) {contacts}"
                                    " ORDER BY CRC32(CONCAT('s', id)) LIMIT 60")):
        q.append(("surname", last.lower()[:3 + i % 3]))
    for (word,) in sql(f"SELECT SUBSTRING_INDEX(company, ' ', 1) {contacts}"
                       " AND company IS NOT NULL ORDER BY CRC32(CONCAT('c', id)) LIMIT 40"):
        q.append(("company", word))
    for (domain,) in sql(f"SELECT SUBSTRING_INDEX(email, '@', -1) {contacts}"
                         " AND company IS NOT NULL AND SUBSTRING_INDEX(email, '@', -1)"
                         " LIKE CONCAT(LOWER(SUBSTRING_INDEX(company, ' ', 1)), '.%')"
                         " ORDER BY CRC32(CONCAT('d', id)) LIMIT 40"):
        q.append(("domain", domain))
    for i, (phone,) in enumerate(sql(f"SELECT phone {contacts} AND phone IS NOT NULL"
                                     " ORDER BY CRC32(CONCAT('p', id)) LIMIT 60")):
        digits, n = phone[1:], 4 + i % 3
        if i % 6 == 0:                      # the start of the number, as typed
            q.append(("digits", f"+{digits[:2]} {digits[2:n]}"))
        else:
            start = 1 + (i * 7) % (len(digits) - n)
            q.append(("digits", digits[start:start + n]))
    lookups = []
    for i, (phone,) in enumerate(sql(f"SELECT phone {contacts} AND phone IS NOT NULL"
                                     " ORDER BY CRC32(CONCAT('l', id)) LIMIT 150")):
        lookups.append(f"{phone[:3]} {phone[3:7]} {phone[7:10]}-{phone[10:]}"
                       if i % 3 == 0 else phone)
    lookups += [f"+35840{(i * 7919) % 10000000:07d}" for i in range(50)]
    agents = [a for (a,) in sql(f"SELECT DISTINCT assignee_id FROM tickets WHERE tenant_id ="
                                f" '{tenant}' AND assignee_id IS NOT NULL ORDER BY 1")]

    tq = []
    for i, (term,) in enumerate(sql(f"SELECT DISTINCT term FROM ticket_terms WHERE tenant_id ="
                                    f" '{tenant}' ORDER BY CRC32(term) LIMIT 80")):
        words = term.split(" ")
        tq.append(" ".join(words[:2]) if i % 2 and len(words) > 1
                  else words[0][:3 + i % 4])

    files = {
        "contacts_q": [f"/api/v1/contacts?q={urllib.parse.quote(v, safe='')}" for _, v in q],
        "contacts_lookup": [f"/api/v1/contacts/lookup?phone={urllib.parse.quote(p, safe='')}"
                            for p in lookups],
        "tickets_filtered": [f"/api/v1/tickets?status={st}&priority={pr}"
                             for st in ("new", "open", "pending", "on_hold")
                             for pr in ("low", "normal", "high", "urgent")],
        "tickets_mine": [f"/api/v1/tickets?assignee_id={a}&status={st}"
                         for a in agents for st in ("open", "pending")],
        "tickets_q": [f"/api/v1/tickets?q={urllib.parse.quote(v, safe='')}" for v in tq],
    }
    for name, paths in files.items():
        with open(os.path.join(outdir, f"{name}.txt"), "w") as f:
            f.write("\n".join(paths) + "\n")

    # How many rows each path matches, by SQL (the same LIKE prefix as cc_search_prefix),
    # so that this stays quick however slow a route is; then a sample of every file
    # through the API (statuses, and one client's time).
    totals = {"contacts_q": [
        int(n) for (n,) in sql(";\n".join(
            f"SELECT COUNT(DISTINCT contact_id) FROM contact_terms WHERE tenant_id ="
            f" '{tenant}' AND term LIKE '{like_prefix(v)}'" for _, v in q) + ";")],
        "tickets_q": [int(n) for (n,) in sql(";\n".join(
            f"SELECT COUNT(DISTINCT ticket_id) FROM ticket_terms WHERE tenant_id ="
            f" '{tenant}' AND term LIKE '{like_prefix(v, phrase=True)}'"
            for v in tq) + ";")]}
    for name, column in (("tickets_filtered", "priority"), ("tickets_mine", "assignee_id")):
        totals[name] = []
        for path in files[name]:
            args = dict(urllib.parse.parse_qsl(path.split("?", 1)[1]))
            (n,), = sql(f"SELECT COUNT(*) FROM tickets WHERE tenant_id = '{tenant}' AND"
                        f" status = '{args['status']}' AND {column} = '{args[column]}'")
            totals[name].append(int(n))
    found = missing = 0
    timings = {}
    for name, paths in files.items():
        for path in paths[:SAMPLE] + (paths[-SAMPLE // 4:] if name == "contacts_lookup" else []):
            t0 = time.perf_counter()
            r = s.get(base + path, timeout=TIMEOUT)
            timings.setdefault(name, []).append((time.perf_counter() - t0) * 1000)
            if r.status_code == 404 and name == "contacts_lookup" and "%2B358" in path:
                missing += 1
            elif r.status_code != 200:
                sys.exit(f"{path}: {r.status_code} {r.text[:200]}")
            elif name == "contacts_lookup":
                found += 1
    kinds = {k: [t for (kk, _), t in zip(q, totals["contacts_q"]) if kk == k]
             for k in ("surname", "company", "domain", "digits")}
    lines.append(f"contacts_q: {len(q)} searches; contacts matched per search: "
                 f"{spread(totals['contacts_q'])}")
    for k, label in (("surname", "surname prefixes of 3-5 letters"),
                     ("company", "company words"), ("domain", "email domains"),
                     ("digits", "phone runs of 4-6 digits")):
        lines.append(f"  {len(kinds[k])} {label}: {spread(kinds[k])}")
    lines.append(f"contacts_lookup: {len(lookups)} numbers, 150 seeded, 50 no contact has"
                 f" (404: the non-2xx column); sampled {found} found, {missing} missing")
    lines.append(f"tickets_filtered: {len(files['tickets_filtered'])} status x priority pairs;"
                 f" tickets matched: {spread(totals['tickets_filtered'])}")
    lines.append(f"tickets_mine: {len(files['tickets_mine'])} agent x status pairs;"
                 f" tickets matched: {spread(totals['tickets_mine'])}")
    lines.append(f"tickets_q: {len(tq)} searches of the subjects' words; tickets matched:"
                 f" {spread(totals['tickets_q'])}")
    lines.append("one client, the first " + str(SAMPLE) + " paths of each: " + "; ".join(
        f"{name} median {statistics.median(t):.1f} ms, max {max(t):.1f} ms"
        for name, t in timings.items()))
    print("\n".join(lines))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
