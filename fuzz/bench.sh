#!/bin/sh
# bench.sh [SECONDS [TARGET]] - execs/s on one core, side by side, for one
# server target (default tcp-echo), each under the same afl-fuzz settings for
# SECONDS (default 20):
#   in-process   $B/bench/fuzz/afl-TARGET (persistent, socketpairs)
#   preload      $B/bench/fuzz/aflbin-TARGET under AFL_PRELOAD (forkserver,
#                deferred to the listener's bind by AFL_DEFER_FORKSRV=1)
#   tcp          fuzz/bench/tcp_baseline.c replaying each input over real
#                TCP to a running $B/bench/bin/TARGET (AFLNet's way)
#   ceilings     an empty persistent harness and an empty forkserver program
# Everything is built without sanitizers in $B/bench.  Prints a table and the
# ratio of each to the tcp baseline.  Exit 0, or 1 on setup failure.
set -eu
cd "$(dirname "$0")/.."
. fuzz/common.sh

secs=${1:-20}
t=${2:-tcp-echo}
B=$B/bench
export FUZZ_ASAN=0
fz_make "$B/fuzz/afl-$t" "$B/fuzz/aflbin-$t" "$B/bin/$t" "$B/fuzz/libnetrig-preload.so" \
    "$B/fuzz/bench-empty-persistent" "$B/fuzz/bench-empty-fork" "$B/fuzz/bench-tcp-baseline" >/dev/null
fz_afl_env
work=$(mktemp -d "${TMPDIR:-/tmp}/netrig-bench.XXXXXX")
srv=""
cleanup() {
    [ -n "$srv" ] && kill "$srv" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

mkdir -p "$work/seeds"
cp fuzz/corpus/"$t"/* "$work/seeds/" 2>/dev/null || printf '\0\0\0\1x' > "$work/seeds/x"

# run NAME BINARY [ARGS...]: one afl-fuzz instance for secs; prints execs/s.
run() {
    name=$1
    shift
    afl-fuzz -i "$work/seeds" -o "$work/$name" -V "$secs" -- "$@" > "$work/$name.log" 2>&1 || true
    eps=$(fz_stat "$work/$name/default/fuzzer_stats" execs_per_sec)
    if [ -z "$eps" ]; then
        fz_say "bench $name: no result; log:" >&2
        tail -n 5 "$work/$name.log" >&2
        eps=0
    fi
    echo "$eps"
}

inproc=$(run inproc "$B/fuzz/afl-$t")
preload=$(AFL_DEFER_FORKSRV=1 AFL_PRELOAD=$PWD/$B/fuzz/libnetrig-preload.so run preload "$B/fuzz/aflbin-$t" --port 0 -q)
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

echo
echo "== execs/s on one core, $t, ${secs}s each =="
for row in "in-process:$inproc" "preload:$preload" "tcp (AFLNet-style):$tcp" \
           "empty persistent:$persist" "empty forkserver:$fork"; do
    v=${row##*:}
    awk -v n="${row%:*}" -v v="$v" -v b="$tcp" \
        'BEGIN { printf "%-20s %12.1f", n, v; if (b > 0) printf "   x%.1f vs tcp", v / b; print "" }'
done
