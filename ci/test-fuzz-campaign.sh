#!/bin/sh
# `make fuzz` as a CI job uses it: a campaign that saves a crash exits 1
# after triage and names the regression file it wrote; a campaign on the
# same harness without the bug exits 0, prints progress lines with execs/s,
# corpus, edges (bitmap %) and crashes, and writes afl-plot's graphs to
# OUT/plot/index.html.  The harness is ci/fuzz-campaign/planted.c (a
# planted heap overflow behind -DPLANTED), built here with afl-clang-fast
# and clang in seconds; the campaign runs through make fuzz and the real
# fuzz/campaign.sh and fuzz/triage.sh, with the regressions filed in a
# scratch directory, never in fuzz/regressions/.
#
#   sh ci/test-fuzz-campaign.sh [BUILD]        (about 45 s, mostly waiting: 2 s of CPU building, a campaign to the planted crash, a 12 s one without)
set -u
root=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/netrig-campaign.XXXXXX")
trap 'rm -rf "$work"' EXIT
. "$root/ci/checks.sh"

src=$root/ci/fuzz-campaign/planted.c
for v in planted clean; do
    def=""
    [ $v = planted ] && def=-DPLANTED
    AFL_QUIET=1 afl-clang-fast -O0 -g $def -fsanitize=address,fuzzer -o "$work/afl-$v" "$src" \
        >"$work/build-$v.log" 2>&1 &&
    clang -O0 -g $def -fsanitize=address,fuzzer -o "$work/replay-$v" "$src" \
        >>"$work/build-$v.log" 2>&1 || { no "build $v"; cat "$work/build-$v.log"; exit 1; }
done

# "BUG" as a dictionary word: the campaign reaches the bug at once
printf 'magic="BUG"\n' > "$work/planted.dict"
# campaign VARIANT SECONDS [ENV...]: make fuzz on it, output in $work/VARIANT.out
campaign() {
    v=$1 secs=$2
    shift 2
    env FUZZ_AFL_BIN="$work/afl-$v" FUZZ_REPLAY_BIN="$work/replay-$v" \
        NETRIG_REGRESSIONS="$work/regressions" AFL_EXTRA="-x $work/planted.dict" "$@" \
        make --no-print-directory -C "$root" fuzz FUZZER=planted SECONDS="$secs" JOBS=1 \
        B="$work/b-$v" > "$work/$v.out" 2>&1
    echo $? > "$work/$v.rc"
}
campaign planted 60 AFL_BENCH_UNTIL_CRASH=1
# make itself exits 2 when a recipe fails; the campaign's own status is 1
check "make fuzz fails when the campaign saved a crash: the campaign exits 1" sh -c "
    test \"\$(cat '$work/planted.rc')\" != 0 && grep -q 'fuzz\] Error 1\$' '$work/planted.out' &&
    grep -q '^fuzz: planted: 1 crash(es) saved' '$work/planted.out'"
check "it was triaged into a new regression file, and the output names it" sh -c "
    f=\$(ls '$work/regressions/planted/' | grep -v stack | head -n 1) &&
    grep -q \"new:   $work/regressions/planted/\$f\" '$work/planted.out' &&
    grep -q 'heap-buffer-overflow' '$work/regressions/planted/'\$f.stack"
check "nothing was filed in fuzz/regressions/" test ! -e "$root/fuzz/regressions/planted"

# must fail: the same campaign without the bug saves nothing and exits 0
campaign clean 12
check "make fuzz exits 0 when no crash was saved (exit $(cat "$work/clean.rc"))" \
    test "$(cat "$work/clean.rc")" = 0
check "progress every 10 s: execs/s, corpus, edges (bitmap %), crashes" \
    grep -Eq '^fuzz: [0-9]+s:  main: [0-9.]+[kM]? execs/s, corpus [0-9]+, edges [0-9.]+% of the map, crashes 0' \
    "$work/clean.out"
check "afl-plot's graphs in OUT/plot/index.html, and the path printed" sh -c "
    grep -q '^graphs: $work/b-clean/fuzz/out/planted/plot/index.html' '$work/clean.out' &&
    test -s '$work/b-clean/fuzz/out/planted/plot/index.html' &&
    ls '$work/b-clean/fuzz/out/planted/plot/'*.png >/dev/null"
[ $bad -eq 0 ] || { echo "--- planted run:"; tail -n 30 "$work/planted.out"; echo "--- clean run:"; tail -n 30 "$work/clean.out"; }
[ $bad -eq 0 ] && echo "test-fuzz-campaign: all checks passed"
exit $bad
