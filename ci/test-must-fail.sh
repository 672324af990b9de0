#!/bin/sh
# ci/test-must-fail.sh [BUILD [GLOB...]] - scenarios whose claim is false must fail.
#
# Every harness/tests/must-fail/*.scn makes one claim that is false in
# exactly one way (extra data, a prefix, the wrong side, the wrong length,
# data during `nothing`, a stream ending early ...).  Each file starts with
#     # must fail: SUBSTRING OF THE FAILURE MESSAGE
#     # at line: N
# and is run alone with BUILD's netrig (two at a time).  It passes only when
# netrig exits 1, reports the scenario as FAIL (not an error or a skip), and
# its output contains the message and `FILE:N: ` (the step it blames).  A
# runner that became more lenient, or that blames another step, shows here
# even while the targets are correct.  Exits 1 when any file does not.
# GLOBs (e.g. 'wire-*' 'flow*') run only the files whose names match: make
# mutate runs the ones about the mutated matcher (ci/mutate.map).
set -u
build=${1:-build}
dir=harness/tests/must-fail
work=$build/must-fail

if [ "${2:-}" = --one ]; then # internal: judge one file, print one line
    f=$3
    name=$(basename "$f" .scn)
    msg=$(sed -n '1s/^# must fail: //p' "$f")
    line=$(sed -n '2s/^# at line: \([0-9][0-9]*\)$/\1/p' "$f")
    out=$work/$name.out
    if [ -z "$msg" ] || [ -z "$line" ]; then
        echo "BAD   $f: no '# must fail: MESSAGE' and '# at line: N' header"
        exit 0
    fi
    "$build/bin/netrig" run -a "$work/art/$name" "$f" >"$out" 2>&1
    rc=$?
    why=""
    [ "$rc" -eq 1 ] || why="netrig exited $rc, expected 1;"
    grep -qF -- "FAIL  $f" "$out" || why="$why not reported as FAIL;"
    grep -qF -- "$msg" "$out" || why="$why no '$msg' in the output;"
    grep -qF -- "$f:$line: " "$out" || why="$why the failure does not point at $f:$line;"
    if [ -n "$why" ]; then
        echo "BAD   $f:$why"
        sed 's/^/        /' "$out"
    else
        echo "ok    $f"
    fi
    exit 0
fi

[ -x "$build/bin/netrig" ] || { echo "no $build/bin/netrig: build first"; exit 1; }
rm -rf "$work"
mkdir -p "$work"
start=$(date +%s%N)
shift $(($# > 0 ? 1 : 0))
[ $# -gt 0 ] || set -- '*'
for g in "$@"; do ls "$dir"/$g.scn 2>/dev/null || ls "$dir"/$g 2>/dev/null; done | grep '\.scn$' |
    sort -u | xargs -r -n 1 -P 2 sh "$0" "$build" --one >"$work/results"
end=$(date +%s%N)
cat "$work/results"
total=$(grep -c '^ok\|^BAD' "$work/results")
bad=$(grep -c '^BAD' "$work/results")
echo "$total must-fail scenarios, $bad did not fail as required" \
    "($(( (end - start) / 1000000 )) ms)"
[ "$total" -gt 0 ] && [ "$bad" -eq 0 ]
