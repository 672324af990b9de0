/* http_response.h - incremental parser of an HTTP/1.x response head (status
 * line and header fields), picohttpparser style: call it again with the
 * whole buffer whenever more bytes have arrived.  Results are views into the
 * caller's buffer; nothing is copied or allocated.
 *
 * Strictness (documented in targets/http-get/README.md): lines end in CRLF
 * only (a bare LF or bare CR is malformed); the status line is exactly
 * "HTTP/1.<digit> SP 3DIGIT SP reason"; header names are tokens followed
 * directly by ':'; obs-fold and control characters are rejected; the only
 * accepted transfer coding is a single "chunked"; Content-Length is digits
 * only, at most 2^63-1, and repeated values must agree; a response with both
 * Transfer-Encoding and Content-Length is rejected (smuggling signal). */
#ifndef HG_HTTP_RESPONSE_H
#define HG_HTTP_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#define HG_MAX_HEADER_BYTES_DEFAULT (64 * 1024)
#define HG_MAX_HEADERS_DEFAULT 100

/* Parser results besides a header-block length. */
#define HG_RESP_INCOMPLETE (-2) /* more bytes needed */
#define HG_RESP_MALFORMED (-1)  /* errbuf and err_off say what and where */

/* How the body of a response is delimited. */
enum hg_framing {
    HG_BODY_NONE,    /* 1xx, 204, 304: no body */
    HG_BODY_LENGTH,  /* Content-Length bytes */
    HG_BODY_CHUNKED, /* chunked transfer coding */
    HG_BODY_CLOSE,   /* read until the server closes */
};

/* One header field: views into the parsed buffer (value without OWS). */
struct hg_header {
    const uint8_t *name;
    size_t name_len;
    const uint8_t *value;
    size_t value_len;
};

/* A parsed response head.  headers/max_headers are supplied by the caller
 * (the array is filled, not allocated); everything else is output. */
struct hg_response {
    struct hg_header *headers; /* caller's array of max_headers entries */
    size_t max_headers;        /* capacity of headers: more is malformed */
    size_t max_bytes;          /* longest accepted header block */

    int minor;                 /* HTTP/1.<minor> */
    int status;                /* 100..999 */
    const uint8_t *reason;     /* reason phrase view (may be empty) */
    size_t reason_len;
    size_t nheaders;
    enum hg_framing framing;
    uint64_t content_length;   /* valid for HG_BODY_LENGTH */
    size_t err_off;            /* byte offset of the problem when malformed */
};

/* Parse the response head at buf[0..len).  Returns the length of the head
 * including its terminating empty line when complete, HG_RESP_INCOMPLETE
 * when more bytes are needed, or HG_RESP_MALFORMED with a one-line reason in
 * errbuf (NR_ERRBUF_SIZE, may be NULL) and the offset in r->err_off.  A head
 * not complete within r->max_bytes is malformed.  Views in *r point into
 * buf and live as long as it does.  Every output field is reset first
 * (numbers 0, reason NULL, framing HG_BODY_CLOSE), so what a failed or
 * incomplete parse did not reach never shows an earlier call's values. */
long hg_resp_parse(const uint8_t *buf, size_t len, struct hg_response *r, char *errbuf);

/* First header named name (ASCII case-insensitive), or NULL. */
const struct hg_header *hg_resp_header(const struct hg_response *r, const char *name);

#endif
