/* http_body.h - incremental decoder of an HTTP/1.1 message body's framing:
 * Content-Length, chunked transfer coding (extensions skipped, trailers
 * checked and discarded) or read-until-close.  Feed it bytes split anywhere;
 * it hands the decoded body bytes to a sink callback and never buffers. */
#ifndef HG_HTTP_BODY_H
#define HG_HTTP_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "http_response.h"

/* Longest chunk-size line (with extensions) and trailer section accepted. */
#define HG_CHUNK_LINE_MAX 4096
#define HG_TRAILER_MAX (64 * 1024)

/* Results of hg_body_feed / hg_body_eof. */
#define HG_BODY_MORE 0         /* all input consumed, body not complete yet */
#define HG_BODY_DONE 1         /* body complete */
#define HG_BODY_EMALFORMED (-1) /* framing error: errbuf says what and where */
#define HG_BODY_ESINK (-2)     /* the sink returned an error */
#define HG_BODY_ETOOBIG (-3)   /* body longer than max_body */
#define HG_BODY_ETRUNC (-4)    /* EOF before the body was complete */

/* Receives decoded body bytes; returns 0, or negative to stop decoding. */
typedef int (*hg_sink_fn)(void *ctx, const uint8_t *p, size_t n);

struct hg_body {
    enum hg_framing framing;
    int state;            /* decoder state (private) */
    uint64_t remaining;   /* bytes left of the body (length) or chunk */
    uint64_t off;         /* stream offset of the next input byte */
    uint64_t out;         /* body bytes delivered so far */
    uint64_t max_body;    /* 0: unlimited */
    size_t line;          /* bytes of the current chunk-size line / trailers */
    hg_sink_fn sink;
    void *ctx;
};

/* Start decoding a body with the given framing; content_length is used for
 * HG_BODY_LENGTH.  base_off is the stream offset of the first body byte (the
 * header-block length), so errors name offsets in the whole response. */
void hg_body_init(struct hg_body *b, enum hg_framing framing, uint64_t content_length,
                  uint64_t base_off, uint64_t max_body, hg_sink_fn sink, void *ctx);

/* Feed buf[0..len).  Returns HG_BODY_MORE (all consumed), HG_BODY_DONE (the
 * body ended; *used says how many bytes belonged to it), or a negative
 * HG_BODY_E* with a reason in errbuf (NR_ERRBUF_SIZE, may be NULL). */
int hg_body_feed(struct hg_body *b, const uint8_t *buf, size_t len, size_t *used, char *errbuf);

/* The connection was closed.  Returns HG_BODY_DONE when the body is
 * complete (always for until-close framing), else HG_BODY_ETRUNC with a
 * reason in errbuf. */
int hg_body_eof(struct hg_body *b, char *errbuf);

#endif
