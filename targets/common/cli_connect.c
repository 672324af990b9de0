/* cli_connect.c - resolve, loopback check, connect (see cli_connect.h). */
#include "cli_connect.h"

#include <errno.h>
#include <netdb.h>
#include <string.h>

#include "nr_net.h"

int cli_connect(const char *host, const char *port, int allow_remote, int timeout_ms,
                char *errbuf)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *res, *ai;
    char as[NR_ADDRSTR_SIZE] = "";
    int fd = -1, e = 0, tried = 0, r;

    r = getaddrinfo(host, port, &hints, &res);
    if (r != 0) {
        nr_seterr(errbuf, "cannot resolve '%s': %s", host, gai_strerror(r));
        return CLI_ERESOLVE;
    }
    for (ai = res; ai && fd < 0; ai = ai->ai_next) {
        struct nr_addr a = { .len = ai->ai_addrlen };
        memcpy(&a.ss, ai->ai_addr, ai->ai_addrlen);
        if (!allow_remote && !nr_addr_is_loopback(ai->ai_addr)) {
            nr_addr_format(ai->ai_addr, as, sizeof(as));
            continue;
        }
        tried++;
        fd = nr_connect_tcp(&a, timeout_ms, &e, NULL, errbuf);
    }
    freeaddrinfo(res);
    if (fd >= 0)
        return fd;
    if (!tried) {
        nr_seterr(errbuf, "refusing non-loopback destination %s (use --allow-remote)", as);
        return CLI_EREMOTE;
    }
    return e == ETIMEDOUT ? CLI_ETIMEOUT : CLI_ENET;
}
