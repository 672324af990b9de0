#!/bin/sh
# ci/test-mutate.sh - the mutation runner's own test (a few seconds): every
# mutant of the fixture ci/test-mutate/calc.c, run by two workers and judged
# by the fixture's tests (one of them flaky: a kill must repeat), must end
# as expected; a "setup" output is built once, not per mutant; comments,
# strings and
# definitions and code under #ifdef NETRIG_PLANT_BUG_* are not mutated, the
# fixture is left unchanged, and the same
# SEED picks the same mutants; the default FILES are all mapped; a process
# a test leaves in a session of its own does not outlive the test, nor a
# directory it leaves in /tmp.
set -u
dir=$(cd "$(dirname "$0")" && pwd)
fx=$dir/test-mutate
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bad=0
sum=$(cat "$fx"/* | md5sum)
mut() { # run the runner on the fixture
    /usr/bin/python3 "$dir/mutate.py" --root "$fx" --map "$fx/mutate.map" \
        --equiv "$fx/mutate.equiv" --files calc.c --work "$work/w" --timeout 1 "$@"
}
# expect PATTERN WHAT: the table has a row matching PATTERN (grep -E)
expect() {
    if grep -Eq -- "$1" "$work/table"; then echo "ok    $2"
    else echo "FAIL  $2: no row matching '$1'"; bad=1; fi
}

mut --max 1000 --jobs 2 --out "$work/table" >"$work/log" 2>&1 || { cat "$work/log"; exit 1; }
expect '\| calc.c:8 \| relational \| `if \(v <= lo\)` \| equivalent \|' "equivalent mutant listed, not counted"
expect '\| calc.c:26 \| equality \| `while \(i == n\)` \| killed \| test_calc \|' "killed by the test"
expect '\| calc.c:27 \| delete-statement \| `i\+\+;` \| killed \(timeout\) \|' "a hang is killed (timeout)"
expect '\| calc.c:34 \| constant-1 \| `return v < 9;` \| survived \|' "untested code survives"
expect '\| calc.c:34 \| relational \| `return v <= 10;` \| survived \(flaky kill\) \| test_flaky build \|' \
    "a test that fails once and passes on the rerun is no kill"
expect '\| calc.c:34 \| delete-return \| `return v < 10;` \| stillborn \|' "a mutant that does not compile is stillborn"
expect '\| calc.c:44 \| swap-args \| `return diff\(b, a\);` \| killed \|' "swapped call arguments"
expect '^\| calc.c \| 19 \| 5 \| 4 \| 8 \| 2 \| 56% \|' "per-file summary: 19 mutants, 5 killed, 4 survived, 8 stillborn, 2 equivalent"
if grep -Eq '\| calc\.c:(1|2|15|37|42|50|51|52) \|' "$work/table"; then
    echo "FAIL  a comment, a string literal, a definition or a planted bug was mutated"; bad=1
else echo "ok    comments, strings, definitions and #ifdef NETRIG_PLANT_BUG_ code not mutated"; fi
n=$(cat "$work"/w/src-*/build/stamp.log 2>/dev/null | wc -l)
[ "$n" -eq 2 ] && echo "ok    a setup output is built once per worker, not per mutant" ||
    { echo "FAIL  setup output built $n times by 2 workers"; bad=1; }
[ "$(cat "$fx"/* | md5sum)" = "$sum" ] && echo "ok    fixture unchanged" ||
    { echo "FAIL  the fixture was modified"; bad=1; }

mut --max 5 --seed 7 --list >"$work/a"; mut --max 5 --seed 7 --list >"$work/b"
mut --max 5 --seed 8 --list >"$work/c"
cmp -s "$work/a" "$work/b" && ! cmp -s "$work/a" "$work/c" && [ "$(wc -l <"$work/a")" -eq 6 ] &&
    echo "ok    SEED and MAX pick the mutants deterministically" ||
    { echo "FAIL  SEED/MAX selection"; bad=1; }

# --rejudge: the survivors of the run above, again, on a later version of
# the fixture whose test now checks is_small and whose line 24 changed.
cp -r "$fx" "$work/fx2"
sed -i 's/count_to(3) == 3 \&\&/count_to(3) == 3 \&\& is_small(9) \&\& !is_small(10) \&\&/' "$work/fx2/test_calc.c"
sed -i 's/^    int i = 0;$/    int i = 0; \/* counts up *\//' "$work/fx2/calc.c"
/usr/bin/python3 "$dir/mutate.py" --root "$work/fx2" --map "$work/fx2/mutate.map" \
    --equiv "$work/fx2/mutate.equiv" --work "$work/w2" --timeout 1 --jobs 2 \
    --rejudge "$work/w/results.json" --out "$work/table2" >"$work/log2" 2>&1 ||
    { cat "$work/log2"; exit 1; }
