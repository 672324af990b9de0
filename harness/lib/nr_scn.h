/* nr_scn.h - the scenario language: parsed form shared by the parser
 * (nr_scn_parse.c), the runner and the fuzz harness of the parser.
 *
 * A scenario is a flat list of steps; `parallel N ... end` and
 * `repeat N ... end` blocks nest a step list.  Strings may contain ${var}
 * references, resolved by the runner when the step executes, so each string
 * is kept as a template of literal and variable segments.  All memory of a
 * parsed scenario is owned by the struct nr_scn and freed by nr_scn_free. */
#ifndef NR_SCN_H
#define NR_SCN_H

#include <netinet/in.h> /* IPPROTO_TCP, IPPROTO_UDP: every proto field below */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nr_fault.h"

#define NR_SCN_NAME_MAX 32     /* connection/target/variable names, incl. NUL */
#define NR_SCN_DEPTH_MAX 16    /* nesting of parallel/repeat blocks */
#define NR_SCN_LINE_MAX 65536  /* bytes in one line, without the newline */
#define NR_SCN_STEPS_MAX 100000 /* steps in a scenario, nested ones included */
#define NR_SCN_FILE_MAX (16u << 20) /* bytes nr_scn_load reads at most */
#define NR_SCN_INCLUDE_MAX 8   /* nesting of `include` */
#define NR_SCN_UNIX_PATH_MAX 108 /* sun_path, with its NUL */

/* One piece of a template: literal bytes, or the name of a variable.
 * The parser NUL-terminates data of both kinds (the NUL is not in len).
 * A variable name is "name" or "name.host" / "name.port". */
struct nr_seg {
    int is_var;        /* 1: data holds a variable name (NUL-terminated) */
    uint8_t *data;     /* owned; literal bytes or variable name */
    size_t len;        /* bytes in data (without the NUL of a name) */
};

/* Bytes with ${var} references, e.g. "GET /${path} HTTP/1.1\r\n".
 * Every template the parser fills has nsegs >= 1 (an empty string is one
 * empty literal segment), so nsegs == 0 always means "not given". */
struct nr_tmpl {
    struct nr_seg *segs; /* owned array */
    size_t nsegs;
};

/* What `send` sends or what a byte `expect` compares with. */
enum nr_payload_kind {
    NR_PL_BYTES,   /* tmpl: quoted string or x"hex" (hex has no variables) */
    NR_PL_FILE,    /* tmpl: path of a file whose content is the payload */
    NR_PL_PATTERN, /* count bytes of the deterministic pattern, see nr_pattern_byte */
};

struct nr_payload {
    enum nr_payload_kind kind;
    struct nr_tmpl tmpl;   /* for BYTES and FILE */
    uint64_t count;        /* for PATTERN: length in bytes */
    uint64_t repeat;       /* `* N`: the payload repeated N times (default 1) */
};

/* How an expect matches the bytes a connection receives. */
enum nr_match_kind {
    NR_M_BYTES,    /* exactly the payload bytes, next in the stream */
    NR_M_REGEX,    /* /re/: POSIX ERE (REG_EXTENDED, '.' matches \n too is not
                      guaranteed: use [^] classes); consumes through the match end */
    NR_M_LENGTH,   /* `length N`: any N bytes */
    NR_M_UNTIL,    /* `until "delim"`: everything up to and including delim */
    NR_M_EOF,      /* `eof`: orderly end of stream */
    NR_M_RESET,    /* `reset`: the peer reset the connection (ECONNRESET) */
    NR_M_NOTHING,  /* `nothing`: no byte arrives during the whole timeout */
};

struct nr_match {
    enum nr_match_kind kind;
    struct nr_payload payload; /* BYTES */
    struct nr_tmpl text;       /* REGEX: the pattern; UNTIL: the delimiter */
    uint64_t length;           /* LENGTH */
    struct nr_tmpl from;       /* expect on UDP, `from ADDR`: the sender the datagram must
                                  come from; nsegs 0: anyone */
};

