#!/bin/sh
# pcap_bench.sh - time `netrig pcap summary` against tshark and tcpdump.
#
# usage: harness/bench/pcap_bench.sh [SIZE_MB [BUILD_DIR [REPS]]]
#        (default 1024, build, 5)
#   env: BASE=PATH  also time another netrig binary (say, of an older
#                   commit) in the same rounds, as "base"
#        NO_TSHARK=1 skip tshark (it takes ~25 s and ~1.8 GB per GiB)
#
# Builds harness/bench/gen_pcap.c, writes a SIZE_MB synthetic loopback
# capture (interleaved TCP connections with retransmissions and resets, UDP
# pairs) into a temporary directory, reads it once to warm the page cache,
# then runs REPS rounds, each timing in turn:
#   tcpdump -r FILE -w /dev/null        (raw libpcap read speed)
#   netrig pcap summary FILE            (and $BASE pcap summary FILE)
# and once:
#   tshark -r FILE -q -z conv,tcp
# with /usr/bin/time (wall seconds, CPU seconds, peak RSS).  Prints the
# median, the fastest and the slowest wall time of each reader, its median
# CPU time (user + system: less disturbed by other jobs on a loaded
# machine than the wall time), the load average before and after, and the
# ratios of the medians.  Targets (issue 14): netrig >= 80%
# of tcpdump's speed, >= 5x tshark, peak RSS < 100 MB.
set -eu
size=${1:-1024}
build=${2:-build}
reps=${3:-5}
netrig=$build/bin/netrig
tmp=$(mktemp -d /tmp/pcap-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

[ -x "$netrig" ] || { echo "pcap_bench: $netrig not built (make)" >&2; exit 2; }
for t in tcpdump /usr/bin/time; do
    command -v "$t" >/dev/null 2>&1 || { echo "pcap_bench: $t not installed" >&2; exit 2; }
done
if [ -z "${NO_TSHARK:-}" ] && ! command -v tshark >/dev/null 2>&1; then
    echo "pcap_bench: tshark not installed (NO_TSHARK=1 to skip it)" >&2
    exit 2
fi

${CC:-cc} -O2 -Iharness/tests -Iharness/lib $(pkg-config --cflags libpcap 2>/dev/null) \
    -o "$tmp/gen_pcap" harness/bench/gen_pcap.c
"$tmp/gen_pcap" "$tmp/bench.pcap" "$size"
bytes=$(stat -c %s "$tmp/bench.pcap")
cat "$tmp/bench.pcap" >/dev/null

# measure NAME CMD... : appends "NAME secs rss_kb cpu_secs" to the results.
measure() {
    name=$1
    shift
    /usr/bin/time -f "%e %M %U %S" -o "$tmp/time.$name" "$@" >"$tmp/out.$name" 2>"$tmp/err.$name" || {
        echo "pcap_bench: $name failed:" >&2
        tail -5 "$tmp/err.$name" >&2
        exit 1
    }
    read -r secs kb usr sys <"$tmp/time.$name"
    echo "$name $secs $kb $(echo "$usr $sys" | awk '{ print $1 + $2 }')" >>"$tmp/results"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
i=0
while [ "$i" -lt "$reps" ]; do
    measure tcpdump tcpdump -r "$tmp/bench.pcap" -w /dev/null
    measure netrig "$netrig" pcap summary "$tmp/bench.pcap"
    [ -z "${BASE:-}" ] || measure base "$BASE" pcap summary "$tmp/bench.pcap"
    i=$((i + 1))
done
[ -n "${NO_TSHARK:-}" ] || measure tshark tshark -r "$tmp/bench.pcap" -q -z conv,tcp
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

frames=$(tail -n 1 "$tmp/out.netrig")
echo "capture: $bytes bytes ($size MB requested); $frames"
echo "load average before: $load_before; after: $load_after; $reps rounds"
sort -k1,1 -k4,4n "$tmp/results" | awk '{ n = $1; k = ++c[n]; print n, k, $4 }' >"$tmp/cpu"
sort -k1,1 -k2,2n "$tmp/results" | awk -v bytes="$bytes" -v cpufile="$tmp/cpu" '
    BEGIN { while ((getline l < cpufile) > 0) { split(l, f, " "); cpu[f[1], f[2]] = f[3] } }
    { n = $1; k = ++cnt[n]; t[n, k] = $2; if ($3 > kb[n]) kb[n] = $3 }
    END {
        for (n in cnt) {
            c = cnt[n]
            med[n] = c % 2 ? t[n, (c + 1) / 2] : (t[n, c / 2] + t[n, c / 2 + 1]) / 2
            mc[n] = c % 2 ? cpu[n, (c + 1) / 2] : (cpu[n, c / 2] + cpu[n, c / 2 + 1]) / 2
            printf "%-8s median %7.2f s (%.2f-%.2f, %d runs), CPU %.2f s  %8.1f MB/s  peak RSS %7.1f MB\n",
                   n, med[n], t[n, 1], t[n, c], c, mc[n],
                   bytes / 1048576 / (med[n] > 0 ? med[n] : 0.001), kb[n] / 1024
        }
        td = med["tcpdump"] > 0 ? med["tcpdump"] : 0.001
        r = med["netrig"] > 0 ? med["netrig"] : 0.001
        printf "netrig speed vs tcpdump raw read: %.0f%% (target >= 80%%); by CPU time: %.0f%%\n",
               100 * td / r, 100 * mc["tcpdump"] / (mc["netrig"] > 0 ? mc["netrig"] : 0.001)
        if ("base" in med)
            printf "netrig time vs base: %+.1f%% wall, %+.1f%% CPU\n",
                   100 * (r - med["base"]) / med["base"],
                   100 * (mc["netrig"] - mc["base"]) / (mc["base"] > 0 ? mc["base"] : 0.001)
        if ("tshark" in med)
            printf "netrig speed vs tshark conv,tcp:  %.1fx (target >= 5x)\n", med["tshark"] / r
        printf "netrig peak RSS: %.1f MB (target < 100 MB)\n", kb["netrig"] / 1024
    }'
