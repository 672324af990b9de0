/* http_response.c - HTTP/1.x response head parser (see http_response.h). */
#include "http_response.h"

#include <string.h>

#include "nr_cursor.h"
#include "nr_err.h"

#define CL_MAX INT64_MAX

/* RFC 9110 tchar: the characters of a token (header names, codings). */
static int is_tchar(uint8_t ch)
{
    if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
        return 1;
    return ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/* Field-value and reason-phrase characters: HTAB, SP, VCHAR, obs-text. */
static int is_text(uint8_t ch)
{
    return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

static int lower(int ch)
{
    return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

/* Case-insensitive comparison of a view with a C string. */
static int view_is(const uint8_t *p, size_t n, const char *s)
{
    if (strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower(p[i]) != lower((uint8_t)s[i]))
            return 0;
    return 1;
}

static int fail(struct hg_response *r, size_t off, char *errbuf, const char *what)
{
    r->err_off = off;
    nr_seterr(errbuf, "%s at offset %zu", what, off);
    return HG_RESP_MALFORMED;
}

/* Take the next CRLF-terminated line from c as a sub-cursor (without the
 * CRLF).  Returns 0, HG_RESP_INCOMPLETE, or HG_RESP_MALFORMED on a bare
 * CR or LF. */
static int next_line(struct nr_cursor *c, struct nr_cursor *line, struct hg_response *r,
                     char *errbuf)
{
    const uint8_t *p = nr_cur_ptr(c);
    size_t left = nr_cur_left(c), base = c->off;

    for (size_t i = 0; i < left; i++) {
        if (p[i] == '\n')
            return fail(r, base + i, errbuf, "bare LF (line not ended by CRLF)");
        if (p[i] != '\r')
            continue;
        if (i + 1 == left)
            return HG_RESP_INCOMPLETE;
        if (p[i + 1] != '\n')
            return fail(r, base + i, errbuf, "bare CR");
        nr_cur_sub(c, i, line);
        nr_cur_skip(c, 2);
        return 0;
    }
    return HG_RESP_INCOMPLETE;
}

/* "HTTP/1.x SP 3DIGIT SP reason"; base is the line's offset in the buffer. */
static int parse_status(struct nr_cursor *l, size_t base, struct hg_response *r, char *errbuf)
{
    const uint8_t *p;
    uint8_t d[3];

    if (nr_cur_bytes(l, 7, &p) < 0 || memcmp(p, "HTTP/1.", 7) != 0)
        return fail(r, base, errbuf, "bad status line: expected 'HTTP/1.'");
    if (nr_cur_u8(l, &d[0]) < 0 || d[0] < '0' || d[0] > '9')
        return fail(r, base + 7, errbuf, "bad status line: bad HTTP minor version");
    r->minor = d[0] - '0';
    if (nr_cur_u8(l, &d[0]) < 0 || d[0] != ' ')
        return fail(r, base + 8, errbuf, "bad status line: expected SP after version");
    if (nr_cur_u8(l, &d[0]) < 0 || nr_cur_u8(l, &d[1]) < 0 || nr_cur_u8(l, &d[2]) < 0)
        return fail(r, base + 9, errbuf, "bad status line: short status code");
    for (int i = 0; i < 3; i++)
        if (d[i] < '0' || d[i] > '9' || (i == 0 && d[i] == '0'))
            return fail(r, base + 9 + (size_t)i, errbuf, "bad status line: bad status code");
    r->status = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
    if (nr_cur_u8(l, &d[0]) < 0 || d[0] != ' ')
        return fail(r, base + 12, errbuf, "bad status line: expected SP after status code");
    r->reason = nr_cur_ptr(l);
    r->reason_len = nr_cur_left(l);
    for (size_t i = 0; i < r->reason_len; i++)
        if (!is_text(r->reason[i]))
            return fail(r, base + 13 + i, errbuf, "bad status line: control character in reason");
    return 0;
}

/* "name:OWS value OWS" into the next header slot. */
static int parse_header(struct nr_cursor *l, size_t base, struct hg_response *r, char *errbuf)
{
    const uint8_t *p = nr_cur_ptr(l);
    size_t n = nr_cur_left(l), i = 0, end;
    struct hg_header *h;

    if (p[0] == ' ' || p[0] == '\t')
        return fail(r, base, errbuf, "obs-fold (header line starts with whitespace)");
    while (i < n && p[i] != ':') {
        if (!is_tchar(p[i]))
            return fail(r, base + i, errbuf, "invalid character in header name");
        i++;
    }
    if (i == n)
        return fail(r, base + n, errbuf, "missing colon in header line");
    if (i == 0)
        return fail(r, base, errbuf, "empty header name");
#ifdef NETRIG_PLANT_BUG_HTTP_HEADER_COUNT_OFF_BY_ONE
    /* Planted for fuzz/selftest.sh only: one header field more than the
     * table holds is stored past its end. */
    if (r->nheaders == r->max_headers + 1) {
#else
    if (r->nheaders == r->max_headers) {
#endif
        r->err_off = base;
        nr_seterr(errbuf, "more than %zu header fields at offset %zu", r->max_headers, base);
        return HG_RESP_MALFORMED;
    }
    h = &r->headers[r->nheaders++];
    h->name = p;
    h->name_len = i;
    for (i++; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
        ;
    for (end = n; end > i && (p[end - 1] == ' ' || p[end - 1] == '\t'); end--)
        ;
    for (size_t j = i; j < end; j++)
        if (!is_text(p[j]))
            return fail(r, base + j, errbuf, "control character in header value");
    h->value = p + i;
    h->value_len = end - i;
    return 0;
}

/* Content-Length: 1*DIGIT, at most 2^63-1; repeats must agree. */
static int take_length(const struct hg_header *h, size_t off, int *seen, struct hg_response *r,
                       char *errbuf)
{
    uint64_t v = 0;

    if (h->value_len == 0)
        return fail(r, off, errbuf, "empty Content-Length");
    for (size_t i = 0; i < h->value_len; i++) {
        uint8_t ch = h->value[i];
        if (ch < '0' || ch > '9')
            return fail(r, off, errbuf, "non-digit in Content-Length");
        if (v > (CL_MAX - (uint64_t)(ch - '0')) / 10)
            return fail(r, off, errbuf, "Content-Length overflow");
        v = v * 10 + (uint64_t)(ch - '0');
    }
    if (*seen && v != r->content_length)
        return fail(r, off, errbuf, "conflicting Content-Length values");
    *seen = 1;
    r->content_length = v;
    return 0;
}

/* Transfer-Encoding: a list whose only element may be "chunked". */
static int take_coding(const struct hg_header *h, size_t off, int *chunked,
                       struct hg_response *r, char *errbuf)
{
    struct nr_cursor c;
    struct nr_cursor el = { 0 };

    nr_cur_init(&c, h->value, h->value_len);
    while (nr_cur_left(&c) > 0) {
        long comma = nr_cur_find(&c, ",", 1);
        size_t n = comma < 0 ? nr_cur_left(&c) : (size_t)comma;
        const uint8_t *p;

        nr_cur_sub(&c, n, &el);
        nr_cur_skip(&c, comma < 0 ? 0 : 1);
        p = nr_cur_ptr(&el);
        while (n > 0 && (p[0] == ' ' || p[0] == '\t')) {
            p++;
            n--;
        }
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == 0)
            continue;
        if (!view_is(p, n, "chunked"))
            return fail(r, off, errbuf, "unsupported transfer coding (only chunked)");
        if (++*chunked > 1)
            return fail(r, off, errbuf, "chunked applied more than once");
    }
    if (*chunked == 0)
        return fail(r, off, errbuf, "empty Transfer-Encoding");
    return 0;
}

/* Decide the body framing from the parsed fields. */
static int set_framing(const uint8_t *buf, struct hg_response *r, char *errbuf)
{
    int has_cl = 0, chunked = 0, has_te = 0;

    for (size_t i = 0; i < r->nheaders; i++) {
        const struct hg_header *h = &r->headers[i];
        size_t off = (size_t)(h->name - buf);
        int rc = 0;

        if (view_is(h->name, h->name_len, "content-length"))
            rc = take_length(h, off, &has_cl, r, errbuf);
        else if (view_is(h->name, h->name_len, "transfer-encoding") && (has_te = 1))
            rc = take_coding(h, off, &chunked, r, errbuf);
        if (rc < 0)
            return rc;
        if (has_te && has_cl)
            return fail(r, off, errbuf, "both Transfer-Encoding and Content-Length");
    }
    if (r->status < 200 || r->status == 204 || r->status == 304)
        r->framing = HG_BODY_NONE;
    else if (chunked)
        r->framing = HG_BODY_CHUNKED;
    else if (has_cl)
        r->framing = HG_BODY_LENGTH;
    else
        r->framing = HG_BODY_CLOSE;
    return 0;
}

long hg_resp_parse(const uint8_t *buf, size_t len, struct hg_response *r, char *errbuf)
{
    size_t lim = len < r->max_bytes ? len : r->max_bytes;
    struct nr_cursor c, line;
    size_t base;
    int rc;

    r->minor = r->status = 0;
    r->reason = NULL;
    r->reason_len = r->nheaders = 0;
    r->framing = HG_BODY_CLOSE;
    r->content_length = 0;
    r->err_off = 0;
    nr_cur_init(&c, buf, lim);
    for (int first = 1;; first = 0) {
        base = c.off;
        rc = next_line(&c, &line, r, errbuf);
        if (rc == HG_RESP_INCOMPLETE && lim == r->max_bytes)
            break;
        if (rc < 0)
            return rc;
        if (first)
            rc = parse_status(&line, base, r, errbuf);
        else if (nr_cur_left(&line) == 0)
            break;
        else
            rc = parse_header(&line, base, r, errbuf);
        if (rc < 0)
            return rc;
    }
    if (rc == HG_RESP_INCOMPLETE) {
        r->err_off = lim;
        nr_seterr(errbuf, "header block longer than %zu bytes at offset %zu", r->max_bytes, lim);
        return HG_RESP_MALFORMED;
    }
    rc = set_framing(buf, r, errbuf);
    return rc < 0 ? rc : (long)c.off;
}

const struct hg_header *hg_resp_header(const struct hg_response *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (view_is(r->headers[i].name, r->headers[i].name_len, name))
            return &r->headers[i];
    return NULL;
}