/* How the runner knows a target is ready (`ready ...` option). */
enum nr_ready_kind {
    NR_READY_LINE,   /* a line starting with `ready` on stdout/stderr (default "listening
                        on "); the rest of the line is ${NAME} */
    NR_READY_REGEX,  /* the regex `ready` matches in stdout/stderr; its first group (or
                        the whole match) is ${NAME} */
    NR_READY_PORT,   /* a listening TCP (or bound UDP) socket in the namespace: on port
                        `ready` (nsegs 0: any the target's processes hold); ${NAME} is
                        its address */
    NR_READY_FILE,   /* the file `ready` exists; ${NAME} is empty */
};

/* How a target ends, as an `exit`/`stop` step expects it or a `clean`
 * option of `target` lists it. */
enum nr_end_kind {
    NR_END_CLEAN,  /* `clean`: any outcome of the target's clean set */
    NR_END_EXIT,   /* exit code `code` (0-255) */
    NR_END_SIGNAL, /* death by signal number `code` */
};

struct nr_end {
    enum nr_end_kind kind;
    int code;      /* EXIT: the exit code; SIGNAL: the signal number */
};

enum nr_step_kind {
    NR_S_TARGET,    /* target NAME [opts] = PROG ARGS... */
    NR_S_CONNECT,   /* connect NAME = tcp|udp ADDR [refused | retry] */
    NR_S_LISTEN,    /* listen NAME = tcp|udp ADDR */
    NR_S_ACCEPT,    /* accept NAME = LISTENER */
    NR_S_SEND,      /* send CONN PAYLOAD [chunk N] [delay DUR] */
    NR_S_EXPECT,    /* expect CONN MATCH */
    NR_S_SHUTDOWN,  /* shutdown CONN write */
    NR_S_CLOSE,     /* close CONN */
    NR_S_ABORT,     /* abort CONN  (RST: SO_LINGER 0, close) */
    NR_S_SLEEP,     /* sleep DUR */
    NR_S_EXIT,      /* exit TARGET CODE | signal SIG | clean */
    NR_S_STOP,      /* stop TARGET [signal SIG] [expect OUTCOME]: signal, then like exit */
    NR_S_OUTPUT,    /* stdout|stderr TARGET MATCH (BYTES: contains; REGEX: search) */
    NR_S_FILE,      /* file PATH MATCH | file PATH absent */
    NR_S_SET,       /* set NAME = STRING */
    NR_S_PARALLEL,  /* parallel N ... end: N instances at once, ${i} = 0..N-1 */
    NR_S_REPEAT,    /* repeat N ... end: N times in sequence, ${i} = 0..N-1 */
    NR_S_WIRE,      /* wire CONN|FLOW PROPERTY..., flow NAME = ..., flows ... count N:
                       packet-level, judged on the capture (see enum nr_wire_kind) */
    NR_S_PROXY,     /* proxy NAME = tcp|udp UPSTREAM: a fault proxy, ${NAME} its address */
    NR_S_FAULT,     /* fault PROXY [up|down|both] TOXIC ARGS / heal PROXY [DIR] [TOXIC] */
    NR_S_LEDGER,    /* ledger PROXY [DIR] ITEM (N[..M] | = [DIR] ITEM): what the toxics did */
};

/* Directions of a proxy a fault step or a ledger claim is about. */
#define NR_DIR_UP 1u   /* client -> upstream */
#define NR_DIR_DOWN 2u /* upstream -> client */

/* What a `wire NAME PROPERTY` claim is about. */
enum nr_wire_prop {
    NR_WP_STATE,      /* state S: zeek's conn_state (value: S) */
    NR_WP_HANDSHAKE,  /* handshake: SYN, SYN-ACK and the final ACK seen */
    NR_WP_FIRST_FIN,  /* first-fin SIDE */
    NR_WP_NO_RST,     /* no-rst */
    NR_WP_RST,        /* rst SIDE */
    NR_WP_NO_RETRANS, /* no-retransmissions */
    NR_WP_DATAGRAMS,  /* datagrams N (value: N) */
    NR_WP_BYTES,      /* bytes SIDE N (value: N) */
};

