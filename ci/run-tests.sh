#!/bin/sh
# Run every test of a build: each cmocka binary in BUILD/tests (normal build)
# and again in ASAN_BUILD/tests (ASan+UBSan, halt on first error) with the
# targets of that same build, then the scenario suite and fuzz regressions
# when present.  Prints one line per test program and a closing
# "N passed, N failed in S s" line; exits non-zero if anything failed.
set -u
build=${1:-build}
asan=${2:-build/asan}
pass=0
fail=0
failed=""
started=$(date +%s%N)
logdir=$build/test-logs
mkdir -p "$logdir"

export ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:detect_leaks=1:exitcode=86
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87
export CMOCKA_MESSAGE_OUTPUT=stdout

# took T0: the seconds since T0 (date +%s%N), to a tenth
took() {
    echo "$(date +%s%N) $1" | awk '{ printf "%.1f", ($1 - $2) / 1e9 }'
}

# run NAME CMD... : run one test program, log its output, tally the result,
# and say how long it took (wall time: make check's budget is 10 minutes).
# A test that skipped a case (cmocka's "[  SKIPPED ]": no tshark, no IPv6
# loopback...) did not pass: it is counted as failed, with the reason.
run() {
    name=$1
    shift
    log="$logdir/$(echo "$name" | tr '/ ' '__').log"
    t0=$(date +%s%N)
    if timeout -k 5 600 "$@" >"$log" 2>&1 && ! grep -q '^\[  SKIPPED \]' "$log"; then
        pass=$((pass + 1))
        echo "ok    $name  ($(took "$t0") s)"
    else
        fail=$((fail + 1))
        failed="$failed $name"
        echo "FAIL  $name (log: $log, $(took "$t0") s)"
        tail -n 40 "$log" | sed 's/^/      /'
    fi
}

# The unit tests of the two builds run two at a time (most of their time is
# spent waiting on sockets, timers and child processes), taken from one queue
# by two streams, so neither stream idles while the other still has tests
# (the ASan programs take half as long again as the plain ones); the known
# slow programs are queued first.  Each stream prints its lines when it is
# done, then "TALLY passed failed names...".
queue=$logdir/units.queue
slow='/test_runner$|/test_runner_targets$|/test_http_client$|/test_pcap_cmd$|/test_smtp_cli$'
for variant in "$build" "$asan"; do
    [ -d "$variant/tests" ] || continue
    for t in "$variant"/tests/test_*; do
        [ -x "$t" ] && printf '%s\t%s\n' "$variant" "$t"
    done
done >"$queue.all"
{ grep -E "$slow" "$queue.all"; grep -Ev "$slow" "$queue.all"; } >"$queue"
rm -f "$queue.all"

# next_unit: the next "VARIANT<tab>TEST" line of the queue, taken off it;
# empty when the queue is empty (or the queue failed: what is left in it is
# counted as failed below)
next_unit() {
    flock -w 60 "$queue.lock" sh -c 'head -n 1 "$1" && sed -i 1d "$1"' next_unit "$queue"
}

