#!/usr/bin/python3
"""ci/mutate.py - mutation testing for netrig's C sources (run by ci/mutate.sh).

Copies the tree (git HEAD, or a plain directory) to WORK/src-N, builds it
once, then for each mutant: writes one mutated line into the copy, rebuilds
the outputs the map names for that file (make recompiles one object and
relinks), runs the map's tests for that file fastest-first with a timeout,
each in a PID namespace of its own (nothing a test started outlives it),
and restores the file.  The working tree is never touched.

Mutant results: killed (a test failed, and failed again when rerun, or hung
past its timeout: "killed (timeout)"), survived (every test passed; "survived
(flaky kill)" when a test failed once but passed on the rerun), stillborn
(did not compile; not counted).  Comments, string/char literals and preprocessor lines are never
mutated; a mutant identical to the original is skipped.  Deterministic:
mutants are enumerated in file/line/column order, SEED picks MAX of them.

The map (ci/mutate.map) has lines `GLOB make OUTPUTS...` (what to rebuild,
relative to the build dir, for every mutant), `GLOB setup OUTPUTS...` (built
once on the unmutated copy: programs and libraries the tests use that do not
contain the file's code) and `GLOB test COMMAND` (in order, fastest first;
{B} is the build dir).  ci/mutate.equiv lists known equivalent mutants as
`FILE:LINE | OPERATOR | LINE AS THE TABLE SHOWS IT | reason`; they are reported as
"equivalent" and left out of the kill rate.
"""
import argparse, fnmatch, glob, json, os, random, re, shutil, subprocess, sys, threading, time

# --- mutant generation ---------------------------------------------------

def code_mask(lines):
    """Per line, the line with comments and string/char literals blanked out
    (same length), so operators are only looked for in code."""
    out, in_comment = [], False
    for line in lines:
        s, i, n = list(line), 0, len(line)
        while i < n:
            if in_comment:
                if line.startswith('*/', i):
                    s[i] = s[i + 1] = ' '
                    i, in_comment = i + 2, False
                else:
                    s[i] = ' '
                    i += 1
            elif line.startswith('/*', i):
                s[i] = s[i + 1] = ' '
                i, in_comment = i + 2, True
            elif line.startswith('//', i):
                for j in range(i, n):
                    s[j] = ' '
                break
            elif line[i] in '"\'':
                q, j = line[i], i + 1
                while j < n and line[j] != q:
                    j += 2 if line[j] == '\\' else 1
                for k in range(i + 1, min(j, n)):   # keep the quotes, blank the body
                    s[k] = ' '
                i = j + 1
            else:
                i += 1
        out.append(''.join(s))
    return out

KEYWORDS = {'if', 'while', 'for', 'switch', 'return', 'sizeof', 'defined',
            '_Alignof', 'alignof', 'case'}
# Token-level swaps; the lookarounds keep <<, >>, ->, <<=, >>=, ==, <=> intact.
SWAPS = [
    ('relational', re.compile(r'(?<![<>=!\-])(<=|>=|<|>)(?![<>=])'),
     {'<': '<=', '<=': '<', '>': '>=', '>=': '>'}),
    ('equality', re.compile(r'(==|!=)'), {'==': '!=', '!=': '=='}),
    ('logical', re.compile(r'(&&|\|\|)'), {'&&': '||', '||': '&&'}),
]
INT = re.compile(r'(?<![\w.])(0[xX][0-9a-fA-F]+|\d+)([uUlL]*)(?![\w.])')
CALL2 = re.compile(r'\b([A-Za-z_]\w*)\s*\(')
SIMPLE_STMT = re.compile(r'^\s*[A-Za-z_*(][^;{}]*;\s*$')
RETURN = re.compile(r'\breturn\b[^;]*;')


def split_args(code, start):
    """Arguments of the call whose '(' is at start-1: list of (begin, end)
    spans at depth 0, and the index of the closing ')', or None."""
    depth, spans, b = 0, [], start
    for i in range(start, len(code)):
        c = code[i]
        if c in '([{':
            depth += 1
        elif c in ')]}':
            if depth == 0:
                spans.append((b, i))
                return spans, i
            depth -= 1
        elif c == ',' and depth == 0:
            spans.append((b, i))
            b = i + 1
    return None


