#!/usr/bin/env bash
# Install the Debian packages the project needs, only those missing: silent and quick
# when everything is present (one dpkg-query), `apt-get update` only when needed.
# Root runs apt-get directly, anyone else through sudo.
set -eu

# tzdata: the zones of GET /cdrs/stats?tz= (/usr/share/zoneinfo).
# libcurl4-openssl-dev: the SMS delivery job's HTTP client (mod_callcenter only).
# chromium, chromium-driver, python3-selenium: the chat widget's browser test
# (t/integration/test_830_chat_widget.py, headless).
# mariadb-backup: hot physical backups (t/ops/cc-backup.sh, test_960_backup.py); Debian
# builds it from the same source as mariadb-server, so the versions match.
PKGS="apache2 apache2-dev libaprutil1-dbd-mysql libjansson-dev libjwt-dev libcurl4-openssl-dev
      check pkg-config
      build-essential mariadb-server mariadb-client mariadb-backup wrk apache2-utils curl
      python3-pytest python3-requests python3-pymysql valgrind tzdata
      chromium chromium-driver python3-selenium"
# node and npm run the pinned client tools (make client-deps); Debian's unless some are
# already on the PATH (e.g. from NodeSource).
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"

# One dpkg-query for all; packages it does not know at all print nothing.
# shellcheck disable=SC2086
installed=$(dpkg-query -W -f='${Package} ${Status}\n' $PKGS 2>/dev/null \
            | awk '$2 == "install" && $3 == "ok" && $4 == "installed" { print $1 }' || true)
missing=
for p in $PKGS; do
    printf '%s\n' "$installed" | grep -qxF "$p" || missing="$missing $p"
done
[ -n "$missing" ] || exit 0

echo "deps: installing$missing"
if [ "$(id -u)" -eq 0 ]; then
    sudo=
else
    command -v sudo >/dev/null \
        || { echo "deps: need root or sudo to install:$missing" >&2; exit 1; }
    sudo=sudo
fi
# policy-rc.d or not, we never use the system apache2/mariadb services: our own
# instances run on other ports (t/env/db.sh, t/env/httpd.sh).
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Use-Pty=0 $missing
