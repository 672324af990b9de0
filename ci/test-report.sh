#!/bin/sh
# What CI systems read from `netrig run`, checked as they would read it:
#   - TAP and human lines stream: a reader sees scenario 1's line before
#     scenario 2 ends (scenario 2 waits for a file the reader creates);
#   - a heartbeat line for a running scenario (--heartbeat, shortened);
#   - --json lines validate against harness/doc/run-json.schema.json
#     (python3-jsonschema), JUnit against ci/junit.xsd (xmllint), both valid
#     UTF-8 for a scenario whose name and text are not;
#   - GitHub annotations and the step summary of a failing scenario;
#   - --shard K/N covers every scenario exactly once for N = 1..5, with and
#     without --timings; --list shows runs and params;
#   - artifacts: mirrored paths, never hidden, no "..", nothing left after a
#     green run, reports naming only folders that exist.
# Each checker is also shown to fail on a case it must reject.
#
#   sh ci/test-report.sh [BUILD]          (about 5 s)
set -u
build=$(cd "${1:-build}" && pwd)
root=$(pwd)
netrig=$build/bin/netrig
schema=$root/harness/doc/run-json.schema.json
xsd=$root/ci/junit.xsd
work=$(mktemp -d "${TMPDIR:-/tmp}/netrig-report.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
. "$root/ci/checks.sh"

mkdir -p s sub
printf 'sleep 1ms\n' > s/1-quick.scn
# waits (up to $2) for the file $1, which only a reader of the stream creates
waits() {
    printf 'target t nowait = sh -c "while [ ! -e %s ]; do sleep 0.02; done"\nexit t 0 within %s\n' \
        "$work/$1" "$2"
}
waits seen-tap 10s > s/2-waits-tap.scn
waits seen-human 10s > s/2-waits-human.scn
waits seen-late 1s > s/2-waits-late.scn
# a failing scenario whose file name and text are not UTF-8
nonutf=$(printf 's/caf\351.scn')
printf 'target srv = tcp-greet --port 0\nconnect a = tcp ${srv}\nexpect a "Bye\377\\n"\n' > "$nonutf"
printf 'bogus step\n' > s/bad.scn
printf 'param msg = "hi"\nsleep 1ms\n' > s/p.scn

# ---- streaming --------------------------------------------------------------
# The reader creates $1 once it has read a line matching $2, and keeps all.
reader() {
    while IFS= read -r line; do
        printf '%s\n' "$line" >> "$3"
        case $line in $2) touch "$1" ;; esac
    done
}
{ "$netrig" run -j 1 -a art --tap s/1-quick.scn s/2-waits-tap.scn 2>/dev/null; echo $? > rc.tap; } |
    reader seen-tap 'ok 1 - s/1-quick.scn' tap.out
check "TAP streams: the reader saw 'ok 1' while scenario 2 still ran (exit $(cat rc.tap))" \
    test "$(cat rc.tap)" = 0
check "TAP stream holds both lines" grep -q '^ok 2 - s/2-waits-tap.scn$' tap.out
{ "$netrig" run -j 1 -a art s/1-quick.scn s/2-waits-human.scn; echo $? > rc.human; } |
    reader seen-human 'PASS  s/1-quick.scn *\[1/2 *' human.out
check "human lines stream, with [n/N elapsed] (exit $(cat rc.human))" test "$(cat rc.human)" = 0
# must fail: a reader that only looks once the stream has ended is too late
{ "$netrig" run -j 1 -a art --tap s/1-quick.scn s/2-waits-late.scn 2>/dev/null; echo $? > rc.late; } |
    { cat > late.out; grep -q '^ok 1 ' late.out && touch seen-late; }
check "must fail: a reader that waits for the end makes scenario 2 fail" test "$(cat rc.late)" = 1

printf 'sleep 700ms\n' > s/slow.scn
"$netrig" run -a art --heartbeat 200ms s/slow.scn > beat.out 2>&1
check "heartbeat: 'still running' lines for a running scenario" \
    grep -q '^\.\.\.\.  s/slow.scn still running (0s); last step: ' beat.out
