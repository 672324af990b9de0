/* nr_fault.h - network faults ("toxics") as pure functions over byte runs
 * and datagrams, driven by a seeded PRNG.
 *
 * The fault proxy of `netrig run` (harness/src/exec_proxy.c) reads bytes or
 * datagrams, asks this module what to do with them (when to deliver which
 * slice, what to cut, whether to drop, duplicate, hold back, corrupt or
 * truncate a datagram) and does it.  Nothing here touches a socket or a
 * clock: the caller passes the time, so unit tests check each toxic's effect
 * exactly, and a seed replays every random choice. */
#ifndef NR_FAULT_H
#define NR_FAULT_H

#include <stddef.h>
#include <stdint.h>

/* --- PRNG ---------------------------------------------------------------- */

/* splitmix64: small, fast, every seed (0 too) gives a full-period stream. */
struct nr_rng {
    uint64_t s;
};

/* Seed r from a run seed and a salt (proxy name hash, connection number,
 * direction), so that independent streams do not share draws. */
void nr_rng_init(struct nr_rng *r, uint64_t seed, uint64_t salt);

/* The next 64 random bits. */
uint64_t nr_rng_next(struct nr_rng *r);

/* A uniform number in [0, n) (0 when n is 0). */
uint64_t nr_rng_below(struct nr_rng *r, uint64_t n);

/* 1 with probability bp/10000 (basis points), else 0; always draws once. */
int nr_rng_chance(struct nr_rng *r, unsigned bp);

/* FNV-1a of a string: a stable salt for names. */
uint64_t nr_fault_hash(const char *s);

/* --- toxics -------------------------------------------------------------- */

enum nr_tox_kind {
    /* TCP: a byte stream, per direction */
    NR_TOX_LATENCY,    /* ms [jitter_ms]: each read is delivered ms +- jitter later */
    NR_TOX_BANDWIDTH,  /* rate bytes/s */
    NR_TOX_SLICER,     /* size avg [var] [delay_ms]: small writes, pause between */
    NR_TOX_LIMIT_DATA, /* bytes: deliver that many, then close the connection */
    NR_TOX_RESET_PEER, /* reset both ends: after bytes (the planner), or after ms (the
                          caller's timer; without `after`, ms 0: at once) */
    NR_TOX_TIMEOUT,    /* ms: deliver nothing more, close after ms (0: never) */
    NR_TOX_SLOW_CLOSE, /* ms: delay the FIN by ms */
    NR_TOX_HALF_CLOSE, /* the FIN of this direction closes the other direction too */
    NR_TOX_STALL,      /* stop reading from the sender: it meets backpressure */
    /* UDP: datagrams, per direction */
    NR_TOX_DROP,       /* bp: lose a datagram */
    NR_TOX_DUPLICATE,  /* bp: deliver it twice */
    NR_TOX_REORDER,    /* bp [gap]: hold it back until gap later datagrams passed */
    NR_TOX_CORRUPT,    /* bp: flip one bit of one byte */
    NR_TOX_DELAY,      /* ms [jitter_ms] */
    NR_TOX_TRUNCATE,   /* bytes: cut longer datagrams to that size */
    NR_TOX_COUNT
};

/* The toxic's name in the scenario language ("latency", "drop", ...). */
const char *nr_tox_name(enum nr_tox_kind k);

/* The kind called name[0..len), or -1. */
int nr_tox_lookup(const char *name, size_t len);

/* Whether the kind applies to datagrams (UDP) rather than streams. */
int nr_tox_is_udp(enum nr_tox_kind k);

/* One toxic with its parameters; which fields count depends on kind. */
struct nr_toxic {
    enum nr_tox_kind kind;
    uint64_t ms;        /* LATENCY, DELAY, TIMEOUT, SLOW_CLOSE, SLICER (delay), RESET_PEER
                           (after ms, when by_time) */
    uint64_t jitter_ms; /* LATENCY, DELAY */
    uint64_t bytes;     /* BANDWIDTH (per s), SLICER (avg), LIMIT_DATA, RESET_PEER (after),
                           TRUNCATE */
    uint64_t var;       /* SLICER: sizes avg-var .. avg+var */
    uint64_t gap;       /* REORDER: datagrams that overtake the held one (>= 1) */
    unsigned bp;        /* DROP, DUPLICATE, REORDER, CORRUPT: probability, basis points */
    int by_time;        /* RESET_PEER: `after DUR` */
    int by_bytes;       /* RESET_PEER: `after N` */
};

/* The toxics active on one direction: at most one of each kind. */
struct nr_faults {
    unsigned on;                       /* bit k: t[k] is active */
    struct nr_toxic t[NR_TOX_COUNT];
};

/* Add (or replace) a toxic. */
void nr_faults_add(struct nr_faults *f, const struct nr_toxic *t);

/* Remove the toxic of kind k; k < 0 removes all. */
void nr_faults_remove(struct nr_faults *f, int k);

/* Whether kind k is active. */
static inline int nr_faults_has(const struct nr_faults *f, enum nr_tox_kind k)
{
    return (f->on >> k) & 1u;
}

/* --- TCP: planning a byte run -------------------------------------------- */

/* One slice of a planned run: bytes [off, off+len) of the run, to be written
 * no earlier than at_us (microseconds, the caller's clock). */
struct nr_piece {
    size_t off, len;
    int64_t at_us;
};

/* What happens after the planned slices are written. */
enum nr_tcp_action {
    NR_TCP_GO,    /* nothing: keep relaying */
    NR_TCP_CLOSE, /* limit_data reached: close both ends (FIN) */
    NR_TCP_RESET, /* reset_peer after bytes reached: reset both ends */
};

