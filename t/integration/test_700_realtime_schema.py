"""Issue 3 item 1: the Asterisk realtime tables of sql/002_asterisk_realtime.sql match the
Asterisk 22 column lists of shared/reference/asterisk-realtime-schema.md (copied into
realtime_columns.py).

Asterisk reads only the columns it knows, and a column a newer Asterisk queries but the
table lacks is an error, so: every reference column exists, with a compatible type (same
base type family; VARCHAR at least as long; ENUM with the same values), stays nullable
where upstream is nullable, and keeps upstream's AUTO_INCREMENT.  Also our additions (cdr
tenant and API columns), the primary keys and the lookup indexes we rely on.  Every
mismatch is reported in one assertion message.
"""

import re

import pytest

from realtime_columns import ASTERISK_22, AUTO_INCREMENT, BOOL_ENUM, YESNO

DB = "callcenter"

# The primary keys we add or keep (upstream: only UNIQUE(id) on the ps_* tables, no key at
# all on queue_rules and cdr).
PRIMARY_KEYS = {
    "ps_endpoints": ["id"],
    "ps_auths": ["id"],
    "ps_aors": ["id"],
    "ps_contacts": ["id"],
    "ps_endpoint_id_ips": ["id"],
    "queues": ["name"],
    "queue_members": ["queue_name", "interface"],
    "queue_rules": ["id"],
    "queue_log": ["id"],
    "voicemail": ["uniqueid"],
    "cdr": ["id"],
}

# Upstream-nullable columns we make NOT NULL because they are our primary key
# (Asterisk always sets a contact's id).
NOT_NULL_OK = {("ps_contacts", "id")}

# Our columns on top of Asterisk's, in the reference's type notation ("BIGINT+" = an
# integer at least BIGINT wide).  All nullable except the surrogate keys.
OUR_COLUMNS = {
    "cdr": {
        "id": "BIGINT",
        "tenantid": "VARCHAR(80)",       # the CDR variable Asterisk copies from the endpoint
        "peertenantid": "VARCHAR(80)",
        "did": "VARCHAR(16)",            # holds any dids.number (E.164)
        "direction": "ENUM('inbound','outbound','internal')",
        "queue": "VARCHAR(128)",         # holds any queues.name
        "agent_id": "BIGINT",            # a users.id
        "tenant_ref": "VARCHAR(80)",     # generated: tenantid, else accountcode (sql/008)
    },
    "queue_rules": {"id": "BIGINT"},
    "queue_log": {"cc_bucket": "DATETIME"},  # virtual: the row's 15 minutes (sql/015)
}
SURROGATE_IDS = {("cdr", "id"), ("queue_rules", "id")}

UNIQUE_KEYS = {
    "queue_members": [["uniqueid"]],
    "voicemail": [["context", "mailbox"]],
}

# Lookups the API and reports depend on: some index must start with these columns.
INDEXES = {
    "cdr": [["tenant_ref", "start"], ["tenant_ref", "did", "start"],
            ["tenant_ref", "queue", "start"], ["tenant_ref", "agent_id", "start"],
            ["tenant_ref", "uniqueid"], ["uniqueid"], ["linkedid"]],
    "queue_members": [["queue_name"], ["interface"]],
    "ps_contacts": [["endpoint"]],
    "ps_endpoint_id_ips": [["endpoint"]],
    "queue_log": [["time"], ["queuename", "time"], ["queuename", "cc_bucket"]],
}

INT_WIDTH = {"tinyint": 1, "smallint": 2, "mediumint": 3, "int": 4, "bigint": 8}
TEXT_TYPES = {"text", "mediumtext", "longtext"}
ENUM_VALUE_RE = re.compile(r"'((?:[^'\\]|''|\\.)*)'")


# ---- the comparison, pure functions of information_schema rows ---------------------

def enum_values(column_type):
    """The value list of a COLUMN_TYPE like enum('a','b') (as written in the reference
    or as information_schema reports it)."""
    m = re.fullmatch(r"(?i)enum\((.*)\)", column_type.strip())
    assert m, column_type
    return tuple(v.replace("''", "'") for v in ENUM_VALUE_RE.findall(m.group(1)))


