#!/bin/sh
# The make targets the README and the docs name must run, not only parse
# (ci/test-readme.sh checks `make -n`): where nothing else in make check runs
# a target, a short smoke run of it here.  Covered elsewhere in make check:
# check itself and deps (its first step), install, uninstall and man
# (ci/test-install.sh), fuzz (ci/test-fuzz-campaign.sh), fuzz-test (the
# fuzz library's tests), mutate (ci/test-mutate.sh runs its engine), golden
# (ci/golden.sh check, without storing).  Smoke-run here: soak (one pass of
# one scenario, and a failing one that must fail it).  Not run: run (the
# whole suite once more; make check runs the suite already), and for their
# cost fuzz-selftest and fuzz-bench (each builds every target with
# afl-clang-fast: minutes on 2 CPUs), bench-run, bench-proxy, pcap-mutants.
#
#   sh ci/test-make-targets.sh [BUILD]        (about 5 s)
set -u
build=$(cd "${1:-build}" && pwd)
root=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/netrig-targets.XXXXXX")
trap 'rm -rf "$work"' EXIT
. "$root/ci/checks.sh"

mk() { make --no-print-directory -C "$root" B="$build" "$@"; }
mk soak REPEAT=1 JOBS=1 SCN=harness/scenarios/tcp-greet/greeting.scn OUT="$work/soak" \
    > "$work/soak.out" 2>&1
echo $? > "$work/soak.rc"
check "make soak REPEAT=1 on one scenario (exit $(cat "$work/soak.rc"))" test "$(cat "$work/soak.rc")" = 0
check "its summary counts the run, none failed" grep -q '^soak: 1 runs in 1 passes, 0 not passed' "$work/soak.out"
printf 'target srv = tcp-greet --port 0\nconnect a = tcp ${srv}\nexpect a "nope"\n' > "$work/fails.scn"
refuse "must fail: make soak fails on a failing scenario" \
    mk soak REPEAT=1 JOBS=1 SCN="$work/fails.scn" OUT="$work/soak2"
[ $bad -eq 0 ] && echo "test-make-targets: all checks passed"
exit $bad
