#!/bin/sh
# campaign.sh NAME [SECONDS [JOBS]] - run an AFL++ campaign on fuzz/NAME.c.
#
# Builds $B/fuzz/afl-NAME and afl-NAME.cmplog (FUZZ_CMPLOG=0: no CmpLog
# program and no CmpLog instance; the triage builds its own replay), seeds from
# fuzz/corpus/NAME/ (plus seeds converted from pcaps/*.pcap* by
# `netrig pcap seeds` when $B/bin/netrig exists), starts one -M and JOBS-1
# -S instances (CmpLog on one of them), uses fuzz/dict/NAME.dict when
# present, prints progress every 10 s (per instance: execs/s, corpus size,
# edges covered and the bitmap's coverage, crashes), stops after SECONDS,
# prints a summary, runs fuzz/triage.sh on the crashes and draws afl-plot's
# graphs into $B/fuzz/out/NAME/plot/index.html.  Output: $B/fuzz/out/NAME
# (replaced each run).  Extra afl-fuzz options can be passed in AFL_EXTRA;
# FUZZ_AFL_BIN=PROGRAM (and FUZZ_REPLAY_BIN for the triage) fuzz a program
# built elsewhere;
# NETRIG_NO_TRIAGE=1 skips the triage (fuzz/selftest.sh uses it for planted
# bugs); NETRIG_REGRESSIONS=DIR files new crashes in DIR/NAME instead of
# fuzz/regressions/NAME.
# Exit 0 when the campaign ran and saved no crash; 1 when it saved crashes
# (it says where: the regression files triage wrote, or the raw crashes);
# 2 on setup failure.
set -eu
cd "$(dirname "$0")/.."
. fuzz/common.sh
# Exit 1 means crashes and nothing else: any other failure (a command
# failing under set -e) leaves with 2; a signal's status is kept.
crashed=""
trap 'rc=$?; [ "$rc" -eq 0 ] || [ "$rc" -eq 2 ] || [ "$rc" -gt 128 ] || [ -n "$crashed" ] ||
      { fz_say "stopped by an unexpected failure (status $rc): exit 2"; exit 2; }' EXIT

name=${1:?usage: campaign.sh NAME [SECONDS [JOBS]]}
secs=${2:-60}
jobs=${3:-1}
command -v afl-fuzz >/dev/null || { fz_say "afl-fuzz not installed (apt-get install afl++)"; exit 2; }
if [ -n "${FUZZ_AFL_BIN:-}" ]; then # a program built elsewhere (ci/test-fuzz-campaign.sh)
    bin=$FUZZ_AFL_BIN
else
    [ -f "fuzz/$name.c" ] || { fz_say "no harness fuzz/$name.c"; exit 2; }
    bin=$B/fuzz/afl-$name
    progs=$bin
    [ "${FUZZ_CMPLOG:-1}" = 0 ] || progs="$progs $bin.cmplog"
    # shellcheck disable=SC2086 # a list of make targets
    fz_make $progs >/dev/null || { fz_say "build failed"; exit 2; }
