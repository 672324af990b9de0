#!/bin/sh
# bench.sh [SECONDS [TARGET...]] - execs/s on one core, side by side, for
# each server target (default: tcp-echo tcp-time tcp-greet tcp-echo-mt),
# each under the same afl-fuzz settings for SECONDS (default 20):
#   in-process   $B/bench/fuzz/afl-TARGET (persistent, socketpairs)
#   preload      $B/bench/fuzz/aflbin-TARGET under AFL_PRELOAD (forkserver,
#                deferred to the listener's bind by AFL_DEFER_FORKSRV=1)
#   tcp          fuzz/bench/tcp_baseline.c replaying each input over real
#                TCP to a running $B/bench/bin/TARGET (AFLNet's way)
#   ceilings     an empty persistent harness and an empty forkserver program
#                (measured again for every target: the machine drifts)
# and, once, what creating and joining one thread costs here
# (fuzz/bench/thread_cost.c), the floor of an execution that serves a
# connection on a thread of its own, as tcp-echo-mt does.
# Everything is built without sanitizers in $B/bench.  Every afl-fuzz runs
# with the same random seed (-s $BENCH_SEED, default 1): what an instance
# costs per execution depends on the inputs it happens to generate, so a
# fixed seed makes runs repeatable (another seed gives another sample).
# Prints a table per target and the three ratios the project aims at.
# Exit 0; 1 when something could not be built or an instance gave no figure.
set -eu
cd "$(dirname "$0")/.."
. fuzz/common.sh

secs=${1:-20}
[ $# -gt 0 ] && shift
targets=${*:-tcp-echo tcp-time tcp-greet tcp-echo-mt}
B=$B/bench
# make must build into the same directory: the last B= on its command line wins
[ -z "${FUZZ_MAKE:-}" ] || FUZZ_MAKE="$FUZZ_MAKE B=$B"
export FUZZ_ASAN=0
bins="$B/fuzz/libnetrig-preload.so $B/fuzz/bench-empty-persistent $B/fuzz/bench-empty-fork"
bins="$bins $B/fuzz/bench-tcp-baseline $B/fuzz/bench-thread-cost"
for t in $targets; do
    bins="$bins $B/fuzz/afl-$t $B/fuzz/aflbin-$t $B/bin/$t"
done
# AFL_PRELOAD needs an absolute path (B may be either)
case $B in
/*) preload_lib=$B/fuzz/libnetrig-preload.so ;;
*) preload_lib=$PWD/$B/fuzz/libnetrig-preload.so ;;
esac
# shellcheck disable=SC2086 # a list of make targets
fz_make $bins >/dev/null || { fz_say "bench: build failed"; exit 1; }
fz_afl_env
work=$(mktemp -d "${TMPDIR:-/tmp}/netrig-bench.XXXXXX")
srv=""
cleanup() {
    [ -n "$srv" ] && kill "$srv" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# run NAME BINARY [ARGS...]: one afl-fuzz instance for secs; prints execs/s.
run() {
    name=$1
    shift
    rm -rf "${work:?}/$name"
    afl-fuzz -s "${BENCH_SEED:-1}" -i "$work/seeds" -o "$work/$name" -V "$secs" -- "$@" \
        > "$work/$name.log" 2>&1 || true
    eps=$(fz_stat "$work/$name/default/fuzzer_stats" execs_per_sec)
    if [ -z "$eps" ]; then
        fz_say "bench $name: no result; log:" >&2
        tail -n 5 "$work/$name.log" >&2
        eps=0
    fi
    echo "$eps"
}

# bench_target T: the five figures for server target T, then its ratios.
bench_target() {
    t=$1
    rm -rf "$work/seeds"
    mkdir -p "$work/seeds"
    cp fuzz/corpus/"$t"/* "$work/seeds/" 2>/dev/null || printf '\0\0\0\1x' > "$work/seeds/x"
    inproc=$(run inproc "$B/fuzz/afl-$t")
    preload=$(AFL_DEFER_FORKSRV=1 AFL_PRELOAD=$preload_lib \
              run preload "$B/fuzz/aflbin-$t" --port 0 -q)
    "$B/bin/$t" --port 0 -q > "$work/srv.out" 2>&1 &
    srv=$!
    addr=""
    for _ in $(seq 50); do
        addr=$(sed -n 's/^listening on //p' "$work/srv.out")
        [ -n "$addr" ] && break
        sleep 0.1
    done
    tcp=0
    if [ -n "$addr" ]; then
        tcp=$(NETRIG_BENCH_ADDR=$addr run tcp "$B/fuzz/bench-tcp-baseline")
    else
        fz_say "bench: $t did not start; no tcp baseline" >&2
    fi
    kill "$srv" 2>/dev/null || true
    srv=""
    persist=$(run empty-persistent "$B/fuzz/bench-empty-persistent")
    fork=$(run empty-fork "$B/fuzz/bench-empty-fork")
    for v in "$inproc" "$preload" "$tcp" "$persist" "$fork"; do
        [ "$v" != 0 ] || missing=1
    done

    echo
    echo "== execs/s on one core, $t, ${secs}s each =="
    for row in "in-process:$inproc" "preload:$preload" "tcp (AFLNet-style):$tcp" \
               "empty persistent:$persist" "empty forkserver:$fork"; do
        printf '%-20s %12.1f\n' "${row%:*}" "${row##*:}"
    done
    awk -v i="$inproc" -v p="$preload" -v b="$tcp" -v ep="$persist" -v ef="$fork" 'BEGIN {
        r(i, ep, "in-process / empty persistent", "%", 50)
        r(p, ef, "preload / empty forkserver", "%", 50)
        r(i, b, "in-process / tcp baseline", "x", 100)
    }
    function r(a, d, what, unit, goal) {
        if (d <= 0) { printf "%-31s n/a\n", what; return }
        v = unit == "%" ? 100 * a / d : a / d
        printf "%-31s %7.1f%s   (aim: %d%s)\n", what, v, unit, goal, unit
    }'
}

missing=0
for t in $targets; do
    bench_target "$t"
done
echo
echo "one thread created and joined: $(taskset -c 0 "$B/fuzz/bench-thread-cost" 2>/dev/null ||
    "$B/fuzz/bench-thread-cost") us (the empty persistent harness's whole execution: 1e6 / its execs/s)"
if [ "$missing" -ne 0 ]; then
    fz_say "bench: some figures are missing (0 above): see the messages before the tables"
    exit 1
fi
