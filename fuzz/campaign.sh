#!/bin/sh
# campaign.sh NAME [SECONDS [JOBS]] - run an AFL++ campaign on fuzz/NAME.c.
#
# Builds $B/fuzz/afl-NAME (+ .cmplog, + the replay program), seeds from
# fuzz/corpus/NAME/ (plus seeds converted from pcaps/*.pcap* by
# `netrig pcap seeds` when $B/bin/netrig exists), starts one -M and JOBS-1
# -S instances (CmpLog on one of them), uses fuzz/dict/NAME.dict when
# present, prints progress every 10 s, stops after SECONDS, prints a summary
# and runs fuzz/triage.sh.  Output: $B/fuzz/out/NAME (replaced each run).
# Extra afl-fuzz options can be passed in AFL_EXTRA; NETRIG_NO_TRIAGE=1
# skips the triage (fuzz/selftest.sh uses it for planted bugs).  Exit 0 when the
# campaign ran (crashes are reported, not an error), 1 on setup failure.
set -eu
cd "$(dirname "$0")/.."
. fuzz/common.sh

name=${1:?usage: campaign.sh NAME [SECONDS [JOBS]]}
secs=${2:-60}
jobs=${3:-1}
[ -f "fuzz/$name.c" ] || { fz_say "no harness fuzz/$name.c"; exit 1; }
command -v afl-fuzz >/dev/null || { fz_say "afl-fuzz not installed (apt-get install afl++)"; exit 1; }

bin=$B/fuzz/afl-$name
fz_make "$bin" "$bin.cmplog" "$B/fuzz/replay-$name" >/dev/null

out=$B/fuzz/out/$name
seeds=$B/fuzz/seeds/$name
rm -rf "$out" "$seeds" "$B/fuzz/crashing-seeds/$name"
mkdir -p "$out" "$seeds"
[ -d "fuzz/corpus/$name" ] && find "fuzz/corpus/$name" -maxdepth 1 -type f ! -name 'README*' \
    -exec cp {} "$seeds/" \;
# Seeds from captures: the golden captures of this target's scenarios and,
# when a suite run left them (make check, make run), every capture of its
# scenarios; client messages as records, or for http-get (whose input is the
# server's answer) the server streams.  The pcap harness takes the small
# captures themselves, the scenario harness the bundled scenario files.
captures() {
    for p in pcaps/"$1"/*.pcap "$B"/artifacts/harness/scenarios/"$1"/*/capture.pcap \
             "$B"/report/artifacts/harness/scenarios/"$1"/*/capture.pcap; do
        [ -f "$p" ] && echo "$p"
    done
}
case $name in
pcap)
    find pcaps -name '*.pcap' -size -64k -exec cp {} "$seeds/" \; ;;
scenario)
    for f in harness/scenarios/*/*.scn; do cp "$f" "$seeds/$(echo "${f#harness/scenarios/}" | tr / _)"; done ;;
*)
    dir=""
    case $name in http-get | smtp-send) dir="--dir resp" ;; esac
    if [ -x "$B/bin/netrig" ]; then
        for p in $(captures "$name"); do
            # shellcheck disable=SC2086
            "$B/bin/netrig" pcap seeds $dir "$p" "$seeds/$(echo "$p" | tr / _)" >/dev/null 2>&1 ||
                fz_say "netrig pcap seeds $p failed (skipped)"
        done
        find "$seeds" -mindepth 2 -type f -exec sh -c 'mv "$1" "$2/$(echo "${1#$2/}" | tr / _)"' _ {} "$seeds" \;
        find "$seeds" -mindepth 1 -type d -empty -delete
    fi ;;
esac
# A seed that crashes the binary under test would stop afl-fuzz at its dry
# run: set such seeds aside (they are findings already, e.g. an input at a
# planted bug's boundary in fuzz/selftest.sh), and say so.
for f in "$seeds"/*; do
    [ -f "$f" ] || continue
    if ! timeout 10 "$bin" "$f" >/dev/null 2>&1; then
        mkdir -p "$B/fuzz/crashing-seeds/$name"
        mv "$f" "$B/fuzz/crashing-seeds/$name/"
        fz_say "seed ${f##*/} crashes $bin: set aside in $B/fuzz/crashing-seeds/$name"
    fi
