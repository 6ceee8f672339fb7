#!/usr/bin/python3
"""Assemble the served OpenAPI document from the base and the modules' fragments.

    openapi_assemble.py ROOT OUT    (the Makefile: `openapi_assemble.py . build/cc-openapi.json`)

The base (shared/openapi-base.json) is a whole OpenAPI object: openapi, info, servers,
security, and the components every module shares because the code behind them is
libccshared's (the error envelope, the common error responses, paging and tracing
parameters, headers, the bearer scheme).  Each module directory may hold one fragment,
mod_<name>/openapi.json, with only `tags`, `paths` and `components`: the routes of that
module's route tables and the schemas its domain owns (other fragments may $ref them).

Assembly takes ROOT/shared/openapi-base.json and every ROOT/mod_*/openapi.json, the
fragments in MODULE_ORDER (the request's path through the modules: auth, tenant, domain;
any other module after them by name), and appends the fragments' tags to the base's
tags, their paths to the (empty) paths, and each components map entry to the same map of
the base.  Every operation that is not public (no `security: []`) gets the base's
`429: RateLimited` (the rate limits, cc_dispatch) unless it lists a 429 itself, and
each such POST the `Idempotency-Key` header parameter and `422: IdempotencyKeyReused`
(shared/cc_idem.c); every GET the `If-None-Match` parameter and `304: NotModified`.  It
fails, naming both files, when a path, a tag or a component (e.g. schemas/User) is defined
twice; when a fragment has another top-level key; and when a fragment's operation lacks
`x-module` naming the fragment's own directory.  The output is
json.dumps(indent=2, ensure_ascii=False) plus a newline, UTF-8: the exact bytes
mod_callcenter embeds (cc_openapi.c) and serves.  Python 3 standard library only.
"""

import json
import os
import sys

BASE_REL = os.path.join("shared", "openapi-base.json")
MODULE_ORDER = ("mod_cc_auth", "mod_cc_tenant", "mod_callcenter", "mod_cc_chat")
FRAGMENT_KEYS = ("tags", "paths", "components")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class AssembleError(Exception):
    pass


