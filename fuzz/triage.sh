#!/bin/sh
# triage.sh NAME [OUT_DIR] - minimise, deduplicate and file the crashes of
# an AFL++ campaign on fuzz/NAME.c (OUT_DIR default $B/fuzz/out/NAME).
#
# Each crash is minimised with afl-tmin on $B/fuzz/afl-NAME (or
# $FUZZ_AFL_BIN), replayed with the ASan+UBSan replay program
# $B/asan/fuzz/replay-NAME (or $FUZZ_REPLAY_BIN), and keyed by the
# function names of the top FRAMES (default 5) frames of the sanitizer's
# stack, sanitizer and libc frames left out.  A new key is saved as
# fuzz/regressions/NAME/<key> (NETRIG_REGRESSIONS=DIR: DIR/NAME/<key>) with
# the report in <key>.stack; known keys are counted as duplicates.  Prints
# one line per crash and a summary, and lists what it found in OUT_DIR:
# new-regressions (the files it saved) and known-regressions (the known
# files a crash duplicates), one path a line, for fuzz/campaign.sh.
# Exits 0, or 1 on setup failure.
set -eu
cd "$(dirname "$0")/.."
. fuzz/common.sh

name=${1:?usage: triage.sh NAME [OUT_DIR]}
out=${2:-$B/fuzz/out/$name}
frames=${FRAMES:-5}
regdir=${NETRIG_REGRESSIONS:-fuzz/regressions}/$name
afl=${FUZZ_AFL_BIN:-$B/fuzz/afl-$name}
replay=${FUZZ_REPLAY_BIN:-$B/asan/fuzz/replay-$name}

crashes=$(find "$out" -path '*/crashes/id:*' -type f 2>/dev/null | sort)
: > "$out/new-regressions"
: > "$out/known-regressions"
if [ -z "$crashes" ]; then
    fz_say "triage $name: no crashes in $out"
    exit 0
fi
if [ -z "${FUZZ_AFL_BIN:-}" ]; then # else built elsewhere, with FUZZ_REPLAY_BIN
    fz_make "$afl" >/dev/null
    fz_make B="$B/asan" SAN=1 NR_NODEPS=1 "$replay" >/dev/null
fi
mkdir -p "$regdir"
work=$(mktemp -d "${TMPDIR:-/tmp}/netrig-triage.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

export AFL_SKIP_CPUFREQ=1 AFL_TRY_AFFINITY=1
# replay FILE: run the ASan+UBSan replay program, report in $work/report;
# true when the input did NOT crash.
replay() {
    ASAN_OPTIONS=handle_abort=1:detect_leaks=0:symbolize=1:abort_on_error=0:exitcode=86 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87 \
        "$replay" "$1" >"$work/report" 2>&1
}

total=0 new=0 dup=0 flaky=0
for c in $crashes; do
    total=$((total + 1))
    min=$work/min
    if ! ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0 afl-tmin -t 5000 -i "$c" -o "$min" -- "$afl" >"$work/tmin.log" 2>&1 || [ ! -s "$min" ]; then
        cp "$c" "$min"
    fi
    if replay "$min"; then
        # The minimised input no longer crashes the ASan build: try the original.
        cp "$c" "$min"
        if replay "$min"; then
            flaky=$((flaky + 1))
            fz_say "  $(basename "$c"): does not reproduce in $replay"
            continue
        fi
    fi
    # Stack key: function names of the top frames; sanitizer, libc and replay
# driver frames dropped.
    key=$(sed -n 's/^ *#[0-9][0-9]* 0x[0-9a-f]* in \([^ ]*\).*/\1/p' "$work/report" |
          grep -vE '^(__interceptor_|__sanitizer|__asan|__ubsan|_?_?libc_|__GI_|raise$|abort$|__pthread_kill|main$|_start$|run_fd$|run_file$|run_dir$)' |
          head -n "$frames" | tr '\n' ' ')
    [ -n "$key" ] || key=$(grep -m1 -E 'ERROR|runtime error' "$work/report" || echo unknown)
    id=$(printf '%s' "$key" | sha1sum | cut -c1-12)
    if [ -f "$regdir/$id" ]; then
        dup=$((dup + 1))
        fz_say "  $(basename "$c"): duplicate of $regdir/$id"
        echo "$regdir/$id" >> "$out/known-regressions"
        continue
    fi
    cp "$min" "$regdir/$id"
    {
        echo "# $name crash, key: $key"
        echo "# from: $c ($(wc -c < "$c") bytes, minimised to $(wc -c < "$min"))"
        grep -E 'ERROR: |runtime error|SUMMARY|^ *#[0-9]+ ' "$work/report" | head -n 40
    } > "$regdir/$id.stack"
    new=$((new + 1))
    echo "$regdir/$id" >> "$out/new-regressions"
    fz_say "  $(basename "$c"): NEW $regdir/$id ($key)"
done
fz_say "triage $name: $total crash(es): $new new, $dup duplicate, $flaky not reproducible"
[ "$new" -eq 0 ] || fz_say "new regressions in $regdir: fix the bug, then commit them (make check replays them)"