/* The three steps of kind NR_S_WIRE.  They share a kind so that everything
 * that asks "does this scenario need the capture?" sees all of them. */
enum nr_wire_kind {
    NR_WIRE_CLAIM, /* wire NAME PROPERTY...: a claim about a connection or flow */
    NR_WIRE_FLOW,  /* flow NAME = PROTO [to EP] [from EP] [index N]: names a flow of the
                      capture (defines NAME) */
    NR_WIRE_COUNT, /* flows PROTO [to EP] [from EP] count N: how many flows match */
};

struct nr_step;

struct nr_steps {
    struct nr_step *v; /* owned array */
    size_t n;
};

struct nr_step {
    enum nr_step_kind kind;
    unsigned file;                  /* index in nr_scn.files of the file it is written in */
    unsigned line, col;             /* 1-based position of the step keyword */
    char *text;                     /* its source line without leading blanks (owned) */
    char name[NR_SCN_NAME_MAX];     /* the NAME / CONN / TARGET the step is about */
    int timeout_ms;                 /* `within DUR`; -1: the scenario default */

    union {
        struct {                    /* NR_S_TARGET */
            struct nr_tmpl *argv;   /* owned array of nargv templates */
            size_t nargv;
            enum nr_ready_kind ready_kind;
            struct nr_tmpl ready;   /* line prefix, regex, port or path (see ready_kind);
                                       LINE with nsegs 0: the default "listening on " */
            int ready_stderr;       /* LINE/REGEX: look for it on stderr, not stdout */
            struct nr_tmpl cwd;     /* `cwd DIR`: working directory; nsegs 0: netrig's */
            int nowait;             /* `nowait`: do not wait for readiness */
            int activate;           /* `activate tcp|udp ADDR`: hand over a socket */
            int act_proto;          /* IPPROTO_TCP or IPPROTO_UDP */
            struct nr_tmpl act_addr;
            struct nr_tmpl *env;    /* owned array of "K=V" templates */
            size_t nenv;
            int stop_sig;           /* `stop-signal SIG`; 0: SIGTERM */
            struct nr_end *clean;   /* owned array of `clean` outcomes (EXIT or SIGNAL); */
            size_t nclean;          /* nclean 0: the default clean set */
        } target;
        struct {                    /* NR_S_CONNECT, NR_S_LISTEN */
            int proto;              /* IPPROTO_TCP or IPPROTO_UDP */
            struct nr_tmpl addr;    /* "HOST:PORT", "[V6]:PORT" */
            int refused;            /* connect ... refused: the connect must fail */
            int is_unix;            /* unix (stream, proto TCP) / unixgram (proto UDP):
                                       addr is a path or @name (abstract namespace) */
            int retry;              /* connect ... retry: retry while refused (TCP) */
        } sock;
        struct {                    /* NR_S_ACCEPT */
            char listener[NR_SCN_NAME_MAX];
        } accept;
        struct {                    /* NR_S_SEND */
            struct nr_payload payload;
            uint64_t chunk;         /* 0: all at once; N: writes of N bytes */
            int delay_ms;           /* pause between chunks */
            struct nr_tmpl to;      /* UDP listener, `to ADDR`: the destination; nsegs 0:
                                       the last sender */
        } send;
        struct nr_match expect;     /* NR_S_EXPECT */
        struct {                    /* NR_S_EXIT, NR_S_STOP */
            struct nr_end expect;   /* the outcome to judge (stop: default CLEAN) */
            int sig;                /* stop: the signal to send; 0: the target's stop signal */
        } exit;
        struct {                    /* NR_S_OUTPUT */
            int is_stderr;
            struct nr_match match;
        } output;
        struct {                    /* NR_S_FILE */
            struct nr_tmpl path;
            int absent;             /* `absent`: the file must not exist */
            struct nr_match match;  /* BYTES: whole content equal; REGEX: search */
        } file;
        struct {                    /* NR_S_SLEEP */
            int ms;
        } sleep;
        struct {                    /* NR_S_SET */
            struct nr_tmpl value;
            int is_param;           /* `param`: netrig run -D NAME=VALUE replaces value */
        } set;
        struct {                    /* NR_S_PARALLEL, NR_S_REPEAT */
            unsigned count;
            struct nr_steps body;
        } block;
        struct {                    /* NR_S_WIRE */
            enum nr_wire_kind kind;
            enum nr_wire_prop prop; /* CLAIM: the property */
            int on_flow;            /* CLAIM: NAME is a flow (sides client|server), not a
                                       connection (us|peer) */
            int theirs;             /* CLAIM with a SIDE: 0 the name's own end (`us` of a
                                       connection, `client` of a flow), 1 the other
                                       (`peer`, `server`) */
            struct nr_tmpl value;   /* CLAIM state/datagrams/bytes: S or N, checked here
                                       when it has no variables (else when judged) */
            int proto;    /* FLOW, COUNT: the flows' protocol */
            struct nr_tmpl to;      /* FLOW, COUNT: the server (responder) end, "PORT" or
                                       "HOST:PORT"; nsegs 0: any */
            struct nr_tmpl from;    /* FLOW, COUNT: the client (originator) end, likewise */
            struct nr_tmpl index;   /* FLOW: `index N`, 0-based among the matching flows in
                                       capture order; nsegs 0: the only match */
            uint64_t count;         /* COUNT: the number of matching flows */
        } wire;
        struct {                    /* NR_S_PROXY */
            int proto;              /* IPPROTO_TCP or IPPROTO_UDP */
            struct nr_tmpl upstream; /* where it relays to: "HOST:PORT" or ${target} */
        } proxy;
        struct {                    /* NR_S_FAULT (name: the proxy) */
            unsigned dirs;          /* NR_DIR_UP | NR_DIR_DOWN */
            int heal;               /* `heal`: remove tox.kind, or every toxic when all */
            int all;                /* heal without a toxic name */
            struct nr_toxic tox;    /* the toxic and its parameters */
        } fault;
        struct {                    /* NR_S_LEDGER (name: the proxy) */
            unsigned dirs;          /* both: the sum of up and down */
            enum nr_ledger_item item;
            uint64_t lo, hi;        /* the value must be in [lo, hi] */
            int rel;                /* `= [DIR] ITEM2`: equal to another item instead */
            unsigned rel_dirs;
            enum nr_ledger_item rel_item;
        } ledger;
    } u;
};

