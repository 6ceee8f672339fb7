#!/usr/bin/env bash
# `make run`: private MariaDB (var/db), migrations, seed, then httpd in the foreground.
# Ctrl-C, SIGTERM (make forwards it) or SIGHUP stop httpd and MariaDB cleanly.
# The build and package install are done by make before this runs.
. "$(dirname "$0")/lib.sh"

READY_TIMEOUT=${CC_HTTPD_READY_TIMEOUT:-30}
env_dir=$(dirname "$0")
httpd_pid=

stop_all()
{
    trap - INT TERM HUP EXIT
    if [ -n "$httpd_pid" ] && kill -0 "$httpd_pid" 2>/dev/null; then
        echo "stopping httpd..."
        kill -TERM "$httpd_pid" 2>/dev/null || true
        for _ in $(seq 1 150); do
            kill -0 "$httpd_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$httpd_pid" 2>/dev/null || true
        wait "$httpd_pid" 2>/dev/null || true
    fi
    echo "stopping MariaDB..."
    "$env_dir/db.sh" stop || true
}

on_signal()
{
    stop_all
    echo "stopped."
    exit 0
}

# The EXIT trap covers failures (set -e) between here and the wait below.
trap on_signal INT TERM HUP
trap stop_all EXIT

if [ -f "$CC_HTTPD_PID" ] && kill -0 "$(cat "$CC_HTTPD_PID")" 2>/dev/null; then
    trap - EXIT
    cc_die "an httpd from $CC_VAR_DIR is already running (pid $(cat "$CC_HTTPD_PID"))"
fi

"$env_dir/db.sh" start
"$env_dir/migrate.sh"
"$env_dir/seed.sh"
"$env_dir/render-conf.sh"

if (exec 3<>"/dev/tcp/127.0.0.1/$CC_HTTP_PORT") 2>/dev/null; then
    cc_die "port $CC_HTTP_PORT is already in use (set CC_HTTP_PORT)"
fi

# -DFOREGROUND: httpd stays our child; we wait on it so signals reach our trap.
"$env_dir/httpd.sh" &
httpd_pid=$!

waited=0
until (exec 3<>"/dev/tcp/127.0.0.1/$CC_HTTP_PORT") 2>/dev/null; do
    if ! kill -0 "$httpd_pid" 2>/dev/null; then
        tail -n 20 "$CC_HTTPD_ERROR_LOG" >&2 2>/dev/null || true
        cc_die "httpd exited during start-up; log: $CC_HTTPD_ERROR_LOG"
    fi
    [ "$waited" -lt $((READY_TIMEOUT * 10)) ] \
        || cc_die "httpd not answering after ${READY_TIMEOUT}s"
    sleep 0.1
    waited=$((waited + 1))
done

base=http://127.0.0.1:$CC_HTTP_PORT
pwfile=$CC_VAR_DIR/admin-password
if [ -n "${CC_ADMIN_PASSWORD:-}" ]; then
    pw_shown='$CC_ADMIN_PASSWORD'
    pw_expr='$CC_ADMIN_PASSWORD'
elif [ -r "$pwfile" ]; then
    pw_shown="in $pwfile"
    pw_expr="\$(cat $pwfile)"
else
    pw_shown="(set earlier; not stored: set CC_ADMIN_PASSWORD to reset it)"
    pw_expr='<password>'
fi
cat <<EOF

Callcenter is running at $base   (Ctrl-C stops httpd and MariaDB)
  admin login:  $CC_ADMIN_EMAIL
  password:     $pw_shown
  logs:         $CC_HTTPD_DIR/logs/    database shell: make db-shell

  TOKEN=\$(curl -s $base/api/v1/auth/login -H 'Content-Type: application/json' \\
      -d "{\"email\":\"$CC_ADMIN_EMAIL\",\"password\":\"$pw_expr\"}" \\
      | sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p')
  curl -s $base/api/v1/users -H "Authorization: Bearer \$TOKEN"

EOF

set +e
wait "$httpd_pid"
rc=$?
set -e
# Only reached when httpd ended by itself (signals go to on_signal).
httpd_pid=
echo "httpd exited with status $rc" >&2
stop_all
exit "$rc"
