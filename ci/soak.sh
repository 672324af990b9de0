#!/bin/sh
# `make soak`: the flake budget.  Runs the bundled scenario suite (or the
# scenarios in SCN) REPEAT times, JOBS scenarios at once, while a busy loop
# spins on every CPU, keeps the artifacts of every failure and ends with a
# summary: runs, failures per scenario, total time.  Exits 1 on any failure.
#
#   sh ci/soak.sh [BUILD]        BUILD defaults to build
#   REPEAT=20                    full passes over the scenarios
#   JOBS=<CPUs>                  netrig run -j
#   SCN="a.scn dir ..."          what to soak (default harness/scenarios)
#   OUT=BUILD/soak               per-pass logs and artifacts (emptied first)
#   SEEDS=random                 each pass gets a fresh --seed for the fault
#                                proxies (named in its log line)
set -eu
build=${1:-build}
ncpu=$(nproc 2>/dev/null || echo 2)
repeat=${REPEAT:-20}
jobs=${JOBS:-$ncpu}
scn=${SCN:-harness/scenarios}
out=${OUT:-$build/soak}
netrig=$build/bin/netrig
[ -x "$netrig" ] || { echo "soak: $netrig missing (make B=$build)" >&2; exit 2; }

rm -rf "$out"
mkdir -p "$out"
spinners=""
runner=""
# Stop the spinners and a running pass, by their ids, however we leave.
cleanup() {
    # shellcheck disable=SC2086 # word splitting of the id lists is intended
    kill $spinners $runner 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# One busy loop per CPU; each also ends by itself once this script is gone
# (even after a SIGKILL), checking every 100000 turns.
i=0
while [ "$i" -lt "$ncpu" ]; do
    sh -c 'while kill -0 "$1" 2>/dev/null; do n=0
               while [ "$n" -lt 100000 ]; do n=$((n + 1)); done; done' spin $$ &
    spinners="$spinners $!"
    i=$((i + 1))
done

echo "soak: $repeat x ($scn), -j $jobs, $ncpu busy loops; logs in $out/"
start=$(date +%s)
# netrig run's result lines: the verdict, two or more spaces, the scenario;
# anything but PASS counts against the budget (a skip tested nothing).
res='^(PASS|FAIL|ERROR|SKIP|NOT RUN)  '
bad='^(FAIL|ERROR|SKIP|NOT RUN)  '
errors=0
pass=1
while [ "$pass" -le "$repeat" ]; do
    dir=$out/pass-$pass
    seedopt=""
    [ "${SEEDS:-}" = random ] && seedopt="--seed $(od -An -N4 -tu4 /dev/urandom | tr -d ' ')"
    # In the background so that a signal reaches our trap at once.
    # shellcheck disable=SC2086 # SCN is a list of paths, seedopt an option and its value
    "$netrig" run -j "$jobs" $seedopt --artifacts "$dir" $scn >"$dir.log" 2>&1 &
    runner=$!
    rc=0
    wait "$runner" || rc=$?
    runner=""
    # 0: all passed, 1: some failed; anything else is the runner's own failure
    case $rc in
    0 | 1) ;;
    *) errors=$((errors + 1)); echo "soak: pass $pass: netrig run exited $rc (see $dir.log)" ;;
    esac
    nbad=$(grep -Ec "$bad" "$dir.log" || true)
    echo "soak: pass $pass/$repeat${seedopt:+ ($seedopt)}: $(grep '^scenarios: ' "$dir.log" || echo 'no summary')"
    [ "$nbad" -eq 0 ] && [ "$rc" -eq 0 ] && rm -rf "$dir"
    pass=$((pass + 1))
done
secs=$(($(date +%s) - start))

# Summary: each failing scenario with its count, then every failure's message.
runs=$(cat "$out"/pass-*.log | grep -Ec "$res" || true)
fails=$(cat "$out"/pass-*.log | grep -Ec "$bad" || true)
echo
echo "soak: $runs runs in $repeat passes, $fails not passed, $errors runner errors, ${secs}s"
if [ "$fails" -gt 0 ]; then
    echo "failures per scenario:"
    cat "$out"/pass-*.log | grep -E "$bad" | sed -E "s/$bad+([^ ]+).*/\2 (\1)/" |
        sort | uniq -c | sort -rn
    echo "messages (first lines) and artifacts:"
    awk -v res="$res" -v bad="$bad" '
        $0 ~ res { n = 0; p = $0 ~ bad; if (p) print FILENAME ": " $0; next }
        p && /^  artifacts: / { print; p = 0; next }
        p && n++ < 3 { print }' "$out"/pass-*.log | sed 's/^/  /'
fi
[ "$fails" -eq 0 ] && [ "$errors" -eq 0 ]