struct nr_scn {
    char *path;             /* owned copy of the file name given to the parser */
    char **files;           /* path and every included file, as the steps' `file`
                               indexes them (owned; files[0] is path) */
    size_t nfiles;
    int step_timeout_ms;    /* `timeout DUR` directive; default 2000 */
    int deadline_ms;        /* `deadline DUR` directive; default 60000 */
    int needs_ipv6;         /* set when any address literal is IPv6 */
    struct nr_steps steps;
};

/* Walking the step tree (nr_scn_walk.c): visit is called for every step in
 * order, with NR_WALK_BEFORE before a block's body and NR_WALK_AFTER after
 * it (for every step, block or not, as `when` asks), depth 0 for the top
 * level.  A nonzero return stops the walk, which returns it; else 0. */
#define NR_WALK_BEFORE 1u
#define NR_WALK_AFTER 2u
typedef int (*nr_step_visit)(const struct nr_step *s, unsigned depth, unsigned when, void *arg);
int nr_steps_walk(const struct nr_steps *steps, unsigned when, nr_step_visit visit, void *arg);
/* The same over one step and (a block's) its body. */
int nr_step_walk(const struct nr_step *s, unsigned when, nr_step_visit visit, void *arg);

/* Multiply every duration the steps give (`within`, sleep, send delays,
 * the toxics' times; a bandwidth is divided) by x, once, after parsing
 * (nr_scn_scale.c).  The scenario's timeout and deadline are left as
 * written. */
