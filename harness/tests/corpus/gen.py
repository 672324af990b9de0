#!/usr/bin/python3
"""Crafted-capture corpus of netrig pcap (harness/doc/pcap.md, "Crafted corpus").

Writes one small capture per case into DIR and DIR/expect.txt, the expected
outcome of each case, one fact per line:

  CASE conns N                       conversations in the capture
  CASE conn I ORIG RESP STATE HIST   zeek's originator, responder, conn_state
                                     and history of conversation I (HIST '-' for UDP)
  CASE stream I DIR HEX              reassembled bytes of direction DIR (orig/resp)
  CASE chunks I LIST                 follow's chunks in order: dir:kind:offset:len,...
  CASE flag KIND                     tshark must raise this analysis flag here
                                     (netrig's per-connection counts are compared
                                     with tshark's on every case)
  CASE error TEXT                    reading ends with this error (exit 2) after
                                     the conversations before the damage
  CASE start-positive                the first conversation starts after 1970
  CASE tshark-stream K DIR HEX       tshark's reassembled bytes (follow,tcp,raw) of the
                                     K-th TCP stream tshark sees in the case, node
                                     DIR (orig: node 0, resp: node 1)
  CASE frags REASSEMBLED LOST BAD    IP datagrams reassembled, datagrams given up
                                     (timed out, over the cap, incomplete), and
                                     fragments refused as malformed

For tshark, DIR/tshark/all.pcapng holds every undamaged case, one after the
other, each moved into a subnet of its own (10.<100+i/256>.<i%256>.x,
fd00:<i+1>::x) so that no two cases share a stream; DIR/tshark/all.txt names
each case's first frame number and frame count in it.  The tests read it
with one tshark run (a start-up of tshark costs more than reading all of
it) and attribute each frame's output to its case.

The zeek expectations are worked out by hand from zeek's source (the lines are
cited in harness/doc/pcap.md); zeek itself is not packaged in Debian 12.
Deterministic: fixed addresses, ports, sequence numbers and times.
Usage: gen.py DIR
"""
import os
import struct
import sys


from scapy.all import (Ether, IP, IPv6, IPv6ExtHdrFragment, TCP, UDP, Dot1Q, Raw,  # noqa: E402
                       fragment, fragment6, wrpcap)

C, S = "10.0.0.1", "10.0.0.2"


def Eth():
    """An Ethernet header with both addresses given: without them scapy would
    resolve the destination's MAC address, that is send ARP or neighbour
    solicitations on this machine's network and wait for answers."""
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")

T0 = 1700000000.0

out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
expect = []
merged = []  # (case, [(linktype, ts in us, frame bytes)]) for DIR/tshark/all.pcapng


def ts_us(t):
    """A packet time in microseconds, rounded as wrpcap rounds it."""
    sec = int(t)
    return sec * 1000000 + int(round((t - sec) * 1000000))


