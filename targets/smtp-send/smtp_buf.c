/* smtp_buf.c - growable buffer and base64 encoder (see smtp_buf.h). */
#include "smtp_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ss_buf_add(struct ss_buf *b, const void *p, size_t n)
{
    if (b->oom)
        return -1;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 256;
        uint8_t *np;

        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2)
                goto fail;
            cap *= 2;
        }
        np = realloc(b->p, cap);
        if (!np)
            goto fail;
        b->p = np;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
fail:
    b->oom = 1;
    return -1;
}

int ss_buf_str(struct ss_buf *b, const char *s)
{
    return ss_buf_add(b, s, strlen(s));
}

int ss_buf_fmt(struct ss_buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        b->oom = 1;
        return -1;
    }
    return ss_buf_add(b, tmp, (size_t)n);
}

void ss_buf_free(struct ss_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

int ss_b64_encode(struct ss_buf *b, const uint8_t *in, size_t n, size_t line_max)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char quad[4];
    size_t col = 0;

    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        size_t k = n - i < 3 ? n - i : 3;

        if (k > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (k > 2)
            v |= in[i + 2];
        quad[0] = abc[v >> 18 & 63];
        quad[1] = abc[v >> 12 & 63];
        quad[2] = k > 1 ? abc[v >> 6 & 63] : '=';
        quad[3] = k > 2 ? abc[v & 63] : '=';
        ss_buf_add(b, quad, 4);
        col += 4;
        if (line_max && col >= line_max) {
            ss_buf_add(b, "\r\n", 2);
            col = 0;
        }
    }
    if (line_max && col)
        ss_buf_add(b, "\r\n", 2);
    return b->oom ? -1 : 0;
}
