/* exec.h - the scenario executor's state, shared by exec_*.c, and the
 * functions of each of its modules, lowest layer first (a module calls only
 * those below it; ci/import-cycles.py fails make check on a circle):
 *   exec_hash.c, exec_ctx.c  services: hash; fail, log, variables, expand,
 *                            budgets and deadline, pacing, connection lookup
 *   exec_gen.c, exec_match.c payloads; the matchers of `expect` (exec_match.h)
 *   exec_conn*.c, exec_target.c, exec_wire.c, exec_proxy.c   the steps
 *                            (exec_conn.h: what the exec_conn*.c share)
 *   exec.c                   dispatch, blocks, run_scenario
 *
 * One struct exec_state per scenario run (targets, variables, the step log,
 * the deadline).  Steps run in a struct exec_ctx: the scenario's own, one
 * per `repeat` iteration (same thread, sees the outer connections), or one
 * per `parallel` instance (its own thread and its own connections). */
#ifndef EXEC_H
#define EXEC_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <xxhash.h>

#include "run.h"
#include "run_capture.h"

#define EXEC_MAX_TARGETS 32
#define EXEC_RELAY_SKIPS 16 /* swallowed ranges a relayed leg can name */

struct exec_var {
    char name[NR_SCN_NAME_MAX];
    uint8_t *val;             /* owned */
    size_t len;
};

struct exec_target {
    char name[NR_SCN_NAME_MAX];
    struct nr_proc proc;
    char out[512], err[512];  /* paths of its stdout/stderr files */
    int status_checked;       /* an exit/stop step judged its end (or its start failed) */
    unsigned line;            /* where it was started */
    const struct nr_step *step; /* its target step: stop signal, clean set */
    int alive_at_end;         /* it still ran when the steps ended */
};

/* What the runner itself saw on one of its sockets, kept after it closes so
 * the capture can be checked against it. */
struct exec_record {
    char name[NR_SCN_NAME_MAX];
    int proto;                      /* IPPROTO_TCP or IPPROTO_UDP */
    int listener;
    struct nr_addr local, peer;
    int have_peer;
    uint64_t sent, received;        /* payload bytes */
    uint64_t sent_hash, recv_hash;  /* exec_hash of each TCP byte stream so far */
    uint32_t *dg_sent, *dg_recv;    /* UDP datagram sizes, in order (owned) */
    size_t n_dg_sent, n_dg_recv;
    int cut;                        /* reset or aborted: unsent bytes may be lost */
    int is_unix;                    /* a unix-domain socket: not on the captured wire */
    /* A TCP leg of the fault proxy, which does not hash the bytes it
     * relays: its hashes are not kept.  The proxy's other leg of the same
     * connection has the same nonzero relay; the bytes this leg sent must
     * be, on the wire, the bytes the other leg received less the ranges in
     * relay_skip (offsets in that stream, in order: what a toxic swallowed);
     * what it received is checked by count (the other leg's check covers
     * its bytes). */
    uint64_t relay;
    struct exec_skip {
        uint64_t off, len;
    } relay_skip[EXEC_RELAY_SKIPS];
    size_t n_relay_skip;
};

struct exec_match;

/* An open connection of the scenario (exec_conn*.c). */
struct exec_conn {
    struct exec_record rec;   /* name, protocol, listener, addresses, counters */
    int fd;
    uint8_t *rx;              /* TCP bytes received, not yet consumed by expect;
                                 rx[rxlen] is a NUL (when rx is not NULL) */
    size_t rxoff, rxlen, rxcap;
    int eof, reset;           /* stream ended by FIN / by RST */
    int sock_err;             /* other receive error (errno) */
    int aborted;              /* closed with RST by the runner */
    XXH3_state_t *hs_sent, *hs_recv; /* the hashes of rec.sent_hash, rec.recv_hash */
    /* Lookahead (exec_conn_send.c): input that a send drains, already
     * matched against the `expect` step that will read it next, so it need
     * not be held until then. */
    const struct nr_step *ahead;  /* that step, or NULL */
    struct exec_match *ahead_m;   /* its match, begun (owned); ->done bytes matched */
    int ahead_stopped;            /* a byte differed: the step will say so */
};

/* One end of a flow as `to` / `from` name it: a port, or an address. */
struct exec_endpoint {
    int set;                  /* given; 0: any */
    int port;
    int any_host;             /* only the port was given */
    int family;               /* AF_INET / AF_INET6 (not any_host) */
    uint8_t host[16];         /* 4 or 16 bytes, network order (not any_host) */
};

