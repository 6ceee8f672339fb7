"""The one registry of tenant-owned tables, read from the migrations (sql/*.sql).

A table is tenant-owned when its CREATE TABLE has a `tenant_id` column (ours) or a
`tenantid` column (Asterisk's realtime/CDR tables, e.g. cdr.tenantid, which carry our
tenant id).  Nothing here is a hand-kept list, so a migration that adds a table with
either column is covered by t/lint/check_stmts.py and by the integration tests that
import this module (t/integration/test_610_hostile_writes.py) without an edit.

The one exception is declared, not derived: login_throttle belongs to a tenant through
its `tenant_key` column (the tenant id, or '' before one is known).

    tenant_tables()  {table: tenant column}, e.g. {"users": "tenant_id", "cdr": "tenant_ref"}
    table_columns()  {table: [column, ...]} of every table the migrations create
"""

import glob
import os
import re

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
SQL_DIR = os.path.join(ROOT, "sql")

# The columns that make a table tenant-owned, in order of preference.
TENANT_COLUMNS = ("tenant_id", "tenantid")

# Tenant-owned tables whose tenant column has another name (see the docstring), or
# whose tenant is a column derived from the one found by name: cdr's tenant_ref is
# tenantid else accountcode (sql/008), and statements must filter on it.
DECLARED = {"login_throttle": "tenant_key", "cdr": "tenant_ref"}

_CREATE_RE = re.compile(r"\bCREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?(\w+)`?\s*\(", re.I)
_ALTER_RE = re.compile(r"\bALTER\s+TABLE\s+`?(\w+)`?\s+([^;]*)", re.I)
_ADD_COLUMN_RE = re.compile(r"\bADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?`?(\w+)`?", re.I)
_COMMENT_RE = re.compile(r"/\*.*?\*/|--[^\n]*|#[^\n]*", re.S)
_NOT_COLUMN = {"primary", "key", "unique", "index", "constraint", "foreign", "fulltext",
               "spatial", "check", "period"}


def _body(text, start):
    """The text between the parenthesis at start - 1 and its match."""
    depth, i = 1, start
    while i < len(text) and depth:
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
        i += 1
    return text[start:i - 1]


def _split_top(body):
    """The comma-separated items of a CREATE TABLE body (commas inside () kept)."""
    items, depth, cur = [], 0, []
    for c in body:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if c == "," and depth == 0:
            items.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    items.append("".join(cur))
    return [i.strip() for i in items if i.strip()]


def table_columns(sql_dir=SQL_DIR):
    """{table: [column, ...]} of every CREATE TABLE in sql_dir/*.sql, with the columns
    later ALTER TABLE ... ADD [COLUMN] statements add (lower case)."""
    tables = {}
    for path in sorted(glob.glob(os.path.join(sql_dir, "*.sql"))):
        with open(path, encoding="utf-8") as f:
            text = _COMMENT_RE.sub(" ", f.read())
        for m in _CREATE_RE.finditer(text):
            cols = []
            for item in _split_top(_body(text, m.end())):
                word = item.split()[0].strip("`").lower()
                if word not in _NOT_COLUMN:
                    cols.append(word)
            tables[m.group(1).lower()] = cols
        for m in _ALTER_RE.finditer(text):
            for add in _ADD_COLUMN_RE.finditer(m.group(2)):
                if add.group(1).lower() not in _NOT_COLUMN:
                    tables.setdefault(m.group(1).lower(), []).append(add.group(1).lower())
    return tables


def tenant_tables(sql_dir=SQL_DIR):
    """{table: its tenant column} of every tenant-owned table (see the docstring)."""
    out = {}
    for table, cols in table_columns(sql_dir).items():
        for col in TENANT_COLUMNS:
            if col in cols:
                out[table] = col
                break
    columns = table_columns(sql_dir)
    for table, col in DECLARED.items():
        if table in out and col not in columns.get(table, []):
            raise ValueError(f"cctables: {table} is declared with {col} but has a "
                             f"{out[table]} column and no {col}")
        out[table] = col
    return out


if __name__ == "__main__":
    for name, column in sorted(tenant_tables().items()):
        print(f"{name}.{column}")