if grep -q '^gone: calc.c:24 constant+1' "$work/log2" &&
   grep -Eq '^\| \*\*total\*\* \| 3 \| 3 \| 0 \| 0 \| 0 \| 100% \|' "$work/table2" &&
   grep -Eq '\| calc.c:34 \| constant-1 \| `return v < 9;` \| killed \| test_calc \|' "$work/table2"; then
    echo "ok    --rejudge runs a run's survivors again: a new test kills them, a changed line is gone"
else echo "FAIL  --rejudge"; bad=1; sed 's/^/      /' "$work/log2"; fi
# a stopped run (touch WORK/stop): the mutants it did not run have no result
/usr/bin/python3 - "$work/w/results.json" "$work/stopped.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for m in r['mutants']:
    if not m['result'].startswith('survived'):
        del m['result'], m['by']
json.dump(r, open(sys.argv[2], 'w'))
PY
if /usr/bin/python3 "$dir/mutate.py" --root "$work/fx2" --map "$work/fx2/mutate.map" \
       --equiv "$work/fx2/mutate.equiv" --work "$work/w3" --timeout 1 --jobs 2 \
       --rejudge "$work/stopped.json" --out "$work/table3" >"$work/log3" 2>&1 &&
   grep -Eq '^\| \*\*total\*\* \| 3 \| 3 \| 0 \| 0 \| 0 \| 100% \|' "$work/table3"; then
    echo "ok    --rejudge takes a stopped run's results (mutants without a result)"
else echo "FAIL  --rejudge of a stopped run"; bad=1; sed 's/^/      /' "$work/log3"; fi
# an equivalent whose line holds ' | ' itself (a bitwise or) is keyed by
# all of it: the reason is the last field
printf '%s\n' 'a.c:3 | constant-1 | cp = cp << 6 | (b & 0x3e); | only range-checked' >"$work/eq"
if /usr/bin/python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import mutate
eq = mutate.read_equiv(sys.argv[2])
sys.exit(eq != {("a.c:3", "constant-1", "cp = cp << 6 | (b & 0x3e);"): "only range-checked"})' \
       "$dir" "$work/eq"; then
    echo "ok    an equivalent's line may hold ' | '"
else echo "FAIL  an equivalent whose line holds ' | ' is not read"; bad=1; fi
# make mutate with its default FILES (a user's first run) draws mutants of
# mapped files only: every file of the list has tests in ci/mutate.map.
if (cd "$dir/.." && env -u FILES -u MAX -u SEED -u MAP -u ROOT sh ci/mutate.sh --list) \
       >"$work/deflist" 2>&1 &&
   /usr/bin/python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import mutate
rules = mutate.read_map(sys.argv[1] + "/mutate.map")
lines = open(sys.argv[2]).read().split("\n")
files = {l.split(":")[0] for l in lines[1:] if l}
sys.exit(not lines[0].startswith("60 mutants of ") or not files or
         any(not mutate.plan_for(rules, f)[1] for f in files))' "$dir" "$work/deflist"; then
    echo "ok    the default FILES are all mapped (make mutate --list draws 60)"
else echo "FAIL  the default FILES: sh ci/mutate.sh --list"; bad=1; sed 's/^/      /' "$work/deflist"; fi
# A test that leaves a process in a session of its own (setsid, as a
# mutant of nr_proc.c can have a test's children) and a directory in /tmp
# (a test killed before its teardown), on its normal end and when killed at
# its timeout: nothing of it is running once the runner has judged it (each
# test in a PID namespace of its own), and nothing is left in /tmp (a
# private /tmp of its own; its directory, here under /tmp, still seen).
mark=nrmutate-left-$$
cat >"$work/leave.sh" <<EOF
NRMUTATE_MARK=$mark setsid sleep 60 </dev/null >/dev/null 2>&1 &
mktemp -d /tmp/$mark.XXXXXX >/dev/null || exit 1
sleep 0.3
[ "\${1:-}" = hang ] && sleep 60
exit 0
EOF
left() { grep -lsz "^NRMUTATE_MARK=$mark\$" /proc/[0-9]*/environ | cut -d/ -f3; }
r=$(/usr/bin/python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import mutate
w = sys.argv[2]
print(mutate.sh("sh leave.sh", w, 20, w + "/leave.log", None),
      mutate.sh("sh leave.sh hang", w, 1, w + "/leave.log", None))' "$dir" "$work" 2>&1)
pids=$(left)
if [ "$r" = "ok timeout" ] && [ -z "$pids" ]; then
    echo "ok    a test's setsid'd process is gone once it is judged, ended or timed out"
else
    echo "FAIL  a test's setsid'd process outlives it: '$r', left running: $(echo $pids)"; bad=1
    for p in $pids; do kill -9 "$p"; done
fi
dirs=$(ls -d /tmp/"$mark".* 2>/dev/null)
if [ "$r" = "ok timeout" ] && [ -z "$dirs" ]; then
    echo "ok    a test's directories in /tmp are gone once it is judged, ended or timed out"
else
    echo "FAIL  a test left in /tmp: $(echo $dirs) ('$r')"; bad=1
    rm -rf $dirs
fi
[ "$bad" -eq 0 ] || sed 's/^/      /' "$work/table"
exit "$bad"
