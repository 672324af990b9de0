/* http-get's exchange (hg_fetch_fd) over a real loopback TCP connection
 * against a paced server: the response is written in pieces, and each piece
 * only once the client has read the one before (the server's send queue is
 * acknowledged, SIOCOUTQ 0, and the client's receive queue is empty,
 * FIONREAD 0), so every piece is exactly one read of the client.  Every
 * response is split in two at every offset, and also sent one byte per
 * read (so the head's final LF arrives alone); header names come in several
 * cases; chunk sizes use every hex digit in both cases.  The server keeps
 * the connection open after the response, so a client that misjudges the
 * framing waits for more and fails instead of being saved by the close. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <unistd.h>

#include <cmocka.h>

#include "http-get/http_client.h"
#include "nr_net.h"

#define RESP_MAX 2048
#define PACE_MS 2000 /* longest wait for the client to read a piece */

/* One paced exchange: the response, where it is cut, what the server saw. */
struct pace {
    int lfd, sfd, cfd;         /* listener, server end, client end */
    const uint8_t *resp;
    size_t len;
    const size_t *cuts;        /* piece boundaries, increasing, inside (0, len) */
    size_t ncuts;
    int hold;                  /* keep the connection open after the response */
    char req[1024];
    char err[128];             /* what went wrong on the server side, "" if nothing */
};

/* Wait until the piece just written has been read by the client. */
static int paced(struct pace *p)
{
    int64_t deadline = nr_now_ms() + PACE_MS;
    int outq = 1, inq = 1;

    while (nr_ms_left(deadline) > 0) {
        if (ioctl(p->sfd, SIOCOUTQ, &outq) < 0 || ioctl(p->cfd, FIONREAD, &inq) < 0)
            return -1;
        if (outq == 0 && inq == 0)
            return 0;
        usleep(50);
    }
    return -1;
}

