"""The served OpenAPI document through real client tooling (pinned in
t/client/package-lock.json, installed by `make client-deps`):

- openapi-typescript generates TypeScript types from it, with no empty object type;
- the small typed client t/client/client.ts compiles against them with `tsc --strict`;
- Redocly CLI lints it with t/client/redocly.yaml: 0 errors, 0 warnings.

Every tool runs in a temp directory with a time limit, telemetry and update checks off
(the suite talks to loopback only).
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

CLIENT = Path(__file__).resolve().parents[2] / "t" / "client"
BIN = CLIENT / "node_modules" / ".bin"
TOOL_TIMEOUT = 180
ENV = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true",
           NO_UPDATE_NOTIFIER="1", NPM_CONFIG_UPDATE_NOTIFIER="false")


def run(tool, *args, cwd):
    r = subprocess.run([str(BIN / tool), *map(str, args)], cwd=cwd, env=ENV,
                       capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    assert r.returncode == 0, f"{tool} {' '.join(map(str, args))}: exit {r.returncode}\n" \
                              f"{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r.stdout


@pytest.fixture(scope="module")
def workdir(cc, tmp_path_factory):
    assert (BIN / "tsc").exists(), "no t/client/node_modules: run `make client-deps`"
    d = tmp_path_factory.mktemp("client")
    r = cc.get("/api/v1/openapi.json")
    assert r.status_code == 200
    (d / "openapi.json").write_bytes(r.content)
    shutil.copy(CLIENT / "client.ts", d)
    return d


@pytest.fixture(scope="module")
def api_ts(workdir):
    # --default-non-nullable false: a `default` on a request property says what the
    # server fills in when the field is absent; openapi-typescript's default would make
    # such fields (DidCreate.status, QueueCreate.strategy, ...) required in request bodies.
    run("openapi-typescript", "openapi.json", "--default-non-nullable", "false",
        "-o", "api.ts", cwd=workdir)
    return (workdir / "api.ts").read_text()


def test_generated_types_have_no_empty_object(api_ts):
    empty = [line.strip() for line in api_ts.splitlines()
             if "Record<string, never>" in line and not line.startswith("export type")]
    assert not empty, "schemas that generate an empty object type:\n" + "\n".join(empty)


def test_every_operation_types_its_405(api_ts, workdir):
    doc = json.loads((workdir / "openapi.json").read_text())
    ops = sum(1 for item in doc["paths"].values() for m in item
              if m in ("get", "put", "post", "patch", "delete"))
    assert api_ts.count('405: components["responses"]["MethodNotAllowed"];') == ops


def test_typed_client_compiles_strict(api_ts, workdir):
    # In the temp dir no node_modules/@types is in reach: only the listed libs count.
    run("tsc", "--strict", "--noEmit", "--target", "es2022", "--lib", "es2022,dom",
        "--module", "esnext", "--moduleResolution", "bundler", "client.ts", cwd=workdir)


def test_redocly_lint_is_clean(workdir):
    out = run("redocly", "lint", "--config", CLIENT / "redocly.yaml", "--format", "json",
              "openapi.json", cwd=workdir)
    report = json.loads(out[out.index("{"):])
    assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}, \
        json.dumps(report["problems"], indent=1)[:3000]
