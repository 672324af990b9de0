#!/bin/sh
# The ClusterFuzzLite build must work: run .clusterfuzzlite/build.sh the way
# the OSS-Fuzz builder does (clang, libFuzzer, ASan; $SRC/netrig, $OUT) into
# BUILD/cfl, then run every fuzzer it produced over its own seed corpus with
# its dictionary.  Exits 0 when every harness was built, shipped its corpus
# and ran it clean.
set -u
build=${1:-build}
dir=$build/cfl
rm -rf "$dir"
mkdir -p "$dir/src" "$dir/out" || exit 1
ln -s "$(pwd)" "$dir/src/netrig" || exit 1
SRC=$(cd "$dir/src" && pwd) OUT=$(cd "$dir/out" && pwd) CC=clang \
    CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address,undefined -fsanitize=fuzzer-no-link" \
    LIB_FUZZING_ENGINE=-fsanitize=fuzzer bash .clusterfuzzlite/build.sh > "$dir/build.log" 2>&1 || {
    cat "$dir/build.log"
    exit 1
}
status=0
for h in fuzz/*.c; do
    name=$(basename "$h" .c)
    bin=$dir/out/$name
    if [ ! -x "$bin" ] || [ ! -f "$dir/out/${name}_seed_corpus.zip" ]; then
        echo "missing: $bin or its seed corpus"
        status=1
        continue
    fi
    mkdir -p "$dir/corpus/$name"
    unzip -q -o "$dir/out/${name}_seed_corpus.zip" -d "$dir/corpus/$name" || status=1
    dict=""
    [ -f "$dir/out/$name.dict" ] && dict=-dict=$dir/out/$name.dict
    # a finding is written into $dir, never into the checkout
    # shellcheck disable=SC2086 # dict is empty or one argument
    if ! "$bin" -runs=500 -seed=1 -timeout=10 -max_total_time=120 -artifact_prefix="$dir/" $dict \
        "$dir/corpus/$name" > "$dir/$name.log" 2>&1; then
        echo "$name: the ClusterFuzzLite build failed on its corpus:"
        tail -n 20 "$dir/$name.log"
        status=1
    fi
done
exit $status