static void *serve(void *arg)
{
    struct pace *p = arg;
    size_t got = 0, off = 0;
    int one = 1;

    p->sfd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (p->sfd < 0) {
        snprintf(p->err, sizeof(p->err), "accept: %s", strerror(errno));
        return NULL;
    }
    setsockopt(p->sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    while (!strstr(p->req, "\r\n\r\n") && got < sizeof(p->req) - 1 &&
           nr_wait_fd(p->sfd, POLLIN, PACE_MS) > 0) {
        ssize_t n = nr_read(p->sfd, p->req + got, sizeof(p->req) - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    for (size_t i = 0; i <= p->ncuts; i++) {
        size_t end = i < p->ncuts ? p->cuts[i] : p->len;
        if (nr_write_all(p->sfd, p->resp + off, end - off, PACE_MS) < 0) {
            snprintf(p->err, sizeof(p->err), "write of piece %zu failed", i);
            break;
        }
        off = end;
        if (i < p->ncuts && paced(p) < 0) {
            snprintf(p->err, sizeof(p->err), "client did not read piece %zu (bytes up to %zu)",
                     i, end);
            break;
        }
    }
    if (p->hold)
        nr_wait_fd(p->sfd, POLLIN, PACE_MS); /* until the client closes */
    close(p->sfd);
    return NULL;
}

/* The body the client delivered. */
struct body {
    uint8_t buf[RESP_MAX];
    size_t len;
};

static int keep_body(void *ctx, const uint8_t *data, size_t n)
{
    struct body *b = ctx;

    if (n > sizeof(b->buf) - b->len)
        return -1;
    memcpy(b->buf + b->len, data, n);
    b->len += n;
    return 0;
}

/* 1: the sink's head callback refuses every interim (1xx) head and takes
 * the final one; 2: it refuses every head. */
static int refuse_heads;

static int refuse_head(void *ctx, const struct hg_response *r, const uint8_t *block, size_t len)
{
    (void)ctx;
    (void)block;
    (void)len;
    return r->status < 200 || refuse_heads > 1 ? -1 : HG_HEAD_BODY;
}

/* What one response must give. */
struct want {
    int rc;                /* HG_FETCH_* */
    int status;
    const char *body;      /* NULL: not checked */
    const char *location;  /* NULL: no Location header */
};

/* Fetch over a fresh connection while the server sends resp cut at cuts.
 * Fails the test, naming `what`, when the outcome differs from w. */
static void exchange(const char *what, const uint8_t *resp, size_t len, const size_t *cuts,
                     size_t ncuts, int hold, const struct want *w)
{
    struct pace p = { .resp = resp, .len = len, .cuts = cuts, .ncuts = ncuts, .hold = hold };
    char errbuf[NR_ERRBUF_SIZE] = "";
    struct hg_url u = { .host = "127.0.0.1", .host_len = 9, .path = "/p", .path_len = 2 };
    struct hg_req req = { .url = &u, .timeout_ms = 1000, .max_header_bytes = 4096,
                          .max_headers = 20 };
    static struct body b;
    struct hg_sink sink = { .head = refuse_heads ? refuse_head : NULL, .body = keep_body,
                            .ctx = &b };
    struct hg_result res;
    struct nr_addr a;
    pthread_t th;
    int rc;

    b.len = 0;
    assert_int_equal(nr_addr_parse("127.0.0.1:0", &a, errbuf), 0);
    p.lfd = nr_bind_socket(&a, SOCK_STREAM, 1, errbuf);
    assert_true(p.lfd >= 0);
    assert_int_equal(nr_local_addr(p.lfd, &a, errbuf), 0);
    u.port = nr_addr_port((struct sockaddr *)&a.ss);
    p.cfd = nr_connect_tcp(&a, 1000, NULL, NULL, errbuf);
    assert_true(p.cfd >= 0);
    assert_int_equal(pthread_create(&th, NULL, serve, &p), 0);
    rc = hg_fetch_fd(p.cfd, &req, &sink, &res, errbuf);
    shutdown(p.cfd, SHUT_RDWR); /* ends the server's hold */
    pthread_join(th, NULL);
    close(p.cfd);
    close(p.lfd);
    if (p.err[0])
        fail_msg("%s: server: %s", what, p.err);
    if (rc != w->rc)
        fail_msg("%s: hg_fetch_fd %d (%s), want %d", what, rc, errbuf, w->rc);
    if (rc < 0 && !errbuf[0])
        fail_msg("%s: hg_fetch_fd %d with nothing in errbuf", what, rc);
    if (memcmp(p.req, "GET /p HTTP/1.1\r\n", 17) != 0)
        fail_msg("%s: request '%s'", what, p.req);
    if (w->rc != HG_FETCH_OK)
        return;
    if (res.status != w->status)
        fail_msg("%s: status %d, want %d", what, res.status, w->status);
    if (w->body && (b.len != strlen(w->body) || memcmp(b.buf, w->body, b.len) != 0))
        fail_msg("%s: body '%.*s', want '%s'", what, (int)b.len, b.buf, w->body);
    if (!w->location != !res.has_location ||
        (w->location && strcmp(res.location, w->location) != 0))
        fail_msg("%s: Location '%s', want '%s'", what, res.has_location ? res.location : "(none)",
                 w->location ? w->location : "(none)");
}

/* Send resp one byte per read and, with halves, also split in two at
 * every offset. */
static void every_split(const char *name, const uint8_t *resp, size_t len, int hold,
                        const struct want *w, int halves)
{
    static size_t cuts[RESP_MAX];
    char what[256];

    assert_true(len <= RESP_MAX);
    for (size_t k = 1; halves && k < len; k++) {
        snprintf(what, sizeof(what), "%s, split at %zu of %zu", name, k, len);
        exchange(what, resp, len, &k, 1, hold, w);
    }
    for (size_t k = 1; k < len; k++)
        cuts[k - 1] = k;
    snprintf(what, sizeof(what), "%s, one byte per read", name);
    exchange(what, resp, len, cuts, len - 1, hold, w);
}

/* Copy text into out, with the header names (from the second line to the
 * empty line, up to ':') in case `style`: 0 as written, 1 lower, 2 upper,
 * else random from seed `style`.  Returns the length. */
static size_t recase(const char *text, int style, uint8_t *out)
{
    unsigned int seed = (unsigned int)style;
    size_t n = strlen(text);
    int in_name = 0, line = 0, head = 1;

    assert_true(n <= RESP_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (i > 0 && text[i - 1] == '\n') {
            line++;
            head = head && !(c == '\r');
            in_name = head && line > 0;
        }
        if (c == ':')
            in_name = 0;
        if (in_name && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
            int up = style == 1 ? 0 : style == 2 ? 1 : style == 0 ? (c < 'a') : rand_r(&seed) & 1;
            c = (char)(up ? (c & ~0x20) : (c | 0x20));
        }
        out[i] = (uint8_t)c;
    }
    return n;
}

#define STYLES 5 /* as written, lower, upper, two random */

/* Each response in each case style one byte per read, and split in two at
 * every offset as written and in one random style. */
static void check_all_cases(const char *name, const char *text, int hold, const struct want *w)
{
    static uint8_t resp[RESP_MAX];
    char what[128];

    for (int style = 0; style < STYLES; style++) {
        size_t len = recase(text, style == 4 ? 77 : style == 3 ? 1234 : style, resp);
        snprintf(what, sizeof(what), "%s (header case style %d)", name, style);
        every_split(what, resp, len, hold, w, style == 0 || style == 3);
    }
}

static void content_length(void **state)
{
    const struct want w = { HG_FETCH_OK, 200, "hello world", NULL };

    (void)state;
    check_all_cases("Content-Length",
                    "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-Thing: v\r\n\r\nhello world", 1,
                    &w);
}

/* Chunk sizes spelled with every hex digit, lower and upper case, and a
 * leading zero; an extension and a trailer. */
static void chunked_every_hex_digit(void **state)
{
    static const char *const sizes[] = { "1", "2", "3", "4", "5", "6", "7", "8", "9", "a",
                                          "b", "c", "d", "e", "f", "A", "B", "C", "D", "E",
                                          "F", "10", "0a;ext=1" };
    static char text[RESP_MAX], body[RESP_MAX];
    size_t tl, bl = 0;
    struct want w = { HG_FETCH_OK, 200, body, NULL };

    (void)state;
    tl = (size_t)snprintf(text, sizeof(text),
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t n = strtoul(sizes[i], NULL, 16);
        tl += (size_t)snprintf(text + tl, sizeof(text) - tl, "%s\r\n", sizes[i]);
        for (size_t j = 0; j < n; j++, bl++)
            text[tl++] = body[bl] = (char)('A' + bl % 58);
        tl += (size_t)snprintf(text + tl, sizeof(text) - tl, "\r\n");
    }
    snprintf(text + tl, sizeof(text) - tl, "0\r\nTrailer-X: 1\r\n\r\n");
    body[bl] = '\0';
    assert_int_equal(bl, 45 + 2 * (10 + 11 + 12 + 13 + 14 + 15) + 16 + 10);
    /* ~400 bytes: two styles here; every style is covered by the shorter
     * responses. */
    for (int style = 0; style < 2; style++) {
        static uint8_t resp[RESP_MAX];
        char what[64];
        size_t len = recase(text, style ? 4321 : 0, resp);
        snprintf(what, sizeof(what), "chunked (header case style %d)", style);
        every_split(what, resp, len, 1, &w, 1);
    }
}

static void interim_then_final(void **state)
{
    const struct want w = { HG_FETCH_OK, 200, "ok", NULL };

    (void)state;
    check_all_cases("100 then 200", "HTTP/1.1 100 Continue\r\nX-A: 1\r\n\r\n"
                    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 1, &w);
}

static void redirect_location(void **state)
{
    const struct want w = { HG_FETCH_OK, 301, "", "/elsewhere?q=1" };

    (void)state;
    check_all_cases("301 with Location", "HTTP/1.1 301 Moved\r\nLocation: /elsewhere?q=1\r\n"
                    "Content-Length: 0\r\n\r\n", 1, &w);
}

/* An interim head the sink refuses ends the exchange with HG_FETCH_ELOCAL
 * (the caller could not store what it was given), although the final head
 * would have been taken; so does a refused final head. */
static void head_refused(void **state)
{
    static const char resp[] = "HTTP/1.1 100 Continue\r\n\r\n"
                               "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    const struct want w = { .rc = HG_FETCH_ELOCAL };

    (void)state;
    refuse_heads = 1;
    exchange("interim head refused by the sink", (const uint8_t *)resp, sizeof(resp) - 1, NULL,
             0, 0, &w);
    refuse_heads = 2;
    exchange("final head refused by the sink", (const uint8_t *)resp + 25, sizeof(resp) - 26,
             NULL, 0, 0, &w);
    refuse_heads = 0;
}

/* A peer that answers and stops reading before the request is sent: the
 * request's write fails (EPIPE), and the response it did send is still
 * read and delivered (an AF_UNIX stream pair, whose writer fails at once
 * once the reader has shut down). */
static void response_despite_failed_request(void **state)
{
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    char errbuf[NR_ERRBUF_SIZE] = "";
    struct hg_url u = { .host = "127.0.0.1", .host_len = 9, .port = 80, .path = "/p",
                        .path_len = 2 };
    struct hg_req req = { .url = &u, .timeout_ms = 1000, .max_header_bytes = 4096,
                          .max_headers = 20 };
    static struct body b;
    struct hg_sink sink = { .body = keep_body, .ctx = &b };
    struct hg_result res;
    int sv[2], rc;

    (void)state;
    b.len = 0;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(write(sv[1], resp, sizeof(resp) - 1), (ssize_t)(sizeof(resp) - 1));
    assert_int_equal(shutdown(sv[1], SHUT_RDWR), 0);
    rc = hg_fetch_fd(sv[0], &req, &sink, &res, errbuf);
    close(sv[0]);
    close(sv[1]);
    if (rc != HG_FETCH_OK)
        fail_msg("hg_fetch_fd %d (%s), want HG_FETCH_OK", rc, errbuf);
    assert_int_equal(res.status, 200);
    assert_int_equal(b.len, 2);
    assert_memory_equal(b.buf, "ok", 2);
}

/* One exchange over an AF_UNIX stream pair whose other end already holds
 * resp[0..len) and, unless close_after, stays open (so a client that does
 * not see the end of what it needs waits and times out).  Returns
 * hg_fetch_fd's result; the body is in *b. */
static int pair_fetch(const char *resp, size_t len, int close_after, const struct hg_sink *sink,
                      struct hg_result *res, char *errbuf)
{
    struct hg_url u = { .host = "127.0.0.1", .host_len = 9, .port = 80, .path = "/p",
                        .path_len = 2 };
    struct hg_req req = { .url = &u, .timeout_ms = 1000, .max_header_bytes = 256,
                          .max_headers = 4 };
    int sv[2], rc;

    errbuf[0] = '\0';
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(write(sv[1], resp, len), (ssize_t)len);
    if (close_after)
        assert_int_equal(shutdown(sv[1], SHUT_WR), 0);
    rc = hg_fetch_fd(sv[0], &req, sink, res, errbuf);
    close(sv[0]);
    close(sv[1]);
    return rc;
}

/* Heads the client must refuse at once, as malformed, naming why and
 * where, while the server keeps the connection open: a 101 (no protocol
 * switch was asked for), also after an interim 100; a malformed status
 * line; a head longer than max_header_bytes; a head cut by the close. */
static void bad_heads(void **state)
{
    static char long_head[300]; /* a head of 259 bytes: its end not within 256 */
    const struct {
        const char *resp;
        int close_after;
        const char *why;
    } cases[] = {
        { "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n"
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0,
          "unexpected 101 Switching Protocols at offset 0" },
        { "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching\r\n\r\n"
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0,
          "unexpected 101 Switching Protocols at offset 25" },
        { "HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok", 0, "bad status code at offset 10" },
        { long_head, 0, "header block longer than 256 bytes at offset 256" },
        { "HTTP/1.1 200 OK\r\nX\r\n\r\n", 1, "missing colon in header line at offset 18" },
        { "HTTP/1.1 200 OK\r\nX: 1\r\n", 1, "truncated head: connection closed at offset 23" },
        { "HTTP/1.1 100 Continue\r\n\r\n", 1, "empty reply: connection closed before the "
          "status line at offset 25" },
        { "", 1, "empty reply: connection closed before the status line at offset 0" },
        { "HTTP/1.1 200 OK\r", 1, "truncated head: connection closed at offset 16" },
    };
    char errbuf[NR_ERRBUF_SIZE];
    static struct body b;
    struct hg_sink sink = { .body = keep_body, .ctx = &b };
    struct hg_result res;

    (void)state;
    memset(long_head, 'a', 259);
    memcpy(long_head, "HTTP/1.1 200 OK\r\nX: ", 20);
    memcpy(long_head + 255, "\r\n\r\n", 4);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = pair_fetch(cases[i].resp, strlen(cases[i].resp), cases[i].close_after, &sink,
                            &res, errbuf);
        if (rc != HG_FETCH_EMALFORMED || !strstr(errbuf, cases[i].why))
            fail_msg("case %zu: hg_fetch_fd %d (%s), want %d (%s)", i, rc, errbuf,
                     HG_FETCH_EMALFORMED, cases[i].why);
    }
}

static int skip_body(void *ctx, const struct hg_response *r, const uint8_t *block, size_t len)
{
    (void)ctx;
    (void)r;
    (void)block;
    (void)len;
    return HG_HEAD_SKIP;
}

static int refuse_body(void *ctx, const uint8_t *data, size_t n)
{
    (void)ctx;
    (void)data;
    (void)n;
    return -1;
}

/* What the sink's answers do (http_client.h): a body sink that refuses
 * ends the exchange with HG_FETCH_ELOCAL ("cannot store body"); a head
 * callback's HG_HEAD_SKIP ends it at the head, unread body and all.  The
 * result holds the final status, the minor version and the body bytes
 * handed over. */
static void sink_answers_and_result(void **state)
{
    static const char resp[] = "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhel";
    char errbuf[NR_ERRBUF_SIZE];
    static struct body b;
    struct hg_sink refusing = { .body = refuse_body }, skipping = { .head = skip_body },
                   keeping = { .body = keep_body, .ctx = &b };
    struct hg_result res;
    int rc;

    (void)state;
    rc = pair_fetch(resp, sizeof(resp) - 1, 1, &refusing, &res, errbuf);
    if (rc != HG_FETCH_ELOCAL || !strstr(errbuf, "cannot store body"))
        fail_msg("refusing body sink: %d (%s)", rc, errbuf);
    rc = pair_fetch(resp, sizeof(resp) - 1, 0, &skipping, &res, errbuf);
    if (rc != HG_FETCH_OK || res.status != 200 || res.minor != 0 || res.body_bytes != 0)
        fail_msg("skipped body: %d (%s), status %d minor %d, %llu body bytes", rc, errbuf,
                 res.status, res.minor, (unsigned long long)res.body_bytes);
    b.len = 0;
    rc = pair_fetch("HTTP/1.1 201 OK\r\nContent-Length: 5\r\n\r\nhello", 43, 0, &keeping,
                    &res, errbuf);
    if (rc != HG_FETCH_OK || res.status != 201 || res.minor != 1 || res.body_bytes != 5 ||
        b.len != 5)
        fail_msg("kept body: %d (%s), status %d minor %d, %llu body bytes", rc, errbuf,
                 res.status, res.minor, (unsigned long long)res.body_bytes);
    b.len = 0;
    rc = pair_fetch(resp, sizeof(resp) - 1, 1, &keeping, &res, errbuf);
    if (rc != HG_FETCH_EMALFORMED || res.body_bytes != 3 || !strstr(errbuf, "after 3 of 5"))
        fail_msg("cut body: %d (%s), %llu body bytes", rc, errbuf,
                 (unsigned long long)res.body_bytes);
}

/* A peer that has shut down before the request, with nothing sent: the
 * request's failure is the error (HG_FETCH_ENET naming the send and
 * EPIPE), not an empty reply. */
static void request_failed_and_no_reply(void **state)
{
    char errbuf[NR_ERRBUF_SIZE] = "";
    struct hg_url u = { .host = "127.0.0.1", .host_len = 9, .port = 80, .path = "/p",
                        .path_len = 2 };
    struct hg_req req = { .url = &u, .timeout_ms = 1000, .max_header_bytes = 4096,
                          .max_headers = 20 };
    struct hg_sink sink = { 0 };
    struct hg_result res;
    int sv[2], rc;

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(shutdown(sv[1], SHUT_RDWR), 0);
    rc = hg_fetch_fd(sv[0], &req, &sink, &res, errbuf);
    close(sv[0]);
    close(sv[1]);
    if (rc != HG_FETCH_ENET || !strstr(errbuf, "sending the request") ||
        !strstr(errbuf, strerror(EPIPE)))
        fail_msg("hg_fetch_fd %d (%s), want HG_FETCH_ENET naming the request's EPIPE", rc,
                 errbuf);
}

/* A peer that never reads, with the client's send queue already full:
 * the request makes no progress for timeout_ms, and that is the error
 * (HG_FETCH_ETIMEOUT naming the request), without waiting for a reply. */
static void request_stalls(void **state)
{
    char errbuf[NR_ERRBUF_SIZE] = "", junk[4096] = { 0 };
    struct hg_url u = { .host = "127.0.0.1", .host_len = 9, .port = 80, .path = "/p",
                        .path_len = 2 };
    struct hg_req req = { .url = &u, .timeout_ms = 100, .max_header_bytes = 4096,
                          .max_headers = 20 };
    struct hg_sink sink = { 0 };
    struct hg_result res;
    int sv[2], rc;

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    while (send(sv[0], junk, sizeof(junk), MSG_NOSIGNAL) > 0)
        ;
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    rc = hg_fetch_fd(sv[0], &req, &sink, &res, errbuf);
    close(sv[0]);
    close(sv[1]);
    if (rc != HG_FETCH_ETIMEOUT || !strstr(errbuf, "no progress sending the request for 100 ms"))
        fail_msg("hg_fetch_fd %d (%s), want HG_FETCH_ETIMEOUT naming the request", rc, errbuf);
}

static void until_close(void **state)
{
    const struct want w = { HG_FETCH_OK, 200, "body until close", NULL };

    (void)state;
    check_all_cases("until close", "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody until close", 0, &w);
}

/* Content-Length and chunked bodies that end early: truncated, at every
 * split (the client must not take the close for the end of the body). */
static void truncated_bodies(void **state)
{
    const struct want w = { HG_FETCH_EMALFORMED, 0, NULL, NULL };

    (void)state;
    check_all_cases("short Content-Length",
                    "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nhello world", 0, &w);
    check_all_cases("chunked without last chunk",
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", 0, &w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(content_length),
        cmocka_unit_test(chunked_every_hex_digit),
        cmocka_unit_test(interim_then_final),
        cmocka_unit_test(redirect_location),
        cmocka_unit_test(head_refused),
        cmocka_unit_test(until_close),
        cmocka_unit_test(response_despite_failed_request),
        cmocka_unit_test(truncated_bodies),
        cmocka_unit_test(bad_heads),
        cmocka_unit_test(request_failed_and_no_reply),
        cmocka_unit_test(request_stalls),
        cmocka_unit_test(sink_answers_and_result),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
