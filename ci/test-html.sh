#!/bin/sh
# The HTML report in a real browser (harness/doc/report.md): a small run with
# one deliberately failing scenario is written with `netrig run --html`,
# checked as XML (xmllint: escaping held, one script), then opened in
# headless Chromium once (--dump-dom with the URL filter #status=fail and
# --screenshot together) and judged on the DOM: every scenario present, the
# passing one hidden by the filter, the failing step highlighted with its message,
# one lane per endpoint and one arrow per packet (or band) as tshark counts
# them, hostile text inert; the screenshot not blank.  Every claim is then
# shown to fail on a broken input (a lane, an arrow, the highlight, a
# scenario removed; a script injected; a blank picture).  Last, `netrig pcap
# ladder` writes an SVG that xmllint accepts and rsvg-convert renders, and
# an unreadable capture is an error naming its offset.
# Usage: ci/test-html.sh BUILD_DIR
set -u
build=${1:-build}
netrig=$build/bin/netrig
# Debian's python3 (python3-pil), not one a version manager put first on PATH
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
for tool in chromium xmllint rsvg-convert tshark bc "$py"; do
    command -v "$tool" >/dev/null || { echo "test-html: $tool is missing (ci/packages.txt)"; exit 1; }
done
$py -c 'import PIL' 2>/dev/null || { echo "test-html: python3-pil is missing"; exit 1; }
tmp=$(mktemp -d /tmp/netrig-html.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

# --- a small run: one passing scenario with hostile target output, one
# failing scenario with a hostile name and payload ------------------------
mkdir -p "$tmp/scn"
cat >"$tmp/scn/noisy.scn" <<'EOF'
# passes; a target writes markup and a non-UTF-8 byte to its stderr
target noise nowait = sh -c "printf '%s\\n' \"\$1\" >&2" sh "<script>alert(1)</script>]]>\xff"
exit noise 0
target srv = tcp-echo-mt --port 0
connect a = tcp ${srv}
send a "hi\n"
expect a "hi\n"
close a
EOF
failing="$tmp/scn/$(printf 'bad <b>&amp;\377.scn')"
cat >"$failing" <<'EOF'
# fails at line 7 (its hexdump diff is the message); two clients, one server
target srv = tcp-echo-mt --port 0
connect a = tcp ${srv}
connect b = tcp ${srv}
send a "<script>alert(2)</script>]]>\xff"
send b "ok"
expect a "<script>alert(3)</script>]]>\xff"
EOF
"$netrig" run -j 2 --keep --artifacts "$tmp/art" --html "$tmp/report.html" "$tmp/scn" >"$tmp/run.log" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -q "1 passed, 1 failed" "$tmp/run.log"; then
    ok "run: one passed, one failed (exit 1)"
else
    bad "run: exit $rc"; sed 's/^/    /' "$tmp/run.log"
fi
[ -s "$tmp/report.html" ] || { bad "no report written"; exit 1; }
echo "     report: $(wc -c <"$tmp/report.html") bytes"

# --- as XML: well-formed (nothing unescaped broke it), one script ----------
if xmllint --noout "$tmp/report.html" 2>"$tmp/xml.err"; then ok "report is well-formed XML"
else bad "report is not well-formed:"; head -5 "$tmp/xml.err"; fi
n=$(xmllint --xpath "count(//*[local-name()='script'])" "$tmp/report.html" 2>/dev/null)
[ "$n" = 1 ] && ok "exactly one script element" || bad "$n script elements"

# --- what the DOM must show, from the run's own artifacts and tshark -------
art=$(dirname "$(find "$tmp/art" -name capture.pcap -path '*bad*' | head -1)")
cap=$art/capture.pcap
[ -f "$cap" ] || { bad "no capture of the failing scenario"; exit 1; }
tshark -r "$cap" -Y 'tcp or udp' -T fields -E separator=' ' -e ip.src -e tcp.srcport \
    -e udp.srcport -e ip.dst -e tcp.dstport -e udp.dstport >"$tmp/eps" 2>/dev/null
pkts=$(wc -l <"$tmp/eps")
lanes=$(awk '{print $1":"$2; print $3":"$4}' "$tmp/eps" | sort -u | wc -l)
echo "     failing scenario's capture (tshark): $pkts packets, $lanes endpoints"

cat >"$tmp/check.py" <<'EOF'
# check.py DOM PNG SCENARIOS LANES PACKETS LINE: judge the report's DOM and
# its screenshot (every claim that does not hold is printed; exit 1 if any),
# then break the input one way at a time (a lane, an arrow, the highlight, a
# scenario removed, a script injected, the filter undone, a blank picture)
# and show that the same judgement fails on each, for the reason broken.
import re, sys
from html.parser import HTMLParser
from PIL import Image

dom_path, png, want_scn, want_lanes, want_pkts, want_line = sys.argv[1:7]
VOID = {"meta", "input", "br", "img", "link", "hr", "col", "source", "wbr"}

class Node:
    def __init__(s, tag, attrs, parent):
        s.tag, s.attrs, s.parent, s.kids, s.text = tag, dict(attrs), parent, [], []
    def cls(s):
        return (s.attrs.get("class") or "").split()
    def all(s):
        for k in s.kids:
            yield k
            yield from k.all()
    def find(s, tag=None, cls=None):
        return [n for n in s.all() if (tag is None or n.tag == tag) and
                (cls is None or cls in n.cls())]
    def alltext(s):
        return "".join(s.text) + "".join(k.alltext() for k in s.kids)

class P(HTMLParser):
    def __init__(s):
        super().__init__(convert_charrefs=True)
        s.root = s.cur = Node("#root", [], None)
    def handle_starttag(s, tag, attrs):
        n = Node(tag, attrs, s.cur)
        s.cur.kids.append(n)
        if tag not in VOID:
            s.cur = n
    def handle_startendtag(s, tag, attrs):
        s.cur.kids.append(Node(tag, attrs, s.cur))
    def handle_endtag(s, tag):
        n = s.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            s.cur = n.parent
    def handle_data(s, d):
        s.cur.text.append(d)

def judge_dom(text):
    p = P()
    p.feed(text)
    root, errs = p.root, []
    scns = root.find("details", "scn")
    if len(scns) != int(want_scn):
        errs.append("%d scenarios in the DOM, %s expected" % (len(scns), want_scn))
    failing = [d for d in scns if d.attrs.get("data-status") == "fail"]
    passing = [d for d in scns if d.attrs.get("data-status") == "pass"]
    if len(failing) != 1:
        errs.append("%d failing scenarios, 1 expected" % len(failing))
    if any("hidden" not in d.attrs for d in passing) or any("hidden" in d.attrs for d in failing):
        errs.append("the filter #status=fail did not hide exactly the passing scenarios")
    if len(root.find("script")) != 1:
        errs.append("%d script elements (escaping broke?)" % len(root.find("script")))
    for d in failing[:1]:
        name = d.attrs.get("data-name", "")
        if "<b>&amp;\\xff.scn" not in name:
            errs.append("the failing scenario's name is not shown escaped: %r" % name)
        hi = [t for t in d.find("tr", "failed") if "step" in t.cls()]
        if len(hi) != 1 or hi[0].attrs.get("data-line") != want_line:
            errs.append("failing step highlighted: %s (line %s expected)" %
                        ([h.attrs.get("data-line") for h in hi], want_line))
        else:
            kids = hi[0].parent.kids
            nxt = kids[kids.index(hi[0]) + 1] if kids.index(hi[0]) + 1 < len(kids) else None
            if nxt is None or "diff" not in nxt.cls() or "expected" not in nxt.alltext():
                errs.append("the failing step is not followed by its message and diff")
        svgs = d.find("svg", "ladder")
        if len(svgs) != 1:
            errs.append("%d ladder diagrams in the failing scenario, 1 expected" % len(svgs))
        else:
            svg = svgs[0]
            lanes = svg.find("g", "lane")
            if len(lanes) != int(want_lanes):
                errs.append("%d lanes, %s endpoints in the capture" % (len(lanes), want_lanes))
            names = sorted("".join(l.kids[1].text) if len(l.kids) > 1 else "" for l in lanes)
            for nm in ("a", "b", "srv"):
                if nm not in names:
                    errs.append("no lane named %s (lanes: %s)" % (nm, names))
            n = len(svg.find("g", "pkt")) + sum(int(b.attrs.get("data-n", 0))
                                                for b in svg.find("g", "band"))
            if n != int(want_pkts):
                errs.append("%d packets drawn (arrows + bands), %s in the capture" % (n, want_pkts))
            if not [s for s in svg.find("g", "step") if "failed" in s.cls()]:
                errs.append("the failing step is not marked in the ladder")
        if "<script>alert(2)</script>]]>" not in d.alltext():
            errs.append("the payload preview does not show the hostile payload as text")
    for d in passing[:1]:
        if "<script>alert(1)</script>]]>\\xff" not in d.alltext():
            errs.append("the target's stderr is not shown as inert text")
    return errs

def judge_png(img):
    small = img.convert("RGB").resize((img.width // 4, img.height // 4))
    px = list(small.getdata())
    colours, white = len(set(px)), sum(1 for p in px if p == (255, 255, 255))
    if colours < 16 or white > 0.97 * len(px):
        return ["the screenshot looks blank (%d colours, %d of %d pixels white)" %
                (colours, white, len(px))]
    return []

dom = open(dom_path, encoding="utf-8", errors="surrogateescape").read()
img = Image.open(png)
errs = judge_dom(dom) + judge_png(img)
for e in errs:
    print("FAIL DOM check: " + e)
if not errs:
    print("ok   DOM: %s scenarios, filter, failing step %s highlighted with its diff, %s lanes, "
          "%s packets, hostile text inert; screenshot not blank" %
          (want_scn, want_line, want_lanes, want_pkts))
breaks = [
    ("a lane removed", "lanes,", lambda s: re.sub(r'<g class="lane".*?</g>', '', s, 1, re.S)),
    ("an arrow removed", "packets drawn",
     lambda s: re.sub(r'<g class="pkt [^"]*".*?</g>', '', s, 1, re.S)),
    ("the highlight removed", "failing step highlighted",
     lambda s: s.replace('class="step failed"', 'class="step"', 1)),
    ("a scenario removed", "scenarios in the DOM",
     lambda s: re.sub(r'<details class="scn".*?</details>', '', s, 1, re.S)),
    ("a script injected", "script elements",
     lambda s: s.replace('<pre>', '<pre><script>alert(1)</script>', 1)),
    ("the filter undone", "filter", lambda s: s.replace(' hidden=""', '', 1)),
]
bad = len(errs)
for what, why, brk in breaks:
    broken = brk(dom)
    got = judge_dom(broken) if broken != dom else ["(could not break it)"]
    if broken != dom and any(why in e for e in got):
        print("ok   must fail: %s (%s)" % (what, [e for e in got if why in e][0]))
    else:
        print("FAIL must fail: %s: %s" % (what, got or "the check passed"))
        bad += 1
got = judge_png(Image.new("RGB", img.size, "white"))
if got:
    print("ok   must fail: a blank screenshot (%s)" % got[0])
else:
    print("FAIL must fail: a blank screenshot passed")
    bad += 1
sys.exit(1 if bad else 0)
EOF

# --- one browser launch: the DOM (with the URL filter) and a screenshot ----
url="file://$(cd "$tmp" && pwd)/report.html"
chrome() { DBUS_SESSION_BUS_ADDRESS=disabled: timeout -k 5 90 chromium --headless --no-sandbox \
    --disable-gpu --hide-scrollbars --no-first-run --disable-extensions \
    --user-data-dir="$tmp/chrome" "$@" 2>>"$tmp/chrome.log"; }
t0=$(date +%s.%N)
chrome --window-size=1280,1400 --screenshot="$tmp/shot.png" --dump-dom "$url#status=fail" \
    >"$tmp/dom.html"
[ -s "$tmp/shot.png" ] || chrome --window-size=1280,1400 --screenshot="$tmp/shot.png" "$url" >/dev/null
t1=$(date +%s.%N)
echo "     Chromium: $(echo "$t1 - $t0" | bc) s"
[ -s "$tmp/dom.html" ] && [ -s "$tmp/shot.png" ] || { bad "Chromium wrote no DOM or no screenshot"; tail -5 "$tmp/chrome.log"; exit 1; }
grep -q 'data-ready="1"' "$tmp/dom.html" && ok "the report's script ran in Chromium" \
    || bad "the report's script did not run"
$py "$tmp/check.py" "$tmp/dom.html" "$tmp/shot.png" 2 "$lanes" "$pkts" 7 >"$tmp/check.out"
rc=$?
cat "$tmp/check.out"
n=$(grep -c '^FAIL' "$tmp/check.out")
fails=$((fails + n))
[ "$rc" -eq 0 ] || [ "$n" -gt 0 ] || bad "the DOM check failed without saying why (exit $rc)"

# --- netrig pcap ladder: valid SVG, rendered; unreadable input an error ---
if "$netrig" pcap ladder "$cap" -o "$tmp/ladder.svg" && xmllint --noout "$tmp/ladder.svg"; then
    ok "pcap ladder: the SVG is well-formed XML"
else
    bad "pcap ladder: no valid SVG"
fi
if rsvg-convert "$tmp/ladder.svg" -o "$tmp/ladder.png" 2>"$tmp/rsvg.err" &&
   $py -c 'import sys; from PIL import Image; im=Image.open(sys.argv[1]).convert("RGB"); sys.exit(0 if len(set(im.getdata())) > 8 else 1)' "$tmp/ladder.png"; then
    ok "pcap ladder: rsvg-convert renders it (not blank)"
else
    bad "pcap ladder: rsvg-convert failed or drew nothing"; cat "$tmp/rsvg.err"
fi
n=$(xmllint --xpath "count(//*[local-name()='g'][@class='lane'])" "$tmp/ladder.svg")
[ "$n" = "$lanes" ] && ok "pcap ladder: $n lanes" || bad "pcap ladder: $n lanes, $lanes expected"
printf 'this is not a capture <script>' >"$tmp/junk.pcap"
"$netrig" pcap ladder "$tmp/junk.pcap" -o "$tmp/junk.svg" 2>"$tmp/junk.err"
rc=$?
if [ "$rc" -eq 2 ] && grep -q offset "$tmp/junk.err"; then
    ok "pcap ladder: an unreadable capture is exit 2 with its offset"
else
    bad "pcap ladder: unreadable capture gave exit $rc: $(cat "$tmp/junk.err")"
fi

[ "$fails" -eq 0 ] && echo "test-html: all passed" || echo "test-html: $fails failed"
[ "$fails" -eq 0 ]
