#!/bin/sh
# test-import-cycles.sh BUILD: no import circle among the modules of
# harness/src (ci/import-cycles.py over BUILD/obj/harness/src/*.o).  The
# checker first proves it can fail: objects with a planted circle
# (a -> b -> c -> a) must be refused, the same objects without the
# circle's last edge accepted, and the list of known circles
# (ci/import-cycles.known) excuse exactly what it names.
set -u
build=${1:-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. ci/checks.sh
cc=${CC:-cc}

printf 'int b(void);\nint a(void) { return b(); }\n' >"$work/a.c"
printf 'int c(void);\nint b(void) { return c(); }\n' >"$work/b.c"
printf 'int a(void);\nint c(void) { return a(); }\n' >"$work/c.c"
printf 'int c(void) { return 1; }\n' >"$work/c2.c"
for f in a b c c2; do
    $cc -c -o "$work/$f.o" "$work/$f.c" || { no "compile the planted modules"; exit 1; }
done
refuse "a planted circle a -> b -> c -> a is refused" \
    python3 ci/import-cycles.py "$work/a.o" "$work/b.o" "$work/c.o"
if python3 ci/import-cycles.py "$work/a.o" "$work/b.o" "$work/c.o" | grep -q 'c -> a: a'; then
    ok "the refusal names the circle's import and its symbol"
else
    no "the refusal names the circle's import and its symbol"
fi
check "the same modules without the circle's last import pass" \
    python3 ci/import-cycles.py "$work/a.o" "$work/b.o" "$work/c2.o"
echo 'a b c' >"$work/known"
check "a circle listed as known exactly passes" \
    python3 ci/import-cycles.py --known "$work/known" "$work/a.o" "$work/b.o" "$work/c.o"
echo 'a b' >"$work/known"
refuse "a known circle that grew is refused" \
    python3 ci/import-cycles.py --known "$work/known" "$work/a.o" "$work/b.o" "$work/c.o"
echo 'a b c' >"$work/known"
refuse "a known circle that is gone is refused (the list must stay true)" \
    python3 ci/import-cycles.py --known "$work/known" "$work/a.o" "$work/b.o" "$work/c2.o"

set --
for src in harness/src/*.c; do # the objects of today's sources, none left over
    o=$build/obj/${src%.c}.o
    [ -e "$o" ] || { no "no object $o for $src (build first)"; exit 1; }
    set -- "$@" "$o"
done
if [ $# -gt 0 ]; then
    check "no import circle in harness/src ($# modules) but ci/import-cycles.known" \
        python3 ci/import-cycles.py --known ci/import-cycles.known "$@"
else
    no "no objects in $build/obj/harness/src"
fi
exit $bad