/* A direction's running state across runs. */
struct nr_tcp_state {
    uint64_t planned;   /* bytes planned for delivery so far */
    int64_t free_us;    /* bandwidth: when the pipe is free again */
    int64_t last_us;    /* release time of the last slice: the stream stays in order */
};

/* The plan for one run of len bytes read at now_us. */
struct nr_tcp_plan {
    size_t npieces;     /* slices written to the caller's array */
    size_t kept;        /* bytes the slices cover (a prefix of the run) */
    size_t cut;         /* bytes discarded (limit, reset, timeout) */
    size_t delayed;     /* bytes released later than now_us */
    enum nr_tcp_action action;
};

/* The most slices nr_tcp_plan can make of len bytes under f (at least 1):
 * one without slicer or bandwidth, up to len under `slicer 1`. */
size_t nr_tcp_max_pieces(const struct nr_faults *f, size_t len);

/* Plan the delivery of a run of len bytes, read at now_us, under the toxics
 * f, drawing from r and advancing st.  Writes at most max slices into out;
 * max must be at least nr_tcp_max_pieces(f, len).  Returns 0, or -1 when
 * max is too small (nothing is planned).  The slices
 * are in stream order with nondecreasing times; their union is the first
 * plan->kept bytes.  Timeout and stall are the caller's business: a timed-out
 * direction never reaches the planner, a stalled one is not read. */
int nr_tcp_plan(const struct nr_faults *f, struct nr_rng *r, struct nr_tcp_state *st,
                size_t len, int64_t now_us, struct nr_piece *out, size_t max,
                struct nr_tcp_plan *plan);

/* Note len bytes relayed at now_us without a plan (no toxic was active on
 * the direction: the proxy relayed them as read): they count as planned,
 * so a limit_data or reset_peer after bytes added later counts them, and a
 * later slice is not released before now_us. */
void nr_tcp_relayed(struct nr_tcp_state *st, size_t len, int64_t now_us);

/* When the FIN that arrived at eof_us may be delivered (slow_close delays
 * it), and whether it ends the whole connection instead (half_close: *both
 * set).  Returns that time, in the caller's clock. */
int64_t nr_tcp_fin(const struct nr_faults *f, int64_t eof_us, int *both);

/* The timers of a direction whose toxics began at since_us: reset_peer
 * after a time (NR_TCP_RESET) or timeout with a time (NR_TCP_CLOSE).  Sets
 * *at to the earliest such time and returns its action; NR_TCP_GO and *at
 * 0 when there is none.  The caller acts once now >= *at. */
enum nr_tcp_action nr_tcp_timer(const struct nr_faults *f, int64_t reset_since_us,
                                int64_t timeout_since_us, int64_t *at);

/* Whether the proxy reads from the sender of this direction (not under
 * stall) and delivers what it reads (not under timeout: a blackhole). */
int nr_tcp_reads(const struct nr_faults *f);
int nr_tcp_delivers(const struct nr_faults *f);

/* --- UDP: one datagram --------------------------------------------------- */

/* What to do with one datagram. */
struct nr_udp_verdict {
    int drop;           /* lose it (nothing else applies) */
    int copies;         /* 1, or 2 when duplicated */
    size_t len;         /* its length after truncation */
    long corrupt_at;    /* byte whose bit corrupt_mask flips; -1: none */
    uint8_t corrupt_mask;
    int64_t delay_us;   /* deliver this much later */
    uint64_t hold;      /* reorder: release after this many later datagrams; 0: none */
};

/* Decide the fate of a datagram of len bytes under f.  The draws per
 * datagram are the same in number and order whatever the outcome, so the
 * n-th datagram's fate depends only on the seed and n. */
void nr_udp_decide(const struct nr_faults *f, struct nr_rng *r, size_t len,
                   struct nr_udp_verdict *v);

/* Apply a verdict's corruption to buf[0..len) (a no-op without one). */
void nr_udp_corrupt(const struct nr_udp_verdict *v, uint8_t *buf, size_t len);

/* --- the ledger ---------------------------------------------------------- */

/* What the toxics did on one direction of a proxy, over all its
 * connections or datagrams. */
enum nr_ledger_item {
    NR_L_BYTES_IN,    /* bytes read from the sender */
    NR_L_BYTES_OUT,   /* bytes written to the receiver */
    NR_L_PLAIN,       /* of those, bytes relayed as read (no toxic was active) */
    NR_L_DELAYED,     /* bytes delivered later than read (latency, bandwidth, slicer) */
    NR_L_SLICES,      /* writes the slicer made */
    NR_L_CUT,         /* bytes read and never delivered (limit, reset, timeout, teardown) */
    NR_L_RESETS,      /* connections reset by reset_peer */
    NR_L_CLOSES,      /* connections closed by limit_data, timeout or half_close */
    NR_L_STALLS,      /* times the direction stopped reading (stall) */
    NR_L_CONNS,       /* connections (counted on up) */
    NR_L_REFUSED,     /* connections whose upstream refused (counted on up) */
    NR_L_DG_IN,       /* datagrams read */
    NR_L_DG_OUT,      /* datagrams sent */
    NR_L_DROPPED,
    NR_L_DUPLICATED,
    NR_L_REORDERED,
    NR_L_CORRUPTED,
    NR_L_TRUNCATED,
    NR_L_DG_DELAYED,
    NR_L_COUNT
};

struct nr_ledger {
    uint64_t v[NR_L_COUNT];
};

/* The item's name in the scenario language ("bytes_in", "dropped", ...). */
const char *nr_ledger_name(enum nr_ledger_item i);

/* The item called name[0..len), or -1. */
int nr_ledger_lookup(const char *name, size_t len);

#endif
