#!/usr/bin/env bash
# Render httpd-conf/cc-dev.conf.in into $CC_VAR_DIR/httpd/httpd.conf for the profile
# (run | test) and prepare the directories httpd uses.
#
# CC_CONF_PARTIAL=1 (development aid only, never used by make run/test): comment out
# the LoadModule line and the directives of each of our modules whose .so is not in
# the build dir yet, so the rest of the config can be checked while modules are written.
. "$(dirname "$0")/lib.sh"

template=$CC_ROOT/httpd-conf/cc-dev.conf.in
[ -r "$CC_DB_PWFILE" ] || cc_die "no $CC_DB_PWFILE: start the database first (t/env/db.sh start)"
[ -r "$CC_JWT_SECRET_FILE" ] || cc_die "no JWT secret $CC_JWT_SECRET_FILE: run t/env/seed.sh first"

mkdir -p "$CC_HTTPD_DIR/run" "$CC_HTTPD_DIR/logs" "$CC_HTTPD_DIR/htdocs" "$CC_HTTPD_DIR/cores"
chmod 755 "$CC_VAR_DIR" "$CC_HTTPD_DIR" "$CC_HTTPD_DIR/htdocs"

if cc_is_root; then
    run_user=www-data
    run_group=www-data
    getent passwd "$run_user" >/dev/null || cc_die "account $run_user missing (apache2 creates it)"
    chown "$run_user:$run_group" "$CC_HTTPD_DIR/cores"
else
    run_user=$(id -un)
    run_group=$(id -gn)
fi

# The children (as run_user) look up every request path under the document root; a
# component they cannot search turns every request into 403 (AH00035).  A checkout
# under /root is such a case: use an empty world-readable directory instead.
doc_root=$CC_HTTPD_DIR/htdocs
if cc_is_root && ! setpriv --reuid="$run_user" --regid="$run_group" --clear-groups \
        test -x "$doc_root" 2>/dev/null; then
    doc_root=/tmp/cc-empty-docroot
    mkdir -p "$doc_root"
    chmod 755 "$doc_root"
fi

# Call recordings (CCRecordingsDir), the voicemail spool (CCVoicemailDir) and ticket
# attachments (CCAttachmentsDir): one subdirectory per tenant id, written by Asterisk
# (tests write their own files there) or, for attachments, by httpd's children, which
# read them all and unlink deleted ones.
for files_dir in "$CC_RECORDINGS_DIR" "$CC_VOICEMAIL_DIR" "$CC_ATTACHMENTS_DIR"; do
    mkdir -p "$files_dir"
    chmod 755 "$files_dir"
    if cc_is_root; then
        chown "$run_user:$run_group" "$files_dir"
    fi
done

# SMS: the provider's credential and the callback key (CCSmsProviderCredentialFile,
# CCSmsSecretKeyFile), made once, 0600, readable by root only (httpd reads them at
# start-up, before its children drop privileges).  The provider is the tests' fake on
# CC_SMS_PROVIDER_PORT (t/integration/ccenv.py picks a free one).
[ -s "$CC_SMS_CREDENTIAL_FILE" ] || cc_random_alnum 40 | cc_write_secret "$CC_SMS_CREDENTIAL_FILE"
[ -s "$CC_SMS_KEY_FILE" ] || head -c 48 /dev/urandom | base64 -w0 | cc_write_secret "$CC_SMS_KEY_FILE"
case $CC_PROFILE in
    test) sms_timeout=3 sms_interval=1 sms_retry_base=1 sms_retry_max=2 sla_interval=1 ;;
    *)    sms_timeout=15 sms_interval=5 sms_retry_base=30 sms_retry_max=3600 sla_interval=60 ;;
esac
# Webhooks: seconds (a call, the first and longest wait, an event's retries, failures
# before a subscription is disabled).  test_979 is written for the test values.
case $CC_PROFILE in
    test) wh_timeout=2 wh_retry_base=1 wh_retry_max=2 wh_retry_for=10 wh_disable_after=25 ;;
    *)    wh_timeout=10 wh_retry_base=10 wh_retry_max=3600 wh_retry_for=21600 wh_disable_after=86400 ;;
esac

# The Asterisk link (optional; make run against a real Asterisk): both variables or none.
if [ -n "${CC_AMI_ADDR:-}" ]; then
    [ -r "${CC_AMI_CREDENTIAL_FILE:-}" ] \
        || cc_die "CC_AMI_ADDR needs CC_AMI_CREDENTIAL_FILE (a readable file: username:secret)"
    ami_manager="CCAsteriskManager $CC_AMI_ADDR"
    ami_credential="CCAsteriskCredentialFile \"$CC_AMI_CREDENTIAL_FILE\""
else
    ami_manager="# no Asterisk link (CC_AMI_ADDR unset)"
    ami_credential="#"
