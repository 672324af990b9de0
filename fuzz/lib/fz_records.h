/* fz_records.h - the stateful fuzz input format shared by every netrig
 * server harness, the LD_PRELOAD desocketing library and `netrig pcap seeds`.
 *
 * An input is a sequence of records
 *     [u8 conn_id][u8 action][u16 big-endian len][len bytes]
 * conn_id selects connection conn_id % FZ_MAX_CONNS; action is one of
 * enum fz_action.  fuzz/README.md is the reference. */
#ifndef FZ_RECORDS_H
#define FZ_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "nr_cursor.h"

#define FZ_MAX_CONNS 4   /* simultaneous connections an input can drive */
#define FZ_REC_HDR 4     /* bytes of a record header */

enum fz_action {
    FZ_SEND = 0,     /* client sends the payload */
    FZ_SHUT_WR = 1,  /* client half-closes (shutdown SHUT_WR); payload ignored */
    FZ_CLOSE = 2,    /* client closes the connection; payload ignored */
    FZ_DRAIN = 3,    /* client waits for and reads the reply; payload ignored */
};

/* One record: a view into the caller's input buffer (not owned). */
struct fz_rec {
    unsigned conn;        /* already reduced modulo FZ_MAX_CONNS */
    enum fz_action action;
    const uint8_t *data;  /* payload (len bytes) */
    size_t len;
};

/* Read the next valid record from c into *r.  Records with an unknown action
 * are skipped (payload included).  Returns 1 with *r filled, or 0 at the end
 * of the input: fewer than FZ_REC_HDR bytes left, or a len that runs past
 * the end (the rest of the input is then ignored). */
int fz_rec_next(struct nr_cursor *c, struct fz_rec *r);

/* Append one record to out[cap] at *used (for seed writers and tests).
 * Returns 0, or -1 when it does not fit or len > 65535. */
int fz_rec_put(uint8_t *out, size_t cap, size_t *used, unsigned conn,
               enum fz_action action, const void *data, size_t len);

#endif
