#!/bin/sh
# The CI definitions netrig ships must parse and say what the README says:
# .github/workflows/ci.yml runs `make ... check` on Debian 12 and uploads
# JUnit and artifacts, and a --shard matrix; cflite_pr.yml and
# cflite_batch.yml run ClusterFuzzLite's build_fuzzers and run_fuzzers in
# code-change and batch mode; ci/gitlab-ci.example.yml runs make check with
# a JUnit report and a parallel --shard job.  YAML is read with python3-yaml;
# the checker is shown to reject a malformed file and a workflow without
# jobs.                                         (under a second)
set -u
work=$(mktemp -d "${TMPDIR:-/tmp}/netrig-workflows.XXXXXX")
trap 'rm -rf "$work"' EXIT
cat > "$work/check.py" <<'PY'
import sys, yaml

def steps(job):
    return job.get('steps', [])

def runs(doc):
    for job in doc['jobs'].values():
        for s in steps(job):
            yield s.get('run', ''), s.get('uses', ''), s.get('with', {})

def github(path, kind):
    doc = yaml.safe_load(open(path))
    assert isinstance(doc, dict) and 'jobs' in doc and doc['jobs'], 'no jobs'
    on = doc.get('on', doc.get(True))  # YAML 1.1 reads a bare `on` as true
    assert on, 'no trigger'
    for name, job in doc['jobs'].items():
        assert 'runs-on' in job and steps(job), 'job %s has no runner or steps' % name
    r = list(runs(doc))
    if kind == 'ci':
        assert any('make' in run and ' check' in run for run, _, _ in r), 'no make check'
        assert any(u.startswith('actions/upload-artifact') and 'junit' in str(w) for _, u, w in r), \
            'JUnit not uploaded'
        assert any('--shard' in run for run, _, _ in r), 'no --shard matrix'
        assert doc['jobs']['check']['container']['image'] == 'debian:12', 'not Debian 12'
    else:
        uses = [u for _, u, _ in r]
        assert any(u.startswith('google/clusterfuzzlite/actions/build_fuzzers@') for u in uses), 'no build_fuzzers'
        modes = [w.get('mode') for _, u, w in r if u.startswith('google/clusterfuzzlite/actions/run_fuzzers@')]
        assert modes == [kind], 'run_fuzzers mode %s, not %s' % (modes, kind)

def gitlab(path):
    doc = yaml.safe_load(open(path))
    check = doc['check']
    assert any('make' in s and 'check' in s for s in check['script']), 'no make check'
    assert check['artifacts']['reports']['junit'], 'no JUnit report'
    assert doc['scenarios']['parallel'] > 1 and '--shard' in ' '.join(doc['scenarios']['script'])

kind, path = sys.argv[1], sys.argv[2]
try:
    gitlab(path) if kind == 'gitlab' else github(path, kind)
except Exception as e:
    sys.exit('%s: %s' % (path, e))
print('%s: valid (%s)' % (path, kind))
PY
bad=0
t() { # t EXPECT KIND FILE: EXPECT ok|fail
    if python3 "$work/check.py" "$2" "$3" >"$work/out" 2>&1; then r=ok; else r=fail; fi
    if [ "$r" = "$1" ]; then echo "ok    $3 ($2): $(tail -n 1 "$work/out")"
    else echo "FAIL  $3 ($2): expected $1: $(tail -n 3 "$work/out")"; bad=1; fi
}
t ok ci .github/workflows/ci.yml
t ok code-change .github/workflows/cflite_pr.yml
t ok batch .github/workflows/cflite_batch.yml
t ok gitlab ci/gitlab-ci.example.yml
# must fail: a tab where YAML wants spaces, and a workflow with no jobs
printf 'name: x\non: push\njobs:\n\tbuild:\n' > "$work/tab.yml"
t fail ci "$work/tab.yml"
printf 'name: x\non: push\n' > "$work/nojobs.yml"
t fail batch "$work/nojobs.yml"
sed 's/mode: batch/mode: code-change/' .github/workflows/cflite_batch.yml > "$work/wrongmode.yml"
t fail batch "$work/wrongmode.yml"
exit $bad
