#!/bin/sh
# The scenario suite must catch a broken target: build the echo servers with
# a planted bug (each read loses its last byte) and check that the scenarios
# that move more than one byte per read fail with a hexdump diff.  (Whether
# byte-at-a-time.scn survives the bug depends on the kernel never merging
# two of its 1-byte writes into one read, which a loaded machine does: it is
# not judged.)  Exits 0 when netrig behaves so.
set -u
build=${1:-build}
broken=$build/broken
make --no-print-directory B="$broken" NR_NODEPS=1 \
    CPPFLAGS=-DNETRIG_PLANT_BUG_ECHO_DROP_LAST "$broken/bin/tcp-echo" "$broken/bin/tcp-echo-mt" >/dev/null || exit 1
out=$broken/run.out
"$build/bin/netrig" run -j 2 --bin "$(cd "$broken/bin" && pwd)" -a "$broken/artifacts" \
    harness/scenarios/tcp-echo harness/scenarios/tcp-echo-mt >"$out" 2>&1
rc=$?
status=0
check() { # check PATTERN WHAT
    if ! grep -q -- "$1" "$out"; then
        echo "missing: $2"
        status=1
    fi
}
[ $rc -eq 1 ] || { echo "netrig exited $rc, expected 1"; status=1; }
check "FAIL  harness/scenarios/tcp-echo/sizes.scn" "sizes.scn fails"
check "FAIL  harness/scenarios/tcp-echo/half-close.scn" "half-close.scn fails"
check "FAIL  harness/scenarios/tcp-echo-mt/two-clients.scn" "two-clients.scn fails"
check "first difference at offset" "a hexdump diff with the first differing offset"
check "^> 0000" "the differing row marked"
[ $status -eq 0 ] || cat "$out"
exit $status
