#!/bin/sh
# harness/bench/proxy_bench.sh [BUILD] - what the fault proxy costs.
#
# 1. A 64 MiB echo through tcp-echo-mt, direct, through a proxy with no
#    toxic, and through socat (a plain user-space relay, the baseline: what
#    any relay's two extra loopback connections cost), side by side, RUNS
#    times each (interleaved), with and without the packet capture; the
#    figure is the send and expect steps' wall time from each run's step
#    log (median, min, max), and the cost: the median of each round's
#    ratio to the direct run of the same round (on a shared machine the
#    speed drifts between rounds more than a relay costs), and the ratio
#    of the medians.
# 2. Latency accuracy: `latency 20ms` and `latency 100ms` on the way up,
#    SAMPLES round trips of a byte each through an echo server: the measured
#    one-way delay (round trip minus the direct round trip) at the median.
# 3. Other relays: harness/bench/relay_floor.c echoes the same 64 MiB
#    through tcp-echo-mt direct, through minimal user-space relays (a
#    blocking copy thread and a splice thread per direction) and through a
#    kernel relay (a BPF sockmap redirect; root only), wall time and the
#    machine's CPU.
# Prints a table (harness/doc/faults.md quotes one) and the load average
# before and after (figures taken on a busy machine are inflated by waiting
# for a CPU: say so when quoting them).  RUNS=5 SAMPLES=50.
set -eu
build=${1:-build}
runs=${RUNS:-5}
samples=${SAMPLES:-50}
netrig=$build/bin/netrig
[ -x "$netrig" ] || { echo "proxy_bench: $netrig missing (make B=$build)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/proxy-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

cat >"$work/direct.scn" <<'SCN'
deadline 120s
target srv = tcp-echo-mt --port 0
connect a = tcp ${srv}
send a pattern 67108864
expect a pattern 67108864 within 60s
close a
SCN
cat >"$work/proxied.scn" <<'SCN'
deadline 120s
target srv = tcp-echo-mt --port 0
proxy p = tcp ${srv}
connect a = tcp ${p}
send a pattern 67108864
expect a pattern 67108864 within 60s
close a
SCN
# socat relays one connection (-b: its read/write size; 1 MiB, as the
# proxy's pipe, larger than socat's 8 KiB default) and exits 0 when both
# sides have closed.
cat >"$work/socat.scn" <<'SCN'
deadline 120s
target srv = tcp-echo-mt --port 0
target relay ready port 9100 = socat -b 1048576 TCP-LISTEN:9100,reuseaddr TCP:${srv}
connect a = tcp ${relay}
send a pattern 67108864
expect a pattern 67108864 within 60s
close a
exit relay 0 within 10s
SCN
command -v socat >/dev/null || { echo "proxy_bench: socat missing (make deps)" >&2; exit 2; }

# The 1-minute load average.
load() {
    cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?"
}
load_before=$(load)

# The wall time (ms) of the transfer: the send step and the expect step.
step_ms() {
    sed -n 's/.* a pattern 67108864.*  \[ok, \([0-9.]*\) ms\]/\1/p' "$1" |
        awk '{ t += $1 } END { printf "%.1f\n", t }'
}

# The median m of v[1..NR], sorted (awk, for the END blocks below).
med='m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2'

# median [DIGITS]: the median of the numbers on standard input, one per
# line, to DIGITS decimals (6)
median() {
    sort -n | awk -v d="${1:-6}" "{ v[NR] = \$1 } END { $med; printf \"%.\" d \"f\", m }"
}

# paired BASE FILE: the median of FILE's ratios to BASE, line by line
# (round by round), as a cost in percent
paired() {
    paste "$1" "$2" | awk '{ print $2 / $1 }' | median |
        awk '{ printf "%+.1f%%", ($1 - 1) * 100 }'
}

# stats FILE [DIGITS]: median min max of the numbers in FILE, one per
# line, to DIGITS decimals (0)
stats() {
    sort -n "$1" | awk -v d="${2:-0}" "{ v[NR] = \$1 } END { $med
        f = \"%.\" d \"f\"; printf f \" \" f \" \" f, m, v[1], v[NR] }"
}

# The capture gets a 256 MiB ring (the default is 24 MiB): through the
# proxy every byte is captured twice, and the runner's pacing counts it
# once, so a fast 64 MiB echo sometimes overran the default ring (about 1
# run in 60 at load 3); socat's bytes are not paced at all (the runner
# paces only what it and its proxies move), and a 64 MiB ring lost a
# frame of them.  A lost frame makes the run an error and stops the bench.
for cap in capture no-capture; do
    opt="--capture-buffer 256M"
    [ "$cap" = no-capture ] && opt=--no-capture
    : >"$work/direct.$cap"
    : >"$work/proxied.$cap"
    : >"$work/socat.$cap"
    i=0
    while [ "$i" -lt "$runs" ]; do
        for kind in direct proxied socat; do
            rm -rf "$work/art"
            # shellcheck disable=SC2086 # opt is one or two words
            "$netrig" run $opt -k -a "$work/art" "$work/$kind.scn" >"$work/out" 2>&1 ||
                { cat "$work/out"; exit 1; }
            step_ms "$(find "$work/art" -name steps.log)" >>"$work/$kind.$cap"
        done
        i=$((i + 1))
    done
done

echo "64 MiB echo through tcp-echo-mt, $runs runs each (send + expect steps, ms: median min max)"
echo "load average (1 min): $load_before before, $(load) after the echoes"
echo "cost: the median of the rounds' ratios to direct (in brackets: the ratio of the medians)"
printf '%-12s %-16s %-16s %-16s %-18s %s\n' capture direct proxied socat \
    "proxy cost" "socat cost"
for cap in capture no-capture; do
    d=$(stats "$work/direct.$cap")
    p=$(stats "$work/proxied.$cap")
    s=$(stats "$work/socat.$cap")
    printf '%-12s %-16s %-16s %-16s %-18s %s\n' "$cap" "$d" "$p" "$s" \
        "$(paired "$work/direct.$cap" "$work/proxied.$cap") ($(echo "$d $p" |
            awk '{ printf "%+.1f%%", ($4 - $1) * 100 / $1 }'))" \
        "$(paired "$work/direct.$cap" "$work/socat.$cap") ($(echo "$d $s" |
            awk '{ printf "%+.1f%%", ($4 - $1) * 100 / $1 }'))"
