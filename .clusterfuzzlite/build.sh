#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build: every fuzz/<name>.c harness, compiled
# with the engine's $CC/$CFLAGS together with the target code it drives,
# linked with $LIB_FUZZING_ENGINE into $OUT/<name> (no dots in the names),
# with its seed corpus and dictionary beside it.
cd "$SRC/netrig"
inc="-Iharness/lib -Itargets/common -Itargets $(pkg-config --cflags libpcap 2>/dev/null || true)"
work=$(mktemp -d)
objs=""
for src in harness/lib/*.c targets/common/*.c fuzz/lib/*.c; do
    o=$work/$(echo "$src" | tr '/' '_').o
    $CC $CFLAGS -std=gnu11 -pthread $inc -c "$src" -o "$o"
    objs="$objs $o"
done
for m in targets/*/main.c; do
    for src in "$(dirname "$m")"/*.c; do
        [ -f "$src" ] && [ "$(basename "$src")" != main.c ] || continue
        o=$work/$(echo "$src" | tr '/' '_').o
        $CC $CFLAGS -std=gnu11 -pthread $inc -c "$src" -o "$o"
        objs="$objs $o"
    done
done
for h in fuzz/*.c; do
    name=$(basename "$h" .c | tr -d '.')
    $CC $CFLAGS -std=gnu11 -pthread $inc -c "$h" -o "$work/h_$name.o"
    # shellcheck disable=SC2086
    $CC $CFLAGS -pthread "$work/h_$name.o" $objs $LIB_FUZZING_ENGINE -lpcap -o "$OUT/$name"
    if [ -d "fuzz/corpus/$name" ]; then
        (cd "fuzz/corpus/$name" && zip -q -j "$OUT/${name}_seed_corpus.zip" ./*)
    fi
    if [ -f "fuzz/dict/$name.dict" ]; then
        cp -L "fuzz/dict/$name.dict" "$OUT/$name.dict"
    fi
done