def mutants_of_line(line, code, prev_code):
    """Yield (column, operator, mutated line) for one source line."""
    if code.lstrip().startswith('#'):
        return
    for op, rx, table in SWAPS:
        for m in rx.finditer(code):
            yield m.start(), op, line[:m.start()] + table[m.group(1)] + line[m.end():]
    for m in INT.finditer(code):
        tok = m.group(1)
        v = int(tok, 16) if tok[:2].lower() == '0x' else int(tok)
        for d, name in ((1, 'constant+1'), (-1, 'constant-1')):
            if v + d < 0:
                continue
            new = hex(v + d) if tok[:2].lower() == '0x' else str(v + d)
            yield m.start(), name, line[:m.start()] + new + m.group(2) + line[m.end():]
    # A whole simple statement (call, assignment) after a statement boundary.
    stripped = code.strip()
    if (SIMPLE_STMT.match(code) and code.count('(') == code.count(')')
            and not re.match(r'(return|break|continue|goto|case|default)\b', stripped)
            and prev_code.rstrip()[-1:] in (';', '{', '}', ')', '')
            and not re.search(r'\b(else|do)\s*$', prev_code)):
        ind = line[:len(line) - len(line.lstrip())]
        yield len(ind), 'delete-statement', ind + '(void)0; /* mutant: statement deleted */'
    for m in RETURN.finditer(code):
        yield m.start(), 'delete-return', line[:m.start()] + '(void)0;' + line[m.end():]
    for m in CALL2.finditer(code):
        if m.group(1) in KEYWORDS:
            continue
        # `type name(a, b)` is a definition or prototype, not a call.
        if (re.match(r'^\s*([A-Za-z_]\w*[\s*]+)+$', code[:m.start()])
                and not re.match(r'\s*(return|else|case)\b', code)):
            continue
        r = split_args(code, m.end())
        if not r or len(r[0]) != 2:
            continue
        (a0, a1), (b0, b1) = r[0]
        a, b = line[a0:a1].strip(), line[b0:b1].strip()
        if not a or not b or a == b:
            continue
        # Keep each argument's surrounding blanks where they were.
        pa = line[a0:a1].replace(a, b, 1)
        pb = line[b0:b1].replace(b, a, 1)
        yield m.start(), 'swap-args', line[:a0] + pa + ',' + pb + line[b1:]


def source_text(a, path):
    """The file as the copy has it: the commit's version in a git tree (what
    others have changed but not committed is not mutated), else the file."""
    root = a.root
    if os.path.isdir(os.path.join(root, '.git')):
        return subprocess.run(['git', '-C', root, 'show', a.commit + ':' + path], check=True,
                              capture_output=True, text=True).stdout
    with open(os.path.join(root, path), encoding='utf-8') as f:
        return f.read()


PLANTED = re.compile(r'^\s*#\s*ifdef\s+NETRIG_PLANT_BUG_\w+')
COND_OPEN = re.compile(r'^\s*#\s*if')
COND_ELSE = re.compile(r'^\s*#\s*(else|elif)\b')
COND_END = re.compile(r'^\s*#\s*endif\b')


def planted_lines(lines):
    """Line numbers (1-based) inside an `#ifdef NETRIG_PLANT_BUG_*` branch:
    the planted bugs of the fuzz self-test, never compiled by the build (their
    #else branch is, and is mutated)."""
    out, depth, start = set(), 0, None   # depth of #if nesting inside a planted branch
    for no, line in enumerate(lines, 1):
        if start is None:
            if PLANTED.match(line):
                start, depth = no, 0
            continue
        if COND_OPEN.match(line):
            depth += 1
        elif COND_END.match(line) or (COND_ELSE.match(line) and depth == 0):
            if depth == 0:
                start = None
                continue
            if COND_END.match(line):
                depth -= 1
        out.add(no)
    return out


def enumerate_mutants(a, path):
    lines = source_text(a, path).split('\n')
    masked = code_mask(lines)
    skip = planted_lines(lines)
    found, prev = [], ''
    for no, (line, code) in enumerate(zip(lines, masked), 1):
        if no in skip:
            continue
        seen = set()
        for col, op, new in mutants_of_line(line, code, prev):
            if new == line or (op, new) in seen:   # identical or duplicate
                continue
            seen.add((op, new))
            found.append({'file': path, 'line': no, 'col': col, 'op': op,
                          'orig': line, 'new': new})
        if code.strip():
            prev = code
    return found

# --- map, equivalents ----------------------------------------------------