fi

case $CC_ACCESS_LOG in
    on)  access_log="CustomLog \"$CC_HTTPD_DIR/logs/access.log\" cc" ;;
    off) access_log="# access log off (CC_ACCESS_LOG=off)" ;;
    *)   cc_die "CC_ACCESS_LOG must be on or off" ;;
esac

# mod_cc_auth's retention job: every second in tests (t/integration/test_150_retention.py
# waits for it), every minute under `make run`.
case $CC_PROFILE in
    test) retention_interval=1 ;;
    *)    retention_interval=60 ;;
esac

# The per-address login budget: every test client is 127.0.0.1, so the test profile
# lifts it (t/integration/test_100_auth.py checks it by setting the count itself).
case $CC_PROFILE in
    test) addr_max_failures=1000000 ;;
    *)    addr_max_failures=100 ;;
esac

# mod_reqtimeout (RequestReadTimeout): production values under `make run`; short ones
# in tests, which wait for a slow sender to be cut off (test_625_httpd_errors.py).
case $CC_PROFILE in
    test) request_read_timeout="header=3-6,MinRate=500 body=3,MinRate=500" ;;
    *)    request_read_timeout="header=10-20,MinRate=500 body=10,MinRate=500" ;;
esac

# mod_cc_chat's event stream: a short keep-alive and few places per child in tests
# (test_800 waits for keep-alives and fills a child); under `make run` half of a child's
# 32 threads may stream, a keep-alive every 15 s.  CC_EVENT_MAX_CLIENTS overrides the
# places (make bench: 128 per child of 160 threads).
# Its retention job runs every second in tests (test_800 waits for it).
case $CC_PROFILE in
    test) event_max_clients=4; event_keepalive=2; event_retention_interval=1 ;;
    *)    event_max_clients=16; event_keepalive=15; event_retention_interval=60 ;;
esac

# The event MPM: 2 children x 32 threads, the same in both profiles (sized for 2 cores).
# CC_MPM_* override each line; make bench's event-stream part renders 8 children x 160
# threads with 128 streams per child (t/bench/bench.sh, README "Benchmark").
mpm_start_servers=${CC_MPM_START_SERVERS:-2}
mpm_server_limit=${CC_MPM_SERVER_LIMIT:-2}
mpm_thread_limit=${CC_MPM_THREAD_LIMIT:-32}
mpm_threads_per_child=${CC_MPM_THREADS_PER_CHILD:-32}
mpm_max_request_workers=${CC_MPM_MAX_REQUEST_WORKERS:-64}
mpm_min_spare_threads=${CC_MPM_MIN_SPARE_THREADS:-8}
mpm_max_spare_threads=${CC_MPM_MAX_SPARE_THREADS:-64}
for v in "$mpm_start_servers" "$mpm_server_limit" "$mpm_thread_limit" \
         "$mpm_threads_per_child" "$mpm_max_request_workers" "$mpm_min_spare_threads" \
         "$mpm_max_spare_threads" "${CC_EVENT_MAX_CLIENTS:-1}"; do
    case $v in ''|*[!0-9]*) cc_die "CC_MPM_* and CC_EVENT_MAX_CLIENTS must be integers (got '$v')" ;; esac
done

# sed replacement text: escape \ & and the | delimiter.
esc() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }

sub()
{
    printf 's|@%s@|%s|g\n' "$1" "$(esc "$2")"
}

