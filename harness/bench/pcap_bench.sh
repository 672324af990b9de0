#!/bin/sh
# pcap_bench.sh - time `netrig pcap summary` against tshark and tcpdump.
#
# usage: harness/bench/pcap_bench.sh [SIZE_MB [BUILD_DIR]]   (default 1024, build)
#
# Builds harness/bench/gen_pcap.c, writes a SIZE_MB synthetic loopback
# capture (interleaved TCP connections with retransmissions and resets, UDP
# pairs) into a temporary directory, reads it once to warm the page cache,
# then times in the same run:
#   tcpdump -r FILE -w /dev/null        (raw libpcap read speed)
#   netrig pcap summary FILE
#   tshark -r FILE -q -z conv,tcp
# with /usr/bin/time (wall seconds, peak RSS) and prints throughput and
# ratios.  Targets: netrig >= 70% of tcpdump's speed, >= 5x tshark, < 100 MB.
set -eu
size=${1:-1024}
build=${2:-build}
netrig=$build/bin/netrig
tmp=$(mktemp -d /tmp/pcap-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

[ -x "$netrig" ] || { echo "pcap_bench: $netrig not built (make)" >&2; exit 2; }
for t in tcpdump tshark /usr/bin/time; do
    command -v "$t" >/dev/null 2>&1 || { echo "pcap_bench: $t not installed" >&2; exit 2; }
done

${CC:-cc} -O2 -Iharness/tests -Iharness/lib $(pkg-config --cflags libpcap 2>/dev/null) \
    -o "$tmp/gen_pcap" harness/bench/gen_pcap.c
"$tmp/gen_pcap" "$tmp/bench.pcap" "$size"
bytes=$(stat -c %s "$tmp/bench.pcap")
cat "$tmp/bench.pcap" >/dev/null

# measure NAME CMD... : prints "NAME secs rss_kb" and stores them.
measure() {
    name=$1
    shift
    /usr/bin/time -f "%e %M" -o "$tmp/time.$name" "$@" >"$tmp/out.$name" 2>"$tmp/err.$name" || {
        echo "pcap_bench: $name failed:" >&2
        tail -5 "$tmp/err.$name" >&2
        exit 1
    }
    read -r secs kb <"$tmp/time.$name"
    echo "$name $secs $kb" >>"$tmp/results"
}

measure tcpdump tcpdump -r "$tmp/bench.pcap" -w /dev/null
measure netrig "$netrig" pcap summary "$tmp/bench.pcap"
measure tshark tshark -r "$tmp/bench.pcap" -q -z conv,tcp

frames=$(tail -n 1 "$tmp/out.netrig")
echo "capture: $bytes bytes ($size MB requested); $frames"
awk -v bytes="$bytes" '
    { secs[$1] = $2; kb[$1] = $3 }
    END {
        for (n in secs)
            printf "%-8s %8.2f s  %8.1f MB/s  peak RSS %7.1f MB\n", n, secs[n],
                   bytes / 1048576 / (secs[n] > 0 ? secs[n] : 0.001), kb[n] / 1024
        t = secs["tcpdump"] > 0 ? secs["tcpdump"] : 0.001
        r = secs["netrig"] > 0 ? secs["netrig"] : 0.001
        printf "netrig speed vs tcpdump raw read: %.0f%% (target >= 70%%)\n", 100 * t / r
        printf "netrig speed vs tshark conv,tcp:  %.1fx (target >= 5x)\n", secs["tshark"] / r
        printf "netrig peak RSS: %.1f MB (target < 100 MB)\n", kb["netrig"] / 1024
    }' "$tmp/results"
