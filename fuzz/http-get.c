/* http-get.c - fuzz harness for http-get's whole response path: the input
 * is what the server answers.  It is queued on one end of a stream
 * socketpair, followed by EOF, and hg_fetch_fd performs a real GET on the
 * other end: request write, head parsing (interim 1xx heads too), body
 * framing (Content-Length, chunked, until close) and a Location header
 * resolved and re-parsed as a redirect would be.
 *
 * Options (fz_opts.h; the options record precedes the response): [u8 most
 * header fields, 1-255, default 64][u16 longest head, 1-65535, default
 * 8192][u16 longest body, 1-65535, default 65536].  Small limits put every
 * bound (header count, head bytes, body bytes) a few mutations away.
 *
 * Oracle: the body bytes the sink saw equal res->body_bytes, and never
 * exceed the body limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http-get/http_client.h"
#include "lib/fz_opts.h"
#include "nr_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HG_FUZZ_MAX_IN (96 * 1024) /* queued response bytes (fits a socketpair) */
#define HG_FUZZ_MAX_BODY (64 * 1024)

static int count_body(void *ctx, const uint8_t *p, size_t n)
{
    uint64_t *seen = ctx;

    (void)p;
    *seen += n;
    return 0;
}

static void follow_location(const struct hg_url *base, const struct hg_result *res)
{
    char target[HG_URL_MAX + 1], errbuf[NR_ERRBUF_SIZE];
    struct hg_url u;

    if (!res->has_location || res->location_len > HG_URL_MAX)
        return;
    if (hg_url_resolve(base, (const uint8_t *)res->location, strlen(res->location), target,
                       sizeof(target), errbuf) == 0)
        hg_url_parse((const uint8_t *)target, strlen(target), &u, errbuf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char base[] = "http://fuzz.example:8080/a/b?q=1";
    char errbuf[NR_ERRBUF_SIZE];
    struct hg_url url;
    struct hg_req req = { .url = &url, .timeout_ms = 1000 };
    struct fz_opts o;
    uint64_t seen = 0;
    struct hg_sink sink = { .body = count_body, .ctx = &seen };
    static struct hg_result res;
    int sv[2];

    fz_opts_take(&o, &data, &size);
    req.max_headers = fz_opt_u8(&o, 64, 1, 255);
    req.max_header_bytes = fz_opt_u16(&o, 8192, 1, 65535);
    req.max_body = fz_opt_u16(&o, HG_FUZZ_MAX_BODY, 1, 65535);
    if (hg_url_parse((const uint8_t *)base, sizeof(base) - 1, &url, errbuf) < 0)
        abort();
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return 0;
    if (size > HG_FUZZ_MAX_IN)
        size = HG_FUZZ_MAX_IN;
    nr_set_nonblock(sv[1], 1);
    if (nr_write_all(sv[1], data, size, 0) == 0 && shutdown(sv[1], SHUT_WR) == 0) {
        memset(&res, 0, sizeof(res));
        hg_fetch_fd(sv[0], &req, &sink, &res, errbuf);
        if (seen != res.body_bytes || seen > req.max_body) {
            fprintf(stderr, "http-get: sink saw %llu body bytes, result says %llu\n",
                    (unsigned long long)seen, (unsigned long long)res.body_bytes);
            abort();
        }
        follow_location(&url, &res);
    }
    close(sv[0]);
    close(sv[1]);
    return 0;
}