def _load(path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise AssembleError(f"{path}: not readable JSON: {e}") from None
    if not isinstance(doc, dict):
        raise AssembleError(f"{path}: not a JSON object")
    return doc


def module_of(path):
    """The module a fragment belongs to: the name of its directory."""
    return os.path.basename(os.path.dirname(os.path.abspath(path)))


def _merge_entry(table, owners, key, value, path, what):
    if key in table:
        raise AssembleError(f"{what} is defined in two files: {owners[key]} and {path}")
    table[key] = value
    owners[key] = path


def merge(base, base_path, fragments):
    """The assembled document (a new dict) from base and [(path, fragment)]."""
    doc = dict(base)
    doc["tags"] = list(base.get("tags") or [])
    doc["paths"] = dict(base.get("paths") or {})
    doc["components"] = {k: dict(v) for k, v in (base.get("components") or {}).items()}
    tag_owner = {t.get("name"): base_path for t in doc["tags"]}
    path_owner = {p: base_path for p in doc["paths"]}
    comp_owner = {(k, n): base_path for k, v in doc["components"].items() for n in v}
    tags = {t.get("name"): t for t in doc["tags"]}

    for path, frag in fragments:
        extra = sorted(set(frag) - set(FRAGMENT_KEYS))
        if extra:
            raise AssembleError(f"{path}: a fragment holds only {', '.join(FRAGMENT_KEYS)};"
                                f" not {', '.join(extra)} (those belong in {base_path})")
        module = module_of(path)
        for tag in frag.get("tags") or []:
            _merge_entry(tags, tag_owner, tag.get("name"), tag, path,
                         f"tag {tag.get('name')!r}")
            doc["tags"].append(tag)
        for p, item in (frag.get("paths") or {}).items():
            for method in HTTP_METHODS:
                op = item.get(method) if isinstance(item, dict) else None
                if isinstance(op, dict) and op.get("x-module") != module:
                    raise AssembleError(f"{path}: {method.upper()} {p} has x-module "
                                        f"{op.get('x-module')!r}, not {module!r}")
            _merge_entry(doc["paths"], path_owner, p, item, path, f"path {p}")
        for kind, entries in (frag.get("components") or {}).items():
            table = doc["components"].setdefault(kind, {})
            for name, value in entries.items():
                owners = {n: comp_owner[(kind, n)] for n in table}
                _merge_entry(table, owners, name, value, path, f"component {kind}/{name}")
                comp_owner[(kind, name)] = path
    # Conditional GET on every GET (cc_http.c: ETag, If-None-Match, 304), unless the
    # operation documents its own If-None-Match (a file download's); If-Match and 412 on
    # the writes of an object whose GET says x-if-match (the domain kit's objects).
    if "NotModified" in doc["components"].get("responses", {}):
        for item in doc["paths"].values():
            op = item.get("get") if isinstance(item, dict) else None
            if not isinstance(op, dict) or not isinstance(op.get("responses"), dict):
                continue
            params = op.setdefault("parameters", [])
            if not any(isinstance(x, dict) and x.get("name") == "If-None-Match"
                       for x in params):
                params.append({"$ref": "#/components/parameters/IfNoneMatch"})
                op["responses"].setdefault("304",
                                           {"$ref": "#/components/responses/NotModified"})
            if op.get("x-if-match"):
                for method in ("put", "patch", "delete"):
                    w = item.get(method)
                    if isinstance(w, dict) and isinstance(w.get("responses"), dict):
                        w.setdefault("parameters", []).append(
                            {"$ref": "#/components/parameters/IfMatch"})
                        w["responses"].setdefault(
                            "412", {"$ref": "#/components/responses/PreconditionFailed"})
    # Rate limits apply to every authenticated route (cc_dispatch): each such operation
    # lists the base's RateLimited, unless it documents a 429 of its own.
    if "RateLimited" in doc["components"].get("responses", {}):
        for item in doc["paths"].values():
            for method in HTTP_METHODS:
                op = item.get(method) if isinstance(item, dict) else None
                if isinstance(op, dict) and op.get("security") != [] \
                        and isinstance(op.get("responses"), dict):
                    op["responses"].setdefault(
                        "429", {"$ref": "#/components/responses/RateLimited"})
                    # Idempotency-Key on every authenticated POST (cc_idem.c).
                    if method == "post" and "IdempotencyKey" in \
                            doc["components"].get("parameters", {}):
                        op.setdefault("parameters", []).append(
                            {"$ref": "#/components/parameters/IdempotencyKey"})
                        op["responses"].setdefault(
                            "422", {"$ref": "#/components/responses/IdempotencyKeyReused"})
    return doc


def render(doc):
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def assemble(base_path, fragment_paths):
    """The assembled document's bytes; raises AssembleError."""
    base = _load(base_path)
    return render(merge(base, base_path, [(p, _load(p)) for p in fragment_paths]))


def fragment_paths(root):
    """Every module fragment under root, in MODULE_ORDER, then the others by name."""
    mods = [d for d in os.listdir(root)
            if d.startswith("mod_") and os.path.isfile(os.path.join(root, d, "openapi.json"))]
    rank = {m: i for i, m in enumerate(MODULE_ORDER)}
    mods.sort(key=lambda m: (rank.get(m, len(rank)), m))
    return [os.path.join(root, m, "openapi.json") for m in mods]


def assemble_tree(root):
    """The assembled document's bytes for a source tree; raises AssembleError."""
    return assemble(os.path.join(root, BASE_REL), fragment_paths(root))


def main(argv):
    if len(argv) != 2:
        print("usage: openapi_assemble.py ROOT OUT", file=sys.stderr)
        return 2
    root, out = argv
    try:
        data = assemble_tree(root)
    except AssembleError as e:
        print(f"openapi_assemble: {e}", file=sys.stderr)
        return 1
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
