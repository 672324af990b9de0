/* nr_flow_int.h - internals shared by nr_flow.c and nr_flow_tcp.c. */
#ifndef NR_FLOW_INT_H
#define NR_FLOW_INT_H

#include "nr_flow.h"

/* Update TCP state, history, counters and reassembly for a packet of
 * direction dir, keeping and observing stream bytes as o asks.  Returns 0
 * or -1 (no memory). */
int nr_flow_tcp_packet(struct nr_conn *c, int dir, const struct nr_pkt *p,
                       const struct nr_flow_opts *o);

/* Append one history letter (uppercase for the originator); the history
 * stops at NR_HIST_MAX. */
void nr_flow_hist_put(struct nr_conn *c, int dir, char letter);

/* 1 when a packet on an existing connection starts a new one (zeek's
 * TCPSessionAdapter::IsReuse). */
int nr_flow_tcp_is_reuse(const struct nr_conn *c, const struct nr_pkt *p);

/* Start TCP state for a new connection. */
void nr_flow_tcp_init(struct nr_conn *c);

/* Swap the originator and responder of c (zeek's FlipRoles): every
 * per-direction field and kept chunk; appends '^' to the history. */
void nr_flow_flip(struct nr_conn *c);

/* tshark's analysis of one TCP packet of direction dir at time ts. */
void nr_flow_ana_packet(struct nr_conn *c, int dir, const struct nr_pkt *p, int64_t ts);

/* Reset tshark's analysis state of a new connection. */
void nr_flow_ana_init(struct nr_conn *c);

/* 1 when tshark starts a new stream at this packet of direction dir (a SYN
 * whose sequence number is not that direction's first). */
int nr_flow_ana_splits(const struct nr_conn *c, int dir, const struct nr_pkt *p);

/* Flush reassembly of both directions (bytes kept and observed as o asks). */
void nr_flow_tcp_finish(struct nr_conn *c, const struct nr_flow_opts *o);

/* Append a kept chunk (merging with the last one when same dir and kind,
 * unless merge is 0) and its bytes.  Returns 0 or -1. */
int nr_flow_keep(struct nr_conn *c, int dir, int kind, const uint8_t *data, size_t len,
                 int merge);

#endif
