#!/bin/sh
# Golden captures: pcaps/<target>/<name>.pcap is what the scenario
# harness/scenarios/<target>/<name>.scn put on the wire when it was last
# accepted.
#
#   golden.sh check BUILD ARTIFACTS   compare each golden with the fresh capture
#                                     in ARTIFACTS (a `netrig run --keep` tree)
#                                     using `netrig pcap diff`
#   golden.sh refresh BUILD [SCN...]  re-run SCN... (default: every scenario that
#                                     has a golden) and store their captures
set -u
mode=${1:-}
build=${2:-build}
netrig=$build/bin/netrig

artifact_dir() { # scenario path -> its artifacts directory (the path mirrored below the root)
    echo "$1"
}

case "$mode" in
check)
    arts=${3:?artifacts directory}
    fail=0
    n=0
    for golden in pcaps/*/*.pcap; do
        [ -f "$golden" ] || continue
        rel=${golden#pcaps/}
        scn=harness/scenarios/${rel%.pcap}.scn
        fresh=$arts/$(artifact_dir "$scn")/capture.pcap
        n=$((n + 1))
        if [ ! -f "$fresh" ]; then
            echo "golden: no fresh capture of $scn (expected $fresh)"
            fail=1
        elif ! "$netrig" pcap diff "$golden" "$fresh" >"$fresh.diff" 2>&1; then
            echo "golden: $scn differs on the wire from $golden:"
            sed 's/^/  /' "$fresh.diff"
            fail=1
        fi
    done
    [ $fail -eq 0 ] && echo "golden: $n captures match"
    exit $fail
    ;;
refresh)
    shift 2
    if [ $# -eq 0 ]; then
        for golden in pcaps/*/*.pcap; do
            [ -f "$golden" ] || continue
            rel=${golden#pcaps/}
            set -- "$@" "harness/scenarios/${rel%.pcap}.scn"
        done
    fi
    tmp=$build/golden-refresh
    rm -rf "$tmp"
    "$netrig" run -j 2 --keep -a "$tmp" "$@" || { echo "golden: scenarios failed; nothing stored"; exit 1; }
    for scn in "$@"; do
        rel=${scn#harness/scenarios/}
        mkdir -p "pcaps/$(dirname "$rel")"
        cp "$tmp/$(artifact_dir "$scn")/capture.pcap" "pcaps/${rel%.scn}.pcap"
        echo "golden: stored pcaps/${rel%.scn}.pcap"
    done
    ;;
*)
    echo "usage: golden.sh check BUILD ARTIFACTS | golden.sh refresh BUILD [SCENARIO...]" >&2
    exit 2
    ;;
esac
