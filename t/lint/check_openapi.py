#!/usr/bin/python3
"""Keep mod_callcenter/openapi.json honest against the C route tables.

Every route table entry in mod_*/*.c, written like
    { "GET", "/api/v1/users/{id}", handler, "users.read", CC_ROUTE_AUTH },
must be an operation of the document, and every operation of the document must be in a
route table.  For each such pair the operation's x-permission must be the route's
permission (null for NULL), public routes (CC_ROUTE_PUBLIC) must have `security: []` and
the others must not, and x-module must name the module directory the route lives in.

The document itself must be JSON with openapi 3.1.x; every operation needs responses and
a unique operationId; every {param} of a path needs a path parameter; every $ref must
resolve (local refs only); every `examples` entry of a component schema must validate
against it (with the small JSON Schema subset below, which t/integration/test_910_openapi.py
also uses to check live responses).

Run without arguments (what `make lint` does), it first checks itself: mutated copies of
the document (an operation removed, one added, a $ref broken) and a fixture route table
must fail; then the real tree must pass.  Python 3 standard library only.
"""

import copy
import json
import os
import re
import sys
import tempfile

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DOC_REL = os.path.join("mod_callcenter", "openapi.json")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Strings are kept (a route's path is one), comments blanked with their newlines kept so
# line numbers stay right.
_C_TOKEN_RE = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|/\*.*?\*/|//[^\n]*', re.S)
ROUTE_RE = re.compile(
    r'\{\s*"(?P<method>[A-Z]+)"\s*,\s*"(?P<path>/[^"]*)"\s*,\s*(?P<handler>[A-Za-z_]\w*)\s*,'
    r'\s*(?P<perm>NULL|"[^"]*")\s*,\s*(?P<flags>[A-Za-z0-9_|\s]+?)\s*\}')


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
                # A typed capture ({id:int}) is the document's {id}.
                key = (m.group("method"), re.sub(r"\{(\w+):\w+\}", r"{\1}", m.group("path")))
                line = text.count("\n", 0, m.start()) + 1
                perm = m.group("perm")
                info = {
                    "file": rel, "line": line, "module": mod,
                    "permission": None if perm == "NULL" else perm.strip('"'),
                    "public": "CC_ROUTE_PUBLIC" in m.group("flags"),
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


def check(doc_path, root=ROOT):
    """(problems, routes, doc) for the document at doc_path against root's route tables."""
    doc, problems = load_document(doc_path)
    routes, route_problems = parse_routes(root)
    problems += route_problems
    if not routes:
        problems.append(f"no route table entries found under {root}/mod_*/*.c "
                        "(has the table syntax changed?)")
    if doc is not None:
        problems += validate_document(doc)
        problems += compare(routes, doc)
    return problems, routes, doc


# ---- self-test -------------------------------------------------------------------------

FIXTURE_C = r'''
/* { "GET", "/api/v1/commented-out", h, NULL, CC_ROUTE_AUTH }, must be ignored */
static const cc_route_t spaced[] = {
    { "GET", "/api/v1/things", things_list, "things.read", CC_ROUTE_AUTH },
    { "DELETE", "/api/v1/things/{id}", things_delete, NULL, CC_ROUTE_PUBLIC },
    // { "PUT", "/api/v1/things", h, NULL, CC_ROUTE_AUTH },
    { NULL, NULL, NULL, NULL, 0 }
};
static const cc_route_t tight[] = {
    {"POST",
     "/api/v1/things", things_create, "things.write", CC_ROUTE_AUTH},
    {NULL, NULL, NULL, NULL, 0}
};
'''


def _expect(label, problems, needle, failures):
    if not any(needle in p for p in problems):
        failures.append(f"self-test '{label}': expected a problem containing {needle!r}, "
                        f"got {problems[:5]}")


def self_test(doc_path=None, root=ROOT):
    """Failures of the checker itself (empty when it catches every planted mistake)."""
    failures = []
    doc_path = doc_path or os.path.join(root, DOC_REL)
    doc, problems = load_document(doc_path)
    if doc is None:
        return [f"self-test: cannot load the document: {problems}"]
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

        # 4. permission and public flag drift.
        drift = copy.deepcopy(doc)
        od = drift["paths"][path][method.lower()]
        od["x-permission"] = "no.such"
        od["security"] = [] if not routes[(method, path)]["public"] else [{"bearerAuth": []}]
        got = compare(routes, drift)
        _expect("permission drift", got, f"{method} {path}: x-permission 'no.such'", failures)
        _expect("public drift", got, f"{method} {path}: the route is", failures)

        # 5. the route-table parser on both spellings, comments ignored.
        froot = os.path.join(tmp, "tree")
        os.makedirs(os.path.join(froot, "mod_fixture"))
        with open(os.path.join(froot, "mod_fixture", "things.c"), "w") as f:
            f.write(FIXTURE_C)
        froutes, _ = parse_routes(froot)
        want = {("GET", "/api/v1/things"): ("things.read", False),
                ("DELETE", "/api/v1/things/{id}"): (None, True),
                ("POST", "/api/v1/things"): ("things.write", False)}
        got_routes = {k: (v["permission"], v["public"]) for k, v in froutes.items()}
        if got_routes != want:
            failures.append(f"self-test 'parser': got {got_routes}, want {want}")

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
    doc_path = os.path.join(ROOT, DOC_REL)
    failures = self_test(doc_path)
    if failures:
        for f in failures:
            print(f"check_openapi: {f}", file=sys.stderr)
        print("check_openapi: FAILED (the checker's self-test)", file=sys.stderr)
        return 1
    problems, routes, doc = check(doc_path)
    if problems:
        for p in problems:
            print(f"check_openapi: {p}", file=sys.stderr)
        print(f"check_openapi: FAILED: {len(problems)} problem(s) in {DOC_REL}",
              file=sys.stderr)
        return 1
    files = sorted({r["file"] for r in routes.values()})
    print(f"check_openapi: ok: {len(routes)} routes in {len(files)} files match the "
          f"{len(doc_operations(doc))} operations of {DOC_REL} (self-test ok)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
