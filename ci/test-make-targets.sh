#!/bin/sh
# The make targets the README and the docs name must run, not only parse
# (ci/test-readme.sh checks `make -n`): where nothing else in make check runs
# a target, a short smoke run of it here, with its output checked and, for
# the targets that judge something, a case it must fail.  Covered elsewhere
# in make check: check itself and deps (its first step), install, uninstall
# and man (ci/test-install.sh), fuzz (ci/test-fuzz-campaign.sh), mutate
# (ci/test-mutate.sh runs its engine), golden (ci/golden.sh check, without
# storing), the file targets of fuzz/README.md's preload example (built by
# fuzz-bench below, for tcp-greet).
#
# PART fuzz (make check runs it beside the unit tests, niced: it builds only into
# BUILD/smoke/selftest and BUILD/bench and reads BUILD/asan):
#   fuzz-selftest  SECONDS=20 FUZZ_CMPLOG=0 FUZZ_ASAN=0 on one planted bug
#                  (tcp-echo's ECHO_DROP_LAST, which the echo oracle finds at
#                  once: no sanitizer needed; the campaign stops at the find,
#                  the 20 s are a margin for a starved run); must fail: the same bug given
#                  to the tcp-greet harness, which cannot reach it, is MISSED
#                  after its 3 s.  The cheapest honest part: each planted
#                  bug needs the whole target code built again with
#                  afl-clang-fast (-D flag; 21 s of CPU without ASan and
#                  CmpLog, 31 s with ASan, twice that with CmpLog), so one
#                  bug is built, not the seven (minutes of CPU).  Built in
#                  BUILD/smoke, so a real selftest in BUILD never reuses
#                  these objects built without ASan.
#   fuzz-bench     SECONDS=1 FUZZER=tcp-greet: all five figures non-zero,
#                  the ratios, the thread cost; must fail: an unknown
#                  FUZZER.  Builds BUILD/bench once (42 s of CPU: the
#                  target code with afl-clang-fast, and plainly for the
#                  TCP baseline's server).
#   pcap-mutants   N=40 through BUILD/asan's replay-pcap; must fail: a
#                  stand-in replay-pcap that reports a sanitizer error
#                  (kept by make -o, so the script's own make leaves it).
# PART run (after the unit tests: these build or run BUILD/bin):
#   soak           one pass of one scenario; must fail on a failing one.
#   run            SCN=one scenario OUT=scratch: the HTML report, JUnit and
#                  artifacts; must fail: a failing scenario (report written).
#   bench-run      N1=1 R64=1 MIB=2 REPS=1: every table, the 64 MiB runs passed.
#   bench-proxy    RUNS=1 SAMPLES=3: every table (harness/bench/proxy_bench.sh
#                  belongs to the faults work; only invoked here).
#   fuzz-test      the fuzz library's tests through their make target.
# Nothing here needs a network or root beyond what make check needs.
#
#   sh ci/test-make-targets.sh [BUILD [fuzz|run|all]]   (fuzz: ~90 s alone,
#   mostly building; run: ~30 s)
set -u
mkb=${1:-build} # make's B= as given (make check: relative, as the README's commands)
build=$(cd "$mkb" && pwd)
part=${2:-all}
root=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/netrig-targets.XXXXXX")
trap 'rm -rf "$work"' EXIT
. "$root/ci/checks.sh"

# mk NAME ARGS...: make ARGS, output in $work/NAME.out, status in $work/NAME.rc
mk() {
    n=$1
    shift
    t0=$(date +%s)
    make --no-print-directory -C "$root" B="$mkb" NR_NODEPS=1 "$@" > "$work/$n.out" 2>&1
    echo $? > "$work/$n.rc"
    echo "      (make $1: $(($(date +%s) - t0)) s)"
}
rc() { cat "$work/$1.rc"; }
has() { grep -Eq "$2" "$work/$1.out"; } # has NAME REGEX: the output of NAME has a line matching
show() { tail -n 25 "$work/$1.out" | sed 's/^/      /'; }
printf 'target srv = tcp-greet --port 0\nconnect a = tcp ${srv}\nexpect a "nope" within 300ms\n' \
    > "$work/fails.scn"

