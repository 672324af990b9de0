/* gen_pcap.c - write a large synthetic loopback capture for benchmarking
 * `netrig pcap`: many interleaved TCP connections (small requests, bulk
 * responses in full-size segments, ~1% retransmitted segments, ~5% of
 * connections reset) and UDP request/response pairs.  Deterministic
 * (fixed PRNG seed).  Usage: gen_pcap OUT.pcap SIZE_MB */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktgen.h" /* frame building helpers shared with the tests */

#define ACTIVE 64
#define MSS 1448

struct conn {
    uint16_t cport;
    uint32_t seq[2];
    int phase;     /* 0 handshake, 1 exchanging, 2 closing */
    int exchanges; /* request/response pairs left */
    int reset;
};

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint8_t frame[14 + 20 + 20 + MSS];
static uint8_t fill[MSS];
static uint64_t written, limit, ts_us = 1700000000ull * 1000000;
static uint16_t next_port = 10000;
static FILE *out;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static void put32(uint32_t v)
{
    fwrite(&v, 4, 1, out);
}

static void emit(size_t len)
{
    ts_us += 1 + rnd(50);
    put32((uint32_t)(ts_us / 1000000));
    put32((uint32_t)(ts_us % 1000000));
    put32((uint32_t)len);
    put32((uint32_t)len);
    fwrite(frame, 1, len, out);
    written += 16 + len;
}

static size_t ip_hdr(int proto, size_t l4len)
{
    return pg_eth_ip4(frame, 0x7f000001, 0x7f000001, proto, l4len);
}

static void tcp(struct conn *c, int dir, int flags, size_t len, uint32_t seq)
{
    size_t h = ip_hdr(6, 20 + len);
    uint8_t *t = frame + h;
    memset(t, 0, 20);
    pg_be16(t, dir ? 8080 : c->cport);
    pg_be16(t + 2, dir ? c->cport : 8080);
    pg_be32(t + 4, seq);
    pg_be32(t + 8, (flags & 0x10) ? c->seq[!dir] : 0);
    t[12] = 5 << 4;
    t[13] = (uint8_t)flags;
    pg_be16(t + 14, 65535);
    memcpy(t + 20, fill, len);
    emit(h + 20 + len);
}

static void send_seg(struct conn *c, int dir, int flags, size_t len)
{
    tcp(c, dir, flags, len, c->seq[dir]);
    if (len && rnd(100) == 0)
        tcp(c, dir, flags, len, c->seq[dir]); /* retransmission */
    c->seq[dir] += (uint32_t)len + ((flags & 3) ? 1 : 0);
}

static void new_conn(struct conn *c)
{
    c->cport = next_port++;
    if (next_port < 10000)
        next_port = 10000;
    c->seq[0] = (uint32_t)rng;
    c->seq[1] = (uint32_t)(rng >> 32);
    c->phase = 0;
    c->exchanges = 1 + (int)rnd(8);
    c->reset = rnd(20) == 0;
}

static void udp_pair(void)
{
    uint16_t port = (uint16_t)(20000 + rnd(20000));
    for (int d = 0; d < 2; d++) {
        size_t len = 40 + rnd(400), h = ip_hdr(17, 8 + len);
        pg_be16(frame + h, d ? 53 : port);
        pg_be16(frame + h + 2, d ? port : 53);
        pg_be16(frame + h + 4, (unsigned)(8 + len));
        pg_be16(frame + h + 6, 0);
        memcpy(frame + h + 8, fill, len);
        emit(h + 8 + len);
    }
}

static void step(struct conn *c)
{
    if (c->phase == 0) {
        send_seg(c, 0, 0x02, 0);
        send_seg(c, 1, 0x12, 0);
        send_seg(c, 0, 0x10, 0);
        c->phase = 1;
    } else if (c->phase == 1) {
        uint32_t segs = rnd(4) ? 1 + rnd(30) : 0;
        send_seg(c, 0, 0x18, 60 + rnd(300));
        for (uint32_t i = 0; i < segs; i++) {
            send_seg(c, 1, 0x10, MSS);
            if (i & 1)
                send_seg(c, 0, 0x10, 0);
        }
        send_seg(c, 1, 0x18, 1 + rnd(MSS));
        send_seg(c, 0, 0x10, 0);
        if (--c->exchanges == 0)
            c->phase = 2;
    } else {
        if (c->reset) {
            send_seg(c, (int)rnd(2), 0x14, 0);
        } else {
            send_seg(c, 0, 0x11, 0);
            send_seg(c, 1, 0x11, 0);
            send_seg(c, 0, 0x10, 0);
        }
        new_conn(c);
    }
}

int main(int argc, char **argv)
{
    static struct conn conns[ACTIVE];

    if (argc != 3) {
        fprintf(stderr, "usage: gen_pcap OUT.pcap SIZE_MB\n");
        return 2;
    }
    limit = strtoull(argv[2], NULL, 10) << 20;
    out = fopen(argv[1], "wb");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    for (size_t i = 0; i < sizeof(fill); i++)
        fill[i] = (uint8_t)(' ' + i % 90);
    put32(0xa1b2c3d4);
    fwrite("\x02\x00\x04\x00", 1, 4, out);
    put32(0);
    put32(0);
    put32(262144);
    put32(1);
    written = 24;
    for (int i = 0; i < ACTIVE; i++)
        new_conn(&conns[i]);
    while (written < limit) {
        step(&conns[rnd(ACTIVE)]);
        if (rnd(4) == 0)
            udp_pair();
    }
    if (fclose(out) != 0) {
        perror(argv[1]);
        return 1;
    }
    return 0;
}