def type_problem(ref_type, col):
    """Why the actual column `col` (an information_schema.COLUMNS row) cannot hold what
    Asterisk stores in a column of reference type `ref_type`; None when compatible."""
    dt = col["data_type"].lower()
    got = col["column_type"]            # not lower-cased: ENUM values are case-sensitive
    if ref_type == "BOOL-ENUM":
        ref_type = "ENUM(" + ",".join(f"'{v}'" for v in BOOL_ENUM) + ")"
    elif ref_type == "YESNO":
        ref_type = "ENUM(" + ",".join(f"'{v}'" for v in YESNO) + ")"

    m = re.fullmatch(r"VARCHAR\((\d+)\)", ref_type)
    if m:
        want = int(m.group(1))
        if dt != "varchar":
            return f"is {got}, want VARCHAR({want})"
        if col["char_len"] < want:
            return f"is {got}, want VARCHAR >= {want}"
        return None
    if ref_type.startswith("ENUM("):
        if dt != "enum":
            return f"is {got}, want {ref_type}"
        if enum_values(got) != enum_values(ref_type):
            return f"has values {enum_values(got)}, want {enum_values(ref_type)}"
        return None
    if ref_type in ("INT", "BIGINT"):
        want = INT_WIDTH[ref_type.lower()]
        if dt not in INT_WIDTH or INT_WIDTH[dt] < want:
            return f"is {got}, want {ref_type} or wider"
        return None
    if ref_type == "TEXT":
        return None if dt in TEXT_TYPES else f"is {got}, want TEXT"
    if ref_type == "FLOAT":
        return None if dt in ("float", "double") else f"is {got}, want FLOAT"
    if ref_type == "DATETIME":
        return None if dt == "datetime" else f"is {got}, want DATETIME"
    m = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", ref_type)
    if m:
        p, s = int(m.group(1)), int(m.group(2))
        if dt != "decimal" or col["num_scale"] < s or col["num_prec"] - col["num_scale"] < p - s:
            return f"is {got}, want {ref_type}"
        return None
    raise AssertionError(f"unknown reference type {ref_type!r}")


def column_problem(table, name, ref_type, col, missing):
    """What is wrong with col (a COLUMNS row, None when absent: `missing` says so) against
    its reference type, or None."""
    if col is None:
        return f"{table}.{name}: {missing}"
    why = type_problem(ref_type, col)
    return f"{table}.{name}: {why}" if why else None


def upstream_problems(table, ref_cols, actual):
    """Every way the actual columns of `table` ({name: row}) fall short of the reference
    columns [(name, type, nullable)]."""
    problems = []
    if not actual:
        return [f"{table}: table missing"]
    for name, ref_type, nullable in ref_cols:
        col = actual.get(name)
        problems += filter(None, [column_problem(table, name, ref_type, col,
                                                 f"missing (reference {ref_type})")])
        if col is None:
            continue
        if col["column_type"].lower().endswith("unsigned"):
            problems.append(f"{table}.{name}: is {col['column_type']}, upstream is signed")
        if nullable and col["is_nullable"] != "YES" and (table, name) not in NOT_NULL_OK:
            problems.append(f"{table}.{name}: NOT NULL, upstream is nullable "
                            "(Asterisk leaves it NULL)")
        auto = "auto_increment" in col["extra"].lower()
        if ((table, name) in AUTO_INCREMENT) != auto:
            problems.append(f"{table}.{name}: auto_increment is {auto}, upstream "
                            f"{(table, name) in AUTO_INCREMENT}")
    return problems


def added_column_problems(table, ref_cols, actual):
    """Columns beyond Asterisk's must not make Asterisk's own INSERTs fail."""
    known = {c[0] for c in ref_cols}
    problems = []
    for name, col in actual.items():
        if name in known:
            continue
        if (col["is_nullable"] == "YES" or col["column_default"] is not None
                or "auto_increment" in col["extra"].lower()):
            continue
        problems.append(f"{table}.{name}: our column is NOT NULL without a default")
    return problems


# ---- fixtures ----------------------------------------------------------------------

def realtime_schema_rows(cc, select, add):
    """{table: {}} for the realtime tables, each filled by add(entry, row) with the rows of
    select (an information_schema query on TABLE_SCHEMA and TABLE_NAME, in that order)."""
    out = {t: {} for t in ASTERISK_22}
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute(select, (DB, tuple(ASTERISK_22)))
        for row in cur.fetchall():
            add(out[row["tbl"]], row)
    return out


@pytest.fixture(scope="module")
def columns(cc):
    """{table: {column: information_schema.COLUMNS row}} for the realtime tables."""
    return realtime_schema_rows(
        cc, "SELECT TABLE_NAME AS tbl, COLUMN_NAME AS name, DATA_TYPE AS data_type, "
        "COLUMN_TYPE AS column_type, CHARACTER_MAXIMUM_LENGTH AS char_len, "
        "NUMERIC_PRECISION AS num_prec, NUMERIC_SCALE AS num_scale, "
        "IS_NULLABLE AS is_nullable, COLUMN_DEFAULT AS column_default, EXTRA AS extra "
        "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME IN %s "
        "ORDER BY TABLE_NAME, ORDINAL_POSITION",
        lambda entry, row: entry.__setitem__(row["name"], row))


