/* forksrv - a classic forking TCP echo server, for the runner's containment
 * tests: each connection is served by a forked child in the same process
 * group, which echoes until EOF, then sleeps `--linger MS` before closing
 * (so the child's FIN comes after the parent has been told to stop).
 * `--daemon` double-forks one more process that only sleeps, the way a
 * daemonising server leaves a grandchild behind.  `--setsid` puts each
 * connection's child in a session of its own that ignores SIGTERM while it
 * lingers: only a runner that waits for every process of the scenario sees
 * its FIN.
 *
 * usage: forksrv [--port N] [--linger MS] [--daemon] [--setsid]
 * Prints "listening on 127.0.0.1:PORT" once ready; exits 0 on SIGTERM. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Echo until EOF, linger, close. Never returns. */
static void serve(int fd, long linger_ms, int own_session)
{
    char buf[16384];
    ssize_t n;

    signal(SIGTERM, own_session ? SIG_IGN : SIG_DFL);
    if (own_session)
        setsid();
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(fd, buf + off, (size_t)(n - off));
            if (w <= 0)
                _exit(1);
            off += w;
        }
    sleep_ms(linger_ms);
    close(fd);
    _exit(0);
}

int main(int argc, char **argv)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof(a);
    long linger_ms = 0;
    int port = 0, daemonise = 0, own_session = 0, one = 1, lfd;
    struct sigaction sa = { .sa_handler = on_term };

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--linger") == 0 && i + 1 < argc)
            linger_ms = atol(argv[++i]);
        else if (strcmp(argv[i], "--daemon") == 0)
            daemonise = 1;
        else if (strcmp(argv[i], "--setsid") == 0)
            own_session = 1;
        else {
            fprintf(stderr, "usage: forksrv [--port N] [--linger MS] [--daemon] [--setsid]\n");
            return 2;
        }
    }
    sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: accept returns EINTR */
    signal(SIGCHLD, SIG_IGN);      /* children are reaped by the kernel */
    a.sin_port = htons((uint16_t)port);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 64) < 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) < 0) {
        perror("forksrv: listen");
        return 1;
    }
    if (daemonise && fork() == 0) {
        if (fork() == 0) { /* the grandchild outlives its parent */
            setsid();
            for (;;)
                pause();
        }
        _exit(0);
    }
    printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
    fflush(stdout);
    while (!stop) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            continue;
        if (fork() == 0) {
            close(lfd);
            serve(fd, linger_ms, own_session);
        }
        close(fd);
    }
    return 0;
}
