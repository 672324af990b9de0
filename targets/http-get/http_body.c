/* http_body.c - body framing decoder (see http_body.h). */
#include "http_body.h"

#include <inttypes.h>
#include <string.h>

#include "nr_cursor.h"
#include "nr_err.h"

enum {
    ST_DONE,
    ST_DATA,      /* body or chunk data: remaining bytes to pass on */
    ST_SIZE,      /* first hex digit of a chunk size */
    ST_SIZE_HEX,  /* further hex digits */
    ST_SIZE_WS,   /* whitespace after the size */
    ST_EXT,       /* chunk extension, skipped up to CR */
    ST_SIZE_LF,   /* LF ending the chunk-size line */
    ST_DATA_CR,   /* CR after chunk data */
    ST_DATA_LF,   /* LF after chunk data */
    ST_TR_START,  /* start of a trailer line, or CR of the final CRLF */
    ST_TR_NAME,   /* trailer field name */
    ST_TR_VALUE,  /* trailer field value */
    ST_TR_LF,     /* LF ending a trailer line */
    ST_FINAL_LF,  /* LF of the final CRLF */
};

void hg_body_init(struct hg_body *b, enum hg_framing framing, uint64_t content_length,
                  uint64_t base_off, uint64_t max_body, hg_sink_fn sink, void *ctx)
{
    b->framing = framing;
    b->remaining = content_length;
    b->off = base_off;
    b->out = 0;
    b->max_body = max_body;
    b->line = 0;
    b->sink = sink;
    b->ctx = ctx;
    if (framing == HG_BODY_CHUNKED)
        b->state = ST_SIZE;
    else if (framing == HG_BODY_CLOSE || (framing == HG_BODY_LENGTH && content_length > 0))
        b->state = ST_DATA;
    else
        b->state = ST_DONE;
}