/* The flows of the capture a `flow` or `flows` step selects, made
 * concrete (variables expanded) when the step runs. */
struct exec_flowsel {
    char name[NR_SCN_NAME_MAX]; /* the flow's name; "" for `flows` */
    int proto;                /* IPPROTO_TCP or IPPROTO_UDP */
    struct exec_endpoint to, from; /* responder (server), originator (client) */
    long index;               /* `index N`; -1: the one match */
    char text[200];           /* "tcp to 127.0.0.1:80 index 1", for messages */
};

/* A `wire` claim or `flows` count, noted when it runs and judged once the
 * capture is complete: a connection's addresses, or a flow selection,
 * identify what it is about on the wire. */
struct exec_wire {
    const struct nr_step *step;
    enum { EXEC_WIRE_CONN, EXEC_WIRE_FLOW, EXEC_WIRE_COUNT } what;
    struct exec_record rec;   /* CONN: copy of the connection's identity (no lists) */
    struct exec_flowsel sel;  /* FLOW, COUNT: the flows it is about */
    long index;               /* parallel/repeat instance, or -1 */
};

struct exec_state {
    const struct nr_scn *scn;
    const struct run_opts *o;
    const char *artdir;
    char tmpdir[4200];        /* ${tmp}: absolute */
    char scndir[4096];        /* ${dir}: the scenario file's directory, absolute */
    char *progdirs;           /* "scndir:bindir": where programs are looked up first */
    FILE *log;                /* step log (line buffered, guarded by lock) */
    pthread_mutex_t lock;     /* log, vars */
    int64_t t0, deadline;     /* monotonic ms */
    int step_timeout;         /* default per-step stall timeout, ms (scaled) */
    int isolated;             /* running in netrig's own namespace */
    struct exec_var *vars;
    size_t nvars;
    struct exec_target targets[EXEC_MAX_TARGETS];
    size_t ntargets;
    struct exec_wire *wires;  /* noted wire steps (guarded by lock) */
    size_t nwires;
    struct exec_record *records; /* closed connections (guarded by lock) */
    size_t nrecords;
    char deadline_text[32];   /* "60 s", for messages */
    const struct nr_step *_Atomic current; /* the step running (any thread) */
    int result_fd;            /* where the watchdog reports */
    struct run_capture *capture; /* the scenario's capture, or NULL */
    struct run_capture *_Atomic pace_cap; /* the capture senders wait for, or NULL */
    _Atomic uint64_t paced_ms;  /* how long senders waited for it */
    pthread_t watchdog;
    pthread_mutex_t wd_lock;  /* steps_done, and the watchdog's firing */
    pthread_cond_t wd_cond;
    int steps_done;           /* the steps have finished: teardown runs */
    struct exec_proxy *proxies; /* fault proxies started (exec_proxy.c), newest first */
    uint64_t seed;            /* the seed of every random choice of the proxies */
};

struct exec_ctx {
    struct exec_state *st;
    struct exec_ctx *outer;   /* enclosing context whose connections are visible */
    struct exec_conn *conns;  /* owned */
    size_t nconns;
    struct exec_flowsel *flows; /* `flow` steps run in this context (owned) */
    size_t nflows;
    long index;               /* ${i}, or -1 outside blocks */
    int in_parallel;          /* running on a parallel instance's thread */
    const struct nr_steps *seq; /* the step list running in this context, */
    size_t seq_at;            /* and the index of the step running in it */
    char scratch[24];         /* storage for ${i} */
    char *fail;               /* first failure message (owned) */
    FILE *fstream;            /* failure message being built */
    char *fbuf;
    size_t flen;
};

/* A payload made concrete: bytes repeated, a file, or the pattern. */
struct exec_gen {
    enum nr_payload_kind kind;
    uint8_t *data;            /* owned expansion of BYTES/FILE */
    size_t dlen;
    uint64_t total;           /* bytes in the whole payload */
};

/* --- exec_hash.c ----------------------------------------------------------- */

/* The hash the wire judge compares streams by: XXH3, 64 bit (libxxhash),
 * of a whole byte stream, continued over its pieces in a state that lives
 * on the heap (XXH3 wants it 64-byte aligned).  exec_hash_new returns a
 * fresh state or NULL (free it with XXH3_freeState); exec_hash_add adds n
 * bytes and returns the hash of every byte added so far; exec_hash is the
 * hash of p[0..n) at once, equal to adding it in any pieces. */
