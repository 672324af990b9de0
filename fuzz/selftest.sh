#!/bin/sh
# selftest.sh [SECONDS] - prove the fuzzing chain finds real bugs: for each
# bug planted in a target behind -DNETRIG_PLANT_BUG_<X>, build that
# target's harness with the flag (in $B/selftest/<X>), run a campaign of at
# most SECONDS (default 300) that stops at the first crash
# (AFL_BENCH_UNTIL_CRASH), and report the time to the first crash.
#
# The bugs at limits (a count or size bound off by one) are reachable
# because the harnesses draw their limits from the input (fz_opts.h).
# ECHO_DROP_LAST crashes nothing: only tcp-echo's content oracle sees it.
# SELFTEST_BUGS="harness:FLAG ..." runs a subset.
#
# A flag that no target source mentions yet is reported as "not planted"
# and skipped.  Exit 0 when every planted bug was found, 1 otherwise.
set -eu
cd "$(dirname "$0")/.."
. fuzz/common.sh

secs=${1:-300}
# harness:FLAG - what each planted bug is
bugs=${SELFTEST_BUGS:-"http-get:HTTP_CHUNK_OFF_BY_ONE udp-echo:UDP_REPLY_OVERFLOW tcp-time:TIME_CLOSE_UAF
      http-get:HTTP_HEADER_COUNT_OFF_BY_ONE http-get:HTTP_HEAD_BYTES_OFF_BY_ONE
      udp-echo:UDP_TRUNC_OFF_BY_ONE tcp-echo:ECHO_DROP_LAST"}
found=0 missed=0 skipped=0
base=$B
mkdir -p "$base/selftest"

for b in $bugs; do
    h=${b%%:*} flag=NETRIG_PLANT_BUG_${b#*:}
    if ! grep -rqs "$flag" targets/; then
        fz_say "selftest $h: $flag not planted in targets/ yet: skipped"
        skipped=$((skipped + 1))
        continue
    fi
    out=$base/selftest/${b#*:}
    fz_say "selftest $h: campaign of at most ${secs}s with -D$flag"
    B=$out CPPFLAGS="-D$flag" AFL_BENCH_UNTIL_CRASH=1 FUZZ_MAKE="" NETRIG_NO_TRIAGE=1 \
        sh fuzz/campaign.sh "$h" "$secs" 1 > "$out.log" 2>&1 || true
    st=$out/fuzz/out/$h/main/fuzzer_stats
    crash=$(fz_stat "$st" last_crash)
    start=$(fz_stat "$st" start_time)
    if [ -n "$crash" ] && [ "$crash" != 0 ]; then
        found=$((found + 1))
        fz_say "selftest $h: FOUND $flag after $((crash - start)) s (log: $out.log)"
    else
        missed=$((missed + 1))
        fz_say "selftest $h: MISSED $flag in ${secs}s (log: $out.log)"
    fi
done
fz_say "selftest: $found found, $missed missed, $skipped not planted"
[ "$missed" -eq 0 ]