static int hexval(uint8_t ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static int is_tchar(uint8_t ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

static int bad(uint64_t off, char *errbuf, const char *what)
{
    nr_seterr(errbuf, "%s at offset %" PRIu64, what, off);
    return HG_BODY_EMALFORMED;
}

/* Pass up to the remaining data bytes at the cursor to the sink. */
static int step_data(struct hg_body *b, struct nr_cursor *c, char *errbuf)
{
    size_t n = nr_cur_left(c);
    const uint8_t *p;

    if (b->framing != HG_BODY_CLOSE && n > b->remaining)
        n = (size_t)b->remaining;
    if (b->max_body && n > b->max_body - b->out) {
        nr_seterr(errbuf, "body longer than --max-body %" PRIu64 " bytes", b->max_body);
        return HG_BODY_ETOOBIG;
    }
    nr_cur_bytes(c, n, &p);
    if (b->sink && b->sink(b->ctx, p, n) < 0) {
        nr_seterr(errbuf, "cannot store body");
        return HG_BODY_ESINK;
    }
    b->out += n;
    if (b->framing == HG_BODY_CLOSE)
        return 0;
    b->remaining -= n;
    if (b->remaining == 0)
        b->state = b->framing == HG_BODY_CHUNKED ? ST_DATA_CR : ST_DONE;
    return 0;
}

/* The chunk-size line: size, optional whitespace and extensions, CRLF. */
static int step_size(struct hg_body *b, uint8_t ch, uint64_t off, char *errbuf)
{
    int v = hexval(ch);

    if (++b->line > HG_CHUNK_LINE_MAX)
        return bad(off, errbuf, "chunk size line too long");
    switch (b->state) {
    case ST_SIZE:
    case ST_SIZE_HEX:
        if (v >= 0) {
#ifdef NETRIG_PLANT_BUG_HTTP_CHUNK_OFF_BY_ONE
            /* planted bug for the fuzzing self-test: the bound is one too high, so
             * the signed multiplication overflows for sizes from 2^59 on */
            if (b->remaining > ((uint64_t)INT64_MAX >> 4) + 1)
                return bad(off, errbuf, "chunk size overflow");
            b->remaining = (uint64_t)((int64_t)b->remaining * 16 + v);
#else
            if (b->remaining > (uint64_t)INT64_MAX >> 4)
                return bad(off, errbuf, "chunk size overflow");
            b->remaining = b->remaining << 4 | (uint64_t)v;
#endif
            b->state = ST_SIZE_HEX;
            return 0;
        }
        if (b->state == ST_SIZE)
            return bad(off, errbuf, "bad chunk size");
        __attribute__((fallthrough)); /* the size is complete */
    case ST_SIZE_WS:
        if (ch == ' ' || ch == '\t')
            b->state = ST_SIZE_WS;
        else if (ch == ';')
            b->state = ST_EXT;
        else if (ch == '\r')
            b->state = ST_SIZE_LF;
        else
            return bad(off, errbuf, "bad chunk size");
        return 0;
    case ST_EXT:
        if (ch == '\r')
            b->state = ST_SIZE_LF;
        else if (ch != '\t' && (ch < 0x20 || ch == 0x7f))
            return bad(off, errbuf, "control character in chunk extension");
        return 0;
    default: /* ST_SIZE_LF */
        if (ch != '\n')
            return bad(off, errbuf, "expected LF after chunk size");
        b->line = 0;
        b->state = b->remaining ? ST_DATA : ST_TR_START;
        return 0;
    }
}

/* Trailer fields after the last chunk, and the final CRLF. */
static int step_trailer(struct hg_body *b, uint8_t ch, uint64_t off, char *errbuf)
{
    if (++b->line > HG_TRAILER_MAX)
        return bad(off, errbuf, "trailer section too long");
    switch (b->state) {
    case ST_TR_START:
        if (ch == '\r')
            b->state = ST_FINAL_LF;
        else if (is_tchar(ch))
            b->state = ST_TR_NAME;
        else
            return bad(off, errbuf, "bad trailer field");
        return 0;
    case ST_TR_NAME:
        if (ch == ':')
            b->state = ST_TR_VALUE;
        else if (!is_tchar(ch))
            return bad(off, errbuf, "bad trailer field name");
        return 0;
    case ST_TR_VALUE:
        if (ch == '\r')
            b->state = ST_TR_LF;
        else if (ch != '\t' && (ch < 0x20 || ch == 0x7f))
            return bad(off, errbuf, "control character in trailer");
        return 0;
    case ST_TR_LF:
        if (ch != '\n')
            return bad(off, errbuf, "bare CR in trailer");
        b->state = ST_TR_START;
        return 0;
    default: /* ST_FINAL_LF */
        if (ch != '\n')
            return bad(off, errbuf, "expected LF after last chunk");
        b->state = ST_DONE;
        return 0;
    }
}

/* One framing byte of a chunked body. */
static int step_byte(struct hg_body *b, struct nr_cursor *c, char *errbuf)
{
    uint64_t off = b->off + c->off;
    uint8_t ch;

    nr_cur_u8(c, &ch);
    switch (b->state) {
    case ST_DATA_CR:
        if (ch != '\r')
            return bad(off, errbuf, "missing CRLF after chunk data");
        b->state = ST_DATA_LF;
        return 0;
    case ST_DATA_LF:
        if (ch != '\n')
            return bad(off, errbuf, "missing CRLF after chunk data");
        b->state = ST_SIZE;
        b->line = 0;
        b->remaining = 0;
        return 0;
    case ST_SIZE:
    case ST_SIZE_HEX:
    case ST_SIZE_WS:
    case ST_EXT:
    case ST_SIZE_LF:
        return step_size(b, ch, off, errbuf);
    default:
        return step_trailer(b, ch, off, errbuf);
    }
}

int hg_body_feed(struct hg_body *b, const uint8_t *buf, size_t len, size_t *used, char *errbuf)
{
    struct nr_cursor c;
    int rc = 0;

    nr_cur_init(&c, buf, len);
    while (b->state != ST_DONE && nr_cur_left(&c) > 0) {
        rc = b->state == ST_DATA ? step_data(b, &c, errbuf) : step_byte(b, &c, errbuf);
        if (rc < 0)
            break;
    }
    b->off += c.off;
    if (used)
        *used = c.off;
    if (rc < 0)
        return rc;
    return b->state == ST_DONE ? HG_BODY_DONE : HG_BODY_MORE;
}

int hg_body_eof(struct hg_body *b, char *errbuf)
{
    if (b->state == ST_DONE || b->framing == HG_BODY_CLOSE) {
        b->state = ST_DONE;
        return HG_BODY_DONE;
    }
    if (b->framing == HG_BODY_LENGTH)
        nr_seterr(errbuf, "truncated body: connection closed after %" PRIu64 " of %" PRIu64
                  " bytes (offset %" PRIu64 ")", b->out, b->out + b->remaining, b->off);
    else
        nr_seterr(errbuf, "truncated chunked body: connection closed at offset %" PRIu64,
                  b->off);
    return HG_BODY_ETRUNC;
}