XXH3_state_t *exec_hash_new(void);
uint64_t exec_hash_add(XXH3_state_t *h, const void *p, size_t n);
uint64_t exec_hash(const void *p, size_t n);

/* --- exec_ctx.c: the services ----------------------------------------------- */

/* A step's text as written ("" when the parser kept none). */
const char *exec_step_text(const struct nr_step *s);
/* The file a step is written in (an included one, or the scenario). */
const char *exec_step_file(const struct exec_state *st, const struct nr_step *s);
/* Microseconds since the scenario's time 0 (st->t0), the step log's clock. */
int64_t exec_log_us(const struct exec_state *st);

/* Record a failure for the current step (first one wins), printf-style. */
void exec_fail(struct exec_ctx *c, const struct nr_step *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Start a longer failure message (e.g. with a hexdiff): returns a stream
 * that already holds the "file:line: step" header; finish with
 * exec_fail_end.  Returns NULL when a failure is already recorded. */
FILE *exec_fail_begin(struct exec_ctx *c, const struct nr_step *s);
void exec_fail_end(struct exec_ctx *c);

/* Expand a template in this context; returns malloc'd bytes (NUL-terminated
 * for convenience, length in *len) or NULL after exec_fail. */
char *exec_expand(struct exec_ctx *c, const struct nr_step *s, const struct nr_tmpl *t,
                  size_t *len);

/* Milliseconds the current wait may still take, counted from `started`:
 * the step's `within` (callers pass the step's start) or the default stall
 * timeout (callers pass the time of the last progress), clamped by the
 * scenario deadline. */
int exec_wait_budget(struct exec_ctx *c, const struct nr_step *s, int64_t started);

/* True once the scenario deadline has passed. */
int exec_deadline_passed(struct exec_ctx *c);

/* A sender that waits for the capture: the runner is the source of the
 * bulk traffic, and a capture thread starved of CPU would lose packets
 * (kernel drops fail the scenario).  io counts the payload bytes of one
 * connection, both ways, since exec_pace_init. */
struct exec_pacer {
    struct run_capture *cap;  /* NULL: no capture, no waiting */
    uint64_t base_cap, base_io, limit;
    int stalled_ms;           /* waited in a row without the capture taking a byte */
};

/* Start pacing a transfer on a connection that has moved io bytes so far. */
void exec_pace_init(struct exec_ctx *c, struct exec_pacer *p, uint64_t io);

/* Wait (a little at a time, never past the deadline) while the capture is
 * behind this transfer by more than a quarter of its ring.  Returns 1 when it
 * waited, 0 when not. */
int exec_pace(struct exec_ctx *c, struct exec_pacer *p, uint64_t io);

/* Set a scenario variable (copying val). Returns 0 / -1 on allocation failure. */
int exec_setvar(struct exec_state *st, const char *name, const void *val, size_t len);

/* Log a line to the step log. */
void exec_log(struct exec_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Find an open connection by name in c or its enclosing contexts. */
struct exec_conn *exec_find_conn(struct exec_ctx *c, const char *name);

/* --- exec_gen.c ------------------------------------------------------------ */

/* Build the concrete form of a payload (expanding templates, reading
 * files). Returns 0, or -1 after exec_fail; free with exec_gen_free. */
int exec_gen_init(struct exec_ctx *c, const struct nr_step *s, const struct nr_payload *p,
                  struct exec_gen *g);
/* Bytes pos..pos+n of the payload into buf. */
void exec_gen_fill(const struct exec_gen *g, uint64_t pos, uint8_t *buf, size_t n);
/* Release what exec_gen_init allocated. */
void exec_gen_free(struct exec_gen *g);

/* --- exec_conn*.c (exec_conn.h) ----------------------------------------- */
/* Every step function runs one step of its kind in context c and returns 0,
 * or -1 after recording why with exec_fail. */

/* connect NAME = tcp|udp ADDR [refused]: open (or expect refusal of) a connection. */
int exec_connect(struct exec_ctx *c, const struct nr_step *s);
/* listen NAME = tcp|udp ADDR: bind a listening TCP or a bound UDP socket. */
int exec_listen(struct exec_ctx *c, const struct nr_step *s);
/* accept NAME = LISTENER: take the next connection of a TCP listener. */
int exec_accept(struct exec_ctx *c, const struct nr_step *s);
/* send CONN PAYLOAD: write it (datagrams on UDP), reading replies meanwhile. */
int exec_send(struct exec_ctx *c, const struct nr_step *s);
/* expect CONN MATCH: wait for and consume what the match describes. */
int exec_expect(struct exec_ctx *c, const struct nr_step *s);
/* shutdown CONN write: half-close. */
int exec_shutdown(struct exec_ctx *c, const struct nr_step *s);
/* close / abort CONN (abortive: RST via SO_LINGER 0); keeps its record. */
int exec_close(struct exec_ctx *c, const struct nr_step *s, int abortive);
/* Close every connection of c, keeping their records for the wire check;
 * forget its flows. */
void exec_conns_free(struct exec_ctx *c);

/* --- exec_wire.c ---------------------------------------------------------- */

/* Run a step of kind NR_S_WIRE: note a `wire` claim or a `flows` count
 * for judgement after the capture, or define the flow of a `flow` step in
 * c (its variables expanded now).  Returns 0 / -1 after exec_fail. */
int exec_wire_note(struct exec_ctx *c, const struct nr_step *s);

/* Read the finished capture and judge it: every connection the runner used
 * carried on the wire exactly the bytes its socket sent and received (and
 * every UDP datagram appears once with its size), then every noted `wire`
 * step.  Failures go to c. */
void exec_wire_judge(struct exec_ctx *c, const char *pcap_path);

/* --- exec_proxy.c ---------------------------------------------------------- */

/* proxy NAME = tcp|udp UPSTREAM: start a fault proxy on a loopback port of
 * its own (${NAME}), relaying to UPSTREAM on a thread of its own. */
int exec_proxy_start(struct exec_ctx *c, const struct nr_step *s);
/* fault / heal PROXY ...: add or remove toxics, effective at once. */
int exec_proxy_fault(struct exec_ctx *c, const struct nr_step *s);
/* ledger PROXY ...: wait (step timeout or within) until a ledger item holds. */
int exec_proxy_ledger(struct exec_ctx *c, const struct nr_step *s);
/* After a successful `connect` step: when it went to a proxy, wait until
 * the proxy reached its upstream for it, and fail the step when the
 * upstream refused.  Returns 0 / -1 after exec_fail. */
int exec_proxy_connected(struct exec_ctx *c, const struct nr_step *s);
/* The seed of a scenario run without --seed: a hash of the last two
 * components of its path ("faults/udp-drop.scn"), so it does not change
 * with the directory netrig runs from. */
uint64_t exec_proxy_default_seed(const char *path);
/* Stop every proxy (end of the scenario), keep its sockets' records for the
 * wire check, log its ledger; a failure of a proxy and the seed are added to
 * c's failure. */
void exec_proxies_stop(struct exec_ctx *c);

/* --- exec_target.c ------------------------------------------------------ */

/* target NAME ... = PROG ARGS: start it, wait for readiness unless nowait. */
int exec_target_start(struct exec_ctx *c, const struct nr_step *s);
/* exit TARGET OUTCOME / stop TARGET [signal SIG] [expect OUTCOME]: (for
 * stop, send SIG, default the target's stop signal, then) wait and judge the
 * end against the outcome (an exit code, a signal, or the clean set). */
int exec_target_exit(struct exec_ctx *c, const struct nr_step *s);
/* stdout / stderr TARGET MATCH: poll its output until it matches. */
int exec_target_output(struct exec_ctx *c, const struct nr_step *s);
/* file PATH MATCH | absent: judge a file's content or absence. */
int exec_file(struct exec_ctx *c, const struct nr_step *s);

/* Note which targets still run when the steps have ended: one that ends
 * after this (when the scenario's connections close) ended at the end of
 * the scenario, not before it.  Call before closing the connections. */
void exec_targets_note_end(struct exec_state *st);

/* Signal every target still running (its stop signal), wait one shared
 * grace period, kill those whose own process did not exit, and judge how
 * all of them ended: an end no exit/stop step expected, an unclean stop, a
 * crash or a sanitizer report fails the scenario.  Other processes of the
 * scenario are left to run_scenario's reaper.  Returns 0 / -1. */
int exec_targets_finish(struct exec_ctx *c);

#endif
