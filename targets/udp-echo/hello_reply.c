/* hello_reply.c - format udp-echo replies (see hello_reply.h). */
#include "hello_reply.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

long hello_reply_format(const uint8_t *data, size_t len, uint8_t *out, size_t cap)
{
#ifdef NETRIG_PLANT_BUG_UDP_REPLY_OVERFLOW
    /* Planted for fuzz/selftest.sh only: accepts one byte too many, so the
     * '!' lands one past out[cap - 1]. */
    if (cap < HELLO_OVERHEAD || len > cap - HELLO_OVERHEAD + 1)
#else
    if (cap < HELLO_OVERHEAD || len > cap - HELLO_OVERHEAD)
#endif
        return -E2BIG;
    memcpy(out, "Hello, ", 7);
    if (len)
        memcpy(out + 7, data, len);
    out[7 + len] = '!';
    return (long)(len + HELLO_OVERHEAD);
}

size_t hello_max_payload(int af)
{
    return af == AF_INET6 ? HELLO_MAX_UDP6 : HELLO_MAX_UDP4;
}
