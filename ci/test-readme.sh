#!/bin/sh
# The commands README.md documents must work.  From every indented code
# block, each line that starts with `build/bin/netrig`, `netrig` or `prove`
# is run (the command is what precedes a run of two spaces or a " #"
# comment; "[OPTIONAL]" words are dropped) in a scratch directory that
# links harness/ and pcaps/ and has build/ pointing at BUILD, with BUILD/bin
# first on PATH.  Placeholders become real things: FILE and A a capture of
# pcaps/, B another one, DIR a fresh empty directory, report.xml a scratch
# path.  A line fails when its command exits 2 (usage error) or 124 (hung
# past the timeout), or says "usage", "unknown/unrecognized/invalid option"
# or "bad value".  Exit status 1 is fine: a suite or check that finds
# something still ran as documented.
#
# Not run: the `make ...` lines (make run / make check would recurse into
# this very test and take minutes; make fuzz* need AFL++ campaigns of
# SECONDS each).  Instead every `make TARGET` the README names, in a code
# block or in `backquotes`, must be a target: `make -n TARGET` succeeds.
# Nor are other scripts named in the prose (ci/install-deps.sh,
# harness/bench/pcap_bench.sh) run here.
#
#   sh ci/test-readme.sh [BUILD] [README]     defaults: build README.md
set -eu
build=$(cd "${1:-build}" && pwd)
readme=${2:-README.md}
root=$(pwd)
tmo=${README_TIMEOUT:-120}
work=$(mktemp -d "${TMPDIR:-/tmp}/netrig-readme.XXXXXX")
trap 'rm -rf "$work"' EXIT
ln -s "$root/harness" "$root/pcaps" "$work/"
ln -s "$build" "$work/build"
PATH=$build/bin:$PATH
export PATH
set -- "$root"/pcaps/*/*.pcap
[ $# -ge 2 ] || { echo "test-readme: need two captures in pcaps/" >&2; exit 1; }
cap_a=$1
cap_b=$2
n=0
bad='usage:|(unknown|unrecognized|invalid) option|bad value'

# Indented code block lines (4 spaces after a blank line or another such
# line), with their line numbers, as "LINE<TAB>TEXT".
code_lines() {
    awk '/^    / && inblock { sub(/^    /, ""); print NR "\t" $0; next }
         { inblock = ($0 ~ /^[ \t]*$/) || (inblock && /^    /) }' "$readme"
}

code_lines | while IFS="$(printf '\t')" read -r lineno text; do
    case $text in
    build/bin/netrig* | netrig\ * | prove\ *) ;;
    *) continue ;;
    esac
    # the command: drop the description after two spaces, a comment, [OPTS]
    cmd=$(printf '%s\n' "$text" | sed -e 's/  .*//' -e 's/ #.*//' -e 's/ \[[^]]*\]//g')
    n=$((n + 1))
    dir=$work/dir$n
    mkdir "$dir"
    cmd=$(printf '%s\n' "$cmd" | awk -v f="$cap_a" -v a="$cap_a" -v b="$cap_b" \
        -v d="$dir" -v r="$work/report$n.xml" '{
            for (i = 1; i <= NF; i++) {
                if ($i == "FILE") $i = f; else if ($i == "A") $i = a
                else if ($i == "B") $i = b; else if ($i == "DIR") $i = d
                else if ($i == "report.xml") $i = r
            }
            print }')
    rc=0
    (cd "$work" && timeout -k 5 "$tmo" sh -c "$cmd") >"$work/out" 2>&1 || rc=$?
    why=""
    if [ "$rc" -eq 2 ]; then
        why="exit status 2 (usage error)"
    elif [ "$rc" -eq 124 ]; then
        why="timed out after ${tmo}s"
    elif grep -Eiq "$bad" "$work/out"; then
        why="its output says: $(grep -Eim1 "$bad" "$work/out")"
    fi
    if [ -n "$why" ]; then
        echo "FAIL  $readme:$lineno: $text"
        echo "      ran: $cmd"
        echo "      $why"
        sed -n '1,5s/^/      | /p' "$work/out"
        echo x >>"$work/failed"
    else
        echo "ok    $readme:$lineno: $cmd (exit $rc)"
    fi
done

# Every `make TARGET` the README names must exist (dry run only).
grep -no '`make [a-z][a-z-]*\|^    make [a-z][a-z-]*' "$readme" | sed 's/:[ `]*make /:/' |
    sort -t: -k2,2 -u | sort -n | while IFS=: read -r lineno t; do
    if make -n --no-print-directory B="$build" "$t" >/dev/null 2>"$work/make.err"; then
        echo "ok    $readme:$lineno: make $t is a target"
    else
        echo "FAIL  $readme:$lineno: make $t: $(head -n 1 "$work/make.err")"
        echo x >>"$work/failed"
    fi
done

[ ! -s "$work/failed" ] || { echo "test-readme: $(wc -l <"$work/failed") failing line(s)"; exit 1; }
echo "test-readme: every README command ran as documented"
