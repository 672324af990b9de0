/* poll-echo - test server for the preload library: a single-threaded
 * non-blocking poll loop (like tcp-time's reactor) on 127.0.0.1:PORT
 * (argv[1], default 0) that answers each chunk with "<len>:" + chunk and
 * closes a connection at EOF.  Runs until killed (or ended by the library). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXC 16

int main(int argc, char **argv)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    struct pollfd p[MAXC + 1];
    char buf[2048], out[2100];
    int n = 1, i, c, k;
    ssize_t r;

    signal(SIGPIPE, SIG_IGN);
    a.sin_port = htons((unsigned short)(argc > 1 ? atoi(argv[1]) : 0));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p[0].fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    p[0].events = POLLIN;
    if (p[0].fd < 0 || bind(p[0].fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        listen(p[0].fd, 16) < 0)
        return 1;
    for (;;) {
        if (poll(p, (nfds_t)n, -1) < 0)
            continue;
        for (i = n - 1; i >= 1; i--) {
            if (!p[i].revents)
                continue;
            r = read(p[i].fd, buf, sizeof(buf));
            if (r < 0 && errno == EAGAIN)
                continue;
            if (r > 0) {
                k = snprintf(out, sizeof(out), "%zd:%.*s", r, (int)r, buf);
                if (write(p[i].fd, out, (size_t)k) == k)
                    continue;
            }
            close(p[i].fd);
            p[i] = p[--n];
        }
        if (p[0].revents && n <= MAXC) {
            c = accept4(p[0].fd, NULL, NULL, SOCK_NONBLOCK);
            if (c >= 0)
                p[n++] = (struct pollfd){ .fd = c, .events = POLLIN };
        }
    }
}
