#!/bin/sh
# pcap_mutants.sh - the crafted corpus and N byte-flip mutants of it through
# the capture reader and analyser under ASan+UBSan (harness/doc/pcap.md).
#
# usage: harness/bench/pcap_mutants.sh [N [BUILD]]   (default 10000, build)
#
# Builds BUILD/asan/fuzz/replay-pcap (fuzz/pcap.c with its oracle, ASan and
# UBSan, halting on the first report), writes the corpus with
# harness/tests/corpus/gen.py, then N mutants: each a corpus file with 1 to
# 8 random bytes replaced, or cut at a random length (seeded: the same N
# gives the same files).  Replays them all in one process; exit 0 only when
# no sanitizer report and no oracle failure occurred.  Prints the time taken.
set -eu
n=${1:-10000}
build=${2:-build}
replay=$build/asan/fuzz/replay-pcap
tmp=$(mktemp -d /tmp/pcap-mutants.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

make --no-print-directory B="$build/asan" SAN=1 NR_NODEPS=1 "$replay" >/dev/null
/usr/bin/python3 harness/tests/corpus/gen.py "$tmp/corpus" >/dev/null
/usr/bin/python3 - "$tmp/corpus" "$tmp/mutants" "$n" <<'PY'
import os, random, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(dst)
files = sorted(f for f in os.listdir(src) if f.endswith((".pcap", ".pcapng")))
blobs = [open(os.path.join(src, f), "rb").read() for f in files]
rnd = random.Random(14)
for i in range(n):
    b = bytearray(blobs[i % len(blobs)])
    if rnd.random() < 0.1:
        b = b[:rnd.randrange(len(b))]
    else:
        for _ in range(rnd.randint(1, 8)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
    open(os.path.join(dst, "m%05d" % i), "wb").write(bytes(b))
PY
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:exitcode=86
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87
start=$(date +%s)
"$replay" "$tmp/corpus" "$tmp/mutants" >"$tmp/log" 2>&1 || {
    echo "pcap_mutants: FAILED (exit $?):"
    tail -30 "$tmp/log"
    exit 1
}
echo "pcap_mutants: corpus ($(ls "$tmp/corpus" | grep -c '\.pcap') captures) and $n mutants: no sanitizer" \
     "report, no oracle failure ($(($(date +%s) - start)) s)"
