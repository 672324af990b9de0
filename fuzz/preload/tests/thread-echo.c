/* thread-echo - test server for the preload library: one thread per
 * connection (like tcp-echo-mt), echoing until EOF, on 127.0.0.1:PORT
 * (argv[1], default 0).  Runs until killed (or ended by the library). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void *serve(void *arg)
{
    int c = (int)(intptr_t)arg;
    char buf[4096];
    ssize_t n;

    while ((n = read(c, buf, sizeof(buf))) > 0)
        if (write(c, buf, (size_t)n) != n)
            break;
    close(c);
    return NULL;
}

int main(int argc, char **argv)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    pthread_t th;
    int l, c;

    signal(SIGPIPE, SIG_IGN);
    a.sin_port = htons((unsigned short)(argc > 1 ? atoi(argv[1]) : 0));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 16) < 0)
        return 1;
    for (;;) {
        c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        if (pthread_create(&th, NULL, serve, (void *)(intptr_t)c) == 0)
            pthread_detach(th);
        else
            close(c);
    }
}
