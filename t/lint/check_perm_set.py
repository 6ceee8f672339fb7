#!/usr/bin/env python3
"""Lint: the permission catalogue in shared/cc_perm.c must list, in order, exactly the
members of every `permissions SET(...)` column in sql/001_foundation.sql.

Why: bit i of a cc_perm_mask_t is catalogue entry i, and MariaDB's `permissions+0` is the
SET's bitmask in member order, so the two orders must be identical.  Exit 1 on any drift.
"""
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PERM_C = os.path.join(ROOT, "shared", "cc_perm.c")
SQL = os.path.join(ROOT, "sql", "001_foundation.sql")


def fail(msg):
    print("check_perm_set: FAIL: " + msg)
    sys.exit(1)


def read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        fail("cannot read %s: %s" % (path, e))


def strip_c_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def catalogue_names():
    text = strip_c_comments(read(PERM_C))
    m = re.search(r"cc_perm_catalogue\s*\[\s*\]\s*=\s*\{(.*?)\{\s*NULL\s*,\s*NULL\s*\}",
                  text, flags=re.S)
    if not m:
        fail("no `cc_perm_catalogue[] = { ... {NULL, NULL} }` found in shared/cc_perm.c")
    # The first string literal of each {"name", "description"} entry.
    names = re.findall(r"\{\s*\"([^\"]*)\"\s*,", m.group(1))
    if not names:
        fail("cc_perm_catalogue in shared/cc_perm.c has no entries")
    return names


def sql_sets():
    text = re.sub(r"--[^\n]*", "", read(SQL))
    sets = []
    for m in re.finditer(r"\bpermissions\s+SET\s*\((.*?)\)", text, flags=re.S | re.I):
        sets.append(re.findall(r"'([^']*)'", m.group(1)))
    if not sets:
        fail("no `permissions SET(...)` column found in sql/001_foundation.sql")
    return sets


def main():
    names = catalogue_names()
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        fail("duplicate names in cc_perm_catalogue: " + ", ".join(dups))
    if len(names) > 64:
        fail("cc_perm_catalogue has %d entries; a mask holds 64" % len(names))
    sets = sql_sets()
    if len(sets) < 2:
        fail("expected the permissions SET on both builtin_roles and roles, found %d"
             % len(sets))
    for i, members in enumerate(sets, 1):
        if members == names:
            continue
        for pos, (a, b) in enumerate(zip(names, members)):
            if a != b:
                fail("permissions SET #%d differs at position %d: cc_perm.c has %r, SQL has %r"
                     % (i, pos, a, b))
        fail("permissions SET #%d has %d members, cc_perm_catalogue has %d (first extra: %r)"
             % (i, len(members), len(names),
                (members[len(names)] if len(members) > len(names) else names[len(members)])))
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