void nr_scn_scale(struct nr_scn *s, double x);

/* Parse a scenario from buf[0..len) (not NUL-terminated); path names it in
 * messages.  On success returns 0 and fills *out (free with nr_scn_free).
 * On error returns -1, leaves *out empty, and writes
 * "path:line:col: expected ..." into errbuf (NR_ERRBUF_SIZE bytes). */
int nr_scn_parse(const uint8_t *buf, size_t len, const char *path, struct nr_scn *out,
                 char *errbuf);

/* Reads the file an `include` names: returns 0 with *buf (malloc'd) and
 * *len, or -1 with errbuf set ("path: cannot open: ..."). */
typedef int (*nr_scn_reader)(const char *path, uint8_t **buf, size_t *len, char *errbuf);

/* nr_scn_parse, with `include FILE` served by read (FILE relative to the
 * including file's directory; NULL: include is an error). */
int nr_scn_parse_with(const uint8_t *buf, size_t len, const char *path, nr_scn_reader read,
                      struct nr_scn *out, char *errbuf);

/* Read and parse a file, includes too.  Same contract as nr_scn_parse. */
int nr_scn_load(const char *path, struct nr_scn *out, char *errbuf);

/* Read a whole file (at most NR_SCN_FILE_MAX bytes) as nr_scn_reader does. */
int nr_scn_read_file(const char *path, uint8_t **buf, size_t *len, char *errbuf);

/* A duration as the scenario language and netrig's options write it: `0`,
 * or digits with an optional fraction and a unit ms, s or m (200ms, 1.5s,
 * 2m), at most 86400s.  Returns 0 with *ms (rounded down), -1 when r[0..n)
 * is not a duration, -2 when it is longer than 86400s. */
int nr_scn_dur(const uint8_t *r, size_t n, int *ms);

/* Write s as scenario text in one canonical form (nr_scn_print.c): every
 * step on a line, templates as strings, durations in ms, signals as
 * numbers, includes already inlined.  Parsing the text gives the same
 * steps, and printing those gives the same text.  Returns 0, or -1 when
 * writing to f failed. */
int nr_scn_print(FILE *f, const struct nr_scn *s);

/* Free everything a parsed scenario owns; safe on a zeroed struct. */
void nr_scn_free(struct nr_scn *s);

/* Free the segments of a template and zero it; safe on a zeroed one. */
void nr_tmpl_free(struct nr_tmpl *t);

/* Expand a template: literal segments are copied, each variable segment is
 * replaced by the value lookup(ctx, name, &val, &len) gives (lookup returns
 * 0 when it knows the name, -1 when not; the value stays owned by the
 * caller).  For "name.host" / "name.port" expand looks up "name" and splits
 * its "HOST:PORT" / "[V6]:PORT" value at the last ':' (host without the
 * brackets).  On success returns 0, *out is malloc'd (caller frees; one NUL
 * byte follows the *outlen bytes); on error returns -1 with a message in
 * errbuf and *out NULL. */
int nr_tmpl_expand(const struct nr_tmpl *t,
                   int (*lookup)(void *ctx, const char *name, const uint8_t **val, size_t *len),
                   void *ctx, uint8_t **out, size_t *outlen, char *errbuf);

#define NR_PATTERN_MUL 0x9e3779b97f4a7c15ull

/* Byte `i` of the deterministic payload pattern used by `pattern N`:
 * not periodic at any power-of-two or small stride, so a dropped, duplicated
 * or reordered byte is always detected.  (exec_gen_fill makes runs of it
 * faster, from the same formula.) */
static inline uint8_t nr_pattern_byte(uint64_t i)
{
    uint64_t x = i * NR_PATTERN_MUL;
    return (uint8_t)(x >> 56 ^ i >> 8);
}

#endif