units() {
    pass=0
    fail=0
    failed=""
    while line=$(next_unit) && [ -n "$line" ]; do
        variant=${line%%	*}
        t=${line#*	}
        NR_BIN=$variant/bin run "$t" "$t"
    done
    echo "TALLY $pass $fail$failed"
}
streams=""
for n in 1 2; do
    out="$logdir/units.$n.out"
    units >"$out" 2>&1 &
    streams="$streams $out"
done
# Beside them, the smoke runs of the fuzz and bench make targets (mostly
# compiling into $build/smoke and $build/bench, which nothing else uses), at
# the lowest priority: they take the CPU the unit tests leave idle, and never
# delay a test that waits on a timer.
if [ -x "$build/bin/netrig" ]; then
    out="$logdir/make-targets-fuzz.out"
    { pass=0 fail=0 failed=""
      run "make targets the docs name: fuzz-selftest, fuzz-bench, pcap-mutants" \
          nice -n 19 sh ci/test-make-targets.sh "$build" fuzz
      echo "TALLY $pass $fail$failed"; } >"$out" 2>&1 &
    streams="$streams $out"
fi
wait
for out in $streams; do
    grep -v '^TALLY ' "$out"
    set -- $(sed -n 's/^TALLY //p' "$out")
    if [ $# -ge 2 ]; then
        pass=$((pass + $1))
        fail=$((fail + $2))
        shift 2
        for n in "$@"; do failed="$failed $n"; done
    else
        fail=$((fail + 1))
        failed="$failed units($out)"
        echo "FAIL  unit tests of $out: the stream did not finish"
    fi
done
# a test the streams never took (the queue failed) is not a pass
while IFS='	' read -r variant t; do
    fail=$((fail + 1))
    failed="$failed $t"
    echo "FAIL  $t: never run (the unit test queue failed)"
done <"$queue"

if [ -x "$build/bin/netrig" ] && [ -d harness/scenarios ]; then
    rm -rf "$build/artifacts"
    run "scenario suite" "$build/bin/netrig" run -j 2 --keep --junit "$build/junit.xml" \
        --artifacts "$build/artifacts" harness/scenarios
    run "golden captures" sh ci/golden.sh check "$build" "$build/artifacts"
    run "reference examples" "$build/bin/netrig" run -j 2 --artifacts "$build/artifacts-examples" \
        harness/doc/examples
    if [ -d "$asan/bin" ]; then # the targets under ASan+UBSan: any report fails its scenario
        run "scenario suite (asan targets)" "$build/bin/netrig" run -j 2 --time-scale 3 \
            --bin "$(cd "$asan/bin" && pwd)" --artifacts "$asan/artifacts" harness/scenarios
    fi
fi

# ThreadSanitizer (make check builds $build/tsan): tcp-echo-mt's tests against
# its TSan build (a race or an unjoined thread makes the target exit 66), and
# the TSan runner on threaded scenarios, parallel blocks included.
tsan=$build/tsan
export TSAN_OPTIONS=halt_on_error=1:exitcode=66
if [ -x "$tsan/tests/test_srv_echo_mt" ] && [ -x "$tsan/bin/tcp-echo-mt" ]; then
    NR_BIN=$tsan/bin NR_TEST_SKIP=sizes run "$tsan/tests/test_srv_echo_mt (tsan)" \
        "$tsan/tests/test_srv_echo_mt"
fi
if [ -x "$tsan/bin/netrig" ] && [ -x "$build/bin/tcp-echo-mt" ]; then
    run "threaded scenarios (tsan netrig)" "$tsan/bin/netrig" run -j 2 \
        --bin "$(cd "$build/bin" && pwd)" --artifacts "$tsan/artifacts" \
        harness/scenarios/tcp-echo-mt/hundred-clients.scn harness/scenarios/tcp-echo-mt/max-conns.scn \
        harness/scenarios/tcp-echo-mt/stalled-client.scn \
        harness/scenarios/tcp-echo-mt/fault-clients.scn harness/scenarios/udp-echo/fault-reorder.scn \
        harness/scenarios/http-get/fault-limit-data.scn
fi

if [ -x "$build/bin/netrig" ]; then
    run "broken target is caught" sh ci/test-broken-target.sh "$build"
    run "must-fail scenarios" sh ci/test-must-fail.sh "$build"
    run "README commands" sh ci/test-readme.sh "$build"
    run "guide commands" sh ci/test-guide.sh "$build"
    run "CI reports: streaming, JSON, JUnit, GitHub, shards, artifacts" sh ci/test-report.sh "$build"
    run "make install and uninstall" sh ci/test-install.sh "$build"
    run "make targets the docs name: soak, run, bench-run, bench-proxy" sh ci/test-make-targets.sh "$build" run
    run "HTML report in Chromium" sh ci/test-html.sh "$build"
fi

run "ClusterFuzzLite build" sh ci/test-clusterfuzzlite.sh "$build"
run "CI workflow files" sh ci/test-workflows.sh
run "make fuzz: a planted crash fails it, progress, graphs" sh ci/test-fuzz-campaign.sh "$build"
run "mutation runner" sh ci/test-mutate.sh

for replay in "$asan"/fuzz/replay-*; do
    [ -x "$replay" ] || continue
    name=${replay##*/replay-}
    dirs=""
    for d in fuzz/corpus/$name fuzz/regressions/$name; do
        [ -d "$d" ] && dirs="$dirs $d"
    done
    [ -n "$dirs" ] && run "fuzz replay $name (asan)" "$replay" $dirs
done

echo
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed in $(took "$started") s"
[ "$fail" -eq 0 ]
