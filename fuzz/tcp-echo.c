/* tcp-echo.c - fuzz harness for tcp-echo's connection code: the records
 * (fz_records.h) drive connections that echo_serve_conn serves, one after
 * the other as the iterative server does (driver INLINE mode).  Oracle:
 * the client of each connection reads exactly as many bytes as
 * echo_serve_conn reports it wrote. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fz_driver.h"
#include "tcp-echo/echo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct echo_fuzz {
    uint64_t moved[FZ_MAX_CONNS];   /* bytes echo_pump wrote, last serve */
    uint64_t replied[FZ_MAX_CONNS]; /* bytes the client read */
};

static void serve(void *ctx, unsigned conn, int fd)
{
    struct echo_fuzz *e = ctx;
    uint64_t moved = 0;

    echo_serve_conn(fd, -1, 1000, &moved);
    close(fd);
    e->moved[conn] = moved;
}

static void on_reply(void *ctx, unsigned conn, const uint8_t *buf, size_t len)
{
    struct echo_fuzz *e = ctx;

    (void)buf;
    e->replied[conn] += len;
}

static void on_close(void *ctx, unsigned conn)
{
    struct echo_fuzz *e = ctx;

    if (e->replied[conn] != e->moved[conn]) {
        fprintf(stderr, "tcp-echo: conn %u read %llu bytes, server wrote %llu\n", conn,
                (unsigned long long)e->replied[conn], (unsigned long long)e->moved[conn]);
        abort();
    }
    e->replied[conn] = e->moved[conn] = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct echo_fuzz e;
    struct fz_server srv = {
        .mode = FZ_MODE_INLINE, .serve = serve, .on_reply = on_reply,
        .on_close = on_close, .ctx = &e,
    };

    memset(&e, 0, sizeof(e));
    fz_drive(&srv, data, size);
    return 0;
}
