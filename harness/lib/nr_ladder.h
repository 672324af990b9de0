/* nr_ladder.h - the ladder (sequence) diagram of a capture, as data: who
 * sent what to whom, when.
 *
 * A ladder has one lane per endpoint (address and port), named from a
 * scenario's step log when it is known ("a", "srv", "web"), and events in
 * time order: one per packet, or one per band, a burst of plain data
 * segments of one connection and direction (with the pure ACKs that answer
 * them) coalesced so that a 64 MiB transfer is a few events, not thousands.
 * Packets that are special (SYN, FIN, RST, retransmission, out of order)
 * are always drawn on their own; the packets of a burst that advertise a
 * zero window (a receiver that does not read) are counted in its band.  Per-packet anomalies come
 * from the nr_flow analysis of the same pass.
 *
 * The step log of a scenario (steps.log, written by the runner) is parsed
 * here too: its clock line maps step times to capture times, its endpoint
 * lines name the lanes, its step lines are drawn across the ladder.
 *
 * Everything is analysis; the SVG is drawn elsewhere (harness/src/ladder.c). */
#ifndef NR_LADDER_H
#define NR_LADDER_H

#include <stddef.h>
#include <stdint.h>

#include "nr_err.h"
#include "nr_pktfile.h"

/* Marks of a packet (or band), bits of nr_ladder_event.marks. */
#define NR_LM_SYN 0x01     /* SYN or SYN-ACK */
#define NR_LM_FIN 0x02
#define NR_LM_RST 0x04
#define NR_LM_RETRANS 0x08 /* carries bytes already delivered */
#define NR_LM_ZEROWIN 0x10 /* advertises a zero window */
#define NR_LM_OOO 0x20     /* ahead of a hole: bytes before it missing (so far) */
#define NR_LM_UDP 0x40

#define NR_LADDER_PREVIEW 48 /* payload bytes kept per drawn packet */
#define NR_LADDER_NAME 64

/* One lane: an endpoint. */
struct nr_ladder_lane {
    char name[NR_LADDER_NAME]; /* from the step log, or "" */
    char addr[80];             /* "127.0.0.1:8080"; "" for the lane of others */
    uint8_t ip[16];
    uint8_t ipver;
    uint16_t port;
    uint32_t others;           /* > 0: the lane where endpoints past max_lanes go */
    uint64_t pkts;             /* packets sent from this lane */
};

/* One arrow (a packet) or band (coalesced packets). */
struct nr_ladder_event {
    int64_t ts_ns, end_ns;     /* capture time of the (first, last) packet */
    uint64_t frame;            /* frame number of the (first) packet, from 1 */
    uint32_t from, to;         /* lane indices */
    uint32_t conn;             /* connection index (nr_flowtab) */
    uint8_t band;              /* 1: a band */
    uint8_t flags;             /* TCP flags (NR_TCP_*) of a packet */
    uint8_t marks;             /* NR_LM_* (a band: none) */
    uint32_t npkts;            /* packets in it: 1 for an arrow */
    uint32_t nback;            /* band: pure ACKs the other way, included in npkts */
    uint32_t nzwin;            /* band: packets in it advertising a zero window */
    uint64_t bytes;            /* payload bytes (a band: of its data segments) */
    uint32_t rseq, rack;       /* relative seq and ack (a band: of its first segment) */
    uint16_t win;
    uint8_t npreview;
    uint8_t preview[NR_LADDER_PREVIEW];
};

/* What to draw. */
struct nr_ladder_opts {
    size_t max_events;         /* events kept, in time order (0: 5000) */
    size_t max_lanes;          /* lanes before the lane of others (0: 16) */
    int64_t from_ns, to_ns;    /* window, from the first packet; to_ns 0: no end */
    int has_flow;              /* only connection flow_index */
    uint32_t flow_index;
    const char *flow_spec;     /* or only "ADDR:PORT-ADDR:PORT" (either order), or NULL */
    uint32_t band_min;         /* packets from which a burst is a band (0: 8) */
    int64_t band_gap_ns;       /* a pause longer than this ends a burst (0: 20 ms) */
};

/* A step line of a step log. */
struct nr_ladder_step {
    int64_t start_us, end_us;  /* log time (us from the scenario's start) */
    unsigned line;             /* scenario line */
    int failed;                /* "[FAILED, ...]" */
    char *text;                /* "send a \"hi\"" (owned) */
};

/* What a steps.log tells the ladder. */
struct nr_ladder_log {
    int have_clock;
    int64_t clock_us;          /* wall clock (us since the epoch) of log time 0 */
    struct nr_ladder_step *steps;
    size_t nsteps;
    uint64_t dropped;          /* packets the capture lost ("N dropped by the kernel") */
    struct { char name[NR_LADDER_NAME]; char addr[80]; } *names;
    size_t nnames;
};

/* Parse a step log held in buf[0..len) (any bytes; lines it does not know
 * are skipped).  Returns 0 and fills *log (free it with
 * nr_ladder_log_free), or -1 when out of memory (nothing to free). */
int nr_ladder_log_parse(const uint8_t *buf, size_t len, struct nr_ladder_log *log);

/* Release what nr_ladder_log_parse allocated. */
void nr_ladder_log_free(struct nr_ladder_log *log);

/* The ladder of one capture: lanes and events (owned by the ladder). */
struct nr_ladder {
    struct nr_ladder_opts o;
    struct nr_ladder_lane *lanes;
    size_t nlanes;
    struct nr_ladder_event *ev;
    size_t nev, evcap;
    int64_t first_ns, last_ns; /* capture times of the first and last frame; 0: none */
    uint64_t frames;           /* frames in the capture */
    uint64_t drawn_pkts;       /* packets in the events kept (arrows + band members) */
    uint64_t cut_pkts;         /* packets past max_events, not drawn */
    uint64_t outside;          /* packets outside the window or the flow */
    uint64_t undrawable;       /* neither TCP nor UDP, or undecodable: no lanes */
    uint64_t conns;            /* connections and UDP flows */
    uint64_t gap_bytes;        /* bytes missing from the streams at the end */
    struct nr_capstats st;
    void *priv;                /* reading state */
};

/* Read the capture at path (or buf[0..len) when path is NULL) into *l,
 * naming lanes from log (may be NULL).  Returns 0 (free *l with
 * nr_ladder_free), or -1 with errbuf set: the capture cannot be read
 * ("FILE: record at offset N: ...") and *l holds nothing to free. */
int nr_ladder_read(const char *path, const uint8_t *buf, size_t len,
                   const struct nr_ladder_opts *o, const struct nr_ladder_log *log,
                   struct nr_ladder *l, char *errbuf);

/* Release a ladder's lanes and events. */
void nr_ladder_free(struct nr_ladder *l);

/* Packets the capture held that the ladder could place on lanes: every
 * TCP and UDP packet in the window and flow (drawn_pkts + cut_pkts). */
uint64_t nr_ladder_packets(const struct nr_ladder *l);

#endif
