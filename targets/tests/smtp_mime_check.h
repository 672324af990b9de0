/* smtp_mime_check.h - an independent decoder of the messages smtp-send's
 * ss_mime_build writes, for the unit tests and the smtp-mime fuzz harness:
 * splits the multipart body on its boundary, decodes each part by its
 * Content-Transfer-Encoding (7bit, quoted-printable, base64) and checks
 * the line rules (CRLF, at most 998 octets) and that the boundary occurs
 * only where it delimits.  Plain C, no cmocka; header-only, static. */
#ifndef SMTP_MIME_CHECK_H
#define SMTP_MIME_CHECK_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem; define it before any include */
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp-send/smtp_mime.h"

#define SMC_MAX_PARTS 70

struct smc_msg {
    size_t n;                          /* parts: the text first, then attachments */
    uint8_t *data[SMC_MAX_PARTS];      /* decoded content (malloc'd) */
    size_t len[SMC_MAX_PARTS];
    char err[160];                     /* why smc_decode failed */
};

static void smc_free(struct smc_msg *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->data[i]);
    m->n = 0;
}

static int smc_fail(struct smc_msg *m, const char *what, size_t off)
{
    snprintf(m->err, sizeof(m->err), "%s at offset %zu", what, off);
    return -1;
}

static int smc_hex(uint8_t c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int smc_b64(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 :
           c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decode p[0..n) by cte into a new buffer.  Returns 0 or -1. */
static int smc_decode_part(const uint8_t *p, size_t n, const char *cte, uint8_t **out,
                           size_t *olen)
{
    uint8_t *o = malloc(n + 1);
    size_t k = 0;
    uint32_t acc = 0;
    int bits = 0, pad = 0;

    if (!o)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(cte, "base64") == 0) {
            if (p[i] == '\r' || p[i] == '\n')
                continue;
            if (p[i] == '=') {
                pad++;
                continue;
            }
            if (smc_b64(p[i]) < 0 || pad)
                goto bad;
            acc = acc << 6 | (uint32_t)smc_b64(p[i]);
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                o[k++] = (uint8_t)(acc >> bits);
            }
        } else if (strcmp(cte, "quoted-printable") == 0 && p[i] == '=') {
            if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n') {
                i += 2;
            } else if (i + 2 < n && smc_hex(p[i + 1]) >= 0 && smc_hex(p[i + 2]) >= 0) {
                o[k++] = (uint8_t)(smc_hex(p[i + 1]) << 4 | smc_hex(p[i + 2]));
                i += 2;
            } else {
                goto bad;
            }
        } else {
            o[k++] = p[i];
        }
    }
    *out = o;
    *olen = k;
    return 0;
bad:
    free(o);
    return -1;
}

/* Value of header name (with ": ") in hdr[0..n) up to its CRLF, into
 * out[cap]; for Content-Type the boundary="..." parameter instead when
 * param is set.  Returns 1 found, 0 not. */
static int smc_header(const uint8_t *hdr, size_t n, const char *name, char *out, size_t cap)
{
    const uint8_t *h = memmem(hdr, n, name, strlen(name));
    const uint8_t *e;

    if (!h)
        return 0;
    h += strlen(name);
    e = memmem(h, n - (size_t)(h - hdr), "\r\n", 2);
    if (!e || (size_t)(e - h) >= cap)
        return 0;
    memcpy(out, h, (size_t)(e - h));
    out[e - h] = '\0';
    return 1;
}