fi

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
# afl-fuzz 4.04c writes fuzzer_stats and plot_data only at its start and
# end here (measured: one row of plot_data after a 35 s run, UI or not), so
# its status screen is drawn (AFL_FORCE_UI) into a pipe: ui_filter keeps the
# screen's latest figures in $out/ID.stats, a row in plot_data's columns
# every 5 s of its run time in $out/ID.rows (edges as the map's coverage, in
# %, until the end turns them into counts), and the lines that are not the
# screen (start-up messages, errors) in $out/ID.log.
unset AFL_NO_UI
export AFL_FORCE_UI=1
# mawk reads a pipe in large blocks unless told it is interactive
awk_lines=awk
awk -W version 2>/dev/null | grep -q mawk && awk_lines="awk -W interactive"
ui_filter() { # ui_filter ID < screen
    $awk_lines -v stats="$out/$1.stats" -v rows="$out/$1.rows" '
        function after(label,   v) { v = $0; sub(".*" label " : ", "", v); sub(/[ \/(].*/, "", v); return v }
        { gsub(/\033\[[0-9;?]*[A-Za-z]|\033\)[0B]|\016|\017/, "") }
        /run time :/ { v = $0; sub(/.*run time : /, "", v); split(v, t, /[^0-9]+/)
                       secs = t[1] * 86400 + t[2] * 3600 + t[3] * 60 + t[4]; cycles = after("cycles done") }
        /corpus count :/ { corpus = after("corpus count") }
        /saved crashes :/ { crashes = after("saved crashes") }
        /saved hangs :/ { hangs = after("saved hangs") }
        /now processing :/ { item = after("now processing") + 0 }
        /map density :/ { v = $0; sub(/.*map density : [0-9.]*% \/ /, "", v); sub(/%.*/, "", v); map = v }
        /total execs :/ { execs = after("total execs"); execs = execs * (execs ~ /k$/ ? 1e3 : execs ~ /M$/ ? 1e6 : execs ~ /G$/ ? 1e9 : 1) }
        /levels :/ { levels = after("levels") }
        /pending :/ { pending = after("pending") }
        /pend fav :/ { pendfav = after("pend fav") }
        /exec speed :/ { speed = after("exec speed")
                         printf "%s %s %s %s\n", speed, corpus, map, crashes > stats; close(stats)
                         if (secs >= next_row) {
                             printf "%d, %d, %d, %d, %d, %d, %s%%, %d, %d, %d, %s, %d, %s\n", secs, cycles, item,
                                    corpus, pending, pendfav, map, crashes, hangs, levels, speed, execs, map >> rows
                             fflush(rows); next_row = secs + 5 } }
        /^[xtm]|^ *american fuzzy lop|^\)|^$/ { next }
        { print; fflush() }' > "$out/$1.log"
}
pids=""
i=0
while [ "$i" -lt "$jobs" ]; do
    if [ "$i" -eq 0 ]; then role="-M main"; id=main; else role="-S s$i"; id=s$i; fi
    cmplog=""
    # CmpLog on the first secondary, or on the main when it is alone.
    if { [ "$jobs" -eq 1 ] || [ "$i" -eq 1 ]; } && [ "${FUZZ_CMPLOG:-1}" != 0 ] && [ -x "$bin.cmplog" ]; then
        cmplog="-c $bin.cmplog"
    fi
    # shellcheck disable=SC2086
    mkfifo "$out/$id.screen"
    ui_filter "$id" < "$out/$id.screen" &
    afl-fuzz -i "$seeds" -o "$out" $role -V "$secs" $cmplog $dict ${AFL_EXTRA:-} \
        -- "$bin" > "$out/$id.screen" 2>&1 &
    pids="$pids $!"
    i=$((i + 1))
done
fz_say "$name: $jobs instance(s) for ${secs}s, output in $out"

