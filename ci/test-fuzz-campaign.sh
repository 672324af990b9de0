#!/bin/sh
# `make fuzz` as a CI job uses it.  A campaign that saves a crash: run as
# fuzz/campaign.sh it exits 1 (what a CI job that wants 1 runs), through
# make fuzz make exits 2 (GNU make's status for any failed recipe; its
# "Error 1" names the campaign's); either way the last lines name the
# regression file the triage wrote and the raw crash inputs.  A campaign
# that cannot run exits 2, never 1.  A campaign on the same harness without
# the bug exits 0, prints progress lines with execs/s, corpus, edges
# (bitmap %) and crashes, and writes afl-plot's graphs to
# OUT/plot/index.html.  The harness is ci/fuzz-campaign/planted.c (a
# planted heap overflow behind -DPLANTED), built here with afl-clang-fast
# and clang in seconds; the campaigns run through make fuzz or the real
# fuzz/campaign.sh and fuzz/triage.sh, side by side, with the regressions
# filed in scratch directories, never in fuzz/regressions/.
#
#   sh ci/test-fuzz-campaign.sh [BUILD]   (about 20 s: 2 s of CPU building,
#   two campaigns to the planted crash beside a 12 s one of two instances
#   without)
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
# campaign RUN VARIANT SECONDS [ENV...]: make fuzz on the VARIANT program
# (RUN "script": fuzz/campaign.sh itself, as a CI job that wants its exit 1
# runs it), output in $work/RUN.out, status in $work/RUN.rc
campaign() {
    r=$1 v=$2 secs=$3 jobs=${JOBS:-1}
    shift 3
    if [ "$r" = script ]; then
        set -- env B="$work/b-$r" "$@" sh "$root/fuzz/campaign.sh" planted "$secs" 1
    else
        set -- env "$@" make --no-print-directory -C "$root" fuzz FUZZER=planted SECONDS="$secs" JOBS="$jobs" \
            B="$work/b-$r"
    fi
    env FUZZ_AFL_BIN="$work/afl-$v" FUZZ_REPLAY_BIN="$work/replay-$v" \
        NETRIG_REGRESSIONS="$work/regressions-$r" AFL_EXTRA="-x $work/planted.dict" \
        "$@" > "$work/$r.out" 2>&1
    echo $? > "$work/$r.rc"
}
# the three campaigns side by side (each is mostly one afl-fuzz process):
# the planted bug through make fuzz and through the script, and the same
# harness without the bug for 12 s with JOBS=2 (afl-plot needs 10 s of rows)
campaign planted planted 60 AFL_BENCH_UNTIL_CRASH=1 &
campaign script planted 60 AFL_BENCH_UNTIL_CRASH=1 &
JOBS=2 campaign clean clean 12 &
wait
rc() { cat "$work/$1.rc"; }

check "fuzz/campaign.sh exits 1 when the campaign saved a crash (exit $(rc script))" test "$(rc script)" = 1
# make itself exits 2 when a recipe fails ("Error 1" is the campaign's status)
check "make fuzz fails on it too: make's own status 2, 'Error 1' from the campaign (exit $(rc planted))" sh -c "
    test '$(rc planted)' = 2 && grep -q 'fuzz\] Error 1\$' '$work/planted.out'"
for r in script planted; do
    check "$r: the last lines say where the crashes are: the new regression file and the raw inputs" sh -c "
        f=\$(ls '$work/regressions-$r/planted/' | grep -v stack | head -n 1) && test -n \"\$f\" &&
        tail -n 8 '$work/$r.out' > '$work/$r.tail' &&
        grep -q '^fuzz: FAILED: planted: 1 crash(es) saved' '$work/$r.tail' &&
        grep -q \"^    new:   $work/regressions-$r/planted/\$f\\\$\" '$work/$r.tail' &&
        grep -q '^    raw:   $work/b-$r/fuzz/out/planted/main/crashes/ (1 input(s))' '$work/$r.tail' &&
        grep -q '^fuzz: exit 1: crashes saved' '$work/$r.tail' &&
        grep -q 'heap-buffer-overflow' '$work/regressions-$r/planted/'\$f.stack"
done
B="$work/b-none" sh "$root/fuzz/campaign.sh" no-such-harness 5 1 > "$work/none.out" 2>&1
echo $? > "$work/none.rc"
check "must fail with 2, not 1: a campaign that cannot run (no such harness; exit $(rc none))" sh -c "
    test '$(rc none)' = 2 && grep -q 'no harness fuzz/no-such-harness.c' '$work/none.out'"
check "nothing was filed in fuzz/regressions/" test ! -e "$root/fuzz/regressions/planted"

# must fail: the same campaign without the bug saves nothing and exits 0
check "make fuzz exits 0 when no crash was saved (exit $(cat "$work/clean.rc"))" \
    test "$(cat "$work/clean.rc")" = 0
check "progress every 10 s, per instance (JOBS=2: main and s1): execs/s, corpus, edges (bitmap %), crashes" \
    grep -Eq '^fuzz: [0-9]+s:  main: [0-9.]+[kM]? execs/s, corpus [0-9]+, edges [0-9.]+% of the map, crashes 0  s1: [0-9.]+[kM]? execs/s, ' \
    "$work/clean.out"
check "the summary has a row per instance" sh -c "
    grep -q '== campaign summary: planted, 12s, 2 instance(s) ==' '$work/clean.out' &&
    grep -Eq '^main +[0-9.]+ +[0-9]+' '$work/clean.out' && grep -Eq '^s1 +[0-9.]+ +[0-9]+' '$work/clean.out'"
check "afl-plot's graphs in OUT/plot/index.html, and the path printed" sh -c "
    grep -q '^graphs: $work/b-clean/fuzz/out/planted/plot/index.html' '$work/clean.out' &&
    test -s '$work/b-clean/fuzz/out/planted/plot/index.html' &&
    ls '$work/b-clean/fuzz/out/planted/plot/'*.png >/dev/null"
[ $bad -eq 0 ] || for r in planted script clean; do echo "--- $r run:"; tail -n 30 "$work/$r.out"; done
[ $bad -eq 0 ] && echo "test-fuzz-campaign: all checks passed"
exit $bad
