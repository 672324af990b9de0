#!/bin/sh
# ci/mutate.sh - mutation testing (make mutate): mutants of C sources, each
# built in a private copy of git HEAD and judged by the quickest tests that
# cover its file (ci/mutate.map).  The working tree is never modified.
#   FILES="paths or globs"  which sources (default: the measured set of
#                           ci/MUTATION.md: every target, harness/lib, and
#                           the runner's three matcher files)
#   MAX=60 SEED=1           how many mutants, and which (deterministic)
#   JOBS=1                  parallel workers, each with its own copy and build
#   WORK=build/mutate       copies, logs, and the table (WORK/mutation.md)
#   TIMEOUT=                seconds per test (default: 3x its unmutated time + 10)
# Everything runs under nice -n 19.  Exits 0 when the run completed.
set -eu
: "${FILES:=targets/common/*.c targets/http-get/*.c targets/smtp-send/*.c targets/tcp-echo-mt/*.c \
targets/tcp-echo/*.c targets/tcp-greet/*.c targets/tcp-time/*.c targets/udp-echo/*.c \
harness/lib/*.c harness/src/exec_match.c harness/src/exec_conn_expect.c harness/src/exec_wire.c}"
: "${MAX:=60}" "${SEED:=1}" "${JOBS:=1}" "${WORK:=build/mutate}" "${TIMEOUT:=0}"
exec nice -n 19 /usr/bin/python3 "$(dirname "$0")/mutate.py" --files "$FILES" --max "$MAX" \
    --seed "$SEED" --jobs "$JOBS" --work "$WORK" --timeout "$TIMEOUT" \
    ${MAP:+--map "$MAP"} ${EQUIV:+--equiv "$EQUIV"} ${ROOT:+--root "$ROOT"} "$@"
