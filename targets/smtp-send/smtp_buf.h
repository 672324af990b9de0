/* smtp_buf.h - a growable byte buffer for smtp-send's writers (commands,
 * MIME message, DATA stuffing).  An allocation failure is remembered
 * (oom) and later appends do nothing, so a writer checks once at the end. */
#ifndef SS_SMTP_BUF_H
#define SS_SMTP_BUF_H

#include <stddef.h>
#include <stdint.h>

struct ss_buf {
    uint8_t *p;     /* owned; free with ss_buf_free */
    size_t len;
    size_t cap;
    int oom;        /* an append failed: contents are incomplete */
};

/* Append n bytes.  Returns 0, or -1 (and sets oom) when out of memory. */
int ss_buf_add(struct ss_buf *b, const void *p, size_t n);

/* Append a NUL-terminated string.  Returns 0 or -1 like ss_buf_add. */
int ss_buf_str(struct ss_buf *b, const char *s);

/* Append printf-formatted text (at most 1023 bytes per call).  Returns 0
 * or -1 like ss_buf_add. */
int ss_buf_fmt(struct ss_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Release the memory and reset b to empty. */
void ss_buf_free(struct ss_buf *b);

/* Append the base64 (RFC 4648, with padding) of in[0..n) to b, in lines
 * of at most line_max characters each ended by CRLF (line_max 0: one line,
 * no CRLF; otherwise a multiple of 4).  Returns 0 or -1 like ss_buf_add. */
int ss_b64_encode(struct ss_buf *b, const uint8_t *in, size_t n, size_t line_max);

#endif