done

# Latency accuracy: SAMPLES round trips of one byte, direct and through
# `latency MS` up; the step log's per-step times give each round trip.
for ms in 0 20 100; do
    {
        echo "deadline 120s"
        echo "target srv = tcp-echo --port 0"
        echo "proxy p = tcp \${srv}"
        [ "$ms" -gt 0 ] && echo "fault p up latency ${ms}ms"
        echo "connect a = tcp \${p}"
        echo "repeat $samples"
        echo "    send a \"x\""
        echo "    expect a \"x\" within 1s"
        echo "end"
    } >"$work/lat$ms.scn"
    rm -rf "$work/art"
    "$netrig" run --no-capture -k -a "$work/art" "$work/lat$ms.scn" >"$work/out" 2>&1 ||
        { cat "$work/out"; exit 1; }
    # a round trip: the send step and the expect step after it
    sed -n 's/.* a "x".*  \[ok, \([0-9.]*\) ms\]/\1/p' "$(find "$work/art" -name steps.log)" |
        awk 'NR % 2 { s = $1; next } { printf "%.3f\n", s + $1 }' >"$work/lat$ms"
done
base=$(median 3 <"$work/lat0")
echo
echo "latency toxic accuracy, $samples round trips of 1 byte (ms: median min max of the one-way delay added)"
for ms in 20 100; do
    awk -v b="$base" '{ print $1 - b }' "$work/lat$ms" >"$work/lat$ms.d"
    echo "latency ${ms}ms: $(stats "$work/lat$ms.d" 2)  (direct round trip, median: ${base} ms)"
done

# The floor under any relay, netrig's or another: see relay_floor.c.
echo
${CC:-cc} -std=gnu11 -O2 -pthread -o "$work/relay_floor" harness/bench/relay_floor.c
"$work/relay_floor" --runs "$runs" "$build/bin/tcp-echo-mt"