/* smc_decode's work; on failure some parts may be decoded already. */
static int smc_decode_parts(const uint8_t *m, size_t len, struct smc_msg *out)
{
    const uint8_t *body, *end = m + len, *p;
    char ct[256], cte[64], delim[96];
    size_t dl, line = 0, count = 0;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < len; i++) {
        if (m[i] == '\n') {
            if (i == 0 || m[i - 1] != '\r')
                return smc_fail(out, "bare LF", i);
            line = 0;
        } else if (m[i] == '\r' && (i + 1 == len || m[i + 1] != '\n')) {
            return smc_fail(out, "bare CR", i);
        } else if (m[i] != '\r' && ++line > 998) {
            return smc_fail(out, "line over 998 octets", i);
        }
    }
    if (len < 2 || m[len - 2] != '\r' || m[len - 1] != '\n')
        return smc_fail(out, "no final CRLF", len);
    p = memmem(m, len, "\r\n\r\n", 4);
    if (!p)
        return smc_fail(out, "no end of headers", 0);
    body = p + 4;
    if (!smc_header(m, (size_t)(body - m), "\r\nContent-Type: multipart/mixed; boundary=\"", ct,
                    sizeof(ct))) {
        if (!smc_header(m, (size_t)(body - m), "\r\nContent-Transfer-Encoding: ", cte,
                        sizeof(cte)))
            return smc_fail(out, "no Content-Transfer-Encoding", 0);
        out->n = 1;
        if (smc_decode_part(body, (size_t)(end - body), cte, &out->data[0], &out->len[0]) < 0)
            return smc_fail(out, "undecodable body", (size_t)(body - m));
        return 0;
    }
    if (strlen(ct) < 2 || ct[strlen(ct) - 1] != '"')
        return smc_fail(out, "bad boundary parameter", 0);
    ct[strlen(ct) - 1] = '\0';
    dl = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", ct);
    p = memmem(body - 2, (size_t)(end - body + 2), delim, dl);
    while (p) {
        const uint8_t *start = p + dl, *next, *hend;

        if (end - start >= 4 && memcmp(start, "--\r\n", 4) == 0) {
            if (start + 4 != end)
                return smc_fail(out, "bytes after the close delimiter", (size_t)(start - m));
            break;
        }
        if (end - start < 2 || memcmp(start, "\r\n", 2) != 0)
            return smc_fail(out, "delimiter not followed by CRLF", (size_t)(start - m));
        start += 2;
        next = memmem(start, (size_t)(end - start), delim, dl);
        if (!next)
            return smc_fail(out, "no close delimiter", (size_t)(start - m));
        hend = memmem(start, (size_t)(next - start), "\r\n\r\n", 4);
        if (!hend || out->n == SMC_MAX_PARTS)
            return smc_fail(out, "part without headers, or too many", (size_t)(start - m));
        if (!smc_header(start - 2, (size_t)(hend + 2 - start + 2), "\r\nContent-Transfer-Encoding: ",
                        cte, sizeof(cte)))
            return smc_fail(out, "part without Content-Transfer-Encoding", (size_t)(start - m));
        if (smc_decode_part(hend + 4, (size_t)(next - hend - 4), cte, &out->data[out->n],
                            &out->len[out->n]) < 0)
            return smc_fail(out, "undecodable part", (size_t)(hend + 4 - m));
        out->n++;
        p = next;
    }
    if (!p)
        return smc_fail(out, "no delimiter", (size_t)(body - m));
    /* the boundary occurs in the header, once per part and in the close */
    for (p = m; (p = memmem(p, (size_t)(end - p), ct, strlen(ct))) != NULL; p++)
        count++;
    if (count != out->n + 2)
        return smc_fail(out, "the boundary occurs inside content", 0);
    return 0;
}

/* Decode message m[0..len) into *out (free it with smc_free).  Returns 0,
 * or -1 with out->err and nothing to free. */
static int smc_decode(const uint8_t *m, size_t len, struct smc_msg *out)
{
    if (smc_decode_parts(m, len, out) == 0)
        return 0;
    smc_free(out);
    return -1;
}

/* body with every LF not preceded by CR turned into CRLF (malloc'd). */
static uint8_t *smc_crlf(const uint8_t *p, size_t n, size_t *olen)
{
    uint8_t *o = malloc(2 * n + 1);
    size_t k = 0;

    if (!o)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
            o[k++] = '\r';
        o[k++] = p[i];
    }
    *olen = k;
    return o;
}

/* Build m with ss_mime_build, decode it with smc_decode and compare: the
 * text part with the CRLF-normalised body, each attachment byte for byte.
 * Returns 1 when m is refused by the builder (nothing to check), 0 when it
 * round-trips, -1 with why[160] when it does not. */
static int smc_roundtrip(const struct ss_msg *m, char *why)
{
    struct ss_buf b = { 0 };
    struct smc_msg d;
    char err[256];
    uint8_t *want = NULL;
    size_t wlen = 0;
    int rc = -1;

    if (ss_mime_build(m, &b, err) < 0) {
        ss_buf_free(&b);
        return 1;
    }
    if (smc_decode(b.p, b.len, &d) < 0) {
        snprintf(why, 160, "%s", d.err);
        goto out;
    }
    want = smc_crlf(m->body ? m->body : (const uint8_t *)"", m->body_len, &wlen);
    if (d.n != m->nparts + 1) {
        snprintf(why, 160, "%zu parts decoded, want %zu", d.n, m->nparts + 1);
    } else if (d.len[0] != wlen || (wlen && memcmp(d.data[0], want, wlen) != 0)) {
        snprintf(why, 160, "text body: %zu bytes decoded, want %zu", d.len[0], wlen);
    } else {
        rc = 0;
        for (size_t i = 0; i < m->nparts && rc == 0; i++)
            if (d.len[i + 1] != m->parts[i].len ||
                (d.len[i + 1] && memcmp(d.data[i + 1], m->parts[i].data, d.len[i + 1]) != 0)) {
                snprintf(why, 160, "attachment %zu differs (%zu bytes decoded, %zu sent)", i,
                         d.len[i + 1], m->parts[i].len);
                rc = -1;
            }
    }
    smc_free(&d);
out:
    free(want);
    ss_buf_free(&b);
    return rc;
}

#endif