"$netrig" run -a art --heartbeat 0 s/slow.scn > nobeat.out 2>&1
refuse "must fail: no heartbeat line with --heartbeat 0" grep -q 'still running' nobeat.out

# ---- JSON Lines, JUnit, annotations ----------------------------------------------
touch seen-tap
env GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY="$work/summary.md" "$netrig" run -j 2 -a art \
    --json ev.jsonl --junit j.xml s/1-quick.scn "$nonutf" s/bad.scn s/2-waits-tap.scn \
    > gh.out 2>&1
echo $? > rc.gh
check "a run with a malformed file exits 2" test "$(cat rc.gh)" = 2
cat > validate.py <<'EOF'
import json, sys, os, re, jsonschema
def unescape(s):  # \xNN back to the byte it stands for (the documented escape)
    return re.sub(rb'\\x([0-9A-F]{2})', lambda m: bytes([int(m.group(1), 16)]), s.encode())
schema = json.load(open(sys.argv[1]))
v = jsonschema.Draft7Validator(schema)
events = []
for n, raw in enumerate(open(sys.argv[2], 'rb'), 1):
    ev = json.loads(raw.decode('utf-8'))          # strict UTF-8
    errs = sorted(v.iter_errors(ev), key=str)
    if errs:
        sys.exit("line %d: %s" % (n, errs[0].message))
    events.append(ev)
kinds = [e['event'] for e in events]
assert kinds[0] == 'run_start' and kinds[-1] == 'run_end', kinds
ends = [e for e in events if e['event'] == 'scenario_end']
assert len(ends) == events[0]['scenarios'], "one scenario_end per scenario"
for e in ends:
    if e['artifacts'] is not None:
        assert os.path.isdir(unescape(e['artifacts'])), "artifacts %s do not exist" % e['artifacts']
print("%d events valid" % len(events))
EOF
check "JSON Lines validate against the schema (one end per scenario, artifacts exist)" \
    python3 validate.py "$schema" ev.jsonl
check "step_failure names line 3 and keeps the bytes as \\xNN" \
    grep -q '"event":"step_failure".*"file":"s/caf\\\\xE9.scn".*"line":3,"step":"expect a \\"Bye\\\\xFF\\\\n\\""' ev.jsonl
sed 's/"outcome":"passed"/"outcome":"fine"/' ev.jsonl > doctored.jsonl
refuse "must fail: the schema rejects an unknown outcome" python3 validate.py "$schema" doctored.jsonl
sed '1s/"jobs":2/"jobs":"2"/' ev.jsonl > doctored2.jsonl
refuse "must fail: the schema rejects a mistyped field" python3 validate.py "$schema" doctored2.jsonl

check "JUnit validates against ci/junit.xsd" xmllint --noout --schema "$xsd" j.xml
check "JUnit: classname is the directory, file and line of the failure" \
    grep -q '<testcase classname="s" name="caf\\xE9.scn" file="s/caf\\xE9.scn" line="3" time=' j.xml
check "JUnit: totals on <testsuites>" grep -q '<testsuites name="netrig" tests="4" failures="1" errors="1" skipped="0"' j.xml
sed 's/ time="[0-9.]*"/ time="soon"/' j.xml > doctored.xml
refuse "must fail: the XSD rejects a time that is not a number" xmllint --noout --schema "$xsd" doctored.xml
printf '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="caf\351"/>\n' > raw.xml
refuse "must fail: xmllint rejects a raw non-UTF-8 byte" xmllint --noout --schema "$xsd" raw.xml
cat > junit_dirs.py <<'EOF'
import os, re, sys, xml.etree.ElementTree as ET
n = 0
for out in ET.parse(sys.argv[1]).iter('system-out'):
    for d in re.findall(r'^artifacts: (.*)$', out.text or '', re.M):
        raw = re.sub(rb'\\x([0-9A-F]{2})', lambda m: bytes([int(m.group(1), 16)]), d.encode())
        assert os.path.isdir(raw), "missing: %s" % d
        n += 1
