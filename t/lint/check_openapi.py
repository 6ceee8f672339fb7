#!/usr/bin/python3
"""Keep the OpenAPI document honest against the C route tables, field checks and enums.

The document is assembled from shared/openapi-base.json and every mod_*/openapi.json
fragment by shared/openapi_assemble.py (the same code the Makefile runs; a path or
component defined twice fails there).  This check assembles it itself, so it needs no
build; when $CC_BUILD_DIR/cc-openapi.json exists (the file mod_callcenter embeds) it must
be byte for byte the fresh assembly.

Routes.  Every route table entry in mod_*/*.c, written like
    { "GET", "/api/v1/users/{id}", handler, "users.read", CC_ROUTE_AUTH },
must be an operation of the document, and every operation of the document must be in a
route table.  A capture may be typed, `{id:int}` or `{id:uuid}`: it matches the document
path `/api/v1/users/{id}`, and its path parameter's schema must then be `type: integer`
(`:int`) or have `format: uuid` (`:uuid`).  For each pair the operation's x-permission
must be the route's permission (null for NULL), public routes (CC_ROUTE_PUBLIC) must have
`security: []` and the others must not, x-module must name the module directory the route
lives in, and the responses must have `405: {$ref: '#/components/responses/MethodNotAllowed'}`
(every path answers other methods with 405 and Allow).

Enums and limits.  The C is the truth; a schema states which C it mirrors with one of
three annotations, each `<file under the tree>:<name>`:
    "x-c-enum": "mod_callcenter/cc_dids.c:did_statuses"
        on a schema with `enum`: the file-level `static const char *const did_statuses[] =
        { "active", "inactive", NULL };` and the enum must be equal, order included.
    "x-c-sort": "mod_callcenter/cc_dids.c:did_sorts"
        on a sort parameter's schema: its enum must be each field then `-field`, in the
        array's order, and its default the list's default: `static const cc_list_t x = {
        "cc_dids", did_sorts, DEFAULT, ...}` (the domain kit's lists) or cc_page_parse(...,
        did_sorts, DEFAULT, ...), a string literal or a #define.
    "x-c-text": "mod_callcenter/cc_dids.c:in->description"
        on a string schema: every `cc_valid_text(in->description, MIN, MAX)` call of that
        file (the first argument as written) has the same MIN and MAX (integer literals or
        #defines of the file), maxLength is MAX, and minLength is MIN (absent when 0).  A
        list filter `{ "q", CC_FILTER_SEARCH, n, NULL, MAX, ... }` counts as
        cc_valid_text(q, 0, MAX) (CC_FILTER_TEXT: 1, MAX), and a CC_FILTER_ENUM's values
        array as given to cc_valid_enum.
An annotation naming nothing, or a schema that disagrees, fails.  So does an unannotated
C check: every array named in a cc_valid_enum() or cc_page_parse() call and every
cc_valid_text() call whose limits resolve, in a file with a route table, must be named by
at least one annotation.  (Limits passed in variables, like the audit filters' `max`, are
not followed; nor are arrays reaching cc_valid_enum through a parameter, like tenants'
create_statuses, unless annotated.)

The document itself must be JSON with openapi 3.1.x; every operation needs responses and
a unique operationId; every {param} of a path needs a path parameter; every $ref must
resolve (local refs only); every `examples` entry of a component schema must validate
against it (with the small JSON Schema subset below, which t/integration/test_910_openapi.py
also uses to check live responses).

Run without arguments (what `make lint` does), it first checks itself: mutated copies of
the document (an operation removed, one added, a $ref broken, an enum or a limit changed,
a typed capture's type), fragments defining a path or a component twice, and fixture
route tables and C checks must fail; then the real tree must pass.  Python 3 standard
library only.
"""

import copy
import glob
import importlib.util
import json
import os
import re
import sys
import tempfile

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DOC_NAME = "the assembled document (shared/openapi-base.json + mod_*/openapi.json)"
BUILT_DOC = "cc-openapi.json"     # in $CC_BUILD_DIR: what mod_callcenter embeds
METHOD_NOT_ALLOWED = "#/components/responses/MethodNotAllowed"


