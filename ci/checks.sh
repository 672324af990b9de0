# checks.sh - the check helpers of the ci/test-*.sh scripts (sourced, not
# run).  Expects $work, a scratch directory.  Each prints one "ok" or "FAIL"
# line; a failure sets bad=1 and shows the first lines of the output.
bad=0
ok() { echo "ok    $*"; }
no() { echo "FAIL  $*"; bad=1; }
# check DESCRIPTION COMMAND...: the command must succeed
check() {
    d=$1
    shift
    if "$@" >"$work/check.out" 2>&1; then ok "$d"; else no "$d"; head -n 20 "$work/check.out" | sed 's/^/      /'; fi
}
# refuse DESCRIPTION COMMAND...: the command (a checker given a case it must
# reject) must fail
refuse() {
    d=$1
    shift
    if "$@" >"$work/check.out" 2>&1; then no "$d (the checker accepted it)"; else ok "$d"; fi
}
