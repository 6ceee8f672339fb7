#!/usr/bin/env bash
# Every module .so exports exactly one symbol: its module struct, named after the file
# (build/mod_cc_auth.so -> cc_auth_module; the .load files and configs rely on it).
# shared/ is linked in hidden (-fvisibility=hidden, --exclude-libs), so a stray export
# means a missing `static` or a visibility slip that could clash between modules.
set -eu
cd "$(dirname "$0")/../.."
build=${CC_BUILD_DIR:-build}

# Symbols the linker itself defines in every shared object.
linker_syms='^(_init|_fini|_edata|_end|__bss_start)$'

shopt -s nullglob
sos=("$build"/mod_*.so)
[ "${#sos[@]}" -gt 0 ] || { echo "check_symbols: no $build/mod_*.so (run make build)" >&2; exit 1; }

rc=0
for so in "${sos[@]}"; do
    base=$(basename "$so" .so)
    want=${base#mod_}_module
    syms=$(nm -D --defined-only "$so" | awk '{ print $NF }' | grep -Ev "$linker_syms" || true)
    if [ "$syms" != "$want" ]; then
        echo "check_symbols: $so must export only $want; it exports:" >&2
        printf '%s\n' "$syms" | sed 's/^/    /' >&2
        rc=1
    fi
done
[ $rc -eq 0 ] && echo "check_symbols: OK (${#sos[@]} modules export only their module struct)"
exit $rc
