/* run_capture.c - per-scenario packet capture (see run_capture.h). */
#define _GNU_SOURCE
#include "run_capture.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nr_net.h"
#include "nr_pkt.h"

#define SNAPLEN 65600        /* lo MTU 65536 + link header: every frame whole */
#define BLOCK_TIMEOUT_MS 10  /* the kernel hands a partly filled block over after this */
#define POLL_MS 50           /* idle wait; a handed-over block wakes the thread */
#define WBUF_BYTES (1 << 20) /* records of one batch, written with one write(2) */
#define SENTINEL_PORT 9      /* discard */
#define SENTINEL_MAX_FRAME 160 /* link + IP + UDP headers + the sentinel text */
#define DRAIN_TIMEOUT_MS 3000
#define RESEND_MS 100        /* the sentinel again, if the ring was full when it came */
/* libpcap's TPACKET_V3 blocks are 256 KiB: four datagrams of the largest
 * UDP payload after the sentinel never fit in the rest of its block. */
#define FILLER_BYTES 65507
#define FILLERS 4

/* A record header of a classic pcap file (host byte order, microseconds). */
struct rec_hdr {
    uint32_t sec, usec, caplen, len;
};

struct run_capture {
    pcap_t *p;
    int fd;                   /* the capture file */
    pthread_t thread;
    atomic_int stop;          /* set after the sentinel is sent */
    atomic_int seen_sentinel;
    uint64_t packets;
    _Atomic uint64_t payload_bytes; /* TCP/UDP payload of the frames taken from the ring */
    int dlt;
    size_t ring_bytes;
    uint8_t *wbuf;            /* whole records not yet written */
    size_t wlen;
    int werr;                 /* errno of the first failed write; writing stops */
    char rerr[PCAP_ERRBUF_SIZE]; /* why reading the ring failed, or "" */
    uint8_t sentinel[32];
    size_t sentinel_len;
};

/* Write the buffered records.  Every write(2) ends on a record boundary, so
 * a process killed between two writes leaves a readable file. */
static void flush_records(struct run_capture *c)
{
    int r;

    if (c->wlen > 0 && c->werr == 0 && (r = nr_write_all(c->fd, c->wbuf, c->wlen, -1)) < 0)
        c->werr = -r;
    c->wlen = 0;
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct run_capture *c = (struct run_capture *)user;
    struct rec_hdr r = { (uint32_t)h->ts.tv_sec, (uint32_t)h->ts.tv_usec, h->caplen, h->len };
    struct nr_pkt pkt;

    /* Only a small frame can be the sentinel: payloads are not scanned. */
    if (h->caplen <= SENTINEL_MAX_FRAME &&
        memmem(bytes, h->caplen, c->sentinel, c->sentinel_len) != NULL) {
        atomic_store(&c->seen_sentinel, 1);
        pcap_breakloop(c->p);
        return;
    }
    if (c->wlen + sizeof(r) + h->caplen > WBUF_BYTES)
        flush_records(c);
    memcpy(c->wbuf + c->wlen, &r, sizeof(r));
    memcpy(c->wbuf + c->wlen + sizeof(r), bytes, h->caplen);
    c->wlen += sizeof(r) + h->caplen;
    c->packets++;
    if (nr_pkt_decode(c->dlt, bytes, h->caplen, &pkt) <= NR_PKT_UDP)
        atomic_fetch_add_explicit(&c->payload_bytes, pkt.wirelen, memory_order_relaxed);
}

/* Send the sentinel datagram over IPv4 loopback, then enough filler that
 * the kernel hands the sentinel's block over at once rather than at the
 * block timeout.  Nothing from the sentinel on is written. */
