#!/usr/bin/env bash
# Log numbers (STYLE: CCLOGNO(nnnnn) from shared/cc_log.h):
#  - every CCLOGNO number is 5 digits, unique across shared/ and mod_*/, and in its
#    directory's range: 00xxx shared, 01xxx mod_cc_auth, 02xxx mod_cc_tenant,
#    03xxx mod_callcenter, 04xxx mod_cc_chat;
#  - every ap_log_error/rerror/perror/cerror/cserror call at APLOG_INFO or above (or
#    with a level that is not a literal) has a CCLOGNO on its line or the next two;
#  - httpd's own APLOGNO() is not used (those numbers belong to httpd).
set -eu
cd "${CC_LINT_ROOT:-$(dirname "$0")/../..}"

files=$(find shared mod_* -type f \( -name '*.c' -o -name '*.h' \) -not -path '*/.libs/*' \
        2>/dev/null | sort)
[ -n "$files" ] || { echo "check_lognos: no sources found" >&2; exit 1; }

# shellcheck disable=SC2086
awk '
function range_of(path,   top) {
    top = path; sub(/\/.*/, "", top)
    if (top == "shared") return "00"
    if (top == "mod_cc_auth") return "01"
    if (top == "mod_cc_tenant") return "02"
    if (top == "mod_callcenter") return "03"
    if (top == "mod_cc_chat") return "04"
    return ""
}
function fail(msg) { print "check_lognos: " msg > "/dev/stderr"; errors++ }
function check_calls(path,   i, w, lvl, s, tok) {
    for (i = 1; i <= n; i++) {
        # Macro bodies (lines ending in a backslash) log for their callers: the callers
        # (DB_LOG in shared/cc_db.c) are checked as log calls instead.
        if (lines[i] ~ /^[ \t]*#/ || lines[i] ~ /\\$/) continue
        if (lines[i] !~ /(ap_log_(c|cs|r|p)?error|DB_LOG)\(/) continue
        # The call statement: from ap_log_ to its ";", within three lines.
        w = lines[i] "\n" lines[i + 1] "\n" lines[i + 2]
        w = substr(w, match(w, /(ap_log_(c|cs|r|p)?error|DB_LOG)\(/))
        if (index(w, ";")) w = substr(w, 1, index(w, ";"))
        lvl = ""
        s = w
        while (match(s, /APLOG_[A-Z0-9]+/)) {
            tok = substr(s, RSTART, RLENGTH)
            s = substr(s, RSTART + RLENGTH)
            if (tok != "APLOG_MARK" && tok != "APLOG_NOERRNO" && tok != "APLOG_STARTUP" \
                && tok != "APLOG_TOCLIENT") { lvl = tok; break }
        }
        if (lvl ~ /^APLOG_(DEBUG|TRACE[0-9])$/) continue
        calls++
        if (w !~ /CCLOGNO\([0-9][0-9][0-9][0-9][0-9]\)/)
            fail(path ":" i ": ap_log_*error at " (lvl == "" ? "a non-literal level" : lvl) \
                 " without CCLOGNO(nnnnn) on this line or the next two")
    }
}
function flush(   ) { if (cur != "") check_calls(cur); delete lines; n = 0 }
FNR == 1 { flush(); cur = FILENAME }
{
    lines[++n] = $0
    line = $0
    if (line ~ /APLOGNO\(/)
        fail(FILENAME ":" FNR ": APLOGNO() is httpd'"'"'s; use CCLOGNO()")
    while (match(line, /CCLOGNO\([^)]*\)/)) {
        tok = substr(line, RSTART + 8, RLENGTH - 9)
        line = substr(line, RSTART + RLENGTH)
        if ($0 ~ /^[ \t]*#[ \t]*define[ \t]+CCLOGNO/) continue
        if (tok !~ /^[0-9][0-9][0-9][0-9][0-9]$/) {
            fail(FILENAME ":" FNR ": CCLOGNO(" tok ") is not 5 digits"); continue
        }
        total++
        r = range_of(FILENAME)
        if (r == "") fail(FILENAME ":" FNR ": no CCLOGNO range for this directory")
        else if (substr(tok, 1, 2) != r)
            fail(FILENAME ":" FNR ": CC" tok " outside this directory'"'"'s range " r "xxx")
        if (tok in seen) fail("CC" tok " used twice: " seen[tok] " and " FILENAME ":" FNR)
        else seen[tok] = FILENAME ":" FNR
    }
}
END {
    flush()
    if (errors) { print "check_lognos: " errors " problem(s)" > "/dev/stderr"; exit 1 }
    printf "check_lognos: OK (%d unique log numbers, %d log calls at info or above)\n", total, calls
}
' $files
