#!/usr/bin/env bash
# `make itest`: the integration suite.  t/integration/conftest.py starts a private
# MariaDB + httpd (through the other t/env scripts) on free ports in a temp dir and
# tears them down afterwards.  pytest's exit status is ours: 5 ("no tests ran") fails.
# Extra arguments go to pytest (e.g. `bash t/env/itest.sh -k users -x`).
set -eu
cd "$(dirname "$0")/../.."
export PYTHONDONTWRITEBYTECODE=1
# A hung test must not eat CI's budget: SIGTERM lets the harness tear down first.
# --foreground keeps pytest in our process group so Ctrl-C reaches it.
# Test paths given (t/...) replace the default t/integration.
paths=t/integration
for a in "$@"; do case $a in t/*) paths= ;; esac; done
# shellcheck disable=SC2086
exec timeout --foreground --kill-after=60 "${CC_ITEST_TIMEOUT:-1800}" \
    /usr/bin/python3 -m pytest -q -rfE -p no:cacheprovider $paths "$@"
