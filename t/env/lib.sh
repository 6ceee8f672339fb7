# shellcheck shell=bash
# Shared by every t/env script: where the private environment lives and small helpers.
# `make run` and the pytest harness (t/integration/ccenv.py) drive the same scripts, so
# this file is the single description of the layout:
#
#   $CC_VAR_DIR/                 var/ for `make run`, a temp dir for the tests
#     jwt-secret                 HS256 secret (0600) unless CC_JWT_SECRET_FILE names one
#     admin-password             generated platform admin password (0600), if generated
#     db/my.cnf                  generated MariaDB defaults file ([mariadbd] + [client])
#     db/data/                   MariaDB data dir
#     db/mysql.sock, mariadbd.pid, error.log, app-password (0600)
#     httpd/httpd.conf           rendered from httpd-conf/cc-dev.conf.in
#     httpd/logs/ httpd/run/ httpd/htdocs/
#     recordings/<tenant id>/    CCRecordingsDir (call recordings)
#     sms-credential             CCSmsProviderCredentialFile (0600)
#     sms-webhook-key            CCSmsSecretKeyFile (0600)
#     voicemail/<tenant id>/     CCVoicemailDir (the voicemail spool)
#     attachments/<tenant id>/   CCAttachmentsDir (ticket attachments, written by httpd)
#
# Variables (all optional): CC_VAR_DIR, CC_DB_PORT (13306), CC_HTTP_PORT (8080),
# CC_BUILD_DIR (build/), CC_PROFILE (run|test), CC_ADMIN_EMAIL, CC_ADMIN_PASSWORD,
# CC_JWT_SECRET_FILE, CC_BCRYPT_COST, CC_CACHE_TTL, CC_LOG_LEVEL, CC_ACCESS_LOG (on|off),
# CC_HTTPD_ENV ("K=V ..." added to httpd's environment), CC_HTTPD_ARGS (e.g. -X),
# CC_AMI_ADDR and CC_AMI_CREDENTIAL_FILE (the Asterisk link, README "Live calls").

set -eu

CC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CC_VAR_DIR=${CC_VAR_DIR:-$CC_ROOT/var}
mkdir -p "$CC_VAR_DIR"
CC_VAR_DIR=$(cd "$CC_VAR_DIR" && pwd)
CC_PROFILE=${CC_PROFILE:-run}
CC_DB_PORT=${CC_DB_PORT:-13306}
CC_HTTP_PORT=${CC_HTTP_PORT:-8080}
CC_BUILD_DIR=${CC_BUILD_DIR:-$CC_ROOT/build}
case $CC_BUILD_DIR in /*) ;; *) CC_BUILD_DIR=$CC_ROOT/$CC_BUILD_DIR ;; esac
CC_ADMIN_EMAIL=${CC_ADMIN_EMAIL:-admin@example.com}
CC_DB_NAME=callcenter
CC_DB_USER=callcenter

CC_DB_DIR=$CC_VAR_DIR/db
CC_DB_DATA=$CC_DB_DIR/data
CC_DB_CNF=$CC_DB_DIR/my.cnf
CC_DB_PID=$CC_DB_DIR/mariadbd.pid
CC_DB_LOG=$CC_DB_DIR/error.log
CC_DB_PWFILE=$CC_DB_DIR/app-password
CC_DB_SOCK=$CC_DB_DIR/mysql.sock
# sun_path holds 108 bytes; a deep checkout gets a short, stable socket name in /tmp.
if [ "${#CC_DB_SOCK}" -gt 100 ]; then
    CC_DB_SOCK=/tmp/cc-mysql-$(printf '%s' "$CC_DB_DIR" | cksum | cut -d' ' -f1).sock
fi

CC_HTTPD_DIR=$CC_VAR_DIR/httpd
CC_HTTPD_CONF=$CC_HTTPD_DIR/httpd.conf
CC_HTTPD_PID=$CC_HTTPD_DIR/run/httpd.pid
CC_HTTPD_ERROR_LOG=$CC_HTTPD_DIR/logs/error.log
CC_HTTPD_BIN=${CC_HTTPD_BIN:-/usr/sbin/apache2}
CC_MODDIR=/usr/lib/apache2/modules
CC_RECORDINGS_DIR=$CC_VAR_DIR/recordings
# SMS (render-conf.sh): the provider's port and the two secret files.
CC_SMS_PROVIDER_PORT=${CC_SMS_PROVIDER_PORT:-18099}
CC_SMS_CREDENTIAL_FILE=$CC_VAR_DIR/sms-credential
CC_SMS_KEY_FILE=$CC_VAR_DIR/sms-webhook-key
CC_VOICEMAIL_DIR=$CC_VAR_DIR/voicemail
CC_ATTACHMENTS_DIR=$CC_VAR_DIR/attachments

# Per-profile defaults: `make run` is production-like, the tests are fast.
case $CC_PROFILE in
    run)  : "${CC_BCRYPT_COST:=12}" "${CC_CACHE_TTL:=10}" "${CC_LOG_LEVEL:=warn}" \
            "${CC_ACCESS_LOG:=on}" ;;
    test) : "${CC_BCRYPT_COST:=4}" "${CC_CACHE_TTL:=0}" "${CC_LOG_LEVEL:=warn}" \
            "${CC_ACCESS_LOG:=on}" ;;
    *)    echo "CC_PROFILE must be run or test (got '$CC_PROFILE')" >&2; exit 2 ;;
esac
CC_JWT_SECRET_FILE=${CC_JWT_SECRET_FILE:-$CC_VAR_DIR/jwt-secret}

cc_is_root() { [ "$(id -u)" -eq 0 ]; }

cc_die() { echo "cc-env: $*" >&2; exit 1; }
cc_say() { echo "cc-env: $*" >&2; }

# n random characters from [A-Za-z0-9] (safe in DBDParams and in shell/SQL quoting).
cc_random_alnum()
{
    local s=''
    while [ "${#s}" -lt "$1" ]; do
        s=$s$(head -c 256 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9')
    done
    printf '%s' "${s:0:$1}"
}

# Write content (stdin) to a file created 0600 from the start (no readable window).
cc_write_secret()
{
    (umask 077 && cat >"$1.tmp.$$") && mv -f "$1.tmp.$$" "$1"
}

# The MariaDB administrator: root when we are root (unix_socket auth), else the
# current user, for whom mariadb-install-db made a unix_socket account too.
cc_db_admin_user()
{
    if cc_is_root; then echo root; else id -un; fi
}

# mariadb client as administrator over the private socket.  Extra args pass through.
cc_sql()
{
    mariadb --defaults-file="$CC_DB_CNF" -u"$(cc_db_admin_user)" "$@"
}

cc_db_running()
{
    [ -f "$CC_DB_PID" ] && kill -0 "$(cat "$CC_DB_PID" 2>/dev/null)" 2>/dev/null
}

# Quote a value as an SQL string literal ('...' with ' and \ escaped).
cc_sql_quote()
{
    printf "'%s'" "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/''/g")"
}
