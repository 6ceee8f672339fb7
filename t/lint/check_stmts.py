#!/usr/bin/python3
"""Lint every prepared statement declared with CC_STMT(label, sql).

Each shared/*.c and mod_*/*.c that mentions CC_STMT( is run through the C preprocessor
(gcc -E with the project's include paths) with CC_STMT redefined as a marker, so
statements built from macros (column lists, ORDER BY variants, label suffixes) are
checked exactly as compiled.  Checks:

  - labels look like cc_<domain>_<verb> and are unique across the project;
  - a statement whose SQL names a tenant-owned table (after FROM, JOIN, INTO, UPDATE, or
    in a FROM list) mentions that table's tenant column outside comments (tenant_id, or
    tenantid for Asterisk's tables such as cdr), unless it carries
    /* cc-lint: no-tenant <reason> */ with a reason.  The tenant-owned tables and their
    columns come from the migrations, through t/lint/cctables.py;
  - no '?' anywhere (apr_dbd would not count it as a parameter);
  - no '%' followed by a letter other than 's' (only %s placeholders; %% is a literal %).

Run without arguments (what `make lint` does), it first checks itself: the deliberately
broken t/lint/fixtures/bad_stmts.c must fail with every expected message; then the real
tree must pass.  With file arguments it checks just those files.
"""

import glob
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cctables  # noqa: E402

# {table: tenant column} of the tables whose rows belong to a tenant (from sql/*.sql).
TENANT_TABLES = cctables.tenant_tables()

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURE = os.path.join(ROOT, "t", "lint", "fixtures", "bad_stmts.c")
# What the fixture must make us say (one substring per deliberate mistake).
FIXTURE_EXPECTED = [
    "duplicate label 'cc_bad_dup'",
    "'cc_bad_no_tenant': touches users without tenant_id",
    "'cc_bad_comma_join': touches roles without tenant_id",
    "'cc_bad_comment_only': touches audit_logs without tenant_id",
    "'cc_bad_cdr_no_tenantid': touches cdr without tenant_ref",
    "'cc_bad_cdr_wrong_column': touches cdr without tenant_ref",
    "'cc_bad_qmark': contains '?'",
    "'cc_bad_percent': placeholder '%d'",
    "'cc_bad_reasonless': no-tenant exemption without a reason",
    "'BadLabel': label must look like cc_<domain>_<verb>",
]

MARKER = "__CC_LINT_STMT__"
PRELUDE = """#include "cc_db.h"
#undef CC_STMT
#define CC_STMT(label, sql) __CC_LINT_STMT__(label, sql)
"""

LABEL_RE = re.compile(r"^cc_[a-z0-9]+(?:_[a-z0-9]+)+$")
EXEMPT_RE = re.compile(r"/\*\s*cc-lint:\s*no-tenant\b(.*?)\*/", re.S)
COMMENT_RE = re.compile(r"/\*.*?\*/|--[^\n]*|#[^\n]*", re.S)
TABLE_AFTER_RE = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+((?:`?\w+`?\.)?`?\w+`?)", re.I)
FROM_LIST_RE = re.compile(
    r"\bFROM\s+(.*?)(?=\b(?:WHERE|JOIN|INNER|LEFT|RIGHT|CROSS|STRAIGHT_JOIN|ON|USING|"
    r"GROUP|ORDER|LIMIT|HAVING|UNION|FOR|SET|WINDOW|RETURNING|LOCK)\b|\)|;|$)",
    re.I | re.S)


def cflags():
    """The project's include paths, as the Makefile uses them."""
    def out(cmd):
        try:
            return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True, check=True).stdout.split()
        except (OSError, subprocess.CalledProcessError):
            sys.exit(f"check_stmts: cannot run {' '.join(cmd)} (make deps?)")
    incdir = out(["apxs", "-q", "INCLUDEDIR"])
    mods = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "mod_*")))
    flags = ["-I" + os.path.join(ROOT, d) for d in ["shared"] + mods]
    flags += ["-I" + d for d in incdir]
    flags += out(["pkg-config", "--cflags", "apr-1", "apr-util-1", "jansson", "libjwt"])
    return flags


