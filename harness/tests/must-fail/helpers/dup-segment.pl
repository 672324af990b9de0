#!/usr/bin/perl
# dup-segment.pl HOST PORT: connect, send "hello", then put the same 5 bytes
# on the wire once more (a raw TCP segment at the same sequence number), so
# the capture holds a retransmission.  Reads the sequence numbers with
# TCP_REPAIR (needs CAP_NET_ADMIN, which the scenario's namespace gives).
# Prints "sent" when done, then waits to be stopped.
use strict;
use warnings;
use Socket qw(:all);

my ($host, $port) = @ARGV;
my ($TCP_REPAIR, $TCP_REPAIR_QUEUE, $TCP_QUEUE_SEQ) = (19, 20, 21);
my ($RECV_QUEUE, $SEND_QUEUE, $REPAIR_OFF_NO_WP) = (1, 2, -1);
$| = 1;

socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
connect($s, pack_sockaddr_in($port, inet_aton($host))) or die "connect: $!";
syswrite($s, "hello") == 5 or die "write: $!";
select(undef, undef, undef, 0.1); # acknowledged by now on loopback

sub queue_seq {
    my ($q) = @_;
    setsockopt($s, IPPROTO_TCP, $TCP_REPAIR_QUEUE, pack("i", $q)) or die "repair queue: $!";
    return unpack("I", getsockopt($s, IPPROTO_TCP, $TCP_QUEUE_SEQ));
}
setsockopt($s, IPPROTO_TCP, $TCP_REPAIR, pack("i", 1)) or die "TCP_REPAIR: $!";
my $snd = queue_seq($SEND_QUEUE);
my $rcv = queue_seq($RECV_QUEUE);
setsockopt($s, IPPROTO_TCP, $TCP_REPAIR, pack("i", $REPAIR_OFF_NO_WP)) or die "repair off: $!";

my ($sport, $saddr) = unpack_sockaddr_in(getsockname($s));
my ($dport, $daddr) = unpack_sockaddr_in(getpeername($s));
my $data = "hello";
my $seg = pack("nnNNCCnnn", $sport, $dport, ($snd - 5) & 0xffffffff, $rcv, 5 << 4, 0x18, 65535, 0, 0)
    . $data;
my $sum = 0;
my $ph = $saddr . $daddr . pack("CCn", 0, 6, length($seg)) . $seg;
$ph .= "\0" if length($ph) % 2;
$sum += $_ for unpack("n*", $ph);
$sum = ($sum & 0xffff) + ($sum >> 16) while $sum >> 16;
substr($seg, 16, 2) = pack("n", ~$sum & 0xffff);
socket(my $r, PF_INET, SOCK_RAW, 6) or die "raw socket: $!";
send($r, $seg, 0, pack_sockaddr_in(0, $daddr)) == length($seg) or die "raw send: $!";
print "sent\n";
sleep 10;
