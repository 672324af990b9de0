/* smtp_mime.c - the message builder (see smtp_mime.h). */
#define _GNU_SOURCE
#include "smtp_mime.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "nr_err.h"

#define QP_LINE 76   /* longest quoted-printable line, soft break included */
#define B64_LINE 76
#define NAME_PLAIN_MAX 60 /* longest filename="..." written as is */
#define RFC2231_CHUNK 54  /* encoded characters per continuation */

static const char hexd[] = "0123456789ABCDEF";

const char *ss_mime_type(const char *name)
{
    static const char *const map[][2] = {
        { "txt", "text/plain" }, { "csv", "text/csv" }, { "html", "text/html" },
        { "htm", "text/html" }, { "xml", "application/xml" }, { "json", "application/json" },
        { "pdf", "application/pdf" }, { "zip", "application/zip" },
        { "gz", "application/gzip" }, { "tar", "application/x-tar" },
        { "png", "image/png" }, { "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
        { "gif", "image/gif" }, { "svg", "image/svg+xml" }, { "webp", "image/webp" },
        { "mp3", "audio/mpeg" }, { "wav", "audio/wav" }, { "mp4", "video/mp4" },
        { "doc", "application/msword" }, { "xls", "application/vnd.ms-excel" },
        { "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
        { "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
        { "odt", "application/vnd.oasis.opendocument.text" },
    };
    const char *dot = strrchr(name, '.'), *slash = strrchr(name, '/');

    if (!dot || dot[1] == '\0' || (slash && dot < slash))
        return "application/octet-stream";
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcasecmp(dot + 1, map[i][0]) == 0)
            return map[i][1];
    return "application/octet-stream";
}

int ss_addr_ok(const char *addr, int empty_ok)
{
    size_t n = strlen(addr);

    if (n > SS_ADDR_MAX || (n == 0 && !empty_ok))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)addr[i];
        if (ch <= 0x20 || ch >= 0x7f || strchr("<>(),;\"\\", ch))
            return 0;
    }
    return 1;
}

/* Date header value: "Tue, 01 Dec 2026 17:30:08 +0000" (no locale). */
static void add_date(struct ss_buf *b, int64_t when)
{
    static const char days[][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char mons[][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    time_t t = (time_t)when;
    struct tm tm;

    if (!gmtime_r(&t, &tm)) {
        t = 0;
        gmtime_r(&t, &tm);
    }
    ss_buf_fmt(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday],
               tm.tm_mday, mons[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
               tm.tm_sec);
}

static int printable_ascii(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] > 0x7e)
            return 0;
    return 1;
}

/* Length of the UTF-8 sequence starting with lead byte c (1 for a stray
 * byte, so any input makes progress). */
static size_t utf8_len(uint8_t c)
{
    return c >= 0xf0 && c < 0xf8 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

/* Subject: as is, or encoded words of at most 45 bytes of text each
 * (60 base64 characters, 72 with the =?utf-8?B? ?= wrapping). */
static void add_subject(struct ss_buf *b, const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t n = strlen(s), i = 0;

    ss_buf_str(b, "Subject:");
    if (printable_ascii(p, n)) {
        if (n)
            ss_buf_add(b, " ", 1);
        ss_buf_add(b, s, n);
        ss_buf_add(b, "\r\n", 2);
        return;
    }
    while (i < n) {
        size_t j = i;
        while (j < n && j - i + utf8_len(p[j]) <= 45)
            j += utf8_len(p[j]) <= n - j ? utf8_len(p[j]) : n - j;
        if (j == i)
            j = i + 1;
        ss_buf_str(b, i ? "\r\n =?utf-8?B?" : " =?utf-8?B?");
        ss_b64_encode(b, p + i, j - i, 0);
        ss_buf_str(b, "?=");
        i = j;
    }
    ss_buf_add(b, "\r\n", 2);
}

/* To: the addresses, one per line after the first. */
static void add_to(struct ss_buf *b, const struct ss_msg *m)
{
    ss_buf_str(b, "To: ");
    for (size_t i = 0; i < m->nto; i++) {
        ss_buf_str(b, m->to[i]);
        ss_buf_str(b, i + 1 < m->nto ? ",\r\n " : "\r\n");
    }
}

/* Can the body go as 7bit (see smtp_mime.h)? */
static int body_is_7bit(const uint8_t *p, size_t n)
{
    size_t col = 0;

    if (n && p[n - 1] != '\n')
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            col = 0;
            continue;
        }
        if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
            continue;
        if ((p[i] < 0x20 && p[i] != '\t') || p[i] > 0x7e || ++col > 998)
            return 0;
    }
    return 1;
}

