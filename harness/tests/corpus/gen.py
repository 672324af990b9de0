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

The zeek expectations are worked out by hand from zeek's source (the lines are
cited in harness/doc/pcap.md); zeek itself is not packaged in Debian 12.
Deterministic: fixed addresses, ports, sequence numbers and times.
Usage: gen.py DIR
"""
import os
import struct
import sys

from scapy.all import Ether, IP, TCP, UDP, Dot1Q, Raw, wrpcap  # noqa: E402

C, S = "10.0.0.1", "10.0.0.2"
T0 = 1700000000.0

out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
expect = []


class Cap:
    """Packets of one case with increasing timestamps (10 ms apart)."""

    def __init__(self, name):
        self.name = name
        self.pkts = []
        self.t = T0

    def tcp(self, src, sport, dst, dport, flags, seq, ack=0, data=b"", win=8192, dt=0.01):
        p = Ether() / IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags,
                                                   seq=seq & 0xffffffff, ack=ack & 0xffffffff,
                                                   window=win)
        if data:
            p = p / Raw(data)
        self.add(p, dt)

    def add(self, p, dt=0.01):
        self.t += dt
        p.time = self.t
        self.pkts.append(p)

    def write(self):
        wrpcap(os.path.join(out_dir, self.name + ".pcap"), self.pkts)

    def expect(self, *fields):
        expect.append(" ".join([self.name] + [str(f) for f in fields]))


def ep(a, p):
    return "%s:%d" % (a, p)


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
k.add(Ether() / IP(src=S, dst=C) / UDP(sport=53, dport=40000) / Raw(b"answer"))
k.add(Ether() / IP(src=C, dst=S) / UDP(sport=40000, dport=53) / Raw(b"ask"))
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

# --- files -----------------------------------------------------------------------
k = case("vlan-5-tags")
p = Ether() / Dot1Q(vlan=1) / Dot1Q(vlan=2) / Dot1Q(vlan=3) / Dot1Q(vlan=4) / Dot1Q(vlan=5) / \
    IP(src=C, dst=S) / UDP(sport=40000, dport=53) / Raw(b"q")
k.add(p)
k.write()
k.expect("conns", 1)
k.expect("conn", 0, ep(C, 40000), ep(S, 53), "S0", "-")

k = case("truncated-file")
c = Conn(k)
c.handshake()
c.pkt(0, "PA", b"x" * 100)
k.write()
path = os.path.join(out_dir, k.name + ".pcap")
with open(path, "r+b") as f:
    f.truncate(os.path.getsize(path) - 50)
k.expect("conns", 1)
k.expect("conn", 0, CL, SV, "S1", "ShA")
last = 24 + sum(16 + len(x) for x in k.pkts[:-1])
k.expect("error", "record at offset %d: caplen %d but only %d bytes left in the file (truncated record)"
         % (last, len(k.pkts[-1]), len(k.pkts[-1]) - 50))


def pcapng(name, blocks):
    with open(os.path.join(out_dir, name + ".pcapng"), "wb") as f:
        for b in blocks:
            f.write(b)


def block(btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def epb(ifid, ts_units, frame):
    body = struct.pack("<IIIII", ifid, ts_units >> 32, ts_units & 0xffffffff, len(frame),
                       len(frame)) + frame
    return block(6, body)


shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
eth_frame = bytes(Ether() / IP(src=C, dst=S) / UDP(sport=40000, dport=53) / Raw(b"one"))
raw_frame = bytes(IP(src=C, dst=S) / UDP(sport=40002, dport=53) / Raw(b"two"))
ts = int(T0 * 1e6)
pcapng("pcapng-mixed-linktypes", [
    shb,
    block(1, struct.pack("<HHI", 1, 0, 65535)),      # interface 0: Ethernet
    block(1, struct.pack("<HHI", 101, 0, 65535)),    # interface 1: raw IP
    epb(0, ts, eth_frame),
    epb(1, ts + 10, raw_frame),
])
expect.append("pcapng-mixed-linktypes conns 2")
expect.append("pcapng-mixed-linktypes conn 0 %s %s S0 -" % (ep(C, 40000), ep(S, 53)))
expect.append("pcapng-mixed-linktypes conn 1 %s %s S0 -" % (ep(C, 40002), ep(S, 53)))

# Timestamp in microseconds past the year 2262 (int64 nanoseconds overflow).
pcapng("pcapng-year-2300", [
    shb,
    block(1, struct.pack("<HHI", 1, 0, 65535)),
    epb(0, 10_400_000_000 * 1_000_000, eth_frame),
])
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
