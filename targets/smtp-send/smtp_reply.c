/* smtp_reply.c - SMTP reply parser and EHLO keywords (see smtp_reply.h). */
#include "smtp_reply.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "nr_cursor.h"
#include "nr_err.h"

static long malformed(struct ss_reply *r, size_t off, char *errbuf, const char *what)
{
    r->err_off = off;
    nr_seterr(errbuf, "%s at offset %zu", what, off);
    return SS_REPLY_MALFORMED;
}

/* Check one line "CODE[-| ]text" at c (complete up to its CRLF, which is
 * at line_len).  Returns 1 when it is the last line of the reply, 0 when
 * more follow, or SS_REPLY_MALFORMED. */
static long check_line(struct nr_cursor *c, size_t line_len, struct ss_reply *r, char *errbuf)
{
    size_t start = c->off;
    const uint8_t *p = nr_cur_ptr(c);
    int code;

    if (line_len < 3)
        return malformed(r, start + line_len, errbuf, "reply line shorter than a code");
    for (int i = 0; i < 3; i++)
        if (!isdigit(p[i]))
            return malformed(r, start + (size_t)i, errbuf, "reply code is not 3 digits");
    if (p[0] < '2' || p[0] > '5' || p[1] > '5')
        return malformed(r, start, errbuf, "reply code out of range");
    code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
    if (r->nlines > 0 && code != r->code)
        return malformed(r, start, errbuf, "reply lines with different codes");
    if (line_len > 3 && p[3] != '-' && p[3] != ' ')
        return malformed(r, start + 3, errbuf, "no '-' or ' ' after the reply code");
    for (size_t i = 4; i < line_len; i++)
        if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
            return malformed(r, start + i, errbuf, "control character in reply text");
    if (r->nlines == 0) {
        r->code = code;
        r->first = p + (line_len > 3 ? 4 : 3);
        r->first_len = line_len > 3 ? line_len - 4 : 0;
    }
    r->nlines++;
    nr_cur_skip(c, line_len + 2);
    return line_len == 3 || p[3] == ' ';
}

long ss_reply_parse(const uint8_t *buf, size_t len, struct ss_reply *r, char *errbuf)
{
    size_t max_lines = r->max_lines ? r->max_lines : SS_REPLY_LINES_DEFAULT;
    struct nr_cursor c;
    long eol, last;

    memset(r, 0, sizeof(*r));
    r->max_lines = max_lines;
    nr_cur_init(&c, buf, len);
    for (;;) {
        struct nr_cursor line = c;
        size_t avail = nr_cur_left(&c);
        const uint8_t *cr, *lf;

        if (avail > SS_REPLY_LINE_MAX)
            line.len = c.off + SS_REPLY_LINE_MAX;
        eol = nr_cur_find(&line, "\r\n", 2);
        lf = memchr(nr_cur_ptr(&line), '\n', eol < 0 ? nr_cur_left(&line) : (size_t)eol);
        cr = memchr(nr_cur_ptr(&line), '\r', eol < 0 ? nr_cur_left(&line) : (size_t)eol);
        if (lf)
            return malformed(r, (size_t)(lf - buf), errbuf, "bare LF in reply");
        if (cr && cr + 1 < buf + len)
            return malformed(r, (size_t)(cr - buf), errbuf, "bare CR in reply");
        if (eol < 0) {
            if (avail >= SS_REPLY_LINE_MAX)
                return malformed(r, c.off, errbuf, "reply line longer than 2048 bytes");
            /* a prefix of a line: judge what is there, then wait for more */
            for (size_t i = 0; i < avail && i < 3; i++)
                if (!isdigit(buf[c.off + i]))
                    return malformed(r, c.off + i, errbuf, "reply code is not 3 digits");
            return SS_REPLY_INCOMPLETE;
        }
        if (r->nlines == max_lines)
            return malformed(r, c.off, errbuf, "too many reply lines");
        last = check_line(&c, (size_t)eol, r, errbuf);
        if (last < 0)
            return last;
        if (last) {
            r->block = buf;
            r->block_len = c.off;
            return (long)c.off;
        }
    }
}

int ss_reply_line(const struct ss_reply *r, size_t i, const uint8_t **text, size_t *text_len)
{
    struct nr_cursor c;
    long eol;

    if (i >= r->nlines)
        return -1;
    nr_cur_init(&c, r->block, r->block_len);
    for (;;) {
        eol = nr_cur_find(&c, "\r\n", 2);
        if (eol < 0)
            return -1;
        if (i-- == 0)
            break;
        nr_cur_skip(&c, (size_t)eol + 2);
    }
    *text = nr_cur_ptr(&c) + (eol > 3 ? 4 : 3);
    *text_len = eol > 3 ? (size_t)eol - 4 : 0;
    return 0;
}

/* Is the word at p[0..n) equal to kw, without regard to case? */
static int word_is(const uint8_t *p, size_t n, const char *kw)
{
    return n == strlen(kw) && strncasecmp((const char *)p, kw, n) == 0;
}

/* Length of the word at p[0..n) (up to a space or tab). */
static size_t word_len(const uint8_t *p, size_t n)
{
    size_t i = 0;

    while (i < n && p[i] != ' ' && p[i] != '\t')
        i++;
    return i;
}

static void size_arg(const uint8_t *p, size_t n, struct ss_ehlo *e)
{
    uint64_t v = 0;
    size_t i;

    for (i = 0; i < n && isdigit(p[i]); i++) {
        if (v > (UINT64_C(1) << 63) / 10)
            return;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    if (n == 0 || i != n || v >= (UINT64_C(1) << 63))
        return;
    e->size = 1;
    e->size_max = v;
}

int ss_ehlo_parse(const struct ss_reply *r, struct ss_ehlo *e)
{
    memset(e, 0, sizeof(*e));
    for (size_t i = 1; i < r->nlines; i++) {
        const uint8_t *t;
        size_t n, w;

        if (ss_reply_line(r, i, &t, &n) < 0)
            break;
        w = word_len(t, n);
        if (word_is(t, w, "PIPELINING"))
            e->pipelining = 1;
        else if (word_is(t, w, "8BITMIME"))
            e->eightbit = 1;
        else if (word_is(t, w, "SIZE") && w == n)
            e->size = 1;
        else if (word_is(t, w, "SIZE"))
            size_arg(t + w + 1, n - w - 1, e);
        else if (word_is(t, w, "AUTH")) {
            while (w < n) {
                t += w + 1;
                n -= w + 1;
                w = word_len(t, n);
                e->auth_plain |= word_is(t, w, "PLAIN");
                e->auth_login |= word_is(t, w, "LOGIN");
            }
        }
    }
    return 0;
}