done
fz_say "$(ls "$seeds" | wc -l) seeds for $name"
[ -n "$(ls "$seeds")" ] || printf '\0\0\0\0' > "$seeds/empty"

dict=""
[ -f "fuzz/dict/$name.dict" ] && dict="-x fuzz/dict/$name.dict"

fz_afl_env
pids=""
i=0
while [ "$i" -lt "$jobs" ]; do
    if [ "$i" -eq 0 ]; then role="-M main"; id=main; else role="-S s$i"; id=s$i; fi
    cmplog=""
    # CmpLog on the first secondary, or on the main when it is alone.
    if [ "$jobs" -eq 1 ] || [ "$i" -eq 1 ]; then cmplog="-c $bin.cmplog"; fi
    # shellcheck disable=SC2086
    afl-fuzz -i "$seeds" -o "$out" $role -V "$secs" $cmplog $dict ${AFL_EXTRA:-} \
        -- "$bin" > "$out/$id.log" 2>&1 &
    pids="$pids $!"
    i=$((i + 1))
done
fz_say "$name: $jobs instance(s) for ${secs}s, output in $out"

# Progress from each instance's log: with AFL_NO_UI, afl-fuzz 4.04c only
# writes fuzzer_stats at the start and the end, but logs one line per queue
# entry it fuzzes ("Fuzzing test case #N (TOTAL total, C crashes saved...").
start=$(date +%s)
deadline=$((start + secs + 60))
while :; do
    alive=0
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" -eq 1 ] || break
    if [ "$(date +%s)" -gt "$deadline" ]; then
        fz_say "instances overran ${secs}s by a minute: stopping them"
        for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
        sleep 2
        break
    fi
    sleep 2
    [ $(( ($(date +%s) - start) % 10 )) -lt 2 ] || continue
    line=""
    for log in "$out"/*.log; do
        st=$(grep -a 'Fuzzing test case' "$log" 2>/dev/null | tail -n 1 |
             sed -n 's/.*(\([0-9]*\) total, \([0-9]*\) crashes saved.*/\1 corpus, \2 crashes/p')
        line="$line  $(basename "$log" .log): ${st:-starting}"
    done
    fz_say "$(( $(date +%s) - start ))s:$line"
done
for p in $pids; do wait "$p" || true; done

echo
echo "== campaign summary: $name, ${secs}s, $jobs instance(s) =="
printf '%-6s %10s %12s %8s %8s %6s\n' inst execs/s execs corpus crashes hangs
total_crashes=0
for d in "$out"/*/; do
    st=$d/fuzzer_stats
    if [ ! -f "$st" ]; then
        id=$(basename "$d")
        fz_say "$id wrote no fuzzer_stats; its log:"
        tail -n 20 "$out/$id.log" 2>/dev/null | sed 's/^/    /'
        continue
    fi
    c=$(fz_stat "$st" saved_crashes)
    [ -n "$c" ] || c=$(fz_stat "$st" unique_crashes)
    h=$(fz_stat "$st" saved_hangs)
    [ -n "$h" ] || h=$(fz_stat "$st" unique_hangs)
    printf '%-6s %10s %12s %8s %8s %6s\n' "$(basename "$d")" "$(fz_stat "$st" execs_per_sec)" \
        "$(fz_stat "$st" execs_done)" "$(fz_stat "$st" corpus_count)" "${c:-0}" "${h:-0}"
    total_crashes=$((total_crashes + ${c:-0}))
done
echo "plot data: $out/*/plot_data (graphs: afl-plot $out/main DIR)"
echo "crashes: $out/*/crashes/   hangs: $out/*/hangs/   queue: $out/*/queue/"
if [ "$total_crashes" -gt 0 ] && [ -z "${NETRIG_NO_TRIAGE:-}" ]; then
    echo
    sh fuzz/triage.sh "$name" "$out"
fi
exit 0