if [ "$part" = fuzz ] || [ "$part" = all ]; then
    flag=NETRIG_PLANT_BUG_ECHO_DROP_LAST
    mk selftest fuzz-selftest B="$mkb/smoke" SECONDS=20 FUZZ_CMPLOG=0 FUZZ_ASAN=0 SELFTEST_BUGS=tcp-echo:ECHO_DROP_LAST
    check "make fuzz-selftest on one planted bug (exit $(rc selftest))" test "$(rc selftest)" = 0
    check "SECONDS is honoured, and the bug is found" sh -c "
        grep -q 'selftest tcp-echo: campaign of at most 20s with -D$flag' '$work/selftest.out' &&
        grep -q 'selftest tcp-echo: FOUND $flag after' '$work/selftest.out' &&
        grep -q '^fuzz: selftest: 1 found, 0 missed, 0 not planted' '$work/selftest.out'"
    [ $bad -eq 0 ] || show selftest
    mk selftest-miss fuzz-selftest B="$mkb/smoke" SECONDS=3 FUZZ_CMPLOG=0 FUZZ_ASAN=0 SELFTEST_BUGS=tcp-greet:ECHO_DROP_LAST
    check "must fail: a planted bug the campaign cannot reach is MISSED and fails make fuzz-selftest" sh -c "
        test '$(rc selftest-miss)' != 0 &&
        grep -q 'selftest tcp-greet: MISSED $flag in 3s' '$work/selftest-miss.out' &&
        grep -q '^fuzz: selftest: 0 found, 1 missed' '$work/selftest-miss.out' &&
        grep -q '== campaign summary: tcp-greet, 3s, 1 instance' '$build/smoke/selftest/ECHO_DROP_LAST.log'"

    mk bench fuzz-bench SECONDS=1 FUZZER=tcp-greet
    check "make fuzz-bench SECONDS=1 FUZZER=tcp-greet (exit $(rc bench))" test "$(rc bench)" = 0
    check "its table: five non-zero figures, three ratios, the thread cost" sh -c "
        grep -q '^== execs/s on one core, tcp-greet, 1s each ==' '$work/bench.out' &&
        test \$(grep -Ec '^(in-process|preload|tcp \\(AFLNet-style\\)|empty persistent|empty forkserver) +[1-9][0-9]*\\.[0-9]\$' \
             '$work/bench.out') = 5 &&
        test \$(grep -Ec '^in-process / |^preload / ' '$work/bench.out') = 3 &&
        grep -Eq '^one thread created and joined: [0-9.]+ us' '$work/bench.out'"
    [ "$(rc bench)" = 0 ] || show bench
    mk bench-bad fuzz-bench SECONDS=1 FUZZER=no-such-target
    check "must fail: make fuzz-bench with an unknown FUZZER (exit $(rc bench-bad))" sh -c "
        test '$(rc bench-bad)' != 0 && grep -q '^fuzz: bench: build failed' '$work/bench-bad.out'"

    mk mutants pcap-mutants N=40
    check "make pcap-mutants N=40 (exit $(rc mutants))" sh -c "test '$(rc mutants)' = 0 &&
        grep -Eq '^pcap_mutants: corpus \\([1-9][0-9]* [a-z]+\\) and 40 mutants: no sanitizer report, no oracle failure' \
             '$work/mutants.out'"
    [ "$(rc mutants)" = 0 ] || show mutants
    fake=$work/fake
    mkdir -p "$fake/asan/fuzz"
    printf '#!/bin/sh\necho "==1==ERROR: AddressSanitizer: stand-in report" >&2\nexit 86\n' \
        > "$fake/asan/fuzz/replay-pcap"
    chmod +x "$fake/asan/fuzz/replay-pcap"
    make --no-print-directory -C "$root" B="$fake" NR_NODEPS=1 -o "$fake/asan/fuzz/replay-pcap" \
        pcap-mutants N=5 > "$work/mutants-bad.out" 2>&1
    echo $? > "$work/mutants-bad.rc"
    check "must fail: make pcap-mutants when the replay reports a sanitizer error" sh -c "
        test '$(rc mutants-bad)' != 0 && grep -q '^pcap_mutants: FAILED (exit 86)' '$work/mutants-bad.out'"
fi