assert n > 0, "no artifacts named"
print(n, "folders, all exist")
EOF
check "JUnit names only artifact folders that exist" python3 junit_dirs.py j.xml
check "GitHub: ::error for the failure, with file, line and title" \
    grep -q '^::error file=s/caf\\xE9.scn,line=3,title=netrig%3A s/caf\\xE9.scn failed::s/caf\\xE9.scn:3: expect a "Bye\\xFF\\n"%0A' gh.out
check "GitHub: ::error for the malformed file at its line" \
    grep -q '^::error file=s/bad.scn,line=1,title=netrig%3A s/bad.scn could not be judged::' gh.out
check "GitHub: no annotation for a pass" sh -c '! grep -q "^::.*1-quick" gh.out'
check "GitHub: step summary table row" grep -q '^| \*\*failed\*\* | s/caf\\xE9.scn | line 3 | ' summary.md
env -u GITHUB_ACTIONS "$netrig" run -a art s/1-quick.scn "$nonutf" > nogh.out 2>&1
refuse "must fail: no annotations outside GitHub Actions" grep -q '^::error' nogh.out

# ---- --shard and --list -------------------------------------------------------
suite=$root/harness/scenarios
"$netrig" run --list "$suite" | grep -v '^ ' | sort > full.list
# covers FILE: the concatenated shard lists in FILE hold full.list exactly once
covers() {
    [ -z "$(sort "$1" | uniq -d)" ] && sort "$1" | cmp -s - full.list
}
# a timing file: a made-up, deterministic duration per scenario file
find "$suite" -name '*.scn' | sort | awk '{ print (length($0) % 7) + 0.5, $0 }' > timings.txt
for mode in plain timed; do
    n=1
    while [ $n -le 5 ]; do
        : > shards.list
        k=1
        while [ $k -le $n ]; do
            if [ $mode = timed ]; then
                "$netrig" run --list --shard $k/$n --timings timings.txt "$suite" 2>/dev/null
            else
                "$netrig" run --list --shard $k/$n "$suite" 2>/dev/null
            fi | grep -v '^ ' >> shards.list
            k=$((k + 1))
        done
        check "--shard K/$n ($mode) covers all $(wc -l < full.list) scenarios exactly once" covers shards.list
        n=$((n + 1))
    done
done
head -n 3 full.list > part.list
refuse "must fail: the coverage check rejects a missing scenario" covers part.list
{ cat full.list; head -n 1 full.list; } > dup.list
refuse "must fail: the coverage check rejects a scenario listed twice" covers dup.list
"$netrig" run --list --shard 2/3 "$suite" > a.list 2>&1
"$netrig" run --list --shard 2/3 "$suite" > b.list 2>&1
check "--shard is deterministic" cmp a.list b.list
"$netrig" run --list -D msg=a,b s/p.scn > params.list
check "--list shows each run of a -D matrix with its param" \
    grep -q '^    param msg = b (-D)$' params.list
check "--list shows a param's default" sh -c '"$0" run --list s/p.scn | grep -q "^    param msg = hi\$"' "$netrig"
check "--shard rejects 0/3 and 4/3" sh -c '! "$0" run --shard 0/3 s/p.scn && ! "$0" run --shard 4/3 s/p.scn' "$netrig"

# ---- artifacts --------------------------------------------------------------------
(cd sub && "$netrig" run -a ../art2 "../$nonutf" ./../s/1-quick.scn > ../art2.out 2>&1)
check "artifacts mirror the path; '..' becomes '__'" test -d "art2/__/$nonutf"
check "no hidden or '..' folder among the artifacts" sh -c '[ -z "$(find art2 -name ".*" -o -name "..")" ]'
"$netrig" run -a art3 s/1-quick.scn > art3.out 2>&1
check "a green run leaves no artifacts folder" test ! -e art3
"$netrig" run -k -a art4 s/1-quick.scn > art4.out 2>&1
check "--keep keeps the passing scenario's folder" test -f art4/s/1-quick.scn/steps.log
check "netrig --version" sh -c '"$0" --version | grep -q "^netrig [^ ]"' "$netrig"

[ $bad -eq 0 ] && echo "test-report: all checks passed"
exit $bad
