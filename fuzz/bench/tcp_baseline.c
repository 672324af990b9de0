/* tcp_baseline.c - the benchmark baseline: fuzz a server the way AFLNet
 * does, over real TCP.  Reads one input of records (fz_records.h) on stdin,
 * connects to the running server at $NETRIG_BENCH_ADDR ("127.0.0.1:PORT")
 * once per connection id, replays the records (a drain waits up to 50 ms
 * for the reply), then closes everything and exits 0.  Built with
 * afl-clang-fast and run by afl-fuzz in forkserver mode. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../lib/fz_records.h"
#include "nr_net.h"

#define BASE_DRAIN_MS 50

static void drain(int fd, int ms)
{
    char buf[4096];

    while (nr_wait_fd(fd, POLLIN, ms) > 0 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
        ms = 0;
}

int main(void)
{
    static uint8_t in[1 << 20];
    int fd[FZ_MAX_CONNS] = { -1, -1, -1, -1 };
    const char *at = getenv("NETRIG_BENCH_ADDR");
    struct nr_addr addr;
    struct nr_cursor c;
    struct fz_rec r;
    size_t len = 0;
    ssize_t n;

    if (!at || nr_addr_parse(at, &addr, NULL) < 0) {
        fprintf(stderr, "tcp_baseline: set NETRIG_BENCH_ADDR=HOST:PORT\n");
        return 2;
    }
    while (len < sizeof(in) && (n = nr_read(0, in + len, sizeof(in) - len)) > 0)
        len += (size_t)n;
    nr_cur_init(&c, in, len);
    while (fz_rec_next(&c, &r)) {
        if (fd[r.conn] < 0 && (fd[r.conn] = nr_connect_tcp(&addr, 1000, NULL, NULL, NULL)) < 0)
            continue;
        if (r.action == FZ_SEND)
            nr_write_all(fd[r.conn], r.data, r.len, 1000);
        else if (r.action == FZ_SHUT_WR)
            shutdown(fd[r.conn], SHUT_WR);
        else if (r.action == FZ_DRAIN)
            drain(fd[r.conn], BASE_DRAIN_MS);
        if (r.action == FZ_CLOSE) {
            close(fd[r.conn]);
            fd[r.conn] = -1;
        }
    }
    for (int i = 0; i < FZ_MAX_CONNS; i++) {
        if (fd[i] < 0)
            continue;
        shutdown(fd[i], SHUT_WR);
        drain(fd[i], BASE_DRAIN_MS);
        close(fd[i]);
    }
    return 0;
}
