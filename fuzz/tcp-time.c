/* tcp-time.c - fuzz harness for tcp-time's event-driven server: the records
 * (fz_records.h) drive clients of one tt_server through socketpairs
 * (tt_server_add_client), the loop advancing by tt_server_run_once(0) with
 * a fixed clock; small read, output-buffer and socket send-buffer sizes
 * reach the chunking and backpressure paths.  Oracles: the sanitizers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/fz_driver.h"
#include "tcp-time/tt_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TT_FUZZ_TIME ((time_t)1700000000) /* a fixed clock: deterministic replies */
#define TT_FUZZ_SNDBUF 4096                 /* server-side send buffer, bytes */

static time_t fixed_clock(void *ctx)
{
    (void)ctx;
    return TT_FUZZ_TIME;
}

static int add(void *ctx, int fd)
{
    int small = TT_FUZZ_SNDBUF;

    /* A small send buffer makes replies back up when the client does not
     * read, so backpressure and hang-ups with replies pending are reached
     * with small inputs. */
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    return tt_server_add_client(ctx, fd, NULL) < 0 ? -1 : 0;
}

static int run_once(void *ctx)
{
    return tt_server_run_once(ctx, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tt_config cfg = { .read_size = 64, .out_cap = 512, .clock = fixed_clock };
    char errbuf[NR_ERRBUF_SIZE];
    struct tt_server *s = tt_server_create(&cfg, errbuf);
    struct fz_server srv = { .mode = FZ_MODE_LOOP, .add = add, .run_once = run_once };

    if (!s)
        return 0;
    srv.ctx = s;
    fz_drive(&srv, data, size);
    tt_server_destroy(s);
    return 0;
}
