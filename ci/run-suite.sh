#!/bin/sh
# `make run`: run the bundled scenario suite with capture, keep every
# artifact, write JUnit XML and the HTML report (with the ladder diagram of
# every scenario's traffic), and print where they are.
set -u
build=${1:-build}
out=$build/report
rm -rf "$out"
mkdir -p "$out"
jobs=$(nproc 2>/dev/null || echo 2)
"$build/bin/netrig" run -j "$jobs" --keep --artifacts "$out/artifacts" \
    --junit "$out/junit.xml" --html "$out/index.html" harness/scenarios
rc=$?
echo
echo "report:    $out/index.html (open it in a browser)"
echo "junit:     $out/junit.xml"
echo "artifacts: $out/artifacts/<scenario>/ (steps.log, <target>.stdout/.stderr, capture.pcap)"
exit $rc