/* The 7bit body with LF turned into CRLF. */
static void add_7bit(struct ss_buf *b, const uint8_t *p, size_t n)
{
    size_t start = 0;

    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\n')
            continue;
        ss_buf_add(b, p + start, i - start - (i > start && p[i - 1] == '\r'));
        ss_buf_add(b, "\r\n", 2);
        start = i + 1;
    }
}

/* Append one quoted-printable token (1 or 3 characters), breaking the line
 * with a soft break first when it would not fit. */
static void qp_put(struct ss_buf *b, size_t *col, const char *tok, size_t n)
{
    if (*col + n > QP_LINE - 1) {
        ss_buf_add(b, "=\r\n", 3);
        *col = 0;
    }
    ss_buf_add(b, tok, n);
    *col += n;
}

/* The quoted-printable body (see smtp_mime.h); every line ends in CRLF. */
static void add_qp(struct ss_buf *b, const uint8_t *p, size_t n)
{
    size_t col = 0;

    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        int at_eol = i + 1 == n || p[i + 1] == '\n' ||
                     (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n');
        char tok[3] = { '=', hexd[c >> 4], hexd[c & 15] };

        if (c == '\n' || (c == '\r' && i + 1 < n && p[i + 1] == '\n')) {
            i += c == '\r';
            ss_buf_add(b, "\r\n", 2);
            col = 0;
            continue;
        }
        if ((c >= 33 && c <= 126 && c != '=' && !(c == '.' && col == 0)) ||
            ((c == ' ' || c == '\t') && !at_eol))
            qp_put(b, &col, (const char *)&c, 1);
        else
            qp_put(b, &col, tok, 3);
    }
    if (n == 0 || p[n - 1] != '\n')
        ss_buf_add(b, "=\r\n", 3); /* no line break at the end: a soft one */
}

static void add_text_part(struct ss_buf *b, const struct ss_msg *m)
{
    if (body_is_7bit(m->body, m->body_len)) {
        ss_buf_str(b, "Content-Type: text/plain; charset=us-ascii\r\n"
                      "Content-Transfer-Encoding: 7bit\r\n\r\n");
        add_7bit(b, m->body, m->body_len);
    } else {
        ss_buf_str(b, "Content-Type: text/plain; charset=utf-8\r\n"
                      "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
        add_qp(b, m->body, m->body_len);
    }
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');

    return s && s[1] ? s + 1 : path;
}

/* Is byte c written as is in an RFC 2231 value (attr-char)? */
static int attr_char(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c && strchr("!#$&+-.^_`|~", c));
}

/* Content-Disposition with the file name, plain or per RFC 2231 (one
 * filename*= when it fits a line, else numbered continuations). */
static void add_disposition(struct ss_buf *b, const char *name)
{
    const uint8_t *p = (const uint8_t *)name;
    size_t n = strlen(name), col = 0, enc = 0;
    unsigned seg = 0;

    ss_buf_str(b, "Content-Disposition: attachment;");
    if (n <= NAME_PLAIN_MAX && printable_ascii(p, n) && !strpbrk(name, "\"\\")) {
        ss_buf_fmt(b, "\r\n filename=\"%s\"\r\n", name);
        return;
    }
    for (size_t i = 0; i < n; i++)
        enc += attr_char(p[i]) ? 1 : 3;
    if (enc <= RFC2231_CHUNK)
        ss_buf_str(b, "\r\n filename*=utf-8''");
    for (size_t i = 0; i < n; i++) {
        size_t w = attr_char(p[i]) ? 1 : 3;

        if (enc > RFC2231_CHUNK && (i == 0 || col + w > RFC2231_CHUNK)) {
            ss_buf_fmt(b, "%s\r\n filename*%u*=%s", seg ? ";" : "", seg, seg ? "" : "utf-8''");
            seg++;
            col = 0;
        }
        if (w == 1)
            ss_buf_add(b, p + i, 1);
        else
            ss_buf_fmt(b, "%%%c%c", hexd[p[i] >> 4], hexd[p[i] & 15]);
        col += w;
    }
    ss_buf_add(b, "\r\n", 2);
}

static void add_attachment(struct ss_buf *b, const struct ss_part *part)
{
    const char *name = base_name(part->name);

    ss_buf_fmt(b, "Content-Type: %s\r\nContent-Transfer-Encoding: base64\r\n",
               ss_mime_type(name));
    add_disposition(b, name);
    ss_buf_add(b, "\r\n", 2);
    ss_b64_encode(b, part->data, part->len, B64_LINE);
}

/* Is needle in hay? */
static int contains(const struct ss_buf *hay, const char *needle)
{
    return hay->len && memmem(hay->p, hay->len, needle, strlen(needle)) != NULL;
}

static int seed_ok(const char *s)
{
    size_t n = strlen(s);

    if (n < 1 || n > 50)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789=_.-", s[i]))
            return 0;
    return 1;
}

