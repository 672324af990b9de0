/* exec_match.h - the matchers of `expect`, one table row per kind of
 * match (bytes, regex, length, until, eof, reset, nothing).
 *
 * In the style of picohttpparser, a matcher is a function over the input
 * not yet consumed (buf, len), how the input ended, and its own state; it
 * returns DONE (the claim holds), MORE (it needs more input, or for
 * `nothing` more time) or FAIL (it cannot hold; m->why says why, NULL for
 * "the way the stream ended").  *used is what it consumed: on DONE through
 * the match, on MORE what a streaming matcher (bytes, length, reset) has
 * taken so far, on FAIL the bytes that matched before the difference.
 * Matchers never block and never read sockets: exec_conn_expect.c drives
 * them with one wait loop for TCP and one receive for UDP, and the send
 * lookahead (exec_conn_send.c) drives the bytes matcher while it sends. */
#ifndef EXEC_MATCH_H
#define EXEC_MATCH_H

#include <regex.h>

#include "exec.h"

/* How the input the matcher sees ends. */
enum exec_in_end {
    EXEC_IN_OPEN,     /* more may come */
    EXEC_IN_EOF,      /* the stream ended with a FIN */
    EXEC_IN_RESET,    /* the stream ended with a RST */
    EXEC_IN_ERROR,    /* another receive error ended it */
    EXEC_IN_DATAGRAM, /* the input is one whole datagram */
};

enum exec_match_rc { EXEC_MATCH_DONE, EXEC_MATCH_MORE, EXEC_MATCH_FAIL };

/* How long a TCP wait for more input may take. */
enum exec_budget {
    EXEC_BUDGET_STALL, /* the stall timeout from the last progress; `within` from the start */
    EXEC_BUDGET_START, /* the step's time from its start (eof, reset) */
    EXEC_BUDGET_QUIET, /* the step's whole time, past the deadline too: `nothing`, which
                          holds when it runs out */
};

struct exec_match;

/* One kind of match: its functions and how the wait loop treats it. */
struct exec_matcher {
    enum nr_match_kind kind;
    /* Make the claim concrete in c (expand templates, compile the regex,
     * make the payload).  Returns 0, or -1 after exec_fail; may be NULL. */
    int (*init)(struct exec_ctx *c, const struct nr_step *s, struct exec_match *m);
    /* Judge the input, as above. */
    enum exec_match_rc (*match)(struct exec_match *m, const uint8_t *buf, size_t len,
                                enum exec_in_end end, size_t *used);
    /* Record the failure of a TCP expect with exec_fail: why, and the
     * input left unconsumed (buf, len) and how it ended. */
    void (*report)(struct exec_ctx *c, const struct nr_step *s, const struct exec_match *m,
                   const uint8_t *buf, size_t len, enum exec_in_end end, const char *why);
    /* Record the failure of a UDP expect: the datagram (size n, its first
     * got bytes in buf) from `from` does not match.  NULL: the kind does
     * not apply to UDP. */
    void (*report_dgram)(struct exec_ctx *c, const struct nr_step *s, const struct exec_match *m,
                         const uint8_t *buf, size_t got, size_t n, const struct nr_addr *from);
    enum exec_budget budget;
    unsigned paced : 1;        /* waits for the capture while it reads (bulk: bytes, length) */
    unsigned deadline_cut : 1; /* input left after the deadline fails it */
    unsigned whole : 1;        /* on UDP, it must consume the whole datagram */
    unsigned sizes_only : 1;   /* judges lengths, never reads the bytes */
};

/* A claim being matched: its row, what the step wants, and its state. */
struct exec_match {
    const struct exec_matcher *row;
    const struct nr_match *want;
    struct exec_gen gen;      /* bytes: the payload (owned) */
    int have_gen;
    uint64_t done;            /* bytes: matched so far; length: taken so far */
    char *text;               /* regex: the pattern; until: the delimiter (owned) */
    size_t tlen;
    regex_t re;               /* regex: compiled text */
    int have_re;
    const char *why;          /* FAIL: why (static text), or NULL */
};

/* The row of a kind of match; NULL for a kind the table does not know. */
const struct exec_matcher *exec_matcher(enum nr_match_kind kind);

/* Start matching step s's claim `want` in c.  Returns 0, or -1 after
 * exec_fail (m needs no exec_match_free then). */
int exec_match_init(struct exec_ctx *c, const struct nr_step *s, const struct nr_match *want,
                    struct exec_match *m);

/* Record a failed datagram expectation with exec_fail: why (printf-style),
 * then the datagram's first bytes (n of them in buf) as a hexdump and where
 * it came from. */
void exec_fail_datagram(struct exec_ctx *c, const struct nr_step *s, const uint8_t *buf, size_t n,
                        const struct nr_addr *from, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Release what exec_match_init allocated (m may be zeroed, never initialized);
 * m is left holding nothing, so a second call does nothing. */
void exec_match_free(struct exec_match *m);

#endif