static void send_sentinel(struct run_capture *c)
{
    static const uint8_t filler[FILLER_BYTES];
    struct nr_addr a;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || nr_addr_from_host("127.0.0.1", SENTINEL_PORT, &a, NULL) < 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    sendto(fd, c->sentinel, c->sentinel_len, 0, (struct sockaddr *)&a.ss, a.len);
    for (int i = 0; i < FILLERS; i++)
        sendto(fd, filler, sizeof(filler), 0, (struct sockaddr *)&a.ss, a.len);
    close(fd);
}

/* The capture thread: take every block the kernel hands over, write its
 * packets, flush after each batch; end at the sentinel (sent again while
 * it is not seen: a full ring drops it like any packet). */
static void *capture_main(void *arg)
{
    struct run_capture *c = arg;
    struct pollfd pfd = { .fd = pcap_get_selectable_fd(c->p), .events = POLLIN };
    int64_t stop_deadline = -1, resend_at = -1;

    pthread_setname_np(pthread_self(), "nr-capture");
    while (!atomic_load(&c->seen_sentinel)) {
        int n = pcap_dispatch(c->p, -1, on_packet, (u_char *)c);

        flush_records(c);
        if (n == PCAP_ERROR) {
            snprintf(c->rerr, sizeof(c->rerr), "%s", pcap_geterr(c->p));
            break;
        }
        if (n > 0 || atomic_load(&c->seen_sentinel))
            continue;
        if (atomic_load(&c->stop)) {
            int64_t now = nr_now_ms();
            if (stop_deadline < 0) {
                stop_deadline = now + DRAIN_TIMEOUT_MS;
                resend_at = now + RESEND_MS;
            } else if (now >= stop_deadline) {
                break;
            } else if (now >= resend_at) { /* it met a full ring: send it again */
                send_sentinel(c);
                resend_at = now + RESEND_MS;
            }
        }
        if (poll(&pfd, 1, POLL_MS) < 0 && errno != EINTR)
            break;
    }
    return NULL;
}

/* On lo the kernel gives a packet socket every packet twice, as it leaves
 * (PACKET_OUTGOING) and as it arrives; libpcap drops the outgoing copy.
 * This socket filter drops it in the kernel instead, before it takes ring
 * space.  It is attached directly: through pcap_setfilter, libpcap would
 * also run it in userland over the blocks already in the ring, where the
 * packet type is unknown, and drop every packet in them. */
static int drop_outgoing(int fd)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0),
        BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),
    };
    struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

/* The classic pcap file header (microsecond timestamps, host byte order). */
static int write_file_header(struct run_capture *c, char *errbuf)
{
    struct {
        uint32_t magic;
        uint16_t major, minor;
        int32_t thiszone;
        uint32_t sigfigs, snaplen, linktype;
    } fh = { 0xa1b2c3d4, 2, 4, 0, 0, (uint32_t)pcap_snapshot(c->p),
             (uint32_t)pcap_datalink(c->p) };
    int r = nr_write_all(c->fd, &fh, sizeof(fh), -1);

    return r < 0 ? nr_seterr_errno(errbuf, -r, "cannot write the capture file") : 0;
}

/* Open lo's capture: TPACKET_V3 (no immediate mode), so frames of any size
 * are packed into the ring's blocks; a TPACKET_V2 ring (immediate mode)
 * gives each 64 KiB frame a 128 KiB slot. */
static int open_pcap(struct run_capture *c, const char *iface, size_t ring_bytes, char *errbuf)
{
    char perr[PCAP_ERRBUF_SIZE];
    int fd;

    c->p = pcap_create(iface, perr);
    if (!c->p)
        return nr_seterr(errbuf, "pcap_create %s: %s", iface, perr);
    if (pcap_set_snaplen(c->p, SNAPLEN) != 0 || pcap_set_immediate_mode(c->p, 0) != 0 ||
        pcap_set_buffer_size(c->p, (int)ring_bytes) != 0 ||
        pcap_set_timeout(c->p, BLOCK_TIMEOUT_MS) != 0)
        return nr_seterr(errbuf, "pcap options on %s: %s", iface, pcap_geterr(c->p));
    if (pcap_activate(c->p) < 0)
        return nr_seterr(errbuf, "cannot capture on %s: %s", iface, pcap_geterr(c->p));
    fd = pcap_get_selectable_fd(c->p);
    if (fd < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) /* targets must not hold the ring */
        return nr_seterr(errbuf, "capture socket on %s: no descriptor", iface);
    if (drop_outgoing(fd) < 0)
        return nr_seterr_errno(errbuf, errno, "capture filter on %s", iface);
    if (pcap_setnonblock(c->p, 1, perr) < 0)
        return nr_seterr(errbuf, "pcap_setnonblock: %s", perr);
    c->dlt = pcap_datalink(c->p);
    return 0;
}