/* Encode every part into parts[0..nparts] (the text first), then pick a
 * boundary found in none of them nor in head (the message's own headers
 * and preamble).  Returns 0 or -1 when out of memory. */
static int build_parts(const struct ss_msg *m, const struct ss_buf *head, struct ss_buf *parts,
                       char *bnd, size_t bndcap)
{
    int clash = 1;

    add_text_part(&parts[0], m);
    for (size_t i = 0; i < m->nparts; i++)
        add_attachment(&parts[i + 1], &m->parts[i]);
    for (unsigned k = 0; clash; k++) {
        if (k)
            snprintf(bnd, bndcap, "%s_%u", m->boundary_seed, k);
        else
            snprintf(bnd, bndcap, "%s", m->boundary_seed);
        clash = contains(head, bnd);
        for (size_t i = 0; i <= m->nparts && !clash; i++)
            clash = contains(&parts[i], bnd);
    }
    for (size_t i = 0; i <= m->nparts; i++)
        if (parts[i].oom)
            return -1;
    return 0;
}

static int check_msg(const struct ss_msg *m, char *errbuf)
{
    size_t idn = strlen(m->message_id);

    if (!ss_addr_ok(m->from, 0))
        return nr_seterr(errbuf, "invalid sender address '%.64s'", m->from);
    if (m->nto == 0)
        return nr_seterr(errbuf, "no recipient");
    for (size_t i = 0; i < m->nto; i++)
        if (!ss_addr_ok(m->to[i], 0))
            return nr_seterr(errbuf, "invalid recipient address '%.64s'", m->to[i]);
    if (strlen(m->subject) > SS_SUBJECT_MAX)
        return nr_seterr(errbuf, "subject longer than %d bytes", SS_SUBJECT_MAX);
    for (const char *s = m->subject; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return nr_seterr(errbuf, "control character in the subject");
    if (idn == 0 || idn > 200 || !ss_addr_ok(m->message_id, 0))
        return nr_seterr(errbuf, "invalid message id");
    if (!seed_ok(m->boundary_seed))
        return nr_seterr(errbuf, "invalid boundary seed");
    for (size_t i = 0; i < m->nparts; i++)
        if (strlen(base_name(m->parts[i].name)) > SS_NAME_MAX)
            return nr_seterr(errbuf, "attachment name longer than %d bytes", SS_NAME_MAX);
    return 0;
}

/* The headers every message has, and for a multipart one the preamble
 * after the blank line (Content-Type comes in between). */
static void add_head(struct ss_buf *b, const struct ss_msg *m)
{
    add_date(b, m->date);
    ss_buf_fmt(b, "From: %s\r\n", m->from);
    add_to(b, m);
    add_subject(b, m->subject);
    ss_buf_fmt(b, "Message-ID: <%s>\r\nMIME-Version: 1.0\r\n", m->message_id);
}

#define PREAMBLE "\r\nThis is a multipart message in MIME format.\r\n"

int ss_mime_build(const struct ss_msg *m, struct ss_buf *out, char *errbuf)
{
    struct ss_buf stack[4] = { { 0 } }, *parts = stack, head = { 0 };
    char bnd[80];
    int rc = SS_MIME_NOMEM;

    if (check_msg(m, errbuf) < 0)
        return -1;
    if (m->nparts + 1 > sizeof(stack) / sizeof(stack[0])) {
        parts = calloc(m->nparts + 1, sizeof(*parts));
        if (!parts) {
            nr_seterr(errbuf, "out of memory");
            return SS_MIME_NOMEM;
        }
    }
    add_head(&head, m);
    ss_buf_str(&head, PREAMBLE);
    if (build_parts(m, &head, parts, bnd, sizeof(bnd)) < 0 || head.oom) {
        nr_seterr(errbuf, "out of memory");
        goto out;
    }
    ss_buf_add(out, head.p, head.len - strlen(PREAMBLE));
    if (m->nparts == 0) {
        ss_buf_add(out, parts[0].p, parts[0].len);
    } else {
        ss_buf_fmt(out, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n" PREAMBLE, bnd);
        for (size_t i = 0; i <= m->nparts; i++) {
            ss_buf_fmt(out, "\r\n--%s\r\n", bnd);
            /* the CRLF before the next delimiter belongs to it: a part's
             * content is everything up to that CRLF */
            ss_buf_add(out, parts[i].p, parts[i].len);
        }
        ss_buf_fmt(out, "\r\n--%s--\r\n", bnd);
    }
    if (out->oom)
        nr_seterr(errbuf, "out of memory");
    else
        rc = 0;
out:
    for (size_t i = 0; i <= m->nparts; i++)
        ss_buf_free(&parts[i]);
    if (parts != stack)
        free(parts);
    ss_buf_free(&head);
    return rc;
}
