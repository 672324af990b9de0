#!/bin/sh
# harness/bench/proxy_cpu.sh [BUILD] [RUNS] - where the fault proxy's cost
# goes: the CPU the whole machine spends (busy time of every CPU, from
# /proc/stat) over each `netrig run` of a 64 MiB echo through tcp-echo-mt,
# direct and through a proxy with no toxic, interleaved, with and without
# the capture; beside each, the transfer's wall time (send + expect steps)
# and the run's.  Take it on a quiet machine: other work's CPU counts too.
# harness/doc/faults.md (Cost) quotes it.
set -eu
build=${1:-build}
runs=${2:-5}
netrig=$build/bin/netrig
[ -x "$netrig" ] || { echo "proxy_cpu: $netrig missing (make B=$build)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/proxy-cpu.XXXXXX")
trap 'rm -rf "$work"' EXIT
for kind in direct proxied; do
    {
        echo "deadline 120s"
        echo "target srv = tcp-echo-mt --port 0"
        if [ "$kind" = proxied ]; then
            echo 'proxy p = tcp ${srv}'
            echo 'connect a = tcp ${p}'
        else
            echo 'connect a = tcp ${srv}'
        fi
        echo "send a pattern 67108864"
        echo "expect a pattern 67108864 within 60s"
        echo "close a"
    } >"$work/$kind.scn"
done
# busy and total CPU time of the machine so far, in clock ticks
busy() { awk '/^cpu /{ print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9 }' /proc/stat; }
hz=$(getconf CLK_TCK)
echo "load average (1 min): $(cut -d' ' -f1 /proc/loadavg)"
for cap in capture no-capture; do
    opt=""
    [ "$cap" = no-capture ] && opt=--no-capture
    i=0
    while [ "$i" -lt "$runs" ]; do
        for kind in direct proxied; do
            rm -rf "$work/art"
            set -- $(busy)
            b0=$1 t0=$2 s0=$(date +%s%N)
            # shellcheck disable=SC2086 # opt is one option or none
            "$netrig" run $opt -k -a "$work/art" "$work/$kind.scn" >"$work/out" 2>&1 ||
                { cat "$work/out"; exit 1; }
            s1=$(date +%s%N)
            set -- $(busy)
            xfer=$(sed -n 's/.* a pattern 67108864.*  \[ok, \([0-9.]*\) ms\]/\1/p' \
                "$(find "$work/art" -name steps.log)" | awk '{ t += $1 } END { printf "%.0f", t }')
            printf '%-10s %-8s transfer %4s ms  run %4d ms  CPU busy %4d ms of %4d\n' "$cap" \
                "$kind" "$xfer" $(((s1 - s0) / 1000000)) $((($1 - b0) * 1000 / hz)) \
                $((($2 - t0) * 1000 / hz))
        done
        i=$((i + 1))
    done
done
echo "load average (1 min): $(cut -d' ' -f1 /proc/loadavg)"