int run_capture_start_sized(const char *iface, const char *path, size_t ring_bytes,
                            struct run_capture **out, char *errbuf)
{
    struct run_capture *c = calloc(1, sizeof(*c));

    if (!c)
        return nr_seterr(errbuf, "out of memory");
    c->fd = -1;
    if (ring_bytes == 0)
        ring_bytes = RUN_CAPTURE_RING_DEFAULT;
    if (ring_bytes > INT32_MAX) {
        nr_seterr(errbuf, "capture ring of %zu bytes: at most %d", ring_bytes, INT32_MAX);
        goto error;
    }
    c->sentinel_len = (size_t)snprintf((char *)c->sentinel, sizeof(c->sentinel),
                                       "netrig-sentinel-%d-%p", (int)getpid(), (void *)c);
    c->wbuf = malloc(WBUF_BYTES);
    if (!c->wbuf) {
        nr_seterr(errbuf, "out of memory");
        goto error;
    }
    c->ring_bytes = ring_bytes;
    if (open_pcap(c, iface, ring_bytes, errbuf) < 0)
        goto error;
    c->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (c->fd < 0) {
        nr_seterr_errno(errbuf, errno, "cannot write %s", path);
        goto error;
    }
    if (write_file_header(c, errbuf) < 0)
        goto error;
    if (pthread_create(&c->thread, NULL, capture_main, c) != 0) {
        nr_seterr(errbuf, "cannot start the capture thread");
        goto error;
    }
    *out = c;
    return 0;
error:
    if (c->fd >= 0)
        close(c->fd);
    if (c->p)
        pcap_close(c->p);
    free(c->wbuf);
    free(c);
    return -1;
}

int run_capture_start(const char *iface, const char *path, struct run_capture **out,
                      char *errbuf)
{
    return run_capture_start_sized(iface, path, 0, out, errbuf);
}

uint64_t run_capture_payload(struct run_capture *c)
{
    return atomic_load_explicit(&c->payload_bytes, memory_order_relaxed);
}

size_t run_capture_ring(const struct run_capture *c)
{
    return c->ring_bytes;
}

int run_capture_stop(struct run_capture *c, struct run_capture_stats *st, char *errbuf)
{
    struct pcap_stat ps;
    int r = 0;

    send_sentinel(c);
    atomic_store(&c->stop, 1);
    pthread_join(c->thread, NULL);
    memset(st, 0, sizeof(*st));
    st->packets = c->packets;
    st->drained = atomic_load(&c->seen_sentinel);
    if (pcap_stats(c->p, &ps) == 0)
        st->kernel_drops = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
    flush_records(c);
    if (close(c->fd) < 0 && c->werr == 0)
        c->werr = errno;
    if (c->rerr[0])
        r = nr_seterr(errbuf, "reading the capture: %s", c->rerr);
    else if (c->werr)
        r = nr_seterr_errno(errbuf, c->werr, "cannot write the capture file");
    else if (!st->drained)
        r = nr_seterr(errbuf, "capture not drained: sentinel not seen within %d ms",
                      DRAIN_TIMEOUT_MS);
    pcap_close(c->p);
    free(c->wbuf);
    free(c);
    return r;
}
