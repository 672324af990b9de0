#!/bin/sh
# make install / make uninstall into a staging DESTDIR, checked as a packager
# and a user would: netrig alone in PREFIX/bin, the targets in
# PREFIX/libexec/netrig (where the installed netrig finds them with nothing
# on PATH), man pages and docs under PREFIX/share; make uninstall leaves
# nothing; plain make and make install never install packages, make check
# and make deps do.  Each checker is shown to fail on a case it must reject.
#
#   sh ci/test-install.sh [BUILD]        (about 3 s on a built tree)
set -u
build=${1:-build}
root=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/netrig-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
. "$root/ci/checks.sh"
mk() { make --no-print-directory -C "$root" B="$build" PREFIX=/usr "$@"; }
# empty DIR: DIR is gone or holds nothing
empty() { [ ! -e "$1" ] || [ -z "$(find "$1" -mindepth 1 | head -n 1)" ]; }

stage=$work/stage
check "make install DESTDIR=... succeeds" mk DESTDIR="$stage" install
check "netrig in PREFIX/bin, and nothing else there" test "$(ls "$stage/usr/bin")" = netrig
check "the targets in PREFIX/libexec/netrig" test -x "$stage/usr/libexec/netrig/tcp-greet" -a \
    -x "$stage/usr/libexec/netrig/http-get"
check "man pages netrig(1), netrig-pcap(1), netrig-scenario(5)" sh -c "
    grep -q '^\.TH NETRIG 1' '$stage/usr/share/man/man1/netrig.1' &&
    grep -q '^\.TH NETRIG-PCAP 1' '$stage/usr/share/man/man1/netrig-pcap.1' &&
    grep -q '^\.TH NETRIG-SCENARIO 5' '$stage/usr/share/man/man5/netrig-scenario.5'"
check "docs and the JSON schema under PREFIX/share/doc/netrig" \
    test -f "$stage/usr/share/doc/netrig/run-json.schema.json" -a -f "$stage/usr/share/doc/netrig/README.md"

# The installed netrig starts a target by name from libexec, with no PATH help.
mkdir -p "$work/use" "$work/lonely/bin"
printf 'target srv = tcp-greet --port 0\nconnect a = tcp ${srv}\nexpect a "Welcome!\\n"\n' \
    > "$work/use/greet.scn"
check "the installed netrig finds its targets in libexec/netrig" sh -c \
    "cd '$work/use' && PATH=/usr/bin:/bin '$stage/usr/bin/netrig' run -a art greet.scn"
cp "$stage/usr/bin/netrig" "$work/lonely/bin/"
refuse "must fail: a netrig without libexec/netrig next to it does not find them" sh -c \
    "cd '$work/use' && PATH=/usr/bin:/bin '$work/lonely/bin/netrig' run -a art greet.scn"

check "make uninstall succeeds" mk DESTDIR="$stage" uninstall
check "make uninstall leaves nothing" empty "$stage"
# must fail: something left behind is seen
mk DESTDIR="$work/stage2" install >/dev/null 2>&1
echo stray > "$work/stage2/usr/share/doc/netrig/stray.txt"
mk DESTDIR="$work/stage2" uninstall >/dev/null 2>&1
refuse "must fail: a file left in the staging tree is seen" empty "$work/stage2"

# Only make deps, run and check install packages.
for t in all install; do
    check "make $t does not install packages" sh -c \
        "! make -n --no-print-directory -C '$root' B='$work/fresh' DESTDIR='$work/n' $t | grep -q install-deps"
done
refuse "must fail: make -n check does show the package installer" sh -c \
    "! make -n --no-print-directory -C '$root' B='$work/fresh' check | grep -q install-deps"

[ $bad -eq 0 ] && echo "test-install: all checks passed"
exit $bad
