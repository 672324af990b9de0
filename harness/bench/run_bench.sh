#!/bin/sh
# run_bench.sh - what capture costs a scenario of `netrig run`, in one run.
#
# usage: harness/bench/run_bench.sh [BUILD_DIR]   (default build; `make bench-run`)
#   env: N1=200 one-step scenarios per mode, R64=8 runs of each 64 MiB scenario,
#        MIB / REPS: MiB per capture-rate transfer and transfers per capturer
#        (128/3 paced at RATE=200 MiB/s, then 256/2 unpaced)
#
# 1. Fixed cost: N1 one-step scenarios (`sleep 1ms`) at -j 1 and -j 2, with
#    capture, --no-capture and --no-netns: wall ms per scenario, and the peak
#    RSS of the scenario processes (the "peak RSS" line of each steps.log).
# 2. harness/scenarios/tcp-echo{,-mt}/64mib.scn, R64 runs at -j 8: wall time,
#    passed, packets and kernel drops ("capture: N packets, M dropped" of each
#    steps.log), peak RSS when the capture ended and at the end (after the
#    wire judge); tcp-echo's again with --no-capture for the share of the
#    rest of the scenario process.
# 3. The real-peer baseline: harness/bench/cap_rate.c captures the same kind
#    of loopback transfer with netrig's capture and with `tcpdump -w`, in a
#    namespace of its own, alternately, and prints the ratio of the rates
#    (frame bytes written per CPU second of the capturer): once paced at
#    RATE MiB/s, once as fast as TCP on lo goes (a stress: both drop).
set -eu
build=${1:-build}
n1=${N1:-200}
r64=${R64:-8}
netrig=$build/bin/netrig
tmp=$(mktemp -d /tmp/run-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

make -s -j2 B="$build" bins
command -v tcpdump >/dev/null 2>&1 || { echo "run_bench: tcpdump not installed" >&2; exit 2; }
${CC:-cc} -std=gnu11 -O2 -pthread -Iharness/lib $(pkg-config --cflags libpcap 2>/dev/null) \
    -o "$tmp/cap_rate" harness/bench/cap_rate.c harness/src/run_capture.c "$build/libnr.a" \
    $(pkg-config --libs libpcap 2>/dev/null || echo -lpcap)

now_ms() { date +%s%3N; }

# rss_of DIR: "max median" of the peak RSS lines (KiB) under DIR.
rss_of() {
    find "$1" -name steps.log -exec cat {} + | sed -n 's/.*peak RSS of the scenario process: \([0-9]*\) KiB.*/\1/p' |
        sort -n | awk '{v[NR] = $1} END {if (NR) printf "%d %d", v[NR], v[int((NR + 1) / 2)]; else printf "- -"}'
}

echo "machine: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), \
$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), Linux $(uname -r), \
load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'sleep 1ms\n' >"$tmp/one.scn"

echo
echo "1. fixed cost: $n1 one-step scenarios (sleep 1ms) per cell"
printf '%-14s %12s %12s %16s %16s\n' mode "-j 1 ms/scn" "-j 2 ms/scn" "peak RSS max KiB" "peak RSS median"
for mode in capture --no-capture --no-netns; do
    flag=$mode
    [ "$mode" = capture ] && flag=
    line=$(printf '%-14s' "$mode")
    for j in 1 2; do
        rm -rf "$tmp/a"
        t0=$(now_ms)
        "$netrig" run -j "$j" -r "$n1" --keep --artifacts "$tmp/a" $flag "$tmp/one.scn" \
            >"$tmp/out" 2>&1 || { tail -5 "$tmp/out" >&2; exit 1; }
        t1=$(now_ms)
        line="$line $(awk -v t=$((t1 - t0)) -v n="$n1" 'BEGIN {printf "%12.1f", t / n}')"
        eval "ms_${j}_$(echo "$mode" | tr -dc 'a-z')=$((t1 - t0))"
        [ "$j" = 1 ] && rss=$(rss_of "$tmp/a")
    done
    echo "$line $(echo "$rss" | awk '{printf "%16s %16s", $1, $2}')"
done
for j in 1 2; do
    eval "c=\$ms_${j}_capture n=\$ms_${j}_nocapture"
    awk -v c="$c" -v n="$n" -v j="$j" -v k="$n1" 'BEGIN {printf "capture adds %.1f ms per scenario at -j %d (%.2fx the --no-capture time)\n", (c - n) / k, j, c / n}'
done
rm -rf "$tmp/a"

echo
echo "2. 64 MiB echo scenarios, $r64 runs each at -j 8"
printf '%-28s %7s %7s %8s %6s %13s %13s\n' scenario "wall s" passed packets drops "RSS@stop KiB" "peak RSS KiB"
for spec in tcp-echo: tcp-echo-mt: tcp-echo:--no-capture; do
    s=${spec%%:*}
    flag=${spec#*:}
    rm -rf "$tmp/b"
    t0=$(now_ms)
    "$netrig" run -j 8 -r "$r64" --keep --artifacts "$tmp/b" $flag "harness/scenarios/$s/64mib.scn" \
        >"$tmp/out" 2>&1 || true
    t1=$(now_ms)
    passed=$(sed -n 's/^scenarios: \([0-9]*\) passed.*/\1/p' "$tmp/out")
    stats=$(find "$tmp/b" -name steps.log -exec cat {} + | awk '/capture: [0-9]+ packets, [0-9]+ dropped/ {p += $3; d += $5; n++
        if ($(NF - 1) > m) m = $(NF - 1)} END {if (n) printf "%d %d %d", p, d, m; else printf "- - -"}')
    printf '%-28s %7.1f %7s %8s %6s %13s %13s\n' "$s/64mib.scn ${flag:-}" "$(echo "$t0 $t1" | awk '{print ($2 - $1) / 1000}')" \
        "${passed:-?}/$r64" ${stats} "$(rss_of "$tmp/b" | cut -d' ' -f1)"
    grep -h "capture lost\|timeout:" "$tmp/out" | sort | uniq -c | sed 's/^/    /' | head -5
done
rm -rf "$tmp/b"

echo
echo "3. capture rate against tcpdump -w (the real peer)"
mkdir -p "$tmp/c"
cap_rate() {
    if [ "$(id -u)" = 0 ]; then
        "$tmp/cap_rate" "$@" "$tmp/c"
    else
        CAP_RATE_IN_NETNS=1 unshare -r -n "$tmp/cap_rate" "$@" "$tmp/c"
    fi
}
cap_rate --mib "${MIB:-128}" --reps "${REPS:-3}" --rate "${RATE:-200}"
echo
cap_rate --mib "${MIB:-256}" --reps "${REPS:-2}"
echo
echo "load average at end $(cut -d' ' -f1-3 /proc/loadavg)"
