/* nr_flow.h - TCP connection and UDP flow tracking.
 *
 * Feed decoded packets (nr_pkt) in capture order; the table keeps one
 * nr_conn per TCP connection and per UDP flow, in order of first
 * appearance.  Connection identity, the originator, conn_state and history
 * follow zeek's TCP analyzer (a SYN with a new initial sequence number, or
 * any SYN after a FIN or RST, starts a new connection; the originator is
 * the first sender unless zeek's likely-server-port rule says otherwise).
 * Per TCP connection it also counts tshark's TCP analysis flags per
 * direction, and reassembles both byte streams (nr_reasm).  With
 * keep_data, stream bytes and the order in which they were sent
 * (nr_chunk) are kept; otherwise memory per connection is constant. */
#ifndef NR_FLOW_H
#define NR_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "nr_pkt.h"
#include "nr_reasm.h"

/* zeek's per-endpoint TCP states. */
enum nr_ep_state {
    NR_EP_INACTIVE, NR_EP_SYN_SENT, NR_EP_SYN_ACK_SENT, NR_EP_PARTIAL,
    NR_EP_ESTABLISHED, NR_EP_CLOSED, NR_EP_RESET
};

/* Kinds of kept stream events. */
enum nr_chunk_kind { NR_CHUNK_DATA, NR_CHUNK_GAP, NR_CHUNK_FIN };

/* One run of stream data (or a gap, or a FIN) in one direction; runs of the
 * same direction and kind merge.  For UDP each datagram is one chunk. */
struct nr_chunk {
    uint8_t dir;  /* 0 originator -> responder, 1 back */
    uint8_t kind; /* enum nr_chunk_kind */
    uint64_t off; /* offset in stream[dir] (DATA) */
    uint64_t len; /* bytes (DATA, GAP) */
    uint64_t soff; /* offset in the direction's stream, gaps counted */
    int64_t ts_ns; /* capture time of the packet that began the chunk */
};

/* A growable byte buffer owned by its connection. */
struct nr_bytes {
    uint8_t *data;
    size_t len, cap;
};

#define NR_HIST_MAX 64

/* zeek's view of one TCP endpoint (analyzer/protocol/tcp/TCP_Endpoint.h):
 * sequence bookkeeping in 64 bits (wraps counted) and history thresholds. */
struct nr_zep {
    uint8_t did_close;         /* the endpoint's close was reported */
    uint8_t started;           /* sequence numbers initialised */
    uint32_t start_seq, last_seq, ack_seq;
    uint32_t seq_wraps, ack_wraps;
    uint32_t fin_cnt;
    uint64_t hist_last_syn, hist_last_fin, hist_last_rst;
    uint32_t cnt[4], thresh[4]; /* T W G C: scaled history letters */
};

/* tshark's TCP analysis flags (tcp.analysis.*), counted per direction. */
enum nr_ta_flag {
    NR_TA_RETRANS,        /* retransmission (includes fast and spurious) */
    NR_TA_FAST_RETRANS,
    NR_TA_SPURIOUS,
    NR_TA_OOO,            /* out_of_order */
    NR_TA_LOST,           /* lost_segment: previous segment not captured */
    NR_TA_ACK_LOST,       /* ack_lost_segment: ACKed segment that wasn't captured */
    NR_TA_ZERO_WIN,
    NR_TA_ZERO_WIN_PROBE,
    NR_TA_WIN_FULL,
    NR_TA_WIN_UPDATE,
    NR_TA_DUP_ACK,
    NR_TA_KEEP_ALIVE,
    NR_TA_KEEP_ALIVE_ACK,
    NR_TA_COUNT
};

/* tshark's per-direction analysis state (packet-tcp.c tcp_flow_t); a
 * sequence number 0 means "not seen yet", as in tshark. */
struct nr_tsa {
    uint8_t base_set;
    uint32_t base_seq;
    uint32_t nextseq, maxseqtobeacked, lastack;
    int64_t nextseq_ns, lastack_ns;
    uint32_t window;
    int win_scale;             /* -1 unknown, -2 not negotiated */
    int32_t dupacks;           /* duplicate ACKs in a row; -1: an ACKed-unseen flag
                                * was raised against this direction since its last ACK */
    uint32_t last_flags;       /* bits (1 << NR_TA_*) of the last segment */
};

