/* tcp-echo.c - fuzz harness for tcp-echo's connection code: the records
 * (fz_records.h) drive connections that echo_serve_conn serves, one after
 * the other as the iterative server does (driver INLINE mode).
 *
 * Oracles, per connection: the bytes the client reads are, in order, a
 * prefix of the bytes it sent (on_send: what its socket accepted); when
 * echo_serve_conn reports a clean end (0: EOF, everything echoed) the
 * client read exactly what it sent, and exactly as many bytes as
 * echo_serve_conn says it wrote. */
#include <string.h>
#include <unistd.h>

#include "lib/fz_driver.h"
#include "lib/fz_oracle.h"
#include "tcp-echo/echo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct echo_fuzz {
    struct fz_log sent[FZ_MAX_CONNS]; /* what the client's socket accepted */
    size_t replied[FZ_MAX_CONNS];     /* bytes the client read */
    uint64_t moved[FZ_MAX_CONNS];     /* bytes echo_pump wrote, last serve */
    int result[FZ_MAX_CONNS];         /* echo_serve_conn's return, last serve */
    int served[FZ_MAX_CONNS];
};

static void serve(void *ctx, unsigned conn, int fd)
{
    struct echo_fuzz *e = ctx;
    uint64_t moved = 0;

    e->result[conn] = echo_serve_conn(fd, -1, 1000, &moved);
    close(fd);
    e->moved[conn] = moved;
    e->served[conn] = 1;
}

static void on_send(void *ctx, unsigned conn, const uint8_t *buf, size_t len)
{
    struct echo_fuzz *e = ctx;

    fz_log_add(&e->sent[conn], buf, len);
}

static void on_reply(void *ctx, unsigned conn, const uint8_t *buf, size_t len)
{
    struct echo_fuzz *e = ctx;

    e->replied[conn] = fz_log_match(&e->sent[conn], e->replied[conn], buf, len, "tcp-echo", conn);
}

static void on_close(void *ctx, unsigned conn, int eof)
{
    struct echo_fuzz *e = ctx;

    if (e->served[conn] && e->replied[conn] != e->moved[conn])
        fz_fail("tcp-echo", "conn %u read %zu bytes, server wrote %llu", conn, e->replied[conn],
                (unsigned long long)e->moved[conn]);
    if (e->served[conn] && e->result[conn] == 0 && (!eof || e->replied[conn] != e->sent[conn].len))
        fz_fail("tcp-echo", "conn %u: server reported a clean end, client read %zu of %zu "
                "bytes%s", conn, e->replied[conn], e->sent[conn].len,
                eof ? "" : " and no EOF");
    fz_log_clear(&e->sent[conn]);
    e->replied[conn] = e->moved[conn] = 0;
    e->served[conn] = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct echo_fuzz e;
    struct fz_server srv = {
        .mode = FZ_MODE_INLINE, .serve = serve, .on_send = on_send, .on_reply = on_reply,
        .on_close = on_close, .ctx = &e,
    };

    for (unsigned i = 0; i < FZ_MAX_CONNS; i++) {
        fz_log_clear(&e.sent[i]);
        e.replied[i] = e.moved[i] = 0;
        e.served[i] = 0;
    }
    fz_drive(&srv, data, size);
    return 0;
}
