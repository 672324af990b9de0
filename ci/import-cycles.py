#!/usr/bin/env python3
"""import-cycles.py - fail on an import circle among object files.

usage: import-cycles.py [-v] [--known FILE] OBJ...

Each object is a module.  Module A imports module B when A leaves a symbol
undefined (nm: U) that B defines (T, D, B, R, ...).  The modules and their
imports form a graph; every strongly connected component of more than one
module is a circle: it is printed with the symbols of each of its imports,
and the exit status is 1.  Exit 0: no circle (the import edges are listed
with -v); exit 2: usage, or nm failed.

--known FILE lists circles not yet broken, one a line: the module names of
one circle, space-separated (# starts a comment).  A circle listed there
exactly is reported but does not fail; one that differs (a module more or
less) fails, and so does a listed circle that no longer exists, so the list
stays true.
"""
import os
import subprocess
import sys


def symbols(path):
    """(defined, undefined) global symbol sets of one object, from nm."""
    out = subprocess.run(["nm", "-P", "-g", path], capture_output=True, text=True)
    if out.returncode != 0:
        print("import-cycles: nm %s: %s" % (path, out.stderr.strip()), file=sys.stderr)
        sys.exit(2)
    defined, undefined = set(), set()
    for line in out.stdout.splitlines():
        f = line.split()
        if len(f) < 2:
            continue
        (undefined if f[1] in ("U", "w", "v") else defined).add(f[0])
    return defined, undefined


def components(nodes, edges):
    """Tarjan's strongly connected components (iterative)."""
    index, low, on, stack, comps, n = {}, {}, set(), [], [], 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = n
        n += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = n
                    n += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                comps.append(sorted(comp))
    return comps


def read_known(path):
    """The circles of a --known file, as frozensets of module names."""
    known = set()
    with open(path) as f:
        for line in f:
            names = line.split("#", 1)[0].split()
            if names:
                known.add(frozenset(names))
    return known


def main(argv):
    verbose = "-v" in argv
    argv = [a for a in argv if a != "-v"]
    known = set()
    if len(argv) >= 2 and argv[0] == "--known":
        known = read_known(argv[1])
        argv = argv[2:]
    objs = argv
    if not objs:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    name = {o: os.path.splitext(os.path.basename(o))[0] for o in objs}
    syms = {o: symbols(o) for o in objs}
    owner = {}
    for o in objs:
        for s in syms[o][0]:
            owner.setdefault(s, o)
    edges = {o: set() for o in objs}
    why = {}
    for o in objs:
        for s in syms[o][1]:
            b = owner.get(s)
            if b is not None and b != o:
                edges[o].add(b)
                why.setdefault((o, b), []).append(s)
    if verbose:
        for o in objs:
            for b in sorted(edges[o]):
                print("%s -> %s (%s)" % (name[o], name[b], ", ".join(sorted(why[(o, b)])[:4])))
    circles = [c for c in components(objs, edges) if len(c) > 1]
    bad = []
    for c in circles:
        names = frozenset(name[o] for o in c)
        if names in known:
            print("known import circle (ci/import-cycles.known) among %s" % ", ".join(sorted(names)))
            known.discard(names)
            continue
        bad.append(c)
        print("import circle among %s:" % ", ".join(name[o] for o in c))
        for o in c:
            for b in sorted(edges[o] & set(c)):
                syms_ = sorted(why[(o, b)])
                more = " ..." if len(syms_) > 6 else ""
                print("  %s -> %s: %s%s" % (name[o], name[b], ", ".join(syms_[:6]), more))
    for names in sorted(known, key=sorted):
        print("listed as a known circle but not one now: %s (update the list)"
              % " ".join(sorted(names)))
    if not bad and not known:
        print("no import circle among %d modules but the known ones" % len(objs))
    return 1 if bad or known else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
