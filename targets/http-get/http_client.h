/* http_client.h - one HTTP/1.1 GET exchange over an already-connected
 * descriptor: write the request, read and parse the response head, decode
 * the body into a sink.  No globals, no exit(), bounded memory (one header
 * buffer of max_header_bytes plus a fixed read buffer; the body is
 * streamed), every wait bounded by timeout_ms.  A fuzz harness can call
 * hg_fetch_fd on one end of a socketpair whose other end holds the input. */
#ifndef HG_HTTP_CLIENT_H
#define HG_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "http_body.h"
#include "http_response.h"
#include "http_url.h"

#define HG_USER_AGENT "netrig-http-get/1"

/* Results of hg_fetch_fd. */
#define HG_FETCH_OK 0
#define HG_FETCH_ENET (-1)       /* read/write error, connection reset */
#define HG_FETCH_ETIMEOUT (-2)   /* no progress for timeout_ms */
#define HG_FETCH_EMALFORMED (-3) /* malformed, truncated, or over a limit */
#define HG_FETCH_ELOCAL (-4)     /* a sink callback failed, or out of memory */

/* What hg_fetch_fd's head callback returns. */
#define HG_HEAD_BODY 0 /* read the body into the body sink */
#define HG_HEAD_SKIP 1 /* do not read the body: the exchange is done */

struct hg_req {
    const struct hg_url *url;
    int timeout_ms;          /* per stall of a read or write (<0: none) */
    size_t max_header_bytes; /* longest response head */
    size_t max_headers;      /* most header fields */
    uint64_t max_body;       /* longest body, 0: unlimited */
};

/* Called for every response head (interim 1xx ones too) with the parsed
 * head and its raw bytes block[0..len) (CRLF lines, ending in an empty
 * line); views are valid only during the call.  Returns HG_HEAD_BODY or
 * HG_HEAD_SKIP (ignored for 1xx heads), or negative to abort with
 * HG_FETCH_ELOCAL. */
typedef int (*hg_head_fn)(void *ctx, const struct hg_response *r, const uint8_t *block,
                          size_t len);

struct hg_sink {
    hg_head_fn head;  /* may be NULL: always read the body */
    hg_sink_fn body;  /* may be NULL: discard the body */
    void *ctx;
};

struct hg_result {
    int status;                  /* final status code, 0 if none was parsed */
    int minor;
    uint64_t body_bytes;         /* body bytes handed to the sink */
    int has_location;            /* a Location header was present */
    size_t location_len;         /* its length (may exceed HG_URL_MAX) */
    char location[HG_URL_MAX + 1]; /* its value when it fits, else "" */
};

/* Perform one GET of req->url over fd (not closed here).  Returns
 * HG_FETCH_OK when a complete response was read (whatever its status; see
 * res->status), or a negative HG_FETCH_E* with one line in errbuf
 * (NR_ERRBUF_SIZE) saying what went wrong and where.  The caller owns res. */
int hg_fetch_fd(int fd, const struct hg_req *req, const struct hg_sink *sink,
                struct hg_result *res, char *errbuf);

#endif
