/* fz_oracle.c - shared pieces of the harnesses' oracles (fz_oracle.h). */
#include "fz_oracle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fz_log_add(struct fz_log *l, const uint8_t *buf, size_t len)
{
    if (len > l->cap - l->len) {
        size_t ncap = l->cap ? l->cap : 4096;
        uint8_t *nb;

        while (ncap - l->len < len)
            ncap *= 2;
        nb = realloc(l->buf, ncap);
        if (!nb)
            fz_fail("fz_log", "out of memory for %zu logged bytes", l->len + len);
        l->buf = nb;
        l->cap = ncap;
    }
    memcpy(l->buf + l->len, buf, len);
    l->len += len;
}

void fz_log_clear(struct fz_log *l)
{
    l->len = 0;
}

size_t fz_log_match(const struct fz_log *l, size_t at, const uint8_t *buf, size_t len,
                    const char *harness, unsigned conn)
{
    if (at > l->len || len > l->len - at)
        fz_fail(harness, "conn %u: %zu bytes echoed, only %zu sent", conn, at + len, l->len);
    for (size_t i = 0; i < len; i++)
        if (buf[i] != l->buf[at + i])
            fz_fail(harness, "conn %u: echoed byte %zu is 0x%02x, sent 0x%02x", conn, at + i,
                    buf[i], l->buf[at + i]);
    return at + len;
}

void fz_fail(const char *harness, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: oracle violated: ", harness);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}