struct nr_conn {
    uint32_t index;              /* order of first appearance, from 0 */
    uint8_t proto;               /* 6 TCP, 17 UDP */
    uint8_t ipver;               /* 4 or 6 */
    uint8_t flipped;             /* roles flipped by zeek's rules ('^' in the history) */
    uint8_t addr[2][16];         /* [0] originator, [1] responder */
    uint16_t port[2];
    int64_t first_ns, last_ns;   /* capture timestamps */
    uint64_t pkts[2];            /* packets per direction */
    uint64_t bytes[2];           /* frame (wire) bytes per direction */
    uint64_t payload[2];         /* L4 payload bytes, retransmissions included */
    /* TCP only */
    uint8_t state[2], prev_state[2]; /* enum nr_ep_state */
    uint8_t syn_seen[2];
    uint8_t handshake;           /* SYN, SYN-ACK and the ACK completing it seen */
    int8_t first_fin;            /* -1 none, else direction of the first FIN */
    int8_t first_rst;            /* -1 none, else direction of the first RST */
    uint8_t rst_dirs;            /* bit per direction that sent a RST */
    uint8_t fin_kept;            /* bit per direction whose FIN chunk is kept */
    uint32_t isn[2];
    uint32_t retrans[2];         /* segments carrying already-delivered bytes */
    uint32_t ooo[2];             /* segments that arrived ahead of a hole */
    uint32_t zero_win[2];        /* zero-window advertisements */
    struct nr_zep zep[2];        /* zeek's endpoints */
    uint32_t hist_seen;          /* zeek's history mask (not flipped with the roles) */
    uint8_t is_partial;          /* zeek: no initial SYN seen */
    uint8_t first_seen;          /* zeek: bit 1 orig, bit 2 resp sent a first packet */
    struct nr_tsa tsa[2];        /* tshark's analysis per direction */
    int64_t ta_syn_ns, ta_rtt_ns; /* tshark: last SYN time, initial RTT (0: none) */
    uint32_t ta[2][NR_TA_COUNT]; /* tshark's flags per direction */
    uint64_t ip_bytes[2];        /* IP bytes (zeek's orig_ip_bytes) */
    uint8_t fin_pending;         /* bit per direction: FIN chunk waits for its position */
    uint8_t fin_seen;            /* bit per direction: a FIN was seen (fin_seq is set) */
    uint32_t fin_seq[2];         /* sequence number of each direction's FIN */
    struct nr_tcpopt syn_opt[2]; /* options of each side's SYN */
    struct nr_reasm rs[2];
    char history[NR_HIST_MAX + 1];
    uint8_t hist_len;
    uint16_t hist_once;          /* a d i q already recorded, per direction */
    uint32_t hist_cnt[2][4];     /* t w g c counters (logarithmic letters) */
    uint32_t hist_next[2][4];    /* count at which the letter is written again */
    uint8_t hist_fseen[2];       /* s h f r seen, per direction */
    uint32_t hist_fseq[2][4];    /* sequence number of the last s h f r */
    /* kept data (keep_data) */
    struct nr_bytes stream[2];
    struct nr_chunk *chunks;
    size_t nchunks, chunk_cap;
    uint32_t hnext;              /* hash chain: index + 1, 0 = end */
};

/* An observer of the streams: called with each in-order run of reassembled
 * TCP bytes of connection c's direction dir (off: the run's offset in that
 * direction's sequence space, gaps counted; never called for a gap) and
 * with each UDP datagram (off: the bytes of that direction before it), with
 * or without keep_data.  data is valid only during the call.  It lets a
 * caller digest streams of any size in constant memory. */
typedef void (*nr_flow_data_fn)(void *ctx, const struct nr_conn *c, int dir, uint64_t off,
                                const uint8_t *data, size_t len);

struct nr_flow_opts {
    int keep_data;          /* keep stream bytes and UDP datagrams */
    nr_flow_data_fn on_data; /* optional */
    void *data_ctx;
};

struct nr_flowtab;

/* New empty table.  Returns NULL on allocation failure.  Free with
 * nr_flowtab_free. */
struct nr_flowtab *nr_flowtab_new(const struct nr_flow_opts *opts);

/* Account one decoded TCP or UDP packet (status NR_PKT_TCP/NR_PKT_UDP) with
 * its capture time and frame length.  Returns the connection index, or -1
 * on allocation failure. */
long nr_flowtab_add(struct nr_flowtab *t, const struct nr_pkt *p, int64_t ts_ns,
                    uint32_t frame_len);

/* End of input: flush reassembly (holes become gaps). */
void nr_flowtab_finish(struct nr_flowtab *t);

/* Number of connections/flows; nr_flowtab_conn(t, i) for i < count.  The
 * table owns them. */
size_t nr_flowtab_count(const struct nr_flowtab *t);
struct nr_conn *nr_flowtab_conn(const struct nr_flowtab *t, size_t i);

/* First connection of protocol proto (6/17) between ports a and b (either
 * direction), or NULL. */
struct nr_conn *nr_flowtab_find_ports(const struct nr_flowtab *t, int proto, uint16_t a,
                                      uint16_t b);

/* Free the table and every connection in it. */
void nr_flowtab_free(struct nr_flowtab *t);

/* zeek conn_state of a connection ("SF", "S0", ... "OTH"); static string. */
const char *nr_conn_state(const struct nr_conn *c);

/* zeek's size of endpoint dir (conn.log orig_bytes / resp_bytes): payload
 * bytes in sequence space, from the highest sequence number sent or
 * acknowledged, SYN and FIN excluded.  For UDP the payload bytes. */
uint64_t nr_conn_zeek_size(const struct nr_conn *c, int dir);

/* tshark's name of an analysis flag (tcp.analysis.NAME), static. */
const char *nr_ta_name(int flag);

/* 1 when zeek's likely_server_ports (its analyzers' registered ports)
 * holds port for protocol proto (6/17). */
int nr_flow_likely_server_port(int proto, uint16_t port);

/* Bytes of stream direction dir in sequence space (delivered + gaps). */
uint64_t nr_conn_stream_size(const struct nr_conn *c, int dir);

/* Format endpoint dir ("1.2.3.4:80" / "[::1]:80") into buf (>= 64 bytes).
 * Returns buf. */
char *nr_conn_endpoint(const struct nr_conn *c, int dir, char *buf, size_t buflen);

#endif
