/* run_capture.c - per-scenario packet capture (see run_capture.h). */
#define _GNU_SOURCE
#include "run_capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nr_net.h"

#define SNAPLEN 65600 /* lo MTU 65536 + link header: every frame whole */
#define RING_BYTES (256 << 20)
#define SENTINEL_PORT 9 /* discard */
#define DRAIN_TIMEOUT_MS 3000

struct run_capture {
    pcap_t *p;
    pcap_dumper_t *dump;
    pthread_t thread;
    atomic_int stop;          /* set after the sentinel is sent */
    atomic_int seen_sentinel;
    uint64_t packets;
    uint8_t sentinel[32];
    size_t sentinel_len;
};

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct run_capture *c = (struct run_capture *)user;

    if (h->caplen >= c->sentinel_len &&
        memmem(bytes, h->caplen, c->sentinel, c->sentinel_len) != NULL) {
        atomic_store(&c->seen_sentinel, 1);
        pcap_breakloop(c->p);
        return;
    }
    pcap_dump((u_char *)c->dump, h, bytes);
    c->packets++;
}

static void *capture_main(void *arg)
{
    struct run_capture *c = arg;
    struct pollfd pfd = { .fd = pcap_get_selectable_fd(c->p), .events = POLLIN };
    int64_t stop_deadline = -1;

    while (!atomic_load(&c->seen_sentinel)) {
        if (atomic_load(&c->stop)) {
            if (stop_deadline < 0)
                stop_deadline = nr_now_ms() + DRAIN_TIMEOUT_MS;
            else if (nr_ms_left(stop_deadline) == 0)
                break;
        }
        if (poll(&pfd, 1, 50) < 0 && errno != EINTR)
            break;
        if (pcap_dispatch(c->p, -1, on_packet, (u_char *)c) == PCAP_ERROR)
            break;
    }
    return NULL;
}

int run_capture_start(const char *iface, const char *path, struct run_capture **out,
                      char *errbuf)
{
    char perr[PCAP_ERRBUF_SIZE];
    struct run_capture *c = calloc(1, sizeof(*c));

    if (!c)
        return nr_seterr(errbuf, "out of memory");
    c->sentinel_len = (size_t)snprintf((char *)c->sentinel, sizeof(c->sentinel),
                                       "netrig-sentinel-%d-%p", (int)getpid(), (void *)c);
    c->p = pcap_create(iface, perr);
    if (!c->p) {
        nr_seterr(errbuf, "pcap_create %s: %s", iface, perr);
        goto error;
    }
    if (pcap_set_snaplen(c->p, SNAPLEN) != 0 || pcap_set_immediate_mode(c->p, 1) != 0 ||
        pcap_set_buffer_size(c->p, RING_BYTES) != 0 || pcap_set_timeout(c->p, 50) != 0) {
        nr_seterr(errbuf, "pcap options on %s: %s", iface, pcap_geterr(c->p));
        goto error;
    }
    if (pcap_activate(c->p) < 0) {
        nr_seterr(errbuf, "cannot capture on %s: %s", iface, pcap_geterr(c->p));
        goto error;
    }
    if (pcap_setnonblock(c->p, 1, perr) < 0) {
        nr_seterr(errbuf, "pcap_setnonblock: %s", perr);
        goto error;
    }
    c->dump = pcap_dump_open(c->p, path);
    if (!c->dump) {
        nr_seterr(errbuf, "cannot write %s: %s", path, pcap_geterr(c->p));
        goto error;
    }
    if (pthread_create(&c->thread, NULL, capture_main, c) != 0) {
        nr_seterr(errbuf, "cannot start the capture thread");
        goto error;
    }
    *out = c;
    return 0;
error:
    if (c->dump)
        pcap_dump_close(c->dump);
    if (c->p)
        pcap_close(c->p);
    free(c);
    return -1;
}

/* Send the sentinel datagram over IPv4 loopback. */
static void send_sentinel(struct run_capture *c)
{
    struct nr_addr a;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || nr_addr_from_host("127.0.0.1", SENTINEL_PORT, &a, NULL) < 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    sendto(fd, c->sentinel, c->sentinel_len, 0, (struct sockaddr *)&a.ss, a.len);
    close(fd);
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
    if (pcap_dump_flush(c->dump) != 0)
        r = nr_seterr(errbuf, "cannot flush the capture file");
    pcap_dump_close(c->dump);
    pcap_close(c->p);
    free(c);
    if (r == 0 && !st->drained)
        r = nr_seterr(errbuf, "capture not drained: sentinel not seen within %d ms",
                      DRAIN_TIMEOUT_MS);
    return r;
}