def relabel(p, i):
    """A copy of p whose addresses are moved into case i's own subnet."""
    p = p.copy()
    if IP in p:
        for f in ("src", "dst"):
            a = getattr(p[IP], f).split(".")
            setattr(p[IP], f, "%s.%d.%d.%s" % (a[0], 100 + i // 256, i % 256, a[3]))
    if IPv6 in p:
        for f in ("src", "dst"):
            setattr(p[IPv6], f, getattr(p[IPv6], f).replace("fd00::", "fd00:%x::" % (i + 1), 1))
    return p


class Cap:
    """Packets of one case with increasing timestamps (10 ms apart)."""

    def __init__(self, name):
        self.name = name
        self.pkts = []
        self.t = T0

    def tcp(self, src, sport, dst, dport, flags, seq, ack=0, data=b"", win=8192, dt=0.01):
        ipl = IPv6(src=src, dst=dst) if ":" in src else IP(src=src, dst=dst)
        p = Eth() / ipl / TCP(sport=sport, dport=dport, flags=flags,
                                                   seq=seq & 0xffffffff, ack=ack & 0xffffffff,
                                                   window=win)
        if data:
            p = p / Raw(data)
        self.add(p, dt)

    def add(self, p, dt=0.01):
        self.t += dt
        p.time = self.t
        self.pkts.append(p)

    def write(self, merge=True):
        wrpcap(os.path.join(out_dir, self.name + ".pcap"), self.pkts)
        if merge:
            merged.append((self.name, [(1, ts_us(p.time), bytes(relabel(p, len(merged))))
                                       for p in self.pkts]))

    def expect(self, *fields):
        expect.append(" ".join([self.name] + [str(f) for f in fields]))


def ep(a, p):
    return ("[%s]:%d" if ":" in a else "%s:%d") % (a, p)


class Conn:
    """A client->server TCP connection with sequence bookkeeping."""

    def __init__(self, cap, cport=40000, sport=8080, cisn=100, sisn=1000, client=C, server=S):
        self.cap, self.cp, self.sp = cap, cport, sport
        self.c, self.s = client, server
        self.seq = [cisn, sisn]

    def pkt(self, d, flags, data=b"", seq=None, ack=None, win=8192, dt=0.01):
        s = self.seq[d] if seq is None else seq
        a = self.seq[1 - d] if ack is None else ack
        src, sp, dst, dp = (self.c, self.cp, self.s, self.sp) if d == 0 else \
            (self.s, self.sp, self.c, self.cp)
        self.cap.tcp(src, sp, dst, dp, flags, s, a if "A" in flags else 0, data, win, dt)
        if seq is None:
            self.seq[d] += len(data) + ("S" in flags) + ("F" in flags)

    def handshake(self):
        self.pkt(0, "S")
        self.pkt(1, "SA")
        self.pkt(0, "A")

    def close(self):
        self.pkt(0, "FA")
        self.pkt(1, "FA")
        self.pkt(0, "A")


def case(name):
    return Cap(name)


CL, SV = ep(C, 40000), ep(S, 8080)

# --- connection identity (zeek IsReuse) -----------------------------------
k = case("syn-retry-new-isn")
c = Conn(k)
c.pkt(0, "S")
c.seq[0] = 500
c.pkt(0, "S")
c.pkt(1, "SA")
c.pkt(0, "A")
c.close()
k.write()
k.expect("conns", 2)
k.expect("conn", 0, CL, SV, "S0", "S")
k.expect("conn", 1, CL, SV, "SF", "ShAFf")

k = case("syn-retransmitted")
c = Conn(k)
c.pkt(0, "S", seq=100)
c.pkt(0, "S", dt=1.0)
c.pkt(1, "SA")
c.pkt(0, "A")
c.close()
k.write()
k.expect("conns", 1)
k.expect("conn", 0, CL, SV, "SF", "ShAFf")
k.expect("flag", "retransmission")

k = case("time-wait-reuse")
c = Conn(k)
c.handshake()
c.pkt(0, "PA", b"hello")
c.pkt(1, "A")
c.close()
c2 = Conn(k, cisn=90000, sisn=70000)
c2.handshake()
c2.close()
k.write()
k.expect("conns", 2)
k.expect("conn", 0, CL, SV, "SF", "ShADaFf")
k.expect("conn", 1, CL, SV, "SF", "ShAFf")

# TIME_WAIT reuse with the same ISNs: any SYN after a FIN starts a new
# connection in zeek (netrig merged the two before, for lack of a new ISN).
k = case("time-wait-reuse-same-isn")
c = Conn(k)
c.handshake()
c.close()
c2 = Conn(k)
c2.handshake()
k.write()
k.expect("conns", 2)
k.expect("conn", 0, CL, SV, "SF", "ShAFf")
k.expect("conn", 1, CL, SV, "S1", "ShA")

k = case("reuse-after-fin-same-isn")
c = Conn(k)
c.handshake()
c.pkt(0, "FA")
c.pkt(0, "S", seq=100)
k.write()
k.expect("conns", 2)
k.expect("conn", 0, CL, SV, "S2", "ShAF")
k.expect("conn", 1, CL, SV, "S0", "S")

k = case("rej-then-retry")
c = Conn(k)
c.pkt(0, "S")
c.pkt(1, "RA", seq=0, ack=101)
c.seq[0] = 100
c.pkt(0, "S")
c.pkt(1, "SA")
c.pkt(0, "A")
k.write()
k.expect("conns", 2)
k.expect("conn", 0, CL, SV, "REJ", "Sr")
k.expect("conn", 1, CL, SV, "S1", "ShA")

k = case("simultaneous-open")
c = Conn(k, cport=40000, sport=40001)
c.pkt(0, "S", seq=100)
c.pkt(1, "S", seq=900)
c.pkt(0, "SA", seq=100, ack=901)
c.pkt(1, "SA", seq=900, ack=101)
k.write()
k.expect("conns", 2)
k.expect("conn", 0, ep(C, 40000), ep(S, 40001), "S0", "S")
k.expect("conn", 1, ep(S, 40001), ep(C, 40000), "S1", "Sh")

# --- originator (zeek WantConnection, likely_server_ports) -----------------
k = case("synack-first-server-port")
c = Conn(k)
c.seq = [101, 1000]
c.pkt(1, "SA")
c.pkt(0, "A")
c.pkt(0, "PA", b"GET /")
k.write()
k.expect("conns", 1)
k.expect("conn", 0, CL, SV, "S1", "^hAD")

k = case("synack-first-no-server-port")
c = Conn(k, sport=5555)
c.seq = [101, 1000]
c.pkt(1, "SA")
c.pkt(0, "A")
k.write()
k.expect("conns", 1)
k.expect("conn", 0, CL, ep(S, 5555), "OTH", "^hA")

k = case("midstream-server-first")
c = Conn(k, cisn=5000, sisn=9000)
c.pkt(1, "PA", b"data!")
c.pkt(0, "A")
k.write()
k.expect("conns", 1)
k.expect("conn", 0, CL, SV, "OTH", "^dA")

k = case("udp-server-first")
k.add(Eth() / IP(src=S, dst=C) / UDP(sport=53, dport=40000) / Raw(b"answer"))
k.add(Eth() / IP(src=C, dst=S) / UDP(sport=40000, dport=53) / Raw(b"ask"))
k.write()
k.expect("conns", 1)
k.expect("conn", 0, ep(C, 40000), ep(S, 53), "SF", "-")

# --- conn_state from sequence-space sizes ---------------------------------
k = case("rstr-acked-unseen-data")
c = Conn(k)
c.handshake()
c.seq[0] += 10             # 10 bytes sent, never captured
c.pkt(1, "A")              # ... but acknowledged
c.pkt(0, "RA")
c.pkt(1, "RA")
k.write()
k.expect("conns", 1)
# zeek: the ACK of the unseen bytes trims the reassembler past them: a gap, 'G'.
k.expect("conn", 0, CL, SV, "RSTR", "ShAaGRr")
k.expect("flag", "ack_lost_segment")

# --- history letters -------------------------------------------------------
k = case("syn-fin-multiflag")
c = Conn(k)
c.pkt(0, "SF")
k.write()
k.expect("conns", 1)
k.expect("conn", 0, CL, SV, "SH", "Q")

k = case("fin-rst-multiflag")
c = Conn(k)
c.handshake()
c.pkt(0, "FRA")
k.write()
k.expect("conns", 1)
k.expect("conn", 0, CL, SV, "RSTO", "ShAI")

k = case("data-on-syn")
c = Conn(k)
c.pkt(0, "S", b"early")
c.seq[0] = 101
c.pkt(1, "SA", ack=101)
c.pkt(0, "A")
k.write()
k.expect("conns", 1)
# zeek: the data makes the SYN end where it starts, so update_last_seq sees
# a data packet that does not advance: DidRxmit, 'T' (no 'D').
k.expect("conn", 0, CL, SV, "S1", "SThA")

k = case("fin-with-data-then-bare-fin")
c = Conn(k)
c.handshake()
c.pkt(0, "FA", b"bye!!")
c.pkt(1, "A")
c.pkt(0, "FA", seq=106, dt=0.3)
c.pkt(1, "FA")
c.pkt(0, "A")
k.write()
k.expect("conns", 1)
k.expect("conn", 0, CL, SV, "SF", "ShAFaf")
k.expect("stream", 0, "orig", b"bye!!".hex())
k.expect("flag", "retransmission")

k = case("late-hole-fill")
c = Conn(k)
c.handshake()
c.pkt(0, "PA", b"A" * 10)
c.pkt(0, "PA", b"C" * 10, seq=121)
c.pkt(0, "PA", b"B" * 10, seq=111, dt=0.0005)
c.seq[0] = 131
c.pkt(1, "A")
k.write()
k.expect("conns", 1)
k.expect("conn", 0, CL, SV, "S1", "ShADTa")
k.expect("stream", 0, "orig", (b"A" * 10 + b"B" * 10 + b"C" * 10).hex())
k.expect("flag", "lost_segment")
k.expect("flag", "out_of_order")

k = case("zero-window-syn")
c = Conn(k)
c.pkt(0, "S", win=0)
k.write()
k.expect("conns", 1)
k.expect("conn", 0, CL, SV, "S0", "SW")

k = case("zero-window-after-peer-fin")
c = Conn(k)
c.handshake()
c.pkt(0, "FA")
c.pkt(1, "A", win=0)
c.pkt(1, "FA", win=0)
c.pkt(0, "A")
k.write()
k.expect("conns", 1)
k.expect("conn", 0, CL, SV, "SF", "ShAFaf")

# --- tshark analysis flags ---------------------------------------------------
k = case("fin-retransmitted")
c = Conn(k)
c.handshake()
c.pkt(0, "FA")
c.pkt(0, "FA", seq=101, dt=0.5)
c.pkt(1, "FA")
c.pkt(0, "A")
k.write()
k.expect("conns", 1)
k.expect("conn", 0, CL, SV, "SF", "ShAFf")
k.expect("flag", "retransmission")

k = case("gap-before-fin")
c = Conn(k)
c.handshake()
c.pkt(0, "PA", b"A" * 10)
c.seq[0] += 10             # lost
c.pkt(0, "FA")
c.pkt(1, "A")
c.pkt(1, "FA")
c.pkt(0, "A")
k.write()
k.expect("conns", 1)
k.expect("conn", 0, CL, SV, "SF", "ShADFaGf")
k.expect("chunks", 0, "orig:data:0:10,orig:gap:10:10,orig:fin:20:0,resp:fin:0:0")
k.expect("flag", "lost_segment")

k = case("follow-fin-after-gap")
c = Conn(k)
c.handshake()
c.pkt(0, "PA", b"A" * 10)
c.seq[0] += 10             # lost
c.pkt(0, "PA", b"C" * 10)
c.pkt(0, "FA")
k.write()
k.expect("conns", 1)
k.expect("chunks", 0, "orig:data:0:10,orig:gap:10:10,orig:data:20:10,orig:fin:30:0")
k.expect("flag", "lost_segment")

k = case("dup-ack-fast-retransmission")
c = Conn(k)
c.handshake()
c.pkt(0, "PA", b"a" * 100)
c.seq[0] += 100            # lost
c.pkt(0, "PA", b"c" * 100)
c.pkt(0, "PA", b"d" * 100)
c.pkt(1, "A", ack=201)
c.pkt(1, "A", ack=201)
c.pkt(1, "A", ack=201)
c.pkt(0, "PA", b"b" * 100, seq=201, dt=0.001)
c.pkt(1, "A")
k.write()
k.expect("conns", 1)
k.expect("flag", "duplicate_ack")
k.expect("stream", 0, "orig", (b"a" * 100 + b"b" * 100 + b"c" * 100 + b"d" * 100).hex())

k = case("spurious-retransmission")
c = Conn(k)
c.handshake()
c.pkt(0, "PA", b"x" * 20)
c.pkt(1, "A")
c.pkt(0, "PA", b"x" * 20, seq=101, dt=0.5)
k.write()
k.expect("conns", 1)
k.expect("flag", "spurious_retransmission")

k = case("zero-window-and-keepalive")
c = Conn(k)
c.handshake()
c.pkt(0, "PA", b"y" * 50)
c.pkt(1, "A", win=0)
c.pkt(0, "A", seq=150, dt=1.0)      # keep-alive: one below the next sequence number
c.pkt(1, "A", win=8192)
k.write()
k.expect("conns", 1)
k.expect("flag", "zero_window")
k.expect("flag", "keep_alive")

k = case("window-full")
c = Conn(k)
c.pkt(0, "S")
c.pkt(1, "SA", win=100)
c.pkt(0, "A")
c.pkt(0, "PA", b"z" * 100)
c.pkt(1, "A", win=100)
k.write()
k.expect("conns", 1)
k.expect("flag", "window_full")

# --- reassembly ---------------------------------------------------------------
k = case("held-same-seq-first-wins")
c = Conn(k)
c.handshake()
c.pkt(0, "PA", b"AAAAA", seq=111)
c.pkt(0, "PA", b"BBBBBBBBBB", seq=111)
c.pkt(0, "PA", b"0123456789", seq=101)
c.seq[0] = 121
c.pkt(1, "A")
k.write()
k.expect("conns", 1)
k.expect("stream", 0, "orig", (b"0123456789AAAAABBBBB").hex())

k = case("many-held-segments")
c = Conn(k)
c.handshake()
for i in range(1, 301):
    c.pkt(0, "PA", bytes([65 + i % 26]) * 1000, seq=101 + 1000 * i, dt=0.0001)
c.pkt(0, "PA", b"0" * 1000, seq=101, dt=0.2)
c.seq[0] = 101 + 301 * 1000
c.pkt(1, "A")
k.write()
k.expect("conns", 1)
k.expect("gap", 0, "orig", 0)

k = case("junk-far-ahead")
c = Conn(k)
c.handshake()
c.pkt(0, "PA", b"JUNK", seq=101 + 0x70000000)
c.pkt(0, "PA", b"real")
c.pkt(1, "A")
c.close()
k.write()
k.expect("conns", 1)
k.expect("stream", 0, "orig", b"real".hex())
k.expect("gap", 0, "orig", 0)

# --- IP fragments (nr_frag: first copy of a byte wins; tshark: lowest offset wins) ---
BODY = bytes(65 + i % 26 for i in range(600))


def frag_seg(cap, ident, order, extra=(), fragsize=200):
    """The client's 600-byte segment at seq 101 in IPv4 fragments of fragsize
    bytes (620 bytes of TCP: 200, 200, 200, 20), added in the given order of
    fragment indexes; extra: (position, packet) to insert."""
    seg = IP(src=C, dst=S, id=ident) / TCP(sport=40000, dport=8080, flags="PA", seq=101,
                                           ack=1001, window=8192) / Raw(BODY)
    fr = fragment(seg, fragsize=fragsize)
    pkts = [fr[i] for i in order]
    for at, p in extra:
        pkts.insert(at, p)
    for p in pkts:
        cap.add(Eth() / p, dt=0.001)


def with_bytes(b, at, new):
    return b[:at] + new + b[at + len(new):]


def frag_conn(name, ident, order, extra=(), close=True):
    """Case NAME: a handshake, the client's segment in fragments (frag_seg),
    the server's ACK of its 600 bytes, then a close unless close is False."""
    k = case(name)
    c = Conn(k)
    c.handshake()
    frag_seg(k, ident, order, extra)
    c.seq[0] += 600
    c.pkt(1, "A")
    if close:
        c.close()
    k.write()
    return k


k = frag_conn("ipv4-frag-tcp-reordered", 7, [3, 2, 1, 0])
k.expect("conns", 1)
k.expect("conn", 0, CL, SV, "SF", "ShADaFf")
k.expect("stream", 0, "orig", BODY.hex())
k.expect("tshark-stream", 0, "orig", BODY.hex())
k.expect("frags", 1, 0, 0)

k = case("ipv4-frag-udp")
q = bytes(48 + i % 10 for i in range(1000))
for f in fragment(IP(src=C, dst=S, id=9) / UDP(sport=40000, dport=53) / Raw(q), fragsize=400):
    k.add(Eth() / f)
k.add(Eth() / IP(src=S, dst=C) / UDP(sport=53, dport=40000) / Raw(b"ok"))
k.write()
k.expect("conns", 1)
k.expect("conn", 0, ep(C, 40000), ep(S, 53), "SF", "-")
k.expect("stream", 0, "orig", q.hex())
k.expect("frags", 1, 0, 0)

# The same offset twice, different bytes: the first copy wins in both tools.
dup = IP(src=C, dst=S, id=11, flags="MF", frag=200 // 8, proto=6) / Raw(b"X" * 200)
k = frag_conn("ipv4-frag-overlap-same-offset", 11, [0, 1, 2, 3], extra=[(2, dup)], close=False)
k.expect("conns", 1)
k.expect("stream", 0, "orig", BODY.hex())
k.expect("tshark-stream", 0, "orig", BODY.hex())
k.expect("frags", 1, 0, 0)

# 16 bytes of 'Y' at IP payload offset 392, after the fragment at 400 and
# before the one at 200: netrig keeps the first copy (Y at 392..400, TCP
# payload 372..380); tshark the lowest offset's (Y at 400..408, TCP 380..388).
ys = IP(src=C, dst=S, id=12, flags="MF", frag=392 // 8, proto=6) / Raw(b"Y" * 16)
k = frag_conn("ipv4-frag-overlap-lower-offset", 12, [2, 0, 1, 3], extra=[(1, ys)], close=False)
k.expect("conns", 1)
k.expect("stream", 0, "orig", with_bytes(BODY, 372, b"Y" * 8).hex())
k.expect("tshark-stream", 0, "orig", with_bytes(BODY, 380, b"Y" * 8).hex())
k.expect("frags", 1, 0, 0)

# A fragment lost: the datagram never completes, and the server's ACK of
# its 600 bytes makes them a gap (before nr_frag, the first fragment's 180
# bytes were taken as the segment and only 420 went missing).
k = frag_conn("ipv4-frag-lost", 13, [0, 2, 3])
k.expect("conns", 1)
k.expect("conn", 0, CL, SV, "SF", "ShAaGFf")
k.expect("gap", 0, "orig", 600)
k.expect("frags", 0, 1, 0)
k.expect("flag", "ack_lost_segment")

k = case("ipv6-frag-tcp")
C6, S6 = "fd00::1", "fd00::2"
c = Conn(k, client=C6, server=S6)
c.handshake()
seg = IPv6(src=C6, dst=S6) / IPv6ExtHdrFragment(id=5) / \
    TCP(sport=40000, dport=8080, flags="PA", seq=101, ack=1001, window=8192) / Raw(BODY)
fr = fragment6(seg, 300)
for f in [fr[0], fr[2], fr[1]]:
    k.add(Eth() / f, dt=0.001)
c.seq[0] += 600
c.pkt(1, "A")
c.close()
k.write()
k.expect("conns", 1)
k.expect("conn", 0, ep(C6, 40000), ep(S6, 8080), "SF", "ShADaFf")
k.expect("stream", 0, "orig", BODY.hex())
k.expect("tshark-stream", 0, "orig", BODY.hex())
k.expect("frags", 1, 0, 0)

# A last fragment whose data would end past 65535 bytes fits no datagram.
k = case("ipv4-frag-too-long")
k.add(Eth() / IP(src=C, dst=S, id=14, frag=65520 // 8, proto=17) / Raw(b"z" * 100))
k.write()
k.expect("conns", 0)
k.expect("frags", 0, 0, 1)

# --- files -----------------------------------------------------------------------
k = case("vlan-5-tags")
p = Eth() / Dot1Q(vlan=1) / Dot1Q(vlan=2) / Dot1Q(vlan=3) / Dot1Q(vlan=4) / Dot1Q(vlan=5) / \
    IP(src=C, dst=S) / UDP(sport=40000, dport=53) / Raw(b"q")
k.add(p)
k.write()
k.expect("conns", 1)
k.expect("conn", 0, ep(C, 40000), ep(S, 53), "S0", "-")

k = case("truncated-file")
c = Conn(k)
c.handshake()
c.pkt(0, "PA", b"x" * 100)
k.write(merge=False)
path = os.path.join(out_dir, k.name + ".pcap")
with open(path, "r+b") as f:
    f.truncate(os.path.getsize(path) - 50)
k.expect("conns", 1)
k.expect("conn", 0, CL, SV, "S1", "ShA")
last = 24 + sum(16 + len(x) for x in k.pkts[:-1])
k.expect("error", "record at offset %d: caplen %d but only %d bytes left in the file (truncated record)"
         % (last, len(k.pkts[-1]), len(k.pkts[-1]) - 50))


def pcapng(name, blocks, merge=None):
    """Write blocks as NAME.pcapng; merge: its frames [(linktype, ts_us, frame)]
    for the merged capture (None: damaged, tshark reads the file itself)."""
    with open(os.path.join(out_dir, name + ".pcapng"), "wb") as f:
        for b in blocks:
            f.write(b)
    if merge is not None:
        i = len(merged)
        merged.append((name, [(lt, t, bytes(relabel(Ether(fr) if lt == 1 else IP(fr), i)))
                              for lt, t, fr in merge]))


def block(btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def epb(ifid, ts_units, frame):
    body = struct.pack("<IIIII", ifid, ts_units >> 32, ts_units & 0xffffffff, len(frame),
                       len(frame)) + frame
    return block(6, body)


shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
eth_frame = bytes(Eth() / IP(src=C, dst=S) / UDP(sport=40000, dport=53) / Raw(b"one"))
raw_frame = bytes(IP(src=C, dst=S) / UDP(sport=40002, dport=53) / Raw(b"two"))
ts = int(T0 * 1e6)
pcapng("pcapng-mixed-linktypes", [
    shb,
    block(1, struct.pack("<HHI", 1, 0, 65535)),      # interface 0: Ethernet
    block(1, struct.pack("<HHI", 101, 0, 65535)),    # interface 1: raw IP
    epb(0, ts, eth_frame),
    epb(1, ts + 10, raw_frame),
], merge=[(1, ts, eth_frame), (101, ts + 10, raw_frame)])
expect.append("pcapng-mixed-linktypes conns 2")
expect.append("pcapng-mixed-linktypes conn 0 %s %s S0 -" % (ep(C, 40000), ep(S, 53)))
expect.append("pcapng-mixed-linktypes conn 1 %s %s S0 -" % (ep(C, 40002), ep(S, 53)))

# Timestamp in microseconds past the year 2262 (int64 nanoseconds overflow).
pcapng("pcapng-year-2300", [
    shb,
    block(1, struct.pack("<HHI", 1, 0, 65535)),
    epb(0, 10_400_000_000 * 1_000_000, eth_frame),
], merge=[(1, 10_400_000_000 * 1_000_000, eth_frame)])
expect.append("pcapng-year-2300 conns 1")
expect.append("pcapng-year-2300 start-positive")

# A damaged block after a good one: the error names the bad block's offset.
good = epb(0, ts, eth_frame)
bad = struct.pack("<II", 6, 0x7fffff00) + b"\0" * 16
off = len(shb) + 20 + len(good)
pcapng("pcapng-bad-block", [shb, block(1, struct.pack("<HHI", 1, 0, 65535)), good, bad])
expect.append("pcapng-bad-block conns 1")
expect.append("pcapng-bad-block error block at offset %d: " % off)

with open(os.path.join(out_dir, "expect.txt"), "w") as f:
    f.write("\n".join(expect) + "\n")

# Every undamaged case in one capture for one tshark run (see the top).
os.makedirs(os.path.join(out_dir, "tshark"), exist_ok=True)
blocks = [shb, block(1, struct.pack("<HHI", 1, 0, 65535)), block(1, struct.pack("<HHI", 101, 0, 65535))]
manifest = []
nframe = 1
for name, frames in merged:
    manifest.append("%s %d %d" % (name, nframe, len(frames)))
    blocks += [epb(0 if lt == 1 else 1, t, fr) for lt, t, fr in frames]
    nframe += len(frames)
with open(os.path.join(out_dir, "tshark", "all.pcapng"), "wb") as f:
    f.write(b"".join(blocks))
with open(os.path.join(out_dir, "tshark", "all.txt"), "w") as f:
    f.write("\n".join(manifest) + "\n")
