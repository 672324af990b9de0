/* greet.c - tcp-greet's protocol logic, apart from the socket plumbing. */
#include "greet.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nr_cursor.h"
#include "nr_net.h"

/* Length (1-4) of the well-formed UTF-8 sequence that starts with byte b0,
 * its continuation bytes read from rest, or 0 if it is malformed or cut
 * short. */
static int utf8_seq(uint8_t b0, struct nr_cursor *rest)
{
    uint8_t b;
    uint32_t cp;
    int n, i;

    if (b0 < 0x80)
        return 1;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        n = 2;
        cp = b0 & 0x1f;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        n = 3;
        cp = b0 & 0x0f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        n = 4;
        cp = b0 & 0x07;
    } else {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if (nr_cur_u8(rest, &b) < 0 || (b & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (b & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

int greet_validate(const uint8_t *msg, size_t len, size_t *bad_off)
{
    struct nr_cursor rest;
    int n;

    /* sequence by sequence, each the length utf8_seq says it is */
    for (size_t off = 0; off < len; off += (size_t)n) {
        nr_cur_init(&rest, msg + off + 1, len - off - 1);
        n = utf8_seq(msg[off], &rest);
        if (msg[off] == '\n' || msg[off] == '\r' || msg[off] == '\0' || n == 0) {
            *bad_off = off;
            return -1;
        }
    }
    return 0;
}

long greet_line(const uint8_t *msg, size_t len, uint8_t *out, size_t cap)
{
    if (len >= cap)
        return -1;
    memcpy(out, msg, len);
    out[len] = '\n';
    return (long)len + 1;
}

int greet_serve(int fd, const uint8_t *line, size_t len, int timeout_ms)
{
    int r = nr_write_all(fd, line, len, timeout_ms);

    close(fd);
    return r;
}
