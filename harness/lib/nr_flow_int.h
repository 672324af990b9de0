/* nr_flow_int.h - internals shared by nr_flow.c and nr_flow_tcp.c. */
#ifndef NR_FLOW_INT_H
#define NR_FLOW_INT_H

#include "nr_flow.h"

/* Update TCP state, history, counters and reassembly for a packet of
 * direction dir, keeping and observing stream bytes as o asks.  Returns 0
 * or -1 (no memory). */
int nr_flow_tcp_packet(struct nr_conn *c, int dir, const struct nr_pkt *p,
                       const struct nr_flow_opts *o);

/* 1 when a SYN on an existing connection starts a new one (reuse). */
int nr_flow_tcp_is_reuse(const struct nr_conn *c, const struct nr_pkt *p);

/* Start TCP state for a new connection. */
void nr_flow_tcp_init(struct nr_conn *c);

/* Flush reassembly of both directions (bytes kept and observed as o asks). */
void nr_flow_tcp_finish(struct nr_conn *c, const struct nr_flow_opts *o);

/* Append a kept chunk (merging with the last one when same dir and kind,
 * unless merge is 0) and its bytes.  Returns 0 or -1. */
int nr_flow_keep(struct nr_conn *c, int dir, int kind, const uint8_t *data, size_t len,
                 int merge);

#endif
