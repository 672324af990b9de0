#!/bin/sh
# `make run`: run the bundled scenario suite with capture, keep every
# artifact, write JUnit XML and the HTML report (with the ladder diagram of
# every scenario's traffic), and print where they are.
#
#   sh ci/run-suite.sh [BUILD [PATH...]]    PATHs default to harness/scenarios;
#   OUT=DIR writes the reports there instead of BUILD/report
set -u
build=${1:-build}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] || set -- harness/scenarios
out=${OUT:-$build/report}
rm -rf "$out"
mkdir -p "$out"
jobs=$(nproc 2>/dev/null || echo 2)
"$build/bin/netrig" run -j "$jobs" --keep --artifacts "$out/artifacts" \
    --junit "$out/junit.xml" --html "$out/index.html" "$@"
rc=$?
echo
echo "report:    $out/index.html (open it in a browser)"
echo "junit:     $out/junit.xml"
echo "artifacts: $out/artifacts/<scenario>/ (steps.log, <target>.stdout/.stderr, capture.pcap)"
exit $rc
