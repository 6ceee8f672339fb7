#!/usr/bin/env bash
# promtool (`promtool check metrics`, t/integration/test_905_metrics.py) from Debian's
# prometheus package, unpacked into var/tools/ and not installed: installing the package
# would also set up and start a Prometheus server, which nothing here needs.  Quiet and
# quick when it is there already, or when a promtool is on the PATH.  Prints nothing;
# the test finds var/tools/promtool (or the PATH's).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
dest="$root/var/tools"
[ -x "$dest/promtool" ] && exit 0
command -v promtool >/dev/null 2>&1 && exit 0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "deps: unpacking promtool from Debian's prometheus package into var/tools/"
# apt-get download needs the package lists; deps.sh updated them if it installed
# anything, else update them once here (root or sudo) and try again.
if ! (cd "$work" && timeout 300 apt-get download -qq prometheus 2>/dev/null); then
    if [ "$(id -u)" -eq 0 ]; then sudo=; else sudo=sudo; fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    (cd "$work" && timeout 300 apt-get download -qq prometheus)
fi
dpkg-deb -x "$work"/prometheus_*.deb "$work/root"
mkdir -p "$dest"
install -m 0755 "$work/root/usr/bin/promtool" "$dest/promtool"
"$dest/promtool" --version >/dev/null
