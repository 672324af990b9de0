# common.sh - shell helpers shared by the fuzz scripts (sourced, not run).
# Expects B (build dir) and optionally FUZZ_MAKE (how to call make with
# fuzz.mk included; set by `make fuzz...`).

B=${B:-build}

# fz_make TARGET...: build fuzz targets, whether or not the top Makefile
# includes fuzz/fuzz.mk yet.
fz_make() {
    if [ -n "${FUZZ_MAKE:-}" ]; then
        $FUZZ_MAKE "$@"
    else
        make --no-print-directory B="$B" "$@"
    fi
}

# fz_stat FILE KEY: value of KEY in an AFL++ fuzzer_stats file (empty if none).
fz_stat() {
    sed -n "s/^$2 *: *//p" "$1" 2>/dev/null | head -n 1
}

# The environment every afl-fuzz run here needs: no root, no UI, a CPU
# binding that does not fail on a busy machine, no complaints about the core
# pattern, sanitizer options afl-fuzz accepts.
fz_afl_env() {
    export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
    export AFL_TRY_AFFINITY=1 AFL_FAST_CAL=1 AFL_IGNORE_UNKNOWN_ENVS=1
    export AFL_NO_CRASH_README=1
    unset AFL_AUTORESUME
    # afl-fuzz refuses sanitizer settings that would hide crashes from it
    # (such as make check's): its required ones are appended, the last
    # setting wins.
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}abort_on_error=1:symbolize=0"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:abort_on_error=1"
}

# fz_say MESSAGE...: one line of script output, prefixed.
fz_say() {
    echo "fuzz: $*"
}
