/* tcp-greet.c - fuzz harness for tcp-greet's protocol code.
 *
 * Input: [u16 big-endian n][n bytes: greeting][records...].  The greeting
 * goes through greet_validate and greet_line as tcp-greet's --message does;
 * when accepted, the records (fz_records.h) drive connections that
 * greet_serve answers through real socketpairs.  Oracles: a valid message
 * of at most GREET_MAX bytes is accepted, and its line is exactly the
 * message and one newline (checked apart from greet_line); every client must
 * read exactly that line, then an orderly EOF when it sent nothing
 * (greet_serve closes without reading, so a client whose bytes are left
 * unread gets a reset instead, as over TCP). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fz_driver.h"
#include "nr_cursor.h"
#include "tcp-greet/greet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct greet_fuzz {
    uint8_t line[GREET_MAX + 1];
    size_t linelen;
    uint8_t got[FZ_MAX_CONNS][GREET_MAX + 2];
    size_t gotlen[FZ_MAX_CONNS];
    size_t sent[FZ_MAX_CONNS]; /* client bytes: unread ones make the close a reset */
};

static void serve(void *ctx, unsigned conn, int fd)
{
    struct greet_fuzz *g = ctx;

    (void)conn;
    greet_serve(fd, g->line, g->linelen, 1000);
}

static void on_reply(void *ctx, unsigned conn, const uint8_t *buf, size_t len)
{
    struct greet_fuzz *g = ctx;
    size_t room = sizeof(g->got[conn]) - g->gotlen[conn];

    if (len > room) {
        fprintf(stderr, "tcp-greet: conn %u: reply longer than the greeting line\n", conn);
        abort();
    }
    memcpy(g->got[conn] + g->gotlen[conn], buf, len);
    g->gotlen[conn] += len;
}

static void on_send(void *ctx, unsigned conn, const uint8_t *buf, size_t len)
{
    struct greet_fuzz *g = ctx;

    (void)buf;
    g->sent[conn] += len;
}

static void on_close(void *ctx, unsigned conn, int eof)
{
    struct greet_fuzz *g = ctx;

    if (g->gotlen[conn] != g->linelen || memcmp(g->got[conn], g->line, g->linelen) != 0) {
        fprintf(stderr, "tcp-greet: conn %u: got %zu bytes, want the %zu-byte greeting\n",
                conn, g->gotlen[conn], g->linelen);
        abort();
    }
    if (!eof && !g->sent[conn]) {
        fprintf(stderr, "tcp-greet: conn %u: no orderly EOF after the greeting\n", conn);
        abort();
    }
    g->sent[conn] = 0;
    g->gotlen[conn] = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct greet_fuzz g;
    struct fz_server srv = {
        .mode = FZ_MODE_INLINE, .serve = serve, .on_send = on_send, .on_reply = on_reply,
        .on_close = on_close, .ctx = &g,
    };
    struct nr_cursor c;
    const uint8_t *msg;
    uint16_t n;
    size_t bad;
    long l;

    nr_cur_init(&c, data, size);
    if (nr_cur_be16(&c, &n) < 0 || nr_cur_bytes(&c, n, &msg) < 0)
        return 0;
    if (greet_validate(msg, n, &bad) < 0) {
        if (bad >= n)
            abort(); /* the offset must point into the message */
        return 0;
    }
    l = greet_line(msg, n, g.line, sizeof(g.line));
    if (l < 0) {
        if (n <= GREET_MAX)
            abort(); /* a valid message that fits was refused */
        return 0;
    }
    /* The exact greeting, judged apart from greet_line: the message, then
     * one newline. */
    if ((size_t)l != (size_t)n + 1 || memcmp(g.line, msg, n) != 0 || g.line[n] != '\n') {
        fprintf(stderr, "tcp-greet: greet_line made %ld bytes of a %u-byte message\n", l, n);
        abort();
    }
    g.linelen = (size_t)l;
    memset(g.gotlen, 0, sizeof(g.gotlen));
    memset(g.sent, 0, sizeof(g.sent));
    fz_drive(&srv, nr_cur_ptr(&c), nr_cur_left(&c));
    return 0;
}