@pytest.fixture(scope="module")
def indexes(cc):
    """{table: {index name: (unique, [columns in order])}} for the realtime tables."""
    return realtime_schema_rows(
        cc, "SELECT TABLE_NAME AS tbl, INDEX_NAME AS idx, NON_UNIQUE AS non_unique, "
        "COLUMN_NAME AS col FROM information_schema.STATISTICS "
        "WHERE TABLE_SCHEMA = %s AND TABLE_NAME IN %s "
        "ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
        lambda entry, row: entry.setdefault(row["idx"], (not row["non_unique"], []))[1]
        .append(row["col"]))


# ---- the comparator itself (so a pass below means something) -----------------------

def fake(data_type, column_type, nullable=True, char_len=None, extra="", default=None,
         prec=None, scale=None):
    return {"data_type": data_type, "column_type": column_type, "char_len": char_len,
            "num_prec": prec, "num_scale": scale, "is_nullable": "YES" if nullable else "NO",
            "column_default": default, "extra": extra}


def test_comparator_reports_each_kind_of_mismatch():
    ref = [("a", "VARCHAR(40)", True), ("b", "BOOL-ENUM", True), ("c", "INT", True),
           ("d", "YESNO", True), ("e", "DECIMAL(5,2)", True), ("f", "TEXT", True),
           ("g", "INT", True), ("h", "VARCHAR(10)", True)]
    actual = {
        "a": fake("varchar", "varchar(39)", char_len=39),
        "b": fake("enum", "enum('0','1','OFF','on','false','true','no','yes')"),
        "c": fake("int", "int(10) unsigned"),
        "d": fake("enum", "enum('yes','no')", nullable=False),
        "e": fake("decimal", "decimal(4,2)", prec=4, scale=2),
        "f": fake("varchar", "varchar(255)", char_len=255),
        "g": fake("int", "int(11)", extra="auto_increment"),
        "extra1": fake("varchar", "varchar(8)", nullable=False, char_len=8),
        "extra2": fake("bigint", "bigint(20)", nullable=False, extra="auto_increment"),
    }
    problems = upstream_problems("t", ref, actual) + added_column_problems("t", ref, actual)
    text = "\n".join(problems)
    for needle in ("t.a: is varchar(39), want VARCHAR >= 40", "t.b: has values",
                   "t.c: is int(10) unsigned, upstream is signed", "t.d: NOT NULL",
                   "t.e: is decimal(4,2)", "t.f: is varchar(255), want TEXT",
                   "t.g: auto_increment is True", "t.h: missing",
                   "t.extra1: our column is NOT NULL"):
        assert needle in text, text
    assert "extra2" not in text and len(problems) == 9, text
    assert upstream_problems("t", ref, {}) == ["t: table missing"]

    ok = {"a": fake("varchar", "varchar(255)", char_len=255),
          "b": fake("enum", "enum('0','1','off','on','false','true','no','yes')"),
          "c": fake("bigint", "bigint(20)"), "d": fake("enum", "enum('yes','no')"),
          "e": fake("decimal", "decimal(5,2)", prec=5, scale=2),
          "f": fake("longtext", "longtext"), "g": fake("int", "int(11)"),
          "h": fake("varchar", "varchar(10)", char_len=10)}
    assert upstream_problems("t", ref, ok) == []


# ---- the migrated database ---------------------------------------------------------

def test_realtime_tables_match_asterisk_22(columns):
    problems = []
    for table, ref_cols in ASTERISK_22.items():
        problems += upstream_problems(table, ref_cols, columns[table])
    assert not problems, ("realtime tables differ from the Asterisk 22 reference "
                          f"({len(problems)}):\n" + "\n".join(problems))


def test_column_counts_are_the_references(columns):
    # Guards the embedded lists themselves against an accidental deletion.
    assert {t: len(c) for t, c in ASTERISK_22.items()} == {
        "ps_endpoints": 147, "ps_auths": 13, "ps_aors": 16, "ps_contacts": 16,
        "ps_endpoint_id_ips": 6, "queues": 56, "queue_members": 10, "queue_rules": 4,
        "queue_log": 11, "voicemail": 34, "cdr": 21}
    # Exactly our listed additions on top of upstream, nothing unaccounted for.
    extra = {t: sorted(set(columns[t]) - {c[0] for c in ASTERISK_22[t]}) for t in ASTERISK_22}
    assert {t: e for t, e in extra.items() if e} == {
        t: sorted(c) for t, c in OUR_COLUMNS.items()}