def load_assembler(root=ROOT):
    """shared/openapi_assemble.py as a module (the Makefile's assembler)."""
    spec = importlib.util.spec_from_file_location(
        "openapi_assemble", os.path.join(root, "shared", "openapi_assemble.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


assembler = load_assembler()
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Strings are kept (a route's path is one), comments blanked with their newlines kept so
# line numbers stay right.
_C_TOKEN_RE = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|/\*.*?\*/|//[^\n]*', re.S)
ROUTE_RE = re.compile(
    r'\{\s*"(?P<method>[A-Z]+)"\s*,\s*"(?P<path>/[^"]*)"\s*,\s*(?P<handler>[A-Za-z_]\w*)\s*,'
    r'\s*(?P<perm>NULL|"[^"]*")\s*,\s*(?P<flags>[A-Za-z0-9_|\s]+?)\s*\}')
CAPTURE_RE = re.compile(r"\{(\w+)(?::(\w+))?\}")
CAPTURE_TYPES = ("int", "uuid")


def _strip_c_comments(text):
    def repl(m):
        s = m.group(0)
        if s.startswith("/"):
            return "".join("\n" if c == "\n" else " " for c in s)
        return s
    return _C_TOKEN_RE.sub(repl, text)


def parse_routes(root=ROOT):
    """{(METHOD, path): {file, line, module, permission, public}} of every route table
    entry in root/mod_*/*.c, and a list of problems (duplicates)."""
    routes, problems = {}, []
    for mod in sorted(os.listdir(root)):
        mdir = os.path.join(root, mod)
        if not mod.startswith("mod_") or not os.path.isdir(mdir):
            continue
        for name in sorted(os.listdir(mdir)):
            if not name.endswith(".c"):
                continue
            rel = os.path.join(mod, name)
            with open(os.path.join(mdir, name), encoding="utf-8", errors="replace") as f:
                text = _strip_c_comments(f.read())
            for m in ROUTE_RE.finditer(text):
                # {id:int} and {id} are the same document path; the type is kept.
                path = CAPTURE_RE.sub(r"{\1}", m.group("path"))
                key = (m.group("method"), path)
                line = text.count("\n", 0, m.start()) + 1
                perm = m.group("perm")
                info = {
                    "file": rel, "line": line, "module": mod,
                    "permission": None if perm == "NULL" else perm.strip('"'),
                    "public": "CC_ROUTE_PUBLIC" in m.group("flags"),
                    "captures": {n: t for n, t in CAPTURE_RE.findall(m.group("path")) if t},
                }
                if key in routes:
                    prev = routes[key]
                    problems.append(f"route {key[0]} {key[1]} is in two route tables: "
                                    f"{prev['file']}:{prev['line']} and {rel}:{line}")
                    continue
                routes[key] = info
    return routes, problems


def doc_operations(doc):
    """{(METHOD, path): operation} of the document."""
    ops = {}
    paths = doc.get("paths") if isinstance(doc, dict) else None
    if not isinstance(paths, dict):
        return ops
    for path, item in paths.items():
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            if isinstance(item.get(method), dict):
                ops[(method.upper(), path)] = item[method]
    return ops


def compare(routes, doc):
    """Differences between the route tables and the document's operations."""
    problems = []
    ops = doc_operations(doc)
    for key in sorted(set(routes) - set(ops)):
        r = routes[key]
        problems.append(f"missing from the document: {key[0]} {key[1]} "
                        f"(route table {r['file']}:{r['line']})")
    for key in sorted(set(ops) - set(routes)):
        problems.append(f"in the document but in no route table: {key[0]} {key[1]}")
    for key in sorted(set(ops) & set(routes)):
        r, o = routes[key], ops[key]
        where = f"{key[0]} {key[1]}"
        if "x-permission" not in o:
            problems.append(f"{where}: no x-permission (route: {r['permission']!r})")
        elif o["x-permission"] != r["permission"]:
            problems.append(f"{where}: x-permission {o['x-permission']!r} but the route "
                            f"table says {r['permission']!r} ({r['file']}:{r['line']})")
        public_doc = o.get("security") == []
        if public_doc != r["public"]:
            problems.append(f"{where}: the route is {'public' if r['public'] else 'not public'}"
                            f" ({r['file']}:{r['line']}) but the document "
                            f"{'has' if public_doc else 'lacks'} security: []")
        if o.get("x-module") != r["module"]:
            problems.append(f"{where}: x-module {o.get('x-module')!r}, the route is in "
                            f"{r['module']}")
        if (o.get("responses") or {}).get("405") != {"$ref": METHOD_NOT_ALLOWED}:
            problems.append(f"{where}: responses lack 405: {{$ref: {METHOD_NOT_ALLOWED!r}}}")
        problems += _capture_problems(doc, key, o, r)
    return problems


def path_parameter(doc, path, op, name):
    """The schema of path parameter name (the operation's, else the path item's), deref'd;
    None when there is none."""
    item = doc["paths"][path]
    for plist in (op.get("parameters") or [], item.get("parameters") or []):
        for p in plist:
            try:
                p = deref(doc, p)
                if isinstance(p, dict) and p.get("in") == "path" and p.get("name") == name:
                    return deref(doc, p.get("schema") or {})
            except KeyError:
                continue    # reported as an unresolved $ref
    return None


def _capture_problems(doc, key, op, route):
    problems = []
    where = f"{key[0]} {key[1]} ({route['file']}:{route['line']})"
    for name, ctype in sorted(route["captures"].items()):
        schema = path_parameter(doc, key[1], op, name)
        if ctype not in CAPTURE_TYPES:
            problems.append(f"{where}: capture {{{name}:{ctype}}} has an unknown type "
                            f"(known: {', '.join(CAPTURE_TYPES)})")
        elif schema is None:
            continue    # validate_document reports the missing parameter
        elif ctype == "int" and schema.get("type") != "integer":
            problems.append(f"{where}: capture {{{name}:int}} but the path parameter's "
                            f"type is {schema.get('type')!r}, not 'integer'")
        elif ctype == "uuid" and schema.get("format") != "uuid":
            problems.append(f"{where}: capture {{{name}:uuid}} but the path parameter's "
                            f"format is {schema.get('format')!r}, not 'uuid'")
    return problems


# ---- enums and limits: the document's annotations against the C -----------------------

C_ARRAY_RE = re.compile(r'^(?:static\s+)?const\s+char\s*\*\s*const\s+(\w+)\s*\[\s*\]\s*=\s*'
                        r'\{(?P<body>[^}]*)\}', re.M)
C_DEFINE_RE = re.compile(r'^#define\s+(\w+)\s+(\d+|"[^"]*")\s*$', re.M)
C_ENUM_CALL_RE = re.compile(r'\bcc_valid_enum\s*\(\s*[^,()]+,\s*(\w+)\s*\)')
C_PAGE_CALL_RE = re.compile(r'\bcc_page_parse\s*\(\s*[^,()]+,\s*[^,()]+,\s*(\w+)\s*,'
                            r'\s*("[^"]*"|\w+)\s*,')
C_LIST_RE = re.compile(r'\bcc_list_t\s+\w+\s*=\s*\{\s*"[^"]*"\s*,\s*(\w+)\s*,'
                       r'\s*("[^"]*"|\w+)\s*,')
# A list filter of the domain kit: { "q", CC_FILTER_SEARCH, binds, values, max, ... }.
C_FILTER_RE = re.compile(r'\{\s*("[^"]*"|\w+)\s*,\s*'
                         r'CC_FILTER_(ENUM|TEXT|SEARCH|TERM|PHRASE)\s*,\s*\d+\s*,'
                         r'\s*(\w+)\s*,\s*(\w+)\s*,')
C_TEXT_CALL_RE = re.compile(r'\bcc_valid_(?:text|name)\s*\(\s*([^,()]+?)\s*,'
                            r'\s*(\w+)\s*,\s*(\w+)\s*\)')
ANNOTATIONS = ("x-c-enum", "x-c-sort", "x-c-text")


def _c_value(defines, token):
    """An integer or string literal, or a #define of one; None otherwise."""
    token = defines.get(token, token)
    if token.isdigit():
        return int(token)
    if token.startswith('"') and token.endswith('"'):
        return token[1:-1]
    return None


# Core files of shared/ whose checks of a client's values several domains use, read like
# a domain's rules (cc_files.c: the audio formats of recordings and voicemail).
SHARED_RULES = ("shared/cc_files.c",)


def parse_c_checks(root, routes):
    """{file: checks} for the mod_*/*.c files holding route tables, the pure rules of
    their domains (mod_*/cc_*_rules.c, which hold no routes) and SHARED_RULES; checks are
    arrays
    {name: [values]} (file-level, NULL-terminated), sorts {array: cc_page_parse default},
    texts {cc_valid_text's first argument: {(min, max)}} (None: a limit that does not
    resolve), used {array names given to cc_valid_enum or cc_page_parse}."""
    out = {}
    rules = {os.path.relpath(f, root)
             for f in glob.glob(os.path.join(root, "mod_*", "cc_*_rules.c"))}
    rules |= {rel for rel in SHARED_RULES if os.path.exists(os.path.join(root, rel))}
    for rel in sorted({r["file"] for r in routes.values()} | rules):
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            text = _strip_c_comments(f.read())
        # The file's #defines, and its module's headers' (a domain's keys and limits sit
        # in its rules header).
        defines = {}
        for h in sorted(glob.glob(os.path.join(root, os.path.dirname(rel), "*.h"))):
            with open(h, encoding="utf-8", errors="replace") as f:
                defines.update((m.group(1), m.group(2))
                               for m in C_DEFINE_RE.finditer(_strip_c_comments(f.read())))
        defines.update((m.group(1), m.group(2)) for m in C_DEFINE_RE.finditer(text))
        arrays = {}
        for m in C_ARRAY_RE.finditer(text):
            items = [t.strip() for t in m.group("body").split(",") if t.strip()]
            if items and items[-1] == "NULL":
                arrays[m.group(1)] = [_c_value(defines, t) for t in items[:-1]]
        sorts = {m.group(1): _c_value(defines, m.group(2))
                 for rx in (C_PAGE_CALL_RE, C_LIST_RE) for m in rx.finditer(text)}
        texts = {}
        for m in C_TEXT_CALL_RE.finditer(text):
            arg = re.sub(r"\s+", "", m.group(1))
            texts.setdefault(arg, set()).add((_c_value(defines, m.group(2)),
                                              _c_value(defines, m.group(3))))
        used = set(sorts) | {m.group(1) for m in C_ENUM_CALL_RE.finditer(text)}
        # List filters check as cc_valid_enum(values) or cc_valid_text(name, 0|1, max)
        # do (cc_list_filter: 1 for TEXT, 0 for the free-text kinds); a text filter is
        # named by its query parameter.
        for m in C_FILTER_RE.finditer(text):
            kind = m.group(2)
            if kind == "ENUM":
                used.add(m.group(3))
            else:
                texts.setdefault(_c_value(defines, m.group(1)), set()).add(
                    (1 if kind == "TEXT" else 0, _c_value(defines, m.group(4))))
        out[rel] = {"arrays": arrays, "sorts": sorts, "texts": texts,
                    "used": used & set(arrays)}
    return out


def _annotated(node, where, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ANNOTATIONS:
                out.append((where, k, v, node))
            else:
                _annotated(v, f"{where}/{k.replace('~', '~0').replace('/', '~1')}", out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _annotated(v, f"{where}/{i}", out)


def _check_annotation(kind, name, schema, c, label):
    """Problems of one annotated schema against its file's C checks."""
    if kind == "x-c-text":
        limits = c["texts"].get(name)
        if not limits:
            return [f"{label}: no cc_valid_text({name}, ...) call there"]
        if len(limits) != 1 or None in next(iter(limits)):
            return [f"{label}: the calls' limits differ or do not resolve: "
                    f"{sorted(limits, key=str)}"]
        lo, hi = next(iter(limits))
        got = (schema.get("minLength", 0), schema.get("maxLength"))
        if got != (lo, hi):
            return [f"{label}: minLength/maxLength {got} but the C checks {lo}..{hi} "
                    f"characters"]
        return []
    if name not in c["arrays"]:
        return [f"{label}: no NULL-terminated static const char *const {name}[] there"]
    want = c["arrays"][name]
    if kind == "x-c-sort":
        if name not in c["sorts"]:
            return [f"{label}: {name} is passed to no cc_page_parse() call"]
        if "default" in schema and schema["default"] != c["sorts"][name]:
            return [f"{label}: default {schema['default']!r} but cc_page_parse() defaults "
                    f"to {c['sorts'][name]!r}"]
        want = [v for f in want for v in (f, f"-{f}")]
    if schema.get("enum") != want:
        return [f"{label}: enum {schema.get('enum')} but the C has {want}"]
    return []


def compare_c_checks(doc, c_checks):
    """Differences between the annotated schemas and the C, and unannotated C checks."""
    problems, found, named = [], [], set()
    _annotated(doc, "#", found)
    for where, kind, value, schema in found:
        label = f"{where} {kind} {value!r}"
        rel, sep, name = str(value).rpartition(":")
        if not sep or rel not in c_checks:
            problems.append(f"{label}: not <a route-table file>:<name> "
                            f"(files: {', '.join(sorted(c_checks))})")
            continue
        named.add((rel, kind, name))
        problems += _check_annotation(kind, name, schema, c_checks[rel], label)
    for rel, c in sorted(c_checks.items()):
        for name in sorted(c["used"]):
            kind = "x-c-sort" if name in c["sorts"] else "x-c-enum"
            if (rel, kind, name) not in named:
                problems.append(f"{rel}: {name} is checked by the C but no schema has "
                                f'"{kind}": "{rel}:{name}"')
        for arg, limits in sorted(c["texts"].items()):
            if all(None not in pair for pair in limits) and \
                    (rel, "x-c-text", arg) not in named:
                problems.append(f"{rel}: cc_valid_text({arg}, ...) is checked by the C but "
                                f'no schema has "x-c-text": "{rel}:{arg}"')
    return problems


# ---- document structure ---------------------------------------------------------------

def resolve_ref(doc, ref):
    """The object a local $ref points at, or raise KeyError."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        raise KeyError(f"not a local reference: {ref!r}")
    node = doc
    for part in ref[1:].split("/")[1:] if ref != "#" else []:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(ref)
    return node


def _walk_refs(node, where, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                out.append((where, v))
            else:
                _walk_refs(v, f"{where}/{k}", out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _walk_refs(v, f"{where}/{i}", out)


def deref(doc, node, depth=0):
    while isinstance(node, dict) and "$ref" in node and depth < 20:
        node = resolve_ref(doc, node["$ref"])
        depth += 1
    return node


def validate_document(doc):
    problems = []
    if not isinstance(doc, dict):
        return ["the document is not a JSON object"]
    if not re.fullmatch(r"3\.1\.\d+", str(doc.get("openapi", ""))):
        problems.append(f"openapi must be 3.1.x, not {doc.get('openapi')!r}")
    info = doc.get("info")
    if not isinstance(info, dict) or not info.get("title") or not info.get("version"):
        problems.append("info.title and info.version are required")
    if not isinstance(doc.get("paths"), dict):
        problems.append("paths must be an object")

    refs = []
    _walk_refs(doc, "#", refs)
    for where, ref in refs:
        try:
            resolve_ref(doc, ref)
        except KeyError:
            problems.append(f"unresolved $ref {ref!r} at {where}")

    schemes = (doc.get("components") or {}).get("securitySchemes") or {}
    for req in doc.get("security") or []:
        for name in req:
            if name not in schemes:
                problems.append(f"global security names unknown scheme {name!r}")

    seen_ids = {}
    for (method, path), o in sorted(doc_operations(doc).items()):
        where = f"{method} {path}"
        op_id = o.get("operationId")
        if not op_id or not isinstance(op_id, str):
            problems.append(f"{where}: no operationId")
        elif op_id in seen_ids:
            problems.append(f"{where}: operationId {op_id!r} also used by {seen_ids[op_id]}")
        else:
            seen_ids[op_id] = where
        responses = o.get("responses")
        if not isinstance(responses, dict) or not responses:
            problems.append(f"{where}: no responses")
        else:
            for status in responses:
                if status != "default" and not re.fullmatch(r"[1-5](?:\d\d|XX)", status):
                    problems.append(f"{where}: bad response status {status!r}")
            if not any(s.startswith("2") for s in responses):
                problems.append(f"{where}: no 2xx response")
        for req in o.get("security") or []:
            for name in req:
                if name not in schemes:
                    problems.append(f"{where}: security names unknown scheme {name!r}")
        # Every {param} of the path is declared as a path parameter.
        declared = set()
        item = doc["paths"][path]
        for plist in (item.get("parameters") or [], o.get("parameters") or []):
            for p in plist:
                try:
                    p = deref(doc, p)
                except KeyError:
                    continue   # reported as an unresolved $ref
                if isinstance(p, dict) and p.get("in") == "path":
                    declared.add(p.get("name"))
        for name in re.findall(r"\{([^}]+)\}", path):
            if name not in declared:
                problems.append(f"{where}: no path parameter for {{{name}}}")

    for name, schema in ((doc.get("components") or {}).get("schemas") or {}).items():
        examples = schema.get("examples") if isinstance(schema, dict) else None
        for i, example in enumerate(examples or []):
            for issue in validate_instance(doc, schema, example, f"{name}.examples[{i}]"):
                problems.append(f"components/schemas/{name}: example {i} does not match: "
                                f"{issue}")
    return problems


# ---- a small JSON Schema (2020-12) subset validator ------------------------------------

_FORMATS = {
    "date-time": re.compile(
        r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)"),
    "uuid": re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                       r"[0-9a-fA-F]{12}"),
    "email": re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+"),
}


def _type_ok(t, v):
    if t == "null":
        return v is None
    if t == "boolean":
        return isinstance(v, bool)
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "string":
        return isinstance(v, str)
    if t == "array":
        return isinstance(v, list)
    if t == "object":
        return isinstance(v, dict)
    return False


def validate_instance(doc, schema, value, where="$"):
    """Problems of value against schema (a subset: $ref, allOf/anyOf/oneOf, type, enum,
    const, properties/required/additionalProperties, items/minItems/maxItems,
    minLength/maxLength/pattern/format, minimum/maximum).  Empty list when it matches."""
    if schema is True or schema == {}:
        return []
    if schema is False:
        return [f"{where}: nothing is allowed here"]
    out = []
    if "$ref" in schema:
        out += validate_instance(doc, resolve_ref(doc, schema["$ref"]), value, where)
    for sub in schema.get("allOf", []):
        out += validate_instance(doc, sub, value, where)
    if "anyOf" in schema and not any(not validate_instance(doc, s, value, where)
                                     for s in schema["anyOf"]):
        out.append(f"{where}: matches none of anyOf")
    if "oneOf" in schema and sum(not validate_instance(doc, s, value, where)
                                 for s in schema["oneOf"]) != 1:
        out.append(f"{where}: does not match exactly one of oneOf")
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_type_ok(t, value) for t in types):
            return out + [f"{where}: {json.dumps(value)[:80]} is not of type {types}"]
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{where}: {value!r} not in enum {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        out.append(f"{where}: {value!r} is not {schema['const']!r}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                out.append(f"{where}: missing required property {name!r}")
        for name, v in value.items():
            if name in props:
                out += validate_instance(doc, props[name], v, f"{where}.{name}")
            elif "additionalProperties" in schema:
                out += validate_instance(doc, schema["additionalProperties"], v,
                                         f"{where}.{name}")
    if isinstance(value, list):
        if "items" in schema:
            for i, v in enumerate(value):
                out += validate_instance(doc, schema["items"], v, f"{where}[{i}]")
        if len(value) < schema.get("minItems", 0):
            out.append(f"{where}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            out.append(f"{where}: more than {schema['maxItems']} items")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            out.append(f"{where}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            out.append(f"{where}: longer than {schema['maxLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            out.append(f"{where}: {value!r} does not match {schema['pattern']}")
        fmt = _FORMATS.get(schema.get("format"))
        if fmt and not fmt.fullmatch(value):
            out.append(f"{where}: {value!r} is not a {schema['format']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            out.append(f"{where}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            out.append(f"{where}: {value} > {schema['maximum']}")
    return out


def response_schema(doc, method, path, status):
    """The JSON schema the document gives for (method, path, status), or None when the
    operation does not list that status (KeyError when the operation does not exist)."""
    o = doc_operations(doc)[(method.upper(), path)]
    resp = o["responses"].get(str(status))
    if resp is None:
        return None
    resp = deref(doc, resp)
    content = resp.get("content") or {}
    media = content.get("application/json") or {}
    return media.get("schema", {})


# ---- whole check -----------------------------------------------------------------------

def load_document(path):
    """(doc, problems)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
        return json.loads(raw.decode("utf-8")), []
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return None, [f"{path}: not readable JSON: {e}"]


def assembled(root=ROOT):
    """(doc, bytes, problems): root's fragments assembled as the Makefile does."""
    try:
        raw = assembler.assemble_tree(root)
    except assembler.AssembleError as e:
        return None, None, [f"assembly failed: {e}"]
    return json.loads(raw), raw, []


def check_doc(doc, root=ROOT):
    """(problems, routes) for doc against root's route tables and C checks."""
    routes, problems = parse_routes(root)
    if not routes:
        problems.append(f"no route table entries found under {root}/mod_*/*.c "
                        "(has the table syntax changed?)")
    if doc is not None:
        problems += validate_document(doc)
        problems += compare(routes, doc)
        problems += compare_c_checks(doc, parse_c_checks(root, routes))
    return problems, routes


def check(doc_path, root=ROOT):
    """(problems, routes, doc) for the document at doc_path against root's C."""
    doc, problems = load_document(doc_path)
    more, routes = check_doc(doc, root)
    return problems + more, routes, doc


def check_tree(root=ROOT, build_dir=None):
    """(problems, routes, doc) for root's assembled document; with build_dir, its
    cc-openapi.json (when built) must be the same bytes."""
    doc, raw, problems = assembled(root)
    more, routes = check_doc(doc, root)
    problems += more
    built = os.path.join(build_dir, BUILT_DOC) if build_dir else None
    if raw is not None and built and os.path.exists(built):
        with open(built, "rb") as f:
            if f.read() != raw:
                problems.append(f"{built} is not the assembly of the current fragments "
                                "(make build)")
    return problems, routes, doc


# ---- self-test -------------------------------------------------------------------------

FIXTURE_C = r'''
/* { "GET", "/api/v1/commented-out", h, NULL, CC_ROUTE_AUTH }, must be ignored */
#define THING_NAME_MAX 80
#define KEY_NAME       "name"
static const char *const thing_colours[] = { "red", "green", NULL };
static const char *const thing_sorts[] = { "name", "created_at", NULL };
static const char *const not_checked[] = { "x", NULL };
static const cc_route_t spaced[] = {
    { "GET", "/api/v1/things", things_list, "things.read", CC_ROUTE_AUTH },
    { "DELETE", "/api/v1/things/{id}", things_delete, NULL, CC_ROUTE_PUBLIC },
    // { "PUT", "/api/v1/things", h, NULL, CC_ROUTE_AUTH },
    { "GET", "/api/v1/things/{id:int}/parts/{part:uuid}", parts_get, NULL, CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};
static const cc_route_t tight[] = {
    {"POST",
     "/api/v1/things", things_create, "things.write", CC_ROUTE_AUTH},
    {NULL, NULL, NULL, NULL, 0}
};
static void things_check(thing_t *in, const char *c, const char *v, apr_size_t max)
{
    if (in->name && !cc_valid_text(in->name, 1, THING_NAME_MAX)) {}
    if (c && !cc_valid_enum(c, thing_colours)) {}
    if (v && !cc_valid_text(v, 1, max)) {}
    cc_page_parse(p, args, thing_sorts, KEY_NAME, &pg);
}
'''
FIXTURE_FILE = "mod_fixture/things.c"


def _expect(label, problems, needle, failures):
    if not any(needle in p for p in problems):
        failures.append(f"self-test '{label}': expected a problem containing {needle!r}, "
                        f"got {problems[:5]}")


def _expect_none(label, problems, failures):
    if problems:
        failures.append(f"self-test '{label}': expected no problem, got {problems[:5]}")


def _write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f)


def _self_test_assembler(tmp, failures):
    """Duplicates and foreign keys in fragments must stop the assembly."""
    def op(module):
        return {"get": {"x-module": module, "responses": {"200": {"description": "x"}}}}

    cases = [
        ("path twice", {"paths": {"/x": op("mod_a")}}, {"paths": {"/x": op("mod_b")}},
         "path /x is defined in two files"),
        ("component twice", {"components": {"schemas": {"T": {}}}},
         {"components": {"schemas": {"T": {}}}}, "component schemas/T is defined in two"),
        ("component of the base", {"components": {"responses": {"Base": {}}}}, {},
         "component responses/Base is defined in two"),
        ("foreign x-module", {"paths": {"/y": op("mod_b")}}, {}, "has x-module 'mod_b'"),
        ("info in a fragment", {"info": {}}, {}, "not info"),
    ]
    for i, (label, frag_a, frag_b, needle) in enumerate(cases):
        root = os.path.join(tmp, f"asm{i}")
        _write_json(os.path.join(root, "shared", "openapi-base.json"),
                    {"openapi": "3.1.0", "paths": {},
                     "components": {"responses": {"Base": {}}}})
        _write_json(os.path.join(root, "mod_a", "openapi.json"), frag_a)
        _write_json(os.path.join(root, "mod_b", "openapi.json"), frag_b)
        _, _, got = assembled(root)
        _expect(f"assembler: {label}", got, needle, failures)


def _self_test_captures(doc, routes, failures):
    """Typed captures against the document's path parameters (int ids, uuid tenants)."""
    for (method, path), r in sorted(routes.items()):
        o = doc_operations(doc).get((method, path))
        names = re.findall(r"\{(\w+)\}", path)
        if not o or not names:
            continue
        schema = path_parameter(doc, path, o, names[0]) or {}
        if schema.get("type") == "integer":
            right, wrong = "int", "uuid"
        elif schema.get("format") == "uuid":
            right, wrong = "uuid", "int"
        else:
            continue    # a role name: neither
        for ctype, want in ((right, None), (wrong, f"capture {{{names[0]}:{wrong}}} but"),
                            ("num", "has an unknown type")):
            typed = dict(routes)
            typed[(method, path)] = dict(r, captures={names[0]: ctype})
            got = compare(typed, doc)
            if want:
                _expect(f"capture :{ctype}", got, want, failures)
            else:
                _expect_none(f"capture :{ctype}", got, failures)


def _self_test_c_checks(doc, froot, failures):
    """The C parser on the fixture, then annotations mutated in the real document."""
    fchecks = parse_c_checks(froot, {("GET", "/x"): {"file": FIXTURE_FILE}})
    c = fchecks[FIXTURE_FILE]
    want = {"arrays": {"thing_colours": ["red", "green"], "thing_sorts": ["name", "created_at"],
                       "not_checked": ["x"]},
            "sorts": {"thing_sorts": "name"},
            "texts": {"in->name": {(1, 80)}, "v": {(1, None)}},
            "used": {"thing_colours", "thing_sorts"}}
    if c != want:
        failures.append(f"self-test 'C parser': got {c}, want {want}")
    colour = {"type": "string", "enum": ["red", "green"],
              "x-c-enum": f"{FIXTURE_FILE}:thing_colours"}
    sort = {"type": "string", "default": "name", "x-c-sort": f"{FIXTURE_FILE}:thing_sorts",
            "enum": ["name", "-name", "created_at", "-created_at"]}
    name = {"type": "string", "minLength": 1, "maxLength": 80,
            "x-c-text": f"{FIXTURE_FILE}:in->name"}
    fdoc = {"components": {"schemas": {"Colour": colour, "Sort": sort, "Name": name}}}
    _expect_none("C checks all annotated", compare_c_checks(fdoc, fchecks), failures)
    del fdoc["components"]["schemas"]["Name"]
    _expect("C check unannotated", compare_c_checks(fdoc, fchecks),
            f'no schema has "x-c-text": "{FIXTURE_FILE}:in->name"', failures)

    checks = parse_c_checks(ROOT, parse_routes(ROOT)[0])
    found = []
    _annotated(doc, "#", found)
    mutations = {
        "x-c-enum": (lambda s: s["enum"].pop(), "but the C has"),
        "x-c-sort": (lambda s: s.update(default="-no_such"), "but cc_page_parse() defaults"),
        "x-c-text": (lambda s: s.update(maxLength=s["maxLength"] + 1),
                     "minLength/maxLength"),
    }
    for kind, (mutate, needle) in mutations.items():
        where = [w for w, k, _, _ in found if k == kind]
        if not where:
            failures.append(f"self-test: the document has no {kind} annotation")
            continue
        bad = copy.deepcopy(doc)
        mutate(resolve_ref(bad, where[0]))
        _expect(f"{kind} drift", compare_c_checks(bad, checks), needle, failures)
        bad = copy.deepcopy(doc)
        resolve_ref(bad, where[0])[kind] += "_renamed"
        _expect(f"{kind} unknown name", compare_c_checks(bad, checks),
                "is checked by the C but no schema has", failures)


def self_test(root=ROOT):
    """Failures of the checker itself (empty when it catches every planted mistake)."""
    failures = []
    doc, _, problems = assembled(root)
    if doc is None:
        return [f"self-test: cannot assemble the document: {problems}"]
    routes, _ = parse_routes(root)
    ops = sorted(set(doc_operations(doc)) & set(routes))
    if not ops:
        return ["self-test: the document and the route tables share no operation"]

    with tempfile.TemporaryDirectory() as tmp:
        # 1. one operation removed from a copy of the document: must be reported missing.
        method, path = ops[0]
        broken = copy.deepcopy(doc)
        del broken["paths"][path][method.lower()]
        fixture = os.path.join(tmp, "openapi-missing.json")
        with open(fixture, "w", encoding="utf-8") as f:
            json.dump(broken, f)
        got, _, _ = check(fixture, root)
        _expect("operation removed", got, f"missing from the document: {method} {path}",
                failures)

        # 2. an operation no route table has.
        extra = copy.deepcopy(doc)
        extra["paths"]["/api/v1/no-such-route"] = {"get": {
            "operationId": "noSuchRoute", "responses": {"200": {"description": "x"}}}}
        got = compare(routes, extra)
        _expect("operation added", got,
                "in the document but in no route table: GET /api/v1/no-such-route", failures)

        # 3. a dangling $ref, a duplicate operationId, a missing responses, wrong version.
        bad = copy.deepcopy(doc)
        bad["openapi"] = "3.0.3"
        o0 = bad["paths"][ops[0][1]][ops[0][0].lower()]
        o0["responses"] = {}
        o1 = bad["paths"][ops[1][1]][ops[1][0].lower()]
        o1["operationId"] = o0["operationId"]
        o1["x-dangling"] = {"$ref": "#/components/schemas/NoSuchSchema"}
        got = validate_document(bad)
        _expect("bad version", got, "openapi must be 3.1.x", failures)
        _expect("no responses", got, "no responses", failures)
        _expect("duplicate operationId", got, f"operationId {o0['operationId']!r} also used",
                failures)
        _expect("dangling $ref", got, "unresolved $ref '#/components/schemas/NoSuchSchema'",
                failures)

        # 4. permission, public flag and 405 drift.
        drift = copy.deepcopy(doc)
        od = drift["paths"][path][method.lower()]
        od["x-permission"] = "no.such"
        od["security"] = [] if not routes[(method, path)]["public"] else [{"bearerAuth": []}]
        del od["responses"]["405"]
        got = compare(routes, drift)
        _expect("permission drift", got, f"{method} {path}: x-permission 'no.such'", failures)
        _expect("public drift", got, f"{method} {path}: the route is", failures)
        _expect("405 missing", got, f"{method} {path}: responses lack 405", failures)

        # 5. the route-table parser on both spellings, comments ignored, typed captures.
        froot = os.path.join(tmp, "tree")
        os.makedirs(os.path.join(froot, "mod_fixture"))
        with open(os.path.join(froot, FIXTURE_FILE), "w") as f:
            f.write(FIXTURE_C)
        froutes, _ = parse_routes(froot)
        want = {("GET", "/api/v1/things"): ("things.read", False, {}),
                ("DELETE", "/api/v1/things/{id}"): (None, True, {}),
                ("GET", "/api/v1/things/{id}/parts/{part}"):
                    (None, False, {"id": "int", "part": "uuid"}),
                ("POST", "/api/v1/things"): ("things.write", False, {})}
        got_routes = {k: (v["permission"], v["public"], v["captures"])
                      for k, v in froutes.items()}
        if got_routes != want:
            failures.append(f"self-test 'parser': got {got_routes}, want {want}")

        _self_test_captures(doc, routes, failures)
        _self_test_c_checks(doc, froot, failures)
        _self_test_assembler(tmp, failures)

    # 6. the instance validator.
    tiny = {"components": {"schemas": {"T": {
        "type": "object", "required": ["a"], "additionalProperties": False,
        "properties": {"a": {"type": "integer", "minimum": 1},
                       "b": {"type": ["string", "null"], "format": "date-time"}}}}}}
    t = {"$ref": "#/components/schemas/T"}
    if validate_instance(tiny, t, {"a": 1, "b": None}) or \
            validate_instance(tiny, t, {"a": 1, "b": "2026-11-24T06:00:00Z"}):
        failures.append("self-test 'validator': rejected a valid instance")
    for bad_value in ({"a": 0}, {"a": "1"}, {}, {"a": 1, "c": 2}, {"a": 1, "b": "yesterday"},
                      {"a": True}):
        if not validate_instance(tiny, t, bad_value):
            failures.append(f"self-test 'validator': accepted {bad_value}")
    return failures


def main(argv):
    problems = assembled()[2]
    if problems:    # the fragments themselves: nothing to self-test against
        for p in problems:
            print(f"check_openapi: {p}", file=sys.stderr)
        print("check_openapi: FAILED", file=sys.stderr)
        return 1
    failures = self_test()
    if failures:
        for f in failures:
            print(f"check_openapi: {f}", file=sys.stderr)
        print("check_openapi: FAILED (the checker's self-test)", file=sys.stderr)
        return 1
    problems, routes, doc = check_tree(ROOT, os.environ.get("CC_BUILD_DIR"))
    if problems:
        for p in problems:
            print(f"check_openapi: {p}", file=sys.stderr)
        print(f"check_openapi: FAILED: {len(problems)} problem(s) in {DOC_NAME}",
              file=sys.stderr)
        return 1
    files = sorted({r["file"] for r in routes.values()})
    found = []
    _annotated(doc, "#", found)
    print(f"check_openapi: ok: {len(routes)} routes in {len(files)} files match the "
          f"{len(doc_operations(doc))} operations of {DOC_NAME}; {len(found)} enum/limit "
          f"annotations match the C (self-test ok)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
