#!/usr/bin/env bash
# `make test-asan`: the integration suite against modules built with
# AddressSanitizer (CC_BUILD_DIR=build-asan), httpd running single-process (-X) with
# libasan preloaded.  Fails when pytest fails or when any ASan/LSan report involves
# our code (mod_cc_*, mod_callcenter, shared/) or any memory error; leaks whose stack
# has no frame of ours (httpd's, APR's, a library's own) are listed but do not fail.
# Why not suppress those instead: see t/env/lsan.supp.
set -u
cd "$(dirname "$0")/../.." || exit 1
root=$(pwd)
reports=${CC_ASAN_REPORTS:-$root/build-asan/asan-reports}
export CC_BUILD_DIR=${CC_BUILD_DIR:-$root/build-asan}

libasan=$(gcc -print-file-name=libasan.so)
[ -f "$libasan" ] || { echo "asan: libasan.so not found (gcc -print-file-name)" >&2; exit 1; }

rm -rf "$reports"
mkdir -p "$reports"
# httpd drops to www-data before a report is written.
chmod 1777 "$reports"

# httpd unloads every module (dlclose) before exit, so the leak report would show
# their frames as "<unknown module>" and we could not tell ours apart.  A preloaded
# no-op dlclose keeps them mapped until the process ends.
shim_dir=$CC_BUILD_DIR
shim=$shim_dir/cc-nodlclose.so
mkdir -p "$shim_dir"
printf '%s\n' 'int dlclose(void *handle) { (void)handle; return 0; }' \
    | gcc -shared -fPIC -O1 -x c -o "$shim" - \
    || { echo "asan: cannot build the dlclose shim" >&2; exit 1; }

asan_opts="detect_leaks=1:log_path=$reports/asan:halt_on_error=0:abort_on_error=0"
# use_sigaltstack=0: GCC 12's runtime reports a false stack-use-after-scope in its own
# sigaltstack interceptor when a thread exits.
asan_opts="$asan_opts:use_sigaltstack=0:print_summary=1"
lsan_opts="suppressions=$root/t/env/lsan.supp:print_suppressions=0"
export CC_HTTPD_ENV="LD_PRELOAD=$libasan:$shim ASAN_OPTIONS=$asan_opts LSAN_OPTIONS=$lsan_opts"
# One process: its leak report at exit covers every request of the run.
export CC_HTTPD_ARGS="-X"
export CC_ITEST_TIMEOUT=${CC_ITEST_TIMEOUT:-3600}

rc=0
bash t/env/itest.sh "$@" || rc=1

shopt -s nullglob
files=("$reports"/asan.*)
ours=0
for f in "${files[@]}"; do
    # One record per blank-line separated block: a leak with its stack, or an error.
    # awk prints the findings, then "OURS <n>" as its last line.
    out=$(awk -v file="$f" '
        BEGIN { RS = ""; ours = 0 }
        /LeakSanitizer has encountered a fatal error/ {
            print "**** " file ": LeakSanitizer could not run:\n" $0 "\n"; ours++; next }
        /ERROR: AddressSanitizer/ {
            print "**** " file ": memory error:\n" $0 "\n"; ours++; next }
        /^(Direct|Indirect) leak/ {
            if ($0 ~ /(mod_cc_[a-z_]+|mod_callcenter)\/|shared\/cc_|\/build-asan\/mod_/) {
                print "**** " file ": leak in our code:\n" $0 "\n"; ours++
            } else {
                split($0, first, "\n")
                print "asan: not ours (httpd or a library): " file ": " first[1]
            }
        }
        END { print "OURS " ours }' "$f")
    printf '%s\n' "$out" | sed '$d'
    ours=$((ours + ${out##*OURS }))
done
if [ "$ours" -gt 0 ]; then
    echo "**** asan: $ours problem(s) in our code (above)"
    rc=1
elif [ $rc -eq 0 ]; then
    echo "asan: OK (${#files[@]} report file(s), nothing in our code)"
fi
exit $rc