def test_our_columns(columns):
    problems = []
    for table, cols in OUR_COLUMNS.items():
        for name, ref_type in cols.items():
            col = columns[table].get(name)
            problems += filter(None, [column_problem(table, name, ref_type, col, "missing")])
            if col is None:
                continue
            surrogate = (table, name) in SURROGATE_IDS
            if surrogate and "auto_increment" not in col["extra"].lower():
                problems.append(f"{table}.{name}: not AUTO_INCREMENT")
            if not surrogate and col["is_nullable"] != "YES":
                problems.append(f"{table}.{name}: NOT NULL (rows the dialplan did not "
                                "classify must still insert)")
        problems += added_column_problems(table, ASTERISK_22[table], columns[table])
    # ps_endpoints.tenantid is upstream's (22.0+) and carries our tenant id (a CHAR(36)).
    tid = columns["ps_endpoints"].get("tenantid")
    if tid is None or tid["data_type"] != "varchar" or tid["char_len"] < 36:
        problems.append(f"ps_endpoints.tenantid: {tid and tid['column_type']}, "
                        "want VARCHAR(80)")
    assert not problems, "\n".join(problems)


def test_primary_and_unique_keys(indexes):
    problems = []
    for table, want in PRIMARY_KEYS.items():
        got = indexes[table].get("PRIMARY")
        if got is None or got[1] != want:
            problems.append(f"{table}: PRIMARY KEY {got and got[1]}, want {want}")
    for table, keys in UNIQUE_KEYS.items():
        uniques = [cols for unique, cols in indexes[table].values() if unique]
        for want in keys:
            if want not in uniques:
                problems.append(f"{table}: no UNIQUE key on {want} (has {uniques})")
    assert not problems, "\n".join(problems)


def test_lookup_indexes(indexes):
    problems = []
    for table, wanted in INDEXES.items():
        have = [cols for _, cols in indexes[table].values()]
        for want in wanted:
            if not any(cols[:len(want)] == want for cols in have):
                problems.append(f"{table}: no index starting with {want} (has {have})")
    assert not problems, "\n".join(problems)


def test_realtime_tables_are_innodb_utf8mb4(cc):
    with cc.db() as conn, conn.cursor() as cur:
        cur.execute("SELECT TABLE_NAME AS tbl, ENGINE AS engine, TABLE_COLLATION AS coll "
                    "FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
                    "AND TABLE_NAME IN %s", (DB, tuple(ASTERISK_22)))
        rows = {r["tbl"]: (r["engine"], r["coll"]) for r in cur.fetchall()}
    assert rows == {t: ("InnoDB", "utf8mb4_unicode_ci") for t in ASTERISK_22}


def test_asterisk_style_rows_insert(cc):
    """The rows Asterisk itself writes go in with only its own columns (our additions
    never get in the way), and the BOOL-ENUM spellings Asterisk accepts are storable."""
    with cc.db() as conn, conn.cursor() as cur:
        conn.begin()
        try:
            cur.execute("INSERT INTO cdr (accountcode, src, dst, start, `end`, duration, "
                        "billsec, disposition, uniqueid, linkedid, sequence) VALUES "
                        "('t700', '1001', '1002', UTC_TIMESTAMP(), UTC_TIMESTAMP(), 3, 1, "
                        "'ANSWERED', 't700.1', 't700.1', 1)")
            cur.execute("INSERT INTO queue_log (`time`, callid, queuename, agent, event) "
                        "VALUES (UTC_TIMESTAMP(), 't700.1', 't700-q', 'PJSIP/t700-1001', "
                        "'ENTERQUEUE')")
            cur.execute("INSERT INTO ps_contacts (id, uri, expiration_time, endpoint, "
                        "authenticate_qualify) VALUES ('t700-1001;@abc', "
                        "'sip:1001@192.0.2.1:5060', 1700000000, 't700-1001', 'no')")
            for spelling in BOOL_ENUM:
                cur.execute("INSERT INTO ps_aors (id, remove_existing) VALUES (%s, %s)",
                            (f"t700-aor-{spelling}", spelling))
            cur.execute("INSERT INTO queue_members (queue_name, interface, paused) "
                        "VALUES ('t700-q', 'PJSIP/t700-1001', 0)")
            cur.execute("SELECT uniqueid FROM queue_members WHERE queue_name = 't700-q'")
            assert cur.fetchone()["uniqueid"] > 0
            cur.execute("SELECT id, tenantid, did, direction, queue, agent_id FROM cdr "
                        "WHERE uniqueid = 't700.1'")
            row = cur.fetchone()
            assert row["id"] > 0
            assert [row[k] for k in ("tenantid", "did", "direction", "queue",
                                     "agent_id")] == [None] * 5
        finally:
            conn.rollback()