if [ "$part" = run ] || [ "$part" = all ]; then
    mk soak soak REPEAT=1 JOBS=1 SCN=harness/scenarios/tcp-greet/greeting.scn OUT="$work/soak"
    check "make soak REPEAT=1 on one scenario (exit $(rc soak))" test "$(rc soak)" = 0
    check "its summary counts the run, none failed" has soak '^soak: 1 runs in 1 passes, 0 not passed'
    mk soak-bad soak REPEAT=1 JOBS=1 SCN="$work/fails.scn" OUT="$work/soak2"
    check "must fail: make soak fails on a failing scenario" test "$(rc soak-bad)" != 0

    scn=harness/scenarios/tcp-greet/greeting.scn
    mk run run SCN=$scn OUT="$work/run"
    check "make run SCN=one scenario (exit $(rc run))" test "$(rc run)" = 0
    check "it prints the report's path; report, JUnit (1 test) and the kept artifacts exist" sh -c "
        grep -q '^report:    $work/run/index.html' '$work/run.out' &&
        grep -q 'greeting.scn' '$work/run/index.html' &&
        grep -q '<testsuites[^>]* tests=\"1\"' '$work/run/junit.xml' &&
        test -s '$work/run/artifacts/$scn/capture.pcap'"
    [ "$(rc run)" = 0 ] || show run
    mk run-bad run SCN="$work/fails.scn" OUT="$work/run2"
    check "must fail: make run on a failing scenario fails, and still writes the report with the failure" sh -c "
        test '$(rc run-bad)' != 0 && grep -q '^report:    $work/run2/index.html' '$work/run-bad.out' &&
        grep -q '<failure' '$work/run2/junit.xml'"

    mk bench-run bench-run N1=1 R64=1 MIB=2 REPS=1
    check "make bench-run N1=1 R64=1 MIB=2 REPS=1 (exit $(rc bench-run))" test "$(rc bench-run)" = 0
    check "every table: fixed cost per mode, the 64 MiB runs passed, capture rate vs tcpdump twice" sh -c "
        test \$(grep -Ec '^(capture|--no-capture|--no-netns) +[0-9.]+ +[0-9.]+ ' '$work/bench-run.out') = 3 &&
        grep -Eq '^capture adds -?[0-9.]+ ms per scenario at -j 2' '$work/bench-run.out' &&
        test \$(grep -Ec '^tcp-echo(-mt)?/64mib.scn .* 1/1 ' '$work/bench-run.out') = 3 &&
        test \$(grep -Ec '^netrig/tcpdump capture rate \\(bytes per CPU second\\): [0-9.]+\$' '$work/bench-run.out') = 2"
    [ "$(rc bench-run)" = 0 ] || show bench-run

    mk bench-proxy bench-proxy RUNS=1 SAMPLES=3
    check "make bench-proxy RUNS=1 SAMPLES=3 (exit $(rc bench-proxy))" test "$(rc bench-proxy)" = 0
    check "every table: the proxy's and socat's cost with and without capture, the latency toxic's accuracy, the relay floor" sh -c "
        test \$(grep -Ec '^(capture|no-capture) +[0-9]+ [0-9]+ [0-9]+ +[0-9]+ [0-9]+ [0-9]+ +[0-9]+ [0-9]+ [0-9]+ +[-+][0-9.]+% \([-+][0-9.]+%\) +[-+][0-9.]+% \([-+][0-9.]+%\)\$' '$work/bench-proxy.out') = 2 &&
        grep -Eq '^latency 20ms: [0-9.]+ ' '$work/bench-proxy.out' &&
        grep -Eq '^latency 100ms: [0-9.]+ ' '$work/bench-proxy.out' &&
        grep -Eq '^direct +[0-9]+ \( *[0-9]+- *[0-9]+\) +[0-9]+ ' '$work/bench-proxy.out' &&
        test \$(grep -Ec '^(copy|splice) +[0-9]+ .*%\$' '$work/bench-proxy.out') = 2 &&
        grep -Eq '^(sockmap +[0-9]+ .*%|sockmap: not available here .*)\$' '$work/bench-proxy.out'"
    [ "$(rc bench-proxy)" = 0 ] || show bench-proxy

    mk fuzz-test fuzz-test
    n=$(ls "$root"/fuzz/tests/test_*.c | wc -l)
    check "make fuzz-test (exit $(rc fuzz-test)): each of the $n fuzz library test programs passed" sh -c "
        test '$(rc fuzz-test)' = 0 && test \$(grep -c '^\[  PASSED  \]' '$work/fuzz-test.out') = $n"
fi
[ $bad -eq 0 ] && echo "test-make-targets ($part): all checks passed"
exit $bad
