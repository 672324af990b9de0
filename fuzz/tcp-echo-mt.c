/* tcp-echo-mt.c - fuzz harness for tcp-echo-mt's connection table: every
 * connection the records (fz_records.h) open is handed to emt_start as the
 * server's accept loop does (FZ_MODE_SPAWN), whose thread per connection
 * echoes it; connections past the table's capacity are refused (emt_refuse).
 *
 * Options (fz_opts.h): [u8 slots: --max-conns, 1-8, default 2].  Small
 * tables make the refusal path and a full table reachable.
 *
 * Oracles, per connection: the client reads, in order, a prefix of what it
 * sent; a connection the table accepted whose client read an orderly EOF
 * was echoed completely (exactly the bytes sent); a refused one echoes
 * nothing.  At the end, emt_stop must find no thread left running. */
#include <sys/socket.h>
#include <unistd.h>

#include "lib/fz_driver.h"
#include "lib/fz_opts.h"
#include "lib/fz_oracle.h"
#include "srv.h"
#include "tcp-echo-mt/conns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MT_SLOTS 2     /* default --max-conns */
#define MT_SLOTS_MAX 8 /* largest drawn */
/* Per-connection idle bound: long, so that on a loaded machine no thread
 * gives up on a slow client and the echo oracle judges the echo, not the
 * scheduler (emt_stop wakes every thread at the end anyway). */
#define MT_IDLE_MS 30000

struct mt_fuzz {
    struct emt m;
    struct fz_log sent[FZ_MAX_CONNS];
    size_t replied[FZ_MAX_CONNS];
    int accepted[FZ_MAX_CONNS]; /* the table took the connection */
};

static void serve(void *ctx, unsigned conn, int fd)
{
    struct mt_fuzz *f = ctx;

    f->accepted[conn] = emt_start(&f->m, fd, "fuzz") == 0;
    if (!f->accepted[conn])
        emt_refuse(fd); /* as main.c does: table full (or no thread) */
}

static void on_send(void *ctx, unsigned conn, const uint8_t *buf, size_t len)
{
    struct mt_fuzz *f = ctx;

    fz_log_add(&f->sent[conn], buf, len);
}

static void on_reply(void *ctx, unsigned conn, const uint8_t *buf, size_t len)
{
    struct mt_fuzz *f = ctx;

    if (!f->accepted[conn])
        fz_fail("tcp-echo-mt", "conn %u: refused, yet %zu bytes came back", conn, len);
    f->replied[conn] = fz_log_match(&f->sent[conn], f->replied[conn], buf, len, "tcp-echo-mt",
                                    conn);
}

static void on_close(void *ctx, unsigned conn, int eof)
{
    struct mt_fuzz *f = ctx;

    if (f->accepted[conn] && eof && f->replied[conn] != f->sent[conn].len)
        fz_fail("tcp-echo-mt", "conn %u: EOF after %zu of %zu bytes echoed", conn,
                f->replied[conn], f->sent[conn].len);
    fz_log_clear(&f->sent[conn]);
    f->replied[conn] = 0;
    f->accepted[conn] = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct srv s;
    static struct mt_fuzz f;
    char errbuf[NR_ERRBUF_SIZE];
    struct fz_server srv = { .mode = FZ_MODE_SPAWN, .serve = serve, .on_send = on_send,
                             .on_reply = on_reply, .on_close = on_close, .ctx = &f,
                             .drain_ms = 5 };
    struct fz_opts o;
    int slots;

    fz_opts_take(&o, &data, &size);
    slots = (int)fz_opt_u8(&o, MT_SLOTS, 1, MT_SLOTS_MAX);
    srv_init(&s, "tcp-echo-mt", SOCK_STREAM, 0);
    s.quiet = 1;
    for (unsigned i = 0; i < FZ_MAX_CONNS; i++) {
        fz_log_clear(&f.sent[i]);
        f.replied[i] = 0;
        f.accepted[i] = 0;
    }
    if (emt_init(&f.m, &s, slots, MT_IDLE_MS, errbuf) < 0)
        return 0;
    fz_drive(&srv, data, size);
    if (emt_stop(&f.m, 5000) != 0)
        fz_fail("tcp-echo-mt", "connection threads still running after their clients closed");
    emt_free(&f.m);
    return 0;
}
