#!/usr/bin/env bash
# Every directive a module registers (AP_INIT_*("CC...")) has a row in the README's
# directives table, and the table names no directive the code lacks.
set -eu
cd "$(dirname "$0")/../.."
code=$(grep -ohE 'AP_INIT_[A-Z0-9_]+\("CC[A-Za-z]+"' mod_*/*.c | grep -oE 'CC[A-Za-z]+' | sort -u)
readme=$(grep -oE '^\| `CC[A-Za-z]+' README.md | grep -oE 'CC[A-Za-z]+' | sort -u)
if [ "$code" != "$readme" ]; then
    echo "check_directives: README.md's directives table and the modules differ:" >&2
    diff <(echo "$code") <(echo "$readme") | sed 's/^</  only in code:/; s/^>/  only in README:/' \
        | grep only >&2
    exit 1
fi
echo "check_directives: OK ($(echo "$code" | wc -l) directives documented)"
