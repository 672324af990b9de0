#!/bin/sh
# Install the Debian packages listed in ci/packages.txt that are missing.
# Idempotent: does nothing when all are present. As root it uses apt-get,
# otherwise sudo when available; failing both it prints the exact command.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pkgs=$(grep -v '^#' "$here/packages.txt" | grep -v '^$')
missing=""
for p in $pkgs; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
        *" installed") ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0
echo "netrig: installing missing packages:$missing" >&2
cmd="apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends$missing"
if [ "$(id -u)" = 0 ]; then
    sh -c "$cmd"
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo sh -c "$cmd"
else
    echo "netrig: missing packages:$missing" >&2
    echo "netrig: run as root:  $cmd" >&2
    exit 1
fi