def preprocess(path, flags, prelude):
    p = subprocess.run(["gcc", "-E", "-DCC_LINT_STMTS", "-include", prelude, *flags, path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    if p.returncode != 0:
        raise RuntimeError(f"gcc -E {path} failed:\n{p.stderr}")
    return p.stdout


def c_unescape(body):
    """The value of a C string literal's body (between the quotes)."""
    out, i = [], 0
    simple = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "?": "?",
              "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        n = body[i + 1]
        if n in simple:
            out.append(simple[n])
            i += 2
        elif n == "x":
            m = re.match(r"[0-9a-fA-F]+", body[i + 2:])
            out.append(chr(int(m.group(0), 16)))
            i += 2 + len(m.group(0))
        elif n in "01234567":
            m = re.match(r"[0-7]{1,3}", body[i + 1:])
            out.append(chr(int(m.group(0), 8)))
            i += 1 + len(m.group(0))
        else:
            out.append(n)
            i += 2
    return "".join(out)


TOKEN_RE = re.compile(r'''
    (?P<marker>^\#\s+(?P<line>\d+)\s+"(?P<file>[^"]*)"[^\n]*\n)
  | (?P<string>(?:u8|u|U|L)?"(?P<body>(?:[^"\\\n]|\\.)*)")
  | (?P<char>'(?:[^'\\\n]|\\.)*')
  | (?P<ident>[A-Za-z_]\w*)
  | (?P<nl>\n)
  | (?P<space>[ \t\r\f\v]+)
  | (?P<punct>.)
''', re.M | re.X)


def tokens(text):
    """(kind, value, file, line) over preprocessor output, following line markers."""
    file, line = "?", 1
    for m in TOKEN_RE.finditer(text):
        if m.group("marker"):
            file, line = m.group("file"), int(m.group("line"))
        elif m.group("nl"):
            line += 1
        elif m.group("space"):
            pass
        elif m.group("string") is not None:
            yield "string", c_unescape(m.group("body")), file, line
        elif m.group("ident"):
            yield "ident", m.group("ident"), file, line
        elif m.group("char"):
            yield "char", m.group("char"), file, line
        else:
            yield "punct", m.group("punct"), file, line


def statements(text, errors):
    """[(label, sql, 'file:line')] of every CC_STMT in preprocessor output."""
    toks = list(tokens(text))
    found = []
    i = 0
    while i < len(toks):
        kind, val, file, line = toks[i]
        if not (kind == "ident" and val == MARKER and i + 1 < len(toks)
                and toks[i + 1][1] == "("):
            i += 1
            continue
        where = f"{os.path.relpath(file, ROOT) if os.path.isabs(file) else file}:{line}"
        depth, j, args, cur = 1, i + 2, [], []
        while j < len(toks) and depth:
            k, v = toks[j][0], toks[j][1]
            if k == "punct" and v == "(":
                depth += 1
            elif k == "punct" and v == ")":
                depth -= 1
                if depth == 0:
                    break
            if k == "punct" and v == "," and depth == 1:
                args.append(cur)
                cur = []
            else:
                cur.append((k, v))
            j += 1
        args.append(cur)
        i = j + 1
        if len(args) != 2:
            errors.append(f"{where}: CC_STMT needs exactly (label, sql)")
            continue
        vals = []
        for a in args:
            if not a or any(k != "string" for k, _ in a):
                errors.append(f"{where}: CC_STMT argument is not a string literal: "
                              + " ".join(v for _, v in a))
                break
            vals.append("".join(v for _, v in a))
        else:
            found.append((vals[0], vals[1], where))
    return found


def tables_named(sql):
    """Lower-case table names the SQL reads or writes (comments removed)."""
    names = set()
    for m in TABLE_AFTER_RE.finditer(sql):
        names.add(m.group(1))
    for m in FROM_LIST_RE.finditer(sql):
        for item in m.group(1).split(","):
            words = item.strip().split()
            if words:
                names.add(words[0])
    return {n.replace("`", "").split(".")[-1].lower() for n in names}


def check_statement(label, sql, where, errors):
    if not LABEL_RE.match(label):
        errors.append(f"{where}: '{label}': label must look like cc_<domain>_<verb>")
    exempt = EXEMPT_RE.search(sql)
    if exempt and not exempt.group(1).strip():
        errors.append(f"{where}: '{label}': no-tenant exemption without a reason "
                      "(write /* cc-lint: no-tenant <why> */)")
    code = COMMENT_RE.sub(" ", sql)
    unscoped = {}
    for table in sorted(tables_named(code) & set(TENANT_TABLES)):
        column = TENANT_TABLES[table]
        if not re.search(rf"\b{column}\b", code, re.I):
            unscoped.setdefault(column, []).append(table)
    if not exempt:
        for column, tables in sorted(unscoped.items()):
            errors.append(f"{where}: '{label}': touches {', '.join(tables)} without {column} "
                          "(or /* cc-lint: no-tenant <reason> */)")
    if "?" in sql:
        errors.append(f"{where}: '{label}': contains '?' (apr_dbd does not count it as a "
                      "parameter; use %s)")
    for m in re.finditer(r"%(%|[A-Za-z]+)", sql):
        if m.group(1) != "%" and not m.group(1).startswith("s"):
            errors.append(f"{where}: '{label}': placeholder '%{m.group(1)[:3]}' (only %s; "
                          "a literal percent sign is %%)")


def check_files(paths):
    """(errors, number of statements) for the given C files."""
    errors, stmts = [], []
    flags = cflags()
    with tempfile.NamedTemporaryFile("w", suffix=".h", prefix="cc_lint_") as prelude:
        prelude.write(PRELUDE)
        prelude.flush()
        for path in paths:
            try:
                stmts += statements(preprocess(path, flags, prelude.name), errors)
            except RuntimeError as e:
                errors.append(str(e))
    seen = {}
    for label, sql, where in stmts:
        if label in seen:
            errors.append(f"{where}: duplicate label '{label}' (also at {seen[label]})")
        else:
            seen[label] = where
        check_statement(label, sql, where, errors)
    return errors, len(stmts)


def project_files():
    paths = []
    for pattern in ("shared/**/*.c", "mod_*/**/*.c"):
        for p in sorted(glob.glob(os.path.join(ROOT, pattern), recursive=True)):
            if "/.libs/" in p:
                continue
            with open(p, errors="replace") as f:
                if "CC_STMT(" in f.read():
                    paths.append(p)
    return paths


def self_test():
    errors, n = check_files([FIXTURE])
    text = "\n".join(errors)
    missing = [e for e in FIXTURE_EXPECTED if e not in text]
    missing += [f"(no problem with a cc_good_* statement, but: {e})" for e in errors
                if "'cc_good_" in e]
    if not errors or missing:
        print("check_stmts: SELF-TEST FAILED: the broken fixture "
              f"{os.path.relpath(FIXTURE, ROOT)} did not produce:", file=sys.stderr)
        for e in missing:
            print(f"    {e}", file=sys.stderr)
        print("  it produced:\n    " + text.replace("\n", "\n    "), file=sys.stderr)
        return False
    print(f"check_stmts: self-test OK (the broken fixture fails with {len(errors)} "
          "expected problems)")
    return True


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    if args:
        paths = [os.path.abspath(a) for a in args]
    else:
        if "--no-self-test" not in argv and not self_test():
            return 1
        paths = project_files()
    errors, n = check_files(paths)
    if errors:
        for e in errors:
            print(f"check_stmts: {e}", file=sys.stderr)
        print(f"check_stmts: {len(errors)} problem(s) in {n} statements", file=sys.stderr)
        return 1
    print(f"check_stmts: OK ({n} statements in {len(paths)} files; labels unique, "
          "tenant-scoped, %s placeholders only)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
