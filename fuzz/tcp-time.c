/* tcp-time.c - fuzz harness for tcp-time's event-driven server: the records
 * (fz_records.h) drive clients of one tt_server through socketpairs
 * (tt_server_add_client), the loop advancing by tt_server_run_once(0) with
 * a fixed clock.
 *
 * Options (fz_opts.h): [u16 read size (bytes per read, so per reply),
 * 1-65535, default 64][u16 output buffer cap (backpressure), 1-65535,
 * default 512][u16 server-side SO_SNDBUF, 1-65535, default 4096 (the
 * kernel raises small values to its minimum)].  Small sizes reach the
 * chunking and backpressure paths.
 *
 * Oracle, per connection: what the client reads is a sequence of replies
 * "[<ctime>] <chunk>", <ctime> the fixed clock's time as libc's ctime_r
 * spells it (not the target's formatter), every chunk 1 to read-size bytes,
 * and the chunks are, in order, a prefix of the bytes the client sent; a
 * client that read an orderly EOF had every byte it sent answered.  TCP
 * keeps no boundaries, so a chunk that happens to contain the prefix is
 * ambiguous: the check follows every reading at once (a small set of
 * states), and stops judging a connection whose readings exceed the set. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/fz_driver.h"
#include "lib/fz_opts.h"
#include "lib/fz_oracle.h"
#include "tcp-time/tt_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TT_FUZZ_TIME ((time_t)1700000000) /* a fixed clock: deterministic replies */
#define TT_FUZZ_READ 64                     /* default read size */
#define TT_FUZZ_OUTCAP 512                  /* default output buffer cap */
#define TT_FUZZ_SNDBUF 4096                 /* default server-side send buffer */
#define TT_STATES 32                        /* readings followed at once */
#define TT_IN_DATA 0xffff                   /* state: inside a chunk */

/* One reading of the reply stream so far. */
struct tt_state {
    size_t j;     /* sent bytes answered */
    unsigned k;   /* offset in the prefix, or TT_IN_DATA */
    size_t chunk; /* TT_IN_DATA: bytes of the current chunk */
};

struct tt_conn {
    struct fz_log sent;
    struct tt_state st[TT_STATES];
    int nst;       /* -1: too ambiguous, no longer judged */
    size_t got;    /* reply bytes read */
};

struct tt_fuzz {
    struct tt_server *s;
    int sndbuf;
    size_t read_size;
    char prefix[64];
    size_t plen;
    struct tt_conn c[FZ_MAX_CONNS];
};

static time_t fixed_clock(void *ctx)
{
    (void)ctx;
    return TT_FUZZ_TIME;
}

static int add(void *ctx, int fd)
{
    struct tt_fuzz *f = ctx;

    /* A small send buffer makes replies back up when the client does not
     * read, so backpressure and hang-ups with replies pending are reached
     * with small inputs. */
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &f->sndbuf, sizeof(f->sndbuf));
    return tt_server_add_client(f->s, fd, NULL) < 0 ? -1 : 0;
}

static int run_once(void *ctx)
{
    struct tt_fuzz *f = ctx;

    return tt_server_run_once(f->s, 0);
}

static void conn_reset(struct tt_conn *c)
{
    fz_log_clear(&c->sent);
    c->st[0] = (struct tt_state){ .j = 0, .k = 0 };
    c->nst = 1;
    c->got = 0;
}

static void push(struct tt_state *v, int *n, struct tt_state s)
{
    for (int i = 0; i < *n; i++)
        if (v[i].j == s.j && v[i].k == s.k && v[i].chunk == s.chunk)
            return;
    if (*n < TT_STATES)
        v[*n] = s;
    (*n)++;
}

static void on_send(void *ctx, unsigned conn, const uint8_t *buf, size_t len)
{
    struct tt_fuzz *f = ctx;

    fz_log_add(&f->c[conn].sent, buf, len);
}

static void on_reply(void *ctx, unsigned conn, const uint8_t *buf, size_t len)
{
    struct tt_fuzz *f = ctx;
    struct tt_conn *c = &f->c[conn];
    struct tt_state next[TT_STATES];

    for (size_t i = 0; i < len && c->nst > 0; i++, c->got++) {
        uint8_t b = buf[i];
        int n = 0;

        for (int s = 0; s < c->nst; s++) {
            struct tt_state t = c->st[s];

            if (t.k != TT_IN_DATA) {
                if (b == (uint8_t)f->prefix[t.k]) {
                    t.k++;
                    if (t.k == f->plen)
                        t = (struct tt_state){ .j = t.j, .k = TT_IN_DATA, .chunk = 0 };
                    push(next, &n, t);
                }
                continue;
            }
            if (t.chunk < f->read_size && t.j < c->sent.len && b == c->sent.buf[t.j])
                push(next, &n, (struct tt_state){ .j = t.j + 1, .k = TT_IN_DATA,
                                                  .chunk = t.chunk + 1 });
            if (t.chunk > 0 && b == (uint8_t)f->prefix[0])
                push(next, &n, (struct tt_state){ .j = t.j, .k = 1 });
        }
        if (n == 0)
            fz_fail("tcp-time", "conn %u: reply byte %zu (0x%02x) is neither the next sent "
                    "byte nor a reply prefix \"%s\" (read size %zu)", conn, c->got, b,
                    f->prefix, f->read_size);
        if (n > TT_STATES) {
            c->nst = -1; /* too ambiguous to follow: stop judging this connection */
            return;
        }
        memcpy(c->st, next, (size_t)n * sizeof(next[0]));
        c->nst = n;
    }
}

static void on_close(void *ctx, unsigned conn, int eof)
{
    struct tt_fuzz *f = ctx;
    struct tt_conn *c = &f->c[conn];
    int done = c->nst < 0;

    for (int s = 0; s < c->nst && !done; s++) {
        const struct tt_state *t = &c->st[s];

        done = t->j == c->sent.len && (t->k == TT_IN_DATA ? t->chunk > 0 : t->k == 0 && t->j == 0);
    }
    if (eof && !done)
        fz_fail("tcp-time", "conn %u: EOF with the reply incomplete: %zu bytes sent, %zu "
                "reply bytes read", conn, c->sent.len, c->got);
    conn_reset(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tt_fuzz f;
    struct tt_config cfg = { .clock = fixed_clock };
    char errbuf[NR_ERRBUF_SIZE], when[64];
    struct fz_server srv = { .mode = FZ_MODE_LOOP, .add = add, .run_once = run_once,
                             .on_send = on_send, .on_reply = on_reply, .on_close = on_close,
                             .ctx = &f };
    time_t t = TT_FUZZ_TIME;
    struct fz_opts o;

    fz_opts_take(&o, &data, &size);
    cfg.read_size = fz_opt_u16(&o, TT_FUZZ_READ, 1, 65535);
    cfg.out_cap = fz_opt_u16(&o, TT_FUZZ_OUTCAP, 1, 65535);
    f.sndbuf = (int)fz_opt_u16(&o, TT_FUZZ_SNDBUF, 1, 65535);
    f.read_size = cfg.read_size;
    if (!f.plen) {
        if (!ctime_r(&t, when))
            return 0;
        when[strcspn(when, "\n")] = '\0';
        f.plen = (size_t)snprintf(f.prefix, sizeof(f.prefix), "[%s] ", when);
    }
    for (unsigned i = 0; i < FZ_MAX_CONNS; i++)
        conn_reset(&f.c[i]);
    f.s = tt_server_create(&cfg, errbuf);
    if (!f.s)
        return 0;
    fz_drive(&srv, data, size);
    tt_server_destroy(f.s);
    return 0;
}
