/* run_capture.h - capture a scenario's traffic with libpcap.
 *
 * A TPACKET_V3 ring of bounded size on the loopback of the scenario's
 * namespace (outgoing copies filtered in the kernel); a thread writes every
 * packet to a pcap file and flushes it after each batch, so the file is
 * readable up to the last batch even if the process is killed.  Stopping
 * sends a sentinel datagram and reads until it is seen, so nothing still in
 * the kernel ring is lost before the verdict; the sentinel itself is not
 * written.  Figures: harness/doc/pcap.md, "Capture cost per scenario". */
#ifndef RUN_CAPTURE_H
#define RUN_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

/* The kernel ring per scenario when the caller gives no size. */
#define RUN_CAPTURE_RING_DEFAULT ((size_t)24 << 20)

struct run_capture;

struct run_capture_stats {
    uint64_t packets;       /* packets written to the file */
    uint64_t kernel_drops;  /* pcap_stats ps_drop + ps_ifdrop */
    int drained;            /* the sentinel was seen: the file is complete */
};

/* Start capturing on iface into path with the default ring.  Returns 0 and
 * *out (owned; released by run_capture_stop), or -1 with errbuf set (e.g.
 * no permission). */
int run_capture_start(const char *iface, const char *path, struct run_capture **out,
                      char *errbuf);

/* Like run_capture_start with a kernel ring of ring_bytes (0: the default). */
int run_capture_start_sized(const char *iface, const char *path, size_t ring_bytes,
                            struct run_capture **out, char *errbuf);

/* TCP and UDP payload bytes of the frames the capture has taken from the
 * kernel ring so far, both directions, as the capture thread counts them;
 * any thread may ask.  A traffic source that has put more payload on the
 * wire than this, by a good part of the ring, is outrunning the capture. */
uint64_t run_capture_payload(struct run_capture *c);

/* The kernel ring's size in bytes. */
size_t run_capture_ring(const struct run_capture *c);

/* Drain, flush and close; fills *st.  Returns 0, or -1 with errbuf set when
 * the capture could not be completed.  Frees the capture either way. */
int run_capture_stop(struct run_capture *c, struct run_capture_stats *st, char *errbuf);

#endif
