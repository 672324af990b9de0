/* accept-echo - test server for the preload library: an iterative blocking
 * accept loop on 127.0.0.1:PORT (argv[1], default 0; listen backlog argv[2],
 * default 16) echoing each connection until EOF.  Runs until killed (or
 * ended by the library). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    char buf[4096];
    ssize_t n;
    int l, c;

    signal(SIGPIPE, SIG_IGN);
    a.sin_port = htons((unsigned short)(argc > 1 ? atoi(argv[1]) : 0));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, argc > 2 ? atoi(argv[2]) : 16) < 0)
        return 1;
    for (;;) {
        c = accept(l, NULL, NULL);
        if (c < 0)
            continue;
        while ((n = read(c, buf, sizeof(buf))) > 0)
            if (write(c, buf, (size_t)n) != n)
                break;
        close(c);
    }
}
