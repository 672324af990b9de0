/* run_capture.h - capture a scenario's traffic with libpcap.
 *
 * create -> immediate mode -> buffer size -> activate on the loopback of the
 * scenario's namespace; a thread writes every packet to a pcap file.
 * Stopping sends a sentinel datagram and reads until it is seen, so nothing
 * still in the kernel ring is lost before the verdict; the sentinel itself
 * is not written. */
#ifndef RUN_CAPTURE_H
#define RUN_CAPTURE_H

#include <stdint.h>

struct run_capture;

struct run_capture_stats {
    uint64_t packets;       /* packets written to the file */
    uint64_t kernel_drops;  /* pcap_stats ps_drop + ps_ifdrop */
    int drained;            /* the sentinel was seen: the file is complete */
};

/* Start capturing on iface into path.  Returns 0 and *out (owned; released
 * by run_capture_stop), or -1 with errbuf set (e.g. no permission). */
int run_capture_start(const char *iface, const char *path, struct run_capture **out,
                      char *errbuf);

/* Drain, flush and close; fills *st.  Returns 0, or -1 with errbuf set when
 * the capture could not be completed.  Frees the capture either way. */
int run_capture_stop(struct run_capture *c, struct run_capture_stats *st, char *errbuf);

#endif