{
    sub SERVER_ROOT "$CC_HTTPD_DIR"
    sub PORT "$CC_HTTP_PORT"
    sub RUN_USER "$run_user"
    sub RUN_GROUP "$run_group"
    sub MODDIR "$CC_MODDIR"
    sub BUILD_DIR "$CC_BUILD_DIR"
    sub LOG_LEVEL "$CC_LOG_LEVEL"
    sub ACCESS_LOG "$access_log"
    sub DB_PORT "$CC_DB_PORT"
    sub DB_PASSWORD "$(cat "$CC_DB_PWFILE")"
    sub JWT_SECRET_FILE "$CC_JWT_SECRET_FILE"
    sub LOGIN_MAX_FAILURES "${CC_LOGIN_MAX_FAILURES:-5}"
    sub LOGIN_WINDOW "${CC_LOGIN_WINDOW:-900}"
    sub LOGIN_ADDR_MAX_FAILURES "${CC_LOGIN_ADDR_MAX_FAILURES:-$addr_max_failures}"
    sub BCRYPT_COST "$CC_BCRYPT_COST"
    sub RETENTION_INTERVAL "${CC_RETENTION_INTERVAL:-$retention_interval}"
    sub REQUEST_READ_TIMEOUT "${CC_REQUEST_READ_TIMEOUT:-$request_read_timeout}"
    sub CACHE_TTL "$CC_CACHE_TTL"
    sub RATE_LIMIT_TENANT "${CC_RATE_LIMIT_TENANT:-100000 60}"
    sub RATE_LIMIT_TOKEN "${CC_RATE_LIMIT_TOKEN:-100000 60}"
    sub DOC_ROOT "$doc_root"
    sub RECORDINGS_DIR "$CC_RECORDINGS_DIR"
    sub SMS_PROVIDER_PORT "$CC_SMS_PROVIDER_PORT"
    sub SMS_CREDENTIAL_FILE "$CC_SMS_CREDENTIAL_FILE"
    sub SMS_KEY_FILE "$CC_SMS_KEY_FILE"
    sub SMS_TIMEOUT "${CC_SMS_TIMEOUT:-$sms_timeout}"
    sub SMS_INTERVAL "${CC_SMS_INTERVAL:-$sms_interval}"
    sub SMS_RETRY_BASE "$sms_retry_base"
    sub SMS_RETRY_MAX "$sms_retry_max"
    sub VOICEMAIL_DIR "$CC_VOICEMAIL_DIR"
    sub ATTACHMENTS_DIR "$CC_ATTACHMENTS_DIR"
    sub SLA_INTERVAL "$sla_interval"
    sub WEBHOOK_TIMEOUT "${CC_WEBHOOK_TIMEOUT:-$wh_timeout}"
    sub WEBHOOK_RETRY_BASE "${CC_WEBHOOK_RETRY_BASE:-$wh_retry_base}"
    sub WEBHOOK_RETRY_MAX "${CC_WEBHOOK_RETRY_MAX:-$wh_retry_max}"
    sub WEBHOOK_RETRY_FOR "${CC_WEBHOOK_RETRY_FOR:-$wh_retry_for}"
    sub WEBHOOK_DISABLE_AFTER "${CC_WEBHOOK_DISABLE_AFTER:-$wh_disable_after}"
    sub MPM_START_SERVERS "$mpm_start_servers"
    sub MPM_SERVER_LIMIT "$mpm_server_limit"
    sub MPM_THREAD_LIMIT "$mpm_thread_limit"
    sub MPM_THREADS_PER_CHILD "$mpm_threads_per_child"
    sub MPM_MAX_REQUEST_WORKERS "$mpm_max_request_workers"
    sub MPM_MIN_SPARE_THREADS "$mpm_min_spare_threads"
    sub MPM_MAX_SPARE_THREADS "$mpm_max_spare_threads"
    sub EVENT_MAX_CLIENTS "${CC_EVENT_MAX_CLIENTS:-$event_max_clients}"
    sub EVENT_KEEPALIVE "${CC_EVENT_KEEPALIVE:-$event_keepalive}"
    sub EVENT_RETENTION_INTERVAL "$event_retention_interval"
    sub ASTERISK_MANAGER "$ami_manager"
    sub ASTERISK_CREDENTIAL "$ami_credential"
} >"$CC_HTTPD_DIR/render.sed"

# Which lines belong to which of our modules (for CC_CONF_PARTIAL only).
partial_pattern()
{
    case $1 in
        mod_cc_auth)    echo '^[[:space:]]*(LoadModule cc_auth_module|CCAuth|CCAccessTokenTTL|'\
'CCRefreshTokenTTL|CCLogin|CCBcryptCost)' ;;
        mod_cc_tenant)  echo '^[[:space:]]*(LoadModule cc_tenant_module|CCTenant|CCPlatformTenant|'\
'Require cc-)' ;;
        mod_callcenter) echo '^[[:space:]]*(LoadModule callcenter_module|CCApiMaxBody|CCMusicOnHold)' ;;
        mod_cc_chat)    echo '^[[:space:]]*(LoadModule cc_chat_module|CCChat|CCEvent)' ;;
    esac
}

out=$CC_HTTPD_CONF.tmp
sed -f "$CC_HTTPD_DIR/render.sed" "$template" >"$out"
rm -f "$CC_HTTPD_DIR/render.sed"

if [ "${CC_CONF_PARTIAL:-0}" = 1 ]; then
    for m in mod_cc_auth mod_cc_tenant mod_callcenter mod_cc_chat; do
        [ -f "$CC_BUILD_DIR/$m.so" ] && continue
        cc_say "CC_CONF_PARTIAL: $m.so not built, its lines are commented out"
        pat=$(partial_pattern "$m")
        sed -E -i "/$pat/s/^/# (partial: $m missing) /" "$out"
    done
fi

left=$(grep -o '@[A-Z_]*@' "$out" | sort -u | tr '\n' ' ' || true)
[ -z "$left" ] || cc_die "unrendered placeholders in $template: $left"
chmod 600 "$out"     # it holds the database password
mv -f "$out" "$CC_HTTPD_CONF"
