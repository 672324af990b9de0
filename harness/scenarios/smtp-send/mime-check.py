#!/usr/bin/python3
"""mime-check.py MESSAGE [--body FILE] [--attach FILE]... [--subject TEXT]

Decode an RFC 5322 message with Python's own email parser (an independent
decoder, not smtp-send's code) and compare it with the originals:
  - the text body, decoded, with the file given by --body (or empty), both
    with CRLF turned into LF (smtp-send documents that normalisation);
  - the attachments, in order: their count, each file name (the basename)
    and each decoded payload byte for byte with the --attach files;
  - the Subject, decoded, with --subject when given;
  - no line longer than 998 octets, every line ending in CRLF, and the
    multipart boundary absent from every part's content.
MESSAGE is a file, or a Maildir whose new/ holds exactly one message.
Prints 'ok: ...' and exits 0, or prints every difference and exits 1."""
import email
import email.policy
import os
import sys


def load(path):
    if os.path.isdir(path):
        names = sorted(os.listdir(os.path.join(path, "new")))
        if len(names) != 1:
            sys.exit("mime-check: %s/new holds %d messages, want 1" % (path, len(names)))
        path = os.path.join(path, "new", names[0])
    with open(path, "rb") as f:
        return f.read()


def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def main(argv):
    body, attach, subject, raw_lf = None, [], None, False
    args = argv[1:]
    if not args:
        sys.exit(__doc__)
    path = args.pop(0)
    while args:
        opt = args.pop(0)
        if opt == "--body":
            body = args.pop(0)
        elif opt == "--attach":
            attach.append(args.pop(0))
        elif opt == "--subject":
            subject = args.pop(0)
        elif opt == "--delivered":  # the MTA stored it with LF line ends
            raw_lf = True
        else:
            sys.exit("mime-check: unknown option " + opt)
    raw = load(path)
    bad = []
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for n, line in enumerate(lines, 1):
        if not raw_lf and not line.endswith(b"\r"):
            bad.append("line %d does not end in CRLF" % n)
            break
        if len(line.rstrip(b"\r")) > 998:
            bad.append("line %d is %d octets long" % (n, len(line.rstrip(b"\r"))))
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if msg.defects:
        bad.append("message defects: %r" % msg.defects)
    parts = list(msg.walk()) if msg.is_multipart() else [msg]
    leaves = [p for p in parts if not p.is_multipart()]
    texts = [p for p in leaves if p.get_content_disposition() != "attachment"]
    files = [p for p in leaves if p.get_content_disposition() == "attachment"]
    for p in leaves:
        if p.defects:
            bad.append("part defects: %r" % p.defects)
    if len(texts) != 1:
        bad.append("%d text parts, want 1" % len(texts))
    else:
        want = open(body, "rb").read() if body else b""
        got = texts[0].get_payload(decode=True) or b""
        want, got = want.replace(b"\r\n", b"\n"), got.replace(b"\r\n", b"\n")
        if got != want:
            bad.append("text body differs at byte %d (%d bytes decoded, %d expected)"
                       % (first_diff(got, want), len(got), len(want)))
    if len(files) != len(attach):
        bad.append("%d attachments, want %d" % (len(files), len(attach)))
    for i, (p, f) in enumerate(zip(files, attach)):
        want = open(f, "rb").read()
        got = p.get_payload(decode=True) or b""
        name = p.get_filename()
        if name != os.path.basename(f):
            bad.append("attachment %d is named %r, want %r" % (i, name, os.path.basename(f)))
        if got != want:
            bad.append("attachment %d (%s) differs at byte %d (%d bytes decoded, %d in the file)"
                       % (i, f, first_diff(got, want), len(got), len(want)))
    if subject is not None and str(msg["subject"] or "") != subject:
        bad.append("subject is %r, want %r" % (str(msg["subject"]), subject))
    boundary = msg.get_boundary()
    if boundary:
        for p in leaves:
            if boundary.encode() in p.as_bytes():
                bad.append("the boundary occurs inside a part")
    for b in bad:
        print("mime-check: " + b)
    if bad:
        return 1
    print("ok: text body and %d attachment(s) identical after decoding" % len(files))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
