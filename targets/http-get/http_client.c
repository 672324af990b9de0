/* http_client.c - one GET exchange over a connected fd (see http_client.h). */
#include "http_client.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nr_net.h"

#define READ_CHUNK 16384

/* Everything one exchange needs besides the caller's arguments. */
struct xfer {
    int fd;
    const struct hg_req *req;
    const struct hg_sink *sink;
    struct hg_result *res;
    char *errbuf;
    int write_err;          /* errno of a failed request write, or 0 */
    uint8_t *hbuf;          /* head buffer, max_header_bytes */
    size_t have;            /* bytes in hbuf */
    uint64_t base;          /* stream offset of hbuf[0] */
    struct hg_header *hdrs; /* max_headers slots */
    struct hg_response resp;
};

/* Send the request line and headers. */
static int send_request(struct xfer *x)
{
    const struct hg_url *u = x->req->url;
    char host[HG_URL_MAX], req[HG_URL_MAX * 2 + 256];
    int n, r;

    n = hg_url_host_header(u, host, sizeof(host));
    if (n >= 0)
        n = snprintf(req, sizeof(req),
                 "GET %s%.*s HTTP/1.1\r\nHost: %s\r\nUser-Agent: " HG_USER_AGENT
                 "\r\nAccept: */*\r\nConnection: close\r\n\r\n",
                 u->path[0] == '?' ? "/" : "", (int)u->path_len, u->path, host);
    if (n < 0 || (size_t)n >= sizeof(req)) {
        nr_seterr(x->errbuf, "request too long");
        return HG_FETCH_ELOCAL;
    }
    r = nr_write_all(x->fd, req, (size_t)n, x->req->timeout_ms);
    if (r == -ETIMEDOUT) {
        nr_seterr(x->errbuf, "no progress sending the request for %d ms", x->req->timeout_ms);
        return HG_FETCH_ETIMEOUT;
    }
    /* A peer that closed early may still have sent a response: read it. */
    x->write_err = -r;
    return HG_FETCH_OK;
}

/* Read once into buf[cap], waiting at most one timeout.  Returns bytes
 * read (0 at EOF) or a negative HG_FETCH_E*. */
static long read_some(struct xfer *x, uint8_t *buf, size_t cap)
{
    int r = nr_wait_fd(x->fd, POLLIN, x->req->timeout_ms);
    ssize_t n;

    if (r == 0) {
        nr_seterr(x->errbuf, "no data for %d ms", x->req->timeout_ms);
        return HG_FETCH_ETIMEOUT;
    }
    if (r < 0) {
        nr_seterr_errno(x->errbuf, -r, "poll");
        return HG_FETCH_ENET;
    }
    n = nr_read(x->fd, buf, cap);
    if (n < 0) {
        nr_seterr_errno(x->errbuf, (int)-n, "read");
        return HG_FETCH_ENET;
    }
    if (n == 0 && x->base == 0 && x->have == 0 && x->write_err) {
        nr_seterr_errno(x->errbuf, x->write_err, "sending the request");
        return HG_FETCH_ENET;
    }
    return (long)n;
}

/* Record the final head in the result. */
static void keep_head(struct xfer *x)
{
    const struct hg_header *loc = hg_resp_header(&x->resp, "location");

    x->res->status = x->resp.status;
    x->res->minor = x->resp.minor;
    if (!loc)
        return;
    x->res->has_location = 1;
    x->res->location_len = loc->value_len;
    if (loc->value_len <= HG_URL_MAX) {
        memcpy(x->res->location, loc->value, loc->value_len);
        x->res->location[loc->value_len] = '\0';
    }
}

/* Read until a final (non-1xx) head is parsed.  Returns its length in hbuf
 * or a negative HG_FETCH_E*. */
