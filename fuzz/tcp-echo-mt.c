/* tcp-echo-mt.c - fuzz harness for tcp-echo-mt's connection table: every
 * connection the records (fz_records.h) open is handed to emt_start as the
 * server's accept loop does (FZ_MODE_SPAWN), whose thread per connection
 * echoes it; a table of 2 slots makes the refusal
 * path (emt_refuse) reachable.  At the end of the input the clients close,
 * emt_stop joins every thread and must report none left over. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/fz_driver.h"
#include "srv.h"
#include "tcp-echo-mt/conns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MT_SLOTS 2

static void serve(void *ctx, unsigned conn, int fd)
{
    struct emt *m = ctx;

    (void)conn;
    if (emt_start(m, fd, "fuzz") != 0)
        emt_refuse(fd); /* as main.c does: table full (or no thread) */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct srv s;
    char errbuf[NR_ERRBUF_SIZE];
    struct emt m;
    struct fz_server srv = { .mode = FZ_MODE_SPAWN, .serve = serve, .ctx = &m, .drain_ms = 5 };

    srv_init(&s, "tcp-echo-mt", SOCK_STREAM, 0);
    s.quiet = 1;
    if (emt_init(&m, &s, MT_SLOTS, 1000, errbuf) < 0)
        return 0;
    fz_drive(&srv, data, size);
    if (emt_stop(&m, 5000) != 0) {
        fprintf(stderr, "tcp-echo-mt: connection threads still running after their clients closed\n");
        abort();
    }
    emt_free(&m);
    return 0;
}