def read_map(path):
    rules = []   # (glob, kind, value)
    with open(path, encoding='utf-8') as f:
        for raw in f:
            raw = raw.strip()
            if not raw or raw.startswith('#'):
                continue
            glob, kind, value = raw.split(None, 2)
            if kind not in ('make', 'setup', 'test'):
                sys.exit('%s: unknown kind %r' % (path, kind))
            rules.append((glob, kind, value))
    return rules


def plan_for(rules, path, setup=False):
    """The outputs to build (per mutant; with setup, also those built only
    once on the unmutated copy) and the tests to run for a file."""
    outs, tests = [], []
    for glob, kind, value in rules:
        if fnmatch.fnmatch(path, glob):
            if kind == 'make' or (kind == 'setup' and setup):
                outs += [o for o in value.split() if o not in outs]
            elif kind == 'setup':
                pass
            elif value not in tests:
                tests.append(value)
    return outs, tests


def read_equiv(path):
    eq = {}
    if path and os.path.exists(path):
        with open(path, encoding='utf-8') as f:
            for raw in f:
                if raw.strip() and not raw.startswith('#'):
                    # FILE:LINE | OP | LINE | REASON; the LINE may hold ' | '
                    # itself (`a << 6 | b`): it is all between OP and REASON
                    parts = [p.strip() for p in raw.rstrip('\n').split(' | ')]
                    if len(parts) >= 4:
                        eq[(parts[0], parts[1], ' | '.join(parts[2:-1]))] = parts[-1]
    return eq

# --- running -------------------------------------------------------------

# Each test (and build) runs in a PID namespace of its own, its init a
# shell that runs the command: when that init ends (the test ended, or, at
# the timeout, unshare was killed and took it along: --kill-child), the
# kernel kills every process left in the namespace, whatever its process
# group or session (a mutant of nr_proc.c can leave a test's children in
# groups of their own), and the init's exit waits for them; the init says
# in the log how many there were.  /proc is the namespace's, so the tests
# see their own pids there.
# The namespace has a mount namespace of its own too (--mount-proc), and
# the init mounts a fresh tmpfs over /tmp in it: what a test leaves in /tmp
# (a test killed at its timeout, or by a mutant, skips its teardown) goes
# with the namespace.  The test's directory, if under /tmp (WORK often is),
# is bound back at its path first: "." still names the directory the tmpfs
# now hides, and mount -c takes it as it is (not looked up again by name).
# A TMPDIR under /tmp is made again in the private one (mktemp and the
# compiler would find it missing).  The init says in the log what the test
# left there; when its own set-up fails it says NO_TMP and exits 125, and
# sh() stops the run rather than judge that as the test's failure.
# (Not in a user namespace where this fails, as a user: the tests would run
# as its root, and those that count on a permission being refused would not
# be the same tests.)
UNSHARE = ['unshare', '--pid', '--fork', '--kill-child', '--mount-proc']
NO_TMP = 'mutate: no private /tmp for the test'   # the init's set-up failed (exit 125)
INIT = ('c=$(pwd -P) && mount -t tmpfs -o mode=1777 mutate-tmp /tmp && '
        '{ case "$c" in /tmp/*) mkdir -p "$c" && mount -c --bind . "$c";; esac; } && cd "$c" && '
        '{ case "${TMPDIR:-}" in /tmp/*) mkdir -p "$TMPDIR";; esac; } || '
        '{ echo "%s"; exit 125; }; '
        'sh -c "$1"; r=$?; n=0; for d in /proc/[0-9]*; do [ "$d" = /proc/1 ] || n=$((n+1)); '
        'done; [ "$n" -eq 0 ] || echo "mutate: the test left $n processes; killed with its PID '
        'namespace"; t=; for e in /tmp/* /tmp/.[!.]*; do [ -e "$e" ] && case "$c/" in "$e"/*) ;; '
        '*) t="$t ${e#/tmp/}";; esac; done; [ -z "$t" ] || echo "mutate: the test left in /tmp:$t '
        '(gone with its tmpfs)"; exit "$r"') % NO_TMP
_isolation = None


