#!/bin/sh
# The guide harness/doc/your-server.md must stay true.  Each of its indented
# code blocks (4 spaces, after a blank line) is checked by what the prose
# line just before it says it is:
#
#   ...(`PATH`):   an excerpt: every line of the block is a line of PATH
#                  (surrounding blanks ignored), in the same order;
#   ...prints:     the output of the command run just before: every line is
#                  a line of that output, in order, `...` standing for any
#                  text;
#   anything else  commands: every line starts with `build/bin/netrig ` or
#                  `make `.  A netrig command is run (in order, in one
#                  scratch directory with harness/ linked and build/ pointing
#                  at BUILD) and must exit 0, or N when the line ends in
#                  `# exit N`; a `make TARGET ...` line must be a target
#                  (`make -n`, not run: make check would recurse).
#
# A block that is none of these fails, so nothing in the guide goes
# unchecked.  So does a `NAME.scn`, `.inc`, `.conf` or `.html` in
# backquotes that is not in harness/scenarios/peers/ (nor a path that
# exists).
#
#   sh ci/test-guide.sh [BUILD] [GUIDE]    defaults: build harness/doc/your-server.md
set -eu
build=$(cd "${1:-build}" && pwd)
guide=${2:-harness/doc/your-server.md}
root=$(pwd)
tmo=${GUIDE_TIMEOUT:-120}
work=$(mktemp -d "${TMPDIR:-/tmp}/netrig-guide.XXXXXX")
trap 'rm -rf "$work"' EXIT
ln -s "$root/harness" "$work/harness"
ln -s "$build" "$work/build"
tab=$(printf '\t')
: >"$work/failures"
: >"$work/out"

fail() {
    printf '%s\n' "FAIL  $guide:$*"
    echo x >>"$work/failures"
}

# One record per code line: KIND<TAB>BLOCK<TAB>LINE<TAB>ARG<TAB>TEXT, KIND
# being EXCERPT (ARG = the file), OUTPUT or CODE; BLOCK is the line the
# block starts at.
awk -v OFS='\t' '
    /^    / && inblock { sub(/^    /, ""); print kind, start, NR, arg, $0; next }
    /^    / && blank_before {
        inblock = 1; start = NR; kind = "CODE"; arg = "-"
        if (match(prose, /`[^`]+`\):$/) || match(prose, /`[^`]+`:$/)) {
            kind = "EXCERPT"; arg = substr(prose, RSTART + 1)
            sub(/`.*/, "", arg)
        } else if (prose ~ /prints:$/)
            kind = "OUTPUT"
        sub(/^    /, ""); print kind, start, NR, arg, $0; next
    }
    { inblock = 0; blank_before = ($0 ~ /^[ \t]*$/)
      if (!blank_before) prose = $0 }
' "$guide" >"$work/lines"

last_block=""
pos=0
while IFS="$tab" read -r kind block lineno arg text; do
    [ "$block" = "$last_block" ] || pos=0
    last_block=$block
    case $kind in
    EXCERPT)
        # the first line after pos equal to text (both trimmed)
        found=$(want=$text awk -v pos="$pos" '
            function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
            NR > pos && trim($0) == trim(ENVIRON["want"]) { print NR; exit }' "$arg" 2>/dev/null || true)
        if [ -n "$found" ]; then
            pos=$found
            printf '%s\n' "ok    $guide:$lineno: in $arg:$found"
        else
            fail "$lineno: not in $arg (after its line $pos): $text"
        fi
        ;;
    OUTPUT)
        found=$(want=$text awk -v pos="$pos" '
            function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
            function matches(line, pat,   n, p, i, at) {
                n = split(pat, p, /\.\.\./)
                if (n == 1) return line == pat
                if (substr(line, 1, length(p[1])) != p[1]) return 0
                line = substr(line, length(p[1]) + 1)
                for (i = 2; i < n; i++) {
                    if (!(at = index(line, p[i]))) return 0
                    line = substr(line, at + length(p[i]))
                }
                return length(line) >= length(p[n]) &&
                    substr(line, length(line) - length(p[n]) + 1) == p[n]
            }
            NR > pos && matches(trim($0), trim(ENVIRON["want"])) { print NR; exit }' "$work/out")
        if [ -n "$found" ]; then
            pos=$found
            printf '%s\n' "ok    $guide:$lineno: printed (line $found)"
        else
            fail "$lineno: the command before did not print: $text"
            sed 's/^/      | /' "$work/out"
        fi
        ;;
    CODE)
        want=0
        cmd=$text
        case $text in
        *"# exit "*)
            want=${text##*# exit }
            cmd=${text%%  # exit *}
            ;;
        esac
        case $cmd in
        build/bin/netrig\ *)
            rc=0
            (cd "$work" && timeout -k 5 "$tmo" sh -c "$cmd") >"$work/out" 2>&1 || rc=$?
            if [ "$rc" = "$want" ]; then
                printf '%s\n' "ok    $guide:$lineno: $cmd (exit $rc)"
            else
                fail "$lineno: $cmd: exit $rc, the guide says $want"
                tail -n 20 "$work/out" | sed 's/^/      | /'
            fi
            ;;
        make\ *)
            if make -n --no-print-directory B="$build" ${cmd#make } >/dev/null 2>"$work/make.err"; then
                printf '%s\n' "ok    $guide:$lineno: $cmd is a target (dry run)"
            else
                fail "$lineno: $cmd: $(head -n 1 "$work/make.err")"
            fi
            ;;
        *)
            fail "$lineno: neither a command nor an excerpt or output (say whose, end the line before with \`FILE\`: or prints:): $text"
            ;;
        esac
        ;;
    esac
done <"$work/lines"

# Scenario files named in backquotes exist.
grep -no '`[A-Za-z0-9_./-]\+\.\(scn\|inc\|conf\|html\)`' "$guide" | tr -d '`' |
    while IFS=: read -r lineno name; do
        if [ -e "$name" ] || [ -e "harness/scenarios/peers/$name" ]; then
            printf '%s\n' "ok    $guide:$lineno: $name exists"
        else
            fail "$lineno: no such file: $name"
        fi
    done

[ "$(wc -l <"$work/lines")" -gt 0 ] || fail "0: no code blocks found"
[ ! -s "$work/failures" ] || { echo "test-guide: $(wc -l <"$work/failures") failing line(s)"; exit 1; }
echo "test-guide: every command, excerpt and output of $guide checked"