# progress: one line, per instance: execs/s, corpus size, edges covered as
# the bitmap's coverage, crashes saved (from its screen, see ui_filter).
progress() {
    line=""
    for log in "$out"/*.log; do
        id=$(basename "$log" .log)
        st=$(awk '{ printf "%s execs/s, corpus %s, edges %s%% of the map, crashes %s", $1, $2, $3, $4 }' \
             "$out/$id.stats" 2>/dev/null)
        line="$line  $id: ${st:-starting}"
    done
    fz_say "$(( $(date +%s) - start ))s:$line"
}
start=$(date +%s)
deadline=$((start + secs + 60))
next=$((start + 10))
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
    sleep 1
    [ "$(date +%s)" -ge "$next" ] || continue
    next=$((next + 10))
    progress
done
for p in $pids; do wait "$p" || true; done
wait # the screen filters
rm -f "$out"/*.screen

echo
echo "== campaign summary: $name, ${secs}s, $jobs instance(s) =="
printf '%-6s %10s %12s %8s %8s %6s\n' inst execs/s execs corpus crashes hangs
total_crashes=0
ran=0
for log in "$out"/*.log; do
    id=$(basename "$log" .log)
    st=$out/$id/fuzzer_stats
    if [ ! -f "$st" ]; then
        fz_say "$id wrote no fuzzer_stats; its log:"
        tail -n 20 "$log" 2>/dev/null | sed 's/^/    /'
        continue
    fi
    ran=$((ran + 1))
    c=$(fz_stat "$st" saved_crashes)
    [ -n "$c" ] || c=$(fz_stat "$st" unique_crashes)
    h=$(fz_stat "$st" saved_hangs)
    [ -n "$h" ] || h=$(fz_stat "$st" unique_hangs)
    printf '%-6s %10s %12s %8s %8s %6s\n' "$id" "$(fz_stat "$st" execs_per_sec)" \
        "$(fz_stat "$st" execs_done)" "$(fz_stat "$st" corpus_count)" "${c:-0}" "${h:-0}"
    total_crashes=$((total_crashes + ${c:-0}))
done
# Graphs: afl-plot (gnuplot) of the main instance into $out/plot/index.html,
# from afl-fuzz's plot_data when it has the 2 rows afl-plot needs, else from
# the rows ui_filter took off the screen (edges: coverage % x total_edges).
plot_state=$out/plot-state
rm -rf "$plot_state"
mkdir -p "$plot_state"
[ "$ran" -gt 0 ] || { fz_say "$name: no instance ran"; exit 2; }
cp "$out/main/fuzzer_stats" "$plot_state/" 2>/dev/null || true
if [ "$(grep -vc '^#' "$out/main/plot_data" 2>/dev/null)" -ge 2 ]; then
    cp "$out/main/plot_data" "$plot_state/"
elif [ -f "$out/main/plot_data" ] && [ -f "$out/main.rows" ]; then
    total_edges=$(fz_stat "$out/main/fuzzer_stats" total_edges)
    { head -n 1 "$out/main/plot_data"
      awk -F', ' -v OFS=', ' -v te="${total_edges:-0}" '{ $13 = int($13 * te / 100 + 0.5); print }' "$out/main.rows"
      grep -v '^#' "$out/main/plot_data"; } > "$plot_state/plot_data"
fi
if ! command -v afl-plot >/dev/null || ! command -v gnuplot >/dev/null; then
    echo "graphs: none (needs afl-plot and gnuplot: apt-get install afl++ gnuplot-nox)"
elif [ "$(grep -vc '^#' "$plot_state/plot_data" 2>/dev/null)" -lt 2 ]; then
    echo "graphs: none, under 2 rows of data (afl-plot needs a run of 10 s or more)"
else
    mkdir -p "$out/plot"
    if afl-plot "$plot_state" "$out/plot" > "$out/plot.log" 2>&1; then
        echo "graphs: $out/plot/index.html"
    else
        fz_say "afl-plot failed (log: $out/plot.log)"
    fi
fi
echo "crashes: $out/*/crashes/   hangs: $out/*/hangs/   queue: $out/*/queue/"
if [ "$total_crashes" -eq 0 ]; then
    exit 0
fi
# Crashes saved: say where they are, last, and exit 1.
echo
triaged=""
if [ -z "${NETRIG_NO_TRIAGE:-}" ]; then
    if sh fuzz/triage.sh "$name" "$out"; then
        triaged=1
    else
        fz_say "triage failed: the crashes are not filed"
    fi
    echo
fi
fz_say "FAILED: $name: $total_crashes crash(es) saved"
for d in "$out"/*/crashes; do
    n=$(find "$d" -maxdepth 1 -type f -name 'id:*' 2>/dev/null | wc -l)
    [ "$n" -gt 0 ] && echo "    raw:   $d/ ($n input(s))"
done
if [ -n "$triaged" ]; then
    new=$(wc -l < "$out/new-regressions")
    known=$(sort -u "$out/known-regressions" | wc -l)
    sed 's/^/    new:   /' "$out/new-regressions"
    sort -u "$out/known-regressions" | sed 's/^/    known: /'
    if [ "$new" -gt 0 ] || [ "$known" -gt 0 ]; then
        fz_say "$name: $new new regression(s) filed, $known known one(s) hit again (each with its report in <file>.stack)"
    else
        fz_say "$name: none reproduced under ASan+UBSan; only the raw inputs above are left"
    fi
else
    fz_say "$name: not triaged: the raw inputs above are the findings"
fi
crashed=1
fz_say "exit 1: crashes saved (make fuzz shows this status as 'Error 1' and exits 2, as GNU make does for any failed recipe)"
exit 1