def isolation():
    """The command that runs a test in a PID namespace (and /tmp) of its own,
    or None, said once, where unshare cannot make one (not root)."""
    global _isolation
    if _isolation is None:
        try:
            ok = subprocess.run(UNSHARE + ['sh', '-c', INIT, 'mutate-init', 'true'],
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                timeout=30).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        _isolation = UNSHARE if ok else []
        if not ok:
            print('mutate: no PID namespace with a private /tmp here (%s and a tmpfs on /tmp '
                  'fail): a process a test leaves outside its process group is not killed, '
                  'nor what it leaves in /tmp removed' % ' '.join(UNSHARE), file=sys.stderr,
                  flush=True)
    return _isolation or None


def ns_init(pid):
    """The init of the PID namespace of unshare process pid (its child), or None."""
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                with open('/proc/%s/stat' % d, 'rb') as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat[stat.rindex(b')') + 2:].split()[1]) == pid:
                return int(d)
    return None


def sh(cmd, cwd, timeout, log, env):
    """Run cmd in sh, in a PID namespace and /tmp of its own (see above); returns
    'ok', 'fail' or 'timeout'.  Nothing it started is left running when it
    returns (without a namespace: its process group is killed at the
    timeout)."""
    with open(log, 'ab') as lf:
        lf.write(('$ %s\n' % cmd).encode())
        lf.flush()
        ns = isolation()
        args = ns + ['sh', '-c', INIT, 'mutate-init', cmd] if ns else cmd
        p = subprocess.Popen(args, shell=not ns, cwd=cwd, stdout=lf, stderr=lf,
                             stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        try:
            r = p.wait(timeout=timeout)
            if r == 125 and ns:   # the namespace's set-up, not the test, failed?
                lf.flush()
                with open(log, 'rb') as f:
                    f.seek(max(0, os.path.getsize(log) - 200))
                    if NO_TMP.encode() in f.read():
                        raise RuntimeError('%s (%s): the isolation that worked at the start '
                                           'failed; stopping rather than judging' % (NO_TMP, cmd))
            return 'ok' if r == 0 else 'fail'
        except subprocess.TimeoutExpired:
            init = ns and ns_init(p.pid)
            os.killpg(p.pid, 9)   # unshare and its group (--kill-child: the init too)
            p.wait()
            for _ in range(1000 if init else 0):   # the init ends last: 10 s at most
                try:
                    with open('/proc/%d/stat' % init, 'rb') as f:
                        if f.read().split(b') ')[-1][:1] == b'Z':
                            break
                except OSError:
                    break
                time.sleep(0.01)
            return 'timeout'


class Worker:
    def __init__(self, a, n, rules):
        self.a, self.rules = a, rules
        self.dir = os.path.join(a.work, 'src-%d' % n)
        self.env = dict(os.environ, NR_BIN='build/bin')
        self.timeouts = {}

    def make(self, outs, log):
        cmd = 'make -s B=build NR_NODEPS=1 ' + ' '.join('build/' + o for o in outs)
        return sh(cmd, self.dir, self.a.build_timeout, log, self.env)

    def setup(self, files):
        """Copy, build and time every test once on the original sources."""
        if os.path.exists(self.dir):
            shutil.rmtree(self.dir)
        os.makedirs(self.dir)
        if os.path.isdir(os.path.join(self.a.root, '.git')):
            subprocess.run('git -C "%s" archive %s | tar -x -C "%s"' % (
                self.a.root, self.a.commit, self.dir),
                           shell=True, check=True)
        else:
            shutil.rmtree(self.dir)
            shutil.copytree(self.a.root, self.dir)
        log = self.dir + '.setup.log'
        outs, tests = [], []
        for f in files:
            o, t = plan_for(self.rules, f, setup=True)
            outs += [x for x in o if x not in outs]
            tests += [x for x in t if x not in tests]
        if self.make(outs, log) != 'ok':
            sys.exit('the unmutated build failed, see %s' % log)
        for t in tests:
            t0 = time.time()
            r = sh(t.replace('{B}', 'build'), self.dir, self.a.build_timeout, log, self.env)
            dt = time.time() - t0
            if r != 'ok':
                sys.exit('test fails on the unmutated sources: %s (see %s)' % (t, log))
            # A mutant's test times out at TIMEOUT, or 3x the original + 10 s.
            self.timeouts[t] = self.a.timeout or 3 * dt + 10
            print('baseline %6.1f s  %s' % (dt, t), flush=True)

    def run(self, m, idx):
        path = os.path.join(self.dir, m['file'])
        with open(path, encoding='utf-8') as f:
            orig = f.read()
        lines = orig.split('\n')
        assert lines[m['line'] - 1] == m['orig']
        lines[m['line'] - 1] = m['new']
        log = os.path.join(self.a.work, 'logs', '%04d.log' % idx)
        outs, tests = plan_for(self.rules, m['file'])
        st = os.stat(path)
        t0 = time.time()
        written_ns = time.time_ns() - 10 ** 8   # (if the write below fails)
        try:
            with open(path, 'w', encoding='utf-8') as f:
                f.write('\n'.join(lines))
            written_ns = os.stat(path).st_mtime_ns
            if self.make(outs, log) != 'ok':
                m['result'], m['by'] = 'stillborn', ''
            else:
                m['result'], m['by'] = 'survived', ''
                for t in tests:
                    cmd = t.replace('{B}', 'build')
                    r = sh(cmd, self.dir, self.timeouts[t], log, self.env)
                    if r == 'fail' and sh(cmd, self.dir, self.timeouts[t], log, self.env) == 'ok':
                        # A kill must repeat: a test that fails once and then
                        # passes (timing under load) has not caught the mutant.
                        m['result'], m['by'] = 'survived (flaky kill)', t
                        break
                    if r != 'ok':
                        m['result'] = 'killed (timeout)' if r == 'timeout' else 'killed'
                        m['by'] = t
                        break
        finally:
            with open(path, 'w', encoding='utf-8') as f:
                f.write(orig)
            self.restored(path, m['file'], st, written_ns)
        m['time'] = time.time() - t0

    def restored(self, path, name, st, written_ns):
        """The original is back at path: give it its old times and remove
        the objects compiled from the mutant, so make rebuilds those (and
        what links them) and nothing else.  A new mtime instead made every
        build directory recompile the file at its next use (an ASan step
        recompiled every file earlier mutants had touched: 15-20 s)."""
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        stem = os.path.splitext(name)[0]
        for o in glob.glob(os.path.join(self.dir, 'build', '**', 'obj', stem + '.o'),
                           recursive=True):
            if os.stat(o).st_mtime_ns >= written_ns:
                os.unlink(o)


def short(t):
    """A test command as the table shows it."""
    if 'netrig run' in t:   # the scenario directories it runs
        return 'scenarios ' + ' '.join(w.split('/')[-1] for w in t.split()
                                       if w.startswith('harness/scenarios/'))
    t = t.replace('{B}/', '').replace('{B}', 'build').replace('build/', '')
    return t if len(t) < 60 else t[:57] + '...'


def write_table(a, muts, eq, wall, out_path):
    rows, per = [], {}
    for i, m in enumerate(muts, 1):
        if 'result' not in m:
            continue   # not run: the run was stopped
        key = equiv_key(m)
        res = m['result']
        if key in eq and res.startswith('survived'):
            res = 'equivalent'
        s = per.setdefault(m['file'], {'killed': 0, 'survived': 0, 'stillborn': 0,
                                       'equivalent': 0, 'time': 0.0, 'built': 0})
        s[res.split()[0]] += 1
        if res != 'stillborn':
            s['time'] += m['time']
            s['built'] += 1
        code = key[2].replace('|', '\\|').replace('`', "'")
        rows.append('| %d | %s:%d | %s | `%s` | %s | %s | %.1f |' % (
            i, m['file'], m['line'], m['op'], code, res,
            short(m['by']).replace('|', '\\|'), m['time']))
    out = ['| file | mutants | killed | survived | stillborn | equivalent | kill rate | s/mutant |',
           '| --- | --- | --- | --- | --- | --- | --- | --- |']
    tot = dict.fromkeys(['killed', 'survived', 'stillborn', 'equivalent', 'time', 'built'], 0)
    for f in sorted(per):
        s = per[f]
        for k in tot:
            tot[k] += s[k]
        out.append(row(f, s))
    out.append(row('**total**', tot))
    out += ['', 'Sources: %s; SEED=%s MAX=%s JOBS=%s, wall time %.0f s%s.' % (
                a['rev'], a['seed'], a['max'], a['jobs'], wall,
                '; stopped with %d of the %d mutants not run' % (a['stopped'], len(muts))
                if a.get('stopped') else '') +
            (' The survivors of %s run again; %d of them gone (their line changed).' % (
                a['rejudged'], a['gone']) if a.get('rejudged') else ''), '',
            '| # | file:line | operator | mutated line | result | by | s |',
            '| --- | --- | --- | --- | --- | --- | --- |'] + rows
    eqs = [(m, eq[equiv_key(m)]) for m in muts
           if 'result' in m and equiv_key(m) in eq and m['result'].startswith('survived')]
    if eqs:
        out += ['', 'Equivalent mutants (not counted):', '']
        out += ['- %s:%d %s: %s' % (m['file'], m['line'], m['op'], why) for m, why in eqs]
    text = '\n'.join(out) + '\n'
    with open(out_path, 'w', encoding='utf-8') as f:
        f.write(text)
    print(text)


def equiv_key(m):
    """(file:line, operator, line as shown): a deletion shows what it deletes."""
    shown = m['orig'] if m['op'].startswith('delete-') else m['new']
    return ('%s:%d' % (m['file'], m['line']), m['op'], shown.strip())


def row(name, s):
    judged = s['killed'] + s['survived']
    rate = '%d%%' % round(100 * s['killed'] / judged) if judged else '-'
    per = '%.1f' % (s['time'] / s['built']) if s['built'] else '-'
    return '| %s | %d | %d | %d | %d | %d | %s | %s |' % (
        name, judged + s['stillborn'] + s['equivalent'], s['killed'], s['survived'],
        s['stillborn'], s['equivalent'], rate, per)


def draw(a, files):
    """SEED shuffles each file's mutants; MAX are taken round-robin across the
    files (so a long file does not crowd out the others).  Returns (mutants,
    how many the files have)."""
    rng = random.Random(a.seed)
    pools = []
    for f in files:
        ms = enumerate_mutants(a, f)
        rng.shuffle(ms)
        pools.append(ms)
    total = sum(len(ms) for ms in pools)
    muts = []
    while len(muts) < min(a.max, total):
        for ms in pools:
            if ms and len(muts) < a.max:
                muts.append(ms.pop())
    return muts, total


def relocate(a, prior):
    """The mutants of an earlier run in this commit: the same operator turning
    the same line text into the same new text, nearest the old line number
    (lines move when code above them changes).  Returns (found, gone, count)."""
    found, gone, pools = [], [], {}
    for m in prior:
        if m['file'] not in pools:
            pools[m['file']] = enumerate_mutants(a, m['file'])
        same = [c for c in pools[m['file']]
                if c['op'] == m['op'] and c['orig'] == m['orig'] and c['new'] == m['new']]
        if same:
            found.append(min(same, key=lambda c: abs(c['line'] - m['line'])))
        else:
            gone.append(m)
    return found, gone, len(prior)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--root', default='.')
    p.add_argument('--work', default='build/mutate')
    p.add_argument('--map', default='ci/mutate.map')
    p.add_argument('--equiv', default='ci/mutate.equiv')
    p.add_argument('--files', default='', help='space-separated paths (shell globs ok)')
    p.add_argument('--max', type=int, default=60)
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--jobs', type=int, default=1)
    p.add_argument('--timeout', type=float, default=0, help='per test; 0: 3x baseline + 10 s')
    p.add_argument('--build-timeout', type=float, default=600)
    p.add_argument('--out', default=None, help='markdown table (default WORK/mutation.md)')
    p.add_argument('--list', action='store_true', help='print the chosen mutants and stop')
    p.add_argument('--rejudge', metavar='JSON',
                   help="run the survivors of a finished run's results.json again on this "
                        "commit (each found by its line's text; a changed line is 'gone')")
    p.add_argument('--retable', metavar='JSON',
                   help="rewrite the table of a finished run's results.json (after editing the equivalents)")
    a = p.parse_args()
    if a.retable:
        with open(a.retable, encoding='utf-8') as f:
            res = json.load(f)
        write_table(res['meta'], res['mutants'], read_equiv(a.equiv), res['meta']['wall'],
                    a.out or os.path.join(os.path.dirname(a.retable), 'mutation.md'))
        return
    if a.rejudge:
        with open(a.rejudge, encoding='utf-8') as f:
            prior = json.load(f)
        eq0 = read_equiv(a.equiv)
        # a stopped run's mutants that did not run have no result
        again = [m for m in prior['mutants']
                 if m.get('result', '').startswith('survived') and equiv_key(m) not in eq0]
        a.files = ' '.join(dict.fromkeys(m['file'] for m in again))
    if not a.files:
        sys.exit('no --files given')
    a.root, a.work = os.path.abspath(a.root), os.path.abspath(a.work)
    a.out = a.out or os.path.join(a.work, 'mutation.md')
    rules = read_map(a.map)
    a.rev = a.root   # what is mutated: HEAD's commit, resolved once, or the directory
    if os.path.isdir(os.path.join(a.root, '.git')):
        a.commit = subprocess.run(['git', '-C', a.root, 'rev-parse', 'HEAD'], check=True,
                                  capture_output=True, text=True).stdout.strip()
        a.rev = 'git ' + a.commit[:7]
    import glob
    files = []
    if hasattr(a, 'commit'):
        # Globs name the commit's files (the working tree may hold new files
        # that are not committed, or lack some that are).
        tracked = subprocess.run(['git', '-C', a.root, 'ls-tree', '-r', '--name-only', a.commit],
                                 check=True, capture_output=True, text=True).stdout.split('\n')
    for pat in a.files.split():
        if hasattr(a, 'commit'):
            hits = sorted(t for t in tracked if fnmatch.fnmatch(t, pat) and
                          t.count('/') == pat.count('/')) or [pat]
        else:
            hits = sorted(glob.glob(pat, root_dir=a.root)) or [pat]
        files += [h for h in hits if h.endswith('.c') and h not in files]
    for f in files:
        if not plan_for(rules, f)[1]:
            sys.exit('%s: no tests in %s for this file' % (f, a.map))
    if a.rejudge:
        muts, gone, total = relocate(a, again)
        for m in gone:
            print('gone: %s:%d %s: %s (the line is not in this commit)' % (
                m['file'], m['line'], m['op'], m['new'].strip()), flush=True)
    else:
        muts, total = draw(a, files)
    order = {f: i for i, f in enumerate(files)}
    muts.sort(key=lambda m: (order[m['file']], m['line'], m['col'], m['op']))
    print('%d mutants of %d in %d files' % (len(muts), total, len(files)), flush=True)
    if a.list:
        for m in muts:
            shown = m['orig'] if m['op'].startswith('delete-') else m['new']
            print('%s:%d %s: %s' % (m['file'], m['line'], m['op'], shown.strip()))
        return
    os.makedirs(os.path.join(a.work, 'logs'), exist_ok=True)
    t0 = time.time()
    # Only the files a mutant was drawn from are built and checked on the
    # unmutated copy (MAX=3 of the 52 default files sets up 3, not 52).
    files = [f for f in files if any(m['file'] == f for m in muts)]
    workers = [Worker(a, n, rules) for n in range(max(1, a.jobs))]
    workers[0].setup(files)   # a build or test failing on the original stops the run here
    lock = threading.Lock()
    # Mutants run in a seeded random order, so that a run stopped early
    # (touch WORK/stop: no new mutant is started) has run a fair sample.
    todo = list(enumerate(muts, 1))
    random.Random(a.seed).shuffle(todo)
    stop = os.path.join(a.work, 'stop')
    if os.path.exists(stop):
        os.remove(stop)

    def loop(w):
        if w is not workers[0]:
            try:
                w.setup(files)   # the other workers set up while the first runs mutants
            except SystemExit as e:
                print('worker %s: %s' % (w.dir, e), flush=True)
                return
        while True:
            with lock:
                if not todo or os.path.exists(stop):
                    return
                idx, m = todo.pop(0)
            w.run(m, idx)
            with lock:
                print('%3d/%d %-40s %-16s %-16s %5.1f s %s' % (
                    idx, len(muts), '%s:%d' % (m['file'], m['line']), m['op'], m['result'],
                    m['time'], short(m['by'])), flush=True)
    threads = [threading.Thread(target=loop, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    meta = {'rev': a.rev, 'seed': a.seed, 'max': a.max, 'jobs': a.jobs, 'wall': time.time() - t0}
    if a.rejudge:
        meta['rejudged'] = '%s (%s SEED=%s)' % (a.rejudge, prior['meta']['rev'], prior['meta']['seed'])
        meta['gone'] = len(gone)
    if todo:
        meta['stopped'] = len(todo)   # mutants never run (WORK/stop)
    with open(os.path.join(a.work, 'results.json'), 'w', encoding='utf-8') as f:
        json.dump({'meta': meta, 'mutants': muts}, f, indent=0)
    write_table(meta, muts, read_equiv(a.equiv), meta['wall'], a.out)


if __name__ == '__main__':
    main()