static long read_head(struct xfer *x)
{
    int parse = 0;
    long rc, n;

    for (;;) {
        if (parse) {
            rc = hg_resp_parse(x->hbuf, x->have, &x->resp, x->errbuf);
            if (rc == HG_RESP_MALFORMED)
                return HG_FETCH_EMALFORMED;
            if (rc > 0 && x->resp.status == 101) {
                nr_seterr(x->errbuf, "unexpected 101 Switching Protocols at offset %" PRIu64,
                          x->base);
                return HG_FETCH_EMALFORMED;
            }
            if (rc > 0 && x->resp.status >= 200)
                return rc;
            if (rc > 0 && x->sink->head &&
                x->sink->head(x->sink->ctx, &x->resp, x->hbuf, (size_t)rc) < 0) {
                nr_seterr(x->errbuf, "the head sink refused the %d head", x->resp.status);
                return HG_FETCH_ELOCAL;
            }
            if (rc > 0) { /* interim 1xx: drop it and parse what follows */
                memmove(x->hbuf, x->hbuf + rc, x->have - (size_t)rc);
                x->have -= (size_t)rc;
                x->base += (uint64_t)rc;
                continue;
            }
        }
#ifdef NETRIG_PLANT_BUG_HTTP_HEAD_BYTES_OFF_BY_ONE
        /* Planted for fuzz/selftest.sh only: a head that fills the buffer
         * is read one byte past it. */
        n = read_some(x, x->hbuf + x->have, x->req->max_header_bytes - x->have + 1);
#else
        n = read_some(x, x->hbuf + x->have, x->req->max_header_bytes - x->have);
#endif
        if (n < 0)
            return n;
        if (n == 0) {
            if (x->have > 0 &&
                hg_resp_parse(x->hbuf, x->have, &x->resp, x->errbuf) == HG_RESP_MALFORMED)
                return HG_FETCH_EMALFORMED;
            if (x->have == 0)
                nr_seterr(x->errbuf, "empty reply: connection closed before the status "
                          "line at offset %" PRIu64, x->base);
            else
                nr_seterr(x->errbuf, "truncated head: connection closed at offset %" PRIu64,
                          x->base + x->have);
            return HG_FETCH_EMALFORMED;
        }
        /* Re-parse only when a line may have ended or the buffer is full,
         * so a trickling server costs O(lines), not O(bytes), parses. */
        parse = memchr(x->hbuf + x->have, '\n', (size_t)n) != NULL ||
                x->have + (size_t)n == x->req->max_header_bytes;
        x->have += (size_t)n;
    }
}

static int body_error(int rc)
{
    if (rc == HG_BODY_ESINK)
        return HG_FETCH_ELOCAL;
    return HG_FETCH_EMALFORMED;
}

/* Decode the body: first what followed the head in hbuf, then reads. */
static int read_body(struct xfer *x, size_t head_len)
{
    uint8_t buf[READ_CHUNK];
    struct hg_body b;
    int rc;
    long n;

    hg_body_init(&b, x->resp.framing, x->resp.content_length, x->base + head_len,
                 x->req->max_body, x->sink->body, x->sink->ctx);
    rc = hg_body_feed(&b, x->hbuf + head_len, x->have - head_len, NULL, x->errbuf);
    while (rc == HG_BODY_MORE) {
        n = read_some(x, buf, sizeof(buf));
        if (n < 0)
            return (int)n;
        rc = n == 0 ? hg_body_eof(&b, x->errbuf)
                    : hg_body_feed(&b, buf, (size_t)n, NULL, x->errbuf);
    }
    x->res->body_bytes = b.out;
    return rc == HG_BODY_DONE ? HG_FETCH_OK : body_error(rc);
}

int hg_fetch_fd(int fd, const struct hg_req *req, const struct hg_sink *sink,
                struct hg_result *res, char *errbuf)
{
    struct xfer x = { .fd = fd, .req = req, .sink = sink, .res = res, .errbuf = errbuf };
    long head;
    int rc;

    memset(res, 0, sizeof(*res));
    x.hbuf = malloc(req->max_header_bytes ? req->max_header_bytes : 1);
    x.hdrs = calloc(req->max_headers ? req->max_headers : 1, sizeof(*x.hdrs));
    if (!x.hbuf || !x.hdrs) {
        nr_seterr(errbuf, "out of memory");
        rc = HG_FETCH_ELOCAL;
        goto out;
    }
    x.resp.headers = x.hdrs;
    x.resp.max_headers = req->max_headers;
    x.resp.max_bytes = req->max_header_bytes;
    rc = send_request(&x);
    if (rc < 0)
        goto out;
    head = read_head(&x);
    if (head < 0) {
        rc = (int)head;
        goto out;
    }
    keep_head(&x);
    rc = sink->head ? sink->head(sink->ctx, &x.resp, x.hbuf, (size_t)head) : HG_HEAD_BODY;
    if (rc < 0) {
        nr_seterr(x.errbuf, "the head sink refused the %d head", x.resp.status);
        rc = HG_FETCH_ELOCAL;
        goto out;
    }
    rc = rc == HG_HEAD_SKIP ? HG_FETCH_OK : read_body(&x, (size_t)head);
out:
    free(x.hbuf);
    free(x.hdrs);
    return rc;
}
